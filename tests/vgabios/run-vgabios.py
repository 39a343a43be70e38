#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Tessera's VGA BIOS on the standard VGA (machines/pc-vga.xml): SeaBIOS
runs the ROM (handed over through fw-cfg `vgarom` in place of
SeaVGABIOS, found by name on $TESSERA_DATA_PATH) and
boots vgatest.img, which calls INT 10h and reports on the debug console.

For every "SCREEN name" the program prints, this script checks the screen
and presses a key: text screens through `ctl screentext` against the text
the program wrote; graphics screens through `ctl screenshot` against an
image computed here from what the program drew (pattern, characters from
the BIOS's font tables, the scroll), through the mode's attribute
controller palette and the default DAC colours. Every PASS/FAIL line the
program prints must be PASS, and it must end with DONE and exit status 1.

usage: run-vgabios.py TESSERA MACHINES_DIR IMAGE FIRMWARE_BUILD_DIR
"""
import os
import sys

sys.dont_write_bytecode = True             # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vgatestlib import load_db, read_png, run_guest  # noqa: E402

tessera, machines, image, fwdir = sys.argv[1:5]
ROM = 'tessera-vgabios-s3.bin'

for f in ('/usr/share/seabios/bios-256k.bin',):
    if not os.path.exists(f):
        print('SKIP: %s not installed' % f)
        sys.exit(77)

# ---- what the guest wrote -----------------------------------------------------
TEXT = {
    'text3': {2: '   Hello from the Tessera VGA BIOS', 3: 'AB', 10: 'Line A', 11: 'Line B',
              12: 'YXXXX', 16: '', 17: 'down', 20: 'mid', 21: 'bot', 22: '',
              24: 'bottom row'},
    'text1': {1: '  Forty columns'},
    'text50': {45: '     Fifty rows'},
    'text7': {3: 'Monochrome text'},
}
CHECKS = ['getmode-3', 'bda-mode3', 'cursor', 'write-string-cursor', 'read-char-attr',
          'write-char-keeps-attr', 'dac-default', 'dac-set-get', 'palette-register',
          'pel-mask', 'font-info', 'ega-info', 'display-combination', 'functionality-state',
          'save-restore-state', 'getmode-1', 'font8x8-50-rows', 'getmode-7']
GMODES = [0x13, 0x12, 0x11, 0x10, 0x0F, 0x0E, 0x0D, 0x06, 0x05, 0x04]
for m in GMODES:
    CHECKS += ['read-pixel', 'gfx-read-char']

# mode: width, height, character height, kind, colour mask, AC 0-14h (IBM values)
AC_0D = [0, 1, 2, 3, 4, 5, 6, 7, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x01, 0, 0x0F, 0, 0]
AC_10 = [0, 1, 2, 3, 4, 5, 0x14, 7, 0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F, 0x01, 0, 0x0F, 0, 0]
MODES = {
    0x04: (320, 200, 8, 'cga', 3, [0, 0x13, 0x15, 0x17] + [0] * 12 + [0x01, 0, 0x03, 0, 0], 'cga'),
    0x05: (320, 200, 8, 'cga', 3, [0, 0x13, 0x15, 0x17] + [0] * 12 + [0x01, 0, 0x03, 0, 0], 'cga'),
    0x06: (640, 200, 8, 'cga', 1, [0] + [0x17] * 15 + [0x01, 0, 0x01, 0, 0], 'cga'),
    0x0D: (320, 200, 8, 'planar', 15, AC_0D, 'cga'),
    0x0E: (640, 200, 8, 'planar', 15, AC_0D, 'cga'),
    0x0F: (640, 350, 14, 'planar', 1,
           [0, 8, 0, 0, 0x18, 0x18, 0, 0, 0, 8, 0, 0, 0, 0x18, 0, 0, 0x01, 0, 0x01, 0, 0], 'mono'),
    0x10: (640, 350, 14, 'planar', 15, AC_10, 'ega'),
    0x11: (640, 480, 16, 'planar', 1, [0, 0x3F] * 8 + [0x01, 0, 0x0F, 0, 0], 'ega'),
    0x12: (640, 480, 16, 'planar', 15, AC_10, 'ega'),
    0x13: (320, 200, 8, 'packed', 255, None, 'vga'),
}


FONTS = {h: load_db(os.path.join(fwdir, 'font%d.inc' % h), 'font%d' % h) for h in (8, 14, 16)}
PALS = {n: load_db(os.path.join(fwdir, 'palettes.inc'), 'pal_' + n)
        for n in ('mono', 'cga', 'ega', 'vga')}


def expected_image(mode):
    w, h, ch, kind, mask, ac, pal = MODES[mode]
    px = [[0] * w for _ in range(h)]
    for y in range(24, 64):
        for x in range(16, 64):
            px[y][x] = (x + 2 * y) & mask
    font = FONTS[ch]

    def char(c, row, col, colour):
        for i in range(ch):
            bits = font[c * ch + i]
            for b in range(8):
                px[row * ch + i][col * 8 + b] = colour if bits & (0x80 >> b) else 0

    for i, c in enumerate('Mode'):
        char(ord(c), 1, 10 + i, mask)
    for i in range(3):
        char(ord('Z'), 2, 10 + i, 1)
    for i, c in enumerate('Up'):
        char(ord(c), 10, 2 + i, mask)
    for i in range(ch):                 # rows 9-10, columns 0-19 up one line
        px[9 * ch + i][0:160] = px[10 * ch + i][0:160]
        px[10 * ch + i][0:160] = [0] * 160
    dac = PALS[pal]
    dac = dac + [0] * (768 - len(dac))

    def rgb(i):
        return tuple((v << 2) | (v >> 4) for v in dac[i * 3:i * 3 + 3])

    lut = {}
    for c in range(256):
        if ac is None:
            lut[c] = rgb(c)
        else:
            p = ac[c & ac[0x12] & 0x0F]
            idx = (p & 0x0F) | (ac[0x14] & 3) << 4 if ac[0x10] & 0x80 else p & 0x3F
            lut[c] = rgb(idx | (ac[0x14] & 0x0C) << 4)
    return w, h, [[lut[c] for c in row] for row in px]


def compare(mode, shot):
    w, h, want = expected_image(mode)
    sw, sh, got = read_png(shot)
    if sw % w or sh % h:
        return 'screenshot %dx%d is not a multiple of %dx%d' % (sw, sh, w, h)
    sx, sy = sw // w, sh // h
    bad = []
    for y in range(sh):
        for x in range(sw):
            if got[y][x] != want[y // sy][x // sx]:
                bad.append((x // sx, y // sy, got[y][x], want[y // sy][x // sx]))
    if bad:
        return '%d pixels differ, first: %s' % (len(bad), bad[:4])
    return None


# ---- the run ------------------------------------------------------------------
def on_screen(name, ctl, tmp):
    fail = []
    if name in TEXT:
        lines = ctl('screentext').split('\n')
        for row, want in TEXT[name].items():
            got = lines[row].rstrip() if row < len(lines) else None
            if got != want:
                fail.append('%s row %d: %r, expected %r' % (name, row, got, want))
        if not fail:
            print('%s: screen text as written' % name)
    elif name.startswith('gfx-'):
        mode = int(name[4:], 16)
        shot = os.path.join(tmp, name + '.png')
        ctl('screenshot', shot)
        err = compare(mode, shot)
        if err:
            fail.append('mode %02Xh: %s' % (mode, err))
        else:
            print('mode %02Xh: screenshot matches the computed image' % mode)
    else:
        fail.append('unknown screen %s' % name)
    return fail


fail, seen, log, rc = run_guest(tessera, machines, image,
                                '  <device id="fwcfg" vgarom="%s"/>' % ROM, on_screen,
                                base='pc-vga')
if sorted(seen) != sorted(CHECKS):
    fail.append('checks reported %s, expected %s' % (sorted(seen), sorted(CHECKS)))
if fail:
    print('---- debug console (last lines)')
    print('\n'.join(log[-60:]))
for f in fail:
    print('FAIL:', f)
if not fail:
    print('vgabios: every standard mode set, read back and rendered as computed')
sys.exit(1 if fail else 0)
