/* The project's own reader of capture files: classic pcap (both byte
 * orders, microsecond and nanosecond magic) and pcapng (SHB, IDB, EPB,
 * SPB and the obsolete PB; other blocks skipped), over a sliding mmap
 * window of a regular file or a read buffer of any seekable stream.
 * libpcap stays for live capture, pipes and the formats this does not
 * handle (capfile_open says so and leaves the stream where it was).
 * Internal to libmirror. */
#ifndef MIRROR_LIB_CAPTURE_PCAP_FILE_H
#define MIRROR_LIB_CAPTURE_PCAP_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The largest captured length accepted: libpcap's MAXIMUM_SNAPLEN, past
 * which it too calls a record corrupt. */
#define CAPFILE_REC_MAX 262144u

struct capfile;

/* One record: data is valid until the next capfile_next call. */
struct capfile_rec {
	const uint8_t *data;
	uint32_t caplen, len;
	uint64_t ts_ns;
};

/* capfile_open's answer when the stream is not for this reader (not
 * seekable, a format or a link type it leaves to libpcap). */
#define CAPFILE_NOT_OURS 1

/* 0 and *out (which owns f from then on); CAPFILE_NOT_OURS with f where
 * it was (still the caller's); or a negative code with why naming name
 * (f still the caller's). */
int capfile_open(struct capfile **out, FILE *f, const char *name, char *why, size_t why_len);

/* The link type as a DLT_ value, as pcap_datalink() would give it. */
int capfile_dlt(const struct capfile *r);

/* 1 and *rec; 0 at the end of the file; -EIO (or another negative code)
 * with why saying what is wrong with the next record, without its
 * number (the caller knows it). */
int capfile_next(struct capfile *r, struct capfile_rec *rec, char *why, size_t why_len);

/* The file offset after the last record read. */
int64_t capfile_offset(const struct capfile *r);

/* True when the file is read through mmap (false: a read buffer). */
int capfile_mapped(const struct capfile *r);

/* Unmaps, frees and closes the stream. */
void capfile_close(struct capfile *r);

#endif
