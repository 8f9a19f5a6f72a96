/* Internal to app/pair/raid5*.c: the handle, the superblock record and the
 * helpers the I/O half (raid5.c) and the metadata half (raid5_super.c)
 * share.  Layout and contract: raid5.h. */
#ifndef MIRROR_APP_PAIR_RAID5_INT_H
#define MIRROR_APP_PAIR_RAID5_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/pair/raid5.h"

#define RAID5_REASON_LEN 160

/* One member's superblock, decoded (raid5.h lists the bytes). */
struct raid5_super {
	unsigned index, count;
	uint32_t chunk;
	uint64_t member_bytes;
	uint8_t serial[8];
	uint64_t events;
	uint32_t failed; /* mask of failed members */
};

struct mirror_raid5 {
	char *dir;
	int dirfd;
	unsigned n;
	uint32_t chunk;
	uint64_t member_bytes, stripes;
	uint8_t serial[8];
	uint64_t events; /* of the failure record this handle last read or wrote */
	int fd[MIRROR_RAID5_MAX_MEMBERS]; /* -1 for a failed member */
	uint32_t failed;                  /* mask */
	char reason[MIRROR_RAID5_MAX_MEMBERS][RAID5_REASON_LEN];
	/* Scratch for parity and reconstruction, grown to the largest request
	 * seen; its contents never outlive a call. */
	uint8_t *scratch;
	size_t scratch_len;
	struct mirror_raid5_counters ctr;
};

static inline bool raid5_live(const struct mirror_raid5 *r, unsigned m)
{
	return !(r->failed >> m & 1u);
}

static inline unsigned raid5_nfailed(const struct mirror_raid5 *r)
{
	return (unsigned)__builtin_popcount(r->failed);
}

/* Marks member m failed in this handle only (closes its descriptor). */
void raid5_set_failed(struct mirror_raid5 *r, unsigned m, const char *reason);
/* Same, then records the failure in the other members' superblocks. */
void raid5_note_failure(struct mirror_raid5 *r, unsigned m, const char *reason);
/* Writes the failure record to every live member after merging what
 * other processes recorded; rebuilt (or -1) is the member a rebuild has
 * just rewritten: cleared from the record and written last. */
void raid5_record(struct mirror_raid5 *r, int rebuilt);
/* "disk1: missing; disk3: superblock checksum wrong" for the failed mask. */
void raid5_failed_list(const struct mirror_raid5 *r, char *buf, size_t len);

/* pread/pwrite of exactly len bytes at off, through EINTR and short
 * transfers: 0, -errno, or -ENODATA (read) / -ENOSPC (write) at the end
 * of the file. */
int raid5_io_full(int fd, bool write, void *buf, size_t len, uint64_t off);
uint8_t *raid5_scratch(struct mirror_raid5 *r, size_t len);

#endif
