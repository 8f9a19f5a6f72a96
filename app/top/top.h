/* mirror-top's model: what the mirror link costs, per path, as a live
 * view shows it.  Sources (mirror-emu's counters, a capture decoded by
 * mirror_dissect_run) give cumulative counters; the model keeps the
 * latest two readings for rates, a 60-second history for sparklines, the
 * latest findings, and renders the screen as lines of text that the
 * batch mode prints and the ncurses view draws.  Pure: no I/O but the
 * stream a renderer is given. */
#ifndef MIRROR_TOP_H
#define MIRROR_TOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <mirror/dissect_run.h>
#include "base/histogram.h"

#ifdef __cplusplus
extern "C" {
#endif

struct mirror_stats;

#define MIRROR_TOP_PATHS 2        /* small, large (enum mirror_path) */
#define MIRROR_TOP_HISTORY 60     /* seconds of sparkline */
#define MIRROR_TOP_SENSE_MAX 8
#define MIRROR_TOP_FINDINGS_MAX 8

/* Cumulative counters, as a source reads them. */
struct mirror_top_path_counters {
	uint64_t ops, errors;
	uint64_t complete;   /* ops whose every PDU was seen: the costs are theirs */
	uint64_t interrupts;
	uint64_t cdb, metadata, data, iscsi, tcpip, total; /* bytes */
};

struct mirror_top_counters {
	struct mirror_top_path_counters path[MIRROR_TOP_PATHS];
	uint64_t other_ops;
	uint64_t seq_gaps, seq_repeats;
	unsigned nsense;
	struct {
		char name[48]; /* "ILLEGAL REQUEST 24h/00h", or a sense key's name */
		uint64_t n;
	} sense[MIRROR_TOP_SENSE_MAX];
	/* latency: a capture has it, mirror-emu's counters do not */
	bool have_latency;
	double p50_us[MIRROR_TOP_PATHS], p99_us[MIRROR_TOP_PATHS];
	/* what the small ops would have cost on the large path (a capture's
	 * decoder knows, wire-profile.md "Byte accounting") */
	bool have_counterfactual;
	uint64_t cf_ops, cf_interrupts_saved, cf_bytes_saved;
	/* the capture's findings, cumulative; the latest few */
	uint64_t findings;
	unsigned nlatest;
	char latest[MIRROR_TOP_FINDINGS_MAX][200];
};

/* One second of history. */
struct mirror_top_sample {
	double ops_s[MIRROR_TOP_PATHS];
	double mb_s[MIRROR_TOP_PATHS];
};

enum mirror_top_view { MIRROR_TOP_VIEW_PATHS = 0, MIRROR_TOP_VIEW_BYTES, MIRROR_TOP_VIEW_HISTORY,
		       MIRROR_TOP_VIEWS };
enum mirror_top_sort { MIRROR_TOP_SORT_PATH = 0, MIRROR_TOP_SORT_OPS, MIRROR_TOP_SORTS };

struct mirror_top_model {
	struct mirror_top_counters base;  /* at the last reset */
	struct mirror_top_counters cur;   /* the latest reading */
	struct mirror_top_counters prev;  /* the one before */
	uint64_t cur_ms, prev_ms, start_ms;
	unsigned readings;
	/* per-second history, oldest first once full */
	struct mirror_top_sample hist[MIRROR_TOP_HISTORY];
	unsigned hist_n, hist_head;
	struct mirror_top_counters hist_last; /* reading at the last history point */
	uint64_t hist_last_ms;
	/* findings the model noticed or the source gave, latest first */
	unsigned nfindings;
	uint64_t findings_seen; /* since the reset, shown or not */
	char findings[MIRROR_TOP_FINDINGS_MAX][200];
	bool paused;
	enum mirror_top_view view;
	enum mirror_top_sort sort;
};

void mirror_top_init(struct mirror_top_model *m);
/* A new reading at now_ms (monotonic).  Readings that go backwards (a
 * restarted emulator) start the model over from that reading. */
void mirror_top_update(struct mirror_top_model *m, uint64_t now_ms,
		       const struct mirror_top_counters *c);
/* Counts from now on: totals, history and findings start again. */
void mirror_top_reset(struct mirror_top_model *m);
void mirror_top_add_finding(struct mirror_top_model *m, const char *text);

/* What one path's row shows. */
struct mirror_top_row {
	uint64_t ops, errors;       /* since the reset */
	double ops_s, mb_s;         /* over the latest interval */
	double interrupts_per_op;   /* since the reset; 0 without ops */
	double cdb, metadata, data, iscsi, tcpip, total; /* bytes per op */
	double p50_us, p99_us;      /* < 0: unknown */
};
void mirror_top_row(const struct mirror_top_model *m, unsigned path, struct mirror_top_row *r);

/* Savings of the small path against all-large since the reset: from the
 * capture's counterfactual (what each small op would have cost on the
 * large path) when there is one; else, from mirror-emu's counters, a lower
 * bound per small op: the large path's 4 interrupts at least (source Fig.
 * 5) and its 1024-byte metadata and 10-byte CDB instead of the small CDB
 * (false when there are no small ops). */
struct mirror_top_savings {
	uint64_t small_ops;
	bool lower_bound;
	double interrupts, bytes; /* in all */
	double interrupts_per_op, bytes_per_op;
};
bool mirror_top_savings(const struct mirror_top_model *m, struct mirror_top_savings *s);

/* The sparkline of a path's ops/s (metric 0) or MB/s (1) over the history,
 * width cells wide (the latest at the right), in UTF-8 block elements or,
 * with ascii, in " .:-=+*#"; and the largest value it scales to. */
double mirror_top_sparkline(const struct mirror_top_model *m, unsigned path, unsigned metric,
			    unsigned width, bool ascii, char *out, size_t cap);

/* ---- rendering ---- */

enum mirror_top_line_kind { MIRROR_TOP_LINE_TITLE = 0, MIRROR_TOP_LINE_HEADER,
			    MIRROR_TOP_LINE_ROW, MIRROR_TOP_LINE_TEXT, MIRROR_TOP_LINE_SPARK,
			    MIRROR_TOP_LINE_FINDING, MIRROR_TOP_LINE_KEYS };
#define MIRROR_TOP_LINE_BYTES 640
struct mirror_top_line {
	enum mirror_top_line_kind kind;
	char text[MIRROR_TOP_LINE_BYTES];
};
struct mirror_top_screen_opts {
	const char *source;  /* "emu /run/x.sock", "replay f.pcap x2", ... */
	const char *state;   /* "running", "paused", "replay done", ... */
	unsigned width;      /* columns; lines are cut to fit (cells, not bytes) */
	unsigned height;     /* rows available; findings are cut first */
	bool ascii;          /* no UTF-8 sparklines */
	bool help;           /* the key help instead of the view */
};
/* Fills up to max lines; returns how many. */
unsigned mirror_top_screen(const struct mirror_top_model *m, const struct mirror_top_screen_opts *o,
			   struct mirror_top_line *lines, unsigned max);
/* A batch snapshot: the lines, then an empty line, flushed. */
void mirror_top_print_lines(FILE *out, const struct mirror_top_line *lines, unsigned n);
/* The last line of every batch snapshot, for scripts:
 * "totals: ops=N small=N large=N other=N errors=N interrupts=N". */
void mirror_top_totals_line(const struct mirror_top_model *m, char *buf, size_t len);

/* ---- sources ---- */

/* mirror-emu's counters (mirror_stats_read). */
void mirror_top_from_stats(const struct mirror_stats *s, struct mirror_top_counters *c);

/* A capture: operations from mirror_dissect_run added one by one. */
struct mirror_top_capture {
	struct mirror_dissect_summary sum;
	unsigned nsense;
	struct {
		uint8_t key, asc, ascq;
		uint64_t n;
	} sense[MIRROR_TOP_SENSE_MAX];
	uint64_t errors[MIRROR_TOP_PATHS];    /* ops that did not end GOOD */
	uint64_t first_time_ns, last_time_ns; /* capture time of the first and latest op */
	bool have_time;
};
void mirror_top_capture_init(struct mirror_top_capture *cap, const struct mirror_profile *p);
void mirror_top_capture_add(struct mirror_top_capture *cap, const struct mirror_dissect_op *op);
void mirror_top_from_capture(const struct mirror_top_capture *cap, struct mirror_top_counters *c);

#ifdef __cplusplus
}
#endif
#endif
