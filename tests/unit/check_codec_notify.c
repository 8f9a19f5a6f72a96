/* Notification CDB (source Fig. 2 block 204, Fig. 5 block 508): opcode,
 * bytes 1-9 ignored by a lenient receiver, rejected by a strict one. */
#include "config.h"

#include <string.h>

#include "testutil.h"

static struct mirror_profile prof(const char *name)
{
	struct mirror_profile p;
	ck_assert_int_eq(mirror_profile_by_name(name, &p), 0);
	return p;
}

START_TEST(valid_notification)
{
	struct mirror_profile p = prof("v1");
	const uint8_t cdb[10] = { 0x3C };
	struct mirror_notify_cdb n;
	struct mirror_findings f;
	mirror_findings_init(&f);
	ck_assert_int_eq(mirror_notify_cdb_decode(&p, cdb, 10, &n, &f), 0);
	ck_assert_uint_eq(n.opcode, 0x3C);
	ck_assert_uint_eq(f.count, 0);
	/* the vendor profile moves the opcode */
	struct mirror_profile v = prof("vendor");
	mirror_findings_init(&f);
	ck_assert_int_eq(mirror_notify_cdb_decode(&v, cdb, 10, &n, &f), MIRROR_E_NOT_MIRROR);
	ck_assert_finding(&f, MIRROR_RULE_NOTIFY_OPCODE, 0, 7, 1);
}
END_TEST

/* Every byte 1..9 and every bit: the pointer names the first non-zero byte
 * and its highest set bit. */
START_TEST(reserved_bytes_pointer)
{
	struct mirror_profile lenient = prof("v1"), strict = prof("v1-strict");
	unsigned byte = (unsigned)_i / 8 + 1, bit = (unsigned)_i % 8;
	uint8_t cdb[10] = { 0x3C };
	struct mirror_notify_cdb n;
	struct mirror_findings f;

	cdb[byte] = (uint8_t)(1u << bit | (bit ? 1u : 0u)); /* a lower bit too */
	if (byte < 9)
		cdb[9] = 0xFF; /* a later byte is not reported first */
	mirror_findings_init(&f);
	ck_assert_int_eq(mirror_notify_cdb_decode(&lenient, cdb, 10, &n, &f), 0);
	ck_assert_finding(&f, MIRROR_RULE_NOTIFY_RESERVED, byte, bit, 0);
	ck_assert_int_eq(f.item[0].severity, MIRROR_SEV_WARNING);
	mirror_findings_init(&f);
	ck_assert_int_eq(mirror_notify_cdb_decode(&strict, cdb, 10, &n, &f), MIRROR_E_INVALID_CDB);
	ck_assert_finding(&f, MIRROR_RULE_NOTIFY_RESERVED_STRICT, byte, bit, 1);
	ck_assert_uint_eq(f.errors, 1);
}
END_TEST

START_TEST(truncated_and_padded)
{
	struct mirror_profile p = prof("v1-strict");
	uint8_t cdb[16] = { 0x3C };
	struct mirror_notify_cdb n;
	struct mirror_findings f;

	for (size_t len = 0; len < 10; len++) {
		mirror_findings_init(&f);
		ck_assert_int_eq(mirror_notify_cdb_decode(&p, cdb, len, &n, &f), MIRROR_E_TRUNCATED);
		ck_assert_finding(&f, MIRROR_RULE_TRUNCATED, len, 7, 1);
	}
	mirror_findings_init(&f);
	ck_assert_int_eq(mirror_notify_cdb_decode(&p, cdb, 16, &n, &f), 0);
	cdb[12] = 1;
	mirror_findings_init(&f);
	ck_assert_int_eq(mirror_notify_cdb_decode(&p, cdb, 16, &n, &f), 0);
	ck_assert_finding(&f, MIRROR_RULE_CDB_TRAILING, 12, 0, 0);
}
END_TEST

START_TEST(round_trip)
{
	struct mirror_profile p = prof("v1"), strict = prof("v1-strict");
	struct test_rng r;

	test_rng_init(&r, test_seed());
	for (unsigned i = 0; i < 100000; i++) {
		struct mirror_notify_cdb n, back;
		uint8_t a[10], b[10];
		bool zero = (i % 4) == 0;
		n.opcode = 0x3C;
		for (int k = 0; k < 9; k++)
			n.rest[k] = zero ? 0 : (uint8_t)test_rng_next(&r);
		ck_assert_int_eq(mirror_notify_cdb_encode(&p, &n, a, sizeof(a)), 10);
		ck_assert_int_eq(mirror_notify_cdb_decode(&p, a, 10, &back, NULL), 0);
		ck_assert_mem_eq(&back, &n, sizeof(n));
		ck_assert_int_eq(mirror_notify_cdb_encode(&p, &back, b, sizeof(b)), 10);
		ck_assert_mem_eq(a, b, 10);
		bool any = false;
		for (int k = 0; k < 9; k++)
			any |= n.rest[k] != 0;
		ck_assert_int_eq(mirror_notify_cdb_decode(&strict, a, 10, &back, NULL),
				 any ? MIRROR_E_INVALID_CDB : 0);
	}
	uint8_t small[9];
	struct mirror_notify_cdb n = { 0x3C, { 0 } };
	ck_assert_int_eq(mirror_notify_cdb_encode(&p, &n, small, sizeof(small)), MIRROR_E_NOSPACE);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("notify_cdb");
	TCase *t = tcase_create("notify");
	tcase_set_timeout(t, 60);
	tcase_add_test(t, valid_notification);
	tcase_add_loop_test(t, reserved_bytes_pointer, 0, 9 * 8);
	tcase_add_test(t, truncated_and_padded);
	tcase_add_test(t, round_trip);
	suite_add_tcase(s, t);
	return test_run_suite(s);
}
