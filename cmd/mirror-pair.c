/* mirror-pair: starts an emulated active-active controller pair on
 * loopback and supervises it, or sends a command to one that runs.  Thin:
 * options here; the supervisor is app/pair/launcher.c, the controllers
 * mirror-ctl(1). */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mirror/mirror.h>

#include "app/cli/cli.h"
#include "app/pair/ctl.h"
#include "app/pair/launcher.h"
#include "iscsi/chap_file.h"

#define PROG "mirror-pair"

static const char usage_text[] =
	"Usage: mirror-pair --dir DIR [OPTIONS]        start a pair, stay in the foreground\n"
	"       mirror-pair --dir DIR COMMAND [a|b]    tell a running pair:\n"
	"           kill a|b, freeze a|b, thaw a|b, restart a|b, stats a|b (the\n"
	"           controller's counters, JSON), cut-link, heal-link, status, stop\n"
	"An emulated active-active RAID controller pair (mirror-ctl(1) x 2) on free\n"
	"loopback ports over a fresh RAID-5 disk array in DIR.  Once both controllers\n"
	"serve writes it writes the state file (--state, default DIR/state.json); SIGTERM\n"
	"or SIGINT stops everything it started.\n"
	"\n"
	"  -d, --dir DIR               the pair's directory (created)\n"
	"      --state FILE            the state file (default DIR/state.json)\n"
	"      --reuse                 use the array already in DIR\n"
	"  -l, --luns N                host LUNs (default 2; even at A, odd at B)\n"
	"      --lun-size SIZE         each LUN (default 64M)\n"
	"      --disks N               RAID-5 member disks (default 5, at least 3)\n"
	"      --chunk SIZE            RAID-5 chunk (default 64K)\n"
	"  -p, --profile NAME          wire profile; -O, --opcodes LIST; -n, --nvram-size\n"
	"                              SIZE; --region-split ADDR (as mirror-ctl(1))\n"
	"      --heartbeat MS, --dead MS, --link-timeout MS, --destage-delay MS,\n"
	"      --transition-time S, --queue-depth N, --fence-cmd CMD, --no-mirror,\n"
	"      --path auto|large\n"
	"                              passed to both controllers (mirror-ctl(1))\n"
	"  -c, --chap-file FILE        CHAP required on both host ports and mirror ports\n"
	"                              and used on the mirror link (mirror-emu(1)'s format)\n"
	"      --login-timeout S       cut a login not done after S seconds (default 15)\n"
	"      --deviate NAME[@a|@b]   a deliberate bug, in both controllers or one\n"
	"      --list-deviations       list them and exit\n"
	"      --fault SPEC@a|@b       a fault point in one controller (mirror-ctl(1))\n"
	"      --inject RULE@a|@b      a fault of one controller's mirror port receiver\n"
	"      --ctl PATH              the mirror-ctl program (default: beside mirror-pair)\n"
	"  -j, --json                  commands: print the answer as JSON\n"
	"  -q, --quiet                 no progress lines\n"
	"  -V, --version / -h, --help\n"
	"\n"
	"Exit status: 0 stopped cleanly (or a command done), 1 syntax error, 15 file\n"
	"error (DIR, no pair running), 99 a controller failed to start or a command failed.\n";

#define syntax_error(...) mirror_syntax_error(PROG, __VA_ARGS__)

enum {
	O_STATE = 256, O_REUSE, O_LUNSIZE, O_DISKS, O_CHUNK, O_SPLIT, O_HB, O_DEAD, O_LINK,
	O_DESTAGE, O_TRANS, O_QD, O_FENCE, O_NOMIRROR, O_DEVIATE, O_LISTDEV, O_FAULT, O_CTL,
	O_INJECT, O_PATH, O_LOGIN_TIMEOUT
};

static const struct option long_opts[] = {
	{ "dir", required_argument, NULL, 'd' },
	{ "state", required_argument, NULL, O_STATE },
	{ "reuse", no_argument, NULL, O_REUSE },
	{ "luns", required_argument, NULL, 'l' },
	{ "lun-size", required_argument, NULL, O_LUNSIZE },
	{ "disks", required_argument, NULL, O_DISKS },
	{ "chunk", required_argument, NULL, O_CHUNK },
	{ "profile", required_argument, NULL, 'p' },
	{ "opcodes", required_argument, NULL, 'O' },
	{ "nvram-size", required_argument, NULL, 'n' },
	{ "region-split", required_argument, NULL, O_SPLIT },
	{ "heartbeat", required_argument, NULL, O_HB },
	{ "dead", required_argument, NULL, O_DEAD },
	{ "link-timeout", required_argument, NULL, O_LINK },
	{ "destage-delay", required_argument, NULL, O_DESTAGE },
	{ "transition-time", required_argument, NULL, O_TRANS },
	{ "queue-depth", required_argument, NULL, O_QD },
	{ "fence-cmd", required_argument, NULL, O_FENCE },
	{ "no-mirror", no_argument, NULL, O_NOMIRROR },
	{ "path", required_argument, NULL, O_PATH },
	{ "deviate", required_argument, NULL, O_DEVIATE },
	{ "list-deviations", no_argument, NULL, O_LISTDEV },
	{ "fault", required_argument, NULL, O_FAULT },
	{ "inject", required_argument, NULL, O_INJECT },
	{ "ctl", required_argument, NULL, O_CTL },
	{ "chap-file", required_argument, NULL, 'c' },
	{ "login-timeout", required_argument, NULL, O_LOGIN_TIMEOUT },
	{ "json", no_argument, NULL, 'j' },
	{ "quiet", no_argument, NULL, 'q' },
	MIRROR_CLI_STD_LONGOPTS,
};

/* An option passed to both controllers as it was given. */
static int pass(struct pair_launch *l, const char *name, const char *arg)
{
	if (l->nargs + 2 > PAIR_ARGS_MAX)
		return syntax_error("too many controller options");
	l->args[l->nargs++] = name;
	if (arg)
		l->args[l->nargs++] = arg;
	return 0;
}

/* "NAME@a" -> one controller; "NAME" -> both (-1). */
static int split_at(char *arg, int *which)
{
	char *at = strrchr(arg, '@');

	*which = -1;
	if (!at)
		return 0;
	*at = '\0';
	if (strcmp(at + 1, "a") == 0)
		*which = 0;
	else if (strcmp(at + 1, "b") == 0)
		*which = 1;
	else
		return -1;
	return 0;
}

static int pass_one(struct pair_launch *l, int which, const char *name, const char *arg)
{
	for (int i = 0; i < 2; i++) {
		if (which >= 0 && which != i)
			continue;
		if (l->nargs_ctl[i] + 2 > sizeof(l->args_ctl[i]) / sizeof(l->args_ctl[i][0]))
			return syntax_error("too many options for controller %c", "ab"[i]);
		l->args_ctl[i][l->nargs_ctl[i]++] = name;
		l->args_ctl[i][l->nargs_ctl[i]++] = arg;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct pair_launch l;
	struct mirror_profile_options po = { NULL, NULL, NULL, NULL, false };
	struct mirror_profile profile;
	uint64_t v;
	unsigned number;
	int opt, rc;
	bool json = false;
	char why[256];

	pair_launch_init(&l);
	while ((opt = getopt_long(argc, argv, "d:l:c:" MIRROR_CLI_PROFILE_SHORTOPTS "jq" MIRROR_CLI_STD_SHORTOPTS, long_opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			l.dir = optarg;
			break;
		case O_STATE:
			l.state_path = optarg;
			break;
		case O_REUSE:
			l.reuse = true;
			break;
		case 'l':
			if (mirror_parse_count(optarg, 1, PAIR_LUNS_MAX, &v) < 0)
				return syntax_error("--luns '%s': want 1..%u", optarg, PAIR_LUNS_MAX);
			l.luns = (uint32_t)v;
			break;
		case O_LUNSIZE:
			if (mirror_parse_size(optarg, &v) < 0 || v < 1u << 20 || v % 512 ||
			    v > (uint64_t)1 << 40)
				return syntax_error("--lun-size '%s': want 1M..1T, a multiple of 512",
						    optarg);
			l.lun_bytes = v;
			break;
		case O_DISKS:
			if (mirror_parse_count(optarg, 3, 16, &v) < 0)
				return syntax_error("--disks '%s': want 3..16", optarg);
			l.disks = (unsigned)v;
			break;
		case O_CHUNK:
			if (mirror_parse_size(optarg, &v) < 0 || v < 4096 || v > 1u << 20 || (v & (v - 1)))
				return syntax_error("--chunk '%s': want a power of two, 4K..1M", optarg);
			l.chunk_bytes = (uint32_t)v;
			break;
		case 'p':
		case 'O':
		case 'n':
			/* checked after the loop, all four together */
			mirror_cli_profile_option(opt, optarg, &po);
			if (pass(&l, opt == 'p' ? "--profile" : opt == 'O' ? "--opcodes" : "--nvram-size",
				 optarg) < 0)
				return MIRROR_EXIT_SYNTAX;
			break;
		case O_SPLIT:
		case O_HB:
		case O_DEAD:
		case O_LINK:
		case O_DESTAGE:
		case O_TRANS:
		case O_QD:
		case O_FENCE: {
			static const char *const names[] = {
				[O_SPLIT - O_SPLIT] = "--region-split", [O_HB - O_SPLIT] = "--heartbeat",
				[O_DEAD - O_SPLIT] = "--dead", [O_LINK - O_SPLIT] = "--link-timeout",
				[O_DESTAGE - O_SPLIT] = "--destage-delay",
				[O_TRANS - O_SPLIT] = "--transition-time",
				[O_QD - O_SPLIT] = "--queue-depth", [O_FENCE - O_SPLIT] = "--fence-cmd",
			};
			/* checked here as mirror-ctl will: garbage fails before
			 * anything starts, not in both controllers */
			if (opt == O_SPLIT)
				po.region_split = optarg;
			else if (opt == O_FENCE) {
				if (mirror_cli_text(PROG, "--fence-cmd", optarg) != 0)
					return MIRROR_EXIT_SYNTAX;
			} else if (ctl_number_option(names[opt - O_SPLIT], optarg, &number, why,
						     sizeof(why)) < 0)
				return syntax_error("%s", why);
			if (pass(&l, names[opt - O_SPLIT], optarg) < 0)
				return MIRROR_EXIT_SYNTAX;
			break;
		}
		case O_NOMIRROR:
			if (pass(&l, "--no-mirror", NULL) < 0)
				return MIRROR_EXIT_SYNTAX;
			break;
		case O_PATH:
			/* checked here too: a typo fails before anything starts */
			if (strcmp(optarg, "auto") && strcmp(optarg, "large"))
				return syntax_error("--path '%s': want auto or large", optarg);
			if (pass(&l, "--path", optarg) < 0)
				return MIRROR_EXIT_SYNTAX;
			break;
		case O_DEVIATE: {
			int which;
			if (split_at(optarg, &which) < 0 || pair_deviation_parse(optarg) < 0)
				return syntax_error("--deviate '%s': want NAME[@a|@b], NAME one of "
						    "--list-deviations", optarg);
			if (pass_one(&l, which, "--deviate", optarg) < 0)
				return MIRROR_EXIT_SYNTAX;
			break;
		}
		case O_LISTDEV:
			for (unsigned d = 0; d < DEV_COUNT_; d++)
				printf("%-20s %s\n", pair_deviation_name(d), pair_deviation_text(d));
			return MIRROR_EXIT_OK;
		case O_FAULT: {
			int which;
			struct pair_fault f;
			if (split_at(optarg, &which) < 0 || which < 0)
				return syntax_error("--fault '%s': want SPEC@a or SPEC@b", optarg);
			if (pair_fault_parse(optarg, &f, why, sizeof(why)) < 0)
				return syntax_error("%s", why);
			if (pass_one(&l, which, "--fault", optarg) < 0)
				return MIRROR_EXIT_SYNTAX;
			break;
		}
		case O_INJECT: {
			int which;
			struct mirror_inject_rule r;
			if (split_at(optarg, &which) < 0 || which < 0)
				return syntax_error("--inject '%s': want RULE@a or RULE@b", optarg);
			if (mirror_inject_parse(optarg, &r, why, sizeof(why)) < 0)
				return syntax_error("--inject '%s': %s", optarg, why);
			if (pass_one(&l, which, "--inject", optarg) < 0)
				return MIRROR_EXIT_SYNTAX;
			break;
		}
		case O_CTL:
			l.ctl_path = optarg;
			break;
		case 'c': {
			/* checked now, passed by its full path (the state file's
			 * restart lines run from anywhere); the secrets stay in
			 * the file, never on a command line */
			static char chap_path[PATH_MAX];
			const struct mirror_cli_path_check chk = { "--chap-file", optarg, MIRROR_CLI_PATH_IN };
			struct mirror_chap_file f;
			int frc = mirror_cli_paths(PROG, &chk, 1);

			if (frc != 0)
				return frc; /* a FIFO would hang the read */
			frc = mirror_chap_file_read(optarg, &f, why, sizeof(why));
			mirror_chap_file_clear(&f);
			if (frc < 0) {
				fprintf(stderr, PROG ": --chap-file %s\n", why);
				return MIRROR_EXIT_FILE_ERROR;
			}
			if (!realpath(optarg, chap_path)) {
				fprintf(stderr, PROG ": --chap-file %s: %s\n", optarg, strerror(errno));
				return MIRROR_EXIT_FILE_ERROR;
			}
			if (pass(&l, "--chap-file", chap_path) < 0)
				return MIRROR_EXIT_SYNTAX;
			break;
		}
		case O_LOGIN_TIMEOUT:
			if (mirror_parse_count(optarg, 0, 3600, &v) < 0)
				return syntax_error("--login-timeout '%s': want 0..3600 seconds", optarg);
			if (pass(&l, "--login-timeout", optarg) < 0)
				return MIRROR_EXIT_SYNTAX;
			break;
		case 'j':
			json = true;
			break;
		case 'q':
			l.quiet = true;
			break;
		default:
			return mirror_cli_default_option(opt, PROG, usage_text);
		}
	}
	if (!l.dir)
		return syntax_error("--dir DIR is required");
	if (mirror_profile_from_options(&po, &profile, why, sizeof(why)) < 0)
		return syntax_error("%s", why);
	/* a state file in a DIR not made yet is checked when it is made */
	size_t dl = strlen(l.dir);
	bool state_later = l.state_path && strncmp(l.state_path, l.dir, dl) == 0 &&
			   l.state_path[dl] == '/' && access(l.dir, F_OK) != 0;
	const struct mirror_cli_path_check paths[] = {
		{ "--dir", l.dir, MIRROR_CLI_PATH_DIR },
		{ "--state", state_later ? NULL : l.state_path, MIRROR_CLI_PATH_OUT },
		{ "--ctl", l.ctl_path, MIRROR_CLI_PATH_IN },
	};
	if ((rc = mirror_cli_paths(PROG, paths, sizeof(paths) / sizeof(paths[0]))) != 0)
		return rc;
	if (optind < argc) {
		/* args: 0 none, 1 a controller, 2 a controller and a fault
		 * point (mirror-ctl(1)) */
		static const struct {
			const char *name;
			int args;
		} verbs[] = {
			{ "kill", 1 },     { "freeze", 1 },   { "thaw", 1 },      { "restart", 1 },
			{ "stats", 1 },    { "fault", 2 },    { "disarm", 1 },    { "cut-link", 0 },
			{ "heal-link", 0 }, { "status", 0 },  { "stop", 0 },
		};
		char cmd[160];
		unsigned k;
		for (k = 0; k < sizeof(verbs) / sizeof(verbs[0]); k++)
			if (strcmp(argv[optind], verbs[k].name) == 0)
				break;
		if (k == sizeof(verbs) / sizeof(verbs[0]))
			return syntax_error("unknown command '%s' (kill, freeze, thaw, restart, stats, "
					    "fault, disarm, cut-link, heal-link, status, stop)",
					    argv[optind]);
		int args = verbs[k].args;
		if (args && (optind + 1 >= argc || (strcmp(argv[optind + 1], "a") &&
						    strcmp(argv[optind + 1], "b"))))
			return syntax_error("%s: which controller, a or b?", verbs[k].name);
		if (args == 2) {
			struct pair_fault f;
			if (optind + 2 >= argc)
				return syntax_error("fault %s: which fault point, POINT[:N[:ACTION]]?",
						    argv[optind + 1]);
			if (pair_fault_parse(argv[optind + 2], &f, why, sizeof(why)) < 0)
				return syntax_error("%s", why);
		}
		if (argc - optind > args + 1)
			return syntax_error("unexpected argument '%s'", argv[optind + args + 1]);
		snprintf(cmd, sizeof(cmd), "%s%s%s%s%s", verbs[k].name, args ? " " : "",
			 args ? argv[optind + 1] : "", args == 2 ? " " : "",
			 args == 2 ? argv[optind + 2] : "");
		return pair_launch_command(l.dir, cmd, json || strcmp(verbs[k].name, "status") == 0);
	}
	return pair_launch_run(&l);
}
