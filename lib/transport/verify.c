/* mirror-send --verify (sender.h): every range a write's ops stored read
 * back with NVRAM READBACK and compared with the data sent (source Fig. 5
 * blocks 516-524: stored, then marked valid). */
#include "config.h"

#include <json-c/json.h>

#include <mirror/commands.h>
#include <mirror/error.h>
#include <mirror/exit_status.h>
#include <mirror/sender.h>

static void add_int(struct json_object *o, const char *key, int64_t v)
{
	json_object_object_add(o, key, json_object_new_int64(v));
}

/* The first difference, as text or as a JSON "miscompare" object (stdout
 * then carries JSON only). */
static void report_miscompare(const struct mirror_send_view *v, size_t op_number,
			      const struct mirror_miscompare *mc, uint32_t lba)
{
	if (v->json) {
		struct json_object *mo = json_object_new_object();
		json_object_object_add(mo, "kind", json_object_new_string("miscompare"));
		add_int(mo, "op", (int64_t)op_number);
		add_int(mo, "nvram_addr", mc->nvram_addr);
		add_int(mo, "lba", lba);
		json_object_object_add(mo, "invalid", json_object_new_boolean(mc->invalid));
		add_int(mo, "expected", mc->expected);
		add_int(mo, "got", mc->got);
		add_int(mo, "exit_status", MIRROR_EXIT_MISCOMPARE);
		mirror_json_print_line(v->out, mo);
	} else if (mc->invalid) {
		fprintf(v->out, "MISCOMPARE at NVRAM 0x%08X (LBA %u): the block is not marked valid\n",
			(unsigned)mc->nvram_addr, (unsigned)lba);
	} else {
		fprintf(v->out, "MISCOMPARE at NVRAM 0x%08X (LBA %u): expected 0x%02X, got 0x%02X\n",
			(unsigned)mc->nvram_addr, (unsigned)lba, mc->expected, mc->got);
	}
	fflush(v->out);
}

/* One range of op number k (from 1): read back, checked, compared. */
static int verify_range(struct mirror_transport *t, const struct mirror_send_view *v, size_t k,
			const struct mirror_op *op, const struct mirror_op_range *r,
			const uint8_t *write_data, uint8_t *buf)
{
	uint32_t blocks = r->bytes / MIRROR_BLOCK_SIZE;
	struct mirror_cmd c;
	int rc = mirror_cmd_readback(&c, v->profile, r->nvram_addr, blocks, false, buf,
				     MIRROR_READBACK_BUF_MAX);

	if (rc < 0) {
		fprintf(v->err, "%s: cannot build NVRAM READBACK of %u blocks at 0x%08X: %s\n",
			v->prog, (unsigned)blocks, (unsigned)r->nvram_addr, mirror_strerror(rc));
		return MIRROR_EXIT_LOGIC_ERROR;
	}
	struct json_object *jo = NULL;
	if (v->json) {
		jo = json_object_new_object();
		json_object_object_add(jo, "kind", json_object_new_string("verify"));
		add_int(jo, "op", (int64_t)k);
		add_int(jo, "opcode", c.cdb[0]);
		add_int(jo, "nvram_addr", r->nvram_addr);
		add_int(jo, "blocks", blocks);
		mirror_json_add_hex(jo, "cdb", c.cdb, c.cdb_len);
	} else {
		fprintf(v->out, "verify op %zu: NVRAM 0x%08X, %u blocks\n", k,
			(unsigned)r->nvram_addr, (unsigned)blocks);
		if (v->verbose)
			mirror_send_print_cdb(v, c.cdb, c.cdb_len);
	}
	int status = mirror_send_report(t, v, &c, jo, "harness command NVRAM READBACK",
					MIRROR_SEND_MIRROR_STATUS | MIRROR_SEND_EXPLAIN);
	if (status != MIRROR_EXIT_OK) {
		if (mirror_cmd_invalid_opcode(&c))
			fprintf(v->err, "%s: --verify needs NVRAM READBACK\n", v->prog);
		return status;
	}
	struct mirror_readback rb;
	if (mirror_cmd_readback_parse(&c, &rb) < 0) {
		fprintf(v->err, "%s: malformed NVRAM READBACK response (%u bytes) for NVRAM 0x%08X\n",
			v->prog, (unsigned)c.data_in_got, (unsigned)r->nvram_addr);
		return MIRROR_EXIT_MALFORMED;
	}
	struct mirror_miscompare mc;
	const uint8_t *expect = write_data + op->data_offset + r->data_offset;
	if (mirror_readback_compare(&rb, r->nvram_addr, expect, r->bytes, &mc) != 0) {
		uint32_t lba = op->lba +
			       (r->data_offset + (mc.nvram_addr - r->nvram_addr)) / MIRROR_BLOCK_SIZE;
		report_miscompare(v, k, &mc, lba);
		return MIRROR_EXIT_MISCOMPARE;
	}
	return MIRROR_EXIT_OK;
}

int mirror_send_verify(struct mirror_transport *t, const struct mirror_send_view *v,
		       const struct mirror_op *ops, size_t nops, const uint8_t *write_data,
		       uint8_t *buf)
{
	uint64_t ranges = 0, bytes = 0;

	for (size_t k = 0; k < nops; k++) {
		struct mirror_op_range r[MIRROR_METADATA_SG_MAX];
		unsigned nr = mirror_op_ranges(&ops[k], r, MIRROR_METADATA_SG_MAX);
		for (unsigned i = 0; i < nr; i++) {
			int status = verify_range(t, v, k + 1, &ops[k], &r[i], write_data, buf);
			if (status != MIRROR_EXIT_OK)
				return status;
			ranges++;
			bytes += r[i].bytes;
		}
	}
	if (!v->json)
		fprintf(v->out, "verify: %llu range%s, %llu bytes stored and valid\n",
			(unsigned long long)ranges, ranges == 1 ? "" : "s",
			(unsigned long long)bytes);
	return MIRROR_EXIT_OK;
}
