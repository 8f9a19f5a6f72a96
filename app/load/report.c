/* mirror-load's reports: text and JSON of one run, and of the difference
 * between the two runs of --path ab.  Renderers write only to the stream
 * they are given. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "app/load/load.h"
#include <mirror/sense.h>

/* The percentiles reported, with their JSON names. */
static const struct {
	double p;
	const char *name;
} pcts[] = { { 50.0, "p50" }, { 90.0, "p90" }, { 99.0, "p99" }, { 99.9, "p99_9" } };
#define NPCTS (sizeof(pcts) / sizeof(pcts[0]))

static double secs_of(const struct mirror_load_result *r)
{
	return (double)r->elapsed_ns / 1e9;
}

static double per_sec(uint64_t n, const struct mirror_load_result *r)
{
	return r->elapsed_ns ? (double)n / secs_of(r) : 0.0;
}

static uint64_t data_bytes(const struct mirror_load_result *r)
{
	uint64_t n = 0;

	for (unsigned k = 0; k < MIRROR_LOAD_KINDS; k++)
		n += r->kind[k].data_bytes;
	return n;
}

static double ratio(double num, double den)
{
	return den > 0 ? num / den : 0.0;
}

/* The receiver's overhead: every byte but the user data. */
static uint64_t emu_overhead(const struct mirror_stats_kind *p)
{
	return p->cdb + p->metadata + p->iscsi;
}

static void print_lat_row(FILE *out, const char *name, uint64_t ops, double mbs,
			  const struct mirror_hist *h)
{
	fprintf(out, "%-8s %9" PRIu64 " %8.2f", name, ops, mbs);
	for (size_t i = 0; i < NPCTS; i++)
		fprintf(out, " %8.0f", mirror_hist_percentile(h, pcts[i].p));
	fprintf(out, " %8.0f\n", (double)h->max_ns / 1000.0);
}

static void print_receiver(FILE *out, const char *title, const struct mirror_load_emu_cost *c)
{
	fprintf(out, "receiver (%s)\n", title);
	fprintf(out, "%-8s %9s %13s %8s %9s %9s %8s %9s\n", "path", "ops", "interrupts/op",
		"cdb B/op", "meta B/op", "data B/op", "iscsi B/op", "total B/op");
	for (unsigned p = 0; p < 2; p++) {
		const struct mirror_stats_kind *e = &c->path[p];
		double n = (double)e->ops;
		if (!e->ops)
			continue;
		fprintf(out, "%-8s %9" PRIu64 " %13.2f %8.0f %9.0f %9.0f %8.0f %9.0f\n",
			mirror_path_name((enum mirror_path)p), e->ops, (double)e->interrupts / n,
			(double)e->cdb / n, (double)e->metadata / n, (double)e->data / n,
			(double)e->iscsi / n, (double)e->total / n);
	}
	fprintf(out, "receiver: %" PRIu64 " CHECK CONDITIONs, %" PRIu64 " sequence gaps, %" PRIu64
		" repeats\n", c->check_conditions, c->seq_gaps, c->seq_repeats);
}

void mirror_load_report_print(FILE *out, const struct mirror_load_report *rep)
{
	const struct mirror_load_result *r = rep->r;

	fprintf(out, "%s: %" PRIu64 " writes, %" PRIu64 " ops in %.3f s: %.0f writes/s, "
		"%.0f ops/s, %.2f MB/s\n", rep->label, r->writes, r->ops, secs_of(r),
		per_sec(r->writes, r), per_sec(r->ops, r), per_sec(data_bytes(r), r) / 1e6);
	fprintf(out, "%-8s %9s %8s %8s %8s %8s %8s %8s\n", "kind", "ops", "MB/s", "p50 us",
		"p90 us", "p99 us", "p99.9 us", "max us");
	for (unsigned k = 0; k < MIRROR_LOAD_KINDS; k++)
		if (r->kind[k].ops)
			print_lat_row(out, mirror_load_kind_name(k), r->kind[k].ops,
				      per_sec(r->kind[k].data_bytes, r) / 1e6, &r->kind[k].lat);
	print_lat_row(out, "all", r->ops, per_sec(data_bytes(r), r) / 1e6, &r->lat);
	fprintf(out, "errors: %" PRIu64, mirror_load_result_errors(r));
	for (unsigned i = 0; i < r->nsense; i++)
		fprintf(out, ", %s %02Xh/%02Xh: %" PRIu64, mirror_sense_key_name(r->sense[i].key),
			r->sense[i].asc, r->sense[i].ascq, r->sense[i].n);
	if (r->sense_other)
		fprintf(out, ", other sense: %" PRIu64, r->sense_other);
	if (r->status_other)
		fprintf(out, ", other status: %" PRIu64, r->status_other);
	if (r->transport)
		fprintf(out, ", transport: %" PRIu64, r->transport);
	if (r->data_in_unexpected)
		fprintf(out, ", unexpected data-in: %" PRIu64, r->data_in_unexpected);
	if (r->miscompares)
		fprintf(out, ", miscompares: %" PRIu64, r->miscompares);
	if (r->verify_errors)
		fprintf(out, ", failed read-backs: %" PRIu64, r->verify_errors);
	fputc('\n', out);
	if (r->first_error[0])
		fprintf(out, "  first: %s\n", r->first_error);
	if (r->verified || r->readbacks)
		fprintf(out, "verify: %" PRIu64 " ops read back (%" PRIu64 " NVRAM READBACKs), %"
			PRIu64 " miscompares\n", r->verified, r->readbacks, r->miscompares);
	if (rep->emu)
		print_receiver(out, "mirror-emu's counters over the run", rep->emu);
	if (rep->capture) {
		char title[160];
		snprintf(title, sizeof(title), "capture on %s, %" PRIu64 " packets dropped by the kernel",
			 rep->capture_iface ? rep->capture_iface : "?", rep->capture_drops);
		print_receiver(out, title, rep->capture);
	}
}

static struct json_object *lat_json(const struct mirror_hist *h)
{
	struct json_object *j = json_object_new_object();

	json_object_object_add(j, "min", json_object_new_double((double)h->min_ns / 1000.0));
	for (size_t i = 0; i < NPCTS; i++)
		json_object_object_add(j, pcts[i].name,
				       json_object_new_double(mirror_hist_percentile(h, pcts[i].p)));
	json_object_object_add(j, "max", json_object_new_double((double)h->max_ns / 1000.0));
	json_object_object_add(j, "mean", json_object_new_double(mirror_hist_mean_us(h)));
	return j;
}

static struct json_object *u64(uint64_t v)
{
	return json_object_new_uint64(v);
}

static struct json_object *cost_json(const struct mirror_load_emu_cost *c)
{
	struct json_object *rx = json_object_new_object();

	for (unsigned p = 0; p < 2; p++) {
		const struct mirror_stats_kind *e = &c->path[p];
		struct json_object *o = json_object_new_object();
		struct json_object *b = json_object_new_object();
		double n = (double)e->ops;
		json_object_object_add(o, "ops", u64(e->ops));
		json_object_object_add(o, "interrupts", u64(e->interrupts));
		json_object_object_add(o, "interrupts_per_op",
				       json_object_new_double(ratio((double)e->interrupts, n)));
		json_object_object_add(b, "cdb", json_object_new_double(ratio((double)e->cdb, n)));
		json_object_object_add(b, "metadata",
				       json_object_new_double(ratio((double)e->metadata, n)));
		json_object_object_add(b, "data", json_object_new_double(ratio((double)e->data, n)));
		json_object_object_add(b, "iscsi", json_object_new_double(ratio((double)e->iscsi, n)));
		json_object_object_add(b, "total", json_object_new_double(ratio((double)e->total, n)));
		json_object_object_add(o, "bytes_per_op", b);
		json_object_object_add(rx, mirror_path_name((enum mirror_path)p), o);
	}
	json_object_object_add(rx, "check_conditions", u64(c->check_conditions));
	json_object_object_add(rx, "sequence_gaps", u64(c->seq_gaps));
	json_object_object_add(rx, "sequence_repeats", u64(c->seq_repeats));
	return rx;
}

struct json_object *mirror_load_report_json(const struct mirror_load_report *rep)
{
	const struct mirror_load_result *r = rep->r;
	struct json_object *j = json_object_new_object();
	struct json_object *kinds = json_object_new_object();
	struct json_object *err = json_object_new_object();
	struct json_object *sense = json_object_new_array();
	struct json_object *ver = json_object_new_object();

	json_object_object_add(j, "label", json_object_new_string(rep->label));
	json_object_object_add(j, "writes", u64(r->writes));
	json_object_object_add(j, "ops", u64(r->ops));
	json_object_object_add(j, "good", u64(r->good));
	json_object_object_add(j, "seconds", json_object_new_double(secs_of(r)));
	json_object_object_add(j, "writes_per_sec", json_object_new_double(per_sec(r->writes, r)));
	json_object_object_add(j, "ops_per_sec", json_object_new_double(per_sec(r->ops, r)));
	json_object_object_add(j, "mb_per_sec",
			       json_object_new_double(per_sec(data_bytes(r), r) / 1e6));
	json_object_object_add(j, "latency_us", lat_json(&r->lat));
	for (unsigned k = 0; k < MIRROR_LOAD_KINDS; k++) {
		const struct mirror_load_kind_result *kr = &r->kind[k];
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "ops", u64(kr->ops));
		json_object_object_add(o, "good", u64(kr->good));
		json_object_object_add(o, "data_bytes", u64(kr->data_bytes));
		json_object_object_add(o, "cdb_bytes", u64(kr->cdb_bytes));
		json_object_object_add(o, "metadata_bytes", u64(kr->metadata_bytes));
		json_object_object_add(o, "latency_us", lat_json(&kr->lat));
		json_object_object_add(kinds, mirror_load_kind_name(k), o);
	}
	json_object_object_add(j, "kinds", kinds);
	json_object_object_add(err, "total", u64(mirror_load_result_errors(r)));
	for (unsigned i = 0; i < r->nsense; i++) {
		struct json_object *s = json_object_new_object();
		json_object_object_add(s, "key", json_object_new_string(
							 mirror_sense_key_name(r->sense[i].key)));
		json_object_object_add(s, "asc", json_object_new_int(r->sense[i].asc));
		json_object_object_add(s, "ascq", json_object_new_int(r->sense[i].ascq));
		json_object_object_add(s, "count", u64(r->sense[i].n));
		json_object_array_add(sense, s);
	}
	json_object_object_add(err, "sense", sense);
	json_object_object_add(err, "sense_other", u64(r->sense_other));
	json_object_object_add(err, "other_status", u64(r->status_other));
	json_object_object_add(err, "transport", u64(r->transport));
	json_object_object_add(err, "data_in_unexpected", u64(r->data_in_unexpected));
	json_object_object_add(err, "first", r->first_error[0]
						     ? json_object_new_string(r->first_error) : NULL);
	json_object_object_add(j, "errors", err);
	json_object_object_add(ver, "ops", u64(r->verified));
	json_object_object_add(ver, "readbacks", u64(r->readbacks));
	json_object_object_add(ver, "miscompares", u64(r->miscompares));
	json_object_object_add(ver, "failed", u64(r->verify_errors));
	json_object_object_add(j, "verify", ver);
	json_object_object_add(j, "receiver", rep->emu ? cost_json(rep->emu) : NULL);
	struct json_object *cap = NULL;
	if (rep->capture) {
		cap = cost_json(rep->capture);
		json_object_object_add(cap, "interface", json_object_new_string(
								 rep->capture_iface ? rep->capture_iface : ""));
		json_object_object_add(cap, "kernel_drops", u64(rep->capture_drops));
	}
	json_object_object_add(j, "capture", cap);
	return j;
}

void mirror_load_ab_compare(const struct mirror_load_report *a, const struct mirror_load_report *b,
			    struct mirror_load_ab_diff *d)
{
	const struct mirror_load_report *side[2] = { a, b };

	memset(d, 0, sizeof(*d));
	/* the receiver's cost: its counters, else the capture's */
	const struct mirror_load_emu_cost *ca = a->emu ? a->emu : a->capture;
	const struct mirror_load_emu_cost *cb = b->emu ? b->emu : b->capture;
	const struct mirror_load_emu_cost *cost[2] = { ca, cb };
	d->have_emu = ca && cb;
	for (unsigned s = 0; s < 2; s++) {
		const struct mirror_load_result *r = side[s]->r;
		double w = (double)r->writes;
		uint64_t client = 0;
		for (unsigned k = 0; k < MIRROR_LOAD_KINDS; k++)
			client += r->kind[k].cdb_bytes + r->kind[k].metadata_bytes;
		d->writes[s] = r->writes;
		d->writes_per_sec[s] = per_sec(r->writes, r);
		d->p50_us[s] = mirror_hist_percentile(&r->lat, 50.0);
		d->p99_us[s] = mirror_hist_percentile(&r->lat, 99.0);
		d->client_overhead[s] = ratio((double)client, w);
		if (d->have_emu) {
			const struct mirror_load_emu_cost *e = cost[s];
			d->interrupts[s] = ratio((double)(e->path[0].interrupts +
							  e->path[1].interrupts), w);
			d->receiver_overhead[s] = ratio((double)(emu_overhead(&e->path[0]) +
								 emu_overhead(&e->path[1])), w);
		}
	}
	d->small_share = ratio((double)b->r->kind[MIRROR_LOAD_SMALL].ops, (double)b->r->ops);
}

void mirror_load_ab_print(FILE *out, const struct mirror_load_ab_diff *d)
{
	fprintf(out, "ab: the same stream all-large (a: %" PRIu64 " writes) and as Fig. 7 chooses "
		"(b: %" PRIu64 " writes, %.1f%% of its ops on the small path)\n", d->writes[0],
		d->writes[1], d->small_share * 100.0);
	if (d->have_emu) {
		fprintf(out, "  receiver interrupts per write   a %8.2f  b %8.2f  b saves %.2f\n",
			d->interrupts[0], d->interrupts[1], d->interrupts[0] - d->interrupts[1]);
		fprintf(out, "  receiver overhead B per write   a %8.0f  b %8.0f  b saves %.0f\n",
			d->receiver_overhead[0], d->receiver_overhead[1],
			d->receiver_overhead[0] - d->receiver_overhead[1]);
	}
	fprintf(out, "  CDB+metadata B per write        a %8.0f  b %8.0f  b saves %.0f\n",
		d->client_overhead[0], d->client_overhead[1],
		d->client_overhead[0] - d->client_overhead[1]);
	fprintf(out, "  writes/s                        a %8.0f  b %8.0f  b/a %.2fx\n",
		d->writes_per_sec[0], d->writes_per_sec[1],
		ratio(d->writes_per_sec[1], d->writes_per_sec[0]));
	fprintf(out, "  latency p50 us                  a %8.0f  b %8.0f  a/b %.2fx\n", d->p50_us[0],
		d->p50_us[1], ratio(d->p50_us[0], d->p50_us[1]));
	fprintf(out, "  latency p99 us                  a %8.0f  b %8.0f  a/b %.2fx\n", d->p99_us[0],
		d->p99_us[1], ratio(d->p99_us[0], d->p99_us[1]));
}

static struct json_object *pair(double a, double b)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "a", json_object_new_double(a));
	json_object_object_add(o, "b", json_object_new_double(b));
	json_object_object_add(o, "saved", json_object_new_double(a - b));
	return o;
}

struct json_object *mirror_load_ab_json(const struct mirror_load_ab_diff *d)
{
	struct json_object *j = json_object_new_object();

	json_object_object_add(j, "small_share", json_object_new_double(d->small_share));
	json_object_object_add(j, "interrupts_per_write",
			       d->have_emu ? pair(d->interrupts[0], d->interrupts[1]) : NULL);
	json_object_object_add(j, "receiver_overhead_bytes_per_write",
			       d->have_emu ? pair(d->receiver_overhead[0], d->receiver_overhead[1])
					   : NULL);
	json_object_object_add(j, "client_overhead_bytes_per_write",
			       pair(d->client_overhead[0], d->client_overhead[1]));
	json_object_object_add(j, "writes_per_sec_ratio",
			       json_object_new_double(ratio(d->writes_per_sec[1], d->writes_per_sec[0])));
	json_object_object_add(j, "p50_ratio", json_object_new_double(ratio(d->p50_us[0], d->p50_us[1])));
	json_object_object_add(j, "p99_ratio", json_object_new_double(ratio(d->p99_us[0], d->p99_us[1])));
	return j;
}
