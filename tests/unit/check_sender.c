/* The sender's helpers (sender.h) and the transport seam's target checks
 * and exit statuses (transport.h), without a target: test data, an op's
 * data-out, NVRAM ranges, READBACK comparison, outcome rendering. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <mirror/sender.h>
#include <mirror/transport.h>

#include "testutil.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- patterns ---- */

START_TEST(test_pattern_parse)
{
	struct mirror_pattern p;
	char why[128];

	ck_assert_int_eq(mirror_pattern_parse("lba", &p, why, sizeof(why)), 0);
	ck_assert_int_eq(p.kind, MIRROR_PATTERN_LBA);
	ck_assert_int_eq(mirror_pattern_parse("0x5a", &p, why, sizeof(why)), 0);
	ck_assert_int_eq(p.kind, MIRROR_PATTERN_BYTE);
	ck_assert_uint_eq(p.byte, 0x5a);
	ck_assert_int_eq(mirror_pattern_parse("90", &p, why, sizeof(why)), 0);
	ck_assert_uint_eq(p.byte, 90);
	ck_assert_int_eq(mirror_pattern_parse("random:42", &p, why, sizeof(why)), 0);
	ck_assert_int_eq(p.kind, MIRROR_PATTERN_RANDOM);
	ck_assert_uint_eq(p.seed, 42);
	ck_assert_int_eq(mirror_pattern_parse("random:0x10", &p, why, sizeof(why)), 0);
	ck_assert_uint_eq(p.seed, 16);
}
END_TEST

static const char *const bad_patterns[] = {
	"", "x", "0x100", "256", "random:", "random:-1", "random:1x", "-1", "lba2",
};

START_TEST(test_pattern_parse_bad)
{
	struct mirror_pattern p;
	char why[128] = "";

	ck_assert_int_eq(mirror_pattern_parse(bad_patterns[_i], &p, why, sizeof(why)), -EINVAL);
	ck_assert_msg(why[0], "no reason for '%s'", bad_patterns[_i]);
}
END_TEST

START_TEST(test_pattern_lba)
{
	struct mirror_pattern p = { MIRROR_PATTERN_LBA, 0, 0 };
	uint8_t buf[3 * 512], part[700];

	mirror_pattern_fill(&p, 0x01020304, buf, sizeof(buf));
	for (unsigned b = 0; b < 3; b++) {
		const uint8_t *blk = buf + b * 512;
		ck_assert_uint_eq(blk[0], 0x01);
		ck_assert_uint_eq(blk[1], 0x02);
		ck_assert_uint_eq(blk[2], 0x03);
		ck_assert_uint_eq(blk[3], 0x04 + b);
		for (unsigned i = 4; i < 512; i++)
			ck_assert_uint_eq(blk[i], i & 0xff);
	}
	/* A cut-short last block is the start of the full one. */
	mirror_pattern_fill(&p, 0x01020304, part, sizeof(part));
	ck_assert_mem_eq(part, buf, sizeof(part));
}
END_TEST

START_TEST(test_pattern_byte)
{
	struct mirror_pattern p = { MIRROR_PATTERN_BYTE, 0xa5, 0 };
	uint8_t buf[1000];

	mirror_pattern_fill(&p, 7, buf, sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++)
		ck_assert_uint_eq(buf[i], 0xa5);
}
END_TEST

START_TEST(test_pattern_random_positional)
{
	struct mirror_pattern p = { MIRROR_PATTERN_RANDOM, 0, 99 };
	struct mirror_pattern q = { MIRROR_PATTERN_RANDOM, 0, 100 };
	uint8_t a[4 * 512], b[3 * 512], c[512];

	/* Any part regenerates alone: blocks 11..13 of a write from 10 are
	 * the write from 11. */
	mirror_pattern_fill(&p, 10, a, sizeof(a));
	mirror_pattern_fill(&p, 11, b, sizeof(b));
	ck_assert_mem_eq(a + 512, b, sizeof(b));
	/* Blocks differ from each other and from another seed's. */
	ck_assert(memcmp(a, a + 512, 512) != 0);
	mirror_pattern_fill(&q, 10, c, sizeof(c));
	ck_assert(memcmp(a, c, 512) != 0);
}
END_TEST

/* ---- an op on the wire ---- */

static struct mirror_profile prof;

static void prof_setup(void)
{
	mirror_profile_init(&prof);
}

static void split_one(const struct mirror_write *w, enum mirror_path_policy pol,
		      struct mirror_op *op)
{
	struct mirror_splitter sp;
	struct mirror_sender_state ss = { false, true };
	char why[128];

	ck_assert_int_eq(mirror_split_init(&sp, &prof, w, &ss, pol, 7, why, sizeof(why)), 0);
	ck_assert_int_eq(mirror_split_next(&sp, op), 1);
}

START_TEST(test_op_build_small)
{
	struct mirror_write w = { .lba = 4096, .bytes = 8192, .nvram_addr = 0x10000, .region = 0,
				  .volume = 3 };
	struct mirror_pattern pat = { MIRROR_PATTERN_LBA, 0, 0 };
	struct mirror_op op;
	struct mirror_op_wire wire;
	uint8_t data[8192], buf[MIRROR_OP_DATA_OUT_MAX];

	mirror_pattern_fill(&pat, w.lba, data, sizeof(data));
	split_one(&w, MIRROR_POLICY_AUTO, &op);
	ck_assert_int_eq(op.path, MIRROR_PATH_SMALL);
	ck_assert_int_eq(mirror_op_build(&prof, &op, &w, data, buf, sizeof(buf), &wire), 12);
	ck_assert_uint_eq(wire.cdb_len, 12);
	ck_assert_uint_eq(wire.cdb[0], 0xA0);
	ck_assert_uint_eq(wire.data_out_len, 8192);
	ck_assert_mem_eq(buf, data, 8192);

	struct mirror_small_cdb c;
	struct mirror_findings f;
	struct mirror_check_ctx ctx = MIRROR_CHECK_CTX_INIT;
	ctx.data_out_length = (int64_t)wire.data_out_len;
	mirror_findings_init(&f);
	ck_assert_int_eq(mirror_small_cdb_decode(&prof, wire.cdb, wire.cdb_len, &ctx, &c, &f), 0);
	ck_assert_uint_eq(c.volume, 3);
	ck_assert_uint_eq(c.lba, 4096);
	ck_assert_uint_eq(mirror_small_cdb_blocks(&c), 16);
}
END_TEST

START_TEST(test_op_build_large)
{
	struct mirror_write w = { .lba = 100, .bytes = 4096, .nvram_addr = 0x20000, .region = 0,
				  .array_serial = 0x0123456789abcdefull, .array_number = 2 };
	struct mirror_pattern pat = { MIRROR_PATTERN_RANDOM, 0, 5 };
	struct mirror_op op;
	struct mirror_op_wire wire;
	uint8_t data[4096], buf[MIRROR_OP_DATA_OUT_MAX];

	mirror_pattern_fill(&pat, w.lba, data, sizeof(data));
	split_one(&w, MIRROR_POLICY_LARGE, &op);
	ck_assert_int_eq(mirror_op_build(&prof, &op, &w, data, buf, sizeof(buf), &wire), 10);
	ck_assert_uint_eq(wire.cdb[0], 0x3C);
	ck_assert_uint_eq(wire.data_out_len, 1024 + 4096);
	ck_assert_mem_eq(buf + 1024, data, 4096);

	/* The metadata leads the data-out and says what the data is. */
	struct mirror_metadata m;
	struct mirror_findings f;
	struct mirror_check_ctx ctx = MIRROR_CHECK_CTX_INIT;
	ctx.data_out_length = (int64_t)wire.data_out_len;
	mirror_findings_init(&f);
	ck_assert_int_eq(mirror_metadata_decode(&prof, buf, 1024, &ctx, &m, &f), 0);
	ck_assert_uint_eq(m.sequence, 7);
	ck_assert_uint_eq(m.lba, 100);
	ck_assert_uint_eq(m.blocks, 8);
	ck_assert(m.array_serial == 0x0123456789abcdefull);
	ck_assert_uint_eq(m.array_number, 2);
	ck_assert_uint_eq(m.sg_count, 1);
	ck_assert_uint_eq(m.sg[0].nvram_addr, 0x20000);
}
END_TEST

START_TEST(test_op_build_nospace)
{
	struct mirror_write w = { .lba = 0, .bytes = 4096, .nvram_addr = 0, .region = 0 };
	struct mirror_op op;
	struct mirror_op_wire wire;
	uint8_t data[4096], buf[4096];

	memset(data, 0, sizeof(data));
	split_one(&w, MIRROR_POLICY_LARGE, &op);
	/* 4096 bytes of room, 5120 needed with the metadata. */
	ck_assert_int_eq(mirror_op_build(&prof, &op, &w, data, buf, sizeof(buf), &wire),
			 MIRROR_E_NOSPACE);
}
END_TEST

START_TEST(test_op_ranges)
{
	struct mirror_op op;
	struct mirror_op_range r[4];

	memset(&op, 0, sizeof(op));
	/* Two touching elements, then the ring's wrap to the region start. */
	op.sg_count = 3;
	op.sg[0] = (struct mirror_sg_element){ 0x3ffc000, 0x2000 };
	op.sg[1] = (struct mirror_sg_element){ 0x3ffe000, 0x2000 };
	op.sg[2] = (struct mirror_sg_element){ 0x0, 0x1000 };
	ck_assert_uint_eq(mirror_op_ranges(&op, r, 4), 2);
	ck_assert_uint_eq(r[0].nvram_addr, 0x3ffc000);
	ck_assert_uint_eq(r[0].bytes, 0x4000);
	ck_assert_uint_eq(r[0].data_offset, 0);
	ck_assert_uint_eq(r[1].nvram_addr, 0);
	ck_assert_uint_eq(r[1].bytes, 0x1000);
	ck_assert_uint_eq(r[1].data_offset, 0x4000);
	/* Capped by the caller's array. */
	ck_assert_uint_eq(mirror_op_ranges(&op, r, 1), 1);
}
END_TEST

/* ---- READBACK comparison ---- */

#define NV_SIZE (256u * 1024u)

static struct mirror_profile nvprof;
static struct mirror_nvram nv;
static uint8_t *nv_data;
static uint64_t *nv_bitmap;
static uint8_t *rb_buf;

static void nv_setup(void)
{
	mirror_profile_init(&nvprof);
	nvprof.nvram_size = NV_SIZE;
	nvprof.region_split = NV_SIZE / 2;
	nv_data = calloc(1, NV_SIZE);
	nv_bitmap = calloc(1, mirror_nvram_bitmap_bytes(NV_SIZE));
	rb_buf = malloc(MIRROR_OP_DATA_OUT_MAX);
	ck_assert_ptr_nonnull(nv_data);
	ck_assert_ptr_nonnull(nv_bitmap);
	ck_assert_ptr_nonnull(rb_buf);
	ck_assert_int_eq(mirror_nvram_init(&nv, &nvprof, nv_data, nv_bitmap), 0);
}

static void nv_teardown(void)
{
	free(nv_data);
	free(nv_bitmap);
	free(rb_buf);
}

/* Stores expect at addr as a receiver would, then reads it back. */
static void store_and_read(uint32_t addr, const uint8_t *expect, uint32_t bytes, uint32_t rb_addr,
			   uint32_t rb_blocks, struct mirror_readback *rb)
{
	struct mirror_readback_cdb c = { 0xC8, 0, rb_addr, rb_blocks };

	ck_assert_int_eq(mirror_nvram_store(&nv, addr, expect, bytes), 0);
	ck_assert_int_eq(mirror_nvram_mark_valid(&nv, addr, bytes), 0);
	int n = mirror_readback_build(&nv, &c, rb_buf, MIRROR_OP_DATA_OUT_MAX);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(mirror_readback_parse(rb_buf, (size_t)n, false, rb), 0);
}

START_TEST(test_compare_equal)
{
	struct mirror_pattern p = { MIRROR_PATTERN_LBA, 0, 0 };
	uint8_t expect[4096];
	struct mirror_readback rb;
	struct mirror_miscompare mc;

	mirror_pattern_fill(&p, 50, expect, sizeof(expect));
	store_and_read(0x8000, expect, sizeof(expect), 0x8000, 8, &rb);
	ck_assert_int_eq(mirror_readback_compare(&rb, 0x8000, expect, sizeof(expect), &mc), 0);
	/* A part of the range read back compares too. */
	ck_assert_int_eq(mirror_readback_compare(&rb, 0x8400, expect + 1024, 2048, &mc), 0);
}
END_TEST

START_TEST(test_compare_byte)
{
	struct mirror_pattern p = { MIRROR_PATTERN_RANDOM, 0, 3 };
	uint8_t expect[4096];
	struct mirror_readback rb;
	struct mirror_miscompare mc;

	mirror_pattern_fill(&p, 0, expect, sizeof(expect));
	store_and_read(0x8000, expect, sizeof(expect), 0x8000, 8, &rb);
	/* Two differences: the first one by address is reported. */
	expect[3000] ^= 0x10;
	expect[1234] ^= 0x01;
	ck_assert_int_eq(mirror_readback_compare(&rb, 0x8000, expect, sizeof(expect), &mc), 1);
	ck_assert_uint_eq(mc.nvram_addr, 0x8000 + 1234);
	ck_assert(!mc.invalid);
	ck_assert_uint_eq(mc.expected, expect[1234]);
	ck_assert_uint_eq(mc.got, expect[1234] ^ 0x01);
}
END_TEST

START_TEST(test_compare_invalid_block)
{
	uint8_t expect[4096];
	struct mirror_readback rb;
	struct mirror_miscompare mc;

	memset(expect, 0x77, sizeof(expect));
	store_and_read(0x8000, expect, sizeof(expect), 0x8000, 8, &rb);
	/* Block 5 (bytes 2560..3071) not marked valid: a difference at its
	 * first byte, even though its bytes match. */
	ck_assert_int_eq(mirror_nvram_mark_invalid(&nv, 0x8000 + 5 * 512, 512), 0);
	struct mirror_readback_cdb c = { 0xC8, 0, 0x8000, 8 };
	int n = mirror_readback_build(&nv, &c, rb_buf, MIRROR_OP_DATA_OUT_MAX);
	ck_assert_int_eq(mirror_readback_parse(rb_buf, (size_t)n, false, &rb), 0);
	ck_assert_int_eq(mirror_readback_compare(&rb, 0x8000, expect, sizeof(expect), &mc), 1);
	ck_assert(mc.invalid);
	ck_assert_uint_eq(mc.nvram_addr, 0x8000 + 5 * 512);
}
END_TEST

START_TEST(test_compare_outside)
{
	uint8_t expect[1024];
	struct mirror_readback rb;
	struct mirror_miscompare mc;

	memset(expect, 1, sizeof(expect));
	store_and_read(0x8000, expect, sizeof(expect), 0x8000, 2, &rb);
	ck_assert_int_eq(mirror_readback_compare(&rb, 0x7e00, expect, 512, &mc), -EINVAL);
	ck_assert_int_eq(mirror_readback_compare(&rb, 0x8200, expect, 1024, &mc), -EINVAL);
	ck_assert_int_eq(mirror_readback_compare(&rb, 0x8100, expect, 256, &mc), -EINVAL);
	/* Validity only: no data to compare. */
	rb.data = NULL;
	ck_assert_int_eq(mirror_readback_compare(&rb, 0x8000, expect, 512, &mc), -EINVAL);
}
END_TEST

/* ---- outcomes ---- */

static void with_sense(struct mirror_cmd *c, uint8_t key, uint8_t asc, uint8_t ascq, bool sksv)
{
	struct mirror_sense s = { 0 };

	memset(c, 0, sizeof(*c));
	c->status = MIRROR_STATUS_CHECK_CONDITION;
	s.key = key;
	s.asc = asc;
	s.ascq = ascq;
	if (sksv) {
		s.sksv = true;
		s.cd = true;
		s.bpv = true;
		s.bit = 7;
		s.field = 1;
	}
	c->sense_len = (unsigned)mirror_sense_build(c->sense, sizeof(c->sense), &s);
	ck_assert_int_eq(mirror_sense_parse(c->sense, c->sense_len, &c->sense_parsed), 0);
}

START_TEST(test_exit_status)
{
	struct mirror_cmd c;

	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(mirror_cmd_exit_status(&c), MIRROR_EXIT_OK);
	c.result = -ETIMEDOUT;
	ck_assert_int_eq(mirror_cmd_exit_status(&c), MIRROR_EXIT_TIMEOUT);
	c.result = -ECONNRESET;
	ck_assert_int_eq(mirror_cmd_exit_status(&c), MIRROR_EXIT_TRANSPORT);
	c.result = -ECONNABORTED;
	ck_assert_int_eq(mirror_cmd_exit_status(&c), MIRROR_EXIT_TRANSPORT);

	with_sense(&c, MIRROR_SK_ILLEGAL_REQUEST, 0x20, 0, false);
	ck_assert_int_eq(mirror_cmd_exit_status(&c), MIRROR_EXIT_INVALID_OP);
	ck_assert(mirror_cmd_invalid_opcode(&c));
	with_sense(&c, MIRROR_SK_ILLEGAL_REQUEST, 0x24, 0, true);
	ck_assert_int_eq(mirror_cmd_exit_status(&c), MIRROR_EXIT_ILLEGAL_REQ);
	ck_assert(!mirror_cmd_invalid_opcode(&c));
	with_sense(&c, MIRROR_SK_ILLEGAL_REQUEST, 0x26, 0, true);
	ck_assert_int_eq(mirror_cmd_exit_status(&c), MIRROR_EXIT_INVALID_PARAM);
	with_sense(&c, MIRROR_SK_ILLEGAL_REQUEST, 0x21, 0, false);
	ck_assert_int_eq(mirror_cmd_exit_status(&c), MIRROR_EXIT_LBA_OUT_OF_RANGE);

	/* Sense bytes that are no sense data count as none. */
	memset(&c, 0, sizeof(c));
	c.status = MIRROR_STATUS_CHECK_CONDITION;
	c.sense_len = 4;
	ck_assert_int_eq(mirror_cmd_exit_status(&c), MIRROR_EXIT_OTHER);
}
END_TEST

START_TEST(test_json_outcome)
{
	struct mirror_cmd c;
	struct json_object *o = json_object_new_object(), *so, *v;

	with_sense(&c, MIRROR_SK_ILLEGAL_REQUEST, 0x24, 0, true);
	c.duration_ns = 1499;
	mirror_json_add_outcome(o, &c, NULL);
	ck_assert(json_object_object_get_ex(o, "status", &v));
	ck_assert_str_eq(json_object_get_string(v), "CHECK CONDITION");
	ck_assert(json_object_object_get_ex(o, "exit_status", &v));
	ck_assert_int_eq(json_object_get_int(v), 5);
	ck_assert(json_object_object_get_ex(o, "latency_us", &v));
	ck_assert_int_eq(json_object_get_int(v), 1);
	ck_assert(json_object_object_get_ex(o, "sense", &so));
	ck_assert(json_object_object_get_ex(so, "key", &v));
	ck_assert_int_eq(json_object_get_int(v), 5);
	ck_assert(json_object_object_get_ex(so, "asc", &v));
	ck_assert_int_eq(json_object_get_int(v), 0x24);
	ck_assert(json_object_object_get_ex(so, "sksv", &v));
	ck_assert(json_object_get_boolean(v));
	ck_assert(json_object_object_get_ex(so, "cd", &v));
	ck_assert(json_object_get_boolean(v));
	ck_assert(json_object_object_get_ex(so, "field", &v));
	ck_assert_int_eq(json_object_get_int(v), 1);
	ck_assert(json_object_object_get_ex(so, "bit", &v));
	ck_assert_int_eq(json_object_get_int(v), 7);
	json_object_put(o);

	/* A transport failure: status null, the message as error. */
	o = json_object_new_object();
	memset(&c, 0, sizeof(c));
	c.result = -ETIMEDOUT;
	mirror_json_add_outcome(o, &c, "command 0x00 timed out");
	ck_assert(json_object_object_get_ex(o, "status", &v));
	ck_assert_ptr_null(v);
	ck_assert(json_object_object_get_ex(o, "error", &v));
	ck_assert_str_eq(json_object_get_string(v), "command 0x00 timed out");
	ck_assert(json_object_object_get_ex(o, "exit_status", &v));
	ck_assert_int_eq(json_object_get_int(v), 33);
	json_object_put(o);
}
END_TEST

/* ---- the transport seam, without a target ---- */

START_TEST(test_transport_check)
{
	struct mirror_transport_opts o = { 0 };
	char err[512];

	ck_assert_int_eq(mirror_transport_check("iscsi://127.0.0.1/iqn.2024-01.x:y/1", &o, err,
						sizeof(err)), 0);
	ck_assert_int_eq(mirror_transport_check("iscsi://u%p@127.0.0.1:3261/iqn.2024-01.x:y/0", NULL,
						err, sizeof(err)), 0);
	ck_assert_int_eq(mirror_transport_check("http://x", &o, err, sizeof(err)), -EINVAL);
	ck_assert(strstr(err, "iscsi://") != NULL);
	ck_assert_int_eq(mirror_transport_check("iscsi://127.0.0.1/iqn", &o, err, sizeof(err)),
			 -EINVAL);
	ck_assert(strstr(err, "lun") != NULL);
	/* A device path names the SG_IO backend (check_transport_sgio has
	 * the rest). */
	ck_assert_int_eq(mirror_transport_check("/dev/sg0", &o, err, sizeof(err)), 0);
	ck_assert_int_eq(mirror_transport_check("", &o, err, sizeof(err)), -EINVAL);
	o.data_digest = true;
	ck_assert_int_eq(mirror_transport_check("iscsi://127.0.0.1/iqn.2024-01.x:y/1", &o, err,
						sizeof(err)), -ENOTSUP);
}
END_TEST

START_TEST(test_transport_refused)
{
	struct mirror_transport_opts o = { 0 };
	char err[512] = "";

	o.connect_timeout_ms = 2000;
	/* Port 1 on the loopback: nothing listens there. */
	ck_assert_ptr_null(mirror_transport_open("iscsi://127.0.0.1:1/iqn.2024-01.x:y/1", &o, err,
						 sizeof(err)));
	ck_assert_msg(strstr(err, "cannot connect to 127.0.0.1:1") != NULL, "%s", err);
}
END_TEST

static Suite *sender_suite(void)
{
	Suite *s = suite_create("sender");
	TCase *tc = tcase_create("pattern");

	tcase_add_test(tc, test_pattern_parse);
	tcase_add_loop_test(tc, test_pattern_parse_bad, 0, (int)ARRAY_LEN(bad_patterns));
	tcase_add_test(tc, test_pattern_lba);
	tcase_add_test(tc, test_pattern_byte);
	tcase_add_test(tc, test_pattern_random_positional);
	suite_add_tcase(s, tc);

	tc = tcase_create("op");
	tcase_add_checked_fixture(tc, prof_setup, NULL);
	tcase_add_test(tc, test_op_build_small);
	tcase_add_test(tc, test_op_build_large);
	tcase_add_test(tc, test_op_build_nospace);
	tcase_add_test(tc, test_op_ranges);
	suite_add_tcase(s, tc);

	tc = tcase_create("compare");
	tcase_add_checked_fixture(tc, nv_setup, nv_teardown);
	tcase_add_test(tc, test_compare_equal);
	tcase_add_test(tc, test_compare_byte);
	tcase_add_test(tc, test_compare_invalid_block);
	tcase_add_test(tc, test_compare_outside);
	suite_add_tcase(s, tc);

	tc = tcase_create("outcome");
	tcase_add_test(tc, test_exit_status);
	tcase_add_test(tc, test_json_outcome);
	tcase_add_test(tc, test_transport_check);
	tcase_add_test(tc, test_transport_refused);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run_suite(sender_suite());
}
