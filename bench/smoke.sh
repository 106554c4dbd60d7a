#!/bin/bash
# smoke.sh: CI's check that the benchmark programs build and run — correctness on a tiny N, no
# timing. Usage: smoke.sh STANZA_SOURCE PCJ_RECV PCJ_SEND PCJ_RTS SAX_LIMIT PCJ_ACKS
set -u
source_bin=$1 recv_bin=$2 send_bin=$3 rts_bin=$4 sax_bin=$5 acks_bin=$6
N=1000
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

# run NAME EXPECTED SOURCE_ARGS -- CLIENT ARGS...: the client's last line must equal EXPECTED;
# "source": the messages the source wrote; "both:N": N, and the sink must have counted N too.
run() {
    local name=$1 expected=$2
    shift 2
    local source_args=()
    while [ "$1" != "--" ]; do source_args+=("$1"); shift; done
    shift
    rm -f "$work/port"
    "$source_bin" "${source_args[@]}" --port-file "$work/port" --timeout 10 >"$work/source.out" &
    local source_pid=$!
    for _ in $(seq 500); do [ -s "$work/port" ] && break; sleep 0.01; done
    local port
    port=$(cat "$work/port" 2>/dev/null)
    local client=("$@")
    client=("${client[@]/@PORT@/$port}")
    timeout 30 "${client[@]}" >"$work/client.out" 2>"$work/client.err"
    local client_rc=$?
    wait "$source_pid"
    local source_rc=$?
    local got want counted
    got=$(tail -n 1 "$work/client.out")
    counted=$(grep -o 'messages=[0-9]*' "$work/source.out" | cut -d= -f2)
    case $expected in
        source) want=$counted ;;
        both:*) want=${expected#both:}; [ "$counted" = "$want" ] || got="$got (the sink counted '$counted')" ;;
        *) want=$expected ;;
    esac
    if [ "$client_rc" -ne 0 ] || [ "$source_rc" -ne 0 ] || [ "$got" != "$want" ] || [ -z "$want" ]; then
        echo "FAIL $name: client rc=$client_rc source rc=$source_rc got='$got' want='$want'"
        sed 's/^/  client: /' "$work/client.out" "$work/client.err"
        sed 's/^/  source: /' "$work/source.out"
        failures=$((failures + 1))
    else
        echo "ok   $name: $got"
    fi
}

H=127.0.0.1 D=bench.localhost S=secret
run "pcj receive" $N --count $N -- "$recv_bin" $H @PORT@ $D $S
run "pcj receive, presence and iq mix" source --count $N --mix -- "$recv_bin" $H @PORT@ $D $S
run "pcj receive, 10 filters" $N --count $N -- "$recv_bin" $H @PORT@ $D $S --filters 10
run "pcj send" both:$N --mode sink -- "$send_bin" $H @PORT@ $D $S $N
run "pcj return_to_sender" $N --mode rts --count $N -- "$rts_bin" $H @PORT@ $D $S $N
run "libxml2 SAX limit" $N --count $N -- "$sax_bin" $H @PORT@ $D $S
# The c2s sink: pcj_acks prints the stanzas acknowledged (or sent, without stream management).
run "pcj send as a client, no outcome" both:$N --mode c2s -- \
    "$acks_bin" $H @PORT@ $D bench $S $N --sm off --outcome off
run "pcj acks, no stream management" both:$N --mode c2s -- "$acks_bin" $H @PORT@ $D bench $S $N --sm off
run "pcj acks, ack_every 5" both:$N --mode c2s --sm -- "$acks_bin" $H @PORT@ $D bench $S $N
run "pcj acks, ack_every 50" both:$N --mode c2s --sm -- "$acks_bin" $H @PORT@ $D bench $S $N --ack-every 50
run "pcj acks, by time only" both:$N --mode c2s --sm -- \
    "$acks_bin" $H @PORT@ $D bench $S $N --ack-every 0 --ack-after 100
# A wrong secret must be refused by the source: the client then never counts anything.
if "$source_bin" --count 10 --port-file "$work/port2" --secret right --timeout 10 \
    >/dev/null 2>"$work/refused.err" &
then
    pid=$!
    for _ in $(seq 500); do [ -s "$work/port2" ] && break; sleep 0.01; done
    timeout 10 "$recv_bin" $H "$(cat "$work/port2")" $D wrong >/dev/null 2>&1
    if wait "$pid" || ! grep -q "wrong handshake" "$work/refused.err"; then
        echo "FAIL the source accepted a wrong handshake"
        failures=$((failures + 1))
    else
        echo "ok   the source refuses a wrong handshake"
    fi
fi
# The c2s sink checks the SASL PLAIN password: a wrong one ends the login.
rm -f "$work/port3"
"$source_bin" --mode c2s --secret right --port-file "$work/port3" --timeout 10 \
    >/dev/null 2>"$work/refused3.err" &
pid=$!
for _ in $(seq 500); do [ -s "$work/port3" ] && break; sleep 0.01; done
timeout 10 "$acks_bin" $H "$(cat "$work/port3")" $D bench wrong 10 --sm off >/dev/null 2>&1
acks_rc=$?
if wait "$pid" || [ $acks_rc -eq 0 ] || ! grep -q "wrong password" "$work/refused3.err"; then
    echo "FAIL the c2s sink accepted a wrong password (client rc=$acks_rc)"
    failures=$((failures + 1))
else
    echo "ok   the c2s sink refuses a wrong password"
fi
exit $((failures > 0))
