/* mirror-emu's socket loop (app/emu/server.c) against a stub engine, so
 * that the loop is tested on its own: the loop reaches its engine through
 * an ops table (struct mirror_engine_ops), and this test gives it one.
 *
 * The stub echoes what it gets, and reads a few bytes as commands:
 *   'Q'  wants_close after the echo       'X'  input fails (< 0)
 *   'D'  "delayed\n" DELAY_MS later        'B'  1 MiB of output
 *   'O'  it now owes OWED_BYTES of Data-Out (OWED_TASKS R2Ts); every
 *        other byte pays one of them back
 * The server runs in a thread; the test is its clients. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "app/emu/server.h"
#include "iscsi/target.h"

#include "testutil.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define DELAY_MS 80
#define MIB (1024u * 1024u)
#define OWED_TASKS 8u
#define OWED_BYTES 8000u /* the loop's mark: a power of two <= 4000, 2048 */
#define COALESCE_MARK 2048u

/* ---- the stub engine ---- */

struct mirror_tgt {
	unsigned conns_now, conns_total, frees;
};

struct mirror_tgt_conn {
	struct mirror_tgt *t;
	uint8_t *out;
	size_t len, off, cap;
	bool close;
	uint64_t delay_at;
	size_t owed;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void out_put(struct mirror_tgt_conn *c, const void *p, size_t n)
{
	if (c->len + n > c->cap) {
		size_t cap = c->cap ? c->cap : 4096;
		while (cap < c->len + n)
			cap *= 2;
		c->out = realloc(c->out, cap);
		ck_assert_ptr_nonnull(c->out);
		c->cap = cap;
	}
	memcpy(c->out + c->len, p, n);
	c->len += n;
}

static struct mirror_tgt_conn *stub_conn_new(struct mirror_tgt *t, const char *peer)
{
	struct mirror_tgt_conn *c = calloc(1, sizeof(*c));

	ck_assert_ptr_nonnull(peer);
	ck_assert_ptr_nonnull(strchr(peer, ':'));
	c->t = t;
	t->conns_now++;
	t->conns_total++;
	return c;
}

static int stub_conn_input(struct mirror_tgt_conn *c, const uint8_t *buf, size_t len)
{
	static uint8_t big[MIB];

	for (size_t i = 0; i < len; i++) {
		switch (buf[i]) {
		case 'B':
			memset(big, 'b', sizeof(big));
			out_put(c, big, sizeof(big));
			break;
		case 'D':
			c->delay_at = mono_ms() + DELAY_MS;
			break;
		case 'Q':
			out_put(c, &buf[i], 1);
			c->close = true;
			break;
		case 'X':
			out_put(c, &buf[i], 1);
			return -1;
		case 'O':
			out_put(c, &buf[i], 1);
			c->owed = OWED_BYTES;
			break;
		default:
			out_put(c, &buf[i], 1);
			if (c->owed)
				c->owed--;
		}
	}
	return 0;
}

static const uint8_t *stub_conn_output(struct mirror_tgt_conn *c, size_t *len)
{
	*len = c->len - c->off;
	return c->out + c->off;
}

static void stub_conn_consumed(struct mirror_tgt_conn *c, size_t n)
{
	ck_assert_uint_le(n, c->len - c->off);
	c->off += n;
	if (c->off == c->len)
		c->off = c->len = 0;
}

static int stub_conn_tick(struct mirror_tgt_conn *c, uint64_t now_ms)
{
	if (!c->delay_at)
		return -1;
	if (now_ms >= c->delay_at) {
		out_put(c, "delayed\n", 8);
		c->delay_at = 0;
		return -1;
	}
	return (int)(c->delay_at - now_ms);
}

static bool stub_conn_wants_close(const struct mirror_tgt_conn *c)
{
	return c->close;
}

static size_t stub_conn_owed_data(const struct mirror_tgt_conn *c, unsigned *tasks)
{
	*tasks = (unsigned)((c->owed + OWED_BYTES / OWED_TASKS - 1) / (OWED_BYTES / OWED_TASKS));
	return c->owed;
}

static void stub_conn_free(struct mirror_tgt_conn *c)
{
	c->t->frees++;
	c->t->conns_now--;
	free(c->out);
	free(c);
}

static struct json_object *stub_stats_json(const struct mirror_tgt *t)
{
	struct json_object *o = json_object_new_object(), *stub = json_object_new_object();

	json_object_object_add(stub, "conns_now", json_object_new_int64(t->conns_now));
	json_object_object_add(stub, "frees", json_object_new_int64(t->frees));
	json_object_object_add(o, "stub", stub);
	return o;
}

static const struct mirror_engine_ops stub_engine = {
	.conn_new = stub_conn_new,
	.conn_input = stub_conn_input,
	.conn_output = stub_conn_output,
	.conn_consumed = stub_conn_consumed,
	.conn_tick = stub_conn_tick,
	.conn_wants_close = stub_conn_wants_close,
	.conn_owed_data = stub_conn_owed_data,
	.conn_free = stub_conn_free,
	.stats_json = stub_stats_json,
};

/* ---- a server in a thread ---- */

struct harness {
	struct mirror_tgt tgt;
	struct mirror_emu_server *srv;
	pthread_t th;
	int rc;
	char dir[32], stats[64];
	unsigned port;
};

/* A before-wait hook for the next start() (test_before_wait). */
static int (*h_before_wait)(void *arg);

static void *run_thread(void *arg)
{
	struct harness *h = arg;

	h->rc = mirror_emu_server_run(h->srv);
	return NULL;
}

static void make_dir(struct harness *h)
{
	snprintf(h->dir, sizeof(h->dir), "/tmp/emu.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(h->dir));
	snprintf(h->stats, sizeof(h->stats), "%s/stats.sock", h->dir);
}

static void start(struct harness *h, struct mirror_emu_config *cfg)
{
	char why[256] = "";
	int rc;

	memset(&h->tgt, 0, sizeof(h->tgt));
	make_dir(h);
	cfg->stats_path = h->stats;
	cfg->tgt = &h->tgt;
	cfg->engine = &stub_engine;
	if (!cfg->listen || strcmp(cfg->listen, MIRROR_EMU_DEFAULT_LISTEN) == 0)
		cfg->listen = "127.0.0.1:0";
	rc = mirror_emu_server_new(cfg, &h->srv, why, sizeof(why));
	ck_assert_msg(rc == 0, "server_new: %d %s", rc, why);
	h->port = mirror_emu_server_port(h->srv);
	ck_assert_uint_ne(h->port, 0);
	if (h_before_wait)
		mirror_emu_server_before_wait(h->srv, h_before_wait, h);
	ck_assert_int_eq(pthread_create(&h->th, NULL, run_thread, h), 0);
}

static void start_default(struct harness *h)
{
	struct mirror_emu_config cfg;

	mirror_emu_config_init(&cfg);
	start(h, &cfg);
}

static void stop(struct harness *h)
{
	struct stat st;

	mirror_emu_server_stop(h->srv);
	ck_assert_int_eq(pthread_join(h->th, NULL), 0);
	ck_assert_int_eq(h->rc, 0);
	/* every engine connection freed, the stats socket removed */
	ck_assert_uint_eq(h->tgt.frees, h->tgt.conns_total);
	ck_assert_uint_eq(h->tgt.conns_now, 0);
	ck_assert_int_eq(lstat(h->stats, &st), -1);
	mirror_emu_server_free(h->srv);
	rmdir(h->dir);
}

/* ---- clients ---- */

static int tcp_connect(unsigned port, int rcvbuf)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	if (rcvbuf)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

static void send_str(int fd, const char *s)
{
	size_t n = strlen(s);

	ck_assert_int_eq(send(fd, s, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* Reads up to want bytes within timeout_ms; returns what came (stops at
 * EOF or an error, which sets *eof). */
static size_t recv_some(int fd, void *buf, size_t want, int timeout_ms, bool *eof)
{
	size_t got = 0;
	uint64_t end = mono_ms() + (uint64_t)timeout_ms;

	if (eof)
		*eof = false;
	while (got < want) {
		uint64_t now = mono_ms();
		struct pollfd p = { fd, POLLIN, 0 };
		if (now >= end)
			break;
		if (poll(&p, 1, (int)(end - now)) <= 0)
			continue;
		ssize_t n = recv(fd, (char *)buf + got, want - got, 0);
		if (n <= 0) {
			if (eof)
				*eof = true;
			break;
		}
		got += (size_t)n;
	}
	return got;
}

static void expect_echo(int fd, const char *s)
{
	char buf[256];
	size_t n = strlen(s);

	send_str(fd, s);
	ck_assert_uint_eq(recv_some(fd, buf, n, 3000, NULL), n);
	ck_assert_mem_eq(buf, s, n);
}

static void expect_eof(int fd, int timeout_ms)
{
	char c;
	bool eof = false;

	ck_assert_uint_eq(recv_some(fd, &c, 1, timeout_ms, &eof), 0);
	ck_assert_msg(eof, "no EOF within %d ms", timeout_ms);
}

/* The stats socket's one line, parsed. */
static struct json_object *stats_get(struct harness *h)
{
	struct sockaddr_un su;
	char buf[8192];
	bool eof;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	memset(&su, 0, sizeof(su));
	su.sun_family = AF_UNIX;
	snprintf(su.sun_path, sizeof(su.sun_path), "%s", h->stats);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&su, sizeof(su)), 0);
	size_t n = recv_some(fd, buf, sizeof(buf) - 1, 3000, &eof);
	close(fd);
	ck_assert_msg(eof, "the stats socket did not close after its line");
	ck_assert_uint_gt(n, 1);
	buf[n] = '\0';
	ck_assert_msg(buf[n - 1] == '\n' && strchr(buf, '\n') == buf + n - 1, "not one line: %s",
		      buf);
	struct json_object *o = json_tokener_parse(buf);
	ck_assert_msg(o != NULL, "not JSON: %s", buf);
	return o;
}

static int64_t stats_int(struct json_object *o, const char *obj, const char *key)
{
	struct json_object *a, *b;

	ck_assert_msg(json_object_object_get_ex(o, obj, &a), "no '%s'", obj);
	ck_assert_msg(json_object_object_get_ex(a, key, &b), "no '%s.%s'", obj, key);
	return json_object_get_int64(b);
}

static int64_t server_counter(struct harness *h, const char *key)
{
	struct json_object *o = stats_get(h);
	int64_t v = stats_int(o, "server", key);

	json_object_put(o);
	return v;
}

/* Polls a stats counter until it reaches want (the server thread gets
 * there on its own time). */
static int64_t wait_counter(struct harness *h, const char *key, int64_t want)
{
	int64_t v = -1;

	for (int i = 0; i < 300; i++) {
		v = server_counter(h, key);
		if (v >= want)
			break;
		usleep(10000);
	}
	return v;
}

/* ---- addresses ---- */

struct addr_case {
	const char *text;
	int family;    /* 0: must be refused */
	unsigned port;
	const char *why; /* refused: part of the reason */
};

static const struct addr_case addr_cases[] = {
	{ "127.0.0.1:3260", AF_INET, 3260, NULL },
	{ "0.0.0.0:0", AF_INET, 0, NULL },
	{ "127.0.0.1", AF_INET, 3260, NULL },
	{ "[::1]:860", AF_INET6, 860, NULL },
	{ "[::]:65535", AF_INET6, 65535, NULL },
	{ "[::1]", AF_INET6, 3260, NULL },
	{ "::1", AF_INET6, 3260, NULL },
	{ "", 0, 0, "empty" },
	{ "localhost:3260", 0, 0, "'localhost' is not an IPv4 address literal" },
	{ "127.0.0.1:", 0, 0, "empty port" },
	{ "127.0.0.1:65536", 0, 0, "over 65535" },
	{ "127.0.0.1:99999999999999999999", 0, 0, "over 65535" },
	{ "127.0.0.1:32a", 0, 0, "port '32a' is not a number" },
	{ "127.0.0.1:-1", 0, 0, "not a number" },
	{ "[::1", 0, 0, "without ']'" },
	{ "[::1]x", 0, 0, "expected ':PORT'" },
	{ "[::1]:", 0, 0, "empty port" },
	{ "[]:1", 0, 0, "no address" },
	{ ":3260", 0, 0, "no address" },
	{ "1.2.3.256:1", 0, 0, "not an IPv4" },
	{ "1.2.3:1", 0, 0, "'1.2.3' is not an IPv4" },
	{ "127.1", 0, 0, "not an IPv4" },
	{ "[127.0.0.1]:1", 0, 0, "not an IPv6" },
};

START_TEST(test_parse_addr)
{
	const struct addr_case *c = &addr_cases[_i];
	struct sockaddr_storage ss;
	socklen_t len = 0;
	char why[256] = "";
	int rc = mirror_emu_parse_addr(c->text, &ss, &len, why, sizeof(why));

	if (!c->family) {
		ck_assert_int_eq(rc, -EINVAL);
		ck_assert_msg(strstr(why, c->why) != NULL, "'%s': '%s' lacks '%s'", c->text, why,
			      c->why);
		return;
	}
	ck_assert_msg(rc == 0, "'%s': %s", c->text, why);
	ck_assert_int_eq(ss.ss_family, c->family);
	if (c->family == AF_INET) {
		ck_assert_uint_eq(len, sizeof(struct sockaddr_in));
		ck_assert_uint_eq(ntohs(((struct sockaddr_in *)&ss)->sin_port), c->port);
	} else {
		ck_assert_uint_eq(len, sizeof(struct sockaddr_in6));
		ck_assert_uint_eq(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), c->port);
	}
}
END_TEST

/* ---- the loop ---- */

START_TEST(test_echo_and_portal)
{
	struct harness h;
	char portal[64];

	start_default(&h);
	snprintf(portal, sizeof(portal), "127.0.0.1:%u", h.port);
	ck_assert_str_eq(mirror_emu_server_portal(h.srv), portal);
	int a = tcp_connect(h.port, 0), b = tcp_connect(h.port, 0);
	expect_echo(a, "hello");
	expect_echo(b, "world");
	expect_echo(a, "again");
	ck_assert_int_eq(wait_counter(&h, "accepted", 2), 2);
	struct json_object *o = stats_get(&h);
	ck_assert_int_eq(stats_int(o, "stub", "conns_now"), 2);
	ck_assert_int_eq(stats_int(o, "server", "connections_now"), 2);
	ck_assert_int_eq(stats_int(o, "server", "port"), h.port);
	json_object_put(o);
	stop(&h);
	/* clients see the end, and nobody listens any more */
	expect_eof(a, 2000);
	expect_eof(b, 2000);
	close(a);
	close(b);
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)h.port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), -1);
	ck_assert_int_eq(errno, ECONNREFUSED);
	close(fd);
}
END_TEST

START_TEST(test_wants_close)
{
	struct harness h;

	start_default(&h);
	int fd = tcp_connect(h.port, 0);
	expect_echo(fd, "bye Q"); /* everything queued is sent first */
	expect_eof(fd, 2000);
	close(fd);
	/* the input-error path: the same, flushed then closed */
	fd = tcp_connect(h.port, 0);
	expect_echo(fd, "abcX");
	expect_eof(fd, 2000);
	close(fd);
	ck_assert_int_eq(wait_counter(&h, "closed", 2), 2);
	ck_assert_uint_eq(h.tgt.frees, 2);
	stop(&h);
}
END_TEST

START_TEST(test_peer_half_close)
{
	struct harness h;
	char buf[8];

	start_default(&h);
	int fd = tcp_connect(h.port, 0);
	send_str(fd, "abc");
	shutdown(fd, SHUT_WR);
	ck_assert_uint_eq(recv_some(fd, buf, 3, 2000, NULL), 3);
	ck_assert_mem_eq(buf, "abc", 3);
	expect_eof(fd, 2000);
	close(fd);
	ck_assert_int_eq(wait_counter(&h, "closed", 1), 1);
	stop(&h);
}
END_TEST

/* The engine's deadline is the loop's timeout: a delayed answer comes
 * neither early nor much late, with no other traffic to wake the loop. */
START_TEST(test_tick_deadline)
{
	struct harness h;
	char buf[16];

	start_default(&h);
	int fd = tcp_connect(h.port, 0);
	uint64_t t0 = mono_ms();
	send_str(fd, "D");
	ck_assert_uint_eq(recv_some(fd, buf, 8, 3000, NULL), 8);
	uint64_t dt = mono_ms() - t0;
	ck_assert_mem_eq(buf, "delayed\n", 8);
	ck_assert_msg(dt >= DELAY_MS - 5 && dt < DELAY_MS + 1000, "delayed by %llu ms",
		      (unsigned long long)dt);
	close(fd);
	stop(&h);
}
END_TEST

/* A client that never reads its responses: it is no longer read from
 * once max_pending waits, another client is served all along, and once
 * the first one reads everything it gets all of it. */
START_TEST(test_stalled_client)
{
	struct harness h;
	struct mirror_emu_config cfg;
	static uint8_t buf[256 * 1024];
	const unsigned nbig = 24;

	mirror_emu_config_init(&cfg);
	cfg.max_pending = MIB;
	start(&h, &cfg);
	int slow = tcp_connect(h.port, 64 * 1024), fast = tcp_connect(h.port, 0);
	for (unsigned i = 0; i < nbig; i++)
		send_str(slow, "B"); /* 24 MiB of answers it does not read */
	ck_assert_int_ge(wait_counter(&h, "read_pauses", 1), 1);
	for (int i = 0; i < 20; i++) {
		uint64_t t0 = mono_ms();
		expect_echo(fast, "ping");
		ck_assert_uint_lt(mono_ms() - t0, 1000);
	}
	/* What the stalled client can hold up is bounded: the engine stops
	 * getting its input, so at most max_pending (plus one input chunk's
	 * worth) sits in user space. */
	size_t total = 0;
	bool eof = false;
	while (total < (size_t)nbig * MIB && !eof) {
		size_t n = recv_some(slow, buf, sizeof(buf), 3000, &eof);
		if (n == 0)
			break; /* nothing for 3 s: the assertion below says how much came */
		total += n;
	}
	ck_assert_uint_eq(total, (size_t)nbig * MIB);
	for (size_t i = 0; i < sizeof(buf); i++)
		ck_assert_uint_eq(buf[i], 'b');
	expect_echo(slow, "done");
	close(slow);
	close(fast);
	stop(&h);
}
END_TEST

/* A closing connection whose peer does not take its last bytes is cut
 * after linger_ms. */
START_TEST(test_linger_bound)
{
	struct harness h;
	struct mirror_emu_config cfg;

	mirror_emu_config_init(&cfg);
	cfg.linger_ms = 200;
	start(&h, &cfg);
	int fd = tcp_connect(h.port, 16 * 1024);
	/* 24 MiB, then close: more than loopback buffers hold */
	send_str(fd, "BBBBBBBBBBBBBBBBBBBBBBBBQ");
	ck_assert_int_eq(wait_counter(&h, "lingered_out", 1), 1);
	ck_assert_int_eq(server_counter(&h, "closed"), 1);
	ck_assert_uint_eq(h.tgt.frees, 1);
	close(fd);
	stop(&h);
}
END_TEST

START_TEST(test_max_conns)
{
	struct harness h;
	struct mirror_emu_config cfg;
	char c;
	bool eof;

	mirror_emu_config_init(&cfg);
	cfg.max_conns = 2;
	start(&h, &cfg);
	int a = tcp_connect(h.port, 0), b = tcp_connect(h.port, 0);
	expect_echo(a, "1");
	expect_echo(b, "2");
	int x = tcp_connect(h.port, 0); /* the kernel accepts, the server resets */
	ck_assert_uint_eq(recv_some(x, &c, 1, 2000, &eof), 0);
	ck_assert(eof);
	close(x);
	ck_assert_int_eq(wait_counter(&h, "refused", 1), 1);
	/* a slot freed is a slot taken */
	close(a);
	ck_assert_int_eq(wait_counter(&h, "closed", 1), 1);
	x = tcp_connect(h.port, 0);
	expect_echo(x, "3");
	expect_echo(b, "4");
	close(x);
	close(b);
	stop(&h);
}
END_TEST

START_TEST(test_address_in_use)
{
	struct harness h;
	struct mirror_emu_config cfg;
	struct mirror_emu_server *s2 = NULL;
	char addr[64], why[256] = "";

	start_default(&h);
	mirror_emu_config_init(&cfg);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", h.port);
	cfg.listen = addr;
	cfg.tgt = &h.tgt;
	ck_assert_int_eq(mirror_emu_server_new(&cfg, &s2, why, sizeof(why)), -EADDRINUSE);
	ck_assert_ptr_null(s2);
	ck_assert_msg(strstr(why, "address in use") && strstr(why, addr), "%s", why);
	/* the stats socket of a live server is not taken over either */
	cfg.listen = "127.0.0.1:0";
	cfg.stats_path = h.stats;
	ck_assert_int_eq(mirror_emu_server_new(&cfg, &s2, why, sizeof(why)), -EADDRINUSE);
	ck_assert_msg(strstr(why, "in use by a running process") && strstr(why, h.stats), "%s", why);
	stop(&h);
}
END_TEST

START_TEST(test_stats_path)
{
	struct harness h;
	struct mirror_emu_config cfg;
	struct mirror_emu_server *s;
	struct sockaddr_un su;
	char why[256] = "";
	int fd;

	make_dir(&h);
	mirror_emu_config_init(&cfg);
	cfg.listen = "127.0.0.1:0";
	cfg.stats_path = h.stats;

	/* a socket file nobody listens on (a killed emulator's) is replaced */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(&su, 0, sizeof(su));
	su.sun_family = AF_UNIX;
	snprintf(su.sun_path, sizeof(su.sun_path), "%s", h.stats);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&su, sizeof(su)), 0);
	close(fd);
	ck_assert_int_eq(mirror_emu_server_new(&cfg, &s, why, sizeof(why)), 0);
	mirror_emu_server_free(s);
	ck_assert_int_eq(access(h.stats, F_OK), -1); /* free unlinks it */

	/* a file that is not a socket is left alone */
	fd = open(h.stats, O_CREAT | O_WRONLY, 0600);
	close(fd);
	ck_assert_int_eq(mirror_emu_server_new(&cfg, &s, why, sizeof(why)), -EADDRINUSE);
	ck_assert_msg(strstr(why, "not a socket"), "%s", why);
	ck_assert_int_eq(access(h.stats, F_OK), 0);
	unlink(h.stats);

	char longp[200];
	memset(longp, 'x', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	cfg.stats_path = longp;
	ck_assert_int_eq(mirror_emu_server_new(&cfg, &s, why, sizeof(why)), -EINVAL);
	ck_assert_msg(strstr(why, "too long"), "%s", why);

	/* no target: run refuses */
	cfg.stats_path = NULL;
	ck_assert_int_eq(mirror_emu_server_new(&cfg, &s, why, sizeof(why)), 0);
	ck_assert_int_eq(mirror_emu_server_run(s), -EINVAL);
	mirror_emu_server_free(s);
	rmdir(h.dir);
}
END_TEST

/* The before-wait hook: in the loop's thread, before every wait (the
 * first included), after the round's connections were served. */
static struct {
	pthread_t th;      /* where the first call ran */
	bool other_thread; /* a later call ran elsewhere */
	unsigned calls;
} bw;

static int count_before_wait(void *arg)
{
	(void)arg;
	if (bw.calls == 0)
		bw.th = pthread_self();
	else if (!pthread_equal(pthread_self(), bw.th))
		bw.other_thread = true;
	__atomic_add_fetch(&bw.calls, 1, __ATOMIC_SEQ_CST);
	return 0;
}

START_TEST(test_before_wait)
{
	struct harness h;

	memset(&bw, 0, sizeof(bw));
	h_before_wait = count_before_wait;
	start_default(&h);
	h_before_wait = NULL;
	int fd = tcp_connect(h.port, 0);
	expect_echo(fd, "a");
	expect_echo(fd, "b");
	int64_t wakeups = server_counter(&h, "wakeups");
	/* the loop waited after the query's round (this echo woke it), so
	 * the hook ran before that wait too */
	expect_echo(fd, "c");
	unsigned calls = __atomic_load_n(&bw.calls, __ATOMIC_SEQ_CST);
	close(fd);
	pthread_t loop = h.th;
	stop(&h);
	ck_assert(pthread_equal(bw.th, loop) && !bw.other_thread);
	/* one call before every wait, the first included: more than the
	 * wake-ups up to the query */
	ck_assert_uint_gt(calls, (unsigned)wakeups);
}
END_TEST

START_TEST(test_ipv6)
{
	struct mirror_emu_config cfg;
	struct mirror_emu_server *s;
	char why[256] = "", portal[64];
	int rc;

	mirror_emu_config_init(&cfg);
	cfg.listen = "[::1]:0";
	rc = mirror_emu_server_new(&cfg, &s, why, sizeof(why));
	if (rc == -EADDRNOTAVAIL || rc == -EAFNOSUPPORT) {
		fprintf(stderr, "no IPv6 loopback here: %s\n", why);
		return;
	}
	ck_assert_msg(rc == 0, "%s", why);
	snprintf(portal, sizeof(portal), "[::1]:%u", mirror_emu_server_port(s));
	ck_assert_str_eq(mirror_emu_server_portal(s), portal);
	mirror_emu_server_free(s);
}
END_TEST

/* ---- coalescing ---- */

static void start_coalescing(struct harness *h, unsigned us)
{
	struct mirror_emu_config cfg;

	mirror_emu_config_init(&cfg);
	cfg.coalesce_us = us;
	start(h, &cfg);
}

static void send_bytes(int fd, char c, size_t n)
{
	char buf[4096];

	ck_assert_uint_le(n, sizeof(buf));
	memset(buf, c, n);
	ck_assert_int_eq(send(fd, buf, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* While Data-Out is owed, what arrives below the mark waits (no wake-up,
 * no answer) and the byte that reaches the mark brings all of it in one
 * wake-up; with coalescing off the same bytes are answered at once.
 * Returns false when the machine stalled past the bound (1 s) during the
 * try, which proves nothing either way: the caller tries again. */
static bool coalesce_gathers_once(bool on)
{
	struct harness h;
	char buf[4096];
	bool valid = true;

	start_coalescing(&h, on ? MIRROR_EMU_COALESCE_MAX_US : 0);
	int fd = tcp_connect(h.port, 0);
	expect_echo(fd, "O");
	usleep(20000); /* the loop arms the connection before it waits again */
	int64_t w1 = server_counter(&h, "wakeups");
	send_bytes(fd, 'a', 500);
	size_t early = recv_some(fd, buf, 500, 100, NULL);
	if (!on) {
		ck_assert_uint_eq(early, 500);
		ck_assert_int_eq(server_counter(&h, "coalesce_expired"), 0);
	} else if (early != 0) {
		/* below the mark only the bound may answer */
		valid = server_counter(&h, "coalesce_expired") > 0;
		ck_assert_msg(!valid, "%zu bytes answered below the mark", early);
	} else {
		send_bytes(fd, 'a', COALESCE_MARK - 500);
		ck_assert_uint_eq(recv_some(fd, buf, COALESCE_MARK, 3000, NULL), COALESCE_MARK);
		/* The query after the data costs exactly one wake-up: it
		 * connects after the echo, so it cannot share the data's
		 * wake-up, and the query before it was accepted in a wake-up
		 * of its own that the first counter already holds.  (Two
		 * queries running cannot be compared: the second may connect
		 * while the loop still accepts the first and cost none.) */
		int64_t w2 = server_counter(&h, "wakeups");
		valid = server_counter(&h, "coalesce_expired") == 0;
		if (valid)
			ck_assert_msg(w2 - w1 - 1 == 1, "%lld wake-ups for the data",
				      (long long)(w2 - w1 - 1));
	}
	close(fd);
	stop(&h);
	return valid;
}

START_TEST(test_coalesce_gathers)
{
	int tries = 0;

	while (!coalesce_gathers_once(_i == 1)) {
		fprintf(stderr, "coalesce_gathers: the bound passed during try %d (a stalled "
				"machine); again\n", ++tries);
		ck_assert_msg(tries < 5, "the bound passed in %d tries running", tries);
	}
}
END_TEST

/* The bound: data short of the mark is answered when coalesce_us have
 * passed since the loop began to wait, that
 * connection is not coalesced again until it gives input (one wait for a
 * stalled initiator, not a timer every interval), and then it is. */
START_TEST(test_coalesce_bound)
{
	struct harness h;
	char buf[256];

	start_coalescing(&h, 30000);
	int fd = tcp_connect(h.port, 0);
	expect_echo(fd, "O");
	usleep(20000);
	send_bytes(fd, 'a', 100);
	/* the bound runs from when the loop began to wait (it cannot know
	 * when the bytes came without waking): here 10 ms after they came */
	ck_assert_uint_eq(recv_some(fd, buf, 100, 3000, NULL), 100);
	ck_assert_int_eq(wait_counter(&h, "coalesce_expired", 1), 1);
	usleep(200000);
	ck_assert_int_eq(server_counter(&h, "coalesce_expired"), 1);
	/* input: coalesced again */
	expect_echo(fd, "x");
	usleep(20000);
	send_bytes(fd, 'a', 100);
	ck_assert_uint_eq(recv_some(fd, buf, 100, 3000, NULL), 100);
	ck_assert_int_eq(wait_counter(&h, "coalesce_expired", 2), 2);
	close(fd);
	stop(&h);
}
END_TEST

/* A deadline of the engine's that ends a wait before the bound is not
 * the bound: the delayed answer goes out and the owed data still waits
 * for its mark (or the bound) afterwards.  The bound cannot pass before
 * DELAY_MS + 500 ms from the "OD": a check made later than that proves
 * nothing (a stalled machine) and the try is made again. */
static bool coalesce_deadline_once(void)
{
	const uint64_t bound_ms = 500;
	struct harness h;
	char buf[256];
	bool valid = true;

	start_coalescing(&h, (unsigned)bound_ms * 1000u);
	int fd = tcp_connect(h.port, 0);
	uint64_t t0 = mono_ms();
	send_str(fd, "OD");
	ck_assert_uint_eq(recv_some(fd, buf, 1, 3000, NULL), 1);
	usleep(20000);
	send_bytes(fd, 'a', 100);
	ck_assert_uint_eq(recv_some(fd, buf, 8, 3000, NULL), 8);
	ck_assert_mem_eq(buf, "delayed\n", 8);
	int64_t expired = server_counter(&h, "coalesce_expired");
	if (mono_ms() - t0 >= DELAY_MS + bound_ms - 50) {
		valid = false;
	} else {
		ck_assert_int_eq(expired, 0);
		size_t early = recv_some(fd, buf, 100, 150, NULL);
		if (mono_ms() - t0 >= DELAY_MS + bound_ms - 20)
			valid = false;
		else
			ck_assert_msg(early == 0, "%zu bytes answered when the deadline came", early);
	}
	if (valid) {
		ck_assert_uint_eq(recv_some(fd, buf, 100, 3000, NULL), 100);
		ck_assert_int_eq(server_counter(&h, "coalesce_expired"), 1);
	}
	close(fd);
	stop(&h);
	return valid;
}

START_TEST(test_coalesce_deadline)
{
	int tries = 0;

	while (!coalesce_deadline_once()) {
		fprintf(stderr, "coalesce_deadline: try %d came too late to tell (a stalled "
				"machine); again\n", ++tries);
		ck_assert_msg(tries < 5, "%d tries running came too late", tries);
	}
}
END_TEST

START_TEST(test_coalesce_limit)
{
	struct mirror_emu_config cfg;
	struct mirror_emu_server *srv = NULL;
	char why[256] = "";

	mirror_emu_config_init(&cfg);
	cfg.listen = "127.0.0.1:0";
	cfg.coalesce_us = MIRROR_EMU_COALESCE_MAX_US + 1;
	ck_assert_int_eq(mirror_emu_server_new(&cfg, &srv, why, sizeof(why)), -EINVAL);
	ck_assert_ptr_null(srv);
	ck_assert_msg(strstr(why, "coalescing interval") != NULL, "%s", why);
}
END_TEST

START_TEST(test_stop_before_run)
{
	struct harness h;

	start_default(&h);
	stop(&h); /* a stop that races the start of run() still stops it */

	struct mirror_emu_config cfg;
	struct mirror_emu_server *s;
	struct mirror_tgt t = { 0, 0, 0 };
	mirror_emu_config_init(&cfg);
	cfg.listen = "127.0.0.1:0";
	cfg.tgt = &t;
	ck_assert_int_eq(mirror_emu_server_new(&cfg, &s, NULL, 0), 0);
	mirror_emu_server_stop(s);
	ck_assert_int_eq(mirror_emu_server_run(s), 0);
	mirror_emu_server_free(s);
}
END_TEST

START_TEST(test_log_format)
{
	char path[] = "/tmp/emulog.XXXXXX", text[2048];
	int fd = mkstemp(path), saved = dup(2);
	FILE *fp;

	ck_assert_int_ge(fd, 0);
	fflush(stderr);
	dup2(fd, 2);
	mirror_log_set_ident("logtest");
	mirror_log_set_level(MIRROR_LOG_INFO);
	mirror_log(MIRROR_LOG_INFO, "hello %d", 42);
	mirror_log(MIRROR_LOG_DEBUG, "not shown");
	mirror_log(MIRROR_LOG_ERROR, "%s", "bad");
	char big[3000];
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	mirror_log(MIRROR_LOG_WARN, "%s", big);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	fp = fopen(path, "r");
	ck_assert_ptr_nonnull(fp);

	ck_assert_ptr_nonnull(fgets(text, sizeof(text), fp));
	/* 2026-11-24T09:54:01.123Z logtest[123] info: hello 42 */
	ck_assert_msg(strlen(text) > 25 && text[4] == '-' && text[10] == 'T' && text[19] == '.' &&
			      text[23] == 'Z', "%s", text);
	ck_assert_msg(strstr(text, " logtest[") && strstr(text, "] info: hello 42\n"), "%s", text);
	ck_assert_ptr_nonnull(fgets(text, sizeof(text), fp));
	ck_assert_msg(strstr(text, "] error: bad\n"), "%s", text);
	ck_assert_ptr_nonnull(fgets(text, sizeof(text), fp));
	ck_assert_msg(strstr(text, "] warn: yyy") && strstr(text, "y...\n"), "cut line: %.80s", text);
	ck_assert_uint_le(strlen(text), 1024);
	ck_assert_ptr_null(fgets(text, sizeof(text), fp));
	fclose(fp);
	unlink(path);
	ck_assert_str_eq(mirror_log_level_name(MIRROR_LOG_DEBUG), "debug");
	mirror_log_set_level(MIRROR_LOG_WARN);
	ck_assert_int_eq(mirror_log_get_level(), MIRROR_LOG_WARN);
}
END_TEST

static Suite *emu_server_suite(void)
{
	Suite *s = suite_create("emu_server");
	TCase *tc;

	mirror_log_set_level(MIRROR_LOG_WARN);
	tc = tcase_create("addr");
	tcase_add_loop_test(tc, test_parse_addr, 0, (int)ARRAY_LEN(addr_cases));
	tcase_add_test(tc, test_log_format);
	suite_add_tcase(s, tc);

	tc = tcase_create("loop");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_echo_and_portal);
	tcase_add_test(tc, test_wants_close);
	tcase_add_test(tc, test_peer_half_close);
	tcase_add_test(tc, test_tick_deadline);
	tcase_add_test(tc, test_stalled_client);
	tcase_add_test(tc, test_linger_bound);
	tcase_add_test(tc, test_max_conns);
	tcase_add_test(tc, test_address_in_use);
	tcase_add_test(tc, test_stats_path);
	tcase_add_test(tc, test_ipv6);
	tcase_add_test(tc, test_before_wait);
	tcase_add_test(tc, test_stop_before_run);
	tcase_add_loop_test(tc, test_coalesce_gathers, 0, 2);
	tcase_add_test(tc, test_coalesce_bound);
	tcase_add_test(tc, test_coalesce_deadline);
	tcase_add_test(tc, test_coalesce_limit);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run_suite(emu_server_suite());
}
