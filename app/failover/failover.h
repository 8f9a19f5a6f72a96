/* mirror-failover's core: per-block stamps, the write history
 * and the checker that decides, from the history and the read-back of every
 * block written, whether an acknowledged write was lost.  Pure: no I/O but
 * the history file's; the workload, paths and faults are in run.c.
 *
 * The reasoning is a history checker's (Jepsen's register model, one
 * register per 512-byte block):
 * - a write is invoked, then completes ok (GOOD), fail (a definite error:
 *   the target says it did not execute it) or indeterminate (timeout,
 *   connection lost, a checker that died: it may or may not have taken
 *   effect);
 * - the workload never has two writes to one block outstanding at once, so
 *   the writes of a block are totally ordered by their ids;
 * - after the run a block must hold its last acknowledged write, or a write
 *   whose outcome is unknown (absent or present, both fine), or nothing at
 *   all if nothing of it was acknowledged.  Anything else is a violation:
 *   zeros or a never-acknowledged older copy (lost), an older acknowledged
 *   copy (stale), a block whose checksum fails (torn), another block's
 *   stamp (misdirected), a write that was reported failed (phantom).
 *
 * Unlike fio's verify state, nothing stops at the first in-flight write:
 * every block is decided alone, so every acknowledged write is checked. */
#ifndef MIRROR_APP_FAILOVER_H
#define MIRROR_APP_FAILOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define FO_BLOCK 512u
#define FO_HISTORY_MAGIC "mirror-failover-history"
#define FO_HISTORY_VERSION 1u
#define FO_PATHS_MAX 16u
#define FO_LUNS_MAX 64u

/* ---- stamps: what every written block carries ----
 *
 * Bytes (big-endian):  0-7 magic "MFOVSTMP", 8-15 run id, 16-19 LUN,
 * 20-27 LBA, 28-35 write id, 36-43 generation (the block's count of
 * writes, 1 for the first), 44-507 a pattern drawn from run, write id and
 * LBA, 508-511 CRC32C of bytes 0-507.  A block mixed from two writes fails
 * the CRC (or the pattern); a block moved elsewhere names another LBA. */
#define FO_STAMP_MAGIC "MFOVSTMP"

struct fo_stamp {
	uint64_t run;
	uint32_t lun;
	uint64_t lba;
	uint64_t id;
	uint64_t gen;
};

enum fo_stamp_kind {
	FO_STAMP_ZERO = 0, /* all zero bytes: never written */
	FO_STAMP_VALID,    /* a whole stamp (of any run) */
	FO_STAMP_CORRUPT   /* neither: torn, overwritten by something else */
};

void fo_stamp_fill(uint8_t blk[FO_BLOCK], const struct fo_stamp *s);
/* Decodes blk; for CORRUPT, why says which check failed (byte). */
enum fo_stamp_kind fo_stamp_read(const uint8_t blk[FO_BLOCK], struct fo_stamp *s, char *why,
				 size_t why_len);

/* ---- the history ---- */

enum fo_status {
	FO_INVOKED = 0,     /* no completion recorded: indeterminate */
	FO_OK,              /* acknowledged GOOD */
	FO_FAIL,            /* a definite error: did not take effect */
	FO_INDETERMINATE    /* may or may not have taken effect */
};

struct fo_write {
	uint64_t id;
	uint32_t lun;
	uint64_t lba;
	uint32_t blocks;
	uint32_t path;
	uint32_t trial;
	enum fo_status status;
	uint64_t t_invoke_us, t_done_us;
	char detail[32];    /* fail: sense KK/AA/QQ; indeterminate: why */
};

struct fo_history {
	uint64_t run;
	uint32_t luns;
	uint64_t blocks;     /* per LUN: LBAs 0..blocks-1 */
	unsigned npaths;
	struct {
		uint32_t lun;
		char url[256];
	} path[FO_PATHS_MAX];
	struct fo_write *w;  /* w[i].id == i + 1 */
	size_t n, cap;
	uint32_t trials;     /* "trial" lines */
	struct {
		uint32_t trial;
		uint64_t t_us;
		char action[48];
	} fault[256];        /* "fault" lines, the first 256 */
	unsigned nfaults;
};

void fo_history_init(struct fo_history *h);
void fo_history_free(struct fo_history *h);
/* Parses a whole history text.  name is the file's name for messages;
 * errors name "name:line: field". 0 or -EINVAL (-ENOMEM). */
int fo_history_parse(const char *text, size_t len, const char *name, struct fo_history *h,
		     char *why, size_t why_len);
int fo_history_load(const char *path, struct fo_history *h, char *why, size_t why_len);

/* The writer: every line flushed as it is written, so a checker killed at
 * any moment leaves a history that parses (a last line cut short by the
 * kill is the only exception, which the parser accepts at the very end). */
struct fo_history_writer {
	FILE *f;           /* NULL: memory only */
	struct fo_history *h; /* NULL: the file only */
	uint64_t next_id;
	unsigned lines;
	int err;           /* first write error (negative errno) */
	char why[160];     /* a line the parser refused (a bug) */
};
/* Writes the history to path (when not NULL) and keeps it parsed in mem
 * (when not NULL; initialized here, the caller frees it): every line goes
 * through the same parser as the file's. */
int fo_hw_open(struct fo_history_writer *w, const char *path, const struct fo_history *hdr,
	       struct fo_history *mem, char *why, size_t why_len);
int fo_hw_close(struct fo_history_writer *w);
int fo_hw_trial(struct fo_history_writer *w, uint32_t trial, uint64_t t_us);
int fo_hw_fault(struct fo_history_writer *w, uint32_t trial, uint64_t t_us, const char *action);
/* Returns the new write's id (>= 1). */
uint64_t fo_hw_invoke(struct fo_history_writer *w, uint64_t t_us, uint32_t lun, uint64_t lba,
		      uint32_t blocks, uint32_t path, uint32_t trial);
int fo_hw_done(struct fo_history_writer *w, uint64_t id, uint64_t t_us, enum fo_status st,
	       const char *detail);

/* ---- the checker ---- */

enum fo_verdict {
	FO_V_OK = 0,         /* holds its last acknowledged write */
	FO_V_UNACKED,        /* nothing acknowledged; zeros or an unknown-outcome write */
	FO_V_INDET_PRESENT,  /* holds a write of unknown outcome newer than the last ack */
	FO_V_INDET_LATE,     /* holds a write of unknown outcome older than the last ack:
			      * present after a newer ack (allowed: it was never
			      * answered, Jepsen's rule) */
	/* violations from here on */
	FO_V_LOST,           /* the acknowledged write is gone: zeros, or an older
			      * copy that was never acknowledged */
	FO_V_STALE,          /* an older acknowledged copy over a newer one */
	FO_V_TORN,           /* the checksum or the pattern fails */
	FO_V_MISDIRECTED,    /* another block's (or an unknown write's) stamp */
	FO_V_PHANTOM,        /* a write reported failed took effect */
	FO_V_COUNT_
};
#define FO_V_FIRST_VIOLATION FO_V_LOST

const char *fo_verdict_name(enum fo_verdict v);

/* One block's evidence for a counterexample. */
struct fo_finding {
	enum fo_verdict v;
	uint32_t lun;
	uint64_t lba;
	uint64_t expect_id, expect_gen;  /* the last acknowledged write (0: none) */
	uint64_t seen_id, seen_gen;      /* the stamp read (0: zeros or unreadable) */
	bool never_written;              /* zeros or another run's stamp: nothing of this
					  * run ever reached the block */
	char detail[96];
};

struct fo_block_state;

struct fo_checker {
	const struct fo_history *h;
	struct fo_block_state *b;  /* luns * blocks */
	uint64_t counts[FO_V_COUNT_];
	uint64_t blocks_written, blocks_checked;
	uint64_t acked_blocks_checked;
	uint64_t acked_writes, failed_writes, indeterminate_writes;
	uint64_t acked_writes_checked;  /* every block of it read */
	uint64_t never_written;         /* of the lost blocks: never_written ones */
	/* the first findings of violations */
	struct fo_finding finding[64];
	unsigned nfindings;
	uint64_t violations;
};

/* Builds the per-block expectations from h (kept by reference). */
int fo_checker_init(struct fo_checker *c, const struct fo_history *h, char *why, size_t why_len);
void fo_checker_free(struct fo_checker *c);
/* Whether a block was ever written (the blocks to read back). */
bool fo_checker_written(const struct fo_checker *c, uint32_t lun, uint64_t lba);
/* Classifies one block read back; fills f (may be NULL). */
enum fo_verdict fo_checker_block(struct fo_checker *c, uint32_t lun, uint64_t lba,
				 const uint8_t blk[FO_BLOCK], struct fo_finding *f);
/* After every written block was given: the acknowledged writes each of
 * whose blocks was checked. */
void fo_checker_finish(struct fo_checker *c);

/* Percentiles of a sample (sorted in place); 0 for none. */
double fo_percentile(double *v, size_t n, double p);

#endif
