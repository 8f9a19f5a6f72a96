# conformance: the cases (one area per file, each citing its figure/block),
# the runner and the reporters, as a convenience library for mirror-conform
# and its unit test.
noinst_LTLIBRARIES += conformance/libconform.la
conformance_libconform_la_SOURCES = \
	conformance/conform.h conformance/registry.c conformance/runner.c \
	conformance/filter.c conformance/report.c conformance/helpers.c \
	conformance/case_small.c conformance/case_large.c conformance/case_table.c \
	conformance/case_nvram.c conformance/case_errors.c conformance/case_sequence.c \
	conformance/case_concurrency.c conformance/case_transport.c conformance/iscsi_abort.c \
	conformance/sender.h conformance/sender_rx.c conformance/sender_cases.c \
	conformance/sender_main.c
conformance_libconform_la_CFLAGS = $(AM_CFLAGS) -pthread

EXTRA_DIST += conformance/local.mk conformance/README.md conformance/deviations.tsv \
	conformance/junit.xsd
