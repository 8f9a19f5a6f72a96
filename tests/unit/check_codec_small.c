/* Small-write CDB (source Fig. 6, wire-profile.md "Small path"): exact
 * bit layout, every field at its minimum, maximum and first invalid value,
 * every rule with its byte and bit, precedence, and a seeded round trip. */
#include "config.h"

#include <string.h>

#include "testutil.h"

static struct mirror_profile prof(const char *name)
{
	struct mirror_profile p;
	ck_assert_int_eq(mirror_profile_by_name(name, &p), 0);
	return p;
}

/* A valid v1 small write: A -> B, 4 blocks at descriptor 0x10010. */
static struct mirror_small_cdb base_cdb(void)
{
	struct mirror_small_cdb c;
	memset(&c, 0, sizeof(c));
	c.opcode = 0xA0;
	c.slots = 2;
	c.volume = 7;
	c.lba = 0x1000;
	c.sg[0].descriptor = 0x10010;
	c.sg[0].blocks = 4;
	return c;
}

START_TEST(layout_bytes_v1)
{
	struct mirror_profile p = prof("v1");
	struct mirror_small_cdb c = base_cdb();
	uint8_t cdb[16];
	/* ceih 1, bc1 32 (100000b), bc2 17 (010001b), low1 0xBEEF, low2 0x1234 */
	c.sg[0].descriptor = 0x1BEEF;
	c.sg[0].blocks = 32;
	c.sg[1].descriptor = 0x11234;
	c.sg[1].blocks = 17;
	c.volume = 0xFE;
	c.lba = 0x01020304;
	ck_assert_int_eq(mirror_small_cdb_encode(&p, &c, cdb, sizeof(cdb)), 12);
	const uint8_t want[12] = { 0xA0, 0x18, 0x11, 0xFE, 0xBE, 0xEF, 0x12, 0x34,
				   0x01, 0x02, 0x03, 0x04 };
	ck_assert_mem_eq(cdb, want, 12);
}
END_TEST

START_TEST(layout_bytes_18bit)
{
	struct mirror_profile p = prof("v1-18bit");
	struct mirror_small_cdb c = base_cdb();
	uint8_t cdb[16];
	/* descriptors differ in bit 16: impossible in 20-bit, fine in 18-bit */
	c.sg[0].descriptor = 0x0FFFF;
	c.sg[0].blocks = 1;
	c.sg[1].descriptor = 0x10000;
	c.sg[1].blocks = 2;
	ck_assert_int_eq(mirror_small_cdb_encode(&p, &c, cdb, sizeof(cdb)), 12);
	/* byte 1: d1[17:16]=00, d2[17:16]=01, bc1 high nibble 0000 */
	ck_assert_uint_eq(cdb[1], 0x10);
	ck_assert_uint_eq(cdb[2], 0x40 | 0x02);
	ck_assert_uint_eq(cdb[4], 0xFF);
	ck_assert_uint_eq(cdb[5], 0xFF);
	ck_assert_uint_eq(cdb[6], 0x00);
	ck_assert_uint_eq(cdb[7], 0x00);
	struct mirror_profile v1 = prof("v1");
	ck_assert_int_eq(mirror_small_cdb_encode(&v1, &c, cdb, sizeof(cdb)), MIRROR_E_FIELD_WIDTH);
}
END_TEST

START_TEST(layout_bytes_cdb16)
{
	struct mirror_profile p = prof("v1-cdb16");
	struct mirror_small_cdb c;
	uint8_t cdb[16];
	memset(&c, 0, sizeof(c));
	c.opcode = 0xA0;
	c.slots = 4;
	c.volume = 9;
	c.lba = 0xAABBCCDD;
	/* shared high byte 0x1F (descriptor bits 19-12) */
	const uint32_t d[4] = { 0x1F001, 0x1F002, 0x1FF00, 0x1F800 };
	const uint8_t b[4] = { 32, 1, 16, 5 };
	for (int i = 0; i < 4; i++) {
		c.sg[i].descriptor = d[i];
		c.sg[i].blocks = b[i];
	}
	ck_assert_int_eq(mirror_small_cdb_encode(&p, &c, cdb, sizeof(cdb)), 16);
	/* bc: 100000 000001 010000 000101 -> 0x80 0x14 0x05 */
	const uint8_t want[16] = { 0xA0, 0x1F, 0x80, 0x14, 0x05, 0x09, 0x00, 0x10, 0x02,
				   0xF0, 0x08, 0x00, 0xAA, 0xBB, 0xCC, 0xDD };
	ck_assert_mem_eq(cdb, want, 16);
	struct mirror_small_cdb back;
	struct mirror_findings f;
	mirror_findings_init(&f);
	ck_assert_int_eq(mirror_small_cdb_decode(&p, cdb, 16, NULL, &back, &f), 0);
	ck_assert_uint_eq(mirror_small_cdb_elements(&back), 4);
	for (int i = 0; i < 4; i++) {
		ck_assert_uint_eq(back.sg[i].descriptor, d[i]);
		ck_assert_uint_eq(back.sg[i].blocks, b[i]);
	}
}
END_TEST

START_TEST(encode_rejects_what_does_not_fit)
{
	struct mirror_profile p = prof("v1");
	struct mirror_small_cdb c = base_cdb();
	uint8_t cdb[16];

	c.sg[0].blocks = 64;
	ck_assert_int_eq(mirror_small_cdb_encode(&p, &c, cdb, sizeof(cdb)), MIRROR_E_FIELD_WIDTH);
	c = base_cdb();
	c.sg[0].blocks = 63; /* fits 6 bits: encodable, decoder rejects it */
	ck_assert_int_eq(mirror_small_cdb_encode(&p, &c, cdb, sizeof(cdb)), 12);
	c = base_cdb();
	c.sg[0].descriptor = 0x100000;
	ck_assert_int_eq(mirror_small_cdb_encode(&p, &c, cdb, sizeof(cdb)), MIRROR_E_FIELD_WIDTH);
	c = base_cdb();
	c.sg[1].descriptor = 0x20010;
	c.sg[1].blocks = 1;
	ck_assert_int_eq(mirror_small_cdb_encode(&p, &c, cdb, sizeof(cdb)), MIRROR_E_FIELD_WIDTH);
	c = base_cdb();
	ck_assert_int_eq(mirror_small_cdb_encode(&p, &c, cdb, 11), MIRROR_E_NOSPACE);
}
END_TEST

/* One row: a mutation of the base CDB bytes and the verdict. */
struct small_case {
	const char *name;
	const char *profile;
	uint8_t cdb[12];
	int rc;
	int rule; /* -1: none expected */
	unsigned byte, bit;
};

#define OK_ -1
static const struct small_case small_cases[] = {
	/* block count 1: minimum */
	{ "bc1 min 1", "v1", { 0xA0, 0x10, 0x40, 7, 0, 0x10, 0, 0, 0, 0, 0x10, 0 }, 0, OK_, 0, 0 },
	/* bc1 32: maximum */
	{ "bc1 max 32", "v1", { 0xA0, 0x18, 0x00, 7, 0, 0x10, 0, 0, 0, 0, 0x10, 0 }, 0, OK_, 0, 0 },
	{ "bc1 0", "v1", { 0xA0, 0x10, 0x00, 7, 0, 0x10, 0, 0, 0, 0, 0x10, 0 },
	  MIRROR_E_INVALID_CDB, MIRROR_RULE_SMALL_BC1_ZERO, 1, 3 },
	{ "bc1 33", "v1", { 0xA0, 0x18, 0x40, 7, 0, 0x10, 0, 0, 0, 0, 0x10, 0 },
	  MIRROR_E_INVALID_CDB, MIRROR_RULE_SMALL_BC_TOO_LARGE, 1, 3 },
	{ "bc1 63", "v1", { 0xA0, 0x1F, 0xC0, 7, 0, 0x10, 0, 0, 0, 0, 0x10, 0 },
	  MIRROR_E_INVALID_CDB, MIRROR_RULE_SMALL_BC_TOO_LARGE, 1, 3 },
	{ "bc2 max 32", "v1", { 0xA0, 0x10, 0x60, 7, 0, 0x10, 0x00, 0x30, 0, 0, 0x10, 0 }, 0, OK_, 0, 0 },
	{ "bc2 33", "v1", { 0xA0, 0x10, 0x61, 7, 0, 0x10, 0x00, 0x30, 0, 0, 0x10, 0 },
	  MIRROR_E_INVALID_CDB, MIRROR_RULE_SMALL_BC_TOO_LARGE, 2, 5 },
	{ "bc2 absent, low2 non-zero", "v1", { 0xA0, 0x10, 0x40, 7, 0, 0x10, 0x00, 0x01, 0, 0, 0x10, 0 },
	  MIRROR_E_INVALID_CDB, MIRROR_RULE_SMALL_ABSENT_LOW_NONZERO, 6, 7 },
	{ "volume 0", "v1", { 0xA0, 0x10, 0x40, 0, 0, 0x10, 0, 0, 0, 0, 0x10, 0 }, 0, OK_, 0, 0 },
	{ "volume 255", "v1", { 0xA0, 0x10, 0x40, 255, 0, 0x10, 0, 0, 0, 0, 0x10, 0 }, 0, OK_, 0, 0 },
	/* descriptor 0: first block of region 0 */
	{ "descriptor min 0", "v1", { 0xA0, 0x00, 0x40, 7, 0, 0, 0, 0, 0, 0, 0x10, 0 }, 0, OK_, 0, 0 },
	/* 0x1FFFF: last block of region 0 (64 MiB) */
	{ "descriptor last block of region 0", "v1", { 0xA0, 0x10, 0x40, 7, 0xFF, 0xFF, 0, 0, 0, 0, 0x10, 0 }, 0, OK_, 0, 0 },
	{ "element runs into region 1", "v1", { 0xA0, 0x10, 0x80, 7, 0xFF, 0xFF, 0, 0, 0, 0, 0x10, 0 },
	  MIRROR_E_INVALID_CDB, MIRROR_RULE_SMALL_DESC_REGION, 1, 7 },
	{ "0xA0 into region 1", "v1", { 0xA0, 0x20, 0x40, 7, 0, 0, 0, 0, 0, 0, 0x10, 0 },
	  MIRROR_E_INVALID_CDB, MIRROR_RULE_SMALL_DESC_REGION, 1, 7 },
	{ "0xB0 into region 0", "v1", { 0xB0, 0x10, 0x40, 7, 0, 0, 0, 0, 0, 0, 0x10, 0 },
	  MIRROR_E_INVALID_CDB, MIRROR_RULE_SMALL_DESC_REGION, 1, 7 },
	{ "0xB0 last block of the NVRAM", "v1", { 0xB0, 0x30, 0x40, 7, 0xFF, 0xFF, 0, 0, 0, 0, 0x10, 0 }, 0, OK_, 0, 0 },
	{ "0xB0 element past the NVRAM end", "v1", { 0xB0, 0x30, 0x80, 7, 0xFF, 0xFF, 0, 0, 0, 0, 0x10, 0 },
	  MIRROR_E_INVALID_CDB, MIRROR_RULE_SMALL_DESC_NVRAM, 1, 7 },
	/* 20-bit descriptor 0x40000 = 128 MiB: beyond a 128 MiB NVRAM */
	{ "descriptor beyond the NVRAM", "v1", { 0xB0, 0x40, 0x40, 7, 0, 0, 0, 0, 0, 0, 0x10, 0 },
	  MIRROR_E_INVALID_CDB, MIRROR_RULE_SMALL_DESC_NVRAM, 1, 7 },
	{ "element 2 present past the end", "v1", { 0xB0, 0x30, 0x42, 7, 0, 0, 0xFF, 0xFF, 0, 0, 0x10, 0 },
	  MIRROR_E_INVALID_CDB, MIRROR_RULE_SMALL_DESC_NVRAM, 1, 7 },
	{ "not a small opcode", "v1", { 0x3C, 0x10, 0x40, 7, 0, 0, 0, 0, 0, 0, 0x10, 0 },
	  MIRROR_E_NOT_MIRROR, MIRROR_RULE_SMALL_OPCODE, 0, 7 },
	{ "LBA max with 1 block", "v1", { 0xA0, 0x10, 0x40, 7, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF }, 0, OK_, 0, 0 },
	{ "LBA + blocks past 2^32", "v1", { 0xA0, 0x10, 0x80, 7, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF },
	  MIRROR_E_LBA_RANGE, MIRROR_RULE_LBA_RANGE, 8, 7 },
	/* 18-bit: element 2's own high bits point at byte 1 bit 5 */
	{ "18-bit element 2 beyond region", "v1-18bit", { 0xA0, 0x20, 0x41, 7, 0, 0, 0, 0, 0, 0, 0x10, 0 },
	  MIRROR_E_INVALID_CDB, MIRROR_RULE_SMALL_DESC_REGION, 1, 5 },
	{ "18-bit descriptors differ in bit 16", "v1-18bit", { 0xA0, 0x10, 0x41, 7, 0xFF, 0xFF, 0, 0, 0, 0, 0x10, 0 }, 0, OK_, 0, 0 },
	{ "18-bit absent element with high bits", "v1-18bit", { 0xA0, 0x10, 0x40, 7, 0, 0, 0, 0, 0, 0, 0x10, 0 },
	  MIRROR_E_INVALID_CDB, MIRROR_RULE_SMALL_ABSENT_LOW_NONZERO, 1, 5 },
};

START_TEST(small_case_table)
{
	const struct small_case *t = &small_cases[_i];
	struct mirror_profile p = prof(t->profile);
	struct mirror_small_cdb c;
	struct mirror_findings f;

	mirror_findings_init(&f);
	int rc = mirror_small_cdb_decode(&p, t->cdb, 12, NULL, &c, &f);
	ck_assert_msg(rc == t->rc, "%s: rc %d, want %d", t->name, rc, t->rc);
	if (t->rule == OK_) {
		ck_assert_msg(f.errors == 0, "%s: unexpected error %s", t->name,
			      f.count ? f.item[0].message : "");
		return;
	}
	ck_assert_finding(&f, (enum mirror_rule)t->rule, t->byte, t->bit, 1);
	/* the field pointer reaches the sense data unchanged */
	struct mirror_sense s;
	uint8_t sense[18];
	mirror_sense_from_finding(mirror_findings_first_error(&f), &s);
	ck_assert_int_eq(mirror_sense_build(sense, sizeof(sense), &s), 18);
	if (mirror_rule_info((enum mirror_rule)t->rule)->sksv) {
		ck_assert_uint_eq(sense[15], 0x80 | 0x40 | 0x08 | t->bit);
		ck_assert_uint_eq(sense[16] << 8 | sense[17], t->byte);
	} else {
		ck_assert_uint_eq(sense[15], 0);
	}
}
END_TEST

START_TEST(nvram_size_bounds_descriptor)
{
	/* 512 MiB NVRAM: the whole 20-bit range is addressable */
	struct mirror_profile p = prof("v1");
	p.nvram_size = 512u << 20;
	p.region_split = 256u << 20;
	const uint8_t top[12] = { 0xB0, 0xF0, 0x40, 1, 0xFF, 0xFF, 0, 0, 0, 0, 0, 1 };
	struct mirror_small_cdb c;
	struct mirror_findings f;
	mirror_findings_init(&f);
	ck_assert_int_eq(mirror_small_cdb_decode(&p, top, 12, NULL, &c, &f), 0);
	ck_assert_uint_eq(c.sg[0].descriptor, 0xFFFFF);
	/* the same CDB against a 256 MiB NVRAM */
	p.nvram_size = 256u << 20;
	p.region_split = 128u << 20;
	mirror_findings_init(&f);
	ck_assert_int_eq(mirror_small_cdb_decode(&p, top, 12, NULL, &c, &f), MIRROR_E_INVALID_CDB);
	ck_assert_finding(&f, MIRROR_RULE_SMALL_DESC_NVRAM, 1, 7, 1);
}
END_TEST

START_TEST(control_byte_hazard_is_a_warning)
{
	struct mirror_profile p = prof("v1");
	struct mirror_small_cdb c;
	struct mirror_findings f;
	const uint8_t lows[] = { 0x04, 0x01, 0x05, 0x02, 0xFA };
	const int want_bit[] = { 2, 0, 2, -1, -1 };

	for (unsigned i = 0; i < sizeof(lows); i++) {
		uint8_t cdb[12] = { 0xA0, 0x10, 0x40, 7, 0, 0x10, 0, 0, 0, 0, 0x10, lows[i] };
		mirror_findings_init(&f);
		ck_assert_int_eq(mirror_small_cdb_decode(&p, cdb, 12, NULL, &c, &f), 0);
		const struct mirror_finding *w = mirror_findings_find(&f, MIRROR_RULE_SMALL_CONTROL_HAZARD);
		if (want_bit[i] < 0) {
			ck_assert_ptr_null(w);
			continue;
		}
		ck_assert_ptr_nonnull(w);
		ck_assert_int_eq(w->severity, MIRROR_SEV_WARNING);
		ck_assert_uint_eq(w->byte, 11);
		ck_assert_uint_eq(w->bit, (unsigned)want_bit[i]);
	}
	/* 16-byte variant: the hazard sits at byte 15 */
	struct mirror_profile p16 = prof("v1-cdb16");
	uint8_t cdb16[16] = { 0xA0, 0x10, 0x04, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x04 };
	mirror_findings_init(&f);
	ck_assert_int_eq(mirror_small_cdb_decode(&p16, cdb16, 16, NULL, &c, &f), 0);
	ck_assert_finding(&f, MIRROR_RULE_SMALL_CONTROL_HAZARD, 15, 2, 0);
}
END_TEST

START_TEST(truncated_and_trailing)
{
	struct mirror_profile p = prof("v1");
	uint8_t cdb[16] = { 0xA0, 0x10, 0x40, 7, 0, 0x10, 0, 0, 0, 0, 0x10, 0 };
	struct mirror_small_cdb c;
	struct mirror_findings f;

	for (size_t len = 0; len < 12; len++) {
		mirror_findings_init(&f);
		ck_assert_int_eq(mirror_small_cdb_decode(&p, cdb, len, NULL, &c, &f), MIRROR_E_TRUNCATED);
		ck_assert_finding(&f, MIRROR_RULE_TRUNCATED, len, 7, 1);
	}
	/* iSCSI carries a 16-byte CDB field: zero padding is fine */
	mirror_findings_init(&f);
	ck_assert_int_eq(mirror_small_cdb_decode(&p, cdb, 16, NULL, &c, &f), 0);
	ck_assert_uint_eq(f.count, 0);
	cdb[14] = 0x20;
	mirror_findings_init(&f);
	ck_assert_int_eq(mirror_small_cdb_decode(&p, cdb, 16, NULL, &c, &f), 0);
	ck_assert_finding(&f, MIRROR_RULE_CDB_TRAILING, 14, 5, 0);
}
END_TEST

START_TEST(cdb16_element_after_absent)
{
	struct mirror_profile p = prof("v1-cdb16");
	/* bc1 1, bc2 0, bc3 1 */
	uint8_t cdb[16] = { 0xA0, 0x10, 0x04, 0x00, 0x40, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	struct mirror_small_cdb c;
	struct mirror_findings f;
	mirror_findings_init(&f);
	ck_assert_int_eq(mirror_small_cdb_decode(&p, cdb, 16, NULL, &c, &f), MIRROR_E_INVALID_CDB);
	/* bc3 sits at bit position 28: byte 3 bit 3 */
	ck_assert_finding(&f, MIRROR_RULE_SMALL_ELEMENT_AFTER_ABSENT, 3, 3, 1);
}
END_TEST

START_TEST(precedence_follows_byte_order_then_lba_then_length)
{
	struct mirror_profile p = prof("v1");
	struct mirror_small_cdb c;
	struct mirror_findings f;
	struct mirror_check_ctx ctx = MIRROR_CHECK_CTX_INIT;

	/* descriptors outside the region (1,7), bc1 too large (1,3), bc2 too
	 * large (2,5): reported in that order whatever order they are found */
	uint8_t a[12] = { 0xA0, 0x2F, 0xE1, 7, 0, 0, 0, 1, 0, 0, 0, 0 };
	mirror_findings_init(&f);
	ck_assert_int_eq(mirror_small_cdb_decode(&p, a, 12, NULL, &c, &f), MIRROR_E_INVALID_CDB);
	ck_assert_uint_eq(f.count, 4);
	ck_assert_int_eq(f.item[0].rule, MIRROR_RULE_SMALL_DESC_REGION);
	ck_assert_int_eq(f.item[1].rule, MIRROR_RULE_SMALL_DESC_REGION);
	ck_assert_int_eq(f.item[2].rule, MIRROR_RULE_SMALL_BC_TOO_LARGE);
	ck_assert_uint_eq(f.item[2].byte, 1);
	ck_assert_uint_eq(f.item[2].bit, 3);
	ck_assert_int_eq(f.item[3].rule, MIRROR_RULE_SMALL_BC_TOO_LARGE);
	ck_assert_uint_eq(f.item[3].byte, 2);
	ck_assert_uint_eq(f.item[3].bit, 5);

	/* LBA range before data-out length */
	uint8_t b[12] = { 0xA0, 0x10, 0x80, 7, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF };
	ctx.data_out_length = 4096;
	mirror_findings_init(&f);
	ck_assert_int_eq(mirror_small_cdb_decode(&p, b, 12, &ctx, &c, &f), MIRROR_E_LBA_RANGE);
	ck_assert_int_eq(mirror_findings_first_error(&f)->rule, MIRROR_RULE_LBA_RANGE);
	ck_assert_ptr_nonnull(mirror_findings_find(&f, MIRROR_RULE_DATA_LENGTH));
	ck_assert(mirror_findings_find(&f, MIRROR_RULE_LBA_RANGE) <
		  mirror_findings_find(&f, MIRROR_RULE_DATA_LENGTH));

	/* data-out length alone: PARAMETER LIST LENGTH ERROR, no pointer */
	uint8_t d[12] = { 0xA0, 0x10, 0x80, 7, 0, 0, 0, 0, 0, 0, 0, 0x10 };
	ctx.data_out_length = 1536;
	mirror_findings_init(&f);
	ck_assert_int_eq(mirror_small_cdb_decode(&p, d, 12, &ctx, &c, &f), MIRROR_E_PARAM_LENGTH);
	ck_assert_int_eq(mirror_findings_first_error(&f)->sksv, false);
	ck_assert_uint_eq(mirror_small_cdb_blocks(&c), 2);
	ctx.data_out_length = 1024; /* 2 blocks */
	mirror_findings_init(&f);
	ck_assert_int_eq(mirror_small_cdb_decode(&p, d, 12, &ctx, &c, &f), 0);
}
END_TEST

/* A random valid small CDB for profile p. */
static void random_valid(struct test_rng *r, const struct mirror_profile *p,
			 struct mirror_small_cdb *c)
{
	unsigned slots = mirror_small_sg_max(p);
	unsigned low = p->small_layout == MIRROR_SMALL_CDB16 ? 12 : 16;
	bool shared = p->small_layout != MIRROR_SMALL_CDB12_18BIT;

	for (;;) {
		unsigned region = (unsigned)test_rng_range(r, 0, 1);
		uint32_t rs = mirror_region_start(p, region) / 512, re = mirror_region_end(p, region) / 512;
		memset(c, 0, sizeof(*c));
		c->opcode = mirror_small_opcode_for_region(p, region);
		c->slots = slots;
		c->volume = (uint8_t)test_rng_next(r);
		unsigned n = (unsigned)test_rng_range(r, 1, slots);
		unsigned total = 0;
		bool ok = true;
		for (unsigned i = 0; i < n; i++) {
			c->sg[i].blocks = (uint8_t)test_rng_range(r, 1, 32);
			uint32_t d;
			if (i == 0 || !shared)
				d = (uint32_t)test_rng_range(r, rs, re - c->sg[i].blocks);
			else
				d = (c->sg[0].descriptor >> low << low) |
				    (uint32_t)test_rng_range(r, 0, (1u << low) - 1);
			if (d < rs || d + c->sg[i].blocks > re)
				ok = false;
			c->sg[i].descriptor = d;
			total += c->sg[i].blocks;
		}
		/* absent slots carry the shared high bits and a zero low */
		for (unsigned i = n; i < slots; i++)
			c->sg[i].descriptor = shared ? c->sg[0].descriptor >> low << low : 0;
		c->lba = (uint32_t)test_rng_range(r, 0, 0xFFFFFFFFull - total + 1);
		c->region = (int)region;
		c->cei_high = shared ? (uint8_t)(c->sg[0].descriptor >> low) : 0;
		if (ok)
			return;
	}
}

static void round_trip(const char *name)
{
	struct mirror_profile p = prof(name);
	struct test_rng r;
	unsigned len = mirror_small_cdb_len(&p);

	test_rng_init(&r, test_seed());
	for (unsigned n = 0; n < 100000; n++) {
		struct mirror_small_cdb c, back;
		struct mirror_findings f;
		uint8_t a[16], b[16];
		random_valid(&r, &p, &c);
		ck_assert_int_eq(mirror_small_cdb_encode(&p, &c, a, sizeof(a)), (int)len);
		mirror_findings_init(&f);
		int rc = mirror_small_cdb_decode(&p, a, len, NULL, &back, &f);
		ck_assert_msg(rc == 0, "iteration %u: %s", n, f.count ? f.item[0].message : "?");
		ck_assert_int_eq(memcmp(&back.sg, &c.sg, sizeof(c.sg)), 0);
		ck_assert_uint_eq(back.lba, c.lba);
		ck_assert_uint_eq(back.volume, c.volume);
		ck_assert_int_eq(back.region, c.region);
		ck_assert_uint_eq(back.cei_high, c.cei_high);
		ck_assert_int_eq(mirror_small_cdb_encode(&p, &back, b, sizeof(b)), (int)len);
		ck_assert_mem_eq(a, b, len);
	}
}

START_TEST(round_trip_v1) { round_trip("v1"); }
END_TEST
START_TEST(round_trip_18bit) { round_trip("v1-18bit"); }
END_TEST
START_TEST(round_trip_cdb16) { round_trip("v1-cdb16"); }
END_TEST

/* Random bytes: whatever decodes as valid re-encodes to the same bytes. */
START_TEST(random_bytes_reencode)
{
	struct mirror_profile p = prof("v1");
	struct test_rng r;
	unsigned valid = 0;

	test_rng_init(&r, test_seed() ^ 0x55);
	for (unsigned n = 0; n < 200000; n++) {
		uint8_t a[12], b[12];
		struct mirror_small_cdb c;
		for (int i = 0; i < 12; i++)
			a[i] = (uint8_t)test_rng_next(&r);
		a[0] = n & 1 ? 0xA0 : 0xB0;
		a[1] &= 0x3F; /* keep descriptors inside 128 MiB more often */
		if (mirror_small_cdb_decode(&p, a, 12, NULL, &c, NULL) != 0)
			continue;
		valid++;
		ck_assert_int_eq(mirror_small_cdb_encode(&p, &c, b, sizeof(b)), 12);
		ck_assert_mem_eq(a, b, 12);
	}
	ck_assert_uint_gt(valid, 100);
}
END_TEST

static Suite *small_suite(void)
{
	Suite *s = suite_create("small_cdb");
	TCase *t = tcase_create("layout");
	tcase_add_test(t, layout_bytes_v1);
	tcase_add_test(t, layout_bytes_18bit);
	tcase_add_test(t, layout_bytes_cdb16);
	tcase_add_test(t, encode_rejects_what_does_not_fit);
	suite_add_tcase(s, t);
	t = tcase_create("rules");
	tcase_add_loop_test(t, small_case_table, 0, (int)(sizeof(small_cases) / sizeof(small_cases[0])));
	tcase_add_test(t, nvram_size_bounds_descriptor);
	tcase_add_test(t, control_byte_hazard_is_a_warning);
	tcase_add_test(t, truncated_and_trailing);
	tcase_add_test(t, cdb16_element_after_absent);
	tcase_add_test(t, precedence_follows_byte_order_then_lba_then_length);
	suite_add_tcase(s, t);
	t = tcase_create("round_trip");
	tcase_set_timeout(t, 120);
	tcase_add_test(t, round_trip_v1);
	tcase_add_test(t, round_trip_18bit);
	tcase_add_test(t, round_trip_cdb16);
	tcase_add_test(t, random_bytes_reencode);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return test_run_suite(small_suite());
}
