/* mirror-load --report: ops/s and MB/s over the run per path (sampled from
 * the engine's progress calls), latency percentiles per path, the
 * receiver's interrupts and bytes per operation per path; with --path ab
 * both runs on the same axes (report.h). */
#ifndef MIRROR_APP_REPORT_LOAD_H
#define MIRROR_APP_REPORT_LOAD_H

#include "app/load/load.h"

struct mirror_report_load;

struct mirror_report_load *mirror_report_load_new(void);
void mirror_report_load_free(struct mirror_report_load *l);

/* Put between the engine and the command's own progress callback: the
 * engine calls mirror_report_load_progress(tap, r) often (progress_ms
 * MIRROR_REPORT_LOAD_TICK_MS), the report samples run's counts, and next
 * (when set) is called about once a second as before. */
#define MIRROR_REPORT_LOAD_TICK_MS 100u
struct mirror_report_load_tap {
	struct mirror_report_load *l;
	unsigned run; /* 0, or 1 for b of --path ab */
	void (*next)(void *ctx, const struct mirror_load_result *r);
	void *next_ctx;
	uint64_t next_at_ns;
};
void mirror_report_load_progress(void *tap, const struct mirror_load_result *r);

/* Writes the report of nruns (1 or 2) runs to path; d: the a/b difference
 * when nruns is 2.  0, or -errno with the reason in why. */
int mirror_report_load_write(struct mirror_report_load *l, const char *path, const char *prog,
			     const char *title, const struct mirror_load_report *rep, unsigned nruns,
			     const struct mirror_load_ab_diff *d, char *why, size_t why_len);

#endif
