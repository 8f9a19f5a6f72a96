/* The receiving controller (lib/model/receiver.c, lib/model/receiver_spc.c): both
 * mirror paths end to end through the task API, every rejection with its
 * exact sense bytes and an untouched NVRAM, aborts, injected faults, the
 * opcode clash, sequence tracking, the array table, NVRAM READBACK and the
 * standard SCSI commands.  A 1 MiB NVRAM split at 512 KiB keeps memory
 * small; the receiver is controller B (role 1) unless a test says
 * otherwise, so it takes 0xA0 small writes and region-0 metadata. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <mirror/receiver.h>

#include "testutil.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define NV_SIZE (1024u * 1024u)
#define NV_SPLIT (512u * 1024u)
#define NV_BLOCKS (NV_SIZE / MIRROR_BLOCK_SIZE)
#define BLK(n) ((uint32_t)(n) * MIRROR_BLOCK_SIZE)
#define REGION1_BLOCK (NV_SPLIT / MIRROR_BLOCK_SIZE)

static struct mirror_profile prof;
static struct mirror_nvram nv;
static uint8_t *nv_data;
static uint64_t *nv_bitmap;
static size_t nv_bitmap_len;
static struct mirror_receiver rx;
static struct mirror_rx_task task;

/* The WANT_DATA ranges of the last run_cmd(). */
static struct {
	unsigned n;
	uint32_t off[4], len[4];
} wants;

static void rx_setup_role(unsigned role)
{
	mirror_profile_init(&prof);
	prof.nvram_size = NV_SIZE;
	prof.region_split = NV_SPLIT;
	nv_data = calloc(1, NV_SIZE);
	nv_bitmap_len = mirror_nvram_bitmap_bytes(NV_SIZE);
	nv_bitmap = calloc(1, nv_bitmap_len);
	ck_assert_ptr_nonnull(nv_data);
	ck_assert_ptr_nonnull(nv_bitmap);
	ck_assert_int_eq(mirror_nvram_init(&nv, &prof, nv_data, nv_bitmap), 0);
	ck_assert_int_eq(mirror_rx_init(&rx, &prof, role, &nv), 0);
	memset(&task, 0, sizeof(task));
}

static void rx_setup(void)
{
	rx_setup_role(1);
}

static void rx_setup_a(void)
{
	rx_setup_role(0);
}

static void rx_teardown(void)
{
	mirror_rx_end(&rx, &task);
	free(nv_data);
	free(nv_bitmap);
}

/* Re-initialise the receiver after changing prof (layout, strictness). */
static void rx_reinit(void)
{
	ck_assert_int_eq(mirror_nvram_init(&nv, &prof, nv_data, nv_bitmap), 0);
	ck_assert_int_eq(mirror_rx_init(&rx, &prof, 1, &nv), 0);
}

static void fill(uint8_t *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)((i * 7 + seed * 13 + (i >> 9)) % 251 + 1);
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- NVRAM snapshots: a rejected command changes nothing ---- */

struct snap {
	uint8_t *data;
	uint64_t *bm;
};

static void snap_take(struct snap *s)
{
	s->data = malloc(NV_SIZE);
	s->bm = malloc(nv_bitmap_len);
	ck_assert_ptr_nonnull(s->data);
	ck_assert_ptr_nonnull(s->bm);
	memcpy(s->data, nv_data, NV_SIZE);
	memcpy(s->bm, nv_bitmap, nv_bitmap_len);
}

static void snap_assert_same(struct snap *s)
{
	ck_assert_msg(memcmp(s->data, nv_data, NV_SIZE) == 0, "NVRAM data changed");
	ck_assert_msg(memcmp(s->bm, nv_bitmap, nv_bitmap_len) == 0, "NVRAM validity changed");
	free(s->data);
	free(s->bm);
}

/* Some data and some valid blocks in both regions, so that "unchanged"
 * means something. */
static void nv_populate(void)
{
	fill(nv_data, NV_SIZE, 99);
	ck_assert_int_eq(mirror_nvram_mark_valid(&nv, BLK(8), BLK(24)), 0);
	ck_assert_int_eq(mirror_nvram_mark_valid(&nv, BLK(REGION1_BLOCK + 4), BLK(8)), 0);
}

/* Blocks [first, first + n) of every range given are valid, no other. */
static void assert_valid_exactly(const uint32_t (*r)[2], size_t nr)
{
	for (uint32_t b = 0; b < NV_BLOCKS; b++) {
		bool in = false;
		for (size_t k = 0; k < nr; k++)
			if (b >= r[k][0] && b < r[k][0] + r[k][1])
				in = true;
		ck_assert_msg(mirror_nvram_block_valid(&nv, b) == in, "block %u valid %d, want %d", b,
			      mirror_nvram_block_valid(&nv, b), in);
	}
}

static void assert_range_valid(uint32_t first, uint32_t n, bool valid)
{
	for (uint32_t b = first; b < first + n; b++)
		ck_assert_msg(mirror_nvram_block_valid(&nv, b) == valid, "block %u valid %d, want %d",
			      b, mirror_nvram_block_valid(&nv, b), valid);
}

/* ---- the sense a rejection answers with (fixed format, SPC-4 4.5.3) ---- */

static void assert_check(const struct mirror_rx_action *a, uint8_t key, uint8_t asc, uint8_t ascq)
{
	ck_assert_int_eq(a->kind, MIRROR_RX_RESPOND);
	ck_assert_uint_eq(a->status, MIRROR_STATUS_CHECK_CONDITION);
	ck_assert_uint_eq(a->sense_len, 18);
	ck_assert_uint_eq(a->sense[0], 0x70);
	ck_assert_uint_eq(a->sense[2] & 0x0f, key);
	ck_assert_uint_eq(a->sense[7], 10);
	ck_assert_uint_eq(a->sense[12], asc);
	ck_assert_uint_eq(a->sense[13], ascq);
	ck_assert_uint_eq(a->data_in_len, 0);
}

/* ILLEGAL REQUEST with a field pointer: SKSV, C/D, BPV, bit, byte. */
static void assert_field(const struct mirror_rx_action *a, uint8_t asc, bool cd, unsigned byte,
			 unsigned bit)
{
	assert_check(a, MIRROR_SK_ILLEGAL_REQUEST, asc, 0);
	ck_assert_uint_eq(a->sense[15], 0x80 | (cd ? 0x40 : 0) | 0x08 | bit);
	ck_assert_uint_eq(be16(a->sense + 16), byte);
}

/* ILLEGAL REQUEST without sense-key-specific data. */
static void assert_nosks(const struct mirror_rx_action *a, uint8_t asc)
{
	assert_check(a, MIRROR_SK_ILLEGAL_REQUEST, asc, 0);
	ck_assert_uint_eq(a->sense[15], 0);
	ck_assert_uint_eq(a->sense[16], 0);
	ck_assert_uint_eq(a->sense[17], 0);
}

static void assert_good(const struct mirror_rx_action *a)
{
	ck_assert_int_eq(a->kind, MIRROR_RX_RESPOND);
	ck_assert_uint_eq(a->status, MIRROR_STATUS_GOOD);
	ck_assert_uint_eq(a->sense_len, 0);
}

static void assert_rule(enum mirror_rule r)
{
	const struct mirror_finding *e = mirror_findings_first_error(&task.findings);
	ck_assert_ptr_nonnull(e);
	ck_assert_msg(e->rule == r, "first error %s, want %s", mirror_rule_info(e->rule)->id,
		      mirror_rule_info(r)->id);
}

/* ---- driving a command ---- */

/* Begins the command and feeds every WANT_DATA range from data (the whole
 * data-out buffer), logging the ranges; ends with the final action.  The
 * caller ends the task. */
static void run_cmd(const uint8_t *cdb, size_t cdb_len, enum mirror_xfer_dir dir, uint32_t edtl,
		    const uint8_t *data, const char *sender, const struct mirror_rx_faults *f,
		    struct mirror_rx_action *act)
{
	mirror_rx_end(&rx, &task);
	wants.n = 0;
	ck_assert_int_eq(mirror_rx_begin(&rx, &task, cdb, cdb_len, dir, edtl, sender, f, act), 0);
	while (act->kind == MIRROR_RX_WANT_DATA) {
		ck_assert_uint_lt(wants.n, ARRAY_LEN(wants.off));
		ck_assert_uint_le((uint64_t)act->offset + act->length, edtl);
		wants.off[wants.n] = act->offset;
		wants.len[wants.n] = act->length;
		wants.n++;
		ck_assert_int_eq(mirror_rx_data(&rx, &task, data + act->offset, act->length, act), 0);
	}
}

static int small_cdb(uint8_t *cdb, uint8_t op, uint32_t d1, uint8_t b1, uint32_t d2, uint8_t b2,
		     uint8_t vol, uint32_t lba)
{
	struct mirror_small_cdb c;

	memset(&c, 0, sizeof(c));
	c.opcode = op;
	c.volume = vol;
	c.lba = lba;
	c.sg[0].descriptor = d1;
	c.sg[0].blocks = b1;
	c.sg[1].descriptor = d2;
	c.sg[1].blocks = b2;
	int n = mirror_small_cdb_encode(&prof, &c, cdb, 16);
	ck_assert_int_gt(n, 0);
	return n;
}

static uint64_t serial_of(unsigned v)
{
	return 0x1122334455667700ull | v;
}

/* ARRAY TABLE UPDATE with these volumes; asserts GOOD. */
static void push_table(const uint8_t *vols, size_t n)
{
	struct mirror_array_table t;
	static uint8_t buf[MIRROR_TABLE_MAX_BYTES];
	uint8_t cdb[MIRROR_TABLE_CDB_LEN];
	struct mirror_rx_action act;

	mirror_array_table_init(&t);
	for (size_t k = 0; k < n; k++)
		ck_assert_int_eq(mirror_array_table_add(&t, vols[k], serial_of(vols[k]), vols[k]), 0);
	int len = mirror_table_update_encode(&t, buf, sizeof(buf));
	ck_assert_int_gt(len, 0);
	ck_assert_int_eq(mirror_table_update_cdb_encode(&prof, (uint32_t)len, cdb, sizeof(cdb)),
			 (int)MIRROR_TABLE_CDB_LEN);
	run_cmd(cdb, sizeof(cdb), MIRROR_DIR_OUT, (uint32_t)len, buf, NULL, NULL, &act);
	assert_good(&act);
	ck_assert_uint_eq(wants.n, 1);
	ck_assert_uint_eq(wants.off[0], 0);
	ck_assert_uint_eq(wants.len[0], (uint32_t)len);
	mirror_rx_end(&rx, &task);
}

static const uint8_t vol7[] = { 7 };

/* A small write of 0xA0 to descriptor d (one element) with volume 7. */
static void small_write(uint32_t d, uint8_t blocks, const uint8_t *data,
			const struct mirror_rx_faults *f, struct mirror_rx_action *act)
{
	uint8_t cdb[16];
	int n = small_cdb(cdb, 0xA0, d, blocks, 0, 0, 7, 0x1000);
	run_cmd(cdb, (size_t)n, MIRROR_DIR_OUT, BLK(blocks), data, NULL, f, act);
}

/* A large-path data-out buffer: metadata then data. */
struct large {
	uint8_t cdb[MIRROR_NOTIFY_CDB_LEN];
	uint8_t *buf; /* 1024 + blocks * 512 */
	uint32_t len;
	struct mirror_metadata md;
};

static void large_build(struct large *l, uint32_t seq, uint8_t region,
			const struct mirror_sg_element *sg, unsigned n, unsigned seed)
{
	memset(l->cdb, 0, sizeof(l->cdb));
	l->cdb[0] = prof.op.notify;
	mirror_metadata_init(&l->md);
	l->md.sequence = seq;
	l->md.lba = 0x2000;
	l->md.array_serial = serial_of(7);
	l->md.array_number = 7;
	l->md.region = region;
	l->md.sg_count = n;
	for (unsigned i = 0; i < n; i++) {
		l->md.sg[i] = sg[i];
		l->md.blocks += sg[i].bytes / MIRROR_BLOCK_SIZE;
	}
	l->len = MIRROR_METADATA_BYTES + BLK(l->md.blocks);
	l->buf = malloc(l->len);
	ck_assert_ptr_nonnull(l->buf);
	ck_assert_int_eq(mirror_metadata_encode(&l->md, l->buf, MIRROR_METADATA_BYTES),
			 (int)MIRROR_METADATA_BYTES);
	fill(l->buf + MIRROR_METADATA_BYTES, BLK(l->md.blocks), seed);
}

static void large_free(struct large *l)
{
	free(l->buf);
	l->buf = NULL;
}

/* ================= small path ================= */

START_TEST(test_small_success)
{
	uint8_t cdb[16], data[BLK(6)];
	struct mirror_rx_action act;
	const uint32_t want_valid[][2] = { { 16, 4 }, { 100, 2 } };

	push_table(vol7, 1);
	fill(data, sizeof(data), 1);
	/* Blocks 16-19 hold an older valid copy: they go invalid first. */
	ck_assert_int_eq(mirror_nvram_mark_valid(&nv, BLK(16), BLK(4)), 0);
	int n = small_cdb(cdb, 0xA0, 16, 4, 100, 2, 7, 0x1000);
	ck_assert_int_eq(mirror_rx_begin(&rx, &task, cdb, (size_t)n, MIRROR_DIR_OUT, BLK(6), NULL,
					 NULL, &act), 0);
	ck_assert_int_eq(act.kind, MIRROR_RX_WANT_DATA);
	ck_assert_uint_eq(act.offset, 0);
	ck_assert_uint_eq(act.length, BLK(6));
	ck_assert_int_eq(task.kind, MIRROR_RX_KIND_SMALL);
	assert_range_valid(16, 4, false);
	ck_assert_int_eq(mirror_rx_data(&rx, &task, data, BLK(6), &act), 0);
	assert_good(&act);
	ck_assert_ptr_null(act.data_in);
	ck_assert_uint_eq(act.data_in_len, 0);
	/* Element 1 takes the first 2 KiB, element 2 the rest. */
	ck_assert_mem_eq(nv_data + BLK(16), data, BLK(4));
	ck_assert_mem_eq(nv_data + BLK(100), data + BLK(4), BLK(2));
	assert_valid_exactly(want_valid, ARRAY_LEN(want_valid));
	ck_assert_uint_eq(rx.stats.small_ops, 1);
	ck_assert_uint_eq(rx.stats.user_bytes_stored, BLK(6));
	ck_assert_uint_eq(rx.stats.good, 2); /* the table update and the write */
	ck_assert_uint_eq(rx.stats.check_condition, 0);
	/* A second data call is a transport bug, not a second write. */
	ck_assert_int_eq(mirror_rx_data(&rx, &task, data, BLK(6), &act), -EINVAL);
}
END_TEST

/* Rejections of the small path: (d1,b1,d2,b2,vol,lba,edtl) and the
 * expected sense.  edtl UINT32_MAX - 1 means "exact". */
#define EXACT 0xFFFFFFFEu
static const struct small_reject {
	const char *name;
	uint8_t op;
	uint32_t d1;
	uint8_t b1;
	uint32_t d2;
	uint8_t b2;
	uint8_t vol;
	uint32_t lba;
	uint32_t edtl;
	enum mirror_rule rule;
	uint8_t asc;
	bool sksv;
	unsigned byte, bit;
} small_rejects[] = {
	{ "own region's opcode", 0xB0, REGION1_BLOCK + 16, 2, 0, 0, 7, 0x10, EXACT,
	  MIRROR_RULE_SMALL_OPCODE_ROLE, 0x24, true, 0, 7 },
	{ "volume not in the table", 0xA0, 16, 2, 0, 0, 9, 0x10, EXACT, MIRROR_RULE_SMALL_VOLUME,
	  0x24, true, 3, 7 },
	{ "bc1 zero", 0xA0, 16, 0, 0, 0, 7, 0x10, 0, MIRROR_RULE_SMALL_BC1_ZERO, 0x24, true, 1, 3 },
	{ "bc1 33", 0xA0, 16, 33, 0, 0, 7, 0x10, EXACT, MIRROR_RULE_SMALL_BC_TOO_LARGE, 0x24, true,
	  1, 3 },
	{ "descriptor in region 1", 0xA0, REGION1_BLOCK + 16, 2, 0, 0, 7, 0x10, EXACT,
	  MIRROR_RULE_SMALL_DESC_REGION, 0x24, true, 1, 7 },
	{ "descriptor beyond the NVRAM", 0xA0, 0x1000, 2, 0, 0, 7, 0x10, EXACT,
	  MIRROR_RULE_SMALL_DESC_NVRAM, 0x24, true, 1, 7 },
	{ "data-out short", 0xA0, 16, 2, 0, 0, 7, 0x10, 512, MIRROR_RULE_DATA_LENGTH, 0x1A, false,
	  0, 0 },
	{ "data-out 4 GiB", 0xA0, 16, 2, 0, 0, 7, 0x10, 0xFFFFFFFFu, MIRROR_RULE_DATA_LENGTH, 0x1A,
	  false, 0, 0 },
	{ "data-out 0", 0xA0, 16, 2, 0, 0, 7, 0x10, 0, MIRROR_RULE_DATA_LENGTH, 0x1A, false, 0, 0 },
	{ "LBA past 2^32", 0xA0, 16, 2, 0, 0, 7, 0xFFFFFFFFu, EXACT, MIRROR_RULE_LBA_RANGE, 0x21,
	  false, 0, 0 },
	/* precedence: byte order, the receiver's rules among the decoder's */
	{ "role before volume", 0xB0, REGION1_BLOCK + 16, 2, 0, 0, 9, 0x10, EXACT,
	  MIRROR_RULE_SMALL_OPCODE_ROLE, 0x24, true, 0, 7 },
	{ "descriptor before volume", 0xA0, REGION1_BLOCK + 16, 2, 0, 0, 9, 0x10, EXACT,
	  MIRROR_RULE_SMALL_DESC_REGION, 0x24, true, 1, 7 },
	{ "bc2 before volume", 0xA0, 16, 2, 18, 40, 9, 0x10, EXACT, MIRROR_RULE_SMALL_BC_TOO_LARGE,
	  0x24, true, 2, 5 },
	{ "volume before LBA range", 0xA0, 16, 2, 0, 0, 9, 0xFFFFFFFFu, EXACT,
	  MIRROR_RULE_SMALL_VOLUME, 0x24, true, 3, 7 },
	{ "volume before data length", 0xA0, 16, 2, 0, 0, 9, 0x10, 512, MIRROR_RULE_SMALL_VOLUME,
	  0x24, true, 3, 7 },
	{ "LBA range before data length", 0xA0, 16, 2, 0, 0, 7, 0xFFFFFFFFu, 512,
	  MIRROR_RULE_LBA_RANGE, 0x21, false, 0, 0 },
};

START_TEST(test_small_reject)
{
	const struct small_reject *c = &small_rejects[_i];
	uint8_t cdb[16], data[BLK(64)];
	struct mirror_rx_action act;
	struct snap s;

	push_table(vol7, 1);
	nv_populate();
	fill(data, sizeof(data), 3);
	int n = small_cdb(cdb, c->op, c->d1, c->b1, c->d2, c->b2, c->vol, c->lba);
	uint32_t edtl = c->edtl == EXACT ? BLK(c->b1 + c->b2) : c->edtl;
	snap_take(&s);
	ck_assert_int_eq(mirror_rx_begin(&rx, &task, cdb, (size_t)n, MIRROR_DIR_OUT, edtl, NULL,
					 NULL, &act), 0);
	ck_assert_msg(act.kind == MIRROR_RX_RESPOND, "%s: asked for data", c->name);
	if (c->sksv)
		assert_field(&act, c->asc, true, c->byte, c->bit);
	else
		assert_nosks(&act, c->asc);
	assert_rule(c->rule);
	ck_assert_uint_eq(rx.stats.check_condition, 1);
	ck_assert_uint_eq(rx.stats.small_ops, 1);
	ck_assert_uint_eq(rx.stats.user_bytes_stored, 0);
	ck_assert_int_eq(mirror_rx_data(&rx, &task, data, BLK(2), &act), -EINVAL);
	snap_assert_same(&s);
}
END_TEST

START_TEST(test_small_no_table)
{
	uint8_t data[BLK(2)];
	struct mirror_rx_action act;
	struct snap s;

	nv_populate();
	fill(data, sizeof(data), 4);
	snap_take(&s);
	small_write(16, 2, data, NULL, &act);
	ck_assert_uint_eq(wants.n, 0);
	assert_field(&act, 0x24, true, 3, 7);
	assert_rule(MIRROR_RULE_SMALL_VOLUME);
	ck_assert(!rx.table_received);
	snap_assert_same(&s);
}
END_TEST

START_TEST(test_small_cdb16_volume)
{
	uint8_t cdb[16], data[BLK(3)];
	struct mirror_rx_action act;
	struct snap s;

	prof.small_layout = MIRROR_SMALL_CDB16;
	rx_reinit();
	push_table(vol7, 1);
	fill(data, sizeof(data), 5);
	/* Volume 9: the pointer is byte 5 in the 16-byte layout. */
	int n = small_cdb(cdb, 0xA0, 16, 3, 0, 0, 9, 0x10);
	ck_assert_int_eq(n, 16);
	snap_take(&s);
	run_cmd(cdb, (size_t)n, MIRROR_DIR_OUT, BLK(3), data, NULL, NULL, &act);
	assert_field(&act, 0x24, true, 5, 7);
	assert_rule(MIRROR_RULE_SMALL_VOLUME);
	snap_assert_same(&s);
	/* Volume 7 goes through. */
	n = small_cdb(cdb, 0xA0, 16, 3, 0, 0, 7, 0x10);
	run_cmd(cdb, (size_t)n, MIRROR_DIR_OUT, BLK(3), data, NULL, NULL, &act);
	assert_good(&act);
	ck_assert_mem_eq(nv_data + BLK(16), data, BLK(3));
	assert_range_valid(16, 3, true);
}
END_TEST

/* Controller A (role 0) takes 0xB0 into region 1 and refuses 0xA0. */
START_TEST(test_small_role_a)
{
	uint8_t cdb[16], data[BLK(2)];
	struct mirror_rx_action act;
	struct snap s;

	push_table(vol7, 1);
	fill(data, sizeof(data), 6);
	int n = small_cdb(cdb, 0xB0, REGION1_BLOCK + 2, 2, 0, 0, 7, 0x10);
	run_cmd(cdb, (size_t)n, MIRROR_DIR_OUT, BLK(2), data, NULL, NULL, &act);
	assert_good(&act);
	ck_assert_mem_eq(nv_data + BLK(REGION1_BLOCK + 2), data, BLK(2));
	assert_range_valid(REGION1_BLOCK + 2, 2, true);

	snap_take(&s);
	n = small_cdb(cdb, 0xA0, 2, 2, 0, 0, 7, 0x10);
	run_cmd(cdb, (size_t)n, MIRROR_DIR_OUT, BLK(2), data, NULL, NULL, &act);
	assert_field(&act, 0x24, true, 0, 7);
	assert_rule(MIRROR_RULE_SMALL_OPCODE_ROLE);
	snap_assert_same(&s);
}
END_TEST

START_TEST(test_small_abort)
{
	uint8_t cdb[16], data[BLK(4)];
	struct mirror_rx_action act;

	push_table(vol7, 1);
	nv_populate(); /* blocks 8-31 valid */
	memcpy(data, nv_data + BLK(10), BLK(4));
	int n = small_cdb(cdb, 0xA0, 10, 4, 0, 0, 7, 0x10);
	ck_assert_int_eq(mirror_rx_begin(&rx, &task, cdb, (size_t)n, MIRROR_DIR_OUT, BLK(4), NULL,
					 NULL, &act), 0);
	ck_assert_int_eq(act.kind, MIRROR_RX_WANT_DATA);
	mirror_rx_abort(&rx, &task);
	ck_assert_uint_eq(rx.stats.aborted, 1);
	/* The range stays invalid, its old data untouched; the rest of the
	 * earlier valid range is still valid. */
	assert_range_valid(10, 4, false);
	assert_range_valid(8, 2, true);
	assert_range_valid(14, 18, true);
	ck_assert_mem_eq(nv_data + BLK(10), data, BLK(4));
	ck_assert_int_eq(mirror_rx_data(&rx, &task, data, BLK(4), &act), -EINVAL);
	assert_range_valid(10, 4, false);
	/* A second abort or the end do not count twice. */
	mirror_rx_abort(&rx, &task);
	mirror_rx_end(&rx, &task);
	ck_assert_uint_eq(rx.stats.aborted, 1);
	ck_assert_uint_eq(rx.stats.good, 1); /* the table update only */
}
END_TEST

/* ================= large path ================= */

START_TEST(test_large_success)
{
	const struct mirror_sg_element sg[] = {
		{ BLK(0), 16384 }, { BLK(200), BLK(2) }, { BLK(40), BLK(1) },
	};
	const uint32_t want_valid[][2] = { { 0, 32 }, { 200, 2 }, { 40, 1 } };
	struct large l;
	struct mirror_rx_action act;

	large_build(&l, 1, 0, sg, ARRAY_LEN(sg), 7);
	ck_assert_uint_eq(l.md.blocks, 35);
	/* Blocks 200-201 hold an older valid copy. */
	ck_assert_int_eq(mirror_nvram_mark_valid(&nv, BLK(200), BLK(2)), 0);
	ck_assert_int_eq(mirror_rx_begin(&rx, &task, l.cdb, sizeof(l.cdb), MIRROR_DIR_OUT, l.len,
					 "iqn.sender", NULL, &act), 0);
	ck_assert_int_eq(task.kind, MIRROR_RX_KIND_LARGE);
	/* Fig. 5 block 512: the metadata alone first. */
	ck_assert_int_eq(act.kind, MIRROR_RX_WANT_DATA);
	ck_assert_uint_eq(act.offset, 0);
	ck_assert_uint_eq(act.length, 1024);
	assert_range_valid(200, 2, true);
	ck_assert_int_eq(mirror_rx_data(&rx, &task, l.buf, 1024, &act), 0);
	/* Block 516 before 520: invalid, then the user data. */
	ck_assert_int_eq(act.kind, MIRROR_RX_WANT_DATA);
	ck_assert_uint_eq(act.offset, 1024);
	ck_assert_uint_eq(act.length, BLK(35));
	assert_range_valid(200, 2, false);
	ck_assert_int_eq(mirror_rx_data(&rx, &task, l.buf + 1024, BLK(35), &act), 0);
	assert_good(&act);
	ck_assert_mem_eq(nv_data + BLK(0), l.buf + 1024, 16384);
	ck_assert_mem_eq(nv_data + BLK(200), l.buf + 1024 + 16384, BLK(2));
	ck_assert_mem_eq(nv_data + BLK(40), l.buf + 1024 + 16384 + BLK(2), BLK(1));
	assert_valid_exactly(want_valid, ARRAY_LEN(want_valid));
	ck_assert_uint_eq(rx.stats.large_ops, 1);
	ck_assert_uint_eq(rx.stats.good, 1);
	ck_assert_uint_eq(rx.stats.user_bytes_stored, BLK(35));
	ck_assert_uint_eq(rx.senders[0].messages, 1);
	ck_assert_uint_eq(rx.senders[0].last_sequence, 1);
	ck_assert_str_eq(rx.senders[0].name, "iqn.sender");
	large_free(&l);
}
END_TEST

START_TEST(test_large_short_edtl)
{
	static const uint32_t edtls[] = { 0, 1, 512, 1023 };
	uint8_t cdb[MIRROR_NOTIFY_CDB_LEN] = { 0x3C };
	struct mirror_rx_action act;
	struct snap s;

	nv_populate();
	snap_take(&s);
	for (size_t i = 0; i < ARRAY_LEN(edtls); i++) {
		mirror_rx_end(&rx, &task);
		ck_assert_int_eq(mirror_rx_begin(&rx, &task, cdb, sizeof(cdb), MIRROR_DIR_OUT,
						 edtls[i], NULL, NULL, &act), 0);
		/* At once: no WANT_DATA (no R2T). */
		assert_nosks(&act, 0x1A);
		assert_rule(MIRROR_RULE_DATA_LENGTH);
	}
	ck_assert_uint_eq(rx.stats.large_ops, ARRAY_LEN(edtls));
	ck_assert_uint_eq(rx.stats.check_condition, ARRAY_LEN(edtls));
	snap_assert_same(&s);
}
END_TEST

/* Metadata rejections: mutate the encoded message, expect the sense. */
static const struct large_reject {
	const char *name;
	unsigned at;      /* byte to overwrite (>= 1024: none) */
	uint8_t value;
	int edtl_delta;   /* added to the exact expected length */
	enum mirror_rule rule;
	uint8_t asc;
	bool sksv;
	unsigned byte, bit;
	unsigned width;   /* bytes written from at */
} large_rejects[] = {
	{ "message type", 1, 0x02, 0, MIRROR_RULE_MD_TYPE, 0x26, true, 0, 7, 1 },
	{ "message length", 2, 0x05, 0, MIRROR_RULE_MD_LENGTH, 0x26, true, 2, 7, 1 },
	{ "receiver's own region", 24, 1, 0, MIRROR_RULE_MD_REGION_SENDER, 0x26, true, 24, 7, 1 },
	{ "region 2", 24, 2, 0, MIRROR_RULE_MD_REGION, 0x26, true, 24, 7, 1 },
	{ "pad", 100, 0x20, 0, MIRROR_RULE_MD_PAD, 0x26, true, 100, 5, 1 },
	{ "S/G count not a multiple of 512", 518, 0x01, 0, MIRROR_RULE_SG_COUNT, 0x26, true, 516, 7, 1 },
	{ "S/G address in region 1", 513, 0x08, 0, MIRROR_RULE_SG_ADDR_REGION, 0x26, true, 512, 7, 1 },
	{ "S/G address beyond NVRAM", 513, 0x20, 0, MIRROR_RULE_SG_ADDR_NVRAM, 0x26, true, 512, 7, 1 },
	{ "after the end", 560, 0x01, 0, MIRROR_RULE_SG_AFTER_END, 0x26, true, 560, 7, 1 },
	{ "data-out longer", 2000, 0, 512, MIRROR_RULE_DATA_LENGTH, 0x1A, false, 0, 0, 1 },
	{ "data-out shorter", 2000, 0, -512, MIRROR_RULE_DATA_LENGTH, 0x1A, false, 0, 0, 1 },
	{ "S/G sum", 15, 3 + 1, 512, MIRROR_RULE_SG_SUM, 0x26, true, 12, 7, 1 },
	{ "blocks 0", 15, 0, 0, MIRROR_RULE_MD_BLOCKS, 0x26, true, 12, 7, 1 },
	{ "LBA past 2^32", 8, 0xFF, 0, MIRROR_RULE_LBA_RANGE, 0x21, false, 0, 0, 4 },
	/* precedence: header byte order before the S/G list, fields
	 * before the data-out length */
	{ "pad before data length", 100, 0x01, 512, MIRROR_RULE_MD_PAD, 0x26, true, 100, 0, 1 },
};

START_TEST(test_large_reject)
{
	const struct large_reject *c = &large_rejects[_i];
	const struct mirror_sg_element sg[] = { { BLK(64), BLK(2) }, { BLK(80), BLK(1) } };
	struct large l;
	struct mirror_rx_action act;
	struct snap s;

	nv_populate();
	large_build(&l, 9, 0, sg, ARRAY_LEN(sg), 8);
	for (unsigned k = 0; k < c->width && c->at < 1024; k++)
		l.buf[c->at + k] = c->value;
	uint32_t edtl = (uint32_t)((int)l.len + c->edtl_delta);
	/* The data-out buffer the sender would send, at least edtl long. */
	uint8_t *out = calloc(1, edtl > l.len ? edtl : l.len);
	ck_assert_ptr_nonnull(out);
	memcpy(out, l.buf, l.len);
	snap_take(&s);
	run_cmd(l.cdb, sizeof(l.cdb), MIRROR_DIR_OUT, edtl, out, "iqn.x", NULL, &act);
	/* Only the metadata was asked for. */
	ck_assert_uint_eq(wants.n, 1);
	ck_assert_uint_eq(wants.off[0], 0);
	ck_assert_uint_eq(wants.len[0], 1024);
	if (c->sksv)
		assert_field(&act, c->asc, false, c->byte, c->bit);
	else
		assert_nosks(&act, c->asc);
	assert_rule(c->rule);
	snap_assert_same(&s);
	/* A rejected message is not a sequence number seen. */
	ck_assert_uint_eq(rx.senders[0].messages, 0);
	ck_assert(!rx.senders[0].seen);
	free(out);
	large_free(&l);
}
END_TEST

/* Strict mode rejects non-zero bytes 1-9 before any data; the CDB comes
 * before the data-out length (wire-profile.md precedence). */
START_TEST(test_large_strict_cdb)
{
	uint8_t cdb[MIRROR_NOTIFY_CDB_LEN] = { 0x3C, 0, 0, 0, 0, 0, 0, 0x40, 0, 0 };
	struct mirror_rx_action act;

	/* Lenient v1: byte 7 is ignored (a warning). */
	ck_assert_int_eq(mirror_rx_begin(&rx, &task, cdb, sizeof(cdb), MIRROR_DIR_OUT, 1024 + 512,
					 NULL, NULL, &act), 0);
	ck_assert_int_eq(act.kind, MIRROR_RX_WANT_DATA);
	ck_assert_ptr_nonnull(mirror_findings_find(&task.findings, MIRROR_RULE_NOTIFY_RESERVED));
	mirror_rx_end(&rx, &task);

	prof.strict = true;
	rx_reinit();
	ck_assert_int_eq(mirror_rx_begin(&rx, &task, cdb, sizeof(cdb), MIRROR_DIR_OUT, 1024 + 512,
					 NULL, NULL, &act), 0);
	assert_field(&act, 0x24, true, 7, 6);
	assert_rule(MIRROR_RULE_NOTIFY_RESERVED_STRICT);
	mirror_rx_end(&rx, &task);
	ck_assert_int_eq(mirror_rx_begin(&rx, &task, cdb, sizeof(cdb), MIRROR_DIR_OUT, 100, NULL,
					 NULL, &act), 0);
	assert_field(&act, 0x24, true, 7, 6);
	/* The length error is there too, behind it. */
	ck_assert_ptr_nonnull(mirror_findings_find(&task.findings, MIRROR_RULE_DATA_LENGTH));
}
END_TEST

START_TEST(test_large_abort_after_metadata)
{
	const struct mirror_sg_element other[] = { { BLK(10), BLK(4) } };
	const struct mirror_sg_element target[] = { { BLK(300), BLK(4) } };
	uint8_t older[BLK(4)], other_copy[BLK(4)];
	struct large l1, l2, l3;
	struct mirror_rx_action act;

	/* An earlier valid copy of blocks 10-13 (OTHER blocks) and of the
	 * blocks 300-303 the aborted write names. */
	large_build(&l1, 1, 0, other, 1, 10);
	run_cmd(l1.cdb, sizeof(l1.cdb), MIRROR_DIR_OUT, l1.len, l1.buf, "iqn.a", NULL, &act);
	assert_good(&act);
	large_build(&l2, 2, 0, target, 1, 11);
	run_cmd(l2.cdb, sizeof(l2.cdb), MIRROR_DIR_OUT, l2.len, l2.buf, "iqn.a", NULL, &act);
	assert_good(&act);
	mirror_rx_end(&rx, &task);
	memcpy(other_copy, nv_data + BLK(10), sizeof(other_copy));
	memcpy(older, nv_data + BLK(300), sizeof(older));
	assert_range_valid(300, 4, true);

	large_build(&l3, 3, 0, target, 1, 12);
	ck_assert_int_eq(mirror_rx_begin(&rx, &task, l3.cdb, sizeof(l3.cdb), MIRROR_DIR_OUT, l3.len,
					 "iqn.a", NULL, &act), 0);
	ck_assert_int_eq(mirror_rx_data(&rx, &task, l3.buf, 1024, &act), 0);
	ck_assert_int_eq(act.kind, MIRROR_RX_WANT_DATA);
	ck_assert(task.ranges_invalidated);
	mirror_rx_abort(&rx, &task);
	ck_assert_uint_eq(rx.stats.aborted, 1);
	/* Late data after the abort is refused and changes nothing. */
	ck_assert_int_eq(mirror_rx_data(&rx, &task, l3.buf + 1024, BLK(4), &act), -EINVAL);
	mirror_rx_end(&rx, &task);

	assert_range_valid(300, 4, false);
	ck_assert_mem_eq(nv_data + BLK(300), older, sizeof(older));
	assert_range_valid(10, 4, true);
	ck_assert_mem_eq(nv_data + BLK(10), other_copy, sizeof(other_copy));
	ck_assert_uint_eq(rx.stats.good, 2);
	ck_assert_uint_eq(rx.stats.aborted, 1);
	large_free(&l1);
	large_free(&l2);
	large_free(&l3);
}
END_TEST

START_TEST(test_large_abort_before_metadata)
{
	const struct mirror_sg_element sg[] = { { BLK(8), BLK(4) } };
	struct large l;
	struct mirror_rx_action act;
	struct snap s;

	nv_populate();
	large_build(&l, 1, 0, sg, 1, 13);
	snap_take(&s);
	ck_assert_int_eq(mirror_rx_begin(&rx, &task, l.cdb, sizeof(l.cdb), MIRROR_DIR_OUT, l.len,
					 NULL, NULL, &act), 0);
	ck_assert_int_eq(act.kind, MIRROR_RX_WANT_DATA);
	mirror_rx_abort(&rx, &task);
	ck_assert_int_eq(mirror_rx_data(&rx, &task, l.buf, 1024, &act), -EINVAL);
	mirror_rx_end(&rx, &task);
	ck_assert_uint_eq(rx.stats.aborted, 1);
	snap_assert_same(&s);
	large_free(&l);
}
END_TEST

/* A task ended while it still waits for data counts as aborted and
 * leaves its ranges invalid. */
START_TEST(test_large_end_without_abort)
{
	const struct mirror_sg_element sg[] = { { BLK(8), BLK(4) } };
	struct large l;
	struct mirror_rx_action act;

	nv_populate();
	large_build(&l, 1, 0, sg, 1, 14);
	ck_assert_int_eq(mirror_rx_begin(&rx, &task, l.cdb, sizeof(l.cdb), MIRROR_DIR_OUT, l.len,
					 NULL, NULL, &act), 0);
	ck_assert_int_eq(mirror_rx_data(&rx, &task, l.buf, 1024, &act), 0);
	mirror_rx_end(&rx, &task);
	ck_assert_uint_eq(rx.stats.aborted, 1);
	assert_range_valid(8, 4, false);
	assert_range_valid(12, 20, true);
	large_free(&l);
}
END_TEST

/* ================= faults ================= */

START_TEST(test_fault_skip_validity)
{
	const struct mirror_sg_element sg[] = { { BLK(40), BLK(3) } };
	struct mirror_rx_faults f;
	uint8_t data[BLK(2)];
	struct large l;
	struct mirror_rx_action act;

	memset(&f, 0, sizeof(f));
	f.skip_validity = true;
	push_table(vol7, 1);
	nv_populate(); /* 8-31 valid */
	fill(data, sizeof(data), 15);
	small_write(20, 2, data, &f, &act);
	assert_good(&act);
	ck_assert_mem_eq(nv_data + BLK(20), data, BLK(2));
	/* Marked invalid on the way in, never valid again. */
	assert_range_valid(20, 2, false);
	assert_range_valid(22, 10, true);

	large_build(&l, 1, 0, sg, 1, 16);
	run_cmd(l.cdb, sizeof(l.cdb), MIRROR_DIR_OUT, l.len, l.buf, NULL, &f, &act);
	assert_good(&act);
	ck_assert_mem_eq(nv_data + BLK(40), l.buf + 1024, BLK(3));
	assert_range_valid(40, 3, false);
	ck_assert_uint_eq(rx.stats.user_bytes_stored, BLK(5));
	large_free(&l);
}
END_TEST

START_TEST(test_fault_unknown_opcode)
{
	const struct mirror_sg_element sg[] = { { BLK(40), BLK(1) } };
	struct mirror_rx_faults f;
	uint8_t data[BLK(2)];
	struct large l;
	struct mirror_rx_action act;
	struct snap s;

	memset(&f, 0, sizeof(f));
	f.unknown_opcode = true;
	push_table(vol7, 1);
	nv_populate();
	fill(data, sizeof(data), 17);
	large_build(&l, 1, 0, sg, 1, 18);
	snap_take(&s);
	small_write(20, 2, data, &f, &act);
	ck_assert_uint_eq(wants.n, 0);
	assert_nosks(&act, 0x20);
	assert_rule(MIRROR_RULE_OPCODE_UNKNOWN);
	run_cmd(l.cdb, sizeof(l.cdb), MIRROR_DIR_OUT, l.len, l.buf, NULL, &f, &act);
	ck_assert_uint_eq(wants.n, 0);
	assert_nosks(&act, 0x20);
	snap_assert_same(&s);
	/* Without the fault the same write goes through. */
	small_write(20, 2, data, NULL, &act);
	assert_good(&act);
	large_free(&l);
}
END_TEST

START_TEST(test_fault_force_sense)
{
	struct mirror_rx_faults f;
	uint8_t data[BLK(2)];
	uint8_t inq[6] = { 0x12, 0, 0, 0, 36, 0 };
	struct mirror_rx_action act;
	struct snap s;

	memset(&f, 0, sizeof(f));
	f.force_sense = true;
	f.key = MIRROR_SK_HARDWARE_ERROR;
	f.asc = 0x44;
	f.ascq = 0x01;
	push_table(vol7, 1);
	nv_populate();
	fill(data, sizeof(data), 19);
	snap_take(&s);
	small_write(20, 2, data, &f, &act);
	ck_assert_uint_eq(wants.n, 0);
	assert_check(&act, MIRROR_SK_HARDWARE_ERROR, 0x44, 0x01);
	ck_assert_uint_eq(act.sense[15], 0); /* no sense-key-specific data */
	snap_assert_same(&s);
	/* Standard commands are not faulted: the unit stays visible. */
	run_cmd(inq, sizeof(inq), MIRROR_DIR_IN, 36, NULL, NULL, &f, &act);
	assert_good(&act);
	ck_assert_uint_eq(act.data_in_len, 36);
}
END_TEST

/* ================= NVRAM READBACK ================= */

static int readback_cdb(uint8_t *cdb, uint32_t addr, uint32_t blocks, uint8_t flags)
{
	struct mirror_readback_cdb c = { .opcode = 0, .flags = flags, .nvram_addr = addr,
					 .blocks = blocks };
	return mirror_readback_cdb_encode(&prof, &c, cdb, MIRROR_READBACK_CDB_LEN);
}

START_TEST(test_readback)
{
	uint8_t cdb[MIRROR_READBACK_CDB_LEN], data[BLK(4)];
	struct mirror_rx_action act;
	struct mirror_readback r;

	push_table(vol7, 1);
	fill(data, sizeof(data), 20);
	small_write(18, 4, data, NULL, &act);
	assert_good(&act);
	/* Blocks 16-23: 18-21 valid. */
	ck_assert_int_eq(readback_cdb(cdb, BLK(16), 8, 0), (int)MIRROR_READBACK_CDB_LEN);
	run_cmd(cdb, sizeof(cdb), MIRROR_DIR_IN, 65536, NULL, NULL, NULL, &act);
	assert_good(&act);
	ck_assert_int_eq(task.kind, MIRROR_RX_KIND_READBACK);
	ck_assert_uint_eq(act.data_in_len, 16 + 4 + BLK(8));
	ck_assert_int_eq(mirror_readback_parse(act.data_in, act.data_in_len, false, &r), 0);
	ck_assert_uint_eq(r.nvram_addr, BLK(16));
	ck_assert_uint_eq(r.blocks, 8);
	ck_assert_uint_eq(r.nvram_size, NV_SIZE);
	ck_assert_uint_eq(r.valid_blocks, 4);
	ck_assert_uint_eq(act.data_in[16], 0x3C); /* blocks 2-5 of the range */
	ck_assert_mem_eq(r.data + BLK(2), data, BLK(4));
	ck_assert_mem_eq(r.data, nv_data + BLK(16), BLK(8));
	ck_assert_uint_eq(rx.stats.readbacks, 1);

	ck_assert_uint_eq(act.data_in_overflow, 0);

	/* The expected length cuts the answer: the rest is the overflow. */
	run_cmd(cdb, sizeof(cdb), MIRROR_DIR_IN, 20, NULL, NULL, NULL, &act);
	assert_good(&act);
	ck_assert_uint_eq(act.data_in_len, 20);
	ck_assert_uint_eq(act.data_in_overflow, BLK(8));
	ck_assert_uint_eq(be32(act.data_in + 12), 4);

	/* VALIDITY ONLY: header and bitmap. */
	ck_assert_int_eq(readback_cdb(cdb, BLK(16), 8, MIRROR_READBACK_FLAG_VALIDITY_ONLY),
			 (int)MIRROR_READBACK_CDB_LEN);
	run_cmd(cdb, sizeof(cdb), MIRROR_DIR_IN, 65536, NULL, NULL, NULL, &act);
	assert_good(&act);
	ck_assert_uint_eq(act.data_in_len, 20);
	ck_assert_uint_eq(act.data_in[16], 0x3C);
}
END_TEST

/* Harness extensions off (mirror-emu --no-extensions): ARRAY TABLE
 * UPDATE and NVRAM READBACK are answered as unknown opcodes, 20h/00h with
 * no field pointer, and change nothing; a table configured the receiver's
 * own way (table_received) lets small writes in; turned back on, READBACK
 * answers again. */
START_TEST(test_extensions_off)
{
	uint8_t cdb[MIRROR_READBACK_CDB_LEN], tcdb[MIRROR_TABLE_CDB_LEN], data[BLK(4)];
	static uint8_t list[MIRROR_TABLE_MAX_BYTES];
	struct mirror_array_table t;
	struct mirror_rx_action act;

	rx.extensions_off = MIRROR_RX_EXT_TABLE | MIRROR_RX_EXT_READBACK;
	mirror_array_table_init(&t);
	ck_assert_int_eq(mirror_array_table_add(&t, 7, serial_of(7), 7), 0);
	int len = mirror_table_update_encode(&t, list, sizeof(list));
	ck_assert_int_gt(len, 0);
	mirror_table_update_cdb_encode(&prof, (uint32_t)len, tcdb, sizeof(tcdb));
	run_cmd(tcdb, sizeof(tcdb), MIRROR_DIR_OUT, (uint32_t)len, list, NULL, NULL, &act);
	assert_nosks(&act, 0x20);
	assert_rule(MIRROR_RULE_OPCODE_UNKNOWN);
	ck_assert_uint_eq(wants.n, 0);
	ck_assert(!rx.table_received);
	ck_assert_uint_eq(rx.stats.table_updates, 0);
	ck_assert_int_eq(readback_cdb(cdb, BLK(16), 8, 0), (int)MIRROR_READBACK_CDB_LEN);
	run_cmd(cdb, sizeof(cdb), MIRROR_DIR_IN, 65536, NULL, NULL, NULL, &act);
	assert_nosks(&act, 0x20);
	ck_assert_uint_eq(act.data_in_len, 0);
	ck_assert_uint_eq(rx.stats.readbacks, 0);
	mirror_rx_end(&rx, &task);

	/* the table its own way */
	rx.table = t;
	rx.table_received = true;
	fill(data, sizeof(data), 21);
	small_write(18, 4, data, NULL, &act);
	assert_good(&act);
	mirror_rx_end(&rx, &task);

	rx.extensions_off = MIRROR_RX_EXT_TABLE;
	run_cmd(cdb, sizeof(cdb), MIRROR_DIR_IN, 65536, NULL, NULL, NULL, &act);
	assert_good(&act);
	ck_assert_uint_eq(rx.stats.readbacks, 1);
}
END_TEST

/* The largest readback (2048 blocks) takes the allocated buffer; the end
 * frees it (the sanitizer build checks that). */
START_TEST(test_readback_large)
{
	uint8_t cdb[MIRROR_READBACK_CDB_LEN];
	struct mirror_rx_action act;

	fill(nv_data, NV_SIZE, 21);
	ck_assert_int_eq(readback_cdb(cdb, 0, 2048, 0), (int)MIRROR_READBACK_CDB_LEN);
	run_cmd(cdb, sizeof(cdb), MIRROR_DIR_IN, 0xFFFFFFFFu, NULL, NULL, NULL, &act);
	assert_good(&act);
	ck_assert_uint_eq(act.data_in_len, 16 + 256 + NV_SIZE);
	ck_assert_ptr_eq(act.data_in, task.buf);
	ck_assert_mem_eq(act.data_in + 16 + 256, nv_data, NV_SIZE);
	mirror_rx_end(&rx, &task);
	ck_assert_ptr_null(task.buf);
}
END_TEST

START_TEST(test_readback_corrupt)
{
	uint8_t cdb[MIRROR_READBACK_CDB_LEN];
	struct mirror_rx_faults f;
	struct mirror_rx_action act;
	unsigned diff_bits = 0;

	memset(&f, 0, sizeof(f));
	f.corrupt_readback = true;
	fill(nv_data, NV_SIZE, 22);
	ck_assert_int_eq(mirror_nvram_mark_valid(&nv, BLK(4), BLK(4)), 0);
	ck_assert_int_eq(readback_cdb(cdb, BLK(4), 4, 0), (int)MIRROR_READBACK_CDB_LEN);
	run_cmd(cdb, sizeof(cdb), MIRROR_DIR_IN, 65536, NULL, NULL, &f, &act);
	assert_good(&act);
	ck_assert_uint_eq(act.data_in_len, 16 + 4 + BLK(4));
	/* Header and bitmap intact; exactly one data bit flipped. */
	ck_assert_uint_eq(be32(act.data_in + 12), 4);
	ck_assert_uint_eq(act.data_in[16], 0xF0);
	for (uint32_t i = 0; i < BLK(4); i++)
		diff_bits += (unsigned)__builtin_popcount(act.data_in[20 + i] ^ nv_data[BLK(4) + i]);
	ck_assert_uint_eq(diff_bits, 1);
}
END_TEST

START_TEST(test_readback_invalid)
{
	uint8_t cdb[MIRROR_READBACK_CDB_LEN];
	struct mirror_rx_action act;

	ck_assert_int_eq(readback_cdb(cdb, BLK(4), 0, 0), (int)MIRROR_READBACK_CDB_LEN);
	run_cmd(cdb, sizeof(cdb), MIRROR_DIR_IN, 65536, NULL, NULL, NULL, &act);
	assert_field(&act, 0x24, true, 6, 7);
	assert_rule(MIRROR_RULE_READBACK_BLOCKS);
	ck_assert_int_eq(readback_cdb(cdb, NV_SIZE, 1, 0), (int)MIRROR_READBACK_CDB_LEN);
	run_cmd(cdb, sizeof(cdb), MIRROR_DIR_IN, 65536, NULL, NULL, NULL, &act);
	assert_field(&act, 0x24, true, 2, 7);
	/* READBACK is data-in only. */
	ck_assert_int_eq(readback_cdb(cdb, BLK(4), 1, 0), (int)MIRROR_READBACK_CDB_LEN);
	run_cmd(cdb, sizeof(cdb), MIRROR_DIR_OUT, 0, NULL, NULL, NULL, &act);
	assert_nosks(&act, 0x20);
	assert_rule(MIRROR_RULE_OPCODE_DIRECTION);
	ck_assert_uint_eq(rx.stats.readbacks, 2);
	ck_assert_uint_eq(rx.stats.other_cmds, 1);
}
END_TEST

/* ================= the opcode clash ================= */

START_TEST(test_opcode_clash)
{
	uint8_t read_buffer[10] = { 0x3C, 0x02, 0, 0, 0, 0, 0, 0x10, 0, 0 };
	uint8_t report_luns[12] = { 0xA0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0 };
	uint8_t b0_in[12] = { 0xB0, 0x10, 0x80, 7 };
	uint8_t table_in[10] = { 0xC6, 0, 0, 0, 0, 0, 0, 0, 0x10, 0 };
	uint8_t inquiry_out[6] = { 0x12, 0, 0, 0, 36, 0 };
	struct mirror_rx_action act;
	struct snap s;

	nv_populate();
	snap_take(&s);
	/* Data-in 0x3C is READ BUFFER, which the receiver lacks. */
	run_cmd(read_buffer, sizeof(read_buffer), MIRROR_DIR_IN, 4096, NULL, NULL, NULL, &act);
	assert_nosks(&act, 0x20);
	assert_rule(MIRROR_RULE_OPCODE_DIRECTION);
	ck_assert_int_eq(task.kind, MIRROR_RX_KIND_OTHER);
	/* Data-in 0xA0 is REPORT LUNS: LUN 0. */
	run_cmd(report_luns, sizeof(report_luns), MIRROR_DIR_IN, 4096, NULL, NULL, NULL, &act);
	assert_good(&act);
	ck_assert_int_eq(task.kind, MIRROR_RX_KIND_OTHER);
	ck_assert_uint_eq(act.data_in_len, 16);
	ck_assert_uint_eq(be32(act.data_in), 8);  /* LUN LIST LENGTH */
	ck_assert_uint_eq(be32(act.data_in + 4), 0);
	for (unsigned i = 8; i < 16; i++)
		ck_assert_uint_eq(act.data_in[i], 0); /* LUN 0 */
	/* Data-in 0xB0, data-in 0xC6, data-out INQUIRY: known, wrong way. */
	run_cmd(b0_in, sizeof(b0_in), MIRROR_DIR_IN, 512, NULL, NULL, NULL, &act);
	assert_nosks(&act, 0x20);
	run_cmd(table_in, sizeof(table_in), MIRROR_DIR_IN, 16, NULL, NULL, NULL, &act);
	assert_nosks(&act, 0x20);
	run_cmd(inquiry_out, sizeof(inquiry_out), MIRROR_DIR_OUT, 36, NULL, NULL, NULL, &act);
	assert_nosks(&act, 0x20);
	assert_rule(MIRROR_RULE_OPCODE_DIRECTION);
	/* None of them was a mirror command. */
	ck_assert_uint_eq(rx.stats.small_ops + rx.stats.large_ops + rx.stats.table_updates, 0);
	ck_assert_uint_eq(rx.stats.other_cmds, 5);
	ck_assert(!rx.table_received);
	snap_assert_same(&s);
}
END_TEST

/* Under the vendor profile 0xA0 is no mirror opcode: REPORT LUNS still
 * answers, and the vendor small opcode 0xE1 is the mirror write. */
START_TEST(test_opcode_vendor_profile)
{
	uint8_t report_luns[12] = { 0xA0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0 };
	uint8_t cdb[16], data[BLK(1)];
	struct mirror_rx_action act;

	ck_assert_int_eq(mirror_profile_by_name("vendor", &prof), 0);
	prof.nvram_size = NV_SIZE;
	prof.region_split = NV_SPLIT;
	rx_reinit();
	run_cmd(report_luns, sizeof(report_luns), MIRROR_DIR_IN, 4096, NULL, NULL, NULL, &act);
	assert_good(&act);
	ck_assert_uint_eq(act.data_in_len, 16);
	push_table(vol7, 1);
	fill(data, sizeof(data), 23);
	int n = small_cdb(cdb, 0xE1, 30, 1, 0, 0, 7, 0);
	run_cmd(cdb, (size_t)n, MIRROR_DIR_OUT, BLK(1), data, NULL, NULL, &act);
	assert_good(&act);
	ck_assert_mem_eq(nv_data + BLK(30), data, BLK(1));
}
END_TEST

/* ================= sequence numbers ================= */

static void seq_write(uint32_t seq, const char *sender)
{
	const struct mirror_sg_element sg[] = { { BLK(50), BLK(1) } };
	struct large l;
	struct mirror_rx_action act;

	large_build(&l, seq, 0, sg, 1, seq);
	run_cmd(l.cdb, sizeof(l.cdb), MIRROR_DIR_OUT, l.len, l.buf, sender, NULL, &act);
	assert_good(&act);
	large_free(&l);
}

static const struct mirror_rx_sender *sender_named(const char *name)
{
	for (unsigned i = 0; i < MIRROR_RX_SENDERS_MAX; i++)
		if (strcmp(rx.senders[i].name, name) == 0)
			return &rx.senders[i];
	return NULL;
}

START_TEST(test_sequence)
{
	const struct mirror_rx_sender *a, *b;
	const struct mirror_sg_element sg[] = { { BLK(50), BLK(1) } };
	struct large bad;
	struct mirror_rx_action act;

	seq_write(5, "iqn.a");  /* first: sets last */
	seq_write(6, "iqn.a");  /* in order */
	seq_write(8, "iqn.a");  /* gap */
	a = sender_named("iqn.a");
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(a->messages, 3);
	ck_assert_uint_eq(a->gaps, 1);
	ck_assert_uint_eq(a->repeats, 0);
	ck_assert_uint_eq(a->last_sequence, 8);
	seq_write(8, "iqn.a");  /* repeat */
	seq_write(3, "iqn.a");  /* lower: repeat, and the new last */
	seq_write(4, "iqn.a");  /* in order after 3 */
	ck_assert_uint_eq(a->messages, 6);
	ck_assert_uint_eq(a->gaps, 1);
	ck_assert_uint_eq(a->repeats, 2);
	ck_assert_uint_eq(a->last_sequence, 4);

	/* Senders are counted apart; 0 follows 0xFFFFFFFF. */
	seq_write(0x7FFFFFFFu, "iqn.b");
	seq_write(0x80000000u, "iqn.b");
	seq_write(0xFFFFFFFEu, "iqn.b"); /* a gap */
	seq_write(0xFFFFFFFFu, "iqn.b");
	seq_write(0, "iqn.b");
	b = sender_named("iqn.b");
	ck_assert_ptr_nonnull(b);
	ck_assert(a != b);
	ck_assert_uint_eq(b->messages, 5);
	ck_assert_uint_eq(b->last_sequence, 0);
	ck_assert_uint_eq(b->gaps, 1);
	ck_assert_uint_eq(b->repeats, 0);
	seq_write(0xFFFFFFF0u, "iqn.b"); /* behind 0: a repeat */
	ck_assert_uint_eq(b->gaps, 1);
	ck_assert_uint_eq(b->repeats, 1);
	ck_assert(b->seen);
	ck_assert_uint_eq(a->messages, 6);

	/* A rejected metadata message is not tracked. */
	large_build(&bad, 100, 0, sg, 1, 1);
	bad.buf[1] = 0x09; /* message type */
	run_cmd(bad.cdb, sizeof(bad.cdb), MIRROR_DIR_OUT, bad.len, bad.buf, "iqn.a", NULL, &act);
	assert_field(&act, 0x26, false, 0, 7);
	ck_assert_uint_eq(a->messages, 6);
	ck_assert_uint_eq(a->last_sequence, 4);
	large_free(&bad);

	/* No sender name: no tracking at all. */
	seq_write(77, NULL);
	unsigned used = 0;
	for (unsigned i = 0; i < MIRROR_RX_SENDERS_MAX; i++)
		used += rx.senders[i].name[0] != 0;
	ck_assert_uint_eq(used, 2);
}
END_TEST

/* ================= array table ================= */

START_TEST(test_table_then_small)
{
	static const uint8_t vol3[] = { 3 }, vol5[] = { 5, 6 };
	uint8_t cdb[16], data[BLK(1)];
	struct mirror_rx_action act;

	fill(data, sizeof(data), 24);
	push_table(vol3, 1);
	ck_assert(rx.table_received);
	ck_assert_uint_eq(rx.table.count, 1);
	ck_assert_uint_eq(rx.table.vol[3].array_serial, serial_of(3));
	ck_assert_uint_eq(rx.stats.table_updates, 1);
	int n = small_cdb(cdb, 0xA0, 30, 1, 0, 0, 3, 0);
	run_cmd(cdb, (size_t)n, MIRROR_DIR_OUT, BLK(1), data, NULL, NULL, &act);
	assert_good(&act);

	/* A new table replaces the old one whole. */
	push_table(vol5, 2);
	run_cmd(cdb, (size_t)n, MIRROR_DIR_OUT, BLK(1), data, NULL, NULL, &act);
	assert_field(&act, 0x24, true, 3, 7);
	n = small_cdb(cdb, 0xA0, 30, 1, 0, 0, 6, 0);
	run_cmd(cdb, (size_t)n, MIRROR_DIR_OUT, BLK(1), data, NULL, NULL, &act);
	assert_good(&act);
}
END_TEST

START_TEST(test_table_rejected)
{
	static const uint8_t vol5[] = { 5 };
	uint8_t cdb[MIRROR_TABLE_CDB_LEN], list[48];
	struct mirror_rx_action act;

	push_table(vol5, 1);
	/* Two entries for volume 9: entry 1 at byte 32. */
	memset(list, 0, sizeof(list));
	list[3] = 2;  /* generation */
	list[5] = 2;  /* count */
	list[16] = 9;
	list[23 + 8] = 1;
	list[32] = 9;
	list[32 + 15] = 2;
	ck_assert_int_eq(mirror_table_update_cdb_encode(&prof, sizeof(list), cdb, sizeof(cdb)),
			 (int)MIRROR_TABLE_CDB_LEN);
	run_cmd(cdb, sizeof(cdb), MIRROR_DIR_OUT, sizeof(list), list, NULL, NULL, &act);
	ck_assert_uint_eq(wants.n, 1);
	assert_field(&act, 0x26, false, 32, 7);
	assert_rule(MIRROR_RULE_TABLE_DUP_VOLUME);
	/* The old table stands. */
	ck_assert(rx.table_received);
	ck_assert(rx.table.vol[5].used);
	ck_assert(!rx.table.vol[9].used);
	ck_assert_uint_eq(rx.table.count, 1);

	/* Expected length other than the parameter list length: at once. */
	run_cmd(cdb, sizeof(cdb), MIRROR_DIR_OUT, sizeof(list) + 16, list, NULL, NULL, &act);
	ck_assert_uint_eq(wants.n, 0);
	assert_nosks(&act, 0x1A);
	assert_rule(MIRROR_RULE_DATA_LENGTH);
	/* A parameter list length that is no table: INVALID FIELD IN CDB. */
	ck_assert_int_eq(mirror_table_update_cdb_encode(&prof, 17, cdb, sizeof(cdb)),
			 (int)MIRROR_TABLE_CDB_LEN);
	run_cmd(cdb, sizeof(cdb), MIRROR_DIR_OUT, 17, list, NULL, NULL, &act);
	ck_assert_uint_eq(wants.n, 0);
	assert_field(&act, 0x24, true, 6, 7);
	ck_assert(rx.table.vol[5].used);
	ck_assert_uint_eq(rx.stats.table_updates, 4);
}
END_TEST

/* ================= standard SCSI commands ================= */

static void inquiry(uint8_t evpd, uint8_t page, uint16_t alloc, uint32_t edtl,
		    struct mirror_rx_action *act)
{
	uint8_t cdb[6] = { 0x12, evpd, page, (uint8_t)(alloc >> 8), (uint8_t)alloc, 0 };
	run_cmd(cdb, sizeof(cdb), MIRROR_DIR_IN, edtl, NULL, NULL, NULL, act);
}

START_TEST(test_inquiry_standard)
{
	struct mirror_rx_action act;

	inquiry(0, 0, 255, 255, &act);
	assert_good(&act);
	ck_assert_uint_eq(act.data_in_len, 36);
	ck_assert_uint_eq(act.data_in[0], 0x00); /* connected, direct access */
	ck_assert_uint_eq(act.data_in[1], 0x00);
	ck_assert_uint_eq(act.data_in[2], 0x06);
	ck_assert_uint_eq(act.data_in[3] & 0x0f, 2);
	ck_assert_uint_eq(act.data_in[4], 31);
	ck_assert_mem_eq(act.data_in + 8, "MIRROR  ", 8);
	ck_assert_mem_eq(act.data_in + 16, "NVRAM MIRROR B  ", 16);
	ck_assert_mem_eq(act.data_in + 32, "0001", 4);
	/* Allocation length, then the expected length, cut it. */
	inquiry(0, 0, 5, 255, &act);
	assert_good(&act);
	ck_assert_uint_eq(act.data_in_len, 5);
	ck_assert_uint_eq(act.data_in_overflow, 0); /* the allocation length is no overflow */
	ck_assert_uint_eq(act.data_in[4], 31);
	/* cut by the expected length: the rest is the residual overflow
	 * (RFC 7143 11.4.5.1), all of it when nothing may be sent */
	inquiry(0, 0, 96, 10, &act);
	assert_good(&act);
	ck_assert_uint_eq(act.data_in_len, 10);
	ck_assert_uint_eq(act.data_in_overflow, 36 - 10);
	inquiry(0, 0, 96, 0, &act);
	assert_good(&act);
	ck_assert_uint_eq(act.data_in_len, 0);
	ck_assert_uint_eq(act.data_in_overflow, 36);
	/* Identity set by the emulator shows, padded with spaces. */
	snprintf(rx.vendor, sizeof(rx.vendor), "%s", "ACME");
	inquiry(0, 0, 36, 36, &act);
	ck_assert_mem_eq(act.data_in + 8, "ACME    ", 8);
	/* A page code without EVPD, and CMDDT. */
	inquiry(0, 0x80, 255, 255, &act);
	assert_field(&act, 0x24, true, 2, 7);
	assert_rule(MIRROR_RULE_SCSI_INVALID_FIELD);
	inquiry(2, 0, 255, 255, &act);
	assert_field(&act, 0x24, true, 1, 1);
	ck_assert_uint_eq(act.data_in_overflow, 0);
	ck_assert_uint_eq(rx.stats.other_cmds, 7);
	ck_assert_uint_eq(rx.stats.good, 5);
	ck_assert_uint_eq(rx.stats.check_condition, 2);
}
END_TEST

START_TEST(test_inquiry_vpd)
{
	static const uint8_t supported[] = { 0x00, 0x00, 0x00, 0x03, 0x00, 0x80, 0x83 };
	struct mirror_rx_action act;
	size_t sn = strlen(rx.serial);

	ck_assert_uint_gt(sn, 0);
	inquiry(1, 0x00, 255, 255, &act);
	assert_good(&act);
	ck_assert_uint_eq(act.data_in_len, sizeof(supported));
	ck_assert_mem_eq(act.data_in, supported, sizeof(supported));

	inquiry(1, 0x80, 255, 255, &act);
	assert_good(&act);
	ck_assert_uint_eq(act.data_in_len, 4 + sn);
	ck_assert_uint_eq(act.data_in[1], 0x80);
	ck_assert_uint_eq(be16(act.data_in + 2), sn);
	ck_assert_mem_eq(act.data_in + 4, rx.serial, sn);

	inquiry(1, 0x83, 255, 255, &act);
	assert_good(&act);
	ck_assert_uint_eq(act.data_in_len, 4 + 4 + 8 + sn);
	ck_assert_uint_eq(act.data_in[1], 0x83);
	ck_assert_uint_eq(be16(act.data_in + 2), 4 + 8 + sn);
	ck_assert_uint_eq(act.data_in[4], 0x02);  /* code set ASCII */
	ck_assert_uint_eq(act.data_in[5], 0x01);  /* LU, T10 vendor ID */
	ck_assert_uint_eq(act.data_in[7], 8 + sn);
	ck_assert_mem_eq(act.data_in + 8, "MIRROR  ", 8);
	ck_assert_mem_eq(act.data_in + 16, rx.serial, sn);

	/* Cut to the allocation length; the page length still says all. */
	inquiry(1, 0x83, 4, 255, &act);
	assert_good(&act);
	ck_assert_uint_eq(act.data_in_len, 4);
	ck_assert_uint_eq(be16(act.data_in + 2), 4 + 8 + sn);

	/* The serial the emulator sets. */
	snprintf(rx.serial, sizeof(rx.serial), "%s", "SN42");
	inquiry(1, 0x80, 255, 255, &act);
	ck_assert_uint_eq(act.data_in_len, 8);
	ck_assert_mem_eq(act.data_in + 4, "SN42", 4);

	inquiry(1, 0xB0, 255, 255, &act);
	assert_field(&act, 0x24, true, 2, 7);
}
END_TEST

START_TEST(test_read_capacity)
{
	uint8_t rc10[10] = { 0x25 };
	uint8_t rc16[16] = { 0x9E, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0 };
	struct mirror_rx_action act;

	run_cmd(rc10, sizeof(rc10), MIRROR_DIR_IN, 8, NULL, NULL, NULL, &act);
	assert_good(&act);
	ck_assert_uint_eq(act.data_in_len, 8);
	ck_assert_uint_eq(be32(act.data_in), NV_BLOCKS - 1);
	ck_assert_uint_eq(be32(act.data_in + 4), 512);
	run_cmd(rc10, sizeof(rc10), MIRROR_DIR_IN, 4, NULL, NULL, NULL, &act);
	ck_assert_uint_eq(act.data_in_len, 4);
	ck_assert_uint_eq(act.data_in_overflow, 4);

	run_cmd(rc16, sizeof(rc16), MIRROR_DIR_IN, 32, NULL, NULL, NULL, &act);
	assert_good(&act);
	ck_assert_uint_eq(act.data_in_len, 32);
	ck_assert_uint_eq(be32(act.data_in), 0);
	ck_assert_uint_eq(be32(act.data_in + 4), NV_BLOCKS - 1);
	ck_assert_uint_eq(be32(act.data_in + 8), 512);
	for (unsigned i = 12; i < 32; i++)
		ck_assert_uint_eq(act.data_in[i], 0);
	rc16[13] = 12; /* allocation length */
	run_cmd(rc16, sizeof(rc16), MIRROR_DIR_IN, 32, NULL, NULL, NULL, &act);
	ck_assert_uint_eq(act.data_in_len, 12);
	/* SERVICE ACTION IN(16) other than READ CAPACITY(16). */
	rc16[1] = 0x12;
	run_cmd(rc16, sizeof(rc16), MIRROR_DIR_IN, 32, NULL, NULL, NULL, &act);
	assert_field(&act, 0x24, true, 1, 4);
}
END_TEST

START_TEST(test_mode_sense)
{
	uint8_t ms6[6] = { 0x1A, 0, 0x3F, 0, 255, 0 };
	uint8_t ms10[10] = { 0x5A, 0, 0x3F, 0, 0, 0, 0, 0, 255, 0 };
	static const uint8_t hdr6[] = { 3, 0, 0, 0 }, hdr10[] = { 0, 6, 0, 0, 0, 0, 0, 0 };
	struct mirror_rx_action act;

	run_cmd(ms6, sizeof(ms6), MIRROR_DIR_IN, 255, NULL, NULL, NULL, &act);
	assert_good(&act);
	ck_assert_uint_eq(act.data_in_len, sizeof(hdr6));
	ck_assert_mem_eq(act.data_in, hdr6, sizeof(hdr6));
	ms6[4] = 2;
	run_cmd(ms6, sizeof(ms6), MIRROR_DIR_IN, 255, NULL, NULL, NULL, &act);
	ck_assert_uint_eq(act.data_in_len, 2);
	ms6[2] = 0x08; /* caching page: not there */
	run_cmd(ms6, sizeof(ms6), MIRROR_DIR_IN, 255, NULL, NULL, NULL, &act);
	assert_field(&act, 0x24, true, 2, 5);

	run_cmd(ms10, sizeof(ms10), MIRROR_DIR_IN, 255, NULL, NULL, NULL, &act);
	assert_good(&act);
	ck_assert_uint_eq(act.data_in_len, sizeof(hdr10));
	ck_assert_mem_eq(act.data_in, hdr10, sizeof(hdr10));
	ms10[3] = 0xFF; /* all subpages */
	run_cmd(ms10, sizeof(ms10), MIRROR_DIR_IN, 255, NULL, NULL, NULL, &act);
	assert_good(&act);
	ms10[8] = 3;
	run_cmd(ms10, sizeof(ms10), MIRROR_DIR_IN, 255, NULL, NULL, NULL, &act);
	ck_assert_uint_eq(act.data_in_len, 3);
	ms10[3] = 0x01;
	run_cmd(ms10, sizeof(ms10), MIRROR_DIR_IN, 255, NULL, NULL, NULL, &act);
	assert_field(&act, 0x24, true, 3, 7);
}
END_TEST

START_TEST(test_tur_request_sense)
{
	uint8_t tur[6] = { 0x00 };
	uint8_t rs[6] = { 0x03, 0, 0, 0, 252, 0 };
	struct mirror_rx_action act;

	run_cmd(tur, sizeof(tur), MIRROR_DIR_NONE, 0, NULL, NULL, NULL, &act);
	assert_good(&act);
	ck_assert_uint_eq(act.data_in_len, 0);

	run_cmd(rs, sizeof(rs), MIRROR_DIR_IN, 252, NULL, NULL, NULL, &act);
	assert_good(&act);
	ck_assert_uint_eq(act.data_in_len, 18);
	ck_assert_uint_eq(act.data_in[0], 0x70);
	ck_assert_uint_eq(act.data_in[2], MIRROR_SK_NO_SENSE);
	ck_assert_uint_eq(act.data_in[7], 10);
	ck_assert_uint_eq(act.data_in[12], 0);
	ck_assert_uint_eq(act.data_in[13], 0);
	rs[4] = 8;
	run_cmd(rs, sizeof(rs), MIRROR_DIR_IN, 252, NULL, NULL, NULL, &act);
	ck_assert_uint_eq(act.data_in_len, 8);
	rs[1] = 0x01; /* DESC: descriptor format is not supported */
	run_cmd(rs, sizeof(rs), MIRROR_DIR_IN, 252, NULL, NULL, NULL, &act);
	assert_field(&act, 0x24, true, 1, 0);
}
END_TEST

START_TEST(test_report_luns_select)
{
	uint8_t rl[12] = { 0xA0, 0, 0x01, 0, 0, 0, 0, 0, 0x10, 0, 0, 0 };
	struct mirror_rx_action act;

	/* Well-known LUs only: none. */
	run_cmd(rl, sizeof(rl), MIRROR_DIR_IN, 16, NULL, NULL, NULL, &act);
	assert_good(&act);
	ck_assert_uint_eq(act.data_in_len, 8);
	ck_assert_uint_eq(be32(act.data_in), 0);
	/* All LUs, allocation length 8: the header alone, saying 8. */
	rl[2] = 0x02;
	rl[9] = 8;
	rl[8] = 0;
	run_cmd(rl, sizeof(rl), MIRROR_DIR_IN, 16, NULL, NULL, NULL, &act);
	assert_good(&act);
	ck_assert_uint_eq(act.data_in_len, 8);
	ck_assert_uint_eq(be32(act.data_in), 8);
	rl[2] = 0x05;
	run_cmd(rl, sizeof(rl), MIRROR_DIR_IN, 16, NULL, NULL, NULL, &act);
	assert_field(&act, 0x24, true, 2, 7);
}
END_TEST

START_TEST(test_unknown_opcode)
{
	uint8_t read10[10] = { 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0 };
	uint8_t write10[10] = { 0x2A, 0, 0, 0, 0, 0, 0, 0, 1, 0 };
	struct mirror_rx_action act;

	run_cmd(read10, sizeof(read10), MIRROR_DIR_IN, 512, NULL, NULL, NULL, &act);
	assert_nosks(&act, 0x20);
	assert_rule(MIRROR_RULE_OPCODE_UNKNOWN);
	run_cmd(write10, sizeof(write10), MIRROR_DIR_OUT, 512, NULL, NULL, NULL, &act);
	ck_assert_uint_eq(wants.n, 0);
	assert_nosks(&act, 0x20);
	ck_assert_uint_eq(rx.stats.other_cmds, 2);
	ck_assert_uint_eq(rx.stats.check_condition, 2);
	/* A CDB shorter than its command. */
	run_cmd(read10, 1, MIRROR_DIR_IN, 512, NULL, NULL, NULL, &act);
	assert_nosks(&act, 0x20);
	uint8_t rc16[4] = { 0x9E, 0x10 };
	run_cmd(rc16, sizeof(rc16), MIRROR_DIR_IN, 32, NULL, NULL, NULL, &act);
	ck_assert_uint_eq(act.status, MIRROR_STATUS_CHECK_CONDITION);
	assert_rule(MIRROR_RULE_TRUNCATED);
}
END_TEST

/* ================= the API ================= */

START_TEST(test_api_misuse)
{
	struct mirror_receiver other;
	struct mirror_nvram small_nv = nv;
	struct mirror_rx_action act;
	uint8_t cdb[16] = { 0 }, data[BLK(2)];

	ck_assert_int_eq(mirror_rx_init(&other, &prof, 2, &nv), -EINVAL);
	small_nv.size = NV_SIZE / 2;
	ck_assert_int_eq(mirror_rx_init(&other, &prof, 1, &small_nv), -EINVAL);
	ck_assert_int_eq(mirror_rx_init(&other, &prof, 1, NULL), -EINVAL);

	ck_assert_int_eq(mirror_rx_begin(&rx, &task, cdb, 0, MIRROR_DIR_OUT, 0, NULL, NULL, &act),
			 -EINVAL);
	ck_assert_int_eq(mirror_rx_begin(&rx, &task, cdb, 17, MIRROR_DIR_OUT, 0, NULL, NULL, &act),
			 -EINVAL);

	/* Data of the wrong length is refused and the task keeps waiting. */
	push_table(vol7, 1);
	fill(data, sizeof(data), 25);
	int n = small_cdb(cdb, 0xA0, 16, 2, 0, 0, 7, 0);
	ck_assert_int_eq(mirror_rx_begin(&rx, &task, cdb, (size_t)n, MIRROR_DIR_OUT, BLK(2), NULL,
					 NULL, &act), 0);
	ck_assert_int_eq(mirror_rx_data(&rx, &task, data, BLK(1), &act), -EINVAL);
	assert_range_valid(16, 2, false);
	ck_assert_int_eq(mirror_rx_data(&rx, &task, NULL, BLK(2), &act), -EINVAL);
	ck_assert_int_eq(mirror_rx_data(&rx, &task, data, BLK(2), &act), 0);
	assert_good(&act);
	assert_range_valid(16, 2, true);
	mirror_rx_end(&rx, &task);
	/* Data for an ended task. */
	ck_assert_int_eq(mirror_rx_data(&rx, &task, data, BLK(2), &act), -EINVAL);
	/* Abort or end of an idle task counts nothing. */
	mirror_rx_abort(&rx, &task);
	mirror_rx_end(&rx, &task);
	ck_assert_uint_eq(rx.stats.aborted, 0);
}
END_TEST

START_TEST(test_stats)
{
	uint8_t data[BLK(1)], tur[6] = { 0 };
	uint8_t cdb[MIRROR_READBACK_CDB_LEN];
	const struct mirror_sg_element sg[] = { { BLK(60), BLK(1) } };
	struct large l;
	struct mirror_rx_action act;

	push_table(vol7, 1);                       /* table 1, good 1 */
	fill(data, sizeof(data), 26);
	small_write(16, 1, data, NULL, &act);      /* small 1, good 2 */
	small_write(REGION1_BLOCK, 1, data, NULL, &act); /* small 2, cc 1 */
	large_build(&l, 1, 0, sg, 1, 27);
	run_cmd(l.cdb, sizeof(l.cdb), MIRROR_DIR_OUT, l.len, l.buf, NULL, NULL, &act); /* large 1, good 3 */
	ck_assert_int_eq(readback_cdb(cdb, BLK(16), 1, 0), (int)MIRROR_READBACK_CDB_LEN);
	run_cmd(cdb, sizeof(cdb), MIRROR_DIR_IN, 1024, NULL, NULL, NULL, &act); /* readback 1, good 4 */
	run_cmd(tur, sizeof(tur), MIRROR_DIR_NONE, 0, NULL, NULL, NULL, &act);  /* other 1, good 5 */
	mirror_rx_end(&rx, &task);
	ck_assert_int_eq(mirror_rx_begin(&rx, &task, l.cdb, sizeof(l.cdb), MIRROR_DIR_OUT, l.len,
					 NULL, NULL, &act), 0);  /* large 2 */
	mirror_rx_abort(&rx, &task);                /* aborted 1 */
	mirror_rx_end(&rx, &task);

	ck_assert_uint_eq(rx.stats.table_updates, 1);
	ck_assert_uint_eq(rx.stats.small_ops, 2);
	ck_assert_uint_eq(rx.stats.large_ops, 2);
	ck_assert_uint_eq(rx.stats.readbacks, 1);
	ck_assert_uint_eq(rx.stats.other_cmds, 1);
	ck_assert_uint_eq(rx.stats.good, 5);
	ck_assert_uint_eq(rx.stats.check_condition, 1);
	ck_assert_uint_eq(rx.stats.aborted, 1);
	ck_assert_uint_eq(rx.stats.user_bytes_stored, BLK(2));
	large_free(&l);
}
END_TEST

static Suite *receiver_suite(void)
{
	Suite *s = suite_create("receiver");
	TCase *tc;

	tc = tcase_create("small");
	tcase_add_checked_fixture(tc, rx_setup, rx_teardown);
	tcase_add_test(tc, test_small_success);
	tcase_add_loop_test(tc, test_small_reject, 0, (int)ARRAY_LEN(small_rejects));
	tcase_add_test(tc, test_small_no_table);
	tcase_add_test(tc, test_small_cdb16_volume);
	tcase_add_test(tc, test_small_abort);
	suite_add_tcase(s, tc);

	tc = tcase_create("role_a");
	tcase_add_checked_fixture(tc, rx_setup_a, rx_teardown);
	tcase_add_test(tc, test_small_role_a);
	suite_add_tcase(s, tc);

	tc = tcase_create("large");
	tcase_add_checked_fixture(tc, rx_setup, rx_teardown);
	tcase_add_test(tc, test_large_success);
	tcase_add_test(tc, test_large_short_edtl);
	tcase_add_loop_test(tc, test_large_reject, 0, (int)ARRAY_LEN(large_rejects));
	tcase_add_test(tc, test_large_strict_cdb);
	tcase_add_test(tc, test_large_abort_after_metadata);
	tcase_add_test(tc, test_large_abort_before_metadata);
	tcase_add_test(tc, test_large_end_without_abort);
	tcase_add_test(tc, test_sequence);
	suite_add_tcase(s, tc);

	tc = tcase_create("faults");
	tcase_add_checked_fixture(tc, rx_setup, rx_teardown);
	tcase_add_test(tc, test_fault_skip_validity);
	tcase_add_test(tc, test_fault_unknown_opcode);
	tcase_add_test(tc, test_fault_force_sense);
	suite_add_tcase(s, tc);

	tc = tcase_create("harness");
	tcase_add_checked_fixture(tc, rx_setup, rx_teardown);
	tcase_add_test(tc, test_readback);
	tcase_add_test(tc, test_extensions_off);
	tcase_add_test(tc, test_readback_large);
	tcase_add_test(tc, test_readback_corrupt);
	tcase_add_test(tc, test_readback_invalid);
	tcase_add_test(tc, test_table_then_small);
	tcase_add_test(tc, test_table_rejected);
	suite_add_tcase(s, tc);

	tc = tcase_create("scsi");
	tcase_add_checked_fixture(tc, rx_setup, rx_teardown);
	tcase_add_test(tc, test_opcode_clash);
	tcase_add_test(tc, test_opcode_vendor_profile);
	tcase_add_test(tc, test_inquiry_standard);
	tcase_add_test(tc, test_inquiry_vpd);
	tcase_add_test(tc, test_read_capacity);
	tcase_add_test(tc, test_mode_sense);
	tcase_add_test(tc, test_tur_request_sense);
	tcase_add_test(tc, test_report_luns_select);
	tcase_add_test(tc, test_unknown_opcode);
	suite_add_tcase(s, tc);

	tc = tcase_create("api");
	tcase_add_checked_fixture(tc, rx_setup, rx_teardown);
	tcase_add_test(tc, test_api_misuse);
	tcase_add_test(tc, test_stats);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run_suite(receiver_suite());
}
