#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# CPU interpreter benchmark: the same ROM workload on Tessera's x86
# interpreter, Bochs and QEMU TCG (when installed), side by side.
# usage: run-bench.sh TESSERA [ITERATIONS]      (run from anywhere)
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
tessera=${1:?usage: run-bench.sh TESSERA [ITERATIONS]}
iter=${2:-50000000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
nasm -f bin -DITERATIONS="$iter" -o "$work/bench.bin" "$here/bench.asm"
insns=$((iter * 11))

now() { date +%s.%N; }
report() {   # name seconds checksum
    mips=$(echo "$insns / $2 / 1000000" | bc -l)
    printf '%-10s %8.2f s  %8.1f MIPS  %s\n' "$1" "$2" "$mips" "$3"
    eval "mips_$1=$mips"
}

t0=$(now)
out=$("$tessera" run "$root/machines/bare.xml" --bios "$work/bench.bin" --deterministic 2>&1 || true)
t1=$(now)
report tessera "$(echo "$t1 - $t0" | bc -l)" "$(echo "$out" | grep CHECKSUM)"

if command -v bochs >/dev/null 2>&1; then
    cat > "$work/bochsrc" <<EOB
megs: 16
romimage: file=$work/bench.bin, address=0xffff0000
vgaromimage: file=/usr/share/seabios/vgabios-isavga.bin
cpu: count=1, ips=100000000
port_e9_hack: enabled=1
display_library: rfb, options="timeout=0"
speaker: enabled=0
sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy
log: /dev/null
EOB
    t0=$(now)
    # Debian's bochs has the debugger built in: "c" starts the run
    out=$(cd "$work" && echo c | timeout 600 bochs -q -f "$work/bochsrc" 2>/dev/null | tr -d '\r' || true)
    t1=$(now)
    report bochs "$(echo "$t1 - $t0" | bc -l)" "$(echo "$out" | grep -a CHECKSUM)"
fi

if command -v qemu-system-i386 >/dev/null 2>&1; then
    t0=$(now)
    out=$(timeout 600 qemu-system-i386 -M pc -accel tcg -cpu pentium -bios "$work/bench.bin" -display none \
          -nodefaults -chardev stdio,id=d -device isa-debugcon,iobase=0xe9,chardev=d \
          -device isa-debug-exit,iobase=0xf4,iosize=4 2>/dev/null || true)
    t1=$(now)
    report qemu "$(echo "$t1 - $t0" | bc -l)" "$(echo "$out" | grep CHECKSUM)"
fi
[ -n "$mips_bochs" ] && printf 'tessera / bochs = %.2f\n' "$(echo "$mips_tessera / $mips_bochs" | bc -l)"
[ -n "$mips_qemu" ] && printf 'tessera / qemu  = %.2f\n' "$(echo "$mips_tessera / $mips_qemu" | bc -l)"
exit 0
