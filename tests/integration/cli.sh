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

# Inspect lists every class with its properties.
expect 0 "debugcon" -- "$tessera" inspect
expect 0 "output" -- "$tessera" inspect debugcon
expect 0 "0xf4" -- "$tessera" inspect test-exit
expect 2 "no class" -- "$tessera" inspect no-such-class

# Broken plugins on the path are refused by name and do not stop the rest.
TESSERA_PLUGIN_PATH=$tp_dir expect 0 "plugin $tp_dir/tp-abi-major.so refused: built for plugin ABI 2.0" -- "$tessera" inspect
grep -q "plugin debugcon" "$tmp/out" || { echo "FAIL: good plugins missing"; fail=1; }
# tp-dup loads before tp-good (sorted order) and so keeps the class.
grep -q "plugin tp-dup" "$tmp/out" || { echo "FAIL: tp-dup missing"; fail=1; }
grep -q "tp-good.so refused: init failed: class 'tp-good-dev' is already registered" "$tmp/out" ||
    { echo "FAIL: duplicate class not reported"; fail=1; }
TESSERA_PLUGIN_PATH=$tp_dir expect 0 "ok" -- "$tessera" validate "$tmp/nocpu.xml"

exit $fail
