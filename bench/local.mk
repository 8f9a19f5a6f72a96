# bench: benchmarks that print ratios against a named peer in the same run
# (never timed assertions).  Built on demand (EXTRA_PROGRAMS), not installed.
EXTRA_PROGRAMS += bench/codec bench/pcap_loop
# the stats reader of the bench scripts, and of tests/soak.test
check_PROGRAMS += bench/stats_get
bench_codec_LDADD = lib/libmirror.la
bench_pcap_loop_LDADD = $(PCAP_LIBS)
bench_stats_get_LDADD = app/libapp.la lib/libmirror.la $(JSONC_LIBS)

bench: bench/codec$(EXEEXT)
	$(top_builddir)/bench/codec
bench-emu: cmd/mirror-load$(EXEEXT) cmd/mirror-emu$(EXEEXT)
	$(SHELL) $(top_srcdir)/bench/emu.sh $(abs_top_builddir)
bench-top: cmd/mirror-top$(EXEEXT) cmd/mirror-load$(EXEEXT) cmd/mirror-emu$(EXEEXT)
	$(SHELL) $(top_srcdir)/bench/top.sh $(abs_top_builddir)
bench-conform: cmd/mirror-conform$(EXEEXT) cmd/mirror-emu$(EXEEXT)
	$(SHELL) $(top_srcdir)/bench/conform.sh $(top_builddir)
bench-pair: cmd/mirror-load$(EXEEXT) cmd/mirror-pair$(EXEEXT) cmd/mirror-ctl$(EXEEXT) bench/stats_get$(EXEEXT)
	$(SHELL) $(top_srcdir)/bench/pair.sh $(abs_top_builddir)
.PHONY: bench bench-emu bench-top bench-conform bench-pair

EXTRA_DIST += bench/local.mk bench/lib.sh bench/emu.sh bench/top.sh bench/conform.sh bench/dissect.sh \
	bench/pair.sh bench/failover.sh bench/fuzz-long.sh bench/soak.sh
