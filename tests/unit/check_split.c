/* The sender's splitter: writes of 512 B .. 8 MiB at any NVRAM placement,
 * including placements that straddle a 4-bit descriptor boundary (every
 * 32 MiB) and the wrap of the ring at the end of the region. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "testutil.h"

#define KIB 1024u
#define MIB (1024u * 1024u)

struct split_stats {
	unsigned ops, small, large;
	uint32_t first_seq, last_seq;
};

/* Splits w and checks every invariant the splitter promises; each op is
 * also encoded and decoded back as a receiver would. */
static struct split_stats split_and_check(const struct mirror_profile *p,
					   const struct mirror_write *w,
					   const struct mirror_sender_state *st,
					   enum mirror_path_policy pol, uint32_t seq0)
{
	struct mirror_splitter sp;
	struct mirror_op op;
	struct split_stats s = { 0, 0, 0, 0, 0 };
	char why[96];
	uint64_t covered = 0;
	uint32_t rs = mirror_region_start(p, w->region), re = mirror_region_end(p, w->region);
	uint32_t expect_seq = seq0;
	uint64_t ring_pos = w->nvram_addr - rs;

	ck_assert_int_eq(mirror_split_init(&sp, p, w, st, pol, seq0, why, sizeof(why)), 0);
	while (mirror_split_next(&sp, &op) == 1) {
		s.ops++;
		ck_assert_uint_eq(op.data_offset, covered);
		ck_assert_uint_eq(op.lba, w->lba + covered / 512);
		ck_assert_uint_ge(op.blocks, 1);
		ck_assert_uint_le(op.blocks, 2048);
		ck_assert_uint_ge(op.sg_count, 1);
		ck_assert_uint_le(op.sg_count, 64);
		uint64_t sum = 0;
		for (unsigned i = 0; i < op.sg_count; i++) {
			const struct mirror_sg_element *e = &op.sg[i];
			ck_assert_uint_gt(e->bytes, 0);
			ck_assert_uint_le(e->bytes, 16 * KIB);
			ck_assert_uint_eq(e->bytes % 512, 0);
			/* the data lies where the ring says, inside the region */
			ck_assert_uint_eq(e->nvram_addr, rs + ring_pos % (re - rs));
			ck_assert_uint_le((uint64_t)e->nvram_addr + e->bytes, re);
			ring_pos += e->bytes;
			sum += e->bytes;
		}
		ck_assert_uint_eq(sum, (uint64_t)op.blocks * 512);
		covered += sum;

		/* the path is the one Fig. 7 gives for these elements */
		if (pol == MIRROR_POLICY_AUTO) {
			struct mirror_path_choice c;
			mirror_path_choose(p, op.sg, op.sg_count, st, &c);
			ck_assert_int_eq(op.path, c.path);
		} else {
			ck_assert_int_eq(op.path, pol == MIRROR_POLICY_SMALL ? MIRROR_PATH_SMALL : MIRROR_PATH_LARGE);
		}

		uint8_t cdb[16], md[1024];
		int len = mirror_op_encode(p, &op, w, cdb, sizeof(cdb), md);
		ck_assert_int_gt(len, 0);
		if (op.path == MIRROR_PATH_SMALL) {
			struct mirror_small_cdb c;
			struct mirror_check_ctx ctx = MIRROR_CHECK_CTX_INIT;
			ctx.data_out_length = (int64_t)op.blocks * 512;
			ck_assert_int_eq(mirror_small_cdb_decode(p, cdb, (size_t)len, &ctx, &c, NULL), 0);
			ck_assert_uint_eq(mirror_small_cdb_blocks(&c), op.blocks);
			s.small++;
		} else {
			struct mirror_metadata m;
			struct mirror_check_ctx ctx = MIRROR_CHECK_CTX_INIT;
			ctx.data_out_length = (int64_t)mirror_large_transfer_length(op.blocks);
			ctx.sender_region = (int)w->region;
			ck_assert_int_eq(len, 10);
			ck_assert_int_eq(mirror_notify_cdb_decode(p, cdb, 10, &(struct mirror_notify_cdb){ 0 }, NULL), 0);
			ck_assert_int_eq(mirror_metadata_decode(p, md, 1024, &ctx, &m, NULL), 0);
			ck_assert_uint_eq(m.sg_count, op.sg_count);
			ck_assert_mem_eq(m.sg, op.sg, op.sg_count * sizeof(op.sg[0]));
			/* consecutive sequence numbers across the large ops */
			ck_assert_uint_eq(m.sequence, expect_seq);
			if (s.large == 0)
				s.first_seq = m.sequence;
			s.last_seq = m.sequence;
			expect_seq++;
			s.large++;
		}
	}
	ck_assert_uint_eq(covered, w->bytes);
	ck_assert_uint_eq(sp.next_sequence, expect_seq);
	return s;
}

static struct mirror_write write_at(uint32_t addr, uint64_t bytes)
{
	struct mirror_write w = { 0 };
	w.lba = 0x100000;
	w.bytes = bytes;
	w.nvram_addr = addr;
	w.region = addr >= 64 * MIB ? 1 : 0;
	w.volume = 3;
	w.array_serial = 0xA5A5A5A5A5A5A5A5ull;
	w.array_number = 1;
	return w;
}

static const uint64_t sizes[] = {
	512, 1024, 4096, 8192, 16 * KIB - 512, 16 * KIB, 16 * KIB + 512, 32 * KIB - 512,
	32 * KIB, 32 * KIB + 512, 48 * KIB, 64 * KIB, 256 * KIB, 1 * MIB - 512, 1 * MIB,
	1 * MIB + 512, 3 * MIB + 4096, 4 * MIB, 8 * MIB,
};

/* Placements: region starts, a 32 MiB descriptor boundary (0x10000 in
 * region 0 and 0x30000 in region 1), the ring's end. */
static const uint32_t placements[] = {
	0, 4096, 32 * MIB - 4096, 32 * MIB - 16 * KIB, 32 * MIB, 64 * MIB - 8192,
	64 * MIB, 96 * MIB - 512, 128 * MIB - 12 * KIB,
};

START_TEST(sizes_by_placements)
{
	struct mirror_profile p;
	struct mirror_sender_state ok = { false, true };
	mirror_profile_init(&p);
	for (size_t pi = 0; pi < sizeof(placements) / sizeof(placements[0]); pi++) {
		struct mirror_write w = write_at(placements[pi], sizes[_i]);
		struct split_stats s = split_and_check(&p, &w, &ok, MIRROR_POLICY_AUTO, 1000);
		uint64_t expect_ops = (sizes[_i] + MIB - 1) / MIB;
		ck_assert_uint_ge(s.ops, expect_ops);
		ck_assert_uint_le(s.ops, expect_ops + 1); /* one more where the ring wraps */
		/* only an op of at most 32 KiB (a split's tail) may go small */
		if (sizes[_i] > 32 * KIB && s.ops == 1)
			ck_assert_uint_eq(s.small, 0);
	}
}
END_TEST

START_TEST(small_writes_go_small_unless_they_straddle)
{
	struct mirror_profile p;
	struct mirror_sender_state ok = { false, true };
	mirror_profile_init(&p);

	struct mirror_write w = write_at(4096, 32 * KIB);
	struct split_stats s = split_and_check(&p, &w, &ok, MIRROR_POLICY_AUTO, 0);
	ck_assert_uint_eq(s.ops, 1);
	ck_assert_uint_eq(s.small, 1);
	/* one element across 32 MiB: only its start is a descriptor, so small */
	w = write_at(32 * MIB - 4096, 8192);
	s = split_and_check(&p, &w, &ok, MIRROR_POLICY_AUTO, 0);
	ck_assert_uint_eq(s.small, 1);
	/* 24 KiB from 32 MiB - 4 KiB: descriptors 0x0FFF8 and 0x10018 */
	w = write_at(32 * MIB - 4096, 24 * KIB);
	struct mirror_splitter sp;
	struct mirror_op op;
	ck_assert_int_eq(mirror_split_init(&sp, &p, &w, &ok, MIRROR_POLICY_AUTO, 7, NULL, 0), 0);
	ck_assert_int_eq(mirror_split_next(&sp, &op), 1);
	ck_assert_int_eq(op.path, MIRROR_PATH_LARGE);
	ck_assert_int_eq(op.why.reason, MIRROR_REASON_HIGH_BITS_DIFFER);
	ck_assert_str_eq(op.why.text, "large: descriptor high bits differ 0x0 vs 0x1");
	ck_assert_uint_eq(op.sequence, 7);
	ck_assert_int_eq(mirror_split_next(&sp, &op), 0);
	/* region 1: descriptors 0x2FFFF and 0x3001F */
	w = write_at(96 * MIB - 512, 20 * KIB);
	ck_assert_int_eq(mirror_split_init(&sp, &p, &w, &ok, MIRROR_POLICY_AUTO, 0, NULL, 0), 0);
	ck_assert_int_eq(mirror_split_next(&sp, &op), 1);
	ck_assert_str_eq(op.why.text, "large: descriptor high bits differ 0x2 vs 0x3");
	/* the ring wraps at the region end: two elements far apart */
	w = write_at(64 * MIB - 4096, 8192);
	ck_assert_int_eq(mirror_split_init(&sp, &p, &w, &ok, MIRROR_POLICY_AUTO, 0, NULL, 0), 0);
	ck_assert_int_eq(mirror_split_next(&sp, &op), 1);
	ck_assert_uint_eq(op.sg_count, 2);
	ck_assert_uint_eq(op.sg[1].nvram_addr, 0);
	ck_assert_int_eq(op.path, MIRROR_PATH_LARGE);
}
END_TEST

START_TEST(sender_state_and_policies)
{
	struct mirror_profile p;
	mirror_profile_init(&p);
	struct mirror_write w = write_at(8192, 4096);
	struct mirror_sender_state rec = { true, true }, uninit = { false, false }, ok = { false, true };

	struct split_stats s = split_and_check(&p, &w, &rec, MIRROR_POLICY_AUTO, 0);
	ck_assert_uint_eq(s.large, 1);
	s = split_and_check(&p, &w, &uninit, MIRROR_POLICY_AUTO, 0);
	ck_assert_uint_eq(s.large, 1);
	s = split_and_check(&p, &w, &ok, MIRROR_POLICY_LARGE, 5);
	ck_assert_uint_eq(s.large, 1);
	ck_assert_uint_eq(s.first_seq, 5);
	/* forced small: every op small and decodable, even across 32 MiB */
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct mirror_write ws = write_at(32 * MIB - 12 * KIB, sizes[i]);
		s = split_and_check(&p, &ws, &ok, MIRROR_POLICY_SMALL, 0);
		ck_assert_uint_eq(s.large, 0);
		ck_assert_uint_ge(s.small, (unsigned)((sizes[i] + 32 * KIB - 1) / (32 * KIB)));
	}
	/* 16-byte CDB profile: up to 64 KiB small */
	struct mirror_profile p16;
	mirror_profile_by_name("v1-cdb16", &p16);
	struct mirror_write w64 = write_at(0, 64 * KIB);
	s = split_and_check(&p16, &w64, &ok, MIRROR_POLICY_AUTO, 0);
	ck_assert_uint_eq(s.small, 1);
	ck_assert_uint_eq(s.ops, 1);
}
END_TEST

START_TEST(consecutive_sequence_numbers_over_mixed_paths)
{
	struct mirror_profile p;
	struct mirror_sender_state ok = { false, true };
	mirror_profile_init(&p);
	/* 8 MiB: 8 large ops numbered 0xFFFFFFFE, 0xFFFFFFFF, 0, 1, ... */
	struct mirror_write w = write_at(1 * MIB, 8 * MIB);
	struct split_stats s = split_and_check(&p, &w, &ok, MIRROR_POLICY_AUTO, 0xFFFFFFFEu);
	ck_assert_uint_eq(s.large, 8);
	ck_assert_uint_eq(s.last_seq, 5);
}
END_TEST

START_TEST(bad_writes_are_refused)
{
	struct mirror_profile p;
	struct mirror_splitter sp;
	char why[96];
	mirror_profile_init(&p);
	struct {
		struct mirror_write w;
		const char *reason;
	} bad[] = {
		{ write_at(0, 0), "non-zero multiple of 512" },
		{ write_at(0, 1000), "non-zero multiple of 512" },
		{ write_at(100, 512), "multiple of 512" },
		{ write_at(0, 64 * MIB + 512), "larger than" },
	};
	bad[4 - 1].w.region = 0;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(mirror_split_init(&sp, &p, &bad[i].w, NULL, MIRROR_POLICY_AUTO, 0, why, sizeof(why)), -EINVAL);
		ck_assert_msg(strstr(why, bad[i].reason) != NULL, "%s", why);
	}
	struct mirror_write w = write_at(0, 1024);
	w.region = 1;
	ck_assert_int_eq(mirror_split_init(&sp, &p, &w, NULL, MIRROR_POLICY_AUTO, 0, why, sizeof(why)), -EINVAL);
	ck_assert(strstr(why, "outside") != NULL);
	w = write_at(0, 1024);
	w.lba = 0xFFFFFFFF;
	ck_assert_int_eq(mirror_split_init(&sp, &p, &w, NULL, MIRROR_POLICY_AUTO, 0, why, sizeof(why)), -EINVAL);
	ck_assert(strstr(why, "2^32") != NULL);
	w.bytes = 512;
	ck_assert_int_eq(mirror_split_init(&sp, &p, &w, NULL, MIRROR_POLICY_AUTO, 0, why, sizeof(why)), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("split");
	TCase *t = tcase_create("split");
	tcase_set_timeout(t, 120);
	tcase_add_loop_test(t, sizes_by_placements, 0, (int)(sizeof(sizes) / sizeof(sizes[0])));
	tcase_add_test(t, small_writes_go_small_unless_they_straddle);
	tcase_add_test(t, sender_state_and_policies);
	tcase_add_test(t, consecutive_sequence_numbers_over_mixed_paths);
	tcase_add_test(t, bad_writes_are_refused);
	suite_add_tcase(s, t);
	return test_run_suite(s);
}
