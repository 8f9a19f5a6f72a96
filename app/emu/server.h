/* mirror-emu's socket loop: the file descriptors and the clock around the
 * transport-free iSCSI target engine (target.h).  One thread, non-blocking
 * sockets, epoll: bytes read from a connection go to
 * mirror_tgt_conn_input, mirror_tgt_conn_output goes back out as the socket
 * accepts it, and mirror_tgt_conn_tick's deadline is the epoll timeout.
 * No client can stall another: nothing blocks, and a client that does not
 * read its responses is no longer read from once max_pending bytes wait for
 * it.  A unix stream socket answers every connection with one line of
 * JSON counters.  Linux only (epoll, eventfd, accept4). */
#ifndef MIRROR_EMU_SERVER_H
#define MIRROR_EMU_SERVER_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/log.h"

#ifdef __cplusplus
extern "C" {
#endif

struct mirror_tgt;
struct mirror_engine_ops;
struct json_object;

/* ---- addresses ---- */

#define MIRROR_EMU_DEFAULT_LISTEN "127.0.0.1:3260"
#define MIRROR_EMU_DEFAULT_PORT 3260u

/* "127.0.0.1:3260", "[::1]:3260", "127.0.0.1" or "[::1]" (port 3260), a bare
 * IPv6 literal "::1" (port 3260); port 0 picks a free port.  Literals
 * only, no host names.  -EINVAL with the reason in why. */
int mirror_emu_parse_addr(const char *text, struct sockaddr_storage *ss, socklen_t *len,
			  char *why, size_t why_len);

/* ---- the server ---- */

#define MIRROR_EMU_COALESCE_MAX_US 1000000u
#define MIRROR_EMU_COALESCE_DEFAULT_US 200u

struct mirror_emu_config {
	const char *listen;       /* NULL: MIRROR_EMU_DEFAULT_LISTEN */
	const char *stats_path;   /* unix socket for the counters, NULL: none */
	unsigned max_conns;       /* iSCSI connections at once; 0: 256 */
	size_t max_pending;       /* output bytes per connection before it is
				   * no longer read from; 0: 8 MiB */
	unsigned linger_ms;       /* most time a closing connection may take
				   * to take its last bytes; 0: 5000 */
	struct mirror_tgt *tgt;   /* may be NULL until mirror_emu_server_attach */
	/* Interrupt moderation, as a NIC's rx-usecs: a connection that owes
	 * Data-Out for six R2Ts or more wakes the loop once about half of it
	 * has arrived, or after this many microseconds, whichever is first,
	 * instead of at every PDU.  0: off (every PDU may wake the loop). */
	unsigned coalesce_us;     /* at most MIRROR_EMU_COALESCE_MAX_US */
	/* The engine behind the connections; NULL: the iSCSI target engine
	 * (mirror_engine_iscsi).  A test gives a stub. */
	const struct mirror_engine_ops *engine;
	/* What the stats socket answers; NULL: the first target's counters.
	 * The loop adds its own as "server". */
	struct json_object *(*stats_json)(void *arg);
	void *stats_arg;
};

void mirror_emu_config_init(struct mirror_emu_config *c);

/* Counters of the loop itself (the engine keeps the protocol's). */
struct mirror_emu_server_stats {
	uint64_t accepted;        /* connections taken */
	uint64_t refused;         /* closed at once: max_conns reached */
	uint64_t closed;          /* connections ended, any reason */
	uint64_t read_pauses;     /* times a connection hit max_pending */
	uint64_t lingered_out;    /* closing connections cut at linger_ms */
	uint64_t stats_served;    /* stats socket answers */
	uint64_t wakeups;         /* epoll_wait returns with events */
	uint64_t coalesce_expired; /* coalescing waits cut by coalesce_us */
	uint64_t bytes_in, bytes_out;
	unsigned conns_now;
};

struct mirror_emu_server;

/* Binds and listens (the port is known from here on: port 0 picks one),
 * and the stats socket if configured.  Returns 0 and *out, or a negative
 * errno and a message naming the address or path in why: -EINVAL for a
 * bad address or path, -EADDRINUSE when the address or the stats socket is
 * taken (a stats socket left by a dead emulator is replaced), -EACCES,
 * -EADDRNOTAVAIL, ... from the system. */
int mirror_emu_server_new(const struct mirror_emu_config *c, struct mirror_emu_server **out,
			  char *why, size_t why_len);
/* The target to serve, when it could not be made before the port was
 * known (its SendTargets portal names the port). */
void mirror_emu_server_attach(struct mirror_emu_server *s, struct mirror_tgt *tgt);
/* The bound TCP port. */
unsigned mirror_emu_server_port(const struct mirror_emu_server *s);
/* Another portal (a controller's host port beside its mirror port):
 * listens on listen and serves tgt there.  Returns the listener's index
 * (>= 1), or a negative errno and the reason in why. */
int mirror_emu_server_add_listener(struct mirror_emu_server *s, const char *listen,
				   struct mirror_tgt *tgt, char *why, size_t why_len);
void mirror_emu_server_attach_at(struct mirror_emu_server *s, unsigned i, struct mirror_tgt *tgt);
/* Paused: the listener's connections are closed at once and new ones are
 * left unanswered in the backlog (a cut link); resumed: served again. */
int mirror_emu_server_pause_listener(struct mirror_emu_server *s, unsigned i, bool paused);
unsigned mirror_emu_server_port_at(const struct mirror_emu_server *s, unsigned i);
const char *mirror_emu_server_portal_at(const struct mirror_emu_server *s, unsigned i);
/* A descriptor of the program's own in the loop: cb(arg, epoll events)
 * when it is ready.  The descriptor stays the caller's to close (after
 * unwatch).  0, or -ENOSPC (16 at most) or an epoll errno. */
int mirror_emu_server_watch(struct mirror_emu_server *s, int fd, uint32_t events,
			    void (*cb)(void *arg, uint32_t events), void *arg);
int mirror_emu_server_watch_mod(struct mirror_emu_server *s, int fd, uint32_t events);
void mirror_emu_server_unwatch(struct mirror_emu_server *s, int fd);
/* A timer: cb(arg, now) runs at once and then when the ms it returned
 * have passed (-1: never again). */
void mirror_emu_server_on_tick(struct mirror_emu_server *s, int (*cb)(void *arg, uint64_t now_ms),
			       void *arg);
/* Any event brings the next tick to within ms at the latest: a timer that
 * sleeps long while nothing happens and keeps a short period while
 * events come (the pair's controller when idle, bench/soak.sh). */
void mirror_emu_server_tick_after_event(struct mirror_emu_server *s, unsigned ms);
/* cb(arg) runs every round just before the loop waits, after the
 * connections' output went out: a place to write what the round's events
 * queued elsewhere in one go (the pair's mirror link: every mirror
 * operation the round submitted, in one burst, not one write each).  A
 * positive return says it completed work whose answers are due: the
 * connections are served again before the wait. */
void mirror_emu_server_before_wait(struct mirror_emu_server *s, int (*cb)(void *arg), void *arg);
/* The loop's monotonic clock, in ms. */
uint64_t mirror_emu_now_ms(void);
/* The bound address as a portal, "127.0.0.1:3260" or "[::1]:3260". */
const char *mirror_emu_server_portal(const struct mirror_emu_server *s);
/* Serves until mirror_emu_server_stop(); then closes the listeners and
 * the stats socket (which it unlinks) and frees every connection, which
 * aborts its outstanding tasks.  Returns 0 after a stop, -EINVAL without a
 * target, or a negative errno if epoll itself fails. */
int mirror_emu_server_run(struct mirror_emu_server *s);
/* Async-signal-safe (a flag and an eventfd write), and safe from another
 * thread: makes run() return soon. */
void mirror_emu_server_stop(struct mirror_emu_server *s);
const struct mirror_emu_server_stats *mirror_emu_server_stats(const struct mirror_emu_server *s);
/* Closes what run() has not, unlinks the stats socket; the target is the
 * caller's. */
void mirror_emu_server_free(struct mirror_emu_server *s);

/* ---- files and limits (limits.c) ---- */

/* The bound port into path, written under a temporary name and renamed so
 * that a test polling for the file never reads half a number.  0, or a
 * negative errno with "PATH: reason" in why. */
int mirror_emu_write_port_file(const char *path, unsigned port, char *why, size_t why_len);
/* Every connection is a descriptor: raises the soft open-file limit
 * toward the hard one if max_conns needs it, and logs a warning if it
 * cannot. */
void mirror_emu_check_fd_limit(unsigned max_conns);
/* --prefault: every page of the NVRAM's len bytes at data made resident
 * and writable now (madvise MADV_POPULATE_WRITE, or a write per page where
 * the kernel lacks it, before Linux 5.14), so that the first write to each
 * page costs no fault in the middle of a measurement: a real NVRAM is
 * always resident.  The contents are not changed. */
void mirror_emu_prefault(uint8_t *data, size_t len);

#ifdef __cplusplus
}
#endif
#endif
