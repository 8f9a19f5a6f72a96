/* Findings: what a decoder found wrong, and exactly where.
 *
 * Every rule of the wire profile has an id in enum mirror_rule and a row in
 * one table (lib/wire/rules.c) that gives its field name, severity and the SCSI
 * sense a receiver answers with.  A finding records the rule, the byte and
 * bit of the field at fault (the sense-key-specific field pointer) and a
 * message with the offending values.
 *
 * Decoders append findings in the order the profile ranks them (fields in
 * byte order, then the LBA range, then the data-out length, then the S/G
 * sum), so the first error is the one a receiver reports.
 */
#ifndef MIRROR_FINDING_H
#define MIRROR_FINDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum mirror_severity { MIRROR_SEV_ERROR = 0, MIRROR_SEV_WARNING = 1 };

enum mirror_rule {
	/* generic */
	MIRROR_RULE_TRUNCATED = 0,
	MIRROR_RULE_OPCODE_UNKNOWN,
	/* small-write CDB (C/D = 1) */
	MIRROR_RULE_SMALL_OPCODE,
	MIRROR_RULE_SMALL_DESC_NVRAM,
	MIRROR_RULE_SMALL_DESC_REGION,
	MIRROR_RULE_SMALL_BC1_ZERO,
	MIRROR_RULE_SMALL_BC_TOO_LARGE,
	MIRROR_RULE_SMALL_ABSENT_LOW_NONZERO,
	MIRROR_RULE_SMALL_ELEMENT_AFTER_ABSENT,
	MIRROR_RULE_SMALL_CONTROL_HAZARD,
	MIRROR_RULE_CDB_TRAILING,
	/* notification CDB */
	MIRROR_RULE_NOTIFY_OPCODE,
	MIRROR_RULE_NOTIFY_RESERVED,
	MIRROR_RULE_NOTIFY_RESERVED_STRICT,
	/* metadata (C/D = 0, offsets within the 1024-byte message) */
	MIRROR_RULE_MD_TYPE,
	MIRROR_RULE_MD_LENGTH,
	MIRROR_RULE_MD_BLOCKS,
	MIRROR_RULE_MD_REGION,
	MIRROR_RULE_MD_REGION_SENDER,
	MIRROR_RULE_MD_PAD,
	MIRROR_RULE_SG_COUNT,
	MIRROR_RULE_SG_ADDR_ALIGN,
	MIRROR_RULE_SG_ADDR_NVRAM,
	MIRROR_RULE_SG_ADDR_REGION,
	MIRROR_RULE_SG_TERMINATOR,
	MIRROR_RULE_SG_AFTER_END,
	MIRROR_RULE_SG_SUM,
	/* across fields */
	MIRROR_RULE_LBA_RANGE,
	MIRROR_RULE_DATA_LENGTH,
	/* ARRAY TABLE UPDATE payload and NVRAM READBACK (harness extensions) */
	MIRROR_RULE_TABLE_OPCODE,
	MIRROR_RULE_TABLE_CDB_RESERVED,
	MIRROR_RULE_TABLE_PARAM_LEN,
	MIRROR_RULE_TABLE_COUNT,
	MIRROR_RULE_TABLE_RESERVED,
	MIRROR_RULE_TABLE_DUP_VOLUME,
	MIRROR_RULE_TABLE_DUP_SERIAL,
	MIRROR_RULE_READBACK_OPCODE,
	MIRROR_RULE_READBACK_ADDR,
	MIRROR_RULE_READBACK_BLOCKS,
	MIRROR_RULE_READBACK_RESERVED,
	/* the receiver's own rules, on top of the decoders (lib/model/receiver.c,
	 * wire-profile.md "Receiver behaviour and status") */
	MIRROR_RULE_OPCODE_DIRECTION,
	MIRROR_RULE_SMALL_OPCODE_ROLE,
	MIRROR_RULE_SMALL_VOLUME,
	MIRROR_RULE_SCSI_INVALID_FIELD,
	/* MIRROR RELEASE (harness extension, a controller pair's destage) */
	MIRROR_RULE_RELEASE_OPCODE,
	MIRROR_RULE_RELEASE_CDB_RESERVED,
	MIRROR_RULE_RELEASE_PARAM_LEN,
	MIRROR_RULE_RELEASE_COUNT,
	MIRROR_RULE_RELEASE_RESERVED,
	MIRROR_RULE_RELEASE_RANGE,
	MIRROR_RULE_COUNT_
};

/* One row of the rule table. */
struct mirror_rule_info {
	enum mirror_rule rule;
	const char *id;     /* stable, e.g. "small.bc_too_large" */
	const char *field;  /* the field at fault, e.g. "S/G element 1 block count" */
	enum mirror_severity severity;
	uint8_t sense_key;  /* 0 for warnings */
	uint8_t asc, ascq;
	bool sksv;          /* carries a field pointer */
};

const struct mirror_rule_info *mirror_rule_info(enum mirror_rule r);

#define MIRROR_FINDING_MSG_MAX 120

struct mirror_finding {
	enum mirror_rule rule;
	enum mirror_severity severity;
	bool in_cdb;   /* C/D bit: 1 = CDB, 0 = parameter data (metadata) */
	bool sksv;     /* the pointer below is meaningful */
	uint16_t byte; /* field pointer: most significant byte of the field */
	uint8_t bit;   /* most significant bit of the field in that byte */
	const char *field;
	char message[MIRROR_FINDING_MSG_MAX];
};

#define MIRROR_FINDINGS_MAX 24

/* A caller-owned, fixed-size list: decoders never allocate.  Findings past
 * MIRROR_FINDINGS_MAX are counted in dropped, never silently lost. */
struct mirror_findings {
	unsigned count;
	unsigned errors;
	unsigned warnings;
	unsigned dropped;
	struct mirror_finding item[MIRROR_FINDINGS_MAX];
};

void mirror_findings_init(struct mirror_findings *f);
/* The first error (what a receiver reports), or NULL. */
const struct mirror_finding *mirror_findings_first_error(const struct mirror_findings *f);
/* Find a finding by rule (first occurrence) or NULL. */
const struct mirror_finding *mirror_findings_find(const struct mirror_findings *f,
						  enum mirror_rule r);

/* Append a finding; used by the decoders, public for receivers that check
 * rules of their own (volume not in the table, region of the sender). */
void mirror_findings_add(struct mirror_findings *f, enum mirror_rule r, bool in_cdb,
			 unsigned byte, unsigned bit, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* Bit number (7..0) of the highest set bit of a non-zero byte. */
unsigned mirror_highest_bit(uint8_t v);

#ifdef __cplusplus
}
#endif
#endif
