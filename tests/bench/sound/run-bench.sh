#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Sound benchmark: the host CPU time that SECONDS of 44.1 kHz 16-bit stereo
# Sound Blaster playback plus an OPL3 tune cost, on Tessera (realtime, WAV
# sink) and on QEMU (sb16 + adlib, WAV audiodev), taking turns RUNS times.
# The guest halts between interrupts, so the CPU seconds are the price of
# the sound path. Reports user+system seconds per run and the ratio of the
# medians. QEMU runs the isapc machine: without a BIOS to program the
# local APIC, its pc machine never delivers the 8259's interrupts.
# usage: run-bench.sh TESSERA [SECONDS [RUNS]]
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
tessera=${1:?usage: run-bench.sh TESSERA [SECONDS [RUNS]]}
secs=${2:-10}
runs=${3:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
nasm -f bin -DSECONDS="$secs" -I "$root/tests/sound/" -o "$work/bench.bin" "$here/bench.asm"
cpu() {   # command... -> "user+sys seconds" on stdout
    /usr/bin/time -f "%U %S %e" -o "$work/t" "$@" >/dev/null 2>&1 || true
    tail -1 "$work/t" | awk '{ printf "%.2f %.2f\n", $1 + $2, $3 }'
}
t_list="" q_list=""
for i in $(seq "$runs"); do
    t=$(cpu "$tessera" run "$root/tests/sound/sound.xml" --bios "$work/bench.bin" \
            --audio "wav:$work/t.wav")
    # a run that failed early would time nothing
    [ -s "$work/t.wav" ] || { echo "run-bench: tessera run $i wrote no sound" >&2; exit 1; }
    rm -f "$work/t.wav"
    t_list="$t_list ${t% *}"
    echo "tessera run $i: cpu ${t% *} s, wall ${t#* } s"
    if command -v qemu-system-i386 >/dev/null 2>&1; then
        q=$(cpu timeout 120 qemu-system-i386 -M isapc -accel tcg -bios "$work/bench.bin" \
                -display none -vga none -nodefaults \
                -audiodev wav,id=snd,path="$work/q.wav" \
                -device sb16,audiodev=snd -device adlib,audiodev=snd \
                -device isa-debug-exit,iobase=0xf4,iosize=1)
        [ -s "$work/q.wav" ] || { echo "run-bench: qemu run $i wrote no sound" >&2; exit 1; }
        rm -f "$work/q.wav"
        q_list="$q_list ${q% *}"
        echo "qemu    run $i: cpu ${q% *} s, wall ${q#* } s"
    fi
done
median() { printf '%s\n' $1 | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
tm=$(median "$t_list")
echo "tessera: median $tm CPU seconds for $secs s of sound"
if [ -z "$q_list" ]; then
    # Tessera's figure alone is no comparison: not a pass
    echo "SKIP: qemu-system-i386 is not installed: no peer to compare with"
    exit 77
fi
qm=$(median "$q_list")
echo "qemu:    median $qm CPU seconds for $secs s of sound"
awk -v t="$tm" -v q="$qm" 'BEGIN { if (t > 0) printf "tessera / qemu CPU time: %.2f\n", t / q }'
