#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Fetch and build the real-guest assets the Linux, GRUB-menu and memtest86+
# tests boot: Debian's own i386 kernels (686 and 686-pae, unsigned images),
# busybox-static:i386, a busybox initramfs per kernel flavour and one GRUB
# El Torito ISO (i386-pc) with a menu that boots either kernel on the serial
# console, memtest86+'s ia32 image, and an entry that only prints a marker.
#
#   scripts/guest-assets.sh            build (or reuse) and print the ISO path
#   scripts/guest-assets.sh --env      print shell assignments instead:
#                                      ISO= KVER_686= KVER_PAE= DIR=
#
# Everything lands in $TESSERA_CACHE (default $XDG_CACHE_HOME/tessera or
# ~/.cache/tessera), in a directory named after the package versions, so a
# rerun with the same versions costs nothing and needs no network.
# Exit status 77 with the reason on stderr when the packages or tools cannot
# be had (the tests then SKIP), 1 on a real failure.
set -eu
PATH="$PATH:/usr/sbin:/sbin"

skip() { echo "guest-assets: SKIP: $*" >&2; exit 77; }
die() { echo "guest-assets: $*" >&2; exit 1; }
log() { echo "guest-assets: $*" >&2; }

mode=path
[ "${1:-}" = "--env" ] && mode=env

cache=${TESSERA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tessera}
mkdir -p "$cache" || skip "cannot create the cache directory $cache"

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo -n"

emit() {  # $1 = the finished asset directory
    . "$1/versions"
    if [ "$mode" = env ]; then
        echo "DIR=$1"
        echo "ISO=$1/guests.iso"
        echo "KVER_686=$KVER_686"
        echo "KVER_PAE=$KVER_PAE"
    else
        echo "$1/guests.iso"
    fi
    exit 0
}

# What this script builds from the packages: bump when the initramfs, the
# menu or the kernel command line change, so the cache is rebuilt.
layout=5

# --- Which versions are current? ---------------------------------------
# Asking apt costs seconds: within a day of the last check, the assets
# built then are current (TESSERA_GUEST_REFRESH=1 asks anyway).
stamp="$cache/guests-current"
if [ "${TESSERA_GUEST_REFRESH:-0}" != 1 ] && [ -f "$stamp" ] &&
   [ -n "$(find "$stamp" -mmin -1440 2>/dev/null)" ]; then
    last=$(cat "$stamp")
    case "$last" in */guests-v${layout}_*) [ -f "$last/done" ] && emit "$last";; esac
fi

# The metapackages linux-image-686 / -686-pae name the current ABI
# (linux-image-6.1.0-NN-686); the unsigned image of that ABI is the one we
# want. Without an apt that knows i386, fall back to what is cached.
abis() {
    apt-cache depends linux-image-686:i386 linux-image-686-pae:i386 2>/dev/null |
        sed -n 's/^ *Depends: linux-image-\([0-9][^:]*-686\(-pae\)\{0,1\}\)\(:i386\)\{0,1\}$/\1/p'
}
deps=$(abis)
if [ -z "$deps" ]; then
    if ! dpkg --print-foreign-architectures 2>/dev/null | grep -qx i386; then
        log "adding the i386 architecture to dpkg"
        $SUDO dpkg --add-architecture i386 2>/dev/null || true
    fi
    # A failing mirror (e.g. the security index) makes apt-get update exit
    # non-zero while leaving the other indexes usable: judge by the result.
    $SUDO apt-get update -qq >/dev/null 2>&1 || true
    deps=$(abis)
fi
abi686=$(echo "$deps" | grep -- '-686$' | sort -V | tail -n 1 || true)
abipae=$(echo "$deps" | grep -- '-686-pae$' | sort -V | tail -n 1 || true)

if [ -n "$abi686" ] && [ -n "$abipae" ]; then
    pol=$(apt-cache policy "linux-image-$abi686-unsigned:i386" \
              "linux-image-$abipae-unsigned:i386" busybox-static:i386 2>/dev/null)
    candidate() {  # $1 = package:arch -> its candidate version
        echo "$pol" | awk -v p="$1:" '$1 == p { f = 1; next }
                                      /^[^ ]/ { f = 0 }
                                      f && $1 == "Candidate:" { print $2; exit }'
    }
    v686=$(candidate "linux-image-$abi686-unsigned:i386")
    vpae=$(candidate "linux-image-$abipae-unsigned:i386")
    vbb=$(candidate "busybox-static:i386")
    for v in "$v686" "$vpae" "$vbb"; do
        case "$v" in ""|"(none)") skip "apt-cache has no candidate for linux-image-$abi686-unsigned, linux-image-$abipae-unsigned or busybox-static (i386)";; esac
    done
    key=$(printf 'v%s_%s_%s_%s_%s_%s' "$layout" "$abi686" "$v686" "$abipae" "$vpae" "$vbb" | tr ':~+' '---')
    dir="$cache/guests-$key"
    if [ -f "$dir/done" ]; then
        echo "$dir" >"$stamp"
        emit "$dir"
    fi
else
    last=$(ls -d "$cache"/guests-* 2>/dev/null | grep -v '\.tmp\.' | sort -V | tail -n 1 || true)
    [ -n "$last" ] && [ -f "$last/done" ] && emit "$last"
    skip "apt-get cannot see linux-image-686:i386 (no i386 architecture or no network) and nothing is cached"
fi

for t in dpkg-deb cpio gzip grub-mkrescue xorriso depmod; do
    command -v "$t" >/dev/null 2>&1 || skip "$t is not installed (scripts/deps.sh installs it)"
done
[ -d /usr/lib/grub/i386-pc ] || skip "grub-pc-bin (GRUB's i386-pc modules) is not installed"

# One builder at a time (tests run in parallel); the others wait, then
# find the work done.
if command -v flock >/dev/null 2>&1; then
    exec 9>"$cache/lock"
    flock 9
    [ -f "$dir/done" ] && { echo "$dir" >"$stamp"; emit "$dir"; }
fi
log "building $dir"
work="$dir.tmp.$$"
rm -rf "$work"
mkdir -p "$work/debs"
trap 'rm -rf "$work"' EXIT INT TERM

# --- Download and unpack ------------------------------------------------
debs="$cache/debs"
mkdir -p "$debs"
fetch() {  # $1 = package, $2 = version -> path of the .deb
    f=$(ls "$debs"/"$1"_*_i386.deb 2>/dev/null | while read -r d; do
            [ "$(dpkg-deb -f "$d" Version)" = "$2" ] && echo "$d"; done | head -n 1)
    if [ -z "$f" ]; then
        (cd "$debs" && apt-get download -qq "$1:i386=$2" >/dev/null 2>&1) ||
            skip "apt-get download $1:i386=$2 failed (no network?)"
        f=$(ls "$debs"/"$1"_*_i386.deb 2>/dev/null | while read -r d; do
                [ "$(dpkg-deb -f "$d" Version)" = "$2" ] && echo "$d"; done | head -n 1)
        [ -n "$f" ] || die "apt-get download $1 left no .deb"
    fi
    echo "$f"
}
d686=$(fetch "linux-image-$abi686-unsigned" "$v686")
dpae=$(fetch "linux-image-$abipae-unsigned" "$vpae")
dbb=$(fetch busybox-static "$vbb")
dpkg-deb -x "$d686" "$work/k686"
dpkg-deb -x "$dpae" "$work/kpae"
dpkg-deb -x "$dbb" "$work/bb"
bb="$work/bb/bin/busybox"
[ -x "$bb" ] || die "busybox-static has no /bin/busybox"

# --- Initramfs ------------------------------------------------------------
# Modules the later guest tests load (DEC 21041 Ethernet, S3 framebuffer,
# Sound Blaster 16 and ALSA's OSS emulation, so busybox can play raw PCM
# through /dev/dsp with no aplay; tulip drives QEMU's 21143, the peer of
# the network benchmark), with every module they depend on and a
# modules.dep made by depmod over exactly that set.
want_modules="de2104x tulip s3fb snd-sb16 snd-pcm-oss"

modpath() {  # $1 = index from modindex, $2 = module name -> path in the index
    n=$(echo "$2" | tr '-' '_')
    awk -v n="$n" '$1 == n { print $2; exit }' "$1"
}
modindex() {  # $1 = module root, $2 = output: "normalised-name relative-path" lines
    (cd "$1" && find . -name '*.ko*') | sed 's|^\./||' |
        awk '{ b = $0; sub(/.*\//, "", b); sub(/\.ko.*$/, "", b); gsub(/-/, "_", b); print b, $0 }' >"$2"
}

build_initramfs() {  # $1 = unpacked kernel package, $2 = kernel release, $3 = output
    kpkg=$1 krel=$2 out=$3
    root="$work/initramfs-$krel"
    mkdir -p "$root/bin" "$root/sbin" "$root/etc" "$root/proc" "$root/sys" \
             "$root/dev" "$root/tmp" "$root/root" "$root/usr/bin" "$root/usr/sbin"
    cp "$bb" "$root/bin/busybox"
    ln -s busybox "$root/bin/sh"
    ln -s ../bin/busybox "$root/sbin/init"
    mroot="$kpkg/lib/modules/$krel"
    [ -d "$mroot" ] || die "$kpkg has no lib/modules/$krel"
    dst="$root/lib/modules/$krel"
    mkdir -p "$dst"
    cp "$mroot/modules.order" "$mroot/modules.builtin" "$dst/" 2>/dev/null || true
    [ -f "$mroot/modules.builtin.modinfo" ] && cp "$mroot/modules.builtin.modinfo" "$dst/"
    modindex "$mroot/kernel" "$work/modindex"
    todo=$(echo $want_modules)
    seen=" "
    while [ -n "$todo" ]; do
        m=${todo%% *}
        case "$todo" in *" "*) todo=${todo#* };; *) todo="";; esac
        mn=$(echo "$m" | tr '-' '_')
        case "$seen" in *" $mn "*) continue;; esac
        seen="$seen$mn "
        rel=$(modpath "$work/modindex" "$m")
        if [ -z "$rel" ]; then
            # Built into this kernel: nothing to copy.
            grep -q "/$mn.ko\$\|/$(echo "$m" | tr '_' '-').ko\$" "$mroot/modules.builtin" 2>/dev/null ||
                die "module $m is neither in $krel's modules nor built in"
            continue
        fi
        mkdir -p "$dst/kernel/$(dirname "$rel")"
        cp "$mroot/kernel/$rel" "$dst/kernel/$rel"
        deps=$(modinfo -F depends "$mroot/kernel/$rel")
        todo=$(echo $todo $(echo "$deps" | tr ',' ' '))
    done
    depmod -b "$root" "$krel" || die "depmod failed for $krel"

    cat >"$root/init" <<'EOF'
#!/bin/sh
# Tessera guest initramfs: mount the kernel file systems, load the modules
# named by tessera.modules=a,b on the kernel command line, then hand over to
# busybox init, which runs a login shell on the serial console and powers
# the machine off (ACPI) on `poweroff`, or resets it on `reboot`.
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null || mdev -s
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
for arg in $(cat /proc/cmdline); do
    case "$arg" in
    tessera.modules=*)
        for m in $(echo "${arg#tessera.modules=}" | tr ',' ' '); do
            modprobe "$m" || echo "init: modprobe $m failed"
        done;;
    esac
done
echo "TESSERA-INIT-DONE $(uname -r)"
exec /sbin/init
EOF
    chmod 755 "$root/init"
    cat >"$root/etc/inittab" <<'EOF'
ttyS0::respawn:-/bin/sh
::ctrlaltdel:/sbin/reboot
::shutdown:/bin/umount -a -r
EOF
    cat >"$root/etc/profile" <<'EOF'
PS1='tessera-guest# '
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
EOF
    (cd "$root" && find . | sort | cpio -o -H newc --quiet) | gzip -9 >"$out"
}

rel686=$(ls "$work/k686/lib/modules")
relpae=$(ls "$work/kpae/lib/modules")
[ "$rel686" = "$abi686" ] || die "kernel release $rel686 does not match $abi686"
[ "$relpae" = "$abipae" ] || die "kernel release $relpae does not match $abipae"

iso="$work/iso"
mkdir -p "$iso/boot/grub"
cp "$work/k686/boot/vmlinuz-$rel686" "$iso/boot/vmlinuz-686"
cp "$work/kpae/boot/vmlinuz-$relpae" "$iso/boot/vmlinuz-686-pae"
build_initramfs "$work/k686" "$rel686" "$iso/boot/initrd-686.gz"
build_initramfs "$work/kpae" "$relpae" "$iso/boot/initrd-686-pae.gz"
memtest=""
if [ -f /boot/memtest86+ia32.bin ]; then
    cp /boot/memtest86+ia32.bin "$iso/boot/memtest.bin"
    memtest=1
fi

# --- GRUB ISO -----------------------------------------------------------
# The menu waits for a key (timeout -1): the tests choose an entry either
# by its hotkey on the serial console or with the arrow keys on the PS/2
# keyboard, so nothing depends on how fast the guest runs. The kernel
# command line keeps the boot short: quiet, no probing of hardware the
# machine does not have, a reliable TSC so no clocksource watchdog waits,
# and no crypto self-tests (cryptomgr: 10 of the 20 s QEMU TCG needs to
# reach /init) nor ISA PnP scan (1.6 s).
kargs="console=ttyS0,115200 quiet loglevel=3 tsc=reliable no_timer_check cryptomgr.notests noisapnp panic=-1"
cat >"$iso/boot/grub/grub.cfg" <<EOF
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set timeout=-1
set default=0
menuentry 'Debian $rel686 (686)' --hotkey=1 {
    echo 'TESSERA-GRUB-ENTRY 686'
    linux /boot/vmlinuz-686 $kargs
    initrd /boot/initrd-686.gz
}
menuentry 'Debian $relpae (686-pae)' --hotkey=2 {
    echo 'TESSERA-GRUB-ENTRY 686-pae'
    linux /boot/vmlinuz-686-pae $kargs
    initrd /boot/initrd-686-pae.gz
}
menuentry 'Marker: print and stop' --hotkey=3 {
    echo 'TESSERA-GRUB-ENTRY marker'
    echo 'TESSERA-GRUB-ENTRY marker'
    echo 'TESSERA-GRUB-ENTRY marker'
    sleep --interruptible 3600
}
EOF
if [ -n "$memtest" ]; then
    cat >>"$iso/boot/grub/grub.cfg" <<EOF
menuentry 'memtest86+ (ia32)' --hotkey=4 {
    echo 'TESSERA-GRUB-ENTRY memtest'
    linux /boot/memtest.bin console=ttyS0,115200 nopause nosmp
}
EOF
fi
grub-mkrescue -d /usr/lib/grub/i386-pc -o "$work/guests.iso" "$iso" >/dev/null 2>"$work/mkrescue.log" ||
    { cat "$work/mkrescue.log" >&2; die "grub-mkrescue failed"; }

cat >"$work/versions" <<EOF
KVER_686=$rel686
KVER_PAE=$relpae
PKG_686=$v686
PKG_PAE=$vpae
BUSYBOX=$vbb
MEMTEST=${memtest:-0}
EOF
mkdir -p "$dir"
mv "$work/guests.iso" "$work/versions" "$dir/"
touch "$dir/done"
echo "$dir" >"$stamp"
# Assets of other versions of this layout are stale now. Other layouts
# stay: worktrees of older or newer checkouts share the cache, and one
# must not delete the ISO another's tests are booting.
for old in "$cache"/guests-v${layout}_*; do
    case "$old" in "$dir"|*.tmp.*) ;; *) [ -d "$old" ] && rm -rf "$old";; esac
done
emit "$dir"
