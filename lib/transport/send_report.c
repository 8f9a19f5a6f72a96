/* mirror-send's report of the commands it sends (sender.h): each command
 * described, sent, its outcome shown as text or one JSON object per line,
 * and an answer that means "no mirror receiver" explained. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <mirror/codec.h>
#include <mirror/commands.h>
#include <mirror/decode.h>
#include <mirror/error.h>
#include <mirror/exit_status.h>
#include <mirror/sender.h>

/* ---- JSON helpers ---- */

void mirror_json_add_hex(struct json_object *obj, const char *key, const uint8_t *buf, size_t n)
{
	char *hex = malloc(2 * n + 1);

	if (!hex)
		return;
	hex[0] = '\0';
	for (size_t i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", buf[i]);
	json_object_object_add(obj, key, json_object_new_string(hex));
	free(hex);
}

void mirror_json_print_line(FILE *out, struct json_object *obj)
{
	fprintf(out, "%s\n", json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
							       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(obj);
}

static void add_int(struct json_object *o, const char *key, int64_t v)
{
	json_object_object_add(o, key, json_object_new_int64(v));
}

static void add_str(struct json_object *o, const char *key, const char *s)
{
	json_object_object_add(o, key, json_object_new_string(s));
}

/* ---- one command ---- */

int mirror_send_report(struct mirror_transport *t, const struct mirror_send_view *v,
		       struct mirror_cmd *c, struct json_object *jo, const char *what, unsigned flags)
{
	const char *terr;
	int status;

	mirror_transport_run(t, c);
	terr = mirror_transport_error(t);
	status = flags & MIRROR_SEND_MIRROR_STATUS ? mirror_cmd_mirror_exit_status(v->profile, c)
						   : mirror_cmd_exit_status(c);
	bool data_in = (flags & MIRROR_SEND_SHOW_DATA_IN) && c->dir == MIRROR_DIR_IN && c->result == 0;
	if (v->json) {
		if (!jo)
			jo = json_object_new_object();
		mirror_json_add_outcome(jo, c, terr);
		if (status != mirror_cmd_exit_status(c))
			add_int(jo, "exit_status", status);
		if (status == MIRROR_EXIT_MALFORMED)
			add_int(jo, "data_in_unexpected", c->data_in_got);
		if (data_in) {
			add_int(jo, "data_in_length", c->data_in_got);
			mirror_json_add_hex(jo, "data_in", c->data_in, c->data_in_got);
		}
		mirror_json_print_line(v->out, jo);
	} else {
		json_object_put(jo);
		mirror_print_outcome(v->out, c, terr, 2, v->verbose);
		if (data_in && c->data_in_got) {
			fprintf(v->out, "  received %u bytes of data-in:\n", (unsigned)c->data_in_got);
			mirror_print_hex_ascii(v->out, c->data_in, c->data_in_got, 4);
		}
	}
	/* The explanation comes last, after what it explains. */
	fflush(v->out);
	char line[768];
	if (status != MIRROR_EXIT_OK && (flags & MIRROR_SEND_EXPLAIN) &&
	    mirror_cmd_explain(v->profile, c, what, line, sizeof(line)))
		fprintf(v->err, "%s: %s\n", v->prog, line);
	return status;
}

void mirror_send_print_cdb(const struct mirror_send_view *v, const uint8_t *cdb, unsigned len)
{
	struct mirror_decoded_cdb d;
	struct mirror_findings f;
	struct mirror_check_ctx ctx = MIRROR_CHECK_CTX_INIT;

	mirror_findings_init(&f);
	mirror_cdb_decode(v->profile, cdb, len, &ctx, &d, &f);
	mirror_print_cdb(v->out, v->profile, &d, cdb, &f, v->verbose);
}

/* ---- ARRAY TABLE UPDATE ---- */

int mirror_send_table(struct mirror_transport *t, const struct mirror_send_view *v, uint8_t volume,
		      uint64_t array_serial, uint8_t array_number)
{
	struct mirror_array_table tab;
	uint8_t param[MIRROR_TABLE_MAX_BYTES];
	struct mirror_cmd c;
	char serial[17];

	mirror_array_table_init(&tab);
	mirror_array_table_add(&tab, volume, array_serial, array_number);
	int rc = mirror_cmd_table_push(&c, v->profile, &tab, param, sizeof(param));
	if (rc < 0) {
		fprintf(v->err, "%s: cannot encode ARRAY TABLE UPDATE: %s\n", v->prog,
			mirror_strerror(rc));
		return MIRROR_EXIT_LOGIC_ERROR;
	}
	snprintf(serial, sizeof(serial), "%016llx", (unsigned long long)array_serial);
	struct json_object *jo = NULL;
	if (v->json) {
		jo = json_object_new_object();
		add_str(jo, "kind", "array_table_update");
		add_int(jo, "opcode", c.cdb[0]);
		add_int(jo, "volume", volume);
		add_int(jo, "array_number", array_number);
		add_str(jo, "array_serial", serial);
		mirror_json_add_hex(jo, "cdb", c.cdb, c.cdb_len);
	} else {
		fprintf(v->out, "array table update: volume %u -> array serial %s, array number %u\n",
			volume, serial, array_number);
		mirror_send_print_cdb(v, c.cdb, c.cdb_len);
	}
	return mirror_send_report(t, v, &c, jo, "harness command ARRAY TABLE UPDATE",
				  MIRROR_SEND_MIRROR_STATUS | MIRROR_SEND_EXPLAIN);
}

/* ---- one op of a write ---- */

static struct json_object *op_json(const struct mirror_op *op, const struct mirror_cmd *c,
				   unsigned index, unsigned round, unsigned rounds)
{
	struct json_object *jo = json_object_new_object();
	struct json_object *sg = json_object_new_array();

	add_str(jo, "kind", "mirror_write");
	add_int(jo, "op", index);
	if (rounds > 1)
		add_int(jo, "round", round);
	add_str(jo, "path", mirror_path_name(op->path));
	add_str(jo, "why", op->why.text);
	add_int(jo, "opcode", c->cdb[0]);
	add_int(jo, "lba", op->lba);
	add_int(jo, "blocks", op->blocks);
	add_int(jo, "region", op->region);
	if (op->path == MIRROR_PATH_LARGE)
		add_int(jo, "sequence", op->sequence);
	for (unsigned i = 0; i < op->sg_count; i++) {
		struct json_object *e = json_object_new_object();
		add_int(e, "nvram_addr", op->sg[i].nvram_addr);
		add_int(e, "bytes", op->sg[i].bytes);
		json_object_array_add(sg, e);
	}
	json_object_object_add(jo, "sg", sg);
	mirror_json_add_hex(jo, "cdb", c->cdb, c->cdb_len);
	add_int(jo, "data_out_length", c->data_out_len);
	return jo;
}

static void op_text(const struct mirror_send_view *v, const struct mirror_op *op,
		    const struct mirror_cmd *c, const uint8_t *buf, unsigned index, unsigned round,
		    unsigned rounds)
{
	FILE *out = v->out;

	fprintf(out, "op %u: %s path, LBA %u, %u blocks (%u bytes), NVRAM 0x%08X, %u S/G element%s"
		" [%s]\n", index, mirror_path_name(op->path), (unsigned)op->lba,
		(unsigned)op->blocks, (unsigned)op->blocks * MIRROR_BLOCK_SIZE,
		(unsigned)op->sg[0].nvram_addr, op->sg_count, op->sg_count == 1 ? "" : "s",
		op->why.text);
	if (rounds > 1)
		fprintf(out, "  round %u of %u\n", round, rounds);
	mirror_send_print_cdb(v, c->cdb, c->cdb_len);
	if (op->path != MIRROR_PATH_LARGE)
		return;
	struct mirror_metadata m;
	struct mirror_findings f;
	struct mirror_check_ctx ctx = MIRROR_CHECK_CTX_INIT;
	mirror_findings_init(&f);
	mirror_metadata_decode(v->profile, buf, MIRROR_METADATA_BYTES, &ctx, &m, &f);
	if (v->verbose > 1)
		mirror_print_metadata(out, &m, buf, MIRROR_METADATA_BYTES, &f, v->verbose - 1);
	else
		fprintf(out, "  metadata: sequence %u, array serial %016llx, array number %u, "
			"region %u, %u S/G element%s\n", (unsigned)m.sequence,
			(unsigned long long)m.array_serial, m.array_number, m.region, m.sg_count,
			m.sg_count == 1 ? "" : "s");
}

int mirror_send_op(struct mirror_transport *t, const struct mirror_send_view *v,
		   const struct mirror_op *op, const struct mirror_write *w,
		   const uint8_t *write_data, uint8_t *buf, unsigned index, unsigned round,
		   unsigned rounds)
{
	size_t user = (size_t)op->blocks * MIRROR_BLOCK_SIZE;
	struct mirror_cmd c;
	int rc = MIRROR_E_NOSPACE;

	if (op->data_offset + user <= w->bytes &&
	    MIRROR_METADATA_BYTES + user <= MIRROR_OP_DATA_OUT_MAX) {
		memcpy(buf + MIRROR_METADATA_BYTES, write_data + op->data_offset, user);
		rc = mirror_cmd_op(&c, v->profile, op, w, buf, MIRROR_OP_DATA_OUT_MAX);
	}
	if (rc < 0) {
		/* A forced small path whose elements do not fit the CDB. */
		fprintf(v->err, "%s: op %u cannot be encoded on the %s path: %s\n", v->prog, index,
			mirror_path_name(op->path), mirror_strerror(rc));
		return MIRROR_EXIT_SYNTAX;
	}
	struct json_object *jo = NULL;
	if (v->json)
		jo = op_json(op, &c, index, round, rounds);
	else
		op_text(v, op, &c, buf, index, round, rounds);
	return mirror_send_report(t, v, &c, jo, "mirror command",
				  MIRROR_SEND_MIRROR_STATUS | MIRROR_SEND_EXPLAIN);
}

/* ---- a raw command ---- */

int mirror_send_raw(struct mirror_transport *t, const struct mirror_send_view *v,
		    struct mirror_cmd *c, unsigned round, unsigned rounds)
{
	static const char *const dir_name[] = { "none", "data-out", "data-in" };
	/* Decode and explain the CDB only where it is a mirror command in
	 * both opcode and direction: a data-in 0xA0 is REPORT LUNS, not a
	 * small write. */
	enum mirror_command kind = mirror_command_of(v->profile, c->cdb[0]);
	bool mirror = kind == MIRROR_CMD_READBACK ? c->dir == MIRROR_DIR_IN
						  : kind != MIRROR_CMD_NONE && c->dir == MIRROR_DIR_OUT;
	const char *dir = (unsigned)c->dir < 3 ? dir_name[c->dir] : "?";
	struct json_object *jo = NULL;

	if (v->json) {
		jo = json_object_new_object();
		add_str(jo, "kind", "raw");
		if (rounds > 1)
			add_int(jo, "round", round);
		add_int(jo, "opcode", c->cdb[0]);
		mirror_json_add_hex(jo, "cdb", c->cdb, c->cdb_len);
		add_str(jo, "direction", dir);
		add_int(jo, "data_out_length", c->data_out_len);
	} else {
		fprintf(v->out, "CDB:");
		for (unsigned i = 0; i < c->cdb_len; i++)
			fprintf(v->out, " %02x", c->cdb[i]);
		fprintf(v->out, "  (%s", dir);
		if (c->dir == MIRROR_DIR_OUT)
			fprintf(v->out, ", %u bytes", (unsigned)c->data_out_len);
		else if (c->dir == MIRROR_DIR_IN)
			fprintf(v->out, ", up to %u bytes", (unsigned)c->data_in_len);
		fprintf(v->out, ")\n");
		if (mirror && v->verbose)
			mirror_send_print_cdb(v, c->cdb, c->cdb_len);
	}
	return mirror_send_report(t, v, c, jo,
				  kind == MIRROR_CMD_READBACK || kind == MIRROR_CMD_TABLE_UPDATE
					  ? "harness command" : "mirror command",
				  MIRROR_SEND_SHOW_DATA_IN | (mirror ? MIRROR_SEND_EXPLAIN : 0));
}
