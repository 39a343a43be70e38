#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Finish an option ROM image: pad it to a multiple of 512 bytes, write
that size into the header (byte 2, in 512-byte blocks) and into the PCI
data structure (image length), optionally patch the PCIR device id, and
set the last byte so that all bytes sum to zero (mod 256).

usage: fixrom.py IN.bin OUT.bin [--device-id 0xNNNN]
"""
import sys


def main():
    args = sys.argv[1:]
    dev = None
    if '--device-id' in args:
        i = args.index('--device-id')
        dev = int(args[i + 1], 0)
        del args[i:i + 2]
    src, dst = args
    rom = bytearray(open(src, 'rb').read())
    if rom[:2] != b'\x55\xaa':
        sys.exit('%s: no 55AA option ROM signature' % src)
    size = (len(rom) + 1 + 511) // 512 * 512      # room for the checksum byte
    if size > 0x10000:
        sys.exit('%s: %d bytes, more than an option ROM window can hold' % (src, size))
    rom += bytes(size - len(rom))
    rom[2] = size // 512
    pcir = rom[0x18] | rom[0x19] << 8
    if rom[pcir:pcir + 4] != b'PCIR':
        sys.exit('%s: header offset 0x18 does not point at a PCIR structure' % src)
    rom[pcir + 0x10] = (size // 512) & 0xFF         # image length, 512-byte units
    rom[pcir + 0x11] = (size // 512) >> 8
    if dev is not None:
        rom[pcir + 6] = dev & 0xFF
        rom[pcir + 7] = dev >> 8
    rom[-1] = 0
    rom[-1] = (-sum(rom)) & 0xFF
    assert sum(rom) & 0xFF == 0
    open(dst, 'wb').write(rom)


main()
