# shellcheck shell=bash
# Sourced by pcj-testserver (which defines DIR, KIND, ENV and the helpers used here).
# ejabberd 23.01: erl started directly (ejabberdctl would switch users and leave a system epmd
# behind). The node runs without distribution, so no epmd is needed at all; the users are
# registered by an -eval that runs once ejabberd has started and then writes DIR/ejabberd.ready.

ejabberd_prepare() {
    local -a p
    read -r -a p <<<"$(free_ports 4)"
    user_env
    ENV[C2S_PORT]=${p[0]}
    ENV[C2S_REQUIRED_PORT]=${p[1]}
    ENV[DIRECT_TLS_PORT]=${p[2]}
    ENV[COMPONENT_PORT]=${p[3]}
    ENV[LOG_FILE]=$DIR/ejabberd.log
    mkdir -p "$DIR/mnesia" "$DIR/home"
    {
        ejabberd_yml_head "one test run"
        cat <<EOF
listen:
  - port: ${p[0]}
    ip: "$LOOPBACK"
    module: ejabberd_c2s
    starttls: true
    backlog: 1024
  - port: ${p[1]}
    ip: "$LOOPBACK"
    module: ejabberd_c2s
    starttls_required: true
    backlog: 1024
  - port: ${p[2]}
    ip: "$LOOPBACK"
    module: ejabberd_c2s
    tls: true
    backlog: 1024
  - port: ${p[3]}
    ip: "$LOOPBACK"
    module: ejabberd_service
    backlog: 1024
    hosts:
      $COMPONENT_NAME:
        password: ${ENV[COMPONENT_SECRET]}
modules:
  mod_legacy_auth: {}
  mod_disco: {}
  mod_roster: {}
  mod_ping: {}
  mod_stream_mgmt: {}
EOF
    } >"$DIR/ejabberd.yml"
}

ejabberd_register_eval() {
    ejabberd_users_eval "[{<<\"${ENV[USER]}\">>, <<\"${ENV[PASSWORD]}\">>},
         {<<\"${ENV[USER2]}\">>, <<\"${ENV[PASSWORD2]}\">>}]" "$DIR/ejabberd.ready"
}

ejabberd_ready() {
    [[ -f $DIR/ejabberd.ready ]] &&
        probe "${ENV[C2S_PORT]},jabber:client,$DOMAIN_NAME" \
            "${ENV[C2S_REQUIRED_PORT]},jabber:client,$DOMAIN_NAME" \
            "${ENV[COMPONENT_PORT]},jabber:component:accept,$COMPONENT_NAME" \
            "${ENV[DIRECT_TLS_PORT]}"
}

ejabberd_launch() {
    rm -f "$DIR/ejabberd.ready"
    ejabberd_erl_launch ejabberd "$DIR" "$(ejabberd_register_eval)"
    wait_for "ejabberd's listeners and users" ejabberd_ready
}

# What follows is shared with lib/ejabberd_cluster.sh.

# The start of an ejabberd.yml that every ejabberd of the harness has: the domain, the test
# CA's certificates, plain-stored internal users, no s2s and no ACME. WHAT names the run.
ejabberd_yml_head() { # WHAT
    cat <<EOF
# Written by pcj-testserver for $1; see test/servers/README.md.
hosts:
  - $DOMAIN_NAME
loglevel: info
log_rotate_count: 0
certfiles:
  - $DIR/tls/server-full.pem
ca_file: $DIR/tls/ca.pem
auth_method: internal
auth_password_format: plain
s2s_access: none
acme:
  auto: false
EOF
}

# An -eval that registers USERS (an Erlang list of {User, Password} binaries) on the domain and
# then writes the results to READY; a refused registration halts the node with status 3.
ejabberd_users_eval() { # USERS READY
    cat <<EOF
Users = $1,
Results = [ejabberd_auth:try_register(U, <<"$DOMAIN_NAME">>, P) || {U, P} <- Users],
case lists:all(fun(R) -> R =:= ok orelse R =:= {error, exists} end, Results) of
    true -> ok = file:write_file("$2", io_lib:format("~p~n", [Results]));
    false -> io:format("pcj-testserver: registering users failed: ~p~n", [Results]), halt(3)
end.
EOF
}

# ERL_LIBS: the directory holding ejabberd-VERSION (as ejabberdctl sets it).
ejabberd_libs() {
    local d
    for d in /usr/lib/*/ejabberd-* /usr/lib/ejabberd-*; do
        [[ -f $d/ebin/ejabberd.app ]] && echo "${d%/*}" && return 0
    done
    return 1
}

# Starts one ejabberd node, recorded as NAME, whose ejabberd.yml, mnesia/, home/, logs and
# output are in D; EVAL runs once ejabberd has started. Further arguments: environment
# assignments (VAR=VALUE) up to a "--", then more arguments for erl.
ejabberd_erl_launch() { # NAME D EVAL [VAR=VALUE...] [-- ERL_ARG...]
    local name=$1 d=$2 eval=$3 libs
    shift 3
    local -a vars=()
    while (($#)) && [[ $1 != -- ]]; do
        vars+=("$1")
        shift
    done
    (($#)) && shift
    libs=$(ejabberd_libs) || fail "ejabberd's Erlang library directory not found"
    # +sbwt none: idle schedulers must not spin on a small CI machine.
    launch "$name" "$d/ejabberd.out" env \
        ERL_LIBS="$libs" EJABBERD_CONFIG_PATH="$d/ejabberd.yml" \
        EJABBERD_LOG_PATH="$d/ejabberd.log" HOME="$d/home" \
        ERL_CRASH_DUMP="$d/erl_crash.dump" "${vars[@]}" \
        erl -noinput -noshell +sbwt none +sbwtdcpu none +sbwtdio none "$@" \
        -mnesia dir "\"$d/mnesia\"" -s ejabberd -eval "$eval"
}
