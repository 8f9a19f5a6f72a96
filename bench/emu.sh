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
# Prints a table and two ratios with their goals:
#   small / tgtd WRITE(10) ops/s at 4 KiB QD 32   (goal >= 2x)
#   small / large ops/s at 4 KiB QD 1              (goal >= 1.3x)
# and says whether each is met.  It only reports: its exit status is 0
# whatever the numbers (1 only if something could not run).  Every process
# is stopped by its PID (bench/lib.sh).  BENCH_SECONDS (default 3) per
# measurement; EMU_NEGOTIATION=modern (ImmediateData=Yes) for a comparison
# off the profile.
set -u
. "$(dirname "$0")/lib.sh"
bench_help "$@"
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/_build/default}
secs=${BENCH_SECONDS:-3}
TGT_BSTYPE=${TGT_BSTYPE:-rdwr}
EMU_NEGOTIATION=${EMU_NEGOTIATION:-patent}
IQN=iqn.2024-01.org.mirrortest:bench-tgtd

bench_build "$build" cmd/mirror-load cmd/mirror-emu
emu_bin=$build/cmd/mirror-emu
load=$build/cmd/mirror-load

bench_tmp
emu_pid=''
stop_emu() {
	[ -n "$emu_pid" ] || return 0
	kill -TERM "$emu_pid" 2>/dev/null
	wait "$emu_pid" 2>/dev/null
	emu_pid=
}
bench_at_exit stop_emu

# ---- mirror-emu ----
"$emu_bin" --listen 127.0.0.1:0 --port-file "$tmp/emu.port" \
	--negotiation "$EMU_NEGOTIATION" -q \
	2>"$tmp/emu.log" &
emu_pid=$!
for _ in $(seq 100); do [ -s "$tmp/emu.port" ] && break; sleep 0.05; done
[ -s "$tmp/emu.port" ] || { echo "mirror-emu did not start: $(cat "$tmp/emu.log")" >&2; exit 1; }
emu_url="iscsi://127.0.0.1:$(cat "$tmp/emu.port")/iqn.2026-11.org.mirrortest:emu/0"

# ---- tgtd (optional: the WRITE(10) rows are left out where it cannot run) ----
bench_start_tgtd 2100 "$IQN" "$TGT_BSTYPE"
tgt_url=$bench_tgtd_url

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
bench_stop_tgtd

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

echo
bench_ratio "small / tgtd WRITE(10), 4 KiB QD 32, ops/s" "$(bench_ops small-4K-32)" "$(bench_ops write10-4K-32)" 2
bench_ratio "small / large, 4 KiB QD 1, ops/s" "$(bench_ops small-4K-1)" "$(bench_ops large-4K-1)" 1.3
bench_errors
exit 0
