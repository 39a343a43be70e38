#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Install what Tessera needs to build, run and test on Debian 12: the build
# tools and libraries, and every program the tests call (a test whose
# program is missing reports SKIP, which CI must not rely on).
# Does nothing when everything is already there (no network needed then).
set -eu
pkgs="build-essential meson ninja-build pkg-config
      libglib2.0-dev libxml2-dev libjson-glib-dev libxml2-utils
      libpng-dev libsdl2-dev
      libslirp-dev libpcap-dev libzstd-dev libadplug-dev libvdeplug-dev vde2
      nasm seabios qemu-utils qemu-system-x86 ipxe-qemu
      bochs bochs-term bochsbios vgabios
      console-setup-linux
      grub-pc-bin grub-common mtools xorriso syslinux isolinux memtest86+ kmod
      busybox-static cpio tcpdump strace iproute2 coreutils python3 groff-base bsdutils
      xvfb xdotool
      clang libclang-rt-14-dev valgrind abigail-tools"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
# A mirror mid-sync (Debian's security index, typically) makes `update`
# fail while the lists it did fetch are fine: go on, and let the install
# decide.
$SUDO apt-get update -qq || echo "deps.sh: apt-get update failed; trying the install anyway" >&2
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
