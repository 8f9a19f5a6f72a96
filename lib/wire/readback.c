/* NVRAM READBACK (harness extension, wire-profile.md): lets a test read
 * what the receiver stored and which blocks it holds valid. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <mirror/error.h>
#include <mirror/nvram.h>

#include "base/bytes.h"
#include "wire/rules.h"

int mirror_readback_cdb_encode(const struct mirror_profile *p, const struct mirror_readback_cdb *c,
			       uint8_t *cdb, size_t cap)
{
	if (cap < MIRROR_READBACK_CDB_LEN)
		return MIRROR_E_NOSPACE;
	memset(cdb, 0, MIRROR_READBACK_CDB_LEN);
	cdb[0] = p->op.readback;
	cdb[1] = c->flags;
	put_be32(cdb + 2, c->nvram_addr);
	put_be32(cdb + 6, c->blocks);
	return MIRROR_READBACK_CDB_LEN;
}

int mirror_readback_cdb_decode(const struct mirror_profile *p, const uint8_t *cdb, size_t len,
			       struct mirror_readback_cdb *out, struct mirror_findings *f)
{
	struct mirror_findings local;

	if (!f) {
		f = &local;
		mirror_findings_init(f);
	}
	memset(out, 0, sizeof(*out));
	if (len < MIRROR_READBACK_CDB_LEN) {
		mirror_findings_add(f, MIRROR_RULE_TRUNCATED, true, (unsigned)len, 7,
				    "CDB has %zu bytes; NVRAM READBACK needs 12", len);
		return MIRROR_E_TRUNCATED;
	}
	out->opcode = cdb[0];
	out->flags = cdb[1];
	out->nvram_addr = get_be32(cdb + 2);
	out->blocks = get_be32(cdb + 6);
	if (out->opcode != p->op.readback)
		mirror_findings_add(f, MIRROR_RULE_READBACK_OPCODE, true, 0, 7,
				    "opcode 0x%02X is not NVRAM READBACK (0x%02X)", out->opcode,
				    p->op.readback);
	if (out->flags & ~MIRROR_READBACK_FLAG_VALIDITY_ONLY)
		mirror_findings_add(f, MIRROR_RULE_READBACK_RESERVED, true, 1,
				    mirror_highest_bit(out->flags & (uint8_t)~MIRROR_READBACK_FLAG_VALIDITY_ONLY),
				    "reserved flag bits 0x%02X are set", out->flags);
	uint64_t end = (uint64_t)out->nvram_addr + (uint64_t)out->blocks * MIRROR_BLOCK_SIZE;
	if (out->nvram_addr % MIRROR_BLOCK_SIZE || out->nvram_addr >= p->nvram_size)
		mirror_findings_add(f, MIRROR_RULE_READBACK_ADDR, true, 2, 7,
				    "NVRAM address 0x%08X is %s", (unsigned)out->nvram_addr,
				    out->nvram_addr % MIRROR_BLOCK_SIZE ? "not a multiple of 512"
									: "beyond the NVRAM");
	if (out->blocks == 0 || out->blocks > MIRROR_LARGE_MAX_BLOCKS)
		mirror_findings_add(f, MIRROR_RULE_READBACK_BLOCKS, true, 6, 7,
				    "number of blocks %u is not 1..2048", (unsigned)out->blocks);
	else if (end > p->nvram_size && out->nvram_addr < p->nvram_size)
		mirror_findings_add(f, MIRROR_RULE_READBACK_BLOCKS, true, 6, 7,
				    "range ends at 0x%llX, beyond the NVRAM", (unsigned long long)end);
	if (cdb[10])
		mirror_findings_add(f, MIRROR_RULE_READBACK_RESERVED, true, 10,
				    mirror_highest_bit(cdb[10]), "reserved byte 10 = 0x%02X is not zero",
				    cdb[10]);
	mirror_findings_sort(f);
	return mirror_findings_result(f);
}

size_t mirror_readback_bitmap_len(uint32_t blocks)
{
	return ((size_t)blocks + 31) / 32 * 4;
}

size_t mirror_readback_response_len(const struct mirror_readback_cdb *c)
{
	size_t n = MIRROR_READBACK_HEADER_BYTES + mirror_readback_bitmap_len(c->blocks);
	if (!(c->flags & MIRROR_READBACK_FLAG_VALIDITY_ONLY))
		n += (size_t)c->blocks * MIRROR_BLOCK_SIZE;
	return n;
}

int mirror_readback_build(const struct mirror_nvram *nv, const struct mirror_readback_cdb *c,
			  uint8_t *buf, size_t cap)
{
	size_t need = mirror_readback_response_len(c);
	uint32_t bytes;

	if (c->blocks == 0 || c->blocks > MIRROR_LARGE_MAX_BLOCKS)
		return -EINVAL;
	bytes = c->blocks * MIRROR_BLOCK_SIZE;
	if (c->nvram_addr % MIRROR_BLOCK_SIZE || (uint64_t)c->nvram_addr + bytes > nv->size)
		return -ERANGE;
	if (cap < need)
		return MIRROR_E_NOSPACE;
	memset(buf, 0, MIRROR_READBACK_HEADER_BYTES + mirror_readback_bitmap_len(c->blocks));
	put_be32(buf, c->nvram_addr);
	put_be32(buf + 4, c->blocks);
	put_be32(buf + 8, nv->size);
	uint8_t *bm = buf + MIRROR_READBACK_HEADER_BYTES;
	uint32_t first = c->nvram_addr / MIRROR_BLOCK_SIZE, valid = 0;
	for (uint32_t i = 0; i < c->blocks; i++) {
		if (mirror_nvram_block_valid(nv, first + i)) {
			bm[i / 8] |= (uint8_t)(0x80u >> (i % 8));
			valid++;
		}
	}
	put_be32(buf + 12, valid);
	if (!(c->flags & MIRROR_READBACK_FLAG_VALIDITY_ONLY))
		memcpy(bm + mirror_readback_bitmap_len(c->blocks), nv->data + c->nvram_addr, bytes);
	return (int)need;
}

int mirror_readback_parse(const uint8_t *buf, size_t len, bool validity_only,
			  struct mirror_readback *out)
{
	memset(out, 0, sizeof(*out));
	if (len < MIRROR_READBACK_HEADER_BYTES)
		return MIRROR_E_TRUNCATED;
	out->nvram_addr = get_be32(buf);
	out->blocks = get_be32(buf + 4);
	out->nvram_size = get_be32(buf + 8);
	out->valid_blocks = get_be32(buf + 12);
	if (out->blocks == 0 || out->blocks > MIRROR_LARGE_MAX_BLOCKS || out->valid_blocks > out->blocks)
		return -EINVAL;
	size_t bml = mirror_readback_bitmap_len(out->blocks);
	size_t need = MIRROR_READBACK_HEADER_BYTES + bml +
		      (validity_only ? 0 : (size_t)out->blocks * MIRROR_BLOCK_SIZE);
	if (len < need)
		return MIRROR_E_TRUNCATED;
	out->bitmap = buf + MIRROR_READBACK_HEADER_BYTES;
	out->data = validity_only ? NULL : out->bitmap + bml;
	return 0;
}

bool mirror_readback_block_valid(const struct mirror_readback *r, uint32_t i)
{
	if (!r->bitmap || i >= r->blocks)
		return false;
	return (r->bitmap[i / 8] >> (7 - i % 8)) & 1u;
}
