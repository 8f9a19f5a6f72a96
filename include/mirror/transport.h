/* The transport seam: one interface to send a SCSI command to a target,
 * whatever carries it (iSCSI through libiscsi, SG_IO through libsgutils2).
 * Callers never see the backend's types, in the manner of sg3_utils'
 * sg_pt.h.
 *
 * Errors follow libmirror's convention: negative codes (negated errno or
 * MIRROR_E_*); a human-readable message for the last failure is kept in the
 * transport (mirror_transport_error), as libiscsi keeps its own. */
#ifndef MIRROR_TRANSPORT_H
#define MIRROR_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mirror/sense.h>

#ifdef __cplusplus
extern "C" {
#endif

enum mirror_xfer_dir { MIRROR_DIR_NONE = 0, MIRROR_DIR_OUT, MIRROR_DIR_IN };

/* One SCSI command and, once it completed, its outcome. */
struct mirror_cmd {
	/* in */
	uint8_t cdb[16];
	unsigned cdb_len;
	enum mirror_xfer_dir dir;
	const uint8_t *data_out; /* dir == OUT: data_out_len bytes */
	uint32_t data_out_len;
	uint8_t *data_in;        /* dir == IN: room for data_in_len bytes */
	uint32_t data_in_len;
	void *user;              /* for the caller's completion callback */

	/* out */
	int result;          /* 0: the target answered (see status); < 0: transport failure */
	uint8_t status;      /* SCSI status byte */
	uint8_t sense[252];  /* raw sense bytes as received */
	unsigned sense_len;
	struct mirror_sense sense_parsed; /* valid when sense_len > 0 */
	int32_t residual;    /* > 0 underflow, < 0 overflow (RFC 7143 11.4.5) */
	uint32_t data_in_got;/* bytes of data-in received */
	uint64_t duration_ns;/* submit to completion */
};

struct mirror_transport_opts {
	unsigned connect_timeout_ms; /* 0: 10000 */
	unsigned command_timeout_ms; /* 0: 30000 */
	bool header_digest;          /* iSCSI: CRC32C */
	bool data_digest;
	const char *initiator_name;  /* iSCSI: NULL for a default */
	unsigned queue_depth;        /* async: most commands outstanding (0: 32) */
	/* iSCSI CHAP set outside the URL (which shows in logs and process
	 * lists): the initiator's user and secret, and the target's for
	 * mutual CHAP; NULL: what the URL says.  Not kept after open. */
	const char *chap_user, *chap_secret;
	const char *target_chap_user, *target_chap_secret;
};

struct mirror_transport;

/* Opens "iscsi://[user[%password]@]host[:port]/iqn/lun" (libiscsi's URL
 * form) or a device path (/dev/sgN, /dev/bsg/H:C:T:L, /dev/sdX) through
 * SG_IO.  On failure returns NULL and, if err is non-NULL, a message. */
struct mirror_transport *mirror_transport_open(const char *target,
					       const struct mirror_transport_opts *opts,
					       char *err, size_t err_len);
void mirror_transport_close(struct mirror_transport *t);
/* Closes at once, without a logout or any wait: for a peer that may have
 * stopped answering.  Outstanding commands complete with -ECANCELED. */
void mirror_transport_abort(struct mirror_transport *t);
/* Exit status (sg3_utils) for a failed mirror_transport_open of target:
 * MIRROR_EXIT_FILE_ERROR for a device path that cannot be opened (as
 * sg_raw), MIRROR_EXIT_TRANSPORT for a network target; MIRROR_EXIT_SYNTAX
 * for a target that names no backend. */
int mirror_transport_open_exit_status(const char *target);

/* Checks, without connecting, that target names a backend and parses as its
 * address, and that the backend can honour opts.  0; -EINVAL for a target
 * that is no address; -ENOTSUP for an option the backend cannot honour
 * (libiscsi 1.19 never negotiates DataDigest=CRC32C).  A message in err.
 * Lets a command tell a usage error from a failure to connect. */
int mirror_transport_check(const char *target, const struct mirror_transport_opts *opts,
			   char *err, size_t err_len);

/* The backend's name ("iscsi", "sgio") and the last error's message. */
const char *mirror_transport_kind(const struct mirror_transport *t);
const char *mirror_transport_error(const struct mirror_transport *t);

/* Synchronous: sends c and waits for its completion; returns c->result. */
int mirror_transport_run(struct mirror_transport *t, struct mirror_cmd *c);

/* Asynchronous: queue c (at most queue_depth outstanding, -EAGAIN past
 * that); done(c) is called from mirror_transport_poll or _drain when it
 * completes.  c must stay valid until then. */
typedef void (*mirror_cmd_done_fn)(struct mirror_cmd *c);
int mirror_transport_submit(struct mirror_transport *t, struct mirror_cmd *c,
			    mirror_cmd_done_fn done);
/* Waits up to timeout_ms (-1: forever) for progress; returns the number of
 * commands completed, or a negative error.  With timeout_ms 0 and commands
 * outstanding it serves the connection once without waiting. */
int mirror_transport_poll(struct mirror_transport *t, int timeout_ms);
/* Waits until nothing is outstanding. */
int mirror_transport_drain(struct mirror_transport *t);
unsigned mirror_transport_outstanding(const struct mirror_transport *t);

/* For a caller's own event loop over many transports (one poll(2) for all
 * sessions): the descriptor to wait on and the poll(2) events the backend
 * waits for now (POLLIN, POLLOUT while it has bytes to send).  -1 / 0 when
 * there is nothing to wait on (not connected, or a session that failed);
 * the caller then calls mirror_transport_poll(t, 0) again within 100 ms.
 * Once poll(2) reports the descriptor, or at least once a second for the
 * command deadlines, mirror_transport_poll(t, 0) does the I/O without
 * blocking and delivers the completions. */
int mirror_transport_fd(const struct mirror_transport *t);
short mirror_transport_events(const struct mirror_transport *t);
/* For an event loop that already knows the descriptor's readiness (epoll):
 * one round of I/O with those poll(2) events and no poll(2) of its own,
 * the command deadlines checked, completions delivered; returns as
 * mirror_transport_poll(t, 0).  revents POLLOUT after submitting writes
 * the new commands out at once (what the socket takes; the rest waits
 * for mirror_transport_events' POLLOUT).  Called from one of t's own
 * completion callbacks it does nothing and returns 0.  Backends without
 * a descriptor: mirror_transport_poll(t, 0). */
int mirror_transport_service(struct mirror_transport *t, short revents);

/* That event loop, done once for every caller: one poll(2) over many
 * transports.  A poller holds the scratch of the wait for up to cap
 * transports and when it last served them all; NULL when out of memory. */
struct mirror_transport_poller;
struct mirror_transport_poller *mirror_transport_poller_new(unsigned cap);
void mirror_transport_poller_free(struct mirror_transport_poller *p);
/* Waits up to timeout_ms (-1: no limit of the caller's) on the transports
 * t[0..n-1] that have commands outstanding (NULL entries and idle ones are
 * skipped), then serves (mirror_transport_poll(t, 0), which delivers the
 * completions through their callbacks) those poll(2) found ready, those
 * without a descriptor, and, after a timeout or once a second, all of
 * them for their command deadlines.  The wait is cut to 10 ms while a
 * transport has no descriptor and to 1 s while any command is
 * outstanding.  With nothing outstanding it sleeps timeout_ms (a timer for
 * the caller), or returns at once for -1.  results (n entries, or NULL)
 * gets each transport's mirror_transport_poll return, 0 for those not
 * served: a negative one is that session's failure.  Returns the commands
 * completed in all; -EINVAL for no poller, n above its cap, t NULL with n
 * > 0 or timeout_ms below -1; the negated errno of poll(2) (a signal is
 * no error: 0). */
int mirror_transport_poll_many(struct mirror_transport_poller *p, struct mirror_transport *const *t,
			       unsigned n, int timeout_ms, int *results);

/* Exit status (sg3_utils) for a completed command: status and sense, or
 * MIRROR_EXIT_TIMEOUT / MIRROR_EXIT_TRANSPORT for a transport failure. */
int mirror_cmd_exit_status(const struct mirror_cmd *c);

#ifdef __cplusplus
}
#endif
#endif
