#!/usr/bin/env bash
# Long fuzzing (not in CI): every libFuzzer target of
# tests/fuzz, built with scripts/fuzz.sh's flags (ASan + UBSan), run one
# after another on one core from its seed corpus, with a table of what each
# reached.
#
# Usage: bench/fuzz-long.sh [SECONDS_PER_TARGET | --execs N] [--update-corpus]
#   SECONDS_PER_TARGET  run each target this long (-max_total_time)
#   --execs N           run each target N inputs (-runs=N); the default,
#                       with N = 10000000
#   --update-corpus     afterwards, minimise (-merge=1) the repository's
#                       corpus with what the run found into
#                       tests/fuzz/corpus/TARGET/, inputs of at most
#                       FUZZ_CORPUS_MAX_LEN bytes (default 4096: the whole
#                       corpus stays around 1 MB; the larger generated
#                       seeds come back from scripts/fuzz.sh each run)
#   FUZZ_TARGETS        environment: "fuzz_a fuzz_b" runs only those
#   BUILD_DIR           environment: default _build/fuzz (shared with
#                       scripts/fuzz.sh: its objects are reused)
#   FUZZ_TIMEOUT        environment: seconds one input may take before it
#                       is a finding (default 10); raise it for a run that
#                       will be paused (SIGSTOP), whose pause would count
#   FUZZ_WORKERS        environment: libFuzzer processes per target at once
#                       (default 1), on the one working corpus (each reads
#                       what the others add, as libFuzzer's -jobs do); each
#                       runs N / FUZZ_WORKERS inputs, and the table sums them
#
# Each target starts from tests/fuzz/corpus/TARGET/ plus scripts/fuzz.sh's
# generated seeds, in a working corpus under BUILD_DIR/long/.  A crash,
# leak, timeout or broken property stops that target: the input goes to
# tests/fuzz/findings/TARGET/ with a minimised copy (minimized-*), which
# scripts/fuzz.sh then replays until the bug is fixed and the input moved
# to tests/fuzz/regress/TARGET/.
#
# Prints per target: execs, execs/s, seconds, coverage (cov: edges, ft:
# features, from libFuzzer's last status line), corpus size, findings.
# Exit status 0 when no target found anything, 1 otherwise, 2 on usage or
# build errors.
set -uo pipefail

srcdir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
builddir=${BUILD_DIR:-$srcdir/_build/fuzz}
execs=10000000
timeout=${FUZZ_TIMEOUT:-10}
[[ $timeout =~ ^[1-9][0-9]*$ ]] || { echo "fuzz-long.sh: FUZZ_TIMEOUT must be a positive number of seconds, not '$timeout'" >&2; exit 2; }
workers=${FUZZ_WORKERS:-1}
[[ $workers =~ ^[1-9][0-9]*$ ]] || { echo "fuzz-long.sh: FUZZ_WORKERS must be a positive number of processes, not '$workers'" >&2; exit 2; }
seconds=
update=

die() {
	echo "fuzz-long.sh: $*" >&2
	exit 2
}

while (($#)); do
	case $1 in
	--execs)
		[[ ${2:-} =~ ^[1-9][0-9]*$ ]] || die "--execs needs a positive number, not '${2:-}'"
		execs=$2
		shift 2
		;;
	--update-corpus)
		update=1
		shift
		;;
	-h | --help)
		sed -n '2,/^set /p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	*)
		[[ $1 =~ ^[1-9][0-9]*$ ]] || die "seconds per target must be a positive integer, not '$1'"
		seconds=$1
		shift
		;;
	esac
done

# the same build and seeds as the CI run
out=$(FUZZ_BUILD_ONLY=1 "$srcdir/scripts/fuzz.sh" 1 "$builddir" 2>&1) || {
	echo "$out" >&2
	die "scripts/fuzz.sh could not build the targets"
}
case $out in *SKIP:*)
	echo "$out"
	exit 0
	;;
esac
builddir=$(cd "$builddir" && pwd)
targets=()
for b in "$builddir"/bin/fuzz_*; do targets+=("$(basename "$b")"); done
if [ -n "${FUZZ_TARGETS:-}" ]; then read -r -a targets <<<"$FUZZ_TARGETS"; fi
((${#targets[@]})) || die "no target built in $builddir/bin"

if [ -n "$seconds" ]; then
	limit=(-max_total_time="$seconds")
	echo "fuzz-long.sh: ${#targets[@]} targets, $seconds s each"
else
	limit=(-runs="$(((execs + workers - 1) / workers))")
	echo "fuzz-long.sh: ${#targets[@]} targets, $execs execs each"
fi
((workers == 1)) || echo "fuzz-long.sh: $workers processes per target on one working corpus"

# The largest of the workers' last "cov: N" (or "ft: N") of logs $2...
stat_of() {
	local k=$1 l v best=
	shift
	for l in "$@"; do
		v=$(grep -E '^#[0-9]+' "$l" | tail -n 1 | sed -n "s/.* $k: \([0-9]*\).*/\1/p")
		[ -n "$v" ] && { [ -z "$best" ] || ((v > best)); } && best=$v
	done
	echo "$best"
}

# The inputs a worker's log says it ran: the final stats, or the last
# status line when it was cut short.
execs_of() {
	local n
	n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$1" | tail -n 1)
	[ -n "$n" ] || n=$(grep -E '^#[0-9]+' "$1" | tail -n 1 | sed 's/^#\([0-9]*\).*/\1/')
	echo "${n:-0}"
}

rows=()
found=0
for t in "${targets[@]}"; do
	bin=$builddir/bin/$t
	[ -x "$bin" ] || die "no target $t in $builddir/bin"
	work=$builddir/long/$t
	log=$builddir/long/$t.log
	findings=$srcdir/tests/fuzz/findings/$t
	mkdir -p "$work" "$findings"
	cp -n "$builddir/corpus/$t"/* "$work"/ 2>/dev/null
	[ -d "$srcdir/tests/fuzz/corpus/$t" ] && cp -n "$srcdir/tests/fuzz/corpus/$t"/* "$work"/ 2>/dev/null
	# a finding is its input; its minimised copy does not count again
	before=$(find "$findings" -type f ! -name 'minimized-*' | wc -l)
	logs=("$log")
	((workers == 1)) || for ((w = 1; w <= workers; w++)); do logs[w - 1]=$builddir/long/$t.$w.log; done
	start=$(date +%s.%N)
	pids=()
	for l in "${logs[@]}"; do
		UBSAN_OPTIONS=${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1 \
			"$bin" "${limit[@]}" -timeout="$timeout" -report_slow_units="$timeout" -rss_limit_mb=2048 -print_final_stats=1 \
			-artifact_prefix="$findings/" "$work" >"$l" 2>&1 &
		pids+=($!)
	done
	# an interrupted run still prints what each worker reached
	trap 'kill -INT "${pids[@]}" 2>/dev/null' INT TERM
	rc=0
	for p in "${pids[@]}"; do
		wait "$p" || rc=$?
		wait "$p" 2>/dev/null # once more when a trapped signal cut the first wait
	done
	trap - INT TERM
	end=$(date +%s.%N)
	n=0
	for l in "${logs[@]}"; do n=$((n + $(execs_of "$l"))); done
	secs=$(echo "$end - $start" | bc)
	rate=$(echo "$n / $secs" | bc)
	crash=$(sed -n 's/.*Test unit written to //p' "${logs[@]}" | tail -n 1)
	if [ -n "$crash" ] && [ -f "$crash" ]; then
		# a minimised copy next to it, for the regression input
		"$bin" -minimize_crash=1 -max_total_time=60 -timeout=10 \
			-exact_artifact_path="$findings/minimized-$(basename "$crash")" "$crash" \
			>"$builddir/long/$t.minimize.log" 2>&1
	fi
	new=$(($(find "$findings" -type f ! -name 'minimized-*' | wc -l) - before))
	((rc == 0)) || ((new > 0)) || new="rc=$rc"
	[ "$new" = 0 ] || found=$((found + 1))
	rows+=("$(printf '%-18s %10s %8s %7.0f %6s %7s %7s  %s' "$t" "${n:-?}" "$rate" "$secs" \
		"$(stat_of cov "${logs[@]}")" "$(stat_of ft "${logs[@]}")" "$(find "$work" -type f | wc -l)" "$new")")
	echo "${rows[-1]}"
	rmdir "$findings" 2>/dev/null
done

if [ -n "$update" ]; then
	for t in "${targets[@]}"; do
		repo=$srcdir/tests/fuzz/corpus/$t
		merged=$builddir/long/$t.merged
		small=$builddir/long/$t.small
		rm -rf "$merged" "$small"
		mkdir -p "$merged" "$repo" "$small"
		find "$repo" "$builddir/long/$t" -type f -size -$((${FUZZ_CORPUS_MAX_LEN:-4096} + 1))c \
			-exec cp -n -t "$small" {} +
		"$builddir/bin/$t" -merge=1 -timeout=10 "$merged" "$small" \
			>"$builddir/long/$t.merge.log" 2>&1 || die "merging the corpus of $t failed"
		rm -rf "$small"
		rm -rf "$repo"
		mv "$merged" "$repo"
	done
	echo "fuzz-long.sh: corpus now $(find "$srcdir/tests/fuzz/corpus" -type f | wc -l) files," \
		"$(find "$srcdir/tests/fuzz/corpus" -type f -exec cat {} + | wc -c) bytes in tests/fuzz/corpus"
fi

echo
printf '%-18s %10s %8s %7s %6s %7s %7s  %s\n' target execs execs/s seconds cov ft corpus findings
printf '%s\n' "${rows[@]}"
if ((found)); then
	echo "fuzz-long.sh: $found of ${#targets[@]} targets had findings (tests/fuzz/findings/)"
	exit 1
fi
echo "fuzz-long.sh: no findings"
