/* An iSCSI session driven a step at a time, for the one case that needs
 * what the transport seam does not offer: ABORT TASK (RFC 7143 11.5) of a
 * write whose data is still being solicited.  The seam hides libiscsi;
 * this file is the only place in conformance/ that talks to it, and only
 * for iscsi:// targets (the case is skipped on others). */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "conform.h"

struct conf_iscsi {
	struct iscsi_context *ctx;
	int lun;
	struct scsi_task *task;
	struct iscsi_data data;
	bool write_done, tmf_done;
	int write_status, tmf_status;
	uint32_t tmf_response;
};

int conf_iscsi_open(const char *url, const char *initiator, struct conf_iscsi **out, char *err,
		    size_t err_len)
{
	struct conf_iscsi *s = calloc(1, sizeof(*s));
	struct iscsi_url *u = NULL;

	*out = NULL;
	if (!s)
		return conf_errorf(-ENOMEM, err, err_len, "out of memory");
	s->ctx = iscsi_create_context(initiator);
	if (!s->ctx) {
		free(s);
		return conf_errorf(-ENOMEM, err, err_len, "cannot create an iSCSI context");
	}
	u = iscsi_parse_full_url(s->ctx, url);
	if (!u) {
		conf_errorf(-EINVAL, err, err_len, "%s", iscsi_get_error(s->ctx));
		goto fail;
	}
	s->lun = u->lun;
	iscsi_set_targetname(s->ctx, u->target);
	iscsi_set_session_type(s->ctx, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(s->ctx, ISCSI_HEADER_DIGEST_NONE);
	if (u->user[0])
		iscsi_set_initiator_username_pwd(s->ctx, u->user, u->passwd);
	if (iscsi_full_connect_sync(s->ctx, u->portal, u->lun) != 0) {
		conf_errorf(-EIO, err, err_len, "login: %s", iscsi_get_error(s->ctx));
		goto fail;
	}
	iscsi_destroy_url(u);
	/* A connection libiscsi drops must show as an error here, not be
	 * re-opened behind our back with the TMF cancelled. */
	iscsi_set_noautoreconnect(s->ctx, 1);
	*out = s;
	return 0;
fail:
	if (u)
		iscsi_destroy_url(u);
	iscsi_destroy_context(s->ctx);
	free(s);
	return -EIO;
}

static void write_cb(struct iscsi_context *ctx, int status, void *command_data, void *private_data)
{
	struct conf_iscsi *s = private_data;

	(void)ctx;
	(void)command_data;
	s->write_done = true;
	s->write_status = status;
}

int conf_iscsi_submit_write(struct conf_iscsi *s, const uint8_t *cdb, unsigned cdb_len,
			    const uint8_t *data, uint32_t len)
{
	unsigned char c[16];

	if (cdb_len > sizeof(c))
		return -EINVAL;
	memcpy(c, cdb, cdb_len);
	s->task = scsi_create_task((int)cdb_len, c, SCSI_XFER_WRITE, (int)len);
	if (!s->task)
		return -ENOMEM;
	/* libiscsi sends from this buffer as R2Ts ask; it stays the caller's */
	s->data.data = (unsigned char *)(uintptr_t)data;
	s->data.size = len;
	if (iscsi_scsi_command_async(s->ctx, s->lun, s->task, write_cb, &s->data, s) != 0) {
		scsi_free_scsi_task(s->task);
		s->task = NULL;
		return -EIO;
	}
	return 0;
}

/* libiscsi gave up on a PDU of its own accord before the target saw it. */
static bool initiator_fault(struct conf_iscsi *s)
{
	const char *e = iscsi_get_error(s->ctx);

	return e && strstr(e, "cmdsn < expcmdsn") != NULL;
}

int conf_iscsi_step(struct conf_iscsi *s, int timeout_ms)
{
	struct pollfd pfd = { iscsi_get_fd(s->ctx), (short)iscsi_which_events(s->ctx), 0 };
	int rc = poll(&pfd, 1, timeout_ms);

	if (rc < 0)
		return errno == EINTR ? 0 : -errno;
	if (iscsi_service(s->ctx, rc ? pfd.revents : 0) < 0)
		return initiator_fault(s) ? -EPROTO : -EIO;
	return 0;
}

const char *conf_iscsi_error(struct conf_iscsi *s)
{
	return iscsi_get_error(s->ctx);
}

bool conf_iscsi_write_done(const struct conf_iscsi *s)
{
	return s->write_done;
}

static void tmf_cb(struct iscsi_context *ctx, int status, void *command_data, void *private_data)
{
	struct conf_iscsi *s = private_data;

	(void)ctx;
	s->tmf_done = true;
	s->tmf_status = status;
	if (status == SCSI_STATUS_GOOD && command_data)
		s->tmf_response = *(uint32_t *)command_data;
}

int conf_iscsi_abort(struct conf_iscsi *s, unsigned timeout_ms, uint32_t *response, char *err,
		     size_t err_len)
{
	if (!s->task || s->write_done)
		return conf_errorf(-EINVAL, err, err_len, "no write outstanding to abort");
	/* The generic call, not iscsi_task_mgmt_abort_task_async: that one
	 * also cancels the task inside libiscsi at once, and an R2T the target
	 * sent before it saw the abort then names a task libiscsi no longer
	 * knows, which makes it drop and re-open the connection (the TMF fails
	 * with it, about one run in six here).  Left alone, libiscsi answers
	 * such R2Ts until the target acts on the abort. */
	if (iscsi_task_mgmt_async(s->ctx, (int)s->task->lun, ISCSI_TM_ABORT_TASK, s->task->itt,
				  s->task->cmdsn, tmf_cb, s) != 0)
		return conf_errorf(-EIO, err, err_len, "ABORT TASK: %s", iscsi_get_error(s->ctx));
	for (unsigned waited = 0; !s->tmf_done && waited < timeout_ms; waited += 10)
		if (conf_iscsi_step(s, 10) < 0)
			return conf_errorf(initiator_fault(s) ? -EPROTO : -EIO, err, err_len,
					   "ABORT TASK: %s", iscsi_get_error(s->ctx));
	if (!s->tmf_done)
		return conf_errorf(-ETIMEDOUT, err, err_len, "no answer to ABORT TASK in %u ms", timeout_ms);
	if (s->tmf_status != SCSI_STATUS_GOOD)
		return conf_errorf(initiator_fault(s) ? -EPROTO : -EIO, err, err_len,
				   "ABORT TASK failed (status 0x%x): %s", (unsigned)s->tmf_status,
				   iscsi_get_error(s->ctx));
	*response = s->tmf_response;
	return 0;
}

void conf_iscsi_close(struct conf_iscsi *s)
{
	if (!s)
		return;
	/* a clean logout when it can; the task, if still queued, goes with
	 * the context */
	if (iscsi_is_logged_in(s->ctx))
		iscsi_logout_sync(s->ctx);
	iscsi_destroy_context(s->ctx);
	/* the task is ours to free, once no PDU of the context refers to it */
	if (s->task)
		scsi_free_scsi_task(s->task);
	free(s);
}
