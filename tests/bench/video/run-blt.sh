#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Graphics engine benchmark: COUNT BitBLTs of 256x256 pixels (8 bpp) by a
# ROM guest on Tessera's S3 Trio64 and on QEMU's Cirrus GD5446 (its only
# emulated 2D engine; QEMU has no S3), taking turns RUNS times. Reports
# the wall seconds per run, megapixels per second and the ratio of the
# medians. Use a release build.
# usage: run-blt.sh TESSERA [COUNT [RUNS]]
set -e
here=$(cd "$(dirname "$0")" && pwd)
tessera=${1:?usage: run-blt.sh TESSERA [COUNT [RUNS]]}
count=${2:-20000}
runs=${3:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
nasm -f bin -DCOUNT="$count" -o "$work/s3.bin" "$here/blt.asm"
nasm -f bin -DCOUNT="$count" -DCIRRUS -o "$work/cirrus.bin" "$here/blt.asm"
wall() {   # command... -> "wall seconds" on stdout; the guest must exit 0 (status 1)
    rc=0
    /usr/bin/time -f "%e" -o "$work/t" "$@" >/dev/null 2>&1 || rc=$?
    if [ "$rc" != 1 ]; then
        echo "FAIL: $1 exited $rc (3: the checked copy was wrong)" >&2
        echo fail
        return
    fi
    tail -1 "$work/t"
}
mpix() { awk -v n="$count" -v s="$1" 'BEGIN { if (s > 0) printf "%.0f", n * 65536 / s / 1e6; else print "?" }'; }
t_list="" q_list=""
[ "$count" -ge 1 ] || { echo "COUNT must be at least 1" >&2; exit 2; }
for i in $(seq "$runs"); do
    t=$(wall "$tessera" run "$here/s3-blt.xml" --bios "$work/s3.bin")
    [ "$t" != fail ] || exit 1
    t_list="$t_list $t"
    echo "tessera (s3-trio64) run $i: $t s, $(mpix "$t") Mpixel/s"
    if command -v qemu-system-i386 >/dev/null 2>&1; then
        q=$(wall timeout 600 qemu-system-i386 -M pc -accel tcg -bios "$work/cirrus.bin" \
                -display none -vga cirrus -nodefaults -no-user-config \
                -device isa-debug-exit,iobase=0xf4,iosize=1)
        [ "$q" != fail ] || exit 1
        q_list="$q_list $q"
        echo "qemu (cirrus-vga)   run $i: $q s, $(mpix "$q") Mpixel/s"
    fi
done
median() { printf '%s\n' $1 | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
tm=$(median "$t_list")
echo "tessera: median $tm s for $count BitBLTs of 256x256 ($(mpix "$tm") Mpixel/s)"
if [ -n "$q_list" ]; then
    qm=$(median "$q_list")
    echo "qemu:    median $qm s ($(mpix "$qm") Mpixel/s)"
    awk -v t="$tm" -v q="$qm" 'BEGIN { if (t > 0) printf "qemu / tessera time (higher: tessera faster): %.2f\n", q / t }'
fi
