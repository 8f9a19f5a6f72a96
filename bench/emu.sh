#!/bin/bash
# bench/emu.sh [BUILD_DIR]: the small path against its named peers, in one
# run on loopback.  Starts mirror-emu (patent negotiation: InitialR2T=Yes,
# ImmediateData=No, as the source's channel; --prefault: its NVRAM
# resident from the start, as a real NVRAM is; its default interrupt
# moderation, --coalesce-us 200), a second one with --coalesce-us 0 for the
# rows marked small-nc (every PDU may wake it), and a tgtd whose LUN is a
# 256 MiB file on /dev/shm, allocated in full before it starts (bstype
# rdwr: RAM, and the data really stored, as the emulator stores it;
# TGT_BSTYPE=null for tgt's discard store), each on a free 127.0.0.1 port,
# then measures with mirror-load (one size, --path small or large, or
# --write10), one session:
#   sizes 4K 32K 256K, QD 1 and 32: small and large against mirror-emu,
#   small-nc against the one without coalescing, WRITE(10) against tgtd.
# Every target is warmed up first (one discarded short run of each kind).
# Each row is the median of BENCH_REPS runs (default 5) of BENCH_SECONDS
# (default 2) with the spread (min-max), and the runs interleave: round r
# runs every row once, so drift on this shared machine hits all rows
# alike.  Every row prints, beside ops/s and latency, the target's CPU
# time per operation (utime + stime of all its threads, from
# /proc/PID/stat before and after the run, proc(5)) and the client's
# (mirror-load's, from the shell's getrusage of the child).
# Then the ratios, each with its goal and whether it is met:
#   target CPU per op, 4 KiB QD 32: small <= 8 us, tgtd / small >= 6x
#   (and the same for small-nc, reported beside them)
#   ops/s small / tgtd WRITE(10) at 4 KiB QD 32            (goal >= 2x)
#   ops/s small / large at every size and QD               (goal >= 1x)
#   ops/s small / large at 4 KiB QD 1                      (goal >= 1.3x)
# It only reports: its exit status is 0 whatever the numbers (1 only if
# something could not run).  Every process is stopped by its PID
# (bench/lib.sh).  BENCH_QUICK=1: one round of 1 s, 4 KiB QD 32 only (a
# smoke run).  BENCH_SIZES, BENCH_QDS override the lists;
# EMU_NEGOTIATION=modern (ImmediateData=Yes) for a comparison off the
# profile.
set -u
. "$(dirname "$0")/lib.sh"
bench_help "$@"
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/_build/default}
secs=${BENCH_SECONDS:-2}
reps=${BENCH_REPS:-5}
sizes=${BENCH_SIZES:-4K 32K 256K}
qds=${BENCH_QDS:-1 32}
if [ "${BENCH_QUICK:-0}" = 1 ]; then
	secs=1 reps=1 sizes=4K qds=32
fi
TGT_BSTYPE=${TGT_BSTYPE:-rdwr}
EMU_NEGOTIATION=${EMU_NEGOTIATION:-patent}
IQN=iqn.2026-11.org.mirrortest:bench-tgtd

bench_build "$build" cmd/mirror-load cmd/mirror-emu
emu_bin=$build/cmd/mirror-emu
load=$build/cmd/mirror-load

bench_tmp
emu_pid='' nc_pid=''
stop_emu() {
	local p
	for p in $emu_pid $nc_pid; do
		kill -TERM "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	emu_pid='' nc_pid=''
}
bench_at_exit stop_emu

# ---- mirror-emu, with its default coalescing and without ----
# start_emu NAME ARGS...: sets NAME_pid and NAME_url
start_emu() {
	local name=$1
	shift
	"$emu_bin" --listen 127.0.0.1:0 --port-file "$tmp/$name.port" \
		--negotiation "$EMU_NEGOTIATION" --prefault -q "$@" 2>"$tmp/$name.log" &
	printf -v "${name}_pid" '%s' $!
	for _ in $(seq 200); do [ -s "$tmp/$name.port" ] && break; sleep 0.05; done
	[ -s "$tmp/$name.port" ] || { echo "mirror-emu did not start: $(cat "$tmp/$name.log")" >&2; exit 1; }
	printf -v "${name}_url" '%s' \
		"iscsi://127.0.0.1:$(cat "$tmp/$name.port")/iqn.2026-11.org.mirrortest:emu/0"
}
start_emu emu
start_emu nc --coalesce-us 0

# ---- tgtd (optional: the WRITE(10) rows are left out where it cannot run) ----
bench_start_tgtd 2100 "$IQN" "$TGT_BSTYPE"
tgt_url=$bench_tgtd_url

ops_list="small small-nc large"
[ -n "$tgt_url" ] && ops_list="small small-nc large write10"
url_of() { case $1 in write10) echo "$tgt_url" ;; small-nc) echo "$nc_url" ;; *) echo "$emu_url" ;; esac; }
pid_of() { case $1 in write10) echo "$bench_tgtd_pid" ;; small-nc) echo "$nc_pid" ;; *) echo "$emu_pid" ;; esac; }

tgt_desc="not running"
[ -n "$tgt_url" ] && tgt_desc="bstype $TGT_BSTYPE, LUN on /dev/shm"
echo "measuring: $reps rounds x ${secs} s per row, interleaved; 1 session;" \
	"mirror-emu negotiation $EMU_NEGOTIATION, NVRAM prefaulted, --coalesce-us 200" \
	"(small-nc: 0); tgtd $tgt_desc"

# warm-up: one discarded second of each kind at 4 KiB QD 32 and at the
# largest size (connections, caches, tgtd's threads)
for op in $ops_list; do
	for size in 4K ${sizes##* }; do
		bench_load_run "$load" "$(url_of "$op")" "$op" "$size" 32 1 "$tmp/warm" "$(pid_of "$op")" ||
			true
	done
done

for r in $(seq "$reps"); do
	for size in $sizes; do
		for qd in $qds; do
			for op in $ops_list; do
				bench_load_run "$load" "$(url_of "$op")" "$op" "$size" "$qd" "$secs" \
					"$tmp/$op-$size-$qd" "$(pid_of "$op")" || true
			done
		done
	done
	echo "  round $r of $reps done"
done
stop_emu
bench_stop_tgtd

echo
echo "median of $reps runs [min-max]; CPU us per op: target (all threads) and client (mirror-load)"
bench_row_header
for size in $sizes; do
	for qd in $qds; do
		for op in $ops_list; do
			[ "$op" = write10 ] && who="tgtd/$TGT_BSTYPE" || who=mirror-emu
			bench_row "$who" "$op" "$size" "$qd" "$tmp/$op-$size-$qd"
		done
	done
done

echo
k4=$tmp/small-4K-32
t4=$tmp/write10-4K-32
bench_goal_max "target CPU per op, small, 4 KiB QD 32 (us)" "$(bench_med "$k4" tcpu)" 8
bench_ratio "target CPU per op, tgtd / small, 4 KiB QD 32" "$(bench_med "$t4" tcpu)" \
	"$(bench_med "$k4" tcpu)" 6
bench_ratio "ops/s small / tgtd WRITE(10), 4 KiB QD 32" "$(bench_med "$k4" ops)" \
	"$(bench_med "$t4" ops)" 2
n4=$tmp/small-nc-4K-32
bench_goal_max "target CPU per op, small-nc (no coalescing), 4 KiB QD 32 (us)" \
	"$(bench_med "$n4" tcpu)" 8
bench_ratio "target CPU per op, tgtd / small-nc, 4 KiB QD 32" "$(bench_med "$t4" tcpu)" \
	"$(bench_med "$n4" tcpu)" 6
bench_ratio "ops/s small-nc / tgtd WRITE(10), 4 KiB QD 32" "$(bench_med "$n4" ops)" \
	"$(bench_med "$t4" ops)" 2
for size in $sizes; do
	for qd in $qds; do
		bench_ratio "ops/s small / large, $size QD $qd" "$(bench_med "$tmp/small-$size-$qd" ops)" \
			"$(bench_med "$tmp/large-$size-$qd" ops)" 1
	done
done
case " $sizes " in *" 4K "*) case " $qds " in *" 1 "*)
	bench_ratio "ops/s small / large, 4 KiB QD 1" "$(bench_med "$tmp/small-4K-1" ops)" \
		"$(bench_med "$tmp/large-4K-1" ops)" 1.3 ;;
esac ;; esac
bench_goal_max "client CPU per op, small, 4 KiB QD 32 (us)" "$(bench_med "$k4" ccpu)" ""
bench_errors
exit 0
