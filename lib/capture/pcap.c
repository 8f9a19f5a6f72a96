/* Capture input: pcap/pcapng files through the project's reader
 * (capture/pcap_file.c), live capture, pipes and other formats through
 * libpcap; decoded down to TCP.
 *
 * Every read of packet bytes goes through the cursor of base/cursor.h over
 * the captured bytes (the idea of tcpdump's GET_ macros): a read past the
 * end yields zero and sets a sticky flag, tested once per header, so a
 * packet cut short by the snaplen or a corrupt header makes the decoder
 * give up on that packet, never read past the buffer.  No struct is ever
 * cast onto packet bytes.
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

#include "base/cursor.h"
#include "capture/pcap_file.h"

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

#define ETHERTYPE_IPV4 0x0800u
#define ETHERTYPE_IPV6 0x86DDu
#define ETHERTYPE_VLAN 0x8100u  /* IEEE 802.1Q C-tag */
#define ETHERTYPE_QINQ 0x88A8u  /* IEEE 802.1ad S-tag */
#define ETHERTYPE_QINQ_OLD 0x9100u /* pre-standard S-tag, still seen */
#define MAX_VLAN_TAGS 4

/* Ethernet II: dst(6) src(6) type(2); an 802.1Q/802.1ad tag inserts
 * TPID(2) TCI(2) before the type. */
#define ETH_TYPE 12u
#define ETH_HDR_LEN 14u
#define VLAN_TAG_LEN 4u
#define VLAN_INNER_TYPE 2u /* from the tag's start: the type after it */
/* https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html: 16 bytes,
 * protocol type at 14; LINKTYPE_LINUX_SLL2: 20 bytes, protocol type first. */
#define SLL_PROTO 14u
#define SLL_HDR_LEN 16u
#define SLL2_PROTO 0u
#define SLL2_HDR_LEN 20u
#define NULL_HDR_LEN 4u    /* LINKTYPE_NULL/LOOP: the address family */

/* Link layer: the ethertype-like protocol and the offset of the network
 * header, or false when the packet is not IP. */
static enum mirror_cap_kind cap_link(int dlt, struct cursor *b, uint32_t *off,
				     unsigned *ipver)
{
	uint16_t et;
	uint32_t fam_be, fam_le;
	uint8_t v;

	switch (dlt) {
	case DLT_EN10MB:
		et = cur_be16_at(b, ETH_TYPE);
		*off = ETH_HDR_LEN;
		for (int i = 0; i < MAX_VLAN_TAGS && cur_ok(b) &&
				(et == ETHERTYPE_VLAN || et == ETHERTYPE_QINQ || et == ETHERTYPE_QINQ_OLD);
		     i++) {
			et = cur_be16_at(b, *off + VLAN_INNER_TYPE);
			*off += VLAN_TAG_LEN;
		}
		if (!cur_ok(b))
			return MIRROR_CAP_MALFORMED;
		break;
	case DLT_LINUX_SLL:
		et = cur_be16_at(b, SLL_PROTO);
		*off = SLL_HDR_LEN;
		if (!cur_ok(b))
			return MIRROR_CAP_MALFORMED;
		break;
	case DLT_LINUX_SLL2:
		et = cur_be16_at(b, SLL2_PROTO);
		(void)cur_take_at(b, 0, SLL2_HDR_LEN);
		*off = SLL2_HDR_LEN;
		if (!cur_ok(b))
			return MIRROR_CAP_MALFORMED;
		break;
	case DLT_NULL:
	case DLT_LOOP:
		/* LINKTYPE_NULL holds the AF_ value in the capturing host's
		 * byte order, LINKTYPE_LOOP in network order; try both.
		 * AF_INET is 2 everywhere; AF_INET6 is 10 (Linux), 24
		 * (NetBSD/OpenBSD), 28 (FreeBSD), 30 (macOS). */
		fam_be = cur_be32_at(b, 0);
		if (!cur_ok(b))
			return MIRROR_CAP_MALFORMED;
		fam_le = __builtin_bswap32(fam_be);
		*off = NULL_HDR_LEN;
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
		v = cur_u8_at(b, 0);
		if (!cur_ok(b))
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

/* RFC 791 3.1 (IPv4), RFC 8200 3 (IPv6) */
#define IP_VER_BYTE 0u     /* version, bits 7-4, in IPv4 and IPv6; IPv4: IHL bits 3-0 */
#define IP4_TOTAL_LEN 2u
#define IP4_FRAG 6u        /* flags(3) fragment offset(13) */
#define IP4_FRAG_MF_OFFSET 0x3fffu /* MF and the offset: a piece of a datagram */
#define IP4_PROTO 9u
#define IP4_SRC 12u
#define IP4_DST 16u
#define IP4_HDR_MIN 20u
/* RFC 8200 3, 4.5 */
#define IP6_PAYLOAD_LEN 4u
#define IP6_NEXT_HDR 6u
#define IP6_SRC 8u
#define IP6_DST 24u
#define IP6_HDR_LEN 40u
#define IP6_EXT_NEXT 0u    /* every extension header: next header, */
#define IP6_EXT_LEN 1u     /* its length */
#define IP6_FRAG_OFFSET 2u /* fragment header: offset(13) res(2) M(1) */
#define IP6_FRAG_MF_OFFSET 0xfff9u
#define IP6_FRAG_HDR_LEN 8u
/* RFC 9293 3.1 */
#define TCP_SPORT 0u
#define TCP_DPORT 2u
#define TCP_SEQ 4u
#define TCP_ACK 8u
#define TCP_DATA_OFFSET 12u /* bits 7-4, in 32-bit words */
#define TCP_FLAGS 13u
#define TCP_FLAGS_MASK 0x3fu /* URG ACK PSH RST SYN FIN */
#define TCP_WINDOW 14u
#define TCP_HDR_MIN 20u

/* Network layer: fills the addresses, the transport offset and the end of
 * the IP datagram as the IP header states it (may lie past the capture). */
static enum mirror_cap_kind cap_ip(struct cursor *b, uint32_t off, unsigned ver,
				   struct mirror_cap_segment *seg, uint32_t *l4off, uint32_t *ipend)
{
	uint8_t vb = cur_u8_at(b, off + IP_VER_BYTE), proto;
	uint16_t tot, frag;

	if (!cur_ok(b) || vb >> 4 != ver)
		return MIRROR_CAP_MALFORMED;
	if (ver == 4) {
		/* RFC 791: IHL in 32-bit words, >= 5; options follow. */
		uint32_t ihl = (uint32_t)(vb & 0x0f) * 4;

		if (ihl < IP4_HDR_MIN)
			return MIRROR_CAP_MALFORMED;
		(void)cur_take_at(b, off, ihl);
		tot = cur_be16_at(b, off + IP4_TOTAL_LEN);
		frag = cur_be16_at(b, off + IP4_FRAG);
		proto = cur_u8_at(b, off + IP4_PROTO);
		if (!cur_ok(b))
			return MIRROR_CAP_MALFORMED;
		/* A total length of 0 is what TSO-offloaded captures show:
		 * take the captured length then. */
		if (tot == 0)
			*ipend = (uint32_t)b->len;
		else if (tot < ihl)
			return MIRROR_CAP_MALFORMED;
		else
			*ipend = off + tot;
		seg->tuple.src.family = seg->tuple.dst.family = 4;
		/* inside the ihl bytes taken above */
		cur_copy_at(b, off + IP4_SRC, seg->tuple.src.addr, 4);
		cur_copy_at(b, off + IP4_DST, seg->tuple.dst.addr, 4);
		/* MF set or a fragment offset: a piece of a datagram; TCP
		 * payload is not whole in it. */
		if (frag & IP4_FRAG_MF_OFFSET)
			return MIRROR_CAP_FRAGMENT;
		if (proto != IPPROTO_TCP_)
			return MIRROR_CAP_NOT_TCP;
		*l4off = off + ihl;
		return MIRROR_CAP_TCP;
	}
	/* RFC 8200: fixed 40-byte header, then a chain of extension headers. */
	uint32_t pos = off + IP6_HDR_LEN;

	(void)cur_take_at(b, off, IP6_HDR_LEN);
	uint16_t plen = cur_be16_at(b, off + IP6_PAYLOAD_LEN);
	proto = cur_u8_at(b, off + IP6_NEXT_HDR);
	if (!cur_ok(b))
		return MIRROR_CAP_MALFORMED;
	seg->tuple.src.family = seg->tuple.dst.family = 6;
	cur_copy_at(b, off + IP6_SRC, seg->tuple.src.addr, 16);
	cur_copy_at(b, off + IP6_DST, seg->tuple.dst.addr, 16);
	/* Payload length 0 with a jumbo option (RFC 2675) or from TSO. */
	*ipend = plen ? pos + plen : (uint32_t)b->len;
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
			nh = cur_u8_at(b, pos + IP6_EXT_NEXT);
			hl = cur_u8_at(b, pos + IP6_EXT_LEN);
			if (!cur_ok(b))
				return MIRROR_CAP_MALFORMED;
			pos += ((uint32_t)hl + 1) * 8;
			break;
		case IP6_AH:
			/* RFC 4302: Payload Len in 4-octet units, minus 2. */
			nh = cur_u8_at(b, pos + IP6_EXT_NEXT);
			hl = cur_u8_at(b, pos + IP6_EXT_LEN);
			if (!cur_ok(b))
				return MIRROR_CAP_MALFORMED;
			pos += ((uint32_t)hl + 2) * 4;
			break;
		case IP6_FRAGMENT:
			nh = cur_u8_at(b, pos + IP6_EXT_NEXT);
			fo = cur_be16_at(b, pos + IP6_FRAG_OFFSET);
			if (!cur_ok(b))
				return MIRROR_CAP_MALFORMED;
			if (fo & IP6_FRAG_MF_OFFSET)
				return MIRROR_CAP_FRAGMENT;
			/* An atomic fragment (offset 0, M 0, RFC 6946) is whole. */
			pos += IP6_FRAG_HDR_LEN;
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
	struct cursor b;
	uint32_t off = 0, l4 = 0, ipend = 0, thl, end;
	unsigned ver = 0;
	uint8_t doff;
	enum mirror_cap_kind k;
	uint64_t ts = seg->ts_ns, no = seg->pkt_no;

	cur_init(&b, pkt, caplen);
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
	seg->tuple.src.port = cur_be16_at(&b, l4 + TCP_SPORT);
	seg->tuple.dst.port = cur_be16_at(&b, l4 + TCP_DPORT);
	seg->seq = cur_be32_at(&b, l4 + TCP_SEQ);
	seg->ack = cur_be32_at(&b, l4 + TCP_ACK);
	doff = cur_u8_at(&b, l4 + TCP_DATA_OFFSET);
	seg->flags = cur_u8_at(&b, l4 + TCP_FLAGS);
	seg->window = cur_be16_at(&b, l4 + TCP_WINDOW);
	if (!cur_ok(&b))
		return MIRROR_CAP_MALFORMED;
	thl = (uint32_t)(doff >> 4) * 4;
	if (thl < TCP_HDR_MIN || ipend < l4 + thl)
		return MIRROR_CAP_MALFORMED;
	seg->flags &= TCP_FLAGS_MASK;
	seg->link_hdr_len = off;
	seg->ip_hdr_len = l4 - off;
	seg->tcp_hdr_len = thl;
	if (!cur_has_at(&b, l4, TCP_HDR_MIN))
		return MIRROR_CAP_MALFORMED;
	if (!cur_has_at(&b, l4, thl)) {
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
	pcap_t *pcap;         /* NULL when file is */
	struct capfile *file; /* the project's reader, for a seekable file */
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
	int rc;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c) {
		fclose(f);
		snprintf(err, err_len, "%s: out of memory", path);
		return -ENOMEM;
	}
	rc = capfile_open(&c->file, f, path, err, err_len);
	if (rc == 0) {
		c->dlt = capfile_dlt(c->file);
		*out = c;
		return 0;
	}
	if (rc < 0) {
		fclose(f);
		free(c);
		return rc;
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
	if (c->pcap)
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

/* The next record of a file read by capfile: 1 and *h, *data; 0 at the
 * end; -EIO with the message naming the record. */
static int capture_next_file(struct mirror_capture *c, struct pcap_pkthdr *h,
			     const u_char **data, uint64_t *ts_ns)
{
	struct capfile_rec rec;
	char why[200];
	int rc = capfile_next(c->file, &rec, why, sizeof(why));

	if (rc < 0) {
		snprintf(c->err, sizeof(c->err), "packet %llu: %s",
			 (unsigned long long)c->st.packets + 1, why);
		return rc;
	}
	if (rc == 0)
		return 0;
	h->caplen = rec.caplen;
	h->len = rec.len;
	*data = rec.data;
	*ts_ns = rec.ts_ns;
	return 1;
}

int mirror_capture_next(struct mirror_capture *c, struct mirror_cap_segment *seg)
{
	struct pcap_pkthdr *h, fh;
	const u_char *data;
	uint64_t ts_ns = 0;
	int rc;

	for (;;) {
		if (c->stop)
			return 0;
		if (c->file) {
			h = &fh;
			rc = capture_next_file(c, &fh, &data, &ts_ns);
			if (rc <= 0)
				return rc;
			goto got;
		}
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
		ts_ns = (uint64_t)h->ts.tv_sec * 1000000000u + (uint64_t)h->ts.tv_usec;
got:
		c->st.packets++;
		c->st.bytes += h->caplen;
		seg->ts_ns = ts_ns;
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
	if (c->file)
		return capfile_offset(c->file);
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
	if (c->file)
		capfile_close(c->file);
	else
		pcap_close(c->pcap);
	free(c);
}
