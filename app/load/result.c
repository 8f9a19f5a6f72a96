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

/* a counter that went backwards: the emulator restarted in between and
 * counts from zero */
static uint64_t since(uint64_t before, uint64_t after)
{
	return after >= before ? after - before : after;
}

int mirror_load_emu_delta(const struct mirror_stats *before, const struct mirror_stats *after,
			  struct mirror_load_emu_cost *out, char *why, size_t why_len)
{
	static const struct mirror_stats zero;

	memset(out, 0, sizeof(*out));
	if (!before)
		before = &zero;
	if (!after->have_sequence || (before != &zero && !before->have_sequence))
		return mirror_fail(-EINVAL, why, why_len,
				   "mirror-emu's counters lack sequence (not a mirror-emu stats socket?)");
	for (unsigned p = 0; p < 2; p++) {
		enum mirror_rx_kind k = mirror_stats_path_kind(p);
		const struct mirror_stats_kind *a = &after->kind[k], *b = &before->kind[k];
		out->path[p] = (struct mirror_stats_kind){
			.ops = since(b->ops, a->ops), .errors = since(b->errors, a->errors),
			.interrupts = since(b->interrupts, a->interrupts),
			/* extremes of the whole life: a difference means nothing */
			.interrupts_min = a->interrupts_min, .interrupts_max = a->interrupts_max,
			.cdb = since(b->cdb, a->cdb), .metadata = since(b->metadata, a->metadata),
			.data = since(b->data, a->data), .iscsi = since(b->iscsi, a->iscsi),
			.total = since(b->total, a->total),
		};
	}
	out->seq_gaps = since(before->seq_gaps, after->seq_gaps);
	out->seq_repeats = since(before->seq_repeats, after->seq_repeats);
	uint64_t cb = mirror_stats_check_conditions(before), ca = mirror_stats_check_conditions(after);
	out->check_conditions = ca >= cb ? ca - cb : 0;
	return 0;
}
