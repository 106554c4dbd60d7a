#!/usr/bin/env bash
# test-install.sh: proves that pcj installs and can be used the two ways a project takes it.
#
#  1. Makes a small meson project that has pcj as a subproject (pcj's sources in
#     subprojects/pcj, a wrap file that provides `pcj`) and asks for it with a plain
#     dependency('pcj'); builds it and checks that none of pcj's tests, examples, benchmarks or
#     fuzz targets became part of that build; runs its program (test/install/consumer.cpp).
#  2. Installs that build into a prefix in a temporary directory: what gets installed is pcj's
#     own install (the library with its soname, headers, pcj.pc, documentation), checked file by
#     file. One build of the library serves both steps, to keep CI short.
#  3. Builds the same program with `pkg-config --cflags --libs pcj` against that prefix (and
#     nothing else: the program calls libuv itself, so libuv must come from pcj.pc's Requires)
#     and runs it.
#  4. Lists the installed library's exported symbols (nm -D --defined-only, demangled) and
#     fails on any outside pcj:: or inside pcj::detail, apart from the entries the C++ ABI
#     needs for pcj's exported classes (see below).
#
# Usage: scripts/test-install.sh [WORKDIR]  (default: a new temporary directory, removed at the
# end unless KEEP=1). Exits non-zero on the first failure, saying which step failed.
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=${1:-}
if [[ -z $work ]]; then
    work=$(mktemp -d "${TMPDIR:-/tmp}/pcj-install.XXXXXX")
    [[ ${KEEP:-0} == 1 ]] || trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work"
prefix=$work/prefix
jobs=${JOBS:-2}

fail() {
    echo "test-install: FAILED: $*" >&2
    exit 1
}
step() {
    echo "==== test-install: $*"
}

version=$(sed -n "s/^  version : '\([0-9.]*\)',$/\1/p" "$src/meson.build" | head -n1)
[[ -n $version ]] || fail "cannot read the project version from meson.build"
major=${version%%.*}

# -- 1. pcj as a meson subproject ------------------------------------------------------------------
step "building a consumer that has pcj $version as a meson subproject"
proj=$work/consumer-project
mkdir -p "$proj/subprojects"
cp "$src/test/install/subproject/meson.build" "$src/test/install/consumer.cpp" "$proj/"
cp "$src/test/install/subproject/pcj.wrap" "$proj/subprojects/"
# pcj's sources as a user would vendor them: the tracked files, no build directories.
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    mkdir -p "$proj/subprojects/pcj"
    git -C "$src" ls-files -z --cached --others --exclude-standard |
        (cd "$src" && xargs -0 cp --parents -t "$proj/subprojects/pcj" 2>/dev/null || true)
else
    cp -r "$src" "$proj/subprojects/pcj"
    rm -rf "$proj/subprojects/pcj"/build*
fi
[[ -f $proj/subprojects/pcj/meson.build ]] || fail "copying pcj's sources"
# --force-fallback-for: the subproject even where a pcj package is installed. A plain build (no
# optimisation): this checks what is built and installed, not how fast it runs.
meson setup "$proj/build" "$proj" --wrap-mode=nodownload --force-fallback-for=pcj \
    --prefix="$prefix" --libdir=lib --buildtype=plain >"$work/setup.log" ||
    { cat "$work/setup.log"; fail "meson setup of the subproject consumer"; }
meson compile -C "$proj/build" -j "$jobs" >"$work/compile.log" ||
    { tail -n 50 "$work/compile.log"; fail "building the subproject consumer"; }
targets=$(meson introspect --targets "$proj/build" |
    python3 -c 'import json, sys; print("\n".join(t["name"] for t in json.load(sys.stdin)))')
unwanted=$(grep -Ex 'unit_tests|protocol_tests|integration_tests|tool_tests|fuzz_.*|stanza_source|pcj_recv|pcj_send|.*_component|.*_client|layer_probe_.*' <<<"$targets" || true)
[[ -z $unwanted ]] || fail "pcj as a subproject built its own tests or examples: $unwanted"
grep -qx pcj <<<"$targets" || fail "the subproject build has no pcj library target"
step "running it"
"$proj/build/consumer" || fail "the subproject consumer"

# -- 2. install ------------------------------------------------------------------------------------
step "installing into $prefix"
meson install -C "$proj/build" --quiet || fail "meson install"
for f in include/pcj/pcj.hpp include/pcj/export.hpp include/pcj/version.hpp \
    lib/pkgconfig/pcj.pc share/doc/pcj/README.md share/doc/pcj/CHANGELOG.md \
    share/doc/pcj/guide.md "lib/libpcj.so.$version"; do
    [[ -e $prefix/$f ]] || fail "$f was not installed"
done
soname=$(objdump -p "$prefix/lib/libpcj.so.$version" | awk '$1 == "SONAME" { print $2 }')
[[ $soname == "libpcj.so.$major" ]] || fail "soname is '$soname', expected libpcj.so.$major"
[[ $(readlink "$prefix/lib/libpcj.so") == "libpcj.so.$major" ]] ||
    fail "libpcj.so does not point at libpcj.so.$major"
grep -q "PCJ_VERSION_STRING \"$version\"" "$prefix/include/pcj/version.hpp" ||
    fail "the installed version.hpp is not at $version"

export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
[[ $(pkg-config --modversion pcj) == "$version" ]] || fail "pkg-config --modversion pcj"
pkg-config --print-requires pcj | grep -q '^libuv' ||
    fail "pcj.pc does not name libuv in Requires (the API takes a uv_loop_t*)"

# -- 3. a consumer built with pkg-config -----------------------------------------------------------
step "building a consumer with pkg-config --cflags --libs pcj"
read -r -a flags <<<"$(pkg-config --cflags --libs pcj)"
# --as-needed as Debian links: every library the program calls must be named on its own.
c++ -std=c++20 -Wall -Wextra -Werror -o "$work/consumer" "$src/test/install/consumer.cpp" \
    "${flags[@]}" -Wl,--as-needed || fail "building the pkg-config consumer"
step "running it"
LD_LIBRARY_PATH=$prefix/lib "$work/consumer" || fail "the pkg-config consumer"
ldd_out=$(LD_LIBRARY_PATH=$prefix/lib ldd "$work/consumer")
grep -q "libpcj.so.$major => $prefix/lib/" <<<"$ldd_out" ||
    fail "the consumer did not load the installed libpcj.so.$major"

# -- 4. exported symbols -----------------------------------------------------------------------
step "checking the symbols libpcj.so exports"
# The check reads mangled names, where the entity's own name comes first (a demangled function
# template instantiation starts with its return type: "pcj::Node&& std::forward<pcj::Node>" is
# std::forward, not pcj's). Allowed: pcj's own names (_ZN3pcj..., with K/R/O for const and
# ref-qualified members) and the names the C++ ABI gives to an exported class's type information
# (_ZTI, _ZTS: catching pcj::Error and its subclasses in an application, dynamic_cast), its
# virtual table and VTT (_ZTV, _ZTT: constructing and deriving from pcj::Extension) and the thunks
# through which a virtual function is called via a secondary base (_ZThn, _ZTv). Each must name a
# pcj:: entity outside pcj::detail (N3pcj6detail). Everything else fails: a standard-library
# instantiation, a C symbol, or anything in pcj::detail.
mangled=$(nm -D --defined-only "$prefix/lib/libpcj.so" | awk '{ print $3 }')
[[ -n $mangled ]] || fail "libpcj.so exports nothing"
pcj_prefix='^_Z(N[KRO]{0,2}|T[ISVT]N|Thn[0-9]+_NK?|Tv[0-9n_]+NK?)3pcj'
bad=$(grep -Ev "$pcj_prefix" <<<"$mangled" | c++filt || true)
detail=$(grep -E "${pcj_prefix}6detail" <<<"$mangled" | c++filt || true)
if [[ -n $bad || -n $detail ]]; then
    [[ -z $bad ]] || printf 'outside pcj::\n%s\n' "$bad" >&2
    [[ -z $detail ]] || printf 'inside pcj::detail\n%s\n' "$detail" >&2
    fail "libpcj.so exports symbols that are not pcj's public API"
fi
echo "test-install: $(wc -l <<<"$mangled") exported symbols, all pcj's public API"
echo "test-install: passed"
