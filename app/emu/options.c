/* mirror-emu's options (options.h): each checked as it comes, with the
 * option named in the message, then the ones that constrain each other. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <mirror/receiver.h>

#include "app/cli/cli.h"
#include "app/emu/options.h"
#include "app/emu/server.h"

__attribute__((format(printf, 3, 4)))
static int refuse(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

void mirror_emu_opts_init(struct mirror_emu_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->listen = MIRROR_EMU_DEFAULT_LISTEN;
	o->target_name = MIRROR_EMU_DEFAULT_TARGET;
	o->role = 1;
	o->neg = MIRROR_NEG_PATENT;
	o->seed = 1;
	o->max_conns = 256;
	o->coalesce_us = MIRROR_EMU_COALESCE_DEFAULT_US;
	o->login_timeout_s = MIRROR_TGT_LOGIN_TIMEOUT_MS / 1000u;
}

static bool iscsi_name_ok(const char *n)
{
	size_t len = strlen(n);

	/* RFC 7143 4.2.7: the iqn., eui. and naa. formats. */
	return len > 4 && len <= MIRROR_EMU_ISCSI_NAME_MAX &&
	       (strncmp(n, "iqn.", 4) == 0 || strncmp(n, "eui.", 4) == 0 ||
		strncmp(n, "naa.", 4) == 0);
}

static int name_opt(const char *opt, const char *arg, char *why, size_t why_len)
{
	if (iscsi_name_ok(arg))
		return 0;
	return refuse(why, why_len, "%s '%s' is not an iSCSI name (iqn., eui. or naa., at most %d bytes)",
		      opt, arg, MIRROR_EMU_ISCSI_NAME_MAX);
}

/* The words an option takes and what each stands for. */
struct keyword {
	const char *word;
	unsigned value;
};

static const struct keyword *keyword_find(const struct keyword *k, size_t n, const char *word)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(k[i].word, word) == 0)
			return &k[i];
	return NULL;
}

int mirror_emu_parse_extensions(const char *arg, unsigned *off, char *why, size_t why_len)
{
	static const struct keyword names[] = { { "table", MIRROR_RX_EXT_TABLE },
						{ "readback", MIRROR_RX_EXT_READBACK },
						{ "release", MIRROR_RX_EXT_RELEASE },
						{ "all", MIRROR_RX_EXT_ALL },
						{ "none", 0 } };
	char list[128], *save = NULL;
	unsigned on = 0;

	if (strlen(arg) >= sizeof(list))
		return refuse(why, why_len, "--extensions '%.20s...' is too long", arg);
	snprintf(list, sizeof(list), "%s", arg);
	for (char *w = strtok_r(list, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		const struct keyword *k = keyword_find(names, sizeof(names) / sizeof(names[0]), w);
		if (!k)
			return refuse(why, why_len, "--extensions: unknown extension '%s' (table, "
				      "readback, release, all or none)", w);
		on |= k->value;
	}
	if (!on && !strstr(arg, "none"))
		return refuse(why, why_len, "--extensions '%s' names no extension (none for none)", arg);
	*off = MIRROR_RX_EXT_ALL & ~on;
	return 0;
}

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
	OPT_TABLE,
	OPT_PREFAULT,
	OPT_LOGIN_TIMEOUT,
	OPT_COALESCE_US
};

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
	{ "prefault", no_argument, NULL, OPT_PREFAULT },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "stats-socket", required_argument, NULL, OPT_STATS_SOCKET },
	{ "port-file", required_argument, NULL, OPT_PORT_FILE },
	{ "max-connections", required_argument, NULL, OPT_MAX_CONNS },
	{ "login-timeout", required_argument, NULL, OPT_LOGIN_TIMEOUT },
	{ "coalesce-us", required_argument, NULL, OPT_COALESCE_US },
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

/* The options that take their value as it is (paths). */
static const char **path_slot(struct mirror_emu_opts *o, int c)
{
	switch (c) {
	case 'f':
		return &o->nvram_file;
	case 'c':
		return &o->chap_file;
	case 'Q':
		return &o->query;
	case OPT_TABLE:
		return &o->table_file;
	case OPT_STATS_SOCKET:
		return &o->stats_socket;
	case OPT_PORT_FILE:
		return &o->port_file;
	default:
		return NULL;
	}
}

/* RFC 7143 13.13-13.14: a burst or segment length, and that it was given. */
static int length_opt(const char *opt, const char *arg, uint32_t *v, bool *given, char *why,
		      size_t why_len)
{
	if (mirror_cli_size32(opt, arg, MIRROR_EMU_LEN_MIN, MIRROR_EMU_LEN_MAX, v, why, why_len) < 0)
		return -EINVAL;
	*given = true;
	return 0;
}

static int role_opt(struct mirror_emu_opts *o, const char *arg, char *why, size_t why_len)
{
	static const struct keyword roles[] = { { "a", 0 }, { "A", 0 }, { "b", 1 }, { "B", 1 } };
	const struct keyword *k = keyword_find(roles, sizeof(roles) / sizeof(roles[0]), arg);

	if (!k)
		return refuse(why, why_len, "bad --role '%s' (a or b)", arg);
	o->role = k->value;
	return 0;
}

static int negotiation_opt(struct mirror_emu_opts *o, const char *arg, char *why, size_t why_len)
{
	static const struct keyword negs[] = { { "patent", MIRROR_NEG_PATENT },
					       { "modern", MIRROR_NEG_MODERN } };
	const struct keyword *k = keyword_find(negs, sizeof(negs) / sizeof(negs[0]), arg);

	if (!k)
		return refuse(why, why_len, "bad --negotiation '%s' (patent or modern)", arg);
	o->neg = (enum mirror_neg_profile)k->value;
	return 0;
}

static int acl_opt(struct mirror_emu_opts *o, const char *arg, char *why, size_t why_len)
{
	if (o->acl_n == MIRROR_ACL_MAX)
		return refuse(why, why_len, "more than %d --allow-initiator", MIRROR_ACL_MAX);
	if (name_opt("--allow-initiator", arg, why, why_len) < 0)
		return -EINVAL;
	o->acl[o->acl_n++] = arg;
	return 0;
}

static int inject_opt(struct mirror_emu_opts *o, const char *arg, char *why, size_t why_len)
{
	char rule_why[160];

	if (o->inject_n == MIRROR_INJECT_RULES_MAX)
		return refuse(why, why_len, "more than %d --inject rules", MIRROR_INJECT_RULES_MAX);
	if (mirror_inject_parse(arg, &o->inject_rule[o->inject_n], rule_why, sizeof(rule_why)) < 0)
		return refuse(why, why_len, "--inject '%s': %s", arg, rule_why);
	o->inject_spec[o->inject_n++] = arg;
	return 0;
}

/* One option with its argument: 0, an action (help, version, list), or
 * -EINVAL and why. */
static int one_opt(struct mirror_emu_opts *o, int c, const char *arg, char *why, size_t why_len)
{
	const char **path = path_slot(o, c);
	struct sockaddr_storage ss;
	socklen_t sl;
	uint64_t v;
	char addr_why[160];

	if (path) {
		*path = arg;
		return 0;
	}
	switch (c) {
	case 'l':
		if (mirror_emu_parse_addr(arg, &ss, &sl, addr_why, sizeof(addr_why)) < 0)
			return refuse(why, why_len, "--listen %s", addr_why);
		o->listen = arg;
		return 0;
	case 't':
		if (name_opt("--target-name", arg, why, why_len) < 0)
			return -EINVAL;
		o->target_name = arg;
		return 0;
	case OPT_TARGET_ALIAS:
		if (!*arg)
			return refuse(why, why_len, "%s", "--target-alias: empty value");
		if (strlen(arg) > 255)
			return refuse(why, why_len, "%s", "--target-alias is over 255 bytes");
		o->target_alias = arg;
		return 0;
	case 'r':
		return role_opt(o, arg, why, why_len);
	case 'N':
		return negotiation_opt(o, arg, why, why_len);
	case OPT_MAX_BURST:
		return length_opt("--max-burst", arg, &o->max_burst, &o->have_max_burst, why, why_len);
	case OPT_FIRST_BURST:
		return length_opt("--first-burst", arg, &o->first_burst, &o->have_first_burst, why,
				  why_len);
	case OPT_MAX_RECV_DSL:
		return length_opt("--max-recv-dsl", arg, &o->max_recv_dsl, &o->have_max_recv_dsl, why,
				  why_len);
	case 'a':
		return acl_opt(o, arg, why, why_len);
	case 'i':
		return inject_opt(o, arg, why, why_len);
	case OPT_EXTENSIONS:
		return mirror_emu_parse_extensions(arg, &o->extensions_off, why, why_len);
	case OPT_NO_EXTENSIONS:
		o->extensions_off = MIRROR_RX_EXT_ALL;
		return 0;
	case OPT_SEED:
		return mirror_cli_count("--seed", arg, 0, UINT64_MAX, &o->seed, why, why_len) < 0
			       ? -EINVAL : 0;
	case OPT_MAX_CONNS:
		if (mirror_cli_count("--max-connections", arg, 1, MIRROR_EMU_MAX_CONNS_LIMIT, &v, why,
				     why_len) < 0)
			return -EINVAL;
		o->max_conns = (unsigned)v;
		return 0;
	case OPT_LOGIN_TIMEOUT:
		if (mirror_cli_count("--login-timeout", arg, 0, 3600, &v, why, why_len) < 0)
			return -EINVAL;
		o->login_timeout_s = (unsigned)v;
		return 0;
	case OPT_COALESCE_US:
		if (mirror_cli_count("--coalesce-us", arg, 0, MIRROR_EMU_COALESCE_MAX_US, &v, why,
				     why_len) < 0)
			return -EINVAL;
		o->coalesce_us = (unsigned)v;
		return 0;
	case OPT_SECRET_ON_CMDLINE:
		return refuse(why, why_len, "%s", "secrets are not taken on the command line (every "
			      "user can read it in the process list): put them in --chap-file FILE");
	case OPT_PREFAULT:
		o->prefault = true;
		return 0;
	case OPT_JSON:
		o->json = true;
		return 0;
	case 'v':
		o->verbosity++;
		return 0;
	case 'q':
		o->verbosity--;
		return 0;
	case 'L':
		return MIRROR_EMU_LIST_PROFILES;
	case 'V':
		return MIRROR_EMU_VERSION;
	case 'h':
		return MIRROR_EMU_HELP;
	default:
		why[0] = '\0'; /* getopt said it */
		return -EINVAL;
	}
}

/* The limits checked together: FirstBurstLength within MaxBurstLength
 * (RFC 7143 13.14), either one given or the target's default. */
static int check_bursts(const struct mirror_emu_opts *o, char *why, size_t why_len)
{
	struct mirror_tgt_config tc;

	mirror_tgt_config_init(&tc);
	uint32_t max = o->have_max_burst ? o->max_burst : tc.max_burst_length;
	if (o->have_first_burst && o->first_burst > max)
		return refuse(why, why_len, "--first-burst %u is over MaxBurstLength %u (RFC 7143 13.14)",
			      o->first_burst, max);
	return 0;
}

int mirror_emu_opts_parse(struct mirror_emu_opts *o, int argc, char **argv, char *why,
			  size_t why_len)
{
	struct mirror_profile_options po = { 0 };
	int c, rc;

	why[0] = '\0';
	while ((c = getopt_long(argc, argv, "l:t:r:" MIRROR_CLI_PROFILE_SHORTOPTS "N:f:c:a:i:Q:LvqVh",
				longopts, NULL)) != -1) {
		if (mirror_cli_profile_option(c, optarg, &po))
			continue;
		if ((rc = one_opt(o, c, optarg, why, why_len)) != 0)
			return rc;
	}
	if (optind < argc)
		return refuse(why, why_len, "unexpected argument '%s'", argv[optind]);
	if (mirror_profile_from_options(&po, &o->profile, why, why_len) < 0)
		return -EINVAL;
	return check_bursts(o, why, why_len);
}
