/* The mirror operations that carried a violated block (man
 * mirror-failover, --capture): a capture of the mirror link decoded by libmirror's
 * dissector, every write operation matched against each finding's LUN and
 * LBA.  The emulated pair mirrors a host write of LUN n, LBA x as volume n,
 * LBA x (app/pair/link.c); the large path's metadata names no volume, so
 * there the LBA alone matches.  A lost block that no operation carried is
 * evidence too: its write was never mirrored. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <mirror/dissect_run.h>

#include "app/failover/run.h"

struct match_ctx {
	struct fo_run_result *r;
	uint64_t ops;
};

static void on_op(void *arg, const struct mirror_dissect_op *op)
{
	struct match_ctx *m = arg;
	struct fo_run_result *r = m->r;

	if (op->path == MIRROR_DISSECT_OTHER || !op->fields_valid)
		return;
	m->ops++;
	for (unsigned i = 0; i < r->last.nfindings; i++) {
		const struct fo_finding *f = &r->last.finding[i];
		struct fo_carriers *c = &r->carriers[i];
		if (f->lba < op->lba || f->lba >= (uint64_t)op->lba + op->blocks ||
		    (op->path == MIRROR_DISSECT_SMALL && op->volume != f->lun))
			continue;
		c->total++;
		if (c->n >= FO_CARRIERS_MAX) {
			/* keep the latest ones: the copies a replay would use */
			memmove(&c->op[0], &c->op[1], (FO_CARRIERS_MAX - 1) * sizeof(c->op[0]));
			c->n--;
		}
		struct fo_carrier *k = &c->op[c->n++];
		k->packet = op->packet;
		k->time_ns = op->time_ns;
		k->small = op->path == MIRROR_DISSECT_SMALL;
		k->opcode = op->opcode;
		k->lba = op->lba;
		k->blocks = op->blocks;
		k->volume = op->volume;
		k->sequence = op->sequence;
		k->have_status = op->have_status;
		k->status = op->status;
		k->complete = op->complete;
	}
}

int fo_carriers_find(const char *capture, struct fo_run_result *r, char *why, size_t why_len)
{
	struct mirror_dissect_run_opts o;
	struct mirror_dissect_run_stats st;
	struct match_ctx m = { r, 0 };

	memset(r->carriers, 0, sizeof(r->carriers));
	r->have_carriers = false;
	if (!r->have_check || !r->last.nfindings)
		return 0;
	memset(&o, 0, sizeof(o));
	o.path = capture;
	/* the pair's mirror ports are neither 3260: the side that sends the
	 * first initiator PDU is the sender (mirror_dissect_run) */
	int rc = mirror_dissect_run(&o, on_op, &m, &st);
	if (rc < 0 && rc != -EIO) {
		snprintf(why, why_len, "--capture %.200s: %s", capture,
			 st.error[0] ? st.error : strerror(-rc));
		return rc;
	}
	r->have_carriers = true;
	r->capture_ops = m.ops;
	/* a truncated capture still matched what it holds: said, not fatal */
	if (rc == -EIO)
		snprintf(r->capture_note, sizeof(r->capture_note), "%.200s", st.error);
	return 0;
}
