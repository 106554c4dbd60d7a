#!/bin/bash
# What per-stanza outcomes cost on the send path: pcj_outcome in its three modes (plain
# output(), output() with an outcome callback, everything queued with callbacks and flushed at
# READY) against the stanza source's sink, COUNT messages each, ROUNDS rounds; prints the client's
# CPU seconds and peak RSS per run. A benchmark, not a test: it asserts only that every message
# was counted.
#
#   bench/outcome.sh BUILD_DIR [COUNT=1000000] [ROUNDS=3]
#
# BUILD_DIR should be a release build (meson setup … -Dbuildtype=release) with the targets
# bench/stanza_source and bench/pcj_outcome built.
set -u
build=${1:?usage: bench/outcome.sh BUILD_DIR [COUNT] [ROUNDS]}
count=${2:-1000000}
rounds=${3:-3}
bin=$build/bench
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

printf 'mode\tround\tcpu_seconds\tpeak_rss_kb\tcounted\n'
for round in $(seq "$rounds"); do
    for mode in plain outcome queued; do
        rm -f "$work/port"
        "$bin/stanza_source" --mode sink --port-file "$work/port" --timeout 120 \
            >"$work/source.out" 2>"$work/source.err" &
        source_pid=$!
        for _ in $(seq 1000); do [ -s "$work/port" ] && break; sleep 0.005; done
        timeout 150 "$bin/pcj_outcome" 127.0.0.1 "$(cat "$work/port")" bench.localhost secret \
            "$count" "$mode" >"$work/client.out" 2>"$work/client.err"
        rc=$?
        wait "$source_pid"
        cpu=$(grep -o 'cpu_seconds=[^ ]*' "$work/client.out" | cut -d= -f2)
        rss=$(grep -o 'peak_rss_kb=[^ ]*' "$work/client.out" | cut -d= -f2)
        counted=$(tail -n 1 "$work/client.out")
        if [ $rc -ne 0 ] || [ "$counted" != "$count" ]; then
            echo "run failed: $mode round $round (rc=$rc, counted ${counted:-none}):" \
                "$(tail -n 2 "$work/client.err")" >&2
            continue
        fi
        printf '%s\t%s\t%s\t%s\t%s\n' "$mode" "$round" "$cpu" "$rss" "$counted"
    done
done
