#!/bin/bash
# run.sh: pcj's benchmarks side by side with the peers, in one run; prints one table and writes
# doc/benchmarks.md, with its pictures (SVG, drawn by gnuplot) in doc/img/.
#
#   bench/run.sh [--runs N] [--quick] [--no-apt] [--no-callgrind] [--no-login] [--build DIR]
#                [--doc FILE]
#
# Installs the peers' Debian packages (libstrophe-dev, libgloox-dev, python3-slixmpp) and
# gnuplot-nox for the pictures (skipped with --no-apt or when not root), configures DIR (default build-bench) as a release build,
# builds the benchmark programs, then runs every scenario with the clients alternated inside each
# round (N rounds, default 5) and takes medians. Each run starts its own stanza_source; the
# source measures the rate, each client reports its CPU time (from its ready event to its end)
# and peak RSS. The login scenario starts a throwaway Prosody (test/servers/pcj-testserver) on
# 127.0.0.1. --quick: one round on small counts, to try the script. Takes 6-8 minutes.
# The pictures are drawn by bench/plots.gp from the gnuplot data file report.py writes from the
# same medians as the tables (doc/img/benchmarks.dat, beside the SVGs).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
runs=5 quick=0 apt=1 callgrind=1 login=1 build=build-bench doc=doc/benchmarks.md
while [ $# -gt 0 ]; do
    case $1 in
        --runs) runs=$2; shift ;;
        --quick) quick=1; runs=1 ;;
        --no-apt) apt=0 ;;
        --no-callgrind) callgrind=0 ;;
        --no-login) login=0 ;;
        --build) build=$2; shift ;;
        --doc) doc=$2; shift ;;
        *) echo "usage: $0 [--runs N] [--quick] [--no-apt] [--no-callgrind] [--no-login] [--build DIR] [--doc FILE]" >&2
           exit 2 ;;
    esac
    shift
done
cd "$root" || exit 1
case $build in /*) ;; *) build=$root/$build ;; esac
case $doc in /*) ;; *) doc=$root/$doc ;; esac
work=$(mktemp -d /tmp/pcj-bench.XXXXXX)
results=$work/results.tsv
notes=$work/notes.txt
: >"$results"
: >"$notes"
note() { echo "$*" | tee -a "$notes" >&2; }

# -- peers' packages --------------------------------------------------------------------------
if [ "$apt" = 1 ] && [ "$(id -u)" = 0 ]; then
    echo "== apt-get: libstrophe-dev libgloox-dev python3-slixmpp gnuplot-nox" >&2
    apt-get update -qq >/dev/null 2>&1 || note "apt-get update failed; using what is installed"
    for pkg in libstrophe-dev libgloox-dev python3-slixmpp gnuplot-nox; do
        if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null 2>&1; then
            what="its client is skipped"
            [ "$pkg" = gnuplot-nox ] && what="the pictures are not redrawn"
            note "package $pkg could not be installed: $what"
        fi
    done
fi

# -- build ------------------------------------------------------------------------------------
echo "== build ($build, release)" >&2
# Reconfiguring also picks up peers' packages installed since the last configuration: meson
# defines their targets only when it finds them.
reconfigure=()
[ -f "$build/build.ninja" ] && reconfigure=(--reconfigure)
meson setup "${reconfigure[@]}" "$build" -Dbuildtype=release >"$work/setup.log" 2>&1 ||
    { cat "$work/setup.log"; exit 1; }
targets=(bench/stanza_source bench/pcj_recv bench/pcj_send bench/pcj_rts bench/sax_limit bench/pcj_login
    bench/pcj_idle bench/pcj_acks)
have_strophe=0 have_gloox=0 have_slixmpp=0
grep -q 'build bench/strophe_recv:' "$build/build.ninja" &&
    { targets+=(bench/strophe_recv bench/strophe_login bench/strophe_idle); have_strophe=1; }
grep -q 'build bench/gloox_recv:' "$build/build.ninja" && { targets+=(bench/gloox_recv); have_gloox=1; }
/usr/bin/python3 -c 'import slixmpp' 2>/dev/null && have_slixmpp=1
[ $have_strophe = 1 ] || note "libstrophe not found: its column is missing"
[ $have_gloox = 1 ] || note "gloox not found: its column is missing"
[ $have_slixmpp = 1 ] || note "slixmpp not found: its column is missing"
ninja -C "$build" "${targets[@]}" >"$work/build.log" 2>&1 || { tail -30 "$work/build.log"; exit 1; }
bin=$build/bench

# -- one measured run -------------------------------------------------------------------------
# measure SCENARIO VARIANT ROUND "SOURCE ARGS" CLIENT...  (the client gets HOST PORT and
# $client_login — DOMAIN SECRET for a component, DOMAIN USER PASSWORD for the c2s sink — inserted
# after its program name, then the rest of its arguments)
component_login="bench.localhost secret" c2s_login="bench.localhost bench secret"
client_login=$component_login
measure() {
    local scenario=$1 variant=$2 round=$3 source_args=$4
    shift 4
    local prog=$1
    shift
    rm -f "$work/port"
    # shellcheck disable=SC2086
    "$bin/stanza_source" $source_args --port-file "$work/port" --timeout 120 >"$work/source.out" 2>"$work/source.err" &
    local source_pid=$!
    for _ in $(seq 1000); do [ -s "$work/port" ] && break; sleep 0.005; done
    # $prog may be two words (python3 and the script), $client_login two or three.
    # shellcheck disable=SC2086
    timeout 150 $prog 127.0.0.1 "$(cat "$work/port")" $client_login "$@" \
        >"$work/client.out" 2>"$work/client.err"
    local rc=$?
    wait "$source_pid"
    local src_rc=$?
    local line
    line=$(cat "$work/source.out")
    field() { echo "$line" | grep -o "$1=[^ ]*" | head -1 | cut -d= -f2; }
    local stanzas seconds rate expected cpu rss count extra
    stanzas=$(field stanzas) seconds=$(field seconds) rate=$(field rate) expected=$(field messages)
    cpu=$(grep -o 'cpu_seconds=[^ ]*' "$work/client.out" | cut -d= -f2)
    rss=$(grep -o 'peak_rss_kb=[^ ]*' "$work/client.out" | cut -d= -f2)
    count=$(tail -n 1 "$work/client.out")
    extra=$(grep -E '^(rss_at|rts|filters|acks) ' "$work/client.out" | tr '\n' ' ')
    extra="$extra source_cpu=$(field source_cpu) request_seconds=$(field request_seconds)"
    [ "$scenario" = sendack ] && extra="$extra requests=$(field requests)"
    if [ $rc -ne 0 ] || [ $src_rc -ne 0 ]; then
        note "run failed: $scenario $variant round $round (client rc=$rc, source rc=$src_rc): $(tail -n 2 "$work/client.err" "$work/source.err" | tr '\n' ' ')"
        return
    fi
    # A run counts only if the client saw every message (rts: matched every reply; the
    # read()-only limit reports bytes, not messages).
    [ "$scenario" = rts ] && expected=$stanzas
    [ "$variant" = read-only ] && expected=$count
    # The c2s sink counts what it received, the client its final outcomes: both must be N.
    [ "$scenario" = sendack ] && [ "$expected" != "$NS" ] && expected="$NS (the sink counted $expected)"
    if [ "$count" != "$expected" ]; then
        note "run rejected: $scenario $variant round $round counted $count, expected $expected"
        return
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$scenario" "$variant" "$round" \
        "$stanzas" "$seconds" "$rate" "${cpu:-}" "${rss:-}" "$count" "$expected" "$extra" >>"$results"
    printf '   %-9s %-14s round %s: %9s stanzas/s  cpu %ss  count %s/%s\n' "$scenario" "$variant" \
        "$round" "$rate" "${cpu:-?}" "$count" "$expected" >&2
}

if [ $quick = 1 ]; then
    N=20000 NF=(20000 20000 5000 2000 500) NS=20000 NR=10000 NM=(20000 200000)
else
    N=200000 NF=(200000 200000 100000 20000 5000) NS=200000 NR=100000 NM=(200000 2000000)
fi
filters=(0 1 10 100 1000)

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date +%s)
for round in $(seq "$runs"); do
    echo "== round $round/$runs" >&2
    # Scenario 1: receive, no filters; every client in turn.
    measure recv read-only "$round" "--count $N" "$bin/sax_limit" --read-only
    measure recv libxml2-sax "$round" "--count $N" "$bin/sax_limit"
    measure recv pcj "$round" "--count $N" "$bin/pcj_recv"
    [ $have_strophe = 1 ] && measure recv libstrophe "$round" "--count $N" "$bin/strophe_recv"
    [ $have_gloox = 1 ] && measure recv gloox "$round" "--count $N --half-close" "$bin/gloox_recv"
    [ $have_slixmpp = 1 ] && measure recv slixmpp "$round" "--count $N" "/usr/bin/python3 $here/slixmpp_recv.py"
    # Scenario 2: receive with XPath filters (counts shrink as filters grow; rates compare).
    for i in "${!filters[@]}"; do
        measure filters "${filters[$i]}" "$round" "--count ${NF[$i]}" "$bin/pcj_recv" --filters "${filters[$i]}"
    done
    # Scenario 4: send to the sink. Scenario 3: return_to_sender, answered in random order.
    measure send pcj "$round" "--mode sink" "$bin/pcj_send" "$NS"
    measure rts pcj "$round" "--mode rts --count $NR" "$bin/pcj_rts" "$NR"
    # Scenario 8: the send path as an XMPP client (c2s sink, no TLS): plain output(), then with a
    # per-stanza outcome, then with XEP-0198 acks as well (the default cadence, and every 50).
    client_login=$c2s_login
    measure sendack plain "$round" "--mode c2s" "$bin/pcj_acks" "$NS" --sm off --outcome off
    measure sendack outcome "$round" "--mode c2s" "$bin/pcj_acks" "$NS" --sm off
    measure sendack outcome+sm5 "$round" "--mode c2s --sm" "$bin/pcj_acks" "$NS"
    measure sendack outcome+sm50 "$round" "--mode c2s --sm" "$bin/pcj_acks" "$NS" --ack-every 50
    client_login=$component_login
done
# Scenario 7: RSS after 200k and 2M stanzas (3 runs; RSS hardly varies).
for round in 1 2 3; do
    [ $quick = 1 ] && [ $round -gt 1 ] && break
    measure rss pcj "$round" "--count ${NM[1]}" "$bin/pcj_recv" --rss-at "${NM[0]},${NM[1]}"
done
# -- Scenarios 5 and 6: login cost and idle connections against a throwaway Prosody ---------------
# The server is reconfigured per phase so that it offers exactly one mechanism (libstrophe picks
# the strongest offered; it has no way to restrict itself). internal_plain storage gives a fresh
# salt at every SCRAM login, so every login of every client pays the salted-password hashing;
# the reconnect phase uses internal_hashed (a stable salt), where pcj may reuse it.
login_phase() { # AUTH MECHANISM-OFFERED
    local cfg=$srv/prosody.cfg.lua others
    others=$(printf '"%s", ' PLAIN SCRAM-SHA-1 SCRAM-SHA-256 | sed "s/\"$2\", //; s/, $//")
    sed -i '/^disable_sasl_mechanisms/d; s/^authentication = .*/authentication = "'"$1"'"/' "$cfg"
    sed -i '/^storage = /a disable_sasl_mechanisms = { '"$others"' }' "$cfg"
    "$root/test/servers/pcj-testserver" restart "$srv" >"$work/prosody-restart.log" 2>&1
}
measure_login() { # SCENARIO VARIANT ROUND CLIENT...
    local scenario=$1 variant=$2 round=$3
    shift 3
    local prog=$1
    shift
    # shellcheck disable=SC2086
    timeout 300 $prog "$X_HOST" "$X_PORT" "$X_JID" "$X_PASSWORD" "$logins" "$@" \
        >"$work/client.out" 2>"$work/client.err"
    local rc=$? line
    line=$(grep '^login ' "$work/client.out")
    local cpu rss ok wall
    cpu=$(grep -o 'cpu_seconds=[^ ]*' "$work/client.out" | cut -d= -f2)
    rss=$(grep -o 'peak_rss_kb=[^ ]*' "$work/client.out" | cut -d= -f2)
    ok=$(tail -n 1 "$work/client.out")
    wall=$(echo "$line" | grep -o 'wall_ms=[^ ]*' | cut -d= -f2)
    if [ $rc -ne 0 ] || [ "$ok" != "$logins" ]; then
        note "login run failed: $scenario $variant round $round (rc=$rc, ok=$ok of $logins): $(tail -n 2 "$work/client.err" | tr '\n' ' ')"
        return
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$scenario" "$variant" "$round" \
        "$logins" "$(echo "$wall $logins" | awk '{print $1 * $2 / 1000}')" 0 "$cpu" "$rss" "$ok" \
        "$logins" "$line" >>"$results"
    printf '   %-15s %-26s round %s: %6.2f ms CPU per login (%s)\n' "$scenario" "$variant" "$round" \
        "$(echo "$cpu $logins" | awk '{print $1 * 1000 / $2}')" "$line" >&2
}
measure_idle() { # VARIANT M CLIENT...
    local variant=$1 m=$2
    shift 2
    local prog=$1
    shift
    # Held 5 s: pcj frees an idle connection's XML parser after 1-2 s without data; the RSS is
    # read at the end of the hold, connections still up (both clients the same way).
    timeout 600 "$prog" "$X_HOST" "$X_PORT" "${X_JID#*@}" "$users" "$m" "$ca" 5 "$@" \
        >"$work/client.out" 2>"$work/client.err"
    local rc=$? line cpu rss ok secs
    line=$(grep '^idle ' "$work/client.out")
    cpu=$(grep -o 'cpu_seconds=[^ ]*' "$work/client.out" | cut -d= -f2)
    rss=$(grep -o 'peak_rss_kb=[^ ]*' "$work/client.out" | cut -d= -f2)
    ok=$(tail -n 1 "$work/client.out")
    secs=$(echo "$line" | grep -o 'login_seconds=[^ ]*' | cut -d= -f2)
    if [ $rc -ne 0 ] || [ "$ok" != "$m" ]; then
        note "idle run failed: $variant (rc=$rc, ready=$ok of $m): $(tail -n 2 "$work/client.err" | tr '\n' ' ')"
        return
    fi
    printf '%s\t%s\t1\t%s\t%s\t0\t%s\t%s\t%s\t%s\t%s\n' idle "$variant" "$m" "$secs" "$cpu" "$rss" \
        "$ok" "$m" "$line" >>"$results"
    echo "   idle $variant: $line" >&2
}
# Many connections need many descriptors, in the clients and in the server they start.
ulimit -n "$(ulimit -Hn)" 2>/dev/null
if [ $login = 1 ] && [ -x "$root/test/servers/pcj-testserver" ] && command -v prosody >/dev/null; then
    srv=$work/prosody
    mkdir -p "$srv"
    if "$root/test/servers/pcj-testserver" start prosody "$srv" >"$work/prosody-start.log" 2>&1; then
        X_HOST=$(grep '^HOST=' "$srv/env" | cut -d= -f2)
        X_PORT=$(grep '^C2S_PORT=' "$srv/env" | cut -d= -f2)
        X_USER=$(grep '^USER=' "$srv/env" | cut -d= -f2)
        X_JID=$X_USER@$(grep '^DOMAIN=' "$srv/env" | cut -d= -f2)
        X_PASSWORD=$(grep '^PASSWORD=' "$srv/env" | cut -d= -f2)
        ca=$(grep '^CA_FILE=' "$srv/env" | cut -d= -f2)
        chain=$(grep '^SERVER_CERT_FILE=' "$srv/env" | cut -d= -f2)
        # The test CA is not in the system store: with "system", pcj pins the server's
        # certificate and libstrophe's failure handler accepts the CA it could not verify.
        leaf_pin=sha256:$(awk '/BEGIN CERT/{n++} n==1{print} /END CERT/&&n==1{exit}' "$chain" | certtool --fingerprint --hash=sha256 2>/dev/null)
        ca_pin=sha256:$(certtool --fingerprint --hash=sha256 --infile "$ca" 2>/dev/null)
        logins=40 login_rounds=3
        [ $quick = 1 ] && logins=10 login_rounds=1
        for phase in SCRAM-SHA-1 PLAIN; do
            echo "== login ($phase offered only)" >&2
            login_phase internal_plain "$phase"
            for round in $(seq $login_rounds); do
                measure_login "login-$phase" "pcj, CA file" "$round" "$bin/pcj_login" "$ca" --mech "$phase"
                measure_login "login-$phase" "pcj, system store" "$round" "$bin/pcj_login" system --mech "$phase" --pin "$leaf_pin"
                if [ $have_strophe = 1 ]; then
                    measure_login "login-$phase" "libstrophe, CA file" "$round" "$bin/strophe_login" "$ca"
                    measure_login "login-$phase" "libstrophe, system store" "$round" "$bin/strophe_login" system --pin "$ca_pin"
                fi
                [ $have_slixmpp = 1 ] && measure_login "login-$phase" "slixmpp, CA file" "$round" "/usr/bin/python3 $here/slixmpp_login.py" "$ca" --mech "$phase"
            done
        done
        echo "== login (SCRAM-SHA-1, stored hashed: a stable salt)" >&2
        login_phase internal_hashed SCRAM-SHA-1
        for round in $(seq $login_rounds); do
            measure_login login-reconnect "pcj, CA file" "$round" "$bin/pcj_login" "$ca" --mech SCRAM-SHA-1
            [ $have_strophe = 1 ] && measure_login login-reconnect "libstrophe, CA file" "$round" "$bin/strophe_login" "$ca"
        done
        # Scenario 6: idle logged-in connections held by one process (same server and phase).
        echo "== idle connections" >&2
        users=$X_USER:$X_PASSWORD,$(grep '^USER2=' "$srv/env" | cut -d= -f2):$(grep '^PASSWORD2=' "$srv/env" | cut -d= -f2)
        idle_sizes=(1000 10000) strophe_idle_size=500
        [ $quick = 1 ] && idle_sizes=(200) strophe_idle_size=50
        for m in "${idle_sizes[@]}"; do
            measure_idle "pcj, $m" "$m" "$bin/pcj_idle" --mech SCRAM-SHA-1
        done
        [ $have_strophe = 1 ] && measure_idle "libstrophe, $strophe_idle_size" "$strophe_idle_size" "$bin/strophe_idle"
        "$root/test/servers/pcj-testserver" stop "$srv" >/dev/null 2>&1
    else
        note "Prosody did not start: no login figures ($(tail -n 3 "$work/prosody-start.log" | tr '\n' ' '))"
    fi
elif [ $login = 1 ]; then
    note "prosody or test/servers/pcj-testserver missing: no login figures"
fi
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
elapsed=$(($(date +%s) - started))

# -- instructions per stanza (callgrind): immune to the machine's load --------------------------
cg=$work/callgrind.tsv
: >"$cg"
if [ $callgrind = 1 ] && command -v valgrind >/dev/null; then
    echo "== callgrind: instructions per stanza" >&2
    cg_run() { # NAME COUNT CLIENT...
        local name=$1 n=$2
        shift 2
        rm -f "$work/port" "$work/cg.out"
        "$bin/stanza_source" --count "$n" --port-file "$work/port" --timeout 300 >/dev/null 2>&1 &
        local pid=$!
        for _ in $(seq 1000); do [ -s "$work/port" ] && break; sleep 0.005; done
        local prog=$1
        shift
        # shellcheck disable=SC2086
        valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" $prog 127.0.0.1 \
            "$(cat "$work/port")" bench.localhost secret "$@" >/dev/null 2>&1
        wait $pid
        callgrind_annotate "$work/cg.out" 2>/dev/null | /usr/bin/python3 "$here/report.py" --dso-split "$name" "$n" >>"$cg"
    }
    cgn1=5000 cgn2=25000
    for n in $cgn1 $cgn2; do
        cg_run pcj "$n" "$bin/pcj_recv"
        cg_run libxml2-sax "$n" "$bin/sax_limit"
        [ $have_strophe = 1 ] && cg_run libstrophe "$n" "$bin/strophe_recv"
    done
fi

# -- report -----------------------------------------------------------------------------------
{
    echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
    echo "cores=$(nproc)"
    echo "memory=$(free -g | awk '/Mem:/ {print $2}') GB"
    echo "kernel=$(uname -r)"
    echo "os=$(. /etc/os-release; echo "$PRETTY_NAME")"
    echo "load_before=$load_before"
    echo "load_after=$load_after"
    echo "elapsed=$elapsed"
    echo "runs=$runs"
    echo "quick=$quick"
    echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null)$(git -C "$root" diff --quiet HEAD -- lib include protocols 2>/dev/null || echo ' + uncommitted changes')"
    for p in libxml-2.0 libuv gnutls libstrophe gloox; do
        echo "version_$p=$(pkg-config --modversion $p 2>/dev/null)"
    done
    echo "version_slixmpp=$(/usr/bin/python3 -c 'import slixmpp; print(slixmpp.__version__)' 2>/dev/null)"
    echo "version_python=$(/usr/bin/python3 -c 'import platform; print(platform.python_version())')"
    echo "counts=recv:$N filters:${NF[*]} send:$NS rts:$NR rss:${NM[*]}"
    echo "callgrind_counts=${cgn1:-0},${cgn2:-0}"
    echo "logins=${logins:-0} per process, ${login_rounds:-0} rounds"
    echo "version_prosody=$(dpkg-query -W -f '${Version}' prosody 2>/dev/null)"
} >"$work/machine.txt"
/usr/bin/python3 "$here/report.py" --results "$results" --callgrind "$cg" --machine "$work/machine.txt" \
    --notes "$notes" --analysis "$here/analysis.md" --doc "$doc" --plots "$(dirname "$doc")/img"
echo "(raw results in $work)" >&2
