/* mirror-emu: an emulated RAID controller that receives mirror commands
 * as an iSCSI target.  Thin: options and files here; the receiver, the
 * target engine, fault injection and the socket loop are in libmirror. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "app/emu/server.h"
#include <mirror/mirror.h>
#include "app/cli/cli.h"
#include "app/emu/stats.h"
#include <mirror/receiver.h>
#include "iscsi/target.h"
#include "iscsi/stats.h"
#include "iscsi/chap_file.h"
#include "wire/table_text.h"

#define PROG "mirror-emu"
/* RFC 7143 4.2.7.1: an iSCSI name is at most 223 bytes. */
#define ISCSI_NAME_MAX 223
/* RFC 7143 13.13-13.14: burst and segment lengths are 512..2^24-1. */
#define LEN_MIN 512u
#define LEN_MAX 16777215u
#define MAX_CONNS_LIMIT 65536u

struct opts {
	const char *listen;
	const char *target_name, *target_alias;
	unsigned role;
	struct mirror_profile profile;
	enum mirror_neg_profile neg;
	uint32_t max_burst, first_burst, max_recv_dsl;
	bool have_max_burst, have_first_burst, have_max_recv_dsl;
	const char *nvram_file, *chap_file, *stats_socket, *port_file;
	unsigned acl_n;
	const char *acl[MIRROR_ACL_MAX];
	unsigned inject_n;
	const char *inject_spec[MIRROR_INJECT_RULES_MAX];
	struct mirror_inject_rule inject_rule[MIRROR_INJECT_RULES_MAX];
	uint64_t seed;
	unsigned max_conns;
	int verbosity; /* -v minus -q */
	const char *query; /* --query: a client of another mirror-emu */
	unsigned extensions_off; /* MIRROR_RX_EXT_* not implemented */
	const char *table_file;  /* --table: the array table configured */
	bool json;
};

static const char usage_text[] =
	"Usage: mirror-emu [OPTIONS]\n"
	"An emulated RAID controller: receives mirror commands (mirror-protocol(7))\n"
	"as an iSCSI target and stores them in its NVRAM.\n"
	"\n"
	"  -l, --listen ADDR:PORT      address to listen on (default 127.0.0.1:3260;\n"
	"                              [::1]:3260 for IPv6; port 0 picks a free one)\n"
	"  -t, --target-name IQN       target name (default iqn.2026-11.org.mirrortest:emu)\n"
	"      --target-alias NAME     TargetAlias sent at login\n"
	"  -r, --role a|b              the controller emulated (default b: it receives\n"
	"                              from A, into region 0)\n"
	"  -p, --profile NAME          wire profile (--list-profiles), default v1\n"
	"  -O, --opcodes N,A,B,T,R     custom opcodes in hex (e.g. 3c,a0,b0,c6,c8)\n"
	"  -n, --nvram-size SIZE       NVRAM size, e.g. 128M (default), at most 512M\n"
	"      --region-split ADDR     first byte of region 1 (default: half the NVRAM)\n"
	"      --strict                reject non-zero bytes 1-9 of the notification CDB\n"
	"  -N, --negotiation patent|modern\n"
	"                              patent: InitialR2T=Yes, ImmediateData=No (default);\n"
	"                              modern: InitialR2T=No, ImmediateData=Yes\n"
	"      --max-burst N           MaxBurstLength offered (512..16777215)\n"
	"      --first-burst N         FirstBurstLength offered (512..MaxBurstLength)\n"
	"      --max-recv-dsl N        MaxRecvDataSegmentLength declared (512..16777215)\n"
	"  -f, --nvram-file PATH       keep the NVRAM in PATH across restarts (created if\n"
	"                              absent; must match --nvram-size/--region-split)\n"
	"  -c, --chap-file FILE        CHAP secrets: lines 'initiator USER SECRET' and\n"
	"                              optionally 'target USER SECRET' (mutual CHAP)\n"
	"  -a, --allow-initiator NAME  accept only these initiators (repeatable, up to 32)\n"
	"      --extensions LIST       harness extensions implemented: all (default),\n"
	"                              none, or a comma list of table, readback,\n"
	"                              release; the others answer INVALID COMMAND\n"
	"                              OPERATION CODE like any unknown opcode\n"
	"      --no-extensions         --extensions none: a receiver that follows the\n"
	"                              wire profile and nothing more\n"
	"      --table FILE            the array table configured at start: lines\n"
	"                              'VOLUME ARRAY-SERIAL(hex) ARRAY-NUMBER'\n"
	"  -i, --inject RULE           fault injection (repeatable, up to 16):\n"
	"                              ACTION[:ARG][,opcode=0xNN][,p=P], ACTION one of\n"
	"                              sense:KK/AA/QQ drop-status delay-status:MS\n"
	"                              unknown-opcode skip-validity corrupt-readback\n"
	"                              close-mid-transfer; deviations for mirror-conform:\n"
	"                              accept:RULE wrong-pointer wrong-asc valid-on-abort\n"
	"                              data-in-mirror gap-sense keep-table\n"
	"      --seed N                seed of the injection PRNG (default 1)\n"
	"      --stats-socket PATH     unix socket answering with one line of JSON counters\n"
	"      --port-file PATH        write the bound port to PATH once listening\n"
	"      --max-connections N     connections at once (default 256)\n"
	"  -Q, --query PATH            ask a running mirror-emu's stats socket and print\n"
	"                              the per-path interrupt and byte table, then exit\n"
	"      --json                  with --query: print the counters as JSON\n"
	"  -L, --list-profiles         list the named profiles\n"
	"  -v, --verbose               more log (debug); -q, --quiet: less (warn, error)\n"
	"  -V, --version               print the version\n"
	"  -h, --help                  this text\n"
	"\n"
	"SIGTERM or SIGINT stops it cleanly.  Exit status: 0 clean shutdown, 1 syntax\n"
	"error, 15 file error (NVRAM, CHAP, table, port file), 35 cannot listen, 99 other.\n";

#define syntax_error(...) mirror_syntax_error(PROG, __VA_ARGS__)

/* Number options, through the shared parser (app/cli): 0 or the syntax
 * error's exit status. */
static int len_opt(const char *opt, const char *arg, uint32_t *out)
{
	char why[200];
	/* RFC 7143 13.13-13.14: burst and segment lengths */
	if (mirror_cli_size32(opt, arg, LEN_MIN, LEN_MAX, out, why, sizeof(why)) < 0)
		return syntax_error("%s", why);
	return 0;
}

static int count_opt(const char *opt, const char *arg, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char why[200];
	if (mirror_cli_count(opt, arg, lo, hi, out, why, sizeof(why)) < 0)
		return syntax_error("%s", why);
	return 0;
}

static void size_str(uint64_t v, char *buf, size_t len)
{
	if (v && v % (1024 * 1024) == 0)
		snprintf(buf, len, "%lluM", (unsigned long long)(v >> 20));
	else if (v && v % 1024 == 0)
		snprintf(buf, len, "%lluK", (unsigned long long)(v >> 10));
	else
		snprintf(buf, len, "%llu", (unsigned long long)v);
}

static bool iscsi_name_ok(const char *n)
{
	size_t len = strlen(n);

	/* RFC 7143 4.2.7: the iqn., eui. and naa. formats. */
	return len > 4 && len <= ISCSI_NAME_MAX &&
	       (strncmp(n, "iqn.", 4) == 0 || strncmp(n, "eui.", 4) == 0 ||
		strncmp(n, "naa.", 4) == 0);
}

/* ---- files and limits ---- */

static struct mirror_emu_server *g_server;

static void on_signal(int sig)
{
	(void)sig;
	if (g_server)
		mirror_emu_server_stop(g_server);
}

static int install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0)
		return -errno;
	/* a peer that vanishes mid-send is an error return, not a death */
	sa.sa_handler = SIG_IGN;
	return sigaction(SIGPIPE, &sa, NULL) < 0 ? -errno : 0;
}

static void summary(const struct mirror_tgt *tgt, const struct mirror_emu_server *srv,
		    const struct opts *o, const struct mirror_inject *inj)
{
	const struct mirror_tgt_stats *t = mirror_tgt_stats(tgt);
	const struct mirror_emu_server_stats *s = mirror_emu_server_stats(srv);
	char fired[512] = "";
	uint64_t cc = 0;
	size_t off = 0;

	for (unsigned k = 0; k < 16; k++)
		cc += t->sense_count[k];
	for (unsigned i = 0; i < inj->n && off < sizeof(fired); i++) {
		int n = snprintf(fired + off, sizeof(fired) - off, "%s%s x%llu", i ? ", " : "; injected ",
				 o->inject_spec[i], (unsigned long long)inj->fired[i]);
		if (n < 0)
			break;
		off += (size_t)n;
	}
	mirror_log(MIRROR_LOG_INFO,
		   "summary: %llu sessions (%llu logins failed), %llu connections (%llu refused); "
		   "ops: %llu small, %llu large, %llu table update, %llu readback, %llu other; "
		   "%llu check conditions, %llu rejects, %llu digest errors, %llu task management; "
		   "%llu PDUs in, %llu out%s",
		   (unsigned long long)t->sessions_total, (unsigned long long)t->logins_failed,
		   (unsigned long long)s->accepted, (unsigned long long)s->refused,
		   (unsigned long long)t->kind[MIRROR_RX_KIND_SMALL].ops,
		   (unsigned long long)t->kind[MIRROR_RX_KIND_LARGE].ops,
		   (unsigned long long)t->kind[MIRROR_RX_KIND_TABLE].ops,
		   (unsigned long long)t->kind[MIRROR_RX_KIND_READBACK].ops,
		   (unsigned long long)t->kind[MIRROR_RX_KIND_OTHER].ops, (unsigned long long)cc,
		   (unsigned long long)t->rejects, (unsigned long long)t->digest_errors,
		   (unsigned long long)t->tmf, (unsigned long long)t->pdus_in,
		   (unsigned long long)t->pdus_out, fired);
}

/* ---- main ---- */

enum {
	OPT_TARGET_ALIAS = 256,
	OPT_MAX_BURST,
	OPT_FIRST_BURST,
	OPT_MAX_RECV_DSL,
	OPT_SEED,
	OPT_STATS_SOCKET,
	OPT_PORT_FILE,
	OPT_JSON,
	OPT_MAX_CONNS,
	OPT_SECRET_ON_CMDLINE,
	OPT_EXTENSIONS,
	OPT_NO_EXTENSIONS,
	OPT_TABLE
};

/* --extensions LIST: the names of the harness extensions kept. */
static int parse_extensions(const char *arg, unsigned *off)
{
	static const struct {
		const char *name;
		unsigned bit;
	} names[] = { { "table", MIRROR_RX_EXT_TABLE },
		      { "readback", MIRROR_RX_EXT_READBACK },
		      { "release", MIRROR_RX_EXT_RELEASE },
		      { "all", MIRROR_RX_EXT_ALL },
		      { "none", 0 } };
	char list[128], *save = NULL;
	unsigned on = 0;

	if (strlen(arg) >= sizeof(list))
		return syntax_error("--extensions '%.20s...' is too long", arg);
	snprintf(list, sizeof(list), "%s", arg);
	for (char *w = strtok_r(list, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		size_t i = 0;
		while (i < sizeof(names) / sizeof(names[0]) && strcmp(names[i].name, w) != 0)
			i++;
		if (i == sizeof(names) / sizeof(names[0]))
			return syntax_error("--extensions: unknown extension '%s' (table, readback, "
					    "release, all or none)", w);
		on |= names[i].bit;
	}
	if (!on && !strstr(arg, "none"))
		return syntax_error("--extensions '%s' names no extension (none for none)", arg);
	*off = MIRROR_RX_EXT_ALL & ~on;
	return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "target-name", required_argument, NULL, 't' },
		{ "target-alias", required_argument, NULL, OPT_TARGET_ALIAS },
		{ "role", required_argument, NULL, 'r' },
		MIRROR_CLI_PROFILE_LONGOPTS,
		{ "negotiation", required_argument, NULL, 'N' },
		{ "max-burst", required_argument, NULL, OPT_MAX_BURST },
		{ "first-burst", required_argument, NULL, OPT_FIRST_BURST },
		{ "max-recv-dsl", required_argument, NULL, OPT_MAX_RECV_DSL },
		{ "nvram-file", required_argument, NULL, 'f' },
		{ "chap-file", required_argument, NULL, 'c' },
		{ "allow-initiator", required_argument, NULL, 'a' },
		{ "inject", required_argument, NULL, 'i' },
		{ "extensions", required_argument, NULL, OPT_EXTENSIONS },
		{ "no-extensions", no_argument, NULL, OPT_NO_EXTENSIONS },
		{ "table", required_argument, NULL, OPT_TABLE },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "stats-socket", required_argument, NULL, OPT_STATS_SOCKET },
		{ "port-file", required_argument, NULL, OPT_PORT_FILE },
		{ "max-connections", required_argument, NULL, OPT_MAX_CONNS },
		{ "query", required_argument, NULL, 'Q' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "list-profiles", no_argument, NULL, 'L' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		/* Named only to be refused with a reason. */
		{ "chap-secret", required_argument, NULL, OPT_SECRET_ON_CMDLINE },
		{ "target-secret", required_argument, NULL, OPT_SECRET_ON_CMDLINE },
		{ "secret", required_argument, NULL, OPT_SECRET_ON_CMDLINE },
		{ NULL, 0, NULL, 0 },
	};
	struct mirror_profile_options po = { 0 };
	uint64_t v;
	char why[200];
	struct sockaddr_storage ss;
	socklen_t sl;
	int c, rc;

	while ((c = getopt_long(argc, argv, "l:t:r:" MIRROR_CLI_PROFILE_SHORTOPTS "N:f:c:a:i:Q:LvqVh", longopts,
				NULL)) != -1) {
		if (mirror_cli_profile_option(c, optarg, &po))
			continue;
		switch (c) {
		case 'l':
			if (mirror_emu_parse_addr(optarg, &ss, &sl, why, sizeof(why)) < 0)
				return syntax_error("--listen %s", why);
			o->listen = optarg;
			break;
		case 't':
			if (!iscsi_name_ok(optarg))
				return syntax_error("--target-name '%s' is not an iSCSI name (iqn., "
						    "eui. or naa., at most %d bytes)", optarg,
						    ISCSI_NAME_MAX);
			o->target_name = optarg;
			break;
		case OPT_TARGET_ALIAS:
			if (strlen(optarg) > 255)
				return syntax_error("%s", "--target-alias is over 255 bytes");
			o->target_alias = optarg;
			break;
		case 'r':
			if (strcasecmp(optarg, "a") == 0)
				o->role = 0;
			else if (strcasecmp(optarg, "b") == 0)
				o->role = 1;
			else
				return syntax_error("bad --role '%s' (a or b)", optarg);
			break;
		case 'N':
			if (strcmp(optarg, "patent") == 0)
				o->neg = MIRROR_NEG_PATENT;
			else if (strcmp(optarg, "modern") == 0)
				o->neg = MIRROR_NEG_MODERN;
			else
				return syntax_error("bad --negotiation '%s' (patent or modern)", optarg);
			break;
		case OPT_MAX_BURST:
			if ((rc = len_opt("--max-burst", optarg, &o->max_burst)))
				return rc;
			o->have_max_burst = true;
			break;
		case OPT_FIRST_BURST:
			if ((rc = len_opt("--first-burst", optarg, &o->first_burst)))
				return rc;
			o->have_first_burst = true;
			break;
		case OPT_MAX_RECV_DSL:
			if ((rc = len_opt("--max-recv-dsl", optarg, &o->max_recv_dsl)))
				return rc;
			o->have_max_recv_dsl = true;
			break;
		case 'f':
			o->nvram_file = optarg;
			break;
		case 'c':
			o->chap_file = optarg;
			break;
		case 'a':
			if (o->acl_n == MIRROR_ACL_MAX)
				return syntax_error("more than %d --allow-initiator", MIRROR_ACL_MAX);
			if (!iscsi_name_ok(optarg))
				return syntax_error("--allow-initiator '%s' is not an iSCSI name (iqn., "
						    "eui. or naa., at most %d bytes)", optarg,
						    ISCSI_NAME_MAX);
			o->acl[o->acl_n++] = optarg;
			break;
		case 'i':
			if (o->inject_n == MIRROR_INJECT_RULES_MAX)
				return syntax_error("more than %d --inject rules", MIRROR_INJECT_RULES_MAX);
			if (mirror_inject_parse(optarg, &o->inject_rule[o->inject_n], why, sizeof(why)) < 0)
				return syntax_error("--inject '%s': %s", optarg, why);
			o->inject_spec[o->inject_n++] = optarg;
			break;
		case OPT_EXTENSIONS:
			if ((rc = parse_extensions(optarg, &o->extensions_off)))
				return rc;
			break;
		case OPT_NO_EXTENSIONS:
			o->extensions_off = MIRROR_RX_EXT_ALL;
			break;
		case OPT_TABLE:
			o->table_file = optarg;
			break;
		case OPT_SEED:
			if ((rc = count_opt("--seed", optarg, 0, UINT64_MAX, &o->seed)))
				return rc;
			break;
		case OPT_STATS_SOCKET:
			o->stats_socket = optarg;
			break;
		case OPT_PORT_FILE:
			o->port_file = optarg;
			break;
		case OPT_MAX_CONNS:
			if ((rc = count_opt("--max-connections", optarg, 1, MAX_CONNS_LIMIT, &v)))
				return rc;
			o->max_conns = (unsigned)v;
			break;
		case OPT_SECRET_ON_CMDLINE:
			return syntax_error("%s", "secrets are not taken on the command line (every "
					    "user can read it in the process list): put them in "
					    "--chap-file FILE");
		case 'L':
			for (size_t i = 0; mirror_profile_name_at(i); i++)
				printf("%-10s %s\n", mirror_profile_name_at(i), mirror_profile_summary_at(i));
			exit(MIRROR_EXIT_OK);
		case 'v':
			o->verbosity++;
			break;
		case 'q':
			o->verbosity--;
			break;
		case 'Q':
			o->query = optarg;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case 'V':
			printf(PROG " (mirrortest) %s\n", mirror_version());
			exit(MIRROR_EXIT_OK);
		case 'h':
			fputs(usage_text, stdout);
			exit(MIRROR_EXIT_OK);
		default:
			fprintf(stderr, "Try '" PROG " --help'.\n");
			return MIRROR_EXIT_SYNTAX;
		}
	}
	if (optind < argc)
		return syntax_error("unexpected argument '%s'", argv[optind]);

	if (mirror_profile_from_options(&po, &o->profile, why, sizeof(why)) < 0)
		return syntax_error("%s", why);
	return 0;
}

/* --query: this process is a client of another mirror-emu's counters. */
static int run_query(const struct opts *o)
{
	struct json_object *stats;
	struct mirror_stats st;
	char err[256], why[200];
	int rc = mirror_stats_query(o->query, &stats, err, sizeof(err));

	if (rc < 0) {
		fprintf(stderr, PROG ": --query %s\n", err);
		return MIRROR_EXIT_FILE_ERROR;
	}
	if (o->json)
		mirror_cli_json_print(stdout, stats, false);
	else if ((rc = mirror_stats_parse(stats, &st, why, sizeof(why))) == 0)
		mirror_stats_print_table(stdout, &st);
	json_object_put(stats);
	if (rc < 0) {
		fprintf(stderr, PROG ": --query %s: not mirror-emu's counters: %s\n", o->query, why);
		return MIRROR_EXIT_OTHER;
	}
	return MIRROR_EXIT_OK;
}

int main(int argc, char **argv)
{
	static struct mirror_receiver rx;
	static struct mirror_inject inj;
	static struct mirror_chap_file chap;
	struct opts o;
	struct mirror_nvram_mem mem;
	struct mirror_nvram nv;
	struct mirror_tgt_config tc;
	struct mirror_emu_config ec;
	struct mirror_tgt *tgt = NULL;
	struct mirror_emu_server *srv = NULL;
	char why[512], portal[64], split_text[32];
	int ret = MIRROR_EXIT_OK, rc;

	memset(&o, 0, sizeof(o));
	memset(&mem, 0, sizeof(mem));
	o.listen = MIRROR_EMU_DEFAULT_LISTEN;
	o.target_name = "iqn.2026-11.org.mirrortest:emu";
	o.role = 1;
	o.neg = MIRROR_NEG_PATENT;
	o.seed = 1;
	o.max_conns = 256;
	mirror_log_set_ident(PROG);
	ret = parse_args(argc, argv, &o);
	if (ret)
		return ret;
	if (o.query)
		return run_query(&o);
	mirror_log_set_level((enum mirror_log_level)(MIRROR_LOG_INFO + o.verbosity < MIRROR_LOG_ERROR
							     ? MIRROR_LOG_ERROR
							     : MIRROR_LOG_INFO + o.verbosity));

	/* the target's negotiation limits, checked together */
	mirror_tgt_config_init(&tc);
	if (o.have_max_burst)
		tc.max_burst_length = o.max_burst;
	if (o.have_first_burst)
		tc.first_burst_length = o.first_burst;
	else if (tc.first_burst_length > tc.max_burst_length)
		tc.first_burst_length = tc.max_burst_length;
	if (o.have_max_recv_dsl)
		tc.max_recv_data_segment_length = o.max_recv_dsl;
	if (tc.first_burst_length > tc.max_burst_length)
		return syntax_error("--first-burst %u is over MaxBurstLength %u (RFC 7143 13.14)",
				    tc.first_burst_length, tc.max_burst_length);

	if (o.chap_file) {
		if (mirror_chap_file_read(o.chap_file, &chap, why, sizeof(why)) < 0) {
			fprintf(stderr, PROG ": %s\n", why);
			ret = MIRROR_EXIT_FILE_ERROR;
			goto out;
		}
	}

	rc = mirror_nvram_mem_open(&mem, &o.profile, o.nvram_file, why, sizeof(why));
	if (rc < 0) {
		fprintf(stderr, PROG ": %s\n", why);
		ret = o.nvram_file ? MIRROR_EXIT_FILE_ERROR : MIRROR_EXIT_OTHER;
		goto out;
	}
	if ((rc = mirror_nvram_init(&nv, &o.profile, mem.data, mem.bitmap)) < 0 ||
	    (rc = mirror_rx_init(&rx, &o.profile, o.role, &nv)) < 0) {
		fprintf(stderr, PROG ": cannot set up the receiver: %s\n", mirror_strerror(rc));
		ret = MIRROR_EXIT_OTHER;
		goto out;
	}
	rx.extensions_off = o.extensions_off;
	if (o.table_file) {
		/* the table a prototype gets its own way, not by ARRAY TABLE
		 * UPDATE: in force from the start */
		if (mirror_array_table_read_file(o.table_file, &rx.table, why, sizeof(why)) < 0) {
			fprintf(stderr, PROG ": --table %s\n", why);
			ret = MIRROR_EXIT_FILE_ERROR;
			goto out;
		}
		rx.table_received = true;
		mirror_log(MIRROR_LOG_INFO, "array table %s: %u volumes", o.table_file, rx.table.count);
	}
	if (o.extensions_off)
		mirror_log(MIRROR_LOG_INFO, "harness extensions off:%s%s%s",
			   o.extensions_off & MIRROR_RX_EXT_TABLE ? " ARRAY TABLE UPDATE" : "",
			   o.extensions_off & MIRROR_RX_EXT_READBACK ? " NVRAM READBACK" : "",
			   o.extensions_off & MIRROR_RX_EXT_RELEASE ? " MIRROR RELEASE" : "");
	if (o.nvram_file && mem.created)
		mirror_log(MIRROR_LOG_INFO, "NVRAM file %s created", o.nvram_file);
	else if (o.nvram_file)
		mirror_log(MIRROR_LOG_INFO, "NVRAM file %s: %lld blocks valid", o.nvram_file,
			   (long long)mirror_nvram_count_valid(&nv, 0, nv.size));

	mirror_inject_init(&inj, o.seed);
	for (unsigned i = 0; i < o.inject_n; i++)
		mirror_inject_add(&inj, &o.inject_rule[i]);

	/* Listen first: the SendTargets portal names the bound port, which
	 * with port 0 is known only now. */
	mirror_emu_config_init(&ec);
	ec.listen = o.listen;
	ec.stats_path = o.stats_socket;
	ec.max_conns = o.max_conns;
	mirror_emu_check_fd_limit(o.max_conns);
	rc = mirror_emu_server_new(&ec, &srv, why, sizeof(why));
	if (rc < 0) {
		fprintf(stderr, PROG ": %s\n", why);
		ret = rc == -EINVAL ? MIRROR_EXIT_SYNTAX : MIRROR_EXIT_TRANSPORT;
		goto out;
	}
	snprintf(portal, sizeof(portal), "%s", mirror_emu_server_portal(srv));

	tc.target_name = o.target_name;
	tc.target_alias = o.target_alias;
	tc.portal = portal;
	tc.neg = o.neg;
	if (chap.initiator.set) {
		tc.chap_user = chap.initiator.user;
		tc.chap_secret = chap.initiator.secret;
	}
	if (chap.target.set) {
		tc.target_chap_user = chap.target.user;
		tc.target_chap_secret = chap.target.secret;
	}
	tc.acl_n = o.acl_n;
	for (unsigned i = 0; i < o.acl_n; i++)
		tc.acl[i] = o.acl[i];
	tc.inject = o.inject_n ? &inj : NULL;
	rc = mirror_tgt_new_receiver(&tc, &rx, &tgt, why, sizeof(why));
	if (rc < 0) {
		fprintf(stderr, PROG ": %s\n", why);
		ret = rc == -EINVAL ? MIRROR_EXIT_SYNTAX : MIRROR_EXIT_OTHER;
		goto out;
	}
	mirror_emu_server_attach(srv, tgt);

	if (install_signals() < 0) {
		fprintf(stderr, PROG ": sigaction: %s\n", strerror(errno));
		ret = MIRROR_EXIT_OTHER;
		goto out;
	}
	g_server = srv;
	if (o.port_file) {
		if (mirror_emu_write_port_file(o.port_file, mirror_emu_server_port(srv), why,
					       sizeof(why)) < 0) {
			fprintf(stderr, PROG ": --port-file %s\n", why);
			ret = MIRROR_EXIT_FILE_ERROR;
			goto out;
		}
	}
	char size_text[32], acl_text[48];
	size_str(o.profile.nvram_size, size_text, sizeof(size_text));
	size_str(o.profile.region_split, split_text, sizeof(split_text));
	if (o.acl_n)
		snprintf(acl_text, sizeof(acl_text), "%u initiators allowed", o.acl_n);
	else
		snprintf(acl_text, sizeof(acl_text), "every initiator allowed");
	mirror_log(MIRROR_LOG_INFO,
		   "%s on %s: controller %c, profile %s, NVRAM %s split at %s (%s), "
		   "negotiation %s, CHAP %s, %s, %u inject rules (seed %llu)",
		   o.target_name, portal, o.role ? 'B' : 'A', o.profile.name, size_text,
		   split_text, o.nvram_file ? o.nvram_file : "in memory",
		   o.neg == MIRROR_NEG_MODERN ? "modern" : "patent",
		   chap.target.set ? "mutual" : chap.initiator.set ? "on" : "off", acl_text, o.inject_n,
		   (unsigned long long)o.seed);

	rc = mirror_emu_server_run(srv);
	if (rc < 0) {
		fprintf(stderr, PROG ": the event loop failed: %s\n", strerror(-rc));
		ret = MIRROR_EXIT_OTHER;
	}
	summary(tgt, srv, &o, &inj);

out:
	g_server = NULL;
	mirror_emu_server_free(srv);
	if (tgt)
		mirror_tgt_free(tgt);
	if (mirror_nvram_mem_close(&mem, why, sizeof(why)) < 0) {
		fprintf(stderr, PROG ": %s\n", why);
		if (ret == MIRROR_EXIT_OK)
			ret = MIRROR_EXIT_FILE_ERROR;
	}
	mirror_chap_file_clear(&chap);
	return ret;
}
