#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""VBE on the S3 Trio64 with Tessera's VGA BIOS as its PCI expansion ROM:
vbetest.img sets VBE modes, writes 64 scan lines of a byte pattern through
the bank window and reads the VBE state back, and calls the 4F0A
protected-mode functions from 32-bit protected mode; each screenshot must show
the pattern as the mode's pixel format decodes it (8 bpp through the
default DAC, 15/16 bpp 5:5:5/5:6:5, 32 bpp B,G,R,X bytes) and black below.
4F15 (VBE/DDC) reads the monitor's EDID over the S3's DDC pins: the guest
checks it and prints it, and it is checked here again (header, version,
checksum, monitor name).
Skips (77) while the machine has no `s3-trio64` device type.

The card has 2 MiB (the guest checks the memory size and that modes
needing more are not offered); CHIP trio32 runs the Trio32 with its own
ROM image (PCI device 8810 in its PCIR).

In the last mode, the machine is also saved (`ctl save`) and restored in
a new process: its screenshot there must be the same picture, so the
S3's state (extended registers, PLLs, DAC, video memory) survives a
snapshot.

usage: run-vbe.py TESSERA MACHINES_DIR IMAGE FIRMWARE_BUILD_DIR [trio64|trio32]
"""
import os
import select
import subprocess
import sys

sys.dont_write_bytecode = True             # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vgatestlib import load_db, read_png, run_guest  # noqa: E402

tessera, machines, image, fwdir = sys.argv[1:5]
chip = sys.argv[5] if len(sys.argv) > 5 else 'trio64'
rom = 'tessera-vgabios-s3.bin' if chip == 'trio64' else 'tessera-vgabios-trio32.bin'
if not os.path.exists('/usr/share/seabios/bios-256k.bin'):
    print('SKIP: seabios not installed')
    sys.exit(77)
if subprocess.run([tessera, 'inspect', 's3-trio64'], capture_output=True).returncode != 0:
    print('SKIP: no s3-trio64 device type in this build')
    sys.exit(77)

MODES = {0x101: (640, 480, 8), 0x110: (640, 480, 15), 0x111: (640, 480, 16),
         0x112: (640, 480, 32), 0x103: (800, 600, 8), 0x105: (1024, 768, 8),
         0x117: (1024, 768, 16)}
CHECKS = ['vbe-info', 'vbe-mode-list', 'vbe-dac-width', 'vbe-state-size', 'vbe-back-to-text',
          'vbe-dac-8bit-refused', 'vbe-pm-table', 'vbe-pm-window', 'vbe-pm-display-start',
          'vbe-pm-palette', 'vbe-ddc-capabilities', 'vbe-ddc-read-edid',
          'vbe-ddc-preferred-1024x768', 'vbe-ddc-no-block-1']
CHECKS += ['vbe-mode-info', 'vbe-set-mode', 'vbe-get-mode', 'vbe-window', 'vbe-scanline',
           'vbe-display-start'] * len(MODES)
DAC = load_db(os.path.join(fwdir, 'palettes.inc'), 'pal_vga')


def c6(v):
    return (v << 2) | (v >> 4)


def pixel(line, x, y, bpp):
    """Colour of pixel x on line y: bytes (o + 3y) & 255 in lines 0-63."""
    if y >= 64:
        return (0, 0, 0)
    nbytes = (bpp + 7) // 8
    b = [(x * nbytes + i + 3 * y) & 0xFF for i in range(nbytes)]
    if bpp == 8:
        return tuple(c6(v) for v in DAC[b[0] * 3:b[0] * 3 + 3])
    if bpp == 32:
        return (b[2], b[1], b[0])
    w = b[0] | b[1] << 8
    if bpp == 15:
        r, g, bl = (w >> 10) & 31, (w >> 5) & 31, w & 31
        return ((r << 3) | (r >> 2), (g << 3) | (g >> 2), (bl << 3) | (bl >> 2))
    r, g, bl = (w >> 11) & 31, (w >> 5) & 63, w & 31
    return ((r << 3) | (r >> 2), (g << 2) | (g >> 4), (bl << 3) | (bl >> 2))


def on_screen(name, ctl, tmp):
    mode = int(name[4:], 16)
    if not name.startswith('vbe-') or mode not in MODES:
        return ['unknown screen %s' % name]
    w, h, bpp = MODES[mode]
    shot = os.path.join(tmp, name + '.png')
    ctl('screenshot', shot)
    sw, sh, got = read_png(shot)
    if (sw, sh) != (w, h):
        return ['mode %Xh: screenshot %dx%d, expected %dx%d' % (mode, sw, sh, w, h)]
    # 15/16 bpp: a display may widen 5/6-bit channels without replicating
    # the top bits; allow that much and no more
    tol = 0 if bpp in (8, 32) else 7
    bad = 0
    first = None
    for y in range(h):
        for x in range(w):
            want = pixel(None, x, y, bpp)
            if any(abs(a - b) > tol for a, b in zip(got[y][x], want)):
                bad += 1
                first = first or (x, y, got[y][x], want)
    if bad:
        return ['mode %Xh: %d pixels differ, first %s' % (mode, bad, first)]
    print('mode %Xh: screenshot matches the computed image' % mode)
    if mode == LAST_MODE:
        return restored(ctl, tmp, mode, got)
    return []


LAST_MODE = list(MODES)[-1]


def restored(ctl, tmp, mode, want):
    """Save the machine, restore it paused in a new process and compare
    that process's screenshot with WANT."""
    snap = os.path.join(tmp, 'vbe.snap')
    ctl('save', snap)
    sock = os.path.join(tmp, 'ctl-restored')
    shot = os.path.join(tmp, 'restored.png')
    # --ready-fd: the pipe says READY once the control socket answers, or
    # closes empty if the restore failed.
    ready_r, ready_w = os.pipe()
    proc = subprocess.Popen([tessera, 'run', '--restore', snap, '--paused', '--display', 'none',
                             '--serial', 'null', '--debugcon', 'null', '--control', sock,
                             '--ready-fd', str(ready_w)], pass_fds=(ready_w,),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    os.close(ready_w)
    try:
        ready = b''
        with os.fdopen(ready_r, 'rb') as f:
            if select.select([f], [], [], 120)[0]:
                ready = f.read()        # to EOF: run closes it after the line
        if ready != b'READY\n':
            if proc.poll() is None:
                return ['mode %Xh: the restored machine opened no control socket' % mode]
            return ['mode %Xh: restoring the snapshot failed: %s'
                    % (mode, proc.stdout.read().decode(errors='replace'))]
        r = subprocess.run([tessera, 'ctl', sock, 'screenshot', shot], capture_output=True,
                           text=True, timeout=60)
        subprocess.run([tessera, 'ctl', sock, 'quit'], capture_output=True, timeout=60)
        proc.wait(timeout=60)
        if r.returncode != 0:
            return ['mode %Xh: screenshot after restore: %s' % (mode, r.stdout + r.stderr)]
        sw, sh, got = read_png(shot)
        if (sw, sh) != (len(want[0]), len(want)) or got != want:
            return ['mode %Xh: after save and restore the screen differs (%dx%d)' % (mode, sw, sh)]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    print('mode %Xh: saved, restored in a new process, the same picture' % mode)
    return []


fail, seen, log, rc = run_guest(tessera, machines, image,
                                '  <device id="fwcfg" vgarom=""/>\n  <remove id="vga"/>\n'
                                '  <device type="s3-trio64" id="s3" chip="%s" vram="2M" rom="%s"/>'
                                % (chip, rom), on_screen, disk_readonly=True)
# The EDID block the guest read through 4F15, as VESA E-EDID 1.3 lays it
# out: header, version, the checksum, the monitor name descriptor.
edid = [l[5:].strip() for l in log if l.startswith('EDID ')]
if len(edid) != 1 or len(edid[0]) != 256:
    fail.append('no EDID line from the guest (%d)' % len(edid))
else:
    e = bytes.fromhex(edid[0])
    if e[:8] != b'\x00\xff\xff\xff\xff\xff\xff\x00' or e[18:20] != b'\x01\x03' or sum(e) % 256:
        fail.append('EDID read through INT 10h 4F15: bad header, version or checksum: %s' % edid[0])
    names = [e[o + 5:o + 18] for o in (54, 72, 90, 108) if e[o:o + 5] == b'\x00\x00\x00\xfc\x00']
    if not names or not names[0].startswith(b'Tessera'):
        fail.append('EDID: no monitor name "Tessera" (%r)' % names)
    else:
        print('EDID through INT 10h 4F15: header, version 1.3, checksum, name %r' % names[0])
if sorted(seen) != sorted(CHECKS):
    fail.append('checks reported %s, expected %s' % (sorted(seen), sorted(CHECKS)))
if fail:
    print('---- debug console (last lines)')
    print('\n'.join(log[-60:]))
for f in fail:
    print('FAIL:', f)
if not fail:
    print('vgabios VBE (%s): every mode set, read back and rendered as computed' % chip)
sys.exit(1 if fail else 0)
