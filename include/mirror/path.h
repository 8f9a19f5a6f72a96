/* Path choice (source Fig. 7, blocks 700-720) and the sender's splitter
 * (Fig. 3: "breaks the user data into separate pieces which are 1 Mbyte or
 * less").  Pure functions over caller-owned structs. */
#ifndef MIRROR_PATH_H
#define MIRROR_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mirror/codec.h>
#include <mirror/profile.h>

#ifdef __cplusplus
extern "C" {
#endif

enum mirror_path { MIRROR_PATH_SMALL = 0, MIRROR_PATH_LARGE = 1 };

const char *mirror_path_name(enum mirror_path p); /* "small" / "large" */

/* Why Fig. 7 chose the path; the first condition that failed, in the
 * figure's order. */
enum mirror_path_reason {
	MIRROR_REASON_SMALL_OK = 0,       /* block 720 */
	MIRROR_REASON_TOO_MANY_ELEMENTS,  /* block 700 -> 704 */
	MIRROR_REASON_RECOVERY,           /* block 708 -> 704 */
	MIRROR_REASON_PARTNER_UNINIT,     /* block 712 -> 704 */
	MIRROR_REASON_HIGH_BITS_DIFFER,   /* block 716 -> 704 */
	MIRROR_REASON_DESCRIPTOR_WIDTH,   /* 18-bit layout: address beyond 128 MiB */
	MIRROR_REASON_FORCED              /* caller asked for a path */
};

/* What the sender knows about itself and its partner (Fig. 7, 708/712). */
struct mirror_sender_state {
	bool recovery;            /* in error recovery mode */
	bool partner_initialized; /* partner's array table is current */
};

struct mirror_path_choice {
	enum mirror_path path;
	enum mirror_path_reason reason;
	char text[96]; /* "large: needs 3 S/G elements", ... */
};

/* Fig. 7 over an S/G list of NVRAM extents (each <= 16 KiB). */
void mirror_path_choose(const struct mirror_profile *p, const struct mirror_sg_element *sg,
			unsigned n, const struct mirror_sender_state *s,
			struct mirror_path_choice *out);

/* ---- splitter ---- */

enum mirror_path_policy { MIRROR_POLICY_AUTO = 0, MIRROR_POLICY_SMALL, MIRROR_POLICY_LARGE };

/* One host write to be mirrored.  The data sits in the sender's NVRAM
 * region from nvram_addr on, contiguous, wrapping to the start of the
 * region at its end (a write cache is a ring). */
struct mirror_write {
	uint32_t lba;
	uint64_t bytes; /* multiple of 512, > 0 */
	uint32_t nvram_addr;
	unsigned region;
	uint8_t volume;        /* small path */
	uint64_t array_serial; /* large path */
	uint8_t array_number;  /* large path */
};

/* One mirror operation. */
struct mirror_op {
	enum mirror_path path;
	struct mirror_path_choice why;
	uint32_t lba;
	uint32_t blocks;
	uint32_t sequence; /* large path only; small ops carry none */
	uint64_t data_offset; /* of this op's data within the write */
	unsigned region;
	unsigned sg_count;
	struct mirror_sg_element sg[MIRROR_METADATA_SG_MAX];
};

struct mirror_splitter {
	const struct mirror_profile *profile;
	struct mirror_write w;
	struct mirror_sender_state state;
	enum mirror_path_policy policy;
	uint64_t done;          /* bytes already handed out */
	uint32_t next_sequence; /* next large-path sequence number */
};

/* -EINVAL (with reason in why) for a write that cannot be mirrored: size
 * 0 or not a multiple of 512, LBA + blocks beyond 2^32, NVRAM address
 * unaligned or outside the region, a write larger than the region. */
int mirror_split_init(struct mirror_splitter *sp, const struct mirror_profile *p,
		      const struct mirror_write *w, const struct mirror_sender_state *s,
		      enum mirror_path_policy policy, uint32_t first_sequence, char *why,
		      size_t why_len);

/* Fills the next op and returns 1, or returns 0 when the write is done. */
int mirror_split_next(struct mirror_splitter *sp, struct mirror_op *op);

/* The wire form of an op: for the small path the CDB; for the large path
 * the notification CDB and the 1024-byte metadata.  Returns the CDB length.
 * MIRROR_E_FIELD_WIDTH if a forced small op cannot be encoded. */
int mirror_op_encode(const struct mirror_profile *p, const struct mirror_op *op,
		     const struct mirror_write *w, uint8_t *cdb, size_t cdb_cap,
		     uint8_t metadata[MIRROR_METADATA_BYTES]);

/* Small CDB struct for a list of extents (descriptors = address / 512). */
int mirror_small_cdb_from_sg(const struct mirror_profile *p, unsigned region, uint8_t volume,
			     uint32_t lba, const struct mirror_sg_element *sg, unsigned n,
			     struct mirror_small_cdb *out);

#ifdef __cplusplus
}
#endif
#endif
