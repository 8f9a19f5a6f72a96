/* The conformance suite (mirror-conform): cases, the harness that runs
 * them and the helpers they send commands with.
 *
 * A case is one row of an area's table (conformance/case_*.c): a stable id
 * ("MIRROR.Small.BlockCountTooLarge"), one line of description, the source
 * figure/block or wire-profile.md section it checks, what it needs of the
 * target (the harness extensions ARRAY TABLE UPDATE and NVRAM READBACK, a
 * transport) and the function that runs it.  A case whose needs the target
 * lacks is SKIPPED with the reason, never passed.
 *
 * The expected answers are written out in the cases from the wire profile,
 * not computed by libmirror's decoders: a receiver built on the same
 * decoders must not be able to agree with the suite by construction. */
#ifndef MIRROR_CONFORM_H
#define MIRROR_CONFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <mirror/array_table.h>
#include <mirror/codec.h>
#include <mirror/nvram.h>
#include <mirror/profile.h>
#include <mirror/sense.h>
#include <mirror/transport.h>

/* PARTIAL: every check the case could make passed, but a part of it
 * could not be made (the data stored, against a target without NVRAM
 * READBACK) and is named in the reason.  Never counted as a pass: a check
 * that was not made did not pass. */
enum conf_verdict { CONF_PASS = 0, CONF_FAIL, CONF_SKIP, CONF_PARTIAL };

/* "pass", "fail", "skip", "partial" */
const char *conf_verdict_name(enum conf_verdict v);

/* What a case needs of the target (bits). */
enum {
	CONF_NEED_SMALL = 1u << 0,    /* the small write opcode of the suite's region */
	CONF_NEED_NOTIFY = 1u << 1,   /* the large path (notification CDB) */
	CONF_NEED_TABLE = 1u << 2,    /* ARRAY TABLE UPDATE (harness extension) */
	CONF_NEED_READBACK = 1u << 3, /* NVRAM READBACK (harness extension) */
	CONF_NEED_ISCSI = 1u << 4,    /* an iscsi:// target (connection-level cases) */
	CONF_NEED_STRICT = 1u << 5,   /* run with --strict (the target is strict) */
	CONF_NEED_LENIENT = 1u << 6,  /* run without --strict */
	CONF_NEED_FRESH = 1u << 7,    /* run with --fresh: no table sent since the target started */
	CONF_NEED_VOLUMES = 1u << 8,  /* a known array table: the suite's, sent with ARRAY
				       * TABLE UPDATE, or the target's own (--table, --volumes) */
	CONF_NEED_VERIFY = 1u << 9    /* reads the stored data back (NVRAM READBACK) where the
				       * target has it; PARTIAL where it has not */
};

/* What the probe at the start of a run found the target implements. */
struct conf_support {
	bool probed;
	bool small, notify, table, readback;
	/* an extension's opcode that never reached the target as itself
	 * (changed or dropped on the way), as against one the target
	 * answered as not implemented */
	bool table_lost, readback_lost;
	/* --fresh: a small write sent before the table (Fig. 7 block 712) */
	bool pretable_sent;
	struct mirror_cmd pretable;
	char small_why[320], notify_why[320], table_why[320], readback_why[320];
};

#define CONF_WHY_MAX 2048

struct conf_ctx {
	/* the run */
	const char *target;
	struct mirror_profile profile;
	unsigned region;      /* the NVRAM region the suite writes (its own, as sender) */
	struct mirror_transport_opts topts;
	const char *initiator_base; /* per-case initiator names derive from it */
	const char *emu_stats;      /* mirror-emu's stats socket, or NULL */
	int verbose;
	FILE *log;            /* -v output */
	unsigned timeout_s;   /* per case */
	bool fresh;           /* the target has had no array table since it started */
	/* The array table the cases write to: the suite's (conf_suite_table,
	 * sent by the probe with ARRAY TABLE UPDATE), or the target's own
	 * (--table FILE, --volumes LIST: nothing is sent) */
	struct mirror_array_table table;
	bool own_table;       /* --table or --volumes */
	bool table_serials;   /* the serial numbers are the target's (not --volumes) */
	uint8_t vol_a;        /* the volume the cases write to (1 if the table has it) */
	int vol_absent;       /* a volume the table lacks (200 if it can), -1: none */
	struct conf_support support;
	/* the case */
	struct mirror_transport *t;
	const struct conf_case *cur;
	const char *case_id;
	unsigned case_index;
	uint32_t scratch;     /* NVRAM bytes [scratch, scratch + CONF_SCRATCH_BYTES) are the case's own */
	uint32_t next_sequence;
	char initiator[224];
	char why[CONF_WHY_MAX]; /* the failure or skip reason, or a pass note */
	char unverified[CONF_WHY_MAX / 2]; /* what conf_verify could not read back */
};

/* Each case has 256 KiB of NVRAM of its own, from 8 MiB into the region;
 * the first 8 MiB are for the cases that write megabytes. */
#define CONF_SCRATCH_BYTES (256u * 1024u)
#define CONF_BIG_AREA_BYTES (8u * 1024u * 1024u)

typedef enum conf_verdict (*conf_fn)(struct conf_ctx *c);

struct conf_case {
	const char *id;
	const char *desc;
	const char *ref;
	unsigned needs;
	conf_fn run;
	const void *arg; /* the row of a table-driven case (c->cur->arg) */
};

struct conf_area {
	const char *name;
	const struct conf_case *cases;
	size_t n;
};

/* The areas, in run order (conformance/registry.c). */
extern const struct conf_area conf_area_small, conf_area_large, conf_area_table,
	conf_area_nvram, conf_area_errors, conf_area_sequence, conf_area_concurrency,
	conf_area_transport;
size_t conf_case_count(void);
const struct conf_case *conf_case_at(size_t i);

/* Formats a reason into why (if given) and returns code. */
__attribute__((format(printf, 4, 5)))
int conf_errorf(int code, char *why, size_t why_len, const char *fmt, ...);

/* ---- filters (--test GLOB[,GLOB], --skip GLOB[,GLOB]) ---- */

/* True when id matches one of the comma-separated shell globs in list.
 * An empty list matches nothing. */
bool conf_glob_list_match(const char *list, const char *id);
/* Checks a list: no empty pattern, no pattern longer than 200 bytes.
 * -EINVAL with a reason in why. */
int conf_glob_list_check(const char *list, char *why, size_t why_len);
/* Marks sel[i] for every case selected by test (NULL: all) minus skip
 * (NULL: none); returns how many. */
size_t conf_select(const char *test, const char *skip, bool *sel, size_t n);

/* ---- results and reporters ---- */

struct conf_result {
	const struct conf_case *c;
	enum conf_verdict verdict;
	double seconds;
	char why[CONF_WHY_MAX];
};

struct conf_totals {
	unsigned passed, failed, skipped;
	double seconds;
	unsigned partial;
};

void conf_totals_add(struct conf_totals *t, const struct conf_result *r);
/* The line every run ends with: "N passed, N failed, N skipped", and
 * ", N partial" after it when a case was partial. */
void conf_print_totals(FILE *out, const struct conf_totals *t);
/* One line per case for people: "PASS  ID", "FAIL  ID" + the reason
 * indented, "SKIP  ID (reason)". */
void conf_report_text(FILE *out, const struct conf_result *r);
/* TAP version 13: the plan, then one line per case.  TAP has no partial:
 * a partial case is "ok N - ID # SKIP partial: ..." (never a plain ok). */
void conf_report_tap_plan(FILE *out, size_t n);
void conf_report_tap(FILE *out, size_t number, const struct conf_result *r);
/* JUnit XML (the Jenkins/Ant schema): one testsuite per area, a
 * <failure> or <skipped> element per case that did not pass; a partial
 * case is <skipped message="partial: ..."> (JUnit has no partial), so the
 * skipped attributes count skipped + partial.  0 or -errno. */
int conf_report_junit(FILE *out, const char *target, const struct conf_result *r, size_t n,
		      const struct conf_totals *t);
/* JSON: {"target", "cases": [...], "passed", "failed", "skipped",
 * "partial", ...}; a case's "result" is one of conf_verdict_name. */
int conf_report_json(FILE *out, const char *target, const struct conf_result *r, size_t n,
		     const struct conf_totals *t, const char *note);
/* One run's reports, the same for the receiver suite (cmd/mirror-conform.c)
 * and the sender suite (sender_main.c): a line per case as it ends (text,
 * or TAP with tap), then the JUnit file, the JSON object (json), a note
 * and the totals line last. */
struct conf_reporter {
	FILE *out;          /* the results: stdout */
	const char *prog;   /* names the program in error messages */
	bool tap, json;
	const char *junit;  /* a file to write, or NULL */
	const char *target; /* as the JUnit and JSON reports name it */
	size_t done;        /* cases reported */
	struct conf_totals tot;
};

/* Where progress goes: stderr when out carries TAP or JSON. */
FILE *conf_reporter_log(const struct conf_reporter *rep);
/* Before the first case: the TAP plan of n cases. */
void conf_reporter_start(struct conf_reporter *rep, size_t n);
/* A case's result, counted and reported at once (flushed). */
void conf_reporter_case(struct conf_reporter *rep, const struct conf_result *r);
/* After the last case; res holds the rep->done results.  The JUnit file,
 * the JSON object with note, "note (note_why)" on its own line when note
 * is set, and the totals line (these two on stderr under JSON).  0, or
 * -errno when the JUnit file could not be written (said on stderr). */
int conf_reporter_finish(struct conf_reporter *rep, const struct conf_result *res,
			 const char *note, const char *note_why);
/* "MIRROR.Small.X" -> area "MIRROR.Small", name "X". */
void conf_split_id(const char *id, char *area, size_t area_len, const char **name);

/* ---- the runner ---- */

/* Runs fn(ctx, arg) in a child process with a watchdog: a child that has
 * not finished after timeout_s seconds is killed (by its PID) and the
 * result is a failure that says so; a child that dies is a failure too.
 * The child's verdict and reason come back through a pipe. */
typedef enum conf_verdict (*conf_child_fn)(struct conf_ctx *c, void *arg);
enum conf_verdict conf_run_watched(struct conf_ctx *c, conf_child_fn fn, void *arg,
				   unsigned timeout_s, char *why, size_t why_len);

/* Probes the target (in a watched child): pushes the suite's array table,
 * reads back one block, sends one valid large and one valid small write,
 * and records which the target implements in c->support.  Returns 0, or
 * -EIO with a message in why when the target cannot be reached at all. */
int conf_probe(struct conf_ctx *c, char *why, size_t why_len);
/* True when the probe found no mirror command at all (not a receiver). */
bool conf_not_a_receiver(const struct conf_support *s);

/* Runs one case: checks its needs against the run and the probe (SKIP
 * with the reason), then runs it watched. */
void conf_run_case(struct conf_ctx *c, const struct conf_case *cs, unsigned index,
		   struct conf_result *out);

/* ---- helpers for the cases (conformance/helpers.c) ---- */

/* The answer a case expects: GOOD when want is NULL, otherwise CHECK
 * CONDITION with this sense; with sksv the field pointer must match (C/D,
 * byte, BPV=1, bit), without it the sense must carry none; any_pointer
 * leaves the pointer unchecked (SPC answers from other commands). */
struct conf_sense {
	uint8_t key, asc, ascq;
	bool sksv, cd;
	uint16_t byte;
	uint8_t bit;
	bool any_pointer;
};
#define CONF_CDB_FIELD(by, bi) { MIRROR_SK_ILLEGAL_REQUEST, 0x24, 0x00, true, true, (by), (bi), false }
#define CONF_PARAM_FIELD(by, bi) { MIRROR_SK_ILLEGAL_REQUEST, 0x26, 0x00, true, false, (by), (bi), false }
#define CONF_PARAM_LENGTH { MIRROR_SK_ILLEGAL_REQUEST, 0x1A, 0x00, false, false, 0, 0, false }
#define CONF_LBA_RANGE { MIRROR_SK_ILLEGAL_REQUEST, 0x21, 0x00, false, false, 0, 0, false }
#define CONF_INVALID_OPCODE { MIRROR_SK_ILLEGAL_REQUEST, 0x20, 0x00, false, false, 0, 0, true }

__attribute__((format(printf, 2, 3)))
enum conf_verdict conf_fail(struct conf_ctx *c, const char *fmt, ...);
__attribute__((format(printf, 2, 3)))
enum conf_verdict conf_skip(struct conf_ctx *c, const char *fmt, ...);
/* Appends a note to c->why (kept for a passing case, e.g. what the target
 * chose to do with a sequence gap). */
__attribute__((format(printf, 2, 3)))
void conf_note(struct conf_ctx *c, const char *fmt, ...);

/* Sends one command (printing it and its answer with -v).  Returns the
 * transport's result: 0 when the target answered. */
int conf_send(struct conf_ctx *c, struct mirror_cmd *cmd, const char *what);
/* PASS when cmd got the answer want describes; otherwise FAIL with
 * "WHAT: expected ..., got ..." (the sense decoded, the raw bytes). */
enum conf_verdict conf_check(struct conf_ctx *c, const struct mirror_cmd *cmd, const char *what,
			     const struct conf_sense *want);
/* A command the target answered as not implemented: INVALID COMMAND
 * OPERATION CODE, or INVALID FIELD IN CDB with no field pointer (the
 * target took the CDB for another command, e.g. REPORT LUNS), or a
 * transport failure of the command alone (the CDB never reached it). */
bool conf_not_implemented(const struct mirror_cmd *cmd, char *why, size_t why_len);

/* The CDB byte of the small write's volume number (mirror-protocol(7):
 * byte 3 of both 12-byte layouts, byte 5 of the 16-byte one). */
unsigned conf_volume_byte(const struct mirror_profile *p);

/* The suite's array table: volumes 0, 1, 7 and 255. */
#define CONF_VOLUME_A 1u
#define CONF_VOLUME_MAX 255u
#define CONF_VOLUME_ABSENT 200u
void conf_suite_table(struct mirror_array_table *t);
/* ARRAY TABLE UPDATE with the run's table (c->table). */
int conf_push_table(struct conf_ctx *c, struct mirror_cmd *cmd);
/* Sets c->table and the volumes the cases use: the suite's table, or t
 * (the target's own; serials false when only its volume numbers are
 * known). */
void conf_use_table(struct conf_ctx *c, const struct mirror_array_table *t, bool serials);
/* "0,1,7,255": the volumes of a table whose serial numbers are not known
 * (made up, one per volume).  -EINVAL with the reason. */
int conf_volumes_parse(const char *list, struct mirror_array_table *t, char *why,
		       size_t why_len);
/* A used volume of the run's table other than not, or -1. */
int conf_other_volume(const struct conf_ctx *c, unsigned not);

/* A small write: the CDB from s (mirror_small_cdb_encode, which packs
 * invalid values that fit), data_len bytes of pattern data (seeded by
 * seed).  Fills cmd and data (room for data_len bytes). */
int conf_small_cmd(struct conf_ctx *c, const struct mirror_small_cdb *s, uint8_t *data,
		   uint32_t data_len, uint64_t seed, struct mirror_cmd *cmd);
/* A small CDB of the suite's region: element 1 at addr, blocks1 blocks,
 * element 2 at addr2 (blocks2, 0 = absent), volume CONF_VOLUME_A, LBA. */
void conf_small_init(const struct conf_ctx *c, struct mirror_small_cdb *s, uint32_t addr,
		     unsigned blocks1, uint32_t addr2, unsigned blocks2, uint32_t lba);

/* A large write: the notification CDB (rest: bytes 1-9, NULL for zeros),
 * the metadata md then user_len bytes of pattern data.  buf needs room
 * for 1024 + user_len.  md->sequence is set from c->next_sequence unless
 * keep_sequence. */
int conf_large_cmd(struct conf_ctx *c, const uint8_t *rest, struct mirror_metadata *md,
		   bool keep_sequence, uint8_t *buf, uint32_t user_len, uint64_t seed,
		   struct mirror_cmd *cmd);
/* Metadata of one valid large write of the suite's region: n elements
 * of elem_bytes each, contiguous from addr. */
void conf_md_init(const struct conf_ctx *c, struct mirror_metadata *md, uint32_t addr,
		  unsigned n, uint32_t elem_bytes, uint32_t lba);

/* NVRAM READBACK of [addr, addr + bytes) into buf (room for
 * mirror_readback_response_len), parsed into r.  PASS, or FAIL with the
 * reason. */
enum conf_verdict conf_readback(struct conf_ctx *c, uint32_t addr, uint32_t bytes,
				bool validity_only, uint8_t *buf, size_t cap,
				struct mirror_readback *r);
/* Reads back [addr, addr + bytes): PASS when every block is valid and
 * holds expect; FAIL naming the first difference.  Against a target
 * without NVRAM READBACK: PASS, and what went unverified is recorded in
 * c->unverified, which turns the case's pass into PARTIAL (runner.c). */
enum conf_verdict conf_verify(struct conf_ctx *c, const char *what, uint32_t addr,
			      const uint8_t *expect, uint32_t bytes);
/* PASS when no block of [addr, addr + bytes) is valid (unverified as
 * above without NVRAM READBACK). */
enum conf_verdict conf_verify_invalid(struct conf_ctx *c, const char *what, uint32_t addr,
				      uint32_t bytes);

/* ---- an iSCSI session of the suite's own (conformance/iscsi_abort.c),
 * for ABORT TASK, which the transport seam does not offer ---- */

struct conf_iscsi;
/* Logs in to an iscsi:// URL.  0, or a negative code and a message. */
int conf_iscsi_open(const char *url, const char *initiator, struct conf_iscsi **out, char *err,
		    size_t err_len);
/* Queues one data-out command; data stays the caller's until closed. */
int conf_iscsi_submit_write(struct conf_iscsi *s, const uint8_t *cdb, unsigned cdb_len,
			    const uint8_t *data, uint32_t len);
/* Waits up to timeout_ms for the socket, then serves it once. */
int conf_iscsi_step(struct conf_iscsi *s, int timeout_ms);
bool conf_iscsi_write_done(const struct conf_iscsi *s);
/* libiscsi's last message; conf_iscsi_step and _abort return -EPROTO when
 * libiscsi itself gave up on a PDU before the target saw it. */
const char *conf_iscsi_error(struct conf_iscsi *s);
/* ABORT TASK of the outstanding write; waits for the task management
 * response (RFC 7143 11.6.1) and gives its code. */
int conf_iscsi_abort(struct conf_iscsi *s, unsigned timeout_ms, uint32_t *response, char *err,
		     size_t err_len);
void conf_iscsi_close(struct conf_iscsi *s);

/* Region bounds of the suite's region. */
uint32_t conf_region_start(const struct conf_ctx *c);
uint32_t conf_region_end(const struct conf_ctx *c);

#endif
