/* Array table cases (source Fig. 4 item 427; wire-profile.md "Array serial
 * number table"): the harness extension ARRAY TABLE UPDATE and the small
 * path's volume number that indexes the table. */
#include "config.h"

#include <string.h>

#include <mirror/array_table.h>
#include <mirror/commands.h>

#include "conform.h"

/* The run's table (the suite's, or the target's own from --table) is
 * pushed, then a small write to another of its volumes (7 in the
 * suite's) is stored. */
static enum conf_verdict run_update_accepted(struct conf_ctx *c)
{
	static uint8_t data[4096];
	struct mirror_small_cdb s;
	struct mirror_cmd cmd;
	char what[80];
	int other = conf_other_volume(c, c->vol_a);
	uint8_t vol = other >= 0 ? (uint8_t)other : c->vol_a;

	conf_push_table(c, &cmd);
	if (conf_check(c, &cmd, "ARRAY TABLE UPDATE", NULL) != CONF_PASS)
		return CONF_FAIL;
	conf_small_init(c, &s, c->scratch, 8, 0, 0, 0x3000);
	s.volume = vol;
	conf_small_cmd(c, &s, data, sizeof(data), 7, &cmd);
	snprintf(what, sizeof(what), "small write to volume %u of the table", vol);
	conf_send(c, &cmd, what);
	if (conf_check(c, &cmd, what, NULL) != CONF_PASS)
		return CONF_FAIL;
	snprintf(what, sizeof(what), "volume %u write", vol);
	return conf_verify(c, what, c->scratch, data, sizeof(data));
}

/* The parameter list of the CDB and the data-out disagree. */
static enum conf_verdict run_param_length(struct conf_ctx *c)
{
	static uint8_t list[MIRROR_TABLE_MAX_BYTES + 16];
	struct mirror_cmd cmd;

	if (mirror_cmd_table_push(&cmd, &c->profile, &c->table, list, sizeof(list) - 16) < 0)
		return conf_fail(c, "internal: the table cannot be encoded");
	cmd.data_out_len += 16;
	conf_send(c, &cmd, "ARRAY TABLE UPDATE, 16 bytes too many");
	static const struct conf_sense want = CONF_PARAM_LENGTH;
	return conf_check(c, &cmd, "ARRAY TABLE UPDATE with a longer data-out", &want);
}

/* Two entries for one volume: the list is written byte by byte, since the
 * table struct cannot hold a duplicate. */
static enum conf_verdict run_dup_volume(struct conf_ctx *c)
{
	static uint8_t list[MIRROR_TABLE_HEADER_BYTES + 2 * MIRROR_TABLE_ENTRY_BYTES];
	struct mirror_cmd cmd;

	memset(list, 0, sizeof(list));
	list[3] = 9;  /* generation 9 */
	list[5] = 2;  /* two entries */
	for (unsigned i = 0; i < 2; i++) {
		uint8_t *e = list + MIRROR_TABLE_HEADER_BYTES + i * MIRROR_TABLE_ENTRY_BYTES;
		e[0] = 5;               /* volume 5, twice */
		e[1] = (uint8_t)(4 + i); /* array numbers differ */
		e[15] = (uint8_t)(0x50 + i);
	}
	if (mirror_cmd_table_update(&cmd, &c->profile, list, sizeof(list)) < 0)
		return conf_fail(c, "internal: the CDB cannot be encoded");
	conf_send(c, &cmd, "ARRAY TABLE UPDATE, volume 5 twice");
	static const struct conf_sense want = CONF_PARAM_FIELD(32, 7);
	enum conf_verdict v = conf_check(c, &cmd, "ARRAY TABLE UPDATE listing volume 5 twice", &want);
	/* Leave the run's table in place for the cases after this one. */
	conf_push_table(c, &cmd);
	return v;
}

/* The probe's small write, sent with --fresh before the suite's table
 * (conformance/runner.c): refused at the volume byte. */
static enum conf_verdict run_never_sent(struct conf_ctx *c)
{
	struct conf_sense want = CONF_CDB_FIELD(conf_volume_byte(&c->profile), 7);

	if (!c->support.pretable_sent)
		return conf_fail(c, "internal: the probe sent no write before the table");
	return conf_check(c, &c->support.pretable, "small write to a partner never sent the array table",
			  &want);
}

/* A newer generation that drops volume 7 (in the suite's table; another
 * than the cases' own in the target's) is in force at once: a small
 * write to it is refused as for a volume never in the table, while the
 * volumes the new table keeps still take writes.  A receiver left on the
 * stale generation would store the write to the dropped volume. */
static enum conf_verdict run_newer_generation(struct conf_ctx *c)
{
	static uint8_t list[MIRROR_TABLE_MAX_BYTES], data[4096];
	struct conf_sense want = CONF_CDB_FIELD(conf_volume_byte(&c->profile), 7);
	struct mirror_array_table t = c->table;
	struct mirror_small_cdb s;
	struct mirror_cmd cmd;
	enum conf_verdict v;
	int drop = conf_other_volume(c, c->vol_a);
	char what[96];

	if (drop < 0)
		return conf_skip(c, "the table has one volume: none to drop beside the one written");
	mirror_array_table_delete(&t, (uint8_t)drop);
	if (mirror_cmd_table_push(&cmd, &c->profile, &t, list, sizeof(list)) < 0)
		return conf_fail(c, "internal: the table cannot be encoded");
	snprintf(what, sizeof(what), "ARRAY TABLE UPDATE, generation +1 without volume %d", drop);
	conf_send(c, &cmd, what);
	v = conf_check(c, &cmd, "ARRAY TABLE UPDATE of a newer generation", NULL);
	if (v == CONF_PASS) {
		conf_small_init(c, &s, c->scratch, 8, 0, 0, 0x3100);
		s.volume = (uint8_t)drop;
		conf_small_cmd(c, &s, data, sizeof(data), 7, &cmd);
		snprintf(what, sizeof(what), "small write to volume %d, gone from the newer table", drop);
		conf_send(c, &cmd, what);
		v = conf_check(c, &cmd, "small write to a volume the newer generation dropped", &want);
	}
	if (v == CONF_PASS) {
		conf_small_init(c, &s, c->scratch, 8, 0, 0, 0x3200);
		conf_small_cmd(c, &s, data, sizeof(data), 8, &cmd);
		conf_send(c, &cmd, "small write to a volume the newer table keeps");
		v = conf_check(c, &cmd, "small write to a volume the newer generation keeps", NULL);
	}
	/* Leave the run's table in place for the cases after this one. */
	conf_push_table(c, &cmd);
	return v;
}

#define TABLE "Fig. 4 item 427; wire-profile.md \"Array serial number table\""

static const struct conf_case cases[] = {
	{ "MIRROR.ArrayTable.UpdateAccepted", "ARRAY TABLE UPDATE is taken and its volumes accept small writes", TABLE, CONF_NEED_TABLE | CONF_NEED_SMALL | CONF_NEED_VERIFY, run_update_accepted, NULL },
	{ "MIRROR.ArrayTable.DataOutLonger", "ARRAY TABLE UPDATE with a data-out longer than its parameter list length: PARAMETER LIST LENGTH ERROR", TABLE, CONF_NEED_TABLE, run_param_length, NULL },
	{ "MIRROR.ArrayTable.NeverSent", "a small write to a partner never sent the array table: INVALID FIELD IN CDB at the volume byte (3), bit 7", TABLE ", Fig. 7 block 712", CONF_NEED_SMALL | CONF_NEED_FRESH, run_never_sent, NULL },
	{ "MIRROR.ArrayTable.NewerGenerationApplied", "a newer table generation that drops volume 7 is in force at once: a small write to volume 7 is INVALID FIELD IN CDB at the volume byte (3), bit 7", TABLE ", Fig. 7 block 712 (a partner told a newer generation)", CONF_NEED_TABLE | CONF_NEED_SMALL, run_newer_generation, NULL },
	{ "MIRROR.ArrayTable.DuplicateVolume", "a table listing one volume twice: INVALID FIELD IN PARAMETER LIST at byte 32 bit 7", TABLE, CONF_NEED_TABLE, run_dup_volume, NULL },
};

const struct conf_area conf_area_table = { "MIRROR.ArrayTable", cases, sizeof(cases) / sizeof(cases[0]) };
