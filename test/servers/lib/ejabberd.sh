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
    cat >"$DIR/ejabberd.yml" <<EOF
# Written by pcj-testserver for one test run; see test/servers/README.md.
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
}

ejabberd_register_eval() {
    cat <<EOF
Users = [{<<"${ENV[USER]}">>, <<"${ENV[PASSWORD]}">>},
         {<<"${ENV[USER2]}">>, <<"${ENV[PASSWORD2]}">>}],
Results = [ejabberd_auth:try_register(U, <<"$DOMAIN_NAME">>, P) || {U, P} <- Users],
case lists:all(fun(R) -> R =:= ok orelse R =:= {error, exists} end, Results) of
    true -> ok = file:write_file("$DIR/ejabberd.ready", io_lib:format("~p~n", [Results]));
    false -> io:format("pcj-testserver: registering users failed: ~p~n", [Results]), halt(3)
end.
EOF
}

ejabberd_ready() {
    [[ -f $DIR/ejabberd.ready ]] &&
        probe "${ENV[C2S_PORT]},jabber:client,$DOMAIN_NAME" \
            "${ENV[C2S_REQUIRED_PORT]},jabber:client,$DOMAIN_NAME" \
            "${ENV[COMPONENT_PORT]},jabber:component:accept,$COMPONENT_NAME" \
            "${ENV[DIRECT_TLS_PORT]}"
}

ejabberd_launch() {
    # ERL_LIBS is the directory holding ejabberd-VERSION (as ejabberdctl sets it).
    local libs="" d
    for d in /usr/lib/*/ejabberd-* /usr/lib/ejabberd-*; do
        [[ -f $d/ebin/ejabberd.app ]] && libs=${d%/*} && break
    done
    [[ -n $libs ]] || fail "ejabberd's Erlang library directory not found"
    rm -f "$DIR/ejabberd.ready"
    # +sbwt none: idle schedulers must not spin on a small CI machine.
    launch ejabberd "$DIR/ejabberd.out" env \
        ERL_LIBS="$libs" EJABBERD_CONFIG_PATH="$DIR/ejabberd.yml" \
        EJABBERD_LOG_PATH="$DIR/ejabberd.log" HOME="$DIR/home" \
        ERL_CRASH_DUMP="$DIR/erl_crash.dump" \
        erl -noinput -noshell +sbwt none +sbwtdcpu none +sbwtdio none \
        -mnesia dir "\"$DIR/mnesia\"" -s ejabberd -eval "$(ejabberd_register_eval)"
    wait_for "ejabberd's listeners and users" ejabberd_ready
}
