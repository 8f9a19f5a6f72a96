/* The mirror link: this controller as the sender, on one iSCSI session to
 * its partner's mirror port (libiscsi through the transport seam).
 *
 * Everything goes out in one queue, in the order the controller asked:
 * the array table first on every new session (so that the partner ties the
 * session to this controller's mirror epoch, journal.h), mirror operations
 * as Fig. 7 chooses their path, MIRROR RELEASE after destage, a TEST UNIT
 * READY when the link has been quiet for a heartbeat.  A command that does
 * not complete within link_timeout_ms ends the session (transport/iscsi.c)
 * and the link is down: failover.c decides what that means.  Sessions are
 * opened by a thread of their own, so that a partner that accepts TCP but
 * never answers (frozen) cannot stall the host port. */
#include "config.h"

/* pipe2: a pipe that is non-blocking and close-on-exec from the start */
#define _GNU_SOURCE 1

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <mirror/exit_status.h>
#include <mirror/sender.h>
#include <mirror/url.h>

#include "app/pair/ctl.h"
#include "base/bytes.h"
#include "base/log.h"

enum link_op_kind { LOP_MIRROR = 0, LOP_TABLE, LOP_RELEASE, LOP_TUR };

struct link_op {
	struct mirror_cmd cmd;
	enum link_op_kind kind;
	struct ctl *c;
	uint64_t entry;           /* LOP_MIRROR */
	uint64_t session;         /* the session it was queued for */
	enum mirror_path path;
	struct mirror_release rel;/* LOP_RELEASE: what it releases */
	uint8_t *buf;
	struct link_op *next;
};

/* Ranges waiting for the next MIRROR RELEASE. */
static struct mirror_release pending_rel;
static uint64_t pending_rel_entries[MIRROR_RELEASE_RANGES_MAX];
static unsigned pending_rel_n;

/* ---- the connector thread ---- */

struct connect_job {
	struct ctl *c;
	char url[256];
	char initiator[224];
	struct mirror_transport_opts opts;
};

struct connect_result {
	struct mirror_transport *t;
	char why[256];
};

static void *connector(void *arg)
{
	struct connect_job *job = arg;
	struct connect_result r;
	ssize_t n;

	memset(&r, 0, sizeof(r));
	job->opts.initiator_name = job->initiator;
	r.t = mirror_transport_open(job->url, &job->opts, r.why, sizeof(r.why));
	struct connect_result *out = malloc(sizeof(*out));
	if (out)
		*out = r;
	else if (r.t)
		mirror_transport_close(r.t);
	n = write(job->c->link.pipe_wr, &out, sizeof(out));
	(void)n; /* the pipe has room for one pointer: one attempt at a time */
	explicit_bzero(job->url, sizeof(job->url)); /* --partner-mirror may hold a password */
	free(job);
	return NULL;
}

/* The partner's mirror port: from the heartbeat sector it publishes. */
static bool partner_url(struct ctl *c, char *url, size_t len)
{
	if (c->cfg.partner_mirror) {
		/* given (--partner-mirror): a partner that is no controller of
		 * this pair, e.g. mirror-conform playing one */
		snprintf(url, len, "%s", c->cfg.partner_mirror);
		return true;
	}
	if (!c->partner.hb.mirror_port)
		return false;
	snprintf(url, len, "iscsi://127.0.0.1:%u/%s:pair-%c-mirror/0", c->partner.hb.mirror_port,
		 MIRROR_IQN_PREFIX, c->cfg.role ? 'a' : 'b');
	return true;
}

static void start_connect(struct ctl *c, uint64_t now)
{
	struct connect_job *job;

	if (c->link.th_running || c->link.cut)
		return;
	job = calloc(1, sizeof(*job));
	if (!job)
		return;
	if (!partner_url(c, job->url, sizeof(job->url))) {
		free(job);
		return;
	}
	job->c = c;
	/* what logs and the stats show: never a password */
	if (mirror_url_redact(job->url, c->link.url, sizeof(c->link.url)) < 0)
		snprintf(c->link.url, sizeof(c->link.url), "%s", "iscsi://?");
	/* CHAP outside the URL: the secrets file of the mirror port, which
	 * the partner reads too */
	if (c->cfg.chap && c->cfg.chap->initiator.set) {
		job->opts.chap_user = c->cfg.chap->initiator.user;
		job->opts.chap_secret = c->cfg.chap->initiator.secret;
	}
	if (c->cfg.chap && c->cfg.chap->target.set) {
		job->opts.target_chap_user = c->cfg.chap->target.user;
		job->opts.target_chap_secret = c->cfg.chap->target.secret;
	}
	/* a name per session: the partner's journal ties operations to the
	 * session they came on */
	c->link.session++;
	snprintf(job->initiator, sizeof(job->initiator), "%s:pair-%s.%016llx.%llu",
		 MIRROR_IQN_PREFIX, c->name, (unsigned long long)c->incarnation,
		 (unsigned long long)c->link.session);
	job->opts.connect_timeout_ms = c->cfg.link_timeout_ms;
	job->opts.command_timeout_ms = c->cfg.link_timeout_ms;
	job->opts.queue_depth = c->cfg.queue_depth;
	c->link.last_try_ms = now;
	if (pthread_create(&c->link.th, NULL, connector, job) != 0) {
		free(job);
		return;
	}
	c->link.th_running = true;
	c->link.state = LINK_CONNECTING;
}

static void watch_transport(struct ctl *c);
static void pump_queue(struct ctl *c);
static void transport_ready(void *arg, uint32_t events);

static void connect_done(void *arg, uint32_t events)
{
	struct ctl *c = arg;
	struct connect_result *r = NULL;
	ssize_t n;

	(void)events;
	n = read(c->link.pipe_rd, &r, sizeof(r));
	if (n != sizeof(r))
		return;
	pthread_join(c->link.th, NULL);
	c->link.th_running = false;
	if (!r || !r->t) {
		snprintf(c->link.why, sizeof(c->link.why), "%s", r ? r->why : "out of memory");
		c->link.state = LINK_DOWN;
		free(r);
		return;
	}
	if (c->link.cut || c->stopping) {
		mirror_transport_close(r->t);
		free(r);
		c->link.state = LINK_DOWN;
		return;
	}
	c->link.t = r->t;
	free(r);
	c->link.state = LINK_UP;
	c->link.partner_initialized = false;
	c->link.table_sent = false;
	c->link.up_since_ms = c->link.last_ok_ms = ctl_now_ms();
	c->link.why[0] = '\0';
	mirror_log(MIRROR_LOG_INFO, "mirror link up to %s", c->link.url);
	watch_transport(c);
	pump_queue(c);
}

/* ---- the queue ---- */

static void enqueue(struct ctl *c, struct link_op *op)
{
	op->next = NULL;
	c->link.queued++;
	if (c->link.q_tail)
		c->link.q_tail->next = op;
	else
		c->link.q_head = op;
	c->link.q_tail = op;
}

static void op_free(struct link_op *op)
{
	free(op->buf);
	free(op);
}

static void op_done(struct mirror_cmd *cmd);

static void watch_transport(struct ctl *c)
{
	struct ctl_link *l = &c->link;
	int fd = l->t ? mirror_transport_fd(l->t) : -1;
	short ev = l->t ? mirror_transport_events(l->t) : 0;
	uint32_t want = (ev & POLLIN ? EPOLLIN : 0) | (ev & POLLOUT ? EPOLLOUT : 0);

	if (fd != l->watched_fd) {
		if (l->watched_fd >= 0)
			mirror_emu_server_unwatch(c->srv, l->watched_fd);
		l->watched_fd = -1;
		if (fd >= 0 && mirror_emu_server_watch(c->srv, fd, want, transport_ready, c) == 0)
			l->watched_fd = fd;
		return;
	}
	if (fd >= 0)
		mirror_emu_server_watch_mod(c->srv, fd, want);
}

/* The table first on a session: its generation carries our mirror epoch
 * (journal.h), so that the partner can tell this session's copies from
 * those of a session before we stopped mirroring. */
static struct link_op *table_op(struct ctl *c)
{
	struct link_op *op = calloc(1, sizeof(*op));
	int len;

	if (!op)
		return NULL;
	op->buf = malloc(MIRROR_TABLE_MAX_BYTES);
	if (!op->buf) {
		free(op);
		return NULL;
	}
	c->table.generation = PAIR_GEN(c->mirror_epoch, ++c->link.table_version);
	len = mirror_table_update_encode(&c->table, op->buf, MIRROR_TABLE_MAX_BYTES);
	if (len < 0 || mirror_table_update_cdb_encode(&c->cfg.profile, (uint32_t)len, op->cmd.cdb,
						      sizeof(op->cmd.cdb)) < 0) {
		op_free(op);
		return NULL;
	}
	op->kind = LOP_TABLE;
	op->cmd.cdb_len = MIRROR_TABLE_CDB_LEN;
	op->cmd.dir = MIRROR_DIR_OUT;
	op->cmd.data_out = op->buf;
	op->cmd.data_out_len = (uint32_t)len;
	return op;
}

static void pump_queue(struct ctl *c)
{
	struct ctl_link *l = &c->link;

	if (l->state != LINK_UP || !l->t)
		return;
	if (!l->table_sent) {
		struct link_op *op = table_op(c);
		if (!op) {
			link_drop(c, "out of memory for the array table");
			return;
		}
		/* ahead of everything queued */
		op->session = l->session;
		op->c = c;
		op->cmd.user = op;
		if (mirror_transport_submit(l->t, &op->cmd, op_done) < 0) {
			op_free(op);
			link_drop(c, "cannot submit the array table");
			return;
		}
		l->outstanding++;
		l->table_sent = true;
	}
	bool submitted = false;
	while (l->q_head) {
		struct link_op *op = l->q_head;
		op->session = l->session;
		op->c = c;
		op->cmd.user = op;
		int rc = mirror_transport_submit(l->t, &op->cmd, op_done);
		if (rc == -EAGAIN)
			break; /* queue depth reached: the order is kept */
		l->q_head = op->next;
		l->queued--;
		if (!l->q_head)
			l->q_tail = NULL;
		if (rc < 0) {
			op->cmd.result = rc;
			op_done(&op->cmd);
			continue;
		}
		l->outstanding++;
		submitted = true;
	}
	/* Written out when the loop is about to wait (link_before_wait): all
	 * that the round submitted in one burst, without a wait for EPOLLOUT
	 * (two epoll_ctl and a wake-up per mirror operation) nor a write per
	 * submission (a segment, and a wake-up of the partner, each). */
	if (submitted)
		l->flush_due = true;
	if (!l->flush_due)
		watch_transport(c);
}

int link_before_wait(struct ctl *c)
{
	struct ctl_link *l = &c->link;
	int did = 0;

	for (unsigned round = 0; l->flush_due && round < 4; round++) {
		l->flush_due = false;
		if (l->state != LINK_UP || !l->t || c->stopping)
			return did;
		int rc = mirror_transport_service(l->t, POLLOUT);
		if (rc < 0) {
			if (l->state == LINK_UP)
				link_drop(c, mirror_transport_error(l->t));
			return 1;
		}
		if (rc > 0) {
			did = 1;
			pump_queue(c); /* completions made room in the queue */
		}
	}
	/* what the socket did not take waits for EPOLLOUT */
	l->flush_due = false;
	watch_transport(c);
	return did;
}

/* ---- completions ---- */

static void mirror_done(struct ctl *c, struct link_op *op)
{
	struct pair_entry *e = pair_cache_get(&c->cache, op->entry);
	bool ok = op->cmd.result == 0 && op->cmd.status == MIRROR_STATUS_GOOD;

	if (c->cfg.deviate[DEV_ACK_ON_CHECK] && op->cmd.result == 0)
		ok = true; /* the deviation: any answer will do */
	if (!e || e->state != E_MIRRORING)
		return; /* made safe another way meanwhile (failover.c) */
	if (!ok) {
		/* A CHECK CONDITION is never acknowledged to the host as GOOD:
		 * the link is not to be trusted any more, and failover.c makes
		 * the entry safe by destaging it before it answers.  (A retry
		 * on this session could reach the partner after newer writes
		 * of the same blocks and reorder its journal.) */
		c->link.errors++;
		if (op->cmd.result == 0)
			mirror_log(MIRROR_LOG_WARN,
				   "the partner answered a mirror operation with status 0x%02x, "
				   "sense %x/%02x/%02x", op->cmd.status, op->cmd.sense_parsed.key,
				   op->cmd.sense_parsed.asc, op->cmd.sense_parsed.ascq);
		link_drop(c, "a mirror operation failed");
		return;
	}
	c->link.good++;
	if (e->ops_left && --e->ops_left == 0) {
		e->mirrored = true;
		e->state = E_DIRTY;
		fault_event(c, FP_AFTER_MIRROR);
		host_write_safe(c, e);
	}
}

static void op_done(struct mirror_cmd *cmd)
{
	struct link_op *op = cmd->user;
	struct ctl *c = op->c;
	bool ok = cmd->result == 0 && cmd->status == MIRROR_STATUS_GOOD;

	c->link.outstanding--;
	if (cmd->result == 0)
		c->link.last_ok_ms = ctl_now_ms();
	switch (op->kind) {
	case LOP_MIRROR:
		mirror_done(c, op);
		break;
	case LOP_TABLE:
		if (ok && op->session == c->link.session) {
			c->link.partner_initialized = true;
			c->link.initialized_ms = ctl_now_ms();
		}
		else if (cmd->result == 0 && !ok)
			mirror_log(MIRROR_LOG_WARN, "the partner refused our array table (status 0x%02x)",
				   cmd->status);
		break;
	case LOP_RELEASE:
		if (ok)
			c->link.releases++;
		break;
	case LOP_TUR:
		c->link.tur_out = false;
		break;
	}
	if (cmd->result < 0 && c->link.state == LINK_UP)
		link_drop(c, mirror_transport_error(c->link.t));
	op_free(op);
}

/* The loop's epoll readiness goes to the transport as it is: no poll(2)
 * per round (about four a mirrored write before).  No EPOLLRDHUP is asked
 * for: a peer's FIN is POLLIN (its last responses are read first), as
 * poll(2) says it. */
static void transport_ready(void *arg, uint32_t events)
{
	struct ctl *c = arg;
	short revents = (short)((events & EPOLLIN ? POLLIN : 0) | (events & EPOLLOUT ? POLLOUT : 0) |
				(events & EPOLLERR ? POLLERR : 0) | (events & EPOLLHUP ? POLLHUP : 0));

	if (!c->link.t)
		return;
	int rc = mirror_transport_service(c->link.t, revents);
	if (rc < 0 && c->link.state == LINK_UP)
		link_drop(c, mirror_transport_error(c->link.t));
	else
		pump_queue(c);
}

/* ---- what the controller asks ---- */

/* Queues the mirror operations of a cache entry (the splitter cuts them
 * at 1 MiB, Fig. 3; each on the path Fig. 7 allows). */
int link_mirror(struct ctl *c, struct pair_entry *e)
{
	if (!link_ready(c))
		return -ENOTCONN;
	struct mirror_splitter sp;
	struct mirror_write w;
	struct mirror_sender_state st;
	struct mirror_op mop;
	char why[160];
	uint8_t *data;
	int rc;

	memset(&w, 0, sizeof(w));
	w.lba = (uint32_t)e->lba;
	w.bytes = (uint64_t)e->blocks * MIRROR_BLOCK_SIZE;
	w.nvram_addr = e->nvram_addr;
	w.region = c->cfg.role;
	w.volume = (uint8_t)e->lun;
	w.array_number = (uint8_t)e->lun;
	w.array_serial = get_be64(c->layout.array_serial);
	const bool *dev = c->cfg.deviate;
	st.recovery = c->error_recovery && !dev[DEV_SENDER_SMALL_IN_RECOVERY];
	st.partner_initialized = c->link.partner_initialized || dev[DEV_SENDER_IGNORE_TABLE];
	rc = mirror_split_init(&sp, &c->cfg.profile, &w, &st,
			       dev[DEV_SENDER_ALWAYS_LARGE] ? MIRROR_POLICY_LARGE : c->cfg.path_policy,
			       c->link.next_sequence, why, sizeof(why));
	if (rc < 0) {
		mirror_log(MIRROR_LOG_ERROR, "cannot mirror LUN %u LBA %llu: %s", e->lun,
			   (unsigned long long)e->lba, why);
		return rc;
	}
	data = malloc(w.bytes);
	if (!data)
		return -ENOMEM;
	pair_cache_copy(&c->cache, e, data);
	unsigned n = 0;
	bool large_any = false;
	while (mirror_split_next(&sp, &mop) == 1) {
		struct link_op *op = calloc(1, sizeof(*op));
		struct mirror_op_wire wire;
		/* the deviations of the sending side (mirror-conform
		 * --check-sender proves each is caught) */
		if (dev[DEV_SENDER_IGNORE_HIGH_BITS] && mop.path == MIRROR_PATH_LARGE &&
		    mop.why.reason == MIRROR_REASON_HIGH_BITS_DIFFER) {
			/* element 2 keeps element 1's high bits (the 12-byte
			 * CDB's one field): its data lands 32 MiB off */
			const uint32_t span = MIRROR_BLOCK_SIZE << 16;
			for (unsigned i = 1; i < mop.sg_count; i++)
				mop.sg[i].nvram_addr = mop.sg[0].nvram_addr / span * span +
						       mop.sg[i].nvram_addr % span;
			mop.path = MIRROR_PATH_SMALL;
			sp.next_sequence--; /* a small op carries none */
		}
		bool whole = dev[DEV_SENDER_NO_SPLIT] && mop.path == MIRROR_PATH_LARGE &&
			     mop.data_offset == 0 && w.bytes > (uint64_t)mop.blocks * MIRROR_BLOCK_SIZE;
		size_t cap = MIRROR_METADATA_BYTES +
			     (whole ? w.bytes : (size_t)mop.blocks * MIRROR_BLOCK_SIZE);
		if (op)
			op->buf = malloc(cap);
		if (!op || !op->buf ||
		    mirror_op_build(&c->cfg.profile, &mop, &w, data, op->buf, cap, &wire) < 0) {
			if (op)
				op_free(op);
			free(data);
			return -ENOMEM;
		}
		if (whole) {
			/* one op: all the data, its number of blocks (bytes 12-15) */
			memcpy(op->buf + MIRROR_METADATA_BYTES, data, w.bytes);
			put_be32(op->buf + 12, (uint32_t)(w.bytes / MIRROR_BLOCK_SIZE));
			wire.data_out_len = MIRROR_METADATA_BYTES + w.bytes;
		}
		if (mop.path == MIRROR_PATH_SMALL && dev[DEV_SENDER_WRONG_OPCODE])
			wire.cdb[0] = mirror_small_opcode_for_region(&c->cfg.profile, 1u - c->cfg.role);
		if (mop.path == MIRROR_PATH_SMALL && dev[DEV_SENDER_CLEAR_CONTROL] && wire.cdb_len == 12)
			wire.cdb[11] &= (uint8_t)~0x05u; /* NACA (bit 2), LINK (bit 0) */
		large_any |= mop.path == MIRROR_PATH_LARGE;
		memcpy(op->cmd.cdb, wire.cdb, wire.cdb_len);
		op->cmd.cdb_len = wire.cdb_len;
		op->cmd.dir = MIRROR_DIR_OUT;
		op->cmd.data_out = op->buf;
		op->cmd.data_out_len = (uint32_t)wire.data_out_len;
		op->kind = LOP_MIRROR;
		op->entry = e->id;
		op->path = mop.path;
		c->link.ops[mop.path == MIRROR_PATH_LARGE]++;
		if ((unsigned)mop.why.reason < sizeof(c->link.reasons) / sizeof(c->link.reasons[0]))
			c->link.reasons[mop.why.reason]++;
		enqueue(c, op);
		n++;
		if (whole)
			break;
	}
	c->link.next_sequence = sp.next_sequence + (dev[DEV_SENDER_SEQ_GAP] && large_any);
	free(data);
	e->ops_left = (uint8_t)n;
	pump_queue(c);
	return 0;
}

/* A destaged entry's ranges join the next MIRROR RELEASE; the entry may be
 * reclaimed once that command is queued ahead of anything that could
 * reuse its NVRAM. */
void link_release(struct ctl *c, struct pair_entry *e)
{
	if (!link_ready(c) || !e->mirrored) {
		/* nothing of it on the partner we could reach: failover.c
		 * voids what the partner holds before it matters */
		e->released = true;
		return;
	}
	uint32_t bytes = e->blocks * MIRROR_BLOCK_SIZE;
	uint32_t rs = mirror_region_start(&c->cfg.profile, c->cfg.role);
	uint32_t re = mirror_region_end(&c->cfg.profile, c->cfg.role);
	uint32_t first = re - e->nvram_addr < bytes ? re - e->nvram_addr : bytes;
	if (pending_rel.count + 2 > MIRROR_RELEASE_RANGES_MAX)
		link_flush_releases(c);
	pending_rel.range[pending_rel.count].nvram_addr = e->nvram_addr;
	pending_rel.range[pending_rel.count].blocks = first / MIRROR_BLOCK_SIZE;
	pending_rel.count++;
	if (first < bytes) { /* the part after the ring's wrap */
		pending_rel.range[pending_rel.count].nvram_addr = rs;
		pending_rel.range[pending_rel.count].blocks = (bytes - first) / MIRROR_BLOCK_SIZE;
		pending_rel.count++;
	}
	pending_rel_entries[pending_rel_n++] = e->id;
}

void link_flush_releases(struct ctl *c)
{
	struct link_op *op;
	int len;

	if (!pending_rel.count)
		return;
	op = calloc(1, sizeof(*op));
	if (op)
		op->buf = malloc(MIRROR_RELEASE_MAX_BYTES);
	if (!op || !op->buf) {
		free(op);
		return; /* tried again at the next flush */
	}
	len = mirror_release_encode(&pending_rel, op->buf, MIRROR_RELEASE_MAX_BYTES);
	if (len < 0 || mirror_release_cdb_encode(&c->cfg.profile, (uint32_t)len, op->cmd.cdb,
						 sizeof(op->cmd.cdb)) < 0) {
		op_free(op);
		return;
	}
	op->kind = LOP_RELEASE;
	op->rel = pending_rel;
	op->cmd.cdb_len = MIRROR_RELEASE_CDB_LEN;
	op->cmd.dir = MIRROR_DIR_OUT;
	op->cmd.data_out = op->buf;
	op->cmd.data_out_len = (uint32_t)len;
	enqueue(c, op);
	/* queued in order: anything that reuses this NVRAM comes after it */
	for (unsigned i = 0; i < pending_rel_n; i++) {
		struct pair_entry *e = pair_cache_get(&c->cache, pending_rel_entries[i]);
		if (e)
			e->released = true;
	}
	fault_event(c, FP_DURING_DESTAGE);
	memset(&pending_rel, 0, sizeof(pending_rel));
	pending_rel_n = 0;
	pump_queue(c);
}

bool link_ready(const struct ctl *c)
{
	return c->link.state == LINK_UP && c->link.t && !c->link.cut;
}

/* The session ends: every queued and outstanding operation fails (their
 * entries stay MIRRORING for failover.c to make safe). */
void link_drop(struct ctl *c, const char *why)
{
	struct ctl_link *l = &c->link;
	struct mirror_transport *t = l->t;

	if (l->state != LINK_UP)
		return;
	mirror_log(MIRROR_LOG_WARN, "mirror link to %s down: %s", l->url, why ? why : "?");
	snprintf(l->why, sizeof(l->why), "%s", why ? why : "?");
	l->state = LINK_DOWN;
	l->partner_initialized = false;
	l->t = NULL;
	l->drops++;
	if (l->watched_fd >= 0)
		mirror_emu_server_unwatch(c->srv, l->watched_fd);
	l->watched_fd = -1;
	/* completions of what was outstanding run now, with errors; no
	 * logout: the partner may be the one that stopped answering */
	if (t)
		mirror_transport_abort(t);
	/* what never left: mirror operations' entries are made safe by
	 * failover.c; released entries' partner copies are voided by the
	 * mirror epoch it bumps before anything is acknowledged unmirrored */
	while (l->q_head) {
		struct link_op *op = l->q_head;
		l->q_head = op->next;
		op_free(op);
	}
	l->q_tail = NULL;
	l->queued = 0;
	l->outstanding = 0;
	l->tur_out = false;
	memset(&pending_rel, 0, sizeof(pending_rel));
	pending_rel_n = 0;
	/* why may be the transport's own message, gone with it */
	failover_link_down(c, l->why);
}

void link_init(struct ctl *c)
{
	int p[2];

	c->link.watched_fd = -1;
	c->link.pipe_rd = c->link.pipe_wr = -1;
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0) {
		c->link.pipe_rd = p[0];
		c->link.pipe_wr = p[1];
		mirror_emu_server_watch(c->srv, p[0], EPOLLIN, connect_done, c);
	}
}

static void tur_done(struct ctl *c)
{
	struct link_op *op = calloc(1, sizeof(*op));

	if (!op)
		return;
	op->kind = LOP_TUR;
	op->cmd.cdb_len = 6; /* TEST UNIT READY: all zero */
	op->cmd.dir = MIRROR_DIR_NONE;
	c->link.tur_out = true;
	enqueue(c, op);
	pump_queue(c);
}

bool link_quiet(const struct ctl *c, uint64_t *next_ms)
{
	const struct ctl_link *l = &c->link;

	if (l->state != LINK_UP || !l->t || l->queued || l->outstanding || l->tur_out ||
	    pending_rel.count)
		return false;
	*next_ms = l->last_ok_ms + c->cfg.heartbeat_ms;
	return true;
}

void link_tick(struct ctl *c, uint64_t now)
{
	struct ctl_link *l = &c->link;

	if (c->stopping)
		return;
	if (l->state == LINK_UP && l->t) {
		/* deadlines are enforced inside the transport's poll */
		int rc = mirror_transport_poll(l->t, 0);
		if (rc < 0) {
			link_drop(c, mirror_transport_error(l->t));
			return;
		}
		if (!l->tur_out && l->outstanding == 0 && now - l->last_ok_ms >= c->cfg.heartbeat_ms)
			tur_done(c);
		link_flush_releases(c);
		watch_transport(c);
		return;
	}
	/* a new session when the partner is up and we are allowed to */
	if (l->state == LINK_DOWN && !l->cut && c->partner.alive &&
	    now - l->last_try_ms >= c->cfg.heartbeat_ms * 2)
		start_connect(c, now);
}

void link_shutdown(struct ctl *c)
{
	struct ctl_link *l = &c->link;

	if (l->th_running) {
		pthread_join(l->th, NULL);
		l->th_running = false;
		struct connect_result *r = NULL;
		if (read(l->pipe_rd, &r, sizeof(r)) == sizeof(r) && r) {
			if (r->t)
				mirror_transport_close(r->t);
			free(r);
		}
	}
	if (l->state == LINK_UP) {
		l->state = LINK_DOWN;
		if (l->watched_fd >= 0)
			mirror_emu_server_unwatch(c->srv, l->watched_fd);
		l->watched_fd = -1;
		if (l->t)
			mirror_transport_close(l->t);
		l->t = NULL;
	}
	while (l->q_head) {
		struct link_op *op = l->q_head;
		l->q_head = op->next;
		op_free(op);
	}
	l->q_tail = NULL;
	l->queued = 0;
	if (l->pipe_rd >= 0) {
		mirror_emu_server_unwatch(c->srv, l->pipe_rd);
		close(l->pipe_rd);
		close(l->pipe_wr);
		l->pipe_rd = l->pipe_wr = -1;
	}
}
