/* What a controller tells: its counters as one JSON line on the stats
 * socket (the loop adds its own as "server"), and a control socket that
 * takes one command a connection ("stats", "cut-link", "heal-link",
 * "fault POINT[:N[:ACTION]]", "disarm") and answers one JSON line. */
#include "config.h"

/* accept4: a client socket that is close-on-exec from the start */
#define _GNU_SOURCE 1

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>

#include "app/pair/ctl.h"
#include "base/log.h"
#include "base/why.h"

#define J_INT(o, k, v) json_object_object_add((o), (k), json_object_new_int64((int64_t)(v)))
#define J_BOOL(o, k, v) json_object_object_add((o), (k), json_object_new_boolean(v))
#define J_STR(o, k, v) json_object_object_add((o), (k), json_object_new_string(v))

static const char *const reason_keys[] = {
	"small_ok", "too_many_elements", "recovery", "partner_uninitialized",
	"high_bits_differ", "descriptor_width", "forced",
};

static const char *const mode_names[] = { "whole", "alone", "takeover", "rejoining" };
static const char *const link_names[] = { "down", "connecting", "up" };

static struct json_object *latency(const struct mirror_hist *h)
{
	struct json_object *o = json_object_new_object();

	J_INT(o, "count", h->total);
	json_object_object_add(o, "mean", json_object_new_double(mirror_hist_mean_us(h)));
	json_object_object_add(o, "p50", json_object_new_double(mirror_hist_percentile(h, 50)));
	json_object_object_add(o, "p99", json_object_new_double(mirror_hist_percentile(h, 99)));
	json_object_object_add(o, "max", json_object_new_double((double)h->max_ns / 1000.0));
	return o;
}

static struct json_object *partner_json(const struct ctl *c, uint64_t now)
{
	struct json_object *o = json_object_new_object();
	const struct ctl_partner *p = &c->partner;

	J_BOOL(o, "alive", p->alive);
	J_BOOL(o, "dead", p->dead);
	J_INT(o, "pid", p->hb.pid);
	J_STR(o, "status", pair_ctl_status_name(p->hb.status));
	J_INT(o, "heartbeat_age_ms", p->hb_seen_ms ? now - p->hb_seen_ms : 0);
	J_INT(o, "mirror_epoch", p->hb.mirror_epoch);
	return o;
}

static struct json_object *link_json(const struct ctl *c)
{
	struct json_object *o = json_object_new_object();
	const struct ctl_link *l = &c->link;

	J_STR(o, "state", link_names[l->state]);
	J_BOOL(o, "cut", l->cut);
	J_BOOL(o, "partner_initialized", l->partner_initialized);
	J_INT(o, "sessions", l->session);
	J_INT(o, "drops", l->drops);
	J_INT(o, "outstanding", l->outstanding);
	J_INT(o, "queued", l->queued);
	J_STR(o, "why", l->why);
	J_STR(o, "url", l->url);
	return o;
}

static struct json_object *tx_json(const struct ctl *c)
{
	struct json_object *o = json_object_new_object(), *r = json_object_new_object();
	const struct ctl_link *l = &c->link;

	J_INT(o, "small", l->ops[0]);
	J_INT(o, "large", l->ops[1]);
	for (unsigned i = 0; i < sizeof(reason_keys) / sizeof(reason_keys[0]); i++)
		J_INT(r, reason_keys[i], l->reasons[i]);
	json_object_object_add(o, "reasons", r);
	J_INT(o, "good", l->good);
	J_INT(o, "errors", l->errors);
	J_INT(o, "releases", l->releases);
	J_INT(o, "mirror_epoch", c->mirror_epoch);
	return o;
}

static struct json_object *luns_json(const struct ctl *c)
{
	struct json_object *a = json_object_new_array();

	for (uint32_t i = 0; i < c->layout.luns; i++) {
		struct json_object *o = json_object_new_object();
		J_INT(o, "lun", i);
		J_STR(o, "home", c->layout.home[i] ? "b" : "a");
		J_STR(o, "owner", c->layout.owner[i] ? "b" : "a");
		J_STR(o, "alua", mirror_alua_state_name(c->alua_local[i]));
		J_STR(o, "partner_alua", mirror_alua_state_name(c->alua_remote[i]));
		json_object_array_add(a, o);
	}
	return a;
}

static struct json_object *takeover_json(const struct ctl *c)
{
	struct json_object *o = json_object_new_object();

	J_INT(o, "count", c->takeovers);
	J_INT(o, "failbacks", c->failbacks);
	if (c->takeovers) {
		const struct takeover_times *t = &c->last_to;
		struct json_object *l = json_object_new_object();
		/* milliseconds from detection, the phases of Fig. 1's promise */
		J_INT(l, "detected_at_ms", t->detected_ms);
		J_INT(l, "fenced_ms", t->fenced_ms - t->detected_ms);
		J_INT(l, "replayed_ms", t->replayed_ms - t->detected_ms);
		J_INT(l, "active_ms", t->active_ms - t->detected_ms);
		J_INT(l, "replayed_blocks", t->replayed_blocks);
		J_STR(l, "fencing", t->how);
		json_object_object_add(o, "last", l);
	}
	return o;
}

struct json_object *ctl_stats_json(void *arg)
{
	struct ctl *c = arg;
	uint64_t now = ctl_now_ms(), n, b;
	struct json_object *o = json_object_new_object(), *x;
	char inc[24];
	int failed = -1;

	J_STR(o, "controller", c->name);
	J_INT(o, "pid", c->pid);
	snprintf(inc, sizeof(inc), "%016llx", (unsigned long long)c->incarnation);
	J_STR(o, "incarnation", inc);
	J_STR(o, "mode", mode_names[c->mode]);
	J_BOOL(o, "error_recovery", c->error_recovery);
	J_INT(o, "uptime_ms", now - c->started_ms);
	json_object_object_add(o, "partner", partner_json(c, now));
	json_object_object_add(o, "link", link_json(c));
	json_object_object_add(o, "mirror_tx", tx_json(c));
	json_object_object_add(o, "mirror_rx", mirror_tgt_stats_json(c->mirror_tgt));

	x = json_object_new_object();
	J_INT(x, "reads", c->host_reads);
	J_INT(x, "writes", c->host_writes);
	J_INT(x, "read_bytes", c->host_read_bytes);
	J_INT(x, "write_bytes", c->host_write_bytes);
	J_INT(x, "errors", c->host_errors);
	J_INT(x, "other", c->host_cmds_other);
	json_object_object_add(x, "write_latency_us", latency(&c->write_lat));
	json_object_object_add(x, "read_latency_us", latency(&c->read_lat));
	json_object_object_add(x, "target", mirror_tgt_stats_json(c->host_tgt));
	json_object_object_add(o, "host", x);
	json_object_object_add(o, "luns", luns_json(c));

	x = json_object_new_object();
	J_INT(x, "own_region_bytes", c->cache.region_bytes);
	J_INT(x, "own_used_bytes", c->cache.used);
	pair_journal_count(&c->journal, &n, &b);
	J_INT(x, "partner_ops", n);
	J_INT(x, "partner_blocks", b);
	json_object_object_add(o, "nvram", x);

	x = json_object_new_object();
	pair_cache_backlog(&c->cache, &n, &b);
	J_INT(x, "backlog_entries", n);
	J_INT(x, "backlog_bytes", b);
	J_INT(x, "destaged", c->cache.destaged);
	J_INT(x, "destaged_blocks", c->cache.destaged_blocks);
	J_INT(x, "full_waits", c->cache.full_waits);
	J_INT(x, "errors", c->destage_errors);
	json_object_object_add(o, "destage", x);

	x = json_object_new_object();
	int st = c->array ? mirror_raid5_state(c->array, &failed) : 2;
	J_STR(x, "state", st == 0 ? "optimal" : st == 1 ? "degraded" : "failed");
	J_INT(x, "failed_member", failed);
	json_object_object_add(o, "array", x);

	json_object_object_add(o, "takeover", takeover_json(c));
	x = json_object_new_object();
	for (unsigned p = 0; p < FP_COUNT_; p++)
		J_INT(x, pair_fault_point_name(p), c->fault_count[p]);
	json_object_object_add(o, "fault_events", x);
	x = json_object_new_array();
	for (unsigned d = 0; d < DEV_COUNT_; d++)
		if (c->cfg.deviate[d])
			json_object_array_add(x, json_object_new_string(pair_deviation_name(d)));
	json_object_object_add(o, "deviations", x);
	return o;
}

/* ---- the control socket ---- */

static void control_answer(int fd, struct json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t n = strlen(s);
	ssize_t w;

	/* a local tool waiting for one line: a short blocking write */
	w = write(fd, s, n);
	if (w == (ssize_t)n)
		w = write(fd, "\n", 1);
	(void)w;
	json_object_put(o);
}

static struct json_object *result(bool ok, const char *error)
{
	struct json_object *o = json_object_new_object();

	J_BOOL(o, "ok", ok);
	if (error)
		J_STR(o, "error", error);
	return o;
}

static struct json_object *control_do(struct ctl *c, char *line)
{
	char why[200];

	line[strcspn(line, "\r\n")] = '\0';
	if (strcmp(line, "stats") == 0)
		return ctl_stats_json(c);
	if (strcmp(line, "cut-link") == 0) {
		c->link.cut = true;
		mirror_emu_server_pause_listener(c->srv, c->mirror_idx, true);
		if (c->link.state == LINK_UP)
			link_drop(c, "link cut (control)");
		return result(true, NULL);
	}
	if (strcmp(line, "heal-link") == 0) {
		c->link.cut = false;
		mirror_emu_server_pause_listener(c->srv, c->mirror_idx, false);
		return result(true, NULL);
	}
	if (strncmp(line, "fault ", 6) == 0) {
		struct pair_fault f;
		if (pair_fault_parse(line + 6, &f, why, sizeof(why)) < 0)
			return result(false, why);
		f.nth += c->fault_count[f.point]; /* counted from now */
		c->cfg.fault = f;
		return result(true, NULL);
	}
	if (strcmp(line, "disarm") == 0) {
		c->cfg.fault.armed = false;
		return result(true, NULL);
	}
	snprintf(why, sizeof(why), "unknown command '%.60s' (stats, cut-link, heal-link, "
		 "fault POINT[:N[:ACTION]], disarm)", line);
	return result(false, why);
}

static void control_client(void *arg, uint32_t events)
{
	struct ctl *c = arg;
	int fd = accept4(c->control_fd, NULL, NULL, SOCK_CLOEXEC);
	char line[256];
	ssize_t n = 0;

	(void)events;
	if (fd < 0)
		return;
	/* one short line from a local tool: wait for it a little */
	struct timeval tv = { 0, 200000 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	n = read(fd, line, sizeof(line) - 1);
	if (n > 0) {
		line[n] = '\0';
		control_answer(fd, control_do(c, line));
	}
	close(fd);
}

int control_open(struct ctl *c, char *why, size_t why_len)
{
	struct sockaddr_un su;
	char path[sizeof(su.sun_path)];

	if (c->cfg.control_path)
		snprintf(path, sizeof(path), "%s", c->cfg.control_path);
	else if ((size_t)snprintf(path, sizeof(path), "%s/ctl-%s.ctl", c->cfg.dir, c->name) >= sizeof(path))
		return mirror_fail(-ENAMETOOLONG, why, why_len, "control socket path under %s is too long",
				   c->cfg.dir);
	memset(&su, 0, sizeof(su));
	su.sun_family = AF_UNIX;
	snprintf(su.sun_path, sizeof(su.sun_path), "%s", path);
	unlink(path); /* ours by name: one controller a name in a pair directory */
	c->control_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	/* 0600 before listen: only the owner may connect (kill, freeze, ...) */
	if (c->control_fd < 0 || bind(c->control_fd, (struct sockaddr *)&su, sizeof(su)) < 0 ||
	    chmod(path, 0600) < 0 || listen(c->control_fd, 8) < 0)
		return mirror_fail(-errno, why, why_len, "control socket %s: %s", path, strerror(errno));
	return mirror_emu_server_watch(c->srv, c->control_fd, EPOLLIN, control_client, c);
}

void control_close(struct ctl *c)
{
	if (c->control_fd < 0)
		return;
	close(c->control_fd);
	c->control_fd = -1;
}
