#!/bin/bash
# bench/top.sh [BUILD_DIR]: mirror-top's own costs, against named peers.
#
# 1. Live capture on loopback: mirror-emu on a free 127.0.0.1 port,
#    mirror-load at rising load (4 KiB writes; QD 1, 8, 32; 1 and 2
#    connections) while `mirror-top -b -i lo` decodes the link live.  For
#    each step: mirror-load's writes/s, the ops mirror-top saw against
#    those mirror-load sent, and the packets the kernel dropped for
#    mirror-top; beside it the same for tcpdump writing the same traffic
#    to /dev/null (the peer: the plainest libpcap reader).  The highest
#    rate with no drop is printed at the end.
# 2. Idle CPU at 1 Hz: mirror-top --emu (batch, and the curses view in
#    tmux when there is tmux) refreshing once a second for IDLE_SECONDS
#    (default 10) with nothing happening, against procps `top -b -d 1` over
#    the same time.  CPU from /proc/PID/stat (utime + stime).
# Needs root (or CAP_NET_RAW) for the capture.  It only reports: exit 0
# whatever the numbers, 1 only if something could not run.  Every process
# is stopped by its PID.  BENCH_SECONDS (default 3) per load step.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/_build/default}
secs=${BENCH_SECONDS:-3}
idle=${IDLE_SECONDS:-10}
JQ=${JQ:-jq}

[ -f "$build/Makefile" ] || { echo "$build: no configured build directory (give it as \$1)" >&2; exit 1; }
command -v "$JQ" >/dev/null || { echo "jq not found (Debian package jq)" >&2; exit 1; }
echo "building mirror-top, mirror-load and mirror-emu in $build"
make -C "$build" -s cmd/mirror-top cmd/mirror-load cmd/mirror-emu >/dev/null || exit 1
bin=$build/cmd
tmp=$(mktemp -d) || exit 1
pids=()
sock="mirrortop-bench-$$"
cleanup() {
	command -v tmux >/dev/null && tmux -L "$sock" kill-server 2>/dev/null
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

"$bin/mirror-emu" --listen 127.0.0.1:0 --port-file "$tmp/port" --stats-socket "$tmp/stats" -q \
	2>"$tmp/emu.log" &
pids+=($!)
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
[ -s "$tmp/port" ] || { echo "mirror-emu did not start: $(cat "$tmp/emu.log")" >&2; exit 1; }
P=$(cat "$tmp/port")
U="iscsi://127.0.0.1:$P/iqn.2026-11.org.mirrortest:emu/0"

# cpu_ticks PID: utime + stime in clock ticks
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
hz=$(getconf CLK_TCK)

# ---- 1. live capture ----
# step NAME QD CONNECTIONS: one load step with mirror-top and tcpdump capturing
step() {
	local name=$1 qd=$2 conns=$3 tp dp
	"$bin/mirror-top" -b -i lo -f "tcp port $P" --port "$P" -d 0.5 >"$tmp/$name.top" \
		2>"$tmp/$name.toperr" &
	tp=$!
	pids+=("$tp")
	dp=
	if command -v tcpdump >/dev/null; then
		tcpdump -i lo -w /dev/null "tcp port $P" >/dev/null 2>"$tmp/$name.dump" &
		dp=$!
		pids+=("$dp")
	fi
	sleep 1
	"$bin/mirror-load" "$U" --mix 4k --qd "$qd" --connections "$conns" --seconds "$secs" \
		--json --no-progress >"$tmp/$name.json" 2>"$tmp/$name.err"
	sleep 1.5
	kill -TERM "$tp"
	wait "$tp"
	if [ -n "$dp" ]; then
		kill -INT "$dp"
		wait "$dp"
	fi
}
live=yes
printf '%-6s %4s %5s %10s %12s %12s %12s\n' conns QD "" "writes/s" "top saw/sent" "top drops" "tcpdump drops"
best=0
for cfg in "1 1" "1 8" "1 32" "2 32"; do
	set -- $cfg
	name="live-$1-$2"
	step "$name" "$2" "$1"
	if grep -qiE 'permi|not permitted' "$tmp/$name.toperr"; then
		echo "no live capture here: $(cat "$tmp/$name.toperr")"
		live=no
		break
	fi
	sent=$("$JQ" -r '.ops // 0' "$tmp/$name.json" 2>/dev/null || echo 0)
	rate=$("$JQ" -r '.writes_per_sec // 0 | floor' "$tmp/$name.json" 2>/dev/null || echo 0)
	saw=$(sed -n 's/^totals: ops=\([0-9]*\) .*/\1/p' "$tmp/$name.top" | tail -n 1)
	drops=$(sed -n 's/.*kernel drops \([0-9]*\).*/\1/p' "$tmp/$name.top" | tail -n 1)
	ddrops=$(sed -n 's/^\([0-9]*\) packets dropped by kernel$/\1/p' "$tmp/$name.dump" 2>/dev/null)
	printf '%-6s %4s %5s %10s %12s %12s %12s\n' "$1" "$2" "" "$rate" "${saw:-0}/$sent" \
		"${drops:-?}" "${ddrops:--}"
	[ "${drops:-1}" = 0 ] && [ "${saw:-0}" = "$sent" ] && [ "$rate" -gt "$best" ] && best=$rate
done
[ "$live" = yes ] && echo "highest rate with no packet dropped and every op seen: $best writes/s"

# ---- 2. idle CPU at 1 Hz ----
echo
echo "idle CPU over $idle s, refreshing once a second (nothing on the link)"
"$bin/mirror-top" -b --emu "$tmp/stats" -d 1 >/dev/null 2>&1 &
mt=$!
pids+=("$mt")
top -b -d 1 >/dev/null 2>&1 &
pt=$!
pids+=("$pt")
tui=
if command -v tmux >/dev/null; then
	tmux -L "$sock" new-session -d -x 80 -y 24 \
		"sh -c 'echo \$\$ >$tmp/tui.pid; exec $bin/mirror-top --emu $tmp/stats -d 1'"
	for _ in $(seq 50); do [ -s "$tmp/tui.pid" ] && break; sleep 0.1; done
	tui=$(cat "$tmp/tui.pid" 2>/dev/null)
fi
sleep 1
m0=$(cpu_ticks "$mt") p0=$(cpu_ticks "$pt") t0=0
[ -n "$tui" ] && t0=$(cpu_ticks "$tui")
sleep "$idle"
m1=$(cpu_ticks "$mt") p1=$(cpu_ticks "$pt") t1=0
[ -n "$tui" ] && t1=$(cpu_ticks "$tui")
pct() { awk -v a="$1" -v b="$2" -v hz="$hz" -v s="$idle" 'BEGIN { printf "%.3f", (b - a) / hz / s * 100 }'; }
echo "  mirror-top -b --emu:   $(pct "$m0" "$m1")% of a core"
[ -n "$tui" ] && echo "  mirror-top (curses):   $(pct "$t0" "$t1")% of a core"
echo "  top -b -d 1 (peer):    $(pct "$p0" "$p1")% of a core"
awk -v m=$((m1 - m0)) -v p=$((p1 - p0)) 'BEGIN {
	if (p > 0) printf "  mirror-top / top:      %.2fx\n", m / p
	else printf "  mirror-top / top:      top used less than a tick; mirror-top %d ticks\n", m }'
exit 0
