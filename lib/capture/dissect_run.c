/* Capture -> TCP streams -> iSCSI operations, and the per-path summary
 * (wire-profile.md "Interrupt accounting model", "Byte
 * accounting").  Memory is bounded by the open streams and tasks, never by
 * the size of the file. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include <mirror/account.h>
#include <mirror/dissect_run.h>
#include <mirror/path.h>
#include <mirror/sense.h>

#include "iscsi/pdu.h"

struct stream {
	uint64_t id;
	struct mirror_dissect_conn *conn;
	enum mirror_dissect_dir dir0; /* the direction of the stream's first endpoint */
	bool oriented;                /* dir0 is known */
};

/* The side that sends the PDU whose first byte is byte0 (pdu.h), or -1.
 * A SNACK does not orient a stream: an initiator sends one only after a
 * loss, so first bytes that look like one more likely come from the middle
 * of a PDU. */
static int pdu_side(uint8_t byte0)
{
	uint8_t op = byte0 & PDU_B0_OPCODE_MASK;

	switch (op == OP_SNACK ? PDU_FROM_NONE : mirror_pdu_opcode_sender(op)) {
	case PDU_FROM_INITIATOR:
		return MIRROR_DISSECT_I2T;
	case PDU_FROM_TARGET:
		return MIRROR_DISSECT_T2I;
	default:
		return -1;
	}
}

struct run {
	const struct mirror_dissect_run_opts *o;
	mirror_dissect_op_fn cb;
	void *ctx;
	struct mirror_dissect_run_stats *st;
	struct stream *streams;
	size_t n, cap;
	/* link/IP/TCP header bytes of the packet being fed, given once to the
	 * first data it delivers (wire-profile.md: apportioned by the bytes
	 * the packets carry) */
	uint64_t cur_pkt;
	uint32_t cur_hdr;
	bool cur_hdr_used;
};

static struct stream *stream_find(struct run *r, uint64_t id)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->streams[i].id == id)
			return &r->streams[i];
	return NULL;
}

static void stream_close(struct run *r, struct stream *s)
{
	struct mirror_dissect_stats ds;

	mirror_dissect_finish(s->conn);
	mirror_dissect_get_stats(s->conn, &ds);
	r->st->header_digest_errors += ds.header_digest_errors;
	r->st->data_digest_errors += ds.data_digest_errors;
	r->st->resyncs += ds.resyncs[0] + ds.resyncs[1];
	r->st->lost_bytes += ds.lost_bytes[0] + ds.lost_bytes[1];
	mirror_dissect_conn_free(s->conn);
	*s = r->streams[--r->n];
}

static void on_tcp(void *user, const struct mirror_tcp_event *ev)
{
	struct run *r = user;
	struct stream *s = stream_find(r, ev->stream_id);
	uint16_t port = r->o->target_port ? r->o->target_port : MIRROR_CAP_DEFAULT_PORT;
	bool auto_port = r->o->target_port == 0;

	switch (ev->kind) {
	case MIRROR_TCP_EV_OPEN: {
		enum mirror_dissect_dir d0 = MIRROR_DISSECT_I2T;
		bool oriented = true;
		/* the initiator is told by the target port, not by who sent SYN */
		if (ev->tuple->dst.port == port)
			d0 = MIRROR_DISSECT_I2T;
		else if (ev->tuple->src.port == port)
			d0 = MIRROR_DISSECT_T2I;
		else if (auto_port)
			oriented = false; /* decided by the first PDU */
		else {
			r->st->streams_ignored++;
			return;
		}
		if (r->n == r->cap) {
			size_t cap = r->cap ? r->cap * 2 : 16;
			struct stream *p = realloc(r->streams, cap * sizeof(*p));
			if (!p)
				return;
			r->streams = p;
			r->cap = cap;
		}
		struct mirror_dissect_conn *c =
			mirror_dissect_conn_new(&r->o->dissect, ev->stream_id, r->cb, r->ctx);
		if (!c)
			return;
		r->streams[r->n++] = (struct stream){ ev->stream_id, c, d0, oriented };
		r->st->streams++;
		return;
	}
	case MIRROR_TCP_EV_DATA: {
		if (!s)
			return;
		if (!s->oriented) {
			int side = ev->len ? pdu_side(ev->data[0]) : -1;
			if (side < 0) {
				/* not iSCSI, or joined mid-PDU: not ours to guess */
				r->st->streams_ignored++;
				r->st->streams--;
				mirror_dissect_conn_free(s->conn);
				*s = r->streams[--r->n];
				return;
			}
			s->dir0 = ev->dir == 0 ? (enum mirror_dissect_dir)side
					       : (enum mirror_dissect_dir)(1 - side);
			s->oriented = true;
		}
		uint32_t hdr = 0;
		if (ev->pkt_no == r->cur_pkt && !r->cur_hdr_used) {
			hdr = r->cur_hdr;
			r->cur_hdr_used = true;
		}
		enum mirror_dissect_dir d = ev->dir == 0 ? s->dir0 : (enum mirror_dissect_dir)(1 - s->dir0);
		mirror_dissect_feed(s->conn, d, ev->data, ev->len, ev->pkt_no, ev->ts_ns, hdr);
		return;
	}
	case MIRROR_TCP_EV_GAP:
		if (s)
			mirror_dissect_gap(s->conn, ev->dir == 0 ? s->dir0 : (enum mirror_dissect_dir)(1 - s->dir0),
					   ev->len);
		return;
	case MIRROR_TCP_EV_CLOSE:
		if (s)
			stream_close(r, s);
		return;
	}
}

/* The size of the capture for progress reports: a regular file's size,
 * else 0 (a pipe, a terminal).  fp is the caller's stream when it gave one
 * (its descriptor), else the path is looked at. */
static uint64_t capture_size(const struct mirror_dissect_run_opts *o)
{
	struct stat sb;
	int rc;

	if (o->fp)
		rc = fstat(fileno(o->fp), &sb);
	else if (strcmp(o->path, "-") == 0)
		rc = fstat(0, &sb);
	else
		rc = stat(o->path, &sb);
	return rc == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0 ? (uint64_t)sb.st_size : 0;
}

static void report_progress(const struct mirror_dissect_run_opts *o,
			    const struct mirror_capture *cap, uint64_t total)
{
	int64_t pos = mirror_capture_offset(cap);

	if (pos >= 0)
		o->progress(o->progress_ctx, (uint64_t)pos, total);
}

static uint64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Calls the caller's tick when tick_ms went by since the last one. */
static void live_tick(const struct mirror_dissect_run_opts *o, struct mirror_capture *cap,
		      uint64_t *last)
{
	uint64_t now;

	if (!o->tick)
		return;
	now = monotonic_ms();
	if (now - *last < (o->tick_ms ? o->tick_ms : 100))
		return;
	*last = now;
	o->tick(o->tick_ctx, cap);
}

int mirror_dissect_run(const struct mirror_dissect_run_opts *o, mirror_dissect_op_fn cb, void *ctx,
		       struct mirror_dissect_run_stats *st)
{
	struct mirror_capture *cap;
	struct mirror_tcp *tcp;
	struct run r;
	struct mirror_cap_segment seg;
	uint64_t total = 0, last_tick = 0;
	int rc;

	memset(st, 0, sizeof(*st));
	memset(&r, 0, sizeof(r));
	r.o = o;
	r.cb = cb;
	r.ctx = ctx;
	r.st = st;
	if (o->iface)
		rc = mirror_capture_open_live(&cap, o->iface, o->filter, 0, o->buffer_bytes,
					      o->tick_ms ? o->tick_ms : 100, st->error,
					      sizeof(st->error));
	else if (o->fp)
		rc = mirror_capture_open_fp(&cap, o->fp, o->path, st->error, sizeof(st->error));
	else
		rc = mirror_capture_open(&cap, o->path, st->error, sizeof(st->error));
	if (rc < 0)
		return rc;
	if (o->progress)
		total = capture_size(o);
	rc = mirror_tcp_new(&tcp, NULL, on_tcp, &r);
	if (rc < 0) {
		mirror_capture_close(cap);
		snprintf(st->error, sizeof(st->error), "out of memory");
		return rc;
	}
	for (;;) {
		rc = mirror_capture_next(cap, &seg);
		if (rc == -EAGAIN || (rc > 0 && o->iface && (seg.pkt_no & 63u) == 0))
			live_tick(o, cap, &last_tick);
		if (rc == -EAGAIN)
			continue;
		if (rc <= 0)
			break;
		r.cur_pkt = seg.pkt_no;
		r.cur_hdr = seg.link_hdr_len + seg.ip_hdr_len + seg.tcp_hdr_len;
		r.cur_hdr_used = false;
		mirror_tcp_add(tcp, &seg);
		if (o->progress && (seg.pkt_no & 1023u) == 0)
			report_progress(o, cap, total);
	}
	if (rc < 0) {
		st->file_error = true;
		snprintf(st->error, sizeof(st->error), "%s", mirror_capture_error(cap));
	}
	if (o->progress)
		report_progress(o, cap, total);
	mirror_tcp_flush(tcp); /* closes every stream: open tasks end incomplete */
	st->capture = *mirror_capture_stats(cap);
	st->kernel_drops = mirror_capture_drops(cap);
	st->tcp = *mirror_tcp_stats(tcp);
	while (r.n)
		stream_close(&r, &r.streams[r.n - 1]);
	free(r.streams);
	mirror_tcp_free(tcp);
	mirror_capture_close(cap);
	return rc < 0 ? -EIO : 0;
}

/* ---- summary ---- */

/* Log-linear latency buckets, 32 per power of two from 32 us; exact below
 * 32 us; everything from about 1 s up in the last bucket. */
static unsigned lat_bucket(uint64_t us)
{
	if (us < 32)
		return (unsigned)us;
	unsigned e = 63u - (unsigned)__builtin_clzll(us); /* >= 5 */
	unsigned idx = 32u + (e - 5u) * 32u + (unsigned)((us >> (e - 5u)) & 31u);
	return idx < MIRROR_LAT_BUCKETS ? idx : MIRROR_LAT_BUCKETS - 1;
}

static double lat_value(unsigned idx)
{
	if (idx < 32)
		return idx;
	unsigned e = (idx - 32u) / 32u + 5u, sub = (idx - 32u) % 32u;
	return (double)((uint64_t)(32u + sub) << (e - 5u));
}

double mirror_path_summary_latency(const struct mirror_path_summary *p, double q)
{
	uint64_t want, seen = 0;

	if (!p->latency_n)
		return 0;
	want = (uint64_t)(q * (double)p->latency_n);
	if ((double)want < q * (double)p->latency_n) /* rounded up: the nearest-rank */
		want++;
	for (unsigned i = 0; i < MIRROR_LAT_BUCKETS; i++) {
		seen += p->latency_hist[i];
		if (seen >= want)
			return lat_value(i);
	}
	return lat_value(MIRROR_LAT_BUCKETS - 1);
}

void mirror_dissect_summary_init(struct mirror_dissect_summary *s, const struct mirror_profile *p)
{
	memset(s, 0, sizeof(*s));
	if (p)
		s->profile = *p;
	else
		mirror_profile_init(&s->profile);
}

__attribute__((format(printf, 4, 5)))
static void add_finding(struct mirror_dissect_summary *s, const struct mirror_dissect_op *op, bool error,
			const char *fmt, ...)
{
	va_list ap;

	if (error)
		s->errors++;
	else
		s->warnings++;
	if (s->nfindings >= MIRROR_SUMMARY_FINDINGS_MAX) {
		s->findings_dropped++;
		return;
	}
	struct mirror_summary_finding *f = &s->finding[s->nfindings++];
	f->packet = op->packet;
	f->itt = op->itt;
	f->error = error;
	va_start(ap, fmt);
	vsnprintf(f->text, sizeof(f->text), fmt, ap);
	va_end(ap);
}

static void add_cost(struct mirror_cost *sum, const struct mirror_cost *c)
{
	sum->interrupts += c->interrupts;
	sum->cdb += c->cdb;
	sum->metadata += c->metadata;
	sum->data += c->data;
	sum->transport += c->transport;
	sum->tcpip += c->tcpip;
	sum->total += c->total;
}

/* Removes finding i (a gap that later operations filled). */
static void drop_finding(struct mirror_dissect_summary *s, unsigned i)
{
	if (s->finding[i].error)
		s->errors--;
	else
		s->warnings--;
	memmove(&s->finding[i], &s->finding[i + 1],
		(s->nfindings - i - 1) * sizeof(s->finding[0]));
	s->nfindings--;
	for (unsigned k = 0; k < sizeof(s->seq) / sizeof(s->seq[0]); k++)
		if (s->seq[k].gap_finding > (int)i)
			s->seq[k].gap_finding--;
}

static void gap_text(struct mirror_dissect_summary *s, unsigned slot)
{
	unsigned missing = s->seq[slot].gap_to - s->seq[slot].gap_from + 1 - s->seq[slot].gap_filled;
	int i = s->seq[slot].gap_finding;

	if (i >= 0)
		snprintf(s->finding[i].text, sizeof(s->finding[i].text),
			 "sequence number %u after %u: %u missing", (unsigned)s->seq[slot].gap_to + 1,
			 (unsigned)s->seq[slot].gap_from - 1, missing);
}

/* An operation whose command came before the one that set the slot's last
 * number: the decoder emits operations as they complete, so one that lost
 * its response comes out last.  It is no repeat; it may fill the gap its
 * successors showed. */
static void late_sequence(struct mirror_dissect_summary *s, unsigned slot,
			  const struct mirror_dissect_op *op)
{
	if (!s->seq[slot].gap_open || op->sequence < s->seq[slot].gap_from ||
	    op->sequence > s->seq[slot].gap_to)
		return;
	s->seq[slot].gap_filled++;
	if (s->seq[slot].gap_filled <= s->seq[slot].gap_to - s->seq[slot].gap_from) {
		gap_text(s, slot);
		return;
	}
	s->seq_gaps--;
	s->seq[slot].gap_open = false;
	if (s->seq[slot].gap_finding >= 0)
		drop_finding(s, (unsigned)s->seq[slot].gap_finding);
	else
		s->warnings--; /* counted, never stored */
	s->seq[slot].gap_finding = -1;
}

/* Sequence numbers come one per metadata message from each sender
 * (wire-profile.md, metadata byte 4): a jump is a gap, a step back or a
 * repeat is a repeat.  One slot per connection, reused round-robin. */
static void check_sequence(struct mirror_dissect_summary *s, const struct mirror_dissect_op *op)
{
	unsigned n = sizeof(s->seq) / sizeof(s->seq[0]), i, slot = n;

	for (i = 0; i < n; i++)
		if (s->seq[i].used && s->seq[i].conn_id == op->conn_id)
			break;
	if (i == n) {
		for (i = 0; i < n && s->seq[i].used; i++)
			;
		slot = i < n ? i : (unsigned)(op->conn_id % n);
		memset(&s->seq[slot], 0, sizeof(s->seq[slot]));
		s->seq[slot].used = true;
		s->seq[slot].conn_id = op->conn_id;
		s->seq[slot].last = op->sequence;
		s->seq[slot].last_packet = op->packet;
		s->seq[slot].gap_finding = -1;
		return;
	}
	if (op->packet < s->seq[i].last_packet) {
		late_sequence(s, i, op);
		return;
	}
	uint32_t want = s->seq[i].last + 1;
	if (op->sequence != want) {
		if ((int32_t)(op->sequence - want) > 0) {
			unsigned before = s->nfindings;

			s->seq_gaps++;
			add_finding(s, op, false, "sequence number %u after %u: %u missing",
				    (unsigned)op->sequence, (unsigned)s->seq[i].last,
				    (unsigned)(op->sequence - want));
			s->seq[i].gap_open = true;
			s->seq[i].gap_from = want;
			s->seq[i].gap_to = op->sequence - 1;
			s->seq[i].gap_filled = 0;
			s->seq[i].gap_finding = s->nfindings > before ? (int)before : -1;
		} else {
			s->seq_repeats++;
			add_finding(s, op, false, "sequence number %u repeats or goes back (last %u)",
				    (unsigned)op->sequence, (unsigned)s->seq[i].last);
		}
	}
	s->seq[i].last = op->sequence;
	s->seq[i].last_packet = op->packet;
}

/* The checks of mirror-dissect --check on one captured operation. */
static void check_op(struct mirror_dissect_summary *s, const struct mirror_dissect_op *op)
{
	const struct mirror_finding *fe = op->findings ? mirror_findings_first_error(op->findings) : NULL;

	if (op->path == MIRROR_DISSECT_OTHER)
		return;
	if (fe)
		add_finding(s, op, true, "%s %s byte %u bit %u (%s): %s",
			    mirror_dissect_path_name(op->path), fe->in_cdb ? "CDB" : "metadata",
			    fe->byte, fe->bit, fe->field, fe->message);
	if (op->have_status && op->status != MIRROR_STATUS_GOOD) {
		if (op->have_sense)
			add_finding(s, op, true, "status %s, sense %s %02Xh/%02Xh",
				    mirror_status_name(op->status), mirror_sense_key_name(op->sense_key),
				    op->asc, op->ascq);
		else
			add_finding(s, op, true, "status %s", mirror_status_name(op->status));
	}
	if (op->incomplete)
		add_finding(s, op, false, "operation incomplete in the capture%s%s%s",
			    op->incomplete & MIRROR_DISSECT_INC_GAP ? " (bytes lost)" : "",
			    op->incomplete & MIRROR_DISSECT_INC_NO_RESPONSE ? " (no response)" : "",
			    op->incomplete & MIRROR_DISSECT_INC_ITT_REUSED ? " (ITT reused)" : "");
	if (!op->fields_valid)
		return;
	if (op->path == MIRROR_DISSECT_LARGE)
		check_sequence(s, op);
	if (op->blocks > MIRROR_LARGE_MAX_BLOCKS)
		add_finding(s, op, true, "operation of %u blocks is over 1 MiB", (unsigned)op->blocks);
	for (unsigned i = 0; i < op->sg_count; i++)
		if (op->sg[i].bytes > MIRROR_SG_ELEMENT_MAX_BYTES) {
			add_finding(s, op, true, "S/G element %u of %u bytes is over 16 KiB", i,
				    (unsigned)op->sg[i].bytes);
			break;
		}
	if (op->path == MIRROR_DISSECT_LARGE && op->sg_count) {
		/* Fig. 7 blocks 700 and 716; 708 (recovery) and 712 (table not
		 * current) cannot be seen in a capture, so this is a warning */
		struct mirror_sender_state ideal = { false, true };
		struct mirror_path_choice c;
		mirror_path_choose(&s->profile, op->sg, op->sg_count, &ideal, &c);
		if (c.path == MIRROR_PATH_SMALL)
			add_finding(s, op, false,
				    "missed small-path opportunity (%s), unless the sender was in recovery or the partner's table was not current",
				    c.text);
	}
}

void mirror_dissect_summary_add(struct mirror_dissect_summary *s, const struct mirror_dissect_op *op)
{
	struct mirror_path_summary *p = &s->path[op->path <= MIRROR_DISSECT_OTHER ? op->path : MIRROR_DISSECT_OTHER];

	s->ops++;
	p->ops++;
	s->commands_by_opcode[op->opcode]++;
	s->dataout_pdus += op->dataout_pdus;
	s->r2ts += op->r2ts;
	s->datain_pdus += op->datain_pdus;
	s->responses += op->have_status;
	check_op(s, op);
	if (!op->complete || (op->have_status && op->status != MIRROR_STATUS_GOOD))
		return;
	p->complete++;
	if (!p->interrupts_min || op->cost.interrupts < p->interrupts_min)
		p->interrupts_min = op->cost.interrupts;
	if (op->cost.interrupts > p->interrupts_max)
		p->interrupts_max = op->cost.interrupts;
	p->interrupts += op->cost.interrupts;
	add_cost(&p->bytes, &op->cost);
	if (op->have_status) {
		p->latency_n++;
		p->latency_hist[lat_bucket(op->latency_ns / 1000)]++;
	}
	if (op->path == MIRROR_DISSECT_OTHER || !op->fields_valid || !op->sg_count)
		return;
	/* the counterfactual, under the `patent' negotiation */
	struct mirror_op mop;
	struct mirror_iscsi_params ip;
	struct mirror_cost other;
	bool possible;
	memset(&mop, 0, sizeof(mop));
	mop.path = op->path == MIRROR_DISSECT_SMALL ? MIRROR_PATH_SMALL : MIRROR_PATH_LARGE;
	mop.blocks = op->blocks;
	mop.sg_count = op->sg_count;
	memcpy(mop.sg, op->sg, sizeof(op->sg[0]) * op->sg_count);
	mirror_iscsi_params_patent(&ip);
	if (mirror_counterfactual(&s->profile, &ip, &mop, &possible, &other) == 0 && possible) {
		p->cf_ops++;
		add_cost(&p->cf_actual, &op->cost);
		add_cost(&p->cf_other, &other);
	}
}

static double per_op(uint64_t sum, uint64_t n)
{
	return n ? (double)sum / (double)n : 0.0;
}

static struct json_object *bytes_json(const struct mirror_cost *c, uint64_t n)
{
	struct json_object *b = json_object_new_object();
	json_object_object_add(b, "cdb", json_object_new_double(per_op(c->cdb, n)));
	json_object_object_add(b, "metadata", json_object_new_double(per_op(c->metadata, n)));
	json_object_object_add(b, "data", json_object_new_double(per_op(c->data, n)));
	json_object_object_add(b, "iscsi", json_object_new_double(per_op(c->transport, n)));
	json_object_object_add(b, "tcpip", json_object_new_double(per_op(c->tcpip, n)));
	json_object_object_add(b, "total", json_object_new_double(per_op(c->total, n)));
	return b;
}

static struct json_object *path_json(const struct mirror_path_summary *p)
{
	struct json_object *o = json_object_new_object(), *lat = json_object_new_object();

	json_object_object_add(o, "ops", json_object_new_int64((int64_t)p->ops));
	json_object_object_add(o, "complete", json_object_new_int64((int64_t)p->complete));
	json_object_object_add(o, "interrupts_min", json_object_new_int64(p->interrupts_min));
	json_object_object_add(o, "interrupts_mean", json_object_new_double(per_op(p->interrupts, p->complete)));
	json_object_object_add(o, "interrupts_max", json_object_new_int64(p->interrupts_max));
	json_object_object_add(o, "bytes_per_op", bytes_json(&p->bytes, p->complete));
	json_object_object_add(lat, "p50", json_object_new_double(mirror_path_summary_latency(p, 0.50)));
	json_object_object_add(lat, "p99", json_object_new_double(mirror_path_summary_latency(p, 0.99)));
	json_object_object_add(o, "latency_us", lat);
	if (p->cf_ops) {
		struct json_object *cf = json_object_new_object();
		json_object_object_add(cf, "ops", json_object_new_int64((int64_t)p->cf_ops));
		json_object_object_add(cf, "interrupts_per_op",
				       json_object_new_double(per_op(p->cf_other.interrupts, p->cf_ops)));
		json_object_object_add(cf, "bytes_per_op", bytes_json(&p->cf_other, p->cf_ops));
		json_object_object_add(o, "other_path", cf);
	}
	return o;
}

struct json_object *mirror_dissect_summary_json(const struct mirror_dissect_summary *s,
						const struct mirror_dissect_run_stats *st)
{
	struct json_object *o = json_object_new_object(), *paths = json_object_new_object();
	struct json_object *fa = json_object_new_array(), *cap = json_object_new_object();

	json_object_object_add(o, "ops", json_object_new_int64((int64_t)s->ops));
	json_object_object_add(paths, "small", path_json(&s->path[MIRROR_DISSECT_SMALL]));
	json_object_object_add(paths, "large", path_json(&s->path[MIRROR_DISSECT_LARGE]));
	json_object_object_add(o, "paths", paths);
	json_object_object_add(o, "other_commands",
			       json_object_new_int64((int64_t)s->path[MIRROR_DISSECT_OTHER].ops));
	for (unsigned i = 0; i < s->nfindings; i++) {
		struct json_object *f = json_object_new_object();
		json_object_object_add(f, "packet", json_object_new_int64((int64_t)s->finding[i].packet));
		json_object_object_add(f, "itt", json_object_new_int64(s->finding[i].itt));
		json_object_object_add(f, "severity", json_object_new_string(s->finding[i].error ? "error" : "warning"));
		json_object_object_add(f, "message", json_object_new_string(s->finding[i].text));
		json_object_array_add(fa, f);
	}
	json_object_object_add(o, "findings", fa);
	struct json_object *pdus = json_object_new_object(), *byop = json_object_new_object();
	for (unsigned i = 0; i < 256; i++) {
		if (s->commands_by_opcode[i]) {
			char k[8];
			snprintf(k, sizeof(k), "0x%02x", i);
			json_object_object_add(byop, k, json_object_new_int64((int64_t)s->commands_by_opcode[i]));
		}
	}
	json_object_object_add(pdus, "scsi_commands", byop);
	json_object_object_add(pdus, "data_out", json_object_new_int64((int64_t)s->dataout_pdus));
	json_object_object_add(pdus, "r2t", json_object_new_int64((int64_t)s->r2ts));
	json_object_object_add(pdus, "data_in", json_object_new_int64((int64_t)s->datain_pdus));
	json_object_object_add(pdus, "scsi_responses", json_object_new_int64((int64_t)s->responses));
	json_object_object_add(o, "pdus", pdus);
	struct json_object *sq = json_object_new_object();
	json_object_object_add(sq, "gaps", json_object_new_int64((int64_t)s->seq_gaps));
	json_object_object_add(sq, "repeats", json_object_new_int64((int64_t)s->seq_repeats));
	json_object_object_add(o, "sequence", sq);
	json_object_object_add(o, "errors", json_object_new_int64((int64_t)s->errors));
	json_object_object_add(o, "warnings", json_object_new_int64((int64_t)s->warnings));
	if (st) {
		json_object_object_add(cap, "packets", json_object_new_int64((int64_t)st->capture.packets));
		json_object_object_add(cap, "tcp_segments", json_object_new_int64((int64_t)st->capture.tcp_segments));
		json_object_object_add(cap, "iscsi_connections", json_object_new_int64((int64_t)st->streams));
		json_object_object_add(cap, "retransmitted_bytes", json_object_new_int64((int64_t)st->tcp.retrans_bytes));
		json_object_object_add(cap, "gaps", json_object_new_int64((int64_t)st->tcp.gaps));
		json_object_object_add(cap, "gap_bytes", json_object_new_int64((int64_t)st->tcp.gap_bytes));
		json_object_object_add(cap, "resyncs", json_object_new_int64((int64_t)st->resyncs));
		json_object_object_add(cap, "header_digest_errors", json_object_new_int64((int64_t)st->header_digest_errors));
		json_object_object_add(cap, "data_digest_errors", json_object_new_int64((int64_t)st->data_digest_errors));
		if (st->file_error)
			json_object_object_add(cap, "error", json_object_new_string(st->error));
		json_object_object_add(o, "capture", cap);
	} else {
		json_object_put(cap);
	}
	return o;
}

void mirror_dissect_summary_print(FILE *out, const struct mirror_dissect_summary *s,
				  const struct mirror_dissect_run_stats *st, double link_rate_bps)
{
	static const char *const names[2] = { "small", "large" };

	fprintf(out, "%-6s %7s  %-18s %6s %8s %9s %7s %7s %9s %9s %9s\n", "path", "ops",
		"interrupts/op", "cdb", "metadata", "data", "iscsi", "tcpip", "total", "p50 us", "p99 us");
	for (unsigned i = 0; i < 2; i++) {
		const struct mirror_path_summary *p = &s->path[i];
		char ints[40] = "-";
		if (p->complete)
			snprintf(ints, sizeof(ints), "%u / %.2f / %u", p->interrupts_min,
				 per_op(p->interrupts, p->complete), p->interrupts_max);
		fprintf(out, "%-6s %7llu  %-18s %6.0f %8.0f %9.0f %7.0f %7.0f %9.0f %9.0f %9.0f\n", names[i],
			(unsigned long long)p->ops, ints, per_op(p->bytes.cdb, p->complete),
			per_op(p->bytes.metadata, p->complete), per_op(p->bytes.data, p->complete),
			per_op(p->bytes.transport, p->complete), per_op(p->bytes.tcpip, p->complete),
			per_op(p->bytes.total, p->complete), mirror_path_summary_latency(p, 0.5),
			mirror_path_summary_latency(p, 0.99));
	}
	const struct mirror_path_summary *sm = &s->path[MIRROR_DISSECT_SMALL], *lg = &s->path[MIRROR_DISSECT_LARGE];
	if (sm->complete) {
		double user = per_op(sm->bytes.data, sm->complete), tot = per_op(sm->bytes.total, sm->complete);
		fprintf(out, "small path user-data efficiency: %.1f%%\n", tot > 0 ? 100.0 * user / tot : 0.0);
	}
	if (lg->complete) {
		double user = per_op(lg->bytes.data, lg->complete), tot = per_op(lg->bytes.total, lg->complete);
		fprintf(out, "large path user-data efficiency: %.1f%%\n", tot > 0 ? 100.0 * user / tot : 0.0);
	}
	if (sm->cf_ops)
		fprintf(out, "savings: the %llu small ops saved %.0f interrupts and %.0f bytes against the large path\n",
			(unsigned long long)sm->cf_ops,
			(double)sm->cf_other.interrupts - (double)sm->cf_actual.interrupts,
			(double)sm->cf_other.total - (double)sm->cf_actual.total);
	if (lg->cf_ops)
		fprintf(out, "could save: %llu large ops could have gone small: %.0f interrupts and %.0f bytes\n",
			(unsigned long long)lg->cf_ops,
			(double)lg->cf_actual.interrupts - (double)lg->cf_other.interrupts,
			(double)lg->cf_actual.total - (double)lg->cf_other.total);
	if (link_rate_bps > 0) {
		/* what each path could sustain on a channel of that rate, by
		 * the bytes per operation measured here (source: a 160 Mb/s
		 * disk channel) */
		for (unsigned i = 0; i < 2; i++) {
			const struct mirror_path_summary *p = &s->path[i];
			if (p->complete && p->bytes.total)
				fprintf(out, "at %.0f Mb/s the %s path sustains %.0f ops/s\n", link_rate_bps / 1e6,
					names[i], link_rate_bps / 8.0 / per_op(p->bytes.total, p->complete));
		}
	}
	fprintf(out, "other SCSI commands: %llu\n", (unsigned long long)s->path[MIRROR_DISSECT_OTHER].ops);
	if (st)
		fprintf(out, "capture: %llu packets, %llu iSCSI connections, %llu gaps (%llu bytes), %llu retransmitted bytes, %llu digest errors\n",
			(unsigned long long)st->capture.packets, (unsigned long long)st->streams,
			(unsigned long long)st->tcp.gaps, (unsigned long long)st->tcp.gap_bytes,
			(unsigned long long)st->tcp.retrans_bytes,
			(unsigned long long)(st->header_digest_errors + st->data_digest_errors));
	for (unsigned i = 0; i < s->nfindings; i++)
		fprintf(out, "%s: packet %llu ITT 0x%08x: %s\n", s->finding[i].error ? "error" : "warning",
			(unsigned long long)s->finding[i].packet, (unsigned)s->finding[i].itt, s->finding[i].text);
	if (s->findings_dropped)
		fprintf(out, "(%llu more findings)\n", (unsigned long long)s->findings_dropped);
}

struct json_object *mirror_dissect_op_json(const struct mirror_dissect_op *op)
{
	struct json_object *o = json_object_new_object(), *b = json_object_new_object();

	json_object_object_add(o, "time", json_object_new_double((double)op->time_ns / 1e9));
	json_object_object_add(o, "connection", json_object_new_int64((int64_t)op->conn_id));
	json_object_object_add(o, "itt", json_object_new_int64(op->itt));
	json_object_object_add(o, "packet", json_object_new_int64((int64_t)op->packet));
	json_object_object_add(o, "path", json_object_new_string(mirror_dissect_path_name(op->path)));
	json_object_object_add(o, "opcode", json_object_new_int(op->opcode));
	if (op->fields_valid) {
		json_object_object_add(o, "lba", json_object_new_int64(op->lba));
		json_object_object_add(o, "blocks", json_object_new_int64(op->blocks));
		if (op->path == MIRROR_DISSECT_SMALL)
			json_object_object_add(o, "volume", json_object_new_int(op->volume));
		else
			json_object_object_add(o, "sequence", json_object_new_int64(op->sequence));
		struct json_object *sg = json_object_new_array();
		for (unsigned i = 0; i < op->sg_count; i++) {
			struct json_object *e = json_object_new_object();
			json_object_object_add(e, "nvram_addr", json_object_new_int64(op->sg[i].nvram_addr));
			json_object_object_add(e, "bytes", json_object_new_int64(op->sg[i].bytes));
			json_object_array_add(sg, e);
		}
		json_object_object_add(o, "sg", sg);
	}
	json_object_object_add(o, "interrupts", json_object_new_int(op->complete ? (int)op->cost.interrupts : 0));
	/* which receiver events produced them (wire-profile.md) */
	struct json_object *ev = json_object_new_object();
	json_object_object_add(ev, "command", json_object_new_int((int)op->cost.int_command));
	json_object_object_add(ev, "data_bursts", json_object_new_int((int)op->cost.int_data));
	json_object_object_add(ev, "status", json_object_new_int((int)op->cost.int_status));
	json_object_object_add(ev, "r2t", json_object_new_int((int)op->r2ts));
	json_object_object_add(ev, "immediate_bytes", json_object_new_int64((int64_t)op->immediate_bytes));
	json_object_object_add(o, "interrupt_events", ev);
	json_object_object_add(b, "cdb", json_object_new_int64((int64_t)op->cost.cdb));
	json_object_object_add(b, "metadata", json_object_new_int64((int64_t)op->cost.metadata));
	json_object_object_add(b, "data", json_object_new_int64((int64_t)op->cost.data));
	json_object_object_add(b, "iscsi", json_object_new_int64((int64_t)op->cost.transport));
	json_object_object_add(b, "tcpip", json_object_new_int64((int64_t)op->cost.tcpip));
	json_object_object_add(b, "total", json_object_new_int64((int64_t)op->cost.total));
	json_object_object_add(o, "bytes", b);
	json_object_object_add(o, "latency_us", json_object_new_double((double)op->latency_ns / 1000.0));
	json_object_object_add(o, "status", op->have_status ? json_object_new_int(op->status) : NULL);
	if (op->have_sense) {
		char sense[32];
		snprintf(sense, sizeof(sense), "%X/%02X/%02X", op->sense_key, op->asc, op->ascq);
		json_object_object_add(o, "sense", json_object_new_string(sense));
	}
	json_object_object_add(o, "complete", json_object_new_boolean(op->complete));
	return o;
}

void mirror_dissect_op_print(FILE *out, const struct mirror_dissect_op *op, bool header)
{
	if (header)
		fprintf(out, "%-14s %5s %8s %-5s %4s %10s %6s %4s %6s %8s %8s %8s %7s %-6s\n", "time", "conn",
			"itt", "path", "op", "lba", "blocks", "int", "cdb", "metadata", "data", "total",
			"lat us", "status");
	fprintf(out, "%-14.6f %5llu %08x %-5s 0x%02x %10u %6u %4u %6llu %8llu %8llu %8llu %7.0f %-6s\n",
		(double)op->time_ns / 1e9, (unsigned long long)op->conn_id, (unsigned)op->itt,
		mirror_dissect_path_name(op->path), op->opcode, op->fields_valid ? (unsigned)op->lba : 0u,
		op->fields_valid ? (unsigned)op->blocks : 0u, op->complete ? op->cost.interrupts : 0u,
		(unsigned long long)op->cost.cdb, (unsigned long long)op->cost.metadata,
		(unsigned long long)op->cost.data, (unsigned long long)op->cost.total,
		(double)op->latency_ns / 1000.0,
		!op->have_status ? "-" : op->status == 0 ? "GOOD" : mirror_status_name(op->status));
}
