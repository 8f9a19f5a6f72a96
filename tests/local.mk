# tests: unit tests (Check, one program per file), the end-to-end scripts
# (loopback, tgtd, tshark, a QEMU guest), the fuzz targets' sources (built
# by scripts/fuzz.sh with clang) and the capture transformer.
AM_TESTS_ENVIRONMENT = \
	top_srcdir='$(top_srcdir)'; top_builddir='$(top_builddir)'; \
	JQ='$(JQ)'; export top_srcdir top_builddir JQ;

if HAVE_CHECK
check_LTLIBRARIES += tests/unit/libtestutil.la
tests_unit_libtestutil_la_SOURCES = tests/unit/testutil.c tests/unit/testutil.h
tests_unit_libtestutil_la_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)

UNIT_TESTS = \
	tests/unit/check_codec_small tests/unit/check_codec_notify tests/unit/check_metadata \
	tests/unit/check_sense tests/unit/check_path tests/unit/check_split \
	tests/unit/check_array_table tests/unit/check_nvram tests/unit/check_account \
	tests/unit/check_misc tests/unit/check_receiver tests/unit/check_sender \
	tests/unit/check_target tests/unit/check_inject tests/unit/check_nvram_file \
	tests/unit/check_transport_sgio tests/unit/check_capture tests/unit/check_dissect \
	tests/unit/check_histogram tests/unit/check_load tests/unit/check_top \
	tests/unit/check_conform tests/unit/check_emu_server tests/unit/check_url \
	tests/unit/check_raid5 tests/unit/check_journal tests/unit/check_state tests/unit/check_stats \
	tests/unit/check_failover tests/unit/check_cli tests/unit/check_chap_file
UNIT_TESTS += tests/unit/check_sbc tests/unit/check_top_pair tests/unit/check_pdu
UNIT_TESTS += tests/unit/check_transport_iscsi
UNIT_TESTS += tests/unit/check_emu_options
UNIT_TESTS += tests/unit/check_cut
UNIT_TESTS += tests/unit/check_truncated
UNIT_TESTS += tests/unit/check_capture_file
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)

# Every unit test: Check, the shared helpers, app/ and libmirror.
UNIT_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
UNIT_LDADD = tests/unit/libtestutil.la app/libapp.la lib/libmirror.la $(CHECK_LIBS) \
	$(JSONC_LIBS) $(PCAP_LIBS) $(ISAL_LIBS) $(NETTLE_LIBS)
tests_unit_check_codec_small_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_codec_small_LDADD = $(UNIT_LDADD)
tests_unit_check_codec_notify_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_codec_notify_LDADD = $(UNIT_LDADD)
tests_unit_check_metadata_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_metadata_LDADD = $(UNIT_LDADD)
tests_unit_check_sense_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_sense_LDADD = $(UNIT_LDADD)
tests_unit_check_path_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_path_LDADD = $(UNIT_LDADD)
tests_unit_check_split_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_split_LDADD = $(UNIT_LDADD)
tests_unit_check_array_table_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_array_table_LDADD = $(UNIT_LDADD)
tests_unit_check_nvram_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_nvram_LDADD = $(UNIT_LDADD)
tests_unit_check_account_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_account_LDADD = $(UNIT_LDADD)
tests_unit_check_misc_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_misc_LDADD = $(UNIT_LDADD)
tests_unit_check_receiver_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_receiver_LDADD = $(UNIT_LDADD)
tests_unit_check_sender_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_sender_LDADD = $(UNIT_LDADD)
tests_unit_check_target_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_target_LDADD = $(UNIT_LDADD)
tests_unit_check_inject_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_inject_LDADD = $(UNIT_LDADD)
tests_unit_check_nvram_file_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_nvram_file_LDADD = $(UNIT_LDADD)
tests_unit_check_transport_sgio_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_transport_sgio_LDADD = $(UNIT_LDADD)
tests_unit_check_capture_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_capture_LDADD = $(UNIT_LDADD)
tests_unit_check_dissect_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_dissect_LDADD = $(UNIT_LDADD)
tests_unit_check_histogram_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_histogram_LDADD = $(UNIT_LDADD)
tests_unit_check_load_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_load_LDADD = $(UNIT_LDADD)
tests_unit_check_url_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_url_LDADD = $(UNIT_LDADD)
tests_unit_check_top_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_top_LDADD = $(UNIT_LDADD)
tests_unit_check_stats_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_stats_LDADD = $(UNIT_LDADD)
tests_unit_check_top_pair_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_top_pair_LDADD = $(UNIT_LDADD)
tests_unit_check_cli_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_cli_LDADD = $(UNIT_LDADD)
tests_unit_check_emu_options_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_emu_options_LDADD = $(UNIT_LDADD)
tests_unit_check_cut_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_cut_LDADD = $(UNIT_LDADD)
tests_unit_check_truncated_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_truncated_LDADD = $(UNIT_LDADD)
tests_unit_check_capture_file_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_capture_file_LDADD = $(UNIT_LDADD)
tests_unit_check_chap_file_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_chap_file_LDADD = $(UNIT_LDADD)
tests_unit_check_raid5_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_raid5_LDADD = $(UNIT_LDADD)
tests_unit_check_journal_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_journal_LDADD = $(UNIT_LDADD)
tests_unit_check_state_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_state_LDADD = $(UNIT_LDADD)
tests_unit_check_failover_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_failover_LDADD = $(UNIT_LDADD)
tests_unit_check_sbc_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_sbc_LDADD = $(UNIT_LDADD)
tests_unit_check_pdu_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_pdu_LDADD = $(UNIT_LDADD)
tests_unit_check_conform_CPPFLAGS = $(AM_CPPFLAGS) -iquote $(top_srcdir)/conformance
tests_unit_check_conform_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_conform_LDFLAGS = -pthread
tests_unit_check_conform_LDADD = conformance/libconform.la $(UNIT_LDADD) $(ISCSI_LIBS)
# The socket loop against a stub engine (an ops table of its own).
tests_unit_check_emu_server_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_emu_server_LDFLAGS = -pthread
tests_unit_check_emu_server_LDADD = $(UNIT_LDADD)
# The iSCSI transport against the real target engine, served in a thread.
tests_unit_check_transport_iscsi_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_transport_iscsi_LDFLAGS = -pthread
tests_unit_check_transport_iscsi_LDADD = $(UNIT_LDADD) $(ISCSI_LIBS)
endif

# Rewrites reference traces (reordered, re-segmented, gaps, other link
# types, ...) for tests/transform.test.
check_PROGRAMS += tests/pcap_transform
tests_pcap_transform_LDADD = $(PCAP_LIBS)

# One session, a script of SCSI commands checked as they are answered
# (tests/pair.test: unit attentions and ALUA across a takeover).
check_PROGRAMS += tests/pair_probe
tests_pair_probe_LDADD = lib/libmirror.la

SCRIPT_TESTS = \
	tests/mirror-decode.test tests/mirror-emu.test tests/mirror-send.test \
	tests/concurrency.test tests/iscsi-test-cu.test \
	tests/dissect.test tests/transform.test tests/lua-dissector.test \
	tests/tshark-crosscheck.test \
	tests/conform-emu.test tests/conform-deviations.test tests/conform-tgtd.test \
	tests/sgio-qemu.test tests/mirror-load.test tests/pair.test \
	tests/conform-sender.test
SCRIPT_TESTS += tests/failover.test
SCRIPT_TESTS += tests/conform-noext.test
# the cut matrix against a pair controller's mirror port (issue 16)
SCRIPT_TESTS += tests/cut-pair.test
# garbage in every option of every command, and every reference trace cut
# at its packet boundaries (issue 16)
SCRIPT_TESTS += tests/hostile-options.test tests/truncated-traces.test
# --report FILE.html: tables and gnuplot plots, opened in headless Chromium
SCRIPT_TESTS += tests/report-dissect.test
SCRIPT_TESTS += tests/report-load.test
SCRIPT_TESTS += tests/report-failover.test
SCRIPT_TESTS += tests/cli-options.test
EXTRA_DIST += tests/report-lib.sh tests/png_colours.py
# security defaults: loopback binds, private sockets, CHAP on every port,
# bounded logins, no secret in logs, JSON or argument lists (issue 16)
SCRIPT_TESTS += tests/security.test
# the soak in small: errors, RSS, descriptors and idle CPU (bench/soak.sh)
SCRIPT_TESTS += tests/soak.test
EXTRA_DIST += tests/login_probe.py
if HAVE_NCURSESW
SCRIPT_TESTS += tests/mirror-top.test
SCRIPT_TESTS += tests/mirror-top-pair.test
endif
# a QEMU guest's kernel on the pair's LUN through QEMU's iSCSI driver
SCRIPT_TESTS += tests/pair-qemu.test
# iscsi-test-cu's SCSI family against a pair host LUN and tgtd; "pair
# passes as many tests as tgtd" is a TAP TODO until it does (the pair
# lacks persistent reservations, RESERVE/RELEASE(6), ORWRITE, GET LBA
# STATUS: README); an XPASS then says to make it an ordinary check.
SCRIPT_TESTS += tests/pair-iscsi-test-cu.test
dist_check_SCRIPTS += $(SCRIPT_TESTS)
TESTS += $(SCRIPT_TESTS)
# Every tests/*.test sources tests/lib.sh and speaks TAP: one result per
# check in test-suite.log.  A result is what the TAP lines say, not the
# exit status (a script that dies before its plan is an ERROR).
TEST_EXTENSIONS = .test
TEST_LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
TEST_LOG_DRIVER_FLAGS = --ignore-exit
EXTRA_DIST += tests/lib.sh
EXTRA_DIST += tests/mirror-top.test
EXTRA_DIST += tests/mirror-top-pair.test

EXTRA_DIST += tests/local.mk tests/check-install.sh \
	tests/fuzz/fuzz_small_cdb.c tests/fuzz/fuzz_notify_cdb.c tests/fuzz/fuzz_metadata.c \
	tests/fuzz/fuzz_table_update.c tests/fuzz/fuzz_readback.c tests/fuzz/fuzz_sense.c \
	tests/fuzz/fuzz_hex.c tests/fuzz/fuzz_iscsi_target.c tests/fuzz/fuzz_capture.c \
	tests/fuzz/fuzz_common.h tests/fuzz/fuzz_history.c
EXTRA_DIST += tests/fuzz/fuzz_sbc.c tests/fuzz/fuzz_url.c tests/fuzz/fuzz_chap_file.c \
	tests/fuzz/fuzz_stats.c tests/fuzz/fuzz_text_keys.c
# the seed corpora (minimised by bench/fuzz-long.sh --update-corpus) and the
# regression inputs of fixed findings, which scripts/fuzz.sh replays
EXTRA_DIST += tests/fuzz/corpus tests/fuzz/regress

# The cached SG_IO guest (tests/guest: the initramfs, a link to the
# kernel) and the logs a failed run keeps.
clean-local: tests-clean-local
tests-clean-local:
	-rm -rf tests/guest tests/sgio-qemu.logs
.PHONY: tests-clean-local

# tests/pair-qemu.test's guest and the logs a failed run keeps
clean-local: tests-pair-qemu-clean-local
tests-pair-qemu-clean-local:
	-rm -rf tests/guest-pair tests/pair-qemu.logs
.PHONY: tests-pair-qemu-clean-local

# make distcheck (test.sh) checks that the tarball builds and its unit tests
# and the shortest end-to-end scripts pass; the rest already ran twice
# (-Werror and the sanitizers) on the same sources.
DISTCHECK_TESTS = $(UNIT_TESTS) tests/mirror-decode.test tests/mirror-emu.test
print-distcheck-tests:
	@echo $(DISTCHECK_TESTS)
.PHONY: print-distcheck-tests
