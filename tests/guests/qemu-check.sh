#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Cross-check a guest test ROM on QEMU (TCG), the reference for what the
# host CPU cannot show (system instructions): the ROM must reach DONE, and
# every check it fails there must be one listed as a known QEMU deviation
# from the hardware (so a check that is wrong about the hardware shows up
# here; a later QEMU that deviates less still passes). Skipped when
# qemu-system-i386 is not installed.
# usage: qemu-check.sh QEMU_CPU ROM [known deviation: FAIL name]...
cpu=$1 rom=$2
shift 2
command -v qemu-system-i386 >/dev/null 2>&1 || { echo "SKIP: no qemu-system-i386"; exit 77; }
out=$(timeout 60 qemu-system-i386 -M pc -accel tcg -icount shift=0,sleep=off -cpu "$cpu" \
      -bios "$rom" -display none -nodefaults -chardev stdio,id=d \
      -device isa-debugcon,iobase=0xe9,chardev=d \
      -device isa-debug-exit,iobase=0xf4,iosize=4 2>&1)
printf '%s\n' "$out"
printf '%s\n' "$out" | grep -q '^DONE' || { echo "qemu-check: no DONE line" >&2; exit 1; }
bad=0
fails=$(printf '%s\n' "$out" | sed -n 's/^FAIL //p')
IFS='
'
for f in $fails; do
    known=0
    for k in "$@"; do
        [ "$f" = "$k" ] && known=1
    done
    if [ $known = 0 ]; then
        echo "qemu-check: '$f' fails on QEMU too, and is no known QEMU deviation" >&2
        bad=1
    fi
done
exit $bad
