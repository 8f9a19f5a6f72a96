#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "testutil.h"

uint64_t test_seed(void)
{
	const char *s = getenv("MIRROR_TEST_SEED");
	uint64_t seed = s ? strtoull(s, NULL, 0) : 0x6d6972726f72ull; /* "mirror" */

	fprintf(stderr, "seed 0x%" PRIx64 " (set MIRROR_TEST_SEED to replay)\n", seed);
	return seed;
}

void test_rng_init(struct test_rng *r, uint64_t seed)
{
	r->state = seed;
}

uint64_t test_rng_next(struct test_rng *r)
{
	uint64_t z = (r->state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t test_rng_range(struct test_rng *r, uint64_t lo, uint64_t hi)
{
	uint64_t span = hi - lo + 1;
	return span == 0 ? test_rng_next(r) : lo + test_rng_next(r) % span;
}

int test_run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
