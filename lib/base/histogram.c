/* The log-linear latency histogram (include/mirror/histogram.h). */
#include "config.h"

#include <string.h>

#include "base/histogram.h"

void mirror_hist_init(struct mirror_hist *h)
{
	memset(h, 0, sizeof(*h));
}

static unsigned top_bit(uint64_t v)
{
	unsigned n = 0;

	while (v >>= 1)
		n++;
	return n;
}

unsigned mirror_hist_bucket(uint64_t us)
{
	if (us > MIRROR_HIST_MAX_US)
		us = MIRROR_HIST_MAX_US;
	if (us < MIRROR_HIST_LINEAR)
		return (unsigned)us;
	/* [2^k, 2^(k+1)) for k >= 7: 64 buckets of 2^(k-6) each */
	unsigned shift = top_bit(us) - 6u;
	return MIRROR_HIST_LINEAR + (shift - 1u) * MIRROR_HIST_SUB +
	       (unsigned)((us >> shift) - MIRROR_HIST_SUB);
}

uint64_t mirror_hist_bucket_end(unsigned i)
{
	if (i < MIRROR_HIST_LINEAR)
		return (uint64_t)i + 1u;
	unsigned shift = (i - MIRROR_HIST_LINEAR) / MIRROR_HIST_SUB + 1u;
	uint64_t sub = (i - MIRROR_HIST_LINEAR) % MIRROR_HIST_SUB + MIRROR_HIST_SUB;
	return (sub + 1u) << shift;
}

void mirror_hist_add(struct mirror_hist *h, uint64_t ns)
{
	uint64_t us = ns / 1000u;

	if (us > MIRROR_HIST_MAX_US)
		h->over++;
	h->count[mirror_hist_bucket(us)]++;
	if (!h->total || ns < h->min_ns)
		h->min_ns = ns;
	if (ns > h->max_ns)
		h->max_ns = ns;
	h->total++;
	h->sum_ns += (double)ns;
}

void mirror_hist_merge(struct mirror_hist *dst, const struct mirror_hist *src)
{
	if (!src->total)
		return;
	for (unsigned i = 0; i < MIRROR_HIST_BUCKETS; i++)
		dst->count[i] += src->count[i];
	if (!dst->total || src->min_ns < dst->min_ns)
		dst->min_ns = src->min_ns;
	if (src->max_ns > dst->max_ns)
		dst->max_ns = src->max_ns;
	dst->total += src->total;
	dst->over += src->over;
	dst->sum_ns += src->sum_ns;
}

double mirror_hist_percentile(const struct mirror_hist *h, double p)
{
	if (!h->total || !(p > 0.0) || p > 100.0)
		return 0.0;
	/* the rank of the value: ceil(p% of total), at least 1 */
	double want = p / 100.0 * (double)h->total;
	uint64_t rank = (uint64_t)want;
	if ((double)rank < want)
		rank++;
	if (rank < 1)
		rank = 1;
	double max_us = (double)h->max_ns / 1000.0;
	uint64_t seen = 0;
	for (unsigned i = 0; i < MIRROR_HIST_BUCKETS; i++) {
		seen += h->count[i];
		if (seen >= rank) {
			double v = (double)mirror_hist_bucket_end(i);
			return v < max_us ? v : max_us;
		}
	}
	return max_us;
}

double mirror_hist_mean_us(const struct mirror_hist *h)
{
	return h->total ? h->sum_ns / (double)h->total / 1000.0 : 0.0;
}
