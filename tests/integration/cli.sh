#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The `tessera` command's contract: exit codes, one-line errors, inspect.
set -u
tessera=$1
source_root=$2
tp_dir=$3          # directory of deliberately broken test plugins
tmp=$(mktemp -d /tmp/tess-cli-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0

expect() {   # expect STATUS PATTERN -- command...
    want=$1; pat=$2; shift 3
    "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    if [ "$got" != "$want" ]; then
        echo "FAIL: '$*' exited $got, expected $want"; cat "$tmp/err"; fail=1; return
    fi
    if [ -n "$pat" ] && ! grep -q -- "$pat" "$tmp/out" "$tmp/err"; then
        echo "FAIL: '$*' output lacks '$pat'"; cat "$tmp/out" "$tmp/err"; fail=1; return
    fi
    echo "ok: $*"
}

expect 2 "usage" -- "$tessera"
expect 2 "unknown command" -- "$tessera" frobnicate
expect 0 "tessera" -- "$tessera" --version
expect 2 "No such file" -- "$tessera" run "$tmp/missing.xml"
expect 2 "No such file" -- "$tessera" validate "$tmp/missing.xml"

printf '<machine>\n  <memory size="1M">\n</machine>\n' >"$tmp/bad.xml"
expect 2 "bad.xml:" -- "$tessera" run "$tmp/bad.xml"
# One clear line, nothing else.
lines=$(wc -l <"$tmp/err")
[ "$lines" -eq 1 ] || { echo "FAIL: malformed file gave $lines lines"; cat "$tmp/err"; fail=1; }

printf '<machine>\n<device type="debugcon" id="a"/>\n<device type="debugcon" id="b"/>\n</machine>\n' >"$tmp/clash.xml"
expect 2 "'a'" -- "$tessera" run "$tmp/clash.xml"
grep -q "'b'" "$tmp/err" || { echo "FAIL: conflict message must name both owners"; fail=1; }

printf '<machine>\n<device type="debugcon" id="a" port="0x1ffff"/>\n</machine>\n' >"$tmp/range.xml"
expect 2 "range.xml:2:" -- "$tessera" validate "$tmp/range.xml"

printf '<machine><device type="debugcon" id="a"/></machine>\n' >"$tmp/nocpu.xml"
expect 0 "ok" -- "$tessera" validate "$tmp/nocpu.xml"
expect 2 "no <cpu>" -- "$tessera" run "$tmp/nocpu.xml"
expect 2 "no device 'zz'" -- "$tessera" run "$tmp/nocpu.xml" --set zz.port=1
expect 2 "ID.PROPERTY=VALUE" -- "$tessera" run "$tmp/nocpu.xml" --set nonsense
expect 2 "Unknown option" -- "$tessera" run --frobnicate

# Machine files under abuse (issue 11): the schema check sees only what is
# within the caps, only regular files are read (size checked first), and
# errors found after parsing still name file:line. `timeout` turns a hang
# into a failure.
awk 'BEGIN { printf "<machine>\n<device type=\"debugcon\" id=\"a\""
             for (i = 0; i < 24000; i++) printf " a%d=\"1\"", i; print "/>\n</machine>" }' \
    >"$tmp/attrs.xml"
expect 2 "attrs.xml:2: more than 64 attributes" -- timeout 20 "$tessera" validate "$tmp/attrs.xml"
awk 'BEGIN { print "<machine>"; for (i = 0; i < 5000; i++) print "<wire from=\"a.b\" to=\"c.d\"/>"
             print "</machine>" }' >"$tmp/many.xml"
expect 2 "more than 4096 elements" -- timeout 20 "$tessera" validate "$tmp/many.xml"
awk 'BEGIN { printf "<machine><device type=\"ide\" id=\"i\">"; for (i = 0; i < 40; i++) printf "<drive>"
             for (i = 0; i < 40; i++) printf "</drive>"; print "</device></machine>" }' >"$tmp/deep.xml"
expect 2 "levels of nested elements" -- timeout 20 "$tessera" validate "$tmp/deep.xml"
mkfifo "$tmp/fifo.xml"
expect 2 "not a regular file" -- timeout 20 "$tessera" validate "$tmp/fifo.xml"
expect 2 "not a regular file" -- timeout 20 "$tessera" validate /dev/zero
printf '<machine base="fifo"/>\n' >"$tmp/basefifo.xml"
expect 2 "basefifo.xml:1: base machine 'fifo'" -- timeout 20 "$tessera" validate "$tmp/basefifo.xml"
head -c 1100000 /dev/zero | tr '\0' ' ' >"$tmp/big.xml"
expect 2 "larger than" -- timeout 20 "$tessera" validate "$tmp/big.xml"
printf '<machine>\n<memory size="1M" below-4g="2M"/>\n<device type="debugcon" id="a"/>\n</machine>\n' >"$tmp/mem.xml"
expect 2 "mem.xml:2: memory size" -- "$tessera" validate "$tmp/mem.xml"
printf '<machine base="loopb">\n</machine>\n' >"$tmp/loopa.xml"
printf '<machine base="loopa">\n</machine>\n' >"$tmp/loopb.xml"
expect 2 "loopb.xml:1: base machine 'loopa'" -- "$tessera" validate "$tmp/loopa.xml"
expect 2 "clash.xml:3:" -- "$tessera" run "$tmp/clash.xml"
printf '<machine base="pc">\n<cpu type="no-such-cpu"/>\n</machine>\n' >"$tmp/wrongcpu.xml"
expect 2 "wrongcpu.xml:2: unknown cpu type" -- "$tessera" validate "$tmp/wrongcpu.xml"
printf '<machine base="pc">\n<device id="pm" devfn="0x09"/>\n</machine>\n' >"$tmp/pciclash.xml"
expect 2 "pciclash.xml:2:" -- "$tessera" run "$tmp/pciclash.xml" --display none
grep -q "ide0" "$tmp/err" || { echo "FAIL: PCI clash names the other device"; cat "$tmp/err"; fail=1; }

# Inspect lists every class with its properties.
expect 0 "debugcon" -- "$tessera" inspect
expect 0 "output" -- "$tessera" inspect debugcon
expect 0 "0xf4" -- "$tessera" inspect test-exit
expect 2 "no class" -- "$tessera" inspect no-such-class

# Broken plugins on the path are refused by name and do not stop the rest.
TESSERA_PLUGIN_PATH=$tp_dir expect 0 "plugin $tp_dir/tp-abi-major.so refused: built for plugin ABI 3.0" -- "$tessera" inspect
grep -q "plugin debugcon" "$tmp/out" || { echo "FAIL: good plugins missing"; fail=1; }
# tp-dup loads before tp-good (sorted order) and so keeps the class.
grep -q "plugin tp-dup" "$tmp/out" || { echo "FAIL: tp-dup missing"; fail=1; }
grep -q "tp-good.so refused: init failed: class 'tp-good-dev' is already registered" "$tmp/out" ||
    { echo "FAIL: duplicate class not reported"; fail=1; }
TESSERA_PLUGIN_PATH=$tp_dir expect 0 "ok" -- "$tessera" validate "$tmp/nocpu.xml"

exit $fail
