/* Capture input: pcap/pcapng through libpcap, decoded down to TCP.
 *
 * Every read of packet bytes goes through the cap_get* helpers below,
 * which check the offset against the captured length first (the idea of
 * tcpdump's ND_TCHECK / GET_* macros): a packet cut short by the snaplen or
 * a corrupt header can make the decoder give up on that packet, never read
 * past the buffer.  No struct is ever cast onto packet bytes.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include <mirror/capture.h>

/* Link types that not every libpcap's dlt.h names. */
#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif
#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6 229
#endif
#define LINKTYPE_RAW 101 /* LINKTYPE_RAW as some files carry it unmapped */
#define DLT_RAW_OPENBSD 14

/* A bounded view of one packet. */
struct cap_buf {
	const uint8_t *p;
	uint32_t len;
};

static bool cap_check(const struct cap_buf *b, uint32_t off, uint32_t n)
{
	return off <= b->len && n <= b->len - off;
}

static bool cap_get8(const struct cap_buf *b, uint32_t off, uint8_t *v)
{
	if (!cap_check(b, off, 1))
		return false;
	*v = b->p[off];
	return true;
}

static bool cap_get16(const struct cap_buf *b, uint32_t off, uint16_t *v)
{
	if (!cap_check(b, off, 2))
		return false;
	*v = (uint16_t)((unsigned)b->p[off] << 8 | b->p[off + 1]);
	return true;
}

static bool cap_get32(const struct cap_buf *b, uint32_t off, uint32_t *v)
{
	if (!cap_check(b, off, 4))
		return false;
	*v = (uint32_t)b->p[off] << 24 | (uint32_t)b->p[off + 1] << 16 |
	     (uint32_t)b->p[off + 2] << 8 | b->p[off + 3];
	return true;
}

static bool cap_getbytes(const struct cap_buf *b, uint32_t off, uint32_t n, uint8_t *dst)
{
	if (!cap_check(b, off, n))
		return false;
	memcpy(dst, b->p + off, n);
	return true;
}

#define ETHERTYPE_IPV4 0x0800u
#define ETHERTYPE_IPV6 0x86DDu
#define ETHERTYPE_VLAN 0x8100u  /* IEEE 802.1Q C-tag */
#define ETHERTYPE_QINQ 0x88A8u  /* IEEE 802.1ad S-tag */
#define ETHERTYPE_QINQ_OLD 0x9100u /* pre-standard S-tag, still seen */
#define MAX_VLAN_TAGS 4

/* Link layer: the ethertype-like protocol and the offset of the network
 * header, or false when the packet is not IP. */
static enum mirror_cap_kind cap_link(int dlt, const struct cap_buf *b, uint32_t *off,
				     unsigned *ipver)
{
	uint16_t et;
	uint32_t fam_be, fam_le;
	uint8_t v;

	switch (dlt) {
	case DLT_EN10MB:
		/* Ethernet II: dst(6) src(6) type(2); 802.1Q/802.1ad tags
		 * insert TPID(2) TCI(2) before the type. */
		if (!cap_get16(b, 12, &et))
			return MIRROR_CAP_MALFORMED;
		*off = 14;
		for (int i = 0; i < MAX_VLAN_TAGS &&
				(et == ETHERTYPE_VLAN || et == ETHERTYPE_QINQ || et == ETHERTYPE_QINQ_OLD);
		     i++) {
			if (!cap_get16(b, *off + 2, &et))
				return MIRROR_CAP_MALFORMED;
			*off += 4;
		}
		break;
	case DLT_LINUX_SLL:
		/* https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html:
		 * 16 bytes, protocol type at 14. */
		if (!cap_get16(b, 14, &et))
			return MIRROR_CAP_MALFORMED;
		*off = 16;
		break;
	case DLT_LINUX_SLL2:
		/* LINKTYPE_LINUX_SLL2: 20 bytes, protocol type first. */
		if (!cap_get16(b, 0, &et) || !cap_check(b, 0, 20))
			return MIRROR_CAP_MALFORMED;
		*off = 20;
		break;
	case DLT_NULL:
	case DLT_LOOP:
		/* LINKTYPE_NULL holds the AF_ value in the capturing host's
		 * byte order, LINKTYPE_LOOP in network order; try both.
		 * AF_INET is 2 everywhere; AF_INET6 is 10 (Linux), 24
		 * (NetBSD/OpenBSD), 28 (FreeBSD), 30 (macOS). */
		if (!cap_get32(b, 0, &fam_be))
			return MIRROR_CAP_MALFORMED;
		fam_le = __builtin_bswap32(fam_be);
		*off = 4;
		if (fam_be == 2 || fam_le == 2) {
			*ipver = 4;
			return MIRROR_CAP_TCP;
		}
		if (fam_be == 10 || fam_be == 24 || fam_be == 28 || fam_be == 30 || fam_le == 10 ||
		    fam_le == 24 || fam_le == 28 || fam_le == 30) {
			*ipver = 6;
			return MIRROR_CAP_TCP;
		}
		return MIRROR_CAP_NOT_IP;
	case DLT_RAW:
#if DLT_RAW != DLT_RAW_OPENBSD
	case DLT_RAW_OPENBSD:
#endif
	case LINKTYPE_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		/* Raw IP: the version nibble says which. */
		*off = 0;
		if (!cap_get8(b, 0, &v))
			return MIRROR_CAP_MALFORMED;
		if (v >> 4 == 4 || v >> 4 == 6) {
			*ipver = v >> 4;
			return MIRROR_CAP_TCP;
		}
		return MIRROR_CAP_NOT_IP;
	default:
		return MIRROR_CAP_NOT_IP;
	}
	if (et == ETHERTYPE_IPV4)
		*ipver = 4;
	else if (et == ETHERTYPE_IPV6)
		*ipver = 6;
	else
		return MIRROR_CAP_NOT_IP;
	return MIRROR_CAP_TCP;
}

bool mirror_cap_dlt_supported(int dlt)
{
	switch (dlt) {
	case DLT_EN10MB:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
	case DLT_NULL:
	case DLT_LOOP:
	case DLT_RAW:
#if DLT_RAW != DLT_RAW_OPENBSD
	case DLT_RAW_OPENBSD:
#endif
	case LINKTYPE_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		return true;
	default:
		return false;
	}
}

#define IPPROTO_TCP_ 6
#define IP6_HOPOPTS 0
#define IP6_ROUTING 43
#define IP6_FRAGMENT 44
#define IP6_AH 51
#define IP6_NONE 59
#define IP6_DSTOPTS 60
#define MAX_IP6_EXT 8

/* Network layer: fills the addresses, the transport offset and the end of
 * the IP datagram as the IP header states it (may lie past the capture). */
static enum mirror_cap_kind cap_ip(const struct cap_buf *b, uint32_t off, unsigned ver,
				   struct mirror_cap_segment *seg, uint32_t *l4off, uint32_t *ipend)
{
	uint8_t vb, proto;
	uint16_t tot, frag;

	if (!cap_get8(b, off, &vb) || vb >> 4 != ver)
		return MIRROR_CAP_MALFORMED;
	if (ver == 4) {
		/* RFC 791: IHL in 32-bit words, >= 5; options follow. */
		uint32_t ihl = (uint32_t)(vb & 0x0f) * 4;

		if (ihl < 20 || !cap_check(b, off, ihl) || !cap_get16(b, off + 2, &tot) ||
		    !cap_get16(b, off + 6, &frag) || !cap_get8(b, off + 9, &proto))
			return MIRROR_CAP_MALFORMED;
		/* A total length of 0 is what TSO-offloaded captures show:
		 * take the captured length then. */
		if (tot == 0)
			*ipend = b->len;
		else if (tot < ihl)
			return MIRROR_CAP_MALFORMED;
		else
			*ipend = off + tot;
		seg->tuple.src.family = seg->tuple.dst.family = 4;
		cap_getbytes(b, off + 12, 4, seg->tuple.src.addr);
		cap_getbytes(b, off + 16, 4, seg->tuple.dst.addr);
		/* MF set or a fragment offset: a piece of a datagram; TCP
		 * payload is not whole in it. */
		if (frag & 0x3fffu)
			return MIRROR_CAP_FRAGMENT;
		if (proto != IPPROTO_TCP_)
			return MIRROR_CAP_NOT_TCP;
		*l4off = off + ihl;
		return MIRROR_CAP_TCP;
	}
	/* RFC 8200: fixed 40-byte header, then a chain of extension headers. */
	uint16_t plen;
	uint32_t pos = off + 40;

	if (!cap_check(b, off, 40) || !cap_get16(b, off + 4, &plen) || !cap_get8(b, off + 6, &proto))
		return MIRROR_CAP_MALFORMED;
	seg->tuple.src.family = seg->tuple.dst.family = 6;
	cap_getbytes(b, off + 8, 16, seg->tuple.src.addr);
	cap_getbytes(b, off + 24, 16, seg->tuple.dst.addr);
	/* Payload length 0 with a jumbo option (RFC 2675) or from TSO. */
	*ipend = plen ? pos + plen : b->len;
	for (int i = 0; i < MAX_IP6_EXT; i++) {
		uint8_t nh, hl;
		uint16_t fo;

		switch (proto) {
		case IPPROTO_TCP_:
			*l4off = pos;
			return MIRROR_CAP_TCP;
		case IP6_HOPOPTS:
		case IP6_ROUTING:
		case IP6_DSTOPTS:
			/* Hdr Ext Len in 8-octet units, not counting the first 8. */
			if (!cap_get8(b, pos, &nh) || !cap_get8(b, pos + 1, &hl))
				return MIRROR_CAP_MALFORMED;
			pos += ((uint32_t)hl + 1) * 8;
			break;
		case IP6_AH:
			/* RFC 4302: Payload Len in 4-octet units, minus 2. */
			if (!cap_get8(b, pos, &nh) || !cap_get8(b, pos + 1, &hl))
				return MIRROR_CAP_MALFORMED;
			pos += ((uint32_t)hl + 2) * 4;
			break;
		case IP6_FRAGMENT:
			/* RFC 8200 4.5: 8 bytes; offset(13) res(2) M(1). */
			if (!cap_get8(b, pos, &nh) || !cap_get16(b, pos + 2, &fo))
				return MIRROR_CAP_MALFORMED;
			if (fo & 0xfff9u)
				return MIRROR_CAP_FRAGMENT;
			/* An atomic fragment (offset 0, M 0, RFC 6946) is whole. */
			pos += 8;
			break;
		default:
			return MIRROR_CAP_NOT_TCP; /* incl. 59 No Next Header */
		}
		proto = nh;
	}
	return MIRROR_CAP_MALFORMED; /* absurdly long chain */
}

enum mirror_cap_kind mirror_cap_decode(int dlt, const uint8_t *pkt, uint32_t caplen,
				       uint32_t wire_len, struct mirror_cap_segment *seg)
{
	const struct cap_buf b = { pkt, caplen };
	uint32_t off = 0, l4 = 0, ipend = 0, thl, end;
	unsigned ver = 0;
	uint8_t doff;
	enum mirror_cap_kind k;
	uint64_t ts = seg->ts_ns, no = seg->pkt_no;

	memset(seg, 0, sizeof(*seg));
	seg->ts_ns = ts;
	seg->pkt_no = no;
	seg->wire_len = wire_len;
	k = cap_link(dlt, &b, &off, &ver);
	if (k != MIRROR_CAP_TCP)
		return k;
	k = cap_ip(&b, off, ver, seg, &l4, &ipend);
	if (k != MIRROR_CAP_TCP)
		return k;
	/* RFC 9293 3.1: ports, seq, ack, data offset (32-bit words), flags. */
	if (!cap_get16(&b, l4, &seg->tuple.src.port) || !cap_get16(&b, l4 + 2, &seg->tuple.dst.port) ||
	    !cap_get32(&b, l4 + 4, &seg->seq) || !cap_get32(&b, l4 + 8, &seg->ack) ||
	    !cap_get8(&b, l4 + 12, &doff) || !cap_get8(&b, l4 + 13, &seg->flags) ||
	    !cap_get16(&b, l4 + 14, &seg->window))
		return MIRROR_CAP_MALFORMED;
	thl = (uint32_t)(doff >> 4) * 4;
	if (thl < 20 || ipend < l4 + thl)
		return MIRROR_CAP_MALFORMED;
	seg->flags &= 0x3f;
	seg->link_hdr_len = off;
	seg->ip_hdr_len = l4 - off;
	seg->tcp_hdr_len = thl;
	if (!cap_check(&b, l4, 20))
		return MIRROR_CAP_MALFORMED;
	if (!cap_check(&b, l4, thl)) {
		/* The snaplen cut the TCP options: the fixed header says where
		 * the segment lies, so its whole payload is a loss of known
		 * length, not a packet to drop. */
		seg->payload = pkt + caplen;
		seg->payload_len = 0;
		seg->payload_lost = ipend - (l4 + thl);
		return MIRROR_CAP_TCP;
	}
	/* Payload ends at the IP length (so link padding is not payload),
	 * clamped to what was captured; the rest is lost to the snaplen. */
	end = ipend < caplen ? ipend : caplen;
	seg->payload = pkt + l4 + thl;
	seg->payload_len = end - (l4 + thl);
	seg->payload_lost = ipend - end;
	return MIRROR_CAP_TCP;
}

/* ---- the file ---- */

struct mirror_capture {
	pcap_t *pcap;
	int dlt;
	bool live;
	int live_fd;          /* pcap_get_selectable_fd, for the timeout */
	/* Set by mirror_capture_break from another thread or a signal
	 * handler: libpcap honours its own break only while packets come. */
	volatile sig_atomic_t stop;
	unsigned timeout_ms;
	struct mirror_cap_stats st;
	char err[PCAP_ERRBUF_SIZE + 64];
};

/* The capture's link type, or an error naming it. */
static int capture_check_dlt(struct mirror_capture *c, const char *name, char *err, size_t err_len)
{
	const char *dname;

	c->dlt = pcap_datalink(c->pcap);
	if (mirror_cap_dlt_supported(c->dlt))
		return 0;
	dname = pcap_datalink_val_to_name(c->dlt);
	snprintf(err, err_len, "%s: link type %d (%s) not supported", name, c->dlt,
		 dname ? dname : "unknown");
	return -EPROTONOSUPPORT;
}

int mirror_capture_open(struct mirror_capture **out, const char *path, char *err, size_t err_len)
{
	FILE *f;
	int rc;

	*out = NULL;
	if (strcmp(path, "-") == 0) {
		/* A dup so that pcap_close does not close our stdin. */
		int fd = dup(0);

		f = fd >= 0 ? fdopen(fd, "rb") : NULL;
		if (!f && fd >= 0)
			close(fd);
	} else {
		f = fopen(path, "rb");
	}
	if (!f) {
		rc = -errno;
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		return rc;
	}
	return mirror_capture_open_fp(out, f, path, err, err_len);
}

int mirror_capture_open_fp(struct mirror_capture **out, FILE *f, const char *name, char *err,
			   size_t err_len)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct mirror_capture *c;
	const char *path = name ? name : "capture";

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c) {
		fclose(f);
		snprintf(err, err_len, "%s: out of memory", path);
		return -ENOMEM;
	}
	/* Nanosecond timestamps whatever the file's precision. */
	c->pcap = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, ebuf);
	if (!c->pcap) {
		fclose(f);
		free(c);
		snprintf(err, err_len, "%s: %s", path, ebuf[0] ? ebuf : "not a capture file");
		return -EINVAL;
	}
	if (capture_check_dlt(c, path, err, err_len) < 0) {
		pcap_close(c->pcap);
		free(c);
		return -EPROTONOSUPPORT;
	}
	*out = c;
	return 0;
}

/* libpcap's activation outcome as an error code. */
static int live_error_code(int status)
{
	switch (status) {
	case PCAP_ERROR_PERM_DENIED:
		return -EPERM;
	case PCAP_ERROR_NO_SUCH_DEVICE:
		return -ENODEV;
	case PCAP_ERROR_IFACE_NOT_UP:
		return -ENETDOWN;
	default:
		return -EIO;
	}
}

int mirror_capture_open_live(struct mirror_capture **out, const char *iface, const char *filter,
			     unsigned snaplen, unsigned buffer_bytes, unsigned timeout_ms, char *err,
			     size_t err_len)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct bpf_program prog;
	struct mirror_capture *c;
	int rc, status;

	*out = NULL;
	if (!iface || !*iface) {
		snprintf(err, err_len, "no interface given");
		return -EINVAL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, err_len, "%s: out of memory", iface);
		return -ENOMEM;
	}
	c->live = true;
	c->pcap = pcap_create(iface, ebuf);
	if (!c->pcap) {
		snprintf(err, err_len, "%s: %s", iface, ebuf);
		free(c);
		return -ENODEV;
	}
	pcap_set_snaplen(c->pcap, snaplen ? (int)snaplen : 262144);
	pcap_set_timeout(c->pcap, timeout_ms ? (int)timeout_ms : 100);
	if (buffer_bytes)
		pcap_set_buffer_size(c->pcap, (int)buffer_bytes);
	pcap_set_tstamp_precision(c->pcap, PCAP_TSTAMP_PRECISION_NANO);
	status = pcap_activate(c->pcap);
	if (status < 0) {
		snprintf(err, err_len, "%s: %s", iface,
			 status == PCAP_ERROR ? pcap_geterr(c->pcap) : pcap_statustostr(status));
		rc = live_error_code(status);
		goto fail;
	}
	rc = capture_check_dlt(c, iface, err, err_len);
	if (rc < 0)
		goto fail;
	/* With TPACKET_V3 the read timeout only retires a block that holds a
	 * packet: on an idle link a blocking read never returns.  Non-blocking
	 * reads and our own poll(2) give the caller its -EAGAIN on time. */
	c->timeout_ms = timeout_ms ? timeout_ms : 100;
	c->live_fd = pcap_get_selectable_fd(c->pcap);
	if (c->live_fd < 0 || pcap_setnonblock(c->pcap, 1, ebuf) < 0) {
		snprintf(err, err_len, "%s: cannot wait for packets with a timeout%s%s", iface,
			 ebuf[0] ? ": " : "", ebuf);
		rc = -EIO;
		goto fail;
	}
	if (filter && *filter) {
		if (pcap_compile(c->pcap, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
			snprintf(err, err_len, "filter \"%s\": %s", filter, pcap_geterr(c->pcap));
			rc = -EINVAL;
			goto fail;
		}
		status = pcap_setfilter(c->pcap, &prog);
		pcap_freecode(&prog);
		if (status < 0) {
			snprintf(err, err_len, "filter \"%s\": %s", filter, pcap_geterr(c->pcap));
			rc = -EINVAL;
			goto fail;
		}
	}
	*out = c;
	return 0;
fail:
	pcap_close(c->pcap);
	free(c);
	return rc;
}

void mirror_capture_break(struct mirror_capture *c)
{
	c->stop = 1;
	pcap_breakloop(c->pcap);
}

uint64_t mirror_capture_drops(struct mirror_capture *c)
{
	struct pcap_stat ps;

	if (!c->live || pcap_stats(c->pcap, &ps) < 0)
		return 0;
	return (uint64_t)ps.ps_drop + ps.ps_ifdrop;
}

bool mirror_capture_is_live(const struct mirror_capture *c)
{
	return c->live;
}

int mirror_capture_next(struct mirror_capture *c, struct mirror_cap_segment *seg)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc;

	for (;;) {
		if (c->stop)
			return 0;
		rc = pcap_next_ex(c->pcap, &h, &data);
		if (rc == PCAP_ERROR_BREAK)
			return 0; /* end of file, or mirror_capture_break */
		if (rc == 0 && c->live) {
			struct pollfd pfd = { c->live_fd, POLLIN, 0 };
			int n = poll(&pfd, 1, (int)c->timeout_ms);

			if (n < 0 && errno != EINTR) {
				snprintf(c->err, sizeof(c->err), "packet %llu: poll: %s",
					 (unsigned long long)c->st.packets + 1, strerror(errno));
				return -EIO;
			}
			if (n > 0)
				continue; /* packets to read */
			return -EAGAIN; /* nothing within the timeout */
		}
		if (rc != 1) {
			/* libpcap reports a cut or corrupt record header this way;
			 * the failing record would have been the next number. */
			snprintf(c->err, sizeof(c->err), "packet %llu: %s",
				 (unsigned long long)c->st.packets + 1, pcap_geterr(c->pcap));
			return -EIO;
		}
		c->st.packets++;
		c->st.bytes += h->caplen;
		seg->ts_ns = (uint64_t)h->ts.tv_sec * 1000000000u + (uint64_t)h->ts.tv_usec;
		seg->pkt_no = c->st.packets;
		switch (mirror_cap_decode(c->dlt, data, h->caplen, h->len, seg)) {
		case MIRROR_CAP_TCP:
			c->st.tcp_segments++;
			if (seg->payload_lost) {
				c->st.truncated_segments++;
				c->st.lost_bytes += seg->payload_lost;
			}
			return 1;
		case MIRROR_CAP_NOT_IP:
			c->st.not_ip++;
			break;
		case MIRROR_CAP_NOT_TCP:
			c->st.not_tcp++;
			break;
		case MIRROR_CAP_FRAGMENT:
			c->st.fragments++;
			break;
		case MIRROR_CAP_MALFORMED:
			c->st.malformed++;
			break;
		}
	}
}

const char *mirror_capture_error(const struct mirror_capture *c)
{
	return c->err;
}

int64_t mirror_capture_offset(const struct mirror_capture *c)
{
	FILE *f = pcap_file(c->pcap);
	off_t pos = f ? ftello(f) : -1;

	return pos < 0 ? -1 : (int64_t)pos;
}

uint64_t mirror_capture_packet_no(const struct mirror_capture *c)
{
	return c->st.packets;
}

int mirror_capture_dlt(const struct mirror_capture *c)
{
	return c->dlt;
}

const struct mirror_cap_stats *mirror_capture_stats(const struct mirror_capture *c)
{
	return &c->st;
}

void mirror_capture_close(struct mirror_capture *c)
{
	if (!c)
		return;
	pcap_close(c->pcap);
	free(c);
}
