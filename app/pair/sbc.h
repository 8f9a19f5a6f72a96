/* The SCSI command layer of one block logical unit on a controller's host
 * port: pure, I/O-free.  A CDB goes in (with its I_T nexus, direction and
 * expected data transfer length), a verdict comes out that the controller
 * acts on:
 *
 *   RESPOND  status, sense and data-in built here (INQUIRY and its VPD
 *            pages, READ CAPACITY, MODE SENSE, REPORT LUNS, REQUEST SENSE,
 *            TEST UNIT READY, REPORT TARGET PORT GROUPS, every error);
 *   READ     the controller sends blocks [lba, lba + blocks) and GOOD;
 *   WRITE    the controller takes data_len bytes of data-out (blocks *
 *            512; WRITE SAME, repeat: one block for every block) and
 *            answers later (after mirroring: mirror_tgt_cmd_complete);
 *   SYNC     SYNCHRONIZE CACHE of [lba, lba + blocks);
 *   COMPARE  VERIFY with BYTCHK: the controller takes data_len bytes of
 *            data-out and compares them with blocks [lba, lba + blocks)
 *            (repeat: the one block of data-out with each of them),
 *            answering GOOD or MISCOMPARE 1Dh/00h (SBC-3 5.33);
 *   PR_OUT   PERSISTENT RESERVE OUT: the controller takes data_len bytes
 *            of data-out (the 24-byte parameter list) and hands them to
 *            mirror_sbc_pr_out, which answers.
 *
 * Every logical unit is seen through both controllers' host ports: two
 * target port groups, one per controller, with implicit ALUA (SPC-4 5.15,
 * TPGS = 01b).  The controller owns the states (mirror_sbc_alua_set); this
 * layer answers REPORT TARGET PORT GROUPS, refuses what the local group's
 * state does not allow (NOT READY 04h/0Ah, 0Bh, 0Ch, the lists of Linux's
 * target_core_alua.c) and keeps the unit attentions per I_T nexus
 * (ASYMMETRIC ACCESS STATE CHANGED, a LOGICAL UNIT RESET).
 *
 * The order in which a command is judged (the modern LIO order: the CDB is
 * parsed before unit attentions and ALUA are looked at, so a malformed CDB
 * never consumes a unit attention):
 *   1. no such LUN: LOGICAL UNIT NOT SUPPORTED 25h/00h, but INQUIRY
 *      (peripheral qualifier 011b), REPORT LUNS and REQUEST SENSE (sense
 *      data 25h/00h, GOOD) are answered (SPC-4 6.6.2, 6.33, 6.39);
 *   2. the operation code (INVALID COMMAND OPERATION CODE 20h/00h), the
 *      CDB length, the service action, the data direction;
 *   3. every field of the CDB, the CONTROL byte included, and the LBA range
 *      (ILLEGAL REQUEST, with the field pointer where there is a field);
 *   4. a pending unit attention of the nexus (UNIT ATTENTION, once);
 *   5. the local target port group's access state (NOT READY);
 *   6. a reservation held through another I_T nexus (RESERVATION
 *      CONFLICT: SPC-2 RESERVE(6), SPC-4 5.13 persistent reservations);
 *   7. the command itself.
 *
 * Files: sbc.c (life cycle, the opcode table, the order above), sbc_field.c
 * (reserved fields, sense building), sbc_inquiry.c (INQUIRY, VPD),
 * sbc_mode.c (MODE SENSE), sbc_block.c (READ CAPACITY, READ, WRITE,
 * SYNCHRONIZE CACHE), sbc_port.c (the port's LUN list, REPORT LUNS),
 * sbc_ua.c (nexus table, unit attentions, REQUEST SENSE), alua.c (access
 * states, REPORT TARGET PORT GROUPS), sbc_resv.c (what a reservation
 * refuses, RESERVE(6)/RELEASE(6)), sbc_pr.c (PERSISTENT RESERVE IN/OUT). */
#ifndef MIRROR_APP_PAIR_SBC_H
#define MIRROR_APP_PAIR_SBC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mirror/sense.h>
#include <mirror/transport.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MIRROR_SBC_BLOCK_SIZE 512u
/* Block Limits VPD (SBC-3 6.5.3): MAXIMUM TRANSFER LENGTH, 1 MiB (one
 * large mirror operation carries at most MIRROR_LARGE_MAX_BLOCKS), and the
 * OPTIMAL TRANSFER LENGTH GRANULARITY (4 KiB). */
#define MIRROR_SBC_MAX_TRANSFER 2048u
#define MIRROR_SBC_OPTIMAL_GRANULARITY 8u
/* I_T nexuses remembered per logical unit; the least recently used one
 * is forgotten (with its pending unit attentions) to make room. */
#define MIRROR_SBC_NEXUS_MAX 256u
/* LUNs of one host port, and the largest LUN: flat space addressing
 * (SAM-5 4.7.7), what the iSCSI engine decodes. */
#define MIRROR_SBC_PORT_LUNS_MAX 256u
#define MIRROR_SBC_LUN_MAX 16383u
/* Persistent reservations (SPC-4 5.13): registrations kept per logical
 * unit (one more is INSUFFICIENT REGISTRATION RESOURCES), each with the
 * iSCSI name of its initiator (RFC 7143 4.2.7.1: at most 223 bytes) for
 * READ FULL STATUS. */
#define MIRROR_SBC_PR_REGS_MAX 32u
#define MIRROR_SBC_ISCSI_NAME_MAX 223u
/* READ FULL STATUS of every registration: 8 bytes of header, per
 * registration 24 and an iSCSI TransportID of at most 4 + 224. */
#define MIRROR_SBC_PR_FULL_MAX (8u + MIRROR_SBC_PR_REGS_MAX * (24u + 4u + 224u))
/* The largest data-in built here: READ FULL STATUS of a full table (over
 * REPORT LUNS of a full port, 8 + 8 * MIRROR_SBC_PORT_LUNS_MAX). */
#define MIRROR_SBC_DATA_MAX MIRROR_SBC_PR_FULL_MAX
#define MIRROR_SBC_WHY_LEN 160u

/* INQUIRY data (SPC-4 6.6.2). */
#define MIRROR_SBC_VENDOR "MIRRTEST"
#define MIRROR_SBC_PRODUCT "PAIR-LUN"
#define MIRROR_SBC_REVISION "0001"

/* Target port asymmetric access states (SPC-4 5.15.2.4, the values of
 * REPORT TARGET PORT GROUPS byte 0 bits 3-0). */
enum mirror_alua_state {
	MIRROR_ALUA_ACTIVE_OPTIMIZED = 0x0,
	MIRROR_ALUA_ACTIVE_NON_OPTIMIZED = 0x1,
	MIRROR_ALUA_STANDBY = 0x2,
	MIRROR_ALUA_UNAVAILABLE = 0x3,
	MIRROR_ALUA_TRANSITIONING = 0xF
};

/* RTPG STATUS CODE (SPC-4 6.36): 02h once implicit ALUA changed the
 * group's state. */
#define MIRROR_ALUA_STATUS_NONE 0x00
#define MIRROR_ALUA_STATUS_IMPLICIT 0x02

/* One of the five states above. */
bool mirror_alua_state_valid(unsigned state);
/* "active/optimized", ...; "invalid" otherwise (never NULL). */
const char *mirror_alua_state_name(unsigned state);

struct mirror_sbc_lu_config {
	uint32_t lun;            /* <= MIRROR_SBC_LUN_MAX */
	uint64_t blocks;         /* capacity in 512-byte blocks, > 0 */
	/* NAA 6 (IEEE registered extended) name of the logical unit, the same
	 * on both controllers: byte 0 bits 7-4 are 6h. */
	uint8_t naa[16];
	char serial[33];         /* unit serial number: 1-32 printable ASCII */
	/* Target port groups and relative target port identifiers of this
	 * controller's host port (local) and the partner's (remote): distinct,
	 * relative ports not 0 (SPC-4 3.1.120). */
	uint16_t local_tpg, remote_tpg;
	uint16_t local_rel_port, remote_rel_port;
	/* RTPG extended header IMPLICIT TRANSITION TIME (seconds, <= 255). */
	unsigned transition_secs;
	/* The states the logical unit starts in (no unit attention). */
	enum mirror_alua_state local_state, remote_state;
	/* Block Limits' MAXIMUM TRANSFER LENGTH in blocks; 0: the default
	 * MIRROR_SBC_MAX_TRANSFER (mirror-ctl --max-transfer) */
	uint32_t max_transfer;
};

/* Unit attentions pending for a nexus (a bit set). */
#define MIRROR_SBC_UA_RESET 0x01u        /* 29h/00h */
#define MIRROR_SBC_UA_ALUA_CHANGED 0x02u /* 2Ah/06h */
#define MIRROR_SBC_UA_PR_PREEMPTED 0x04u  /* 2Ah/03h */
#define MIRROR_SBC_UA_PR_RELEASED 0x08u   /* 2Ah/04h */
#define MIRROR_SBC_UA_REG_PREEMPTED 0x10u /* 2Ah/05h */

/* SAM-5 5.3.1: the status of a command refused by a reservation. */
#define MIRROR_SBC_STATUS_RESERVATION_CONFLICT 0x18u

/* Persistent reservation TYPE (SPC-4 6.16.2, table 184). */
enum mirror_sbc_pr_type {
	MIRROR_PR_NONE = 0x0, /* no persistent reservation */
	MIRROR_PR_WE = 0x1,   /* Write Exclusive */
	MIRROR_PR_EA = 0x3,   /* Exclusive Access */
	MIRROR_PR_WERO = 0x5, /* Write Exclusive - Registrants Only */
	MIRROR_PR_EARO = 0x6, /* Exclusive Access - Registrants Only */
	MIRROR_PR_WEAR = 0x7, /* Write Exclusive - All Registrants */
	MIRROR_PR_EAAR = 0x8  /* Exclusive Access - All Registrants */
};

struct mirror_sbc_pr_reg {
	uint64_t nexus; /* 0: a free slot */
	uint64_t key;   /* never 0 */
	char initiator[MIRROR_SBC_ISCSI_NAME_MAX + 1]; /* its InitiatorName */
};

/* The persistent reservation state of one logical unit as one
 * controller's host port holds it (the owner's: see README). */
struct mirror_sbc_pr {
	uint32_t generation; /* PRGENERATION (SPC-4 6.15.2) */
	struct mirror_sbc_pr_reg reg[MIRROR_SBC_PR_REGS_MAX];
	enum mirror_sbc_pr_type type;
	uint64_t holder; /* the reserving nexus (all-registrants types: 0) */
};

struct mirror_sbc_nexus {
	uint64_t id;         /* 0: a free slot */
	uint64_t last_use;   /* the LU's use counter at its last command */
	unsigned pending;    /* MIRROR_SBC_UA_* */
};

/* One logical unit as one controller's host port shows it.  Plain data:
 * embed it, initialise it with mirror_sbc_lu_init; no allocation. */
struct mirror_sbc_lu {
	struct mirror_sbc_lu_config cfg;
	/* [0] the local group's state and RTPG status code, [1] the remote's */
	enum mirror_alua_state state[2];
	uint8_t status[2];
	uint64_t uses;            /* commands seen: the LRU clock, no time */
	uint64_t nexus_forgotten; /* nexuses dropped to make room */
	struct mirror_sbc_nexus nexus[MIRROR_SBC_NEXUS_MAX];
	/* The I_T nexus holding the SPC-2 reservation (RESERVE(6)), 0: none */
	uint64_t reserved_by;
	struct mirror_sbc_pr pr;
};

/* The LUNs of a host port, for REPORT LUNS (in this order). */
struct mirror_sbc_port {
	unsigned n_luns;
	uint32_t luns[MIRROR_SBC_PORT_LUNS_MAX];
};

enum mirror_sbc_kind {
	MIRROR_SBC_RESPOND = 0,
	MIRROR_SBC_READ,
	MIRROR_SBC_WRITE,
	MIRROR_SBC_SYNC,
	MIRROR_SBC_COMPARE,
	MIRROR_SBC_PR_OUT
};

struct mirror_sbc_verdict {
	enum mirror_sbc_kind kind;
	/* READ, WRITE, SYNC: the range (SYNC with all set: lba to the last
	 * block, blocks counts them); FUA of READ and WRITE; IMMED of SYNC */
	uint64_t lba;
	uint64_t blocks;
	bool fua;
	bool all;
	bool immed;
	/* COMPARE: one block of data-out against every block; WRITE: one
	 * block of data-out written to every block (WRITE SAME) */
	bool repeat;
	/* WRITE: ORWRITE (SBC-3 5.8), the data-out ORed into the blocks as
	 * they are when the write enters the cache */
	bool or_data;
	/* RESPOND: status and, for CHECK CONDITION, fixed-format sense */
	uint8_t status;
	uint8_t sense[MIRROR_FIXED_SENSE_LEN];
	unsigned sense_len;
	/* Bytes to move: RESPOND, the data-in in data[]; READ, the data-in
	 * the controller sends (blocks * 512 cut to the EDTL); WRITE, the
	 * data-out it takes (blocks * 512); COMPARE, the data-out it takes
	 * (blocks * 512, or 512 with repeat).  data_overflow: data-in bytes
	 * beyond the EDTL that are not sent (RFC 7143 11.4.5.1 residual). */
	uint32_t data_len;
	uint32_t data_overflow;
	uint8_t data[MIRROR_SBC_DATA_MAX];
	/* Why a command was refused, naming the field ("" when GOOD). */
	char why[MIRROR_SBC_WHY_LEN];
};

/* 0, or -EINVAL with the first thing wrong in why. */
int mirror_sbc_lu_init(struct mirror_sbc_lu *lu, const struct mirror_sbc_lu_config *c,
		       char *why, size_t why_len);

/* The LUNs the port reports (at most MIRROR_SBC_PORT_LUNS_MAX, each <=
 * MIRROR_SBC_LUN_MAX, no duplicate).  0, or -EINVAL with the reason. */
int mirror_sbc_port_init(struct mirror_sbc_port *port, const uint32_t *luns, unsigned n,
			 char *why, size_t why_len);

/* Judges one command (the order in the comment at the top).  lu: NULL when
 * the command's LUN has no logical unit on this port.  nexus: the engine's
 * I_T nexus id (0: none, no unit attention is tracked).  Returns 0 with the
 * verdict in out, or -EINVAL when port, out or cdb is missing. */
int mirror_sbc_decode(struct mirror_sbc_lu *lu, const struct mirror_sbc_port *port,
		      uint64_t nexus, const uint8_t *cdb, unsigned cdb_len,
		      enum mirror_xfer_dir dir, uint32_t edtl, struct mirror_sbc_verdict *out);

/* PERSISTENT RESERVE OUT (SPC-4 6.16) with its parameter list, for a
 * PR_OUT verdict of the same cdb and nexus (initiator: the session's
 * InitiatorName, kept with a registration; NULL: none): changes the logical unit's
 * persistent reservation state and answers in out (a RESPOND verdict).
 * Returns 0, or -EINVAL when lu, cdb or out is missing. */
int mirror_sbc_pr_out(struct mirror_sbc_lu *lu, uint64_t nexus, const char *initiator,
		      const uint8_t *cdb, unsigned cdb_len, const uint8_t *param, uint32_t len,
		      struct mirror_sbc_verdict *out);

/* The states of both target port groups as this controller's port shows
 * them.  A change of either establishes ASYMMETRIC ACCESS STATE CHANGED
 * for every nexus that has used the logical unit, and sets that group's
 * RTPG status code to 02h.  1: changed, 0: the same, -EINVAL: not a state. */
int mirror_sbc_alua_set(struct mirror_sbc_lu *lu, enum mirror_alua_state local,
			enum mirror_alua_state remote);

/* A LOGICAL UNIT RESET (after the engine aborted the tasks), received on
 * nexus: POWER ON, RESET, OR BUS DEVICE RESET OCCURRED for every nexus
 * that has used the logical unit, the resetting one included. */
void mirror_sbc_reset(struct mirror_sbc_lu *lu, uint64_t nexus);

/* The nexus ended (its session closed): forget it and what was pending,
 * and end its SPC-2 reservation (its persistent reservation
 * registrations stay, SPC-4 5.13.1).  A LOGICAL UNIT RESET ends the
 * SPC-2 reservation too. */
void mirror_sbc_nexus_end(struct mirror_sbc_lu *lu, uint64_t nexus);

/* MIRROR_SBC_UA_* pending for nexus (0 for an unknown one). */
unsigned mirror_sbc_ua_pending(const struct mirror_sbc_lu *lu, uint64_t nexus);

/* A RESPOND verdict as the iSCSI engine's action (lib/iscsi/target.h);
 * data_in points into v, which must live until the LU's end().  0, or
 * -EINVAL for another kind of verdict. */
struct mirror_tgt_action;
int mirror_sbc_to_action(const struct mirror_sbc_verdict *v, struct mirror_tgt_action *act);

#ifdef __cplusplus
}
#endif
#endif
