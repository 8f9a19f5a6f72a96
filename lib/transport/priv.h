/* Inside the transport seam: what a backend provides to lib/transport.c.
 * Not installed; callers see only <mirror/transport.h>.
 *
 * A backend embeds struct mirror_transport as the first member of its own
 * state and fills in a table of operations, in the manner of sg3_utils'
 * sg_pt_*.c files behind sg_pt.h. */
#ifndef MIRROR_TRANSPORT_PRIV_H
#define MIRROR_TRANSPORT_PRIV_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <mirror/transport.h>

struct mirror_transport_ops {
	const char *kind;
	/* Queue c; the backend has room (the generic layer checked). */
	int (*submit)(struct mirror_transport *t, struct mirror_cmd *c, mirror_cmd_done_fn done);
	/* Wait up to timeout_ms (-1: until something completes) and deliver
	 * completions; returns how many were delivered.  A backend never
	 * leaves a command outstanding after a failure of its own: it fails
	 * the command instead, so that callers waiting on it always return. */
	int (*poll)(struct mirror_transport *t, int timeout_ms);
	/* One round without waiting, with the poll(2) events the caller's
	 * own loop reported; delivers completions.  NULL: poll(t, 0). */
	int (*serve)(struct mirror_transport *t, short revents);
	/* Commands queued and not yet delivered. */
	unsigned (*outstanding)(const struct mirror_transport *t);
	/* The descriptor and poll(2) events to wait for (transport.h); -1 and
	 * 0 when there is none.  NULL: the backend has no descriptor. */
	int (*fd)(const struct mirror_transport *t);
	short (*events)(const struct mirror_transport *t);
	/* Ends the session; outstanding commands complete with an error
	 * first.  Frees nothing: a completion may be running this. */
	void (*close)(struct mirror_transport *t);
	/* Frees what close left; called once nothing of t is on the stack. */
	void (*free)(struct mirror_transport *t);
};

#define MIRROR_TRANSPORT_ERR_MAX 512

struct mirror_transport {
	const struct mirror_transport_ops *ops;
	struct mirror_transport_opts opts; /* defaults resolved; strings not kept */
	char error[MIRROR_TRANSPORT_ERR_MAX];
	bool abort;  /* close without any exchange with the peer */
	/* A completion callback may close its own transport (a link that
	 * drops on a failed command): the memory is freed only when the
	 * outermost call into the transport returns (transport.c). */
	unsigned depth; /* calls into the backend now running */
	bool closed;
};

/* Defaults of struct mirror_transport_opts (transport.h). */
#define MIRROR_TRANSPORT_CONNECT_TIMEOUT_MS 10000u
#define MIRROR_TRANSPORT_COMMAND_TIMEOUT_MS 30000u
#define MIRROR_TRANSPORT_QUEUE_DEPTH 32u
#define MIRROR_TRANSPORT_QUEUE_DEPTH_MAX 1024u

/* Record the message of the last failure. */
void mirror_transport_set_error(struct mirror_transport *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* CLOCK_MONOTONIC in nanoseconds: latencies and deadlines never jump with
 * the wall clock. */
static inline uint64_t mirror_monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- the iSCSI backend (lib/transport/iscsi.c) ---- */

int mirror_iscsi_check(const char *target, const struct mirror_transport_opts *opts, char *err,
		       size_t err_len);
struct mirror_transport *mirror_iscsi_open(const char *target,
					   const struct mirror_transport_opts *opts, char *err,
					   size_t err_len);

#endif
