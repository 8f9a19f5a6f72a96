/* mirror-top's run: reads a source on a timer (mirror-emu's stats socket,
 * a capture replayed at a speed factor, a live capture, a pair's state
 * file), keeps the model of top.h or pair.h and shows its lines -- on
 * stdout as snapshots (the batch mode), or through a display that draws
 * them and gives keys (the ncurses view, app/top/term.h).  Everything
 * mirror-top does but reading its command line and owning the terminal. */
#ifndef MIRROR_TOP_RUN_H
#define MIRROR_TOP_RUN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mirror/profile.h>
#include "app/top/top.h"

#ifdef __cplusplus
extern "C" {
#endif

enum mirror_top_source { MIRROR_TOP_SRC_NONE = 0, MIRROR_TOP_SRC_EMU, MIRROR_TOP_SRC_REPLAY,
			 MIRROR_TOP_SRC_LIVE, MIRROR_TOP_SRC_PAIR };

struct mirror_top_opts {
	enum mirror_top_source src;
	const char *emu, *file, *iface, *filter;
	const char *pair;  /* mirror-pair's state file */
	double speed;
	uint16_t port;
	unsigned delay_ms;
	bool batch;
	uint64_t iterations; /* 0: no limit */
	bool ascii;
	struct mirror_profile profile;
};

/* What a display's key function returns besides a character. */
#define MIRROR_TOP_KEY_NONE (-1)   /* no key waits */
#define MIRROR_TOP_KEY_RESIZE (-2) /* the terminal changed its size */

/* A terminal: its size, the lines drawn (a MIRROR_TOP_LINE_KEYS line at
 * the bottom row), the keys typed, and the terminal given back before a
 * message goes to stderr. */
struct mirror_top_display {
	void *ctx;
	void (*size)(void *ctx, unsigned *cols, unsigned *rows);
	void (*draw)(void *ctx, const struct mirror_top_line *lines, unsigned n);
	int (*key)(void *ctx);
	void (*off)(void *ctx);
};

/* Runs until q, the end of -n, the end of a replay in batch mode, or
 * *stop (set by a signal handler); d NULL is the batch mode.  Returns the
 * exit status (<mirror/exit_status.h>); what went wrong is on stderr. */
int mirror_top_run(const struct mirror_top_opts *o, const struct mirror_top_display *d,
		   volatile sig_atomic_t *stop);

/* A key typed in the view: q quits (true), p pauses, r resets, s sorts,
 * v shows the next view, ? or h the help; any key but a resize leaves
 * the help. */
bool mirror_top_key(struct mirror_top_model *m, bool *help, int ch);

/* The title's source ("emu SOCKET", "pair FILE", "replay FILE xS",
 * "live IFACE FILTER") and state ("running", "paused", "replay done",
 * then ": error" or ", kernel drops N" for a live capture). */
void mirror_top_source_label(const struct mirror_top_opts *o, char *buf, size_t len);
void mirror_top_state_label(bool paused, bool done, const char *error, bool live, uint64_t drops,
			    char *buf, size_t len);

/* The exit status of a source that failed with a library code rc (or of
 * a run that ended, rc 0): sg3_utils' table (mirror_exit_from_error),
 * with what a code means for that source where the table's general
 * meaning does not fit. */
int mirror_top_exit(enum mirror_top_source src, int rc);

#ifdef __cplusplus
}
#endif
#endif
