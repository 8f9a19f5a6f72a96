#!/bin/bash
# bench/soak.sh [OPTIONS] [BUILD_DIR]: the targets under hours-long load in
# small: does anything grow, leak or keep working after the clients leave?
#
# Two phases, one after the other, on free loopback ports:
#   emu   mirror-emu --prefault (its NVRAM resident from the start, as a
#         real NVRAM is, so page faults of first writes are not mistaken
#         for growth) under mirror-load with 64 sessions x QD 32 of
#         512:40,4k:45,16k:15 on the path Fig. 7 chooses (2048 writes in
#         flight must fit the sender's NVRAM region, 64 MiB);
#   pair  mirror-pair (two controllers, RAID-5 on /dev/shm when it has
#         room) under host WRITE(10)s of mirror-load's default mix without
#         its 2 MiB writes (beyond the pair's maximum transfer length),
#         512:40,4k:40,32k:15,256k:5, LUN 0 through controller A and LUN 1
#         through B, 16 sessions x QD 16 each.
# Every INTERVAL it samples the target processes (mirror-emu, or both
# controllers): RSS (VmRSS, and RssAnon: heap, stacks, anonymous maps,
# where a leak shows; the pair's NVRAM and disks are file maps whose pages
# count in VmRSS once touched, up to their fixed size), open descriptors
# (/proc/PID/fd), CPU (utime + stime of all threads) and the target's ops
# and errors from its stats socket, and prints one row of the trend.  After the clients leave it
# waits for the descriptors to come back and for the pair's destage backlog
# to drain, then measures the idle CPU over IDLE seconds.  Goals, each
# printed as "goal NAME: met" or "goal NAME: not met (why)":
#   errors   0 (the clients' errors and exit status, the target's error
#            counters, every target process still running)
#   rss      after warm-up (the first third of the samples) RssAnon is
#            flat: its least-squares trend over the rest of the load moves
#            it by less than 5% of its mean (a trend, not the peaks: what is
#            in flight comes and goes with the mix, up to 10% in a 10-minute
#            run of the pair; a leak is what grows steadily)
#   fds      the descriptors back to the baseline taken before the load
#   idle     idle CPU under 1% of one core, each target process (a pair
#            is two controllers, two machines in the field)
# Options:
#   -m, --minutes M      each phase's load, minutes (default 10)
#   -s, --seconds S      each phase's load, seconds (instead of --minutes)
#   -i, --interval S     seconds between samples (default 5; 1 under 60 s)
#       --idle S         seconds of idle CPU measured (default 5)
#       --only emu|pair  one phase
#       --mix SPEC       both phases' mix (mirror-load -m) instead of theirs
#       --lun-size SIZE  the pair's two LUNs (default 64M; the controllers'
#                        per-block state grows until every block was written)
#       --check          exit 1 when a goal is not met (tests/soak.test)
#       --no-build       do not run make (the programs are built)
# Without --check it only reports: exit 0 whatever the numbers (1 when
# something could not run).  Every process is stopped by its PID.
set -u
. "$(dirname "$0")/lib.sh"
bench_help "$@"
top=$(cd "$(dirname "$0")/.." && pwd)

secs=600 interval='' idle=5 only='' check=0 build_it=1 build='' mix='' lun_size=64M
usage_error() { echo "soak.sh: $*" >&2; echo "Try 'bench/soak.sh --help'." >&2; exit 1; }
is_uint() { [[ $1 =~ ^[0-9]+$ ]] && [ "$1" -gt 0 ]; }
while [ $# -gt 0 ]; do
	case $1 in
	-m | --minutes) is_uint "${2:-}" || usage_error "bad --minutes '${2:-}' (a positive whole number)"
		secs=$(($2 * 60)); shift 2 ;;
	-s | --seconds) is_uint "${2:-}" || usage_error "bad --seconds '${2:-}' (a positive whole number)"
		secs=$2; shift 2 ;;
	-i | --interval) is_uint "${2:-}" || usage_error "bad --interval '${2:-}' (a positive whole number)"
		interval=$2; shift 2 ;;
	--idle) is_uint "${2:-}" || usage_error "bad --idle '${2:-}' (a positive whole number)"
		idle=$2; shift 2 ;;
	--only) case ${2:-} in emu | pair) only=$2 ;; *) usage_error "bad --only '${2:-}' (emu or pair)" ;; esac
		shift 2 ;;
	--mix) [ -n "${2:-}" ] || usage_error "--mix needs a mirror-load mix (e.g. 4k:1)"
		mix=$2; shift 2 ;;
	--lun-size) [[ ${2:-} =~ ^[0-9]+[KMG]?$ ]] || usage_error "bad --lun-size '${2:-}' (e.g. 16M)"
		lun_size=$2; shift 2 ;;
	--check) check=1; shift ;;
	--no-build) build_it=0; shift ;;
	-*) usage_error "unknown option '$1'" ;;
	*) [ -z "$build" ] || usage_error "one BUILD_DIR, not '$build' and '$1'"
		build=$1; shift ;;
	esac
done
build=${build:-$top/_build/default}
[ -n "$interval" ] || { [ "$secs" -lt 60 ] && interval=1 || interval=5; }
[ "$interval" -le "$secs" ] || usage_error "--interval $interval is longer than the load ($secs s)"

if [ "$build_it" = 1 ]; then
	bench_build "$build" cmd/mirror-emu cmd/mirror-load cmd/mirror-pair cmd/mirror-ctl bench/stats_get
else
	JQ=${JQ:-jq}
	command -v "$JQ" >/dev/null || { echo "jq not found (Debian package jq)" >&2; exit 1; }
fi
build=$(cd "$build" && pwd)
emubin=$build/cmd/mirror-emu load=$build/cmd/mirror-load
pairbin=$build/cmd/mirror-pair stats_get=$build/bench/stats_get
for p in "$emubin" "$load" "$pairbin" "$stats_get"; do
	[ -x "$p" ] || { echo "soak.sh: $p is not built" >&2; exit 1; }
done
hz=$(getconf CLK_TCK)
bench_tmp
work=$tmp
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	work=$(mktemp -d /dev/shm/mirror-soak.XXXXXX) || exit 1
	drop_work() { rm -rf "$work"; }
	bench_at_exit drop_work
fi

EMU_MIX=${mix:-512:40,4k:45,16k:15} PAIR_MIX=${mix:-512:40,4k:40,32k:15,256k:5}
unmet=0
goal() { # NAME MET(0|1) WHY
	if [ "$2" = 1 ]; then
		echo "goal $1: met ($3)"
	else
		echo "goal $1: not met ($3)"
		unmet=$((unmet + 1))
	fi
}

# ---- the sampler: every process of $targets ----
targets=()
rss_kb() { awk '/^VmRSS:/ { print $2; exit }' "/proc/$1/status" 2>/dev/null || echo 0; }
anon_kb() { awk '/^RssAnon:/ { print $2; exit }' "/proc/$1/status" 2>/dev/null || echo 0; }
fd_count() { local n; n=$(ls "/proc/$1/fd" 2>/dev/null | wc -l); echo "$n"; }
sum_of() { # FUNCTION: its value summed over $targets
	local p s=0
	for p in "${targets[@]}"; do s=$((s + $($1 "$p"))); done
	echo "$s"
}
all_alive() {
	local p
	for p in "${targets[@]}"; do kill -0 "$p" 2>/dev/null || return 1; done
}
# target_counts: counts_ops and counts_errs from the targets' stats
# sockets ($stats_socks).  A query that gets no answer (a socket busy under
# 64 sessions may miss its deadline) keeps that socket's last answer and is
# counted in $unanswered, reported with the phase.
stats_socks=()
declare -A last_ops=() last_errs=()
unanswered=0 queries=0
target_counts() {
	local s line
	counts_ops=0 counts_errs=0
	for s in "${stats_socks[@]}"; do
		queries=$((queries + 1))
		line=$("$stats_get" "$s" 2>/dev/null | "$JQ" -r "$counts_filter" 2>/dev/null)
		if [[ $line =~ ^[0-9]+\ [0-9]+$ ]]; then
			last_ops[$s]=${line% *} last_errs[$s]=${line#* }
		else
			unanswered=$((unanswered + 1))
		fi
		counts_ops=$((counts_ops + ${last_ops[$s]:-0}))
		counts_errs=$((counts_errs + ${last_errs[$s]:-0}))
	done
}

# soak PHASE CLIENT_PID...: samples until the clients are gone, prints the
# trend and leaves the samples in $tmp/PHASE.samples (t anon fds cpu% ops errs rss)
soak() {
	local phase=$1 start c0 c1 ops0=0 ops rate t0 t1 rss anon fds pct
	shift
	last_ops=() last_errs=() unanswered=0 queries=0
	: >"$tmp/$phase.samples"
	printf '%6s %10s %10s %6s %7s %10s %8s\n' t_s rss_MiB anon_MiB fds cpu_% ops/s errors
	c0=$(sum_of bench_cpu_ticks)
	start=$(bench_now_ms)
	t0=$start
	while :; do
		sleep "$interval"
		# CPU, ops and the time between two samples, each read once
		c1=$(sum_of bench_cpu_ticks)
		target_counts
		t1=$(bench_now_ms)
		ops=$counts_ops
		rate=$(((ops - ops0) * 1000 / (t1 > t0 ? t1 - t0 : 1)))
		pct=$(awk -v d=$((c1 - c0)) -v hz="$hz" -v ms=$((t1 - t0)) 'BEGIN { printf "%.1f", 100 * d / hz / (ms > 0 ? ms / 1000 : 1) }')
		ops0=$ops c0=$c1 t0=$t1
		rss=$(sum_of rss_kb) anon=$(sum_of anon_kb) fds=$(sum_of fd_count)
		echo "$(((t1 - start) / 1000)) $anon $fds $pct $ops $counts_errs $rss" >>"$tmp/$phase.samples"
		printf '%6d %10.1f %10.1f %6d %7s %10d %8d\n' $(((t1 - start) / 1000)) \
			"$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" "$(awk -v k="$anon" 'BEGIN { print k / 1024 }')" \
			"$fds" "$pct" "$rate" "$counts_errs"
		local p alive=0
		for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
		# a sample after the clients left is not one under load
		[ "$alive" = 1 ] || { sed -i '$d' "$tmp/$phase.samples"; break; }
		all_alive || break
	done
}

# judge PHASE FD_BASELINE CLIENT_ERRORS: the four goals of one phase
judge() {
	local phase=$1 fd0=$2 cerr=$3 f=$tmp/$1.samples n warm terr fds pct i why met mean lo hi
	n=$(wc -l <"$f")
	echo "stats queries: $queries, unanswered $unanswered (the last answer stood in)"
	terr=$(awk 'END { print $6 + 0 }' "$f")
	why="client errors $cerr, target errors $terr"
	if ! all_alive; then
		goal "$phase errors" 0 "$why; a target process died"
	else
		goal "$phase errors" "$([ "$cerr" = 0 ] && [ "$terr" = 0 ] && echo 1 || echo 0)" "$why"
	fi
	# warm-up: the first third of the samples (at least one)
	warm=$(((n + 2) / 3))
	if [ "$n" -lt 2 ]; then
		goal "$phase rss" 0 "$n sample(s): too short a load to tell"
	else
		# "MET PCT MEAN_MiB MIN MAX": the trend of samples warm+1..n
		local trend
		trend=$(awk -v w="$warm" 'NR > w {
				k++; x = $1; y = $2; sx += x; sy += y; sxx += x * x; sxy += x * y
				if (k == 1) { x0 = x; lo = y; hi = y }
				x1 = x; if (y < lo) lo = y; if (y > hi) hi = y }
			END {
				if (k < 2 || x1 == x0) { print 0, 0, 0, 0, 0; exit }
				slope = (k * sxy - sx * sy) / (k * sxx - sx * sx)
				mean = sy / k; pct = 100 * slope * (x1 - x0) / mean
				printf "%d %+.1f %.1f %.1f %.1f\n", (pct < 5) ? 1 : 0, pct, mean / 1024, lo / 1024, hi / 1024 }' "$f")
		read -r met pct mean lo hi <<<"$trend"
		goal "$phase rss" "$met" "RssAnon after warm-up (samples $((warm + 1))-$n): mean $mean MiB, $lo-$hi MiB, trend $pct% over the load, goal under 5%"
	fi
	# the clients are gone: descriptors back (they may take a moment)
	for i in $(seq 100); do
		fds=$(sum_of fd_count)
		[ "$fds" -le "$fd0" ] && break
		sleep 0.1
	done
	goal "$phase fds" "$([ "$fds" -le "$fd0" ] && echo 1 || echo 0)" \
		"$fds open after the clients left, $fd0 before the load"
	local c0=() p each='' worst=0
	for p in "${targets[@]}"; do c0+=("$(bench_cpu_ticks "$p")"); done
	sleep "$idle"
	for i in "${!targets[@]}"; do
		pct=$(awk -v d=$(($(bench_cpu_ticks "${targets[$i]}") - ${c0[$i]})) -v hz="$hz" -v s="$idle" \
			'BEGIN { printf "%.2f", 100 * d / hz / s }')
		each="$each${each:+, }PID ${targets[$i]} $pct%"
		worst=$(awk -v a="$worst" -v b="$pct" 'BEGIN { print (b > a) ? b : a }')
	done
	goal "$phase idle" "$(awk -v p="$worst" 'BEGIN { print (p < 1) ? 1 : 0 }')" \
		"$each of one core over $idle s idle, goal under 1% each"
}

client_errors() { # JSON files...: errors.total summed, or "bad" for an unreadable one
	local j s=0 e
	for j in "$@"; do
		e=$("$JQ" -r '.errors.total' "$j" 2>/dev/null) || { echo bad; return; }
		[[ $e =~ ^[0-9]+$ ]] || { echo bad; return; }
		s=$((s + e))
	done
	echo "$s"
}

# ---- phase 1: mirror-emu ----
emu_pid=''
stop_emu() {
	[ -n "$emu_pid" ] || return 0
	kill -TERM "$emu_pid" 2>/dev/null
	wait "$emu_pid" 2>/dev/null
	emu_pid=''
}
bench_at_exit stop_emu
phase_emu() {
	local dir=$tmp/emu fd0 lp rc cerr
	mkdir -p "$dir"
	"$emubin" --listen 127.0.0.1:0 --port-file "$dir/port" --stats-socket "$dir/stats" \
		--prefault -q 2>"$dir/log" &
	emu_pid=$!
	for _ in $(seq 300); do [ -s "$dir/port" ] && break; sleep 0.1; done
	[ -s "$dir/port" ] || { echo "mirror-emu did not start: $(cat "$dir/log")" >&2; exit 1; }
	targets=("$emu_pid") stats_socks=("$dir/stats")
	counts_filter='[.kinds[] | .ops] as $o | [.kinds[] | .errors] as $e |
		"\($o | add) \(($e | add) + .rejects + .digest_errors)"'
	fd0=$(sum_of fd_count)
	echo "== emu: mirror-emu (PID $emu_pid, --prefault), 64 sessions x QD 32, $secs s; baseline $fd0 descriptors"
	"$load" "iscsi://127.0.0.1:$(cat "$dir/port")/$(emu_iqn)/0" -C 64 -Q 32 -t "$secs" -m "$EMU_MIX" \
		--json --no-progress >"$dir/load.json" 2>"$dir/load.err" &
	lp=$!
	soak emu "$lp"
	wait "$lp"
	rc=$?
	cerr=$(client_errors "$dir/load.json")
	[ "$cerr" != bad ] || cerr="unreadable JSON: $(head -c 200 "$dir/load.err")"
	[ "$rc" = 0 ] || cerr="$cerr (mirror-load exit $rc: $(head -c 200 "$dir/load.err"))"
	echo "mirror-load: $("$JQ" -r '"\(.ops) ops, \(.ops_per_sec | floor) ops/s"' "$dir/load.json" 2>/dev/null)"
	judge emu "$fd0" "$cerr"
	stop_emu
}
emu_iqn() { echo "iqn.2026-11.org.mirrortest:emu"; }

# ---- phase 2: the pair ----
pair_pid=''
stop_pair() { # mirror-pair stops both controllers (by PID) on SIGTERM
	[ -n "$pair_pid" ] || return 0
	kill -TERM "$pair_pid" 2>/dev/null
	for _ in $(seq 100); do kill -0 "$pair_pid" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$pair_pid" 2>/dev/null && kill -KILL "$pair_pid" 2>/dev/null
	wait "$pair_pid" 2>/dev/null
	pair_pid=''
}
bench_at_exit stop_pair
phase_pair() {
	local dir=$work/pair st fd0 la lb rca rcb cerr u0 u1 i backlog
	rm -rf "$dir"
	"$pairbin" --dir "$dir" --luns 2 --lun-size "$lun_size" -q >"$tmp/pair.log" 2>&1 &
	pair_pid=$!
	st=$dir/state.json
	for _ in $(seq 300); do [ -s "$st" ] && break; kill -0 "$pair_pid" 2>/dev/null || break; sleep 0.1; done
	[ -s "$st" ] || { echo "mirror-pair did not start: $(tail -3 "$tmp/pair.log")" >&2; exit 1; }
	mapfile -t targets < <("$JQ" -r '.controllers.a.pid, .controllers.b.pid' "$st")
	mapfile -t stats_socks < <("$JQ" -r '.controllers.a.stats_socket, .controllers.b.stats_socket' "$st")
	counts_filter='"\(.host.writes + .host.reads) \(.host.errors + .mirror_tx.errors + .destage.errors +
		([.mirror_rx.kinds[] | .errors] | add))"'
	u0=$("$JQ" -r '.controllers.a.host[] | select(.lun == 0) | .url' "$st")
	u1=$("$JQ" -r '.controllers.b.host[] | select(.lun == 1) | .url' "$st")
	fd0=$(sum_of fd_count)
	echo "== pair: controllers A (PID ${targets[0]}) and B (PID ${targets[1]}), host WRITE(10) 16 sessions x QD 16 on each LUN, $secs s; baseline $fd0 descriptors"
	"$load" "$u0" --write10 -C 16 -Q 16 -t "$secs" -m "$PAIR_MIX" --json --no-progress >"$tmp/la.json" 2>"$tmp/la.err" &
	la=$!
	"$load" "$u1" --write10 -C 16 -Q 16 -t "$secs" -m "$PAIR_MIX" --json --no-progress >"$tmp/lb.json" 2>"$tmp/lb.err" &
	lb=$!
	soak pair "$la" "$lb"
	wait "$la"; rca=$?
	wait "$lb"; rcb=$?
	cerr=$(client_errors "$tmp/la.json" "$tmp/lb.json")
	[ "$cerr" != bad ] || cerr="unreadable JSON: $(head -c 200 "$tmp/la.err" "$tmp/lb.err")"
	[ "$rca" = 0 ] || cerr="$cerr (mirror-load on A exit $rca: $(head -c 200 "$tmp/la.err"))"
	[ "$rcb" = 0 ] || cerr="$cerr (mirror-load on B exit $rcb: $(head -c 200 "$tmp/lb.err"))"
	echo "mirror-load: A $("$JQ" -r '"\(.ops) ops, \(.ops_per_sec | floor) ops/s"' "$tmp/la.json" 2>/dev/null)," \
		"B $("$JQ" -r '"\(.ops) ops, \(.ops_per_sec | floor) ops/s"' "$tmp/lb.json" 2>/dev/null)"
	# the writes are acknowledged from NVRAM; idle means destaged too
	for i in $(seq 600); do
		backlog=0
		for s in "${stats_socks[@]}"; do
			backlog=$((backlog + $("$stats_get" "$s" 2>/dev/null | "$JQ" -r '.destage.backlog_entries' 2>/dev/null || echo 0)))
		done
		[ "$backlog" = 0 ] && break
		sleep 0.1
	done
	echo "destage backlog after the load: $backlog entries (waited $((i / 10)) s)"
	judge pair "$fd0" "$cerr"
	stop_pair
}

[ "$only" = pair ] || phase_emu
[ "$only" = emu ] || phase_pair
echo "soak: $unmet goal(s) not met"
[ "$check" = 0 ] || [ "$unmet" = 0 ]
