/* The sender's helpers (sender.h) and the transport seam's target checks
 * and exit statuses (transport.h), without a target: test data, an op's
 * data-out, NVRAM ranges, READBACK comparison, outcome rendering; the
 * command builders (commands.h), byte for byte; what an answer means to a
 * sender; mirror-send's verify loop and one poll over many transports,
 * against a fake backend (a pipe for a socket, canned answers). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include <mirror/commands.h>
#include <mirror/sender.h>
#include <mirror/transport.h>

#include "testutil.h"
#include "transport/priv.h"

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

/* ---- command builders ---- */

START_TEST(test_cmd_table_update)
{
	uint8_t param[48] = { 0 };
	static const uint8_t cdb[10] = { 0xC6, 0, 0, 0, 0, 0, 0, 0, 0x30, 0 };
	struct mirror_cmd c;

	memset(&c, 0xAA, sizeof(c)); /* every field is set, none left over */
	ck_assert_int_eq(mirror_cmd_table_update(&c, &prof, param, sizeof(param)), 0);
	ck_assert_uint_eq(c.cdb_len, 10);
	ck_assert_mem_eq(c.cdb, cdb, 10);
	ck_assert_uint_eq(c.cdb[10], 0);
	ck_assert_int_eq(c.dir, MIRROR_DIR_OUT);
	ck_assert_ptr_eq(c.data_out, param);
	ck_assert_uint_eq(c.data_out_len, 48);
	ck_assert_ptr_null(c.data_in);
	ck_assert_uint_eq(c.data_in_len, 0);
	ck_assert_ptr_null(c.user);
	/* The parameter list length has 24 bits (CDB bytes 6-8). */
	ck_assert_int_eq(mirror_cmd_table_update(&c, &prof, param, 0x1000000),
			 MIRROR_E_FIELD_WIDTH);
	/* A profile's own opcode. */
	struct mirror_profile p = prof;
	p.op.table_update = 0xD6;
	ck_assert_int_eq(mirror_cmd_table_update(&c, &p, param, 0x123456), 0);
	static const uint8_t cdb2[10] = { 0xD6, 0, 0, 0, 0, 0, 0x12, 0x34, 0x56, 0 };
	ck_assert_mem_eq(c.cdb, cdb2, 10);
}
END_TEST

START_TEST(test_cmd_table_push)
{
	struct mirror_array_table t;
	uint8_t buf[MIRROR_TABLE_MAX_BYTES];
	struct mirror_cmd c;
	static const uint8_t cdb[10] = { 0xC6, 0, 0, 0, 0, 0, 0, 0, 0x20, 0 };
	/* header: generation 1 (one add), one entry; the entry: volume 3,
	 * array number 9, the serial in bytes 8-15 */
	static const uint8_t list[32] = {
		0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		3, 9, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8,
	};

	mirror_array_table_init(&t);
	ck_assert_int_eq(mirror_array_table_add(&t, 3, 0x0102030405060708ull, 9), 0);
	memset(buf, 0xAA, sizeof(buf));
	ck_assert_int_eq(mirror_cmd_table_push(&c, &prof, &t, buf, sizeof(buf)), 0);
	ck_assert_uint_eq(c.cdb_len, 10);
	ck_assert_mem_eq(c.cdb, cdb, 10);
	ck_assert_int_eq(c.dir, MIRROR_DIR_OUT);
	ck_assert_ptr_eq(c.data_out, buf);
	ck_assert_uint_eq(c.data_out_len, 32);
	ck_assert_mem_eq(buf, list, sizeof(list));
	ck_assert_uint_eq(buf[32], 0xAA); /* nothing written past the list */
	ck_assert_int_eq(mirror_cmd_table_push(&c, &prof, &t, buf, 31), MIRROR_E_NOSPACE);
}
END_TEST

START_TEST(test_cmd_readback)
{
	static uint8_t buf[MIRROR_READBACK_BUF_MAX];
	struct mirror_cmd c;
	static const uint8_t cdb[12] = { 0xC8, 0, 0, 1, 0x20, 0, 0, 0, 0, 8, 0, 0 };
	static const uint8_t cdb_v[12] = { 0xC8, 1, 0, 1, 0x20, 0, 0, 0, 0, 8, 0, 0 };

	memset(&c, 0xAA, sizeof(c));
	ck_assert_int_eq(mirror_cmd_readback(&c, &prof, 0x12000, 8, false, buf, sizeof(buf)), 0);
	ck_assert_uint_eq(c.cdb_len, 12);
	ck_assert_mem_eq(c.cdb, cdb, 12);
	ck_assert_int_eq(c.dir, MIRROR_DIR_IN);
	ck_assert_ptr_eq(c.data_in, buf);
	/* header 16, bitmap 4 (8 bits rounded up to 32), data 8 x 512 */
	ck_assert_uint_eq(c.data_in_len, 16 + 4 + 4096);
	ck_assert_ptr_null(c.data_out);
	ck_assert_ptr_null(c.user);
	ck_assert_int_eq(mirror_cmd_readback(&c, &prof, 0x12000, 8, true, buf, sizeof(buf)), 0);
	ck_assert_mem_eq(c.cdb, cdb_v, 12);
	ck_assert_uint_eq(c.data_in_len, 20);
	/* 2048 blocks fill MIRROR_READBACK_BUF_MAX exactly */
	ck_assert_int_eq(mirror_cmd_readback(&c, &prof, 0, 2048, false, buf, sizeof(buf)), 0);
	ck_assert_uint_eq(c.data_in_len, sizeof(buf));
	ck_assert_int_eq(mirror_cmd_readback(&c, &prof, 0, 2049, false, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(mirror_cmd_readback(&c, &prof, 0, 0, false, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(mirror_cmd_readback(&c, &prof, 0x12000, 8, false, buf, 4115),
			 MIRROR_E_NOSPACE);
}
END_TEST

START_TEST(test_cmd_read_capacity10)
{
	uint8_t d[8];
	struct mirror_cmd c;
	static const uint8_t cdb[10] = { 0x25 };
	uint64_t blocks;
	uint32_t bs;

	memset(&c, 0xAA, sizeof(c));
	mirror_cmd_read_capacity10(&c, d);
	ck_assert_uint_eq(c.cdb_len, 10);
	ck_assert_mem_eq(c.cdb, cdb, 10);
	ck_assert_int_eq(c.dir, MIRROR_DIR_IN);
	ck_assert_ptr_eq(c.data_in, d);
	ck_assert_uint_eq(c.data_in_len, 8);
	/* SBC-3 5.15: the last LBA, then the block length */
	static const uint8_t answer[8] = { 0x00, 0x01, 0xFF, 0xFF, 0x00, 0x00, 0x10, 0x00 };
	memcpy(d, answer, 8);
	c.data_in_got = 8;
	ck_assert_int_eq(mirror_cmd_read_capacity10_parse(&c, &blocks, &bs), 0);
	ck_assert_uint_eq(blocks, 0x20000);
	ck_assert_uint_eq(bs, 4096);
	/* the largest LUN READ CAPACITY(10) describes: 2^32 blocks */
	memset(d, 0xFF, 4);
	ck_assert_int_eq(mirror_cmd_read_capacity10_parse(&c, &blocks, &bs), 0);
	ck_assert(blocks == (UINT64_C(1) << 32));
	c.data_in_got = 7;
	ck_assert_int_eq(mirror_cmd_read_capacity10_parse(&c, &blocks, &bs), MIRROR_E_TRUNCATED);
	ck_assert_uint_eq(bs, 0);
	c.data_in_got = 8;
	memset(d + 4, 0, 4);
	ck_assert_int_eq(mirror_cmd_read_capacity10_parse(&c, &blocks, &bs), -ERANGE);
}
END_TEST

START_TEST(test_cmd_write10)
{
	uint8_t data[512] = { 0 };
	struct mirror_cmd c;
	static const uint8_t cdb[10] = { 0x2A, 0, 0x01, 0x02, 0x03, 0x04, 0, 0x05, 0x06, 0 };

	memset(&c, 0xAA, sizeof(c));
	mirror_cmd_write10(&c, 0x01020304, 0x0506, data, sizeof(data));
	ck_assert_uint_eq(c.cdb_len, 10);
	ck_assert_mem_eq(c.cdb, cdb, 10);
	ck_assert_int_eq(c.dir, MIRROR_DIR_OUT);
	ck_assert_ptr_eq(c.data_out, data);
	ck_assert_uint_eq(c.data_out_len, 512);
}
END_TEST

START_TEST(test_cmd_op_small)
{
	struct mirror_write w = { .lba = 4096, .bytes = 8192, .nvram_addr = 0x10000, .region = 0,
				  .volume = 3 };
	static uint8_t buf[MIRROR_OP_DATA_OUT_MAX];
	struct mirror_op op;
	struct mirror_cmd c;
	/* wire-profile.md, small path: 0xA0 (region 0); high bits 0 and bc1 = 16
	 * (bits 3-0 of byte 1, 7-6 of byte 2); bc2 0; volume 3; descriptor
	 * 0x10000 / 512 = 0x80; descriptor 2 none; LBA 4096 */
	static const uint8_t cdb[12] = { 0xA0, 0x04, 0x00, 0x03, 0x00, 0x80, 0, 0, 0, 0, 0x10, 0 };

	split_one(&w, MIRROR_POLICY_AUTO, &op);
	memset(buf, 0x5A, sizeof(buf));
	ck_assert_int_eq(mirror_cmd_op(&c, &prof, &op, &w, buf, sizeof(buf)), 0);
	ck_assert_uint_eq(c.cdb_len, 12);
	ck_assert_mem_eq(c.cdb, cdb, 12);
	ck_assert_int_eq(c.dir, MIRROR_DIR_OUT);
	/* the data alone, where the caller put it */
	ck_assert_ptr_eq(c.data_out, buf + MIRROR_METADATA_BYTES);
	ck_assert_uint_eq(c.data_out_len, 8192);
	ck_assert_uint_eq(buf[MIRROR_METADATA_BYTES], 0x5A);
	/* no room for the data behind the metadata's place */
	ck_assert_int_eq(mirror_cmd_op(&c, &prof, &op, &w, buf, 1024 + 8191), MIRROR_E_NOSPACE);
	ck_assert_int_eq(mirror_cmd_op(&c, &prof, &op, &w, buf, 100), MIRROR_E_NOSPACE);
}
END_TEST

START_TEST(test_cmd_op_large)
{
	struct mirror_write w = { .lba = 100, .bytes = 4096, .nvram_addr = 0x20000, .region = 0,
				  .array_serial = 0x0123456789abcdefull, .array_number = 2 };
	static uint8_t buf[MIRROR_OP_DATA_OUT_MAX];
	struct mirror_op op;
	struct mirror_cmd c;
	static const uint8_t cdb[10] = { 0x3C };
	/* wire-profile.md, metadata: type 1, length 1024, sequence 7, LBA
	 * 100, 8 blocks, the serial, region 0, array number 2 */
	static const uint8_t head[26] = {
		0x00, 0x01, 0x04, 0x00, 0, 0, 0, 7, 0, 0, 0, 100, 0, 0, 0, 8,
		0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0, 2,
	};
	/* S/G element 0 at byte 512: NVRAM 0x20000, 4096 bytes */
	static const uint8_t sg0[16] = { 0, 2, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t zero[486];

	split_one(&w, MIRROR_POLICY_LARGE, &op);
	memset(buf, 0x5A, sizeof(buf));
	ck_assert_int_eq(mirror_cmd_op(&c, &prof, &op, &w, buf, sizeof(buf)), 0);
	ck_assert_uint_eq(c.cdb_len, 10);
	ck_assert_mem_eq(c.cdb, cdb, 10);
	ck_assert_ptr_eq(c.data_out, buf);
	ck_assert_uint_eq(c.data_out_len, 1024 + 4096);
	ck_assert_mem_eq(buf, head, sizeof(head));
	ck_assert_mem_eq(buf + 26, zero, sizeof(zero));
	ck_assert_mem_eq(buf + 512, sg0, sizeof(sg0));
	ck_assert_uint_eq(buf[1024], 0x5A); /* the data untouched */
}
END_TEST

/* ---- what an answer means ---- */

START_TEST(test_mirror_exit_status)
{
	struct mirror_cmd c;
	char line[512];

	/* GOOD with data-in to a data-out mirror command: not a receiver */
	memset(&c, 0, sizeof(c));
	c.cdb[0] = 0xA0;
	c.cdb_len = 12;
	c.dir = MIRROR_DIR_OUT;
	c.data_in_got = 16;
	ck_assert_int_eq(mirror_cmd_mirror_exit_status(&prof, &c), MIRROR_EXIT_MALFORMED);
	ck_assert(mirror_cmd_explain(&prof, &c, "mirror command", line, sizeof(line)));
	ck_assert_msg(strstr(line, "answered the data-out mirror command 0xA0 with 16 bytes of "
			      "data-in") != NULL, "%s", line);
	ck_assert_msg(strstr(line, "(now v1)") != NULL, "%s", line);
	c.data_in_got = 0;
	ck_assert_int_eq(mirror_cmd_mirror_exit_status(&prof, &c), MIRROR_EXIT_OK);
	ck_assert(!mirror_cmd_explain(&prof, &c, "mirror command", line, sizeof(line)));

	/* INVALID FIELD IN CDB without a field pointer to a mirror opcode */
	with_sense(&c, MIRROR_SK_ILLEGAL_REQUEST, 0x24, 0, false);
	c.cdb[0] = 0xC6;
	c.cdb_len = 10;
	c.dir = MIRROR_DIR_OUT;
	ck_assert(mirror_cmd_taken_for_other_command(&c));
	ck_assert_int_eq(mirror_cmd_exit_status(&c), MIRROR_EXIT_ILLEGAL_REQ);
	ck_assert_int_eq(mirror_cmd_mirror_exit_status(&prof, &c), MIRROR_EXIT_INVALID_OP);
	ck_assert(mirror_cmd_explain(&prof, &c, "harness command", line, sizeof(line)));
	ck_assert_msg(strstr(line, "rejected the harness command 0xC6 with INVALID FIELD IN CDB and "
			      "no field pointer") != NULL, "%s", line);
	/* ... with a field pointer: a receiver's own refusal, nothing to say */
	with_sense(&c, MIRROR_SK_ILLEGAL_REQUEST, 0x24, 0, true);
	c.cdb[0] = 0xC6;
	c.dir = MIRROR_DIR_OUT;
	ck_assert(!mirror_cmd_taken_for_other_command(&c));
	ck_assert_int_eq(mirror_cmd_mirror_exit_status(&prof, &c), MIRROR_EXIT_ILLEGAL_REQ);
	ck_assert(!mirror_cmd_explain(&prof, &c, "harness command", line, sizeof(line)));
	/* ... to an opcode no mirror command has: as it is */
	with_sense(&c, MIRROR_SK_ILLEGAL_REQUEST, 0x24, 0, false);
	c.cdb[0] = 0x2A;
	c.dir = MIRROR_DIR_OUT;
	ck_assert_int_eq(mirror_cmd_mirror_exit_status(&prof, &c), MIRROR_EXIT_ILLEGAL_REQ);
	/* ... to a data-in command: not taken for another */
	c.cdb[0] = 0xC8;
	c.dir = MIRROR_DIR_IN;
	ck_assert(!mirror_cmd_taken_for_other_command(&c));

	/* INVALID COMMAND OPERATION CODE, and an opcode a transport answers
	 * itself: the profile that avoids it ends the line */
	with_sense(&c, MIRROR_SK_ILLEGAL_REQUEST, 0x20, 0, false);
	c.cdb[0] = 0xA0;
	c.cdb_len = 12;
	c.dir = MIRROR_DIR_OUT;
	ck_assert_int_eq(mirror_cmd_mirror_exit_status(&prof, &c), MIRROR_EXIT_INVALID_OP);
	ck_assert(mirror_cmd_explain(&prof, &c, "mirror command", line, sizeof(line)));
	ck_assert_msg(strstr(line, "does not implement the mirror command 0xA0 (INVALID COMMAND "
			      "OPERATION CODE)") != NULL, "%s", line);
	/* a transport failure of 0xA0: the transport's explanation alone */
	memset(&c, 0, sizeof(c));
	c.cdb[0] = 0xA0;
	c.cdb_len = 12;
	c.dir = MIRROR_DIR_OUT;
	c.result = -EIO;
	ck_assert(mirror_cmd_explain(&prof, &c, "mirror command", line, sizeof(line)));
	ck_assert_msg(strncmp(line, "opcode 0xA0 did not reach the target", 36) == 0, "%s", line);
}
END_TEST

/* ---- a fake backend: a pipe for its socket, canned answers ---- */

struct fake {
	struct mirror_transport base;
	int fds[2];           /* the test writes fds[1] to make it ready */
	bool has_fd;
	bool always_ready;    /* completes at every poll, pipe or not */
	int fail;             /* < 0: poll fails the command and returns this */
	unsigned polls;       /* how often it was served */
	struct mirror_cmd *pending;
	mirror_cmd_done_fn done;
	/* what a completion delivers */
	uint8_t status;
	const uint8_t *answer;
	size_t answer_len;
};

static struct fake *fake_of(const struct mirror_transport *t)
{
	return (struct fake *)(uintptr_t)t;
}

static int fake_submit(struct mirror_transport *t, struct mirror_cmd *c, mirror_cmd_done_fn done)
{
	struct fake *f = fake_of(t);

	f->pending = c;
	f->done = done;
	return 0;
}

static void fake_complete(struct fake *f)
{
	struct mirror_cmd *c = f->pending;

	c->result = f->fail;
	c->status = f->status;
	if (f->fail == 0 && c->dir == MIRROR_DIR_IN && f->answer) {
		size_t n = f->answer_len < c->data_in_len ? f->answer_len : c->data_in_len;
		memcpy(c->data_in, f->answer, n);
		c->data_in_got = (uint32_t)n;
	}
	f->pending = NULL;
	f->done(c);
}

static int fake_poll(struct mirror_transport *t, int timeout_ms)
{
	struct fake *f = fake_of(t);
	uint8_t b;

	(void)timeout_ms;
	f->polls++;
	if (!f->pending)
		return 0;
	bool ready = f->always_ready || (f->has_fd && read(f->fds[0], &b, 1) == 1);
	if (f->fail < 0) {
		fake_complete(f);
		return f->fail;
	}
	if (!ready)
		return 0;
	fake_complete(f);
	return 1;
}

static unsigned fake_outstanding(const struct mirror_transport *t)
{
	return fake_of(t)->pending != NULL;
}

static int fake_fd(const struct mirror_transport *t)
{
	return fake_of(t)->has_fd ? fake_of(t)->fds[0] : -1;
}

static short fake_events(const struct mirror_transport *t)
{
	return fake_of(t)->has_fd ? POLLIN : 0;
}

static void fake_close(struct mirror_transport *t)
{
	(void)t;
}

static const struct mirror_transport_ops fake_ops = {
	.kind = "fake",
	.submit = fake_submit,
	.poll = fake_poll,
	.outstanding = fake_outstanding,
	.fd = fake_fd,
	.events = fake_events,
	.close = fake_close,
	.free = fake_close, /* the fake is the test's own */
};

static void fake_init(struct fake *f, bool has_fd)
{
	memset(f, 0, sizeof(*f));
	f->base.ops = &fake_ops;
	f->base.opts.queue_depth = 4;
	f->has_fd = has_fd;
	f->fds[0] = f->fds[1] = -1;
	if (has_fd) {
		ck_assert_int_eq(pipe(f->fds), 0);
		ck_assert_int_ne(fcntl(f->fds[0], F_SETFL, O_NONBLOCK), -1);
	}
}

static void fake_free(struct fake *f)
{
	if (f->fds[0] >= 0)
		close(f->fds[0]);
	if (f->fds[1] >= 0)
		close(f->fds[1]);
}

static void fake_ready(struct fake *f)
{
	ck_assert_int_eq(write(f->fds[1], "x", 1), 1);
}

static unsigned completions;

static void count_done(struct mirror_cmd *c)
{
	(void)c;
	completions++;
}

/* A command outstanding on f, as mirror-load keeps them. */
static void fake_busy(struct fake *f, struct mirror_cmd *c)
{
	memset(c, 0, sizeof(*c));
	c->cdb_len = 6;
	ck_assert_int_eq(mirror_transport_submit(&f->base, c, count_done), 0);
	ck_assert_uint_eq(mirror_transport_outstanding(&f->base), 1);
}

static uint64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- one poll over many transports ---- */

START_TEST(test_poll_many_bad_args)
{
	struct mirror_transport_poller *p = mirror_transport_poller_new(2);
	struct mirror_transport *t[3] = { NULL, NULL, NULL };

	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(mirror_transport_poll_many(NULL, t, 2, 0, NULL), -EINVAL);
	ck_assert_int_eq(mirror_transport_poll_many(p, t, 3, 0, NULL), -EINVAL); /* above cap */
	ck_assert_int_eq(mirror_transport_poll_many(p, NULL, 1, 0, NULL), -EINVAL);
	ck_assert_int_eq(mirror_transport_poll_many(p, t, 2, -2, NULL), -EINVAL);
	mirror_transport_poller_free(p);
	mirror_transport_poller_free(NULL);
}
END_TEST

START_TEST(test_poll_many_empty)
{
	struct mirror_transport_poller *p = mirror_transport_poller_new(0);
	struct mirror_transport_poller *p3 = mirror_transport_poller_new(3);
	struct mirror_transport *t[3] = { NULL, NULL, NULL };
	struct fake idle;
	int results[3] = { 7, 7, 7 };

	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(p3);
	ck_assert_int_eq(mirror_transport_poll_many(p, NULL, 0, 0, NULL), 0);
	/* nothing outstanding and no limit: nothing could end the wait */
	uint64_t t0 = ms_now();
	ck_assert_int_eq(mirror_transport_poll_many(p, NULL, 0, -1, NULL), 0);
	ck_assert_uint_lt(ms_now() - t0, 500);
	/* with a limit it is the caller's timer: NULL and idle entries skipped */
	fake_init(&idle, true);
	t[1] = &idle.base;
	t0 = ms_now();
	ck_assert_int_eq(mirror_transport_poll_many(p3, t, 3, 60, results), 0);
	ck_assert_uint_ge(ms_now() - t0, 50);
	ck_assert_int_eq(results[0], 0);
	ck_assert_int_eq(results[1], 0);
	ck_assert_int_eq(results[2], 0);
	ck_assert_uint_eq(idle.polls, 0);
	fake_free(&idle);
	mirror_transport_poller_free(p);
	mirror_transport_poller_free(p3);
}
END_TEST

START_TEST(test_poll_many_ready)
{
	struct mirror_transport_poller *p = mirror_transport_poller_new(4);
	struct fake a, b, nofd, failing;
	struct mirror_cmd ca, cb, cn, cf;
	int results[4];

	fake_init(&a, true);
	fake_init(&b, true);
	fake_init(&nofd, false);
	nofd.always_ready = true;
	fake_init(&failing, true);
	failing.fail = -EIO;
	struct mirror_transport *t[4] = { &a.base, &b.base, &nofd.base, &failing.base };
	fake_busy(&a, &ca);
	fake_busy(&b, &cb);
	fake_busy(&nofd, &cn);
	fake_busy(&failing, &cf);
	completions = 0;

	/* a and failing ready: they are served, b (not ready) is not, the
	 * transport without a descriptor is, at once */
	fake_ready(&a);
	fake_ready(&failing);
	uint64_t t0 = ms_now();
	ck_assert_int_eq(mirror_transport_poll_many(p, t, 4, 5000, results), 2);
	ck_assert_uint_lt(ms_now() - t0, 500);
	ck_assert_int_eq(results[0], 1);
	ck_assert_int_eq(results[1], 0);
	ck_assert_int_eq(results[2], 1);
	ck_assert_int_eq(results[3], -EIO);
	ck_assert_uint_eq(a.polls, 1);
	ck_assert_uint_eq(b.polls, 0);
	ck_assert_uint_eq(nofd.polls, 1);
	ck_assert_uint_eq(completions, 3); /* a, nofd and the failed one */
	ck_assert_int_eq(cf.result, -EIO);

	/* only b outstanding, never ready: the wait ends at the caller's
	 * limit and b is served for its deadlines */
	t0 = ms_now();
	ck_assert_int_eq(mirror_transport_poll_many(p, t, 4, 30, results), 0);
	ck_assert_uint_ge(ms_now() - t0, 25);
	ck_assert_uint_eq(b.polls, 1);
	ck_assert_uint_eq(a.polls, 1); /* idle: not served */
	/* and with no limit of the caller's, after one second */
	t0 = ms_now();
	ck_assert_int_eq(mirror_transport_poll_many(p, t, 4, -1, results), 0);
	ck_assert_uint_ge(ms_now() - t0, 900);
	ck_assert_uint_lt(ms_now() - t0, 3000);
	ck_assert_uint_eq(b.polls, 2);
	fake_ready(&b);
	ck_assert_int_eq(mirror_transport_poll_many(p, t, 4, -1, results), 1);
	ck_assert_uint_eq(mirror_transport_outstanding(&b.base), 0);
	ck_assert_uint_eq(completions, 4);
	fake_free(&a);
	fake_free(&b);
	fake_free(&nofd);
	fake_free(&failing);
	mirror_transport_poller_free(p);
}
END_TEST

/* ---- mirror-send's verify loop, against canned answers ---- */

/* What f delivered to out, as a string (freed by the caller). */
static char *slurp(FILE *f)
{
	long n = ftell(f);
	char *s = calloc(1, (size_t)n + 1);

	ck_assert_ptr_nonnull(s);
	rewind(f);
	ck_assert_uint_eq(fread(s, 1, (size_t)n, f), (size_t)n);
	return s;
}

/* One large op of 8 blocks at NVRAM 0x8000, LBA 10, whose data is data;
 * the fake answers every READBACK with the NVRAM's [rb_addr, +8 blocks). */
static int verify_against(uint8_t *data, uint32_t rb_addr, bool json, char **out_text,
			  char **err_text)
{
	static uint8_t answer[MIRROR_READBACK_BUF_MAX], buf[MIRROR_READBACK_BUF_MAX];
	struct mirror_readback_cdb rc = { 0xC8, 0, rb_addr, 8 };
	struct mirror_op op;
	struct fake f;
	FILE *out = tmpfile(), *err = tmpfile();

	ck_assert_ptr_nonnull(out);
	ck_assert_ptr_nonnull(err);
	memset(&op, 0, sizeof(op));
	op.path = MIRROR_PATH_LARGE;
	op.lba = 10;
	op.blocks = 8;
	op.sg_count = 1;
	op.sg[0] = (struct mirror_sg_element){ 0x8000, 4096 };
	int n = mirror_readback_build(&nv, &rc, answer, sizeof(answer));
	ck_assert_int_gt(n, 0);
	fake_init(&f, false);
	f.always_ready = true;
	f.answer = answer;
	f.answer_len = (size_t)n;
	struct mirror_send_view v = { out, err, "test", &nvprof, json, 0 };
	int status = mirror_send_verify(&f.base, &v, &op, 1, data, buf);
	*out_text = slurp(out);
	*err_text = slurp(err);
	fclose(out);
	fclose(err);
	fake_free(&f);
	return status;
}

START_TEST(test_send_verify)
{
	struct mirror_pattern p = { MIRROR_PATTERN_RANDOM, 0, 9 };
	uint8_t data[4096];
	char *out, *err;

	mirror_pattern_fill(&p, 10, data, sizeof(data));
	ck_assert_int_eq(mirror_nvram_store(&nv, 0x8000, data, sizeof(data)), 0);
	ck_assert_int_eq(mirror_nvram_mark_valid(&nv, 0x8000, sizeof(data)), 0);

	ck_assert_int_eq(verify_against(data, 0x8000, false, &out, &err), MIRROR_EXIT_OK);
	ck_assert_msg(strstr(out, "verify op 1: NVRAM 0x00008000, 8 blocks\n") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "verify: 1 range, 4096 bytes stored and valid\n") != NULL, "%s",
		      out);
	ck_assert_str_eq(err, "");
	free(out);
	free(err);

	/* byte 100 differs: the first difference, its NVRAM address and LBA */
	data[100] ^= 0xFF;
	ck_assert_int_eq(verify_against(data, 0x8000, false, &out, &err), MIRROR_EXIT_MISCOMPARE);
	char want[128];
	snprintf(want, sizeof(want), "MISCOMPARE at NVRAM 0x00008064 (LBA 10): expected 0x%02X, "
		 "got 0x%02X\n", data[100], data[100] ^ 0xFF);
	ck_assert_msg(strstr(out, want) != NULL, "%s", out);
	free(out);
	free(err);
	ck_assert_int_eq(verify_against(data, 0x8000, true, &out, &err), MIRROR_EXIT_MISCOMPARE);
	ck_assert_msg(strstr(out, "\"kind\":\"miscompare\",\"op\":1,\"nvram_addr\":32868,"
			     "\"lba\":10,\"invalid\":false") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "\"kind\":\"verify\",\"op\":1,\"opcode\":200,\"nvram_addr\":32768,"
			     "\"blocks\":8,\"cdb\":\"c80000008000000000080000\"") != NULL, "%s", out);
	free(out);
	free(err);
	data[100] ^= 0xFF;

	/* an answer for another range: malformed, said on err */
	ck_assert_int_eq(verify_against(data, 0x9000, false, &out, &err), MIRROR_EXIT_MALFORMED);
	ck_assert_msg(strstr(err, "test: malformed NVRAM READBACK response (4116 bytes) for NVRAM "
			     "0x00008000\n") != NULL, "%s", err);
	free(out);
	free(err);
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
	tcase_add_test(tc, test_cmd_table_update);
	tcase_add_test(tc, test_cmd_table_push);
	tcase_add_test(tc, test_cmd_readback);
	tcase_add_test(tc, test_cmd_read_capacity10);
	tcase_add_test(tc, test_cmd_write10);
	tcase_add_test(tc, test_cmd_op_small);
	tcase_add_test(tc, test_cmd_op_large);
	tcase_add_test(tc, test_mirror_exit_status);
	suite_add_tcase(s, tc);

	tc = tcase_create("compare");
	tcase_add_checked_fixture(tc, nv_setup, nv_teardown);
	tcase_add_test(tc, test_compare_equal);
	tcase_add_test(tc, test_compare_byte);
	tcase_add_test(tc, test_compare_invalid_block);
	tcase_add_test(tc, test_compare_outside);
	tcase_add_test(tc, test_send_verify);
	suite_add_tcase(s, tc);

	tc = tcase_create("poll_many");
	tcase_add_test(tc, test_poll_many_bad_args);
	tcase_add_test(tc, test_poll_many_empty);
	tcase_add_test(tc, test_poll_many_ready);
	tcase_set_timeout(tc, 30);
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
