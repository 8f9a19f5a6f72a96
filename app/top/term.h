/* mirror-top's terminal: the ncurses display of app/top/run.h.  Built
 * into mirror-top alone (cmd/local.mk), so that libapp and libmirror do
 * not depend on ncurses. */
#ifndef MIRROR_TOP_TERM_H
#define MIRROR_TOP_TERM_H

#include "app/top/run.h"

/* Starts curses on the terminal and fills d; -1 when it cannot. */
int mirror_top_term_start(struct mirror_top_display *d);
/* Gives the terminal back; again is harmless (an atexit handler). */
void mirror_top_term_off(void);

#endif
