#!/usr/bin/env bash
# install-deps.sh: installs the Debian packages pcj needs, to build it (--build) or to run its
# whole test suite against real servers (--test). Does nothing when everything is installed.
#
# Installing a server package must not start a system service: unless one exists already, a
# /usr/sbin/policy-rc.d that refuses every start (exit 101) is in place during the installation
# and removed afterwards. Runs as root, or through sudo.
set -euo pipefail

usage() {
    echo "usage: $0 --build | --test" >&2
    exit 2
}

BUILD_PACKAGES=(
    g++ meson ninja-build pkg-config
    libuv1-dev libgnutls28-dev libxml2-dev libgsasl-dev libc-ares-dev catch2
    libtomlplusplus-dev libcli11-dev nlohmann-json3-dev scdoc
    gnutls-bin prosody
    libcli11-dev
)
# The test suite adds the other two servers, sqlite3 for jabberd2's database (see
# test/servers/pcj-testserver), dnsmasq-base (the DNS server of the SRV tests), the sanitizer
# runtimes for the address/undefined build (g++ pulls them in on Debian 12; named so that a
# missing one is noticed), and clang with its runtime for the libFuzzer build of scripts/fuzz.sh.
# erlang-base brings epmd, which the cluster suite's harness starts on a port of its own.
# doxygen makes the API reference (the docs suite); scripts/build-debs.sh builds the Debian
# packages (build-essential, dpkg-dev, debhelper; debian/control's Build-Depends are all in the
# build list) and checks them with lintian.
TEST_PACKAGES=(
    ejabberd erlang-base jabberd2 sqlite3 dnsmasq-base
    libasan8 libubsan1
    clang libclang-rt-14-dev
    doxygen
    build-essential dpkg-dev debhelper lintian
)

case ${1:-} in
--build) packages=("${BUILD_PACKAGES[@]}") ;;
--test) packages=("${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}") ;;
*) usage ;;
esac

installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

missing=()
for p in "${packages[@]}"; do
    installed "$p" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
    echo "install-deps: everything for ${1#--} is installed"
    exit 0
fi
echo "install-deps: installing ${missing[*]}"

if ((EUID == 0)); then
    as_root=()
elif command -v sudo >/dev/null; then
    as_root=(sudo)
else
    echo "install-deps: not root and no sudo; install these as root: ${missing[*]}" >&2
    exit 1
fi

readonly POLICY=/usr/sbin/policy-rc.d
created_policy=0
remove_policy() {
    if ((created_policy)); then
        "${as_root[@]}" rm -f "$POLICY"
    fi
}
trap remove_policy EXIT
if [[ ! -e $POLICY ]]; then
    printf '#!/bin/sh\n# Written by pcj scripts/install-deps.sh during an install.\nexit 101\n' |
        "${as_root[@]}" tee "$POLICY" >/dev/null
    "${as_root[@]}" chmod 755 "$POLICY"
    created_policy=1
fi

export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing[@]}"
echo "install-deps: done"
