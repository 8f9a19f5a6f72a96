/* The partner's writes as this controller holds them: the mirror
 * operations its receiver stored in the partner's NVRAM region, in the
 * order they arrived, so that a takeover can replay them to the disk array
 * (source Fig. 1: the remaining controller "can continue operations of the
 * system without any user data loss").
 *
 * The hazard it exists for: a replay must never write a copy older than a
 * newer acknowledged write of the same blocks.  The small path carries no
 * sequence number, but the receiver knows the arrival order (one session,
 * commands in CmdSN order) and every operation's LBA, so:
 * - each operation gets an arrival number when its ranges are marked
 *   invalid (Fig. 5 block 516), and owns its NVRAM blocks from then on;
 *   an older operation that loses a block to a newer one can never be
 *   replayed (the sender destaged and released it before reusing that
 *   NVRAM, or it was lost anyway);
 * - it becomes replayable only once all its data arrived and its ranges are
 *   valid (block 524), and stops being so when MIRROR RELEASE names it;
 * - the replay writes block by block in arrival order, so the newest copy
 *   of a block is the last written;
 * - each operation is tied to the session it came on (the sender names
 *   each session apart), and a session to the partner's mirror epoch that
 *   the array table it pushed first on that session carries; a partner that
 *   stops mirroring while alive bumps its epoch before it acknowledges a
 *   write without a mirror, which voids every copy of its earlier writes
 *   here.  A session whose table never arrived counts as current (the
 *   sender pushes it before anything else, and a bump happens only with
 *   no session at all). */
#ifndef MIRROR_APP_PAIR_JOURNAL_H
#define MIRROR_APP_PAIR_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mirror/profile.h>
#include <mirror/receiver.h>

/* The array table generation carries the sender's mirror epoch in its
 * upper 16 bits. */
#define PAIR_GEN_EPOCH(gen) ((uint64_t)(gen) >> 16)
#define PAIR_GEN(epoch, version) ((uint32_t)((epoch) & 0xffffu) << 16 | ((version) & 0xffffu))

enum pair_op_state { OP_FREE = 0, OP_STORING, OP_STORED, OP_DEAD };

struct pair_op {
	uint32_t id;           /* arrival number (0: none) */
	int16_t volume;
	uint8_t state;
	uint8_t session;       /* index into the journal's sessions */
	uint32_t lba;
	uint32_t blocks;
};

#define PAIR_SESSIONS 32u

struct pair_session {
	char name[224];        /* the sender's name for the session */
	bool epoch_known;
	uint64_t epoch;
	uint64_t last_use;
};

struct pair_journal {
	struct mirror_profile profile;
	const struct mirror_receiver *rx;
	uint32_t region_start, region_blocks;
	/* per block of the partner's region: the owning operation and the
	 * block's offset within the operation's data */
	uint32_t *owner;
	uint16_t *offset;
	struct pair_op *ops;   /* indexed by id % ops_cap */
	uint32_t ops_cap;
	uint32_t next_id;
	struct pair_session session[PAIR_SESSIONS];
	uint64_t session_clock;
	/* counters */
	uint64_t ops_stored, ops_released, ops_broken, ops_unmatched;
};

struct pair_replay_block {
	uint32_t id;           /* arrival order */
	int volume;
	uint32_t lba;
	uint32_t nvram_addr;
};

enum {
	PAIR_REPLAY_NEWEST_FIRST = 1, /* deviation replay-stale: older copies land last */
	PAIR_REPLAY_INVALID = 2       /* deviation replay-invalid: ranges not (yet) valid too */
};

/* region: the partner's region in this controller's NVRAM. */
int pair_journal_init(struct pair_journal *j, const struct mirror_profile *p, unsigned region);
void pair_journal_free(struct pair_journal *j);
/* Sets rx's journal hooks to j and remembers rx (for its table generation
 * and NVRAM validity). */
void pair_journal_attach(struct pair_journal *j, struct mirror_receiver *rx);
/* Forgets everything (after a replay, or a restart that discards). */
void pair_journal_reset(struct pair_journal *j);

/* The blocks a takeover must write, in the order to write them: of
 * operations tagged with epoch that are stored, not released and whose
 * blocks they still own and hold valid.  *out is malloc'ed (caller frees). */
int pair_journal_replay_list(const struct pair_journal *j, uint64_t epoch, unsigned flags,
			     struct pair_replay_block **out, size_t *n);

/* Replayable operations and blocks now (for the stats). */
void pair_journal_count(const struct pair_journal *j, uint64_t *ops, uint64_t *blocks);

#endif
