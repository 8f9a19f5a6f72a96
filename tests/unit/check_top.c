/* mirror-top's model: readings and rates, reset, a restarted source, the
 * 60-second history and its sparklines, savings, findings, the screen cut
 * to the terminal, mirror-emu's counters, a reference capture whose
 * counters must agree with the emulator's own counters of the same run;
 * and the run's pure parts (app/top/run.h): the keys, the title's labels,
 * the batch snapshot's text and the exit status of each source's
 * failures. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <mirror/dissect_run.h>
#include "app/top/run.h"
#include "app/top/top.h"
#include "iscsi/stats.h"

#include "testutil.h"

/* counters with ops small and large ops; costs as mirror-emu counts them */
static void counters(struct mirror_top_counters *c, uint64_t small, uint64_t large)
{
	memset(c, 0, sizeof(*c));
	c->path[0].ops = c->path[0].complete = small;
	c->path[0].interrupts = 3 * small;
	c->path[0].cdb = 12 * small;
	c->path[0].data = 4096 * small;
	c->path[0].iscsi = 180 * small;
	c->path[0].total = (12 + 4096 + 180) * small;
	c->path[1].ops = c->path[1].complete = large;
	c->path[1].interrupts = 4 * large;
	c->path[1].cdb = 10 * large;
	c->path[1].metadata = 1024 * large;
	c->path[1].data = 8192 * large;
	c->path[1].iscsi = 278 * large;
	c->path[1].total = (10 + 1024 + 8192 + 278) * large;
}

START_TEST(rates_costs_and_reset)
{
	static struct mirror_top_model m;
	struct mirror_top_counters c;
	struct mirror_top_row r;

	mirror_top_init(&m);
	counters(&c, 100, 10);
	mirror_top_update(&m, 5000, &c);
	mirror_top_row(&m, 0, &r);
	ck_assert_uint_eq(r.ops, 100);
	ck_assert(r.ops_s == 0.0); /* one reading: no rate yet */
	counters(&c, 600, 60);
	mirror_top_update(&m, 5500, &c); /* 500 small ops in 0.5 s */
	mirror_top_row(&m, 0, &r);
	ck_assert_uint_eq(r.ops, 600);
	ck_assert_double_eq_tol(r.ops_s, 1000.0, 1e-9);
	ck_assert_double_eq_tol(r.mb_s, 1000.0 * 4096 / 1e6, 1e-9);
	ck_assert_double_eq_tol(r.interrupts_per_op, 3.0, 1e-9);
	ck_assert_double_eq_tol(r.cdb, 12.0, 1e-9);
	ck_assert(r.p50_us < 0); /* mirror-emu gives no latency */
	mirror_top_row(&m, 1, &r);
	ck_assert_double_eq_tol(r.ops_s, 100.0, 1e-9);
	ck_assert_double_eq_tol(r.metadata, 1024.0, 1e-9);

	/* savings, a lower bound from the emulator's counters: the large
	 * path's 4 interrupts against 3, its metadata and 10-byte CDB
	 * against the 12-byte small CDB */
	struct mirror_top_savings s;
	ck_assert(mirror_top_savings(&m, &s));
	ck_assert(s.lower_bound);
	ck_assert_uint_eq(s.small_ops, 600);
	ck_assert_double_eq_tol(s.interrupts_per_op, 1.0, 1e-9);
	ck_assert_double_eq_tol(s.bytes_per_op, 1024.0 + 10.0 - 12.0, 1e-9);
	ck_assert_double_eq_tol(s.interrupts, 600.0, 1e-9);

	/* reset: totals from here on */
	mirror_top_reset(&m);
	mirror_top_row(&m, 0, &r);
	ck_assert_uint_eq(r.ops, 0);
	ck_assert(!mirror_top_savings(&m, &s));
	counters(&c, 700, 60);
	mirror_top_update(&m, 6500, &c);
	mirror_top_row(&m, 0, &r);
	ck_assert_uint_eq(r.ops, 100);
	ck_assert_double_eq_tol(r.ops_s, 100.0, 1e-9);
	char t[256];
	mirror_top_totals_line(&m, t, sizeof(t));
	ck_assert_str_eq(t, "totals: ops=100 small=100 large=0 other=0 errors=0 interrupts=300");

	/* the source restarted: the model starts over and says so */
	counters(&c, 5, 0);
	mirror_top_update(&m, 7500, &c);
	mirror_top_row(&m, 0, &r);
	ck_assert_uint_eq(r.ops, 5);
	ck_assert_uint_eq(m.nfindings, 1);
	ck_assert(strstr(m.findings[0], "restarted") != NULL);
}
END_TEST

START_TEST(history_and_sparklines)
{
	static struct mirror_top_model m;
	struct mirror_top_counters c;
	char s[512];
	uint64_t ops = 0;

	mirror_top_init(&m);
	/* empty: all blank */
	ck_assert(mirror_top_sparkline(&m, 0, 0, 10, false, s, sizeof(s)) == 0.0);
	ck_assert_str_eq(s, "          ");
	/* 90 seconds at 10, 20, ... ops/s: the history keeps the last 60 */
	for (unsigned i = 0; i <= 90; i++) {
		counters(&c, ops, 0);
		mirror_top_update(&m, 1000u * i, &c);
		ops += 10u * (i + 1);
	}
	ck_assert_uint_eq(m.hist_n, MIRROR_TOP_HISTORY);
	double max = mirror_top_sparkline(&m, 0, 0, 60, true, s, sizeof(s));
	ck_assert_double_eq_tol(max, 900.0, 1e-9); /* the latest second */
	ck_assert_uint_eq(strlen(s), 60);
	ck_assert_int_eq(s[59], '@'); /* the highest level, at the right */
	ck_assert(s[0] != '@' && s[0] != ' ');
	/* UTF-8: 3 bytes a cell, the full block last */
	mirror_top_sparkline(&m, 0, 0, 8, false, s, sizeof(s));
	ck_assert_uint_eq(strlen(s), 24);
	ck_assert_str_eq(s + 21, "\xe2\x96\x88");
	/* a path with nothing: blanks, max 0 */
	ck_assert(mirror_top_sparkline(&m, 1, 0, 5, true, s, sizeof(s)) == 0.0);
	ck_assert_str_eq(s, "     ");
	/* a buffer too small is cut, never overrun */
	mirror_top_sparkline(&m, 0, 0, 60, false, s, 10);
	ck_assert_uint_le(strlen(s), 9);
}
END_TEST

START_TEST(findings_latest_first)
{
	static struct mirror_top_model m;
	struct mirror_top_counters c;

	mirror_top_init(&m);
	counters(&c, 10, 10);
	mirror_top_update(&m, 0, &c);
	ck_assert_uint_eq(m.nfindings, 0);
	c.seq_gaps = 2;
	c.nsense = 1;
	snprintf(c.sense[0].name, sizeof(c.sense[0].name), "ILLEGAL REQUEST");
	c.sense[0].n = 3;
	mirror_top_update(&m, 1000, &c);
	ck_assert_uint_eq(m.nfindings, 2);
	ck_assert_str_eq(m.findings[0], "error: 3 CHECK CONDITION ILLEGAL REQUEST");
	ck_assert_str_eq(m.findings[1], "error: 2 new sequence gaps in the metadata messages");
	/* unchanged counters: nothing new */
	mirror_top_update(&m, 2000, &c);
	ck_assert_uint_eq(m.nfindings, 2);
	for (unsigned i = 0; i < 20; i++) {
		char t[32];
		snprintf(t, sizeof(t), "finding %u", i);
		mirror_top_add_finding(&m, t);
	}
	ck_assert_uint_eq(m.nfindings, MIRROR_TOP_FINDINGS_MAX);
	ck_assert_str_eq(m.findings[0], "finding 19");
	ck_assert_str_eq(m.findings[MIRROR_TOP_FINDINGS_MAX - 1], "finding 12");
	ck_assert_uint_eq(m.findings_seen, 22);
}
END_TEST

/* cells of a UTF-8 line */
static unsigned cells(const char *s)
{
	unsigned n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

START_TEST(screen_fits_the_terminal)
{
	static struct mirror_top_model m;
	static struct mirror_top_line lines[64];
	struct mirror_top_counters c;
	struct mirror_top_screen_opts so = { "emu /x", "running", 80, 24, false, false };
	static const unsigned sizes[][2] = { { 80, 24 }, { 40, 10 }, { 200, 60 }, { 20, 4 } };

	mirror_top_init(&m);
	for (unsigned i = 0; i < 5; i++) {
		counters(&c, 100u * i, 10u * i);
		mirror_top_update(&m, 1000u * i, &c);
	}
	for (unsigned i = 0; i < 12; i++)
		mirror_top_add_finding(&m, "warning: a finding long enough to be cut at the terminal's "
					   "right edge, whatever its width is, by the screen");
	for (unsigned v = 0; v < MIRROR_TOP_VIEWS; v++)
		for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
			m.view = (enum mirror_top_view)v;
			so.width = sizes[k][0];
			so.height = sizes[k][1];
			unsigned n = mirror_top_screen(&m, &so, lines, 64);
			ck_assert_uint_le(n, so.height);
			ck_assert_uint_ge(n, 3);
			for (unsigned i = 0; i < n; i++)
				ck_assert_msg(cells(lines[i].text) <= so.width, "%ux%u line %u: %s",
					      so.width, so.height, i, lines[i].text);
			ck_assert_int_eq(lines[n - 1].kind, MIRROR_TOP_LINE_KEYS);
			ck_assert_int_eq(lines[0].kind, MIRROR_TOP_LINE_TITLE);
		}
	/* at 80x24 the paths view shows both rows and the totals */
	m.view = MIRROR_TOP_VIEW_PATHS;
	so.width = 80;
	so.height = 24;
	unsigned n = mirror_top_screen(&m, &so, lines, 64), nf = 0;
	for (unsigned i = 0; i < n; i++)
		nf += lines[i].kind == MIRROR_TOP_LINE_FINDING;
	ck_assert_uint_eq(nf, MIRROR_TOP_FINDINGS_MAX); /* 24 rows hold all it keeps */
	ck_assert(strncmp(lines[2].text, "small ", 6) == 0);
	ck_assert(strncmp(lines[3].text, "large ", 6) == 0);
	ck_assert(strncmp(lines[n - 2].text, "totals: ops=440 small=400 large=40", 34) == 0);
	/* sorted by ops/s, the busier path comes first */
	m.sort = MIRROR_TOP_SORT_OPS;
	counters(&c, 400, 1000);
	mirror_top_update(&m, 6000, &c);
	mirror_top_screen(&m, &so, lines, 64);
	ck_assert(strncmp(lines[2].text, "large ", 6) == 0);
	/* batch: no width, nothing cut */
	so.width = so.height = 0;
	n = mirror_top_screen(&m, &so, lines, 64);
	ck_assert_int_eq(lines[n - 3].kind, MIRROR_TOP_LINE_FINDING);
	ck_assert_uint_gt(cells(lines[n - 3].text), 80);
	/* help */
	so.help = true;
	n = mirror_top_screen(&m, &so, lines, 64);
	ck_assert(strstr(lines[2].text, "q   quit") != NULL);
}
END_TEST

START_TEST(emu_counters_parse)
{
	static const char js[] =
		"{\"kinds\":{\"small\":{\"ops\":7,\"errors\":1,\"interrupts\":21,"
		"\"interrupts_min\":3,\"interrupts_max\":3,\"bytes\":{"
		"\"cdb\":84,\"metadata\":0,\"data\":28672,\"iscsi\":1260,\"total\":30016}},"
		"\"large\":{\"ops\":2,\"errors\":0,\"interrupts\":9,\"interrupts_min\":4,"
		"\"interrupts_max\":5,\"bytes\":{\"cdb\":20,"
		"\"metadata\":2048,\"data\":8192,\"iscsi\":556,\"total\":10816}},"
		"\"other\":{\"ops\":3,\"errors\":0,\"interrupts\":0,\"interrupts_min\":0,"
		"\"interrupts_max\":0,\"bytes\":{\"cdb\":0,\"metadata\":0,\"data\":0,"
		"\"iscsi\":0,\"total\":0}}},\"check_conditions\":{\"ILLEGAL REQUEST\":1},"
		"\"sequence\":{\"messages\":2,\"gaps\":1,\"repeats\":0}}";
	struct mirror_stats s;
	struct mirror_top_counters c;
	char why[256];

	ck_assert_int_eq(mirror_stats_parse_text(js, &s, why, sizeof(why)), 0);
	mirror_top_from_stats(&s, &c);
	ck_assert_uint_eq(c.path[0].ops, 7);
	ck_assert_uint_eq(c.path[0].errors, 1);
	ck_assert_uint_eq(c.path[0].interrupts, 21);
	ck_assert_uint_eq(c.path[1].metadata, 2048);
	ck_assert_uint_eq(c.path[1].complete, 2);
	ck_assert_uint_eq(c.other_ops, 3);
	ck_assert_uint_eq(c.seq_gaps, 1);
	ck_assert_uint_eq(c.nsense, 1);
	ck_assert_str_eq(c.sense[0].name, "ILLEGAL REQUEST");
	ck_assert_uint_eq(c.sense[0].n, 1);
}
END_TEST

static void add_op(void *ctx, const struct mirror_dissect_op *op)
{
	mirror_top_capture_add(ctx, op);
}

START_TEST(capture_agrees_with_the_emulator)
{
	/* traces/mixed.pcap was recorded with mirror-emu's counters beside
	 * it: the capture's counters must be the emulator's */
	const char *top = getenv("top_srcdir");
	char pcap[4096], emu[4096], port[4096];
	snprintf(pcap, sizeof(pcap), "%s/traces/mixed.pcap", top ? top : ".");
	snprintf(emu, sizeof(emu), "%s/traces/mixed.emu.json", top ? top : ".");
	snprintf(port, sizeof(port), "%s/traces/mixed.port", top ? top : ".");
	FILE *pf = fopen(port, "r");
	ck_assert_msg(pf != NULL, "%s", port);
	unsigned tp = 0;
	ck_assert_int_eq(fscanf(pf, "%u", &tp), 1);
	fclose(pf);

	struct mirror_profile p;
	mirror_profile_init(&p);
	struct mirror_top_capture *cap = malloc(sizeof(*cap));
	struct mirror_dissect_run_stats *st = calloc(1, sizeof(*st));
	ck_assert_ptr_nonnull(cap);
	ck_assert_ptr_nonnull(st);
	mirror_top_capture_init(cap, &p);
	struct mirror_dissect_run_opts ro;
	memset(&ro, 0, sizeof(ro));
	ro.path = pcap;
	ro.target_port = (uint16_t)tp;
	ro.dissect.profile = &p;
	ck_assert_int_eq(mirror_dissect_run(&ro, add_op, cap, st), 0);

	struct mirror_top_counters got, want;
	char why[256];
	mirror_top_from_capture(cap, &got);
	struct json_object *j = json_object_from_file(emu);
	struct mirror_stats es;
	ck_assert_ptr_nonnull(j);
	ck_assert_msg(mirror_stats_parse(j, &es, why, sizeof(why)) == 0, "%s", why);
	json_object_put(j);
	mirror_top_from_stats(&es, &want);
	for (unsigned i = 0; i < MIRROR_TOP_PATHS; i++) {
		ck_assert_uint_gt(got.path[i].ops, 0);
		ck_assert_uint_eq(got.path[i].ops, want.path[i].ops);
		ck_assert_uint_eq(got.path[i].interrupts, want.path[i].interrupts);
		ck_assert_uint_eq(got.path[i].cdb, want.path[i].cdb);
		ck_assert_uint_eq(got.path[i].metadata, want.path[i].metadata);
		ck_assert_uint_eq(got.path[i].data, want.path[i].data);
		ck_assert_uint_eq(got.path[i].iscsi, want.path[i].iscsi);
		ck_assert(got.p50_us[i] > 0 && got.p50_us[i] <= got.p99_us[i]);
	}
	ck_assert(got.have_counterfactual);
	static struct mirror_top_model m;
	struct mirror_top_savings sv;
	mirror_top_init(&m);
	mirror_top_update(&m, 0, &got);
	ck_assert(mirror_top_savings(&m, &sv));
	ck_assert(!sv.lower_bound);
	ck_assert_uint_eq(sv.small_ops, got.cf_ops);
	ck_assert_uint_eq(got.cf_ops, got.path[0].ops);
	/* the emulator counts a large op at 4 interrupts and a small at 3 */
	ck_assert_uint_eq(got.cf_interrupts_saved, got.path[0].ops);
	ck_assert_uint_gt(got.nlatest, 0);
	ck_assert(strncmp(got.latest[0], "warning: packet ", 16) == 0);
	free(st);
	free(cap);
}
END_TEST

START_TEST(keys_change_the_view)
{
	struct mirror_top_model *m = calloc(1, sizeof(*m));
	struct mirror_top_counters c;
	struct mirror_top_row r;
	bool help = false;

	mirror_top_init(m);
	counters(&c, 10, 4);
	mirror_top_update(m, 1000, &c);
	ck_assert(!mirror_top_key(m, &help, 'p'));
	ck_assert(m->paused);
	ck_assert(!mirror_top_key(m, &help, 'p'));
	ck_assert(!m->paused);
	ck_assert(!mirror_top_key(m, &help, 's'));
	ck_assert_int_eq(m->sort, MIRROR_TOP_SORT_OPS);
	ck_assert(!mirror_top_key(m, &help, 's'));
	ck_assert_int_eq(m->sort, MIRROR_TOP_SORT_PATH);
	ck_assert(!mirror_top_key(m, &help, 'v'));
	ck_assert_int_eq(m->view, MIRROR_TOP_VIEW_BYTES);
	ck_assert(!mirror_top_key(m, &help, 'v'));
	ck_assert(!mirror_top_key(m, &help, 'v'));
	ck_assert_int_eq(m->view, MIRROR_TOP_VIEW_PATHS);
	/* r: the totals count from now */
	mirror_top_row(m, 0, &r);
	ck_assert_uint_eq(r.ops, 10);
	ck_assert(!mirror_top_key(m, &help, 'r'));
	mirror_top_row(m, 0, &r);
	ck_assert_uint_eq(r.ops, 0);
	/* the help: a resize keeps it, any other key leaves it and does
	 * nothing else (q does not quit) */
	ck_assert(!mirror_top_key(m, &help, '?'));
	ck_assert(help);
	ck_assert(!mirror_top_key(m, &help, MIRROR_TOP_KEY_RESIZE));
	ck_assert(help);
	ck_assert(!mirror_top_key(m, &help, 'q'));
	ck_assert(!help);
	ck_assert(!mirror_top_key(m, &help, 'h'));
	ck_assert(help);
	ck_assert(!mirror_top_key(m, &help, 'p'));
	ck_assert(!help);
	ck_assert(!m->paused);
	ck_assert(!mirror_top_key(m, &help, 'x'));
	ck_assert(mirror_top_key(m, &help, 'q'));
	ck_assert(mirror_top_key(m, &help, 'Q'));
	free(m);
}
END_TEST

START_TEST(title_labels)
{
	struct mirror_top_opts o;
	char buf[128];

	memset(&o, 0, sizeof(o));
	o.src = MIRROR_TOP_SRC_EMU;
	o.emu = "/run/st";
	mirror_top_source_label(&o, buf, sizeof(buf));
	ck_assert_str_eq(buf, "emu /run/st");
	o.src = MIRROR_TOP_SRC_PAIR;
	o.pair = "p/state.json";
	mirror_top_source_label(&o, buf, sizeof(buf));
	ck_assert_str_eq(buf, "pair p/state.json");
	o.src = MIRROR_TOP_SRC_REPLAY;
	o.file = "mixed.pcap";
	o.speed = 0.5;
	mirror_top_source_label(&o, buf, sizeof(buf));
	ck_assert_str_eq(buf, "replay mixed.pcap x0.5");
	o.src = MIRROR_TOP_SRC_LIVE;
	o.iface = "lo";
	mirror_top_source_label(&o, buf, sizeof(buf));
	ck_assert_str_eq(buf, "live lo");
	o.filter = "tcp port 3260";
	mirror_top_source_label(&o, buf, sizeof(buf));
	ck_assert_str_eq(buf, "live lo tcp port 3260");

	mirror_top_state_label(false, false, "", false, 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "running");
	mirror_top_state_label(true, true, "", false, 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "paused");
	mirror_top_state_label(false, true, "", false, 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "replay done");
	mirror_top_state_label(false, false, "", true, 42, buf, sizeof(buf));
	ck_assert_str_eq(buf, "running, kernel drops 42");
	/* an error says more than the drops */
	mirror_top_state_label(false, true, "packet 7: truncated", true, 42, buf, sizeof(buf));
	ck_assert_str_eq(buf, "replay done: packet 7: truncated");
}
END_TEST

START_TEST(batch_snapshot_text)
{
	struct mirror_top_line lines[2];
	char got[256];
	FILE *f = tmpfile();

	ck_assert_ptr_nonnull(f);
	lines[0].kind = MIRROR_TOP_LINE_TITLE;
	snprintf(lines[0].text, sizeof(lines[0].text), "mirror-top  emu st");
	lines[1].kind = MIRROR_TOP_LINE_TEXT;
	snprintf(lines[1].text, sizeof(lines[1].text), "totals: ops=3");
	mirror_top_print_lines(f, lines, 2);
	mirror_top_print_lines(f, lines, 0);
	rewind(f);
	size_t n = fread(got, 1, sizeof(got) - 1, f);
	got[n] = '\0';
	ck_assert_str_eq(got, "mirror-top  emu st\ntotals: ops=3\n\n\n");
	fclose(f);
}
END_TEST

/* sg3_utils' statuses (man sg3_utils) as mirror-top(1) documents them per
 * source: 1 syntax, 15 file, 33 timeout, 35 transport, 99 other. */
static const struct {
	enum mirror_top_source src;
	int rc;
	int exit;
} source_exits[] = {
	{ MIRROR_TOP_SRC_EMU, 0, 0 },
	{ MIRROR_TOP_SRC_EMU, -ENOENT, 35 },       /* no socket at the path */
	{ MIRROR_TOP_SRC_EMU, -ECONNREFUSED, 35 }, /* nobody listens */
	{ MIRROR_TOP_SRC_EMU, -ETIMEDOUT, 33 },
	{ MIRROR_TOP_SRC_EMU, -ENOMEM, 99 },
	{ MIRROR_TOP_SRC_REPLAY, -ENOENT, 15 },
	{ MIRROR_TOP_SRC_REPLAY, -EACCES, 15 },
	{ MIRROR_TOP_SRC_REPLAY, -EINVAL, 15 },    /* not a capture file */
	{ MIRROR_TOP_SRC_REPLAY, -EPROTONOSUPPORT, 15 }, /* its link type */
	{ MIRROR_TOP_SRC_REPLAY, -EIO, 15 },       /* truncated or corrupt */
	{ MIRROR_TOP_SRC_REPLAY, -ENOMEM, 99 },
	{ MIRROR_TOP_SRC_LIVE, -EINVAL, 1 },       /* a filter libpcap cannot parse */
	{ MIRROR_TOP_SRC_LIVE, -ENODEV, 99 },      /* no such interface */
	{ MIRROR_TOP_SRC_LIVE, -EPERM, 99 },
	{ MIRROR_TOP_SRC_PAIR, -ENOENT, 15 },      /* no state file */
	{ MIRROR_TOP_SRC_PAIR, -EINVAL, 15 },      /* not mirror-pair's */
	{ MIRROR_TOP_SRC_PAIR, -ENOMEM, 99 },
};

START_TEST(exit_status_of_a_source)
{
	ck_assert_msg(mirror_top_exit(source_exits[_i].src, source_exits[_i].rc) ==
			      source_exits[_i].exit,
		      "source %d, code %d: exit %d, not %d", source_exits[_i].src,
		      source_exits[_i].rc,
		      mirror_top_exit(source_exits[_i].src, source_exits[_i].rc),
		      source_exits[_i].exit);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("top");
	TCase *t = tcase_create("top");
	tcase_add_test(t, rates_costs_and_reset);
	tcase_add_test(t, history_and_sparklines);
	tcase_add_test(t, findings_latest_first);
	tcase_add_test(t, screen_fits_the_terminal);
	tcase_add_test(t, emu_counters_parse);
	tcase_add_test(t, capture_agrees_with_the_emulator);
	tcase_add_test(t, keys_change_the_view);
	tcase_add_test(t, title_labels);
	tcase_add_test(t, batch_snapshot_text);
	tcase_add_loop_test(t, exit_status_of_a_source, 0,
			    (int)(sizeof(source_exits) / sizeof(source_exits[0])));
	suite_add_tcase(s, t);
	return test_run_suite(s);
}
