/* Array serial number table (source Fig. 4, item 427) and its harness
 * extension ARRAY TABLE UPDATE, which pushes the whole table to a partner.
 *
 * ARRAY TABLE UPDATE, data-out, default opcode 0xC6:
 *   CDB (10 bytes): 0 opcode, 1-5 reserved, 6-8 parameter list length,
 *   9 control.
 *   Parameter list: a 16-byte header (0-3 generation, 4-5 entry count,
 *   6-15 reserved) then count entries of 16 bytes (0 volume, 1 array
 *   number, 2-7 reserved, 8-15 array serial number).
 */
#ifndef MIRROR_ARRAY_TABLE_H
#define MIRROR_ARRAY_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mirror/finding.h>
#include <mirror/profile.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MIRROR_VOLUMES 256u
#define MIRROR_TABLE_HEADER_BYTES 16u
#define MIRROR_TABLE_ENTRY_BYTES 16u
#define MIRROR_TABLE_MAX_BYTES (MIRROR_TABLE_HEADER_BYTES + MIRROR_VOLUMES * MIRROR_TABLE_ENTRY_BYTES)
#define MIRROR_TABLE_CDB_LEN 10u

struct mirror_array_entry {
	bool used;
	uint8_t array_number;
	uint64_t array_serial;
};

struct mirror_array_table {
	uint32_t generation; /* changes on every add and delete */
	unsigned count;
	struct mirror_array_entry vol[MIRROR_VOLUMES];
};

void mirror_array_table_init(struct mirror_array_table *t);
/* -EEXIST if the volume is used or (serial, array number) is already
 * mapped to another volume. */
int mirror_array_table_add(struct mirror_array_table *t, uint8_t volume, uint64_t serial,
			   uint8_t array_number);
/* -ENOENT if the volume is not in the table. */
int mirror_array_table_delete(struct mirror_array_table *t, uint8_t volume);
/* -ENOENT if absent. */
int mirror_array_table_lookup(const struct mirror_array_table *t, uint8_t volume,
			      uint64_t *serial, uint8_t *array_number);
/* Volume number (0..255) or -ENOENT. */
int mirror_array_table_find(const struct mirror_array_table *t, uint64_t serial,
			    uint8_t array_number);

/* ARRAY TABLE UPDATE: encode the CDB and the parameter list.  Returns the
 * parameter list length. */
int mirror_table_update_cdb_encode(const struct mirror_profile *p, uint32_t param_len,
				   uint8_t *cdb, size_t cap);
int mirror_table_update_encode(const struct mirror_array_table *t, uint8_t *buf, size_t cap);

/* Decode the CDB; *param_len gets the parameter list length. */
int mirror_table_update_cdb_decode(const struct mirror_profile *p, const uint8_t *cdb,
				   size_t len, uint32_t *param_len, struct mirror_findings *f);
/* Decode and check a parameter list into *t (generation and entries as
 * sent).  On error *t is left as it was: a rejected update changes
 * nothing. */
int mirror_table_update_decode(const uint8_t *buf, size_t len, struct mirror_array_table *t,
			       struct mirror_findings *f);

#ifdef __cplusplus
}
#endif
#endif
