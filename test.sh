#!/bin/bash
# Quick start, command 2: install what is missing, build, and run the whole
# test suite: make check with -Werror, again under AddressSanitizer and
# UndefinedBehaviorSanitizer, bounded libFuzzer runs, an install check, the
# Debian packages and make distcheck (its unit tests and short scripts).
# Ends with "N passed, N failed, N skipped".
set -euo pipefail
top=$(cd "$(dirname "$0")" && pwd)
. "$top/scripts/setup.sh"
jobs=$(nproc)
passed=0 failed=0 skipped=0

count_suite() { # $1: test-suite.log
	local p f s
	p=$(awk '/^# PASS:/ {print $3}' "$1"); f=$(awk '/^# (FAIL|XPASS|ERROR):/ {n += $3} END {print n+0}' "$1")
	s=$(awk '/^# SKIP:/ {print $3}' "$1")
	passed=$((passed + ${p:-0})); failed=$((failed + f)); skipped=$((skipped + ${s:-0}))
}

step() { # name, command...
	local name=$1; shift
	echo "== $name"
	if "$@"; then passed=$((passed + 1)); else echo "FAILED: $name"; failed=$((failed + 1)); fi
}

finish() {
	echo
	echo "summary: $passed passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ]
}
trap 'finish' EXIT

echo "== make check (-Werror)"
make -C "$build" -j"$jobs" check >/dev/null 2>&1 || cat "$build/test-suite.log"
count_suite "$build/test-suite.log"

asan="$top/_build/asan"
echo "== make check (AddressSanitizer + UndefinedBehaviorSanitizer)"
mkdir -p "$asan"
if [ ! -f "$asan/Makefile" ] || [ "$top/configure" -nt "$asan/Makefile" ]; then
	(cd "$asan" && "$top/configure" -q --enable-werror --disable-shared \
		CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		LDFLAGS="-fsanitize=address,undefined")
fi
make -C "$asan" -j"$jobs" >/dev/null
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	make -C "$asan" -j"$jobs" check >/dev/null 2>&1 || cat "$asan/test-suite.log"
count_suite "$asan/test-suite.log"

step "libFuzzer, ${FUZZ_SECONDS:-10} s per target" "$top/scripts/fuzz.sh" "${FUZZ_SECONDS:-10}" "$top/_build/fuzz"
step "install and pkg-config" "$top/tests/check-install.sh" "$build"
# the Debian packages (tests/deb.test, TAP): a full package build, minutes,
# so a step here and not in make check; exit 77 is a skip
echo "== Debian packages (tests/deb.test)"
rc=0
top_srcdir="$top" "$top/tests/deb.test" >"$build/deb.log" 2>&1 || rc=$?
case $rc in
0) passed=$((passed + 1)) ;;
77) skipped=$((skipped + 1)); grep '^1\.\.0' "$build/deb.log" || true ;;
*) grep -e '^not ok' -e '^#' -e '^Bail out' "$build/deb.log" || true; echo "FAILED: Debian packages ($build/deb.log)"
	failed=$((failed + 1)) ;;
esac
step "bench/codec builds and runs" sh -c "make -C '$build' bench/codec >/dev/null && '$build'/bench/codec --iterations 2000 --no-valgrind"
step "man pages lint (mandoc -Tlint)" sh -c "! mandoc -Tlint -W warning '$top'/man/*.[1-8] | grep ."
quiet() { "$@" >/dev/null; }
# the tarball's own build runs the unit tests and the short scripts only
# (tests/local.mk, DISTCHECK_TESTS): everything ran twice above
dist_tests=$(make -s -C "$build" print-distcheck-tests)
step "make distcheck" quiet make -C "$build" -j"$jobs" distcheck DISTCHECK_CONFIGURE_FLAGS=--enable-werror \
	TESTS="$dist_tests"
