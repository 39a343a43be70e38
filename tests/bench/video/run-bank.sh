#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Bank-switching benchmark: bank.asm (a 640x480x8 VBE mode drawn through
# the 64K window, a bank switch per 256 bytes drawn) on Tessera's x86
# interpreter and on QEMU TCG with its std VGA, side by side, taking turns
# RUNS times. Each emulator also runs the SAMEBANK build (the same bank
# register writes and drawing, without a memory-map change), so the cost
# of a switch itself is (switching - same bank) / SWITCHES. Times are host
# CPU time (user + system: QEMU sleeps in its RCU machinery after each
# remap, so its wall time is reported too); start-up (one switch, best of
# three) is taken off. A second Tessera binary (e.g. built
# from an older commit) may be given as BASELINE to compare before/after.
# The PLANAR build measures MMIO instead: 16-colour planar VGA memory,
# SWITCHES/1000 passes of 32768 word stores through the window (each one
# a device access: what the x86 CPU's I/O TLB entries are for).
# usage: run-bank.sh TESSERA [SWITCHES [RUNS]]   (env BASELINE=/path/to/tessera)
set -e
here=$(cd "$(dirname "$0")" && pwd)
tessera=${1:?usage: run-bank.sh TESSERA [SWITCHES [RUNS]]}
iter=${2:-200000}
runs=${3:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
nasm -f bin -DITERATIONS="$iter" -o "$work/switch.bin" "$here/bank.asm"
nasm -f bin -DITERATIONS="$iter" -DSAMEBANK -o "$work/same.bin" "$here/bank.asm"
nasm -f bin -DITERATIONS=1 -o "$work/start.bin" "$here/bank.asm"
passes=$(( iter / 1000 > 0 ? iter / 1000 : 1 ))
nasm -f bin -DITERATIONS="$passes" -DPLANAR -o "$work/planar.bin" "$here/bank.asm"

emus=tessera
[ -n "$BASELINE" ] && emus="$emus baseline"
command -v qemu-system-i386 >/dev/null 2>&1 && emus="$emus qemu"

# cmd_EMU ROM: the command line
cmd_tessera() { echo "$tessera run $here/bank.xml --bios $1 --deterministic"; }
cmd_baseline() { echo "$BASELINE run $here/bank.xml --bios $1 --deterministic"; }
cmd_qemu() {
    echo "qemu-system-i386 -M pc -accel tcg -cpu pentium -bios $1 -display none" \
         "-nodefaults -device VGA -chardev stdio,id=d -device isa-debugcon,iobase=0xe9,chardev=d" \
         "-device isa-debug-exit,iobase=0xf4,iosize=4"
}
# time_run EMU ROM: "wall cpu" seconds; the checksum line in $work/sum.EMU
time_run() {
    python3 "$here/cputime.py" "$work/sum.$1" CHECKSUM $("cmd_$1" "$2")
}

for e in $emus; do
    best=
    for k in 1 2 3; do
        t=$(time_run "$e" "$work/start.bin" | cut -d' ' -f2)
        if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then best=$t; fi
    done
    eval "start_$e=$best"
done

for kind in switch same planar; do
    ref=
    for r in $(seq "$runs"); do
        for e in $emus; do
            t=$(time_run "$e" "$work/$kind.bin")
            wall=${t% *} cpu=${t#* }
            sum=$(cat "$work/sum.$e")
            [ -n "$ref" ] || ref=$sum
            if [ "$sum" != "$ref" ]; then
                echo "run-bank: $e printed '$sum' for $kind, expected '$ref'" >&2
                exit 1
            fi
            s=$(eval "echo \$start_$e")
            n=$iter
            [ $kind = planar ] && n=$(( passes * 32768 ))
            echo "($cpu - $s) * 1000000 / $n" | bc -l >> "$work/us.$kind.$e"
            echo "$wall * 1000000 / $iter" | bc -l >> "$work/wall.$kind.$e"
        done
    done
done

med() { sort -g "$1" | sed -n "$(( (runs + 1) / 2 ))p"; }
echo "workload: $iter bank-register writes, 256 bytes drawn after each; $runs runs each"
echo "host CPU time (user + system, start-up taken off) per iteration, medians:"
printf '%-10s %14s %14s %14s %16s %16s\n' emulator "us/switch" "us/same bank" "switch cost us" \
    "wall us/switch" "ns/planar store"
for e in $emus; do
    a=$(med "$work/us.switch.$e")
    b=$(med "$work/us.same.$e")
    w=$(med "$work/wall.switch.$e")
    p=$(med "$work/us.planar.$e")
    eval "sw_$e=$a"
    eval "pl_$e=$p"
    printf '%-10s %14.3f %14.3f %14.3f %16.3f %16.1f\n' "$e" "$a" "$b" "$(echo "$a - $b" | bc -l)" \
        "$w" "$(echo "$p * 1000" | bc -l)"
done
case " $emus " in *" qemu "*)
    printf 'tessera / qemu time per switching iteration = %.3f\n' "$(echo "$sw_tessera / $sw_qemu" | bc -l)"
    printf 'tessera / qemu time per planar store = %.2f\n' "$(echo "$pl_tessera / $pl_qemu" | bc -l)";;
esac
case " $emus " in *" baseline "*)
    printf 'baseline / tessera time per switching iteration = %.2f (speed-up)\n' \
        "$(echo "$sw_baseline / $sw_tessera" | bc -l)"
    printf 'baseline / tessera time per planar store = %.2f (speed-up)\n' \
        "$(echo "$pl_baseline / $pl_tessera" | bc -l)";;
esac
exit 0
