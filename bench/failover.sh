#!/bin/bash
# bench/failover.sh [TRIALS [BUILD_DIR]]: kill trials on the emulated pair.
#
# Starts mirror-pair (2 LUNs, 8 MiB each) on loopback and runs
# mirror-failover for TRIALS trials (default 1000): each trial writes
# WRITES (default 1500) stamped writes at queue depth 32 with overwrites,
# kills controller a after a third of them, reads back and checks every
# block, then restarts a and waits for failback.  Prints the trials, the
# acknowledged writes, the violations by class and the host-visible
# takeover p50/p99/max; the JSON summary, the HTML report (plots of the
# takeovers, mirror-failover --report) and the history are kept in
# OUT_DIR (default a temporary directory, printed).  Exit status 0 when no
# acknowledged write was lost, mirror-failover's otherwise.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
trials=${1:-1000}
build=${2:-$top/_build}
writes=${WRITES:-1500}
JQ=${JQ:-jq}

[[ $trials =~ ^[1-9][0-9]*$ ]] || { echo "trials must be a positive integer, not '$trials'" >&2; exit 1; }
if [ ! -x "$build/cmd/mirror-failover" ] || [ ! -x "$build/cmd/mirror-pair" ]; then
	echo "$build: no mirror-failover/mirror-pair built there (give the build directory as \$2)" >&2
	exit 1
fi
out=${OUT_DIR:-$(mktemp -d)}
mkdir -p "$out"
if [ -e "$out/pair" ]; then
	echo "$out/pair exists (a pair of an earlier run): give an empty OUT_DIR" >&2
	exit 1
fi
pair_pid=
trap '[ -n "$pair_pid" ] && { kill -TERM "$pair_pid" 2>/dev/null; wait "$pair_pid" 2>/dev/null; }' EXIT
trap 'exit 1' INT TERM HUP

"$build/cmd/mirror-pair" --dir "$out/pair" -q --lun-size 8M >"$out/pair.log" 2>&1 &
pair_pid=$!
for _ in $(seq 300); do [ -f "$out/pair/state.json" ] && break; sleep 0.1; done
[ -f "$out/pair/state.json" ] || { echo "mirror-pair did not start: $(tail -3 "$out/pair.log")" >&2; exit 1; }

start=$(date +%s)
"$build/cmd/mirror-failover" --pair-state "$out/pair/state.json" --trials "$trials" \
	--writes "$writes" --queue-depth 32 --fault kill:a --json -q -H "$out/history" \
	--junit "$out/junit.xml" --report "$out/report.html" >"$out/summary.json" 2>"$out/stderr"
rc=$?
secs=$(($(date +%s) - start))
if command -v "$JQ" >/dev/null 2>&1; then
	# shellcheck disable=SC2016 # jq's own \( ) interpolation
	"$JQ" -r --arg secs "$secs" '"trials \(.trials) in \($secs) s, acknowledged writes \(.acked_writes) (\(.checked_pct)% checked), indeterminate \(.indeterminate)",
		"violations \(.violations_total): lost \(.acked_lost), stale \(.stale), torn \(.torn), misdirected \(.misdirected), phantom \(.phantom)",
		"takeover (kill to the first write acknowledged after it) ms: p50 \(.takeover_ms.p50), p99 \(.takeover_ms.p99), max \(.takeover_ms.max)",
		"host stall (last ack before the kill to the first after) ms: p50 \(.stall_ms.p50), p99 \(.stall_ms.p99), max \(.stall_ms.max)",
		(.takeover_phases_ms // {} | to_entries[] | "survivor \(.key) at ms: p50 \(.value.p50), p99 \(.value.p99), max \(.value.max)"),
		"verdict \(.verdict)"' "$out/summary.json"
else
	cat "$out/summary.json"
fi
[ -s "$out/stderr" ] && { echo "mirror-failover said:"; tail -5 "$out/stderr"; }
echo "kept in $out (summary.json, report.html, history, junit.xml, pair/ctl-*.log)"
exit "$rc"
