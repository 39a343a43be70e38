#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Several machines in one process: `tessera run a.xml b.xml` runs the same
# guest ROM (rm.asm) on two machines, each on its own thread with its own
# RAM, devices, clock and debug console file. Deterministic runs must
# print exactly what a machine run alone prints (the ROM prints the
# instruction count, so shared clocks or state would show), and the
# process must end with the guest's exit status.
# usage: two-machines.sh TESSERA ROM
set -u
tessera=$1 rom=$(realpath "$2")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for n in a b solo; do
    cat > "$dir/$n.xml" <<XML
<machine name="$n" base="bare">
  <device id="bios" file="$rom"/>
  <device id="debugcon" output="file:$dir/$n.log"/>
</machine>
XML
done
"$tessera" run --deterministic "$dir/solo.xml" >/dev/null 2>&1
st=$?
[ "$st" -eq 33 ] || { echo "single machine: exit status $st, expected 33" >&2; exit 1; }
grep -q '^DONE' "$dir/solo.log" || { echo "single machine: no DONE" >&2; exit 1; }
"$tessera" run --deterministic "$dir/a.xml" "$dir/b.xml" >"$dir/out" 2>&1
st=$?
cat "$dir/out"
[ "$st" -eq 33 ] || { echo "two machines: exit status $st, expected 33" >&2; exit 1; }
for n in a b; do
    if ! cmp -s "$dir/solo.log" "$dir/$n.log"; then
        echo "machine $n printed something else than a machine alone:" >&2
        diff "$dir/solo.log" "$dir/$n.log" >&2
        exit 1
    fi
done
echo "two machines: both printed the single machine's $(wc -l < "$dir/solo.log") lines"
exit 0
