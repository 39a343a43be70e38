#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Suspend and resume whole machines at several points of a guest's life,
# in deterministic mode (--suspend-at N stops exactly at instruction N):
#
#  round trip   save at N, restore in a new process and save again at once:
#               the device, line, RAM and clock sections are byte-identical;
#  determinism  suspended at N and resumed in a new process, the guest prints
#               exactly what a straight run prints, ends with the same exit
#               status, and at instruction M its state (RAM included) is the
#               one a straight run has at M;
#  refusals     truncated, corrupted and foreign files, and a disk image that
#               changed since, are refused with exit status 2.
#
# usage: snapshot-guests.sh TESSERA rom MACHINE.xml ROM...
#        snapshot-guests.sh TESSERA platform MACHINES_DIR IMAGE
#        snapshot-guests.sh TESSERA ctl MACHINE.xml ROM
#        snapshot-guests.sh TESSERA machine MACHINE.xml N1 N2 [PATTERN]
set -u
tessera=$1 mode=$2
shift 2
tmp=$(mktemp -d /tmp/tess-snap-XXXXXX)
ctl_pid=
trap '[ -n "$ctl_pid" ] && kill "$ctl_pid" 2>/dev/null; rm -rf "$tmp"' EXIT
fail=0

bad() { echo "bad: $*"; fail=1; }

# The sections that must match between two snapshots of the same state:
# everything but the header (which names the files given on the command
# line) and the disk identities (the image's modification time).
sections() {
    "$tessera" snapshot info "$1" | awk '/^  (DEV|SIG|RAM|CLK) /'
}

same_state() {  # A B WHAT
    if ! sections "$1" >"$tmp/sa" || ! sections "$2" >"$tmp/sb"; then
        bad "$3: cannot read the snapshots"
        return
    fi
    [ -s "$tmp/sa" ] || { bad "$3: no sections in $1"; return; }
    if ! cmp -s "$tmp/sa" "$tmp/sb"; then
        bad "$3: the states differ:"
        diff "$tmp/sa" "$tmp/sb" | head -20
        "$tessera" snapshot info --fields "$1" >"$tmp/fa"
        "$tessera" snapshot info --fields "$2" >"$tmp/fb"
        diff "$tmp/fa" "$tmp/fb" | grep '^[<>]  ' | head -40
    fi
}

# The instruction count at which a run ended (its core debug line).
icount_of() {
    sed -n 's/.*stopped after \([0-9]*\) instructions.*/\1/p' "$1" | tail -n 1
}

refusals() {  # SNAPSHOT: damaged copies must give exit status 2
    snap=$1
    size=$(wc -c <"$snap")
    head -c $((size / 2)) "$snap" >"$tmp/trunc.snap"
    cp "$snap" "$tmp/flip.snap"
    printf '\377' | dd of="$tmp/flip.snap" bs=1 seek=$((size - 40)) conv=notrunc 2>/dev/null
    printf 'TESSSNAP\002\000\000\000' | dd of="$tmp/newer.snap" bs=1 2>/dev/null
    tail -c +13 "$snap" >>"$tmp/newer.snap"
    echo "not a snapshot" >"$tmp/text.snap"
    for f in trunc flip newer text missing; do
        "$tessera" run --restore "$tmp/$f.snap" --display none >"$tmp/ref.out" 2>&1
        rc=$?
        if [ $rc -ne 2 ]; then
            bad "restoring a $f snapshot: exit status $rc, expected 2"
            cat "$tmp/ref.out"
        elif ! grep -q 'snap' "$tmp/ref.out"; then
            bad "restoring a $f snapshot: the error does not name the file"
        fi
        "$tessera" snapshot info "$tmp/$f.snap" >/dev/null 2>&1
        [ $? -eq 2 ] || bad "snapshot info accepts a $f snapshot"
    done
}

case $mode in
rom)
    machine=$1
    shift
    for rom in "$@"; do
        name=$(basename "$rom" .bin)
        run() { "$tessera" run "$machine" --bios "$rom" --deterministic --display none "$@"; }
        G_MESSAGES_DEBUG=all run --debugcon "file:$tmp/ref.log" >"$tmp/ref.err" 2>&1
        ref_rc=$?
        total=$(icount_of "$tmp/ref.err")
        [ -n "$total" ] && [ "$total" -gt 10 ] || { bad "$name: no instruction count"; continue; }
        m=$((total - 1))
        run --suspend-at $m --suspend-file "$tmp/m.snap" --debugcon null
        for k in 1 2 3 4 5 6; do
            n=$((total * k / 7))
            rm -f "$tmp/s.snap" "$tmp/r.snap" "$tmp/e.snap" "$tmp/a.log" "$tmp/b.log"
            run --suspend-at $n --suspend-file "$tmp/s.snap" --debugcon "file:$tmp/a.log"
            rc=$?
            [ $rc -eq 0 ] && [ -f "$tmp/s.snap" ] || { bad "$name@$n: suspend: exit status $rc"; continue; }
            "$tessera" run --restore "$tmp/s.snap" --display none --debugcon null \
                --suspend-at $n --suspend-file "$tmp/r.snap"
            same_state "$tmp/s.snap" "$tmp/r.snap" "$name@$n round trip"
            "$tessera" run --restore "$tmp/s.snap" --display none --debugcon "file:$tmp/e.log" \
                --suspend-at $m --suspend-file "$tmp/e.snap"
            same_state "$tmp/m.snap" "$tmp/e.snap" "$name@$n resumed vs straight at $m"
            "$tessera" run --restore "$tmp/s.snap" --display none --debugcon "file:$tmp/b.log"
            rc=$?
            [ $rc -eq $ref_rc ] || bad "$name@$n: resumed run exits with $rc, a straight run with $ref_rc"
            cat "$tmp/a.log" "$tmp/b.log" | cmp -s - "$tmp/ref.log" ||
                bad "$name@$n: suspended and resumed, the guest printed something else"
        done
        echo "$name: $total instructions, suspended and resumed at 6 points"
    done
    refusals "$tmp/m.snap"
    ;;

platform)
    machines=$1 image=$2
    [ -f /usr/share/seabios/bios-256k.bin ] || { echo "SKIP: seabios not installed"; exit 77; }
    export TESSERA_MACHINE_PATH="$machines"
    mk() {  # NAME: a pc with its own copy of the disk and printer file
        cp "$image" "$tmp/$1.img"
        cat >"$tmp/$1.xml" <<EOF
<machine name="platform" base="pc">
  <device type="lpt" id="lpt1" chardev="file:$tmp/$1.lpt"/>
  <device type="ide" id="ide0">
    <drive bus="0" unit="0"><disk format="raw" file="$tmp/$1.img"/></drive>
  </device>
</machine>
EOF
    }
    run() { name=$1; shift; "$tessera" run "$tmp/$name.xml" --deterministic --display none --serial null "$@"; }
    # A restored machine opens the host files its snapshot names again;
    # the runs that do not check the printer give it none.
    nolpt="--set lpt1.chardev=null"
    # reference: straight through
    mk ref
    G_MESSAGES_DEBUG=all run ref --debugcon "file:$tmp/ref.log" >"$tmp/ref.err" 2>&1
    ref_rc=$?
    total=$(icount_of "$tmp/ref.err")
    [ -n "$total" ] || { bad "no instruction count"; cat "$tmp/ref.err" | tail; exit 1; }
    # n1: SeaBIOS probing the disk; n2: the DOS-style program running
    n1=$((total / 14)) n2=$((total * 4 / 5))
    mk a
    run a --suspend-at $n1 --suspend-file "$tmp/s1.snap" --debugcon "file:$tmp/a1.log"
    "$tessera" run --restore "$tmp/s1.snap" --display none --debugcon null $nolpt \
        --suspend-at $n1 --suspend-file "$tmp/r1.snap"
    same_state "$tmp/s1.snap" "$tmp/r1.snap" "SeaBIOS@$n1 round trip"
    "$tessera" run --restore "$tmp/s1.snap" --display none --debugcon "file:$tmp/a2.log" $nolpt \
        --suspend-at $n2 --suspend-file "$tmp/s2r.snap"
    mk b
    run b --suspend-at $n2 --suspend-file "$tmp/s2.snap" --debugcon "file:$tmp/b1.log"
    same_state "$tmp/s2.snap" "$tmp/s2r.snap" "resumed at $n1 vs straight at $n2"
    cmp -s "$tmp/a.img" "$tmp/b.img" || bad "the disks differ at $n2"
    "$tessera" run --restore "$tmp/s2.snap" --display none --debugcon null $nolpt \
        --suspend-at $n2 --suspend-file "$tmp/r2.snap"
    same_state "$tmp/s2.snap" "$tmp/r2.snap" "DOS program@$n2 round trip"
    # host files given again, as a user resuming would
    "$tessera" run --restore "$tmp/s2.snap" --display none --debugcon "file:$tmp/b2.log" \
        --set "lpt1.chardev=file:$tmp/b2.lpt"
    rc=$?
    [ $rc -eq $ref_rc ] || bad "resumed at $n2: exit status $rc, straight $ref_rc"
    cat "$tmp/b1.log" "$tmp/b2.log" | cmp -s - "$tmp/ref.log" ||
        bad "resumed at $n2: the debug console differs from a straight run"
    cat "$tmp/a1.log" "$tmp/a2.log" | cmp -s - "$tmp/b1.log" ||
        bad "resumed at $n1: the debug console up to $n2 differs from a straight run"
    cmp -s "$tmp/b.img" "$tmp/ref.img" || bad "resumed: the disk differs from a straight run's"
    cat "$tmp/b.lpt" "$tmp/b2.lpt" | cmp -s - "$tmp/ref.lpt" || bad "resumed: the printer output differs"
    grep -q '^DONE' "$tmp/b2.log" || bad "resumed: the program did not finish"
    # a disk that changed since the snapshot is refused
    printf 'x' | dd of="$tmp/a.img" bs=1 seek=100 conv=notrunc 2>/dev/null
    "$tessera" run --restore "$tmp/s1.snap" --display none >"$tmp/chg.out" 2>&1
    rc=$?
    [ $rc -eq 2 ] && grep -q 'changed since' "$tmp/chg.out" ||
        { bad "a changed disk image: exit status $rc"; cat "$tmp/chg.out"; }
    refusals "$tmp/s2.snap"
    # an undo disk (commit): the overlay survives the suspend, the resumed
    # machine adopts it, and at power-off everything lands in the image
    mk u
    cp -p "$image" "$tmp/orig.img"
    sed -i 's|<disk format="raw" |<disk format="raw" undo="commit" |' "$tmp/u.xml"
    run u --suspend-at $n2 --suspend-file "$tmp/u.snap" --debugcon null >"$tmp/u.out" 2>&1
    rc=$?
    [ $rc -eq 0 ] && [ -f "$tmp/u.snap" ] || { bad "suspend with an undo disk: exit status $rc"; cat "$tmp/u.out"; }
    [ -f "$tmp/u.img.undo.vhd" ] || bad "the undo overlay did not survive the suspend"
    cmp -s "$tmp/u.img" "$tmp/orig.img" || bad "the image was written under undo"
    "$tessera" run --restore "$tmp/u.snap" --display none --debugcon "file:$tmp/u2.log" $nolpt \
        >"$tmp/u2.out" 2>&1
    rc=$?
    [ $rc -eq $ref_rc ] || { bad "resumed with an undo disk: exit status $rc"; cat "$tmp/u2.out"; }
    grep -q '^DONE' "$tmp/u2.log" || bad "resumed with an undo disk: the program did not finish"
    [ ! -e "$tmp/u.img.undo.vhd" ] || bad "the undo overlay is still there after the commit"
    cmp -s "$tmp/u.img" "$tmp/ref.img" || bad "undo=commit across a suspend: the image differs"
    echo "platform: $total instructions; suspended in SeaBIOS ($n1) and in the program ($n2)"
    ;;

machine)
    # Any machine file (a Linux guest of tests/guests, say): suspended at
    # N1 and resumed in a new process up to N2, the serial output and the
    # state at N2 are those of a straight run; PATTERN, when given, must
    # appear in the serial output printed after the resume.
    machine=$1 n1=$2 n2=$3 pattern=${4:-}
    run() { "$tessera" run "$machine" --deterministic --display none --debugcon null "$@"; }
    run --serial "file:$tmp/ref.ser" --suspend-at "$n2" --suspend-file "$tmp/ref.snap"
    run --serial "file:$tmp/a.ser" --suspend-at "$n1" --suspend-file "$tmp/s.snap" ||
        bad "suspend at $n1 failed"
    "$tessera" run --restore "$tmp/s.snap" --display none --serial "file:$tmp/b.ser" \
        --suspend-at "$n1" --suspend-file "$tmp/r.snap"
    same_state "$tmp/s.snap" "$tmp/r.snap" "round trip at $n1"
    "$tessera" run --restore "$tmp/s.snap" --display none --serial "file:$tmp/b.ser" \
        --suspend-at "$n2" --suspend-file "$tmp/e.snap"
    same_state "$tmp/ref.snap" "$tmp/e.snap" "resumed at $n1 vs straight at $n2"
    [ -s "$tmp/b.ser" ] || bad "nothing on the serial port after the resume: no test"
    cat "$tmp/a.ser" "$tmp/b.ser" | cmp -s - "$tmp/ref.ser" || bad "the serial output differs"
    [ -z "$pattern" ] || grep -q -- "$pattern" "$tmp/b.ser" ||
        bad "'$pattern' not printed after the resume"
    echo "machine: suspended at $n1, resumed and compared at $n2"
    ;;

ctl)
    machine=$1 rom=$2
    command -v timeout >/dev/null || { echo "SKIP: no timeout(1)"; exit 77; }
    "$tessera" run "$machine" --bios "$rom" --deterministic --display none \
        --debugcon "file:$tmp/ref.log"
    ref_rc=$?
    sock=$tmp/ctl.sock
    mkfifo "$tmp/ready" || bad "mkfifo"
    "$tessera" run "$machine" --bios "$rom" --deterministic --display none --paused \
        --control "$sock" --debugcon "file:$tmp/a.log" --ready-fd 3 3>"$tmp/ready" &
    ctl_pid=$!
    # Blocks until the socket answers (READY) or the run failed (nothing).
    [ "$(timeout 60 cat "$tmp/ready")" = READY ] || bad "the paused machine never got ready"
    timeout 30 "$tessera" ctl "$sock" save "$tmp/a.snap" || bad "ctl save failed"
    timeout 30 "$tessera" ctl "$sock" status | grep -q paused || bad "the machine did not stay paused"
    timeout 30 "$tessera" ctl "$sock" suspend "$tmp/b.snap" || bad "ctl suspend failed"
    wait "$ctl_pid"
    rc=$?
    ctl_pid=
    [ $rc -eq 0 ] || bad "after suspend the machine exited with $rc, not 0"
    same_state "$tmp/a.snap" "$tmp/b.snap" "save then suspend of a paused machine"
    "$tessera" run --restore "$tmp/b.snap" --display none --debugcon "file:$tmp/b.log"
    rc=$?
    [ $rc -eq $ref_rc ] || bad "resumed after ctl suspend: exit status $rc, expected $ref_rc"
    cat "$tmp/a.log" "$tmp/b.log" | cmp -s - "$tmp/ref.log" || bad "resumed: other output"
    "$tessera" run --restore "$tmp/b.snap" "$machine" >/dev/null 2>&1
    [ $? -eq 2 ] || bad "--restore with a machine file is not a usage error"
    echo "ctl: save and suspend over the control socket, resumed"
    ;;
*)
    echo "unknown mode $mode"
    exit 2
    ;;
esac
exit $fail
