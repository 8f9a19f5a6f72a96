/* Metadata mirror message (source Fig. 3, items 300-360): field layout,
 * every field at its minimum, maximum and first invalid value, S/G list
 * rules with their exact pointers, precedence, and a seeded round trip. */
#include "config.h"

#include <string.h>

#include "testutil.h"

#define KIB 1024u
#define MIB (1024u * 1024u)

static struct mirror_profile v1(void)
{
	struct mirror_profile p;
	mirror_profile_init(&p);
	return p;
}

/* A valid message: 8 blocks in two elements at the start of region 0. */
static void base(struct mirror_metadata *m)
{
	mirror_metadata_init(m);
	m->sequence = 41;
	m->lba = 0x2000;
	m->blocks = 8;
	m->array_serial = 0x0123456789ABCDEFull;
	m->region = 0;
	m->array_number = 3;
	m->sg_count = 2;
	m->sg[0] = (struct mirror_sg_element){ 0x10000, 2048 };
	m->sg[1] = (struct mirror_sg_element){ 0x20000, 2048 };
}

static int decode(const uint8_t *buf, const struct mirror_check_ctx *ctx,
		  struct mirror_metadata *out, struct mirror_findings *f)
{
	struct mirror_profile p = v1();
	mirror_findings_init(f);
	return mirror_metadata_decode(&p, buf, MIRROR_METADATA_BYTES, ctx, out, f);
}

START_TEST(layout)
{
	struct mirror_metadata m;
	uint8_t buf[1024];
	base(&m);
	ck_assert_int_eq(mirror_metadata_encode(&m, buf, sizeof(buf)), 1024);
	const uint8_t head[26] = { 0x00, 0x01, 0x04, 0x00, 0, 0, 0, 41, 0, 0, 0x20, 0, 0, 0, 0, 8,
				   0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF, 0, 3 };
	ck_assert_mem_eq(buf, head, sizeof(head));
	const uint8_t sg[16] = { 0, 1, 0, 0, 0, 0, 8, 0, 0, 2, 0, 0, 0, 0, 8, 0 };
	ck_assert_mem_eq(buf + 512, sg, sizeof(sg));
	for (unsigned i = 26; i < 512; i++)
		ck_assert_uint_eq(buf[i], 0);
	for (unsigned i = 528; i < 1024; i++)
		ck_assert_uint_eq(buf[i], 0);
	ck_assert_int_eq(mirror_metadata_encode(&m, buf, 1023), MIRROR_E_NOSPACE);
	m.sg_count = 65;
	ck_assert_int_eq(mirror_metadata_encode(&m, buf, sizeof(buf)), MIRROR_E_FIELD_WIDTH);
}
END_TEST

START_TEST(extremes_valid)
{
	struct mirror_metadata m, back;
	struct mirror_findings f;
	uint8_t buf[1024];

	/* minimum: one block in one element, at the first byte of the region */
	base(&m);
	m.blocks = 1;
	m.sg_count = 1;
	m.sg[0] = (struct mirror_sg_element){ 0, 512 };
	m.lba = 0xFFFFFFFF; /* the last LBA with one block */
	mirror_metadata_encode(&m, buf, sizeof(buf));
	ck_assert_int_eq(decode(buf, NULL, &back, &f), 0);
	ck_assert_uint_eq(back.sg_count, 1);
	/* maximum: 2048 blocks in 64 elements of 16 KiB ending at the region's end */
	base(&m);
	m.blocks = 2048;
	m.sg_count = 64;
	m.region = 1;
	for (unsigned i = 0; i < 64; i++)
		m.sg[i] = (struct mirror_sg_element){ 128 * MIB - MIB + i * 16 * KIB, 16 * KIB };
	mirror_metadata_encode(&m, buf, sizeof(buf));
	ck_assert_int_eq(decode(buf, NULL, &back, &f), 0);
	ck_assert_uint_eq(back.sg_count, 64);
	ck_assert_mem_eq(&back, &m, sizeof(m));
	ck_assert_uint_eq(mirror_large_transfer_length(2048), 1024 + 1 * MIB);
}
END_TEST

/* One row: mutate an encoded valid message; expect rule at byte/bit. */
struct md_case {
	const char *name;
	void (*mutate)(uint8_t *buf);
	int rc;
	enum mirror_rule rule;
	unsigned byte, bit;
};

static void set16(uint8_t *b, unsigned at, unsigned v) { b[at] = (uint8_t)(v >> 8); b[at + 1] = (uint8_t)v; }
static void set32(uint8_t *b, unsigned at, uint32_t v)
{
	b[at] = (uint8_t)(v >> 24); b[at + 1] = (uint8_t)(v >> 16);
	b[at + 2] = (uint8_t)(v >> 8); b[at + 3] = (uint8_t)v;
}

static void m_type0(uint8_t *b) { set16(b, 0, 0); }
static void m_type2(uint8_t *b) { set16(b, 0, 2); }
static void m_len1023(uint8_t *b) { set16(b, 2, 1023); }
static void m_len1025(uint8_t *b) { set16(b, 2, 1025); }
static void m_blocks0(uint8_t *b) { set32(b, 12, 0); }
static void m_blocks2049(uint8_t *b) { set32(b, 12, 2049); }
static void m_region2(uint8_t *b) { b[24] = 2; }
static void m_pad26(uint8_t *b) { b[26] = 0x01; }
static void m_pad300(uint8_t *b) { b[300] = 0x13; b[400] = 0x80; }
static void m_pad511(uint8_t *b) { b[511] = 0x80; }
static void m_count511(uint8_t *b) { set32(b, 516, 511); }
static void m_count16896(uint8_t *b) { set32(b, 524, 16896); set32(b, 516, 2048 + 16896 - 2048 * 2); }
static void m_count_and_addr(uint8_t *b) { set32(b, 520, 0x20001); set32(b, 524, 1000); }
static void m_addr_unaligned(uint8_t *b) { set32(b, 520, 0x20100); }
static void m_addr_nvram(uint8_t *b) { set32(b, 520, 128 * MIB); }
static void m_addr_nvram_end(uint8_t *b) { set32(b, 520, 128 * MIB - 1024); }
static void m_addr_region(uint8_t *b) { set32(b, 520, 64 * MIB); }
static void m_addr_straddle(uint8_t *b) { set32(b, 520, 64 * MIB - 1024); }
static void m_terminator(uint8_t *b) { set32(b, 528, 0x30000); }
static void m_after_addr(uint8_t *b) { set32(b, 536 + 8, 0x1000); }
static void m_after_count(uint8_t *b) { set32(b, 1020, 512); }
static void m_sum(uint8_t *b) { set32(b, 12, 9); }
static void m_sum_zero_list(uint8_t *b) { memset(b + 512, 0, 512); }
static void m_lba(uint8_t *b) { set32(b, 8, 0xFFFFFFF9); }
static void m_lba_and_sum(uint8_t *b) { set32(b, 8, 0xFFFFFFFF); set32(b, 12, 9); }
static void m_pad_and_sg(uint8_t *b) { b[100] = 4; set32(b, 516, 100); }

static const struct md_case md_cases[] = {
	{ "type 0", m_type0, MIRROR_E_INVALID_PARAM, MIRROR_RULE_MD_TYPE, 0, 7 },
	{ "type 2", m_type2, MIRROR_E_INVALID_PARAM, MIRROR_RULE_MD_TYPE, 0, 7 },
	{ "length 1023", m_len1023, MIRROR_E_INVALID_PARAM, MIRROR_RULE_MD_LENGTH, 2, 7 },
	{ "length 1025", m_len1025, MIRROR_E_INVALID_PARAM, MIRROR_RULE_MD_LENGTH, 2, 7 },
	{ "blocks 0", m_blocks0, MIRROR_E_INVALID_PARAM, MIRROR_RULE_MD_BLOCKS, 12, 7 },
	{ "blocks 2049", m_blocks2049, MIRROR_E_INVALID_PARAM, MIRROR_RULE_MD_BLOCKS, 12, 7 },
	{ "region 2", m_region2, MIRROR_E_INVALID_PARAM, MIRROR_RULE_MD_REGION, 24, 7 },
	{ "pad byte 26", m_pad26, MIRROR_E_INVALID_PARAM, MIRROR_RULE_MD_PAD, 26, 0 },
	{ "pad byte 300", m_pad300, MIRROR_E_INVALID_PARAM, MIRROR_RULE_MD_PAD, 300, 4 },
	{ "pad byte 511", m_pad511, MIRROR_E_INVALID_PARAM, MIRROR_RULE_MD_PAD, 511, 7 },
	{ "count 511", m_count511, MIRROR_E_INVALID_PARAM, MIRROR_RULE_SG_COUNT, 516, 7 },
	{ "count 16896", m_count16896, MIRROR_E_INVALID_PARAM, MIRROR_RULE_SG_COUNT, 524, 7 },
	{ "count before address", m_count_and_addr, MIRROR_E_INVALID_PARAM, MIRROR_RULE_SG_COUNT, 524, 7 },
	{ "address unaligned", m_addr_unaligned, MIRROR_E_INVALID_PARAM, MIRROR_RULE_SG_ADDR_ALIGN, 520, 7 },
	{ "address beyond the NVRAM", m_addr_nvram, MIRROR_E_INVALID_PARAM, MIRROR_RULE_SG_ADDR_NVRAM, 520, 7 },
	{ "element runs past the NVRAM", m_addr_nvram_end, MIRROR_E_INVALID_PARAM, MIRROR_RULE_SG_ADDR_NVRAM, 520, 7 },
	{ "address in the other region", m_addr_region, MIRROR_E_INVALID_PARAM, MIRROR_RULE_SG_ADDR_REGION, 520, 7 },
	{ "element straddles the region end", m_addr_straddle, MIRROR_E_INVALID_PARAM, MIRROR_RULE_SG_ADDR_REGION, 520, 7 },
	{ "terminator with an address", m_terminator, MIRROR_E_INVALID_PARAM, MIRROR_RULE_SG_TERMINATOR, 528, 7 },
	{ "garbage address after the end", m_after_addr, MIRROR_E_INVALID_PARAM, MIRROR_RULE_SG_AFTER_END, 544, 7 },
	{ "garbage count after the end", m_after_count, MIRROR_E_INVALID_PARAM, MIRROR_RULE_SG_AFTER_END, 1020, 7 },
	{ "S/G sum != blocks", m_sum, MIRROR_E_INVALID_PARAM, MIRROR_RULE_SG_SUM, 12, 7 },
	{ "empty S/G list", m_sum_zero_list, MIRROR_E_INVALID_PARAM, MIRROR_RULE_SG_SUM, 12, 7 },
	{ "LBA + blocks past 2^32", m_lba, MIRROR_E_LBA_RANGE, MIRROR_RULE_LBA_RANGE, 8, 7 },
	{ "LBA range before S/G sum", m_lba_and_sum, MIRROR_E_LBA_RANGE, MIRROR_RULE_LBA_RANGE, 8, 7 },
	{ "pad before S/G count", m_pad_and_sg, MIRROR_E_INVALID_PARAM, MIRROR_RULE_MD_PAD, 100, 2 },
};

START_TEST(md_case_table)
{
	const struct md_case *t = &md_cases[_i];
	struct mirror_metadata m;
	struct mirror_findings f;
	uint8_t buf[1024];

	base(&m);
	mirror_metadata_encode(&m, buf, sizeof(buf));
	ck_assert_int_eq(decode(buf, NULL, &m, &f), 0);
	t->mutate(buf);
	int rc = decode(buf, NULL, &m, &f);
	ck_assert_msg(rc == t->rc, "%s: rc %d want %d (%s)", t->name, rc, t->rc,
		      f.count ? f.item[0].message : "no finding");
	ck_assert_finding(&f, t->rule, t->byte, t->bit, 1);
	ck_assert_int_eq(mirror_findings_first_error(&f)->in_cdb, false);
}
END_TEST

START_TEST(sender_region_and_data_length)
{
	struct mirror_metadata m;
	struct mirror_findings f;
	struct mirror_check_ctx ctx = MIRROR_CHECK_CTX_INIT;
	uint8_t buf[1024];

	base(&m);
	mirror_metadata_encode(&m, buf, sizeof(buf));
	ctx.sender_region = 0;
	ctx.data_out_length = 1024 + 8 * 512;
	ck_assert_int_eq(decode(buf, &ctx, &m, &f), 0);
	ctx.sender_region = 1;
	ck_assert_int_eq(decode(buf, &ctx, &m, &f), MIRROR_E_INVALID_PARAM);
	ck_assert_finding(&f, MIRROR_RULE_MD_REGION_SENDER, 24, 7, 1);
	ctx.sender_region = -1;
	ctx.data_out_length = 1024 + 7 * 512;
	ck_assert_int_eq(decode(buf, &ctx, &m, &f), MIRROR_E_PARAM_LENGTH);
	ck_assert_int_eq(mirror_findings_first_error(&f)->rule, MIRROR_RULE_DATA_LENGTH);
	ck_assert_int_eq(mirror_findings_first_error(&f)->sksv, false);
	/* data-out length is ranked before the S/G sum */
	buf[15] = 9;
	ck_assert_int_eq(decode(buf, &ctx, &m, &f), MIRROR_E_PARAM_LENGTH);
	ck_assert_ptr_nonnull(mirror_findings_find(&f, MIRROR_RULE_SG_SUM));
}
END_TEST

START_TEST(truncated)
{
	struct mirror_profile p = v1();
	struct mirror_metadata m;
	struct mirror_findings f;
	uint8_t buf[1024] = { 0 };
	const size_t lens[] = { 0, 1, 26, 511, 512, 1023 };

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		mirror_findings_init(&f);
		ck_assert_int_eq(mirror_metadata_decode(&p, buf, lens[i], NULL, &m, &f),
				 MIRROR_E_TRUNCATED);
		ck_assert_finding(&f, MIRROR_RULE_TRUNCATED, lens[i], 7, 1);
	}
}
END_TEST

static void random_valid(struct test_rng *r, struct mirror_metadata *m)
{
	struct mirror_profile p = v1();
	mirror_metadata_init(m);
	m->region = (uint8_t)test_rng_range(r, 0, 1);
	uint32_t rs = mirror_region_start(&p, m->region), re = mirror_region_end(&p, m->region);
	m->sg_count = (unsigned)test_rng_range(r, 1, 64);
	for (unsigned i = 0; i < m->sg_count; i++) {
		uint32_t bytes = (uint32_t)test_rng_range(r, 1, 32) * 512;
		uint32_t addr = (uint32_t)test_rng_range(r, rs / 512, (re - bytes) / 512) * 512;
		m->sg[i] = (struct mirror_sg_element){ addr, bytes };
		m->blocks += bytes / 512;
	}
	m->sequence = (uint32_t)test_rng_next(r);
	m->lba = (uint32_t)test_rng_range(r, 0, 0x100000000ull - m->blocks);
	m->array_serial = test_rng_next(r);
	m->array_number = (uint8_t)test_rng_next(r);
}

START_TEST(round_trip)
{
	struct test_rng r;
	test_rng_init(&r, test_seed());
	for (unsigned n = 0; n < 100000; n++) {
		struct mirror_metadata m, back;
		struct mirror_findings f;
		uint8_t a[1024], b[1024];
		random_valid(&r, &m);
		ck_assert_int_eq(mirror_metadata_encode(&m, a, sizeof(a)), 1024);
		int rc = decode(a, NULL, &back, &f);
		ck_assert_msg(rc == 0, "iteration %u: %s", n, f.count ? f.item[0].message : "?");
		ck_assert_mem_eq(&back, &m, sizeof(m));
		ck_assert_int_eq(mirror_metadata_encode(&back, b, sizeof(b)), 1024);
		ck_assert_mem_eq(a, b, 1024);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("metadata");
	TCase *t = tcase_create("fields");
	tcase_add_test(t, layout);
	tcase_add_test(t, extremes_valid);
	tcase_add_loop_test(t, md_case_table, 0, (int)(sizeof(md_cases) / sizeof(md_cases[0])));
	tcase_add_test(t, sender_region_and_data_length);
	tcase_add_test(t, truncated);
	suite_add_tcase(s, t);
	t = tcase_create("round_trip");
	tcase_set_timeout(t, 120);
	tcase_add_test(t, round_trip);
	suite_add_tcase(s, t);
	return test_run_suite(s);
}
