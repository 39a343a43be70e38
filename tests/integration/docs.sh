#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The manual pages render without a warning, one for tessera and one for
# each command it lists, and tessera-run(1) names every option `run --help`
# has; the bash completion completes commands, options and classes.
set -u
tessera=$1
docs=$2
tmp=$(mktemp -d /tmp/tess-docs-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0

command -v groff >/dev/null || { echo "SKIP: groff not installed"; exit 77; }
for page in "$docs"/man/*.1; do
    groff -man -ww -z "$page" >"$tmp/warn" 2>&1
    [ -s "$tmp/warn" ] && { echo "FAIL: $page:"; cat "$tmp/warn"; fail=1; }
done
"$tessera" --help | awk '/^Commands:/ { c = 1; next } c && /^  [a-z]/ { print $1 }' >"$tmp/cmds"
[ -s "$tmp/cmds" ] || { echo "FAIL: tessera --help lists no commands"; fail=1; }
for cmd in $(cat "$tmp/cmds"); do
    [ -f "$docs/man/tessera-$cmd.1" ] || { echo "FAIL: no man page for tessera $cmd"; fail=1; }
done
"$tessera" run --help | grep -o -- '--[a-z][a-z-]*' | sort -u | grep -v -- '--help' >"$tmp/opts"
for opt in $(cat "$tmp/opts"); do
    esc=$(printf '%s' "$opt" | sed 's/-/\\\\-/g')
    grep -q -- "$esc" "$docs/man/tessera-run.1" || { echo "FAIL: tessera-run.1 lacks $opt"; fail=1; }
done

if command -v bash >/dev/null; then
    mkdir "$tmp/bin" && ln -s "$tessera" "$tmp/bin/tessera"
    complete_words() {   # the completions of a command line ending in $1's last word
        PATH="$tmp/bin:$PATH" bash -c '
            . "$1"; shift
            COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
            _tessera; printf "%s\n" "${COMPREPLY[@]}"' _ "$docs/completion/tessera" "$@"
    }
    complete_words tessera r | grep -qx run || { echo "FAIL: completion: tessera r"; fail=1; }
    complete_words tessera run --cd | grep -qx -- --cdrom || { echo "FAIL: completion: --cd"; fail=1; }
    complete_words tessera run --net s | grep -qx shared || { echo "FAIL: completion: --net s"; fail=1; }
    complete_words tessera inspect pic | grep -qx pic8259 || { echo "FAIL: completion: inspect pic"; fail=1; }
    complete_words tessera --debug i | grep -qx i8042 || { echo "FAIL: completion: --debug i"; fail=1; }
fi
[ $fail -eq 0 ] && echo "docs: man pages and completion ok"
exit $fail
