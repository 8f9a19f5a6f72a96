/* mirror-emu's iSCSI target engine (RFC 7143), bytes in and bytes out.
 *
 * One connection is one session (MaxConnections=1, ErrorRecoveryLevel=0).
 * Every PDU is framed from its basic header segment with lengths bounded by
 * what this target declared before anything is buffered; SCSI commands are
 * handed to the receiver (lib/model/receiver.c), whose WANT_DATA actions become
 * R2Ts (one outstanding per task, MaxOutstandingR2T=1).  Each mirror
 * operation's receiver events are counted as they happen
 * (wire-profile.md, "Interrupt accounting model"): the command, one per
 * Data-Out sequence, the status; R2Ts cost bytes only. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <isa-l/crc.h>
#include <json-c/json.h>
#include <nettle/md5.h>

#include <mirror/error.h>
#include "iscsi/target.h"

#include "base/bytes.h"
#include "iscsi/pdu.h"
#include "iscsi/text.h"

/* ---- RFC 7143 constants (opcodes: iscsi_proto.h) ---- */


#define BHS 48u
#define DIGEST 4u
#define RSVD_TAG 0xffffffffu
#define LOGIN_DSL_MAX 8192u       /* RFC 7143 13.12: the default during login */
#define TEXT_ACCUM_MAX 65536u
#define TASKS_MAX 64u             /* per connection */
#define CMD_WINDOW 32u            /* MaxCmdSN - ExpCmdSN + 1 */
#define DOUT_CAP (MIRROR_METADATA_BYTES + MIRROR_LARGE_MAX_BLOCKS * MIRROR_BLOCK_SIZE)

enum conn_state { ST_LOGIN = 0, ST_FULL, ST_CLOSING };
enum chap_state { CHAP_NONE = 0, CHAP_WAIT_A, CHAP_WAIT_R, CHAP_DONE };

struct tgt_task {
	bool used;
	uint32_t itt;
	struct mirror_rx_task rx;
	bool rx_begun;
	enum mirror_xfer_dir dir;
	uint32_t edtl;
	uint8_t *dout;
	uint32_t dout_cap;
	uint32_t have;       /* contiguous data-out bytes received from offset 0 */
	uint32_t unsol_end;  /* bytes that may arrive without an R2T */
	bool want_active;
	uint32_t want_off, want_len;
	bool r2t_out;        /* an R2T is outstanding */
	uint32_t r2t_ttt, r2t_off, r2t_end, r2tsn;
	uint32_t next_ttt_seq;
	uint32_t burst_hdr, burst_payload;
	bool in_burst;
	struct mirror_cost_acc cost;
	struct mirror_inject_decision inj;
	enum mirror_rx_kind kind;
	/* a response held back by delay-status injection */
	uint8_t *held;
	size_t held_len;
	uint64_t due_ms;
};

struct mirror_tgt {
	struct mirror_tgt_config cfg;
	struct mirror_receiver *rx;
	struct mirror_tgt_stats st;
	uint16_t next_tsih;
};

struct mirror_tgt_conn {
	struct mirror_tgt *t;
	char peer[64];
	enum conn_state state;
	bool discovery;
	bool fatal;
	/* input framing */
	uint8_t *in;
	size_t in_len, in_cap;
	size_t skip; /* bytes of an oversized PDU still to discard */
	/* output queue */
	uint8_t *out;
	size_t out_off, out_len, out_cap;
	/* login */
	uint8_t isid[6];
	uint16_t tsih;
	unsigned csg;
	enum chap_state chap;
	uint8_t chap_id;
	uint8_t chap_challenge[16];
	bool chap_ok;
	bool tpgt_sent;
	bool mrdsl_declared;
	bool session_counted;
	char initiator[224];
	char *text_acc; /* continued login/text keys (C bit) */
	size_t text_acc_len;
	/* negotiated */
	bool hd, dd;
	bool hd_next, dd_next;
	bool initial_r2t, immediate_data;
	uint32_t peer_mrdsl; /* what we may send */
	uint32_t max_burst, first_burst;
	/* numbering */
	uint32_t stat_sn, exp_cmd_sn;
	struct tgt_task task[TASKS_MAX];
};

/* ---- small helpers ---- */

static uint32_t pad4(uint32_t n)
{
	return (n + 3u) & ~3u;
}

static uint32_t crc32c(const uint8_t *p, size_t n)
{
	/* iSCSI's CRC32C: ISA-L's crc32_iscsi with the standard pre/post
	 * inversion, stored little-endian on the wire (RFC 7143 12.1). */
	return crc32_iscsi((unsigned char *)p, (int)n, 0xffffffffu) ^ 0xffffffffu;
}

static bool sn_lt(uint32_t a, uint32_t b) /* serial number arithmetic, RFC 1982 */
{
	return (int32_t)(a - b) < 0;
}

static uint32_t our_mrdsl(const struct mirror_tgt_conn *c)
{
	return c->state == ST_LOGIN ? LOGIN_DSL_MAX : c->t->cfg.max_recv_data_segment_length;
}

static int out_reserve(struct mirror_tgt_conn *c, size_t n)
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
static long emit_pdu(struct mirror_tgt_conn *c, uint8_t *bhs, const uint8_t *data, uint32_t dlen)
{
	uint32_t hd = c->hd ? DIGEST : 0, dd = (c->dd && dlen) ? DIGEST : 0;
	size_t total = BHS + hd + pad4(dlen) + dd;

	put_be24(bhs + 5, dlen);
	if (out_reserve(c, total) < 0)
		return -ENOMEM;
	uint8_t *p = c->out + c->out_len;
	memcpy(p, bhs, BHS);
	if (hd)
		put_le32(p + BHS, crc32c(bhs, BHS));
	if (dlen) {
		memcpy(p + BHS + hd, data, dlen);
		memset(p + BHS + hd + dlen, 0, pad4(dlen) - dlen);
		if (dd)
			put_le32(p + BHS + hd + pad4(dlen), crc32c(p + BHS + hd, pad4(dlen)));
	}
	c->out_len += total;
	c->t->st.pdus_out++;
	return (long)total;
}

static void stamp_sn(struct mirror_tgt_conn *c, uint8_t *bhs, bool advance_stat)
{
	put_be32(bhs + 24, c->stat_sn);
	if (advance_stat)
		c->stat_sn++;
	put_be32(bhs + 28, c->exp_cmd_sn);
	put_be32(bhs + 32, c->exp_cmd_sn + CMD_WINDOW - 1);
}

static void send_reject(struct mirror_tgt_conn *c, const uint8_t *bad_bhs, uint8_t reason)
{
	uint8_t bhs[BHS] = { 0 };

	bhs[0] = OP_REJECT;
	bhs[1] = 0x80;
	bhs[2] = reason;
	put_be32(bhs + 16, RSVD_TAG);
	stamp_sn(c, bhs, true);
	emit_pdu(c, bhs, bad_bhs, BHS);
	c->t->st.rejects++;
}

/* ---- tasks ---- */

static struct tgt_task *task_find(struct mirror_tgt_conn *c, uint32_t itt)
{
	for (unsigned i = 0; i < TASKS_MAX; i++)
		if (c->task[i].used && c->task[i].itt == itt)
			return &c->task[i];
	return NULL;
}

static struct tgt_task *task_alloc(struct mirror_tgt_conn *c)
{
	for (unsigned i = 0; i < TASKS_MAX; i++) {
		if (!c->task[i].used) {
			memset(&c->task[i], 0, sizeof(c->task[i]));
			c->task[i].used = true;
			return &c->task[i];
		}
	}
	return NULL;
}

static void task_release(struct mirror_tgt_conn *c, struct tgt_task *k, bool abort)
{
	if (k->rx_begun) {
		if (abort)
			mirror_rx_abort(c->t->rx, &k->rx);
		mirror_rx_end(c->t->rx, &k->rx);
	}
	free(k->dout);
	free(k->held);
	memset(k, 0, sizeof(*k));
}

static enum mirror_path kind_path(enum mirror_rx_kind k)
{
	return k == MIRROR_RX_KIND_LARGE ? MIRROR_PATH_LARGE : MIRROR_PATH_SMALL;
}

/* Books a finished operation into the per-kind counters. */
static void account_done(struct mirror_tgt_conn *c, struct tgt_task *k, uint8_t status)
{
	struct mirror_tgt_stats *st = &c->t->st;
	struct mirror_tgt_kind_stats *ks = &st->kind[k->kind < 5 ? k->kind : 0];
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

/* Queues (or holds back, under delay-status injection) the response. */
static void respond(struct mirror_tgt_conn *c, struct tgt_task *k, const struct mirror_rx_action *a)
{
	uint32_t sent = 0;
	bool sense = a->status == MIRROR_STATUS_CHECK_CONDITION && a->sense_len;
	size_t mark = c->out_len;

	if (a->status == MIRROR_STATUS_CHECK_CONDITION && a->sense_len >= 3)
		c->t->st.sense_count[a->sense[2] & 0x0f]++;

	/* Data-In, split by the initiator's MaxRecvDataSegmentLength; GOOD
	 * rides in the last one (S bit) */
	uint32_t din = a->data_in_len < k->edtl ? a->data_in_len : k->edtl;
	for (uint32_t off = 0, sn = 0; off < din; sn++) {
		uint32_t n = din - off < c->peer_mrdsl ? din - off : c->peer_mrdsl;
		bool last = off + n == din;
		uint8_t bhs[BHS] = { 0 };
		bhs[0] = OP_DATA_IN;
		bhs[1] = last ? 0x80 : 0;
		put_be32(bhs + 16, k->itt);
		put_be32(bhs + 20, RSVD_TAG);
		put_be32(bhs + 36, sn);
		put_be32(bhs + 40, off);
		bool with_status = last && !sense;
		if (with_status) {
			bhs[1] |= 0x01;
			bhs[3] = a->status;
			if (din < k->edtl) {
				bhs[1] |= 0x02;
				put_be32(bhs + 44, k->edtl - din);
			} else if (a->data_in_overflow) {
				bhs[1] |= 0x04; /* O: residual overflow */
				put_be32(bhs + 44, a->data_in_overflow);
			}
		}
		stamp_sn(c, bhs, with_status);
		if (!with_status)
			put_be32(bhs + 24, 0);
		emit_pdu(c, bhs, a->data_in + off, n);
		off += n;
		sent = off;
	}
	if (din == 0 || sense) {
		uint8_t bhs[BHS] = { 0 };
		uint8_t data[2 + MIRROR_FIXED_SENSE_LEN];
		uint32_t dlen = 0;
		bhs[0] = OP_SCSI_RSP;
		bhs[1] = 0x80;
		bhs[2] = 0x00; /* command completed at target */
		bhs[3] = a->status;
		put_be32(bhs + 16, k->itt);
		uint32_t moved = k->dir == MIRROR_DIR_IN ? sent : k->have;
		if (moved < k->edtl && a->status == MIRROR_STATUS_GOOD) {
			bhs[1] |= 0x02; /* U: residual underflow */
			put_be32(bhs + 44, k->edtl - moved);
		} else if (a->data_in_overflow && a->status == MIRROR_STATUS_GOOD) {
			bhs[1] |= 0x04; /* O: residual overflow (RFC 7143 11.4.5.1) */
			put_be32(bhs + 44, a->data_in_overflow);
		}
		if (sense) {
			put_be16(data, (uint16_t)a->sense_len);
			memcpy(data + 2, a->sense, a->sense_len);
			dlen = 2 + a->sense_len;
		}
		stamp_sn(c, bhs, true);
		long n = emit_pdu(c, bhs, data, dlen);
		if (n > 0) {
			struct mirror_event e = { MIRROR_EV_STATUS, (uint32_t)(BHS + (c->hd ? DIGEST : 0)),
						  dlen, 0 };
			mirror_cost_add(&k->cost, &e);
		}
	} else {
		struct mirror_event e = { MIRROR_EV_STATUS, (uint32_t)(BHS + (c->hd ? DIGEST : 0)), 0, 0 };
		mirror_cost_add(&k->cost, &e);
	}
	account_done(c, k, a->status);

	if (k->inj.drop_status) {
		c->out_len = mark; /* never sent: the initiator's timeout finds it */
		task_release(c, k, false);
		return;
	}
	if (k->inj.delay_ms) {
		k->held_len = c->out_len - mark;
		k->held = malloc(k->held_len);
		if (k->held) {
			memcpy(k->held, c->out + mark, k->held_len);
			c->out_len = mark;
			/* the clock starts at the next tick: the engine has no
			 * clock of its own, and the loop ticks right after
			 * the input that produced this response */
			k->due_ms = 0;
			if (k->rx_begun) {
				mirror_rx_end(c->t->rx, &k->rx);
				k->rx_begun = false;
			}
			free(k->dout);
			k->dout = NULL;
			return;
		}
	}
	task_release(c, k, false);
}

static void respond_check(struct mirror_tgt_conn *c, struct tgt_task *k, uint8_t key,
			  uint8_t asc, uint8_t ascq)
{
	struct mirror_rx_action a;
	struct mirror_sense s;

	memset(&a, 0, sizeof(a));
	memset(&s, 0, sizeof(s));
	s.key = key;
	s.asc = asc;
	s.ascq = ascq;
	a.kind = MIRROR_RX_RESPOND;
	a.status = MIRROR_STATUS_CHECK_CONDITION;
	a.sense_len = (unsigned)mirror_sense_build(a.sense, sizeof(a.sense), &s);
	respond(c, k, &a);
}

static void send_r2t(struct mirror_tgt_conn *c, struct tgt_task *k, uint32_t off, uint32_t len)
{
	uint8_t bhs[BHS] = { 0 };

	bhs[0] = OP_R2T;
	bhs[1] = 0x80;
	put_be32(bhs + 16, k->itt);
	k->r2t_ttt = (uint32_t)((k - c->task) << 24) | (k->next_ttt_seq++ & 0xffffff);
	put_be32(bhs + 20, k->r2t_ttt);
	stamp_sn(c, bhs, false);
	put_be32(bhs + 36, k->r2tsn++);
	put_be32(bhs + 40, off);
	put_be32(bhs + 44, len);
	k->r2t_out = true;
	k->r2t_off = off;
	k->r2t_end = off + len;
	if (emit_pdu(c, bhs, NULL, 0) > 0) {
		struct mirror_event e = { MIRROR_EV_R2T, (uint32_t)(BHS + (c->hd ? DIGEST : 0)), 0, 0 };
		mirror_cost_add(&k->cost, &e);
	}
}

static void run_action(struct mirror_tgt_conn *c, struct tgt_task *k, struct mirror_rx_action *a);

/* Solicits the part of the wanted range that will not come unsolicited,
 * or hands the range to the receiver once it is all here. */
static void pump(struct mirror_tgt_conn *c, struct tgt_task *k)
{
	while (k->used && k->want_active) {
		uint32_t end = k->want_off + k->want_len;
		if (k->have >= end) {
			struct mirror_rx_action a;
			k->want_active = false;
			mirror_rx_data(c->t->rx, &k->rx, k->dout + k->want_off, k->want_len, &a);
			run_action(c, k, &a);
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

static void run_action(struct mirror_tgt_conn *c, struct tgt_task *k, struct mirror_rx_action *a)
{
	if (a->kind == MIRROR_RX_RESPOND) {
		respond(c, k, a);
		return;
	}
	/* WANT_DATA within what the command said it would send, and within
	 * the buffer a mirror command can need */
	uint64_t end = (uint64_t)a->offset + a->length;
	if (a->length == 0 || end > k->edtl || end > DOUT_CAP) {
		respond_check(c, k, MIRROR_SK_ILLEGAL_REQUEST, 0x1A, 0x00);
		return;
	}
	if (k->dout_cap < end) {
		uint8_t *p = realloc(k->dout, (size_t)end);
		if (!p) {
			respond_check(c, k, MIRROR_SK_HARDWARE_ERROR, 0x55, 0x03); /* insufficient resources */
			return;
		}
		k->dout = p;
		k->dout_cap = (uint32_t)end;
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
	if (off != k->have || (uint64_t)off + n > k->edtl) {
		respond_check(c, k, MIRROR_SK_ABORTED_COMMAND, 0x0C, 0x0D);
		return -1;
	}
	if (solicited ? (off < k->r2t_off || off + n > k->r2t_end) : off + n > k->unsol_end) {
		respond_check(c, k, MIRROR_SK_ABORTED_COMMAND, 0x0C, 0x0C);
		return -1;
	}
	if (off + n > DOUT_CAP) { /* past anything a mirror command asks for */
		respond_check(c, k, MIRROR_SK_ILLEGAL_REQUEST, 0x1A, 0x00);
		return -1;
	}
	if (k->dout_cap < off + n) {
		/* data ahead of the receiver's request (unsolicited): keep it,
		 * bounded by DOUT_CAP above */
		uint8_t *p = realloc(k->dout, off + n);
		if (!p) {
			respond_check(c, k, MIRROR_SK_HARDWARE_ERROR, 0x55, 0x03);
			return -1;
		}
		k->dout = p;
		k->dout_cap = off + n;
	}
	memcpy(k->dout + off, d, n);
	k->have = off + n;
	if (k->inj.close_mid_transfer && k->have * 2 >= k->edtl) {
		task_release(c, k, true);
		c->fatal = true;
		return -1;
	}
	return 0;
}

static void on_data_out(struct mirror_tgt_conn *c, const uint8_t *bhs, const uint8_t *data,
			uint32_t dlen, uint32_t wire_hdr)
{
	uint32_t itt = get_be32(bhs + 16), ttt = get_be32(bhs + 20), off = get_be32(bhs + 40);
	bool final = bhs[1] & 0x80;
	struct tgt_task *k = task_find(c, itt);

	if (!k || k->held)
		return; /* the task already answered: late data is dropped (RFC 7143 11.7) */
	bool solicited = ttt != RSVD_TAG;
	if (solicited && (!k->r2t_out || ttt != k->r2t_ttt)) {
		respond_check(c, k, MIRROR_SK_ABORTED_COMMAND, 0x0C, 0x0C);
		return;
	}
	if (!solicited && (c->initial_r2t)) {
		respond_check(c, k, MIRROR_SK_ABORTED_COMMAND, 0x0C, 0x0C);
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
				respond_check(c, k, MIRROR_SK_ABORTED_COMMAND, 0x0C, 0x0D);
				return;
			}
			k->r2t_out = false;
		}
	}
	pump(c, k);
}

/* ---- SCSI Command ---- */

static void on_scsi_cmd(struct mirror_tgt_conn *c, const uint8_t *bhs, const uint8_t *data,
			uint32_t dlen, uint32_t wire_hdr)
{
	struct mirror_tgt *t = c->t;
	uint32_t itt = get_be32(bhs + 16), edtl = get_be32(bhs + 20);
	bool rd = bhs[1] & 0x40, wr = bhs[1] & 0x20;
	struct tgt_task *k;

	if (task_find(c, itt)) { /* an ITT in use: a protocol error */
		send_reject(c, bhs, REJECT_INVALID_FIELD);
		return;
	}
	k = task_alloc(c);
	if (!k) {
		/* more than the window allows: TASK SET FULL */
		uint8_t r[BHS] = { 0 };
		r[0] = OP_SCSI_RSP;
		r[1] = 0x80;
		r[3] = MIRROR_STATUS_TASK_SET_FULL;
		put_be32(r + 16, itt);
		stamp_sn(c, r, true);
		emit_pdu(c, r, NULL, 0);
		return;
	}
	k->itt = itt;
	k->edtl = edtl;
	k->dir = wr ? MIRROR_DIR_OUT : rd ? MIRROR_DIR_IN : MIRROR_DIR_NONE;
	uint64_t lun = get_be64(bhs + 8);

	/* data the command may bring along: immediate data, then unsolicited
	 * Data-Out up to FirstBurstLength (RFC 7143 13.11, 13.14) */
	if (k->dir == MIRROR_DIR_OUT) {
		uint32_t unsol = c->initial_r2t ? 0 : c->first_burst;
		if (c->immediate_data && dlen > unsol)
			unsol = dlen;
		k->unsol_end = unsol < edtl ? unsol : edtl;
	}
	struct mirror_event ce = { MIRROR_EV_COMMAND, wire_hdr, dlen, 0 };
	if (t->cfg.inject)
		mirror_inject_decide(t->cfg.inject, bhs[32], &k->inj);

	if (dlen) {
		if (k->dir != MIRROR_DIR_OUT || !c->immediate_data) {
			respond_check(c, k, MIRROR_SK_ABORTED_COMMAND, 0x0C, 0x0C);
			return;
		}
		if (take_data(c, k, 0, data, dlen, false) < 0)
			return;
	}
	if (lun != 0) {
		/* one LU: LUN 0 (SPC-5 5.6 LOGICAL UNIT NOT SUPPORTED) */
		k->kind = MIRROR_RX_KIND_OTHER;
		mirror_cost_begin(&k->cost, MIRROR_PATH_SMALL, 0);
		mirror_cost_add(&k->cost, &ce);
		respond_check(c, k, MIRROR_SK_ILLEGAL_REQUEST, 0x25, 0x00);
		return;
	}
	struct mirror_rx_action a;
	mirror_rx_begin(t->rx, &k->rx, bhs + 32, 16, k->dir, edtl,
			c->initiator[0] ? c->initiator : NULL, &k->inj.faults, &a);
	k->rx_begun = true;
	k->kind = k->rx.kind;
	unsigned cdb_len = k->kind == MIRROR_RX_KIND_LARGE ? MIRROR_NOTIFY_CDB_LEN
			 : k->kind == MIRROR_RX_KIND_SMALL ? mirror_small_cdb_len(&t->rx->profile)
							   : 16;
	mirror_cost_begin(&k->cost, kind_path(k->kind), cdb_len);
	mirror_cost_add(&k->cost, &ce);
	run_action(c, k, &a);
}

/* ---- login ---- */

struct login_ctx {
	const struct iscsi_keys *keys;
	struct iscsi_text_out out;
	uint16_t status; /* class << 8 | detail */
};

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
	if (!c->mrdsl_declared && (iscsi_keys_get(l->keys, "MaxRecvDataSegmentLength") || c->csg == 1)) {
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

static void chap_response(const uint8_t id, const char *secret, const uint8_t *chal, size_t n,
			  uint8_t digest[MD5_DIGEST_SIZE])
{
	struct md5_ctx m;
	/* RFC 1994: MD5(identifier || secret || challenge) */
	md5_init(&m);
	md5_update(&m, 1, &id);
	md5_update(&m, strlen(secret), (const uint8_t *)secret);
	md5_update(&m, n, chal);
	md5_digest(&m, MD5_DIGEST_SIZE, digest);
}

/* Security negotiation (RFC 7143 12.1.3, CHAP).  Returns true once the
 * initiator is authenticated (or no authentication is configured). */
static bool negotiate_security(struct mirror_tgt_conn *c, struct login_ctx *l)
{
	const struct mirror_tgt_config *cfg = &c->t->cfg;
	const char *am = iscsi_keys_get(l->keys, "AuthMethod");

	if (am) {
		bool offers_chap = strstr(am, "CHAP") != NULL, offers_none = strstr(am, "None") != NULL;
		if (cfg->chap_user && offers_chap) {
			iscsi_text_add(&l->out, "AuthMethod", "CHAP");
			c->chap = CHAP_WAIT_A;
		} else if (!cfg->chap_user && offers_none) {
			iscsi_text_add(&l->out, "AuthMethod", "None");
			c->chap = CHAP_DONE;
			c->chap_ok = true;
		} else {
			iscsi_text_add(&l->out, "AuthMethod", "Reject");
			l->status = 0x0201;
			return false;
		}
	}
	if (!cfg->chap_user) {
		c->chap_ok = true;
		return true;
	}
	const char *a = iscsi_keys_get(l->keys, "CHAP_A");
	if (c->chap == CHAP_WAIT_A && a) {
		if (!strstr(a, "5")) {
			iscsi_text_add(&l->out, "CHAP_A", "Reject");
			l->status = 0x0201;
			return false;
		}
		if (getrandom(c->chap_challenge, sizeof(c->chap_challenge), 0) != sizeof(c->chap_challenge) ||
		    getrandom(&c->chap_id, 1, 0) != 1) {
			l->status = 0x0300;
			return false;
		}
		char hex[2 + 2 * sizeof(c->chap_challenge) + 1];
		iscsi_format_binary(c->chap_challenge, sizeof(c->chap_challenge), hex, sizeof(hex));
		iscsi_text_add(&l->out, "CHAP_A", "5");
		iscsi_text_addu(&l->out, "CHAP_I", c->chap_id);
		iscsi_text_add(&l->out, "CHAP_C", hex);
		c->chap = CHAP_WAIT_R;
		return false;
	}
	const char *n = iscsi_keys_get(l->keys, "CHAP_N"), *r = iscsi_keys_get(l->keys, "CHAP_R");
	if (c->chap == CHAP_WAIT_R && n && r) {
		uint8_t got[64], want[MD5_DIGEST_SIZE];
		size_t got_len = 0;
		chap_response(c->chap_id, cfg->chap_secret, c->chap_challenge,
			      sizeof(c->chap_challenge), want);
		if (strcmp(n, cfg->chap_user) != 0 || iscsi_parse_binary(r, got, sizeof(got), &got_len) < 0 ||
		    got_len != MD5_DIGEST_SIZE || memcmp(got, want, MD5_DIGEST_SIZE) != 0) {
			l->status = 0x0201;
			return false;
		}
		/* mutual CHAP: the initiator challenges us in turn */
		const char *ci = iscsi_keys_get(l->keys, "CHAP_I"), *cc = iscsi_keys_get(l->keys, "CHAP_C");
		if (ci && cc) {
			uint32_t id;
			uint8_t chal[1024], resp[MD5_DIGEST_SIZE];
			size_t chal_len;
			if (!cfg->target_chap_user || iscsi_parse_number(ci, &id) < 0 || id > 255 ||
			    iscsi_parse_binary(cc, chal, sizeof(chal), &chal_len) < 0 ||
			    (chal_len == sizeof(c->chap_challenge) &&
			     memcmp(chal, c->chap_challenge, chal_len) == 0)) {
				/* no target secret, or our own challenge reflected */
				l->status = 0x0201;
				return false;
			}
			char hex[2 + 2 * MD5_DIGEST_SIZE + 1];
			chap_response((uint8_t)id, cfg->target_chap_secret, chal, chal_len, resp);
			iscsi_format_binary(resp, sizeof(resp), hex, sizeof(hex));
			iscsi_text_add(&l->out, "CHAP_N", cfg->target_chap_user);
			iscsi_text_add(&l->out, "CHAP_R", hex);
		}
		c->chap = CHAP_DONE;
		c->chap_ok = true;
		return true;
	}
	return c->chap_ok;
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
	uint8_t bhs[BHS] = { 0 };

	bhs[0] = OP_LOGIN_RSP;
	bhs[1] = (uint8_t)((transit ? 0x80 : 0) | (c->csg & 3) << 2 | (transit ? (nsg & 3) : 0));
	bhs[2] = 0x00; /* version max */
	bhs[3] = 0x00; /* version active */
	memcpy(bhs + 8, c->isid, 6);
	put_be16(bhs + 14, l->status ? 0 : c->tsih);
	memcpy(bhs + 16, req + 16, 4); /* ITT */
	put_be32(bhs + 24, c->stat_sn++);
	put_be32(bhs + 28, c->exp_cmd_sn);
	put_be32(bhs + 32, c->exp_cmd_sn + CMD_WINDOW - 1);
	bhs[36] = (uint8_t)(l->status >> 8);
	bhs[37] = (uint8_t)l->status;
	emit_pdu(c, bhs, l->status ? NULL : (const uint8_t *)l->out.buf,
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

/* Keys continued over several PDUs (C bit) are gathered, bounded. */
static char *accumulate_text(struct mirror_tgt_conn *c, const uint8_t *data, uint32_t dlen,
			     size_t *len)
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

static void on_login(struct mirror_tgt_conn *c, const uint8_t *bhs, const uint8_t *data, uint32_t dlen)
{
	struct mirror_tgt *t = c->t;
	bool transit = bhs[1] & 0x80, cont = bhs[1] & 0x40;
	unsigned csg = (bhs[1] >> 2) & 3, nsg = bhs[1] & 3;
	struct login_ctx l;
	struct iscsi_keys keys;
	size_t tlen;

	memset(&l, 0, sizeof(l));
	if (c->state != ST_LOGIN) {
		send_reject(c, bhs, REJECT_PROTOCOL);
		return;
	}
	if (bhs[3] > 0x00) { /* version-min above ours (RFC 7143 11.12.4) */
		login_fail(c, bhs, &l, 0x0205);
		return;
	}
	memcpy(c->isid, bhs + 8, 6);
	c->exp_cmd_sn = get_be32(bhs + 24);
	char *text = accumulate_text(c, data, dlen, &tlen);
	if (!text) {
		login_fail(c, bhs, &l, 0x0300);
		return;
	}
	if (cont) { /* more keys follow: acknowledge, wait for the rest */
		send_login_rsp(c, bhs, &l, false, 0);
		return;
	}
	int prc = iscsi_keys_parse(text, tlen, &keys);
	c->text_acc_len = 0;
	l.keys = &keys;
	if (prc < 0 || csg == 2 || (transit && (nsg == 2 || nsg <= csg))) {
		login_fail(c, bhs, &l, 0x0200); /* initiator error */
		return;
	}
	c->csg = csg;
	const char *iname = iscsi_keys_get(&keys, "InitiatorName");
	if (iname) {
		snprintf(c->initiator, sizeof(c->initiator), "%s", iname);
		if (!acl_allows(&t->cfg, iname)) {
			login_fail(c, bhs, &l, 0x0202); /* authorization failure */
			return;
		}
	}
	const char *stype = iscsi_keys_get(&keys, "SessionType");
	if (stype)
		c->discovery = strcmp(stype, "Discovery") == 0;
	const char *tname = iscsi_keys_get(&keys, "TargetName");
	if (!c->discovery && tname && strcmp(tname, t->cfg.target_name) != 0) {
		login_fail(c, bhs, &l, 0x0203); /* not found */
		return;
	}
	if (!c->initiator[0]) {
		login_fail(c, bhs, &l, 0x0207); /* missing parameter */
		return;
	}
	if (!c->tsih) {
		c->tsih = t->next_tsih++;
		if (!t->next_tsih) /* TSIH 0 means "new session" */
			t->next_tsih = 1;
	}

	bool authed = true;
	if (csg == 0)
		authed = negotiate_security(c, &l);
	else if (t->cfg.chap_user && !c->chap_ok)
		authed = false, l.status = 0x0201; /* skipped the security stage */
	if (l.status) {
		login_fail(c, bhs, &l, l.status);
		return;
	}
	negotiate_operational(c, &l);
	if (!c->discovery && !c->tpgt_sent) {
		iscsi_text_addu(&l.out, "TargetPortalGroupTag", 1);
		if (t->cfg.target_alias)
			iscsi_text_add(&l.out, "TargetAlias", t->cfg.target_alias);
		c->tpgt_sent = true;
	}
	bool go = transit && authed;
	send_login_rsp(c, bhs, &l, go, nsg);
	if (go && nsg == 3) {
		c->state = ST_FULL;
		c->hd = c->hd_next;
		c->dd = c->dd_next;
		t->st.sessions_total++;
		t->st.sessions_now++;
		c->session_counted = true;
	}
}

/* ---- full feature phase ---- */

static void on_nop_out(struct mirror_tgt_conn *c, const uint8_t *bhs, const uint8_t *data, uint32_t dlen)
{
	uint32_t itt = get_be32(bhs + 16);
	uint8_t r[BHS] = { 0 };

	if (itt == RSVD_TAG)
		return; /* an answer to a NOP-In we never send, or a one-way ping */
	r[0] = OP_NOP_IN;
	r[1] = 0x80;
	memcpy(r + 8, bhs + 8, 8);
	put_be32(r + 16, itt);
	put_be32(r + 20, RSVD_TAG);
	stamp_sn(c, r, true);
	emit_pdu(c, r, data, dlen); /* the ping data comes back (RFC 7143 11.19) */
}

static void on_logout(struct mirror_tgt_conn *c, const uint8_t *bhs)
{
	uint8_t r[BHS] = { 0 };

	r[0] = OP_LOGOUT_RSP;
	r[1] = 0x80;
	r[2] = 0x00; /* connection or session closed successfully */
	memcpy(r + 16, bhs + 16, 4);
	stamp_sn(c, r, true);
	emit_pdu(c, r, NULL, 0);
	c->state = ST_CLOSING;
}

static void on_tmf(struct mirror_tgt_conn *c, const uint8_t *bhs)
{
	unsigned fn = bhs[1] & 0x7f;
	uint32_t rtt = get_be32(bhs + 20);
	uint8_t r[BHS] = { 0 }, response = 0;

	c->t->st.tmf++;
	switch (fn) {
	case 1: { /* ABORT TASK: its ranges stay invalid (mirror_rx_abort) */
		struct tgt_task *k = task_find(c, rtt);
		if (k)
			task_release(c, k, true);
		else
			response = 0x01; /* task does not exist */
		break;
	}
	case 2: /* ABORT TASK SET */
	case 4: /* CLEAR TASK SET */
	case 5: /* LOGICAL UNIT RESET */
		for (unsigned i = 0; i < TASKS_MAX; i++)
			if (c->task[i].used)
				task_release(c, &c->task[i], true);
		break;
	default:
		response = 0x05; /* function not supported */
		break;
	}
	r[0] = OP_TMF_RSP;
	r[1] = 0x80;
	r[2] = response;
	memcpy(r + 16, bhs + 16, 4);
	stamp_sn(c, r, true);
	emit_pdu(c, r, NULL, 0);
}

static void on_text(struct mirror_tgt_conn *c, const uint8_t *bhs, const uint8_t *data, uint32_t dlen)
{
	const struct mirror_tgt_config *cfg = &c->t->cfg;
	struct iscsi_keys keys;
	struct iscsi_text_out *o = calloc(1, sizeof(*o));
	size_t tlen;
	char *text = accumulate_text(c, data, dlen, &tlen);
	uint8_t r[BHS] = { 0 };

	if (!o || !text) {
		free(o);
		send_reject(c, bhs, REJECT_PROTOCOL);
		return;
	}
	r[0] = OP_TEXT_RSP;
	memcpy(r + 16, bhs + 16, 4);
	put_be32(r + 20, RSVD_TAG);
	if (bhs[1] & 0x40) { /* continued: wait for the rest */
		stamp_sn(c, r, true);
		emit_pdu(c, r, NULL, 0);
		free(o);
		return;
	}
	r[1] = 0x80;
	c->text_acc_len = 0;
	if (iscsi_keys_parse(text, tlen, &keys) < 0) {
		free(o);
		send_reject(c, bhs, REJECT_PROTOCOL);
		return;
	}
	for (unsigned i = 0; i < keys.n; i++) {
		if (strcmp(keys.kv[i].key, "SendTargets") == 0) {
			const char *v = keys.kv[i].value;
			if (strcmp(v, "All") == 0 || strcmp(v, cfg->target_name) == 0 || !*v) {
				char addr[96];
				iscsi_text_add(o, "TargetName", cfg->target_name);
				snprintf(addr, sizeof(addr), "%s,1", cfg->portal ? cfg->portal : "127.0.0.1:3260");
				iscsi_text_add(o, "TargetAddress", addr);
			}
		} else {
			iscsi_text_add(o, keys.kv[i].key, "NotUnderstood");
		}
	}
	stamp_sn(c, r, true);
	emit_pdu(c, r, (const uint8_t *)o->buf, (uint32_t)o->len);
	free(o);
}

/* ---- framing ---- */

/* Command numbering (RFC 7143 4.2.2.1): a non-immediate request must carry
 * a CmdSN in ExpCmdSN..MaxCmdSN; one outside that window (or below it: a
 * duplicate) is silently ignored, an accepted one advances ExpCmdSN.
 * Immediate requests are delivered at once and consume no CmdSN. */
static bool cmdsn_accept(struct mirror_tgt_conn *c, const uint8_t *bhs)
{
	uint32_t sn = get_be32(bhs + 24);

	if (bhs[0] & 0x40)
		return true;
	if (sn_lt(sn, c->exp_cmd_sn) || sn_lt(c->exp_cmd_sn + CMD_WINDOW - 1, sn))
		return false;
	c->exp_cmd_sn = sn + 1;
	return true;
}

static void dispatch(struct mirror_tgt_conn *c, uint8_t *bhs, uint8_t *data, uint32_t dlen,
		     uint32_t wire_hdr)
{
	uint8_t op = bhs[0] & 0x3f;

	c->t->st.pdus_in++;
	if (c->state == ST_LOGIN && op != OP_LOGIN_REQ) {
		/* RFC 7143 6.2: only Login Requests before the full feature phase */
		send_reject(c, bhs, REJECT_PROTOCOL);
		c->state = ST_CLOSING;
		return;
	}
	if (c->discovery && c->state == ST_FULL && op != OP_TEXT_REQ && op != OP_LOGOUT_REQ &&
	    op != OP_NOP_OUT) {
		send_reject(c, bhs, REJECT_PROTOCOL);
		return;
	}
	if ((op == OP_SCSI_CMD || op == OP_NOP_OUT || op == OP_TMF_REQ || op == OP_TEXT_REQ ||
	     op == OP_LOGOUT_REQ) && !cmdsn_accept(c, bhs))
		return;
	switch (op) {
	case OP_LOGIN_REQ:
		on_login(c, bhs, data, dlen);
		break;
	case OP_SCSI_CMD:
		on_scsi_cmd(c, bhs, data, dlen, wire_hdr);
		break;
	case OP_DATA_OUT:
		on_data_out(c, bhs, data, dlen, wire_hdr);
		break;
	case OP_NOP_OUT:
		on_nop_out(c, bhs, data, dlen);
		break;
	case OP_TEXT_REQ:
		on_text(c, bhs, data, dlen);
		break;
	case OP_LOGOUT_REQ:
		on_logout(c, bhs);
		break;
	case OP_TMF_REQ:
		on_tmf(c, bhs);
		break;
	default:
		/* SNACK (ErrorRecoveryLevel 0) and any opcode an initiator may
		 * not send */
		send_reject(c, bhs, REJECT_NOT_SUPPORTED);
		break;
	}
}

int mirror_tgt_conn_input(struct mirror_tgt_conn *c, const uint8_t *buf, size_t len)
{
	while (len && c->state != ST_CLOSING && !c->fatal) {
		if (c->skip) { /* the rest of a PDU too large to keep */
			size_t n = len < c->skip ? len : c->skip;
			c->skip -= n;
			buf += n;
			len -= n;
			continue;
		}
		size_t want = BHS;
		if (c->in_len >= BHS) {
			uint32_t ahs = c->in[4] * 4u, dsl = get_be24(c->in + 5);
			want = BHS + ahs + (c->hd ? DIGEST : 0) + pad4(dsl) + (c->dd && dsl ? DIGEST : 0);
		}
		size_t take = want - c->in_len < len ? want - c->in_len : len;
		memcpy(c->in + c->in_len, buf, take);
		c->in_len += take;
		buf += take;
		len -= take;
		if (c->in_len < BHS)
			continue;
		uint32_t ahs = c->in[4] * 4u, dsl = get_be24(c->in + 5);
		if (c->in_len == BHS && want == BHS) {
			/* the header is complete: bound the rest before keeping it */
			if (dsl > our_mrdsl(c)) {
				uint8_t bad[BHS];
				memcpy(bad, c->in, BHS);
				send_reject(c, bad, REJECT_PROTOCOL);
				c->skip = ahs + (c->hd ? DIGEST : 0) + pad4(dsl) + (c->dd ? DIGEST : 0);
				c->in_len = 0;
				continue;
			}
			want = BHS + ahs + (c->hd ? DIGEST : 0) + pad4(dsl) + (c->dd && dsl ? DIGEST : 0);
			if (want > BHS)
				continue;
		}
		if (c->in_len < want)
			continue;
		uint32_t hd = c->hd ? DIGEST : 0;
		if (hd && crc32c(c->in, BHS + ahs) != get_le32(c->in + BHS + ahs)) {
			/* a header we cannot trust: at ErrorRecoveryLevel 0 the
			 * connection ends (RFC 7143 7.8) */
			c->t->st.digest_errors++;
			c->fatal = true;
			break;
		}
		uint8_t *data = c->in + BHS + ahs + hd;
		if (c->dd && dsl && crc32c(data, pad4(dsl)) != get_le32(data + pad4(dsl))) {
			c->t->st.digest_errors++;
			send_reject(c, c->in, REJECT_DATA_DIGEST);
			c->fatal = true;
			break;
		}
		dispatch(c, c->in, data, dsl, BHS + ahs + hd + (c->dd && dsl ? DIGEST : 0));
		c->in_len = 0;
	}
	return (c->state == ST_CLOSING || c->fatal) ? -1 : 0;
}

/* ---- lifecycle ---- */

void mirror_tgt_config_init(struct mirror_tgt_config *c)
{
	memset(c, 0, sizeof(*c));
	c->target_name = "iqn.2026-11.org.mirrortest:emu";
	c->portal = "127.0.0.1:3260";
	c->neg = MIRROR_NEG_PATENT;
	c->max_recv_data_segment_length = 262144;
	c->max_burst_length = 1048576;
	c->first_burst_length = 65536;
}

struct mirror_tgt *mirror_tgt_new(const struct mirror_tgt_config *cfg, struct mirror_receiver *rx)
{
	struct mirror_tgt *t;

	if (!cfg || !rx || !cfg->target_name || cfg->max_recv_data_segment_length < 512 ||
	    cfg->max_recv_data_segment_length > 16777215 || cfg->max_burst_length < 512 ||
	    cfg->first_burst_length < 512 || cfg->first_burst_length > cfg->max_burst_length ||
	    (cfg->chap_user && !cfg->chap_secret) ||
	    (cfg->target_chap_user && !cfg->target_chap_secret))
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->cfg = *cfg;
	t->rx = rx;
	t->next_tsih = 1;
	return t;
}

void mirror_tgt_free(struct mirror_tgt *t)
{
	free(t);
}

const struct mirror_tgt_stats *mirror_tgt_stats(const struct mirror_tgt *t)
{
	return &t->st;
}

struct mirror_tgt_conn *mirror_tgt_conn_new(struct mirror_tgt *t, const char *peer)
{
	struct mirror_tgt_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->t = t;
	snprintf(c->peer, sizeof(c->peer), "%s", peer ? peer : "?");
	/* the largest PDU this target accepts: BHS, AHS (255 words), digests,
	 * a data segment of our MaxRecvDataSegmentLength */
	c->in_cap = BHS + 255 * 4 + 2 * DIGEST + pad4(t->cfg.max_recv_data_segment_length > LOGIN_DSL_MAX
							   ? t->cfg.max_recv_data_segment_length
							   : LOGIN_DSL_MAX);
	c->in = malloc(c->in_cap);
	if (!c->in) {
		free(c);
		return NULL;
	}
	/* RFC 7143 defaults until negotiated */
	c->initial_r2t = true;
	c->immediate_data = true;
	c->peer_mrdsl = 8192;
	c->max_burst = 262144;
	c->first_burst = 65536;
	return c;
}

const uint8_t *mirror_tgt_conn_output(struct mirror_tgt_conn *c, size_t *len)
{
	*len = c->out_len - c->out_off;
	return c->out ? c->out + c->out_off : (const uint8_t *)""; /* nothing sent yet */
}

void mirror_tgt_conn_consumed(struct mirror_tgt_conn *c, size_t n)
{
	c->out_off += n;
	if (c->out_off >= c->out_len)
		c->out_off = c->out_len = 0;
}

int mirror_tgt_conn_tick(struct mirror_tgt_conn *c, uint64_t now_ms)
{
	int64_t next = -1;

	for (unsigned i = 0; i < TASKS_MAX; i++) {
		struct tgt_task *k = &c->task[i];
		if (!k->used || !k->held)
			continue;
		if (k->due_ms == 0)
			k->due_ms = now_ms + k->inj.delay_ms;
		if (k->due_ms <= now_ms) {
			if (out_reserve(c, k->held_len) == 0) {
				memcpy(c->out + c->out_len, k->held, k->held_len);
				c->out_len += k->held_len;
			}
			task_release(c, k, false);
		} else if (next < 0 || (int64_t)(k->due_ms - now_ms) < next) {
			next = (int64_t)(k->due_ms - now_ms);
		}
	}
	return (int)next;
}

bool mirror_tgt_conn_wants_close(const struct mirror_tgt_conn *c)
{
	return c->state == ST_CLOSING || c->fatal;
}

void mirror_tgt_conn_free(struct mirror_tgt_conn *c)
{
	if (!c)
		return;
	for (unsigned i = 0; i < TASKS_MAX; i++)
		if (c->task[i].used)
			task_release(c, &c->task[i], true);
	if (c->session_counted)
		c->t->st.sessions_now--;
	free(c->in);
	free(c->out);
	free(c->text_acc);
	free(c);
}

/* ---- counters as JSON ---- */

static struct json_object *kind_json(const struct mirror_tgt_kind_stats *k)
{
	struct json_object *o = json_object_new_object(), *b = json_object_new_object();

	json_object_object_add(o, "ops", json_object_new_int64((int64_t)k->ops));
	json_object_object_add(o, "errors", json_object_new_int64((int64_t)k->errors));
	json_object_object_add(o, "interrupts", json_object_new_int64((int64_t)k->interrupts));
	json_object_object_add(o, "interrupts_min", json_object_new_int64(k->interrupts_min));
	json_object_object_add(o, "interrupts_max", json_object_new_int64(k->interrupts_max));
	json_object_object_add(b, "cdb", json_object_new_int64((int64_t)k->bytes.cdb));
	json_object_object_add(b, "metadata", json_object_new_int64((int64_t)k->bytes.metadata));
	json_object_object_add(b, "data", json_object_new_int64((int64_t)k->bytes.data));
	json_object_object_add(b, "iscsi", json_object_new_int64((int64_t)k->bytes.transport));
	json_object_object_add(b, "total", json_object_new_int64((int64_t)k->bytes.total));
	json_object_object_add(o, "bytes", b);
	return o;
}

struct json_object *mirror_tgt_stats_json(const struct mirror_tgt *t)
{
	static const char *const names[5] = { "other", "small", "large", "table_update", "readback" };
	struct json_object *o = json_object_new_object(), *kinds = json_object_new_object();
	struct json_object *sense = json_object_new_object();
	const struct mirror_tgt_stats *s = &t->st;

	for (unsigned i = 0; i < 5; i++)
		json_object_object_add(kinds, names[i], kind_json(&s->kind[i]));
	json_object_object_add(o, "kinds", kinds);
	json_object_object_add(o, "sessions_total", json_object_new_int64((int64_t)s->sessions_total));
	json_object_object_add(o, "sessions_now", json_object_new_int64((int64_t)s->sessions_now));
	json_object_object_add(o, "logins_failed", json_object_new_int64((int64_t)s->logins_failed));
	json_object_object_add(o, "pdus_in", json_object_new_int64((int64_t)s->pdus_in));
	json_object_object_add(o, "pdus_out", json_object_new_int64((int64_t)s->pdus_out));
	json_object_object_add(o, "rejects", json_object_new_int64((int64_t)s->rejects));
	json_object_object_add(o, "digest_errors", json_object_new_int64((int64_t)s->digest_errors));
	json_object_object_add(o, "task_management", json_object_new_int64((int64_t)s->tmf));
	for (unsigned k = 0; k < 16; k++) {
		if (s->sense_count[k])
			json_object_object_add(sense, mirror_sense_key_name((uint8_t)k),
					       json_object_new_int64((int64_t)s->sense_count[k]));
	}
	json_object_object_add(o, "check_conditions", sense);
	const struct mirror_receiver *rx = t->rx;
	struct json_object *seq = json_object_new_object();
	uint64_t gaps = 0, repeats = 0, msgs = 0;
	for (unsigned i = 0; i < MIRROR_RX_SENDERS_MAX; i++) {
		gaps += rx->senders[i].gaps;
		repeats += rx->senders[i].repeats;
		msgs += rx->senders[i].messages;
	}
	json_object_object_add(seq, "messages", json_object_new_int64((int64_t)msgs));
	json_object_object_add(seq, "gaps", json_object_new_int64((int64_t)gaps));
	json_object_object_add(seq, "repeats", json_object_new_int64((int64_t)repeats));
	json_object_object_add(o, "sequence", seq);
	json_object_object_add(o, "table_generation", json_object_new_int64(rx->table.generation));
	return o;
}
