/* mirror-load: a workload generator for mirror receivers (and, with
 * --write10, plain block targets).  Parses options, runs the engine of
 * app/load/load.h once (or twice for --path ab), reads mirror-emu's
 * counters around each run when --stats is given, and prints. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include <mirror/mirror.h>
#include "app/load/load.h"
#include "app/cli/cli.h"
#include "app/emu/stats.h"
#include "app/report/load.h"

#define PROG "mirror-load"
#define DEFAULT_MIX "512:40,4k:40,32k:15,256k:4,2m:1"

enum {
	OPT_LBA_START = 256, OPT_LBA_RANGE, OPT_REGION, OPT_VOLUME, OPT_NO_TABLE, OPT_PROGRESS,
	OPT_NO_PROGRESS, OPT_INITIATOR, OPT_SEED, OPT_VERIFY_EVERY, OPT_CAPTURE, OPT_CAPTURE_FILTER, OPT_REPORT
};

struct opts {
	struct mirror_load_config cfg;
	struct mirror_profile profile;
	bool ab;
	bool json;
	int progress; /* -1: when stderr is a terminal */
	const char *stats;
	const char *capture, *capture_filter;
	bool have_seconds;
	const char *report;              /* --report FILE.html */
	struct mirror_report_load *rep;  /* its samples */
};

static const char usage_text[] =
	"Usage: " PROG " [OPTIONS] TARGET\n"
	"Drives a mirror receiver with a mix of host writes, each split and sent on the\n"
	"path Fig. 7 chooses (or the one given), and reports ops/s, MB/s, latency\n"
	"percentiles and errors; with --stats, the receiver's interrupts and bytes\n"
	"per op and path from mirror-emu's counters.\n"
	"TARGET: iscsi://host[:port]/target-iqn/lun\n"
	"\n"
	"  -m, --mix SPEC            sizes and weights (default " DEFAULT_MIX ")\n"
	"  -P, --path POLICY         auto (Fig. 7, default), small, large, or ab: the\n"
	"                            same stream all-large, then auto, and the difference\n"
	"  -w, --write10             WRITE(10) of the same mix to a block target\n"
	"  -L, --lba MODE            random (default) or seq\n"
	"      --lba-start BLOCK     first LBA (default 0)\n"
	"      --lba-range BLOCKS    LBAs used (default 2097152; write10: the LUN)\n"
	"  -Q, --qd N                commands outstanding per connection (default 1)\n"
	"  -C, --connections N       connections (default 1)\n"
	"  -t, --seconds T           issue for T seconds (default 5), then drain\n"
	"  -c, --count N             issue N host writes, then drain\n"
	"  -r, --rate N              at most N host writes per second\n"
	"      --seed N              the stream's seed (default 1)\n"
	"      --verify-every N      NVRAM READBACK every Nth mirror op and compare\n"
	"  -S, --stats SOCKET        mirror-emu's stats socket: receiver cost per path\n"
	"      --capture IFACE       capture the run on IFACE (libpcap) and decode it:\n"
	"                            the receiver's cost per path, for any target\n"
	"      --capture-filter EXPR its filter (default: tcp port of TARGET)\n"
	"      --region 0|1          the sender's NVRAM region (default 0: A -> B)\n"
	"      --volume N            volume of the writes (default 0)\n"
	"      --no-table            send no ARRAY TABLE UPDATE first\n"
	"  -p, --profile NAME        wire profile (default v1)\n"
	"  -O, --opcodes LIST        NOTIFY,SMALL_A,SMALL_B,TABLE,READBACK in hex\n"
	"  -n, --nvram-size SIZE     the receiver's NVRAM size (default 128M)\n"
	"      --region-split SIZE   first byte of region 1 (default half)\n"
	"      --strict              deviations the profile tolerates are errors\n"
	"  -T, --timeout MS          command timeout (default 30000)\n"
	"      --initiator-name IQN  prefix of the connections' names\n"
	"  -j, --json                one JSON object on stdout\n"
	"      --report FILE.html    also an HTML report: tables, and gnuplot's plots\n"
	"      --progress            a live line on stderr (default: if a terminal)\n"
	"      --no-progress\n"
	"  -h, --help                this text\n"
	"  -V, --version             print the version\n"
	"\n"
	"Exit status (sg3_utils): 0 every command GOOD, 1 syntax error, 9 not a mirror\n"
	"receiver, 14 miscompare, 35 transport error, or the status of the first\n"
	"command that failed; see mirror-load(1).\n";

#define syntax_error(...) mirror_syntax_error(PROG, __VA_ARGS__)

/* --path: a policy of the splitter, or ab (both, one after the other). */
static const struct {
	const char *name;
	enum mirror_path_policy policy;
	bool ab;
} path_names[] = {
	{ "auto", MIRROR_POLICY_AUTO, false },
	{ "small", MIRROR_POLICY_SMALL, false },
	{ "large", MIRROR_POLICY_LARGE, false },
	{ "ab", MIRROR_POLICY_AUTO, true },
};
#define NPATHS (sizeof(path_names) / sizeof(path_names[0]))

static int parse_args(struct opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "mix", required_argument, NULL, 'm' },
		{ "path", required_argument, NULL, 'P' },
		{ "write10", no_argument, NULL, 'w' },
		{ "lba", required_argument, NULL, 'L' },
		{ "lba-start", required_argument, NULL, OPT_LBA_START },
		{ "lba-range", required_argument, NULL, OPT_LBA_RANGE },
		{ "qd", required_argument, NULL, 'Q' },
		{ "connections", required_argument, NULL, 'C' },
		{ "seconds", required_argument, NULL, 't' },
		{ "count", required_argument, NULL, 'c' },
		{ "rate", required_argument, NULL, 'r' },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "verify-every", required_argument, NULL, OPT_VERIFY_EVERY },
		{ "stats", required_argument, NULL, 'S' },
		{ "capture", required_argument, NULL, OPT_CAPTURE },
		{ "capture-filter", required_argument, NULL, OPT_CAPTURE_FILTER },
		{ "region", required_argument, NULL, OPT_REGION },
		{ "volume", required_argument, NULL, OPT_VOLUME },
		{ "no-table", no_argument, NULL, OPT_NO_TABLE },
		{ "report", required_argument, NULL, OPT_REPORT },
		MIRROR_CLI_PROFILE_LONGOPTS,
		{ "timeout", required_argument, NULL, 'T' },
		{ "initiator-name", required_argument, NULL, OPT_INITIATOR },
		{ "json", no_argument, NULL, 'j' },
		{ "progress", no_argument, NULL, OPT_PROGRESS },
		{ "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
		MIRROR_CLI_STD_LONGOPTS,
	};
	struct mirror_load_config *cfg = &o->cfg;
	struct mirror_profile_options po = { 0 };
	const char *mix = DEFAULT_MIX;
	char why[256];
	uint64_t v;
	int c;

	while ((c = getopt_long(argc, argv, "m:P:wL:Q:C:t:c:r:S:" MIRROR_CLI_PROFILE_SHORTOPTS "T:j" MIRROR_CLI_STD_SHORTOPTS,
				longopts, NULL)) != -1) {
		if (mirror_cli_profile_option(c, optarg, &po))
			continue;
		switch (c) {
		case 'm':
			mix = optarg;
			break;
		case 'P': {
			size_t i = 0;
			while (i < NPATHS && strcmp(optarg, path_names[i].name) != 0)
				i++;
			if (i == NPATHS)
				return syntax_error("bad --path '%s' (auto, small, large or ab)", optarg);
			cfg->policy = path_names[i].policy;
			o->ab = path_names[i].ab;
			break;
		}
		case 'w':
			cfg->mode = MIRROR_LOAD_PLAIN_WRITE10;
			break;
		case 'L':
			if (strcmp(optarg, "random") == 0)
				cfg->lba_mode = MIRROR_LOAD_LBA_RANDOM;
			else if (strcmp(optarg, "seq") == 0)
				cfg->lba_mode = MIRROR_LOAD_LBA_SEQ;
			else
				return syntax_error("bad --lba '%s' (random or seq)", optarg);
			break;
		case OPT_LBA_START:
			if (mirror_cli_count("--lba-start", optarg, 0, UINT32_MAX, &cfg->lba_first, why, sizeof(why)) < 0)
				return syntax_error("%s", why);
			break;
		case OPT_LBA_RANGE:
			if (mirror_cli_count("--lba-range", optarg, 1, UINT64_C(1) << 32, &cfg->lba_count, why, sizeof(why)) < 0)
				return syntax_error("%s", why);
			break;
		case 'Q':
			if (mirror_cli_count("--qd", optarg, 1, 256, &v, why, sizeof(why)) < 0)
				return syntax_error("%s", why);
			cfg->qd = (unsigned)v;
			break;
		case 'C':
			if (mirror_cli_count("--connections", optarg, 1, 256, &v, why, sizeof(why)) < 0)
				return syntax_error("%s", why);
			cfg->connections = (unsigned)v;
			break;
		case 't':
			if (mirror_cli_double("--seconds", optarg, 1e-9, 86400.0, &cfg->seconds, why, sizeof(why)) < 0)
				return syntax_error("%s", why);
			o->have_seconds = true;
			break;
		case 'c':
			if (mirror_cli_count("--count", optarg, 1, UINT64_MAX / 2, &cfg->count, why, sizeof(why)) < 0)
				return syntax_error("%s", why);
			break;
		case 'r':
			if (mirror_cli_double("--rate", optarg, 1e-9, 1e9, &cfg->rate, why, sizeof(why)) < 0)
				return syntax_error("%s", why);
			break;
		case OPT_SEED:
			if (mirror_cli_count("--seed", optarg, 0, UINT64_MAX, &cfg->seed, why, sizeof(why)) < 0)
				return syntax_error("%s", why);
			break;
		case OPT_VERIFY_EVERY:
			if (mirror_cli_count("--verify-every", optarg, 1, UINT32_MAX, &v, why, sizeof(why)) < 0)
				return syntax_error("%s", why);
			cfg->verify_every = (unsigned)v;
			break;
		case 'S':
			o->stats = optarg;
			break;
		case OPT_CAPTURE:
			o->capture = optarg;
			break;
		case OPT_CAPTURE_FILTER:
			o->capture_filter = optarg;
			break;
		case OPT_REPORT:
			o->report = optarg;
			break;
		case OPT_REGION:
			if (mirror_cli_count("--region", optarg, 0, 1, &v, why, sizeof(why)) < 0)
				return syntax_error("%s", why);
			cfg->region = (unsigned)v;
			break;
		case OPT_VOLUME:
			if (mirror_cli_count("--volume", optarg, 0, 255, &v, why, sizeof(why)) < 0)
				return syntax_error("%s", why);
			cfg->volume = (uint8_t)v;
			break;
		case OPT_NO_TABLE:
			cfg->push_table = false;
			break;
		case 'T':
			if (mirror_cli_count("--timeout", optarg, 1, 3600000, &v, why, sizeof(why)) < 0)
				return syntax_error("%s", why);
			cfg->timeout_ms = (unsigned)v;
			break;
		case OPT_INITIATOR:
			cfg->initiator_prefix = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case OPT_PROGRESS:
			o->progress = 1;
			break;
		case OPT_NO_PROGRESS:
			o->progress = 0;
			break;
		default:
			return mirror_cli_default_option(c, PROG, usage_text);
		}
	}
	if (mirror_profile_from_options(&po, &o->profile, why, sizeof(why)) < 0)
		return syntax_error("%s", why);
	cfg->profile = &o->profile;
	const struct mirror_cli_path_check paths[] = {
		{ "--stats", o->stats, MIRROR_CLI_PATH_SOCKET }, { "--report", o->report, MIRROR_CLI_PATH_OUT },
	};
	const struct mirror_cli_text_check texts[] = {
		{ "--capture", o->capture }, { "--capture-filter", o->capture_filter },
		{ "--initiator-name", cfg->initiator_prefix },
	};
	if ((c = mirror_cli_paths(PROG, paths, sizeof paths / sizeof paths[0])) != 0 ||
	    (c = mirror_cli_texts(PROG, texts, sizeof texts / sizeof texts[0])) != 0)
		return c;
	if (mirror_load_mix_parse(mix, &cfg->mix, why, sizeof(why)) < 0)
		return syntax_error("--mix: %s", why);
	if (optind == argc)
		return syntax_error("%s", "no target (iscsi://host[:port]/target-iqn/lun)");
	if (optind + 1 < argc)
		return syntax_error("unexpected operand '%s'", argv[optind + 1]);
	cfg->url = argv[optind];
	if (o->have_seconds && cfg->count)
		return syntax_error("%s", "--seconds or --count, not both");
	if (cfg->count)
		cfg->seconds = 0;
	if (cfg->mode == MIRROR_LOAD_PLAIN_WRITE10 && (o->ab || cfg->policy != MIRROR_POLICY_AUTO))
		return syntax_error("%s", "--write10 sends no mirror commands: no --path");
	if (cfg->mode == MIRROR_LOAD_PLAIN_WRITE10 && o->stats)
		return syntax_error("%s", "--stats reads mirror-emu's counters: not with --write10");
	if (cfg->mode == MIRROR_LOAD_PLAIN_WRITE10 && o->capture)
		return syntax_error("%s", "--capture decodes mirror commands: not with --write10");
	if (o->capture_filter && !o->capture)
		return syntax_error("%s", "--capture-filter needs --capture");
	if (o->capture && !o->capture_filter && !mirror_load_url_port(cfg->url))
		return syntax_error("%s", "--capture: the target names no TCP port; give "
				    "--capture-filter");
	if (mirror_load_config_check(cfg, why, sizeof(why)) < 0)
		return syntax_error("%s", why);
	return -1;
}

/* ---- signals and progress ---- */

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

struct progress_ctx {
	const char *label;
};

static void show_progress(void *ctx, const struct mirror_load_result *r)
{
	const struct progress_ctx *p = ctx;
	double s = (double)r->elapsed_ns / 1e9;

	fprintf(stderr, "\r%s: %.0f s  %" PRIu64 " writes  %.0f writes/s  p99 %.0f us  errors %" PRIu64
		"   ", p->label, s, r->writes, s > 0 ? (double)r->writes / s : 0.0,
		mirror_hist_percentile(&r->lat, 99.0), mirror_load_result_errors(r));
	fflush(stderr);
}

/* ---- one run ---- */

struct run {
	const char *label;
	unsigned idx; /* 0, 1: b of --path ab */
	struct mirror_load_result r;
	struct mirror_load_emu_cost emu, cap;
	bool have_emu, have_cap;
	uint64_t drops;
};

static int query(const char *sock, struct mirror_stats *out)
{
	char err[512];

	if (mirror_stats_read(sock, out, err, sizeof(err)) < 0) {
		fprintf(stderr, PROG ": --stats %s: %s\n", sock, err);
		return -1;
	}
	return 0;
}

/* 0, or an exit status when the run could not start. */
static int do_run(const struct opts *o, const struct mirror_load_config *cfg, struct run *run)
{
	static struct mirror_stats before, after;
	struct progress_ctx pc = { run->label };
	struct mirror_load_config c = *cfg;
	char err[512], why[256];
	int ret = MIRROR_EXIT_OK;

	if (o->progress) {
		c.progress = show_progress;
		c.progress_ctx = &pc;
	}
	/* the report samples the run often, the progress line goes on */
	struct mirror_report_load_tap tap = { o->rep, run->idx, c.progress, c.progress_ctx, 0 };
	if (o->rep) {
		c.progress = mirror_report_load_progress;
		c.progress_ctx = &tap;
		c.progress_ms = MIRROR_REPORT_LOAD_TICK_MS;
	}
	c.stop = &stop_flag;
	/* mirror-emu's socket cannot be reached: as mirror-top --emu */
	if (o->stats && query(o->stats, &before) < 0)
		return MIRROR_EXIT_TRANSPORT;
	struct mirror_load_capture *cap = NULL;
	if (o->capture) {
		int crc = mirror_load_capture_start(&cap, o->capture, o->capture_filter,
						    mirror_load_url_port(c.url), c.profile, err,
						    sizeof(err));
		if (crc < 0) {
			fprintf(stderr, PROG ": %s\n", err);
			return crc == -EINVAL ? MIRROR_EXIT_SYNTAX : MIRROR_EXIT_OTHER;
		}
	}
	int rc = mirror_load_run(&c, &run->r, err, sizeof(err));
	if (cap) {
		char cerr[256];
		if (mirror_load_capture_stop(cap, &run->cap, &run->drops, cerr, sizeof(cerr)) < 0)
			fprintf(stderr, PROG ": --capture %s: %s\n", o->capture, cerr);
		else
			run->have_cap = true;
	}
	if (o->progress)
		fputc('\n', stderr);
	if (rc < 0) {
		fprintf(stderr, PROG ": %s\n", err);
		/* a bad configuration is the caller's syntax; the rest as the
		 * shared table says (refused: 35, not a receiver: 9) */
		ret = rc == -EINVAL ? MIRROR_EXIT_SYNTAX : mirror_exit_from_error(rc);
		goto out;
	}
	if (o->stats) {
		if (query(o->stats, &after) < 0) {
			ret = MIRROR_EXIT_OTHER;
			goto out;
		}
		if (mirror_load_emu_delta(&before, &after, &run->emu, why, sizeof(why)) < 0) {
			fprintf(stderr, PROG ": --stats %s: %s\n", o->stats, why);
			ret = MIRROR_EXIT_OTHER;
			goto out;
		}
		run->have_emu = true;
	}
out:
	return ret;
}

/* sg3_utils' status for what went wrong first: a miscompare, then the
 * transport, then the first sense seen. */
static int run_status(const struct mirror_load_result *r)
{
	if (r->miscompares)
		return MIRROR_EXIT_MISCOMPARE;
	if (r->transport)
		return MIRROR_EXIT_TRANSPORT;
	if (r->data_in_unexpected)
		return MIRROR_EXIT_INVALID_OP;
	if (r->nsense) {
		struct mirror_sense s = { 0 };
		s.response_code = 0x70;
		s.key = r->sense[0].key;
		s.asc = r->sense[0].asc;
		s.ascq = r->sense[0].ascq;
		return mirror_exit_from_status(MIRROR_STATUS_CHECK_CONDITION, &s);
	}
	if (mirror_load_result_errors(r))
		return MIRROR_EXIT_OTHER;
	return MIRROR_EXIT_OK;
}

static struct json_object *config_json(const struct opts *o)
{
	const struct mirror_load_config *c = &o->cfg;
	struct json_object *j = json_object_new_object();
	char mix[256];

	char url[1024];
	mirror_load_mix_format(&c->mix, mix, sizeof(mix));
	/* a CHAP password is not for reports */
	if (mirror_url_redact(c->url, url, sizeof(url)) < 0)
		snprintf(url, sizeof(url), "(a long target)");
	json_object_object_add(j, "target", json_object_new_string(url));
	json_object_object_add(j, "mode", json_object_new_string(
						  c->mode == MIRROR_LOAD_PLAIN_WRITE10 ? "write10"
										: "mirror"));
	json_object_object_add(j, "mix", json_object_new_string(mix));
	json_object_object_add(j, "lba", json_object_new_string(
						 c->lba_mode == MIRROR_LOAD_LBA_SEQ ? "seq" : "random"));
	json_object_object_add(j, "connections", json_object_new_int((int)c->connections));
	json_object_object_add(j, "qd", json_object_new_int((int)c->qd));
	json_object_object_add(j, "seed", json_object_new_uint64(c->seed));
	json_object_object_add(j, "profile", json_object_new_string(o->profile.name));
	return j;
}

static void print_json(struct json_object *j)
{
	puts(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
}

static const char *policy_label(const struct mirror_load_config *c)
{
	if (c->mode == MIRROR_LOAD_PLAIN_WRITE10)
		return "write10";
	for (size_t i = 0; i < NPATHS; i++)
		if (!path_names[i].ab && path_names[i].policy == c->policy)
			return path_names[i].name;
	return "?";
}

int main(int argc, char **argv)
{
	struct opts o;
	struct run *runs = NULL;
	char err[512];
	int ret;

	mirror_cli_hide_secrets(argc, argv); /* before anything reads argv */
	memset(&o, 0, sizeof(o));
	mirror_load_config_init(&o.cfg);
	o.progress = -1;
	ret = parse_args(&o, argc, argv);
	if (ret >= 0)
		return ret;
	if (mirror_transport_check(o.cfg.url, NULL, err, sizeof(err)) < 0)
		return syntax_error("%s", err);
	if (o.progress < 0)
		o.progress = isatty(STDERR_FILENO);

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* The results hold histograms: off the stack. */
	runs = calloc(2, sizeof(*runs));
	if (!runs) {
		fprintf(stderr, PROG ": out of memory\n");
		return MIRROR_EXIT_OTHER;
	}
	unsigned nruns = o.ab ? 2 : 1;
	if (o.report && !(o.rep = mirror_report_load_new())) {
		fprintf(stderr, PROG ": --report: out of memory\n");
		free(runs);
		return MIRROR_EXIT_OTHER;
	}
	/* The receiver tracks each initiator name's sequence numbers: a name
	 * per process and per run, so no run looks like a sender that
	 * restarted its counter. */
	char names[2][128];
	for (unsigned i = 0; i < 2; i++)
		snprintf(names[i], sizeof(names[i]), "%s.%ld%s",
			 o.cfg.initiator_prefix ? o.cfg.initiator_prefix
						: MIRROR_LOAD_INITIATOR,
			 (long)getpid(), o.ab ? (i ? ".b" : ".a") : "");
	if (o.ab) {
		/* a: every op on the large path; b: Fig. 7's choice */
		struct mirror_load_config a = o.cfg;
		a.policy = MIRROR_POLICY_LARGE;
		a.initiator_prefix = names[0];
		runs[0].label = "a (large)";
		ret = do_run(&o, &a, &runs[0]);
		if (ret == MIRROR_EXIT_OK && !stop_flag) {
			struct mirror_load_config b = o.cfg;
			b.policy = MIRROR_POLICY_AUTO;
			b.initiator_prefix = names[1];
			runs[1].label = "b (auto)";
			runs[1].idx = 1;
			ret = do_run(&o, &b, &runs[1]);
		} else if (ret == MIRROR_EXIT_OK) {
			nruns = 1;
		}
	} else {
		runs[0].label = policy_label(&o.cfg);
		o.cfg.initiator_prefix = names[0];
		ret = do_run(&o, &o.cfg, &runs[0]);
	}
	if (ret != MIRROR_EXIT_OK)
		goto out;

	struct mirror_load_report rep[2];
	for (unsigned i = 0; i < nruns; i++) {
		rep[i].label = runs[i].label;
		rep[i].r = &runs[i].r;
		rep[i].emu = runs[i].have_emu ? &runs[i].emu : NULL;
		rep[i].capture = runs[i].have_cap ? &runs[i].cap : NULL;
		rep[i].capture_iface = o.capture;
		rep[i].capture_drops = runs[i].drops;
	}
	struct mirror_load_ab_diff d;
	if (nruns == 2)
		mirror_load_ab_compare(&rep[0], &rep[1], &d);
	if (o.json) {
		struct json_object *j;
		if (nruns == 2) {
			j = json_object_new_object();
			json_object_object_add(j, "config", config_json(&o));
			json_object_object_add(j, "a", mirror_load_report_json(&rep[0]));
			json_object_object_add(j, "b", mirror_load_report_json(&rep[1]));
			json_object_object_add(j, "difference", mirror_load_ab_json(&d));
		} else {
			j = mirror_load_report_json(&rep[0]);
			json_object_object_add(j, "config", config_json(&o));
		}
		print_json(j);
		json_object_put(j);
	} else {
		for (unsigned i = 0; i < nruns; i++)
			mirror_load_report_print(stdout, &rep[i]);
		if (nruns == 2)
			mirror_load_ab_print(stdout, &d);
	}
	char why[300];
	if (o.rep && mirror_report_load_write(o.rep, o.report, PROG, "mirror-load", rep, nruns,
					      nruns == 2 ? &d : NULL, why, sizeof(why)) < 0) {
		fprintf(stderr, PROG ": %s\n", why);
		ret = MIRROR_EXIT_FILE_ERROR;
	}
	for (unsigned i = 0; i < nruns && ret == MIRROR_EXIT_OK; i++)
		ret = run_status(&runs[i].r);
	if (ret != MIRROR_EXIT_OK)
		fprintf(stderr, PROG ": commands failed (%s); first: %s\n", mirror_exit_name(ret),
			runs[0].r.first_error[0] || nruns < 2 ? runs[0].r.first_error
							       : runs[1].r.first_error);
out:
	mirror_report_load_free(o.rep);
	free(runs);
	fflush(stdout);
	return ret;
}
