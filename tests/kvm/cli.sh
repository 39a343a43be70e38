#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The kvm CPU on the command line, on any host (no /dev/kvm needed): the
# one-line error without KVM that points to --cpu x86, the refusal of
# deterministic mode, and fallback="x86" taking over in a machine file.
#   usage: cli.sh TESSERA SOURCE_ROOT NASM
set -u
tessera=$1
src=$2
nasm=$3
tmp=$(mktemp -d /tmp/tess-kvm-cli-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0

expect() {   # expect STATUS PATTERN -- command...
    want=$1; pat=$2; shift 3
    "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    if [ "$got" != "$want" ]; then
        echo "FAIL: '$*' exited $got, expected $want"; cat "$tmp/out" "$tmp/err"; fail=1; return
    fi
    if [ -n "$pat" ] && ! grep -q -- "$pat" "$tmp/out" "$tmp/err"; then
        echo "FAIL: '$*' output lacks '$pat'"; cat "$tmp/out" "$tmp/err"; fail=1; return
    fi
    echo "ok: $*"
}

"$nasm" -f bin -I "$src/tests/kvm/" -o "$tmp/basic.bin" "$src/tests/kvm/kvm-basic.asm" || exit 1
bare=$src/machines/bare.xml

# No KVM device: exit 2, one line, saying so and what to do instead.
expect 2 "/nonexistent/kvm does not exist" -- \
    "$tessera" run "$bare" --bios "$tmp/basic.bin" --cpu kvm --set cpu.device=/nonexistent/kvm
grep -q -- "--cpu x86" "$tmp/err" || { echo "FAIL: the error does not suggest --cpu x86"; fail=1; }
[ "$(wc -l <"$tmp/err")" -eq 1 ] || { echo "FAIL: more than one line:"; cat "$tmp/err"; fail=1; }

# A device that is not KVM.
expect 2 "/dev/null is not a usable KVM device" -- \
    "$tessera" run "$bare" --bios "$tmp/basic.bin" --cpu kvm --set cpu.device=/dev/null

# No instruction count, no deterministic mode.
expect 2 "deterministic" -- \
    "$tessera" run "$bare" --bios "$tmp/basic.bin" --cpu kvm --deterministic

# fallback="x86": the same machine runs on the interpreter, and says why.
cat >"$tmp/fb.xml" <<XML
<machine name="fb">
  <memory size="16M"/>
  <cpu type="kvm" model="pentium" fallback="x86"/>
  <device type="bios-rom" id="bios"/>
  <device type="port92" id="port92"/>
  <device type="debugcon" id="debugcon"/>
  <device type="test-exit" id="test-exit"/>
  <wire from="port92.a20" to="cpu.a20"/>
</machine>
XML
# Every check must pass on it, the A20 gate (a wire to cpu.a20) included.
expect 33 "using fallback 'x86'" -- \
    "$tessera" run "$tmp/fb.xml" --bios "$tmp/basic.bin" --deterministic --debugcon "file:$tmp/fb.out"
grep -q "^DONE" "$tmp/fb.out" || { echo "FAIL: the fallback CPU did not run the guest"; fail=1; }
if grep -q "^FAIL a20" "$tmp/fb.out"; then
    echo "FAIL: the fallback CPU lost the machine file's wires to cpu.* (A20 here):"
    grep "^FAIL" "$tmp/fb.out"
fi

# inspect documents the class.
expect 0 "device" -- "$tessera" inspect kvm
grep -q "vendor" "$tmp/out" || { echo "FAIL: inspect kvm lacks 'vendor'"; fail=1; }

exit $fail
