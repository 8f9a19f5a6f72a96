/* The engine's PDU framing (RFC 7143 11.2): bytes in, PDUs out of them,
 * bounded by what this target declared before anything is buffered; PDUs
 * out, with their digests, into one output queue; the dispatch by opcode
 * and phase, and the command numbering window. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iscsi/engine.h"

struct pdu_digests tgt_conn_digests(const struct mirror_tgt_conn *c)
{
	struct pdu_digests d = { c->hd, c->dd };
	return d;
}

/* MaxRecvDataSegmentLength as declared: the login default until the full
 * feature phase (13.12). */
static uint32_t our_mrdsl(const struct mirror_tgt_conn *c)
{
	return c->state == ST_LOGIN ? PDU_LOGIN_DSL_MAX : c->t->cfg.max_recv_data_segment_length;
}

int tgt_out_reserve(struct mirror_tgt_conn *c, size_t n)
{
	if (c->out_off && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->out_len + n <= c->out_cap)
		return 0;
	if (c->out_off) { /* compact before growing */
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
		if (c->out_len + n <= c->out_cap)
			return 0;
	}
	size_t cap = c->out_cap ? c->out_cap : 65536;
	while (cap < c->out_len + n)
		cap *= 2;
	uint8_t *p = realloc(c->out, cap);
	if (!p)
		return -ENOMEM;
	c->out = p;
	c->out_cap = cap;
	return 0;
}

/* Appends one PDU: the BHS, its digest, the data, pad, data digest.
 * Returns the number of bytes (for accounting) or < 0. */
long tgt_emit_pdu(struct mirror_tgt_conn *c, uint8_t *bhs, const uint8_t *data, uint32_t dlen)
{
	struct pdu_digests d = tgt_conn_digests(c);
	uint32_t hd = d.header ? PDU_DIGEST_LEN : 0;

	put_be24(bhs + PDU_DATA_SEGMENT_LEN, dlen);
	bhs[PDU_TOTAL_AHS_LEN] = 0;
	size_t total = (size_t)pdu_wire_len(bhs, d);
	if (tgt_out_reserve(c, total) < 0)
		return -ENOMEM;
	uint8_t *p = c->out + c->out_len;
	memcpy(p, bhs, PDU_BHS_LEN);
	if (hd)
		put_le32(p + PDU_BHS_LEN, mirror_pdu_crc32c(bhs, PDU_BHS_LEN));
	if (dlen) {
		uint8_t *seg = p + PDU_BHS_LEN + hd;
		memcpy(seg, data, dlen);
		memset(seg + dlen, 0, pdu_pad4(dlen) - dlen);
		if (d.data)
			put_le32(seg + pdu_pad4(dlen), mirror_pdu_crc32c(seg, pdu_pad4(dlen)));
	}
	c->out_len += total;
	c->t->st.pdus_out++;
	return (long)total;
}

/* StatSN, ExpCmdSN, MaxCmdSN of a target PDU (11.4.3, 11.4.4). */
void tgt_stamp_sn(struct mirror_tgt_conn *c, uint8_t *bhs, bool advance_stat)
{
	put_be32(bhs + PDU_STATSN, c->stat_sn);
	if (advance_stat)
		c->stat_sn++;
	put_be32(bhs + PDU_EXPCMDSN, c->exp_cmd_sn);
	put_be32(bhs + PDU_MAXCMDSN, c->exp_cmd_sn + CMD_WINDOW - 1);
}

/* Reject (11.17): the offending header comes back as the data segment. */
void tgt_send_reject(struct mirror_tgt_conn *c, const uint8_t *bad_bhs, uint8_t reason)
{
	uint8_t bhs[PDU_BHS_LEN] = { 0 };

	bhs[0] = OP_REJECT;
	bhs[PDU_FLAGS] = PDU_F;
	bhs[PDU_REJECT_REASON] = reason;
	put_be32(bhs + PDU_ITT, PDU_RSVD_TAG);
	tgt_stamp_sn(c, bhs, true);
	tgt_emit_pdu(c, bhs, bad_bhs, PDU_BHS_LEN);
	c->t->st.rejects++;
}

/* Output that no input produced (an asynchronous completion): the socket
 * loop must learn of it. */
void tgt_conn_wake(struct mirror_tgt_conn *c)
{
	if (!c->in_input && c->t->cfg.wake)
		c->t->cfg.wake(c, c->t->cfg.wake_arg);
}

/* Keys continued over several PDUs (C bit, 11.10.2, 11.12.2) are
 * gathered, bounded. */
char *tgt_accumulate_text(struct mirror_tgt_conn *c, const uint8_t *data, uint32_t dlen, size_t *len)
{
	if (c->text_acc_len + dlen > TEXT_ACCUM_MAX)
		return NULL;
	char *p = realloc(c->text_acc, c->text_acc_len + dlen + 1);
	if (!p)
		return NULL;
	c->text_acc = p;
	memcpy(p + c->text_acc_len, data, dlen);
	c->text_acc_len += dlen;
	*len = c->text_acc_len;
	return p;
}

/* Command numbering (4.2.2.1): a non-immediate request must carry a CmdSN
 * in ExpCmdSN..MaxCmdSN; one outside that window (or below it: a
 * duplicate) is silently ignored, an accepted one advances ExpCmdSN.
 * Immediate requests are delivered at once and consume no CmdSN. */
static bool cmdsn_accept(struct mirror_tgt_conn *c, const uint8_t *bhs)
{
	uint32_t sn = get_be32(bhs + PDU_CMD_CMDSN);

	if (bhs[0] & PDU_B0_IMMEDIATE)
		return true;
	if (pdu_sn_lt(sn, c->exp_cmd_sn) || pdu_sn_lt(c->exp_cmd_sn + CMD_WINDOW - 1, sn))
		return false;
	c->exp_cmd_sn = sn + 1;
	return true;
}

/* Requests that carry a CmdSN (the Data-Out does not, 11.7.1). */
static bool numbered(uint8_t op)
{
	return op == OP_SCSI_CMD || op == OP_NOP_OUT || op == OP_TMF_REQ || op == OP_TEXT_REQ ||
	       op == OP_LOGOUT_REQ;
}

static void dispatch(struct mirror_tgt_conn *c, const uint8_t *bhs, const uint8_t *data,
		     uint32_t dlen, uint32_t wire_hdr)
{
	uint8_t op = pdu_opcode(bhs);

	c->t->st.pdus_in++;
	if (c->state == ST_LOGIN && op != OP_LOGIN_REQ) {
		/* 6.2: only Login Requests before the full feature phase */
		tgt_send_reject(c, bhs, REJECT_PROTOCOL);
		c->state = ST_CLOSING;
		return;
	}
	if (c->discovery && c->state == ST_FULL && op != OP_TEXT_REQ && op != OP_LOGOUT_REQ &&
	    op != OP_NOP_OUT) {
		tgt_send_reject(c, bhs, REJECT_PROTOCOL);
		return;
	}
	if (numbered(op) && !cmdsn_accept(c, bhs))
		return;
	switch (op) {
	case OP_LOGIN_REQ:
		tgt_on_login(c, bhs, data, dlen);
		break;
	case OP_SCSI_CMD:
		tgt_on_scsi_cmd(c, bhs, data, dlen, wire_hdr);
		break;
	case OP_DATA_OUT:
		tgt_on_data_out(c, bhs, data, dlen, wire_hdr);
		break;
	case OP_NOP_OUT:
		tgt_on_nop_out(c, bhs, data, dlen);
		break;
	case OP_TEXT_REQ:
		tgt_on_text(c, bhs, data, dlen);
		break;
	case OP_LOGOUT_REQ:
		tgt_on_logout(c, bhs);
		break;
	case OP_TMF_REQ:
		tgt_on_tmf(c, bhs);
		break;
	default:
		/* SNACK (ErrorRecoveryLevel 0) and any opcode an initiator may
		 * not send */
		tgt_send_reject(c, bhs, REJECT_NOT_SUPPORTED);
		break;
	}
}

/* One complete PDU at pdu (c->in, or the caller's buffer when the PDU
 * came whole in one read): its digests, then its handler.  false when the
 * connection must end. */
static bool deliver(struct mirror_tgt_conn *c, const uint8_t *pdu)
{
	struct pdu_digests d = tgt_conn_digests(c);
	uint32_t dsl = pdu_dsl(pdu);

	if (d.header && !mirror_pdu_header_digest_ok(pdu)) {
		/* a header we cannot trust: at ErrorRecoveryLevel 0 the
		 * connection ends (7.8) */
		c->t->st.digest_errors++;
		c->fatal = true;
		return false;
	}
	uint32_t hl = pdu_header_len(pdu, d);
	const uint8_t *data = pdu + hl;
	if (d.data && dsl && !mirror_pdu_data_digest_ok(data, dsl)) {
		c->t->st.digest_errors++;
		tgt_send_reject(c, pdu, REJECT_DATA_DIGEST);
		c->fatal = true;
		return false;
	}
	dispatch(c, pdu, data, dsl, hl + (d.data && dsl ? PDU_DIGEST_LEN : 0));
	return true;
}

/* A PDU that lies whole in buf, with nothing of an earlier one pending,
 * is delivered where it lies: no copy into c->in (a 4 KiB Data-Out is
 * most of what the small path moves).  Its length, or 0 when it must go
 * the buffered way (cut short, or longer than declared: the checks in
 * mirror_tgt_conn_input). */
static size_t whole_pdu_len(const struct mirror_tgt_conn *c, const uint8_t *buf, size_t len)
{
	if (c->in_len || c->skip || len < PDU_BHS_LEN || pdu_dsl(buf) > our_mrdsl(c))
		return 0;
	uint64_t w = pdu_wire_len(buf, tgt_conn_digests(c));
	return w <= len ? (size_t)w : 0;
}

int mirror_tgt_conn_input(struct mirror_tgt_conn *c, const uint8_t *buf, size_t len)
{
	c->in_input = true;
	while (len && c->state != ST_CLOSING && !c->fatal) {
		if (c->skip) { /* the rest of a PDU too large to keep */
			size_t n = len < c->skip ? len : c->skip;
			c->skip -= n;
			buf += n;
			len -= n;
			continue;
		}
		size_t whole = whole_pdu_len(c, buf, len);
		if (whole) {
			buf += whole;
			len -= whole;
			if (!deliver(c, buf - whole))
				break;
			continue;
		}
		struct pdu_digests d = tgt_conn_digests(c);
		size_t want = c->in_len >= PDU_BHS_LEN ? (size_t)pdu_wire_len(c->in, d) : PDU_BHS_LEN;
		size_t take = want - c->in_len < len ? want - c->in_len : len;
		memcpy(c->in + c->in_len, buf, take);
		c->in_len += take;
		buf += take;
		len -= take;
		if (c->in_len < PDU_BHS_LEN)
			continue;
		if (c->in_len == PDU_BHS_LEN && want == PDU_BHS_LEN) {
			/* the header is complete: bound the rest before keeping it */
			if (pdu_dsl(c->in) > our_mrdsl(c)) {
				uint8_t bad[PDU_BHS_LEN];
				memcpy(bad, c->in, PDU_BHS_LEN);
				c->in_len = 0;
				if (c->state == ST_LOGIN) {
					/* over the 8192 bytes of the login phase
					 * (13.12): a Login Response ends it, no Reject */
					c->t->st.pdus_in++;
					tgt_login_refuse(c, bad, LOGIN_STATUS_INITIATOR_ERROR);
					break;
				}
				tgt_send_reject(c, bad, REJECT_PROTOCOL);
				c->skip = (size_t)pdu_wire_len(bad, d) - PDU_BHS_LEN;
				continue;
			}
			want = (size_t)pdu_wire_len(c->in, d);
			if (want > PDU_BHS_LEN)
				continue;
		}
		if (c->in_len < want)
			continue;
		bool go_on = deliver(c, c->in);
		c->in_len = 0;
		if (!go_on)
			break;
	}
	c->in_input = false;
	return (c->state == ST_CLOSING || c->fatal) ? -1 : 0;
}
