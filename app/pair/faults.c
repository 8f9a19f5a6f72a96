/* Named fault points and deviations of the emulated pair (mirror-pair(1)).
 *
 * A fault point is a moment of the write path or of a takeover; "stop at
 * the Nth event of kind K" makes a trial reproducible: the controller
 * kills itself, freezes itself or cuts its mirror link exactly there.  A
 * deviation is a deliberate bug that a failover checker must catch. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mirror/profile.h>

#include "app/pair/ctl.h"
#include "base/log.h"
#include "base/why.h"

static const struct {
	const char *name, *text;
} deviations[DEV_COUNT_] = {
	[DEV_ACK_BEFORE_MIRROR] = { "ack-before-mirror",
				    "acknowledge a host write when its mirror is sent, not when "
				    "the partner's GOOD arrives" },
	[DEV_ACK_WITHOUT_MIRROR] = { "ack-without-mirror",
				     "acknowledge host writes without mirroring them at all" },
	[DEV_REPLAY_STALE] = { "replay-stale",
			       "a takeover replays the partner's writes newest first, so an "
			       "older copy lands over a newer one" },
	[DEV_REPLAY_INVALID] = { "replay-invalid",
				 "a takeover replays ranges that are not valid (data that never "
				 "all arrived)" },
	[DEV_NO_FENCING] = { "no-fencing",
			     "a takeover does not fence the partner: a frozen partner that wakes "
			     "up destages stale writes" },
	[DEV_SENDER_ALWAYS_LARGE] = { "sender-always-large",
				      "every mirror operation on the large path, even one or two "
				      "S/G elements (Fig. 7 block 700)" },
	[DEV_SENDER_IGNORE_HIGH_BITS] = { "sender-ignore-high-bits",
					  "the small path although the two descriptors' high bits "
					  "differ: element 2 lands 32 MiB off (Fig. 7 block 716)" },
	[DEV_SENDER_IGNORE_TABLE] = { "sender-ignore-table-confirm",
				      "the small path before the partner confirmed our array "
				      "table (Fig. 7 block 712)" },
	[DEV_SENDER_SMALL_IN_RECOVERY] = { "sender-small-in-recovery",
					   "the small path in error recovery mode (Fig. 7 block "
					   "708)" },
	[DEV_SENDER_NO_SPLIT] = { "sender-no-split",
				  "a write over 1 MiB goes in one large operation (Fig. 3: "
				  "pieces of 1 MiB or less)" },
	[DEV_SENDER_SEQ_GAP] = { "sender-seq-gap",
				 "a sequence number is skipped after every write mirrored on the "
				 "large path" },
	[DEV_SENDER_WRONG_OPCODE] = { "sender-wrong-opcode",
				      "small writes carry the partner's opcode (A sends 0xB0)" },
	[DEV_SENDER_CLEAR_CONTROL] = { "sender-clear-control-byte",
				       "small CDBs get byte 11's NACA and LINK bits cleared, as a "
				       "stack that scrubs the CONTROL byte: the LBA is wrong" },
	[DEV_ACK_ON_CHECK] = { "ack-on-check-condition",
			       "a CHECK CONDITION from the partner counts as its GOOD: the host "
			       "is acknowledged and the link stays up" },
};

const char *pair_deviation_name(unsigned d)
{
	return d < DEV_COUNT_ ? deviations[d].name : NULL;
}

const char *pair_deviation_text(unsigned d)
{
	return d < DEV_COUNT_ ? deviations[d].text : NULL;
}

int pair_deviation_parse(const char *name)
{
	for (unsigned d = 0; d < DEV_COUNT_; d++)
		if (strcmp(deviations[d].name, name) == 0)
			return (int)d;
	return -ENOENT;
}

static const char *const point_names[FP_COUNT_] = {
	[FP_BEFORE_MIRROR] = "before-mirror",
	[FP_AFTER_MIRROR] = "after-mirror",
	[FP_AFTER_ACK] = "after-ack",
	[FP_DURING_DESTAGE] = "during-destage",
	[FP_DURING_REPLAY] = "during-replay",
};

static const char *const action_names[] = {
	[FA_KILL] = "kill",
	[FA_FREEZE] = "freeze",
	[FA_CUT_LINK] = "cut-link",
};

const char *pair_fault_point_name(unsigned p)
{
	return p < FP_COUNT_ ? point_names[p] : NULL;
}

/* "POINT[:N[:ACTION]]", e.g. "after-ack:100:kill"; N defaults to 1 and
 * ACTION to kill. */
int pair_fault_parse(const char *spec, struct pair_fault *f, char *why, size_t why_len)
{
	char buf[96], *save = NULL;
	const char *point, *nth, *action;
	uint64_t n = 1;

	memset(f, 0, sizeof(*f));
	if (!spec || strlen(spec) >= sizeof(buf))
		return mirror_fail(-EINVAL, why, why_len, "--fault '%s': too long", spec ? spec : "");
	snprintf(buf, sizeof(buf), "%s", spec);
	point = strtok_r(buf, ":", &save);
	nth = strtok_r(NULL, ":", &save);
	action = strtok_r(NULL, ":", &save);
	if (!point || strtok_r(NULL, ":", &save))
		return mirror_fail(-EINVAL, why, why_len, "--fault '%s': want POINT[:N[:ACTION]]", spec);
	unsigned p;
	for (p = 0; p < FP_COUNT_; p++)
		if (strcmp(point_names[p], point) == 0)
			break;
	if (p == FP_COUNT_)
		return mirror_fail(-EINVAL, why, why_len,
				   "--fault '%s': no fault point '%s' (before-mirror, after-mirror, "
				   "after-ack, during-destage, during-replay)", spec, point);
	if (nth && mirror_parse_count(nth, 1, UINT64_MAX, &n) < 0)
		return mirror_fail(-EINVAL, why, why_len,
				   "--fault '%s': N '%s' is not a count of 1 or more", spec, nth);
	unsigned a = FA_KILL;
	if (action) {
		for (a = 0; a < sizeof(action_names) / sizeof(action_names[0]); a++)
			if (strcmp(action_names[a], action) == 0)
				break;
		if (a == sizeof(action_names) / sizeof(action_names[0]))
			return mirror_fail(-EINVAL, why, why_len,
					   "--fault '%s': no action '%s' (kill, freeze, cut-link)", spec,
					   action);
	}
	f->armed = true;
	f->point = (enum pair_fault_point)p;
	f->nth = n;
	f->action = (enum pair_fault_action)a;
	return 0;
}

void fault_event(struct ctl *c, enum pair_fault_point p)
{
	struct pair_fault *f = &c->cfg.fault;

	c->fault_count[p]++;
	if (!f->armed || f->point != p || c->fault_count[p] != f->nth)
		return;
	f->armed = false;
	mirror_log(MIRROR_LOG_WARN, "fault point %s reached (event %llu): %s", point_names[p],
		   (unsigned long long)f->nth, action_names[f->action]);
	switch (f->action) {
	case FA_KILL:
		/* a crash, not a stop: nothing is flushed, nothing said */
		kill(getpid(), SIGKILL);
		break;
	case FA_FREEZE:
		raise(SIGSTOP);
		break;
	case FA_CUT_LINK:
		c->link.cut = true;
		link_drop(c, "fault: link cut");
		break;
	}
}
