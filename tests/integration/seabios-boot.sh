#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# SeaBIOS (Debian's seabios package) boots on machines/pc.xml to its boot
# attempt: check the debug console for its banner, the RAM it found and
# the boot attempt; then quit through the control socket (exit status 0).
set -u
tessera=$1
machine=$2
cpu=${3:-x86}
tmp=$(mktemp -d /tmp/tess-seabios-XXXXXX)
trap 'kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT

bios=/usr/share/seabios/bios-256k.bin
[ -f "$bios" ] || { echo "SKIP: $bios not installed"; exit 77; }

# SeaBIOS's sercon mirrors the screen lazily, and its output loop lets the
# timer interrupt in while it waits for the line: a tick there flushes the
# pending character a second time and repositions the cursor with an ANSI
# sequence (SeaBIOS's own re-entrancy; when a tick lands there depends on
# the host's load). Text is matched with those sequences taken out and
# doubled letters squeezed (in what wait_for waits for too).
noansi='s/\x1b\[[0-9;]*[A-Za-z]//g; s/\(.\)\1/\1/g'

# wait_for FILE PATTERN SECONDS: until PATTERN appears in FILE (which the
# VM is writing), the VM ($pid) exits, or SECONDS pass. Event-driven:
# `tail -F` follows the file through inotify, no sleep-polling.
wait_for() {
    rm -f "$tmp/wait.fifo" "$tmp/wait.raw"
    mkfifo "$tmp/wait.fifo" "$tmp/wait.raw"
    tail -n +1 -F --pid="$pid" "$1" >"$tmp/wait.raw" 2>/dev/null &
    tp=$!
    sed -u "$noansi" <"$tmp/wait.raw" >"$tmp/wait.fifo" &
    sp=$!
    timeout "$3" grep -q -m1 -- "$(printf %s "$2" | sed "$noansi")" <"$tmp/wait.fifo"
    wrc=$?
    kill "$tp" "$sp" 2>/dev/null
    wait "$tp" "$sp" 2>/dev/null
    return $wrc
}

"$tessera" run "$machine" --cpu "$cpu" --display none --serial "file:$tmp/serial" \
    --debugcon "file:$tmp/debug" --control "$tmp/ctl" >"$tmp/out" 2>&1 &
pid=$!

# Wait (bounded) for the boot attempt to appear in the log. The serial port
# sends at its baud rate in virtual time, so wait for its copy of the
# banner too.
if ! wait_for "$tmp/debug" "No bootable device" 120 || ! wait_for "$tmp/serial" "disk" 60; then
    echo "FAIL: no boot attempt"; cat "$tmp/out"; tail -30 "$tmp/debug"; exit 1
fi

"$tessera" ctl "$tmp/ctl" status | grep -q 'running' || { echo "FAIL: status"; exit 1; }
"$tessera" ctl "$tmp/ctl" quit >/dev/null || { echo "FAIL: quit"; exit 1; }
wait $pid
rc=$?
[ $rc -eq 0 ] || { echo "FAIL: exit status $rc after quit"; cat "$tmp/out"; exit 1; }

sed "$noansi" "$tmp/serial" >"$tmp/serial.text"

fail=0
check() {
    grep -q -- "$2" "$tmp/$1" || { echo "FAIL: $1 lacks '$2'"; fail=1; }
}
check debug "SeaBIOS (version"
check debug "Found QEMU fw_cfg"
# 128 MiB of RAM from fw-cfg's e820 table, and from CMOS.
check debug "e820: addr 0x0000000000000000 len 0x0000000008000000 \[RAM\]"
check debug "Found [0-9]* PCI devices"
check debug "Using pmtimer"
check debug "Booting from Hard Disk"
# The BIOS screen mirrored to COM1 (sercon).
check serial.text "1.16.2"
check serial.text "disk"
[ $fail -eq 0 ] && echo "seabios ($cpu): boots to its boot attempt"
exit $fail
