/* pcap_transform: rewrites a capture of TCP traffic into the hand-built
 * reassembly cases (tests/transform.test: reordered,
 * duplicated, overlapping and split segments), so that the decoder
 * can be checked against the clean original.
 *
 *   pcap_transform IN OUT reorder            swap pairs of adjacent data
 *                                            segments of one direction
 *   pcap_transform IN OUT retransmit         every 5th data segment again
 *                                            later, and every 5th (offset)
 *                                            an overlapping re-slice of it
 *                                            and its successor
 *   pcap_transform IN OUT split [SIZE]       segments > 100 bytes cut into
 *                                            SIZE-byte segments (default 37)
 *   pcap_transform IN OUT coalesce           runs of data segments of one
 *                                            direction (pure ACKs between
 *                                            them aside) joined into one
 *                                            segment of up to 64 KiB, as
 *                                            with receive offload
 *   pcap_transform IN OUT snaplen N          captured length cut to N
 *   pcap_transform IN OUT gap PORT t2i|i2t   drop the middle data segment
 *                                            sent from (t2i) or to (i2t) PORT
 *   pcap_transform IN OUT midstream K        drop the first K packets
 *   pcap_transform IN OUT linktype null|sll|sll2|raw|vlan
 *   pcap_transform IN OUT interleave IN2 PORT PORT2
 *                                            merge IN2 by time (aligned to
 *                                            IN's start), its port PORT2
 *                                            renamed PORT and its other
 *                                            ports moved so the tuples differ
 *
 * The input must be Ethernet (DLT_EN10MB, 802.1Q tags allowed) for the
 * modes that look into packets.  Only IP lengths and TCP sequence numbers
 * are rewritten; checksums are left stale (the decoder does not check
 * them).  Exit status 0, 1 on usage or file errors. */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pkt {
	struct pcap_pkthdr h;
	u_char *data;
	/* parse results, valid when tcp != 0 */
	int tcp;
	size_t ip_off, tcp_off, pay_off, pay_len;
	int v6;
	uint32_t seq;
	uint16_t sport, dport;
	uint8_t src[16], dst[16];
};

struct list {
	struct pkt **v;
	size_t n, cap;
};

static void die(const char *msg)
{
	fprintf(stderr, "pcap_transform: %s\n", msg);
	exit(1);
}

/* Every packet made, whichever lists share it: freed once at the end so
 * the tool runs clean under LeakSanitizer too. */
static struct pkt **all_pkts;
static size_t all_n, all_cap;

static void *xmalloc(size_t n);

static struct pkt *pkt_track(struct pkt *p)
{
	if (all_n == all_cap) {
		all_cap = all_cap ? 2 * all_cap : 1024;
		all_pkts = realloc(all_pkts, all_cap * sizeof *all_pkts);
		if (!all_pkts)
			die("out of memory");
	}
	all_pkts[all_n++] = p;
	return p;
}

static void pkt_free_all(void)
{
	for (size_t i = 0; i < all_n; i++) {
		free(all_pkts[i]->data);
		free(all_pkts[i]);
	}
	free(all_pkts);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		die("out of memory");
	return p;
}

static void push(struct list *l, struct pkt *p)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 1024;
		l->v = realloc(l->v, l->cap * sizeof *l->v);
		if (!l->v)
			die("out of memory");
	}
	l->v[l->n++] = p;
}

static uint16_t get16(const u_char *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const u_char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void put16(u_char *p, uint16_t v) { p[0] = (u_char)(v >> 8); p[1] = (u_char)v; }
static void put32(u_char *p, uint32_t v)
{
	p[0] = (u_char)(v >> 24); p[1] = (u_char)(v >> 16);
	p[2] = (u_char)(v >> 8); p[3] = (u_char)v;
}

/* Ethernet frame -> offsets of the IP header and ethertype; 0 if not IP */
static size_t eth_ip_off(const u_char *d, size_t cap, uint16_t *etype)
{
	size_t off = 12;
	for (int tags = 0; tags < 3; tags++) {
		if (cap < off + 2)
			return 0;
		uint16_t t = get16(d + off);
		if (t == 0x8100 || t == 0x88a8) {
			off += 4;
			continue;
		}
		if (t != 0x0800 && t != 0x86dd)
			return 0;
		*etype = t;
		return off + 2;
	}
	return 0;
}

/* fills in the TCP fields; only complete (caplen == len) segments with all
 * headers captured count as TCP */
static void parse(struct pkt *p)
{
	const u_char *d = p->data;
	size_t cap = p->h.caplen;
	uint16_t etype = 0;
	p->tcp = 0;
	size_t ip = eth_ip_off(d, cap, &etype);
	if (!ip || p->h.caplen != p->h.len)
		return;
	size_t tcp, end;
	if (etype == 0x0800) {
		if (cap < ip + 20 || (d[ip] >> 4) != 4 || d[ip + 9] != 6)
			return;
		size_t ihl = (size_t)(d[ip] & 15) * 4;
		size_t tot = get16(d + ip + 2);
		if (ihl < 20 || tot < ihl || ip + tot > cap)
			return;
		if (get16(d + ip + 6) & 0x3fff) /* fragment */
			return;
		tcp = ip + ihl;
		end = ip + tot;
		memcpy(p->src, d + ip + 12, 4);
		memcpy(p->dst, d + ip + 16, 4);
		p->v6 = 0;
	} else {
		if (cap < ip + 40 || (d[ip] >> 4) != 6 || d[ip + 6] != 6)
			return;
		size_t plen = get16(d + ip + 4);
		if (ip + 40 + plen > cap)
			return;
		tcp = ip + 40;
		end = tcp + plen;
		memcpy(p->src, d + ip + 8, 16);
		memcpy(p->dst, d + ip + 24, 16);
		p->v6 = 1;
	}
	if (end < tcp + 20)
		return;
	size_t thl = (size_t)(d[tcp + 12] >> 4) * 4;
	if (thl < 20 || tcp + thl > end)
		return;
	p->ip_off = ip;
	p->tcp_off = tcp;
	p->pay_off = tcp + thl;
	p->pay_len = end - p->pay_off;
	p->sport = get16(d + tcp);
	p->dport = get16(d + tcp + 2);
	p->seq = get32(d + tcp + 4);
	p->tcp = 1;
}

static int is_data(const struct pkt *p) { return p->tcp && p->pay_len > 0; }

static int same_dir(const struct pkt *a, const struct pkt *b)
{
	return a->tcp && b->tcp && a->v6 == b->v6 && a->sport == b->sport &&
	       a->dport == b->dport && !memcmp(a->src, b->src, 16) &&
	       !memcmp(a->dst, b->dst, 16);
}

static struct pkt *pkt_new(const struct pcap_pkthdr *h, const u_char *d)
{
	struct pkt *p = xmalloc(sizeof *p);
	memset(p, 0, sizeof *p);
	p->h = *h;
	p->data = xmalloc(h->caplen);
	memcpy(p->data, d, h->caplen);
	parse(p);
	return pkt_track(p);
}

static struct pkt *pkt_copy(const struct pkt *o)
{
	return pkt_new(&o->h, o->data);
}

/* a segment carrying payload bytes [from, from+n) of o's payload, followed
 * by n2 bytes of extra (the head of the next segment), seq moved to match */
static struct pkt *reslice(const struct pkt *o, size_t from, size_t n,
			   const u_char *extra, size_t n2)
{
	if (!o->tcp || from > o->pay_len || n > o->pay_len - from)
		die("reslice out of range");
	size_t hdr = o->pay_off, plen = n + n2;
	size_t l3 = o->pay_off - o->ip_off;
	if (l3 + plen > 0xffff)
		die("resliced segment too long");
	struct pcap_pkthdr h = o->h;
	h.caplen = h.len = (bpf_u_int32)(hdr + plen);
	u_char *d = xmalloc(h.caplen);
	memcpy(d, o->data, hdr);
	memcpy(d + hdr, o->data + o->pay_off + from, n);
	if (n2)
		memcpy(d + hdr + n, extra, n2);
	if (o->v6)
		put16(d + o->ip_off + 4, (uint16_t)(o->pay_off - o->tcp_off + plen));
	else
		put16(d + o->ip_off + 2, (uint16_t)(l3 + plen));
	put32(d + o->tcp_off + 4, o->seq + (uint32_t)from);
	struct pkt *p = pkt_new(&h, d);
	free(d);
	return p;
}

static int read_file(const char *path, struct list *l, int *dlt, int *snap)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline(path, err);
	if (!pc) {
		fprintf(stderr, "pcap_transform: %s: %s\n", path, err);
		return -1;
	}
	*dlt = pcap_datalink(pc);
	*snap = pcap_snapshot(pc);
	struct pcap_pkthdr *h;
	const u_char *d;
	int r;
	while ((r = pcap_next_ex(pc, &h, &d)) == 1)
		push(l, pkt_new(h, d));
	if (r == -1)
		fprintf(stderr, "pcap_transform: %s: %s (keeping %zu packets)\n",
			path, pcap_geterr(pc), l->n);
	pcap_close(pc);
	return 0;
}

static long num(const char *s, long lo, long hi)
{
	char *e;
	long v = strtol(s, &e, 10);
	if (!*s || *e || v < lo || v > hi)
		die("bad number");
	return v;
}

/* ---- transformations: IN list -> OUT list (pointers may be shared) ---- */

static void t_reorder(struct list *in, struct list *out)
{
	/* i and j: data segments of one direction with no other data segment
	 * in between (pure ACKs may be); swapped in place, the slot keeps its
	 * timestamp so the file stays in time order */
	for (size_t i = 0; i < in->n; i++)
		push(out, in->v[i]);
	size_t i = 0;
	while (i < out->n) {
		if (!is_data(out->v[i])) {
			i++;
			continue;
		}
		size_t j = i + 1;
		while (j < out->n && !is_data(out->v[j]))
			j++;
		if (j < out->n && same_dir(out->v[i], out->v[j])) {
			struct pkt *a = out->v[i], *b = out->v[j];
			struct timeval ta = a->h.ts, tb = b->h.ts;
			out->v[i] = b;
			out->v[j] = a;
			b->h.ts = ta;
			a->h.ts = tb;
			i = j + 1;
		} else {
			i = j;
		}
	}
}

static int same_conn(const struct pkt *a, const struct pkt *b)
{
	return a->tcp && b->tcp && a->v6 == b->v6 &&
	       ((a->sport == b->sport && a->dport == b->dport &&
		 !memcmp(a->src, b->src, 16) && !memcmp(a->dst, b->dst, 16)) ||
		(a->sport == b->dport && a->dport == b->sport &&
		 !memcmp(a->src, b->dst, 16) && !memcmp(a->dst, b->src, 16)));
}

/* the pending copies of p's connection, stamped with p's time */
static void flush_conn(struct list *pend, struct list *out, const struct pkt *p)
{
	size_t w = 0;
	for (size_t q = 0; q < pend->n; q++) {
		if (same_conn(pend->v[q], p)) {
			pend->v[q]->h.ts = p->h.ts;
			push(out, pend->v[q]);
		} else {
			pend->v[w++] = pend->v[q];
		}
	}
	pend->n = w;
}

static void t_retransmit(struct list *in, struct list *out)
{
	/* pending copies, emitted after the next data segment of their
	 * direction (or at the end) */
	struct list pend = { 0 };
	size_t k = 0;
	for (size_t i = 0; i < in->n; i++) {
		struct pkt *p = in->v[i];
		/* a FIN or RST of the connection: its copies go out first, so
		 * that they stay retransmissions inside the connection */
		int fin = p->tcp && (p->data[p->tcp_off + 13] & 0x05);
		if (fin)
			flush_conn(&pend, out, p);
		push(out, p);
		if (!is_data(p))
			continue;
		/* flush the pending copies of this direction */
		size_t w = 0;
		for (size_t q = 0; q < pend.n; q++) {
			if (same_dir(pend.v[q], p)) {
				pend.v[q]->h.ts = p->h.ts;
				push(out, pend.v[q]);
			} else {
				pend.v[w++] = pend.v[q];
			}
		}
		pend.n = w;
		k++;
		if (k % 5 == 0) {
			push(&pend, pkt_copy(p));
		} else if (k % 5 == 2 && p->pay_len >= 2) {
			/* overlap: the second half of p plus the head of the
			 * next contiguous segment of the same direction */
			struct pkt *nx = NULL;
			for (size_t j = i + 1; j < in->n; j++)
				if (is_data(in->v[j]) && same_dir(in->v[j], p)) {
					nx = in->v[j];
					break;
				}
			size_t half = p->pay_len / 2;
			if (nx && nx->seq == p->seq + (uint32_t)p->pay_len) {
				size_t n2 = nx->pay_len / 2;
				if (n2 > 0xffff / 2)
					n2 = 0xffff / 2;
				if (p->pay_len - half + n2 + p->pay_off > 0xffff)
					n2 = 0;
				push(&pend, reslice(p, half, p->pay_len - half,
						    nx->data + nx->pay_off, n2));
			} else {
				push(&pend, reslice(p, half, p->pay_len - half, NULL, 0));
			}
		}
	}
	for (size_t q = 0; q < pend.n; q++) {
		if (in->n)
			pend.v[q]->h.ts = in->v[in->n - 1]->h.ts;
		push(out, pend.v[q]);
	}
	free(pend.v);
}

static void t_coalesce(struct list *in, struct list *out)
{
	u_char *buf = xmalloc(65536);
	struct list acks = { 0 };

	for (size_t i = 0; i < in->n;) {
		struct pkt *p = in->v[i++];
		if (!is_data(p)) {
			push(out, p);
			continue;
		}
		size_t more = 0, room = 0xffff - (p->pay_off - p->ip_off) - p->pay_len;
		uint32_t next = p->seq + (uint32_t)p->pay_len;
		acks.n = 0;
		while (i < in->n) {
			struct pkt *q = in->v[i];
			if (!is_data(q) && q->tcp && !(q->data[q->tcp_off + 13] & 0x07)) {
				push(&acks, q); /* a pure ACK: moved after the join */
				i++;
				continue;
			}
			if (!is_data(q) || !same_dir(p, q) || q->seq != next || q->pay_len > room - more)
				break;
			memcpy(buf + more, q->data + q->pay_off, q->pay_len);
			more += q->pay_len;
			next += (uint32_t)q->pay_len;
			i++;
		}
		push(out, more ? reslice(p, 0, p->pay_len, buf, more) : p);
		for (size_t k = 0; k < acks.n; k++)
			push(out, acks.v[k]);
	}
	free(acks.v);
	free(buf);
}

static void t_split(struct list *in, struct list *out, size_t size)
{
	for (size_t i = 0; i < in->n; i++) {
		struct pkt *p = in->v[i];
		if (!is_data(p) || p->pay_len <= 100) {
			push(out, p);
			continue;
		}
		for (size_t off = 0; off < p->pay_len; off += size) {
			size_t n = p->pay_len - off < size ? p->pay_len - off : size;
			push(out, reslice(p, off, n, NULL, 0));
		}
	}
}

/* When the payload is one iSCSI PDU or the start of one (RFC 7143 11:
 * 48-byte BHS, AHS, data padded to 4, 0/4/8 bytes of digests), says which, so that
 * a test knows what the gap took: "gap: pdu OPCODE ITT" in hex. */
static void say_pdu(const struct pkt *p)
{
	const u_char *b = p->data + p->pay_off;
	if (p->pay_len < 48)
		return;
	size_t dsl = (size_t)b[5] << 16 | (size_t)b[6] << 8 | b[7];
	size_t len = 48 + (size_t)b[4] * 4 + ((dsl + 3) & ~(size_t)3);
	/* one PDU from the first byte: the segment ends with it (0, 4 or 8
	 * bytes of digests) or inside it (its data follows in later segments);
	 * no AHS and the F bit, as every such PDU in the traces has */
	if (p->pay_len > len + 8 || b[4] != 0 || !(b[1] & 0x80))
		return;
	fprintf(stderr, "pcap_transform: gap: pdu 0x%02x 0x%08x\n", b[0] & 0x3f,
	       (unsigned)b[16] << 24 | (unsigned)b[17] << 16 | (unsigned)b[18] << 8 | b[19]);
}

static void t_gap(struct list *in, struct list *out, uint16_t port, int t2i)
{
	size_t cnt = 0, mid, k = 0;
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			if (!cnt)
				die("gap: no data segments in that direction");
			mid = cnt / 2;
		}
		for (size_t i = 0; i < in->n; i++) {
			struct pkt *p = in->v[i];
			int hit = is_data(p) && (t2i ? p->sport == port : p->dport == port);
			if (pass == 0) {
				cnt += hit;
				continue;
			}
			if (hit && k++ == mid) {
				fprintf(stderr, "pcap_transform: gap: dropped packet %zu "
					"(%zu bytes, seq %u)\n", i + 1, p->pay_len, p->seq);
				say_pdu(p);
				continue;
			}
			push(out, p);
		}
	}
}

/* re-encapsulates an Ethernet frame; NULL if it carries no IP */
static struct pkt *encap(const struct pkt *o, const char *how)
{
	uint16_t etype = 0;
	size_t ip = eth_ip_off(o->data, o->h.caplen, &etype);
	if (!ip)
		return NULL;
	u_char hdr[20];
	size_t hl = 0;
	memset(hdr, 0, sizeof hdr);
	if (!strcmp(how, "null")) {
		uint32_t af = etype == 0x0800 ? 2 : 10; /* AF_INET, AF_INET6 (Linux) */
		memcpy(hdr, &af, 4); /* host byte order */
		hl = 4;
	} else if (!strcmp(how, "sll")) {
		put16(hdr, 0);          /* packet type: to us */
		put16(hdr + 2, 772);    /* ARPHRD_LOOPBACK */
		put16(hdr + 4, 6);      /* address length */
		put16(hdr + 14, etype);
		hl = 16;
	} else if (!strcmp(how, "sll2")) {
		put16(hdr, etype);
		put32(hdr + 4, 1);      /* interface index */
		put16(hdr + 8, 772);
		hdr[10] = 0;
		hdr[11] = 6;
		hl = 20;
	} else if (!strcmp(how, "raw")) {
		hl = 0;
	} else if (!strcmp(how, "vlan")) {
		memcpy(hdr, o->data, 12);
		put16(hdr + 12, 0x8100);
		put16(hdr + 14, 0x0005); /* VLAN 5 */
		put16(hdr + 16, etype);
		hl = 18;
	} else {
		die("unknown link type");
	}
	struct pcap_pkthdr h = o->h;
	size_t body = o->h.caplen - ip;
	size_t wire = o->h.len >= ip ? o->h.len - ip : body;
	h.caplen = (bpf_u_int32)(hl + body);
	h.len = (bpf_u_int32)(hl + wire);
	u_char *d = xmalloc(h.caplen);
	memcpy(d, hdr, hl);
	memcpy(d + hl, o->data + ip, body);
	struct pkt *p = xmalloc(sizeof *p);
	memset(p, 0, sizeof *p);
	p->h = h;
	p->data = d;
	return pkt_track(p);
}

static int link_dlt(const char *how)
{
	if (!strcmp(how, "null")) return DLT_NULL;
	if (!strcmp(how, "sll")) return DLT_LINUX_SLL;
#ifdef DLT_LINUX_SLL2
	if (!strcmp(how, "sll2")) return DLT_LINUX_SLL2;
#else
	if (!strcmp(how, "sll2")) return 276;
#endif
	if (!strcmp(how, "raw")) return DLT_RAW;
	if (!strcmp(how, "vlan")) return DLT_EN10MB;
	die("unknown link type (null|sll|sll2|raw|vlan)");
	return -1;
}

static uint16_t move_port(uint16_t p, uint16_t avoid)
{
	uint16_t q = p >= 30000 ? (uint16_t)(p - 20000) : (uint16_t)(p + 20000);
	if (q == avoid)
		q++;
	return q;
}

static int ts_before(const struct timeval *a, const struct timeval *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_usec < b->tv_usec);
}

static void t_interleave(struct list *in, struct list *in2, struct list *out,
			 uint16_t port, uint16_t port2)
{
	if (in->n && in2->n) {
		/* align the second capture's start on the first's */
		long long d = ((long long)in->v[0]->h.ts.tv_sec - in2->v[0]->h.ts.tv_sec) * 1000000 +
			      (in->v[0]->h.ts.tv_usec - in2->v[0]->h.ts.tv_usec) + 1;
		for (size_t i = 0; i < in2->n; i++) {
			struct pkt *p = in2->v[i];
			long long t = (long long)p->h.ts.tv_sec * 1000000 + p->h.ts.tv_usec + d;
			p->h.ts.tv_sec = (time_t)(t / 1000000);
			p->h.ts.tv_usec = (suseconds_t)(t % 1000000);
			if (!p->tcp)
				continue;
			uint16_t s = p->sport == port2 ? port : move_port(p->sport, port);
			uint16_t t2 = p->dport == port2 ? port : move_port(p->dport, port);
			put16(p->data + p->tcp_off, s);
			put16(p->data + p->tcp_off + 2, t2);
			p->sport = s;
			p->dport = t2;
		}
	}
	size_t i = 0, j = 0;
	while (i < in->n || j < in2->n) {
		if (j >= in2->n || (i < in->n && !ts_before(&in2->v[j]->h.ts, &in->v[i]->h.ts)))
			push(out, in->v[i++]);
		else
			push(out, in2->v[j++]);
	}
}

static void usage(void)
{
	fputs("usage: pcap_transform IN OUT MODE [ARGS]\n"
	      "  modes: reorder | retransmit | split [SIZE] | snaplen N |\n"
	      "         coalesce | gap PORT t2i|i2t | midstream K | late K |\n"
	      "         linktype null|sll|sll2|raw|vlan | interleave IN2 PORT PORT2\n",
	      stderr);
	exit(1);
}

int main(int argc, char **argv)
{
	if (argc < 4)
		usage();
	const char *mode = argv[3];
	struct list in = { 0 }, in2 = { 0 }, out = { 0 };
	int dlt, snap;
	if (read_file(argv[1], &in, &dlt, &snap))
		return 1;
	int odlt = dlt, osnap = snap > 0 ? snap : 262144;
	int needs_eth = strcmp(mode, "snaplen") && strcmp(mode, "midstream");
	if (needs_eth && dlt != DLT_EN10MB)
		die("input is not Ethernet (DLT_EN10MB)");

	if (!strcmp(mode, "reorder") && argc == 4) {
		t_reorder(&in, &out);
	} else if (!strcmp(mode, "retransmit") && argc == 4) {
		t_retransmit(&in, &out);
	} else if (!strcmp(mode, "coalesce") && argc == 4) {
		t_coalesce(&in, &out);
	} else if (!strcmp(mode, "split") && (argc == 4 || argc == 5)) {
		t_split(&in, &out, argc == 5 ? (size_t)num(argv[4], 1, 65535) : 37);
	} else if (!strcmp(mode, "snaplen") && argc == 5) {
		long n = num(argv[4], 1, 262144);
		for (size_t i = 0; i < in.n; i++) {
			if (in.v[i]->h.caplen > (bpf_u_int32)n)
				in.v[i]->h.caplen = (bpf_u_int32)n;
			push(&out, in.v[i]);
		}
		osnap = (int)n;
	} else if (!strcmp(mode, "gap") && argc == 6) {
		int t2i = !strcmp(argv[5], "t2i");
		if (!t2i && strcmp(argv[5], "i2t"))
			usage();
		t_gap(&in, &out, (uint16_t)num(argv[4], 1, 65535), t2i);
	} else if (!strcmp(mode, "late") && argc == 5) {
		/* packet K (from 1) again after the end: a stale retransmission */
		size_t k = (size_t)num(argv[4], 1, 1L << 30);
		if (k > in.n)
			die("late: no such packet");
		for (size_t i = 0; i < in.n; i++)
			push(&out, in.v[i]);
		struct pkt *p = pkt_copy(in.v[k - 1]);
		p->h.ts = in.v[in.n - 1]->h.ts;
		p->h.ts.tv_sec += 1;
		push(&out, p);
	} else if (!strcmp(mode, "midstream") && argc == 5) {
		size_t k = (size_t)num(argv[4], 0, 1L << 30);
		for (size_t i = k; i < in.n; i++)
			push(&out, in.v[i]);
	} else if (!strcmp(mode, "linktype") && argc == 5) {
		odlt = link_dlt(argv[4]);
		osnap += 20;
		for (size_t i = 0; i < in.n; i++) {
			struct pkt *p = encap(in.v[i], argv[4]);
			if (p)
				push(&out, p);
		}
	} else if (!strcmp(mode, "interleave") && argc == 7) {
		int dlt2, snap2;
		if (read_file(argv[4], &in2, &dlt2, &snap2))
			return 1;
		if (dlt2 != DLT_EN10MB)
			die("second input is not Ethernet (DLT_EN10MB)");
		if (snap2 > osnap)
			osnap = snap2;
		t_interleave(&in, &in2, &out, (uint16_t)num(argv[5], 1, 65535),
			     (uint16_t)num(argv[6], 1, 65535));
	} else {
		usage();
	}

	pcap_t *dead = pcap_open_dead(odlt, osnap);
	if (!dead)
		die("pcap_open_dead failed");
	pcap_dumper_t *dump = pcap_dump_open(dead, argv[2]);
	if (!dump) {
		fprintf(stderr, "pcap_transform: %s: %s\n", argv[2], pcap_geterr(dead));
		return 1;
	}
	for (size_t i = 0; i < out.n; i++)
		pcap_dump((u_char *)dump, &out.v[i]->h, out.v[i]->data);
	int bad = pcap_dump_flush(dump) != 0;
	pcap_dump_close(dump);
	pcap_close(dead);
	pkt_free_all();
	free(in.v);
	free(in2.v);
	free(out.v);
	if (bad)
		die("write error");
	return 0;
}
