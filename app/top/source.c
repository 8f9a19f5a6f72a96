/* mirror-top's sources as counters: mirror-emu's stats answer and a
 * capture's operations (app/top/top.h).  Pure. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include <mirror/sense.h>
#include "app/top/top.h"
#include "iscsi/stats.h"

#include "base/why.h"

void mirror_top_from_stats(const struct mirror_stats *s, struct mirror_top_counters *c)
{
	memset(c, 0, sizeof(*c));
	for (unsigned p = 0; p < MIRROR_TOP_PATHS; p++) {
		const struct mirror_stats_kind *k = &s->kind[mirror_stats_path_kind(p)];
		c->path[p] = (struct mirror_top_path_counters){
			.ops = k->ops, .errors = k->errors,
			/* the emulator accounts every op it answered */
			.complete = k->ops,
			.interrupts = k->interrupts, .cdb = k->cdb, .metadata = k->metadata,
			.data = k->data, .iscsi = k->iscsi, .total = k->total,
		};
	}
	c->other_ops = s->kind[MIRROR_RX_KIND_OTHER].ops;
	c->seq_gaps = s->seq_gaps;
	c->seq_repeats = s->seq_repeats;
	for (unsigned i = 0; i < s->nsense && c->nsense < MIRROR_TOP_SENSE_MAX; i++, c->nsense++) {
		snprintf(c->sense[i].name, sizeof(c->sense[i].name), "%s", s->sense[i].name);
		c->sense[i].n = s->sense[i].n;
	}
}

void mirror_top_capture_init(struct mirror_top_capture *cap, const struct mirror_profile *p)
{
	memset(cap, 0, sizeof(*cap));
	mirror_dissect_summary_init(&cap->sum, p);
}

void mirror_top_capture_add(struct mirror_top_capture *cap, const struct mirror_dissect_op *op)
{
	mirror_dissect_summary_add(&cap->sum, op);
	if (!cap->have_time) {
		cap->first_time_ns = op->time_ns;
		cap->have_time = true;
	}
	if (op->time_ns > cap->last_time_ns)
		cap->last_time_ns = op->time_ns;
	bool failed = op->have_status && op->status != 0;
	if (failed && op->path < MIRROR_TOP_PATHS)
		cap->errors[op->path]++;
	if (!op->have_sense)
		return;
	for (unsigned i = 0; i < cap->nsense; i++)
		if (cap->sense[i].key == op->sense_key && cap->sense[i].asc == op->asc &&
		    cap->sense[i].ascq == op->ascq) {
			cap->sense[i].n++;
			return;
		}
	if (cap->nsense == MIRROR_TOP_SENSE_MAX)
		return;
	cap->sense[cap->nsense].key = op->sense_key;
	cap->sense[cap->nsense].asc = op->asc;
	cap->sense[cap->nsense].ascq = op->ascq;
	cap->sense[cap->nsense].n = 1;
	cap->nsense++;
}

void mirror_top_from_capture(const struct mirror_top_capture *cap, struct mirror_top_counters *c)
{
	const struct mirror_dissect_summary *s = &cap->sum;

	memset(c, 0, sizeof(*c));
	for (unsigned p = 0; p < MIRROR_TOP_PATHS; p++) {
		const struct mirror_path_summary *ps = &s->path[p];
		struct mirror_top_path_counters *pc = &c->path[p];
		pc->ops = ps->ops;
		pc->complete = ps->complete;
		pc->errors = cap->errors[p];
		pc->interrupts = ps->interrupts;
		pc->cdb = ps->bytes.cdb;
		pc->metadata = ps->bytes.metadata;
		pc->data = ps->bytes.data;
		pc->iscsi = ps->bytes.transport;
		pc->tcpip = ps->bytes.tcpip;
		pc->total = ps->bytes.total;
		c->p50_us[p] = mirror_path_summary_latency(ps, 0.5);
		c->p99_us[p] = mirror_path_summary_latency(ps, 0.99);
	}
	c->have_latency = true;
	c->other_ops = s->path[MIRROR_DISSECT_OTHER].ops;
	c->seq_gaps = s->seq_gaps;
	c->seq_repeats = s->seq_repeats;
	for (unsigned i = 0; i < cap->nsense; i++) {
		snprintf(c->sense[i].name, sizeof(c->sense[i].name), "%s %02Xh/%02Xh",
			 mirror_sense_key_name(cap->sense[i].key), cap->sense[i].asc,
			 cap->sense[i].ascq);
		c->sense[i].n = cap->sense[i].n;
	}
	c->nsense = cap->nsense;
	/* what the small ops saved against the large path (as mirror-dissect
	 * prints it) */
	const struct mirror_path_summary *sm = &s->path[MIRROR_DISSECT_SMALL];
	c->have_counterfactual = true;
	c->cf_ops = sm->cf_ops;
	c->cf_interrupts_saved = sm->cf_other.interrupts >= sm->cf_actual.interrupts
					 ? sm->cf_other.interrupts - sm->cf_actual.interrupts : 0;
	c->cf_bytes_saved = sm->cf_other.total >= sm->cf_actual.total
				    ? sm->cf_other.total - sm->cf_actual.total : 0;
	c->findings = s->nfindings + s->findings_dropped;
	unsigned k = s->nfindings < MIRROR_TOP_FINDINGS_MAX ? s->nfindings : MIRROR_TOP_FINDINGS_MAX;
	/* latest first: the last ones the summary kept */
	for (unsigned i = 0; i < k; i++) {
		const struct mirror_summary_finding *f = &s->finding[s->nfindings - 1 - i];
		snprintf(c->latest[i], sizeof(c->latest[i]), "%s: packet %llu ITT 0x%08x: %.150s",
			 f->error ? "error" : "warning", (unsigned long long)f->packet,
			 (unsigned)f->itt, f->text);
	}
	c->nlatest = k;
}
