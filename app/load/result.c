/* mirror-load's results: commands counted by kind and outcome, and the
 * receiver's cost as the difference of two readings of mirror-emu's
 * counters.  Pure. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "app/load/load.h"
#include <mirror/sense.h>

#include "base/why.h"

static const char *const kind_names[MIRROR_LOAD_KINDS] = { "small", "large", "write10" };

const char *mirror_load_kind_name(enum mirror_load_kind k)
{
	return (unsigned)k < MIRROR_LOAD_KINDS ? kind_names[k] : "?";
}

void mirror_load_result_init(struct mirror_load_result *r)
{
	memset(r, 0, sizeof(*r));
}

void mirror_load_result_note(struct mirror_load_result *r, const char *fmt, ...)
{
	va_list ap;

	if (r->first_error[0])
		return;
	va_start(ap, fmt);
	vsnprintf(r->first_error, sizeof(r->first_error), fmt, ap);
	va_end(ap);
}

static void count_sense(struct mirror_load_result *r, const struct mirror_sense *s)
{
	for (unsigned i = 0; i < r->nsense; i++)
		if (r->sense[i].key == s->key && r->sense[i].asc == s->asc &&
		    r->sense[i].ascq == s->ascq) {
			r->sense[i].n++;
			return;
		}
	if (r->nsense == MIRROR_LOAD_SENSE_MAX) {
		r->sense_other++;
		return;
	}
	r->sense[r->nsense].key = s->key;
	r->sense[r->nsense].asc = s->asc;
	r->sense[r->nsense].ascq = s->ascq;
	r->sense[r->nsense].n = 1;
	r->nsense++;
}

void mirror_load_result_add(struct mirror_load_result *r, enum mirror_load_kind k,
			    const struct mirror_cmd *c, uint32_t data_bytes, uint32_t metadata_bytes,
			    const char *transport_error)
{
	struct mirror_load_kind_result *kr = &r->kind[k < MIRROR_LOAD_KINDS ? k : 0];

	r->ops++;
	kr->ops++;
	if (c->result < 0) {
		r->transport++;
		mirror_load_result_note(r, "%s op: %s", mirror_load_kind_name(k),
					transport_error ? transport_error : "transport failure");
		return;
	}
	mirror_hist_add(&r->lat, c->duration_ns);
	mirror_hist_add(&kr->lat, c->duration_ns);
	if (c->status == MIRROR_STATUS_GOOD) {
		/* GOOD with data-in to a data-out command: the target ran
		 * another command (a disk target takes 0xA0 for REPORT LUNS). */
		if (c->data_in_got) {
			r->data_in_unexpected++;
			mirror_load_result_note(r, "opcode 0x%02X answered GOOD with %u bytes of "
						"data-in: not a mirror receiver", c->cdb[0],
						(unsigned)c->data_in_got);
			return;
		}
		r->good++;
		kr->good++;
		kr->data_bytes += data_bytes;
		kr->metadata_bytes += metadata_bytes;
		kr->cdb_bytes += c->cdb_len;
		return;
	}
	if (c->status == MIRROR_STATUS_CHECK_CONDITION && c->sense_len) {
		char d[160];
		count_sense(r, &c->sense_parsed);
		mirror_sense_describe(&c->sense_parsed, d, sizeof(d));
		mirror_load_result_note(r, "opcode 0x%02X: %s", c->cdb[0], d);
		return;
	}
	r->status_other++;
	mirror_load_result_note(r, "opcode 0x%02X: status %s", c->cdb[0],
				mirror_status_name(c->status));
}

uint64_t mirror_load_result_errors(const struct mirror_load_result *r)
{
	uint64_t n = r->sense_other + r->status_other + r->transport + r->data_in_unexpected +
		     r->miscompares + r->verify_errors;

	for (unsigned i = 0; i < r->nsense; i++)
		n += r->sense[i].n;
	return n;
}

void mirror_load_result_merge(struct mirror_load_result *dst, const struct mirror_load_result *src)
{
	dst->writes += src->writes;
	dst->ops += src->ops;
	dst->good += src->good;
	for (unsigned k = 0; k < MIRROR_LOAD_KINDS; k++) {
		struct mirror_load_kind_result *d = &dst->kind[k];
		const struct mirror_load_kind_result *s = &src->kind[k];
		d->ops += s->ops;
		d->good += s->good;
		d->data_bytes += s->data_bytes;
		d->cdb_bytes += s->cdb_bytes;
		d->metadata_bytes += s->metadata_bytes;
		mirror_hist_merge(&d->lat, &s->lat);
	}
	mirror_hist_merge(&dst->lat, &src->lat);
	for (unsigned i = 0; i < src->nsense; i++) {
		struct mirror_sense s = { 0 };
		s.key = src->sense[i].key;
		s.asc = src->sense[i].asc;
		s.ascq = src->sense[i].ascq;
		for (uint64_t n = 0; n < src->sense[i].n; n++)
			count_sense(dst, &s);
	}
	dst->sense_other += src->sense_other;
	dst->status_other += src->status_other;
	dst->transport += src->transport;
	dst->data_in_unexpected += src->data_in_unexpected;
	dst->verified += src->verified;
	dst->readbacks += src->readbacks;
	dst->miscompares += src->miscompares;
	dst->verify_errors += src->verify_errors;
	if (src->elapsed_ns > dst->elapsed_ns)
		dst->elapsed_ns = src->elapsed_ns;
	if (!dst->first_error[0] && src->first_error[0])
		memcpy(dst->first_error, src->first_error, sizeof(dst->first_error));
}

/* ---- mirror-emu's counters ---- */

/* The unsigned integer at obj.k1.k2...; -EINVAL if absent. */
static int get_u64(struct json_object *obj, const char *const *path, unsigned n, uint64_t *out)
{
	for (unsigned i = 0; i < n; i++)
		if (!obj || !json_object_object_get_ex(obj, path[i], &obj))
			return -EINVAL;
	if (!json_object_is_type(obj, json_type_int))
		return -EINVAL;
	*out = (uint64_t)json_object_get_int64(obj);
	return 0;
}

/* The counters of one path, as a table of (JSON key, field). */
struct emu_field {
	const char *key; /* under kinds.<path>. or kinds.<path>.bytes. */
	bool in_bytes;
	size_t offset;
};
static const struct emu_field emu_fields[] = {
	{ "ops", false, offsetof(struct mirror_load_emu_path, ops) },
	{ "interrupts", false, offsetof(struct mirror_load_emu_path, interrupts) },
	{ "cdb", true, offsetof(struct mirror_load_emu_path, cdb) },
	{ "metadata", true, offsetof(struct mirror_load_emu_path, metadata) },
	{ "data", true, offsetof(struct mirror_load_emu_path, data) },
	{ "iscsi", true, offsetof(struct mirror_load_emu_path, iscsi) },
	{ "total", true, offsetof(struct mirror_load_emu_path, total) },
};

static int delta_one(struct json_object *before, struct json_object *after, const char *const *path,
		     unsigned n, uint64_t *out, char *why, size_t why_len)
{
	uint64_t a, b = 0;

	if (get_u64(after, path, n, &a) < 0 || (before && get_u64(before, path, n, &b) < 0))
		return mirror_fail(-EINVAL, why, why_len,
				   "mirror-emu's counters lack %s%s%s%s%s (not a mirror-emu stats socket?)",
				   path[0], n > 1 ? "." : "", n > 1 ? path[1] : "", n > 2 ? "." : "",
				   n > 2 ? path[2] : "");
	/* an emulator restarted in between counts from zero */
	*out = a >= b ? a - b : a;
	return 0;
}

int mirror_load_emu_delta(struct json_object *before, struct json_object *after,
			  struct mirror_load_emu_cost *out, char *why, size_t why_len)
{
	memset(out, 0, sizeof(*out));
	for (unsigned p = 0; p < 2; p++) {
		const char *pname = p == MIRROR_PATH_SMALL ? "small" : "large";
		for (size_t i = 0; i < sizeof(emu_fields) / sizeof(emu_fields[0]); i++) {
			const struct emu_field *f = &emu_fields[i];
			const char *path[4] = { "kinds", pname, f->in_bytes ? "bytes" : f->key, f->key };
			uint64_t *dst = (uint64_t *)((char *)&out->path[p] + f->offset);
			int rc = f->in_bytes ? delta_one(before, after, path, 4, dst, why, why_len)
					     : delta_one(before, after, path, 3, dst, why, why_len);
			if (rc < 0)
				return rc;
		}
	}
	static const char *const gaps[] = { "sequence", "gaps" };
	static const char *const repeats[] = { "sequence", "repeats" };
	if (delta_one(before, after, gaps, 2, &out->seq_gaps, why, why_len) < 0 ||
	    delta_one(before, after, repeats, 2, &out->seq_repeats, why, why_len) < 0)
		return -EINVAL;
	/* check_conditions: an object of counts by sense; sum them */
	struct json_object *cc;
	for (int side = 0; side < 2; side++) {
		struct json_object *root = side ? before : after;
		if (!root || !json_object_object_get_ex(root, "check_conditions", &cc))
			continue;
		uint64_t sum = 0;
		json_object_object_foreach(cc, k, v) {
			(void)k;
			if (json_object_is_type(v, json_type_int))
				sum += (uint64_t)json_object_get_int64(v);
		}
		if (side == 0)
			out->check_conditions = sum;
		else
			out->check_conditions = out->check_conditions >= sum
							? out->check_conditions - sum : 0;
	}
	return 0;
}
