/* mirror-failover's core (app/failover): stamps that tell a whole block
 * from a torn one, the history's strict parser (file:line: field), and the
 * checker's exact verdict for every case of a block: its last acknowledged
 * write, a deliberately lost one, a deliberately stale one, torn,
 * misdirected, a failed write that took effect, and writes of unknown
 * outcome present or absent. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/failover/failover.h"
#include "app/failover/run.h"

#include "testutil.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define RUN 0x0123456789abcdefull

static void stamp_of(uint8_t *blk, uint64_t run, uint32_t lun, uint64_t lba, uint64_t id,
		     uint64_t gen)
{
	struct fo_stamp s = { .run = run, .lun = lun, .lba = lba, .id = id, .gen = gen };

	fo_stamp_fill(blk, &s);
}

START_TEST(test_stamp_roundtrip)
{
	uint8_t a[FO_BLOCK], b[FO_BLOCK], mix[FO_BLOCK];
	struct fo_stamp s;
	char why[128];

	stamp_of(a, RUN, 3, 123456789012ull, 77, 5);
	ck_assert_int_eq(fo_stamp_read(a, &s, why, sizeof(why)), FO_STAMP_VALID);
	ck_assert(s.run == RUN);
	ck_assert_uint_eq(s.lun, 3);
	ck_assert(s.lba == 123456789012ull);
	ck_assert_uint_eq(s.id, 77);
	ck_assert_uint_eq(s.gen, 5);

	/* the same block, the next write: a mix of both halves is torn */
	stamp_of(b, RUN, 3, 123456789012ull, 78, 6);
	memcpy(mix, a, 256);
	memcpy(mix + 256, b + 256, 256);
	ck_assert_int_eq(fo_stamp_read(mix, &s, why, sizeof(why)), FO_STAMP_CORRUPT);
	ck_assert_msg(strstr(why, "CRC32C at bytes 508-511") != NULL, "%s", why);

	/* one flipped bit in the pattern */
	memcpy(mix, a, FO_BLOCK);
	mix[300] ^= 0x10;
	ck_assert_int_eq(fo_stamp_read(mix, &s, why, sizeof(why)), FO_STAMP_CORRUPT);

	/* no magic */
	memset(mix, 0xa5, FO_BLOCK);
	ck_assert_int_eq(fo_stamp_read(mix, &s, why, sizeof(why)), FO_STAMP_CORRUPT);
	ck_assert_str_eq(why, "no stamp magic at bytes 0-7");

	memset(mix, 0, FO_BLOCK);
	ck_assert_int_eq(fo_stamp_read(mix, &s, why, sizeof(why)), FO_STAMP_ZERO);
}
END_TEST

/* ---- a history written through the writer, read back by the parser ---- */

static char hist_path[64];
static struct fo_history hist_mem; /* the writer's copy, compared with the file's */

static void hist_begin(struct fo_history_writer *w, uint32_t luns, uint64_t blocks)
{
	struct fo_history hdr;
	char why[256] = "";

	fo_history_init(&hdr);
	hdr.run = RUN;
	hdr.luns = luns;
	hdr.blocks = blocks;
	for (uint32_t l = 0; l < luns; l++) {
		hdr.path[hdr.npaths].lun = l;
		snprintf(hdr.path[hdr.npaths].url, sizeof(hdr.path[0].url),
			 "iscsi://127.0.0.1:3260/iqn.x:y/%u", l);
		hdr.npaths++;
	}
	snprintf(hist_path, sizeof(hist_path), "/tmp/check_failover.XXXXXX");
	int fd = mkstemp(hist_path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_msg(fo_hw_open(w, hist_path, &hdr, &hist_mem, why, sizeof(why)) == 0, "%s", why);
	ck_assert_int_eq(fo_hw_trial(w, 1, 10), 0);
}

static void hist_load(struct fo_history_writer *w, struct fo_history *h)
{
	char why[256] = "";

	ck_assert_int_eq(fo_hw_close(w), 0);
	ck_assert_msg(fo_history_load(hist_path, h, why, sizeof(why)) == 0, "%s", why);
	unlink(hist_path);
	/* the copy the writer kept in memory is the file's */
	ck_assert_uint_eq(hist_mem.n, h->n);
	ck_assert(hist_mem.run == h->run && hist_mem.npaths == h->npaths);
	ck_assert_uint_eq(hist_mem.nfaults, h->nfaults);
	for (size_t i = 0; i < h->n; i++) {
		ck_assert_int_eq(hist_mem.w[i].status, h->w[i].status);
		ck_assert(hist_mem.w[i].lba == h->w[i].lba && hist_mem.w[i].t_done_us == h->w[i].t_done_us);
		ck_assert_str_eq(hist_mem.w[i].detail, h->w[i].detail);
	}
	fo_history_free(&hist_mem);
}

/* one write of n blocks, its outcome (FO_INVOKED: none recorded) */
static uint64_t wr(struct fo_history_writer *w, uint32_t lun, uint64_t lba, uint32_t n,
		   enum fo_status st)
{
	static uint64_t t = 100;
	uint64_t id = fo_hw_invoke(w, t++, lun, lba, n, lun, 1);

	if (st == FO_OK)
		fo_hw_done(w, id, t++, FO_OK, NULL);
	else if (st == FO_FAIL)
		fo_hw_done(w, id, t++, FO_FAIL, "02/04/0b");
	else if (st == FO_INDETERMINATE)
		fo_hw_done(w, id, t++, FO_INDETERMINATE, "connection lost");
	return id;
}

/* Every case of a block, each on its own LBA of LUN 0 (16 blocks). */
START_TEST(test_classify)
{
	struct fo_history_writer w;
	struct fo_history h;
	struct fo_checker c;
	uint8_t disk[16][FO_BLOCK];
	char why[256];

	memset(disk, 0, sizeof(disk));
	hist_begin(&w, 1, 16);
	uint64_t w1 = wr(&w, 0, 0, 1, FO_OK);              /* lba 0: holds it */
	uint64_t w2 = wr(&w, 0, 1, 1, FO_OK);              /* lba 1: stale */
	wr(&w, 0, 1, 1, FO_OK);
	wr(&w, 0, 2, 1, FO_OK);                            /* lba 2: lost (zeros) */
	wr(&w, 0, 3, 1, FO_OK);                            /* lba 3: newer unknown present */
	uint64_t w6 = wr(&w, 0, 3, 1, FO_INDETERMINATE);
	uint64_t w7 = wr(&w, 0, 4, 1, FO_OK);              /* lba 4: newer unknown absent */
	wr(&w, 0, 4, 1, FO_INDETERMINATE);
	wr(&w, 0, 5, 1, FO_INDETERMINATE);                 /* lba 5: never acknowledged */
	uint64_t w10 = wr(&w, 0, 6, 1, FO_FAIL);           /* lba 6: a failed write there */
	uint64_t w11 = wr(&w, 0, 7, 1, FO_OK);             /* lba 7: torn */
	wr(&w, 0, 8, 1, FO_OK);                            /* lba 8: lba 7's data */
	uint64_t w13 = wr(&w, 0, 9, 2, FO_OK);             /* lba 9-10: half lost */
	uint64_t w14 = wr(&w, 0, 11, 1, FO_INVOKED);       /* lba 11: an older unknown */
	wr(&w, 0, 11, 1, FO_OK);
	wr(&w, 0, 12, 1, FO_OK);                           /* lba 12: in flight at a kill */
	uint64_t w17 = wr(&w, 0, 12, 1, FO_INVOKED);
	wr(&w, 0, 14, 1, FO_OK);                           /* lba 14: another run's data */
	uint64_t w19 = wr(&w, 0, 15, 1, FO_OK);            /* lba 15: a wrong generation */
	wr(&w, 0, 15, 1, FO_OK);
	(void)w19;
	hist_load(&w, &h);
	ck_assert_uint_eq(h.n, 20);

	stamp_of(disk[0], RUN, 0, 0, w1, 1);
	stamp_of(disk[1], RUN, 0, 1, w2, 1);
	stamp_of(disk[3], RUN, 0, 3, w6, 2);
	stamp_of(disk[4], RUN, 0, 4, w7, 1);
	stamp_of(disk[6], RUN, 0, 6, w10, 1);
	stamp_of(disk[7], RUN, 0, 7, w11, 1);
	disk[7][200] ^= 1;
	stamp_of(disk[8], RUN, 0, 7, w11, 1);
	stamp_of(disk[9], RUN, 0, 9, w13, 1);
	stamp_of(disk[11], RUN, 0, 11, w14, 1);
	stamp_of(disk[12], RUN, 0, 12, w17, 2);
	stamp_of(disk[14], RUN ^ 1, 0, 14, 20, 1);
	/* lba 15: its first write, acknowledged, replaced by the second's
	 * id with the generation of neither: torn, not ok */
	stamp_of(disk[15], RUN, 0, 15, h.n, 7);

	static const enum fo_verdict want[16] = {
		FO_V_OK,          FO_V_STALE,  FO_V_LOST,         FO_V_INDET_PRESENT,
		FO_V_OK,          FO_V_UNACKED, FO_V_PHANTOM,     FO_V_TORN,
		FO_V_MISDIRECTED, FO_V_OK,     FO_V_LOST,         FO_V_INDET_LATE,
		FO_V_INDET_PRESENT, FO_V_UNACKED /* unwritten */, FO_V_LOST, FO_V_TORN,
	};
	ck_assert_int_eq(fo_checker_init(&c, &h, why, sizeof(why)), 0);
	for (uint64_t lba = 0; lba < 16; lba++) {
		struct fo_finding f;
		if (lba == 13) {
			ck_assert(!fo_checker_written(&c, 0, lba));
			continue;
		}
		ck_assert(fo_checker_written(&c, 0, lba));
		enum fo_verdict v = fo_checker_block(&c, 0, lba, disk[lba], &f);
		ck_assert_msg(v == want[lba], "lba %llu: %s, want %s (%s)", (unsigned long long)lba,
			      fo_verdict_name(v), fo_verdict_name(want[lba]), f.detail);
		ck_assert_uint_eq(f.lba, lba);
	}
	fo_checker_finish(&c);
	ck_assert_uint_eq(c.blocks_written, 15);
	ck_assert_uint_eq(c.blocks_checked, 15);
	ck_assert_uint_eq(c.acked_writes, 14);
	ck_assert_uint_eq(c.acked_writes_checked, 14);
	ck_assert_uint_eq(c.failed_writes, 1);
	ck_assert_uint_eq(c.indeterminate_writes, 5);
	ck_assert_uint_eq(c.counts[FO_V_OK], 3);
	ck_assert_uint_eq(c.counts[FO_V_LOST], 3);
	ck_assert_uint_eq(c.counts[FO_V_STALE], 1);
	ck_assert_uint_eq(c.counts[FO_V_TORN], 2);
	ck_assert_uint_eq(c.counts[FO_V_MISDIRECTED], 1);
	ck_assert_uint_eq(c.counts[FO_V_PHANTOM], 1);
	ck_assert_uint_eq(c.violations, 8);
	ck_assert_uint_eq(c.nfindings, 8);
	/* the stale one's counterexample: expected the second write, saw the first */
	ck_assert_int_eq(c.finding[0].v, FO_V_STALE);
	ck_assert_uint_eq(c.finding[0].lba, 1);
	ck_assert_uint_eq(c.finding[0].seen_id, w2);
	ck_assert_uint_eq(c.finding[0].expect_id, w2 + 1);
	ck_assert_uint_eq(c.finding[0].expect_gen, 2);
	ck_assert_uint_eq(c.finding[0].seen_gen, 1);
	ck_assert_int_eq(c.finding[1].v, FO_V_LOST);
	ck_assert_str_eq(c.finding[1].detail, "zeros");
	/* lost with nothing of the run on the block: zeros (lba 2, 10) and
	 * another run's stamp (lba 14); the stale one is not */
	ck_assert_uint_eq(c.never_written, 3);
	ck_assert(c.finding[1].never_written);
	ck_assert(!c.finding[0].never_written);
	fo_checker_free(&c);
	fo_history_free(&h);
}
END_TEST

/* The same blocks holding exactly what was acknowledged: no violation.
 * A checker that cries wolf fails here. */
START_TEST(test_clean_run)
{
	struct fo_history_writer w;
	struct fo_history h;
	struct fo_checker c;
	struct test_rng r;
	uint64_t last[2][32] = { { 0 } }, gen[2][32] = { { 0 } };
	char why[256];

	test_rng_init(&r, test_seed());
	hist_begin(&w, 2, 32);
	for (int i = 0; i < 500; i++) {
		uint32_t lun = (uint32_t)test_rng_range(&r, 0, 1);
		uint64_t lba = test_rng_range(&r, 0, 31);
		uint64_t id = wr(&w, lun, lba, 1, FO_OK);
		last[lun][lba] = id;
		gen[lun][lba]++;
	}
	hist_load(&w, &h);
	ck_assert_int_eq(fo_checker_init(&c, &h, why, sizeof(why)), 0);
	for (uint32_t lun = 0; lun < 2; lun++) {
		for (uint64_t lba = 0; lba < 32; lba++) {
			uint8_t blk[FO_BLOCK] = { 0 };
			if (!fo_checker_written(&c, lun, lba))
				continue;
			stamp_of(blk, RUN, lun, lba, last[lun][lba], gen[lun][lba]);
			ck_assert_int_eq(fo_checker_block(&c, lun, lba, blk, NULL), FO_V_OK);
		}
	}
	fo_checker_finish(&c);
	ck_assert_uint_eq(c.violations, 0);
	ck_assert_uint_eq(c.acked_writes, 500);
	ck_assert_uint_eq(c.acked_writes_checked, 500);
	fo_checker_free(&c);
	fo_history_free(&h);
}
END_TEST

/* ---- the parser: every error names the file, the line and the field ---- */

static const char HDR[] = "mirror-failover-history 1 run=0123456789abcdef luns=1 blocks=16\n"
			  "path 0 lun=0 url=iscsi://127.0.0.1/iqn.x:y/0\n";

static const struct {
	const char *body; /* after HDR, or a whole text when it starts with '!' */
	const char *why;
} bad_cases[] = {
	{ "!hello\n", "h:1: magic: not a mirror-failover history" },
	{ "!mirror-failover-history 2 run=1 luns=1 blocks=16\n", "h:1: version: version 2" },
	{ "!mirror-failover-history 1 run=xyz luns=1 blocks=16\n", "h:1: run: 'xyz' is not a number" },
	{ "!mirror-failover-history 1 run=1 luns=0 blocks=16\n", "h:1: luns: 0" },
	{ "!mirror-failover-history 1 run=1 blocks=16 luns=1\n", "h:1: luns: want luns=... as field 4" },
	{ "!mirror-failover-history 1 run=1 luns=1 blocks=16 extra\n", "h:1: extra: unexpected field 6" },
	{ "!", "h:1: magic" },
	{ "invoke 2 t=1 lun=0 lba=0 n=1 path=0 trial=1\n", "h:3: id: write 2 where write 1 comes next" },
	{ "invoke 1 t=1 lun=0 lba=16 n=1 path=0 trial=1\n", "h:3: lba: 16 is above 15" },
	{ "invoke 1 t=1 lun=0 lba=15 n=2 path=0 trial=1\n", "h:3: n: 2 blocks at LBA 15" },
	{ "invoke 1 t=1 lun=1 lba=0 n=1 path=0 trial=1\n", "h:3: lun: 1 is above 0" },
	{ "invoke 1 t=1 lun=0 lba=0 n=1 path=3 trial=1\n", "h:3: path: path 3 was never declared" },
	{ "invoke 1 t=1 lun=0 lba=0 n=1 trial=1\n", "h:3: path: want path=... as field 7" },
	{ "invoke 1 t=1 lun=0 lba=-1 n=1 path=0 trial=1\n", "h:3: lba: '-1' is not a number" },
	{ "invoke 1 t=5 lun=0 lba=0 n=1 path=0 trial=1\nok 1 t=6\nok 1 t=7\n",
	  "h:5: id: write 1 completed already" },
	{ "ok 1 t=6\n", "h:3: id: write 1 was never invoked" },
	{ "invoke 1 t=5 lun=0 lba=0 n=1 path=0 trial=1\nok 1 t=4\n", "h:4: t: 4 is before" },
	{ "invoke 1 t=5 lun=0 lba=0 n=1 path=0 trial=1\nfail 1 t=6\n", "h:4: sense: missing" },
	{ "invoke 1 t=5 lun=0 lba=0 n=1 path=0 trial=1\nindeterminate 1 t=6 sense=x\n",
	  "h:4: why: want why=... as field 4" },
	{ "write 1\n", "h:3: event: unknown event 'write'" },
	{ "\n", "h:3: event: empty line" },
	{ "trial 2 t=1\n", "h:3: trial: trial 2 where trial 1 comes next" },
	{ "fault 1 t=1 action=kill:a\n", "h:3: fault: in trial 1, but the trial under way is 0" },
	{ "path 0 lun=0 url=x\n", "h:3: path: path 0 where path 1 comes next" },
};

START_TEST(test_parse_errors)
{
	const char *body = bad_cases[_i].body;
	char text[1024], why[256] = "";
	struct fo_history h;

	if (body[0] == '!')
		snprintf(text, sizeof(text), "%s", body + 1);
	else
		snprintf(text, sizeof(text), "%s%s", HDR, body);
	ck_assert_int_eq(fo_history_parse(text, strlen(text), "h", &h, why, sizeof(why)), -EINVAL);
	ck_assert_msg(strncmp(why, bad_cases[_i].why, strlen(bad_cases[_i].why)) == 0,
		      "case %d: got '%s', want '%s...'", _i, why, bad_cases[_i].why);
	ck_assert_ptr_null(h.w);
}
END_TEST

/* A writer killed in the middle of a line leaves it without its newline:
 * the history up to there parses, and the write whose completion was cut
 * counts as of unknown outcome. */
START_TEST(test_cut_last_line)
{
	char text[1024], why[256] = "";
	struct fo_history h;

	snprintf(text, sizeof(text),
		 "%strial 1 t=1\ninvoke 1 t=5 lun=0 lba=3 n=2 path=0 trial=1\nok 1 t=6\n"
		 "invoke 2 t=7 lun=0 lba=3 n=1 path=0 trial=1\nok 2 t=", HDR);
	ck_assert_msg(fo_history_parse(text, strlen(text), "h", &h, why, sizeof(why)) == 0, "%s", why);
	ck_assert_uint_eq(h.n, 2);
	ck_assert_int_eq(h.w[0].status, FO_OK);
	ck_assert_int_eq(h.w[1].status, FO_INVOKED);
	ck_assert_uint_eq(h.w[0].blocks, 2);
	ck_assert_uint_eq(h.trials, 1);
	ck_assert_str_eq(h.path[0].url, "iscsi://127.0.0.1/iqn.x:y/0");
	fo_history_free(&h);
}
END_TEST

START_TEST(test_writer_details)
{
	struct fo_history_writer w;
	struct fo_history h;

	hist_begin(&w, 1, 8);
	uint64_t a = fo_hw_invoke(&w, 1, 0, 0, 1, 0, 1);
	uint64_t b = fo_hw_invoke(&w, 2, 0, 1, 1, 0, 1);
	ck_assert_uint_eq(a, 1);
	ck_assert_uint_eq(b, 2);
	ck_assert_int_eq(fo_hw_fault(&w, 1, 3, "kill:a"), 0);
	ck_assert_int_eq(fo_hw_done(&w, b, 4, FO_INDETERMINATE, "timed out = x"), 0);
	ck_assert_int_eq(fo_hw_done(&w, a, 5, FO_FAIL, "05/24/00"), 0);
	hist_load(&w, &h);
	ck_assert_int_eq(h.w[0].status, FO_FAIL);
	ck_assert_str_eq(h.w[0].detail, "05/24/00");
	ck_assert_int_eq(h.w[1].status, FO_INDETERMINATE);
	ck_assert_str_eq(h.w[1].detail, "timed_out___x");
	ck_assert_uint_eq(h.nfaults, 1);
	ck_assert_str_eq(h.fault[0].action, "kill:a");
	fo_history_free(&h);
}
END_TEST

START_TEST(test_percentile)
{
	double v[] = { 5, 1, 4, 2, 3, 10, 9, 8, 7, 6 };

	ck_assert(fo_percentile(v, 10, 50) == 5);
	ck_assert(fo_percentile(v, 10, 99) == 10);
	ck_assert(fo_percentile(v, 10, 100) == 10);
	ck_assert(fo_percentile(v, 0, 50) == 0);
}
END_TEST

/* REPORT TARGET PORT GROUPS (SPC-4 6.36): the state is byte 0 bits 3-0;
 * a PREF bit (7) set must not make an active/optimized group look like
 * state 8, and a group with two target ports is 8 + 2 x 4 bytes long. */
START_TEST(test_rtpg_decode)
{
	static const uint8_t d[] = {
		0x00, 0x00, 0x00, 0x24,                         /* RETURN DATA LENGTH 36 */
		0x80, 0x8F, 0x00, 0x01, 0x00, 0x02, 0x00, 0x02, /* PREF, A/O, group 1, 2 ports */
		0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x03,
		0x0F, 0x8F, 0x00, 0x02, 0x00, 0x02, 0x00, 0x01, /* transitioning, group 2 */
		0x00, 0x00, 0x00, 0x02,
		0x02, 0x8F, 0x00, 0x03,                         /* cut short: not decoded */
	};
	struct fo_tpg g[4];

	ck_assert_int_eq(fo_rtpg_decode(d, sizeof(d), g, 4), 2);
	ck_assert_uint_eq(g[0].id, 1);
	ck_assert_uint_eq(g[0].state, 0);
	ck_assert(g[0].pref);
	ck_assert_uint_eq(g[1].id, 2);
	ck_assert_uint_eq(g[1].state, 0x0F);
	ck_assert(!g[1].pref);
	ck_assert_int_eq(fo_rtpg_decode(d, sizeof(d), g, 1), 1);
	ck_assert_int_eq(fo_rtpg_decode(d, 3, g, 4), -EINVAL);
}
END_TEST

/* INQUIRY page 83h: the target port group designator (type 5, association
 * target port) found after others. */
START_TEST(test_devid_tpg)
{
	static const uint8_t d[] = {
		0x00, 0x83, 0x00, 0x1C,
		0x01, 0x03, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, /* NAA, the LU */
		0x61, 0x94, 0x00, 0x04, 0x00, 0x00, 0x00, 0x02, /* relative port 2 */
		0x61, 0x95, 0x00, 0x04, 0x00, 0x00, 0x00, 0x07, /* port group 7 */
	};

	ck_assert_int_eq(fo_devid_tpg(d, sizeof(d)), 7);
	ck_assert_int_eq(fo_devid_tpg(d, sizeof(d) - 8), -ENOENT);
	ck_assert_int_eq(fo_devid_tpg(d, 2), -EINVAL);
}
END_TEST

/* ---- the --fault plan (plan.c) ---- */

START_TEST(test_plan_steps)
{
	struct fo_run_opts o;
	bool trig[FO_STEPS_MAX] = { false };
	char why[256] = "";

	fo_run_opts_init(&o);
	ck_assert_int_eq(fo_plan_parse("freeze:b@500,kill:a:after-ack@300ms,thaw:b", &o, trig, why,
				       sizeof(why)), 0);
	ck_assert_uint_eq(o.nsteps, 3);
	ck_assert_int_eq(o.step[0].kind, FO_STEP_PAIR);
	ck_assert_str_eq(o.step[0].verb, "freeze");
	ck_assert_str_eq(o.step[0].ctl, "b");
	ck_assert_uint_eq(o.step[0].after_writes, 500);
	ck_assert(trig[0]);
	ck_assert_int_eq(o.step[1].kind, FO_STEP_POINT);
	ck_assert_str_eq(o.step[1].verb, "kill");
	ck_assert_str_eq(o.step[1].ctl, "a");
	ck_assert_str_eq(o.step[1].point, "after-ack");
	ck_assert_uint_eq(o.step[1].after_ms, 300);
	ck_assert(!trig[2]);
	ck_assert_int_eq(fo_plan_parse("random@2000ms", &o, trig, why, sizeof(why)), 0);
	ck_assert_int_eq(o.step[0].kind, FO_STEP_RANDOM);
	ck_assert_uint_eq(o.step[0].after_ms, 2000);
}
END_TEST

static const struct {
	const char *plan, *why;
} bad_plans[] = {
	{ "kill", "which controller, kill:a or kill:b?" },
	{ "kill:c", "which controller" },
	{ "kill:a:nowhere", "no fault point 'nowhere'" },
	{ "freeze:a:after-ack", "freeze takes no fault point" },
	{ "cut-link:a", "cut-link names no controller" },
	{ "kill:a@x", "the trigger '@x' is not N or Nms" },
	{ "random@100", "give a time (@Nms) or nothing" },
	{ "kill:a,random", "random is a plan of its own" },
	{ "random,kill:a", "random is a plan of its own" },
	{ "explode:a", "no such action" },
	{ ",", "no step" },
};

START_TEST(test_plan_errors)
{
	struct fo_run_opts o;
	bool trig[FO_STEPS_MAX];
	char why[256] = "";

	fo_run_opts_init(&o);
	ck_assert_int_eq(fo_plan_parse(bad_plans[_i].plan, &o, trig, why, sizeof(why)), -EINVAL);
	ck_assert_msg(strstr(why, bad_plans[_i].why), "'%s': %s", bad_plans[_i].plan, why);
}
END_TEST

/* Five trials in a row try a plain kill and every fault point, whatever
 * the seed; where each strikes stays within a tenth to six tenths of the
 * writes, and the same seed and trial always draw the same. */
START_TEST(test_plan_random)
{
	struct fo_step tmpl, s, again;

	memset(&tmpl, 0, sizeof(tmpl));
	tmpl.kind = FO_STEP_RANDOM;
	for (uint64_t seed = 1; seed < 50; seed++) {
		unsigned seen = 0, victims = 0;
		for (uint32_t t = 1; t <= 5; t++) {
			fo_plan_random_step(&tmpl, seed, t, 2000, &s);
			ck_assert_str_eq(s.verb, "kill");
			ck_assert(s.ctl[0] == 'a' || s.ctl[0] == 'b');
			victims |= s.ctl[0] == 'a' ? 1u : 2u;
			ck_assert_uint_ge(s.after_writes, 200);
			ck_assert_uint_lt(s.after_writes, 1200);
			if (s.kind == FO_STEP_PAIR)
				seen |= 1;
			else if (strcmp(s.point, "before-mirror") == 0)
				seen |= 2;
			else if (strcmp(s.point, "after-mirror") == 0)
				seen |= 4;
			else if (strcmp(s.point, "after-ack") == 0)
				seen |= 8;
			else if (strcmp(s.point, "during-destage") == 0)
				seen |= 16;
			fo_plan_random_step(&tmpl, seed, t, 2000, &again);
			ck_assert_mem_eq(&s, &again, sizeof(s));
		}
		ck_assert_uint_eq(seen, 31);
		(void)victims;
	}
	tmpl.after_ms = 700;
	fo_plan_random_step(&tmpl, 1, 1, 2000, &s);
	ck_assert_uint_eq(s.after_ms, 700);
	ck_assert_uint_eq(s.after_writes, 0);
}
END_TEST

/* Both victims are drawn over a campaign. */
START_TEST(test_plan_random_victims)
{
	struct fo_step tmpl, s;
	unsigned a = 0, b = 0;

	memset(&tmpl, 0, sizeof(tmpl));
	for (uint32_t t = 1; t <= 20; t++) {
		fo_plan_random_step(&tmpl, 1, t, 1500, &s);
		if (s.ctl[0] == 'a')
			a++;
		else
			b++;
	}
	ck_assert_uint_ge(a, 4);
	ck_assert_uint_ge(b, 4);
}
END_TEST

static Suite *failover_suite(void)
{
	Suite *s = suite_create("failover");
	TCase *tc = tcase_create("stamp");

	tcase_add_test(tc, test_stamp_roundtrip);
	suite_add_tcase(s, tc);
	tc = tcase_create("check");
	tcase_add_test(tc, test_classify);
	tcase_add_test(tc, test_clean_run);
	tcase_add_test(tc, test_percentile);
	suite_add_tcase(s, tc);
	tc = tcase_create("history");
	tcase_add_loop_test(tc, test_parse_errors, 0, (int)ARRAY_LEN(bad_cases));
	tcase_add_test(tc, test_cut_last_line);
	tcase_add_test(tc, test_writer_details);
	suite_add_tcase(s, tc);
	tc = tcase_create("scsi");
	tcase_add_test(tc, test_rtpg_decode);
	tcase_add_test(tc, test_devid_tpg);
	suite_add_tcase(s, tc);
	tc = tcase_create("plan");
	tcase_add_test(tc, test_plan_steps);
	tcase_add_loop_test(tc, test_plan_errors, 0, (int)ARRAY_LEN(bad_plans));
	tcase_add_test(tc, test_plan_random);
	tcase_add_test(tc, test_plan_random_victims);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run_suite(failover_suite());
}
