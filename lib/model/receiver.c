/* The receiving controller: the mirror commands (source Fig. 2 blocks
 * 204-224, Fig. 5 blocks 508-528 and 540-544; wire-profile.md "Receiver
 * behaviour and status").  Every byte is checked by the decoders of the
 * codec; this file adds what depends on the receiver's state (its role,
 * its array table, the data direction), drives the data-out phases and
 * keeps the NVRAM validity rule: a range is marked invalid only once its
 * command passed every check, and valid only once all its data arrived. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mirror/error.h>
#include <mirror/receiver.h>

#include "base/bytes.h"
#include "model/receiver_int.h"
#include "wire/rules.h"

typedef int (*rx_begin_fn)(struct mirror_receiver *rx, struct mirror_rx_task *t,
			   const char *sender_name, struct mirror_rx_action *act);
typedef int (*rx_data_fn)(struct mirror_receiver *rx, struct mirror_rx_task *t,
			  const uint8_t *buf, uint32_t len, struct mirror_rx_action *act);

/* One mirror command: the only direction it is recognised with (the
 * opcode clash, wire-profile.md "Small path"), its kind, the counter of
 * struct mirror_rx_stats it counts in and its handlers. */
struct rx_command {
	enum mirror_xfer_dir dir;
	enum mirror_rx_kind kind;
	size_t stat;
	rx_begin_fn begin;
	rx_data_fn data;
};

static int large_begin(struct mirror_receiver *rx, struct mirror_rx_task *t,
		       const char *sender_name, struct mirror_rx_action *act);
static int large_data(struct mirror_receiver *rx, struct mirror_rx_task *t, const uint8_t *buf,
		      uint32_t len, struct mirror_rx_action *act);
static int small_begin(struct mirror_receiver *rx, struct mirror_rx_task *t,
		       const char *sender_name, struct mirror_rx_action *act);
static int small_data(struct mirror_receiver *rx, struct mirror_rx_task *t, const uint8_t *buf,
		      uint32_t len, struct mirror_rx_action *act);
static int table_begin(struct mirror_receiver *rx, struct mirror_rx_task *t,
		       const char *sender_name, struct mirror_rx_action *act);
static int table_data(struct mirror_receiver *rx, struct mirror_rx_task *t, const uint8_t *buf,
		      uint32_t len, struct mirror_rx_action *act);
static int readback_begin(struct mirror_receiver *rx, struct mirror_rx_task *t,
			  const char *sender_name, struct mirror_rx_action *act);
static int release_begin(struct mirror_receiver *rx, struct mirror_rx_task *t,
			 const char *sender_name, struct mirror_rx_action *act);
static void journal(struct mirror_receiver *rx, const struct mirror_rx_task *t, bool stored);
static int release_data(struct mirror_receiver *rx, struct mirror_rx_task *t, const uint8_t *buf,
			uint32_t len, struct mirror_rx_action *act);

static const struct rx_command rx_commands[] = {
	[MIRROR_CMD_NOTIFY] = { MIRROR_DIR_OUT, MIRROR_RX_KIND_LARGE,
				offsetof(struct mirror_rx_stats, large_ops), large_begin, large_data },
	[MIRROR_CMD_SMALL] = { MIRROR_DIR_OUT, MIRROR_RX_KIND_SMALL,
			       offsetof(struct mirror_rx_stats, small_ops), small_begin, small_data },
	[MIRROR_CMD_TABLE_UPDATE] = { MIRROR_DIR_OUT, MIRROR_RX_KIND_TABLE,
				      offsetof(struct mirror_rx_stats, table_updates), table_begin,
				      table_data },
	[MIRROR_CMD_READBACK] = { MIRROR_DIR_IN, MIRROR_RX_KIND_READBACK,
				  offsetof(struct mirror_rx_stats, readbacks), readback_begin, NULL },
	[MIRROR_CMD_RELEASE] = { MIRROR_DIR_OUT, MIRROR_RX_KIND_RELEASE,
				 offsetof(struct mirror_rx_stats, releases), release_begin, release_data },
};
#define RX_COMMANDS (sizeof(rx_commands) / sizeof(rx_commands[0]))

/* The byte of the volume number per small-CDB layout (mirror-protocol(7),
 * "SMALL PATH": byte 3 in both 12-byte layouts, byte 5 in the 16-byte
 * one); its pointer is bit 7, the top of the 8-bit field. */
static const unsigned volume_byte[] = {
	[MIRROR_SMALL_CDB12_20BIT] = 3,
	[MIRROR_SMALL_CDB12_18BIT] = 3,
	[MIRROR_SMALL_CDB16] = 5,
};

static const struct rx_command *command_of(const struct mirror_receiver *rx, uint8_t opcode,
					   enum mirror_xfer_dir dir)
{
	enum mirror_command c = mirror_command_of(&rx->profile, opcode);

	if ((size_t)c >= RX_COMMANDS || !rx_commands[c].begin || rx_commands[c].dir != dir)
		return NULL;
	return &rx_commands[c];
}

/* The MIRROR_RX_EXT_* bit of a harness extension, 0 for the mirror
 * writes themselves. */
static unsigned extension_bit(enum mirror_command c)
{
	static const struct {
		enum mirror_command c;
		unsigned bit;
	} ext[] = { { MIRROR_CMD_TABLE_UPDATE, MIRROR_RX_EXT_TABLE },
		    { MIRROR_CMD_READBACK, MIRROR_RX_EXT_READBACK },
		    { MIRROR_CMD_RELEASE, MIRROR_RX_EXT_RELEASE } };

	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++)
		if (ext[i].c == c)
			return ext[i].bit;
	return 0;
}

static const struct rx_command *command_of_kind(enum mirror_rx_kind kind)
{
	for (size_t i = 0; i < RX_COMMANDS; i++)
		if (rx_commands[i].begin && rx_commands[i].kind == kind)
			return &rx_commands[i];
	return NULL;
}

int mirror_rx_init(struct mirror_receiver *rx, const struct mirror_profile *p, unsigned role,
		   struct mirror_nvram *nvram)
{
	if (!rx || !p || !nvram || role > 1)
		return -EINVAL;
	if (mirror_profile_check(p, NULL, 0) < 0)
		return MIRROR_E_PROFILE;
	if ((size_t)p->small_layout >= sizeof(volume_byte) / sizeof(volume_byte[0]))
		return MIRROR_E_PROFILE;
	/* The NVRAM must have the profile's geometry: the decoders check
	 * ranges against the profile, the stores go to the NVRAM. */
	if (!nvram->data || !nvram->valid || nvram->size != p->nvram_size ||
	    nvram->split != p->region_split)
		return -EINVAL;
	memset(rx, 0, sizeof(*rx));
	rx->profile = *p;
	rx->role = role;
	rx->nvram = nvram;
	mirror_array_table_init(&rx->table);
	/* INQUIRY identity; the emulator may overwrite it after init. */
	snprintf(rx->vendor, sizeof(rx->vendor), "%s", "MIRROR");
	snprintf(rx->product, sizeof(rx->product), "NVRAM MIRROR %c", role ? 'B' : 'A');
	snprintf(rx->revision, sizeof(rx->revision), "%s", "0001");
	snprintf(rx->serial, sizeof(rx->serial), "MIRROR-%c-%08X", role ? 'B' : 'A',
		 (unsigned)p->nvram_size);
	return 0;
}

/* ---- responses ---- */

static void respond_sense(struct mirror_receiver *rx, struct mirror_rx_task *t,
			  struct mirror_rx_action *act, const struct mirror_sense *s)
{
	act->kind = MIRROR_RX_RESPOND;
	act->status = MIRROR_STATUS_CHECK_CONDITION;
	int n = mirror_sense_build(act->sense, sizeof(act->sense), s);
	act->sense_len = n > 0 ? (unsigned)n : 0;
	act->data_in = NULL;
	act->data_in_len = 0;
	act->data_in_overflow = 0;
	rx->stats.check_condition++;
	t->phase = RX_PHASE_RESPONDED;
}

void mirror_rx_respond_good(struct mirror_receiver *rx, struct mirror_rx_task *t,
			    struct mirror_rx_action *act, const uint8_t *data, uint32_t len)
{
	act->kind = MIRROR_RX_RESPOND;
	act->status = MIRROR_STATUS_GOOD;
	act->sense_len = 0;
	act->data_in = len ? data : NULL;
	act->data_in_len = len;
	act->data_in_overflow = 0;
	rx->stats.good++;
	t->phase = RX_PHASE_RESPONDED;
}

void mirror_rx_respond_findings(struct mirror_receiver *rx, struct mirror_rx_task *t,
				struct mirror_rx_action *act)
{
	const struct mirror_finding *e = mirror_findings_first_error(&t->findings);
	struct mirror_sense s;

	if (e) {
		mirror_sense_from_finding(e, &s);
		/* injected deviations */
		if (t->faults.wrong_pointer && s.sksv)
			s.field++;
		if (t->faults.wrong_asc)
			s.asc = s.asc == 0x24 ? 0x26 : 0x24;
	} else {
		/* Unreachable with a checked profile: a decoder failed
		 * without a finding.  Still answer something SPC allows. */
		memset(&s, 0, sizeof(s));
		s.key = MIRROR_SK_ILLEGAL_REQUEST;
		s.asc = 0x24;
	}
	respond_sense(rx, t, act, &s);
}

static void want(struct mirror_rx_task *t, struct mirror_rx_action *act, enum rx_phase phase,
		 uint32_t offset, uint32_t length)
{
	act->kind = MIRROR_RX_WANT_DATA;
	act->offset = offset;
	act->length = length;
	t->phase = phase;
}

/* Injected deviation (accept:RULE): the findings of the accepted rules are
 * dropped, so the command goes on as if the field were valid. */
static void accept_injected(struct mirror_rx_task *t)
{
	struct mirror_findings *f = &t->findings;
	unsigned k = 0;

	if (!t->faults.accept_rules)
		return;
	for (unsigned i = 0; i < f->count && i < MIRROR_FINDINGS_MAX; i++) {
		unsigned r = (unsigned)f->item[i].rule;
		if (r < 64 && (t->faults.accept_rules >> r) & 1u) {
			if (f->item[i].severity == MIRROR_SEV_ERROR)
				f->errors--;
			else
				f->warnings--;
			continue;
		}
		f->item[k++] = f->item[i];
	}
	f->count = k;
}

/* ---- sequence tracking (wire-profile.md "Large path": one number per
 * mirror message, per sender) ---- */

static int sender_slot(struct mirror_receiver *rx, const char *name)
{
	int free_slot = -1;

	if (!name || !name[0])
		return -1;
	for (int i = 0; i < (int)MIRROR_RX_SENDERS_MAX; i++) {
		struct mirror_rx_sender *s = &rx->senders[i];
		if (!s->name[0]) {
			if (free_slot < 0)
				free_slot = i;
			continue;
		}
		if (strncmp(s->name, name, sizeof(s->name) - 1) == 0)
			return i;
	}
	/* Full: that sender goes untracked rather than evicting another. */
	if (free_slot >= 0)
		snprintf(rx->senders[free_slot].name, sizeof(rx->senders[free_slot].name), "%s",
			 name);
	return free_slot;
}

/* Serial number arithmetic (RFC 1982 style) so that 0 follows 0xFFFFFFFF:
 * one ahead is in order, further ahead a gap, not ahead a repeat.  The
 * number always becomes the last, so a sender that restarts its counter
 * costs one repeat, not one per message. */
static void track_sequence(struct mirror_receiver *rx, const struct mirror_rx_task *t)
{
	if (t->sender < 0)
		return;
	struct mirror_rx_sender *s = &rx->senders[t->sender];
	uint32_t seq = t->md.sequence;

	s->messages++;
	if (s->seen) {
		uint32_t ahead = seq - s->last_sequence;
		if (ahead == 0 || ahead > 0x7fffffffu)
			s->repeats++;
		else if (ahead > 1)
			s->gaps++;
	}
	s->seen = true;
	s->last_sequence = seq;
}

/* ---- small path (Fig. 5 blocks 540-544, Fig. 6) ---- */

static void small_rules(const struct mirror_receiver *rx, struct mirror_rx_task *t)
{
	const struct mirror_small_cdb *c = &t->small;
	unsigned partner = 1u - rx->role;

	/* Fig. 4 items 424-426: a controller holds its partner's copies in
	 * the partner's region, so it takes only the partner's opcode. */
	if (c->region >= 0 && (unsigned)c->region != partner)
		mirror_findings_add(&t->findings, MIRROR_RULE_SMALL_OPCODE_ROLE, true, 0, 7,
				    "opcode 0x%02X writes region %d; controller %c takes only region %u (opcode 0x%02X)",
				    c->opcode, c->region, rx->role ? 'B' : 'A', partner,
				    mirror_small_opcode_for_region(&rx->profile, partner));
	/* Fig. 4 item 427: the volume number indexes the array table, which
	 * must have been received (ARRAY TABLE UPDATE). */
	unsigned vb = volume_byte[rx->profile.small_layout];
	if (!rx->table_received)
		mirror_findings_add(&t->findings, MIRROR_RULE_SMALL_VOLUME, true, vb, 7,
				    "volume %u: no array table received yet", c->volume);
	else if (!rx->table.vol[c->volume].used)
		mirror_findings_add(&t->findings, MIRROR_RULE_SMALL_VOLUME, true, vb, 7,
				    "volume %u is not in the array table (generation %u)", c->volume,
				    (unsigned)rx->table.generation);
}

static int small_begin(struct mirror_receiver *rx, struct mirror_rx_task *t,
		       const char *sender_name, struct mirror_rx_action *act)
{
	struct mirror_check_ctx ctx = MIRROR_CHECK_CTX_INIT;
	int rc;

	(void)sender_name; /* no sequence number on this path */
	ctx.data_out_length = t->edtl;
	rc = mirror_small_cdb_decode(&rx->profile, t->cdb, t->cdb_len, &ctx, &t->small,
				     &t->findings);
	if (rc != MIRROR_E_TRUNCATED) {
		/* The receiver's rules join the decoder's in one list, so
		 * that the byte order decides (wire-profile.md, "When several
		 * rules are broken"). */
		small_rules(rx, t);
		mirror_findings_sort(&t->findings);
	}
	accept_injected(t);
	if (mirror_findings_first_error(&t->findings)) {
		mirror_rx_respond_findings(rx, t, act);
		return 0;
	}
	/* Everything passed: only now mark the ranges invalid (Fig. 5 block
	 * 516 applies to both paths). */
	for (unsigned i = 0; i < t->small.slots; i++) {
		const struct mirror_small_element *e = &t->small.sg[i];
		if (e->blocks)
			mirror_nvram_mark_invalid(rx->nvram, e->descriptor * MIRROR_BLOCK_SIZE,
						  e->blocks * MIRROR_BLOCK_SIZE);
	}
	t->ranges_invalidated = true;
	journal(rx, t, false);
	want(t, act, RX_PHASE_WANT_DATA, 0, mirror_small_cdb_blocks(&t->small) * MIRROR_BLOCK_SIZE);
	return 0;
}

static int small_data(struct mirror_receiver *rx, struct mirror_rx_task *t, const uint8_t *buf,
		      uint32_t len, struct mirror_rx_action *act)
{
	uint32_t off = 0;

	if (t->phase != RX_PHASE_WANT_DATA ||
	    len != mirror_small_cdb_blocks(&t->small) * MIRROR_BLOCK_SIZE)
		return -EINVAL;
	/* Fig. 5 blocks 520-528: store, then mark valid, then status. */
	for (unsigned i = 0; i < t->small.slots; i++) {
		const struct mirror_small_element *e = &t->small.sg[i];
		uint32_t bytes = e->blocks * MIRROR_BLOCK_SIZE;
		if (!bytes)
			continue;
		mirror_nvram_store(rx->nvram, e->descriptor * MIRROR_BLOCK_SIZE, buf + off, bytes);
		off += bytes;
	}
	if (!t->faults.skip_validity) {
		for (unsigned i = 0; i < t->small.slots; i++) {
			const struct mirror_small_element *e = &t->small.sg[i];
			if (e->blocks)
				mirror_nvram_mark_valid(rx->nvram, e->descriptor * MIRROR_BLOCK_SIZE,
							e->blocks * MIRROR_BLOCK_SIZE);
		}
		journal(rx, t, true);
	}
	rx->stats.user_bytes_stored += off;
	mirror_rx_respond_good(rx, t, act, NULL, 0);
	return 0;
}

/* ---- the journal hooks (receiver.h, struct mirror_rx_journal) ---- */

static void journal(struct mirror_receiver *rx, const struct mirror_rx_task *t, bool stored)
{
	void (*fn)(void *, const struct mirror_rx_op *) =
		stored ? rx->journal.stored : rx->journal.invalidated;
	struct mirror_rx_op op;

	if (!fn)
		return;
	memset(&op, 0, sizeof(op));
	op.sender = t->sender_name;
	if (t->kind == MIRROR_RX_KIND_SMALL) {
		op.path = MIRROR_PATH_SMALL;
		op.region = (unsigned)t->small.region;
		op.volume = t->small.volume;
		op.lba = t->small.lba;
		op.blocks = mirror_small_cdb_blocks(&t->small);
		for (unsigned i = 0; i < t->small.slots; i++) {
			const struct mirror_small_element *e = &t->small.sg[i];
			if (!e->blocks)
				continue;
			op.sg[op.sg_count].nvram_addr = e->descriptor * MIRROR_BLOCK_SIZE;
			op.sg[op.sg_count].bytes = e->blocks * MIRROR_BLOCK_SIZE;
			op.sg_count++;
		}
	} else {
		op.path = MIRROR_PATH_LARGE;
		op.region = t->md.region;
		op.volume = mirror_array_table_find(&rx->table, t->md.array_serial,
						    t->md.array_number);
		if (op.volume < 0)
			op.volume = -1;
		op.lba = t->md.lba;
		op.blocks = t->md.blocks;
		op.sequence = t->md.sequence;
		op.sg_count = t->md.sg_count;
		memcpy(op.sg, t->md.sg, t->md.sg_count * sizeof(op.sg[0]));
	}
	fn(rx->journal.arg, &op);
}

/* ---- MIRROR RELEASE (harness extension, include/mirror/nvram.h) ---- */

static int release_begin(struct mirror_receiver *rx, struct mirror_rx_task *t,
			 const char *sender_name, struct mirror_rx_action *act)
{
	uint32_t plen;

	(void)sender_name;
	mirror_release_cdb_decode(&rx->profile, t->cdb, t->cdb_len, &plen, &t->findings);
	if (!mirror_findings_first_error(&t->findings) && t->edtl != plen)
		mirror_findings_add(&t->findings, MIRROR_RULE_DATA_LENGTH, true, 0, 0,
				    "expected data transfer length %u is not the parameter list length %u",
				    (unsigned)t->edtl, (unsigned)plen);
	accept_injected(t);
	if (mirror_findings_first_error(&t->findings)) {
		mirror_rx_respond_findings(rx, t, act);
		return 0;
	}
	want(t, act, RX_PHASE_WANT_DATA, 0, plen);
	return 0;
}

static int release_data(struct mirror_receiver *rx, struct mirror_rx_task *t, const uint8_t *buf,
			uint32_t len, struct mirror_rx_action *act)
{
	struct mirror_release r;

	if (t->phase != RX_PHASE_WANT_DATA || len != t->edtl)
		return -EINVAL;
	/* the ranges must be the sender's: the partner's region */
	mirror_release_decode(&rx->profile, 1u - rx->role, buf, len, &r, &t->findings);
	if (mirror_findings_first_error(&t->findings)) {
		mirror_rx_respond_findings(rx, t, act);
		return 0;
	}
	for (unsigned i = 0; i < r.count; i++) {
		mirror_nvram_mark_invalid(rx->nvram, r.range[i].nvram_addr,
					  r.range[i].blocks * MIRROR_BLOCK_SIZE);
		if (rx->journal.released)
			rx->journal.released(rx->journal.arg, r.range[i].nvram_addr, r.range[i].blocks);
	}
	mirror_rx_respond_good(rx, t, act, NULL, 0);
	return 0;
}

/* ---- large path (Fig. 2, Fig. 5 blocks 508-528) ---- */

static int large_begin(struct mirror_receiver *rx, struct mirror_rx_task *t,
		       const char *sender_name, struct mirror_rx_action *act)
{
	struct mirror_notify_cdb nc;

	t->sender = sender_slot(rx, sender_name);
	mirror_notify_cdb_decode(&rx->profile, t->cdb, t->cdb_len, &nc, &t->findings);
	/* Less than the metadata: PARAMETER LIST LENGTH ERROR before any
	 * R2T (wire-profile.md, "Which error").  It joins the CDB's findings
	 * so that a strict-mode CDB error still comes first. */
	if (t->edtl < MIRROR_METADATA_BYTES) {
		mirror_findings_add(&t->findings, MIRROR_RULE_DATA_LENGTH, true, 0, 0,
				    "expected data transfer length %u is less than the 1024-byte metadata",
				    (unsigned)t->edtl);
		mirror_findings_sort(&t->findings);
	}
	accept_injected(t);
	if (mirror_findings_first_error(&t->findings)) {
		mirror_rx_respond_findings(rx, t, act);
		return 0;
	}
	/* The metadata alone first (Fig. 5 block 512). */
	want(t, act, RX_PHASE_WANT_METADATA, 0, MIRROR_METADATA_BYTES);
	return 0;
}

static int large_metadata(struct mirror_receiver *rx, struct mirror_rx_task *t,
			  const uint8_t *buf, uint32_t len, struct mirror_rx_action *act)
{
	struct mirror_check_ctx ctx = MIRROR_CHECK_CTX_INIT;

	if (len != MIRROR_METADATA_BYTES)
		return -EINVAL;
	ctx.data_out_length = t->edtl;
	ctx.sender_region = (int)(1u - rx->role);
	mirror_metadata_decode(&rx->profile, buf, len, &ctx, &t->md, &t->findings);
	accept_injected(t);
	if (mirror_findings_first_error(&t->findings)) {
		mirror_rx_respond_findings(rx, t, act);
		return 0;
	}
	/* Fig. 5 block 516: the metadata passed, mark its ranges invalid
	 * before asking for the data. */
	for (unsigned i = 0; i < t->md.sg_count; i++)
		mirror_nvram_mark_invalid(rx->nvram, t->md.sg[i].nvram_addr, t->md.sg[i].bytes);
	t->ranges_invalidated = true;
	journal(rx, t, false);
	uint64_t gaps = t->sender >= 0 ? rx->senders[t->sender].gaps : 0;
	track_sequence(rx, t);
	if (t->faults.gap_sense && t->sender >= 0 && rx->senders[t->sender].gaps != gaps) {
		/* injected deviation: a gap refused after the ranges were
		 * marked invalid, so the earlier copy is lost */
		struct mirror_sense s;
		memset(&s, 0, sizeof(s));
		s.key = MIRROR_SK_ABORTED_COMMAND;
		respond_sense(rx, t, act, &s);
		return 0;
	}
	want(t, act, RX_PHASE_WANT_USER, MIRROR_METADATA_BYTES, t->md.blocks * MIRROR_BLOCK_SIZE);
	return 0;
}

static int large_user(struct mirror_receiver *rx, struct mirror_rx_task *t, const uint8_t *buf,
		      uint32_t len, struct mirror_rx_action *act)
{
	uint32_t off = 0;

	if (len != t->md.blocks * MIRROR_BLOCK_SIZE)
		return -EINVAL;
	/* Fig. 5 blocks 520-528; the decoder checked that the S/G counts
	 * add up to the blocks, so the elements consume buf exactly. */
	for (unsigned i = 0; i < t->md.sg_count; i++) {
		/* Only an injected accept:sg.sum lets the elements outgrow
		 * buf; they are then cut at its end. */
		if (t->md.sg[i].bytes > len - off)
			break;
		mirror_nvram_store(rx->nvram, t->md.sg[i].nvram_addr, buf + off, t->md.sg[i].bytes);
		off += t->md.sg[i].bytes;
	}
	if (!t->faults.skip_validity) {
		for (unsigned i = 0; i < t->md.sg_count; i++)
			mirror_nvram_mark_valid(rx->nvram, t->md.sg[i].nvram_addr, t->md.sg[i].bytes);
		journal(rx, t, true);
	}
	rx->stats.user_bytes_stored += off;
	mirror_rx_respond_good(rx, t, act, NULL, 0);
	return 0;
}

static int large_data(struct mirror_receiver *rx, struct mirror_rx_task *t, const uint8_t *buf,
		      uint32_t len, struct mirror_rx_action *act)
{
	if (t->phase == RX_PHASE_WANT_METADATA)
		return large_metadata(rx, t, buf, len, act);
	if (t->phase == RX_PHASE_WANT_USER)
		return large_user(rx, t, buf, len, act);
	return -EINVAL;
}

/* ---- ARRAY TABLE UPDATE (harness extension, wire-profile.md "Array
 * serial number table") ---- */

static uint32_t table_param_len(const struct mirror_rx_task *t)
{
	return get_be24(t->cdb + 6);
}

static int table_begin(struct mirror_receiver *rx, struct mirror_rx_task *t,
		       const char *sender_name, struct mirror_rx_action *act)
{
	uint32_t plen;

	(void)sender_name;
	mirror_table_update_cdb_decode(&rx->profile, t->cdb, t->cdb_len, &plen, &t->findings);
	if (!mirror_findings_first_error(&t->findings) && t->edtl != plen)
		mirror_findings_add(&t->findings, MIRROR_RULE_DATA_LENGTH, true, 0, 0,
				    "expected data transfer length %u is not the parameter list length %u",
				    (unsigned)t->edtl, (unsigned)plen);
	accept_injected(t);
	if (mirror_findings_first_error(&t->findings)) {
		mirror_rx_respond_findings(rx, t, act);
		return 0;
	}
	/* The decoder bounded plen to 16 + 16 x 256 bytes. */
	want(t, act, RX_PHASE_WANT_DATA, 0, plen);
	return 0;
}

static int table_data(struct mirror_receiver *rx, struct mirror_rx_task *t, const uint8_t *buf,
		      uint32_t len, struct mirror_rx_action *act)
{
	if (t->phase != RX_PHASE_WANT_DATA || len != table_param_len(t))
		return -EINVAL;
	/* The decoder replaces rx->table only when the list is valid: a
	 * rejected update changes nothing.  (keep-table: decoded into a copy
	 * that is thrown away, so the old table stays, answered GOOD.) */
	if (t->faults.keep_table && rx->table_received) {
		struct mirror_array_table discard = rx->table;

		mirror_table_update_decode(buf, len, &discard, &t->findings);
	} else {
		mirror_table_update_decode(buf, len, &rx->table, &t->findings);
	}
	if (mirror_findings_first_error(&t->findings)) {
		mirror_rx_respond_findings(rx, t, act);
		return 0;
	}
	rx->table_received = true;
	if (rx->journal.table && !t->faults.keep_table)
		rx->journal.table(rx->journal.arg, t->sender_name, rx->table.generation);
	mirror_rx_respond_good(rx, t, act, NULL, 0);
	return 0;
}

/* ---- NVRAM READBACK (harness extension, include/mirror/nvram.h) ---- */

static int readback_begin(struct mirror_receiver *rx, struct mirror_rx_task *t,
			  const char *sender_name, struct mirror_rx_action *act)
{
	struct mirror_readback_cdb rb;
	uint8_t *out;

	(void)sender_name;
	mirror_readback_cdb_decode(&rx->profile, t->cdb, t->cdb_len, &rb, &t->findings);
	if (mirror_findings_first_error(&t->findings)) {
		mirror_rx_respond_findings(rx, t, act);
		return 0;
	}
	/* The decoder bounded the blocks to 1..2048, so the response is at
	 * most 16 + 256 + 1 MiB, whatever the expected length says. */
	size_t n = mirror_readback_response_len(&rb);
	if (n <= sizeof(t->inline_buf)) {
		out = t->inline_buf;
	} else {
		t->buf = malloc(n);
		if (!t->buf) {
			/* BUSY: the initiator may retry (SAM-5 5.3.1). */
			act->kind = MIRROR_RX_RESPOND;
			act->status = MIRROR_STATUS_BUSY;
			t->phase = RX_PHASE_RESPONDED;
			return -ENOMEM;
		}
		t->buf_len = (uint32_t)n;
		out = t->buf;
	}
	if (mirror_readback_build(rx->nvram, &rb, out, n) < 0) {
		/* Unreachable: the CDB decoder checked the same range. */
		mirror_findings_add(&t->findings, MIRROR_RULE_READBACK_ADDR, true, 2, 7,
				    "NVRAM range 0x%08X + %u blocks cannot be read back",
				    (unsigned)rb.nvram_addr, (unsigned)rb.blocks);
		mirror_rx_respond_findings(rx, t, act);
		return 0;
	}
	if (t->faults.corrupt_readback && !(rb.flags & MIRROR_READBACK_FLAG_VALIDITY_ONLY))
		out[MIRROR_READBACK_HEADER_BYTES + mirror_readback_bitmap_len(rb.blocks)] ^= 0x01;
	uint32_t len = n < t->edtl ? (uint32_t)n : t->edtl;
	mirror_rx_respond_good(rx, t, act, out, len);
	act->data_in_overflow = (uint32_t)n - len;
	return 0;
}

/* ---- the task ---- */

static void task_reset(struct mirror_rx_task *t)
{
	memset(t, 0, offsetof(struct mirror_rx_task, inline_buf));
	t->sender = -1;
	t->phase = RX_PHASE_IDLE;
	mirror_findings_init(&t->findings);
}

int mirror_rx_begin(struct mirror_receiver *rx, struct mirror_rx_task *t, const uint8_t *cdb,
		    size_t cdb_len, enum mirror_xfer_dir dir, uint32_t edtl,
		    const char *sender_name, const struct mirror_rx_faults *faults,
		    struct mirror_rx_action *act)
{
	if (!rx || !t || !cdb || !act || cdb_len == 0 || cdb_len > sizeof(t->cdb) ||
	    (unsigned)dir > MIRROR_DIR_IN)
		return -EINVAL;
	task_reset(t);
	memset(act, 0, sizeof(*act));
	memcpy(t->cdb, cdb, cdb_len);
	t->cdb_len = (unsigned)cdb_len;
	t->dir = dir;
	t->edtl = edtl;
	t->sender_name = sender_name;
	if (faults)
		t->faults = *faults;

	enum mirror_xfer_dir as = dir;
	enum mirror_command mc = mirror_command_of(&rx->profile, cdb[0]);
	/* Injected deviation: the opcode clash resolved by the opcode alone. */
	if (t->faults.data_in_is_mirror && dir == MIRROR_DIR_IN &&
	    (mc == MIRROR_CMD_NOTIFY || mc == MIRROR_CMD_SMALL))
		as = MIRROR_DIR_OUT;
	const struct rx_command *c = command_of(rx, cdb[0], as);
	unsigned ext = extension_bit(mc);
	if (c && (rx->extensions_off & ext)) {
		/* A receiver without this harness extension: its opcode is
		 * one it does not know (wire-profile.md "Receiver behaviour
		 * and status": INVALID COMMAND OPERATION CODE). */
		t->kind = MIRROR_RX_KIND_OTHER;
		rx->stats.other_cmds++;
		mirror_findings_add(&t->findings, MIRROR_RULE_OPCODE_UNKNOWN, true, 0, 7,
				    "opcode 0x%02X is not supported (harness extension off)", cdb[0]);
		mirror_rx_respond_findings(rx, t, act);
		return 0;
	}
	if (!c) {
		t->kind = MIRROR_RX_KIND_OTHER;
		rx->stats.other_cmds++;
		return mirror_rx_scsi_begin(rx, t, act);
	}
	t->kind = c->kind;
	(*(uint64_t *)((char *)&rx->stats + c->stat))++;

	/* Injected faults (mirror-emu --inject) replace the processing of
	 * a mirror command; standard commands never get them, so that a
	 * faulty receiver can still be found and probed. */
	if (t->faults.unknown_opcode) {
		mirror_findings_add(&t->findings, MIRROR_RULE_OPCODE_UNKNOWN, true, 0, 7,
				    "opcode 0x%02X answered as unknown (injected fault)", cdb[0]);
		mirror_rx_respond_findings(rx, t, act);
		return 0;
	}
	if (t->faults.force_sense) {
		struct mirror_sense s;
		memset(&s, 0, sizeof(s));
		s.key = t->faults.key;
		s.asc = t->faults.asc;
		s.ascq = t->faults.ascq;
		respond_sense(rx, t, act, &s);
		return 0;
	}
	return c->begin(rx, t, sender_name, act);
}

int mirror_rx_data(struct mirror_receiver *rx, struct mirror_rx_task *t, const uint8_t *buf,
		   uint32_t len, struct mirror_rx_action *act)
{
	const struct rx_command *c;

	if (!rx || !t || !act || (!buf && len))
		return -EINVAL;
	if (t->phase != RX_PHASE_WANT_DATA && t->phase != RX_PHASE_WANT_METADATA &&
	    t->phase != RX_PHASE_WANT_USER)
		return -EINVAL;
	c = command_of_kind(t->kind);
	if (!c || !c->data)
		return -EINVAL;
	memset(act, 0, sizeof(*act));
	return c->data(rx, t, buf, len, act);
}

/* Only for the injected valid-on-abort deviation: what a receiver must
 * never do with an operation whose data did not all arrive. */
static void mark_ranges_valid(struct mirror_receiver *rx, const struct mirror_rx_task *t)
{
	if (t->kind == MIRROR_RX_KIND_SMALL)
		for (unsigned i = 0; i < t->small.slots; i++) {
			const struct mirror_small_element *e = &t->small.sg[i];
			if (e->blocks)
				mirror_nvram_mark_valid(rx->nvram, e->descriptor * MIRROR_BLOCK_SIZE,
							e->blocks * MIRROR_BLOCK_SIZE);
		}
	else if (t->kind == MIRROR_RX_KIND_LARGE)
		for (unsigned i = 0; i < t->md.sg_count; i++)
			mirror_nvram_mark_valid(rx->nvram, t->md.sg[i].nvram_addr, t->md.sg[i].bytes);
}

void mirror_rx_abort(struct mirror_receiver *rx, struct mirror_rx_task *t)
{
	if (!rx || !t || t->phase == RX_PHASE_IDLE || t->phase == RX_PHASE_ABORTED)
		return;
	/* Nothing to undo: ranges are marked valid only as the last step
	 * before GOOD, so whatever was marked invalid stays invalid
	 * (wire-profile.md: "an aborted or failed operation leaves its
	 * ranges invalid"). */
	if (t->faults.valid_on_abort && t->ranges_invalidated)
		mark_ranges_valid(rx, t); /* injected deviation */
	rx->stats.aborted++;
	t->phase = RX_PHASE_ABORTED;
}

void mirror_rx_end(struct mirror_receiver *rx, struct mirror_rx_task *t)
{
	if (!t)
		return;
	/* Ended while still waiting for data: the command died without an
	 * abort from the transport, which is an abort all the same. */
	if (rx && (t->phase == RX_PHASE_WANT_DATA || t->phase == RX_PHASE_WANT_METADATA ||
		   t->phase == RX_PHASE_WANT_USER))
		mirror_rx_abort(rx, t);
	free(t->buf);
	t->buf = NULL;
	t->buf_len = 0;
	task_reset(t);
}
