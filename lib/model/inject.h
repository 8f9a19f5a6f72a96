/* Fault injection for the emulated receiver (mirror-emu --inject RULE):
 * which rules a test set, and what they decide for each command.  The
 * receiver's own faults (struct mirror_rx_faults) are part of the
 * decision; the target engine acts on the rest (drop or delay the status,
 * close mid-transfer). */
#ifndef MIRROR_LIB_MODEL_INJECT_H
#define MIRROR_LIB_MODEL_INJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

#ifdef __cplusplus
}
#endif
#endif
