/* mirror-emu's iSCSI target engine (RFC 7143), transport-free: bytes from a
 * connection go in, bytes to send come out.  The socket loop (lib/
 * emu_server.c) owns file descriptors and time; this engine owns the
 * protocol: login (CHAP, operational negotiation), SendTargets discovery,
 * SCSI commands with R2Ts, Data-Out and Data-In, NOP, Logout, task
 * management, Reject, and the accounting of receiver interrupts per mirror
 * operation (wire-profile.md, "Interrupt accounting model"). */
#ifndef MIRROR_TARGET_H
#define MIRROR_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mirror/account.h>
#include <mirror/receiver.h>

#include "model/inject.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- target configuration ---- */

enum mirror_neg_profile {
	MIRROR_NEG_PATENT = 0, /* InitialR2T=Yes, ImmediateData=No (default) */
	MIRROR_NEG_MODERN      /* InitialR2T=No, ImmediateData=Yes */
};

#define MIRROR_ACL_MAX 32

struct mirror_tgt_config {
	const char *target_name;   /* iqn of the one target */
	const char *target_alias;
	const char *portal;        /* "127.0.0.1:3260" for SendTargets */
	enum mirror_neg_profile neg;
	uint32_t max_recv_data_segment_length; /* ours: bounds what peers send */
	uint32_t max_burst_length;
	uint32_t first_burst_length;
	/* CHAP: the initiator must authenticate when chap_user is set;
	 * mutual when the initiator asks and target_chap_user is set. */
	const char *chap_user, *chap_secret;
	const char *target_chap_user, *target_chap_secret;
	/* initiator names allowed (none: all) */
	unsigned acl_n;
	const char *acl[MIRROR_ACL_MAX];
	struct mirror_inject *inject; /* may be NULL */
};

void mirror_tgt_config_init(struct mirror_tgt_config *c);

/* Counters per message kind, machine-readable while the target runs. */
struct mirror_tgt_kind_stats {
	uint64_t ops;
	uint64_t interrupts;
	unsigned interrupts_min, interrupts_max;
	struct mirror_cost bytes; /* sums */
	uint64_t errors;
};

struct mirror_tgt_stats {
	struct mirror_tgt_kind_stats kind[5]; /* by enum mirror_rx_kind */
	uint64_t sessions_total, sessions_now, logins_failed;
	uint64_t pdus_in, pdus_out, rejects, digest_errors, tmf;
	uint64_t sense_count[16]; /* CHECK CONDITIONs by sense key */
};

struct mirror_tgt;
struct mirror_tgt_conn;

struct mirror_tgt *mirror_tgt_new(const struct mirror_tgt_config *c, struct mirror_receiver *rx);
void mirror_tgt_free(struct mirror_tgt *t);
const struct mirror_tgt_stats *mirror_tgt_stats(const struct mirror_tgt *t);
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
/* Time passes: releases delayed statuses.  now_ms is monotonic.  Returns
 * the ms until the next deadline, or -1 for none. */
int mirror_tgt_conn_tick(struct mirror_tgt_conn *c, uint64_t now_ms);
bool mirror_tgt_conn_wants_close(const struct mirror_tgt_conn *c);
/* Ends the connection: outstanding tasks are aborted (their NVRAM ranges
 * stay invalid). */
void mirror_tgt_conn_free(struct mirror_tgt_conn *c);

#ifdef __cplusplus
}
#endif
#endif
