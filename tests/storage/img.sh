#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# `tessera img`: create, info, check (--repair), convert between raw and
# every VHD type (checked against qemu-img), commit, compact, exit codes.
# usage: img.sh TESSERA
set -u
T=$1
command -v qemu-img >/dev/null 2>&1 && command -v qemu-io >/dev/null 2>&1 || {
    echo "qemu-img / qemu-io not installed (qemu-utils): skipped"; exit 77; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
expect() {   # expect STATUS DESCRIPTION COMMAND...
    want=$1; what=$2; shift 2
    "$@" >out.txt 2>err.txt; got=$?
    if [ "$got" -eq "$want" ]; then ok "$what"; else
        bad "$what: exit $got, wanted $want"; cat out.txt err.txt; fi
}
same() {     # same DESCRIPTION FMT1 FILE1 FMT2 FILE2
    if qemu-img compare -q -f "$2" -F "$4" "$3" "$5"; then ok "$1"; else bad "$1"; fi
}

# A sparse 8 MiB source with data in a few places.
truncate -s 8M src.raw
head -c 262144 /dev/urandom | dd of=src.raw bs=64k seek=3 conv=notrunc 2>/dev/null
head -c 1024 /dev/urandom | dd of=src.raw bs=512 seek=9000 conv=notrunc 2>/dev/null
head -c 512 /dev/urandom | dd of=src.raw bs=512 seek=16383 conv=notrunc 2>/dev/null

expect 0 "create dynamic" "$T" img create -f vhd -o type=dynamic d.vhd 64M
grep -q "67125248" out.txt || bad "create reports the CHS-rounded size"
expect 0 "info" "$T" img info d.vhd
grep -q "file format: vhd (dynamic)" out.txt && grep -q "67125248 bytes" out.txt &&
    grep -q "geometry: 964/8/17" out.txt && grep -q "allocated blocks: 0 of 33" out.txt ||
    { bad "info output"; cat out.txt; }
expect 0 "qemu reads our size" sh -c 'qemu-img info -f vpc d.vhd | grep -q 67125248'
expect 0 "create raw" "$T" img create -f raw r.img 1M
[ "$(stat -c %s r.img)" = 1048576 ] || bad "raw size"
expect 0 "create fixed, block size option ignored by fixed" \
    "$T" img create -f vhd -o type=fixed,block_size=512K f.vhd 4M

# convert raw -> every VHD type and back
expect 0 "convert raw -> dynamic" "$T" img convert -O vhd src.raw dyn.vhd
[ -s err.txt ] && bad "no progress output when stderr is not a terminal"
same "dynamic equals its source" raw src.raw vpc dyn.vhd
expect 0 "dynamic is sparse" sh -c "\"$T\" img info dyn.vhd | grep -q 'allocated blocks: 3 of 5'"
expect 0 "convert raw -> fixed" "$T" img convert -O vhd -o type=fixed src.raw fix.vhd
same "fixed equals its source" raw src.raw vpc fix.vhd
expect 0 "convert raw -> dynamic, 512K blocks" \
    "$T" img convert -O vhd -o block_size=512K src.raw small.vhd
same "small-block dynamic equals its source" raw src.raw vpc small.vhd
expect 0 "convert dynamic -> raw" "$T" img convert dyn.vhd back.raw
same "raw round trip" raw src.raw raw back.raw
expect 0 "convert fixed -> dynamic" "$T" img convert -O vhd fix.vhd dyn2.vhd
same "fixed -> dynamic" vpc fix.vhd vpc dyn2.vhd
qemu-img create -q -f vpc -o subformat=dynamic q.vhd 8M
qemu-io -f vpc -c 'write -P 0xab 0 64k' -c 'write -P 0xcd 5M 1M' q.vhd >/dev/null
expect 0 "convert qemu's dynamic -> raw" "$T" img convert q.vhd q.raw
same "qemu's image read through ours" vpc q.vhd raw q.raw
expect 0 "check qemu's image" "$T" img check q.vhd

# differencing: a child of dyn.vhd that reads as src2.raw
cp src.raw src2.raw
head -c 131072 /dev/urandom | dd of=src2.raw bs=64k seek=40 conv=notrunc 2>/dev/null
expect 0 "convert raw -> differencing" \
    "$T" img convert -O vhd -o type=differencing,parent=dyn.vhd src2.raw child.vhd
expect 0 "info shows the parent chain" "$T" img info child.vhd
grep -q "file format: vhd (differencing)" out.txt && grep -q "parent image:" out.txt ||
    { bad "differencing info"; cat out.txt; }
expect 0 "child holds only the difference" sh -c \
    "\"$T\" img info child.vhd | grep -q 'allocated blocks: 1 of 5'"
expect 0 "differencing -> raw" "$T" img convert child.vhd child.raw
same "differencing reads as its source" raw src2.raw raw child.raw
expect 0 "create differencing" "$T" img create -o parent=child.vhd grandchild.vhd
expect 0 "three deep -> raw" "$T" img convert grandchild.vhd gc.raw
same "three deep reads through" raw src2.raw raw gc.raw
expect 0 "commit" "$T" img commit child.vhd
same "commit: the parent reads as the child did" raw src2.raw vpc dyn.vhd
expect 0 "check after commit" "$T" img check child.vhd
expect 0 "commit keeps what the child reads: its own child stays valid" \
    "$T" img convert grandchild.vhd gc2.raw
same "three deep after commit" raw src2.raw raw gc2.raw
touch -d "@$(( $(date +%s) + 3600 ))" child.vhd
expect 1 "grandchild refused: its parent changed" "$T" img info grandchild.vhd
grep -q "modified" err.txt || { bad "parent-changed message"; cat err.txt; }

# check and repair
cp dyn.vhd broken.vhd
printf 'X' | dd of=broken.vhd bs=1 seek=100 conv=notrunc 2>/dev/null
expect 1 "check finds a corrupt footer copy" "$T" img check broken.vhd
grep -q "footer copy" out.txt || bad "check names the problem"
expect 0 "check --repair" "$T" img check --repair broken.vhd
expect 0 "clean after repair" "$T" img check broken.vhd
same "repair kept the data" vpc dyn.vhd vpc broken.vhd

# compact: a block of zeros written by qemu is dropped
cp dyn.vhd z.vhd
qemu-io -f vpc -c 'write -z 4M 1M' -c 'write -P 0 5M 1M' z.vhd >/dev/null
cp z.vhd z0.vhd
before=$(stat -c %s z.vhd)
expect 0 "compact" "$T" img compact z.vhd
after=$(stat -c %s z.vhd)
[ "$after" -lt "$before" ] && ok "compact shrank the file" || bad "compact: $before -> $after"
same "compact kept the data" vpc z0.vhd vpc z.vhd
expect 1 "compact refuses a fixed image" "$T" img compact fix.vhd

# usage and failures
expect 2 "no command" "$T" img
expect 2 "unknown command" "$T" img frobnicate
expect 2 "create without size" "$T" img create x.vhd
expect 2 "bad option" "$T" img create -o colour=red x.vhd 1M
expect 1 "unknown type" "$T" img create -o type=sideways x.vhd 1M
expect 1 "missing file" "$T" img check nosuch.vhd
expect 1 "commit of a non-differencing image" "$T" img commit dyn.vhd
expect 1 "convert onto itself" "$T" img convert -O vhd dyn.vhd dyn.vhd
same "convert onto itself left it alone" raw src2.raw vpc dyn.vhd

[ "$fails" -eq 0 ] || { echo "$fails failed"; exit 1; }
