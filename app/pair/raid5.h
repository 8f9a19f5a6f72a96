/* The shared disk array of the emulated controller pair: RAID-5 over N
 * member files in one directory.
 *
 * Source Fig. 1: both active controllers reach one disk array 30 (drives
 * 42..58) over the disk channel 34, and "if one drive fails, the RAID
 * system is able to reconstruct the data which was stored on the failed
 * drive from the remaining drives"; the controllers break user data into
 * chunks, organize the chunks into stripes and write the parity of each
 * stripe to one drive.  Each controller process opens the same directory
 * and destages its cached writes here.
 *
 * ---- Files ----
 * DIR/disk0 .. DIR/disk{N-1}.  Each member starts with a 4 KiB superblock
 * (big-endian fields, the rest zero):
 *     0  magic "MIRRAID5"              40  array serial (8 bytes)
 *     8  format version (1)            48  event count (u64)
 *    12  superblock bytes (4096)       56  failed-member mask (u32)
 *    16  member index                  60  CRC-32C of the 4 KiB block,
 *    20  member count N                    taken with these 4 bytes zero
 *    24  chunk bytes
 *    28  layout (1 = left-symmetric)
 *    32  member data bytes (u64)
 * then the data area: member byte 4096 + s * chunk is the start of stripe
 * s's chunk on that member.  The event count and failed mask are the
 * array's record of failed members: the record with the highest event
 * count among the readable members wins, and a member it names stays
 * failed (its file may be intact but stale) until it is rebuilt.
 *
 * ---- Layout: left-symmetric rotating parity ----
 * Stripe s is chunk row s on every member; it holds N-1 data chunks.  For
 * stripe s:
 *     parity member   P(s)    = (N - 1) - (s mod N)
 *     data chunk d    on member (P(s) + 1 + d) mod N,   d = 0 .. N-2
 * so parity walks from the last member to the first, and the data chunks
 * start on the member after the parity and wrap around.  N = 5:
 *     stripe 0:  D0  D1  D2  D3  P
 *     stripe 1:  D5  D6  D7  P   D4
 *     stripe 2:  D10 D11 P   D8  D9
 *     stripe 3:  D15 P   D12 D13 D14
 *     stripe 4:  P   D16 D17 D18 D19
 * Array byte b (LBA * 512) is in stripe b / ((N-1) * chunk), data chunk
 * (b mod ((N-1) * chunk)) / chunk, at that offset mod chunk.  Parity is
 * the XOR of the stripe's data chunks.  Capacity is
 * (member data bytes / chunk) * (N-1) * chunk bytes.
 *
 * ---- Concurrency contract ----
 * Several processes may have the array open and write at the same time, but
 * never to the same stripe at the same time (the controllers place each
 * volume on whole stripes, mirror_raid5_stripe_blocks(), and only the
 * volume's owner writes it; a read of a stripe another process is writing
 * may see old or new blocks, and, degraded, a reconstruction from half of
 * each).  Every read and write is self-contained: no global lock, nothing
 * (parity included) is cached across calls, and a write touches only its
 * own stripes' chunk rows.  The only shared state is the failure record in
 * the superblocks; updating it takes flock() on the directory, and re-reads
 * the record first so that two processes' findings add up.  A process
 * learns of a failure recorded by another at its next open or
 * mirror_raid5_refresh(): the partner calls it when it takes over a volume,
 * and every other opener calls it after a rebuild before it writes again
 * (until then it still skips the rebuilt member, which goes stale on that
 * opener's stripes).  Scrub and rebuild read whole stripes and need the
 * other writers quiet.  No write-hole protection: a crash between a data
 * and a parity write leaves the stripe inconsistent; the controllers'
 * mirrored NVRAM replays the write (source Fig. 2), which repairs it.
 *
 * Errors: negative errno, with the reason in why (mirror_strerror() names
 * the code).  Not thread-safe: one handle per thread of control. */
#ifndef MIRROR_APP_PAIR_RAID5_H
#define MIRROR_APP_PAIR_RAID5_H

#include <stddef.h>
#include <stdint.h>

#define MIRROR_RAID5_SECTOR 512u
#define MIRROR_RAID5_SUPERBLOCK 4096u
#define MIRROR_RAID5_MIN_MEMBERS 3u
#define MIRROR_RAID5_MAX_MEMBERS 16u
#define MIRROR_RAID5_DEFAULT_MEMBERS 5u
#define MIRROR_RAID5_MIN_CHUNK 4096u
#define MIRROR_RAID5_MAX_CHUNK (1024u * 1024u)
#define MIRROR_RAID5_DEFAULT_CHUNK (64u * 1024u)
/* 64 PiB per member keeps every offset inside off_t. */
#define MIRROR_RAID5_MAX_MEMBER_BYTES (1ull << 56)

enum mirror_raid5_state {
	MIRROR_RAID5_OPTIMAL = 0,
	MIRROR_RAID5_DEGRADED = 1,
	MIRROR_RAID5_FAILED = 2
};

struct mirror_raid5_geometry {
	unsigned members;      /* N, 3..16; 0 = 5 */
	uint32_t chunk_bytes;  /* power of two, 4 KiB..1 MiB; 0 = 64 KiB */
	uint64_t member_bytes; /* data area of each member: a nonzero multiple of chunk_bytes */
	int overwrite;         /* create: replace an array already in the directory */
};

/* Member I/O this handle has issued (system calls, bytes): what a small
 * write costs, for tests and the controllers' statistics. */
struct mirror_raid5_counters {
	uint64_t reads, writes;
	uint64_t read_bytes, write_bytes;
};

struct mirror_raid5;

/* Makes DIR (one level, if missing) and a fresh array in it: sparse,
 * zero-filled members, so every stripe's parity is already right.  Refuses
 * (-EEXIST) when any DIR/diskI exists, unless g->overwrite; overwriting
 * also removes members beyond the new N. */
int mirror_raid5_create(const char *dir, const struct mirror_raid5_geometry *g, char *why,
			size_t why_len);
/* Opens the array in DIR, optimal or degraded.  -ENOENT: no array there;
 * -EIO: two or more members failed ("disk1: missing; disk3: superblock
 * checksum wrong").  A failure found here is recorded in the other
 * members' superblocks. */
int mirror_raid5_open(const char *dir, struct mirror_raid5 **out, char *why, size_t why_len);
void mirror_raid5_close(struct mirror_raid5 *r);

/* Capacity in 512-byte blocks; data blocks per stripe. */
uint64_t mirror_raid5_blocks(const struct mirror_raid5 *r);
uint32_t mirror_raid5_stripe_blocks(const struct mirror_raid5 *r);
void mirror_raid5_geometry(const struct mirror_raid5 *r, struct mirror_raid5_geometry *g);
void mirror_raid5_serial(const struct mirror_raid5 *r, uint8_t serial[8]);

/* -ERANGE (the LBA in why) beyond the capacity; -EIO when the array has
 * failed.  A member that fails I/O is marked failed and the operation goes
 * on degraded. */
int mirror_raid5_read(struct mirror_raid5 *r, uint64_t lba, uint32_t blocks, void *buf, char *why,
		      size_t why_len);
int mirror_raid5_write(struct mirror_raid5 *r, uint64_t lba, uint32_t blocks, const void *buf,
		       char *why, size_t why_len);
/* fdatasync of every live member. */
int mirror_raid5_flush(struct mirror_raid5 *r, char *why, size_t why_len);

/* enum mirror_raid5_state; *failed_member (if given) = the failed member,
 * the lowest one when FAILED, -1 when OPTIMAL. */
int mirror_raid5_state(const struct mirror_raid5 *r, int *failed_member);
/* Why member m is failed ("missing", "read error at byte ..."), or NULL. */
const char *mirror_raid5_member_why(const struct mirror_raid5 *r, unsigned member);
/* Fault injection: member is failed from now on (and in the record, so a
 * reopen keeps it failed).  -EINVAL for a member beyond N. */
int mirror_raid5_fail_member(struct mirror_raid5 *r, unsigned member);
/* Re-reads the failure record (another process's findings, its rebuilds). */
int mirror_raid5_refresh(struct mirror_raid5 *r, char *why, size_t why_len);
void mirror_raid5_counters(const struct mirror_raid5 *r, struct mirror_raid5_counters *c);

/* Checks the parity of every stripe: 0 when all agree, 1 and
 * *first_bad_stripe (and why) at the first that does not; -EIO when the
 * array is not optimal (nothing to check against). */
int mirror_raid5_scrub(struct mirror_raid5 *r, uint64_t *first_bad_stripe, char *why,
		       size_t why_len);
/* Rewrites DIR/disk<member> (a fresh file, or the old one) from the other
 * members, then records it as good: the array is optimal again.  In a
 * degraded array only the failed member can be rebuilt (-EINVAL). */
int mirror_raid5_rebuild(struct mirror_raid5 *r, unsigned member, char *why, size_t why_len);

#endif
