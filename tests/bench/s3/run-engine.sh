#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# S3 graphics engine benchmark: a ROM guest (engine.asm) runs COUNT
# operations on Tessera's S3 Trio64 and the same operations on QEMU's
# Cirrus GD5446 blitter (QEMU has no S3; the Cirrus is its only emulated
# 2D engine), taking turns RUNS times, for four cases: screen-to-screen
# BitBLT and solid fill of 256x256 pixels (throughput: MB/s at 8 bpp) and
# of 16x16 (a glyph's size: operations per second, where the cost of
# programming the engine through its ports dominates). Each time is a
# median less the median of the same guest doing one operation (start-up
# and exit). Prints per-run figures and, per case, qemu / tessera time
# (higher: Tessera faster). Use a release build.
# usage: run-engine.sh TESSERA [SCALE [RUNS]]   (SCALE multiplies the counts)
set -e
here=$(cd "$(dirname "$0")" && pwd)
tessera=${1:?usage: run-engine.sh TESSERA [SCALE [RUNS]]}
scale=${2:-1}
runs=${3:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
have_qemu=0
command -v qemu-system-i386 >/dev/null 2>&1 && have_qemu=1
[ $have_qemu = 1 ] || echo "qemu-system-i386 not found: Tessera's figures only"

wall() {   # command... -> wall seconds; the guest must exit 0 (status 1)
    rc=0
    /usr/bin/time -f "%e" -o "$work/t" "$@" >/dev/null 2>&1 || rc=$?
    if [ "$rc" != 1 ]; then
        echo "FAIL: $1 exited $rc (3: the checked operation was wrong)" >&2
        echo fail
        return
    fi
    tail -1 "$work/t"
}
run_t() { wall "$tessera" run "$here/s3-engine.xml" --bios "$1"; }
run_q() {
    wall timeout 900 qemu-system-i386 -M pc -accel tcg -bios "$1" -display none -vga cirrus \
        -nodefaults -no-user-config -device isa-debug-exit,iobase=0xf4,iosize=1
}
median() { printf '%s\n' $1 | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
# rate COUNT SECONDS BASE PIXELS -> "N MB/s" or "N ops/s"
rate() {
    awk -v n="$1" -v s="$2" -v b="$3" -v px="$4" 'BEGIN {
        t = s - b; if (t <= 0) { print "?"; exit }
        if (px >= 65536) printf "%.0f MB/s", (n - 1) * px / t / 1e6
        else printf "%.0f ops/s", (n - 1) / t }'
}

summary=""
for case in "BLT 256 256 5000" "FILL 256 256 5000" "BLT 16 16 50000" "FILL 16 16 50000"; do
    set -- $case
    op=$1 w=$2 h=$3 count=$(($4 * scale))
    name=$(echo "$op" | tr A-Z a-z)-${w}x${h}
    for chip in s3 cirrus; do
        def=""; [ $chip = cirrus ] && def=-DCIRRUS
        nasm -f bin -D"$op" -DW="$w" -DH="$h" -DCOUNT="$count" $def -o "$work/$chip.bin" "$here/engine.asm"
        nasm -f bin -D"$op" -DW="$w" -DH="$h" -DCOUNT=1 $def -o "$work/$chip-1.bin" "$here/engine.asm"
    done
    t_list="" q_list="" tb_list="" qb_list=""
    for i in $(seq "$runs"); do
        t=$(run_t "$work/s3.bin"); [ "$t" != fail ] || exit 1
        tb=$(run_t "$work/s3-1.bin"); [ "$tb" != fail ] || exit 1
        t_list="$t_list $t" tb_list="$tb_list $tb"
        echo "$name tessera (s3-trio64) run $i: $t s (one operation: $tb s)"
        if [ $have_qemu = 1 ]; then
            q=$(run_q "$work/cirrus.bin"); [ "$q" != fail ] || exit 1
            qb=$(run_q "$work/cirrus-1.bin"); [ "$qb" != fail ] || exit 1
            q_list="$q_list $q" qb_list="$qb_list $qb"
            echo "$name qemu (cirrus-vga)   run $i: $q s (one operation: $qb s)"
        fi
    done
    tm=$(median "$t_list") tbm=$(median "$tb_list")
    line="$name x$count: tessera $(rate "$count" "$tm" "$tbm" $((w * h)))"
    if [ $have_qemu = 1 ]; then
        qm=$(median "$q_list") qbm=$(median "$qb_list")
        line="$line, qemu $(rate "$count" "$qm" "$qbm" $((w * h)))"
        line="$line, qemu / tessera time $(awk -v t="$tm" -v tb="$tbm" -v q="$qm" -v qb="$qbm" \
            'BEGIN { if (t - tb > 0) printf "%.2f", (q - qb) / (t - tb); else print "?" }')"
    fi
    summary="$summary$line
"
done
echo "---- medians (time less start-up)"
printf '%s' "$summary"
