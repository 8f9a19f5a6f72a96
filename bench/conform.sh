#!/bin/bash
# The conformance suite's wall time against mirror-emu on loopback (issue
# 5: target under 10 s), with libiscsi's iscsi-test-cu as the named peer:
# its SCSI tests that apply to mirror-emu (tests/iscsi-test-cu.test, less
# the two CmdSN tests that wait 3 s each by design) against the same
# emulator.  Prints times and per-case ratios; asserts nothing (no test
# asserts a time).  Usage: bench/conform.sh [BUILD_DIR] [RUNS]
set -u
build=${1:-.}
runs=${2:-3}
bin="$build/cmd"
CU=${ISCSI_TEST_CU:-iscsi-test-cu}
PEER_TESTS=SCSI.Inquiry.Standard,SCSI.Inquiry.AllocLength,SCSI.Inquiry.EVPD,SCSI.Inquiry.MandatoryVPDSBC,SCSI.Inquiry.SupportedVPD,SCSI.Inquiry.VersionDescriptors,SCSI.ModeSense6.AllPages,SCSI.ModeSense6.Control-D_SENSE,SCSI.ModeSense6.Residuals,SCSI.ReadCapacity10.Simple,SCSI.ReadCapacity16.Simple,SCSI.ReadCapacity16.Alloclen,SCSI.ReadCapacity16.PI,SCSI.ReadCapacity16.Support,SCSI.TestUnitReady.Simple
PEER_N=15

[ -x "$bin/mirror-conform" ] && [ -x "$bin/mirror-emu" ] ||
	{ echo "build mirror-conform and mirror-emu first (make cmd/mirror-conform cmd/mirror-emu)"; exit 1; }
tmp=$(mktemp -d)
pid=
cleanup() {
	[ -n "$pid" ] && { kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
	rm -rf "$tmp"
}
trap cleanup EXIT

"$bin/mirror-emu" --listen 127.0.0.1:0 --port-file "$tmp/port" --stats-socket "$tmp/stats" -q \
	2>"$tmp/emu.log" &
pid=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
[ -s "$tmp/port" ] || { echo "mirror-emu did not start: $(cat "$tmp/emu.log")"; exit 1; }
url="iscsi://127.0.0.1:$(cat "$tmp/port")/iqn.2026-11.org.mirrortest:emu/0"

now() { date +%s.%N; }
# arithmetic on decimal seconds: awk, not bc (one package fewer)
calc() { awk "BEGIN { printf \"%.6f\", $1 }"; }
less() { awk "BEGIN { exit !($1 < $2) }"; }
best_conform= best_cu= cases=
for _ in $(seq "$runs"); do
	t0=$(now)
	"$bin/mirror-conform" --emu-stats "$tmp/stats" "$url" >"$tmp/out" 2>&1
	t1=$(now)
	cases=$(tail -n 1 "$tmp/out")
	t=$(calc "$t1 - $t0")
	if [ -z "$best_conform" ] || less "$t" "$best_conform"; then best_conform=$t; fi
	if command -v "$CU" >/dev/null 2>&1; then
		t0=$(now)
		timeout 60 "$CU" --test="$PEER_TESTS" "$url" >"$tmp/cu" 2>&1
		t1=$(now)
		t=$(calc "$t1 - $t0")
		if [ -z "$best_cu" ] || less "$t" "$best_cu"; then best_cu=$t; fi
	fi
done
n=$("$bin/mirror-conform" --list | wc -l)
printf 'mirror-conform: %d cases in %.3f s (best of %d; target < 10 s): %s\n' "$n" "$best_conform" "$runs" "$cases"
printf '  %.2f ms per case\n' "$(calc "$best_conform * 1000 / $n")"
if [ -n "$best_cu" ]; then
	printf 'iscsi-test-cu (peer): %d SCSI tests in %.3f s, %.2f ms per test\n' "$PEER_N" "$best_cu" \
		"$(calc "$best_cu * 1000 / $PEER_N")"
	printf 'per case, mirror-conform takes %.2fx the time of iscsi-test-cu per test\n' \
		"$(calc "($best_conform / $n) / ($best_cu / $PEER_N)")"
else
	echo "iscsi-test-cu (peer) not installed (Debian package libiscsi-bin): no ratio"
fi
