# shellcheck shell=bash
# Sourced by pcj-testserver (which defines DIR, KIND, ENV and the helpers used here).
# jabberd2 2.7.0: the router serves XEP-0114 (with <secret>) and the jabberd2 component protocol;
# sm and c2s join it for client connections, with sqlite storage.

jabberd2_module_dir() {
    local d
    for d in /usr/lib/*/jabberd2 /usr/lib/jabberd2; do
        [[ -f $d/authreg_sqlite.so ]] && {
            echo "$d"
            return 0
        }
    done
    fail "jabberd2's module directory (authreg_sqlite.so) not found"
}

jabberd2_router_config() { # FILE ID PORT PEMFILE-ELEMENT
    cat >"$1" <<EOF
<!-- Written by pcj-testserver for one test run; see test/servers/README.md. -->
<router>
  <id>$2</id>
  <pidfile>$DIR/$2.pid</pidfile>
  <log type='file'><file>$DIR/$2.log</file></log>
  <local>
    <ip>$LOOPBACK</ip>
    <port>$3</port>
    <users>$DIR/router-users.xml</users>
    <secret>${ENV[COMPONENT_SECRET]}</secret>
    $4
  </local>
  <check><interval>0</interval><keepalive>0</keepalive></check>
  <io>
    <max_fds>4096</max_fds>
    <limits><bytes>0</bytes><connects>0</connects></limits>
    <access><order>allow,deny</order></access>
  </io>
  <aci>
    <acl type='all'><user>jabberd</user></acl>
    <acl type='bind'><user>${ENV[ROUTER_USER]}</user></acl>
  </aci>
</router>
EOF
}

jabberd2_router_prepare() {
    local -a p
    read -r -a p <<<"$(free_ports 2)"
    ENV[ROUTER_PORT]=${p[0]}
    ENV[COMPONENT_PORT]=${p[0]}
    ENV[ROUTER_NOTLS_PORT]=${p[1]}
    ENV[ROUTER_USER]=pcjbind
    ENV[ROUTER_SECRET]=pcj-router-secret
    ENV[ROUTER_USER_NOBIND]=pcjnobind
    ENV[ROUTER_SECRET_NOBIND]=pcj-nobind-secret
    ENV[LOG_FILE]=$DIR/router.log
    ENV[INTERNAL_SECRET]=pcj-internal-$RANDOM$RANDOM
    cat >"$DIR/router-users.xml" <<EOF
<users>
  <user><name>jabberd</name><secret>${ENV[INTERNAL_SECRET]}</secret></user>
  <user><name>${ENV[ROUTER_USER]}</name><secret>${ENV[ROUTER_SECRET]}</secret></user>
  <user><name>${ENV[ROUTER_USER_NOBIND]}</name><secret>${ENV[ROUTER_SECRET_NOBIND]}</secret></user>
</users>
EOF
    jabberd2_router_config "$DIR/router.xml" router "${p[0]}" \
        "<pemfile>$DIR/tls/server-full.pem</pemfile>"
    if [[ $KIND == jabberd2-router ]]; then
        jabberd2_router_config "$DIR/router-notls.xml" router-notls "${p[1]}" ""
    else
        unset 'ENV[ROUTER_NOTLS_PORT]'
    fi
}

jabberd2_router_ready() {
    local -a specs=("${ENV[ROUTER_PORT]},jabber:component:accept,$COMPONENT_NAME")
    [[ -n ${ENV[ROUTER_NOTLS_PORT]:-} ]] &&
        specs+=("${ENV[ROUTER_NOTLS_PORT]},jabber:component:accept,$COMPONENT_NAME")
    probe "${specs[@]}"
}

jabberd2_router_launch() {
    launch jabberd2-router "$DIR/router.out" jabberd2-router -c "$DIR/router.xml"
    if [[ -n ${ENV[ROUTER_NOTLS_PORT]:-} ]]; then
        launch jabberd2-router-notls "$DIR/router-notls.out" \
            jabberd2-router -c "$DIR/router-notls.xml"
    fi
    wait_for "the jabberd2 router" jabberd2_router_ready
}

jabberd2_router_block() { # the <router> element sm and c2s use to reach the router
    cat <<EOF
  <router>
    <ip>$LOOPBACK</ip><port>${ENV[ROUTER_PORT]}</port>
    <user>jabberd</user><pass>${ENV[INTERNAL_SECRET]}</pass>
    <retry><init>3</init><lost>0</lost><sleep>1</sleep></retry>
  </router>
EOF
}

jabberd2_sm_config() { # MODULE-DIR
    cat >"$DIR/sm.xml" <<EOF
<!-- Written by pcj-testserver for one test run; see test/servers/README.md. -->
<sm>
  <id>sm</id>
  <pidfile>$DIR/sm.pid</pidfile>
$(jabberd2_router_block)
  <log type='file'><file>$DIR/sm.log</file></log>
  <local><id>$DOMAIN_NAME</id></local>
  <storage>
    <path>$1</path>
    <driver>sqlite</driver>
    <sqlite><dbname>$DIR/jabberd2.db</dbname><busy-timeout>2000</busy-timeout></sqlite>
  </storage>
  <modules>
    <path>$1</path>
    <chain id='sess-start'><module>status</module></chain>
    <chain id='sess-end'><module>status</module><module>iq-last</module></chain>
    <chain id='in-sess'>
      <module>validate</module><module>status</module><module>privacy</module>
      <module>roster</module><module>iq-vcard</module><module>iq-ping</module>
      <module>iq-private</module><module>disco</module><module>offline</module>
      <module>presence</module><module>deliver</module>
    </chain>
    <chain id='out-sess'></chain>
    <chain id='in-router'>
      <module>session</module><module>validate</module><module>presence</module>
      <module>privacy</module>
    </chain>
    <chain id='out-router'><module>privacy</module></chain>
    <chain id='pkt-sm'>
      <module>iq-last</module><module>iq-ping</module><module>iq-time</module>
      <module>iq-version</module><module>disco</module><module>echo</module>
      <module>status</module><module>presence</module>
    </chain>
    <chain id='pkt-user'>
      <module>roster</module><module>presence</module><module>disco</module>
      <module>iq-vcard</module><module>deliver</module><module>offline</module>
      <module>iq-last</module>
    </chain>
    <chain id='pkt-router'><module>session</module><module>disco</module></chain>
    <chain id='user-load'>
      <module>active</module><module>roster</module><module>privacy</module>
    </chain>
    <chain id='user-unload'></chain>
    <chain id='user-create'><module>active</module></chain>
    <chain id='user-delete'>
      <module>active</module><module>offline</module><module>privacy</module>
      <module>roster</module><module>status</module><module>iq-last</module>
      <module>iq-private</module><module>iq-vcard</module>
    </chain>
    <chain id='disco-extend'><module>iq-version</module></chain>
  </modules>
  <discovery>
    <identity><category>server</category><type>im</type><name>pcj test server</name></identity>
  </discovery>
</sm>
EOF
}

jabberd2_c2s_config() { # MODULE-DIR
    local pem=$DIR/tls/server-full.pem
    cat >"$DIR/c2s.xml" <<EOF
<!-- Written by pcj-testserver for one test run; see test/servers/README.md. -->
<c2s>
  <id>c2s</id>
  <pidfile>$DIR/c2s.pid</pidfile>
$(jabberd2_router_block)
  <log type='file'><file>$DIR/c2s.log</file></log>
  <local>
    <id realm='$DOMAIN_NAME' pemfile='$pem'>$DOMAIN_NAME</id>
    <ip>$LOOPBACK</ip>
    <port>${ENV[C2S_PORT]}</port>
    <ssl-port>${ENV[DIRECT_TLS_PORT]}</ssl-port>
    <pemfile>$pem</pemfile>
  </local>
  <io>
    <max_fds>4096</max_fds>
    <limits>
      <bytes>0</bytes><stanzas>0</stanzas><connects>0</connects><stanzasize>0</stanzasize>
    </limits>
    <access><order>allow,deny</order></access>
    <check><interval>0</interval><idle>0</idle><keepalive>0</keepalive></check>
  </io>
  <authreg>
    <path>$1</path>
    <module>sqlite</module>
    <mechanisms>
      <traditional><plain/><digest/></traditional>
      <sasl><plain/><digest-md5/><scram-sha-1/><scram-sha-256/></sasl>
    </mechanisms>
    <ssl-mechanisms>
      <traditional><plain/></traditional>
      <sasl><plain/></sasl>
    </ssl-mechanisms>
    <sqlite>
      <dbname>$DIR/jabberd2.db</dbname>
      <busy-timeout>2000</busy-timeout>
      <password_type><plaintext/></password_type>
    </sqlite>
  </authreg>
</c2s>
EOF
}

# The sqlite database: the schema kept in the repository plus the two test accounts (authreg
# for c2s, active for sm: without an "active" row sm refuses the session).
jabberd2_database() {
    local schema=$SCRIPT_DIR/jabberd2-sqlite-schema.sql
    [[ -f $schema ]] || fail "$schema is missing"
    command -v sqlite3 >/dev/null ||
        fail "sqlite3 is not installed (scripts/install-deps.sh --test installs it)"
    {
        cat "$schema"
        local u p
        for u in USER USER2; do
            [[ $u == USER ]] && p=${ENV[PASSWORD]} || p=${ENV[PASSWORD2]}
            echo "INSERT INTO authreg (username, realm, password)" \
                "VALUES ('${ENV[$u]}', '$DOMAIN_NAME', '$p');"
            echo "INSERT INTO active (\"collection-owner\", \"time\")" \
                "VALUES ('${ENV[$u]}@$DOMAIN_NAME', strftime('%s', 'now'));"
        done
    } | sqlite3 "$DIR/jabberd2.db" >"$DIR/sqlite.txt" 2>&1 ||
        { cat "$DIR/sqlite.txt" >&2; fail "creating the sqlite database failed"; }
}

jabberd2_prepare() {
    jabberd2_router_prepare
    [[ $KIND == jabberd2 ]] || return 0
    local -a p
    read -r -a p <<<"$(free_ports 2)"
    user_env
    ENV[C2S_PORT]=${p[0]}
    ENV[DIRECT_TLS_PORT]=${p[1]}
    local mods
    mods=$(jabberd2_module_dir)
    jabberd2_sm_config "$mods"
    jabberd2_c2s_config "$mods"
    jabberd2_database
}

# sm and c2s are ready when the router has seen the sm bind the domain and c2s answers.
jabberd2_full_ready() {
    grep -q "\[$DOMAIN_NAME\] online" "$DIR/router.log" 2>/dev/null &&
        grep -q "ready for connections" "$DIR/c2s.log" 2>/dev/null &&
        probe "${ENV[C2S_PORT]},jabber:client,$DOMAIN_NAME" "${ENV[DIRECT_TLS_PORT]}"
}

jabberd2_launch() {
    jabberd2_router_launch
    [[ $KIND == jabberd2 ]] || return 0
    launch jabberd2-sm "$DIR/sm.out" jabberd2-sm -c "$DIR/sm.xml"
    launch jabberd2-c2s "$DIR/c2s.out" jabberd2-c2s -c "$DIR/c2s.xml"
    wait_for "jabberd2 sm and c2s" jabberd2_full_ready
}
