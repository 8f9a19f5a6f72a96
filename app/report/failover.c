/* mirror-failover --report (failover.h).  The tables say what the text and
 * JSON summaries say; the plots answer how long each takeover took, how
 * the times spread, where the survivor spent them, and what the host's
 * writes saw around each fault. */
#include "config.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/report/failover.h"
#include "app/report/report.h"

#define LATENCY_BINS 120u
#define ERROR_POINTS_MAX 5000u

static const char *ms(double v, char *buf, size_t len)
{
	if (v < 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.1f", v);
	return buf;
}

/* Closes both data files (either may be NULL); non-zero if a write failed. */
static int close_pair(FILE *a, FILE *b)
{
	int rc = 0;

	if (a)
		rc |= fclose(a);
	if (b)
		rc |= fclose(b);
	return rc;
}

/* When w was sent, in ms since its trial's fault; false without a fault. */
static bool since_fault_ms(const struct fo_run_result *res, const struct fo_write *w, double *x)
{
	uint64_t fault;

	if (w->trial < 1 || w->trial > res->n || !(fault = res->t[w->trial - 1].fault_at_us))
		return false;
	*x = ((double)w->t_invoke_us - (double)fault) / 1000.0;
	return true;
}

/* gnuplot's missing value for a time a trial does not have */
static void put_ms(FILE *f, double v)
{
	if (v < 0)
		fputs(" ?", f);
	else
		fprintf(f, " %.3f", v);
}

static void summary_tables(struct mirror_report *r, const struct fo_run_result *res,
			   const struct fo_summary *s)
{
	static const char *const phase[4] = { "detected", "fenced", "replayed", "active" };

	mirror_report_table(r, "Campaign",
			    "trials\tacknowledged writes\tchecked\tindeterminate\tfailed\tviolations"
			    "\tlost\tstale\ttorn\tmisdirected\tphantom\tverdict");
	mirror_report_row(r, "%u\t%" PRIu64 "\t%.1f%%\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64
			  "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%s",
			  s->trials, s->acked, s->checked_pct, s->indeterminate, s->failed, s->violations,
			  s->counts[FO_V_LOST], s->counts[FO_V_STALE], s->counts[FO_V_TORN],
			  s->counts[FO_V_MISDIRECTED], s->counts[FO_V_PHANTOM],
			  s->violations ? "fail" : "pass");
	if (!s->takeovers) {
		mirror_report_para(r, "No takeover was measured%s.",
				   res->n == 1 && !res->t[0].fault_at_us ? " (no fault in this run)" : "");
		return;
	}
	mirror_report_table(r, "Takeover (ms from the fault)", "measure\ttrials\tp50\tp99\tmax");
	mirror_report_row(r, "takeover: the fault to the first write acknowledged after it\t%u\t%.1f\t%.1f\t%.1f",
			  s->takeovers, s->takeover_p50, s->takeover_p99, s->takeover_max);
	if (s->stalls)
		mirror_report_row(r, "host stall: the last acknowledgement before the fault to the first after"
				  "\t%u\t%.1f\t%.1f\t%.1f",
				  s->stalls, s->stall_p50, s->stall_p99, s->stall_max);
	for (unsigned k = 0; s->phased && k < 4; k++)
		mirror_report_row(r, "survivor: %s\t%u\t%.0f\t%.0f\t%.0f", phase[k], s->phased,
				  s->phase[k][0], s->phase[k][1], s->phase[k][2]);
}

static void trial_table(struct mirror_report *r, const struct fo_run_result *res)
{
	char a[16], b[16], c[16], d[16], e[16], f[16];

	mirror_report_table(r, "Trials", "trial\tfault\tverdict\tacked\tfailed\tindeterminate\tviolations"
			    "\ttakeover ms\tstall ms\tsurvivor\tdetected\tfenced\treplayed\tactive\tnote");
	for (unsigned i = 0; i < res->n; i++) {
		const struct fo_trial_result *t = &res->t[i];
		const struct fo_phases *p = &t->phases;

		mirror_report_row(r, "%u\t%s\t%s\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64
				  "\t%s\t%s\t%c\t%s\t%s\t%s\t%s\t%s",
				  t->trial, t->fault[0] ? t->fault : "none", t->violations ? "fail" : "pass",
				  t->acked, t->failed, t->indeterminate, t->violations,
				  ms(t->takeover_ms, a, sizeof(a)), ms(t->stall_ms, b, sizeof(b)),
				  p->have ? p->by : '-', ms(p->have ? p->detected_ms : -1, c, sizeof(c)),
				  ms(p->have ? p->fenced_ms : -1, d, sizeof(d)),
				  ms(p->have ? p->replayed_ms : -1, e, sizeof(e)),
				  ms(p->have ? p->active_ms : -1, f, sizeof(f)), t->note);
	}
}

static void violation_table(struct mirror_report *r, const struct fo_run_result *res)
{
	char want[192], seen[192], mirrored[240];

	if (!res->have_check || !res->last.nfindings)
		return;
	mirror_report_table(r, "Violations (counterexamples)",
			    "class\tLUN\tLBA\texpected generation\tsaw generation\twhy\texpected write"
			    "\twrite seen\tmirrored");
	for (unsigned i = 0; i < res->last.nfindings; i++) {
		const struct fo_finding *x = &res->last.finding[i];

		fo_write_timeline(res, x->expect_id, want, sizeof(want));
		fo_write_timeline(res, x->seen_id, seen, sizeof(seen));
		if (!res->have_carriers) {
			snprintf(mirrored, sizeof(mirrored), "(no --capture)");
		} else if (!res->carriers[i].total) {
			snprintf(mirrored, sizeof(mirrored), "no operation of the capture carried it");
		} else {
			char k[160];
			const struct fo_carriers *c = &res->carriers[i];

			fo_carrier_text(&c->op[c->n - 1], k, sizeof(k));
			snprintf(mirrored, sizeof(mirrored), "%" PRIu64 " operation%s; the latest: %s",
				 c->total, c->total == 1 ? "" : "s", k);
		}
		mirror_report_row(r, "%s\t%u\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%s\t%s\t%s\t%s",
				  fo_verdict_name(x->v), x->lun, x->lba, x->expect_gen, x->seen_gen, x->detail,
				  want, seen, mirrored);
	}
	if (res->last.violations > res->last.nfindings)
		mirror_report_para(r, "%" PRIu64 " more violations not shown.",
				   res->last.violations - res->last.nfindings);
}

/* trials.dat: trial, takeover, stall, detected, fenced, replayed, active;
 * takeover.dat: the takeovers alone (for the histogram). */
static int write_trials(struct mirror_report *r, const struct fo_run_result *res)
{
	FILE *f = mirror_report_data(r, "trials.dat");
	FILE *g = mirror_report_data(r, "takeover.dat");

	if (!f || !g) {
		close_pair(f, g);
		return -1;
	}
	for (unsigned i = 0; i < res->n; i++) {
		const struct fo_trial_result *t = &res->t[i];
		const struct fo_phases *p = &t->phases;

		fprintf(f, "%u", t->trial);
		put_ms(f, t->takeover_ms);
		put_ms(f, t->stall_ms);
		put_ms(f, p->have ? p->detected_ms : -1);
		put_ms(f, p->have ? p->fenced_ms : -1);
		put_ms(f, p->have ? p->replayed_ms : -1);
		put_ms(f, p->have ? p->active_ms : -1);
		fputc('\n', f);
		if (t->takeover_ms >= 0)
			fprintf(g, "%.3f\n", t->takeover_ms);
	}
	return close_pair(f, g) ? -1 : 0;
}

static void plot_per_trial(struct mirror_report *r, const struct fo_run_result *res,
			   const struct fo_summary *s)
{
	char script[2048];

	snprintf(script, sizeof(script),
		 "set xlabel 'trial'\nset ylabel 'ms'\nset xrange [0.5:%u.5]\nset yrange [0:*]\n"
		 "set key outside right\n%s"
		 "plot 'trials.dat' using 1:2 with %s lc rgb '#1f77b4' title 'takeover',"
		 " '' using 1:3 with points pt 6 ps 0.6 lc rgb '#888888' title 'host stall',"
		 " %.3f with lines dt 2 lw 2 lc rgb '#2ca02c' title 'p50 %.1f ms',"
		 " %.3f with lines dt 3 lw 2 lc rgb '#ff7f0e' title 'p99 %.1f ms',"
		 " %.3f with lines dt 4 lw 2 lc rgb '#d62728' title 'max %.1f ms'\n",
		 res->n, res->n <= 20 ? "set xtics 1\n" : "set format x '%.0f'\n",
		 /* a line through hundreds of trials hides them */
		 res->n <= 50 ? "linespoints pt 7 ps 0.6" : "points pt 7 ps 0.4", s->takeover_p50,
		 s->takeover_p50, s->takeover_p99, s->takeover_p99,
		 s->takeover_max, s->takeover_max);
	mirror_report_plot(r, "Takeover time per trial (the fault to the first write acknowledged after it)",
			   900, 360, script);
}

static void plot_distribution(struct mirror_report *r, const struct fo_summary *s)
{
	char script[2048];
	double w = s->takeover_max / 25.0;
	const double mark[3] = { s->takeover_p50, s->takeover_p99, s->takeover_max };
	static const char *const name[3] = { "p50", "p99", "max" };
	static const char *const colour[3] = { "#2ca02c", "#ff7f0e", "#d62728" };
	size_t n;

	if (w < 0.1)
		w = 0.1;
	n = (size_t)snprintf(script, sizeof(script),
			     "w = %.4f\nbin(x) = w * floor(x / w) + w / 2\nset boxwidth w * 0.9\n"
			     "set style fill solid 0.6 noborder\nset xlabel 'takeover (ms)'\n"
			     "set ylabel 'trials'\nset xrange [0:%.3f]\nset yrange [0:*]\nset key off\n"
			     "%s",
			     w, s->takeover_max + 2 * w, s->takeovers <= 10 ? "set ytics 1\n" : "set format y '%.0f'\n");
	for (unsigned k = 0; k < 3 && n < sizeof(script); k++)
		n += (size_t)snprintf(script + n, sizeof(script) - n,
				      "set arrow %u from %.3f, graph 0 to %.3f, graph 1 nohead dt %u lw 2 lc rgb '%s'\n"
				      "set label %u '%s %.1f ms' at %.3f, graph %.2f offset 0.5,0 tc rgb '%s'\n",
				      k + 1, mark[k], mark[k], k + 2, colour[k], k + 1, name[k], mark[k],
				      mark[k], 0.95 - 0.07 * k, colour[k]);
	if (n < sizeof(script))
		snprintf(script + n, sizeof(script) - n,
			 "plot 'takeover.dat' using (bin($1)):(1) smooth frequency with boxes lc rgb '#1f77b4'\n");
	mirror_report_plot(r, "Takeover time distribution (p50, p99 and max marked)", 900, 320, script);
}

static void plot_phases(struct mirror_report *r, const struct fo_run_result *res)
{
	char script[2048];

	snprintf(script, sizeof(script),
		 "set style fill solid 0.85 noborder\nset boxwidth 0.8 absolute\n"
		 "set xlabel 'trial'\nset ylabel 'ms from the fault'\nset xrange [0.5:%u.5]\n"
		 "set yrange [0:*]\nset key outside right\n%s"
		 "plot 'trials.dat' using 1:2 with boxes lc rgb '#bbbbbb' title 'host: first ack',"
		 " '' using 1:7 with boxes lc rgb '#2ca02c' title 'active',"
		 " '' using 1:6 with boxes lc rgb '#1f77b4' title 'replayed',"
		 " '' using 1:5 with boxes lc rgb '#ff7f0e' title 'fenced',"
		 " '' using 1:4 with boxes lc rgb '#d62728' title 'detected'\n",
		 res->n, res->n <= 20 ? "set xtics 1\n" : "set format x '%.0f'\n");
	mirror_report_plot(r, "Phases of each takeover, stacked: the survivor detected the fault, fenced its "
			      "partner, replayed the partner's mirrored writes, served the LUNs; then the host's "
			      "first acknowledgement",
			   900, 360, script);
}

struct sample {
	unsigned bin;
	double lat_ms;
};

static int by_bin_then_latency(const void *a, const void *b)
{
	const struct sample *x = a, *y = b;

	if (x->bin != y->bin)
		return x->bin < y->bin ? -1 : 1;
	return (x->lat_ms > y->lat_ms) - (x->lat_ms < y->lat_ms);
}

/* The latency of every acknowledged write invoked in the window around its
 * trial's fault, p50 and max per bin of invocation time; the writes that
 * failed or ended indeterminate as points.  The number of samples, or -1. */
static long write_latency(struct mirror_report *r, const struct fo_run_result *res, double from,
			  double to, unsigned *errors)
{
	const struct fo_history *h = &res->hist;
	double width = (to - from) / LATENCY_BINS;
	struct sample *v = malloc((h->n ? h->n : 1) * sizeof(*v));
	FILE *f = mirror_report_data(r, "latency.dat"), *e = mirror_report_data(r, "errors.dat");
	size_t n = 0;

	*errors = 0;
	if (!v || !f || !e) {
		free(v);
		close_pair(f, e);
		return -1;
	}
	for (size_t i = 0; i < h->n; i++) {
		const struct fo_write *w = &h->w[i];
		double x, lat;

		if (!since_fault_ms(res, w, &x))
			continue;
		if (x < from || x >= to || w->status == FO_INVOKED || w->t_done_us < w->t_invoke_us)
			continue;
		lat = (double)(w->t_done_us - w->t_invoke_us) / 1000.0;
		if (lat < 0.001)
			lat = 0.001; /* on a log axis */
		if (w->status == FO_OK) {
			v[n].bin = (unsigned)((x - from) / width);
			v[n++].lat_ms = lat;
		} else if (*errors < ERROR_POINTS_MAX) {
			fprintf(e, "%.3f %.3f %d\n", x, lat, w->status == FO_FAIL ? 1 : 2);
			++*errors;
		}
	}
	qsort(v, n, sizeof(*v), by_bin_then_latency);
	for (size_t i = 0; i < n;) {
		size_t j = i;

		while (j < n && v[j].bin == v[i].bin)
			j++;
		fprintf(f, "%.3f %.3f %.3f %zu\n", from + (v[i].bin + 0.5) * width,
			v[i + (j - i - 1) / 2].lat_ms, v[j - 1].lat_ms, j - i);
		i = j;
	}
	free(v);
	return close_pair(f, e) ? -1 : (long)n;
}

static void plot_latency(struct mirror_report *r, const struct fo_run_result *res,
			 const struct fo_summary *s)
{
	double to = s->takeover_max + MIRROR_REPORT_FO_AFTER_MS;
	unsigned faults = 0, errors = 0;
	long n;
	char script[2048];

	double from = -MIRROR_REPORT_FO_BEFORE_MS, lo = to, hi = from;

	for (unsigned i = 0; i < res->n; i++)
		faults += res->t[i].fault_at_us != 0;
	if (to > 600000)
		to = 600000;
	/* the window, narrowed to the writes in it (a short trial has less) */
	for (size_t i = 0; i < res->hist.n; i++) {
		double x;

		if (!since_fault_ms(res, &res->hist.w[i], &x))
			continue;
		if (x >= from && x < to) {
			lo = x < lo ? x : lo;
			hi = x > hi ? x : hi;
		}
	}
	if (lo < hi) {
		double pad = (hi - lo) / 50 + 1;

		from = lo - pad > from ? lo - pad : from;
		to = hi + pad < to ? hi + pad : to;
	}
	n = write_latency(r, res, from, to, &errors);
	if (n <= 0) {
		mirror_report_para(r, "No write latency around a fault to plot.");
		return;
	}
	snprintf(script, sizeof(script),
		 "set xlabel 'ms since the fault (when the write was sent)'\n"
		 "set ylabel 'write latency (ms)'\nset logscale y\nset key outside right\n"
		 "set xrange [%.0f:%.0f]\n"
		 "set arrow 1 from 0, graph 0 to 0, graph 1 nohead lw 2 lc rgb '#d62728'\n"
		 "set label 1 'fault' at 0, graph 0.96 offset 0.5,0 tc rgb '#d62728'\n"
		 "set arrow 2 from %.3f, graph 0 to %.3f, graph 1 nohead dt 2 lc rgb '#2ca02c'\n"
		 "set label 2 'takeover p50' at %.3f, graph 0.89 offset 0.5,0 tc rgb '#2ca02c'\n"
		 "plot 'latency.dat' using 1:3 with steps lw 2 lc rgb '#d62728' title 'max',"
		 " '' using 1:2 with steps lw 2 lc rgb '#1f77b4' title 'p50'%s\n",
		 from, to, s->takeover_p50, s->takeover_p50, s->takeover_p50,
		 errors ? ", 'errors.dat' using 1:($3==1?$2:1/0) with points pt 2 ps 0.8 lc rgb '#000000' title 'failed',"
			  " '' using 1:($3==2?$2:1/0) with points pt 6 ps 0.8 lc rgb '#9467bd' title 'indeterminate'"
			: "");
	char caption[256];
	snprintf(caption, sizeof(caption),
		 "Host write latency around the fault: %ld acknowledged writes of %u trial%s, p50 and max "
		 "per %.1f ms of send time, the fault at 0",
		 n, faults, faults == 1 ? "" : "s", (to - from) / LATENCY_BINS);
	mirror_report_plot(r, caption, 900, 380, script);
}

int mirror_report_failover_write(const struct fo_run_result *res, const char *path, const char *prog,
				 const char *title, char *why, size_t why_len)
{
	struct mirror_report r;
	struct fo_summary s;
	int rc;

	fo_summarize(res, &s);
	rc = mirror_report_open(&r, path, prog, title, why, why_len);
	if (rc < 0)
		return rc;
	mirror_report_para(&r, "%u trial%s, %" PRIu64 " acknowledged writes, %" PRIu64
			   " violations: %s.",
			   s.trials, s.trials == 1 ? "" : "s", s.acked, s.violations,
			   s.violations ? "acknowledged writes were lost or damaged" : "no acknowledged write lost");
	mirror_report_heading(&r, "Summary");
	summary_tables(&r, res, &s);
	if (!mirror_report_can_plot(&r)) {
		mirror_report_para(&r, "No plots: gnuplot was not found when this report was written.");
	} else if (s.takeovers && write_trials(&r, res) == 0) {
		mirror_report_heading(&r, "Plots");
		plot_per_trial(&r, res, &s);
		plot_distribution(&r, &s);
		if (s.phased)
			plot_phases(&r, res);
		else
			mirror_report_para(&r, "No phases: the survivor's statistics were not read "
					       "(a pair's controllers report them; a real target does not).");
		plot_latency(&r, res, &s);
	}
	violation_table(&r, res);
	trial_table(&r, res);
	return mirror_report_close(&r, why, why_len);
}
