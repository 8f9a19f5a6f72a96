/* The iSCSI target engine (RFC 7143), transport-free: bytes from a
 * connection go in, bytes to send come out, and a clock tick releases what
 * waits for time.  A socket loop (app/emu/server.c) owns descriptors and
 * time; this engine owns the protocol: login (CHAP, operational
 * negotiation), SendTargets discovery, SCSI commands with R2Ts, Data-Out
 * and Data-In, NOP, Logout, task management, Reject, and the accounting of
 * receiver interrupts per mirror operation (wire-profile.md, "Interrupt
 * accounting model").
 *
 * What a command means is the business of the logical units behind the
 * target (struct mirror_tgt_lu_ops): the mirror receiver for mirror-emu and
 * a controller's mirror port (mirror_tgt_new_receiver), SBC block devices
 * for a controller's host port.  A logical unit answers each step of a
 * command with an action: respond now, send me this range of the data-out,
 * or "pending": the answer comes later through mirror_tgt_cmd_complete()
 * (a host write that waits for the partner's GOOD, Fig. 5 block 528/532).
 *
 * The files: frame.c (PDU framing in and out, dispatch), login.c and auth.c
 * (the login phase), session.c (NOP, Text, Logout, task management),
 * task.c (SCSI commands and their data), respond.c (Data-In, SCSI Response,
 * injected delays), target.c (life cycle and counters), lu_receiver.c (the
 * receiver as a logical unit). */
#ifndef MIRROR_LIB_ISCSI_TARGET_H
#define MIRROR_LIB_ISCSI_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mirror/account.h>
#include <mirror/receiver.h>
#include <mirror/sense.h>
#include <mirror/transport.h>

#include "base/iqn.h"
#include "model/inject.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- what a logical unit sees of a command, and answers ---- */

enum mirror_tgt_action_kind {
	MIRROR_TGT_RESPOND = 0, /* status (and sense, data-in) now */
	MIRROR_TGT_WANT_DATA,   /* bytes [offset, offset + length) of the data-out */
	MIRROR_TGT_PENDING      /* the answer comes through mirror_tgt_cmd_complete */
};

struct mirror_tgt_action {
	enum mirror_tgt_action_kind kind;
	uint32_t offset, length;    /* WANT_DATA */
	uint8_t status;             /* RESPOND */
	uint8_t sense[MIRROR_FIXED_SENSE_LEN];
	unsigned sense_len;
	const uint8_t *data_in;     /* valid until the LU's end() */
	uint32_t data_in_len;
	uint32_t data_in_overflow;  /* bytes beyond the EDTL not sent (11.4.5.1) */
};

/* RESPOND with CHECK CONDITION and fixed-format sense key/ASC/ASCQ. */
void mirror_tgt_action_check(struct mirror_tgt_action *a, uint8_t key, uint8_t asc, uint8_t ascq);
/* RESPOND GOOD with data_in (may be NULL, 0). */
void mirror_tgt_action_good(struct mirror_tgt_action *a, const uint8_t *data_in, uint32_t len);

/* One SCSI command as the engine hands it to a logical unit.  Lives from
 * begin() to end(); `lu_task` points to lu_task_size bytes the engine keeps
 * per command slot for the LU (no allocation per command). */
struct mirror_tgt_cmd {
	uint32_t lun;               /* decoded from the LUN field (SAM-5 4.7) */
	const uint8_t *cdb;         /* 16 bytes (or more with an extended CDB AHS) */
	unsigned cdb_len;
	enum mirror_xfer_dir dir;
	uint32_t edtl;              /* expected data transfer length */
	const char *initiator;      /* the session's InitiatorName */
	uint64_t nexus;             /* the I_T nexus: unique per session for the
				     * target's lifetime, never 0 */
	const struct mirror_inject_decision *inject; /* never NULL */
	void *lu_task;
	/* The kind of mirror operation for the interrupt/byte accounting
	 * (receiver LUs set it in begin; others leave KIND_OTHER), and the
	 * CDB length the accounting books. */
	enum mirror_rx_kind kind;
	unsigned account_cdb_len;
	uint8_t task_attr;          /* SIMPLE, ORDERED, ... (11.3.1) */
};

struct mirror_tgt_lu_ops {
	/* bytes the engine reserves per command slot for lu_task */
	size_t lu_task_size;
	/* A new command.  Fills act. */
	void (*begin)(void *lu, struct mirror_tgt_cmd *cmd, struct mirror_tgt_action *act);
	/* The range the last WANT_DATA asked for, whole.  Fills act. */
	void (*data)(void *lu, struct mirror_tgt_cmd *cmd, const uint8_t *buf, uint32_t len,
		     struct mirror_tgt_action *act);
	/* The command dies before its response (connection lost, ABORT TASK,
	 * a reset): a PENDING command must not be completed afterwards. */
	void (*abort)(void *lu, struct mirror_tgt_cmd *cmd);
	/* Always last: the response went out, or the command was aborted. */
	void (*end)(void *lu, struct mirror_tgt_cmd *cmd);
	/* An I_T nexus ended (the session's connection closed); may be NULL. */
	void (*nexus_end)(void *lu, uint64_t nexus);
	/* LOGICAL UNIT RESET of lun (after its tasks were aborted); may be NULL. */
	void (*lun_reset)(void *lu, uint32_t lun, uint64_t nexus);
};

/* The answer to a PENDING command: RESPOND, or WANT_DATA for more.  Output
 * is queued on the command's connection and the config's wake() is called
 * so that the socket loop sends it. */
void mirror_tgt_cmd_complete(struct mirror_tgt_cmd *cmd, const struct mirror_tgt_action *act);

/* ---- target configuration ---- */

enum mirror_neg_profile {
	MIRROR_NEG_PATENT = 0, /* InitialR2T=Yes, ImmediateData=No (default) */
	MIRROR_NEG_MODERN      /* InitialR2T=No, ImmediateData=Yes */
};

#define MIRROR_ACL_MAX 32
/* The login phase's default bound in time (mirror-emu --login-timeout). */
#define MIRROR_TGT_LOGIN_TIMEOUT_MS 15000u
/* The text keys of one Login or Text request, continued over PDUs (C bit):
 * more is refused (Login: status 0302h, out of resources; Text: Reject). */
#define MIRROR_TGT_TEXT_MAX 65536u

struct mirror_tgt_conn;

struct mirror_tgt_config {
	const char *target_name;   /* iqn of the one target */
	const char *target_alias;
	const char *portal;        /* "127.0.0.1:3260" for SendTargets */
	uint16_t portal_group_tag; /* TargetPortalGroupTag; 0: 1 */
	enum mirror_neg_profile neg;
	uint32_t max_recv_data_segment_length; /* ours: bounds what peers send */
	uint32_t max_burst_length;
	uint32_t first_burst_length;
	/* CHAP: the initiator must authenticate when chap_user is set;
	 * mutual when the initiator asks and target_chap_user is set. */
	const char *chap_user, *chap_secret;
	const char *target_chap_user, *target_chap_secret;
	/* A connection still in the login phase this long after it came is
	 * cut (a slow or silent login holds no slot for ever); 0: never.
	 * mirror_tgt_config_init: MIRROR_TGT_LOGIN_TIMEOUT_MS. */
	unsigned login_timeout_ms;
	/* initiator names allowed (none: all) */
	unsigned acl_n;
	const char *acl[MIRROR_ACL_MAX];
	struct mirror_inject *inject; /* may be NULL */
	/* Called when a connection has output that no input produced (an
	 * async completion); may be NULL. */
	void (*wake)(struct mirror_tgt_conn *c, void *arg);
	void *wake_arg;
};

void mirror_tgt_config_init(struct mirror_tgt_config *c);
/* 0, or -EINVAL with the first thing wrong in why (a burst length out of
 * range, FirstBurstLength over MaxBurstLength, a CHAP user without a
 * secret, ...). */
int mirror_tgt_config_check(const struct mirror_tgt_config *c, char *why, size_t why_len);

/* Counters per message kind, machine-readable while the target runs. */
struct mirror_tgt_kind_stats {
	uint64_t ops;
	uint64_t interrupts;
	unsigned interrupts_min, interrupts_max;
	struct mirror_cost bytes; /* sums */
	uint64_t errors;
};

struct mirror_tgt_stats {
	struct mirror_tgt_kind_stats kind[MIRROR_RX_KINDS]; /* by enum mirror_rx_kind */
	uint64_t sessions_total, sessions_now, logins_failed;
	uint64_t pdus_in, pdus_out, rejects, digest_errors, tmf;
	uint64_t sense_count[16]; /* CHECK CONDITIONs by sense key */
};

struct mirror_tgt;

/* A target whose logical units are served by ops/lu.  0 and *out, or a
 * negative errno and the reason in why. */
int mirror_tgt_new(const struct mirror_tgt_config *c, const struct mirror_tgt_lu_ops *ops,
		   void *lu, struct mirror_tgt **out, char *why, size_t why_len);
/* The mirror receiver as LUN 0 (mirror-emu, a controller's mirror port):
 * every other LUN is LOGICAL UNIT NOT SUPPORTED. */
int mirror_tgt_new_receiver(const struct mirror_tgt_config *c, struct mirror_receiver *rx,
			    struct mirror_tgt **out, char *why, size_t why_len);
/* Calls around the receiver as LUN 0, for a partner that records what
 * arrives and may hold back or replace an answer (mirror-conform
 * --check-sender: conformance/sender_rx.c).  Any call may be NULL.  task
 * is task_size bytes of the command's own, zeroed before begin and aligned
 * for any type; the calls of one command get the same task. */
struct mirror_rx_lu_hooks {
	void *arg;
	size_t task_size;
	/* A new command, any LUN, before the receiver sees it. */
	void (*begin)(void *arg, struct mirror_tgt_cmd *cmd, void *task);
	/* Data-out bytes [offset, offset + len), before the receiver. */
	void (*data)(void *arg, struct mirror_tgt_cmd *cmd, void *task, uint32_t offset,
		     const uint8_t *buf, uint32_t len);
	/* The command's answer (RESPOND): it may be changed, or kept by the
	 * hook and PENDING put in its place, to be sent later through
	 * mirror_tgt_cmd_complete. */
	void (*respond)(void *arg, struct mirror_tgt_cmd *cmd, void *task,
			struct mirror_tgt_action *act);
	/* As the LU's abort and end, before the receiver's. */
	void (*abort)(void *arg, struct mirror_tgt_cmd *cmd, void *task);
	void (*end)(void *arg, struct mirror_tgt_cmd *cmd, void *task);
	void (*nexus_end)(void *arg, uint64_t nexus);
};
/* mirror_tgt_new_receiver with hooks (copied; NULL: none). */
int mirror_tgt_new_receiver_hooked(const struct mirror_tgt_config *c, struct mirror_receiver *rx,
				   const struct mirror_rx_lu_hooks *hooks, struct mirror_tgt **out,
				   char *why, size_t why_len);
void mirror_tgt_free(struct mirror_tgt *t);
const struct mirror_tgt_stats *mirror_tgt_stats(const struct mirror_tgt *t);
/* The receiver of a target made by mirror_tgt_new_receiver, else NULL. */
const struct mirror_receiver *mirror_tgt_receiver(const struct mirror_tgt *t);
struct json_object;
/* A JSON object of the counters (caller puts it). */
struct json_object *mirror_tgt_stats_json(const struct mirror_tgt *t);

/* peer: "127.0.0.1:40312", for logs. */
struct mirror_tgt_conn *mirror_tgt_conn_new(struct mirror_tgt *t, const char *peer);
/* Feeds received bytes; returns 0, or < 0 when the connection must close
 * (after what is already queued has been sent, if anything). */
int mirror_tgt_conn_input(struct mirror_tgt_conn *c, const uint8_t *buf, size_t len);
/* Bytes waiting to be sent (a contiguous span), and consuming them. */
const uint8_t *mirror_tgt_conn_output(struct mirror_tgt_conn *c, size_t *len);
void mirror_tgt_conn_consumed(struct mirror_tgt_conn *c, size_t n);
/* Time passes: releases delayed statuses and ends a login that outlived
 * login_timeout_ms (counted from the first tick; the connection then wants
 * to close).  now_ms is monotonic.  Returns the ms until the next
 * deadline, or -1 for none. */
int mirror_tgt_conn_tick(struct mirror_tgt_conn *c, uint64_t now_ms);
bool mirror_tgt_conn_wants_close(const struct mirror_tgt_conn *c);
/* The Data-Out the initiator owes for R2Ts outstanding: it sends them
 * without waiting for anything from us (10.7), so the socket loop may wait
 * for them to gather.  Returns the bytes (at least: one header per R2T is
 * counted) and, in *tasks, the R2Ts. */
size_t mirror_tgt_conn_owed_data(const struct mirror_tgt_conn *c, unsigned *tasks);
/* The socket loop's own pointer for a connection (for wake()). */
void mirror_tgt_conn_set_user(struct mirror_tgt_conn *c, void *user);
void *mirror_tgt_conn_user(const struct mirror_tgt_conn *c);
/* Ends the connection: outstanding tasks are aborted (their NVRAM ranges
 * stay invalid). */
void mirror_tgt_conn_free(struct mirror_tgt_conn *c);

/* The engine as the socket loop sees it: the functions above behind one
 * table, so that the loop can be tested against a stub engine. */
struct mirror_engine_ops {
	struct mirror_tgt_conn *(*conn_new)(struct mirror_tgt *t, const char *peer);
	int (*conn_input)(struct mirror_tgt_conn *c, const uint8_t *buf, size_t len);
	const uint8_t *(*conn_output)(struct mirror_tgt_conn *c, size_t *len);
	void (*conn_consumed)(struct mirror_tgt_conn *c, size_t n);
	int (*conn_tick)(struct mirror_tgt_conn *c, uint64_t now_ms);
	bool (*conn_wants_close)(const struct mirror_tgt_conn *c);
	size_t (*conn_owed_data)(const struct mirror_tgt_conn *c, unsigned *tasks); /* or NULL */
	void (*conn_set_user)(struct mirror_tgt_conn *c, void *user);
	void (*conn_free)(struct mirror_tgt_conn *c);
	struct json_object *(*stats_json)(const struct mirror_tgt *t);
};
extern const struct mirror_engine_ops mirror_engine_iscsi;

#ifdef __cplusplus
}
#endif
#endif
