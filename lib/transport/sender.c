/* The sender's side beyond codec and splitter: test data, an op's data-out,
 * verification by NVRAM READBACK, and a command's outcome as text and
 * JSON (sender.h). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <scsi/sg_lib.h>

#include <mirror/error.h>
#include <mirror/exit_status.h>
#include <mirror/sender.h>
#include <mirror/sense.h>

#include "base/bytes.h"

/* ---- test data ---- */

int mirror_pattern_parse(const char *s, struct mirror_pattern *p, char *why, size_t why_len)
{
	char *end;

	memset(p, 0, sizeof(*p));
	if (!s || !*s) {
		snprintf(why, why_len, "empty pattern (lba, 0xNN or random:SEED)");
		return -EINVAL;
	}
	if (strcmp(s, "lba") == 0) {
		p->kind = MIRROR_PATTERN_LBA;
		return 0;
	}
	if (strncmp(s, "random:", 7) == 0) {
		const char *seed = s + 7;
		/* strtoull accepts a sign; a seed starts with a digit. */
		if (!isdigit((unsigned char)*seed)) {
			snprintf(why, why_len, "pattern '%s': the seed must be a number", s);
			return -EINVAL;
		}
		errno = 0;
		p->seed = strtoull(seed, &end, 0);
		if (errno || *end) {
			snprintf(why, why_len, "pattern '%s': the seed must be a number", s);
			return -EINVAL;
		}
		p->kind = MIRROR_PATTERN_RANDOM;
		return 0;
	}
	if (!isdigit((unsigned char)*s)) {
		snprintf(why, why_len, "pattern '%s' is none of lba, 0xNN, random:SEED", s);
		return -EINVAL;
	}
	errno = 0;
	unsigned long v = strtoul(s, &end, 0);
	if (errno || *end || v > 0xff) {
		snprintf(why, why_len, "pattern '%s': a byte is 0x00..0xFF", s);
		return -EINVAL;
	}
	p->kind = MIRROR_PATTERN_BYTE;
	p->byte = (uint8_t)v;
	return 0;
}

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static void fill_block(const struct mirror_pattern *p, uint64_t lba, uint8_t blk[MIRROR_BLOCK_SIZE])
{
	switch (p->kind) {
	case MIRROR_PATTERN_BYTE:
		memset(blk, p->byte, MIRROR_BLOCK_SIZE);
		break;
	case MIRROR_PATTERN_RANDOM: {
		uint64_t st = p->seed ^ (lba * 0xD1B54A32D192ED03ull);
		for (unsigned i = 0; i < MIRROR_BLOCK_SIZE; i += 8)
			put_be64(blk + i, splitmix64(&st));
		break;
	}
	case MIRROR_PATTERN_LBA:
	default:
		for (unsigned i = 4; i < MIRROR_BLOCK_SIZE; i++)
			blk[i] = (uint8_t)i;
		put_be32(blk, (uint32_t)lba);
		break;
	}
}

void mirror_pattern_fill(const struct mirror_pattern *p, uint64_t lba, uint8_t *buf, size_t len)
{
	uint8_t blk[MIRROR_BLOCK_SIZE];

	for (size_t off = 0; off < len; off += MIRROR_BLOCK_SIZE, lba++) {
		size_t n = len - off < MIRROR_BLOCK_SIZE ? len - off : MIRROR_BLOCK_SIZE;
		if (n == MIRROR_BLOCK_SIZE) {
			fill_block(p, lba, buf + off);
		} else {
			fill_block(p, lba, blk);
			memcpy(buf + off, blk, n);
		}
	}
}

int mirror_data_read(const char *path, uint8_t *buf, size_t cap, size_t *len)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	size_t n = 0;
	int rc = 0;

	*len = 0;
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

/* ---- an operation on the wire ---- */

int mirror_op_build(const struct mirror_profile *p, const struct mirror_op *op,
		    const struct mirror_write *w, const uint8_t *write_data, uint8_t *buf,
		    size_t cap, struct mirror_op_wire *out)
{
	size_t user = (size_t)op->blocks * MIRROR_BLOCK_SIZE;
	size_t md = op->path == MIRROR_PATH_LARGE ? MIRROR_METADATA_BYTES : 0;
	uint8_t scratch[MIRROR_METADATA_BYTES];
	int rc;

	memset(out, 0, sizeof(*out));
	if (cap < md + user || op->data_offset + user > w->bytes)
		return MIRROR_E_NOSPACE;
	/* The metadata is the first 1024 bytes of the large path's data-out
	 * (wire-profile.md): encode it in place. */
	rc = mirror_op_encode(p, op, w, out->cdb, sizeof(out->cdb), md ? buf : scratch);
	if (rc < 0)
		return rc;
	out->cdb_len = (unsigned)rc;
	memcpy(buf + md, write_data + op->data_offset, user);
	out->data_out_len = md + user;
	return rc;
}

unsigned mirror_op_ranges(const struct mirror_op *op, struct mirror_op_range *out, unsigned cap)
{
	unsigned n = 0;
	uint32_t off = 0;

	for (unsigned i = 0; i < op->sg_count; i++) {
		const struct mirror_sg_element *e = &op->sg[i];
		if (n && out[n - 1].nvram_addr + out[n - 1].bytes == e->nvram_addr) {
			out[n - 1].bytes += e->bytes;
		} else {
			if (n == cap)
				break;
			out[n].nvram_addr = e->nvram_addr;
			out[n].bytes = e->bytes;
			out[n].data_offset = off;
			n++;
		}
		off += e->bytes;
	}
	return n;
}

/* ---- verification ---- */

int mirror_readback_compare(const struct mirror_readback *r, uint32_t addr, const uint8_t *expect,
			    uint32_t bytes, struct mirror_miscompare *mc)
{
	memset(mc, 0, sizeof(*mc));
	if (!r->data || addr < r->nvram_addr || addr % MIRROR_BLOCK_SIZE ||
	    (uint64_t)addr + bytes > (uint64_t)r->nvram_addr + (uint64_t)r->blocks * MIRROR_BLOCK_SIZE)
		return -EINVAL;
	uint32_t first = (addr - r->nvram_addr) / MIRROR_BLOCK_SIZE;
	for (uint32_t done = 0; done < bytes; done += MIRROR_BLOCK_SIZE) {
		uint32_t blk = first + done / MIRROR_BLOCK_SIZE;
		uint32_t n = bytes - done < MIRROR_BLOCK_SIZE ? bytes - done : MIRROR_BLOCK_SIZE;
		const uint8_t *got = r->data + (size_t)blk * MIRROR_BLOCK_SIZE;
		if (!mirror_readback_block_valid(r, blk)) {
			mc->nvram_addr = addr + done;
			mc->invalid = true;
			mc->expected = expect[done];
			mc->got = got[0];
			return 1;
		}
		for (uint32_t i = 0; i < n; i++) {
			if (got[i] != expect[done + i]) {
				mc->nvram_addr = addr + done + i;
				mc->expected = expect[done + i];
				mc->got = got[i];
				return 1;
			}
		}
	}
	return 0;
}

/* ---- a command's outcome ---- */

bool mirror_cmd_invalid_opcode(const struct mirror_cmd *c)
{
	return c->result == 0 && c->status == MIRROR_STATUS_CHECK_CONDITION && c->sense_len &&
	       c->sense_parsed.key == MIRROR_SK_ILLEGAL_REQUEST && c->sense_parsed.asc == 0x20 &&
	       c->sense_parsed.ascq == 0x00;
}

static void print_hex_line(FILE *out, const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		fprintf(out, "%s%02x", i ? " " : "", buf[i]);
}

void mirror_print_outcome(FILE *out, const struct mirror_cmd *c, const char *transport_error,
			  unsigned indent, int verbose)
{
	int in = (int)indent;

	if (c->result < 0) {
		fprintf(out, "%*s%s: %s\n", in, "",
			c->result == -ETIMEDOUT ? "timeout" : "transport error",
			transport_error && *transport_error ? transport_error
							    : mirror_strerror(c->result));
	} else {
		fprintf(out, "%*sstatus: %s (0x%02x)\n", in, "", mirror_status_name(c->status),
			c->status);
		if (c->sense_len) {
			char line[256];
			char text[2048];
			mirror_sense_describe(&c->sense_parsed, line, sizeof(line));
			fprintf(out, "%*ssense: %s\n", in, "", line);
			/* sg3_utils' full decoding, as sg_raw prints it. */
			char lead[40];
			snprintf(lead, sizeof(lead), "%*s  ", in, "");
			sg_get_sense_str(lead, c->sense, (int)c->sense_len, false, (int)sizeof(text),
					 text);
			/* It may end in a line holding only the lead-in. */
			size_t n = strlen(text);
			while (n && (text[n - 1] == ' ' || text[n - 1] == '\n'))
				text[--n] = '\0';
			if (n)
				fprintf(out, "%s\n", text);
			fprintf(out, "%*ssense bytes: ", in, "");
			print_hex_line(out, c->sense, c->sense_len);
			fputc('\n', out);
		} else if (c->status == MIRROR_STATUS_CHECK_CONDITION) {
			fprintf(out, "%*ssense: none delivered\n", in, "");
		}
		if (c->residual > 0)
			fprintf(out, "%*sresidual: %d bytes not transferred (underflow)\n", in, "",
				(int)c->residual);
		else if (c->residual < 0)
			fprintf(out, "%*sresidual: %d bytes more than expected (overflow)\n", in, "",
				-(int)c->residual);
	}
	if (verbose > 0 || c->result >= 0)
		fprintf(out, "%*slatency: %llu us\n", in, "",
			(unsigned long long)((c->duration_ns + 500) / 1000));
}

static void add_int(struct json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

void mirror_json_add_outcome(struct json_object *obj, const struct mirror_cmd *c,
			     const char *transport_error)
{
	if (c->result < 0) {
		json_object_object_add(obj, "status", NULL);
		json_object_object_add(obj, "status_byte", NULL);
		json_object_object_add(obj, "sense", NULL);
		json_object_object_add(obj, "error",
				       json_object_new_string(transport_error && *transport_error
								      ? transport_error
								      : mirror_strerror(c->result)));
	} else {
		json_object_object_add(obj, "status",
				       json_object_new_string(mirror_status_name(c->status)));
		add_int(obj, "status_byte", c->status);
		if (c->sense_len) {
			const struct mirror_sense *s = &c->sense_parsed;
			struct json_object *so = json_object_new_object();
			char text[256], hex[3 * sizeof(c->sense) + 1];
			add_int(so, "key", s->key);
			add_int(so, "asc", s->asc);
			add_int(so, "ascq", s->ascq);
			json_object_object_add(so, "sksv", json_object_new_boolean(s->sksv));
			json_object_object_add(so, "cd", json_object_new_boolean(s->cd));
			/* field and bit mean something only with SKSV (and BPV). */
			if (s->sksv) {
				add_int(so, "field", s->field);
				if (s->bpv)
					add_int(so, "bit", s->bit);
				else
					json_object_object_add(so, "bit", NULL);
			} else {
				json_object_object_add(so, "field", NULL);
				json_object_object_add(so, "bit", NULL);
			}
			mirror_sense_describe(s, text, sizeof(text));
			json_object_object_add(so, "description", json_object_new_string(text));
			size_t n = 0;
			for (unsigned i = 0; i < c->sense_len; i++)
				n += (size_t)snprintf(hex + n, sizeof(hex) - n, "%02x", c->sense[i]);
			json_object_object_add(so, "raw", json_object_new_string(hex));
			json_object_object_add(obj, "sense", so);
		} else {
			json_object_object_add(obj, "sense", NULL);
		}
	}
	add_int(obj, "residual", c->residual);
	add_int(obj, "latency_us", (int64_t)((c->duration_ns + 500) / 1000));
	add_int(obj, "exit_status", mirror_cmd_exit_status(c));
}

void mirror_print_hex_ascii(FILE *out, const uint8_t *buf, size_t len, unsigned indent)
{
	for (size_t i = 0; i < len; i += 16) {
		fprintf(out, "%*s%04zx:", (int)indent, "", i);
		for (size_t j = i; j < i + 16; j++) {
			if (j < len)
				fprintf(out, "%s%02x", j == i + 8 ? "  " : " ", buf[j]);
			else
				fprintf(out, "%s  ", j == i + 8 ? "  " : " ");
		}
		fputs("  ", out);
		for (size_t j = i; j < i + 16 && j < len; j++)
			fputc(isprint(buf[j]) ? buf[j] : '.', out);
		fputc('\n', out);
	}
}
