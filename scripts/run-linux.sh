#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Boot Debian's own i386 Linux on Tessera, in this terminal: the kernel and
# busybox packages are fetched from Debian and cached by guest-assets.sh
# (the first run downloads ~60 MB), then the whole Virtual PC
# (machines/vpc.xml: NIC on shared networking, Sound Blaster 16, game
# port) boots the GRUB ISO from its CD-ROM with COM1 on this terminal.
# Press 1 (686) or 2 (686-pae) at GRUB's menu; `poweroff` ends the run.
# usage: run-linux.sh [TESSERA [tessera run options...]]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tessera=${1:-$here/../build/core/cli/tessera}
[ $# -gt 0 ] && shift
iso=$("$here/guest-assets.sh")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/linux.xml" <<EOX
<?xml version="1.0"?>
<machine name="debian" base="vpc">
  <device id="ide0">
    <drive bus="1" unit="0" media="cdrom"><disk format="raw" file="$iso" readonly="on"/></drive>
  </device>
</machine>
EOX
echo "run-linux: GRUB's menu is on this terminal: press 1 (686) or 2 (686-pae); 'poweroff' quits" >&2
"$tessera" run "$work/linux.xml" --display none --serial stdio "$@"
