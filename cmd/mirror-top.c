/* mirror-top: a live view of what the mirror link costs, per path.  Reads
 * a source (mirror-emu's stats socket, a capture file replayed at a speed
 * factor, or a live capture), feeds the model of app/top/top.h and
 * shows its lines: with ncurses, or with -b as snapshots on stdout in the
 * manner of top -b.  The curses drawing lives here so that libmirror does
 * not depend on ncurses. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curses.h>
#include <json-c/json.h>

#include <mirror/mirror.h>
#include <mirror/dissect_run.h>
#include "app/emu/stats.h"
#include "iscsi/stats.h"
#include "app/top/top.h"
#include "app/top/pair.h"

#define PROG "mirror-top"
#define LINES_MAX 64
#define TICK_MS 100
/* The kernel's buffer for a live capture (libpcap's default is 2 MiB):
 * room for a burst while the screen is drawn. */
#define CAPTURE_BUFFER_BYTES (32u << 20)

enum source_kind { SRC_NONE = 0, SRC_EMU, SRC_REPLAY, SRC_LIVE, SRC_PAIR };

struct opts {
	enum source_kind src;
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

struct app {
	const struct opts *o;
	struct mirror_top_model model;
	struct mirror_top_capture *capture; /* replay and live */
	struct mirror_top_pair *pair;       /* --pair */
	bool live;                          /* a live capture runs */
	uint64_t drops;                     /* its kernel drops so far */
	bool live_ended, live_detached;
	int live_rc;
	bool curses;
	bool color;
	bool help;
	bool quit;
	bool done;         /* replay finished */
	uint64_t snapshots;
	uint64_t next_ms;  /* next refresh */
	char source[256];
	char state[320];
	char error[256];
	int status;
};

static const char usage_text[] =
	"Usage: " PROG " [OPTIONS] --emu SOCKET | -r FILE [--speed X] | -i IFACE [-f FILTER]\n"
	"       " PROG " [OPTIONS] --pair STATEFILE\n"
	"A live view of the mirror link per path: ops/s, MB/s, interrupts/op, bytes/op,\n"
	"savings against all-large, latency, errors by sense, sequence gaps, a 60-second\n"
	"history and the latest spec findings.\n"
	"\n"
	"  -e, --emu SOCKET        mirror-emu's stats socket (--stats-socket)\n"
	"      --pair STATEFILE    both controllers of a pair (mirror-pair's state file):\n"
	"                          host ops/s, mirror ops by path, NVRAM, destage\n"
	"                          backlog, ALUA states, takeover events\n"
	"  -r, --read FILE         replay a capture file (pcap or pcapng)\n"
	"  -x, --speed X           replay speed factor (default 1; 0: as fast as it reads)\n"
	"  -i, --interface IFACE   live capture on IFACE (libpcap; needs CAP_NET_RAW)\n"
	"  -f, --filter EXPR       pcap-filter(7) expression for -i\n"
	"  -P, --port N            the target's TCP port in a capture (default 3260)\n"
	"  -d, --delay SECONDS     refresh interval (default 1)\n"
	"  -b, --batch             print a snapshot every interval on stdout, no curses\n"
	"  -n, --iterations N      stop after N snapshots (batch, or any source)\n"
	"  -a, --ascii             ASCII sparklines (default when the locale is not UTF-8)\n"
	"  -p, --profile NAME      wire profile (default v1)\n"
	"      --opcodes LIST      NOTIFY,SMALL_A,SMALL_B,TABLE,READBACK in hex\n"
	"  -h, --help              this text\n"
	"  -V, --version           print the version\n"
	"\n"
	"Keys: q quit, p pause, r reset, s sort, v next view, ? help.  NO_COLOR turns\n"
	"colours off.  Exit status: 0 done, 1 syntax error, 15 capture file error, 35\n"
	"cannot reach the source, 99 other; see mirror-top(1).\n";

#define syntax_error(...) mirror_syntax_error(PROG, __VA_ARGS__)

static int parse_args(struct opts *o, int argc, char **argv)
{
	enum { OPT_OPCODES = 256, OPT_PAIR };
	static const struct option longopts[] = {
		{ "emu", required_argument, NULL, 'e' },
		{ "pair", required_argument, NULL, OPT_PAIR },
		{ "read", required_argument, NULL, 'r' },
		{ "speed", required_argument, NULL, 'x' },
		{ "interface", required_argument, NULL, 'i' },
		{ "filter", required_argument, NULL, 'f' },
		{ "port", required_argument, NULL, 'P' },
		{ "delay", required_argument, NULL, 'd' },
		{ "batch", no_argument, NULL, 'b' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "ascii", no_argument, NULL, 'a' },
		{ "profile", required_argument, NULL, 'p' },
		{ "opcodes", required_argument, NULL, OPT_OPCODES },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct mirror_profile_options po = { 0 };
	unsigned nsrc = 0;
	char why[256];
	double d;
	uint64_t n;
	int c;

	while ((c = getopt_long(argc, argv, "e:r:x:i:f:P:d:bn:ap:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'e':
			o->emu = optarg;
			o->src = SRC_EMU;
			nsrc++;
			break;
		case OPT_PAIR:
			o->pair = optarg;
			o->src = SRC_PAIR;
			nsrc++;
			break;
		case 'r':
			o->file = optarg;
			o->src = SRC_REPLAY;
			nsrc++;
			break;
		case 'i':
			o->iface = optarg;
			o->src = SRC_LIVE;
			nsrc++;
			break;
		case 'x':
			if (mirror_parse_double(optarg, 0, 1e6, &o->speed) < 0)
				return syntax_error("bad --speed '%s' (a factor, 0 for no pacing)", optarg);
			break;
		case 'f':
			o->filter = optarg;
			break;
		case 'P':
			if (mirror_parse_count(optarg, 1, 65535, &n) < 0)
				return syntax_error("bad --port '%s' (1..65535)", optarg);
			o->port = (uint16_t)n;
			break;
		case 'd':
			if (mirror_parse_double(optarg, 0.1, 3600, &d) < 0)
				return syntax_error("bad --delay '%s' (0.1..3600 seconds)", optarg);
			o->delay_ms = (unsigned)(d * 1000.0 + 0.5);
			break;
		case 'b':
			o->batch = true;
			break;
		case 'n':
			if (mirror_parse_count(optarg, 1, UINT64_C(1000000000000), &o->iterations) < 0)
				return syntax_error("bad --iterations '%s' (a positive count)", optarg);
			break;
		case 'a':
			o->ascii = true;
			break;
		case 'p':
			po.name = optarg;
			break;
		case OPT_OPCODES:
			po.opcodes = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return MIRROR_EXIT_OK;
		case 'V':
			printf(PROG " (mirrortest) %s\n", mirror_version());
			return MIRROR_EXIT_OK;
		default:
			fprintf(stderr, "Try '" PROG " --help'.\n");
			return MIRROR_EXIT_SYNTAX;
		}
	}
	if (optind < argc)
		return syntax_error("unexpected operand '%s'", argv[optind]);
	if (nsrc != 1)
		return syntax_error("%s", nsrc ? "one source: --emu, --pair, -r or -i, not several"
					       : "no source: --emu SOCKET, --pair STATEFILE, -r FILE or -i IFACE");
	if (o->filter && o->src != SRC_LIVE)
		return syntax_error("%s", "--filter belongs to a live capture (-i)");
	if (o->speed != 1.0 && o->src != SRC_REPLAY)
		return syntax_error("%s", "--speed belongs to a replay (-r)");
	if (mirror_profile_from_options(&po, &o->profile, why, sizeof(why)) < 0)
		return syntax_error("%s", why);
	return -1;
}

/* ---- time and signals ---- */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	(void)sig;
	got_signal = 1;
}

/* ---- the screen ---- */

static bool curses_on;

/* Every way out restores the terminal: atexit covers exit() paths, the
 * signal handlers only set a flag that the loops turn into a quit. */
static void curses_off(void)
{
	if (curses_on) {
		endwin();
		curses_on = false;
	}
}

static int curses_start(struct app *a)
{
	if (!initscr())
		return -1;
	curses_on = true;
	cbreak();
	noecho();
	nodelay(stdscr, TRUE);
	keypad(stdscr, TRUE);
	curs_set(0);
	a->color = has_colors() && !getenv("NO_COLOR");
	if (a->color) {
		start_color();
		use_default_colors();
		init_pair(1, COLOR_CYAN, -1);
		init_pair(2, COLOR_YELLOW, -1);
		init_pair(3, COLOR_GREEN, -1);
	}
	return 0;
}

static attr_t attr_of(const struct app *a, enum mirror_top_line_kind k)
{
	switch (k) {
	case MIRROR_TOP_LINE_TITLE:
		return A_BOLD | (a->color ? COLOR_PAIR(1) : 0);
	case MIRROR_TOP_LINE_HEADER:
		return a->color ? A_BOLD | COLOR_PAIR(1) : A_BOLD;
	case MIRROR_TOP_LINE_FINDING:
		return a->color ? COLOR_PAIR(2) : 0;
	case MIRROR_TOP_LINE_SPARK:
		return a->color ? COLOR_PAIR(3) : 0;
	case MIRROR_TOP_LINE_KEYS:
		return A_REVERSE;
	default:
		return 0;
	}
}

static void state_text(struct app *a)
{
	const char *what = a->model.paused ? "paused" : a->done ? "replay done" : "running";

	if (a->error[0])
		snprintf(a->state, sizeof(a->state), "%s: %s", what, a->error);
	else if (a->live)
		snprintf(a->state, sizeof(a->state), "%s, kernel drops %llu", what,
			 (unsigned long long)a->drops);
	else
		snprintf(a->state, sizeof(a->state), "%s", what);
}

static void put_lines(struct app *a, const struct mirror_top_line *lines, unsigned n, int rows)
{
	erase();
	for (unsigned i = 0; i < n && (int)i < rows; i++) {
		attr_t at = attr_of(a, lines[i].kind);
		attron(at);
		mvaddstr((int)i, 0, lines[i].text);
		attroff(at);
	}
	refresh();
}

/* The pair view: batch snapshots as the other sources', or the screen. */
static void draw_pair(struct app *a, struct mirror_top_line *lines)
{
	char source[600];
	int rows = 0, cols = 0;

	snprintf(source, sizeof(source), "%s  %s", a->source, a->state);
	if (a->o->batch) {
		unsigned n = mirror_top_pair_screen(a->pair, source, 0, lines, LINES_MAX);
		for (unsigned i = 0; i < n; i++)
			puts(lines[i].text);
		putchar('\n');
		fflush(stdout);
		return;
	}
	getmaxyx(stdscr, rows, cols);
	unsigned n = mirror_top_pair_screen(a->pair, source, cols > 0 ? (unsigned)cols : 80, lines,
					    LINES_MAX);
	put_lines(a, lines, n, rows);
}

static void draw(struct app *a)
{
	static struct mirror_top_line lines[LINES_MAX];
	struct mirror_top_screen_opts so = { 0 };

	state_text(a);
	if (a->o->src == SRC_PAIR) {
		draw_pair(a, lines);
		return;
	}
	so.source = a->source;
	so.state = a->state;
	so.ascii = a->o->ascii;
	so.help = a->help;
	if (a->o->batch) {
		unsigned n = mirror_top_screen(&a->model, &so, lines, LINES_MAX);
		for (unsigned i = 0; i < n; i++)
			puts(lines[i].text);
		putchar('\n');
		fflush(stdout);
		return;
	}
	int rows, cols;
	getmaxyx(stdscr, rows, cols);
	so.width = cols > 0 ? (unsigned)cols : 80;
	so.height = rows > 0 ? (unsigned)rows : 24;
	unsigned n = mirror_top_screen(&a->model, &so, lines, LINES_MAX);
	erase();
	for (unsigned i = 0; i < n && (int)i < rows; i++) {
		attr_t at = attr_of(a, lines[i].kind);
		/* the keys line sits at the bottom */
		int y = lines[i].kind == MIRROR_TOP_LINE_KEYS ? rows - 1 : (int)i;
		attron(at);
		mvaddstr(y, 0, lines[i].text);
		attroff(at);
	}
	refresh();
}

/* A live capture runs in a thread of its own: with TPACKET_V3, libpcap
 * waits without a timeout while no packet arrives, so the capture's tick
 * cannot drive the screen of an idle link.  The thread decodes; the main
 * thread draws, reads the keys and, to quit, breaks the capture (which
 * libpcap allows from another thread). */
struct live {
	pthread_mutex_t mu;
	struct app *a;
	struct mirror_dissect_run_opts ro;
	struct mirror_dissect_run_stats *st;
	struct mirror_capture *cap; /* known from the first tick on */
	uint64_t drops;
	bool quit, ended;
	int rc;
};

static struct live *the_live; /* while it runs: refresh_view locks it */

/* ---- reading the sources ---- */

static int read_emu(struct app *a, struct mirror_top_counters *c)
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

/* The pair: the state file names each controller's stats socket (read
 * again every time: a restarted controller keeps its socket path but the
 * state file may move on).  A controller whose socket does not answer is
 * shown down, not an error: a killed controller is a state worth seeing.
 * -ENOENT/-EINVAL when the state file cannot be read. */
static int read_pair(struct app *a)
{
	struct json_object *st = json_object_from_file(a->o->pair), *ctls = NULL;
	int up = 0;

	if (!st || !json_object_object_get_ex(st, "controllers", &ctls)) {
		snprintf(a->error, sizeof(a->error), "%s: %s", a->o->pair,
			 st ? "no \"controllers\" object" : "cannot read it as JSON");
		json_object_put(st);
		return st ? -EINVAL : -ENOENT;
	}
	a->error[0] = '\0';
	for (unsigned id = 0; id < 2; id++) {
		static const char *const ids[2] = { "a", "b" };
		struct mirror_top_ctl c;
		struct json_object *ctl, *sock, *j = NULL;
		char err[256];
		int rc = -EINVAL;

		memset(&c, 0, sizeof(c));
		if (!json_object_object_get_ex(ctls, ids[id], &ctl) ||
		    !json_object_object_get_ex(ctl, "stats_socket", &sock))
			snprintf(err, sizeof(err), "no controllers.%s.stats_socket in the state file",
				 ids[id]);
		else if ((rc = mirror_stats_query(json_object_get_string(sock), &j, err,
						  sizeof(err))) == 0)
			rc = mirror_top_ctl_from_stats(j, &c, err, sizeof(err));
		json_object_put(j);
		if (rc < 0) {
			c.up = false;
			snprintf(c.error, sizeof(c.error), "%s", err);
		} else {
			up++;
		}
		mirror_top_pair_update(a->pair, id, now_ms(), &c);
	}
	json_object_put(st);
	if (!up)
		snprintf(a->error, sizeof(a->error), "neither controller answers");
	return up ? 0 : -ECONNREFUSED;
}

/* One refresh: a new reading (unless paused), then the screen or a
 * snapshot. */
static void refresh_view(struct app *a)
{
	struct mirror_top_counters *c = malloc(sizeof(*c));

	if (!c) {
		snprintf(a->error, sizeof(a->error), "out of memory");
		return;
	}
	if (a->o->src == SRC_PAIR) {
		/* what it could not read is on the screen */
		if (!a->model.paused)
			read_pair(a);
	} else if (!a->model.paused) {
		int rc = 0;
		if (a->o->src == SRC_EMU)
			rc = read_emu(a, c);
		else if (the_live) {
			pthread_mutex_lock(&the_live->mu);
			mirror_top_from_capture(a->capture, c);
			pthread_mutex_unlock(&the_live->mu);
		} else {
			mirror_top_from_capture(a->capture, c);
		}
		if (rc == 0)
			mirror_top_update(&a->model, now_ms(), c);
		else if (a->o->batch) {
			fprintf(stderr, PROG ": --emu %s: %s\n", a->o->emu, a->error);
			a->status = MIRROR_EXIT_TRANSPORT;
			a->quit = true;
			free(c);
			return;
		}
	}
	free(c);
	draw(a);
	a->snapshots++;
	if (a->o->iterations && a->snapshots >= a->o->iterations)
		a->quit = true;
}

/* ---- keys ---- */

static void handle_key(struct app *a, int ch)
{
	if (a->help && ch != ERR && ch != KEY_RESIZE) {
		a->help = false; /* any key leaves the help */
		return;
	}
	switch (ch) {
	case 'q':
	case 'Q':
		a->quit = true;
		break;
	case 'p':
		a->model.paused = !a->model.paused;
		break;
	case 'r':
		mirror_top_reset(&a->model);
		break;
	case 's':
		a->model.sort = (enum mirror_top_sort)((a->model.sort + 1) % MIRROR_TOP_SORTS);
		break;
	case 'v':
		a->model.view = (enum mirror_top_view)((a->model.view + 1) % MIRROR_TOP_VIEWS);
		break;
	case '?':
	case 'h':
		a->help = true;
		break;
	default:
		break;
	}
}

/* Reads every key waiting; redraws when one changed the view. */
static void keys(struct app *a)
{
	int ch;
	bool redraw = false;

	if (!a->curses)
		return;
	/* keys typed after q are left to whoever reads the terminal next */
	while (!a->quit && (ch = getch()) != ERR) {
		handle_key(a, ch);
		redraw = true;
	}
	if (redraw && !a->quit)
		draw(a);
}

/* Waits up to ms for a key (curses) or just waits (batch); a signal ends
 * the wait early. */
static void wait_input(struct app *a, uint64_t ms)
{
	struct pollfd p = { STDIN_FILENO, POLLIN, 0 };

	if (ms > 1000)
		ms = 1000;
	poll(&p, a->curses ? 1 : 0, (int)ms);
	if (got_signal)
		a->quit = true;
	keys(a);
}

/* Refreshes when due; returns the ms until the next refresh. */
static uint64_t tick(struct app *a)
{
	uint64_t now = now_ms();

	if (now >= a->next_ms) {
		refresh_view(a);
		a->next_ms += a->o->delay_ms;
		if (a->next_ms <= now)
			a->next_ms = now + a->o->delay_ms;
	}
	return a->next_ms > now ? a->next_ms - now : 0;
}

/* ---- the sources' loops ---- */

static void run_emu(struct app *a)
{
	a->next_ms = now_ms();
	/* the first reading decides whether the socket is there at all */
	struct mirror_top_counters c;
	if (read_emu(a, &c) < 0) {
		curses_off();
		fprintf(stderr, PROG ": --emu %s: %s\n", a->o->emu, a->error);
		a->status = MIRROR_EXIT_TRANSPORT;
		return;
	}
	while (!a->quit)
		wait_input(a, tick(a));
}

static void run_pair(struct app *a)
{
	a->next_ms = now_ms();
	/* a state file that is not there is the caller's mistake; controllers
	 * that are down are shown */
	int rc = read_pair(a);
	if (rc == -ENOENT || rc == -EINVAL) {
		curses_off();
		fprintf(stderr, PROG ": --pair %s\n", a->error);
		a->status = MIRROR_EXIT_FILE_ERROR;
		return;
	}
	while (!a->quit)
		wait_input(a, tick(a));
}

struct replay {
	struct app *a;
	uint64_t wall0_ms;   /* wall clock of the first op */
	uint64_t paused_ms;  /* time spent paused, which the pacing ignores */
};

static void replay_op(void *ctx, const struct mirror_dissect_op *op)
{
	struct replay *r = ctx;
	struct app *a = r->a;

	mirror_top_capture_add(a->capture, op);
	if (a->quit)
		return; /* read the rest without pacing or drawing */
	if (r->wall0_ms == 0)
		r->wall0_ms = now_ms();
	for (;;) {
		uint64_t now = now_ms(), wait = tick(a);
		if (a->quit)
			return;
		if (a->model.paused) {
			wait_input(a, wait);
			r->paused_ms += now_ms() - now;
			continue;
		}
		if (a->o->speed <= 0)
			break;
		uint64_t due = r->wall0_ms + r->paused_ms +
			       (uint64_t)((double)(op->time_ns - a->capture->first_time_ns) / 1e6 /
					  a->o->speed);
		if (now >= due)
			break;
		wait_input(a, due - now < wait ? due - now : wait);
	}
	/* unpaced: keys now and then */
	if (a->o->speed <= 0)
		keys(a);
}

static void live_tick(void *ctx, struct mirror_capture *cap)
{
	struct live *l = ctx;

	pthread_mutex_lock(&l->mu);
	l->cap = cap;
	l->drops = mirror_capture_drops(cap);
	bool quit = l->quit;
	pthread_mutex_unlock(&l->mu);
	if (quit)
		mirror_capture_break(cap);
}

static void live_op(void *ctx, const struct mirror_dissect_op *op)
{
	struct live *l = ctx;

	pthread_mutex_lock(&l->mu);
	mirror_top_capture_add(l->a->capture, op);
	pthread_mutex_unlock(&l->mu);
}

static void *live_main(void *ctx)
{
	struct live *l = ctx;
	int rc = mirror_dissect_run(&l->ro, live_op, l, l->st);

	pthread_mutex_lock(&l->mu);
	l->rc = rc;
	l->ended = true;
	l->cap = NULL;
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

static void run_live(struct app *a, struct mirror_dissect_run_opts *ro,
		     struct mirror_dissect_run_stats *st)
{
	struct live *l = calloc(1, sizeof(*l));
	pthread_t th;

	if (!l) {
		a->status = MIRROR_EXIT_OTHER;
		return;
	}
	pthread_mutex_init(&l->mu, NULL);
	l->a = a;
	l->ro = *ro;
	l->ro.tick = live_tick;
	l->ro.tick_ctx = l;
	l->ro.tick_ms = TICK_MS;
	l->st = st;
	if (pthread_create(&th, NULL, live_main, l) != 0) {
		curses_off();
		fprintf(stderr, PROG ": cannot start the capture thread\n");
		a->status = MIRROR_EXIT_OTHER;
		free(l);
		return;
	}
	the_live = l;
	/* a capture that cannot open (no such interface, a bad filter, no
	 * permission) fails at once: give it that moment before the first
	 * screen */
	for (unsigned i = 0; i < 30; i++) {
		pthread_mutex_lock(&l->mu);
		bool ended = l->ended;
		pthread_mutex_unlock(&l->mu);
		if (ended)
			break;
		struct timespec ts = { 0, 10000000 };
		nanosleep(&ts, NULL);
	}
	a->next_ms = now_ms();
	for (;;) {
		pthread_mutex_lock(&l->mu);
		bool ended = l->ended;
		a->drops = l->drops;
		pthread_mutex_unlock(&l->mu);
		if (ended || a->quit)
			break;
		wait_input(a, tick(a));
	}
	/* end the capture; a thread still waiting for its first packet is
	 * left to the process's exit */
	pthread_mutex_lock(&l->mu);
	l->quit = true;
	if (l->cap)
		mirror_capture_break(l->cap);
	pthread_mutex_unlock(&l->mu);
	for (unsigned i = 0; i < 30; i++) {
		pthread_mutex_lock(&l->mu);
		bool ended = l->ended;
		pthread_mutex_unlock(&l->mu);
		if (ended) {
			pthread_join(th, NULL);
			the_live = NULL;
			pthread_mutex_destroy(&l->mu);
			a->live_rc = l->rc;
			a->live_ended = true;
			free(l);
			return;
		}
		struct timespec ts = { 0, 10000000 };
		nanosleep(&ts, NULL);
	}
	pthread_detach(th);
	/* l and st stay with the thread until the process exits */
	a->live_detached = true;
}

static void run_capture(struct app *a)
{
	struct mirror_dissect_run_opts ro;
	struct mirror_dissect_run_stats *st = calloc(1, sizeof(*st));
	struct replay r = { a, 0, 0 };
	int rc;

	a->capture = calloc(1, sizeof(*a->capture));
	if (!st || !a->capture) {
		curses_off();
		fprintf(stderr, PROG ": out of memory\n");
		a->status = MIRROR_EXIT_OTHER;
		free(st);
		return;
	}
	mirror_top_capture_init(a->capture, &a->o->profile);
	memset(&ro, 0, sizeof(ro));
	ro.target_port = a->o->port;
	ro.dissect.profile = &a->o->profile;
	a->next_ms = now_ms();
	if (a->o->src == SRC_LIVE) {
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
		curses_off();
		fprintf(stderr, PROG ": %s: %s\n", a->o->src == SRC_LIVE ? a->o->iface : a->o->file,
			st->error[0] ? st->error : mirror_strerror(rc));
		/* a filter libpcap cannot parse is the user's syntax error */
		a->status = a->o->src != SRC_LIVE ? MIRROR_EXIT_FILE_ERROR
			    : rc == -EINVAL ? MIRROR_EXIT_SYNTAX : MIRROR_EXIT_OTHER;
		free(st);
		return;
	}
	if (rc == -EIO) {
		snprintf(a->error, sizeof(a->error), "%s", st->error);
		a->status = MIRROR_EXIT_FILE_ERROR;
	}
	if (a->o->src == SRC_LIVE && a->o->batch)
		fprintf(stderr, PROG ": %llu packets, kernel drops %llu\n",
			(unsigned long long)st->capture.packets,
			(unsigned long long)st->kernel_drops);
	free(st);
	if (a->o->src == SRC_LIVE || (a->quit && !a->o->batch))
		return;
	/* the replay is over: the final reading, then wait for q */
	a->done = true;
	bool stopped_early = a->quit;
	a->quit = false;
	a->model.paused = false;
	if (!stopped_early || a->o->batch) {
		uint64_t limit = a->o->iterations;
		struct opts *o = (struct opts *)a->o;
		o->iterations = 0; /* the final snapshot always comes */
		refresh_view(a);
		o->iterations = limit;
	}
	if (a->o->batch)
		return;
	while (!a->quit) {
		wait_input(a, 1000);
		if (a->quit)
			break;
	}
}

int main(int argc, char **argv)
{
	struct opts o;
	struct app *a;
	int ret;

	memset(&o, 0, sizeof(o));
	o.speed = 1.0;
	o.delay_ms = 1000;
	ret = parse_args(&o, argc, argv);
	if (ret >= 0)
		return ret;
	setlocale(LC_ALL, "");
	if (strcmp(nl_langinfo(CODESET), "UTF-8") != 0)
		o.ascii = true;

	a = calloc(1, sizeof(*a));
	if (!a) {
		fprintf(stderr, PROG ": out of memory\n");
		return MIRROR_EXIT_OTHER;
	}
	a->o = &o;
	a->live = o.src == SRC_LIVE;
	mirror_top_init(&a->model);
	switch (o.src) {
	case SRC_EMU:
		snprintf(a->source, sizeof(a->source), "emu %s", o.emu);
		break;
	case SRC_PAIR:
		snprintf(a->source, sizeof(a->source), "pair %s", o.pair);
		a->pair = calloc(1, sizeof(*a->pair));
		if (!a->pair) {
			free(a);
			fprintf(stderr, PROG ": out of memory\n");
			return MIRROR_EXIT_OTHER;
		}
		mirror_top_pair_init(a->pair);
		break;
	case SRC_REPLAY:
		snprintf(a->source, sizeof(a->source), "replay %s x%g", o.file, o.speed);
		break;
	default:
		snprintf(a->source, sizeof(a->source), "live %s%s%s", o.iface, o.filter ? " " : "",
			 o.filter ? o.filter : "");
		break;
	}

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: poll(2) returns at once */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	atexit(curses_off);
	if (!o.batch) {
		if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
			free(a);
			return syntax_error("%s", "not a terminal: use -b for batch output");
		}
		if (curses_start(a) < 0) {
			fprintf(stderr, PROG ": cannot start curses (TERM=%s)\n",
				getenv("TERM") ? getenv("TERM") : "");
			free(a);
			return MIRROR_EXIT_OTHER;
		}
		a->curses = true;
	}
	if (o.src == SRC_EMU)
		run_emu(a);
	else if (o.src == SRC_PAIR)
		run_pair(a);
	else
		run_capture(a);
	curses_off();
	ret = a->status;
	free(a->capture);
	free(a->pair);
	free(a);
	return ret;
}
