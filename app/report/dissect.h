/* mirror-dissect --report: the capture's timeline per path (operations
 * per second, interrupts and bytes per operation), latency percentiles and
 * the findings on the timeline, as an HTML report (report.h). */
#ifndef MIRROR_APP_REPORT_DISSECT_H
#define MIRROR_APP_REPORT_DISSECT_H

#include <mirror/dissect_run.h>

struct mirror_report_dissect;

struct mirror_report_dissect *mirror_report_dissect_new(void);
void mirror_report_dissect_free(struct mirror_report_dissect *d);
/* One operation, after mirror_dissect_summary_add(s, op): the findings
 * that added are placed on the timeline at the operation's time. */
void mirror_report_dissect_add(struct mirror_report_dissect *d, const struct mirror_dissect_op *op,
			       const struct mirror_dissect_summary *s);
/* Writes the report of capture (its name) to path.  0, or -errno with the
 * reason in why. */
int mirror_report_dissect_write(const struct mirror_report_dissect *d, const char *path,
				const char *prog, const char *capture,
				const struct mirror_dissect_summary *s,
				const struct mirror_dissect_run_stats *st, char *why, size_t why_len);

#endif
