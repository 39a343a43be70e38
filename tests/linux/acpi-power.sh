#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# ACPI power control on the default PC (machines/pc.xml) with SeaBIOS's own
# tables: acpi-power.asm, booted from a disk on ide0, walks RSDP -> RSDT ->
# FADT -> DSDT/SSDT (\_S5), checks the PM1 blocks, the PM timer, SCI_EN
# through SMI_CMD and the SCI on IRQ 9, resets through the 8042 and, on
# its second boot, powers off through PM1a_CNT: the run must end with
# status 0 with both boots' reports on the debug console.
# usage: acpi-power.sh tessera|qemu TESSERA DISK
set -u
emu=$1 tessera=$2 disk=$3
tmp=$(mktemp -d /tmp/tess-acpi-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cp "$disk" "$tmp/disk.img"

if [ "$emu" = qemu ]; then
    command -v qemu-system-i386 >/dev/null 2>&1 || { echo "SKIP: no qemu-system-i386"; exit 77; }
    timeout 300 qemu-system-i386 -display none -nodefaults -no-user-config \
        -drive "file=$tmp/disk.img,format=raw,if=ide" -debugcon "file:$tmp/debug" \
        -device isa-debug-exit,iobase=0xf4,iosize=4 >"$tmp/out" 2>&1
    rc=$?
else
    cat >"$tmp/m.xml" <<EOX
<?xml version="1.0"?>
<machine name="acpi-power" base="pc">
  <device id="ide0"><drive bus="0" unit="0"><disk format="raw" file="$tmp/disk.img"/></drive></device>
</machine>
EOX
    timeout 300 "$tessera" run "$tmp/m.xml" --display none --serial null \
        --debugcon "file:$tmp/debug" >"$tmp/out" 2>&1
    rc=$?
fi
grep -a -E '^(ok|FAIL|boot|reset|soft)' "$tmp/debug" 2>/dev/null
fail=0
[ "$rc" -eq 0 ] || { echo "FAIL: exit status $rc, expected 0 (ACPI soft off)"; cat "$tmp/out"; fail=1; }
grep -aq '^FAIL' "$tmp/debug" 2>/dev/null && fail=1
# Boot 1 checked everything and reset; boot 2 came up and powered off.
for line in "boot 1" "ok SCI on IRQ 9" "reset" "boot 2" "soft off"; do
    grep -aqx "$line" "$tmp/debug" 2>/dev/null || { echo "FAIL: no '$line' line"; fail=1; }
done
[ $fail -eq 0 ] && echo "acpi-power ($emu): tables, SCI, reset and soft off"
exit $fail
