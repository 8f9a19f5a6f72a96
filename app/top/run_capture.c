/* mirror-top's capture sources (app/top/run.h): a capture file replayed
 * at a speed factor, paced by the capture's own clock; a live capture
 * decoded in a thread of its own. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mirror/mirror.h>
#include <mirror/dissect_run.h>
#include "app/top/run_int.h"
#include "capture/thread.h"

/* The kernel's buffer for a live capture (libpcap's default is 2 MiB):
 * room for a burst while the screen is drawn. */
#define CAPTURE_BUFFER_BYTES (32u << 20)

struct replay {
	struct mirror_top_app *a;
	uint64_t wall0_ms;   /* wall clock of the first op */
	uint64_t paused_ms;  /* time spent paused, which the pacing ignores */
};

static void replay_op(void *ctx, const struct mirror_dissect_op *op)
{
	struct replay *r = ctx;
	struct mirror_top_app *a = r->a;

	mirror_top_capture_add(a->capture, op);
	if (a->quit)
		return; /* read the rest without pacing or drawing */
	if (r->wall0_ms == 0)
		r->wall0_ms = mirror_top_now_ms();
	for (;;) {
		uint64_t now = mirror_top_now_ms(), wait = mirror_top_tick(a);
		if (a->quit)
			return;
		if (a->model.paused) {
			mirror_top_wait(a, wait);
			r->paused_ms += mirror_top_now_ms() - now;
			continue;
		}
		if (a->o->speed <= 0)
			break;
		uint64_t due = r->wall0_ms + r->paused_ms +
			       (uint64_t)((double)(op->time_ns - a->capture->first_time_ns) / 1e6 /
					  a->o->speed);
		if (now >= due)
			break;
		mirror_top_wait(a, due - now < wait ? due - now : wait);
	}
	/* unpaced: keys now and then */
	if (a->o->speed <= 0)
		mirror_top_keys(a);
}

/* under the capture thread's lock */
static void live_op(void *ctx, const struct mirror_dissect_op *op)
{
	struct mirror_top_app *a = ctx;

	mirror_top_capture_add(a->capture, op);
}

static void run_live(struct mirror_top_app *a, struct mirror_dissect_run_opts *ro,
		     struct mirror_dissect_run_stats *st)
{
	struct mirror_capture_thread *t;
	char why[128];
	int rc = mirror_capture_thread_start(&t, ro, live_op, a, st, why, sizeof(why));

	if (rc < 0) {
		mirror_top_display_off(a);
		fprintf(stderr, PROG ": %s\n", why);
		a->status = mirror_top_exit(a->o->src, rc);
		return;
	}
	a->live_thread = t;
	/* a capture that cannot open (no such interface, a bad filter, no
	 * permission) fails at once: give it that moment before the first
	 * screen */
	mirror_capture_thread_wait(t, 300);
	a->next_ms = mirror_top_now_ms();
	while (!mirror_capture_thread_ended(t) && !a->quit) {
		a->drops = mirror_capture_thread_drops(t);
		mirror_top_wait(a, mirror_top_tick(a));
	}
	a->drops = mirror_capture_thread_drops(t);
	/* a thread still waiting for its first packet is left to the
	 * process's exit, with st (and stays live_thread: it may still add) */
	if (mirror_capture_thread_stop(t, 300, &a->live_rc)) {
		a->live_thread = NULL;
		a->live_ended = true;
	} else {
		a->live_detached = true;
	}
}

void mirror_top_run_capture(struct mirror_top_app *a)
{
	struct mirror_dissect_run_opts ro;
	struct mirror_dissect_run_stats *st = calloc(1, sizeof(*st));
	struct replay r = { a, 0, 0 };
	int rc;

	a->capture = calloc(1, sizeof(*a->capture));
	if (!st || !a->capture) {
		mirror_top_display_off(a);
		fprintf(stderr, PROG ": out of memory\n");
		a->status = mirror_top_exit(a->o->src, -ENOMEM);
		free(st);
		return;
	}
	mirror_top_capture_init(a->capture, &a->o->profile);
	memset(&ro, 0, sizeof(ro));
	ro.target_port = a->o->port;
	ro.dissect.profile = &a->o->profile;
	a->next_ms = mirror_top_now_ms();
	if (a->o->src == MIRROR_TOP_SRC_LIVE) {
		ro.iface = a->o->iface;
		ro.filter = a->o->filter;
		ro.buffer_bytes = CAPTURE_BUFFER_BYTES;
		run_live(a, &ro, st);
		if (a->live_detached) {
			if (a->o->batch)
				fprintf(stderr, PROG ": kernel drops %llu\n",
					(unsigned long long)a->drops);
			return; /* st belongs to the capture thread now */
		}
		if (!a->live_ended) {
			free(st);
			return;
		}
		rc = a->live_rc;
	} else {
		ro.path = a->o->file;
		rc = mirror_dissect_run(&ro, replay_op, &r, st);
	}
	if (rc < 0 && rc != -EIO) {
		mirror_top_display_off(a);
		fprintf(stderr, PROG ": %s: %s\n",
			a->o->src == MIRROR_TOP_SRC_LIVE ? a->o->iface : a->o->file,
			st->error[0] ? st->error : mirror_strerror(rc));
		a->status = mirror_top_exit(a->o->src, rc);
		free(st);
		return;
	}
	if (rc == -EIO) {
		snprintf(a->error, sizeof(a->error), "%s", st->error);
		a->status = mirror_top_exit(a->o->src, rc);
	}
	if (a->o->src == MIRROR_TOP_SRC_LIVE && a->o->batch)
		fprintf(stderr, PROG ": %llu packets, kernel drops %llu\n",
			(unsigned long long)st->capture.packets,
			(unsigned long long)st->kernel_drops);
	free(st);
	if (a->o->src == MIRROR_TOP_SRC_LIVE || (a->quit && !a->o->batch))
		return;
	/* the replay is over: the final reading, then wait for q */
	a->done = true;
	bool stopped_early = a->quit;
	a->quit = false;
	a->model.paused = false;
	if (!stopped_early || a->o->batch) {
		a->limit = 0; /* the final snapshot always comes */
		mirror_top_refresh(a);
		a->limit = a->o->iterations;
	}
	if (a->o->batch)
		return;
	while (!a->quit) {
		mirror_top_wait(a, 1000);
		if (a->quit)
			break;
	}
}
