/* Unit attention conditions per I_T nexus (SAM-5 5.14) and REQUEST SENSE
 * (SPC-4 6.39).
 *
 * A condition is established for every nexus that has used the logical
 * unit (sent it any command, or the LOGICAL UNIT RESET): a nexus the
 * logical unit has never seen learns the current state from its first
 * INQUIRY/RTPG and needs no attention.  Each kind is pending at most once
 * per nexus (two state changes before the host looks are one report).
 * UA_INTLCK_CTRL is 00b (Control mode page): reporting a condition clears
 * it, whether as CHECK CONDITION or as REQUEST SENSE data.
 *
 * Several pending: the highest priority first, one per command.  A reset
 * outranks everything (SAM-5 5.14: the reset conditions, 29h, have the
 * highest precedence; after one, the host re-reads the state anyway), then
 * ASYMMETRIC ACCESS STATE CHANGED.
 *
 * Memory is bounded: MIRROR_SBC_NEXUS_MAX nexuses per logical unit.  When
 * a new one comes and the table is full, the least recently used one is
 * forgotten with whatever was pending for it (counted in nexus_forgotten);
 * the engine's nexus_end() frees entries of closed sessions first. */
#include "config.h"

#include <string.h>

#include "app/pair/sbc_int.h"

/* In the order reported. */
static const struct ua_kind {
	unsigned bit;
	uint8_t asc, ascq;
} ua_kinds[] = {
	{ MIRROR_SBC_UA_RESET, 0x29, 0x00 },        /* POWER ON, RESET, OR BUS DEVICE RESET OCCURRED */
	{ MIRROR_SBC_UA_ALUA_CHANGED, 0x2A, 0x06 }, /* ASYMMETRIC ACCESS STATE CHANGED */
	/* persistent reservations (SPC-4 5.13.11, table 18) */
	{ MIRROR_SBC_UA_PR_PREEMPTED, 0x2A, 0x03 },  /* RESERVATIONS PREEMPTED */
	{ MIRROR_SBC_UA_PR_RELEASED, 0x2A, 0x04 },   /* RESERVATIONS RELEASED */
	{ MIRROR_SBC_UA_REG_PREEMPTED, 0x2A, 0x05 }, /* REGISTRATIONS PREEMPTED */
};

/* The slot of nexus, or -1 (0 is never a nexus: it marks a free slot). */
static int nexus_slot(const struct mirror_sbc_lu *lu, uint64_t nexus)
{
	if (nexus == 0)
		return -1;
	for (unsigned i = 0; i < MIRROR_SBC_NEXUS_MAX; i++)
		if (lu->nexus[i].id == nexus)
			return (int)i;
	return -1;
}

static struct mirror_sbc_nexus *find_nexus(struct mirror_sbc_lu *lu, uint64_t nexus)
{
	int i = nexus_slot(lu, nexus);

	return i < 0 ? NULL : &lu->nexus[i];
}

void sbc_nexus_touch(struct mirror_sbc_lu *lu, uint64_t nexus)
{
	struct mirror_sbc_nexus *e = find_nexus(lu, nexus), *victim = NULL;

	if (nexus == 0)
		return;
	lu->uses++;
	if (e) {
		e->last_use = lu->uses;
		return;
	}
	for (unsigned i = 0; i < MIRROR_SBC_NEXUS_MAX; i++) {
		struct mirror_sbc_nexus *n = &lu->nexus[i];
		if (n->id == 0) {
			victim = n;
			break;
		}
		if (!victim || n->last_use < victim->last_use)
			victim = n;
	}
	if (victim->id != 0)
		lu->nexus_forgotten++;
	victim->id = nexus;
	victim->last_use = lu->uses;
	victim->pending = 0;
}

void sbc_ua_establish(struct mirror_sbc_lu *lu, unsigned ua)
{
	for (unsigned i = 0; i < MIRROR_SBC_NEXUS_MAX; i++)
		if (lu->nexus[i].id != 0)
			lu->nexus[i].pending |= ua;
}

void sbc_ua_add(struct mirror_sbc_lu *lu, uint64_t nexus, unsigned ua)
{
	struct mirror_sbc_nexus *e = find_nexus(lu, nexus);

	if (e)
		e->pending |= ua;
}

bool sbc_ua_take(struct mirror_sbc_lu *lu, uint64_t nexus, uint8_t *asc, uint8_t *ascq)
{
	struct mirror_sbc_nexus *e = find_nexus(lu, nexus);

	if (!e)
		return false;
	for (size_t i = 0; i < SBC_ARRAY_LEN(ua_kinds); i++) {
		if (e->pending & ua_kinds[i].bit) {
			e->pending &= ~ua_kinds[i].bit;
			*asc = ua_kinds[i].asc;
			*ascq = ua_kinds[i].ascq;
			return true;
		}
	}
	return false;
}

void mirror_sbc_reset(struct mirror_sbc_lu *lu, uint64_t nexus)
{
	if (!lu)
		return;
	sbc_nexus_touch(lu, nexus);
	sbc_ua_establish(lu, MIRROR_SBC_UA_RESET);
	sbc_resv_drop(lu, 0);
}

void mirror_sbc_nexus_end(struct mirror_sbc_lu *lu, uint64_t nexus)
{
	struct mirror_sbc_nexus *e = lu ? find_nexus(lu, nexus) : NULL;

	if (lu)
		sbc_resv_drop(lu, nexus);
	if (e)
		memset(e, 0, sizeof(*e));
}

unsigned mirror_sbc_ua_pending(const struct mirror_sbc_lu *lu, uint64_t nexus)
{
	int i = lu ? nexus_slot(lu, nexus) : -1;

	return i < 0 ? 0 : lu->nexus[i].pending;
}

/* The sense data when nothing is pending: NO SENSE, or for a LUN without
 * a logical unit, LOGICAL UNIT NOT SUPPORTED as data with GOOD status
 * (SPC-4 6.39).  A pending unit attention replaces it (sbc.c, step 4).
 * Sense goes with every CHECK CONDITION (autosense), so nothing else is
 * ever left to report here. */
int sbc_request_sense(struct sbc_ctx *x)
{
	if (x->lu)
		sbc_sense_bytes(x->v->data, MIRROR_SK_NO_SENSE, 0x00, 0x00);
	else
		sbc_sense_bytes(x->v->data, MIRROR_SK_ILLEGAL_REQUEST, 0x25, 0x00);
	return sbc_data(x, MIRROR_FIXED_SENSE_LEN, x->cdb[4]);
}
