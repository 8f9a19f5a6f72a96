/* What app/top/run.c (the loop, the emulator and the pair) and
 * app/top/run_capture.c (a replay, a live capture) share. */
#ifndef MIRROR_TOP_RUN_INT_H
#define MIRROR_TOP_RUN_INT_H

#include "app/top/pair.h"
#include "app/top/run.h"
#include "app/top/top.h"

#define PROG "mirror-top"

struct mirror_capture_thread;

struct mirror_top_app {
	const struct mirror_top_opts *o;
	const struct mirror_top_display *d; /* NULL: batch */
	volatile sig_atomic_t *stop;
	struct mirror_top_model model;
	struct mirror_top_capture *capture; /* replay and live */
	struct mirror_top_pair *pair;       /* --pair */
	/* A live capture runs in a thread of its own (lib/capture/thread.h):
	 * the thread decodes; the loop draws, reads the keys and, to quit,
	 * breaks the capture.  Set while it runs: the refresh locks it. */
	struct mirror_capture_thread *live_thread;
	bool live;                          /* a live capture runs */
	uint64_t drops;                     /* its kernel drops so far */
	bool live_ended, live_detached;
	int live_rc;
	bool help;
	bool quit;
	bool done;         /* replay finished */
	uint64_t snapshots;
	uint64_t limit;    /* snapshots before quitting; 0: no limit */
	uint64_t next_ms;  /* next refresh */
	char source[256];
	char state[320];
	char error[256];
	int status;
};

uint64_t mirror_top_now_ms(void);
/* One refresh: a new reading (unless paused), then the screen or a
 * snapshot. */
void mirror_top_refresh(struct mirror_top_app *a);
/* Reads every key waiting; redraws when one changed the view. */
void mirror_top_keys(struct mirror_top_app *a);
/* Waits up to ms for a key (a display) or just waits (batch); a signal
 * ends the wait early. */
void mirror_top_wait(struct mirror_top_app *a, uint64_t ms);
/* Refreshes when due; returns the ms until the next refresh. */
uint64_t mirror_top_tick(struct mirror_top_app *a);
/* Gives the terminal back before a message on stderr. */
void mirror_top_display_off(struct mirror_top_app *a);

/* A replay (-r) or a live capture (-i), to its end. */
void mirror_top_run_capture(struct mirror_top_app *a);

#endif
