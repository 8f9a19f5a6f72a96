/* Wire codec of the mirror commands (source Figs. 3 and 6; wire-profile.md).
 *
 * Pure code: no I/O, no allocation.  Encoders pack whatever fits the bit
 * widths of the wire fields (so a test can build an invalid-but-encodable
 * command); decoders unpack every field and then check every rule of the
 * profile, appending a finding per violation.  A decoder returns 0 when
 * there is no error (warnings allowed), otherwise the code of the first
 * error (MIRROR_E_INVALID_CDB, MIRROR_E_INVALID_PARAM, MIRROR_E_LBA_RANGE,
 * MIRROR_E_PARAM_LENGTH, MIRROR_E_TRUNCATED); the struct is filled as far as
 * the bytes allow either way.
 */
#ifndef MIRROR_CODEC_H
#define MIRROR_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mirror/finding.h>
#include <mirror/profile.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What the receiver knows beyond the bytes themselves.  Fields left at
 * their MIRROR_CHECK_CTX_INIT values are not checked. */
struct mirror_check_ctx {
	/* Data-out length the command arrived with, or -1 if unknown. */
	int64_t data_out_length;
	/* Region the sender owns (0 or 1), or -1: a metadata message whose
	 * region field names the other region is rejected. */
	int sender_region;
};
#define MIRROR_CHECK_CTX_INIT { -1, -1 }

/* ---- small-write CDB (Fig. 6; 0xA0/0xB0) ---- */

struct mirror_small_element {
	uint32_t descriptor; /* NVRAM byte address / 512 */
	uint8_t blocks;      /* 0 = absent (not for element 1) */
};

struct mirror_small_cdb {
	uint8_t opcode;
	uint8_t volume;
	uint32_t lba;
	/* Slots the layout has (2 or 4); all are decoded, present or not. */
	unsigned slots;
	struct mirror_small_element sg[MIRROR_SMALL_SG_MAX];
	/* Decoded from the opcode: 0, 1, or -1 if not a small opcode. */
	int region;
	/* The shared high descriptor bits as carried (20-bit layouts). */
	uint8_t cei_high;
};

/* Present elements (block count non-zero), in order. */
unsigned mirror_small_cdb_elements(const struct mirror_small_cdb *c);
/* Sum of present block counts. */
unsigned mirror_small_cdb_blocks(const struct mirror_small_cdb *c);

/* Packs c into cdb[0 .. mirror_small_cdb_len(p)).  Fails with
 * MIRROR_E_FIELD_WIDTH when a value does not fit (block count > 63, a
 * descriptor wider than the layout, descriptors whose shared high bits
 * differ) and MIRROR_E_NOSPACE when cdb_cap is too small.  Returns the
 * CDB length on success. */
int mirror_small_cdb_encode(const struct mirror_profile *p, const struct mirror_small_cdb *c,
			    uint8_t *cdb, size_t cdb_cap);

int mirror_small_cdb_decode(const struct mirror_profile *p, const uint8_t *cdb, size_t len,
			    const struct mirror_check_ctx *ctx, struct mirror_small_cdb *out,
			    struct mirror_findings *f);

/* ---- notification CDB (large path, 10 bytes, 0x3C) ---- */

struct mirror_notify_cdb {
	uint8_t opcode;
	uint8_t rest[9]; /* bytes 1-9: ignored by the source's receiver */
};

int mirror_notify_cdb_encode(const struct mirror_profile *p, const struct mirror_notify_cdb *c,
			     uint8_t *cdb, size_t cdb_cap);
int mirror_notify_cdb_decode(const struct mirror_profile *p, const uint8_t *cdb, size_t len,
			     struct mirror_notify_cdb *out, struct mirror_findings *f);

/* ---- metadata mirror message (Fig. 3, 1024 bytes) ---- */

#define MIRROR_MD_TYPE_METADATA 0x0001u

struct mirror_sg_element {
	uint32_t nvram_addr; /* bytes */
	uint32_t bytes;
};

struct mirror_metadata {
	uint16_t type;
	uint16_t length;
	uint32_t sequence;
	uint32_t lba;
	uint32_t blocks;
	uint64_t array_serial;
	uint8_t region;
	uint8_t array_number;
	/* Elements before the terminating one (0..64). */
	unsigned sg_count;
	struct mirror_sg_element sg[MIRROR_METADATA_SG_MAX];
};

/* Writes exactly 1024 bytes: the header, a zero pad, sg[0..sg_count) and
 * zeros after them.  MIRROR_E_FIELD_WIDTH if sg_count > 64. */
int mirror_metadata_encode(const struct mirror_metadata *m, uint8_t *buf, size_t cap);

/* Sets type, length and zeroes the rest: a starting point for builders. */
void mirror_metadata_init(struct mirror_metadata *m);

int mirror_metadata_decode(const struct mirror_profile *p, const uint8_t *buf, size_t len,
			   const struct mirror_check_ctx *ctx, struct mirror_metadata *out,
			   struct mirror_findings *f);

/* Expected data-out length of a large-path command: 1024 + blocks * 512. */
uint64_t mirror_large_transfer_length(uint32_t blocks);

#ifdef __cplusplus
}
#endif
#endif
