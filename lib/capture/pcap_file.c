/* Capture files read without libpcap's copy of every packet.
 *
 * libpcap reads a file with fread into its own buffer: the kernel copies
 * every byte once more than needed, and on a capture of large segments that
 * copy is most of a decoder's time (perf: 55% of mirror-dissect's cycles in
 * copy_to_user under fread).  Here a regular file is mapped a window at a
 * time (the window slides, so memory stays flat whatever the file's size)
 * and a record's bytes are handed up where they lie; a seekable stream that
 * is not a regular file (fmemopen, the fuzzers and unit tests) is read into
 * a buffer that slides the same way.
 *
 * Every field is read from untrusted bytes through the checked cursor of
 * base/cursor.h, in the byte order the file declares: classic pcap by its
 * magic (pcap-savefile(5)), pcapng per section by the Byte-Order Magic of
 * its Section Header Block (draft-ietf-opsawg-pcapng section 4.1).  Lengths
 * are checked against the block or the file before any byte is used.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pcap/dlt.h>

#include <mirror/capture.h>

#include "base/cursor.h"
#include "capture/pcap_file.h"

#define WIN_MAP_BYTES (4u << 20)   /* the mapped window: RSS stays near this */
#define WIN_READ_BYTES (16u << 10) /* the read buffer's first size: grows to a record */

/* pcap-savefile(5): magic, version 2.4, thiszone, sigfigs, snaplen,
 * linktype (its low 26 bits: the rest are FCS flags); records of ts_sec,
 * ts_frac, caplen, len then the data. */
#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du
#define PCAP_HDR_LEN 24u
#define PCAP_VERSION_MAJOR 2u
#define PCAP_SNAPLEN 16u
#define PCAP_LINKTYPE 20u
#define PCAP_LINKTYPE_MASK 0x03ffffffu
#define PCAP_REC_HDR_LEN 16u
#define LINKTYPE_RAW 101u /* LINKTYPE_RAW: libpcap hands it up as DLT_RAW */

/* draft-ietf-opsawg-pcapng: every block is type(4) length(4) body
 * length(4), the length a multiple of 4 repeated at the end (4.1). */
#define NG_SHB 0x0a0d0d0au
#define NG_BOM 0x1a2b3c4du
#define NG_IDB 1u
#define NG_PB 2u  /* obsolete Packet Block (Appendix A) */
#define NG_SPB 3u
#define NG_EPB 6u
#define NG_BLOCK_MIN 12u
#define NG_BLOCK_MAX (16u << 20) /* libpcap's limit too: longer is corrupt */
#define NG_SHB_MIN 28u  /* type, length, BOM, version(4), section length(8), length */
#define NG_SHB_BOM 8u
#define NG_SHB_MAJOR 12u
#define NG_VERSION_MAJOR 1u
#define NG_IDB_LINKTYPE 8u /* 4.2: linktype(2) reserved(2) snaplen(4) options */
#define NG_IDB_SNAPLEN 12u
#define NG_IDB_OPTS 16u
#define NG_OPT_END 0u
#define NG_OPT_TSRESOL 9u  /* if_tsresol, 4.2: 1 byte */
#define NG_OPT_TSOFFSET 14u /* if_tsoffset, 4.2: 8 bytes of seconds */
#define NG_EPB_IF 8u       /* 4.3: interface(4) ts high(4) low(4) caplen origlen */
#define NG_EPB_DATA 28u
#define NG_PB_DATA 28u     /* A: interface(2) drops(2) ts high low caplen len */
#define NG_SPB_LEN 8u      /* 4.4: original length(4) then the data */
#define NG_SPB_DATA 12u
#define NG_MAX_IFACES 4096u
#define NG_TSRESOL_DEFAULT 6u /* microseconds when if_tsresol is absent */

struct iface {
	uint32_t snaplen;
	bool pow2;          /* if_tsresol's top bit: a power of 2 */
	uint8_t exp;        /* 10^-exp or 2^-exp seconds per unit */
	int64_t offset_s;   /* if_tsoffset */
};

struct capfile {
	FILE *f;
	int fd;
	bool mapped;
	uint64_t size;        /* mapped: the file's size at open */
	uint64_t start;       /* file offset of base[0] */
	const uint8_t *base;  /* the bytes held: [start, start + len) */
	size_t len;
	void *map;            /* mapped: the window */
	size_t map_len;
	uint8_t *buf;         /* read mode: the buffer */
	size_t cap;
	bool eof;
	uint64_t pos;         /* the next record or block */
	bool ng;
	bool be;              /* fields big-endian (classic: by the magic) */
	bool nsec;
	uint32_t snaplen;     /* classic: the header's, as libpcap adjusts it */
	int dlt;
	uint32_t linktype;    /* pcapng: the first interface's */
	struct iface *ifs;
	size_t n_if, cap_if;
};

/* ---- the window ---- */

static long page_size(void)
{
	long p = sysconf(_SC_PAGESIZE);

	return p > 0 ? p : 4096;
}

static int win_map(struct capfile *r, uint64_t off, size_t n)
{
	uint64_t mstart = off & ~(uint64_t)(page_size() - 1);
	uint64_t mlen = off - mstart + n;

	if (mlen < WIN_MAP_BYTES)
		mlen = WIN_MAP_BYTES;
	if (mlen > r->size - mstart)
		mlen = r->size - mstart;
	if (r->map)
		munmap(r->map, r->map_len);
	r->map = NULL;
	r->base = NULL;
	r->len = 0;
	/* No MAP_POPULATE: the kernel's fault-around maps 64 KiB a fault,
	 * and pages no record header lands on (data the decoder does not
	 * read) may never be mapped; measured 15% less CPU than populating
	 * the window.  The pages leave RSS at the next munmap. */
	void *m = mmap(NULL, (size_t)mlen, PROT_READ, MAP_PRIVATE, r->fd, (off_t)mstart);
	if (m == MAP_FAILED)
		return -errno;
	r->map = m;
	r->map_len = (size_t)mlen;
	r->base = m;
	r->start = mstart;
	r->len = (size_t)mlen;
	return 0;
}

static int win_read(struct capfile *r, uint64_t off, size_t n)
{
	size_t keep = 0, got;

	if (off < r->start + r->len) {
		keep = (size_t)(r->start + r->len - off);
		memmove(r->buf, r->buf + (off - r->start), keep);
	} else if (off > r->start + r->len) {
		/* never asked for: the window moves forward only, in order */
		return -EINVAL;
	}
	r->start = off;
	r->len = keep;
	if (n > r->cap) {
		uint8_t *nb = realloc(r->buf, n);

		if (!nb)
			return -ENOMEM;
		r->buf = nb;
		r->cap = n;
	}
	r->base = r->buf;
	while (r->len < n && !r->eof) {
		got = fread(r->buf + r->len, 1, r->cap - r->len, r->f);
		r->len += got;
		if (got == 0) {
			if (ferror(r->f))
				return -EIO;
			r->eof = true;
		}
	}
	return 0;
}

/* Makes the file's bytes [off, off + n) contiguous at *p; their count, n
 * or fewer where the file ends, or a negative code. */
static int64_t win_get(struct capfile *r, uint64_t off, size_t n, const uint8_t **p)
{
	uint64_t have_end = r->start + r->len;
	int rc;

	*p = NULL;
	if (off < r->start || off + n > have_end) {
		if (r->mapped) {
			if (off >= r->size)
				return 0;
			if (n > r->size - off)
				n = (size_t)(r->size - off);
			if (off < r->start || off + n > have_end)
				rc = win_map(r, off, n);
			else
				rc = 0;
		} else {
			rc = win_read(r, off, n);
		}
		if (rc < 0)
			return rc;
		have_end = r->start + r->len;
		if (off >= have_end)
			return 0;
		if (n > have_end - off)
			n = (size_t)(have_end - off);
	}
	*p = r->base + (off - r->start);
	return (int64_t)n;
}

/* ---- fields in the file's byte order ---- */

static uint16_t rd16(const struct capfile *r, struct cursor *c, size_t off)
{
	return r->be ? cur_be16_at(c, off) : cur_le16_at(c, off);
}

static uint32_t rd32(const struct capfile *r, struct cursor *c, size_t off)
{
	return r->be ? cur_be32_at(c, off) : cur_le32_at(c, off);
}

static int err_read(int64_t got, char *why, size_t why_len)
{
	snprintf(why, why_len, "read error: %s", strerror((int)-got));
	return got == -ENOMEM ? -ENOMEM : -EIO;
}

/* ---- classic pcap ---- */

static int pcap_next_rec(struct capfile *r, struct capfile_rec *rec, char *why, size_t why_len)
{
	const uint8_t *p;
	struct cursor c;
	int64_t got = win_get(r, r->pos, PCAP_REC_HDR_LEN, &p);

	if (got < 0)
		return err_read(got, why, why_len);
	if (got == 0)
		return 0;
	if (got < PCAP_REC_HDR_LEN) {
		snprintf(why, why_len,
			 "truncated capture: the record header at byte %llu has %lld of its %u bytes",
			 (unsigned long long)r->pos, (long long)got, PCAP_REC_HDR_LEN);
		return -EIO;
	}
	cur_init(&c, p, PCAP_REC_HDR_LEN);
	uint32_t sec = rd32(r, &c, 0), frac = rd32(r, &c, 4);
	uint32_t caplen = rd32(r, &c, 8), len = rd32(r, &c, 12);
	if (caplen > CAPFILE_REC_MAX) {
		snprintf(why, why_len,
			 "corrupt record at byte %llu: captured length %u is bigger than the maximum of %u",
			 (unsigned long long)r->pos, caplen, CAPFILE_REC_MAX);
		return -EIO;
	}
	got = win_get(r, r->pos + PCAP_REC_HDR_LEN, caplen, &p);
	if (got < 0)
		return err_read(got, why, why_len);
	if ((uint64_t)got < caplen) {
		snprintf(why, why_len,
			 "truncated capture: the record at byte %llu has %lld of its %u captured bytes",
			 (unsigned long long)r->pos, (long long)got, caplen);
		return -EIO;
	}
	r->pos += PCAP_REC_HDR_LEN + (uint64_t)caplen;
	rec->data = caplen ? p : (const uint8_t *)"";
	/* A record longer than the file's snaplen is cut to it, the rest
	 * skipped, as libpcap does (old writers got the snaplen wrong). */
	rec->caplen = caplen > r->snaplen ? r->snaplen : caplen;
	rec->len = len;
	rec->ts_ns = (uint64_t)sec * 1000000000u + (uint64_t)frac * (r->nsec ? 1u : 1000u);
	return 1;
}

/* ---- pcapng ---- */

static const char *const ng_why_prefix = "corrupt pcapng block at byte";

/* if_tsresol's value in units per second; false when it overflows 64 bits
 * as libpcap also refuses. */
static bool ng_tsresol_ok(uint8_t v)
{
	return (v & 0x80) ? (v & 0x7f) <= 63 : v <= 19;
}

/* A timestamp in the interface's units as nanoseconds (4.2, if_tsresol). */
static uint64_t ng_ts_ns(const struct iface *ifc, uint64_t t)
{
	uint64_t ns;

	if (ifc->pow2) {
		uint64_t sec = ifc->exp ? t >> ifc->exp : t;
		uint64_t frac = ifc->exp ? t & ((UINT64_C(1) << ifc->exp) - 1) : 0;

		ns = sec * 1000000000u +
		     (uint64_t)(((unsigned __int128)frac * 1000000000u) >> ifc->exp);
	} else if (ifc->exp <= 9) {
		ns = t;
		for (unsigned i = ifc->exp; i < 9; i++)
			ns *= 10;
	} else {
		ns = t;
		for (unsigned i = 9; i < ifc->exp; i++)
			ns /= 10;
	}
	return ns + (uint64_t)ifc->offset_s * 1000000000u;
}

static int ng_idb(struct capfile *r, struct cursor *c, size_t body_end, char *why, size_t why_len)
{
	struct iface ifc = { 0 };
	uint32_t lt = rd16(r, c, NG_IDB_LINKTYPE);
	size_t o = NG_IDB_OPTS;

	ifc.snaplen = rd32(r, c, NG_IDB_SNAPLEN);
	ifc.exp = NG_TSRESOL_DEFAULT;
	if (!cur_ok(c) || body_end < NG_IDB_OPTS)
		goto short_;
	/* options: code(2) length(2) value padded to 4, to opt_endofopt or
	 * the block's end (4.2, 3.5) */
	while (o + 4 <= body_end) {
		uint16_t code = rd16(r, c, o), olen = rd16(r, c, o + 2);
		size_t vlen = ((size_t)olen + 3) & ~(size_t)3;

		if (code == NG_OPT_END)
			break;
		if (vlen > body_end - o - 4)
			goto short_;
		if (code == NG_OPT_TSRESOL && olen >= 1) {
			uint8_t v = cur_u8_at(c, o + 4);

			if (!ng_tsresol_ok(v)) {
				snprintf(why, why_len, "%s %llu: if_tsresol 0x%02x is too fine",
					 ng_why_prefix, (unsigned long long)r->pos, v);
				return -EIO;
			}
			ifc.pow2 = v & 0x80;
			ifc.exp = v & 0x7f;
		} else if (code == NG_OPT_TSOFFSET && olen >= 8) {
			uint64_t hi = rd32(r, c, o + 4), lo = rd32(r, c, o + 8);

			ifc.offset_s = (int64_t)(r->be ? hi << 32 | lo : lo << 32 | hi);
		}
		o += 4 + vlen;
	}
	if (!cur_ok(c))
		goto short_;
	if (lt == LINKTYPE_RAW)
		lt = DLT_RAW;
	if (r->n_if == 0 && r->linktype == UINT32_MAX)
		r->linktype = lt;
	else if (lt != r->linktype) {
		/* one link type per file, as libpcap's reader has it */
		snprintf(why, why_len, "%s %llu: interface %zu has link type %u, not %u as the first",
			 ng_why_prefix, (unsigned long long)r->pos, r->n_if, lt, r->linktype);
		return -EIO;
	}
	if (ifc.snaplen == 0 || ifc.snaplen > CAPFILE_REC_MAX)
		ifc.snaplen = CAPFILE_REC_MAX;
	if (r->n_if == r->cap_if) {
		size_t ncap = r->cap_if ? r->cap_if * 2 : 4;
		struct iface *ni;

		if (ncap > NG_MAX_IFACES) {
			snprintf(why, why_len, "%s %llu: more than %u interfaces", ng_why_prefix,
				 (unsigned long long)r->pos, NG_MAX_IFACES);
			return -EIO;
		}
		ni = realloc(r->ifs, ncap * sizeof(*ni));
		if (!ni)
			return -ENOMEM;
		r->ifs = ni;
		r->cap_if = ncap;
	}
	r->ifs[r->n_if++] = ifc;
	return 0;
short_:
	snprintf(why, why_len, "%s %llu: interface description cut short", ng_why_prefix,
		 (unsigned long long)r->pos);
	return -EIO;
}

/* A new section: its byte order, its version; its interfaces start anew
 * (4.1). */
static int ng_shb(struct capfile *r, const uint8_t *p, uint32_t blen, char *why, size_t why_len)
{
	struct cursor c;

	cur_init(&c, p, blen);
	uint32_t bom = cur_be32_at(&c, NG_SHB_BOM);
	if (bom == NG_BOM)
		r->be = true;
	else if (bom == __builtin_bswap32(NG_BOM))
		r->be = false;
	else {
		snprintf(why, why_len, "%s %llu: byte-order magic 0x%08x is neither order",
			 ng_why_prefix, (unsigned long long)r->pos, bom);
		return -EIO;
	}
	uint16_t major = rd16(r, &c, NG_SHB_MAJOR);
	if (!cur_ok(&c) || major != NG_VERSION_MAJOR) {
		snprintf(why, why_len, "%s %llu: section version %u not supported", ng_why_prefix,
			 (unsigned long long)r->pos, major);
		return -EIO;
	}
	r->n_if = 0;
	return 0;
}

/* The block at r->pos whole in the window: *p, *type and *blen; 0 at the
 * end of the file, 1, or a negative code. */
static int ng_block(struct capfile *r, const uint8_t **p, uint32_t *type, uint32_t *blen,
		    char *why, size_t why_len)
{
	struct cursor c;
	int64_t got = win_get(r, r->pos, NG_BLOCK_MIN, p);

	if (got < 0)
		return err_read(got, why, why_len);
	if (got == 0)
		return 0;
	if (got < NG_BLOCK_MIN) {
		snprintf(why, why_len, "truncated capture: the block header at byte %llu has %lld of %u bytes",
			 (unsigned long long)r->pos, (long long)got, NG_BLOCK_MIN);
		return -EIO;
	}
	cur_init(&c, *p, NG_BLOCK_MIN);
	*type = rd32(r, &c, 0);
	if (*type == NG_SHB) {
		/* its own byte order is in it: take the order from its BOM */
		uint32_t bom = cur_be32_at(&c, NG_SHB_BOM);
		*blen = bom == NG_BOM ? cur_be32_at(&c, 4) : cur_le32_at(&c, 4);
	} else {
		*blen = rd32(r, &c, 4);
	}
	if (*blen < NG_BLOCK_MIN || *blen % 4 || *blen > NG_BLOCK_MAX ||
	    (*type == NG_SHB && *blen < NG_SHB_MIN)) {
		snprintf(why, why_len, "%s %llu: block length %u is invalid", ng_why_prefix,
			 (unsigned long long)r->pos, *blen);
		return -EIO;
	}
	got = win_get(r, r->pos, *blen, p);
	if (got < 0)
		return err_read(got, why, why_len);
	if (got < *blen) {
		snprintf(why, why_len, "truncated capture: the block at byte %llu has %lld of its %u bytes",
			 (unsigned long long)r->pos, (long long)got, *blen);
		return -EIO;
	}
	if (*type == NG_SHB) {
		int rc = ng_shb(r, *p, *blen, why, why_len);

		if (rc < 0)
			return rc;
	}
	cur_init(&c, *p, *blen);
	uint32_t trail = rd32(r, &c, *blen - 4);
	if (trail != *blen) {
		snprintf(why, why_len, "%s %llu: trailing length %u differs from the leading %u",
			 ng_why_prefix, (unsigned long long)r->pos, trail, *blen);
		return -EIO;
	}
	return 1;
}

/* An EPB, SPB or PB as a record (4.3, 4.4, Appendix A). */
static int ng_packet(struct capfile *r, const uint8_t *p, uint32_t type, uint32_t blen,
		     struct capfile_rec *rec, char *why, size_t why_len)
{
	struct cursor c;
	uint32_t ifno, caplen, len, data;
	uint64_t ts;

	cur_init(&c, p, blen - 4); /* the body, without the trailing length */
	if (type == NG_SPB) {
		ifno = 0;
		len = rd32(r, &c, NG_SPB_LEN);
		data = NG_SPB_DATA;
		/* no captured length field: the original, cut to the block
		 * and to interface 0's snaplen (4.4) */
		caplen = blen - 4 >= data ? blen - 4 - data : 0;
		if (len < caplen)
			caplen = len;
		ts = 0;
	} else {
		ifno = type == NG_EPB ? rd32(r, &c, NG_EPB_IF) : rd16(r, &c, NG_EPB_IF);
		ts = (uint64_t)rd32(r, &c, NG_EPB_IF + 4) << 32 | rd32(r, &c, NG_EPB_IF + 8);
		caplen = rd32(r, &c, NG_EPB_IF + 12);
		len = rd32(r, &c, NG_EPB_IF + 16);
		data = type == NG_EPB ? NG_EPB_DATA : NG_PB_DATA;
	}
	if (!cur_ok(&c)) {
		snprintf(why, why_len, "%s %llu: packet block of %u bytes is too short",
			 ng_why_prefix, (unsigned long long)r->pos, blen);
		return -EIO;
	}
	if (ifno >= r->n_if) {
		snprintf(why, why_len, "%s %llu: interface %u was not described", ng_why_prefix,
			 (unsigned long long)r->pos, ifno);
		return -EIO;
	}
	if (caplen > CAPFILE_REC_MAX) {
		snprintf(why, why_len, "%s %llu: captured length %u is bigger than the maximum of %u",
			 ng_why_prefix, (unsigned long long)r->pos, caplen, CAPFILE_REC_MAX);
		return -EIO;
	}
	const uint8_t *d = cur_take_at(&c, data, caplen);
	if (!d) {
		snprintf(why, why_len, "%s %llu: captured length %u overruns its block of %u bytes",
			 ng_why_prefix, (unsigned long long)r->pos, caplen, blen);
		return -EIO;
	}
	const struct iface *ifc = &r->ifs[ifno];
	rec->data = caplen ? d : (const uint8_t *)"";
	rec->caplen = caplen > ifc->snaplen ? ifc->snaplen : caplen;
	rec->len = len;
	rec->ts_ns = type == NG_SPB ? 0 : ng_ts_ns(ifc, ts);
	return 1;
}

static int ng_next_rec(struct capfile *r, struct capfile_rec *rec, char *why, size_t why_len)
{
	const uint8_t *p;
	uint32_t type, blen;
	int rc;

	for (;;) {
		rc = ng_block(r, &p, &type, &blen, why, why_len);
		if (rc <= 0)
			return rc;
		switch (type) {
		case NG_IDB: {
			struct cursor c;

			cur_init(&c, p, blen);
			rc = ng_idb(r, &c, blen - 4, why, why_len);
			break;
		}
		case NG_EPB:
		case NG_SPB:
		case NG_PB:
			rc = ng_packet(r, p, type, blen, rec, why, why_len);
			break;
		default:
			rc = 0; /* SHB (done), statistics, names, custom: skipped */
			break;
		}
		if (rc < 0)
			return rc;
		r->pos += blen;
		if (rc == 1)
			return 1;
	}
}

/* ---- open ---- */

/* The classic header: version, snaplen, link type. */
static int pcap_header(struct capfile *r, const uint8_t *p, int64_t got, const char *name,
		       char *why, size_t why_len)
{
	struct cursor c;

	if (got < PCAP_HDR_LEN) {
		snprintf(why, why_len, "%s: truncated capture file header: %lld of its %u bytes", name,
			 (long long)got, PCAP_HDR_LEN);
		return -EINVAL;
	}
	cur_init(&c, p, PCAP_HDR_LEN);
	uint16_t major = rd16(r, &c, 4);
	uint32_t snap = rd32(r, &c, PCAP_SNAPLEN);
	uint32_t lt = rd32(r, &c, PCAP_LINKTYPE) & PCAP_LINKTYPE_MASK;
	if (major != PCAP_VERSION_MAJOR)
		return CAPFILE_NOT_OURS; /* archaic: libpcap's business */
	if (lt == LINKTYPE_RAW)
		lt = DLT_RAW;
	if (!mirror_cap_dlt_supported((int)lt))
		return CAPFILE_NOT_OURS; /* libpcap names it in its error */
	r->dlt = (int)lt;
	/* libpcap takes a snaplen of 0 or past its maximum as the maximum */
	r->snaplen = snap == 0 || snap > CAPFILE_REC_MAX ? CAPFILE_REC_MAX : snap;
	r->pos += PCAP_HDR_LEN;
	return 0;
}

/* The section header and the blocks up to the first interface, whose link
 * type is the capture's (libpcap needs it at open too). */
static int ng_header(struct capfile *r, const char *name, char *why, size_t why_len)
{
	const uint8_t *p;
	uint32_t type, blen;
	char msg[160];
	int rc;

	r->linktype = UINT32_MAX;
	for (;;) {
		rc = ng_block(r, &p, &type, &blen, msg, sizeof(msg));
		if (rc < 0) {
			snprintf(why, why_len, "%s: %s", name, msg);
			return rc == -EIO ? -EINVAL : rc;
		}
		if (rc == 0 || type == NG_EPB || type == NG_SPB || type == NG_PB)
			return CAPFILE_NOT_OURS; /* no interface first: libpcap says so */
		if (type == NG_IDB) {
			struct cursor c;

			cur_init(&c, p, blen);
			rc = ng_idb(r, &c, blen - 4, msg, sizeof(msg));
			if (rc < 0) {
				snprintf(why, why_len, "%s: %s", name, msg);
				return rc == -EIO ? -EINVAL : rc;
			}
			r->pos += blen;
			if (!mirror_cap_dlt_supported((int)r->linktype))
				return CAPFILE_NOT_OURS;
			r->dlt = (int)r->linktype;
			return 0;
		}
		r->pos += blen;
	}
}

int capfile_open(struct capfile **out, FILE *f, const char *name, char *why, size_t why_len)
{
	struct capfile *r;
	struct stat sb;
	const uint8_t *p;
	off_t pos0 = ftello(f);
	int64_t got;
	int rc;

	*out = NULL;
	if (pos0 < 0)
		return CAPFILE_NOT_OURS; /* a pipe: libpcap reads it as it comes */
	r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(why, why_len, "%s: out of memory", name);
		return -ENOMEM;
	}
	r->f = f;
	r->fd = fileno(f);
	r->pos = r->start = (uint64_t)pos0;
	if (r->fd >= 0 && fstat(r->fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size >= pos0) {
		r->mapped = true;
		r->size = (uint64_t)sb.st_size;
	} else {
		r->fd = -1;
		r->buf = malloc(WIN_READ_BYTES);
		if (!r->buf) {
			free(r);
			snprintf(why, why_len, "%s: out of memory", name);
			return -ENOMEM;
		}
		r->cap = WIN_READ_BYTES;
	}
	got = win_get(r, r->pos, PCAP_HDR_LEN, &p);
	if (got < 4) {
		rc = CAPFILE_NOT_OURS; /* not even a magic: libpcap's message */
		goto not_ours;
	}
	uint32_t magic = get_be32(p);
	if (magic == PCAP_MAGIC_US || magic == PCAP_MAGIC_NS) {
		r->be = true;
		r->nsec = magic == PCAP_MAGIC_NS;
		rc = pcap_header(r, p, got, name, why, why_len);
	} else if (magic == __builtin_bswap32(PCAP_MAGIC_US) ||
		   magic == __builtin_bswap32(PCAP_MAGIC_NS)) {
		r->nsec = magic == __builtin_bswap32(PCAP_MAGIC_NS);
		rc = pcap_header(r, p, got, name, why, why_len);
	} else if (magic == NG_SHB) {
		r->ng = true;
		rc = ng_header(r, name, why, why_len);
	} else {
		rc = CAPFILE_NOT_OURS;
	}
	if (rc == 0) {
		*out = r;
		return 0;
	}
not_ours:
	/* the stream goes back to the caller where it was */
	if (r->map)
		munmap(r->map, r->map_len);
	free(r->buf);
	free(r->ifs);
	free(r);
	if (fseeko(f, pos0, SEEK_SET) < 0 && rc == CAPFILE_NOT_OURS) {
		snprintf(why, why_len, "%s: cannot go back to the start: %s", name, strerror(errno));
		return -EIO;
	}
	return rc;
}

int capfile_dlt(const struct capfile *r)
{
	return r->dlt;
}

int capfile_next(struct capfile *r, struct capfile_rec *rec, char *why, size_t why_len)
{
	return r->ng ? ng_next_rec(r, rec, why, why_len) : pcap_next_rec(r, rec, why, why_len);
}

int64_t capfile_offset(const struct capfile *r)
{
	return (int64_t)r->pos;
}

int capfile_mapped(const struct capfile *r)
{
	return r->mapped;
}

void capfile_close(struct capfile *r)
{
	if (!r)
		return;
	if (r->map)
		munmap(r->map, r->map_len);
	free(r->buf);
	free(r->ifs);
	fclose(r->f);
	free(r);
}
