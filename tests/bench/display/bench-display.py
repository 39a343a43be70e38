#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Host CPU cost of the display, Tessera next to QEMU in one run.

The same guest disk (display.asm) boots on Tessera's pc machine (the S3
Trio64 with Tessera's VGA BIOS) and on QEMU's pc with its std VGA
(SeaVGABIOS), three ways:
  text      mode 03h, a screen of text, the cursor blinking, guest idle
  graphics  VBE 1024x768x16 drawn once, guest idle
  change    the same mode, the whole framebuffer rewritten 60 times a second
each with two front ends:
  headless  Tessera --display none; QEMU -display none
  window    Tessera's SDL window on Xvfb (presenting at its normal rate);
            QEMU's VNC server with a viewer (a minimal RFB client here,
            raw encoding, always asking for the next update), since this
            QEMU has no SDL; skipped without Xvfb
From the guest's READY on, the emulator process's CPU time (user + system,
/proc/PID/stat, all threads) is read over SECONDS of wall time and shown as
a share of one core; the change case also gives the frames the guest
completed per second. Ratios are Tessera / QEMU (below 1: Tessera costs
less). Goals (issue 14): a static screen under 1% of a core; a full-screen
update at least as fast as QEMU's.

usage: bench-display.py TESSERA TEXT.img GRAPHICS.img CHANGE.img [SECONDS]
Exit status 77 when QEMU or SeaBIOS is missing.
"""
import os
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

TICK = os.sysconf('SC_CLK_TCK')


def cpu_seconds(pid):
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK       # utime, stime


def wait_text(path, text, proc, timeout):
    """Until TEXT appears in the file PATH (the guest's debug console)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with open(path, 'rb') as f:
                if text in f.read():
                    return
        except FileNotFoundError:
            pass
        if proc.poll() is not None:
            raise RuntimeError('the emulator exited (status %s) before %r' % (proc.returncode, text))
        if time.monotonic() > deadline:
            raise RuntimeError('no %r within %d s' % (text, timeout))
        select.select([], [], [], 0.05)


class Rfb(threading.Thread):
    """A VNC viewer that keeps asking for updates and discards them."""

    def __init__(self, path, proc):
        super().__init__(daemon=True)
        self.path, self.proc, self.stop, self.updates = path, proc, False, 0

    def recv(self, n):
        b = b''
        while len(b) < n:
            c = self.s.recv(n - len(b))
            if not c:
                raise EOFError
            b += c
        return b

    def run(self):
        try:
            self.viewer()
        except (EOFError, OSError):
            pass

    def viewer(self):
        deadline = time.monotonic() + 60
        while not os.path.exists(self.path):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                return
            select.select([], [], [], 0.05)
        self.s = socket.socket(socket.AF_UNIX)
        self.s.connect(self.path)
        self.recv(12)
        self.s.sendall(b'RFB 003.008\n')
        n = self.recv(1)[0]
        if 1 not in self.recv(n):
            return
        self.s.sendall(b'\x01')
        self.recv(4)
        self.s.sendall(b'\x01')                              # shared
        w, h = struct.unpack('>HH', self.recv(4))
        bpp = self.recv(16)[0]
        self.recv(struct.unpack('>I', self.recv(4))[0])
        # raw, and DesktopSize (-223) for mode switches
        self.s.sendall(struct.pack('>BxHii', 2, 2, 0, -223))
        incremental = 0
        while not self.stop:
            self.s.sendall(struct.pack('>BBHHHH', 3, incremental, 0, 0, w, h))
            incremental = 1
            t = self.recv(1)[0]
            if t == 0:
                nrects = struct.unpack('>xH', self.recv(3))[0]
                for _ in range(nrects):
                    x, y, rw, rh, enc = struct.unpack('>HHHHi', self.recv(12))
                    if enc == 0:
                        left = rw * rh * bpp // 8
                        while left:
                            left -= len(self.recv(min(left, 1 << 20)))
                    elif enc == -223:
                        w, h, incremental = rw, rh, 0
                self.updates += 1
            elif t == 1:
                self.recv(3)
                self.recv(6 * struct.unpack('>H', self.recv(2))[0])
            elif t == 3:
                self.recv(3)
                self.recv(struct.unpack('>I', self.recv(4))[0])
            elif t != 2:
                return


def measure(argv, env, debug, seconds, rfb=None):
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    viewer = None
    try:
        if rfb:
            viewer = Rfb(rfb, proc)
            viewer.start()
        wait_text(debug, b'READY', proc, 600)
        time.sleep(1.0)                     # the mode set settles, the window maps
        c0, t0 = cpu_seconds(proc.pid), time.monotonic()
        d0 = open(debug, 'rb').read().count(b'.')
        time.sleep(seconds)                 # the measured interval itself
        c1, t1 = cpu_seconds(proc.pid), time.monotonic()
        d1 = open(debug, 'rb').read().count(b'.')
        if proc.poll() is not None:
            raise RuntimeError('the emulator exited during the measurement')
        return (c1 - c0) / (t1 - t0), (d1 - d0) * 60 / (t1 - t0)
    finally:
        if viewer:
            viewer.stop = True
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def start_xvfb():
    if not shutil.which('Xvfb'):
        return None, None
    r, w = os.pipe()
    x = subprocess.Popen(['Xvfb', '-displayfd', str(w), '-screen', '0', '1280x1024x24',
                          '-nolisten', 'tcp'], pass_fds=(w,),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(w)
    num = b''
    while not num.endswith(b'\n'):
        c = os.read(r, 16)
        if not c:
            break
        num += c
    os.close(r)
    if not num.strip():
        x.kill()
        x.wait()
        return None, None
    return x, ':' + num.decode().strip()


def main():
    if len(sys.argv) < 5:
        print(__doc__)
        return 2
    tessera = os.path.abspath(sys.argv[1])
    images = dict(zip(('text', 'graphics', 'change'), sys.argv[2:5]))
    seconds = float(sys.argv[5]) if len(sys.argv) > 5 else 10.0
    qemu = shutil.which('qemu-system-i386')
    if not qemu or not os.path.exists('/usr/share/seabios/bios-256k.bin'):
        print('SKIP: qemu-system-i386 or SeaBIOS missing')
        return 77
    tmp = tempfile.mkdtemp(prefix='tess-bench-display-')
    xvfb, dpy = start_xvfb()
    try:
        fronts = ['headless'] + (['window'] if dpy else [])
        if not dpy:
            print('(no Xvfb: the window rows are left out)')
        rows = []
        for case in ('text', 'graphics', 'change'):
            for front in fronts:
                disk = os.path.join(tmp, 'disk.img')
                shutil.copyfile(images[case], disk)
                debug = os.path.join(tmp, 'debug.log')
                env = dict(os.environ)
                env.pop('DISPLAY', None)
                if front == 'window':
                    env['DISPLAY'] = dpy
                    env['SDL_AUDIODRIVER'] = 'dummy'

                if os.path.exists(debug):
                    os.unlink(debug)
                t = measure([tessera, 'run', '--disk', disk + ',format=raw', '--serial', 'null',
                             '--debugcon', 'file:' + debug,
                             '--display', 'none' if front == 'headless' else 'sdl'],
                            env, debug, seconds)

                os.unlink(debug)
                vnc = os.path.join(tmp, 'vnc')
                if os.path.exists(vnc):
                    os.unlink(vnc)
                q = measure([qemu, '-nodefaults', '-machine', 'pc', '-m', '128', '-vga', 'std',
                             '-drive', 'file=%s,format=raw,if=ide' % disk,
                             '-debugcon', 'file:' + debug, '-no-reboot'] +
                            (['-display', 'none'] if front == 'headless'
                             else ['-display', 'none', '-vnc', 'unix:' + vnc]),
                            env, debug, seconds, rfb=vnc if front == 'window' else None)
                rows.append((case, front, t, q))
                print('%-9s %-9s tessera %6.2f%% %s  qemu %6.2f%% %s' % (
                    case, front, 100 * t[0], '%5.1f fps' % t[1] if case == 'change' else '',
                    100 * q[0], '%5.1f fps' % q[1] if case == 'change' else ''), flush=True)
    finally:
        if xvfb:
            xvfb.terminate()
            xvfb.wait()
        shutil.rmtree(tmp, ignore_errors=True)

    print('\nhost CPU, share of one core (%g s measured after READY):' % seconds)
    print('%-9s %-9s %10s %10s %8s %12s %12s' % ('screen', 'front end', 'tessera', 'qemu',
                                                  'ratio', 'tess fps', 'qemu fps'))
    for case, front, t, q in rows:
        ratio = t[0] / q[0] if q[0] > 0 else float('inf')
        fps = ('%12.1f %12.1f' % (t[1], q[1])) if case == 'change' else ''
        print('%-9s %-9s %9.2f%% %9.2f%% %8.2f %s' % (case, front, 100 * t[0], 100 * q[0],
                                                      ratio, fps))
    print('\ngoals: static screen (text, graphics) under 1% of a core; full-screen change')
    print('at least as fast as QEMU (frames per second and CPU per frame):')
    for case, front, t, q in rows:
        if case != 'change':
            print('  %-8s %-8s %s' % (case, front, 'met' if t[0] < 0.01 else
                                     'MISSED (%.2f%%)' % (100 * t[0])))
        else:
            tpf = t[0] / t[1] * 1000 if t[1] else float('inf')
            qpf = q[0] / q[1] * 1000 if q[1] else float('inf')
            print('  change   %-8s %.1f vs %.1f fps, %.2f vs %.2f ms of CPU per frame: %s' % (
                front, t[1], q[1], tpf, qpf,
                'met' if t[1] >= q[1] * 0.98 and tpf <= qpf else 'MISSED'))
    return 0


if __name__ == '__main__':
    sys.exit(main())
