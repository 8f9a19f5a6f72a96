/* mirror-top's ncurses display (app/top/term.h). */
#include "config.h"

#include <stdlib.h>

#include <curses.h>

#include "app/top/term.h"

static bool curses_on;
static bool color;

/* Every way out restores the terminal: atexit covers exit() paths, the
 * signal handlers only set a flag that the loops turn into a quit. */
void mirror_top_term_off(void)
{
	if (curses_on) {
		endwin();
		curses_on = false;
	}
}

static attr_t attr_of(enum mirror_top_line_kind k)
{
	switch (k) {
	case MIRROR_TOP_LINE_TITLE:
		return A_BOLD | (color ? COLOR_PAIR(1) : 0);
	case MIRROR_TOP_LINE_HEADER:
		return color ? A_BOLD | COLOR_PAIR(1) : A_BOLD;
	case MIRROR_TOP_LINE_FINDING:
		return color ? COLOR_PAIR(2) : 0;
	case MIRROR_TOP_LINE_SPARK:
		return color ? COLOR_PAIR(3) : 0;
	case MIRROR_TOP_LINE_KEYS:
		return A_REVERSE;
	default:
		return 0;
	}
}

static void term_size(void *ctx, unsigned *cols, unsigned *rows)
{
	int r, c;

	(void)ctx;
	getmaxyx(stdscr, r, c);
	*cols = c > 0 ? (unsigned)c : 0;
	*rows = r > 0 ? (unsigned)r : 0;
}

static void term_draw(void *ctx, const struct mirror_top_line *lines, unsigned n)
{
	int rows, cols;

	(void)ctx;
	getmaxyx(stdscr, rows, cols);
	(void)cols;
	erase();
	for (unsigned i = 0; i < n && (int)i < rows; i++) {
		attr_t at = attr_of(lines[i].kind);
		/* the keys line sits at the bottom */
		int y = lines[i].kind == MIRROR_TOP_LINE_KEYS ? rows - 1 : (int)i;
		attron(at);
		mvaddstr(y, 0, lines[i].text);
		attroff(at);
	}
	refresh();
}

static int term_key(void *ctx)
{
	int ch = getch();

	(void)ctx;
	return ch == ERR ? MIRROR_TOP_KEY_NONE : ch == KEY_RESIZE ? MIRROR_TOP_KEY_RESIZE : ch;
}

static void term_off(void *ctx)
{
	(void)ctx;
	mirror_top_term_off();
}

int mirror_top_term_start(struct mirror_top_display *d)
{
	if (!initscr())
		return -1;
	curses_on = true;
	cbreak();
	noecho();
	nodelay(stdscr, TRUE);
	keypad(stdscr, TRUE);
	curs_set(0);
	color = has_colors() && !getenv("NO_COLOR");
	if (color) {
		start_color();
		use_default_colors();
		init_pair(1, COLOR_CYAN, -1);
		init_pair(2, COLOR_YELLOW, -1);
		init_pair(3, COLOR_GREEN, -1);
	}
	d->ctx = NULL;
	d->size = term_size;
	d->draw = term_draw;
	d->key = term_key;
	d->off = term_off;
	return 0;
}
