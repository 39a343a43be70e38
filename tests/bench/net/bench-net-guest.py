#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Guest-level network benchmark: Debian's i386 kernel and busybox (the ISO
scripts/guest-assets.sh builds) on Tessera and on QEMU TCG, in one run.

    shared   one guest on NAT networking: Tessera's DEC 21041 on `shared`
             (libslirp), QEMU's tulip (21143) on `-netdev user` (libslirp
             too). DHCP, then
               down  busybox wget of a file the benchmark serves on the
                     host's 127.0.0.1 (10.0.2.2 to the guest),
               up    busybox nc sending a file to a port the benchmark
                     listens on (it closes the connection when all is there),
               ping  ICMP echo to 10.0.2.2 (slirp answers it itself);
    switch   two guests: Tessera's two machines of one process on
             <net type="switch"/>, QEMU's two processes joined by
             `-netdev socket` (listen/connect);
               vm    busybox wget on one guest of a file the other's httpd
                     serves,
               ping  ICMP echo from one guest to the other.

Throughput is timed on the host: from sending the command line to
its completion marker on the serial console, minus the same for a
one-byte file (command echo, busybox start, the TCP connection), over the
size difference. Ping round-trip times are busybox ping's own average
(the guest's clock). These measure the whole path: the CPU, the NIC
model, the driver, the backend - and, on a loaded host, the host's
scheduler.

Around each large transfer the benchmark also records two figures that
say where the time went:
  host CPU   the emulator processes' CPU time (utime + stime) per MiB
             moved, less what they burn with the guests idle (sampled
             just before): what the path costs, independent of how long
             the host kept the emulator waiting for a core;
  guest idle the guests' idle share (/proc/stat) during the transfer. A
             guest that is mostly idle is waiting for its peer, not
             computing: throughput is then bound by round-trip latency
             (wake-ups, the host's scheduler), not by CPU speed.

usage: bench-net-guest.py --tessera PATH [--size MIB] [--pings N] [--repeat N]
                          [--engine interp|jit] [--only shared|switch]
--engine sets Tessera's CPU engine (cpu.engine); without it the machine
file's default runs. --repeat runs the whole set N times (QEMU, then
Tessera, each time: a slow spell of the host hits both): on this kind
of shared host one boot's figures can differ from the next boot's by a
third, for either emulator. Prints each figure's median over the runs
and its range, then tessera/qemu ratios of the medians (throughput:
higher is better; round trip and CPU per MiB: lower is better) and the
ratio of each run. Exit status 0, 1 fail, 77 skip. Use a release build
(meson test -C build-rel --benchmark --suite net).
"""

import argparse
import http.server
import os
import re
import shutil
import socket
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "linux"))
import guestcon  # noqa: E402
import e2e  # noqa: E402
from guestcon import Fail, Skip, log  # noqa: E402

SKIP = 77


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass


class Sink:
    """A host TCP port the guest's `nc` writes into: each connection must
    bring exactly `expect` bytes; the sink closes it when they are all
    there (which ends nc) and records what arrived."""

    def __init__(self):
        self.lsn = socket.socket()
        self.lsn.bind(("127.0.0.1", 0))
        self.lsn.listen(4)
        self.port = self.lsn.getsockname()[1]
        self.expect = 0
        self.got = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                c, _ = self.lsn.accept()
            except OSError:
                return
            n, want = 0, self.expect
            with c:
                while n < want:
                    d = c.recv(1 << 16)
                    if not d:
                        break
                    n += len(d)
                self.got.append(n)          # before the close nc waits for

    def close(self):
        self.lsn.close()


def host_server(root):
    handler = lambda *a, **k: QuietHandler(*a, directory=root, **k)  # noqa: E731
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def timed(g, cmd, what):
    """Host wall time of one guest command ending in "R:$?:R"; it must succeed."""
    t0 = time.monotonic()
    m = g.run(cmd + '; echo "R:$?:R"', rb"R:(\d+):R", what)
    dt = time.monotonic() - t0
    if m.group(1) != b"0":
        raise Fail(f"{g.emu.name}: {what} failed with status {m.group(1).decode()}")
    return dt


def proc_cpu(procs):
    """CPU seconds (user + system) the distinct processes have used."""
    total = 0.0
    for pid in {p.pid for p in procs}:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


IDLE_SAMPLE_S = 3.0


def guest_times(g):
    """(idle, total) jiffies of the guest's /proc/stat."""
    m = g.run("echo \"C:$(head -n 1 /proc/stat):C\"", rb"C:cpu +([0-9 ]+):C", "/proc/stat")
    v = [int(x) for x in m.group(1).split()]
    return v[3] + v[4], sum(v[:8])


def throughput(g, make_cmd, size, what, peers=()):
    """Mbit/s of moving `size` bytes, the one-byte transfer's cost taken
    off, and where the big transfer's time went: (mbit, host CPU seconds
    per MiB, the guests' idle share). make_cmd(name) is the command
    moving file `name` (big or small); peers are the other guests taking
    part (their emulator's CPU and their idle time count too)."""
    t_small = min(timed(g, make_cmd("small"), what + " (1 byte)") for _ in range(2))
    guests = (g, *peers)
    procs = [x.emu.proc for x in guests]
    # What the emulators burn with the guests idle at their prompts (timer
    # ticks): taken off, so that a transfer the host's load drew out does
    # not look costlier per MiB than a quick one.
    idle0, t0 = proc_cpu(procs), time.monotonic()
    time.sleep(IDLE_SAMPLE_S)
    idle_rate = (proc_cpu(procs) - idle0) / (time.monotonic() - t0)
    before = [guest_times(x) for x in guests]
    cpu0 = proc_cpu(procs)
    t_big = timed(g, make_cmd("big"), what)
    cpu = max(proc_cpu(procs) - cpu0 - idle_rate * t_big, 0.0)
    after = [guest_times(x) for x in guests]
    if t_big <= t_small:
        raise Fail(f"{g.emu.name}: {what}: {t_big:.3f} s for the big file, {t_small:.3f} s for one byte")
    mbit = (size - 1) * 8 / (t_big - t_small) / 1e6
    idle = sum(a[0] - b[0] for a, b in zip(after, before))
    total = sum(a[1] - b[1] for a, b in zip(after, before))
    idle_share = idle / total if total else 0.0
    cpu_mib = cpu / (size / (1 << 20))
    log(f"{g.emu.name}: {what}: {size} bytes in {t_big:.2f} s ({t_small:.2f} s for one byte): "
        f"{mbit:.1f} Mbit/s; host CPU {cpu_mib * 1000:.0f} ms/MiB, guests idle {idle_share:.0%}")
    return mbit, cpu_mib, idle_share


def put(results, emu, key, value):
    results.setdefault((emu, key), []).append(value)


def record(results, emu, key, figures):
    mbit, cpu_mib, idle = figures
    put(results, emu, key, mbit)
    put(results, emu, key + " cpu", cpu_mib * 1000)
    put(results, emu, key + " idle", idle * 100)


def median(v):
    v = sorted(v)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def ping_rtt(g, peer, count, what):
    m = g.run(f"ping -c {count} {peer} > /tmp/p.txt; echo \"P:$?:$(grep -o 'min/avg/max = [0-9./]*' /tmp/p.txt):P\"",
              rb"P:(\d+):min/avg/max = ([0-9.]+)/([0-9.]+)/([0-9.]+):P", what, timeout=count * 5 + 60)
    if m.group(1) != b"0":
        raise Fail(f"{g.emu.name}: {what}: ping failed")
    avg = float(m.group(3))
    log(f"{g.emu.name}: {what}: min/avg/max {m.group(2).decode()}/{avg}/{m.group(4).decode()} ms")
    return avg


def make_files(g, size):
    g.run(f"mkdir -p /tmp/www && dd if=/dev/zero of=/tmp/www/big bs=1024 count={size // 1024} 2>/dev/null && "
          "printf x > /tmp/www/small; echo \"F:$?:$(wc -c < /tmp/www/big):F\"",
          rb"F:0:(\d+):F", "the guest's files")


# ---- shared ------------------------------------------------------------------

def bench_shared(emu, args, work, driver, results):
    g = e2e.Guest(emu, args.timeout)
    emu.started = time.monotonic()
    emu.start()
    try:
        g.boot()
        g.run(f"modprobe {driver}; ip link set eth0 up; echo \"U:$?:U\"", rb"U:0:U", "eth0 up")
        g.run("printf '%s\\n' '#!/bin/sh' 'case \"$1\" in bound|renew) "
              "ifconfig \"$interface\" \"$ip\" netmask \"$subnet\" up; "
              "route add default gw \"$router\" dev \"$interface\";; esac' "
              "> /tmp/dhcp.sh; chmod +x /tmp/dhcp.sh; echo \"S:$?:S\"", rb"S:0:S", "the udhcpc script")
        g.run("udhcpc -i eth0 -t 10 -T 3 -n -q -s /tmp/dhcp.sh >/dev/null 2>&1; echo \"D:$?:D\"",
              rb"D:0:D", "udhcpc")
        root = os.path.join(work, emu.name + "-www")
        os.makedirs(root)
        with open(os.path.join(root, "big"), "wb") as f:
            f.write(b"\0" * args.size)
        with open(os.path.join(root, "small"), "wb") as f:
            f.write(b"x")
        srv = host_server(root)
        port = srv.server_address[1]
        try:
            record(results, emu.name, "shared down", throughput(
                g, lambda n: f"wget -q -O /dev/null http://10.0.2.2:{port}/{n}", args.size,
                "shared: guest <- host (wget)"))
            make_files(g, args.size)
            sink = Sink()
            try:
                def up(n):
                    sink.expect = args.size if n == "big" else 1
                    return f"nc 10.0.2.2 {sink.port} < /tmp/www/{n}"
                record(results, emu.name, "shared up", throughput(
                    g, up, args.size, "shared: guest -> host (nc)"))
                if sink.got[-1] != args.size:
                    raise Fail(f"{emu.name}: the host received {sink.got[-1]} of {args.size} bytes")
            finally:
                sink.close()
        finally:
            srv.shutdown()
            srv.server_close()
        put(results, emu.name, "shared ping", ping_rtt(g, "10.0.2.2", args.pings, "shared: ping 10.0.2.2"))
        emu.console.send("poweroff\n")
        emu.wait_exit(args.timeout)
    finally:
        emu.stop()


# ---- VM to VM ----------------------------------------------------------------

def bench_pair(name, a, b, args, driver, results):
    for g, ip in ((a, "192.168.77.1"), (b, "192.168.77.2")):
        g.run(f"modprobe {driver}; ifconfig eth0 {ip} netmask 255.255.255.0 up; echo \"U:$?:U\"",
              rb"U:0:U", f"eth0 up on {g.emu.name}")
        # The first wget below fails if the link is not there after all.
        c, _ = e2e.carrier_wait(g, 1)
        if c != 1:
            log(f"{name}: {g.emu.name} reports no carrier after 60 s")
    make_files(b, args.size)
    b.run("httpd -p 8080 -h /tmp/www; echo \"H:$?:H\"", rb"H:0:H", "httpd")
    # ARP and the first connection out of the way.
    timed(a, "wget -q -O /dev/null http://192.168.77.2:8080/small", "the first wget")
    record(results, name, "switch vm", throughput(
        a, lambda n: f"wget -q -O /dev/null http://192.168.77.2:8080/{n}", args.size,
        "VM to VM (wget from the other guest's httpd)", peers=(b,)))
    put(results, name, "switch ping", ping_rtt(a, "192.168.77.2", args.pings, "VM to VM ping"))
    for g in (a, b):
        g.emu.console.send("poweroff\n")


def bench_tessera_switch(args, iso, work, results):
    pair = e2e.SwitchPair(args, iso, work)
    try:
        pair.start()
        a, b = pair.guests["a"], pair.guests["b"]
        for g in (a, b):
            guestcon.wait_menu(g.emu, g.t)
            g.emu.console.send("1")
        for g in (a, b):
            g.boot_after_menu()
        bench_pair("tessera", a, b, args, "de2104x", results)
        pair.proc.wait(timeout=args.timeout)
    finally:
        pair.stop()


def bench_qemu_switch(args, iso, work, results):
    port = guestcon.free_port()
    emus = []
    try:
        for n, mac, mode in (("a", "52:54:00:00:00:0a", f"listen=127.0.0.1:{port}"),
                             ("b", "52:54:00:00:00:0b", f"connect=127.0.0.1:{port}")):
            d = os.path.join(work, "qemu-" + n)
            os.makedirs(d)
            e = guestcon.Qemu(args, iso, d)
            e.name = "qemu-" + n
            e.extra_args = ("-netdev", f"socket,id=n0,{mode}", "-device", f"tulip,netdev=n0,mac={mac}")
            e.started = time.monotonic()
            e.start()
            emus.append(e)
        gs = [e2e.Guest(e, args.timeout) for e in emus]
        for g in gs:
            g.boot()
        bench_pair("qemu", gs[0], gs[1], args, "tulip", results)
        for e in emus:
            e.wait_exit(args.timeout)
    finally:
        for e in emus:
            e.stop()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tessera", default=os.environ.get("TESSERA"))
    p.add_argument("--timeout", type=float, default=900)
    p.add_argument("--size", type=int, default=16, help="MiB per transfer")
    p.add_argument("--pings", type=int, default=10)
    p.add_argument("--repeat", type=int, default=3, help="runs of the whole set")
    p.add_argument("--only", choices=("shared", "switch"))
    p.add_argument("--engine", choices=("interp", "jit"),
                   help="Tessera's CPU engine (default: the machine file's)")
    a = p.parse_args()
    a.size *= 1 << 20
    a.memory, a.set = 0, [f"cpu.engine={a.engine}"] if a.engine else None
    work = tempfile.mkdtemp(prefix="tess-bench-net-")
    results = {}
    # The figures depend on the host's load (the emulators wait for a
    # core as the round trips add up): say what it was.
    load0 = os.getloadavg()
    try:
        if not a.tessera:
            raise Fail("--tessera PATH is needed")
        if not shutil.which("qemu-system-i386"):
            raise Skip("qemu-system-i386 is not installed")
        assets = guestcon.guest_assets()
        iso = assets["ISO"]
        guestcon.need_fpu(a.tessera)
        for run in range(a.repeat):
            rw = os.path.join(work, f"run{run}")
            os.makedirs(rw)
            if a.only != "switch":
                d = os.path.join(rw, "qemu")
                os.makedirs(d)
                q = guestcon.Qemu(a, iso, d)
                q.extra_args = ("-netdev", "user,id=n0", "-device", "tulip,netdev=n0")
                bench_shared(q, a, rw, "tulip", results)
                d = os.path.join(rw, "tessera")
                os.makedirs(d)
                t = guestcon.Tessera(a, iso, d)
                t.base = "pc-net"
                t.extra_xml = '\n  <device id="nic0"><net type="shared"/></device>'
                bench_shared(t, a, rw, "de2104x", results)
            if a.only != "shared":
                bench_qemu_switch(a, iso, rw, results)
                d = os.path.join(rw, "pair")
                os.makedirs(d)
                bench_tessera_switch(a, iso, d, results)
    except Skip as e:
        print(f"SKIP: {e}")
        return SKIP
    except Fail as e:
        print(f"FAIL: {e}")
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"\nguest-level network, {a.repeat} run(s), {a.size >> 20} MiB transfers, {a.pings} pings a run "
          "(Tessera: DEC 21041 + de2104x, CPU engine "
          f"{a.engine or 'default'}; QEMU TCG -cpu pentium3: tulip)")
    load1 = os.getloadavg()
    print(f"host: {os.cpu_count()} CPUs, load average {load0[0]:.1f} at the start, "
          f"{load1[0]:.1f} at the end (1 min)")
    rows = []
    for key, label in (("shared down", "host -> guest TCP through shared / -netdev user"),
                       ("shared up", "guest -> host TCP through shared / -netdev user"),
                       ("switch vm", "VM -> VM TCP through switch / -netdev socket")):
        rows += [(key, "Mbit/s", label, True),
                 (key + " cpu", "ms/MiB", "  host CPU per MiB moved", False),
                 (key + " idle", "%", "  guests idle during the transfer", None)]
        if key == "shared up":
            rows.append(("shared ping", "ms", "ping RTT to the NAT gateway", False))
    rows.append(("switch ping", "ms", "VM -> VM ping RTT", False))
    print("medians over the runs [lowest-highest]; tessera/qemu of the medians, then of each run")
    for key, unit, label, higher in rows:
        tl, ql = results.get(("tessera", key)), results.get(("qemu", key))
        if not tl or not ql:
            continue
        tv, qv = median(tl), median(ql)
        line = (f"{label:50s} tessera {tv:8.2f} [{min(tl):.2f}-{max(tl):.2f}] {unit:6s} "
                f"qemu {qv:8.2f} [{min(ql):.2f}-{max(ql):.2f}] {unit:6s}")
        if higher is not None and qv:
            each = " ".join(f"{x / y:.2f}" for x, y in zip(tl, ql) if y)
            line += f" tessera/qemu {tv / qv:5.2f} ({each}; {'higher' if higher else 'lower'} is better)"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
