/* Array serial number table (source Fig. 4, item 427) and ARRAY TABLE
 * UPDATE: the table's generation must move on every change and only then
 * (the sender's "partner initialized" test depends on it), and a rejected
 * update must leave the receiver's table exactly as it was. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "testutil.h"
#include "wire/table_text.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* A serial that differs per volume in every byte, so that a byte-order
 * slip in the codec shows. */
static uint64_t serial_of(unsigned v)
{
	return 0x0102030405060708ull * (v + 1) ^ 0x8000000000000000ull;
}

static void fill_table(struct mirror_array_table *t, const uint8_t *vols, size_t n)
{
	mirror_array_table_init(t);
	for (size_t k = 0; k < n; k++)
		ck_assert_int_eq(mirror_array_table_add(t, vols[k], serial_of(vols[k]),
						       (uint8_t)(vols[k] * 7)), 0);
}

static void assert_same_entries(const struct mirror_array_table *a,
				const struct mirror_array_table *b)
{
	ck_assert_uint_eq(a->count, b->count);
	for (unsigned v = 0; v < MIRROR_VOLUMES; v++) {
		ck_assert_msg(a->vol[v].used == b->vol[v].used, "volume %u used differs", v);
		if (!a->vol[v].used)
			continue;
		ck_assert_uint_eq(a->vol[v].array_number, b->vol[v].array_number);
		ck_assert_uint_eq(a->vol[v].array_serial, b->vol[v].array_serial);
	}
}

/* ---- the table ---- */

START_TEST(test_init_empty)
{
	struct mirror_array_table t;

	memset(&t, 0xA5, sizeof(t));
	mirror_array_table_init(&t);
	ck_assert_uint_eq(t.count, 0);
	for (unsigned v = 0; v < MIRROR_VOLUMES; v++)
		ck_assert_int_eq(mirror_array_table_lookup(&t, (uint8_t)v, NULL, NULL), -ENOENT);
	ck_assert_int_eq(mirror_array_table_find(&t, 0, 0), -ENOENT);
}
END_TEST

START_TEST(test_add_lookup_find_delete)
{
	struct mirror_array_table t;
	uint64_t serial = 0;
	uint8_t arr = 0;

	mirror_array_table_init(&t);
	ck_assert_int_eq(mirror_array_table_add(&t, 7, 0x0123456789ABCDEFull, 3), 0);
	ck_assert_uint_eq(t.count, 1);
	ck_assert_int_eq(mirror_array_table_lookup(&t, 7, &serial, &arr), 0);
	ck_assert_uint_eq(serial, 0x0123456789ABCDEFull);
	ck_assert_uint_eq(arr, 3);
	ck_assert_int_eq(mirror_array_table_lookup(&t, 7, NULL, NULL), 0);
	ck_assert_int_eq(mirror_array_table_find(&t, 0x0123456789ABCDEFull, 3), 7);
	/* Both halves of the key count. */
	ck_assert_int_eq(mirror_array_table_find(&t, 0x0123456789ABCDEFull, 4), -ENOENT);
	ck_assert_int_eq(mirror_array_table_find(&t, 0x0123456789ABCDEEull, 3), -ENOENT);
	ck_assert_int_eq(mirror_array_table_lookup(&t, 6, &serial, &arr), -ENOENT);

	ck_assert_int_eq(mirror_array_table_delete(&t, 7), 0);
	ck_assert_uint_eq(t.count, 0);
	ck_assert_int_eq(mirror_array_table_lookup(&t, 7, &serial, &arr), -ENOENT);
	ck_assert_int_eq(mirror_array_table_find(&t, 0x0123456789ABCDEFull, 3), -ENOENT);
	/* The freed volume and the freed key can be used again. */
	ck_assert_int_eq(mirror_array_table_add(&t, 9, 0x0123456789ABCDEFull, 3), 0);
	ck_assert_int_eq(mirror_array_table_add(&t, 7, 42, 1), 0);
	ck_assert_int_eq(mirror_array_table_find(&t, 0x0123456789ABCDEFull, 3), 9);
}
END_TEST

/* A script of operations: the generation moves on each success and stays
 * put on each failure, and a failure changes nothing else either. */
enum table_op { OP_ADD, OP_DEL };
static const struct {
	enum table_op op;
	uint8_t volume;
	uint64_t serial;
	uint8_t arr;
	int rc;
} script[] = {
	{ OP_ADD, 0, 100, 1, 0 },
	{ OP_ADD, 0, 200, 2, -EEXIST },	  /* volume in use */
	{ OP_ADD, 1, 100, 1, -EEXIST },	  /* (serial, array) mapped to volume 0 */
	{ OP_ADD, 1, 100, 2, 0 },	  /* same serial, other array number */
	{ OP_ADD, 2, 101, 1, 0 },	  /* same array number, other serial */
	{ OP_DEL, 3, 0, 0, -ENOENT },
	{ OP_DEL, 0, 0, 0, 0 },
	{ OP_DEL, 0, 0, 0, -ENOENT },	  /* already gone */
	{ OP_ADD, 255, 100, 1, 0 },	  /* the key freed by the delete */
	{ OP_ADD, 0, 100, 1, -EEXIST },	  /* now mapped to 255 */
	{ OP_DEL, 255, 0, 0, 0 },
	{ OP_ADD, 0, 100, 1, 0 },
};

START_TEST(test_generation_script)
{
	struct mirror_array_table t, before;

	mirror_array_table_init(&t);
	for (size_t k = 0; k < ARRAY_LEN(script); k++) {
		int rc;

		memcpy(&before, &t, sizeof(t));
		if (script[k].op == OP_ADD)
			rc = mirror_array_table_add(&t, script[k].volume, script[k].serial,
						    script[k].arr);
		else
			rc = mirror_array_table_delete(&t, script[k].volume);
		ck_assert_msg(rc == script[k].rc, "step %zu: rc %d, want %d", k, rc, script[k].rc);
		if (rc == 0) {
			ck_assert_msg(t.generation != before.generation,
				      "step %zu: generation did not change", k);
			ck_assert_uint_eq(t.count,
					  before.count + (script[k].op == OP_ADD ? 1u : -1u));
		} else {
			ck_assert_msg(memcmp(&t, &before, sizeof(t)) == 0,
				      "step %zu: a failed operation changed the table", k);
		}
	}
}
END_TEST

START_TEST(test_fill_all_volumes)
{
	struct mirror_array_table t;
	uint32_t gen;

	mirror_array_table_init(&t);
	for (unsigned v = 0; v < MIRROR_VOLUMES; v++) {
		gen = t.generation;
		ck_assert_int_eq(mirror_array_table_add(&t, (uint8_t)v, serial_of(v), (uint8_t)v), 0);
		ck_assert_uint_ne(t.generation, gen);
	}
	ck_assert_uint_eq(t.count, MIRROR_VOLUMES);
	for (unsigned v = 0; v < MIRROR_VOLUMES; v++) {
		uint64_t serial;
		uint8_t arr;
		ck_assert_int_eq(mirror_array_table_lookup(&t, (uint8_t)v, &serial, &arr), 0);
		ck_assert_uint_eq(serial, serial_of(v));
		ck_assert_uint_eq(arr, v);
		ck_assert_int_eq(mirror_array_table_find(&t, serial_of(v), (uint8_t)v), (int)v);
	}
	/* Full: every volume is taken. */
	gen = t.generation;
	ck_assert_int_eq(mirror_array_table_add(&t, 17, 1, 1), -EEXIST);
	ck_assert_uint_eq(t.generation, gen);
	ck_assert_uint_eq(t.count, MIRROR_VOLUMES);
}
END_TEST

/* ---- ARRAY TABLE UPDATE CDB ---- */

START_TEST(test_cdb_encode_decode)
{
	struct mirror_profile p;
	struct mirror_findings f;
	uint8_t cdb[16];
	uint32_t len = 0;

	mirror_profile_init(&p);
	memset(cdb, 0xEE, sizeof(cdb));
	ck_assert_int_eq(mirror_table_update_cdb_encode(&p, 0x123456, cdb, sizeof(cdb)),
			 MIRROR_TABLE_CDB_LEN);
	static const uint8_t want[MIRROR_TABLE_CDB_LEN] = { 0xC6, 0, 0, 0, 0, 0,
							    0x12, 0x34, 0x56, 0 };
	ck_assert_mem_eq(cdb, want, sizeof(want));
	ck_assert_uint_eq(cdb[MIRROR_TABLE_CDB_LEN], 0xEE);

	/* 0x123456 is no whole table: the length is decoded and refused */
	mirror_findings_init(&f);
	ck_assert_int_eq(mirror_table_update_cdb_decode(&p, cdb, MIRROR_TABLE_CDB_LEN, &len, &f),
			 MIRROR_E_INVALID_CDB);
	ck_assert_uint_eq(len, 0x123456);
	ck_assert_finding(&f, MIRROR_RULE_TABLE_PARAM_LEN, 6, 7, 1);
	/* 16 (empty table), 16 + 16 x 256 (full) are whole tables; 15, 17,
	 * 16 + 16 x 257 are not */
	static const struct { uint32_t len; int rc; } lens[] = {
		{ 16, 0 }, { 32, 0 }, { MIRROR_TABLE_MAX_BYTES, 0 }, { 0, MIRROR_E_INVALID_CDB },
		{ 15, MIRROR_E_INVALID_CDB }, { 17, MIRROR_E_INVALID_CDB },
		{ MIRROR_TABLE_MAX_BYTES + 16, MIRROR_E_INVALID_CDB },
	};
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		ck_assert_int_eq(mirror_table_update_cdb_encode(&p, lens[i].len, cdb, sizeof(cdb)), 10);
		ck_assert_int_eq(mirror_table_update_cdb_decode(&p, cdb, 10, &len, NULL), lens[i].rc);
	}

	/* The opcode is the profile's. */
	p.op.table_update = 0xD6;
	ck_assert_int_eq(mirror_table_update_cdb_encode(&p, 16, cdb, sizeof(cdb)), 10);
	ck_assert_uint_eq(cdb[0], 0xD6);
	ck_assert_int_eq(mirror_table_update_cdb_decode(&p, cdb, 10, &len, NULL), 0);
	ck_assert_uint_eq(len, 16);

	ck_assert_int_eq(mirror_table_update_cdb_encode(&p, 0x1000000, cdb, sizeof(cdb)),
			 MIRROR_E_FIELD_WIDTH);
	ck_assert_int_eq(mirror_table_update_cdb_encode(&p, 16, cdb, 9), MIRROR_E_NOSPACE);
}
END_TEST

/* Every reserved byte 1-5, with values whose highest set bit varies. */
static const uint8_t reserved_values[] = { 0x01, 0x80, 0x24, 0x0F };

START_TEST(test_cdb_reserved)
{
	unsigned byte = 1 + (unsigned)_i / ARRAY_LEN(reserved_values);
	uint8_t v = reserved_values[(unsigned)_i % ARRAY_LEN(reserved_values)];
	struct mirror_profile p;
	struct mirror_findings f;
	uint8_t cdb[MIRROR_TABLE_CDB_LEN];
	uint32_t len;

	mirror_profile_init(&p);
	mirror_table_update_cdb_encode(&p, 32, cdb, sizeof(cdb));
	cdb[byte] = v;
	mirror_findings_init(&f);
	ck_assert_int_eq(mirror_table_update_cdb_decode(&p, cdb, sizeof(cdb), &len, &f),
			 MIRROR_E_INVALID_CDB);
	ck_assert_finding(&f, MIRROR_RULE_TABLE_CDB_RESERVED, byte, mirror_highest_bit(v), true);
	ck_assert(mirror_findings_first_error(&f)->in_cdb);
	ck_assert(mirror_findings_first_error(&f)->sksv);
	ck_assert_uint_eq(len, 32); /* the length is still decoded */
}
END_TEST

START_TEST(test_cdb_reserved_first_wins)
{
	struct mirror_profile p;
	struct mirror_findings f;
	uint8_t cdb[MIRROR_TABLE_CDB_LEN];
	uint32_t len;

	mirror_profile_init(&p);
	mirror_table_update_cdb_encode(&p, 32, cdb, sizeof(cdb));
	cdb[2] = 0x10;
	cdb[4] = 0x80;
	mirror_findings_init(&f);
	ck_assert_int_eq(mirror_table_update_cdb_decode(&p, cdb, sizeof(cdb), &len, &f),
			 MIRROR_E_INVALID_CDB);
	ck_assert_finding(&f, MIRROR_RULE_TABLE_CDB_RESERVED, 2, 4, true);
}
END_TEST

START_TEST(test_cdb_opcode)
{
	struct mirror_profile p;
	struct mirror_findings f;
	uint8_t cdb[MIRROR_TABLE_CDB_LEN];
	uint32_t len;

	mirror_profile_init(&p);
	mirror_table_update_cdb_encode(&p, 32, cdb, sizeof(cdb));
	cdb[0] = 0xC7;
	cdb[3] = 0x01;
	mirror_findings_init(&f);
	ck_assert_int_eq(mirror_table_update_cdb_decode(&p, cdb, sizeof(cdb), &len, &f),
			 MIRROR_E_NOT_MIRROR);
	/* The opcode (byte 0) ranks before the reserved byte. */
	ck_assert_finding(&f, MIRROR_RULE_TABLE_OPCODE, 0, 7, true);
	ck_assert_ptr_nonnull(mirror_findings_find(&f, MIRROR_RULE_TABLE_CDB_RESERVED));
}
END_TEST

START_TEST(test_cdb_truncated)
{
	struct mirror_profile p;
	struct mirror_findings f;
	uint8_t cdb[MIRROR_TABLE_CDB_LEN];
	uint32_t len = 77;

	mirror_profile_init(&p);
	mirror_table_update_cdb_encode(&p, 32, cdb, sizeof(cdb));
	mirror_findings_init(&f);
	ck_assert_int_eq(mirror_table_update_cdb_decode(&p, cdb, (size_t)_i, &len, &f),
			 MIRROR_E_TRUNCATED);
	ck_assert_finding(&f, MIRROR_RULE_TRUNCATED, (unsigned)_i, 7, true);
	ck_assert_uint_eq(len, 0);
}
END_TEST

/* ---- parameter list ---- */

START_TEST(test_payload_encode_layout)
{
	static const uint8_t vols[] = { 200, 3 };
	struct mirror_array_table t;
	uint8_t buf[MIRROR_TABLE_MAX_BYTES];

	fill_table(&t, vols, ARRAY_LEN(vols));
	t.generation = 0xDEADBEEF;
	memset(buf, 0xEE, sizeof(buf));
	ck_assert_int_eq(mirror_table_update_encode(&t, buf, sizeof(buf)), 16 + 2 * 16);
	static const uint8_t header[16] = { 0xDE, 0xAD, 0xBE, 0xEF, 0x00, 0x02 };
	ck_assert_mem_eq(buf, header, sizeof(header));
	/* Entries in volume order, whatever order they were added in. */
	const uint8_t *e = buf + 16;
	uint64_t s3 = serial_of(3);
	ck_assert_uint_eq(e[0], 3);
	ck_assert_uint_eq(e[1], 21);
	for (unsigned k = 2; k < 8; k++)
		ck_assert_uint_eq(e[k], 0);
	for (unsigned k = 0; k < 8; k++)
		ck_assert_uint_eq(e[8 + k], (uint8_t)(s3 >> (56 - 8 * k)));
	ck_assert_uint_eq(buf[32], 200);
	ck_assert_uint_eq(buf[48], 0xEE); /* nothing written past the list */

	ck_assert_int_eq(mirror_table_update_encode(&t, buf, 47), MIRROR_E_NOSPACE);
}
END_TEST

static const uint8_t roundtrip_sets[][8] = {
	{ 0 },
	{ 0, 1, 63, 64, 65, 127, 200, 255 },
	{ 255 },
};
static const size_t roundtrip_sizes[] = { 0, 8, 1 };

START_TEST(test_payload_round_trip)
{
	struct mirror_array_table t, dst;
	uint8_t buf[MIRROR_TABLE_MAX_BYTES];
	struct mirror_findings f;
	int n;

	fill_table(&t, roundtrip_sets[_i], roundtrip_sizes[_i]);
	t.generation = 0x80000001u + (uint32_t)_i;
	n = mirror_table_update_encode(&t, buf, sizeof(buf));
	ck_assert_int_eq(n, (int)(16 + 16 * roundtrip_sizes[_i]));
	/* The destination had other entries: an accepted update replaces
	 * the whole table. */
	static const uint8_t other[] = { 5, 6 };
	fill_table(&dst, other, ARRAY_LEN(other));
	mirror_findings_init(&f);
	ck_assert_int_eq(mirror_table_update_decode(buf, (size_t)n, &dst, &f), 0);
	ck_assert_uint_eq(f.count, 0);
	ck_assert_uint_eq(dst.generation, t.generation);
	assert_same_entries(&dst, &t);
}
END_TEST

START_TEST(test_payload_round_trip_full)
{
	struct mirror_array_table t, dst;
	uint8_t buf[MIRROR_TABLE_MAX_BYTES];

	mirror_array_table_init(&t);
	for (unsigned v = 0; v < MIRROR_VOLUMES; v++)
		ck_assert_int_eq(mirror_array_table_add(&t, (uint8_t)(255 - v), serial_of(v),
						       (uint8_t)(v >> 2)), 0);
	ck_assert_int_eq(mirror_table_update_encode(&t, buf, sizeof(buf)), (int)MIRROR_TABLE_MAX_BYTES);
	ck_assert_int_eq(mirror_table_update_encode(&t, buf, MIRROR_TABLE_MAX_BYTES - 1),
			 MIRROR_E_NOSPACE);
	mirror_array_table_init(&dst);
	ck_assert_int_eq(mirror_table_update_decode(buf, sizeof(buf), &dst, NULL), 0);
	ck_assert_uint_eq(dst.generation, t.generation);
	assert_same_entries(&dst, &t);
}
END_TEST

/* Invalid parameter lists, each a mutation of a valid 3-entry list
 * (volumes 10, 20, 30). */
#define BASE_LEN (16 + 3 * 16)
struct bad_payload {
	const char *what;
	void (*mutate)(uint8_t *buf, size_t *len);
	int rc;
	enum mirror_rule rule;
	unsigned byte, bit;
};

static void count_257(uint8_t *b, size_t *len) { (void)len; b[4] = 0x01; b[5] = 0x01; }
static void count_ffff(uint8_t *b, size_t *len) { (void)len; b[4] = 0xFF; b[5] = 0xFF; }
static void header_res_6(uint8_t *b, size_t *len) { (void)len; b[6] = 0x01; }
static void header_res_15(uint8_t *b, size_t *len) { (void)len; b[15] = 0x40; }
static void short_by_one(uint8_t *b, size_t *len) { (void)b; *len -= 1; }
static void extra_entry(uint8_t *b, size_t *len) { memset(b + *len, 0, 16); *len += 16; }
static void count_too_small(uint8_t *b, size_t *len) { (void)len; b[5] = 2; }
static void dup_volume(uint8_t *b, size_t *len) { (void)len; b[16 + 2 * 16] = b[16]; }
static void dup_serial(uint8_t *b, size_t *len)
{
	(void)len;
	b[16 + 16 + 1] = b[16 + 1];
	memcpy(b + 16 + 16 + 8, b + 16 + 8, 8);
}
static void entry_res(uint8_t *b, size_t *len) { (void)len; b[16 + 16 + 5] = 0x10; }
static void entry_res_first(uint8_t *b, size_t *len) { (void)len; b[16 + 2] = 0xFF; }
static void entry_res_last(uint8_t *b, size_t *len) { (void)len; b[16 + 2 * 16 + 7] = 0x03; }
static void header_only_short(uint8_t *b, size_t *len) { (void)b; *len = 15; }
static void empty(uint8_t *b, size_t *len) { (void)b; *len = 0; }
/* Two errors: the one earlier in the list is reported. */
static void res_then_dup(uint8_t *b, size_t *len) { entry_res(b, len); dup_volume(b, len); }
static void dup_then_header(uint8_t *b, size_t *len) { dup_serial(b, len); b[10] = 0x02; }

static const struct bad_payload bad_payloads[] = {
	{ "count 257", count_257, MIRROR_E_INVALID_PARAM, MIRROR_RULE_TABLE_COUNT, 4, 7 },
	{ "count 65535", count_ffff, MIRROR_E_INVALID_PARAM, MIRROR_RULE_TABLE_COUNT, 4, 7 },
	{ "header byte 6", header_res_6, MIRROR_E_INVALID_PARAM, MIRROR_RULE_TABLE_RESERVED, 6, 0 },
	{ "header byte 15", header_res_15, MIRROR_E_INVALID_PARAM, MIRROR_RULE_TABLE_RESERVED, 15, 6 },
	{ "one byte short", short_by_one, MIRROR_E_PARAM_LENGTH, MIRROR_RULE_DATA_LENGTH, 4, 7 },
	{ "an entry too many", extra_entry, MIRROR_E_PARAM_LENGTH, MIRROR_RULE_DATA_LENGTH, 4, 7 },
	{ "count under the entries", count_too_small, MIRROR_E_PARAM_LENGTH, MIRROR_RULE_DATA_LENGTH, 4, 7 },
	{ "duplicate volume", dup_volume, MIRROR_E_INVALID_PARAM, MIRROR_RULE_TABLE_DUP_VOLUME, 48, 7 },
	{ "duplicate serial", dup_serial, MIRROR_E_INVALID_PARAM, MIRROR_RULE_TABLE_DUP_SERIAL, 40, 7 },
	{ "entry reserved", entry_res, MIRROR_E_INVALID_PARAM, MIRROR_RULE_TABLE_RESERVED, 37, 4 },
	{ "entry byte 2", entry_res_first, MIRROR_E_INVALID_PARAM, MIRROR_RULE_TABLE_RESERVED, 18, 7 },
	{ "last entry reserved", entry_res_last, MIRROR_E_INVALID_PARAM, MIRROR_RULE_TABLE_RESERVED, 55, 1 },
	{ "15-byte list", header_only_short, MIRROR_E_TRUNCATED, MIRROR_RULE_TRUNCATED, 15, 7 },
	{ "empty list", empty, MIRROR_E_TRUNCATED, MIRROR_RULE_TRUNCATED, 0, 7 },
	{ "reserved before dup", res_then_dup, MIRROR_E_INVALID_PARAM, MIRROR_RULE_TABLE_RESERVED, 37, 4 },
	{ "header before dup", dup_then_header, MIRROR_E_INVALID_PARAM, MIRROR_RULE_TABLE_RESERVED, 10, 1 },
};

START_TEST(test_payload_invalid)
{
	static const uint8_t vols[] = { 10, 20, 30 };
	static const uint8_t dst_vols[] = { 1, 2, 250 };
	const struct bad_payload *c = &bad_payloads[_i];
	struct mirror_array_table src, dst, before;
	uint8_t buf[BASE_LEN + 16];
	struct mirror_findings f;
	size_t len;

	fill_table(&src, vols, ARRAY_LEN(vols));
	len = (size_t)mirror_table_update_encode(&src, buf, sizeof(buf));
	ck_assert_uint_eq(len, BASE_LEN);
	c->mutate(buf, &len);

	fill_table(&dst, dst_vols, ARRAY_LEN(dst_vols));
	memcpy(&before, &dst, sizeof(dst));
	mirror_findings_init(&f);
	ck_assert_msg(mirror_table_update_decode(buf, len, &dst, &f) == c->rc, "%s", c->what);
	ck_assert_finding(&f, c->rule, c->byte, c->bit, true);
	ck_assert(!mirror_findings_first_error(&f)->in_cdb);
	ck_assert_msg(memcmp(&dst, &before, sizeof(dst)) == 0, "%s: rejected update changed the table",
		      c->what);
}
END_TEST

/* The same serial under two array numbers is two arrays, not a clash. */
START_TEST(test_payload_same_serial_other_array)
{
	static const uint8_t vols[] = { 10, 20 };
	struct mirror_array_table src, dst;
	uint8_t buf[BASE_LEN];
	int n;

	fill_table(&src, vols, ARRAY_LEN(vols));
	n = mirror_table_update_encode(&src, buf, sizeof(buf));
	memcpy(buf + 16 + 16 + 8, buf + 16 + 8, 8); /* entry 1 takes entry 0's serial */
	mirror_array_table_init(&dst);
	ck_assert_int_eq(mirror_table_update_decode(buf, (size_t)n, &dst, NULL), 0);
	ck_assert_int_eq(mirror_array_table_find(&dst, serial_of(10), 70), 10);
	ck_assert_int_eq(mirror_array_table_find(&dst, serial_of(10), 140), 20);
}
END_TEST

/* ---- the text file (mirror-emu --table, mirror-conform --table) ---- */

START_TEST(test_text_good)
{
	static const char text[] =
		"# volume serial array-number\n"
		"\n"
		"0   4D49525200000000 0\n"
		"  1\t0x4d49525200000001   1   # a comment after the fields\r\n"
		"255 FF 3";
	struct mirror_array_table t;
	char why[256] = "";
	uint64_t serial;
	uint8_t an;

	ck_assert_int_eq(mirror_array_table_parse_text(text, "t.txt", &t, why, sizeof(why)), 0);
	ck_assert_uint_eq(t.count, 3);
	ck_assert_int_eq(mirror_array_table_lookup(&t, 0, &serial, &an), 0);
	ck_assert_uint_eq(serial, 0x4D49525200000000ull);
	ck_assert_uint_eq(an, 0);
	ck_assert_int_eq(mirror_array_table_lookup(&t, 1, &serial, &an), 0);
	ck_assert_uint_eq(serial, 0x4D49525200000001ull);
	ck_assert_uint_eq(an, 1);
	ck_assert_int_eq(mirror_array_table_lookup(&t, 255, &serial, &an), 0);
	ck_assert_uint_eq(serial, 0xFFu);
	ck_assert_uint_eq(an, 3);
	ck_assert_int_eq(mirror_array_table_lookup(&t, 2, NULL, NULL), -ENOENT);
}
END_TEST

/* Each bad text and the words its message must hold (file:line: field). */
static const struct {
	const char *text, *want;
} bad_texts[] = {
	{ "", "t.txt: no volume" },
	{ "# only a comment\n\n", "t.txt: no volume" },
	{ "1 AB\n", "t.txt:1: expected 3 fields" },
	{ "1 AB 2 9\n", "t.txt:1: expected 3 fields" },
	{ "0 1 0\n256 2 0\n", "t.txt:2: volume '256' is not within 0..255" },
	{ "x 1 0\n", "t.txt:1: volume 'x' is not a decimal number" },
	{ "-1 1 0\n", "t.txt:1: volume '-1' is not a decimal number" },
	{ "1 12345678901234567 0\n", "t.txt:1: array serial '12345678901234567' is not 1 to 16 hex digits" },
	{ "1 0x 0\n", "t.txt:1: array serial '0x' is not" },
	{ "1 G1 0\n", "t.txt:1: array serial 'G1'" },
	{ "1 AB 300\n", "t.txt:1: array number '300' is not within 0..255" },
	{ "1 AB 0\n\n1 CD 1\n", "t.txt:3: volume 1 is already on line 1" },
	{ "1 AB 0\n2 AB 0\n", "t.txt:2: array serial 00000000000000AB, array number 0 is already volume 1 (line 1)" },
};

START_TEST(test_text_bad)
{
	struct mirror_array_table t;
	char why[256] = "";

	ck_assert_int_eq(mirror_array_table_parse_text(bad_texts[_i].text, "t.txt", &t, why, sizeof(why)),
			 -EINVAL);
	ck_assert_msg(strstr(why, bad_texts[_i].want), "text %d: '%s' lacks '%s'", _i, why,
		      bad_texts[_i].want);
}
END_TEST

START_TEST(test_text_long_line)
{
	char text[MIRROR_TABLE_TEXT_LINE_MAX + 16];
	struct mirror_array_table t;
	char why[256] = "";

	memset(text, ' ', sizeof(text) - 1);
	memcpy(text, "1 AB 0", 6);
	text[sizeof(text) - 1] = '\0';
	ck_assert_int_eq(mirror_array_table_parse_text(text, "t.txt", &t, why, sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "t.txt:1: line longer than"));
}
END_TEST

START_TEST(test_text_file_missing)
{
	struct mirror_array_table t;
	char why[256] = "";

	ck_assert_int_eq(mirror_array_table_read_file("/nonexistent/table.txt", &t, why, sizeof(why)),
			 -ENOENT);
	ck_assert_ptr_nonnull(strstr(why, "/nonexistent/table.txt: "));
}
END_TEST

static Suite *array_table_suite(void)
{
	Suite *s = suite_create("array_table");
	TCase *tc;

	tc = tcase_create("table");
	tcase_add_test(tc, test_init_empty);
	tcase_add_test(tc, test_add_lookup_find_delete);
	tcase_add_test(tc, test_generation_script);
	tcase_add_test(tc, test_fill_all_volumes);
	suite_add_tcase(s, tc);

	tc = tcase_create("cdb");
	tcase_add_test(tc, test_cdb_encode_decode);
	tcase_add_loop_test(tc, test_cdb_reserved, 0, (int)(5 * ARRAY_LEN(reserved_values)));
	tcase_add_test(tc, test_cdb_reserved_first_wins);
	tcase_add_test(tc, test_cdb_opcode);
	tcase_add_loop_test(tc, test_cdb_truncated, 0, (int)MIRROR_TABLE_CDB_LEN);
	suite_add_tcase(s, tc);

	tc = tcase_create("payload");
	tcase_add_test(tc, test_payload_encode_layout);
	tcase_add_loop_test(tc, test_payload_round_trip, 0, (int)ARRAY_LEN(roundtrip_sets));
	tcase_add_test(tc, test_payload_round_trip_full);
	tcase_add_loop_test(tc, test_payload_invalid, 0, (int)ARRAY_LEN(bad_payloads));
	tcase_add_test(tc, test_payload_same_serial_other_array);
	suite_add_tcase(s, tc);

	tc = tcase_create("text");
	tcase_add_test(tc, test_text_good);
	tcase_add_loop_test(tc, test_text_bad, 0, (int)ARRAY_LEN(bad_texts));
	tcase_add_test(tc, test_text_long_line);
	tcase_add_test(tc, test_text_file_missing);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run_suite(array_table_suite());
}
