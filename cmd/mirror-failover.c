/* mirror-failover: proves that a controller pair loses no acknowledged
 * write when a controller fails.  Thin: options here; the
 * workload, paths, faults and read-back in app/failover/run.c, the checker
 * in app/failover/check.c. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mirror/mirror.h>

#include "app/cli/cli.h"
#include "app/failover/run.h"
#include "app/report/failover.h"

#define PROG "mirror-failover"

static const char usage_text[] =
	"Usage: mirror-failover --pair-state FILE [OPTIONS]\n"
	"       mirror-failover --url URL [--url URL...] [OPTIONS]\n"
	"       mirror-failover --check-only HISTORY [--url URL...] [OPTIONS]\n"
	"Writes stamped blocks through every host path of a LUN, fails a controller\n"
	"under load, reads back every block written and checks that each holds its\n"
	"last acknowledged write (or one whose outcome is unknown).\n"
	"\n"
	"  -s, --pair-state FILE       the emulated pair's state file (mirror-pair(1))\n"
	"  -u, --url URL               a path of the LUN (repeatable: one per controller)\n"
	"  -l, --luns N                with --pair-state: the first N LUNs (default all)\n"
	"  -b, --blocks N              blocks written per LUN, from LBA 0 (default 1024)\n"
	"      --max-blocks N          blocks per write, 1..N at random (default 8)\n"
	"  -Q, --queue-depth N         writes outstanding (default 32)\n"
	"  -w, --writes N              writes per trial (default 2000)\n"
	"  -d, --duration MS           per trial by time instead\n"
	"      --seed N                the workload's choices (default 1)\n"
	"  -H, --history FILE          the history (default: a temporary file)\n"
	"  -f, --fault PLAN            steps ACTION[@N|@Nms] separated by commas; ACTION is\n"
	"                              kill:a|b, freeze:a|b, thaw:a|b, restart:a|b, cut-link,\n"
	"                              heal-link (mirror-pair), kill:a|b:POINT (the\n"
	"                              controller dies at its next POINT: before-mirror,\n"
	"                              after-mirror, after-ack, during-destage), random\n"
	"                              (per trial a victim and a point from --seed),\n"
	"                              cmd (--fault-cmd) or none;\n"
	"                              @N: N acknowledged writes after the step before,\n"
	"                              @Nms: N ms after it (default kill:a with a pair)\n"
	"  -a, --fault-after N         the first step's trigger when it has none (default\n"
	"                              a third of --writes)\n"
	"  -c, --fault-cmd CMD         the fault for a real target: run by /bin/sh -c,\n"
	"                              waited for (e.g. power off, kill -9, restart)\n"
	"      --no-fault              no fault at all\n"
	"  -t, --trials N              trials; the pair is restored and failed back\n"
	"                              between them (default 1)\n"
	"      --recovery-timeout MS   a LUN without a usable path this long ends the run\n"
	"                              (default 60000)\n"
	"      --settle MS             wait after the trial before the read-back (default 0)\n"
	"  -T, --timeout MS            a command this late is indeterminate (default 5000)\n"
	"      --pair-cmd PATH         run this program for the pair's commands (default:\n"
	"                              its supervisor's socket, DIR/pair.ctl)\n"
	"  -C, --check-only HISTORY    no writes: read back and check HISTORY's blocks\n"
	"                              (through its paths, or those given)\n"
	"  -j, --json                  the summary as JSON\n"
	"      --junit FILE            a JUnit report, one test case per trial\n"
	"      --capture FILE          a capture of the mirror link: each violation lists\n"
	"                              the mirror operations that carried its block\n"
	"      --report FILE.html      an HTML report: summary, trials and violations,\n"
	"                              plots of the takeover per trial, its distribution,\n"
	"                              its phases and the host's latency around the faults\n"
	"      --status FILE           the campaign so far, after every trial (default\n"
	"                              with a pair: DIR/failover.json, for mirror-top)\n"
	"  -q, --quiet                 no progress lines\n"
	"  -V, --version / -h, --help\n"
	"\n"
	"Exit status: 0 no violation, 1 syntax error, 14 a violation (an acknowledged\n"
	"write lost, stale, torn, misdirected, or a failed write present), 15 file\n"
	"error, 35 no path came back within the recovery timeout, 97 a malformed\n"
	"history, 99 other.\n";

#define syntax_error(...) mirror_syntax_error(PROG, __VA_ARGS__)

enum {
	O_MAXB = 256, O_SEED, O_NOFAULT, O_RECOV, O_SETTLE, O_PAIRCMD, O_JUNIT,
	O_STATUS, O_CAPTURE, O_REPORT
};

static const struct option long_opts[] = {
	{ "pair-state", required_argument, NULL, 's' },
	{ "url", required_argument, NULL, 'u' },
	{ "luns", required_argument, NULL, 'l' },
	{ "blocks", required_argument, NULL, 'b' },
	{ "max-blocks", required_argument, NULL, O_MAXB },
	{ "queue-depth", required_argument, NULL, 'Q' },
	{ "writes", required_argument, NULL, 'w' },
	{ "duration", required_argument, NULL, 'd' },
	{ "seed", required_argument, NULL, O_SEED },
	{ "history", required_argument, NULL, 'H' },
	{ "fault", required_argument, NULL, 'f' },
	{ "fault-after", required_argument, NULL, 'a' },
	{ "fault-cmd", required_argument, NULL, 'c' },
	{ "no-fault", no_argument, NULL, O_NOFAULT },
	{ "trials", required_argument, NULL, 't' },
	{ "recovery-timeout", required_argument, NULL, O_RECOV },
	{ "settle", required_argument, NULL, O_SETTLE },
	{ "timeout", required_argument, NULL, 'T' },
	{ "pair-cmd", required_argument, NULL, O_PAIRCMD },
	{ "check-only", required_argument, NULL, 'C' },
	{ "json", no_argument, NULL, 'j' },
	{ "junit", required_argument, NULL, O_JUNIT },
	{ "status", required_argument, NULL, O_STATUS },
	{ "capture", required_argument, NULL, O_CAPTURE },
	{ "report", required_argument, NULL, O_REPORT },
	{ "quiet", no_argument, NULL, 'q' },
	MIRROR_CLI_STD_LONGOPTS,
};

static int parse_plan(const char *plan, struct fo_run_opts *o, bool trig[FO_STEPS_MAX])
{
	char why[256];

	if (fo_plan_parse(plan, o, trig, why, sizeof(why)) < 0)
		return syntax_error("%s", why);
	return 0;
}

/* The directory the report goes into can take a file. */
static int report_writable(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	if (access(dir, W_OK | X_OK) < 0) {
		fprintf(stderr, PROG ": --report %s: %s: %s\n", path, dir, strerror(errno));
		return MIRROR_EXIT_FILE_ERROR;
	}
	return 0;
}

static const char *report_title(const struct fo_run_opts *o, const char *state, const char *check_only)
{
	static char t[640];

	if (check_only)
		snprintf(t, sizeof(t), "mirror-failover: check of %.500s", check_only);
	else if (state)
		snprintf(t, sizeof(t), "mirror-failover: %u trial%s against the pair of %.500s", o->trials,
			 o->trials == 1 ? "" : "s", state);
	else
		snprintf(t, sizeof(t), "mirror-failover: %u trial%s against %.500s", o->trials,
			 o->trials == 1 ? "" : "s", o->paths.path[0].url);
	return t;
}

int main(int argc, char **argv)
{
	struct fo_run_opts o;
	struct fo_run_result r;
	const char *plan = NULL, *check_only = NULL, *junit = NULL, *state = NULL, *capture = NULL,
		   *report = NULL;
	bool json = false, quiet = false, no_fault = false, trig[FO_STEPS_MAX] = { false };
	uint64_t v, luns = 0, fault_after = 0;
	bool blocks_given = false;
	char why[512];
	struct fo_pair pair;
	int opt, rc;

	mirror_cli_hide_secrets(argc, argv); /* before anything reads argv */
	mirror_cli_catch_truncated_capture(PROG);

	/* a target that drops a session must not end the checker */
	signal(SIGPIPE, SIG_IGN);
	fo_run_opts_init(&o);
	o.paths.blocks = 1024;
	while ((opt = getopt_long(argc, argv, "s:u:l:b:Q:w:d:H:f:a:c:t:T:C:jq" MIRROR_CLI_STD_SHORTOPTS, long_opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			state = optarg;
			break;
		case 'u':
			if (o.paths.npaths == FO_PATHS_MAX)
				return syntax_error("--url: at most %u paths", FO_PATHS_MAX);
			if (strlen(optarg) >= sizeof(o.paths.path[0].url) || strchr(optarg, ' '))
				return syntax_error("--url '%.60s': too long, or has a space", optarg);
			if (mirror_transport_check(optarg, NULL, why, sizeof(why)) < 0)
				return syntax_error("--url '%s': %s", optarg, why);
			o.paths.path[o.paths.npaths].lun = 0;
			snprintf(o.paths.path[o.paths.npaths].url, sizeof(o.paths.path[0].url), "%s", optarg);
			o.paths.npaths++;
			break;
		case 'l':
			if (mirror_parse_count(optarg, 1, FO_LUNS_MAX, &luns) < 0)
				return syntax_error("--luns '%s': want 1..%u", optarg, FO_LUNS_MAX);
			break;
		case 'b':
			if (mirror_parse_count(optarg, 1, UINT32_MAX, &v) < 0)
				return syntax_error("--blocks '%s': want 1..%u", optarg, UINT32_MAX);
			o.paths.blocks = v;
			blocks_given = true;
			break;
		case O_MAXB:
			if (mirror_parse_count(optarg, 1, 128, &v) < 0)
				return syntax_error("--max-blocks '%s': want 1..128", optarg);
			o.max_blocks = (uint32_t)v;
			break;
		case 'Q':
			if (mirror_parse_count(optarg, 1, 256, &v) < 0)
				return syntax_error("--queue-depth '%s': want 1..256", optarg);
			o.queue_depth = (unsigned)v;
			break;
		case 'w':
			if (mirror_parse_count(optarg, 1, UINT32_MAX, &o.writes) < 0)
				return syntax_error("--writes '%s': want 1 or more", optarg);
			break;
		case 'd':
			if (mirror_parse_count(optarg, 1, UINT32_MAX, &o.duration_ms) < 0)
				return syntax_error("--duration '%s': want milliseconds, 1 or more", optarg);
			break;
		case O_SEED:
			if (mirror_parse_count(optarg, 0, UINT64_MAX, &o.seed) < 0)
				return syntax_error("--seed '%s': want a number", optarg);
			break;
		case 'H':
			o.history = optarg;
			break;
		case 'f':
			plan = optarg;
			break;
		case 'a':
			if (mirror_parse_count(optarg, 0, UINT32_MAX, &fault_after) < 0)
				return syntax_error("--fault-after '%s': want a count of writes", optarg);
			break;
		case 'c':
			o.fault_cmd = optarg;
			break;
		case O_NOFAULT:
			no_fault = true;
			break;
		case 't':
			if (mirror_parse_count(optarg, 1, FO_TRIALS_MAX, &v) < 0)
				return syntax_error("--trials '%s': want 1..%u", optarg, FO_TRIALS_MAX);
			o.trials = (unsigned)v;
			break;
		case O_RECOV:
		case O_SETTLE:
		case 'T':
			if (mirror_parse_count(optarg, opt == O_SETTLE ? 0 : 1, 3600000, &v) < 0)
				return syntax_error("--%s '%s': want milliseconds up to 3600000",
						    opt == O_RECOV ? "recovery-timeout"
						    : opt == O_SETTLE ? "settle" : "timeout", optarg);
			if (opt == O_RECOV)
				o.recovery_ms = (unsigned)v;
			else if (opt == O_SETTLE)
				o.settle_ms = (unsigned)v;
			else
				o.cmd_timeout_ms = (unsigned)v;
			break;
		case O_PAIRCMD:
			o.pair_cmd = optarg;
			break;
		case O_CAPTURE:
			capture = optarg;
			break;
		case O_REPORT:
			if (!*optarg)
				return syntax_error("--report '': want a file name");
			/* a campaign may take hours: a report it cannot write is
			 * found before it starts */
			if ((rc = report_writable(optarg)) != 0)
				return rc;
			report = optarg;
			break;
		case O_STATUS:
			if (!*optarg)
				return syntax_error("--status '': want a file name");
			o.status = optarg;
			break;
		case 'C':
			check_only = optarg;
			break;
		case 'j':
			json = true;
			break;
		case O_JUNIT:
			junit = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		default:
			return mirror_cli_default_option(opt, PROG, usage_text);
		}
	}
	if ((rc = mirror_cli_no_operand(PROG, argc, argv, optind)) != 0)
		return rc;
	const struct mirror_cli_path_check paths[] = {
		{ "--pair-state", state, MIRROR_CLI_PATH_IN },
		{ "--history", o.history, MIRROR_CLI_PATH_OUT },
		{ "--pair-cmd", o.pair_cmd, MIRROR_CLI_PATH_IN },
		{ "--check-only", check_only, MIRROR_CLI_PATH_IN },
		{ "--junit", junit, MIRROR_CLI_PATH_OUT },
		{ "--capture", capture, MIRROR_CLI_PATH_IN },
		{ "--report", report, MIRROR_CLI_PATH_OUT },
		{ "--status", o.status, MIRROR_CLI_PATH_OUT },
	};
	if ((rc = mirror_cli_paths(PROG, paths, sizeof(paths) / sizeof(paths[0]))) != 0)
		return rc;
	if ((rc = mirror_cli_text(PROG, "--fault-cmd", o.fault_cmd)) != 0)
		return rc;
	if (state && o.paths.npaths)
		return syntax_error("--pair-state and --url: one or the other");
	if (!state && !o.paths.npaths && !check_only)
		return syntax_error("--pair-state FILE or --url URL is required");
	if (no_fault && (plan || o.fault_cmd))
		return syntax_error("--no-fault with --fault or --fault-cmd");
	if (plan && parse_plan(plan, &o, trig))
		return MIRROR_EXIT_SYNTAX;
	for (unsigned i = 0; i < o.nsteps; i++) {
		if ((o.step[i].kind == FO_STEP_PAIR || o.step[i].kind == FO_STEP_POINT) && !state)
			return syntax_error("--fault %s: needs --pair-state", o.step[i].verb);
		if (o.step[i].kind == FO_STEP_RANDOM && !state)
			return syntax_error("--fault random: needs --pair-state");
		if (o.step[i].kind == FO_STEP_CMD && !o.fault_cmd)
			return syntax_error("--fault cmd: needs --fault-cmd CMD");
	}
	if (!plan && !no_fault && !check_only) {
		static const char def_pair[] = "kill:a", def_cmd[] = "cmd";
		if (o.fault_cmd)
			parse_plan(def_cmd, &o, trig);
		else if (state)
			parse_plan(def_pair, &o, trig);
	}
	/* the first step after a third of the writes; later ones at once
	 * after the step before, unless they say */
	for (unsigned i = 0; i < o.nsteps; i++)
		if (!trig[i] && i == 0)
			o.step[i].after_writes = fault_after ? fault_after : (o.writes + 2) / 3;
	if (state) {
		if (fo_pair_load(state, &pair, why, sizeof(why)) < 0) {
			fprintf(stderr, PROG ": %s\n", why);
			return MIRROR_EXIT_FILE_ERROR;
		}
		uint32_t n = luns ? (uint32_t)luns : pair.luns;
		if (n > pair.luns)
			return syntax_error("--luns %u: the pair has %u", n, pair.luns);
		o.paths.luns = n;
		for (uint32_t i = 0; i < n; i++)
			for (unsigned k = 0; k < 2 && o.paths.npaths < FO_PATHS_MAX; k++) {
				o.paths.path[o.paths.npaths].lun = i;
				snprintf(o.paths.path[o.paths.npaths].url, sizeof(o.paths.path[0].url), "%s",
					 pair.url[i][k]);
				o.paths.npaths++;
			}
		if (o.paths.npaths < 2 * n)
			return syntax_error("--luns %u: at most %u paths in all", n, FO_PATHS_MAX);
		if (o.paths.blocks > pair.lun_blocks) {
			if (blocks_given)
				return syntax_error("--blocks %llu: the pair's LUNs have %llu",
						    (unsigned long long)o.paths.blocks,
						    (unsigned long long)pair.lun_blocks);
			o.paths.blocks = pair.lun_blocks;
		}
		static char dir[sizeof(pair.dir)];
		snprintf(dir, sizeof(dir), "%s", pair.dir);
		o.pair_dir = dir;
		/* beside the pair's state: mirror-top's pair view shows it */
		static char status[sizeof(dir) + 16];
		if (!o.status && !check_only) {
			snprintf(status, sizeof(status), "%s/failover.json", dir);
			o.status = status;
		}
		o.pair_state = state;
	} else if (o.paths.npaths) {
		o.paths.luns = 1;
	}
	if (o.paths.blocks > UINT32_MAX)
		return syntax_error("--blocks: READ(10) and WRITE(10) reach 2^32 blocks");
	if (o.max_blocks > o.paths.blocks)
		o.max_blocks = (uint32_t)o.paths.blocks;
	o.progress = !quiet && !json;

	if (check_only)
		rc = fo_check_only(check_only, &o, &r);
	else
		rc = fo_run(&o, &r);
	if (rc < 0)
		fprintf(stderr, PROG ": %s\n", r.why[0] ? r.why : strerror(-rc));
	if (capture && fo_carriers_find(capture, &r, why, sizeof(why)) < 0) {
		fprintf(stderr, PROG ": %s\n", why);
		if (rc == 0)
			r.exit_status = MIRROR_EXIT_FILE_ERROR;
	}
	if (r.n) {
		if (json)
			fo_report_json(stdout, &r);
		else
			fo_report_text(stdout, &r);
		if (report && mirror_report_failover_write(&r, report, PROG, report_title(&o, state, check_only),
							   why, sizeof(why)) < 0) {
			fprintf(stderr, PROG ": --report %s\n", why);
			if (rc == 0)
				r.exit_status = MIRROR_EXIT_FILE_ERROR;
		}
		if (junit && fo_report_junit(junit, &r, why, sizeof(why)) < 0) {
			fprintf(stderr, PROG ": %s\n", why);
			if (rc == 0)
				r.exit_status = MIRROR_EXIT_FILE_ERROR;
		}
	}
	int status = r.exit_status;
	if (r.have_check && r.last.violations)
		status = MIRROR_EXIT_MISCOMPARE; /* what the run is for comes first */
	fo_run_result_free(&r);
	return status;
}
