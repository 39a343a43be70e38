#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The plugin ABI against the last release's (issue 11). Installs BUILD_DIR
# into a scratch prefix, describes libtessera and the SDK headers with
# libabigail's abidw (plus .ci/abi/anchor.c, which shows abidw the structs
# plugins pass each other), and compares that with the recorded baseline
# (.ci/abi/lib.abi and anchor.abi, made at TESS_ABI_MAJOR.MINOR in
# .ci/abi/version):
#   - an incompatible change needs a TESS_ABI_MAJOR above the baseline's;
#   - an addition needs a TESS_ABI_MINOR above the baseline's (same major);
#   - no change: the numbers must equal the baseline's.
# A release records a new baseline: scripts/abi-check.sh --record BUILD_DIR.
# Exit 0 fine, 1 failed, 77 abigail-tools not installed.
set -u
record=0
[ "${1:-}" = "--record" ] && { record=1; shift; }
build=${1:-build}
cd "$(dirname "$0")/.."
command -v abidw >/dev/null 2>&1 && command -v abidiff >/dev/null 2>&1 ||
    { echo "abi-check: SKIP: abigail-tools is not installed"; exit 77; }
tmp=$(mktemp -d /tmp/tess-abi-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
meson install -C "$build" --destdir "$tmp/inst" --quiet >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log"; exit 1; }
lib=$(find "$tmp/inst" -name 'libtessera.so.*.*' -type f | head -1)
hdr=$(find "$tmp/inst" -type d -path '*/include/tessera' | head -1)
[ -n "$lib" ] && [ -n "$hdr" ] || { echo "abi-check: no installed libtessera / headers"; exit 1; }
cc -shared -fPIC -g -O0 $(pkg-config --cflags glib-2.0) -I"$(dirname "$hdr")" \
    -o "$tmp/libtess-abi-anchor.so" .ci/abi/anchor.c || exit 1
describe() {  # -> $1
    abidw --no-show-locs --no-corpus-path --headers-dir "$hdr" "$lib" >"$tmp/lib.abi" &&
    abidw --no-show-locs --no-corpus-path --headers-dir "$hdr" "$tmp/libtess-abi-anchor.so" \
        >"$tmp/anchor.abi" &&
    cat "$tmp/lib.abi" "$tmp/anchor.abi" >"$1"
}
ver() { sed -n "s/^#define TESS_ABI_$1 \([0-9]*\).*/\1/p" "$hdr/plugin.h"; }
major=$(ver MAJOR) minor=$(ver MINOR)
if [ "$record" = 1 ]; then
    describe "$tmp/all.abi" || exit 1
    cp "$tmp/lib.abi" .ci/abi/lib.abi
    cp "$tmp/anchor.abi" .ci/abi/anchor.abi
    echo "$major.$minor" >.ci/abi/version
    echo "abi-check: recorded the baseline for plugin ABI $major.$minor"
    exit 0
fi
describe "$tmp/all.abi" || exit 1
base=$(cat .ci/abi/version)
bmajor=${base%.*} bminor=${base#*.}
status=0
for part in lib anchor; do
    abidiff --no-show-locs .ci/abi/$part.abi "$tmp/$part.abi" >"$tmp/$part.diff" 2>&1
    rc=$?
    [ $((rc & 3)) -ne 0 ] && { echo "abi-check: abidiff failed"; cat "$tmp/$part.diff"; exit 1; }
    [ $((rc & 8)) -ne 0 ] && status=8
    [ $((rc & 4)) -ne 0 ] && [ "$status" -lt 4 ] && status=4
done
show() { cat "$tmp/lib.diff" "$tmp/anchor.diff" | head -60; }
if [ "$status" = 8 ]; then
    if [ "$major" -le "$bmajor" ]; then
        echo "abi-check: FAIL: incompatible ABI change without a TESS_ABI_MAJOR bump" \
             "(baseline $base, now $major.$minor):"
        show; exit 1
    fi
    echo "abi-check: incompatible change with TESS_ABI_MAJOR $bmajor -> $major: ok" \
         "(record the new baseline at release: scripts/abi-check.sh --record)"
elif [ "$status" = 4 ]; then
    if [ "$major" -eq "$bmajor" ] && [ "$minor" -le "$bminor" ]; then
        echo "abi-check: FAIL: the ABI grew without a TESS_ABI_MINOR bump (baseline $base," \
             "now $major.$minor):"
        show; exit 1
    fi
    echo "abi-check: additions with plugin ABI $base -> $major.$minor: ok"
else
    if [ "$major.$minor" != "$base" ]; then
        echo "abi-check: FAIL: plugin ABI $major.$minor but nothing changed since $base"
        exit 1
    fi
    echo "abi-check: plugin ABI $major.$minor unchanged: ok"
fi
exit 0
