/* mirror-dissect --report (dissect.h): the timeline is binned as the
 * operations come (series.h), the findings get the time of the operation
 * that raised them; the rest comes from the summary at the end. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mirror/sense.h>

#include "app/report/dissect.h"
#include "app/report/report.h"
#include "app/report/series.h"

#define NPATH 3
/* per path, columns of the series */
enum { C_OPS, C_COMPLETE, C_INTERRUPTS, C_BYTES, C_PER_PATH };

struct mirror_report_dissect {
	struct mirror_report_series tl;
	unsigned seen; /* findings of the summary already placed */
	uint64_t finding_ns[MIRROR_SUMMARY_FINDINGS_MAX];
	uint64_t ops;
};

struct mirror_report_dissect *mirror_report_dissect_new(void)
{
	struct mirror_report_dissect *d = calloc(1, sizeof(*d));

	if (d)
		mirror_report_series_init(&d->tl, NPATH * C_PER_PATH, 1000);
	return d;
}

void mirror_report_dissect_free(struct mirror_report_dissect *d)
{
	free(d);
}

void mirror_report_dissect_add(struct mirror_report_dissect *d, const struct mirror_dissect_op *op,
			       const struct mirror_dissect_summary *s)
{
	unsigned base = (unsigned)op->path * C_PER_PATH;

	if (op->path >= NPATH)
		return;
	d->ops++;
	mirror_report_series_add(&d->tl, op->time_ns, base + C_OPS, 1);
	/* interrupts and bytes per operation over complete ones that ended
	 * GOOD, as the summary counts them (wire-profile.md, "Interrupt
	 * accounting") */
	if (op->complete && (!op->have_status || op->status == MIRROR_STATUS_GOOD)) {
		mirror_report_series_add(&d->tl, op->time_ns, base + C_COMPLETE, 1);
		mirror_report_series_add(&d->tl, op->time_ns, base + C_INTERRUPTS, op->cost.interrupts);
		mirror_report_series_add(&d->tl, op->time_ns, base + C_BYTES, (double)op->cost.total);
	}
	for (; d->seen < s->nfindings && d->seen < MIRROR_SUMMARY_FINDINGS_MAX; d->seen++)
		d->finding_ns[d->seen] = op->time_ns;
}

static double per(double a, double b)
{
	return b > 0 ? a / b : 0;
}

/* "?" (gnuplot's missing value, plot.c) where a bin has no operation */
static void put_ratio(FILE *f, double a, double b)
{
	if (b > 0)
		fprintf(f, " %.6g", a / b);
	else
		fputs(" ?", f);
}

struct axis {
	const char *unit;
	double ns;
};

/* timeline.dat: time, then per path ops/s, interrupts/op, bytes/op. */
static int write_timeline(struct mirror_report *r, const struct mirror_report_series *tl,
			  const struct axis *ax)
{
	FILE *f = mirror_report_data(r, "timeline.dat");

	if (!f)
		return -1;
	for (unsigned i = 0; i < tl->used; i++) {
		const double *v = tl->v[i];
		double w_s = (double)tl->width_ns / 1e9, all = 0;

		fprintf(f, "%.6g", ((double)i + 0.5) * (double)tl->width_ns / ax->ns);
		for (unsigned p = 0; p < NPATH; p++) {
			const double *pv = v + p * C_PER_PATH;

			fprintf(f, " %.6g", pv[C_OPS] / w_s);
			put_ratio(f, pv[C_INTERRUPTS], pv[C_COMPLETE]);
			put_ratio(f, pv[C_BYTES], pv[C_COMPLETE]);
			all += pv[C_OPS];
		}
		fprintf(f, " %.6g\n", all / w_s);
	}
	return fclose(f) ? -1 : 0;
}

/* One "plot" command over the paths with operations: column col of path
 * p is 2 + 3p + col. */
static void plot_paths(char *buf, size_t len, const struct mirror_dissect_summary *s, unsigned col)
{
	size_t n = (size_t)snprintf(buf, len, "plot ");

	for (unsigned p = 0; p < NPATH && n < len; p++) {
		if (!s->path[p].ops)
			continue;
		n += (size_t)snprintf(buf + n, len - n, "%s'timeline.dat' using 1:%u with linespoints lw 2 title '%s'",
				      n > 5 ? ", " : "", 2 + 3 * p + col,
				      mirror_dissect_path_name((enum mirror_dissect_path)p));
	}
}

static void plot_timelines(struct mirror_report *r, const struct mirror_dissect_summary *s,
			   const struct axis *ax)
{
	static const struct {
		const char *caption, *ylabel, *extra;
		unsigned col;
	} plots[] = {
		{ "Operations per second over capture time, per path", "operations/s", "", 0 },
		{ "Interrupts per operation over capture time, per path", "interrupts/op", "set yrange [0:*]", 1 },
		{ "Bytes per operation over capture time, per path", "bytes/op", "set logscale y", 2 },
	};
	char cmd[1024], script[2048];

	for (size_t i = 0; i < sizeof(plots) / sizeof(plots[0]); i++) {
		plot_paths(cmd, sizeof(cmd), s, plots[i].col);
		snprintf(script, sizeof(script), "set xlabel 'capture time (%s)'\nset ylabel '%s'\n%s\n"
			 "set key outside right\n%s\n", ax->unit, plots[i].ylabel, plots[i].extra, cmd);
		mirror_report_plot(r, plots[i].caption, 900, 320, script);
	}
}

static const double quantiles[] = { 0.50, 0.90, 0.99, 0.999 };
#define NQ (sizeof(quantiles) / sizeof(quantiles[0]))

static void plot_latency(struct mirror_report *r, const struct mirror_dissect_summary *s)
{
	FILE *f = mirror_report_data(r, "latency.dat");
	unsigned rows = 0;

	if (!f)
		return;
	fputs("path p50 p90 p99 p99.9\n", f);
	for (unsigned p = 0; p < NPATH; p++) {
		if (!s->path[p].latency_n)
			continue;
		fputs(mirror_dissect_path_name((enum mirror_dissect_path)p), f);
		for (size_t q = 0; q < NQ; q++)
			fprintf(f, " %.1f", mirror_path_summary_latency(&s->path[p], quantiles[q]));
		fputc('\n', f);
		rows++;
	}
	if (fclose(f) || !rows)
		return;
	mirror_report_plot(r, "Latency percentiles per path (command to status)", 900, 320,
			   "set style data histograms\nset style histogram clustered gap 1\n"
			   "set style fill solid 0.8 border -1\nset key autotitle columnhead outside right\n"
			   "set xlabel 'path'\nset ylabel 'latency (us)'\nset yrange [0:*]\n"
			   "plot for [c=2:5] 'latency.dat' using c:xticlabels(1)\n");
}

/* The operations per second of all paths, each finding an impulse at its
 * time on the right axis: errors 2, warnings 1. */
static void plot_findings(struct mirror_report *r, const struct mirror_report_dissect *d,
			  const struct mirror_dissect_summary *s, const struct axis *ax)
{
	FILE *f = mirror_report_data(r, "findings.dat");
	unsigned n = d->seen < s->nfindings ? d->seen : s->nfindings;
	char script[1024];

	if (!f)
		return;
	for (unsigned i = 0; i < n; i++)
		fprintf(f, "%.6g %d\n", (double)(int64_t)(d->finding_ns[i] - d->tl.t0) / ax->ns,
			s->finding[i].error ? 2 : 1);
	if (fclose(f))
		return;
	snprintf(script, sizeof(script),
		 "set xlabel 'capture time (%s)'\nset ylabel 'operations/s (all paths)'\n"
		 "set y2range [0:2.5]\nset y2tics ('warning' 1, 'error' 2)\nset ytics nomirror\n"
		 "set key outside right\n"
		 "plot 'timeline.dat' using 1:11 with linespoints lw 2 lc rgb '#777777' title 'operations/s'%s\n",
		 ax->unit,
		 n ? ", 'findings.dat' using 1:($2==2?$2:1/0) axes x1y2 with impulses lw 3 lc rgb '#cc0000' title 'error',"
		     " '' using 1:($2==1?$2:1/0) axes x1y2 with impulses lw 3 lc rgb '#ee8800' title 'warning'"
		   : "");
	mirror_report_plot(r, n ? "Findings on the capture timeline" : "Findings on the capture timeline (none)",
			   900, 300, script);
}

static void tables(struct mirror_report *r, const struct mirror_report_dissect *d,
		   const struct mirror_dissect_summary *s, const struct mirror_dissect_run_stats *st,
		   const struct axis *ax)
{
	mirror_report_table(r, "Per path (bytes per complete operation)",
			    "path\toperations\tcomplete\tinterrupts/op min\tavg\tmax\tcdb\tmetadata\tdata"
			    "\tiscsi\ttcpip\ttotal\tp50 us\tp99 us");
	for (unsigned p = 0; p < NPATH; p++) {
		const struct mirror_path_summary *ps = &s->path[p];
		double c = (double)ps->complete;

		mirror_report_row(r, "%s\t%llu\t%llu\t%u\t%.2f\t%u\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f",
				  mirror_dissect_path_name((enum mirror_dissect_path)p),
				  (unsigned long long)ps->ops, (unsigned long long)ps->complete,
				  ps->complete ? ps->interrupts_min : 0, per((double)ps->interrupts, c),
				  ps->interrupts_max, per((double)ps->bytes.cdb, c),
				  per((double)ps->bytes.metadata, c), per((double)ps->bytes.data, c),
				  per((double)ps->bytes.transport, c), per((double)ps->bytes.tcpip, c),
				  per((double)ps->bytes.total, c), mirror_path_summary_latency(ps, 0.5),
				  mirror_path_summary_latency(ps, 0.99));
	}
	mirror_report_table(r, "Capture", "packets\tbytes\tiSCSI connections\tgaps\tgap bytes"
			    "\tretransmitted bytes\tdigest errors\tfindings (errors, warnings)");
	mirror_report_row(r, "%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu, %llu",
			  (unsigned long long)st->capture.packets, (unsigned long long)st->capture.bytes,
			  (unsigned long long)st->streams, (unsigned long long)st->tcp.gaps,
			  (unsigned long long)st->tcp.gap_bytes, (unsigned long long)st->tcp.retrans_bytes,
			  (unsigned long long)(st->header_digest_errors + st->data_digest_errors),
			  (unsigned long long)s->errors, (unsigned long long)s->warnings);
	if (!s->nfindings)
		return;
	mirror_report_table(r, "Findings", "time\tpacket\tITT\tseverity\tfinding");
	for (unsigned i = 0; i < s->nfindings; i++) {
		const struct mirror_summary_finding *fi = &s->finding[i];
		double t = i < d->seen ? (double)(int64_t)(d->finding_ns[i] - d->tl.t0) / ax->ns : 0;

		mirror_report_row(r, "%.3f %s\t%llu\t0x%08x\t%s\t%s", t, ax->unit,
				  (unsigned long long)fi->packet, (unsigned)fi->itt,
				  fi->error ? "error" : "warning", fi->text);
	}
	if (s->findings_dropped)
		mirror_report_para(r, "%llu more findings not kept", (unsigned long long)s->findings_dropped);
}

int mirror_report_dissect_write(const struct mirror_report_dissect *d, const char *path,
				const char *prog, const char *capture,
				const struct mirror_dissect_summary *s,
				const struct mirror_dissect_run_stats *st, char *why, size_t why_len)
{
	static struct mirror_report_series tl; /* coarsened copy: large, not on the stack */
	struct mirror_report r;
	struct axis ax;
	char title[512];
	int rc;

	snprintf(title, sizeof(title), "mirror-dissect: %s", capture);
	rc = mirror_report_open(&r, path, prog, title, why, why_len);
	if (rc < 0)
		return rc;
	tl = d->tl;
	/* a few operations per bin at least, or the rates are all 0 or 1/w */
	mirror_report_series_coarsen(&tl, d->ops / 4 < 8 ? 8 : d->ops / 4 > 100 ? 100 : (unsigned)(d->ops / 4));
	ax.unit = mirror_report_time_unit((uint64_t)tl.used * tl.width_ns, &ax.ns);
	mirror_report_para(&r, "%llu mirror operations over %.3f %s of capture, in bins of %.3f %s.",
			   (unsigned long long)d->ops, (double)tl.used * (double)tl.width_ns / ax.ns, ax.unit,
			   (double)tl.width_ns / ax.ns, ax.unit);
	mirror_report_heading(&r, "Summary");
	tables(&r, d, s, st, &ax);
	if (mirror_report_can_plot(&r) && d->ops && write_timeline(&r, &tl, &ax) == 0) {
		mirror_report_heading(&r, "Plots");
		plot_timelines(&r, s, &ax);
		plot_latency(&r, s);
		plot_findings(&r, d, s, &ax);
	} else if (!mirror_report_can_plot(&r)) {
		mirror_report_para(&r, "No plots: gnuplot was not found when this report was written.");
	}
	return mirror_report_close(&r, why, why_len);
}
