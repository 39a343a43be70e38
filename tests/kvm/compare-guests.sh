#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Run every test guest on both CPU classes, --cpu x86 and --cpu kvm, and
# require the same debug-console output and exit status.
#   usage: compare-guests.sh TESSERA SOURCE_ROOT NASM
# Guests: this folder's kvm-*.asm (each must also pass: status 33) and
# tests/guests/*.asm of the interpreter (on machines/bare.xml, or NAME.xml
# beside a ROM that needs more).
#
# Where the KVM run ends because this host's KVM cannot emulate an
# instruction (KVM without VMX/SVM, such as PVM, emulates real and
# protected mode in software, and its emulator lacks some instructions),
# that guest is skipped with the reason. Two differences of the hardware
# are told apart rather than failed: lines naming the FPU (KVM always
# runs x87 instructions; the interpreter has no FPU yet), and lines
# naming CPUID where this host's KVM says it overrides CPUID features.
# Then the rest must still be identical; the exit status, which counts
# those lines, is not compared.
set -u
tessera=$1
src=$2
nasm=$3
here=$src/tests/kvm
tmp=$(mktemp -d /tmp/tess-kvm-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

if [ ! -c /dev/kvm ] || [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
    echo "SKIP: no usable /dev/kvm on this host"
    exit 77
fi

fail=0 passed=0 skipped=0

# compare NAME ASM MACHINE MUST_PASS
compare() {
    name=$1 asm=$2 machine=$3 must_pass=$4
    rom=$tmp/$name.bin
    if ! "$nasm" -f bin -I "$(dirname "$asm")/" -o "$rom" "$asm" 2>"$tmp/$name.nasm"; then
        echo "FAIL $name: does not assemble"; cat "$tmp/$name.nasm"; fail=1; return
    fi
    for cpu in x86 kvm; do
        timeout 300 "$tessera" run "$machine" --bios "$rom" --cpu "$cpu" \
            --debugcon "file:$tmp/$name.$cpu.out" >"$tmp/$name.$cpu.log" 2>&1
        echo $? >"$tmp/$name.$cpu.status"
    done
    sx=$(cat "$tmp/$name.x86.status") sk=$(cat "$tmp/$name.kvm.status")
    if grep -q "run with --cpu x86" "$tmp/$name.kvm.log"; then
        # the kvm CPU could not start here (its realize error says so)
        echo "SKIP $name: $(grep -m1 'run with --cpu x86' "$tmp/$name.kvm.log")"
        skipped=$((skipped + 1)); return
    fi
    if grep -q "KVM could not emulate an instruction" "$tmp/$name.kvm.log"; then
        echo "SKIP $name: this host's KVM cannot run it: $(grep -m1 -o 'KVM could not emulate.*' "$tmp/$name.kvm.log")"
        skipped=$((skipped + 1)); return
    fi
    tolerate='fpu'
    grep -q "overrides CPUID" "$tmp/$name.kvm.log" && tolerate='fpu|cpuid'
    if cmp -s "$tmp/$name.x86.out" "$tmp/$name.kvm.out" && [ "$sx" = "$sk" ]; then
        :
    elif grep -Eiv "$tolerate" "$tmp/$name.x86.out" >"$tmp/$name.x86.rest" &&
         grep -Eiv "$tolerate" "$tmp/$name.kvm.out" >"$tmp/$name.kvm.rest" &&
         cmp -s "$tmp/$name.x86.rest" "$tmp/$name.kvm.rest" &&
         ! cmp -s "$tmp/$name.x86.out" "$tmp/$name.kvm.out"; then
        diff "$tmp/$name.x86.out" "$tmp/$name.kvm.out" | grep '^[<>]' |
            sed "s/^/note $name: hardware difference ($tolerate): /"
    else
        echo "FAIL $name: x86 (status $sx) and kvm (status $sk) differ:"
        diff "$tmp/$name.x86.out" "$tmp/$name.kvm.out"
        tail -5 "$tmp/$name.kvm.log"
        fail=1; return
    fi
    if [ "$must_pass" = yes ] && [ "$sk" != 33 ]; then
        echo "FAIL $name: status $sk, not 33 (all checks passed) on both CPUs:"
        cat "$tmp/$name.kvm.out"; tail -5 "$tmp/$name.kvm.log"
        fail=1; return
    fi
    echo "ok $name (status $sk)"
    passed=$((passed + 1))
}

for g in kvm-basic:bare kvm-reset:bare kvm-irq:kvm-pc kvm-pm-int:kvm-pc; do
    name=${g%%:*} m=${g#*:}
    machine=$here/kvm-pc.xml
    [ "$m" = bare ] && machine=$src/machines/bare.xml
    compare "$name" "$here/$name.asm" "$machine" yes
done
for asm in "$src"/tests/guests/*.asm; do
    [ -f "$asm" ] || continue
    # A ROM that needs more than the bare board has its own machine file.
    machine=${asm%.asm}.xml
    [ -f "$machine" ] || machine=$src/machines/bare.xml
    compare "guest-$(basename "$asm" .asm)" "$asm" "$machine" no
done

echo "$passed identical, $skipped skipped, failures: $fail"
[ "$fail" = 0 ] || exit 1
# A comparison that could not run is not a pass: report SKIP (77) so the
# result says the check is incomplete on this host.
[ "$skipped" -eq 0 ] || { echo "SKIP: $skipped of $((passed + skipped)) comparisons could not run on this host's KVM"; exit 77; }
exit 0
