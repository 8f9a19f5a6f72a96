/* Reservations of a host-port logical unit: which commands a reservation
 * held through another I_T nexus refuses with RESERVATION CONFLICT (step
 * 6 of the order in sbc.h), and the SPC-2 reservation of RESERVE(6) /
 * RELEASE(6) (SPC-2 7.21, 7.19).
 *
 * SPC-2 5.5.1: a logical unit reserved through one I_T nexus refuses
 * every command of the others except INQUIRY, REQUEST SENSE, REPORT LUNS
 * and RELEASE (RELEASE through a nexus that holds nothing is GOOD and
 * changes nothing); the report commands of MAINTENANCE IN (REPORT TARGET
 * PORT GROUPS, REPORT SUPPORTED OPERATION CODES) are let through too, as
 * SPC-3 table 31 allows them under every reservation.  The reservation
 * ends with RELEASE through its nexus, a LOGICAL UNIT RESET, and the loss
 * of its I_T nexus (the session ends: logout or a dropped connection).
 *
 * Persistent reservations (SPC-4 5.13.1, table 65 for the SPC commands;
 * SBC-3 4.17, table 13 for the block commands): a command is in one of
 * three classes.  Allowed ones never conflict; reads conflict only under
 * the Exclusive Access types; writes (and SYNCHRONIZE CACHE) conflict
 * under every type.  The holder (SPC-4 5.13.10: the reserving nexus, or
 * every registered one for the All Registrants types) is never refused;
 * under the Registrants Only and All Registrants types a registered
 * nexus has the holder's access; the rest, per type:
 *
 *   type   reads of others   writes of others
 *   WE     allowed           conflict
 *   EA     conflict          conflict
 *   WERO   registered only   registered only
 *   EARO   registered only   registered only   (unregistered: no reads)
 *   WEAR   allowed           registered only
 *   EAAR   registered only   registered only
 *
 * The two kinds do not mix (SPC-3 5.6.3; LIO does the same): RESERVE(6)
 * and RELEASE(6) conflict while any registration exists, PERSISTENT
 * RESERVE IN/OUT while an SPC-2 reservation is held. */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "app/pair/sbc_int.h"

enum resv_class {
	RC_WRITE = 0, /* conflicts under every type (the default) */
	RC_READ,      /* conflicts under the Exclusive Access types */
	RC_ALLOWED,   /* never refused by a persistent reservation */
	RC_PR,        /* PERSISTENT RESERVE IN/OUT: their own rules */
	RC_SPC2       /* RESERVE(6)/RELEASE(6) */
};

struct resv_rule {
	uint8_t opcode;
	int8_t service_action; /* -1: every one */
	enum resv_class cls;
	bool spc2_ok; /* let through another nexus's SPC-2 reservation */
};

static const struct resv_rule rules[] = {
	{ 0x00, -1, RC_ALLOWED, false }, /* TEST UNIT READY */
	{ 0x03, -1, RC_ALLOWED, true },  /* REQUEST SENSE */
	{ 0x08, -1, RC_READ, false },    /* READ(6) */
	{ 0x12, -1, RC_ALLOWED, true },  /* INQUIRY */
	{ 0x16, -1, RC_SPC2, false },    /* RESERVE(6) */
	{ 0x17, -1, RC_SPC2, true },     /* RELEASE(6) */
	{ 0x1A, -1, RC_READ, false },    /* MODE SENSE(6) */
	{ 0x25, -1, RC_ALLOWED, false }, /* READ CAPACITY(10) */
	{ 0x28, -1, RC_READ, false },    /* READ(10) */
	{ 0x2F, -1, RC_READ, false },    /* VERIFY(10) */
	{ 0x34, -1, RC_READ, false },    /* PRE-FETCH(10) */
	{ 0x5A, -1, RC_READ, false },    /* MODE SENSE(10) */
	{ 0x5E, -1, RC_PR, false },      /* PERSISTENT RESERVE IN */
	{ 0x5F, -1, RC_PR, false },      /* PERSISTENT RESERVE OUT */
	{ 0x88, -1, RC_READ, false },    /* READ(16) */
	{ 0x8F, -1, RC_READ, false },    /* VERIFY(16) */
	{ 0x90, -1, RC_READ, false },    /* PRE-FETCH(16) */
	{ 0x9E, 0x10, RC_ALLOWED, false }, /* READ CAPACITY(16) */
	{ 0x9E, 0x12, RC_READ, false },  /* GET LBA STATUS */
	{ 0xA0, -1, RC_ALLOWED, true },  /* REPORT LUNS */
	{ 0xA3, -1, RC_ALLOWED, true },  /* MAINTENANCE IN: RTPG, RSOC */
	{ 0xA8, -1, RC_READ, false },    /* READ(12) */
	{ 0xAF, -1, RC_READ, false },    /* VERIFY(12) */
};

static const struct resv_rule *rule_of(const struct sbc_command *c)
{
	for (size_t i = 0; i < SBC_ARRAY_LEN(rules); i++)
		if (rules[i].opcode == c->opcode &&
		    (rules[i].service_action < 0 || rules[i].service_action == c->service_action))
			return &rules[i];
	return NULL;
}

static bool exclusive_access(enum mirror_sbc_pr_type t)
{
	return t == MIRROR_PR_EA || t == MIRROR_PR_EARO || t == MIRROR_PR_EAAR;
}

/* Registrants Only and All Registrants: a registered nexus has access. */
static bool registrants_access(enum mirror_sbc_pr_type t)
{
	return t == MIRROR_PR_WERO || t == MIRROR_PR_EARO || t == MIRROR_PR_WEAR ||
	       t == MIRROR_PR_EAAR;
}

int sbc_resv_access(struct sbc_ctx *x)
{
	const struct mirror_sbc_lu *lu = x->lu;
	const struct resv_rule *r = rule_of(x->cmd);
	enum resv_class cls = r ? r->cls : RC_WRITE;
	enum mirror_sbc_pr_type t = lu->pr.type;

	if (lu->reserved_by) {
		if (cls == RC_PR)
			return sbc_conflict(x, "%s: the logical unit has an SPC-2 reservation (RESERVE(6))",
					    x->cmd->name);
		if (lu->reserved_by != x->nexus && !(r && r->spc2_ok))
			return sbc_conflict(x, "%s: reserved by RESERVE(6) through another I_T nexus",
					    x->cmd->name);
		return 0;
	}
	if (cls == RC_SPC2 && sbc_pr_registered_any(lu))
		return sbc_conflict(x, "%s: the logical unit has persistent reservation registrations",
				    x->cmd->name);
	if (t == MIRROR_PR_NONE || cls == RC_ALLOWED || cls == RC_PR || cls == RC_SPC2 ||
	    sbc_pr_holder(lu, x->nexus))
		return 0;
	if (registrants_access(t) && sbc_pr_reg(lu, x->nexus))
		return 0;
	if (cls == RC_READ && !exclusive_access(t))
		return 0;
	return sbc_conflict(x, "%s: persistent reservation of type %Xh held through another I_T nexus",
			    x->cmd->name, (unsigned)t);
}

/* RESERVE(6), RELEASE(6): bytes 1-4 are obsolete (third-party and extent
 * reservations, SPC-2 7.21.2) and must be 0 (the command table). */
int sbc_reserve6(struct sbc_ctx *x)
{
	/* nexus 0 is none: nobody could hold the reservation or lose it */
	if (x->nexus == 0)
		return sbc_conflict(x, "%s: no I_T nexus to hold the reservation", x->cmd->name);
	return sbc_good(x);
}

int sbc_release6(struct sbc_ctx *x)
{
	return sbc_good(x);
}

void sbc_resv_apply(struct sbc_ctx *x)
{
	struct mirror_sbc_lu *lu = x->lu;

	if (x->v->status != MIRROR_STATUS_GOOD)
		return;
	/* RESERVE through the holder again is GOOD and changes nothing
	 * (SPC-2 7.21.1); RELEASE through a nexus that holds nothing is
	 * GOOD and releases nothing (7.19.1) */
	if (x->cmd->run == sbc_reserve6)
		lu->reserved_by = x->nexus;
	else if (x->cmd->run == sbc_release6 && lu->reserved_by == x->nexus)
		lu->reserved_by = 0;
}

void sbc_resv_drop(struct mirror_sbc_lu *lu, uint64_t nexus)
{
	if (nexus == 0 || lu->reserved_by == nexus)
		lu->reserved_by = 0;
}

void sbc_resv_forget(struct mirror_sbc_lu *lu)
{
	uint32_t generation = lu->pr.generation;

	lu->reserved_by = 0;
	memset(&lu->pr, 0, sizeof(lu->pr));
	/* PRGENERATION only ever grows while the logical unit is up (SPC-4
	 * 6.15.2): losing the registrations is a change like CLEAR's */
	lu->pr.generation = generation + 1;
}
