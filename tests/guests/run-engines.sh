#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The same guest ROM, deterministic, on the x86 interpreter and on the
# translating engine (cpu.engine=jit): both runs must end with exit status
# 33 and print the very same thing. rm.asm prints the time stamp counter,
# i.e. the instruction count, so that ROM also checks that both engines
# retire the same number of instructions.
# usage: run-engines.sh TESSERA MACHINE ROM [tessera run options...]
tessera=$1 machine=$2 rom=$3
shift 3
out=$("$tessera" run "$machine" --bios "$rom" --deterministic --set cpu.engine=interp "$@" 2>&1)
status=$?
jit=$("$tessera" run "$machine" --bios "$rom" --deterministic --set cpu.engine=jit "$@" 2>&1)
jstatus=$?
printf '%s\n' "$jit"
if [ "$status" -ne 33 ] || [ "$jstatus" -ne 33 ]; then
    echo "run-engines: exit status $status (interpreter), $jstatus (translator), expected 33" >&2
    exit 1
fi
if [ "$out" != "$jit" ]; then
    echo "run-engines: the interpreter printed something else:" >&2
    printf '%s\n' "$out" >&2
    exit 1
fi
exit 0
