/* The cut matrix: a mirror operation cut at every point
 * of its PDU sequence must never leave a range valid with partial data
 * (source Fig. 5: blocks 516 invalidate, 520-524 store then validate).
 *
 * For each operation (a small-path write, a large-path write of three S/G
 * elements, a 1 MiB write, and a write over 1 MiB that the sender's
 * splitter makes into two commands) under both negotiation profiles, a
 * reference run records the initiator's byte stream as it answers the
 * target engine's R2Ts.  Every point of that stream is then tried on a
 * fresh receiver: every PDU boundary, the middle of every BHS and the
 * middle of every data segment.  At each point the connection is dropped,
 * and at every boundary inside a command's data phase the task is
 * aborted instead (ABORT TASK, RFC 7143 11.5.1).  After the cut:
 *   - an operation whose data all arrived is valid and holds its data;
 *     one whose data did not is wholly invalid;
 *   - blocks written and validated before the operation (guards beside
 *     every S/G element and one far away) are valid and intact;
 *   - no other block of the NVRAM is valid;
 *   - the target keeps serving: a write and an NVRAM READBACK succeed on
 *     the aborting session and on a new one.
 * A negative control runs the small matrix against a receiver injected
 * with valid-on-abort and requires the checks to catch it. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

#include "iscsi/target.h"

#define NVRAM_SIZE (4u << 20)
#define REGION_END (NVRAM_SIZE / 2) /* the sender's region 0 */
#define SEG 8192u                   /* Data-Out segment, a common MRDSL */
#define VERIFY_ADDR 0x1C0000u       /* where the "keeps serving" write goes */
#define VERIFY_BYTES 8192u
#define FAR_GUARD 0x1F0000u
#define OPS_MAX 4
#define GUARDS_MAX 160
#define ITT_BASE 0x1000u
#define TABLE_SERIAL 0x1122334455667788ull
#define OLD_SEED 0x33

/* ---- a target with the receiver as LUN 0, and one NVRAM ---- */

struct rig {
	struct mirror_profile p;
	struct mirror_nvram nv;
	uint8_t *data;
	uint64_t *bitmap;
	struct mirror_receiver rx;
	struct mirror_tgt_config cfg;
	struct mirror_inject inj;
	struct mirror_tgt *t;
	/* a running mirror-emu instead of the engine in-process (port != 0):
	 * nv/data/bitmap then hold what NVRAM READBACK last showed of it */
	uint16_t port;
};

/* A hand-made initiator on one connection of the rig. */
struct sess {
	struct rig *r;
	struct mirror_tgt_conn *c;
	int fd;               /* the socket to a real server, or -1 */
	uint32_t cmdsn, itt;
	bool immediate, initial_r2t;
	uint32_t first_burst;
	uint8_t *out; /* what the target sent, not yet parsed */
	size_t out_len, out_cap, out_at;
};

static void rig_open(struct rig *r, enum mirror_neg_profile neg, const char *inject)
{
	memset(r, 0, sizeof(*r));
	mirror_profile_init(&r->p);
	r->p.nvram_size = NVRAM_SIZE;
	r->p.region_split = NVRAM_SIZE / 2;
	r->data = calloc(1, NVRAM_SIZE);
	r->bitmap = calloc(1, mirror_nvram_bitmap_bytes(NVRAM_SIZE));
	ck_assert_ptr_nonnull(r->data);
	ck_assert_ptr_nonnull(r->bitmap);
	ck_assert_int_eq(mirror_nvram_init(&r->nv, &r->p, r->data, r->bitmap), 0);
	/* controller B: receives what A writes into region 0 */
	ck_assert_int_eq(mirror_rx_init(&r->rx, &r->p, 1, &r->nv), 0);
	ck_assert_int_eq(mirror_array_table_add(&r->rx.table, 7, TABLE_SERIAL, 2), 0);
	r->rx.table_received = true;
	mirror_tgt_config_init(&r->cfg);
	r->cfg.neg = neg;
	r->cfg.max_burst_length = 65536;
	r->cfg.first_burst_length = 16384;
	if (inject) {
		struct mirror_inject_rule rule;
		char why[128];
		mirror_inject_init(&r->inj, 1);
		ck_assert_msg(mirror_inject_parse(inject, &rule, why, sizeof(why)) == 0, "%s", why);
		ck_assert_int_eq(mirror_inject_add(&r->inj, &rule), 0);
		r->cfg.inject = &r->inj;
	}
	ck_assert_int_eq(mirror_tgt_new_receiver(&r->cfg, &r->rx, &r->t, NULL, 0), 0);
}

static void rig_close(struct rig *r)
{
	if (r->t)
		mirror_tgt_free(r->t);
	free(r->data);
	free(r->bitmap);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* An internal condition of the harness: checked without Check's per-
 * assertion bookkeeping, which in the hot paths would cost most of the
 * run. */
#define NEED(c)                                                                       \
	do {                                                                          \
		if (!(c))                                                             \
			ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #c);             \
	} while (0)

/* ---- the recorded stream: the initiator's bytes and its PDUs ---- */

struct pdu_mark {
	size_t at;          /* first byte of the BHS in the stream */
	uint32_t dlen;      /* data segment length (unpadded) */
	uint8_t opcode;
	unsigned op;        /* which operation of the case */
	uint32_t data_end;  /* where the PDU's data ends in the op's data-out */
	bool data_done;     /* the op's last data byte ends with this PDU */
};

struct stream {
	uint8_t *b;
	size_t len, cap;
	struct pdu_mark *pdu;
	size_t n, pcap;
	uint32_t itt0; /* the first op's ITT: after login and the setup writes */
};

static void stream_add(struct stream *s, const uint8_t *bytes, size_t len, const struct pdu_mark *m)
{
	if (s->len + len > s->cap) {
		s->cap = (s->len + len) * 2;
		s->b = realloc(s->b, s->cap);
		NEED((s->b) != NULL);
	}
	if (s->n == s->pcap) {
		s->pcap = s->pcap ? s->pcap * 2 : 64;
		s->pdu = realloc(s->pdu, s->pcap * sizeof(*s->pdu));
		NEED((s->pdu) != NULL);
	}
	s->pdu[s->n] = *m;
	s->pdu[s->n].at = s->len;
	s->n++;
	memcpy(s->b + s->len, bytes, len);
	s->len += len;
}

static size_t pdu_end(const struct stream *s, size_t i)
{
	return s->pdu[i].at + 48 + ((s->pdu[i].dlen + 3u) & ~3u);
}

/* ---- the initiator ---- */

static void out_room(struct sess *s, size_t n)
{
	if (s->out_len + n > s->out_cap) {
		s->out_cap = (s->out_len + n) * 2;
		s->out = realloc(s->out, s->out_cap);
		NEED((s->out) != NULL);
	}
}

/* What the target sent so far; from a socket, waiting up to wait_ms for
 * something.  False at the end of the stream or when nothing came. */
static bool sess_drain_wait(struct sess *s, int wait_ms)
{
	if (s->fd < 0) {
		size_t n;
		const uint8_t *p = mirror_tgt_conn_output(s->c, &n);
		out_room(s, n);
		memcpy(s->out + s->out_len, p, n);
		s->out_len += n;
		mirror_tgt_conn_consumed(s->c, n);
		return n > 0;
	}
	struct pollfd pf = { .fd = s->fd, .events = POLLIN };
	if (poll(&pf, 1, wait_ms) <= 0)
		return false;
	out_room(s, 65536);
	ssize_t got = recv(s->fd, s->out + s->out_len, 65536, 0);
	if (got <= 0)
		return false;
	s->out_len += (size_t)got;
	return true;
}

static void sess_drain(struct sess *s)
{
	while (sess_drain_wait(s, 0))
		;
}

/* The next PDU the target sent (no digests are negotiated); a real
 * server gets a generous 10 s to send it. */
static const uint8_t *sess_next(struct sess *s, const uint8_t **data, uint32_t *dlen)
{
	for (;;) {
		sess_drain(s);
		if (s->out_at + 48 <= s->out_len) {
			const uint8_t *bhs = s->out + s->out_at;
			*dlen = (uint32_t)bhs[5] << 16 | (uint32_t)bhs[6] << 8 | bhs[7];
			size_t end = s->out_at + 48 + ((*dlen + 3u) & ~3u);
			if (end <= s->out_len) {
				*data = bhs + 48;
				s->out_at = end;
				return bhs;
			}
		}
		if (s->fd < 0 || !sess_drain_wait(s, 10000))
			return NULL;
	}
}

/* Bytes to the target: the engine's input, or the socket. */
static int sess_feed(struct sess *s, const uint8_t *buf, size_t n)
{
	if (s->fd < 0)
		return mirror_tgt_conn_input(s->c, buf, n);
	for (size_t at = 0; at < n;) {
		ssize_t k = send(s->fd, buf + at, n - at, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -EPIPE;
		at += (size_t)k;
		sess_drain(s); /* keep the server's output flowing */
	}
	return 0;
}

/* The cut: the engine frees the connection, the server sees it close.
 * A real server gets a FIN after the last byte and is read to its end
 * before the socket goes: closing with its answers unread would send a
 * RST, and a RST lets the server's kernel drop bytes already sent (the
 * target never saw them, so "all data arrived" would not be true). */
static void sess_cut(struct sess *s)
{
	if (s->c)
		mirror_tgt_conn_free(s->c);
	if (s->fd >= 0) {
		uint8_t sink[4096];
		struct pollfd pf = { .fd = s->fd, .events = POLLIN };
		shutdown(s->fd, SHUT_WR);
		while (poll(&pf, 1, 10000) > 0 && recv(s->fd, sink, sizeof(sink), 0) > 0)
			;
		close(s->fd);
	}
	s->c = NULL;
	s->fd = -1;
}

/* Frames one PDU, feeds it to the target and, when rec is set, records it. */
static int sess_send(struct sess *s, uint8_t *bhs, const uint8_t *data, uint32_t dlen,
		     struct stream *rec, const struct pdu_mark *m)
{
	uint32_t padded = (dlen + 3u) & ~3u;
	uint8_t *buf = calloc(1, 48 + padded);
	NEED((buf) != NULL);
	bhs[5] = (uint8_t)(dlen >> 16);
	bhs[6] = (uint8_t)(dlen >> 8);
	bhs[7] = (uint8_t)dlen;
	memcpy(buf, bhs, 48);
	if (dlen)
		memcpy(buf + 48, data, dlen);
	if (rec) {
		struct pdu_mark mk = *m;
		mk.dlen = dlen;
		stream_add(rec, buf, 48 + padded, &mk);
	}
	int rc = sess_feed(s, buf, 48 + padded);
	free(buf);
	return rc;
}

static bool key_is(const uint8_t *d, uint32_t n, const char *key, char *val, size_t cap)
{
	size_t kl = strlen(key);
	for (uint32_t at = 0; at < n;) {
		const char *k = (const char *)d + at;
		size_t l = strnlen(k, n - at);
		if (strncmp(k, key, kl) == 0 && k[kl] == '=') {
			snprintf(val, cap, "%s", k + kl + 1);
			return true;
		}
		at += (uint32_t)l + 1;
	}
	return false;
}

/* The target logged in to: mirror-emu's, or a pair controller's mirror
 * port (MIRROR_CUT_URL). */
static char target_iqn[224] = MIRROR_IQN_PREFIX ":emu";

static const char login_keys[] =
	"InitiatorName=iqn.2026-11.test:cut\0SessionType=Normal\0AuthMethod=None\0"
	"HeaderDigest=None\0DataDigest=None\0InitialR2T=No\0ImmediateData=Yes\0"
	"MaxBurstLength=65536\0FirstBurstLength=16384\0MaxRecvDataSegmentLength=262144\0";

/* A new connection, logged in to full feature phase; what was negotiated
 * drives how the initiator sends data (RFC 7143 13.10, 13.11, 13.14). */
static void sess_open(struct sess *s, struct rig *r)
{
	uint8_t bhs[48] = { 0 }, keys[512];
	const uint8_t *d, *b;
	uint32_t n;
	char v[32];
	int kl = snprintf((char *)keys, sizeof(keys), "TargetName=%s", target_iqn) + 1;

	memcpy(keys + kl, login_keys, sizeof(login_keys) - 1);
	kl += (int)sizeof(login_keys) - 1;

	memset(s, 0, sizeof(*s));
	s->r = r;
	s->fd = -1;
	if (r->port) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(r->port) };
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		s->fd = socket(AF_INET, SOCK_STREAM, 0);
		NEED((s->fd) >= (0));
		ck_assert_msg(connect(s->fd, (struct sockaddr *)&a, sizeof(a)) == 0,
			      "connect to mirror-emu on port %u: %s", r->port, strerror(errno));
	} else {
		s->c = mirror_tgt_conn_new(r->t, "cut");
		NEED((s->c) != NULL);
	}
	s->itt = ITT_BASE;
	bhs[0] = 0x43;                /* immediate Login Request */
	bhs[1] = 0x80 | 1 << 2 | 3;   /* transit, operational -> full feature */
	bhs[8] = 0x80;                /* ISID */
	bhs[13] = 1;
	put32(bhs + 16, s->itt++);
	NEED((sess_send(s, bhs, keys, (uint32_t)kl, NULL, NULL)) == (0));
	b = sess_next(s, &d, &n);
	NEED((b) != NULL);
	NEED((b[0] & 0x3f) == (0x23));
	NEED((b[36] << 8 | b[37]) == (0));
	ck_assert(key_is(d, n, "InitialR2T", v, sizeof(v)));
	s->initial_r2t = strcmp(v, "Yes") == 0;
	ck_assert(key_is(d, n, "ImmediateData", v, sizeof(v)));
	s->immediate = strcmp(v, "Yes") == 0;
	ck_assert(key_is(d, n, "FirstBurstLength", v, sizeof(v)));
	s->first_burst = (uint32_t)strtoul(v, NULL, 10);
}

static void sess_close(struct sess *s)
{
	sess_cut(s);
	free(s->out);
	s->out = NULL;
}

static uint32_t min32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* Data-Out PDUs for [off, end) of payload, at most SEG bytes each. */
static void send_data(struct sess *s, uint32_t itt, uint32_t ttt, const uint8_t *payload,
		      uint32_t off, uint32_t end, uint32_t edtl, uint32_t *sent,
		      struct stream *rec, struct pdu_mark *m)
{
	uint32_t datasn = 0;
	for (uint32_t at = off; at < end; datasn++) {
		uint32_t k = min32(end - at, SEG);
		uint8_t bhs[48] = { 0 };
		bhs[0] = 0x05;
		bhs[1] = at + k == end ? 0x80 : 0; /* F: the sequence's last */
		put32(bhs + 16, itt);
		put32(bhs + 20, ttt);
		put32(bhs + 36, datasn);
		put32(bhs + 40, at);
		*sent += k;
		m->opcode = 0x05;
		m->data_end = at + k;
		m->data_done = *sent == edtl;
		sess_send(s, bhs, payload + at, k, rec, m);
		at += k;
	}
}

/* A write command and its data as the target solicits it (immediate and
 * unsolicited data when negotiated, then one sequence per R2T); returns
 * the SCSI status, or -1 when the target stopped answering. */
static int sess_write(struct sess *s, const uint8_t *cdb, unsigned cdb_len, const uint8_t *payload,
		      uint32_t edtl, struct stream *rec, unsigned op)
{
	uint8_t bhs[48] = { 0 };
	struct pdu_mark m = { .op = op, .opcode = 0x01 };
	uint32_t itt = s->itt++, sent = 0, imm = 0;
	const uint8_t *b, *d;
	uint32_t n;

	bhs[0] = 0x01;
	bhs[1] = 0x80 | 0x20; /* F, W */
	put32(bhs + 16, itt);
	put32(bhs + 20, edtl);
	put32(bhs + 24, s->cmdsn++);
	memcpy(bhs + 32, cdb, cdb_len);
	if (s->immediate)
		imm = min32(min32(edtl, s->first_burst), SEG);
	sent = imm;
	m.data_end = imm;
	m.data_done = sent == edtl;
	sess_send(s, bhs, payload, imm, rec, &m);
	if (!s->initial_r2t && sent < min32(edtl, s->first_burst))
		send_data(s, itt, 0xffffffffu, payload, sent, min32(edtl, s->first_burst), edtl,
			  &sent, rec, &m);
	while ((b = sess_next(s, &d, &n)) != NULL) {
		if ((b[0] & 0x3f) == 0x31) {
			NEED((get32(b + 16)) == (itt));
			uint32_t off = get32(b + 40), len = get32(b + 44);
			send_data(s, itt, get32(b + 20), payload, off, off + len, edtl, &sent, rec, &m);
			continue;
		}
		NEED((b[0] & 0x3f) == (0x21));
		NEED((get32(b + 16)) == (itt));
		return b[3];
	}
	return -1;
}

/* NVRAM READBACK of blocks from addr (nvram.h): data-in gathered into buf
 * (header, bitmap, data); returns the status. */
static int sess_readback(struct sess *s, uint32_t addr, uint32_t blocks, uint8_t *buf, size_t cap)
{
	struct mirror_readback_cdb rc = { .opcode = s->r->p.op.readback, .nvram_addr = addr,
					  .blocks = blocks };
	uint8_t cdb[16] = { 0 }, bhs[48] = { 0 };
	uint32_t edtl = (uint32_t)mirror_readback_response_len(&rc), itt = s->itt++;
	const uint8_t *b, *d;
	uint32_t n;

	NEED((edtl) <= (cap));
	NEED((mirror_readback_cdb_encode(&s->r->p, &rc, cdb, sizeof(cdb))) == (MIRROR_READBACK_CDB_LEN));
	bhs[0] = 0x01;
	bhs[1] = 0x80 | 0x40; /* F, R */
	put32(bhs + 16, itt);
	put32(bhs + 20, edtl);
	put32(bhs + 24, s->cmdsn++);
	memcpy(bhs + 32, cdb, MIRROR_READBACK_CDB_LEN);
	sess_send(s, bhs, NULL, 0, NULL, NULL);
	while ((b = sess_next(s, &d, &n)) != NULL) {
		if ((b[0] & 0x3f) == 0x25) {
			uint32_t off = get32(b + 40);
			NEED((off + n) <= (cap));
			memcpy(buf + off, d, n);
			if (b[1] & 0x01) /* S: status in the last Data-In */
				return b[3];
			continue;
		}
		NEED((b[0] & 0x3f) == (0x21));
		return b[3];
	}
	return -1;
}

/* ---- the operations: the sender's splitter and encoder ---- */

struct op {
	uint8_t cdb[16];
	unsigned cdb_len;
	uint8_t *payload; /* what the data-out carries: [metadata] data */
	uint32_t edtl;
	const uint8_t *user; /* the user data within payload */
	unsigned sg_count;
	struct mirror_sg_element sg[MIRROR_METADATA_SG_MAX];
	enum mirror_path path;
};

struct plan {
	const char *name;
	unsigned n;
	struct op op[OPS_MAX];
	unsigned guards;
	uint32_t guard[GUARDS_MAX];
	uint8_t *write_data;
	uint32_t addr, bytes; /* the host write */
	/* the op's ranges hold an earlier valid copy (seed OLD_SEED), which a
	 * cut may leave valid only until the op's data starts coming */
	bool overwrite;
};

static uint8_t pattern(uint32_t addr, uint8_t seed)
{
	return (uint8_t)(seed + addr * 7u + (addr >> 9) * 13u);
}

static void fill_at(uint8_t *p, uint32_t addr, uint32_t n, uint8_t seed)
{
	for (uint32_t i = 0; i < n; i++)
		p[i] = pattern(addr + i, seed);
}

/* The operations the sender makes of one host write (Fig. 3, Fig. 7). */
static unsigned plan_ops(const struct mirror_profile *p, uint32_t addr, uint32_t bytes,
			 enum mirror_path_policy policy, uint32_t sequence, uint8_t seed,
			 struct op *ops, unsigned max, uint8_t **data_out)
{
	struct mirror_write w = { .lba = 1000, .bytes = bytes, .nvram_addr = addr, .region = 0,
				  .volume = 7, .array_serial = TABLE_SERIAL, .array_number = 2 };
	struct mirror_sender_state st = { .partner_initialized = true };
	struct mirror_splitter sp;
	struct mirror_op mo;
	char why[128];
	unsigned n = 0;
	uint8_t *data = malloc(bytes);

	NEED((data) != NULL);
	fill_at(data, addr, bytes, seed);
	ck_assert_msg(mirror_split_init(&sp, p, &w, &st, policy, sequence, why, sizeof(why)) == 0, "%s", why);
	while (mirror_split_next(&sp, &mo) == 1) {
		NEED((n) < (max));
		struct op *o = &ops[n++];
		uint8_t md[MIRROR_METADATA_BYTES];
		uint32_t ub = mo.blocks * MIRROR_BLOCK_SIZE;
		int cl = mirror_op_encode(p, &mo, &w, o->cdb, sizeof(o->cdb), md);
		NEED((cl) > (0));
		o->cdb_len = (unsigned)cl;
		o->path = mo.path;
		o->sg_count = mo.sg_count;
		memcpy(o->sg, mo.sg, sizeof(mo.sg));
		uint32_t mlen = mo.path == MIRROR_PATH_LARGE ? MIRROR_METADATA_BYTES : 0;
		o->edtl = mlen + ub;
		o->payload = malloc(o->edtl);
		NEED((o->payload) != NULL);
		memcpy(o->payload, md, mlen);
		memcpy(o->payload + mlen, data + mo.data_offset, ub);
		o->user = o->payload + mlen;
	}
	*data_out = data;
	return n;
}

static bool in_ops(const struct plan *pl, uint32_t addr)
{
	for (unsigned i = 0; i < pl->n; i++)
		for (unsigned e = 0; e < pl->op[i].sg_count; e++)
			if (addr >= pl->op[i].sg[e].nvram_addr &&
			    addr < pl->op[i].sg[e].nvram_addr + pl->op[i].sg[e].bytes)
				return true;
	return false;
}

static void add_guard(struct plan *pl, uint32_t addr)
{
	if (addr >= REGION_END || in_ops(pl, addr))
		return;
	for (unsigned i = 0; i < pl->guards; i++)
		if (pl->guard[i] == addr)
			return;
	NEED((pl->guards) < (GUARDS_MAX));
	pl->guard[pl->guards++] = addr;
}

static void plan_make(struct plan *pl, const struct mirror_profile *p, const char *name,
		      uint32_t addr, uint32_t bytes, enum mirror_path_policy policy)
{
	memset(pl, 0, sizeof(*pl));
	pl->name = name;
	pl->addr = addr;
	pl->bytes = bytes;
	/* the earlier copies take sequence numbers 1.. (setup) */
	pl->n = plan_ops(p, addr, bytes, policy, 10, 0x5a, pl->op, OPS_MAX, &pl->write_data);
	/* valid data beside every S/G element, and one block far away */
	for (unsigned i = 0; i < pl->n; i++)
		for (unsigned e = 0; e < pl->op[i].sg_count; e++) {
			const struct mirror_sg_element *g = &pl->op[i].sg[e];
			if (g->nvram_addr >= MIRROR_BLOCK_SIZE)
				add_guard(pl, g->nvram_addr - MIRROR_BLOCK_SIZE);
			add_guard(pl, g->nvram_addr + g->bytes);
		}
	add_guard(pl, FAR_GUARD);
}

static void plan_free(struct plan *pl)
{
	for (unsigned i = 0; i < pl->n; i++)
		free(pl->op[i].payload);
	free(pl->write_data);
}

/* The complete writes of what pattern(seed) puts at [addr, +bytes). */
static void write_range(struct sess *s, uint32_t addr, uint32_t bytes, uint8_t seed,
			enum mirror_path_policy policy)
{
	struct op o[OPS_MAX];
	uint8_t *data;
	unsigned n = plan_ops(&s->r->p, addr, bytes, policy, 1, seed, o, OPS_MAX, &data);
	for (unsigned i = 0; i < n; i++) {
		NEED((sess_write(s, o[i].cdb, o[i].cdb_len, o[i].payload, o[i].edtl, NULL, 0)) == (0));
		free(o[i].payload);
	}
	free(data);
}

/* What every rig has before the operation: a session with the guards
 * written and valid. */
/* MIRROR RELEASE of all of region 0: a real server starts each point
 * with nothing valid, as a fresh in-process rig does. */
static void release_region(struct sess *s)
{
	struct mirror_release rel = { .count = 0 };
	uint8_t cdb[16] = { 0 }, param[64];
	for (uint32_t a = 0; a < REGION_END; a += 2048u * MIRROR_BLOCK_SIZE)
		rel.range[rel.count++] = (struct mirror_release_range){ a, 2048 };
	int len = mirror_release_encode(&rel, param, sizeof(param));
	NEED((len) > (0));
	NEED((mirror_release_cdb_encode(&s->r->p, (uint32_t)len, cdb, sizeof(cdb))) > (0));
	NEED((sess_write(s, cdb, 10, param, (uint32_t)len, NULL, 0)) == (0));
}

/* The real server's NVRAM as READBACK shows it, into the rig's (region 0:
 * all a sender may write into). */
static void observe(struct rig *r, struct sess *s)
{
	uint32_t blocks = 2048;
	struct mirror_readback_cdb rc = { .blocks = blocks };
	size_t cap = mirror_readback_response_len(&rc);
	uint8_t *buf;
	struct mirror_readback rb;

	if (!r->port)
		return;
	buf = malloc(cap);
	NEED((buf) != NULL);
	mirror_nvram_mark_invalid(&r->nv, 0, NVRAM_SIZE);
	for (uint32_t a = 0; a < REGION_END; a += blocks * MIRROR_BLOCK_SIZE) {
		NEED((sess_readback(s, a, blocks, buf, cap)) == (0));
		NEED((mirror_readback_parse(buf, cap, false, &rb)) == (0));
		memcpy(r->data + a, rb.data, blocks * MIRROR_BLOCK_SIZE);
		for (uint32_t i = 0; i < blocks; i++)
			if (mirror_readback_block_valid(&rb, i))
				mirror_nvram_mark_valid(&r->nv, a + i * MIRROR_BLOCK_SIZE, MIRROR_BLOCK_SIZE);
	}
	free(buf);
}

/* ARRAY TABLE UPDATE with the one volume the operations name (a pair
 * controller knows only its partner's table). */
static void push_table(struct sess *s)
{
	struct mirror_array_table tab;
	uint8_t cdb[16] = { 0 }, param[64];
	mirror_array_table_init(&tab);
	ck_assert_int_eq(mirror_array_table_add(&tab, 7, TABLE_SERIAL, 2), 0);
	int len = mirror_table_update_encode(&tab, param, sizeof(param));
	ck_assert_int_gt(len, 0);
	mirror_table_update_cdb_encode(&s->r->p, (uint32_t)len, cdb, sizeof(cdb));
	ck_assert_int_eq(sess_write(s, cdb, 10, param, (uint32_t)len, NULL, 0), 0);
}

static void setup(struct rig *r, struct sess *s, const struct plan *pl)
{
	sess_open(s, r);
	if (r->port) {
		push_table(s);
		release_region(s);
	}
	for (unsigned i = 0; i < pl->guards; i++)
		write_range(s, pl->guard[i], MIRROR_BLOCK_SIZE, 0xa5, MIRROR_POLICY_SMALL);
	if (pl->overwrite)
		write_range(s, pl->addr, pl->bytes, OLD_SEED, MIRROR_POLICY_LARGE);
}

/* ---- the checks ---- */

struct verdict {
	unsigned bad;
	char first[256];
};

static void violation(struct verdict *v, const char *fmt, ...)
{
	va_list ap;
	if (v->bad++ == 0) {
		va_start(ap, fmt);
		vsnprintf(v->first, sizeof(v->first), fmt, ap);
		va_end(ap);
	}
}

/* How far each op got before the cut. */
struct progress {
	/* the receiver had what it checks before the data: the command PDU
	 * (small path) or the PDU that completes the metadata (large path) */
	bool accepted[OPS_MAX];
	bool done[OPS_MAX];    /* all its data arrived */
};

/* An op the receiver has not accepted yet leaves the earlier copy of its
 * ranges valid and intact; once accepted, the ranges are invalid until all
 * the data arrived (Fig. 5 block 516, then 520-524). */
static uint64_t check_old_copy(const struct rig *r, const struct mirror_sg_element *g,
			       const char *where, unsigned op, struct verdict *v)
{
	uint64_t valid = 0;
	uint8_t want[MIRROR_BLOCK_SIZE];
	for (uint32_t a = g->nvram_addr; a < g->nvram_addr + g->bytes; a += MIRROR_BLOCK_SIZE) {
		if (!mirror_nvram_block_valid(&r->nv, a / MIRROR_BLOCK_SIZE)) {
			violation(v, "%s: op %u: earlier copy at 0x%x lost before the op was accepted",
				  where, op, a);
			continue;
		}
		valid++;
		fill_at(want, a, MIRROR_BLOCK_SIZE, OLD_SEED);
		if (memcmp(r->data + a, want, MIRROR_BLOCK_SIZE) != 0)
			violation(v, "%s: op %u: earlier copy at 0x%x changed before the op was accepted",
				  where, op, a);
	}
	return valid;
}

/* The NVRAM after a cut, against what arrived before it. */
static void check_nvram(const struct rig *r, const struct plan *pl, const struct progress *pg,
			const char *where, struct verdict *v)
{
	const bool *done = pg->done;
	uint64_t want_valid = pl->guards;
	for (unsigned i = 0; i < pl->n; i++) {
		const struct op *o = &pl->op[i];
		uint32_t off = 0;
		for (unsigned e = 0; e < o->sg_count; e++) {
			const struct mirror_sg_element *g = &o->sg[e];
			int64_t nv = mirror_nvram_count_valid(&r->nv, g->nvram_addr, g->bytes);
			if (done[i]) {
				want_valid += g->bytes / MIRROR_BLOCK_SIZE;
				if (nv != g->bytes / MIRROR_BLOCK_SIZE)
					violation(v, "%s: op %u element %u (0x%x): all data arrived but %lld of %u blocks valid",
						  where, i, e, g->nvram_addr, (long long)nv, g->bytes / MIRROR_BLOCK_SIZE);
				if (memcmp(r->data + g->nvram_addr, o->user + off, g->bytes) != 0)
					violation(v, "%s: op %u element %u (0x%x): data differs", where, i, e,
						  g->nvram_addr);
			} else if (pl->overwrite && !pg->accepted[i]) {
				want_valid += check_old_copy(r, g, where, i, v);
			} else if (nv != 0) {
				violation(v, "%s: op %u element %u (0x%x): %lld blocks valid before all data arrived",
					  where, i, e, g->nvram_addr, (long long)nv);
			}
			off += g->bytes;
		}
	}
	for (unsigned i = 0; i < pl->guards; i++) {
		uint8_t want[MIRROR_BLOCK_SIZE];
		fill_at(want, pl->guard[i], MIRROR_BLOCK_SIZE, 0xa5);
		if (mirror_nvram_count_valid(&r->nv, pl->guard[i], MIRROR_BLOCK_SIZE) != 1)
			violation(v, "%s: earlier valid block 0x%x lost its validity", where, pl->guard[i]);
		else if (memcmp(r->data + pl->guard[i], want, MIRROR_BLOCK_SIZE) != 0)
			violation(v, "%s: earlier valid block 0x%x changed", where, pl->guard[i]);
	}
	int64_t all = mirror_nvram_count_valid(&r->nv, 0, NVRAM_SIZE);
	if (all != (int64_t)want_valid)
		violation(v, "%s: %lld blocks valid in the NVRAM, want %llu", where, (long long)all,
			  (unsigned long long)want_valid);
}

/* The target still serves a session: a write, then READBACK of it. */
static void check_serves(struct sess *s, uint8_t seed, const char *where, struct verdict *v)
{
	uint32_t blocks = VERIFY_BYTES / MIRROR_BLOCK_SIZE;
	size_t cap = MIRROR_READBACK_HEADER_BYTES + 4 + VERIFY_BYTES;
	uint8_t *buf = calloc(1, cap), want[VERIFY_BYTES];
	struct mirror_readback rb;
	struct mirror_readback_cdb rc = { .nvram_addr = VERIFY_ADDR, .blocks = blocks };

	write_range(s, VERIFY_ADDR, VERIFY_BYTES, seed, MIRROR_POLICY_SMALL);
	fill_at(want, VERIFY_ADDR, VERIFY_BYTES, seed);
	if (sess_readback(s, VERIFY_ADDR, blocks, buf, cap) != 0 ||
	    mirror_readback_parse(buf, mirror_readback_response_len(&rc), false, &rb) != 0)
		violation(v, "%s: NVRAM READBACK failed", where);
	else if (rb.valid_blocks != blocks || memcmp(rb.data, want, VERIFY_BYTES) != 0)
		violation(v, "%s: read back %u valid blocks, data %s", where, rb.valid_blocks,
			  memcmp(rb.data, want, VERIFY_BYTES) ? "differs" : "same");
	free(buf);
}

/* ---- the matrix ---- */

enum cut { CUT_DROP = 0, CUT_ABORT };
enum point_kind { PT_BOUNDARY = 0, PT_MID_BHS, PT_MID_DATA };

struct tally {
	unsigned points[3], aborts;
	struct verdict v;
};

/* Records the operation's stream on a rig of its own. */
/* Set while the matrix runs against a real server. */
static struct rig *server;

static void record(enum mirror_neg_profile neg, const struct plan *pl, struct stream *st)
{
	struct rig r, *rp = server ? server : &r;
	struct sess s;
	if (!server)
		rig_open(&r, neg, NULL);
	setup(rp, &s, pl);
	st->itt0 = s.itt;
	for (unsigned i = 0; i < pl->n; i++)
		ck_assert_int_eq(sess_write(&s, pl->op[i].cdb, pl->op[i].cdb_len, pl->op[i].payload,
					    pl->op[i].edtl, st, i), 0);
	sess_close(&s);
	if (!server)
		rig_close(&r);
	ck_assert_uint_eq(st->pdu[st->n - 1].data_done, true);
}

/* The NVRAM after a drop.  A real server may still be reading the dropped
 * connection's last bytes when the new session asks: it gets a generous
 * 10 s to agree, with no assertion on the time it takes. */
static void check_after_drop(struct rig *r, struct sess *s, const struct plan *pl,
			     const struct progress *pg, const char *where, struct verdict *v)
{
	struct verdict tries;
	for (int i = 0; i < 100; i++) {
		memset(&tries, 0, sizeof(tries));
		observe(r, s);
		check_nvram(r, pl, pg, where, &tries);
		if (tries.bad == 0 || !r->port)
			break;
		usleep(100 * 1000);
	}
	if (tries.bad)
		violation(v, "%s", tries.first);
	v->bad += tries.bad ? tries.bad - 1 : 0;
}

/* One cut at byte `at` of the stream: replay, cut, check. */
static void try_point(enum mirror_neg_profile neg, const char *inject, const struct plan *pl,
		      const struct stream *st, size_t at, enum cut cut, const char *what,
		      struct verdict *v)
{
	struct rig r, *rp = server ? server : &r;
	struct sess s, again;
	struct progress pg;
	bool *done = pg.done;
	int live = -1; /* the op whose command went out and whose data did not all */
	uint32_t cmds = 0; /* commands in the replayed bytes */
	char where[160];

	memset(&pg, 0, sizeof(pg));

	snprintf(where, sizeof(where), "%s %s %s", pl->name, cut == CUT_ABORT ? "abort" : "drop", what);
	if (!server)
		rig_open(&r, neg, inject);
	setup(rp, &s, pl);
	for (size_t i = 0; i < st->n && st->pdu[i].at < at; i++) {
		unsigned op = st->pdu[i].op;
		uint32_t mlen = pl->op[op].path == MIRROR_PATH_LARGE ? MIRROR_METADATA_BYTES : 0;
		if (pdu_end(st, i) > at)
			continue;
		if (st->pdu[i].opcode == 0x01) {
			live = (int)op;
			cmds++;
		}
		if (st->pdu[i].data_end >= mlen)
			pg.accepted[op] = true;
		if (st->pdu[i].data_done) {
			done[st->pdu[i].op] = true;
			live = -1;
		}
	}
	/* what a real peer may send: bytes as they come, the target answering */
	for (size_t off = 0; off < at;) {
		size_t k = at - off < 4096 ? at - off : 4096;
		if (sess_feed(&s, st->b + off, k) != 0)
			violation(v, "%s: target closed the connection at byte %zu", where, off);
		sess_drain(&s);
		off += k;
	}
	if (cut == CUT_ABORT) {
		uint8_t tmf[48] = { 0 };
		const uint8_t *b, *d;
		uint32_t n;
		ck_assert_int_ge(live, 0);
		tmf[0] = 0x42;        /* immediate Task Management Function Request */
		tmf[1] = 0x80 | 1;    /* ABORT TASK */
		put32(tmf + 16, 0x7fff0000u);
		put32(tmf + 20, st->itt0 + (uint32_t)live);
		put32(tmf + 24, s.cmdsn + cmds); /* replayed commands took their CmdSNs */
		sess_send(&s, tmf, NULL, 0, NULL, NULL);
		/* past the R2Ts the replay got back, to the TMF response */
		while ((b = sess_next(&s, &d, &n)) != NULL && (b[0] & 0x3f) != 0x22)
			;
		if (!b || b[2] != 0)
			violation(v, "%s: ABORT TASK not answered Function complete", where);
		s.cmdsn += cmds;
		s.itt += cmds;
		observe(rp, &s);
		check_nvram(rp, pl, &pg, where, v);
		check_serves(&s, 0x11, where, v);
		sess_close(&s);
		sess_open(&again, rp);
	} else {
		/* the drop: the target aborts what the connection had going */
		sess_cut(&s);
		sess_close(&s);
		sess_open(&again, rp);
		check_after_drop(rp, &again, pl, &pg, where, v);
	}
	check_serves(&again, 0x22, where, v);
	sess_close(&again);
	if (!server)
		rig_close(&r);
}

/* Every point of the stream, each cut that is meaningful there. */
static void run_matrix(enum mirror_neg_profile neg, const char *inject, const struct plan *pl,
		       struct tally *t)
{
	struct stream st = { 0 };
	char what[96];
	int live = -1;

	memset(t, 0, sizeof(*t));
	record(neg, pl, &st);
	for (size_t i = 0; i <= st.n; i++) {
		size_t at = i < st.n ? st.pdu[i].at : st.len;
		snprintf(what, sizeof(what), "boundary before PDU %zu (byte %zu)", i, at);
		try_point(neg, inject, pl, &st, at, CUT_DROP, what, &t->v);
		t->points[PT_BOUNDARY]++;
		/* ABORT TASK where a command is in its data phase */
		if (live >= 0) {
			try_point(neg, inject, pl, &st, at, CUT_ABORT, what, &t->v);
			t->aborts++;
		}
		if (i == st.n)
			break;
		if (st.pdu[i].opcode == 0x01)
			live = (int)st.pdu[i].op;
		if (st.pdu[i].data_done)
			live = -1;
		snprintf(what, sizeof(what), "middle of PDU %zu's BHS (byte %zu)", i, at + 24);
		try_point(neg, inject, pl, &st, at + 24, CUT_DROP, what, &t->v);
		t->points[PT_MID_BHS]++;
		if (st.pdu[i].dlen) {
			size_t mid = at + 48 + st.pdu[i].dlen / 2;
			snprintf(what, sizeof(what), "middle of PDU %zu's data (byte %zu)", i, mid);
			try_point(neg, inject, pl, &st, mid, CUT_DROP, what, &t->v);
			t->points[PT_MID_DATA]++;
		}
	}
	printf("cut matrix %s/%s: %u ops, %zu PDUs, %zu bytes: %u boundaries + %u BHS middles + "
	       "%u data middles = %u points dropped, %u aborted%s\n",
	       pl->name, neg == MIRROR_NEG_PATENT ? "patent" : "modern", pl->n, st.n, st.len,
	       t->points[0], t->points[1], t->points[2], t->points[0] + t->points[1] + t->points[2],
	       t->aborts, inject ? " (negative control)" : "");
	fflush(stdout);
	free(st.b);
	free(st.pdu);
}

struct cut_case {
	const char *name;
	uint32_t addr, bytes;
	enum mirror_path_policy policy;
	unsigned ops;          /* how many commands the sender makes of it */
	enum mirror_path path; /* of the first */
};

static const struct cut_case cases[] = {
	{ "small", 0x10000, 8192, MIRROR_POLICY_SMALL, 1, MIRROR_PATH_SMALL },
	{ "large", 0x40200, 40960, MIRROR_POLICY_LARGE, 1, MIRROR_PATH_LARGE },
	{ "1MiB", 0x80000, 1u << 20, MIRROR_POLICY_AUTO, 1, MIRROR_PATH_LARGE },
	{ "split", 0x60000, (1u << 20) + 8192, MIRROR_POLICY_AUTO, 2, MIRROR_PATH_LARGE },
};

#define CASES (sizeof(cases) / sizeof(cases[0]))
/* against a real server: the small and the large write, every point */
#define REAL_CASES 2

/* Loop index i: a case, on fresh ranges or (i >= CASES) over an earlier
 * valid copy of them. */
static void run_case(int i, enum mirror_neg_profile neg)
{
	const struct cut_case *c = &cases[(size_t)i % CASES];
	char name[32];
	struct plan pl;
	struct mirror_profile p;
	struct tally t;
	mirror_profile_init(&p);
	p.nvram_size = NVRAM_SIZE;
	p.region_split = NVRAM_SIZE / 2;
	snprintf(name, sizeof(name), "%s%s", c->name, (size_t)i >= CASES ? "+old" : "");
	plan_make(&pl, &p, name, c->addr, c->bytes, c->policy);
	pl.overwrite = (size_t)i >= CASES;
	ck_assert_uint_eq(pl.n, c->ops);
	ck_assert_int_eq(pl.op[0].path, c->path);
	run_matrix(neg, NULL, &pl, &t);
	ck_assert_msg(t.v.bad == 0, "%u violations; first: %s", t.v.bad, t.v.first);
	/* under InitialR2T=Yes every command waits for an R2T: a point to abort */
	if (neg == MIRROR_NEG_PATENT)
		ck_assert_uint_ge(t.aborts, pl.n);
	plan_free(&pl);
}

START_TEST(cut_patent)
{
	run_case(_i, MIRROR_NEG_PATENT);
}
END_TEST

START_TEST(cut_modern)
{
	run_case(_i, MIRROR_NEG_MODERN);
}
END_TEST

/* The checks catch a receiver that validates an aborted operation's
 * ranges: the matrix must report it. */
START_TEST(negative_control_valid_on_abort)
{
	struct plan pl;
	struct mirror_profile p;
	struct tally t;
	mirror_profile_init(&p);
	p.nvram_size = NVRAM_SIZE;
	p.region_split = NVRAM_SIZE / 2;
	plan_make(&pl, &p, "small", cases[0].addr, cases[0].bytes, cases[0].policy);
	run_matrix(MIRROR_NEG_PATENT, "valid-on-abort", &pl, &t);
	ck_assert_msg(t.v.bad > 0, "valid-on-abort went unnoticed");
	printf("negative control: %u violations, first: %s\n", t.v.bad, t.v.first);
	plan_free(&pl);
}
END_TEST

/* ---- the same cuts against a running mirror-emu ---- */

struct emu {
	pid_t pid;
	char dir[64];
};

/* mirror-emu on a free loopback port, with the rig's profile and table. */
static bool emu_start(struct emu *e, struct rig *r, enum mirror_neg_profile neg)
{
	const char *top = getenv("top_builddir");
	char bin[512], port_file[96], table[96];
	FILE *f;

	snprintf(bin, sizeof(bin), "%s/cmd/mirror-emu", top ? top : ".");
	if (access(bin, X_OK) != 0) {
		printf("real server: %s not built, skipped\n", bin);
		return false;
	}
	snprintf(e->dir, sizeof(e->dir), "/tmp/check_cut.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(e->dir));
	snprintf(port_file, sizeof(port_file), "%s/port", e->dir);
	snprintf(table, sizeof(table), "%s/table", e->dir);
	f = fopen(table, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "7 %llx 2\n", (unsigned long long)TABLE_SERIAL);
	fclose(f);
	e->pid = fork();
	ck_assert_int_ge(e->pid, 0);
	if (e->pid == 0) {
		execl(bin, bin, "--listen", "127.0.0.1:0", "--port-file", port_file, "--nvram-size", "4M",
		      "--table", table, "--max-burst", "65536", "--first-burst", "16384", "-q",
		      "--negotiation", neg == MIRROR_NEG_PATENT ? "patent" : "modern", (char *)NULL);
		_exit(127);
	}
	/* a generous wait for the port: the machine may be busy */
	for (int i = 0; i < 600 && !r->port; i++) {
		unsigned port = 0;
		f = fopen(port_file, "r");
		if (f && fscanf(f, "%u", &port) == 1)
			r->port = (uint16_t)port;
		if (f)
			fclose(f);
		if (!r->port)
			usleep(50 * 1000);
	}
	ck_assert_msg(r->port != 0, "mirror-emu wrote no port file");
	return true;
}

static void emu_stop(struct emu *e)
{
	int status = 0;
	char path[128];
	kill(e->pid, SIGTERM);
	ck_assert_int_eq(waitpid(e->pid, &status, 0), e->pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "mirror-emu ended with status 0x%x", status);
	snprintf(path, sizeof(path), "%s/port", e->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/table", e->dir);
	unlink(path);
	rmdir(e->dir);
}

/* Loop index: cases[i / 2] under patent (even) or modern (odd). */
START_TEST(cut_real_server)
{
	const struct cut_case *c = &cases[_i / 2];
	enum mirror_neg_profile neg = _i % 2 ? MIRROR_NEG_MODERN : MIRROR_NEG_PATENT;
	struct rig r;
	struct emu e;
	struct plan pl;
	struct tally t;
	char name[40];

	const char *url = getenv("MIRROR_CUT_URL");
	unsigned port = 0;

	memset(&r, 0, sizeof(r));
	mirror_profile_init(&r.p);
	r.p.nvram_size = NVRAM_SIZE;
	r.p.region_split = NVRAM_SIZE / 2;
	r.data = calloc(1, NVRAM_SIZE);
	r.bitmap = calloc(1, mirror_nvram_bitmap_bytes(NVRAM_SIZE));
	ck_assert_int_eq(mirror_nvram_init(&r.nv, &r.p, r.data, r.bitmap), 0);
	if (url) {
		/* a server someone else runs (tests/cut-pair.test: a pair
		 * controller's mirror port): its own negotiation, run once */
		if (_i % 2) {
			rig_close(&r);
			return;
		}
		ck_assert_msg(sscanf(url, "iscsi://127.0.0.1:%u/%223[^/]", &port, target_iqn) == 2,
			      "MIRROR_CUT_URL %s: not iscsi://127.0.0.1:PORT/IQN/LUN", url);
		r.port = (uint16_t)port;
		e.pid = 0;
	} else if (!emu_start(&e, &r, neg)) {
		rig_close(&r);
		return;
	}
	snprintf(name, sizeof(name), "%s@%s", c->name, url ? "server" : "mirror-emu");
	plan_make(&pl, &r.p, name, c->addr, c->bytes, c->policy);
	server = &r;
	run_matrix(neg, NULL, &pl, &t);
	server = NULL;
	if (e.pid)
		emu_stop(&e);
	ck_assert_msg(t.v.bad == 0, "%u violations; first: %s", t.v.bad, t.v.first);
	plan_free(&pl);
	rig_close(&r);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("cut");
	TCase *tc = tcase_create("matrix");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, cut_patent, 0, (int)(2 * CASES));
	tcase_add_loop_test(tc, cut_modern, 0, (int)(2 * CASES));
	tcase_add_test(tc, negative_control_valid_on_abort);
	suite_add_tcase(s, tc);
	TCase *real = tcase_create("real-server");
	tcase_set_timeout(real, 300);
	tcase_add_loop_test(real, cut_real_server, 0, 2 * REAL_CASES);
	suite_add_tcase(s, real);
	return s;
}

int main(void)
{
	return test_run_suite(suite());
}
