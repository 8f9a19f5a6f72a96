# traces: reference captures recorded on loopback from mirror-send/mirror-emu
# sessions (traces/record.sh, traces/README.md), each with the emulator's
# own counters beside it (tests/dissect.test compares them).
EXTRA_DIST += traces/local.mk traces/record.sh traces/README.md \
	traces/small.pcap traces/small.port traces/small.emu.json \
	traces/large.pcap traces/large.port traces/large.emu.json \
	traces/mixed.pcap traces/mixed.port traces/mixed.emu.json \
	traces/split.pcap traces/split.port traces/split.emu.json \
	traces/maxburst.pcap traces/maxburst.port traces/maxburst.emu.json \
	traces/errors.pcap traces/errors.port traces/errors.emu.json \
	traces/modern.pcap traces/modern.port traces/modern.emu.json \
	traces/digests.pcap traces/digests.port traces/digests.emu.json
