/* Error texts, named profiles and their check, size and hex parsing (what
 * the commands take on their command lines), and the opcode dispatch of
 * mirror_cdb_decode. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "testutil.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MiB (1024u * 1024u)

/* ---- mirror_strerror ---- */

START_TEST(test_strerror_mirror_codes)
{
	for (int a = MIRROR_E_BASE; a > MIRROR_E_LAST; a--) {
		const char *ta = mirror_strerror(a);
		ck_assert_ptr_nonnull(ta);
		ck_assert_msg(strlen(ta) > 0, "code %d has no text", a);
		ck_assert_str_ne(ta, "unknown error");
		for (int b = a - 1; b > MIRROR_E_LAST; b--)
			ck_assert_msg(strcmp(ta, mirror_strerror(b)) != 0, "codes %d and %d share \"%s\"",
				      a, b, ta);
	}
	ck_assert_str_eq(mirror_strerror(MIRROR_E_NOSPACE), "output buffer too small");
}
END_TEST

START_TEST(test_strerror_other_codes)
{
	ck_assert_str_eq(mirror_strerror(-EINVAL), strerror(EINVAL));
	ck_assert_str_eq(mirror_strerror(-ENOENT), strerror(ENOENT));
	ck_assert_str_eq(mirror_strerror(0), "success");
	ck_assert_str_eq(mirror_strerror(MIRROR_E_LAST), "unknown error");
	ck_assert_str_eq(mirror_strerror(-5000), "unknown error");
}
END_TEST

/* ---- named profiles ---- */

START_TEST(test_profile_names)
{
	static const char *const documented[] = { "v1", "v1-18bit", "v1-cdb16", "vendor" };
	size_t n = 0;

	for (const char *name; (name = mirror_profile_name_at(n)) != NULL; n++) {
		struct mirror_profile p;
		char why[128] = "";

		ck_assert_int_eq(mirror_profile_by_name(name, &p), 0);
		ck_assert_str_eq(p.name, name);
		ck_assert_msg(mirror_profile_check(&p, why, sizeof(why)) == 0, "%s: %s", name, why);
		ck_assert_ptr_nonnull(mirror_profile_summary_at(n));
		ck_assert_uint_gt(strlen(mirror_profile_summary_at(n)), 0);
	}
	ck_assert_uint_ge(n, ARRAY_LEN(documented));
	ck_assert_ptr_null(mirror_profile_summary_at(n));
	for (size_t k = 0; k < ARRAY_LEN(documented); k++) {
		struct mirror_profile p;
		ck_assert_msg(mirror_profile_by_name(documented[k], &p) == 0, "%s", documented[k]);
	}
}
END_TEST

START_TEST(test_profile_values)
{
	struct mirror_profile def, p;

	mirror_profile_init(&def);
	ck_assert_int_eq(mirror_profile_by_name("v1", &p), 0);
	ck_assert_str_eq(def.name, "v1");
	ck_assert_uint_eq(p.op.notify, 0x3C);
	ck_assert_uint_eq(p.op.small_a_to_b, 0xA0);
	ck_assert_uint_eq(p.op.small_b_to_a, 0xB0);
	ck_assert_uint_eq(p.op.table_update, 0xC6);
	ck_assert_uint_eq(p.op.readback, 0xC8);
	ck_assert_int_eq(p.small_layout, MIRROR_SMALL_CDB12_20BIT);
	ck_assert_uint_eq(p.nvram_size, MIRROR_NVRAM_DEFAULT_SIZE);
	ck_assert_uint_eq(p.region_split, MIRROR_NVRAM_DEFAULT_SIZE / 2);
	ck_assert(!p.strict);
	ck_assert_mem_eq(&p.op, &def.op, sizeof(p.op));

	ck_assert_int_eq(mirror_profile_by_name("v1-18bit", &p), 0);
	ck_assert_int_eq(p.small_layout, MIRROR_SMALL_CDB12_18BIT);
	ck_assert_int_eq(mirror_profile_by_name("v1-cdb16", &p), 0);
	ck_assert_int_eq(p.small_layout, MIRROR_SMALL_CDB16);
	/* vendor: every mirror command in the vendor-specific range */
	ck_assert_int_eq(mirror_profile_by_name("vendor", &p), 0);
	const uint8_t ops[] = { p.op.notify, p.op.small_a_to_b, p.op.small_b_to_a,
				p.op.table_update, p.op.readback };
	for (size_t k = 0; k < ARRAY_LEN(ops); k++)
		ck_assert_uint_ge(ops[k], 0xC0);
}
END_TEST

START_TEST(test_profile_unknown)
{
	struct mirror_profile p;

	memset(&p, 0x5A, sizeof(p));
	ck_assert_int_eq(mirror_profile_by_name("v2", &p), -ENOENT);
	ck_assert_int_eq(mirror_profile_by_name("", &p), -ENOENT);
	ck_assert_int_eq(mirror_profile_by_name("v1 ", &p), -ENOENT);
	ck_assert_uint_eq(p.nvram_size, 0x5A5A5A5Au); /* untouched */
}
END_TEST

/* Inconsistent profiles, each a change to v1, and the reason given. */
static const struct {
	uint32_t size, split;
	enum mirror_small_layout layout;
	unsigned dup; /* 0: none, 1: readback = notify, 2: both small opcodes alike */
	const char *reason; /* NULL: accepted */
} profile_cases[] = {
	{ 0, 64 * MiB, MIRROR_SMALL_CDB12_20BIT, 0, "multiple of 512" },
	{ 1000, 512, MIRROR_SMALL_CDB12_20BIT, 0, "multiple of 512" },
	{ 128 * MiB + 1, 64 * MiB, MIRROR_SMALL_CDB12_20BIT, 0, "multiple of 512" },
	{ 512 * MiB + 512, 256 * MiB, MIRROR_SMALL_CDB12_20BIT, 0, "512 MiB" },
	{ 128 * MiB, 0, MIRROR_SMALL_CDB12_20BIT, 0, "region split" },
	{ 128 * MiB, 128 * MiB, MIRROR_SMALL_CDB12_20BIT, 0, "region split" },
	{ 128 * MiB, 200 * MiB, MIRROR_SMALL_CDB12_20BIT, 0, "region split" },
	{ 128 * MiB, 64 * MiB + 100, MIRROR_SMALL_CDB12_20BIT, 0, "region split" },
	{ 128 * MiB + 512, 64 * MiB, MIRROR_SMALL_CDB12_18BIT, 0, "18-bit" },
	{ 256 * MiB, 128 * MiB, MIRROR_SMALL_CDB12_18BIT, 0, "18-bit" },
	{ 128 * MiB, 64 * MiB, (enum mirror_small_layout)7, 0, "layout" },
	{ 128 * MiB, 64 * MiB, MIRROR_SMALL_CDB12_20BIT, 1, "0x3C" },
	{ 128 * MiB, 64 * MiB, MIRROR_SMALL_CDB12_20BIT, 2, "0xA0" },
	/* the limits themselves are fine */
	{ 512 * MiB, 256 * MiB, MIRROR_SMALL_CDB12_20BIT, 0, NULL },
	{ 512 * MiB, 512 * MiB - 512, MIRROR_SMALL_CDB16, 0, NULL },
	{ 128 * MiB, 512, MIRROR_SMALL_CDB12_18BIT, 0, NULL },
	{ 1024, 512, MIRROR_SMALL_CDB12_20BIT, 0, NULL },
};

START_TEST(test_profile_check)
{
	struct mirror_profile p;
	char why[128];

	mirror_profile_init(&p);
	p.nvram_size = profile_cases[_i].size;
	p.region_split = profile_cases[_i].split;
	p.small_layout = profile_cases[_i].layout;
	if (profile_cases[_i].dup == 1)
		p.op.readback = p.op.notify;
	else if (profile_cases[_i].dup == 2)
		p.op.small_b_to_a = p.op.small_a_to_b;
	strcpy(why, "untouched");
	if (!profile_cases[_i].reason) {
		ck_assert_int_eq(mirror_profile_check(&p, why, sizeof(why)), 0);
		return;
	}
	ck_assert_int_eq(mirror_profile_check(&p, why, sizeof(why)), MIRROR_E_PROFILE);
	ck_assert_msg(strstr(why, profile_cases[_i].reason) != NULL, "reason \"%s\" lacks \"%s\"", why,
		      profile_cases[_i].reason);
	/* No buffer for the reason is fine too. */
	ck_assert_int_eq(mirror_profile_check(&p, NULL, 0), MIRROR_E_PROFILE);
	/* A short buffer gets a cut, terminated reason. */
	memset(why, 'X', sizeof(why));
	ck_assert_int_eq(mirror_profile_check(&p, why, 6), MIRROR_E_PROFILE);
	ck_assert_uint_eq(strlen(why), 5);
}
END_TEST

/* ---- mirror_parse_size ---- */

static const struct {
	const char *text;
	int rc;
	uint64_t value;
} sizes[] = {
	{ "128M", 0, 128ull << 20 },
	{ "64k", 0, 64ull << 10 },
	{ "64K", 0, 64ull << 10 },
	{ "1G", 0, 1ull << 30 },
	{ "512", 0, 512 },
	{ "0x200", 0, 512 },
	{ "010", 0, 10 },          /* decimal, never octal */
	{ "0100M", 0, 100ull << 20 },
	{ "0", 0, 0 },
	{ "4KiB", 0, 4096 },
	{ "2MB", 0, 2ull << 20 },
	{ "17179869183G", 0, 17179869183ull << 30 }, /* the largest that fits */
	{ "", -EINVAL, 0 },
	{ "-1", -EINVAL, 0 },
	{ " -1", -EINVAL, 0 },
	{ "-0x200", -EINVAL, 0 },
	{ "12Q", -EINVAL, 0 },
	{ "M", -EINVAL, 0 },
	{ "1MM", -EINVAL, 0 },
	{ "1M ", -EINVAL, 0 },
	{ "99999999999999999999", -EINVAL, 0 }, /* over 2^64 */
	{ "17179869184G", -ERANGE, 0 },		/* over 2^64 once shifted */
	{ "18446744073709551615K", -ERANGE, 0 },
};

START_TEST(test_parse_size)
{
	uint64_t v = 0xABCDEF;
	int rc = mirror_parse_size(sizes[_i].text, &v);

	ck_assert_msg(rc == sizes[_i].rc, "\"%s\": rc %d, want %d", sizes[_i].text, rc, sizes[_i].rc);
	if (rc == 0)
		ck_assert_uint_eq(v, sizes[_i].value);
	else
		ck_assert_uint_eq(v, 0xABCDEF); /* a refused size leaves *out alone */
}
END_TEST

START_TEST(test_parse_size_null)
{
	uint64_t v;

	ck_assert_int_eq(mirror_parse_size(NULL, &v), -EINVAL);
}
END_TEST

/* ---- mirror_parse_count, mirror_parse_double ---- */

static const struct {
	const char *text;
	uint64_t min, max;
	int rc;
	uint64_t value;
} counts[] = {
	{ "0", 0, 10, 0, 0 },
	{ "10", 0, 10, 0, 10 },
	{ "11", 0, 10, -ERANGE, 0 },
	{ "0", 1, 10, -ERANGE, 0 },
	{ "010", 0, 100, 0, 10 },          /* decimal, never octal */
	{ "0x1F", 0, 100, 0, 31 },
	{ "18446744073709551615", 0, UINT64_MAX, 0, UINT64_MAX },
	{ "18446744073709551616", 0, UINT64_MAX, -ERANGE, 0 },
	{ "-1", 0, UINT64_MAX, -EINVAL, 0 }, /* no wrap to 2^64 - 1 */
	{ " 5", 0, 10, -EINVAL, 0 },
	{ "+5", 0, 10, -EINVAL, 0 },
	{ "5x", 0, 10, -EINVAL, 0 },
	{ "4k", 0, 10000, -EINVAL, 0 },    /* counts take no size suffix */
	{ "", 0, 10, -EINVAL, 0 },
	{ "0x", 0, 10, -EINVAL, 0 },
};

START_TEST(test_parse_count)
{
	uint64_t v = 12345;
	int rc = mirror_parse_count(counts[_i].text, counts[_i].min, counts[_i].max, &v);

	ck_assert_msg(rc == counts[_i].rc, "'%s': %d, want %d", counts[_i].text, rc, counts[_i].rc);
	ck_assert_uint_eq(v, rc == 0 ? counts[_i].value : 12345); /* untouched on error */
}
END_TEST

START_TEST(test_parse_double)
{
	double v = -1;

	ck_assert_int_eq(mirror_parse_double("0.5", 0.1, 1, &v), 0);
	ck_assert(v == 0.5);
	ck_assert_int_eq(mirror_parse_double("1e2", 0, 1000, &v), 0);
	ck_assert(v == 100);
	ck_assert_int_eq(mirror_parse_double("0", 1e-9, 10, &v), -ERANGE);
	ck_assert_int_eq(mirror_parse_double("11", 0, 10, &v), -ERANGE);
	ck_assert_int_eq(mirror_parse_double("1e999", 0, 1e300, &v), -ERANGE);
	ck_assert_int_eq(mirror_parse_double("nan", 0, 10, &v), -EINVAL);
	ck_assert_int_eq(mirror_parse_double("", 0, 10, &v), -EINVAL);
	ck_assert_int_eq(mirror_parse_double(" 1", 0, 10, &v), -EINVAL);
	ck_assert_int_eq(mirror_parse_double("1s", 0, 10, &v), -EINVAL);
	ck_assert_int_eq(mirror_parse_double(NULL, 0, 10, &v), -EINVAL);
	ck_assert_int_eq(mirror_parse_count(NULL, 0, 10, &(uint64_t){ 0 }), -EINVAL);
}
END_TEST

/* ---- mirror_hex_parse ---- */

static const struct {
	const char *text;
	uint8_t bytes[12];
	size_t len;
} hex_ok[] = {
	{ "a0 32 04", { 0xA0, 0x32, 0x04 }, 3 },
	{ "a03204", { 0xA0, 0x32, 0x04 }, 3 },
	{ "0xa0,0x32", { 0xA0, 0x32 }, 2 },
	{ "0XA0, 0X3f", { 0xA0, 0x3F }, 2 },
	{ "a 1", { 0x0A, 0x01 }, 2 },	/* a lone digit is a whole byte */
	{ "A0:3F\n04\n", { 0xA0, 0x3F, 0x04 }, 3 },
	{ "  \t\n", { 0 }, 0 },
	{ "", { 0 }, 0 },
	{ "00 00", { 0, 0 }, 2 },
	{ "ff", { 0xFF }, 1 },
	{ "c8 00 00 20 00 00 00 00 00 10 00 07",
	  { 0xC8, 0, 0, 0x20, 0, 0, 0, 0, 0, 0x10, 0, 0x07 }, 12 },
};

START_TEST(test_hex_ok)
{
	uint8_t out[16];
	size_t len = 999;
	char why[80] = "";

	memset(out, 0xEE, sizeof(out));
	ck_assert_msg(mirror_hex_parse(hex_ok[_i].text, out, sizeof(out), &len, why, sizeof(why)) == 0,
		      "\"%s\": %s", hex_ok[_i].text, why);
	ck_assert_uint_eq(len, hex_ok[_i].len);
	ck_assert_mem_eq(out, hex_ok[_i].bytes, hex_ok[_i].len);
	ck_assert_uint_eq(out[len], 0xEE);
}
END_TEST

static const struct {
	const char *text;
	const char *where; /* what the reason must say */
} hex_bad[] = {
	{ "a0 3g", "position 5" },
	{ "zz", "position 1" },
	{ "a0-32", "position 3" },
	{ "0xa0 0y", "position 7" },
};

START_TEST(test_hex_invalid)
{
	uint8_t out[16];
	size_t len = 999;
	char why[80] = "";

	ck_assert_int_eq(mirror_hex_parse(hex_bad[_i].text, out, sizeof(out), &len, why, sizeof(why)),
			 -EINVAL);
	ck_assert_msg(strstr(why, hex_bad[_i].where) != NULL, "\"%s\" -> \"%s\"", hex_bad[_i].text, why);
	ck_assert_uint_eq(len, 999);
	/* and without a buffer for the reason */
	ck_assert_int_eq(mirror_hex_parse(hex_bad[_i].text, out, sizeof(out), &len, NULL, 0), -EINVAL);
}
END_TEST

START_TEST(test_hex_nospace)
{
	uint8_t out[4];
	size_t len = 999;

	memset(out, 0xEE, sizeof(out));
	ck_assert_int_eq(mirror_hex_parse("a0 32 04", out, 2, &len, NULL, 0), MIRROR_E_NOSPACE);
	ck_assert_uint_eq(out[2], 0xEE);
	ck_assert_uint_eq(len, 999);
	/* a trailing lone digit is a byte too */
	ck_assert_int_eq(mirror_hex_parse("a0 3", out, 1, &len, NULL, 0), MIRROR_E_NOSPACE);
	ck_assert_int_eq(mirror_hex_parse("a0 3 ", out, 1, &len, NULL, 0), MIRROR_E_NOSPACE);
	ck_assert_int_eq(mirror_hex_parse("a0 32", out, 2, &len, NULL, 0), 0);
	ck_assert_uint_eq(len, 2);
}
END_TEST

/* ---- mirror_cdb_decode ---- */

static const char *const dispatch_profiles[] = { "v1", "vendor" };

START_TEST(test_decode_dispatch)
{
	struct mirror_profile p;
	struct mirror_decoded_cdb d;
	struct mirror_findings f;
	uint8_t cdb[16];
	int n;

	ck_assert_int_eq(mirror_profile_by_name(dispatch_profiles[_i], &p), 0);

	/* small write into each region */
	for (unsigned region = 0; region < 2; region++) {
		struct mirror_sg_element sg = { mirror_region_start(&p, region) + 0x1000, 4096 };
		struct mirror_small_cdb sc;
		ck_assert_int_eq(mirror_small_cdb_from_sg(&p, region, 5, 1000, &sg, 1, &sc), 0);
		n = mirror_small_cdb_encode(&p, &sc, cdb, sizeof(cdb));
		ck_assert_int_eq(n, 12);
		mirror_findings_init(&f);
		ck_assert_int_eq(mirror_cdb_decode(&p, cdb, (size_t)n, NULL, &d, &f), 0);
		ck_assert_int_eq(d.kind, MIRROR_CMD_SMALL);
		ck_assert_uint_eq(d.opcode, mirror_small_opcode_for_region(&p, region));
		ck_assert_uint_eq(d.len, 12);
		ck_assert_int_eq(d.u.small.region, (int)region);
		ck_assert_uint_eq(d.u.small.volume, 5);
		ck_assert_uint_eq(d.u.small.lba, 1000);
	}

	/* notification */
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = p.op.notify;
	mirror_findings_init(&f);
	ck_assert_int_eq(mirror_cdb_decode(&p, cdb, MIRROR_NOTIFY_CDB_LEN, NULL, &d, &f), 0);
	ck_assert_int_eq(d.kind, MIRROR_CMD_NOTIFY);
	ck_assert_uint_eq(d.opcode, p.op.notify);
	ck_assert_uint_eq(d.u.notify.opcode, p.op.notify);

	/* ARRAY TABLE UPDATE */
	n = mirror_table_update_cdb_encode(&p, 48, cdb, sizeof(cdb));
	mirror_findings_init(&f);
	ck_assert_int_eq(mirror_cdb_decode(&p, cdb, (size_t)n, NULL, &d, &f), 0);
	ck_assert_int_eq(d.kind, MIRROR_CMD_TABLE_UPDATE);
	ck_assert_uint_eq(d.u.table_param_len, 48);

	/* NVRAM READBACK */
	struct mirror_readback_cdb rb = { 0, 0, 0x200000, 16 };
	n = mirror_readback_cdb_encode(&p, &rb, cdb, sizeof(cdb));
	mirror_findings_init(&f);
	ck_assert_int_eq(mirror_cdb_decode(&p, cdb, (size_t)n, NULL, &d, &f), 0);
	ck_assert_int_eq(d.kind, MIRROR_CMD_READBACK);
	ck_assert_uint_eq(d.opcode, p.op.readback);
	ck_assert_uint_eq(d.u.readback.nvram_addr, 0x200000);
	ck_assert_uint_eq(d.u.readback.blocks, 16);

	/* MIRROR RELEASE (harness extension): once indexed past the decoder
	 * table; the fuzzer's crash input had parameter length 0xFB1200. */
	n = mirror_release_cdb_encode(&p, 16, cdb, sizeof(cdb));
	ck_assert_int_eq(n, MIRROR_RELEASE_CDB_LEN);
	mirror_findings_init(&f);
	ck_assert_int_eq(mirror_cdb_decode(&p, cdb, (size_t)n, NULL, &d, &f), 0);
	ck_assert_int_eq(d.kind, MIRROR_CMD_RELEASE);
	ck_assert_uint_eq(d.u.release_param_len, 16);
	cdb[6] = 0xfb;
	mirror_findings_init(&f);
	ck_assert_int_eq(mirror_cdb_decode(&p, cdb, (size_t)n, NULL, &d, &f), MIRROR_E_INVALID_CDB);
	ck_assert_ptr_nonnull(mirror_findings_find(&f, MIRROR_RULE_RELEASE_PARAM_LEN));
}
END_TEST

/* The decoder's verdict comes back through the dispatch. */
START_TEST(test_decode_dispatch_errors)
{
	struct mirror_profile p;
	struct mirror_decoded_cdb d;
	struct mirror_findings f;
	uint8_t cdb[12] = { 0 };

	ck_assert_int_eq(mirror_profile_by_name(dispatch_profiles[_i], &p), 0);
	cdb[0] = p.op.small_a_to_b; /* element 1 block count 0 */
	mirror_findings_init(&f);
	ck_assert_int_eq(mirror_cdb_decode(&p, cdb, sizeof(cdb), NULL, &d, &f), MIRROR_E_INVALID_CDB);
	ck_assert_int_eq(d.kind, MIRROR_CMD_SMALL);
	ck_assert_ptr_nonnull(mirror_findings_find(&f, MIRROR_RULE_SMALL_BC1_ZERO));

	mirror_findings_init(&f);
	ck_assert_int_eq(mirror_cdb_decode(&p, cdb, 5, NULL, &d, &f), MIRROR_E_TRUNCATED);
	ck_assert_int_eq(d.kind, MIRROR_CMD_SMALL);

	mirror_findings_init(&f);
	ck_assert_int_eq(mirror_cdb_decode(&p, cdb, 0, NULL, &d, &f), MIRROR_E_TRUNCATED);
	ck_assert_ptr_nonnull(mirror_findings_find(&f, MIRROR_RULE_TRUNCATED));
}
END_TEST

/* Opcodes that are not mirror commands: SCSI ones, and the other
 * profile's mirror opcodes. */
static const struct {
	const char *profile;
	uint8_t opcode;
} not_mirror[] = {
	{ "v1", 0x00 }, { "v1", 0x28 }, { "v1", 0x2A }, { "v1", 0xFF },
	{ "v1", 0xC1 }, { "v1", 0xE1 }, { "v1", 0xE2 },
	{ "vendor", 0x3C }, { "vendor", 0xA0 }, { "vendor", 0xB0 }, { "vendor", 0x28 },
};

START_TEST(test_decode_not_mirror)
{
	struct mirror_profile p;
	struct mirror_decoded_cdb d;
	struct mirror_findings f;
	uint8_t cdb[16] = { 0 };

	ck_assert_int_eq(mirror_profile_by_name(not_mirror[_i].profile, &p), 0);
	cdb[0] = not_mirror[_i].opcode;
	mirror_findings_init(&f);
	ck_assert_int_eq(mirror_cdb_decode(&p, cdb, sizeof(cdb), NULL, &d, &f), MIRROR_E_NOT_MIRROR);
	ck_assert_int_eq(d.kind, MIRROR_CMD_NONE);
	ck_assert_uint_eq(d.opcode, not_mirror[_i].opcode);
	ck_assert_uint_eq(d.len, sizeof(cdb));
	/* INVALID COMMAND OPERATION CODE: a pointer-less finding on byte 0 */
	ck_assert_finding(&f, MIRROR_RULE_OPCODE_UNKNOWN, 0, 7, true);
	ck_assert(!mirror_findings_first_error(&f)->sksv);
	ck_assert_uint_eq(mirror_rule_info(MIRROR_RULE_OPCODE_UNKNOWN)->asc, 0x20);
	ck_assert_int_eq(mirror_command_of(&p, not_mirror[_i].opcode), MIRROR_CMD_NONE);
}
END_TEST

static Suite *misc_suite(void)
{
	Suite *s = suite_create("misc");
	TCase *tc;

	tc = tcase_create("strerror");
	tcase_add_test(tc, test_strerror_mirror_codes);
	tcase_add_test(tc, test_strerror_other_codes);
	suite_add_tcase(s, tc);

	tc = tcase_create("profile");
	tcase_add_test(tc, test_profile_names);
	tcase_add_test(tc, test_profile_values);
	tcase_add_test(tc, test_profile_unknown);
	tcase_add_loop_test(tc, test_profile_check, 0, (int)ARRAY_LEN(profile_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("parse");
	tcase_add_loop_test(tc, test_parse_size, 0, (int)ARRAY_LEN(sizes));
	tcase_add_test(tc, test_parse_size_null);
	tcase_add_loop_test(tc, test_parse_count, 0, (int)ARRAY_LEN(counts));
	tcase_add_test(tc, test_parse_double);
	tcase_add_loop_test(tc, test_hex_ok, 0, (int)ARRAY_LEN(hex_ok));
	tcase_add_loop_test(tc, test_hex_invalid, 0, (int)ARRAY_LEN(hex_bad));
	tcase_add_test(tc, test_hex_nospace);
	suite_add_tcase(s, tc);

	tc = tcase_create("decode");
	tcase_add_loop_test(tc, test_decode_dispatch, 0, (int)ARRAY_LEN(dispatch_profiles));
	tcase_add_loop_test(tc, test_decode_dispatch_errors, 0, (int)ARRAY_LEN(dispatch_profiles));
	tcase_add_loop_test(tc, test_decode_not_mirror, 0, (int)ARRAY_LEN(not_mirror));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run_suite(misc_suite());
}
