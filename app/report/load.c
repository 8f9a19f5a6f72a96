/* mirror-load --report (load.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/report/load.h"
#include "app/report/report.h"
#include "app/report/series.h"

#define RUNS 2
#define KINDS MIRROR_LOAD_KINDS
/* columns of the series: per run and kind, operations and user bytes */
#define COL(run, kind, what) (((run) * KINDS + (kind)) * 2 + (what))

struct mirror_report_load {
	struct mirror_report_series tl;
	/* the counts at the last sample, per run and kind */
	uint64_t ops[RUNS][KINDS], bytes[RUNS][KINDS];
};

struct mirror_report_load *mirror_report_load_new(void)
{
	struct mirror_report_load *l = calloc(1, sizeof(*l));

	if (l) {
		mirror_report_series_init(&l->tl, RUNS * KINDS * 2, MIRROR_REPORT_LOAD_TICK_MS * 1000000ull);
		/* time 0 is the start of each run: a and b on the same axis */
		mirror_report_series_add(&l->tl, 0, 0, 0);
	}
	return l;
}

void mirror_report_load_free(struct mirror_report_load *l)
{
	free(l);
}

static void sample(struct mirror_report_load *l, unsigned run, const struct mirror_load_result *r)
{
	for (unsigned k = 0; k < KINDS; k++) {
		const struct mirror_load_kind_result *kr = &r->kind[k];

		mirror_report_series_add(&l->tl, r->elapsed_ns, COL(run, k, 0), (double)(kr->ops - l->ops[run][k]));
		mirror_report_series_add(&l->tl, r->elapsed_ns, COL(run, k, 1),
					 (double)(kr->data_bytes - l->bytes[run][k]));
		l->ops[run][k] = kr->ops;
		l->bytes[run][k] = kr->data_bytes;
	}
}

void mirror_report_load_progress(void *ctx, const struct mirror_load_result *r)
{
	struct mirror_report_load_tap *t = ctx;

	if (t->run < RUNS)
		sample(t->l, t->run, r);
	if (t->next && r->elapsed_ns >= t->next_at_ns) {
		t->next(t->next_ctx, r);
		t->next_at_ns = r->elapsed_ns + 1000000000ull;
	}
}

/* the series plotted: run i's kinds that carried operations */
static bool used(const struct mirror_load_report *rep, unsigned run, unsigned k)
{
	return rep[run].r->kind[k].ops > 0;
}

static const char *series_name(const struct mirror_load_report *rep, unsigned nruns, unsigned run,
			       unsigned k, char *buf, size_t len)
{
	if (nruns > 1)
		snprintf(buf, len, "%s %s", rep[run].label, mirror_load_kind_name((enum mirror_load_kind)k));
	else
		snprintf(buf, len, "%s", mirror_load_kind_name((enum mirror_load_kind)k));
	return buf;
}

/* timeline.dat: time (s), then per run and kind ops/s and MB/s. */
static int write_timeline(struct mirror_report *r, const struct mirror_report_series *tl)
{
	FILE *f = mirror_report_data(r, "timeline.dat");
	double w = (double)tl->width_ns / 1e9;

	if (!f)
		return -1;
	for (unsigned i = 0; i < tl->used; i++) {
		fprintf(f, "%.4f", ((double)i + 0.5) * w);
		for (unsigned c = 0; c < RUNS * KINDS; c++)
			fprintf(f, " %.6g %.6g", tl->v[i][2 * c] / w, tl->v[i][2 * c + 1] / w / 1e6);
		fputc('\n', f);
	}
	return fclose(f) ? -1 : 0;
}

static void plot_timelines(struct mirror_report *r, const struct mirror_load_report *rep, unsigned nruns)
{
	static const struct {
		const char *caption, *ylabel;
		unsigned what;
	} plots[] = { { "Operations per second over the run, per path", "operations/s", 0 },
		      { "MB/s of user data over the run, per path", "MB/s", 1 } };
	char cmd[2048], script[3072], name[64];

	for (size_t i = 0; i < sizeof(plots) / sizeof(plots[0]); i++) {
		size_t n = (size_t)snprintf(cmd, sizeof(cmd), "plot ");

		for (unsigned run = 0; run < nruns; run++)
			for (unsigned k = 0; k < KINDS; k++)
				if (used(rep, run, k) && n < sizeof(cmd))
					n += (size_t)snprintf(cmd + n, sizeof(cmd) - n,
							      "%s'timeline.dat' using 1:%u with linespoints lw 2 title '%s'",
							      n > 5 ? ", " : "", 2 + COL(run, k, plots[i].what),
							      series_name(rep, nruns, run, k, name, sizeof(name)));
		snprintf(script, sizeof(script), "set xlabel 'time since the run started (s)'\nset ylabel '%s'\n"
			 "set yrange [0:*]\nset key outside right\n%s\n", plots[i].ylabel, cmd);
		mirror_report_plot(r, plots[i].caption, 900, 320, script);
	}
}

static const double pcts[] = { 1, 5, 10, 25, 50, 75, 90, 95, 99, 99.9 };
#define NPCTS (sizeof(pcts) / sizeof(pcts[0]))

/* latency.dat: one row per percentile, a column per run and kind. */
static void plot_latency(struct mirror_report *r, const struct mirror_load_report *rep, unsigned nruns)
{
	FILE *f = mirror_report_data(r, "latency.dat");
	char cmd[2048], script[3072], name[64];
	size_t n = (size_t)snprintf(cmd, sizeof(cmd), "plot ");

	if (!f)
		return;
	for (size_t i = 0; i < NPCTS; i++) {
		fprintf(f, "%zu p%g", i, pcts[i]);
		for (unsigned run = 0; run < nruns; run++)
			for (unsigned k = 0; k < KINDS; k++)
				fprintf(f, " %.1f", mirror_hist_percentile(&rep[run].r->kind[k].lat, pcts[i]));
		fputc('\n', f);
	}
	if (fclose(f))
		return;
	for (unsigned run = 0; run < nruns; run++)
		for (unsigned k = 0; k < KINDS; k++)
			if (used(rep, run, k) && n < sizeof(cmd))
				n += (size_t)snprintf(cmd + n, sizeof(cmd) - n,
						      "%s'latency.dat' using 1:%u:xticlabels(2) with linespoints lw 2 title '%s'",
						      n > 5 ? ", " : "", 3 + run * KINDS + k,
						      series_name(rep, nruns, run, k, name, sizeof(name)));
	snprintf(script, sizeof(script), "set xlabel 'percentile'\nset ylabel 'latency (us)'\nset logscale y\n"
		 "set key outside right\n%s\n", cmd);
	mirror_report_plot(r, "Latency percentiles per path (each command)", 900, 320, script);
}

/* The receiver's cost (mirror-emu's counters, else the capture): a row
 * per run and path. */
static const struct mirror_load_emu_cost *cost_of(const struct mirror_load_report *rep)
{
	return rep->emu ? rep->emu : rep->capture;
}

static void plot_cost(struct mirror_report *r, const struct mirror_load_report *rep, unsigned nruns)
{
	FILE *f = mirror_report_data(r, "cost.dat");
	unsigned rows = 0;

	if (!f)
		return;
	fputs("run-path interrupts cdb metadata data iscsi\n", f);
	for (unsigned run = 0; run < nruns; run++) {
		const struct mirror_load_emu_cost *c = cost_of(&rep[run]);

		for (unsigned p = 0; c && p < 2; p++) {
			const struct mirror_stats_kind *e = &c->path[p];
			double n = (double)e->ops;

			if (!e->ops)
				continue;
			fprintf(f, "\"%s%s%s\" %.3f %.1f %.1f %.1f %.1f\n", nruns > 1 ? rep[run].label : "",
				nruns > 1 ? " " : "", mirror_path_name((enum mirror_path)p), (double)e->interrupts / n,
				(double)e->cdb / n, (double)e->metadata / n, (double)e->data / n,
				(double)e->iscsi / n);
			rows++;
		}
	}
	if (fclose(f))
		return;
	if (!rows) {
		mirror_report_para(r, "No receiver cost: give --stats SOCKET (mirror-emu) or --capture IFACE.");
		return;
	}
	mirror_report_plot(r, "Receiver interrupts per operation, per path", 900, 280,
			   "set style data histograms\nset style fill solid 0.8 border -1\nset boxwidth 0.6\n"
			   "set xlabel 'path'\nset ylabel 'interrupts/op'\nset yrange [0:*]\nunset key\n"
			   "plot 'cost.dat' using 2:xticlabels(1) title columnhead lc rgb '#3366aa'\n");
	/* user data would dwarf the rest: its bytes/op are in the table */
	mirror_report_plot(r, "Receiver overhead bytes per operation, per path (CDB, metadata, iSCSI)", 900, 320,
			   "set style data histograms\nset style histogram rowstacked\n"
			   "set style fill solid 0.8 border -1\nset boxwidth 0.6\n"
			   "set xlabel 'path'\nset ylabel 'overhead bytes/op'\nset yrange [0:*]\n"
			   "set key autotitle columnhead outside right\n"
			   "plot for [c in '3 4 6'] 'cost.dat' using int(c):xticlabels(1)\n");
}

static void tables(struct mirror_report *r, const struct mirror_load_report *rep, unsigned nruns,
		   const struct mirror_load_ab_diff *d)
{
	mirror_report_table(r, "Per run and path (latency in us)",
			    "run\tpath\toperations\tGOOD\tops/s\tMB/s\tp50\tp90\tp99\tp99.9\tmax");
	for (unsigned run = 0; run < nruns; run++) {
		const struct mirror_load_result *res = rep[run].r;
		double s = (double)res->elapsed_ns / 1e9;

		for (unsigned k = 0; k < KINDS; k++) {
			const struct mirror_load_kind_result *kr = &res->kind[k];

			if (!kr->ops)
				continue;
			mirror_report_row(r, "%s\t%s\t%llu\t%llu\t%.0f\t%.2f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f", rep[run].label,
					  mirror_load_kind_name((enum mirror_load_kind)k), (unsigned long long)kr->ops,
					  (unsigned long long)kr->good, s > 0 ? (double)kr->ops / s : 0,
					  s > 0 ? (double)kr->data_bytes / s / 1e6 : 0,
					  mirror_hist_percentile(&kr->lat, 50), mirror_hist_percentile(&kr->lat, 90),
					  mirror_hist_percentile(&kr->lat, 99), mirror_hist_percentile(&kr->lat, 99.9),
					  (double)kr->lat.max_ns / 1000.0);
		}
	}
	mirror_report_table(r, "Per run", "run\thost writes\tseconds\terrors\tverified\tmiscompares\tfirst error");
	for (unsigned run = 0; run < nruns; run++) {
		const struct mirror_load_result *res = rep[run].r;

		mirror_report_row(r, "%s\t%llu\t%.2f\t%llu\t%llu\t%llu\t%s", rep[run].label,
				  (unsigned long long)res->writes, (double)res->elapsed_ns / 1e9,
				  (unsigned long long)mirror_load_result_errors(res),
				  (unsigned long long)res->verified, (unsigned long long)res->miscompares,
				  res->first_error[0] ? res->first_error : "-");
	}
	mirror_report_table(r, "The receiver's cost (bytes per operation)",
			    "run\tpath\toperations\tinterrupts/op\tcdb\tmetadata\tdata\tiscsi\ttotal");
	for (unsigned run = 0; run < nruns; run++) {
		const struct mirror_load_emu_cost *c = cost_of(&rep[run]);

		for (unsigned p = 0; c && p < 2; p++) {
			const struct mirror_stats_kind *e = &c->path[p];
			double n = (double)e->ops;

			if (e->ops)
				mirror_report_row(r, "%s\t%s\t%llu\t%.2f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f", rep[run].label,
						  mirror_path_name((enum mirror_path)p), (unsigned long long)e->ops,
						  (double)e->interrupts / n, (double)e->cdb / n, (double)e->metadata / n,
						  (double)e->data / n, (double)e->iscsi / n, (double)e->total / n);
		}
	}
	if (nruns < 2 || !d)
		return;
	mirror_report_table(r, "--path ab: a (all large) against b (Fig. 7's choice)", "per host write\ta\tb");
	mirror_report_row(r, "writes/s\t%.0f\t%.0f", d->writes_per_sec[0], d->writes_per_sec[1]);
	mirror_report_row(r, "p50 us\t%.0f\t%.0f", d->p50_us[0], d->p50_us[1]);
	mirror_report_row(r, "p99 us\t%.0f\t%.0f", d->p99_us[0], d->p99_us[1]);
	mirror_report_row(r, "client overhead bytes (CDB + metadata)\t%.0f\t%.0f", d->client_overhead[0],
			  d->client_overhead[1]);
	if (d->have_emu) {
		mirror_report_row(r, "receiver interrupts\t%.2f\t%.2f", d->interrupts[0], d->interrupts[1]);
		mirror_report_row(r, "receiver overhead bytes\t%.0f\t%.0f", d->receiver_overhead[0],
				  d->receiver_overhead[1]);
	}
	mirror_report_para(r, "b sent %.0f%% of its operations on the small path.", 100.0 * d->small_share);
}

int mirror_report_load_write(struct mirror_report_load *l, const char *path, const char *prog,
			     const char *title, const struct mirror_load_report *rep, unsigned nruns,
			     const struct mirror_load_ab_diff *d, char *why, size_t why_len)
{
	struct mirror_report r;
	int rc;

	if (nruns > RUNS)
		nruns = RUNS;
	rc = mirror_report_open(&r, path, prog, title, why, why_len);
	if (rc < 0)
		return rc;
	for (unsigned run = 0; run < nruns; run++)
		sample(l, run, rep[run].r); /* the end of the run, after the last tick */
	mirror_report_series_coarsen(&l->tl, 60);
	mirror_report_heading(&r, "Summary");
	tables(&r, rep, nruns, d);
	if (!mirror_report_can_plot(&r)) {
		mirror_report_para(&r, "No plots: gnuplot was not found when this report was written.");
	} else if (write_timeline(&r, &l->tl) == 0) {
		mirror_report_heading(&r, "Plots");
		plot_timelines(&r, rep, nruns);
		plot_latency(&r, rep, nruns);
		plot_cost(&r, rep, nruns);
	}
	return mirror_report_close(&r, why, why_len);
}
