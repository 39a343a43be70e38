#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Regenerate the snapshot fuzzer's seed corpus (corpus/snapshot/): real
# snapshots of small machines, suspended at a fixed instruction in
# --deterministic mode, that need no host files beyond Debian's seabios
# (so they load on any machine scripts/deps.sh set up).
#   tests/fuzz/make-snapshot-seeds.sh build/bin/tessera
# tiny: a 486 with 64 KiB of RAM and the legacy devices, no firmware (it
#       runs what an empty bus reads);
# pc-shared: the default PC with its plain VGA (pc-vga: 256 KiB of VRAM,
#       where the S3 has 1 MiB at least; every execution builds the
#       machine), 2 MiB of RAM and the DEC 21041 on the shared
#       backend (libslirp's state blob), suspended early in SeaBIOS (before it
#       fills RAM: small seeds);
# pc-switch: the same NIC on a switch;
# regress-posted-request-leak: pc-shared with its 'dma' section claiming
#       one field more than it holds: the restore fails after the machine
#       was built, and the machine is freed with the shared backend's poll
#       request queued whenever its thread has posted by then (its first
#       poll waits up to 1 s: a slow, loaded run); that request's context
#       leaked. /run/free-runs-posted tests the path deterministically.
set -eu
tessera=$1
here=$(cd "$(dirname "$0")" && pwd)
out=$here/corpus/snapshot
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
cat >"$tmp/tiny.xml" <<'XML'
<machine name="tiny">
  <memory size="64K"/>
  <cpu type="x86" model="486"/>
  <device type="pic8259" id="pic0" port="0x20" role="master" slave="pic1"/>
  <device type="pic8259" id="pic1" port="0xa0" role="slave"/>
  <device type="pit8254" id="pit"/>
  <device type="rtc-cmos" id="rtc"/>
  <device type="uart16550" id="com1" port="0x3f8"/>
  <device type="port92" id="port92"/>
  <device type="test-exit" id="test-exit"/>
  <wire from="pic0.int" to="cpu.intr"/>
  <wire from="pic1.int" to="pic0.ir2"/>
  <wire from="pit.out0" to="pic0.ir0"/>
  <wire from="com1.irq" to="pic0.ir4"/>
  <wire from="rtc.irq" to="pic1.ir0"/>
  <wire from="port92.a20" to="cpu.a20"/>
</machine>
XML
for net in shared switch; do
    cat >"$tmp/pc-$net.xml" <<XML
<machine name="pc-$net" base="pc-vga">
  <memory size="2M"/>
  <device id="vga" vram="256K"/>
  <device type="dec21041" id="nic0" devfn="0x18" mac="52:54:00:12:34:56">
    <net type="$net" $( [ $net = switch ] && echo 'name="fuzz-lab"' )/>
  </device>
</machine>
XML
done
run() { # NAME XML INSTRUCTIONS
    "$tessera" run "$2" --deterministic --display none --serial null --audio none \
        --suspend-at "$3" --suspend-file "$out/$1" </dev/null >/dev/null
}
run tiny "$tmp/tiny.xml" 20000
run pc-shared "$tmp/pc-shared.xml" 5000
run pc-switch "$tmp/pc-switch.xml" 8000
# Sections: kind u32, id and type (u32 length or 0xFFFFFFFF, bytes),
# version u32, length u64, crc u32, payload; a device's payload starts
# with its field count.
python3 - "$out/pc-shared" "$out/regress-posted-request-leak" <<'PY'
import struct, sys, zlib
d = bytearray(open(sys.argv[1], 'rb').read())
pos = 16
while pos < len(d):
    start = pos
    pos += 4
    strs = []
    for _ in range(2):
        n, = struct.unpack_from('<I', d, pos)
        pos += 4
        strs.append(None if n == 0xFFFFFFFF else bytes(d[pos:pos + n]))
        pos += 0 if n == 0xFFFFFFFF else n
    pos += 4
    n, = struct.unpack_from('<Q', d, pos)
    crc_at, data_at = pos + 8, pos + 12
    pos = data_at + n
    if strs[0] == b'dma':
        count, = struct.unpack_from('<I', d, data_at)
        struct.pack_into('<I', d, data_at, count + 1)
        struct.pack_into('<I', d, crc_at, zlib.crc32(bytes(d[data_at:data_at + n])))
        open(sys.argv[2], 'wb').write(d)
        break
else:
    sys.exit('no dma section in ' + sys.argv[1])
PY
ls -l "$out"
