#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# `tessera img` where it meets qemu-img's conventions, with qemu-img as
# the oracle: formats Tessera does not read are named and refused (never
# read as raw); the output format follows -f/-O or the file's name; -b/-F
# make differencing children; -p shows progress; --output=json for info
# and check; resize grows raw and VHD images (shrinks only with --shrink);
# usage errors exit 2; every subcommand has --help and takes --opt=value.
# usage: img-parity.sh TESSERA
set -u
T=$1
command -v qemu-img >/dev/null 2>&1 && command -v qemu-io >/dev/null 2>&1 || {
    echo "SKIP: qemu-img / qemu-io not installed (qemu-utils)"; exit 77; }
command -v python3 >/dev/null 2>&1 || { echo "SKIP: no python3"; exit 77; }
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
json() {     # json FILE EXPR: print EXPR evaluated on FILE's JSON as j
    python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}
qsize() { qemu-img info --output=json "$@" | python3 -c 'import json,sys; print(json.load(sys.stdin)["virtual-size"])'; }
qfmt() { qemu-img info --output=json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["format"])'; }

# ---- foreign formats: named, refused, never copied out as raw --------------
for f in qcow2 vmdk vdi vhdx qed; do
    qemu-img create -q -f $f "x.$f" 4M || { bad "qemu-img create $f"; continue; }
    expect 1 "info refuses $f" "$T" img info "x.$f"
    case $f in vmdk) name=VMDK ;; vdi) name=VDI ;; vhdx) name=VHDX ;; qed) name=QED ;; *) name=$f ;; esac
    grep -q "a $name image" err.txt || { bad "info names $f: $(cat err.txt)"; }
    expect 1 "convert refuses $f" "$T" img convert "x.$f" "x-$f.raw"
    [ -e "x-$f.raw" ] && bad "convert of $f left an output"
    expect 1 "check refuses $f" "$T" img check "x.$f"
done
qemu-img create -q -f qcow -o size=4M x.qcow 2>/dev/null &&
    { expect 1 "info refuses qcow v1" "$T" img info x.qcow; grep -q "qcow (version 1)" err.txt || bad "qcow v1 named"; }
# Told it is raw, it is read as raw (as qemu-img -f raw does).
expect 0 "-f raw reads any file as raw" "$T" img info -f raw x.qcow2
# And a raw disk that merely holds an ISO or zeros is still raw.
truncate -s 1M plain.img
expect 0 "plain file is raw" "$T" img info plain.img
grep -q "file format: raw" out.txt || bad "plain file format"

# ---- output format from -f or the name -----------------------------------
expect 0 "create raw.img" "$T" img create raw.img 1G
[ "$(qfmt raw.img)" = raw ] && [ "$(stat -c %s raw.img)" = 1073741824 ] && ok "raw.img is raw, 1 GiB" ||
    bad "create raw.img: $(qfmt raw.img) $(stat -c %s raw.img)"
expect 0 "create d.vhd" "$T" img create d.vhd 64M
[ "$(qfmt d.vhd)" = vpc ] && ok "d.vhd is a VHD" || bad "d.vhd format $(qfmt d.vhd)"
expect 0 "create D.VHD (any case)" "$T" img create D.VHD 8M
[ "$(qfmt D.VHD)" = vpc ] || bad "D.VHD format"
expect 0 "-f vhd wins over the name" "$T" img create -f vhd forced.img 8M
[ "$(qfmt forced.img)" = vpc ] || bad "forced.img format"
expect 0 "--format=raw wins over the name" "$T" img create --format=raw forced.vhd 1M
[ "$(qfmt forced.vhd)" = raw ] || bad "forced.vhd format"
expect 0 "convert to .vhd by name" "$T" img convert raw.img conv.vhd
[ "$(qfmt conv.vhd)" = vpc ] || bad "conv.vhd format"
expect 0 "convert to anything else: raw" "$T" img convert d.vhd conv.bin
[ "$(qfmt conv.bin)" = raw ] || bad "conv.bin format"

# ---- -b / -F -----------------------------------------------------------------
qemu-io -f vpc -c 'write -P 0x5a 1M 64k' d.vhd >/dev/null
# (QEMU's vpc driver does not follow VHD parents: Tessera reads the child.)
expect 0 "create -b" "$T" img create -b d.vhd -F vhd child.vhd
"$T" img info --output=json child.vhd >j.txt
[ "$(json j.txt 'j["format-specific"]["data"]["subformat"]')" = differencing ] &&
    [ "$(json j.txt 'j["backing-filename"].endswith("/d.vhd")')" = True ] &&
    [ "$(json j.txt 'j["virtual-size"]')" = "$(qsize d.vhd)" ] &&
    ok "a differencing child of d.vhd, its size" || { bad "child's parent"; cat j.txt; }
"$T" img convert child.vhd child.raw >/dev/null && "$T" img convert d.vhd d.raw >/dev/null &&
    cmp -s child.raw d.raw && ok "child reads as its parent" || bad "child reads as its parent"
expect 1 "-F that does not match the parent" "$T" img create -b d.vhd -F raw child2.vhd
grep -q "is a vhd image" err.txt || bad "-F mismatch message: $(cat err.txt)"
expect 2 "-b with a raw output" "$T" img create -b d.vhd child.raw
expect 2 "-F without -b" "$T" img create -F vhd c3.vhd 1M
json_alloc() { "$T" img info --output=json "$1" >j.txt && json j.txt 'j["format-specific"]["data"]["allocated-blocks"]'; }
expect 0 "convert -B of an identical source" "$T" img convert -B d.vhd d.raw same.vhd
[ "$(json_alloc same.vhd)" = 0 ] && ok "-B child holds nothing of an identical source" ||
    bad "-B child allocated $(json_alloc same.vhd) blocks"
cp d.raw d2.raw
head -c 4096 /dev/urandom | dd of=d2.raw bs=4096 seek=5000 conv=notrunc 2>/dev/null
expect 0 "convert -B: a child holding the difference" "$T" img convert -B d.vhd d2.raw diff.vhd
[ "$(json_alloc diff.vhd)" = 1 ] || bad "-B child allocated $(json_alloc diff.vhd) blocks, not 1"
"$T" img convert diff.vhd diff.raw >/dev/null && cmp -s diff.raw d2.raw &&
    ok "it reads as its source" || bad "-B child reads as its source"

# ---- -p progress -----------------------------------------------------------
expect 0 "convert -p" "$T" img convert -p d.vhd p.raw
grep -q "100.0/100%" err.txt && ok "-p prints progress" || bad "-p progress: $(cat err.txt)"
expect 0 "convert without -p" "$T" img convert d.vhd p2.raw
[ -s err.txt ] && bad "no progress without -p off a terminal"

# ---- --output=json -----------------------------------------------------------
expect 0 "info --output=json" "$T" img info --output=json d.vhd
cp out.txt info.json
qemu-img info --output=json d.vhd >qinfo.json
[ "$(json info.json 'j["virtual-size"]')" = "$(json qinfo.json 'j["virtual-size"]')" ] &&
    ok "virtual-size agrees with qemu-img" || bad "virtual-size: $(cat info.json)"
[ "$(json info.json 'j["format"]')" = vhd ] && [ "$(json info.json 'j["cluster-size"]')" = 2097152 ] &&
    [ "$(json info.json 'j["format-specific"]["data"]["subformat"]')" = dynamic ] ||
    bad "info json fields: $(cat info.json)"
expect 0 "info --output json (separate value)" "$T" img info --output json --backing-chain child.vhd
[ "$(json out.txt 'len(j)')" = 2 ] && [ "$(json out.txt 'j[0]["backing-filename"].endswith("d.vhd")')" = True ] &&
    ok "--backing-chain lists the chain" || bad "backing chain json: $(cat out.txt)"
expect 0 "check --output=json" "$T" img check --output=json d.vhd
[ "$(json out.txt 'j["corruptions"]')" = 0 ] && [ "$(json out.txt 'j["format"]')" = vhd ] ||
    bad "check json: $(cat out.txt)"
cp d.vhd broken.vhd
printf 'X' | dd of=broken.vhd bs=1 seek=100 conv=notrunc 2>/dev/null
expect 1 "check --output=json of a broken image" "$T" img check --output=json broken.vhd
[ "$(json out.txt 'j["corruptions"] > 0 and any("footer" in f for f in j["findings"])')" = True ] ||
    bad "broken check json: $(cat out.txt)"
expect 0 "check -r all repairs" "$T" img check -r all broken.vhd
expect 0 "clean after -r all" "$T" img check broken.vhd

# ---- resize ------------------------------------------------------------------
head -c 65536 /dev/urandom >pat
"$T" img create r.raw 1M >/dev/null
dd if=pat of=r.raw bs=64k seek=2 conv=notrunc 2>/dev/null
expect 0 "resize raw +1M" "$T" img resize r.raw +1M
[ "$(stat -c %s r.raw)" = 2097152 ] || bad "raw grew to $(stat -c %s r.raw)"
expect 1 "resize raw smaller without --shrink" "$T" img resize r.raw 1M
[ "$(stat -c %s r.raw)" = 2097152 ] || bad "refused shrink changed the file"
expect 0 "resize raw --shrink -- -1M" "$T" img resize --shrink r.raw -1M
[ "$(stat -c %s r.raw)" = 1048576 ] || bad "raw shrank to $(stat -c %s r.raw)"
expect 0 "data kept" qemu-io -f raw -c "read -v 128k 16" r.raw
cmp -s -n 65536 -i 131072:0 r.raw pat && ok "raw data kept" || bad "raw data changed"

# fixed: the footer moves; dynamic to 1G: past its BAT's room (128 entries
# in one sector), so the BAT moves to the end of the file.
for sub in fixed dynamic; do
    [ $sub = fixed ] && big=64M || big=1G
    "$T" img create -f vhd -o type=$sub v-$sub.vhd 8M >/dev/null
    qemu-io -f vpc -c 'write -P 0x33 1M 128k' -c 'write -P 0x44 7M 64k' v-$sub.vhd >/dev/null
    expect 0 "resize $sub VHD to $big" "$T" img resize v-$sub.vhd $big
    [ "$(qsize v-$sub.vhd)" -ge 67108864 ] && ok "qemu-img sees $sub grown" || bad "$sub size $(qsize v-$sub.vhd)"
    expect 0 "qemu-img reads the grown $sub" qemu-img info -f vpc v-$sub.vhd
    expect 0 "tessera check of the grown $sub" "$T" img check v-$sub.vhd
    expect 0 "$sub data kept" qemu-io -f vpc -c 'read -P 0x33 1M 128k' -c 'read -P 0x44 7M 64k' v-$sub.vhd
    expect 0 "the grown part reads zeros" qemu-io -f vpc -c 'read -P 0 8M 56M' v-$sub.vhd
    expect 0 "write past the old end" qemu-io -f vpc -c 'write -P 0x55 60M 64k' v-$sub.vhd
    expect 0 "tessera reads it" "$T" img convert v-$sub.vhd v-$sub.raw
    cmp -s -n 65536 -i 62914560:0 v-$sub.raw /dev/zero && bad "$sub: the write past the old end was lost"
    expect 1 "$sub shrink without --shrink" "$T" img resize v-$sub.vhd 4M
    expect 0 "$sub shrink --shrink" "$T" img resize --shrink v-$sub.vhd 4M
    [ "$(qsize v-$sub.vhd)" -lt 8388608 ] || bad "$sub did not shrink: $(qsize v-$sub.vhd)"
    expect 0 "$sub check after shrink" "$T" img check v-$sub.vhd
    expect 0 "qemu-img reads it after shrink" qemu-img info -f vpc v-$sub.vhd
    expect 0 "$sub data below the cut kept" qemu-io -f vpc -c 'read -P 0x33 1M 128k' v-$sub.vhd
done
expect 1 "a differencing image is not resized" "$T" img resize child.vhd 128M

# ---- usage, --help, --opt=value ------------------------------------------------
for c in create info check convert commit compact resize; do
    expect 0 "$c --help" "$T" img $c --help
    grep -q "tessera img $c" out.txt || bad "$c --help names the command"
    expect 2 "$c with an unknown option" "$T" img $c --frobnicate x
done
expect 2 "--output=xml" "$T" img info --output=xml d.vhd
expect 2 "check -r sideways" "$T" img check -r sideways d.vhd
expect 2 "resize without a size" "$T" img resize r.raw
expect 2 "resize with a bad size" "$T" img resize r.raw 12Q
expect 2 "-f without a value" "$T" img info -f

[ "$fails" -eq 0 ] || { echo "$fails failed"; exit 1; }
echo "img: qemu-img parity checks passed"
