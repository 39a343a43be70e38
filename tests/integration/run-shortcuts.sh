#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# `tessera run IMAGE` decides by content, and the QEMU-style options
# (--cdrom, --disk, -m, --boot, --net, --audio) extend whichever machine
# runs. Tiny guests built here (nasm, xorriso) boot through SeaBIOS and
# report what they found through the test-exit port (V -> exit V*2+1).
set -u
tessera=$1
guests=$2           # tests/integration/guests
tmp=$(mktemp -d /tmp/tess-shortcuts-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0

for tool in nasm xorriso; do
    command -v $tool >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done
[ -f /usr/share/seabios/bios-256k.bin ] || { echo "SKIP: seabios not installed"; exit 77; }

nasm -f bin "$guests/disk-probe.asm" -o "$tmp/probe.raw" || exit 1
truncate -s 1M "$tmp/probe.raw"
mkdir "$tmp/iso"
nasm -f bin "$guests/cd-boot.asm" -o "$tmp/iso/boot.bin" || exit 1
xorriso -as mkisofs -quiet -b boot.bin -no-emul-boot -boot-load-size 4 \
    -o "$tmp/cd.iso" "$tmp/iso" 2>"$tmp/xorriso.log" || { cat "$tmp/xorriso.log"; exit 1; }

# expect STATUS PATTERN -- command...: exit status, and PATTERN (if any) in
# stdout or stderr.
expect() {
    want=$1; pat=$2; shift 3
    "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
    got=$?
    if [ "$got" != "$want" ]; then
        echo "FAIL: '$*' exited $got, expected $want"; cat "$tmp/out" "$tmp/err"; fail=1; return
    fi
    if [ -n "$pat" ] && ! grep -q -- "$pat" "$tmp/out" "$tmp/err"; then
        echo "FAIL: '$*' output lacks '$pat'"; cat "$tmp/out" "$tmp/err"; fail=1; return
    fi
    echo "ok: $*"
}
fresh() {   # a fresh copy of the probe disk, as $1
    cp "$tmp/probe.raw" "$1"
}
sector2() { od -An -tx1 -j512 -N2 "$1" | tr -d ' \n'; }

# The probe's value: E801's BX>>8 is 6 on the pc machine's 128 MiB (SeaBIOS
# keeps the top 64 KiB), 2 with 64 MiB, 14 with 256 MiB; +32 with the NIC,
# +64 with the Sound Blaster. Exit status is V*2+1.
pc=13; m64=5; m256=29; cd=35

# By content, whatever the name: an ISO boots from the CD-ROM, a raw or VHD
# disk from the first disk.
cp "$tmp/cd.iso" "$tmp/install.dat"
expect $cd "" -- "$tessera" run "$tmp/install.dat"
fresh "$tmp/disk.iso"
expect $pc "" -- "$tessera" run "$tmp/disk.iso"
[ "$(sector2 "$tmp/disk.iso")" = 5a5a ] || { echo "FAIL: the raw disk did not take the write"; fail=1; }
fresh "$tmp/src.raw"
"$tessera" img convert -O vhd "$tmp/src.raw" "$tmp/disk.img" >/dev/null || { echo "FAIL: img convert"; fail=1; }
expect $pc "" -- "$tessera" run "$tmp/disk.img"
# A format Tessera does not read is named, not booted as raw bytes.
printf 'QFI\373\000\000\000\003' >"$tmp/x.qcow2"; truncate -s 1M "$tmp/x.qcow2"
expect 2 "qcow2" -- "$tessera" run "$tmp/x.qcow2"
expect 2 "qcow2" -- "$tessera" run --disk "$tmp/x.qcow2"

# --memory / -m (a bare number is MiB, as QEMU's), --net, --audio.
fresh "$tmp/a.raw"
expect $m64 "" -- "$tessera" run "$tmp/a.raw" -m 64
expect $m256 "" -- "$tessera" run --disk "$tmp/a.raw" --memory=256M
expect $((pc + 64)) "" -- "$tessera" run "$tmp/a.raw" --net shared
expect $((pc + 64)) "" -- "$tessera" run "$tmp/a.raw" --net=switch:lab
expect $((pc + 64)) "" -- "$tessera" run "$tmp/a.raw" --net none
expect $((pc + 128)) "" -- "$tessera" run "$tmp/a.raw" --audio "wav:$tmp/out.wav"
[ -s "$tmp/out.wav" ] || { echo "FAIL: --audio wav: wrote no WAV file"; fail=1; }
expect 2 "did you mean 'shared'" -- "$tessera" run "$tmp/a.raw" --net shraed
expect 2 "switch:NAME" -- "$tessera" run "$tmp/a.raw" --net switch
expect 2 "memory" -- "$tessera" run "$tmp/a.raw" -m lots

# Boot order (SeaBIOS's fw-cfg bootorder): the disk first by default, the CD
# with --boot d.
fresh "$tmp/b.raw"
expect $pc "" -- "$tessera" run --disk "$tmp/b.raw" --cdrom "$tmp/cd.iso"
expect $cd "" -- "$tessera" run --disk "$tmp/b.raw" --cdrom "$tmp/cd.iso" --boot d
expect $pc "" -- "$tessera" run --disk "$tmp/b.raw" --cdrom "$tmp/cd.iso" --boot order=cd
expect 2 "ORDER" -- "$tessera" run --disk "$tmp/b.raw" --boot x

# Undo disks: discard leaves the image as it was, commit keeps the write.
fresh "$tmp/u.raw"
expect $pc "" -- "$tessera" run --disk "$tmp/u.raw,undo=discard"
[ "$(sector2 "$tmp/u.raw")" = 0000 ] || { echo "FAIL: undo=discard changed the image"; fail=1; }
expect $pc "" -- "$tessera" run --disk "$tmp/u.raw,format=raw,undo=commit"
[ "$(sector2 "$tmp/u.raw")" = 5a5a ] || { echo "FAIL: undo=commit lost the write"; fail=1; }
expect 2 "did you mean 'undo'" -- "$tessera" run --disk "$tmp/u.raw,undi=commit"
expect 2 "no such file" -- "$tessera" run --disk "$tmp/missing.vhd"

# The options extend a machine file too: its own memory and its own drive
# stay; --cdrom takes the next free position; a fifth drive has none.
fresh "$tmp/own.raw"
cat >"$tmp/mine.xml" <<EOF
<machine name="mine" base="pc">
  <memory size="64M"/>
  <device id="ide0">
    <drive bus="0" unit="0"><disk format="raw" file="own.raw"/></drive>
  </device>
</machine>
EOF
expect $m64 "" -- "$tessera" run "$tmp/mine.xml"
expect $((m64 + 64)) "" -- "$tessera" run "$tmp/mine.xml" --cdrom "$tmp/cd.iso" --net shared
expect $cd "" -- "$tessera" run "$tmp/mine.xml" --cdrom "$tmp/cd.iso" --boot dc
expect 2 "no free IDE position" -- "$tessera" run "$tmp/mine.xml" --cdrom "$tmp/cd.iso" \
    --disk "$tmp/a.raw" --disk "$tmp/b.raw" --disk "$tmp/u.raw"
cp "$tmp/mine.xml" "$tmp/my machine"
expect 2 "NAME.xml" -- "$tessera" run "$tmp/my machine" -m 64
expect 2 "apply to one machine" -- "$tessera" run "$tmp/mine.xml" "$tmp/mine.xml" -m 64
expect 2 "restore" -- "$tessera" run --restore "$tmp/none.snap" -m 64

# A run made of shortcuts suspends and resumes like any other: the snapshot
# holds the overlay machine file (64 MiB, the CD) and brings it back.
expect 0 "" -- "$tessera" run "$tmp/cd.iso" -m 64 --suspend-at 2000000 --suspend-file "$tmp/s.snap"
expect 0 "ram: 64 MiB" -- "$tessera" snapshot info "$tmp/s.snap"
expect $cd "" -- "$tessera" run --restore "$tmp/s.snap"

[ $fail -eq 0 ] && echo "run shortcuts: all passed"
exit $fail
