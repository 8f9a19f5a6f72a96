/* gnuplot for the report: the script written beside the data, gnuplot
 * started by posix_spawn (no shell: nothing in a path is interpreted),
 * waited for with a timeout and killed by its pid past it, its SVG
 * embedded with its ids made unique to the plot (report.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "app/report/report.h"
#include "app/report/report_int.h"

extern char **environ;

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Runs gnuplot on script; 0 when it exited 0, else the reason in why. */
static int run_gnuplot(const struct mirror_report *r, const char *script, const char *errlog, char *why,
		       size_t why_len)
{
	posix_spawn_file_actions_t fa;
	char *argv[] = { (char *)r->gnuplot, (char *)script, NULL };
	pid_t pid;
	int rc, status = 0;
	unsigned waited = 0;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, errlog, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	rc = posix_spawn(&pid, r->gnuplot, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		snprintf(why, why_len, "cannot start %s: %s", r->gnuplot, strerror(rc));
		return -rc;
	}
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			snprintf(why, why_len, "waiting for gnuplot: %s", strerror(errno));
			return -errno;
		}
		if (waited >= MIRROR_REPORT_PLOT_TIMEOUT_MS) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			snprintf(why, why_len, "gnuplot took more than %u s: killed",
				 MIRROR_REPORT_PLOT_TIMEOUT_MS / 1000);
			return -ETIMEDOUT;
		}
		sleep_ms(10);
		waited += 10;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	/* gnuplot's own message is the useful part: its first line */
	{
		FILE *f = fopen(errlog, "r");
		char line[200] = "";

		if (f) {
			while (fgets(line, sizeof(line), f) && strspn(line, " \t\r\n^") == strlen(line))
				;
			fclose(f);
		}
		line[strcspn(line, "\r\n")] = '\0';
		snprintf(why, why_len, "gnuplot failed (%s %d)%s%s",
			 WIFEXITED(status) ? "exit" : "signal",
			 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), line[0] ? ": " : "", line);
	}
	return -EIO;
}

/* Copies the SVG from its <svg> element on (the XML prolog and doctype
 * are not allowed inside HTML), each id and reference to one prefixed
 * with p<N>- so that the plots of one page do not share ids. */
static int embed_svg(struct mirror_report *r, const char *svg, unsigned n)
{
	static const char *const refs[] = { "id='", "id=\"", "href='#", "href=\"#", "url(#" };
	FILE *f = fopen(svg, "r");
	char *buf = NULL, *p, *start;
	size_t cap = 0, len = 0, got;

	if (!f)
		return -errno;
	for (;;) {
		if (len + 4096 + 1 > cap) {
			char *nb = realloc(buf, cap = cap ? cap * 2 : 65536);
			if (!nb) {
				free(buf);
				fclose(f);
				return -ENOMEM;
			}
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len - 1, f);
		if (got == 0)
			break;
		len += got;
	}
	fclose(f);
	buf[len] = '\0';
	start = strstr(buf, "<svg");
	if (!start) {
		free(buf);
		return -EINVAL;
	}
	for (p = start; *p;) {
		size_t i;

		for (i = 0; i < sizeof(refs) / sizeof(refs[0]); i++)
			if (strncmp(p, refs[i], strlen(refs[i])) == 0)
				break;
		if (i < sizeof(refs) / sizeof(refs[0])) {
			fprintf(r->out, "%sp%u-", refs[i], n);
			p += strlen(refs[i]);
		} else {
			fputc(*p++, r->out);
		}
	}
	fputc('\n', r->out);
	free(buf);
	return 0;
}

int mirror_report_plot(struct mirror_report *r, const char *caption, unsigned width,
		       unsigned height, const char *body)
{
	char name[64], script[512], svg[512], errlog[512], why[700], note[800];
	unsigned n = ++r->plots;
	FILE *f;
	int rc;

	if (!mirror_report_can_plot(r))
		return -1;
	snprintf(name, sizeof(name), "plot-%u.gp", n);
	f = mirror_report_data(r, name);
	if (!f)
		return -1;
	/* the data files are named relative to the temporary directory */
	fprintf(f, "cd '%s'\nset terminal svg size %u,%u font 'sans,12' background '#ffffff'\n"
		   "set output 'plot-%u.svg'\nset datafile missing '?'\nset grid\n%s\nunset output\n",
		r->dir, width, height, n, body);
	rc = ferror(f);
	rc |= fclose(f);
	snprintf(script, sizeof(script), "%s/%s", r->dir, name);
	snprintf(svg, sizeof(svg), "%s/plot-%u.svg", r->dir, n);
	snprintf(errlog, sizeof(errlog), "%s/plot-%u.err", r->dir, n);
	if (rc) {
		snprintf(why, sizeof(why), "cannot write %s", script);
		rc = -EIO;
	} else {
		rc = run_gnuplot(r, script, errlog, why, sizeof(why));
	}
	mirror_report_end_table(r);
	fputs("<figure>\n<figcaption>", r->out);
	mirror_report_escape(r->out, caption);
	fputs("</figcaption>\n", r->out);
	if (rc == 0 && embed_svg(r, svg, n) < 0) {
		snprintf(why, sizeof(why), "gnuplot wrote no SVG to %s", svg);
		rc = -EIO;
	}
	if (rc < 0) {
		r->failed++;
		fprintf(stderr, "%s: --report: plot '%s' not drawn: %s\n", r->prog, caption, why);
		snprintf(note, sizeof(note), "(not drawn: %s)", why);
		mirror_report_note(r, note);
	}
	fputs("</figure>\n", r->out);
	return rc < 0 ? -1 : 0;
}
