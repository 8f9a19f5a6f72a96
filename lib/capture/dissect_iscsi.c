/* The iSCSI layer of the capture decoder (include/mirror/dissect.h).
 *
 * Framing follows RFC 7143 11.2 (BHS, AHS, header digest, data segment
 * padded to 4 bytes, data digest; digests RFC 7143 12.1, CRC32C), task
 * tracking by Initiator Task Tag (RFC 7143 11.3, 11.4, 11.7, 11.8), and
 * the accounting of wire-profile.md: command = 1 interrupt, each Data-Out
 * sequence up to the F bit = 1, status = 1, immediate data = 0, R2T =
 * bytes only. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <mirror/dissect.h>
#include <mirror/error.h>
#include <mirror/path.h>
#include <mirror/sense.h>

#include "base/bytes.h"
#include "base/cursor.h"
#include "iscsi/pdu.h"
#include "iscsi/text.h"

/* Sanity bound of TotalAHSLength for a SCSI Command (RFC 7143 11.3.4:
 * an extended CDB of up to 260 - 16 bytes plus a bidirectional read length). */
#define AHS_WORDS_MAX 68u
#define HASH_BUCKETS 256u
#define MD_LEN MIRROR_METADATA_BYTES

enum mode { M_SYNC = 0, M_HUNT };

struct task {
	struct task *next;
	uint32_t itt;
	uint8_t cdb[PDU_CMD_CDB_LEN];
	unsigned cdb_len;
	uint8_t opcode;
	bool rd, wr;
	uint32_t edtl;
	enum mirror_dissect_path path;
	uint64_t t_cmd, pkt_cmd;
	struct mirror_cost_acc acc;
	/* the open Data-Out sequence */
	bool seq_open;
	uint32_t seq_hdr, seq_payload, seq_tcpip;
	unsigned dataout_pdus, seqs, r2ts, datain_pdus;
	unsigned solicited_seqs; /* Data-Out sequences answering an R2T */
	uint64_t dataout_bytes, immediate_bytes, datain_bytes, datain_hdr;
	/* Target-to-initiator bytes were lost while it was open: it may have
	 * lost an R2T, Data-In or its response.  Settled when it ends. */
	bool t2i_suspect;
	uint32_t residual_under; /* from the status (11.4.5), for Data-In */
	uint8_t *md; /* first 1024 bytes of data-out (large path) */
	uint32_t md_have;
	unsigned incomplete;
	bool have_status, have_sense;
	uint8_t response, status, sense_key, asc, ascq;
};

struct dirstate {
	enum mode mode;
	uint8_t *buf; /* one PDU that spans chunks */
	size_t cap, have;
	size_t hdr_len, total; /* of the buffered PDU, once its BHS is in */
	/* Its bytes from keep on are counted, not stored (elide_from); 0:
	 * every byte is stored. */
	size_t keep;
	bool hdr_ok;           /* its header digest was checked */
	bool damaged;          /* a gap inside the buffered PDU */
	uint64_t tcpip;        /* apportioned to the buffered PDU so far */
	uint8_t hw[PDU_BHS_LEN + PDU_DIGEST_LEN]; /* hunt window: bytes not yet tried */
	size_t hw_len;
	bool hd, dd;
	uint32_t bound;
	uint64_t last_pkt, last_ts; /* of the last chunk (for PDUs a gap completes) */
};

struct chunk {
	size_t len;
	uint32_t tcpip;
	uint64_t pkt, ts;
};

struct mirror_dissect_conn {
	struct mirror_profile profile;
	uint64_t id;
	mirror_dissect_op_fn cb;
	void *ctx;
	unsigned max_tasks;
	struct dirstate d[2];
	struct task *bucket[HASH_BUCKETS];
	/* Every open task already carries tasks_lost's mark for the
	 * direction (the marks are never taken back); a new task clears it. */
	bool lost_marked[2];
	struct mirror_dissect_stats st;
	/* values declared in the login, applied at its final response */
	bool pend_hd, pend_dd;
	struct login_tail {
		uint8_t rec[96]; /* the longest key=value read, and then some */
		size_t len;
		bool overflow;
	} login_tail[2];
	/* Digests neither given nor seen negotiated (a capture that starts
	 * after the login): told from the first PDUs (digest_probe_*). */
	bool probe_hd, probe_dd;
	uint32_t pend_dsl[2];
	bool nomem;
	struct mirror_findings findings;
	struct mirror_dissect_op op;
};

const char *mirror_dissect_path_name(enum mirror_dissect_path p)
{
	switch (p) {
	case MIRROR_DISSECT_SMALL:
		return "small";
	case MIRROR_DISSECT_LARGE:
		return "large";
	default:
		return "other";
	}
}

/* How the direction frames its PDUs (pdu_header_len, pdu_wire_len). */
static struct pdu_digests dir_digests(const struct dirstate *d)
{
	struct pdu_digests dg = { d->hd, d->dd };
	return dg;
}

/* A digest (RFC 7143 12.1, CRC32C stored least significant byte first)
 * over the n bytes at off, stored right after them; false when the bytes
 * are not all in the cursor. */
static bool digest_ok_at(struct cursor *c, size_t off, size_t n)
{
	const uint8_t *p = cur_take_at(c, off, n);
	uint32_t want = cur_le32_at(c, off + n);

	return cur_ok(c) && mirror_pdu_crc32c(p, n) == want;
}

/* ---- plausibility of a BHS (untrusted input; RFC 7143 11) ---- */

/* The DSL bound of a direction: the receiving side's declared
 * MaxRecvDataSegmentLength (RFC 7143 13.12), never less than what login
 * PDUs may carry. */
static uint32_t dsl_bound(const struct dirstate *d)
{
	return d->bound > PDU_LOGIN_DSL_MAX ? d->bound : PDU_LOGIN_DSL_MAX;
}

/* b holds at least a whole BHS.  Reserved fields and flag combinations
 * that RFC 7143 forbids tell a real header from payload bytes that look
 * like one (the hunt after a loss relies on it). */
static bool bhs_plausible(const struct dirstate *d, enum mirror_dissect_dir dir,
			  const uint8_t *b)
{
	/* The opcodes each side may send (RFC 7143 11.1.1), by bit: tried
	 * first, as the hunt tries every byte position and most fail here. */
	static const uint64_t sent_by[2] = {
		[MIRROR_DISSECT_I2T] = 1ull << OP_NOP_OUT | 1ull << OP_SCSI_CMD | 1ull << OP_TMF_REQ |
				       1ull << OP_LOGIN_REQ | 1ull << OP_TEXT_REQ |
				       1ull << OP_DATA_OUT | 1ull << OP_LOGOUT_REQ | 1ull << OP_SNACK,
		[MIRROR_DISSECT_T2I] = 1ull << OP_NOP_IN | 1ull << OP_SCSI_RSP | 1ull << OP_TMF_RSP |
				       1ull << OP_LOGIN_RSP | 1ull << OP_TEXT_RSP | 1ull << OP_DATA_IN |
				       1ull << OP_LOGOUT_RSP | 1ull << OP_R2T | 1ull << OP_ASYNC_MSG |
				       1ull << OP_REJECT,
	};
	struct cursor c;

	cur_init(&c, b, PDU_BHS_LEN);
	uint8_t b0 = cur_u8_at(&c, 0), op = b0 & PDU_B0_OPCODE_MASK;
	if (!(sent_by[dir] >> op & 1))
		return false;
	uint8_t f1 = cur_u8_at(&c, PDU_FLAGS);
	uint8_t b2 = cur_u8_at(&c, PDU_OPCODE_SPECIFIC), b3 = cur_u8_at(&c, PDU_OPCODE_SPECIFIC + 1);
	uint32_t ahs = cur_u8_at(&c, PDU_TOTAL_AHS_LEN), dsl = cur_be24_at(&c, PDU_DATA_SEGMENT_LEN);
	bool b23_zero = b2 == 0 && b3 == 0;
	unsigned login_csg = (f1 & PDU_LOGIN_CSG_MASK) >> PDU_LOGIN_CSG_SHIFT;
	unsigned login_nsg = f1 & PDU_LOGIN_NSG_MASK;

	if (!cur_ok(&c))
		return false;
	if (b0 & PDU_B0_RESERVED) /* 11.2.1.1 */
		return false;
	if (dir == MIRROR_DISSECT_T2I && (b0 & PDU_B0_IMMEDIATE)) /* I bit: initiator only */
		return false;
	if (dsl > dsl_bound(d))
		return false;
	if (op != OP_SCSI_CMD && ahs != 0)
		return false;
	if (dir == MIRROR_DISSECT_I2T) {
		switch (op) {
		case OP_NOP_OUT: /* 11.18: F = 1, bytes 2-3 reserved */
			return f1 == PDU_F && b23_zero &&
			       cur_zero_at(&c, PDU_NOP_OUT_RSVD, PDU_NOP_OUT_RSVD_LEN);
		case OP_SCSI_CMD: /* 11.3: bits 4-3 of byte 1 and bytes 2-3 reserved */
			return (f1 & PDU_CMD_FLAGS_RSVD) == 0 && b23_zero && ahs <= AHS_WORDS_MAX &&
			       ((f1 & PDU_F) || (f1 & PDU_CMD_W));
		case OP_TMF_REQ: /* 11.5: F = 1, function 1..8 */
			return (f1 & PDU_F) && (f1 & PDU_TMF_FUNCTION_MASK) >= TMF_ABORT_TASK &&
			       (f1 & PDU_TMF_FUNCTION_MASK) <= TMF_TASK_REASSIGN && b23_zero && dsl == 0;
		case OP_LOGIN_REQ: /* 11.12: I = 1, bits 5-4 of byte 1 reserved, no stage 2 */
			return (b0 & PDU_B0_IMMEDIATE) && (f1 & PDU_LOGIN_FLAGS_RSVD) == 0 &&
			       dsl <= PDU_LOGIN_DSL_MAX && login_csg != LOGIN_STAGE_RESERVED &&
			       login_nsg != LOGIN_STAGE_RESERVED;
		case OP_TEXT_REQ: /* 11.10: only F and C in byte 1 */
			return (f1 & (uint8_t)~(PDU_F | PDU_TEXT_C)) == 0 && b23_zero;
		case OP_DATA_OUT:
			/* 11.7: only F in byte 1; reserved where Data-In has
			 * StatSN, MaxCmdSN and the residual count */
			return (f1 & (uint8_t)~PDU_F) == 0 && b23_zero &&
			       cur_be32_at(&c, PDU_DIN_STATSN) == 0 &&
			       cur_be32_at(&c, PDU_DIN_MAXCMDSN) == 0 &&
			       cur_be32_at(&c, PDU_DIN_RESIDUAL) == 0 && dsl > 0;
		case OP_LOGOUT_REQ: /* 11.14: F = 1, reason 0..3 */
			return (f1 & PDU_F) && (f1 & PDU_LOGOUT_REASON_MASK) <= 3 && b23_zero &&
			       dsl == 0;
		case OP_SNACK: /* 11.16: F = 1, type 0..3 */
			return (f1 & PDU_F) && (f1 & PDU_SNACK_FLAGS_RSVD) == 0 &&
			       (f1 & PDU_SNACK_TYPE_MASK) <= PDU_SNACK_TYPE_MAX && b23_zero && dsl == 0;
		default:
			return false;
		}
	}
	switch (op) {
	case OP_NOP_IN: /* 11.19 */
		return f1 == PDU_F && b23_zero && cur_zero_at(&c, PDU_NOP_IN_RSVD, PDU_NOP_IN_RSVD_LEN);
	case OP_SCSI_RSP: /* 11.4: F = 1, bits 6-5 and 0 reserved, response 0/1 */
		return (f1 & PDU_F) && (f1 & PDU_RSP_FLAGS_RSVD) == 0 && b2 <= 1 &&
		       cur_be32_at(&c, PDU_RSP_SNACK_TAG) == 0;
	case OP_TMF_RSP: /* 11.6: response 0..6 */
		return f1 == PDU_F && b2 <= 6 && b3 == 0 && dsl == 0;
	case OP_LOGIN_RSP: /* 11.13 */
		return (f1 & PDU_LOGIN_FLAGS_RSVD) == 0 && dsl <= PDU_LOGIN_DSL_MAX;
	case OP_TEXT_RSP: /* 11.11 */
		return (f1 & (uint8_t)~(PDU_F | PDU_TEXT_C)) == 0 && b23_zero;
	case OP_DATA_IN: /* 11.7: bits 5-3 reserved; S needs F, O and U need S */
		return (f1 & PDU_DIN_FLAGS_RSVD) == 0 && b2 == 0 &&
		       (!(f1 & PDU_DATA_STATUS) || (f1 & PDU_F)) &&
		       (!(f1 & (PDU_DATA_OVERFLOW | PDU_DATA_UNDERFLOW)) || (f1 & PDU_DATA_STATUS)) &&
		       dsl > 0;
	case OP_LOGOUT_RSP: /* 11.15: response 0..3 */
		return f1 == PDU_F && b2 <= 3 && b3 == 0 && dsl == 0;
	case OP_R2T: /* 11.8: no data segment, desired length > 0 */
		return f1 == PDU_F && b23_zero && dsl == 0 && cur_be32_at(&c, PDU_R2T_LENGTH) > 0;
	case OP_ASYNC_MSG: /* 11.9 */
		return f1 == PDU_F && b23_zero;
	case OP_REJECT: /* 11.17: the rejected header is the data segment */
		return f1 == PDU_F && b3 == 0 && dsl >= PDU_BHS_LEN;
	default:
		return false;
	}
}

/* The header part of the PDU at b (whose BHS is in) checked against its
 * digest when the direction has one; hl bytes of b are readable. */
static bool hdr_digest_ok(const struct dirstate *d, const uint8_t *b, size_t hl)
{
	struct cursor c;

	if (!d->hd)
		return true;
	cur_init(&c, b, hl);
	return digest_ok_at(&c, 0, PDU_BHS_LEN + pdu_ahs_bytes(b));
}

/* ---- digests of a connection whose login is not in the capture ----
 * A CRC32C that matches by chance is a 2^-32 event, so the four bytes
 * after the first header (or data segment) tell whether the digest is
 * there.  Login PDUs never carry digests (RFC 7143 13.1): not probed. */

static bool probe_applies(const uint8_t *b)
{
	uint8_t op = pdu_opcode(b);
	return op != OP_LOGIN_REQ && op != OP_LOGIN_RSP;
}

/* p[0..n) starts with a plausible BHS.  Decides what the bytes at hand
 * can decide, and never waits for more: the next bytes of this direction
 * may come after the other direction's answer (a command, then its R2T),
 * and holding the command back would put the R2T first.  A PDU whose
 * digest position lies past the chunk leaves the question to the next. */
static void digest_probe(struct mirror_dissect_conn *c, const struct dirstate *ds,
			 const uint8_t *p, size_t n)
{
	struct cursor cu;

	if ((!c->probe_hd && !c->probe_dd) || !probe_applies(p))
		return;
	cur_init(&cu, p, n);
	size_t h = PDU_BHS_LEN + pdu_ahs_bytes(p);
	if (c->probe_hd) {
		if (!cur_has_at(&cu, h, PDU_DIGEST_LEN))
			return;
		bool on = digest_ok_at(&cu, 0, h);
		c->probe_hd = false;
		c->d[0].hd = c->d[1].hd = on; /* one key for both directions (13.1) */
		c->st.digests_probed = true;
	}
	uint32_t dsl = pdu_dsl(p);
	size_t hl = pdu_header_len(p, dir_digests(ds)), pl = pdu_pad4(dsl);
	if (c->probe_dd && dsl && cur_has_at(&cu, hl, pl + PDU_DIGEST_LEN)) {
		bool on = digest_ok_at(&cu, hl, pl);
		c->probe_dd = false;
		c->d[0].dd = c->d[1].dd = on;
		c->st.digests_probed = true;
	}
}

/* The bytes a hunt needs to try a position: a BHS and its digest. */
static size_t hunt_need(const struct dirstate *ds)
{
	return PDU_BHS_LEN + (ds->hd ? PDU_DIGEST_LEN : 0);
}

/* A candidate while hunting: a plausible BHS without AHS whose header
 * digest, if in force, matches. */
static bool hunt_candidate(const struct dirstate *d, enum mirror_dissect_dir dir,
			   const uint8_t *b)
{
	return pdu_ahs_bytes(b) == 0 && bhs_plausible(d, dir, b) && hdr_digest_ok(d, b, hunt_need(d));
}

/* The first position in p[from..n) where hunt_candidate holds, or, when
 * none does, the first position with fewer than a hunt's bytes after it.
 * A header the hunt accepts has no AHS, so its byte 4 (TotalAHSLength,
 * RFC 7143 11.2.1.4) is zero: memchr goes from one such position to the
 * next, and a data segment of non-zero bytes is crossed without trying
 * each byte of it. */
static size_t hunt_scan(const struct dirstate *d, enum mirror_dissect_dir dir,
			const uint8_t *p, size_t from, size_t n)
{
	size_t need = hunt_need(d), i = from;

	while (i + need <= n) {
		const uint8_t *z = memchr(p + i + PDU_TOTAL_AHS_LEN, 0, n - need + 1 - i);
		if (!z)
			return n - need + 1;
		i = (size_t)(z - p) - PDU_TOTAL_AHS_LEN;
		if (hunt_candidate(d, dir, p + i))
			return i;
		i++;
	}
	return i;
}

/* ---- tasks ---- */

static struct task **task_slot(struct mirror_dissect_conn *c, uint32_t itt)
{
	struct task **pp = &c->bucket[(itt ^ itt >> 8 ^ itt >> 16) % HASH_BUCKETS];

	while (*pp && (*pp)->itt != itt)
		pp = &(*pp)->next;
	return pp;
}

static struct task *task_find(struct mirror_dissect_conn *c, uint32_t itt)
{
	return *task_slot(c, itt);
}

static void seq_flush(struct task *t)
{
	if (!t->seq_open)
		return;
	struct mirror_event e = { MIRROR_EV_DATA_BURST, t->seq_hdr, t->seq_payload, t->seq_tcpip };
	mirror_cost_add(&t->acc, &e);
	t->seqs++;
	t->seq_open = false;
	t->seq_hdr = t->seq_payload = t->seq_tcpip = 0;
}

/* The counts of an operation without a status (or whose events broke the
 * model): what was seen, no completion interrupt. */
static void cost_partial(const struct task *t, struct mirror_cost *out)
{
	const struct mirror_cost_acc *a = &t->acc;
	uint64_t md = t->path == MIRROR_DISSECT_LARGE ? MD_LEN : 0;
	uint64_t hdr = a->headers + a->other_payload;

	memset(out, 0, sizeof(*out));
	if (md > a->payload)
		md = a->payload;
	out->int_command = 1;
	out->int_data = a->bursts;
	out->int_status = a->ended ? 1 : 0;
	out->interrupts = out->int_command + out->int_data + out->int_status;
	out->cdb = a->cdb_len;
	out->metadata = md;
	out->data = a->payload - md;
	out->transport = hdr > a->cdb_len ? hdr - a->cdb_len : 0;
	out->tcpip = a->tcpip;
	out->total = out->cdb + out->metadata + out->data + out->transport + out->tcpip;
}

static void decode_fields(struct mirror_dissect_conn *c, const struct task *t,
			  struct mirror_dissect_op *op)
{
	struct mirror_check_ctx ctx = MIRROR_CHECK_CTX_INIT;

	ctx.data_out_length = t->edtl;
	if (t->path == MIRROR_DISSECT_SMALL) {
		struct mirror_small_cdb s;
		int r = mirror_small_cdb_decode(&c->profile, t->cdb, t->cdb_len, &ctx, &s,
						&c->findings);
		if (r == MIRROR_E_TRUNCATED)
			return;
		op->fields_valid = true;
		op->lba = s.lba;
		op->volume = s.volume;
		op->blocks = mirror_small_cdb_blocks(&s);
		for (unsigned i = 0; i < s.slots && i < MIRROR_SMALL_SG_MAX; i++) {
			if (!s.sg[i].blocks)
				continue;
			op->sg[op->sg_count].nvram_addr = s.sg[i].descriptor * MIRROR_BLOCK_SIZE;
			op->sg[op->sg_count].bytes = s.sg[i].blocks * MIRROR_BLOCK_SIZE;
			op->sg_count++;
		}
	} else if (t->path == MIRROR_DISSECT_LARGE) {
		struct mirror_notify_cdb n;
		(void)mirror_notify_cdb_decode(&c->profile, t->cdb, t->cdb_len, &n, &c->findings);
		if (!t->md || t->md_have < MD_LEN)
			return;
		struct mirror_metadata m;
		int r = mirror_metadata_decode(&c->profile, t->md, MD_LEN, &ctx, &m, &c->findings);
		if (r == MIRROR_E_TRUNCATED)
			return;
		op->fields_valid = true;
		op->lba = m.lba;
		op->blocks = m.blocks;
		op->sequence = m.sequence;
		op->sg_count = m.sg_count <= MIRROR_METADATA_SG_MAX ? m.sg_count : 0;
		memcpy(op->sg, m.sg, op->sg_count * sizeof(op->sg[0]));
	}
}

/* A task that was open across a target-to-initiator loss ends: it lost
 * something of its own only if an R2T the initiator answered is missing
 * (every solicited Data-Out sequence follows one, RFC 7143 11.7), its
 * Data-In falls short of what the status says was sent, or the status
 * never came. */
static void t2i_settle(struct task *t)
{
	uint64_t want_in;

	if (!t->t2i_suspect)
		return;
	if (!t->have_status || t->r2ts < t->solicited_seqs) {
		t->incomplete |= MIRROR_DISSECT_INC_GAP;
		return;
	}
	if (t->rd) {
		want_in = t->edtl > t->residual_under ? t->edtl - t->residual_under : 0;
		if (t->datain_bytes < want_in)
			t->incomplete |= MIRROR_DISSECT_INC_GAP;
	}
}

/* Ends a task: unlinks it, emits its record, frees it. */
static void task_end(struct mirror_dissect_conn *c, struct task *t, uint64_t t_end)
{
	struct mirror_dissect_op *op = &c->op;
	struct task **pp = task_slot(c, t->itt);

	if (*pp == t)
		*pp = t->next;
	c->st.open_tasks--;
	seq_flush(t);
	t2i_settle(t);
	memset(op, 0, sizeof(*op));
	mirror_findings_init(&c->findings);
	op->conn_id = c->id;
	op->itt = t->itt;
	op->time_ns = t->t_cmd;
	op->packet = t->pkt_cmd;
	op->path = t->path;
	op->opcode = t->opcode;
	memcpy(op->cdb, t->cdb, sizeof(op->cdb));
	op->cdb_len = t->cdb_len;
	op->read = t->rd;
	op->write = t->wr;
	op->edtl = t->edtl;
	op->dataout_pdus = t->dataout_pdus;
	op->data_sequences = t->seqs;
	op->r2ts = t->r2ts;
	op->datain_pdus = t->datain_pdus;
	op->dataout_bytes = t->dataout_bytes;
	op->immediate_bytes = t->immediate_bytes;
	op->datain_bytes = t->datain_bytes;
	op->incomplete = t->incomplete;
	op->have_status = t->have_status;
	op->response = t->response;
	op->status = t->status;
	op->have_sense = t->have_sense;
	op->sense_key = t->sense_key;
	op->asc = t->asc;
	op->ascq = t->ascq;
	/* A bad data digest is noted, not an incomplete operation. */
	op->complete = t->acc.ended && !(t->incomplete & ~(unsigned)MIRROR_DISSECT_INC_DIGEST);
	if (!t->acc.ended || mirror_cost_end(&t->acc, &op->cost) != 0)
		cost_partial(t, &op->cost);
	/* Data-In (other commands): its payload is data, its headers are
	 * transport (counted as R2T-like events: no interrupt). */
	op->cost.data += t->datain_bytes;
	op->cost.total += t->datain_bytes;
	if (t->acc.ended && t_end >= t->t_cmd)
		op->latency_ns = t_end - t->t_cmd;
	decode_fields(c, t, op);
	op->findings = &c->findings;
	c->st.ops_emitted++;
	if (!op->complete)
		c->st.ops_incomplete++;
	if (t->path == MIRROR_DISSECT_OTHER)
		c->st.ops_other++;
	if (c->cb)
		c->cb(c->ctx, op);
	free(t->md);
	free(t);
}

/* Bytes of direction dir were lost or skipped while these tasks were open.
 * Initiator-to-target bytes may be any task's command or data: every open
 * task is incomplete.  Target-to-initiator bytes can only be R2Ts, Data-In
 * and responses, which a task's later PDUs tell apart (t2i_settle). */
static void tasks_lost(struct mirror_dissect_conn *c, enum mirror_dissect_dir dir)
{
	/* Called for every chunk skipped while hunting: a walk of all the
	 * buckets each time was a third of the fuzzer's time (perf). */
	if (c->lost_marked[dir])
		return;
	c->lost_marked[dir] = true;
	for (unsigned i = 0; i < HASH_BUCKETS; i++)
		for (struct task *t = c->bucket[i]; t; t = t->next) {
			if (dir == MIRROR_DISSECT_T2I)
				t->t2i_suspect = true;
			else
				t->incomplete |= MIRROR_DISSECT_INC_GAP;
		}
}

static void tasks_end_all(struct mirror_dissect_conn *c)
{
	if (!c->st.open_tasks)
		return;
	for (unsigned i = 0; i < HASH_BUCKETS; i++)
		while (c->bucket[i]) {
			c->bucket[i]->incomplete |= MIRROR_DISSECT_INC_NO_RESPONSE;
			task_end(c, c->bucket[i], 0);
		}
}

/* Copies the part of data-out at buffer offset off that falls into the
 * first 1024 bytes (the metadata mirror message, large path). */
static void md_copy(struct task *t, uint32_t off, const uint8_t *p, uint32_t n)
{
	if (!t->md || off >= MD_LEN)
		return;
	uint32_t k = MD_LEN - off < n ? MD_LEN - off : n;
	memcpy(t->md + off, p, k);
	t->md_have += k;
}

static unsigned cdb_len_of(const struct mirror_profile *p, uint8_t op)
{
	switch (mirror_command_of(p, op)) {
	case MIRROR_CMD_NOTIFY:
		return MIRROR_NOTIFY_CDB_LEN;
	case MIRROR_CMD_SMALL:
		return mirror_small_cdb_len(p);
	default:
		break;
	}
	switch (op >> 5) { /* SAM group code */
	case 0:
		return 6;
	case 1:
	case 2:
		return 10;
	case 5:
		return 12;
	default:
		return 16;
	}
}

/* ---- PDUs ---- */

/* One framed PDU.  Its fields are read through the cursor, which spans
 * the whole PDU (BHS, AHS, digests, padded data): the handlers index the
 * header by the names of iscsi/pdu.h. */
struct pdu {
	struct cursor c;
	uint8_t flags;    /* byte 1 */
	uint32_t itt;
	const uint8_t *data;
	uint32_t data_len; /* of data that is stored: dsl, or less (elide_from) */
	uint32_t dsl;
	uint32_t hdr_bytes; /* BHS + AHS + digests + padding */
	uint32_t tcpip;
	bool damaged;    /* bytes of it were lost (gap) */
	bool bad_digest; /* its data digest did not match */
	uint64_t pkt, ts;
};

/* Flags the task for what happened to one of its PDUs; true when its data
 * can be believed. */
static bool pdu_mark(struct task *t, const struct pdu *u)
{
	if (u->damaged)
		t->incomplete |= MIRROR_DISSECT_INC_GAP;
	if (u->bad_digest)
		t->incomplete |= MIRROR_DISSECT_INC_DIGEST;
	return !u->damaged && !u->bad_digest;
}

static void on_command(struct mirror_dissect_conn *c, struct pdu *u)
{
	uint32_t itt = u->itt;
	struct task *old = task_find(c, itt);

	c->st.commands++;
	if (old) { /* RFC 7143 11.2.1.8: the ITT is unique among open tasks */
		old->incomplete |= MIRROR_DISSECT_INC_ITT_REUSED;
		c->st.itt_reused++;
		task_end(c, old, 0);
	}
	if (c->st.open_tasks >= c->max_tasks) {
		c->st.tasks_dropped++;
		return;
	}
	struct task *t = calloc(1, sizeof(*t));
	if (!t) {
		c->st.tasks_dropped++;
		return;
	}
	t->itt = itt;
	cur_copy_at(&u->c, PDU_CMD_CDB, t->cdb, PDU_CMD_CDB_LEN);
	t->opcode = t->cdb[0];
	t->cdb_len = cdb_len_of(&c->profile, t->opcode);
	t->rd = u->flags & PDU_CMD_R;
	t->wr = u->flags & PDU_CMD_W;
	t->edtl = cur_be32_at(&u->c, PDU_CMD_EDTL);
	t->t_cmd = u->ts;
	t->pkt_cmd = u->pkt;
	/* wire-profile.md: the mirror commands are data-out; a data-in 0x3C
	 * is READ BUFFER and a data-in 0xA0 is REPORT LUNS. */
	enum mirror_command k = mirror_command_of(&c->profile, t->opcode);
	t->path = MIRROR_DISSECT_OTHER;
	if (t->wr && !t->rd && k == MIRROR_CMD_NOTIFY)
		t->path = MIRROR_DISSECT_LARGE;
	else if (t->wr && !t->rd && k == MIRROR_CMD_SMALL)
		t->path = MIRROR_DISSECT_SMALL;
	if (t->path == MIRROR_DISSECT_LARGE) {
		t->md = calloc(1, MD_LEN);
		if (!t->md) {
			free(t);
			c->st.tasks_dropped++;
			return;
		}
	}
	mirror_cost_begin(&t->acc,
			  t->path == MIRROR_DISSECT_LARGE ? MIRROR_PATH_LARGE : MIRROR_PATH_SMALL,
			  t->cdb_len);
	/* Immediate data rides in the command: bytes, no interrupt. */
	struct mirror_event e = { MIRROR_EV_COMMAND, u->hdr_bytes, u->dsl, u->tcpip };
	mirror_cost_add(&t->acc, &e);
	t->immediate_bytes = u->dsl;
	if (pdu_mark(t, u) && u->dsl)
		md_copy(t, 0, u->data, u->data_len);
	struct task **pp = task_slot(c, itt);
	*pp = t;
	c->st.open_tasks++;
	c->lost_marked[MIRROR_DISSECT_I2T] = c->lost_marked[MIRROR_DISSECT_T2I] = false;
}

static void on_data_out(struct mirror_dissect_conn *c, struct pdu *u)
{
	struct task *t = task_find(c, u->itt);

	if (!t) {
		c->st.orphan_pdus++;
		return;
	}
	/* A sequence's first PDU: the reserved TTT 0xffffffff is
	 * unsolicited data (11.7.4), any other value answers an R2T. */
	if (!t->seq_open && cur_be32_at(&u->c, PDU_DATA_TTT) != PDU_RSVD_TAG)
		t->solicited_seqs++;
	t->seq_open = true;
	t->seq_hdr += u->hdr_bytes;
	t->seq_payload += u->dsl;
	t->seq_tcpip += u->tcpip;
	t->dataout_pdus++;
	t->dataout_bytes += u->dsl;
	if (pdu_mark(t, u))
		md_copy(t, cur_be32_at(&u->c, PDU_DATA_OFFSET), u->data, u->data_len);
	if (u->flags & PDU_F) /* the last PDU of the sequence (11.7.1) */
		seq_flush(t);
}

static void on_r2t(struct mirror_dissect_conn *c, struct pdu *u)
{
	struct task *t = task_find(c, u->itt);

	if (!t) {
		c->st.orphan_pdus++;
		return;
	}
	t->r2ts++;
	struct mirror_event e = { MIRROR_EV_R2T, u->hdr_bytes, 0, u->tcpip };
	mirror_cost_add(&t->acc, &e);
}

static void on_response(struct mirror_dissect_conn *c, struct pdu *u)
{
	struct task *t = task_find(c, u->itt);

	if (!t) {
		c->st.orphan_pdus++;
		return;
	}
	t->have_status = true;
	t->response = cur_u8_at(&u->c, PDU_RSP_RESPONSE);
	t->status = cur_u8_at(&u->c, PDU_RSP_STATUS);
	if (u->flags & PDU_RSP_UNDERFLOW) /* residual underflow (11.4.5.1) */
		t->residual_under = cur_be32_at(&u->c, PDU_RSP_RESIDUAL);
	/* 11.4.7: SenseLength (2 bytes), then the sense data. */
	if (pdu_mark(t, u) && u->dsl) {
		struct cursor d;
		cur_init(&d, u->data, u->data_len);
		uint16_t sl = cur_be16(&d);
		const uint8_t *sense = cur_take(&d, sl);
		struct mirror_sense sn;
		if (cur_ok(&d) && sl > 0 && mirror_sense_parse(sense, sl, &sn) == 0) {
			t->have_sense = true;
			t->sense_key = sn.key;
			t->asc = sn.asc;
			t->ascq = sn.ascq;
		}
	}
	seq_flush(t);
	struct mirror_event e = { MIRROR_EV_STATUS, u->hdr_bytes, u->dsl, u->tcpip };
	mirror_cost_add(&t->acc, &e);
	task_end(c, t, u->ts);
}

static void on_data_in(struct mirror_dissect_conn *c, struct pdu *u)
{
	struct task *t = task_find(c, u->itt);

	if (!t) {
		c->st.orphan_pdus++;
		return;
	}
	t->datain_pdus++;
	t->datain_bytes += u->dsl;
	(void)pdu_mark(t, u);
	if (u->flags & PDU_DATA_STATUS) { /* S: status in the last Data-In (11.7.3) */
		t->have_status = true;
		t->status = cur_u8_at(&u->c, PDU_DIN_STATUS);
		if (u->flags & PDU_DATA_UNDERFLOW) /* U, as in a response (11.7.5) */
			t->residual_under = cur_be32_at(&u->c, PDU_DIN_RESIDUAL);
		seq_flush(t);
		struct mirror_event e = { MIRROR_EV_STATUS, u->hdr_bytes, 0, u->tcpip };
		mirror_cost_add(&t->acc, &e);
		task_end(c, t, u->ts);
		return;
	}
	/* Data-In costs the receiver no interrupt (it sends it): its headers
	 * are transport bytes, like an R2T's; its payload is data. */
	struct mirror_event e = { MIRROR_EV_R2T, u->hdr_bytes, 0, u->tcpip };
	mirror_cost_add(&t->acc, &e);
}

/* One "key=value" record of a login text (RFC 7143 6.1, 13). */
static void login_key(struct mirror_dissect_conn *c, enum mirror_dissect_dir dir,
		      const uint8_t *rec, size_t n)
{
	const uint8_t *eq = memchr(rec, '=', n);
	char v[64];

	if (!eq)
		return;
	size_t kl = (size_t)(eq - rec), vl = n - kl - 1;
	if (vl >= sizeof(v))
		return;
	memcpy(v, eq + 1, vl);
	v[vl] = '\0';
#define KEY_IS(s) (kl == sizeof(s) - 1 && memcmp(rec, s, kl) == 0)
	if (KEY_IS("HeaderDigest") && dir == MIRROR_DISSECT_T2I) {
		c->pend_hd = strcmp(v, "CRC32C") == 0;
	} else if (KEY_IS("DataDigest") && dir == MIRROR_DISSECT_T2I) {
		c->pend_dd = strcmp(v, "CRC32C") == 0;
	} else if (KEY_IS("MaxRecvDataSegmentLength")) {
		/* Declarative (13.12): what the sender of the key can receive,
		 * so it bounds the other direction. */
		uint32_t x;
		if (iscsi_parse_number(v, &x) == 0 && x >= 512 && x <= MIRROR_DISSECT_DSL_MAX)
			c->pend_dsl[dir == MIRROR_DISSECT_I2T ? MIRROR_DISSECT_T2I
							      : MIRROR_DISSECT_I2T] = x;
	}
#undef KEY_IS
}

/* The records of one Login PDU's text.  With C (continue) set the text
 * goes on in the next Login PDU of the same direction and its last record
 * may be cut anywhere (RFC 7143 11.12.2, 6.2): the cut part waits in
 * login_tail and is joined to the start of the next PDU's text. */
static void login_text(struct mirror_dissect_conn *c, enum mirror_dissect_dir dir,
		       const uint8_t *p, size_t n, bool more)
{
	struct login_tail *lt = &c->login_tail[dir];
	struct cursor cu;
	const uint8_t *rec;
	size_t l;
	bool cut;

	cur_init(&cu, p, n);
	if (lt->len || lt->overflow) {
		rec = cur_take_until(&cu, '\0', &l);
		cut = !rec;
		if (cut) { /* no NUL in this PDU: all of it continues the record */
			l = cur_left(&cu);
			rec = cur_take(&cu, l);
		}
		if (!lt->overflow && lt->len + l <= sizeof(lt->rec)) {
			memcpy(lt->rec + lt->len, rec, l);
			lt->len += l;
		} else {
			lt->overflow = true; /* longer than any key we read */
		}
		if (cut && more)
			return; /* still cut: it goes on in the next PDU */
		if (!lt->overflow)
			login_key(c, dir, lt->rec, lt->len);
		lt->len = 0;
		lt->overflow = false;
	}
	while (cur_left(&cu)) {
		rec = cur_take_until(&cu, '\0', &l);
		if (!rec) { /* the last record has no NUL */
			l = cur_left(&cu);
			rec = cur_take(&cu, l);
			if (more) {
				if (l <= sizeof(lt->rec)) {
					memcpy(lt->rec, rec, l);
					lt->len = l;
				} else {
					lt->overflow = true;
				}
				return;
			}
		}
		if (l)
			login_key(c, dir, rec, l);
	}
}

static void on_login(struct mirror_dissect_conn *c, enum mirror_dissect_dir dir,
		     struct pdu *u, bool usable)
{
	if (usable) {
		login_text(c, dir, u->data, u->data_len, u->flags & PDU_LOGIN_C);
	} else {
		c->login_tail[dir].len = 0; /* a damaged PDU: what was cut is lost */
		c->login_tail[dir].overflow = false;
	}
	/* 11.13: the final response has T = 1, NSG = 3 (FullFeaturePhase) and
	 * status class 0; the digests start with the next PDU (13.1). */
	if (dir == MIRROR_DISSECT_T2I && (u->flags & PDU_LOGIN_T) &&
	    (u->flags & PDU_LOGIN_NSG_MASK) == LOGIN_STAGE_FULL_FEATURE &&
	    cur_u8_at(&u->c, PDU_LOGIN_STATUS_CLASS) == 0) {
		c->st.logins++;
		c->probe_hd = c->probe_dd = false;
		for (int i = 0; i < 2; i++) {
			c->d[i].hd = c->pend_hd;
			c->d[i].dd = c->pend_dd;
			if (c->pend_dsl[i])
				c->d[i].bound = c->pend_dsl[i];
		}
	}
}

/* A PDU of total bytes on the wire, of which b holds the first stored
 * (total, or fewer when elide_from spared the copy of data nobody reads). */
static void process_pdu(struct mirror_dissect_conn *c, enum mirror_dissect_dir dir,
			const uint8_t *b, size_t total, size_t stored, uint64_t tcpip,
			const struct chunk *ch, bool damaged)
{
	struct dirstate *ds = &c->d[dir];
	struct pdu u;
	size_t hl = pdu_header_len(b, dir_digests(ds));

	c->st.pdus[dir]++;
	cur_init(&u.c, b, stored);
	uint8_t op = cur_u8_at(&u.c, 0) & PDU_B0_OPCODE_MASK;
	u.flags = cur_u8_at(&u.c, PDU_FLAGS);
	u.itt = cur_be32_at(&u.c, PDU_ITT);
	u.dsl = cur_be24_at(&u.c, PDU_DATA_SEGMENT_LEN);
	u.data_len = stored >= total ? u.dsl : stored > hl ? (uint32_t)(stored - hl) : 0;
	if (u.data_len > u.dsl)
		u.data_len = u.dsl;
	u.data = cur_take_at(&u.c, hl, u.data_len);
	if (!cur_ok(&u.c))
		return; /* not whole: framing computed total from this header */
	u.hdr_bytes = (uint32_t)(total - u.dsl);
	u.tcpip = (uint32_t)tcpip;
	u.damaged = damaged;
	u.pkt = ch->pkt;
	u.ts = ch->ts;
	u.bad_digest = false;
	/* A digest negotiated (13.1) while the PDU's data went uncopied (a
	 * login's last response in the other direction): not checked. */
	if (ds->dd && u.dsl && !damaged && stored >= total) {
		if (!digest_ok_at(&u.c, hl, pdu_pad4(u.dsl))) {
			c->st.data_digest_errors++;
			u.bad_digest = true;
		}
	}
	if (dir == MIRROR_DISSECT_I2T) {
		switch (op) {
		case OP_SCSI_CMD:
			on_command(c, &u);
			break;
		case OP_DATA_OUT:
			on_data_out(c, &u);
			break;
		case OP_LOGIN_REQ:
			on_login(c, dir, &u, !u.damaged && !u.bad_digest);
			break;
		default:
			break; /* NOP-Out, TMF, Text, Logout, SNACK: counted */
		}
		return;
	}
	switch (op) {
	case OP_SCSI_RSP:
		on_response(c, &u);
		break;
	case OP_DATA_IN:
		on_data_in(c, &u);
		break;
	case OP_R2T:
		on_r2t(c, &u);
		break;
	case OP_LOGIN_RSP:
		on_login(c, dir, &u, !u.damaged && !u.bad_digest);
		break;
	default:
		break;
	}
}

/* ---- framing ---- */

/* The link/IP/TCP bytes of the chunk apportioned to its bytes [a, b). */
static uint64_t share(const struct chunk *ch, size_t a, size_t b)
{
	if (!ch->len)
		return 0;
	return (uint64_t)ch->tcpip * b / ch->len - (uint64_t)ch->tcpip * a / ch->len;
}

static void reset_pdu(struct dirstate *ds)
{
	ds->have = 0;
	ds->hdr_len = ds->total = 0;
	ds->hdr_ok = false;
	ds->damaged = false;
	ds->tcpip = 0;
	ds->keep = 0;
}

/* Where the buffered PDU's stored bytes may end, once its header is in.
 * The decoder reads no data of a Data-In and of a Data-Out only what lands
 * in the buffer's first MD_LEN bytes (the metadata, md_copy), so without a
 * data digest to check the rest is counted, not copied: a PDU of 1 MiB
 * spread over segments otherwise costs a copy of every byte (perf: 46% of
 * mirror-dissect's cycles on a capture of 1 MiB writes).  0: store all. */
static size_t elide_from(const struct mirror_dissect_conn *c, const struct dirstate *ds,
			 enum mirror_dissect_dir dir)
{
	struct cursor cu;
	size_t keep;

	if (ds->dd || c->probe_dd)
		return 0;
	cur_init(&cu, ds->buf, ds->have);
	uint8_t op = cur_u8_at(&cu, 0) & PDU_B0_OPCODE_MASK;
	uint32_t dsl = cur_be24_at(&cu, PDU_DATA_SEGMENT_LEN);
	uint32_t off = cur_be32_at(&cu, PDU_DATA_OFFSET);
	if (!cur_ok(&cu))
		return 0;
	if (dir == MIRROR_DISSECT_I2T && op == OP_DATA_OUT)
		keep = off < MD_LEN ? (MD_LEN - off < dsl ? MD_LEN - off : dsl) : 0;
	else if (dir == MIRROR_DISSECT_T2I && op == OP_DATA_IN)
		keep = 0;
	else
		return 0;
	return ds->hdr_len + keep < ds->total ? ds->hdr_len + keep : 0;
}

static void go_hunt(struct mirror_dissect_conn *c, enum mirror_dissect_dir dir)
{
	struct dirstate *ds = &c->d[dir];

	if (ds->mode == M_SYNC) {
		c->st.resyncs[dir]++;
		/* bytes are skipped: PDUs of any open task may be among them */
		tasks_lost(c, dir);
	}
	/* what was buffered or waiting in the window is given up */
	c->st.skipped_bytes[dir] += ds->have + ds->hw_len;
	ds->mode = M_HUNT;
	reset_pdu(ds);
	ds->hw_len = 0;
}

static bool reserve(struct mirror_dissect_conn *c, struct dirstate *ds, size_t want)
{
	if (want <= ds->cap)
		return true;
	/* the largest PDU the bound allows: BHS, AHS, digests, padded data */
	size_t lim = PDU_BHS_LEN + AHS_WORDS_MAX * 4u + 2 * PDU_DIGEST_LEN + pdu_pad4(dsl_bound(ds));
	size_t ncap = ds->cap ? ds->cap : 4096;
	while (ncap < want)
		ncap *= 2;
	if (ncap > lim)
		ncap = want > lim ? want : lim;
	uint8_t *nb = realloc(ds->buf, ncap);
	if (!nb) {
		c->nomem = true;
		return false;
	}
	ds->buf = nb;
	ds->cap = ncap;
	return true;
}

/* The buffered PDU after bytes were added: validate its BHS, then its
 * header digest, then decode it once whole.  On a bad header the bytes
 * after its first are searched for a candidate, and what cannot be tried
 * yet goes to the hunt window. */
static void settle(struct mirror_dissect_conn *c, enum mirror_dissect_dir dir,
		   const struct chunk *ch)
{
	struct dirstate *ds = &c->d[dir];

	for (;;) {
		if (ds->have < PDU_BHS_LEN)
			return;
		if (!ds->total) {
			if (!bhs_plausible(ds, dir, ds->buf)) {
				c->st.bad_headers[dir]++;
				goto fail;
			}
			ds->hdr_len = pdu_header_len(ds->buf, dir_digests(ds));
			ds->total = (size_t)pdu_wire_len(ds->buf, dir_digests(ds));
		}
		if (!ds->hdr_ok) {
			if (ds->have < ds->hdr_len)
				return;
			if (!hdr_digest_ok(ds, ds->buf, ds->hdr_len)) {
				c->st.header_digest_errors++;
				goto fail;
			}
			ds->hdr_ok = true;
			ds->keep = elide_from(c, ds, dir);
		}
		if (ds->have < ds->total)
			return;
		size_t tot = ds->total, rest = ds->have - tot;
		process_pdu(c, dir, ds->buf, tot, ds->keep ? ds->keep : tot, ds->tcpip, ch,
			    ds->damaged);
		if (rest) /* never with keep: the bytes past it were not stored */
			memmove(ds->buf, ds->buf + tot, rest);
		reset_pdu(ds);
		ds->have = rest;
		continue;
	fail:;
		size_t need = hunt_need(ds), i = hunt_scan(ds, dir, ds->buf, 1, ds->have);
		c->st.resyncs[dir]++;
		c->st.skipped_bytes[dir] += i;
		tasks_lost(c, dir);
		if (i + need <= ds->have) {
			size_t left = ds->have - i;
			memmove(ds->buf, ds->buf + i, left);
			reset_pdu(ds);
			ds->have = left;
			continue;
		}
		size_t keep = ds->have - i;
		memcpy(ds->hw, ds->buf + i, keep);
		reset_pdu(ds);
		ds->mode = M_HUNT;
		ds->hw_len = keep;
		return;
	}
}

/* In step: decodes in place a PDU wholly inside p[0..n), otherwise copies
 * into the direction's buffer.  Returns the bytes consumed (>= 1). */
static size_t sync_step(struct mirror_dissect_conn *c, enum mirror_dissect_dir dir,
			const uint8_t *p, size_t n, size_t base, const struct chunk *ch)
{
	struct dirstate *ds = &c->d[dir];

	if (ds->have == 0 && n >= PDU_BHS_LEN) {
		if (!bhs_plausible(ds, dir, p)) {
			c->st.bad_headers[dir]++;
			go_hunt(c, dir);
			c->st.skipped_bytes[dir]++;
			return 1;
		}
		digest_probe(c, ds, p, n);
		size_t hl = pdu_header_len(p, dir_digests(ds));
		size_t tot = (size_t)pdu_wire_len(p, dir_digests(ds));
		if (n >= hl && !hdr_digest_ok(ds, p, hl)) {
			c->st.header_digest_errors++;
			go_hunt(c, dir);
			c->st.skipped_bytes[dir]++;
			return 1;
		}
		if (n >= tot) { /* the fast path: no copy */
			process_pdu(c, dir, p, tot, tot, share(ch, base, base + tot), ch, false);
			return tot;
		}
	}
	if (ds->keep && ds->have >= ds->keep) {
		/* the part of the PDU not stored (elide_from) */
		size_t k = ds->total - ds->have < n ? ds->total - ds->have : n;
		ds->have += k;
		ds->tcpip += share(ch, base, base + k);
		settle(c, dir, ch);
		return k;
	}
	size_t want = ds->have < PDU_BHS_LEN ? PDU_BHS_LEN : ds->have < ds->hdr_len ? ds->hdr_len : ds->total;
	if (ds->keep)
		want = ds->keep;
	if (!reserve(c, ds, want)) {
		c->nomem = true;
		go_hunt(c, dir);
		c->st.skipped_bytes[dir] += n;
		return n;
	}
	size_t k = want - ds->have < n ? want - ds->have : n;
	memcpy(ds->buf + ds->have, p, k);
	ds->have += k;
	ds->tcpip += share(ch, base, base + k);
	settle(c, dir, ch);
	return k;
}

/* k bytes skipped while hunting: they may belong to a PDU of a task opened
 * since the loss, so the open tasks are told once per call, before any
 * candidate found later in the call opens a new one. */
static void hunt_skip(struct mirror_dissect_conn *c, enum mirror_dissect_dir dir, size_t k,
		      bool *marked)
{
	c->st.skipped_bytes[dir] += k;
	if (k && !*marked) {
		tasks_lost(c, dir);
		*marked = true;
	}
}

/* Hunting: tries every position for a plausible BHS (hunt_candidate).
 * Positions whose 48 (52) bytes are not all here yet wait in the hunt
 * window.  Returns the bytes consumed. */
static size_t hunt_step(struct mirror_dissect_conn *c, enum mirror_dissect_dir dir,
			const uint8_t *p, size_t n, const struct chunk *ch)
{
	struct dirstate *ds = &c->d[dir];
	size_t need = hunt_need(ds), i = 0, tries = ds->hw_len, tried = 0;
	bool marked = false;

	while (ds->hw_len > 0 && i < n && tried < tries) {
		ds->hw[ds->hw_len++] = p[i++];
		if (ds->hw_len < need)
			continue;
		if (hunt_candidate(ds, dir, ds->hw)) {
			if (!reserve(c, ds, need)) {
				c->nomem = true;
				ds->hw_len = 0;
				return i;
			}
			ds->mode = M_SYNC;
			reset_pdu(ds);
			memcpy(ds->buf, ds->hw, need);
			ds->have = need;
			ds->hw_len = 0;
			settle(c, dir, ch);
			return i;
		}
		memmove(ds->hw, ds->hw + 1, --ds->hw_len);
		hunt_skip(c, dir, 1, &marked);
		tried++;
	}
	if (ds->hw_len > 0 && tried < tries)
		return i; /* the chunk ended first */
	/* every position from the window was tried: the rest of it is p[..i) */
	i -= ds->hw_len;
	ds->hw_len = 0;
	size_t at = hunt_scan(ds, dir, p, i, n);
	hunt_skip(c, dir, at - i, &marked);
	if (at + need <= n) {
		ds->mode = M_SYNC;
		reset_pdu(ds);
		return at;
	}
	memcpy(ds->hw, p + at, n - at);
	ds->hw_len = n - at;
	return n;
}

int mirror_dissect_feed(struct mirror_dissect_conn *c, enum mirror_dissect_dir dir,
			const uint8_t *buf, size_t len, uint64_t packet, uint64_t time_ns,
			uint32_t tcpip_bytes)
{
	if (!c || (dir != MIRROR_DISSECT_I2T && dir != MIRROR_DISSECT_T2I) || (!buf && len))
		return -EINVAL;
	struct chunk ch = { len, tcpip_bytes, packet, time_ns };
	size_t off = 0;

	c->nomem = false;
	c->st.bytes[dir] += len;
	c->d[dir].last_pkt = packet;
	c->d[dir].last_ts = time_ns;
	while (off < len) {
		size_t k;
		if (c->d[dir].mode == M_SYNC) {
			k = sync_step(c, dir, buf + off, len - off, off, &ch);
		} else {
			k = hunt_step(c, dir, buf + off, len - off, &ch);
			if (k == 0 && c->d[dir].mode == M_SYNC)
				continue; /* a candidate right here */
		}
		off += k;
	}
	return c->nomem ? -ENOMEM : 0;
}

void mirror_dissect_gap(struct mirror_dissect_conn *c, enum mirror_dissect_dir dir,
			uint64_t lost)
{
	if (!c || (dir != MIRROR_DISSECT_I2T && dir != MIRROR_DISSECT_T2I))
		return;
	struct dirstate *ds = &c->d[dir];

	c->st.lost_bytes[dir] += lost;
	/* Inside the data segment of a PDU whose header is in: stay in step,
	 * the PDU is damaged (its task reported incomplete). */
	if (lost && ds->mode == M_SYNC && ds->total && ds->hdr_ok &&
	    lost <= ds->total - ds->have) {
		size_t store = ds->keep ? ds->keep : ds->total;

		if (reserve(c, ds, store)) {
			size_t z = ds->have < store ? store - ds->have : 0;

			if (z > lost)
				z = (size_t)lost;
			if (z) /* past keep nothing is stored */
				memset(ds->buf + ds->have, 0, z);
			ds->have += (size_t)lost;
			ds->damaged = true;
			struct chunk ch = { 0, 0, ds->last_pkt, ds->last_ts };
			settle(c, dir, &ch);
			return;
		}
	}
	/* Anything else: PDUs of any open task may have been lost. */
	if (lost)
		tasks_lost(c, dir);
	go_hunt(c, dir);
}

void mirror_dissect_finish(struct mirror_dissect_conn *c)
{
	if (c)
		tasks_end_all(c);
}

struct mirror_dissect_conn *mirror_dissect_conn_new(const struct mirror_dissect_options *o,
						    uint64_t conn_id, mirror_dissect_op_fn cb,
						    void *ctx)
{
	struct mirror_dissect_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	if (o && o->profile)
		c->profile = *o->profile;
	else
		mirror_profile_init(&c->profile);
	c->id = conn_id;
	c->cb = cb;
	c->ctx = ctx;
	c->max_tasks = o && o->max_tasks ? o->max_tasks : MIRROR_DISSECT_TASKS_DEFAULT;
	uint32_t tb = o && o->target_max_recv_dsl ? o->target_max_recv_dsl : MIRROR_DISSECT_DSL_DEFAULT;
	uint32_t ib = o && o->initiator_max_recv_dsl ? o->initiator_max_recv_dsl
						      : MIRROR_DISSECT_DSL_DEFAULT;
	if (tb > MIRROR_DISSECT_DSL_MAX || ib > MIRROR_DISSECT_DSL_MAX) {
		free(c);
		return NULL;
	}
	c->d[MIRROR_DISSECT_I2T].bound = tb;
	c->d[MIRROR_DISSECT_T2I].bound = ib;
	for (int i = 0; i < 2; i++) {
		c->d[i].hd = o && o->header_digest;
		c->d[i].dd = o && o->data_digest;
	}
	/* Digests given: no probing; else told from the login or the first
	 * PDUs. */
	c->probe_hd = c->probe_dd = !(o && (o->header_digest || o->data_digest));
	return c;
}

void mirror_dissect_conn_free(struct mirror_dissect_conn *c)
{
	if (!c)
		return;
	tasks_end_all(c);
	for (int i = 0; i < 2; i++)
		free(c->d[i].buf);
	free(c);
}

void mirror_dissect_get_stats(const struct mirror_dissect_conn *c, struct mirror_dissect_stats *s)
{
	*s = c->st;
	s->header_digest = c->d[0].hd;
	s->data_digest = c->d[0].dd;
	for (int i = 0; i < 2; i++)
		s->max_recv_dsl[i] = c->d[i].bound;
}
