/* Every reference trace (the .pcap files of traces/) cut short, in memory, at every
 * byte of the 24-byte global header and, for every packet, at its record
 * header's first byte (a shorter but whole capture), at three bytes inside
 * that 16-byte header, at its end (no data yet) and in the middle of its
 * data.  A whole capture decodes (0, the packets before
 * the cut); a cut record is -EIO with "packet N" (the record that was cut)
 * in the message and the packets before it counted; a cut global header
 * is refused with nothing decoded.  The command's side (exit status,
 * message, the partial summary printed) is tests/truncated-traces.test. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mirror/dissect_run.h>
#include <mirror/profile.h>

#include "testutil.h"

#define GLOBAL_HDR 24u
#define RECORD_HDR 16u

static const char *const traces[] = { "digests", "errors", "large",  "maxburst",
				       "mixed",   "modern", "small", "split" };

struct trace {
	uint8_t *data;
	size_t len;
	size_t *rec; /* offsets of the record headers */
	size_t nrec;
};

static void load(const char *name, struct trace *t)
{
	const char *top = getenv("top_srcdir");
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/traces/%s.pcap", top ? top : ".", name);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	t->len = (size_t)ftell(f);
	rewind(f);
	t->data = malloc(t->len);
	ck_assert(t->data != NULL);
	ck_assert_uint_eq(fread(t->data, 1, t->len, f), t->len);
	fclose(f);
	/* classic pcap, little-endian (what record.sh writes) */
	ck_assert_uint_eq(t->data[0], 0xd4);
	t->rec = malloc(sizeof(*t->rec) * (t->len / RECORD_HDR + 1));
	t->nrec = 0;
	for (size_t o = GLOBAL_HDR; o + RECORD_HDR <= t->len;) {
		const uint8_t *h = t->data + o + 8;
		uint32_t incl = (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 |
				(uint32_t)h[3] << 24;
		t->rec[t->nrec++] = o;
		o += RECORD_HDR + incl;
	}
}

static void count_op(void *ctx, const struct mirror_dissect_op *op)
{
	(void)op;
	(*(uint64_t *)ctx)++;
}

/* The first n bytes of t through mirror_dissect_run; its code, stats and
 * the operations it reported. */
static int run_cut(const struct trace *t, const struct mirror_profile *p, size_t n,
		   struct mirror_dissect_run_stats *st, uint64_t *ops)
{
	struct mirror_dissect_run_opts o;

	memset(&o, 0, sizeof(o));
	memset(st, 0, sizeof(*st));
	o.path = "cut.pcap";
	o.dissect.profile = p;
	o.fp = fmemopen(t->data, n, "r");
	ck_assert_msg(o.fp != NULL, "fmemopen %zu: %s", n, strerror(errno));
	*ops = 0;
	return mirror_dissect_run(&o, count_op, ops, st);
}

START_TEST(test_every_cut)
{
	const char *name = traces[_i];
	struct mirror_profile p;
	struct mirror_dissect_run_stats st;
	struct trace t;
	uint64_t ops, all_ops;
	unsigned cuts = 0;
	int rc;

	ck_assert_int_eq(mirror_profile_by_name("v1", &p), 0);
	load(name, &t);
	ck_assert_uint_gt(t.nrec, 0);
	rc = run_cut(&t, &p, t.len, &st, &all_ops);
	ck_assert_msg(rc == 0, "%s whole: %d %s", name, rc, st.error);
	ck_assert_uint_eq(st.capture.packets, t.nrec);

	/* the global header: not a capture, nothing decoded (fmemopen
	 * refuses 0 bytes: the command's test has the empty file) */
	for (size_t n = 1; n < GLOBAL_HDR; n++, cuts++) {
		rc = run_cut(&t, &p, n, &st, &ops);
		ck_assert_msg(rc < 0, "%s cut at %zu: %d", name, n, rc);
		ck_assert_uint_eq(st.capture.packets, 0);
		ck_assert_uint_eq(ops, 0);
	}
	for (size_t i = 0; i < t.nrec; i++) {
		size_t at = t.rec[i];
		size_t end = i + 1 < t.nrec ? t.rec[i + 1] : t.len;
		size_t inside[] = { at + 1, at + 8, at + RECORD_HDR - 1, at + RECORD_HDR,
				    at + RECORD_HDR + (end - at - RECORD_HDR) / 2 };
		char want[32];

		/* a record boundary: a whole, shorter capture */
		rc = run_cut(&t, &p, at, &st, &ops);
		ck_assert_msg(rc == 0, "%s cut at %zu (before packet %zu): %d %s", name, at, i + 1,
			      rc, st.error);
		ck_assert_uint_eq(st.capture.packets, i);
		ck_assert_uint_le(ops, all_ops);
		cuts++;
		snprintf(want, sizeof(want), "packet %zu:", i + 1);
		for (size_t k = 0; k < sizeof(inside) / sizeof(inside[0]); k++) {
			if (inside[k] >= end || (k && inside[k] == inside[k - 1]))
				continue;
			rc = run_cut(&t, &p, inside[k], &st, &ops);
			ck_assert_msg(rc == -EIO, "%s cut at %zu (in packet %zu): %d %s", name,
				      inside[k], i + 1, rc, st.error);
			ck_assert(st.file_error);
			ck_assert_msg(strstr(st.error, want) != NULL, "%s cut at %zu: '%s' lacks '%s'",
				      name, inside[k], st.error, want);
			ck_assert_uint_eq(st.capture.packets, i);
			ck_assert_uint_le(ops, all_ops);
			cuts++;
		}
	}
	fprintf(stderr, "%s: %zu packets, %u cuts\n", name, t.nrec, cuts);
	free(t.rec);
	free(t.data);
}
END_TEST

static Suite *truncated_suite(void)
{
	Suite *s = suite_create("truncated");
	TCase *tc = tcase_create("traces");

	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, test_every_cut, 0, (int)(sizeof(traces) / sizeof(traces[0])));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run_suite(truncated_suite());
}
