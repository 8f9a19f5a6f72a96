/* mirror-load's workload generator: the busy small-record load the
 * source argues the small path is for (many small random writes), driven
 * over the transport seam with many commands outstanding.
 *
 * The pure parts (size mix, LBA choice, the NVRAM ring a write cache is,
 * the rate limit, result aggregation, the difference of mirror-emu's
 * counters) do no I/O and are unit tested; mirror_load_run() is the engine
 * that sends. */
#ifndef MIRROR_LOAD_H
#define MIRROR_LOAD_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <mirror/dissect_run.h>
#include "base/histogram.h"
#include "base/iqn.h"
#include "iscsi/stats.h"
#include <mirror/path.h>
#include <mirror/profile.h>
#include <mirror/transport.h>

/* mirror-load's initiator names start with this. */
#define MIRROR_LOAD_INITIATOR MIRROR_IQN_PREFIX ":load"

#ifdef __cplusplus
extern "C" {
#endif

struct json_object;

/* ---- size mix: "512:40,4k:40,32k:15,256k:4,2m:1" ---- */

#define MIRROR_LOAD_MIX_MAX 16u
/* Largest write of a mix: a host write is split into 1 MiB operations, so
 * more is allowed, but it must fit the NVRAM ring many times over. */
#define MIRROR_LOAD_WRITE_MAX (16u * 1024u * 1024u)

struct mirror_load_mix {
	unsigned n;
	uint32_t bytes[MIRROR_LOAD_MIX_MAX];
	unsigned weight[MIRROR_LOAD_MIX_MAX];
	unsigned total_weight;
};

/* SIZE:WEIGHT,... (SIZE with K/M suffix, a multiple of 512, at most
 * MIRROR_LOAD_WRITE_MAX; WEIGHT 1..1000000; ":WEIGHT" may be left out for
 * 1).  -EINVAL with the entry at fault named in why. */
int mirror_load_mix_parse(const char *s, struct mirror_load_mix *m, char *why, size_t why_len);
/* The size the random value r picks, in proportion to the weights. */
uint32_t mirror_load_mix_pick(const struct mirror_load_mix *m, uint64_t r);
uint32_t mirror_load_mix_max(const struct mirror_load_mix *m);
/* "512:40,4K:40,..." for reports. */
void mirror_load_mix_format(const struct mirror_load_mix *m, char *buf, size_t len);

/* ---- the stream of host writes ---- */

/* splitmix64: one 64-bit value per call; the same seed, the same stream. */
uint64_t mirror_load_rand(uint64_t *state);

enum mirror_load_lba_mode { MIRROR_LOAD_LBA_RANDOM = 0, MIRROR_LOAD_LBA_SEQ };

struct mirror_load_gen {
	struct mirror_load_mix mix;
	enum mirror_load_lba_mode lba_mode;
	uint64_t lba_first, lba_count; /* blocks of 512 bytes */
	uint64_t rng;
	uint64_t seq_next; /* sequential: next LBA, relative to lba_first */
	uint64_t writes;
};

/* -EINVAL (why) when the range cannot hold the mix's largest write or
 * ends beyond 2^32 blocks (the mirror commands' LBA fields). */
int mirror_load_gen_init(struct mirror_load_gen *g, const struct mirror_load_mix *mix,
			 enum mirror_load_lba_mode mode, uint64_t lba_first, uint64_t lba_count,
			 uint64_t seed, char *why, size_t why_len);
/* The next write: its size and LBA.  Random LBAs are aligned to 4 KiB for
 * writes of 4 KiB or more, as a file system's would be; sequential ones
 * follow each other and wrap to the range's start. */
void mirror_load_gen_next(struct mirror_load_gen *g, uint32_t *bytes, uint32_t *lba);

/* ---- the NVRAM ring of a write cache ---- */

/* Writes take NVRAM in order around the sender's region and free it in any
 * order; space is reused only once every older write is free, as in a
 * cache that destages in order.  A write may wrap at the region's end (the
 * splitter follows it), and a small write lands wherever the ring is, so
 * its descriptors sometimes straddle the boundary where their shared high
 * bits change (Fig. 7 block 716) and it goes large, as in a real cache. */
struct mirror_load_ring {
	uint32_t start, end; /* the region */
	uint32_t head;       /* next byte handed out */
	uint64_t used;       /* bytes between the oldest live write and head */
	unsigned cap, first, count;
	struct mirror_load_ring_entry {
		uint32_t bytes;
		bool live;
	} *e;
};

/* cap: most writes live at once.  -ENOMEM; -EINVAL for an empty or
 * unaligned region. */
int mirror_load_ring_init(struct mirror_load_ring *r, uint32_t start, uint32_t end, unsigned cap);
void mirror_load_ring_free(struct mirror_load_ring *r);
/* 0 with the write's NVRAM address and a ticket for _release; -EAGAIN
 * when the ring is full (wait for a completion); -E2BIG if bytes could
 * never fit. */
int mirror_load_ring_alloc(struct mirror_load_ring *r, uint32_t bytes, uint32_t *addr,
			   unsigned *ticket);
void mirror_load_ring_release(struct mirror_load_ring *r, unsigned ticket);

/* ---- rate limit ---- */

/* Writes per second, from start_ns on; a client that fell behind catches
 * up by at most burst writes, never by a flood. */
struct mirror_load_rate {
	double per_sec;
	uint64_t start_ns;
	uint64_t granted;
	unsigned burst;
};
void mirror_load_rate_init(struct mirror_load_rate *r, double per_sec, unsigned burst,
			   uint64_t now_ns);
/* True (and counted) when one more write may go now; per_sec 0: always. */
bool mirror_load_rate_take(struct mirror_load_rate *r, uint64_t now_ns);
/* Nanoseconds until the next write may go (0: now). */
uint64_t mirror_load_rate_wait(const struct mirror_load_rate *r, uint64_t now_ns);

/* ---- results ---- */

enum mirror_load_kind { MIRROR_LOAD_SMALL = 0, MIRROR_LOAD_LARGE, MIRROR_LOAD_WRITE10,
			MIRROR_LOAD_KINDS };
const char *mirror_load_kind_name(enum mirror_load_kind k); /* small, large, write10 */

struct mirror_load_kind_result {
	uint64_t ops, good;
	uint64_t data_bytes;     /* user data */
	uint64_t cdb_bytes;
	uint64_t metadata_bytes; /* the 1024-byte message of the large path */
	struct mirror_hist lat;
};

#define MIRROR_LOAD_SENSE_MAX 16u

struct mirror_load_result {
	uint64_t writes;         /* host writes completed (every op done) */
	uint64_t ops;            /* commands completed */
	uint64_t good;
	struct mirror_load_kind_result kind[MIRROR_LOAD_KINDS];
	struct mirror_hist lat;  /* every completed command */
	/* errors */
	unsigned nsense;
	struct {
		uint8_t key, asc, ascq;
		uint64_t n;
	} sense[MIRROR_LOAD_SENSE_MAX];
	uint64_t sense_other;    /* sense beyond the table's room */
	uint64_t status_other;   /* non-GOOD without usable sense */
	uint64_t transport;      /* transport failures (timeouts, lost connections) */
	uint64_t data_in_unexpected;
	/* verification by NVRAM READBACK */
	uint64_t verified, readbacks, miscompares, verify_errors;
	uint64_t elapsed_ns;
	char first_error[256];
};

void mirror_load_result_init(struct mirror_load_result *r);
/* Counts one completed command of kind k carrying data_bytes of user data
 * and metadata_bytes of metadata. */
void mirror_load_result_add(struct mirror_load_result *r, enum mirror_load_kind k,
			    const struct mirror_cmd *c, uint32_t data_bytes, uint32_t metadata_bytes,
			    const char *transport_error);
/* Keeps the first error's text only. */
__attribute__((format(printf, 2, 3)))
void mirror_load_result_note(struct mirror_load_result *r, const char *fmt, ...);
uint64_t mirror_load_result_errors(const struct mirror_load_result *r);
void mirror_load_result_merge(struct mirror_load_result *dst, const struct mirror_load_result *src);

/* ---- the receiver's cost from mirror-emu's counters ---- */

/* A path's cost is counted as mirror-emu counts it (iscsi/stats.h), so a
 * capture's cost and the emulator's read the same way. */
struct mirror_load_emu_cost {
	struct mirror_stats_kind path[2]; /* by enum mirror_path */
	uint64_t check_conditions;
	uint64_t seq_gaps, seq_repeats;
};
/* after - before of two readings of mirror-emu's counters
 * (mirror_stats_read; before may be NULL: from zero).  -EINVAL with the
 * missing key in why. */
int mirror_load_emu_delta(const struct mirror_stats *before, const struct mirror_stats *after,
			  struct mirror_load_emu_cost *out, char *why, size_t why_len);

/* ---- the receiver's cost from a capture of the run ---- */

/* The TCP port of an iscsi:// URL (3260 when it names none), 0 for
 * anything else: a device path, or a URL mirror_url_parse refuses. */
uint16_t mirror_load_url_port(const char *url);

/* A live capture that runs beside the load, in a thread of its own, and
 * decodes the link as mirror-dissect(1) does: for a receiver that has no
 * counters of its own (a real controller).  It opens before the load
 * connects, so that the logins are in it. */
struct mirror_load_capture;
/* filter NULL: "tcp port TARGET_PORT".  -EPERM / -ENODEV / -EINVAL (a bad
 * filter) with a message in err. */
int mirror_load_capture_start(struct mirror_load_capture **out, const char *iface,
			      const char *filter, uint16_t target_port,
			      const struct mirror_profile *p, char *err, size_t err_len);
/* After the load: lets the last packets in, ends the capture and gives
 * the per-path cost of the complete mirror operations it decoded and the
 * packets the kernel dropped.  Frees c. */
int mirror_load_capture_stop(struct mirror_load_capture *c, struct mirror_load_emu_cost *cost,
			     uint64_t *drops, char *err, size_t err_len);
/* The cost of a capture's summary (ops, interrupts and bytes of complete
 * operations; sequence gaps and repeats; non-GOOD statuses). */
void mirror_load_cost_from_summary(const struct mirror_dissect_summary *s,
				   struct mirror_load_emu_cost *cost);

/* ---- reports ---- */

/* One run: what was asked, and what came out. */
struct mirror_load_report {
	const char *label;      /* "auto", "large", "write10", ... */
	const struct mirror_load_result *r;
	const struct mirror_load_emu_cost *emu; /* NULL: no counters */
	const struct mirror_load_emu_cost *capture; /* NULL: no capture */
	const char *capture_iface;
	uint64_t capture_drops;
};
/* Text: ops/s, MB/s, latency percentiles per kind, errors by sense, and
 * the receiver's interrupts/op and bytes/op per path when emu is set. */
void mirror_load_report_print(FILE *out, const struct mirror_load_report *rep);
struct json_object *mirror_load_report_json(const struct mirror_load_report *rep);

/* --path ab: the same stream all-large (a) and as Fig. 7 chooses (b). */
struct mirror_load_ab_diff {
	uint64_t writes[2];              /* a, b */
	double writes_per_sec[2];
	double p50_us[2], p99_us[2];
	double client_overhead[2];       /* CDB + metadata bytes per write */
	double small_share;              /* b's ops that went small (0..1) */
	bool have_emu;
	double interrupts[2];            /* the receiver's, per write */
	double receiver_overhead[2];     /* CDB + metadata + iSCSI bytes per write */
};
void mirror_load_ab_compare(const struct mirror_load_report *a, const struct mirror_load_report *b,
			    struct mirror_load_ab_diff *d);
void mirror_load_ab_print(FILE *out, const struct mirror_load_ab_diff *d);
struct json_object *mirror_load_ab_json(const struct mirror_load_ab_diff *d);

/* ---- the engine ---- */

enum mirror_load_mode { MIRROR_LOAD_MIRROR = 0, MIRROR_LOAD_PLAIN_WRITE10 };

struct mirror_load_config {
	const char *url;
	const struct mirror_profile *profile;
	enum mirror_load_mode mode;
	enum mirror_path_policy policy;
	struct mirror_load_mix mix;
	enum mirror_load_lba_mode lba_mode;
	uint64_t lba_first, lba_count; /* lba_count 0: 1 GiB worth (write10: the LUN) */
	uint64_t seed;
	unsigned region;               /* the sender's NVRAM region: 0 (A -> B) or 1 */
	uint8_t volume;
	uint64_t array_serial;
	uint8_t array_number;
	bool push_table;               /* ARRAY TABLE UPDATE first (the small path needs it) */
	unsigned connections, qd;
	uint64_t count;                /* host writes; 0: run for seconds */
	double seconds;
	double rate;                   /* host writes per second, 0: unlimited */
	unsigned verify_every;         /* READBACK every Nth mirror op; 0: never */
	unsigned timeout_ms;
	const char *initiator_prefix;  /* NULL: MIRROR_LOAD_INITIATOR */
	/* Called about every progress_ms (0: 1000) with the counts so far. */
	void (*progress)(void *ctx, const struct mirror_load_result *r);
	void *progress_ctx;
	unsigned progress_ms;
	/* Set (by a signal handler) to stop issuing; the run then drains. */
	volatile sig_atomic_t *stop;
};

void mirror_load_config_init(struct mirror_load_config *c);
/* The checks that need no target: -EINVAL with the option at fault in
 * why. */
int mirror_load_config_check(const struct mirror_load_config *c, char *why, size_t why_len);
/* Opens the connections, sets up (ARRAY TABLE UPDATE, or READ CAPACITY for
 * write10), runs and drains.  0 with the results (commands that failed are
 * counted in r, not returned); a negative code and a message in err when
 * the run could not start. */
int mirror_load_run(const struct mirror_load_config *c, struct mirror_load_result *r, char *err,
		    size_t err_len);

#ifdef __cplusplus
}
#endif
#endif
