/* The options of the wire profile (wire-profile.md, mirror-protocol(7)).
 *
 * One struct carries every choice the source leaves open, so that encoders,
 * decoders, the emulator and the capture decoder agree by construction.
 */
#ifndef MIRROR_PROFILE_H
#define MIRROR_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MIRROR_BLOCK_SIZE 512u
#define MIRROR_NVRAM_DEFAULT_SIZE (128u * 1024u * 1024u)
#define MIRROR_NVRAM_MAX_SIZE (512u * 1024u * 1024u)
#define MIRROR_SG_ELEMENT_MAX_BYTES 16384u
#define MIRROR_SG_ELEMENT_MAX_BLOCKS 32u
#define MIRROR_METADATA_SG_MAX 64u
#define MIRROR_METADATA_BYTES 1024u
#define MIRROR_LARGE_MAX_BLOCKS 2048u /* 64 elements x 16 KiB = 1 MiB */
#define MIRROR_NOTIFY_CDB_LEN 10u
#define MIRROR_SMALL_SG_MAX 4u         /* the 16-byte variant's four elements */

/* How the small-write CDB packs its descriptors (source Fig. 6 and its
 * closing alternatives). */
enum mirror_small_layout {
	/* 12 bytes, 20-bit descriptors sharing their upper 4 bits (Fig. 6). */
	MIRROR_SMALL_CDB12_20BIT = 0,
	/* 12 bytes, an 18-bit descriptor per element, no shared bits (the
	 * source's "one 18 bit field for each descriptor"): NVRAM <= 128 MiB. */
	MIRROR_SMALL_CDB12_18BIT = 1,
	/* 16 bytes, up to 4 elements (64 KiB), 20-bit descriptors sharing
	 * their upper 8 bits (the source's "CDB of greater than 12 bytes"). */
	MIRROR_SMALL_CDB16 = 2
};

struct mirror_opcodes {
	uint8_t notify;       /* large path notification CDB, default 0x3C */
	uint8_t small_a_to_b; /* small write into region 0, default 0xA0 */
	uint8_t small_b_to_a; /* small write into region 1, default 0xB0 */
	uint8_t table_update; /* ARRAY TABLE UPDATE (harness), default 0xC6 */
	uint8_t readback;     /* NVRAM READBACK (harness), default 0xC8 */
	uint8_t release;      /* MIRROR RELEASE (harness, a pair's destage), default 0xC7 */
};

struct mirror_profile {
	const char *name;
	struct mirror_opcodes op;
	enum mirror_small_layout small_layout;
	uint32_t nvram_size;   /* bytes, multiple of 512, <= 512 MiB */
	uint32_t region_split; /* first byte of region 1; region 0 is below */
	/* A strict receiver rejects non-zero bytes 1-9 of the notification
	 * CDB; a lenient one (the source's) ignores them. */
	bool strict;
};

/* The v1 defaults: 0x3C/0xA0/0xB0/0xC6/0xC8, 12-byte 20-bit small CDB,
 * 128 MiB NVRAM split in halves, lenient. */
void mirror_profile_init(struct mirror_profile *p);

/* Named profiles ("v1", "v1-18bit", "v1-cdb16", "vendor", ...): fills *p and
 * returns 0, or -ENOENT.  mirror_profile_name_at() enumerates them (NULL
 * past the end) for --help texts. */
int mirror_profile_by_name(const char *name, struct mirror_profile *p);
const char *mirror_profile_name_at(size_t i);
const char *mirror_profile_summary_at(size_t i);

/* Sets the opcodes from "NOTIFY,SMALL_A,SMALL_B,TABLE,READBACK[,RELEASE]"
 * in hex (e.g. "3c,a0,b0,c6,c8" or "3c,a0,b0,c6,c8,c7"); the name becomes
 * "custom".  -EINVAL with a reason in why. */
int mirror_profile_set_opcodes(struct mirror_profile *p, const char *list, char *why,
			       size_t why_len);

/* The profile options every command takes, as given on its command line
 * (NULL: not given): --profile, --opcodes, --nvram-size, --region-split,
 * --strict.  The split defaults to half a given NVRAM size. */
struct mirror_profile_options {
	const char *name;
	const char *opcodes;
	const char *nvram_size;
	const char *region_split;
	bool strict;
};

/* Builds and checks the profile; -EINVAL with a message naming the option
 * at fault in why. */
int mirror_profile_from_options(const struct mirror_profile_options *o, struct mirror_profile *p,
				char *why, size_t why_len);

/* 0, or MIRROR_E_PROFILE with a reason in why (if why_len > 0). */
int mirror_profile_check(const struct mirror_profile *p, char *why, size_t why_len);

/* Small-write CDB length for the profile's layout (12 or 16). */
unsigned mirror_small_cdb_len(const struct mirror_profile *p);
/* Most elements a small write can carry (2 or 4). */
unsigned mirror_small_sg_max(const struct mirror_profile *p);

/* Region boundaries: [start, end) in bytes.  region is 0 or 1. */
uint32_t mirror_region_start(const struct mirror_profile *p, unsigned region);
uint32_t mirror_region_end(const struct mirror_profile *p, unsigned region);

/* The region a small opcode writes to (0 or 1), or -1 if op is neither. */
int mirror_small_opcode_region(const struct mirror_profile *p, uint8_t op);
uint8_t mirror_small_opcode_for_region(const struct mirror_profile *p, unsigned region);

/* Which mirror command an opcode is under this profile. */
enum mirror_command {
	MIRROR_CMD_NONE = 0,
	MIRROR_CMD_NOTIFY,
	MIRROR_CMD_SMALL,
	MIRROR_CMD_TABLE_UPDATE,
	MIRROR_CMD_READBACK,
	MIRROR_CMD_RELEASE
};
enum mirror_command mirror_command_of(const struct mirror_profile *p, uint8_t op);

/* Parse a byte size with optional K/M/G (binary) suffix, e.g. "128M". */
int mirror_parse_size(const char *s, uint64_t *out);
/* A count for an option: decimal or 0x hex (never octal, never a sign),
 * within min..max.  0, or -EINVAL (not a number) / -ERANGE (outside). */
int mirror_parse_count(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* A decimal number (e.g. seconds, a rate) within min..max, the same codes. */
int mirror_parse_double(const char *s, double min, double max, double *out);

#ifdef __cplusplus
}
#endif
#endif
