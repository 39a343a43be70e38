#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Install what Tessera needs to build, run and test on Debian 12.
# Does nothing when everything is already there (no network needed then).
set -eu
pkgs="build-essential meson ninja-build pkg-config
      libglib2.0-dev libxml2-dev libjson-glib-dev libxml2-utils
      nasm seabios qemu-utils xorriso libzstd-dev
      libpng-dev libsdl2-dev xvfb xdotool
      libpcap-dev libslirp-dev libvdeplug-dev vde2 tcpdump iproute2
      grub-pc-bin grub-common mtools cpio kmod memtest86+ qemu-system-x86"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
