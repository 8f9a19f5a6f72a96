/* What the cases send commands with: building the mirror commands
 * (through libmirror's encoders, which pack invalid values that fit their
 * bit widths), sending them through the transport seam, comparing the
 * answer with the one the wire profile requires, and reading the NVRAM
 * back (NVRAM READBACK) to see what the target stored. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mirror/array_table.h>
#include <mirror/commands.h>
#include <mirror/error.h>
#include <mirror/sender.h>

#include "conform.h"

static void vformat(struct conf_ctx *c, bool append, const char *fmt, va_list ap)
{
	size_t used = append ? strlen(c->why) : 0;

	if (append && used && used + 2 < sizeof(c->why)) {
		c->why[used++] = ';';
		c->why[used++] = ' ';
		c->why[used] = '\0';
	}
	if (used < sizeof(c->why))
		vsnprintf(c->why + used, sizeof(c->why) - used, fmt, ap);
}

enum conf_verdict conf_fail(struct conf_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vformat(c, false, fmt, ap);
	va_end(ap);
	return CONF_FAIL;
}

enum conf_verdict conf_skip(struct conf_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vformat(c, false, fmt, ap);
	va_end(ap);
	return CONF_SKIP;
}

void conf_note(struct conf_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vformat(c, true, fmt, ap);
	va_end(ap);
}

uint32_t conf_region_start(const struct conf_ctx *c)
{
	return mirror_region_start(&c->profile, c->region);
}

uint32_t conf_region_end(const struct conf_ctx *c)
{
	return mirror_region_end(&c->profile, c->region);
}

/* ---- sending ---- */

static void print_cdb(FILE *out, const struct mirror_cmd *cmd, const char *what)
{
	static const char *const dirs[] = { "no data", "data-out", "data-in" };

	fprintf(out, "  -> %s: CDB", what);
	for (unsigned i = 0; i < cmd->cdb_len; i++)
		fprintf(out, " %02x", cmd->cdb[i]);
	fprintf(out, ", %s %u bytes\n", dirs[cmd->dir],
		cmd->dir == MIRROR_DIR_OUT ? cmd->data_out_len
		: cmd->dir == MIRROR_DIR_IN ? cmd->data_in_len : 0u);
}

int conf_send(struct conf_ctx *c, struct mirror_cmd *cmd, const char *what)
{
	int rc = mirror_transport_run(c->t, cmd);

	if (c->verbose && c->log) {
		print_cdb(c->log, cmd, what);
		mirror_print_outcome(c->log, cmd, rc < 0 ? mirror_transport_error(c->t) : NULL, 4,
				     c->verbose > 1);
	}
	return rc;
}

static void describe_want(const struct conf_sense *w, char *buf, size_t cap)
{
	if (!w) {
		snprintf(buf, cap, "GOOD");
		return;
	}
	int n = snprintf(buf, cap, "CHECK CONDITION, %s %02Xh/%02Xh", mirror_sense_key_name(w->key),
			 w->asc, w->ascq);
	if (n < 0 || (size_t)n >= cap)
		return;
	if (w->sksv)
		snprintf(buf + n, cap - (size_t)n, ", field pointer %s byte %u bit %u",
			 w->cd ? "CDB" : "parameter list", w->byte, w->bit);
	else if (!w->any_pointer)
		snprintf(buf + n, cap - (size_t)n, ", no field pointer");
}

static void describe_got(const struct conf_ctx *c, const struct mirror_cmd *cmd, char *buf,
			 size_t cap)
{
	char sense[200];
	int n;

	if (cmd->result < 0) {
		snprintf(buf, cap, "no answer: %s", c->t ? mirror_transport_error(c->t) : "transport error");
		return;
	}
	if (cmd->status != MIRROR_STATUS_CHECK_CONDITION || !cmd->sense_len) {
		snprintf(buf, cap, "%s", mirror_status_name(cmd->status));
		return;
	}
	mirror_sense_describe(&cmd->sense_parsed, sense, sizeof(sense));
	n = snprintf(buf, cap, "CHECK CONDITION, %s %02Xh/%02Xh (%s); sense", 
		     mirror_sense_key_name(cmd->sense_parsed.key), cmd->sense_parsed.asc,
		     cmd->sense_parsed.ascq, sense);
	for (unsigned i = 0; i < cmd->sense_len && i < 18 && n > 0 && (size_t)n + 4 < cap; i++)
		n += snprintf(buf + n, cap - (size_t)n, " %02x", cmd->sense[i]);
}

static bool sense_matches(const struct mirror_cmd *cmd, const struct conf_sense *w)
{
	const struct mirror_sense *s = &cmd->sense_parsed;

	if (cmd->result < 0 || cmd->status != MIRROR_STATUS_CHECK_CONDITION || !cmd->sense_len)
		return false;
	if (s->key != w->key || s->asc != w->asc || s->ascq != w->ascq)
		return false;
	if (w->any_pointer)
		return true;
	if (!w->sksv)
		return !s->sksv;
	return s->sksv && s->cd == w->cd && s->field == w->byte && s->bpv && s->bit == w->bit;
}

enum conf_verdict conf_check(struct conf_ctx *c, const struct mirror_cmd *cmd, const char *what,
			     const struct conf_sense *want)
{
	char w[160], g[400];
	bool ok = want ? sense_matches(cmd, want)
		       : cmd->result == 0 && cmd->status == MIRROR_STATUS_GOOD;

	/* GOOD for a data-out command says all of it was taken (RFC 7143
	 * 11.4.5: a residual is data the target did not transfer): the
	 * check that stands in for NVRAM READBACK where a target lacks it. */
	if (ok && !want && cmd->dir == MIRROR_DIR_OUT && cmd->residual != 0)
		return conf_fail(c, "%s: GOOD with a residual %s of %d bytes: the target did not take the whole data-out",
				 what, cmd->residual > 0 ? "underflow" : "overflow",
				 cmd->residual > 0 ? (int)cmd->residual : -(int)cmd->residual);
	if (ok)
		return CONF_PASS;
	describe_want(want, w, sizeof(w));
	describe_got(c, cmd, g, sizeof(g));
	return conf_fail(c, "%s: expected %s; got %s", what, w, g);
}

bool conf_not_implemented(const struct mirror_cmd *cmd, char *why, size_t why_len)
{
	const struct mirror_sense *s = &cmd->sense_parsed;

	/* No answer in time is a target that took the command and hung: a
	 * failure for the cases to report, not a command it lacks. */
	if (cmd->result == -ETIMEDOUT)
		return false;
	if (cmd->result < 0) {
		snprintf(why, why_len, "the command failed in transport (%s): the CDB did not reach the target",
			 strerror(-cmd->result));
		return true;
	}
	if (cmd->status != MIRROR_STATUS_CHECK_CONDITION || !cmd->sense_len ||
	    s->key != MIRROR_SK_ILLEGAL_REQUEST)
		return false;
	if (s->asc == 0x20 && s->ascq == 0x00) {
		snprintf(why, why_len, "opcode 0x%02X answered INVALID COMMAND OPERATION CODE",
			 cmd->cdb[0]);
		return true;
	}
	/* A mirror receiver always points at the field it rejects. */
	if (s->asc == 0x24 && s->ascq == 0x00 && !s->sksv) {
		snprintf(why, why_len,
			 "opcode 0x%02X answered INVALID FIELD IN CDB with no field pointer: taken for another command",
			 cmd->cdb[0]);
		return true;
	}
	return false;
}

/* ---- the array table ---- */

unsigned conf_volume_byte(const struct mirror_profile *p)
{
	static const unsigned byte[] = {
		[MIRROR_SMALL_CDB12_20BIT] = 3,
		[MIRROR_SMALL_CDB12_18BIT] = 3,
		[MIRROR_SMALL_CDB16] = 5,
	};

	return (size_t)p->small_layout < sizeof(byte) / sizeof(byte[0]) ? byte[p->small_layout] : 3;
}

void conf_suite_table(struct mirror_array_table *t)
{
	static const struct {
		uint8_t volume, array_number;
		uint64_t serial;
	} rows[] = {
		{ 0, 0, 0x4D49525200000000ull },
		{ CONF_VOLUME_A, 1, 0x4D49525200000001ull },
		{ 7, 2, 0x4D49525200000007ull },
		{ CONF_VOLUME_MAX, 3, 0x4D495252000000FFull },
	};

	mirror_array_table_init(t);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		mirror_array_table_add(t, rows[i].volume, rows[i].serial, rows[i].array_number);
}

int conf_push_table(struct conf_ctx *c, struct mirror_cmd *cmd)
{
	static uint8_t list[MIRROR_TABLE_MAX_BYTES];

	int rc = mirror_cmd_table_push(cmd, &c->profile, &c->table, list, sizeof(list));
	if (rc < 0)
		return rc;
	return conf_send(c, cmd, "ARRAY TABLE UPDATE");
}

void conf_use_table(struct conf_ctx *c, const struct mirror_array_table *t, bool serials)
{
	if (t) {
		c->table = *t;
		c->own_table = true;
		c->table_serials = serials;
	} else {
		conf_suite_table(&c->table);
		c->own_table = false;
		c->table_serials = true;
	}
	/* volume 1 where the table has it (the suite's own writes go there),
	 * else its lowest */
	c->vol_a = CONF_VOLUME_A;
	for (unsigned v = 0; !c->table.vol[c->vol_a].used && v < MIRROR_VOLUMES; v++)
		c->vol_a = (uint8_t)v;
	/* 200 where it is free, else the highest free one */
	c->vol_absent = -1;
	if (!c->table.vol[CONF_VOLUME_ABSENT].used)
		c->vol_absent = CONF_VOLUME_ABSENT;
	for (int v = MIRROR_VOLUMES - 1; c->vol_absent < 0 && v >= 0; v--)
		if (!c->table.vol[v].used)
			c->vol_absent = v;
}

int conf_other_volume(const struct conf_ctx *c, unsigned not)
{
	/* 7 first: the suite's table has it */
	if (7 != not && c->table.vol[7].used)
		return 7;
	for (unsigned v = 0; v < MIRROR_VOLUMES; v++)
		if (v != not && c->table.vol[v].used)
			return (int)v;
	return -1;
}

int conf_volumes_parse(const char *list, struct mirror_array_table *t, char *why, size_t why_len)
{
	const char *p = list;

	mirror_array_table_init(t);
	for (unsigned k = 1;; k++) {
		char *end;
		unsigned long v;

		if (*p < '0' || *p > '9')
			return conf_errorf(-EINVAL, why, why_len,
					   "volume %u of '%s' is not a number 0..255 (e.g. 0,1,7,255)", k, list);
		errno = 0;
		v = strtoul(p, &end, 10);
		if (errno || v > 255)
			return conf_errorf(-EINVAL, why, why_len, "volume %u of '%s' is over 255", k, list);
		if (*end != ',' && *end)
			return conf_errorf(-EINVAL, why, why_len,
					   "volume %u of '%s': '%c' after the number (comma-separated numbers)",
					   k, list, *end);
		/* serials made up, one per volume: the target's are not
		 * known, and the cases that would send them skip */
		if (mirror_array_table_add(t, (uint8_t)v, 0x4D49525200000000ull | v, (uint8_t)v) < 0)
			return conf_errorf(-EINVAL, why, why_len, "volume %lu is listed twice in '%s'", v,
					   list);
		if (!*end)
			return 0;
		p = end + 1;
	}
}

/* ---- the small path ---- */

void conf_small_init(const struct conf_ctx *c, struct mirror_small_cdb *s, uint32_t addr,
		     unsigned blocks1, uint32_t addr2, unsigned blocks2, uint32_t lba)
{
	memset(s, 0, sizeof(*s));
	s->opcode = mirror_small_opcode_for_region(&c->profile, c->region);
	s->volume = c->vol_a;
	s->lba = lba;
	s->slots = mirror_small_sg_max(&c->profile);
	s->sg[0].descriptor = addr / MIRROR_BLOCK_SIZE;
	s->sg[0].blocks = (uint8_t)blocks1;
	if (blocks2) {
		s->sg[1].descriptor = addr2 / MIRROR_BLOCK_SIZE;
		s->sg[1].blocks = (uint8_t)blocks2;
	}
	s->region = (int)c->region;
	s->cei_high = (uint8_t)(s->sg[0].descriptor >> 16);
}

int conf_small_cmd(struct conf_ctx *c, const struct mirror_small_cdb *s, uint8_t *data,
		   uint32_t data_len, uint64_t seed, struct mirror_cmd *cmd)
{
	struct mirror_pattern p = { MIRROR_PATTERN_RANDOM, 0, seed };
	int n;

	memset(cmd, 0, sizeof(*cmd));
	n = mirror_small_cdb_encode(&c->profile, s, cmd->cdb, sizeof(cmd->cdb));
	if (n < 0)
		return n;
	cmd->cdb_len = (unsigned)n;
	mirror_pattern_fill(&p, s->lba, data, data_len);
	cmd->dir = MIRROR_DIR_OUT;
	cmd->data_out = data;
	cmd->data_out_len = data_len;
	return 0;
}

/* ---- the large path ---- */

void conf_md_init(const struct conf_ctx *c, struct mirror_metadata *md, uint32_t addr,
		  unsigned n, uint32_t elem_bytes, uint32_t lba)
{
	mirror_metadata_init(md);
	md->lba = lba;
	md->blocks = n * elem_bytes / MIRROR_BLOCK_SIZE;
	/* the array of the volume the small path writes */
	md->array_serial = c->table.vol[c->vol_a].array_serial;
	md->array_number = c->table.vol[c->vol_a].array_number;
	md->region = (uint8_t)c->region;
	md->sg_count = n;
	for (unsigned i = 0; i < n && i < MIRROR_METADATA_SG_MAX; i++) {
		md->sg[i].nvram_addr = addr + i * elem_bytes;
		md->sg[i].bytes = elem_bytes;
	}
}

int conf_large_cmd(struct conf_ctx *c, const uint8_t *rest, struct mirror_metadata *md,
		   bool keep_sequence, uint8_t *buf, uint32_t user_len, uint64_t seed,
		   struct mirror_cmd *cmd)
{
	struct mirror_pattern p = { MIRROR_PATTERN_RANDOM, 0, seed };
	struct mirror_notify_cdb nc;
	int n;

	memset(cmd, 0, sizeof(*cmd));
	memset(&nc, 0, sizeof(nc));
	nc.opcode = c->profile.op.notify;
	if (rest)
		memcpy(nc.rest, rest, sizeof(nc.rest));
	n = mirror_notify_cdb_encode(&c->profile, &nc, cmd->cdb, sizeof(cmd->cdb));
	if (n < 0)
		return n;
	cmd->cdb_len = (unsigned)n;
	if (!keep_sequence)
		md->sequence = c->next_sequence++;
	n = mirror_metadata_encode(md, buf, MIRROR_METADATA_BYTES);
	if (n < 0)
		return n;
	mirror_pattern_fill(&p, md->lba, buf + MIRROR_METADATA_BYTES, user_len);
	cmd->dir = MIRROR_DIR_OUT;
	cmd->data_out = buf;
	cmd->data_out_len = MIRROR_METADATA_BYTES + user_len;
	return 0;
}

/* ---- NVRAM READBACK ---- */

enum conf_verdict conf_readback(struct conf_ctx *c, uint32_t addr, uint32_t bytes,
				bool validity_only, uint8_t *buf, size_t cap,
				struct mirror_readback *r)
{
	uint32_t blocks = bytes / MIRROR_BLOCK_SIZE;
	struct mirror_readback parsed;
	struct mirror_cmd cmd;
	char reason[200];
	int n = mirror_cmd_readback(&cmd, &c->profile, addr, blocks, validity_only, buf, cap);

	if (n < 0)
		return conf_fail(c, "internal: READBACK of %u bytes into %zu bytes of buffer: %s",
				 bytes, cap, mirror_strerror(n));
	conf_send(c, &cmd, "NVRAM READBACK");
	if (conf_not_implemented(&cmd, reason, sizeof(reason)))
		return conf_fail(c, "NVRAM READBACK: %s", reason);
	if (conf_check(c, &cmd, "NVRAM READBACK", NULL) != CONF_PASS)
		return CONF_FAIL;
	if (mirror_cmd_readback_parse(&cmd, &parsed) < 0)
		return conf_fail(c, "NVRAM READBACK of 0x%08X + %u blocks: the answer (%u bytes) is not that range",
				 (unsigned)addr, (unsigned)blocks, (unsigned)cmd.data_in_got);
	if (r)
		*r = parsed;
	return CONF_PASS;
}

/* One READBACK covers at most 2048 blocks. */
#define READBACK_CHUNK (MIRROR_LARGE_MAX_BLOCKS * MIRROR_BLOCK_SIZE)

static uint8_t *readback_buffer(size_t *cap)
{
	*cap = MIRROR_READBACK_BUF_MAX;
	return malloc(*cap);
}

/* No NVRAM READBACK: what the case would have read back, recorded (the
 * runner makes the case PARTIAL). */
static enum conf_verdict unverified(struct conf_ctx *c, const char *what, uint32_t addr,
				    uint32_t bytes, const char *expected)
{
	size_t used = strlen(c->unverified);

	if (used + 4 < sizeof(c->unverified))
		snprintf(c->unverified + used, sizeof(c->unverified) - used,
			 "%s%s (0x%08X + %u bytes) %s", used ? "; " : "", what, (unsigned)addr,
			 (unsigned)bytes, expected);
	return CONF_PASS;
}

enum conf_verdict conf_verify(struct conf_ctx *c, const char *what, uint32_t addr,
			      const uint8_t *expect, uint32_t bytes)
{
	size_t cap;
	uint8_t *buf;
	enum conf_verdict v = CONF_PASS;

	if (!c->support.readback)
		return unverified(c, what, addr, bytes, "stored and valid");
	buf = readback_buffer(&cap);
	if (!buf)
		return conf_fail(c, "out of memory");
	for (uint32_t off = 0; off < bytes && v == CONF_PASS; off += READBACK_CHUNK) {
		uint32_t n = bytes - off < READBACK_CHUNK ? bytes - off : READBACK_CHUNK;
		struct mirror_readback r;
		struct mirror_miscompare mc;

		v = conf_readback(c, addr + off, n, false, buf, cap, &r);
		if (v != CONF_PASS)
			break;
		if (mirror_readback_compare(&r, addr + off, expect + off, n, &mc) != 0)
			v = mc.invalid ? conf_fail(c, "%s: NVRAM block at 0x%08X reads back invalid; expected valid with the data written",
						   what, (unsigned)mc.nvram_addr)
				       : conf_fail(c, "%s: NVRAM byte 0x%08X reads back 0x%02X; expected 0x%02X (the data written)",
						   what, (unsigned)mc.nvram_addr, mc.got, mc.expected);
	}
	free(buf);
	return v;
}

enum conf_verdict conf_verify_invalid(struct conf_ctx *c, const char *what, uint32_t addr,
				      uint32_t bytes)
{
	size_t cap;
	uint8_t *buf;
	enum conf_verdict v = CONF_PASS;

	if (!c->support.readback)
		return unverified(c, what, addr, bytes, "invalid");
	buf = readback_buffer(&cap);
	if (!buf)
		return conf_fail(c, "out of memory");
	for (uint32_t off = 0; off < bytes && v == CONF_PASS; off += READBACK_CHUNK) {
		uint32_t n = bytes - off < READBACK_CHUNK ? bytes - off : READBACK_CHUNK;
		struct mirror_readback r;

		v = conf_readback(c, addr + off, n, true, buf, cap, &r);
		if (v != CONF_PASS)
			break;
		for (uint32_t i = 0; i < r.blocks; i++)
			if (mirror_readback_block_valid(&r, i)) {
				v = conf_fail(c, "%s: NVRAM block at 0x%08X reads back valid; expected invalid",
					      what, (unsigned)(addr + off + i * MIRROR_BLOCK_SIZE));
				break;
			}
	}
	free(buf);
	return v;
}
