/* Shared helpers of the Check unit tests. */
#ifndef MIRROR_TESTUTIL_H
#define MIRROR_TESTUTIL_H

#include <stdint.h>

#include <check.h>

#include <mirror/mirror.h>

/* Deterministic PRNG (splitmix64): every random test prints its seed and
 * takes MIRROR_TEST_SEED from the environment to replay a failure. */
struct test_rng {
	uint64_t state;
};
uint64_t test_seed(void);
void test_rng_init(struct test_rng *r, uint64_t seed);
uint64_t test_rng_next(struct test_rng *r);
/* Uniform in [lo, hi]. */
uint64_t test_rng_range(struct test_rng *r, uint64_t lo, uint64_t hi);

/* Runs the suite (CK_NORMAL), returns the process exit status. */
int test_run_suite(Suite *s);

/* Asserts that f holds a finding of rule r at byte/bit, and that it is
 * the first error (what a receiver would report) when first is set. */
#define ck_assert_finding(f, r, byte_, bit_, first)                                      \
	do {                                                                              \
		const struct mirror_finding *x_ = mirror_findings_find((f), (r));        \
		ck_assert_msg(x_ != NULL, "rule %s not reported",                        \
			      mirror_rule_info(r)->id);                                      \
		ck_assert_uint_eq(x_->byte, (byte_));                                    \
		ck_assert_uint_eq(x_->bit, (bit_));                                      \
		if (first)                                                               \
			ck_assert_ptr_eq(mirror_findings_first_error(f), x_);            \
	} while (0)

#endif
