/* Persistent reservations (SPC-4 5.13): PERSISTENT RESERVE IN (6.15:
 * READ KEYS, READ RESERVATION, REPORT CAPABILITIES) and OUT (6.16:
 * REGISTER, RESERVE, RELEASE, CLEAR, PREEMPT, REGISTER AND IGNORE
 * EXISTING KEY).  Which commands a reservation refuses: sbc_resv.c.
 *
 * What this logical unit does not do, as REPORT CAPABILITIES says: no
 * persist through power loss (PTPL_C 0: APTPL 1 is refused), no
 * SPEC_I_PT (SIP_C 0), no ALL_TG_PT (ATP_C 0); PREEMPT AND ABORT, REGISTER
 * AND MOVE are not supported (INVALID FIELD IN CDB at the service
 * action).  A registration belongs to the I_T nexus it came
 * through, the engine's session: a new login is a new nexus.
 *
 * The state lives at the port that holds it: the LU's owner.  PERSISTENT
 * RESERVE IN/OUT are media-access class for ALUA here (NOT READY at a
 * standby port) so that the partner's port never answers from a state of
 * its own (README "Persistent reservations in an
 * active-active pair"). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "app/pair/sbc_int.h"
#include "base/bytes.h"

#define PR_PARAM_LEN 24u /* SPC-4 6.16.3, SPEC_I_PT 0 */

enum pr_out_sa {
	SA_REGISTER = 0x00,
	SA_RESERVE = 0x01,
	SA_RELEASE = 0x02,
	SA_CLEAR = 0x03,
	SA_PREEMPT = 0x04,
	SA_REGISTER_IGNORE = 0x06
};

static bool type_valid(unsigned t)
{
	return t == MIRROR_PR_WE || t == MIRROR_PR_EA || t == MIRROR_PR_WERO ||
	       t == MIRROR_PR_EARO || t == MIRROR_PR_WEAR || t == MIRROR_PR_EAAR;
}

static bool all_registrants(enum mirror_sbc_pr_type t)
{
	return t == MIRROR_PR_WEAR || t == MIRROR_PR_EAAR;
}

static bool registrants_only(enum mirror_sbc_pr_type t)
{
	return t == MIRROR_PR_WERO || t == MIRROR_PR_EARO;
}

const struct mirror_sbc_pr_reg *sbc_pr_reg(const struct mirror_sbc_lu *lu, uint64_t nexus)
{
	if (nexus == 0)
		return NULL;
	for (unsigned i = 0; i < MIRROR_SBC_PR_REGS_MAX; i++)
		if (lu->pr.reg[i].nexus == nexus)
			return &lu->pr.reg[i];
	return NULL;
}

bool sbc_pr_holder(const struct mirror_sbc_lu *lu, uint64_t nexus)
{
	if (lu->pr.type == MIRROR_PR_NONE)
		return false;
	if (all_registrants(lu->pr.type))
		return sbc_pr_reg(lu, nexus) != NULL;
	return nexus != 0 && lu->pr.holder == nexus;
}

bool sbc_pr_registered_any(const struct mirror_sbc_lu *lu)
{
	for (unsigned i = 0; i < MIRROR_SBC_PR_REGS_MAX; i++)
		if (lu->pr.reg[i].nexus)
			return true;
	return false;
}

/* ---- PERSISTENT RESERVE IN (SPC-4 6.15) ---- */

static uint32_t read_keys(const struct mirror_sbc_lu *lu, uint8_t *d)
{
	uint32_t n = 8;

	for (unsigned i = 0; i < MIRROR_SBC_PR_REGS_MAX; i++)
		if (lu->pr.reg[i].nexus) {
			put_be64(d + n, lu->pr.reg[i].key);
			n += 8;
		}
	put_be32(d, lu->pr.generation);
	put_be32(d + 4, n - 8); /* ADDITIONAL LENGTH: whatever the allocation */
	return n;
}

/* 6.15.3: one 16-byte descriptor when reserved; the RESERVATION KEY is
 * the holder's, 0 for the All Registrants types. */
static uint32_t read_reservation(const struct mirror_sbc_lu *lu, uint8_t *d)
{
	const struct mirror_sbc_pr_reg *h;

	memset(d, 0, 24);
	put_be32(d, lu->pr.generation);
	if (lu->pr.type == MIRROR_PR_NONE)
		return 8;
	put_be32(d + 4, 16);
	h = all_registrants(lu->pr.type) ? NULL : sbc_pr_reg(lu, lu->pr.holder);
	put_be64(d + 8, h ? h->key : 0);
	d[21] = (uint8_t)lu->pr.type; /* SCOPE 0h: LU_SCOPE */
	return 24;
}

/* 6.15.4: LENGTH 8; CRH, SIP_C, ATP_C, PTPL_C 0; TMV 1 with ALLOW
 * COMMANDS 000b (no information); every type in the mask: WR_EX_AR,
 * EX_AC_RO, WR_EX_RO, EX_AC, WR_EX (byte 4), EX_AC_AR (byte 5). */
static uint32_t report_capabilities(uint8_t *d)
{
	memset(d, 0, 8);
	put_be16(d, 8);
	d[3] = 0x80;
	d[4] = 0x80 | 0x40 | 0x20 | 0x08 | 0x02;
	d[5] = 0x01;
	return 8;
}

/* iSCSI TransportID, FORMAT CODE 00b (SPC-4 7.6.4.6): PROTOCOL
 * IDENTIFIER 5h, ADDITIONAL LENGTH, the iSCSI name null-terminated and
 * null-padded to a multiple of 4, at least 20 bytes. */
static uint32_t put_transport_id(uint8_t *p, const char *name)
{
	uint32_t len = (uint32_t)strnlen(name, MIRROR_SBC_ISCSI_NAME_MAX);
	uint32_t add = (len + 1u + 3u) & ~3u;

	if (add < 20)
		add = 20;
	memset(p, 0, 4 + add);
	p[0] = 0x05;
	put_be16(p + 2, (uint16_t)add);
	memcpy(p + 4, name, len);
	return 4 + add;
}

/* 6.15.5: a full status descriptor per registration: its key, ALL_TG_PT
 * 0, R_HOLDER with the SCOPE and TYPE when it holds the reservation, the
 * RELATIVE TARGET PORT IDENTIFIER it came through (this port's), and its
 * initiator's TransportID. */
static uint32_t read_full_status(const struct mirror_sbc_lu *lu, uint8_t *d)
{
	uint32_t n = 8;

	for (unsigned i = 0; i < MIRROR_SBC_PR_REGS_MAX; i++) {
		const struct mirror_sbc_pr_reg *r = &lu->pr.reg[i];
		uint8_t *p = d + n;
		uint32_t tid;
		if (!r->nexus)
			continue;
		memset(p, 0, 24);
		put_be64(p, r->key);
		if (sbc_pr_holder(lu, r->nexus)) {
			p[12] = 0x01;
			p[13] = (uint8_t)lu->pr.type;
		}
		put_be16(p + 18, lu->cfg.local_rel_port);
		tid = put_transport_id(p + 24, r->initiator);
		put_be32(p + 20, tid);
		n += 24 + tid;
	}
	put_be32(d, lu->pr.generation);
	put_be32(d + 4, n - 8);
	return n;
}

int sbc_pr_in(struct sbc_ctx *x)
{
	uint8_t *d = x->v->data;
	uint32_t n;

	switch (x->cmd->service_action) {
	case 0x00:
		n = read_keys(x->lu, d);
		break;
	case 0x01:
		n = read_reservation(x->lu, d);
		break;
	case 0x03:
		n = read_full_status(x->lu, d);
		break;
	default:
		n = report_capabilities(d);
		break;
	}
	return sbc_data(x, n, get_be16(x->cdb + 7));
}

/* ---- PERSISTENT RESERVE OUT (SPC-4 6.16) ---- */

/* The CDB: PARAMETER LIST LENGTH 24 (6.16.3: else PARAMETER LIST LENGTH
 * ERROR 1Ah/00h); for RESERVE, RELEASE and PREEMPT, SCOPE 0h (LU_SCOPE)
 * and a TYPE of table 184 (REGISTER, REGISTER AND IGNORE and CLEAR
 * ignore both). */
int sbc_pr_out(struct sbc_ctx *x)
{
	const uint8_t *cdb = x->cdb;
	unsigned sa = cdb[1] & 0x1Fu, scope = cdb[2] >> 4, type = cdb[2] & 0x0Fu;
	uint32_t len = get_be32(cdb + 5);
	bool typed = sa == SA_RESERVE || sa == SA_RELEASE || sa == SA_PREEMPT;

	if (len != PR_PARAM_LEN)
		return sbc_invalid(x, 0x1A, 0x00, 5, 7,
				   "%s: CDB byte 5: PARAMETER LIST LENGTH %" PRIu32 ", must be 24",
				   x->cmd->name, len);
	if (typed && scope != 0)
		return sbc_invalid(x, 0x24, 0x00, 2, 7, "%s: CDB byte 2: SCOPE %Xh, only LU_SCOPE (0h)",
				   x->cmd->name, scope);
	if (typed && !type_valid(type))
		return sbc_invalid(x, 0x24, 0x00, 2, 3, "%s: CDB byte 2: TYPE %Xh is not a type",
				   x->cmd->name, type);
	if (x->dir != MIRROR_DIR_OUT || x->edtl < PR_PARAM_LEN)
		return sbc_invalid(x, 0x1A, 0x00, 5, 7,
				   "%s: 24 bytes of parameter list expected, %u bytes of data-out",
				   x->cmd->name, x->dir == MIRROR_DIR_OUT ? x->edtl : 0);
	x->v->kind = MIRROR_SBC_PR_OUT;
	x->v->status = MIRROR_STATUS_GOOD;
	x->v->data_len = PR_PARAM_LEN;
	return 0;
}

/* Every registration with key (0: every one) other than nexus's is
 * removed, its nexus told REGISTRATIONS PREEMPTED (SPC-4 5.13.11.4).
 * Returns how many. */
static unsigned remove_key(struct mirror_sbc_lu *lu, uint64_t key, uint64_t nexus)
{
	unsigned n = 0;

	for (unsigned i = 0; i < MIRROR_SBC_PR_REGS_MAX; i++) {
		struct mirror_sbc_pr_reg *r = &lu->pr.reg[i];
		if (!r->nexus || r->nexus == nexus || (key && r->key != key))
			continue;
		sbc_ua_add(lu, r->nexus, MIRROR_SBC_UA_REG_PREEMPTED);
		memset(r, 0, sizeof(*r));
		n++;
	}
	return n;
}

/* The reservation ends; under the Registrants Only and All Registrants
 * types every other registered nexus is told RESERVATIONS RELEASED
 * (SPC-4 5.13.11.2). */
static void release(struct mirror_sbc_lu *lu, uint64_t nexus)
{
	if (registrants_only(lu->pr.type) || all_registrants(lu->pr.type))
		for (unsigned i = 0; i < MIRROR_SBC_PR_REGS_MAX; i++)
			if (lu->pr.reg[i].nexus && lu->pr.reg[i].nexus != nexus)
				sbc_ua_add(lu, lu->pr.reg[i].nexus, MIRROR_SBC_UA_PR_RELEASED);
	lu->pr.type = MIRROR_PR_NONE;
	lu->pr.holder = 0;
}

/* Unregistering (SPC-4 5.13.11.2.3): the holder of a reservation that is
 * not All Registrants releases it; an All Registrants one ends with its
 * last registrant. */
static void unregister(struct mirror_sbc_lu *lu, struct mirror_sbc_pr_reg *r)
{
	uint64_t nexus = r->nexus;
	bool held = sbc_pr_holder(lu, nexus);

	memset(r, 0, sizeof(*r));
	if (!held)
		return;
	if (!all_registrants(lu->pr.type) || !sbc_pr_registered_any(lu))
		release(lu, nexus);
}

static int do_register(struct sbc_ctx *x, unsigned sa, uint64_t key, uint64_t sakey,
		       const char *initiator)
{
	struct mirror_sbc_lu *lu = x->lu;
	struct mirror_sbc_pr_reg *r = (struct mirror_sbc_pr_reg *)sbc_pr_reg(lu, x->nexus);

	/* 5.13.7, table 52 (REGISTER) and 53 (REGISTER AND IGNORE): the
	 * RESERVATION KEY must be the nexus's own key, or 0 when it has
	 * none; AND IGNORE does not look */
	if (sa == SA_REGISTER && key != (r ? r->key : 0))
		return sbc_conflict(x, "PERSISTENT RESERVE OUT REGISTER: RESERVATION KEY %016" PRIX64
				    " is not this I_T nexus's", key);
	if (!r) {
		if (sakey == 0)
			return sbc_good(x); /* nothing to register or remove */
		for (unsigned i = 0; i < MIRROR_SBC_PR_REGS_MAX && !r; i++)
			if (!lu->pr.reg[i].nexus)
				r = &lu->pr.reg[i];
		if (!r)
			return sbc_check(x, MIRROR_SK_ILLEGAL_REQUEST, 0x55, 0x04,
					 "PERSISTENT RESERVE OUT: %u registrations already",
					 MIRROR_SBC_PR_REGS_MAX);
		r->nexus = x->nexus;
		r->key = sakey;
		snprintf(r->initiator, sizeof(r->initiator), "%s", initiator ? initiator : "");
	} else if (sakey == 0) {
		unregister(lu, r);
	} else {
		r->key = sakey;
	}
	lu->pr.generation++;
	return sbc_good(x);
}

/* 5.13.11.4: PREEMPT.  Without a reservation, or with a SERVICE ACTION
 * RESERVATION KEY that is not the holder's, only registrations go (the
 * key must be one: else RESERVATION CONFLICT; 0 is INVALID FIELD IN
 * PARAMETER LIST).  With the holder's key -- or 0 under an All
 * Registrants type -- the reservation goes too and the preempting nexus
 * holds a new one of the CDB's type. */
static int preempt(struct sbc_ctx *x, uint64_t sakey, enum mirror_sbc_pr_type type)
{
	struct mirror_sbc_lu *lu = x->lu;
	const struct mirror_sbc_pr_reg *h;
	bool takes;

	if (lu->pr.type != MIRROR_PR_NONE && all_registrants(lu->pr.type))
		takes = sakey == 0;
	else
		takes = lu->pr.type != MIRROR_PR_NONE &&
			(h = sbc_pr_reg(lu, lu->pr.holder)) != NULL && h->key == sakey;
	if (!takes && sakey == 0)
		return sbc_invalid_param(x, 0x26, 8, 7,
					 "PERSISTENT RESERVE OUT PREEMPT: SERVICE ACTION RESERVATION KEY 0");
	if (remove_key(lu, sakey, x->nexus) == 0 && !takes)
		return sbc_conflict(x, "PERSISTENT RESERVE OUT PREEMPT: no registration has key %016" PRIX64,
				    sakey);
	if (takes) {
		lu->pr.type = type;
		lu->pr.holder = all_registrants(type) ? 0 : x->nexus;
	}
	lu->pr.generation++;
	return sbc_good(x);
}

int mirror_sbc_pr_out(struct mirror_sbc_lu *lu, uint64_t nexus, const char *initiator,
		      const uint8_t *cdb, unsigned cdb_len, const uint8_t *param, uint32_t len,
		      struct mirror_sbc_verdict *out)
{
	struct sbc_ctx x = { lu, NULL, nexus, cdb, NULL, MIRROR_DIR_OUT, len, out };
	unsigned sa;
	enum mirror_sbc_pr_type type;
	uint64_t key, sakey;
	const struct mirror_sbc_pr_reg *r;

	if (!lu || !cdb || !out || (len && !param))
		return -EINVAL;
	sbc_verdict_reset(out);
	if (cdb_len < 10 || cdb[0] != 0x5F || len < PR_PARAM_LEN) {
		sbc_check(&x, MIRROR_SK_ILLEGAL_REQUEST, 0x1A, 0x00,
			  "PERSISTENT RESERVE OUT: %u bytes of parameter list, 24 expected", len);
		return 0;
	}
	sa = cdb[1] & 0x1Fu;
	type = (enum mirror_sbc_pr_type)(cdb[2] & 0x0Fu);
	key = get_be64(param);
	sakey = get_be64(param + 8);
	/* byte 20: SPEC_I_PT (bit 3), ALL_TG_PT (bit 2), APTPL (bit 0): none
	 * is supported (REPORT CAPABILITIES' SIP_C, ATP_C, PTPL_C are 0);
	 * only the registering service actions look at the last two */
	if (param[20] & 0x08) {
		sbc_invalid_param(&x, 0x26, 20, 3, "PERSISTENT RESERVE OUT: SPEC_I_PT is not supported");
		return 0;
	}
	if ((sa == SA_REGISTER || sa == SA_REGISTER_IGNORE) && (param[20] & 0x05)) {
		sbc_invalid_param(&x, 0x26, 20, param[20] & 0x04 ? 2 : 0,
				  "PERSISTENT RESERVE OUT: %s is not supported",
				  param[20] & 0x04 ? "ALL_TG_PT" : "APTPL");
		return 0;
	}
	if (sa == SA_REGISTER || sa == SA_REGISTER_IGNORE) {
		do_register(&x, sa, key, sakey, initiator);
		return 0;
	}
	/* the other service actions need the nexus registered with that key
	 * (5.13.9, 5.13.11.1) */
	r = sbc_pr_reg(lu, nexus);
	if (!r || r->key != key) {
		sbc_conflict(&x, "PERSISTENT RESERVE OUT: %s", r ? "RESERVATION KEY is not this I_T nexus's" :
					      "the I_T nexus is not registered");
		return 0;
	}
	switch (sa) {
	case SA_RESERVE:
		/* 5.13.9: the holder reserving the same type again is GOOD */
		if (lu->pr.type == MIRROR_PR_NONE) {
			lu->pr.type = type;
			lu->pr.holder = all_registrants(type) ? 0 : nexus;
		} else if (!sbc_pr_holder(lu, nexus) || lu->pr.type != type) {
			sbc_conflict(&x, "PERSISTENT RESERVE OUT RESERVE: reserved (type %Xh)",
				     (unsigned)lu->pr.type);
			return 0;
		}
		sbc_good(&x);
		return 0;
	case SA_RELEASE:
		/* 5.13.11.2: nothing to release, or not the holder: GOOD */
		if (sbc_pr_holder(lu, nexus)) {
			if (lu->pr.type != type) {
				sbc_check(&x, MIRROR_SK_ILLEGAL_REQUEST, 0x26, 0x04,
					  "PERSISTENT RESERVE OUT RELEASE: TYPE %Xh, the reservation is %Xh",
					  (unsigned)type, (unsigned)lu->pr.type);
				return 0;
			}
			release(lu, nexus);
		}
		sbc_good(&x);
		return 0;
	case SA_CLEAR:
		/* 5.13.11.3: every registration and the reservation;
		 * RESERVATIONS PREEMPTED for the other registered nexuses */
		for (unsigned i = 0; i < MIRROR_SBC_PR_REGS_MAX; i++)
			if (lu->pr.reg[i].nexus && lu->pr.reg[i].nexus != nexus)
				sbc_ua_add(lu, lu->pr.reg[i].nexus, MIRROR_SBC_UA_PR_PREEMPTED);
		memset(lu->pr.reg, 0, sizeof(lu->pr.reg));
		lu->pr.type = MIRROR_PR_NONE;
		lu->pr.holder = 0;
		lu->pr.generation++;
		sbc_good(&x);
		return 0;
	default:
		preempt(&x, sakey, type);
		return 0;
	}
}
