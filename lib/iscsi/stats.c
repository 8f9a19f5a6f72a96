/* The target's counters as JSON, written and read back by one set of
 * tables (stats.h), so the writer and its readers cannot drift apart. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include <mirror/sense.h>

#include "base/why.h"
#include "iscsi/engine.h"
#include "iscsi/stats.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *const kind_names[MIRROR_RX_KINDS] = {
	[MIRROR_RX_KIND_OTHER] = "other",       [MIRROR_RX_KIND_SMALL] = "small",
	[MIRROR_RX_KIND_LARGE] = "large",       [MIRROR_RX_KIND_TABLE] = "table_update",
	[MIRROR_RX_KIND_READBACK] = "readback", [MIRROR_RX_KIND_RELEASE] = "release",
};

/* kinds.<name>.<key> or kinds.<name>.bytes.<key>, in the writer's order */
static const struct {
	const char *key;
	bool in_bytes;
	size_t offset;
} kind_fields[] = {
	{ "ops", false, offsetof(struct mirror_stats_kind, ops) },
	{ "errors", false, offsetof(struct mirror_stats_kind, errors) },
	{ "interrupts", false, offsetof(struct mirror_stats_kind, interrupts) },
	{ "interrupts_min", false, offsetof(struct mirror_stats_kind, interrupts_min) },
	{ "interrupts_max", false, offsetof(struct mirror_stats_kind, interrupts_max) },
	{ "cdb", true, offsetof(struct mirror_stats_kind, cdb) },
	{ "metadata", true, offsetof(struct mirror_stats_kind, metadata) },
	{ "data", true, offsetof(struct mirror_stats_kind, data) },
	{ "iscsi", true, offsetof(struct mirror_stats_kind, iscsi) },
	{ "total", true, offsetof(struct mirror_stats_kind, total) },
};

/* the top-level counters, optional when reading */
static const struct {
	const char *key;
	size_t offset;
} top_fields[] = {
	{ "sessions_total", offsetof(struct mirror_stats, sessions_total) },
	{ "sessions_now", offsetof(struct mirror_stats, sessions_now) },
	{ "logins_failed", offsetof(struct mirror_stats, logins_failed) },
	{ "pdus_in", offsetof(struct mirror_stats, pdus_in) },
	{ "pdus_out", offsetof(struct mirror_stats, pdus_out) },
	{ "rejects", offsetof(struct mirror_stats, rejects) },
	{ "digest_errors", offsetof(struct mirror_stats, digest_errors) },
	{ "task_management", offsetof(struct mirror_stats, task_management) },
};

/* sequence.<key>, all there when sequence is */
static const struct {
	const char *key;
	size_t offset;
} seq_fields[] = {
	{ "messages", offsetof(struct mirror_stats, seq_messages) },
	{ "gaps", offsetof(struct mirror_stats, seq_gaps) },
	{ "repeats", offsetof(struct mirror_stats, seq_repeats) },
};

#define FIELD(base, off) ((uint64_t *)((char *)(base) + (off)))
#define CFIELD(base, off) (*(const uint64_t *)((const char *)(base) + (off)))

const char *mirror_stats_kind_name(enum mirror_rx_kind k)
{
	return (unsigned)k < MIRROR_RX_KINDS ? kind_names[k] : "?";
}

enum mirror_rx_kind mirror_stats_path_kind(unsigned path)
{
	return path == 0 ? MIRROR_RX_KIND_SMALL : MIRROR_RX_KIND_LARGE; /* enum mirror_path */
}

uint64_t mirror_stats_check_conditions(const struct mirror_stats *s)
{
	uint64_t sum = 0;
	for (unsigned i = 0; i < s->nsense; i++)
		sum += s->sense[i].n;
	return sum;
}

/* ---- writing ---- */

void mirror_stats_of_tgt(const struct mirror_tgt *t, struct mirror_stats *s)
{
	const struct mirror_tgt_stats *st = &t->st;

	memset(s, 0, sizeof(*s));
	for (unsigned i = 0; i < MIRROR_RX_KINDS; i++) {
		const struct mirror_tgt_kind_stats *k = &st->kind[i];
		s->have_kind[i] = true;
		s->kind[i] = (struct mirror_stats_kind){
			.ops = k->ops, .errors = k->errors, .interrupts = k->interrupts,
			.interrupts_min = k->interrupts_min, .interrupts_max = k->interrupts_max,
			.cdb = k->bytes.cdb, .metadata = k->bytes.metadata, .data = k->bytes.data,
			.iscsi = k->bytes.transport, .total = k->bytes.total,
		};
	}
	s->sessions_total = st->sessions_total;
	s->sessions_now = st->sessions_now;
	s->logins_failed = st->logins_failed;
	s->pdus_in = st->pdus_in;
	s->pdus_out = st->pdus_out;
	s->rejects = st->rejects;
	s->digest_errors = st->digest_errors;
	s->task_management = st->tmf;
	for (unsigned k = 0; k < 16 && s->nsense < MIRROR_STATS_SENSE_MAX; k++) {
		if (!st->sense_count[k])
			continue;
		snprintf(s->sense[s->nsense].name, sizeof(s->sense[0].name), "%s",
			 mirror_sense_key_name((uint8_t)k));
		s->sense[s->nsense++].n = st->sense_count[k];
	}
	const struct mirror_receiver *rx = t->rx;
	if (!rx)
		return;
	s->have_sequence = true;
	for (unsigned i = 0; i < MIRROR_RX_SENDERS_MAX; i++) {
		s->seq_gaps += rx->senders[i].gaps;
		s->seq_repeats += rx->senders[i].repeats;
		s->seq_messages += rx->senders[i].messages;
	}
	s->table_generation = rx->table.generation;
}

static struct json_object *count(uint64_t v)
{
	return json_object_new_int64((int64_t)v);
}

struct json_object *mirror_stats_json(const struct mirror_stats *s)
{
	struct json_object *o = json_object_new_object(), *kinds = json_object_new_object();
	struct json_object *sense = json_object_new_object();

	for (unsigned i = 0; i < MIRROR_RX_KINDS; i++) {
		if (!s->have_kind[i])
			continue;
		struct json_object *k = json_object_new_object(), *b = json_object_new_object();
		for (size_t f = 0; f < NELEM(kind_fields); f++)
			json_object_object_add(kind_fields[f].in_bytes ? b : k, kind_fields[f].key,
					       count(CFIELD(&s->kind[i], kind_fields[f].offset)));
		json_object_object_add(k, "bytes", b);
		json_object_object_add(kinds, kind_names[i], k);
	}
	json_object_object_add(o, "kinds", kinds);
	for (size_t f = 0; f < NELEM(top_fields); f++)
		json_object_object_add(o, top_fields[f].key, count(CFIELD(s, top_fields[f].offset)));
	for (unsigned i = 0; i < s->nsense; i++)
		json_object_object_add(sense, s->sense[i].name, count(s->sense[i].n));
	json_object_object_add(o, "check_conditions", sense);
	if (!s->have_sequence)
		return o;
	struct json_object *seq = json_object_new_object();
	for (size_t f = 0; f < NELEM(seq_fields); f++)
		json_object_object_add(seq, seq_fields[f].key, count(CFIELD(s, seq_fields[f].offset)));
	json_object_object_add(o, "sequence", seq);
	json_object_object_add(o, "table_generation", count(s->table_generation));
	return o;
}

struct json_object *mirror_tgt_stats_json(const struct mirror_tgt *t)
{
	struct mirror_stats s;

	mirror_stats_of_tgt(t, &s);
	return mirror_stats_json(&s);
}

/* ---- reading ---- */

/* A count at o.key: 1 and *out, 0 if absent, -EINVAL (naming where.key)
 * if it is not an integer >= 0. */
static int get_count(struct json_object *o, const char *where, const char *key, uint64_t *out,
		     char *why, size_t why_len)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
		return mirror_fail(-EINVAL, why, why_len,
				   "mirror-emu's counters: %s%s is %s, not a count", where, key,
				   json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
									 JSON_C_TO_STRING_NOSLASHESCAPE));
	*out = (uint64_t)json_object_get_int64(v);
	return 1;
}

static int need_count(struct json_object *o, const char *where, const char *key, uint64_t *out,
		      char *why, size_t why_len)
{
	int rc = get_count(o, where, key, out, why, why_len);
	if (rc == 0)
		return mirror_fail(-EINVAL, why, why_len, "mirror-emu's counters lack %s%s", where, key);
	return rc < 0 ? rc : 0;
}

/* An object at o.key: 1 and *out, 0 if absent, -EINVAL if not an object. */
static int get_object(struct json_object *o, const char *where, const char *key,
		      struct json_object **out, char *why, size_t why_len)
{
	if (!json_object_object_get_ex(o, key, out))
		return 0;
	if (!json_object_is_type(*out, json_type_object))
		return mirror_fail(-EINVAL, why, why_len,
				   "mirror-emu's counters: %s%s is not an object", where, key);
	return 1;
}

static int parse_kind(struct json_object *k, const char *name, struct mirror_stats_kind *out,
		      char *why, size_t why_len)
{
	char where[64], bwhere[72];
	struct json_object *b;
	int rc;

	snprintf(where, sizeof(where), "kinds.%s.", name);
	snprintf(bwhere, sizeof(bwhere), "kinds.%s.bytes.", name);
	rc = get_object(k, where, "bytes", &b, why, why_len);
	if (rc < 0)
		return rc;
	for (size_t f = 0; f < NELEM(kind_fields); f++) {
		uint64_t *dst = FIELD(out, kind_fields[f].offset);
		if (kind_fields[f].in_bytes && rc == 0)
			return mirror_fail(-EINVAL, why, why_len, "mirror-emu's counters lack %sbytes",
					   where);
		int r = kind_fields[f].in_bytes ? need_count(b, bwhere, kind_fields[f].key, dst, why, why_len)
						: need_count(k, where, kind_fields[f].key, dst, why, why_len);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_sense(struct json_object *cc, struct mirror_stats *s, char *why, size_t why_len)
{
	json_object_object_foreach(cc, key, v) {
		(void)v;
		if (s->nsense == MIRROR_STATS_SENSE_MAX)
			return mirror_fail(-EINVAL, why, why_len,
					   "mirror-emu's counters: check_conditions has more than %d keys",
					   MIRROR_STATS_SENSE_MAX);
		/* cut to fit, two long names could become one */
		if (strlen(key) >= sizeof(s->sense[0].name))
			return mirror_fail(-EINVAL, why, why_len,
					   "mirror-emu's counters: check_conditions key '%.16s...' is "
					   "longer than %zu bytes", key, sizeof(s->sense[0].name) - 1);
		int rc = need_count(cc, "check_conditions.", key, &s->sense[s->nsense].n, why, why_len);
		if (rc < 0)
			return rc;
		snprintf(s->sense[s->nsense].name, sizeof(s->sense[0].name), "%s", key);
		s->nsense++;
	}
	return 0;
}

int mirror_stats_parse(struct json_object *o, struct mirror_stats *s, char *why, size_t why_len)
{
	struct json_object *kinds, *x;
	int rc;

	memset(s, 0, sizeof(*s));
	if (!o || !json_object_is_type(o, json_type_object))
		return mirror_fail(-EINVAL, why, why_len, "mirror-emu's counters are not a JSON object");
	rc = get_object(o, "", "kinds", &kinds, why, why_len);
	if (rc <= 0)
		return rc < 0 ? rc : mirror_fail(-EINVAL, why, why_len, "mirror-emu's counters lack kinds");
	for (unsigned i = 0; i < MIRROR_RX_KINDS; i++) {
		rc = get_object(kinds, "kinds.", kind_names[i], &x, why, why_len);
		if (rc < 0)
			return rc;
		if (rc == 0) {
			/* the mirror paths are what every reader is after */
			if (i == MIRROR_RX_KIND_SMALL || i == MIRROR_RX_KIND_LARGE)
				return mirror_fail(-EINVAL, why, why_len,
						   "mirror-emu's counters lack kinds.%s", kind_names[i]);
			continue;
		}
		rc = parse_kind(x, kind_names[i], &s->kind[i], why, why_len);
		if (rc < 0)
			return rc;
		s->have_kind[i] = true;
	}
	for (size_t f = 0; f < NELEM(top_fields); f++)
		if ((rc = get_count(o, "", top_fields[f].key, FIELD(s, top_fields[f].offset), why,
				    why_len)) < 0)
			return rc;
	rc = get_object(o, "", "check_conditions", &x, why, why_len);
	if (rc < 0 || (rc > 0 && (rc = parse_sense(x, s, why, why_len)) < 0))
		return rc;
	rc = get_object(o, "", "sequence", &x, why, why_len);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		for (size_t f = 0; f < NELEM(seq_fields); f++)
			if ((rc = need_count(x, "sequence.", seq_fields[f].key,
					     FIELD(s, seq_fields[f].offset), why, why_len)) < 0)
				return rc;
		s->have_sequence = true;
	}
	rc = get_count(o, "", "table_generation", &s->table_generation, why, why_len);
	if (rc < 0)
		return rc;
	/* the writer puts the two together: one alone would not read back */
	if (rc > 0 && !s->have_sequence)
		return mirror_fail(-EINVAL, why, why_len,
				   "mirror-emu's counters: table_generation without sequence");
	return 0;
}

int mirror_stats_parse_text(const char *text, struct mirror_stats *s, char *why, size_t why_len)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o;
	int rc;

	memset(s, 0, sizeof(*s));
	if (!tok)
		return mirror_fail(-ENOMEM, why, why_len, "out of memory");
	o = json_tokener_parse_ex(tok, text, (int)strlen(text));
	enum json_tokener_error e = json_tokener_get_error(tok);
	if (!o || e != json_tokener_success) {
		rc = mirror_fail(-EPROTO, why, why_len, "mirror-emu's counters are not JSON: %s at byte %zu",
				 json_tokener_error_desc(e == json_tokener_success ? json_tokener_error_parse_eof : e),
				 json_tokener_get_parse_end(tok));
		json_object_put(o);
	} else {
		rc = mirror_stats_parse(o, s, why, why_len);
		json_object_put(o);
	}
	json_tokener_free(tok);
	return rc;
}
