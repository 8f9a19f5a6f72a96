/* The campaign's status file: what a trial-by-trial campaign has found so
 * far, rewritten whole after every trial (a new file renamed over the old,
 * so a reader never sees half of one).  mirror-top's pair view shows it
 * (DIR/failover.json beside the pair's state file, mirror-top(1)): a
 * thousand-trial campaign is watched, not waited for. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "app/failover/run.h"

static struct json_object *u64(uint64_t v)
{
	return json_object_new_int64((int64_t)v);
}

int fo_status_write(const char *path, const struct fo_run_result *r, unsigned planned,
		    bool running, char *why, size_t why_len)
{
	struct fo_summary s;
	struct json_object *o = json_object_new_object();
	char tmp[4200];

	fo_summarize(r, &s);
	json_object_object_add(o, "pid", json_object_new_int64(getpid()));
	json_object_object_add(o, "running", json_object_new_boolean(running));
	json_object_object_add(o, "updated", json_object_new_int64((int64_t)time(NULL)));
	json_object_object_add(o, "trials_planned", u64(planned));
	json_object_object_add(o, "trials_done", u64(r->n));
	json_object_object_add(o, "acked_writes", u64(s.acked));
	json_object_object_add(o, "indeterminate", u64(s.indeterminate));
	json_object_object_add(o, "violations_total", u64(s.violations));
	json_object_object_add(o, "acked_lost", u64(s.counts[FO_V_LOST]));
	json_object_object_add(o, "stale", u64(s.counts[FO_V_STALE]));
	json_object_object_add(o, "torn", u64(s.counts[FO_V_TORN]));
	json_object_object_add(o, "misdirected", u64(s.counts[FO_V_MISDIRECTED]));
	unsigned failed = 0;
	for (unsigned i = 0; i < r->n; i++)
		failed += r->t[i].violations > 0 || r->t[i].aborted;
	json_object_object_add(o, "failed_trials", u64(failed));
	struct json_object *to = json_object_new_object();
	json_object_object_add(to, "p50", json_object_new_double(s.takeover_p50));
	json_object_object_add(to, "p99", json_object_new_double(s.takeover_p99));
	json_object_object_add(to, "max", json_object_new_double(s.takeover_max));
	json_object_object_add(o, "takeover_ms", to);
	if (r->n) {
		const struct fo_trial_result *t = &r->t[r->n - 1];
		struct json_object *l = json_object_new_object();
		json_object_object_add(l, "trial", u64(t->trial));
		json_object_object_add(l, "fault", json_object_new_string(t->fault));
		json_object_object_add(l, "violations", u64(t->violations));
		json_object_object_add(l, "takeover_ms", json_object_new_double(t->takeover_ms));
		json_object_object_add(l, "stall_ms", json_object_new_double(t->stall_ms));
		if (t->phases.have)
			json_object_object_add(l, "active_ms",
					       json_object_new_double(t->phases.active_ms));
		if (t->note[0])
			json_object_object_add(l, "note", json_object_new_string(t->note));
		json_object_object_add(o, "last", l);
	}
	snprintf(tmp, sizeof(tmp), "%.4096s.tmp", path);
	int rc = json_object_to_file_ext(tmp, o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	json_object_put(o);
	if (rc < 0 || rename(tmp, path) < 0) {
		int e = rc < 0 ? EIO : errno;
		snprintf(why, why_len, "status file %.200s: %s", path, strerror(e));
		unlink(tmp);
		return -e;
	}
	return 0;
}
