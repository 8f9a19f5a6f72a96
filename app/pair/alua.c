/* Implicit asymmetric logical unit access (SPC-4 5.15): two target port
 * groups, one per controller's host port, each with one target port.  The
 * controller sets both groups' states as its port shows them; this file
 * says what a state lets through and answers REPORT TARGET PORT GROUPS
 * (SPC-4 6.36).  Hosts (Linux scsi_dh_alua) read the state from byte 0
 * bits 3-0 of each descriptor, the implicit transition time from the
 * extended header, and retry on NOT READY 04h/0Ah and UNIT ATTENTION
 * 2Ah/06h. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "app/pair/sbc_int.h"
#include "base/bytes.h"

/* What each state lets through (SPC-4 5.15.2.4, the access states; the
 * lists of Linux's target_core_alua.c) and the ASCQ of the NOT READY, LOGICAL
 * UNIT NOT ACCESSIBLE (04h) answer to the rest. */
static const struct alua_rule {
	enum mirror_alua_state state;
	const char *name;
	bool standby_class; /* MODE SENSE, READ CAPACITY */
	bool active_class;  /* media access, TEST UNIT READY */
	uint8_t ascq;
} alua_rules[] = {
	{ MIRROR_ALUA_ACTIVE_OPTIMIZED, "active/optimized", true, true, 0x00 },
	{ MIRROR_ALUA_ACTIVE_NON_OPTIMIZED, "active/non-optimized", true, true, 0x00 },
	/* SPC-4 5.15.2.4.4: standby serves neither media access nor TEST
	 * UNIT READY (LIO's list; Linux's ALUA handler reads a standby path
	 * from TEST UNIT READY's 04h/0Bh) */
	{ MIRROR_ALUA_STANDBY, "standby", true, false, 0x0B },          /* TARGET PORT IN STANDBY STATE */
	{ MIRROR_ALUA_UNAVAILABLE, "unavailable", false, false, 0x0C }, /* TARGET PORT IN UNAVAILABLE STATE */
	{ MIRROR_ALUA_TRANSITIONING, "transitioning", false, false, 0x0A }, /* ASYMMETRIC ACCESS STATE TRANSITION */
};

static const struct alua_rule *rule_of(unsigned state)
{
	for (size_t i = 0; i < SBC_ARRAY_LEN(alua_rules); i++)
		if ((unsigned)alua_rules[i].state == state)
			return &alua_rules[i];
	return NULL;
}

bool mirror_alua_state_valid(unsigned state)
{
	return rule_of(state) != NULL;
}

const char *mirror_alua_state_name(unsigned state)
{
	const struct alua_rule *r = rule_of(state);

	return r ? r->name : "invalid";
}

int sbc_alua_access(struct sbc_ctx *x)
{
	const struct alua_rule *r = rule_of(x->lu->state[0]);
	bool ok;

	if (!r) /* mirror_sbc_alua_set and init admit none */
		return sbc_check(x, MIRROR_SK_NOT_READY, 0x04, 0x0A, "invalid access state");
	switch (x->cmd->alua) {
	case SBC_ALUA_ANY:
		ok = true;
		break;
	case SBC_ALUA_STANDBY:
		ok = r->standby_class;
		break;
	default:
		ok = r->active_class;
		break;
	}
	if (ok)
		return 0;
	return sbc_check(x, MIRROR_SK_NOT_READY, 0x04, r->ascq,
			 "%s: the target port group %u is %s", x->cmd->name, x->lu->cfg.local_tpg,
			 r->name);
}

int mirror_sbc_alua_set(struct mirror_sbc_lu *lu, enum mirror_alua_state local,
			enum mirror_alua_state remote)
{
	const enum mirror_alua_state next[2] = { local, remote };
	bool changed = false;

	if (!lu || !mirror_alua_state_valid(local) || !mirror_alua_state_valid(remote))
		return -EINVAL;
	for (unsigned g = 0; g < 2; g++) {
		if (lu->state[g] == next[g])
			continue;
		lu->state[g] = next[g];
		lu->status[g] = MIRROR_ALUA_STATUS_IMPLICIT;
		changed = true;
	}
	/* SPC-4 5.15: after an implicit change, a unit attention for the
	 * initiator port of every I_T nexus. */
	if (changed)
		sbc_ua_establish(lu, MIRROR_SBC_UA_ALUA_CHANGED);
	/* The reservations live at the owner's port only (sbc_pr.c): a port
	 * whose group no longer serves the logical unit forgets them, so
	 * that a later takeover never revives a stale state. */
	if (local == MIRROR_ALUA_STANDBY || local == MIRROR_ALUA_UNAVAILABLE)
		sbc_resv_forget(lu);
	return changed ? 1 : 0;
}

/* ---- REPORT TARGET PORT GROUPS (SPC-4 6.36) ---- */

/* Supported states byte: T_SUP (7), U_SUP (3), S_SUP (2), AN_SUP (1),
 * AO_SUP (0); not O_SUP (offline, 6) nor LBD_SUP (4). */
#define RTPG_SUPPORTED 0x8F
#define RTPG_DESC_LEN 12u /* 8 + one target port descriptor of 4 */

static unsigned put_group(uint8_t *p, enum mirror_alua_state state, uint8_t status,
			  uint16_t tpg, uint16_t rel_port)
{
	memset(p, 0, RTPG_DESC_LEN);
	p[0] = (uint8_t)(state & 0x0f); /* PREF 0, ASYMMETRIC ACCESS STATE */
	p[1] = RTPG_SUPPORTED;
	put_be16(p + 2, tpg);
	p[5] = status;
	p[7] = 1; /* TARGET PORT COUNT */
	put_be16(p + 10, rel_port); /* after 2 obsolete bytes */
	return RTPG_DESC_LEN;
}

int sbc_rtpg(struct sbc_ctx *x)
{
	const struct mirror_sbc_lu *lu = x->lu;
	const struct mirror_sbc_lu_config *c = &lu->cfg;
	unsigned format = x->cdb[1] >> 5, off;
	uint8_t *d = x->v->data;
	/* ascending group number, the same order from both controllers */
	unsigned first = c->local_tpg < c->remote_tpg ? 0 : 1;
	const uint16_t tpg[2] = { c->local_tpg, c->remote_tpg };
	const uint16_t port[2] = { c->local_rel_port, c->remote_rel_port };

	/* 000b: length only header; 001b: extended header */
	if (format > 1)
		return sbc_invalid(x, 0x24, 0x00, 1, 7,
				   "%s: CDB byte 1 bit 7: PARAMETER DATA FORMAT %u is not supported",
				   x->cmd->name, format);
	off = format ? 8u : 4u;
	memset(d, 0, off);
	for (unsigned i = 0; i < 2; i++) {
		unsigned g = i == 0 ? first : 1u - first;
		off += put_group(d + off, lu->state[g], lu->status[g], tpg[g], port[g]);
	}
	/* RETURN DATA LENGTH: the bytes after itself (n - 3), both formats */
	put_be32(d, off - 4u);
	if (format) {
		d[4] = 0x10; /* FORMAT TYPE 001b */
		d[5] = (uint8_t)c->transition_secs;
	}
	return sbc_data(x, off, get_be32(x->cdb + 6));
}
