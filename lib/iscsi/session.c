/* The full feature phase beside SCSI commands (RFC 7143 11.5, 11.10,
 * 11.14, 11.18): NOP-Out answered with NOP-In, Text for SendTargets
 * discovery (Appendix C), Logout, and task management. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iscsi/engine.h"

void tgt_on_nop_out(struct mirror_tgt_conn *c, const uint8_t *bhs, const uint8_t *data, uint32_t dlen)
{
	uint32_t itt = get_be32(bhs + PDU_ITT);
	uint8_t r[PDU_BHS_LEN] = { 0 };

	if (itt == PDU_RSVD_TAG)
		return; /* an answer to a NOP-In we never send, or a one-way ping */
	r[0] = OP_NOP_IN;
	r[PDU_FLAGS] = PDU_F;
	memcpy(r + PDU_LUN, bhs + PDU_LUN, 8);
	put_be32(r + PDU_ITT, itt);
	put_be32(r + PDU_NOP_TTT, PDU_RSVD_TAG);
	tgt_stamp_sn(c, r, true);
	tgt_emit_pdu(c, r, data, dlen); /* the ping data comes back (11.19) */
}

void tgt_on_logout(struct mirror_tgt_conn *c, const uint8_t *bhs)
{
	uint8_t r[PDU_BHS_LEN] = { 0 };

	r[0] = OP_LOGOUT_RSP;
	r[PDU_FLAGS] = PDU_F;
	r[PDU_LOGOUT_RESPONSE] = 0x00; /* connection or session closed successfully */
	memcpy(r + PDU_ITT, bhs + PDU_ITT, 4);
	tgt_stamp_sn(c, r, true);
	tgt_emit_pdu(c, r, NULL, 0);
	c->state = ST_CLOSING;
}

/* Task management (11.5): an aborted task's NVRAM ranges stay invalid
 * (its LU's abort()).  One connection is one session, so the task set of
 * a LUN is this connection's tasks for it. */
void tgt_on_tmf(struct mirror_tgt_conn *c, const uint8_t *bhs)
{
	unsigned fn = bhs[PDU_FLAGS] & PDU_TMF_FUNCTION_MASK;
	uint32_t rtt = get_be32(bhs + PDU_TMF_REF_TAG);
	uint32_t lun = tgt_lun_decode(bhs + PDU_LUN);
	uint8_t r[PDU_BHS_LEN] = { 0 }, response = TMF_RSP_COMPLETE;

	c->t->st.tmf++;
	switch (fn) {
	case TMF_ABORT_TASK: {
		struct tgt_task *k = tgt_task_find(c, rtt);
		if (k)
			tgt_task_release(c, k, true);
		else
			response = TMF_RSP_NO_TASK;
		break;
	}
	case TMF_ABORT_TASK_SET:
	case TMF_CLEAR_TASK_SET:
	case TMF_LOGICAL_UNIT_RESET:
		for (unsigned i = 0; i < TASKS_MAX; i++)
			if (c->task[i].used && c->task[i].cmd.lun == lun)
				tgt_task_release(c, &c->task[i], true);
		if (fn == TMF_LOGICAL_UNIT_RESET && c->t->ops.lun_reset)
			c->t->ops.lun_reset(c->t->lu, lun, c->nexus);
		break;
	default:
		response = TMF_RSP_NOT_SUPPORTED;
		break;
	}
	r[0] = OP_TMF_RSP;
	r[PDU_FLAGS] = PDU_F;
	r[PDU_TMF_RESPONSE] = response;
	memcpy(r + PDU_ITT, bhs + PDU_ITT, 4);
	tgt_stamp_sn(c, r, true);
	tgt_emit_pdu(c, r, NULL, 0);
}

/* Text: SendTargets (Appendix C) names this target and its portal;
 * anything else is NotUnderstood. */
void tgt_on_text(struct mirror_tgt_conn *c, const uint8_t *bhs, const uint8_t *data, uint32_t dlen)
{
	const struct mirror_tgt_config *cfg = &c->t->cfg;
	struct iscsi_keys keys;
	struct iscsi_text_out *o = calloc(1, sizeof(*o));
	size_t tlen;
	char *text = tgt_accumulate_text(c, data, dlen, &tlen);
	uint8_t r[PDU_BHS_LEN] = { 0 };

	if (!o || !text) {
		/* keys over MIRROR_TGT_TEXT_MAX: the whole request is refused
		 * and forgotten, the next one starts afresh */
		free(o);
		c->text_acc_len = 0;
		tgt_send_reject(c, bhs, REJECT_PROTOCOL);
		return;
	}
	r[0] = OP_TEXT_RSP;
	memcpy(r + PDU_ITT, bhs + PDU_ITT, 4);
	put_be32(r + PDU_TEXT_TTT, PDU_RSVD_TAG);
	if (bhs[PDU_FLAGS] & PDU_TEXT_C) { /* continued: wait for the rest */
		tgt_stamp_sn(c, r, true);
		tgt_emit_pdu(c, r, NULL, 0);
		free(o);
		return;
	}
	r[PDU_FLAGS] = PDU_F;
	c->text_acc_len = 0;
	if (iscsi_keys_parse(text, tlen, &keys) < 0) {
		free(o);
		tgt_send_reject(c, bhs, REJECT_PROTOCOL);
		return;
	}
	for (unsigned i = 0; i < keys.n; i++) {
		if (strcmp(keys.kv[i].key, "SendTargets") == 0) {
			const char *v = keys.kv[i].value;
			if (strcmp(v, "All") == 0 || strcmp(v, cfg->target_name) == 0 || !*v) {
				char addr[96];
				iscsi_text_add(o, "TargetName", cfg->target_name);
				snprintf(addr, sizeof(addr), "%s,%u",
					 cfg->portal ? cfg->portal : "127.0.0.1:3260",
					 cfg->portal_group_tag ? cfg->portal_group_tag : 1u);
				iscsi_text_add(o, "TargetAddress", addr);
			}
		} else {
			iscsi_text_add(o, keys.kv[i].key, "NotUnderstood");
		}
	}
	tgt_stamp_sn(c, r, true);
	tgt_emit_pdu(c, r, (const uint8_t *)o->buf, (uint32_t)o->len);
	free(o);
}
