# libmirror: every source of the library, by layer, in one place.  Only
# mirror_* symbols are exported (libiscsi's lib/libiscsi.syms does the same
# with a list); only the stable core's headers are installed.
lib_LTLIBRARIES += lib/libmirror.la
lib_libmirror_la_SOURCES = \
	lib/base/bytes.h lib/base/cursor.h lib/base/iqn.h lib/base/why.h lib/base/error.c lib/base/log.c lib/base/log.h \
	lib/base/hex.c lib/base/histogram.c lib/base/histogram.h lib/base/exit_status.c \
	\
	lib/wire/profile.c lib/wire/rules.c lib/wire/rules.h \
	lib/wire/codec_small.c lib/wire/codec_notify.c lib/wire/codec_metadata.c \
	lib/wire/readback.c lib/wire/release.c lib/wire/array_table.c lib/wire/table_text.c lib/wire/table_text.h lib/wire/decode.c lib/wire/sense.c \
	lib/wire/path.c lib/wire/split.c lib/wire/account.c \
	lib/wire/format_json.c lib/wire/format_text.c \
	\
	lib/model/nvram.c lib/model/nvram_file.c lib/model/receiver.c lib/model/receiver_spc.c \
	lib/model/receiver_int.h lib/model/inject.c lib/model/inject.h \
	\
	lib/iscsi/pdu.h lib/iscsi/pdu.c lib/iscsi/text.c lib/iscsi/text.h lib/iscsi/target.h \
	lib/iscsi/engine.h lib/iscsi/frame.c lib/iscsi/login.c lib/iscsi/auth.c lib/iscsi/session.c \
	lib/iscsi/task.c lib/iscsi/respond.c lib/iscsi/target.c lib/iscsi/config.c \
	lib/iscsi/lu_receiver.c lib/iscsi/stats.c lib/iscsi/stats.h lib/iscsi/chap_file.c lib/iscsi/chap_file.h \
	\
	lib/transport/transport.c lib/transport/priv.h lib/transport/iscsi.c \
	lib/transport/sgio.c lib/transport/sgio.h lib/transport/sender.c \
	lib/transport/reachability.c lib/transport/reachability.h lib/transport/poll_many.c \
	lib/transport/commands.c lib/transport/url.c lib/transport/explain.c \
	lib/transport/send_report.c lib/transport/send_write.c lib/transport/verify.c \
	\
	lib/capture/pcap.c lib/capture/pcap_file.c lib/capture/pcap_file.h lib/capture/tcp.c \
	lib/capture/dissect_iscsi.c lib/capture/dissect_run.c \
	lib/capture/thread.c lib/capture/thread.h
lib_libmirror_la_LIBADD = $(JSONC_LIBS) $(SGUTILS_LIBS) $(ISCSI_LIBS) $(PCAP_LIBS) \
	$(ISAL_LIBS) $(NETTLE_LIBS)
lib_libmirror_la_LDFLAGS = -version-info $(MIRROR_LT_VERSION) -export-symbols-regex '^mirror_'

mirrorincludedir = $(includedir)/mirror
mirrorinclude_HEADERS = \
	include/mirror/mirror.h include/mirror/error.h include/mirror/profile.h \
	include/mirror/finding.h include/mirror/codec.h include/mirror/path.h \
	include/mirror/array_table.h include/mirror/sense.h include/mirror/exit_status.h \
	include/mirror/nvram.h include/mirror/receiver.h include/mirror/account.h \
	include/mirror/decode.h include/mirror/transport.h include/mirror/sender.h \
	include/mirror/capture.h include/mirror/dissect.h include/mirror/dissect_run.h \
	include/mirror/commands.h include/mirror/url.h

pkgconfigdir = $(libdir)/pkgconfig
pkgconfig_DATA = mirror.pc

EXTRA_DIST += lib/local.mk
