/* A time series for the report's plots: values summed into bins of equal
 * width from the first sample on, as many columns as the caller needs (a
 * path's operations, bytes, interrupts...).  The bins double in width,
 * pairs merged, when the run outlasts them, so memory stays fixed however
 * long the capture or the run. */
#ifndef MIRROR_APP_REPORT_SERIES_H
#define MIRROR_APP_REPORT_SERIES_H

#include <stdbool.h>
#include <stdint.h>

#define MIRROR_REPORT_SERIES_BINS 256
#define MIRROR_REPORT_SERIES_COLS 16

struct mirror_report_series {
	uint64_t t0, width_ns; /* start of bin 0, width of a bin */
	bool started;
	unsigned cols, used;   /* used: bins up to the last one with a sample */
	double v[MIRROR_REPORT_SERIES_BINS][MIRROR_REPORT_SERIES_COLS];
};

/* width_ns: the first bin width (it grows as needed). */
void mirror_report_series_init(struct mirror_report_series *s, unsigned cols, uint64_t width_ns);
/* Adds v to column col of the bin of time t_ns (a time before the first
 * sample counts into bin 0). */
void mirror_report_series_add(struct mirror_report_series *s, uint64_t t_ns, unsigned col, double v);
/* Merges neighbouring bins until at most max_bins are used. */
void mirror_report_series_coarsen(struct mirror_report_series *s, unsigned max_bins);
/* A unit for a time axis of span_ns: "s", "ms" or "us", and the
 * nanoseconds in one of it. */
const char *mirror_report_time_unit(uint64_t span_ns, double *ns_per_unit);

#endif
