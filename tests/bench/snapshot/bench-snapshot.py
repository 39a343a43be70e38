#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Suspend/resume benchmark: Tessera next to QEMU, in one run.

The guest: the PC platform with SeaBIOS and no disk, after boot (SeaBIOS
has printed "No bootable device"), with 128 MiB and 1 GiB of RAM.

  Tessera  suspend: `--suspend-at N` (deterministic, past the boot), the
           save's own time from its debug line; resume: `--restore` of that
           file, paused with a control socket: wall time from exec until
           the socket answers `status` (process start, plugins and RAM
           included), and the load's own time from its debug line.
  QEMU     suspend: QMP `stop`, then `migrate "exec:cat > FILE"` until
           query-migrate says completed; resume: `-incoming "exec:cat FILE"`
           with -S: wall time from exec until QMP `query-status` leaves
           "inmigrate" (process start included).

Each measurement is the median of RUNS runs (default 3); file sizes are
exact. Prints a table and the ratios (QEMU / Tessera: above 1 means
Tessera is smaller or faster).

usage: bench-snapshot.py TESSERA [RUNS]
"""
import json
import os
import re
import select
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

SEABIOS = "/usr/share/seabios/bios-256k.bin"
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
BOOT_INSNS = 400_000_000    # SeaBIOS has given up on booting (deterministic, 1 ns per insn)


def wait_for(pred, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        # QEMU's progress (its QMP socket, a migration): nothing to block
        # on but polling
        time.sleep(0.005)
    raise RuntimeError("timed out waiting for " + what)


class Qmp:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.connect(path)
        self.f = self.s.makefile("rw")
        json.loads(self.f.readline())
        self.cmd("qmp_capabilities")

    def cmd(self, name, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.f.write(json.dumps(msg) + "\n")
        self.f.flush()
        while True:
            r = json.loads(self.f.readline())
            if "return" in r or "error" in r:
                return r

    def close(self):
        self.s.close()


def try_connect(path):
    try:
        return Qmp(path)
    except OSError:
        return None


def tessera_once(tessera, work, mem):
    xml = os.path.join(work, "t.xml")
    with open(xml, "w") as f:
        f.write('<machine name="bench" base="pc"><memory size="%dM"/></machine>\n' % mem)
    snap = os.path.join(work, "t.snap")
    env = dict(os.environ, G_MESSAGES_DEBUG="all",
               TESSERA_MACHINE_PATH=os.path.join(ROOT, "machines"))
    out = subprocess.run([tessera, "run", xml, "--deterministic", "--display", "none",
                          "--serial", "null", "--debugcon", "file:" + os.path.join(work, "t.log"),
                          "--suspend-at", str(BOOT_INSNS), "--suspend-file", snap],
                         env=env, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise RuntimeError("tessera suspend failed: " + out.stderr + out.stdout)
    with open(os.path.join(work, "t.log"), errors="replace") as f:
        if "No bootable device" not in f.read():
            raise RuntimeError("tessera: SeaBIOS had not finished booting at the snapshot")
    save = float(re.search(r"saved .* in ([0-9.]+) s", out.stdout + out.stderr).group(1))
    size = os.path.getsize(snap)
    sock = os.path.join(work, "t.sock")
    ready_r, ready_w = os.pipe()
    t0 = time.monotonic()
    p = subprocess.Popen([tessera, "run", "--restore", snap, "--paused", "--display", "none",
                          "--debugcon", "null", "--control", sock, "--ready-fd", str(ready_w)],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         pass_fds=(ready_w,))
    os.close(ready_w)
    # --ready-fd: READY once the socket listens (EOF if the restore failed),
    # then the socket's first answer ends the measurement.
    with os.fdopen(ready_r, "rb") as f:
        if not select.select([f], [], [], 120)[0] or f.read() != b"READY\n":
            raise RuntimeError("tessera restore failed: " + p.communicate(timeout=60)[0])
    r = subprocess.run([tessera, "ctl", sock, "status"], capture_output=True, text=True)
    if r.returncode != 0 or "paused" not in r.stdout:
        raise RuntimeError("the restored machine answered: " + r.stdout + r.stderr)
    resume_wall = time.monotonic() - t0
    subprocess.run([tessera, "ctl", sock, "quit"], capture_output=True)
    log = p.communicate(timeout=60)[0]
    load = float(re.search(r"restored .* in ([0-9.]+) s", log).group(1))
    return save, load, resume_wall, size


def qemu_once(work, mem):
    snap = os.path.join(work, "q.snap")
    log = os.path.join(work, "q.log")
    sock = os.path.join(work, "q.sock")
    for f in (snap, log, sock):
        if os.path.exists(f):
            os.unlink(f)
    base = ["qemu-system-i386", "-M", "pc", "-accel", "tcg", "-m", str(mem), "-display", "none",
            "-nodefaults", "-bios", SEABIOS, "-qmp", "unix:%s,server=on,wait=off" % sock]
    p = subprocess.Popen(base + ["-chardev", "file,id=d,path=" + log,
                                 "-device", "isa-debugcon,iobase=0x402,chardev=d"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def booted():
            try:
                with open(log, errors="replace") as f:
                    return "No bootable device" in f.read()
            except OSError:
                return False
        wait_for(booted, 120, "QEMU's SeaBIOS boot")
        q = wait_for(lambda: try_connect(sock), 30, "QEMU's QMP socket")
        q.cmd("stop")
        t0 = time.monotonic()
        r = q.cmd("migrate", uri="exec:cat > " + snap)
        if "error" in r:
            raise RuntimeError("QEMU migrate: %s" % r)
        wait_for(lambda: q.cmd("query-migrate")["return"].get("status") == "completed", 300,
                 "QEMU's migration")
        save = time.monotonic() - t0
        q.cmd("quit")
        q.close()
    finally:
        p.wait(timeout=60)
    size = os.path.getsize(snap)
    if os.path.exists(sock):
        os.unlink(sock)
    t0 = time.monotonic()
    p = subprocess.Popen(base + ["-S", "-incoming", "exec:cat " + snap],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        q = wait_for(lambda: try_connect(sock), 60, "QEMU's QMP socket")
        wait_for(lambda: q.cmd("query-status")["return"]["status"] != "inmigrate", 300,
                 "QEMU's incoming migration")
        resume_wall = time.monotonic() - t0
        q.cmd("quit")
        q.close()
    finally:
        p.wait(timeout=60)
    return save, None, resume_wall, size


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    tessera = os.path.abspath(sys.argv[1])
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    if not os.path.exists(SEABIOS):
        print("SKIP: seabios not installed")
        return 77
    have_qemu = shutil.which("qemu-system-i386") is not None
    print("suspend/resume after a SeaBIOS boot; median of %d runs" % runs)
    print("%-8s %6s %10s %10s %12s %12s" % ("", "RAM", "file", "suspend", "resume", "(load only)"))
    for mem in (128, 1024):
        res = {}
        for who in (["tessera", "qemu"] if have_qemu else ["tessera"]):
            samples = []
            for _ in range(runs):
                with tempfile.TemporaryDirectory() as work:
                    samples.append(tessera_once(tessera, work, mem) if who == "tessera"
                                   else qemu_once(work, mem))
            med = [statistics.median(x[i] for x in samples) if samples[0][i] is not None else None
                   for i in range(3)]
            res[who] = med + [samples[0][3]]
            print("%-8s %5dM %9.1fK %9.3fs %11.3fs %12s" % (
                who, mem, res[who][3] / 1024, res[who][0], res[who][2],
                "%.3fs" % res[who][1] if res[who][1] is not None else "-"))
        if have_qemu:
            t, q = res["tessera"], res["qemu"]
            print("%-8s %5dM  QEMU/Tessera: file %.1fx, suspend %.2fx, resume %.2fx" % (
                "ratio", mem, q[3] / t[3], q[0] / t[0], q[2] / t[2]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
