#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The VGA BIOS images as SeaBIOS and the PCI firmware specification want
them: 55AA, the size byte matching the file (a multiple of 512), bytes
summing to zero, an x86 entry at offset 3, and a PCI data structure with
vendor 5333, the Trio64 (8811) or Trio32 (8810) device id, class 030000,
code type 0, the last-image flag and the image length.

usage: check-rom.py TRIO64.bin TRIO32.bin
"""
import struct
import sys

fail = []


def check(path, device):
    rom = open(path, 'rb').read()

    def want(cond, what):
        if not cond:
            fail.append('%s: %s' % (path, what))

    want(rom[:2] == b'\x55\xaa', 'no 55AA signature')
    want(len(rom) % 512 == 0 and rom[2] * 512 == len(rom),
         'size byte %d does not match %d bytes' % (rom[2], len(rom)))
    want(len(rom) <= 0x10000, 'larger than 64 KiB')
    want(sum(rom) & 0xFF == 0, 'checksum %02x' % (sum(rom) & 0xFF))
    want(rom[3] == 0xE9, 'offset 3 is not a near jump')
    pcir = struct.unpack_from('<H', rom, 0x18)[0]
    want(rom[pcir:pcir + 4] == b'PCIR', 'no PCIR at %#x' % pcir)
    vendor, dev = struct.unpack_from('<HH', rom, pcir + 4)
    want(vendor == 0x5333, 'vendor %04x' % vendor)
    want(dev == device, 'device %04x, expected %04x' % (dev, device))
    want(rom[pcir + 0x0D:pcir + 0x10] == b'\x00\x00\x03', 'class code %s' % rom[pcir + 0x0D:pcir + 0x10].hex())
    length = struct.unpack_from('<H', rom, pcir + 0x10)[0]
    want(length * 512 == len(rom), 'PCIR image length %d blocks' % length)
    want(rom[pcir + 0x14] == 0, 'code type %d' % rom[pcir + 0x14])
    want(rom[pcir + 0x15] & 0x80, 'not marked as the last image')
    return rom


a = check(sys.argv[1], 0x8811)
b = check(sys.argv[2], 0x8810)
if len(a) == len(b):
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    if len(diff) > 3:
        fail.append('the Trio32 image differs in %d bytes, expected the device id and checksum only' % len(diff))
for f in fail:
    print('FAIL:', f)
if not fail:
    print('both ROM images: header, PCIR, size and checksum as specified')
sys.exit(1 if fail else 0)
