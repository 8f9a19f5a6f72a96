/* The project's capture file reader (lib/capture/pcap_file.c) through the
 * public capture API: classic pcap in both byte orders with the microsecond
 * and nanosecond magic, pcapng with several interfaces, snaplens, time
 * resolutions, sections and block kinds, the damaged records it must name
 * by packet number, the same segments as libpcap on every reference trace
 * (mapped file and read buffer both, and the traces rewritten as pcapng),
 * and a file several windows long read with flat memory. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include <mirror/capture.h>

#include "testutil.h"

/* ---- a byte buffer written in either byte order ---- */

struct bb {
	uint8_t *p;
	size_t n, cap;
	bool be;
};

static void bb_put(struct bb *b, const void *d, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		ck_assert_ptr_nonnull(b->p);
	}
	if (n)
		memcpy(b->p + b->n, d, n);
	b->n += n;
}

static void bb_u16(struct bb *b, uint16_t v)
{
	uint8_t x[2] = { (uint8_t)(b->be ? v >> 8 : v), (uint8_t)(b->be ? v : v >> 8) };

	bb_put(b, x, 2);
}

static void bb_u32(struct bb *b, uint32_t v)
{
	uint8_t x[4];

	for (int i = 0; i < 4; i++)
		x[b->be ? 3 - i : i] = (uint8_t)(v >> (8 * i));
	bb_put(b, x, 4);
}

static void bb_pad4(struct bb *b)
{
	static const uint8_t z[4];

	bb_put(b, z, (4 - b->n % 4) % 4);
}

static uint32_t get_le(const uint8_t *p, int n)
{
	uint32_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* ---- packets: raw IPv4 (LINKTYPE_RAW) TCP with a numbered payload ---- */

#define LT_RAW 101u
#define PKT_HDR 40u

static size_t make_pkt(uint8_t *p, uint32_t seq, uint32_t payload)
{
	size_t n = PKT_HDR + payload;

	memset(p, 0, PKT_HDR);
	p[0] = 0x45;
	p[2] = (uint8_t)(n >> 8);
	p[3] = (uint8_t)n;
	p[8] = 64;
	p[9] = 6;
	p[12] = 10, p[15] = 1;
	p[16] = 10, p[19] = 2;
	p[20] = 0x30, p[21] = 0x39; /* port 12345 */
	p[22] = 0x0c, p[23] = 0xbc; /* port 3260 */
	for (int i = 0; i < 4; i++)
		p[24 + i] = (uint8_t)(seq >> (24 - 8 * i));
	p[32] = 0x50;
	p[33] = 0x18;
	for (uint32_t i = 0; i < payload; i++)
		p[PKT_HDR + i] = (uint8_t)(seq + i * 7);
	return n;
}

/* ---- writers ---- */

static void classic_hdr(struct bb *b, bool nsec, uint32_t snaplen, uint32_t lt)
{
	bb_u32(b, nsec ? 0xa1b23c4du : 0xa1b2c3d4u);
	bb_u16(b, 2);
	bb_u16(b, 4);
	bb_u32(b, 0);
	bb_u32(b, 0);
	bb_u32(b, snaplen);
	bb_u32(b, lt);
}

static void classic_rec(struct bb *b, uint32_t sec, uint32_t frac, const uint8_t *d,
			uint32_t caplen, uint32_t len)
{
	bb_u32(b, sec);
	bb_u32(b, frac);
	bb_u32(b, caplen);
	bb_u32(b, len);
	bb_put(b, d, caplen);
}

/* a block: type, length, body (padded), length */
static void ng_block(struct bb *b, uint32_t type, const struct bb *body)
{
	uint32_t len = 12 + (uint32_t)((body->n + 3) & ~(size_t)3);

	bb_u32(b, type);
	bb_u32(b, len);
	bb_put(b, body->p, body->n);
	bb_pad4(b);
	bb_u32(b, len);
}

static void ng_shb(struct bb *b)
{
	struct bb s = { .be = b->be };

	bb_u32(&s, 0x1a2b3c4du);
	bb_u16(&s, 1);
	bb_u16(&s, 0);
	bb_u32(&s, 0xffffffffu); /* section length unknown */
	bb_u32(&s, 0xffffffffu);
	ng_block(b, 0x0a0d0d0au, &s);
	free(s.p);
}

/* tsresol < 0: the option absent; offset != 0: if_tsoffset */
static void ng_idb(struct bb *b, uint32_t lt, uint32_t snaplen, int tsresol, int64_t offset)
{
	struct bb s = { .be = b->be };

	bb_u16(&s, (uint16_t)lt);
	bb_u16(&s, 0);
	bb_u32(&s, snaplen);
	if (tsresol >= 0) {
		uint8_t v = (uint8_t)tsresol;

		bb_u16(&s, 9);
		bb_u16(&s, 1);
		bb_put(&s, &v, 1);
		bb_pad4(&s);
	}
	if (offset) {
		bb_u16(&s, 14);
		bb_u16(&s, 8);
		if (s.be) {
			bb_u32(&s, (uint32_t)((uint64_t)offset >> 32));
			bb_u32(&s, (uint32_t)offset);
		} else {
			bb_u32(&s, (uint32_t)offset);
			bb_u32(&s, (uint32_t)((uint64_t)offset >> 32));
		}
	}
	bb_u16(&s, 0); /* opt_endofopt */
	bb_u16(&s, 0);
	ng_block(b, 1, &s);
	free(s.p);
}

static void ng_epb(struct bb *b, uint32_t ifno, uint64_t ts, const uint8_t *d, uint32_t caplen,
		   uint32_t len)
{
	struct bb s = { .be = b->be };

	bb_u32(&s, ifno);
	bb_u32(&s, (uint32_t)(ts >> 32));
	bb_u32(&s, (uint32_t)ts);
	bb_u32(&s, caplen);
	bb_u32(&s, len);
	bb_put(&s, d, caplen);
	ng_block(b, 6, &s);
	free(s.p);
}

static void ng_spb(struct bb *b, const uint8_t *d, uint32_t len)
{
	struct bb s = { .be = b->be };

	bb_u32(&s, len);
	bb_put(&s, d, len);
	ng_block(b, 3, &s);
	free(s.p);
}

static void ng_pb(struct bb *b, uint16_t ifno, uint64_t ts, const uint8_t *d, uint32_t caplen)
{
	struct bb s = { .be = b->be };

	bb_u16(&s, ifno);
	bb_u16(&s, 0);
	bb_u32(&s, (uint32_t)(ts >> 32));
	bb_u32(&s, (uint32_t)ts);
	bb_u32(&s, caplen);
	bb_u32(&s, caplen);
	bb_put(&s, d, caplen);
	ng_block(b, 2, &s);
	free(s.p);
}

/* ---- reading: the segments, by our reader or by libpcap ---- */

struct rec {
	uint64_t ts_ns, pkt_no;
	uint32_t seq, payload_len, payload_lost, wire_len;
	uint32_t sum; /* of the payload bytes */
};

struct got {
	struct rec *r;
	size_t n, cap;
	int rc;         /* of the last mirror_capture_next: 0, or an error */
	char err[256];  /* its message */
	struct mirror_cap_stats st;
};

static void got_add(struct got *g, const struct mirror_cap_segment *s)
{
	struct rec r;

	memset(&r, 0, sizeof(r)); /* the padding too: records compare with memcmp */
	r.ts_ns = s->ts_ns;
	r.pkt_no = s->pkt_no;
	r.seq = s->seq;
	r.payload_len = s->payload_len;
	r.payload_lost = s->payload_lost;
	r.wire_len = s->wire_len;

	for (uint32_t i = 0; i < s->payload_len; i++)
		r.sum = r.sum * 31 + s->payload[i];
	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 64;
		g->r = realloc(g->r, g->cap * sizeof(*g->r));
		ck_assert_ptr_nonnull(g->r);
	}
	g->r[g->n++] = r;
}

/* Through mirror_capture_open_fp: a real file (mapped) or the bytes in
 * memory (fmemopen: the read buffer).  Returns the open's code. */
static int read_ours(FILE *f, struct got *g)
{
	struct mirror_capture *c;
	struct mirror_cap_segment seg;
	int rc;

	memset(g, 0, sizeof(*g));
	rc = mirror_capture_open_fp(&c, f, "test", g->err, sizeof(g->err));
	if (rc < 0)
		return rc;
	memset(&seg, 0, sizeof(seg));
	while ((rc = mirror_capture_next(c, &seg)) == 1)
		got_add(g, &seg);
	g->rc = rc;
	if (rc < 0)
		snprintf(g->err, sizeof(g->err), "%s", mirror_capture_error(c));
	g->st = *mirror_capture_stats(c);
	mirror_capture_close(c);
	return 0;
}

static int read_ours_mem(const struct bb *b, struct got *g)
{
	FILE *f = fmemopen(b->p, b->n, "rb");

	ck_assert_ptr_nonnull(f);
	return read_ours(f, g);
}

static char *write_tmp(const struct bb *b)
{
	static char path[64];
	int fd;

	strcpy(path, "/tmp/check_capture_file_XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, b->p, b->n), (ssize_t)b->n);
	close(fd);
	return path;
}

static int read_ours_file(const char *path, struct got *g)
{
	FILE *f = fopen(path, "rb");

	ck_assert_ptr_nonnull(f);
	return read_ours(f, g);
}

/* libpcap's reading of the same file, decoded the same way. */
static void read_libpcap(const char *path, struct got *g)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	struct mirror_cap_segment seg;
	pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, ebuf);
	int rc;

	memset(g, 0, sizeof(*g));
	ck_assert_msg(p != NULL, "%s: %s", path, ebuf);
	while ((rc = pcap_next_ex(p, &h, &d)) == 1) {
		g->st.packets++;
		g->st.bytes += h->caplen;
		seg.ts_ns = (uint64_t)h->ts.tv_sec * 1000000000u + (uint64_t)h->ts.tv_usec;
		seg.pkt_no = g->st.packets;
		if (mirror_cap_decode(pcap_datalink(p), d, h->caplen, h->len, &seg) == MIRROR_CAP_TCP) {
			g->st.tcp_segments++;
			got_add(g, &seg);
		}
	}
	g->rc = rc == PCAP_ERROR_BREAK ? 0 : -EIO;
	pcap_close(p);
}

static void same(const struct got *a, const struct got *b, const char *what)
{
	ck_assert_msg(a->rc == b->rc, "%s: rc %d vs %d (%s)", what, a->rc, b->rc, a->err);
	ck_assert_msg(a->n == b->n, "%s: %zu vs %zu segments", what, a->n, b->n);
	ck_assert_uint_eq(a->st.packets, b->st.packets);
	ck_assert_uint_eq(a->st.bytes, b->st.bytes);
	ck_assert_uint_eq(a->st.tcp_segments, b->st.tcp_segments);
	for (size_t i = 0; i < a->n; i++)
		ck_assert_msg(memcmp(&a->r[i], &b->r[i], sizeof(a->r[i])) == 0,
			      "%s: segment %zu differs (ts %llu/%llu seq %u/%u len %u/%u)", what, i,
			      (unsigned long long)a->r[i].ts_ns, (unsigned long long)b->r[i].ts_ns,
			      a->r[i].seq, b->r[i].seq, a->r[i].payload_len, b->r[i].payload_len);
}

static void got_free(struct got *g)
{
	free(g->r);
	g->r = NULL;
}

/* ---- classic pcap: byte orders and magics ---- */

START_TEST(t_classic_orders)
{
	static uint8_t pkt[2000];
	struct got ref = { 0 }, g, lp;

	/* the same five packets, four ways: LE/BE x us/ns */
	for (int v = 0; v < 4; v++) {
		struct bb b = { .be = v & 1 };
		bool nsec = v & 2;

		classic_hdr(&b, nsec, 65535, LT_RAW);
		for (uint32_t i = 0; i < 5; i++) {
			uint32_t n = (uint32_t)make_pkt(pkt, 1000 + i * 100, 100 + i * 300);

			classic_rec(&b, 1700000000u + i, nsec ? 123456789u : 123456u, pkt, n, n);
		}
		ck_assert_int_eq(read_ours_mem(&b, &g), 0);
		ck_assert_int_eq(g.rc, 0);
		ck_assert_uint_eq(g.n, 5);
		for (uint32_t i = 0; i < 5; i++) {
			ck_assert_uint_eq(g.r[i].seq, 1000 + i * 100);
			ck_assert_uint_eq(g.r[i].payload_len, 100 + i * 300);
			ck_assert_uint_eq(g.r[i].pkt_no, i + 1);
			ck_assert_uint_eq(g.r[i].ts_ns, (1700000000ull + i) * 1000000000ull +
							    (nsec ? 123456789u : 123456000u));
		}
		if (v == 0)
			ref = g;
		else {
			/* the payloads: the same whatever the file's order */
			for (uint32_t i = 0; i < 5; i++)
				ck_assert_uint_eq(g.r[i].sum, ref.r[i].sum);
			got_free(&g);
		}
		/* the mapped file gives what the read buffer and libpcap give */
		char *path = write_tmp(&b);
		ck_assert_int_eq(read_ours_file(path, &g), 0);
		read_libpcap(path, &lp);
		same(&g, &lp, "classic: mapped vs libpcap");
		got_free(&g);
		got_free(&lp);
		unlink(path);
		free(b.p);
	}
	got_free(&ref);
}
END_TEST

/* A record longer than the snaplen is cut to it (as libpcap does); one past
 * libpcap's maximum is corrupt, named by its number. */
START_TEST(t_classic_snaplen)
{
	static uint8_t pkt[3000];
	struct bb b = { 0 };
	struct got g, lp;
	uint32_t n = (uint32_t)make_pkt(pkt, 7, 1000);

	classic_hdr(&b, false, 300, LT_RAW);
	classic_rec(&b, 1, 0, pkt, n, n);
	classic_rec(&b, 2, 0, pkt, 200, n);
	char *path = write_tmp(&b);
	ck_assert_int_eq(read_ours_file(path, &g), 0);
	read_libpcap(path, &lp);
	same(&g, &lp, "snaplen");
	ck_assert_uint_eq(g.r[0].payload_len, 300 - PKT_HDR);
	ck_assert_uint_eq(g.r[0].payload_lost, 1000 - (300 - PKT_HDR));
	ck_assert_uint_eq(g.r[1].payload_len, 200 - PKT_HDR);
	ck_assert_uint_eq(g.st.bytes, 300 + 200);
	got_free(&g);
	got_free(&lp);
	unlink(path);

	/* caplen 262145: corrupt, in the mapped file and in memory */
	b.n = 24 + 16 + n;
	bb_u32(&b, 3);
	bb_u32(&b, 0);
	bb_u32(&b, 262145);
	bb_u32(&b, 262145);
	bb_put(&b, pkt, 100);
	path = write_tmp(&b);
	for (int m = 0; m < 2; m++) {
		ck_assert_int_eq(m ? read_ours_mem(&b, &g) : read_ours_file(path, &g), 0);
		ck_assert_int_eq(g.rc, -EIO);
		ck_assert_uint_eq(g.n, 1);
		ck_assert_msg(strncmp(g.err, "packet 2: ", 10) == 0, "%s", g.err);
		ck_assert_msg(strstr(g.err, "262145") != NULL, "%s", g.err);
		got_free(&g);
	}
	unlink(path);
	free(b.p);
}
END_TEST

/* A record whose captured length runs past the end of the file, and one
 * whose header is cut: truncated, the record named. */
START_TEST(t_classic_truncated)
{
	static uint8_t pkt[3000];
	uint32_t n = (uint32_t)make_pkt(pkt, 7, 1000);

	for (int cut = 0; cut < 2; cut++) {
		struct bb b = { .be = true };
		struct got g;

		classic_hdr(&b, true, 65535, LT_RAW);
		classic_rec(&b, 1, 0, pkt, n, n);
		classic_rec(&b, 2, 0, pkt, n, n);
		if (cut == 0) {
			classic_rec(&b, 3, 0, pkt, n, n);
			b.n -= 1; /* the last byte of packet 3 missing */
		} else {
			bb_u32(&b, 3);
			bb_u32(&b, 0); /* packet 3's header: 8 of 16 bytes */
		}
		char *path = write_tmp(&b);
		for (int m = 0; m < 2; m++) {
			ck_assert_int_eq(m ? read_ours_mem(&b, &g) : read_ours_file(path, &g), 0);
			ck_assert_int_eq(g.rc, -EIO);
			ck_assert_uint_eq(g.n, 2);
			ck_assert_uint_eq(g.st.packets, 2);
			ck_assert_msg(strncmp(g.err, "packet 3: ", 10) == 0, "%s", g.err);
			ck_assert_msg(strstr(g.err, "truncated") != NULL, "%s", g.err);
			got_free(&g);
		}
		unlink(path);
		free(b.p);
	}
}
END_TEST

/* A cut file header: not a capture, the file and its header named. */
START_TEST(t_classic_header_cut)
{
	struct bb b = { 0 };
	struct got g;

	classic_hdr(&b, false, 65535, LT_RAW);
	b.n = 20;
	ck_assert_int_eq(read_ours_mem(&b, &g), -EINVAL);
	ck_assert_msg(strstr(g.err, "test") && strstr(g.err, "header"), "%s", g.err);
	free(b.p);
}
END_TEST

/* ---- pcapng ---- */

START_TEST(t_pcapng_interfaces)
{
	static uint8_t pkt[3000];
	struct bb b = { 0 }, body = { 0 };
	struct got g, g2;
	uint32_t n1 = (uint32_t)make_pkt(pkt, 100, 200);

	ng_shb(&b);
	ng_idb(&b, LT_RAW, 0, -1, 0);       /* 0: microseconds, no snaplen */
	bb_u32(&body, 0xdeadbeefu);
	ng_block(&b, 0x0badu, &body);      /* unknown: skipped */
	ng_idb(&b, LT_RAW, 100, 9, 1000);  /* 1: nanoseconds, +1000 s, snaplen 100 */
	ng_epb(&b, 0, 5000001, pkt, n1, n1);
	ng_epb(&b, 1, 7000000123ull, pkt, n1, n1); /* cut to 100 by the snaplen */
	ng_spb(&b, pkt, n1);               /* interface 0, no time */
	ng_pb(&b, 1, 42, pkt, 60);
	/* a second section, big-endian, its own interface (2^-10 s) */
	b.be = true;
	ng_shb(&b);
	ng_idb(&b, LT_RAW, 0, 0x8a, 0);
	make_pkt(pkt, 999, 10);
	ng_epb(&b, 0, 1024 * 3 + 512, pkt, 50, 50);
	char *path = write_tmp(&b);
	for (int m = 0; m < 2; m++) {
		ck_assert_int_eq(m ? read_ours_mem(&b, &g) : read_ours_file(path, &g), 0);
		ck_assert_msg(g.rc == 0, "%s", g.err);
		ck_assert_uint_eq(g.n, 5);
		ck_assert_uint_eq(g.st.packets, 5);
		ck_assert_uint_eq(g.r[0].ts_ns, 5000001000ull);
		ck_assert_uint_eq(g.r[0].payload_len, 200);
		ck_assert_uint_eq(g.r[1].ts_ns, 7000000123ull + 1000000000000ull);
		ck_assert_uint_eq(g.r[1].payload_len, 100 - PKT_HDR);
		ck_assert_uint_eq(g.r[1].payload_lost, 200 - (100 - PKT_HDR));
		ck_assert_uint_eq(g.r[2].ts_ns, 0);
		ck_assert_uint_eq(g.r[2].payload_len, 200);
		ck_assert_uint_eq(g.r[3].ts_ns, 42 + 1000000000000ull); /* interface 1: ns */
		ck_assert_uint_eq(g.r[3].payload_len, 60 - PKT_HDR);
		ck_assert_uint_eq(g.r[4].seq, 999);
		ck_assert_uint_eq(g.r[4].ts_ns, 3500000000ull);
		ck_assert_uint_eq(g.r[4].pkt_no, 5);
		if (m)
			same(&g, &g2, "pcapng: mapped vs memory");
		else
			g2 = g;
	}
	got_free(&g);
	got_free(&g2);
	unlink(path);
	free(b.p);
	free(body.p);
}
END_TEST

/* Damaged pcapng blocks: each an error naming the packet it stopped at. */
enum ng_damage { NG_TRAIL, NG_ODD_LEN, NG_NO_IF, NG_OVERRUN, NG_CUT, NG_DAMAGES };

START_TEST(t_pcapng_damaged)
{
	static uint8_t pkt[3000];
	static const char *const want[NG_DAMAGES] = { "trailing", "length", "interface 3",
						      "overruns", "truncated" };
	uint32_t n = (uint32_t)make_pkt(pkt, 1, 100);

	for (int d = 0; d < NG_DAMAGES; d++) {
		struct bb b = { .be = d % 2 };
		struct got g;

		ng_shb(&b);
		ng_idb(&b, LT_RAW, 0, -1, 0);
		ng_epb(&b, 0, 1, pkt, n, n);
		size_t at = b.n;
		ng_epb(&b, d == NG_NO_IF ? 3 : 0, 2, pkt, n, n);
		size_t blen = b.n - at;
		struct bb fix = { .be = b.be };
		switch (d) {
		case NG_TRAIL:
			bb_u32(&fix, (uint32_t)blen + 4);
			memcpy(b.p + b.n - 4, fix.p, 4);
			break;
		case NG_ODD_LEN:
			bb_u32(&fix, (uint32_t)blen - 2);
			memcpy(b.p + at + 4, fix.p, 4);
			break;
		case NG_OVERRUN:
			bb_u32(&fix, (uint32_t)blen);
			memcpy(b.p + at + 20, fix.p, 4); /* caplen: the whole block */
			break;
		case NG_CUT:
			b.n -= 8;
			break;
		default:
			break;
		}
		free(fix.p);
		char *path = write_tmp(&b);
		for (int m = 0; m < 2; m++) {
			ck_assert_int_eq(m ? read_ours_mem(&b, &g) : read_ours_file(path, &g), 0);
			ck_assert_int_eq(g.rc, -EIO);
			ck_assert_uint_eq(g.n, 1);
			ck_assert_msg(strncmp(g.err, "packet 2: ", 10) == 0, "damage %d: %s", d, g.err);
			ck_assert_msg(strstr(g.err, want[d]) != NULL, "damage %d: %s", d, g.err);
			got_free(&g);
		}
		unlink(path);
		free(b.p);
	}
}
END_TEST

/* ---- the reference traces: our reader and libpcap agree ---- */

static const char *const traces[] = { "digests", "errors", "large",  "maxburst",
				      "mixed",   "modern", "small", "split" };

static void load(const char *name, struct bb *b)
{
	const char *top = getenv("top_srcdir");
	char path[512];
	FILE *f;
	long len;

	snprintf(path, sizeof(path), "%s/traces/%s.pcap", top ? top : ".", name);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	memset(b, 0, sizeof(*b));
	b->p = malloc((size_t)len);
	b->n = b->cap = (size_t)len;
	ck_assert_uint_eq(fread(b->p, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	ck_assert_uint_eq(get_le(b->p, 4), 0xa1b2c3d4u);
}

START_TEST(t_traces_as_libpcap)
{
	struct bb t, ng = { 0 };
	struct got ours, mem, lp;
	const char *top = getenv("top_srcdir");
	char path[512];

	load(traces[_i], &t);
	snprintf(path, sizeof(path), "%s/traces/%s.pcap", top ? top : ".", traces[_i]);
	ck_assert_int_eq(read_ours_file(path, &ours), 0);
	ck_assert_int_eq(read_ours_mem(&t, &mem), 0);
	read_libpcap(path, &lp);
	ck_assert_uint_gt(lp.n, 10);
	same(&ours, &lp, "mapped vs libpcap");
	same(&mem, &lp, "read buffer vs libpcap");
	got_free(&ours);
	got_free(&mem);
	got_free(&lp);

	/* the same records as pcapng, nanosecond stamps, read both ways */
	ng_shb(&ng);
	ng_idb(&ng, get_le(t.p + 20, 4), get_le(t.p + 16, 4), 9, 0);
	for (size_t o = 24; o + 16 <= t.n;) {
		uint32_t caplen = get_le(t.p + o + 8, 4);
		uint64_t ts = (uint64_t)get_le(t.p + o, 4) * 1000000000u +
			      (uint64_t)get_le(t.p + o + 4, 4) * 1000u;

		ng_epb(&ng, 0, ts, t.p + o + 16, caplen, get_le(t.p + o + 12, 4));
		o += 16 + caplen;
	}
	char *np = write_tmp(&ng);
	ck_assert_int_eq(read_ours_file(np, &ours), 0);
	read_libpcap(np, &lp);
	same(&ours, &lp, "pcapng: mapped vs libpcap");
	got_free(&lp);
	read_libpcap(path, &lp);
	same(&ours, &lp, "pcapng vs the classic file");
	got_free(&ours);
	got_free(&lp);
	unlink(np);
	free(ng.p);
	free(t.p);
}
END_TEST

/* ---- a file many windows long ---- */

static long vm_rss_kb(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* 40 MiB of records of every size up to 64 KiB, so that records straddle
 * the mapped windows: the same as libpcap, and resident memory that does
 * not grow with the file. */
START_TEST(t_many_windows)
{
	static uint8_t pkt[65536];
	struct bb b = { 0 };
	struct got g, lp;
	struct mirror_capture *c;
	struct mirror_cap_segment seg;
	char err[256];
	long rss0, rss_max = 0;
	uint32_t i = 0;

	classic_hdr(&b, false, 65535, LT_RAW);
	while (b.n < (40u << 20)) {
		uint32_t pay = (i * 7919u) % (65535 - PKT_HDR);
		uint32_t n = (uint32_t)make_pkt(pkt, i, pay);

		classic_rec(&b, i, 0, pkt, n, n);
		i++;
	}
	char *path = write_tmp(&b);
	free(b.p);
	read_libpcap(path, &lp);
	ck_assert_int_eq(read_ours_file(path, &g), 0);
	same(&g, &lp, "many windows");
	ck_assert_uint_eq(g.n, i);
	got_free(&g);
	got_free(&lp);

	rss0 = vm_rss_kb();
	ck_assert_int_eq(mirror_capture_open(&c, path, err, sizeof(err)), 0);
	while (mirror_capture_next(c, &seg) == 1) {
		if (seg.pkt_no % 64 == 0) {
			long r = vm_rss_kb();

			if (r > rss_max)
				rss_max = r;
		}
	}
	mirror_capture_close(c);
	/* the window is 4 MiB: anything near the file's 40 MiB means the
	 * windows behind were kept */
	ck_assert_msg(rss_max - rss0 < 12 * 1024, "RSS grew by %ld KiB reading 40 MiB",
		      rss_max - rss0);
	unlink(path);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("capture_file");
	TCase *tc = tcase_create("reader");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, t_classic_orders);
	tcase_add_test(tc, t_classic_snaplen);
	tcase_add_test(tc, t_classic_truncated);
	tcase_add_test(tc, t_classic_header_cut);
	tcase_add_test(tc, t_pcapng_interfaces);
	tcase_add_test(tc, t_pcapng_damaged);
	tcase_add_loop_test(tc, t_traces_as_libpcap, 0, (int)(sizeof(traces) / sizeof(traces[0])));
	tcase_add_test(tc, t_many_windows);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run_suite(suite());
}
