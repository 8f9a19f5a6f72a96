/* The end of a command (RFC 7143 11.4, 11.7): Data-In split by the
 * initiator's MaxRecvDataSegmentLength with GOOD riding in the last one
 * (S bit), or a SCSI Response with sense; residuals (11.4.5.1); the
 * receiver's completion interrupt booked; and the injected faults that
 * hold a status back or never send it. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "iscsi/engine.h"

/* Books a finished operation into the per-kind counters. */
static void account_done(struct mirror_tgt_conn *c, struct tgt_task *k, uint8_t status)
{
	struct mirror_tgt_stats *st = &c->t->st;
	unsigned kind = (unsigned)k->cmd.kind < MIRROR_RX_KINDS ? (unsigned)k->cmd.kind : 0;
	struct mirror_tgt_kind_stats *ks = &st->kind[kind];
	struct mirror_cost cost;

	ks->ops++;
	if (status != MIRROR_STATUS_GOOD) {
		ks->errors++;
		return;
	}
	if (mirror_cost_end(&k->cost, &cost) < 0)
		return;
	ks->interrupts += cost.interrupts;
	if (ks->interrupts_min == 0 || cost.interrupts < ks->interrupts_min)
		ks->interrupts_min = cost.interrupts;
	if (cost.interrupts > ks->interrupts_max)
		ks->interrupts_max = cost.interrupts;
	ks->bytes.cdb += cost.cdb;
	ks->bytes.metadata += cost.metadata;
	ks->bytes.data += cost.data;
	ks->bytes.transport += cost.transport;
	ks->bytes.total += cost.total;
	ks->bytes.interrupts += cost.interrupts;
}

static void book_status(struct mirror_tgt_conn *c, struct tgt_task *k, uint32_t dlen)
{
	struct mirror_event e = { MIRROR_EV_STATUS, PDU_BHS_LEN + (c->hd ? PDU_DIGEST_LEN : 0), dlen,
				  0 };
	mirror_cost_add(&k->cost, &e);
}

/* Data-In PDUs for din bytes; the last carries the status when there is
 * no sense to send.  Returns true if the status went with the data. */
static bool send_data_in(struct mirror_tgt_conn *c, struct tgt_task *k,
			 const struct mirror_tgt_action *a, uint32_t din, bool sense)
{
	bool status_sent = false;

	for (uint32_t off = 0, sn = 0; off < din; sn++) {
		uint32_t n = din - off < c->peer_mrdsl ? din - off : c->peer_mrdsl;
		bool last = off + n == din;
		bool with_status = last && !sense;
		uint8_t bhs[PDU_BHS_LEN] = { 0 };

		bhs[0] = OP_DATA_IN;
		bhs[PDU_FLAGS] = last ? PDU_F : 0;
		put_be32(bhs + PDU_ITT, k->itt);
		put_be32(bhs + PDU_DATA_TTT, PDU_RSVD_TAG);
		put_be32(bhs + PDU_DATA_DATASN, sn);
		put_be32(bhs + PDU_DATA_OFFSET, off);
		if (with_status) {
			bhs[PDU_FLAGS] |= PDU_DATA_STATUS;
			bhs[PDU_DIN_STATUS] = a->status;
			if (din < k->cmd.edtl) {
				bhs[PDU_FLAGS] |= PDU_DATA_UNDERFLOW;
				put_be32(bhs + PDU_DIN_RESIDUAL, k->cmd.edtl - din);
			} else if (a->data_in_overflow) {
				bhs[PDU_FLAGS] |= PDU_DATA_OVERFLOW;
				put_be32(bhs + PDU_DIN_RESIDUAL, a->data_in_overflow);
			}
		}
		tgt_stamp_sn(c, bhs, with_status);
		if (!with_status) /* StatSN only with status (11.7.4) */
			put_be32(bhs + PDU_DIN_STATSN, 0);
		tgt_emit_pdu(c, bhs, a->data_in + off, n);
		off += n;
		status_sent = with_status;
	}
	return status_sent;
}

/* A SCSI Response PDU: status, residual, sense as the data segment
 * (11.4.7: a two-byte SenseLength, then the sense). */
static void send_response(struct mirror_tgt_conn *c, struct tgt_task *k,
			  const struct mirror_tgt_action *a, uint32_t din, bool sense)
{
	uint8_t bhs[PDU_BHS_LEN] = { 0 };
	uint8_t data[2 + MIRROR_FIXED_SENSE_LEN];
	uint32_t dlen = 0;

	bhs[0] = OP_SCSI_RSP;
	bhs[PDU_FLAGS] = PDU_F;
	bhs[PDU_RSP_RESPONSE] = 0x00; /* command completed at target */
	bhs[PDU_RSP_STATUS] = a->status;
	put_be32(bhs + PDU_ITT, k->itt);
	uint32_t moved = k->cmd.dir == MIRROR_DIR_IN ? din : k->have;
	if (moved < k->cmd.edtl && a->status == MIRROR_STATUS_GOOD) {
		bhs[PDU_FLAGS] |= PDU_RSP_UNDERFLOW;
		put_be32(bhs + PDU_RSP_RESIDUAL, k->cmd.edtl - moved);
	} else if (a->data_in_overflow && a->status == MIRROR_STATUS_GOOD) {
		bhs[PDU_FLAGS] |= PDU_RSP_OVERFLOW;
		put_be32(bhs + PDU_RSP_RESIDUAL, a->data_in_overflow);
	}
	if (sense) {
		unsigned n = a->sense_len < MIRROR_FIXED_SENSE_LEN ? a->sense_len : MIRROR_FIXED_SENSE_LEN;
		put_be16(data, (uint16_t)n);
		memcpy(data + 2, a->sense, n);
		dlen = 2 + n;
	}
	tgt_stamp_sn(c, bhs, true);
	if (tgt_emit_pdu(c, bhs, data, dlen) > 0)
		book_status(c, k, dlen);
}

/* Emits the task's response into a queue of its own: the PDUs a
 * delay-status or drop-status injection holds back or throws away. */
static uint8_t *emit_aside(struct mirror_tgt_conn *c, struct tgt_task *k,
			   const struct mirror_tgt_action *a, uint32_t din, bool sense, size_t *len)
{
	uint8_t *out = c->out;
	size_t off = c->out_off, used = c->out_len, cap = c->out_cap;
	uint8_t *aside;

	c->out = NULL;
	c->out_off = c->out_len = c->out_cap = 0;
	if (!send_data_in(c, k, a, din, sense))
		send_response(c, k, a, din, sense);
	else
		book_status(c, k, 0);
	aside = c->out;
	*len = c->out_len;
	c->out = out;
	c->out_off = off;
	c->out_len = used;
	c->out_cap = cap;
	return aside;
}

/* Queues (or holds back, or drops, under injection) the response. */
void tgt_respond(struct mirror_tgt_conn *c, struct tgt_task *k, const struct mirror_tgt_action *a)
{
	bool sense = a->status == MIRROR_STATUS_CHECK_CONDITION && a->sense_len;
	uint32_t din = a->data_in_len < k->cmd.edtl ? a->data_in_len : k->cmd.edtl;

	struct mirror_sense sd;

	/* the key of either format (SPC-5 4.4.2, 4.4.3); bytes that are no
	 * sense data are counted nowhere */
	if (sense && mirror_sense_parse(a->sense, a->sense_len, &sd) == 0)
		c->t->st.sense_count[sd.key]++;
	if (!k->inj.drop_status && !k->inj.delay_ms) {
		if (!send_data_in(c, k, a, din, sense))
			send_response(c, k, a, din, sense);
		else
			book_status(c, k, 0);
		account_done(c, k, a->status);
		tgt_task_release(c, k, false);
		return;
	}
	size_t len = 0;
	uint8_t *held = emit_aside(c, k, a, din, sense, &len);
	account_done(c, k, a->status);
	if (k->inj.drop_status || !held) {
		/* never sent: the initiator's timeout finds it */
		free(held);
		tgt_task_release(c, k, false);
		return;
	}
	/* The clock starts at the next tick: the engine has no clock of its
	 * own, and the loop ticks right after the input that produced this
	 * response.  The LU is done with the command now. */
	k->held = held;
	c->nheld++;
	k->held_len = len;
	k->due_ms = 0;
	if (k->lu_begun) {
		if (c->t->ops.end)
			c->t->ops.end(c->t->lu, &k->cmd);
		k->lu_begun = false;
	}
	free(k->dout);
	k->dout = NULL;
}

void tgt_respond_check(struct mirror_tgt_conn *c, struct tgt_task *k, uint8_t key, uint8_t asc,
		       uint8_t ascq)
{
	struct mirror_tgt_action a;

	mirror_tgt_action_check(&a, key, asc, ascq);
	tgt_respond(c, k, &a);
}

/* More commands than the window allows (SAM-5 5.3.1 TASK SET FULL). */
void tgt_send_task_set_full(struct mirror_tgt_conn *c, uint32_t itt)
{
	uint8_t r[PDU_BHS_LEN] = { 0 };

	r[0] = OP_SCSI_RSP;
	r[PDU_FLAGS] = PDU_F;
	r[PDU_RSP_STATUS] = MIRROR_STATUS_TASK_SET_FULL;
	put_be32(r + PDU_ITT, itt);
	tgt_stamp_sn(c, r, true);
	tgt_emit_pdu(c, r, NULL, 0);
}

void mirror_tgt_action_check(struct mirror_tgt_action *a, uint8_t key, uint8_t asc, uint8_t ascq)
{
	struct mirror_sense s;

	memset(a, 0, sizeof(*a));
	memset(&s, 0, sizeof(s));
	s.key = key;
	s.asc = asc;
	s.ascq = ascq;
	a->kind = MIRROR_TGT_RESPOND;
	a->status = MIRROR_STATUS_CHECK_CONDITION;
	int n = mirror_sense_build(a->sense, sizeof(a->sense), &s);
	a->sense_len = n > 0 ? (unsigned)n : 0;
}

void mirror_tgt_action_good(struct mirror_tgt_action *a, const uint8_t *data_in, uint32_t len)
{
	memset(a, 0, sizeof(*a));
	a->kind = MIRROR_TGT_RESPOND;
	a->status = MIRROR_STATUS_GOOD;
	a->data_in = data_in;
	a->data_in_len = len;
}
