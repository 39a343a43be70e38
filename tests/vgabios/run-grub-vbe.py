#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""GRUB's VBE support on the S3 Trio64 with Tessera's VGA BIOS: a GRUB
rescue ISO (Debian's grub-pc-bin, built here with grub-mkrescue) runs
`videoinfo` on the serial console (the VBE modes of the BIOS must be
listed, and the monitor's EDID it reads through VBE 4F15 with its
preferred mode 1024x768), switches gfxterm to 1024x768 (the screenshot
must be 1024x768 and not blank), and ends through the test-exit port.
Skips (77) while the machine has no `s3-trio64` device type.

usage: run-grub-vbe.py TESSERA MACHINES_DIR
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True             # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vgatestlib import read_png, run_guest  # noqa: E402

tessera, machines = sys.argv[1:3]
for need in ('/usr/share/seabios/bios-256k.bin', '/usr/lib/grub/i386-pc/vbe.mod'):
    if not os.path.exists(need):
        print('SKIP: %s not installed' % need)
        sys.exit(77)
for tool in ('grub-mkrescue', 'xorriso'):
    if not shutil.which(tool):
        print('SKIP: %s not installed' % tool)
        sys.exit(77)
if subprocess.run([tessera, 'inspect', 's3-trio64'], capture_output=True).returncode != 0:
    print('SKIP: no s3-trio64 device type in this build')
    sys.exit(77)

GRUB_CFG = '''set timeout=0
serial --unit=0 --speed=115200
terminal_input console
terminal_output serial
insmod vbe
insmod videoinfo
insmod iorw
insmod gfxterm
insmod read
echo VIDEOINFO-BEGIN
videoinfo
echo VIDEOINFO-END
set gfxmode=1024x768
terminal_output gfxterm serial
echo Tessera gfxterm
echo SCREEN gfxterm
read key
terminal_output serial
echo DONE
outb 0xf4 0
'''

work = tempfile.mkdtemp(prefix='tess-grubvbe-')
try:
    root = os.path.join(work, 'iso')
    os.makedirs(os.path.join(root, 'boot', 'grub'))
    with open(os.path.join(root, 'boot', 'grub', 'grub.cfg'), 'w') as f:
        f.write(GRUB_CFG)
    iso = os.path.join(work, 'grub.iso')
    r = subprocess.run(['grub-mkrescue', '-d', '/usr/lib/grub/i386-pc', '-o', iso, root],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        print('FAIL: grub-mkrescue: ' + r.stderr)
        sys.exit(1)

    def on_screen(name, ctl, tmp):
        shot = os.path.join(tmp, name + '.png')
        ctl('screenshot', shot)
        w, h, rows = read_png(shot)
        if (w, h) != (1024, 768):
            return ['gfxterm screenshot %dx%d, expected 1024x768' % (w, h)]
        lit = sum(1 for row in rows for p in row if p != (0, 0, 0))
        if lit < 100:
            return ['gfxterm screen is blank (%d lit pixels)' % lit]
        print('gfxterm: 1024x768 with text on it')
        return []

    fail, seen, log, rc = run_guest(tessera, machines, iso,
                                    '  <device id="fwcfg" vgarom=""/>\n  <remove id="vga"/>\n'
                                    '  <device type="s3-trio64" id="s3"/>', on_screen,
                                    cdrom=True, console='serial')
    text = '\n'.join(log)
    m = re.search(r'VIDEOINFO-BEGIN(.*)VIDEOINFO-END', text, re.S)
    if not m:
        fail.append('no videoinfo output')
    else:
        info = m.group(1)
        for w, h in ((640, 480), (800, 600), (1024, 768)):
            if not re.search(r'0x1[0-9a-f]{2} +%d x +%d x ' % (w, h), info):
                fail.append('videoinfo lists no %dx%d mode' % (w, h))
        if not re.search(r'VBE info:\s+version: 2\.0', info):
            fail.append('videoinfo does not report VBE 2.0')
        # GRUB reads the monitor's EDID through INT 10h 4F15 (the S3's DDC)
        if not re.search(r'EDID version: 1\.3', info):
            fail.append('videoinfo reports no EDID 1.3 (VBE 4F15)')
        elif not re.search(r'Preferred mode: 1024x768', info):
            fail.append('videoinfo: the EDID preferred mode is not 1024x768')
        else:
            print('GRUB: EDID 1.3 read through VBE 4F15, preferred mode 1024x768')
finally:
    shutil.rmtree(work, ignore_errors=True)
if fail:
    print('---- serial console (last lines)')
    print('\n'.join(log[-60:]))
for f in fail:
    print('FAIL:', f)
if not fail:
    print('GRUB: videoinfo lists the VBE modes, gfxterm runs at 1024x768')
sys.exit(1 if fail else 0)
