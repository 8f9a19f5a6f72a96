/* The SG_IO backend of the transport seam, on libsgutils2's pass-through
 * API (sg_pt.h): a lab host reaches the partner controller through a host
 * bus adapter as /dev/sgN (or /dev/bsg/..., or a SCSI block device), not
 * over iSCSI.
 *
 * Synchronous underneath: SG_IO is a blocking ioctl, so submit runs the
 * command to completion at once (do_scsi_pt) and queues its completion;
 * poll and drain deliver the queued completions in order.  The backend
 * accepts queue_depth commands before a poll, but only one is ever on the
 * wire: the sg driver's own asynchronous write/read interface is not used,
 * as the mirror sender sends one command at a time and identical ordering
 * with the iSCSI backend matters more to the comparison tests than depth.
 *
 * The outcome is mapped as the iSCSI backend maps it: status byte, raw
 * sense parsed by mirror_sense_parse (never libsgutils2's own decoding),
 * residual, duration on CLOCK_MONOTONIC from submit to completion.  What
 * did not reach the target's SCSI layer (host status DID_ERROR,
 * DID_NO_CONNECT, ..., an OS error) is a transport failure with a negative
 * result and a message naming the host status.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <scsi/sg_pt.h>

#include <mirror/error.h>
#include <mirror/sense.h>
#include <mirror/transport.h>

#include "transport/priv.h"
#include "transport/sgio.h"

/* ---- the pure part: outcome classification ---- */

/* Linux host statuses (include/scsi/scsi_status.h in the kernel, DID_*):
 * what each means for a test tool, and the result code it becomes. */
struct host_status {
	int code;
	const char *name;
	int result;
	const char *what;
};

static const struct host_status host_statuses[] = {
	{ 0x01, "DID_NO_CONNECT", -ENOTCONN, "host status DID_NO_CONNECT: no connection to the target" },
	{ 0x02, "DID_BUS_BUSY", -EBUSY, "host status DID_BUS_BUSY: the bus stayed busy" },
	{ 0x03, "DID_TIME_OUT", -ETIMEDOUT, "host status DID_TIME_OUT: the command timed out" },
	{ 0x04, "DID_BAD_TARGET", -ENODEV, "host status DID_BAD_TARGET: no such target" },
	{ 0x05, "DID_ABORT", -ECONNABORTED, "host status DID_ABORT: the command was aborted" },
	{ 0x06, "DID_PARITY", -EIO, "host status DID_PARITY: parity error" },
	{ 0x07, "DID_ERROR", -EIO,
	  "host status DID_ERROR: the host adapter or the layers below it failed the command" },
	{ 0x08, "DID_RESET", -ECONNRESET, "host status DID_RESET: the bus or device was reset" },
	{ 0x09, "DID_BAD_INTR", -EIO, "host status DID_BAD_INTR: unexpected interrupt" },
	{ 0x0A, "DID_PASSTHROUGH", -EIO, "host status DID_PASSTHROUGH" },
	{ 0x0B, "DID_SOFT_ERROR", -EAGAIN, "host status DID_SOFT_ERROR: the driver asks for a retry" },
	{ 0x0C, "DID_IMM_RETRY", -EAGAIN, "host status DID_IMM_RETRY" },
	{ 0x0D, "DID_REQUEUE", -EAGAIN, "host status DID_REQUEUE" },
	{ 0x0E, "DID_TRANSPORT_DISRUPTED", -ECONNRESET,
	  "host status DID_TRANSPORT_DISRUPTED: the transport was disrupted" },
	{ 0x0F, "DID_TRANSPORT_FAILFAST", -ECONNRESET,
	  "host status DID_TRANSPORT_FAILFAST: the transport failed" },
	{ 0x10, "DID_TARGET_FAILURE", -EIO, "host status DID_TARGET_FAILURE" },
	{ 0x11, "DID_NEXUS_FAILURE", -EIO, "host status DID_NEXUS_FAILURE" },
	{ 0x12, "DID_ALLOC_FAILURE", -ENOMEM, "host status DID_ALLOC_FAILURE" },
	{ 0x13, "DID_MEDIUM_ERROR", -EIO, "host status DID_MEDIUM_ERROR" },
	{ 0x14, "DID_TRANSPORT_MARGINAL", -EIO, "host status DID_TRANSPORT_MARGINAL" },
};

#define N_HOST_STATUSES (sizeof(host_statuses) / sizeof(host_statuses[0]))

static const struct host_status *find_host_status(int code)
{
	for (size_t i = 0; i < N_HOST_STATUSES; i++)
		if (host_statuses[i].code == code)
			return &host_statuses[i];
	return NULL;
}

const char *mirror_sgio_host_status_name(int host_status)
{
	const struct host_status *h = find_host_status(host_status);

	return h ? h->name : NULL;
}

/* do_scsi_pt's positive returns (sg_pt.h SCSI_PT_DO_*). */
static const struct {
	int rc;
	int result;
	const char *what;
} do_errors[] = {
	{ SCSI_PT_DO_BAD_PARAMS, -EINVAL, "the pass-through rejected the command's parameters" },
	{ SCSI_PT_DO_TIMEOUT, -ETIMEDOUT, "the command timed out" },
	{ SCSI_PT_DO_NOT_SUPPORTED, -ENOTSUP, "the device does not support this pass-through" },
};

int mirror_sgio_classify(const struct mirror_sgio_raw *r, const char **what)
{
	const char *dummy;

	if (!what)
		what = &dummy;
	*what = NULL;
	if (r->do_rc < 0) {
		*what = "the SG_IO ioctl failed";
		return r->do_rc;
	}
	if (r->do_rc > 0) {
		for (size_t i = 0; i < sizeof(do_errors) / sizeof(do_errors[0]); i++) {
			if (do_errors[i].rc == r->do_rc) {
				*what = do_errors[i].what;
				return do_errors[i].result;
			}
		}
		*what = "the pass-through failed";
		return -EIO;
	}
	switch (r->category) {
	case SCSI_PT_RESULT_GOOD:
	case SCSI_PT_RESULT_STATUS:
	case SCSI_PT_RESULT_SENSE:
		return 0;
	case SCSI_PT_RESULT_TRANSPORT_ERR: {
		const struct host_status *h = find_host_status(r->host_status);
		if (h) {
			*what = h->what;
			return h->result;
		}
		/* Host status 0: the driver status carries the error. */
		*what = r->host_status ? "unknown host status" : "the driver failed the command";
		return -EIO;
	}
	case SCSI_PT_RESULT_OS_ERR:
		*what = "the operating system failed the command";
		return r->os_err > 0 ? -r->os_err : -EIO;
	default:
		*what = "unknown pass-through result category";
		return -EIO;
	}
}

int mirror_sgio_timeout_secs(unsigned timeout_ms)
{
	unsigned s = timeout_ms / 1000u + (timeout_ms % 1000u ? 1u : 0u);

	if (s == 0)
		s = 1;
	return s > 0x7fffffffu / 1000u ? (int)(0x7fffffffu / 1000u) : (int)s;
}

/* ---- the backend ---- */

struct pending {
	struct mirror_cmd *cmd;
	mirror_cmd_done_fn done;
};

struct sgio_transport {
	struct mirror_transport base; /* first: the generic layer's view */
	int fd;
	struct sg_pt_base *pt;
	char path[256];
	/* Completed in submit, delivered by poll, in order. */
	struct pending *q;
	unsigned cap, head, n;
};

static struct sgio_transport *to_st(struct mirror_transport *t)
{
	return (struct sgio_transport *)t;
}

static const struct sgio_transport *to_cst(const struct mirror_transport *t)
{
	return (const struct sgio_transport *)t;
}

/* Copies the outcome of a command that reached the target's SCSI layer. */
static void take_response(struct sgio_transport *st, struct mirror_cmd *c)
{
	int status = get_scsi_pt_status_response(st->pt);
	int slen = get_scsi_pt_sense_len(st->pt);
	int resid = get_scsi_pt_resid(st->pt);

	c->result = 0;
	c->status = (uint8_t)(status < 0 ? 0 : status);
	if (slen > 0) {
		if ((size_t)slen > sizeof(c->sense))
			slen = (int)sizeof(c->sense);
		c->sense_len = (unsigned)slen;
		if (mirror_sense_parse(c->sense, (size_t)slen, &c->sense_parsed) < 0)
			memset(&c->sense_parsed, 0, sizeof(c->sense_parsed));
	}
	c->residual = resid;
	if (c->dir == MIRROR_DIR_IN && resid >= 0 && (uint32_t)resid <= c->data_in_len)
		c->data_in_got = c->data_in_len - (uint32_t)resid;
}

static void run_one(struct sgio_transport *st, struct mirror_cmd *c)
{
	struct mirror_sgio_raw raw = { 0 };
	const char *what;
	char detail[160];
	uint64_t start;
	int rc;

	clear_scsi_pt_obj(st->pt);
	set_scsi_pt_cdb(st->pt, c->cdb, (int)c->cdb_len);
	set_scsi_pt_sense(st->pt, c->sense, (int)sizeof(c->sense));
	if (c->dir == MIRROR_DIR_OUT && c->data_out_len)
		set_scsi_pt_data_out(st->pt, c->data_out, (int)c->data_out_len);
	else if (c->dir == MIRROR_DIR_IN && c->data_in_len)
		set_scsi_pt_data_in(st->pt, c->data_in, (int)c->data_in_len);

	start = mirror_monotonic_ns();
	rc = do_scsi_pt(st->pt, -1, mirror_sgio_timeout_secs(st->base.opts.command_timeout_ms), 0);
	c->duration_ns = mirror_monotonic_ns() - start;

	raw.do_rc = rc;
	if (rc == 0) {
		raw.category = get_scsi_pt_result_category(st->pt);
		raw.host_status = get_scsi_pt_transport_err(st->pt);
		raw.os_err = get_scsi_pt_os_err(st->pt);
	}
	c->result = mirror_sgio_classify(&raw, &what);
	if (c->result == 0) {
		take_response(st, c);
		return;
	}
	/* The library's own words next to ours: the driver status, errno. */
	detail[0] = '\0';
	if (rc < 0)
		snprintf(detail, sizeof(detail), "%s", strerror(-rc));
	else if (raw.category == SCSI_PT_RESULT_TRANSPORT_ERR)
		get_scsi_pt_transport_err_str(st->pt, (int)sizeof(detail), detail);
	else if (raw.category == SCSI_PT_RESULT_OS_ERR)
		get_scsi_pt_os_err_str(st->pt, (int)sizeof(detail), detail);
	for (char *p = detail; *p; p++)
		if (*p == '\n')
			*p = ' ';
	size_t dl = strlen(detail);
	while (dl && (detail[dl - 1] == ' ' || detail[dl - 1] == '.'))
		detail[--dl] = '\0';
	if (c->result == -ETIMEDOUT) {
		/* The driver's own count, when it keeps one, says how long
		 * the device really had the command. */
		int ms = get_scsi_pt_duration_ms(st->pt);
		char took[48] = "";
		if (ms >= 0)
			snprintf(took, sizeof(took), " (the driver counted %d ms)", ms);
		mirror_transport_set_error(&st->base, "command 0x%02X to %s timed out after %u ms%s",
					   c->cdb[0], st->path, st->base.opts.command_timeout_ms, took);
		return;
	}
	mirror_transport_set_error(&st->base, "command 0x%02X to %s failed: %s%s%s%s", c->cdb[0],
				   st->path, what, detail[0] ? " (" : "", detail,
				   detail[0] ? ")" : "");
}

static int sgio_submit(struct mirror_transport *t, struct mirror_cmd *c, mirror_cmd_done_fn done)
{
	struct sgio_transport *st = to_st(t);

	if (st->n == st->cap)
		return -EAGAIN;
	/* sg_pt carries lengths in an int. */
	if ((c->dir == MIRROR_DIR_OUT && c->data_out_len > INT32_MAX) ||
	    (c->dir == MIRROR_DIR_IN && c->data_in_len > INT32_MAX)) {
		mirror_transport_set_error(t, "transfer of more than 2 GiB");
		return -EINVAL;
	}
	c->result = 0;
	c->status = 0;
	c->sense_len = 0;
	memset(&c->sense_parsed, 0, sizeof(c->sense_parsed));
	c->residual = 0;
	c->data_in_got = 0;
	c->duration_ns = 0;
	run_one(st, c);
	st->q[(st->head + st->n) % st->cap] = (struct pending){ c, done };
	st->n++;
	return 0;
}

static int sgio_poll(struct mirror_transport *t, int timeout_ms)
{
	struct sgio_transport *st = to_st(t);
	int delivered = 0;

	/* Nothing is ever in flight between calls: there is nothing to wait
	 * for, whatever timeout_ms says. */
	(void)timeout_ms;
	while (st->n) {
		struct pending p = st->q[st->head];
		st->head = (st->head + 1) % st->cap;
		st->n--;
		p.done(p.cmd); /* may submit again: its slot is already free */
		delivered++;
	}
	return delivered;
}

static unsigned sgio_outstanding(const struct mirror_transport *t)
{
	return to_cst(t)->n;
}

static void free_st(struct sgio_transport *st)
{
	if (st->pt)
		destruct_scsi_pt_obj(st->pt);
	if (st->fd >= 0)
		scsi_pt_close_device(st->fd);
	free(st->q);
	free(st);
}

static void sgio_close(struct mirror_transport *t)
{
	/* Completions not yet delivered are delivered: the callers' waits end. */
	sgio_poll(t, 0);
}

static void sgio_free(struct mirror_transport *t)
{
	free_st(to_st(t));
}

static const struct mirror_transport_ops sgio_ops = {
	.kind = "sgio",
	.submit = sgio_submit,
	.poll = sgio_poll,
	.outstanding = sgio_outstanding,
	.fd = NULL,
	.events = NULL,
	.close = sgio_close,
	.free = sgio_free,
};

/* iSCSI digests make no sense for a device; saying so beats ignoring a
 * check the caller asked for.  An initiator name is ignored: callers such
 * as mirror-conform name every session they open, whatever the target. */
static int check_opts(const char *target, const struct mirror_transport_opts *opts, char *err,
		      size_t err_len)
{
	const struct {
		bool given;
		const char *what;
	} iscsi_only[] = {
		{ opts->header_digest, "header digests are" },
		{ opts->data_digest, "data digests are" },
	};

	for (size_t i = 0; i < sizeof(iscsi_only) / sizeof(iscsi_only[0]); i++) {
		if (iscsi_only[i].given) {
			snprintf(err, err_len, "%s: %s an iSCSI option; a SCSI device (SG_IO) has none",
				 target, iscsi_only[i].what);
			return -ENOTSUP;
		}
	}
	return 0;
}

int mirror_sgio_check(const char *target, const struct mirror_transport_opts *opts, char *err,
		      size_t err_len)
{
	char local[MIRROR_TRANSPORT_ERR_MAX];
	size_t plen = strlen(MIRROR_SGIO_PREFIX);

	if (!err || !err_len) {
		err = local;
		err_len = sizeof(local);
	}
	if (!target || strncmp(target, MIRROR_SGIO_PREFIX, plen) != 0 || !target[plen] ||
	    target[strlen(target) - 1] == '/') {
		snprintf(err, err_len, "%s: not a device path; expected /dev/sgN, /dev/bsg/H:C:T:L "
			 "or a SCSI block device", target ? target : "(null)");
		return -EINVAL;
	}
	if (strlen(target) >= sizeof(((struct sgio_transport *)0)->path)) {
		snprintf(err, err_len, "device path of %zu characters is too long", strlen(target));
		return -EINVAL;
	}
	return check_opts(target, opts, err, err_len);
}

/* The kinds of file check_pt_file_handle tells apart; what SG_IO can use. */
static const char *unusable_kind(int kind, int fd)
{
	struct stat sb;

	switch (kind) {
	case 1: /* sg */
	case 2: /* bsg */
		return NULL;
	case 3:
	case 4:
		return "an NVMe device; the mirror protocol needs a SCSI device";
	default:
		/* A SCSI block device (/dev/sdX) takes SG_IO too. */
		if (fstat(fd, &sb) == 0 && S_ISBLK(sb.st_mode))
			return NULL;
		return "not a SCSI generic (sg), bsg or block device";
	}
}

struct mirror_transport *mirror_sgio_open(const char *target,
					  const struct mirror_transport_opts *opts, char *err,
					  size_t err_len)
{
	struct sgio_transport *st;
	char local[MIRROR_TRANSPORT_ERR_MAX];
	const char *bad;
	int rc;

	if (!err || !err_len) {
		err = local;
		err_len = sizeof(local);
	}
	if (mirror_sgio_check(target, opts, err, err_len) < 0)
		return NULL;
	st = calloc(1, sizeof(*st));
	if (!st) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	st->fd = -1;
	st->base.ops = &sgio_ops;
	st->base.opts = *opts;
	st->base.opts.initiator_name = NULL; /* not kept: the caller owns it */
	snprintf(st->path, sizeof(st->path), "%s", target);
	st->cap = opts->queue_depth ? opts->queue_depth : 1;
	st->q = calloc(st->cap, sizeof(*st->q));
	if (!st->q) {
		snprintf(err, err_len, "out of memory");
		free_st(st);
		return NULL;
	}
	/* Read-write: sg refuses data-out commands on a read-only open. */
	rc = scsi_pt_open_device(target, false, 0);
	if (rc < 0) {
		snprintf(err, err_len, "cannot open %s: %s", target, strerror(-rc));
		free_st(st);
		return NULL;
	}
	st->fd = rc;
	bad = unusable_kind(check_pt_file_handle(st->fd, target, 0), st->fd);
	if (bad) {
		snprintf(err, err_len, "%s: %s", target, bad);
		free_st(st);
		return NULL;
	}
	st->pt = construct_scsi_pt_obj_with_fd(st->fd, 0);
	if (!st->pt || get_scsi_pt_os_err(st->pt)) {
		int e = st->pt ? get_scsi_pt_os_err(st->pt) : ENOMEM;
		snprintf(err, err_len, "%s: cannot set up the SCSI pass-through: %s", target,
			 strerror(e));
		free_st(st);
		return NULL;
	}
	st->base.error[0] = '\0';
	return &st->base;
}
