# bench/lib.sh: what the benchmarks share, sourced (not run) by bench/emu.sh
# and bench/pair.sh after `set -u`: the build check, one temporary
# directory and one EXIT trap that stops every process by its PID, free
# ports, tgtd as a peer, a process's CPU time, and the ratio and
# percentile printers.  Every function is bench_*; the variables it sets
# are named where they are set.

# bench_help "$@": -h or --help prints the calling script's opening
# comment (its usage) and exits 0.
bench_help() {
	case ${1:-} in
	-h | --help)
		awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"
		exit 0
		;;
	esac
}

# bench_build BUILD_DIR TARGET...: checks that BUILD_DIR is a configured
# build and that jq is there, and makes the TARGETs in it.  Sets JQ.
bench_build() {
	local build=$1
	shift
	JQ=${JQ:-jq}
	[ -f "$build/Makefile" ] || { echo "$build: no configured build directory (give it as \$1)" >&2; exit 1; }
	command -v "$JQ" >/dev/null || { echo "jq not found (Debian package jq)" >&2; exit 1; }
	echo "building $* in $build"
	make -C "$build" -s "$@" >/dev/null || exit 1
}

# bench_tmp: a fresh temporary directory in $tmp, removed at exit with
# everything bench_at_exit named stopped first (last named, first run).
bench_at_exit_cmds=()
bench_at_exit() { bench_at_exit_cmds=("$1" "${bench_at_exit_cmds[@]}"); }
bench_cleanup() {
	local c
	for c in "${bench_at_exit_cmds[@]}"; do $c; done
	rm -rf "$tmp"
}
bench_tmp() {
	tmp=$(mktemp -d) || exit 1
	trap bench_cleanup EXIT
	trap 'exit 1' INT TERM HUP
}

# bench_port_free PORT: nothing listens on 127.0.0.1:PORT
bench_port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# bench_cpu_ticks PID: the process's utime + stime so far, in clock ticks
# (proc(5): fields 14 and 15 of /proc/PID/stat); 0 once it is gone
bench_cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
bench_now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }

# ---- tgtd, the named peer ----
TGTD=${TGTD:-/usr/sbin/tgtd}
TGTADM=${TGTADM:-/usr/sbin/tgtadm}
bench_tgtd_pid='' bench_tgtd_ctl='' bench_tgtd_lun=''
bench_adm() { "$TGTADM" -C "$bench_tgtd_ctl" "$@"; }

# tgtd ignores SIGTERM: delete its LUN and target, ask it to exit, and
# SIGKILL it by PID if it is still there.
bench_stop_tgtd() {
	[ -n "$bench_tgtd_pid" ] || return 0
	if kill -0 "$bench_tgtd_pid" 2>/dev/null; then
		bench_adm --lld iscsi --mode logicalunit --op delete --tid 1 --lun 1 >/dev/null 2>&1
		bench_adm --lld iscsi --mode target --op delete --force --tid 1 >/dev/null 2>&1
		bench_adm --op delete --mode system >/dev/null 2>&1
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$bench_tgtd_pid" 2>/dev/null || break
			sleep 0.2
		done
		kill -0 "$bench_tgtd_pid" 2>/dev/null && kill -KILL "$bench_tgtd_pid" 2>/dev/null
	fi
	wait "$bench_tgtd_pid" 2>/dev/null
	rm -f "/var/run/tgtd/socket.$bench_tgtd_ctl" "/var/run/tgtd/socket.$bench_tgtd_ctl.lock"
	bench_tgtd_pid=
}
bench_drop_tgtd_lun() { [ -z "$bench_tgtd_lun" ] || rm -f "$bench_tgtd_lun"; }

# bench_start_tgtd CTL_BASE IQN BSTYPE: a tgtd on a free 127.0.0.1 port
# (control port CTL_BASE + PID % 1000 or the next free one) serving LUN 1
# of IQN, a 256 MiB sparse file on /dev/shm (RAM) with backing store
# BSTYPE.  0 and the URL in bench_tgtd_url, or 1 with the reason on
# stdout (the benchmark leaves tgtd's rows out).  Stopped at exit.
bench_start_tgtd() {
	local base=$1 iqn=$2 bstype=$3 port
	bench_tgtd_url=
	[ -x "$TGTD" ] && [ -x "$TGTADM" ] || { echo "tgtd/tgtadm not found (Debian package tgt)"; return 1; }
	bench_tgtd_ctl=$(($$ % 1000 + base))
	while [ -e "/var/run/tgtd/socket.$bench_tgtd_ctl" ]; do bench_tgtd_ctl=$((bench_tgtd_ctl + 1)); done
	bench_at_exit bench_stop_tgtd
	for _ in 1 2 3 4 5 6 7 8; do
		port=$((20000 + (RANDOM % 20000)))
		bench_port_free "$port" || continue
		"$TGTD" -f -C "$bench_tgtd_ctl" --iscsi portal="127.0.0.1:$port" >"$tmp/tgtd.log" 2>&1 &
		bench_tgtd_pid=$!
		for _ in $(seq 50); do
			kill -0 "$bench_tgtd_pid" 2>/dev/null || break
			if bench_adm --op show --mode target >/dev/null 2>&1 && ! bench_port_free "$port"; then
				bench_tgtd_lun_new "$iqn" "$bstype" "$port"
				return
			fi
			grep -q "failed to create/bind to portal" "$tmp/tgtd.log" && break
			sleep 0.1
		done
		bench_stop_tgtd
	done
	echo "tgtd does not start here: $(tail -3 "$tmp/tgtd.log" | tr '\n' ' ')"
	return 1
}
bench_tgtd_lun_new() {
	local iqn=$1 bstype=$2 port=$3
	bench_tgtd_lun=/dev/shm/mirror-bench-$$.img
	bench_at_exit bench_drop_tgtd_lun
	# allocated in full (tmpfs pages now, not at the first write to each),
	# as mirror-emu --prefault makes its NVRAM resident
	if { fallocate -l 256M "$bench_tgtd_lun" 2>/dev/null || truncate -s 256M "$bench_tgtd_lun"; } &&
		{ bench_adm --lld iscsi --mode target --op new --tid 1 --targetname "$iqn" &&
		  bench_adm --lld iscsi --mode logicalunit --op new --tid 1 --lun 1 --bstype "$bstype" \
			-b "$bench_tgtd_lun" &&
		  bench_adm --lld iscsi --mode target --op bind --tid 1 -I ALL; } >"$tmp/adm.log" 2>&1; then
		bench_tgtd_url="iscsi://127.0.0.1:$port/$iqn/1"
		return 0
	fi
	echo "tgtadm cannot configure tgtd: $(tr '\n' ' ' <"$tmp/adm.log")"
	bench_stop_tgtd
	return 1
}

# ---- results ----
# bench_ops NAME: ops/s of mirror-load's JSON in $tmp/NAME.json (0 if none)
bench_ops() { [ -s "$tmp/$1.json" ] && "$JQ" -r '.ops_per_sec' "$tmp/$1.json" || echo 0; }

# bench_ratio WHAT A B [GOAL]: prints A/B and, given a goal, whether it
# is met ("not measured" when either is 0)
bench_ratio() {
	local what=$1 a=$2 b=$3 goal=${4:-}
	awk -v w="$what" -v a="$a" -v b="$b" -v t="$goal" 'BEGIN {
		if (a <= 0 || b <= 0) { printf "%-52s not measured\n", w; exit }
		r = a / b
		if (t == "") printf "%-52s %6.2fx\n", w, r
		else if (r >= t) printf "%-52s %6.2fx  (goal >= %sx): MET\n", w, r, t
		else printf "%-52s %6.2fx  (goal >= %sx): NOT met, %.0f%% short\n", w, r, t,
			(1 - r / t) * 100
	}'
}

# bench_errors: the commands that failed in every $tmp/*.json, noted
bench_errors() {
	local errs
	errs=$(cat "$tmp"/*.json 2>/dev/null | "$JQ" -s '[.[].errors.total] | add // 0')
	[ "$errs" = 0 ] || echo "note: $errs commands failed during the measurements (see the errors column)"
}

# bench_pct FILE: the median, p99 and max of FILE's numbers (one a line)
# by nearest rank, and how many
bench_pct() {
	sort -n "$1" | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "none"; exit }
		i50 = int(NR * 0.50 + 0.999999); i99 = int(NR * 0.99 + 0.999999)
		printf "p50 %s  p99 %s  max %s  (n=%d)\n", v[i50], v[i99], v[NR], NR }'
}

# ---- repeated runs (bench/emu.sh) ----
# bench_load_run LOAD URL OP SIZE QD SECS PREFIX PID: one mirror-load run
# (OP small or large: --path OP; write10: --write10) against the target
# process PID; appends one line to PREFIX.rows:
#   ops/s  p50 us  p99 us  target CPU us/op  client CPU us/op  errors
# The target's CPU is utime + stime of all its threads from /proc/PID/stat
# before and after (proc(5)), the client's the shell's getrusage of the
# child (bash `time`, ms).  Its JSON is kept as PREFIX.N.json (for
# bench_errors).  1 with the reason on stderr when the run failed.
bench_hz=$(getconf CLK_TCK 2>/dev/null || echo 100)
bench_load_run() {
	local load=$1 url=$2 op=$3 size=$4 qd=$5 secs=$6 prefix=$7 pid=$8 how n c0 c1 ut
	local TIMEFORMAT='%3U %3S'
	case $op in
	write10) how=--write10 ;;
	small-*) how="--path small" ;; # small-nc: the same writes, another target
	*) how="--path $op" ;;
	esac
	n=$(($(cat "$prefix.rows" 2>/dev/null | wc -l) + 1))
	c0=$(bench_cpu_ticks "$pid")
	# shellcheck disable=SC2086 # $how is two words on purpose
	{ time "$load" "$url" $how --mix "$size" --qd "$qd" --seconds "$secs" --json \
		--no-progress >"$prefix.$n.json" 2>"$prefix.err"; } 2>"$prefix.time"
	local rc=$?
	c1=$(bench_cpu_ticks "$pid")
	if [ $rc -ne 0 ] || ! [ -s "$prefix.$n.json" ]; then
		echo "mirror-load $op $size QD$qd failed: $(head -3 "$prefix.err")" >&2
		rm -f "$prefix.$n.json"
		return 1
	fi
	ut=$(tail -1 "$prefix.time")
	"$JQ" -r '[.ops, .ops_per_sec, .latency_us.p50, .latency_us.p99, .errors.total] | @tsv' \
		"$prefix.$n.json" |
		awk -v c0="$c0" -v c1="$c1" -v hz="$bench_hz" -v ut="$ut" '{
			if ($1 <= 0) exit
			split(ut, t, " ")
			printf "%.1f %s %s %.2f %.2f %d\n", $2, $3, $4, (c1 - c0) / hz * 1e6 / $1,
				(t[1] + t[2]) * 1e6 / $1, $5 }' >>"$prefix.rows"
}

# bench_med PREFIX FIELD: the median of FIELD (ops p50 p99 tcpu ccpu) over
# PREFIX.rows (0 when none); bench_spread: "min-max" of it.
bench_field() {
	case $1 in ops) echo 1 ;; p50) echo 2 ;; p99) echo 3 ;; tcpu) echo 4 ;; ccpu) echo 5 ;; esac
}
bench_med() {
	[ -s "$1.rows" ] || { echo 0; return; }
	awk -v f="$(bench_field "$2")" '{ print $f }' "$1.rows" | sort -g |
		awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
bench_spread() {
	[ -s "$1.rows" ] || { echo -; return; }
	awk -v f="$(bench_field "$2")" '{ print $f }' "$1.rows" | sort -g |
		awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%s-%s", lo, hi }'
}

# bench_row_header, bench_row WHO OP SIZE QD PREFIX: one table row of the
# medians, with the spread of ops/s and of the target's CPU per op
bench_row_header() {
	printf '%-10s %-8s %4s %3s %9s %-15s %7s %7s %8s %-13s %7s %4s %3s
' target op size QD 		ops/s "[min-max]" "p50 us" "p99 us" "tgt us" "[min-max]" "cli us" runs err
}
bench_row() {
	local prefix=$5
	[ -s "$prefix.rows" ] || return 0
	local ops tcpu
	ops=$(bench_spread "$prefix" ops | awk -F- '{ printf "%.0f-%.0f", $1, $2 }')
	tcpu=$(bench_spread "$prefix" tcpu)
	printf '%-10s %-8s %4s %3s %9.0f %-15s %7s %7s %8.2f %-13s %7.2f %4s %3s
' "$1" "$2" "$3" 		"$4" "$(bench_med "$prefix" ops)" "[$ops]" "$(bench_med "$prefix" p50)" 		"$(bench_med "$prefix" p99)" "$(bench_med "$prefix" tcpu)" "[$tcpu]" 		"$(bench_med "$prefix" ccpu)" "$(wc -l <"$prefix.rows")" 		"$(awk '{ e += $6 } END { print e + 0 }' "$prefix.rows")"
}

# bench_goal_max WHAT VALUE [GOAL]: prints VALUE and, given a goal it
# must not exceed, whether it is met and by how much it is over
bench_goal_max() {
	awk -v w="$1" -v v="$2" -v t="${3:-}" 'BEGIN {
		if (v <= 0) { printf "%-52s not measured\n", w; exit }
		if (t == "") printf "%-52s %7.2f\n", w, v
		else if (v <= t) printf "%-52s %7.2f  (goal <= %s): MET\n", w, v, t
		else printf "%-52s %7.2f  (goal <= %s): NOT met, %.2fx the goal\n", w, v, t, v / t
	}'
}
