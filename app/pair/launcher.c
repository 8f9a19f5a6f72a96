/* mirror-pair's supervisor and its client (launcher.h). */
#include "config.h"

/* accept4: a client socket that is close-on-exec from the start */
#define _GNU_SOURCE 1

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include <mirror/exit_status.h>
#include <mirror/profile.h>

#include "app/pair/launcher.h"
#include "app/pair/raid5.h"
#include "app/pair/state.h"
#include "base/bytes.h"
#include "iscsi/target.h"

#define PROG "mirror-pair"
#define READY_WAIT_MS 20000
#define STOP_WAIT_MS 15000

extern char **environ;

struct child {
	pid_t pid;        /* 0: not running */
	bool frozen;
	unsigned host_port, mirror_port;
	uint64_t incarnation;
	char *argv[PAIR_ARGS_MAX + 24];
	unsigned argc;
	char host_arg[32], mirror_arg[32];
	int exits;
};

struct sup {
	const struct pair_launch *l;
	char dir[PATH_MAX], state_path[PATH_MAX], ctl_sock[PATH_MAX], ctl_path[PATH_MAX];
	struct child ch[2];
	struct pair_state *st;
	struct pair_layout layout;
	int sfd, lfd;
	bool stop;
	char last_state[8192];
};

void pair_launch_init(struct pair_launch *l)
{
	memset(l, 0, sizeof(*l));
	l->luns = 2;
	l->lun_bytes = 64u << 20;
	l->disks = 5;
	l->chunk_bytes = 64u << 10;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void say(const struct sup *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const struct sup *s, const char *fmt, ...)
{
	va_list ap;

	if (s->l->quiet)
		return;
	va_start(ap, fmt);
	fputs("== ", stdout);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	fflush(stdout);
	va_end(ap);
}

/* ---- creating the pair's directory ---- */

static int create_pair(struct sup *s)
{
	const struct pair_launch *l = s->l;
	char path[PATH_MAX + 16], why[512];
	struct mirror_raid5_geometry g;
	struct mirror_raid5 *r;
	struct pair_layout lay;
	int rc;

	if (mkdir(s->dir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, PROG ": %s: %s\n", s->dir, strerror(errno));
		return MIRROR_EXIT_FILE_ERROR;
	}
	snprintf(path, sizeof(path), "%s/array", s->dir);
	if (mkdir(path, 0755) < 0) {
		fprintf(stderr, PROG ": %s: %s%s\n", path, strerror(errno),
			errno == EEXIST ? " (a pair is there already: --reuse it, or another --dir)" : "");
		return errno == EEXIST ? MIRROR_EXIT_SYNTAX : MIRROR_EXIT_FILE_ERROR;
	}
	/* each LUN on whole stripes: stride = the LUN rounded up to a stripe */
	uint64_t stripe_blocks = (uint64_t)l->chunk_bytes / 512u * (l->disks - 1);
	uint64_t lun_blocks = l->lun_bytes / 512u;
	uint64_t stride = (lun_blocks + stripe_blocks - 1) / stripe_blocks * stripe_blocks;
	uint64_t stripes = stride * l->luns / stripe_blocks;
	memset(&g, 0, sizeof(g));
	g.members = l->disks;
	g.chunk_bytes = l->chunk_bytes;
	g.member_bytes = stripes * l->chunk_bytes;
	rc = mirror_raid5_create(path, &g, why, sizeof(why));
	if (rc < 0) {
		fprintf(stderr, PROG ": %s\n", why);
		return rc == -EINVAL ? MIRROR_EXIT_SYNTAX : MIRROR_EXIT_FILE_ERROR;
	}
	rc = mirror_raid5_open(path, &r, why, sizeof(why));
	if (rc < 0) {
		fprintf(stderr, PROG ": %s\n", why);
		return MIRROR_EXIT_FILE_ERROR;
	}
	memset(&lay, 0, sizeof(lay));
	lay.luns = l->luns;
	lay.lun_blocks = lun_blocks;
	mirror_raid5_serial(r, lay.array_serial);
	mirror_raid5_close(r);
	for (uint32_t i = 0; i < l->luns; i++) {
		lay.lun_start[i] = i * stride;
		/* even LUNs at A, odd at B: both controllers own some */
		lay.home[i] = lay.owner[i] = (uint8_t)(i & 1);
	}
	snprintf(path, sizeof(path), "%s/array/state", s->dir);
	rc = pair_state_create(path, &lay, why, sizeof(why));
	if (rc < 0) {
		fprintf(stderr, PROG ": %s\n", why);
		return MIRROR_EXIT_FILE_ERROR;
	}
	return 0;
}

/* ---- controllers ---- */

static void build_argv(struct sup *s, unsigned i)
{
	struct child *c = &s->ch[i];
	static char ids[2][2] = { "a", "b" };

	c->argc = 0;
	c->argv[c->argc++] = s->ctl_path;
	c->argv[c->argc++] = "--dir";
	c->argv[c->argc++] = s->dir;
	c->argv[c->argc++] = "--id";
	c->argv[c->argc++] = ids[i];
	snprintf(c->host_arg, sizeof(c->host_arg), "127.0.0.1:%u", c->host_port);
	snprintf(c->mirror_arg, sizeof(c->mirror_arg), "127.0.0.1:%u", c->mirror_port);
	c->argv[c->argc++] = "--host-listen";
	c->argv[c->argc++] = c->host_arg;
	c->argv[c->argc++] = "--mirror-listen";
	c->argv[c->argc++] = c->mirror_arg;
	for (unsigned k = 0; k < s->l->nargs; k++)
		c->argv[c->argc++] = (char *)s->l->args[k];
	for (unsigned k = 0; k < s->l->nargs_ctl[i]; k++)
		c->argv[c->argc++] = (char *)s->l->args_ctl[i][k];
	c->argv[c->argc] = NULL;
}

static int spawn(struct sup *s, unsigned i)
{
	struct child *c = &s->ch[i];
	posix_spawn_file_actions_t fa;
	char log[PATH_MAX + 16];
	int rc;

	build_argv(s, i);
	snprintf(log, sizeof(log), "%s/ctl-%c.log", s->dir, "ab"[i]);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	/* the supervisor blocks the signals it reads from a signalfd: a
	 * controller must not inherit that mask, or SIGTERM would not stop it */
	posix_spawnattr_t attr;
	sigset_t none;
	sigemptyset(&none);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
	posix_spawnattr_setsigmask(&attr, &none);
	rc = posix_spawn(&c->pid, s->ctl_path, &fa, &attr, c->argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		fprintf(stderr, PROG ": cannot start %s: %s\n", s->ctl_path, strerror(rc));
		c->pid = 0;
		return -rc;
	}
	c->frozen = false;
	return 0;
}

/* The controller's own heartbeat names its pid, ports and state. */
static bool heartbeat_of(struct sup *s, unsigned i, struct pair_heartbeat *h)
{
	return pair_state_read_heartbeat(s->st, i, h) == 0;
}

static bool serving(struct sup *s, unsigned i, bool whole)
{
	struct pair_heartbeat h;

	if (!s->ch[i].pid || !heartbeat_of(s, i, &h) || h.pid != (uint32_t)s->ch[i].pid)
		return false;
	if (h.host_port)
		s->ch[i].host_port = h.host_port;
	if (h.mirror_port)
		s->ch[i].mirror_port = h.mirror_port;
	s->ch[i].incarnation = h.incarnation;
	return whole ? h.status == PAIR_CTL_SERVING
		     : (h.status == PAIR_CTL_SERVING || h.status == PAIR_CTL_ALONE);
}

static void reap(struct sup *s)
{
	int status;
	pid_t p;

	while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
		for (unsigned i = 0; i < 2; i++) {
			if (s->ch[i].pid == p) {
				s->ch[i].pid = 0;
				s->ch[i].frozen = false;
				s->ch[i].exits++;
			}
		}
	}
}

/* ---- the state file ---- */

static struct json_object *controller_json(struct sup *s, unsigned i)
{
	struct child *c = &s->ch[i];
	struct json_object *o = json_object_new_object(), *owns = json_object_new_array();
	struct json_object *host = json_object_new_array(), *argv = json_object_new_array();
	char buf[PATH_MAX + 64];

	json_object_object_add(o, "pid", json_object_new_int64(c->pid));
	json_object_object_add(o, "running", json_object_new_boolean(c->pid != 0));
	json_object_object_add(o, "frozen", json_object_new_boolean(c->frozen));
	for (uint32_t k = 0; k < s->layout.luns; k++) {
		if (s->layout.owner[k] == i)
			json_object_array_add(owns, json_object_new_int64(k));
		struct json_object *h = json_object_new_object();
		json_object_object_add(h, "lun", json_object_new_int64(k));
		snprintf(buf, sizeof(buf), "iscsi://127.0.0.1:%u/%s:pair/%u", c->host_port,
			 MIRROR_IQN_PREFIX, (unsigned)k);
		json_object_object_add(h, "url", json_object_new_string(buf));
		json_object_array_add(host, h);
	}
	json_object_object_add(o, "owns", owns);
	json_object_object_add(o, "host", host);
	snprintf(buf, sizeof(buf), "iscsi://127.0.0.1:%u/%s:pair-%c-mirror/0", c->mirror_port,
		 MIRROR_IQN_PREFIX, "ab"[i]);
	json_object_object_add(o, "mirror_url", json_object_new_string(buf));
	json_object_object_add(o, "host_port", json_object_new_int64(c->host_port));
	json_object_object_add(o, "mirror_port", json_object_new_int64(c->mirror_port));
	snprintf(buf, sizeof(buf), "%s/ctl-%c.stats", s->dir, "ab"[i]);
	json_object_object_add(o, "stats_socket", json_object_new_string(buf));
	snprintf(buf, sizeof(buf), "%s/ctl-%c.ctl", s->dir, "ab"[i]);
	json_object_object_add(o, "control_socket", json_object_new_string(buf));
	snprintf(buf, sizeof(buf), "%s/ctl-%c.log", s->dir, "ab"[i]);
	json_object_object_add(o, "log", json_object_new_string(buf));
	build_argv(s, i);
	for (unsigned k = 0; k < c->argc; k++)
		json_object_array_add(argv, json_object_new_string(c->argv[k]));
	json_object_object_add(o, "restart", argv);
	return o;
}

static struct json_object *state_json(struct sup *s)
{
	struct json_object *o = json_object_new_object(), *cs = json_object_new_object();
	struct json_object *luns = json_object_new_array();

	pair_state_read_layout(s->st, &s->layout);
	json_object_object_add(o, "dir", json_object_new_string(s->dir));
	json_object_object_add(o, "supervisor_pid", json_object_new_int64(getpid()));
	json_object_object_add(o, "control", json_object_new_string(s->ctl_sock));
	json_object_object_add(cs, "a", controller_json(s, 0));
	json_object_object_add(cs, "b", controller_json(s, 1));
	json_object_object_add(o, "controllers", cs);
	for (uint32_t k = 0; k < s->layout.luns; k++) {
		struct json_object *e = json_object_new_object(), *paths = json_object_new_array();
		char url[256];
		json_object_object_add(e, "lun", json_object_new_int64(k));
		json_object_object_add(e, "home", json_object_new_string(s->layout.home[k] ? "b" : "a"));
		json_object_object_add(e, "owner", json_object_new_string(s->layout.owner[k] ? "b" : "a"));
		json_object_object_add(e, "blocks", json_object_new_int64((int64_t)s->layout.lun_blocks));
		for (unsigned i = 0; i < 2; i++) {
			snprintf(url, sizeof(url), "iscsi://127.0.0.1:%u/%s:pair/%u", s->ch[i].host_port,
				 MIRROR_IQN_PREFIX, (unsigned)k);
			json_object_array_add(paths, json_object_new_string(url));
		}
		json_object_object_add(e, "paths", paths);
		json_object_array_add(luns, e);
	}
	json_object_object_add(o, "luns", luns);
	json_object_object_add(o, "layout_epoch", json_object_new_int64((int64_t)s->layout.epoch));
	return o;
}

/* Written to a temporary file and renamed: a reader sees the old file or
 * the new one, never half of one. */
static void write_state(struct sup *s)
{
	struct json_object *o = state_json(s);
	const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							  JSON_C_TO_STRING_NOSLASHESCAPE);
	char tmp[PATH_MAX + 16];

	if (strcmp(text, s->last_state) != 0) {
		snprintf(tmp, sizeof(tmp), "%s.tmp", s->state_path);
		FILE *f = fopen(tmp, "w");
		if (f) {
			bool ok = fputs(text, f) >= 0 && fputc('\n', f) != EOF;
			ok = fclose(f) == 0 && ok;
			if (ok && rename(tmp, s->state_path) == 0)
				snprintf(s->last_state, sizeof(s->last_state), "%s", text);
			else
				unlink(tmp);
		}
	}
	json_object_put(o);
}

/* ---- commands from clients ---- */

static int ctl_index(const char *name)
{
	return strcmp(name, "a") == 0 ? 0 : strcmp(name, "b") == 0 ? 1 : -1;
}

/* Sends one line to a controller's control socket and gets its answer. */
static int controller_command(struct sup *s, unsigned i, const char *cmd, char *ans, size_t len)
{
	struct sockaddr_un su;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ssize_t n;

	if (fd < 0)
		return -errno;
	memset(&su, 0, sizeof(su));
	su.sun_family = AF_UNIX;
	if ((size_t)snprintf(su.sun_path, sizeof(su.sun_path), "%.100s/ctl-%c.ctl", s->dir, "ab"[i]) >=
	    sizeof(su.sun_path)) {
		close(fd);
		return -ENAMETOOLONG;
	}
	struct timeval tv = { 2, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&su, sizeof(su)) < 0 ||
	    write(fd, cmd, strlen(cmd)) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	n = read(fd, ans, len - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	ans[n] = '\0';
	ans[strcspn(ans, "\n")] = '\0';
	return 0;
}

static struct json_object *answer(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static struct json_object *answer(bool ok, const char *fmt, ...)
{
	struct json_object *o = json_object_new_object();
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(o, "ok", json_object_new_boolean(ok));
	json_object_object_add(o, ok ? "message" : "error", json_object_new_string(msg));
	return o;
}

static struct json_object *do_restart(struct sup *s, unsigned i)
{
	if (s->ch[i].pid)
		return answer(false, "controller %c is running (pid %d): kill it first", "ab"[i],
			      (int)s->ch[i].pid);
	uint64_t old = s->ch[i].incarnation;
	if (spawn(s, i) < 0)
		return answer(false, "cannot start controller %c", "ab"[i]);
	/* back when its heartbeat names its new process */
	uint64_t end = now_ms() + READY_WAIT_MS;
	struct pair_heartbeat h;
	while (now_ms() < end) {
		reap(s);
		if (!s->ch[i].pid)
			return answer(false, "controller %c exited at once (see its log)", "ab"[i]);
		if (heartbeat_of(s, i, &h) && h.pid == (uint32_t)s->ch[i].pid && h.incarnation != old) {
			s->ch[i].incarnation = h.incarnation;
			return answer(true, "controller %c restarted, pid %d", "ab"[i], (int)s->ch[i].pid);
		}
		usleep(20000);
	}
	return answer(false, "controller %c did not come up within %u ms", "ab"[i], READY_WAIT_MS);
}

/* "fault a SPEC" / "disarm a": arms (or clears) a fault point of a running
 * controller through its control socket, counted from now (mirror-ctl(1)). */
static struct json_object *do_fault(struct sup *s, unsigned i, const char *verb, const char *line)
{
	char spec[96] = "", cmd[128], ans[256];
	struct json_object *o, *ok;
	bool good;

	if (s->ch[i].frozen)
		return answer(false, "controller %c is frozen", "ab"[i]);
	if (strcmp(verb, "fault") == 0) {
		if (sscanf(line, "%*s %*s %95s", spec) != 1)
			return answer(false, "fault %c: which fault point, POINT[:N[:ACTION]]?", "ab"[i]);
		snprintf(cmd, sizeof(cmd), "fault %s", spec);
	} else {
		snprintf(cmd, sizeof(cmd), "disarm");
	}
	if (controller_command(s, i, cmd, ans, sizeof(ans)) < 0)
		return answer(false, "controller %c did not answer %s", "ab"[i], verb);
	o = json_tokener_parse(ans);
	good = o && json_object_object_get_ex(o, "ok", &ok) && json_object_get_boolean(ok);
	json_object_put(o);
	if (!good)
		return answer(false, "controller %c refused '%s': %s", "ab"[i], cmd, ans);
	return answer(true, "controller %c: %s%s%s", "ab"[i], verb, spec[0] ? " " : "", spec);
}

static struct json_object *do_command(struct sup *s, char *line)
{
	char verb[32] = "", arg[32] = "";
	int i;

	line[strcspn(line, "\r\n")] = '\0';
	sscanf(line, "%31s %31s", verb, arg);
	if (strcmp(verb, "status") == 0)
		return state_json(s);
	if (strcmp(verb, "stop") == 0) {
		s->stop = true;
		return answer(true, "stopping");
	}
	if (strcmp(verb, "cut-link") == 0 || strcmp(verb, "heal-link") == 0) {
		char ans[256];
		for (unsigned k = 0; k < 2; k++)
			if (s->ch[k].pid && !s->ch[k].frozen &&
			    controller_command(s, k, verb, ans, sizeof(ans)) < 0)
				return answer(false, "controller %c did not answer %s", "ab"[k], verb);
		return answer(true, "%s", verb);
	}
	i = ctl_index(arg);
	if (i < 0)
		return answer(false, "'%s': want kill|freeze|thaw|restart|disarm a|b, fault a|b SPEC, "
			      "cut-link, heal-link, status or stop", line);
	struct child *c = &s->ch[i];
	if (strcmp(verb, "restart") == 0)
		return do_restart(s, (unsigned)i);
	if (!c->pid)
		return answer(false, "controller %c is not running", "ab"[i]);
	if (strcmp(verb, "fault") == 0 || strcmp(verb, "disarm") == 0)
		return do_fault(s, (unsigned)i, verb, line);
	if (strcmp(verb, "kill") == 0) {
		kill(c->pid, SIGKILL);
		return answer(true, "controller %c killed (pid %d)", "ab"[i], (int)c->pid);
	}
	if (strcmp(verb, "freeze") == 0) {
		kill(c->pid, SIGSTOP);
		c->frozen = true;
		return answer(true, "controller %c frozen (pid %d)", "ab"[i], (int)c->pid);
	}
	if (strcmp(verb, "thaw") == 0) {
		kill(c->pid, SIGCONT);
		c->frozen = false;
		return answer(true, "controller %c thawed (pid %d)", "ab"[i], (int)c->pid);
	}
	return answer(false, "unknown command '%s'", verb);
}

static void serve_client(struct sup *s)
{
	int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
	char line[256];
	ssize_t n;

	if (fd < 0)
		return;
	struct timeval tv = { 1, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = read(fd, line, sizeof(line) - 1);
	if (n > 0) {
		line[n] = '\0';
		struct json_object *o = do_command(s, line);
		const char *t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							       JSON_C_TO_STRING_NOSLASHESCAPE);
		ssize_t w = write(fd, t, strlen(t));
		if (w >= 0)
			w = write(fd, "\n", 1);
		(void)w;
		json_object_put(o);
	}
	close(fd);
	write_state(s);
}

static int listen_control(struct sup *s)
{
	struct sockaddr_un su;

	memset(&su, 0, sizeof(su));
	su.sun_family = AF_UNIX;
	if (strlen(s->ctl_sock) >= sizeof(su.sun_path)) {
		fprintf(stderr, PROG ": %s: path too long for a unix socket\n", s->ctl_sock);
		return -ENAMETOOLONG;
	}
	memcpy(su.sun_path, s->ctl_sock, strlen(s->ctl_sock) + 1); /* length checked above */
	unlink(s->ctl_sock);
	s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	/* 0600 before listen: only the owner may stop or kill the pair */
	if (s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&su, sizeof(su)) < 0 ||
	    chmod(s->ctl_sock, 0600) < 0 || listen(s->lfd, 8) < 0) {
		fprintf(stderr, PROG ": %s: %s\n", s->ctl_sock, strerror(errno));
		return -errno;
	}
	return 0;
}

/* ---- stopping ---- */

/* SIGTERM (a clean stop: each destages what it holds), then SIGKILL after
 * STOP_WAIT_MS; a frozen controller is thawed first so that it can stop.
 * Controllers restarted by someone else are found by their heartbeat's pid. */
static void stop_all(struct sup *s)
{
	for (unsigned i = 0; i < 2; i++) {
		struct pair_heartbeat h;
		if (!s->ch[i].pid && heartbeat_of(s, i, &h) && h.pid && h.status != PAIR_CTL_STOPPED &&
		    kill((pid_t)h.pid, 0) == 0)
			kill((pid_t)h.pid, SIGKILL); /* not ours to wait for */
		if (!s->ch[i].pid)
			continue;
		kill(s->ch[i].pid, SIGCONT);
		kill(s->ch[i].pid, SIGTERM);
	}
	uint64_t end = now_ms() + STOP_WAIT_MS;
	while ((s->ch[0].pid || s->ch[1].pid) && now_ms() < end) {
		reap(s);
		usleep(20000);
	}
	for (unsigned i = 0; i < 2; i++) {
		if (s->ch[i].pid) {
			kill(s->ch[i].pid, SIGKILL);
			waitpid(s->ch[i].pid, NULL, 0);
			s->ch[i].pid = 0;
		}
	}
}

/* Someone else restarted a controller (from the state file's restart
 * line): its heartbeat names a live pid we did not start. */
static void adopt(struct sup *s)
{
	for (unsigned i = 0; i < 2; i++) {
		struct pair_heartbeat h;
		if (s->ch[i].pid || !heartbeat_of(s, i, &h) || !h.pid ||
		    h.status == PAIR_CTL_STOPPED || kill((pid_t)h.pid, 0) < 0)
			continue;
		if (h.incarnation != s->ch[i].incarnation)
			s->ch[i].incarnation = h.incarnation;
	}
}

int pair_launch_run(const struct pair_launch *l)
{
	struct sup s;
	sigset_t mask;
	int rc, ret = MIRROR_EXIT_OK;

	memset(&s, 0, sizeof(s));
	s.l = l;
	s.lfd = s.sfd = -1;
	if (!realpath(l->dir, s.dir)) {
		if (errno != ENOENT || mkdir(l->dir, 0755) < 0 || !realpath(l->dir, s.dir)) {
			fprintf(stderr, PROG ": --dir %s: %s\n", l->dir, strerror(errno));
			return MIRROR_EXIT_FILE_ERROR;
		}
	}
	snprintf(s.state_path, sizeof(s.state_path), "%s", l->state_path ? l->state_path : "");
	if (!l->state_path)
		snprintf(s.state_path, sizeof(s.state_path), "%.4000s/state.json", s.dir);
	snprintf(s.ctl_sock, sizeof(s.ctl_sock), "%.4000s/pair.ctl", s.dir);
	if (l->ctl_path) {
		snprintf(s.ctl_path, sizeof(s.ctl_path), "%s", l->ctl_path);
	} else {
		char self[PATH_MAX];
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n < 0)
			n = 0;
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash)
			*slash = '\0';
		/* In a build tree libtool runs us from .libs/ through a wrapper
		 * that sets the library path: the state file's restart command
		 * must name the wrapper, which runs from any shell. */
		size_t len = strlen(self);
		if (slash && len >= 6 && strcmp(self + len - 6, "/.libs") == 0) {
			self[len - 6] = '\0';
			snprintf(s.ctl_path, sizeof(s.ctl_path), "%.4000s/mirror-ctl", self);
			if (access(s.ctl_path, X_OK) < 0)
				snprintf(s.ctl_path, sizeof(s.ctl_path), "%.4000s/.libs/mirror-ctl", self);
		} else {
			snprintf(s.ctl_path, sizeof(s.ctl_path), "%.4000s/mirror-ctl", slash ? self : ".");
		}
	}
	if (access(s.ctl_path, X_OK) < 0) {
		fprintf(stderr, PROG ": %s: %s (--ctl PATH names mirror-ctl)\n", s.ctl_path,
			strerror(errno));
		return MIRROR_EXIT_FILE_ERROR;
	}
	if (!l->reuse && (rc = create_pair(&s)) != 0)
		return rc;
	char path[PATH_MAX + 16], why[512];
	snprintf(path, sizeof(path), "%s/array/state", s.dir);
	if (pair_state_open(path, &s.st, why, sizeof(why)) < 0) {
		fprintf(stderr, PROG ": %s\n", why);
		return MIRROR_EXIT_FILE_ERROR;
	}
	pair_state_read_layout(s.st, &s.layout);

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	s.sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s.sfd < 0 || listen_control(&s) < 0) {
		ret = MIRROR_EXIT_OTHER;
		goto out;
	}
	for (unsigned i = 0; i < 2; i++) {
		if (spawn(&s, i) < 0) {
			ret = MIRROR_EXIT_OTHER;
			goto out;
		}
	}
	uint64_t end = now_ms() + READY_WAIT_MS;
	while (!(serving(&s, 0, true) && serving(&s, 1, true)) && now_ms() < end) {
		reap(&s);
		if (!s.ch[0].pid || !s.ch[1].pid) {
			fprintf(stderr, PROG ": controller %c exited while starting: see %s/ctl-%c.log\n",
				s.ch[0].pid ? 'b' : 'a', s.dir, s.ch[0].pid ? 'b' : 'a');
			ret = MIRROR_EXIT_OTHER;
			goto out;
		}
		usleep(20000);
	}
	if (!serving(&s, 0, false) || !serving(&s, 1, false)) {
		fprintf(stderr, PROG ": the controllers did not come up within %u ms (see %s/ctl-*.log)\n",
			READY_WAIT_MS, s.dir);
		ret = MIRROR_EXIT_OTHER;
		goto out;
	}
	write_state(&s);
	say(&s, "pair up in %s: controller a (pid %d) host port %u, controller b (pid %d) host "
		"port %u; state in %s", s.dir, (int)s.ch[0].pid, s.ch[0].host_port, (int)s.ch[1].pid,
	    s.ch[1].host_port, s.state_path);

	while (!s.stop) {
		struct pollfd pf[2] = { { s.sfd, POLLIN, 0 }, { s.lfd, POLLIN, 0 } };
		int n = poll(pf, 2, 200);
		if (n < 0 && errno != EINTR)
			break;
		if (n > 0 && (pf[0].revents & POLLIN)) {
			struct signalfd_siginfo si;
			while (read(s.sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
					s.stop = true;
			}
			reap(&s);
		}
		if (n > 0 && (pf[1].revents & POLLIN))
			serve_client(&s);
		for (unsigned i = 0; i < 2; i++)
			serving(&s, i, false); /* ports and incarnation as they are now */
		adopt(&s);
		write_state(&s);
	}
	say(&s, "stopping the pair");
out:
	stop_all(&s);
	if (s.lfd >= 0) {
		close(s.lfd);
		unlink(s.ctl_sock);
	}
	if (s.sfd >= 0)
		close(s.sfd);
	unlink(s.state_path);
	pair_state_close(s.st);
	return ret;
}

/* "stats a|b": the controller's own stats socket answers, not the
 * supervisor, bounded by a timeout: a frozen controller must not hang the
 * caller. */
static int controller_stats(const char *dir, char id)
{
	struct sockaddr_un su;
	struct timeval tv = { .tv_sec = 2 };
	static char buf[1 << 20];
	ssize_t n, got = 0;
	int fd;

	memset(&su, 0, sizeof(su));
	su.sun_family = AF_UNIX;
	if ((size_t)snprintf(su.sun_path, sizeof(su.sun_path), "%s/ctl-%c.stats", dir, id) >=
	    sizeof(su.sun_path)) {
		fprintf(stderr, PROG ": %s/ctl-%c.stats: path too long\n", dir, id);
		return MIRROR_EXIT_SYNTAX;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&su, sizeof(su)) < 0) {
		fprintf(stderr, PROG ": controller %c is not running in %s (%s: %s)\n", id, dir,
			su.sun_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return MIRROR_EXIT_FILE_ERROR;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (got < (ssize_t)sizeof(buf) - 1 && (n = read(fd, buf + got, sizeof(buf) - 1 - (size_t)got)) > 0)
		got += n;
	close(fd);
	buf[got] = '\0';
	struct json_object *o = json_tokener_parse(buf);
	if (!o) {
		fprintf(stderr, PROG ": controller %c's stats are not JSON (%s)\n", id,
			got ? "cut short" : "no answer within 2 s: frozen?");
		return MIRROR_EXIT_OTHER;
	}
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return MIRROR_EXIT_OK;
}

int pair_launch_request(const char *dir, const char *command, struct json_object **answer_out,
			char *why, size_t why_len)
{
	struct sockaddr_un su;
	char buf[65536];
	ssize_t n, got = 0;
	int fd;

	*answer_out = NULL;
	memset(&su, 0, sizeof(su));
	su.sun_family = AF_UNIX;
	if ((size_t)snprintf(su.sun_path, sizeof(su.sun_path), "%s/pair.ctl", dir) >= sizeof(su.sun_path)) {
		snprintf(why, why_len, "%.200s/pair.ctl: path too long", dir);
		return -ENAMETOOLONG;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&su, sizeof(su)) < 0) {
		int e = errno;
		snprintf(why, why_len, "no pair is running in %.200s (%s)", dir, strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	/* one send, the newline with it: the supervisor answers and closes
	 * after its first read, and a second write would meet a closed socket
	 * (SIGPIPE killed this command after the kill it asked for was done) */
	int len = snprintf(buf, sizeof(buf), "%s\n", command);
	if (len < 0 || (size_t)len >= sizeof(buf) ||
	    send(fd, buf, (size_t)len, MSG_NOSIGNAL) != (ssize_t)len) {
		snprintf(why, why_len, "cannot send '%.100s' to the supervisor in %.200s", command, dir);
		close(fd);
		return -EIO;
	}
	while (got < (ssize_t)sizeof(buf) - 1 &&
	       ((n = read(fd, buf + got, sizeof(buf) - 1 - (size_t)got)) > 0 || (n < 0 && errno == EINTR)))
		got += n > 0 ? n : 0;
	close(fd);
	buf[got] = '\0';
	*answer_out = json_tokener_parse(buf);
	if (!*answer_out) {
		snprintf(why, why_len, "the supervisor's answer is not JSON: %.200s", buf);
		return -EPROTO;
	}
	struct json_object *ok, *msg;
	if (json_object_object_get_ex(*answer_out, "ok", &ok) && !json_object_get_boolean(ok)) {
		snprintf(why, why_len, "%s",
			 json_object_object_get_ex(*answer_out, "error", &msg)
				 ? json_object_get_string(msg) : "refused");
		return -EPERM;
	}
	return 0;
}

int pair_launch_command(const char *dir, const char *command, bool json)
{
	struct json_object *o, *msg;
	char why[512];

	if (strncmp(command, "stats ", 6) == 0)
		return controller_stats(dir, command[6]);
	int rc = pair_launch_request(dir, command, &o, why, sizeof(why));
	if (!o) {
		fprintf(stderr, PROG ": %s\n", why);
		return rc == -ENAMETOOLONG ? MIRROR_EXIT_SYNTAX
		       : rc == -EIO || rc == -EPROTO ? MIRROR_EXIT_OTHER : MIRROR_EXIT_FILE_ERROR;
	}
	bool good = rc == 0;
	if (json)
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
	else if (json_object_object_get_ex(o, good ? "message" : "error", &msg))
		fprintf(good ? stdout : stderr, "%s%s\n", good ? "" : PROG ": ",
			json_object_get_string(msg));
	else
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return good ? MIRROR_EXIT_OK : MIRROR_EXIT_OTHER;
}
