/* The iSCSI backend of the transport seam, on libiscsi (1.19).
 *
 * Raw CDBs only: each command is a struct scsi_task built here and queued
 * with iscsi_scsi_command_async.  libiscsi is never asked to unmarshall
 * data-in by opcode (it would take the small-write opcode 0xA0 for REPORT
 * LUNS), and its own sense decoding is not used: for descriptor-format
 * sense libiscsi loses the sense-key-specific field pointer the mirror
 * receiver's answers depend on, so the raw sense bytes of the SCSI
 * Response are copied and parsed by mirror_sense_parse.
 *
 * libiscsi has no timers of its own: iscsi_set_timeout is only a
 * whole-second backstop scanned inside iscsi_service.  The deadlines that
 * count are kept here, in milliseconds on CLOCK_MONOTONIC, and enforced in
 * the poll loop.  A command past its deadline ends the session: libiscsi
 * 1.19 cannot cancel one task cleanly (iscsi_scsi_cancel_task removes only
 * the first PDU with the task's ITT, so queued Data-Out PDUs would still
 * read the caller's buffer), and closing the connection is what RFC 7143
 * gives an initiator to abort the target's tasks anyway.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include <mirror/error.h>
#include <mirror/sense.h>
#include <mirror/transport.h>

#include "base/iqn.h"
#include "transport/priv.h"

#define DEFAULT_INITIATOR MIRROR_IQN_PREFIX ":initiator"
/* iscsi_which_events() may return 0 (no socket yet, reconnect pending);
 * libiscsi asks callers to wait >= 100 ms then. */
#define IDLE_WAIT_MS 100
/* Logout is a courtesy on close: never wait long for it. */
#define LOGOUT_WAIT_MS 2000u

enum phase { PH_CONNECTING = 0, PH_LOGGING_IN, PH_READY, PH_FAILED, PH_CLOSED };

enum slot_state { SLOT_FREE = 0, SLOT_ACTIVE, SLOT_DONE };

struct iscsi_transport;

/* One command in flight.  Slots are preallocated (queue_depth of them), so
 * submitting costs no allocation besides libiscsi's own. */
struct slot {
	struct iscsi_transport *it;
	enum slot_state state;
	struct mirror_cmd *cmd;
	mirror_cmd_done_fn done;
	struct scsi_task *task;
	struct scsi_iovec iov; /* data-out, pointing at the caller's buffer */
	uint64_t start_ns, deadline_ns;
	/* The result to report if libiscsi cancels the task (we tore the
	 * session down for this reason). */
	int fail;
};

struct iscsi_transport {
	struct mirror_transport base; /* first: the generic layer's view */
	struct iscsi_context *ctx;
	enum phase phase;
	int lun;
	char portal[MAX_STRING_SIZE + 1];
	char target_name[MAX_STRING_SIZE + 1];
	bool logged_out;
	/* What the socket itself said (SO_ERROR, or the peer's close): read
	 * before libiscsi, whose later messages ("Can not reconnect right
	 * now") would hide the cause. */
	int sock_errno;
	bool sock_hup;
	struct slot *slots;
	unsigned nslots;
	unsigned *free_stack; /* indices of free slots */
	unsigned nfree;
	unsigned *done_q; /* completed, not yet delivered, in completion order */
	unsigned done_head, ndone;
	unsigned active; /* submitted, not completed */
};

static struct iscsi_transport *to_it(struct mirror_transport *t)
{
	return (struct iscsi_transport *)t;
}

static const struct iscsi_transport *to_cit(const struct mirror_transport *t)
{
	return (const struct iscsi_transport *)t;
}

/* libiscsi's messages may span lines ("Invalid URL ...\niSCSI URL must be
 * ..."); one line reads better after our own prefix. */
static void one_line(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '.'))
		s[--n] = '\0';
	for (char *p = s; *p; p++)
		if (*p == '\n')
			*p = ' ';
}

static const char *ctx_error(struct iscsi_context *ctx, char *buf, size_t len)
{
	snprintf(buf, len, "%s", ctx ? iscsi_get_error(ctx) : "");
	one_line(buf);
	if (!buf[0])
		snprintf(buf, len, "no detail from libiscsi");
	return buf;
}

/* libiscsi reports a failed connection last as "Can not reconnect right
 * now" (no auto-reconnect), overwriting the cause in iscsi_get_error.  The
 * cause is still logged at level 1 first: keep the last such message.
 * libiscsi's log function has no context argument, hence a per-thread
 * buffer. */
static _Thread_local char last_logged[MAX_STRING_SIZE + 1];

static bool is_reconnect_noise(const char *m)
{
	return strstr(m, "reconnect") != NULL;
}

static void capture_log(int level, const char *message)
{
	if (level <= 1 && !is_reconnect_noise(message)) {
		snprintf(last_logged, sizeof(last_logged), "%s", message);
		one_line(last_logged);
		/* libiscsi appends " [target-iqn]" to what it logs. */
		char *tag = strrchr(last_logged, '[');
		if (tag && tag > last_logged && tag[-1] == ' ' && tag[strlen(tag) - 1] == ']')
			tag[-1] = '\0';
	}
}

/* Why the connection failed, most specific first. */
static const char *why_failed(struct iscsi_transport *it, char *buf, size_t len)
{
	if (it->sock_errno)
		snprintf(buf, len, "%s", strerror(it->sock_errno));
	else if (it->sock_hup)
		snprintf(buf, len, "the target closed the connection");
	else if (is_reconnect_noise(ctx_error(it->ctx, buf, len)) && last_logged[0])
		snprintf(buf, len, "%s", last_logged);
	return buf;
}

/* Records a failure of the connection in the words of its phase; a
 * message already recorded by a callback of this phase stays. */
static void set_conn_error(struct iscsi_transport *it)
{
	char msg[MAX_STRING_SIZE + 1];

	why_failed(it, msg, sizeof(msg));
	switch (it->phase) {
	case PH_CONNECTING:
		mirror_transport_set_error(&it->base, "cannot connect to %s: %s", it->portal, msg);
		break;
	case PH_LOGGING_IN:
		mirror_transport_set_error(&it->base, "login to %s at %s failed: %s",
					   it->target_name, it->portal, msg);
		break;
	case PH_READY:
		mirror_transport_set_error(&it->base, "connection to %s lost: %s", it->portal, msg);
		break;
	default:
		break;
	}
}

/* ---- completion ---- */

static void finish_slot(struct iscsi_transport *it, struct slot *s)
{
	uint64_t now = mirror_monotonic_ns();

	s->cmd->duration_ns = now - s->start_ns;
	if (s->task) {
		scsi_free_scsi_task(s->task);
		s->task = NULL;
	}
	s->state = SLOT_DONE;
	it->active--;
	it->done_q[(it->done_head + it->ndone) % it->nslots] = (unsigned)(s - it->slots);
	it->ndone++;
}

/* Copies the outcome libiscsi reports for a task that reached the target's
 * SCSI layer: status, raw sense, residual, data-in. */
static void take_response(struct slot *s, int status)
{
	struct mirror_cmd *c = s->cmd;
	struct scsi_task *task = s->task;

	c->result = 0;
	c->status = (uint8_t)status;
	if (task->residual_status == SCSI_RESIDUAL_UNDERFLOW)
		c->residual = task->residual > INT32_MAX ? INT32_MAX : (int32_t)task->residual;
	else if (task->residual_status == SCSI_RESIDUAL_OVERFLOW)
		c->residual = task->residual > INT32_MAX ? -INT32_MAX : -(int32_t)task->residual;

	if (status == SCSI_STATUS_CHECK_CONDITION) {
		/* libiscsi keeps the SCSI Response's whole data segment in
		 * datain: SenseLength (2 bytes, big-endian), then the sense
		 * (RFC 7143 11.4.7.2). */
		const unsigned char *d = task->datain.data;
		size_t have = task->datain.size > 0 ? (size_t)task->datain.size : 0;
		if (d && have >= 2) {
			size_t slen = ((size_t)d[0] << 8) | d[1];
			if (slen > have - 2)
				slen = have - 2;
			if (slen > sizeof(c->sense))
				slen = sizeof(c->sense);
			memcpy(c->sense, d + 2, slen);
			c->sense_len = (unsigned)slen;
			if (mirror_sense_parse(c->sense, slen, &c->sense_parsed) < 0)
				memset(&c->sense_parsed, 0, sizeof(c->sense_parsed));
		}
		return;
	}
	/* Raw data-in, whatever the opcode.  data_in_got counts what came
	 * even for a data-out command: a target that answers a mirror write
	 * with data-in has taken it for something else. */
	if (task->datain.data && task->datain.size > 0) {
		size_t got = (size_t)task->datain.size;
		c->data_in_got = (uint32_t)got;
		if (c->dir == MIRROR_DIR_IN) {
			size_t n = got < c->data_in_len ? got : c->data_in_len;
			memcpy(c->data_in, task->datain.data, n);
			c->data_in_got = (uint32_t)n;
		}
	}
}

static void scsi_cb(struct iscsi_context *ctx, int status, void *command_data,
		    void *private_data)
{
	struct slot *s = private_data;
	struct iscsi_transport *it = s->it;
	char msg[MAX_STRING_SIZE + 1];

	/* Guards against a second callback for the same task (teardown
	 * cancels every PDU still queued) and against a stale one. */
	if (s->state != SLOT_ACTIVE || (command_data && command_data != s->task))
		return;
	switch (status) {
	case SCSI_STATUS_GOOD:
	case SCSI_STATUS_CHECK_CONDITION:
	case SCSI_STATUS_CONDITION_MET:
	case SCSI_STATUS_BUSY:
	case SCSI_STATUS_RESERVATION_CONFLICT:
	case SCSI_STATUS_TASK_SET_FULL:
	case SCSI_STATUS_ACA_ACTIVE:
	case SCSI_STATUS_TASK_ABORTED:
		take_response(s, status);
		break;
	case SCSI_STATUS_TIMEOUT:
		/* libiscsi's whole-second backstop fired before our deadline
		 * was looked at: the same outcome. */
		s->cmd->result = -ETIMEDOUT;
		mirror_transport_set_error(&it->base, "command 0x%02X timed out",
					   s->cmd->cdb[0]);
		break;
	case SCSI_STATUS_CANCELLED:
		if (!s->fail) {
			/* libiscsi gave up on the session by itself (the
			 * target dropped it; no auto-reconnect). */
			mirror_transport_set_error(&it->base, "connection to %s lost: %s", it->portal,
						   why_failed(it, msg, sizeof(msg)));
		}
		s->cmd->result = s->fail ? s->fail : -ECONNABORTED;
		break;
	default:
		s->cmd->result = -EIO;
		mirror_transport_set_error(&it->base, "command 0x%02X failed: %s", s->cmd->cdb[0],
					   ctx_error(ctx, msg, sizeof(msg)));
		break;
	}
	finish_slot(it, s);
}

/* Delivers completed commands to their callbacks, in completion order. */
static int deliver(struct iscsi_transport *it)
{
	int n = 0;

	while (it->ndone) {
		unsigned i = it->done_q[it->done_head];
		struct slot *s = &it->slots[i];
		struct mirror_cmd *c = s->cmd;
		mirror_cmd_done_fn done = s->done;

		it->done_head = (it->done_head + 1) % it->nslots;
		it->ndone--;
		s->state = SLOT_FREE;
		s->cmd = NULL;
		it->free_stack[it->nfree++] = i;
		done(c); /* may submit again: the slot is already free */
		n++;
	}
	return n;
}

/* Ends the session: every command still in flight completes, those past
 * their deadline with -ETIMEDOUT, the others with code. */
static void fail_session(struct iscsi_transport *it, int code, uint64_t now)
{
	for (unsigned i = 0; i < it->nslots; i++) {
		struct slot *s = &it->slots[i];
		if (s->state == SLOT_ACTIVE)
			s->fail = now && now >= s->deadline_ns ? -ETIMEDOUT : code;
	}
	if (it->ctx) {
		/* Cancels every PDU: scsi_cb completes the slots. */
		iscsi_destroy_context(it->ctx);
		it->ctx = NULL;
	}
	for (unsigned i = 0; i < it->nslots; i++) {
		struct slot *s = &it->slots[i];
		if (s->state == SLOT_ACTIVE) {
			s->cmd->result = s->fail;
			finish_slot(it, s);
		}
	}
	it->phase = PH_CLOSED;
}

/* ---- the event loop ---- */

/* iscsi_service failed: the session's message, and a login that can no
 * longer complete. */
static int service_failed(struct iscsi_transport *it)
{
	set_conn_error(it);
	if (it->phase == PH_CONNECTING || it->phase == PH_LOGGING_IN)
		it->phase = PH_FAILED;
	return -ECONNRESET;
}

/* iscsi_service with readiness already known (revents: poll(2) events).
 * What the input made the session owe (the Data-Out an R2T asks for, a
 * NOP-Out answer) is written in the same round when the socket takes it,
 * not after another wait for POLLOUT: one wake-up less per R2T.  Only on
 * a logged-in session: before, POLLOUT means the connect completed.  0, or
 * a negative code when the connection failed (message in base.error). */
static int serve(struct iscsi_transport *it, short revents)
{
	int fd = iscsi_get_fd(it->ctx);
	int rc;

	if (fd >= 0 && (revents & (POLLERR | POLLHUP))) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr)
			it->sock_errno = soerr;
		else
			it->sock_hup = true;
	}
	rc = iscsi_service(it->ctx, revents);
	if (rc >= 0 && !(revents & (POLLOUT | POLLERR | POLLHUP)) && iscsi_is_logged_in(it->ctx) &&
	    (iscsi_which_events(it->ctx) & POLLOUT))
		rc = iscsi_service(it->ctx, POLLOUT); /* a full socket: EAGAIN, kept queued */
	return rc < 0 ? service_failed(it) : 0;
}

/* One round of poll(2) on libiscsi's socket and iscsi_service.  0, or a
 * negative code when the connection failed (message in base.error). */
static int pump(struct iscsi_transport *it, int wait_ms)
{
	struct pollfd pfd;
	int events, rc;

	events = iscsi_which_events(it->ctx);
	pfd.fd = iscsi_get_fd(it->ctx);
	if (events == 0 || pfd.fd < 0) {
		poll(NULL, 0, wait_ms < IDLE_WAIT_MS && wait_ms >= 0 ? wait_ms : IDLE_WAIT_MS);
		return iscsi_service(it->ctx, 0) < 0 ? service_failed(it) : 0;
	}
	pfd.events = (short)events;
	pfd.revents = 0;
	rc = poll(&pfd, 1, wait_ms);
	if (rc < 0) {
		if (errno == EINTR)
			return 0;
		rc = -errno;
		mirror_transport_set_error(&it->base, "poll: %s", strerror(-rc));
		return rc;
	}
	return serve(it, rc > 0 ? pfd.revents : 0);
}

static int ms_until(uint64_t deadline_ns, uint64_t now)
{
	if (deadline_ns <= now)
		return 0;
	uint64_t ms = (deadline_ns - now + 999999u) / 1000000u;
	return ms > 60000 ? 60000 : (int)ms;
}

/* Fails the session when a command is past its deadline (true then);
 * *first (when not NULL) gets the earliest deadline of those running. */
static bool past_deadline(struct iscsi_transport *it, uint64_t now, uint64_t *first)
{
	struct slot *late = NULL;
	uint64_t earliest = UINT64_MAX;

	for (unsigned i = 0; i < it->nslots; i++) {
		struct slot *s = &it->slots[i];
		if (s->state != SLOT_ACTIVE)
			continue;
		if (s->deadline_ns < earliest)
			earliest = s->deadline_ns;
		if (now >= s->deadline_ns && !late)
			late = s;
	}
	if (first)
		*first = earliest;
	if (!late)
		return false;
	mirror_transport_set_error(&it->base, "command 0x%02X timed out after %u ms; session to %s closed",
				   late->cmd->cdb[0], it->base.opts.command_timeout_ms, it->portal);
	fail_session(it, -ECONNABORTED, now);
	return true;
}

/* After a round: a dropped connection may show only in the login state
 * (no auto-reconnect); no later command can be sent.  True when it did
 * and the session was failed. */
static bool session_lost(struct iscsi_transport *it)
{
	char msg[MAX_STRING_SIZE + 1];

	if (!it->ctx || iscsi_is_logged_in(it->ctx))
		return false;
	if (it->active)
		mirror_transport_set_error(&it->base, "connection to %s lost: %s", it->portal,
					   why_failed(it, msg, sizeof(msg)));
	fail_session(it, -ECONNRESET, 0);
	return true;
}

static int iscsi_poll(struct mirror_transport *t, int timeout_ms)
{
	struct iscsi_transport *it = to_it(t);
	uint64_t start = mirror_monotonic_ns();
	uint64_t end = timeout_ms < 0 ? UINT64_MAX : start + (uint64_t)timeout_ms * 1000000u;

	/* Serve the socket at least once, even with timeout 0: a caller with
	 * its own poll(2) over many sessions (mirror_transport_fd) calls
	 * this with 0 once the descriptor is ready. */
	bool served = false;

	for (;;) {
		if (it->ndone || !it->active || !it->ctx)
			break;
		uint64_t now = mirror_monotonic_ns();
		uint64_t first;
		if (past_deadline(it, now, &first))
			break;
		if (now >= end && served)
			break;
		uint64_t until = first < end ? first : end;
		int wait = ms_until(until, now);
		/* Wake at least once a second: libiscsi scans its own
		 * timeouts and answers NOP-Ins only inside iscsi_service. */
		if (wait > 1000)
			wait = 1000;
		int rc = pump(it, wait);
		served = true;
		if (rc < 0) {
			fail_session(it, rc, 0);
			break;
		}
		if (session_lost(it))
			break;
	}
	return deliver(it);
}

/* One round with the readiness the caller's own event loop reported: no
 * poll(2) of ours (transport.h, mirror_transport_service). */
static int iscsi_serve_ready(struct mirror_transport *t, short revents)
{
	struct iscsi_transport *it = to_it(t);

	/* Served with no command running too: the readiness may be a NOP-In
	 * to answer or the peer's FIN, which a loop that waits on the
	 * descriptor would otherwise report again and again. */
	if (it->ctx && !past_deadline(it, mirror_monotonic_ns(), NULL)) {
		int rc = serve(it, revents);
		if (rc < 0)
			fail_session(it, rc, 0);
		else
			session_lost(it);
	}
	return deliver(it);
}

static unsigned iscsi_outstanding(const struct mirror_transport *t)
{
	const struct iscsi_transport *it = to_cit(t);

	return it->nslots - it->nfree;
}

static int iscsi_fd(const struct mirror_transport *t)
{
	const struct iscsi_transport *it = to_cit(t);

	return it->ctx ? iscsi_get_fd(it->ctx) : -1;
}

static short iscsi_events(const struct mirror_transport *t)
{
	const struct iscsi_transport *it = to_cit(t);

	/* 0 while libiscsi has no socket (see IDLE_WAIT_MS). */
	return it->ctx && iscsi_get_fd(it->ctx) >= 0 ? (short)iscsi_which_events(it->ctx) : 0;
}

static int iscsi_submit(struct mirror_transport *t, struct mirror_cmd *c, mirror_cmd_done_fn done)
{
	struct iscsi_transport *it = to_it(t);
	struct scsi_task *task;
	struct slot *s;
	char msg[MAX_STRING_SIZE + 1];

	if (!it->ctx || it->phase != PH_READY) {
		mirror_transport_set_error(t, "not connected to %s%s", it->portal,
					   it->phase == PH_CLOSED ? " (the session was closed)" : "");
		return -ENOTCONN;
	}
	if (!iscsi_is_logged_in(it->ctx)) {
		/* Dropped while idle: say so rather than let libiscsi refuse
		 * the command with "not logged in". */
		mirror_transport_set_error(t, "connection to %s lost: %s", it->portal,
					   why_failed(it, msg, sizeof(msg)));
		fail_session(it, -ECONNRESET, 0);
		return -ENOTCONN;
	}
	if (!it->nfree)
		return -EAGAIN;
	/* libiscsi carries the expected transfer length in an int. */
	if ((c->dir == MIRROR_DIR_OUT && c->data_out_len > INT32_MAX) ||
	    (c->dir == MIRROR_DIR_IN && c->data_in_len > INT32_MAX)) {
		mirror_transport_set_error(t, "transfer of more than 2 GiB");
		return -EINVAL;
	}

	/* Built here, not by a libiscsi scsi_cdb_* helper: the CDB is the
	 * caller's bytes and nothing of libiscsi's opcode knowledge applies. */
	task = calloc(1, sizeof(*task));
	if (!task) {
		mirror_transport_set_error(t, "out of memory");
		return -ENOMEM;
	}
	memcpy(task->cdb, c->cdb, c->cdb_len);
	task->cdb_size = (int)c->cdb_len;
	switch (c->dir) {
	case MIRROR_DIR_OUT:
		task->xfer_dir = SCSI_XFER_WRITE;
		task->expxferlen = (int)c->data_out_len;
		break;
	case MIRROR_DIR_IN:
		task->xfer_dir = SCSI_XFER_READ;
		task->expxferlen = (int)c->data_in_len;
		break;
	default:
		task->xfer_dir = SCSI_XFER_NONE;
		task->expxferlen = 0;
		break;
	}

	s = &it->slots[it->free_stack[it->nfree - 1]];
	if (c->dir == MIRROR_DIR_OUT && c->data_out_len) {
		/* libiscsi only reads through the iovec. */
		s->iov.iov_base = (void *)(uintptr_t)c->data_out;
		s->iov.iov_len = c->data_out_len;
		scsi_task_set_iov_out(task, &s->iov, 1);
	}
	/* A data-in buffer is left to libiscsi's reassembly (task->datain),
	 * copied out raw on completion: it tells how many bytes came. */

	c->result = 0;
	c->status = 0;
	c->sense_len = 0;
	memset(&c->sense_parsed, 0, sizeof(c->sense_parsed));
	c->residual = 0;
	c->data_in_got = 0;
	c->duration_ns = 0;

	s->cmd = c;
	s->done = done;
	s->task = task;
	s->fail = 0;
	s->start_ns = mirror_monotonic_ns();
	s->deadline_ns = s->start_ns + (uint64_t)t->opts.command_timeout_ms * 1000000u;
	s->state = SLOT_ACTIVE;
	if (iscsi_scsi_command_async(it->ctx, it->lun, task, scsi_cb, NULL, s) != 0) {
		mirror_transport_set_error(t, "cannot queue command 0x%02X: %s", c->cdb[0],
					   ctx_error(it->ctx, msg, sizeof(msg)));
		s->state = SLOT_FREE;
		s->task = NULL;
		s->cmd = NULL;
		scsi_free_scsi_task(task);
		return -EIO;
	}
	it->nfree--;
	it->active++;
	return 0;
}

/* ---- connect, login, logout ---- */

static void login_cb(struct iscsi_context *ctx, int status, void *command_data, void *private_data)
{
	struct iscsi_transport *it = private_data;

	(void)ctx;
	(void)command_data;
	if (it->phase != PH_LOGGING_IN)
		return;
	if (status == SCSI_STATUS_GOOD) {
		it->phase = PH_READY;
		return;
	}
	/* libiscsi's text names the login status ("Authentication failure",
	 * "Target not found"). */
	set_conn_error(it);
	it->phase = PH_FAILED;
}

/* libiscsi calls this when the TCP connection is made or fails, and again
 * if an established connection fails later. */
static void connect_cb(struct iscsi_context *ctx, int status, void *command_data,
		       void *private_data)
{
	struct iscsi_transport *it = private_data;
	char msg[MAX_STRING_SIZE + 1];

	(void)command_data;
	if (it->phase != PH_CONNECTING)
		return; /* a later failure: the poll loop notices the lost login */
	if (status != SCSI_STATUS_GOOD) {
		set_conn_error(it);
		it->phase = PH_FAILED;
		return;
	}
	it->phase = PH_LOGGING_IN;
	if (iscsi_login_async(ctx, login_cb, it) != 0) {
		mirror_transport_set_error(&it->base, "cannot start login to %s: %s", it->portal,
					   ctx_error(ctx, msg, sizeof(msg)));
		it->phase = PH_FAILED;
	}
}

static void logout_cb(struct iscsi_context *ctx, int status, void *command_data,
		      void *private_data)
{
	struct iscsi_transport *it = private_data;

	(void)ctx;
	(void)status;
	(void)command_data;
	it->logged_out = true;
}

/* Creates a context with the options that must precede the URL (which may
 * override them with its own arguments, e.g. ?header_digest=crc32c) and
 * parses the URL into it: target name, LUN, CHAP (user%password@ and, for
 * mutual CHAP, ?target_user=...&target_password=... or
 * LIBISCSI_CHAP_TARGET_USERNAME/PASSWORD). */
static struct iscsi_context *make_context(const char *target,
					  const struct mirror_transport_opts *opts,
					  struct iscsi_url **url, char *err, size_t err_len)
{
	const char *iname = opts->initiator_name && *opts->initiator_name ? opts->initiator_name
									: DEFAULT_INITIATOR;
	struct iscsi_context *ctx = iscsi_create_context(iname);
	char msg[MAX_STRING_SIZE + 1];

	if (!ctx) {
		snprintf(err, err_len, "cannot create an iSCSI context for initiator '%s'", iname);
		return NULL;
	}
	iscsi_set_header_digest(ctx, opts->header_digest ? ISCSI_HEADER_DIGEST_CRC32C
							 : ISCSI_HEADER_DIGEST_NONE);
	*url = iscsi_parse_full_url(ctx, target);
	if (!*url) {
		snprintf(err, err_len, "bad iSCSI URL: %s", ctx_error(ctx, msg, sizeof(msg)));
		iscsi_destroy_context(ctx);
		return NULL;
	}
	if ((opts->chap_user && opts->chap_secret &&
	     iscsi_set_initiator_username_pwd(ctx, opts->chap_user, opts->chap_secret) != 0) ||
	    (opts->target_chap_user && opts->target_chap_secret &&
	     iscsi_set_target_username_pwd(ctx, opts->target_chap_user, opts->target_chap_secret) != 0)) {
		snprintf(err, err_len, "cannot set CHAP: %s", ctx_error(ctx, msg, sizeof(msg)));
		iscsi_destroy_url(*url);
		*url = NULL;
		iscsi_destroy_context(ctx);
		return NULL;
	}
	return ctx;
}

static int check_opts(const struct mirror_transport_opts *opts, char *err, size_t err_len)
{
	if (opts->data_digest) {
		/* libiscsi 1.19 always offers DataDigest=None at login. */
		snprintf(err, err_len, "data digests are not available: libiscsi %s negotiates "
			 "DataDigest=None only", "1.19");
		return -ENOTSUP;
	}
	return 0;
}

int mirror_iscsi_check(const char *target, const struct mirror_transport_opts *opts, char *err,
		       size_t err_len)
{
	struct iscsi_url *url = NULL;
	struct iscsi_context *ctx;
	char local[MIRROR_TRANSPORT_ERR_MAX];

	if (!err || !err_len) {
		err = local;
		err_len = sizeof(local);
	}
	ctx = make_context(target, opts, &url, err, err_len);
	if (!ctx)
		return -EINVAL;
	iscsi_destroy_url(url);
	iscsi_destroy_context(ctx);
	return check_opts(opts, err, err_len);
}


/* After login the target may hold a unit attention for the new I_T nexus
 * (tgtd: POWER ON, RESET OR BUS DEVICE RESET OCCURRED), which would
 * otherwise answer the caller's first command.  libiscsi's own full
 * connect consumes it with TEST UNIT READY; so does this, within the
 * connect deadline.  Any answer other than UNIT ATTENTION ends the loop,
 * whatever it is: a receiver need not be ready for TUR to be usable. */
#define UA_TRIES 8

static void tur_done(struct mirror_cmd *c)
{
	*(bool *)c->user = true;
}

static int clear_unit_attention(struct iscsi_transport *it, uint64_t deadline)
{
	unsigned saved = it->base.opts.command_timeout_ms;
	int rc = 0;

	for (unsigned i = 0; i < UA_TRIES; i++) {
		struct mirror_cmd tur;
		bool done = false;
		uint64_t now = mirror_monotonic_ns();

		if (now >= deadline)
			return -ETIMEDOUT;
		memset(&tur, 0, sizeof(tur));
		tur.cdb_len = 6; /* TEST UNIT READY: all zero */
		tur.user = &done;
		it->base.opts.command_timeout_ms = (unsigned)((deadline - now) / 1000000u) + 1u;
		rc = iscsi_submit(&it->base, &tur, tur_done);
		it->base.opts.command_timeout_ms = saved;
		if (rc < 0)
			return rc;
		while (!done)
			iscsi_poll(&it->base, -1);
		if (tur.result < 0)
			return tur.result;
		if (!(tur.status == SCSI_STATUS_CHECK_CONDITION && tur.sense_len &&
		      tur.sense_parsed.key == MIRROR_SK_UNIT_ATTENTION))
			return 0;
	}
	return 0;
}

static void iscsi_close(struct mirror_transport *t);
static void iscsi_free(struct mirror_transport *t);

static const struct mirror_transport_ops iscsi_ops = {
	.kind = "iscsi",
	.submit = iscsi_submit,
	.poll = iscsi_poll,
	.serve = iscsi_serve_ready,
	.outstanding = iscsi_outstanding,
	.fd = iscsi_fd,
	.events = iscsi_events,
	.close = iscsi_close,
	.free = iscsi_free,
};

static void free_it(struct iscsi_transport *it)
{
	if (it->ctx)
		iscsi_destroy_context(it->ctx);
	free(it->slots);
	free(it->free_stack);
	free(it->done_q);
	free(it);
}

struct mirror_transport *mirror_iscsi_open(const char *target,
					   const struct mirror_transport_opts *opts, char *err,
					   size_t err_len)
{
	struct iscsi_transport *it;
	struct iscsi_url *url = NULL;
	char local[MIRROR_TRANSPORT_ERR_MAX];
	char msg[MAX_STRING_SIZE + 1];

	if (!err || !err_len) {
		err = local;
		err_len = sizeof(local);
	}
	if (check_opts(opts, err, err_len) < 0)
		return NULL;
	it = calloc(1, sizeof(*it));
	if (!it) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	it->base.ops = &iscsi_ops;
	it->base.opts = *opts;
	it->base.opts.initiator_name = NULL; /* not kept: the caller owns it */
	it->base.opts.chap_user = it->base.opts.chap_secret = NULL;
	it->base.opts.target_chap_user = it->base.opts.target_chap_secret = NULL;
	it->nslots = opts->queue_depth;
	it->slots = calloc(it->nslots, sizeof(*it->slots));
	it->free_stack = calloc(it->nslots, sizeof(*it->free_stack));
	it->done_q = calloc(it->nslots, sizeof(*it->done_q));
	if (!it->slots || !it->free_stack || !it->done_q) {
		snprintf(err, err_len, "out of memory");
		free_it(it);
		return NULL;
	}
	for (unsigned i = 0; i < it->nslots; i++) {
		it->slots[i].it = it;
		it->free_stack[i] = it->nslots - 1 - i;
	}
	it->nfree = it->nslots;

	it->ctx = make_context(target, opts, &url, err, err_len);
	if (!it->ctx) {
		free_it(it);
		return NULL;
	}
	snprintf(it->portal, sizeof(it->portal), "%s", url->portal);
	snprintf(it->target_name, sizeof(it->target_name), "%s", url->target);
	it->lun = url->lun;
	iscsi_destroy_url(url);

	iscsi_set_session_type(it->ctx, ISCSI_SESSION_NORMAL);
	/* LIBISCSI_DEBUG keeps libiscsi's own logging to stderr. */
	if (!getenv("LIBISCSI_DEBUG")) {
		last_logged[0] = '\0';
		iscsi_set_log_level(it->ctx, 1);
		iscsi_set_log_fn(it->ctx, capture_log);
	}
	/* A test tool must see a dropped session, not have it hidden by a
	 * silent reconnect that replays the commands. */
	iscsi_set_noautoreconnect(it->ctx, 1);
	/* Backstop only (whole seconds, scanned in iscsi_service); the
	 * millisecond deadlines are enforced in the poll loop. */
	unsigned longest = opts->command_timeout_ms > opts->connect_timeout_ms
				   ? opts->command_timeout_ms
				   : opts->connect_timeout_ms;
	iscsi_set_timeout(it->ctx, (int)(longest / 1000u + 2u));

	it->phase = PH_CONNECTING;
	if (iscsi_connect_async(it->ctx, it->portal, connect_cb, it) != 0) {
		snprintf(err, err_len, "cannot connect to %s: %s", it->portal,
			 ctx_error(it->ctx, msg, sizeof(msg)));
		free_it(it);
		return NULL;
	}
	uint64_t deadline = mirror_monotonic_ns() + (uint64_t)opts->connect_timeout_ms * 1000000u;
	while (it->phase == PH_CONNECTING || it->phase == PH_LOGGING_IN) {
		uint64_t now = mirror_monotonic_ns();
		if (now >= deadline) {
			snprintf(err, err_len, "%s %s timed out after %u ms",
				 it->phase == PH_CONNECTING ? "connecting to" : "login at", it->portal,
				 opts->connect_timeout_ms);
			free_it(it);
			return NULL;
		}
		int wait = ms_until(deadline, now);
		/* A failure sets the phase to PH_FAILED with its message. */
		pump(it, wait > 1000 ? 1000 : wait);
	}
	if (it->phase != PH_READY) {
		snprintf(err, err_len, "%s", it->base.error);
		free_it(it);
		return NULL;
	}
	int rc = clear_unit_attention(it, deadline);
	if (rc < 0) {
		snprintf(err, err_len, "logged in to %s at %s, but TEST UNIT READY failed: %s",
			 it->target_name, it->portal,
			 rc == -ETIMEDOUT ? "timed out" : it->base.error);
		free_it(it);
		return NULL;
	}
	it->base.error[0] = '\0';
	return &it->base;
}

static void iscsi_close(struct mirror_transport *t)
{
	struct iscsi_transport *it = to_it(t);

	if (it->ctx && it->phase == PH_READY && !it->active && !t->abort) {
		/* A clean logout, so that the target does not log a dropped
		 * connection; bounded, as the target may be the problem. */
		if (iscsi_logout_async(it->ctx, logout_cb, it) == 0) {
			uint64_t deadline = mirror_monotonic_ns() + LOGOUT_WAIT_MS * 1000000ull;
			while (!it->logged_out) {
				uint64_t now = mirror_monotonic_ns();
				if (now >= deadline || pump(it, ms_until(deadline, now)) < 0)
					break;
			}
		}
	}
	mirror_transport_set_error(t, "transport closed");
	fail_session(it, -ECANCELED, 0);
	deliver(it);
}

static void iscsi_free(struct mirror_transport *t)
{
	free_it(to_it(t));
}
