/* mirror-top's pair view (app/top/pair.h).  Pure. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "app/top/pair.h"
#include "base/why.h"

/* Counters of a controller's stats answer (app/pair/report.c), by dotted
 * path. */
static const struct {
	const char *path;
	size_t offset;
} ctl_fields[] = {
	{ "pid", offsetof(struct mirror_top_ctl, pid) },
	{ "host.reads", offsetof(struct mirror_top_ctl, host_reads) },
	{ "host.writes", offsetof(struct mirror_top_ctl, host_writes) },
	{ "host.errors", offsetof(struct mirror_top_ctl, host_errors) },
	{ "mirror_tx.small", offsetof(struct mirror_top_ctl, tx_small) },
	{ "mirror_tx.large", offsetof(struct mirror_top_ctl, tx_large) },
	{ "mirror_rx.kinds.small.ops", offsetof(struct mirror_top_ctl, rx_small) },
	{ "mirror_rx.kinds.large.ops", offsetof(struct mirror_top_ctl, rx_large) },
	{ "nvram.own_used_bytes", offsetof(struct mirror_top_ctl, nvram_used) },
	{ "nvram.own_region_bytes", offsetof(struct mirror_top_ctl, nvram_size) },
	{ "nvram.partner_ops", offsetof(struct mirror_top_ctl, partner_ops) },
	{ "nvram.partner_blocks", offsetof(struct mirror_top_ctl, partner_blocks) },
	{ "destage.backlog_entries", offsetof(struct mirror_top_ctl, backlog_entries) },
	{ "destage.backlog_bytes", offsetof(struct mirror_top_ctl, backlog_bytes) },
	{ "destage.destaged", offsetof(struct mirror_top_ctl, destaged) },
	{ "takeover.count", offsetof(struct mirror_top_ctl, takeovers) },
	{ "takeover.failbacks", offsetof(struct mirror_top_ctl, failbacks) },
};

/* takeover.last, there once a takeover happened */
static const struct {
	const char *key;
	size_t offset;
} last_fields[] = {
	{ "detected_at_ms", offsetof(struct mirror_top_ctl, detected_at_ms) },
	{ "fenced_ms", offsetof(struct mirror_top_ctl, fenced_ms) },
	{ "replayed_ms", offsetof(struct mirror_top_ctl, replayed_ms) },
	{ "active_ms", offsetof(struct mirror_top_ctl, active_ms) },
	{ "replayed_blocks", offsetof(struct mirror_top_ctl, replayed_blocks) },
};

static const struct {
	const char *path;
	size_t offset, len;
} ctl_strings[] = {
	{ "mode", offsetof(struct mirror_top_ctl, mode), sizeof(((struct mirror_top_ctl *)0)->mode) },
	{ "link.state", offsetof(struct mirror_top_ctl, link), sizeof(((struct mirror_top_ctl *)0)->link) },
	{ "incarnation", offsetof(struct mirror_top_ctl, incarnation),
	  sizeof(((struct mirror_top_ctl *)0)->incarnation) },
};

/* o at a dotted path, or NULL */
static struct json_object *at(struct json_object *o, const char *path)
{
	char key[64];

	while (o && *path) {
		size_t n = strcspn(path, ".");
		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		if (!json_object_object_get_ex(o, key, &o))
			return NULL;
		path += n + (path[n] == '.');
	}
	return o;
}

static int get_u64(struct json_object *o, uint64_t *out)
{
	if (!o || !json_object_is_type(o, json_type_int))
		return -EINVAL;
	*out = (uint64_t)json_object_get_int64(o);
	return 0;
}

static int get_str(struct json_object *o, char *out, size_t len)
{
	if (!o || !json_object_is_type(o, json_type_string))
		return -EINVAL;
	snprintf(out, len, "%s", json_object_get_string(o));
	return 0;
}

static int get_double(struct json_object *o, double *out)
{
	if (!o || !(json_object_is_type(o, json_type_double) || json_object_is_type(o, json_type_int)))
		return -EINVAL;
	*out = json_object_get_double(o);
	return 0;
}

/* mirror-failover's status file (app/failover/status.c) */
static const struct {
	const char *path;
	size_t offset;
} campaign_fields[] = {
	{ "pid", offsetof(struct mirror_top_campaign, pid) },
	{ "trials_planned", offsetof(struct mirror_top_campaign, planned) },
	{ "trials_done", offsetof(struct mirror_top_campaign, done) },
	{ "failed_trials", offsetof(struct mirror_top_campaign, failed_trials) },
	{ "acked_writes", offsetof(struct mirror_top_campaign, acked) },
	{ "violations_total", offsetof(struct mirror_top_campaign, violations) },
	{ "acked_lost", offsetof(struct mirror_top_campaign, lost) },
	{ "stale", offsetof(struct mirror_top_campaign, stale) },
	{ "torn", offsetof(struct mirror_top_campaign, torn) },
	{ "misdirected", offsetof(struct mirror_top_campaign, misdirected) },
}, campaign_last_fields[] = {
	{ "trial", offsetof(struct mirror_top_campaign, last_trial) },
	{ "violations", offsetof(struct mirror_top_campaign, last_violations) },
};

static const struct {
	const char *path;
	size_t offset;
} campaign_doubles[] = {
	{ "takeover_ms.p50", offsetof(struct mirror_top_campaign, takeover_p50) },
	{ "takeover_ms.p99", offsetof(struct mirror_top_campaign, takeover_p99) },
	{ "takeover_ms.max", offsetof(struct mirror_top_campaign, takeover_max) },
	{ "last.takeover_ms", offsetof(struct mirror_top_campaign, last_takeover_ms) },
	{ "last.stall_ms", offsetof(struct mirror_top_campaign, last_stall_ms) },
};

int mirror_top_campaign_from_json(struct json_object *o, struct mirror_top_campaign *c, char *why,
				  size_t why_len)
{
	struct json_object *running = at(o, "running"), *last = at(o, "last");

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < sizeof(campaign_fields) / sizeof(campaign_fields[0]); i++)
		if (get_u64(at(o, campaign_fields[i].path),
			    (uint64_t *)((char *)c + campaign_fields[i].offset)) < 0)
			return mirror_fail(-EINVAL, why, why_len, "the campaign's status lacks %s",
					   campaign_fields[i].path);
	if (!running || !json_object_is_type(running, json_type_boolean))
		return mirror_fail(-EINVAL, why, why_len, "the campaign's status lacks running");
	c->running = json_object_get_boolean(running);
	c->last_takeover_ms = c->last_stall_ms = -1;
	for (size_t i = 0; last && i < sizeof(campaign_last_fields) / sizeof(campaign_last_fields[0]); i++)
		if (get_u64(at(last, campaign_last_fields[i].path),
			    (uint64_t *)((char *)c + campaign_last_fields[i].offset)) < 0)
			return mirror_fail(-EINVAL, why, why_len, "the campaign's status lacks last.%s",
					   campaign_last_fields[i].path);
	for (size_t i = 0; i < sizeof(campaign_doubles) / sizeof(campaign_doubles[0]); i++) {
		bool in_last = strncmp(campaign_doubles[i].path, "last.", 5) == 0;
		if ((last || !in_last) && get_double(at(o, campaign_doubles[i].path),
						    (double *)((char *)c + campaign_doubles[i].offset)) < 0)
			return mirror_fail(-EINVAL, why, why_len, "the campaign's status lacks %s",
					   campaign_doubles[i].path);
	}
	if (last) {
		get_str(at(last, "fault"), c->last_fault, sizeof(c->last_fault));
		get_str(at(last, "note"), c->last_note, sizeof(c->last_note));
	}
	c->have = true;
	return 0;
}

int mirror_top_ctl_from_stats(struct json_object *stats, struct mirror_top_ctl *c, char *why,
			      size_t why_len)
{
	struct json_object *luns, *last;

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < sizeof(ctl_fields) / sizeof(ctl_fields[0]); i++)
		if (get_u64(at(stats, ctl_fields[i].path),
			    (uint64_t *)((char *)c + ctl_fields[i].offset)) < 0)
			return mirror_fail(-EINVAL, why, why_len, "the controller's counters lack %s",
					   ctl_fields[i].path);
	for (size_t i = 0; i < sizeof(ctl_strings) / sizeof(ctl_strings[0]); i++)
		if (get_str(at(stats, ctl_strings[i].path), (char *)c + ctl_strings[i].offset,
			    ctl_strings[i].len) < 0)
			return mirror_fail(-EINVAL, why, why_len, "the controller's counters lack %s",
					   ctl_strings[i].path);
	luns = at(stats, "luns");
	if (!luns || !json_object_is_type(luns, json_type_array))
		return mirror_fail(-EINVAL, why, why_len, "the controller's counters lack luns");
	for (size_t i = 0; i < json_object_array_length(luns) && c->nluns < MIRROR_TOP_PAIR_LUNS; i++) {
		struct json_object *l = json_object_array_get_idx(luns, i);
		uint64_t n;
		if (get_u64(at(l, "lun"), &n) < 0 ||
		    get_str(at(l, "owner"), c->lun[c->nluns].owner, sizeof(c->lun[0].owner)) < 0 ||
		    get_str(at(l, "alua"), c->lun[c->nluns].alua, sizeof(c->lun[0].alua)) < 0)
			return mirror_fail(-EINVAL, why, why_len,
					   "the controller's counters: luns[%zu] lacks lun, owner or alua", i);
		c->lun[c->nluns++].lun = (uint32_t)n;
	}
	last = at(stats, "takeover.last");
	if (last) {
		for (size_t i = 0; i < sizeof(last_fields) / sizeof(last_fields[0]); i++)
			if (get_u64(at(last, last_fields[i].key),
				    (uint64_t *)((char *)c + last_fields[i].offset)) < 0)
				return mirror_fail(-EINVAL, why, why_len,
						   "the controller's counters lack takeover.last.%s",
						   last_fields[i].key);
		get_str(at(last, "fencing"), c->fencing, sizeof(c->fencing));
		c->have_last = true;
	}
	c->up = true;
	return 0;
}

void mirror_top_pair_init(struct mirror_top_pair *p)
{
	memset(p, 0, sizeof(*p));
}

static void add_event(struct mirror_top_pair *p, unsigned id, const struct mirror_top_ctl *c)
{
	memmove(&p->events[1], &p->events[0], sizeof(p->events[0]) * (MIRROR_TOP_PAIR_EVENTS - 1));
	/* the phases in milliseconds from detection (report.c) */
	snprintf(p->events[0], sizeof(p->events[0]),
		 "%c took over from %c: fenced +%llu ms, replayed +%llu ms (%llu blocks), "
		 "serving +%llu ms; fencing %s", "ab"[id], "ba"[id],
		 (unsigned long long)c->fenced_ms, (unsigned long long)c->replayed_ms,
		 (unsigned long long)c->replayed_blocks, (unsigned long long)c->active_ms,
		 c->fencing[0] ? c->fencing : "-");
	if (p->nevents < MIRROR_TOP_PAIR_EVENTS)
		p->nevents++;
	p->events_seen++;
}

void mirror_top_pair_update(struct mirror_top_pair *p, unsigned id, uint64_t now_ms,
			    const struct mirror_top_ctl *c)
{
	if (id > 1)
		return;
	if (!c->up) {
		/* keep the counters; say why it is not there */
		p->cur[id].up = false;
		snprintf(p->cur[id].error, sizeof(p->cur[id].error), "%s", c->error);
		return;
	}
	const struct mirror_top_ctl *old = p->readings[id] ? &p->cur[id] : NULL;
	bool same = old && old->up && strcmp(old->incarnation, c->incarnation) == 0;
	/* a new takeover: its count moved in the same process, or the first
	 * reading of a process that already took over, or one that
	 * restarted and took over since */
	if (c->have_last && (!same || c->takeovers > old->takeovers))
		add_event(p, id, c);
	p->prev[id] = p->cur[id];
	p->prev_ms[id] = p->cur_ms[id];
	p->cur[id] = *c;
	p->cur_ms[id] = now_ms;
	p->readings[id]++;
}

void mirror_top_pair_rates(const struct mirror_top_pair *p, unsigned id,
			   struct mirror_top_ctl_rates *r)
{
	const struct mirror_top_ctl *c = &p->cur[id], *o = &p->prev[id];

	memset(r, 0, sizeof(*r));
	if (id > 1 || p->readings[id] < 2 || !c->up || !o->up ||
	    strcmp(c->incarnation, o->incarnation) != 0 || p->cur_ms[id] <= p->prev_ms[id])
		return;
	double dt = (double)(p->cur_ms[id] - p->prev_ms[id]) / 1000.0;
	r->host_ops_s = (double)((c->host_reads + c->host_writes) - (o->host_reads + o->host_writes)) / dt;
	r->small_s = (double)(c->tx_small - o->tx_small) / dt;
	r->large_s = (double)(c->tx_large - o->tx_large) / dt;
}

/* ---- rendering ---- */

struct out {
	struct mirror_top_line *lines;
	unsigned n, max, width;
};

static void line(struct out *o, enum mirror_top_line_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void line(struct out *o, enum mirror_top_line_kind kind, const char *fmt, ...)
{
	va_list ap;

	if (o->n == o->max)
		return;
	struct mirror_top_line *l = &o->lines[o->n++];
	l->kind = kind;
	va_start(ap, fmt);
	vsnprintf(l->text, sizeof(l->text), fmt, ap);
	va_end(ap);
	if (o->width && strlen(l->text) > o->width)
		l->text[o->width] = '\0'; /* ASCII only: bytes are cells */
}

static void bytes_text(uint64_t b, char *out, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)b;
	unsigned u = 0;

	while (v >= 1024.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024.0;
		u++;
	}
	if (u == 0)
		snprintf(out, len, "%llu B", (unsigned long long)b);
	else
		snprintf(out, len, "%.1f %s", v, units[u]);
}

/* a row of two columns, a then b; a controller that is not up shows "-" */
#define COLS "%-24s %-29s %s"

static const char *alua_of(const struct mirror_top_ctl *c, uint32_t lun)
{
	for (unsigned i = 0; i < c->nluns; i++)
		if (c->lun[i].lun == lun)
			return c->lun[i].alua;
	return "-";
}

static const char *owner_of(const struct mirror_top_pair *p, uint32_t lun)
{
	/* the view of a controller that is up: the one that serves knows */
	for (unsigned id = 0; id < 2; id++) {
		const struct mirror_top_ctl *c = &p->cur[id];
		if (!c->up)
			continue;
		for (unsigned i = 0; i < c->nluns; i++)
			if (c->lun[i].lun == lun)
				return c->lun[i].owner;
	}
	return "-";
}

unsigned mirror_top_pair_screen(const struct mirror_top_pair *p, const char *source,
				unsigned width, struct mirror_top_line *lines, unsigned max)
{
	struct out o = { lines, 0, max, width };
	struct mirror_top_ctl_rates r[2];
	char col[2][8][64];
	const struct mirror_top_ctl *c;

	for (unsigned id = 0; id < 2; id++) {
		mirror_top_pair_rates(p, id, &r[id]);
		c = &p->cur[id];
		char used[24], size[24], backlog[24];
		bytes_text(c->nvram_used, used, sizeof(used));
		bytes_text(c->nvram_size, size, sizeof(size));
		bytes_text(c->backlog_bytes, backlog, sizeof(backlog));
		if (!c->up && !p->readings[id]) {
			for (unsigned k = 0; k < 8; k++)
				snprintf(col[id][k], sizeof(col[id][k]), "-");
			continue;
		}
		snprintf(col[id][0], sizeof(col[0][0]), "%s%s / %s", c->up ? "" : "DOWN, was ", c->mode,
			 c->link);
		snprintf(col[id][1], sizeof(col[0][0]), "%llu", (unsigned long long)c->pid);
		snprintf(col[id][2], sizeof(col[0][0]), "%.1f", r[id].host_ops_s);
		snprintf(col[id][3], sizeof(col[0][0]), "%.1f / %.1f", r[id].small_s, r[id].large_s);
		snprintf(col[id][4], sizeof(col[0][0]), "%llu / %llu", (unsigned long long)c->tx_small,
			 (unsigned long long)c->tx_large);
		snprintf(col[id][5], sizeof(col[0][0]), "%s / %s (%.1f%%)", used, size,
			 c->nvram_size ? 100.0 * (double)c->nvram_used / (double)c->nvram_size : 0.0);
		snprintf(col[id][6], sizeof(col[0][0]), "%llu entries, %s",
			 (unsigned long long)c->backlog_entries, backlog);
		snprintf(col[id][7], sizeof(col[0][0]), "%llu / %llu", (unsigned long long)c->takeovers,
			 (unsigned long long)c->failbacks);
	}
	static const char *const names[8] = {
		"mode / link", "pid", "host ops/s", "mirror small/large/s", "mirror sent small/large",
		"NVRAM own region", "destage backlog", "takeovers / failbacks",
	};
	line(&o, MIRROR_TOP_LINE_TITLE, "mirror-top pair  %s", source ? source : "");
	line(&o, MIRROR_TOP_LINE_HEADER, COLS, "", "controller a", "controller b");
	for (unsigned k = 0; k < 8; k++)
		line(&o, MIRROR_TOP_LINE_ROW, COLS, names[k], col[0][k], col[1][k]);
	for (unsigned id = 0; id < 2; id++)
		if (!p->cur[id].up && p->cur[id].error[0])
			line(&o, MIRROR_TOP_LINE_TEXT, "controller %c: %s", "ab"[id], p->cur[id].error);

	/* ALUA: the LUNs either controller reported */
	line(&o, MIRROR_TOP_LINE_HEADER, COLS, "ALUA", "a", "b");
	const struct mirror_top_ctl *any = p->cur[0].nluns ? &p->cur[0] : &p->cur[1];
	for (unsigned i = 0; i < any->nluns; i++) {
		char name[32];
		snprintf(name, sizeof(name), "LUN %u (owner %s)", any->lun[i].lun,
			 owner_of(p, any->lun[i].lun));
		line(&o, MIRROR_TOP_LINE_ROW, COLS, name,
		     p->cur[0].up ? alua_of(&p->cur[0], any->lun[i].lun) : "-",
		     p->cur[1].up ? alua_of(&p->cur[1], any->lun[i].lun) : "-");
	}
	line(&o, MIRROR_TOP_LINE_HEADER, "takeover events (%llu)", (unsigned long long)p->events_seen);
	if (!p->nevents)
		line(&o, MIRROR_TOP_LINE_TEXT, "  none");
	for (unsigned i = 0; i < p->nevents; i++)
		line(&o, MIRROR_TOP_LINE_FINDING, "  %s", p->events[i]);

	/* a mirror-failover campaign against this pair (its status file) */
	const struct mirror_top_campaign *k = &p->campaign;
	if (k->have) {
		line(&o, MIRROR_TOP_LINE_HEADER, "failover campaign (mirror-failover pid %llu, %s)",
		     (unsigned long long)k->pid, k->running ? "running" : "ended");
		line(&o, k->violations ? MIRROR_TOP_LINE_FINDING : MIRROR_TOP_LINE_TEXT,
		     "  trials %llu of %llu, %llu failed; %llu acknowledged writes, %llu violations "
		     "(lost %llu, stale %llu, torn %llu, misdirected %llu)",
		     (unsigned long long)k->done, (unsigned long long)k->planned,
		     (unsigned long long)k->failed_trials, (unsigned long long)k->acked,
		     (unsigned long long)k->violations, (unsigned long long)k->lost,
		     (unsigned long long)k->stale, (unsigned long long)k->torn,
		     (unsigned long long)k->misdirected);
		if (k->done)
			line(&o, MIRROR_TOP_LINE_TEXT,
			     "  takeover p50 %.0f / p99 %.0f / max %.0f ms; last: trial %llu, %s, "
			     "takeover %.0f ms, stall %.0f ms, %llu violations",
			     k->takeover_p50, k->takeover_p99, k->takeover_max,
			     (unsigned long long)k->last_trial, k->last_fault[0] ? k->last_fault : "no fault",
			     k->last_takeover_ms, k->last_stall_ms, (unsigned long long)k->last_violations);
		if (k->last_note[0])
			line(&o, MIRROR_TOP_LINE_TEXT, "  %s", k->last_note);
	}

	/* for scripts: key=value, the counters as the sockets gave them */
	for (unsigned id = 0; id < 2; id++) {
		c = &p->cur[id];
		line(&o, MIRROR_TOP_LINE_TEXT,
		     "ctl %c: up=%d mode=%s link=%s pid=%llu host_reads=%llu host_writes=%llu "
		     "host_ops_s=%.1f tx_small=%llu tx_large=%llu rx_small=%llu rx_large=%llu "
		     "nvram_used=%llu nvram_size=%llu partner_ops=%llu backlog_entries=%llu "
		     "backlog_bytes=%llu takeovers=%llu failbacks=%llu last_active_ms=%lld",
		     "ab"[id], c->up, c->mode[0] ? c->mode : "-", c->link[0] ? c->link : "-",
		     (unsigned long long)c->pid, (unsigned long long)c->host_reads,
		     (unsigned long long)c->host_writes, r[id].host_ops_s,
		     (unsigned long long)c->tx_small, (unsigned long long)c->tx_large,
		     (unsigned long long)c->rx_small, (unsigned long long)c->rx_large,
		     (unsigned long long)c->nvram_used, (unsigned long long)c->nvram_size,
		     (unsigned long long)c->partner_ops, (unsigned long long)c->backlog_entries,
		     (unsigned long long)c->backlog_bytes, (unsigned long long)c->takeovers,
		     (unsigned long long)c->failbacks,
		     c->have_last ? (long long)c->active_ms : -1LL);
	}
	if (k->have)
		line(&o, MIRROR_TOP_LINE_TEXT,
		     "campaign: running=%d pid=%llu trials_done=%llu trials_planned=%llu "
		     "failed_trials=%llu acked_writes=%llu violations=%llu takeover_p99_ms=%.1f "
		     "last_trial=%llu last_takeover_ms=%.1f",
		     k->running, (unsigned long long)k->pid, (unsigned long long)k->done,
		     (unsigned long long)k->planned, (unsigned long long)k->failed_trials,
		     (unsigned long long)k->acked, (unsigned long long)k->violations, k->takeover_p99,
		     (unsigned long long)k->last_trial, k->last_takeover_ms);
	for (unsigned i = 0; i < any->nluns; i++)
		line(&o, MIRROR_TOP_LINE_TEXT, "lun %u: owner=%s a=%s b=%s", any->lun[i].lun,
		     owner_of(p, any->lun[i].lun),
		     p->cur[0].up ? alua_of(&p->cur[0], any->lun[i].lun) : "-",
		     p->cur[1].up ? alua_of(&p->cur[1], any->lun[i].lun) : "-");
	return o.n;
}
