/* The write history (failover.h): a text file, one event a line, appended
 * and flushed as events happen, so that whatever the checker claimed
 * survives the checker.  Its grammar:
 *
 *   mirror-failover-history 1 run=HEX16 luns=N blocks=N     (first line)
 *   path P lun=L url=URL
 *   trial N t=US
 *   fault N t=US action=WORD
 *   invoke ID t=US lun=L lba=LBA n=BLOCKS path=P trial=N
 *   ok ID t=US
 *   fail ID t=US sense=KK/AA/QQ
 *   indeterminate ID t=US why=WORD
 *
 * IDs count from 1 without gaps; each write completes at most once. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/failover/failover.h"

void fo_history_init(struct fo_history *h)
{
	memset(h, 0, sizeof(*h));
}

void fo_history_free(struct fo_history *h)
{
	free(h->w);
	fo_history_init(h);
}

/* ---- parsing ---- */

#define TOKENS_MAX 10

struct line {
	const char *name;
	unsigned no;
	char *tok[TOKENS_MAX];
	unsigned ntok;
	char *why;
	size_t why_len;
};

static int bad(const struct line *l, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int bad(const struct line *l, const char *field, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (l->why)
		snprintf(l->why, l->why_len, "%s:%u: %s: %s", l->name, l->no, field, msg);
	return -EINVAL;
}

/* Token k is "key=VALUE": its value, or NULL after a message. */
static const char *value_of(const struct line *l, unsigned k, const char *key)
{
	size_t n = strlen(key);

	if (k >= l->ntok) {
		bad(l, key, "missing (want %s=...)", key);
		return NULL;
	}
	if (strncmp(l->tok[k], key, n) != 0 || l->tok[k][n] != '=') {
		bad(l, key, "want %s=... as field %u, got '%.40s'", key, k + 1, l->tok[k]);
		return NULL;
	}
	return l->tok[k] + n + 1;
}

static int number(const struct line *l, const char *field, const char *s, int base,
		  uint64_t max, uint64_t *out)
{
	char *end;

	if (!s)
		return -EINVAL;
	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return bad(l, field, "'%.40s' is not a number", s);
	errno = 0;
	unsigned long long v = strtoull(s, &end, base);
	if (errno || *end)
		return bad(l, field, "'%.40s' is not a number", s);
	if (v > max)
		return bad(l, field, "%llu is above %llu", v, (unsigned long long)max);
	*out = v;
	return 0;
}

static int field_num(const struct line *l, unsigned k, const char *key, uint64_t max,
		     uint64_t *out)
{
	return number(l, key, value_of(l, k, key), 10, max, out);
}

static int want_tokens(const struct line *l, unsigned n)
{
	if (l->ntok > n && n < TOKENS_MAX)
		return bad(l, l->tok[n], "unexpected field %u ('%.40s')", n + 1, l->tok[n]);
	return 0;
}

static int parse_header(struct line *l, struct fo_history *h)
{
	uint64_t v;

	if (l->ntok < 1 || strcmp(l->tok[0], FO_HISTORY_MAGIC) != 0)
		return bad(l, "magic", "not a mirror-failover history (want '%s %u' as line 1)",
			   FO_HISTORY_MAGIC, FO_HISTORY_VERSION);
	if (l->ntok < 2 || number(l, "version", l->tok[1], 10, UINT32_MAX, &v) < 0)
		return l->ntok < 2 ? bad(l, "version", "missing") : -EINVAL;
	if (v != FO_HISTORY_VERSION)
		return bad(l, "version", "version %" PRIu64 " (this checker reads %u)", v,
			   FO_HISTORY_VERSION);
	if (number(l, "run", value_of(l, 2, "run"), 16, UINT64_MAX, &h->run) < 0)
		return -EINVAL;
	if (field_num(l, 3, "luns", FO_LUNS_MAX, &v) < 0)
		return -EINVAL;
	if (v == 0)
		return bad(l, "luns", "0: want 1..%u", FO_LUNS_MAX);
	h->luns = (uint32_t)v;
	if (field_num(l, 4, "blocks", (uint64_t)1 << 32, &h->blocks) < 0)
		return -EINVAL;
	if (h->blocks == 0)
		return bad(l, "blocks", "0: want at least 1");
	return want_tokens(l, 5);
}

static int ev_path(struct line *l, struct fo_history *h)
{
	uint64_t p, lun;
	const char *url;

	if (number(l, "path", l->ntok > 1 ? l->tok[1] : NULL, 10, FO_PATHS_MAX - 1, &p) < 0)
		return l->ntok > 1 ? -EINVAL : bad(l, "path", "missing its number");
	if (p != h->npaths)
		return bad(l, "path", "path %" PRIu64 " where path %u comes next", p, h->npaths);
	if (field_num(l, 2, "lun", h->luns - 1, &lun) < 0 || !(url = value_of(l, 3, "url")))
		return -EINVAL;
	if (strlen(url) >= sizeof(h->path[0].url))
		return bad(l, "url", "longer than %zu bytes", sizeof(h->path[0].url) - 1);
	h->path[p].lun = (uint32_t)lun;
	snprintf(h->path[p].url, sizeof(h->path[p].url), "%s", url);
	h->npaths++;
	return want_tokens(l, 4);
}

static int ev_trial(struct line *l, struct fo_history *h)
{
	uint64_t n, t;

	if (number(l, "trial", l->ntok > 1 ? l->tok[1] : NULL, 10, UINT32_MAX, &n) < 0)
		return l->ntok > 1 ? -EINVAL : bad(l, "trial", "missing its number");
	if (n != (uint64_t)h->trials + 1)
		return bad(l, "trial", "trial %" PRIu64 " where trial %u comes next", n, h->trials + 1);
	if (field_num(l, 2, "t", UINT64_MAX, &t) < 0)
		return -EINVAL;
	h->trials = (uint32_t)n;
	return want_tokens(l, 3);
}

static int ev_fault(struct line *l, struct fo_history *h)
{
	uint64_t n, t;
	const char *a;

	if (number(l, "fault", l->ntok > 1 ? l->tok[1] : NULL, 10, UINT32_MAX, &n) < 0)
		return l->ntok > 1 ? -EINVAL : bad(l, "fault", "missing its trial");
	if (n != h->trials)
		return bad(l, "fault", "in trial %" PRIu64 ", but the trial under way is %u", n,
			   h->trials);
	if (field_num(l, 2, "t", UINT64_MAX, &t) < 0 || !(a = value_of(l, 3, "action")))
		return -EINVAL;
	if (h->nfaults < sizeof(h->fault) / sizeof(h->fault[0])) {
		h->fault[h->nfaults].trial = (uint32_t)n;
		h->fault[h->nfaults].t_us = t;
		snprintf(h->fault[h->nfaults].action, sizeof(h->fault[0].action), "%s", a);
		h->nfaults++;
	}
	return want_tokens(l, 4);
}

static int ev_invoke(struct line *l, struct fo_history *h)
{
	uint64_t id, t, lun, lba, n, path, trial;

	if (number(l, "id", l->ntok > 1 ? l->tok[1] : NULL, 10, UINT64_MAX, &id) < 0)
		return l->ntok > 1 ? -EINVAL : bad(l, "id", "missing");
	if (id != h->n + 1)
		return bad(l, "id", "write %" PRIu64 " where write %zu comes next", id, h->n + 1);
	if (field_num(l, 2, "t", UINT64_MAX, &t) < 0 || field_num(l, 3, "lun", h->luns - 1, &lun) < 0 ||
	    field_num(l, 4, "lba", h->blocks - 1, &lba) < 0 || field_num(l, 5, "n", 65535, &n) < 0 ||
	    field_num(l, 6, "path", FO_PATHS_MAX - 1, &path) < 0 ||
	    field_num(l, 7, "trial", UINT32_MAX, &trial) < 0)
		return -EINVAL;
	if (n == 0 || lba + n > h->blocks)
		return bad(l, "n", "%" PRIu64 " blocks at LBA %" PRIu64 ": want 1..%" PRIu64, n, lba,
			   h->blocks - lba);
	if (path >= h->npaths)
		return bad(l, "path", "path %" PRIu64 " was never declared (%u paths)", path, h->npaths);
	if (h->path[path].lun != lun)
		return bad(l, "path", "path %" PRIu64 " leads to LUN %u, not %" PRIu64, path,
			   h->path[path].lun, lun);
	if (h->n == h->cap) {
		size_t nc = h->cap ? h->cap * 2 : 1024;
		struct fo_write *nw = realloc(h->w, nc * sizeof(*nw));
		if (!nw)
			return bad(l, "id", "out of memory");
		h->w = nw;
		h->cap = nc;
	}
	struct fo_write *w = &h->w[h->n++];
	memset(w, 0, sizeof(*w));
	w->id = id;
	w->t_invoke_us = t;
	w->lun = (uint32_t)lun;
	w->lba = lba;
	w->blocks = (uint32_t)n;
	w->path = (uint32_t)path;
	w->trial = (uint32_t)trial;
	w->status = FO_INVOKED;
	return want_tokens(l, 8);
}

/* ok, fail, indeterminate: the key of their third field (NULL: none). */
static int ev_done(struct line *l, struct fo_history *h, enum fo_status st, const char *key)
{
	uint64_t id, t;
	const char *detail = NULL;

	if (number(l, "id", l->ntok > 1 ? l->tok[1] : NULL, 10, UINT64_MAX, &id) < 0)
		return l->ntok > 1 ? -EINVAL : bad(l, "id", "missing");
	if (id == 0 || id > h->n)
		return bad(l, "id", "write %" PRIu64 " was never invoked", id);
	struct fo_write *w = &h->w[id - 1];
	if (w->status != FO_INVOKED)
		return bad(l, "id", "write %" PRIu64 " completed already", id);
	if (field_num(l, 2, "t", UINT64_MAX, &t) < 0)
		return -EINVAL;
	if (t < w->t_invoke_us)
		return bad(l, "t", "%" PRIu64 " is before the write's invoke (%" PRIu64 ")", t,
			   w->t_invoke_us);
	if (key && !(detail = value_of(l, 3, key)))
		return -EINVAL;
	w->status = st;
	w->t_done_us = t;
	if (detail)
		snprintf(w->detail, sizeof(w->detail), "%s", detail);
	return want_tokens(l, key ? 4 : 3);
}

static int ev_ok(struct line *l, struct fo_history *h)
{
	return ev_done(l, h, FO_OK, NULL);
}

static int ev_fail(struct line *l, struct fo_history *h)
{
	return ev_done(l, h, FO_FAIL, "sense");
}

static int ev_indet(struct line *l, struct fo_history *h)
{
	return ev_done(l, h, FO_INDETERMINATE, "why");
}

static const struct {
	const char *name;
	int (*parse)(struct line *l, struct fo_history *h);
} events[] = {
	{ "path", ev_path },   { "trial", ev_trial }, { "fault", ev_fault },
	{ "invoke", ev_invoke }, { "ok", ev_ok },     { "fail", ev_fail },
	{ "indeterminate", ev_indet },
};

static int parse_line(struct line *l, char *s, struct fo_history *h)
{
	char *save = NULL, *t;

	l->ntok = 0;
	for (t = strtok_r(s, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		if (l->ntok == TOKENS_MAX)
			return bad(l, "line", "more than %u fields", TOKENS_MAX);
		l->tok[l->ntok++] = t;
	}
	if (l->no == 1)
		return parse_header(l, h);
	if (l->ntok == 0)
		return bad(l, "event", "empty line");
	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		if (strcmp(events[i].name, l->tok[0]) == 0)
			return events[i].parse(l, h);
	return bad(l, "event", "unknown event '%.40s' (path, trial, fault, invoke, ok, fail, "
		   "indeterminate)", l->tok[0]);
}

int fo_history_parse(const char *text, size_t len, const char *name, struct fo_history *h,
		     char *why, size_t why_len)
{
	struct line l = { .name = name ? name : "history", .why = why, .why_len = why_len };
	char buf[1024];
	size_t pos = 0;
	int rc = 0;

	fo_history_init(h);
	if (len == 0) {
		l.no = 1;
		return bad(&l, "magic", "empty file");
	}
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		l.no++;
		if (!nl && l.no > 1) {
			/* a last line without its newline: cut short by a kill
			 * of the writer, which flushes whole lines only; the
			 * event it began is not one the checker claimed */
			break;
		}
		if (n >= sizeof(buf)) {
			rc = bad(&l, "line", "longer than %zu bytes", sizeof(buf) - 1);
			break;
		}
		if (memchr(text + pos, '\0', n)) {
			rc = bad(&l, "line", "a NUL byte");
			break;
		}
		memcpy(buf, text + pos, n);
		buf[n] = '\0';
		rc = parse_line(&l, buf, h);
		if (rc < 0)
			break;
		pos += n + 1;
	}
	if (rc < 0)
		fo_history_free(h);
	return rc;
}

int fo_history_load(const char *path, struct fo_history *h, char *why, size_t why_len)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	size_t len = 0, cap = 0;
	int rc;

	fo_history_init(h);
	if (!f) {
		rc = -errno;
		snprintf(why, why_len, "%s: %s", path, strerror(errno));
		return rc;
	}
	for (;;) {
		if (cap - len < 65536) {
			char *nt = realloc(text, cap + (1u << 20));
			if (!nt) {
				free(text);
				fclose(f);
				snprintf(why, why_len, "%s: out of memory", path);
				return -ENOMEM;
			}
			text = nt;
			cap += 1u << 20;
		}
		size_t got = fread(text + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		rc = -EIO;
		snprintf(why, why_len, "%s: read error", path);
	} else {
		rc = fo_history_parse(text, len, path, h, why, why_len);
	}
	fclose(f);
	free(text);
	return rc;
}

/* ---- writing ---- */

static int emit(struct fo_history_writer *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int emit(struct fo_history_writer *w, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		if (!w->err)
			w->err = -EOVERFLOW;
		return w->err;
	}
	/* flushed line by line: a kill of this process loses no line that
	 * was written, and the write it names is sent only after this */
	if (w->f && (fputs(buf, w->f) < 0 || fflush(w->f) != 0)) {
		if (!w->err)
			w->err = -(errno ? errno : EIO);
		return w->err;
	}
	/* the copy in memory is the file's line read by the file's parser,
	 * so a check during the run sees what --check-only would */
	if (w->h) {
		struct line l = { .name = "history", .no = ++w->lines, .why = w->why,
				  .why_len = sizeof(w->why) };
		buf[strcspn(buf, "\n")] = '\0';
		if (parse_line(&l, buf, w->h) < 0 && !w->err)
			w->err = -EINVAL;
	}
	return w->err;
}

int fo_hw_open(struct fo_history_writer *w, const char *path, const struct fo_history *hdr,
	       struct fo_history *mem, char *why, size_t why_len)
{
	memset(w, 0, sizeof(*w));
	w->next_id = 1;
	w->h = mem;
	if (mem)
		fo_history_init(mem);
	if (path && !(w->f = fopen(path, "w"))) {
		int e = errno;
		snprintf(why, why_len, "--history %s: %s", path, strerror(e));
		return -e;
	}
	emit(w, "%s %u run=%016" PRIx64 " luns=%u blocks=%" PRIu64 "\n", FO_HISTORY_MAGIC,
	     FO_HISTORY_VERSION, hdr->run, hdr->luns, hdr->blocks);
	for (unsigned p = 0; p < hdr->npaths; p++)
		emit(w, "path %u lun=%u url=%s\n", p, hdr->path[p].lun, hdr->path[p].url);
	if (w->err) {
		snprintf(why, why_len, "--history %s: %s", path ? path : "(memory)",
			 w->why[0] ? w->why : strerror(-w->err));
		return w->err;
	}
	return 0;
}

int fo_hw_close(struct fo_history_writer *w)
{
	int rc = w->err;

	if (w->f && fclose(w->f) != 0 && !rc)
		rc = -errno;
	w->f = NULL;
	return rc;
}

int fo_hw_trial(struct fo_history_writer *w, uint32_t trial, uint64_t t_us)
{
	return emit(w, "trial %u t=%" PRIu64 "\n", trial, t_us);
}

int fo_hw_fault(struct fo_history_writer *w, uint32_t trial, uint64_t t_us, const char *action)
{
	return emit(w, "fault %u t=%" PRIu64 " action=%s\n", trial, t_us, action);
}

uint64_t fo_hw_invoke(struct fo_history_writer *w, uint64_t t_us, uint32_t lun, uint64_t lba,
		      uint32_t blocks, uint32_t path, uint32_t trial)
{
	uint64_t id = w->next_id++;

	emit(w, "invoke %" PRIu64 " t=%" PRIu64 " lun=%u lba=%" PRIu64 " n=%u path=%u trial=%u\n", id,
	     t_us, lun, lba, blocks, path, trial);
	return id;
}

/* The detail is one word in the file: spaces become '_'. */
int fo_hw_done(struct fo_history_writer *w, uint64_t id, uint64_t t_us, enum fo_status st,
	       const char *detail)
{
	char d[32];
	size_t i;

	snprintf(d, sizeof(d), "%s", detail && *detail ? detail : "-");
	for (i = 0; d[i]; i++)
		if (d[i] == ' ' || d[i] == '=' || d[i] == '\t')
			d[i] = '_';
	switch (st) {
	case FO_OK:
		return emit(w, "ok %" PRIu64 " t=%" PRIu64 "\n", id, t_us);
	case FO_FAIL:
		return emit(w, "fail %" PRIu64 " t=%" PRIu64 " sense=%s\n", id, t_us, d);
	case FO_INDETERMINATE:
	case FO_INVOKED:
		break;
	}
	return emit(w, "indeterminate %" PRIu64 " t=%" PRIu64 " why=%s\n", id, t_us, d);
}
