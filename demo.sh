#!/bin/bash
# Quick start, command 1: install what is missing, build, run the main job:
# an emulated controller (mirror-emu) on loopback, a mixed mirror workload
# from mirror-send, the per-path interrupt and byte table from the
# emulator's counters, then the emulator is stopped.
set -euo pipefail
top=$(cd "$(dirname "$0")" && pwd)
. "$top/scripts/setup.sh"
bin="$build/cmd"
work=$(mktemp -d)
emu_pid=
stop_emu() {
	if [ -n "$emu_pid" ] && kill -0 "$emu_pid" 2>/dev/null; then
		kill -TERM "$emu_pid"
		wait "$emu_pid" || true
	fi
	rm -rf "$work"
}
trap stop_emu EXIT

# Port 0: the emulator picks a free port (3260 may be taken) and says which.
"$bin/mirror-emu" --listen 127.0.0.1:0 --port-file "$work/port" \
	--stats-socket "$work/stats" -q &
emu_pid=$!
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || { echo "demo: mirror-emu did not start" >&2; exit 1; }
url="iscsi://127.0.0.1:$(cat "$work/port")/iqn.2026-11.org.mirrortest:emu/0"
echo "== mirror-emu (pid $emu_pid) listening: $url"

send() { "$bin/mirror-send" "$url" "$@" >/dev/null; }
echo "== workload: 41 small-path and 26 large-path operations (a 3 MiB write split in three)"
send --push-table --volume 1 --array-serial 0123456789abcdef --array-number 2 \
	--lba 0 --size 4096 --nvram-addr 0x100000 --verify
for i in $(seq 0 9); do
	# 4 KiB and 16 KiB writes: one S/G element, Fig. 7 sends them small
	send --volume 1 --lba $((1000 + i * 64)) --size 4K --nvram-addr $((0x200000 + i * 0x10000)) --repeat 3
	send --volume 1 --lba $((5000 + i * 64)) --size 16K --nvram-addr $((0x800000 + i * 0x10000))
	# 64 KiB: four elements, more than the small CDB carries: large
	send --volume 1 --array-serial 0123456789abcdef --array-number 2 \
		--lba $((9000 + i * 256)) --size 64K --nvram-addr $((0x1000000 + i * 0x20000)) --repeat 2
done
# the same 4 KiB writes forced onto the large path, for the comparison
send --volume 1 --array-serial 0123456789abcdef --array-number 2 --path large \
	--lba 20000 --size 4K --nvram-addr 0x2000000 --repeat 3
send --volume 1 --array-serial 0123456789abcdef --array-number 2 \
	--lba 30000 --size 3M --nvram-addr 0x3000000 --verify
echo "== receiver cost per path (mirror-emu --query)"
"$bin/mirror-emu" --query "$work/stats"
