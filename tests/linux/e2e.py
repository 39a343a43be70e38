#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""End-to-end checks with the real Debian guest (scripts/guest-assets.sh):
one Linux boot per scenario covers many checks, because a boot on the
interpreter under ASan costs minutes.

    e2e.py [options] net        machines/pc-net.xml (+ an SB16 with --sound):
        the cable starts unplugged (no <net>): de2104x loads and sees no
        carrier; `tessera ctl net nic0 shared hostfwd=... capture=...`
        plugs it in at run time and the guest sees the link come up;
        udhcpc gets 10.0.2.15 from the built-in DHCP server; busybox wget
        fetches a file from an HTTP server this script runs on the host's
        127.0.0.1 (10.0.2.2 to the guest) with the right SHA-256; busybox
        httpd in the guest serves a file the host fetches through the
        hostfwd rule, same SHA-256 on both sides; the capture holds the
        DHCP Discover/Offer/Request/ACK (tcpdump -r).
        --sound: in the same boot, snd-sb16 and snd-pcm-oss load, the card
        shows in /proc/asound/cards, a 1 kHz square wave written to
        /dev/dsp (OSS default: 8 kHz, unsigned 8-bit, mono) comes out of
        --audio wav:FILE at 1 kHz and about the length played.
    e2e.py [options] snapshot   a shell loop prints a counter and the
        uptime; `tessera ctl suspend` stops the process; a new
        `tessera run --restore` carries on: the counter continues from the
        last value, the uptime goes on from where it was (no reboot), the
        shell still answers and `poweroff` ends the run with status 0.

    e2e.py [options] s3fb       machines/pc.xml (its display is the S3
        Trio64, with Tessera's VGA BIOS): Linux's s3fb binds the card
        (/proc/fb names an S3 Trio64 with 4 MiB), /sys/class/graphics/fb0
        reports its mode
        list, the 8-bit mode it set and its virtual size; fbcon takes the
        console, and a screenshot of the running machine is that mode
        with the console's text drawn on it (lit pixels in the top rows,
        the colours of the kernel's default palette).

    e2e.py [options] switch     `tessera run a.xml b.xml`: two pc-net
        machines on <net type="switch" name="lab"/> with static addresses
        ping each other (3 of 3 replies each way), then both power off.
options: --tessera PATH, --timeout SECONDS (each wait), --keep.
Exit status: 0 pass, 1 fail, 77 skip (no guest assets, no tcpdump).
"""

import argparse
import hashlib
import http.server
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import wave
import array

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guestcon  # noqa: E402
from guestcon import Fail, Skip, log, PROMPT  # noqa: E402

SKIP = 77


class Guest:
    """A booted guest's shell on the serial console."""

    def __init__(self, emu, timeout):
        self.emu = emu
        self.t = timeout

    def boot(self):
        guestcon.wait_menu(self.emu, self.t)
        self.emu.console.send("1")                      # the 686 entry's hotkey
        self.boot_after_menu()

    def boot_after_menu(self):
        c = self.emu.console
        c.expect(rb"TESSERA-GRUB-ENTRY 686(?!-pae)", self.t, self.emu.proc, "the GRUB entry")
        c.expect(rb"TESSERA-INIT-DONE ", self.t, self.emu.proc, "the initramfs's /init")
        c.expect(re.escape(PROMPT), self.t, self.emu.proc, "the shell prompt")
        self.emu.at_prompt = time.monotonic()
        log(f"shell prompt after {self.emu.at_prompt - self.emu.started:.0f} s")

    def run(self, cmd, pattern, what, timeout=None):
        """Type a command; wait for its output and the next prompt. The
        patterns never match the echoed command line (they need what
        $(...) or $? expand to)."""
        c = self.emu.console
        c.send(cmd + "\n")
        m = c.expect(pattern, timeout or self.t, self.emu.proc, what)
        c.expect(re.escape(PROMPT), timeout or self.t, self.emu.proc, "the prompt after " + what)
        return m


# ---- net --------------------------------------------------------------------

class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, fmt, *args):
        log("host http: " + fmt % args)


def host_http(root):
    handler = lambda *a, **k: QuietHandler(*a, directory=root, **k)  # noqa: E731
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    return srv


def carrier_wait(g, want):
    """The guest's own bounded wait (its sleep, not ours) for the carrier."""
    m = g.run(f'i=0; while [ "$(cat /sys/class/net/eth0/carrier)" != {want} ] && [ $i -lt 60 ]; '
              'do sleep 1; i=$((i+1)); done; echo "L:$(cat /sys/class/net/eth0/carrier):$i:L"',
              rb"L:(\d+):(\d+):L", f"the carrier to be {want}")
    return int(m.group(1)), int(m.group(2))


def pcap_dhcp(pcap):
    tcpdump = shutil.which("tcpdump") or shutil.which("tcpdump", path="/usr/sbin:/sbin")
    if not tcpdump:
        raise Skip("tcpdump is not installed (scripts/deps.sh installs it)")
    r = subprocess.run([tcpdump, "-n", "-v", "-r", pcap, "udp port 67 or udp port 68"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        raise Fail(f"tcpdump -r {pcap}: {r.stdout.strip()}")
    kinds = re.findall(r"DHCP-Message[^:]*: (\w+)", r.stdout)
    log(f"capture: DHCP messages {' '.join(kinds)}")
    for k in ("Discover", "Offer", "Request", "ACK"):
        if k not in kinds:
            raise Fail(f"the capture holds no DHCP {k}:\n{r.stdout[-3000:]}")
    if "Your-IP 10.0.2.15" not in r.stdout:
        raise Fail(f"the capture's DHCP replies do not offer 10.0.2.15:\n{r.stdout[-3000:]}")


def check_pci(g):
    """The NIC is on the guest's PCI bus and acpiphp found no hot-pluggable
    slot (no _EJ0 in the firmware's tables).
    SeaBIOS's ACPI tables read QEMU's PIIX4 hot-plug ports: when those
    floated high, every slot was ejectable with an eject request pending,
    and acpiphp removed the NIC in about one boot of three (racing the
    kernel's own bus scan)."""
    m = g.run("echo \"X#$(ls /sys/bus/pci/devices | tr '\\n' ' ')#$(dmesg | grep -c 'acpiphp: Slot')#$(dmesg | "
              "grep -i -e 'pci 0000:00:03' -e de2104x -e 'PCI:' -e acpiphp | tr '\\n' '|')#X\"",
              rb"X#([^#$]*)#(\d+)#([^#$]*)#X", "the PCI devices")
    devs, slots = m.group(1).decode().split(), int(m.group(2))
    report = (f"PCI devices: {' '.join(devs)}; acpiphp slots: {slots}\ndmesg: "
              + m.group(3).decode().replace("|", "\n"))
    if "0000:00:03.0" not in devs:
        raise Fail(f"{g.emu.name}: the kernel has no NIC at 00:03.0. {report}")
    if slots:
        raise Fail(f"{g.emu.name}: the firmware's ACPI tables offer hot-plug slots. {report}")


def run_net(g, work, sound, wav):
    emu = g.emu
    check_pci(g)
    # The cable is unplugged: the driver loads, the interface comes up
    # with no carrier.
    m = g.run("modprobe de2104x; ip link set eth0 up; echo \"U:$?:U\"", rb"U:(\d+):U", "eth0 up")
    if m.group(1) != b"0":
        raise Fail("de2104x found no NIC (no eth0)")
    c0, _ = carrier_wait(g, 0)
    if c0 != 0:
        raise Fail("the guest sees a carrier with no network attached")
    log("de2104x loaded, eth0 up, no carrier (cable unplugged)")

    root = os.path.join(work, "www")
    os.makedirs(root)
    blob = os.urandom(300 * 1024 + 17)
    with open(os.path.join(root, "h.bin"), "wb") as f:
        f.write(blob)
    srv = host_http(root)
    hport = srv.server_address[1]
    fport = guestcon.free_port()
    pcap = os.path.join(work, "nic0.pcap")
    try:
        # Plug the cable in at run time.
        out = emu.control("net", "nic0", "shared", f"hostfwd=tcp:127.0.0.1:{fport}-:8080",
                          f"capture={pcap}")
        log(f"ctl net: {out.strip()}")
        c1, secs = carrier_wait(g, 1)
        if c1 != 1:
            raise Fail("the guest saw no carrier within 60 s of `net nic0 shared`")
        log(f"the guest sees the link up ({secs} s of guest time)")

        g.run("printf '%s\\n' '#!/bin/sh' 'case \"$1\" in bound|renew) "
              "ifconfig \"$interface\" \"$ip\" netmask \"$subnet\" up; "
              "route add default gw \"$router\" dev \"$interface\";; esac' "
              "> /tmp/dhcp.sh; chmod +x /tmp/dhcp.sh; echo \"S:$?:S\"", rb"S:0:S", "the udhcpc script")
        m = g.run("udhcpc -i eth0 -n -q -t 5 -T 3 -s /tmp/dhcp.sh; echo \"D:$?:D\"",
                  rb"D:(\d+):D", "udhcpc")
        if m.group(1) != b"0":
            raise Fail(f"udhcpc failed ({m.group(1).decode()})")
        m = g.run("ifconfig eth0 | grep -o 'inet addr:[0-9.]*'",
                  rb"inet addr:(\d+\.\d+\.\d+\.\d+)\r?\n", "eth0's address")
        ip = m.group(1).decode()
        if ip != "10.0.2.15":
            raise Fail(f"DHCP gave {ip}, expected 10.0.2.15")
        log(f"DHCP: {ip}")

        # Guest -> host's 127.0.0.1 through NAT.
        m = g.run(f"wget -q -O /tmp/h.bin http://10.0.2.2:{hport}/h.bin; "
                  "echo \"W:$?:$(sha256sum < /tmp/h.bin | cut -c1-64):W\"",
                  rb"W:(\d+):([0-9a-f]{64}):W", "wget from the host")
        if m.group(1) != b"0":
            raise Fail(f"wget failed ({m.group(1).decode()})")
        want = hashlib.sha256(blob).hexdigest()
        if m.group(2).decode() != want:
            raise Fail(f"the guest's copy has SHA-256 {m.group(2).decode()}, the host's {want}")
        log(f"wget: {len(blob)} bytes from the host, SHA-256 matches")

        # Host -> guest's httpd through the hostfwd rule.
        m = g.run("mkdir -p /tmp/www && dd if=/dev/urandom of=/tmp/www/g.bin bs=1024 count=96 "
                  "2>/dev/null && httpd -p 8080 -h /tmp/www && "
                  "echo \"G:$(sha256sum < /tmp/www/g.bin | cut -c1-64):G\"",
                  rb"G:([0-9a-f]{64}):G", "the guest's httpd")
        gsum = m.group(1).decode()
        with urllib.request.urlopen(f"http://127.0.0.1:{fport}/g.bin", timeout=g.t) as r:
            data = r.read()
        if hashlib.sha256(data).hexdigest() != gsum or len(data) != 96 * 1024:
            raise Fail(f"hostfwd: got {len(data)} bytes with SHA-256 "
                       f"{hashlib.sha256(data).hexdigest()}, the guest's file has {gsum}")
        log(f"hostfwd: {len(data)} bytes from the guest's httpd, SHA-256 matches")
    finally:
        srv.shutdown()
        srv.server_close()

    out = emu.control("capture", "nic0", "stop")
    log(f"ctl capture: {out.strip()}")
    pcap_dhcp(pcap)

    if sound:
        play_tone(g)

    log("poweroff")
    emu.console.send("poweroff\n")
    rc = emu.wait_exit(g.t)
    if rc != 0:
        raise Fail(f"poweroff: the emulator exited with status {rc}, expected 0")
    if sound:
        check_tone(wav)


# ---- sound ------------------------------------------------------------------

TONE_HZ = 1000.0            # 8 samples a period at OSS's default 8 kHz
TONE_BYTES = 8 * 1024       # 1.024 s


def play_tone(g):
    g.run("modprobe snd-sb16 isapnp=0 port=0x220 irq=5 dma8=1 dma16=5 && modprobe snd-pcm-oss; "
          "echo \"M:$?:M\"", rb"M:0:M", "snd-sb16 and snd-pcm-oss")
    m = g.run("echo \"A#$(tr '\\n' ' ' < /proc/asound/cards)#A\"", rb"A#([^#$]*)#A",
              "/proc/asound/cards")
    cards = m.group(1).decode()
    # ALSA starts the SB16's mixer muted (snd_sb16_init_values: master and
    # voice 0) and busybox has no amixer: set the master and voice volumes
    # (mixer registers 30h-33h, 5 bits in 7:3) through the mixer's
    # address/data ports 224h/225h, as amixer would through the driver.
    g.run("v=0; for r in '\\060' '\\061' '\\062' '\\063'; do "
          "printf \"$r\" | dd of=/dev/port bs=1 seek=548 conv=notrunc 2>/dev/null && "
          "printf '\\360' | dd of=/dev/port bs=1 seek=549 conv=notrunc 2>/dev/null || v=1; done; "
          "echo \"V:$v:V\"", rb"V:0:V", "the mixer volumes")
    log(f"/proc/asound/cards: {' '.join(cards.split())}")
    if "Sound Blaster 16" not in cards:
        raise Fail(f"no Sound Blaster 16 in /proc/asound/cards: {cards}")
    # Four samples high, four low: a square wave at 8000 / 8 Hz, doubled
    # up to TONE_BYTES.
    m = g.run("printf '\\300\\300\\300\\300\\100\\100\\100\\100' > /tmp/t.raw; "
              "for i in 1 2 3 4 5 6 7 8 9 10; do cat /tmp/t.raw /tmp/t.raw > /tmp/t2; "
              "mv /tmp/t2 /tmp/t.raw; done; cat /tmp/t.raw > /dev/dsp; "
              "echo \"P:$?:$(wc -c < /tmp/t.raw):P\"", rb"P:(\d+):(\d+):P", "playing the tone")
    if m.group(1) != b"0" or int(m.group(2)) != TONE_BYTES:
        raise Fail(f"writing the tone to /dev/dsp: status {m.group(1).decode()}, "
                   f"{m.group(2).decode()} bytes")
    log(f"played {TONE_BYTES} bytes to /dev/dsp")


def check_tone(wav):
    """The loudest stretch of the WAV: a tone at TONE_HZ about as long as
    what was played (zero crossings of the left channel)."""
    w = wave.open(wav, "rb")
    rate, ch = w.getframerate(), w.getnchannels()
    if w.getsampwidth() != 2:
        raise Fail(f"{wav}: sample width {w.getsampwidth()}")
    raw = array.array("h", w.readframes(w.getnframes()))
    if sys.byteorder == "big":
        raw.byteswap()
    left = raw[0::ch]
    win = rate // 100
    loud = [max(abs(v) for v in left[i:i + win]) > 2000 for i in range(0, len(left) - win + 1, win)]
    # Longest run of loud 10 ms windows (bridging one quiet window).
    best, start = (0, 0), None
    for i, v in enumerate(loud + [False, False]):
        if v and start is None:
            start = i
        elif not v and start is not None and not (i + 1 < len(loud) and loud[i + 1]):
            if i - start > best[1] - best[0]:
                best = (start, i)
            start = None
    a, b = best[0] * win, best[1] * win
    secs = (b - a) / rate
    if secs < 0.5:
        raise Fail(f"{wav}: no tone (longest loud stretch {secs:.3f} s of {len(left) / rate:.1f} s)")
    seg = left[a + win:b - win]
    cross = sum(1 for i in range(1, len(seg)) if (seg[i - 1] < 0) != (seg[i] < 0))
    hz = cross / 2 / (len(seg) / rate)
    log(f"WAV: a {secs:.3f} s tone at {hz:.1f} Hz ({rate} Hz, {ch} channels)")
    if abs(hz - TONE_HZ) > TONE_HZ * 0.02:
        raise Fail(f"{wav}: the tone is {hz:.1f} Hz, played {TONE_HZ:.0f} Hz")
    played = TONE_BYTES / 8000
    if not played * 0.9 <= secs <= played + 0.3:
        raise Fail(f"{wav}: the tone lasts {secs:.3f} s, played {played:.3f} s")


# ---- snapshot -----------------------------------------------------------------

COUNTER = rb"N:(\d+):(\d+)\.\d+:N"


def run_snapshot(g, args, work, iso):
    emu = g.emu
    c = emu.console
    c.send('i=0; while true; do i=$((i+1)); echo "N:$i:$(cut -d" " -f1 /proc/uptime):N"; '
           'sleep 1; done\n')
    for _ in range(3):
        m = c.expect(COUNTER, g.t, emu.proc, "the counter")
    log(f"counting: {m.group(1).decode()} at uptime {m.group(2).decode()} s")
    snap = os.path.join(work, "linux.snap")
    out = emu.control("suspend", snap)
    log(f"ctl suspend: {out.strip()}")
    rc = emu.wait_exit(g.t)
    if rc != 0:
        raise Fail(f"suspend: the emulator exited with status {rc}")
    # Whatever the guest printed before it stopped.
    try:
        while c._read(time.monotonic() + 0.2, None):
            pass
    except Fail:
        pass                                            # the connection closed
    last = re.findall(COUNTER, c.buf)[-1]
    n0, up0 = int(last[0]), int(last[1])
    log(f"suspended after {n0} at uptime {up0} s ({os.path.getsize(snap)} bytes)")

    os.makedirs(os.path.join(work, "restored"))
    emu2 = guestcon.Tessera(args, iso, os.path.join(work, "restored"))
    emu2.restore = snap
    emu2.started = time.monotonic()
    g.emu = emu2
    try:
        emu2.start()
        log("restored in a new process")
        c2 = emu2.console
        m = c2.expect(COUNTER, g.t, emu2.proc, "the counter after the restore")
        n1, up1 = int(m.group(1)), int(m.group(2))
        log(f"resumed: {n1} at uptime {up1} s")
        if n1 != n0 + 1:
            raise Fail(f"the counter went from {n0} to {n1} across suspend/resume")
        if not up0 <= up1 <= up0 + 3:
            raise Fail(f"the uptime went from {up0} to {up1} s across suspend/resume")
        pre = c2.buf[:m.start()]
        if b"TESSERA-INIT-DONE" in pre or b"Linux version" in pre or b"TESSERA-GRUB" in pre:
            raise Fail("the guest rebooted instead of resuming")
        for _ in range(2):
            m = c2.expect(COUNTER, g.t, emu2.proc, "the counter going on")
        n2 = int(m.group(1))
        if n2 != n1 + 2:
            raise Fail(f"the counter went on {n1} -> {n2}, expected {n1 + 2}")
        c2.send("\x03")                                 # ^C ends the loop
        c2.expect(re.escape(PROMPT), g.t, emu2.proc, "the prompt after ^C")
        g.run("echo R$((6*7))R", rb"R42R", "the shell after the restore")
        m = g.run("echo \"U:$(cut -d' ' -f1 /proc/uptime):U\"", rb"U:(\d+)\.\d+:U", "the uptime")
        if int(m.group(1)) < up1:
            raise Fail(f"the uptime went back to {m.group(1).decode()} s")
        log(f"the shell answers, uptime {m.group(1).decode()} s")
        emu2.console.send("poweroff\n")
        rc = emu2.wait_exit(g.t)
        if rc != 0:
            raise Fail(f"poweroff after the restore: exit status {rc}, expected 0")
    finally:
        emu2.stop()


# ---- two machines on a switch ----------------------------------------------

class SwitchPair:
    """`tessera run a.xml b.xml`: two guests in one process, their NICs on
    the virtual switch "lab", each serial port on its own TCP port."""

    def __init__(self, args, iso, work):
        self.args, self.iso, self.work = args, iso, work
        self.proc = None
        self.out = open(os.path.join(work, "emulator.log"), "wb")
        self.ctl = os.path.join(work, "ctl")

    def start(self):
        ports, files = {}, []
        for n, mac in (("a", "52:54:00:00:00:0a"), ("b", "52:54:00:00:00:0b")):
            ports[n] = guestcon.free_port()
            f = os.path.join(self.work, n + ".xml")
            with open(f, "w") as x:
                x.write(f"""<?xml version="1.0"?>
<machine name="{n}" base="pc-net">
  <device id="com1" chardev="tcp:127.0.0.1:{ports[n]}"/>
  <device id="ide0">
    <drive bus="1" unit="0" media="cdrom"><disk format="raw" file="{self.iso}" readonly="on"/></drive>
  </device>
  <device id="nic0" mac="{mac}"><net type="switch" name="lab"/></device>
</machine>
""")
            files.append(f)
        sets = [w for s in getattr(self.args, "set", None) or [] for w in ("--set", s)]
        self.proc, ready = guestcon.start_ready(
            [self.args.tessera, "run", *files, "--display", "none", "--paused",
             "--control", self.ctl, *sets], stdout=self.out, stderr=subprocess.STDOUT)
        if not ready:
            self.proc.wait(timeout=60)
            raise Fail("the two machines did not start:\n" + self.log())
        # READY: both serial ports listen.
        self.guests = {}
        for n in ("a", "b"):
            sock = guestcon.socket.create_connection(("127.0.0.1", ports[n]), timeout=10)
            emu = _Member(self, n, guestcon.Console(sock, open(os.path.join(self.work, n + ".serial"), "wb")))
            self.guests[n] = Guest(emu, self.args.timeout)
        for n in ("a", "b"):
            self.control("@" + n, "resume")

    def control(self, *words):
        r = subprocess.run([self.args.tessera, "ctl", self.ctl, *words], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=60)
        if r.returncode != 0:
            raise Fail(f"tessera ctl {' '.join(words)}: {r.stdout.strip()}")
        return r.stdout

    def log(self):
        self.out.flush()
        with open(self.out.name, "rb") as f:
            return f.read()[-3000:].decode("utf-8", "replace")

    emulator_log = log

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class _Member:
    """What Guest needs of one machine of the pair."""

    def __init__(self, pair, name, console):
        self.pair, self.name, self.console = pair, name, console
        self.proc = pair.proc
        self.started = time.monotonic()


def run_switch(pair):
    a, b = pair.guests["a"], pair.guests["b"]
    # Both boot at once: menu, entry, prompt, each in turn (the other's
    # output waits in its socket).
    for g in (a, b):
        guestcon.wait_menu(g.emu, g.t)
        g.emu.console.send("1")
    for g in (a, b):
        g.boot_after_menu()
        log(f"machine {g.emu.name}: shell prompt")
    for g, ip in ((a, "192.168.77.1"), (b, "192.168.77.2")):
        check_pci(g)
        g.run(f"modprobe de2104x; ifconfig eth0 {ip} netmask 255.255.255.0 up; echo \"U:$?:U\"",
              rb"U:0:U", f"eth0 up on {g.emu.name}")
        c, secs = carrier_wait(g, 1)
        if c != 1:
            raise Fail(f"machine {g.emu.name} sees no carrier on the switch")
    for g, peer in ((a, "192.168.77.2"), (b, "192.168.77.1")):
        m = g.run(f"ping -c 3 -W 5 {peer} > /tmp/p.txt; echo \"P:$?:$(grep -o '[0-9]* packets received' /tmp/p.txt):P\"",
                  rb"P:(\d+):(\d+) packets received:P", f"ping from {g.emu.name}")
        if m.group(1) != b"0" or m.group(2) != b"3":
            raise Fail(f"{g.emu.name} pinging {peer}: status {m.group(1).decode()}, "
                       f"{m.group(2).decode()} of 3 replies")
        log(f"machine {g.emu.name} pings {peer}: 3 of 3 replies")
    for g in (a, b):
        g.emu.console.send("poweroff\n")
    try:
        rc = pair.proc.wait(timeout=a.t)
    except subprocess.TimeoutExpired:
        raise Fail("the two machines did not power off")
    if rc != 0:
        raise Fail(f"poweroff of both machines: exit status {rc}, expected 0")


def run_sound(g, wav):
    play_tone(g)
    log("poweroff")
    g.emu.console.send("poweroff\n")
    rc = g.emu.wait_exit(g.t)
    if rc != 0:
        raise Fail(f"poweroff: the emulator exited with status {rc}, expected 0")
    check_tone(wav)


# ---- s3fb -------------------------------------------------------------------

def png_pixels(path):
    """(width, height, rows of (r, g, b)) of an 8-bit RGB PNG, with zlib
    only (no imaging library on the CI machine)."""
    import struct
    import zlib
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise Fail(f"{path} is not a PNG")
    pos, idat, w, h = 8, b"", 0, 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            if depth != 8 or ctype != 2:
                raise Fail(f"{path}: PNG depth {depth} colour type {ctype}, expected 8-bit RGB")
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    rows, prev, stride = [], bytearray(w * 3), w * 3
    for y in range(h):
        ft, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - 3] if i >= 3 else 0
            b = prev[i]
            c = prev[i - 3] if i >= 3 else 0
            if ft == 1:
                line[i] = (line[i] + a) & 255
            elif ft == 2:
                line[i] = (line[i] + b) & 255
            elif ft == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif ft == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[3 * x:3 * x + 3]) for x in range(w)])
        prev = line
    return w, h, rows


def run_s3fb(g, work):
    m = g.run('modprobe s3fb; echo "R:$?:R"', rb"R:(\d+):R", "modprobe s3fb")
    if m.group(1) != b"0":
        m = g.run("echo \"X#$(dmesg | grep -i -e s3fb -e 'pci 0000:00' | tr '\\n' '|')#X\"",
                  rb"X#([^#$]*)#X", "dmesg")
        raise Fail("modprobe s3fb failed:\n" + m.group(1).decode().replace("|", "\n"))
    m = g.run('echo "F#$(cat /proc/fb)#F"', rb"F#([^#$]*)#F", "/proc/fb")
    fb = m.group(1).decode().strip()
    log(f"/proc/fb: {fb}")
    if not re.match(r"0 S3 Trio64$", fb):
        raise Fail(f"/proc/fb says {fb!r}, not an S3 Trio64 on fb0")
    m = g.run('echo "D#$(dmesg | grep -i -e s3fb -e "fb0: " | tr \'\\n\' \'|\')#D"', rb"D#([^#$]*)#D",
              "s3fb's messages")
    msgs = m.group(1).decode()
    log("s3fb: " + msgs.replace("|", " / "))
    if not re.search(r"\b4 ?MB|4096 ?kB", msgs):
        raise Fail(f"s3fb did not report 4 MiB of video memory: {msgs}")
    m = g.run('cd /sys/class/graphics/fb0 && echo "M#$(cat modes | tr \'\\n\' \' \')#'
              '$(cat mode)#$(cat bits_per_pixel)#$(cat virtual_size)#M"; cd /',
              rb"M#([^#$]*)#([^#$]*)#(\d+)#(\d+,\d+)#M", "fb0's sysfs attributes")
    modes, cur = m.group(1).decode().split(), m.group(2).decode().strip()
    bpp, virt = int(m.group(3)), m.group(4).decode()
    log(f"fb0: mode {cur!r}, modes {modes}, {bpp} bpp, virtual {virt}")
    # The mode s3fb set: sysfs `mode`, else the user-set "U:" entry of the
    # list, else (s3fb took the monitor's preferred mode from the EDID and
    # reports no current mode) the listed mode as wide as the virtual
    # screen. It must be 8-bit, one the card lists, and what the screen
    # then shows.
    vw = int(virt.split(",")[0])
    if not cur:
        cur = next((x for x in modes if x.startswith("U:")), "")
    if not cur:
        cur = next((x for x in modes if re.match(rf"[A-Z]:{vw}x\d+", x)), "")
    mm = re.match(r"[A-Z]:(\d+)x(\d+)", cur)
    if not mm or bpp != 8:
        raise Fail(f"fb0 has no 8-bit mode set: mode {cur!r}, modes {modes}, {bpp} bpp")
    mw, mh = int(mm.group(1)), int(mm.group(2))
    if not any(re.match(rf"[A-Z]:{mw}x{mh}(?!\d)", x) for x in modes):
        raise Fail(f"fb0's mode {cur} is not one of the modes it lists: {modes}")
    w, h = (int(v) for v in virt.split(","))
    if w < mw or h < mh:
        raise Fail(f"fb0's virtual size {virt} is smaller than the mode {mw}x{mh}")
    # fbcon has the console: clear it and write a line on it.
    g.run('printf "\\033[2J\\033[HTESSERA S3FB CONSOLE TESSERA S3FB CONSOLE\\n" > /dev/tty1; '
          'echo "W:$?:W"', rb"W:0:W", "the line on tty1")
    shot = os.path.join(work, "s3fb.png")
    r = g.emu.control("screenshot", shot).strip()
    if f"{mw}x{mh}" not in r:
        raise Fail(f"the screenshot is {r}, not the {mw}x{mh} mode s3fb set")
    w, h, rows = png_pixels(shot)
    lit = sum(1 for y in range(16) for x in range(w) if rows[y][x] != (0, 0, 0))
    rest = sum(1 for y in range(64, h) for x in range(w) if rows[y][x] != (0, 0, 0))
    colours = {rows[y][x] for y in range(16) for x in range(w)}
    log(f"screenshot: {lit} lit pixels in the first text row, {rest} below row 4, colours {colours}")
    if lit < 300 or rest > lit:
        raise Fail(f"fbcon's text is not on the screen ({lit} lit pixels in the top row, {rest} below)")
    # The console's foreground is the kernel's default light grey (0xAA).
    if not any(c[0] == c[1] == c[2] and 0xA0 <= c[0] <= 0xB0 for c in colours):
        raise Fail(f"no grey console text in the top row: {colours}")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tessera", default=os.environ.get("TESSERA"))
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--sound", action="store_true")
    p.add_argument("--keep", action="store_true")
    p.add_argument("scenario", choices=("net", "sound", "snapshot", "switch", "s3fb"))
    a = p.parse_args()
    a.memory, a.set = 0, None
    # meson's timeout sends SIGTERM: unwind, so the finally below stops
    # the emulator instead of leaving it running.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    work = tempfile.mkdtemp(prefix="tess-e2e-")
    emu = None
    t0 = time.monotonic()
    try:
        if not a.tessera:
            raise Fail("--tessera PATH is needed")
        assets = guestcon.guest_assets()
        guestcon.need_fpu(a.tessera)
        if a.scenario == "switch":
            emu = SwitchPair(a, assets["ISO"], work)
            emu.start()
            run_switch(emu)
            log(f"PASS ({time.monotonic() - t0:.0f} s)")
            return 0
        emu = guestcon.Tessera(a, assets["ISO"], work)
        wav = os.path.join(work, "out.wav")
        if a.scenario == "net":
            emu.base = "pc-net"
        if a.scenario == "sound" or a.scenario == "net" and a.sound:
            if True:
                emu.extra_xml = '\n  <device type="sb16" id="snd0" port="0x220" irq="5" dma="1" hdma="5"/>'
                emu.extra_args = ("--audio", f"wav:{wav}")
        emu.started = time.monotonic()
        emu.start()
        g = Guest(emu, a.timeout)
        g.boot()
        if a.scenario == "net":
            run_net(g, work, a.sound, wav)
        elif a.scenario == "sound":
            run_sound(g, wav)
        elif a.scenario == "s3fb":
            run_s3fb(g, work)
        else:
            run_snapshot(g, a, work, assets["ISO"])
            emu = g.emu
        log(f"PASS ({time.monotonic() - t0:.0f} s)")
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


if __name__ == "__main__":
    sys.exit(main())
