#!/bin/bash
# Quick start, command 1: install what is missing, build, run the main job.
# Until the emulated controller lands, the main job decodes one operation
# of each path and shows what the receiver checks.
set -euo pipefail
top=$(cd "$(dirname "$0")" && pwd)
. "$top/scripts/setup.sh"
decode="$build/cmd/mirror-decode"

say() { printf '\n== %s\n$ %s\n' "$1" "$2"; }

say "small path: one 12-byte CDB carries the metadata (source Fig. 6)" \
	"mirror-decode a0 10 80 07 00 10 00 00 00 00 10 00"
"$decode" a0 10 80 07 00 10 00 00 00 00 10 00

say "large path: the notification CDB (Fig. 2 block 204) ..." "mirror-decode 3c 00 00 00 00 00 00 00 00 00"
"$decode" 3c 00 00 00 00 00 00 00 00 00

# ... and its 1024-byte metadata message (Fig. 3): 40 blocks in 3 elements.
md=$(mktemp)
trap 'rm -f "$md"' EXIT
{
	printf '0001 0400 0000002a 00001000 00000028 0123456789abcdef 00 03'
	printf ' 00%.0s' $(seq 26 511)
	printf ' 00010000 00002000  00014000 00002000  00018000 00001000'
	printf ' 00%.0s' $(seq 536 1023)
} >"$md"
say "... and its metadata message" "mirror-decode --metadata-hex FILE"
"$decode" --metadata-hex "$md"

say "a broken small CDB: block count 40 (> 32) in element 2, reported as a receiver would" \
	"mirror-decode a0 10 a8 07 00 10 00 14 00 00 10 00"
"$decode" a0 10 a8 07 00 10 00 14 00 00 10 00 || echo "(exit status $?: INVALID FIELD IN CDB, as sg3_utils numbers it)"
