/* SCSI commands and their data (RFC 7143 11.3, 11.7, 11.8): a task per
 * command, its logical unit's actions, R2Ts for what the LU wants and
 * will not come unsolicited (one outstanding per task, MaxOutstandingR2T=1),
 * Data-Out checked against what the negotiation allows (11.4.7.2), and
 * the completion of a command its LU answered later. */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "iscsi/engine.h"

/* The LUN field (SAM-5 4.7): peripheral device addressing (method 00b,
 * byte 1 the LUN) or flat space (01b, 14 bits); anything else is a LUN no
 * unit answers to. */
uint32_t tgt_lun_decode(const uint8_t *lun)
{
	switch (lun[0] >> 6) {
	case 0:
		return lun[0] == 0 ? lun[1] : UINT32_MAX;
	case 1:
		return (uint32_t)(lun[0] & 0x3f) << 8 | lun[1];
	default:
		return UINT32_MAX;
	}
}

struct tgt_task *tgt_task_find(struct mirror_tgt_conn *c, uint32_t itt)
{
	for (unsigned i = 0; i < TASKS_MAX; i++)
		if (c->task[i].used && c->task[i].itt == itt)
			return &c->task[i];
	return NULL;
}

static struct tgt_task *task_alloc(struct mirror_tgt_conn *c)
{
	for (unsigned i = 0; i < TASKS_MAX; i++) {
		struct tgt_task *k = &c->task[i];
		if (k->used)
			continue;
		memset(k, 0, sizeof(*k));
		k->used = true;
		k->conn = c;
		k->cmd.lu_task = c->lu_space ? c->lu_space + i * c->t->ops.lu_task_size : NULL;
		if (k->cmd.lu_task)
			memset(k->cmd.lu_task, 0, c->t->ops.lu_task_size);
		return k;
	}
	return NULL;
}

/* The LU's end() (and abort() first, when the task dies unanswered). */
static void lu_finish(struct mirror_tgt_conn *c, struct tgt_task *k, bool abort)
{
	if (!k->lu_begun)
		return;
	if (abort && c->t->ops.abort)
		c->t->ops.abort(c->t->lu, &k->cmd);
	if (c->t->ops.end)
		c->t->ops.end(c->t->lu, &k->cmd);
	k->lu_begun = false;
}

void tgt_task_release(struct mirror_tgt_conn *c, struct tgt_task *k, bool abort)
{
	lu_finish(c, k, abort);
	free(k->dout);
	if (k->held)
		c->nheld--;
	free(k->held);
	memset(k, 0, sizeof(*k));
}

static void send_r2t(struct mirror_tgt_conn *c, struct tgt_task *k, uint32_t off, uint32_t len)
{
	uint8_t bhs[PDU_BHS_LEN] = { 0 };

	bhs[0] = OP_R2T;
	bhs[PDU_FLAGS] = PDU_F;
	put_be32(bhs + PDU_ITT, k->itt);
	/* the slot in the top byte: a Data-Out's TTT finds its task even if
	 * the initiator reuses ITTs */
	k->r2t_ttt = (uint32_t)((k - c->task) << 24) | (k->next_ttt_seq++ & 0xffffff);
	put_be32(bhs + PDU_R2T_TTT, k->r2t_ttt);
	tgt_stamp_sn(c, bhs, false);
	put_be32(bhs + PDU_R2T_R2TSN, k->r2tsn++);
	put_be32(bhs + PDU_R2T_OFFSET, off);
	put_be32(bhs + PDU_R2T_LENGTH, len);
	k->r2t_out = true;
	k->r2t_off = off;
	k->r2t_end = off + len;
	if (tgt_emit_pdu(c, bhs, NULL, 0) > 0) {
		struct mirror_event e = { MIRROR_EV_R2T,
					  PDU_BHS_LEN + (c->hd ? PDU_DIGEST_LEN : 0), 0, 0 };
		mirror_cost_add(&k->cost, &e);
	}
}

/* Solicits the part of the wanted range that will not come unsolicited,
 * or hands the range to the LU once it is all here. */
static void pump(struct mirror_tgt_conn *c, struct tgt_task *k)
{
	while (k->used && k->want_active) {
		uint32_t end = k->want_off + k->want_len;
		if (k->have >= end) {
			struct mirror_tgt_action a;
			k->want_active = false;
			memset(&a, 0, sizeof(a));
			c->t->ops.data(c->t->lu, &k->cmd, k->dout + k->want_off, k->want_len, &a);
			tgt_run_action(c, k, &a);
			continue;
		}
		if (k->r2t_out || k->have < k->unsol_end)
			return; /* data is on its way */
		uint32_t from = k->have;
		uint32_t len = end - from;
		if (len > c->max_burst)
			len = c->max_burst;
		send_r2t(c, k, from, len);
		return;
	}
}

static int dout_grow(struct tgt_task *k, uint32_t need)
{
	if (k->dout_cap >= need)
		return 0;
	uint8_t *p = realloc(k->dout, need);
	if (!p)
		return -1;
	k->dout = p;
	k->dout_cap = need;
	return 0;
}

void tgt_run_action(struct mirror_tgt_conn *c, struct tgt_task *k, const struct mirror_tgt_action *a)
{
	switch (a->kind) {
	case MIRROR_TGT_RESPOND:
		tgt_respond(c, k, a);
		return;
	case MIRROR_TGT_PENDING:
		k->pending = true;
		return;
	case MIRROR_TGT_WANT_DATA:
		break;
	}
	/* WANT_DATA within what the command said it would send, and within
	 * the largest data-out a command may bring */
	uint64_t end = (uint64_t)a->offset + a->length;
	if (a->length == 0 || end > k->cmd.edtl || end > DOUT_CAP) {
		tgt_respond_check(c, k, MIRROR_SK_ILLEGAL_REQUEST, 0x1A, 0x00);
		return;
	}
	if (dout_grow(k, (uint32_t)end) < 0) {
		/* 55h/03h INSUFFICIENT RESOURCES (SPC-5) */
		tgt_respond_check(c, k, MIRROR_SK_HARDWARE_ERROR, 0x55, 0x03);
		return;
	}
	k->want_active = true;
	k->want_off = a->offset;
	k->want_len = a->length;
	pump(c, k);
}

/* ---- Data-Out (immediate, unsolicited, solicited) ---- */

/* Stores data at offset; enforces RFC 7143's rules for what the
 * negotiation allows (11.4.7.2: ABORTED COMMAND 0Ch/0Ch for data not
 * allowed, 0Ch/0Dh for a wrong offset or length). */
static int take_data(struct mirror_tgt_conn *c, struct tgt_task *k, uint32_t off, const uint8_t *d,
		     uint32_t n, bool solicited)
{
	if (off != k->have || (uint64_t)off + n > k->cmd.edtl) {
		tgt_respond_check(c, k, MIRROR_SK_ABORTED_COMMAND, 0x0C, 0x0D);
		return -1;
	}
	if (solicited ? (off < k->r2t_off || off + n > k->r2t_end) : off + n > k->unsol_end) {
		tgt_respond_check(c, k, MIRROR_SK_ABORTED_COMMAND, 0x0C, 0x0C);
		return -1;
	}
	if (off + n > DOUT_CAP) { /* past anything a command may bring */
		tgt_respond_check(c, k, MIRROR_SK_ILLEGAL_REQUEST, 0x1A, 0x00);
		return -1;
	}
	/* data ahead of the LU's request (unsolicited) is kept, bounded by
	 * DOUT_CAP above */
	if (dout_grow(k, off + n) < 0) {
		tgt_respond_check(c, k, MIRROR_SK_HARDWARE_ERROR, 0x55, 0x03);
		return -1;
	}
	memcpy(k->dout + off, d, n);
	k->have = off + n;
	if (k->inj.close_mid_transfer && k->have * 2 >= k->cmd.edtl) {
		tgt_task_release(c, k, true);
		c->fatal = true;
		return -1;
	}
	return 0;
}

void tgt_on_data_out(struct mirror_tgt_conn *c, const uint8_t *bhs, const uint8_t *data,
		     uint32_t dlen, uint32_t wire_hdr)
{
	uint32_t itt = get_be32(bhs + PDU_ITT), ttt = get_be32(bhs + PDU_DATA_TTT);
	uint32_t off = get_be32(bhs + PDU_DATA_OFFSET);
	bool final = bhs[PDU_FLAGS] & PDU_F;
	struct tgt_task *k = tgt_task_find(c, itt);

	if (!k || k->held || k->pending)
		return; /* the task already answered: late data is dropped (11.7) */
	bool solicited = ttt != PDU_RSVD_TAG;
	if (solicited && (!k->r2t_out || ttt != k->r2t_ttt)) {
		tgt_respond_check(c, k, MIRROR_SK_ABORTED_COMMAND, 0x0C, 0x0C);
		return;
	}
	if (!solicited && c->initial_r2t) {
		tgt_respond_check(c, k, MIRROR_SK_ABORTED_COMMAND, 0x0C, 0x0C);
		return;
	}
	k->burst_hdr += wire_hdr;
	k->burst_payload += dlen;
	if (take_data(c, k, off, data, dlen, solicited) < 0)
		return;
	if (final) {
		/* a Data-Out sequence: one interrupt at the receiver */
		struct mirror_event e = { MIRROR_EV_DATA_BURST, k->burst_hdr, k->burst_payload, 0 };
		mirror_cost_add(&k->cost, &e);
		k->burst_hdr = k->burst_payload = 0;
		if (solicited) {
			if (k->have != k->r2t_end) {
				tgt_respond_check(c, k, MIRROR_SK_ABORTED_COMMAND, 0x0C, 0x0D);
				return;
			}
			k->r2t_out = false;
		}
	}
	pump(c, k);
}

/* ---- SCSI Command ---- */

static enum mirror_path kind_path(enum mirror_rx_kind kind)
{
	return kind == MIRROR_RX_KIND_LARGE ? MIRROR_PATH_LARGE : MIRROR_PATH_SMALL;
}

void tgt_on_scsi_cmd(struct mirror_tgt_conn *c, const uint8_t *bhs, const uint8_t *data,
		     uint32_t dlen, uint32_t wire_hdr)
{
	struct mirror_tgt *t = c->t;
	uint32_t itt = get_be32(bhs + PDU_ITT), edtl = get_be32(bhs + PDU_CMD_EDTL);
	bool rd = bhs[PDU_FLAGS] & PDU_CMD_R, wr = bhs[PDU_FLAGS] & PDU_CMD_W;
	struct tgt_task *k;

	if (tgt_task_find(c, itt)) { /* an ITT in use: a protocol error */
		tgt_send_reject(c, bhs, REJECT_INVALID_FIELD);
		return;
	}
	k = task_alloc(c);
	if (!k) { /* more than the window allows */
		tgt_send_task_set_full(c, itt);
		return;
	}
	k->itt = itt;
	memcpy(k->cdb, bhs + PDU_CMD_CDB, PDU_CMD_CDB_LEN);
	k->cmd.lun = tgt_lun_decode(bhs + PDU_LUN);
	k->cmd.cdb = k->cdb;
	k->cmd.cdb_len = PDU_CMD_CDB_LEN;
	k->cmd.dir = wr ? MIRROR_DIR_OUT : rd ? MIRROR_DIR_IN : MIRROR_DIR_NONE;
	k->cmd.edtl = edtl;
	k->cmd.initiator = c->initiator[0] ? c->initiator : NULL;
	k->cmd.nexus = c->nexus;
	k->cmd.inject = &k->inj;
	k->cmd.kind = MIRROR_RX_KIND_OTHER;
	k->cmd.account_cdb_len = PDU_CMD_CDB_LEN;
	k->cmd.task_attr = bhs[PDU_FLAGS] & PDU_CMD_ATTR_MASK;

	/* data the command may bring along: immediate data, then unsolicited
	 * Data-Out up to FirstBurstLength (13.11, 13.14) */
	if (k->cmd.dir == MIRROR_DIR_OUT) {
		uint32_t unsol = c->initial_r2t ? 0 : c->first_burst;
		if (c->immediate_data && dlen > unsol)
			unsol = dlen;
		k->unsol_end = unsol < edtl ? unsol : edtl;
	}
	struct mirror_event ce = { MIRROR_EV_COMMAND, wire_hdr, dlen, 0 };
	if (t->cfg.inject)
		mirror_inject_decide(t->cfg.inject, bhs[PDU_CMD_CDB], &k->inj);

	if (dlen) {
		if (k->cmd.dir != MIRROR_DIR_OUT || !c->immediate_data) {
			tgt_respond_check(c, k, MIRROR_SK_ABORTED_COMMAND, 0x0C, 0x0C);
			return;
		}
		if (take_data(c, k, 0, data, dlen, false) < 0)
			return;
	}
	struct mirror_tgt_action a;
	memset(&a, 0, sizeof(a));
	t->ops.begin(t->lu, &k->cmd, &a);
	k->lu_begun = true;
	mirror_cost_begin(&k->cost, kind_path(k->cmd.kind), k->cmd.account_cdb_len);
	mirror_cost_add(&k->cost, &ce);
	tgt_run_action(c, k, &a);
}

void mirror_tgt_cmd_complete(struct mirror_tgt_cmd *cmd, const struct mirror_tgt_action *act)
{
	struct tgt_task *k = (struct tgt_task *)(void *)((char *)cmd - offsetof(struct tgt_task, cmd));
	struct mirror_tgt_conn *c = k->conn;

	if (!k->used || !k->pending)
		return; /* not waiting for an answer: aborted or already answered */
	k->pending = false;
	tgt_run_action(c, k, act);
	tgt_conn_wake(c);
}
