/* Failure detection, fencing, takeover and failback (source Fig. 1: if a
 * controller fails, "the remaining controller can continue operations of
 * the system without any user data loss").
 *
 * Two channels tell a dead partner from a cut link: the mirror link
 * (link.c: a command late by link_timeout_ms ends it) and the disk
 * heartbeat (state.h: the partner's counter on the shared array).
 * - Link down, partner's heartbeat alive: a cut link.  Both sides stop
 *   mirroring: each destages everything it holds, bumps its mirror epoch
 *   (which voids the copies its partner holds, journal.h) and only then
 *   acknowledges anything without a mirror; it writes through until the
 *   link is back.
 * - Partner's heartbeat stale for dead_ms, or a new incarnation of it
 *   (it died and restarted faster than the heartbeat went stale): dead.
 *   Takeover: fence it first (a frozen partner that wakes up must never
 *   write to the array again: SIGKILL through a pidfd pinned when its
 *   heartbeat first named its pid, or --fence-cmd), then replay its
 *   journal in arrival order, take its LUNs (ALUA transitioning, then
 *   active/optimized), and stay in error recovery mode (Fig. 7 block 708)
 *   until the pair is whole again.
 * - Failback: a restarted partner rejoins with an empty cache; once the
 *   link is up and our table confirmed, the survivor destages everything,
 *   hands the partner's LUNs back (the layout's owner, epoch + 1) and the
 *   rejoining controller activates them. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app/pair/ctl.h"
#include "base/log.h"

extern char **environ;

static int pidfd_open_(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int pidfd_kill(int fd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0);
}

static void write_heartbeat(struct ctl *c, enum pair_ctl_status st)
{
	struct pair_heartbeat h;

	memset(&h, 0, sizeof(h));
	h.pid = c->pid;
	h.incarnation = c->incarnation;
	h.counter = ++c->hb_counter;
	h.mono_ms = ctl_now_ms();
	h.status = st;
	h.mirror_epoch = c->mirror_epoch;
	h.host_port = (uint16_t)mirror_emu_server_port_at(c->srv, c->host_idx);
	h.mirror_port = (uint16_t)mirror_emu_server_port_at(c->srv, c->mirror_idx);
	pair_state_write_heartbeat(c->state, c->cfg.role, &h);
}

static enum pair_ctl_status my_status(const struct ctl *c)
{
	if (c->stopping)
		return PAIR_CTL_STOPPED;
	switch (c->mode) {
	case MODE_WHOLE:
		return PAIR_CTL_SERVING;
	case MODE_ALONE:
		return PAIR_CTL_ALONE;
	case MODE_TAKEOVER:
		return PAIR_CTL_TAKEOVER;
	case MODE_REJOINING:
		return PAIR_CTL_REJOINING;
	}
	return PAIR_CTL_SERVING;
}

/* ---- a cut link: write through, after voiding the partner's copies ---- */

static int go_alone(struct ctl *c, const char *why)
{
	int rc = destage_all(c);

	if (rc < 0) {
		/* nothing may be answered without a copy; the array said no:
		 * the hosts wait, and the next tick tries again */
		mirror_log(MIRROR_LOG_ERROR, "cannot destage after the link went down: %s",
			   strerror(-rc));
		return rc;
	}
	/* durably, before any write is acknowledged without a mirror */
	c->mirror_epoch++;
	write_heartbeat(c, PAIR_CTL_ALONE);
	if (c->mode == MODE_WHOLE)
		ctl_set_mode(c, MODE_ALONE);
	mirror_log(MIRROR_LOG_WARN, "writing through (mirror epoch %llu): %s",
		   (unsigned long long)c->mirror_epoch, why);
	host_ack_destaged(c);
	return 0;
}

void failover_link_down(struct ctl *c, const char *why)
{
	if (c->cfg.standalone && !c->error_recovery) {
		/* standalone, the link is all we know of the partner: losing
		 * it is the partner's failure (Fig. 7 block 708) */
		c->error_recovery = true;
		mirror_log(MIRROR_LOG_WARN, "partner lost (%s): error recovery mode", why);
	}
	if (c->mode == MODE_WHOLE)
		go_alone(c, why);
}

/* Standalone (--standalone): no partner controller on the array, no disk
 * heartbeat to read, nothing to take over.  The partner is alive as far as
 * the link goes: mirroring starts when the link is up (until our table is
 * confirmed on the large path, block 712), and error recovery (block 708)
 * ends recovery_hold_ms after the partner is back and confirmed our table,
 * the time a real pair spends on failback. */
static void standalone_tick(struct ctl *c, uint64_t now)
{
	c->partner.alive = true;
	c->partner.dead = false;
	if (c->mode == MODE_ALONE && link_ready(c))
		ctl_set_mode(c, MODE_WHOLE);
	if (c->error_recovery && link_ready(c) && c->link.partner_initialized &&
	    now - c->link.initialized_ms >= c->cfg.recovery_hold_ms) {
		c->error_recovery = false;
		mirror_log(MIRROR_LOG_INFO, "partner back for %u ms: out of error recovery",
			   c->cfg.recovery_hold_ms);
	}
}

/* ---- fencing ---- */

static void takeover(struct ctl *c, const char *why);

static void unpin_partner(struct ctl *c)
{
	struct ctl_partner *p = &c->partner;

	if (p->pidfd < 0)
		return;
	mirror_emu_server_unwatch(c->srv, p->pidfd);
	close(p->pidfd);
	p->pidfd = -1;
}

/* The partner's process ended (both run on this host: its pidfd says so at
 * once, sooner than its heartbeat goes stale). */
static void partner_exited(void *arg, uint32_t events)
{
	struct ctl *c = arg;

	(void)events;
	if (c->partner.alive && !c->partner.dead && c->mode != MODE_REJOINING &&
	    c->mode != MODE_TAKEOVER) {
		c->partner.alive = false;
		takeover(c, "its process exited");
	} else if (c->partner.pidfd >= 0) {
		mirror_emu_server_unwatch(c->srv, c->partner.pidfd);
	}
}

/* Pins the process the partner's heartbeat names: fencing signals that
 * process and no other, whatever pid numbers do meanwhile. */
static void pin_partner(struct ctl *c)
{
	struct ctl_partner *p = &c->partner;

	if (p->pidfd >= 0 && p->pidfd_pid == p->hb.pid)
		return;
	unpin_partner(c);
	p->pidfd = p->hb.pid ? pidfd_open_((pid_t)p->hb.pid) : -1;
	p->pidfd_pid = p->hb.pid;
	if (p->pidfd >= 0)
		mirror_emu_server_watch(c->srv, p->pidfd, EPOLLIN, partner_exited, c);
}

static int run_fence_cmd(struct ctl *c)
{
	char pid[24], role[4];
	char *argv[] = { "/bin/sh", "-c", (char *)c->cfg.fence_cmd, NULL };
	pid_t child;
	int status;

	snprintf(pid, sizeof(pid), "%u", c->partner.hb.pid);
	snprintf(role, sizeof(role), "%c", c->cfg.role ? 'a' : 'b');
	setenv("MIRROR_FENCE_PID", pid, 1);
	setenv("MIRROR_FENCE_CONTROLLER", role, 1);
	if (posix_spawn(&child, "/bin/sh", NULL, NULL, argv, environ) != 0)
		return -errno;
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

/* The partner never writes to the array again: killed and gone (or the
 * fence command says so).  0, or < 0 when it cannot be made sure. */
static int fence(struct ctl *c)
{
	struct ctl_partner *p = &c->partner;

	if (c->cfg.deviate[DEV_NO_FENCING]) {
		snprintf(c->to.how, sizeof(c->to.how), "not fenced (deviation no-fencing)");
		return 0;
	}
	if (c->cfg.fence_cmd) {
		int rc = run_fence_cmd(c);
		snprintf(c->to.how, sizeof(c->to.how), "fence command %s", rc == 0 ? "ok" : "failed");
		return rc;
	}
	if (p->pidfd < 0) {
		/* no process to pin: it was gone before we first saw it */
		snprintf(c->to.how, sizeof(c->to.how), "pid %u gone", p->hb.pid);
		return 0;
	}
	pidfd_kill(p->pidfd, SIGKILL);
	struct pollfd pf = { p->pidfd, POLLIN, 0 };
	int n;
	do
		n = poll(&pf, 1, 2000);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		snprintf(c->to.how, sizeof(c->to.how), "pid %u did not die", p->hb.pid);
		return -ETIMEDOUT;
	}
	snprintf(c->to.how, sizeof(c->to.how), "SIGKILL pid %u", p->hb.pid);
	unpin_partner(c);
	return 0;
}

/* ---- takeover ---- */

static int replay(struct ctl *c)
{
	struct pair_replay_block *v;
	size_t n;
	unsigned flags = (c->cfg.deviate[DEV_REPLAY_STALE] ? PAIR_REPLAY_NEWEST_FIRST : 0) |
			 (c->cfg.deviate[DEV_REPLAY_INVALID] ? PAIR_REPLAY_INVALID : 0);
	int rc = pair_journal_replay_list(&c->journal, c->partner.hb.mirror_epoch, flags, &v, &n);

	if (rc < 0)
		return rc;
	/* runs of blocks that follow each other in the list, the NVRAM and
	 * the LUN go to the array in one write */
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		while (j < n && j - i < MIRROR_LARGE_MAX_BLOCKS && v[j].volume == v[i].volume &&
		       v[j].lba == v[i].lba + (j - i) &&
		       v[j].nvram_addr == v[i].nvram_addr + (j - i) * MIRROR_BLOCK_SIZE)
			j++;
		if (v[i].volume < 0 || (uint32_t)v[i].volume >= c->layout.luns) {
			i = j; /* a volume we do not know: nothing to write it to */
			continue;
		}
		uint32_t blocks = (uint32_t)(j - i);
		mirror_nvram_load(&c->nv, v[i].nvram_addr, c->scratch, blocks * MIRROR_BLOCK_SIZE);
		rc = array_write_lun(c, (uint32_t)v[i].volume, v[i].lba, blocks, c->scratch);
		if (rc < 0)
			break;
		c->to.replayed_blocks += blocks;
		fault_event(c, FP_DURING_REPLAY);
		i = j;
	}
	free(v);
	return rc < 0 ? rc : 0;
}

/* The fenced partner's last word on its mirror epoch.  Its process may
 * have ended (pidfd) within a heartbeat period of moving its epoch on a cut
 * link, before read_partner saw the move: replaying by the epoch read
 * then would write the copies it voided over what it wrote through.
 * Epochs only grow, so a torn read keeps the one we have. */
static void final_partner_epoch(struct ctl *c)
{
	struct pair_heartbeat h;

	if (pair_state_read_heartbeat(c->state, 1u - c->cfg.role, &h) < 0 ||
	    h.incarnation != c->partner.incarnation)
		return;
	if (h.mirror_epoch > c->partner.hb.mirror_epoch)
		c->partner.hb.mirror_epoch = h.mirror_epoch;
}

static void takeover(struct ctl *c, const char *why)
{
	uint64_t now = ctl_now_ms();
	unsigned other = 1u - c->cfg.role;
	int rc;

	memset(&c->to, 0, sizeof(c->to));
	c->to.detected_ms = now;
	mirror_log(MIRROR_LOG_WARN, "partner %c dead (%s): taking over", other ? 'b' : 'a', why);
	ctl_set_mode(c, MODE_TAKEOVER);
	write_heartbeat(c, PAIR_CTL_TAKEOVER);
	c->partner.dead = true;
	rc = fence(c);
	if (rc < 0) {
		/* without fencing a takeover could lose writes: stay as we
		 * are and try again at the next heartbeat */
		mirror_log(MIRROR_LOG_ERROR, "cannot fence the partner (%s): no takeover", c->to.how);
		c->partner.dead = false;
		ctl_set_mode(c, MODE_ALONE);
		return;
	}
	c->to.fenced = true;
	c->to.fenced_ms = ctl_now_ms();
	final_partner_epoch(c);
	if (c->link.state == LINK_UP)
		link_drop(c, "partner dead");
	/* our own writes in flight to it: on the array before they are
	 * answered (nothing to void on a dead partner, but the epoch moves
	 * all the same) */
	go_alone(c, "partner dead");
	rc = replay(c);
	if (rc < 0)
		mirror_log(MIRROR_LOG_ERROR, "replay stopped: %s", strerror(-rc));
	c->to.replayed_ms = ctl_now_ms();
	pair_journal_reset(&c->journal);
	uint32_t rs = mirror_region_start(&c->cfg.profile, other);
	mirror_nvram_mark_invalid(&c->nv, rs, mirror_region_end(&c->cfg.profile, other) - rs);
	/* the partner's LUNs are ours: durably, before we serve them */
	struct pair_layout l;
	if (pair_state_read_layout(c->state, &l) == 0) {
		for (uint32_t i = 0; i < l.luns; i++)
			if (l.owner[i] == other)
				l.owner[i] = (uint8_t)c->cfg.role;
		l.epoch++;
		if (pair_state_write_layout(c->state, &l) == 0)
			c->layout = l;
	}
	c->error_recovery = true;
	c->takeovers++;
	ctl_set_mode(c, MODE_ALONE);
	c->to.active_ms = ctl_now_ms();
	c->last_to = c->to;
	write_heartbeat(c, PAIR_CTL_ALONE);
	mirror_log(MIRROR_LOG_WARN,
		   "takeover done: fenced %llu ms, replayed %llu blocks in %llu ms, active at %llu ms",
		   (unsigned long long)(c->to.fenced_ms - c->to.detected_ms),
		   (unsigned long long)c->to.replayed_blocks,
		   (unsigned long long)(c->to.replayed_ms - c->to.fenced_ms),
		   (unsigned long long)(c->to.active_ms - c->to.detected_ms));
}

/* ---- failback ---- */

static bool partner_luns_held(const struct ctl *c)
{
	for (uint32_t i = 0; i < c->layout.luns; i++)
		if (c->layout.home[i] != c->cfg.role && c->layout.owner[i] == c->cfg.role)
			return true;
	return false;
}

/* The survivor hands the partner's LUNs back once the partner is back,
 * the link is up and our table confirmed: everything destaged first, so
 * that the array is all the partner needs. */
static void hand_back(struct ctl *c)
{
	struct pair_layout l;

	c->handing_back = true;
	ctl_alua_update(c); /* transitioning while we destage */
	if (destage_all(c) < 0) {
		c->handing_back = false;
		return;
	}
	host_ack_destaged(c);
	if (pair_state_read_layout(c->state, &l) < 0) {
		c->handing_back = false;
		return;
	}
	for (uint32_t i = 0; i < l.luns; i++)
		if (l.home[i] != c->cfg.role)
			l.owner[i] = l.home[i];
	l.epoch++;
	if (pair_state_write_layout(c->state, &l) == 0) {
		c->layout = l;
		c->failbacks++;
		mirror_log(MIRROR_LOG_INFO, "LUNs handed back to the partner (layout epoch %llu)",
			   (unsigned long long)l.epoch);
	}
	c->handing_back = false;
	ctl_alua_update(c);
}

/* A rejoining controller takes what the layout gives it back.  If its last
 * incarnation was serving when it died, the partner must replay that one's
 * writes first (a takeover moves the layout's epoch): until then every LUN
 * stays standby here, however the layout reads, or the replay could land
 * on writes this incarnation accepted.  A partner that never saw the last
 * incarnation alive will not take over: after three dead_ms we stop
 * waiting. */
static void rejoin_check(struct ctl *c, uint64_t now)
{
	struct pair_layout l;
	bool all = true;

	if (pair_state_read_layout(c->state, &l) < 0)
		return;
	c->layout = l;
	if (c->expect_takeover) {
		if (l.epoch == c->rejoin_epoch && now - c->rejoin_since_ms < 3u * c->cfg.dead_ms)
			return;
		c->expect_takeover = false;
	}
	for (uint32_t i = 0; i < l.luns; i++)
		if (l.home[i] == c->cfg.role && l.owner[i] != c->cfg.role)
			all = false;
	ctl_alua_update(c);
	if (all) {
		mirror_log(MIRROR_LOG_INFO, "rejoined: serving our LUNs again");
		ctl_set_mode(c, link_ready(c) ? MODE_WHOLE : MODE_ALONE);
	}
}

/* ---- the heartbeat ---- */

static void read_partner(struct ctl *c, uint64_t now)
{
	struct ctl_partner *p = &c->partner;
	struct pair_heartbeat h;

	if (pair_state_read_heartbeat(c->state, 1u - c->cfg.role, &h) < 0)
		return; /* torn or never written: as if unchanged */
	if (h.incarnation && h.incarnation != p->incarnation) {
		/* a new process: if the old one was alive and served, it died
		 * (a restart quicker than the heartbeat went stale) */
		bool old_alive = p->alive && p->incarnation;
		uint64_t old_epoch = p->hb.mirror_epoch;
		p->hb = h;
		p->hb_counter = h.counter;
		p->hb_seen_ms = now;
		if (old_alive && !p->dead && c->mode != MODE_REJOINING) {
			/* the replay is of the old process's copies: its last
			 * epoch, which the new one started one past
			 * (failover_startup), not the new one's */
			if (h.mirror_epoch > old_epoch)
				old_epoch = h.mirror_epoch - 1;
			p->hb.mirror_epoch = old_epoch;
			p->alive = false;
			takeover(c, "it restarted");
			p->hb.mirror_epoch = h.mirror_epoch;
		}
		p->incarnation = h.incarnation;
		p->alive = h.status != PAIR_CTL_STOPPED && h.status != PAIR_CTL_DOWN;
		p->dead = false;
		pin_partner(c);
		return;
	}
	p->hb = h;
	if (h.counter != p->hb_counter) {
		p->hb_counter = h.counter;
		p->hb_seen_ms = now;
		if (!p->alive && h.status != PAIR_CTL_STOPPED && h.status != PAIR_CTL_DOWN) {
			p->alive = true;
			pin_partner(c);
		}
	}
	if (h.status == PAIR_CTL_STOPPED)
		p->alive = false;
}

void failover_tick(struct ctl *c, uint64_t now)
{
	struct ctl_partner *p = &c->partner;

	write_heartbeat(c, my_status(c));
	if (c->cfg.standalone) {
		standalone_tick(c, now);
		return;
	}
	read_partner(c, now);
	if (c->mode == MODE_REJOINING) {
		rejoin_check(c, now);
		return;
	}
	if (p->alive && !p->dead && now - p->hb_seen_ms > c->cfg.dead_ms) {
		p->alive = false;
		takeover(c, "its heartbeat stopped");
		return;
	}
	/* a cut link with a living partner (link.c found the link down) */
	if (c->mode == MODE_WHOLE && !link_ready(c) && c->link.state == LINK_DOWN &&
	    now - c->started_ms > c->cfg.dead_ms && c->link.up_since_ms)
		go_alone(c, "mirror link down");
	/* back to mirroring: the link is up and our table confirmed */
	if (c->mode == MODE_ALONE && link_ready(c) && c->link.partner_initialized && p->alive &&
	    p->hb.status != PAIR_CTL_REJOINING)
		ctl_set_mode(c, MODE_WHOLE);
	if (c->mode == MODE_ALONE && partner_luns_held(c) && link_ready(c) &&
	    c->link.partner_initialized && p->alive && p->hb.status == PAIR_CTL_REJOINING)
		hand_back(c);
	/* the pair is whole again: out of error recovery (Fig. 7 block 708) */
	if (c->error_recovery && !partner_luns_held(c) && p->alive &&
	    p->hb.status == PAIR_CTL_SERVING && link_ready(c)) {
		c->error_recovery = false;
		ctl_set_mode(c, MODE_WHOLE);
		mirror_log(MIRROR_LOG_INFO, "pair whole again: out of error recovery");
	}
}

/* At start: a partner that took over our LUNs (or is alive and will, as
 * it saw our old incarnation die) gets them back through failback; we hold
 * nothing it needs, so the cache starts empty. */
int failover_startup(struct ctl *c)
{
	struct pair_heartbeat h;
	bool partner_up = false;

	c->partner.pidfd = -1;
	if (c->cfg.standalone) {
		c->partner.alive = true; /* as far as the link goes */
		ctl_set_mode(c, MODE_ALONE);
		write_heartbeat(c, my_status(c));
		return 0;
	}
	if (pair_state_read_heartbeat(c->state, 1u - c->cfg.role, &h) == 0 &&
	    h.status != PAIR_CTL_STOPPED && h.status != PAIR_CTL_DOWN &&
	    ctl_now_ms() - h.mono_ms < c->cfg.dead_ms)
		partner_up = true;
	for (uint32_t i = 0; i < c->layout.luns; i++)
		if (c->layout.home[i] == c->cfg.role && c->layout.owner[i] != c->cfg.role)
			partner_up = true; /* taken over: wait for them */
	if (partner_up) {
		uint8_t mine = 0;
		struct pair_heartbeat me;
		if (pair_state_read_heartbeat(c->state, c->cfg.role, &me) == 0) {
			c->mirror_epoch = me.mirror_epoch + 1;
			c->expect_takeover = me.status != PAIR_CTL_STOPPED &&
					     me.status != PAIR_CTL_DOWN;
		}
		c->rejoin_epoch = c->layout.epoch;
		c->rejoin_since_ms = ctl_now_ms();
		for (uint32_t i = 0; i < c->layout.luns; i++)
			mine |= c->layout.home[i] == c->cfg.role;
		ctl_set_mode(c, mine ? MODE_REJOINING : MODE_ALONE);
	} else {
		ctl_set_mode(c, MODE_ALONE); /* WHOLE once the link is up */
	}
	write_heartbeat(c, my_status(c));
	return 0;
}
