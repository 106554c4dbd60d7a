#!/bin/sh
# Builds the libFuzzer targets (clang, ASan + UBSan) in build-fuzz/ and runs each of them over
# its corpus in fuzz/corpus/<target>/ for a time or a number of runs; prints, per target, the
# executions, their rate, the coverage reached and any finding (crash-*, leak-*, timeout-*,
# slow-unit-* files in build-fuzz/findings/<target>/).
#
#   scripts/fuzz.sh [-t SECONDS | -n RUNS] [-j JOBS] [TARGET...]
#
# Targets: xml_stream xmpp legacy j14 j2 sasl route xpath xpath_fast node (default: all). -t 60 by
# default. New inputs that reach new code are added to the corpus in the tree: commit the
# ones worth keeping. The corpus regression run (no fuzzing) is the 'fuzz' test suite of any
# build: meson test -C build --suite fuzz.
set -eu

cd "$(dirname "$0")/.."
top=$(pwd)
seconds=60
runs=
jobs=1
while getopts t:n:j: opt; do
    case $opt in
    t) seconds=$OPTARG ;;
    n) runs=$OPTARG; seconds= ;;
    j) jobs=$OPTARG ;;
    *) echo "usage: $0 [-t SECONDS | -n RUNS] [-j JOBS] [TARGET...]" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
targets=${*:-xml_stream xmpp legacy j14 j2 sasl route xpath xpath_fast node}

build=build-fuzz
if [ ! -f "$build/build.ninja" ]; then
    CC=clang CXX=clang++ meson setup "$build" --wrap-mode=nodownload -Dfuzz=enabled \
        -Db_sanitize=address,undefined -Db_lundef=false -Dtests=disabled -Dexamples=disabled \
        -Dbench=disabled
fi
set --
for t in $targets; do set -- "$@" "fuzz/fuzz_$t"; done
meson compile -C "$build" -j 2 "$@"

# UBSan findings count as findings; leaks too (ASan's default).
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1
status=0
for t in $targets; do
    out=$top/$build/findings/$t
    mkdir -p "$out"
    log=$out/fuzz.log
    limit="-max_total_time=$seconds"
    [ -n "$runs" ] && limit="-runs=$runs"
    dict=
    [ -f fuzz/xmpp.dict ] && dict=-dict=$top/fuzz/xmpp.dict
    # xpath_fast's generators read at most 1,025 bytes of an input: longer inputs only lengthen
    # the optional stanza after them (which xml_stream and node fuzz at length) and cost time.
    max_len=8192
    [ "$t" = xpath_fast ] && max_len=2048
    start=$(date +%s)
    # -jobs (even -jobs=1) makes libFuzzer fork workers that log to fuzz-N.log in the current
    # directory: only asked for with -j 2 or more, and then collected from $out.
    parallel=
    [ "$jobs" -gt 1 ] && parallel="-jobs=$jobs -workers=$jobs"
    set +e
    (cd "$out" && "$top/$build/fuzz/fuzz_$t" "$top/fuzz/corpus/$t" $limit $dict $parallel \
        -max_len=$max_len -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$out/" > "$log" 2>&1)
    rc=$?
    set -e
    end=$(date +%s)
    counted=$log
    if [ "$jobs" -gt 1 ]; then
        # libFuzzer's parent prints a job's log when the job exits, so its own log may hold
        # some of them: the executions are counted from the workers' own logs alone.
        cat "$out"/fuzz-*.log > "$out/workers.log" 2>/dev/null
        rm -f "$out"/fuzz-*.log
        counted=$out/workers.log
    fi
    execs=$(grep -h 'stat::number_of_executed_units' "$counted" | awk '{s += $2} END {print s + 0}')
    cov=$(grep -ho 'cov: [0-9]*' "$counted" | tail -1 | awk '{print $2}')
    ft=$(grep -ho 'ft: [0-9]*' "$counted" | tail -1 | awk '{print $2}')
    findings=$(find "$out" -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
        -o -name 'oom-*' -o -name 'slow-unit-*' | wc -l)
    secs=$((end - start))
    rate=$((execs / (secs > 0 ? secs : 1)))
    printf '%-10s %12s execs in %6ss (%7s/s)  cov %6s  ft %7s  findings %s  exit %s\n' \
        "$t" "$execs" "$secs" "$rate" "${cov:-?}" "${ft:-?}" "$findings" "$rc"
    [ "$rc" -eq 0 ] && [ "$findings" -eq 0 ] || status=1
done
exit $status
