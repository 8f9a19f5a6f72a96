/* mirror-top: a live view of what the mirror link costs, per path.  Reads
 * its command line, owns the terminal and hands both to app/top/run.h,
 * which reads the source and shows the model of app/top/top.h: with
 * ncurses (app/top/term.h), or with -b as snapshots on stdout in the
 * manner of top -b. */
#include "config.h"

#include <getopt.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mirror/mirror.h>
#include "app/cli/cli.h"
#include "app/top/run.h"
#include "app/top/term.h"

#define PROG "mirror-top"

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
	"  -p, --profile NAME      wire profile, default v1 (--opcodes, --nvram-size,\n"
	"  -O, --opcodes N,A,B,T,R --region-split, --strict as for mirror-decode; a\n"
	"      --nvram-size SIZE   capture decodes as mirror-dissect decodes it)\n"
	"      --region-split ADDR\n"
	"      --strict\n"
	"  -h, --help              this text\n"
	"  -V, --version           print the version\n"
	"\n"
	"Keys: q quit, p pause, r reset, s sort, v next view, ? help.  NO_COLOR turns\n"
	"colours off.  Exit status: 0 done, 1 syntax error, 15 capture file error, 35\n"
	"cannot reach the source, 99 other; see mirror-top(1).\n";

#define syntax_error(...) mirror_syntax_error(PROG, __VA_ARGS__)

static int parse_args(struct mirror_top_opts *o, int argc, char **argv)
{
	enum { OPT_PAIR = 256 };
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
		MIRROR_CLI_PROFILE_LONGOPTS_NO_N,
		MIRROR_CLI_STD_LONGOPTS,
	};
	struct mirror_profile_options po = { 0 };
	unsigned nsrc = 0;
	char why[256];
	double d;
	uint64_t n;
	int c;

	while ((c = getopt_long(argc, argv, "e:r:x:i:f:P:d:bn:a" MIRROR_CLI_PROFILE_SHORTOPTS_NO_N MIRROR_CLI_STD_SHORTOPTS, longopts, NULL)) != -1) {
		switch (c) {
		case 'e':
			o->emu = optarg;
			o->src = MIRROR_TOP_SRC_EMU;
			nsrc++;
			break;
		case OPT_PAIR:
			o->pair = optarg;
			o->src = MIRROR_TOP_SRC_PAIR;
			nsrc++;
			break;
		case 'r':
			o->file = optarg;
			o->src = MIRROR_TOP_SRC_REPLAY;
			nsrc++;
			break;
		case 'i':
			o->iface = optarg;
			o->src = MIRROR_TOP_SRC_LIVE;
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
		default:
			if (mirror_cli_profile_option(c, optarg, &po))
				break;
			return mirror_cli_default_option(c, PROG, usage_text);
		}
	}
	if (optind < argc)
		return syntax_error("unexpected operand '%s'", argv[optind]);
	if (nsrc != 1)
		return syntax_error("%s", nsrc ? "one source: --emu, --pair, -r or -i, not several"
					       : "no source: --emu SOCKET, --pair STATEFILE, -r FILE or -i IFACE");
	if (o->filter && o->src != MIRROR_TOP_SRC_LIVE)
		return syntax_error("%s", "--filter belongs to a live capture (-i)");
	if (o->speed != 1.0 && o->src != MIRROR_TOP_SRC_REPLAY)
		return syntax_error("%s", "--speed belongs to a replay (-r)");
	if (mirror_profile_from_options(&po, &o->profile, why, sizeof(why)) < 0)
		return syntax_error("%s", why);
	if ((c = mirror_cli_text(PROG, "--interface", o->iface)) != 0 ||
	    (c = mirror_cli_text(PROG, "--filter", o->filter)) != 0)
		return c;
	const struct mirror_cli_path_check paths[] = {
		{ "--emu", o->emu, MIRROR_CLI_PATH_SOCKET },
		{ "--pair", o->pair, MIRROR_CLI_PATH_IN },
		{ "--read", o->file, MIRROR_CLI_PATH_IN },
	};
	if ((c = mirror_cli_paths(PROG, paths, sizeof(paths) / sizeof(paths[0]))) != 0)
		return c;
	return -1;
}

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	(void)sig;
	got_signal = 1;
}

int main(int argc, char **argv)
{
	struct mirror_top_opts o;
	struct mirror_top_display d;
	int ret;

	mirror_cli_catch_truncated_capture(PROG);
	memset(&o, 0, sizeof(o));
	o.speed = 1.0;
	o.delay_ms = 1000;
	ret = parse_args(&o, argc, argv);
	if (ret >= 0)
		return ret;
	setlocale(LC_ALL, "");
	if (strcmp(nl_langinfo(CODESET), "UTF-8") != 0)
		o.ascii = true;

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: poll(2) returns at once */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	atexit(mirror_top_term_off);
	if (!o.batch) {
		if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
			return syntax_error("%s", "not a terminal: use -b for batch output");
		if (mirror_top_term_start(&d) < 0) {
			fprintf(stderr, PROG ": cannot start curses (TERM=%s)\n",
				getenv("TERM") ? getenv("TERM") : "");
			return MIRROR_EXIT_OTHER;
		}
	}
	return mirror_top_run(&o, o.batch ? NULL : &d, &got_signal);
}
