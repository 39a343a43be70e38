#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Run a command, keep its lines matching PATTERN in OUT, print "WALL CPU"
# (seconds; CPU = user + system of the command and its children).
# usage: cputime.py OUT PATTERN COMMAND [ARGS...]
import resource, subprocess, sys, time

out, pattern, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
t0 = time.monotonic()
p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=900)
wall = time.monotonic() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(out, "w") as f:
    for line in p.stdout.decode(errors="replace").splitlines():
        if pattern in line:
            f.write(line + "\n")
print(f"{wall:.6f} {ru.ru_utime + ru.ru_stime:.6f}")
