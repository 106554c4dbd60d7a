#!/usr/bin/env bash
# The demo: installs what is missing, builds pcj, starts a throwaway Prosody on loopback, runs
# the example component against it (every event printed as it happens), stops the server.
# Exits 0 only if the example reached PCJ_READY, got its stanza back and shut down cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh --build

build=build-demo
if [ -d "$build" ]; then
    meson setup --reconfigure "$build" --wrap-mode=nodownload -Dtests=disabled >/dev/null
else
    meson setup "$build" --wrap-mode=nodownload -Dtests=disabled >/dev/null
fi
ninja -C "$build" examples/j14_component >/dev/null

dir=$(mktemp -d "${TMPDIR:-/tmp}/pcj-demo.XXXXXX")
cleanup() {
    test/servers/pcj-testserver stop "$dir" >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT

echo "== starting a throwaway Prosody on 127.0.0.1"
test/servers/pcj-testserver start prosody "$dir"
get() { sed -n "s/^$1=//p" "$dir/env"; }

echo "== running examples/j14_component (XEP-0114 component)"
set +e
"$build/examples/j14_component" \
    --host "$(get HOST)" --port "$(get COMPONENT_PORT)" \
    --domain "$(get COMPONENT_DOMAIN)" --password "$(get COMPONENT_SECRET)"
status=$?
set -e
echo "== stopping Prosody"
exit "$status"
