/* mirror-send: the sending controller.  Mirrors one host write to a
 * receiver over iSCSI or SG_IO, split and routed by the library (Fig. 7, the 1 MiB
 * splitter), or sends any raw CDB, in the manner of sg_raw.  Thin: options
 * and output order here, the protocol in libmirror. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <mirror/mirror.h>
#include "app/cli/cli.h"
#include "app/cli/exit.h"

#define PROG "mirror-send"
/* Raw data-out from a file or a pattern: libiscsi takes an int length. */
#define RAW_DATA_MAX (16u * 1024u * 1024u)

struct opts {
	const char *url;
	struct mirror_profile profile;
	struct mirror_transport_opts topts;
	bool json;
	int verbose;
	unsigned repeat;
	/* write mode */
	bool have_lba, have_size, have_addr;
	uint32_t lba;
	uint64_t size;
	uint32_t nvram_addr;
	enum mirror_path_policy policy;
	uint8_t volume;
	uint64_t array_serial;
	uint8_t array_number;
	const char *data_file;
	struct mirror_pattern pattern;
	bool verify;
	bool recovery, partner_uninit;
	int region; /* -1: the region nvram_addr falls in */
	uint32_t first_seq;
	bool push_table;
	/* raw mode */
	bool raw;
	char cdb_text[512];
	const char *data_out_file;
	bool have_data_out_len;
	uint32_t data_out_len;
	bool have_data_in;
	uint32_t data_in_len;
};

/* What main frees at its one cleanup label. */
struct state {
	struct mirror_transport *t;
	uint8_t *write_data;
	uint8_t *out_buf;
	uint8_t *in_buf;
};

static const char usage_text[] =
	"Usage: " PROG " URL --lba N --size BYTES --nvram-addr ADDR [OPTIONS]\n"
	"       " PROG " URL --raw HEX... [--data-out FILE | --data-out-len N [--pattern P]]\n"
	"                    [--data-in LEN] [OPTIONS]\n"
	"Mirror one host write to a receiving controller (split and routed by the\n"
	"source's Fig. 7), or send any CDB, in the manner of sg_raw.\n"
	"URL: iscsi://[user[%password]@]host[:port]/target-iqn/lun, mutual CHAP\n"
	"with ?target_user=NAME&target_password=SECRET appended; or a SCSI device\n"
	"reached through SG_IO: /dev/sgN, /dev/bsg/H:C:T:L or /dev/sdX.\n"
	"\n"
	"Write:\n"
	"  -l, --lba N               starting LBA on the disk array\n"
	"  -s, --size BYTES          write size, a multiple of 512 (K/M suffixes)\n"
	"  -a, --nvram-addr ADDR     NVRAM byte address of the data (multiple of 512)\n"
	"  -P, --path auto|small|large  path: auto applies Fig. 7 (default)\n"
	"      --volume V            volume number, small path (default 0)\n"
	"      --array-serial HEX    array serial number, large path (default 0)\n"
	"      --array-number N      array number, large path (default 0)\n"
	"  -d, --data FILE           user data from FILE (its size if no --size)\n"
	"  -t, --pattern P           lba (default), 0xNN, or random:SEED\n"
	"  -c, --verify              NVRAM READBACK each op's ranges and compare\n"
	"  -r, --repeat N            send the write N times (default 1)\n"
	"      --recovery            sender in error recovery mode (Fig. 7: large)\n"
	"      --partner-uninitialized  partner's array table not current (large)\n"
	"      --region 0|1          sender's NVRAM region (default: nvram-addr's)\n"
	"      --seq N               first sequence number (default 1)\n"
	"      --push-table          first send ARRAY TABLE UPDATE: volume -> serial\n"
	"Raw:\n"
	"  -R, --raw                 the operands after URL are a CDB in hex\n"
	"      --data-out FILE       data-out from FILE\n"
	"      --data-out-len N      data-out of N bytes of --pattern\n"
	"      --data-in LEN         data-in of up to LEN bytes\n"
	"Common:\n"
	"  -p, --profile NAME        wire profile (v1, v1-strict, v1-18bit, v1-cdb16,\n"
	"                            vendor), default v1\n"
	"  -O, --opcodes N,A,B,T,R   custom opcodes in hex (e.g. 3c,a0,b0,c6,c8)\n"
	"  -n, --nvram-size SIZE     NVRAM size, default 128M\n"
	"      --region-split ADDR   first byte of region 1 (default: half)\n"
	"      --strict              deviations the profile tolerates are errors\n"
	"  -T, --timeout MS          command timeout (default 30000)\n"
	"      --connect-timeout MS  connect and login timeout (default 10000)\n"
	"      --header-digest       iSCSI HeaderDigest=CRC32C\n"
	"      --data-digest         iSCSI DataDigest=CRC32C (libiscsi 1.19: refused)\n"
	"  -I, --initiator-name IQN  initiator name\n"
	"  -j, --json                one JSON object per command, one per line\n"
	"  -v, --verbose             raw CDB bytes; -vv the metadata too\n"
	"  -V, --version             print the version\n"
	"  -h, --help                this text\n"
	"\n"
	"Exit status (sg3_utils): 0 good, 1 syntax error, 5 illegal request,\n"
	"9 invalid opcode, 14 miscompare, 15 file error, 19 invalid field in\n"
	"parameter list, 22 LBA out of range, 33 timeout, 35 transport error.\n";

#define syntax_error(...) mirror_syntax_error(PROG, __VA_ARGS__)
/* A step that failed: its message, and its code's exit status at that
 * step (app/cli/exit.h). */
#define failed(...) mirror_cli_fail(PROG, __VA_ARGS__)

static int parse_serial(const char *s, uint64_t *out)
{
	char *end;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (!*s || strlen(s) > 16 || strspn(s, "0123456789abcdefABCDEF") != strlen(s))
		return -EINVAL;
	*out = strtoull(s, &end, 16);
	return 0;
}

/* How the library reports each command: text or JSON on stdout, the
 * explanations on stderr. */
static struct mirror_send_view view_of(const struct opts *o)
{
	struct mirror_send_view v = { stdout, stderr, PROG, &o->profile, o->json, o->verbose };

	return v;
}

/* ---- the write ---- */

/* Everything that can be refused before connecting: the write's geometry
 * (through the splitter's own checks) and its data. */
static int prepare_write(struct state *st, const struct opts *o, struct mirror_write *w)
{
	struct mirror_sender_state ss = { o->recovery, !o->partner_uninit };
	struct mirror_splitter sp;
	char why[160];
	uint64_t size = o->size;

	if (!o->have_lba || !o->have_addr || (!o->have_size && !o->data_file))
		return syntax_error("%s", "a write needs --lba, --size (or --data) and --nvram-addr; "
				    "--raw sends a CDB");
	if (o->data_file && !o->have_size) {
		struct stat sb;
		if (strcmp(o->data_file, "-") == 0)
			return syntax_error("%s", "--data - needs --size");
		if (stat(o->data_file, &sb) < 0)
			return failed(-errno, MIRROR_CLI_STEP_FILE, "%s: %s", o->data_file,
				      strerror(errno));
		size = (uint64_t)sb.st_size;
		if (size == 0 || size % MIRROR_BLOCK_SIZE)
			return syntax_error("%s has %llu bytes, not a multiple of 512: give --size",
					    o->data_file, (unsigned long long)size);
	}
	memset(w, 0, sizeof(*w));
	w->lba = o->lba;
	w->bytes = size;
	w->nvram_addr = o->nvram_addr;
	w->region = o->region >= 0 ? (unsigned)o->region
				   : (o->nvram_addr < o->profile.region_split ? 0u : 1u);
	w->volume = o->volume;
	w->array_serial = o->array_serial;
	w->array_number = o->array_number;
	if (mirror_split_init(&sp, &o->profile, w, &ss, o->policy, o->first_seq, why,
			      sizeof(why)) < 0)
		return syntax_error("%s", why);

	st->write_data = malloc(size);
	st->out_buf = malloc(MIRROR_OP_DATA_OUT_MAX);
	st->in_buf = malloc(MIRROR_READBACK_BUF_MAX);
	if (!st->write_data || !st->out_buf || !st->in_buf)
		return failed(-ENOMEM, MIRROR_CLI_STEP_RUN, "out of memory for a %llu-byte write",
			      (unsigned long long)size);
	if (!o->data_file) {
		mirror_pattern_fill(&o->pattern, o->lba, st->write_data, size);
		return MIRROR_EXIT_OK;
	}
	size_t got;
	int rc = mirror_data_read(o->data_file, st->write_data, size, &got);
	if (rc < 0 && rc != MIRROR_E_NOSPACE)
		return failed(rc, MIRROR_CLI_STEP_FILE, "%s: %s", o->data_file, mirror_strerror(rc));
	if (got < size)
		return failed(MIRROR_E_TRUNCATED, MIRROR_CLI_STEP_FILE,
			      "%s has %zu bytes; the write needs %llu", o->data_file, got,
			      (unsigned long long)size);
	if (rc == MIRROR_E_NOSPACE)
		fprintf(stderr, PROG ": note: %s is longer; sending its first %llu bytes\n",
			o->data_file, (unsigned long long)size);
	return MIRROR_EXIT_OK;
}

static int run_write(struct state *st, const struct opts *o, const struct mirror_write *w)
{
	struct mirror_send_view v = view_of(o);
	struct mirror_send_write sw = { w, st->write_data, { o->recovery, !o->partner_uninit },
					o->policy, o->first_seq, o->repeat, o->push_table,
					o->verify };

	return mirror_send_write(st->t, &v, &sw, st->out_buf, st->in_buf);
}

/* ---- raw ---- */

static int prepare_raw(struct state *st, const struct opts *o, struct mirror_cmd *c)
{
	size_t len = 0;
	char why[96] = "";
	int rc = mirror_hex_parse(o->cdb_text, c->cdb, sizeof(c->cdb), &len, why, sizeof(why));

	if (rc == MIRROR_E_NOSPACE)
		return syntax_error("%s", "a CDB has at most 16 bytes");
	if (rc < 0)
		return syntax_error("CDB: %s", why);
	if (len == 0)
		return syntax_error("%s", "--raw needs the CDB bytes in hex after the URL");
	c->cdb_len = (unsigned)len;
	if ((o->data_out_file || o->have_data_out_len) && o->have_data_in)
		return syntax_error("%s", "a command is data-out or data-in, not both");
	if (o->data_out_file && o->have_data_out_len)
		return syntax_error("%s", "give --data-out FILE or --data-out-len N, not both");
	if (o->have_data_in) {
		st->in_buf = malloc(o->data_in_len ? o->data_in_len : 1);
		if (!st->in_buf)
			return failed(-ENOMEM, MIRROR_CLI_STEP_RUN, "out of memory for %u bytes of data-in",
				      o->data_in_len);
		c->dir = MIRROR_DIR_IN;
		c->data_in = st->in_buf;
		c->data_in_len = o->data_in_len;
	} else if (o->data_out_file || o->have_data_out_len) {
		size_t n = o->have_data_out_len ? o->data_out_len : RAW_DATA_MAX;
		st->out_buf = malloc(n ? n : 1);
		if (!st->out_buf)
			return failed(-ENOMEM, MIRROR_CLI_STEP_RUN, "out of memory for %zu bytes of data-out",
				      n);
		if (o->data_out_file) {
			rc = mirror_data_read(o->data_out_file, st->out_buf, n, &n);
			if (rc == MIRROR_E_NOSPACE)
				return failed(rc, MIRROR_CLI_STEP_FILE, "%s: larger than %u bytes",
					      o->data_out_file, RAW_DATA_MAX);
			if (rc < 0)
				return failed(rc, MIRROR_CLI_STEP_FILE, "%s: %s", o->data_out_file,
					      mirror_strerror(rc));
		} else {
			mirror_pattern_fill(&o->pattern, o->have_lba ? o->lba : 0, st->out_buf, n);
		}
		c->dir = MIRROR_DIR_OUT;
		c->data_out = st->out_buf;
		c->data_out_len = (uint32_t)n;
	} else {
		c->dir = MIRROR_DIR_NONE;
	}
	return MIRROR_EXIT_OK;
}

static int run_raw(struct state *st, const struct opts *o, struct mirror_cmd *c)
{
	struct mirror_send_view v = view_of(o);
	int status = MIRROR_EXIT_OK;

	for (unsigned round = 1; round <= o->repeat && status == MIRROR_EXIT_OK; round++)
		status = mirror_send_raw(st->t, &v, c, round, o->repeat);
	return status;
}

/* ---- options ---- */

enum {
	OPT_VOLUME = 256,
	OPT_ARRAY_SERIAL,
	OPT_ARRAY_NUMBER,
	OPT_RECOVERY,
	OPT_PARTNER_UNINIT,
	OPT_REGION,
	OPT_SEQ,
	OPT_PUSH_TABLE,
	OPT_CONNECT_TIMEOUT,
	OPT_HEADER_DIGEST,
	OPT_DATA_DIGEST,
	OPT_DATA_OUT,
	OPT_DATA_OUT_LEN,
	OPT_DATA_IN,
};

static int append_text(char *buf, size_t cap, const char *s)
{
	size_t have = strlen(buf), add = strlen(s);

	if (have + add + 2 > cap)
		return -1;
	if (have)
		buf[have++] = ' ';
	memcpy(buf + have, s, add + 1);
	return 0;
}

/* Fills o from argv.  Returns -1 to go on, or an exit status (0 after
 * --help and --version). */
static int parse_args(struct opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "lba", required_argument, NULL, 'l' },
		{ "size", required_argument, NULL, 's' },
		{ "nvram-addr", required_argument, NULL, 'a' },
		{ "path", required_argument, NULL, 'P' },
		{ "volume", required_argument, NULL, OPT_VOLUME },
		{ "array-serial", required_argument, NULL, OPT_ARRAY_SERIAL },
		{ "array-number", required_argument, NULL, OPT_ARRAY_NUMBER },
		{ "data", required_argument, NULL, 'd' },
		{ "pattern", required_argument, NULL, 't' },
		{ "verify", no_argument, NULL, 'c' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "recovery", no_argument, NULL, OPT_RECOVERY },
		{ "partner-uninitialized", no_argument, NULL, OPT_PARTNER_UNINIT },
		MIRROR_CLI_PROFILE_LONGOPTS,
		{ "region", required_argument, NULL, OPT_REGION },
		{ "seq", required_argument, NULL, OPT_SEQ },
		{ "push-table", no_argument, NULL, OPT_PUSH_TABLE },
		{ "raw", no_argument, NULL, 'R' },
		{ "data-out", required_argument, NULL, OPT_DATA_OUT },
		{ "data-out-len", required_argument, NULL, OPT_DATA_OUT_LEN },
		{ "data-in", required_argument, NULL, OPT_DATA_IN },
		{ "timeout", required_argument, NULL, 'T' },
		{ "connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT },
		{ "header-digest", no_argument, NULL, OPT_HEADER_DIGEST },
		{ "data-digest", no_argument, NULL, OPT_DATA_DIGEST },
		{ "initiator-name", required_argument, NULL, 'I' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		MIRROR_CLI_STD_LONGOPTS,
	};
	struct mirror_profile_options po = { 0 };
	uint32_t v;
	char why[160];
	int c;

	while ((c = getopt_long(argc, argv, "l:s:a:P:d:t:cr:" MIRROR_CLI_PROFILE_SHORTOPTS "RT:I:jv" MIRROR_CLI_STD_SHORTOPTS,
				longopts, NULL)) != -1) {
		if (mirror_cli_profile_option(c, optarg, &po))
			continue;
		switch (c) {
		case 'l':
			if (mirror_cli_count32("--lba", optarg, 0, UINT32_MAX, &o->lba, why, sizeof(why)) < 0)
				return syntax_error("%s", why);
			o->have_lba = true;
			break;
		case 's':
			if (mirror_cli_size("--size", optarg, 1, UINT64_MAX, &o->size, why, sizeof(why)) < 0)
				return syntax_error("%s (e.g. 4096, 64K, 2M)", why);
			o->have_size = true;
			break;
		case 'a':
			if (mirror_cli_size32("--nvram-addr", optarg, 0, UINT32_MAX, &o->nvram_addr, why,
					      sizeof(why)) < 0)
				return syntax_error("%s", why);
			o->have_addr = true;
			break;
		case 'P':
			if (strcmp(optarg, "auto") == 0)
				o->policy = MIRROR_POLICY_AUTO;
			else if (strcmp(optarg, "small") == 0)
				o->policy = MIRROR_POLICY_SMALL;
			else if (strcmp(optarg, "large") == 0)
				o->policy = MIRROR_POLICY_LARGE;
			else
				return syntax_error("bad --path '%s' (auto, small or large)", optarg);
			break;
		case OPT_VOLUME:
			if (mirror_cli_count32("--volume", optarg, 0, 255, &v, why, sizeof(why)) < 0)
				return syntax_error("%s", why);
			o->volume = (uint8_t)v;
			break;
		case OPT_ARRAY_SERIAL:
			if (parse_serial(optarg, &o->array_serial) < 0)
				return syntax_error("bad --array-serial '%s' (up to 16 hex digits)", optarg);
			break;
		case OPT_ARRAY_NUMBER:
			if (mirror_cli_count32("--array-number", optarg, 0, 255, &v, why, sizeof(why)) < 0)
				return syntax_error("%s", why);
			o->array_number = (uint8_t)v;
			break;
		case 'd':
			o->data_file = optarg;
			break;
		case 't':
			if (mirror_pattern_parse(optarg, &o->pattern, why, sizeof(why)) < 0)
				return syntax_error("--pattern: %s", why);
			break;
		case 'c':
			o->verify = true;
			break;
		case 'r':
			if (mirror_cli_count32("--repeat", optarg, 1, UINT32_MAX, &o->repeat, why,
					       sizeof(why)) < 0)
				return syntax_error("%s", why);
			break;
		case OPT_RECOVERY:
			o->recovery = true;
			break;
		case OPT_PARTNER_UNINIT:
			o->partner_uninit = true;
			break;
		case OPT_REGION:
			if (strcmp(optarg, "0") && strcmp(optarg, "1"))
				return syntax_error("bad --region '%s' (0 or 1)", optarg);
			o->region = optarg[0] - '0';
			break;
		case OPT_SEQ:
			if (mirror_cli_count32("--seq", optarg, 0, UINT32_MAX, &o->first_seq, why,
					       sizeof(why)) < 0)
				return syntax_error("%s", why);
			break;
		case OPT_PUSH_TABLE:
			o->push_table = true;
			break;
		case 'R':
			o->raw = true;
			break;
		case OPT_DATA_OUT:
			o->data_out_file = optarg;
			break;
		case OPT_DATA_OUT_LEN:
			if (mirror_cli_size32("--data-out-len", optarg, 0, RAW_DATA_MAX, &o->data_out_len,
					      why, sizeof(why)) < 0)
				return syntax_error("%s", why);
			o->have_data_out_len = true;
			break;
		case OPT_DATA_IN:
			if (mirror_cli_size32("--data-in", optarg, 0, RAW_DATA_MAX, &o->data_in_len, why,
					      sizeof(why)) < 0)
				return syntax_error("%s", why);
			o->have_data_in = true;
			break;
		case 'T':
			if (mirror_cli_count32("--timeout", optarg, 1, 3600000, &o->topts.command_timeout_ms,
					       why, sizeof(why)) < 0)
				return syntax_error("%s (ms)", why);
			break;
		case OPT_CONNECT_TIMEOUT:
			if (mirror_cli_count32("--connect-timeout", optarg, 1, 3600000,
					       &o->topts.connect_timeout_ms, why, sizeof(why)) < 0)
				return syntax_error("%s (ms)", why);
			break;
		case OPT_HEADER_DIGEST:
			o->topts.header_digest = true;
			break;
		case OPT_DATA_DIGEST:
			o->topts.data_digest = true;
			break;
		case 'I':
			o->topts.initiator_name = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 'v':
			o->verbose++;
			break;
		default:
			return mirror_cli_default_option(c, PROG, usage_text);
		}
	}

	if (mirror_profile_from_options(&po, &o->profile, why, sizeof(why)) < 0)
		return syntax_error("%s", why);
	const struct mirror_cli_path_check paths[] = {
		{ "--data", o->data_file, MIRROR_CLI_PATH_IN },
		{ "--data-out", o->data_out_file, MIRROR_CLI_PATH_IN },
	};
	if ((c = mirror_cli_paths(PROG, paths, sizeof(paths) / sizeof(paths[0]))) != 0)
		return c;
	if ((c = mirror_cli_text(PROG, "--initiator-name", o->topts.initiator_name)) != 0)
		return c;

	if (optind == argc)
		return syntax_error("%s", "no target URL (iscsi://host[:port]/target-iqn/lun or /dev/sgN)");
	o->url = argv[optind++];
	if (o->raw) {
		for (int i = optind; i < argc; i++)
			if (append_text(o->cdb_text, sizeof(o->cdb_text), argv[i]) < 0)
				return syntax_error("%s", "CDB text too long");
		if (o->have_size || o->have_addr || o->verify || o->push_table || o->data_file)
			return syntax_error("%s", "--raw sends one CDB: --size, --nvram-addr, --data, "
					    "--verify and --push-table belong to a write");
	} else {
		if (optind < argc)
			return syntax_error("unexpected operand '%s' (CDB bytes need --raw)", argv[optind]);
		if (o->data_out_file || o->have_data_out_len || o->have_data_in)
			return syntax_error("%s", "--data-out, --data-out-len and --data-in need --raw");
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct state st;
	struct mirror_write w;
	struct mirror_cmd raw;
	char err[512];
	int ret;

	mirror_cli_hide_secrets(argc, argv); /* before anything reads argv */

	memset(&o, 0, sizeof(o));
	memset(&st, 0, sizeof(st));
	memset(&raw, 0, sizeof(raw));
	o.repeat = 1;
	o.region = -1;
	o.first_seq = 1;
	o.pattern.kind = MIRROR_PATTERN_LBA;
	o.topts.queue_depth = 1;

	ret = parse_args(&o, argc, argv);
	if (ret >= 0)
		goto out;
	/* A bad URL or an option the backend cannot honour is a usage error
	 * (1); only a failure to reach the target is a transport error. */
	if (mirror_transport_check(o.url, &o.topts, err, sizeof(err)) < 0) {
		ret = syntax_error("%s", err);
		goto out;
	}
	ret = o.raw ? prepare_raw(&st, &o, &raw) : prepare_write(&st, &o, &w);
	if (ret != MIRROR_EXIT_OK)
		goto out;
	st.t = mirror_transport_open(o.url, &o.topts, err, sizeof(err));
	if (!st.t) {
		fprintf(stderr, PROG ": %s\n", err);
		/* sg3_utils: 15 for a device that cannot be opened, 35 for a
		 * target that cannot be reached. */
		ret = mirror_transport_open_exit_status(o.url);
		goto out;
	}
	if (o.verbose && !o.json)
		printf("connected: %s (%s), profile %s\n", o.url, mirror_transport_kind(st.t),
		       o.profile.name);
	ret = o.raw ? run_raw(&st, &o, &raw) : run_write(&st, &o, &w);

out:
	mirror_transport_close(st.t);
	free(st.write_data);
	free(st.out_buf);
	free(st.in_buf);
	fflush(stdout);
	return ret;
}
