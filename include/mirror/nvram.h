/* NVRAM model: the receiver's nonvolatile cache, two regions, a validity
 * bit per 512-byte block (source Fig. 2 blocks 212/220, Fig. 5 516/524).
 *
 * Memory is the data plus the bitmap, both owned by the caller (so an
 * emulator can map them from a file); every operation costs time in
 * proportion to the blocks it touches.
 *
 * NVRAM READBACK (harness extension, data-in, default opcode 0xC8):
 *   CDB (12 bytes): 0 opcode, 1 flags (bit 0 VALIDITY ONLY), 2-5 NVRAM byte
 *   address (multiple of 512), 6-9 number of blocks (1..2048), 10 reserved,
 *   11 control.
 *   Response: a 16-byte header (0-3 address, 4-7 number of blocks, 8-11
 *   NVRAM size, 12-15 number of valid blocks in the range), the validity
 *   bitmap (one bit per block, block i at byte i/8 bit 7-(i%8), padded to a
 *   multiple of 4 bytes), then the data unless VALIDITY ONLY.
 */
#ifndef MIRROR_NVRAM_H
#define MIRROR_NVRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mirror/finding.h>
#include <mirror/profile.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mirror_nvram {
	uint8_t *data;
	uint64_t *valid; /* one bit per block */
	uint32_t size;
	uint32_t split;
};

/* Bytes the caller must provide for the bitmap of an NVRAM of size bytes. */
size_t mirror_nvram_bitmap_bytes(uint32_t size);

/* Uses caller memory: data (size bytes) and bitmap
 * (mirror_nvram_bitmap_bytes(size), zeroed = all invalid). */
int mirror_nvram_init(struct mirror_nvram *nv, const struct mirror_profile *p, uint8_t *data,
		      uint64_t *bitmap);

/* -ERANGE unless [addr, addr+bytes) is block-aligned and inside the NVRAM;
 * -EACCES if it is not wholly inside region. */
int mirror_nvram_check_range(const struct mirror_nvram *nv, unsigned region, uint32_t addr,
			     uint32_t bytes);

int mirror_nvram_mark_invalid(struct mirror_nvram *nv, uint32_t addr, uint32_t bytes);
int mirror_nvram_mark_valid(struct mirror_nvram *nv, uint32_t addr, uint32_t bytes);
/* Copies data in; validity is the caller's to set, after all of it came. */
int mirror_nvram_store(struct mirror_nvram *nv, uint32_t addr, const void *src, uint32_t bytes);
int mirror_nvram_load(const struct mirror_nvram *nv, uint32_t addr, void *dst, uint32_t bytes);
bool mirror_nvram_block_valid(const struct mirror_nvram *nv, uint32_t block);
/* Valid blocks in the range, or a negative error. */
int64_t mirror_nvram_count_valid(const struct mirror_nvram *nv, uint32_t addr, uint32_t bytes);

/* ---- NVRAM READBACK ---- */

#define MIRROR_READBACK_CDB_LEN 12u
#define MIRROR_READBACK_HEADER_BYTES 16u
#define MIRROR_READBACK_FLAG_VALIDITY_ONLY 0x01u

struct mirror_readback_cdb {
	uint8_t opcode;
	uint8_t flags;
	uint32_t nvram_addr;
	uint32_t blocks;
};

int mirror_readback_cdb_encode(const struct mirror_profile *p, const struct mirror_readback_cdb *c,
			       uint8_t *cdb, size_t cap);
int mirror_readback_cdb_decode(const struct mirror_profile *p, const uint8_t *cdb, size_t len,
			       struct mirror_readback_cdb *out, struct mirror_findings *f);
/* Bytes of the response for a request. */
size_t mirror_readback_response_len(const struct mirror_readback_cdb *c);
size_t mirror_readback_bitmap_len(uint32_t blocks);
/* Receiver side: build the response from the NVRAM. */
int mirror_readback_build(const struct mirror_nvram *nv, const struct mirror_readback_cdb *c,
			  uint8_t *buf, size_t cap);

struct mirror_readback {
	uint32_t nvram_addr;
	uint32_t blocks;
	uint32_t nvram_size;
	uint32_t valid_blocks;
	const uint8_t *bitmap; /* points into the parsed buffer */
	const uint8_t *data;   /* NULL when VALIDITY ONLY */
};
/* Sender side: parse a response (pointers into buf). */
int mirror_readback_parse(const uint8_t *buf, size_t len, bool validity_only,
			  struct mirror_readback *out);
bool mirror_readback_block_valid(const struct mirror_readback *r, uint32_t i);

/* ---- MIRROR RELEASE (harness extension, data-out, default opcode 0xC7) ----
 *
 * A controller pair's sender tells its partner that ranges it mirrored
 * earlier have been written to the disk array (destaged, source Fig. 2
 * block 223 / Fig. 5 block 536), so the partner's copies are no longer
 * needed: the receiver marks them invalid and will not replay them after a
 * takeover.  Sent on the same session as the mirror operations, so that
 * it arrives before any later operation that reuses the same NVRAM.
 *   CDB (10 bytes): 0 opcode, 1-5 reserved, 6-8 parameter list length,
 *   9 control.
 *   Parameter list: an 8-byte header (0-3 range count, 4-7 reserved), then
 *   count ranges of 8 bytes (0-3 NVRAM byte address, a multiple of 512;
 *   4-7 number of blocks, 1..2048).  Every range lies in the sender's
 *   region; at most 128 ranges. */

#define MIRROR_RELEASE_CDB_LEN 10u
#define MIRROR_RELEASE_HEADER_BYTES 8u
#define MIRROR_RELEASE_RANGE_BYTES 8u
#define MIRROR_RELEASE_RANGES_MAX 128u
#define MIRROR_RELEASE_MAX_BYTES \
	(MIRROR_RELEASE_HEADER_BYTES + MIRROR_RELEASE_RANGES_MAX * MIRROR_RELEASE_RANGE_BYTES)

struct mirror_release_range {
	uint32_t nvram_addr;
	uint32_t blocks;
};

struct mirror_release {
	unsigned count;
	struct mirror_release_range range[MIRROR_RELEASE_RANGES_MAX];
};

int mirror_release_cdb_encode(const struct mirror_profile *p, uint32_t param_len, uint8_t *cdb,
			      size_t cap);
/* *param_len gets the parameter list length. */
int mirror_release_cdb_decode(const struct mirror_profile *p, const uint8_t *cdb, size_t len,
			      uint32_t *param_len, struct mirror_findings *f);
/* Returns the parameter list length, or MIRROR_E_NOSPACE / -EINVAL. */
int mirror_release_encode(const struct mirror_release *r, uint8_t *buf, size_t cap);
/* Decodes and checks a parameter list against the profile and the region
 * its ranges must lie in (the sender's); field pointers in f. */
int mirror_release_decode(const struct mirror_profile *p, unsigned region, const uint8_t *buf,
			  size_t len, struct mirror_release *out, struct mirror_findings *f);

/* ---- NVRAM memory for an emulator (lib/model/nvram_file.c) ----
 *
 * The data and the validity bitmap of mirror_nvram_init(), either anonymous
 * memory (lost at exit) or mapped from a file, so that a restarted emulator
 * sees the same data and validity (mirror-emu --nvram-file).
 *
 * File layout (all offsets and sizes big-endian unless noted):
 *   0   8  magic "MIRRNVR1"
 *   8   4  header length (4096)
 *   12  4  NVRAM size in bytes
 *   16  4  region split (first byte of region 1)
 *   20  4  bitmap length in bytes (mirror_nvram_bitmap_bytes(size))
 *   24  8  bitmap offset (4096)
 *   32  8  data offset (4096 + the bitmap length rounded up to 4096)
 *   40  8  0x0102030405060708 in the host's byte order: the bitmap is
 *          64-bit words in host order, so a file from a host of the other
 *          byte order is refused rather than misread
 *   48  4  FNV-1a of bytes 0-47
 *   52     zero up to the header length
 * then the bitmap, zero padding, and the data; the file is exactly
 * data offset + NVRAM size bytes. */

#define MIRROR_NVRAM_FILE_MAGIC "MIRRNVR1"
#define MIRROR_NVRAM_FILE_HEADER 4096u

struct mirror_nvram_mem {
	uint8_t *data;       /* size bytes */
	uint64_t *bitmap;    /* mirror_nvram_bitmap_bytes(size) bytes */
	uint32_t size, split;
	bool file;           /* mapped from a file */
	bool created;        /* the file was created (or was empty) and formatted */
	/* private */
	void *map_;
	size_t map_len_;
	int fd_;
};

/* path NULL: anonymous memory, all invalid.  Otherwise the file is created
 * (or an empty file formatted) for the profile's NVRAM size and region
 * split, or an existing one is checked against them and mapped: a size or
 * split mismatch, a truncated file or one that is not an NVRAM file is
 * refused, never re-formatted.  The file is locked (flock) while open, so
 * two emulators cannot share it.  Returns 0, or a negative errno with a
 * message naming the file and the problem in why: -EINVAL (not an NVRAM
 * file, damaged header), -ESTALE (size or split differ from the profile),
 * -EBUSY (locked by another process), other -errno from the system. */
int mirror_nvram_mem_open(struct mirror_nvram_mem *m, const struct mirror_profile *p,
			  const char *path, char *why, size_t why_len);
/* Writes a file-backed NVRAM to its file (msync) without closing it. */
int mirror_nvram_mem_sync(struct mirror_nvram_mem *m, char *why, size_t why_len);
/* Syncs (file), unmaps and closes; safe on a zeroed or closed struct. */
int mirror_nvram_mem_close(struct mirror_nvram_mem *m, char *why, size_t why_len);

#ifdef __cplusplus
}
#endif
#endif
