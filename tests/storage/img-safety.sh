#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# `tessera img` under abuse (issue 11). Differencing parents are not
# trusted: a raw parent must be the file the child was made against, a
# commit into a raw parent needs it named, loops end at once, FIFOs and
# devices are refused without blocking. A killed convert never leaves half
# an image under the target's name.
# Every command runs under `timeout`: a hang (the old exponential search, a
# FIFO open) fails the test instead of stalling it.
# usage: img-safety.sh TESSERA
set -u
T=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
expect() {   # expect STATUS DESCRIPTION COMMAND...
    want=$1; what=$2; shift 2
    timeout 30 "$@" >out.txt 2>err.txt; got=$?
    if [ "$got" -eq "$want" ]; then ok "$what"; else
        bad "$what: exit $got, wanted $want"; cat out.txt err.txt; fi
}

head -c 1048576 /dev/urandom >p.raw
expect 0 "child of a raw parent" "$T" img create -o parent=p.raw c.vhd
expect 0 "it reads through" "$T" img convert -O raw c.vhd c.out
cmp -s p.raw c.out && ok "reads as the parent" || bad "reads as the parent"

# Another file put where the parent was, older than the child (what the
# old check let through): not the parent.
cp p.raw keep.raw
head -c 1048576 /dev/urandom >secret.raw
touch -d "2020-01-01" secret.raw
mv secret.raw p.raw
expect 1 "a substituted raw parent is refused" "$T" img convert -O raw c.vhd leak.out
grep -q "not its parent" err.txt || { bad "message names the mismatch"; cat err.txt; }
[ -e leak.out ] && bad "nothing was copied out" || ok "nothing was copied out"
expect 1 "commit into it is refused" "$T" img commit c.vhd p.raw
mv keep.raw p.raw
# A child that differs from p.raw in one sector.
cp p.raw w.raw
head -c 512 /dev/urandom | dd of=w.raw bs=512 seek=3 conv=notrunc 2>/dev/null
expect 0 "a differencing image over the raw parent" \
    "$T" img convert -O vhd -o type=differencing,parent=p.raw w.raw w.vhd
expect 1 "commit into an unnamed raw parent is refused" "$T" img commit w.vhd
grep -q "name it" err.txt || { bad "message says to name it"; cat err.txt; }
cmp -s p.raw c.out && ok "the parent is untouched" || bad "the parent is untouched"
expect 1 "commit into a different named file is refused" "$T" img commit w.vhd c.out
expect 0 "commit into the named raw parent" "$T" img commit w.vhd p.raw
cmp -s p.raw w.raw && ok "the parent took the child's data" || bad "commit result"

# Loops: self, A-B, A-B-C. Each image has three locators and a name, all
# naming its parent; the old search tried every candidate at every level
# (4^64 opens) and never ended.
expect 0 "base" "$T" img create -f vhd -o type=dynamic s.vhd 1M
expect 0 "child of s" "$T" img create -o parent=s.vhd s1.vhd
mv s1.vhd s.vhd
expect 1 "a self loop is refused" "$T" img info s.vhd
grep -q "loop" err.txt || { bad "self loop message"; cat err.txt; }

expect 0 "a" "$T" img create -f vhd -o type=dynamic a.vhd 1M
expect 0 "b over a" "$T" img create -o parent=a.vhd b.vhd
expect 0 "a2 over b" "$T" img create -o parent=b.vhd a2.vhd
mv a2.vhd a.vhd
expect 1 "an A-B loop is refused" "$T" img convert -O raw b.vhd ab.out
expect 1 "and from the other end" "$T" img check a.vhd

expect 0 "x" "$T" img create -f vhd -o type=dynamic x.vhd 1M
expect 0 "y over x" "$T" img create -o parent=x.vhd y.vhd
expect 0 "z over y" "$T" img create -o parent=y.vhd z.vhd
expect 0 "x2 over z" "$T" img create -o parent=z.vhd x2.vhd
mv x2.vhd x.vhd
expect 1 "an A-B-C loop is refused" "$T" img info z.vhd

# A FIFO or a device where the parent should be: refused, not opened.
expect 0 "f base" "$T" img create -f vhd -o type=dynamic f.vhd 1M
expect 0 "child of f" "$T" img create -o parent=f.vhd fc.vhd
rm f.vhd
mkfifo f.vhd
expect 1 "a FIFO parent is refused without blocking" "$T" img info fc.vhd
grep -q "not a regular file" err.txt || { bad "FIFO message"; cat err.txt; }
rm f.vhd
ln -s /dev/zero f.vhd
expect 1 "a device parent is refused" "$T" img info fc.vhd
rm f.vhd
mkfifo top.vhd
expect 1 "a FIFO as the image itself is refused without blocking" "$T" img info top.vhd

# convert: built under a temporary name and renamed. Killed part-way, the
# target holds what it held before (or, if the kill came late, the whole
# new image), never a partial one; the old code truncated it at once.
truncate -s 512M big.raw
i=0
while [ $i -lt 512 ]; do
    head -c 65536 /dev/urandom | dd of=big.raw bs=64k seek=$((i * 16)) conv=notrunc 2>/dev/null
    i=$((i + 4))
done
expect 0 "the complete conversion, for reference" "$T" img convert -O raw big.raw ref.raw
for t in 0.05 0.1 0.2 0.4; do
    printf 'previous contents' >dst.img
    timeout -s KILL "$t" "$T" img convert -O raw big.raw dst.img >/dev/null 2>&1
    if [ "$(cat dst.img 2>/dev/null | head -c 17)" = "previous contents" ] ||
       cmp -s dst.img ref.raw; then
        ok "convert killed after ${t}s: the target is the old file or the whole image"
    else
        bad "convert killed after ${t}s left a partial target"
    fi
    rm -f .dst.img.*
done
rm -f big.raw ref.raw dst.img
mkfifo dst.fifo
expect 1 "convert onto a FIFO is refused" "$T" img convert -O raw c.vhd dst.fifo
[ -p dst.fifo ] && ok "the FIFO is left alone" || bad "the FIFO is left alone"

[ "$fails" -eq 0 ] || { echo "$fails failed"; exit 1; }
