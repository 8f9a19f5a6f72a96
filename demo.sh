#!/bin/bash
# Quick start, command 1: install what is missing, build, run the main job:
# an emulated active-active controller pair on loopback (mirror-pair), a
# host workload through both controllers with the per-path mirror
# accounting, then mirror-failover writing stamped blocks while controller
# A is killed: B's takeover with its timeline, and every acknowledged write
# read back through B.  Everything started is stopped by its PID.
set -euo pipefail
top=$(cd "$(dirname "$0")" && pwd)
. "$top/scripts/setup.sh"
bin="$build/cmd"
work=$(mktemp -d)
pair_pid=
stop_pair() {
	if [ -n "$pair_pid" ] && kill -0 "$pair_pid" 2>/dev/null; then
		kill -TERM "$pair_pid"
		wait "$pair_pid" || true
	fi
	for c in a b; do # a controller left behind by a failed start
		p=$(jq -r ".controllers.$c.pid // empty" "$work/pair/state.json" 2>/dev/null || true)
		[ -n "$p" ] && kill -KILL "$p" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap stop_pair EXIT
state() { jq -r "$1" "$work/pair/state.json"; }
stats() { "$bin/mirror-pair" --dir "$work/pair" stats "$1"; }

# Free loopback ports (3260 may be taken); 2 LUNs: LUN 0 at A, LUN 1 at B.
"$bin/mirror-pair" --dir "$work/pair" --luns 2 --lun-size 64M &
pair_pid=$!
for _ in $(seq 300); do [ -s "$work/pair/state.json" ] && break; sleep 0.1; done
[ -s "$work/pair/state.json" ] || { echo "demo: the pair did not start" >&2; exit 1; }
echo "== LUN 0: $(state '.luns[0].paths | join("  ")')"
echo "== LUN 1: $(state '.luns[1].paths | join("  ")')"

echo "== host workload: 4 s of 4 KiB/16 KiB/64 KiB writes, QD 8, to LUN 0 through A and LUN 1 through B"
"$bin/mirror-load" --write10 --seconds 4 --mix 4k:6,16k:2,64k:2 --qd 8 "$(state '.luns[0].paths[0]')" \
	>"$work/load-a" 2>&1 &
la=$!
"$bin/mirror-load" --write10 --seconds 4 --mix 4k:6,16k:2,64k:2 --qd 8 "$(state '.luns[1].paths[1]')" \
	>"$work/load-b" 2>&1 &
lb=$!
wait "$la" "$lb"
head -1 "$work/load-a" | sed 's/^/   A: /'
head -1 "$work/load-b" | sed 's/^/   B: /'

echo "== mirror accounting per path (the sender's Fig. 7 choice, the partner receiver's cost)"
printf '   %-4s %-6s %8s %16s %10s %10s %10s\n' from path ops "interrupts/op" "cdb B/op" "meta B/op" "total B/op"
for c in a b; do
	other=$([ $c = a ] && echo b || echo a)
	stats "$other" >"$work/rx-$other.json"
	for p in small large; do
		jq -r --arg c "$c" --arg p "$p" '.mirror_rx.kinds[$p] as $k |
			if $k.ops > 0 then
			"   \($c | ascii_upcase)->\(if $c == "a" then "B" else "A" end) \($p)  \($k.ops | tostring | (" " * (8 - length)) + .)" +
			"  \($k.interrupts_min) / \(($k.interrupts / $k.ops * 100 | floor) / 100) / \($k.interrupts_max)" +
			"   \($k.bytes.cdb / $k.ops | floor)   \($k.bytes.metadata / $k.ops | floor)   \($k.bytes.total / $k.ops | floor)"
			else "   \($c | ascii_upcase) \($p): none" end' "$work/rx-$other.json"
	done
	stats "$c" | jq -r '"   \(.controller | ascii_upcase) chose: small \(.mirror_tx.reasons.small_ok), large for too many elements \(.mirror_tx.reasons.too_many_elements), host write p50 \(.host.write_latency_us.p50 | floor) us"'
done

echo "== mirror-failover: stamped writes through both paths, controller A killed after 2 s"
rc=0
"$bin/mirror-failover" --pair-state "$work/pair/state.json" --luns 2 --queue-depth 8 \
	--duration 5000 --fault kill:a@2000ms --history "$work/history" || rc=$?

echo "== B's takeover (ms after A was found dead)"
stats b | jq -r '.takeover.last | "   fenced \(.fenced_ms) ms (\(.fencing)), replayed \(.replayed_blocks) blocks by \(.replayed_ms) ms, LUNs active at \(.active_ms) ms"'
stats b | jq -r '"   B now: mode \(.mode), owns \([.luns[] | select(.owner == "b") | .lun]), ALUA \([.luns[] | .alua] | join(", "))"'
exit "$rc"
