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

/* Connects to the unix socket at path and parses the one line of JSON the
 * emulator answers with (mirror_tgt_stats_json).  0 and *out (caller
 * puts it), or a negative code and a message in err. */
int mirror_stats_query(const char *path, struct json_object **out, char *err, size_t err_len);

/* The table: per path (small, large) operations, interrupts per operation
 * (min / mean / max) and bytes per operation by category, then what the
 * small path saved per operation.  -EINVAL if the object lacks the keys. */
int mirror_stats_print_table(FILE *out, struct json_object *stats);

#ifdef __cplusplus
}
#endif
#endif
