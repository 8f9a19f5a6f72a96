/* mirror-failover's workload, paths and faults (the I/O shell around
 * failover.h's checker): writes stamped blocks through one or more host
 * paths per LUN, moves to the active path as a multipath host does, runs a
 * fault plan against the emulated pair (mirror-pair) or any command, and
 * after each trial reads back every block written and checks it. */
#ifndef MIRROR_APP_FAILOVER_RUN_H
#define MIRROR_APP_FAILOVER_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mirror/transport.h>

#include "app/failover/failover.h"

/* ---- SCSI commands (scsi.c) ---- */

struct fo_tpg {
	uint16_t id;
	uint8_t state;   /* SPC-4 table 165: 0 active/optimized, 1 non-optimized, 2 standby,
			  * 3 unavailable, 0xF transitioning */
	bool pref;
};

void fo_cmd_read10(struct mirror_cmd *c, uint32_t lba, uint16_t blocks, uint8_t *buf, uint32_t len);
void fo_cmd_inquiry_devid(struct mirror_cmd *c, uint8_t *buf, uint16_t len);
void fo_cmd_rtpg(struct mirror_cmd *c, uint8_t *buf, uint32_t len);
void fo_cmd_tur(struct mirror_cmd *c);
/* The target port group a Device Identification page (83h) names for the
 * port it came through; -ENOENT without one, -EINVAL for no such page. */
int fo_devid_tpg(const uint8_t *p, size_t len);
/* REPORT TARGET PORT GROUPS' descriptors: how many (at most cap) went
 * into out; -EINVAL when shorter than its header. */
int fo_rtpg_decode(const uint8_t *p, size_t len, struct fo_tpg *out, unsigned cap);

/* ---- the emulated pair (pair.c) ---- */

struct fo_pair {
	char dir[512];
	uint32_t luns;
	uint64_t lun_blocks;
	char url[FO_LUNS_MAX][2][256]; /* per LUN: the path through a, through b */
	char owner[FO_LUNS_MAX], home[FO_LUNS_MAX];
	bool running[2], frozen[2];
	char stats[2][256];            /* each controller's stats socket */
};

/* Reads mirror-pair's state file. */
int fo_pair_load(const char *state_path, struct fo_pair *p, char *why, size_t why_len);
/* A controller's takeovers as its stats socket tells them (mirror-ctl(1),
 * STATISTICS: takeover.count and takeover.last). */
struct fo_takeover {
	uint64_t count;
	uint64_t detected_at_ms;       /* CLOCK_MONOTONIC, as ours */
	uint64_t fenced_ms, replayed_ms, active_ms; /* from detection */
	uint64_t replayed_blocks;
	char fencing[48];
};
/* Controller k (0 a, 1 b) of p: 0, or < 0 with the reason in why. */
int fo_pair_takeover(const struct fo_pair *p, unsigned k, struct fo_takeover *t, char *why,
		     size_t why_len);
/* Runs "PAIR_CMD --dir DIR -q VERB [CTL [ARG]]"; 0 when it exits 0. */
int fo_pair_command(const char *pair_cmd, const char *dir, const char *verb, const char *ctl,
		    const char *arg, char *why, size_t why_len);

/* ---- the run ---- */

enum fo_step_kind {
	FO_STEP_PAIR = 0,  /* a mirror-pair command: kill|freeze|thaw|restart a|b, cut-link, heal-link */
	FO_STEP_CMD,       /* --fault-cmd, through /bin/sh -c */
	FO_STEP_NONE,
	FO_STEP_POINT,     /* kill|freeze a|b at its next fault point (mirror-pair fault) */
	FO_STEP_RANDOM     /* per trial: a victim and a fault point from the seed */
};

struct fo_step {
	enum fo_step_kind kind;
	char verb[16];
	char ctl[2];          /* "a", "b" or "" */
	char point[24];       /* FO_STEP_POINT: before-mirror, after-ack, ... */
	uint64_t after_writes;/* acknowledged writes since the step before (or the trial's start) */
	uint64_t after_ms;    /* or milliseconds since then (0: by writes) */
};

#define FO_STEPS_MAX 8u
#define FO_TRIALS_MAX 100000u

struct fo_run_opts {
	struct fo_history paths;   /* luns, blocks, npaths and path[] (the rest unused) */
	uint32_t max_blocks;       /* per write: 1..max_blocks (default 8) */
	unsigned queue_depth;      /* writes outstanding in all (default 32) */
	uint64_t writes;           /* per trial, invoked (default 2000) */
	uint64_t duration_ms;      /* per trial instead, when not 0 */
	uint64_t seed;
	const char *history;       /* NULL: a temporary file */
	struct fo_step step[FO_STEPS_MAX];
	unsigned nsteps;
	const char *pair_dir;      /* pair steps and restoring between trials */
	const char *pair_state;    /* to wait for failback */
	const char *pair_cmd;      /* the mirror-pair program */
	const char *fault_cmd;
	unsigned trials;
	unsigned recovery_ms;      /* default 60000 */
	unsigned settle_ms;        /* after the last step, before the read-back */
	unsigned cmd_timeout_ms;   /* default 5000 */
	bool progress;             /* a line per trial on stderr */
	const char *status;        /* the campaign's status file (NULL: none) */
};

void fo_run_opts_init(struct fo_run_opts *o);

/* --fault PLAN into o->step[] (plan.c); trig[i]: step i named its trigger.
 * -EINVAL with what is wrong in why. */
int fo_plan_parse(const char *plan, struct fo_run_opts *o, bool trig[FO_STEPS_MAX], char *why,
		  size_t why_len);
/* The concrete step of trial t of a random plan (tmpl: its trigger). */
void fo_plan_random_step(const struct fo_step *tmpl, uint64_t seed, uint32_t trial,
			 uint64_t writes, struct fo_step *out);

struct fo_trial_result {
	uint32_t trial;
	char fault[96];
	uint64_t invoked, acked, failed, indeterminate;
	double takeover_ms;        /* the fault to the first ack after it (< 0: none) */
	double stall_ms;           /* the host's stall: per LUN, its last ack before the
				    * fault to its first after, the longest (< 0: none) */
	uint64_t fault_at_us;      /* the fault, on the history's clock (0: none) */
	uint64_t counts[FO_V_COUNT_];
	uint64_t violations;
	uint64_t blocks_checked, acked_writes, acked_writes_checked;
	/* the takeover's phases as the survivor reports them, in ms from the
	 * fault (the kill command, or the first path error a fault point
	 * caused), on the scale of takeover_ms */
	struct fo_phases {
		bool have;
		char by;               /* 'a' or 'b' */
		double detected_ms, fenced_ms, replayed_ms, active_ms;
		uint64_t replayed_blocks;
		char fencing[48];
	} phases;
	bool aborted;              /* no path came back in time */
	char note[160];
};

/* A mirror operation of a capture that carried a violated block. */
struct fo_carrier {
	uint64_t packet, time_ns;
	bool small, have_status, complete;
	uint8_t opcode, volume, status;
	uint32_t lba, blocks, sequence;
};
#define FO_CARRIERS_MAX 4u
struct fo_carriers {
	uint64_t total;                   /* operations that carried the block */
	unsigned n;                       /* the latest FO_CARRIERS_MAX of them */
	struct fo_carrier op[FO_CARRIERS_MAX];
};

struct fo_run_result {
	struct fo_trial_result *t;
	unsigned n;
	struct fo_checker last;    /* the final check (findings), its history in hist */
	struct fo_history hist;
	bool have_check;
	/* --capture: per finding of last, the mirror operations that carried it */
	bool have_carriers;
	uint64_t capture_ops;      /* mirror write operations in the capture */
	char capture_note[256];    /* the capture ended early: where */
	struct fo_carriers carriers[sizeof(((struct fo_checker *)0)->finding) /
				    sizeof(((struct fo_checker *)0)->finding[0])];
	int exit_status;           /* MIRROR_EXIT_* beyond violations: 0 or transport/file */
	char why[256];
};

/* Runs every trial; result holds them and the last check. 0, or < 0 with
 * result->why and result->exit_status set. */
int fo_run(const struct fo_run_opts *o, struct fo_run_result *result);
/* --check-only: the history, its paths (or o's, when o has any), the
 * read-back and the check, as one trial's result. */
int fo_check_only(const char *history, const struct fo_run_opts *o, struct fo_run_result *result);
void fo_run_result_free(struct fo_run_result *r);
/* --capture FILE (carriers.c): decodes the capture of the mirror link and
 * fills r->carriers for r->last's findings.  0, or < 0 with why when the
 * file cannot be read at all. */
int fo_carriers_find(const char *capture, struct fo_run_result *r, char *why, size_t why_len);

/* ---- output (report.c) ---- */

struct fo_summary {
	unsigned trials;
	uint64_t acked, indeterminate, failed, violations;
	uint64_t counts[FO_V_COUNT_];
	double checked_pct;
	double takeover_p50, takeover_p99, takeover_max;
	unsigned takeovers;
	double stall_p50, stall_p99, stall_max;
	unsigned stalls;
	uint64_t never_written;    /* of acked_lost: no write of the run ever reached the block */
	/* per phase (detected, fenced, replayed, active): p50, p99, max over
	 * the trials whose survivor reported them */
	double phase[4][3];
	unsigned phased;
};
void fo_summarize(const struct fo_run_result *r, struct fo_summary *s);
/* The campaign so far into path (status.c), replaced whole. */
int fo_status_write(const char *path, const struct fo_run_result *r, unsigned planned,
		    bool running, char *why, size_t why_len);
void fo_report_text(FILE *f, const struct fo_run_result *r);
/* "write 17 (trial 2, path 1, invoked at ... us, ok after 3.2 ms)", or
 * "none" for id 0 or an id the history lacks. */
void fo_write_timeline(const struct fo_run_result *r, uint64_t id, char *buf, size_t len);
/* "packet 812 at 3.201544 s: small 0xa0 volume 0 LBA 96+8, GOOD" */
void fo_carrier_text(const struct fo_carrier *k, char *buf, size_t len);
int fo_report_json(FILE *f, const struct fo_run_result *r);
int fo_report_junit(const char *path, const struct fo_run_result *r, char *why, size_t why_len);

#endif
