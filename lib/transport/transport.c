/* The transport seam, generic part: picks a backend by the form of the
 * target, checks commands before they reach it, and turns the backends'
 * asynchronous interface into a synchronous one for simple callers.
 * Backends (lib/transport_*.c) sit behind a table of function pointers. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <mirror/error.h>
#include <mirror/exit_status.h>
#include <mirror/transport.h>

#include "transport/priv.h"
#include "transport/sgio.h"

struct backend {
	const char *kind;
	const char *prefix; /* how its targets start */
	int (*check)(const char *target, const struct mirror_transport_opts *opts, char *err,
		     size_t err_len);
	struct mirror_transport *(*open)(const char *target,
					 const struct mirror_transport_opts *opts, char *err,
					 size_t err_len);
	/* Exit status when open fails: sg3_utils' "cannot open device" for
	 * a device, a transport error for a target over the network. */
	int open_fail_exit;
};

static const struct backend backends[] = {
	{ "iscsi", "iscsi://", mirror_iscsi_check, mirror_iscsi_open, MIRROR_EXIT_TRANSPORT },
	{ "sgio", MIRROR_SGIO_PREFIX, mirror_sgio_check, mirror_sgio_open, MIRROR_EXIT_FILE_ERROR },
};

__attribute__((format(printf, 3, 4)))
static void put_err(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !err_len)
		return;
	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
}

void mirror_transport_set_error(struct mirror_transport *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->error, sizeof(t->error), fmt, ap);
	va_end(ap);
}

static const struct backend *find_backend(const char *target, char *err, size_t err_len)
{
	if (!target || !*target) {
		put_err(err, err_len, "no target given");
		return NULL;
	}
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (strncmp(target, backends[i].prefix, strlen(backends[i].prefix)) == 0)
			return &backends[i];
	put_err(err, err_len, "%s: not a target address; expected "
		"iscsi://[user[%%password]@]host[:port]/target-iqn/lun or a device path "
		"(/dev/sgN)", target);
	return NULL;
}

int mirror_transport_check(const char *target, const struct mirror_transport_opts *opts,
			   char *err, size_t err_len)
{
	static const struct mirror_transport_opts none;
	const struct backend *b = find_backend(target, err, err_len);

	if (!b)
		return -EINVAL;
	return b->check(target, opts ? opts : &none, err, err_len);
}

struct mirror_transport *mirror_transport_open(const char *target,
					       const struct mirror_transport_opts *opts,
					       char *err, size_t err_len)
{
	struct mirror_transport_opts o = { 0 };
	const struct backend *b = find_backend(target, err, err_len);

	if (!b)
		return NULL;
	if (opts)
		o = *opts;
	/* Resolve the documented defaults once, here, so that every backend
	 * applies the same ones. */
	if (!o.connect_timeout_ms)
		o.connect_timeout_ms = MIRROR_TRANSPORT_CONNECT_TIMEOUT_MS;
	if (!o.command_timeout_ms)
		o.command_timeout_ms = MIRROR_TRANSPORT_COMMAND_TIMEOUT_MS;
	if (!o.queue_depth)
		o.queue_depth = MIRROR_TRANSPORT_QUEUE_DEPTH;
	if (o.queue_depth > MIRROR_TRANSPORT_QUEUE_DEPTH_MAX)
		o.queue_depth = MIRROR_TRANSPORT_QUEUE_DEPTH_MAX;
	return b->open(target, &o, err, err_len);
}

int mirror_transport_open_exit_status(const char *target)
{
	const struct backend *b = find_backend(target, NULL, 0);

	return b ? b->open_fail_exit : MIRROR_EXIT_SYNTAX;
}

/* Leaves a call into the backend; the last one out frees a transport
 * that was closed meanwhile. */
static void leave(struct mirror_transport *t)
{
	if (--t->depth == 0 && t->closed)
		t->ops->free(t);
}

void mirror_transport_close(struct mirror_transport *t)
{
	if (!t || t->closed)
		return;
	t->closed = true;
	t->depth++;
	t->ops->close(t);
	leave(t);
}

void mirror_transport_abort(struct mirror_transport *t)
{
	if (!t || t->closed)
		return;
	t->abort = true;
	mirror_transport_close(t);
}

const char *mirror_transport_kind(const struct mirror_transport *t)
{
	return t ? t->ops->kind : "none";
}

const char *mirror_transport_error(const struct mirror_transport *t)
{
	return t ? t->error : "no transport";
}

unsigned mirror_transport_outstanding(const struct mirror_transport *t)
{
	return t ? t->ops->outstanding(t) : 0;
}

int mirror_transport_fd(const struct mirror_transport *t)
{
	return t && t->ops->fd ? t->ops->fd(t) : -1;
}

short mirror_transport_events(const struct mirror_transport *t)
{
	return t && t->ops->events ? t->ops->events(t) : 0;
}

/* Rejects what no backend could send, before it costs a round trip. */
static int check_cmd(struct mirror_transport *t, const struct mirror_cmd *c)
{
	if (c->cdb_len < 1 || c->cdb_len > sizeof(c->cdb)) {
		mirror_transport_set_error(t, "CDB length %u is not 1..16", c->cdb_len);
		return -EINVAL;
	}
	switch (c->dir) {
	case MIRROR_DIR_NONE:
		break;
	case MIRROR_DIR_OUT:
		if (c->data_out_len && !c->data_out) {
			mirror_transport_set_error(t, "data-out of %u bytes without a buffer",
						   (unsigned)c->data_out_len);
			return -EINVAL;
		}
		break;
	case MIRROR_DIR_IN:
		if (c->data_in_len && !c->data_in) {
			mirror_transport_set_error(t, "data-in of %u bytes without a buffer",
						   (unsigned)c->data_in_len);
			return -EINVAL;
		}
		break;
	default:
		mirror_transport_set_error(t, "unknown data direction %d", (int)c->dir);
		return -EINVAL;
	}
	return 0;
}

int mirror_transport_submit(struct mirror_transport *t, struct mirror_cmd *c,
			    mirror_cmd_done_fn done)
{
	int rc;

	if (!t || !c || !done)
		return -EINVAL;
	rc = check_cmd(t, c);
	if (rc < 0)
		return rc;
	if (t->closed)
		return -ECANCELED;
	if (t->ops->outstanding(t) >= t->opts.queue_depth)
		return -EAGAIN;
	t->depth++;
	rc = t->ops->submit(t, c, done);
	leave(t);
	return rc;
}

/* One backend round: a wait of up to timeout_ms (poll), or with revents
 * given, the readiness the caller's loop already has (serve; a backend
 * without it polls once without waiting).  A callback that closed t ends
 * the caller's loop (-ECANCELED) before t is touched again. */
static int backend_round(struct mirror_transport *t, int timeout_ms, const short *revents)
{
	int rc;

	if (t->closed)
		return -ECANCELED;
	t->depth++;
	if (revents && t->ops->serve)
		rc = t->ops->serve(t, *revents);
	else
		rc = t->ops->poll(t, revents ? 0 : timeout_ms);
	if (t->closed && rc >= 0)
		rc = -ECANCELED;
	leave(t);
	return rc;
}

static int poll_once(struct mirror_transport *t, int timeout_ms)
{
	return backend_round(t, timeout_ms, NULL);
}

int mirror_transport_poll(struct mirror_transport *t, int timeout_ms)
{
	if (!t)
		return -EINVAL;
	return poll_once(t, timeout_ms);
}

int mirror_transport_service(struct mirror_transport *t, short revents)
{
	if (!t)
		return -EINVAL;
	/* From one of t's own completion callbacks: the round that runs it
	 * is not re-entered; the caller's loop comes back to t. */
	if (t->depth && !t->closed)
		return 0;
	return backend_round(t, 0, &revents);
}

int mirror_transport_drain(struct mirror_transport *t)
{
	int total = 0;

	if (!t)
		return -EINVAL;
	t->depth++; /* t stays readable for the loop's test */
	while (!t->closed && t->ops->outstanding(t) > 0) {
		int n = poll_once(t, -1);
		if (n < 0) {
			total = n;
			break;
		}
		total += n;
	}
	leave(t);
	return total;
}

/* mirror_transport_run borrows c->user for the wait and gives it back
 * before the caller sees the command again. */
struct run_wait {
	bool done;
	void *saved_user;
};

static void run_done(struct mirror_cmd *c)
{
	struct run_wait *w = c->user;

	c->user = w->saved_user;
	w->done = true;
}

int mirror_transport_run(struct mirror_transport *t, struct mirror_cmd *c)
{
	struct run_wait w = { false, NULL };
	int rc;

	if (!t || !c)
		return -EINVAL;
	w.saved_user = c->user;
	c->user = &w;
	t->depth++; /* another command's callback may close t meanwhile */
	/* Wait for room if asynchronous commands fill the queue. */
	while ((rc = mirror_transport_submit(t, c, run_done)) == -EAGAIN) {
		rc = poll_once(t, -1);
		if (rc < 0)
			break;
	}
	if (rc < 0) {
		c->user = w.saved_user;
		c->result = rc;
		leave(t);
		return rc;
	}
	/* Backends complete every command, even when the session fails or
	 * is closed, so this loop ends. */
	while (!w.done) {
		rc = poll_once(t, -1);
		if (rc < 0 && !w.done && (t->closed || t->ops->outstanding(t) == 0)) {
			c->user = w.saved_user;
			c->result = rc;
			leave(t);
			return rc;
		}
	}
	leave(t);
	return c->result;
}

int mirror_cmd_exit_status(const struct mirror_cmd *c)
{
	if (c->result == -ETIMEDOUT)
		return MIRROR_EXIT_TIMEOUT;
	if (c->result < 0)
		return MIRROR_EXIT_TRANSPORT;
	/* Sense that does not parse (sense_parsed left zero) counts as none. */
	bool sense = c->sense_len && (c->sense_parsed.response_code & 0x70) == 0x70;
	return mirror_exit_from_status(c->status, sense ? &c->sense_parsed : NULL);
}
