/* Fault injection rules (mirror-emu --inject): the parser, opcode
 * filtering, probabilities and the replayability of a seeded run. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <mirror/array_table.h>
#include "iscsi/target.h"

#include "testutil.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- every action parses ---- */

struct parse_ok {
	const char *spec;
	enum mirror_inject_action action;
	int opcode;
	double p;
	uint8_t key, asc, ascq;
	unsigned delay_ms;
};

static const struct parse_ok parse_ok_cases[] = {
	{ "sense:05/24/00", MIRROR_INJ_SENSE, -1, 1.0, 0x05, 0x24, 0x00, 0 },
	{ "sense:0B/47/03,opcode=0xA0", MIRROR_INJ_SENSE, 0xA0, 1.0, 0x0B, 0x47, 0x03, 0 },
	{ "sense:2/4/1,p=0.25", MIRROR_INJ_SENSE, -1, 0.25, 0x02, 0x04, 0x01, 0 },
	{ "sense:0x06/0x29/0x00", MIRROR_INJ_SENSE, -1, 1.0, 0x06, 0x29, 0x00, 0 },
	{ "sense:f/ff/FF", MIRROR_INJ_SENSE, -1, 1.0, 0x0F, 0xFF, 0xFF, 0 },
	{ "drop-status", MIRROR_INJ_DROP_STATUS, -1, 1.0, 0, 0, 0, 0 },
	{ "drop-status,opcode=3c,p=.5", MIRROR_INJ_DROP_STATUS, 0x3C, 0.5, 0, 0, 0, 0 },
	{ "delay-status:250", MIRROR_INJ_DELAY_STATUS, -1, 1.0, 0, 0, 0, 250 },
	{ "delay-status:3600000,p=1", MIRROR_INJ_DELAY_STATUS, -1, 1.0, 0, 0, 0, 3600000 },
	{ "unknown-opcode,opcode=0xB0", MIRROR_INJ_UNKNOWN_OPCODE, 0xB0, 1.0, 0, 0, 0, 0 },
	{ "skip-validity", MIRROR_INJ_SKIP_VALIDITY, -1, 1.0, 0, 0, 0, 0 },
	{ "corrupt-readback,p=1e-3", MIRROR_INJ_CORRUPT_READBACK, -1, 0.001, 0, 0, 0, 0 },
	{ "close-mid-transfer,p=0.1,opcode=0x3C", MIRROR_INJ_CLOSE_MID_TRANSFER, 0x3C, 0.1, 0, 0, 0,
	  0 },
	{ "drop-status,opcode=0x00", MIRROR_INJ_DROP_STATUS, 0x00, 1.0, 0, 0, 0, 0 },
	{ "accept:small.bc_too_large,opcode=0xA0", MIRROR_INJ_ACCEPT, 0xA0, 1.0, 0, 0, 0, 0 },
	{ "wrong-pointer", MIRROR_INJ_WRONG_POINTER, -1, 1.0, 0, 0, 0, 0 },
	{ "wrong-asc,p=0.5", MIRROR_INJ_WRONG_ASC, -1, 0.5, 0, 0, 0, 0 },
	{ "valid-on-abort,opcode=0x3C", MIRROR_INJ_VALID_ON_ABORT, 0x3C, 1.0, 0, 0, 0, 0 },
	{ "data-in-mirror", MIRROR_INJ_DATA_IN_MIRROR, -1, 1.0, 0, 0, 0, 0 },
	{ "gap-sense", MIRROR_INJ_GAP_SENSE, -1, 1.0, 0, 0, 0, 0 },
	{ "keep-table,opcode=0xC6", MIRROR_INJ_KEEP_TABLE, 0xC6, 1.0, 0, 0, 0, 0 },
};

START_TEST(test_parse_ok)
{
	const struct parse_ok *c = &parse_ok_cases[_i];
	struct mirror_inject_rule r;
	char why[160] = "";

	memset(&r, 0xAA, sizeof(r));
	ck_assert_msg(mirror_inject_parse(c->spec, &r, why, sizeof(why)) == 0, "'%s': %s", c->spec,
		      why);
	ck_assert_int_eq(r.action, c->action);
	ck_assert_int_eq(r.opcode, c->opcode);
	ck_assert_double_eq_tol(r.probability, c->p, 1e-12);
	if (c->action == MIRROR_INJ_SENSE) {
		ck_assert_uint_eq(r.key, c->key);
		ck_assert_uint_eq(r.asc, c->asc);
		ck_assert_uint_eq(r.ascq, c->ascq);
	}
	if (c->action == MIRROR_INJ_DELAY_STATUS)
		ck_assert_uint_eq(r.delay_ms, c->delay_ms);
}
END_TEST

/* ---- bad specs are rejected, the reason names the bad part ---- */

struct parse_bad {
	const char *spec;
	const char *reason; /* a substring of the message */
};

static const struct parse_bad parse_bad_cases[] = {
	{ "", "empty" },
	{ "explode", "unknown action 'explode'" },
	{ "Drop-Status", "unknown action" },
	{ "sense", "sense needs an argument" },
	{ "sense:", "KK/AA/QQ" },
	{ "sense:05/24", "KK/AA/QQ" },
	{ "sense:05/24/00/00", "KK/AA/QQ" },
	{ "sense:05/2g/00", "ASC '2g'" },
	{ "sense:05/24/100", "ASCQ '100'" },
	{ "sense:10/24/00", "sense key 0x10" },
	{ "sense:/24/00", "sense key ''" },
	{ "drop-status:1", "drop-status takes no argument" },
	{ "skip-validity:yes", "skip-validity takes no argument" },
	{ "delay-status", "delay-status needs an argument" },
	{ "delay-status:", "needs milliseconds" },
	{ "delay-status:0", "at least 1 ms" },
	{ "delay-status:-5", "'-5' is not a number" },
	{ "delay-status:5s", "'5s' is not a number" },
	{ "delay-status:3600001", "over 3600000" },
	{ "delay-status:99999999999999999999", "over 3600000" },
	{ "drop-status,", "empty qualifier" },
	{ "drop-status,,p=1", "empty qualifier" },
	{ "drop-status,opcode", "'opcode' is not KEY=VALUE" },
	{ "drop-status,op=0xA0", "unknown qualifier 'op='" },
	{ "drop-status,opcode=0x100", "opcode='0x100'" },
	{ "drop-status,opcode=", "opcode=''" },
	{ "drop-status,opcode=zz", "opcode='zz'" },
	{ "drop-status,opcode=0xA0,opcode=0xB0", "opcode= given twice" },
	{ "drop-status,p=0", "p=0 is outside" },
	{ "drop-status,p=1.5", "p=1.5 is outside" },
	{ "drop-status,p=-0.5", "p='-0.5' is not a number" },
	{ "drop-status,p=nan", "p='nan'" },
	{ "drop-status,p=0.5x", "p='0.5x'" },
	{ "drop-status,p=", "p=''" },
	{ "drop-status,p=0.5,p=0.5", "p= given twice" },
	{ "drop-status, p=0.5", "unknown qualifier ' p='" },
	{ "accept", "accept needs an argument" },
	{ "accept:", "'' is not a rule id" },
	{ "accept:small.nosuch", "'small.nosuch' is not a rule id" },
	{ "accept:SMALL.BC_TOO_LARGE", "is not a rule id" },
	{ "accept:small.control_hazard", "is a warning" },
	{ "wrong-pointer:1", "wrong-pointer takes no argument" },
	{ "gap-sense:yes", "gap-sense takes no argument" },
	{ "keep-table:1", "keep-table takes no argument" },
};

START_TEST(test_parse_bad)
{
	const struct parse_bad *c = &parse_bad_cases[_i];
	struct mirror_inject_rule r, before;
	char why[200] = "";

	memset(&r, 0x5A, sizeof(r));
	before = r;
	ck_assert_int_eq(mirror_inject_parse(c->spec, &r, why, sizeof(why)), -EINVAL);
	ck_assert_msg(strstr(why, c->reason) != NULL, "'%s': reason '%s' lacks '%s'", c->spec, why,
		      c->reason);
	/* A rejected spec leaves the rule untouched. */
	ck_assert_mem_eq(&r, &before, sizeof(r));
}
END_TEST

START_TEST(test_parse_null_and_small_why)
{
	struct mirror_inject_rule r;
	char why[8];

	ck_assert_int_eq(mirror_inject_parse(NULL, &r, NULL, 0), -EINVAL);
	ck_assert_int_eq(mirror_inject_parse("bogus", &r, NULL, 0), -EINVAL);
	/* A short buffer gets a truncated, terminated message. */
	ck_assert_int_eq(mirror_inject_parse("bogus", &r, why, sizeof(why)), -EINVAL);
	ck_assert_uint_eq(strlen(why), sizeof(why) - 1);
}
END_TEST

START_TEST(test_parse_long_spec)
{
	char spec[512];
	struct mirror_inject_rule r;
	char why[160] = "";

	memset(spec, 'a', sizeof(spec) - 1);
	spec[sizeof(spec) - 1] = '\0';
	ck_assert_int_eq(mirror_inject_parse(spec, &r, why, sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "too long"));
	memcpy(spec, "drop-status,p=", 14);
	ck_assert_int_eq(mirror_inject_parse(spec, &r, why, sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "too long"));
}
END_TEST

/* ---- add ---- */

static struct mirror_inject_rule rule(const char *spec)
{
	struct mirror_inject_rule r;
	char why[160] = "";

	ck_assert_msg(mirror_inject_parse(spec, &r, why, sizeof(why)) == 0, "'%s': %s", spec, why);
	return r;
}

START_TEST(test_parse_accept_rule)
{
	struct mirror_inject_rule r = rule("accept:metadata.type");

	ck_assert_int_eq(r.action, MIRROR_INJ_ACCEPT);
	ck_assert_int_eq(r.rule, MIRROR_RULE_MD_TYPE);
	r = rule("accept:data.length");
	ck_assert_int_eq(r.rule, MIRROR_RULE_DATA_LENGTH);
}
END_TEST

START_TEST(test_add_limits)
{
	struct mirror_inject inj;
	struct mirror_inject_rule r = rule("drop-status");

	mirror_inject_init(&inj, 1);
	for (unsigned i = 0; i < MIRROR_INJECT_RULES_MAX; i++)
		ck_assert_int_eq(mirror_inject_add(&inj, &r), 0);
	ck_assert_int_eq(mirror_inject_add(&inj, &r), -ENOSPC);
	ck_assert_uint_eq(inj.n, MIRROR_INJECT_RULES_MAX);

	/* Hand-built rules are checked as the parser would. */
	mirror_inject_init(&inj, 1);
	r.probability = 0;
	ck_assert_int_eq(mirror_inject_add(&inj, &r), -EINVAL);
	r.probability = 1;
	r.opcode = 0x100;
	ck_assert_int_eq(mirror_inject_add(&inj, &r), -EINVAL);
	r.opcode = -2;
	ck_assert_int_eq(mirror_inject_add(&inj, &r), -EINVAL);
	r = rule("sense:05/24/00");
	r.key = 0x10;
	ck_assert_int_eq(mirror_inject_add(&inj, &r), -EINVAL);
	r = rule("accept:sg.sum");
	r.rule = MIRROR_RULE_COUNT_;
	ck_assert_int_eq(mirror_inject_add(&inj, &r), -EINVAL);
	r.rule = -1;
	ck_assert_int_eq(mirror_inject_add(&inj, &r), -EINVAL);
	ck_assert_uint_eq(inj.n, 0);
}
END_TEST

/* ---- decide ---- */

START_TEST(test_decide_no_rules)
{
	struct mirror_inject inj;
	struct mirror_inject_decision d;

	memset(&d, 0xFF, sizeof(d));
	mirror_inject_decide(NULL, 0xA0, &d);
	ck_assert(!d.faults.force_sense && !d.drop_status && !d.close_mid_transfer);
	ck_assert_uint_eq(d.delay_ms, 0);

	mirror_inject_init(&inj, 7);
	memset(&d, 0xFF, sizeof(d));
	mirror_inject_decide(&inj, 0xA0, &d);
	ck_assert(!d.faults.force_sense && !d.faults.unknown_opcode && !d.faults.skip_validity &&
		  !d.faults.corrupt_readback && !d.drop_status && !d.close_mid_transfer);
	ck_assert_uint_eq(d.delay_ms, 0);
}
END_TEST

START_TEST(test_decide_every_action)
{
	struct mirror_inject inj;
	struct mirror_inject_decision d;
	const char *specs[] = { "sense:05/24/00", "drop-status", "delay-status:20",
				"unknown-opcode", "skip-validity", "corrupt-readback",
				"close-mid-transfer", "delay-status:90", "delay-status:40",
				"sense:0B/47/03" };

	mirror_inject_init(&inj, 1);
	for (size_t i = 0; i < ARRAY_LEN(specs); i++) {
		struct mirror_inject_rule r = rule(specs[i]);
		ck_assert_int_eq(mirror_inject_add(&inj, &r), 0);
	}
	mirror_inject_decide(&inj, 0x3C, &d);
	ck_assert(d.faults.force_sense);
	/* the first sense rule that fires wins */
	ck_assert_uint_eq(d.faults.key, 0x05);
	ck_assert_uint_eq(d.faults.asc, 0x24);
	ck_assert_uint_eq(d.faults.ascq, 0x00);
	ck_assert(d.drop_status);
	ck_assert_uint_eq(d.delay_ms, 90); /* the longest delay */
	ck_assert(d.faults.unknown_opcode);
	ck_assert(d.faults.skip_validity);
	ck_assert(d.faults.corrupt_readback);
	ck_assert(d.close_mid_transfer);
	for (size_t i = 0; i < ARRAY_LEN(specs); i++)
		ck_assert_uint_eq(inj.fired[i], 1);
}
END_TEST

START_TEST(test_decide_opcode_filter)
{
	struct mirror_inject inj;
	struct mirror_inject_decision d;
	struct mirror_inject_rule a = rule("sense:05/24/00,opcode=0xA0");
	struct mirror_inject_rule b = rule("drop-status,opcode=0xB0");
	struct mirror_inject_rule any = rule("skip-validity");

	mirror_inject_init(&inj, 3);
	ck_assert_int_eq(mirror_inject_add(&inj, &a), 0);
	ck_assert_int_eq(mirror_inject_add(&inj, &b), 0);
	ck_assert_int_eq(mirror_inject_add(&inj, &any), 0);

	mirror_inject_decide(&inj, 0xA0, &d);
	ck_assert(d.faults.force_sense && !d.drop_status && d.faults.skip_validity);
	mirror_inject_decide(&inj, 0xB0, &d);
	ck_assert(!d.faults.force_sense && d.drop_status && d.faults.skip_validity);
	mirror_inject_decide(&inj, 0x12, &d);
	ck_assert(!d.faults.force_sense && !d.drop_status && d.faults.skip_validity);
	mirror_inject_decide(&inj, 0xA0, &d);

	ck_assert_uint_eq(inj.fired[0], 2);
	ck_assert_uint_eq(inj.fired[1], 1);
	ck_assert_uint_eq(inj.fired[2], 4);
}
END_TEST

START_TEST(test_decide_p1_always)
{
	struct mirror_inject inj;
	struct mirror_inject_decision d;
	struct mirror_inject_rule r = rule("close-mid-transfer,p=1");

	mirror_inject_init(&inj, test_seed());
	ck_assert_int_eq(mirror_inject_add(&inj, &r), 0);
	for (int i = 0; i < 10000; i++) {
		mirror_inject_decide(&inj, (uint8_t)i, &d);
		ck_assert(d.close_mid_transfer);
	}
	ck_assert_uint_eq(inj.fired[0], 10000);
}
END_TEST

/* p=0.5 over 10000 draws: the count is Binomial(10000, 0.5), standard
 * deviation 50, so [4800, 5200] is four sigmas (fails once in ~16000
 * seeds); with the fixed default seed the result is deterministic anyway. */
START_TEST(test_decide_p_half)
{
	struct mirror_inject inj;
	struct mirror_inject_decision d;
	struct mirror_inject_rule r = rule("drop-status,p=0.5");
	struct mirror_inject_rule q = rule("skip-validity,p=0.1");
	unsigned drops = 0;

	mirror_inject_init(&inj, test_seed());
	ck_assert_int_eq(mirror_inject_add(&inj, &r), 0);
	ck_assert_int_eq(mirror_inject_add(&inj, &q), 0);
	for (int i = 0; i < 10000; i++) {
		mirror_inject_decide(&inj, 0x3C, &d);
		drops += d.drop_status;
	}
	ck_assert_uint_eq(drops, inj.fired[0]);
	ck_assert_msg(drops >= 4800 && drops <= 5200, "p=0.5 fired %u of 10000", drops);
	/* sd 30: [880, 1120] is four sigmas */
	ck_assert_msg(inj.fired[1] >= 880 && inj.fired[1] <= 1120, "p=0.1 fired %llu of 10000",
		      (unsigned long long)inj.fired[1]);
}
END_TEST

/* Each rule draws on its own: two p=0.5 rules must not fire together
 * every time (which one shared draw per command would make them do). */
START_TEST(test_decide_independent_draws)
{
	struct mirror_inject inj;
	struct mirror_inject_decision d;
	struct mirror_inject_rule a = rule("drop-status,p=0.5");
	struct mirror_inject_rule b = rule("close-mid-transfer,p=0.5");
	unsigned both = 0;

	mirror_inject_init(&inj, test_seed());
	ck_assert_int_eq(mirror_inject_add(&inj, &a), 0);
	ck_assert_int_eq(mirror_inject_add(&inj, &b), 0);
	for (int i = 0; i < 10000; i++) {
		mirror_inject_decide(&inj, 0x3C, &d);
		both += d.drop_status && d.close_mid_transfer;
	}
	/* about 2500 (sd ~43) */
	ck_assert_msg(both >= 2300 && both <= 2700, "both fired %u of 10000", both);
}
END_TEST

static void run_sequence(uint64_t seed, bool *out, size_t n)
{
	struct mirror_inject inj;
	struct mirror_inject_decision d;
	struct mirror_inject_rule r = rule("sense:03/11/00,p=0.3");

	mirror_inject_init(&inj, seed);
	ck_assert_int_eq(mirror_inject_add(&inj, &r), 0);
	for (size_t i = 0; i < n; i++) {
		mirror_inject_decide(&inj, 0xA0, &d);
		out[i] = d.faults.force_sense;
	}
}

START_TEST(test_decide_replay)
{
	bool x[1000], y[1000], z[1000];
	uint64_t seed = test_seed();

	run_sequence(seed, x, ARRAY_LEN(x));
	run_sequence(seed, y, ARRAY_LEN(y));
	run_sequence(seed + 1, z, ARRAY_LEN(z));
	ck_assert_mem_eq(x, y, sizeof(x));
	ck_assert_msg(memcmp(x, z, sizeof(x)) != 0, "seeds %llu and %llu give the same run",
		      (unsigned long long)seed, (unsigned long long)seed + 1);
	/* seed 0 is a seed like any other */
	run_sequence(0, x, ARRAY_LEN(x));
	run_sequence(0, y, ARRAY_LEN(y));
	ck_assert_mem_eq(x, y, sizeof(x));
}
END_TEST

/* A rule with p=1 draws nothing, so adding one does not shift what the
 * random rules decide. */
START_TEST(test_decide_certain_rule_draws_nothing)
{
	struct mirror_inject a, b;
	struct mirror_inject_decision da, db;
	struct mirror_inject_rule rnd = rule("drop-status,p=0.5");
	struct mirror_inject_rule always = rule("skip-validity");

	mirror_inject_init(&a, 42);
	mirror_inject_init(&b, 42);
	ck_assert_int_eq(mirror_inject_add(&a, &rnd), 0);
	ck_assert_int_eq(mirror_inject_add(&b, &always), 0);
	ck_assert_int_eq(mirror_inject_add(&b, &rnd), 0);
	for (int i = 0; i < 1000; i++) {
		mirror_inject_decide(&a, 0x3C, &da);
		mirror_inject_decide(&b, 0x3C, &db);
		ck_assert_int_eq(da.drop_status, db.drop_status);
	}
	/* and an opcode that no rule matches draws nothing either */
	struct mirror_inject_rule only_a0 = rule("drop-status,opcode=0xA0,p=0.5");
	mirror_inject_init(&a, 42);
	mirror_inject_init(&b, 42);
	ck_assert_int_eq(mirror_inject_add(&a, &only_a0), 0);
	ck_assert_int_eq(mirror_inject_add(&b, &only_a0), 0);
	for (int i = 0; i < 1000; i++) {
		mirror_inject_decide(&a, 0xA0, &da);
		mirror_inject_decide(&b, 0x12, &db); /* not matched: no draw */
		mirror_inject_decide(&b, 0xA0, &db);
		ck_assert_int_eq(da.drop_status, db.drop_status);
	}
}
END_TEST

/* ---- the deviations of the conformance suite ---- */

START_TEST(test_decide_deviations)
{
	struct mirror_inject inj;
	struct mirror_inject_decision d;
	const char *specs[] = { "accept:small.bc_too_large", "accept:metadata.pad,opcode=0x3C",
				"wrong-pointer", "wrong-asc", "valid-on-abort", "data-in-mirror",
				"gap-sense", "keep-table" };

	mirror_inject_init(&inj, 1);
	for (size_t i = 0; i < ARRAY_LEN(specs); i++) {
		struct mirror_inject_rule r = rule(specs[i]);
		ck_assert_int_eq(mirror_inject_add(&inj, &r), 0);
	}
	mirror_inject_decide(&inj, 0xA0, &d);
	ck_assert_uint_eq(d.faults.accept_rules, 1ull << MIRROR_RULE_SMALL_BC_TOO_LARGE);
	ck_assert(d.faults.wrong_pointer && d.faults.wrong_asc && d.faults.valid_on_abort &&
		  d.faults.data_in_is_mirror && d.faults.gap_sense && d.faults.keep_table);
	ck_assert(!d.faults.force_sense && !d.drop_status);
	mirror_inject_decide(&inj, 0x3C, &d);
	ck_assert_uint_eq(d.faults.accept_rules, (1ull << MIRROR_RULE_SMALL_BC_TOO_LARGE) |
							 (1ull << MIRROR_RULE_MD_PAD));
}
END_TEST

/* What each deviation makes a receiver do (lib/model/receiver.c). */
#define NV_SIZE (4u << 20)

static struct mirror_profile dprof;
static struct mirror_nvram dnv;
static struct mirror_receiver drx;
static uint8_t *dnv_data;
static uint64_t *dnv_bitmap;

static void dev_setup(void)
{
	mirror_profile_init(&dprof);
	dprof.nvram_size = NV_SIZE;
	dprof.region_split = NV_SIZE / 2;
	dnv_data = calloc(1, NV_SIZE);
	dnv_bitmap = calloc(1, mirror_nvram_bitmap_bytes(NV_SIZE));
	ck_assert_ptr_nonnull(dnv_data);
	ck_assert_ptr_nonnull(dnv_bitmap);
	ck_assert_int_eq(mirror_nvram_init(&dnv, &dprof, dnv_data, dnv_bitmap), 0);
	ck_assert_int_eq(mirror_rx_init(&drx, &dprof, 1, &dnv), 0);
	/* volume 1 in the table, as ARRAY TABLE UPDATE would leave it */
	ck_assert_int_eq(mirror_array_table_add(&drx.table, 1, 0x1234, 1), 0);
	drx.table_received = true;
}

static void dev_teardown(void)
{
	free(dnv_data);
	free(dnv_bitmap);
}

/* A small write CDB: element 1 at NVRAM 0x10000 with bc blocks, volume 1. */
static void small_cdb(uint8_t *cdb, unsigned bc)
{
	struct mirror_small_cdb s;

	memset(&s, 0, sizeof(s));
	s.opcode = 0xA0;
	s.volume = 1;
	s.slots = 2;
	s.sg[0].descriptor = 0x10000 / 512;
	s.sg[0].blocks = (uint8_t)bc;
	ck_assert_int_eq(mirror_small_cdb_encode(&dprof, &s, cdb, 16), 12);
}

static void begin(const uint8_t *cdb, enum mirror_xfer_dir dir, uint32_t edtl,
		  const struct mirror_rx_faults *f, struct mirror_rx_task *t,
		  struct mirror_rx_action *a, struct mirror_sense *s)
{
	memset(t, 0, sizeof(*t));
	ck_assert_int_eq(mirror_rx_begin(&drx, t, cdb, 16, dir, edtl, "iqn.x", f, a), 0);
	memset(s, 0, sizeof(*s));
	if (a->kind == MIRROR_RX_RESPOND && a->sense_len)
		ck_assert_int_eq(mirror_sense_parse(a->sense, a->sense_len, s), 0);
}

START_TEST(test_deviation_effects)
{
	uint8_t cdb[16] = { 0 };
	struct mirror_rx_faults f;
	struct mirror_rx_task t;
	struct mirror_rx_action a;
	struct mirror_sense s;

	/* correct: bc 33 is INVALID FIELD IN CDB at byte 1 bit 3 */
	small_cdb(cdb, 33);
	begin(cdb, MIRROR_DIR_OUT, 33 * 512, NULL, &t, &a, &s);
	ck_assert(a.kind == MIRROR_RX_RESPOND && s.asc == 0x24 && s.sksv && s.field == 1 && s.bit == 3);
	mirror_rx_end(&drx, &t);
	/* wrong-pointer: byte 2; wrong-asc: 26h */
	memset(&f, 0, sizeof(f));
	f.wrong_pointer = true;
	begin(cdb, MIRROR_DIR_OUT, 33 * 512, &f, &t, &a, &s);
	ck_assert(s.asc == 0x24 && s.field == 2);
	mirror_rx_end(&drx, &t);
	memset(&f, 0, sizeof(f));
	f.wrong_asc = true;
	begin(cdb, MIRROR_DIR_OUT, 33 * 512, &f, &t, &a, &s);
	ck_assert(s.asc == 0x26 && s.field == 1);
	mirror_rx_end(&drx, &t);
	/* accept:small.bc_too_large: the data is asked for */
	memset(&f, 0, sizeof(f));
	f.accept_rules = 1ull << MIRROR_RULE_SMALL_BC_TOO_LARGE;
	begin(cdb, MIRROR_DIR_OUT, 33 * 512, &f, &t, &a, &s);
	ck_assert_int_eq(a.kind, MIRROR_RX_WANT_DATA);
	ck_assert_uint_eq(a.length, 33 * 512);
	mirror_rx_end(&drx, &t);
	/* accepting another rule changes nothing */
	f.accept_rules = 1ull << MIRROR_RULE_MD_TYPE;
	begin(cdb, MIRROR_DIR_OUT, 33 * 512, &f, &t, &a, &s);
	ck_assert(a.kind == MIRROR_RX_RESPOND && s.asc == 0x24);
	mirror_rx_end(&drx, &t);

	/* valid-on-abort: a small write aborted after its CDB passed */
	small_cdb(cdb, 8);
	begin(cdb, MIRROR_DIR_OUT, 4096, NULL, &t, &a, &s);
	ck_assert_int_eq(a.kind, MIRROR_RX_WANT_DATA);
	mirror_rx_abort(&drx, &t);
	mirror_rx_end(&drx, &t);
	ck_assert_int_eq(mirror_nvram_count_valid(&dnv, 0x10000, 4096), 0);
	memset(&f, 0, sizeof(f));
	f.valid_on_abort = true;
	begin(cdb, MIRROR_DIR_OUT, 4096, &f, &t, &a, &s);
	mirror_rx_abort(&drx, &t);
	mirror_rx_end(&drx, &t);
	ck_assert_int_eq(mirror_nvram_count_valid(&dnv, 0x10000, 4096), 8);

	/* data-in-mirror: REPORT LUNS (0xA0 data-in) taken for a small write */
	static const uint8_t report_luns[16] = { 0xA0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0 };
	begin(report_luns, MIRROR_DIR_IN, 4096, NULL, &t, &a, &s);
	ck_assert(a.kind == MIRROR_RX_RESPOND && a.status == MIRROR_STATUS_GOOD);
	mirror_rx_end(&drx, &t);
	memset(&f, 0, sizeof(f));
	f.data_in_is_mirror = true;
	begin(report_luns, MIRROR_DIR_IN, 4096, &f, &t, &a, &s);
	ck_assert_int_eq(t.kind, MIRROR_RX_KIND_SMALL);
	ck_assert(a.kind == MIRROR_RX_RESPOND && a.status == MIRROR_STATUS_CHECK_CONDITION);
	mirror_rx_end(&drx, &t);
}
END_TEST

/* gap-sense: sequence 1 then 3 from one sender; the second is refused
 * after its ranges were invalidated. */
START_TEST(test_deviation_gap_sense)
{
	uint8_t cdb[16] = { 0x3C };
	uint8_t md[MIRROR_METADATA_BYTES];
	struct mirror_metadata m;
	struct mirror_rx_faults f;
	struct mirror_rx_task t;
	struct mirror_rx_action a;
	struct mirror_sense s;
	static uint8_t data[4096];

	memset(&f, 0, sizeof(f));
	f.gap_sense = true;
	for (uint32_t seq = 1; seq <= 3; seq += 2) {
		mirror_metadata_init(&m);
		m.sequence = seq;
		m.blocks = 8;
		m.region = 0;
		m.sg_count = 1;
		m.sg[0].nvram_addr = 0x20000;
		m.sg[0].bytes = 4096;
		ck_assert_int_eq(mirror_metadata_encode(&m, md, sizeof(md)), 1024);
		begin(cdb, MIRROR_DIR_OUT, 1024 + 4096, &f, &t, &a, &s);
		ck_assert_int_eq(a.kind, MIRROR_RX_WANT_DATA);
		ck_assert_int_eq(mirror_rx_data(&drx, &t, md, sizeof(md), &a), 0);
		if (seq == 1) {
			ck_assert_int_eq(a.kind, MIRROR_RX_WANT_DATA);
			ck_assert_int_eq(mirror_rx_data(&drx, &t, data, sizeof(data), &a), 0);
			ck_assert_uint_eq(a.status, MIRROR_STATUS_GOOD);
			ck_assert_int_eq(mirror_nvram_count_valid(&dnv, 0x20000, 4096), 8);
		} else {
			ck_assert(a.kind == MIRROR_RX_RESPOND &&
				  a.status == MIRROR_STATUS_CHECK_CONDITION);
			ck_assert_int_eq(mirror_nvram_count_valid(&dnv, 0x20000, 4096), 0);
		}
		mirror_rx_end(&drx, &t);
	}
}
END_TEST

/* Pushes table t with faults f: GOOD either way. */
static void push_table(const struct mirror_array_table *t, const struct mirror_rx_faults *f)
{
	static uint8_t list[MIRROR_TABLE_MAX_BYTES];
	uint8_t cdb[16] = { 0 };
	struct mirror_rx_task task;
	struct mirror_rx_action a;
	struct mirror_sense s;
	int len = mirror_table_update_encode(t, list, sizeof(list));

	ck_assert_int_gt(len, 0);
	ck_assert_int_eq(mirror_table_update_cdb_encode(&drx.profile, (uint32_t)len, cdb, sizeof(cdb)),
			 MIRROR_TABLE_CDB_LEN);
	begin(cdb, MIRROR_DIR_OUT, (uint32_t)len, f, &task, &a, &s);
	ck_assert_int_eq(a.kind, MIRROR_RX_WANT_DATA);
	ck_assert_int_eq(mirror_rx_data(&drx, &task, list, (uint32_t)len, &a), 0);
	ck_assert(a.kind == MIRROR_RX_RESPOND && a.status == MIRROR_STATUS_GOOD);
	mirror_rx_end(&drx, &task);
}

/* keep-table: a newer table that drops volume 9 is answered GOOD, yet the
 * receiver still maps volume 9 (a stale generation); without the fault
 * the newer table is in force. */
START_TEST(test_deviation_keep_table)
{
	struct mirror_array_table t1, t2;
	struct mirror_rx_faults f;
	uint64_t serial;
	uint8_t array;

	mirror_array_table_init(&t1);
	ck_assert_int_eq(mirror_array_table_add(&t1, 9, 0x1111, 1), 0);
	ck_assert_int_eq(mirror_array_table_add(&t1, 10, 0x2222, 2), 0);
	t2 = t1;
	ck_assert_int_eq(mirror_array_table_delete(&t2, 9), 0);
	memset(&f, 0, sizeof(f));
	f.keep_table = true;
	push_table(&t1, NULL);
	push_table(&t2, &f);
	ck_assert_int_eq(mirror_array_table_lookup(&drx.table, 9, &serial, &array), 0);
	ck_assert_uint_eq(drx.table.generation, t1.generation);
	push_table(&t2, NULL);
	ck_assert_int_lt(mirror_array_table_lookup(&drx.table, 9, &serial, &array), 0);
	ck_assert_uint_eq(drx.table.generation, t2.generation);
}
END_TEST

static Suite *inject_suite(void)
{
	Suite *s = suite_create("inject");
	TCase *tc;

	tc = tcase_create("parse");
	tcase_add_loop_test(tc, test_parse_ok, 0, (int)ARRAY_LEN(parse_ok_cases));
	tcase_add_loop_test(tc, test_parse_bad, 0, (int)ARRAY_LEN(parse_bad_cases));
	tcase_add_test(tc, test_parse_null_and_small_why);
	tcase_add_test(tc, test_parse_long_spec);
	tcase_add_test(tc, test_add_limits);
	tcase_add_test(tc, test_parse_accept_rule);
	suite_add_tcase(s, tc);

	tc = tcase_create("decide");
	tcase_add_test(tc, test_decide_no_rules);
	tcase_add_test(tc, test_decide_every_action);
	tcase_add_test(tc, test_decide_opcode_filter);
	tcase_add_test(tc, test_decide_p1_always);
	tcase_add_test(tc, test_decide_p_half);
	tcase_add_test(tc, test_decide_independent_draws);
	tcase_add_test(tc, test_decide_replay);
	tcase_add_test(tc, test_decide_certain_rule_draws_nothing);
	tcase_add_test(tc, test_decide_deviations);
	suite_add_tcase(s, tc);

	tc = tcase_create("deviations");
	tcase_add_checked_fixture(tc, dev_setup, dev_teardown);
	tcase_add_test(tc, test_deviation_effects);
	tcase_add_test(tc, test_deviation_gap_sense);
	tcase_add_test(tc, test_deviation_keep_table);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run_suite(inject_suite());
}
