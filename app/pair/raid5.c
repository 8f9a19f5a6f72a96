/* The disk array's data path: reads (reconstructed around a failed
 * member), writes (full stripe, read-modify-write, reconstruct-write),
 * scrub and rebuild.  Source Fig. 1: the controllers organize the chunks
 * into stripes and write each stripe's parity to one drive; with one
 * drive failed the data is rebuilt from the others.  Layout and the
 * concurrency contract: raid5.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/pair/raid5_int.h"
#include "base/why.h"

#define SB MIRROR_RAID5_SUPERBLOCK
#define SECTOR MIRROR_RAID5_SECTOR
/* Internal: a read failed a member mid-stripe and nothing was written
 * yet, so the stripe is done again the degraded way. */
#define RETRY 1

/* One contiguous run of the caller's bytes inside one chunk. */
struct piece {
	unsigned member;
	uint32_t off, len; /* within the chunk */
	uint8_t *buf;
};

static uint64_t stripe_bytes(const struct mirror_raid5 *r)
{
	return (uint64_t)(r->n - 1) * r->chunk;
}

/* Left-symmetric (raid5.h): parity from the last member down, data from
 * the member after the parity, wrapping. */
static unsigned parity_member(const struct mirror_raid5 *r, uint64_t s)
{
	return r->n - 1 - (unsigned)(s % r->n);
}

static unsigned data_member(const struct mirror_raid5 *r, uint64_t s, unsigned d)
{
	return (parity_member(r, s) + 1 + d) % r->n;
}

static void xor_into(uint8_t *dst, const uint8_t *src, size_t len)
{
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t a, b;

		memcpy(&a, dst + i, 8);
		memcpy(&b, src + i, 8);
		a ^= b;
		memcpy(dst + i, &a, 8);
	}
	for (; i < len; i++)
		dst[i] ^= src[i];
}

uint8_t *raid5_scratch(struct mirror_raid5 *r, size_t len)
{
	if (len > r->scratch_len) {
		uint8_t *p = realloc(r->scratch, len);

		if (!p)
			return NULL;
		r->scratch = p;
		r->scratch_len = len;
	}
	return r->scratch;
}

/* Member m's bytes at off of stripe s's chunk.  A failure marks the
 * member failed (and records it) and returns -EIO. */
static int member_io(struct mirror_raid5 *r, unsigned m, bool write, void *buf, size_t len,
		     uint64_t s, uint32_t off)
{
	uint64_t at = SB + s * r->chunk + off;
	char reason[RAID5_REASON_LEN];
	int rc;

	if (!raid5_live(r, m))
		return -EIO;
	rc = raid5_io_full(r->fd[m], write, buf, len, at);
	if (write) {
		r->ctr.writes++;
		r->ctr.write_bytes += len;
	} else {
		r->ctr.reads++;
		r->ctr.read_bytes += len;
	}
	if (!rc)
		return 0;
	if (rc == -ENODATA)
		snprintf(reason, sizeof(reason), "end of file reading byte %" PRIu64 " (truncated)",
			 at);
	else
		snprintf(reason, sizeof(reason), "%s error at byte %" PRIu64 ": %s",
			 write ? "write" : "read", at, strerror(-rc));
	raid5_note_failure(r, m, reason);
	return -EIO;
}

/* The caller's bytes [a, b) of stripe s (data bytes, chunk 0 first) as
 * pieces, one per chunk touched. */
static unsigned stripe_pieces(const struct mirror_raid5 *r, uint64_t s, uint64_t a, uint64_t b,
			      uint8_t *buf, struct piece *pc)
{
	unsigned k = 0;

	while (a < b) {
		unsigned d = (unsigned)(a / r->chunk);
		uint32_t off = (uint32_t)(a % r->chunk);
		uint32_t len = (uint32_t)(b - a < r->chunk - off ? b - a : r->chunk - off);

		pc[k++] = (struct piece){data_member(r, s, d), off, len, buf};
		buf += len;
		a += len;
	}
	return k;
}

/* Member m's bytes of one piece from the other members: their XOR. */
static int reconstruct(struct mirror_raid5 *r, uint64_t s, unsigned m, uint32_t off,
		       uint32_t len, uint8_t *dst)
{
	uint8_t *tmp = raid5_scratch(r, len);

	if (!tmp)
		return -ENOMEM;
	memset(dst, 0, len);
	for (unsigned x = 0; x < r->n; x++) {
		if (x == m)
			continue;
		if (member_io(r, x, false, tmp, len, s, off))
			return -EIO;
		xor_into(dst, tmp, len);
	}
	return 0;
}

static int read_stripe(struct mirror_raid5 *r, uint64_t s, const struct piece *pc, unsigned k)
{
	for (unsigned i = 0; i < k; i++) {
		int rc;

		if (raid5_live(r, pc[i].member) &&
		    !member_io(r, pc[i].member, false, pc[i].buf, pc[i].len, s, pc[i].off))
			continue;
		if (raid5_nfailed(r) >= 2)
			return -EIO;
		rc = reconstruct(r, s, pc[i].member, pc[i].off, pc[i].len, pc[i].buf);
		if (rc)
			return rc;
	}
	return 0;
}

/* All N-1 chunks new: parity from the new data alone, no reads.  A failed
 * data member is skipped; the parity carries its chunk. */
static int write_full(struct mirror_raid5 *r, uint64_t s, const struct piece *pc, unsigned k)
{
	uint8_t *par = raid5_scratch(r, r->chunk);
	unsigned p = parity_member(r, s);

	if (!par)
		return -ENOMEM;
	memcpy(par, pc[0].buf, r->chunk);
	for (unsigned i = 1; i < k; i++)
		xor_into(par, pc[i].buf, r->chunk);
	for (unsigned i = 0; i < k; i++)
		if (raid5_live(r, pc[i].member))
			member_io(r, pc[i].member, true, pc[i].buf, r->chunk, s, 0);
	if (raid5_live(r, p))
		member_io(r, p, true, par, r->chunk, s, 0);
	return raid5_nfailed(r) >= 2 ? -EIO : 0;
}

/* Part of a stripe: new parity = old parity ^ old data ^ new data over the
 * columns [lo, hi) the pieces cover (read-modify-write: a 4 KiB write
 * reads 4 KiB of data and of parity and writes both).  When a touched
 * member has failed, its old bytes are unknown, so its columns of parity
 * are computed afresh from the new bytes and the other members' old ones
 * (reconstruct-write); RMW then goes on for the other pieces. */
static int write_partial(struct mirror_raid5 *r, uint64_t s, const struct piece *pc, unsigned k)
{
	unsigned p = parity_member(r, s);
	uint32_t lo = pc[0].off, hi = pc[0].off + pc[0].len, plen;
	uint8_t *par, *acc, *old;
	int f = -1;

	if (!raid5_live(r, p)) {
		/* No parity to keep: the data alone. */
		for (unsigned i = 0; i < k; i++)
			member_io(r, pc[i].member, true, pc[i].buf, pc[i].len, s, pc[i].off);
		return raid5_nfailed(r) >= 2 ? -EIO : 0;
	}
	for (unsigned i = 0; i < k; i++) {
		lo = pc[i].off < lo ? pc[i].off : lo;
		hi = pc[i].off + pc[i].len > hi ? pc[i].off + pc[i].len : hi;
		if (!raid5_live(r, pc[i].member))
			f = (int)i;
	}
	plen = hi - lo;
	par = raid5_scratch(r, 3 * (size_t)plen);
	if (!par)
		return -ENOMEM;
	acc = par + plen;
	old = acc + plen;
	if (member_io(r, p, false, par, plen, s, lo))
		return RETRY;
	if (f >= 0) {
		const struct piece *q = &pc[f];

		memcpy(acc, q->buf, q->len);
		for (unsigned d = 0; d + 1 < r->n; d++) {
			unsigned m = data_member(r, s, d);

			if (m == q->member)
				continue;
			if (member_io(r, m, false, old, q->len, s, q->off))
				return RETRY;
			xor_into(acc, old, q->len);
		}
		memcpy(par + (q->off - lo), acc, q->len);
	}
	for (unsigned i = 0; i < k; i++) {
		if ((int)i == f)
			continue;
		if (member_io(r, pc[i].member, false, old, pc[i].len, s, pc[i].off))
			return RETRY;
		xor_into(par + (pc[i].off - lo), old, pc[i].len);
		xor_into(par + (pc[i].off - lo), pc[i].buf, pc[i].len);
	}
	for (unsigned i = 0; i < k; i++)
		if ((int)i != f)
			member_io(r, pc[i].member, true, pc[i].buf, pc[i].len, s, pc[i].off);
	member_io(r, p, true, par, plen, s, lo);
	return raid5_nfailed(r) >= 2 ? -EIO : 0;
}

static int write_stripe(struct mirror_raid5 *r, uint64_t s, const struct piece *pc, unsigned k,
			bool full)
{
	int rc;

	/* Each retry follows a new failure, so this ends by the second. */
	do {
		if (raid5_nfailed(r) >= 2)
			return -EIO;
		rc = full ? write_full(r, s, pc, k) : write_partial(r, s, pc, k);
	} while (rc == RETRY);
	return rc;
}

static int range_check(const struct mirror_raid5 *r, const char *what, uint64_t lba,
		       uint32_t blocks, const void *buf, char *why, size_t why_len)
{
	uint64_t cap = mirror_raid5_blocks(r);

	if (lba > cap || blocks > cap - lba)
		return mirror_fail(-ERANGE, why, why_len,
				   "%s of %" PRIu32 " blocks at LBA %" PRIu64
				   " is beyond the array's %" PRIu64 " blocks",
				   what, blocks, lba, cap);
	if (blocks && !buf)
		return mirror_fail(-EINVAL, why, why_len, "%s at LBA %" PRIu64 ": no buffer", what,
				   lba);
	return 0;
}

static int io_failed(const struct mirror_raid5 *r, int rc, const char *what, uint64_t lba,
		     char *why, size_t why_len)
{
	char list[1024];

	if (rc == -ENOMEM)
		return mirror_fail(rc, why, why_len, "%s at LBA %" PRIu64 ": out of memory", what,
				   lba);
	raid5_failed_list(r, list, sizeof(list));
	return mirror_fail(-EIO, why, why_len, "%s at LBA %" PRIu64 ": %s: array has failed: %s",
			   what, lba, r->dir, list);
}

typedef int stripe_fn(struct mirror_raid5 *r, uint64_t s, const struct piece *pc, unsigned k,
		      bool full);

static int read_fn(struct mirror_raid5 *r, uint64_t s, const struct piece *pc, unsigned k,
		   bool full)
{
	(void)full;
	return read_stripe(r, s, pc, k);
}

/* Splits the request by stripe and hands each stripe's pieces to fn. */
static int each_stripe(struct mirror_raid5 *r, const char *what, uint64_t lba, uint32_t blocks,
		       uint8_t *buf, stripe_fn *fn, char *why, size_t why_len)
{
	uint64_t sb = stripe_bytes(r), pos = lba * SECTOR, end = pos + (uint64_t)blocks * SECTOR;
	struct piece pc[MIRROR_RAID5_MAX_MEMBERS];

	if (raid5_nfailed(r) >= 2)
		return io_failed(r, -EIO, what, lba, why, why_len);
	while (pos < end) {
		uint64_t s = pos / sb, a = pos % sb, b = end - pos < sb - a ? a + (end - pos) : sb;
		unsigned k = stripe_pieces(r, s, a, b, buf, pc);
		int rc = fn(r, s, pc, k, a == 0 && b == sb);

		if (rc)
			return io_failed(r, rc, what, pos / SECTOR, why, why_len);
		buf += b - a;
		pos += b - a;
	}
	return 0;
}

int mirror_raid5_read(struct mirror_raid5 *r, uint64_t lba, uint32_t blocks, void *buf, char *why,
		      size_t why_len)
{
	int rc = range_check(r, "read", lba, blocks, buf, why, why_len);

	return rc ? rc : each_stripe(r, "read", lba, blocks, buf, read_fn, why, why_len);
}

int mirror_raid5_write(struct mirror_raid5 *r, uint64_t lba, uint32_t blocks, const void *buf,
		       char *why, size_t why_len)
{
	int rc = range_check(r, "write", lba, blocks, buf, why, why_len);

	/* The pieces point into the caller's bytes; writes only read them. */
	return rc ? rc
		  : each_stripe(r, "write", lba, blocks, (uint8_t *)(uintptr_t)buf, write_stripe,
				why, why_len);
}

int mirror_raid5_flush(struct mirror_raid5 *r, char *why, size_t why_len)
{
	char reason[RAID5_REASON_LEN];

	for (unsigned m = 0; m < r->n; m++)
		if (raid5_live(r, m) && fdatasync(r->fd[m]) < 0) {
			snprintf(reason, sizeof(reason), "fdatasync: %s", strerror(errno));
			raid5_note_failure(r, m, reason);
		}
	return raid5_nfailed(r) >= 2 ? io_failed(r, -EIO, "flush", 0, why, why_len) : 0;
}

/* Why a whole-stripe pass (scrub, rebuild) cannot go on. */
static int not_optimal(const struct mirror_raid5 *r, const char *what, char *why, size_t why_len)
{
	char list[1024];

	raid5_failed_list(r, list, sizeof(list));
	return mirror_fail(-EIO, why, why_len, "%s: %s: %s %s", what, r->dir,
			   raid5_nfailed(r) >= 2 ? "array has failed:" : "array is degraded, no parity to check:",
			   list);
}

int mirror_raid5_scrub(struct mirror_raid5 *r, uint64_t *first_bad_stripe, char *why,
		       size_t why_len)
{
	uint8_t *acc, *tmp;

	if (r->failed)
		return not_optimal(r, "scrub", why, why_len);
	acc = raid5_scratch(r, 2 * (size_t)r->chunk);
	if (!acc)
		return mirror_fail(-ENOMEM, why, why_len, "scrub: out of memory");
	tmp = acc + r->chunk;
	for (uint64_t s = 0; s < r->stripes; s++) {
		memset(acc, 0, r->chunk);
		for (unsigned m = 0; m < r->n; m++) {
			if (member_io(r, m, false, tmp, r->chunk, s, 0))
				return mirror_fail(-EIO, why, why_len, "scrub stopped at stripe %" PRIu64
						   ": disk%u: %s", s, m, r->reason[m]);
			xor_into(acc, tmp, r->chunk);
		}
		for (uint32_t i = 0; i < r->chunk; i++)
			if (acc[i]) {
				if (first_bad_stripe)
					*first_bad_stripe = s;
				mirror_fail(1, why, why_len,
					    "stripe %" PRIu64 ": parity (disk%u) differs from the data at chunk byte %" PRIu32,
					    s, parity_member(r, s), i);
				return 1;
			}
	}
	return 0;
}

int mirror_raid5_rebuild(struct mirror_raid5 *r, unsigned member, char *why, size_t why_len)
{
	char name[16];
	uint8_t *acc, *tmp;
	int fd, rc = 0;

	if (member >= r->n)
		return mirror_fail(-EINVAL, why, why_len, "rebuild: member %u: the array has disk0..disk%u",
				   member, r->n - 1);
	if (raid5_nfailed(r) >= 2)
		return not_optimal(r, "rebuild", why, why_len);
	if (r->failed && raid5_live(r, member))
		return mirror_fail(-EINVAL, why, why_len,
				   "rebuild: disk%u is not the failed member (disk%d is: %s)", member,
				   __builtin_ctz(r->failed), r->reason[__builtin_ctz(r->failed)]);
	acc = raid5_scratch(r, 2 * (size_t)r->chunk);
	if (!acc)
		return mirror_fail(-ENOMEM, why, why_len, "rebuild: out of memory");
	tmp = acc + r->chunk;
	snprintf(name, sizeof(name), "disk%u", member);
	fd = openat(r->dirfd, name, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0)
		return mirror_fail(-errno, why, why_len, "rebuild: %s/%s: %s", r->dir, name,
				   strerror(errno));
	if (ftruncate(fd, (off_t)(SB + r->member_bytes)) < 0) {
		rc = -errno;
		goto out;
	}
	for (uint64_t s = 0; s < r->stripes; s++) {
		memset(acc, 0, r->chunk);
		for (unsigned x = 0; x < r->n; x++) {
			if (x == member)
				continue;
			if (member_io(r, x, false, tmp, r->chunk, s, 0)) {
				close(fd);
				return mirror_fail(-EIO, why, why_len,
						   "rebuild of disk%u stopped at stripe %" PRIu64
						   ": disk%u: %s", member, s, x, r->reason[x]);
			}
			xor_into(acc, tmp, r->chunk);
		}
		rc = raid5_io_full(fd, true, acc, r->chunk, SB + s * r->chunk);
		r->ctr.writes++;
		r->ctr.write_bytes += r->chunk;
		if (rc)
			goto out;
	}
	if (fdatasync(fd) < 0) {
		rc = -errno;
		goto out;
	}
	/* The new file replaces the old descriptor, then the record says the
	 * member is good (raid5_record writes its superblock last). */
	if (r->fd[member] >= 0)
		close(r->fd[member]);
	r->fd[member] = fd;
	r->failed &= ~(1u << member);
	r->reason[member][0] = '\0';
	raid5_record(r, (int)member);
	if (!raid5_live(r, member))
		return mirror_fail(-EIO, why, why_len, "rebuild: disk%u: %s", member,
				   r->reason[member]);
	return 0;
out:
	close(fd);
	return mirror_fail(rc, why, why_len, "rebuild: %s/%s: %s", r->dir, name, strerror(-rc));
}

int mirror_raid5_fail_member(struct mirror_raid5 *r, unsigned member)
{
	if (member >= r->n)
		return -EINVAL;
	raid5_note_failure(r, member, "failed by request");
	return 0;
}

int mirror_raid5_state(const struct mirror_raid5 *r, int *failed_member)
{
	if (failed_member)
		*failed_member = r->failed ? __builtin_ctz(r->failed) : -1;
	return raid5_nfailed(r) >= 2 ? MIRROR_RAID5_FAILED
	       : r->failed	     ? MIRROR_RAID5_DEGRADED
				     : MIRROR_RAID5_OPTIMAL;
}

const char *mirror_raid5_member_why(const struct mirror_raid5 *r, unsigned member)
{
	return member < r->n && !raid5_live(r, member) ? r->reason[member] : NULL;
}

uint64_t mirror_raid5_blocks(const struct mirror_raid5 *r)
{
	return r->stripes * stripe_bytes(r) / SECTOR;
}

uint32_t mirror_raid5_stripe_blocks(const struct mirror_raid5 *r)
{
	return (uint32_t)(stripe_bytes(r) / SECTOR);
}

void mirror_raid5_geometry(const struct mirror_raid5 *r, struct mirror_raid5_geometry *g)
{
	*g = (struct mirror_raid5_geometry){r->n, r->chunk, r->member_bytes, 0};
}

void mirror_raid5_serial(const struct mirror_raid5 *r, uint8_t serial[8])
{
	memcpy(serial, r->serial, 8);
}

void mirror_raid5_counters(const struct mirror_raid5 *r, struct mirror_raid5_counters *c)
{
	*c = r->ctr;
}
