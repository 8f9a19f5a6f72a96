/* Errors and sense cases (wire-profile.md "Receiver behaviour and status",
 * "Which error" and "When several rules are broken"): the sense format and
 * which of several broken rules the receiver reports. */
#include "config.h"

#include <string.h>

#include "conform.h"

static enum conf_verdict send_small(struct conf_ctx *c, unsigned bc1, uint8_t volume,
				    uint32_t lba, int data_delta, struct mirror_cmd *cmd)
{
	static uint8_t data[64 * MIRROR_BLOCK_SIZE];
	struct mirror_small_cdb s;

	if (c->profile.small_layout != MIRROR_SMALL_CDB12_20BIT)
		return conf_skip(c, "written for the 12-byte CDB with 20-bit descriptors (profile v1)");
	conf_small_init(c, &s, c->scratch, bc1, 0, 0, lba);
	if (volume == CONF_VOLUME_ABSENT && c->vol_absent < 0)
		return conf_skip(c, "the target's table has all 256 volumes: none is missing");
	s.volume = volume == CONF_VOLUME_ABSENT ? (uint8_t)c->vol_absent
		   : volume == CONF_VOLUME_A    ? c->vol_a
						: volume;
	conf_small_cmd(c, &s, data, (uint32_t)((int)(bc1 * MIRROR_BLOCK_SIZE) + data_delta),
		       c->case_index + 1u, cmd);
	conf_send(c, cmd, c->cur->desc);
	return CONF_PASS;
}

/* Fixed format (response code 70h), with the sense-key-specific field
 * pointer valid. */
static enum conf_verdict run_fixed_format(struct conf_ctx *c)
{
	struct mirror_cmd cmd;
	enum conf_verdict v = send_small(c, 33, CONF_VOLUME_A, 0, 0, &cmd);

	if (v != CONF_PASS)
		return v;
	if (cmd.result < 0 || cmd.status != MIRROR_STATUS_CHECK_CONDITION || cmd.sense_len < 18)
		return conf_check(c, &cmd, "block count 33",
				  &(struct conf_sense)CONF_CDB_FIELD(1, 3));
	if ((cmd.sense[0] & 0x7F) != 0x70)
		return conf_fail(c, "sense response code %02Xh; expected 70h (fixed format, current)",
				 cmd.sense[0] & 0x7F);
	if (cmd.sense[7] < 10)
		return conf_fail(c, "sense additional length %u; expected at least 10", cmd.sense[7]);
	if (!(cmd.sense[15] & 0x80))
		return conf_fail(c, "sense byte 15 = %02Xh: SKSV not set, no field pointer", cmd.sense[15]);
	return CONF_PASS;
}

/* Block count 33 (byte 1) and a volume not in the table (byte 3): the
 * field first in byte order is reported. */
static enum conf_verdict run_first_in_byte_order(struct conf_ctx *c)
{
	struct mirror_cmd cmd;
	static const struct conf_sense want = CONF_CDB_FIELD(1, 3);
	enum conf_verdict v = send_small(c, 33, CONF_VOLUME_ABSENT, 0, 0, &cmd);

	return v != CONF_PASS ? v : conf_check(c, &cmd, "block count 33 and an unknown volume", &want);
}

/* LBA out of range and a short data-out: the LBA range comes first. */
static enum conf_verdict run_lba_before_length(struct conf_ctx *c)
{
	struct mirror_cmd cmd;
	static const struct conf_sense want = CONF_LBA_RANGE;
	enum conf_verdict v = send_small(c, 8, CONF_VOLUME_A, 0xFFFFFFFAu, -512, &cmd);

	return v != CONF_PASS ? v : conf_check(c, &cmd, "LBA out of range and a short data-out", &want);
}

/* A non-zero pad byte (metadata byte 100) and an S/G sum mismatch: the
 * field comes before the sum. */
static enum conf_verdict run_field_before_sum(struct conf_ctx *c)
{
	static uint8_t buf[MIRROR_METADATA_BYTES + 3 * 4096];
	static const struct conf_sense want = CONF_PARAM_FIELD(100, 2);
	struct mirror_metadata md;
	struct mirror_cmd cmd;

	conf_md_init(c, &md, c->scratch, 2, 4096, 0x5000);
	md.blocks = 24; /* the elements add up to 16 */
	conf_large_cmd(c, NULL, &md, false, buf, 24 * MIRROR_BLOCK_SIZE, 5, &cmd);
	buf[100] = 0x04;
	conf_send(c, &cmd, c->cur->desc);
	return conf_check(c, &cmd, "pad byte 100 and an S/G sum mismatch", &want);
}

#define RX "wire-profile.md \"Receiver behaviour and status\""

static const struct conf_case cases[] = {
	{ "MIRROR.Errors.FixedFormatSense", "a rejected command gets fixed-format sense (70h) with SKSV set", RX, CONF_NEED_SMALL | CONF_NEED_VOLUMES, run_fixed_format, NULL },
	{ "MIRROR.Errors.FirstFieldInByteOrder", "two broken CDB fields: the one first in byte order (byte 1 bit 3) is reported", RX ", \"When several rules are broken\"", CONF_NEED_SMALL | CONF_NEED_VOLUMES, run_first_in_byte_order, NULL },
	{ "MIRROR.Errors.LbaRangeBeforeDataLength", "LBA out of range and a wrong data-out length: LOGICAL BLOCK ADDRESS OUT OF RANGE", RX ", \"When several rules are broken\"", CONF_NEED_SMALL | CONF_NEED_VOLUMES, run_lba_before_length, NULL },
	{ "MIRROR.Errors.FieldBeforeSgSum", "a metadata pad byte and an S/G sum mismatch: the pad byte (100 bit 2) is reported", RX ", \"When several rules are broken\"", CONF_NEED_NOTIFY, run_field_before_sum, NULL },
};

const struct conf_area conf_area_errors = { "MIRROR.Errors", cases, sizeof(cases) / sizeof(cases[0]) };
