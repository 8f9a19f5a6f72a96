/* mirror-failover's engine (run.h): the workload, the paths, the faults and
 * the read-back, around the checker of failover.h.
 *
 * One thread, one poll(2) over every path's session.  A write is recorded
 * as invoked (flushed) before it is sent and as ok / fail / indeterminate
 * when it ends; a block never has two writes outstanding, so its writes
 * are ordered by id.  Paths move as a multipath host moves them (Linux's
 * dm-multipath with scsi_dh_alua): a connection lost, a timeout, NOT READY
 * 04h/0Ah (transitioning), 04h/0Bh (standby), 04h/0Ch (unavailable) or a
 * UNIT ATTENTION make the LUN ask every path for its state (INQUIRY page
 * 83h for the path's target port group, REPORT TARGET PORT GROUPS for the
 * groups' states) and write on an active/optimized one, or an
 * active/non-optimized one when none is; with one path it reconnects until
 * the target is back, up to the recovery timeout. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <mirror/commands.h>
#include <mirror/exit_status.h>
#include <mirror/sense.h>

#include "app/failover/run.h"
#include "base/iqn.h"

extern char **environ;

#define READ_CHUNK 128u       /* blocks per READ(10) of the read-back */
#define RECHECK_MS 100u       /* between two path checks of a LUN */
#define CONNECT_RETRY_MS 200u
#define POINT_WAIT_MS 20000u

struct path {
	char url[256];
	uint32_t lun;
	struct mirror_transport *t;
	int tpg;                  /* -1 unknown, -2 none (TEST UNIT READY decides) */
	bool broken;
	uint64_t next_connect_ms;
};

struct lun {
	unsigned path[FO_PATHS_MAX];
	unsigned npaths;
	int cur;                  /* the path written on; -1 none */
	bool recheck;
	uint64_t recheck_at_ms, lost_since_ms;
	uint8_t *busy;            /* per block: a write outstanding */
	uint64_t *gen;            /* per block: writes invoked */
	uint64_t last_ack_us;
	bool armed;               /* measuring a takeover */
	bool await_fault;         /* a fault point armed: the first path error starts it */
	bool hit;                 /* a write of it failed after the fault: the takeover
				   * is this LUN's (the survivor's own LUNs never stall) */
	uint64_t fault_last_ack_us, first_ack_after_us;
};

struct engine;

struct slot {
	struct mirror_cmd cmd;
	struct engine *e;
	uint8_t *buf;
	uint64_t id, lba;
	uint32_t lun, n;
	unsigned path;
	uint64_t invoked_us;
	bool busy;
};

struct engine {
	const struct fo_run_opts *o;
	struct path path[FO_PATHS_MAX];
	unsigned npaths;
	struct lun lun[FO_LUNS_MAX];
	uint32_t nluns;
	uint64_t blocks;
	struct slot *slot;
	unsigned nslots, outstanding;
	struct fo_history_writer hw;
	char history[512];
	bool temp_history;
	uint64_t rng, run_id;
	uint32_t trial;
	struct fo_trial_result *tr;
	uint64_t acked_since_step, last_progress_ms;
	struct fo_step random_step; /* this trial's draw of a random plan */
	uint64_t takeovers_before[2]; /* each controller's count at the trial's start */
	uint64_t fault_at_us;         /* the first step ran, or its fault point struck */
	uint64_t fault_done_us;       /* its command returned: a write invoked later
				       * cannot have been answered before the fault */
	/* a fault point armed and its controller not yet dead: the workload
	 * goes on (a destage may be seconds away) up to POINT_WAIT_MS */
	const struct fo_step *point_step;
	uint64_t point_since_ms, point_checked_ms;
	uint64_t invoke_until;      /* after it struck: writes on through the takeover */
	struct mirror_transport_poller *poller;
	char why[256];
};

void fo_run_opts_init(struct fo_run_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->max_blocks = 8;
	o->queue_depth = 32;
	o->writes = 2000;
	o->seed = 1;
	o->trials = 1;
	o->recovery_ms = 60000;
	o->cmd_timeout_ms = 5000;
	o->pair_cmd = NULL; /* the supervisor's socket */
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ms(void)
{
	return now_ns() / 1000000u;
}

static uint64_t now_us(void)
{
	return now_ns() / 1000u;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000u, (long)(ms % 1000u) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static uint64_t rnd(struct engine *e)
{
	/* xorshift64*: a fixed --seed gives the same choices */
	e->rng ^= e->rng >> 12;
	e->rng ^= e->rng << 25;
	e->rng ^= e->rng >> 27;
	return e->rng * 0x2545F4914F6CDD1Dull;
}

/* ---- paths ---- */

static void drop(struct engine *e, struct path *p)
{
	(void)e;
	if (p->t) {
		/* outstanding writes complete at once with -ECANCELED:
		 * indeterminate (the session is gone, their fate unknown) */
		mirror_transport_abort(p->t);
		p->t = NULL;
	}
	p->broken = false;
	p->tpg = -1;
}

static bool open_path(struct engine *e, struct path *p, unsigned index)
{
	struct mirror_transport_opts to;
	char name[128], why[256];
	uint64_t now = now_ms();

	if (p->t)
		return true;
	if (now < p->next_connect_ms)
		return false;
	memset(&to, 0, sizeof(to));
	to.connect_timeout_ms = 2000;
	to.command_timeout_ms = e->o->cmd_timeout_ms;
	to.queue_depth = e->o->queue_depth;
	/* one initiator name per path: sessions to one target never
	 * reinstate each other */
	snprintf(name, sizeof(name), MIRROR_IQN_PREFIX ":failover-%d-p%u", (int)getpid(), index);
	to.initiator_name = name;
	p->t = mirror_transport_open(p->url, &to, why, sizeof(why));
	if (!p->t) {
		p->next_connect_ms = now + CONNECT_RETRY_MS;
		snprintf(e->why, sizeof(e->why), "%.120s: %.120s", p->url, why);
		return false;
	}
	p->tpg = -1;
	p->broken = false;
	return true;
}

static bool sense_is(const struct mirror_cmd *c, uint8_t key)
{
	return c->result == 0 && c->status == MIRROR_STATUS_CHECK_CONDITION && c->sense_len > 0 &&
	       c->sense_parsed.key == key;
}

/* A command of the path check, once more after a unit attention (which
 * reports a change and does not execute the command, SAM-5 5.14). */
static int run_sync(struct path *p, struct mirror_cmd *c, const struct mirror_cmd *tmpl)
{
	for (int i = 0; i < 4; i++) {
		*c = *tmpl;
		int rc = mirror_transport_run(p->t, c);
		if (rc < 0)
			return rc;
		if (!sense_is(c, MIRROR_SK_UNIT_ATTENTION))
			return 0;
	}
	return 0;
}

/* The path's rank for writing: 0 active/optimized, 1 active/non-optimized,
 * -1 not usable now (standby, unavailable, transitioning, gone). */
static int path_rank(struct engine *e, struct path *p, unsigned index, bool alone)
{
	struct mirror_cmd tmpl, c;
	uint8_t buf[512];

	if (p->broken)
		drop(e, p);
	if (!open_path(e, p, index))
		return -1;
	if (alone)
		return 0; /* one path: nothing to choose, only to wait for */
	if (p->tpg == -1) {
		fo_cmd_inquiry_devid(&tmpl, buf, sizeof(buf));
		if (run_sync(p, &c, &tmpl) < 0) {
			drop(e, p);
			return -1;
		}
		if (c.status == MIRROR_STATUS_GOOD) {
			int g = fo_devid_tpg(buf, c.data_in_got);
			p->tpg = g >= 0 ? g : -2;
		} else {
			p->tpg = -2;
		}
	}
	if (p->tpg >= 0) {
		struct fo_tpg g[16];
		fo_cmd_rtpg(&tmpl, buf, sizeof(buf));
		if (run_sync(p, &c, &tmpl) < 0) {
			drop(e, p);
			return -1;
		}
		if (c.status == MIRROR_STATUS_GOOD) {
			int n = fo_rtpg_decode(buf, c.data_in_got, g, 16);
			for (int i = 0; i < n; i++) {
				if (g[i].id != p->tpg)
					continue;
				return g[i].state == 0 ? 0 : g[i].state == 1 ? 1 : -1;
			}
			return -1;
		}
		if (sense_is(&c, MIRROR_SK_NOT_READY))
			return -1;
		/* no RTPG after all: as without a group */
	}
	fo_cmd_tur(&tmpl);
	if (run_sync(p, &c, &tmpl) < 0) {
		drop(e, p);
		return -1;
	}
	return c.status == MIRROR_STATUS_GOOD ? 0 : -1;
}

/* Chooses the LUN's path; true when it has one. */
static bool select_path(struct engine *e, struct lun *l)
{
	int best = -1, best_rank = 99;

	for (unsigned k = 0; k < l->npaths; k++) {
		unsigned idx = l->path[k];
		int r = path_rank(e, &e->path[idx], idx, l->npaths == 1);
		if (r >= 0 && r < best_rank) {
			best = (int)idx;
			best_rank = r;
		}
	}
	if (best < 0) {
		l->cur = -1;
		if (!l->lost_since_ms)
			l->lost_since_ms = now_ms();
		l->recheck = true;
		l->recheck_at_ms = now_ms() + RECHECK_MS;
		return false;
	}
	l->cur = best;
	l->recheck = false;
	l->lost_since_ms = 0;
	return true;
}

static void want_recheck(struct engine *e, uint32_t lun)
{
	struct lun *l = &e->lun[lun];

	if (!l->recheck) {
		l->recheck = true;
		l->recheck_at_ms = 0;
		if (!l->lost_since_ms)
			l->lost_since_ms = now_ms();
	}
}

/* ---- writes ---- */

static void write_done(struct mirror_cmd *c)
{
	struct slot *s = c->user;
	struct engine *e = s->e;
	struct lun *l = &e->lun[s->lun];
	uint64_t t = now_us();
	char detail[32];
	enum fo_status st;

	if (c->result < 0) {
		/* timed out, connection lost, aborted: may or may not have */
		st = FO_INDETERMINATE;
		snprintf(detail, sizeof(detail), "%s", c->result == -ETIMEDOUT ? "timeout"
						       : c->result == -ECANCELED ? "aborted"
										 : "transport");
		e->path[s->path].broken = true;
		want_recheck(e, s->lun);
	} else if (c->status == MIRROR_STATUS_GOOD) {
		st = FO_OK;
		detail[0] = '\0';
	} else if (c->status == MIRROR_STATUS_CHECK_CONDITION && c->sense_len > 0) {
		const struct mirror_sense *sn = &c->sense_parsed;
		snprintf(detail, sizeof(detail), "%02x/%02x/%02x", sn->key, sn->asc, sn->ascq);
		/* not executed: the target refused it (SAM-5 5.14: a unit
		 * attention ends the command; NOT READY, ILLEGAL REQUEST and
		 * DATA PROTECT before any data is written); anything else may
		 * have been partly done */
		switch (sn->key) {
		case MIRROR_SK_NOT_READY:
		case MIRROR_SK_UNIT_ATTENTION:
			want_recheck(e, s->lun);
			/* fall through */
		case MIRROR_SK_ILLEGAL_REQUEST:
		case 0x7: /* DATA PROTECT */
			st = FO_FAIL;
			break;
		default:
			st = FO_INDETERMINATE;
			break;
		}
	} else if (c->status == MIRROR_STATUS_BUSY || c->status == MIRROR_STATUS_TASK_SET_FULL ||
		   c->status == 0x18 /* RESERVATION CONFLICT */) {
		st = FO_FAIL;
		snprintf(detail, sizeof(detail), "status-%02x", c->status);
	} else {
		st = FO_INDETERMINATE;
		snprintf(detail, sizeof(detail), "status-%02x", c->status);
	}
	fo_hw_done(&e->hw, s->id, t, st, detail);
	if (st != FO_OK && l->await_fault) {
		/* the controller reached its fault point: the host's stall
		 * starts at its last acknowledgement before this error */
		l->await_fault = false;
		l->armed = true;
		if (!e->fault_at_us)
			e->fault_at_us = e->fault_done_us = t;
		l->fault_last_ack_us = l->last_ack_us;
		l->first_ack_after_us = 0;
	}
	if (st != FO_OK && l->armed && !l->first_ack_after_us)
		l->hit = true;
	switch (st) {
	case FO_OK:
		e->tr->acked++;
		e->acked_since_step++;
		l->last_ack_us = t;
		if (l->armed && !l->first_ack_after_us && s->invoked_us >= e->fault_done_us)
			l->first_ack_after_us = t;
		break;
	case FO_FAIL:
		e->tr->failed++;
		break;
	default:
		e->tr->indeterminate++;
		break;
	}
	memset(l->busy + s->lba, 0, s->n);
	s->busy = false;
	e->outstanding--;
	e->last_progress_ms = now_ms();
}

static bool lun_ready(const struct engine *e, const struct lun *l)
{
	return l->cur >= 0 && !l->recheck && e->path[l->cur].t && !e->path[l->cur].broken;
}

/* One new write into a free slot; false when none can go now. */
static bool start_write(struct engine *e, struct slot *s)
{
	uint32_t lun = (uint32_t)(rnd(e) % e->nluns);
	struct lun *l = &e->lun[lun];

	if (!lun_ready(e, l)) {
		/* another LUN that can take it */
		for (uint32_t k = 0; k < e->nluns && !lun_ready(e, l); k++)
			l = &e->lun[lun = (lun + 1) % e->nluns];
		if (!lun_ready(e, l))
			return false;
	}
	uint32_t n = 1 + (uint32_t)(rnd(e) % e->o->max_blocks);
	if (n > e->blocks)
		n = (uint32_t)e->blocks;
	uint64_t lba = 0;
	bool found = false;
	for (int tries = 0; tries < 8 && !found; tries++) {
		lba = rnd(e) % (e->blocks - n + 1);
		found = memchr(l->busy + lba, 1, n) == NULL;
	}
	if (!found)
		return false;
	s->lun = lun;
	s->lba = lba;
	s->n = n;
	s->path = (unsigned)l->cur;
	/* invoked in the history before it is sent */
	s->invoked_us = now_us();
	s->id = fo_hw_invoke(&e->hw, s->invoked_us, lun, lba, n, s->path, e->trial);
	for (uint32_t k = 0; k < n; k++) {
		struct fo_stamp st = { e->run_id, lun, lba + k, s->id, ++l->gen[lba + k] };
		fo_stamp_fill(s->buf + (size_t)k * FO_BLOCK, &st);
	}
	memset(l->busy + lba, 1, n);
	mirror_cmd_write10(&s->cmd, (uint32_t)lba, (uint16_t)n, s->buf, n * FO_BLOCK);
	s->cmd.user = s;
	s->busy = true;
	e->outstanding++;
	e->tr->invoked++;
	int rc = mirror_transport_submit(e->path[s->path].t, &s->cmd, write_done);
	if (rc < 0) {
		/* not queued: whether any of it left is unknown to us */
		s->cmd.result = rc;
		write_done(&s->cmd);
	}
	return true;
}

static void fill(struct engine *e)
{
	for (unsigned i = 0; i < e->nslots; i++) {
		if (e->slot[i].busy)
			continue;
		if (!start_write(e, &e->slot[i]))
			return;
		if (e->o->writes && !e->o->duration_ms && e->tr->invoked >= e->o->writes)
			return;
	}
}

static void poll_once(struct engine *e, int timeout_ms)
{
	struct mirror_transport *ts[FO_PATHS_MAX];

	for (unsigned i = 0; i < e->npaths; i++)
		ts[i] = e->path[i].t;
	mirror_transport_poll_many(e->poller, ts, e->npaths, timeout_ms, NULL);
	for (unsigned i = 0; i < e->npaths; i++)
		if (e->path[i].broken)
			drop(e, &e->path[i]);
}

/* ---- faults ---- */

static int run_shell(const char *cmd, char *why, size_t why_len)
{
	char *argv[] = { "/bin/sh", "-c", (char *)cmd, NULL };
	pid_t pid;
	int status, rc = posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ);

	if (rc != 0) {
		snprintf(why, why_len, "--fault-cmd: %s", strerror(rc));
		return -rc;
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(why, why_len, "--fault-cmd '%s': exit status %d", cmd,
			 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		return -EIO;
	}
	return 0;
}

static void step_name(const struct fo_step *s, char *buf, size_t len)
{
	if (s->kind == FO_STEP_POINT)
		snprintf(buf, len, "%s:%s:%s", s->verb, s->ctl, s->point);
	else if (s->kind == FO_STEP_CMD)
		snprintf(buf, len, "cmd");
	else if (s->kind == FO_STEP_NONE)
		snprintf(buf, len, "none");
	else
		snprintf(buf, len, "%s%s%s", s->verb, s->ctl[0] ? ":" : "", s->ctl);
}

static void run_step(struct engine *e, const struct fo_step *s, bool first)
{
	char name[48], why[256] = "", spec[48];
	int rc = 0;

	step_name(s, name, sizeof(name));
	fo_hw_fault(&e->hw, e->trial, now_us(), name);
	if (first) {
		/* a fault point strikes when the controller gets there: its
		 * first path error marks it */
		e->fault_at_us = s->kind == FO_STEP_NONE || s->kind == FO_STEP_POINT ? 0 : now_us();
		/* the host-visible stall: per LUN, its last ack before the
		 * fault to its first ack after */
		for (uint32_t i = 0; i < e->nluns; i++) {
			/* a fault point strikes later, when the controller gets there */
			e->lun[i].armed = s->kind != FO_STEP_NONE && s->kind != FO_STEP_POINT;
			e->lun[i].await_fault = s->kind == FO_STEP_POINT;
			e->lun[i].fault_last_ack_us = e->lun[i].last_ack_us;
			e->lun[i].first_ack_after_us = 0;
			e->lun[i].hit = false;
		}
	}
	if (s->kind == FO_STEP_PAIR)
		rc = fo_pair_command(e->o->pair_cmd, e->o->pair_dir, s->verb, s->ctl, NULL, why,
				     sizeof(why));
	else if (s->kind == FO_STEP_POINT) {
		e->point_step = s;
		e->point_since_ms = e->point_checked_ms = now_ms();
		/* the next such moment, counted from now (mirror-ctl(1)) */
		snprintf(spec, sizeof(spec), "%s:1:%s", s->point, s->verb);
		rc = fo_pair_command(e->o->pair_cmd, e->o->pair_dir, "fault", s->ctl, spec, why,
				     sizeof(why));
	}
	else if (s->kind == FO_STEP_CMD)
		rc = run_shell(e->o->fault_cmd, why, sizeof(why));
	if (first && e->fault_at_us)
		e->fault_done_us = now_us();
	size_t used = strlen(e->tr->fault);
	snprintf(e->tr->fault + used, sizeof(e->tr->fault) - used, "%s%s", used ? "," : "", name);
	if (rc < 0 && !e->tr->note[0])
		snprintf(e->tr->note, sizeof(e->tr->note), "%.*s", (int)sizeof(e->tr->note) - 1, why);
	e->last_progress_ms = now_ms();
}

static bool step_due(struct engine *e, const struct fo_step *s, uint64_t since_ms)
{
	if (s->after_ms)
		return now_ms() - since_ms >= s->after_ms;
	return e->acked_since_step >= s->after_writes;
}

/* ---- the read-back and the check ---- */

/* Reads blocks [lba, lba+n) of LUN lun into buf over its path, moving
 * paths as needed.  0, or < 0 when no path answered in time. */
static int read_blocks(struct engine *e, uint32_t lun, uint64_t lba, uint32_t n, uint8_t *buf)
{
	struct lun *l = &e->lun[lun];
	uint64_t start = now_ms();

	for (;;) {
		if (lun_ready(e, l)) {
			struct mirror_cmd c;
			fo_cmd_read10(&c, (uint32_t)lba, (uint16_t)n, buf, n * FO_BLOCK);
			int rc = mirror_transport_run(e->path[l->cur].t, &c);
			if (rc == 0 && c.status == MIRROR_STATUS_GOOD && c.data_in_got == n * FO_BLOCK)
				return 0;
			if (rc < 0)
				e->path[l->cur].broken = true;
			if (rc < 0 || sense_is(&c, MIRROR_SK_NOT_READY) ||
			    sense_is(&c, MIRROR_SK_UNIT_ATTENTION)) {
				want_recheck(e, lun);
			} else {
				snprintf(e->why, sizeof(e->why),
					 "LUN %u: READ(10) of %u blocks at LBA %" PRIu64
					 ": status 0x%02x sense %x/%02x/%02x",
					 lun, n, lba, c.status, c.sense_parsed.key, c.sense_parsed.asc,
					 c.sense_parsed.ascq);
				return -EIO;
			}
		}
		if (now_ms() - start > e->o->recovery_ms) {
			snprintf(e->why, sizeof(e->why),
				 "LUN %u: no path answered a read within %u ms", lun, e->o->recovery_ms);
			return -ETIMEDOUT;
		}
		if (l->recheck) {
			for (unsigned k = 0; k < l->npaths; k++)
				if (e->path[l->path[k]].broken)
					drop(e, &e->path[l->path[k]]);
			if (!select_path(e, l))
				sleep_ms(RECHECK_MS);
		}
	}
}

/* Reads back every block history h wrote and checks it: the counts go
 * into tr, the findings stay in c (freed by the caller). */
static int check_all(struct engine *e, const struct fo_history *h, struct fo_trial_result *tr,
		     struct fo_checker *c)
{
	uint8_t *buf = malloc(READ_CHUNK * FO_BLOCK);
	char why[512];
	int rc;

	if (!buf)
		return -ENOMEM;
	rc = fo_checker_init(c, h, why, sizeof(why));
	if (rc < 0) {
		snprintf(e->why, sizeof(e->why), "%.250s", why);
		free(buf);
		return rc;
	}
	for (uint32_t lun = 0; lun < h->luns && rc == 0; lun++) {
		for (uint64_t lba = 0; lba < h->blocks && rc == 0;) {
			if (!fo_checker_written(c, lun, lba)) {
				lba++;
				continue;
			}
			uint32_t n = 1;
			while (n < READ_CHUNK && lba + n < h->blocks && fo_checker_written(c, lun, lba + n))
				n++;
			rc = read_blocks(e, lun, lba, n, buf);
			for (uint32_t k = 0; k < n && rc == 0; k++)
				fo_checker_block(c, lun, lba + k, buf + (size_t)k * FO_BLOCK, NULL);
			lba += n;
		}
	}
	fo_checker_finish(c);
	free(buf);
	memcpy(tr->counts, c->counts, sizeof(tr->counts));
	tr->violations = c->violations;
	tr->blocks_checked = c->blocks_checked;
	tr->acked_writes = c->acked_writes;
	tr->acked_writes_checked = c->acked_writes_checked;
	return rc;
}

/* ---- set-up ---- */

static int engine_init(struct engine *e, const struct fo_run_opts *o, const struct fo_history *paths)
{
	memset(e, 0, sizeof(*e));
	e->o = o;
	e->nluns = paths->luns;
	e->blocks = paths->blocks;
	e->npaths = paths->npaths;
	e->rng = o->seed ? o->seed : 1;
	for (unsigned i = 0; i < e->npaths; i++) {
		struct path *p = &e->path[i];
		snprintf(p->url, sizeof(p->url), "%s", paths->path[i].url);
		p->lun = paths->path[i].lun;
		p->tpg = -1;
		struct lun *l = &e->lun[p->lun];
		l->path[l->npaths++] = i;
	}
	for (uint32_t i = 0; i < e->nluns; i++) {
		struct lun *l = &e->lun[i];
		l->cur = -1;
		l->recheck = true;
		l->busy = calloc(e->blocks, 1);
		l->gen = calloc(e->blocks, sizeof(*l->gen));
		if (!l->busy || !l->gen || l->npaths == 0) {
			snprintf(e->why, sizeof(e->why),
				 l->npaths ? "out of memory" : "LUN %u has no path", i);
			return l->npaths ? -ENOMEM : -EINVAL;
		}
	}
	e->poller = mirror_transport_poller_new(FO_PATHS_MAX);
	if (!e->poller)
		return -ENOMEM;
	return 0;
}

static void engine_free(struct engine *e)
{
	for (unsigned i = 0; i < e->npaths; i++)
		if (e->path[i].t) {
			mirror_transport_close(e->path[i].t);
			e->path[i].t = NULL;
		}
	for (uint32_t i = 0; i < e->nluns; i++) {
		free(e->lun[i].busy);
		free(e->lun[i].gen);
	}
	for (unsigned i = 0; i < e->nslots; i++)
		free(e->slot[i].buf);
	free(e->slot);
	mirror_transport_poller_free(e->poller);
	if (e->hw.f)
		fo_hw_close(&e->hw);
	if (e->temp_history)
		unlink(e->history);
}

/* Every LUN with a path, waiting up to the recovery timeout. */
static int select_all(struct engine *e)
{
	uint64_t start = now_ms();

	for (uint32_t i = 0; i < e->nluns; i++) {
		while (!select_path(e, &e->lun[i])) {
			if (now_ms() - start > e->o->recovery_ms) {
				char last[256];
				snprintf(last, sizeof(last), "%s", e->why);
				snprintf(e->why, sizeof(e->why),
					 "LUN %u: no active path within %u ms (last: %.150s)", i,
					 e->o->recovery_ms, last);
				return -ETIMEDOUT;
			}
			sleep_ms(RECHECK_MS);
		}
	}
	return 0;
}

/* Between trials on the emulated pair: thaw, restart and heal what the
 * last trial broke, then wait until every LUN is home again (failback). */
static int restore_pair(struct engine *e)
{
	const struct fo_run_opts *o = e->o;
	struct fo_pair p;
	char why[256];
	static const char *const ids[2] = { "a", "b" };
	bool healed = false;

	if (fo_pair_load(o->pair_state, &p, why, sizeof(why)) < 0) {
		snprintf(e->why, sizeof(e->why), "%s", why);
		return -EIO;
	}
	for (unsigned k = 0; k < 2; k++) {
		if (p.running[k] && p.frozen[k])
			fo_pair_command(o->pair_cmd, o->pair_dir, "thaw", ids[k], NULL, why, sizeof(why));
		/* a fault point the last trial never reached must not strike
		 * in this one */
		if (p.running[k])
			fo_pair_command(o->pair_cmd, o->pair_dir, "disarm", ids[k], NULL, why, sizeof(why));
		if (!p.running[k] &&
		    fo_pair_command(o->pair_cmd, o->pair_dir, "restart", ids[k], NULL, why,
				    sizeof(why)) < 0) {
			snprintf(e->why, sizeof(e->why), "%s", why);
			return -EIO;
		}
	}
	for (unsigned s = 0; s < o->nsteps; s++)
		if (o->step[s].kind == FO_STEP_PAIR && strcmp(o->step[s].verb, "cut-link") == 0 && !healed) {
			fo_pair_command(o->pair_cmd, o->pair_dir, "heal-link", NULL, NULL, why,
					sizeof(why));
			healed = true;
		}
	uint64_t start = now_ms();
	for (;;) {
		bool home = fo_pair_load(o->pair_state, &p, why, sizeof(why)) == 0 && p.running[0] &&
			    p.running[1] && !p.frozen[0] && !p.frozen[1];
		for (uint32_t i = 0; home && i < p.luns; i++)
			home = p.owner[i] == p.home[i];
		if (home)
			break;
		if (now_ms() - start > o->recovery_ms) {
			snprintf(e->why, sizeof(e->why), "the pair did not fail back within %u ms",
				 o->recovery_ms);
			return -ETIMEDOUT;
		}
		sleep_ms(100);
	}
	/* the rejoined controller serves its LUNs and the link comes up a
	 * heartbeat or two after the layout says so */
	sleep_ms(1000);
	for (uint32_t i = 0; i < e->nluns; i++)
		want_recheck(e, i);
	return select_all(e);
}

/* A fault point the workload never reached leaves its controller alive:
 * the trial tested no failure, and says so. */
static void note_unreached(struct engine *e, const struct fo_step *step, unsigned ran)
{
	struct fo_pair p;
	char why[256], name[48];

	if (!e->o->pair_state || e->tr->note[0])
		return;
	for (unsigned i = 0; i < ran; i++) {
		if (step[i].kind != FO_STEP_POINT)
			continue;
		/* the supervisor notes a death a moment after it */
		for (unsigned n = 0; n < 20; n++) {
			if (fo_pair_load(e->o->pair_state, &p, why, sizeof(why)) < 0 ||
			    !p.running[step[i].ctl[0] == 'b'])
				break;
			if (n == 19) {
				step_name(&step[i], name, sizeof(name));
				snprintf(e->tr->note, sizeof(e->tr->note),
					 "%s: the fault point was not reached", name);
			}
			sleep_ms(100);
		}
	}
}

/* True while an armed fault point has not struck yet (the pair's state
 * file says its controller still runs), for at most POINT_WAIT_MS. */
static bool point_pending(struct engine *e, uint64_t now)
{
	struct fo_pair p;
	char why[256];

	if (!e->point_step)
		return false;
	if (now - e->point_since_ms > POINT_WAIT_MS) {
		e->point_step = NULL;
		return false;
	}
	if (now - e->point_checked_ms >= 200) {
		e->point_checked_ms = now;
		if (fo_pair_load(e->o->pair_state, &p, why, sizeof(why)) == 0 &&
		    !p.running[e->point_step->ctl[0] == 'b']) {
			/* struck: a tenth of the trial's writes more, so that
			 * the takeover is seen and timed */
			uint64_t more = e->o->writes / 10 > 100 ? e->o->writes / 10 : 100;
			e->point_step = NULL;
			e->invoke_until = e->tr->invoked + more;
		}
	}
	return e->point_step != NULL;
}

/* The survivor's own account of the takeover (mirror-ctl(1), STATISTICS):
 * the controller whose takeover count moved during the trial. */
static void takeovers_at_start(struct engine *e)
{
	struct fo_pair p;
	struct fo_takeover t;
	char why[256];

	memset(e->takeovers_before, 0, sizeof(e->takeovers_before));
	if (!e->o->pair_state || fo_pair_load(e->o->pair_state, &p, why, sizeof(why)) < 0)
		return;
	for (unsigned k = 0; k < 2; k++)
		if (p.running[k] && !p.frozen[k] && fo_pair_takeover(&p, k, &t, why, sizeof(why)) == 0)
			e->takeovers_before[k] = t.count;
}

static void takeover_phases(struct engine *e, struct fo_trial_result *tr, uint64_t fault_us)
{
	struct fo_pair p;
	struct fo_takeover t;
	char why[256];

	if (!e->o->pair_state || fo_pair_load(e->o->pair_state, &p, why, sizeof(why)) < 0)
		return;
	for (unsigned k = 0; k < 2; k++) {
		if (!p.running[k] || p.frozen[k] || fo_pair_takeover(&p, k, &t, why, sizeof(why)) < 0 ||
		    t.count <= e->takeovers_before[k])
			continue;
		struct fo_phases *ph = &tr->phases;
		double at = (double)t.detected_at_ms - (double)fault_us / 1000.0;
		ph->have = true;
		ph->by = (char)('a' + k);
		ph->detected_ms = at;
		ph->fenced_ms = at + (double)t.fenced_ms;
		ph->replayed_ms = at + (double)t.replayed_ms;
		ph->active_ms = at + (double)t.active_ms;
		ph->replayed_blocks = t.replayed_blocks;
		snprintf(ph->fencing, sizeof(ph->fencing), "%s", t.fencing);
	}
}

/* A LUN has not had a write sent after the fault acknowledged yet: the
 * trial goes on until every one has (or the recovery timeout ends it), so
 * that the takeover is measured, not cut short by the write count. */
static bool awaits_recovery(const struct engine *e)
{
	for (uint32_t i = 0; i < e->nluns; i++)
		if (e->lun[i].armed && !e->lun[i].first_ack_after_us)
			return true;
	return false;
}

static int run_trial(struct engine *e, struct fo_trial_result *tr)
{
	const struct fo_run_opts *o = e->o;
	uint64_t start = now_ms(), step_since = start;
	unsigned next_step = 0, nsteps = o->nsteps;
	const struct fo_step *step = o->step;

	if (nsteps && o->step[0].kind == FO_STEP_RANDOM) {
		fo_plan_random_step(&o->step[0], o->seed, e->trial, o->writes, &e->random_step);
		step = &e->random_step;
	}
	e->tr = tr;
	e->point_step = NULL;
	e->invoke_until = 0;
	e->acked_since_step = 0;
	e->last_progress_ms = start;
	for (uint32_t i = 0; i < e->nluns; i++)
		e->lun[i].armed = e->lun[i].hit = false;
	tr->takeover_ms = tr->stall_ms = -1;
	e->fault_at_us = e->fault_done_us = 0;
	takeovers_at_start(e);
	fo_hw_trial(&e->hw, e->trial, now_us());
	for (;;) {
		uint64_t now = now_ms();
		if (next_step < nsteps && step_due(e, &step[next_step], step_since)) {
			run_step(e, &step[next_step], next_step == 0);
			next_step++;
			step_since = now_ms();
			e->acked_since_step = 0;
		}
		bool more = o->duration_ms ? now - start < o->duration_ms : tr->invoked < o->writes;
		/* a plan by writes keeps the workload going until it is done */
		if (next_step < nsteps && tr->invoked < 100 * (o->writes ? o->writes : 1000))
			more = true;
		if (point_pending(e, now) || tr->invoked < e->invoke_until || awaits_recovery(e))
			more = true;
		if (more)
			fill(e);
		for (uint32_t i = 0; i < e->nluns; i++) {
			struct lun *l = &e->lun[i];
			if (!l->recheck || now < l->recheck_at_ms)
				continue;
			if (select_path(e, l))
				continue;
			if (l->lost_since_ms && now - l->lost_since_ms > o->recovery_ms) {
				tr->aborted = true;
				snprintf(tr->note, sizeof(tr->note),
					 "LUN %u: no active path within %u ms", i, o->recovery_ms);
			}
		}
		if (tr->aborted || (!more && e->outstanding == 0))
			break;
		if (e->outstanding && now_ms() - e->last_progress_ms > o->recovery_ms) {
			/* nothing completes: end those writes as a host would
			 * (abort the sessions) and check what is there */
			snprintf(tr->note, sizeof(tr->note), "no write completed for %u ms",
				 o->recovery_ms);
			for (unsigned i = 0; i < e->npaths; i++)
				drop(e, &e->path[i]);
			for (uint32_t i = 0; i < e->nluns; i++)
				want_recheck(e, i);
			e->last_progress_ms = now_ms();
			if (next_step >= nsteps)
				break;
		}
		poll_once(e, 50);
	}
	/* a trial cut short leaves writes outstanding: their sessions go, and
	 * they end indeterminate */
	if (e->outstanding)
		for (unsigned i = 0; i < e->npaths; i++)
			drop(e, &e->path[i]);
	/* the LUNs the fault hit; when it hit none, every armed one (a
	 * fault the host never noticed still has a first ack after it) */
	bool any_hit = false;
	for (uint32_t i = 0; i < e->nluns; i++)
		any_hit |= e->lun[i].armed && e->lun[i].hit;
	for (uint32_t i = 0; i < e->nluns; i++) {
		struct lun *l = &e->lun[i];
		if (l->armed && l->first_ack_after_us && (l->hit || !any_hit)) {
			double ms = (double)(l->first_ack_after_us - l->fault_last_ack_us) / 1000.0;
			if (ms > tr->stall_ms)
				tr->stall_ms = ms;
			if (e->fault_at_us && l->first_ack_after_us > e->fault_at_us) {
				ms = (double)(l->first_ack_after_us - e->fault_at_us) / 1000.0;
				if (ms > tr->takeover_ms)
					tr->takeover_ms = ms;
			}
		}
	}
	tr->fault_at_us = e->fault_at_us;
	if (tr->takeover_ms >= 0)
		takeover_phases(e, tr, e->fault_at_us);
	note_unreached(e, step, next_step);
	if (o->settle_ms)
		sleep_ms(o->settle_ms);
	return 0;
}

static int open_history(struct engine *e, const struct fo_history *hdr, struct fo_history *mem)
{
	char why[256];

	if (e->o->history) {
		snprintf(e->history, sizeof(e->history), "%s", e->o->history);
	} else {
		snprintf(e->history, sizeof(e->history), "/tmp/mirror-failover.XXXXXX");
		int fd = mkstemp(e->history);
		if (fd < 0) {
			snprintf(e->why, sizeof(e->why), "temporary history: %s", strerror(errno));
			return -errno;
		}
		close(fd);
		e->temp_history = true;
	}
	int rc = fo_hw_open(&e->hw, e->history, hdr, mem, why, sizeof(why));
	if (rc < 0)
		snprintf(e->why, sizeof(e->why), "%s", why);
	return rc;
}

static uint64_t fresh_run_id(uint64_t seed)
{
	/* distinct from every other run on the same disks, whatever the seed */
	uint64_t x = now_ns() ^ ((uint64_t)getpid() << 32) ^ (seed * 0x9E3779B97F4A7C15ull);

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x ? x : 1;
}

/* A status file that cannot be written is said once and does not stop
 * the campaign: it is for watching, the history is the record. */
static void status_update(const struct fo_run_opts *o, const struct fo_run_result *r, bool running)
{
	static bool said;
	char why[320];

	if (o->status && fo_status_write(o->status, r, o->trials, running, why, sizeof(why)) < 0 &&
	    !said) {
		fprintf(stderr, "mirror-failover: %s (going on without it)\n", why);
		said = true;
	}
}

int fo_run(const struct fo_run_opts *o, struct fo_run_result *r)
{
	struct engine e;
	struct fo_history hdr = o->paths;
	int rc;

	memset(r, 0, sizeof(*r));
	r->t = calloc(o->trials ? o->trials : 1, sizeof(*r->t));
	if (!r->t)
		return -ENOMEM;
	rc = engine_init(&e, o, &o->paths);
	if (rc == 0) {
		e.nslots = o->queue_depth;
		e.slot = calloc(e.nslots, sizeof(*e.slot));
		for (unsigned i = 0; e.slot && i < e.nslots; i++) {
			e.slot[i].e = &e;
			e.slot[i].buf = malloc((size_t)o->max_blocks * FO_BLOCK);
			if (!e.slot[i].buf)
				rc = -ENOMEM;
		}
		if (!e.slot)
			rc = -ENOMEM;
	}
	e.run_id = fresh_run_id(o->seed);
	hdr.run = e.run_id;
	hdr.w = NULL;
	if (rc == 0)
		rc = open_history(&e, &hdr, &r->hist);
	r->exit_status = MIRROR_EXIT_OTHER;
	if (rc == 0) {
		rc = select_all(&e);
		if (rc < 0)
			r->exit_status = MIRROR_EXIT_TRANSPORT;
	} else if (rc != -ENOMEM) {
		r->exit_status = MIRROR_EXIT_FILE_ERROR;
	}
	if (rc == 0)
		status_update(o, r, true);
	for (unsigned k = 0; rc == 0 && k < o->trials; k++) {
		struct fo_trial_result *tr = &r->t[k];
		e.trial = k + 1;
		tr->trial = k + 1;
		/* every trial starts from a whole pair, the first one too (a run
		 * before this one may have left a controller down) */
		if (o->pair_state && o->nsteps) {
			rc = restore_pair(&e);
			if (rc < 0) {
				r->exit_status = MIRROR_EXIT_TRANSPORT;
				break;
			}
		}
		run_trial(&e, tr);
		r->n = k + 1;
		if (r->have_check) {
			fo_checker_free(&r->last);
			r->have_check = false;
		}
		/* the history as the writer parsed it, line by line (what
		 * --check-only would read from the file) */
		if (e.hw.err) {
			snprintf(e.why, sizeof(e.why), "history: %s",
				 e.hw.why[0] ? e.hw.why : strerror(-e.hw.err));
			r->exit_status = MIRROR_EXIT_FILE_ERROR;
			rc = e.hw.err;
			break;
		}
		rc = check_all(&e, &r->hist, tr, &r->last);
		r->have_check = r->last.b != NULL;
		if (rc < 0) {
			r->exit_status = MIRROR_EXIT_TRANSPORT;
			break;
		}
		status_update(o, r, k + 1 < o->trials && !tr->aborted);
		if (o->progress)
			fprintf(stderr,
				"mirror-failover: trial %u: %s, %" PRIu64 " acked, %" PRIu64
				" indeterminate, %" PRIu64 " violations, takeover %.0f ms%s%s\n",
				tr->trial, tr->fault[0] ? tr->fault : "no fault", tr->acked,
				tr->indeterminate, tr->violations, tr->takeover_ms,
				tr->note[0] ? "; " : "", tr->note);
		if (tr->aborted) {
			snprintf(e.why, sizeof(e.why), "trial %u: %s", tr->trial, tr->note);
			r->exit_status = MIRROR_EXIT_TRANSPORT;
			rc = -ETIMEDOUT;
			break;
		}
	}
	if (r->n)
		status_update(o, r, false);
	if (rc == 0 && e.hw.err) {
		snprintf(e.why, sizeof(e.why), "%.150s: %s", e.history, strerror(-e.hw.err));
		r->exit_status = MIRROR_EXIT_FILE_ERROR;
		rc = e.hw.err;
	}
	if (rc == 0)
		r->exit_status = MIRROR_EXIT_OK;
	snprintf(r->why, sizeof(r->why), "%s", e.why);
	engine_free(&e);
	return rc;
}

int fo_check_only(const char *history, const struct fo_run_opts *o, struct fo_run_result *r)
{
	struct engine e;
	struct fo_history paths;
	char why[512];
	int rc;

	memset(r, 0, sizeof(*r));
	r->t = calloc(1, sizeof(*r->t));
	if (!r->t)
		return -ENOMEM;
	/* the paths the history names, unless the command line gives others */
	rc = fo_history_load(history, &paths, why, sizeof(why));
	if (rc < 0) {
		snprintf(r->why, sizeof(r->why), "%.250s", why);
		r->exit_status = rc == -EINVAL ? MIRROR_EXIT_MALFORMED : MIRROR_EXIT_FILE_ERROR;
		return rc;
	}
	if (o->paths.npaths) {
		if (o->paths.luns < paths.luns) {
			snprintf(r->why, sizeof(r->why), "%s has %u LUNs; the paths given reach %u",
				 history, paths.luns, o->paths.luns);
			fo_history_free(&paths);
			r->exit_status = MIRROR_EXIT_SYNTAX;
			return -EINVAL;
		}
		paths.npaths = o->paths.npaths;
		memcpy(paths.path, o->paths.path, sizeof(paths.path));
	}
	rc = engine_init(&e, o, &paths);
	fo_history_free(&paths);
	r->exit_status = MIRROR_EXIT_TRANSPORT;
	if (rc == 0)
		rc = select_all(&e);
	if (rc == 0) {
		r->n = 1;
		r->t[0].trial = 1;
		r->t[0].takeover_ms = r->t[0].stall_ms = -1;
		snprintf(r->t[0].fault, sizeof(r->t[0].fault), "check-only");
		rc = fo_history_load(history, &r->hist, why, sizeof(why));
		if (rc < 0)
			snprintf(e.why, sizeof(e.why), "%.250s", why);
		else
			rc = check_all(&e, &r->hist, &r->t[0], &r->last);
		r->have_check = r->last.b != NULL;
		if (rc == 0) {
			for (size_t i = 0; i < r->hist.n; i++) {
				enum fo_status s = r->hist.w[i].status;
				r->t[0].invoked++;
				r->t[0].acked += s == FO_OK;
				r->t[0].failed += s == FO_FAIL;
				r->t[0].indeterminate += s == FO_INDETERMINATE || s == FO_INVOKED;
			}
		}
	}
	if (rc == 0)
		r->exit_status = MIRROR_EXIT_OK;
	snprintf(r->why, sizeof(r->why), "%s", e.why);
	engine_free(&e);
	return rc;
}

void fo_run_result_free(struct fo_run_result *r)
{
	if (r->have_check)
		fo_checker_free(&r->last);
	fo_history_free(&r->hist);
	free(r->t);
	memset(r, 0, sizeof(*r));
}
