/* SCSI status and sense data, as the mirror receiver answers (SPC-5 4.4).
 *
 * Builds fixed-format sense with the sense-key-specific field pointer and
 * parses both fixed and descriptor format from raw bytes (libiscsi 1.19
 * loses the field pointer of descriptor-format sense, so callers hand the
 * raw bytes here).
 */
#ifndef MIRROR_SENSE_H
#define MIRROR_SENSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mirror/finding.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MIRROR_STATUS_GOOD 0x00
#define MIRROR_STATUS_CHECK_CONDITION 0x02
#define MIRROR_STATUS_BUSY 0x08
#define MIRROR_STATUS_TASK_SET_FULL 0x28
#define MIRROR_STATUS_TASK_ABORTED 0x40

#define MIRROR_SK_NO_SENSE 0x0
#define MIRROR_SK_NOT_READY 0x2
#define MIRROR_SK_MEDIUM_ERROR 0x3
#define MIRROR_SK_HARDWARE_ERROR 0x4
#define MIRROR_SK_ILLEGAL_REQUEST 0x5
#define MIRROR_SK_UNIT_ATTENTION 0x6
#define MIRROR_SK_ABORTED_COMMAND 0xB
#define MIRROR_SK_MISCOMPARE 0xE

#define MIRROR_FIXED_SENSE_LEN 18

struct mirror_sense {
	uint8_t response_code; /* 0x70/0x71 fixed, 0x72/0x73 descriptor */
	bool descriptor_format;
	bool deferred;
	uint8_t key;
	uint8_t asc;
	uint8_t ascq;
	bool info_valid;
	uint64_t info;
	/* sense-key-specific field pointer (ILLEGAL REQUEST) */
	bool sksv;
	bool cd;  /* 1: error in the CDB, 0: in the parameter data */
	bool bpv; /* bit pointer valid */
	uint8_t bit;
	uint16_t field;
};

/* Fixed-format sense (response code 0x70, additional length 10).  With a
 * field pointer if sksv.  Returns the length (18) or MIRROR_E_NOSPACE. */
int mirror_sense_build(uint8_t *buf, size_t cap, const struct mirror_sense *s);

/* The sense a receiver answers for a finding (per the rule table). */
void mirror_sense_from_finding(const struct mirror_finding *f, struct mirror_sense *s);

/* Parses fixed or descriptor format.  MIRROR_E_TRUNCATED / -EINVAL with a
 * reason if the bytes are not sense data. */
int mirror_sense_parse(const uint8_t *buf, size_t len, struct mirror_sense *s);

/* One line: "ILLEGAL REQUEST: Invalid field in cdb [CDB byte 2 bit 5]"
 * ("parameter list" for C/D=0; no "bit" without BPV, no [...] without SKSV). */
int mirror_sense_describe(const struct mirror_sense *s, char *buf, size_t cap);

/* Names (static strings, never NULL). */
const char *mirror_status_name(uint8_t status);
const char *mirror_sense_key_name(uint8_t key);

#ifdef __cplusplus
}
#endif
#endif
