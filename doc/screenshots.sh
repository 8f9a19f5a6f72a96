#!/bin/bash
# Regenerates the README's report screenshots (doc/report-*.png): one
# --report FILE.html per command, opened in headless Chromium.
#   mirror-dissect: traces/mixed.pcap, with --check
#   mirror-load:    mirror-emu on a free loopback port, --path ab --stats
#   mirror-failover: mirror-pair on loopback, 10 trials of --fault random
# Usage: doc/screenshots.sh [BUILD_DIR]   (default _build/default)
# Needs gnuplot and chromium (scripts/deps.sh installs both).  Every
# process it starts is stopped by its PID.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$top/_build/default}/cmd
out=$top/doc
tmp=$(mktemp -d)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT
for c in gnuplot chromium; do
	command -v "$c" >/dev/null || { echo "screenshots.sh: $c not found (scripts/deps.sh)" >&2; exit 1; }
done

wait_file() {
	local i
	for ((i = 0; i < 300; i++)); do [ -s "$1" ] && return 0; sleep 0.1; done
	echo "screenshots.sh: $1 did not appear" >&2
	return 1
}

shot() { # HTML PNG HEIGHT
	chromium --headless --no-sandbox --disable-gpu --no-first-run --hide-scrollbars \
		--user-data-dir="$tmp/profile" --screenshot="$2" --window-size=1100,"$3" \
		"file://$1" >/dev/null 2>&1 </dev/null &
	local pid=$! i
	for ((i = 0; i < 1200; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	[ -s "$2" ] || { echo "screenshots.sh: no screenshot $2" >&2; return 1; }
	echo "screenshots.sh: $2"
}

# mirror-dissect
"$bin/mirror-dissect" -c -P "$(cat "$top/traces/mixed.port")" --report "$tmp/dissect.html" \
	"$top/traces/mixed.pcap" >/dev/null || true
shot "$tmp/dissect.html" "$out/report-dissect.png" 2000

# mirror-load against mirror-emu
"$bin/mirror-emu" --listen 127.0.0.1:0 --port-file "$tmp/port" --stats-socket "$tmp/stats" -q \
	2>"$tmp/emu.log" &
pids+=($!)
wait_file "$tmp/port"
"$bin/mirror-load" "iscsi://127.0.0.1:$(cat "$tmp/port")/iqn.2026-11.org.mirrortest:emu/0" \
	--path ab --count 20000 --qd 8 --stats "$tmp/stats" --no-progress \
	--report "$tmp/load.html" >/dev/null
shot "$tmp/load.html" "$out/report-load.png" 2200

# mirror-failover against the pair
"$bin/mirror-pair" --dir "$tmp/pair" -q --lun-size 8M >"$tmp/pair.log" 2>&1 &
pids+=($!)
wait_file "$tmp/pair/state.json"
"$bin/mirror-failover" -q --pair-state "$tmp/pair/state.json" --trials 10 --writes 2000 \
	--queue-depth 32 --blocks 256 --fault random --report "$tmp/failover.html" >/dev/null
shot "$tmp/failover.html" "$out/report-failover.png" 2200
