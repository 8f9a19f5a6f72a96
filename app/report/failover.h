/* mirror-failover --report: a campaign as an HTML page (report.h): the
 * summary and per-trial tables, the violations with their counterexamples
 * (and the mirror operations that carried them, with --capture), and
 * plots of the takeover time per trial and its distribution, the
 * survivor's phases of each takeover, and the host's write latency around
 * the faults. */
#ifndef MIRROR_APP_REPORT_FAILOVER_H
#define MIRROR_APP_REPORT_FAILOVER_H

#include <stddef.h>

#include "app/failover/run.h"

/* The window of the latency plot: from this long before the fault ... */
#define MIRROR_REPORT_FO_BEFORE_MS 1000.0
/* ... to the longest takeover plus this, at least */
#define MIRROR_REPORT_FO_AFTER_MS 1000.0

/* Writes the report of r to path (title: the command line's gist).  0, or
 * -errno with the reason in why. */
int mirror_report_failover_write(const struct fo_run_result *r, const char *path, const char *prog,
				 const char *title, char *why, size_t why_len);

#endif
