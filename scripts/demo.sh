#!/usr/bin/env bash
# The demo: installs what is missing, builds pcj, starts a throwaway Prosody on loopback (with
# its own CA), runs the XMPP client example against it — STARTTLS with a verified certificate,
# SCRAM, bind — printing every event as it happens, then stops the server. Exits 0 only if the
# client reached PCJ_READY, got its message back, got the server's disco#info answer and shut
# down cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh --build

build=build-demo
if [ -d "$build" ]; then
    meson setup --reconfigure "$build" --wrap-mode=nodownload -Dtests=disabled >/dev/null
else
    meson setup "$build" --wrap-mode=nodownload -Dtests=disabled >/dev/null
fi
ninja -C "$build" examples/xmpp_client >/dev/null

dir=$(mktemp -d "${TMPDIR:-/tmp}/pcj-demo.XXXXXX")
cleanup() {
    test/servers/pcj-testserver stop "$dir" >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT

echo "== starting a throwaway Prosody on 127.0.0.1"
test/servers/pcj-testserver start prosody "$dir"
get() { sed -n "s/^$1=//p" "$dir/env"; }

echo "== running examples/xmpp_client (STARTTLS required, certificate verified, SCRAM)"
set +e
"$build/examples/xmpp_client" \
    --host "$(get HOST)" --port "$(get C2S_PORT)" --domain "$(get DOMAIN)" \
    --user "$(get USER)" --password "$(get PASSWORD)" --ca-file "$(get CA_FILE)" \
    --mechanism SCRAM-SHA-256 --mechanism SCRAM-SHA-1
status=$?
set -e
echo "== stopping Prosody"
exit "$status"
