/* mirror-top's loop (app/top/run.h): a refresh every interval, the keys
 * between them, the emulator's and the pair's readings. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mirror/mirror.h>
#include "app/emu/stats.h"
#include "app/top/run_int.h"
#include "capture/thread.h"
#include "iscsi/stats.h"

#define LINES_MAX 64

uint64_t mirror_top_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void mirror_top_display_off(struct mirror_top_app *a)
{
	if (a->d)
		a->d->off(a->d->ctx);
}

/* The model's lines (or the pair's) printed as a snapshot, or drawn. */
static void draw(struct mirror_top_app *a)
{
	static struct mirror_top_line lines[LINES_MAX];
	unsigned cols = 0, rows = 0, n;

	mirror_top_state_label(a->model.paused, a->done, a->error, a->live, a->drops, a->state,
			       sizeof(a->state));
	if (a->d)
		a->d->size(a->d->ctx, &cols, &rows);
	if (a->o->src == MIRROR_TOP_SRC_PAIR) {
		char source[600];
		snprintf(source, sizeof(source), "%s  %s", a->source, a->state);
		n = mirror_top_pair_screen(a->pair, source, a->d ? (cols ? cols : 80) : 0, lines,
					   LINES_MAX);
	} else {
		struct mirror_top_screen_opts so = { 0 };
		so.source = a->source;
		so.state = a->state;
		so.ascii = a->o->ascii;
		so.help = a->help;
		if (a->d) {
			so.width = cols ? cols : 80;
			so.height = rows ? rows : 24;
		}
		n = mirror_top_screen(&a->model, &so, lines, LINES_MAX);
	}
	if (a->d)
		a->d->draw(a->d->ctx, lines, n);
	else
		mirror_top_print_lines(stdout, lines, n);
}

static int read_emu(struct mirror_top_app *a, struct mirror_top_counters *c)
{
	static struct mirror_stats s;
	char err[256];

	int rc = mirror_stats_read(a->o->emu, &s, err, sizeof(err));
	if (rc == 0)
		mirror_top_from_stats(&s, c);
	if (rc < 0) {
		snprintf(a->error, sizeof(a->error), "%s", err);
		return rc;
	}
	a->error[0] = '\0';
	return 0;
}

static int read_pair(struct mirror_top_app *a)
{
	return mirror_top_pair_read(a->pair, a->o->pair, mirror_top_now_ms(), a->error,
				    sizeof(a->error));
}

void mirror_top_refresh(struct mirror_top_app *a)
{
	struct mirror_top_counters *c = malloc(sizeof(*c));

	if (!c) {
		snprintf(a->error, sizeof(a->error), "out of memory");
		return;
	}
	if (a->o->src == MIRROR_TOP_SRC_PAIR) {
		/* what it could not read is on the screen */
		if (!a->model.paused)
			read_pair(a);
	} else if (!a->model.paused) {
		int rc = 0;
		if (a->o->src == MIRROR_TOP_SRC_EMU)
			rc = read_emu(a, c);
		else if (a->live_thread) {
			mirror_capture_thread_lock(a->live_thread);
			mirror_top_from_capture(a->capture, c);
			mirror_capture_thread_unlock(a->live_thread);
		} else {
			mirror_top_from_capture(a->capture, c);
		}
		if (rc == 0)
			mirror_top_update(&a->model, mirror_top_now_ms(), c);
		else if (a->o->batch) {
			fprintf(stderr, PROG ": --emu %s: %s\n", a->o->emu, a->error);
			a->status = mirror_top_exit(a->o->src, rc);
			a->quit = true;
			free(c);
			return;
		}
	}
	free(c);
	draw(a);
	a->snapshots++;
	if (a->limit && a->snapshots >= a->limit)
		a->quit = true;
}

void mirror_top_keys(struct mirror_top_app *a)
{
	int ch;
	bool redraw = false;

	if (!a->d)
		return;
	/* keys typed after q are left to whoever reads the terminal next */
	while (!a->quit && (ch = a->d->key(a->d->ctx)) != MIRROR_TOP_KEY_NONE) {
		if (mirror_top_key(&a->model, &a->help, ch))
			a->quit = true;
		redraw = true;
	}
	if (redraw && !a->quit)
		draw(a);
}

void mirror_top_wait(struct mirror_top_app *a, uint64_t ms)
{
	struct pollfd p = { STDIN_FILENO, POLLIN, 0 };

	if (ms > 1000)
		ms = 1000;
	poll(&p, a->d ? 1 : 0, (int)ms);
	if (*a->stop)
		a->quit = true;
	mirror_top_keys(a);
}

uint64_t mirror_top_tick(struct mirror_top_app *a)
{
	uint64_t now = mirror_top_now_ms();

	if (now >= a->next_ms) {
		mirror_top_refresh(a);
		a->next_ms += a->o->delay_ms;
		if (a->next_ms <= now)
			a->next_ms = now + a->o->delay_ms;
	}
	return a->next_ms > now ? a->next_ms - now : 0;
}

static void run_emu(struct mirror_top_app *a)
{
	a->next_ms = mirror_top_now_ms();
	/* the first reading decides whether the socket is there at all */
	struct mirror_top_counters c;
	int rc = read_emu(a, &c);
	if (rc < 0) {
		mirror_top_display_off(a);
		fprintf(stderr, PROG ": --emu %s: %s\n", a->o->emu, a->error);
		a->status = mirror_top_exit(a->o->src, rc);
		return;
	}
	while (!a->quit)
		mirror_top_wait(a, mirror_top_tick(a));
}

static void run_pair(struct mirror_top_app *a)
{
	a->next_ms = mirror_top_now_ms();
	/* a state file that is not there is the caller's mistake; controllers
	 * that are down are shown */
	int rc = read_pair(a);
	if (rc == -ENOENT || rc == -EINVAL) {
		mirror_top_display_off(a);
		fprintf(stderr, PROG ": --pair %s\n", a->error);
		a->status = mirror_top_exit(a->o->src, rc);
		return;
	}
	while (!a->quit)
		mirror_top_wait(a, mirror_top_tick(a));
}

int mirror_top_run(const struct mirror_top_opts *o, const struct mirror_top_display *d,
		   volatile sig_atomic_t *stop)
{
	struct mirror_top_app *a = calloc(1, sizeof(*a));
	int ret;

	if (!a) {
		fprintf(stderr, PROG ": out of memory\n");
		return mirror_top_exit(o->src, -ENOMEM);
	}
	a->o = o;
	a->d = d;
	a->stop = stop;
	a->limit = o->iterations;
	a->live = o->src == MIRROR_TOP_SRC_LIVE;
	mirror_top_init(&a->model);
	mirror_top_source_label(o, a->source, sizeof(a->source));
	if (o->src == MIRROR_TOP_SRC_PAIR) {
		a->pair = calloc(1, sizeof(*a->pair));
		if (!a->pair) {
			free(a);
			fprintf(stderr, PROG ": out of memory\n");
			return mirror_top_exit(o->src, -ENOMEM);
		}
		mirror_top_pair_init(a->pair);
	}
	if (o->src == MIRROR_TOP_SRC_EMU)
		run_emu(a);
	else if (o->src == MIRROR_TOP_SRC_PAIR)
		run_pair(a);
	else
		mirror_top_run_capture(a);
	mirror_top_display_off(a);
	ret = a->status;
	free(a->capture);
	free(a->pair);
	free(a);
	return ret;
}
