#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Build the libFuzzer targets (tests/fuzz) with clang, the whole tree
# instrumented for coverage and under ASan+UBSan, and run them on their
# committed corpora (tests/fuzz/corpus/TARGET).
#   scripts/fuzz.sh [--ci]          each target briefly (CI: 10 s each)
#   scripts/fuzz.sh --long SECONDS  each target for SECONDS; reports
#                                   executions, coverage, crashes, leaks
#   scripts/fuzz.sh --runs N        each target for N executions (the long
#                                   run's figure: --runs 10000000), no time
#                                   limit
#   scripts/fuzz.sh --fast --runs N (or --fast --long SECONDS): the long
#                                   run in a second build without ASan
#                                   (build-fuzz-fast: LeakSanitizer, UBSan
#                                   trapping, 2-4x the executions per CPU
#                                   second), then every input its corpus
#                                   kept replayed under ASan+UBSan: an
#                                   overrun that does not fault is found
#                                   by the replay if an input reaching it
#                                   was kept, not otherwise
#   scripts/fuzz.sh --status        where the long runs are (running or
#                                   done): executions, coverage, crashes,
#                                   leaks, from their logs; wall and CPU
#                                   time (of a run still going: its
#                                   process's, found by its log)
#   scripts/fuzz.sh ... TARGET...   only these (vhd machine control device snapshot)
# New inputs go to build-fuzz/corpus/TARGET, never into the committed
# corpus; crashes to build-fuzz/artifacts/TARGET/. Exit 1 on any crash or
# leak; 77 when clang or its fuzzer runtime is missing.
set -u
cd "$(dirname "$0")/.."
mode=ci secs=10 runs=-1 fast=0
[ "${1:-}" = --fast ] && { fast=1; shift; }
case "${1:-}" in
--ci) shift ;;
--long) mode=long; secs=$2; shift 2 ;;
--runs) mode=long; secs=0; runs=$2; shift 2 ;;
--status) mode=status; shift ;;
esac
targets=${*:-vhd machine control device snapshot}
if [ "$mode" = status ]; then
    for t in $targets; do
        log=build-fuzz/fuzz-long-$t.log
        [ -f "$log" ] || { echo "fuzz-$t: no long run"; continue; }
        # libFuzzer's last status line: "#N <event> cov: E ft: F ..."
        last=$(grep -a -o '^#[0-9]*[[:space:]]*[A-Za-z]*[[:space:]]*cov: [0-9]* ft: [0-9]*' "$log" | tail -1)
        done=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
        crashes=$(ls "build-fuzz/artifacts/$t" 2>/dev/null | grep -c -E '^(crash|timeout|oom|leak)-')
        leaks=$(grep -a -c 'ERROR: LeakSanitizer' "$log")
        # Times: what the run wrote at its end, or, while it runs, its
        # process's (the one whose output is this log: /proc/PID/stat's
        # utime, stime and start time, in clock ticks).
        times=$(sed -n 's/^fuzz\.sh: times: //p' "$log" | tail -1)
        if [ -z "$done" ]; then
            abs=$(pwd)/$log
            for p in /proc/[0-9]*; do
                [ "$(readlink "$p/fd/1" 2>/dev/null)" = "$abs" ] || continue
                # (" (deleted)": the fuzzer was rebuilt since it started)
                case $(readlink "$p/exe" 2>/dev/null) in */fuzz-$t | */fuzz-$t" (deleted)") ;; *) continue ;; esac
                times=$(sed 's/.*) //' "$p/stat" 2>/dev/null | awk -v hz="$(getconf CLK_TCK)" \
                    -v up="$(cut -d' ' -f1 /proc/uptime)" -v pid="${p#/proc/}" \
                    '{ printf "running (pid %s), wall %.0f s, cpu %.0f s (%.0f user + %.0f system)", \
                       pid, up - $20 / hz, ($12 + $13) / hz, $12 / hz, $13 / hz }')
            done
        fi
        echo "fuzz-$t: ${done:+finished, }executions ${done:-$(echo "$last" | sed 's/^#\([0-9]*\).*/\1/')}," \
            "coverage $(echo "$last" | sed -n 's/.*cov: \([0-9]*\) ft: \([0-9]*\)/\1 edges (\2 features)/p')," \
            "crashes $crashes, leaks $leaks${times:+, $times}"
    done
    exit 0
fi
command -v clang >/dev/null 2>&1 || { echo "fuzz.sh: SKIP: clang is not installed"; exit 77; }
echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { return 0; }' >/tmp/tess-fuzz-probe.c
clang -fsanitize=fuzzer -o /tmp/tess-fuzz-probe /tmp/tess-fuzz-probe.c 2>/dev/null ||
    { echo "fuzz.sh: SKIP: clang has no libFuzzer runtime (libclang-rt-14-dev)"; exit 77; }
rm -f /tmp/tess-fuzz-probe /tmp/tess-fuzz-probe.c

# setup BUILDDIR SANITIZE C_ARGS LINK_ARGS; build TARGET...: configure once,
# then build only what the targets load: the fuzzers, libtessera, the
# plugins and the data files they read (the VGA BIOSes of the pc's S3,
# found in the build tree as the plugins are).
setup() {
    [ -f "$1/build.ninja" ] && return 0
    setup_log=${TMPDIR:-/tmp}/tess-fuzz-setup.$$.log
    CC=clang meson setup "$1" -Dfuzz=true -Db_sanitize="$2" -Db_lundef=false \
        -Dc_args="$3" -Dc_link_args="$4" -Dwerror=false >"$setup_log" 2>&1 ||
        { cat "$setup_log"; rm -f "$setup_log"; exit 1; }
    rm -f "$setup_log"
}
build() {
    plugins=$(ninja -C "$1" -t targets all | sed -n 's/^\(plugins\/[^:]*\.so\|firmware\/[^:]*\.bin\): .*/\1/p')
    fz=""
    for t in $targets; do fz="$fz tests/fuzz/fuzz-$t"; done
    ninja -C "$1" $fz $plugins >"$1/fuzz-build.log" 2>&1 || { tail -30 "$1/fuzz-build.log"; exit 1; }
}
b=build-fuzz
setup $b address,undefined -fsanitize=fuzzer-no-link ""
build $b
# The fast build runs the long run; build-fuzz (ASan+UBSan) replays what it
# kept. Clang 14 has no LeakSanitizer runtime with UBSan's handlers in it,
# so UBSan traps (SIGILL: a crash to libFuzzer, with its input saved).
run=$b
if [ "$fast" = 1 ]; then
    run=build-fuzz-fast
    setup $run none "-fsanitize=fuzzer-no-link -fsanitize=leak -fsanitize=undefined -fsanitize-trap=undefined" \
        "-fsanitize=leak"
    build $run
fi

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# G_SLICE: GSlice (GLib before 2.76) keeps freed blocks in its magazines,
# so an input that allocates slices (every JsonNode, GList...) looked like
# one with more mallocs than frees, and libFuzzer ran a full leak check
# after it (fuzz-control: 60 execs/s with it, 1,000 without); it also hid
# real leaks of slice memory from LeakSanitizer.
export TESSERA_PLUGIN_PATH= TESSERA_MACHINE_PATH= G_DEBUG=gc-friendly G_SLICE=always-malloc
fail=0
for t in $targets; do
    seeds=tests/fuzz/corpus/$t
    work=$b/corpus/$t
    art=$b/artifacts/$t/
    mkdir -p "$work" "$art"
    case $t in
    vhd) maxlen=131072 ;;
    machine) maxlen=16384 ;;
    snapshot) maxlen=65536 ;;
    *) maxlen=4096 ;;
    esac
    # A long run has its own log, so that a CI run meanwhile does not
    # overwrite it.
    log=$b/fuzz-$t.log
    [ "$mode" = long ] && log=$b/fuzz-long-$t.log
    # A long run shares the machine (nice, hours): a unit starved of CPU
    # for 20 s is not a hang, so allow more there; CI keeps 20 s.
    tmo=20
    [ "$mode" = long ] && tmo=120
    # -entropic=0: libFuzzer 14's entropic schedule spends most of each
    # execution on its feature bookkeeping once a target has 10k features
    # (fuzz-device: 260 execs/s with it, 750 without, and more coverage
    # in the same time); the classic schedule does better here.
    t0=$(date +%s)
    # (times in this shell, not in a $(...) subshell, which has its own)
    times >"$b/fuzz-$t.times"
    "$run/tests/fuzz/fuzz-$t" -entropic=0 -max_total_time="$secs" -runs="$runs" -max_len="$maxlen" -rss_limit_mb=2560 \
        -timeout="$tmo" -print_final_stats=1 -artifact_prefix="$art" "$work" "$seeds" >"$log" 2>&1
    rc=$?
    # Wall and CPU time of this target's run (the shell's children's
    # times, before and after), for --status and the report below.
    times >>"$b/fuzz-$t.times"
    times=$(sed -n '2p; 4p' "$b/fuzz-$t.times" | sed 's/m/ /g; s/s//g' |
        awk -v wall=$(($(date +%s) - t0)) '{ u[NR] = $1 * 60 + $2; s[NR] = $3 * 60 + $4 }
            END { printf "wall %d s, cpu %.0f s (%.0f user + %.0f system)", wall,
                  u[2] - u[1] + s[2] - s[1], u[2] - u[1], s[2] - s[1] }')
    rm -f "$b/fuzz-$t.times"
    echo "fuzz.sh: times: $times" >>"$log"
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    crashes=$(ls "$art" 2>/dev/null | grep -c -E '^(crash|timeout|oom|leak)-')
    leaks=$(grep -c 'ERROR: LeakSanitizer' "$log")
    took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
    replay="" kind=""
    if [ "$fast" = 1 ]; then
        kind=" (LSan+UBSan build)"
        # Every input the run kept (and the seeds), once, under ASan+UBSan.
        "$b/tests/fuzz/fuzz-$t" -runs=0 -max_len="$maxlen" -rss_limit_mb=2560 -timeout="$tmo" \
            -artifact_prefix="$art" "$work" "$seeds" >"$log.replay" 2>&1
        rrc=$?
        [ "$rrc" -ne 0 ] && rc=$rrc
        crashes=$(ls "$art" 2>/dev/null | grep -c -E '^(crash|timeout|oom|leak)-')
        leaks=$((leaks + $(grep -c 'ERROR: LeakSanitizer' "$log.replay")))
        replay=", corpus replayed under ASan+UBSan: exit $rrc"
        echo "fuzz.sh: replay: exit $rrc" >>"$log"
    fi
    echo "fuzz-$t: ${execs:-0} executions in ${took:-$secs} s${kind}, coverage ${cov:-?} edges (${ft:-?} features), corpus $(ls "$work" | wc -l) + $(ls "$seeds" | wc -l) seeds, crashes ${crashes}, leaks ${leaks}, exit ${rc}${replay}; $times"
    if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ] || [ "$leaks" -ne 0 ]; then
        fail=1
        grep -E 'ERROR|SUMMARY|==[0-9]+==' "$log" | head -20
    fi
done
exit $fail
