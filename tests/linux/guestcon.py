#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Boot the real-guest ISO (scripts/guest-assets.sh) on Tessera or on QEMU
and drive it through its serial console and keyboard.

    guestcon.py [options] linux  FLAVOUR   686 or 686-pae: GRUB -> Debian's
                                           kernel -> busybox shell; type
                                           commands, check their output,
                                           `poweroff` must end the run with 0
    guestcon.py [options] menu             GRUB's menu driven with the arrow
                                           keys on the PS/2 keyboard
    guestcon.py [options] memtest          memtest86+ (ia32) to a full pass

options: --emu tessera|qemu, --tessera PATH, --iso PATH (default: run
scripts/guest-assets.sh), --timeout SECONDS (hard bound for each wait),
--memory MIB, --set ID.PROP=VALUE (Tessera only).

The same script, with the same checks, runs on both emulators: QEMU
(qemu-system-i386 -cpu pentium3, TCG) is the oracle that proves the
assets and the checks independently of Tessera's CPU.

Nothing here sleeps to wait for the guest: every wait reads the serial
stream (or polls the screen through the control socket) until a pattern
shows, bounded by a deadline. Exit status: 0 pass, 1 fail, 77 skip.
"""

import argparse
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SKIP = 77
PROMPT = b"tessera-guest# "


class Fail(Exception):
    pass


class Skip(Exception):
    pass


def log(msg):
    print(f"[{time.monotonic() - T0:7.2f}s] {msg}", flush=True)


T0 = time.monotonic()


# ---- assets -----------------------------------------------------------------

def guest_assets():
    """Build or reuse the ISO; returns the script's variables."""
    script = os.path.join(ROOT, "scripts", "guest-assets.sh")
    r = subprocess.run([script, "--env"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    sys.stderr.write(r.stderr)
    if r.returncode == SKIP:
        raise Skip("guest assets unavailable: " + r.stderr.strip().splitlines()[-1]
                   if r.stderr.strip() else "guest assets unavailable")
    if r.returncode != 0:
        raise Fail(f"scripts/guest-assets.sh failed ({r.returncode})")
    env = {}
    for line in r.stdout.splitlines():
        k, _, v = line.partition("=")
        env[k] = v
    return env


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_ready(cmd, timeout=60, **popen_kw):
    """Start `tessera run` CMD with --ready-fd and block until it is ready:
    (proc, True) once its sockets and ports listen, (proc, False) if it
    failed first (it closed the descriptor with nothing written)."""
    r, w = os.pipe()
    try:
        proc = subprocess.Popen([*cmd, "--ready-fd", str(w)], pass_fds=(w,), **popen_kw)
    finally:
        os.close(w)
    data = b""
    try:
        while True:
            if not select.select([r], [], [], timeout)[0]:
                proc.kill()
                proc.wait()
                raise Fail(f"tessera was not ready within {timeout} s")
            chunk = os.read(r, 64)
            if not chunk:
                break
            data += chunk
    finally:
        os.close(r)
    return proc, data == b"READY\n"


# ---- the console ------------------------------------------------------------

class Console:
    """The guest's first serial port as a byte stream with expect()."""

    def __init__(self, sock, transcript):
        self.sock = sock
        self.buf = b""
        self.pos = 0                     # expect() looks from here on
        self.transcript = transcript

    def _read(self, deadline, proc):
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        r, _, _ = select.select([self.sock], [], [], min(left, 1.0))
        if not r:
            if proc is not None and proc.poll() is not None:
                raise Fail(f"the emulator exited ({proc.returncode}) while waiting")
            return True
        data = self.sock.recv(65536)
        if not data:
            raise Fail("the serial connection closed")
        self.buf += data
        self.transcript.write(data)
        self.transcript.flush()
        return True

    def expect(self, pattern, timeout, proc=None, what=None):
        """Wait for a regex (bytes) after the last match; return the match."""
        rx = re.compile(pattern) if isinstance(pattern, bytes) else pattern
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.buf, self.pos)
            if m:
                self.pos = m.end()
                return m
            if not self._read(deadline, proc):
                tail = self.buf[-600:].decode("latin-1")
                raise Fail(f"timeout ({timeout:.0f} s) waiting for {what or pattern!r}; "
                           f"last output:\n{tail}")

    def send(self, text):
        self.sock.sendall(text.encode() if isinstance(text, str) else text)


# ---- emulators --------------------------------------------------------------

class Emulator:
    """Start/stop one emulator with the ISO on the secondary IDE master
    (ide0 bus 1 unit 0) and its serial port reachable as a socket."""

    def __init__(self, args, iso, work):
        self.args = args
        self.iso = iso
        self.work = work
        self.proc = None
        self.out = open(os.path.join(work, "emulator.log"), "wb")
        self.transcript = open(os.path.join(work, "serial.log"), "wb")
        self.console = None

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise Fail(f"the emulator did not exit within {timeout:.0f} s")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def emulator_log(self):
        self.out.flush()
        with open(self.out.name, "rb") as f:
            return f.read()[-3000:].decode("utf-8", "replace")


class Tessera(Emulator):
    name = "tessera"

    # What tests/linux/e2e.py changes: the platform the machine extends,
    # devices to add, more `tessera run` options, a snapshot to resume.
    base = "pc"
    extra_xml = ""
    extra_args = ()
    restore = None

    def start(self):
        a = self.args
        xml = os.path.join(self.work, "guest.xml")
        with open(xml, "w") as f:
            f.write(f"""<?xml version="1.0"?>
<machine name="guest-test" base="{self.base}">
  {f'<memory size="{a.memory}M"/>' if a.memory else ''}
  <device id="ide0">
    <drive bus="1" unit="0" media="cdrom"><disk format="raw" file="{self.iso}" readonly="on"/></drive>
  </device>{self.extra_xml}
</machine>
""")
        self.ctl = os.path.join(self.work, "ctl")
        if os.path.exists(self.ctl):
            os.unlink(self.ctl)
        # Tessera listens on the port; start paused, connect, then resume,
        # so no byte of the guest's output is missed. --ready-fd says when
        # the serial port and the control socket listen.
        for attempt in range(5):
            port = free_port()
            cmd = [a.tessera, "run", *(("--restore", self.restore) if self.restore else (xml,)),
                   "--display", "none", "--paused",
                   "--serial", f"tcp:127.0.0.1:{port}", "--control", self.ctl, *self.extra_args]
            for s in a.set or []:
                cmd += ["--set", s]
            self.proc, ready = start_ready(cmd, stdout=self.out, stderr=subprocess.STDOUT)
            if ready:
                break
            self.proc.wait(timeout=60)
            if f"tcp:127.0.0.1:{port}" not in self.emulator_log():
                raise Fail("tessera could not start:\n" + self.emulator_log())
            # Lost the port to someone else between free_port and the bind: another.
        else:
            raise Fail("tessera could not start:\n" + self.emulator_log())
        self.console = Console(socket.create_connection(("127.0.0.1", port), timeout=10),
                               self.transcript)
        self.control("resume")

    def control(self, *words):
        r = subprocess.run([self.args.tessera, "ctl", self.ctl, *words], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=60)
        if r.returncode != 0:
            raise Fail(f"tessera ctl {' '.join(words)}: {r.stdout.strip()}")
        return r.stdout

    def sendkeys(self, keys):
        self.control("sendkey", *keys)

    def screentext(self):
        return self.control("screentext")

    def quit(self):
        if self.proc.poll() is None:
            self.control("quit")


class Qemu(Emulator):
    name = "qemu"
    QEMU_KEYS = {}
    extra_args = ()             # more qemu-system-i386 options (tests/bench/net)

    def start(self):
        a = self.args
        qemu = shutil.which("qemu-system-i386")
        if not qemu:
            raise Skip("qemu-system-i386 is not installed")
        lsn = socket.socket()
        lsn.bind(("127.0.0.1", 0))
        lsn.listen(1)
        port = lsn.getsockname()[1]
        self.mon_path = os.path.join(self.work, "mon")
        cmd = [qemu, "-accel", "tcg", "-cpu", "pentium3", "-m", str(a.memory or 128),
               "-display", "none", "-vga", "std", "-no-user-config", "-nodefaults",
               "-serial", f"tcp:127.0.0.1:{port}",
               "-monitor", f"unix:{self.mon_path},server=on,wait=off",
               "-drive", f"file={self.iso},if=ide,index=2,media=cdrom,readonly=on,format=raw",
               "-boot", "d", *self.extra_args]
        self.proc = subprocess.Popen(cmd, stdout=self.out, stderr=subprocess.STDOUT)
        lsn.settimeout(60)
        try:
            sock, _ = lsn.accept()
        except socket.timeout:
            self.stop()
            raise Fail("qemu did not connect its serial port:\n" + self.emulator_log())
        lsn.close()
        self.console = Console(sock, self.transcript)

    def monitor(self, line):
        s = socket.socket(socket.AF_UNIX)
        s.connect(self.mon_path)
        s.sendall(line.encode() + b"\n")
        s.shutdown(socket.SHUT_WR)
        out = b""
        s.settimeout(10)
        try:
            while True:
                d = s.recv(4096)
                if not d:
                    break
                out += d
        except socket.timeout:
            pass
        s.close()
        return out.decode("utf-8", "replace")

    def sendkeys(self, keys):
        # One key at a time, as `tessera ctl sendkey` spaces them.
        for k in keys:
            self.monitor(f"sendkey {self.QEMU_KEYS.get(k, k)}")

    def quit(self):
        if self.proc.poll() is None:
            self.monitor("quit")


# ---- scenarios --------------------------------------------------------------

GRUB_MENU = rb"memtest86\+ \(ia32\)|Marker: print and stop"


def wait_menu(emu, t):
    emu.console.expect(GRUB_MENU, t, emu.proc, "GRUB's menu")
    log("GRUB menu shown")


def run_linux(emu, assets, flavour):
    t = emu.args.timeout
    c = emu.console
    kver = assets["KVER_686" if flavour == "686" else "KVER_PAE"]
    wait_menu(emu, t)
    c.send("1" if flavour == "686" else "2")           # the entry's hotkey
    # /init prints the running kernel's release: that proves which entry
    # GRUB booted. (GRUB's own echo of its marker is not waited for: its
    # serial driver gives up on a busy transmitter after a fixed number of
    # polls, so on a fast-polling CPU a character of it can be lost.)
    m = c.expect(rb"TESSERA-INIT-DONE (\S+)\r?\n", t, emu.proc, "the initramfs's /init")
    if m.group(1).decode() != kver:
        raise Fail(f"GRUB booted {m.group(1).decode()}, not the {flavour} entry ({kver})")
    log(f"GRUB booted {flavour}")
    c.expect(re.escape(PROMPT), t, emu.proc, "the shell prompt")
    log("shell prompt")
    emu.at_prompt = time.monotonic()

    def run(cmd, pattern, what):
        c.send(cmd + "\n")
        m = c.expect(pattern, t, emu.proc, what)
        c.expect(re.escape(PROMPT), t, emu.proc, "the prompt after " + what)
        return m

    run("echo R$((6*7))R", rb"R42R", "shell arithmetic")
    m = run('echo "K:$(uname -r):K"', rb"K:([^:\r\n$]+):K", "uname -r")
    if m.group(1).decode() != kver:
        raise Fail(f"uname -r says {m.group(1).decode()}, the package is {kver}")
    log(f"uname -r: {kver}")
    m = run("grep -m1 'model name' /proc/cpuinfo | sed 's/^/CPU:/'", rb"CPU:model name\s*: ([^\r\n]+)\r?\n",
            "the CPU model in /proc/cpuinfo")
    log(f"CPU: {m.group(1).decode().strip()}")
    m = run("grep -m1 '^flags' /proc/cpuinfo | sed 's/^/FL:/'", rb"FL:flags\s*: ([^\r\n]*)\r?\n",
            "the CPU flags")
    flags = m.group(1).decode().split()
    for f in ("fpu", "cmov") + (("pae",) if flavour == "686-pae" else ()):
        if f not in flags:
            raise Fail(f"/proc/cpuinfo flags lack {f}: {' '.join(flags)}")
    # ACPI: the firmware's tables reached Linux (FADT -> PM1 control block,
    # the SCI routed) - what `poweroff` needs.
    m = run("echo T:$(ls /sys/firmware/acpi/tables | tr '\\n' ' '):T", rb"T:([^:$\r\n]*):T",
            "the ACPI tables")
    tables = m.group(1).decode().split()
    log(f"ACPI tables: {' '.join(tables)}")
    for tbl in ("FACP", "DSDT"):
        if tbl not in tables:
            raise Fail(f"Linux found no {tbl} ACPI table (has: {' '.join(tables) or 'none'})")
    m = run("grep -m1 acpi /proc/interrupts | sed 's/^ */SCI:/'", rb"SCI:(\d+):", "the ACPI SCI")
    log(f"SCI on IRQ {m.group(1).decode()}")
    log("poweroff")
    c.send("poweroff\n")
    rc = emu.wait_exit(t)
    if rc != 0:
        raise Fail(f"poweroff: the emulator exited with status {rc}, expected 0")
    log("powered off, exit status 0")


def run_menu(emu, assets):
    t = emu.args.timeout
    c = emu.console
    wait_menu(emu, t)
    # GRUB draws the whole menu before it reads keys; the marker above is
    # the last entry's title, so the menu is up. The marker entry echoes
    # its name three times: GRUB's serial driver may drop a character of
    # one (it gives up on a busy transmitter after a fixed number of polls).
    emu.sendkeys(["down", "down", "ret"])
    m = c.expect(rb"TESSERA-GRUB-ENTRY (686-pae|686|marker|memtest)", t, emu.proc, "a GRUB entry to run")
    got = m.group(1).decode()
    if got != "marker":
        raise Fail(f"Down, Down, Enter ran the '{got}' entry, expected the third ('marker')")
    log("Down Down Enter chose the third entry")
    emu.quit()
    rc = emu.wait_exit(t)
    if rc != 0:
        raise Fail(f"quit: exit status {rc}")


def screen_fields(text):
    # The last one: QEMU's serial copy holds every update in turn.
    def field(name):
        m = re.findall(name + r"\s*([0-9]+)", text)
        return int(m[-1]) if m else None
    return field("Pass:"), field("Errors:")


def wait_screen(emu, pattern, timeout, what):
    """Wait until memtest's screen shows a regex (str): Tessera's screen
    through `tessera ctl screentext`, QEMU's through the copy memtest86+
    sends to the serial console (screen updates as VT100 sequences)."""
    rx = re.compile(pattern)
    deadline = time.monotonic() + timeout
    c = emu.console
    while True:
        if isinstance(emu, Tessera):
            try:
                text = emu.screentext()
            except Fail:
                text = ""
        else:
            text = re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b" ", c.buf[c.pos:]).decode("latin-1")
        m = rx.search(text)
        if m:
            if not isinstance(emu, Tessera):
                c.pos = len(c.buf)
            return text, m
        if time.monotonic() > deadline:
            raise Fail(f"timeout ({timeout:.0f} s) waiting for {what} on memtest's screen:\n{text[-2000:]}")
        # Either way the screen changes only when memtest writes it: wait
        # for its next serial output (bounded), then look again.
        try:
            c._read(min(deadline, time.monotonic() + 0.5), emu.proc)
        except Fail:
            if emu.proc.poll() is not None:
                raise


# memtest86+ 6 has no command-line test selection: its configuration menu
# (F1 at any time) does it. The default selection is tests 0 and 2-10.
# Test 10, the bit fade test, mostly waits (100-200 s on QEMU TCG); tests
# 6 (moving inversions, 32 patterns) and 9 (modulo 20) are the longest of
# the rest by far. Dropping those three keeps one pass on 8 MiB within a
# few minutes on the interpreter under ASan, still covering address
# (0, 2), moving inversions (3, 4, 5), block move (7) and random (8).
MEMTEST_DROP = ("6", "9", "10")


def memtest_selection(drop):
    return "".join("." if i == 1 or str(i) in drop else "*" for i in range(11))


def run_memtest(emu, assets):
    t = emu.args.timeout
    c = emu.console
    wait_menu(emu, t)
    c.send("4")
    log("memtest86+ chosen")
    wait_screen(emu, r"F1> Configuration", t, "memtest's screen")
    emu.sendkeys(["f1"])
    wait_screen(emu, r"Test selection", t, "the Settings menu")
    emu.sendkeys(["f1"])
    wait_screen(emu, r"Remove one test", t, "the Test Selection menu")
    for n in MEMTEST_DROP:
        emu.sendkeys(["f2"])
        wait_screen(emu, r"Enter test #", t, "the test number prompt")
        emu.sendkeys(list(n) + ["ret"])
        wait_screen(emu, r"Current selection:\s*0\S*10\s*[*.]{%d}\." % int(n), t,
                    f"the selection without test {n}")
    log("test selection: " + memtest_selection(MEMTEST_DROP))
    emu.sendkeys(["f10"])
    wait_screen(emu, r"Test selection", t, "the Settings menu")
    emu.sendkeys(["f10"])
    started = time.monotonic()
    wait_screen(emu, r"Pass:\s*0\b", t, "the restarted pass")
    log("the pass restarts with the selected tests")
    text, _ = wait_screen(emu, r"Pass:\s*[1-9]|Errors:\s*[1-9]", t, "a completed pass")
    passes, errors = screen_fields(text)
    if errors:
        raise Fail(f"memtest86+ reports {errors} errors:\n{text[-2000:]}")
    log(f"memtest86+: pass {passes}, 0 errors after {time.monotonic() - started:.0f} s")
    # The clock: memtest's elapsed time (Time: h:mm:ss) must agree with
    # the host's: virtual time runs no faster than real time here, and
    # x87 trouble shows as thousands of hours.
    m = re.findall(r"Time:\s*([0-9]+):([0-9]{2}):([0-9]{2})", text)
    if not m:
        raise Fail("no elapsed time on memtest's screen:\n" + text[-2000:])
    h, mi, se = m[-1]
    secs = int(h) * 3600 + int(mi) * 60 + int(se)
    wall = time.monotonic() - emu.started
    log(f"memtest86+ clock: {secs} s elapsed, host {wall:.0f} s since power-on")
    if secs > wall + 5 or secs < 1:
        raise Fail(f"memtest86+'s clock says {secs} s after {wall:.0f} s of host time:\n"
                   + text[-2000:])
    emu.quit()
    emu.wait_exit(t)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--emu", choices=("tessera", "qemu"), default="tessera")
    p.add_argument("--tessera", default=os.environ.get("TESSERA"))
    p.add_argument("--iso")
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--memory", type=int, default=0)
    p.add_argument("--set", action="append")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    p.add_argument("--no-fpu-check", action="store_true",
                   help="run on Tessera even while the interpreter reports no FPU")
    p.add_argument("scenario", choices=("linux", "menu", "memtest"))
    p.add_argument("flavour", nargs="?", default="686", choices=("686", "686-pae"))
    a = p.parse_args()

    work = tempfile.mkdtemp(prefix="tess-guest-")
    emu = None
    try:
        if a.emu == "tessera" and not a.tessera:
            raise Fail("--tessera PATH is needed")
        assets = guest_assets() if not a.iso else {"ISO": a.iso, "KVER_686": "?", "KVER_PAE": "?"}
        if a.emu == "tessera" and a.scenario in ("linux", "memtest") and not a.no_fpu_check:
            need_fpu(a.tessera)
        emu = (Tessera if a.emu == "tessera" else Qemu)(a, assets["ISO"], work)
        emu.started = time.monotonic()
        emu.start()
        log(f"{emu.name} started ({a.scenario} {a.flavour if a.scenario == 'linux' else ''})")
        if a.scenario == "linux":
            run_linux(emu, assets, a.flavour)
            print(f"BOOT-TO-PROMPT {emu.name} {emu.at_prompt - emu.started:.2f}")
        elif a.scenario == "menu":
            run_menu(emu, assets)
        else:
            run_memtest(emu, assets)
        log("PASS")
        return 0
    except Skip as e:
        print(f"SKIP: {e}")
        return SKIP
    except Fail as e:
        print(f"FAIL: {e}")
        if emu:
            print("---- emulator output ----\n" + emu.emulator_log())
        return 1
    finally:
        if emu:
            emu.stop()
        if a.keep:
            print(f"work directory: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def need_fpu(tessera):
    """Linux and memtest86+ need an x87: SKIP (not pass) while the
    interpreter has none."""
    r = subprocess.run([tessera, "inspect", "x86"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        raise Fail("tessera inspect x86 failed: " + r.stdout)
    if re.search(r"no FPU", r.stdout, re.I):
        raise Skip("the x86 interpreter has no FPU yet (tessera inspect x86: "
                   + r.stdout.splitlines()[0].strip() + ")")


if __name__ == "__main__":
    sys.exit(main())
