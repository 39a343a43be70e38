#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Linux boot benchmark: wall time from power-on to the busybox shell prompt
# of Debian's 686 kernel (the ISO scripts/guest-assets.sh builds), on
# Tessera's x86 interpreter and on QEMU TCG (qemu-system-i386 -cpu
# pentium3), taking turns RUNS times in one run so both see the same host
# load. The clock starts when the emulator process starts and stops when
# the prompt arrives on the serial port (tests/linux/guestcon.py); both
# then power off. Reports each run, the medians and Tessera/QEMU.
# Use a release build: meson setup build-rel --buildtype=release, then
#   meson test -C build-rel --benchmark --suite linux
# usage: bench-linux.sh TESSERA [RUNS] [FLAVOUR]
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
tessera=${1:?usage: bench-linux.sh TESSERA [RUNS] [FLAVOUR]}
runs=${2:-3}
flavour=${3:-686}
guestcon="$root/tests/linux/guestcon.py"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

one() {  # $1 = emulator -> seconds to the prompt, or nothing
    python3 "$guestcon" --emu "$1" --tessera "$tessera" --timeout 1800 linux "$flavour" \
        >"$tmp/$1.log" 2>&1
    rc=$?
    [ $rc -eq 0 ] && sed -n "s/^BOOT-TO-PROMPT $1 //p" "$tmp/$1.log"
    return $rc
}
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

: >"$tmp/qemu.t"; : >"$tmp/tessera.t"
tess_ok=1
i=0
while [ $i -lt "$runs" ]; do
    i=$((i + 1))
    q=$(one qemu) || { echo "qemu run $i failed:"; tail -20 "$tmp/qemu.log"; exit 1; }
    echo "$q" >>"$tmp/qemu.t"
    t=""
    if [ $tess_ok -eq 1 ]; then
        t=$(one tessera)
        case $? in
        0) echo "$t" >>"$tmp/tessera.t" ;;
        77) tess_ok=0; echo "tessera: $(grep SKIP "$tmp/tessera.log")" ;;
        *) echo "tessera run $i failed:"; tail -20 "$tmp/tessera.log"; exit 1 ;;
        esac
    fi
    echo "run $i: qemu ${q}s${t:+  tessera ${t}s}"
done
qm=$(median <"$tmp/qemu.t")
echo "linux $flavour power-on to shell prompt, median of $runs: qemu-tcg ${qm}s"
if [ $tess_ok -eq 1 ]; then
    tm=$(median <"$tmp/tessera.t")
    echo "linux $flavour power-on to shell prompt, median of $runs: tessera ${tm}s"
    awk -v t="$tm" -v q="$qm" 'BEGIN { printf "ratio tessera/qemu-tcg: %.2f\n", t / q }'
else
    echo "tessera: not measured (see above)"
    exit 77
fi
