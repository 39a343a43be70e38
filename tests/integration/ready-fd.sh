#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# `tessera run --ready-fd N`: what a script blocks on instead of polling for
# the control socket. READY and a newline come only once both sockets
# accept (a connection made the moment the line is read is answered, with
# no retry), then the descriptor is closed while the machine goes on; a run
# that fails before that, even after its machine is built (a socket path in
# the way), closes it with nothing written; a reader that went away does
# not stop the run. A descriptor that is not open, or one of 0-2, is a
# usage error.
set -u
tessera=$1
tmp=$(mktemp -d /tmp/tess-ready-XXXXXX)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; [ -f "$tmp/err" ] && head -20 "$tmp/err"; fail=1; }
command -v timeout >/dev/null || { echo "SKIP: no timeout(1)"; exit 77; }

fifo=$tmp/ready
mkfifo "$fifo" || { echo "SKIP: no mkfifo"; exit 77; }

# start ARGS...: tessera run ARGS --ready-fd 3 in the background (pid), the
# fifo on its descriptor 3; then `readiness` is everything it wrote there,
# read until it closed the descriptor (a blocking read, bounded by timeout).
start() {
    "$tessera" run "$@" --ready-fd 3 3>"$fifo" >"$tmp/out" 2>"$tmp/err" </dev/null &
    pid=$!
    readiness=$(timeout 60 cat "$fifo")
}

# Ready: both sockets answer at once, and the descriptor was closed (cat
# returned) with the machine still there, paused.
for round in 1 2 3; do
    rm -f "$tmp/ctl" "$tmp/qmp"
    start --paused --display none --control "$tmp/ctl" --qmp "$tmp/qmp"
    [ "$readiness" = READY ] || bad "round $round: the ready descriptor said '$readiness', not READY"
    kill -0 "$pid" 2>/dev/null || bad "round $round: the run ended after READY"
    timeout 30 "$tessera" ctl "$tmp/ctl" status >"$tmp/st" 2>&1 || bad "round $round: ctl status at READY failed: $(cat "$tmp/st")"
    grep -q paused "$tmp/st" || bad "round $round: status at READY: $(cat "$tmp/st")"
    # tessera ctl on the QMP socket reads the greeting and says it is QMP.
    timeout 30 "$tessera" ctl "$tmp/qmp" status >"$tmp/q" 2>&1
    grep -q -- "--qmp\|QMP" "$tmp/q" || bad "round $round: the QMP socket did not greet at READY: $(cat "$tmp/q")"
    timeout 30 "$tessera" ctl "$tmp/ctl" quit >/dev/null 2>&1 || bad "round $round: quit"
    wait "$pid"; rc=$?; pid=
    [ $rc -eq 0 ] || bad "round $round: exit status $rc after quit"
done
echo "ok: READY once the sockets answer (3 rounds)"

# A machine file with an error: closed with nothing, after the message.
printf '<machine base="pc">\n  <device type="pic8529" id="x"/>\n</machine>\n' >"$tmp/broken.xml"
start "$tmp/broken.xml" --display none --control "$tmp/ctl"
wait "$pid"; rc=$?; pid=
[ -z "$readiness" ] || bad "a machine that failed said '$readiness'"
[ $rc -eq 2 ] || bad "a machine that failed exited $rc, not 2"
grep -q "pic8529" "$tmp/err" || bad "no error message for the broken machine"
echo "ok: a broken machine file closes the descriptor empty"

# The machine builds, then its control socket cannot be made (a file is
# in the way): the failure comes after realize, and still no READY.
: >"$tmp/notasocket"
start --paused --display none --control "$tmp/notasocket"
wait "$pid"; rc=$?; pid=
[ -z "$readiness" ] || bad "a run whose socket failed said '$readiness'"
[ $rc -eq 2 ] || bad "a run whose socket failed exited $rc, not 2"
grep -q "not a socket" "$tmp/err" || bad "no error message for the socket in the way"
echo "ok: a socket that cannot listen closes the descriptor empty"

# Nobody reading any more (the read end closed): READY finds a broken
# pipe, which must not end the run with SIGPIPE. The run suspends itself
# after 100000 instructions and exits 0.
python3 -c 'import os, subprocess, sys
r, w = os.pipe()
os.close(r)
p = subprocess.run([sys.argv[1], "run", "--display", "none", "--serial", "null",
                    "--suspend-at", "100000", "--suspend-file", sys.argv[2],
                    "--ready-fd", str(w)], pass_fds=(w,), stderr=subprocess.DEVNULL, timeout=120)
sys.exit(0 if p.returncode == 0 else 1)' "$tessera" "$tmp/s.snap" ||
    bad "a run whose reader went away did not go on (SIGPIPE?)"
[ -s "$tmp/s.snap" ] || bad "a run whose reader went away did not suspend"
echo "ok: a reader gone away does not stop the run"

# Usage errors: the terminal's descriptors, and one that is not open.
"$tessera" run --ready-fd 1 --display none >/dev/null 2>"$tmp/err" </dev/null
[ $? -eq 2 ] && grep -q "ready-fd 1" "$tmp/err" || bad "--ready-fd 1 is not a usage error"
"$tessera" run --ready-fd 9 --display none >/dev/null 2>"$tmp/err" </dev/null 9>&-
[ $? -eq 2 ] && grep -q "ready-fd 9" "$tmp/err" || bad "--ready-fd of a closed descriptor is not a usage error"
echo "ok: usage errors"

[ $fail -eq 0 ] && echo "ready-fd: all passed"
exit $fail
