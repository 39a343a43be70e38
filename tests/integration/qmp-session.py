#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A QMP session against `tessera run --qmp`, driven the way QEMU's own
Python client (qemu.qmp) drives QEMU: wait for the greeting, negotiate,
send compact JSON objects with no newline after them, read CR LF ended
replies, and take asynchronous events as they come between replies.

usage: qmp-session.py TESSERA MACHINE.xml
Exit 0 all checks passed, 1 a check failed, 77 cannot run (no SeaBIOS).
"""
import json
import os
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time

TIMEOUT = 60.0


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)


class Qmp:
    """A small QMP client: one socket, a buffer, a queue of events."""

    def __init__(self, path, wait_greeting=True):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.buf = b""
        self.events = []
        self.greeting = self.recv() if wait_greeting else None

    def recv(self):
        """One message (a line), waiting at most TIMEOUT seconds."""
        deadline = time.monotonic() + TIMEOUT
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                raise Fail("no message from the server within %d s" % TIMEOUT)
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("the server closed the connection")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        check(line.endswith(b"\r"), "QMP messages end in CR LF: %r" % line)
        return json.loads(line)

    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, cmd, args=None, id=None):
        msg = {"execute": cmd}
        if args is not None:
            msg["arguments"] = args
        if id is not None:
            msg["id"] = id
        # qemu.qmp sends compact JSON and no newline.
        self.send_raw(json.dumps(msg, separators=(",", ":")).encode())

    def reply(self):
        """The next reply; events before it are queued."""
        while True:
            m = self.recv()
            if "event" in m:
                check(set(m) == {"event", "data", "timestamp"}, "event shape: %r" % m)
                ts = m["timestamp"]
                check(isinstance(ts["seconds"], int) and 0 <= ts["microseconds"] < 1000000,
                      "event timestamp: %r" % m)
                check(abs(ts["seconds"] - time.time()) < 600, "event time is now: %r" % m)
                self.events.append(m)
                continue
            return m

    def cmd(self, cmd, args=None, id=None):
        self.send(cmd, args, id)
        r = self.reply()
        check("return" in r, "%s: expected a return, got %r" % (cmd, r))
        return r["return"]

    def error(self, cmd, args=None, cls="GenericError", id=None):
        self.send(cmd, args, id)
        r = self.reply()
        check("error" in r and r["error"]["class"] == cls and r["error"]["desc"],
              "%s: expected a %s error, got %r" % (cmd, cls, r))
        return r

    def event(self, name):
        """Wait for event `name` (it may already be queued)."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            for i, e in enumerate(self.events):
                if e["event"] == name:
                    return self.events.pop(i)
            if time.monotonic() > deadline:
                raise Fail("no %s event" % name)
            m = self.recv()
            check("event" in m, "unexpected message while waiting for %s: %r" % (name, m))
            self.events.append(m)


def read_ready(fd):
    """All that `run --ready-fd` writes, until it closes its end: READY and a
    newline once the sockets answer, nothing if the run failed first."""
    data = b""
    try:
        while True:
            check(select.select([fd], [], [], TIMEOUT)[0], "no readiness within %d s" % TIMEOUT)
            chunk = os.read(fd, 64)
            if not chunk:
                return data
            data += chunk
    finally:
        os.close(fd)


def main():
    tessera, machine = sys.argv[1], sys.argv[2]
    if not os.path.exists("/usr/share/seabios/bios-256k.bin"):
        print("SKIP: SeaBIOS not installed")
        return 77
    tmp = tempfile.mkdtemp(prefix="tess-qmp-")
    ctl = os.path.join(tmp, "ctl")
    qmp = os.path.join(tmp, "qmp")
    log = open(os.path.join(tmp, "out"), "w+")
    # --qmp as QEMU's -qmp spells it; --ready-fd says when both sockets answer.
    ready_r, ready_w = os.pipe()
    proc = subprocess.Popen([tessera, "run", machine, "--display", "none", "--paused",
                             "--serial", "null", "--control", ctl,
                             "--qmp", "unix:%s,server,wait=off" % qmp,
                             "--ready-fd", str(ready_w)],
                            stdout=log, stderr=subprocess.STDOUT, pass_fds=(ready_w,))
    os.close(ready_w)
    try:
        check(read_ready(ready_r) == b"READY\n",
              "tessera exited before its control sockets listened")
        session(tessera, ctl, qmp, tmp)
        rc = proc.wait(timeout=TIMEOUT)
        check(rc == 0, "exit status %d after quit" % rc)
    except (Fail, EOFError, subprocess.TimeoutExpired) as e:
        print("FAIL:", e)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.seek(0)
        print(log.read()[-4000:])
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("qmp: greeting, negotiation, commands, errors, ids and events as QEMU's clients expect")
    return 0


def session(tessera, ctl, qmp, tmp):
    q = Qmp(qmp)
    g = q.greeting
    check(set(g) == {"QMP"}, "greeting: %r" % g)
    v = g["QMP"]["version"]
    check(all(isinstance(v["qemu"][k], int) for k in ("major", "minor", "micro")) and
          "Tessera" in v["package"], "greeting version: %r" % v)
    check(g["QMP"]["capabilities"] == [], "greeting capabilities: %r" % g)

    # Nothing but qmp_capabilities before negotiation; nothing offered.
    q.error("query-status", cls="CommandNotFound")
    q.error("qmp_capabilities", {"enable": ["oob"]})
    check(q.cmd("qmp_capabilities") == {}, "qmp_capabilities returns {}")
    q.error("qmp_capabilities", cls="CommandNotFound")

    st = q.cmd("query-status")
    check(st == {"status": "paused", "running": False, "singlestep": False},
          "started --paused: %r" % st)
    ver = q.cmd("query-version")
    check(ver == v, "query-version matches the greeting: %r" % ver)
    names = {c["name"] for c in q.cmd("query-commands")}
    for n in ("qmp_capabilities", "query-status", "stop", "cont", "system_reset",
              "system_powerdown", "quit", "screendump", "send-key", "query-version",
              "query-commands", "tessera-disk-commit", "tessera-screentext", "tessera-net",
              "tessera-save", "tessera-suspend", "tessera-eject", "tessera-insert"):
        check(n in names, "query-commands lists %s" % n)

    # ids are echoed whatever their type, on returns and errors alike.
    for ident in (7, "abc", {"a": [1, None, True]}):
        q.send("query-status", id=ident)
        r = q.reply()
        check(r.get("id") == ident and "return" in r, "id %r echoed: %r" % (ident, r))
    r = q.error("no-such-command", id=3, cls="CommandNotFound")
    check(r["id"] == 3, "id on an error: %r" % r)

    # Malformed input: each answered, the session goes on.
    q.error("screendump")                              # missing filename
    q.error("query-status", {"bogus": 1})              # unexpected argument
    q.send_raw(b'{"execute":"query-status","arguments":[]}')
    check("error" in q.reply(), "arguments must be an object")
    q.send_raw(b'{"execute":1}')
    check("error" in q.reply(), "execute must be a string")
    q.send_raw(b'{"hello":1}')
    check("error" in q.reply(), "a member other than execute/arguments/id")
    q.send_raw(b'[1,2]')
    check("error" in q.reply(), "an array is not a command")
    q.send_raw(b'{"execute": "query-status", oops}')
    check(q.reply()["error"]["class"] == "GenericError", "invalid JSON")
    q.send_raw(b'nonsense\n')
    check("error" in q.reply(), "junk between values")
    # Two commands in one write, split across writes, pretty-printed.
    q.send_raw(b'{"execute":"query-status","id":1}{"execute":"query-status","id":2}')
    check(q.reply()["id"] == 1 and q.reply()["id"] == 2, "two commands in one write")
    q.send_raw(b'{"execute":"query-')
    q.send_raw(b'status","id":"split"}')
    check(q.reply()["id"] == "split", "a command split across writes")
    q.send_raw(b'{\n  "execute": "query-status",\n  "id": "pretty"\n}\n')
    check(q.reply()["id"] == "pretty", "a pretty-printed command")
    # An id that is no JSON number once parsed (an infinity) is refused,
    # not echoed as something a client cannot parse.
    q.send_raw(b'{"execute":"query-status","id":1e999}')
    r = q.reply()
    check("error" in r and "id" not in r, "an infinite id: %r" % r)
    # Strings with brackets and escaped quotes do not confuse the framing.
    q.error("no-such-command", id='}{"\\', cls="CommandNotFound")

    # cont / stop, with their events.
    check(q.cmd("cont") == {}, "cont")
    q.event("RESUME")
    check(q.cmd("query-status")["status"] == "running", "running after cont")
    check(q.cmd("stop") == {}, "stop")
    q.event("STOP")
    check(q.cmd("query-status")["status"] == "paused", "paused after stop")
    check(q.cmd("stop") == {}, "stop when stopped is no error")
    check(q.cmd("cont") == {}, "cont again")
    q.event("RESUME")

    # A line-protocol client on the line socket meanwhile (tessera ctl);
    # the QMP client sees the STOP its pause causes.
    out = subprocess.run([tessera, "ctl", ctl, "pause"], capture_output=True, text=True,
                         timeout=TIMEOUT)
    check(out.returncode == 0 and "paused" in out.stdout, "tessera ctl pause: %r" % (out,))
    q.event("STOP")
    out = subprocess.run([tessera, "ctl", "--json", ctl, "resume"], capture_output=True,
                         text=True, timeout=TIMEOUT)
    check(out.returncode == 0 and json.loads(out.stdout)["ok"] is True,
          "tessera ctl --json resume: %r" % (out,))
    q.event("RESUME")

    # The line socket never greets; a QMP client there is told where QMP is.
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(ctl)
    s.sendall(b'{"execute":"qmp_capabilities"}\n')
    line = Qmp.__new__(Qmp)
    line.sock, line.buf, line.events, line.greeting = s, b"", [], None
    deadline = time.monotonic() + TIMEOUT
    while b"\n" not in line.buf:
        check(time.monotonic() < deadline and select.select([s], [], [], TIMEOUT)[0],
              "no reply on the line socket")
        data = s.recv(65536)
        check(data, "the line socket closed")
        line.buf += data
    first = json.loads(line.buf.split(b"\n", 1)[0])
    check(first.get("ok") is False and "--qmp" in first.get("error", ""),
          "a QMP client on the line socket is pointed to --qmp: %r" % first)
    s.close()

    # A client that does not wait for the greeting (echo ... | socat):
    # greeted first all the same, then answered.
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(qmp)
    s.sendall(b'{"execute":"qmp_capabilities"}{"execute":"query-status","id":"eager"}\n')
    eager = Qmp.__new__(Qmp)
    eager.sock, eager.buf, eager.events, eager.greeting = s, b"", [], None
    check("QMP" in eager.recv(), "an eager client is greeted first")
    check(eager.reply() == {"return": {}}, "eager negotiation")
    check(eager.reply()["id"] == "eager", "eager query-status")

    # screendump: PPM by default, PNG on request; absolute paths only.
    ppm = os.path.join(tmp, "shot.ppm")
    check(q.cmd("screendump", {"filename": ppm}) == {}, "screendump")
    with open(ppm, "rb") as f:
        head = f.read(2)
    check(head == b"P6", "screendump writes PPM by default: %r" % head)
    png = os.path.join(tmp, "shot.png")
    q.cmd("screendump", {"filename": png, "format": "png"})
    with open(png, "rb") as f:
        check(f.read(8) == b"\x89PNG\r\n\x1a\n", "screendump format png")
    q.error("screendump", {"filename": "relative.ppm"})
    q.error("screendump", {"filename": ppm, "format": "bmp"})

    # send-key: a known combination goes; an unknown key sends nothing.
    check(q.cmd("send-key", {"keys": [{"type": "qcode", "data": "shift"},
                                      {"type": "qcode", "data": "a"}],
                             "hold-time": 100}) == {}, "send-key")
    q.error("send-key", {"keys": [{"type": "qcode", "data": "nosuchkey"}]})
    q.error("send-key", {"keys": [{"type": "number", "data": 30}]})
    q.error("send-key", {"keys": []})

    # Tessera's own commands and the line protocol through QMP.
    hmp = q.cmd("human-monitor-command", {"command-line": "status"})
    check(isinstance(hmp, str) and "running" in hmp, "human-monitor-command: %r" % hmp)
    r = q.cmd("tessera-command", {"command": "help"})
    check("sendkey" in r["reply"], "tessera-command help: %r" % r)
    q.error("tessera-eject", {"device": "nosuchdrive"})
    q.error("tessera-disk-commit", {})
    snap = os.path.join(tmp, "state.snap")
    r = q.cmd("tessera-save", {"filename": snap})
    check(os.path.getsize(snap) > 0 and "reply" in r, "tessera-save: %r" % r)

    # Resets and the power button, with their events.
    check(q.cmd("system_reset") == {}, "system_reset")
    e = q.event("RESET")
    check(e["data"] == {"guest": False, "reason": "host-qmp-system-reset"}, "RESET: %r" % e)
    check(q.cmd("system_powerdown") == {}, "system_powerdown")
    q.event("POWERDOWN")

    # quit: the return, then SHUTDOWN, then the connection closes.
    check(q.cmd("quit") == {}, "quit")
    e = q.event("SHUTDOWN")
    check(e["data"] == {"guest": False, "reason": "host-qmp-quit"}, "SHUTDOWN: %r" % e)
    try:
        m = q.recv()
        raise Fail("message after SHUTDOWN: %r" % m)
    except EOFError:
        pass


if __name__ == "__main__":
    sys.exit(main())
