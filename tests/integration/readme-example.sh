#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The machine file README.md shows under "Writing a machine file" is taken
# from README.md itself, validated, and run: its empty VHD is not bootable,
# so SeaBIOS boots the CD, whose boot image ends the run through test-exit.
set -u
tessera=$1
readme=$2
guests=$3
tmp=$(mktemp -d /tmp/tess-readme-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

for tool in nasm xorriso; do
    command -v $tool >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done
[ -f /usr/share/seabios/bios-256k.bin ] || { echo "SKIP: seabios not installed"; exit 77; }

awk '/^## Writing a machine file/ { sec = 1 }
     sec && /^```xml$/ { grab = 1; next }
     grab && /^```$/ { exit }
     grab { print }' "$readme" >"$tmp/dos-box.xml"
grep -q '<machine name="dos-box"' "$tmp/dos-box.xml" ||
    { echo "FAIL: no machine example found in $readme"; exit 1; }

cd "$tmp" || exit 1
"$tessera" img create -f vhd dos.vhd 16M >/dev/null || { echo "FAIL: img create"; exit 1; }
mkdir iso
nasm -f bin "$guests/cd-boot.asm" -o iso/boot.bin || exit 1
xorriso -as mkisofs -quiet -b boot.bin -no-emul-boot -boot-load-size 4 -o tools.iso iso \
    2>xorriso.log || { cat xorriso.log; exit 1; }

"$tessera" validate dos-box.xml || { echo "FAIL: the README's machine does not validate"; exit 1; }
"$tessera" run dos-box.xml </dev/null
rc=$?
[ $rc -eq 35 ] || { echo "FAIL: the README's machine exited $rc, expected 35 (booted the CD)"; exit 1; }
grep -q "SeaBIOS" debug.log || { echo "FAIL: its debug console wrote nothing to debug.log"; exit 1; }
echo "README machine example: validates, boots its CD"
