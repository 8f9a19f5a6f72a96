/* mirror-load's pure parts: the size mix, the stream of writes, the NVRAM
 * ring, the rate limit, result counting, the difference of mirror-emu's
 * counters, the reports and the --path ab comparison, the config checks. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "app/load/load.h"
#include "app/emu/stats.h"

#include "testutil.h"

#define KIB 1024u
#define MIB (1024u * 1024u)

START_TEST(mix_parses_and_refuses)
{
	struct mirror_load_mix m;
	char why[256], buf[256];

	ck_assert_int_eq(mirror_load_mix_parse("512:40,4k:40,32k:15,256k:4,2m:1", &m, why,
					       sizeof(why)), 0);
	ck_assert_uint_eq(m.n, 5);
	ck_assert_uint_eq(m.bytes[0], 512);
	ck_assert_uint_eq(m.bytes[1], 4 * KIB);
	ck_assert_uint_eq(m.bytes[4], 2 * MIB);
	ck_assert_uint_eq(m.total_weight, 100);
	ck_assert_uint_eq(mirror_load_mix_max(&m), 2 * MIB);
	mirror_load_mix_format(&m, buf, sizeof(buf));
	ck_assert_str_eq(buf, "512:40,4K:40,32K:15,256K:4,2M:1");
	ck_assert_int_eq(mirror_load_mix_parse("8k", &m, why, sizeof(why)), 0);
	ck_assert_uint_eq(m.weight[0], 1);

	static const struct {
		const char *spec, *says;
	} bad[] = {
		{ "", "empty" },
		{ "4k:10,,8k:1", "entry 2 of the mix is empty" },
		{ "1000:1", "entry 1 of the mix ('1000:1'): size '1000' must be a multiple of 512" },
		{ "4k:0", "weight must be 1..1000000" },
		{ "4k:x", "weight 'x' is not a number" },
		{ "4k:-3", "not a number" },
		{ "32m", "from 512 to 16M" },
		{ "0:1", "size '0'" },
		{ "4k:1,8k:2,abc", "entry 3" },
		{ "1k,1k,1k,1k,1k,1k,1k,1k,1k,1k,1k,1k,1k,1k,1k,1k,1k", "more than 16" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(mirror_load_mix_parse(bad[i].spec, &m, why, sizeof(why)), -EINVAL);
		ck_assert_msg(strstr(why, bad[i].says) != NULL, "'%s': %s", bad[i].spec, why);
		ck_assert_uint_eq(m.n, 0);
	}
}
END_TEST

START_TEST(mix_picks_in_proportion)
{
	struct mirror_load_mix m;
	char why[128];
	unsigned hits[3] = { 0, 0, 0 };
	uint64_t st = test_seed();

	ck_assert_int_eq(mirror_load_mix_parse("4k:70,64k:20,1m:10", &m, why, sizeof(why)), 0);
	for (unsigned i = 0; i < 100000; i++) {
		uint32_t b = mirror_load_mix_pick(&m, mirror_load_rand(&st));
		hits[b == 4 * KIB ? 0 : b == 64 * KIB ? 1 : 2]++;
		ck_assert(b == 4 * KIB || b == 64 * KIB || b == MIB);
	}
	/* 70/20/10 within 1.5 points */
	ck_assert_msg(hits[0] > 68500 && hits[0] < 71500, "%u", hits[0]);
	ck_assert_msg(hits[1] > 18500 && hits[1] < 21500, "%u", hits[1]);
	ck_assert_msg(hits[2] > 8500 && hits[2] < 11500, "%u", hits[2]);
	/* exact edges of the weights */
	ck_assert_uint_eq(mirror_load_mix_pick(&m, 0), 4 * KIB);
	ck_assert_uint_eq(mirror_load_mix_pick(&m, 69), 4 * KIB);
	ck_assert_uint_eq(mirror_load_mix_pick(&m, 70), 64 * KIB);
	ck_assert_uint_eq(mirror_load_mix_pick(&m, 99), MIB);
	ck_assert_uint_eq(mirror_load_mix_pick(&m, 100), 4 * KIB);
}
END_TEST

START_TEST(stream_is_seeded_bounded_aligned)
{
	struct mirror_load_mix m;
	struct mirror_load_gen a, b;
	char why[256];

	ck_assert_int_eq(mirror_load_mix_parse("512:50,4k:30,64k:20", &m, why, sizeof(why)), 0);
	ck_assert_int_eq(mirror_load_gen_init(&a, &m, MIRROR_LOAD_LBA_RANDOM, 1000, 5000, 42, why,
					      sizeof(why)), 0);
	ck_assert_int_eq(mirror_load_gen_init(&b, &m, MIRROR_LOAD_LBA_RANDOM, 1000, 5000, 42, why,
					      sizeof(why)), 0);
	unsigned odd = 0;
	for (unsigned i = 0; i < 20000; i++) {
		uint32_t sa, la, sb, lb;
		mirror_load_gen_next(&a, &sa, &la);
		mirror_load_gen_next(&b, &sb, &lb);
		ck_assert_uint_eq(sa, sb); /* same seed, same stream */
		ck_assert_uint_eq(la, lb);
		ck_assert_uint_ge(la, 1000);
		ck_assert_uint_le((uint64_t)la + sa / 512, 6000);
		if (sa >= 4 * KIB)
			ck_assert_uint_eq((la - 1000) % 8, 0);
		else
			odd += (la - 1000) % 8 != 0;
	}
	ck_assert_uint_gt(odd, 0); /* 512-byte writes land anywhere */
	ck_assert_uint_eq(a.writes, 20000);
	/* another seed, another stream */
	ck_assert_int_eq(mirror_load_gen_init(&b, &m, MIRROR_LOAD_LBA_RANDOM, 1000, 5000, 43, why,
					      sizeof(why)), 0);
	ck_assert_int_eq(mirror_load_gen_init(&a, &m, MIRROR_LOAD_LBA_RANDOM, 1000, 5000, 42, why,
					      sizeof(why)), 0);
	unsigned same = 0;
	for (unsigned i = 0; i < 100; i++) {
		uint32_t sa, la, sb, lb;
		mirror_load_gen_next(&a, &sa, &la);
		mirror_load_gen_next(&b, &sb, &lb);
		same += la == lb;
	}
	ck_assert_uint_lt(same, 20);

	/* sequential: back to back, wrapping to the start */
	ck_assert_int_eq(mirror_load_mix_parse("4k", &m, why, sizeof(why)), 0);
	ck_assert_int_eq(mirror_load_gen_init(&a, &m, MIRROR_LOAD_LBA_SEQ, 100, 20, 1, why,
					      sizeof(why)), 0);
	static const uint32_t want[] = { 100, 108, 100, 108 };
	for (unsigned i = 0; i < 4; i++) {
		uint32_t s, l;
		mirror_load_gen_next(&a, &s, &l);
		ck_assert_uint_eq(l, want[i]);
	}
	/* ranges that cannot work */
	ck_assert_int_eq(mirror_load_gen_init(&a, &m, MIRROR_LOAD_LBA_SEQ, 0, 7, 1, why,
					      sizeof(why)), -EINVAL);
	ck_assert(strstr(why, "cannot hold the mix's largest write (8 blocks)") != NULL);
	ck_assert_int_eq(mirror_load_gen_init(&a, &m, MIRROR_LOAD_LBA_SEQ, UINT32_MAX, 100, 1, why,
					      sizeof(why)), -EINVAL);
	ck_assert(strstr(why, "2^32") != NULL);
}
END_TEST

START_TEST(ring_reuses_in_order)
{
	struct mirror_load_ring r;
	uint32_t addr[8];
	unsigned t[8];

	ck_assert_int_eq(mirror_load_ring_init(&r, 0, 100, 4), -EINVAL); /* unaligned */
	ck_assert_int_eq(mirror_load_ring_init(&r, 4096, 4096, 4), -EINVAL);
	ck_assert_int_eq(mirror_load_ring_init(&r, 4096, 4096 + 16 * KIB, 8), 0);
	ck_assert_int_eq(mirror_load_ring_alloc(&r, 32 * KIB, &addr[0], &t[0]), -E2BIG);
	ck_assert_int_eq(mirror_load_ring_alloc(&r, 4 * KIB, &addr[0], &t[0]), 0);
	ck_assert_int_eq(mirror_load_ring_alloc(&r, 8 * KIB, &addr[1], &t[1]), 0);
	ck_assert_int_eq(mirror_load_ring_alloc(&r, 1000, &addr[2], &t[2]), 0); /* 1024 */
	ck_assert_uint_eq(addr[0], 4096);
	ck_assert_uint_eq(addr[1], 4096 + 4 * KIB);
	ck_assert_uint_eq(addr[2], 4096 + 12 * KIB);
	/* 3 KiB left: 4 KiB does not fit */
	ck_assert_int_eq(mirror_load_ring_alloc(&r, 4 * KIB, &addr[3], &t[3]), -EAGAIN);
	/* freeing a younger write gives nothing back ... */
	mirror_load_ring_release(&r, t[1]);
	ck_assert_int_eq(mirror_load_ring_alloc(&r, 4 * KIB, &addr[3], &t[3]), -EAGAIN);
	/* ... the oldest gives back it and every free one after it */
	mirror_load_ring_release(&r, t[0]);
	ck_assert_uint_eq(r.used, 1024);
	ck_assert_int_eq(mirror_load_ring_alloc(&r, 8 * KIB, &addr[3], &t[3]), 0);
	/* it wraps at the region's end: the write is contiguous in the ring */
	ck_assert_uint_eq(addr[3], 4096 + 13 * KIB);
	ck_assert_int_eq(mirror_load_ring_alloc(&r, 2 * KIB, &addr[4], &t[4]), 0);
	ck_assert_uint_eq(addr[4], 4096 + 5 * KIB);
	/* releasing twice or a bad ticket changes nothing */
	mirror_load_ring_release(&r, t[0]);
	mirror_load_ring_release(&r, 99);
	ck_assert_uint_eq(r.count, 3);
	mirror_load_ring_release(&r, t[2]);
	mirror_load_ring_release(&r, t[3]);
	mirror_load_ring_release(&r, t[4]);
	ck_assert_uint_eq(r.used, 0);
	ck_assert_uint_eq(r.count, 0);
	mirror_load_ring_free(&r);

	/* capacity in writes */
	ck_assert_int_eq(mirror_load_ring_init(&r, 0, MIB, 2), 0);
	ck_assert_int_eq(mirror_load_ring_alloc(&r, 512, &addr[0], &t[0]), 0);
	ck_assert_int_eq(mirror_load_ring_alloc(&r, 512, &addr[1], &t[1]), 0);
	ck_assert_int_eq(mirror_load_ring_alloc(&r, 512, &addr[2], &t[2]), -EAGAIN);
	mirror_load_ring_free(&r);
}
END_TEST

START_TEST(ring_puts_some_small_writes_across_the_high_bits)
{
	/* a ring over region 0 of the v1 profile with 4 KiB and 12 KiB writes:
	 * a write now and then lies across a 32 MiB boundary, where the
	 * descriptors' shared high bits change, and Fig. 7 sends it large */
	struct mirror_profile p;
	struct mirror_load_ring r;
	unsigned straddle = 0, writes = 0;

	mirror_profile_init(&p);
	ck_assert_int_eq(mirror_load_ring_init(&r, mirror_region_start(&p, 0),
					       mirror_region_end(&p, 0), 4), 0);
	for (unsigned i = 0; i < 40000; i++) {
		uint32_t a, bytes = i % 3 ? 4 * KIB : 12 * KIB;
		unsigned t;
		ck_assert_int_eq(mirror_load_ring_alloc(&r, bytes, &a, &t), 0);
		struct mirror_write w = { .lba = i, .bytes = bytes, .nvram_addr = a };
		struct mirror_splitter sp;
		struct mirror_op op;
		char why[96];
		ck_assert_int_eq(mirror_split_init(&sp, &p, &w, NULL, MIRROR_POLICY_AUTO, 1, why,
						   sizeof(why)), 0);
		while (mirror_split_next(&sp, &op) == 1)
			if (op.why.reason == MIRROR_REASON_HIGH_BITS_DIFFER)
				straddle++;
		writes++;
		mirror_load_ring_release(&r, t);
	}
	/* 40000 writes of 6.7 KiB on average go round 64 MiB about 4 times */
	ck_assert_uint_ge(straddle, 2);
	ck_assert_uint_lt(straddle, writes / 100);
	mirror_load_ring_free(&r);
}
END_TEST

START_TEST(rate_limits_and_catches_up_by_a_burst)
{
	struct mirror_load_rate r;
	const uint64_t s = UINT64_C(1000000000);

	mirror_load_rate_init(&r, 100.0, 4, 5 * s); /* 100/s: one every 10 ms */
	ck_assert(mirror_load_rate_take(&r, 5 * s));
	ck_assert(!mirror_load_rate_take(&r, 5 * s));
	ck_assert_uint_eq(mirror_load_rate_wait(&r, 5 * s), 10000000u);
	ck_assert(!mirror_load_rate_take(&r, 5 * s + 9999999u));
	ck_assert(mirror_load_rate_take(&r, 5 * s + 10000000u));
	unsigned n = 0;
	for (uint64_t t = 5 * s + 10000001u; t < 6 * s; t += 100000u)
		n += mirror_load_rate_take(&r, t);
	ck_assert_uint_eq(n + 2, 100); /* 100 in the first second */
	/* a stall of 10 s: at most a burst of 4 goes at once */
	n = 0;
	for (unsigned i = 0; i < 100; i++)
		n += mirror_load_rate_take(&r, 16 * s);
	ck_assert_uint_le(n, 5);
	ck_assert_uint_ge(n, 1);
	/* unlimited */
	mirror_load_rate_init(&r, 0, 0, 0);
	for (unsigned i = 0; i < 1000; i++)
		ck_assert(mirror_load_rate_take(&r, 0));
	ck_assert_uint_eq(mirror_load_rate_wait(&r, 0), 0);
}
END_TEST

static void cmd_with(struct mirror_cmd *c, int result, uint8_t status, uint8_t key, uint8_t asc)
{
	memset(c, 0, sizeof(*c));
	c->cdb[0] = 0xA0;
	c->cdb_len = 12;
	c->result = result;
	c->status = status;
	c->duration_ns = 100000;
	if (status == MIRROR_STATUS_CHECK_CONDITION) {
		c->sense_len = 18;
		c->sense_parsed.response_code = 0x70;
		c->sense_parsed.key = key;
		c->sense_parsed.asc = asc;
	}
}

START_TEST(results_count_by_kind_and_sense)
{
	static struct mirror_load_result r, m;
	struct mirror_cmd c;

	mirror_load_result_init(&r);
	cmd_with(&c, 0, MIRROR_STATUS_GOOD, 0, 0);
	for (unsigned i = 0; i < 3; i++)
		mirror_load_result_add(&r, MIRROR_LOAD_SMALL, &c, 4096, 0, NULL);
	c.cdb_len = 10;
	mirror_load_result_add(&r, MIRROR_LOAD_LARGE, &c, 65536, 1024, NULL);
	cmd_with(&c, 0, MIRROR_STATUS_CHECK_CONDITION, 5, 0x24);
	mirror_load_result_add(&r, MIRROR_LOAD_SMALL, &c, 4096, 0, NULL);
	mirror_load_result_add(&r, MIRROR_LOAD_SMALL, &c, 4096, 0, NULL);
	cmd_with(&c, 0, MIRROR_STATUS_CHECK_CONDITION, 6, 0x29);
	mirror_load_result_add(&r, MIRROR_LOAD_LARGE, &c, 4096, 1024, NULL);
	cmd_with(&c, -ETIMEDOUT, 0, 0, 0);
	mirror_load_result_add(&r, MIRROR_LOAD_LARGE, &c, 4096, 1024, "timed out");
	cmd_with(&c, 0, MIRROR_STATUS_GOOD, 0, 0);
	c.data_in_got = 16;
	mirror_load_result_add(&r, MIRROR_LOAD_SMALL, &c, 4096, 0, NULL);

	ck_assert_uint_eq(r.ops, 9);
	ck_assert_uint_eq(r.good, 4);
	ck_assert_uint_eq(r.kind[MIRROR_LOAD_SMALL].ops, 6);
	ck_assert_uint_eq(r.kind[MIRROR_LOAD_SMALL].good, 3);
	ck_assert_uint_eq(r.kind[MIRROR_LOAD_SMALL].data_bytes, 3 * 4096);
	ck_assert_uint_eq(r.kind[MIRROR_LOAD_SMALL].cdb_bytes, 36);
	ck_assert_uint_eq(r.kind[MIRROR_LOAD_LARGE].metadata_bytes, 1024);
	ck_assert_uint_eq(r.kind[MIRROR_LOAD_LARGE].cdb_bytes, 10);
	ck_assert_uint_eq(r.nsense, 2);
	ck_assert_uint_eq(r.sense[0].key, 5);
	ck_assert_uint_eq(r.sense[0].asc, 0x24);
	ck_assert_uint_eq(r.sense[0].n, 2);
	ck_assert_uint_eq(r.transport, 1);
	ck_assert_uint_eq(r.data_in_unexpected, 1);
	ck_assert_uint_eq(mirror_load_result_errors(&r), 5);
	/* the transport failure has no latency */
	ck_assert_uint_eq(r.lat.total, 8);
	ck_assert_msg(strstr(r.first_error, "ILLEGAL REQUEST") != NULL, "%s", r.first_error);

	mirror_load_result_init(&m);
	mirror_load_result_merge(&m, &r);
	mirror_load_result_merge(&m, &r);
	ck_assert_uint_eq(m.ops, 18);
	ck_assert_uint_eq(m.sense[0].n, 4);
	ck_assert_uint_eq(m.lat.total, 16);
	ck_assert_uint_eq(mirror_load_result_errors(&m), 10);
	ck_assert_str_eq(m.first_error, r.first_error);
}
END_TEST

/* a kind as mirror-emu writes it: every counter there */
#define KIND(ops, ints, cdb, md, data, iscsi, total)                                              \
	"{\"ops\":" #ops ",\"errors\":0,\"interrupts\":" #ints                                     \
	",\"interrupts_min\":3,\"interrupts_max\":4,\"bytes\":{\"cdb\":" #cdb                      \
	",\"metadata\":" #md ",\"data\":" #data ",\"iscsi\":" #iscsi ",\"total\":" #total "}}"
static const char emu_before[] =
	"{\"kinds\":{"
	"\"small\":" KIND(10, 30, 120, 0, 40960, 1800, 42880) ","
	"\"large\":" KIND(5, 20, 50, 5120, 20480, 1390, 27040) "},"
	"\"check_conditions\":{\"ILLEGAL REQUEST 24h/00h\":1},"
	"\"sequence\":{\"messages\":5,\"gaps\":0,\"repeats\":0}}";
static const char emu_after[] =
	"{\"kinds\":{"
	"\"small\":" KIND(110, 330, 1320, 0, 450560, 19800, 471680) ","
	"\"large\":" KIND(25, 104, 250, 25600, 102400, 6950, 135200) "},"
	"\"check_conditions\":{\"ILLEGAL REQUEST 24h/00h\":3,\"UNIT ATTENTION 29h/00h\":1},"
	"\"sequence\":{\"messages\":25,\"gaps\":2,\"repeats\":0}}";

START_TEST(emu_counters_difference)
{
	struct mirror_stats b, a, x;
	struct mirror_load_emu_cost e;
	char why[256];

	ck_assert_int_eq(mirror_stats_parse_text(emu_before, &b, why, sizeof(why)), 0);
	ck_assert_int_eq(mirror_stats_parse_text(emu_after, &a, why, sizeof(why)), 0);
	ck_assert_int_eq(mirror_load_emu_delta(&b, &a, &e, why, sizeof(why)), 0);
	ck_assert_uint_eq(e.path[MIRROR_PATH_SMALL].ops, 100);
	ck_assert_uint_eq(e.path[MIRROR_PATH_SMALL].interrupts, 300);
	ck_assert_uint_eq(e.path[MIRROR_PATH_SMALL].cdb, 1200);
	ck_assert_uint_eq(e.path[MIRROR_PATH_LARGE].ops, 20);
	ck_assert_uint_eq(e.path[MIRROR_PATH_LARGE].interrupts, 84);
	ck_assert_uint_eq(e.path[MIRROR_PATH_LARGE].metadata, 20480);
	ck_assert_uint_eq(e.path[MIRROR_PATH_LARGE].total, 108160);
	ck_assert_uint_eq(e.check_conditions, 3);
	ck_assert_uint_eq(e.seq_gaps, 2);
	/* from zero */
	ck_assert_int_eq(mirror_load_emu_delta(NULL, &a, &e, why, sizeof(why)), 0);
	ck_assert_uint_eq(e.path[MIRROR_PATH_SMALL].ops, 110);
	ck_assert_uint_eq(e.check_conditions, 4);
	/* a restarted emulator counts from zero again */
	ck_assert_int_eq(mirror_load_emu_delta(&a, &b, &e, why, sizeof(why)), 0);
	ck_assert_uint_eq(e.path[MIRROR_PATH_SMALL].ops, 10);
	/* a target without the mirror receiver has no sequence counters */
	x = a;
	x.have_sequence = false;
	ck_assert_int_eq(mirror_load_emu_delta(NULL, &x, &e, why, sizeof(why)), -EINVAL);
	ck_assert_msg(strstr(why, "lack sequence") != NULL, "%s", why);
}
END_TEST

START_TEST(reports_and_ab_difference)
{
	static struct mirror_load_result ra, rb;
	struct mirror_load_emu_cost ea, eb;
	struct mirror_cmd c;

	/* a: 100 writes, all large, 4 interrupts each; b: 80 small, 20 large */
	mirror_load_result_init(&ra);
	mirror_load_result_init(&rb);
	cmd_with(&c, 0, MIRROR_STATUS_GOOD, 0, 0);
	c.cdb_len = 10;
	for (unsigned i = 0; i < 100; i++)
		mirror_load_result_add(&ra, MIRROR_LOAD_LARGE, &c, 4096, 1024, NULL);
	for (unsigned i = 0; i < 20; i++)
		mirror_load_result_add(&rb, MIRROR_LOAD_LARGE, &c, 4096, 1024, NULL);
	c.cdb_len = 12;
	c.duration_ns = 50000;
	for (unsigned i = 0; i < 80; i++)
		mirror_load_result_add(&rb, MIRROR_LOAD_SMALL, &c, 4096, 0, NULL);
	ra.writes = rb.writes = 100;
	ra.elapsed_ns = 2000000000u;
	rb.elapsed_ns = 1000000000u;
	memset(&ea, 0, sizeof(ea));
	memset(&eb, 0, sizeof(eb));
	ea.path[MIRROR_PATH_LARGE] = (struct mirror_stats_kind){
		.ops = 100, .interrupts = 400, .cdb = 1000, .metadata = 102400, .data = 409600,
		.iscsi = 28000, .total = 541000 };
	eb.path[MIRROR_PATH_LARGE] = (struct mirror_stats_kind){
		.ops = 20, .interrupts = 80, .cdb = 200, .metadata = 20480, .data = 81920,
		.iscsi = 5600, .total = 108200 };
	eb.path[MIRROR_PATH_SMALL] = (struct mirror_stats_kind){
		.ops = 80, .interrupts = 240, .cdb = 960, .metadata = 0, .data = 327680,
		.iscsi = 14400, .total = 343040 };
	struct mirror_load_report a = { .label = "a (large)", .r = &ra, .emu = &ea };
	struct mirror_load_report b = { .label = "b (auto)", .r = &rb, .emu = &eb };
	struct mirror_load_ab_diff d;
	mirror_load_ab_compare(&a, &b, &d);
	ck_assert(d.have_emu);
	ck_assert_double_eq_tol(d.interrupts[0], 4.0, 1e-9);
	ck_assert_double_eq_tol(d.interrupts[1], 3.2, 1e-9);
	ck_assert_double_eq_tol(d.receiver_overhead[0], (1000 + 102400 + 28000) / 100.0, 1e-9);
	ck_assert_double_eq_tol(d.receiver_overhead[1],
				(200 + 20480 + 5600 + 960 + 14400) / 100.0, 1e-9);
	ck_assert_double_eq_tol(d.client_overhead[0], 1034.0, 1e-9);
	ck_assert_double_eq_tol(d.client_overhead[1], (20 * 1034.0 + 80 * 12.0) / 100.0, 1e-9);
	ck_assert_double_eq_tol(d.small_share, 0.8, 1e-9);
	ck_assert_double_eq_tol(d.writes_per_sec[0], 50.0, 1e-9);
	ck_assert_double_eq_tol(d.writes_per_sec[1], 100.0, 1e-9);

	/* the text says what the numbers are; the JSON has them */
	char *txt = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&txt, &len);
	mirror_load_ab_print(f, &d);
	mirror_load_report_print(f, &b);
	fclose(f);
	ck_assert_msg(strstr(txt, "receiver interrupts per write   a     4.00  b     3.20  b saves 0.80"),
		      "%s", txt);
	ck_assert_msg(strstr(txt, "80.0% of its ops on the small path"), "%s", txt);
	ck_assert_msg(strstr(txt, "small           80 ") != NULL, "%s", txt);
	free(txt);
	struct json_object *j = mirror_load_report_json(&b), *v;
	ck_assert(json_object_object_get_ex(j, "ops", &v));
	ck_assert_int_eq(json_object_get_int64(v), 100);
	ck_assert(json_object_object_get_ex(j, "receiver", &v));
	ck_assert(json_object_object_get_ex(v, "small", &v));
	ck_assert(json_object_object_get_ex(v, "interrupts_per_op", &v));
	ck_assert_double_eq_tol(json_object_get_double(v), 3.0, 1e-9);
	json_object_put(j);
	b.emu = NULL;
	j = mirror_load_report_json(&b);
	ck_assert(json_object_object_get_ex(j, "receiver", &v));
	ck_assert_ptr_null(v);
	json_object_put(j);
	j = mirror_load_ab_json(&d);
	ck_assert(json_object_object_get_ex(j, "interrupts_per_write", &v));
	ck_assert(json_object_object_get_ex(v, "saved", &v));
	ck_assert_double_eq_tol(json_object_get_double(v), 0.8, 1e-9);
	json_object_put(j);

	/* a capture instead of counters: the same difference, and its own
	 * table and JSON key */
	struct mirror_load_report ac = { .label = "a", .r = &ra, .capture = &ea,
					 .capture_iface = "lo", .capture_drops = 0 };
	struct mirror_load_report bc = { .label = "b", .r = &rb, .capture = &eb,
					 .capture_iface = "lo", .capture_drops = 7 };
	struct mirror_load_ab_diff dc;
	mirror_load_ab_compare(&ac, &bc, &dc);
	ck_assert(dc.have_emu);
	ck_assert_double_eq_tol(dc.interrupts[1], d.interrupts[1], 1e-9);
	f = open_memstream(&txt, &len);
	mirror_load_report_print(f, &bc);
	fclose(f);
	ck_assert_msg(strstr(txt, "receiver (capture on lo, 7 packets dropped by the kernel)"), "%s",
		      txt);
	ck_assert(strstr(txt, "mirror-emu") == NULL);
	free(txt);
	j = mirror_load_report_json(&bc);
	ck_assert(json_object_object_get_ex(j, "receiver", &v));
	ck_assert_ptr_null(v);
	ck_assert(json_object_object_get_ex(j, "capture", &v));
	struct json_object *dr;
	ck_assert(json_object_object_get_ex(v, "kernel_drops", &dr));
	ck_assert_int_eq(json_object_get_int64(dr), 7);
	json_object_put(j);
}
END_TEST

START_TEST(url_ports)
{
	static const struct {
		const char *url;
		uint16_t port;
	} cases[] = {
		{ "iscsi://127.0.0.1:43927/iqn.2026-11.org.mirrortest:emu/0", 43927 },
		{ "iscsi://127.0.0.1/iqn.x/0", 3260 },
		{ "iscsi://user%secret@10.0.0.1:3261/iqn.x/1", 3261 },
		{ "iscsi://[::1]:5000/iqn.x/0", 5000 },
		{ "iscsi://[::1]/iqn.x/0", 3260 },
		{ "iscsi://host:99999/iqn.x/0", 0 },
		{ "iscsi://host:/iqn.x/0", 0 },
		{ "iscsi://host:12a/iqn.x/0", 0 },
		{ "/dev/sg3", 0 },
		{ NULL, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(mirror_load_url_port(cases[i].url) == cases[i].port, "%s",
			      cases[i].url ? cases[i].url : "NULL");
}
END_TEST

START_TEST(cost_of_a_capture_summary)
{
	struct mirror_dissect_summary *s = calloc(1, sizeof(*s));
	struct mirror_load_emu_cost c;

	ck_assert_ptr_nonnull(s);
	s->path[MIRROR_DISSECT_SMALL].ops = 10;
	s->path[MIRROR_DISSECT_SMALL].complete = 9; /* one lost its status */
	s->path[MIRROR_DISSECT_SMALL].interrupts = 27;
	s->path[MIRROR_DISSECT_SMALL].bytes.transport = 1620;
	s->path[MIRROR_DISSECT_LARGE].complete = 2;
	s->path[MIRROR_DISSECT_LARGE].bytes.metadata = 2048;
	s->seq_gaps = 1;
	mirror_load_cost_from_summary(s, &c);
	ck_assert_uint_eq(c.path[MIRROR_PATH_SMALL].ops, 9);
	ck_assert_uint_eq(c.path[MIRROR_PATH_SMALL].interrupts, 27);
	ck_assert_uint_eq(c.path[MIRROR_PATH_SMALL].iscsi, 1620);
	ck_assert_uint_eq(c.path[MIRROR_PATH_LARGE].metadata, 2048);
	ck_assert_uint_eq(c.seq_gaps, 1);
	free(s);
}
END_TEST

START_TEST(config_checks_name_the_option)
{
	struct mirror_load_config c;
	struct mirror_profile p;
	char why[256];

	mirror_profile_init(&p);
	mirror_load_config_init(&c);
	c.url = "iscsi://127.0.0.1/iqn.x/0";
	c.profile = &p;
	ck_assert_int_eq(mirror_load_config_check(&c, why, sizeof(why)), -EINVAL);
	ck_assert(strstr(why, "--mix") != NULL);
	ck_assert_int_eq(mirror_load_mix_parse("4k:1,2m:1", &c.mix, why, sizeof(why)), 0);
	ck_assert_int_eq(mirror_load_config_check(&c, why, sizeof(why)), 0);
	c.qd = 0;
	ck_assert_int_eq(mirror_load_config_check(&c, why, sizeof(why)), -EINVAL);
	ck_assert(strstr(why, "--qd 0") != NULL);
	/* 16 connections x 2 writes of 2 MiB fit 64 MiB; x 3 does not */
	c.qd = 1;
	c.connections = 16;
	ck_assert_int_eq(mirror_load_config_check(&c, why, sizeof(why)), 0);
	c.qd = 2;
	ck_assert_int_eq(mirror_load_config_check(&c, why, sizeof(why)), -EINVAL);
	ck_assert(strstr(why, "NVRAM region 0") != NULL);
	c.qd = 1;
	c.verify_every = 10;
	c.mode = MIRROR_LOAD_PLAIN_WRITE10;
	ck_assert_int_eq(mirror_load_config_check(&c, why, sizeof(why)), -EINVAL);
	ck_assert(strstr(why, "--verify-every") != NULL);
	/* write10 sends a write whole: 64 x 32 slots of 16 MiB is too much */
	c.verify_every = 0;
	ck_assert_int_eq(mirror_load_mix_parse("16m", &c.mix, why, sizeof(why)), 0);
	c.connections = 64;
	c.qd = 32;
	ck_assert_int_eq(mirror_load_config_check(&c, why, sizeof(why)), -EINVAL);
	ck_assert_msg(strstr(why, "MiB of buffers") != NULL, "%s", why);
	c.connections = 1;
	c.qd = 1;
	ck_assert_int_eq(mirror_load_config_check(&c, why, sizeof(why)), 0);
	ck_assert_int_eq(mirror_load_mix_parse("4k:1,2m:1", &c.mix, why, sizeof(why)), 0);
	c.mode = MIRROR_LOAD_MIRROR;
	c.lba_first = UINT32_MAX;
	ck_assert_int_eq(mirror_load_config_check(&c, why, sizeof(why)), -EINVAL);
	ck_assert(strstr(why, "2^32") != NULL);
	/* the engine refuses the same before it connects */
	struct mirror_load_result *r = malloc(sizeof(*r));
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(mirror_load_run(&c, r, why, sizeof(why)), -EINVAL);
	ck_assert(strstr(why, "2^32") != NULL);
	/* and a target that does not answer is a connection error */
	c.lba_first = 0;
	c.url = "iscsi://127.0.0.1:1/iqn.2026-11.org.mirrortest:none/0";
	c.timeout_ms = 2000;
	ck_assert_int_eq(mirror_load_run(&c, r, why, sizeof(why)), -ECONNREFUSED);
	ck_assert_msg(strstr(why, "connection 0") != NULL, "%s", why);
	free(r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("load");
	TCase *t = tcase_create("load");
	tcase_set_timeout(t, 60);
	tcase_add_test(t, mix_parses_and_refuses);
	tcase_add_test(t, mix_picks_in_proportion);
	tcase_add_test(t, stream_is_seeded_bounded_aligned);
	tcase_add_test(t, ring_reuses_in_order);
	tcase_add_test(t, ring_puts_some_small_writes_across_the_high_bits);
	tcase_add_test(t, rate_limits_and_catches_up_by_a_burst);
	tcase_add_test(t, results_count_by_kind_and_sense);
	tcase_add_test(t, emu_counters_difference);
	tcase_add_test(t, reports_and_ab_difference);
	tcase_add_test(t, config_checks_name_the_option);
	tcase_add_test(t, url_ports);
	tcase_add_test(t, cost_of_a_capture_summary);
	suite_add_tcase(s, t);
	return test_run_suite(s);
}
