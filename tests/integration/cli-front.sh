#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The command line's front door (issue 16): one option parser everywhere
# (--help, --opt=value and --opt value), --debug (help, all, a domain, a
# plugin's name), trace points, "did you mean", inspect of plugins and
# machines, validate reporting every error with its file:line, --paused
# keeping virtual time still, and what a run shows with no display.
set -u
tessera=$1
guests=$2
source_root=$(cd "$guests/../../.." && pwd)
tmp=$(mktemp -d /tmp/tess-front-XXXXXX)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT
fail=0

expect() {   # expect STATUS PATTERN -- command...
    want=$1; pat=$2; shift 3
    "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
    got=$?
    if [ "$got" != "$want" ]; then
        echo "FAIL: '$*' exited $got, expected $want"; head -20 "$tmp/out" "$tmp/err"; fail=1; return
    fi
    if [ -n "$pat" ] && ! grep -q -- "$pat" "$tmp/out" "$tmp/err"; then
        echo "FAIL: '$*' output lacks '$pat'"; head -20 "$tmp/out" "$tmp/err"; fail=1; return
    fi
    echo "ok: $*"
}
lacks() {    # lacks PATTERN: the last command's output does not have it
    if grep -q -- "$1" "$tmp/out" "$tmp/err"; then
        echo "FAIL: output has '$1'"; fail=1
    fi
}

# Run from the build tree with nothing in the environment, the build's own
# data files are found as its plugins are: the pc's S3 takes Tessera's VGA
# BIOS from the build (README's first command runs so).
expect 0 "pc.xml: ok" -- env -u TESSERA_DATA_PATH -u TESSERA_PLUGIN_PATH "$tessera" validate "$source_root/machines/pc.xml"

# --help everywhere, exit 0, on stdout.
expect 0 "Commands:" -- "$tessera" --help
expect 0 "run" -- "$tessera" help
for cmd in run inspect validate snapshot; do
    expect 0 "Usage:" -- "$tessera" $cmd --help
    expect 0 "Usage:" -- "$tessera" help $cmd
done
expect 0 "--cdrom" -- "$tessera" run --help
expect 0 "tessera" -- "$tessera" --version
expect 0 "tessera" -- "$tessera" -V
expect 2 "did you mean 'run'" -- "$tessera" rnu
expect 2 "did you mean 'inspect'" -- "$tessera" inspec
expect 2 "Unknown option" -- "$tessera" inspect --frobnicate
expect 2 "did you mean 'sdl'" -- "$tessera" run --display sld
expect 2 "Unknown option" -- "$tessera" validate --frobnicate
# A subcommand's usage error points at its own --help.
expect 2 "(try 'tessera img create --help')" -- "$tessera" img create
expect 2 "(try 'tessera img --help')" -- "$tessera" img frob
# validate takes run's --set and --bios, and checks with them.
printf '<machine name="s" base="pc">\n</machine>\n' >"$tmp/plain.xml"
expect 2 "(command line):0: ports 0x60-0x67 of 'com1' overlap ports 0x60-0x60 of 'kbc'" -- \
    "$tessera" validate --set com1.port=0x60 "$tmp/plain.xml"
expect 2 "bios: no firmware" -- "$tessera" validate "$source_root/machines/bare.xml"
expect 0 "bare.xml: ok" -- "$tessera" validate --bios /usr/share/seabios/bios.bin "$source_root/machines/bare.xml"

# --debug: help lists the domains; a plugin's name stands for its domain;
# --debug=X and --debug X; all.
expect 0 "i8042" -- "$tessera" --debug help
expect 0 "pic8259" -- "$tessera" run --debug help
expect 0 "ide" -- "$tessera" run --debug=help
expect 0 "did you mean 'pic'" -- "$tessera" --debug pci help

# Trace points: a tiny guest boots from a CD through SeaBIOS, which talks
# to the PICs, the keyboard controller, PCI configuration space and the
# ATAPI drive. Nothing is logged unless asked.
if command -v nasm >/dev/null && command -v xorriso >/dev/null &&
   [ -f /usr/share/seabios/bios-256k.bin ]; then
    mkdir "$tmp/iso"
    nasm -f bin "$guests/cd-boot.asm" -o "$tmp/iso/boot.bin" &&
    xorriso -as mkisofs -quiet -b boot.bin -no-emul-boot -boot-load-size 4 \
        -o "$tmp/cd.iso" "$tmp/iso" 2>/dev/null || { echo "FAIL: building the ISO"; fail=1; }
    expect 35 "" -- "$tessera" run "$tmp/cd.iso"
    lacks "DEBUG"
    expect 35 "pic-DEBUG.*ICW1" -- "$tessera" run "$tmp/cd.iso" --debug=pic8259
    lacks "ide-DEBUG"
    expect 35 "ide-DEBUG.*packet 28" -- "$tessera" run --debug ide "$tmp/cd.iso"
    expect 35 "i8042-DEBUG.*command 0x" -- "$tessera" --debug=i8042,i440fx run "$tmp/cd.iso"
    # GLib writes debug messages to stdout.
    cat "$tmp/out" "$tmp/err" >"$tmp/all"
    grep -q "i440fx-DEBUG.*config write" "$tmp/all" || { echo "FAIL: no i440fx trace"; fail=1; }
    expect 35 "i440fx-DEBUG" -- "$tessera" run "$tmp/cd.iso" --debug all
    cat "$tmp/out" "$tmp/err" >"$tmp/all"
    grep -q "ide-DEBUG" "$tmp/all" || { echo "FAIL: --debug all lacks ide"; fail=1; }
    grep -q "pic-DEBUG" "$tmp/all" || { echo "FAIL: --debug all lacks pic"; fail=1; }

    # No display and no --display: the SDL window when a desktop is there
    # (with a clear word when it cannot open), else the terminal.
    if "$tessera" inspect ui-sdl >/dev/null 2>&1; then
        expect 35 "no window" -- env DISPLAY=:2147 WAYLAND_DISPLAY= "$tessera" run "$tmp/cd.iso"
    fi
    # On a terminal COM1 is the terminal: SeaBIOS's screen shows there.
    if command -v script >/dev/null; then
        script -qefc "env -u DISPLAY -u WAYLAND_DISPLAY '$tessera' run '$tmp/cd.iso'" \
            "$tmp/typescript" >/dev/null 2>&1 </dev/null
        rc=$?
        [ $rc -eq 35 ] || { echo "FAIL: run on a terminal exited $rc"; fail=1; }
        grep -q "COM1 on this terminal" "$tmp/typescript" &&
        # SeaBIOS's serial console clears the screen first (ESC [ 2 J); the
        # text after it is not checked, as sercon's cursor addressing under
        # a loaded host can interleave it.
        grep -q "$(printf '\033')\[2J" "$tmp/typescript" ||
            { echo "FAIL: the terminal did not show the guest"; head -c 2000 "$tmp/typescript"; fail=1; }
    fi
fi

# inspect: a class, a plugin by name (the speaker plugin's class is
# pc-speaker), a machine after inheritance, did you mean.
expect 0 "ICW" -- "$tessera" inspect pic8259
expect 0 "pc-speaker" -- "$tessera" inspect speaker
expect 0 'id="nic0"' -- "$tessera" inspect vpc
grep -q 'type="sb16"' "$tmp/out" && grep -q 'id="ide0"' "$tmp/out" ||
    { echo "FAIL: inspect vpc lacks its inherited devices"; fail=1; }
grep -q "pc.xml:[0-9]" "$tmp/out" || { echo "FAIL: inspect vpc names no file:line"; fail=1; }
expect 2 "did you mean 'pic8259'" -- "$tessera" inspect pic8529
expect 2 "did you mean 'vpc'" -- "$tessera" inspect vcp

# validate: every error in one pass, each at its own line; and what run
# would refuse about files.
cat >"$tmp/multi.xml" <<'EOF'
<machine name="multi" base="pc">
  <device type="pic8529" id="extra"/>
  <device id="com1" prot="0x3f8"/>
  <device type="debugcon" id="dbg2" port="0x1ffff"/>
  <device id="ide0">
    <drive bus="0" unit="0"><disk format="vhd" file="missing.vhd"/></drive>
  </device>
  <wire from="pic0.int" to="nosuch.intr"/>
  <device id="bios" file="nodir/bios.bin"/>
</machine>
EOF
expect 2 "multi.xml:2: unknown device type 'pic8529'; did you mean 'pic8259'" -- \
    "$tessera" validate "$tmp/multi.xml"
for want in "multi.xml:3: .*did you mean 'port'" "multi.xml:4: .*0x1ffff" \
            "multi.xml:6: .*missing.vhd.*no such file" "multi.xml:8: .*nosuch" \
            "multi.xml:9: .*no directory" "6 errors"; do
    grep -q -- "$want" "$tmp/err" || { echo "FAIL: validate lacks '$want'"; cat "$tmp/err"; fail=1; }
done
# In the order of the file.
grep -o 'multi.xml:[0-9]*:' "$tmp/err" | cut -d: -f2 >"$tmp/lines"
sort -n "$tmp/lines" | cmp -s - "$tmp/lines" || { echo "FAIL: errors out of order"; fail=1; }
expect 2 "multi.xml:2:" -- "$tessera" validate --debug=x86 "$tmp/multi.xml"
# --set: a device id or property mistyped.
printf '<machine base="pc"/>\n' >"$tmp/plain.xml"
expect 2 "did you mean 'com1'" -- "$tessera" run "$tmp/plain.xml" --set com2.port=0x2f8
expect 2 "did you mean 'port'" -- "$tessera" run "$tmp/plain.xml" --set com1.prot=0x2f8
printf '<machine base="pcc"/>\n' >"$tmp/base.xml"
expect 2 "did you mean 'pc'" -- "$tessera" validate "$tmp/base.xml"

# A bare run is not silent; --paused keeps virtual time still until resume.
sock=$tmp/ctl
mkfifo "$tmp/ready"
"$tessera" run --paused --control "$sock" --ready-fd 3 3>"$tmp/ready" \
    >"$tmp/bare.out" 2>"$tmp/bare.err" </dev/null &
pid=$!
# Blocks until the socket answers (READY) or the run failed (nothing).
[ "$(timeout 60 cat "$tmp/ready")" = READY ] ||
    { echo "FAIL: the bare run never got ready"; cat "$tmp/bare.err"; fail=1; }
vt() { timeout 30 "$tessera" ctl "$sock" status | tr -d ' ,"' | sed -n 's/^vtime_ns:\([0-9]*\).*/\1/p'; }
t1=$(vt); "$tessera" inspect >/dev/null 2>&1; t2=$(vt)
if [ -z "$t1" ] || [ "$t1" != "$t2" ]; then
    echo "FAIL: paused machine's virtual time moved: '$t1' -> '$t2'"; fail=1
else
    echo "ok: paused at $t1 ns"
fi
timeout 30 "$tessera" ctl "$sock" resume >/dev/null
"$tessera" inspect >/dev/null 2>&1
t3=$(vt)
[ -n "$t3" ] && [ "$t3" -gt "$t2" ] || { echo "FAIL: resumed time did not move: $t2 -> '$t3'"; fail=1; }
timeout 30 "$tessera" ctl "$sock" quit >/dev/null
wait $pid
pid=
grep -q "no machine file or disk image" "$tmp/bare.err" ||
    { echo "FAIL: a bare run says nothing"; cat "$tmp/bare.err"; fail=1; }

[ $fail -eq 0 ] && echo "cli front door: all passed"
exit $fail
