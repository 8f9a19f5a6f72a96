/* Sequencing cases (wire-profile.md "Metadata mirror message": the
 * sequence number is incremented per mirror message, per sender).  The
 * profile does not say what a receiver does with a gap or a repeat, so the
 * case reports what the target did and checks only that it did it
 * cleanly: an operation answered GOOD is stored and valid, one refused
 * changes nothing. */
#include "config.h"

#include <string.h>

#include "conform.h"

#define OP_BYTES 4096u

static enum conf_verdict large_write(struct conf_ctx *c, uint32_t addr, uint32_t sequence,
				     uint8_t *buf, uint64_t seed, struct mirror_cmd *cmd)
{
	struct mirror_metadata md;

	conf_md_init(c, &md, addr, 1, OP_BYTES, 0x6000);
	md.sequence = sequence;
	conf_large_cmd(c, NULL, &md, true, buf, OP_BYTES, seed, cmd);
	conf_send(c, cmd, "large write");
	return CONF_PASS;
}

static enum conf_verdict run_consecutive(struct conf_ctx *c)
{
	static uint8_t buf[3][MIRROR_METADATA_BYTES + OP_BYTES];
	struct mirror_cmd cmd;

	for (unsigned i = 0; i < 3; i++) {
		large_write(c, c->scratch + i * OP_BYTES, i + 1, buf[i], 30 + i, &cmd);
		if (conf_check(c, &cmd, i == 0 ? "sequence 1" : i == 1 ? "sequence 2" : "sequence 3",
			       NULL) != CONF_PASS)
			return CONF_FAIL;
	}
	for (unsigned i = 0; i < 3; i++)
		if (conf_verify(c, "consecutive sequence numbers", c->scratch + i * OP_BYTES,
				buf[i] + MIRROR_METADATA_BYTES, OP_BYTES) != CONF_PASS)
			return CONF_FAIL;
	return CONF_PASS;
}

/* Sequence 1, then 3 (a gap) and 3 again (a repeat), each over a range
 * that already holds a valid copy written on the small path. */
static enum conf_verdict run_gap_and_repeat(struct conf_ctx *c)
{
	static const struct {
		uint32_t sequence;
		const char *what;
	} steps[] = { { 1, "sequence 1" }, { 3, "sequence 3 after 1 (a gap)" },
		      { 3, "sequence 3 again (a repeat)" } };
	static uint8_t before[3][OP_BYTES], buf[3][MIRROR_METADATA_BYTES + OP_BYTES];
	struct mirror_small_cdb s;
	struct mirror_cmd cmd;

	for (unsigned i = 0; i < 3; i++) {
		conf_small_init(c, &s, c->scratch + i * OP_BYTES, OP_BYTES / MIRROR_BLOCK_SIZE, 0, 0,
				0x6000);
		conf_small_cmd(c, &s, before[i], OP_BYTES, 40 + i, &cmd);
		conf_send(c, &cmd, "earlier copy (small path)");
		if (conf_check(c, &cmd, "the earlier copy", NULL) != CONF_PASS)
			return CONF_FAIL;
	}
	for (unsigned i = 0; i < 3; i++) {
		uint32_t addr = c->scratch + i * OP_BYTES;
		large_write(c, addr, steps[i].sequence, buf[i], 50 + i, &cmd);
		if (cmd.result < 0)
			return conf_check(c, &cmd, steps[i].what, NULL);
		if (cmd.status == MIRROR_STATUS_GOOD) {
			if (i)
				conf_note(c, "%s: accepted", steps[i].what);
			if (conf_verify(c, steps[i].what, addr, buf[i] + MIRROR_METADATA_BYTES,
					OP_BYTES) != CONF_PASS)
				return CONF_FAIL;
			continue;
		}
		if (i == 0)
			return conf_check(c, &cmd, steps[i].what, NULL);
		conf_note(c, "%s: refused with %s %02Xh/%02Xh", steps[i].what,
			  mirror_sense_key_name(cmd.sense_parsed.key), cmd.sense_parsed.asc,
			  cmd.sense_parsed.ascq);
		/* refused: the operation must have changed nothing */
		char what[160];
		snprintf(what, sizeof(what), "%s was refused, so the earlier copy", steps[i].what);
		if (conf_verify(c, what, addr, before[i], OP_BYTES) != CONF_PASS)
			return CONF_FAIL;
	}
	return CONF_PASS;
}

#define SEQ "Fig. 3; wire-profile.md \"Metadata mirror message\" (sequence number)"

static const struct conf_case cases[] = {
	{ "MIRROR.Sequence.Consecutive", "large writes with sequence numbers 1, 2, 3 are all stored and valid", SEQ, CONF_NEED_NOTIFY | CONF_NEED_VERIFY, run_consecutive, NULL },
	{ "MIRROR.Sequence.GapAndRepeat", "a skipped and a repeated sequence number: accepted and stored, or refused with nothing changed", SEQ, CONF_NEED_NOTIFY | CONF_NEED_SMALL | CONF_NEED_VOLUMES | CONF_NEED_VERIFY, run_gap_and_repeat, NULL },
};

const struct conf_area conf_area_sequence = { "MIRROR.Sequence", cases, sizeof(cases) / sizeof(cases[0]) };
