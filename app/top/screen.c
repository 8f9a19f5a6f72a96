/* mirror-top's screen as lines of text: the same lines for the batch mode
 * and the ncurses view, cut to the terminal's width and height. */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "app/top/top.h"

static const char *const path_names[MIRROR_TOP_PATHS] = { "small", "large" };
#define SPARK_LABEL 13 /* "small ops/s  " */
#define FIXED_TAIL 2   /* totals and keys */

struct out {
	struct mirror_top_line *lines;
	unsigned n, max;
	unsigned width;
};

/* Cuts s at width cells (a UTF-8 sequence is one cell). */
static void cut(char *s, unsigned width)
{
	unsigned cells = 0;

	if (!width)
		return;
	for (char *p = s; *p; p++) {
		if (((unsigned char)*p & 0xC0) == 0x80)
			continue;
		if (cells == width) {
			*p = '\0';
			return;
		}
		cells++;
	}
}

__attribute__((format(printf, 3, 4)))
static void line(struct out *o, enum mirror_top_line_kind kind, const char *fmt, ...)
{
	va_list ap;

	if (o->n == o->max)
		return;
	struct mirror_top_line *l = &o->lines[o->n++];
	l->kind = kind;
	va_start(ap, fmt);
	vsnprintf(l->text, sizeof(l->text), fmt, ap);
	va_end(ap);
	cut(l->text, o->width);
}

static void fmt_us(char *buf, size_t len, double us)
{
	if (us < 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.0f", us);
}

/* The paths in display order. */
static void order(const struct mirror_top_model *m, unsigned idx[MIRROR_TOP_PATHS])
{
	struct mirror_top_row a, b;

	idx[0] = 0;
	idx[1] = 1;
	if (m->sort != MIRROR_TOP_SORT_OPS)
		return;
	mirror_top_row(m, 0, &a);
	mirror_top_row(m, 1, &b);
	if (b.ops_s > a.ops_s) {
		idx[0] = 1;
		idx[1] = 0;
	}
}

static void paths_view(const struct mirror_top_model *m, struct out *o)
{
	unsigned idx[MIRROR_TOP_PATHS];

	order(m, idx);
	line(o, MIRROR_TOP_LINE_HEADER, "%-6s %10s %9s %8s %7s %8s %8s %8s %7s", "path", "ops",
	     "ops/s", "MB/s", "int/op", "B/op", "p50 us", "p99 us", "errors");
	for (unsigned k = 0; k < MIRROR_TOP_PATHS; k++) {
		struct mirror_top_row r;
		char p50[16], p99[16];
		mirror_top_row(m, idx[k], &r);
		fmt_us(p50, sizeof(p50), r.p50_us);
		fmt_us(p99, sizeof(p99), r.p99_us);
		line(o, MIRROR_TOP_LINE_ROW, "%-6s %10" PRIu64 " %9.1f %8.2f %7.2f %8.0f %8s %8s %7" PRIu64,
		     path_names[idx[k]], r.ops, r.ops_s, r.mb_s, r.interrupts_per_op,
		     r.total - r.data, p50, p99, r.errors);
	}
}

static void bytes_view(const struct mirror_top_model *m, struct out *o)
{
	unsigned idx[MIRROR_TOP_PATHS];

	order(m, idx);
	line(o, MIRROR_TOP_LINE_HEADER, "%-6s %6s %9s %9s %7s %7s %9s  (bytes per op)", "path",
	     "cdb", "metadata", "data", "iscsi", "tcpip", "total");
	for (unsigned k = 0; k < MIRROR_TOP_PATHS; k++) {
		struct mirror_top_row r;
		mirror_top_row(m, idx[k], &r);
		line(o, MIRROR_TOP_LINE_ROW, "%-6s %6.0f %9.0f %9.0f %7.0f %7.0f %9.0f",
		     path_names[idx[k]], r.cdb, r.metadata, r.data, r.iscsi, r.tcpip, r.total);
	}
}

static void spark(const struct mirror_top_model *m, struct out *o, unsigned path, unsigned metric,
		  const struct mirror_top_screen_opts *so)
{
	char s[MIRROR_TOP_HISTORY * 4 + 1];
	unsigned w = MIRROR_TOP_HISTORY;

	/* the label, the line and " max 12345.6" must fit */
	if (so->width && so->width < SPARK_LABEL + 14 + w)
		w = so->width > SPARK_LABEL + 14 + 10 ? so->width - SPARK_LABEL - 14 : 10;
	double max = mirror_top_sparkline(m, path, metric, w, so->ascii, s, sizeof(s));
	line(o, MIRROR_TOP_LINE_SPARK, "%-5s %-6s |%s| max %.1f", path_names[path],
	     metric ? "MB/s" : "ops/s", s, max);
}

static void help_lines(struct out *o)
{
	static const char *const text[] = {
		"keys",
		"  q   quit (the terminal is restored)",
		"  p   pause / resume the display (a replay pauses too)",
		"  r   reset: totals, history and findings start again",
		"  s   sort the paths: in path order / by ops/s",
		"  v   next view: paths, bytes per op, 60 s history",
		"  ?   this help (any key returns)",
		"",
		"columns",
		"  int/op  receiver interrupts per op; B/op  bytes per op but the user data",
		"  savings: what the small ops spared the receiver against the large path",
	};
	for (size_t i = 0; i < sizeof(text) / sizeof(text[0]); i++)
		line(o, i == 0 || i == 8 ? MIRROR_TOP_LINE_HEADER : MIRROR_TOP_LINE_TEXT, "%s",
		     text[i]);
}

void mirror_top_totals_line(const struct mirror_top_model *m, char *buf, size_t len)
{
	struct mirror_top_row s, l;

	mirror_top_row(m, 0, &s);
	mirror_top_row(m, 1, &l);
	uint64_t other = m->cur.other_ops >= m->base.other_ops ? m->cur.other_ops - m->base.other_ops
							      : 0;
	uint64_t ints = (m->cur.path[0].interrupts - m->base.path[0].interrupts) +
			(m->cur.path[1].interrupts - m->base.path[1].interrupts);
	snprintf(buf, len, "totals: ops=%" PRIu64 " small=%" PRIu64 " large=%" PRIu64 " other=%" PRIu64
		 " errors=%" PRIu64 " interrupts=%" PRIu64, s.ops + l.ops, s.ops, l.ops, other,
		 s.errors + l.errors, ints);
}

unsigned mirror_top_screen(const struct mirror_top_model *m, const struct mirror_top_screen_opts *so,
			   struct mirror_top_line *lines, unsigned max)
{
	struct out o = { lines, 0, max, so->width };
	static const char *const views[] = { "paths", "bytes", "history" };
	char buf[MIRROR_TOP_LINE_BYTES];

	/* room for all but the bottom two lines */
	if (so->height && so->height < o.max)
		o.max = so->height;
	unsigned body_max = o.max > FIXED_TAIL ? o.max - FIXED_TAIL : o.max;
	o.max = body_max;

	line(&o, MIRROR_TOP_LINE_TITLE, "mirror-top  %s  %.0f s  view %s  [%s]",
	     so->source ? so->source : "", (double)(m->cur_ms - m->start_ms) / 1000.0,
	     views[m->view < MIRROR_TOP_VIEWS ? m->view : 0], so->state ? so->state : "running");
	if (so->help) {
		help_lines(&o);
	} else if (m->view == MIRROR_TOP_VIEW_BYTES) {
		bytes_view(m, &o);
	} else if (m->view == MIRROR_TOP_VIEW_HISTORY) {
		for (unsigned metric = 0; metric < 2; metric++)
			for (unsigned p = 0; p < MIRROR_TOP_PATHS; p++)
				spark(m, &o, p, metric, so);
	} else {
		paths_view(m, &o);
	}
	if (!so->help) {
		struct mirror_top_savings sv;
		if (mirror_top_savings(m, &sv))
			line(&o, MIRROR_TOP_LINE_TEXT,
			     "savings vs all-large: %s%.2f int/op, %s%.0f B/op over %" PRIu64
			     " small ops", sv.lower_bound ? ">=" : "", sv.interrupts_per_op,
			     sv.lower_bound ? ">=" : "", sv.bytes_per_op, sv.small_ops);
		else
			line(&o, MIRROR_TOP_LINE_TEXT, "savings vs all-large: - (no small ops to compare)");
		size_t at = (size_t)snprintf(buf, sizeof(buf), "errors by sense:");
		unsigned shown = 0;
		for (unsigned i = 0; i < m->cur.nsense && at < sizeof(buf); i++) {
			uint64_t before = 0;
			for (unsigned k = 0; k < m->base.nsense; k++)
				if (strcmp(m->base.sense[k].name, m->cur.sense[i].name) == 0)
					before = m->base.sense[k].n;
			if (m->cur.sense[i].n <= before)
				continue;
			at += (size_t)snprintf(buf + at, sizeof(buf) - at, "%s %s %" PRIu64,
					       shown++ ? "," : "", m->cur.sense[i].name,
					       m->cur.sense[i].n - before);
		}
		line(&o, MIRROR_TOP_LINE_TEXT, "%s%s", buf, shown ? "" : " none");
		line(&o, MIRROR_TOP_LINE_TEXT,
		     "sequence gaps %" PRIu64 ", repeats %" PRIu64 "; findings %" PRIu64,
		     m->cur.seq_gaps - (m->cur.seq_gaps >= m->base.seq_gaps ? m->base.seq_gaps : 0),
		     m->cur.seq_repeats -
			     (m->cur.seq_repeats >= m->base.seq_repeats ? m->base.seq_repeats : 0),
		     m->findings_seen);
		if (m->view == MIRROR_TOP_VIEW_PATHS)
			for (unsigned p = 0; p < MIRROR_TOP_PATHS; p++)
				spark(m, &o, p, 0, so);
		if (m->nfindings && o.n + 1 < o.max) {
			line(&o, MIRROR_TOP_LINE_HEADER, "latest findings");
			for (unsigned i = 0; i < m->nfindings; i++)
				line(&o, MIRROR_TOP_LINE_FINDING, "  %s", m->findings[i]);
		}
	}
	o.max = max; /* the tail always has its room */
	if (so->height && so->height < o.max)
		o.max = so->height;
	mirror_top_totals_line(m, buf, sizeof(buf));
	line(&o, MIRROR_TOP_LINE_TEXT, "%s", buf);
	line(&o, MIRROR_TOP_LINE_KEYS, "q quit  p pause  r reset  s sort  v view  ? help");
	return o.n;
}

void mirror_top_print_lines(FILE *out, const struct mirror_top_line *lines, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		fputs(lines[i].text, out);
		fputc('\n', out);
	}
	fputc('\n', out);
	fflush(out);
}
