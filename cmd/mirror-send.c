/* mirror-send: the sending controller.  Mirrors one host write to a
 * receiver over iSCSI or SG_IO, split and routed by the library (Fig. 7, the 1 MiB
 * splitter), or sends any raw CDB, in the manner of sg_raw.  Thin: options
 * and output order here, the protocol in libmirror. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>
#include <scsi/sg_lib.h>

#include <mirror/mirror.h>
#include "transport/reachability.h"
#include <mirror/sender.h>
#include <mirror/transport.h>

#define PROG "mirror-send"
/* Raw data-out from a file or a pattern: libiscsi takes an int length. */
#define RAW_DATA_MAX (16u * 1024u * 1024u)
#define READBACK_BUF_MAX                                                         \
	(MIRROR_READBACK_HEADER_BYTES + (MIRROR_LARGE_MAX_BLOCKS + 31) / 32 * 4 + \
	 (size_t)MIRROR_LARGE_MAX_BLOCKS * MIRROR_BLOCK_SIZE)

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
	struct mirror_op *ops; /* of the first round, for --verify */
	size_t nops, ops_cap;
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

static int parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	uint64_t v;

	if (mirror_parse_size(s, &v) < 0 || v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

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

/* Reads up to cap bytes of path; -errno, or MIRROR_E_NOSPACE if the file is
 * longer (*len is then cap). */
static int read_file(const char *path, uint8_t *buf, size_t cap, size_t *len)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	size_t n = 0;
	int rc = 0;

	if (!fp)
		return -errno;
	while (n < cap) {
		size_t got = fread(buf + n, 1, cap - n, fp);
		if (got == 0)
			break;
		n += got;
	}
	if (ferror(fp))
		rc = -EIO;
	else if (n == cap && fgetc(fp) != EOF)
		rc = MIRROR_E_NOSPACE;
	if (fp != stdin)
		fclose(fp);
	*len = n;
	return rc;
}

static void print_json(struct json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static void json_hex(struct json_object *o, const char *key, const uint8_t *b, size_t n)
{
	char *hex = malloc(2 * n + 1);

	if (!hex)
		return;
	hex[0] = '\0';
	for (size_t i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", b[i]);
	json_object_object_add(o, key, json_object_new_string(hex));
	free(hex);
}

/* INVALID FIELD IN CDB with no field pointer to a data-out mirror opcode:
 * a mirror receiver always points at the field it rejects (wire-profile.md),
 * so the target judged the CDB as another command (tgtd runs a data-out
 * 0xA0 as REPORT LUNS and answers just that). */
static bool taken_for_other_command(const struct mirror_cmd *c)
{
	const struct mirror_sense *s = &c->sense_parsed;

	return c->result == 0 && c->status == MIRROR_STATUS_CHECK_CONDITION && c->sense_len &&
	       s->key == MIRROR_SK_ILLEGAL_REQUEST && s->asc == 0x24 && s->ascq == 0 && !s->sksv &&
	       c->dir == MIRROR_DIR_OUT;
}

/* The one-line explanations of answers that mean "wrong kind of target". */
static void explain(const struct opts *o, const struct mirror_cmd *c, const char *what)
{
	char spc[80];
	char why[256];

	/* A transport that answers the opcode itself: the target never saw
	 * it (QEMU's SCSI bus and 0xA0, REPORT LUNS). */
	bool intercepted = mirror_explain_unreached(c, why, sizeof(why));
	if (intercepted && c->result < 0) {
		fprintf(stderr, PROG ": %s\n", why);
		return;
	}
	/* What a generic SCSI target takes the opcode for (SPC: 0x3C READ
	 * BUFFER, 0xA0 REPORT LUNS, both data-in). */
	sg_get_opcode_name(c->cdb[0], 0, (int)sizeof(spc), spc);
	/* One line each; an opcode answered as its SPC command gets the
	 * profile that avoids it at the end of the line. */
	const char *end = intercepted ? "; " : "\n";
	const char *more = intercepted ? why : "";
	const char *nl = intercepted ? "\n" : "";
	if (mirror_cmd_invalid_opcode(c)) {
		fprintf(stderr, PROG ": target does not implement the %s 0x%02X (INVALID COMMAND "
			"OPERATION CODE): not a mirror receiver, or a different --profile/--opcodes"
			"%s%s%s", what, c->cdb[0], end, more, nl);
	} else if (taken_for_other_command(c)) {
		fprintf(stderr, PROG ": target rejected the %s 0x%02X with INVALID FIELD IN CDB and no "
			"field pointer: it took 0x%02X for %s; not a mirror receiver, or a different "
			"--profile/--opcodes%s%s%s", what, c->cdb[0], c->cdb[0], spc, end, more, nl);
	} else if (c->result == 0 && c->dir == MIRROR_DIR_OUT && c->data_in_got) {
		fprintf(stderr, PROG ": target answered the data-out %s 0x%02X with %u bytes of "
			"data-in: it took 0x%02X for %s; not a mirror receiver, or a different "
			"--profile/--opcodes (now %s)%s%s%s", what, c->cdb[0], (unsigned)c->data_in_got,
			c->cdb[0], spc, o->profile.name, end, more, nl);
	} else if (intercepted) {
		fprintf(stderr, PROG ": %s\n", why);
	}
}

/* Sends c and reports it; returns its sg3_utils exit status. */
static int send_one(struct state *st, const struct opts *o, struct mirror_cmd *c,
		    struct json_object *jo, const char *what)
{
	int status;

	mirror_transport_run(st->t, c);
	status = mirror_cmd_exit_status(c);
	/* GOOD to a mirror write that came back with data-in is no mirror:
	 * the target ran something else. */
	if (status == MIRROR_EXIT_OK && c->dir == MIRROR_DIR_OUT && c->data_in_got)
		status = MIRROR_EXIT_MALFORMED;
	/* the target does not implement the mirror command: as sg3_utils'
	 * INVALID COMMAND OPERATION CODE, whatever it took the opcode for */
	if (status == MIRROR_EXIT_ILLEGAL_REQ && mirror_command_of(&o->profile, c->cdb[0]) != MIRROR_CMD_NONE &&
	    taken_for_other_command(c))
		status = MIRROR_EXIT_INVALID_OP;
	if (jo) {
		mirror_json_add_outcome(jo, c, mirror_transport_error(st->t));
		if (status != mirror_cmd_exit_status(c))
			json_object_object_add(jo, "exit_status", json_object_new_int(status));
		if (status == MIRROR_EXIT_MALFORMED) {
			json_object_object_add(jo, "data_in_unexpected",
					       json_object_new_int64(c->data_in_got));
		}
		print_json(jo);
	} else {
		mirror_print_outcome(stdout, c, mirror_transport_error(st->t), 2, o->verbose);
	}
	/* The explanation comes last, after what it explains. */
	fflush(stdout);
	if (status != MIRROR_EXIT_OK)
		explain(o, c, what);
	return status;
}

static void print_cdb(const struct opts *o, const uint8_t *cdb, unsigned len)
{
	struct mirror_decoded_cdb d;
	struct mirror_findings f;
	struct mirror_check_ctx ctx = MIRROR_CHECK_CTX_INIT;

	mirror_findings_init(&f);
	mirror_cdb_decode(&o->profile, cdb, len, &ctx, &d, &f);
	mirror_print_cdb(stdout, &o->profile, &d, cdb, &f, o->verbose);
}

/* ---- ARRAY TABLE UPDATE ---- */

static int push_table(struct state *st, const struct opts *o)
{
	struct mirror_array_table tab;
	uint8_t param[MIRROR_TABLE_MAX_BYTES];
	struct mirror_cmd c;
	int len;

	mirror_array_table_init(&tab);
	mirror_array_table_add(&tab, o->volume, o->array_serial, o->array_number);
	len = mirror_table_update_encode(&tab, param, sizeof(param));
	memset(&c, 0, sizeof(c));
	int cl = mirror_table_update_cdb_encode(&o->profile, (uint32_t)len, c.cdb, sizeof(c.cdb));
	if (len < 0 || cl < 0) {
		fprintf(stderr, PROG ": cannot encode ARRAY TABLE UPDATE: %s\n",
			mirror_strerror(len < 0 ? len : cl));
		return MIRROR_EXIT_LOGIC_ERROR;
	}
	c.cdb_len = (unsigned)cl;
	c.dir = MIRROR_DIR_OUT;
	c.data_out = param;
	c.data_out_len = (uint32_t)len;

	struct json_object *jo = NULL;
	if (o->json) {
		jo = json_object_new_object();
		json_object_object_add(jo, "kind", json_object_new_string("array_table_update"));
		json_object_object_add(jo, "opcode", json_object_new_int(c.cdb[0]));
		json_object_object_add(jo, "volume", json_object_new_int(o->volume));
		json_object_object_add(jo, "array_number", json_object_new_int(o->array_number));
		char serial[17];
		snprintf(serial, sizeof(serial), "%016llx", (unsigned long long)o->array_serial);
		json_object_object_add(jo, "array_serial", json_object_new_string(serial));
		json_hex(jo, "cdb", c.cdb, c.cdb_len);
	} else {
		printf("array table update: volume %u -> array serial %016llx, array number %u\n",
		       o->volume, (unsigned long long)o->array_serial, o->array_number);
		print_cdb(o, c.cdb, c.cdb_len);
	}
	return send_one(st, o, &c, jo, "harness command ARRAY TABLE UPDATE");
}

/* ---- the write ---- */

static int send_op(struct state *st, const struct opts *o, const struct mirror_write *w,
		   const struct mirror_op *op, unsigned index, unsigned round)
{
	struct mirror_op_wire wire;
	struct mirror_cmd c;
	int rc = mirror_op_build(&o->profile, op, w, st->write_data, st->out_buf,
				 MIRROR_OP_DATA_OUT_MAX, &wire);

	if (rc < 0) {
		/* A forced small path whose elements do not fit the CDB. */
		fprintf(stderr, PROG ": op %u cannot be encoded on the %s path: %s\n", index,
			mirror_path_name(op->path), mirror_strerror(rc));
		return MIRROR_EXIT_SYNTAX;
	}
	memset(&c, 0, sizeof(c));
	memcpy(c.cdb, wire.cdb, wire.cdb_len);
	c.cdb_len = wire.cdb_len;
	c.dir = MIRROR_DIR_OUT;
	c.data_out = st->out_buf;
	c.data_out_len = (uint32_t)wire.data_out_len;

	struct json_object *jo = NULL;
	if (o->json) {
		jo = json_object_new_object();
		json_object_object_add(jo, "kind", json_object_new_string("mirror_write"));
		json_object_object_add(jo, "op", json_object_new_int((int)index));
		if (o->repeat > 1)
			json_object_object_add(jo, "round", json_object_new_int((int)round));
		json_object_object_add(jo, "path", json_object_new_string(mirror_path_name(op->path)));
		json_object_object_add(jo, "why", json_object_new_string(op->why.text));
		json_object_object_add(jo, "opcode", json_object_new_int(c.cdb[0]));
		json_object_object_add(jo, "lba", json_object_new_int64(op->lba));
		json_object_object_add(jo, "blocks", json_object_new_int64(op->blocks));
		json_object_object_add(jo, "region", json_object_new_int((int)op->region));
		if (op->path == MIRROR_PATH_LARGE)
			json_object_object_add(jo, "sequence", json_object_new_int64(op->sequence));
		struct json_object *sg = json_object_new_array();
		for (unsigned i = 0; i < op->sg_count; i++) {
			struct json_object *e = json_object_new_object();
			json_object_object_add(e, "nvram_addr", json_object_new_int64(op->sg[i].nvram_addr));
			json_object_object_add(e, "bytes", json_object_new_int64(op->sg[i].bytes));
			json_object_array_add(sg, e);
		}
		json_object_object_add(jo, "sg", sg);
		json_hex(jo, "cdb", c.cdb, c.cdb_len);
		json_object_object_add(jo, "data_out_length", json_object_new_int64(c.data_out_len));
	} else {
		printf("op %u: %s path, LBA %u, %u blocks (%u bytes), NVRAM 0x%08X, %u S/G element%s"
		       " [%s]\n", index, mirror_path_name(op->path),
		       (unsigned)op->lba, (unsigned)op->blocks, (unsigned)op->blocks * MIRROR_BLOCK_SIZE,
		       (unsigned)op->sg[0].nvram_addr, op->sg_count, op->sg_count == 1 ? "" : "s",
		       op->why.text);
		if (o->repeat > 1)
			printf("  round %u of %u\n", round, o->repeat);
		print_cdb(o, c.cdb, c.cdb_len);
		if (op->path == MIRROR_PATH_LARGE) {
			struct mirror_metadata m;
			struct mirror_findings f;
			struct mirror_check_ctx ctx = MIRROR_CHECK_CTX_INIT;
			mirror_findings_init(&f);
			mirror_metadata_decode(&o->profile, st->out_buf, MIRROR_METADATA_BYTES, &ctx, &m, &f);
			if (o->verbose > 1)
				mirror_print_metadata(stdout, &m, st->out_buf, MIRROR_METADATA_BYTES, &f,
						      o->verbose - 1);
			else
				printf("  metadata: sequence %u, array serial %016llx, array number %u, "
				       "region %u, %u S/G element%s\n", (unsigned)m.sequence,
				       (unsigned long long)m.array_serial, m.array_number, m.region,
				       m.sg_count, m.sg_count == 1 ? "" : "s");
		}
	}
	return send_one(st, o, &c, jo, "mirror command");
}

static int keep_op(struct state *st, const struct mirror_op *op)
{
	if (st->nops == st->ops_cap) {
		size_t cap = st->ops_cap ? st->ops_cap * 2 : 16;
		struct mirror_op *n = realloc(st->ops, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		st->ops = n;
		st->ops_cap = cap;
	}
	st->ops[st->nops++] = *op;
	return 0;
}

/* NVRAM READBACK of every range the write touched, compared with the data
 * sent (Fig. 5 blocks 516-524: stored, then marked valid). */
static int verify(struct state *st, const struct opts *o)
{
	uint64_t ranges = 0, bytes = 0;

	for (size_t k = 0; k < st->nops; k++) {
		const struct mirror_op *op = &st->ops[k];
		struct mirror_op_range r[MIRROR_METADATA_SG_MAX];
		unsigned nr = mirror_op_ranges(op, r, MIRROR_METADATA_SG_MAX);
		for (unsigned i = 0; i < nr; i++) {
			struct mirror_readback_cdb rc = { o->profile.op.readback, 0, r[i].nvram_addr,
							  r[i].bytes / MIRROR_BLOCK_SIZE };
			struct mirror_cmd c;
			memset(&c, 0, sizeof(c));
			c.cdb_len = (unsigned)mirror_readback_cdb_encode(&o->profile, &rc, c.cdb,
									 sizeof(c.cdb));
			c.dir = MIRROR_DIR_IN;
			c.data_in = st->in_buf;
			c.data_in_len = (uint32_t)mirror_readback_response_len(&rc);

			struct json_object *jo = NULL;
			if (o->json) {
				jo = json_object_new_object();
				json_object_object_add(jo, "kind", json_object_new_string("verify"));
				json_object_object_add(jo, "op", json_object_new_int((int)k + 1));
				json_object_object_add(jo, "opcode", json_object_new_int(c.cdb[0]));
				json_object_object_add(jo, "nvram_addr", json_object_new_int64(rc.nvram_addr));
				json_object_object_add(jo, "blocks", json_object_new_int64(rc.blocks));
				json_hex(jo, "cdb", c.cdb, c.cdb_len);
			} else {
				printf("verify op %zu: NVRAM 0x%08X, %u blocks\n", k + 1,
				       (unsigned)rc.nvram_addr, (unsigned)rc.blocks);
				if (o->verbose)
					print_cdb(o, c.cdb, c.cdb_len);
			}
			int status = send_one(st, o, &c, jo, "harness command NVRAM READBACK");
			if (status != MIRROR_EXIT_OK) {
				if (mirror_cmd_invalid_opcode(&c))
					fprintf(stderr, PROG ": --verify needs NVRAM READBACK\n");
				return status;
			}
			struct mirror_readback rb;
			if (mirror_readback_parse(st->in_buf, c.data_in_got, false, &rb) < 0 ||
			    rb.nvram_addr != rc.nvram_addr || rb.blocks != rc.blocks) {
				fprintf(stderr, PROG ": malformed NVRAM READBACK response (%u bytes) "
					"for NVRAM 0x%08X\n", (unsigned)c.data_in_got,
					(unsigned)rc.nvram_addr);
				return MIRROR_EXIT_MALFORMED;
			}
			struct mirror_miscompare mc;
			const uint8_t *expect = st->write_data + op->data_offset + r[i].data_offset;
			if (mirror_readback_compare(&rb, r[i].nvram_addr, expect, r[i].bytes, &mc) != 0) {
				uint32_t lba = op->lba + (r[i].data_offset + (mc.nvram_addr -
							r[i].nvram_addr)) / MIRROR_BLOCK_SIZE;
				if (o->json) {
					/* stdout carries JSON only */
					struct json_object *mo = json_object_new_object();
					json_object_object_add(mo, "kind", json_object_new_string("miscompare"));
					json_object_object_add(mo, "op", json_object_new_int((int)k + 1));
					json_object_object_add(mo, "nvram_addr", json_object_new_int64(mc.nvram_addr));
					json_object_object_add(mo, "lba", json_object_new_int64(lba));
					json_object_object_add(mo, "invalid", json_object_new_boolean(mc.invalid));
					json_object_object_add(mo, "expected", json_object_new_int(mc.expected));
					json_object_object_add(mo, "got", json_object_new_int(mc.got));
					json_object_object_add(mo, "exit_status",
							       json_object_new_int(MIRROR_EXIT_MISCOMPARE));
					print_json(mo);
				} else if (mc.invalid) {
					printf("MISCOMPARE at NVRAM 0x%08X (LBA %u): the block is not "
					       "marked valid\n", (unsigned)mc.nvram_addr, (unsigned)lba);
				} else {
					printf("MISCOMPARE at NVRAM 0x%08X (LBA %u): expected 0x%02X, "
					       "got 0x%02X\n", (unsigned)mc.nvram_addr, (unsigned)lba,
					       mc.expected, mc.got);
				}
				fflush(stdout);
				return MIRROR_EXIT_MISCOMPARE;
			}
			ranges++;
			bytes += r[i].bytes;
		}
	}
	if (!o->json)
		printf("verify: %llu range%s, %llu bytes stored and valid\n",
		       (unsigned long long)ranges, ranges == 1 ? "" : "s",
		       (unsigned long long)bytes);
	return MIRROR_EXIT_OK;
}

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
		if (stat(o->data_file, &sb) < 0) {
			fprintf(stderr, PROG ": %s: %s\n", o->data_file, strerror(errno));
			return MIRROR_EXIT_FILE_ERROR;
		}
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
	st->in_buf = malloc(READBACK_BUF_MAX);
	if (!st->write_data || !st->out_buf || !st->in_buf) {
		fprintf(stderr, PROG ": out of memory for a %llu-byte write\n",
			(unsigned long long)size);
		return MIRROR_EXIT_OTHER;
	}
	if (!o->data_file) {
		mirror_pattern_fill(&o->pattern, o->lba, st->write_data, size);
		return MIRROR_EXIT_OK;
	}
	size_t got;
	int rc = read_file(o->data_file, st->write_data, size, &got);
	if (rc < 0 && rc != MIRROR_E_NOSPACE) {
		fprintf(stderr, PROG ": %s: %s\n", o->data_file, mirror_strerror(rc));
		return MIRROR_EXIT_FILE_ERROR;
	}
	if (got < size) {
		fprintf(stderr, PROG ": %s has %zu bytes; the write needs %llu\n", o->data_file, got,
			(unsigned long long)size);
		return MIRROR_EXIT_FILE_ERROR;
	}
	if (rc == MIRROR_E_NOSPACE)
		fprintf(stderr, PROG ": note: %s is longer; sending its first %llu bytes\n",
			o->data_file, (unsigned long long)size);
	return MIRROR_EXIT_OK;
}

static int run_write(struct state *st, const struct opts *o, const struct mirror_write *w)
{
	struct mirror_sender_state ss = { o->recovery, !o->partner_uninit };
	uint32_t seq = o->first_seq;
	int status;

	if (o->push_table) {
		status = push_table(st, o);
		if (status != MIRROR_EXIT_OK)
			return status;
	}
	for (unsigned round = 1; round <= o->repeat; round++) {
		struct mirror_splitter sp;
		struct mirror_op op;
		char why[160];
		unsigned index = 0;
		/* Each round continues the sequence numbers: the receiver
		 * sees one sender whose messages are consecutive. */
		if (mirror_split_init(&sp, &o->profile, w, &ss, o->policy, seq, why, sizeof(why)) < 0)
			return syntax_error("%s", why);
		while (mirror_split_next(&sp, &op) > 0) {
			if (round == 1 && keep_op(st, &op) < 0) {
				fprintf(stderr, PROG ": out of memory\n");
				return MIRROR_EXIT_OTHER;
			}
			status = send_op(st, o, w, &op, ++index, round);
			if (status != MIRROR_EXIT_OK)
				return status;
		}
		seq = sp.next_sequence;
	}
	return o->verify ? verify(st, o) : MIRROR_EXIT_OK;
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
			return MIRROR_EXIT_OTHER;
		c->dir = MIRROR_DIR_IN;
		c->data_in = st->in_buf;
		c->data_in_len = o->data_in_len;
	} else if (o->data_out_file || o->have_data_out_len) {
		size_t n = o->have_data_out_len ? o->data_out_len : RAW_DATA_MAX;
		st->out_buf = malloc(n ? n : 1);
		if (!st->out_buf)
			return MIRROR_EXIT_OTHER;
		if (o->data_out_file) {
			rc = read_file(o->data_out_file, st->out_buf, n, &n);
			if (rc == MIRROR_E_NOSPACE) {
				fprintf(stderr, PROG ": %s: larger than %u bytes\n", o->data_out_file,
					RAW_DATA_MAX);
				return MIRROR_EXIT_FILE_ERROR;
			}
			if (rc < 0) {
				fprintf(stderr, PROG ": %s: %s\n", o->data_out_file, mirror_strerror(rc));
				return MIRROR_EXIT_FILE_ERROR;
			}
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
	static const char *const dir_name[] = { "none", "data-out", "data-in" };
	/* Decode the CDB only where it is a mirror command in both opcode and
	 * direction: a data-in 0xA0 is REPORT LUNS, not a small write. */
	enum mirror_command kind = mirror_command_of(&o->profile, c->cdb[0]);
	bool mirror = kind == MIRROR_CMD_READBACK ? c->dir == MIRROR_DIR_IN
						  : kind != MIRROR_CMD_NONE && c->dir == MIRROR_DIR_OUT;
	int status = MIRROR_EXIT_OK;

	for (unsigned round = 1; round <= o->repeat; round++) {
		struct json_object *jo = NULL;
		if (o->json) {
			jo = json_object_new_object();
			json_object_object_add(jo, "kind", json_object_new_string("raw"));
			if (o->repeat > 1)
				json_object_object_add(jo, "round", json_object_new_int((int)round));
			json_object_object_add(jo, "opcode", json_object_new_int(c->cdb[0]));
			json_hex(jo, "cdb", c->cdb, c->cdb_len);
			json_object_object_add(jo, "direction", json_object_new_string(dir_name[c->dir]));
			json_object_object_add(jo, "data_out_length", json_object_new_int64(c->data_out_len));
		} else {
			printf("CDB:");
			for (unsigned i = 0; i < c->cdb_len; i++)
				printf(" %02x", c->cdb[i]);
			printf("  (%s", dir_name[c->dir]);
			if (c->dir == MIRROR_DIR_OUT)
				printf(", %u bytes", (unsigned)c->data_out_len);
			else if (c->dir == MIRROR_DIR_IN)
				printf(", up to %u bytes", (unsigned)c->data_in_len);
			printf(")\n");
			if (mirror && o->verbose)
				print_cdb(o, c->cdb, c->cdb_len);
		}
		/* send_one prints jo, so data-in is added first: run here. */
		mirror_transport_run(st->t, c);
		status = mirror_cmd_exit_status(c);
		if (jo) {
			mirror_json_add_outcome(jo, c, mirror_transport_error(st->t));
			if (c->dir == MIRROR_DIR_IN && c->result == 0) {
				json_object_object_add(jo, "data_in_length",
						       json_object_new_int64(c->data_in_got));
				json_hex(jo, "data_in", c->data_in, c->data_in_got);
			}
			print_json(jo);
		} else {
			mirror_print_outcome(stdout, c, mirror_transport_error(st->t), 2, o->verbose);
			if (c->dir == MIRROR_DIR_IN && c->result == 0 && c->data_in_got) {
				printf("  received %u bytes of data-in:\n", (unsigned)c->data_in_got);
				mirror_print_hex_ascii(stdout, c->data_in, c->data_in_got, 4);
			}
		}
		fflush(stdout);
		if (status != MIRROR_EXIT_OK) {
			if (mirror)
				explain(o, c, kind == MIRROR_CMD_READBACK || kind == MIRROR_CMD_TABLE_UPDATE
						      ? "harness command" : "mirror command");
			break;
		}
	}
	return status;
}

/* ---- options ---- */

enum {
	OPT_VOLUME = 256,
	OPT_ARRAY_SERIAL,
	OPT_ARRAY_NUMBER,
	OPT_RECOVERY,
	OPT_PARTNER_UNINIT,
	OPT_REGION_SPLIT,
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
		{ "profile", required_argument, NULL, 'p' },
		{ "opcodes", required_argument, NULL, 'O' },
		{ "nvram-size", required_argument, NULL, 'n' },
		{ "region-split", required_argument, NULL, OPT_REGION_SPLIT },
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
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct mirror_profile_options po = { 0 };
	uint32_t v;
	char why[160];
	int c;

	while ((c = getopt_long(argc, argv, "l:s:a:P:d:t:cr:p:O:n:RT:I:jvVh", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			if (parse_u32(optarg, UINT32_MAX, &o->lba) < 0)
				return syntax_error("bad --lba '%s' (0..2^32-1)", optarg);
			o->have_lba = true;
			break;
		case 's':
			if (mirror_parse_size(optarg, &o->size) < 0 || o->size == 0)
				return syntax_error("bad --size '%s' (e.g. 4096, 64K, 2M)", optarg);
			o->have_size = true;
			break;
		case 'a':
			if (parse_u32(optarg, UINT32_MAX, &o->nvram_addr) < 0)
				return syntax_error("bad --nvram-addr '%s'", optarg);
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
			if (parse_u32(optarg, 255, &v) < 0)
				return syntax_error("bad --volume '%s' (0..255)", optarg);
			o->volume = (uint8_t)v;
			break;
		case OPT_ARRAY_SERIAL:
			if (parse_serial(optarg, &o->array_serial) < 0)
				return syntax_error("bad --array-serial '%s' (up to 16 hex digits)", optarg);
			break;
		case OPT_ARRAY_NUMBER:
			if (parse_u32(optarg, 255, &v) < 0)
				return syntax_error("bad --array-number '%s' (0..255)", optarg);
			o->array_number = (uint8_t)v;
			break;
		case 'd':
			o->data_file = optarg;
			break;
		case 't':
			if (mirror_pattern_parse(optarg, &o->pattern, why, sizeof(why)) < 0)
				return syntax_error("%s", why);
			break;
		case 'c':
			o->verify = true;
			break;
		case 'r':
			if (parse_u32(optarg, UINT32_MAX, &o->repeat) < 0 || o->repeat == 0)
				return syntax_error("bad --repeat '%s' (1 or more)", optarg);
			break;
		case OPT_RECOVERY:
			o->recovery = true;
			break;
		case OPT_PARTNER_UNINIT:
			o->partner_uninit = true;
			break;
		case 'p':
			po.name = optarg;
			break;
		case 'O':
			po.opcodes = optarg;
			break;
		case 'n':
			po.nvram_size = optarg;
			break;
		case OPT_REGION_SPLIT:
			po.region_split = optarg;
			break;
		case OPT_REGION:
			if (strcmp(optarg, "0") && strcmp(optarg, "1"))
				return syntax_error("bad --region '%s' (0 or 1)", optarg);
			o->region = optarg[0] - '0';
			break;
		case OPT_SEQ:
			if (parse_u32(optarg, UINT32_MAX, &o->first_seq) < 0)
				return syntax_error("bad --seq '%s'", optarg);
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
			if (parse_u32(optarg, RAW_DATA_MAX, &o->data_out_len) < 0)
				return syntax_error("bad --data-out-len '%s' (at most 16M)", optarg);
			o->have_data_out_len = true;
			break;
		case OPT_DATA_IN:
			if (parse_u32(optarg, RAW_DATA_MAX, &o->data_in_len) < 0)
				return syntax_error("bad --data-in '%s' (at most 16M)", optarg);
			o->have_data_in = true;
			break;
		case 'T':
			if (parse_u32(optarg, 3600000, &o->topts.command_timeout_ms) < 0 ||
			    !o->topts.command_timeout_ms)
				return syntax_error("bad --timeout '%s' (1..3600000 ms)", optarg);
			break;
		case OPT_CONNECT_TIMEOUT:
			if (parse_u32(optarg, 3600000, &o->topts.connect_timeout_ms) < 0 ||
			    !o->topts.connect_timeout_ms)
				return syntax_error("bad --connect-timeout '%s' (1..3600000 ms)", optarg);
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
		case 'V':
			printf(PROG " (mirrortest) %s\n", mirror_version());
			return MIRROR_EXIT_OK;
		case 'h':
			fputs(usage_text, stdout);
			return MIRROR_EXIT_OK;
		default:
			fprintf(stderr, "Try '" PROG " --help'.\n");
			return MIRROR_EXIT_SYNTAX;
		}
	}

	if (mirror_profile_from_options(&po, &o->profile, why, sizeof(why)) < 0)
		return syntax_error("%s", why);

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
	free(st.ops);
	fflush(stdout);
	return ret;
}
