/* Path choice, source Fig. 7: small only if (700) at most two S/G elements,
 * (708) not in error recovery, (712) the partner is initialized and (716)
 * the 20-bit descriptors share their upper four bits. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <mirror/error.h>
#include <mirror/path.h>

const char *mirror_path_name(enum mirror_path p)
{
	return p == MIRROR_PATH_SMALL ? "small" : "large";
}

/* Bits of a descriptor below the part the elements must share (0 when
 * they share nothing, the 18-bit layout). */
static unsigned private_desc_bits(const struct mirror_profile *p)
{
	switch (p->small_layout) {
	case MIRROR_SMALL_CDB12_20BIT:
		return 16;
	case MIRROR_SMALL_CDB16:
		return 12;
	default:
		return 0;
	}
}

static unsigned desc_bits(const struct mirror_profile *p)
{
	return p->small_layout == MIRROR_SMALL_CDB12_18BIT ? 18 : 20;
}

void mirror_path_choose(const struct mirror_profile *p, const struct mirror_sg_element *sg,
			unsigned n, const struct mirror_sender_state *s,
			struct mirror_path_choice *out)
{
	unsigned max = mirror_small_sg_max(p);
	unsigned low = private_desc_bits(p);

	memset(out, 0, sizeof(*out));
	out->path = MIRROR_PATH_LARGE;
	if (n == 0 || n > max) {
		out->reason = MIRROR_REASON_TOO_MANY_ELEMENTS;
		snprintf(out->text, sizeof(out->text), "large: needs %u S/G elements (small carries %u)",
			 n, max);
		return;
	}
	if (s && s->recovery) {
		out->reason = MIRROR_REASON_RECOVERY;
		snprintf(out->text, sizeof(out->text), "large: sender in error recovery mode");
		return;
	}
	if (s && !s->partner_initialized) {
		out->reason = MIRROR_REASON_PARTNER_UNINIT;
		snprintf(out->text, sizeof(out->text),
			 "large: partner not initialized (array table not current)");
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		uint32_t d = sg[i].nvram_addr / MIRROR_BLOCK_SIZE;
		if (d >> desc_bits(p)) {
			out->reason = MIRROR_REASON_DESCRIPTOR_WIDTH;
			snprintf(out->text, sizeof(out->text),
				 "large: descriptor 0x%X of element %u needs more than %u bits",
				 (unsigned)d, i + 1, desc_bits(p));
			return;
		}
		uint32_t h0 = (sg[0].nvram_addr / MIRROR_BLOCK_SIZE) >> (low ? low : 31);
		uint32_t hi = d >> (low ? low : 31);
		if (low && hi != h0) {
			out->reason = MIRROR_REASON_HIGH_BITS_DIFFER;
			snprintf(out->text, sizeof(out->text),
				 "large: descriptor high bits differ 0x%X vs 0x%X", (unsigned)h0,
				 (unsigned)hi);
			return;
		}
	}
	out->path = MIRROR_PATH_SMALL;
	out->reason = MIRROR_REASON_SMALL_OK;
	if (low)
		snprintf(out->text, sizeof(out->text),
			 "small: %u S/G element%s, descriptor high bits 0x%X", n, n == 1 ? "" : "s",
			 (unsigned)((sg[0].nvram_addr / MIRROR_BLOCK_SIZE) >> low));
	else
		snprintf(out->text, sizeof(out->text), "small: %u S/G element%s", n,
			 n == 1 ? "" : "s");
}

int mirror_small_cdb_from_sg(const struct mirror_profile *p, unsigned region, uint8_t volume,
			     uint32_t lba, const struct mirror_sg_element *sg, unsigned n,
			     struct mirror_small_cdb *out)
{
	unsigned low = private_desc_bits(p);

	if (n == 0 || n > mirror_small_sg_max(p) || region > 1)
		return MIRROR_E_FIELD_WIDTH;
	memset(out, 0, sizeof(*out));
	out->opcode = mirror_small_opcode_for_region(p, region);
	out->region = (int)region;
	out->volume = volume;
	out->lba = lba;
	out->slots = mirror_small_sg_max(p);
	for (unsigned i = 0; i < n; i++) {
		if (sg[i].nvram_addr % MIRROR_BLOCK_SIZE || sg[i].bytes % MIRROR_BLOCK_SIZE ||
		    sg[i].bytes == 0 || sg[i].bytes > MIRROR_SG_ELEMENT_MAX_BYTES)
			return MIRROR_E_FIELD_WIDTH;
		out->sg[i].descriptor = sg[i].nvram_addr / MIRROR_BLOCK_SIZE;
		out->sg[i].blocks = (uint8_t)(sg[i].bytes / MIRROR_BLOCK_SIZE);
	}
	if (low)
		out->cei_high = (uint8_t)(out->sg[0].descriptor >> low);
	return 0;
}
