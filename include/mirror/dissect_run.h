/* A capture file to mirror operations: the capture reader, TCP
 * reassembly and the iSCSI stream decoder wired together, and the per-path
 * summary mirror-dissect prints (wire-profile.md, "Interrupt accounting
 * model" and "Byte accounting"). */
#ifndef MIRROR_DISSECT_RUN_H
#define MIRROR_DISSECT_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <mirror/capture.h>
#include <mirror/dissect.h>

#ifdef __cplusplus
extern "C" {
#endif

struct json_object;

struct mirror_dissect_run_opts {
	const char *path;                 /* capture file, "-" for stdin */
	/* The target's port tells the initiator side.  0: 3260, and for a
	 * connection on neither side of 3260, the side that sends the first
	 * initiator PDU (Login Request, SCSI Command, ...) is the initiator. */
	uint16_t target_port;
	struct mirror_dissect_options dissect;
	/* When not NULL, the capture is read from this stream instead of
	 * opening path (path, if set, only names it in messages); the run
	 * owns it and closes it before returning, whatever the outcome. */
	FILE *fp;
	/* When not NULL, called about every 1024 packets and once at the end
	 * with the bytes of the file consumed so far (the stream position:
	 * it may run ahead of the packets by libpcap's read buffer) and the
	 * file's size (0 when unknown: a pipe, not a regular file).  Not
	 * called at all when the position cannot be told.  The library
	 * prints nothing: the callback decides whether and how often. */
	void (*progress)(void *ctx, uint64_t bytes_read, uint64_t total);
	void *progress_ctx;
	/* Live capture instead of a file when iface is set (path and fp are
	 * then ignored): filter is a pcap-filter(7) expression or NULL;
	 * buffer_bytes 0 for libpcap's default.  The run goes on until tick
	 * calls mirror_capture_break(cap). */
	const char *iface;
	const char *filter;
	unsigned buffer_bytes;
	/* When not NULL, called about every tick_ms (0: 100) of wall-clock
	 * time while a live capture runs, whether packets arrive or not, so
	 * a caller can refresh a view or end the run. */
	void (*tick)(void *ctx, struct mirror_capture *cap);
	void *tick_ctx;
	unsigned tick_ms;
};

struct mirror_dissect_run_stats {
	struct mirror_cap_stats capture;
	struct mirror_tcp_stats tcp;
	uint64_t streams;          /* iSCSI connections decoded */
	uint64_t streams_ignored;  /* TCP streams not to or from the target port */
	uint64_t header_digest_errors, data_digest_errors, resyncs, lost_bytes;
	uint64_t kernel_drops;     /* live: packets the kernel dropped (libpcap's ps_drop + ps_ifdrop) */
	bool file_error;           /* the file ended in a truncation or corruption */
	char error[256];           /* what, at which packet */
};

/* Reads the whole capture and calls cb for each operation.  0, or a
 * negative code: -errno/-EINVAL when the file cannot be opened (nothing
 * was decoded), -EIO when it is truncated or corrupt (what was read before
 * that was decoded and reported; the message is in st->error). */
int mirror_dissect_run(const struct mirror_dissect_run_opts *o, mirror_dissect_op_fn cb, void *ctx,
		       struct mirror_dissect_run_stats *st);

/* ---- per-path summary ---- */

#define MIRROR_LAT_BUCKETS 512

struct mirror_path_summary {
	uint64_t ops, complete;
	unsigned interrupts_min, interrupts_max;
	uint64_t interrupts;
	struct mirror_cost bytes; /* sums over complete operations */
	uint64_t latency_n;
	uint32_t latency_hist[MIRROR_LAT_BUCKETS]; /* log-linear, microseconds */
	/* what the same writes would have cost on the other path, where it
	 * could carry them (Fig. 7 blocks 700 and 716) */
	uint64_t cf_ops;
	struct mirror_cost cf_actual, cf_other;
};

#define MIRROR_SUMMARY_FINDINGS_MAX 64

struct mirror_summary_finding {
	uint64_t packet;
	uint32_t itt;
	char text[200];
	bool error;
};

struct mirror_dissect_summary {
	struct mirror_profile profile;
	struct mirror_path_summary path[3]; /* by enum mirror_dissect_path */
	uint64_t ops;
	/* PDU counts, for comparison with other dissectors (tshark) */
	uint64_t commands_by_opcode[256];
	uint64_t dataout_pdus, r2ts, datain_pdus, responses;
	/* metadata sequence numbers per connection (the sender's counter) */
	struct {
		uint64_t conn_id;
		uint32_t last;
		uint64_t last_packet; /* command packet of the op that set last */
		bool used;
		/* the latest gap, while operations issued before the one that
		 * showed it may still complete and fill it */
		bool gap_open;
		uint32_t gap_from, gap_to, gap_filled;
		int gap_finding; /* its index in finding[], -1: not stored */
	} seq[64];
	uint64_t seq_gaps, seq_repeats;
	unsigned nfindings;
	uint64_t findings_dropped, errors, warnings;
	struct mirror_summary_finding finding[MIRROR_SUMMARY_FINDINGS_MAX];
};

void mirror_dissect_summary_init(struct mirror_dissect_summary *s, const struct mirror_profile *p);
/* Adds one operation; checks it against the profile and records findings
 * (decoder findings, non-GOOD status, incomplete operations, operations
 * over 1 MiB, elements over 16 KiB, missed small-path opportunities). */
void mirror_dissect_summary_add(struct mirror_dissect_summary *s, const struct mirror_dissect_op *op);
/* Latency percentile (0 < q < 1) in microseconds, 0 when none. */
double mirror_path_summary_latency(const struct mirror_path_summary *p, double q);

/* The JSON summary (mirror-dissect(1) documents the keys). */
struct json_object *mirror_dissect_summary_json(const struct mirror_dissect_summary *s,
						const struct mirror_dissect_run_stats *st);
void mirror_dissect_summary_print(FILE *out, const struct mirror_dissect_summary *s,
				  const struct mirror_dissect_run_stats *st, double link_rate_bps);
/* One operation as JSON (mirror-dissect --ops --json) and as a table row. */
struct json_object *mirror_dissect_op_json(const struct mirror_dissect_op *op);
void mirror_dissect_op_print(FILE *out, const struct mirror_dissect_op *op, bool header);

#ifdef __cplusplus
}
#endif
#endif
