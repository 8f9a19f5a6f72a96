#!/bin/bash
# bench/dissect.sh [BUILD_DIR]: mirror-dissect against tshark and the bare
# libpcap read loop on one capture of >= 1 GiB.
#
# The capture is made with the project's own tools: mirror-emu on a free
# port of 127.0.0.1, tcpdump on lo filtered on that port, and mirror-load
# sending large-path writes of 1 MiB (QD 8) in batches until the file holds
# DISSECT_BENCH_BYTES (default 1 GiB).  It goes to /dev/shm when that has
# room (so every read is from memory), else to BUILD_DIR; it is deleted at
# the end.  Then, one after the other, each timed with /usr/bin/time -v
# (wall time from the clock, peak RSS from time; the first two
# DISSECT_BENCH_REPEAT times in turn, default 3, the fastest kept):
#   bench/pcap_loop FILE                       the libpcap read loop alone
#   mirror-dissect -r FILE --port P --json     the whole decode, one core
#   tshark -r FILE -d tcp.port==P,iscsi -q -z scsi,srt,0   (if installed)
# and prints MB/s (10^6 bytes of file per second), peak RSS, the ratios, and
# the issue's targets (>= 0.9x the libpcap loop, >= 1.4 GB/s, >= 10x
# tshark, RSS <= 32 MiB), each plainly met or not met.  It only reports: the exit status is 0 whatever
# the numbers (1 only when something could not run).  Every process it
# starts is stopped by its PID.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/_build/default}
want=${DISSECT_BENCH_BYTES:-1073741824}
TCPDUMP=${TCPDUMP:-tcpdump}
TSHARK=${TSHARK:-tshark}
TIME=${TIME_CMD:-/usr/bin/time}

die() { echo "dissect.sh: $*" >&2; exit 1; }

[ -f "$build/Makefile" ] || die "$build: no configured build directory (give it as \$1)"
command -v "$TCPDUMP" >/dev/null || die "tcpdump not found (Debian package tcpdump)"
[ -x "$TIME" ] || die "$TIME not found (Debian package time)"
echo "building mirror-emu, mirror-dissect, mirror-load and bench/pcap_loop in $build"
make -C "$build" -s cmd/mirror-emu cmd/mirror-dissect cmd/mirror-load bench/pcap_loop >/dev/null ||
	die "build failed"
build=$(cd "$build" && pwd)
# the binary itself, not libtool's wrapper script: starting bash for the
# wrapper costs about 40 ms, a fifth of the loop's time on 1 GiB
dissect=$build/cmd/mirror-dissect
if [ -x "$build/cmd/.libs/mirror-dissect" ] && ! head -c 2 "$build/cmd/.libs/mirror-dissect" | grep -q '#!'; then
	dissect=$build/cmd/.libs/mirror-dissect
	export LD_LIBRARY_PATH="$build/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi

# /dev/shm when it has the file plus a quarter to spare, else the build dir
dir=$build
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	avail_kb=$(df -Pk /dev/shm | awk 'NR == 2 { print $4 }')
	[ "$((${avail_kb:-0} * 1024))" -gt $((want + want / 4)) ] && dir=/dev/shm
fi
tmp=$(mktemp -d "$dir/dissect-bench.XXXXXX") || die "cannot create a directory in $dir"
cap=$tmp/bench.pcap
emu_pid='' dump_pid='' load_pid=''

cleanup() {
	[ -n "$load_pid" ] && { kill -TERM "$load_pid" 2>/dev/null; wait "$load_pid" 2>/dev/null; }
	[ -n "$dump_pid" ] && { kill -INT "$dump_pid" 2>/dev/null; wait "$dump_pid" 2>/dev/null; }
	[ -n "$emu_pid" ] && { kill -TERM "$emu_pid" 2>/dev/null; wait "$emu_pid" 2>/dev/null; }
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

size_of() { stat -c %s "$1" 2>/dev/null || echo 0; }

# ---- the capture
"$build/cmd/mirror-emu" --listen 127.0.0.1:0 --port-file "$tmp/port" -q 2>"$tmp/emu.log" &
emu_pid=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
[ -s "$tmp/port" ] || die "mirror-emu did not start: $(cat "$tmp/emu.log")"
port=$(cat "$tmp/port")
url="iscsi://127.0.0.1:$port/iqn.2026-11.org.mirrortest:emu/0"

# -B: 1 GiB of kernel buffer (taken only as needed), so that loopback at
# full speed is not dropped
"$TCPDUMP" -i lo -B 1048576 -s 0 -w "$cap" "tcp port $port" 2>"$tmp/dump.log" &
dump_pid=$!
for _ in $(seq 100); do grep -q 'listening on' "$tmp/dump.log" && break; sleep 0.05; done
grep -q 'listening on' "$tmp/dump.log" || die "tcpdump did not start: $(cat "$tmp/dump.log")"

echo "recording $((want >> 20)) MiB of large-path writes (1 MiB, QD 8) on 127.0.0.1:$port into $dir"
t0=$(date +%s.%N)
batches=0
while [ "$(size_of "$cap")" -lt "$want" ] && [ "$batches" -lt 200 ]; do
	# what is missing, in 1 MiB operations (plus 2% for the headers), at
	# least 16 per batch
	left=$(((want - $(size_of "$cap")) / 1048576 + 16))
	"$build/cmd/mirror-load" "$url" --path large --mix 1m --qd 8 --count "$left" \
		--no-progress >"$tmp/load.log" 2>&1 &
	load_pid=$!
	wait "$load_pid" || die "mirror-load failed: $(tail -n 3 "$tmp/load.log")"
	load_pid=
	batches=$((batches + 1))
	sleep 0.2 # let tcpdump write out what it holds
done
sleep 0.5
kill -INT "$dump_pid"
wait "$dump_pid"
dump_pid=
kill -TERM "$emu_pid"
wait "$emu_pid"
emu_pid=
t1=$(date +%s.%N)
bytes=$(size_of "$cap")
[ "$bytes" -ge "$want" ] || die "the capture holds only $bytes bytes after $batches batches"
dropped=$(sed -n 's/^\([0-9]*\) packets dropped by kernel.*/\1/p' "$tmp/dump.log")
printf 'capture: %d bytes (%.0f MiB) in %d batch(es), %.1f s, %s packets dropped by the kernel\n' \
	"$bytes" "$(echo "$bytes / 1048576" | bc -l)" "$batches" "$(echo "$t1 - $t0" | bc -l)" "${dropped:-?}"

# one read to have the file in the page cache (it is already when in /dev/shm)
cat "$cap" >/dev/null

# timed NAME CMD...: runs CMD under time -v, output in $tmp/NAME.out; sets
# secs and rss_kb
timed() {
	local name=$1 s e rc
	shift
	s=$(date +%s.%N)
	"$TIME" -v -o "$tmp/$name.time" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
	rc=$?
	e=$(date +%s.%N)
	secs=$(echo "$e - $s" | bc -l)
	rss_kb=$(sed -n 's/.*Maximum resident set size (kbytes): *//p' "$tmp/$name.time")
	return $rc
}

mbps() { echo "$bytes / $1 / 1000000" | bc -l; }

declare -A SECS RSS
row() {
	printf '%-16s %8.2f s %9.0f MB/s %9.1f MiB peak RSS\n' "$1" "$2" "$(mbps "$2")" \
		"$(echo "$3 / 1024" | bc -l)"
}

echo
printf '%-16s %10s %14s %18s\n' tool time throughput memory
# the loop and the decoder in turn, DISSECT_BENCH_REPEAT times (default 3):
# the fastest time of each and the largest peak RSS, so that a moment of
# load from elsewhere on a shared machine does not decide the ratio
SECS[pcap]='' SECS[dissect]='' RSS[pcap]=0 RSS[dissect]=0
keep() { # NAME: the run just timed into SECS/RSS
	if [ -z "${SECS[$1]}" ] || [ "$(echo "$secs < ${SECS[$1]}" | bc -l)" = 1 ]; then
		SECS[$1]=$secs
	fi
	[ "${rss_kb:-0}" -gt "${RSS[$1]}" ] && RSS[$1]=$rss_kb
	return 0
}
for _ in $(seq "${DISSECT_BENCH_REPEAT:-3}"); do
	timed pcap_loop "$build/bench/pcap_loop" "$cap" ||
		die "bench/pcap_loop failed: $(cat "$tmp/pcap_loop.err")"
	keep pcap
	timed dissect "$dissect" -r "$cap" --port "$port" --json
	rc=$?
	[ "$rc" -eq 0 ] || die "mirror-dissect exited $rc: $(head -n 3 "$tmp/dissect.err")"
	keep dissect
done
row "libpcap loop" "${SECS[pcap]}" "${RSS[pcap]}"
row "mirror-dissect" "${SECS[dissect]}" "${RSS[dissect]}"
ops=$(sed -n 's/^  "ops": *\([0-9]*\).*/\1/p' "$tmp/dissect.out" | head -n 1)

have_tshark=0
if command -v "$TSHARK" >/dev/null; then
	if timed tshark "$TSHARK" -r "$cap" -d "tcp.port==$port,iscsi" -q -z scsi,srt,0; then
		have_tshark=1
		SECS[tshark]=$secs RSS[tshark]=$rss_kb
		row tshark "$secs" "$rss_kb"
	else
		echo "tshark failed: $(head -n 3 "$tmp/tshark.err")"
	fi
else
	echo "tshark: not installed, skipped (Debian package tshark)"
fi

echo
echo "mirror-dissect decoded ${ops:-?} operations"
if [ "$have_tshark" = 1 ]; then
	# the SRT table's rows: procedure index, name, calls, ...
	echo "tshark scsi,srt rows:"
	grep -E '^ *[0-9]+ +[A-Za-z]' "$tmp/tshark.out" | head -n 5 | sed 's/^/  /'
fi

# ---- ratios and targets
d_mbps=$(mbps "${SECS[dissect]}")
p_mbps=$(mbps "${SECS[pcap]}")
d_rss_mib=$(echo "${RSS[dissect]} / 1024" | bc -l)
verdict() { if [ "$1" = 1 ]; then echo met; else echo "NOT met"; fi; }
echo
loop_ratio=$(echo "$d_mbps / $p_mbps" | bc -l)
printf 'target >= 0.9x the libpcap loop:  %.2fx       %s  (%.0f of %.0f MB/s)\n' "$loop_ratio" \
	"$(verdict "$(echo "$loop_ratio >= 0.9" | bc -l)")" "$d_mbps" "$p_mbps"
printf 'target >= 1.4 GB/s on one core:   %.2f GB/s   %s\n' "$(echo "$d_mbps / 1000" | bc -l)" \
	"$(verdict "$(echo "$d_mbps >= 1400" | bc -l)")"
if [ "$have_tshark" = 1 ]; then
	ratio=$(echo "${SECS[tshark]} / ${SECS[dissect]}" | bc -l)
	printf 'target >= 10x tshark:             %.1fx        %s  (tshark %.0f MB/s, %.0f MiB RSS)\n' \
		"$ratio" "$(verdict "$(echo "$ratio >= 10" | bc -l)")" "$(mbps "${SECS[tshark]}")" \
		"$(echo "${RSS[tshark]} / 1024" | bc -l)"
else
	echo "target >= 10x tshark:             not measured (tshark not installed)"
fi
printf 'target peak RSS <= 32 MiB:        %.1f MiB     %s\n' "$d_rss_mib" \
	"$(verdict "$(echo "${RSS[dissect]} <= 32768" | bc -l)")"
exit 0
