# man: a page per command, and the protocol in the project's words.
dist_man_MANS += man/mirror-protocol.7 man/mirror-decode.1 man/mirror-send.1 man/mirror-emu.1 \
	man/mirror-dissect.1 man/mirror-conform.1 man/mirror-load.1 man/mirror-top.1 \
	man/mirror-ctl.1 man/mirror-pair.1
dist_man_MANS += man/mirror-failover.1
EXTRA_DIST += man/local.mk
