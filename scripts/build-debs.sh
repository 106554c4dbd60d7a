#!/usr/bin/env bash
# build-debs.sh: builds pcj's Debian packages (libpcj0, libpcj-dev, pcj-tools) from a copy of the
# source tree, checks them with lintian, installs them, checks the installed library the way a
# user would meet it, and removes them again so that the machine is as before.
#
# Usage: scripts/build-debs.sh [OUTDIR]   (default: a temporary directory, removed at the end;
#                                          the .deb files stay in OUTDIR when one is given)
# Environment: DEB_BUILD_OPTIONS (default "nocheck parallel=2"); INSTALL=0 to skip the
# install check (it needs root or sudo).
#
# Fails on: a build failure, a lintian error (warnings are printed; debian/ explains the ones
# that remain), a package that does not install, pkg-config reporting another version than
# meson.build's, a consumer that does not build or run against the installed packages, or
# packages that cannot be removed.
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-}
work=$(mktemp -d "${TMPDIR:-/tmp}/pcj-debs.XXXXXX")
cleanup_work() { rm -rf "$work"; }
trap cleanup_work EXIT

fail() {
    echo "build-debs: FAILED: $*" >&2
    exit 1
}
step() {
    echo "==== build-debs: $*"
}

version=$(sed -n "s/^  version : '\([0-9.]*\)',$/\1/p" "$src/meson.build" | head -n1)
deb_version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
[[ ${deb_version%-*} == "$version" ]] ||
    fail "debian/changelog is at $deb_version but meson.build at $version"

# -- build, outside the source tree --------------------------------------------------------------
tree=$work/pcj-$version
mkdir -p "$tree"
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # The tracked files and new ones not ignored: what the next commit would hold.
    git -C "$src" ls-files -z --cached --others --exclude-standard |
        (cd "$src" && xargs -0 cp --parents -t "$tree" 2>/dev/null || true)
else
    cp -r "$src/." "$tree"
    rm -rf "$tree"/build*
fi
[[ -f $tree/debian/rules ]] || fail "copying the source tree"

step "dpkg-buildpackage in $tree"
export DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS:-nocheck parallel=2}
(cd "$tree" && dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1 ||
    { tail -n 60 "$work/build.log"; fail "dpkg-buildpackage (log above)"; }
changes=$(ls "$work"/pcj_"$deb_version"_*.changes)
debs=("$work"/libpcj0_"$deb_version"_*.deb "$work"/libpcj-dev_"$deb_version"_*.deb
    "$work"/pcj-tools_"$deb_version"_*.deb)
for deb in "${debs[@]}"; do
    [[ -f $deb ]] || fail "no $(basename "$deb")"
    echo "  $(basename "$deb"): $(dpkg-deb -c "$deb" | grep -vc '/$') files"
done
# The listing is read whole first: grep -q would stop reading early and, under pipefail, the
# writer's SIGPIPE would count as a failure.
listing=$(dpkg-deb -c "$work"/libpcj0_*.deb)
grep "libpcj.so.$version\$" <<<"$listing" >/dev/null ||
    fail "libpcj0 holds no libpcj.so.$version"

step "lintian"
lintian --fail-on error --info "$changes" | tee "$work/lintian.log" ||
    fail "lintian found errors"
echo "  lintian: $(grep -c '^E:' "$work/lintian.log" || true) errors," \
    "$(grep -c '^W:' "$work/lintian.log" || true) warnings"

if [[ -n $out ]]; then
    mkdir -p "$out"
    cp "${debs[@]}" "$changes" "$out/"
fi

# -- install, check, remove ------------------------------------------------------------------
if [[ ${INSTALL:-1} == 0 ]]; then
    echo "build-debs: built and checked with lintian; install check skipped (INSTALL=0)"
    exit 0
fi
if ((EUID == 0)); then
    as_root=()
elif command -v sudo >/dev/null; then
    as_root=(sudo)
else
    fail "the install check needs root or sudo (INSTALL=0 skips it)"
fi
packages=(pcj-tools libpcj-dev libpcj0)
for p in "${packages[@]}"; do
    if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        fail "$p is installed already; remove it first (this check must leave the machine as it found it)"
    fi
done
remove_packages() {
    "${as_root[@]}" dpkg -r "${packages[@]}" >/dev/null || echo "build-debs: dpkg -r failed" >&2
}
trap 'remove_packages; cleanup_work' EXIT

step "dpkg -i"
"${as_root[@]}" dpkg -i "${debs[@]}" || fail "the packages do not install"

step "checking the installed packages"
[[ $(pkg-config --modversion pcj) == "$version" ]] ||
    fail "pkg-config --modversion pcj says '$(pkg-config --modversion pcj)', expected $version"
read -r -a flags <<<"$(pkg-config --cflags --libs pcj)"
c++ -std=c++20 -Wall -Wextra -Werror -o "$work/consumer" "$src/test/install/consumer.cpp" \
    "${flags[@]}" -Wl,--as-needed || fail "building the consumer against libpcj-dev"
# ldd names the library by the path ld.so found (/lib/... on Debian's merged /usr): the file it
# resolves to must be libpcj0's.
loaded=$(ldd "$work/consumer" | awk '$1 == "libpcj.so.0" { print $3 }')
[[ -n $loaded ]] && dpkg -S "$(readlink -f "$loaded")" 2>/dev/null | grep '^libpcj0' >/dev/null ||
    fail "the consumer does not load the packaged libpcj.so.0 (ldd: '${loaded:-none}')"
"$work/consumer" || fail "the consumer built against the packages"
pcj --help >/dev/null || fail "pcj --help (pcj-tools)"
man -w pcj >/dev/null 2>&1 || [[ -f /usr/share/man/man1/pcj.1.gz ]] || fail "no pcj(1) man page"

step "dpkg -r"
trap cleanup_work EXIT
"${as_root[@]}" dpkg -r "${packages[@]}" || fail "dpkg -r"
for p in "${packages[@]}"; do
    if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        fail "$p is still installed"
    fi
done
! pkg-config --exists pcj || fail "pcj.pc is still there after dpkg -r"
echo "build-debs: built, lintian-clean of errors, installed, checked and removed"
