/* Small-write mirror message (source Fig. 6 and the closing alternatives;
 * wire-profile.md "Small path"). */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <mirror/codec.h>
#include <mirror/error.h>

#include "base/bytes.h"
#include "wire/rules.h"

/* Bit positions (0 = byte 0 bit 7) of each field, per layout.  The 20-bit
 * layouts share the upper bits of every descriptor in one field; the
 * 18-bit layout carries two high bits per element instead. */
struct small_layout {
	unsigned len;
	unsigned slots;
	unsigned low_bits;    /* width of each cache element index low */
	unsigned shared_bits; /* width of the shared high field (0: none) */
	unsigned elem_hi_bits;/* per-element high bits (18-bit layout) */
	unsigned pos_high;
	unsigned pos_elem_hi[MIRROR_SMALL_SG_MAX];
	unsigned pos_bc[MIRROR_SMALL_SG_MAX];
	unsigned pos_volume;
	unsigned pos_low[MIRROR_SMALL_SG_MAX];
	unsigned pos_lba;
};

static const struct small_layout layouts[] = {
	[MIRROR_SMALL_CDB12_20BIT] = {
		.len = 12, .slots = 2, .low_bits = 16, .shared_bits = 4, .elem_hi_bits = 0,
		.pos_high = 8, .pos_bc = { 12, 18 }, .pos_volume = 24,
		.pos_low = { 32, 48 }, .pos_lba = 64,
	},
	[MIRROR_SMALL_CDB12_18BIT] = {
		.len = 12, .slots = 2, .low_bits = 16, .shared_bits = 0, .elem_hi_bits = 2,
		.pos_high = 8, .pos_elem_hi = { 8, 10 }, .pos_bc = { 12, 18 }, .pos_volume = 24,
		.pos_low = { 32, 48 }, .pos_lba = 64,
	},
	[MIRROR_SMALL_CDB16] = {
		.len = 16, .slots = 4, .low_bits = 12, .shared_bits = 8, .elem_hi_bits = 0,
		.pos_high = 8, .pos_bc = { 16, 22, 28, 34 }, .pos_volume = 40,
		.pos_low = { 48, 60, 72, 84 }, .pos_lba = 96,
	},
};

static const struct small_layout *layout_of(const struct mirror_profile *p)
{
	if ((unsigned)p->small_layout >= sizeof(layouts) / sizeof(layouts[0]))
		return NULL;
	return &layouts[p->small_layout];
}

/* Where a descriptor error points: the top bits of that descriptor. */
static unsigned desc_pointer(const struct small_layout *l, unsigned i)
{
	return l->elem_hi_bits ? l->pos_elem_hi[i] : l->pos_high;
}

unsigned mirror_small_cdb_elements(const struct mirror_small_cdb *c)
{
	unsigned n = 0;

	for (unsigned i = 0; i < c->slots && i < MIRROR_SMALL_SG_MAX; i++)
		if (c->sg[i].blocks)
			n++;
	return n;
}

unsigned mirror_small_cdb_blocks(const struct mirror_small_cdb *c)
{
	unsigned n = 0;

	for (unsigned i = 0; i < c->slots && i < MIRROR_SMALL_SG_MAX; i++)
		n += c->sg[i].blocks;
	return n;
}

int mirror_small_cdb_encode(const struct mirror_profile *p, const struct mirror_small_cdb *c,
			    uint8_t *cdb, size_t cdb_cap)
{
	const struct small_layout *l = layout_of(p);
	unsigned desc_bits, slots;
	uint32_t high;

	if (!l)
		return MIRROR_E_PROFILE;
	if (cdb_cap < l->len)
		return MIRROR_E_NOSPACE;
	slots = c->slots ? c->slots : l->slots;
	if (slots > l->slots)
		return MIRROR_E_FIELD_WIDTH;
	desc_bits = l->low_bits + l->shared_bits + l->elem_hi_bits;
	high = c->sg[0].descriptor >> l->low_bits;
	for (unsigned i = 0; i < slots; i++) {
		const struct mirror_small_element *e = &c->sg[i];
		if (e->blocks > 63 || e->descriptor >> desc_bits)
			return MIRROR_E_FIELD_WIDTH;
		/* Fig. 7 block 716: one shared field, so the high bits of
		 * every element the CDB mentions must agree. */
		if (l->shared_bits && (e->blocks || e->descriptor) &&
		    e->descriptor >> l->low_bits != high)
			return MIRROR_E_FIELD_WIDTH;
	}
	memset(cdb, 0, l->len);
	put_bits(cdb, 0, 8, c->opcode);
	if (l->shared_bits)
		put_bits(cdb, l->pos_high, l->shared_bits, high);
	for (unsigned i = 0; i < slots; i++) {
		uint32_t d = c->sg[i].descriptor;
		if (l->elem_hi_bits)
			put_bits(cdb, l->pos_elem_hi[i], l->elem_hi_bits, d >> l->low_bits);
		put_bits(cdb, l->pos_bc[i], 6, c->sg[i].blocks);
		put_bits(cdb, l->pos_low[i], l->low_bits, d & ((1u << l->low_bits) - 1));
	}
	put_bits(cdb, l->pos_volume, 8, c->volume);
	put_bits(cdb, l->pos_lba, 32, c->lba);
	return (int)l->len;
}

static void check_descriptor(const struct mirror_profile *p, const struct small_layout *l,
			     const struct mirror_small_cdb *c, unsigned i,
			     struct mirror_findings *f)
{
	const struct mirror_small_element *e = &c->sg[i];
	uint64_t start = (uint64_t)e->descriptor * MIRROR_BLOCK_SIZE;
	uint64_t blocks = e->blocks <= MIRROR_SG_ELEMENT_MAX_BLOCKS ? e->blocks : 0;
	uint64_t end = start + blocks * MIRROR_BLOCK_SIZE;
	unsigned pos = desc_pointer(l, i);

	if (start >= p->nvram_size || end > p->nvram_size) {
		mirror_findings_add(f, MIRROR_RULE_SMALL_DESC_NVRAM, true, bitpos_byte(pos),
				    bitpos_bit(pos),
				    "descriptor %u = 0x%05X: NVRAM bytes 0x%llX..0x%llX are beyond the %u MiB NVRAM",
				    i + 1, (unsigned)e->descriptor, (unsigned long long)start,
				    (unsigned long long)(end > start ? end - 1 : start),
				    (unsigned)(p->nvram_size >> 20));
		return;
	}
	if (c->region < 0)
		return;
	uint32_t rs = mirror_region_start(p, (unsigned)c->region);
	uint32_t re = mirror_region_end(p, (unsigned)c->region);
	if (start < rs || start >= re || end > re)
		mirror_findings_add(f, MIRROR_RULE_SMALL_DESC_REGION, true, bitpos_byte(pos),
				    bitpos_bit(pos),
				    "descriptor %u = 0x%05X: NVRAM byte 0x%llX is outside region %d [0x%X, 0x%X) of opcode 0x%02X",
				    i + 1, (unsigned)e->descriptor, (unsigned long long)start,
				    c->region, (unsigned)rs, (unsigned)re, c->opcode);
}

int mirror_small_cdb_decode(const struct mirror_profile *p, const uint8_t *cdb, size_t len,
			    const struct mirror_check_ctx *ctx, struct mirror_small_cdb *out,
			    struct mirror_findings *f)
{
	const struct small_layout *l = layout_of(p);
	struct mirror_findings local;
	bool absent_seen = false;

	if (!f) {
		f = &local;
		mirror_findings_init(f);
	}
	memset(out, 0, sizeof(*out));
	out->region = -1;
	if (!l)
		return MIRROR_E_PROFILE;
	if (len >= 1) {
		out->opcode = cdb[0];
		out->region = mirror_small_opcode_region(p, out->opcode);
	}
	if (len < l->len) {
		mirror_findings_add(f, MIRROR_RULE_TRUNCATED, true, (unsigned)len, 7,
				    "CDB has %zu bytes; the small write needs %u", len, l->len);
		return MIRROR_E_TRUNCATED;
	}

	out->opcode = cdb[0];
	out->slots = l->slots;
	out->volume = (uint8_t)get_bits(cdb, l->pos_volume, 8);
	out->lba = get_bits(cdb, l->pos_lba, 32);
	out->cei_high = l->shared_bits ? (uint8_t)get_bits(cdb, l->pos_high, l->shared_bits) : 0;
	for (unsigned i = 0; i < l->slots; i++) {
		uint32_t high = l->shared_bits ? out->cei_high
					       : get_bits(cdb, l->pos_elem_hi[i], l->elem_hi_bits);
		out->sg[i].blocks = (uint8_t)get_bits(cdb, l->pos_bc[i], 6);
		out->sg[i].descriptor = high << l->low_bits | get_bits(cdb, l->pos_low[i], l->low_bits);
	}
	out->region = mirror_small_opcode_region(p, out->opcode);

	/* Fields in byte order: the sort below makes the order exact. */
	if (out->region < 0)
		mirror_findings_add(f, MIRROR_RULE_SMALL_OPCODE, true, 0, 7,
				    "opcode 0x%02X is not a small-write opcode of profile %s (0x%02X, 0x%02X)",
				    out->opcode, p->name ? p->name : "?", p->op.small_a_to_b,
				    p->op.small_b_to_a);

	for (unsigned i = 0; i < l->slots; i++) {
		const struct mirror_small_element *e = &out->sg[i];
		unsigned pos = l->pos_bc[i];

		if (i == 0 || e->blocks)
			check_descriptor(p, l, out, i, f);
		if (i == 0 && e->blocks == 0)
			mirror_findings_add(f, MIRROR_RULE_SMALL_BC1_ZERO, true, bitpos_byte(pos),
					    bitpos_bit(pos),
					    "S/G element 1 block count is 0 (must be 1..32)");
		if (e->blocks > MIRROR_SG_ELEMENT_MAX_BLOCKS)
			mirror_findings_add(f, MIRROR_RULE_SMALL_BC_TOO_LARGE, true,
					    bitpos_byte(pos), bitpos_bit(pos),
					    "S/G element %u block count %u is over 32 (an element is at most 16 KiB)",
					    i + 1, e->blocks);
		if (i > 0 && e->blocks && absent_seen)
			mirror_findings_add(f, MIRROR_RULE_SMALL_ELEMENT_AFTER_ABSENT, true,
					    bitpos_byte(pos), bitpos_bit(pos),
					    "S/G element %u is present after an absent element", i + 1);
		if (i > 0 && !e->blocks) {
			absent_seen = true;
			unsigned lp = l->pos_low[i];
			uint32_t low = get_bits(cdb, lp, l->low_bits);
			uint32_t hi = l->elem_hi_bits ? get_bits(cdb, l->pos_elem_hi[i], l->elem_hi_bits) : 0;
			if (hi)
				mirror_findings_add(f, MIRROR_RULE_SMALL_ABSENT_LOW_NONZERO, true,
						    bitpos_byte(l->pos_elem_hi[i]),
						    bitpos_bit(l->pos_elem_hi[i]),
						    "S/G element %u is absent (block count 0) but its descriptor high bits are 0x%X",
						    i + 1, (unsigned)hi);
			if (low)
				mirror_findings_add(f, MIRROR_RULE_SMALL_ABSENT_LOW_NONZERO, true,
						    bitpos_byte(lp), bitpos_bit(lp),
						    "S/G element %u is absent (block count 0) but cache element index low%u is 0x%X",
						    i + 1, i + 1, (unsigned)low);
		}
	}

	uint64_t blocks = 0;
	bool counts_ok = true;
	for (unsigned i = 0; i < l->slots; i++) {
		blocks += out->sg[i].blocks;
		if (out->sg[i].blocks > MIRROR_SG_ELEMENT_MAX_BLOCKS)
			counts_ok = false;
	}
	if ((uint64_t)out->lba + blocks > (1ull << 32))
		mirror_findings_add(f, MIRROR_RULE_LBA_RANGE, true, bitpos_byte(l->pos_lba), 7,
				    "starting LBA 0x%08X + %llu blocks is beyond 2^32",
				    (unsigned)out->lba, (unsigned long long)blocks);
	if (ctx && ctx->data_out_length >= 0 && counts_ok &&
	    (uint64_t)ctx->data_out_length != blocks * MIRROR_BLOCK_SIZE)
		mirror_findings_add(f, MIRROR_RULE_DATA_LENGTH, true, 0, 0,
				    "data-out length %lld disagrees with the CDB's %llu blocks (%llu bytes)",
				    (long long)ctx->data_out_length, (unsigned long long)blocks,
				    (unsigned long long)(blocks * MIRROR_BLOCK_SIZE));

	/* Generic SCSI stacks read the last CDB byte as CONTROL: NACA (bit 2)
	 * or LINK (bit 0) set in the LBA's low byte may be refused on the
	 * way (wire-profile.md, "Hazard"). */
	uint8_t last = cdb[l->len - 1];
	if (last & 0x05)
		mirror_findings_add(f, MIRROR_RULE_SMALL_CONTROL_HAZARD, true, l->len - 1,
				    (last & 0x04) ? 2 : 0,
				    "byte %u = 0x%02X (low byte of the LBA) has %s set where SCSI stacks read the CONTROL byte",
				    l->len - 1, last,
				    (last & 0x05) == 0x05 ? "NACA and LINK"
				    : (last & 0x04)       ? "NACA (bit 2)"
							  : "LINK (bit 0)");
	for (size_t i = l->len; i < len; i++) {
		if (cdb[i]) {
			mirror_findings_add(f, MIRROR_RULE_CDB_TRAILING, true, (unsigned)i,
					    mirror_highest_bit(cdb[i]),
					    "byte %zu = 0x%02X past the %u-byte CDB is not zero", i,
					    cdb[i], l->len);
			break;
		}
	}
	mirror_findings_sort(f);
	return mirror_findings_result(f);
}
