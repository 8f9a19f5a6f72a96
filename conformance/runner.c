/* The case runner: every case, and the probe before them, runs in a child
 * process watched by the parent.  A target that never answers hangs only
 * that child: the parent kills it by its PID when the case's time is up,
 * records a failure that says so and goes on with the next case (libiscsi's
 * iscsi-test-cu hangs the whole run instead).  A child that crashes is a
 * failure of its case, not of the run. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "transport/reachability.h"
#include <mirror/error.h>

#include "conform.h"

static const char *const verdict_names[] = {
	[CONF_PASS] = "pass",
	[CONF_FAIL] = "fail",
	[CONF_SKIP] = "skip",
	[CONF_PARTIAL] = "partial",
};

const char *conf_verdict_name(enum conf_verdict v)
{
	return (unsigned)v < sizeof(verdict_names) / sizeof(verdict_names[0]) ? verdict_names[v]
									       : "?";
}

int conf_errorf(int code, char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;

	if (why && why_len) {
		va_start(ap, fmt);
		vsnprintf(why, why_len, fmt, ap);
		va_end(ap);
	}
	return code;
}

/* What a child sends back: fixed size, so one read loop takes it whole. */
struct child_record {
	uint8_t verdict;
	struct conf_support support;
	char why[CONF_WHY_MAX];
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

/* Reads the record until EOF or the deadline.  Returns the bytes read, or
 * -ETIMEDOUT. */
static ssize_t read_until(int fd, struct child_record *rec, uint64_t deadline)
{
	size_t got = 0;

	for (;;) {
		uint64_t now = now_ms();
		if (now >= deadline)
			return -ETIMEDOUT;
		struct pollfd pfd = { fd, POLLIN, 0 };
		int rc = poll(&pfd, 1, (int)(deadline - now > 1000 ? 1000 : deadline - now));
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			continue;
		ssize_t n = read(fd, (char *)rec + got, got < sizeof(*rec) ? sizeof(*rec) - got : 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return (ssize_t)got;
		got += (size_t)n;
	}
}

enum conf_verdict conf_run_watched(struct conf_ctx *c, conf_child_fn fn, void *arg,
				   unsigned timeout_s, char *why, size_t why_len)
{
	struct child_record rec;
	int fds[2];
	pid_t pid;
	int status = 0;

	/* Whatever is buffered would be written twice, by both processes. */
	fflush(stdout);
	fflush(stderr);
	if (c->log)
		fflush(c->log);
	if (pipe(fds) < 0) {
		conf_errorf(0, why, why_len, "pipe: %s", strerror(errno));
		return CONF_FAIL;
	}
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		conf_errorf(0, why, why_len, "fork: %s", strerror(errno));
		return CONF_FAIL;
	}
	if (pid == 0) {
		close(fds[0]);
		memset(&rec, 0, sizeof(rec));
		c->why[0] = '\0';
		c->unverified[0] = '\0';
		rec.verdict = (uint8_t)fn(c, arg);
		rec.support = c->support;
		snprintf(rec.why, sizeof(rec.why), "%s", c->why);
		fflush(stdout);
		if (c->log)
			fflush(c->log);
		write_all(fds[1], &rec, sizeof(rec));
		_exit(0);
	}
	close(fds[1]);
	memset(&rec, 0, sizeof(rec));
	ssize_t n = read_until(fds[0], &rec, now_ms() + (uint64_t)timeout_s * 1000u);
	close(fds[0]);
	if (n == -ETIMEDOUT) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		conf_errorf(0, why, why_len,
			    "watchdog: no outcome after %u s (the target stopped answering?); case abandoned",
			    timeout_s);
		return CONF_FAIL;
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(rec) || rec.verdict > CONF_PARTIAL) {
		if (WIFSIGNALED(status))
			conf_errorf(0, why, why_len, "the case's process died of signal %d (%s)",
				    WTERMSIG(status), strsignal(WTERMSIG(status)));
		else
			conf_errorf(0, why, why_len, "the case's process ended without an outcome (status %d)",
				    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return CONF_FAIL;
	}
	rec.why[sizeof(rec.why) - 1] = '\0';
	c->support = rec.support;
	conf_errorf(0, why, why_len, "%s", rec.why);
	return (enum conf_verdict)rec.verdict;
}

/* ---- transport per case ---- */

static int open_transport(struct conf_ctx *c)
{
	struct mirror_transport_opts o = c->topts;
	char err[256];

	/* One initiator name per case and run: the target tracks sequence
	 * numbers per sender, so each case starts a sender of its own. */
	snprintf(c->initiator, sizeof(c->initiator), "%s.r%ld.c%u",
		 c->initiator_base ? c->initiator_base : "iqn.2026-11.org.mirrortest:conform",
		 (long)getppid(), c->case_index);
	o.initiator_name = c->initiator;
	c->t = mirror_transport_open(c->target, &o, err, sizeof(err));
	if (!c->t) {
		conf_errorf(0, c->why, sizeof(c->why), "cannot open %s: %s", c->target, err);
		return -EIO;
	}
	return 0;
}

static void set_scratch(struct conf_ctx *c, unsigned index)
{
	uint32_t start = conf_region_start(c), size = conf_region_end(c) - start;
	uint32_t slots = size > CONF_BIG_AREA_BYTES ? (size - CONF_BIG_AREA_BYTES) / CONF_SCRATCH_BYTES : 0;

	/* Regions too small for the layout share one scratch area. */
	c->scratch = slots ? start + CONF_BIG_AREA_BYTES + (index % slots) * CONF_SCRATCH_BYTES : start;
}

/* ---- the probe ---- */

/* lost: set when the command did not reach the target as itself (the
 * transport failed it, or a stack on the way took it for another), as
 * against a target that answered it as not implemented. */
static void probe_one(struct mirror_cmd *cmd, const char *what, bool *ok, bool *lost,
		      char *why, size_t why_len)
{
	char reason[160];

	char explained[200];

	*lost = false;
	if (cmd->result == 0 && cmd->status == MIRROR_STATUS_GOOD) {
		*ok = true;
		return;
	}
	/* Stopped or reinterpreted on the way (QEMU's SCSI bus answers REPORT
	 * LUNS itself; tgtd runs a data-out 0xA0 as REPORT LUNS): say so, per
	 * opcode and transport, rather than blame the target. */
	if (mirror_explain_unreached(cmd, explained, sizeof(explained))) {
		*ok = false;
		*lost = true;
		snprintf(why, why_len, "%s: %s", what, explained);
		return;
	}
	if (mirror_reachability_of(cmd) == MIRROR_REACH_NO) {
		*ok = false;
		*lost = true;
		snprintf(why, why_len, "%s: opcode 0x%02X did not reach the target (transport failure)",
			 what, cmd->cdb[0]);
		return;
	}
	if (conf_not_implemented(cmd, reason, sizeof(reason))) {
		*ok = false;
		*lost = cmd->result < 0;
		snprintf(why, why_len, "target does not implement %s: %s", what, reason);
		return;
	}
	/* Answered as that command, if not with GOOD: implemented (a case
	 * will say what is wrong). */
	*ok = true;
}

static enum conf_verdict probe_child(struct conf_ctx *c, void *arg)
{
	struct mirror_cmd cmd;
	static uint8_t buf[MIRROR_METADATA_BYTES + 4096];
	struct mirror_small_cdb s;
	struct mirror_metadata md;
	struct conf_support *sp = &c->support;

	(void)arg;
	if (open_transport(c) < 0)
		return CONF_FAIL;
	memset(sp, 0, sizeof(*sp));
	sp->probed = true;
	if (c->fresh) {
		/* before any table: a partner never sent one must refuse it */
		conf_small_init(c, &s, c->scratch + 16384, 8, 0, 0, 0);
		conf_small_cmd(c, &s, buf, 4096, 3, &sp->pretable);
		conf_send(c, &sp->pretable, "probe: small write before any array table");
		sp->pretable.data_out = NULL; /* it points into this process */
		sp->pretable_sent = true;
	}
	bool lost;
	if (c->own_table) {
		/* The target has its table, which must stay as it is: an
		 * ARRAY TABLE UPDATE of an 8-byte parameter list, shorter
		 * than the 16-byte header (no table can be read from it), is
		 * refused by a target that has the command (INVALID FIELD IN
		 * CDB at the parameter list length) and answered INVALID
		 * COMMAND OPERATION CODE by one that has not. */
		static const uint8_t eight[8];
		memset(&cmd, 0, sizeof(cmd));
		int n = mirror_table_update_cdb_encode(&c->profile, sizeof(eight), cmd.cdb,
						       sizeof(cmd.cdb));
		cmd.cdb_len = n > 0 ? (unsigned)n : 0;
		cmd.dir = MIRROR_DIR_OUT;
		cmd.data_out = eight;
		cmd.data_out_len = sizeof(eight);
		conf_send(c, &cmd, "probe: ARRAY TABLE UPDATE of 8 bytes (under the header)");
	} else {
		conf_push_table(c, &cmd);
	}
	probe_one(&cmd, "ARRAY TABLE UPDATE", &sp->table, &sp->table_lost, sp->table_why,
		  sizeof(sp->table_why));

	enum conf_verdict v = conf_readback(c, c->scratch, MIRROR_BLOCK_SIZE, true, buf,
					    sizeof(buf), NULL);
	sp->readback = v == CONF_PASS;
	if (!sp->readback) {
		snprintf(sp->readback_why, sizeof(sp->readback_why), "%.300s", c->why);
		/* conf_readback says so when the CDB did not reach the target */
		sp->readback_lost = strstr(c->why, "failed in transport") != NULL;
	}
	c->why[0] = '\0';

	conf_md_init(c, &md, c->scratch, 1, 4096, 0);
	conf_large_cmd(c, NULL, &md, false, buf, 4096, 1, &cmd);
	conf_send(c, &cmd, "probe: large write");
	probe_one(&cmd, "the large path", &sp->notify, &lost, sp->notify_why, sizeof(sp->notify_why));

	conf_small_init(c, &s, c->scratch + 8192, 8, 0, 0, 0);
	conf_small_cmd(c, &s, buf, 4096, 2, &cmd);
	conf_send(c, &cmd, "probe: small write");
	probe_one(&cmd, "the small path", &sp->small, &lost, sp->small_why, sizeof(sp->small_why));
	mirror_transport_close(c->t);
	c->t = NULL;
	return CONF_PASS;
}

int conf_probe(struct conf_ctx *c, char *why, size_t why_len)
{
	c->case_index = 0;
	c->case_id = "probe";
	c->next_sequence = 1;
	set_scratch(c, 0);
	/* 4 MiB into the big area: past the 4 MiB split write, before the
	 * ranges of the broken-off transfers (conformance/case_nvram.c) */
	c->scratch = conf_region_start(c) + (4u << 20);
	enum conf_verdict v = conf_run_watched(c, probe_child, NULL, c->timeout_s, why, why_len);
	if (v != CONF_PASS || !c->support.probed)
		return -EIO;
	return 0;
}

bool conf_not_a_receiver(const struct conf_support *s)
{
	return s->probed && !s->small && !s->notify && !s->table && !s->readback;
}

/* ---- one case ---- */

static enum conf_verdict case_child(struct conf_ctx *c, void *arg)
{
	const struct conf_case *cs = arg;
	enum conf_verdict v;

	if (open_transport(c) < 0)
		return CONF_FAIL;
	v = cs->run(c);
	mirror_transport_close(c->t);
	c->t = NULL;
	if (v == CONF_PASS && c->unverified[0]) {
		/* Not a pass: the stored data was never looked at. */
		char notes[CONF_WHY_MAX];
		snprintf(notes, sizeof(notes), "%s", c->why);
		snprintf(c->why, sizeof(c->why),
			 "the answers checked (status, sense, residual); unverified, the target lacking NVRAM READBACK: %.900s%s%.600s",
			 c->unverified, notes[0] ? "; " : "", notes);
		v = CONF_PARTIAL;
	}
	return v;
}

/* A need the run cannot meet: the reason, or NULL. */
static const char *unmet_need(const struct conf_ctx *c, unsigned needs)
{
	const struct conf_support *s = &c->support;

	if ((needs & CONF_NEED_ISCSI) && strncmp(c->target, "iscsi://", 8) != 0)
		return "needs an iscsi:// target (it works on the iSCSI connection itself)";
	if ((needs & CONF_NEED_STRICT) && !c->profile.strict)
		return "needs a strict receiver: run with --strict against one";
	if ((needs & CONF_NEED_LENIENT) && c->profile.strict)
		return "checks a lenient receiver: run without --strict";
	if ((needs & CONF_NEED_FRESH) && !c->fresh)
		return "needs a target sent no array table since it started: run with --fresh against one";
	/* the mirror command itself first: it says most about the target */
	if ((needs & CONF_NEED_SMALL) && !s->small)
		return s->small_why[0] ? s->small_why : "needs the small path";
	if ((needs & CONF_NEED_NOTIFY) && !s->notify)
		return s->notify_why[0] ? s->notify_why : "needs the large path";
	if ((needs & CONF_NEED_TABLE) && !s->table)
		return s->table_why[0] ? s->table_why : "needs ARRAY TABLE UPDATE (harness extension)";
	if ((needs & CONF_NEED_TABLE) && !c->table_serials)
		return "sends ARRAY TABLE UPDATE, which would replace the target's table with serial numbers made up (--volumes gives none): run with --table FILE";
	if ((needs & CONF_NEED_VOLUMES) && !c->own_table && !s->table)
		return "needs a known array table: the target lacks ARRAY TABLE UPDATE to be sent the suite's; give its own with --table FILE or --volumes LIST";
	if ((needs & CONF_NEED_READBACK) && !s->readback)
		return s->readback_why[0] ? s->readback_why : "needs NVRAM READBACK (harness extension)";
	return NULL;
}

void conf_run_case(struct conf_ctx *c, const struct conf_case *cs, unsigned index,
		   struct conf_result *out)
{
	const char *unmet = unmet_need(c, cs->needs);
	uint64_t t0 = now_ms();

	memset(out, 0, sizeof(*out));
	out->c = cs;
	c->cur = cs;
	c->case_id = cs->id;
	c->case_index = index;
	c->next_sequence = 1;
	set_scratch(c, index);
	if (unmet) {
		out->verdict = CONF_SKIP;
		snprintf(out->why, sizeof(out->why), "%s", unmet);
		return;
	}
	if (c->verbose && c->log)
		fprintf(c->log, "== %s: %s\n", cs->id, cs->desc);
	out->verdict = conf_run_watched(c, case_child, (void *)cs, c->timeout_s, out->why,
					sizeof(out->why));
	out->seconds = (double)(now_ms() - t0) / 1000.0;
}
