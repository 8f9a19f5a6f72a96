/* Small path cases (source Figs. 5 and 6; wire-profile.md "Small path"):
 * each field of the 12-byte CDB at its minimum, its maximum and its first
 * invalid value, with the exact sense the profile requires.  One table
 * row per case; the field pointers are those of the v1 layout (12 bytes,
 * 20-bit descriptors), written out here from the profile. */
#include "config.h"

#include <string.h>

#include "conform.h"

/* Where element 1 goes. */
enum place {
	AT_SCRATCH = 0,  /* the case's own area (element 2, if any, 64 KiB on) */
	AT_REGION_END,   /* its last block is the region's last block */
	AT_OTHER_REGION, /* the partner's region: not the opcode's */
	AT_PAST_NVRAM    /* the first block past the NVRAM */
};

struct small_row {
	unsigned bc1, bc2;
	enum place place;
	bool other_opcode;    /* the opcode of the other region */
	bool set_volume;
	uint8_t volume;
	uint32_t lba;
	int data_delta;       /* bytes of data-out beyond (bc1 + bc2) * 512 */
	bool low2_nonzero;    /* element 2 absent but its descriptor set */
	bool good;            /* expect GOOD and the data read back */
	struct conf_sense want;
};

static uint32_t place_addr(const struct conf_ctx *c, enum place p, unsigned blocks)
{
	switch (p) {
	case AT_REGION_END:
		return conf_region_end(c) - blocks * MIRROR_BLOCK_SIZE;
	case AT_OTHER_REGION:
		return mirror_region_start(&c->profile, 1u - c->region) +
		       (c->scratch - conf_region_start(c));
	case AT_PAST_NVRAM:
		return c->profile.nvram_size;
	case AT_SCRATCH:
	default:
		return c->scratch;
	}
}

static enum conf_verdict run_small_row(struct conf_ctx *c)
{
	const struct small_row *r = c->cur->arg;
	static uint8_t data[2 * 63 * MIRROR_BLOCK_SIZE + 4096];
	struct mirror_small_cdb s;
	struct mirror_cmd cmd;
	uint32_t a1 = place_addr(c, r->place, r->bc1), a2 = a1 + 65536;
	uint32_t len = (r->bc1 + r->bc2) * MIRROR_BLOCK_SIZE + (uint32_t)r->data_delta;
	int rc;

	if (c->profile.small_layout != MIRROR_SMALL_CDB12_20BIT)
		return conf_skip(c, "written for the 12-byte CDB with 20-bit descriptors (profile v1)");
	conf_small_init(c, &s, a1, r->bc1, a2, r->bc2, r->lba);
	if (r->other_opcode)
		s.opcode = mirror_small_opcode_for_region(&c->profile, 1u - c->region);
	if (r->set_volume && r->volume == CONF_VOLUME_ABSENT) {
		/* a volume the run's table lacks (200 in the suite's) */
		if (c->vol_absent < 0)
			return conf_skip(c, "the target's table has all 256 volumes: none is missing");
		s.volume = (uint8_t)c->vol_absent;
	} else if (r->set_volume) {
		if (!c->table.vol[r->volume].used)
			return conf_skip(c, "the target's table has no volume %u (--table, --volumes)",
					 r->volume);
		s.volume = r->volume;
	}
	if (r->low2_nonzero)
		s.sg[1].descriptor = a2 / MIRROR_BLOCK_SIZE;
	rc = conf_small_cmd(c, &s, data, len, c->case_index + 1u, &cmd);
	if (rc < 0)
		return conf_fail(c, "internal: the small CDB of this case cannot be encoded (%d)", rc);
	conf_send(c, &cmd, c->cur->desc);
	if (!r->good)
		return conf_check(c, &cmd, "small write", &r->want);
	if (conf_check(c, &cmd, "small write", NULL) != CONF_PASS)
		return CONF_FAIL;
	if (conf_verify(c, "S/G element 1", a1, data, r->bc1 * MIRROR_BLOCK_SIZE) != CONF_PASS)
		return CONF_FAIL;
	if (r->bc2)
		return conf_verify(c, "S/G element 2", a2, data + r->bc1 * MIRROR_BLOCK_SIZE,
				   r->bc2 * MIRROR_BLOCK_SIZE);
	return CONF_PASS;
}

#define GOOD_NEEDS (CONF_NEED_SMALL | CONF_NEED_VOLUMES | CONF_NEED_VERIFY)
#define BAD_NEEDS (CONF_NEED_SMALL | CONF_NEED_VOLUMES)

static const struct small_row
	r_min = { .bc1 = 1, .good = true },
	r_max = { .bc1 = 32, .bc2 = 32, .good = true },
	r_bc1_zero = { .bc1 = 0, .bc2 = 8, .want = CONF_CDB_FIELD(1, 3) },
	r_bc1_big = { .bc1 = 33, .want = CONF_CDB_FIELD(1, 3) },
	r_bc2_big = { .bc1 = 8, .bc2 = 33, .want = CONF_CDB_FIELD(2, 5) },
	r_low2 = { .bc1 = 8, .low2_nonzero = true, .want = CONF_CDB_FIELD(6, 7) },
	r_region_end = { .bc1 = 8, .place = AT_REGION_END, .good = true },
	r_other_region = { .bc1 = 8, .place = AT_OTHER_REGION, .want = CONF_CDB_FIELD(1, 7) },
	r_past_nvram = { .bc1 = 8, .place = AT_PAST_NVRAM, .want = CONF_CDB_FIELD(1, 7) },
	r_role = { .bc1 = 8, .place = AT_OTHER_REGION, .other_opcode = true, .want = CONF_CDB_FIELD(0, 7) },
	r_vol_max = { .bc1 = 8, .set_volume = true, .volume = CONF_VOLUME_MAX, .good = true },
	r_vol_absent = { .bc1 = 8, .set_volume = true, .volume = CONF_VOLUME_ABSENT, .want = CONF_CDB_FIELD(3, 7) },
	r_lba_max = { .bc1 = 8, .lba = 0xFFFFFFF8u, .good = true },
	r_lba_range = { .bc1 = 8, .lba = 0xFFFFFFFAu, .want = CONF_LBA_RANGE },
	r_short = { .bc1 = 8, .data_delta = -512, .want = CONF_PARAM_LENGTH },
	r_long = { .bc1 = 8, .data_delta = 512, .want = CONF_PARAM_LENGTH };

#define FIG6 "Fig. 6; wire-profile.md \"Small path\""

static const struct conf_case cases[] = {
	{ "MIRROR.Small.MinimumElement", "one S/G element of 1 block is stored and valid", FIG6 ", Fig. 5 blocks 540-544", GOOD_NEEDS, run_small_row, &r_min },
	{ "MIRROR.Small.MaximumTwoElements", "two S/G elements of 32 blocks (32 KiB) are stored and valid", FIG6, GOOD_NEEDS, run_small_row, &r_max },
	{ "MIRROR.Small.BlockCount1Zero", "element 1 block count 0: INVALID FIELD IN CDB at byte 1 bit 3", FIG6, BAD_NEEDS, run_small_row, &r_bc1_zero },
	{ "MIRROR.Small.BlockCountTooLarge", "element 1 block count 33 (over 16 KiB): INVALID FIELD IN CDB at byte 1 bit 3", FIG6, BAD_NEEDS, run_small_row, &r_bc1_big },
	{ "MIRROR.Small.BlockCount2TooLarge", "element 2 block count 33: INVALID FIELD IN CDB at byte 2 bit 5", FIG6, BAD_NEEDS, run_small_row, &r_bc2_big },
	{ "MIRROR.Small.AbsentElementIndexNonzero", "element 2 absent but cache element index low2 set: INVALID FIELD IN CDB at byte 6 bit 7", FIG6, BAD_NEEDS, run_small_row, &r_low2 },
	{ "MIRROR.Small.RegionLastBlocks", "an element ending at the last block of the region is stored and valid", FIG6 ", Fig. 4 items 424-426", GOOD_NEEDS, run_small_row, &r_region_end },
	{ "MIRROR.Small.DescriptorOtherRegion", "a descriptor in the other region: INVALID FIELD IN CDB at byte 1 bit 7", FIG6 ", Fig. 4 items 424-426", BAD_NEEDS, run_small_row, &r_other_region },
	{ "MIRROR.Small.DescriptorPastNvram", "a descriptor past the end of the NVRAM: INVALID FIELD IN CDB at byte 1 bit 7", FIG6 "; wire-profile.md \"Which error\"", BAD_NEEDS, run_small_row, &r_past_nvram },
	{ "MIRROR.Small.OpcodeOfOtherRegion", "the opcode of the receiver's own region: INVALID FIELD IN CDB at byte 0 bit 7", FIG6 ", Fig. 4 items 424-426", BAD_NEEDS, run_small_row, &r_role },
	{ "MIRROR.Small.VolumeMaximum", "volume 255 (in the table) is stored and valid", FIG6 ", Fig. 4 item 427", GOOD_NEEDS, run_small_row, &r_vol_max },
	{ "MIRROR.Small.VolumeNotInTable", "a volume the array table lacks: INVALID FIELD IN CDB at byte 3 bit 7", FIG6 ", Fig. 4 item 427", BAD_NEEDS, run_small_row, &r_vol_absent },
	{ "MIRROR.Small.LbaMaximum", "starting LBA + blocks = 2^32 is stored and valid", FIG6, GOOD_NEEDS, run_small_row, &r_lba_max },
	{ "MIRROR.Small.LbaOutOfRange", "starting LBA + blocks beyond 2^32: LOGICAL BLOCK ADDRESS OUT OF RANGE, no field pointer", "wire-profile.md \"Which error\"", BAD_NEEDS, run_small_row, &r_lba_range },
	{ "MIRROR.Small.DataOutShorter", "data-out 512 bytes shorter than the CDB says: PARAMETER LIST LENGTH ERROR", "wire-profile.md \"Receiver behaviour and status\"", BAD_NEEDS, run_small_row, &r_short },
	{ "MIRROR.Small.DataOutLonger", "data-out 512 bytes longer than the CDB says: PARAMETER LIST LENGTH ERROR", "wire-profile.md \"Receiver behaviour and status\"", BAD_NEEDS, run_small_row, &r_long },
};

const struct conf_area conf_area_small = { "MIRROR.Small", cases, sizeof(cases) / sizeof(cases[0]) };
