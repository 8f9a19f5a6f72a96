/* The latency histogram: bucket edges, percentiles against a sorted copy
 * of random values (within the promised 1/64), merge, the empty case. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "base/histogram.h"

#include "testutil.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

START_TEST(buckets_are_monotonic_and_tight)
{
	unsigned prev = 0;

	for (uint64_t us = 0; us < 20000000u; us += 1 + us / 97) {
		unsigned b = mirror_hist_bucket(us);
		ck_assert_uint_ge(b, prev);
		ck_assert_uint_lt(b, MIRROR_HIST_BUCKETS);
		/* the value lies below its bucket's end, within 1/64 of it */
		if (us <= MIRROR_HIST_MAX_US) {
			uint64_t end = mirror_hist_bucket_end(b);
			ck_assert_uint_gt(end, us);
			ck_assert_uint_le(end - us, us / 64 + 1);
		}
		prev = b;
	}
	ck_assert_uint_eq(mirror_hist_bucket(5), 5);
	ck_assert_uint_eq(mirror_hist_bucket_end(127), 128);
	ck_assert_uint_eq(mirror_hist_bucket(128), 128);
	ck_assert_uint_eq(mirror_hist_bucket(129), 128); /* 128..129 share a bucket */
	ck_assert_uint_eq(mirror_hist_bucket(130), 129);
}
END_TEST

START_TEST(percentiles_match_sorted_values)
{
	static struct mirror_hist h;
	enum { N = 20000 };
	static uint64_t v[N];
	struct test_rng rng;
	static const double ps[] = { 1.0, 50.0, 90.0, 99.0, 99.9, 100.0 };

	test_rng_init(&rng, test_seed());
	mirror_hist_init(&h);
	for (unsigned i = 0; i < N; i++) {
		/* a long tail: mostly 50..500 us, some up to 50 ms */
		uint64_t us = test_rng_range(&rng, 0, 99) < 95 ? test_rng_range(&rng, 50, 500)
							       : test_rng_range(&rng, 500, 50000);
		v[i] = us * 1000u + test_rng_range(&rng, 0, 999);
		mirror_hist_add(&h, v[i]);
	}
	qsort(v, N, sizeof(v[0]), cmp_u64);
	ck_assert_uint_eq(h.total, N);
	ck_assert_uint_eq(h.min_ns, v[0]);
	ck_assert_uint_eq(h.max_ns, v[N - 1]);
	for (size_t k = 0; k < sizeof(ps) / sizeof(ps[0]); k++) {
		size_t rank = (size_t)(ps[k] / 100.0 * N + 0.999999);
		double truth = (double)v[rank - 1] / 1000.0;
		double got = mirror_hist_percentile(&h, ps[k]);
		/* never under-stated, over-stated by at most a bucket */
		ck_assert_msg(got >= truth - 1.0 && got <= truth * (1.0 + 1.0 / 64) + 1.0,
			      "p%.1f: %.1f, true %.1f", ps[k], got, truth);
	}
	ck_assert(mirror_hist_percentile(&h, 50.0) < mirror_hist_percentile(&h, 99.0));
}
END_TEST

START_TEST(merge_adds_and_empty_is_zero)
{
	static struct mirror_hist a, b, c;

	mirror_hist_init(&a);
	mirror_hist_init(&b);
	mirror_hist_init(&c);
	ck_assert(mirror_hist_percentile(&a, 50.0) == 0.0);
	ck_assert(mirror_hist_mean_us(&a) == 0.0);
	for (unsigned i = 1; i <= 100; i++)
		mirror_hist_add(&a, i * 1000u);
	for (unsigned i = 101; i <= 200; i++)
		mirror_hist_add(&b, i * 1000u);
	mirror_hist_merge(&c, &a);
	mirror_hist_merge(&c, &b);
	ck_assert_uint_eq(c.total, 200);
	ck_assert_uint_eq(c.min_ns, 1000);
	ck_assert_uint_eq(c.max_ns, 200000);
	ck_assert(mirror_hist_mean_us(&c) > 100.0 && mirror_hist_mean_us(&c) < 101.0);
	double p50 = mirror_hist_percentile(&c, 50.0);
	ck_assert_msg(p50 >= 100.0 && p50 <= 102.0, "p50 %.1f", p50);
	/* out of range */
	ck_assert(mirror_hist_percentile(&c, 0.0) == 0.0);
	ck_assert(mirror_hist_percentile(&c, 101.0) == 0.0);
	/* beyond 10 s: counted as over, clamped */
	mirror_hist_add(&c, UINT64_C(30000000000));
	ck_assert_uint_eq(c.over, 1);
	ck_assert(mirror_hist_percentile(&c, 100.0) <= 30000000.0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("histogram");
	TCase *t = tcase_create("histogram");
	tcase_add_test(t, buckets_are_monotonic_and_tight);
	tcase_add_test(t, percentiles_match_sorted_values);
	tcase_add_test(t, merge_adds_and_empty_is_zero);
	suite_add_tcase(s, t);
	return test_run_suite(s);
}
