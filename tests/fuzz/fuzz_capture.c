/* libFuzzer target: the capture path of mirror-dissect.
 *
 * Byte 0 selects the mode and the decoder's options:
 *   bit 0 clear: pcap mode.  Bytes 1-2 are the target port (big-endian,
 *     0 means 3260); the rest is a pcap/pcapng file, read through fmemopen
 *     and mirror_dissect_run (libpcap -> link/IP/TCP decode -> TCP
 *     reassembly -> iSCSI dissect), every operation added to a summary,
 *     formatted as JSON, and the summary formatted at the end.
 *   bit 0 set: stream mode.  The rest is records fed straight to one
 *     mirror_dissect_conn: a control byte c, then
 *       (c & 6) == 6: a gap in direction c & 1 of (next byte) << (c >> 3)
 *                     bytes (0: a forced resync);
 *       otherwise:    a chunk for direction c & 1 of ((next byte) + 1) <<
 *                     ((c >> 3) & 7) bytes, taken from what follows (cut
 *                     at the end of the input), with packet number and
 *                     time moving on and (c >> 6) * 20 header bytes.
 *   bit 1: HeaderDigest assumed, bit 2: DataDigest assumed, bit 3: a small
 *   MaxRecvDataSegmentLength (512) both ways, bit 4: 4 open tasks at most.
 * Properties: no crash, no sanitizer report, no hang (libFuzzer -timeout),
 * the accounting sums stay consistent (ops counted = ops seen). */
#include <errno.h>

#include <json-c/json.h>

#include <mirror/dissect.h>
#include <mirror/dissect_run.h>

#include "fuzz_common.h"

struct fz {
	struct mirror_dissect_summary summary;
	uint64_t ops;
	uint64_t last_pos;
};

static void on_op(void *ctx, const struct mirror_dissect_op *op)
{
	struct fz *f = ctx;
	struct json_object *j;

	f->ops++;
	mirror_dissect_summary_add(&f->summary, op);
	j = mirror_dissect_op_json(op);
	if (!j)
		abort();
	(void)json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN);
	json_object_put(j);
}

static void on_progress(void *ctx, uint64_t bytes_read, uint64_t total)
{
	struct fz *f = ctx;

	(void)total;
	if (bytes_read < f->last_pos) /* the position never goes back */
		abort();
	f->last_pos = bytes_read;
}

static void set_options(struct mirror_dissect_options *o, uint8_t sel)
{
	memset(o, 0, sizeof(*o));
	o->header_digest = sel & 2;
	o->data_digest = sel & 4;
	if (sel & 8)
		o->target_max_recv_dsl = o->initiator_max_recv_dsl = 512;
	if (sel & 16)
		o->max_tasks = 4;
}

static void run_pcap(struct fz *f, uint8_t sel, const uint8_t *d, size_t n)
{
	struct mirror_dissect_run_opts ro;
	struct mirror_dissect_run_stats st;
	struct json_object *j;
	char *copy;
	FILE *fp;
	int rc;

	if (n < 2)
		return;
	memset(&ro, 0, sizeof(ro));
	set_options(&ro.dissect, sel);
	ro.target_port = (uint16_t)(d[0] << 8 | d[1]);
	d += 2;
	n -= 2;
	if (n == 0)
		return; /* fmemopen of nothing fails: not the decoder's business */
	copy = malloc(n);
	if (!copy)
		abort();
	memcpy(copy, d, n);
	fp = fmemopen(copy, n, "rb");
	if (!fp)
		abort();
	ro.path = "fuzz";
	ro.fp = fp;
	ro.progress = on_progress;
	ro.progress_ctx = f;
	rc = mirror_dissect_run(&ro, on_op, f, &st);
	/* fp is closed by the run, whatever it returned */
	if (rc == 0 || rc == -EIO /* results so far */) {
		if (f->summary.ops != f->ops)
			abort();
		j = mirror_dissect_summary_json(&f->summary, &st);
		if (!j)
			abort();
		(void)json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN);
		json_object_put(j);
		if (f->last_pos > n)
			abort();
	} else if (f->ops) {
		abort(); /* a file that did not open decoded nothing */
	}
	free(copy);
}

static void run_stream(struct fz *f, uint8_t sel, const uint8_t *d, size_t n)
{
	struct mirror_dissect_options o;
	struct mirror_dissect_conn *c;
	struct mirror_dissect_stats s;
	uint64_t pkt = 0, t = 1000000000u;
	size_t i = 0;

	set_options(&o, sel);
	c = mirror_dissect_conn_new(&o, 1, on_op, f);
	if (!c)
		abort();
	while (i + 1 < n) {
		uint8_t ctl = d[i], arg = d[i + 1];
		enum mirror_dissect_dir dir = (ctl & 1) ? MIRROR_DISSECT_T2I : MIRROR_DISSECT_I2T;

		i += 2;
		pkt++;
		t += 1000u * (ctl >> 3);
		if ((ctl & 6) == 6) {
			mirror_dissect_gap(c, dir, (uint64_t)arg << (ctl >> 3));
			continue;
		}
		size_t len = ((size_t)arg + 1) << ((ctl >> 3) & 7);
		if (len > n - i)
			len = n - i;
		if (mirror_dissect_feed(c, dir, d + i, len, pkt, t, (uint32_t)(ctl >> 6) * 20u) < 0)
			abort(); /* -ENOMEM: bounded buffers, cannot happen here */
		i += len;
	}
	mirror_dissect_get_stats(c, &s);
	mirror_dissect_finish(c);
	mirror_dissect_conn_free(c);
	if (f->summary.ops != f->ops)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static struct fz f; /* the summary holds histograms: not on the stack */
	if (n < 1)
		return 0;
	memset(&f, 0, sizeof(f));
	mirror_dissect_summary_init(&f.summary, NULL);
	if (d[0] & 1)
		run_stream(&f, d[0], d + 1, n - 1);
	else
		run_pcap(&f, d[0], d + 1, n - 1);
	return 0;
}
