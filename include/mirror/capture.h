/* libmirror capture input: packets from a pcap/pcapng file (a seekable one
 * through libmirror's own reader over a memory map or read buffer; pipes,
 * live capture and formats it leaves alone through libpcap) decoded down
 * to TCP segments, and per-direction TCP stream reassembly.
 *
 * This layer knows nothing above TCP.  The fast path copies no packet
 * bytes: a segment's payload points into the reader's buffer or map and is
 * valid only until the next mirror_capture_next() call; in-order stream
 * data is delivered straight from there (only out-of-order data is copied).
 *
 * Errors are negative codes (include/mirror/error.h) with a message that
 * names the packet number (counted from 1) where there is one.
 */
#ifndef MIRROR_CAPTURE_H
#define MIRROR_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- packets to TCP segments ---- */

/* One side of a TCP connection.  family is 4 or 6; an IPv4 address takes
 * addr[0..3]; the rest of addr is zero so tuples compare with memcmp. */
struct mirror_cap_endpoint {
	uint8_t addr[16];
	uint16_t port;
	uint8_t family;
	uint8_t pad_;
};

/* Oriented in the direction of the segment (or stream direction): src
 * sent it, dst receives it. */
struct mirror_cap_tuple {
	struct mirror_cap_endpoint src, dst;
};

/* TCP flags as in the header's flag byte (RFC 9293 section 3.1). */
#define MIRROR_TCP_FIN 0x01u
#define MIRROR_TCP_SYN 0x02u
#define MIRROR_TCP_RST 0x04u
#define MIRROR_TCP_PSH 0x08u
#define MIRROR_TCP_ACK 0x10u
#define MIRROR_TCP_URG 0x20u

struct mirror_cap_segment {
	struct mirror_cap_tuple tuple;
	uint32_t seq, ack;
	uint8_t flags;    /* MIRROR_TCP_* */
	uint16_t window;
	/* Payload bytes that are in the capture (clamped to the captured
	 * length and to the IP length, so Ethernet padding is never payload). */
	const uint8_t *payload;
	uint32_t payload_len;
	/* Payload bytes the IP length promises but the snaplen cut off; they
	 * follow payload_len in sequence space. */
	uint32_t payload_lost;
	uint64_t ts_ns;   /* capture timestamp, ns since the epoch */
	uint64_t pkt_no;  /* packet number in the file, from 1 */
	/* Header bytes for accounting: link (incl. VLAN tags), IP (incl.
	 * options / extension headers), TCP (incl. options). */
	uint32_t link_hdr_len, ip_hdr_len, tcp_hdr_len;
	uint32_t wire_len; /* original length of the whole packet */
};

/* What one packet turned out to be. */
enum mirror_cap_kind {
	MIRROR_CAP_TCP = 1,      /* a TCP segment: *seg is filled in */
	MIRROR_CAP_NOT_IP = 0,   /* ARP, LLDP, unknown family or ethertype */
	MIRROR_CAP_NOT_TCP = -1, /* IP but not TCP (UDP, ICMP, ...) */
	MIRROR_CAP_FRAGMENT = -2, /* an IP fragment (skipped, counted) */
	MIRROR_CAP_MALFORMED = -3, /* headers cut short or inconsistent */
};

struct mirror_cap_stats {
	uint64_t packets;        /* records read */
	uint64_t tcp_segments;   /* handed up */
	uint64_t not_ip, not_tcp;
	uint64_t fragments;      /* IPv4/IPv6 fragments skipped */
	uint64_t malformed;      /* link/IP/TCP headers cut short or invalid */
	uint64_t truncated_segments; /* TCP segments with payload_lost > 0 */
	uint64_t lost_bytes;     /* sum of payload_lost */
	uint64_t bytes;          /* sum of captured lengths */
};

/* Decodes one packet of link type dlt (a DLT_* value as pcap_datalink()
 * returns it).  Pure function of its input: every read is bounds-checked
 * against caplen.  seg->ts_ns and seg->pkt_no are left to the caller. */
enum mirror_cap_kind mirror_cap_decode(int dlt, const uint8_t *pkt, uint32_t caplen,
				       uint32_t wire_len, struct mirror_cap_segment *seg);

/* True when libmirror can decode link type dlt. */
bool mirror_cap_dlt_supported(int dlt);

struct mirror_capture;

/* Opens path ("-" is standard input) as pcap or pcapng.  0 and *out, or a
 * negative code (-ENOENT etc. from opening the file; -EINVAL for a file
 * that is not a capture or whose header is cut; -EPROTONOSUPPORT for a link type this layer
 * cannot decode) with a message in err. */
int mirror_capture_open(struct mirror_capture **out, const char *path, char *err, size_t err_len);

/* The same from a stream already open (a pipe, fmemopen(3), a memfd):
 * the capture owns f from here on (closed by mirror_capture_close, or
 * before returning on failure).  name (may be NULL) is only for messages. */
int mirror_capture_open_fp(struct mirror_capture **out, FILE *f, const char *name, char *err,
			   size_t err_len);

/* Live capture on an interface (libpcap; needs CAP_NET_RAW): filter is a
 * pcap-filter(7) expression or NULL, snaplen 0 for 262144, buffer_bytes 0
 * for libpcap's default kernel buffer.  mirror_capture_next then returns
 * -EAGAIN when nothing arrived within timeout_ms (so a caller can refresh
 * a screen or check a stop flag) and never returns 0 until
 * mirror_capture_break() is called (from any thread or a signal handler).
 * -EPERM / -ENODEV / -EINVAL (bad filter) with a message in err. */
int mirror_capture_open_live(struct mirror_capture **out, const char *iface, const char *filter,
			     unsigned snaplen, unsigned buffer_bytes, unsigned timeout_ms, char *err,
			     size_t err_len);
/* Ends a live capture: the next mirror_capture_next returns 0. */
void mirror_capture_break(struct mirror_capture *c);
/* Packets the kernel dropped for lack of buffer space (live captures:
 * pcap_stats' ps_drop plus ps_ifdrop), 0 for a file. */
uint64_t mirror_capture_drops(struct mirror_capture *c);
/* True for a live capture. */
bool mirror_capture_is_live(const struct mirror_capture *c);

/* Next TCP segment: 1 and *seg; 0 at the end of the file; or a negative
 * code (-EIO: truncated or corrupt file) with mirror_capture_error()
 * saying "packet N: <libpcap's message>".  Packets that are not TCP are
 * skipped and counted.  seg->payload is valid until the next call. */
int mirror_capture_next(struct mirror_capture *c, struct mirror_cap_segment *seg);

/* The message of the last error ("" when none). */
const char *mirror_capture_error(const struct mirror_capture *c);
/* Bytes of the file consumed so far (the stream position, which runs
 * ahead of the packets by at most libpcap's read buffer), or -1 when the
 * stream cannot tell (a pipe). */
int64_t mirror_capture_offset(const struct mirror_capture *c);
/* Packets read so far (the number of the last packet read). */
uint64_t mirror_capture_packet_no(const struct mirror_capture *c);
int mirror_capture_dlt(const struct mirror_capture *c);
const struct mirror_cap_stats *mirror_capture_stats(const struct mirror_capture *c);
void mirror_capture_close(struct mirror_capture *c);

/* True when seg is sent to port (the target side: 3260 for iSCSI). */
static inline bool mirror_cap_to_port(const struct mirror_cap_segment *seg, uint16_t port)
{
	return seg->tuple.dst.port == port;
}
#define MIRROR_CAP_DEFAULT_PORT 3260u

/* ---- TCP stream reassembly ---- */

struct mirror_tcp_opts {
	size_t max_ooo_bytes; /* out-of-order bytes buffered per direction; 0: 4 MiB */
	size_t max_conns;     /* connections tracked at once; 0: 4096 (LRU evicted) */
};

enum mirror_tcp_event_kind {
	/* A new stream: both endpoints in ev->tuple (src = the side seen
	 * first, or the SYN's sender), dir 0. */
	MIRROR_TCP_EV_OPEN = 1,
	/* In-order payload bytes of one direction; never delivered twice. */
	MIRROR_TCP_EV_DATA = 2,
	/* len bytes of the direction's sequence space that will never be
	 * delivered (a hole that did not fill before the window limit,
	 * FIN/RST/close, or bytes cut by the snaplen): resynchronise. */
	MIRROR_TCP_EV_GAP = 3,
	/* The stream ends (both FINs, RST, port reuse, LRU eviction or the
	 * final flush); no event follows for this stream id. */
	MIRROR_TCP_EV_CLOSE = 4,
};

enum mirror_tcp_close_reason {
	MIRROR_TCP_CLOSE_FIN = 1,
	MIRROR_TCP_CLOSE_RST = 2,
	MIRROR_TCP_CLOSE_REUSE = 3, /* a new SYN on the same tuple */
	MIRROR_TCP_CLOSE_EVICT = 4, /* connection table full */
	MIRROR_TCP_CLOSE_FLUSH = 5, /* mirror_tcp_flush (end of capture) */
};

struct mirror_tcp_event {
	enum mirror_tcp_event_kind kind;
	uint64_t stream_id;   /* from 1, unique over the reassembler's life */
	int dir;              /* 0: from the stream's first endpoint, 1: back */
	/* Oriented as dir: tuple->src sent these bytes. */
	const struct mirror_cap_tuple *tuple;
	const uint8_t *data;  /* DATA: the bytes (valid during the call) */
	uint32_t len;         /* DATA, GAP: byte count */
	uint32_t seq;         /* DATA, GAP: TCP sequence number of the first byte */
	uint64_t pkt_no;      /* the packet that completed / carried the bytes */
	uint64_t ts_ns;
	enum mirror_tcp_close_reason reason; /* CLOSE */
};

typedef void (*mirror_tcp_cb)(void *user, const struct mirror_tcp_event *ev);

struct mirror_tcp_stats {
	uint64_t segments;          /* segments given to mirror_tcp_add */
	uint64_t delivered_bytes;   /* goodput: bytes in DATA events */
	uint64_t retrans_segments;  /* wholly old data (all bytes seen) */
	uint64_t retrans_bytes;
	uint64_t overlap_segments;  /* partly old data, new part delivered */
	uint64_t overlap_bytes;     /* the old part */
	uint64_t ooo_segments;      /* buffered out of order */
	uint64_t ooo_bytes_peak;    /* most bytes buffered in one direction */
	uint64_t gaps, gap_bytes;   /* GAP events (incl. snaplen) */
	uint64_t snaplen_gap_bytes; /* the part of gap_bytes cut by the snaplen */
	uint64_t streams_opened, streams_closed, streams_evicted;
	uint64_t streams_open;      /* now */
};

struct mirror_tcp;

/* 0 and *out, or -ENOMEM / -EINVAL.  opts may be NULL. */
int mirror_tcp_new(struct mirror_tcp **out, const struct mirror_tcp_opts *opts, mirror_tcp_cb cb,
		   void *user);
/* Feeds one segment: events are called back before it returns.  0, or
 * -ENOMEM (the segment could not be buffered: reported as a gap later). */
int mirror_tcp_add(struct mirror_tcp *t, const struct mirror_cap_segment *seg);
/* End of input: every open stream delivers what is buffered (holes as
 * gaps) and closes with MIRROR_TCP_CLOSE_FLUSH. */
void mirror_tcp_flush(struct mirror_tcp *t);
const struct mirror_tcp_stats *mirror_tcp_stats(const struct mirror_tcp *t);
void mirror_tcp_free(struct mirror_tcp *t);

#ifdef __cplusplus
}
#endif
#endif
