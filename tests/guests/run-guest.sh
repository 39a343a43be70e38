#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Boot a guest test ROM on machines/bare.xml and check its report:
# exit status 33 (test-exit 0x10), a DONE line and no FAIL line. The ROM
# runs twice in deterministic mode; both runs must print the very same
# thing (rm.asm prints the time stamp counter, i.e. the instruction count).
# usage: run-guest.sh TESSERA MACHINE ROM [tessera run options...]
tessera=$1 machine=$2 rom=$3
shift 3
out=$("$tessera" run "$machine" --bios "$rom" --deterministic "$@" 2>&1)
status=$?
printf '%s\n' "$out"
if [ "$status" -ne 33 ]; then
    echo "run-guest: exit status $status, expected 33" >&2
    exit 1
fi
if printf '%s\n' "$out" | grep -q '^FAIL'; then
    exit 1
fi
printf '%s\n' "$out" | grep -q '^DONE' || { echo "run-guest: no DONE line" >&2; exit 1; }
out2=$("$tessera" run "$machine" --bios "$rom" --deterministic "$@" 2>&1)
if [ "$out" != "$out2" ]; then
    echo "run-guest: a second deterministic run printed something else:" >&2
    printf '%s\n' "$out2" >&2
    exit 1
fi
exit 0
