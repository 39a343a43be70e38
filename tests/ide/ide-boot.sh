#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# SeaBIOS boots from the IDE controller of machines/pc.xml:
#  1. a boot sector on a dynamic VHD as primary master;
#  2. an El Torito (no emulation) ISO in the secondary master CD-ROM,
#     tried first (CMOS boot order "dc") although the disk is bootable.
# The boot code prints where it came from on the debug console and exits
# through test-exit with 0, so `tessera run` ends with status 1.
# usage: ide-boot.sh TESSERA MACHINES_DIR BOOTSECT.bin CDBOOT.bin [CPU]
set -u
tessera=$1 machines=$2 bootsect=$3 cdboot=$4 cpu=${5:-x86}
tmp=$(mktemp -d /tmp/tess-ide-boot-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

[ -f /usr/share/seabios/bios-256k.bin ] || { echo "SKIP: seabios not installed"; exit 77; }
command -v xorriso >/dev/null || { echo "SKIP: xorriso not installed (scripts/deps.sh)"; exit 77; }
command -v timeout >/dev/null || { echo "SKIP: no timeout(1)"; exit 77; }
if [ "$cpu" = kvm ] && { ! [ -r /dev/kvm ] || ! [ -w /dev/kvm ]; }; then
    echo "SKIP: /dev/kvm is not usable"; exit 77
fi

fail=0
# The base machine is the source tree's pc.xml.
export TESSERA_MACHINE_PATH="$machines"

# ---- the disk: a raw 8 MiB image with the boot sector, made a dynamic VHD
dd if=/dev/zero of="$tmp/disk.raw" bs=1M count=8 2>/dev/null
dd if="$bootsect" of="$tmp/disk.raw" conv=notrunc 2>/dev/null
if ! "$tessera" img convert -O vhd -o type=dynamic "$tmp/disk.raw" "$tmp/disk.vhd" >"$tmp/img.out" 2>&1; then
    echo "FAIL: tessera img convert"; cat "$tmp/img.out"; exit 1
fi
"$tessera" img info "$tmp/disk.vhd" >"$tmp/info.out" 2>&1
grep -qi dynamic "$tmp/info.out" || { echo "FAIL: disk.vhd is not a dynamic VHD"; cat "$tmp/info.out"; exit 1; }

# ---- the CD: an El Torito no-emulation boot image
mkdir -p "$tmp/cdroot/boot"
cp "$cdboot" "$tmp/cdroot/boot/boot.bin"
echo "Tessera IDE boot test" >"$tmp/cdroot/README.TXT"
if ! xorriso -as mkisofs -quiet -o "$tmp/cd.iso" -b boot/boot.bin -no-emul-boot \
        -boot-load-size 4 -c boot/boot.cat "$tmp/cdroot" >"$tmp/xorriso.out" 2>&1; then
    echo "FAIL: xorriso"; cat "$tmp/xorriso.out"; exit 1
fi

run() {  # NAME XML -> runs it, leaves $tmp/NAME.debug, sets $rc
    printf '%s\n' "$2" >"$tmp/$1.xml"
    timeout 240 "$tessera" run "$tmp/$1.xml" --cpu "$cpu" --display none \
        --serial "file:$tmp/$1.serial" --debugcon "file:$tmp/$1.debug" >"$tmp/$1.out" 2>&1
    rc=$?
}

check() {  # NAME WANT-STATUS PATTERN...
    name=$1 want=$2
    shift 2
    if [ "$rc" -ne "$want" ]; then
        echo "FAIL: $name: exit status $rc, expected $want"
        cat "$tmp/$name.out"; tail -40 "$tmp/$name.debug" 2>/dev/null
        fail=1
        return
    fi
    for p in "$@"; do
        grep -q -- "$p" "$tmp/$name.debug" || { echo "FAIL: $name: debug console lacks '$p'"; fail=1; }
    done
}

run disk '<machine name="ide-boot-disk" base="pc">
  <device type="ide" id="ide0">
    <drive bus="0" unit="0"><disk format="vhd" file="disk.vhd"/></drive>
  </device>
</machine>'
check disk 1 "ata0-0: TESSERA HARDDISK" "Booting from Hard Disk" \
    "tessera-ide-boot: booted from the hard disk"

run cd '<machine name="ide-boot-cd" base="pc">
  <device type="rtc-cmos" id="rtc" boot-order="dc"/>
  <device type="ide" id="ide0">
    <drive bus="0" unit="0"><disk format="vhd" file="disk.vhd"/></drive>
    <drive bus="1" unit="0" media="cdrom"><disk format="raw" file="cd.iso" readonly="on"/></drive>
  </device>
</machine>'
check cd 1 "ata1-0: TESSERA CD-ROM" "Booting from DVD/CD" \
    "tessera-ide-boot: booted from the CD-ROM"

[ $fail -eq 0 ] && echo "ide-boot ($cpu): SeaBIOS booted the VHD disk and the El Torito CD"
exit $fail
