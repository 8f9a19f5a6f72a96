/* Per-block stamps (failover.h): what a read-back needs to tell which
 * write a block holds, whether it is whole, and whether it belongs here. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "app/failover/failover.h"
#include "base/bytes.h"
#include "iscsi/pdu.h"

#define OFF_MAGIC 0u
#define OFF_RUN 8u
#define OFF_LUN 16u
#define OFF_LBA 20u
#define OFF_ID 28u
#define OFF_GEN 36u
#define OFF_PATTERN 44u
#define OFF_CRC 508u

/* The filler: xorshift64 seeded from the write and the block, so that two
 * writes of one block differ in every byte range a torn transfer could
 * mix, not only in the header. */
static uint64_t seed_of(const struct fo_stamp *s)
{
	uint64_t x = s->run ^ (s->id * 0x9E3779B97F4A7C15ull) ^ (s->lba * 0xC2B2AE3D27D4EB4Full) ^
		     ((uint64_t)s->lun << 56);

	return x ? x : 0x2545F4914F6CDD1Dull;
}

static void pattern(uint8_t *p, size_t n, uint64_t x)
{
	for (size_t i = 0; i < n; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		for (size_t k = 0; k < 8 && i + k < n; k++)
			p[i + k] = (uint8_t)(x >> (8 * k));
	}
}

void fo_stamp_fill(uint8_t blk[FO_BLOCK], const struct fo_stamp *s)
{
	memcpy(blk + OFF_MAGIC, FO_STAMP_MAGIC, 8);
	put_be64(blk + OFF_RUN, s->run);
	put_be32(blk + OFF_LUN, s->lun);
	put_be64(blk + OFF_LBA, s->lba);
	put_be64(blk + OFF_ID, s->id);
	put_be64(blk + OFF_GEN, s->gen);
	pattern(blk + OFF_PATTERN, OFF_CRC - OFF_PATTERN, seed_of(s));
	put_be32(blk + OFF_CRC, mirror_pdu_crc32c(blk, OFF_CRC));
}

enum fo_stamp_kind fo_stamp_read(const uint8_t blk[FO_BLOCK], struct fo_stamp *s, char *why,
				 size_t why_len)
{
	uint8_t want[OFF_CRC - OFF_PATTERN];
	size_t i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < FO_BLOCK && blk[i] == 0; i++)
		;
	if (i == FO_BLOCK)
		return FO_STAMP_ZERO;
	if (memcmp(blk + OFF_MAGIC, FO_STAMP_MAGIC, 8) != 0) {
		if (why)
			snprintf(why, why_len, "no stamp magic at bytes 0-7");
		return FO_STAMP_CORRUPT;
	}
	uint32_t crc = mirror_pdu_crc32c(blk, OFF_CRC);
	if (get_be32(blk + OFF_CRC) != crc) {
		if (why)
			snprintf(why, why_len, "CRC32C at bytes 508-511 is %08x, the block's is %08x",
				 (unsigned)get_be32(blk + OFF_CRC), (unsigned)crc);
		return FO_STAMP_CORRUPT;
	}
	s->run = get_be64(blk + OFF_RUN);
	s->lun = get_be32(blk + OFF_LUN);
	s->lba = get_be64(blk + OFF_LBA);
	s->id = get_be64(blk + OFF_ID);
	s->gen = get_be64(blk + OFF_GEN);
	/* a CRC that matches over a pattern that does not: a block put
	 * together from pieces by someone who recomputed the CRC */
	pattern(want, sizeof(want), seed_of(s));
	if (memcmp(want, blk + OFF_PATTERN, sizeof(want)) != 0) {
		for (i = 0; i < sizeof(want) && want[i] == blk[OFF_PATTERN + i]; i++)
			;
		if (why)
			snprintf(why, why_len, "pattern differs at byte %zu", OFF_PATTERN + i);
		return FO_STAMP_CORRUPT;
	}
	return FO_STAMP_VALID;
}
