#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# x87 benchmark: the same Whetstone-style ROM workload (bench.asm) on
# Tessera's x86 interpreter and QEMU TCG (when installed), side by side.
# They take turns, RUNS times, so they share whatever load the host has;
# each one's start-up time (the same ROM with one iteration, best of
# three) is taken off. Both must print the same checksum (the bit patterns
# of the results: the basic arithmetic is exact on every correct x87).
# Reports minimum and median MFLOPS and MIPS, and the ratio of the medians.
# usage: run-bench.sh TESSERA [ITERATIONS [RUNS]]     (run from anywhere)
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
tessera=${1:?usage: run-bench.sh TESSERA [ITERATIONS [RUNS]]}
iter=${2:-5000000}
runs=${3:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
nasm -f bin -i "$root/tests/bench/cpu/" -DITERATIONS="$iter" -o "$work/bench.bin" "$here/bench.asm"
nasm -f bin -i "$root/tests/bench/cpu/" -DITERATIONS=1 -o "$work/start.bin" "$here/bench.asm"
flops=$((iter * 27))
insns=$((iter * 48))

have_qemu=0
command -v qemu-system-i386 >/dev/null 2>&1 && have_qemu=1

run_tessera() {
    "$tessera" run "$root/machines/bare.xml" --bios "$1" --deterministic 2>&1 | grep CHECKSUM || true
}
run_qemu() {
    timeout 600 qemu-system-i386 -M pc -accel tcg -cpu pentium -bios "$1" -display none \
        -nodefaults -chardev stdio,id=d -device isa-debugcon,iobase=0xe9,chardev=d \
        -device isa-debug-exit,iobase=0xf4,iosize=4 2>/dev/null | grep CHECKSUM || true
}

now() { date +%s.%N; }
time_run() {
    t0=$(now)
    "run_$1" "$2" > "$work/sum.$1"
    t1=$(now)
    echo "$t1 - $t0" | bc -l
}

emus=tessera
[ $have_qemu = 1 ] && emus="$emus qemu"

for e in $emus; do
    best=
    for k in 1 2 3; do
        t=$(time_run "$e" "$work/start.bin")
        if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then best=$t; fi
    done
    eval "start_$e=$best"
done

ref=
for r in $(seq "$runs"); do
    for e in $emus; do
        t=$(time_run "$e" "$work/bench.bin")
        sum=$(cat "$work/sum.$e")
        [ -n "$sum" ] || { echo "run-bench: $e printed no checksum" >&2; exit 1; }
        [ -n "$ref" ] || ref=$sum
        if [ "$sum" != "$ref" ]; then
            echo "run-bench: $e printed '$sum', expected '$ref'" >&2
            exit 1
        fi
        s=$(eval "echo \$start_$e")
        echo "$flops / ($t - $s) / 1000000" | bc -l >> "$work/mflops.$e"
    done
done

echo "workload: $iter iterations x 27 FP operations (48 instructions), $runs runs each"
echo "$ref"
printf '%-10s %12s %12s %12s %12s\n' emulator "min MFLOPS" "median" "median MIPS" "start-up s"
for e in $emus; do
    sort -g "$work/mflops.$e" > "$work/sorted.$e"
    min=$(head -n 1 "$work/sorted.$e")
    med=$(sed -n "$(( (runs + 1) / 2 ))p" "$work/sorted.$e")
    eval "med_$e=$med"
    printf '%-10s %12.1f %12.1f %12.1f %12.3f\n' "$e" "$min" "$med" \
        "$(echo "$med * 48 / 27" | bc -l)" "$(eval "echo \$start_$e")"
done
if [ $have_qemu = 0 ]; then
    # Tessera's figures alone are no comparison: not a pass
    echo "SKIP: qemu-system-i386 is not installed: no peer to compare with"
    exit 77
fi
printf 'tessera / qemu = %.2f (medians)\n' "$(echo "$med_tessera / $med_qemu" | bc -l)"
exit 0
