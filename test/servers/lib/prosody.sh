# shellcheck shell=bash
# Sourced by pcj-testserver (which defines DIR, KIND, ENV and the helpers used here).
# Prosody 0.12: one c2s port serving DOMAIN (STARTTLS required) and OPEN_DOMAIN (TLS optional,
# plaintext auth allowed), a direct TLS port and a XEP-0114 component port.

prosody_account() { # HOST USER PASSWORD
    local host_dir user_file
    host_dir=$(perl -e '(my $s = shift) =~ s/(\W)/sprintf("%%%02x", ord $1)/ge; print $s' "$1")
    user_file=$(perl -e '(my $s = shift) =~ s/(\W)/sprintf("%%%02x", ord $1)/ge; print $s' "$2")
    mkdir -p "$DIR/data/$host_dir/accounts"
    printf 'return {\n\t["password"] = "%s";\n};\n' "$3" \
        >"$DIR/data/$host_dir/accounts/$user_file.dat"
}

prosody_prepare() {
    local -a p
    read -r -a p <<<"$(free_ports 3)"
    user_env
    ENV[OPEN_DOMAIN]=$OPEN_DOMAIN_NAME
    ENV[C2S_PORT]=${p[0]}
    ENV[DIRECT_TLS_PORT]=${p[1]}
    ENV[COMPONENT_PORT]=${p[2]}
    ENV[LOG_FILE]=$DIR/prosody.log
    cat >"$DIR/prosody.cfg.lua" <<EOF
-- Written by pcj-testserver for one test run; see test/servers/README.md.
run_as_root = true
pidfile = "$DIR/prosody.pid"
data_path = "$DIR/data"
certificates = "$DIR/tls"
log = { { levels = { min = "info" }, to = "file", filename = "$DIR/prosody.log" } }

interfaces = { "$LOOPBACK" }
local_interfaces = { "$LOOPBACK" }
c2s_ports = { ${p[0]} }
c2s_direct_tls_ports = { ${p[1]} }
component_ports = { ${p[2]} }
component_interfaces = { "$LOOPBACK" }
s2s_ports = { }
http_ports = { }
https_ports = { }

modules_enabled = { "roster", "saslauth", "tls", "disco", "ping", "legacyauth", "smacks" }
modules_disabled = { "s2s", "s2s_auth_certs" }
authentication = "internal_plain"
storage = "internal"
ssl = { certificate = "$DIR/tls/server-chain.pem", key = "$DIR/tls/server.key" }

VirtualHost "$DOMAIN_NAME"
    c2s_require_encryption = true
    allow_unencrypted_plain_auth = false

VirtualHost "$OPEN_DOMAIN_NAME"
    c2s_require_encryption = false
    allow_unencrypted_plain_auth = true

Component "$COMPONENT_NAME"
    component_secret = "${ENV[COMPONENT_SECRET]}"
EOF
    local host
    for host in "$DOMAIN_NAME" "$OPEN_DOMAIN_NAME"; do
        prosody_account "$host" "${ENV[USER]}" "${ENV[PASSWORD]}"
        prosody_account "$host" "${ENV[USER2]}" "${ENV[PASSWORD2]}"
    done
}

prosody_ready() {
    probe "${ENV[C2S_PORT]},jabber:client,$DOMAIN_NAME" \
        "${ENV[COMPONENT_PORT]},jabber:component:accept,$COMPONENT_NAME" \
        "${ENV[DIRECT_TLS_PORT]}"
}

prosody_launch() {
    launch prosody "$DIR/prosody.out" prosody --config "$DIR/prosody.cfg.lua" -F
    wait_for "Prosody's listeners" prosody_ready
}
