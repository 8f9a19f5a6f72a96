/* The survivor's journal of its partner's writes (app/pair/journal.h),
 * fed through a real receiver (controller B receiving A's region 0): a
 * takeover's replay list is in arrival order so that the newest
 * acknowledged copy of a block is written last -- and the replay-stale
 * flag, the deliberate bug, is seen to leave the older copy on disk; only
 * whole, valid copies are replayed (an aborted operation is not, unless
 * the replay-invalid flag); released and overwritten copies are not; a
 * mirror epoch that moved on voids the older session's copies; arrival
 * numbers that wrap keep their order. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <mirror/mirror.h>

#include "app/pair/journal.h"

#include "testutil.h"

#define NV_SIZE (4u * 1024 * 1024)
#define VOL 1u
#define LBA_SPAN 4096u

static struct mirror_profile prof;
static struct mirror_nvram nv;
static uint8_t *nv_data;
static uint64_t *nv_bitmap;
static struct mirror_receiver rx;
static struct pair_journal jr;

static void setup(void)
{
	ck_assert_int_eq(mirror_profile_by_name("v1", &prof), 0);
	prof.nvram_size = NV_SIZE;
	prof.region_split = NV_SIZE / 2;
	nv_data = calloc(1, NV_SIZE);
	nv_bitmap = calloc(1, mirror_nvram_bitmap_bytes(NV_SIZE));
	ck_assert_ptr_nonnull(nv_data);
	ck_assert_ptr_nonnull(nv_bitmap);
	ck_assert_int_eq(mirror_nvram_init(&nv, &prof, nv_data, nv_bitmap), 0);
	ck_assert_int_eq(mirror_rx_init(&rx, &prof, 1, &nv), 0);
	ck_assert_int_eq(pair_journal_init(&jr, &prof, 0), 0);
	pair_journal_attach(&jr, &rx);
}

static void teardown(void)
{
	pair_journal_free(&jr);
	free(nv_data);
	free(nv_bitmap);
}

/* One command through the receiver; data_blocks: how many blocks of data
 * to deliver before stopping (all: the command completes; fewer: it is
 * aborted, as a dropped connection would).  Returns the final status. */
static int run(const uint8_t *cdb, size_t len, uint32_t edtl, const uint8_t *data,
	       uint32_t deliver, const char *sender)
{
	struct mirror_rx_task t;
	struct mirror_rx_action act;
	int status = -1;

	memset(&t, 0, sizeof(t));
	ck_assert_int_eq(mirror_rx_begin(&rx, &t, cdb, len, MIRROR_DIR_OUT, edtl, sender, NULL, &act), 0);
	while (act.kind == MIRROR_RX_WANT_DATA) {
		if (act.offset + act.length > deliver) {
			mirror_rx_abort(&rx, &t);
			mirror_rx_end(&rx, &t);
			return -1;
		}
		ck_assert_int_eq(mirror_rx_data(&rx, &t, data + act.offset, act.length, &act), 0);
	}
	status = act.status;
	mirror_rx_end(&rx, &t);
	return status;
}

/* ARRAY TABLE UPDATE carrying the sender's mirror epoch in its
 * generation (journal.h: PAIR_GEN). */
static void push_table(const char *sender, unsigned epoch)
{
	struct mirror_array_table t;
	static uint8_t buf[MIRROR_TABLE_MAX_BYTES];
	uint8_t cdb[MIRROR_TABLE_CDB_LEN];

	mirror_array_table_init(&t);
	ck_assert_int_eq(mirror_array_table_add(&t, VOL, 0x0123456789abcdefull, 1), 0);
	t.generation = PAIR_GEN(epoch, 1);
	int len = mirror_table_update_encode(&t, buf, sizeof(buf));
	ck_assert_int_gt(len, 0);
	ck_assert_int_eq(mirror_table_update_cdb_encode(&prof, (uint32_t)len, cdb, sizeof(cdb)),
			 (int)MIRROR_TABLE_CDB_LEN);
	ck_assert_int_eq(run(cdb, sizeof(cdb), (uint32_t)len, buf, (uint32_t)len, sender), 0);
}

/* A small-path write of `blocks` blocks for lba from NVRAM block
 * `nv_block` of region 0, the data all `fill`; deliver: blocks of data
 * that arrive (fewer than blocks: aborted). */
static int small_write(uint32_t nv_block, uint32_t lba, uint32_t blocks, uint8_t fill,
		       uint32_t deliver, const char *sender)
{
	struct mirror_sg_element sg = { mirror_region_start(&prof, 0) + nv_block * MIRROR_BLOCK_SIZE,
					blocks * MIRROR_BLOCK_SIZE };
	struct mirror_small_cdb sc;
	uint8_t cdb[16], *data = malloc(blocks * MIRROR_BLOCK_SIZE);

	ck_assert_ptr_nonnull(data);
	memset(data, fill, blocks * MIRROR_BLOCK_SIZE);
	ck_assert_int_eq(mirror_small_cdb_from_sg(&prof, 0, VOL, lba, &sg, 1, &sc), 0);
	int n = mirror_small_cdb_encode(&prof, &sc, cdb, sizeof(cdb));
	ck_assert_int_gt(n, 0);
	int st = run(cdb, (size_t)n, blocks * MIRROR_BLOCK_SIZE, data, deliver * MIRROR_BLOCK_SIZE,
		     sender);
	free(data);
	return st;
}

/* MIRROR RELEASE of one range. */
static void release(uint32_t nv_block, uint32_t blocks, const char *sender)
{
	struct mirror_release r = { .count = 1 };
	uint8_t buf[64], cdb[16];

	r.range[0].nvram_addr = mirror_region_start(&prof, 0) + nv_block * MIRROR_BLOCK_SIZE;
	r.range[0].blocks = blocks;
	int len = mirror_release_encode(&r, buf, sizeof(buf));
	ck_assert_int_gt(len, 0);
	int n = mirror_release_cdb_encode(&prof, (uint32_t)len, cdb, sizeof(cdb));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(run(cdb, (size_t)n, (uint32_t)len, buf, (uint32_t)len, sender), 0);
}

/* What the array holds after a replay: the fill byte of the NVRAM block
 * written last to each LBA (0: never written). */
static uint8_t disk[LBA_SPAN];

static size_t replay(uint64_t epoch, unsigned flags)
{
	struct pair_replay_block *v;
	size_t n;

	memset(disk, 0, sizeof(disk));
	ck_assert_int_eq(pair_journal_replay_list(&jr, epoch, flags, &v, &n), 0);
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(v[i].volume, (int)VOL);
		ck_assert_uint_lt(v[i].lba, LBA_SPAN);
		disk[v[i].lba] = nv_data[v[i].nvram_addr];
	}
	free(v);
	return n;
}

static void assert_disk(uint32_t lba, uint32_t blocks, uint8_t fill)
{
	for (uint32_t k = 0; k < blocks; k++)
		ck_assert_msg(disk[lba + k] == fill, "LBA %u holds 0x%02x, want 0x%02x", lba + k,
			      disk[lba + k], fill);
}

static const char S1[] = "iqn.2026-11.org.mirrortest:pair-a,s1";

START_TEST(test_newest_copy_last)
{
	push_table(S1, 0);
	ck_assert_int_eq(small_write(0, 100, 8, 0x11, 8, S1), 0);   /* old copy */
	ck_assert_int_eq(small_write(64, 100, 8, 0x22, 8, S1), 0);  /* newer, same LBAs */
	ck_assert_int_eq(small_write(128, 104, 8, 0x33, 8, S1), 0); /* newest, overlaps half */
	ck_assert_uint_eq(replay(0, 0), 24);
	assert_disk(100, 4, 0x22);
	assert_disk(104, 8, 0x33);
	ck_assert_uint_eq(disk[99], 0);
	ck_assert_uint_eq(disk[112], 0);
}
END_TEST

/* The deliberate bug (deviation replay-stale) must show: the check above
 * can fail. */
START_TEST(test_newest_first_leaves_stale_copy)
{
	push_table(S1, 0);
	ck_assert_int_eq(small_write(0, 100, 8, 0x11, 8, S1), 0);
	ck_assert_int_eq(small_write(64, 100, 8, 0x22, 8, S1), 0);
	ck_assert_uint_eq(replay(0, PAIR_REPLAY_NEWEST_FIRST), 16);
	assert_disk(100, 8, 0x11);
}
END_TEST

START_TEST(test_incomplete_not_replayed)
{
	push_table(S1, 0);
	ck_assert_int_eq(small_write(0, 200, 8, 0x44, 8, S1), 0);
	/* whatever NVRAM blocks 64-71 held before: 0xEE */
	memset(nv_data + mirror_region_start(&prof, 0) + 64 * MIRROR_BLOCK_SIZE, 0xEE,
	       8 * MIRROR_BLOCK_SIZE);
	ck_assert_int_eq(small_write(64, 300, 8, 0x55, 3, S1), -1); /* its data never all arrived */
	ck_assert_uint_eq(replay(0, 0), 8);
	assert_disk(200, 8, 0x44);
	assert_disk(300, 8, 0x00);
	/* deviation replay-invalid: what the blocks hold goes to disk too */
	ck_assert_uint_eq(replay(0, PAIR_REPLAY_INVALID), 16);
	assert_disk(300, 8, 0xEE);
}
END_TEST

START_TEST(test_incomplete_newer_keeps_nothing_stale)
{
	/* An acknowledged copy, then a newer write of the same LBAs that did
	 * not complete (never acknowledged): the older copy is still the
	 * newest acknowledged one and is replayed. */
	push_table(S1, 0);
	ck_assert_int_eq(small_write(0, 400, 8, 0x66, 8, S1), 0);
	ck_assert_int_eq(small_write(64, 400, 8, 0x77, 2, S1), -1);
	ck_assert_uint_eq(replay(0, 0), 8);
	assert_disk(400, 8, 0x66);
}
END_TEST

START_TEST(test_released_not_replayed)
{
	push_table(S1, 0);
	ck_assert_int_eq(small_write(0, 500, 8, 0x12, 8, S1), 0);
	ck_assert_int_eq(small_write(64, 600, 8, 0x34, 8, S1), 0);
	release(0, 8, S1); /* destaged by A */
	ck_assert_uint_eq(replay(0, 0), 8);
	assert_disk(500, 8, 0x00);
	assert_disk(600, 8, 0x34);
}
END_TEST

START_TEST(test_overwritten_nvram_not_replayed)
{
	/* A reused NVRAM blocks 0-7 (after destaging the first write) for a
	 * write of other LBAs: the first copy is gone and must not be
	 * replayed from what the blocks now hold. */
	push_table(S1, 0);
	ck_assert_int_eq(small_write(0, 700, 8, 0x21, 8, S1), 0);
	ck_assert_int_eq(small_write(0, 900, 8, 0x43, 8, S1), 0);
	ck_assert_uint_eq(replay(0, 0), 8);
	assert_disk(700, 8, 0x00);
	assert_disk(900, 8, 0x43);
}
END_TEST

START_TEST(test_epoch_voids_older_session)
{
	/* A's session with epoch 3 stored copies; A then lost the link,
	 * destaged, bumped to epoch 4 and wrote through: a replay for epoch
	 * 4 must not write the epoch-3 copies (they may be older than what
	 * A wrote through). */
	static const char S2[] = "iqn.2026-11.org.mirrortest:pair-a,s2";
	push_table(S1, 3);
	ck_assert_int_eq(small_write(0, 1000, 8, 0x31, 8, S1), 0);
	ck_assert_uint_eq(replay(3, 0), 8);
	ck_assert_uint_eq(replay(4, 0), 0);
	push_table(S2, 4);
	ck_assert_int_eq(small_write(64, 1100, 8, 0x41, 8, S2), 0);
	ck_assert_uint_eq(replay(4, 0), 8);
	assert_disk(1000, 8, 0x00);
	assert_disk(1100, 8, 0x41);
}
END_TEST

START_TEST(test_arrival_numbers_wrap)
{
	push_table(S1, 0);
	jr.next_id = 0xFFFFFFFEu;
	for (unsigned i = 0; i < 4; i++) /* ids FFFFFFFE, FFFFFFFF, 1, 2 */
		ck_assert_int_eq(small_write(i * 16, 1200, 8, (uint8_t)(0x50 + i), 8, S1), 0);
	ck_assert_uint_eq(replay(0, 0), 32);
	assert_disk(1200, 8, 0x53);
}
END_TEST

static Suite *journal_suite(void)
{
	Suite *s = suite_create("journal");
	TCase *tc = tcase_create("replay");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_newest_copy_last);
	tcase_add_test(tc, test_newest_first_leaves_stale_copy);
	tcase_add_test(tc, test_incomplete_not_replayed);
	tcase_add_test(tc, test_incomplete_newer_keeps_nothing_stale);
	tcase_add_test(tc, test_released_not_replayed);
	tcase_add_test(tc, test_overwritten_nvram_not_replayed);
	tcase_add_test(tc, test_epoch_voids_older_session);
	tcase_add_test(tc, test_arrival_numbers_wrap);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run_suite(journal_suite());
}
