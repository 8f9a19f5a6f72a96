# app: what only the commands use, not installed: mirror-emu's socket loop
# and stats reader, mirror-load's engine, mirror-top's model, the
# controller pair's shared RAID-5 disk array (app/pair).  Built on
# libmirror's exported API alone (mirror_*), so the commands link the
# shared library like any other program would.
noinst_LTLIBRARIES += app/libapp.la
app_libapp_la_SOURCES = \
	app/cli/cli.c app/cli/cli.h \
	app/cli/exit.c app/cli/exit.h \
	app/emu/server.c app/emu/server.h app/emu/stats.c app/emu/stats.h app/emu/limits.c \
	app/emu/options.c app/emu/options.h app/emu/settings.c app/emu/settings.h \
	app/emu/report.c app/emu/report.h \
	app/load/load.h app/load/mix.c app/load/ring.c app/load/result.c app/load/report.c \
	app/load/run.c app/load/capture.c \
	app/top/top.h app/top/model.c app/top/screen.c app/top/source.c \
	app/top/pair.h app/top/pair.c \
	app/top/pair_read.c app/top/run.h app/top/run_int.h app/top/run.c app/top/run_capture.c \
	app/top/label.c app/top/keys.c app/top/exit.c \
	\
	app/pair/ctl.h app/pair/ctl.c app/pair/host.c app/pair/link.c app/pair/destage.c \
	app/pair/failover.c app/pair/faults.c app/pair/report.c \
	app/pair/cache.h app/pair/cache.c app/pair/journal.h app/pair/journal.c \
	app/pair/state.h app/pair/state.c app/pair/launcher.h app/pair/launcher.c \
	app/pair/sbc.h app/pair/sbc_int.h app/pair/sbc.c app/pair/sbc_block.c app/pair/sbc_field.c \
	app/pair/sbc_inquiry.c app/pair/sbc_mode.c app/pair/sbc_port.c app/pair/sbc_ua.c app/pair/alua.c \
	app/pair/sbc_resv.c app/pair/sbc_pr.c \
	app/pair/raid5.h app/pair/raid5_int.h app/pair/raid5.c app/pair/raid5_super.c \
	app/failover/failover.h app/failover/stamp.c app/failover/history.c app/failover/check.c \
	app/failover/run.h app/failover/run.c app/failover/scsi.c app/failover/pair.c app/failover/report.c \
	app/failover/plan.c app/failover/status.c app/failover/carriers.c

# --report FILE.html of mirror-dissect, mirror-load and mirror-failover
app_libapp_la_SOURCES += app/report/report.h app/report/report_int.h app/report/report.c \
	app/report/plot.c app/report/series.h app/report/series.c \
	app/report/dissect.h app/report/dissect.c \
	app/report/load.h app/report/load.c \
	app/report/failover.h app/report/failover.c

app_libapp_la_CFLAGS = $(AM_CFLAGS) -pthread

EXTRA_DIST += app/local.mk
