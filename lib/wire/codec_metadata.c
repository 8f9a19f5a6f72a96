/* Metadata mirror message (source Fig. 3; wire-profile.md "Metadata
 * mirror message"): a 512-byte header region and a 64-element S/G list. */
#include "config.h"

#include <string.h>

#include <mirror/codec.h>
#include <mirror/error.h>

#include "base/bytes.h"
#include "wire/rules.h"

enum {
	MD_OFF_TYPE = 0,
	MD_OFF_LENGTH = 2,
	MD_OFF_SEQUENCE = 4,
	MD_OFF_LBA = 8,
	MD_OFF_BLOCKS = 12,
	MD_OFF_SERIAL = 16,
	MD_OFF_REGION = 24,
	MD_OFF_ARRAY = 25,
	MD_OFF_PAD = 26,
	MD_OFF_SG = 512,
	MD_SG_ELEM = 8,
};

void mirror_metadata_init(struct mirror_metadata *m)
{
	memset(m, 0, sizeof(*m));
	m->type = MIRROR_MD_TYPE_METADATA;
	m->length = MIRROR_METADATA_BYTES;
}

uint64_t mirror_large_transfer_length(uint32_t blocks)
{
	return MIRROR_METADATA_BYTES + (uint64_t)blocks * MIRROR_BLOCK_SIZE;
}

int mirror_metadata_encode(const struct mirror_metadata *m, uint8_t *buf, size_t cap)
{
	if (cap < MIRROR_METADATA_BYTES)
		return MIRROR_E_NOSPACE;
	if (m->sg_count > MIRROR_METADATA_SG_MAX)
		return MIRROR_E_FIELD_WIDTH;
	memset(buf, 0, MIRROR_METADATA_BYTES);
	put_be16(buf + MD_OFF_TYPE, m->type);
	put_be16(buf + MD_OFF_LENGTH, m->length);
	put_be32(buf + MD_OFF_SEQUENCE, m->sequence);
	put_be32(buf + MD_OFF_LBA, m->lba);
	put_be32(buf + MD_OFF_BLOCKS, m->blocks);
	put_be64(buf + MD_OFF_SERIAL, m->array_serial);
	buf[MD_OFF_REGION] = m->region;
	buf[MD_OFF_ARRAY] = m->array_number;
	for (unsigned i = 0; i < m->sg_count; i++) {
		put_be32(buf + MD_OFF_SG + MD_SG_ELEM * i, m->sg[i].nvram_addr);
		put_be32(buf + MD_OFF_SG + MD_SG_ELEM * i + 4, m->sg[i].bytes);
	}
	return MIRROR_METADATA_BYTES;
}

static void check_element(const struct mirror_profile *p, const struct mirror_metadata *m,
			  unsigned i, struct mirror_findings *f)
{
	const struct mirror_sg_element *e = &m->sg[i];
	unsigned at = MD_OFF_SG + MD_SG_ELEM * i;
	uint64_t end = (uint64_t)e->nvram_addr + e->bytes;

	if (e->bytes % MIRROR_BLOCK_SIZE || e->bytes > MIRROR_SG_ELEMENT_MAX_BYTES)
		mirror_findings_add(f, MIRROR_RULE_SG_COUNT, false, at + 4, 7,
				    "S/G element [%u] (bytes %u-%u) byte count %u is %s", i, at, at + 7,
				    (unsigned)e->bytes,
				    e->bytes % MIRROR_BLOCK_SIZE ? "not a multiple of 512"
								 : "over 16384 (16 KiB)");
	if (e->nvram_addr % MIRROR_BLOCK_SIZE) {
		mirror_findings_add(f, MIRROR_RULE_SG_ADDR_ALIGN, false, at, 7,
				    "S/G element [%u] NVRAM address 0x%08X is not a multiple of 512",
				    i, (unsigned)e->nvram_addr);
		return;
	}
	if (e->nvram_addr >= p->nvram_size || end > p->nvram_size) {
		mirror_findings_add(f, MIRROR_RULE_SG_ADDR_NVRAM, false, at, 7,
				    "S/G element [%u] NVRAM [0x%08X, 0x%llX) is beyond the %u MiB NVRAM", i,
				    (unsigned)e->nvram_addr, (unsigned long long)end,
				    (unsigned)(p->nvram_size >> 20));
		return;
	}
	if (m->region > 1)
		return;
	uint32_t rs = mirror_region_start(p, m->region), re = mirror_region_end(p, m->region);
	if (e->nvram_addr < rs || end > re)
		mirror_findings_add(f, MIRROR_RULE_SG_ADDR_REGION, false, at, 7,
				    "S/G element [%u] NVRAM [0x%08X, 0x%llX) is outside region %u [0x%X, 0x%X)",
				    i, (unsigned)e->nvram_addr, (unsigned long long)end,
				    (unsigned)m->region, (unsigned)rs, (unsigned)re);
}

int mirror_metadata_decode(const struct mirror_profile *p, const uint8_t *buf, size_t len,
			   const struct mirror_check_ctx *ctx, struct mirror_metadata *out,
			   struct mirror_findings *f)
{
	struct mirror_findings local;
	int terminator = -1;

	if (!f) {
		f = &local;
		mirror_findings_init(f);
	}
	memset(out, 0, sizeof(*out));
	if (len < MIRROR_METADATA_BYTES) {
		mirror_findings_add(f, MIRROR_RULE_TRUNCATED, false, (unsigned)len, 7,
				    "metadata has %zu bytes; the message is 1024", len);
		return MIRROR_E_TRUNCATED;
	}
	out->type = get_be16(buf + MD_OFF_TYPE);
	out->length = get_be16(buf + MD_OFF_LENGTH);
	out->sequence = get_be32(buf + MD_OFF_SEQUENCE);
	out->lba = get_be32(buf + MD_OFF_LBA);
	out->blocks = get_be32(buf + MD_OFF_BLOCKS);
	out->array_serial = get_be64(buf + MD_OFF_SERIAL);
	out->region = buf[MD_OFF_REGION];
	out->array_number = buf[MD_OFF_ARRAY];

	if (out->type != MIRROR_MD_TYPE_METADATA)
		mirror_findings_add(f, MIRROR_RULE_MD_TYPE, false, MD_OFF_TYPE, 7,
				    "message type 0x%04X is not 0x0001 (metadata)", out->type);
	if (out->length != MIRROR_METADATA_BYTES)
		mirror_findings_add(f, MIRROR_RULE_MD_LENGTH, false, MD_OFF_LENGTH, 7,
				    "message length %u is not 1024", out->length);
	bool blocks_ok = out->blocks >= 1 && out->blocks <= MIRROR_LARGE_MAX_BLOCKS;
	if (!blocks_ok)
		mirror_findings_add(f, MIRROR_RULE_MD_BLOCKS, false, MD_OFF_BLOCKS, 7,
				    "number of blocks %u is %s", (unsigned)out->blocks,
				    out->blocks ? "over 2048 (1 MiB)" : "0");
	if (out->region > 1)
		mirror_findings_add(f, MIRROR_RULE_MD_REGION, false, MD_OFF_REGION, 7,
				    "memory region %u is neither 0 nor 1", out->region);
	else if (ctx && ctx->sender_region >= 0 && out->region != ctx->sender_region)
		mirror_findings_add(f, MIRROR_RULE_MD_REGION_SENDER, false, MD_OFF_REGION, 7,
				    "memory region %u is not the sender's region %d", out->region,
				    ctx->sender_region);
	for (unsigned i = MD_OFF_PAD; i < MD_OFF_SG; i++) {
		if (buf[i]) {
			mirror_findings_add(f, MIRROR_RULE_MD_PAD, false, i,
					    mirror_highest_bit(buf[i]),
					    "pad byte %u = 0x%02X is not zero", i, buf[i]);
			break;
		}
	}

	uint64_t sum = 0;
	for (unsigned i = 0; i < MIRROR_METADATA_SG_MAX; i++) {
		unsigned at = MD_OFF_SG + MD_SG_ELEM * i;
		uint32_t addr = get_be32(buf + at), cnt = get_be32(buf + at + 4);

		if (terminator < 0 && cnt) {
			out->sg[out->sg_count].nvram_addr = addr;
			out->sg[out->sg_count].bytes = cnt;
			check_element(p, out, out->sg_count, f);
			out->sg_count++;
			sum += cnt;
			continue;
		}
		if (terminator < 0) {
			terminator = (int)i;
			if (addr)
				mirror_findings_add(f, MIRROR_RULE_SG_TERMINATOR, false, at, 7,
						    "terminating S/G element [%u] (byte count 0) has NVRAM address 0x%08X; it must be all zero",
						    i, (unsigned)addr);
			continue;
		}
		if (addr || cnt) {
			unsigned further = 0;
			for (unsigned j = i + 1; j < MIRROR_METADATA_SG_MAX; j++)
				if (get_be32(buf + MD_OFF_SG + MD_SG_ELEM * j) ||
				    get_be32(buf + MD_OFF_SG + MD_SG_ELEM * j + 4))
					further++;
			mirror_findings_add(f, MIRROR_RULE_SG_AFTER_END, false, addr ? at : at + 4, 7,
					    "S/G element [%u] after the terminating element [%d] is not zero (address 0x%08X, count %u; %u more)",
					    i, terminator, (unsigned)addr, (unsigned)cnt, further);
			break;
		}
	}

	if (blocks_ok && (uint64_t)out->lba + out->blocks > (1ull << 32))
		mirror_findings_add(f, MIRROR_RULE_LBA_RANGE, false, MD_OFF_LBA, 7,
				    "starting LBA 0x%08X + %u blocks is beyond 2^32",
				    (unsigned)out->lba, (unsigned)out->blocks);
	if (blocks_ok && ctx && ctx->data_out_length >= 0 &&
	    (uint64_t)ctx->data_out_length != mirror_large_transfer_length(out->blocks))
		mirror_findings_add(f, MIRROR_RULE_DATA_LENGTH, false, 0, 0,
				    "data-out length %lld disagrees with 1024 + %u blocks x 512 = %llu",
				    (long long)ctx->data_out_length, (unsigned)out->blocks,
				    (unsigned long long)mirror_large_transfer_length(out->blocks));
	if (blocks_ok && sum != (uint64_t)out->blocks * MIRROR_BLOCK_SIZE)
		mirror_findings_add(f, MIRROR_RULE_SG_SUM, false, MD_OFF_BLOCKS, 7,
				    "S/G byte counts add up to %llu, number of blocks x 512 is %llu",
				    (unsigned long long)sum,
				    (unsigned long long)out->blocks * MIRROR_BLOCK_SIZE);
	mirror_findings_sort(f);
	return mirror_findings_result(f);
}
