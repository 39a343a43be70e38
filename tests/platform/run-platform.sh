#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Boot the DOS-style platform test program (platform.asm, a raw disk
# image) with SeaBIOS on machines/pc.xml plus an IDE disk and a printer,
# and check its report on the debug console: a PASS line for every check
# in EXPECTED, FAIL lines only where EXPECTED marks a known failure, no
# name EXPECTED lacks, DONE, the exit status its test-exit write gives,
# and the text it printed through INT 17h in the printer's file.
# Two deterministic runs must give the same console and printer output
# byte for byte; a realtime run must pass the same checks. With
# NS_PER_INSN the deterministic runs use that many virtual ns per
# instruction (a slower CPU against the same devices) and the realtime
# run is left out.
# PLATFORM_SET=ID.PROP=VALUE adds that --set to every run (e.g.
# cpu.engine=jit).
# usage: run-platform.sh TESSERA MACHINES_DIR IMAGE EXPECTED [CPU [NS_PER_INSN]]
set -u
tessera=$1 machines=$2 image=$3 expected=$4 cpu=${5:-x86} ns=${6:-}
extra=
[ -n "${PLATFORM_SET:-}" ] && extra="--set $PLATFORM_SET"
tmp=$(mktemp -d /tmp/tess-platform-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

[ -f /usr/share/seabios/bios-256k.bin ] || { echo "SKIP: seabios not installed"; exit 77; }
command -v timeout >/dev/null || { echo "SKIP: no timeout(1)"; exit 77; }
export TESSERA_MACHINE_PATH="$machines"
printf 'LPT1 OK\r\n' >"$tmp/want.lpt"
fail=0

run() {  # NAME TESSERA-OPTIONS... -> $tmp/NAME.{log,lpt,out}, $rc
    name=$1
    shift
    cp "$image" "$tmp/$name.img"    # the program writes a sector: start afresh
    cat >"$tmp/$name.xml" <<EOF
<machine name="platform-$name" base="pc">
  <device type="lpt" id="lpt1" chardev="file:$tmp/$name.lpt"/>
  <device type="ide" id="ide0">
    <drive bus="0" unit="0"><disk format="raw" file="$tmp/$name.img"/></drive>
  </device>
</machine>
EOF
    # shellcheck disable=SC2086
    timeout 300 "$tessera" run "$tmp/$name.xml" --cpu "$cpu" $extra "$@" --display none \
        --serial null --debugcon "file:$tmp/$name.log" >"$tmp/$name.out" 2>&1
    rc=$?
}

check() {  # NAME MODE: judge $tmp/NAME.log against EXPECTED
    name=$1 mode=$2
    : >>"$tmp/$name.log"
    # awk prints "bad: ..." for failures, "note: ..." otherwise, and last
    # the number of FAIL lines.
    awk -v mode="$mode" '
        FNR == NR {
            sub(/#.*/, "")
            if (NF == 0) next
            want[$1] = 1; mark[$1] = (NF > 1 ? $2 : ""); order[++n] = $1
            next
        }
        /^(PASS|FAIL) / {
            nm = $2
            if (!(nm in want)) { print "bad: check \"" nm "\" is not in the expected list"; next }
            if (nm in seen) { print "bad: check \"" nm "\" reported twice"; next }
            seen[nm] = $1
            if ($1 == "FAIL") fails++
        }
        /^DONE$/ { done = 1 }
        END {
            for (i = 1; i <= n; i++) {
                nm = order[i]
                if (!(nm in seen)) { print "bad: no PASS line for \"" nm "\""; continue }
                if (seen[nm] == "PASS") {
                    if (mark[nm] == "xfail")
                        print "note: " nm " passes now: drop its xfail mark"
                    continue
                }
                if (mark[nm] == "xfail")
                    print "note: " nm " fails (known device bug)"
                else if (mark[nm] == "realtime" && mode == "realtime")
                    print "note: " nm " fails (tolerated in realtime runs)"
                else
                    print "bad: FAIL " nm
            }
            if (!done) print "bad: no DONE line"
            print fails + 0
        }' "$expected" "$tmp/$name.log" >"$tmp/$name.judge"
    nfail=$(tail -n 1 "$tmp/$name.judge")
    sed '$d' "$tmp/$name.judge" | sed "s/^/$name: /"
    [ "$nfail" -gt 127 ] && nfail=127
    want=$(( (nfail << 1) | 1 ))
    bad=0
    grep -q '^bad:' "$tmp/$name.judge" && bad=1
    if [ "$rc" -ne "$want" ]; then
        echo "$name: bad: exit status $rc, expected $want ($nfail checks failed)"
        bad=1
    fi
    if ! head -c 9 "$tmp/$name.lpt" 2>/dev/null | cmp -s - "$tmp/want.lpt"; then
        echo "$name: bad: the printer did not get the INT 17h text"
        od -c "$tmp/$name.lpt" 2>/dev/null | head -5
        bad=1
    fi
    if [ $bad -ne 0 ]; then
        fail=1
        echo "---- $name: tessera output"
        cat "$tmp/$name.out"
        echo "---- $name: debug console from the boot sector on"
        sed -n '/boot sector running/,$p' "$tmp/$name.log"
    else
        echo "$name: $(grep -c '^PASS ' "$tmp/$name.log") checks passed, $nfail known failures"
    fi
}

set -- --deterministic
[ -n "$ns" ] && set -- --deterministic "--ns-per-insn=$ns"
run det1 "$@"
check det1 deterministic
run det2 "$@"
check det2 deterministic
if ! cmp -s "$tmp/det1.log" "$tmp/det2.log"; then
    echo "bad: two deterministic runs gave different debug console output:"
    diff "$tmp/det1.log" "$tmp/det2.log" | head -20
    fail=1
fi
if ! cmp -s "$tmp/det1.lpt" "$tmp/det2.lpt"; then
    echo "bad: two deterministic runs gave different printer output"
    fail=1
fi
if [ -z "$ns" ]; then
    run realtime
    check realtime realtime
fi

[ $fail -eq 0 ] && echo "platform ($cpu${ns:+, $ns ns/insn}): the DOS-style checks pass, deterministic runs identical"
exit $fail
