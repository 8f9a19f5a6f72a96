/* mirror-top's model: readings, rates, the 60-second history, savings and
 * findings (app/top/top.h).  Pure. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <mirror/profile.h>
#include "app/top/top.h"

/* Source Fig. 5: the large path takes the receiver at least 4 interrupts. */
#define LARGE_MIN_INTERRUPTS 4.0

void mirror_top_init(struct mirror_top_model *m)
{
	memset(m, 0, sizeof(*m));
}

void mirror_top_add_finding(struct mirror_top_model *m, const char *text)
{
	/* latest first: shift the others down, the oldest falls off */
	unsigned n = m->nfindings < MIRROR_TOP_FINDINGS_MAX ? m->nfindings
							      : MIRROR_TOP_FINDINGS_MAX - 1;
	memmove(m->findings[1], m->findings[0], n * sizeof(m->findings[0]));
	snprintf(m->findings[0], sizeof(m->findings[0]), "%s", text);
	m->nfindings = n + 1;
	m->findings_seen++;
}

static bool went_back(const struct mirror_top_counters *old, const struct mirror_top_counters *c)
{
	for (unsigned p = 0; p < MIRROR_TOP_PATHS; p++)
		if (c->path[p].ops < old->path[p].ops)
			return true;
	return false;
}

static uint64_t sense_of(const struct mirror_top_counters *c, const char *name)
{
	for (unsigned i = 0; i < c->nsense; i++)
		if (strcmp(c->sense[i].name, name) == 0)
			return c->sense[i].n;
	return 0;
}

/* What changed between two readings that deserves a line of its own. */
static void notice(struct mirror_top_model *m, const struct mirror_top_counters *old,
		   const struct mirror_top_counters *c)
{
	char t[200];

	/* the source's own findings, oldest of the new ones first */
	if (c->findings > old->findings) {
		uint64_t fresh = c->findings - old->findings;
		unsigned k = fresh < c->nlatest ? (unsigned)fresh : c->nlatest;
		while (k--)
			mirror_top_add_finding(m, c->latest[k]);
	}
	if (c->seq_gaps > old->seq_gaps) {
		snprintf(t, sizeof(t), "error: %llu new sequence gap%s in the metadata messages",
			 (unsigned long long)(c->seq_gaps - old->seq_gaps),
			 c->seq_gaps - old->seq_gaps == 1 ? "" : "s");
		mirror_top_add_finding(m, t);
	}
	if (c->seq_repeats > old->seq_repeats) {
		snprintf(t, sizeof(t), "warning: %llu repeated sequence number%s",
			 (unsigned long long)(c->seq_repeats - old->seq_repeats),
			 c->seq_repeats - old->seq_repeats == 1 ? "" : "s");
		mirror_top_add_finding(m, t);
	}
	for (unsigned i = 0; i < c->nsense; i++) {
		uint64_t before = sense_of(old, c->sense[i].name);
		if (c->sense[i].n > before) {
			snprintf(t, sizeof(t), "error: %llu CHECK CONDITION %s",
				 (unsigned long long)(c->sense[i].n - before), c->sense[i].name);
			mirror_top_add_finding(m, t);
		}
	}
}

static double per_sec(uint64_t now, uint64_t then, uint64_t ms)
{
	return ms && now >= then ? (double)(now - then) * 1000.0 / (double)ms : 0.0;
}

static void push_history(struct mirror_top_model *m, uint64_t now_ms,
			 const struct mirror_top_counters *c)
{
	uint64_t ms = now_ms - m->hist_last_ms;
	struct mirror_top_sample *s = &m->hist[m->hist_head];

	for (unsigned p = 0; p < MIRROR_TOP_PATHS; p++) {
		s->ops_s[p] = per_sec(c->path[p].ops, m->hist_last.path[p].ops, ms);
		s->mb_s[p] = per_sec(c->path[p].data, m->hist_last.path[p].data, ms) / 1e6;
	}
	m->hist_head = (m->hist_head + 1) % MIRROR_TOP_HISTORY;
	if (m->hist_n < MIRROR_TOP_HISTORY)
		m->hist_n++;
	m->hist_last = *c;
	m->hist_last_ms = now_ms;
}

void mirror_top_update(struct mirror_top_model *m, uint64_t now_ms,
		       const struct mirror_top_counters *c)
{
	if (m->readings && (went_back(&m->cur, c) || now_ms < m->cur_ms)) {
		/* the source started over (an emulator restarted) */
		enum mirror_top_view v = m->view;
		enum mirror_top_sort so = m->sort;
		mirror_top_init(m);
		m->view = v;
		m->sort = so;
		mirror_top_add_finding(m, "note: the counters went back: the source restarted");
	}
	if (!m->readings) {
		m->start_ms = now_ms;
		m->prev = *c;
		m->prev_ms = now_ms;
		m->hist_last = *c;
		m->hist_last_ms = now_ms;
		/* the source's findings so far are news too */
		struct mirror_top_counters zero;
		memset(&zero, 0, sizeof(zero));
		notice(m, &zero, c);
	} else {
		m->prev = m->cur;
		m->prev_ms = m->cur_ms;
		notice(m, &m->cur, c);
	}
	m->cur = *c;
	m->cur_ms = now_ms;
	m->readings++;
	if (now_ms - m->hist_last_ms >= 1000u)
		push_history(m, now_ms, c);
}

void mirror_top_reset(struct mirror_top_model *m)
{
	m->base = m->cur;
	m->prev = m->cur;
	m->prev_ms = m->cur_ms;
	m->start_ms = m->cur_ms;
	m->hist_n = 0;
	m->hist_head = 0;
	m->hist_last = m->cur;
	m->hist_last_ms = m->cur_ms;
	m->nfindings = 0;
	m->findings_seen = 0;
}

static uint64_t minus(uint64_t a, uint64_t b)
{
	return a >= b ? a - b : 0;
}

static double per(uint64_t n, uint64_t d)
{
	return d ? (double)n / (double)d : 0.0;
}

void mirror_top_row(const struct mirror_top_model *m, unsigned path, struct mirror_top_row *r)
{
	const struct mirror_top_path_counters *c = &m->cur.path[path], *b = &m->base.path[path],
					      *pv = &m->prev.path[path];
	uint64_t ms = m->cur_ms - m->prev_ms;
	uint64_t done = minus(c->complete, b->complete);

	memset(r, 0, sizeof(*r));
	r->ops = minus(c->ops, b->ops);
	r->errors = minus(c->errors, b->errors);
	r->ops_s = per_sec(c->ops, pv->ops, ms);
	r->mb_s = per_sec(c->data, pv->data, ms) / 1e6;
	r->interrupts_per_op = per(minus(c->interrupts, b->interrupts), done);
	r->cdb = per(minus(c->cdb, b->cdb), done);
	r->metadata = per(minus(c->metadata, b->metadata), done);
	r->data = per(minus(c->data, b->data), done);
	r->iscsi = per(minus(c->iscsi, b->iscsi), done);
	r->tcpip = per(minus(c->tcpip, b->tcpip), done);
	r->total = per(minus(c->total, b->total), done);
	r->p50_us = m->cur.have_latency ? m->cur.p50_us[path] : -1.0;
	r->p99_us = m->cur.have_latency ? m->cur.p99_us[path] : -1.0;
}

bool mirror_top_savings(const struct mirror_top_model *m, struct mirror_top_savings *s)
{
	memset(s, 0, sizeof(*s));
	if (m->cur.have_counterfactual) {
		s->small_ops = minus(m->cur.cf_ops, m->base.cf_ops);
		s->interrupts = (double)minus(m->cur.cf_interrupts_saved, m->base.cf_interrupts_saved);
		s->bytes = (double)minus(m->cur.cf_bytes_saved, m->base.cf_bytes_saved);
	} else {
		/* the floor of what the large path costs a write of any size
		 * (Fig. 5: at least 4 interrupts; the metadata message and the
		 * notification CDB), against what the small ops cost */
		struct mirror_top_row sm;
		mirror_top_row(m, 0, &sm);
		if (!sm.ops)
			return false;
		double ints = LARGE_MIN_INTERRUPTS - sm.interrupts_per_op;
		s->small_ops = sm.ops;
		s->lower_bound = true;
		s->interrupts = (ints > 0 ? ints : 0) * (double)sm.ops;
		s->bytes = ((double)MIRROR_METADATA_BYTES + MIRROR_NOTIFY_CDB_LEN - sm.cdb) *
			   (double)sm.ops;
	}
	if (!s->small_ops)
		return false;
	s->interrupts_per_op = s->interrupts / (double)s->small_ops;
	s->bytes_per_op = s->bytes / (double)s->small_ops;
	return true;
}

double mirror_top_sparkline(const struct mirror_top_model *m, unsigned path, unsigned metric,
			    unsigned width, bool ascii, char *out, size_t cap)
{
	static const char *const blocks[] = { " ", "\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83",
					      "\xe2\x96\x84", "\xe2\x96\x85", "\xe2\x96\x86",
					      "\xe2\x96\x87", "\xe2\x96\x88" };
	static const char ascii_levels[] = " .:-=+*#@";
	unsigned n = m->hist_n < width ? m->hist_n : width;
	double v[MIRROR_TOP_HISTORY], max = 0;
	size_t at = 0;

	if (!cap)
		return 0;
	out[0] = '\0';
	/* the latest n samples, oldest first */
	for (unsigned i = 0; i < n; i++) {
		unsigned idx = (m->hist_head + MIRROR_TOP_HISTORY - n + i) % MIRROR_TOP_HISTORY;
		const struct mirror_top_sample *s = &m->hist[idx];
		v[i] = metric ? s->mb_s[path] : s->ops_s[path];
		if (v[i] > max)
			max = v[i];
	}
	/* pad on the left so that the latest is at the right edge */
	for (unsigned i = n; i < width && at + 1 < cap; i++)
		out[at++] = ' ';
	for (unsigned i = 0; i < n; i++) {
		unsigned level = 0;
		if (v[i] > 0 && max > 0) {
			level = (unsigned)(v[i] / max * 8.0 + 0.999);
			if (level < 1)
				level = 1;
			if (level > 8)
				level = 8;
		}
		const char *g = blocks[level];
		char a[2] = { ascii_levels[level], '\0' };
		if (ascii)
			g = a;
		size_t len = strlen(g);
		if (at + len >= cap)
			break;
		memcpy(out + at, g, len);
		at += len;
	}
	out[at] = '\0';
	return max;
}
