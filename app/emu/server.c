/* mirror-emu's socket loop around the transport-free target engine
 * (target.h): one thread, non-blocking sockets, level-triggered epoll.
 *
 * Fairness rules, so that one client never holds up another:
 * - no call blocks: every socket is non-blocking and every send/recv that
 *   would block returns to the loop;
 * - a readable connection gets at most READS_PER_EVENT reads per wake-up;
 * - a connection whose peer does not read its responses is not read from
 *   once max_pending bytes of output wait for it (the engine cannot grow
 *   its queue without input), and is read again once half of that left;
 * - a closing connection gets linger_ms to take its last bytes.
 * The engine's timers (delayed statuses) are served by ticking every
 * connection after each wake-up and sleeping no longer than the nearest
 * deadline it reports. */
#include "config.h"

/* accept4: a socket that is non-blocking from its first instant, with no
 * window for a descriptor to leak into a child without CLOEXEC. */
#define _GNU_SOURCE 1

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "app/emu/server.h"
#include "iscsi/target.h"

#include "base/why.h"

#define DEFAULT_MAX_CONNS 256u
#define DEFAULT_MAX_PENDING (8u * 1024u * 1024u)
#define DEFAULT_LINGER_MS 5000u
#define READ_BUF_BYTES (256u * 1024u)
#define READS_PER_EVENT 4
#define ACCEPTS_PER_EVENT 64
#define EVENTS_PER_WAIT 64
/* A stats client gets one line; it has this long to take it. */
#define STATS_CLIENTS_MAX 16u
#define STATS_CLIENT_MS 1000u
/* After EMFILE/ENFILE a level-triggered listener would wake the loop
 * at once, forever: it rests this long instead. */
#define ACCEPT_BACKOFF_MS 100u
/* Coalescing only pays when this much input is certain to come: below it
 * the initiator is soon waiting for us (measured with 4 KiB writes: from 2
 * owed R2Ts, queue depth 4 lost 10-17% of its ops/s; from 6, depths 4 and
 * 8 are unchanged and depth 32 costs half the CPU per op). */
#define COALESCE_MIN_OWED 6u
#define COALESCE_LOWAT_MAX (32u * 1024u)
#define PEER_LEN 64
#define LISTENERS_MAX 4
#define WATCHES_MAX 16

/* ---- addresses ---- */

int mirror_emu_parse_addr(const char *text, struct sockaddr_storage *ss, socklen_t *len,
			  char *why, size_t why_len)
{
	char host[128], port[8];
	const char *p, *colon;
	size_t hlen;
	int family = AF_UNSPEC;

	if (!text || !*text)
		return mirror_fail(-EINVAL, why, why_len, "empty listen address (e.g. 127.0.0.1:3260)");
	snprintf(port, sizeof(port), "%u", MIRROR_EMU_DEFAULT_PORT);
	if (text[0] == '[') {
		const char *rb = strchr(text, ']');
		if (!rb)
			return mirror_fail(-EINVAL, why, why_len, "'%s': '[' without ']'", text);
		p = text + 1;
		hlen = (size_t)(rb - p);
		family = AF_INET6;
		colon = rb[1] == ':' ? rb + 1 : NULL;
		if (rb[1] && !colon)
			return mirror_fail(-EINVAL, why, why_len, "'%s': expected ':PORT' after ']'", text);
	} else {
		p = text;
		colon = strchr(text, ':');
		if (colon && strchr(colon + 1, ':')) {
			/* more than one colon: a bare IPv6 literal, no port */
			colon = NULL;
			family = AF_INET6;
		}
		hlen = colon ? (size_t)(colon - p) : strlen(p);
		if (family == AF_UNSPEC)
			family = AF_INET;
	}
	if (hlen == 0)
		return mirror_fail(-EINVAL, why, why_len, "'%s': no address before the port", text);
	if (hlen >= sizeof(host))
		return mirror_fail(-EINVAL, why, why_len, "'%.40s...': address too long", text);
	memcpy(host, p, hlen);
	host[hlen] = '\0';
	if (colon) {
		const char *d = colon + 1;
		unsigned long v = 0;
		if (!*d)
			return mirror_fail(-EINVAL, why, why_len, "'%s': empty port", text);
		for (const char *q = d; *q; q++) {
			if (*q < '0' || *q > '9')
				return mirror_fail(-EINVAL, why, why_len, "'%s': port '%s' is not a number",
					    text, d);
			v = v * 10 + (unsigned long)(*q - '0');
			if (v > 65535)
				return mirror_fail(-EINVAL, why, why_len,
					    "'%s': port '%s' is over 65535", text, d);
		}
		snprintf(port, sizeof(port), "%lu", v);
	}

	/* getaddrinfo with AI_NUMERICHOST: literals only (no name lookup
	 * that could block or surprise), and IPv6 scope ids ("fe80::1%eth0")
	 * come for free. */
	/* inet_aton, behind getaddrinfo, also takes "1.2.3" and "127.1":
	 * a listen address is written out in full. */
	struct in_addr v4;
	if (family == AF_INET && inet_pton(AF_INET, host, &v4) != 1)
		return mirror_fail(-EINVAL, why, why_len,
			    "'%s': '%s' is not an IPv4 address literal (e.g. 127.0.0.1:3260 or "
			    "[::1]:3260; host names are not looked up)", text, host);
	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	int rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0 || !res)
		return mirror_fail(-EINVAL, why, why_len,
			    "'%s': '%s' is not an %s address literal (e.g. 127.0.0.1:3260 or "
			    "[::1]:3260; host names are not looked up)", text, host,
			    family == AF_INET6 ? "IPv6" : "IPv4");
	if (res->ai_addrlen > sizeof(*ss)) {
		freeaddrinfo(res);
		return mirror_fail(-EINVAL, why, why_len, "'%s': address too long", text);
	}
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* "127.0.0.1:40312" or "[::1]:40312" */
static void addr_str(const struct sockaddr *sa, socklen_t len, char *out, size_t cap)
{
	char host[NI_MAXHOST], serv[NI_MAXSERV];

	if (getnameinfo(sa, len, host, sizeof(host), serv, sizeof(serv),
			NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(out, cap, "?");
		return;
	}
	snprintf(out, cap, sa->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, serv);
}

/* ---- the server ---- */

enum src_kind { SRC_LISTEN, SRC_STATS_LISTEN, SRC_WAKE, SRC_CONN, SRC_STATS_CLIENT, SRC_WATCH };

/* What an epoll event points at: every source starts with this. */
struct src {
	enum src_kind kind;
	int fd;
};

enum conn_state {
	CS_OPEN,  /* reading and writing */
	CS_FLUSH, /* closing: sending what is left, not reading */
	CS_DRAIN, /* closing: our side shut down, reading to the peer's EOF so
		   * that unread bytes do not turn our FIN into a RST that
		   * could destroy the last response in flight */
	CS_DEAD   /* closed, freed after the current batch of events */
};

struct conn {
	struct src src;
	struct mirror_tgt_conn *tc;
	const struct mirror_engine_ops *eng;
	unsigned lsn;     /* the listener it came in on */
	enum conn_state state;
	uint32_t events;  /* registered with epoll */
	bool out_blocked; /* a send would block: waiting for EPOLLOUT */
	bool paused;      /* not read from: max_pending output waits */
	bool peer_eof;
	int lowat;         /* SO_RCVLOWAT set (1: the kernel's default) */
	enum {
		CO_ON,      /* coalesced while it owes enough */
		CO_EXPIRED, /* a wait ran out: the next input is what was held */
		CO_OFF      /* not coalesced until it gives new input */
	} co;
	const char *closing; /* why the close began, for the last log line */
	uint64_t deadline;
	uint64_t bytes_in, bytes_out;
	char peer[PEER_LEN];
};

/* A portal: a listening socket and the target its connections talk to. */
struct listener {
	struct src src;
	struct mirror_tgt *tgt;
	unsigned port;
	char portal[PEER_LEN];
	bool resting;
	uint64_t rest_until;
	bool paused;      /* not accepting; its connections were closed */
};

/* A descriptor of the program's own (a client transport, a timer fd). */
struct watch {
	struct src src;
	void (*cb)(void *arg, uint32_t events);
	void *arg;
	uint32_t events;
	bool used;
};

struct stats_client {
	struct src src;
	char *buf;
	size_t len, off;
	uint64_t deadline;
	bool dead;
};

struct mirror_emu_server {
	struct mirror_emu_config cfg;
	const struct mirror_engine_ops *eng;
	int ep;
	struct src wake, stats_lsn;
	struct listener lsn[LISTENERS_MAX];
	unsigned nlsn;
	struct watch watch[WATCHES_MAX];
	int (*tick)(void *arg, uint64_t now_ms);
	int (*before_wait)(void *arg);
	void *before_wait_arg;
	void *tick_arg;
	uint64_t tick_due;
	unsigned tick_after_event_ms; /* 0: the tick's own delay only */
	char *stats_path;
	dev_t stats_dev;
	ino_t stats_ino;
	struct conn **conns;
	unsigned nconns;
	struct stats_client *sc[STATS_CLIENTS_MAX];
	unsigned nsc;
	uint8_t *rbuf;
	bool shut;
	volatile sig_atomic_t stop;
	struct mirror_emu_server_stats st;
};

void mirror_emu_config_init(struct mirror_emu_config *c)
{
	memset(c, 0, sizeof(*c));
	c->listen = MIRROR_EMU_DEFAULT_LISTEN;
	c->max_conns = DEFAULT_MAX_CONNS;
	c->max_pending = DEFAULT_MAX_PENDING;
	c->linger_ms = DEFAULT_LINGER_MS;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* -1 means "no deadline" in both. */
static int min_timeout(int a, int b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

static int ms_until(uint64_t deadline, uint64_t now)
{
	if (deadline <= now)
		return 0;
	return deadline - now > INT_MAX ? INT_MAX : (int)(deadline - now);
}

struct conn;
static void conn_kill(struct mirror_emu_server *s, struct conn *c, const char *reason);

static int ep_set(struct mirror_emu_server *s, int op, struct src *src, uint32_t events)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = src;
	return epoll_ctl(s->ep, op, src->fd, &ev) < 0 ? -errno : 0;
}

static void src_close(struct mirror_emu_server *s, struct src *src)
{
	if (src->fd < 0)
		return;
	epoll_ctl(s->ep, EPOLL_CTL_DEL, src->fd, NULL);
	close(src->fd);
	src->fd = -1;
}

static int open_listener(struct listener *l, const char *text, char *why, size_t why_len)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, fd, rc;

	rc = mirror_emu_parse_addr(text, &ss, &len, why, why_len);
	if (rc < 0)
		return rc;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return mirror_fail(-errno, why, why_len, "cannot listen on %s: socket: %s", text,
			    strerror(errno));
	/* A restarted emulator must get its port back while old connections
	 * sit in TIME_WAIT; Linux still refuses a second live listener. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* [::] means IPv6 only, so that 0.0.0.0 and [::] behave alike on
	 * every host whatever its bindv6only default. */
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		int e = errno;
		close(fd);
		if (e == EADDRINUSE)
			return mirror_fail(-e, why, why_len,
				    "cannot listen on %s: address in use (another target on that port?)",
				    text);
		if (e == EADDRNOTAVAIL)
			return mirror_fail(-e, why, why_len,
				    "cannot listen on %s: no such local address on this host", text);
		if (e == EACCES)
			return mirror_fail(-e, why, why_len,
				    "cannot listen on %s: permission denied (ports below 1024 need "
				    "privilege)", text);
		return mirror_fail(-e, why, why_len, "cannot listen on %s: %s", text, strerror(e));
	}
	if (listen(fd, SOMAXCONN) < 0) {
		int e = errno;
		close(fd);
		return mirror_fail(-e, why, why_len, "cannot listen on %s: %s", text, strerror(e));
	}
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
		int e = errno;
		close(fd);
		return mirror_fail(-e, why, why_len, "cannot listen on %s: getsockname: %s", text,
			    strerror(e));
	}
	l->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						 : ((struct sockaddr_in *)&ss)->sin_port);
	addr_str((struct sockaddr *)&ss, len, l->portal, sizeof(l->portal));
	l->src.kind = SRC_LISTEN;
	l->src.fd = fd;
	return 0;
}

static int unix_addr(const char *path, struct sockaddr_un *su, char *why, size_t why_len)
{
	size_t n = strlen(path);

	memset(su, 0, sizeof(*su));
	su->sun_family = AF_UNIX;
	if (n == 0)
		return mirror_fail(-EINVAL, why, why_len, "empty stats socket path");
	if (n >= sizeof(su->sun_path))
		return mirror_fail(-EINVAL, why, why_len, "stats socket path '%s' is too long (%zu bytes, "
			    "at most %zu)", path, n, sizeof(su->sun_path) - 1);
	memcpy(su->sun_path, path, n);
	return 0;
}

/* A socket file at path that nobody accepts on is what a killed emulator
 * leaves behind: it is replaced.  A live one, or a file that is not a
 * socket, is not touched. */
static int stats_path_stale(const char *path)
{
	struct sockaddr_un sa_un;
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
		return 0;
	if (unix_addr(path, &sa_un, NULL, 0) < 0)
		return 0;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	rc = connect(fd, (struct sockaddr *)&sa_un, sizeof(sa_un));
	rc = rc < 0 && errno == ECONNREFUSED;
	close(fd);
	return rc;
}

static int open_stats(struct mirror_emu_server *s, const char *path, char *why, size_t why_len)
{
	struct sockaddr_un sa_un;
	struct stat st;
	int fd, rc;

	rc = unix_addr(path, &sa_un, why, why_len);
	if (rc < 0)
		return rc;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return mirror_fail(-errno, why, why_len, "stats socket %s: %s", path, strerror(errno));
	rc = bind(fd, (struct sockaddr *)&sa_un, sizeof(sa_un));
	if (rc < 0 && errno == EADDRINUSE && stats_path_stale(path)) {
		mirror_log(MIRROR_LOG_INFO, "stats socket %s: replacing the one a dead emulator left",
			   path);
		unlink(path);
		rc = bind(fd, (struct sockaddr *)&sa_un, sizeof(sa_un));
	}
	if (rc < 0) {
		int e = errno;
		close(fd);
		if (e == EADDRINUSE) {
			if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode))
				return mirror_fail(-e, why, why_len,
					    "stats socket %s: the path exists and is not a socket",
					    path);
			return mirror_fail(-e, why, why_len,
				    "stats socket %s: in use by a running process", path);
		}
		return mirror_fail(-e, why, why_len, "stats socket %s: %s", path, strerror(e));
	}
	/* 0600 before listen: nobody else connects in the meantime */
	if (chmod(path, 0600) < 0 || listen(fd, (int)STATS_CLIENTS_MAX) < 0 || stat(path, &st) < 0) {
		int e = errno;
		close(fd);
		unlink(path);
		return mirror_fail(-e, why, why_len, "stats socket %s: %s", path, strerror(e));
	}
	/* Remember which file is ours, so that shutdown never removes a
	 * socket another process has put at the same path since. */
	s->stats_dev = st.st_dev;
	s->stats_ino = st.st_ino;
	s->stats_lsn.kind = SRC_STATS_LISTEN;
	s->stats_lsn.fd = fd;
	return 0;
}

static void stats_unlink(struct mirror_emu_server *s)
{
	struct stat st;

	if (!s->stats_path || s->stats_ino == 0)
		return;
	if (lstat(s->stats_path, &st) == 0 && st.st_dev == s->stats_dev &&
	    st.st_ino == s->stats_ino)
		unlink(s->stats_path);
	s->stats_ino = 0;
}

int mirror_emu_server_new(const struct mirror_emu_config *c, struct mirror_emu_server **out,
			  char *why, size_t why_len)
{
	struct mirror_emu_server *s;
	int rc;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return mirror_fail(-ENOMEM, why, why_len, "out of memory");
	s->cfg = *c;
	if (!s->cfg.listen)
		s->cfg.listen = MIRROR_EMU_DEFAULT_LISTEN;
	if (!s->cfg.max_conns)
		s->cfg.max_conns = DEFAULT_MAX_CONNS;
	if (!s->cfg.max_pending)
		s->cfg.max_pending = DEFAULT_MAX_PENDING;
	if (!s->cfg.linger_ms)
		s->cfg.linger_ms = DEFAULT_LINGER_MS;
	if (s->cfg.coalesce_us > MIRROR_EMU_COALESCE_MAX_US) {
		unsigned us = s->cfg.coalesce_us;
		free(s);
		return mirror_fail(-EINVAL, why, why_len, "coalescing interval %u us is over %u us",
				   us, MIRROR_EMU_COALESCE_MAX_US);
	}
	s->cfg.stats_path = NULL; /* the copy below is what counts */
	s->eng = c->engine ? c->engine : &mirror_engine_iscsi;
	s->ep = s->wake.fd = s->stats_lsn.fd = -1;
	for (unsigned i = 0; i < LISTENERS_MAX; i++)
		s->lsn[i].src.fd = -1;
	for (unsigned i = 0; i < WATCHES_MAX; i++)
		s->watch[i].src.fd = -1;

	s->conns = calloc(s->cfg.max_conns, sizeof(*s->conns));
	s->rbuf = malloc(READ_BUF_BYTES);
	if (c->stats_path)
		s->stats_path = strdup(c->stats_path);
	if (!s->conns || !s->rbuf || (c->stats_path && !s->stats_path)) {
		rc = mirror_fail(-ENOMEM, why, why_len, "out of memory");
		goto err;
	}
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	s->wake.kind = SRC_WAKE;
	s->wake.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->ep < 0 || s->wake.fd < 0) {
		rc = mirror_fail(-errno, why, why_len, "epoll/eventfd: %s", strerror(errno));
		goto err;
	}
	rc = open_listener(&s->lsn[0], s->cfg.listen, why, why_len);
	if (rc < 0)
		goto err;
	s->lsn[0].tgt = c->tgt;
	s->nlsn = 1;
	if (s->stats_path) {
		rc = open_stats(s, s->stats_path, why, why_len);
		if (rc < 0)
			goto err;
	}
	if ((rc = ep_set(s, EPOLL_CTL_ADD, &s->wake, EPOLLIN)) < 0 ||
	    (rc = ep_set(s, EPOLL_CTL_ADD, &s->lsn[0].src, EPOLLIN)) < 0 ||
	    (s->stats_lsn.fd >= 0 && (rc = ep_set(s, EPOLL_CTL_ADD, &s->stats_lsn, EPOLLIN)) < 0)) {
		mirror_fail(rc, why, why_len, "epoll_ctl: %s", strerror(-rc));
		goto err;
	}
	mirror_log(MIRROR_LOG_DEBUG, "listening on %s%s%s", s->lsn[0].portal,
		   s->stats_path ? ", stats on " : "", s->stats_path ? s->stats_path : "");
	*out = s;
	return 0;
err:
	mirror_emu_server_free(s);
	return rc;
}

void mirror_emu_server_attach(struct mirror_emu_server *s, struct mirror_tgt *tgt)
{
	s->lsn[0].tgt = tgt;
}

int mirror_emu_server_add_listener(struct mirror_emu_server *s, const char *listen,
				   struct mirror_tgt *tgt, char *why, size_t why_len)
{
	struct listener *l;
	int rc;

	if (s->nlsn >= LISTENERS_MAX)
		return mirror_fail(-ENOSPC, why, why_len, "more than %u listening addresses",
				   LISTENERS_MAX);
	l = &s->lsn[s->nlsn];
	rc = open_listener(l, listen, why, why_len);
	if (rc < 0)
		return rc;
	rc = ep_set(s, EPOLL_CTL_ADD, &l->src, EPOLLIN);
	if (rc < 0) {
		src_close(s, &l->src);
		return mirror_fail(rc, why, why_len, "epoll_ctl: %s", strerror(-rc));
	}
	l->tgt = tgt;
	return (int)s->nlsn++;
}

/* A listener paused: its connections end at once (their tasks aborted) and
 * new ones wait in the backlog, unanswered, as they would behind a cut
 * network link; resumed: accepted again. */
int mirror_emu_server_pause_listener(struct mirror_emu_server *s, unsigned i, bool paused)
{
	struct listener *l;

	if (i >= s->nlsn)
		return -EINVAL;
	l = &s->lsn[i];
	if (l->paused == paused)
		return 0;
	l->paused = paused;
	if (paused) {
		for (unsigned k = 0; k < s->nconns; k++)
			if (s->conns[k]->lsn == i && s->conns[k]->state != CS_DEAD)
				conn_kill(s, s->conns[k], "listener paused");
	}
	return ep_set(s, EPOLL_CTL_MOD, &l->src, paused ? 0 : EPOLLIN);
}

void mirror_emu_server_attach_at(struct mirror_emu_server *s, unsigned i, struct mirror_tgt *tgt)
{
	if (i < s->nlsn)
		s->lsn[i].tgt = tgt;
}

unsigned mirror_emu_server_port(const struct mirror_emu_server *s)
{
	return s->lsn[0].port;
}

const char *mirror_emu_server_portal(const struct mirror_emu_server *s)
{
	return s->lsn[0].portal;
}

unsigned mirror_emu_server_port_at(const struct mirror_emu_server *s, unsigned i)
{
	return i < s->nlsn ? s->lsn[i].port : 0;
}

const char *mirror_emu_server_portal_at(const struct mirror_emu_server *s, unsigned i)
{
	return i < s->nlsn ? s->lsn[i].portal : "";
}

int mirror_emu_server_watch(struct mirror_emu_server *s, int fd, uint32_t events,
			    void (*cb)(void *arg, uint32_t events), void *arg)
{
	for (unsigned i = 0; i < WATCHES_MAX; i++) {
		struct watch *w = &s->watch[i];
		if (w->used)
			continue;
		w->src.kind = SRC_WATCH;
		w->src.fd = fd;
		w->cb = cb;
		w->arg = arg;
		int rc = ep_set(s, EPOLL_CTL_ADD, &w->src, events);
		if (rc < 0) {
			w->src.fd = -1;
			return rc;
		}
		w->events = events;
		w->used = true;
		return 0;
	}
	return -ENOSPC;
}

static struct watch *watch_find(struct mirror_emu_server *s, int fd)
{
	for (unsigned i = 0; i < WATCHES_MAX; i++)
		if (s->watch[i].used && s->watch[i].src.fd == fd)
			return &s->watch[i];
	return NULL;
}

int mirror_emu_server_watch_mod(struct mirror_emu_server *s, int fd, uint32_t events)
{
	struct watch *w = watch_find(s, fd);
	int rc;

	if (!w)
		return -ENOENT;
	/* a caller may re-arm on every tick: a system call only for a change */
	if (events == w->events)
		return 0;
	rc = ep_set(s, EPOLL_CTL_MOD, &w->src, events);
	if (rc == 0)
		w->events = events;
	return rc;
}

void mirror_emu_server_unwatch(struct mirror_emu_server *s, int fd)
{
	struct watch *w = watch_find(s, fd);

	if (!w)
		return;
	/* the descriptor is the caller's: only epoll forgets it */
	epoll_ctl(s->ep, EPOLL_CTL_DEL, fd, NULL);
	w->used = false;
	w->src.fd = -1;
}

void mirror_emu_server_on_tick(struct mirror_emu_server *s, int (*cb)(void *arg, uint64_t now_ms),
			       void *arg)
{
	s->tick = cb;
	s->tick_arg = arg;
	s->tick_due = 0;
}

void mirror_emu_server_tick_after_event(struct mirror_emu_server *s, unsigned ms)
{
	s->tick_after_event_ms = ms;
}

void mirror_emu_server_before_wait(struct mirror_emu_server *s, int (*cb)(void *arg), void *arg)
{
	s->before_wait = cb;
	s->before_wait_arg = arg;
}

uint64_t mirror_emu_now_ms(void)
{
	return now_ms();
}

const struct mirror_emu_server_stats *mirror_emu_server_stats(const struct mirror_emu_server *s)
{
	return &s->st;
}

void mirror_emu_server_stop(struct mirror_emu_server *s)
{
	int saved = errno; /* a signal handler must leave errno alone */
	uint64_t one = 1;
	ssize_t n;

	s->stop = 1;
	if (s->wake.fd >= 0) {
		n = write(s->wake.fd, &one, sizeof(one));
		(void)n; /* EAGAIN: the counter is already non-zero, the loop wakes */
	}
	errno = saved;
}

/* ---- connections ---- */

/* Output waiting for the peer.  The engine presents it as one span (its
 * whole queue); that span is what max_pending bounds. */
static size_t pending_bytes(struct conn *c)
{
	size_t len = 0;

	if (!c->tc || !c->eng->conn_output(c->tc, &len))
		return 0;
	return len;
}

static void conn_kill(struct mirror_emu_server *s, struct conn *c, const char *reason)
{
	if (c->state == CS_DEAD)
		return;
	mirror_log(MIRROR_LOG_INFO, "connection %s closed: %s (%llu bytes in, %llu out)", c->peer,
		   reason, (unsigned long long)c->bytes_in, (unsigned long long)c->bytes_out);
	/* Frees the engine's side first: its outstanding tasks are aborted
	 * and their NVRAM ranges stay invalid (receiver.h). */
	if (c->tc)
		c->eng->conn_free(c->tc);
	c->tc = NULL;
	src_close(s, &c->src);
	c->state = CS_DEAD;
	s->st.conns_now--;
	s->st.closed++;
}

static void conn_begin_close(struct mirror_emu_server *s, struct conn *c, uint64_t now,
			     const char *reason)
{
	if (c->state != CS_OPEN)
		return;
	mirror_log(MIRROR_LOG_DEBUG, "connection %s closing: %s", c->peer, reason);
	c->closing = reason;
	c->state = CS_FLUSH;
	c->paused = false;
	c->deadline = now + s->cfg.linger_ms;
}

/* Sends what the engine has queued until the socket would block. */
static int conn_flush(struct mirror_emu_server *s, struct conn *c)
{
	for (;;) {
		size_t len = 0;
		const uint8_t *p = c->tc ? c->eng->conn_output(c->tc, &len) : NULL;
		ssize_t n;

		if (!p || len == 0) {
			c->out_blocked = false;
			return 0;
		}
		n = send(c->src.fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			c->eng->conn_consumed(c->tc, (size_t)n);
			c->bytes_out += (uint64_t)n;
			s->st.bytes_out += (uint64_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			c->out_blocked = true;
			return 0;
		}
		conn_kill(s, c, n == 0 ? "send returned 0" : strerror(errno));
		return -1;
	}
}

static void conn_read(struct mirror_emu_server *s, struct conn *c, uint64_t now)
{
	for (int k = 0; k < READS_PER_EVENT; k++) {
		ssize_t n = recv(c->src.fd, s->rbuf, READ_BUF_BYTES, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0) {
			conn_kill(s, c, strerror(errno));
			return;
		}
		if (n == 0) {
			c->peer_eof = true;
			if (c->state == CS_DRAIN)
				conn_kill(s, c, c->closing);
			else
				conn_begin_close(s, c, now, "the peer closed it");
			return;
		}
		c->bytes_in += (uint64_t)n;
		s->st.bytes_in += (uint64_t)n;
		if (c->state != CS_OPEN)
			continue; /* discarded: the conversation is over */
		if (c->eng->conn_input(c->tc, s->rbuf, (size_t)n) < 0) {
			conn_begin_close(s, c, now, "the target ends the connection");
			return;
		}
		/* Answers go out as soon as they exist: latency, and the
		 * pending count below stays honest. */
		if (conn_flush(s, c) < 0)
			return;
		size_t pend = pending_bytes(c);
		if (pend >= s->cfg.max_pending) {
			c->paused = true;
			s->st.read_pauses++;
			mirror_log(MIRROR_LOG_WARN,
				   "connection %s does not read its responses: %zu bytes wait; not "
				   "reading from it until they drain", c->peer, pend);
			return;
		}
		if ((size_t)n < READ_BUF_BYTES)
			return; /* the socket is most likely empty now */
	}
}

static void conn_set_events(struct mirror_emu_server *s, struct conn *c)
{
	uint32_t want = 0;

	if ((c->state == CS_OPEN && !c->paused) || c->state == CS_DRAIN)
		want |= EPOLLIN | EPOLLRDHUP;
	/* EPOLLOUT only while a send has blocked: a writable socket would
	 * otherwise wake a level-triggered loop all the time. */
	if (c->out_blocked)
		want |= EPOLLOUT;
	if (want == c->events)
		return;
	int rc = ep_set(s, EPOLL_CTL_MOD, &c->src, want);
	if (rc < 0) {
		mirror_log(MIRROR_LOG_ERROR, "connection %s: epoll_ctl: %s", c->peer, strerror(-rc));
		conn_kill(s, c, "epoll_ctl failed");
		return;
	}
	c->events = want;
}

/* Time, output, closing and epoll interest of one connection; returns the
 * ms until it needs the loop again (-1: only on an event). */
static int conn_service(struct mirror_emu_server *s, struct conn *c, uint64_t now)
{
	int timeout = -1;

	if (c->state == CS_OPEN || c->state == CS_FLUSH) {
		timeout = c->eng->conn_tick(c->tc, now);
		if (c->state == CS_OPEN && c->eng->conn_wants_close(c->tc))
			conn_begin_close(s, c, now, "the target ends the connection");
		if (!c->out_blocked && conn_flush(s, c) < 0)
			return -1;
	}
	size_t pend = pending_bytes(c);
	if (c->paused && pend < s->cfg.max_pending / 2) {
		c->paused = false;
		mirror_log(MIRROR_LOG_DEBUG, "connection %s drained to %zu bytes: reading again",
			   c->peer, pend);
	}
	if (c->state == CS_FLUSH && pend == 0) {
		if (c->peer_eof) {
			conn_kill(s, c, c->closing);
			return -1;
		}
		shutdown(c->src.fd, SHUT_WR);
		c->state = CS_DRAIN;
	}
	if (c->state == CS_FLUSH || c->state == CS_DRAIN) {
		if (now >= c->deadline) {
			s->st.lingered_out++;
			conn_kill(s, c, c->state == CS_FLUSH
					       ? "the peer did not take its last responses in time"
					       : "the peer did not close in time");
			return -1;
		}
		timeout = min_timeout(timeout, ms_until(c->deadline, now));
	}
	conn_set_events(s, c);
	return c->state == CS_DEAD ? -1 : timeout;
}

static void accept_conns(struct mirror_emu_server *s, struct listener *l, uint64_t now)
{
	for (int k = 0; k < ACCEPTS_PER_EVENT; k++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		char peer[PEER_LEN];
		int fd = accept4(l->src.fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			mirror_log(MIRROR_LOG_WARN, "accept on %s: %s; not accepting for %u ms",
				   l->portal, strerror(errno), ACCEPT_BACKOFF_MS);
			if (ep_set(s, EPOLL_CTL_MOD, &l->src, 0) == 0) {
				l->resting = true;
				l->rest_until = now + ACCEPT_BACKOFF_MS;
			}
			return;
		}
		addr_str((struct sockaddr *)&ss, sl, peer, sizeof(peer));
		if (s->nconns >= s->cfg.max_conns) {
			/* Accepted and reset at once: the client learns now,
			 * instead of waiting in the backlog. */
			struct linger lg = { 1, 0 };
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			close(fd);
			s->st.refused++;
			mirror_log(MIRROR_LOG_WARN, "refused %s: %u connections already (the maximum)",
				   peer, s->cfg.max_conns);
			continue;
		}
		/* iSCSI answers are small PDUs the peer waits for. */
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

		struct conn *c = l->tgt ? calloc(1, sizeof(*c)) : NULL;
		if (c) {
			c->eng = s->eng;
			c->tc = s->eng->conn_new(l->tgt, peer);
			if (c->tc && s->eng->conn_set_user)
				s->eng->conn_set_user(c->tc, c);
		}
		if (!c || !c->tc) {
			mirror_log(MIRROR_LOG_ERROR, "refused %s: out of memory", peer);
			free(c);
			close(fd);
			s->st.refused++;
			continue;
		}
		c->src.kind = SRC_CONN;
		c->src.fd = fd;
		c->lsn = (unsigned)(l - s->lsn);
		c->state = CS_OPEN;
		c->lowat = 1;
		c->events = EPOLLIN | EPOLLRDHUP;
		snprintf(c->peer, sizeof(c->peer), "%s", peer);
		int rc = ep_set(s, EPOLL_CTL_ADD, &c->src, c->events);
		if (rc < 0) {
			mirror_log(MIRROR_LOG_ERROR, "refused %s: epoll_ctl: %s", peer, strerror(-rc));
			s->eng->conn_free(c->tc);
			close(fd);
			free(c);
			s->st.refused++;
			continue;
		}
		s->conns[s->nconns++] = c;
		s->st.accepted++;
		s->st.conns_now++;
		mirror_log(MIRROR_LOG_INFO, "connection %s on %s (%u of at most %u)", peer, l->portal,
			   s->nconns, s->cfg.max_conns);
	}
}

/* ---- the stats socket ---- */

static char *stats_line(struct mirror_emu_server *s, size_t *len)
{
	struct json_object *o = s->cfg.stats_json ? s->cfg.stats_json(s->cfg.stats_arg)
			       : s->lsn[0].tgt ? s->eng->stats_json(s->lsn[0].tgt) : NULL;
	struct json_object *srv;
	const char *text;
	char *line;

	if (!o)
		o = json_object_new_object();
	if (!o)
		return NULL;
	/* The loop's own counters, unless the engine already has a "server"
	 * member of its own. */
	if (json_object_is_type(o, json_type_object) &&
	    !json_object_object_get_ex(o, "server", NULL) && (srv = json_object_new_object())) {
		json_object_object_add(srv, "connections_now", json_object_new_int64(s->st.conns_now));
		json_object_object_add(srv, "accepted", json_object_new_uint64(s->st.accepted));
		json_object_object_add(srv, "refused", json_object_new_uint64(s->st.refused));
		json_object_object_add(srv, "closed", json_object_new_uint64(s->st.closed));
		json_object_object_add(srv, "read_pauses", json_object_new_uint64(s->st.read_pauses));
		json_object_object_add(srv, "wakeups", json_object_new_uint64(s->st.wakeups));
		json_object_object_add(srv, "coalesce_expired",
				       json_object_new_uint64(s->st.coalesce_expired));
		json_object_object_add(srv, "lingered_out", json_object_new_uint64(s->st.lingered_out));
		json_object_object_add(srv, "bytes_in", json_object_new_uint64(s->st.bytes_in));
		json_object_object_add(srv, "bytes_out", json_object_new_uint64(s->st.bytes_out));
		json_object_object_add(srv, "port", json_object_new_int64(s->lsn[0].port));
		json_object_object_add(o, "server", srv);
	}
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	*len = strlen(text) + 1;
	line = malloc(*len);
	if (line) {
		memcpy(line, text, *len - 1);
		line[*len - 1] = '\n';
	}
	json_object_put(o);
	return line;
}

/* Sends what is left of the line; true when the client is done with. */
static bool stats_client_send(struct stats_client *sc)
{
	while (sc->off < sc->len) {
		ssize_t n = send(sc->src.fd, sc->buf + sc->off, sc->len - sc->off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			sc->off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return !(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
	}
	return true;
}

static void stats_client_close(struct mirror_emu_server *s, struct stats_client *sc)
{
	src_close(s, &sc->src);
	sc->dead = true;
}

static void accept_stats(struct mirror_emu_server *s, uint64_t now)
{
	for (int k = 0; k < ACCEPTS_PER_EVENT; k++) {
		int fd = accept4(s->stats_lsn.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				mirror_log(MIRROR_LOG_WARN, "stats socket %s: accept: %s",
					   s->stats_path, strerror(errno));
			return;
		}
		struct stats_client *sc = NULL;
		if (s->nsc < STATS_CLIENTS_MAX)
			sc = calloc(1, sizeof(*sc));
		if (sc)
			sc->buf = stats_line(s, &sc->len);
		if (!sc || !sc->buf) {
			mirror_log(MIRROR_LOG_WARN, "stats socket %s: %s", s->stats_path,
				   sc ? "out of memory" : "too many clients at once");
			if (sc)
				free(sc);
			close(fd);
			continue;
		}
		sc->src.kind = SRC_STATS_CLIENT;
		sc->src.fd = fd;
		s->st.stats_served++;
		if (stats_client_send(sc)) {
			close(fd);
			free(sc->buf);
			free(sc);
			continue;
		}
		/* The line did not fit the socket buffer at once: finish it
		 * from the loop, within STATS_CLIENT_MS. */
		sc->deadline = now + STATS_CLIENT_MS;
		if (ep_set(s, EPOLL_CTL_ADD, &sc->src, EPOLLOUT) < 0) {
			close(fd);
			free(sc->buf);
			free(sc);
			continue;
		}
		s->sc[s->nsc++] = sc;
	}
}

/* ---- the loop ---- */

static void dispatch(struct mirror_emu_server *s, const struct epoll_event *ev, uint64_t now)
{
	struct src *src = ev->data.ptr;

	switch (src->kind) {
	case SRC_WAKE: {
		uint64_t v;
		ssize_t n = read(src->fd, &v, sizeof(v));
		(void)n; /* the stop flag says why we woke */
		break;
	}
	case SRC_LISTEN:
		accept_conns(s, (struct listener *)src, now);
		break;
	case SRC_WATCH: {
		struct watch *w = (struct watch *)src;
		if (w->used)
			w->cb(w->arg, ev->events);
		break;
	}
	case SRC_STATS_LISTEN:
		accept_stats(s, now);
		break;
	case SRC_STATS_CLIENT: {
		struct stats_client *sc = (struct stats_client *)src;
		if (!sc->dead && ((ev->events & (EPOLLERR | EPOLLHUP)) || stats_client_send(sc)))
			stats_client_close(s, sc);
		break;
	}
	case SRC_CONN: {
		struct conn *c = (struct conn *)src;
		if (c->state == CS_DEAD)
			break;
		if (ev->events & EPOLLERR) {
			int err = 0;
			socklen_t l = sizeof(err);
			getsockopt(c->src.fd, SOL_SOCKET, SO_ERROR, &err, &l);
			conn_kill(s, c, err ? strerror(err) : "socket error");
			break;
		}
		if (ev->events & EPOLLOUT)
			c->out_blocked = false; /* conn_service sends */
		if (ev->events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP)) {
			uint64_t before = c->bytes_in;
			conn_read(s, c, now);
			/* after a wait ran out, the first wake-up reads what was
			 * held; only input after it turns coalescing back on */
			if (c->bytes_in > before)
				c->co = c->co == CO_EXPIRED ? CO_OFF : CO_ON;
		}
		break;
	}
	}
}

/* Every connection, every wake-up: the engine's deadlines are per
 * connection and only a tick tells them; with at most a few hundred
 * connections the sweep costs less than a timer structure would. */
static int service_all(struct mirror_emu_server *s, uint64_t now)
{
	int timeout = -1;

	for (unsigned i = 0; i < s->nconns;) {
		struct conn *c = s->conns[i];
		if (c->state != CS_DEAD)
			timeout = min_timeout(timeout, conn_service(s, c, now));
		if (c->state == CS_DEAD) {
			free(c);
			s->conns[i] = s->conns[--s->nconns];
			continue;
		}
		i++;
	}
	for (unsigned i = 0; i < s->nsc;) {
		struct stats_client *sc = s->sc[i];
		if (!sc->dead && now >= sc->deadline)
			stats_client_close(s, sc);
		if (sc->dead) {
			free(sc->buf);
			free(sc);
			s->sc[i] = s->sc[--s->nsc];
			continue;
		}
		timeout = min_timeout(timeout, ms_until(sc->deadline, now));
		i++;
	}
	for (unsigned i = 0; i < s->nlsn; i++) {
		struct listener *l = &s->lsn[i];
		if (!l->resting)
			continue;
		if (now >= l->rest_until) {
			if (l->paused || ep_set(s, EPOLL_CTL_MOD, &l->src, EPOLLIN) == 0)
				l->resting = false;
			else
				l->rest_until = now + ACCEPT_BACKOFF_MS;
		}
		if (l->resting)
			timeout = min_timeout(timeout, ms_until(l->rest_until, now));
	}
	if (s->tick) {
		if (now >= s->tick_due) {
			int next = s->tick(s->tick_arg, now);
			s->tick_due = next < 0 ? UINT64_MAX : now + (uint64_t)next;
		}
		if (s->tick_due != UINT64_MAX)
			timeout = min_timeout(timeout, ms_until(s->tick_due, now));
	}
	return timeout;
}

static void shutdown_all(struct mirror_emu_server *s)
{
	if (s->shut)
		return;
	s->shut = true;
	for (unsigned i = 0; i < s->nlsn; i++)
		src_close(s, &s->lsn[i].src);
	if (s->stats_lsn.fd >= 0)
		src_close(s, &s->stats_lsn);
	stats_unlink(s);
	for (unsigned i = 0; i < s->nconns; i++) {
		struct conn *c = s->conns[i];
		/* one last non-blocking try at what is queued, then close */
		if (c->state == CS_OPEN || c->state == CS_FLUSH)
			conn_flush(s, c);
		conn_kill(s, c, "shutting down");
		free(c);
	}
	s->nconns = 0;
	for (unsigned i = 0; i < s->nsc; i++) {
		src_close(s, &s->sc[i]->src);
		free(s->sc[i]->buf);
		free(s->sc[i]);
	}
	s->nsc = 0;
}

/* ---- coalescing (interrupt moderation) ----
 * A connection whose initiator owes Data-Out for COALESCE_MIN_OWED R2Ts or
 * more gets SO_RCVLOWAT at about half of the bytes owed: the kernel wakes
 * the loop once they have gathered instead of at every PDU, and the
 * initiator's sends wake nobody meanwhile.  coalesce_us bounds the wait:
 * when it passes first, the connection is read as it is and not coalesced
 * again until it has given input, so a stalled initiator costs one wait,
 * not a timer every interval. */

static bool conn_set_lowat(struct conn *c, int bytes)
{
	if (c->lowat == bytes)
		return true;
	if (setsockopt(c->src.fd, SOL_SOCKET, SO_RCVLOWAT, &bytes, sizeof(bytes)) < 0)
		return false;
	c->lowat = bytes;
	return true;
}

/* A power of two (few setsockopt calls in a steady stream) between a
 * quarter and a half of what is owed, at most COALESCE_LOWAT_MAX: the
 * kernel also sizes the receive buffer from it. */
static int lowat_for(size_t owed)
{
	size_t half = owed / 2, v = 1;

	while (v * 2 <= half && v * 2 <= COALESCE_LOWAT_MAX)
		v *= 2;
	return (int)v;
}

/* Arms every connection for the coming wait; true if one waits for its
 * owed data to gather (the wait is then bounded by coalesce_us). */
static bool coalesce_arm(struct mirror_emu_server *s)
{
	bool any = false;

	for (unsigned i = 0; i < s->nconns; i++) {
		struct conn *c = s->conns[i];
		int want = 1;

		if (c->state == CS_DEAD)
			continue;
		if (c->state == CS_OPEN && !c->paused && c->co == CO_ON && c->tc &&
		    s->eng->conn_owed_data) {
			unsigned tasks = 0;
			size_t owed = s->eng->conn_owed_data(c->tc, &tasks);
			if (tasks >= COALESCE_MIN_OWED)
				want = lowat_for(owed);
			/* a mark already set stays while it is still at most
			 * three quarters of what is owed and not under half of
			 * the new one: a setsockopt per wake-up costs more than
			 * the difference */
			if (want > 1 && c->lowat > 1 && (size_t)c->lowat <= owed / 4 * 3 &&
			    c->lowat >= want / 2)
				want = c->lowat;
		}
		if (!conn_set_lowat(c, want))
			c->co = CO_OFF; /* unchanged: level-triggered reads go on */
		any |= c->lowat > 1;
	}
	return any;
}

/* The bound passed with data still short of the mark: read what is there. */
static void coalesce_expired(struct mirror_emu_server *s)
{
	for (unsigned i = 0; i < s->nconns; i++) {
		struct conn *c = s->conns[i];
		if (c->state == CS_DEAD || c->lowat <= 1)
			continue;
		c->co = CO_EXPIRED;
		conn_set_lowat(c, 1);
		s->st.coalesce_expired++;
	}
}

static int wait_events(struct mirror_emu_server *s, struct epoll_event *evs, int timeout_ms)
{
	if (!s->cfg.coalesce_us || !coalesce_arm(s))
		return epoll_wait(s->ep, evs, EVENTS_PER_WAIT, timeout_ms);
	uint64_t ns = (uint64_t)s->cfg.coalesce_us * 1000u;
	bool ours = true; /* the coalescing bound, not a deadline, ends the wait */
	if (timeout_ms >= 0 && (uint64_t)timeout_ms * 1000000u < ns) {
		ns = (uint64_t)timeout_ms * 1000000u;
		ours = false;
	}
#ifdef HAVE_EPOLL_PWAIT2
	struct timespec ts = { (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };
	int n = epoll_pwait2(s->ep, evs, EVENTS_PER_WAIT, &ts, NULL);
	if (n < 0 && errno == ENOSYS)
		n = epoll_wait(s->ep, evs, EVENTS_PER_WAIT, (int)((ns + 999999u) / 1000000u));
#else
	int n = epoll_wait(s->ep, evs, EVENTS_PER_WAIT, (int)((ns + 999999u) / 1000000u));
#endif
	/* a deadline first: the marks stay for the next wait */
	if (n == 0 && ours)
		coalesce_expired(s);
	return n;
}

int mirror_emu_server_run(struct mirror_emu_server *s)
{
	struct epoll_event evs[EVENTS_PER_WAIT];
	int timeout = -1, rc = 0;

	for (unsigned i = 0; i < s->nlsn; i++)
		if (!s->lsn[i].tgt)
			return -EINVAL;
	if (s->shut)
		return -EINVAL;
	mirror_log(MIRROR_LOG_INFO, "serving iSCSI on %s, at most %u connections%s%s", s->lsn[0].portal,
		   s->cfg.max_conns, s->stats_path ? ", stats on " : "",
		   s->stats_path ? s->stats_path : "");
	/* timers due at once (a tick set before run) get their first turn */
	timeout = service_all(s, now_ms());
	while (!s->stop) {
		if (s->before_wait && s->before_wait(s->before_wait_arg) > 0)
			timeout = service_all(s, now_ms());
		int n = wait_events(s, evs, timeout);
		if (n < 0) {
			if (errno == EINTR)
				n = 0;
			else {
				rc = -errno;
				mirror_log(MIRROR_LOG_ERROR, "epoll_wait: %s", strerror(errno));
				break;
			}
		}
		if (n > 0)
			s->st.wakeups++;
		uint64_t now = now_ms();
		for (int i = 0; i < n && !s->stop; i++)
			dispatch(s, &evs[i], now);
		if (n > 0 && s->tick_after_event_ms && s->tick_due != UINT64_MAX &&
		    s->tick_due > now + s->tick_after_event_ms)
			s->tick_due = now + s->tick_after_event_ms;
		timeout = service_all(s, now_ms());
	}
	mirror_log(MIRROR_LOG_INFO, "stopping: closing %u connections", s->nconns);
	shutdown_all(s);
	return rc;
}

void mirror_emu_server_free(struct mirror_emu_server *s)
{
	if (!s)
		return;
	shutdown_all(s);
	if (s->wake.fd >= 0)
		close(s->wake.fd);
	if (s->ep >= 0)
		close(s->ep);
	free(s->conns);
	free(s->rbuf);
	free(s->stats_path);
	free(s);
}
