/* mirror-conform --check-sender: options, the run and its output (the
 * reporters of report.c, so the output contract is the receiver suite's:
 * text, --tap, --json, --junit, the closing "N passed, N failed, N
 * skipped").  The cases run in this process, in table order, one after
 * the other: they share the receiver and the prototype's sessions, and
 * every wait in them is bounded. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mirror/mirror.h>

#include "app/cli/cli.h"
#include "app/emu/server.h"
#include "base/log.h"
#include "iscsi/target.h"
#include "sender.h"

#define PROG "mirror-conform"

static const char usage_text[] =
	"Usage: " PROG " --check-sender --host URL --mirror-listen ADDR [OPTIONS]\n"
	"       " PROG " --check-sender --list [--test GLOB] [--skip GLOB]\n"
	"Checks a prototype controller's sending side: the suite plays its partner (a\n"
	"receiver at ADDR on which the prototype's mirror link logs in) and its host\n"
	"(an initiator on the prototype's host LUN at URL), drives host writes chosen\n"
	"for each rule (Fig. 7's path choice, the 1 MiB split, sequence numbers, its\n"
	"own opcode and region, acknowledge only after the partner's GOOD) and checks\n"
	"what arrives on the mirror link.  Start the prototype with its partner's\n"
	"mirror port at ADDR, as if just started: the first case is its first session.\n"
	"\n"
	"      --host URL              the prototype's host LUN, iscsi://HOST:PORT/IQN/LUN\n"
	"                              (a LUN it owns, at least 64 MiB); @FILE: read the URL\n"
	"                              from FILE once it exists (a prototype started after\n"
	"                              the suite, on the port of --port-file)\n"
	"      --mirror-listen ADDR    where the suite's receiver listens (127.0.0.1:PORT)\n"
"      --port-file FILE        write the receiver's TCP port to FILE once it listens\n"
	"                              (with --mirror-listen 127.0.0.1:0)\n"
	"      --target-name IQN       the receiver's target name (default\n"
	"                              iqn.2026-11.org.mirrortest:conform-partner)\n"
	"      --prototype a|b         which controller the prototype is (default a:\n"
	"                              opcode 0xA0, region 0)\n"
	"  -l, --list                  list the cases and exit\n"
	"  -t, --test GLOB[,GLOB]      run only the cases whose id matches a glob\n"
	"  -x, --skip GLOB[,GLOB]      do not run the cases whose id matches a glob\n"
	"  -j, --junit FILE            also write JUnit XML to FILE\n"
	"      --tap                   TAP version 13 on stdout instead of text\n"
	"      --json                  JSON on stdout instead of text (totals on stderr)\n"
	"      --login-timeout S       wait this long for the prototype's login (default 30)\n"
	"      --table-hold MS         the first array table's status held (block 712;\n"
	"                              default 1500; under the prototype's command timeout)\n"
	"      --delay MS              the partner's status delay for AckAfterGood (default 300)\n"
	"      --gap MS                the partner away in ErrorRecovery (default 3000)\n"
	"      --fill-max MIB          HighBits: most host data written to reach a 32 MiB\n"
	"                              descriptor boundary (default 96)\n"
	"  -p, --profile NAME, -O, --opcodes LIST, -n, --nvram-size SIZE, -s,\n"
	"      --region-split ADDR     the wire profile (as for the receiver suite)\n"
	"  -v, --verbose               every host write and what it caused\n"
	"  -h, --help                  print this help and exit\n"
	"\n"
	"The output ends with \"N passed, N failed, N skipped\" alone on a line.\n"
	"Exit status: 0 every case passed (skips allowed), 1 a case failed or a syntax\n"
	"error, 35 the receiver cannot listen, the host LUN cannot be reached or the\n"
	"prototype never logged in.\n";

#define syntax_error(...) mirror_syntax_error(PROG, __VA_ARGS__)

enum {
	O_CHECK = 256, O_HOST, O_LISTEN, O_TNAME, O_PROTO, O_TAP, O_JSON, O_LOGIN, O_HOLD, O_DELAY,
	O_GAP, O_FILL, O_PORTFILE
};

struct opts {
	const char *host, *listen, *tname, *test, *skip, *junit, *port_file;
	bool list, tap, json;
	unsigned role, login_s, hold_ms, delay_ms, gap_ms, fill_mib;
	int verbose;
	struct mirror_profile profile;
};

static int num(const char *name, const char *arg, uint64_t lo, uint64_t hi, unsigned *out)
{
	uint64_t v;

	if (mirror_parse_count(arg, lo, hi, &v) < 0) {
		syntax_error("--%s '%s': want a number from %llu to %llu", name, arg,
			     (unsigned long long)lo, (unsigned long long)hi);
		return -EINVAL;
	}
	*out = (unsigned)v;
	return 0;
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "check-sender", no_argument, NULL, O_CHECK },
		{ "host", required_argument, NULL, O_HOST },
		{ "mirror-listen", required_argument, NULL, O_LISTEN },
		{ "target-name", required_argument, NULL, O_TNAME },
		{ "prototype", required_argument, NULL, O_PROTO },
		{ "list", no_argument, NULL, 'l' },
		{ "test", required_argument, NULL, 't' },
		{ "skip", required_argument, NULL, 'x' },
		{ "junit", required_argument, NULL, 'j' },
		{ "tap", no_argument, NULL, O_TAP },
		{ "json", no_argument, NULL, O_JSON },
		{ "login-timeout", required_argument, NULL, O_LOGIN },
		{ "table-hold", required_argument, NULL, O_HOLD },
		{ "delay", required_argument, NULL, O_DELAY },
		{ "gap", required_argument, NULL, O_GAP },
		{ "fill-max", required_argument, NULL, O_FILL },
		{ "port-file", required_argument, NULL, O_PORTFILE },
		{ "profile", required_argument, NULL, 'p' },
		{ "opcodes", required_argument, NULL, 'O' },
		{ "nvram-size", required_argument, NULL, 'n' },
		{ "region-split", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct mirror_profile_options po = { NULL, NULL, NULL, NULL, false };
	char why[256];
	int c, rc;

	o->tname = MIRROR_IQN_PREFIX ":conform-partner";
	o->login_s = 30;
	o->hold_ms = 1500;
	o->delay_ms = 300;
	o->gap_ms = 3000;
	o->fill_mib = 96;
	while ((c = getopt_long(argc, argv, "lt:x:j:p:O:n:s:vh", longopts, NULL)) != -1) {
		switch (c) {
		case O_CHECK: break;
		case O_HOST: o->host = optarg; break;
		case O_PORTFILE: o->port_file = optarg; break;
		case O_LISTEN: o->listen = optarg; break;
		case O_TNAME: o->tname = optarg; break;
		case O_PROTO:
			if (strcmp(optarg, "a") == 0 || strcmp(optarg, "A") == 0)
				o->role = 0;
			else if (strcmp(optarg, "b") == 0 || strcmp(optarg, "B") == 0)
				o->role = 1;
			else
				return syntax_error("--prototype '%s': want a or b", optarg);
			break;
		case 'l': o->list = true; break;
		case 't': o->test = optarg; break;
		case 'x': o->skip = optarg; break;
		case 'j': o->junit = optarg; break;
		case O_TAP: o->tap = true; break;
		case O_JSON: o->json = true; break;
		case O_LOGIN:
			if (num("login-timeout", optarg, 1, 3600, &o->login_s) < 0)
				return MIRROR_EXIT_SYNTAX;
			break;
		case O_HOLD:
			if (num("table-hold", optarg, 200, 600000, &o->hold_ms) < 0)
				return MIRROR_EXIT_SYNTAX;
			break;
		case O_DELAY:
			if (num("delay", optarg, 1, 60000, &o->delay_ms) < 0)
				return MIRROR_EXIT_SYNTAX;
			break;
		case O_GAP:
			if (num("gap", optarg, 10, 600000, &o->gap_ms) < 0)
				return MIRROR_EXIT_SYNTAX;
			break;
		case O_FILL:
			if (num("fill-max", optarg, 1, 4096, &o->fill_mib) < 0)
				return MIRROR_EXIT_SYNTAX;
			break;
		case 'p': po.name = optarg; break;
		case 'O': po.opcodes = optarg; break;
		case 'n': po.nvram_size = optarg; break;
		case 's': po.region_split = optarg; break;
		case 'v': o->verbose++; break;
		case 'h': fputs(usage_text, stdout); exit(MIRROR_EXIT_OK);
		default: return syntax_error("unknown option (--check-sender --help)");
		}
	}
	if (optind < argc)
		return syntax_error("unexpected argument '%s' (--check-sender takes --host URL)",
				    argv[optind]);
	if (o->tap && o->json)
		return syntax_error("--tap and --json exclude each other");
	if (mirror_profile_from_options(&po, &o->profile, why, sizeof(why)) < 0)
		return syntax_error("%s", why);
	if (o->test && conf_glob_list_check(o->test, why, sizeof(why)) < 0)
		return syntax_error("--test: %s", why);
	if (o->skip && conf_glob_list_check(o->skip, why, sizeof(why)) < 0)
		return syntax_error("--skip: %s", why);
	if (o->list)
		return 0;
	if (!o->host)
		return syntax_error("--check-sender needs --host URL (the prototype's host LUN)");
	if (!o->listen)
		return syntax_error("--check-sender needs --mirror-listen ADDR (where the prototype's "
				    "mirror link logs in)");
	if (o->host[0] != '@' && mirror_transport_check(o->host, NULL, why, sizeof(why)) < 0)
		return syntax_error("--host: %s", why);
	struct sockaddr_storage ss;
	socklen_t sl;
	if (mirror_emu_parse_addr(o->listen, &ss, &sl, why, sizeof(why)) < 0)
		return syntax_error("--mirror-listen %s", why);
	const struct mirror_cli_path_check paths[] = {
		{ "--host", o->host[0] == '@' ? o->host + 1 : NULL, MIRROR_CLI_PATH_OUT },
		{ "--port-file", o->port_file, MIRROR_CLI_PATH_OUT },
		{ "--junit", o->junit, MIRROR_CLI_PATH_OUT },
	};
	if ((rc = mirror_cli_paths(PROG, paths, sizeof(paths) / sizeof(paths[0]))) != 0)
		return rc;
	if ((rc = mirror_cli_text(PROG, "--target-name", o->tname)) != 0)
		return rc;
	return 0;
}

/* --host @FILE: the first line of FILE once it has one (written by
 * whoever started the prototype after the suite), up to timeout_s. */
static int host_from_file(const char *path, unsigned timeout_s, char *url, size_t len)
{
	for (unsigned i = 0; i < timeout_s * 10u; i++) {
		FILE *f = fopen(path, "r");
		if (f) {
			bool got = fgets(url, (int)len, f) != NULL;
			fclose(f);
			url[strcspn(url, "\r\n")] = '\0';
			if (got && url[0])
				return 0;
		}
		snd_sleep_ms(100);
	}
	return -ETIMEDOUT;
}

static int write_port_file(const char *path, const char *portal)
{
	const char *colon = strrchr(portal, ':');
	char tmp[4200];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f, "%s\n", colon ? colon + 1 : portal);
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		return -errno;
	return 0;
}

/* The selection: --test minus --skip over the sender's cases. */
static size_t select_cases(const struct opts *o, bool *sel)
{
	size_t n = 0;

	for (size_t i = 0; i < snd_case_count; i++) {
		sel[i] = (!o->test || conf_glob_list_match(o->test, snd_cases[i].c.id)) &&
			 !(o->skip && conf_glob_list_match(o->skip, snd_cases[i].c.id));
		n += sel[i];
	}
	return n;
}

int conf_sender_main(int argc, char **argv)
{
	struct opts o;
	static struct snd_ctx ctx;
	struct conf_result res[16];
	struct conf_reporter rep = { .out = stdout, .prog = PROG };
	bool sel[16];
	char why[CONF_WHY_MAX], target[600];
	int rc;

	memset(&o, 0, sizeof(o));
	if ((rc = parse(argc, argv, &o)) != 0)
		return rc;
	size_t nsel = select_cases(&o, sel);
	if (nsel == 0)
		return syntax_error("no sender case matches --test '%s' (see --check-sender --list)",
				    o.test ? o.test : "*");
	if (o.list) {
		for (size_t i = 0; i < snd_case_count; i++)
			if (sel[i])
				printf("%-36s %-40s %s\n", snd_cases[i].c.id, snd_cases[i].c.ref,
				       snd_cases[i].c.desc);
		return MIRROR_EXIT_OK;
	}
	signal(SIGPIPE, SIG_IGN);
	mirror_log_set_ident(PROG);
	mirror_log_set_level(o.verbose > 1 ? MIRROR_LOG_INFO : MIRROR_LOG_WARN);
	memset(&ctx, 0, sizeof(ctx));
	ctx.profile = o.profile;
	ctx.proto_role = o.role;
	ctx.host_url = o.host;
	ctx.hold_ms = o.hold_ms;
	ctx.delay_ms = o.delay_ms;
	ctx.gap_ms = o.gap_ms;
	ctx.fill_max_mib = o.fill_mib;
	ctx.verbose = o.verbose;
	rep.tap = o.tap;
	rep.json = o.json;
	rep.junit = o.junit;
	rep.target = target;
	ctx.log = conf_reporter_log(&rep);
	/* block 712 is seen on the prototype's first session only: its table
	 * is held from the start when that case runs (it runs first) */
	ctx.hold_first_table = sel[0];

	struct snd_rx_config rc_cfg = { o.listen, o.tname, o.profile, 1u - o.role,
					ctx.hold_first_table };
	rc = snd_rx_start(&ctx.rx, &rc_cfg, why, sizeof(why));
	if (rc < 0) {
		fprintf(stderr, "%s: the receiver: %s\n", PROG, why);
		snd_rx_stop(&ctx.rx);
		return MIRROR_EXIT_TRANSPORT;
	}
	if (o.port_file && write_port_file(o.port_file, snd_rx_portal(&ctx.rx)) < 0) {
		fprintf(stderr, "%s: --port-file %s: %s\n", PROG, o.port_file, strerror(errno));
		snd_rx_stop(&ctx.rx);
		return MIRROR_EXIT_FILE_ERROR;
	}
	static char host_url[1024];
	if (o.host[0] == '@') {
		if (host_from_file(o.host + 1, o.login_s, host_url, sizeof(host_url)) < 0) {
			fprintf(stderr, "%s: --host %s: no URL in the file within %u s\n", PROG, o.host,
				o.login_s);
			snd_rx_stop(&ctx.rx);
			return MIRROR_EXIT_TRANSPORT;
		}
		ctx.host_url = o.host = host_url;
	}
	if (o.verbose)
		fprintf(ctx.log, "receiver %s at %s (controller %c), waiting for the prototype\n",
			o.tname, snd_rx_portal(&ctx.rx), o.role ? 'A' : 'B');
	if (snd_await_login(&ctx, o.login_s * 1000u) < 0) {
		fprintf(stderr, "%s: the prototype did not log in to %s (%s) within %u s\n", PROG,
			snd_rx_portal(&ctx.rx), o.tname, o.login_s);
		snd_rx_stop(&ctx.rx);
		return MIRROR_EXIT_TRANSPORT;
	}
	if (snd_host_open(&ctx, why, sizeof(why)) < 0) {
		fprintf(stderr, "%s: %s\n", PROG, why);
		snd_rx_stop(&ctx.rx);
		return MIRROR_EXIT_TRANSPORT;
	}
	snprintf(target, sizeof(target), "sender at %s (mirror link to %s)", o.host,
		 snd_rx_portal(&ctx.rx));
	conf_reporter_start(&rep, nsel);
	for (size_t i = 0; i < snd_case_count; i++) {
		if (!sel[i])
			continue;
		struct conf_result *r = &res[rep.done];
		uint64_t t0 = snd_now_ns();
		memset(r, 0, sizeof(*r));
		r->c = &snd_cases[i].c;
		ctx.why[0] = ctx.notes[0] = '\0';
		if (o.verbose)
			fprintf(ctx.log, "== %s: %s\n", snd_cases[i].c.id, snd_cases[i].c.desc);
		r->verdict = snd_cases[i].fn(&ctx);
		if (i == 0)
			snd_rx_hold_tables(&ctx.rx, false);
		{ /* why, "; ", notes: cut at the buffer's end */
			size_t a = strnlen(ctx.why, sizeof(r->why) - 1), b;
			memcpy(r->why, ctx.why, a);
			if (ctx.why[0] && ctx.notes[0] && a + 2 < sizeof(r->why)) {
				memcpy(r->why + a, "; ", 2);
				a += 2;
			}
			b = strnlen(ctx.notes, sizeof(r->why) - 1 - a);
			memcpy(r->why + a, ctx.notes, b);
			r->why[a + b] = '\0';
		}
		r->seconds = (double)(snd_now_ns() - t0) / 1e9;
		conf_reporter_case(&rep, r);
	}
	rc = rep.tot.failed ? 1 : MIRROR_EXIT_OK;
	if (conf_reporter_finish(&rep, res, NULL, NULL) < 0)
		rc = MIRROR_EXIT_FILE_ERROR;
	mirror_transport_close(ctx.host);
	snd_rx_stop(&ctx.rx);
	return rc;
}
