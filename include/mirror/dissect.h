/* The iSCSI layer of the capture decoder (mirror-dissect).
 *
 * Input: the reassembled byte stream of each direction of one TCP
 * connection, in order, in chunks (each with a packet number, a timestamp
 * and the link/IP/TCP header bytes of the packet that carried it), plus gap
 * events of N lost bytes.  Output: one record per SCSI command (mirror
 * operations on the small and large paths, every other command as "other"),
 * accounted per wire-profile.md ("Interrupt accounting model", "Byte
 * accounting") with mirror_cost_begin/add/end.
 *
 * The framer (RFC 7143 11.2) keeps at most one PDU per direction: a PDU
 * that lies wholly inside the chunk given is decoded in place; one that
 * spans chunks is copied into a per-direction buffer bounded by the
 * receiving side's MaxRecvDataSegmentLength.  After a gap, or when the
 * first bytes are not a PDU (a capture that starts mid-stream), it
 * resynchronises on the next plausible basic header segment.
 *
 * The two directions are fed separately but in capture order: digests are
 * switched on for both directions when the final Login Response (T=1,
 * NSG=FullFeaturePhase) is decoded.
 */
#ifndef MIRROR_DISSECT_H
#define MIRROR_DISSECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mirror/account.h>
#include <mirror/codec.h>
#include <mirror/finding.h>
#include <mirror/profile.h>

#ifdef __cplusplus
extern "C" {
#endif

enum mirror_dissect_dir {
	MIRROR_DISSECT_I2T = 0, /* initiator -> target (sender -> receiver) */
	MIRROR_DISSECT_T2I = 1
};

/* The default MaxRecvDataSegmentLength bound when the login is not in the
 * capture (the largest value the common initiators and targets offer). */
#define MIRROR_DISSECT_DSL_DEFAULT 262144u
/* RFC 7143 13.12: the largest value MaxRecvDataSegmentLength may take. */
#define MIRROR_DISSECT_DSL_MAX 16777215u
#define MIRROR_DISSECT_TASKS_DEFAULT 4096u

struct mirror_dissect_options {
	const struct mirror_profile *profile; /* NULL: v1 defaults */
	/* Digests assumed when the login is not in the capture. */
	bool header_digest;
	bool data_digest;
	/* MaxRecvDataSegmentLength of the target (bounds initiator -> target
	 * PDUs) and of the initiator (bounds target -> initiator); 0 means
	 * unknown: MIRROR_DISSECT_DSL_DEFAULT until a login declares it. */
	uint32_t target_max_recv_dsl;
	uint32_t initiator_max_recv_dsl;
	/* Open tasks kept per connection; 0: MIRROR_DISSECT_TASKS_DEFAULT. */
	unsigned max_tasks;
};

enum mirror_dissect_path {
	MIRROR_DISSECT_SMALL = 0, /* data-out 0xA0/0xB0 (profile opcodes) */
	MIRROR_DISSECT_LARGE = 1, /* data-out 0x3C */
	MIRROR_DISSECT_OTHER = 2  /* any other SCSI command, data-in mirror opcodes too */
};

const char *mirror_dissect_path_name(enum mirror_dissect_path p); /* small/large/other */

/* Why an operation is reported incomplete (bits).  complete is false for
 * any of them but INC_DIGEST, which is a note: the PDUs were all there. */
enum {
	MIRROR_DISSECT_INC_GAP = 1u << 0,         /* bytes lost while it was open */
	MIRROR_DISSECT_INC_NO_RESPONSE = 1u << 1, /* no status before the end */
	MIRROR_DISSECT_INC_ITT_REUSED = 1u << 2,  /* a new command took its ITT */
	MIRROR_DISSECT_INC_DIGEST = 1u << 3       /* one of its PDUs had a bad data digest */
};

struct mirror_dissect_op {
	uint64_t conn_id;
	uint32_t itt;
	uint64_t time_ns;    /* the SCSI Command PDU (timestamp of its last chunk) */
	uint64_t packet;     /* packet number of that chunk */
	uint64_t latency_ns; /* command -> response; 0 without a response */
	enum mirror_dissect_path path;
	uint8_t opcode;
	uint8_t cdb[16];
	unsigned cdb_len;
	bool read, write; /* R and W bits of the command */
	uint32_t edtl;    /* expected data transfer length */
	/* Mirror fields (small CDB or large-path metadata), when decoded. */
	bool fields_valid;
	uint32_t lba;
	uint32_t blocks;
	uint8_t volume;   /* small path */
	uint32_t sequence; /* large path */
	unsigned sg_count;
	struct mirror_sg_element sg[MIRROR_METADATA_SG_MAX];
	/* PDUs */
	unsigned dataout_pdus, data_sequences, r2ts, datain_pdus;
	uint64_t dataout_bytes, immediate_bytes, datain_bytes;
	/* Accounting (wire-profile.md): interrupts and bytes by category.
	 * Data-In bytes of an "other" command are counted as data. */
	struct mirror_cost cost;
	bool complete;
	unsigned incomplete; /* MIRROR_DISSECT_INC_* */
	bool have_status;
	uint8_t response, status;
	bool have_sense;
	uint8_t sense_key, asc, ascq;
	/* Findings of the CDB and metadata decoders (valid during the call). */
	const struct mirror_findings *findings;
};

typedef void (*mirror_dissect_op_fn)(void *ctx, const struct mirror_dissect_op *op);

struct mirror_dissect_stats {
	uint64_t pdus[2];              /* by direction */
	uint64_t bytes[2];             /* fed */
	uint64_t lost_bytes[2];        /* gap events */
	uint64_t skipped_bytes[2];     /* discarded while hunting for a header */
	uint64_t resyncs[2];           /* times the framer went hunting */
	uint64_t bad_headers[2];       /* implausible BHS met in sync */
	uint64_t header_digest_errors; /* mismatches */
	uint64_t data_digest_errors;
	uint64_t commands, ops_emitted, ops_incomplete, ops_other;
	uint64_t orphan_pdus;   /* task PDUs whose ITT is not open */
	uint64_t tasks_dropped; /* commands not tracked: the task cap was reached */
	uint64_t itt_reused;
	uint64_t logins;        /* final login responses seen */
	unsigned open_tasks;
	bool header_digest, data_digest; /* in force now */
	bool digests_probed; /* told from the PDUs (no login in the capture) */
	uint32_t max_recv_dsl[2];        /* bound in force, by direction */
};

struct mirror_dissect_conn;

/* A new connection decoder.  cb gets every finished operation.  NULL on
 * allocation failure or bad options. */
struct mirror_dissect_conn *mirror_dissect_conn_new(const struct mirror_dissect_options *o,
						    uint64_t conn_id, mirror_dissect_op_fn cb,
						    void *ctx);
/* Emits the open tasks as incomplete (MIRROR_DISSECT_INC_NO_RESPONSE) and
 * frees; NULL is fine. */
void mirror_dissect_conn_free(struct mirror_dissect_conn *c);

/* The next bytes of one direction.  tcpip_bytes (the link/IP/TCP headers
 * of the packet) are apportioned to the PDUs by the bytes of the chunk they
 * occupy.  Returns 0 or -ENOMEM. */
int mirror_dissect_feed(struct mirror_dissect_conn *c, enum mirror_dissect_dir dir,
			const uint8_t *buf, size_t len, uint64_t packet, uint64_t time_ns,
			uint32_t tcpip_bytes);
/* lost bytes of one direction are missing at this point.  A gap inside a
 * PDU's data segment keeps the framer in step; any other gap makes it hunt
 * for the next header.  Every task open at that point is reported
 * incomplete (MIRROR_DISSECT_INC_GAP).  lost = 0 forces a resync (a
 * capture known to start mid-stream). */
void mirror_dissect_gap(struct mirror_dissect_conn *c, enum mirror_dissect_dir dir,
			uint64_t lost);
/* Ends the connection: open tasks are emitted as incomplete. */
void mirror_dissect_finish(struct mirror_dissect_conn *c);

void mirror_dissect_get_stats(const struct mirror_dissect_conn *c, struct mirror_dissect_stats *s);

#ifdef __cplusplus
}
#endif
#endif
