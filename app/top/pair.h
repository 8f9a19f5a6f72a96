/* mirror-top's pair view: both controllers of an emulated pair
 * (mirror-pair(1)) side by side -- host ops/s, mirror ops by path (Fig. 7's
 * small and large), NVRAM use and destage backlog, ALUA states per LUN and
 * the takeover events (Fig. 1's promise: detection, fencing, replay,
 * serving).  The readings are each controller's stats socket answer
 * (app/pair/report.c); the pair's state file names the sockets.  Pure: no
 * I/O here but the JSON a caller hands in. */
#ifndef MIRROR_TOP_PAIR_H
#define MIRROR_TOP_PAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/top/top.h"

#ifdef __cplusplus
extern "C" {
#endif

struct json_object;

#define MIRROR_TOP_PAIR_LUNS 16
#define MIRROR_TOP_PAIR_EVENTS 8

/* One controller's reading (cumulative counters as its stats socket has
 * them). */
struct mirror_top_ctl {
	bool up;                  /* its socket answered */
	char error[256];          /* why not */
	char mode[16], link[16], incarnation[24];
	uint64_t pid;
	uint64_t host_reads, host_writes, host_errors;
	uint64_t tx_small, tx_large;     /* mirror ops it sent */
	uint64_t rx_small, rx_large;     /* partner's mirror ops it received */
	uint64_t nvram_used, nvram_size; /* its own region */
	uint64_t partner_ops, partner_blocks; /* the partner's copies it holds */
	uint64_t backlog_entries, backlog_bytes, destaged;
	unsigned nluns;
	struct {
		uint32_t lun;
		char owner[2];
		char alua[32];
	} lun[MIRROR_TOP_PAIR_LUNS];
	uint64_t takeovers, failbacks;
	bool have_last;           /* takeover.last */
	uint64_t detected_at_ms, fenced_ms, replayed_ms, active_ms, replayed_blocks;
	char fencing[64];
};

/* The stats answer into a reading; -EINVAL with the missing key (a
 * dotted path, e.g. "mirror_tx.small") in why. */
int mirror_top_ctl_from_stats(struct json_object *stats, struct mirror_top_ctl *c, char *why,
			      size_t why_len);

/* A mirror-failover campaign against the pair, from the status file it
 * keeps beside the pair's state (DIR/failover.json, mirror-failover(1)). */
struct mirror_top_campaign {
	bool have;
	bool running;             /* it says so and its pid is alive */
	uint64_t pid, planned, done, failed_trials, acked, violations;
	uint64_t lost, stale, torn, misdirected;
	double takeover_p50, takeover_p99, takeover_max;
	uint64_t last_trial, last_violations;
	char last_fault[96], last_note[160];
	double last_takeover_ms, last_stall_ms;
};

/* The status file's JSON into c; -EINVAL with the missing key in why. */
int mirror_top_campaign_from_json(struct json_object *o, struct mirror_top_campaign *c, char *why,
				  size_t why_len);

struct mirror_top_pair {
	struct mirror_top_campaign campaign;
	struct mirror_top_ctl cur[2], prev[2]; /* a, b */
	uint64_t cur_ms[2], prev_ms[2];
	unsigned readings[2];
	/* takeover events noticed (a controller's takeover count moved),
	 * latest first */
	unsigned nevents;
	uint64_t events_seen;
	char events[MIRROR_TOP_PAIR_EVENTS][200];
};

void mirror_top_pair_init(struct mirror_top_pair *p);
/* A reading of controller id (0: a, 1: b) at now_ms (monotonic); one that
 * is not up keeps the last counters for the rates. */
void mirror_top_pair_update(struct mirror_top_pair *p, unsigned id, uint64_t now_ms,
			    const struct mirror_top_ctl *c);

/* Rates over the latest interval of a controller; 0 before two readings
 * or across a restart (its incarnation changed). */
struct mirror_top_ctl_rates {
	double host_ops_s, small_s, large_s;
};
void mirror_top_pair_rates(const struct mirror_top_pair *p, unsigned id,
			   struct mirror_top_ctl_rates *r);

/* A reading of both controllers: the state file (mirror-pair's) names
 * each one's stats socket, read again every time (a restarted controller
 * keeps its socket path but the state file may move on).  A controller
 * whose socket does not answer is shown down with the reason, not an
 * error: a killed controller is a state worth seeing.  0; -ECONNREFUSED
 * when neither answers; -ENOENT (not readable as JSON) or -EINVAL (no
 * "controllers" object) when the state file cannot be used; why says
 * which. */
int mirror_top_pair_read(struct mirror_top_pair *p, const char *state_file, uint64_t now_ms,
			 char *why, size_t why_len);

/* The view as lines (the batch mode prints them, the curses view draws
 * them); then, for scripts, one "ctl X: key=value ..." line a controller
 * and one "lun N: ..." line a LUN (mirror-top(1), PAIR VIEW). */
unsigned mirror_top_pair_screen(const struct mirror_top_pair *p, const char *source,
				unsigned width, struct mirror_top_line *lines, unsigned max);

#ifdef __cplusplus
}
#endif
#endif
