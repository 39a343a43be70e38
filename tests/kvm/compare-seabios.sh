#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Boot SeaBIOS on the default PC (machines/pc.xml, no disks) with both CPU
# classes until it gives up ("No bootable device") and require the same
# debug-console log: POST, PCI enumeration, option ROMs, boot order.
#   usage: compare-seabios.sh TESSERA SOURCE_ROOT
# Where this host's KVM overrides CPUID features, SeaBIOS sees the host's
# APIC flag and says so in one line ("No apic" / "Found 1 cpu(s)"); that
# line alone is then told apart rather than failed. The serial console is
# not compared: SeaBIOS's sercon output depends on host timing (it differs
# between two runs of the same CPU class).
set -u
tessera=$1
src=$2
bios=/usr/share/seabios/bios-256k.bin
tmp=$(mktemp -d /tmp/tess-kvm-sb-XXXXXX)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT

if [ ! -c /dev/kvm ] || [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
    echo "SKIP: no usable /dev/kvm on this host"; exit 77
fi
if [ ! -f "$bios" ]; then
    echo "SKIP: $bios is not installed (Debian package seabios)"; exit 77
fi
if ! "$tessera" validate "$src/machines/pc.xml" >"$tmp/validate" 2>&1; then
    echo "SKIP: the PC platform is not complete in this build:"; cat "$tmp/validate"; exit 77
fi

for cpu in x86 kvm; do
    : >"$tmp/$cpu.out"
    "$tessera" run "$src/machines/pc.xml" --cpu "$cpu" --serial null \
        --debugcon "file:$tmp/$cpu.out" >"$tmp/$cpu.log" 2>&1 &
    pid=$!
    # Wait for the line (or the run ending, or 300 s), then stop the run.
    timeout 300 sh -c "tail -F --pid=$pid '$tmp/$cpu.out' 2>/dev/null | grep -q -m1 'No bootable device'"
    kill "$pid" 2>/dev/null
    wait "$pid"
    pid=
    if [ "$cpu" = kvm ] && grep -q "run with --cpu x86" "$tmp/kvm.log"; then
        echo "SKIP: $(grep -m1 'run with --cpu x86' "$tmp/kvm.log")"; exit 77
    fi
    if ! grep -q 'No bootable device' "$tmp/$cpu.out"; then
        echo "FAIL: SeaBIOS on --cpu $cpu did not reach 'No bootable device':"
        tail -20 "$tmp/$cpu.out"; tail -5 "$tmp/$cpu.log"
        exit 1
    fi
    # Compare up to that line: what follows depends on when we stopped it.
    sed -n '1,/No bootable device/p' "$tmp/$cpu.out" >"$tmp/$cpu.cut"
done

if grep -q "KVM could not emulate an instruction" "$tmp/kvm.log"; then
    echo "SKIP: this host's KVM cannot run SeaBIOS: $(grep -m1 -o 'KVM could not emulate.*' "$tmp/kvm.log")"
    exit 77
fi
if cmp -s "$tmp/x86.cut" "$tmp/kvm.cut"; then
    echo "ok: SeaBIOS debug console identical ($(wc -l <"$tmp/kvm.cut") lines)"
    exit 0
fi
if grep -q "overrides CPUID" "$tmp/kvm.log"; then
    apic='^No apic - only the main cpu is present\.$|^Found [0-9]+ cpu\(s\) max supported [0-9]+ cpu\(s\)$'
    grep -Ev "$apic" "$tmp/x86.cut" >"$tmp/x86.rest"
    grep -Ev "$apic" "$tmp/kvm.cut" >"$tmp/kvm.rest"
    if cmp -s "$tmp/x86.rest" "$tmp/kvm.rest"; then
        diff "$tmp/x86.cut" "$tmp/kvm.cut" | grep '^[<>]' |
            sed 's/^/note: this host overrides CPUID (APIC flag): /'
        echo "ok: SeaBIOS debug console identical but for the APIC line ($(wc -l <"$tmp/kvm.cut") lines)"
        exit 0
    fi
fi
echo "FAIL: SeaBIOS debug console differs between x86 and kvm:"
diff "$tmp/x86.cut" "$tmp/kvm.cut"
tail -5 "$tmp/kvm.log"
exit 1
