/* mirror-failover's output: a text summary, JSON (the keys man
 * mirror-failover documents) and JUnit XML with one test case per trial. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "app/failover/run.h"

/* p50, p99 and max of the trials' values that are >= 0 (a trial without
 * one says -1); the count in *n. */
static void percentiles(const struct fo_run_result *r, size_t field, double out[3], unsigned *n)
{
	double *v = calloc(r->n ? r->n : 1, sizeof(*v));

	*n = 0;
	out[0] = out[1] = out[2] = 0;
	if (!v)
		return;
	for (unsigned i = 0; i < r->n; i++) {
		double x;
		memcpy(&x, (const char *)&r->t[i] + field, sizeof(x));
		if (x >= 0)
			v[(*n)++] = x;
	}
	out[0] = fo_percentile(v, *n, 50);
	out[1] = fo_percentile(v, *n, 99);
	out[2] = fo_percentile(v, *n, 100);
	free(v);
}

/* the phases, in the order the survivor goes through them (Fig. 1's
 * promise kept: found dead, fenced, its writes replayed, serving) */
static const struct {
	const char *name;
	size_t field;
} phase_fields[4] = {
	{ "detected", offsetof(struct fo_trial_result, phases.detected_ms) },
	{ "fenced", offsetof(struct fo_trial_result, phases.fenced_ms) },
	{ "replayed", offsetof(struct fo_trial_result, phases.replayed_ms) },
	{ "active", offsetof(struct fo_trial_result, phases.active_ms) },
};

void fo_summarize(const struct fo_run_result *r, struct fo_summary *s)
{
	double p[3];

	memset(s, 0, sizeof(*s));
	s->trials = r->n;
	for (unsigned i = 0; i < r->n; i++) {
		const struct fo_trial_result *t = &r->t[i];
		s->acked += t->acked;
		s->indeterminate += t->indeterminate;
		s->failed += t->failed;
	}
	percentiles(r, offsetof(struct fo_trial_result, takeover_ms), p, &s->takeovers);
	s->takeover_p50 = p[0], s->takeover_p99 = p[1], s->takeover_max = p[2];
	percentiles(r, offsetof(struct fo_trial_result, stall_ms), p, &s->stalls);
	s->stall_p50 = p[0], s->stall_p99 = p[1], s->stall_max = p[2];
	/* only trials whose survivor reported the phases (the rest say -1
	 * through a copy) */
	struct fo_run_result only = *r;
	struct fo_trial_result *had = calloc(r->n ? r->n : 1, sizeof(*had));
	if (had) {
		for (unsigned i = 0; i < r->n; i++) {
			had[i] = r->t[i];
			if (!had[i].phases.have)
				had[i].phases.detected_ms = had[i].phases.fenced_ms =
					had[i].phases.replayed_ms = had[i].phases.active_ms = -1;
		}
		only.t = had;
		for (unsigned k = 0; k < 4; k++)
			percentiles(&only, phase_fields[k].field, s->phase[k], &s->phased);
		free(had);
	}
	/* violations and classes: the last check saw every block ever written */
	if (r->have_check) {
		memcpy(s->counts, r->last.counts, sizeof(s->counts));
		s->violations = r->last.violations;
		s->never_written = r->last.never_written;
		s->checked_pct = r->last.acked_writes
					 ? 100.0 * (double)r->last.acked_writes_checked /
						   (double)r->last.acked_writes
					 : 100.0;
	}
}

static const struct fo_write *write_of(const struct fo_run_result *r, uint64_t id)
{
	return id && id <= r->hist.n ? &r->hist.w[id - 1] : NULL;
}

static const char *status_name(enum fo_status s)
{
	static const char *const names[] = { "invoked", "ok", "fail", "indeterminate" };

	return (unsigned)s < 4 ? names[s] : "?";
}

void fo_write_timeline(const struct fo_run_result *r, uint64_t id, char *buf, size_t len)
{
	const struct fo_write *w = write_of(r, id);

	if (!w) {
		snprintf(buf, len, "none");
		return;
	}
	snprintf(buf, len, "write %" PRIu64 " (trial %u, path %u, invoked at %" PRIu64 " us, %s",
		 id, w->trial, w->path, w->t_invoke_us, status_name(w->status));
	size_t n = strlen(buf);
	if (w->status != FO_INVOKED && n < len)
		snprintf(buf + n, len - n, " after %.1f ms%s%s",
			 (double)(w->t_done_us - w->t_invoke_us) / 1000.0, w->detail[0] ? " " : "",
			 w->detail);
	n = strlen(buf);
	if (n < len)
		snprintf(buf + n, len - n, ")");
}

void fo_carrier_text(const struct fo_carrier *k, char *buf, size_t len)
{
	char who[32], st[32];

	if (k->small)
		snprintf(who, sizeof(who), "volume %u", k->volume);
	else
		snprintf(who, sizeof(who), "sequence %u", k->sequence);
	if (k->have_status)
		snprintf(st, sizeof(st), "%s", k->status == 0 ? "GOOD" : k->status == 2 ? "CHECK CONDITION"
									      : "status");
	else
		snprintf(st, sizeof(st), "no status in the capture");
	snprintf(buf, len, "packet %" PRIu64 " at %.6f s: %s 0x%02x %s LBA %u+%u, %s%s", k->packet,
		 (double)k->time_ns / 1e9, k->small ? "small" : "large", k->opcode, who, k->lba,
		 k->blocks, st, k->complete ? "" : " (incomplete)");
}

static struct json_object *carrier_json(const struct fo_carrier *k)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "packet", json_object_new_int64((int64_t)k->packet));
	json_object_object_add(o, "time_s", json_object_new_double((double)k->time_ns / 1e9));
	json_object_object_add(o, "path", json_object_new_string(k->small ? "small" : "large"));
	json_object_object_add(o, "opcode", json_object_new_int(k->opcode));
	json_object_object_add(o, "lba", json_object_new_int64(k->lba));
	json_object_object_add(o, "blocks", json_object_new_int64(k->blocks));
	if (k->small)
		json_object_object_add(o, "volume", json_object_new_int(k->volume));
	else
		json_object_object_add(o, "sequence", json_object_new_int64(k->sequence));
	json_object_object_add(o, "status", k->have_status ? json_object_new_int(k->status) : NULL);
	json_object_object_add(o, "complete", json_object_new_boolean(k->complete));
	return o;
}

void fo_report_text(FILE *f, const struct fo_run_result *r)
{
	struct fo_summary s;
	char a[192], b[192];

	fo_summarize(r, &s);
	for (unsigned i = 0; i < r->n; i++) {
		const struct fo_trial_result *t = &r->t[i];
		fprintf(f, "trial %u: %s: %s; %" PRIu64 " writes acked, %" PRIu64 " failed, %" PRIu64
			   " indeterminate; ",
			t->trial, t->violations ? "FAIL" : "pass", t->fault[0] ? t->fault : "no fault",
			t->acked, t->failed, t->indeterminate);
		if (t->violations)
			fprintf(f, "lost %" PRIu64 ", stale %" PRIu64 ", torn %" PRIu64
				   ", misdirected %" PRIu64 ", phantom %" PRIu64 "; ",
				t->counts[FO_V_LOST], t->counts[FO_V_STALE], t->counts[FO_V_TORN],
				t->counts[FO_V_MISDIRECTED], t->counts[FO_V_PHANTOM]);
		if (t->takeover_ms >= 0)
			fprintf(f, "takeover %.1f ms, stall %.1f ms", t->takeover_ms, t->stall_ms);
		else
			fprintf(f, "no takeover measured");
		if (t->phases.have)
			fprintf(f, " (%c: detected %.0f, fenced %.0f, replayed %.0f, active %.0f ms)",
				t->phases.by, t->phases.detected_ms, t->phases.fenced_ms,
				t->phases.replayed_ms, t->phases.active_ms);
		fprintf(f, "%s%s\n", t->note[0] ? "; " : "", t->note);
	}
	fprintf(f, "%u trial%s, %" PRIu64 " acknowledged writes (%.1f%% checked), %" PRIu64
		   " indeterminate, %" PRIu64 " failed; blocks: %" PRIu64 " hold their last ack, %"
		   PRIu64 " a write of unknown outcome, %" PRIu64 " nothing acknowledged\n",
		s.trials, s.trials == 1 ? "" : "s", s.acked, s.checked_pct, s.indeterminate, s.failed,
		s.counts[FO_V_OK], s.counts[FO_V_INDET_PRESENT] + s.counts[FO_V_INDET_LATE],
		s.counts[FO_V_UNACKED]);
	fprintf(f, "violations: %" PRIu64 " (lost %" PRIu64 ", stale %" PRIu64 ", torn %" PRIu64
		   ", misdirected %" PRIu64 ", phantom %" PRIu64 ")\n",
		s.violations, s.counts[FO_V_LOST], s.counts[FO_V_STALE], s.counts[FO_V_TORN],
		s.counts[FO_V_MISDIRECTED], s.counts[FO_V_PHANTOM]);
	if (s.takeovers)
		fprintf(f, "takeover (the fault to the first write acknowledged after it, ms): "
			   "p50 %.1f, p99 %.1f, max %.1f over %u\n",
			s.takeover_p50, s.takeover_p99, s.takeover_max, s.takeovers);
	if (s.stalls)
		fprintf(f, "host stall (the last acknowledgement before the fault to the first after, "
			   "ms): p50 %.1f, p99 %.1f, max %.1f over %u\n",
			s.stall_p50, s.stall_p99, s.stall_max, s.stalls);
	if (s.phased)
		fprintf(f, "survivor's phases (ms from the fault, p50 / p99 / max over %u): "
			   "detected %.0f / %.0f / %.0f, fenced %.0f / %.0f / %.0f, replayed %.0f / %.0f "
			   "/ %.0f, active %.0f / %.0f / %.0f\n",
			s.phased, s.phase[0][0], s.phase[0][1], s.phase[0][2], s.phase[1][0],
			s.phase[1][1], s.phase[1][2], s.phase[2][0], s.phase[2][1], s.phase[2][2],
			s.phase[3][0], s.phase[3][1], s.phase[3][2]);
	for (unsigned i = 0; r->have_check && i < r->last.nfindings; i++) {
		const struct fo_finding *x = &r->last.finding[i];
		fo_write_timeline(r, x->expect_id, a, sizeof(a));
		fo_write_timeline(r, x->seen_id, b, sizeof(b));
		fprintf(f, "VIOLATION %s: LUN %u LBA %" PRIu64 ": expected generation %" PRIu64
			   ", saw generation %" PRIu64 " (%s)\n  expected: %s\n  seen: %s\n",
			fo_verdict_name(x->v), x->lun, x->lba, x->expect_gen, x->seen_gen, x->detail, a,
			b);
		if (!r->have_carriers)
			continue;
		const struct fo_carriers *c = &r->carriers[i];
		if (!c->total)
			fprintf(f, "  mirrored: no operation of the capture carried it\n");
		else
			fprintf(f, "  mirrored: %" PRIu64 " operation%s of the capture carried it; the "
				   "latest:\n", c->total, c->total == 1 ? "" : "s");
		for (unsigned k = 0; k < c->n; k++) {
			fo_carrier_text(&c->op[k], a, sizeof(a));
			fprintf(f, "    %s\n", a);
		}
	}
	if (r->have_carriers)
		fprintf(f, "capture: %" PRIu64 " mirror write operations matched against the violations%s%s\n",
			r->capture_ops, r->capture_note[0] ? "; it ended early: " : "", r->capture_note);
	if (r->have_check && r->last.violations > r->last.nfindings)
		fprintf(f, "(%" PRIu64 " more violations not shown)\n",
			r->last.violations - r->last.nfindings);
	fprintf(f, "verdict: %s\n", s.violations ? "fail" : "pass");
}

static struct json_object *pcts(double p50, double p99, double max)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "p50", json_object_new_double(p50));
	json_object_object_add(o, "p99", json_object_new_double(p99));
	json_object_object_add(o, "max", json_object_new_double(max));
	return o;
}

static struct json_object *u64(uint64_t v)
{
	return json_object_new_int64((int64_t)v);
}

int fo_report_json(FILE *f, const struct fo_run_result *r)
{
	struct fo_summary s;
	struct json_object *o = json_object_new_object(), *tr = json_object_new_array();
	struct json_object *vs = json_object_new_array();
	char a[192];

	fo_summarize(r, &s);
	json_object_object_add(o, "trials", json_object_new_int64(s.trials));
	json_object_object_add(o, "acked_writes", u64(s.acked));
	json_object_object_add(o, "acked_lost", u64(s.counts[FO_V_LOST]));
	json_object_object_add(o, "stale", u64(s.counts[FO_V_STALE]));
	json_object_object_add(o, "torn", u64(s.counts[FO_V_TORN]));
	json_object_object_add(o, "misdirected", u64(s.counts[FO_V_MISDIRECTED]));
	json_object_object_add(o, "phantom", u64(s.counts[FO_V_PHANTOM]));
	json_object_object_add(o, "never_written", u64(s.never_written));
	json_object_object_add(o, "indeterminate", u64(s.indeterminate));
	json_object_object_add(o, "indeterminate_present",
			       u64(s.counts[FO_V_INDET_PRESENT] + s.counts[FO_V_INDET_LATE]));
	json_object_object_add(o, "failed", u64(s.failed));
	json_object_object_add(o, "violations_total", u64(s.violations));
	json_object_object_add(o, "checked_pct", json_object_new_double(s.checked_pct));
	json_object_object_add(o, "takeover_ms", pcts(s.takeover_p50, s.takeover_p99, s.takeover_max));
	json_object_object_add(o, "stall_ms", pcts(s.stall_p50, s.stall_p99, s.stall_max));
	if (s.phased) {
		struct json_object *ph = json_object_new_object();
		for (unsigned k = 0; k < 4; k++)
			json_object_object_add(ph, phase_fields[k].name,
					       pcts(s.phase[k][0], s.phase[k][1], s.phase[k][2]));
		json_object_object_add(o, "takeover_phases_ms", ph);
	}
	json_object_object_add(o, "verdict", json_object_new_string(s.violations ? "fail" : "pass"));
	for (unsigned i = 0; i < r->n; i++) {
		const struct fo_trial_result *t = &r->t[i];
		struct json_object *x = json_object_new_object();
		json_object_object_add(x, "trial", json_object_new_int64(t->trial));
		json_object_object_add(x, "fault", json_object_new_string(t->fault));
		json_object_object_add(x, "invoked", u64(t->invoked));
		json_object_object_add(x, "acked", u64(t->acked));
		json_object_object_add(x, "failed", u64(t->failed));
		json_object_object_add(x, "indeterminate", u64(t->indeterminate));
		json_object_object_add(x, "violations", u64(t->violations));
		json_object_object_add(x, "lost", u64(t->counts[FO_V_LOST]));
		json_object_object_add(x, "stale", u64(t->counts[FO_V_STALE]));
		json_object_object_add(x, "torn", u64(t->counts[FO_V_TORN]));
		json_object_object_add(x, "misdirected", u64(t->counts[FO_V_MISDIRECTED]));
		json_object_object_add(x, "phantom", u64(t->counts[FO_V_PHANTOM]));
		json_object_object_add(x, "takeover_ms", t->takeover_ms >= 0
								 ? json_object_new_double(t->takeover_ms)
								 : NULL);
		json_object_object_add(x, "stall_ms", t->stall_ms >= 0 ? json_object_new_double(t->stall_ms)
								     : NULL);
		if (t->phases.have) {
			struct json_object *ph = json_object_new_object();
			char by[2] = { t->phases.by, 0 };
			json_object_object_add(ph, "by", json_object_new_string(by));
			for (unsigned k = 0; k < 4; k++) {
				double v;
				memcpy(&v, (const char *)t + phase_fields[k].field, sizeof(v));
				json_object_object_add(ph, phase_fields[k].name, json_object_new_double(v));
			}
			json_object_object_add(ph, "replayed_blocks", u64(t->phases.replayed_blocks));
			json_object_object_add(ph, "fencing", json_object_new_string(t->phases.fencing));
			json_object_object_add(x, "takeover_phases_ms", ph);
		}
		if (t->note[0])
			json_object_object_add(x, "note", json_object_new_string(t->note));
		json_object_array_add(tr, x);
	}
	json_object_object_add(o, "trial_results", tr);
	for (unsigned i = 0; r->have_check && i < r->last.nfindings; i++) {
		const struct fo_finding *x = &r->last.finding[i];
		struct json_object *v = json_object_new_object();
		json_object_object_add(v, "class", json_object_new_string(fo_verdict_name(x->v)));
		json_object_object_add(v, "lun", json_object_new_int64(x->lun));
		json_object_object_add(v, "lba", u64(x->lba));
		json_object_object_add(v, "expected_write", u64(x->expect_id));
		json_object_object_add(v, "expected_gen", u64(x->expect_gen));
		json_object_object_add(v, "seen_write", u64(x->seen_id));
		json_object_object_add(v, "seen_gen", u64(x->seen_gen));
		json_object_object_add(v, "detail", json_object_new_string(x->detail));
		fo_write_timeline(r, x->expect_id, a, sizeof(a));
		json_object_object_add(v, "expected_timeline", json_object_new_string(a));
		fo_write_timeline(r, x->seen_id, a, sizeof(a));
		json_object_object_add(v, "seen_timeline", json_object_new_string(a));
		if (r->have_carriers) {
			const struct fo_carriers *c = &r->carriers[i];
			struct json_object *m = json_object_new_object(), *l = json_object_new_array();
			json_object_object_add(m, "total", u64(c->total));
			for (unsigned k = 0; k < c->n; k++)
				json_object_array_add(l, carrier_json(&c->op[k]));
			json_object_object_add(m, "latest", l);
			json_object_object_add(v, "mirror_ops", m);
		}
		json_object_array_add(vs, v);
	}
	json_object_object_add(o, "violations", vs);
	int rc = fprintf(f, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
								     JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return rc < 0 ? -EIO : 0;
}

static void xml_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f); break;
		}
	}
}

int fo_report_junit(const char *path, const struct fo_run_result *r, char *why, size_t why_len)
{
	FILE *f = fopen(path, "w");
	unsigned failures = 0;

	if (!f) {
		int e = errno;
		snprintf(why, why_len, "--junit %s: %s", path, strerror(e));
		return -e;
	}
	for (unsigned i = 0; i < r->n; i++)
		failures += r->t[i].violations > 0 || r->t[i].aborted;
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		   "<testsuite name=\"mirror-failover\" tests=\"%u\" failures=\"%u\">\n",
		r->n, failures);
	for (unsigned i = 0; i < r->n; i++) {
		const struct fo_trial_result *t = &r->t[i];
		fprintf(f, "  <testcase classname=\"mirror-failover\" name=\"trial %u: ", t->trial);
		xml_escape(f, t->fault[0] ? t->fault : "no fault");
		fprintf(f, "\" time=\"%.3f\">", t->takeover_ms > 0 ? t->takeover_ms / 1000.0 : 0.0);
		if (t->violations || t->aborted) {
			fprintf(f, "<failure message=\"");
			if (t->aborted)
				xml_escape(f, t->note);
			else
				fprintf(f, "%" PRIu64 " violations (lost %" PRIu64 ", stale %" PRIu64
					   ", torn %" PRIu64 ", misdirected %" PRIu64 ", phantom %" PRIu64 ")",
					t->violations, t->counts[FO_V_LOST], t->counts[FO_V_STALE],
					t->counts[FO_V_TORN], t->counts[FO_V_MISDIRECTED],
					t->counts[FO_V_PHANTOM]);
			fprintf(f, "\"/>");
		}
		fprintf(f, "</testcase>\n");
	}
	fprintf(f, "</testsuite>\n");
	if (fclose(f) != 0) {
		int e = errno;
		snprintf(why, why_len, "--junit %s: %s", path, strerror(e));
		return -e;
	}
	return 0;
}
