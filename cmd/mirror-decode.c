/* mirror-decode: decode a mirror CDB or metadata message and check it
 * against the wire profile.  Thin: options here, everything else in
 * libmirror. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <mirror/mirror.h>
#include "app/cli/cli.h"

#define MAX_CDB 64
#define MAX_HEX_INPUT (64 * 1024)

struct opts {
	struct mirror_profile profile;
	const char *metadata_file;
	bool metadata_hex;
	bool json;
	int verbose;
	int64_t data_length;
	int sender_region;
	char cdb_text[4096];
};

static const char usage_text[] =
	"Usage: mirror-decode [OPTIONS] HEX...\n"
	"       mirror-decode [OPTIONS] -            (CDB as hex on stdin)\n"
	"       mirror-decode [OPTIONS] --metadata FILE | --metadata-hex FILE\n"
	"Decode a mirror CDB or a 1024-byte metadata message and check every rule\n"
	"of the wire profile (mirror-protocol(7)).\n"
	"\n"
	"  -m, --metadata FILE       binary metadata message ('-' for stdin)\n"
	"  -x, --metadata-hex FILE   metadata message as hex text\n"
	"  -j, --json                JSON output for scripts\n"
	"  -p, --profile NAME        wire profile (--list-profiles), default v1\n"
	"  -O, --opcodes N,A,B,T,R   custom opcodes in hex: notify, small A->B, small\n"
	"                            B->A, table update, readback (e.g. 3c,a0,b0,c6,c8)\n"
	"  -n, --nvram-size SIZE     NVRAM size, e.g. 128M (default), at most 512M\n"
	"      --region-split ADDR   first byte of region 1 (default: half the NVRAM)\n"
	"      --strict              reject non-zero bytes 1-9 of the notification CDB\n"
	"  -l, --data-length N       check the data-out length the command came with\n"
	"  -r, --sender-region R     check the metadata's region against the sender's (0|1)\n"
	"  -L, --list-profiles       list the named profiles\n"
	"  -R, --list-rules          list the rules checked, with their sense\n"
	"  -v, --verbose             print the raw bytes too\n"
	"  -V, --version             print the version\n"
	"  -h, --help                this text\n"
	"\n"
	"Exit status: 0 valid (warnings allowed), 1 syntax error, 5 invalid CDB,\n"
	"9 not a mirror opcode, 15 file error, 19 invalid metadata (parameter list),\n"
	"22 LBA out of range.\n";

#define PROG "mirror-decode"
#define syntax_error(...) mirror_syntax_error(PROG, __VA_ARGS__)

/* Reads a whole file (or stdin) into buf; -errno on failure, and
 * MIRROR_E_NOSPACE when it is larger than cap. */
static int read_all(const char *path, uint8_t *buf, size_t cap, size_t *len)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	size_t n = 0;
	int rc = 0;

	if (!fp)
		return -errno;
	while (!feof(fp)) {
		if (n == cap) {
			if (fgetc(fp) != EOF)
				rc = MIRROR_E_NOSPACE;
			break;
		}
		n += fread(buf + n, 1, cap - n, fp);
		if (ferror(fp)) {
			rc = -EIO;
			break;
		}
	}
	if (fp != stdin)
		fclose(fp);
	*len = n;
	return rc;
}

/* A rule broken in the CDB exits 5, one in the metadata (the parameter
 * list) 19, whatever its ASC; LBA OUT OF RANGE and an unknown opcode keep
 * their own sg3_utils statuses. */
static int exit_for(int rc, int field_status)
{
	if (rc == 0 || rc == MIRROR_E_LBA_RANGE || rc == MIRROR_E_NOT_MIRROR)
		return mirror_exit_from_error(rc);
	return field_status;
}

static int emit_json(struct json_object *o)
{
	mirror_cli_json_print(stdout, o, true);
	json_object_put(o);
	return 0;
}

static int decode_metadata(const struct opts *o)
{
	static uint8_t raw[MAX_HEX_INPUT];
	static char text[MAX_HEX_INPUT * 3];
	uint8_t *md = raw;
	size_t len = 0;
	char why[96] = "";
	int rc;

	if (o->metadata_hex) {
		size_t tlen;
		rc = read_all(o->metadata_file, (uint8_t *)text, sizeof(text) - 1, &tlen);
		if (rc == 0) {
			text[tlen] = '\0';
			rc = mirror_hex_parse(text, raw, sizeof(raw), &len, why, sizeof(why));
			if (rc == -EINVAL) {
				fprintf(stderr, "mirror-decode: %s: %s\n", o->metadata_file, why);
				return MIRROR_EXIT_FILE_ERROR;
			}
		}
	} else {
		rc = read_all(o->metadata_file, raw, sizeof(raw), &len);
	}
	if (rc == MIRROR_E_NOSPACE) {
		fprintf(stderr, "mirror-decode: %s: larger than %d bytes; a metadata message is 1024\n",
			o->metadata_file, MAX_HEX_INPUT);
		return MIRROR_EXIT_FILE_ERROR;
	}
	if (rc < 0) {
		fprintf(stderr, "mirror-decode: %s: %s\n", o->metadata_file, mirror_strerror(rc));
		return MIRROR_EXIT_FILE_ERROR;
	}

	struct mirror_check_ctx ctx = MIRROR_CHECK_CTX_INIT;
	struct mirror_metadata m;
	struct mirror_findings f;
	ctx.data_out_length = o->data_length;
	ctx.sender_region = o->sender_region;
	mirror_findings_init(&f);
	rc = mirror_metadata_decode(&o->profile, md, len, &ctx, &m, &f);
	if (len > MIRROR_METADATA_BYTES)
		fprintf(stderr, "mirror-decode: note: %s has %zu bytes; decoding the first 1024\n",
			o->metadata_file, len);
	if (o->json)
		emit_json(mirror_json_metadata(&m, &f));
	else
		mirror_print_metadata(stdout, &m, md, len, &f, o->verbose);
	return exit_for(rc, MIRROR_EXIT_INVALID_PARAM);
}

static int decode_cdb(const struct opts *o)
{
	uint8_t cdb[MAX_CDB];
	size_t len = 0;
	char why[96] = "";
	int rc = mirror_hex_parse(o->cdb_text, cdb, sizeof(cdb), &len, why, sizeof(why));

	if (rc == MIRROR_E_NOSPACE)
		return syntax_error("%s", "more than 64 CDB bytes");
	if (rc < 0)
		return syntax_error("%s", why);
	if (len == 0)
		return syntax_error("%s", "no CDB bytes given");

	struct mirror_check_ctx ctx = MIRROR_CHECK_CTX_INIT;
	struct mirror_decoded_cdb d;
	struct mirror_findings f;
	ctx.data_out_length = o->data_length;
	mirror_findings_init(&f);
	rc = mirror_cdb_decode(&o->profile, cdb, len, &ctx, &d, &f);
	if (o->json)
		emit_json(mirror_json_cdb(&o->profile, &d, &f));
	else
		mirror_print_cdb(stdout, &o->profile, &d, cdb, &f, o->verbose);
	return exit_for(rc, MIRROR_EXIT_ILLEGAL_REQ);
}

static void list_rules(void)
{
	for (int r = 0; r < MIRROR_RULE_COUNT_; r++) {
		const struct mirror_rule_info *ri = mirror_rule_info((enum mirror_rule)r);
		if (ri->severity == MIRROR_SEV_ERROR)
			printf("%-28s error    %02Xh/%02Xh  %s\n", ri->id, ri->asc, ri->ascq, ri->field);
		else
			printf("%-28s warning  -        %s\n", ri->id, ri->field);
	}
}

static int append_text(struct opts *o, const char *s)
{
	size_t have = strlen(o->cdb_text), add = strlen(s);
	if (have + add + 2 > sizeof(o->cdb_text))
		return -1;
	if (have)
		o->cdb_text[have++] = ' ';
	memcpy(o->cdb_text + have, s, add + 1);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "metadata", required_argument, NULL, 'm' },
		{ "metadata-hex", required_argument, NULL, 'x' },
		{ "json", no_argument, NULL, 'j' },
		MIRROR_CLI_PROFILE_LONGOPTS,
		{ "data-length", required_argument, NULL, 'l' },
		{ "sender-region", required_argument, NULL, 'r' },
		{ "list-profiles", no_argument, NULL, 'L' },
		{ "list-rules", no_argument, NULL, 'R' },
		{ "verbose", no_argument, NULL, 'v' },
		MIRROR_CLI_STD_LONGOPTS,
	};
	struct opts o;
	struct mirror_profile_options po = { 0 };
	uint64_t v;
	char why[160];
	int c, ret = MIRROR_EXIT_OK;

	memset(&o, 0, sizeof(o));
	o.data_length = -1;
	o.sender_region = -1;
	while ((c = getopt_long(argc, argv, "m:x:j" MIRROR_CLI_PROFILE_SHORTOPTS "l:r:LRv" MIRROR_CLI_STD_SHORTOPTS, longopts,
				NULL)) != -1) {
		if (mirror_cli_profile_option(c, optarg, &po))
			continue;
		switch (c) {
		case 'm':
		case 'x':
			if (o.metadata_file)
				return syntax_error("%s", "give one metadata file");
			o.metadata_file = optarg;
			o.metadata_hex = c == 'x';
			break;
		case 'j':
			o.json = true;
			break;
		case 'l':
			if (mirror_cli_size("--data-length", optarg, 0, INT64_MAX, &v, why, sizeof(why)) < 0)
				return syntax_error("%s", why);
			o.data_length = (int64_t)v;
			break;
		case 'r':
			if (strcmp(optarg, "0") && strcmp(optarg, "1"))
				return syntax_error("bad --sender-region '%s' (0 or 1)", optarg);
			o.sender_region = optarg[0] - '0';
			break;
		case 'L':
			for (size_t i = 0; mirror_profile_name_at(i); i++)
				printf("%-10s %s\n", mirror_profile_name_at(i), mirror_profile_summary_at(i));
			return MIRROR_EXIT_OK;
		case 'R':
			list_rules();
			return MIRROR_EXIT_OK;
		case 'v':
			o.verbose++;
			break;
		default:
			return mirror_cli_default_option(c, PROG, usage_text);
		}
	}

	if (mirror_profile_from_options(&po, &o.profile, why, sizeof(why)) < 0)
		return syntax_error("%s", why);

	if (o.metadata_file) {
		const struct mirror_cli_path_check file = {
			o.metadata_hex ? "--metadata-hex" : "--metadata",
			strcmp(o.metadata_file, "-") ? o.metadata_file : NULL, MIRROR_CLI_PATH_IN
		};
		if ((c = mirror_cli_paths(PROG, &file, 1)) != 0)
			return c;
		if (optind < argc)
			return syntax_error("%s", "give either CDB bytes or --metadata, not both");
		return decode_metadata(&o);
	}
	if (optind == argc)
		return syntax_error("%s", "no CDB given (HEX bytes, '-' for stdin, or --metadata FILE)");
	if (optind + 1 == argc && strcmp(argv[optind], "-") == 0) {
		size_t n;
		int rc = read_all("-", (uint8_t *)o.cdb_text, sizeof(o.cdb_text) - 1, &n);
		if (rc < 0) {
			fprintf(stderr, "mirror-decode: stdin: %s\n", mirror_strerror(rc));
			return MIRROR_EXIT_FILE_ERROR;
		}
		o.cdb_text[n] = '\0';
	} else {
		for (int i = optind; i < argc; i++)
			if (append_text(&o, argv[i]) < 0)
				return syntax_error("%s", "CDB text too long");
	}
	ret = decode_cdb(&o);
	fflush(stdout);
	return ret;
}
