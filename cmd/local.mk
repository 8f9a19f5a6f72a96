# cmd: one program per file: options, wiring and printing; the work is in
# libmirror and app/.
CMD_LDADD = app/libapp.la lib/libmirror.la $(JSONC_LIBS)

bin_PROGRAMS += cmd/mirror-decode cmd/mirror-send cmd/mirror-emu cmd/mirror-dissect \
	cmd/mirror-conform cmd/mirror-load cmd/mirror-ctl cmd/mirror-pair
bin_PROGRAMS += cmd/mirror-failover
cmd_mirror_decode_LDADD = $(CMD_LDADD)
cmd_mirror_send_LDADD = $(CMD_LDADD)
cmd_mirror_emu_LDADD = $(CMD_LDADD)
cmd_mirror_dissect_LDADD = $(CMD_LDADD)
cmd_mirror_conform_CPPFLAGS = $(AM_CPPFLAGS) -iquote $(top_srcdir)/conformance
cmd_mirror_conform_LDFLAGS = -pthread
cmd_mirror_conform_LDADD = conformance/libconform.la $(CMD_LDADD) $(ISCSI_LIBS)
cmd_mirror_load_LDFLAGS = -pthread
cmd_mirror_load_LDADD = $(CMD_LDADD)
cmd_mirror_ctl_LDFLAGS = -pthread
cmd_mirror_ctl_LDADD = $(CMD_LDADD)
cmd_mirror_pair_LDFLAGS = -pthread
cmd_mirror_pair_LDADD = $(CMD_LDADD)
cmd_mirror_failover_LDADD = $(CMD_LDADD)

# mirror-top draws with ncursesw: built when configure found it.
if HAVE_NCURSESW
bin_PROGRAMS += cmd/mirror-top
cmd_mirror_top_SOURCES = cmd/mirror-top.c app/top/term.h app/top/term.c
cmd_mirror_top_CFLAGS = $(AM_CFLAGS) $(NCURSES_CFLAGS) -pthread
cmd_mirror_top_LDFLAGS = -pthread
cmd_mirror_top_LDADD = $(CMD_LDADD) $(NCURSES_LIBS)
endif

EXTRA_DIST += cmd/local.mk
