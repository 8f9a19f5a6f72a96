/* The target's counters as JSON: what mirror-emu's stats socket answers
 * and what a controller reports as "mirror_rx".  One module writes the
 * object and parses it back into one struct, so every reader (mirror-emu
 * --query's table, mirror-load's receiver cost, mirror-top's emu source,
 * the conformance minima) reads the same keys the same way. */
#ifndef MIRROR_ISCSI_STATS_H
#define MIRROR_ISCSI_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mirror/receiver.h>

#ifdef __cplusplus
extern "C" {
#endif

struct json_object;
struct mirror_tgt;

/* kinds.<name>: one message kind.  Bytes and interrupts are summed over
 * the operations that completed GOOD; errors are counted apart. */
struct mirror_stats_kind {
	uint64_t ops, errors, interrupts;
	uint64_t interrupts_min, interrupts_max;
	uint64_t cdb, metadata, data, iscsi, total; /* kinds.<name>.bytes.* */
};

#define MIRROR_STATS_SENSE_MAX 16 /* one per sense key */

struct mirror_stats {
	struct mirror_stats_kind kind[MIRROR_RX_KINDS]; /* by enum mirror_rx_kind */
	bool have_kind[MIRROR_RX_KINDS];
	uint64_t sessions_total, sessions_now, logins_failed;
	uint64_t pdus_in, pdus_out, rejects, digest_errors, task_management;
	/* check_conditions: CHECK CONDITIONs by sense key name */
	unsigned nsense;
	struct {
		char name[48];
		uint64_t n;
	} sense[MIRROR_STATS_SENSE_MAX];
	/* sequence and table_generation: only a target serving the mirror
	 * receiver has them */
	bool have_sequence;
	uint64_t seq_messages, seq_gaps, seq_repeats;
	uint64_t table_generation;
};

/* "other", "small", "large", "table_update", "readback", "release". */
const char *mirror_stats_kind_name(enum mirror_rx_kind k);
/* The kinds index of a mirror path (enum mirror_path). */
enum mirror_rx_kind mirror_stats_path_kind(unsigned path);

/* A target's counters now. */
void mirror_stats_of_tgt(const struct mirror_tgt *t, struct mirror_stats *s);
/* The JSON object (caller puts it); mirror_tgt_stats_json(t) is
 * mirror_stats_json of mirror_stats_of_tgt. */
struct json_object *mirror_stats_json(const struct mirror_stats *s);

/* The object back into *s.  kinds.small and kinds.large must be there
 * with every counter; other keys may be absent, but a key that is there
 * must hold what the writer puts there.  0, or -EINVAL with the key in
 * why ("kinds.small.bytes.cdb"). */
int mirror_stats_parse(struct json_object *o, struct mirror_stats *s, char *why, size_t why_len);
/* The same from text; -EPROTO with json-c's reason for text that is not
 * JSON. */
int mirror_stats_parse_text(const char *text, struct mirror_stats *s, char *why, size_t why_len);

/* Sum of the check_conditions counts. */
uint64_t mirror_stats_check_conditions(const struct mirror_stats *s);

#ifdef __cplusplus
}
#endif
#endif
