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

#ifdef __cplusplus
extern "C" {
#endif

/* ---- fault injection (mirror-emu --inject RULE) ---- */

enum mirror_inject_action {
	MIRROR_INJ_SENSE = 0,        /* answer CHECK CONDITION with a given sense */
	MIRROR_INJ_DROP_STATUS,      /* never send the status */
	MIRROR_INJ_DELAY_STATUS,     /* send the status after delay_ms */
	MIRROR_INJ_UNKNOWN_OPCODE,   /* treat a mirror opcode as unknown */
	MIRROR_INJ_SKIP_VALIDITY,    /* store but never mark valid */
	MIRROR_INJ_CORRUPT_READBACK, /* flip a bit in NVRAM READBACK data */
	MIRROR_INJ_CLOSE_MID_TRANSFER,/* close the connection halfway through the data-out */
	/* deviations from the wire profile, one per conformance case family
	 * (conformance/deviations.tsv) */
	MIRROR_INJ_ACCEPT,           /* accept what breaks one rule (accept:RULE_ID) */
	MIRROR_INJ_WRONG_POINTER,    /* field pointer one byte past the field */
	MIRROR_INJ_VALID_ON_ABORT,   /* an aborted operation's ranges become valid */
	MIRROR_INJ_DATA_IN_MIRROR,   /* a data-in 0x3C/0xA0/0xB0 taken for a mirror command */
	MIRROR_INJ_GAP_SENSE,        /* a sequence gap: CHECK CONDITION, ranges left invalid */
	MIRROR_INJ_WRONG_ASC,        /* a rejected command's ASC is another (24h <-> 26h, else 24h) */
	MIRROR_INJ_KEEP_TABLE        /* ARRAY TABLE UPDATE answered GOOD, the old table kept;
				      * the last action: mirror_inject_add checks against it */
};

struct mirror_inject_rule {
	enum mirror_inject_action action;
	int opcode;          /* -1: any command */
	double probability;  /* 0 < p <= 1 */
	uint8_t key, asc, ascq;
	unsigned delay_ms;
	int rule;            /* MIRROR_INJ_ACCEPT: an enum mirror_rule */
};

#define MIRROR_INJECT_RULES_MAX 16

struct mirror_inject {
	unsigned n;
	struct mirror_inject_rule rule[MIRROR_INJECT_RULES_MAX];
	uint64_t prng;       /* seeded, so a run can be replayed */
	uint64_t fired[MIRROR_INJECT_RULES_MAX];
};

/* "ACTION[:ARG][,opcode=0xNN][,p=0.5]", ACTION one of sense:KK/AA/QQ (hex),
 * drop-status, delay-status:MS, unknown-opcode, skip-validity,
 * corrupt-readback, close-mid-transfer, accept:RULE_ID (a rule id of
 * mirror_rule_info, e.g. small.bc_too_large), wrong-pointer, wrong-asc,
 * valid-on-abort, data-in-mirror, gap-sense, keep-table.  -EINVAL with a
 * reason in why. */
int mirror_inject_parse(const char *spec, struct mirror_inject_rule *r, char *why, size_t why_len);
void mirror_inject_init(struct mirror_inject *inj, uint64_t seed);
int mirror_inject_add(struct mirror_inject *inj, const struct mirror_inject_rule *r);

/* What the rules decided for one command. */
struct mirror_inject_decision {
	struct mirror_rx_faults faults;
	bool drop_status;
	unsigned delay_ms;
	bool close_mid_transfer;
};
void mirror_inject_decide(struct mirror_inject *inj, uint8_t opcode,
			  struct mirror_inject_decision *d);

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
