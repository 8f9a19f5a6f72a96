/* The receiving controller's SCSI logic (source Fig. 5 blocks 508-528 and
 * 540-544; wire-profile.md "Receiver behaviour and status"), independent of
 * any transport.
 *
 * A transport (mirror-emu's iSCSI target) drives one task per command:
 *   mirror_rx_begin()  with the CDB, direction and expected transfer length;
 *   the action says either RESPOND (status, sense, data-in) or WANT_DATA
 *   (the next range of the data-out buffer the receiver needs: the target
 *   solicits it, e.g. with R2Ts, and hands it over whole with
 *   mirror_rx_data(), which returns the next action);
 *   mirror_rx_abort() if the command dies before its response (connection
 *   lost, ABORT TASK, LOGICAL UNIT RESET): its ranges stay invalid;
 *   mirror_rx_end() always, once the response is sent or the task aborted.
 * On the large path the first WANT_DATA is the 1024-byte metadata alone:
 * the receiver validates it and marks the NVRAM ranges invalid before it
 * asks for the user data (Fig. 5 blocks 512-516), stores the data, marks
 * the ranges valid and only then responds GOOD (blocks 520-528).
 */
#ifndef MIRROR_RECEIVER_H
#define MIRROR_RECEIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mirror/array_table.h>
#include <mirror/codec.h>
#include <mirror/nvram.h>
#include <mirror/path.h>
#include <mirror/profile.h>
#include <mirror/sense.h>
#include <mirror/transport.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MIRROR_RX_SENDERS_MAX 64

/* Per-sender sequence tracking (metadata sequence numbers, large path). */
struct mirror_rx_sender {
	char name[224];     /* iSCSI initiator name or other sender id */
	bool seen;
	uint32_t last_sequence;
	uint64_t messages, gaps, repeats;
};

/* What a test asked the receiver to get wrong (mirror-emu --inject). */
struct mirror_rx_faults {
	bool unknown_opcode;    /* answer a mirror opcode with INVALID COMMAND OPERATION CODE */
	bool skip_validity;     /* store the data but never mark the ranges valid */
	bool corrupt_readback;  /* flip a bit in NVRAM READBACK data */
	bool force_sense;       /* answer CHECK CONDITION with key/asc/ascq below */
	uint8_t key, asc, ascq;
	/* Deviations the conformance suite must catch (all false / 0: the
	 * receiver behaves as the profile says). */
	uint64_t accept_rules;  /* bit r set: findings of enum mirror_rule r are ignored */
	bool wrong_pointer;     /* the sense field pointer names the byte after the field */
	bool wrong_asc;         /* a rejection's ASC is another: 24h <-> 26h, else 24h */
	bool valid_on_abort;    /* an aborted operation marks its ranges valid */
	bool data_in_is_mirror; /* a data-in notify/small opcode is taken for the mirror command */
	bool gap_sense;         /* a metadata sequence gap is answered CHECK CONDITION
				 * after the ranges were marked invalid */
	bool keep_table;        /* ARRAY TABLE UPDATE answered GOOD, the table it had kept
				 * (a receiver left on a stale generation) */
};

struct mirror_rx_stats {
	uint64_t small_ops, large_ops, table_updates, readbacks, releases, other_cmds;
	uint64_t good, check_condition, aborted;
	uint64_t user_bytes_stored;
};

/* What a mirror operation stored, for a controller that must replay its
 * partner's writes after a takeover (source Fig. 1: "the remaining
 * controller can continue operations ... without any user data loss").
 * The S/G elements in data order: the first element holds the blocks from
 * lba on. */
struct mirror_rx_op {
	enum mirror_path path;
	unsigned region;
	int volume;               /* the array table's volume number, -1 unknown */
	uint32_t lba, blocks;
	uint32_t sequence;        /* large path only */
	const char *sender;       /* the sender's name (iSCSI initiator), or NULL */
	unsigned sg_count;
	struct mirror_sg_element sg[MIRROR_METADATA_SG_MAX];
};

/* Hooks for such a controller's journal (all may be NULL).  invalidated:
 * an operation passed its checks and its ranges were marked invalid
 * (whatever older copy lay there is gone, Fig. 5 block 516); stored: all
 * its data arrived and the ranges are valid, just before GOOD (block 524);
 * released: MIRROR RELEASE made ranges invalid (nvram.h); table: a sender
 * pushed an array table (ARRAY TABLE UPDATE) that is now in force. */
struct mirror_rx_journal {
	void *arg;
	void (*invalidated)(void *arg, const struct mirror_rx_op *op);
	void (*stored)(void *arg, const struct mirror_rx_op *op);
	void (*released)(void *arg, uint32_t nvram_addr, uint32_t blocks);
	void (*table)(void *arg, const char *sender, uint32_t generation);
};

struct mirror_receiver {
	struct mirror_profile profile;
	unsigned role;            /* 0: controller A (owns region 0), 1: B */
	struct mirror_nvram *nvram;
	struct mirror_array_table table;
	bool table_received;      /* an ARRAY TABLE UPDATE was accepted, or the
				   * table was configured (mirror-emu --table) */
	/* Harness extensions this receiver does not implement (bits of
	 * MIRROR_RX_EXT_*; 0 after init: all of them).  Their opcodes are then
	 * answered as any unknown opcode, INVALID COMMAND OPERATION CODE: a
	 * prototype that follows the wire profile and nothing more. */
	unsigned extensions_off;
	struct mirror_rx_sender senders[MIRROR_RX_SENDERS_MAX];
	struct mirror_rx_stats stats;
	struct mirror_rx_journal journal;
	/* SCSI identity for INQUIRY */
	char vendor[9], product[17], revision[5], serial[33];
	/* last sense per sender for REQUEST SENSE is not kept: REQUEST SENSE
	 * answers NO SENSE (autosense is always delivered with the status). */
};

/* The harness extensions (wire-profile.md: a test that needs one is
 * skipped against a target that lacks it). */
#define MIRROR_RX_EXT_TABLE (1u << 0)    /* ARRAY TABLE UPDATE */
#define MIRROR_RX_EXT_READBACK (1u << 1) /* NVRAM READBACK */
#define MIRROR_RX_EXT_RELEASE (1u << 2)  /* MIRROR RELEASE */
#define MIRROR_RX_EXT_ALL (MIRROR_RX_EXT_TABLE | MIRROR_RX_EXT_READBACK | MIRROR_RX_EXT_RELEASE)

/* nvram must be initialised (mirror_nvram_init) with the same profile. */
int mirror_rx_init(struct mirror_receiver *rx, const struct mirror_profile *p, unsigned role,
		   struct mirror_nvram *nvram);

enum mirror_rx_action_kind { MIRROR_RX_RESPOND = 0, MIRROR_RX_WANT_DATA };

struct mirror_rx_action {
	enum mirror_rx_action_kind kind;
	/* WANT_DATA: bytes [offset, offset + length) of the data-out buffer */
	uint32_t offset, length;
	/* RESPOND */
	uint8_t status;
	uint8_t sense[MIRROR_FIXED_SENSE_LEN];
	unsigned sense_len;
	const uint8_t *data_in; /* valid until mirror_rx_end */
	uint32_t data_in_len;   /* <= the expected transfer length */
	/* bytes the command had beyond the expected transfer length, not
	 * sent: the residual overflow of RFC 7143 11.4.5.1 (O bit) */
	uint32_t data_in_overflow;
};

enum mirror_rx_kind { MIRROR_RX_KIND_OTHER = 0, MIRROR_RX_KIND_SMALL, MIRROR_RX_KIND_LARGE,
		      MIRROR_RX_KIND_TABLE, MIRROR_RX_KIND_READBACK, MIRROR_RX_KIND_RELEASE };
#define MIRROR_RX_KINDS 6

/* One command.  Caller-owned storage; the receiver fills it. */
struct mirror_rx_task {
	enum mirror_rx_kind kind;
	enum mirror_xfer_dir dir;
	uint32_t edtl;           /* expected data transfer length */
	unsigned phase;
	uint8_t cdb[16];
	unsigned cdb_len;
	struct mirror_small_cdb small;
	struct mirror_metadata md;
	struct mirror_findings findings;
	bool ranges_invalidated;
	int sender;              /* index into rx->senders or -1 */
	const char *sender_name; /* as given to mirror_rx_begin (valid until end) */
	struct mirror_rx_faults faults;
	uint8_t *buf;            /* data-in storage (owned, freed by end) */
	uint32_t buf_len;
	uint8_t inline_buf[256]; /* small data-in answers without allocation */
};

/* sender_name identifies the sender for sequence tracking and the journal
 * (NULL: none) and must stay valid until mirror_rx_end;
 * faults may be NULL. */
int mirror_rx_begin(struct mirror_receiver *rx, struct mirror_rx_task *t, const uint8_t *cdb,
		    size_t cdb_len, enum mirror_xfer_dir dir, uint32_t edtl,
		    const char *sender_name, const struct mirror_rx_faults *faults,
		    struct mirror_rx_action *act);
/* buf holds exactly the bytes of the last WANT_DATA range. */
int mirror_rx_data(struct mirror_receiver *rx, struct mirror_rx_task *t, const uint8_t *buf,
		   uint32_t len, struct mirror_rx_action *act);
void mirror_rx_abort(struct mirror_receiver *rx, struct mirror_rx_task *t);
void mirror_rx_end(struct mirror_receiver *rx, struct mirror_rx_task *t);

#ifdef __cplusplus
}
#endif
#endif
