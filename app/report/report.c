/* The HTML report: page, tables, escaping, the temporary directory
 * (report.h).  gnuplot itself is run by plot.c. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/report/report.h"
#include "app/report/report_int.h"

/* Inline style only: the file must read the same with no network. */
static const char page_start[] =
	"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>";
static const char page_style[] =
	"</title>\n<style>\n"
	"body{font-family:sans-serif;margin:1.5em;color:#222;background:#fff;max-width:1100px}\n"
	"h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ccc}\n"
	"table{border-collapse:collapse;margin:.6em 0}\n"
	"caption{text-align:left;font-weight:bold;padding:.3em 0}\n"
	"th,td{border:1px solid #bbb;padding:.2em .6em;text-align:left;font-size:.9em}\n"
	"th{background:#eef}td.n{text-align:right}\n"
	"figure{margin:1em 0}figcaption{font-weight:bold;margin-bottom:.3em}\n"
	"svg{max-width:100%;height:auto}\n"
	".note{color:#a40}\n"
	"</style>\n</head>\n<body>\n";

void mirror_report_escape(FILE *out, const char *s)
{
	static const struct {
		char c;
		const char *entity;
	} map[] = { { '&', "&amp;" }, { '<', "&lt;" }, { '>', "&gt;" }, { '"', "&quot;" },
		    { '\'', "&#39;" } };

	for (; *s; s++) {
		size_t i;

		for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
			if (*s == map[i].c)
				break;
		if (i < sizeof(map) / sizeof(map[0]))
			fputs(map[i].entity, out);
		else
			fputc(*s, out);
	}
}

/* gnuplot: MIRROR_REPORT_GNUPLOT names it ("none": no plots), else the
 * first executable "gnuplot" in PATH. */
static void find_gnuplot(struct mirror_report *r)
{
	const char *env = getenv("MIRROR_REPORT_GNUPLOT"), *path = getenv("PATH");

	r->gnuplot[0] = '\0';
	if (env) {
		if (strcmp(env, "none") != 0 && access(env, X_OK) == 0)
			snprintf(r->gnuplot, sizeof(r->gnuplot), "%s", env);
		return;
	}
	while (path && *path) {
		size_t n = strcspn(path, ":");
		char cand[sizeof(r->gnuplot)];

		if (n > 0 && (size_t)snprintf(cand, sizeof(cand), "%.*s/gnuplot", (int)n, path) < sizeof(cand) &&
		    access(cand, X_OK) == 0) {
			snprintf(r->gnuplot, sizeof(r->gnuplot), "%s", cand);
			return;
		}
		path += n + (path[n] == ':');
	}
}

int mirror_report_open(struct mirror_report *r, const char *path, const char *prog,
		       const char *title, char *why, size_t why_len)
{
	const char *tmp = getenv("TMPDIR");
	int e;

	memset(r, 0, sizeof(*r));
	r->prog = prog;
	snprintf(r->dir, sizeof(r->dir), "%s/mirror-report.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(r->dir)) {
		e = errno;
		snprintf(why, why_len, "--report: cannot create a temporary directory %s: %s", r->dir,
			 strerror(e));
		return -e;
	}
	r->out = fopen(path, "w");
	if (!r->out) {
		e = errno;
		snprintf(why, why_len, "--report: cannot create '%s': %s", path, strerror(e));
		rmdir(r->dir);
		return -e;
	}
	find_gnuplot(r);
	if (!r->gnuplot[0])
		fprintf(stderr, "%s: gnuplot not found (install gnuplot-nox): the report has tables only\n",
			prog);
	fputs(page_start, r->out);
	mirror_report_escape(r->out, title);
	fputs(page_style, r->out);
	fputs("<h1>", r->out);
	mirror_report_escape(r->out, title);
	fputs("</h1>\n", r->out);
	return 0;
}

void mirror_report_end_table(struct mirror_report *r)
{
	if (r->table_open)
		fputs("</table>\n", r->out);
	r->table_open = false;
}

static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char p[512];

	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

int mirror_report_close(struct mirror_report *r, char *why, size_t why_len)
{
	int rc = 0;

	mirror_report_end_table(r);
	fputs("</body>\n</html>\n", r->out);
	if (ferror(r->out) | (fclose(r->out) != 0)) {
		rc = errno ? -errno : -EIO;
		snprintf(why, why_len, "--report: writing the report failed: %s", strerror(-rc));
	}
	r->out = NULL;
	if (!getenv("MIRROR_REPORT_KEEP")) /* debugging a plot: keep its data and script */
		remove_dir(r->dir);
	return rc;
}

bool mirror_report_can_plot(const struct mirror_report *r)
{
	return r->gnuplot[0] != '\0';
}

FILE *mirror_report_data(struct mirror_report *r, const char *name)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", r->dir, name);
	f = fopen(p, "w");
	if (!f)
		fprintf(stderr, "%s: --report: cannot create %s: %s\n", r->prog, p, strerror(errno));
	return f;
}

void mirror_report_heading(struct mirror_report *r, const char *text)
{
	mirror_report_end_table(r);
	fputs("<h2>", r->out);
	mirror_report_escape(r->out, text);
	fputs("</h2>\n", r->out);
}

void mirror_report_para(struct mirror_report *r, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	mirror_report_end_table(r);
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fputs("<p>", r->out);
	mirror_report_escape(r->out, buf);
	fputs("</p>\n", r->out);
}

/* One row of tab-separated cells, each escaped, in tag (th or td). */
static void cells(FILE *out, const char *tag, const char *s)
{
	char cell[1024];

	fputs("<tr>", out);
	for (;;) {
		size_t n = strcspn(s, "\t");

		snprintf(cell, sizeof(cell), "%.*s", (int)n, s);
		/* numbers right-aligned, text left */
		fprintf(out, "<%s%s>", tag, tag[1] == 'd' && strchr("0123456789-.", cell[0]) && cell[0] ? " class=\"n\"" : "");
		mirror_report_escape(out, cell);
		fprintf(out, "</%s>", tag);
		if (!s[n])
			break;
		s += n + 1;
	}
	fputs("</tr>\n", out);
}

void mirror_report_table(struct mirror_report *r, const char *caption, const char *header)
{
	mirror_report_end_table(r);
	fputs("<table>\n", r->out);
	if (caption && *caption) {
		fputs("<caption>", r->out);
		mirror_report_escape(r->out, caption);
		fputs("</caption>\n", r->out);
	}
	cells(r->out, "th", header);
	r->table_open = true;
}

void mirror_report_row(struct mirror_report *r, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	cells(r->out, "td", buf);
}

void mirror_report_note(struct mirror_report *r, const char *text)
{
	mirror_report_end_table(r);
	fputs("<p class=\"note\">", r->out);
	mirror_report_escape(r->out, text);
	fputs("</p>\n", r->out);
}
