/* Binned time series (series.h). */
#include "config.h"

#include <string.h>

#include "app/report/series.h"

void mirror_report_series_init(struct mirror_report_series *s, unsigned cols, uint64_t width_ns)
{
	memset(s, 0, sizeof(*s));
	s->cols = cols < MIRROR_REPORT_SERIES_COLS ? cols : MIRROR_REPORT_SERIES_COLS;
	s->width_ns = width_ns ? width_ns : 1000;
}

/* Each run of factor neighbouring bins into one: the width times factor. */
static void merge(struct mirror_report_series *s, unsigned factor)
{
	unsigned n = 0;

	for (unsigned i = 0; i < s->used; i += factor, n++) {
		double sum[MIRROR_REPORT_SERIES_COLS] = { 0 };

		for (unsigned j = i; j < i + factor && j < s->used; j++)
			for (unsigned c = 0; c < s->cols; c++)
				sum[c] += s->v[j][c];
		memcpy(s->v[n], sum, sizeof(sum));
	}
	for (unsigned i = n; i < s->used; i++)
		memset(s->v[i], 0, sizeof(s->v[i]));
	s->used = n;
	s->width_ns *= factor;
}

void mirror_report_series_add(struct mirror_report_series *s, uint64_t t_ns, unsigned col, double v)
{
	uint64_t i;

	if (col >= s->cols)
		return;
	if (!s->started) {
		s->t0 = t_ns;
		s->started = true;
	}
	i = t_ns > s->t0 ? (t_ns - s->t0) / s->width_ns : 0;
	while (i >= MIRROR_REPORT_SERIES_BINS) {
		s->used = MIRROR_REPORT_SERIES_BINS;
		merge(s, 2);
		i = (t_ns - s->t0) / s->width_ns;
	}
	s->v[i][col] += v;
	if (i + 1 > s->used)
		s->used = (unsigned)i + 1;
}

void mirror_report_series_coarsen(struct mirror_report_series *s, unsigned max_bins)
{
	if (max_bins && s->used > max_bins)
		merge(s, (s->used + max_bins - 1) / max_bins);
}

const char *mirror_report_time_unit(uint64_t span_ns, double *ns_per_unit)
{
	static const struct {
		uint64_t below; /* spans under this many ns */
		const char *unit;
		double ns;
	} units[] = { { 10000000ull, "us", 1e3 }, { 10000000000ull, "ms", 1e6 }, { UINT64_MAX, "s", 1e9 } };
	size_t i = 0;

	while (i + 1 < sizeof(units) / sizeof(units[0]) && span_ns >= units[i].below)
		i++;
	*ns_per_unit = units[i].ns;
	return units[i].unit;
}
