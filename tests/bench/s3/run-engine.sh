#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# S3 graphics engine benchmark: a ROM guest (engine.asm) programs the
# engine of Tessera's S3 Trio64 and, for the same operations, QEMU's Cirrus
# GD5446 blitter (QEMU has no S3; the Cirrus is its only emulated 2D
# engine), taking turns RUNS times, in four cases: screen-to-screen BitBLT
# and solid fill of 256x256 pixels (throughput: MB/s at 8 bpp) and of
# 16x16 (a glyph's size: operations per second, where programming the
# engine through its ports dominates). Times are host CPU seconds (user +
# system, all threads), which other load on the machine disturbs less
# than wall time; each is a median less the median of the same guest doing
# one operation (start-up and exit). Tessera runs ten times as many
# operations as QEMU (runs of comparable length); per case the script
# prints both rates and tessera / qemu (higher: Tessera faster). Use a
# release build.
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

cpu() {   # command... -> CPU seconds; the guest must exit 0 (status 1)
    rc=0
    /usr/bin/time -f "%U %S" -o "$work/t" "$@" >/dev/null 2>&1 || rc=$?
    if [ "$rc" != 1 ]; then
        echo "FAIL: $1 exited $rc (3: the checked operation was wrong)" >&2
        echo fail
        return
    fi
    tail -1 "$work/t" | awk '{ printf "%.2f", $1 + $2 }'
}
run_t() { cpu "$tessera" run "$here/s3-engine.xml" --bios "$1"; }
run_q() {
    cpu timeout 900 qemu-system-i386 -M pc -accel tcg -bios "$1" -display none -vga cirrus \
        -nodefaults -no-user-config -device isa-debug-exit,iobase=0xf4,iosize=1
}
median() { printf '%s\n' $1 | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
# rate COUNT SECONDS BASE -> operations per second (0: not measurable)
rate() {
    awk -v n="$1" -v s="$2" -v b="$3" 'BEGIN { t = s - b; if (t <= 0) print 0; else printf "%.0f", (n - 1) / t }'
}
# show OPS_PER_S PIXELS -> "N MB/s" (8 bpp) or "N ops/s"
show() {
    awk -v r="$1" -v px="$2" 'BEGIN { if (px >= 65536) printf "%.0f MB/s", r * px / 1e6; else printf "%.0f ops/s", r }'
}
asm() {   # OUT OP W H COUNT [-DCIRRUS]
    nasm -f bin -D"$2" -DW="$3" -DH="$4" -DCOUNT="$5" $6 -o "$1" "$here/engine.asm"
}

summary=""
for case in "BLT 256 256 5000" "FILL 256 256 5000" "BLT 16 16 50000" "FILL 16 16 50000"; do
    set -- $case
    op=$1 w=$2 h=$3
    count=$(($4 * scale))
    tcount=$((count * 10))
    name=$(echo "$op" | tr A-Z a-z)-${w}x${h}
    asm "$work/s3.bin" "$op" "$w" "$h" "$tcount"
    asm "$work/s3-1.bin" "$op" "$w" "$h" 1
    asm "$work/cirrus.bin" "$op" "$w" "$h" "$count" -DCIRRUS
    asm "$work/cirrus-1.bin" "$op" "$w" "$h" 1 -DCIRRUS
    t_list="" q_list="" tb_list="" qb_list=""
    for i in $(seq "$runs"); do
        t=$(run_t "$work/s3.bin"); [ "$t" != fail ] || exit 1
        tb=$(run_t "$work/s3-1.bin"); [ "$tb" != fail ] || exit 1
        t_list="$t_list $t" tb_list="$tb_list $tb"
        echo "$name tessera (s3-trio64) run $i: $t s CPU for $tcount (one operation: $tb s)"
        if [ $have_qemu = 1 ]; then
            q=$(run_q "$work/cirrus.bin"); [ "$q" != fail ] || exit 1
            qb=$(run_q "$work/cirrus-1.bin"); [ "$qb" != fail ] || exit 1
            q_list="$q_list $q" qb_list="$qb_list $qb"
            echo "$name qemu (cirrus-vga)   run $i: $q s CPU for $count (one operation: $qb s)"
        fi
    done
    tr=$(rate "$tcount" "$(median "$t_list")" "$(median "$tb_list")")
    line="$name: tessera $(show "$tr" $((w * h)))"
    if [ $have_qemu = 1 ]; then
        qr=$(rate "$count" "$(median "$q_list")" "$(median "$qb_list")")
        line="$line, qemu $(show "$qr" $((w * h)))"
        line="$line, tessera / qemu $(awk -v t="$tr" -v q="$qr" 'BEGIN { if (q > 0) printf "%.1f", t / q; else print "?" }')"
    fi
    summary="$summary$line
"
done
echo "---- medians (host CPU time less start-up)"
printf '%s' "$summary"
