#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# `tessera validate` catches what `run` would refuse, by a dry realize
# (issue 16): every device claims its ports, memory, PCI slot and DMA
# channels against a scratch machine, and nothing on the host is touched.
# One machine file per class of error, each asserting the message and
# the file:line (the user's file, not the base's); then a good machine
# whose outputs point into an empty directory validates and creates
# nothing, opens nothing for writing, binds nothing, starts no thread.
set -u
tessera=$1
tmp=$(mktemp -d /tmp/tess-validate-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0
mkdir "$tmp/w" && cd "$tmp/w" || exit 1

check() {   # check FILE STATUS PATTERN...: validate FILE, expect each pattern
    f=$1; want=$2; shift 2
    "$tessera" validate "$f" >"$tmp/out" 2>"$tmp/err"
    got=$?
    if [ "$got" != "$want" ]; then
        echo "FAIL: validate $f exited $got, expected $want"; cat "$tmp/out" "$tmp/err"; fail=1; return
    fi
    for pat in "$@"; do
        grep -q -- "$pat" "$tmp/out" "$tmp/err" ||
            { echo "FAIL: validate $f lacks '$pat'"; cat "$tmp/out" "$tmp/err"; fail=1; }
    done
    echo "ok: validate $f"
}

# on_pc NAME STATUS PATTERN... <<'EOF' (elements) EOF: NAME.xml, a machine
# on the pc whose elements start at line 2, validated and checked.
on_pc() {
    name=$1; shift
    { printf '<machine name="%s" base="pc">\n' "$name"; cat; printf '</machine>\n'; } >"$name.xml"
    check "$name.xml" "$@"
}

# I/O ports: the user's device that cannot have them, at its line.
on_pc ports 2 "ports.xml:2: ports 0x60-0x60 of 'dbg2' overlap ports 0x60-0x60 of 'kbc' (i8042)" \
    "ports.xml:3: .*'com9' overlap .*'com1' (uart16550)" "2 errors" <<'EOF'
  <device type="debugcon" id="dbg2" port="0x60"/>
  <device type="uart16550" id="com9" port="0x3fa"/>
EOF

# Memory: two devices decoding the same range at the same priority.
on_pc mmio 2 "mmio.xml:3: memory 0xfffc0000-0xffffffff ('bios' of 'bios2') overlaps .*of 'bios' (bios-rom)) at the same priority" <<'EOF'

  <device type="bios-rom" id="bios2" file="/usr/share/seabios/bios-256k.bin"/>
EOF

# A base device moved onto another: the line is the user's override.
on_pc moved 2 "moved.xml:2: .*'lpt1' overlap .*'com1'" <<'EOF'
  <device id="lpt1" port="0x3f8"/>
EOF

# PCI slot/function clash.
on_pc pci 2 "pci.xml:3: nic1: PCI 03.0 is taken by nic0" <<'EOF'
  <device type="dec21041" id="nic0" devfn="0x18"/>
  <device type="dec21041" id="nic1" devfn="0x18"/>
EOF

# ISA DMA channel the 8237 has already given out.
on_pc dma 2 "dma.xml:3: .*'sb1' (sb16): dma: DMA channel 1 is already in use" <<'EOF'
  <device type="sb16" id="sb0"/>
  <device type="sb16" id="sb1" port="0x240" mpu="0x300" adlib="off" hdma="6"/>
EOF

# Memory size, and the rest is still checked.
on_pc mem 2 "mem.xml:2: memory size 0" "mem.xml:3: .*'dbg2' overlap .*'speaker'" "2 errors" <<'EOF'
  <memory size="0"/>
  <device type="debugcon" id="dbg2" port="0x61"/>
EOF

# Base loop, at the line of the user's file that closes it.
printf '<machine name="loopa" base="loopb"/>\n' >loopa.xml
printf '<machine name="loopb" base="loopa"/>\n' >loopb.xml
check loopa.xml 2 "loopb.xml:1: base machine 'loopa'"

# Missing files: disk image, ROM, firmware; the attribute's line.
on_pc files 2 "files.xml:3: file='nonexist.img'.*no such file" "files.xml:5: .*nobios.bin" \
    "files.xml:6: .*novga.bin" "3 errors" <<'EOF'
  <device id="ide0">
    <drive bus="0" unit="0"><disk format="raw" file="nonexist.img"/></drive>
  </device>
  <device id="bios" file="nobios.bin"/>
  <device id="fwcfg" vgarom="novga.bin"/>
EOF

# Unknown properties and values, and a wrong CPU type in the user's line.
on_pc props 2 "props.xml:2: unknown cpu type 'x68'" "props.xml:3: .*did you mean 'port'" \
    "props.xml:5: .*floppy" "3 errors" <<'EOF'
  <cpu type="x68"/>
  <device id="com1" prot="0x3f8"/>
  <device id="ide0">
    <drive bus="0" unit="0" media="floppy"/>
  </device>
EOF

# A CPU that cannot open its device: an error once, unless it names a
# fallback (then run takes the fallback, and so does validate).
on_pc kvm 2 "kvm.xml:2: device='/nonexistent-dir/kvm': no directory" <<'EOF'
  <cpu type="kvm" device="/nonexistent-dir/kvm"/>
EOF
grep -c "kvm.xml:" "$tmp/err" | grep -qx 1 || { echo "FAIL: the kvm error is reported more than once"; fail=1; }
sed 's#/kvm"#/kvm" fallback="x86"#' kvm.xml >kvmfb.xml
check kvmfb.xml 0 "kvmfb.xml: ok" "using fallback 'x86'"

# Two ISA cards on one edge-triggered IRQ input: an error at the second
# card's line (ISA IRQ outputs are totem-pole, they cannot share), and run
# refuses it too. Legal: the pc's own com1 + PIIX PIRQ router on IR4 (the
# router's outputs and PCI functions' INTx are open-drain, wired-OR), a
# wire marked shared="on", an input the ELCR makes level-sensitive, and two
# outputs of one card (its jumper choices).
on_pc irq 2 "irq.xml:2: 'com3' (uart16550) drives pic0.ir4, which 'com1' (uart16550) already drives" \
    "wire com3.irq -> pic0.ir4 at irq.xml:5" "irq.xml:3: 'lpt2' (lpt) drives pic0.ir7, which 'lpt1'" \
    "2 errors" <<'EOF'
  <device type="uart16550" id="com3" port="0x3e8"/>
  <device type="lpt" id="lpt2" port="0x278"/>
  <device type="sb16" id="sb0"/>
  <wire from="com3.irq" to="pic0.ir4"/>
  <wire from="lpt2.irq" to="pic0.ir7"/>
  <wire from="sb0.irq5" to="pic0.ir5"/>
  <wire from="sb0.irq7" to="pic0.ir5"/>
EOF
grep -q "sb0" "$tmp/err" && { echo "FAIL: one card's own two outputs flagged"; cat "$tmp/err"; fail=1; }
"$tessera" run irq.xml --display none >/dev/null 2>"$tmp/err" </dev/null
[ $? -eq 2 ] && grep -q "irq.xml:2: 'com3'.*cannot be shared" "$tmp/err" ||
    { echo "FAIL: run does not refuse two ISA cards on IR4"; cat "$tmp/err"; fail=1; }
on_pc irqshared 0 "irqshared.xml: ok" <<'EOF'
  <device type="uart16550" id="com3" port="0x3e8"/>
  <wire from="com3.irq" to="pic0.ir4" shared="on"/>
EOF
on_pc irqlevel 0 "irqlevel.xml: ok" <<'EOF'
  <device id="pic0" elcr="0x10"/>
  <device type="uart16550" id="com3" port="0x3e8"/>
  <wire from="com3.irq" to="pic0.ir4"/>
EOF

# A huge <memory> is checked without building the page table for it (a
# leaf of entries per 16 MiB: about 1 GiB of host memory for 60 GiB).
on_pc bigmem 0 "bigmem.xml: ok" <<'EOF'
  <memory size="60G"/>
EOF
kib=$(python3 -c 'import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$tessera" validate bigmem.xml)
if [ "${kib:-0}" -gt 0 ] && [ "$kib" -lt 400000 ]; then
    echo "ok: validate of 60 GiB peaked at $kib KiB"
else
    echo "FAIL: validate of 60 GiB peaked at '$kib' KiB (the page table was built?)"; fail=1
fi

# Output paths in a directory that does not exist: each named, none made.
truncate -s 1M disk.img
"$tessera" img create -f vhd d.vhd 10M >/dev/null || { echo "FAIL: img create"; exit 1; }
mkdir empty
cat >good.xml <<'EOF'
<machine name="good" base="vpc">
  <device id="com1" chardev="file:empty/serial.log"/>
  <device id="nic0"><net type="shared" capture="empty/nic.pcap" hostfwd="tcp:127.0.0.1:1-:22"/></device>
  <device id="rtc" file="empty/nvram.bin"/>
  <device id="snd0" midi="empty/midi.bin"/>
  <device type="audio-wav" id="wav" file="empty/sound.wav"/>
  <device id="ide0">
    <drive bus="0" unit="0"><disk format="raw" file="disk.img" undo="discard"/></drive>
    <drive bus="0" unit="1"><disk format="vhd" file="d.vhd"/></drive>
  </device>
  <device type="lpt" id="lpt2" port="0x278" chardev="tcp:127.0.0.1:1"/>
</machine>
EOF
sed 's#empty/#nodir/#' good.xml >nodir.xml
ls -lR --time-style=full-iso . >"$tmp/before"
md5sum disk.img d.vhd >"$tmp/sums"
check nodir.xml 2 "nodir.xml:2: .*'file:nodir/serial.log': no directory" \
    "nodir.xml:3: capture='nodir/nic.pcap': no directory" "nodir.xml:4: file='nodir/nvram.bin': no directory" \
    "nodir.xml:5: midi='nodir/midi.bin': no directory" "nodir.xml:6: file='nodir/sound.wav': no directory" \
    "5 errors"
[ ! -e nodir ] || { echo "FAIL: validate made nodir"; fail=1; }
# (port 1 needs privileges: a real bind would fail; validate does not bind)
check good.xml 0 "good.xml: ok"
ls -lR --time-style=full-iso . >"$tmp/after"
diff "$tmp/before" "$tmp/after" || { echo "FAIL: validate changed the directory"; fail=1; }
md5sum -c --quiet "$tmp/sums" || { echo "FAIL: validate changed an image"; fail=1; }
[ -z "$(ls -A empty)" ] || { echo "FAIL: validate created $(ls -A empty)"; fail=1; }

# And at the system-call level: no file opened for writing or created, no
# socket, no thread.
if command -v strace >/dev/null; then
    ASAN_OPTIONS=detect_leaks=0 strace -f -o trace \
        -e trace=openat,open,creat,socket,bind,connect,clone,clone3,mkdir,unlink,rename,truncate \
        "$tessera" validate good.xml >/dev/null 2>&1 || { echo "FAIL: validate under strace"; fail=1; }
    if grep -E 'O_WRONLY|O_RDWR|O_CREAT|socket\(|bind\(|connect\(|clone|mkdir\(|unlink\(|rename\(|truncate\(' trace |
       grep -v ENOENT; then
        echo "FAIL: validate touched the host (above)"; fail=1
    else
        echo "ok: no write, socket or thread"
    fi
else
    echo "(strace missing: system-call check skipped)"
fi
exit $fail
