/* mirror-emu: an emulated RAID controller that receives mirror commands
 * as an iSCSI target.  Thin: the steps of a run and their exit statuses
 * here; the options (app/emu/options.c), the pieces' settings
 * (app/emu/settings.c), the log lines (app/emu/report.c), the socket loop
 * (app/emu/server.c) and the receiver and target engine in libmirror. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include <mirror/mirror.h>
#include "app/cli/cli.h"
#include "app/cli/exit.h"
#include "app/emu/options.h"
#include "app/emu/report.h"
#include "app/emu/server.h"
#include "app/emu/settings.h"
#include "app/emu/stats.h"
#include "iscsi/chap_file.h"
#include "iscsi/stats.h"
#include "wire/table_text.h"

#define PROG "mirror-emu"

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
	"      --prefault              make the whole NVRAM resident before serving, as\n"
	"                              a real NVRAM is (no page faults on first writes)\n"
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
	"      --login-timeout S       cut a connection whose login is not done after S\n"
	"                              seconds (default 15; 0: never)\n"
	"      --coalesce-us US        interrupt moderation: a connection that owes\n"
	"                              Data-Out for 6 R2Ts or more wakes the loop once\n"
	"                              about half of it has come, or after US\n"
	"                              microseconds (default 200; 0: off)\n"
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

/* A step that failed: its message, and its code's exit status at that
 * step (app/cli/exit.h). */
#define failed(...) mirror_cli_fail(PROG, __VA_ARGS__)

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

/* -h, -V, -L and a command line refused: the exit status. */
static int parse_outcome(int rc, const char *why)
{
	switch (rc) {
	case MIRROR_EMU_HELP:
		fputs(usage_text, stdout);
		return MIRROR_EXIT_OK;
	case MIRROR_EMU_VERSION:
		printf(PROG " (mirrortest) %s\n", mirror_version());
		return MIRROR_EXIT_OK;
	case MIRROR_EMU_LIST_PROFILES:
		for (size_t i = 0; mirror_profile_name_at(i); i++)
			printf("%-10s %s\n", mirror_profile_name_at(i), mirror_profile_summary_at(i));
		return MIRROR_EXIT_OK;
	default:
		if (why[0])
			return syntax_error("%s", why);
		fprintf(stderr, "Try '" PROG " --help'.\n"); /* getopt has said why */
		return MIRROR_EXIT_SYNTAX;
	}
}

/* --query: this process is a client of another mirror-emu's counters. */
static int run_query(const struct mirror_emu_opts *o)
{
	struct json_object *stats;
	struct mirror_stats st;
	char err[256], why[200];
	int rc = mirror_stats_query(o->query, &stats, err, sizeof(err));

	if (rc < 0)
		return failed(rc, MIRROR_CLI_STEP_FILE, "--query %s", err);
	if (o->json)
		mirror_cli_json_print(stdout, stats, false);
	else if ((rc = mirror_stats_parse(stats, &st, why, sizeof(why))) == 0)
		mirror_stats_print_table(stdout, &st);
	json_object_put(stats);
	if (rc < 0)
		return failed(rc, MIRROR_CLI_STEP_RUN, "--query %s: not mirror-emu's counters: %s",
			      o->query, why);
	return MIRROR_EXIT_OK;
}

int main(int argc, char **argv)
{
	static struct mirror_receiver rx;
	static struct mirror_inject inj;
	static struct mirror_chap_file chap;
	struct mirror_emu_opts o;
	struct mirror_nvram_mem mem;
	struct mirror_nvram nv;
	struct mirror_tgt_config tc;
	struct mirror_emu_config ec;
	struct mirror_tgt *tgt = NULL;
	struct mirror_emu_server *srv = NULL;
	char why[512], portal[64];
	int ret = MIRROR_EXIT_OK, rc;

	memset(&mem, 0, sizeof(mem));
	mirror_emu_opts_init(&o);
	mirror_log_set_ident(PROG);
	rc = mirror_emu_opts_parse(&o, argc, argv, why, sizeof(why));
	if (rc != MIRROR_EMU_RUN)
		return parse_outcome(rc, why);
	const struct mirror_cli_path_check paths[] = {
		{ "--nvram-file", o.nvram_file, MIRROR_CLI_PATH_OUT },
		{ "--chap-file", o.chap_file, MIRROR_CLI_PATH_IN },
		{ "--table", o.table_file, MIRROR_CLI_PATH_IN },
		{ "--stats-socket", o.stats_socket, MIRROR_CLI_PATH_LISTEN },
		{ "--port-file", o.port_file, MIRROR_CLI_PATH_OUT },
		{ "--query", o.query, MIRROR_CLI_PATH_SOCKET },
	};
	if ((rc = mirror_cli_paths(PROG, paths, sizeof(paths) / sizeof(paths[0]))) != 0)
		return rc;
	if (o.query)
		return run_query(&o);
	mirror_log_set_level((enum mirror_log_level)(MIRROR_LOG_INFO + o.verbosity < MIRROR_LOG_ERROR
							     ? MIRROR_LOG_ERROR
							     : MIRROR_LOG_INFO + o.verbosity));

	if (o.chap_file && (rc = mirror_chap_file_read(o.chap_file, &chap, why, sizeof(why))) < 0) {
		ret = failed(rc, MIRROR_CLI_STEP_FILE, "%s", why);
		goto out;
	}
	rc = mirror_nvram_mem_open(&mem, &o.profile, o.nvram_file, why, sizeof(why));
	if (rc < 0) {
		ret = failed(rc, o.nvram_file ? MIRROR_CLI_STEP_FILE : MIRROR_CLI_STEP_RUN, "%s",
			     why);
		goto out;
	}
	if (o.prefault)
		mirror_emu_prefault(mem.data, mem.size);
	if ((rc = mirror_nvram_init(&nv, &o.profile, mem.data, mem.bitmap)) < 0 ||
	    (rc = mirror_rx_init(&rx, &o.profile, o.role, &nv)) < 0) {
		ret = failed(rc, MIRROR_CLI_STEP_RUN, "cannot set up the receiver: %s",
			     mirror_strerror(rc));
		goto out;
	}
	rx.extensions_off = o.extensions_off;
	if (o.table_file) {
		/* the table a prototype gets its own way, not by ARRAY TABLE
		 * UPDATE: in force from the start */
		rc = mirror_array_table_read_file(o.table_file, &rx.table, why, sizeof(why));
		if (rc < 0) {
			ret = failed(rc, MIRROR_CLI_STEP_FILE, "--table %s", why);
			goto out;
		}
		rx.table_received = true;
		mirror_log(MIRROR_LOG_INFO, "array table %s: %u volumes", o.table_file, rx.table.count);
	}
	mirror_emu_log_receiver(&o, &mem, &nv);
	mirror_emu_inject_config(&o, &inj);

	/* Listen first: the SendTargets portal names the bound port, which
	 * with port 0 is known only now. */
	mirror_emu_server_config(&o, &ec);
	mirror_emu_check_fd_limit(o.max_conns);
	if ((rc = mirror_emu_server_new(&ec, &srv, why, sizeof(why))) < 0) {
		ret = failed(rc, MIRROR_CLI_STEP_LISTEN, "%s", why);
		goto out;
	}
	snprintf(portal, sizeof(portal), "%s", mirror_emu_server_portal(srv));
	mirror_emu_tgt_config(&o, &chap, portal, &inj, &tc);
	if ((rc = mirror_tgt_new_receiver(&tc, &rx, &tgt, why, sizeof(why))) < 0) {
		ret = failed(rc, MIRROR_CLI_STEP_CONFIG, "%s", why);
		goto out;
	}
	mirror_emu_server_attach(srv, tgt);

	if ((rc = install_signals()) < 0) {
		ret = failed(rc, MIRROR_CLI_STEP_RUN, "sigaction: %s", strerror(-rc));
		goto out;
	}
	g_server = srv;
	if (o.port_file &&
	    (rc = mirror_emu_write_port_file(o.port_file, mirror_emu_server_port(srv), why,
					     sizeof(why))) < 0) {
		ret = failed(rc, MIRROR_CLI_STEP_FILE, "--port-file %s", why);
		goto out;
	}
	mirror_emu_log_start(&o, portal, &chap);

	if ((rc = mirror_emu_server_run(srv)) < 0)
		ret = failed(rc, MIRROR_CLI_STEP_RUN, "the event loop failed: %s", strerror(-rc));
	mirror_emu_log_summary(tgt, srv, &o, &inj);

out:
	g_server = NULL;
	mirror_emu_server_free(srv);
	if (tgt)
		mirror_tgt_free(tgt);
	if ((rc = mirror_nvram_mem_close(&mem, why, sizeof(why))) < 0) {
		int close_ret = failed(rc, MIRROR_CLI_STEP_FILE, "%s", why);
		if (ret == MIRROR_EXIT_OK)
			ret = close_ret;
	}
	mirror_chap_file_clear(&chap);
	return ret;
}
