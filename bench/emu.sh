#!/bin/bash
# bench/emu.sh [BUILD_DIR]: the small path against its named peers, in one
# run on loopback.  Starts mirror-emu (patent negotiation: InitialR2T=Yes,
# ImmediateData=No, as the source's channel) and a tgtd whose LUN is a
# 256 MiB sparse file on /dev/shm (bstype rdwr: RAM, and the data really
# stored, as the emulator stores it; TGT_BSTYPE=null for tgt's discard
# store), each on a free 127.0.0.1 port, then measures with mirror-load
# (one size, --path small or large, or --write10):
#   4 KiB and 32 KiB, QD 1 and QD 32, one session:
#   small and large against mirror-emu, WRITE(10) against tgtd.
# Prints a table and two ratios with their targets:
#   small / tgtd WRITE(10) ops/s at 4 KiB QD 32   (target >= 2x)
#   small / large ops/s at 4 KiB QD 1              (target >= 1.3x)
# and says whether each is met.  It only reports: its exit status is 0
# whatever the numbers (1 only if something could not run).  Every process
# is stopped by its PID.  BENCH_SECONDS (default 3) per measurement;
# EMU_NEGOTIATION=modern (ImmediateData=Yes) for a comparison off the profile.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/_build/default}
secs=${BENCH_SECONDS:-3}
JQ=${JQ:-jq}
TGTD=${TGTD:-/usr/sbin/tgtd}
TGTADM=${TGTADM:-/usr/sbin/tgtadm}
TGT_BSTYPE=${TGT_BSTYPE:-rdwr}
EMU_NEGOTIATION=${EMU_NEGOTIATION:-patent}
IQN=iqn.2024-01.org.mirrortest:bench-tgtd

[ -f "$build/Makefile" ] || { echo "$build: no configured build directory (give it as \$1)" >&2; exit 1; }
command -v "$JQ" >/dev/null || { echo "jq not found (Debian package jq)" >&2; exit 1; }
echo "building mirror-load and mirror-emu in $build"
make -C "$build" -s cmd/mirror-load cmd/mirror-emu >/dev/null || exit 1
emu_bin=$build/cmd/mirror-emu
load=$build/cmd/mirror-load

tmp=$(mktemp -d) || exit 1
emu_pid='' tgtd_pid='' ctl='' lun=''

adm() { "$TGTADM" -C "$ctl" "$@"; }

# tgtd ignores SIGTERM: delete its LUN and target, ask it to exit, and
# SIGKILL it by PID if it is still there.
stop_tgtd() {
	[ -n "$tgtd_pid" ] || return 0
	if kill -0 "$tgtd_pid" 2>/dev/null; then
		adm --lld iscsi --mode logicalunit --op delete --tid 1 --lun 1 >/dev/null 2>&1
		adm --lld iscsi --mode target --op delete --force --tid 1 >/dev/null 2>&1
		adm --op delete --mode system >/dev/null 2>&1
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$tgtd_pid" 2>/dev/null || break
			sleep 0.2
		done
		kill -0 "$tgtd_pid" 2>/dev/null && kill -KILL "$tgtd_pid" 2>/dev/null
	fi
	wait "$tgtd_pid" 2>/dev/null
	rm -f "/var/run/tgtd/socket.$ctl" "/var/run/tgtd/socket.$ctl.lock"
	tgtd_pid=
}
stop_emu() {
	[ -n "$emu_pid" ] || return 0
	kill -TERM "$emu_pid" 2>/dev/null
	wait "$emu_pid" 2>/dev/null
	emu_pid=
}
cleanup() {
	stop_emu
	stop_tgtd
	[ -n "$lun" ] && rm -f "$lun"
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ---- mirror-emu ----
"$emu_bin" --listen 127.0.0.1:0 --port-file "$tmp/emu.port" \
	--negotiation "$EMU_NEGOTIATION" -q \
	2>"$tmp/emu.log" &
emu_pid=$!
for _ in $(seq 100); do [ -s "$tmp/emu.port" ] && break; sleep 0.05; done
[ -s "$tmp/emu.port" ] || { echo "mirror-emu did not start: $(cat "$tmp/emu.log")" >&2; exit 1; }
emu_url="iscsi://127.0.0.1:$(cat "$tmp/emu.port")/iqn.2026-11.org.mirrortest:emu/0"

# ---- tgtd (optional: the WRITE(10) rows are left out where it cannot run) ----
start_tgtd() {
	[ -x "$TGTD" ] && [ -x "$TGTADM" ] || { echo "tgtd/tgtadm not found (Debian package tgt)"; return 1; }
	ctl=$(($$ % 1000 + 2100))
	while [ -e "/var/run/tgtd/socket.$ctl" ]; do ctl=$((ctl + 1)); done
	local port
	for _ in 1 2 3 4 5 6 7 8; do
		port=$((20000 + (RANDOM % 20000)))
		port_free "$port" || continue
		"$TGTD" -f -C "$ctl" --iscsi portal="127.0.0.1:$port" >"$tmp/tgtd.log" 2>&1 &
		tgtd_pid=$!
		for _ in $(seq 50); do
			kill -0 "$tgtd_pid" 2>/dev/null || break
			if adm --op show --mode target >/dev/null 2>&1 && ! port_free "$port"; then
				tgt_port=$port
				return 0
			fi
			grep -q "failed to create/bind to portal" "$tmp/tgtd.log" && break
			sleep 0.1
		done
		stop_tgtd
	done
	echo "tgtd does not start here: $(tail -3 "$tmp/tgtd.log" | tr '\n' ' ')"
	return 1
}
tgt_url=
if start_tgtd; then
	lun=/dev/shm/mirror-bench-$$.img
	truncate -s 256M "$lun" &&
	{ adm --lld iscsi --mode target --op new --tid 1 --targetname "$IQN" &&
	  adm --lld iscsi --mode logicalunit --op new --tid 1 --lun 1 --bstype "$TGT_BSTYPE" -b "$lun" &&
	  adm --lld iscsi --mode target --op bind --tid 1 -I ALL; } >"$tmp/adm.log" 2>&1 &&
		tgt_url="iscsi://127.0.0.1:$tgt_port/$IQN/1" ||
		echo "tgtadm cannot configure tgtd: $(tr '\n' ' ' <"$tmp/adm.log")"
fi

# ---- measurements ----
# measure NAME URL OP SIZE QD: one mirror-load run, its JSON in $tmp/NAME.json
measure() {
	local name=$1 url=$2 op=$3 size=$4 qd=$5 how
	case $op in
	write10) how=--write10 ;;
	*) how="--path $op" ;;
	esac
	# shellcheck disable=SC2086 # $how is two words on purpose
	if ! "$load" "$url" $how --mix "$size" --qd "$qd" --seconds "$secs" --json \
		--no-progress >"$tmp/$name.json" 2>"$tmp/$name.err"; then
		echo "mirror-load $op $size QD$qd failed: $(cat "$tmp/$name.err")" >&2
		rm -f "$tmp/$name.json"
	fi
}
tgt_desc="not running"
[ -n "$tgt_url" ] && tgt_desc="bstype $TGT_BSTYPE, LUN on /dev/shm"
echo "measuring: ${secs} s each, 1 session; mirror-emu negotiation $EMU_NEGOTIATION; tgtd $tgt_desc"
for size in 4K 32K; do
	for qd in 1 32; do
		measure "small-$size-$qd" "$emu_url" small "$size" "$qd"
		measure "large-$size-$qd" "$emu_url" large "$size" "$qd"
		[ -n "$tgt_url" ] && measure "write10-$size-$qd" "$tgt_url" write10 "$size" "$qd"
	done
done
stop_emu
stop_tgtd

ops_of() { [ -s "$tmp/$1.json" ] && "$JQ" -r '.ops_per_sec' "$tmp/$1.json" || echo 0; }

echo
printf '%-10s %-8s %5s %3s %10s %9s %8s %8s %8s %9s %7s\n' target op size QD ops/s MB/s \
	"p50 us" "p99 us" "p99.9" "max us" errors
for size in 4K 32K; do
	for qd in 1 32; do
		for op in small large write10; do
			f="$tmp/$op-$size-$qd.json"
			[ -s "$f" ] || continue
			[ "$op" = write10 ] && who="tgtd/$TGT_BSTYPE" || who=mirror-emu
			"$JQ" -r --arg who "$who" --arg sz "$size" --arg op "$op" --arg qd "$qd" \
				'[$who, $op, $sz, $qd, (.ops_per_sec|floor), (.mb_per_sec*10|floor/10),
				  .latency_us.p50, .latency_us.p99, .latency_us.p99_9,
				  (.latency_us.max|floor), .errors.total] | @tsv' "$f" |
				awk -F'\t' '{printf "%-10s %-8s %5s %3s %10s %9.1f %8s %8s %8s %9s %7s\n",
					$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11}'
		done
	done
done

# ratio NAME A B TARGET: prints A/B and whether it reaches TARGET
ratio() {
	local what=$1 a=$2 b=$3 target=$4
	awk -v w="$what" -v a="$a" -v b="$b" -v t="$target" 'BEGIN {
		if (a <= 0 || b <= 0) { printf "%-46s not measured\n", w; exit }
		r = a / b
		printf "%-46s %6.2fx  (target >= %sx): %s\n", w, r, t, (r >= t ? "MET" : "NOT met")
	}'
}
echo
ratio "small / tgtd WRITE(10), 4 KiB QD 32, ops/s" "$(ops_of small-4K-32)" "$(ops_of write10-4K-32)" 2
ratio "small / large, 4 KiB QD 1, ops/s" "$(ops_of small-4K-1)" "$(ops_of large-4K-1)" 1.3
errs=$(cat "$tmp"/*.json 2>/dev/null | "$JQ" -s '[.[].errors.total] | add // 0')
[ "$errs" = 0 ] || echo "note: $errs commands failed during the measurements (see the errors column)"
exit 0
