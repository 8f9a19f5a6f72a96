/* NVRAM model (validity bitmap, data, region ownership) and NVRAM
 * READBACK.  A small 1 MiB NVRAM (2048 blocks, 32 bitmap words) keeps the
 * memory small while every word-boundary case stays reachable. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define NV_SIZE (1024u * 1024u)
#define NV_SPLIT (512u * 1024u)
#define NV_BLOCKS (NV_SIZE / MIRROR_BLOCK_SIZE)
#define BLK(n) ((uint32_t)(n) * MIRROR_BLOCK_SIZE)

static struct mirror_profile prof;
static struct mirror_nvram nv;
static uint8_t *nv_data;
static uint64_t *nv_bitmap;

static void nv_setup(void)
{
	mirror_profile_init(&prof);
	prof.nvram_size = NV_SIZE;
	prof.region_split = NV_SPLIT;
	nv_data = malloc(NV_SIZE);
	nv_bitmap = calloc(1, mirror_nvram_bitmap_bytes(NV_SIZE));
	ck_assert_ptr_nonnull(nv_data);
	ck_assert_ptr_nonnull(nv_bitmap);
	/* Every byte different from its neighbours' (mod 251, a prime). */
	for (uint32_t i = 0; i < NV_SIZE; i++)
		nv_data[i] = (uint8_t)(i % 251);
	ck_assert_int_eq(mirror_nvram_init(&nv, &prof, nv_data, nv_bitmap), 0);
}

static void nv_teardown(void)
{
	free(nv_data);
	free(nv_bitmap);
}

/* Exactly the blocks [first, first + n) are valid, all others not. */
static void assert_valid_exactly(uint32_t first, uint32_t n)
{
	for (uint32_t b = 0; b < NV_BLOCKS; b++) {
		bool in = b >= first && b < first + n;
		ck_assert_msg(mirror_nvram_block_valid(&nv, b) == in, "block %u valid %d, want %d",
			      b, mirror_nvram_block_valid(&nv, b), in);
	}
}

/* ---- sizes and init ---- */

START_TEST(test_bitmap_bytes)
{
	/* The default NVRAM: one bit per 512-byte block. */
	ck_assert_uint_eq(mirror_nvram_bitmap_bytes(MIRROR_NVRAM_DEFAULT_SIZE),
			  128u * 1024 * 1024 / 512 / 8);
	ck_assert_uint_eq(mirror_nvram_bitmap_bytes(MIRROR_NVRAM_MAX_SIZE), 512u * 1024 * 1024 / 512 / 8);
	ck_assert_uint_eq(mirror_nvram_bitmap_bytes(NV_SIZE), 256);
	/* Whole 64-bit words, rounded up. */
	ck_assert_uint_eq(mirror_nvram_bitmap_bytes(BLK(1)), 8);
	ck_assert_uint_eq(mirror_nvram_bitmap_bytes(BLK(64)), 8);
	ck_assert_uint_eq(mirror_nvram_bitmap_bytes(BLK(65)), 16);
}
END_TEST

START_TEST(test_init)
{
	struct mirror_nvram x;
	struct mirror_profile bad = prof;

	ck_assert_ptr_eq(nv.data, nv_data);
	ck_assert_ptr_eq(nv.valid, nv_bitmap);
	ck_assert_uint_eq(nv.size, NV_SIZE);
	ck_assert_uint_eq(nv.split, NV_SPLIT);
	ck_assert_int_eq(mirror_nvram_count_valid(&nv, 0, NV_SIZE), 0);

	bad.nvram_size = 0;
	ck_assert_int_eq(mirror_nvram_init(&x, &bad, nv_data, nv_bitmap), MIRROR_E_PROFILE);
	bad = prof;
	bad.region_split = NV_SIZE;
	ck_assert_int_eq(mirror_nvram_init(&x, &bad, nv_data, nv_bitmap), MIRROR_E_PROFILE);
	ck_assert_int_eq(mirror_nvram_init(&x, &prof, NULL, nv_bitmap), -EINVAL);
	ck_assert_int_eq(mirror_nvram_init(&x, &prof, nv_data, NULL), -EINVAL);
}
END_TEST

/* ---- validity ---- */

/* Ranges placed around the 64-block words of the bitmap. */
static const struct {
	uint32_t first, n;
} ranges[] = {
	{ 0, 1 }, { 63, 1 }, { 64, 1 }, { 63, 2 }, { 60, 10 }, { 64, 64 }, { 1, 127 },
	{ 0, 128 }, { 100, 300 }, { 127, 130 }, { 2047, 1 }, { 1984, 64 }, { 0, NV_BLOCKS },
};

START_TEST(test_mark_valid_range)
{
	uint32_t first = ranges[_i].first, n = ranges[_i].n;

	ck_assert_int_eq(mirror_nvram_mark_valid(&nv, BLK(first), BLK(n)), 0);
	assert_valid_exactly(first, n);
	ck_assert_int_eq(mirror_nvram_count_valid(&nv, 0, NV_SIZE), n);
	ck_assert_int_eq(mirror_nvram_count_valid(&nv, BLK(first), BLK(n)), n);
	/* Marking valid again is idempotent. */
	ck_assert_int_eq(mirror_nvram_mark_valid(&nv, BLK(first), BLK(n)), 0);
	ck_assert_int_eq(mirror_nvram_count_valid(&nv, 0, NV_SIZE), n);
	ck_assert_int_eq(mirror_nvram_mark_invalid(&nv, BLK(first), BLK(n)), 0);
	assert_valid_exactly(0, 0);
}
END_TEST

/* The inverse: everything valid, one range invalidated; its neighbours,
 * in the same bitmap words, keep their bits. */
START_TEST(test_mark_invalid_range)
{
	uint32_t first = ranges[_i].first, n = ranges[_i].n;

	ck_assert_int_eq(mirror_nvram_mark_valid(&nv, 0, NV_SIZE), 0);
	ck_assert_int_eq(mirror_nvram_mark_invalid(&nv, BLK(first), BLK(n)), 0);
	for (uint32_t b = 0; b < NV_BLOCKS; b++)
		ck_assert_msg(mirror_nvram_block_valid(&nv, b) == !(b >= first && b < first + n),
			      "block %u", b);
	ck_assert_int_eq(mirror_nvram_count_valid(&nv, 0, NV_SIZE), NV_BLOCKS - n);
	ck_assert_int_eq(mirror_nvram_count_valid(&nv, BLK(first), BLK(n)), 0);
}
END_TEST

START_TEST(test_count_partial)
{
	/* Valid: 60..69.  Counts of windows that cut it across word 0/1. */
	ck_assert_int_eq(mirror_nvram_mark_valid(&nv, BLK(60), BLK(10)), 0);
	ck_assert_int_eq(mirror_nvram_count_valid(&nv, BLK(0), BLK(64)), 4);
	ck_assert_int_eq(mirror_nvram_count_valid(&nv, BLK(64), BLK(64)), 6);
	ck_assert_int_eq(mirror_nvram_count_valid(&nv, BLK(62), BLK(4)), 4);
	ck_assert_int_eq(mirror_nvram_count_valid(&nv, BLK(69), BLK(1)), 1);
	ck_assert_int_eq(mirror_nvram_count_valid(&nv, BLK(70), BLK(1)), 0);
	ck_assert_int_eq(mirror_nvram_count_valid(&nv, BLK(59), 0), 0);
}
END_TEST

START_TEST(test_block_valid_out_of_range)
{
	ck_assert_int_eq(mirror_nvram_mark_valid(&nv, 0, NV_SIZE), 0);
	ck_assert(mirror_nvram_block_valid(&nv, NV_BLOCKS - 1));
	ck_assert(!mirror_nvram_block_valid(&nv, NV_BLOCKS));
	ck_assert(!mirror_nvram_block_valid(&nv, UINT32_MAX));
}
END_TEST

/* Arguments every range operation refuses with -ERANGE. */
static const struct {
	uint32_t addr, bytes;
} bad_ranges[] = {
	{ 1, 512 },		   /* address not a block */
	{ 256, 512 },
	{ 0, 513 },		   /* length not whole blocks */
	{ 0, 100 },
	{ NV_SIZE, 512 },	   /* starts at the end */
	{ NV_SIZE - 512, 1024 },   /* runs past the end */
	{ 0, NV_SIZE + 512 },
	{ 0xFFFFFE00u, 1024 },	   /* would wrap in 32 bits */
	{ 512, 0xFFFFFE00u },
};

START_TEST(test_bad_ranges)
{
	uint32_t addr = bad_ranges[_i].addr, bytes = bad_ranges[_i].bytes;
	size_t bm = mirror_nvram_bitmap_bytes(NV_SIZE);
	uint64_t *snap = malloc(bm);
	uint8_t buf[1024];

	ck_assert_int_eq(mirror_nvram_mark_valid(&nv, BLK(32), BLK(64)), 0);
	memcpy(snap, nv_bitmap, bm);
	memset(buf, 0x5A, sizeof(buf));
	ck_assert_int_eq(mirror_nvram_mark_valid(&nv, addr, bytes), -ERANGE);
	ck_assert_int_eq(mirror_nvram_mark_invalid(&nv, addr, bytes), -ERANGE);
	ck_assert_int_eq(mirror_nvram_count_valid(&nv, addr, bytes), -ERANGE);
	ck_assert_int_eq(mirror_nvram_check_range(&nv, 0, addr, bytes), -ERANGE);
	ck_assert_int_eq(mirror_nvram_check_range(&nv, 1, addr, bytes), -ERANGE);
	if (bytes <= sizeof(buf)) {
		ck_assert_int_eq(mirror_nvram_store(&nv, addr, buf, bytes), -ERANGE);
		ck_assert_int_eq(mirror_nvram_load(&nv, addr, buf, bytes), -ERANGE);
		for (size_t k = 0; k < sizeof(buf); k++)
			ck_assert_uint_eq(buf[k], 0x5A);
	}
	ck_assert_msg(memcmp(snap, nv_bitmap, bm) == 0, "a refused call changed the bitmap");
	for (uint32_t i = 0; i < NV_SIZE; i++)
		if (nv_data[i] != (uint8_t)(i % 251))
			ck_abort_msg("a refused call changed data byte %u", i);
	free(snap);
}
END_TEST

/* ---- region ownership ---- */

static const struct {
	unsigned region;
	uint32_t addr, bytes;
	int rc;
} region_cases[] = {
	{ 0, 0, NV_SPLIT, 0 },
	{ 0, NV_SPLIT - 512, 512, 0 },
	{ 0, NV_SPLIT - 512, 1024, -EACCES },	/* crosses into region 1 */
	{ 0, NV_SPLIT, 512, -EACCES },
	{ 1, NV_SPLIT, NV_SIZE - NV_SPLIT, 0 },
	{ 1, NV_SIZE - 512, 512, 0 },
	{ 1, NV_SPLIT - 512, 512, -EACCES },
	{ 1, 0, 512, -EACCES },
	{ 2, 0, 512, -EACCES },			/* no such region */
	{ 2, NV_SPLIT, 512, -EACCES },
	{ 0, NV_SIZE, 512, -ERANGE },		/* outside the NVRAM comes first */
	{ 1, NV_SIZE - 512, 1024, -ERANGE },
	{ 0, 100, 512, -ERANGE },
	{ 1, NV_SPLIT, 1000, -ERANGE },
};

START_TEST(test_check_range)
{
	ck_assert_int_eq(mirror_nvram_check_range(&nv, region_cases[_i].region,
						  region_cases[_i].addr, region_cases[_i].bytes),
			 region_cases[_i].rc);
}
END_TEST

/* ---- data ---- */

START_TEST(test_store_load)
{
	uint8_t in[BLK(3)], out[BLK(3) + 2];

	for (size_t k = 0; k < sizeof(in); k++)
		in[k] = (uint8_t)(0xFF - k);
	ck_assert_int_eq(mirror_nvram_store(&nv, BLK(63), in, sizeof(in)), 0);
	ck_assert_mem_eq(nv_data + BLK(63), in, sizeof(in));
	/* The bytes just outside are untouched. */
	ck_assert_uint_eq(nv_data[BLK(63) - 1], (uint8_t)((BLK(63) - 1) % 251));
	ck_assert_uint_eq(nv_data[BLK(66)], (uint8_t)(BLK(66) % 251));
	/* Storing does not make anything valid: the caller does, after. */
	ck_assert_int_eq(mirror_nvram_count_valid(&nv, 0, NV_SIZE), 0);

	memset(out, 0xEE, sizeof(out));
	ck_assert_int_eq(mirror_nvram_load(&nv, BLK(63), out, sizeof(in)), 0);
	ck_assert_mem_eq(out, in, sizeof(in));
	ck_assert_uint_eq(out[sizeof(in)], 0xEE);

	/* The last block of the NVRAM. */
	ck_assert_int_eq(mirror_nvram_store(&nv, NV_SIZE - 512, in, 512), 0);
	ck_assert_int_eq(mirror_nvram_load(&nv, NV_SIZE - 512, out, 512), 0);
	ck_assert_mem_eq(out, in, 512);
}
END_TEST

/* ---- randomized against a bool-per-block model ---- */

START_TEST(test_random_model)
{
	static bool ref[NV_BLOCKS];
	struct test_rng rng;

	memset(ref, 0, sizeof(ref));
	test_rng_init(&rng, test_seed());
	for (int iter = 0; iter < 6000; iter++) {
		unsigned op = (unsigned)test_rng_range(&rng, 0, 3);
		uint32_t first = (uint32_t)test_rng_range(&rng, 0, NV_BLOCKS - 1);
		/* Short and long ranges; about one in ten runs off the end. */
		uint32_t n = (uint32_t)(test_rng_range(&rng, 0, 1) ? test_rng_range(&rng, 1, 8)
								   : test_rng_range(&rng, 1, 300));
		bool fits = first + n <= NV_BLOCKS;
		int64_t want = 0;
		int rc;

		switch (op) {
		case 0:
		case 1:
			rc = op ? mirror_nvram_mark_valid(&nv, BLK(first), BLK(n))
				: mirror_nvram_mark_invalid(&nv, BLK(first), BLK(n));
			ck_assert_int_eq(rc, fits ? 0 : -ERANGE);
			for (uint32_t b = first; fits && b < first + n; b++)
				ref[b] = op == 1;
			break;
		case 2:
			for (uint32_t b = first; fits && b < first + n; b++)
				want += ref[b];
			ck_assert_int_eq(mirror_nvram_count_valid(&nv, BLK(first), BLK(n)),
					 fits ? want : -ERANGE);
			break;
		default: /* an unaligned request changes nothing */
			ck_assert_int_eq(mirror_nvram_mark_valid(&nv, BLK(first) + 8, BLK(n)), -ERANGE);
			break;
		}
		/* The blocks around the range (same and next words) and, now
		 * and then, the whole map. */
		uint32_t lo = first > 70 ? first - 70 : 0;
		uint32_t hi = first + n + 70 < NV_BLOCKS ? first + n + 70 : NV_BLOCKS;
		if (iter % 200 == 0)
			lo = 0, hi = NV_BLOCKS;
		for (uint32_t b = lo; b < hi; b++)
			ck_assert_msg(mirror_nvram_block_valid(&nv, b) == ref[b],
				      "iteration %d: block %u", iter, b);
	}
	int64_t total = 0;
	for (uint32_t b = 0; b < NV_BLOCKS; b++)
		total += ref[b];
	ck_assert_int_eq(mirror_nvram_count_valid(&nv, 0, NV_SIZE), total);
}
END_TEST

/* ---- NVRAM READBACK CDB ---- */

START_TEST(test_readback_cdb_round_trip)
{
	struct mirror_readback_cdb c = { 0, MIRROR_READBACK_FLAG_VALIDITY_ONLY, 0x0007FE00u, 2048 - 1024 };
	struct mirror_readback_cdb back;
	struct mirror_findings f;
	uint8_t cdb[16];

	memset(cdb, 0xEE, sizeof(cdb));
	ck_assert_int_eq(mirror_readback_cdb_encode(&prof, &c, cdb, sizeof(cdb)),
			 MIRROR_READBACK_CDB_LEN);
	static const uint8_t want[MIRROR_READBACK_CDB_LEN] = { 0xC8, 0x01, 0x00, 0x07, 0xFE, 0x00,
							       0x00, 0x00, 0x04, 0x00, 0x00, 0x00 };
	ck_assert_mem_eq(cdb, want, sizeof(want));
	ck_assert_uint_eq(cdb[MIRROR_READBACK_CDB_LEN], 0xEE);
	ck_assert_int_eq(mirror_readback_cdb_encode(&prof, &c, cdb, 11), MIRROR_E_NOSPACE);

	mirror_findings_init(&f);
	ck_assert_int_eq(mirror_readback_cdb_decode(&prof, cdb, MIRROR_READBACK_CDB_LEN, &back, &f), 0);
	ck_assert_uint_eq(f.count, 0);
	ck_assert_uint_eq(back.opcode, 0xC8);
	ck_assert_uint_eq(back.flags, MIRROR_READBACK_FLAG_VALIDITY_ONLY);
	ck_assert_uint_eq(back.nvram_addr, c.nvram_addr);
	ck_assert_uint_eq(back.blocks, c.blocks);
}
END_TEST

struct rb_case {
	const char *what;
	uint8_t opcode, flags, byte10;
	uint32_t addr, blocks;
	int rc; /* 0: accepted */
	enum mirror_rule rule;
	unsigned byte, bit;
};

static const struct rb_case rb_cases[] = {
	{ "whole NVRAM", 0xC8, 0, 0, 0, NV_BLOCKS, 0, 0, 0, 0 },
	{ "last block", 0xC8, 1, 0, NV_SIZE - 512, 1, 0, 0, 0, 0 },
	{ "opcode", 0xC7, 0, 0, 0, 1, MIRROR_E_NOT_MIRROR, MIRROR_RULE_READBACK_OPCODE, 0, 7 },
	{ "flag bit 1", 0xC8, 0x02, 0, 0, 1, MIRROR_E_INVALID_CDB, MIRROR_RULE_READBACK_RESERVED, 1, 1 },
	{ "flag bit 7", 0xC8, 0x81, 0, 0, 1, MIRROR_E_INVALID_CDB, MIRROR_RULE_READBACK_RESERVED, 1, 7 },
	{ "unaligned", 0xC8, 0, 0, 0x201, 1, MIRROR_E_INVALID_CDB, MIRROR_RULE_READBACK_ADDR, 2, 7 },
	{ "at the end", 0xC8, 0, 0, NV_SIZE, 1, MIRROR_E_INVALID_CDB, MIRROR_RULE_READBACK_ADDR, 2, 7 },
	{ "far beyond", 0xC8, 0, 0, 0xFFFFFE00u, 1, MIRROR_E_INVALID_CDB, MIRROR_RULE_READBACK_ADDR, 2, 7 },
	{ "0 blocks", 0xC8, 0, 0, 0, 0, MIRROR_E_INVALID_CDB, MIRROR_RULE_READBACK_BLOCKS, 6, 7 },
	{ "2049 blocks", 0xC8, 0, 0, 0, 2049, MIRROR_E_INVALID_CDB, MIRROR_RULE_READBACK_BLOCKS, 6, 7 },
	{ "2^32-1 blocks", 0xC8, 0, 0, 0, 0xFFFFFFFFu, MIRROR_E_INVALID_CDB, MIRROR_RULE_READBACK_BLOCKS, 6, 7 },
	{ "past the end", 0xC8, 0, 0, NV_SIZE - 512, 2, MIRROR_E_INVALID_CDB, MIRROR_RULE_READBACK_BLOCKS, 6, 7 },
	{ "byte 10", 0xC8, 0, 0x20, 0, 1, MIRROR_E_INVALID_CDB, MIRROR_RULE_READBACK_RESERVED, 10, 5 },
	/* several: the first in byte order is reported */
	{ "flags and byte 10", 0xC8, 0x10, 0x01, 0, 1, MIRROR_E_INVALID_CDB, MIRROR_RULE_READBACK_RESERVED, 1, 4 },
	{ "blocks and byte 10", 0xC8, 0, 0x01, 0, 0, MIRROR_E_INVALID_CDB, MIRROR_RULE_READBACK_BLOCKS, 6, 7 },
};

START_TEST(test_readback_cdb_findings)
{
	const struct rb_case *c = &rb_cases[_i];
	struct mirror_readback_cdb req = { 0, c->flags, c->addr, c->blocks }, out;
	struct mirror_findings f;
	uint8_t cdb[MIRROR_READBACK_CDB_LEN];

	mirror_readback_cdb_encode(&prof, &req, cdb, sizeof(cdb));
	cdb[0] = c->opcode;
	cdb[10] = c->byte10;
	mirror_findings_init(&f);
	ck_assert_msg(mirror_readback_cdb_decode(&prof, cdb, sizeof(cdb), &out, &f) == c->rc, "%s",
		      c->what);
	ck_assert_uint_eq(out.nvram_addr, c->addr);
	ck_assert_uint_eq(out.blocks, c->blocks);
	if (c->rc == 0) {
		ck_assert_uint_eq(f.errors, 0);
		return;
	}
	ck_assert_finding(&f, c->rule, c->byte, c->bit, true);
	ck_assert(mirror_findings_first_error(&f)->in_cdb);
}
END_TEST

/* The 2048-block limit holds on its own, not only as the end of a small
 * NVRAM: under the default 128 MiB profile 2049 blocks from 0 fit. */
START_TEST(test_readback_cdb_blocks_limit)
{
	struct mirror_profile p;
	struct mirror_readback_cdb req = { 0, 0, 0, MIRROR_LARGE_MAX_BLOCKS }, out;
	struct mirror_findings f;
	uint8_t cdb[MIRROR_READBACK_CDB_LEN];

	mirror_profile_init(&p);
	mirror_readback_cdb_encode(&p, &req, cdb, sizeof(cdb));
	ck_assert_int_eq(mirror_readback_cdb_decode(&p, cdb, sizeof(cdb), &out, NULL), 0);
	req.blocks = MIRROR_LARGE_MAX_BLOCKS + 1;
	mirror_readback_cdb_encode(&p, &req, cdb, sizeof(cdb));
	mirror_findings_init(&f);
	ck_assert_int_eq(mirror_readback_cdb_decode(&p, cdb, sizeof(cdb), &out, &f),
			 MIRROR_E_INVALID_CDB);
	ck_assert_finding(&f, MIRROR_RULE_READBACK_BLOCKS, 6, 7, true);
}
END_TEST

START_TEST(test_readback_cdb_truncated)
{
	struct mirror_readback_cdb req = { 0, 0, 0, 1 }, out;
	struct mirror_findings f;
	uint8_t cdb[MIRROR_READBACK_CDB_LEN];

	mirror_readback_cdb_encode(&prof, &req, cdb, sizeof(cdb));
	for (size_t len = 0; len < MIRROR_READBACK_CDB_LEN; len++) {
		uint8_t *p = malloc(len ? len : 1);
		memcpy(p, cdb, len);
		mirror_findings_init(&f);
		ck_assert_int_eq(mirror_readback_cdb_decode(&prof, p, len, &out, &f), MIRROR_E_TRUNCATED);
		ck_assert_finding(&f, MIRROR_RULE_TRUNCATED, len, 7, true);
		free(p);
	}
}
END_TEST

/* ---- READBACK response ---- */

/* A pattern of validity no run of which lines up with the bitmap's
 * bytes or words: blocks whose index mod 7 is 0, 2 or 3. */
static void mark_pattern(void)
{
	for (uint32_t b = 0; b < NV_BLOCKS; b++)
		if (b % 7 == 0 || b % 7 == 2 || b % 7 == 3)
			ck_assert_int_eq(mirror_nvram_mark_valid(&nv, BLK(b), 512), 0);
}

static const struct {
	uint32_t first, blocks;
} rb_ranges[] = {
	{ 0, 1 }, { 5, 37 }, { 60, 8 }, { 1000, 32 }, { 1000, 33 }, { 0, NV_BLOCKS },
	{ NV_BLOCKS - 3, 3 },
};

START_TEST(test_readback_round_trip)
{
	struct mirror_readback_cdb c = { 0xC8, 0, BLK(rb_ranges[_i].first), rb_ranges[_i].blocks };
	size_t bml = mirror_readback_bitmap_len(c.blocks);
	size_t len = mirror_readback_response_len(&c);
	struct mirror_readback r;
	uint8_t *buf;
	uint32_t valid = 0;

	mark_pattern();
	ck_assert_uint_eq(bml % 4, 0);
	ck_assert_uint_ge(bml * 8, c.blocks);
	ck_assert_uint_lt((bml - 4) * 8, c.blocks);
	ck_assert_uint_eq(len, 16 + bml + (size_t)c.blocks * 512);
	buf = malloc(len);
	ck_assert_int_eq(mirror_readback_build(&nv, &c, buf, len), (int)len);
	ck_assert_int_eq(mirror_readback_build(&nv, &c, buf, len - 1), MIRROR_E_NOSPACE);
	ck_assert_int_eq(mirror_readback_parse(buf, len, false, &r), 0);
	ck_assert_uint_eq(r.nvram_addr, c.nvram_addr);
	ck_assert_uint_eq(r.blocks, c.blocks);
	ck_assert_uint_eq(r.nvram_size, NV_SIZE);
	for (uint32_t i = 0; i < c.blocks; i++) {
		bool v = mirror_nvram_block_valid(&nv, rb_ranges[_i].first + i);
		ck_assert_msg(mirror_readback_block_valid(&r, i) == v, "block %u", i);
		valid += v;
	}
	ck_assert_uint_eq(r.valid_blocks, valid);
	ck_assert_int_eq(mirror_nvram_count_valid(&nv, c.nvram_addr, c.blocks * 512), valid);
	/* Bits past the last block, up to the padding, are zero. */
	for (uint32_t i = c.blocks; i < bml * 8; i++)
		ck_assert_msg(!((r.bitmap[i / 8] >> (7 - i % 8)) & 1), "padding bit %u", i);
	ck_assert(!mirror_readback_block_valid(&r, c.blocks));
	ck_assert_ptr_eq(r.data, buf + 16 + bml);
	ck_assert_mem_eq(r.data, nv_data + c.nvram_addr, (size_t)c.blocks * 512);
	free(buf);
}
END_TEST

START_TEST(test_readback_validity_only)
{
	struct mirror_readback_cdb c = { 0xC8, MIRROR_READBACK_FLAG_VALIDITY_ONLY, BLK(60), 70 };
	size_t len = mirror_readback_response_len(&c);
	struct mirror_readback r;
	uint8_t *buf;

	mark_pattern();
	ck_assert_uint_eq(len, 16 + mirror_readback_bitmap_len(70));
	ck_assert_uint_eq(mirror_readback_bitmap_len(70), 12);
	buf = malloc(len);
	ck_assert_int_eq(mirror_readback_build(&nv, &c, buf, len), (int)len);
	ck_assert_int_eq(mirror_readback_parse(buf, len, true, &r), 0);
	ck_assert_ptr_null(r.data);
	for (uint32_t i = 0; i < c.blocks; i++)
		ck_assert_int_eq(mirror_readback_block_valid(&r, i),
				 mirror_nvram_block_valid(&nv, 60 + i));
	/* Expecting data where there is none is a short response. */
	ck_assert_int_eq(mirror_readback_parse(buf, len, false, &r), MIRROR_E_TRUNCATED);
	free(buf);
}
END_TEST

START_TEST(test_readback_build_refuses)
{
	static const struct {
		uint32_t addr, blocks;
		int rc;
	} bad[] = {
		{ 0, 0, -EINVAL },
		{ 0, 2049, -EINVAL },
		{ 100, 1, -ERANGE },
		{ NV_SIZE - 512, 2, -ERANGE },
		{ NV_SIZE, 1, -ERANGE },
	};
	static uint8_t buf[16 + 256 + 2049 * 512];

	for (size_t k = 0; k < ARRAY_LEN(bad); k++) {
		struct mirror_readback_cdb c = { 0xC8, 0, bad[k].addr, bad[k].blocks };
		ck_assert_int_eq(mirror_readback_build(&nv, &c, buf, sizeof(buf)), bad[k].rc);
	}
}
END_TEST

/* Every prefix of a valid response is refused, from a buffer of exactly
 * that size (AddressSanitizer watches the reads). */
START_TEST(test_readback_parse_truncated)
{
	struct mirror_readback_cdb c = { 0xC8, 0, BLK(5), 37 };
	size_t len = mirror_readback_response_len(&c);
	uint8_t *full = malloc(len);
	struct mirror_readback r;

	mark_pattern();
	ck_assert_int_eq(mirror_readback_build(&nv, &c, full, len), (int)len);
	for (size_t n = 0; n < len; n++) {
		uint8_t *p = malloc(n ? n : 1);
		memcpy(p, full, n);
		ck_assert_msg(mirror_readback_parse(p, n, false, &r) == MIRROR_E_TRUNCATED, "len %zu", n);
		ck_assert_ptr_null(r.bitmap);
		ck_assert_ptr_null(r.data);
		ck_assert(!mirror_readback_block_valid(&r, 0));
		free(p);
	}
	free(full);
}
END_TEST

START_TEST(test_readback_parse_bad_header)
{
	static const struct {
		uint32_t blocks, valid;
	} bad[] = {
		{ 0, 0 },
		{ 2049, 0 },
		{ 0xFFFFFFFFu, 0 },
		{ 8, 9 },	/* more valid blocks than blocks */
	};
	static uint8_t buf[16 + 256 + 2049 * 512];
	struct mirror_readback r;

	for (size_t k = 0; k < ARRAY_LEN(bad); k++) {
		memset(buf, 0, 16);
		buf[4] = (uint8_t)(bad[k].blocks >> 24);
		buf[5] = (uint8_t)(bad[k].blocks >> 16);
		buf[6] = (uint8_t)(bad[k].blocks >> 8);
		buf[7] = (uint8_t)bad[k].blocks;
		buf[15] = (uint8_t)bad[k].valid;
		ck_assert_int_eq(mirror_readback_parse(buf, sizeof(buf), false, &r), -EINVAL);
		ck_assert_ptr_null(r.bitmap);
	}
}
END_TEST

/* Random headers and lengths: whatever the parser accepts lies wholly
 * inside the buffer (every bit and data byte is read back here). */
START_TEST(test_readback_parse_garbage)
{
	struct test_rng rng;
	unsigned accepted = 0;

	test_rng_init(&rng, test_seed());
	for (int iter = 0; iter < 3000; iter++) {
		uint32_t blocks = (uint32_t)test_rng_range(&rng, 0, 40);
		bool vo = test_rng_range(&rng, 0, 1);
		size_t need = 16 + mirror_readback_bitmap_len(blocks) + (vo ? 0 : (size_t)blocks * 512);
		size_t len = (size_t)test_rng_range(&rng, 0, need + 8);
		uint8_t *p = malloc(len ? len : 1);
		struct mirror_readback r;

		for (size_t k = 0; k < len; k++)
			p[k] = (uint8_t)test_rng_next(&rng);
		if (len >= 16) {
			p[4] = p[5] = p[6] = 0;
			p[7] = (uint8_t)blocks;
			p[12] = p[13] = p[14] = 0;
			p[15] = (uint8_t)test_rng_range(&rng, 0, blocks);
		}
		int rc = mirror_readback_parse(p, len, vo, &r);
		if (rc == 0) {
			accepted++;
			ck_assert_uint_ge(len, need);
			unsigned sum = 0;
			for (uint32_t i = 0; i < r.blocks; i++)
				sum += mirror_readback_block_valid(&r, i);
			for (size_t k = 0; r.data && k < (size_t)r.blocks * 512; k++)
				sum += r.data[k];
			(void)sum;
		} else {
			ck_assert_msg(rc == MIRROR_E_TRUNCATED || rc == -EINVAL, "rc %d", rc);
			ck_assert(len < need || blocks == 0);
		}
		free(p);
	}
	ck_assert_uint_gt(accepted, 0); /* the loop did exercise the accept path */
}
END_TEST

static Suite *nvram_suite(void)
{
	Suite *s = suite_create("nvram");
	TCase *tc;

	tc = tcase_create("bitmap");
	tcase_add_checked_fixture(tc, nv_setup, nv_teardown);
	tcase_add_test(tc, test_bitmap_bytes);
	tcase_add_test(tc, test_init);
	tcase_add_loop_test(tc, test_mark_valid_range, 0, (int)ARRAY_LEN(ranges));
	tcase_add_loop_test(tc, test_mark_invalid_range, 0, (int)ARRAY_LEN(ranges));
	tcase_add_test(tc, test_count_partial);
	tcase_add_test(tc, test_block_valid_out_of_range);
	tcase_add_loop_test(tc, test_bad_ranges, 0, (int)ARRAY_LEN(bad_ranges));
	tcase_add_loop_test(tc, test_check_range, 0, (int)ARRAY_LEN(region_cases));
	tcase_add_test(tc, test_store_load);
	tcase_add_test(tc, test_random_model);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("readback");
	tcase_add_checked_fixture(tc, nv_setup, nv_teardown);
	tcase_add_test(tc, test_readback_cdb_round_trip);
	tcase_add_loop_test(tc, test_readback_cdb_findings, 0, (int)ARRAY_LEN(rb_cases));
	tcase_add_test(tc, test_readback_cdb_blocks_limit);
	tcase_add_test(tc, test_readback_cdb_truncated);
	tcase_add_loop_test(tc, test_readback_round_trip, 0, (int)ARRAY_LEN(rb_ranges));
	tcase_add_test(tc, test_readback_validity_only);
	tcase_add_test(tc, test_readback_build_refuses);
	tcase_add_test(tc, test_readback_parse_truncated);
	tcase_add_test(tc, test_readback_parse_bad_header);
	tcase_add_test(tc, test_readback_parse_garbage);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run_suite(nvram_suite());
}
