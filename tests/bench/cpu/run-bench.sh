#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# CPU benchmark: the same ROM workload (bench.asm) on Tessera's x86
# interpreter and its translating engine (tessera-jit: cpu.engine=jit),
# Bochs and QEMU TCG (when installed), side by side.
# The emulators take turns, RUNS times, so they share whatever load the
# host has; each one's start-up time (the same ROM with one iteration,
# best of three) is taken off before computing MIPS. Reports the minimum
# and median MIPS of each, and the ratios of the medians, from wall time
# and again from the CPU time (user + system) the emulator used, which a
# host busy with other work disturbs much less.
# usage: run-bench.sh TESSERA [ITERATIONS [RUNS]]     (run from anywhere)
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
tessera=${1:?usage: run-bench.sh TESSERA [ITERATIONS [RUNS]]}
iter=${2:-50000000}
runs=${3:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
nasm -f bin -i "$here/" -DITERATIONS="$iter" -o "$work/bench.bin" "$here/bench.asm"
nasm -f bin -i "$here/" -DITERATIONS=1 -o "$work/start.bin" "$here/bench.asm"
insns=$((iter * 11))

have_bochs=0 have_qemu=0
command -v bochs >/dev/null 2>&1 && have_bochs=1
command -v qemu-system-i386 >/dev/null 2>&1 && have_qemu=1

bochsrc() {   # ROM -> bochsrc path
    cat > "$work/bochsrc.$2" <<EOB
megs: 16
romimage: file=$1, address=0xffff0000
vgaromimage: file=/usr/share/seabios/vgabios-isavga.bin
cpu: count=1, ips=100000000
port_e9_hack: enabled=1
display_library: rfb, options="timeout=0"
speaker: enabled=0
sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy
log: /dev/null
EOB
    echo "$work/bochsrc.$2"
}

# run_EMU ROM: prints the CHECKSUM line
run_tessera() {
    "$tessera" run "$root/machines/bare.xml" --bios "$1" --deterministic --set cpu.engine=interp 2>&1 \
        | grep CHECKSUM || true
}
run_tessera_jit() {
    "$tessera" run "$root/machines/bare.xml" --bios "$1" --deterministic --set cpu.engine=jit 2>&1 \
        | grep CHECKSUM || true
}
run_bochs() {
    rc=$(bochsrc "$1" "$(basename "$1")")
    # Debian's bochs has the debugger built in: "c" starts the run
    (cd "$work" && echo c | timeout 600 bochs -q -f "$rc" 2>/dev/null | tr -d '\r' | grep -a CHECKSUM) || true
}
run_qemu() {
    timeout 600 qemu-system-i386 -M pc -accel tcg -cpu pentium -bios "$1" -display none \
        -nodefaults -chardev stdio,id=d -device isa-debugcon,iobase=0xe9,chardev=d \
        -device isa-debug-exit,iobase=0xf4,iosize=4 2>/dev/null | grep CHECKSUM || true
}

now() { date +%s.%N; }
# CPU seconds (user + system) of the shell's finished children, from the
# output of `times` in file $1 (run in the shell itself: a command
# substitution would report its own children)
cpu() {
    sed -n 2p "$1" | awk '{ split($1, u, "m"); split($2, s, "m"); sub("s", "", u[2]);
                            sub("s", "", s[2]); print u[1] * 60 + u[2] + s[1] * 60 + s[2] }'
}
# time_run EMU ROM: "wall-seconds cpu-seconds" on stdout, checksum line
# in $work/sum.EMU
time_run() {
    times > "$work/times0"
    t0=$(now)
    "run_$1" "$2" > "$work/sum.$1"
    t1=$(now)
    times > "$work/times1"
    echo "$(echo "$t1 - $t0" | bc -l) $(echo "$(cpu "$work/times1") - $(cpu "$work/times0")" | bc -l)"
}

emus="tessera tessera_jit"
[ $have_bochs = 1 ] && emus="$emus bochs"
[ $have_qemu = 1 ] && emus="$emus qemu"

for e in $emus; do
    best= bestc=
    for k in 1 2 3; do
        set -- $(time_run "$e" "$work/start.bin")
        if [ -z "$best" ] || [ "$(echo "$1 < $best" | bc -l)" = 1 ]; then best=$1; fi
        if [ -z "$bestc" ] || [ "$(echo "$2 < $bestc" | bc -l)" = 1 ]; then bestc=$2; fi
    done
    eval "start_$e=$best cstart_$e=$bestc"
done

ref=
for r in $(seq "$runs"); do
    for e in $emus; do
        set -- $(time_run "$e" "$work/bench.bin")
        t=$1 tc=$2
        sum=$(cat "$work/sum.$e")
        [ -n "$ref" ] || ref=$sum
        if [ "$sum" != "$ref" ]; then
            echo "run-bench: $e printed '$sum', expected '$ref'" >&2
            exit 1
        fi
        s=$(eval "echo \$start_$e")
        echo "$insns / ($t - $s) / 1000000" | bc -l >> "$work/mips.$e"
        s=$(eval "echo \$cstart_$e")
        echo "$insns / ($tc - $s) / 1000000" | bc -l >> "$work/cmips.$e"
    done
done

# report FILE START TITLE: min and median MIPS of each emulator from
# $work/FILE.EMULATOR, the start-up times in $START_EMULATOR, and the
# ratios of the medians.
report() {
    echo "$3"
    printf '%-12s %10s %10s %12s\n' emulator "min MIPS" "median" "start-up s"
    for e in $emus; do
        sort -g "$work/$1.$e" > "$work/sorted.$e"
        min=$(head -n 1 "$work/sorted.$e")
        med=$(sed -n "$(( (runs + 1) / 2 ))p" "$work/sorted.$e")
        eval "med_$e=$med"
        printf '%-12s %10.1f %10.1f %12.3f\n' "$e" "$min" "$med" "$(eval "echo \$${2}_$e")"
    done
    printf 'tessera_jit / tessera = %.2f (medians)\n' "$(echo "$med_tessera_jit / $med_tessera" | bc -l)"
    if [ $have_bochs = 1 ]; then
        printf 'tessera / bochs       = %.2f (medians)\n' "$(echo "$med_tessera / $med_bochs" | bc -l)"
        printf 'tessera_jit / bochs   = %.2f (medians)\n' "$(echo "$med_tessera_jit / $med_bochs" | bc -l)"
    fi
    if [ $have_qemu = 1 ]; then
        printf 'tessera / qemu        = %.2f (medians)\n' "$(echo "$med_tessera / $med_qemu" | bc -l)"
        printf 'tessera_jit / qemu    = %.2f (medians)\n' "$(echo "$med_tessera_jit / $med_qemu" | bc -l)"
    fi
}

report mips start "workload: $iter iterations x 11 instructions, $runs runs each; $ref"
report cmips cstart "from CPU time (user + system):"
exit 0
