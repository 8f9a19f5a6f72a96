/* mirror-failover's --fault plan (mirror-failover(1)): steps
 * ACTION[@N|@Nms] separated by commas.
 *
 * ACTION is a mirror-pair command (kill:a, freeze:b, cut-link, ...), a
 * named fault point of one controller (kill:a:after-ack: the controller
 * kills itself at the next such moment of its write path, app/pair/faults.c;
 * kill only: a controller that froze itself is one nobody would thaw),
 * "random" (each trial draws a victim and a fault point from the seed),
 * "cmd" (--fault-cmd) or "none". */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <mirror/profile.h>

#include "app/failover/run.h"
#include "base/why.h"

static const struct {
	const char *name;
	bool needs_ctl;
	bool takes_point;   /* ACTION:CTL:POINT arms a fault point instead */
} pair_verbs[] = {
	{ "kill", true, true },       { "freeze", true, false },   { "thaw", true, false },
	{ "restart", true, false },   { "cut-link", false, false }, { "heal-link", false, false },
};

/* The moments of a controller's write path a controller can stop at
 * (app/pair/faults.c).  during-replay is left out: only a survivor in a
 * takeover reaches it, and a double failure is beyond the pair's promise. */
static const char *const points[] = { "before-mirror", "after-mirror", "after-ack",
				      "during-destage" };
#define NPOINTS (sizeof(points) / sizeof(points[0]))

static bool known_point(const char *p)
{
	for (size_t i = 0; i < NPOINTS; i++)
		if (strcmp(points[i], p) == 0)
			return true;
	return false;
}

/* "ACTION[@N|@Nms]" into s. */
static int parse_step(char *spec, struct fo_step *s, bool *has_trigger, char *why, size_t why_len)
{
	char *at = strchr(spec, '@'), *colon, *point = NULL;
	uint64_t v;

	memset(s, 0, sizeof(*s));
	*has_trigger = at != NULL;
	if (at) {
		*at++ = '\0';
		size_t n = strlen(at);
		bool ms = n > 2 && strcmp(at + n - 2, "ms") == 0;
		if (ms)
			at[n - 2] = '\0';
		if (mirror_parse_count(at, ms ? 1 : 0, UINT32_MAX, &v) < 0)
			return mirror_fail(-EINVAL, why, why_len,
					   "--fault step '%s': the trigger '@%s%s' is not N or Nms", spec,
					   at, ms ? "ms" : "");
		if (ms)
			s->after_ms = v;
		else
			s->after_writes = v;
	}
	if (strcmp(spec, "cmd") == 0) {
		s->kind = FO_STEP_CMD;
		return 0;
	}
	if (strcmp(spec, "none") == 0) {
		s->kind = FO_STEP_NONE;
		return 0;
	}
	if (strcmp(spec, "random") == 0) {
		/* where it strikes is drawn too; only a time may be given */
		if (at && !s->after_ms)
			return mirror_fail(-EINVAL, why, why_len,
					   "--fault step 'random@%s': random draws its write count; "
					   "give a time (@Nms) or nothing", at);
		s->kind = FO_STEP_RANDOM;
		return 0;
	}
	s->kind = FO_STEP_PAIR;
	colon = strchr(spec, ':');
	if (colon) {
		*colon++ = '\0';
		point = strchr(colon, ':');
		if (point)
			*point++ = '\0';
	}
	for (size_t i = 0; i < sizeof(pair_verbs) / sizeof(pair_verbs[0]); i++) {
		if (strcmp(pair_verbs[i].name, spec) != 0)
			continue;
		if (pair_verbs[i].needs_ctl && (!colon || (strcmp(colon, "a") && strcmp(colon, "b"))))
			return mirror_fail(-EINVAL, why, why_len,
					   "--fault step '%s': which controller, %s:a or %s:b?", spec,
					   spec, spec);
		if (!pair_verbs[i].needs_ctl && colon)
			return mirror_fail(-EINVAL, why, why_len,
					   "--fault step '%s:%s': %s names no controller", spec, colon,
					   spec);
		if (point && !pair_verbs[i].takes_point)
			return mirror_fail(-EINVAL, why, why_len,
					   "--fault step '%s:%s:%s': %s takes no fault point", spec,
					   colon, point, spec);
		if (point && !known_point(point))
			return mirror_fail(-EINVAL, why, why_len,
					   "--fault step '%s:%s:%s': no fault point '%s' (before-mirror, "
					   "after-mirror, after-ack, during-destage)", spec, colon, point,
					   point);
		if (point) {
			s->kind = FO_STEP_POINT;
			snprintf(s->point, sizeof(s->point), "%s", point);
		}
		snprintf(s->verb, sizeof(s->verb), "%s", spec);
		snprintf(s->ctl, sizeof(s->ctl), "%s", colon ? colon : "");
		return 0;
	}
	return mirror_fail(-EINVAL, why, why_len,
			   "--fault step '%s': no such action (kill:a|b[:POINT], freeze:a|b, "
			   "thaw:a|b, restart:a|b, cut-link, heal-link, random, cmd, none)", spec);
}

int fo_plan_parse(const char *plan, struct fo_run_opts *o, bool trig[FO_STEPS_MAX], char *why,
		  size_t why_len)
{
	char buf[256], *save = NULL;

	if (strlen(plan) >= sizeof(buf))
		return mirror_fail(-EINVAL, why, why_len, "--fault '%.40s...': too long", plan);
	snprintf(buf, sizeof(buf), "%s", plan);
	o->nsteps = 0;
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (o->nsteps == FO_STEPS_MAX)
			return mirror_fail(-EINVAL, why, why_len, "--fault: at most %u steps",
					   FO_STEPS_MAX);
		int rc = parse_step(t, &o->step[o->nsteps], &trig[o->nsteps], why, why_len);
		if (rc)
			return rc;
		if (o->step[o->nsteps].kind == FO_STEP_RANDOM && o->nsteps)
			return mirror_fail(-EINVAL, why, why_len,
					   "--fault '%s': random is a plan of its own", plan);
		o->nsteps++;
	}
	if (o->nsteps == 0)
		return mirror_fail(-EINVAL, why, why_len, "--fault '%s': no step", plan);
	if (o->step[0].kind == FO_STEP_RANDOM && o->nsteps > 1)
		return mirror_fail(-EINVAL, why, why_len, "--fault '%s': random is a plan of its own",
				   plan);
	return 0;
}

/* Trial t of a random plan: the victim, and a plain kill or one of the
 * fault points, in turn so that every one of them is tried within a few
 * trials whatever the seed; where in the workload it strikes (a tenth to
 * six tenths of the writes) from the seed. */
void fo_plan_random_step(const struct fo_step *tmpl, uint64_t seed, uint32_t trial,
			 uint64_t writes, struct fo_step *out)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + trial + 1;
	unsigned kinds = NPOINTS + 1, k;

	/* splitmix64: a trial's draw does not depend on the ones before */
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	x ^= x >> 31;
	memset(out, 0, sizeof(*out));
	k = (unsigned)((trial + seed) % kinds);
	snprintf(out->verb, sizeof(out->verb), "kill");
	snprintf(out->ctl, sizeof(out->ctl), "%c", (x >> 8) & 1 ? 'b' : 'a');
	if (k == 0) {
		out->kind = FO_STEP_PAIR;
	} else {
		out->kind = FO_STEP_POINT;
		snprintf(out->point, sizeof(out->point), "%s", points[k - 1]);
	}
	out->after_ms = tmpl->after_ms;
	out->after_writes = tmpl->after_writes;
	if (!tmpl->after_ms && writes >= 10)
		out->after_writes = writes / 10 + (x >> 16) % (writes / 2);
}
