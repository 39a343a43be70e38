#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Host cost of the display per frame, 1024x768x32, as instructions counted
# by callgrind (stable on a loaded machine, unlike time): an unchanged
# screen, and a screen the guest rewrote whole (its writes counted apart
# and taken off, so the figure is the render's). A second bench-video
# binary (e.g. built from an older commit) may be given as BASELINE.
# (`bench-video` without a case prints the same in microseconds and as a
# share of one core at 60 frames a second.)
# usage: run-frames.sh BENCH-VIDEO [FRAMES]   (env BASELINE=/path/to/bench-video)
set -e
bench=${1:?usage: run-frames.sh BENCH-VIDEO [FRAMES]}
frames=${2:-20}
command -v valgrind >/dev/null 2>&1 || { echo "run-frames: valgrind missing" >&2; exit 77; }

ir() {   # BINARY FRAMES CASE -> instructions
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$1" "$2" "$3" 2>&1 |
        sed -n 's/.*refs: *//p' | tr -d ,
}

report() {   # NAME BINARY
    base=$(ir "$2" 0 static)
    st=$(ir "$2" "$frames" static)
    wr=$(ir "$2" "$frames" write)
    ch=$(ir "$2" "$frames" change)
    s=$(( (st - base) / frames ))
    w=$(( (wr - base) / frames ))
    c=$(( (ch - wr) / frames ))
    printf '%-10s %16d %22d %18d\n' "$1" "$s" "$c" "$w"
}

echo "instructions per 1024x768x32 frame ($frames frames, callgrind):"
printf '%-10s %16s %22s %18s\n' build "static screen" "full-screen change" "(guest writes)"
report tessera "$bench"
[ -n "$BASELINE" ] && report baseline "$BASELINE"
exit 0
