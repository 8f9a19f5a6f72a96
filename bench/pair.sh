#!/bin/bash
# bench/pair.sh [BUILD_DIR]: the emulated controller pair (mirror-pair(1))
# against its named peers, in one run on loopback.  mirror-load is the one
# client everywhere (--write10: 4 KiB WRITE(10) at random LBAs of a host
# LUN, one session), always on LUN 0 through its owner, controller A.
#   1. mirroring:   the pair as shipped (Fig. 7 chooses the path) against
#                   the same pair with --no-mirror (acknowledge after the
#                   local NVRAM copy), QD 1 and QD 16       (goal >= 0.7x)
#   2. Fig. 7:      the same pair with --path large (every mirror op on the
#                   large path), 4 KiB QD 1                 (goal >= 1.3x)
#   3. tgtd:        a tgtd LUN (bstype rdwr on /dev/shm: RAM, data stored)
#                   against the pair, QD 1 and QD 16, and the target's CPU
#                   per host op (utime + stime from /proc/PID/stat over the
#                   run: both controllers for the pair, tgtd for tgtd)
#   4. takeover:    TAKEOVERS (default 20) times: a burst of writes to A,
#                   `mirror-pair kill a`, wait until B's stats report the
#                   takeover (takeover.count moves), `restart a`, wait until
#                   the pair is whole again (both in mode whole, LUN 0 owned
#                   by A); p50/p99/max of B's takeover.last.active_ms
#                   (detection to serving) and of the wall time from the kill
#                   to B's report (includes detection: --dead, default
#                   1000 ms, and this script's 20 ms polling).
# The pair's directory (NVRAM files, RAID-5 member disks) is on /dev/shm
# like tgtd's LUN.  It only reports: exit 0 whatever the numbers (1 only if
# something could not run); no timed assertion.  Every process is stopped
# by its PID (bench/lib.sh).  BENCH_SECONDS (default 4) per measurement.
set -u
. "$(dirname "$0")/lib.sh"
bench_help "$@"
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/_build/default}
secs=${BENCH_SECONDS:-4}
kills=${TAKEOVERS:-20}
IQN=iqn.2026-11.org.mirrortest:bench-pair-tgtd
QDS="1 16"

bench_build "$build" cmd/mirror-load cmd/mirror-pair cmd/mirror-ctl bench/stats_get
load=$build/cmd/mirror-load
pairbin=$build/cmd/mirror-pair
stats_get=$build/bench/stats_get
hz=$(getconf CLK_TCK)

bench_tmp
shm=$(mktemp -d /dev/shm/mirror-bench-pair.XXXXXX) || exit 1
drop_shm() { rm -rf "$shm"; }
bench_at_exit drop_shm
pair_pid=''
# mirror-pair stops both controllers (by PID) on SIGTERM
stop_pair() {
	[ -n "$pair_pid" ] || return 0
	kill -TERM "$pair_pid" 2>/dev/null
	for _ in $(seq 100); do kill -0 "$pair_pid" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$pair_pid" 2>/dev/null && kill -KILL "$pair_pid" 2>/dev/null
	wait "$pair_pid" 2>/dev/null
	pair_pid=
}
bench_at_exit stop_pair

stats() { "$stats_get" "$shm/pair/ctl-$1.stats" 2>/dev/null; }

# start_pair NAME OPTION...: a fresh pair in $shm/pair; 0 once its state
# file is written (both controllers serve writes)
start_pair() {
	local name=$1
	shift
	rm -rf "$shm/pair"
	"$pairbin" --dir "$shm/pair" --luns 2 --lun-size 256M -q "$@" >"$tmp/pair-$name.log" 2>&1 &
	pair_pid=$!
	for _ in $(seq 300); do
		[ -s "$shm/pair/state.json" ] && break
		kill -0 "$pair_pid" 2>/dev/null || break
		sleep 0.1
	done
	if [ ! -s "$shm/pair/state.json" ]; then
		echo "mirror-pair $* did not start: $(tail -3 "$tmp/pair-$name.log" | tr '\n' ' ')" >&2
		stop_pair
		return 1
	fi
	pair_url=$("$JQ" -r '.controllers.a.host[] | select(.lun == 0) | .url' "$shm/pair/state.json")
	return 0
}
ctl_pids() { "$JQ" -r '.controllers.a.pid, .controllers.b.pid' "$shm/pair/state.json"; }

# measure NAME URL QD PID...: one mirror-load run (4 KiB WRITE(10), random
# LBAs), its JSON in $tmp/NAME.json and the CPU ticks PID... used in
# $tmp/NAME.ticks
measure() {
	local name=$1 url=$2 qd=$3 t0=0 t1=0 p
	shift 3
	for p in "$@"; do t0=$((t0 + $(bench_cpu_ticks "$p"))); done
	if ! "$load" "$url" --write10 --mix 4k --qd "$qd" --seconds "$secs" --json --no-progress \
		>"$tmp/$name.json" 2>"$tmp/$name.err"; then
		echo "mirror-load $name failed: $(head -c 300 "$tmp/$name.err")" >&2
	fi
	for p in "$@"; do t1=$((t1 + $(bench_cpu_ticks "$p"))); done
	echo $((t1 - t0)) >"$tmp/$name.ticks"
}

# ---- 1, 2: the pair three ways ----
echo "measuring: ${secs} s each, 4 KiB WRITE(10) at random LBAs, 1 session, LUN 0 through A"
for cfg in "auto" "nomirror --no-mirror" "large --path large"; do
	set -- $cfg
	name=$1
	shift
	start_pair "$name" "$@" || continue
	# shellcheck disable=SC2046 # two PIDs
	for qd in $QDS; do measure "$name-$qd" "$pair_url" "$qd" $(ctl_pids); done
	stats a >"$tmp/$name.stats-a"
	stop_pair
done

# ---- 3: tgtd (left out where it cannot run) ----
if bench_start_tgtd 3100 "$IQN" rdwr; then
	for qd in $QDS; do measure "tgtd-$qd" "$bench_tgtd_url" "$qd" "$bench_tgtd_pid"; done
fi
bench_stop_tgtd

# microseconds of target CPU per host op
cpu_per_op() {
	local ops ticks
	[ -s "$tmp/$1.json" ] || { echo 0; return; }
	ops=$("$JQ" -r '.ops' "$tmp/$1.json")
	ticks=$(cat "$tmp/$1.ticks")
	awk -v o="$ops" -v t="$ticks" -v hz="$hz" 'BEGIN { if (o > 0) printf "%.1f", t / hz * 1e6 / o; else print 0 }'
}

echo
printf '%-22s %3s %10s %8s %8s %9s %7s %12s\n' target QD ops/s "p50 us" "p99 us" "max us" errors "CPU us/op"
for name in auto nomirror large tgtd; do
	for qd in $QDS; do
		f="$tmp/$name-$qd.json"
		[ -s "$f" ] || continue
		case $name in
		auto) who="pair (Fig. 7 auto)" ;;
		nomirror) who="pair --no-mirror" ;;
		large) who="pair --path large" ;;
		tgtd) who="tgtd rdwr /dev/shm" ;;
		esac
		"$JQ" -r --arg who "$who" --arg qd "$qd" --arg cpu "$(cpu_per_op "$name-$qd")" \
			'[$who, $qd, (.ops_per_sec|floor), .latency_us.p50, .latency_us.p99,
			  (.latency_us.max|floor), .errors.total, $cpu] | @tsv' "$f" |
			awk -F'\t' '{printf "%-22s %3s %10s %8s %8s %9s %7s %12s\n",
				$1, $2, $3, $4, $5, $6, $7, $8}'
	done
done
for name in auto large; do
	[ -s "$tmp/$name.stats-a" ] &&
		"$JQ" -r --arg n "$name" '"  mirror ops sent by A (\($n)): small \(.mirror_tx.small), large \(.mirror_tx.large); reasons \(.mirror_tx.reasons | to_entries | map(select(.value > 0) | "\(.key)=\(.value)") | join(" "))"' \
			"$tmp/$name.stats-a"
done

echo
for qd in $QDS; do
	bench_ratio "mirrored / --no-mirror, host ops/s, QD $qd" "$(bench_ops auto-"$qd")" "$(bench_ops nomirror-"$qd")" 0.7
done
bench_ratio "Fig. 7 auto / --path large, host ops/s, QD 1" "$(bench_ops auto-1)" "$(bench_ops large-1)" 1.3
for qd in $QDS; do
	bench_ratio "pair / tgtd, host ops/s, QD $qd" "$(bench_ops auto-"$qd")" "$(bench_ops tgtd-"$qd")"
done
for qd in $QDS; do
	bench_ratio "pair (A+B) / tgtd, target CPU per op, QD $qd" "$(cpu_per_op auto-"$qd")" "$(cpu_per_op tgtd-"$qd")"
done
bench_errors

# ---- 4: takeover ----
echo
echo "takeover: $kills kills of A (defaults: --heartbeat 100, --dead 1000), a burst of 200 writes before each"
# whole: both controllers in mode whole, LUN 0 owned by A in both views
whole() {
	local a b
	a=$(stats a | "$JQ" -r '[.mode, (.luns[] | select(.lun == 0) | .owner)] | join(" ")' 2>/dev/null)
	b=$(stats b | "$JQ" -r '[.mode, (.luns[] | select(.lun == 0) | .owner)] | join(" ")' 2>/dev/null)
	[ "$a" = "whole a" ] && [ "$b" = "whole a" ]
}
: >"$tmp/active_ms"
: >"$tmp/wall_ms"
: >"$tmp/replayed"
if start_pair takeover --destage-delay 1000; then
	for _ in $(seq 300); do whole && break; sleep 0.1; done
	for i in $(seq "$kills"); do
		n0=$(stats b | "$JQ" -r '.takeover.count')
		"$load" "$pair_url" --write10 --mix 4k --qd 8 --count 200 --seed "$i" --no-progress \
			>/dev/null 2>&1
		t0=$(bench_now_ms)
		"$pairbin" --dir "$shm/pair" kill a >"$tmp/kill.out" 2>&1 || { echo "kill a failed: $(cat "$tmp/kill.out")" >&2; break; }
		seen=
		for _ in $(seq 1500); do
			n1=$(stats b | "$JQ" -r '.takeover.count' 2>/dev/null)
			if [ -n "$n1" ] && [ "$n1" -gt "$n0" ]; then seen=$(bench_now_ms); break; fi
			sleep 0.02
		done
		[ -n "$seen" ] || { echo "kill $i: B reported no takeover within 30 s" >&2; break; }
		stats b | "$JQ" -r '.takeover.last.active_ms' >>"$tmp/active_ms"
		stats b | "$JQ" -r '.takeover.last.replayed_blocks' >>"$tmp/replayed"
		echo $((seen - t0)) >>"$tmp/wall_ms"
		"$pairbin" --dir "$shm/pair" restart a >"$tmp/kill.out" 2>&1 || { echo "restart a failed: $(cat "$tmp/kill.out")" >&2; break; }
		ok=
		for _ in $(seq 600); do whole && { ok=1; break; }; sleep 0.1; done
		[ -n "$ok" ] || { echo "kill $i: the pair was not whole again within 60 s" >&2; break; }
	done
	stop_pair
fi
echo "  B's takeover.last.active_ms (detection -> serving): $(bench_pct "$tmp/active_ms")"
echo "  kill -> B reports the takeover, wall ms:            $(bench_pct "$tmp/wall_ms")"
echo "  blocks replayed per takeover:                       $(bench_pct "$tmp/replayed")"
exit 0
