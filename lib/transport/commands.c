/* Command builders and the parse of their answers (commands.h): the one
 * place a struct mirror_cmd is filled for ARRAY TABLE UPDATE, NVRAM
 * READBACK, READ CAPACITY(10), WRITE(10) and a mirror operation. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <mirror/commands.h>
#include <mirror/error.h>

#include "base/bytes.h"

/* SBC-3 opcodes (table 24) and CDB lengths. */
#define OPCODE_READ_CAPACITY10 0x25u
#define OPCODE_WRITE10 0x2Au
#define CDB10_LEN 10u

/* ---- ARRAY TABLE UPDATE ---- */

int mirror_cmd_table_update(struct mirror_cmd *c, const struct mirror_profile *p,
			    const uint8_t *param, uint32_t param_len)
{
	memset(c, 0, sizeof(*c));
	int n = mirror_table_update_cdb_encode(p, param_len, c->cdb, sizeof(c->cdb));
	if (n < 0)
		return n;
	c->cdb_len = (unsigned)n;
	c->dir = MIRROR_DIR_OUT;
	c->data_out = param;
	c->data_out_len = param_len;
	return 0;
}

int mirror_cmd_table_push(struct mirror_cmd *c, const struct mirror_profile *p,
			  const struct mirror_array_table *t, uint8_t *buf, size_t cap)
{
	memset(c, 0, sizeof(*c));
	int len = mirror_table_update_encode(t, buf, cap);
	if (len < 0)
		return len;
	return mirror_cmd_table_update(c, p, buf, (uint32_t)len);
}

/* ---- NVRAM READBACK ---- */

int mirror_cmd_readback(struct mirror_cmd *c, const struct mirror_profile *p, uint32_t nvram_addr,
			uint32_t blocks, bool validity_only, uint8_t *buf, size_t cap)
{
	struct mirror_readback_cdb rb = { p->op.readback,
					  validity_only ? MIRROR_READBACK_FLAG_VALIDITY_ONLY : 0,
					  nvram_addr, blocks };

	memset(c, 0, sizeof(*c));
	if (blocks == 0 || blocks > MIRROR_LARGE_MAX_BLOCKS)
		return -EINVAL;
	size_t need = mirror_readback_response_len(&rb);
	if (cap < need)
		return MIRROR_E_NOSPACE;
	int n = mirror_readback_cdb_encode(p, &rb, c->cdb, sizeof(c->cdb));
	if (n < 0)
		return n;
	c->cdb_len = (unsigned)n;
	c->dir = MIRROR_DIR_IN;
	c->data_in = buf;
	c->data_in_len = (uint32_t)need;
	return 0;
}

int mirror_cmd_readback_parse(const struct mirror_cmd *c, struct mirror_readback *r)
{
	memset(r, 0, sizeof(*r));
	if (c->cdb_len < MIRROR_READBACK_CDB_LEN || !c->data_in)
		return -EINVAL;
	/* What was asked: the CDB's flags (byte 1), address (2-5) and
	 * number of blocks (6-9), wire-profile.md "NVRAM READBACK". */
	bool validity_only = c->cdb[1] & MIRROR_READBACK_FLAG_VALIDITY_ONLY;
	uint32_t addr = get_be32(c->cdb + 2);
	uint32_t blocks = get_be32(c->cdb + 6);
	uint32_t got = c->data_in_got < c->data_in_len ? c->data_in_got : c->data_in_len;
	int rc = mirror_readback_parse(c->data_in, got, validity_only, r);
	if (rc < 0)
		return rc;
	if (r->nvram_addr != addr || r->blocks != blocks)
		return -ERANGE;
	return 0;
}

/* ---- READ CAPACITY(10) ---- */

void mirror_cmd_read_capacity10(struct mirror_cmd *c, uint8_t *buf)
{
	memset(c, 0, sizeof(*c));
	c->cdb[0] = OPCODE_READ_CAPACITY10;
	c->cdb_len = CDB10_LEN;
	c->dir = MIRROR_DIR_IN;
	c->data_in = buf;
	c->data_in_len = MIRROR_READ_CAPACITY10_LEN;
}

int mirror_cmd_read_capacity10_parse(const struct mirror_cmd *c, uint64_t *blocks,
				     uint32_t *block_size)
{
	*blocks = 0;
	*block_size = 0;
	if (!c->data_in || c->data_in_got < MIRROR_READ_CAPACITY10_LEN ||
	    c->data_in_len < MIRROR_READ_CAPACITY10_LEN)
		return MIRROR_E_TRUNCATED;
	/* SBC-3 table 63: RETURNED LOGICAL BLOCK ADDRESS (the last one),
	 * LOGICAL BLOCK LENGTH IN BYTES. */
	uint32_t len = get_be32(c->data_in + 4);
	if (len == 0)
		return -ERANGE;
	*blocks = (uint64_t)get_be32(c->data_in) + 1u;
	*block_size = len;
	return 0;
}

/* ---- WRITE(10) ---- */

void mirror_cmd_write10(struct mirror_cmd *c, uint32_t lba, uint16_t blocks, const uint8_t *data,
			uint32_t len)
{
	memset(c, 0, sizeof(*c));
	/* SBC-3 table 97: LBA in bytes 2-5, TRANSFER LENGTH in 7-8. */
	c->cdb[0] = OPCODE_WRITE10;
	put_be32(c->cdb + 2, lba);
	put_be16(c->cdb + 7, blocks);
	c->cdb_len = CDB10_LEN;
	c->dir = MIRROR_DIR_OUT;
	c->data_out = data;
	c->data_out_len = len;
}

/* ---- a mirror operation ---- */

int mirror_cmd_op(struct mirror_cmd *c, const struct mirror_profile *p, const struct mirror_op *op,
		  const struct mirror_write *w, uint8_t *buf, size_t cap)
{
	uint64_t user = (uint64_t)op->blocks * MIRROR_BLOCK_SIZE;

	memset(c, 0, sizeof(*c));
	if (cap < MIRROR_METADATA_BYTES || user > cap - MIRROR_METADATA_BYTES)
		return MIRROR_E_NOSPACE;
	/* The large path's metadata is the first 1024 bytes of its data-out
	 * (wire-profile.md): encoded in front of the data, in place. */
	int n = mirror_op_encode(p, op, w, c->cdb, sizeof(c->cdb), buf);
	if (n < 0)
		return n;
	c->cdb_len = (unsigned)n;
	c->dir = MIRROR_DIR_OUT;
	if (op->path == MIRROR_PATH_LARGE) {
		c->data_out = buf;
		c->data_out_len = (uint32_t)(MIRROR_METADATA_BYTES + user);
	} else {
		c->data_out = buf + MIRROR_METADATA_BYTES;
		c->data_out_len = (uint32_t)user;
	}
	return 0;
}
