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

#include "base/why.h"

/* kinds.<path>.<key> or kinds.<path>.bytes.<key>, into a field. */
static const struct {
	const char *key;
	bool in_bytes;
	size_t offset;
} stats_fields[] = {
	{ "ops", false, offsetof(struct mirror_top_path_counters, ops) },
	{ "errors", false, offsetof(struct mirror_top_path_counters, errors) },
	{ "interrupts", false, offsetof(struct mirror_top_path_counters, interrupts) },
	{ "cdb", true, offsetof(struct mirror_top_path_counters, cdb) },
	{ "metadata", true, offsetof(struct mirror_top_path_counters, metadata) },
	{ "data", true, offsetof(struct mirror_top_path_counters, data) },
	{ "iscsi", true, offsetof(struct mirror_top_path_counters, iscsi) },
	{ "total", true, offsetof(struct mirror_top_path_counters, total) },
};

static int get(struct json_object *o, const char *k, uint64_t *out)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_int))
		return -EINVAL;
	*out = (uint64_t)json_object_get_int64(v);
	return 0;
}

int mirror_top_from_stats(struct json_object *stats, struct mirror_top_counters *c, char *why,
			  size_t why_len)
{
	static const char *const paths[MIRROR_TOP_PATHS] = { "small", "large" };
	struct json_object *kinds, *k, *b, *o;

	memset(c, 0, sizeof(*c));
	if (!stats || !json_object_object_get_ex(stats, "kinds", &kinds))
		return mirror_fail(-EINVAL, why, why_len, "mirror-emu's counters lack kinds");
	for (unsigned p = 0; p < MIRROR_TOP_PATHS; p++) {
		if (!json_object_object_get_ex(kinds, paths[p], &k) ||
		    !json_object_object_get_ex(k, "bytes", &b))
			return mirror_fail(-EINVAL, why, why_len, "mirror-emu's counters lack kinds.%s",
					   paths[p]);
		for (size_t i = 0; i < sizeof(stats_fields) / sizeof(stats_fields[0]); i++) {
			uint64_t *dst = (uint64_t *)((char *)&c->path[p] + stats_fields[i].offset);
			if (get(stats_fields[i].in_bytes ? b : k, stats_fields[i].key, dst) < 0)
				return mirror_fail(-EINVAL, why, why_len,
						   "mirror-emu's counters lack kinds.%s.%s%s", paths[p],
						   stats_fields[i].in_bytes ? "bytes." : "",
						   stats_fields[i].key);
		}
		/* the emulator accounts every op it answered */
		c->path[p].complete = c->path[p].ops;
	}
	if (json_object_object_get_ex(kinds, "other", &k))
		get(k, "ops", &c->other_ops);
	if (json_object_object_get_ex(stats, "sequence", &o)) {
		get(o, "gaps", &c->seq_gaps);
		get(o, "repeats", &c->seq_repeats);
	}
	if (json_object_object_get_ex(stats, "check_conditions", &o)) {
		json_object_object_foreach(o, key, v) {
			if (c->nsense == MIRROR_TOP_SENSE_MAX || !json_object_is_type(v, json_type_int))
				continue;
			snprintf(c->sense[c->nsense].name, sizeof(c->sense[0].name), "%s", key);
			c->sense[c->nsense].n = (uint64_t)json_object_get_int64(v);
			c->nsense++;
		}
	}
	return 0;
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
