/* The SCSI command layer of a host-port logical unit: its life cycle, the
 * one table of the commands it knows, and the order in which a command is
 * judged (app/pair/sbc.h).  CDB layouts: SPC-4 6.6 INQUIRY, 6.11/6.12
 * MODE SENSE, 6.33 REPORT LUNS, 6.36 REPORT TARGET PORT GROUPS, 6.39
 * REQUEST SENSE, 6.47 TEST UNIT READY; SBC-3 5.11/5.13 READ, 5.15/5.16
 * READ CAPACITY, 5.22/5.23 SYNCHRONIZE CACHE, 5.32/5.34 WRITE. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "app/pair/sbc_int.h"
#include "base/why.h"
#include "iscsi/target.h"

/* ---- the fields each command must leave zero: reserved, and options
 * this logical unit does not have (protection information, descriptor
 * sense, the obsolete CMDDT) ---- */

static const struct sbc_field z_tur[] = {
	{ 1, 7, 8, "reserved" },
	{ 2, 7, 8, "reserved" },
	{ 3, 7, 8, "reserved" },
	{ 4, 7, 8, "reserved" },
};
static const struct sbc_field z_request_sense[] = {
	{ 1, 7, 7, "reserved" },
	{ 1, 0, 1, "DESC (descriptor format sense data is not supported)" },
	{ 2, 7, 8, "reserved" },
	{ 3, 7, 8, "reserved" },
};
static const struct sbc_field z_inquiry[] = {
	{ 1, 7, 6, "reserved" },
	{ 1, 1, 1, "CMDDT (obsolete)" },
};
static const struct sbc_field z_mode_sense6[] = {
	{ 1, 7, 4, "reserved" },
	{ 1, 2, 3, "reserved" },
};
static const struct sbc_field z_mode_sense10[] = {
	{ 1, 7, 3, "reserved" },
	{ 1, 2, 3, "reserved" },
	{ 4, 7, 8, "reserved" },
	{ 5, 7, 8, "reserved" },
	{ 6, 7, 8, "reserved" },
};
static const struct sbc_field z_read_capacity10[] = {
	{ 1, 7, 7, "reserved" },
	{ 6, 7, 8, "reserved" },
	{ 7, 7, 8, "reserved" },
	{ 8, 7, 7, "reserved" },
};
static const struct sbc_field z_read10[] = {
	{ 1, 7, 3, "RDPROTECT (no protection information)" },
	{ 6, 7, 3, "reserved" },
};
static const struct sbc_field z_write10[] = {
	{ 1, 7, 3, "WRPROTECT (no protection information)" },
	{ 1, 2, 1, "reserved" },
	{ 6, 7, 3, "reserved" },
};
static const struct sbc_field z_sync10[] = {
	{ 1, 7, 5, "reserved" },
	{ 6, 7, 3, "reserved" },
};
static const struct sbc_field z_read16[] = {
	{ 1, 7, 3, "RDPROTECT (no protection information)" },
	{ 14, 7, 3, "reserved" },
};
static const struct sbc_field z_write16[] = {
	{ 1, 7, 3, "WRPROTECT (no protection information)" },
	{ 1, 2, 1, "reserved" },
	{ 14, 7, 3, "reserved" },
};
static const struct sbc_field z_sync16[] = {
	{ 1, 7, 5, "reserved" },
	{ 14, 7, 3, "reserved" },
};
static const struct sbc_field z_read_capacity16[] = {
	{ 1, 7, 3, "reserved" },
	{ 14, 7, 7, "reserved" },
};
static const struct sbc_field z_report_luns[] = {
	{ 1, 7, 8, "reserved" },
	{ 3, 7, 8, "reserved" },
	{ 4, 7, 8, "reserved" },
	{ 5, 7, 8, "reserved" },
	{ 10, 7, 8, "reserved" },
};
static const struct sbc_field z_rtpg[] = {
	{ 2, 7, 8, "reserved" },
	{ 3, 7, 8, "reserved" },
	{ 4, 7, 8, "reserved" },
	{ 5, 7, 8, "reserved" },
	{ 10, 7, 8, "reserved" },
};

static int sbc_tur(struct sbc_ctx *x)
{
	return sbc_good(x);
}

#define Z(list) list, SBC_ARRAY_LEN(list)

/* Data direction, access-state class and unit attention rule per command:
 * SPC-4 5.15.2.4.4 (standby), 5.15.2.4.5 (unavailable), 5.15.2.5
 * (transitioning), SAM-5 5.14 (INQUIRY, REPORT LUNS, REQUEST SENSE). */
static const struct sbc_command commands[] = {
	{ 0x00, -1, 6, SBC_NONE, SBC_ALUA_ACTIVE, SBC_UA_REPORT, false, Z(z_tur), sbc_tur,
	  "TEST UNIT READY" },
	{ 0x03, -1, 6, SBC_IN, SBC_ALUA_ANY, SBC_UA_AS_DATA, true, Z(z_request_sense),
	  sbc_request_sense, "REQUEST SENSE" },
	{ 0x12, -1, 6, SBC_IN, SBC_ALUA_ANY, SBC_UA_IGNORE, true, Z(z_inquiry), sbc_inquiry,
	  "INQUIRY" },
	{ 0x1A, -1, 6, SBC_IN, SBC_ALUA_STANDBY, SBC_UA_REPORT, false, Z(z_mode_sense6),
	  sbc_mode_sense6, "MODE SENSE(6)" },
	{ 0x25, -1, 10, SBC_IN, SBC_ALUA_STANDBY, SBC_UA_REPORT, false, Z(z_read_capacity10),
	  sbc_read_capacity10, "READ CAPACITY(10)" },
	{ 0x28, -1, 10, SBC_IN, SBC_ALUA_ACTIVE, SBC_UA_REPORT, false, Z(z_read10), sbc_read10,
	  "READ(10)" },
	{ 0x2A, -1, 10, SBC_OUT, SBC_ALUA_ACTIVE, SBC_UA_REPORT, false, Z(z_write10), sbc_write10,
	  "WRITE(10)" },
	{ 0x35, -1, 10, SBC_NONE, SBC_ALUA_ACTIVE, SBC_UA_REPORT, false, Z(z_sync10), sbc_sync10,
	  "SYNCHRONIZE CACHE(10)" },
	{ 0x5A, -1, 10, SBC_IN, SBC_ALUA_STANDBY, SBC_UA_REPORT, false, Z(z_mode_sense10),
	  sbc_mode_sense10, "MODE SENSE(10)" },
	{ 0x88, -1, 16, SBC_IN, SBC_ALUA_ACTIVE, SBC_UA_REPORT, false, Z(z_read16), sbc_read16,
	  "READ(16)" },
	{ 0x8A, -1, 16, SBC_OUT, SBC_ALUA_ACTIVE, SBC_UA_REPORT, false, Z(z_write16), sbc_write16,
	  "WRITE(16)" },
	{ 0x91, -1, 16, SBC_NONE, SBC_ALUA_ACTIVE, SBC_UA_REPORT, false, Z(z_sync16), sbc_sync16,
	  "SYNCHRONIZE CACHE(16)" },
	{ 0x9E, 0x10, 16, SBC_IN, SBC_ALUA_STANDBY, SBC_UA_REPORT, false, Z(z_read_capacity16),
	  sbc_read_capacity16, "READ CAPACITY(16)" },
	{ 0xA0, -1, 12, SBC_IN, SBC_ALUA_ANY, SBC_UA_IGNORE, true, Z(z_report_luns),
	  sbc_report_luns, "REPORT LUNS" },
	{ 0xA3, 0x0A, 12, SBC_IN, SBC_ALUA_ANY, SBC_UA_REPORT, false, Z(z_rtpg), sbc_rtpg,
	  "REPORT TARGET PORT GROUPS" },
};

/* The CONTROL byte (SAM-5 5.2): NACA = 1 asks for ACA, which this logical
 * unit does not support; bits 1-0 are obsolete, 7-6 vendor specific. */
static int check_control(struct sbc_ctx *x)
{
	unsigned last = x->cmd->cdb_len - 1u;
	const struct sbc_field control[] = {
		{ (uint8_t)last, 5, 3, "CONTROL reserved" },
		{ (uint8_t)last, 2, 1, "NACA (ACA is not supported)" },
	};

	return sbc_check_zero(x, control, SBC_ARRAY_LEN(control));
}

static const struct sbc_command *find_command(uint8_t op, int sa)
{
	for (size_t i = 0; i < SBC_ARRAY_LEN(commands); i++)
		if (commands[i].opcode == op && (sa < 0 || commands[i].service_action == sa))
			return &commands[i];
	return NULL;
}

static void verdict_reset(struct mirror_sbc_verdict *v)
{
	/* data[] is written by whoever fills it, up to what it reports */
	v->kind = MIRROR_SBC_RESPOND;
	v->lba = 0;
	v->blocks = 0;
	v->fua = v->all = v->immed = false;
	v->status = MIRROR_STATUS_GOOD;
	memset(v->sense, 0, sizeof(v->sense));
	v->sense_len = 0;
	v->data_len = 0;
	v->data_overflow = 0;
	v->why[0] = '\0';
}

/* Never more data-in than the initiator expects, none without a data-in
 * buffer: what is cut off is the residual overflow. */
static void cut_to_edtl(struct sbc_ctx *x)
{
	struct mirror_sbc_verdict *v = x->v;
	uint32_t room = x->dir == MIRROR_DIR_IN ? x->edtl : 0;

	if (v->status != MIRROR_STATUS_GOOD ||
	    (v->kind != MIRROR_SBC_RESPOND && v->kind != MIRROR_SBC_READ))
		return;
	if (v->data_len > room) {
		v->data_overflow = v->data_len - room;
		v->data_len = room;
	}
}

/* Steps 2 and 3 of the order: what the CDB is, and whether it is well
 * formed.  0 with x->cmd set, or -1 with the error in the verdict. */
static int parse(struct sbc_ctx *x, unsigned cdb_len)
{
	const uint8_t *cdb = x->cdb;
	const struct sbc_command *c = find_command(cdb[0], -1);

	if (!c)
		return sbc_check(x, MIRROR_SK_ILLEGAL_REQUEST, 0x20, 0x00,
				 "operation code 0x%02X is not supported", cdb[0]);
	if (cdb_len < c->cdb_len)
		return sbc_invalid(x, 0x24, 0x00, 0, 7, "operation code 0x%02X: the CDB has %u bytes, needs %u",
				   cdb[0], cdb_len, c->cdb_len);
	if (c->service_action >= 0) {
		const struct sbc_command *sa = find_command(cdb[0], cdb[1] & 0x1f);
		if (!sa)
			return sbc_invalid(x, 0x24, 0x00, 1, 4,
					   "operation code 0x%02X: service action 0x%02X is not supported",
					   cdb[0], cdb[1] & 0x1f);
		c = sa;
	}
	x->cmd = c;
	/* A command is not that command with data the other way (the
	 * receiver's rule, wire-profile.md): no data-out READ, no data-in
	 * WRITE. */
	if ((c->data == SBC_IN && x->dir == MIRROR_DIR_OUT) ||
	    (c->data == SBC_OUT && x->dir == MIRROR_DIR_IN))
		return sbc_check(x, MIRROR_SK_ILLEGAL_REQUEST, 0x20, 0x00,
				 "%s is not a command with data-%s", c->name,
				 x->dir == MIRROR_DIR_OUT ? "out" : "in");
	if (sbc_check_zero(x, c->zero, c->n_zero) < 0 || check_control(x) < 0)
		return -1;
	return 0;
}

/* Step 4: SAM-5 5.14, the unit attention condition, one per report. */
static int unit_attention(struct sbc_ctx *x)
{
	uint8_t asc, ascq;

	if (x->cmd->ua == SBC_UA_IGNORE || !sbc_ua_take(x->lu, x->nexus, &asc, &ascq))
		return 0;
	if (x->cmd->ua == SBC_UA_AS_DATA) {
		/* REQUEST SENSE returns it as its data (SPC-4 6.39) */
		sbc_sense_bytes(x->v->data, MIRROR_SK_UNIT_ATTENTION, asc, ascq);
		x->v->data_len = sbc_min32(MIRROR_FIXED_SENSE_LEN, x->cdb[4]);
		return 0;
	}
	return sbc_check(x, MIRROR_SK_UNIT_ATTENTION, asc, ascq, "%s: unit attention %02Xh/%02Xh",
			 x->cmd->name, asc, ascq);
}

int mirror_sbc_decode(struct mirror_sbc_lu *lu, const struct mirror_sbc_port *port,
		      uint64_t nexus, const uint8_t *cdb, unsigned cdb_len,
		      enum mirror_xfer_dir dir, uint32_t edtl, struct mirror_sbc_verdict *out)
{
	struct sbc_ctx x = { lu, port, nexus, cdb, NULL, dir, edtl, out };
	const struct sbc_command *c;

	if (!port || !out || !cdb)
		return -EINVAL;
	verdict_reset(out);
	if (cdb_len == 0) {
		sbc_check(&x, MIRROR_SK_ILLEGAL_REQUEST, 0x20, 0x00, "empty CDB");
		return 0;
	}
	/* Step 1: a LUN without a logical unit (SAM-5, incorrect logical
	 * unit selection): only INQUIRY, REPORT LUNS and REQUEST SENSE are
	 * answered, the rest is LOGICAL UNIT NOT SUPPORTED. */
	c = find_command(cdb[0], -1);
	if (!lu && !(c && c->any_lun)) {
		sbc_check(&x, MIRROR_SK_ILLEGAL_REQUEST, 0x25, 0x00,
			  "no logical unit at this LUN (operation code 0x%02X)", cdb[0]);
		return 0;
	}
	if (lu)
		sbc_nexus_touch(lu, nexus);
	if (parse(&x, cdb_len) < 0 || x.cmd->run(&x) < 0)
		return 0;
	if (lu && (unit_attention(&x) < 0 || sbc_alua_access(&x) < 0))
		return 0;
	cut_to_edtl(&x);
	return 0;
}

/* ---- life cycle ---- */

static int check_config(const struct mirror_sbc_lu_config *c, char *why, size_t why_len)
{
	size_t n = strnlen(c->serial, sizeof(c->serial));

	if (c->lun > MIRROR_SBC_LUN_MAX)
		return mirror_fail(-EINVAL, why, why_len, "LUN %u is over %u", (unsigned)c->lun,
				   MIRROR_SBC_LUN_MAX);
	if (c->blocks == 0)
		return mirror_fail(-EINVAL, why, why_len, "LUN %u: capacity of 0 blocks",
				   (unsigned)c->lun);
	if (c->naa[0] >> 4 != 6)
		return mirror_fail(-EINVAL, why, why_len,
				   "LUN %u: NAA byte 0 is 0x%02X; NAA 6 (registered extended) needs 6h in bits 7-4",
				   (unsigned)c->lun, c->naa[0]);
	if (n == 0 || n == sizeof(c->serial))
		return mirror_fail(-EINVAL, why, why_len,
				   "LUN %u: the unit serial number must have 1 to 32 characters",
				   (unsigned)c->lun);
	for (size_t i = 0; i < n; i++)
		if (c->serial[i] < 0x20 || c->serial[i] > 0x7e)
			return mirror_fail(-EINVAL, why, why_len,
					   "LUN %u: serial number character %zu is not printable ASCII",
					   (unsigned)c->lun, i);
	if (c->local_tpg == c->remote_tpg)
		return mirror_fail(-EINVAL, why, why_len,
				   "LUN %u: local and remote target port group are both %u",
				   (unsigned)c->lun, c->local_tpg);
	if (c->local_rel_port == 0 || c->remote_rel_port == 0 ||
	    c->local_rel_port == c->remote_rel_port)
		return mirror_fail(-EINVAL, why, why_len,
				   "LUN %u: relative target ports %u and %u must be distinct and not 0",
				   (unsigned)c->lun, c->local_rel_port, c->remote_rel_port);
	if (c->transition_secs > 255)
		return mirror_fail(-EINVAL, why, why_len,
				   "LUN %u: implicit transition time %u s is over 255",
				   (unsigned)c->lun, c->transition_secs);
	if (!mirror_alua_state_valid(c->local_state) || !mirror_alua_state_valid(c->remote_state))
		return mirror_fail(-EINVAL, why, why_len,
				   "LUN %u: initial access states 0x%X/0x%X: not ALUA states",
				   (unsigned)c->lun, (unsigned)c->local_state, (unsigned)c->remote_state);
	return 0;
}

int mirror_sbc_lu_init(struct mirror_sbc_lu *lu, const struct mirror_sbc_lu_config *c,
		       char *why, size_t why_len)
{
	int rc;

	if (!lu || !c)
		return mirror_fail(-EINVAL, why, why_len, "no logical unit or configuration");
	rc = check_config(c, why, why_len);
	if (rc < 0)
		return rc;
	memset(lu, 0, sizeof(*lu));
	lu->cfg = *c;
	lu->cfg.serial[sizeof(lu->cfg.serial) - 1] = '\0';
	lu->state[0] = c->local_state;
	lu->state[1] = c->remote_state;
	lu->status[0] = lu->status[1] = MIRROR_ALUA_STATUS_NONE;
	return 0;
}

int mirror_sbc_to_action(const struct mirror_sbc_verdict *v, struct mirror_tgt_action *act)
{
	if (!v || !act || v->kind != MIRROR_SBC_RESPOND)
		return -EINVAL;
	memset(act, 0, sizeof(*act));
	act->kind = MIRROR_TGT_RESPOND;
	act->status = v->status;
	memcpy(act->sense, v->sense, sizeof(act->sense));
	act->sense_len = v->sense_len;
	act->data_in = v->data_len ? v->data : NULL;
	act->data_in_len = v->data_len;
	act->data_in_overflow = v->data_overflow;
	return 0;
}
