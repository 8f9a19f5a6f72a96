/* Reading mirror-emu's counters: a client for its stats socket and the
 * per-path interrupt and byte table the README's main job prints. */
#ifndef MIRROR_STATS_H
#define MIRROR_STATS_H

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

struct json_object;
struct mirror_stats;

/* Connects to the unix socket at path and parses the one line of JSON the
 * emulator answers with (mirror_tgt_stats_json).  0 and *out (caller
 * puts it), or a negative code and a message in err. */
int mirror_stats_query(const char *path, struct json_object **out, char *err, size_t err_len);

/* The same, parsed (iscsi/stats.h): -EINVAL with the key in err when the
 * answer is not mirror-emu's counters. */
int mirror_stats_read(const char *path, struct mirror_stats *s, char *err, size_t err_len);

/* The table: per path (small, large) operations, interrupts per operation
 * (min / mean / max) and bytes per operation by category, then what the
 * small path saved per operation. */
void mirror_stats_print_table(FILE *out, const struct mirror_stats *s);

#ifdef __cplusplus
}
#endif
#endif
