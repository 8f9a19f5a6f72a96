/* TCP stream reassembly per direction, with bounded memory.
 *
 * Sequence numbers compare modulo 2^32 (RFC 9293 3.4: "seq1 < seq2" as
 * (int32_t)(seq1 - seq2) < 0).  In-order bytes are handed to the callback
 * straight from the packet buffer; only out-of-order segments are copied,
 * up to max_ooo_bytes per direction.  When that limit is passed, or the
 * stream ends with a hole (FIN in both directions, RST, port reuse,
 * eviction, end of input), the hole is reported as a GAP event and what
 * follows it is delivered: the upper layer resynchronises, memory never
 * grows with the capture.  Bytes already delivered are never delivered
 * again: retransmissions (wholly old) and overlaps (partly old) are
 * trimmed and counted apart from goodput.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <mirror/capture.h>

#define DEFAULT_OOO_BYTES (4u * 1024 * 1024)
/* Two maximal (64 KiB offload) segments must fit, or a single one could
 * never be buffered. */
#define MIN_OOO_BYTES (128u * 1024)
#define DEFAULT_CONNS 4096u
#define INITIAL_BUCKETS 16u

struct ooo_seg {
	struct ooo_seg *next;
	uint32_t seq, len, lost;
	uint64_t pkt_no, ts_ns;
	uint8_t data[];
};

struct tcp_dir {
	bool have_next, syn_seen, fin_seen, finished;
	uint32_t next; /* next sequence number to deliver */
	uint32_t isn, fin_seq;
	struct ooo_seg *ooo; /* sorted by seq */
	size_t ooo_bytes;
	/* The peer acknowledged bytes past next with nothing buffered after
	 * them: a hole at the end of what was seen (see acked_hole). */
	bool ack_ahead;
	uint32_t acked;
};

struct tcp_stream {
	struct tcp_stream *hnext;            /* hash chain */
	struct tcp_stream *lru_prev, *lru_next; /* most recent first */
	uint64_t id;
	uint32_t hash;
	struct mirror_cap_tuple tup[2]; /* tup[1] is tup[0] reversed */
	struct tcp_dir d[2];
};

struct mirror_tcp {
	mirror_tcp_cb cb;
	void *user;
	size_t max_ooo, max_conns;
	struct tcp_stream **buckets;
	uint32_t nbuckets; /* a power of two */
	uint32_t max_buckets; /* what grow_buckets stops at */
	struct tcp_stream *lru_head, *lru_tail;
	uint64_t next_id;
	struct mirror_tcp_stats st;
	/* The packet being processed, for events it triggers. */
	uint64_t cur_pkt, cur_ts;
	/* Streams closed by FIN or RST, most recent last (a ring): a late
	 * retransmission of their bytes must not open a phantom stream. */
	struct closed_stream {
		struct mirror_cap_tuple tup; /* direction 0 */
		uint32_t end[2];             /* next sequence number per direction */
		bool used;
	} closed[64];
	unsigned closed_at;
};

static int32_t seq_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

static uint32_t ep_hash(const struct mirror_cap_endpoint *e)
{
	/* FNV-1a over address and port. */
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < sizeof(e->addr); i++)
		h = (h ^ e->addr[i]) * 16777619u;
	h = (h ^ (e->port & 0xff)) * 16777619u;
	h = (h ^ (uint32_t)(e->port >> 8)) * 16777619u;
	return h;
}

/* Symmetric: both directions of a connection hash alike. */
static uint32_t tuple_hash(const struct mirror_cap_tuple *t)
{
	uint32_t a = ep_hash(&t->src), b = ep_hash(&t->dst);

	return (a + b) ^ (a * b);
}

static bool ep_eq(const struct mirror_cap_endpoint *x, const struct mirror_cap_endpoint *y)
{
	return x->port == y->port && x->family == y->family &&
	       memcmp(x->addr, y->addr, sizeof(x->addr)) == 0;
}

static void emit(struct mirror_tcp *t, const struct tcp_stream *s, int dir,
		 enum mirror_tcp_event_kind kind, const uint8_t *data, uint32_t len, uint32_t seq,
		 uint64_t pkt_no, uint64_t ts_ns, enum mirror_tcp_close_reason reason)
{
	struct mirror_tcp_event ev = {
		.kind = kind,
		.stream_id = s->id,
		.dir = dir,
		.tuple = &s->tup[dir],
		.data = data,
		.len = len,
		.seq = seq,
		.pkt_no = pkt_no,
		.ts_ns = ts_ns,
		.reason = reason,
	};
	t->cb(t->user, &ev);
}

static void emit_gap(struct mirror_tcp *t, struct tcp_stream *s, int dir, uint32_t n,
		     uint64_t pkt_no, uint64_t ts_ns)
{
	struct tcp_dir *d = &s->d[dir];

	if (n == 0)
		return;
	t->st.gaps++;
	t->st.gap_bytes += n;
	emit(t, s, dir, MIRROR_TCP_EV_GAP, NULL, n, d->next, pkt_no, ts_ns, 0);
	d->next += n;
}

/* A segment that starts at or before d->next: trims what was delivered
 * already, delivers the rest (captured bytes, then the snaplen loss as a
 * gap).  counted tells whether retransmission/overlap stats apply. */
static void deliver_head(struct mirror_tcp *t, struct tcp_stream *s, int dir, uint32_t seq,
			 const uint8_t *data, uint32_t len, uint32_t lost, uint64_t pkt_no,
			 uint64_t ts_ns)
{
	struct tcp_dir *d = &s->d[dir];
	/* Modulo 2^32, and never a negation of INT32_MIN. */
	uint32_t total = len + lost, skip = d->next - seq, dskip;

	if (skip >= total) {
		t->st.retrans_segments++;
		t->st.retrans_bytes += total;
		return;
	}
	if (skip) {
		t->st.overlap_segments++;
		t->st.overlap_bytes += skip;
	}
	dskip = skip < len ? skip : len;
	if (len > dskip) {
		t->st.delivered_bytes += len - dskip;
		emit(t, s, dir, MIRROR_TCP_EV_DATA, data + dskip, len - dskip, d->next, pkt_no,
		     ts_ns, 0);
		d->next += len - dskip;
	}
	lost -= skip - dskip;
	if (lost) {
		t->st.snaplen_gap_bytes += lost;
		emit_gap(t, s, dir, lost, pkt_no, ts_ns);
	}
}

/* Delivers buffered segments that have become contiguous. */
static void drain(struct mirror_tcp *t, struct tcp_stream *s, int dir)
{
	struct tcp_dir *d = &s->d[dir];

	while (d->ooo && seq_diff(d->ooo->seq, d->next) <= 0) {
		struct ooo_seg *o = d->ooo;

		d->ooo = o->next;
		d->ooo_bytes -= o->len;
		deliver_head(t, s, dir, o->seq, o->data, o->len, o->lost, o->pkt_no, o->ts_ns);
		free(o);
	}
}

/* Gives up on the hole before the first buffered segment. */
static void skip_hole(struct mirror_tcp *t, struct tcp_stream *s, int dir)
{
	struct tcp_dir *d = &s->d[dir];

	emit_gap(t, s, dir, (uint32_t)seq_diff(d->ooo->seq, d->next), t->cur_pkt, t->cur_ts);
	drain(t, s, dir);
}

/* The peer acknowledged bytes of a hole that the capture never showed: the
 * receiver has them and no retransmission will come, so the hole is a gap
 * now.  Waiting for the window limit or the close instead would hand the
 * upper layer this direction's later bytes after the other direction's,
 * out of step (a response before its command's Data-Out). */
static void acked_hole(struct mirror_tcp *t, struct tcp_stream *s, int dir, uint32_t ack)
{
	struct tcp_dir *d = &s->d[dir];

	while (d->ooo && d->have_next && seq_diff(ack, d->next) > 0) {
		if (seq_diff(ack, d->ooo->seq) >= 0) {
			skip_hole(t, s, dir);
			continue;
		}
		/* ack inside the hole: the part below it is lost for sure */
		emit_gap(t, s, dir, (uint32_t)seq_diff(ack, d->next), t->cur_pkt, t->cur_ts);
		break;
	}
	/* Acknowledged past everything seen, nothing seen after: the missing
	 * bytes were the last sent.  Not a gap yet (a capture may show an ACK
	 * just before the data it acknowledges); it becomes one when the
	 * peer sends data of its own (ack_ahead_settle) or at the close.  The
	 * FIN takes one sequence number: its acknowledgment is no hole. */
	uint32_t end = d->next + (d->fin_seen && d->next == d->fin_seq ? 1u : 0u);
	if (!d->ooo && d->have_next && seq_diff(ack, end) > 0 &&
	    (!d->ack_ahead || seq_diff(ack, d->acked) > 0)) {
		d->ack_ahead = true;
		d->acked = ack;
	}
}

/* The peer of direction dir sends data: bytes of dir it acknowledged
 * before and the capture never showed are lost, and declared so before the
 * peer's data goes up (its response must not come before them). */
static void ack_ahead_settle(struct mirror_tcp *t, struct tcp_stream *s, int dir)
{
	struct tcp_dir *d = &s->d[dir];

	if (!d->ack_ahead)
		return;
	d->ack_ahead = false;
	/* the FIN's own sequence number is no byte */
	uint32_t end = d->fin_seen && seq_diff(d->acked, d->fin_seq) > 0 ? d->fin_seq : d->acked;
	if (!d->ooo && d->have_next && seq_diff(end, d->next) > 0)
		emit_gap(t, s, dir, (uint32_t)seq_diff(end, d->next), t->cur_pkt, t->cur_ts);
}

static void flush_dir(struct mirror_tcp *t, struct tcp_stream *s, int dir)
{
	while (s->d[dir].ooo)
		skip_hole(t, s, dir);
}

static int buffer_seg(struct mirror_tcp *t, struct tcp_stream *s, int dir, uint32_t seq,
		      const uint8_t *data, uint32_t len, uint32_t lost)
{
	struct tcp_dir *d = &s->d[dir];
	struct ooo_seg *o = malloc(sizeof(*o) + len), **pp;

	if (!o)
		return -ENOMEM;
	o->seq = seq;
	o->len = len;
	o->lost = lost;
	o->pkt_no = t->cur_pkt;
	o->ts_ns = t->cur_ts;
	if (len)
		memcpy(o->data, data, len);
	/* Sorted by distance from next (ties: arrival order). */
	for (pp = &d->ooo; *pp && seq_diff((*pp)->seq, seq) <= 0; pp = &(*pp)->next)
		;
	o->next = *pp;
	*pp = o;
	d->ooo_bytes += len;
	t->st.ooo_segments++;
	if (d->ooo_bytes > t->st.ooo_bytes_peak)
		t->st.ooo_bytes_peak = d->ooo_bytes;
	/* Over the window: the first hole will not be filled in time. */
	while (d->ooo && d->ooo_bytes > t->max_ooo)
		skip_hole(t, s, dir);
	return 0;
}

static int deliver(struct mirror_tcp *t, struct tcp_stream *s, int dir, uint32_t seq,
		   const uint8_t *data, uint32_t len, uint32_t lost)
{
	struct tcp_dir *d = &s->d[dir];

	if (len + lost == 0)
		return 0;
	if (seq_diff(seq, d->next) > 0)
		return buffer_seg(t, s, dir, seq, data, len, lost);
	deliver_head(t, s, dir, seq, data, len, lost, t->cur_pkt, t->cur_ts);
	drain(t, s, dir);
	return 0;
}

/* ---- the connection table ---- */

static void lru_unlink(struct mirror_tcp *t, struct tcp_stream *s)
{
	if (s->lru_prev)
		s->lru_prev->lru_next = s->lru_next;
	else
		t->lru_head = s->lru_next;
	if (s->lru_next)
		s->lru_next->lru_prev = s->lru_prev;
	else
		t->lru_tail = s->lru_prev;
	s->lru_prev = s->lru_next = NULL;
}

static void lru_push(struct mirror_tcp *t, struct tcp_stream *s)
{
	s->lru_prev = NULL;
	s->lru_next = t->lru_head;
	if (t->lru_head)
		t->lru_head->lru_prev = s;
	t->lru_head = s;
	if (!t->lru_tail)
		t->lru_tail = s;
}

/* Whether a segment without SYN only repeats bytes of a stream that
 * closed (at or before where that direction ended). */
static bool stale_for_closed(struct mirror_tcp *t, const struct mirror_cap_segment *seg)
{
	for (unsigned i = 0; i < sizeof(t->closed) / sizeof(t->closed[0]); i++) {
		const struct closed_stream *c = &t->closed[i];
		int dir;
		if (!c->used)
			continue;
		if (ep_eq(&c->tup.src, &seg->tuple.src) && ep_eq(&c->tup.dst, &seg->tuple.dst))
			dir = 0;
		else if (ep_eq(&c->tup.src, &seg->tuple.dst) && ep_eq(&c->tup.dst, &seg->tuple.src))
			dir = 1;
		else
			continue;
		uint32_t n = seg->payload_len + seg->payload_lost;
		/* within 16 MiB before the end: a new connection reusing the
		 * tuple without a SYN in the capture starts elsewhere */
		return seq_diff(seg->seq + n, c->end[dir]) <= 0 &&
		       seq_diff(seg->seq, c->end[dir]) > -(int32_t)(16u << 20);
	}
	return false;
}

static void close_stream(struct mirror_tcp *t, struct tcp_stream *s,
			 enum mirror_tcp_close_reason why)
{
	struct tcp_stream **pp = &t->buckets[s->hash & (t->nbuckets - 1)];

	flush_dir(t, s, 0);
	flush_dir(t, s, 1);
	ack_ahead_settle(t, s, 0);
	ack_ahead_settle(t, s, 1);
	/* A FIN beyond the last byte delivered: the bytes between were sent
	 * and never captured. */
	for (int i = 0; i < 2; i++) {
		struct tcp_dir *d = &s->d[i];
		if (d->fin_seen && d->have_next && seq_diff(d->fin_seq, d->next) > 0)
			emit_gap(t, s, i, (uint32_t)seq_diff(d->fin_seq, d->next), t->cur_pkt, t->cur_ts);
	}
	emit(t, s, 0, MIRROR_TCP_EV_CLOSE, NULL, 0, 0, t->cur_pkt, t->cur_ts, why);
	if (why == MIRROR_TCP_CLOSE_FIN || why == MIRROR_TCP_CLOSE_RST) {
		struct closed_stream *c = &t->closed[t->closed_at++ % (sizeof(t->closed) / sizeof(t->closed[0]))];
		c->tup = s->tup[0];
		c->end[0] = s->d[0].next;
		c->end[1] = s->d[1].next;
		c->used = s->d[0].have_next && s->d[1].have_next;
	}
	while (*pp != s)
		pp = &(*pp)->hnext;
	*pp = s->hnext;
	lru_unlink(t, s);
	t->st.streams_closed++;
	t->st.streams_open--;
	if (why == MIRROR_TCP_CLOSE_EVICT)
		t->st.streams_evicted++;
	free(s);
}

static struct tcp_stream *lookup(struct mirror_tcp *t, const struct mirror_cap_tuple *tu,
				 uint32_t h, int *dir)
{
	for (struct tcp_stream *s = t->buckets[h & (t->nbuckets - 1)]; s; s = s->hnext) {
		if (s->hash != h)
			continue;
		if (ep_eq(&s->tup[0].src, &tu->src) && ep_eq(&s->tup[0].dst, &tu->dst)) {
			*dir = 0;
			return s;
		}
		if (ep_eq(&s->tup[1].src, &tu->src) && ep_eq(&s->tup[1].dst, &tu->dst)) {
			*dir = 1;
			return s;
		}
	}
	return NULL;
}

/* Doubles the hash table once it holds more streams than half its
 * buckets, up to twice the connection limit.  It starts small: zeroing
 * the whole table for every capture (64 KiB at the default limit) was most
 * of the time of a small capture (perf, the capture fuzzer).  Streams are
 * found by the table only; their order (ends, eviction) is the LRU list's,
 * so growing changes no result. */
static void grow_buckets(struct mirror_tcp *t)
{
	uint32_t nb = t->nbuckets * 2;
	struct tcp_stream **b;

	if (t->st.streams_open < t->nbuckets / 2 || t->nbuckets >= t->max_buckets)
		return;
	b = calloc(nb, sizeof(*b));
	if (!b)
		return; /* longer chains, no harm */
	for (struct tcp_stream *s = t->lru_head; s; s = s->lru_next) {
		s->hnext = b[s->hash & (nb - 1)];
		b[s->hash & (nb - 1)] = s;
	}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = nb;
}

/* dir 0 is the tuple as given. */
static struct tcp_stream *open_stream(struct mirror_tcp *t, const struct mirror_cap_tuple *tu,
				      uint32_t h)
{
	struct tcp_stream *s;

	if (t->st.streams_open >= t->max_conns && t->lru_tail)
		close_stream(t, t->lru_tail, MIRROR_TCP_CLOSE_EVICT);
	grow_buckets(t);
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->id = ++t->next_id;
	s->hash = h;
	s->tup[0] = *tu;
	s->tup[1].src = tu->dst;
	s->tup[1].dst = tu->src;
	s->hnext = t->buckets[h & (t->nbuckets - 1)];
	t->buckets[h & (t->nbuckets - 1)] = s;
	lru_push(t, s);
	t->st.streams_opened++;
	t->st.streams_open++;
	emit(t, s, 0, MIRROR_TCP_EV_OPEN, NULL, 0, 0, t->cur_pkt, t->cur_ts, 0);
	return s;
}

int mirror_tcp_new(struct mirror_tcp **out, const struct mirror_tcp_opts *opts, mirror_tcp_cb cb,
		   void *user)
{
	struct mirror_tcp *t;
	size_t conns = opts && opts->max_conns ? opts->max_conns : DEFAULT_CONNS;
	size_t ooo = opts && opts->max_ooo_bytes ? opts->max_ooo_bytes : DEFAULT_OOO_BYTES;
	uint32_t nb = INITIAL_BUCKETS, max_nb = INITIAL_BUCKETS;

	*out = NULL;
	if (!cb || conns > (1u << 24))
		return -EINVAL;
	if (ooo < MIN_OOO_BYTES)
		ooo = MIN_OOO_BYTES;
	while (max_nb < conns * 2)
		max_nb *= 2;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->max_buckets = max_nb;
	t->buckets = calloc(nb, sizeof(*t->buckets));
	if (!t->buckets) {
		free(t);
		return -ENOMEM;
	}
	t->nbuckets = nb;
	t->cb = cb;
	t->user = user;
	t->max_ooo = ooo;
	t->max_conns = conns;
	*out = t;
	return 0;
}

int mirror_tcp_add(struct mirror_tcp *t, const struct mirror_cap_segment *seg)
{
	const uint8_t f = seg->flags;
	uint32_t h = tuple_hash(&seg->tuple), dseq;
	struct tcp_stream *s;
	struct tcp_dir *d;
	int dir = 0, rc;

	t->st.segments++;
	t->cur_pkt = seg->pkt_no;
	t->cur_ts = seg->ts_ns;
	s = lookup(t, &seg->tuple, h, &dir);
	if (f & MIRROR_TCP_RST) {
		/* RFC 9293 3.10.7.4: the connection is gone; whatever hole
		 * is left will not fill. */
		if (s)
			close_stream(t, s, MIRROR_TCP_CLOSE_RST);
		return 0;
	}
	if (s && (f & MIRROR_TCP_SYN)) {
		d = &s->d[dir];
		if (d->syn_seen && d->isn == seg->seq) {
			t->st.retrans_segments++; /* a repeated SYN */
			lru_unlink(t, s);
			lru_push(t, s);
			return 0;
		}
		/* A fresh SYN on a known tuple (or a SYN-ACK on a finished
		 * one): the port was reused for a new connection. */
		if (!(f & MIRROR_TCP_ACK) || (s->d[0].finished && s->d[1].finished) ||
		    d->syn_seen) {
			close_stream(t, s, MIRROR_TCP_CLOSE_REUSE);
			s = NULL;
		}
	}
	if (!s) {
		struct mirror_cap_tuple rev;

		/* A pure ACK or a lone FIN carries no stream bytes: after a
		 * close, the last ACK must not open a phantom stream. */
		if (!(f & MIRROR_TCP_SYN) && seg->payload_len + seg->payload_lost == 0)
			return 0;
		/* nor a late retransmission of a closed stream's bytes */
		if (!(f & MIRROR_TCP_SYN) && stale_for_closed(t, seg)) {
			t->st.retrans_segments++;
			t->st.retrans_bytes += seg->payload_len + seg->payload_lost;
			return 0;
		}
		if ((f & MIRROR_TCP_SYN) && (f & MIRROR_TCP_ACK)) {
			/* The SYN's sender is the first endpoint. */
			rev.src = seg->tuple.dst;
			rev.dst = seg->tuple.src;
			s = open_stream(t, &rev, h);
			dir = 1;
		} else {
			s = open_stream(t, &seg->tuple, h);
			dir = 0;
		}
		if (!s)
			return -ENOMEM;
	} else {
		lru_unlink(t, s);
		lru_push(t, s);
	}
	if (f & MIRROR_TCP_ACK)
		acked_hole(t, s, 1 - dir, seg->ack);
	d = &s->d[dir];
	dseq = seg->seq;
	if (f & MIRROR_TCP_SYN) {
		/* The SYN takes one sequence number; data follows it. */
		d->syn_seen = true;
		d->isn = seg->seq;
		d->next = seg->seq + 1;
		d->have_next = true;
		dseq = seg->seq + 1;
	}
	if (!d->have_next) {
		/* Mid-stream start: the first byte seen is the start. */
		d->next = dseq;
		d->have_next = true;
	}
	if (seg->payload_len + seg->payload_lost)
		ack_ahead_settle(t, s, 1 - dir);
	rc = deliver(t, s, dir, dseq, seg->payload, seg->payload_len, seg->payload_lost);
	if (f & MIRROR_TCP_FIN) {
		d->fin_seen = true;
		d->fin_seq = dseq + seg->payload_len + seg->payload_lost;
	}
	for (int i = 0; i < 2; i++)
		if (s->d[i].fin_seen && !s->d[i].ooo && s->d[i].next == s->d[i].fin_seq)
			s->d[i].finished = true;
	/* Both sides said FIN: nothing more will come to fill a hole. */
	if (s->d[0].fin_seen && s->d[1].fin_seen)
		close_stream(t, s, MIRROR_TCP_CLOSE_FIN);
	return rc;
}

void mirror_tcp_flush(struct mirror_tcp *t)
{
	while (t->lru_tail)
		close_stream(t, t->lru_tail, MIRROR_TCP_CLOSE_FLUSH);
}

const struct mirror_tcp_stats *mirror_tcp_stats(const struct mirror_tcp *t)
{
	return &t->st;
}

void mirror_tcp_free(struct mirror_tcp *t)
{
	if (!t)
		return;
	/* No events from free: free whatever is left silently. */
	while (t->lru_head) {
		struct tcp_stream *s = t->lru_head;

		t->lru_head = s->lru_next;
		for (int i = 0; i < 2; i++)
			while (s->d[i].ooo) {
				struct ooo_seg *o = s->d[i].ooo;

				s->d[i].ooo = o->next;
				free(o);
			}
		free(s);
	}
	free(t->buckets);
	free(t);
}
