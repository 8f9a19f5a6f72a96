/* A latency histogram that keeps every value (no mean-only summaries):
 * log-linear buckets in the manner of HdrHistogram, so a percentile is
 * reported within 1/64 of the true value over 1 us .. 16.7 s with a fixed
 * 10 KiB of counters.  Pure: no I/O, no allocation. */
#ifndef MIRROR_HISTOGRAM_H
#define MIRROR_HISTOGRAM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Values 0..127 us have a bucket each; every power of two above,
 * [2^k, 2^(k+1)), is cut into 64 equal buckets, up to 2^24 us. */
#define MIRROR_HIST_SUB 64u
#define MIRROR_HIST_LINEAR (2u * MIRROR_HIST_SUB)
#define MIRROR_HIST_TOP_BIT 23u
#define MIRROR_HIST_BUCKETS (MIRROR_HIST_LINEAR + (MIRROR_HIST_TOP_BIT - 6u) * MIRROR_HIST_SUB)
/* Larger values are counted at this value, and in over. */
#define MIRROR_HIST_MAX_US 10000000u

struct mirror_hist {
	uint64_t count[MIRROR_HIST_BUCKETS];
	uint64_t total;
	uint64_t over;
	uint64_t min_ns, max_ns;
	double sum_ns;
};

void mirror_hist_init(struct mirror_hist *h);
void mirror_hist_add(struct mirror_hist *h, uint64_t ns);
void mirror_hist_merge(struct mirror_hist *dst, const struct mirror_hist *src);
/* The bucket of a value in microseconds, and the first value past a
 * bucket (what a percentile falling in it is reported as, so that a
 * percentile is never under-stated). */
unsigned mirror_hist_bucket(uint64_t us);
uint64_t mirror_hist_bucket_end(unsigned i);
/* The p-th percentile (0 < p <= 100) in microseconds, capped by the
 * largest value seen; 0 when empty or p is out of range. */
double mirror_hist_percentile(const struct mirror_hist *h, double p);
double mirror_hist_mean_us(const struct mirror_hist *h);

#ifdef __cplusplus
}
#endif
#endif
