#!/usr/bin/env bash
# test.sh: runs pcj's whole test suite, as CI does: installs what is missing, builds with
# -Werror and runs every suite (unit, protocol, integration against real servers, docs: every
# C++ snippet of README.md and doc/ compiles and the API reference is complete; then the pcj
# tool's and the ejabberd cluster's as steps of their own), proves the install
# (scripts/test-install.sh) and the Debian packages (scripts/build-debs.sh), then builds with
# AddressSanitizer and UndefinedBehaviorSanitizer and runs the unit and protocol suites, and with
# ThreadSanitizer for the thread-safe door's tests.
#
# Ends with a summary whose last line reads "N passed, N failed" (meson tests, summed over both
# builds; a skipped test or a failed build step counts as failed). Exits non-zero on any failure.
# Safe to run again: existing build directories are reconfigured, not recreated.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

passed=0
failed=0
summary=()
# What the failing tests printed, repeated just above the summary: a CI log is often read from
# its end, and a failure early in a long run would otherwise be far from it.
failure_logs=$(mktemp)
trap 'rm -f "$failure_logs"' EXIT

note() {
    summary+=("$1")
}

elapsed() { # START-SECONDS
    echo "$((SECONDS - $1)) s"
}

# setup_and_build DIR MESON-OPTIONS... [-- TARGETS...]: configures (or reconfigures) DIR and
# builds the targets given after "--", or everything.
setup_and_build() {
    local dir=$1 start=$SECONDS
    shift
    local options=() targets=()
    while (($#)); do
        if [[ $1 == -- ]]; then
            shift
            targets=("$@")
            break
        fi
        options+=("$1")
        shift
    done
    echo "==== configuring and building $dir ${targets[*]}"
    local setup=(meson setup "$dir" --wrap-mode=nodownload "${options[@]}")
    [[ -d $dir/meson-private ]] && setup+=(--reconfigure)
    if "${setup[@]}" && meson compile -C "$dir" "${targets[@]}"; then
        note "$dir: built in $(elapsed "$start")"
        return 0
    fi
    note "$dir: BUILD FAILED"
    failed=$((failed + 1))
    return 1
}

# run_script NAME COMMAND...: runs one of the scripts that build and check on their own
# (test-install, build-debs); one pass or one failure, with its time in the summary.
run_script() {
    local name=$1 start=$SECONDS
    shift
    echo "==== $name"
    if "$@"; then
        passed=$((passed + 1))
        note "$name: passed in $(elapsed "$start")"
        return 0
    fi
    failed=$((failed + 1))
    note "$name: FAILED after $(elapsed "$start")"
    return 1
}

# run_tests DIR MESON-TEST-ARGS...: runs meson test and adds its Ok/Fail counts to the totals.
run_tests() {
    local dir=$1 start=$SECONDS log
    shift
    echo "==== testing $dir $*"
    log=$(mktemp)
    local rc=0
    meson test -C "$dir" --print-errorlogs "$@" 2>&1 | tee "$log" || rc=$?
    # meson test ends with a table: "Ok: N", "Fail: N", "Timeout: N", "Skipped: N", ...
    local counts
    counts=$(awk '
        /^Ok:/ { ok = $2 } /^Fail:/ { fail = $2 } /^Timeout:/ { timeout = $2 }
        /^Unexpected Pass:/ { up = $3 } /^Skipped:/ { skip = $2 }
        END { printf "%d %d %d %d %d\n", ok, fail, timeout, up, skip }' "$log")
    local ok fail timeout up skip
    read -r ok fail timeout up skip <<<"$counts"
    local bad=$((fail + timeout + up + skip))
    if ((rc != 0 && ok + bad == 0)); then
        bad=1 # meson test did not get as far as running tests
    fi
    passed=$((passed + ok))
    failed=$((failed + bad))
    local what="$dir ${*:-(all suites)}"
    if ((rc != 0 || bad != 0)); then
        # --print-errorlogs put each failing test's output between its command line (">>> ") and the
        # closing table: keep the end of it.
        {
            echo "==== what failed in: $what"
            sed -n '/^>>> /,/^Summary of Failures:/p' "$log" | tail -n 120
        } >>"$failure_logs"
    fi
    rm -f "$log"
    note "$what: $ok ok, $fail failed, $timeout timed out, $skip skipped ($(elapsed "$start"))"
    ((rc == 0 && bad == 0))
}

status=0
total_start=$SECONDS

deps_start=$SECONDS
if scripts/install-deps.sh --test; then
    note "install-deps: done in $(elapsed "$deps_start")"
else
    note "install-deps: FAILED"
    failed=$((failed + 1))
    status=1
fi

if ((status == 0)); then
    if setup_and_build build-ci -Dwerror=true; then
        run_tests build-ci --no-suite tool --no-suite cluster || status=1
        # The pcj command-line tool against real servers: its own step, with its own time.
        run_tests build-ci --no-rebuild --suite tool || status=1
        # The two-node ejabberd cluster (doc/deployment.md): its own step, with its own time.
        run_tests build-ci --no-rebuild --suite cluster || status=1
    else
        status=1
    fi

    # The library installed into a temporary prefix and used through pkg-config and as a meson
    # subproject; the exported symbols checked (one plain build of the library).
    run_script test-install scripts/test-install.sh || status=1
    # The Debian packages: a release build of the library and the tool without tests
    # (nocheck), lintian, installed, checked and removed.
    DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS:-nocheck parallel=2} \
        run_script build-debs scripts/build-debs.sh || status=1

    # Sanitizers: any report fails the test (halt_on_error), with a stack trace. The caller's
    # own ASAN_OPTIONS/UBSAN_OPTIONS win, to allow e.g. detect_leaks=0 where ptrace is denied.
    local_asan=halt_on_error=1:abort_on_error=1:print_stacktrace=1:detect_leaks=1
    export ASAN_OPTIONS=${ASAN_OPTIONS:-$local_asan}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}
    # GCC 12 reports -Wmaybe-uninitialized false positives inside libstdc++'s <regex> (used by
    # Catch2's main) when sanitizers are on with optimisation: that warning alone is off here.
    # Only what the sanitizer suites run is built here (not the integration tests), at -Og:
    # with the sanitizers, -O2 compiles about 2.5 times slower than -Og (measured on a test
    # file: 11.3 s against 4.6 s of CPU) for suites that are not CPU-bound.
    if setup_and_build build-asan -Db_sanitize=address,undefined -Db_lundef=false \
        -Doptimization=g \
        -Dwerror=true -Dcpp_args=-Wno-maybe-uninitialized -Dexamples=disabled -Dbench=disabled \
        -- test/unit_tests test/protocol_tests fuzz/fuzz_xml_stream fuzz/fuzz_xmpp fuzz/fuzz_legacy \
        fuzz/fuzz_j14 fuzz/fuzz_j2 fuzz/fuzz_sasl fuzz/fuzz_route fuzz/fuzz_xpath fuzz/fuzz_xpath_fast \
        fuzz/fuzz_node; then
        run_tests build-asan --no-rebuild --suite unit --suite protocol --suite fuzz || status=1
    else
        status=1
    fi

    # ThreadSanitizer for the thread-safe door: only what those tests need is built.
    tsan_start=$SECONDS
    echo "==== configuring and building build-tsan (door tests)"
    tsan_setup=(meson setup build-tsan --wrap-mode=nodownload -Db_sanitize=thread -Db_lundef=false
        -Doptimization=g -Dwerror=true -Dcpp_args=-Wno-maybe-uninitialized -Dexamples=disabled -Dbench=disabled)
    [[ -d build-tsan/meson-private ]] && tsan_setup+=(--reconfigure)
    if "${tsan_setup[@]}" && meson compile -C build-tsan test/protocol_tests; then
        note "build-tsan: built in $(elapsed "$tsan_start")"
        TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1} \
            run_tests build-tsan --no-rebuild --suite door || status=1
    else
        note "build-tsan: BUILD FAILED"
        failed=$((failed + 1))
        status=1
    fi
fi

if [[ -s $failure_logs ]]; then
    echo
    cat "$failure_logs"
fi
echo
echo "==== pcj test summary ($(elapsed "$total_start"))"
for line in "${summary[@]}"; do
    echo "  $line"
done
((failed == 0)) || status=1
echo "$passed passed, $failed failed"
exit "$status"
