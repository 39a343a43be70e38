# SPDX-License-Identifier: LGPL-2.1-or-later
"""Shared by the VGA BIOS tests: reading the generated nasm tables, a PNG
decoder for `ctl screenshot`, and the run of a guest program that talks
over the debug console (PASS/FAIL name, SCREEN name, DONE)."""
import os
import re
import select
import shutil
import struct
import subprocess
import tempfile
import time
import zlib


def load_db(path, label):
    """The bytes after LABEL: in a generated nasm include (db lines)."""
    out, on = [], False
    for line in open(path):
        line = line.split(';')[0].strip()
        if line.endswith(':'):
            on = line[:-1] == label
            continue
        if on and line.startswith('db '):
            out += [int(v, 0) for v in line[3:].split(',')]
    return out


def read_png(path):
    data = open(path, 'rb').read()
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        raise ValueError('not a PNG')
    pos, idat, w = 8, b'', 0
    while pos < len(data):
        n, typ = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if typ == b'IHDR':
            w, h, depth, ctype = struct.unpack('>IIBB', body[:10])
            if depth != 8 or ctype not in (2, 6):
                raise ValueError('PNG type %d/%d unsupported here' % (depth, ctype))
            bpp = 3 if ctype == 2 else 4
        elif typ == b'IDAT':
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev, i = [], bytearray(stride), 0
    for _ in range(h):
        f = raw[i]
        line = bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 0xFF
            elif f == 2:
                line[x] = (line[x] + b) & 0xFF
            elif f == 3:
                line[x] = (line[x] + ((a + b) >> 1)) & 0xFF
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[x] = (line[x] + pr) & 0xFF
        rows.append([tuple(line[x:x + 3]) for x in range(0, stride, bpp)])
        prev = line
    return w, h, rows



ANSI = re.compile(r'\x1b\[[0-9;?]*[A-Za-z]')


def run_guest(tessera, machines, image, devices, on_screen, timeout=480, cdrom=False,
              console='debugcon', base='pc', disk_readonly=False):
    """Boot IMAGE (a hard disk, or with cdrom=True an ISO) on
    machines/BASE.xml plus DEVICES (machine-file XML), reading the guest's
    lines from CONSOLE ('debugcon' or 'serial'); call
    on_screen(name, ctl, tmpdir) -> list of failures for each SCREEN line
    (then press a key), and return (failures, checks seen, log lines, exit status).
    disk_readonly: the hard disk read-only (shared, so a second process
    restoring a snapshot of the machine can open it too)."""
    deadline = time.monotonic() + timeout
    tmp = tempfile.mkdtemp(prefix='tess-vgabios-')
    fail, seen, log, rc = [], [], [], None
    proc = None
    try:
        disk = os.path.join(tmp, 'disk.img')
        if cdrom:
            disk = image
            drive = '<drive bus="1" unit="0" media="cdrom"><disk format="raw" file="%s" readonly="on"/></drive>'
        else:
            shutil.copyfile(image, disk)
            drive = ('<drive bus="0" unit="0"><disk format="raw" file="%s"' +
                     (' readonly="on"' if disk_readonly else '') + '/></drive>')
        drive = drive % disk
        with open(os.path.join(tmp, 'vm.xml'), 'w') as f:
            f.write('''<machine name="vgabios" base="%s">
%s
  <device id="ide0">
    %s
  </device>
</machine>
''' % (base, devices, drive))
        sock = os.path.join(tmp, 'ctl')
        env = dict(os.environ, TESSERA_MACHINE_PATH=machines)
        proc = subprocess.Popen([tessera, 'run', os.path.join(tmp, 'vm.xml'), '--deterministic',
                                 '--display', 'none', '--control', sock] +
                                (['--serial', 'null', '--debugcon', 'stdio'] if console == 'debugcon'
                                 else ['--serial', 'stdio', '--debugcon', 'null']),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)

        def ctl(*args):
            r = subprocess.run([tessera, 'ctl', sock] + list(args), capture_output=True,
                               text=True, timeout=60)
            if r.returncode != 0:
                raise RuntimeError('ctl %s: %s' % (' '.join(args), r.stdout + r.stderr))
            return r.stdout

        buf, done = b'', False
        while not done:
            left = deadline - time.monotonic()
            if left <= 0:
                fail.append('timed out')
                break
            r, _, _ = select.select([proc.stdout], [], [], left)
            if not r:
                continue
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                # the last line may end without a newline
                last = ANSI.sub('', buf.decode('latin-1')).strip('\r ')
                if last:
                    log.append(last)
                if last == 'DONE':
                    done = True
                else:
                    fail.append('tessera ended before DONE')
                break
            buf += chunk
            while b'\n' in buf:
                raw, buf = buf.split(b'\n', 1)
                line = ANSI.sub('', raw.decode('latin-1')).strip('\r ')
                log.append(line)
                m = re.match(r'^(PASS|FAIL) (\S+)$', line)
                if m:
                    seen.append(m.group(2))
                    if m.group(1) == 'FAIL':
                        fail.append('guest check %s failed' % m.group(2))
                    continue
                m = re.match(r'^SCREEN (\S+)$', line)
                if m:
                    fail += on_screen(m.group(1), ctl, tmp)
                    ctl('sendkey', 'ret')
                    continue
                if line == 'DONE':
                    done = True
        try:
            rc = proc.wait(timeout=max(1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            fail.append('tessera did not exit after DONE')
        if done and rc != 1:
            fail.append('exit status %s, expected 1' % rc)
    finally:
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    return fail, seen, log, rc
