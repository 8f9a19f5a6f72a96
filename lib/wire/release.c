/* MIRROR RELEASE (harness extension, include/mirror/nvram.h): the
 * partner's copies of destaged writes are released. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <mirror/error.h>
#include <mirror/nvram.h>

#include "base/bytes.h"
#include "wire/rules.h"

int mirror_release_cdb_encode(const struct mirror_profile *p, uint32_t param_len, uint8_t *cdb,
			      size_t cap)
{
	if (cap < MIRROR_RELEASE_CDB_LEN)
		return MIRROR_E_NOSPACE;
	if (param_len > 0xffffffu)
		return MIRROR_E_FIELD_WIDTH;
	memset(cdb, 0, MIRROR_RELEASE_CDB_LEN);
	cdb[0] = p->op.release;
	put_be24(cdb + 6, param_len);
	return MIRROR_RELEASE_CDB_LEN;
}

int mirror_release_cdb_decode(const struct mirror_profile *p, const uint8_t *cdb, size_t len,
			      uint32_t *param_len, struct mirror_findings *f)
{
	struct mirror_findings local;

	if (!f) {
		f = &local;
		mirror_findings_init(f);
	}
	*param_len = 0;
	if (len < MIRROR_RELEASE_CDB_LEN) {
		mirror_findings_add(f, MIRROR_RULE_TRUNCATED, true, (unsigned)len, 7,
				    "CDB has %zu bytes; MIRROR RELEASE needs 10", len);
		return MIRROR_E_TRUNCATED;
	}
	if (cdb[0] != p->op.release)
		mirror_findings_add(f, MIRROR_RULE_RELEASE_OPCODE, true, 0, 7,
				    "opcode 0x%02X is not MIRROR RELEASE (0x%02X)", cdb[0], p->op.release);
	for (unsigned i = 1; i <= 5; i++) {
		if (cdb[i]) {
			mirror_findings_add(f, MIRROR_RULE_RELEASE_CDB_RESERVED, true, i,
					    mirror_highest_bit(cdb[i]), "reserved byte %u is 0x%02X", i,
					    cdb[i]);
			break;
		}
	}
	*param_len = get_be24(cdb + 6);
	if (*param_len < MIRROR_RELEASE_HEADER_BYTES || *param_len > MIRROR_RELEASE_MAX_BYTES ||
	    (*param_len - MIRROR_RELEASE_HEADER_BYTES) % MIRROR_RELEASE_RANGE_BYTES)
		mirror_findings_add(f, MIRROR_RULE_RELEASE_PARAM_LEN, true, 6, 7,
				    "parameter list length %u is not an 8-byte header and 1..%u "
				    "8-byte ranges", (unsigned)*param_len, MIRROR_RELEASE_RANGES_MAX);
	return mirror_findings_result(f);
}

int mirror_release_encode(const struct mirror_release *r, uint8_t *buf, size_t cap)
{
	size_t len;

	if (r->count == 0 || r->count > MIRROR_RELEASE_RANGES_MAX)
		return -EINVAL;
	len = MIRROR_RELEASE_HEADER_BYTES + (size_t)r->count * MIRROR_RELEASE_RANGE_BYTES;
	if (cap < len)
		return MIRROR_E_NOSPACE;
	memset(buf, 0, len);
	put_be32(buf, r->count);
	for (unsigned i = 0; i < r->count; i++) {
		uint8_t *e = buf + MIRROR_RELEASE_HEADER_BYTES + i * MIRROR_RELEASE_RANGE_BYTES;
		put_be32(e, r->range[i].nvram_addr);
		put_be32(e + 4, r->range[i].blocks);
	}
	return (int)len;
}

int mirror_release_decode(const struct mirror_profile *p, unsigned region, const uint8_t *buf,
			  size_t len, struct mirror_release *out, struct mirror_findings *f)
{
	struct mirror_findings local;
	uint32_t lo = mirror_region_start(p, region), hi = mirror_region_end(p, region);

	if (!f) {
		f = &local;
		mirror_findings_init(f);
	}
	memset(out, 0, sizeof(*out));
	if (len < MIRROR_RELEASE_HEADER_BYTES) {
		mirror_findings_add(f, MIRROR_RULE_TRUNCATED, false, (unsigned)len, 7,
				    "parameter list has %zu bytes; the header alone needs 8", len);
		return MIRROR_E_TRUNCATED;
	}
	uint32_t count = get_be32(buf);
	if (count == 0 || count > MIRROR_RELEASE_RANGES_MAX ||
	    len != MIRROR_RELEASE_HEADER_BYTES + (size_t)count * MIRROR_RELEASE_RANGE_BYTES) {
		mirror_findings_add(f, MIRROR_RULE_RELEASE_COUNT, false, 0, 7,
				    "range count %u disagrees with the %zu-byte parameter list "
				    "(1..%u ranges)", (unsigned)count, len, MIRROR_RELEASE_RANGES_MAX);
		return mirror_findings_result(f);
	}
	for (unsigned i = 4; i < MIRROR_RELEASE_HEADER_BYTES; i++) {
		if (buf[i]) {
			mirror_findings_add(f, MIRROR_RULE_RELEASE_RESERVED, false, i,
					    mirror_highest_bit(buf[i]), "reserved byte %u is 0x%02X", i,
					    buf[i]);
			return mirror_findings_result(f);
		}
	}
	out->count = count;
	for (unsigned i = 0; i < count; i++) {
		unsigned at = MIRROR_RELEASE_HEADER_BYTES + i * MIRROR_RELEASE_RANGE_BYTES;
		uint32_t addr = get_be32(buf + at), blocks = get_be32(buf + at + 4);
		uint64_t end = (uint64_t)addr + (uint64_t)blocks * MIRROR_BLOCK_SIZE;
		out->range[i].nvram_addr = addr;
		out->range[i].blocks = blocks;
		if (blocks == 0 || blocks > MIRROR_LARGE_MAX_BLOCKS)
			mirror_findings_add(f, MIRROR_RULE_RELEASE_RANGE, false, at + 4, 7,
					    "range %u: %u blocks (1..%u)", i, (unsigned)blocks,
					    MIRROR_LARGE_MAX_BLOCKS);
		else if (addr % MIRROR_BLOCK_SIZE || addr < lo || end > hi)
			mirror_findings_add(f, MIRROR_RULE_RELEASE_RANGE, false, at, 7,
					    "range %u: NVRAM 0x%08X + %u blocks is %s", i, (unsigned)addr,
					    (unsigned)blocks,
					    addr % MIRROR_BLOCK_SIZE ? "not a multiple of 512"
								     : "outside the sender's region");
		if (mirror_findings_first_error(f))
			break;
	}
	return mirror_findings_result(f);
}
