# shellcheck shell=bash
# Sourced by pcj-testserver (which defines DIR, KIND, ENV and the helpers used here).
# Kind ejabberd-cluster: two ejabberd 23.01 nodes on loopback joined into one Mnesia cluster.
#
# Erlang distribution needs a port mapper; epmd-less distribution (-erl_epmd_port) assumes every
# node listens on the same port, so it cannot host two nodes on one machine. The cluster gets a
# private epmd instead (foreground, on its own port, bound to 127.0.0.1, recorded and stopped by
# its PID) and each node finds it through ERL_EPMD_PORT: the system epmd on port 4369 is never
# started or asked. Each node has its own -sname (with a per-run suffix), Mnesia spool, config,
# listener ports and distribution port (inet_dist_listen_min/max, bound to 127.0.0.1); both share
# a per-run cookie. Node 1 starts and registers the users; node 2 starts, pings node 1 and joins
# it with ejabberd_cluster_mnesia:join/1 (what `ejabberdctl join_cluster` runs), then writes
# DIR/node2.ready with the cluster's running nodes. The component domains:
#   COMPONENT_DOMAIN (component.localhost): domain_balancing type bare_source, component_number
#     PCJ_CLUSTER_COMPONENTS (default 4; below 2 no balancing entry: ejabberd needs 2..1000)
#   SPREAD_DOMAIN (spread.localhost): no domain_balancing: ejabberd picks a connection at random,
#     one on the sender's own node first
#   LOAD_DOMAIN (load.localhost): for load generators that send as many users of their own
readonly CLUSTER_SPREAD_DOMAIN=spread.localhost
readonly CLUSTER_LOAD_DOMAIN=load.localhost

ejabberd_cluster_prepare() {
    local -a p
    read -r -a p <<<"$(free_ports 7)"
    local n=${PCJ_CLUSTER_COMPONENTS:-4} suffix
    [[ $n =~ ^[0-9]+$ ]] || fail "PCJ_CLUSTER_COMPONENTS='$n' is not a number"
    suffix=$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
    ENV[EPMD_PORT]=${p[0]}
    ENV[COOKIE]=pcj$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')
    ENV[COMPONENT_NUMBER]=$n
    ENV[SPREAD_DOMAIN]=$CLUSTER_SPREAD_DOMAIN
    ENV[LOAD_DOMAIN]=$CLUSTER_LOAD_DOMAIN
    ENV[USER_PREFIX]=user
    ENV[USER_COUNT]=${PCJ_CLUSTER_USERS:-8}
    ENV[PASSWORD]=pcj-cluster-pass
    ENV[LOG_FILE]=$DIR/node1/ejabberd.log
    local i
    for i in 1 2; do
        ENV[NODE${i}_NAME]=pcjc${i}x$suffix@localhost
        ENV[NODE${i}_DIST_PORT]=${p[$((i * 3 - 2))]}
        ENV[NODE${i}_C2S_PORT]=${p[$((i * 3 - 1))]}
        ENV[NODE${i}_COMPONENT_PORT]=${p[$((i * 3))]}
        mkdir -p "$DIR/node$i/mnesia" "$DIR/node$i/home"
        ejabberd_cluster_yml "$i" >"$DIR/node$i/ejabberd.yml"
    done
    # The single-server keys, naming node 1, so that helpers written for one server work.
    ENV[C2S_PORT]=${ENV[NODE1_C2S_PORT]}
    ENV[COMPONENT_PORT]=${ENV[NODE1_COMPONENT_PORT]}
}

ejabberd_cluster_yml() {
    local i=$1 balancing=""
    if ((ENV[COMPONENT_NUMBER] >= 2)); then
        balancing="domain_balancing:
  $COMPONENT_NAME:
    type: bare_source
    component_number: ${ENV[COMPONENT_NUMBER]}"
    fi
    ejabberd_yml_head "one test run (node $i of 2)"
    cat <<EOF
$balancing
listen:
  - port: ${ENV[NODE${i}_C2S_PORT]}
    ip: "$LOOPBACK"
    module: ejabberd_c2s
    starttls: true
    backlog: 1024
    max_stanza_size: 262144
  - port: ${ENV[NODE${i}_COMPONENT_PORT]}
    ip: "$LOOPBACK"
    module: ejabberd_service
    backlog: 1024
    # false: a connection is a route for the domain it authenticated as, not for every host
    # listed here (ejabberd's default, true, would put every process on all three domains).
    global_routes: false
    hosts:
      $COMPONENT_NAME:
        password: ${ENV[COMPONENT_SECRET]}
      $CLUSTER_SPREAD_DOMAIN:
        password: ${ENV[COMPONENT_SECRET]}
      $CLUSTER_LOAD_DOMAIN:
        password: ${ENV[COMPONENT_SECRET]}
modules:
  mod_disco: {}
  mod_ping: {}
EOF
}

# The -eval of node 1: register the users, then say so.
ejabberd_cluster_node1_eval() {
    ejabberd_users_eval "[{list_to_binary(\"${ENV[USER_PREFIX]}\" ++ integer_to_list(I)),
          <<\"${ENV[PASSWORD]}\">>} || I <- lists:seq(1, ${ENV[USER_COUNT]})]" "$DIR/node1.ready"
}

# The -eval of node 2: wait for node 1, join its cluster, check that both nodes run.
ejabberd_cluster_node2_eval() {
    cat <<EOF
Master = '${ENV[NODE1_NAME]}',
Ping = fun Loop(0) -> pang;
           Loop(K) -> case net_adm:ping(Master) of
                          pong -> pong;
                          pang -> timer:sleep(100), Loop(K - 1)
                      end
       end,
case Ping(200) of
    pong -> ok;
    pang -> io:format("pcj-testserver: node 1 does not answer~n"), halt(4)
end,
case ejabberd_cluster_mnesia:join(Master) of
    ok -> ok;
    Error -> io:format("pcj-testserver: join_cluster failed: ~p~n", [Error]), halt(5)
end,
Nodes = lists:sort(ejabberd_cluster:get_nodes()),
case Nodes =:= lists:sort([node(), Master]) of
    true -> ok = file:write_file("$DIR/node2.ready", io_lib:format("~p~n", [Nodes]));
    false -> io:format("pcj-testserver: cluster nodes ~p~n", [Nodes]), halt(6)
end.
EOF
}

ejabberd_cluster_node_launch() { # I EVAL
    local i=$1
    ejabberd_erl_launch "node$i" "$DIR/node$i" "$2" ERL_EPMD_PORT="${ENV[EPMD_PORT]}" -- \
        -sname "${ENV[NODE${i}_NAME]}" -setcookie "${ENV[COOKIE]}" \
        -kernel inet_dist_use_interface "{127,0,0,1}" \
        inet_dist_listen_min "${ENV[NODE${i}_DIST_PORT]}" \
        inet_dist_listen_max "${ENV[NODE${i}_DIST_PORT]}"
}

ejabberd_cluster_node_ready() { # I
    [[ -f $DIR/node$1.ready ]] &&
        probe "${ENV[NODE$1_C2S_PORT]},jabber:client,$DOMAIN_NAME" \
            "${ENV[NODE$1_COMPONENT_PORT]},jabber:component:accept,$COMPONENT_NAME"
}

epmd_ready() {
    probe "${ENV[EPMD_PORT]}"
}

ejabberd_cluster_launch() {
    rm -f "$DIR/node1.ready" "$DIR/node2.ready"
    launch epmd "$DIR/epmd.out" epmd -port "${ENV[EPMD_PORT]}" -address "$LOOPBACK"
    wait_for "the cluster's epmd" epmd_ready
    ejabberd_cluster_node_launch 1 "$(ejabberd_cluster_node1_eval)"
    wait_for "node 1's listeners and users" ejabberd_cluster_node_ready 1
    ejabberd_cluster_node_launch 2 "$(ejabberd_cluster_node2_eval)"
    wait_for "node 2 to join node 1 and listen" ejabberd_cluster_node_ready 2
}
