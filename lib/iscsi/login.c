/* The login phase (RFC 7143 6, 11.12, 11.13, 13): stages and transitions,
 * the checks of who logs in to what (InitiatorName, the access list,
 * TargetName, SessionType), and the operational keys, each answered with
 * its negotiated result.  One connection is one session (MaxConnections=1,
 * ErrorRecoveryLevel=0, MaxOutstandingR2T=1). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "iscsi/engine.h"



static void neg_digest(struct mirror_tgt_conn *c, struct login_ctx *l, const char *key, bool *res)
{
	const char *v = iscsi_keys_get(l->keys, key);
	if (!v)
		return;
	/* the first value of the initiator's list that we support */
	char list[256];
	snprintf(list, sizeof(list), "%s", v);
	for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (strcmp(tok, "CRC32C") == 0 || strcmp(tok, "None") == 0) {
			*res = strcmp(tok, "CRC32C") == 0;
			iscsi_text_add(&l->out, key, tok);
			return;
		}
	}
	iscsi_text_add(&l->out, key, "Reject");
	(void)c;
}

static void neg_number(struct login_ctx *l, const char *key, uint32_t ours, bool take_min,
		       uint32_t lo, uint32_t hi, uint32_t *res)
{
	const char *v = iscsi_keys_get(l->keys, key);
	uint32_t theirs;
	if (!v)
		return;
	if (iscsi_parse_number(v, &theirs) < 0 || theirs < lo || theirs > hi) {
		iscsi_text_add(&l->out, key, "Reject");
		return;
	}
	*res = take_min ? (theirs < ours ? theirs : ours) : (theirs > ours ? theirs : ours);
	iscsi_text_addu(&l->out, key, *res);
}

static void neg_bool(struct login_ctx *l, const char *key, bool ours, bool is_or, bool *res)
{
	const char *v = iscsi_keys_get(l->keys, key);
	bool theirs;
	if (!v)
		return;
	if (iscsi_parse_bool(v, &theirs) < 0) {
		iscsi_text_add(&l->out, key, "Reject");
		return;
	}
	*res = is_or ? (theirs || ours) : (theirs && ours);
	iscsi_text_add(&l->out, key, *res ? "Yes" : "No");
}

/* Operational keys, RFC 7143 13: each answered with the negotiated
 * result; keys this target does not know are NotUnderstood. */
static void negotiate_operational(struct mirror_tgt_conn *c, struct login_ctx *l)
{
	const struct mirror_tgt_config *cfg = &c->t->cfg;
	bool patent = cfg->neg == MIRROR_NEG_PATENT;
	static const char *const known[] = {
		"InitiatorName", "TargetName", "SessionType", "InitiatorAlias", "AuthMethod",
		"CHAP_A", "CHAP_N", "CHAP_R", "CHAP_I", "CHAP_C", "HeaderDigest", "DataDigest",
		"MaxRecvDataSegmentLength", "MaxBurstLength", "FirstBurstLength", "InitialR2T",
		"ImmediateData", "MaxOutstandingR2T", "ErrorRecoveryLevel", "DefaultTime2Wait",
		"DefaultTime2Retain", "MaxConnections", "DataPDUInOrder", "DataSequenceInOrder",
		"IFMarker", "OFMarker", "SendTargets", "TargetAlias", "TargetAddress",
		"TargetPortalGroupTag",
	};
	uint32_t u;
	bool b;

	/* digests start with the full feature phase (RFC 7143 13.1) */
	neg_digest(c, l, "HeaderDigest", &c->hd_next);
	neg_digest(c, l, "DataDigest", &c->dd_next);
	const char *v = iscsi_keys_get(l->keys, "MaxRecvDataSegmentLength");
	if (v) { /* declarative: what the initiator can receive */
		if (iscsi_parse_number(v, &u) == 0 && u >= 512 && u <= 16777215)
			c->peer_mrdsl = u;
	}
	neg_number(l, "MaxBurstLength", cfg->max_burst_length, true, 512, 16777215, &c->max_burst);
	neg_number(l, "FirstBurstLength", cfg->first_burst_length, true, 512, 16777215,
		   &c->first_burst);
	neg_bool(l, "InitialR2T", patent, true, &c->initial_r2t);
	neg_bool(l, "ImmediateData", !patent, false, &c->immediate_data);
	u = 1;
	neg_number(l, "MaxOutstandingR2T", 1, true, 1, 65535, &u);
	u = 0;
	neg_number(l, "ErrorRecoveryLevel", 0, true, 0, 2, &u);
	neg_number(l, "DefaultTime2Wait", 2, false, 0, 3600, &u);
	neg_number(l, "DefaultTime2Retain", 0, true, 0, 3600, &u);
	neg_number(l, "MaxConnections", 1, true, 1, 65535, &u);
	b = true;
	neg_bool(l, "DataPDUInOrder", true, true, &b);
	neg_bool(l, "DataSequenceInOrder", true, true, &b);
	if (iscsi_keys_get(l->keys, "IFMarker"))
		iscsi_text_add(&l->out, "IFMarker", "No");
	if (iscsi_keys_get(l->keys, "OFMarker"))
		iscsi_text_add(&l->out, "OFMarker", "No");
	/* declarative, once per login (RFC 7143 13.12) */
	if (!c->mrdsl_declared && (iscsi_keys_get(l->keys, "MaxRecvDataSegmentLength") || c->csg == LOGIN_STAGE_OPERATIONAL)) {
		iscsi_text_addu(&l->out, "MaxRecvDataSegmentLength", cfg->max_recv_data_segment_length);
		c->mrdsl_declared = true;
	}
	for (unsigned i = 0; i < l->keys->n; i++) {
		bool k_known = false;
		for (size_t j = 0; j < sizeof(known) / sizeof(known[0]); j++)
			k_known |= strcmp(l->keys->kv[i].key, known[j]) == 0;
		if (!k_known && strncmp(l->keys->kv[i].key, "X-", 2) != 0 &&
		    strncmp(l->keys->kv[i].key, "X#", 2) != 0)
			iscsi_text_add(&l->out, l->keys->kv[i].key, "NotUnderstood");
	}
}

static bool acl_allows(const struct mirror_tgt_config *cfg, const char *name)
{
	if (cfg->acl_n == 0)
		return true;
	for (unsigned i = 0; i < cfg->acl_n; i++)
		if (strcmp(cfg->acl[i], name) == 0)
			return true;
	return false;
}

static void send_login_rsp(struct mirror_tgt_conn *c, const uint8_t *req, struct login_ctx *l,
			   bool transit, unsigned nsg)
{
	uint8_t bhs[PDU_BHS_LEN] = { 0 };

	bhs[0] = OP_LOGIN_RSP;
	bhs[PDU_FLAGS] = (uint8_t)((transit ? PDU_LOGIN_T : 0) |
				   (c->csg << PDU_LOGIN_CSG_SHIFT & PDU_LOGIN_CSG_MASK) |
				   (transit ? (nsg & PDU_LOGIN_NSG_MASK) : 0));
	bhs[PDU_LOGIN_VERSION_MAX] = 0x00;
	bhs[PDU_LOGIN_VERSION_MIN] = 0x00; /* Version-active */
	memcpy(bhs + PDU_LOGIN_ISID, c->isid, 6);
	put_be16(bhs + PDU_LOGIN_TSIH, l->status ? 0 : c->tsih);
	memcpy(bhs + PDU_ITT, req + PDU_ITT, 4);
	tgt_stamp_sn(c, bhs, true);
	bhs[PDU_LOGIN_STATUS_CLASS] = (uint8_t)(l->status >> 8);
	bhs[PDU_LOGIN_STATUS_DETAIL] = (uint8_t)l->status;
	tgt_emit_pdu(c, bhs, l->status ? NULL : (const uint8_t *)l->out.buf,
		 l->status ? 0 : (uint32_t)l->out.len);
}

static void login_fail(struct mirror_tgt_conn *c, const uint8_t *req, struct login_ctx *l,
		       uint16_t status)
{
	l->status = status;
	send_login_rsp(c, req, l, false, 0);
	c->t->st.logins_failed++;
	c->state = ST_CLOSING;
}

void tgt_login_refuse(struct mirror_tgt_conn *c, const uint8_t *bhs, uint16_t status)
{
	struct login_ctx l;

	memset(&l, 0, sizeof(l));
	memcpy(c->isid, bhs + PDU_LOGIN_ISID, 6);
	login_fail(c, bhs, &l, status);
}

void tgt_on_login(struct mirror_tgt_conn *c, const uint8_t *bhs, const uint8_t *data, uint32_t dlen)
{
	struct mirror_tgt *t = c->t;
	bool transit = bhs[PDU_FLAGS] & PDU_LOGIN_T, cont = bhs[PDU_FLAGS] & PDU_LOGIN_C;
	unsigned csg = (bhs[PDU_FLAGS] & PDU_LOGIN_CSG_MASK) >> PDU_LOGIN_CSG_SHIFT;
	unsigned nsg = bhs[PDU_FLAGS] & PDU_LOGIN_NSG_MASK;
	struct login_ctx l;
	struct iscsi_keys keys;
	size_t tlen;

	memset(&l, 0, sizeof(l));
	if (c->state != ST_LOGIN) {
		tgt_send_reject(c, bhs, REJECT_PROTOCOL);
		return;
	}
	if (bhs[PDU_LOGIN_VERSION_MIN] > 0x00) { /* Version-min above ours (11.12.4) */
		login_fail(c, bhs, &l, LOGIN_STATUS_UNSUPPORTED_VERSION);
		return;
	}
	memcpy(c->isid, bhs + PDU_LOGIN_ISID, 6);
	c->exp_cmd_sn = get_be32(bhs + PDU_LOGIN_CMDSN);
	char *text = tgt_accumulate_text(c, data, dlen, &tlen);
	if (!text) { /* keys over MIRROR_TGT_TEXT_MAX: never buffered */
		login_fail(c, bhs, &l, LOGIN_STATUS_OUT_OF_RESOURCES);
		return;
	}
	if (cont) { /* more keys follow: acknowledge, wait for the rest */
		send_login_rsp(c, bhs, &l, false, 0);
		return;
	}
	int prc = iscsi_keys_parse(text, tlen, &keys);
	c->text_acc_len = 0;
	l.keys = &keys;
	/* stage 2 is reserved; a transit goes forward (11.12.3) */
	if (prc < 0 || csg == 2 || (transit && (nsg == 2 || nsg <= csg))) {
		login_fail(c, bhs, &l, LOGIN_STATUS_INITIATOR_ERROR);
		return;
	}
	c->csg = csg;
	const char *iname = iscsi_keys_get(&keys, "InitiatorName");
	if (iname) {
		snprintf(c->initiator, sizeof(c->initiator), "%s", iname);
		if (!acl_allows(&t->cfg, iname)) {
			login_fail(c, bhs, &l, LOGIN_STATUS_FORBIDDEN);
			return;
		}
	}
	const char *stype = iscsi_keys_get(&keys, "SessionType");
	if (stype)
		c->discovery = strcmp(stype, "Discovery") == 0;
	const char *tname = iscsi_keys_get(&keys, "TargetName");
	if (!c->discovery && tname && strcmp(tname, t->cfg.target_name) != 0) {
		login_fail(c, bhs, &l, LOGIN_STATUS_NOT_FOUND);
		return;
	}
	if (!c->initiator[0]) {
		login_fail(c, bhs, &l, LOGIN_STATUS_MISSING_PARAMETER);
		return;
	}
	if (!c->tsih) {
		c->tsih = t->next_tsih++;
		if (!t->next_tsih) /* TSIH 0 means "new session" */
			t->next_tsih = 1;
	}

	bool authed = true;
	if (csg == LOGIN_STAGE_SECURITY)
		authed = tgt_negotiate_security(c, &l);
	else if (t->cfg.chap_user && !c->chap_ok)
		authed = false, l.status = LOGIN_STATUS_AUTH_FAILURE; /* skipped the security stage */
	if (l.status) {
		login_fail(c, bhs, &l, l.status);
		return;
	}
	negotiate_operational(c, &l);
	if (!c->discovery && !c->tpgt_sent) {
		iscsi_text_addu(&l.out, "TargetPortalGroupTag",
				t->cfg.portal_group_tag ? t->cfg.portal_group_tag : 1);
		if (t->cfg.target_alias)
			iscsi_text_add(&l.out, "TargetAlias", t->cfg.target_alias);
		c->tpgt_sent = true;
	}
	bool go = transit && authed;
	send_login_rsp(c, bhs, &l, go, nsg);
	if (go && nsg == LOGIN_STAGE_FULL_FEATURE) {
		c->state = ST_FULL;
		c->hd = c->hd_next;
		c->dd = c->dd_next;
		t->st.sessions_total++;
		t->st.sessions_now++;
		c->session_counted = true;
		c->nexus = ++t->next_nexus;
	}
}
