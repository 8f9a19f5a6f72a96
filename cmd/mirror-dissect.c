/* mirror-dissect: a packet capture of mirror traffic to per-operation
 * interrupt and byte accounting, per-path summaries and spec findings.
 * Thin: options here, everything else in libmirror (dissect_run.h). */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include <mirror/dissect_run.h>
#include <mirror/mirror.h>
#include "app/cli/cli.h"
#include "app/report/dissect.h"

#define PROG "mirror-dissect"
#define syntax_error(...) mirror_syntax_error(PROG, __VA_ARGS__)

enum ops_format { OPS_NONE = 0, OPS_TABLE, OPS_CSV, OPS_JSON };

struct opts {
	struct mirror_dissect_run_opts run;
	struct mirror_profile profile;
	bool json, check;
	enum ops_format ops;
	double link_rate_bps;
	const char *report; /* --report FILE.html */
};

struct ctx {
	const struct opts *o;
	struct mirror_dissect_summary summary;
	uint64_t printed;
	struct mirror_report_dissect *report;
};

static const char usage_text[] =
	"Usage: mirror-dissect [OPTIONS] -r FILE|-\n"
	"       mirror-dissect [OPTIONS] FILE...      (one summary per file)\n"
	"Reads a packet capture (pcap or pcapng) of iSCSI mirror traffic and accounts\n"
	"each mirror operation's receiver interrupts and bytes (mirror-protocol(7)).\n"
	"\n"
	"  -r, --read FILE           capture file, '-' for standard input\n"
	"  -P, --port N              the target's TCP port: it tells the initiator\n"
	"                            side (default: 3260, or else the side that sends\n"
	"                            the first initiator PDU)\n"
	"  -o, --ops [table|csv|json]  one record per operation instead of the summary\n"
	"  -j, --json                the summary (or, with --ops, the records) as JSON\n"
	"  -c, --check               report spec findings; exit 48 if there are errors\n"
	"      --link-rate RATE      what-if: operations per second each path could\n"
	"                            sustain on a channel of RATE (e.g. 160Mb/s)\n"
	"      --header-digest       HeaderDigest=CRC32C when the login is not captured\n"
	"      --data-digest         DataDigest=CRC32C when the login is not captured\n"
	"      --report FILE.html    also write an HTML report: per-path tables, and\n"
	"                            plots of the timeline drawn by gnuplot (tables\n"
	"                            only without it); one capture only\n"
	"  -p, --profile NAME        wire profile, default v1 (--opcodes, --nvram-size,\n"
	"  -O, --opcodes N,A,B,T,R   --region-split as for mirror-decode)\n"
	"  -n, --nvram-size SIZE\n"
	"      --region-split ADDR\n"
	"  -V, --version             print the version\n"
	"  -h, --help                this text\n"
	"\n"
	"Exit status: 0 decoded, 1 syntax error, 15 file error (unreadable, truncated\n"
	"or corrupt: the results up to the bad packet are printed), 48 --check found\n"
	"errors.\n";

#define EXIT_FINDINGS 48

/* The progress line: on stderr when it is a terminal and the capture a
 * regular file, rewritten about every 0.5 s, cleared before the results. */
struct progress {
	double start, last;
	int width; /* of the line last printed, 0: none shown */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_progress(void *user, uint64_t bytes_read, uint64_t total)
{
	struct progress *p = user;
	double t = now_s(), el = t - p->start;
	int w;

	if (!total || t - p->last < 0.5)
		return;
	p->last = t;
	if (bytes_read > total)
		bytes_read = total;
	w = fprintf(stderr, "\r" PROG ": %5.1f%%  %.0f MB/s", 100.0 * (double)bytes_read / (double)total,
		    el > 0 ? (double)bytes_read / el / 1e6 : 0.0);
	if (w > 0 && w - 1 < p->width) /* blank out the rest of a longer line */
		fprintf(stderr, "%*s", p->width - (w - 1), "");
	if (w > 0 && w - 1 > p->width)
		p->width = w - 1;
	fflush(stderr);
}

static void progress_clear(const struct progress *p)
{
	if (p->width)
		fprintf(stderr, "\r%*s\r", p->width, "");
}

static bool progress_wanted(const char *path)
{
	struct stat sb;

	if (!isatty(2))
		return false;
	if (strcmp(path, "-") == 0)
		return fstat(0, &sb) == 0 && S_ISREG(sb.st_mode);
	return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

#define LINK_RATE_MAX 1e12 /* 1000Gb/s */

static int parse_rate(const char *s, double *bps)
{
	char *end;
	double v = strtod(s, &end);
	static const struct {
		const char *suffix;
		double mul;
	} units[] = { { "b/s", 1 }, { "kb/s", 1e3 }, { "Kb/s", 1e3 }, { "Mb/s", 1e6 },
		      { "Gb/s", 1e9 }, { "", 1 } };

	if (end == s || !(v > 0))
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix) == 0) {
			/* "inf" and 1e20 are numbers to strtod, not a channel */
			if (!(v * units[i].mul <= LINK_RATE_MAX))
				return -1;
			*bps = v * units[i].mul;
			return 0;
		}
	}
	return -1;
}

static void on_op(void *user, const struct mirror_dissect_op *op)
{
	struct ctx *c = user;

	mirror_dissect_summary_add(&c->summary, op);
	if (c->report)
		mirror_report_dissect_add(c->report, op, &c->summary);
	switch (c->o->ops) {
	case OPS_JSON: {
		struct json_object *j = mirror_dissect_op_json(op);
		mirror_cli_json_print(stdout, j, false);
		json_object_put(j);
		break;
	}
	case OPS_TABLE:
		mirror_dissect_op_print(stdout, op, c->printed == 0);
		break;
	case OPS_CSV:
		if (c->printed == 0)
			puts("time,connection,itt,path,opcode,lba,blocks,interrupts,cdb,metadata,data,iscsi,tcpip,total,latency_us,status");
		printf("%.6f,%llu,%u,%s,%u,%u,%u,%u,%llu,%llu,%llu,%llu,%llu,%llu,%.0f,%d\n",
		       (double)op->time_ns / 1e9, (unsigned long long)op->conn_id, (unsigned)op->itt,
		       mirror_dissect_path_name(op->path), op->opcode, (unsigned)op->lba,
		       (unsigned)op->blocks, op->complete ? op->cost.interrupts : 0u,
		       (unsigned long long)op->cost.cdb, (unsigned long long)op->cost.metadata,
		       (unsigned long long)op->cost.data, (unsigned long long)op->cost.transport,
		       (unsigned long long)op->cost.tcpip, (unsigned long long)op->cost.total,
		       (double)op->latency_ns / 1000.0, op->have_status ? op->status : -1);
		break;
	case OPS_NONE:
		break;
	}
	c->printed++;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	enum { OPT_LINK_RATE = 256, OPT_HD, OPT_DD, OPT_REPORT };
	static const struct option longopts[] = {
		{ "read", required_argument, NULL, 'r' },
		{ "port", required_argument, NULL, 'P' },
		{ "ops", optional_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "check", no_argument, NULL, 'c' },
		{ "link-rate", required_argument, NULL, OPT_LINK_RATE },
		{ "header-digest", no_argument, NULL, OPT_HD },
		{ "data-digest", no_argument, NULL, OPT_DD },
		{ "report", required_argument, NULL, OPT_REPORT },
		MIRROR_CLI_PROFILE_LONGOPTS,
		MIRROR_CLI_STD_LONGOPTS,
	};
	struct mirror_profile_options po = { 0 };
	char why[160];
	int c;

	while ((c = getopt_long(argc, argv, "r:P:o::jc" MIRROR_CLI_PROFILE_SHORTOPTS MIRROR_CLI_STD_SHORTOPTS, longopts,
				NULL)) != -1) {
		if (mirror_cli_profile_option(c, optarg, &po))
			continue;
		switch (c) {
		case 'r':
			o->run.path = optarg;
			break;
		case 'P': {
			uint32_t v;
			if (mirror_cli_count32("--port", optarg, 1, 65535, &v, why, sizeof(why)) < 0)
				return syntax_error("%s", why);
			o->run.target_port = (uint16_t)v;
			break;
		}
		case 'o':
			if (!optarg || strcmp(optarg, "table") == 0)
				o->ops = OPS_TABLE;
			else if (strcmp(optarg, "csv") == 0)
				o->ops = OPS_CSV;
			else if (strcmp(optarg, "json") == 0)
				o->ops = OPS_JSON;
			else
				return syntax_error("bad --ops '%s' (table, csv or json)", optarg);
			break;
		case 'j':
			o->json = true;
			break;
		case 'c':
			o->check = true;
			break;
		case OPT_LINK_RATE:
			if (parse_rate(optarg, &o->link_rate_bps) < 0)
				return syntax_error("bad --link-rate '%s' (e.g. 160Mb/s, at most 1000Gb/s)",
						    optarg);
			break;
		case OPT_HD:
			o->run.dissect.header_digest = true;
			break;
		case OPT_DD:
			o->run.dissect.data_digest = true;
			break;
		case OPT_REPORT:
			o->report = optarg;
			break;
		default:
			return mirror_cli_default_option(c, PROG, usage_text);
		}
	}
	if (o->run.path && optind < argc)
		return syntax_error("give -r FILE or FILE operands, not both ('%s')", argv[optind]);
	if (!o->run.path && optind == argc)
		return syntax_error("%s", "no capture: -r FILE, -r - for standard input, or FILE...");
	if (o->report && !o->run.path && argc - optind > 1)
		return syntax_error("--report takes one capture, not %d", argc - optind);
	if (mirror_profile_from_options(&po, &o->profile, why, sizeof(why)) < 0)
		return syntax_error("%s", why);
	const struct mirror_cli_path_check paths[] = {
		{ "--read", o->run.path && strcmp(o->run.path, "-") ? o->run.path : NULL,
		  MIRROR_CLI_PATH_IN },
		{ "--report", o->report, MIRROR_CLI_PATH_OUT },
	};
	if ((c = mirror_cli_paths(PROG, paths, sizeof(paths) / sizeof(paths[0]))) != 0)
		return c;
	if (o->json && o->ops == OPS_TABLE)
		o->ops = OPS_JSON;
	o->run.dissect.profile = &o->profile;
	return -1;
}

/* Decodes one capture and prints its results; returns its exit status. */
static int decode_one(struct opts *o, const char *path, bool several)
{
	static struct ctx ctx; /* the summary holds histograms: not on the stack */
	struct progress prog = { 0 };
	struct mirror_dissect_run_stats st;
	int rc, ret = MIRROR_EXIT_OK;

	o->run.path = path;
	o->run.progress = NULL;
	memset(&ctx, 0, sizeof(ctx));
	ctx.o = o;
	mirror_dissect_summary_init(&ctx.summary, &o->profile);
	if (several && !o->json && o->ops == OPS_NONE)
		printf("== %s\n", path);
	/* not between per-operation records on the same terminal */
	if (o->report && !(ctx.report = mirror_report_dissect_new())) {
		fprintf(stderr, PROG ": --report: out of memory\n");
		return MIRROR_EXIT_OTHER;
	}
	if (progress_wanted(path) && !(o->ops != OPS_NONE && isatty(1))) {
		prog.start = prog.last = now_s();
		o->run.progress = on_progress;
		o->run.progress_ctx = &prog;
	}
	rc = mirror_dissect_run(&o->run, on_op, &ctx, &st);
	progress_clear(&prog);
	if (rc < 0 && rc != -EIO) {
		fprintf(stderr, PROG ": %s\n", st.error);
		mirror_report_dissect_free(ctx.report);
		return MIRROR_EXIT_FILE_ERROR;
	}
	if (o->ops == OPS_NONE) {
		if (o->json) {
			struct json_object *j = mirror_dissect_summary_json(&ctx.summary, &st);
			if (several)
				json_object_object_add(j, "file", json_object_new_string(path));
			mirror_cli_json_print(stdout, j, !several);
			json_object_put(j);
		} else {
			mirror_dissect_summary_print(stdout, &ctx.summary, &st, o->link_rate_bps);
		}
	}
	fflush(stdout);
	if (ctx.report) {
		char why[300];

		/* a truncated capture still gets its report: what was read */
		if (mirror_report_dissect_write(ctx.report, o->report, PROG, path, &ctx.summary, &st, why,
						sizeof(why)) < 0) {
			fprintf(stderr, PROG ": %s\n", why);
			ret = MIRROR_EXIT_FILE_ERROR;
		}
		mirror_report_dissect_free(ctx.report);
		ctx.report = NULL;
	}
	if (rc == -EIO) {
		/* the results so far are printed; the file's fault is named */
		fprintf(stderr, PROG ": %s: %s (results up to there are above)\n", path, st.error);
		ret = MIRROR_EXIT_FILE_ERROR;
	} else if (o->check && ctx.summary.errors) {
		fprintf(stderr, PROG ": %s: %llu errors found\n", path,
			(unsigned long long)ctx.summary.errors);
		ret = EXIT_FINDINGS;
	}
	return ret;
}

int main(int argc, char **argv)
{
	struct opts o;
	int rc, ret = MIRROR_EXIT_OK;

	mirror_cli_catch_truncated_capture(PROG);
	memset(&o, 0, sizeof(o));
	rc = parse_args(argc, argv, &o);
	if (rc >= 0)
		return rc;
	if (o.run.path)
		return decode_one(&o, o.run.path, false);
	/* FILE operands: each on its own, the first failure's status wins */
	for (int i = optind; i < argc; i++) {
		const struct mirror_cli_path_check file = { "capture", argv[i], MIRROR_CLI_PATH_IN };
		int r = mirror_cli_paths(PROG, &file, 1);
		if (r == 0)
			r = decode_one(&o, argv[i], argc - optind > 1);
		if (r && !ret)
			ret = r;
	}
	return ret;
}
