/* Interrupt and byte accounting at the receiver (wire-profile.md,
 * "Interrupt accounting model"; source Fig. 2 and Fig. 5: at least 4
 * interrupts on the large path, 3 on the small).
 *
 * An operation is a list of receiver events.  One function counts them;
 * another predicts the events of an operation under a given iSCSI
 * negotiation, which gives the counterfactual: what the same write would
 * have cost on the other path. */
#ifndef MIRROR_ACCOUNT_H
#define MIRROR_ACCOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mirror/path.h>

#ifdef __cplusplus
extern "C" {
#endif

enum mirror_event_kind {
	/* SCSI Command PDU (payload = immediate data, no interrupt of its own) */
	MIRROR_EV_COMMAND = 0,
	/* one data transfer burst: a Data-Out sequence up to the F bit */
	MIRROR_EV_DATA_BURST,
	/* R2T: costs bytes, not receiver interrupts */
	MIRROR_EV_R2T,
	/* SCSI Response PDU: the completion */
	MIRROR_EV_STATUS
};

struct mirror_event {
	enum mirror_event_kind kind;
	uint32_t header_bytes;  /* iSCSI BHS + AHS + header/data digests */
	uint32_t payload_bytes; /* data segment bytes (metadata + user data) */
	uint32_t tcpip_bytes;   /* link/IP/TCP bytes apportioned (captures) */
};

struct mirror_cost {
	unsigned interrupts;
	unsigned int_command, int_data, int_status;
	uint64_t cdb;       /* CDB bytes (10, 12 or 16) */
	uint64_t metadata;  /* 1024 on the large path, 0 on the small */
	uint64_t data;      /* user data */
	uint64_t transport; /* iSCSI headers and digests, less the CDB bytes */
	uint64_t tcpip;
	uint64_t total;
};

/* Counts the events of one operation.  The first event must be the command
 * and the last the status; -EINVAL otherwise, or if the payload is short of
 * the metadata on the large path. */
int mirror_account(enum mirror_path path, unsigned cdb_len, const struct mirror_event *ev,
		   size_t n, struct mirror_cost *out);

/* The same count, one event at a time (a receiver that sees the events
 * as they happen keeps one of these per operation). */
struct mirror_cost_acc {
	enum mirror_path path;
	unsigned cdb_len;
	size_t seen;
	bool ended;
	bool bad;
	uint64_t payload, headers, other_payload, tcpip;
	unsigned bursts;
};
void mirror_cost_begin(struct mirror_cost_acc *a, enum mirror_path path, unsigned cdb_len);
void mirror_cost_add(struct mirror_cost_acc *a, const struct mirror_event *e);
int mirror_cost_end(const struct mirror_cost_acc *a, struct mirror_cost *out);

/* The negotiated iSCSI parameters that shape an operation (RFC 7143 13). */
struct mirror_iscsi_params {
	bool initial_r2t;
	bool immediate_data;
	bool header_digest;
	bool data_digest;
	uint32_t max_recv_data_segment_length; /* the target's */
	uint32_t max_burst_length;
	uint32_t first_burst_length;
	/* The `patent' profile's receiver solicits the 1024-byte metadata on
	 * its own R2T before the user data (wire-profile.md, large path). */
	bool separate_metadata_r2t;
};

/* patent: InitialR2T=Yes, ImmediateData=No, metadata solicited apart,
 * MaxRecvDataSegmentLength 256 KiB, MaxBurstLength 1 MiB. */
void mirror_iscsi_params_patent(struct mirror_iscsi_params *ip);
/* modern: InitialR2T=No, ImmediateData=Yes, FirstBurstLength 64 KiB. */
void mirror_iscsi_params_modern(struct mirror_iscsi_params *ip);

/* Predicts the receiver events of one operation carrying user_bytes of
 * data on path.  Returns the number of events, MIRROR_E_NOSPACE if cap is
 * too small.  MIRROR_MODEL_EVENTS_MAX suffices for <= 1 MiB under the two
 * built-in parameter sets; a small MaxBurstLength needs 2 events per burst
 * (ev may be NULL with cap 0 to count them first). */
#define MIRROR_MODEL_EVENTS_MAX 64
int mirror_model_events(const struct mirror_iscsi_params *ip, enum mirror_path path,
			unsigned cdb_len, uint32_t user_bytes, struct mirror_event *ev, size_t cap);

/* Predicted cost of the op on path (events modelled as above). */
int mirror_model_cost(const struct mirror_iscsi_params *ip, enum mirror_path path,
		      unsigned cdb_len, uint32_t user_bytes, struct mirror_cost *out);

/* What the same write would cost on the other path.  *possible is false
 * when the other path cannot carry it (a large op that Fig. 7 could not
 * send small because of its elements); out is then zeroed. */
int mirror_counterfactual(const struct mirror_profile *p, const struct mirror_iscsi_params *ip,
			  const struct mirror_op *op, bool *possible, struct mirror_cost *out);

#ifdef __cplusplus
}
#endif
#endif
