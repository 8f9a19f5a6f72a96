/* The checker (failover.h): each block read back against the writes the
 * history says went to it. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/failover/failover.h"

struct fo_block_state {
	uint64_t last_ack_id;   /* 0: nothing acknowledged */
	uint64_t last_ack_gen;
	uint64_t gens;          /* writes invoked to it */
	bool written, checked;
};

static const char *const verdict_names[FO_V_COUNT_] = {
	[FO_V_OK] = "ok",
	[FO_V_UNACKED] = "unacknowledged",
	[FO_V_INDET_PRESENT] = "indeterminate-present",
	[FO_V_INDET_LATE] = "indeterminate-late",
	[FO_V_LOST] = "lost",
	[FO_V_STALE] = "stale",
	[FO_V_TORN] = "torn",
	[FO_V_MISDIRECTED] = "misdirected",
	[FO_V_PHANTOM] = "phantom",
};

const char *fo_verdict_name(enum fo_verdict v)
{
	return (unsigned)v < FO_V_COUNT_ ? verdict_names[v] : "invalid";
}

static struct fo_block_state *state_of(const struct fo_checker *c, uint32_t lun, uint64_t lba)
{
	if (lun >= c->h->luns || lba >= c->h->blocks)
		return NULL;
	return &c->b[(uint64_t)lun * c->h->blocks + lba];
}

int fo_checker_init(struct fo_checker *c, const struct fo_history *h, char *why, size_t why_len)
{
	memset(c, 0, sizeof(*c));
	c->h = h;
	c->b = calloc((size_t)h->luns * h->blocks, sizeof(*c->b));
	if (!c->b) {
		snprintf(why, why_len, "out of memory for %u x %" PRIu64 " blocks", h->luns, h->blocks);
		return -ENOMEM;
	}
	/* ids ascend, and the workload never overlaps two writes of a block:
	 * the last acknowledged one in id order is the one a block must hold */
	for (size_t i = 0; i < h->n; i++) {
		const struct fo_write *w = &h->w[i];
		switch (w->status) {
		case FO_OK:
			c->acked_writes++;
			break;
		case FO_FAIL:
			c->failed_writes++;
			break;
		case FO_INVOKED:
		case FO_INDETERMINATE:
			c->indeterminate_writes++;
			break;
		}
		for (uint32_t k = 0; k < w->blocks; k++) {
			struct fo_block_state *b = state_of(c, w->lun, w->lba + k);
			if (!b)
				continue; /* the parser admits none */
			b->gens++;
			if (!b->written) {
				b->written = true;
				c->blocks_written++;
			}
			if (w->status == FO_OK) {
				b->last_ack_id = w->id;
				b->last_ack_gen = b->gens;
			}
		}
	}
	return 0;
}

void fo_checker_free(struct fo_checker *c)
{
	free(c->b);
	c->b = NULL;
}

bool fo_checker_written(const struct fo_checker *c, uint32_t lun, uint64_t lba)
{
	const struct fo_block_state *b = state_of(c, lun, lba);

	return b && b->written;
}

static bool covers(const struct fo_write *w, uint32_t lun, uint64_t lba)
{
	return w->lun == lun && lba >= w->lba && lba < w->lba + w->blocks;
}

static enum fo_verdict classify(const struct fo_checker *c, const struct fo_block_state *b,
				uint32_t lun, uint64_t lba, const uint8_t *blk, struct fo_finding *f)
{
	const struct fo_history *h = c->h;
	struct fo_stamp s;
	char why[80] = "";

	switch (fo_stamp_read(blk, &s, why, sizeof(why))) {
	case FO_STAMP_ZERO:
		snprintf(f->detail, sizeof(f->detail), "zeros");
		f->never_written = true;
		return b->last_ack_id ? FO_V_LOST : FO_V_UNACKED;
	case FO_STAMP_CORRUPT:
		snprintf(f->detail, sizeof(f->detail), "%s", why);
		return FO_V_TORN;
	case FO_STAMP_VALID:
		break;
	}
	f->seen_id = s.id;
	f->seen_gen = s.gen;
	if (s.run != h->run) {
		/* another run's data: none of ours ever reached the block */
		snprintf(f->detail, sizeof(f->detail), "a stamp of run %016" PRIx64, s.run);
		f->never_written = true;
		return b->last_ack_id ? FO_V_LOST : FO_V_UNACKED;
	}
	if (s.lun != lun || s.lba != lba) {
		snprintf(f->detail, sizeof(f->detail), "the stamp of LUN %u LBA %" PRIu64, s.lun, s.lba);
		return FO_V_MISDIRECTED;
	}
	if (s.id == 0 || s.id > h->n || !covers(&h->w[s.id - 1], lun, lba)) {
		snprintf(f->detail, sizeof(f->detail), "write %" PRIu64 " never went to this block",
			 s.id);
		return FO_V_MISDIRECTED;
	}
	const struct fo_write *w = &h->w[s.id - 1];
	if (s.id == b->last_ack_id) {
		if (s.gen != b->last_ack_gen) {
			snprintf(f->detail, sizeof(f->detail),
				 "write %" PRIu64 " with generation %" PRIu64 ", not %" PRIu64, s.id,
				 s.gen, b->last_ack_gen);
			return FO_V_TORN;
		}
		return FO_V_OK;
	}
	if (w->status == FO_FAIL) {
		snprintf(f->detail, sizeof(f->detail), "write %" PRIu64 " failed (%s) yet is there",
			 s.id, w->detail);
		return FO_V_PHANTOM;
	}
	if (s.id > b->last_ack_id)
		return b->last_ack_id ? FO_V_INDET_PRESENT : FO_V_UNACKED; /* unknown outcome */
	if (w->status == FO_OK) {
		snprintf(f->detail, sizeof(f->detail),
			 "acknowledged write %" PRIu64 " over the newer acknowledged %" PRIu64, s.id,
			 b->last_ack_id);
		return FO_V_STALE;
	}
	/* an older write whose outcome was never known: Jepsen's rule lets
	 * it take effect at any time after its invoke */
	return FO_V_INDET_LATE;
}

enum fo_verdict fo_checker_block(struct fo_checker *c, uint32_t lun, uint64_t lba,
				 const uint8_t blk[FO_BLOCK], struct fo_finding *out)
{
	struct fo_block_state *b = state_of(c, lun, lba);
	struct fo_finding f;
	enum fo_verdict v;

	memset(&f, 0, sizeof(f));
	f.lun = lun;
	f.lba = lba;
	if (!b) {
		f.v = FO_V_MISDIRECTED;
		snprintf(f.detail, sizeof(f.detail), "outside the history's LUNs and blocks");
		v = FO_V_MISDIRECTED;
	} else {
		f.expect_id = b->last_ack_id;
		f.expect_gen = b->last_ack_gen;
		v = classify(c, b, lun, lba, blk, &f);
		if (!b->checked) {
			b->checked = true;
			c->blocks_checked++;
		}
	}
	f.v = v;
	c->counts[v]++;
	if (v == FO_V_LOST && f.never_written)
		c->never_written++;
	if (v >= FO_V_FIRST_VIOLATION) {
		c->violations++;
		if (c->nfindings < sizeof(c->finding) / sizeof(c->finding[0]))
			c->finding[c->nfindings++] = f;
	}
	if (out)
		*out = f;
	return v;
}

void fo_checker_finish(struct fo_checker *c)
{
	c->acked_writes_checked = 0;
	for (size_t i = 0; i < c->h->n; i++) {
		const struct fo_write *w = &c->h->w[i];
		bool all = true;
		if (w->status != FO_OK)
			continue;
		for (uint32_t k = 0; k < w->blocks && all; k++) {
			const struct fo_block_state *b = state_of(c, w->lun, w->lba + k);
			all = b && b->checked;
		}
		c->acked_writes_checked += all;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double fo_percentile(double *v, size_t n, double p)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	/* nearest rank */
	size_t r = (size_t)(p / 100.0 * (double)n + 0.999999);
	if (r < 1)
		r = 1;
	if (r > n)
		r = n;
	return v[r - 1];
}
