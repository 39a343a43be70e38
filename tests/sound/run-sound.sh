#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Run the sb16.asm guest with its sound going to a WAV file, check the
# guest's own report, then the WAV; a second deterministic run must write
# the very same file.
# usage: run-sound.sh TESSERA MACHINE ROM CHECKER
set -u
tessera=$1 machine=$2 rom=$3 checker=$4
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
run() {
    "$tessera" run "$machine" --bios "$rom" --deterministic --audio "wav:$1" 2>&1
}
out=$(run "$dir/a.wav")
status=$?
printf '%s\n' "$out"
[ "$status" -eq 33 ] || { echo "run-sound: exit status $status, expected 33" >&2; exit 1; }
printf '%s\n' "$out" | grep -q '^FAIL' && exit 1
printf '%s\n' "$out" | grep -q '^DONE' || { echo "run-sound: no DONE line" >&2; exit 1; }
python3 "$checker" "$dir/a.wav" || exit 1
run "$dir/b.wav" >/dev/null
cmp "$dir/a.wav" "$dir/b.wav" || { echo "run-sound: a second deterministic run wrote other sound" >&2; exit 1; }
exit 0
