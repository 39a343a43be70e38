#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Host instructions per guest instruction for each x86 engine (the
# interpreter and the translator), from valgrind's callgrind instruction
# count, which a busy host does not disturb: the bench.asm workload at
# ITERATIONS and at 1 iteration, the difference divided by the extra
# guest instructions (11 per iteration).
# usage: callgrind.sh TESSERA [ITERATIONS]      (run from anywhere)
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
tessera=${1:?usage: callgrind.sh TESSERA [ITERATIONS]}
iter=${2:-2000000}
command -v valgrind >/dev/null 2>&1 || { echo "SKIP: valgrind not installed"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
nasm -f bin -i "$here/" -DITERATIONS="$iter" -o "$work/bench.bin" "$here/bench.asm"
nasm -f bin -i "$here/" -DITERATIONS=1 -o "$work/start.bin" "$here/bench.asm"

ir() {  # ROM ENGINE -> total instructions the process executed
    valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" \
        "$tessera" run "$root/machines/bare.xml" --bios "$1" --deterministic \
        --set cpu.engine="$2" >"$work/log" 2>&1 || true
    grep -q CHECKSUM "$work/log" || { echo "callgrind: no CHECKSUM from engine $2" >&2; exit 1; }
    sed -n 's/^summary: //p' "$work/cg.out"
}

printf '%-8s %16s\n' engine "host insns/insn"
for e in interp jit; do
    a=$(ir "$work/bench.bin" "$e")
    b=$(ir "$work/start.bin" "$e")
    printf '%-8s %16.2f\n' "$e" "$(echo "($a - $b) / ($iter * 11 - 11)" | bc -l)"
done
