/* mirror-ctl: one controller of the emulated active-active pair
 * (mirror-pair(1) starts two).  Thin: options here; the controller is
 * app/pair/. */
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
#include "app/pair/ctl.h"
#include "base/log.h"
#include "iscsi/chap_file.h"

#define PROG "mirror-ctl"

static const char usage_text[] =
	"Usage: mirror-ctl --dir DIR --id a|b [OPTIONS]\n"
	"One controller of an emulated active-active pair: a host port of SBC LUNs with\n"
	"implicit ALUA, a mirror port, a mirror link to its partner, destage to the\n"
	"pair's RAID-5 disk array, failure detection, fencing, takeover and failback.\n"
	"Normally started by mirror-pair(1), which creates DIR.\n"
	"\n"
	"  -d, --dir DIR               the pair's directory (array/, nvram-a, nvram-b)\n"
	"  -i, --id a|b                which controller this is\n"
	"      --host-listen ADDR      host port (default 127.0.0.1:0, a free port)\n"
	"      --mirror-listen ADDR    mirror port (default 127.0.0.1:0)\n"
	"  -p, --profile NAME          wire profile (default v1)\n"
	"  -O, --opcodes LIST          custom opcodes in hex (N,A,B,T,R[,RELEASE])\n"
	"  -n, --nvram-size SIZE       NVRAM size (default 128M)\n"
	"      --region-split ADDR     first byte of region 1 (default half)\n"
	"      --heartbeat MS          heartbeat period on link and disk (default 100)\n"
	"      --dead MS               partner's disk heartbeat this old: dead (default 1000)\n"
	"      --link-timeout MS       a mirror command this late: link down (default 1000)\n"
	"      --destage-delay MS      a write stays cached at least this long (default 50)\n"
	"      --transition-time S     RTPG's implicit transition time (default 2)\n"
	"      --queue-depth N         mirror link commands outstanding (default 64)\n"
	"      --fence-cmd CMD         fence the partner with CMD (sh -c; $MIRROR_FENCE_PID)\n"
	"                              instead of SIGKILL through a pidfd\n"
	"      --no-mirror             acknowledge without mirroring (benchmark only)\n"
	"      --path auto|large       mirror path: Fig. 7's choice (default) or every op\n"
	"                              on the large path (benchmark only)\n"
	"      --partner-mirror URL    the partner's mirror port (default: from its\n"
	"                              heartbeat on the array)\n"
	"      --standalone            no partner controller on the array: the one at\n"
	"                              --partner-mirror (mirror-conform --check-sender)\n"
	"                              is alive while the link is; a lost link is error\n"
	"                              recovery (Fig. 7 block 708)\n"
	"      --recovery-hold MS      standalone: error recovery lasts this long after\n"
	"                              the partner confirmed our table (default 1000)\n"
	"      --max-transfer BLOCKS   host writes up to BLOCKS (default 2048: 1 MiB;\n"
	"                              more, up to 65535, shows the 1 MiB split)\n"
	"      --deviate NAME          a deliberate bug (repeatable; --list-deviations)\n"
	"      --inject RULE           a fault of the mirror port's receiver, as\n"
	"                              mirror-emu --inject (e.g. delay-status:200)\n"
	"      --fault POINT[:N[:ACTION]]  at the Nth event of POINT: kill (default),\n"
	"                              freeze or cut-link (mirror-pair(1), FAULT POINTS)\n"
	"  -c, --chap-file FILE        CHAP required on the host and mirror ports and used\n"
	"                              on the mirror link (mirror-emu(1)'s file format)\n"
	"      --login-timeout S       cut a login not done after S seconds (default 15;\n"
	"                              0: never)\n"
	"      --stats-socket PATH     counters (default DIR/ctl-ID.stats)\n"
	"      --control-socket PATH   commands (default DIR/ctl-ID.ctl)\n"
	"      --list-deviations       list the deviations and exit\n"
	"  -v, --verbose / -q, --quiet more or less log\n"
	"  -V, --version / -h, --help\n"
	"\n"
	"SIGTERM or SIGINT stops it cleanly (everything destaged first).  Exit status:\n"
	"0 clean stop, 1 syntax error, 15 file error (array, NVRAM, state), 35 cannot\n"
	"listen, 99 other.\n";

#define syntax_error(...) mirror_syntax_error(PROG, __VA_ARGS__)

enum {
	O_HOST = 256, O_MIRROR, O_HB, O_DEAD, O_LINK, O_DESTAGE, O_TRANS, O_QD, O_FENCE,
	O_NOMIRROR, O_DEVIATE, O_FAULT, O_STATS, O_CONTROL, O_LISTDEV, O_INJECT, O_PATH,
	O_PARTNER, O_STANDALONE, O_RHOLD, O_MAXXFER, O_LOGIN_TIMEOUT
};

static const struct option long_opts[] = {
	{ "dir", required_argument, NULL, 'd' },
	{ "id", required_argument, NULL, 'i' },
	{ "host-listen", required_argument, NULL, O_HOST },
	{ "mirror-listen", required_argument, NULL, O_MIRROR },
	{ "profile", required_argument, NULL, 'p' },
	{ "opcodes", required_argument, NULL, 'O' },
	{ "nvram-size", required_argument, NULL, 'n' },
	{ "region-split", required_argument, NULL, MIRROR_CLI_OPT_REGION_SPLIT },
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
	{ "fault", required_argument, NULL, O_FAULT },
	{ "inject", required_argument, NULL, O_INJECT },
	{ "stats-socket", required_argument, NULL, O_STATS },
	{ "control-socket", required_argument, NULL, O_CONTROL },
	{ "list-deviations", no_argument, NULL, O_LISTDEV },
	{ "partner-mirror", required_argument, NULL, O_PARTNER },
	{ "standalone", no_argument, NULL, O_STANDALONE },
	{ "recovery-hold", required_argument, NULL, O_RHOLD },
	{ "max-transfer", required_argument, NULL, O_MAXXFER },
	{ "chap-file", required_argument, NULL, 'c' },
	{ "login-timeout", required_argument, NULL, O_LOGIN_TIMEOUT },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	MIRROR_CLI_STD_LONGOPTS,
};

static struct ctl g_ctl;

static void on_signal(int sig)
{
	(void)sig;
	ctl_stop(&g_ctl);
}

/* One of ctl_number_option's numbers; a syntax error names it. */
static int number_option(const char *opt, const char *arg, unsigned *out)
{
	char why[160];

	if (ctl_number_option(opt, arg, out, why, sizeof(why)) < 0) {
		syntax_error("%s", why);
		return -EINVAL;
	}
	return 0;
}

static void list_deviations(void)
{
	for (unsigned d = 0; d < DEV_COUNT_; d++)
		printf("%-28s %s\n", pair_deviation_name(d), pair_deviation_text(d));
}

int main(int argc, char **argv)
{
	struct ctl_config cfg;
	struct mirror_profile_options po;
	char why[512], stats_path[512];
	const char *id = NULL, *chap_file = NULL;
	static struct mirror_chap_file chap;
	int opt, rc, verbosity = 0;
	unsigned xfer;

	mirror_cli_hide_secrets(argc, argv); /* before anything reads argv */

	ctl_config_init(&cfg);
	memset(&po, 0, sizeof(po));
	while ((opt = getopt_long(argc, argv, "d:i:c:" MIRROR_CLI_PROFILE_SHORTOPTS "vq" MIRROR_CLI_STD_SHORTOPTS, long_opts, NULL)) != -1) {
		if (mirror_cli_profile_option(opt, optarg, &po))
			continue;
		switch (opt) {
		case 'd':
			cfg.dir = optarg;
			break;
		case 'i':
			id = optarg;
			break;
		case O_HOST:
			cfg.host_listen = optarg;
			break;
		case O_MIRROR:
			cfg.mirror_listen = optarg;
			break;
		case O_HB:
			if (number_option("--heartbeat", optarg, &cfg.heartbeat_ms) < 0)
				return MIRROR_EXIT_SYNTAX;
			break;
		case O_DEAD:
			if (number_option("--dead", optarg, &cfg.dead_ms) < 0)
				return MIRROR_EXIT_SYNTAX;
			break;
		case O_LINK:
			if (number_option("--link-timeout", optarg, &cfg.link_timeout_ms) < 0)
				return MIRROR_EXIT_SYNTAX;
			break;
		case O_DESTAGE:
			if (number_option("--destage-delay", optarg, &cfg.destage_delay_ms) < 0)
				return MIRROR_EXIT_SYNTAX;
			break;
		case O_TRANS:
			if (number_option("--transition-time", optarg, &cfg.transition_secs) < 0)
				return MIRROR_EXIT_SYNTAX;
			break;
		case O_QD:
			if (number_option("--queue-depth", optarg, &cfg.queue_depth) < 0)
				return MIRROR_EXIT_SYNTAX;
			break;
		case O_FENCE:
			cfg.fence_cmd = optarg;
			break;
		case O_NOMIRROR:
			cfg.no_mirror = true;
			break;
		case O_PATH:
			/* forced small is left out: it would ignore Fig. 7's blocks
			 * 708 and 712, which exist for correctness */
			if (strcmp(optarg, "auto") == 0)
				cfg.path_policy = MIRROR_POLICY_AUTO;
			else if (strcmp(optarg, "large") == 0)
				cfg.path_policy = MIRROR_POLICY_LARGE;
			else
				return syntax_error("--path '%s': want auto or large", optarg);
			break;
		case O_DEVIATE: {
			int d = pair_deviation_parse(optarg);
			if (d < 0)
				return syntax_error("--deviate '%s': no such deviation (--list-deviations)",
						    optarg);
			cfg.deviate[d] = true;
			break;
		}
		case O_FAULT:
			if (pair_fault_parse(optarg, &cfg.fault, why, sizeof(why)) < 0)
				return syntax_error("%s", why);
			break;
		case O_INJECT:
			if (cfg.inject_n == MIRROR_INJECT_RULES_MAX)
				return syntax_error("--inject: at most %u rules", MIRROR_INJECT_RULES_MAX);
			if (mirror_inject_parse(optarg, &cfg.inject[cfg.inject_n], why, sizeof(why)) < 0)
				return syntax_error("--inject '%s': %s", optarg, why);
			cfg.inject_n++;
			break;
		case O_STATS:
			cfg.stats_path = optarg;
			break;
		case O_CONTROL:
			cfg.control_path = optarg;
			break;
		case O_PARTNER:
			if (strncmp(optarg, "iscsi://", 8) != 0)
				return syntax_error("--partner-mirror '%s': want iscsi://HOST:PORT/IQN/LUN",
						    optarg);
			cfg.partner_mirror = optarg;
			break;
		case O_STANDALONE:
			cfg.standalone = true;
			break;
		case O_RHOLD:
			if (number_option("--recovery-hold", optarg, &cfg.recovery_hold_ms) < 0)
				return MIRROR_EXIT_SYNTAX;
			break;
		case O_MAXXFER:
			if (number_option("--max-transfer", optarg, &xfer) < 0)
				return MIRROR_EXIT_SYNTAX;
			cfg.max_transfer = xfer;
			break;
		case 'c':
			chap_file = optarg;
			break;
		case O_LOGIN_TIMEOUT:
			if (number_option("--login-timeout", optarg, &cfg.login_timeout_s) < 0)
				return MIRROR_EXIT_SYNTAX;
			break;
		case O_LISTDEV:
			list_deviations();
			return MIRROR_EXIT_OK;
		case 'v':
			verbosity++;
			break;
		case 'q':
			verbosity--;
			break;
		default:
			return mirror_cli_default_option(opt, PROG, usage_text);
		}
	}
	if ((rc = mirror_cli_no_operand(PROG, argc, argv, optind)) != 0)
		return rc;
	if (!cfg.dir)
		return syntax_error("--dir DIR is required (the pair's directory)");
	if (!id || (strcmp(id, "a") && strcmp(id, "b")))
		return syntax_error("--id: want a or b%s%s", id ? ", not " : "", id ? id : "");
	cfg.role = id[0] == 'b';
	const struct { const char *opt, *addr; } listens[] = {
		{ "--host-listen", cfg.host_listen }, { "--mirror-listen", cfg.mirror_listen },
	};
	for (size_t i = 0; i < sizeof(listens) / sizeof(listens[0]); i++) {
		struct sockaddr_storage ss;
		socklen_t sl;
		if (listens[i].addr &&
		    mirror_emu_parse_addr(listens[i].addr, &ss, &sl, why, sizeof(why)) < 0)
			return syntax_error("%s %s", listens[i].opt, why);
	}
	if (mirror_profile_from_options(&po, &cfg.profile, why, sizeof(why)) < 0)
		return syntax_error("%s", why);
	if (cfg.standalone && !cfg.partner_mirror)
		return syntax_error("--standalone needs --partner-mirror URL");
	if (cfg.dead_ms <= cfg.heartbeat_ms)
		return syntax_error("--dead %u must be longer than --heartbeat %u", cfg.dead_ms,
				    cfg.heartbeat_ms);
	const struct mirror_cli_path_check paths[] = {
		{ "--dir", cfg.dir, MIRROR_CLI_PATH_DIR },
		{ "--stats-socket", cfg.stats_path, MIRROR_CLI_PATH_LISTEN },
		{ "--control-socket", cfg.control_path, MIRROR_CLI_PATH_LISTEN },
		{ "--chap-file", chap_file, MIRROR_CLI_PATH_IN },
	};
	if ((rc = mirror_cli_text(PROG, "--fence-cmd", cfg.fence_cmd)) != 0)
		return rc;
	if ((rc = mirror_cli_paths(PROG, paths, sizeof(paths) / sizeof(paths[0]))) != 0)
		return rc;
	if (!cfg.stats_path) {
		snprintf(stats_path, sizeof(stats_path), "%s/ctl-%s.stats", cfg.dir, id);
		cfg.stats_path = stats_path;
	}
	static char ident[16];
	snprintf(ident, sizeof(ident), "mirror-ctl-%s", id);
	mirror_log_set_ident(ident);
	mirror_log_set_level((enum mirror_log_level)(MIRROR_LOG_INFO + verbosity));

	if (chap_file) {
		rc = mirror_chap_file_read(chap_file, &chap, why, sizeof(why));
		if (rc < 0) {
			fprintf(stderr, PROG ": --chap-file %s\n", why);
			return MIRROR_EXIT_FILE_ERROR;
		}
		cfg.chap = &chap;
	}
	rc = ctl_open(&g_ctl, &cfg, why, sizeof(why));
	if (rc < 0) {
		fprintf(stderr, PROG ": %s\n", why);
		ctl_close(&g_ctl);
		mirror_chap_file_clear(&chap);
		return rc == -EADDRINUSE || rc == -EADDRNOTAVAIL || rc == -EACCES
			       ? MIRROR_EXIT_TRANSPORT
			       : (rc == -EINVAL ? MIRROR_EXIT_SYNTAX : MIRROR_EXIT_FILE_ERROR);
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	mirror_log(MIRROR_LOG_INFO, "controller %s: host port %s, mirror port %s", id,
		   mirror_emu_server_portal_at(g_ctl.srv, g_ctl.host_idx),
		   mirror_emu_server_portal_at(g_ctl.srv, g_ctl.mirror_idx));
	rc = ctl_run(&g_ctl);
	ctl_close(&g_ctl);
	mirror_chap_file_clear(&chap);
	return rc < 0 ? MIRROR_EXIT_OTHER : MIRROR_EXIT_OK;
}
