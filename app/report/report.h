/* One self-contained HTML report (mirror-dissect, mirror-load and
 * mirror-failover --report FILE.html): tables written here, plots drawn by
 * gnuplot's svg terminal from data files the command writes into a private
 * temporary directory, the SVG embedded inline.  No JavaScript, nothing
 * fetched: the file opens offline.  Without gnuplot the report keeps its
 * tables, and the command says on stderr that the plots are missing.
 *
 * gnuplot is looked up in PATH, or named by MIRROR_REPORT_GNUPLOT (a path;
 * "none" turns the plots off, what the tests use for the fallback). */
#ifndef MIRROR_APP_REPORT_H
#define MIRROR_APP_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* gnuplot gets this long per plot before it is killed (SIGKILL by pid) */
#define MIRROR_REPORT_PLOT_TIMEOUT_MS 30000

struct mirror_report {
	FILE *out;          /* the HTML file being written */
	const char *prog;   /* for messages on stderr */
	char dir[256];      /* the temporary directory for data and plots */
	char gnuplot[256];  /* the program, "" without one */
	unsigned plots;     /* drawn so far (names plot-N.svg) */
	unsigned failed;    /* plots gnuplot did not draw */
	bool table_open;
};

/* Creates FILE.html and the temporary directory, writes the page's head
 * and an <h1> with title.  0, or -errno with the reason in why. */
int mirror_report_open(struct mirror_report *r, const char *path, const char *prog,
		       const char *title, char *why, size_t why_len);
/* Ends the page, closes the file, removes the temporary directory.  0, or
 * -errno (the file could not be written) with the reason in why. */
int mirror_report_close(struct mirror_report *r, char *why, size_t why_len);
bool mirror_report_can_plot(const struct mirror_report *r);

/* A data file in the temporary directory, for gnuplot to read by its
 * name: NULL (the reason on stderr) when it cannot be created. */
FILE *mirror_report_data(struct mirror_report *r, const char *name);

/* Text, escaped: a heading, and a paragraph formatted like printf. */
void mirror_report_heading(struct mirror_report *r, const char *text);
void mirror_report_para(struct mirror_report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A table: the header cells tab-separated ("path\tops\tp50 us"), then one
 * row per call, formatted like printf, its cells tab-separated; every cell
 * is escaped.  A row opened by a header ends at the next heading, table,
 * plot or the end of the report. */
void mirror_report_table(struct mirror_report *r, const char *caption, const char *header);
void mirror_report_row(struct mirror_report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Runs gnuplot on script (with `cd` to the data directory and the svg
 * terminal of width x height set before it) and embeds the picture under
 * caption.  Without gnuplot it does nothing; when gnuplot fails or times
 * out, the report says so where the plot would be.  0 drawn, -1 not. */
int mirror_report_plot(struct mirror_report *r, const char *caption, unsigned width,
		       unsigned height, const char *script);

/* HTML-escapes s onto out (&, <, >, ", '). */
void mirror_report_escape(FILE *out, const char *s);

#ifdef __cplusplus
}
#endif
#endif
