#!/bin/bash
# Records the reference captures in traces/ again: for each trace, mirror-emu
# on a free port of 127.0.0.1, tcpdump on the loopback interface filtered on
# that port, a scripted mirror-send workload, then the emulator's counters.
#
# Usage: traces/record.sh [BUILD-DIR]   (default _build/default; the commands
# are taken from BUILD-DIR/cmd).  Needs tcpdump and the right to capture on
# lo (root or CAP_NET_RAW).  Writes, for each trace NAME:
#   traces/NAME.pcap      the capture (pcap, link type Ethernet)
#   traces/NAME.port      the emulator's TCP port (mirror-dissect --port)
#   traces/NAME.emu.json  mirror-emu --query --json at the end: the truth the
#                         dissector's summary is checked against
# tcpdump runs with --immediate-mode: without it, packets still in the
# kernel's ring buffer block when SIGINT arrives are lost (short traces came
# out empty); -B 65536 (64 MiB of buffer) so that the 3 MiB write is not
# dropped by the kernel.  Every process started here is stopped by its PID.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-_build/default}
bin="$build/cmd"
TCPDUMP=${TCPDUMP:-tcpdump}
IQN=iqn.2026-11.org.mirrortest:emu

for c in mirror-emu mirror-send; do
	[ -x "$bin/$c" ] || { echo "record.sh: $bin/$c not built" >&2; exit 1; }
done
command -v "$TCPDUMP" >/dev/null || { echo "record.sh: tcpdump not found" >&2; exit 1; }

tmp=$(mktemp -d) || exit 1
emu_pid='' dump_pid=''
cleanup() {
	[ -n "$dump_pid" ] && { kill -INT "$dump_pid" 2>/dev/null; wait "$dump_pid" 2>/dev/null; }
	[ -n "$emu_pid" ] && { kill -TERM "$emu_pid" 2>/dev/null; wait "$emu_pid" 2>/dev/null; }
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
die() { echo "record.sh: $*" >&2; exit 1; }

# send ARGS...: one mirror-send session against the current emulator; any
# exit status but the one in $want (default 0) stops the recording.
want=0
send() {
	local rc
	timeout 60 "$bin/mirror-send" "$URL" "$@" >>"$tmp/send.log" 2>&1
	rc=$?
	[ "$rc" -eq "$want" ] || die "mirror-send $* exited $rc, want $want: $(tail -n 3 "$tmp/send.log")"
}

# record NAME WORKLOAD-FUNCTION [MIRROR-EMU ARGS...]
record() {
	local name=$1 workload=$2 port rc
	shift 2
	echo "record.sh: $name"
	rm -f "$tmp/port" "$tmp/stats" "$tmp/cap.pcap"
	"$bin/mirror-emu" --listen 127.0.0.1:0 --port-file "$tmp/port" \
		--stats-socket "$tmp/stats" -q "$@" 2>"$tmp/emu.log" &
	emu_pid=$!
	for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
	[ -s "$tmp/port" ] || die "mirror-emu did not start: $(cat "$tmp/emu.log")"
	port=$(cat "$tmp/port")
	URL="iscsi://127.0.0.1:$port/$IQN/0"

	"$TCPDUMP" -i lo --immediate-mode -B 65536 -w "$tmp/cap.pcap" -U "tcp port $port" 2>"$tmp/dump.log" &
	dump_pid=$!
	for _ in $(seq 100); do grep -q 'listening on' "$tmp/dump.log" && break; sleep 0.05; done
	grep -q 'listening on' "$tmp/dump.log" || die "tcpdump did not start: $(cat "$tmp/dump.log")"
	sleep 0.2

	want=0
	"$workload"

	# let the last FIN/ACKs reach the capture, then flush and stop it
	sleep 0.5
	kill -INT "$dump_pid"
	wait "$dump_pid"
	rc=$?
	dump_pid=
	[ "$rc" -eq 0 ] || die "tcpdump exited $rc: $(cat "$tmp/dump.log")"
	grep -q '^0 packets captured' "$tmp/dump.log" && die "tcpdump captured nothing"
	grep -q '^0 packets dropped by kernel' "$tmp/dump.log" ||
		die "tcpdump dropped packets: $(cat "$tmp/dump.log")"

	"$bin/mirror-emu" --query "$tmp/stats" --json >"$tmp/emu.json" ||
		die "mirror-emu --query failed"
	kill -TERM "$emu_pid"
	wait "$emu_pid"
	rc=$?
	emu_pid=
	[ "$rc" -eq 0 ] || die "mirror-emu exited $rc on SIGTERM: $(cat "$tmp/emu.log")"

	# copies, so that the files belong to whoever runs this, not to tcpdump
	cat "$tmp/cap.pcap" >"$here/$name.pcap"
	cat "$tmp/emu.json" >"$here/$name.emu.json"
	echo "$port" >"$here/$name.port"
	: >"$tmp/send.log"
}

# The array table goes first whenever the small path is used (volume 4 ->
# array serial 0011223344556677, number 1); it is an ARRAY TABLE UPDATE and
# a 4 KiB small write of its own.
TABLE=(--push-table --volume 4 --array-serial 0011223344556677 --array-number 1)

w_small() {
	send "${TABLE[@]}" --lba 10 --size 4K --nvram-addr 0x10000
	send --volume 4 --lba 20 --size 4K --nvram-addr 0x11000 --repeat 4
	send --volume 4 --lba 40 --size 4K --nvram-addr 0x12000 --path small
	send --volume 4 --lba 60 --size 4K --nvram-addr 0x13000 --pattern 0xa5
}

w_large() {
	send --array-serial 0011223344556677 --array-number 1 \
		--lba 100 --size 4K --nvram-addr 0x20000 --path large --repeat 3
	send --array-serial 0011223344556677 --array-number 1 \
		--lba 200 --size 64K --nvram-addr 0x30000 --repeat 2
}

w_mixed() {
	send "${TABLE[@]}" --lba 10 --size 4K --nvram-addr 0x10000
	send --volume 4 --lba 100 --size 32K --nvram-addr 0x20000
	send --volume 4 --lba 200 --size 48K --nvram-addr 0x40000
	send --volume 4 --lba 300 --size 4K --nvram-addr 0x60000 --path large
	send --volume 4 --lba 400 --size 4K --nvram-addr 0x61000 --recovery
	send --volume 4 --lba 500 --size 8K --nvram-addr 0x62000 --path small --repeat 3
	send --volume 4 --lba 600 --size 128K --nvram-addr 0x80000
}

w_split() {
	send "${TABLE[@]}" --lba 10 --size 4K --nvram-addr 0x10000
	send --volume 4 --lba 4096 --size 3M --nvram-addr 0x100000
}

w_maxburst() {
	send "${TABLE[@]}" --lba 10 --size 4K --nvram-addr 0x10000
	send --volume 4 --lba 100 --size 32K --nvram-addr 0x20000
	send --volume 4 --lba 200 --size 64K --nvram-addr 0x40000 --repeat 2
	send --volume 4 --lba 400 --size 20K --nvram-addr 0x60000 --path large
}

# The rule answers every small-path write (0xA0) with ILLEGAL REQUEST /
# INVALID FIELD IN PARAMETER LIST (mirror-send exit 19); the table goes on
# the large path, and a normal large write follows.
w_errors() {
	send "${TABLE[@]}" --lba 1 --size 512 --nvram-addr 0x1000 --path large
	want=19
	send --volume 4 --lba 50 --size 4K --nvram-addr 0x2000
	send --volume 4 --lba 60 --size 8K --nvram-addr 0x3000 --path small
	want=0
	send --volume 4 --lba 70 --size 4K --nvram-addr 0x4000 --path large
	send --volume 4 --lba 80 --size 64K --nvram-addr 0x10000
}

w_modern() {
	send "${TABLE[@]}" --lba 10 --size 4K --nvram-addr 0x10000
	send --volume 4 --lba 20 --size 4K --nvram-addr 0x11000 --repeat 2
	send --volume 4 --lba 100 --size 32K --nvram-addr 0x20000
	send --volume 4 --lba 200 --size 4K --nvram-addr 0x30000 --path large
	send --volume 4 --lba 300 --size 64K --nvram-addr 0x40000
}

w_digests() {
	send --header-digest "${TABLE[@]}" --lba 10 --size 4K --nvram-addr 0x10000
	send --header-digest --volume 4 --lba 20 --size 4K --nvram-addr 0x11000 --repeat 2
	send --header-digest --volume 4 --lba 100 --size 4K --nvram-addr 0x20000 --path large
	send --header-digest --volume 4 --lba 200 --size 64K --nvram-addr 0x30000
}

record small w_small
record large w_large
record mixed w_mixed
record split w_split
record maxburst w_maxburst --max-burst 8192
record errors w_errors --inject 'sense:05/26/00,opcode=0xa0'
record modern w_modern --negotiation modern
record digests w_digests
echo "record.sh: done"
ls -l "$here"/*.pcap
