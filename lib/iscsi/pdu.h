/* iSCSI PDUs (RFC 7143 section 11): opcodes, the basic header segment's
 * fields by name, flag bits, and the arithmetic of a PDU on the wire
 * (padding, digests, total length).  One module for everything in
 * libmirror that reads or writes PDUs: the target engine (lib/iscsi/), the
 * capture decoder (lib/capture/dissect_iscsi.c) and the tests.
 *
 * Fields are read and written with the big-endian getters of base/bytes.h
 * at these offsets, never through a struct cast onto a buffer; untrusted
 * bytes go through a cursor (base/cursor.h) first.  Internal to libmirror. */
#ifndef MIRROR_LIB_ISCSI_PDU_H
#define MIRROR_LIB_ISCSI_PDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"

/* ---- opcodes (11.2.1.2) ---- */
enum {
	/* initiator opcodes */
	OP_NOP_OUT = 0x00,
	OP_SCSI_CMD = 0x01,
	OP_TMF_REQ = 0x02,
	OP_LOGIN_REQ = 0x03,
	OP_TEXT_REQ = 0x04,
	OP_DATA_OUT = 0x05,
	OP_LOGOUT_REQ = 0x06,
	OP_SNACK = 0x10,
	/* target opcodes */
	OP_NOP_IN = 0x20,
	OP_SCSI_RSP = 0x21,
	OP_TMF_RSP = 0x22,
	OP_LOGIN_RSP = 0x23,
	OP_TEXT_RSP = 0x24,
	OP_DATA_IN = 0x25,
	OP_LOGOUT_RSP = 0x26,
	OP_R2T = 0x31,
	OP_ASYNC_MSG = 0x32,
	OP_REJECT = 0x3f,
};

/* ---- sizes ---- */
#define PDU_BHS_LEN 48u
#define PDU_DIGEST_LEN 4u
#define PDU_RSVD_TAG 0xffffffffu     /* the reserved ITT/TTT value (11.2.1.8) */
#define PDU_LOGIN_DSL_MAX 8192u      /* 13.12: MaxRecvDataSegmentLength's default,
				      * what login PDUs may carry */
#define PDU_DSL_MAX 0xffffffu        /* DataSegmentLength is 24 bits */

/* ---- byte 0 ---- */
#define PDU_B0_OPCODE_MASK 0x3fu
#define PDU_B0_IMMEDIATE 0x40u       /* I bit (11.2.1.2), initiator PDUs only */
#define PDU_B0_RESERVED 0x80u

/* ---- fields every PDU has (11.2.1) ---- */
#define PDU_FLAGS 1u                 /* byte 1: opcode-specific flags */
#define PDU_TOTAL_AHS_LEN 4u         /* in 4-byte words */
#define PDU_DATA_SEGMENT_LEN 5u      /* 3 bytes */
#define PDU_LUN 8u                   /* 8 bytes (or opcode-specific) */
#define PDU_ITT 16u                  /* Initiator Task Tag */
#define PDU_OPCODE_SPECIFIC 2u       /* bytes 2-3: opcode-specific, reserved
				      * in many PDUs (read as one be16) */

/* The F (final) bit of byte 1, common to most PDUs. */
#define PDU_F 0x80u

/* ---- SCSI Command (11.3) ---- */
#define PDU_CMD_R 0x40u              /* byte 1: read (data-in expected) */
#define PDU_CMD_W 0x20u              /* byte 1: write (data-out expected) */
#define PDU_CMD_ATTR_MASK 0x07u      /* byte 1: task attribute */
#define PDU_CMD_FLAGS_RSVD 0x18u     /* byte 1 bits 4-3 */
#define PDU_CMD_EDTL 20u             /* Expected Data Transfer Length */
#define PDU_CMD_CMDSN 24u
#define PDU_CMD_EXPSTATSN 28u
#define PDU_CMD_CDB 32u              /* 16 bytes; longer CDBs continue in an AHS */
#define PDU_CMD_CDB_LEN 16u

/* ---- SCSI Response (11.4) ---- */
#define PDU_RSP_BIDI_OVERFLOW 0x10u  /* byte 1: o */
#define PDU_RSP_BIDI_UNDERFLOW 0x08u /* byte 1: u */
#define PDU_RSP_OVERFLOW 0x04u       /* byte 1: O (11.4.5.1) */
#define PDU_RSP_UNDERFLOW 0x02u      /* byte 1: U */
#define PDU_RSP_FLAGS_RSVD 0x61u     /* byte 1 bits 6-5 and 0 */
#define PDU_RSP_RESPONSE 2u          /* 0: command completed at target */
#define PDU_RSP_STATUS 3u            /* the SCSI status byte */
#define PDU_RSP_SNACK_TAG 20u
#define PDU_RSP_STATSN 24u
#define PDU_RSP_EXPCMDSN 28u
#define PDU_RSP_MAXCMDSN 32u
#define PDU_RSP_EXPDATASN 36u
#define PDU_RSP_BIDI_RESIDUAL 40u
#define PDU_RSP_RESIDUAL 44u

/* ---- SCSI Data-Out and Data-In (11.7) ---- */
#define PDU_DATA_ACK 0x40u           /* Data-In byte 1: A */
#define PDU_DATA_OVERFLOW 0x04u      /* Data-In byte 1: O */
#define PDU_DATA_UNDERFLOW 0x02u     /* Data-In byte 1: U */
#define PDU_DATA_STATUS 0x01u        /* Data-In byte 1: S (status rides along) */
#define PDU_DIN_FLAGS_RSVD 0x38u     /* Data-In byte 1 bits 5-3 */
#define PDU_DIN_STATUS 3u            /* Data-In: status byte when S */
#define PDU_DATA_TTT 20u             /* Target Transfer Tag */
#define PDU_DIN_STATSN 24u           /* Data-In only */
#define PDU_DOUT_EXPSTATSN 28u       /* Data-Out */
#define PDU_DIN_EXPCMDSN 28u
#define PDU_DIN_MAXCMDSN 32u
#define PDU_DATA_DATASN 36u
#define PDU_DATA_OFFSET 40u          /* Buffer Offset */
#define PDU_DIN_RESIDUAL 44u

/* ---- Ready To Transfer (11.8) ---- */
#define PDU_R2T_TTT 20u
#define PDU_R2T_STATSN 24u
#define PDU_R2T_EXPCMDSN 28u
#define PDU_R2T_MAXCMDSN 32u
#define PDU_R2T_R2TSN 36u
#define PDU_R2T_OFFSET 40u
#define PDU_R2T_LENGTH 44u           /* Desired Data Transfer Length */

/* ---- Task Management Function request/response (11.5, 11.6) ---- */
#define PDU_TMF_FUNCTION_MASK 0x7fu  /* byte 1 */
#define PDU_TMF_REF_TAG 20u          /* Referenced Task Tag */
#define PDU_TMF_CMDSN 24u
#define PDU_TMF_RESPONSE 2u          /* response byte */
enum {
	TMF_ABORT_TASK = 1,
	TMF_ABORT_TASK_SET = 2,
	TMF_CLEAR_ACA = 3,
	TMF_CLEAR_TASK_SET = 4,
	TMF_LOGICAL_UNIT_RESET = 5,
	TMF_TARGET_WARM_RESET = 6,
	TMF_TARGET_COLD_RESET = 7,
	TMF_TASK_REASSIGN = 8,
};
enum { /* TMF response (11.6.1) */
	TMF_RSP_COMPLETE = 0,
	TMF_RSP_NO_TASK = 1,
	TMF_RSP_NO_LUN = 2,
	TMF_RSP_NOT_SUPPORTED = 5,
	TMF_RSP_REJECTED = 255,
};

/* ---- Login request/response (11.12, 11.13) ---- */
#define PDU_LOGIN_T 0x80u            /* byte 1: transit */
#define PDU_LOGIN_C 0x40u            /* byte 1: continue */
#define PDU_LOGIN_CSG_MASK 0x0cu     /* byte 1 bits 3-2 */
#define PDU_LOGIN_CSG_SHIFT 2u
#define PDU_LOGIN_NSG_MASK 0x03u     /* byte 1 bits 1-0 */
#define PDU_LOGIN_FLAGS_RSVD 0x30u   /* byte 1 bits 5-4 */
#define PDU_LOGIN_VERSION_MAX 2u
#define PDU_LOGIN_VERSION_MIN 3u     /* request: Version-min; response: Version-active */
#define PDU_LOGIN_ISID 8u            /* 6 bytes */
#define PDU_LOGIN_TSIH 14u
#define PDU_LOGIN_CID 20u            /* request */
#define PDU_LOGIN_CMDSN 24u          /* request */
#define PDU_LOGIN_STATSN 24u         /* response */
#define PDU_LOGIN_EXPSTATSN 28u      /* request */
#define PDU_LOGIN_EXPCMDSN 28u       /* response */
#define PDU_LOGIN_MAXCMDSN 32u       /* response */
#define PDU_LOGIN_STATUS_CLASS 36u   /* response */
#define PDU_LOGIN_STATUS_DETAIL 37u  /* response */
enum { /* login status, class << 8 | detail (11.13.5) */
	LOGIN_STATUS_SUCCESS = 0x0000,
	LOGIN_STATUS_INITIATOR_ERROR = 0x0200,
	LOGIN_STATUS_AUTH_FAILURE = 0x0201,
	LOGIN_STATUS_FORBIDDEN = 0x0202,       /* authorization failure */
	LOGIN_STATUS_NOT_FOUND = 0x0203,
	LOGIN_STATUS_TARGET_REMOVED = 0x0204,
	LOGIN_STATUS_UNSUPPORTED_VERSION = 0x0205,
	LOGIN_STATUS_TOO_MANY_CONNECTIONS = 0x0206,
	LOGIN_STATUS_MISSING_PARAMETER = 0x0207,
	LOGIN_STATUS_TARGET_ERROR = 0x0300,
	LOGIN_STATUS_SERVICE_UNAVAILABLE = 0x0301,
	LOGIN_STATUS_OUT_OF_RESOURCES = 0x0302,
};
enum { /* login stages (11.12.3) */
	LOGIN_STAGE_SECURITY = 0,
	LOGIN_STAGE_OPERATIONAL = 1,
	LOGIN_STAGE_RESERVED = 2,
	LOGIN_STAGE_FULL_FEATURE = 3,
};

/* ---- Text request/response (11.10, 11.11) ---- */
#define PDU_TEXT_C 0x40u             /* byte 1: continue */
#define PDU_TEXT_TTT 20u
#define PDU_TEXT_CMDSN 24u           /* request */
#define PDU_TEXT_STATSN 24u          /* response */

/* ---- Logout (11.14, 11.15) ---- */
#define PDU_LOGOUT_REASON_MASK 0x7fu /* request byte 1 */
#define PDU_LOGOUT_CID 20u
#define PDU_LOGOUT_RESPONSE 2u       /* response byte */

/* ---- NOP-Out / NOP-In (11.18, 11.19) ---- */
#define PDU_NOP_TTT 20u
#define PDU_NOP_OUT_RSVD 32u         /* bytes 32-47 reserved */
#define PDU_NOP_OUT_RSVD_LEN 16u
#define PDU_NOP_IN_RSVD 36u          /* bytes 36-47 reserved */
#define PDU_NOP_IN_RSVD_LEN 12u

/* ---- SNACK request (11.16) ---- */
#define PDU_SNACK_FLAGS_RSVD 0x70u   /* byte 1 bits 6-4 */
#define PDU_SNACK_TYPE_MASK 0x0fu    /* byte 1 bits 3-0 */
#define PDU_SNACK_TYPE_MAX 3u        /* Data/R2T, Status, DataACK, R-Data */

/* ---- Reject (11.17) ---- */
#define PDU_REJECT_REASON 2u
enum { /* Reject reasons, 11.17.1 */
	REJECT_DATA_DIGEST = 0x02,
	REJECT_SNACK = 0x03,
	REJECT_PROTOCOL = 0x04,
	REJECT_NOT_SUPPORTED = 0x05,
	REJECT_IMMEDIATE = 0x06,
	REJECT_TASK_IN_PROGRESS = 0x07,
	REJECT_INVALID_DATA_ACK = 0x08,
	REJECT_INVALID_FIELD = 0x09,
	REJECT_LONG_OP = 0x0a,
	REJECT_NEGOTIATION_RESET = 0x0b,
	REJECT_WAITING_LOGOUT = 0x0c,
};

/* The response fields target PDUs share (StatSN, ExpCmdSN, MaxCmdSN at
 * 24/28/32 in SCSI Response, Data-In with S, R2T, NOP-In, Text, Login,
 * Logout, TMF response, Reject). */
#define PDU_STATSN 24u
#define PDU_EXPCMDSN 28u
#define PDU_MAXCMDSN 32u

/* ---- reading a header ---- */

/* Which side sends an opcode (11.2.1.2: initiator opcodes 0x00-0x1f,
 * target opcodes 0x20-0x3f, of which only these are defined). */
enum pdu_sender {
	PDU_FROM_NONE = 0, /* not a defined opcode */
	PDU_FROM_INITIATOR,
	PDU_FROM_TARGET,
};
enum pdu_sender pdu_opcode_sender(uint8_t opcode);

static inline uint8_t pdu_opcode(const uint8_t *bhs)
{
	return bhs[0] & PDU_B0_OPCODE_MASK;
}

static inline uint32_t pdu_dsl(const uint8_t *bhs)
{
	return get_be24(bhs + PDU_DATA_SEGMENT_LEN);
}

static inline uint32_t pdu_ahs_bytes(const uint8_t *bhs)
{
	return (uint32_t)bhs[PDU_TOTAL_AHS_LEN] * 4u;
}

/* Data segments are padded to a multiple of 4 bytes (11.2.3). */
static inline uint32_t pdu_pad4(uint32_t n)
{
	return (n + 3u) & ~3u;
}

/* How a connection frames its PDUs once negotiated (13.1). */
struct pdu_digests {
	bool header, data;
};

/* Bytes of the header part: BHS, AHS, header digest. */
static inline uint32_t pdu_header_len(const uint8_t *bhs, struct pdu_digests d)
{
	return PDU_BHS_LEN + pdu_ahs_bytes(bhs) + (d.header ? PDU_DIGEST_LEN : 0);
}

/* Bytes of the whole PDU on the wire: header, padded data, data digest
 * (only when there is a data segment). */
static inline uint64_t pdu_wire_len(const uint8_t *bhs, struct pdu_digests d)
{
	uint32_t dsl = pdu_dsl(bhs);

	return (uint64_t)pdu_header_len(bhs, d) + pdu_pad4(dsl) + (d.data && dsl ? PDU_DIGEST_LEN : 0);
}

/* iSCSI's CRC32C (12.1): the standard pre- and post-inversion; stored
 * little-endian on the wire. */
uint32_t mirror_pdu_crc32c(const uint8_t *p, size_t n);

/* The header digest of a complete header part (BHS + AHS + digest). */
bool mirror_pdu_header_digest_ok(const uint8_t *bhs);
/* The data digest after a padded data segment of dsl bytes. */
bool mirror_pdu_data_digest_ok(const uint8_t *data, uint32_t dsl);

/* Serial number arithmetic for CmdSN/StatSN (RFC 1982, RFC 7143 4.2.2.1). */
static inline bool pdu_sn_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

#endif
