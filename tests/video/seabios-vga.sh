#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# SeaBIOS with SeaVGABIOS (Debian's vgabios-stdvga.bin, handed over through
# fw_cfg) on machines/pc-vga.xml, the default PC with the plain VGA in place
# of its S3: the BIOS screen comes back through `screentext` and
# `screenshot`, and SeaVGABIOS found the DISPI interface. With a third
# argument "s3", the machine is machines/pc.xml as it is, with SeaVGABIOS in
# place of the S3's own BIOS (no ROM in its BAR): SeaVGABIOS drives its
# standard VGA registers, finds no DISPI, and the S3 shows the same screen.
set -u
tessera=$1
# $2: the directory of pc.xml and pc-vga.xml, which the VM file extends
card=${3:-vga}
tmp=$(mktemp -d /tmp/tess-seavga-XXXXXX)
trap 'kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT

bios=/usr/share/seabios/bios-256k.bin
vgabios=/usr/share/seabios/vgabios-stdvga.bin
for f in "$bios" "$vgabios"; do
    [ -f "$f" ] || { echo "SKIP: $f not installed"; exit 77; }
done
if [ "$card" = s3 ]; then
    base=pc
    display='<device id="vga" rom=""/>'
else
    base=pc-vga
    display=
fi
cat >"$tmp/vm.xml" <<XML
<machine name="seavga" base="$base">
  $display
</machine>
XML

# wait_for FILE PATTERN SECONDS: until PATTERN appears in FILE (which the
# VM is writing), the VM ($pid) exits, or SECONDS pass. Event-driven:
# `tail -F` follows the file through inotify, no sleep-polling.
wait_for() {
    rm -f "$tmp/wait.fifo"
    mkfifo "$tmp/wait.fifo"
    tail -n +1 -F --pid="$pid" "$1" >"$tmp/wait.fifo" 2>/dev/null &
    tp=$!
    timeout "$3" grep -q -m1 -- "$2" <"$tmp/wait.fifo"
    wrc=$?
    kill "$tp" 2>/dev/null
    wait "$tp" 2>/dev/null
    return $wrc
}

"$tessera" run "$tmp/vm.xml" --display none --serial null --debugcon "file:$tmp/debug" \
    --set "fwcfg.vgarom=$vgabios" --control "$tmp/ctl" >"$tmp/out" 2>&1 &
pid=$!

# Wait (bounded) for the boot attempt in the debug log.
if ! wait_for "$tmp/debug" "No bootable device" 240; then
    echo "FAIL: no boot attempt"; cat "$tmp/out"; tail -30 "$tmp/debug"; exit 1
fi

fail=0
"$tessera" ctl "$tmp/ctl" screentext >"$tmp/screen" 2>&1 || { echo "FAIL: screentext"; fail=1; }
"$tessera" ctl "$tmp/ctl" screenshot "$tmp/shot.png" >"$tmp/shot" 2>&1 || { echo "FAIL: screenshot"; fail=1; }
"$tessera" ctl "$tmp/ctl" quit >/dev/null
wait $pid

check() {
    grep -q -- "$2" "$tmp/$1" || { echo "FAIL: $1 lacks '$2'"; cat "$tmp/$1"; fail=1; }
}
check debug "Start SeaVGABIOS"
if [ "$card" = s3 ]; then
    grep -q "VBE DISPI: lfb" "$tmp/debug" && { echo "FAIL: SeaVGABIOS found DISPI on the S3"; grep DISPI "$tmp/debug"; fail=1; }
else
    check debug "VBE DISPI: lfb_addr=e0000000, size 16 MB"
fi
check debug "set VGA mode 3"
check screen "SeaBIOS (version"
check screen "No bootable device"
check shot "720x400"
# PNG signature and IHDR: 720 x 400.
sig=$(od -An -tx1 -N24 "$tmp/shot.png" | tr -d ' \n')
case $sig in
    89504e470d0a1a0a0000000d49484452000002d000000190) ;;
    *) echo "FAIL: screenshot is not a 720x400 PNG ($sig)"; fail=1 ;;
esac
[ $fail -eq 0 ] && echo "seabios + seavgabios on the $card: text screen via screentext and screenshot"
exit $fail
