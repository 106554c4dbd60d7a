#!/bin/bash
# What XEP-0198 acks cost on the send path: an XMPP client sends COUNT messages to the stanza
# source's c2s sink (SASL PLAIN without TLS, stream management offered) and waits until every
# one is through — `acked` with stream management, `sent` without. Rows, ROUNDS rounds each:
#   pcj        no SM            Config::stream_management.enabled = false
#   pcj        SM every 5       the defaults (ack_every 5, ack_after 2000 ms)
#   pcj        SM every 50      ack_every 50
#   pcj        SM time only     ack_every 0, ack_after 2000 ms
#   libstrophe no SM / SM       libstrophe 0.12 (an <r/> after every stanza; not configurable),
#                               when bench/strophe_acks was built (libstrophe-dev installed)
# Prints one line per run (client CPU seconds from READY to the end, wall seconds over the same
# span, peak RSS, the <r/> the sink answered), then the median of the rounds per row. A
# benchmark, not a test: it asserts only that every message was counted by both ends.
#
#   bench/acks.sh BUILD_DIR [COUNT=1000000] [ROUNDS=3]
#
# BUILD_DIR should be a release build (meson setup … -Dbuildtype=release) with the targets
# bench/stanza_source, bench/pcj_acks and (optionally) bench/strophe_acks built.
set -u
build=${1:?usage: bench/acks.sh BUILD_DIR [COUNT] [ROUNDS]}
count=${2:-1000000}
rounds=${3:-3}
bin=$build/bench
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

rows=(
    "pcj|no SM|$bin/pcj_acks @HOST@ @PORT@ bench.localhost bench secret $count --sm off"
    "pcj|SM every 5|$bin/pcj_acks @HOST@ @PORT@ bench.localhost bench secret $count"
    "pcj|SM every 50|$bin/pcj_acks @HOST@ @PORT@ bench.localhost bench secret $count --ack-every 50"
    "pcj|SM time only|$bin/pcj_acks @HOST@ @PORT@ bench.localhost bench secret $count --ack-every 0 --ack-after 2000"
)
if [ -x "$bin/strophe_acks" ]; then
    rows+=(
        "libstrophe|no SM|$bin/strophe_acks @HOST@ @PORT@ bench@bench.localhost/bench secret $count --sm off"
        "libstrophe|SM every 1|$bin/strophe_acks @HOST@ @PORT@ bench@bench.localhost/bench secret $count --sm on"
    )
else
    echo "acks.sh: $bin/strophe_acks not built (libstrophe-dev missing): no libstrophe rows" >&2
fi

# measure ROW ROUND: one run, printed; appends "client mode round cpu wall rss_mib" (tab-separated)
# to the results.
measure() {
    local client mode command
    IFS='|' read -r client mode command <<<"$1"
    rm -f "$work/port"
    "$bin/stanza_source" --mode c2s --sm --port-file "$work/port" --timeout 300 \
        >"$work/source.out" 2>"$work/source.err" &
    local source_pid=$!
    for _ in $(seq 1000); do [ -s "$work/port" ] && break; sleep 0.005; done
    command=${command/@HOST@/127.0.0.1}
    command=${command/@PORT@/$(cat "$work/port")}
    # shellcheck disable=SC2086 # the command is split into its words on purpose
    timeout 330 $command >"$work/client.out" 2>"$work/client.err"
    local rc=$?
    wait "$source_pid"
    local source_rc=$?
    local cpu wall rss counted sunk requests
    cpu=$(grep -o 'cpu_seconds=[^ ]*' "$work/client.out" | cut -d= -f2)
    wall=$(grep -o 'wall_seconds=[^ ]*' "$work/client.out" | cut -d= -f2)
    rss=$(grep -o 'peak_rss_kb=[^ ]*' "$work/client.out" | cut -d= -f2)
    counted=$(tail -n 1 "$work/client.out")
    sunk=$(grep -o 'messages=[0-9]*' "$work/source.out" | cut -d= -f2)
    requests=$(grep -o 'requests=[0-9]*' "$work/source.out" | cut -d= -f2)
    if [ $rc -ne 0 ] || [ $source_rc -ne 0 ] || [ "$counted" != "$count" ] || [ "$sunk" != "$count" ]; then
        echo "run failed: $client $mode round $2 (rc=$rc source rc=$source_rc, counted" \
            "${counted:-none}, sink ${sunk:-none}): $(tail -n 2 "$work/client.err" "$work/source.err")" >&2
        return
    fi
    local mib
    mib=$(awk -v kb="$rss" 'BEGIN { printf "%.1f", kb / 1024 }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$client" "$mode" "$2" "$cpu" "$wall" "$mib" >>"$work/results"
    printf '%-10s  %-14s  %5s  %8.3f  %8.3f  %9s  %9s\n' "$client" "$mode" "$2" "$cpu" "$wall" \
        "$mib" "$requests"
}

echo "$count messages per run, $rounds rounds"
printf '%-10s  %-14s  %5s  %8s  %8s  %9s  %9s\n' client mode round "CPU s" "wall s" "RSS MiB" "<r/> sent"
for round in $(seq "$rounds"); do
    for row in "${rows[@]}"; do
        measure "$row" "$round"
    done
done

echo
echo "median of the rounds"
printf '%-10s  %-14s  %8s  %8s  %9s\n' client mode "CPU s" "wall s" "RSS MiB"
for row in "${rows[@]}"; do
    IFS='|' read -r client mode _ <<<"$row"
    awk -F '\t' -v c="$client" -v m="$mode" '
        $1 == c && $2 == m { n++; cpu[n] = $4; wall[n] = $5; rss[n] = $6 }
        function median(a,   i, j, t) {
            for (i = 1; i <= n; i++)
                for (j = i + 1; j <= n; j++)
                    if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
            return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
        }
        END { if (n) printf "%-10s  %-14s  %8.3f  %8.3f  %9.1f\n", c, m, median(cpu), median(wall), median(rss) }
    ' "$work/results"
done
