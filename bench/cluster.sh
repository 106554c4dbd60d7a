#!/usr/bin/env bash
# cluster.sh: answered requests per second of examples/cluster_service run as 1, 2 and 4
# processes behind a two-node ejabberd cluster (doc/deployment.md, "Measured"). Not a test.
#
#   bench/cluster.sh BUILD_DIR [SECONDS] [WORK_US] [PROCESS_COUNTS]
#
# For each process count N (default "1 2 4"): starts a fresh cluster with pcj-testserver
# (domain_balancing bare_source, component_number N; none for N = 1), starts N processes
# spread over the two nodes, runs bench/cluster_load (one load connection per node, 256 users,
# a window of 200 requests) for SECONDS (default 10), prints its line, and stops everything it
# started, by PID. WORK_US (default 0) is the CPU time each process spends per request.
set -euo pipefail

build=${1:?usage: bench/cluster.sh BUILD_DIR [SECONDS] [WORK_US] [PROCESS_COUNTS]}
seconds=${2:-10}
work_us=${3:-0}
counts=${4:-1 2 4}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
testserver=$here/../test/servers/pcj-testserver
service=$build/examples/cluster_service
load=$build/bench/cluster_load
[[ -x $service && -x $load ]] || {
    echo "cluster.sh: build $service and $load first" >&2
    exit 2
}

dir=""
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
    done
    for p in "${pids[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    pids=()
    if [[ -n $dir ]]; then
        bash "$testserver" stop "$dir" >/dev/null || true
        rm -rf "$dir"
        dir=""
    fi
}
trap cleanup EXIT

get() { sed -n "s/^$1=//p" "$dir/env"; }

echo "processes work_us answered seconds rate lost by"
for n in $counts; do
    dir=$(mktemp -d "${TMPDIR:-/tmp}/pcj-cluster-bench-XXXXXX")
    PCJ_CLUSTER_COMPONENTS=$n bash "$testserver" start ejabberd-cluster "$dir" >/dev/null
    n1=127.0.0.1:$(get NODE1_COMPONENT_PORT)
    n2=127.0.0.1:$(get NODE2_COMPONENT_PORT)
    for ((i = 1; i <= n; i++)); do
        if ((i % 2)); then first=$n1 second=$n2; else first=$n2 second=$n1; fi
        "$service" --name "p$i" --secret "$(get COMPONENT_SECRET)" --work-us "$work_us" \
            --server "$first" --server "$second" >"$dir/p$i.out" 2>&1 &
        pids+=($!)
    done
    for ((i = 1; i <= n; i++)); do
        for _ in $(seq 100); do
            grep -qs "^p$i ready" "$dir/p$i.out" && break
            sleep 0.1
        done
        grep -qs "^p$i ready" "$dir/p$i.out" || {
            cat "$dir/p$i.out" >&2
            exit 1
        }
    done
    line=$("$load" --server "$n1" --server "$n2" --secret "$(get COMPONENT_SECRET)" \
        --users 256 --window 200 --seconds "$seconds")
    echo "$n $work_us $line"
    cleanup
done
