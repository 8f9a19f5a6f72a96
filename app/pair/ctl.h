/* One controller of the emulated active-active pair (source Figs. 1, 4,
 * 5): a host port exporting SBC LUNs with implicit ALUA, a mirror port
 * whose receiver keeps the partner's writes in this controller's NVRAM, a
 * mirror link on which it sends its own writes to the partner (the path
 * Fig. 7 chooses) before it acknowledges the host, destage to the shared
 * RAID-5 disk array, failure detection on two channels, fencing, takeover
 * by replay, and failback.  One process, one thread for the protocol (the
 * socket loop of app/emu/server.c) and one that only opens connections.
 *
 * The files: ctl.c (life cycle, the clock), host.c (the host port's
 * logical units), link.c (the mirror link), destage.c (cache to array),
 * failover.c (detection, fencing, takeover, failback), faults.c (named
 * fault points and deviations), report.c (stats and control socket). */
#ifndef MIRROR_APP_PAIR_CTL_H
#define MIRROR_APP_PAIR_CTL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mirror/array_table.h>
#include <mirror/nvram.h>
#include <mirror/path.h>
#include <mirror/profile.h>
#include <mirror/receiver.h>
#include <mirror/transport.h>

#include "app/emu/server.h"
#include "app/pair/cache.h"
#include "app/pair/journal.h"
#include "app/pair/raid5.h"
#include "app/pair/sbc.h"
#include "app/pair/state.h"
#include "base/histogram.h"
#include "iscsi/chap_file.h"
#include "iscsi/target.h"

/* ---- deviations: deliberate bugs a checker must catch (mirror-pair(1)) ---- */
enum pair_deviation {
	DEV_ACK_BEFORE_MIRROR = 0, /* acknowledge when the mirror is sent, not at GOOD */
	DEV_ACK_WITHOUT_MIRROR,    /* acknowledge and never mirror */
	DEV_REPLAY_STALE,          /* takeover replays the newest copies first */
	DEV_REPLAY_INVALID,        /* takeover replays ranges that are not valid */
	DEV_NO_FENCING,            /* takeover without fencing the partner */
	/* the sending side (mirror-conform --check-sender, one per case) */
	DEV_SENDER_ALWAYS_LARGE,   /* Fig. 7 700: every op on the large path */
	DEV_SENDER_IGNORE_HIGH_BITS, /* Fig. 7 716: small although the high bits differ */
	DEV_SENDER_IGNORE_TABLE,   /* Fig. 7 712: small before the table is confirmed */
	DEV_SENDER_SMALL_IN_RECOVERY, /* Fig. 7 708: small in error recovery */
	DEV_SENDER_NO_SPLIT,       /* a write over 1 MiB in one op */
	DEV_SENDER_SEQ_GAP,        /* a sequence number skipped after each write */
	DEV_SENDER_WRONG_OPCODE,   /* the partner's small opcode */
	DEV_SENDER_CLEAR_CONTROL,  /* byte 11's NACA and LINK bits cleared */
	DEV_ACK_ON_CHECK,          /* a CHECK CONDITION taken as GOOD */
	DEV_COUNT_
};
const char *pair_deviation_name(unsigned d);
const char *pair_deviation_text(unsigned d);
int pair_deviation_parse(const char *name);

/* ---- named fault points: stop at the Nth event of a kind ---- */
enum pair_fault_point {
	FP_BEFORE_MIRROR = 0,   /* a host write stored, its mirror not sent */
	FP_AFTER_MIRROR,        /* the partner's GOOD in, the host not answered */
	FP_AFTER_ACK,           /* the host answered, the write not destaged */
	FP_DURING_DESTAGE,      /* a write destaged, its release not sent */
	FP_DURING_REPLAY,       /* a takeover in the middle of its replay */
	FP_COUNT_
};
enum pair_fault_action { FA_KILL = 0, FA_FREEZE, FA_CUT_LINK };
const char *pair_fault_point_name(unsigned p);

struct pair_fault {
	bool armed;
	enum pair_fault_point point;
	uint64_t nth;             /* fires at this occurrence (1-based) */
	enum pair_fault_action action;
};

struct ctl_config {
	unsigned role;            /* 0: A, 1: B */
	const char *dir;          /* the pair's directory */
	const char *host_listen, *mirror_listen;
	const char *stats_path;   /* NULL: DIR/ctl-X.stats */
	const char *control_path; /* NULL: DIR/ctl-X.ctl */
	struct mirror_profile profile;
	unsigned heartbeat_ms;    /* disk and link heartbeat period */
	unsigned dead_ms;         /* partner's disk heartbeat this stale: dead */
	unsigned link_timeout_ms; /* a mirror command this late: link down */
	unsigned destage_delay_ms;/* a write stays cached at least this long */
	unsigned transition_secs; /* RTPG's implicit transition time */
	unsigned queue_depth;     /* mirror link */
	const char *fence_cmd;    /* NULL: SIGKILL through a pidfd */
	/* standalone: no partner controller on the array; the partner is
	 * whatever answers at partner_mirror (mirror-conform --check-sender):
	 * its login is its liveness, a lost link is its failure (error
	 * recovery, Fig. 7 block 708, for recovery_hold_ms after it is back
	 * and has confirmed our table) */
	const char *partner_mirror; /* NULL: the partner's heartbeat names its port */
	bool standalone;
	unsigned recovery_hold_ms;
	/* host writes up to this many blocks (0: MIRROR_SBC_MAX_TRANSFER, 1
	 * MiB); more shows the splitter at work (Fig. 3) */
	uint32_t max_transfer;
	bool no_mirror;           /* benchmark: acknowledge without mirroring */
	/* benchmark: MIRROR_POLICY_LARGE sends every op on the large path,
	 * to measure what Fig. 7's small path buys (auto is the default) */
	enum mirror_path_policy path_policy;
	bool deviate[DEV_COUNT_];
	struct pair_fault fault;
	/* faults of the mirror port's receiver (mirror-emu --inject) */
	unsigned inject_n;
	struct mirror_inject_rule inject[MIRROR_INJECT_RULES_MAX];
	int log_level;
	/* CHAP required on the host and mirror ports, and used on the mirror
	 * link to the partner (which reads the same file: mirror-emu
	 * --chap-file's format); NULL: none.  The caller's, until close. */
	const struct mirror_chap_file *chap;
	unsigned login_timeout_s; /* a login not done by then is cut; 0: never */
};
void ctl_config_init(struct ctl_config *c);
/* The numbers mirror-ctl takes as options (and mirror-pair checks before
 * it passes them on): opt as written ("--heartbeat"), arg its value.  0
 * and *out, -ENOENT for an option that is not one of them, or -EINVAL
 * and "--heartbeat 'abc': want a number of milliseconds from 10 to
 * 10000" in why. */
int ctl_number_option(const char *opt, const char *arg, unsigned *out, char *why, size_t why_len);

struct host_task;

enum link_state { LINK_DOWN = 0, LINK_CONNECTING, LINK_UP };

struct link_op;

struct ctl_link {
	enum link_state state;
	struct mirror_transport *t;
	int watched_fd;
	bool flush_due; /* submitted this round, not yet written (link_before_wait) */
	bool partner_initialized; /* Fig. 7 block 712: our table confirmed */
	uint64_t initialized_ms;  /* when it was */
	bool table_sent;
	uint32_t table_version;
	uint32_t next_sequence;   /* large path, consecutive per sender */
	uint64_t session;         /* sessions opened, names each one */
	uint64_t last_ok_ms, last_try_ms, up_since_ms;
	bool tur_out;
	bool cut;                 /* fault: the link is cut until healed */
	/* operations in send order; submitted from the head */
	struct link_op *q_head, *q_tail;
	unsigned queued, outstanding;
	/* the connector thread */
	pthread_t th;
	bool th_running;
	int pipe_rd, pipe_wr;
	char url[256];
	char why[256];
	/* counters */
	uint64_t ops[2];          /* small, large sent */
	uint64_t reasons[8];      /* by enum mirror_path_reason */
	uint64_t good, errors, retries, releases, drops;
};

/* A controller's view of its partner. */
struct ctl_partner {
	struct pair_heartbeat hb;
	uint64_t hb_seen_ms;      /* when its counter last moved */
	uint64_t hb_counter;
	uint64_t incarnation;
	int pidfd;                /* pinned process, for fencing */
	uint32_t pidfd_pid;
	bool alive;               /* by the disk heartbeat */
	bool dead;                /* declared dead: takeover done or under way */
};

struct takeover_times {
	uint64_t detected_ms, fenced_ms, replayed_ms, active_ms;
	uint64_t replayed_blocks;
	bool fenced;
	char how[64];
};

enum ctl_mode {
	MODE_WHOLE = 0,    /* mirroring to the partner */
	MODE_ALONE,        /* partner dead (taken over) or link cut: write-through */
	MODE_TAKEOVER,     /* fencing and replaying */
	MODE_REJOINING     /* restarted after a takeover */
};

struct ctl {
	struct ctl_config cfg;
	uint64_t incarnation;
	uint32_t pid;
	char name[2];             /* "a" / "b" */
	/* NVRAM, the partner's writes, our cache */
	struct mirror_nvram_mem mem;
	struct mirror_nvram nv;
	struct mirror_receiver rx;
	struct pair_journal journal;
	struct pair_cache cache;
	/* the disk array and the shared state */
	struct mirror_raid5 *array;
	struct pair_state *state;
	struct pair_layout layout;
	struct mirror_array_table table;
	uint64_t mirror_epoch;
	uint64_t hb_counter;
	/* ports */
	struct mirror_emu_server *srv;
	struct mirror_tgt *host_tgt, *mirror_tgt;
	struct mirror_inject inject;
	unsigned host_idx, mirror_idx;
	/* the targets' configurations point at these */
	char mirror_iqn[128], host_iqn[128], mirror_portal[64], host_portal[64];
	int control_fd;
	/* host LUNs */
	struct mirror_sbc_lu lu[PAIR_LUNS_MAX];
	struct mirror_sbc_port port;
	uint8_t alua_local[PAIR_LUNS_MAX], alua_remote[PAIR_LUNS_MAX];
	struct host_task *room_head, *room_tail; /* writes waiting for NVRAM room (host.c) */
	/* link and partner */
	struct ctl_link link;
	struct ctl_partner partner;
	enum ctl_mode mode;
	bool error_recovery;      /* Fig. 7 block 708 */
	bool handing_back;
	/* rejoining: our last incarnation served and the partner is alive, so
	 * it takes over what that one held before it hands our LUNs back */
	bool expect_takeover;
	uint64_t rejoin_epoch, rejoin_since_ms;
	struct takeover_times to, last_to;
	uint64_t takeovers, failbacks;
	/* fault counters by point */
	uint64_t fault_count[FP_COUNT_];
	/* host statistics */
	uint64_t host_reads, host_writes, host_read_bytes, host_write_bytes, host_errors;
	uint64_t host_cmds_other;
	struct mirror_hist write_lat, read_lat;
	uint64_t destage_errors;
	uint8_t *scratch;         /* 1 MiB + metadata, for destage and replay */
	bool stopping;
	uint64_t started_ms, next_hb_ms;
};

/* ctl.c */
int ctl_open(struct ctl *c, const struct ctl_config *cfg, char *why, size_t why_len);
int ctl_run(struct ctl *c);
void ctl_stop(struct ctl *c);
void ctl_close(struct ctl *c);
uint64_t ctl_now_ms(void);
uint64_t ctl_now_ns(void);
void ctl_set_mode(struct ctl *c, enum ctl_mode m);
void ctl_alua_update(struct ctl *c);
bool ctl_owns(const struct ctl *c, uint32_t lun);

/* host.c */
extern const struct mirror_tgt_lu_ops ctl_host_lu_ops;
void host_write_safe(struct ctl *c, struct pair_entry *e);   /* answer GOOD */
void host_write_failed(struct ctl *c, struct pair_entry *e, uint8_t key, uint8_t asc,
		       uint8_t ascq);
void host_room_retry(struct ctl *c);
/* Answers the hosts of entries that were destaged while they waited
 * (write-through, a link that went down), then reclaims NVRAM. */
void host_ack_destaged(struct ctl *c);

/* link.c */
void link_init(struct ctl *c);
void link_tick(struct ctl *c, uint64_t now);
/* The event loop is about to wait: writes what the round submitted to the
 * partner; 1 when that completed mirror operations (answers are due). */
int link_before_wait(struct ctl *c);
/* The link is up with nothing queued, in flight or waiting to be released;
 * then it needs the clock only for its heartbeat (TEST UNIT READY) at
 * *next_ms. */
bool link_quiet(const struct ctl *c, uint64_t *next_ms);
void link_shutdown(struct ctl *c);
int link_mirror(struct ctl *c, struct pair_entry *e);
void link_release(struct ctl *c, struct pair_entry *e);
void link_flush_releases(struct ctl *c);
void link_drop(struct ctl *c, const char *why);
bool link_ready(const struct ctl *c);

/* destage.c */
int destage_tick(struct ctl *c, uint64_t now, unsigned max);
int destage_all(struct ctl *c);
int array_write_lun(struct ctl *c, uint32_t lun, uint64_t lba, uint32_t blocks, const void *buf);
int array_read_lun(struct ctl *c, uint32_t lun, uint64_t lba, uint32_t blocks, void *buf);

/* failover.c */
void failover_tick(struct ctl *c, uint64_t now);
void failover_link_down(struct ctl *c, const char *why);
int failover_startup(struct ctl *c);

/* faults.c */
/* Counts an event of a kind and acts if the armed fault says so. */
void fault_event(struct ctl *c, enum pair_fault_point p);
int pair_fault_parse(const char *spec, struct pair_fault *f, char *why, size_t why_len);

/* report.c */
struct json_object *ctl_stats_json(void *arg);
int control_open(struct ctl *c, char *why, size_t why_len);
void control_close(struct ctl *c);

#endif
