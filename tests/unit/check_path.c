/* Path choice, source Fig. 7: all 16 combinations of the four conditions
 * (blocks 700, 708, 712, 716), the reason named for the first that fails,
 * and the layouts' variants of condition 716. */
#include "config.h"

#include <string.h>

#include "testutil.h"

#define MIB (1024u * 1024u)

START_TEST(fig7_all_combinations)
{
	/* _i bit 0: <= 2 elements, 1: not in recovery, 2: partner initialized,
	 * 3: descriptors share their upper 4 bits */
	bool few = _i & 1, not_recovery = _i & 2, initialized = _i & 4, same_high = _i & 8;
	struct mirror_profile p;
	mirror_profile_init(&p);
	struct mirror_sg_element sg[3] = {
		{ 0x06000000 - 8192, 4096 },                     /* descriptor 0x2FFF0: high 0x2 */
		{ same_high ? 0x05000000u : 0x06000000u, 4096 }, /* high 0x2 or 0x3 */
		{ 0x05100000, 512 },
	};
	unsigned n = few ? 2 : 3;
	struct mirror_sender_state st = { !not_recovery, initialized };
	struct mirror_path_choice c;

	mirror_path_choose(&p, sg, n, &st, &c);
	enum mirror_path_reason want;
	if (!few)
		want = MIRROR_REASON_TOO_MANY_ELEMENTS;
	else if (!not_recovery)
		want = MIRROR_REASON_RECOVERY;
	else if (!initialized)
		want = MIRROR_REASON_PARTNER_UNINIT;
	else if (!same_high)
		want = MIRROR_REASON_HIGH_BITS_DIFFER;
	else
		want = MIRROR_REASON_SMALL_OK;
	ck_assert_int_eq(c.reason, want);
	ck_assert_int_eq(c.path, want == MIRROR_REASON_SMALL_OK ? MIRROR_PATH_SMALL : MIRROR_PATH_LARGE);
	ck_assert_str_eq(mirror_path_name(c.path), want == MIRROR_REASON_SMALL_OK ? "small" : "large");
	ck_assert(strncmp(c.text, mirror_path_name(c.path), 5) == 0);
}
END_TEST

START_TEST(reason_texts)
{
	struct mirror_profile p;
	mirror_profile_init(&p);
	struct mirror_sender_state ok = { false, true };
	struct mirror_path_choice c;
	const struct mirror_sg_element three[3] = { { 0, 512 }, { 4096, 512 }, { 8192, 512 } };
	mirror_path_choose(&p, three, 3, &ok, &c);
	ck_assert_str_eq(c.text, "large: needs 3 S/G elements (small carries 2)");
	/* 0x3FFFF and 0x40000 differ in their upper four bits: 0x3 vs 0x4 */
	p.nvram_size = 256 * MIB;
	p.region_split = 128 * MIB;
	const struct mirror_sg_element straddle[2] = { { 0x3FFFF * 512u, 512 }, { 0x40000 * 512u, 512 } };
	mirror_path_choose(&p, straddle, 2, &ok, &c);
	ck_assert_str_eq(c.text, "large: descriptor high bits differ 0x3 vs 0x4");
	mirror_path_choose(&p, straddle, 1, &ok, &c);
	ck_assert_str_eq(c.text, "small: 1 S/G element, descriptor high bits 0x3");
	struct mirror_sender_state rec = { true, true }, uninit = { false, false };
	mirror_path_choose(&p, straddle, 1, &rec, &c);
	ck_assert_str_eq(c.text, "large: sender in error recovery mode");
	mirror_path_choose(&p, straddle, 1, &uninit, &c);
	ck_assert_str_eq(c.text, "large: partner not initialized (array table not current)");
	mirror_path_choose(&p, straddle, 0, &ok, &c);
	ck_assert_int_eq(c.reason, MIRROR_REASON_TOO_MANY_ELEMENTS);
}
END_TEST

START_TEST(layout_variants)
{
	struct mirror_profile p;
	struct mirror_sender_state ok = { false, true };
	struct mirror_path_choice c;
	/* 18-bit: no shared bits, so 0x0FFFF and 0x10000 may go together */
	const struct mirror_sg_element two[2] = { { 0x0FFFF * 512u, 512 }, { 0x10000 * 512u, 512 } };
	mirror_profile_by_name("v1", &p);
	mirror_path_choose(&p, two, 2, &ok, &c);
	ck_assert_int_eq(c.reason, MIRROR_REASON_HIGH_BITS_DIFFER);
	mirror_profile_by_name("v1-18bit", &p);
	mirror_path_choose(&p, two, 2, &ok, &c);
	ck_assert_int_eq(c.path, MIRROR_PATH_SMALL);
	/* 16-byte CDB: four elements sharing the upper 8 bits */
	mirror_profile_by_name("v1-cdb16", &p);
	const struct mirror_sg_element four[5] = {
		{ 0x1000 * 512u, 16384 }, { 0x1020 * 512u, 16384 }, { 0x1040 * 512u, 16384 },
		{ 0x1FFF * 512u, 512 }, { 0x1100 * 512u, 512 } };
	mirror_path_choose(&p, four, 4, &ok, &c);
	ck_assert_int_eq(c.path, MIRROR_PATH_SMALL);
	mirror_path_choose(&p, four, 5, &ok, &c);
	ck_assert_int_eq(c.reason, MIRROR_REASON_TOO_MANY_ELEMENTS);
	const struct mirror_sg_element cross[2] = { { 0x0FFF * 512u, 512 }, { 0x1000 * 512u, 512 } };
	mirror_path_choose(&p, cross, 2, &ok, &c);
	ck_assert_int_eq(c.reason, MIRROR_REASON_HIGH_BITS_DIFFER);
}
END_TEST

START_TEST(small_cdb_from_sg)
{
	struct mirror_profile p;
	struct mirror_small_cdb c;
	uint8_t cdb[16];
	mirror_profile_init(&p);
	const struct mirror_sg_element sg[2] = { { 0x4000000 + 0x2000, 4096 }, { 0x4000000 + 0x8000, 16384 } };
	ck_assert_int_eq(mirror_small_cdb_from_sg(&p, 1, 5, 77, sg, 2, &c), 0);
	ck_assert_uint_eq(c.opcode, 0xB0);
	ck_assert_uint_eq(c.sg[0].descriptor, (0x4000000 + 0x2000) / 512);
	ck_assert_uint_eq(c.sg[1].blocks, 32);
	ck_assert_int_eq(mirror_small_cdb_encode(&p, &c, cdb, sizeof(cdb)), 12);
	struct mirror_small_cdb back;
	ck_assert_int_eq(mirror_small_cdb_decode(&p, cdb, 12, NULL, &back, NULL), 0);
	ck_assert_uint_eq(back.volume, 5);
	ck_assert_uint_eq(back.lba, 77);
	const struct mirror_sg_element bad[1] = { { 100, 512 } };
	ck_assert_int_eq(mirror_small_cdb_from_sg(&p, 0, 0, 0, bad, 1, &c), MIRROR_E_FIELD_WIDTH);
	const struct mirror_sg_element big[1] = { { 0, 16896 } };
	ck_assert_int_eq(mirror_small_cdb_from_sg(&p, 0, 0, 0, big, 1, &c), MIRROR_E_FIELD_WIDTH);
	ck_assert_int_eq(mirror_small_cdb_from_sg(&p, 0, 0, 0, sg, 3, &c), MIRROR_E_FIELD_WIDTH);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("path");
	TCase *t = tcase_create("fig7");
	tcase_add_loop_test(t, fig7_all_combinations, 0, 16);
	tcase_add_test(t, reason_texts);
	tcase_add_test(t, layout_variants);
	tcase_add_test(t, small_cdb_from_sg);
	suite_add_tcase(s, t);
	return test_run_suite(s);
}
