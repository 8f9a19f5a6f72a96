/* mirror-conform: checks a receiving controller against the wire profile,
 * case by case (conformance/).  Thin: options, case selection and output
 * here; the cases, the runner and the reporters in conformance/, the
 * protocol in libmirror. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mirror/mirror.h>
#include "app/cli/cli.h"

#include "conform.h"
#include "sender.h"
#include "wire/table_text.h"

#define PROG "mirror-conform"
#define TIMEOUT_DEFAULT 30u
#define TIMEOUT_MAX 3600u

struct opts {
	const char *target;
	const char *test, *skip;
	const char *junit;
	bool list, tap, json;
	int verbose;
	unsigned timeout_s;
	unsigned region;
	const char *initiator;
	const char *emu_stats;
	bool fresh;
	const char *table_file, *volumes;
	struct mirror_profile profile;
};

static const char usage_text[] =
	"Usage: " PROG " [OPTIONS] URL\n"
	"       " PROG " --list [--test GLOB] [--skip GLOB]\n"
	"Checks a receiving controller against the mirror wire profile, case by\n"
	"case, with the expected and actual answer and the source figure of each.\n"
	"URL: iscsi://[user[%password]@]host[:port]/target-iqn/lun, or a SCSI\n"
	"device (/dev/sgN) where the SG_IO backend is built.\n"
	"\n"
	"  -l, --list              list the cases (id, needs, description) and exit\n"
	"  -t, --test GLOB[,GLOB]  run only the cases whose id matches a glob\n"
	"  -x, --skip GLOB[,GLOB]  do not run the cases whose id matches a glob\n"
	"      --junit FILE        also write JUnit XML (skips as <skipped/>) to FILE\n"
	"      --tap               TAP version 13 on stdout instead of text\n"
	"  -j, --json              JSON on stdout instead of text (the totals on stderr)\n"
	"  -T, --timeout SECONDS   per case; a case still running then is killed and\n"
	"                          fails, and the run goes on (default 30)\n"
	"      --sender a|b        the controller the suite plays (default a: it\n"
	"                          writes region 0, as to mirror-emu's default role b)\n"
	"      --initiator-name IQN  base of the iSCSI initiator names (one per case)\n"
	"      --fresh             the target was sent no array table since it started:\n"
	"                          check that it refuses small writes until it has one\n"
"      --table FILE        the target's own array table (mirror-emu(1) ARRAY\n"
	"                          TABLE FILE: 'VOLUME ARRAY-SERIAL ARRAY-NUMBER'\n"
	"                          lines): the cases write to its volumes and send\n"
	"                          ARRAY TABLE UPDATE only to check that command\n"
	"      --volumes LIST      the same, by volume numbers alone (e.g. 0,1,7,255);\n"
	"                          the cases that would send a table then skip\n"
	"      --emu-stats PATH    mirror-emu's stats socket: counts the interrupts\n"
	"                          where no live capture can be taken\n"
	"  -p, --profile NAME      wire profile (v1, v1-18bit, v1-cdb16, vendor, ...)\n"
	"  -O, --opcodes LIST      NOTIFY,SMALL_A,SMALL_B,TABLE,READBACK in hex\n"
	"  -n, --nvram-size SIZE   the target's NVRAM size (default 128M)\n"
	"      --region-split ADDR first byte of region 1 (default: half)\n"
	"      --strict            the target is a strict receiver (notification\n"
	"                          CDB bytes 1-9 must be zero)\n"
	"  -v, --verbose           print every CDB sent and its answer (twice: more)\n"
	"  -V, --version           print the version and exit\n"
	"  -h, --help              print this help and exit\n"
	"      --check-sender ...  check a prototype's sending side instead\n"
	"                          (--check-sender --help)\n"
	"\n"
	"The output ends with \"N passed, N failed, N skipped\" alone on a line, and\n"
	"\", N partial\" after it when a case could not verify the data it stored\n"
	"(a target without NVRAM READBACK): never counted as passed.\n"
	"Exit status: 0 no case failed (skips and partials allowed), 1 a case failed\n"
	"or a syntax error (a filter that selects nothing is one), 9 the target\n"
	"implements no mirror command at all, 15 the --table file cannot be read\n"
	"or the --junit file written, 35 the target cannot be reached.\n";

#define syntax_error(...) mirror_syntax_error(PROG, __VA_ARGS__)

enum { OPT_TAP = 256, OPT_JUNIT, OPT_SENDER, OPT_INITIATOR, OPT_EMU_STATS, OPT_FRESH, OPT_TABLE,
       OPT_VOLUMES };

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "list", no_argument, NULL, 'l' },
		{ "test", required_argument, NULL, 't' },
		{ "skip", required_argument, NULL, 'x' },
		{ "junit", required_argument, NULL, OPT_JUNIT },
		{ "tap", no_argument, NULL, OPT_TAP },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "sender", required_argument, NULL, OPT_SENDER },
		{ "initiator-name", required_argument, NULL, OPT_INITIATOR },
		{ "emu-stats", required_argument, NULL, OPT_EMU_STATS },
		{ "fresh", no_argument, NULL, OPT_FRESH },
		{ "table", required_argument, NULL, OPT_TABLE },
		{ "volumes", required_argument, NULL, OPT_VOLUMES },
		MIRROR_CLI_PROFILE_LONGOPTS,
		{ "verbose", no_argument, NULL, 'v' },
		MIRROR_CLI_STD_LONGOPTS,
	};
	struct mirror_profile_options po = { NULL, NULL, NULL, NULL, false };
	char why[256];
	int c;

	o->timeout_s = TIMEOUT_DEFAULT;
	while ((c = getopt_long(argc, argv, "lt:x:jT:" MIRROR_CLI_PROFILE_SHORTOPTS "v" MIRROR_CLI_STD_SHORTOPTS, longopts,
				NULL)) != -1) {
		if (mirror_cli_profile_option(c, optarg, &po))
			continue;
		switch (c) {
		case 'l': o->list = true; break;
		case 't': o->test = optarg; break;
		case 'x': o->skip = optarg; break;
		case OPT_JUNIT: o->junit = optarg; break;
		case OPT_TAP: o->tap = true; break;
		case 'j': o->json = true; break;
		case 'T':
			if (mirror_cli_count32("--timeout", optarg, 1, TIMEOUT_MAX, &o->timeout_s, why,
					       sizeof(why)) < 0)
				return syntax_error("%s (seconds)", why);
			break;
		case OPT_SENDER:
			if (strcmp(optarg, "a") == 0 || strcmp(optarg, "A") == 0)
				o->region = 0;
			else if (strcmp(optarg, "b") == 0 || strcmp(optarg, "B") == 0)
				o->region = 1;
			else
				return syntax_error("bad --sender '%s' (a or b)", optarg);
			break;
		case OPT_INITIATOR: o->initiator = optarg; break;
		case OPT_EMU_STATS: o->emu_stats = optarg; break;
		case OPT_FRESH: o->fresh = true; break;
		case OPT_TABLE: o->table_file = optarg; break;
		case OPT_VOLUMES: o->volumes = optarg; break;
		case 'v': o->verbose++; break;
		default: return mirror_cli_default_option(c, PROG, usage_text);
		}
	}
	if (o->tap && o->json)
		return syntax_error("--tap and --json exclude each other");
	if (o->table_file && o->volumes)
		return syntax_error("--table and --volumes exclude each other (the file has the volumes)");
	if (o->fresh && (o->table_file || o->volumes))
		return syntax_error("--fresh checks a target sent no array table; --%s says it has its own",
				    o->table_file ? "table" : "volumes");
	if (mirror_profile_from_options(&po, &o->profile, why, sizeof(why)) < 0)
		return syntax_error("%s", why);
	if (o->test && conf_glob_list_check(o->test, why, sizeof(why)) < 0)
		return syntax_error("--test: %s", why);
	if (o->skip && conf_glob_list_check(o->skip, why, sizeof(why)) < 0)
		return syntax_error("--skip: %s", why);
	if (optind < argc)
		o->target = argv[optind++];
	if (optind < argc)
		return syntax_error("unexpected argument '%s' after the URL", argv[optind]);
	if (!o->target && !o->list)
		return syntax_error("no target URL (or --list)");
	const struct mirror_cli_path_check paths[] = {
		{ "--junit", o->junit, MIRROR_CLI_PATH_OUT },
		{ "--table", o->table_file, MIRROR_CLI_PATH_IN },
		{ "--emu-stats", o->emu_stats, MIRROR_CLI_PATH_SOCKET },
	};
	if ((c = mirror_cli_text(PROG, "--initiator-name", o->initiator)) != 0)
		return c;
	if ((c = mirror_cli_paths(PROG, paths, sizeof(paths) / sizeof(paths[0]))) != 0)
		return c;
	return -1;
}

static const struct {
	unsigned bit;
	const char *name;
} need_names[] = {
	{ CONF_NEED_SMALL, "small" },   { CONF_NEED_NOTIFY, "large" },
	{ CONF_NEED_TABLE, "table" },   { CONF_NEED_READBACK, "readback" },
	{ CONF_NEED_ISCSI, "iscsi" },   { CONF_NEED_STRICT, "strict" },
	{ CONF_NEED_LENIENT, "lenient" }, { CONF_NEED_FRESH, "fresh" },
	{ CONF_NEED_VOLUMES, "volumes" }, { CONF_NEED_VERIFY, "verify" },
};

static void list_cases(const bool *sel, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct conf_case *cs = conf_case_at(i);
		char needs[128] = "";
		if (!sel[i])
			continue;
		for (size_t k = 0; k < sizeof(need_names) / sizeof(need_names[0]); k++)
			if (cs->needs & need_names[k].bit)
				snprintf(needs + strlen(needs), sizeof(needs) - strlen(needs), "%s%s",
					 needs[0] ? "," : "", need_names[k].name);
		printf("%-42s %-28s %s\n", cs->id, needs[0] ? needs : "-", cs->desc);
	}
}

int main(int argc, char **argv)
{
	struct opts o;
	struct conf_ctx ctx;
	struct conf_reporter rep = { .out = stdout, .prog = PROG };
	struct conf_result *res = NULL;
	size_t n = conf_case_count(), nsel;
	bool *sel = NULL;
	char why[CONF_WHY_MAX];
	int rc;

	mirror_cli_hide_secrets(argc, argv); /* before anything reads argv */

	/* the sending side is a mode of its own (conformance/sender.h) */
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--check-sender") == 0)
			return conf_sender_main(argc, argv);
	memset(&o, 0, sizeof(o));
	if ((rc = parse_args(argc, argv, &o)) >= 0)
		return rc;
	sel = calloc(n, sizeof(*sel));
	res = calloc(n, sizeof(*res));
	if (!sel || !res) {
		fprintf(stderr, "%s: out of memory\n", PROG);
		rc = MIRROR_EXIT_OTHER;
		goto out;
	}
	nsel = conf_select(o.test, o.skip, sel, n);
	if (nsel == 0) {
		rc = syntax_error("no case matches --test '%s'%s%s%s (see --list)", o.test ? o.test : "*",
				  o.skip ? " less --skip '" : "", o.skip ? o.skip : "", o.skip ? "'" : "");
		goto out;
	}
	if (o.list) {
		list_cases(sel, n);
		rc = MIRROR_EXIT_OK;
		goto out;
	}
	if (mirror_transport_check(o.target, NULL, why, sizeof(why)) < 0) {
		rc = syntax_error("%s", why);
		goto out;
	}

	memset(&ctx, 0, sizeof(ctx));
	ctx.target = o.target;
	ctx.profile = o.profile;
	ctx.region = o.region;
	ctx.initiator_base = o.initiator;
	ctx.emu_stats = o.emu_stats;
	ctx.fresh = o.fresh;
	if (o.table_file || o.volumes) {
		struct mirror_array_table own;
		rc = o.table_file ? mirror_array_table_read_file(o.table_file, &own, why, sizeof(why))
				  : conf_volumes_parse(o.volumes, &own, why, sizeof(why));
		if (rc < 0) {
			fprintf(stderr, "%s: --%s %s\n", PROG, o.table_file ? "table" : "volumes", why);
			rc = o.table_file ? MIRROR_EXIT_FILE_ERROR : MIRROR_EXIT_SYNTAX;
			goto out;
		}
		conf_use_table(&ctx, &own, o.table_file != NULL);
	} else {
		conf_use_table(&ctx, NULL, true);
	}
	ctx.verbose = o.verbose;
	rep.tap = o.tap;
	rep.json = o.json;
	rep.junit = o.junit;
	rep.target = o.target;
	ctx.log = conf_reporter_log(&rep);
	ctx.timeout_s = o.timeout_s;
	/* the transport gives up before the watchdog does, with a reason */
	ctx.topts.command_timeout_ms = o.timeout_s > 2 ? (o.timeout_s - 2) * 1000u : 1000u;
	ctx.topts.connect_timeout_ms = ctx.topts.command_timeout_ms;
	if (conf_probe(&ctx, why, sizeof(why)) < 0) {
		fprintf(stderr, "%s: cannot check %s: %s\n", PROG, o.target, why);
		rc = MIRROR_EXIT_TRANSPORT;
		goto out;
	}
	conf_reporter_start(&rep, nsel);
	for (size_t i = 0; i < n; i++) {
		if (!sel[i])
			continue;
		conf_run_case(&ctx, conf_case_at(i), (unsigned)(rep.done + 1), &res[rep.done]);
		conf_reporter_case(&rep, &res[rep.done]);
	}
	const char *note = conf_not_a_receiver(&ctx.support)
				   ? "the target implements no mirror command: not a mirror receiver"
				   : NULL;
	rc = rep.tot.failed ? 1 : note ? MIRROR_EXIT_INVALID_OP : MIRROR_EXIT_OK;
	if (conf_reporter_finish(&rep, res, note, ctx.support.small_why) < 0)
		rc = MIRROR_EXIT_FILE_ERROR;
out:
	free(sel);
	free(res);
	return rc;
}
