#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Install Tessera to a temporary prefix, build sdk/examples/hello-device
# against the *installed* SDK through pkg-config, and check that the
# installed `tessera inspect` lists it through TESSERA_PLUGIN_PATH.
set -eu
build_root=$1
source_root=$2
tmp=$(mktemp -d /tmp/tess-sdk-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

meson setup --prefix "$prefix" --libdir lib "$tmp/core-build" "$source_root" \
    -Dbuildtype=plain >"$tmp/setup.log" 2>&1 || { cat "$tmp/setup.log"; exit 1; }
ninja -C "$tmp/core-build" >"$tmp/build.log" 2>&1 || { tail -50 "$tmp/build.log"; exit 1; }
meson install -C "$tmp/core-build" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; exit 1; }

export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
test "$(pkg-config --modversion tessera-sdk)" != ""
test -f "$prefix/include/tessera/tessera.h"
# Installed like a real tool: manual pages and bash completion.
for page in tessera tessera-run tessera-inspect tessera-validate tessera-ctl tessera-img \
            tessera-snapshot; do
    test -f "$prefix/share/man/man1/$page.1" || { echo "$page.1 not installed"; exit 1; }
done
test -f "$prefix/share/bash-completion/completions/tessera" || { echo "completion not installed"; exit 1; }

# Without a warning: what a third party builds first must be clean.
meson setup -Dwerror=true "$tmp/ex-build" "$source_root/sdk/examples/hello-device" >"$tmp/ex.log" 2>&1 ||
    { cat "$tmp/ex.log"; exit 1; }
ninja -C "$tmp/ex-build" >>"$tmp/ex.log" 2>&1 || { cat "$tmp/ex.log"; exit 1; }
test -f "$tmp/ex-build/hello-device.so"
! grep -i "warning:" "$tmp/ex.log" || { echo "the SDK example builds with warnings"; exit 1; }

export TESSERA_PLUGIN_PATH=$tmp/ex-build
out=$("$prefix/bin/tessera" inspect)
echo "$out" | grep -q "plugin hello-device 1.0.0 (MIT)" || { echo "$out"; echo "hello-device not listed"; exit 1; }
# The installed plugins (not the build tree's) were found too.
echo "$out" | grep -q "plugin debugcon" || { echo "installed plugins not listed"; exit 1; }
"$prefix/bin/tessera" inspect hello-device | grep -q "greeting"

# And the plugin works in a machine.
cat >"$tmp/hello.xml" <<XML
<machine name="hello"><memory size="1M"/>
  <device type="hello-device" id="hello" greeting="hi"/>
</machine>
XML
"$prefix/bin/tessera" validate "$tmp/hello.xml"
echo "sdk example: ok"
