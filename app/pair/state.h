/* The pair's shared state on the disk array (a file beside the member
 * disks, DIR/array/state): what both controllers must agree on without the
 * mirror link, because the link is what may have failed.
 *
 * Sector 0, written only by the launcher (at creation), by a controller
 * that has fenced its partner (takeover) and by the owner handing LUNs back
 * (failback): the volumes (count, size, the array's serial number), which
 * controller owns each LUN now and which one it belongs to when the pair is
 * whole, and the takeover epoch.
 * Sectors 1 and 2, each written only by its controller (A, B) every
 * heartbeat: the second channel of failure detection (the first is the
 * mirror link), so that a dead partner is told from a cut link: its pid
 * and incarnation, a counter and a time stamp, its service state and its
 * mirror epoch (bumped when it stops mirroring while alive, which voids
 * the copies its partner holds of its earlier writes).
 *
 * Every sector carries a checksum; a torn read (a writer in the middle of
 * its pwrite) is reported as -EAGAIN and the reader tries again later. */
#ifndef MIRROR_APP_PAIR_STATE_H
#define MIRROR_APP_PAIR_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAIR_LUNS_MAX 64u
#define PAIR_STATE_SECTOR 512u

enum pair_ctl_status {
	PAIR_CTL_DOWN = 0,   /* never started, or stopped cleanly */
	PAIR_CTL_STARTING,
	PAIR_CTL_SERVING,    /* the pair is whole from its view */
	PAIR_CTL_ALONE,      /* serving, partner dead (took over) or link cut */
	PAIR_CTL_TAKEOVER,   /* fencing or replaying */
	PAIR_CTL_REJOINING,  /* restarted after a takeover: waits for its LUNs */
	PAIR_CTL_STOPPED
};
const char *pair_ctl_status_name(enum pair_ctl_status s);

struct pair_layout {
	uint32_t luns;
	uint64_t lun_blocks;            /* each LUN, in 512-byte blocks */
	uint64_t lun_start[PAIR_LUNS_MAX]; /* first array block of each LUN */
	uint8_t array_serial[8];
	uint8_t home[PAIR_LUNS_MAX];    /* 0: A, 1: B, when the pair is whole */
	uint8_t owner[PAIR_LUNS_MAX];   /* who serves it now */
	uint64_t epoch;                 /* takeovers and failbacks so far */
};

struct pair_heartbeat {
	uint32_t pid;
	uint64_t incarnation;           /* random per process start */
	uint64_t counter;
	uint64_t mono_ms;               /* CLOCK_MONOTONIC: one clock per host */
	enum pair_ctl_status status;
	uint64_t mirror_epoch;
	uint16_t host_port, mirror_port;
};

struct pair_state;

/* Creates the state file for a new pair (fails with -EEXIST if there is
 * one). */
int pair_state_create(const char *path, const struct pair_layout *l, char *why, size_t why_len);
int pair_state_open(const char *path, struct pair_state **out, char *why, size_t why_len);
void pair_state_close(struct pair_state *s);

int pair_state_read_layout(struct pair_state *s, struct pair_layout *l);
int pair_state_write_layout(struct pair_state *s, const struct pair_layout *l);
/* ctl: 0 (A) or 1 (B). */
int pair_state_read_heartbeat(struct pair_state *s, unsigned ctl, struct pair_heartbeat *h);
int pair_state_write_heartbeat(struct pair_state *s, unsigned ctl, const struct pair_heartbeat *h);

#endif
