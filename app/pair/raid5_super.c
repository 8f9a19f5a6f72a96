/* The disk array's metadata: superblock codec, create, open (which
 * members agree, which failed and why) and the failure record that every
 * opener shares.  Layout and contract: raid5.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app/pair/raid5_int.h"
#include "base/bytes.h"
#include "base/why.h"
/* mirror_pdu_crc32c: libmirror's one CRC-32C (ISA-L), reused for the
 * superblock checksum. */
#include "iscsi/pdu.h"

#define SB MIRROR_RAID5_SUPERBLOCK
#define MAX_M MIRROR_RAID5_MAX_MEMBERS
static const uint8_t magic[8] = {'M', 'I', 'R', 'R', 'A', 'I', 'D', '5'};
#define FORMAT_VERSION 1u
#define LAYOUT_LEFT_SYMMETRIC 1u

/* Superblock field offsets (raid5.h). */
enum {
	SB_MAGIC = 0,
	SB_VERSION = 8,
	SB_BYTES = 12,
	SB_INDEX = 16,
	SB_COUNT = 20,
	SB_CHUNK = 24,
	SB_LAYOUT = 28,
	SB_MEMBER_BYTES = 32,
	SB_SERIAL = 40,
	SB_EVENTS = 48,
	SB_FAILED = 56,
	SB_CRC = 60
};

/* The fields whose value is fixed by this format, checked on open. */
static const struct {
	const char *name;
	unsigned off;
	uint32_t value;
} fixed_fields[] = {
	{"format version", SB_VERSION, FORMAT_VERSION},
	{"superblock bytes", SB_BYTES, SB},
	{"layout", SB_LAYOUT, LAYOUT_LEFT_SYMMETRIC},
};

static const char *serial_hex(const uint8_t s[8], char buf[17])
{
	for (unsigned i = 0; i < 8; i++)
		snprintf(buf + 2 * i, 3, "%02x", s[i]);
	return buf;
}

static void member_name(unsigned m, char buf[16])
{
	snprintf(buf, 16, "disk%u", m);
}

static int geometry_check(unsigned n, uint32_t chunk, uint64_t member_bytes, char *why,
			  size_t why_len)
{
	if (n < MIRROR_RAID5_MIN_MEMBERS || n > MIRROR_RAID5_MAX_MEMBERS)
		return mirror_fail(-EINVAL, why, why_len, "members: %u is out of range (%u..%u)", n,
				   MIRROR_RAID5_MIN_MEMBERS, MIRROR_RAID5_MAX_MEMBERS);
	if (chunk & (chunk - 1))
		return mirror_fail(-EINVAL, why, why_len, "chunk_bytes: %" PRIu32
				   " is not a power of two", chunk);
	if (chunk < MIRROR_RAID5_MIN_CHUNK || chunk > MIRROR_RAID5_MAX_CHUNK)
		return mirror_fail(-EINVAL, why, why_len,
				   "chunk_bytes: %" PRIu32 " is out of range (%u..%u)", chunk,
				   MIRROR_RAID5_MIN_CHUNK, MIRROR_RAID5_MAX_CHUNK);
	if (member_bytes == 0 || member_bytes % chunk)
		return mirror_fail(-EINVAL, why, why_len,
				   "member_bytes: %" PRIu64
				   " is not a nonzero multiple of chunk_bytes %" PRIu32,
				   member_bytes, chunk);
	if (member_bytes > MIRROR_RAID5_MAX_MEMBER_BYTES)
		return mirror_fail(-EINVAL, why, why_len,
				   "member_bytes: %" PRIu64 " is above the limit %llu", member_bytes,
				   MIRROR_RAID5_MAX_MEMBER_BYTES);
	return 0;
}

static void super_encode(const struct raid5_super *s, uint8_t b[SB])
{
	memset(b, 0, SB);
	memcpy(b + SB_MAGIC, magic, sizeof(magic));
	put_be32(b + SB_VERSION, FORMAT_VERSION);
	put_be32(b + SB_BYTES, SB);
	put_be32(b + SB_INDEX, s->index);
	put_be32(b + SB_COUNT, s->count);
	put_be32(b + SB_CHUNK, s->chunk);
	put_be32(b + SB_LAYOUT, LAYOUT_LEFT_SYMMETRIC);
	put_be64(b + SB_MEMBER_BYTES, s->member_bytes);
	memcpy(b + SB_SERIAL, s->serial, 8);
	put_be64(b + SB_EVENTS, s->events);
	put_be32(b + SB_FAILED, s->failed);
	put_be32(b + SB_CRC, mirror_pdu_crc32c(b, SB));
}

/* 0, or -EINVAL and why (the member's reason) for a block that is not a
 * sound superblock.  got: how many bytes the file had. */
static int super_decode(uint8_t b[SB], size_t got, struct raid5_super *s, char *why,
			size_t why_len)
{
	uint32_t crc, v;

	if (got < SB)
		return mirror_fail(-EINVAL, why, why_len, "truncated superblock (%zu of %u bytes)",
				   got, SB);
	if (memcmp(b + SB_MAGIC, magic, sizeof(magic)))
		return mirror_fail(-EINVAL, why, why_len, "no superblock (bad magic)");
	crc = get_be32(b + SB_CRC);
	put_be32(b + SB_CRC, 0);
	v = mirror_pdu_crc32c(b, SB);
	put_be32(b + SB_CRC, crc);
	if (crc != v)
		return mirror_fail(-EINVAL, why, why_len, "superblock checksum wrong");
	for (size_t i = 0; i < sizeof(fixed_fields) / sizeof(fixed_fields[0]); i++)
		if ((v = get_be32(b + fixed_fields[i].off)) != fixed_fields[i].value)
			return mirror_fail(-EINVAL, why, why_len,
					   "superblock %s %" PRIu32 " at byte %u (this program reads %" PRIu32
					   ")",
					   fixed_fields[i].name, v, fixed_fields[i].off,
					   fixed_fields[i].value);
	s->index = get_be32(b + SB_INDEX);
	s->count = get_be32(b + SB_COUNT);
	s->chunk = get_be32(b + SB_CHUNK);
	s->member_bytes = get_be64(b + SB_MEMBER_BYTES);
	memcpy(s->serial, b + SB_SERIAL, 8);
	s->events = get_be64(b + SB_EVENTS);
	s->failed = get_be32(b + SB_FAILED);
	if (geometry_check(s->count, s->chunk, s->member_bytes, NULL, 0) || s->index >= s->count ||
	    s->failed >> s->count)
		return mirror_fail(-EINVAL, why, why_len,
				   "superblock geometry invalid (member %u of %u, chunk %" PRIu32
				   ", %" PRIu64 " bytes, failed mask %#" PRIx32 ")",
				   s->index, s->count, s->chunk, s->member_bytes, s->failed);
	return 0;
}

static bool same_array(const struct raid5_super *a, const struct raid5_super *b)
{
	return !memcmp(a->serial, b->serial, 8) && a->count == b->count && a->chunk == b->chunk &&
	       a->member_bytes == b->member_bytes;
}

int raid5_io_full(int fd, bool write, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t k = write ? pwrite(fd, p, len, (off_t)off) : pread(fd, p, len, (off_t)off);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			return write ? -ENOSPC : -ENODATA;
		p += k;
		len -= (size_t)k;
		off += (uint64_t)k;
	}
	return 0;
}

/* Bytes read before the end of the file, or -errno. */
static ssize_t read_upto(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t k = pread(fd, buf + got, len - got, (off_t)got);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			break;
		got += (size_t)k;
	}
	return (ssize_t)got;
}

static void lock_dir(int dirfd, int op)
{
	/* Serializes the rare record updates between processes; the data path
	 * takes no lock (raid5.h).  Best effort: a record written without it
	 * is still merged by the next writer. */
	while (flock(dirfd, op) < 0 && errno == EINTR)
		;
}

void raid5_failed_list(const struct mirror_raid5 *r, char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = '\0';
	for (unsigned m = 0; m < r->n && at < len; m++) {
		int k;

		if (raid5_live(r, m))
			continue;
		k = snprintf(buf + at, len - at, "%sdisk%u: %s", at ? "; " : "", m, r->reason[m]);
		if (k < 0)
			break;
		at += (size_t)k;
	}
}

void raid5_set_failed(struct mirror_raid5 *r, unsigned m, const char *reason)
{
	if (!raid5_live(r, m))
		return;
	r->failed |= 1u << m;
	snprintf(r->reason[m], sizeof(r->reason[m]), "%s", reason);
	if (r->fd[m] >= 0)
		close(r->fd[m]);
	r->fd[m] = -1;
}

void raid5_note_failure(struct mirror_raid5 *r, unsigned m, const char *reason)
{
	if (!raid5_live(r, m))
		return;
	raid5_set_failed(r, m, reason);
	raid5_record(r, -1);
}

/* The newest record among the live members: what other processes have
 * written since this handle last looked. */
static void merge_record(struct mirror_raid5 *r, int rebuilt)
{
	uint8_t b[SB];
	struct raid5_super s, best = {.events = 0};
	bool found = false;
	char reason[RAID5_REASON_LEN];

	for (unsigned m = 0; m < r->n; m++) {
		if (!raid5_live(r, m) || (int)m == rebuilt || r->fd[m] < 0)
			continue;
		if (read_upto(r->fd[m], b, SB) != SB || super_decode(b, SB, &s, NULL, 0))
			continue;
		if (memcmp(s.serial, r->serial, 8) || s.index != m)
			continue;
		if (!found || s.events > best.events) {
			best = s;
			found = true;
		}
	}
	if (!found || best.events <= r->events)
		return;
	r->events = best.events;
	for (unsigned m = 0; m < r->n; m++)
		if ((best.failed >> m & 1u) && (int)m != rebuilt && raid5_live(r, m)) {
			snprintf(reason, sizeof(reason), "marked failed by another opener (event %" PRIu64 ")",
				 best.events);
			raid5_set_failed(r, m, reason);
		}
}

static void write_super(struct mirror_raid5 *r, unsigned m, struct raid5_super *s)
{
	uint8_t b[SB];
	char reason[RAID5_REASON_LEN];
	int rc;

	if (!raid5_live(r, m))
		return;
	s->index = m;
	super_encode(s, b);
	rc = raid5_io_full(r->fd[m], true, b, SB, 0);
	if (!rc && fdatasync(r->fd[m]) < 0)
		rc = -errno;
	if (rc) {
		snprintf(reason, sizeof(reason), "superblock write failed: %s", strerror(-rc));
		raid5_set_failed(r, m, reason);
	}
}

void raid5_record(struct mirror_raid5 *r, int rebuilt)
{
	struct raid5_super s;
	uint32_t before;

	lock_dir(r->dirfd, LOCK_EX);
	merge_record(r, rebuilt);
	do {
		/* A member whose superblock cannot be written is failed too, and
		 * the record is written again without it. */
		before = r->failed;
		s = (struct raid5_super){.count = r->n, .chunk = r->chunk,
					 .member_bytes = r->member_bytes,
					 .events = ++r->events, .failed = r->failed};
		memcpy(s.serial, r->serial, 8);
		for (unsigned m = 0; m < r->n; m++)
			if ((int)m != rebuilt)
				write_super(r, m, &s);
		/* The rebuilt member last: until the others call it good, a
		 * crash leaves it failed. */
		if (rebuilt >= 0)
			write_super(r, (unsigned)rebuilt, &s);
	} while (r->failed != before && raid5_nfailed(r) < 2);
	lock_dir(r->dirfd, LOCK_UN);
}

static void make_serial(uint8_t serial[8])
{
	struct timespec ts;
	uint64_t v;

	if (getrandom(serial, 8, 0) == 8 && memcmp(serial, "\0\0\0\0\0\0\0\0", 8))
		return;
	/* No entropy source: time and pid still tell two arrays apart. */
	clock_gettime(CLOCK_REALTIME, &ts);
	v = (uint64_t)ts.tv_sec * 1000000007u ^ (uint64_t)ts.tv_nsec << 20 ^ (uint64_t)getpid();
	put_be64(serial, v | 1u);
}

int mirror_raid5_create(const char *dir, const struct mirror_raid5_geometry *g, char *why,
			size_t why_len)
{
	struct raid5_super s = {0};
	uint8_t b[SB];
	char name[16];
	struct stat st;
	int dirfd, rc;

	if (!dir || !g)
		return mirror_fail(-EINVAL, why, why_len, "no directory or geometry");
	s.count = g->members ? g->members : MIRROR_RAID5_DEFAULT_MEMBERS;
	s.chunk = g->chunk_bytes ? g->chunk_bytes : MIRROR_RAID5_DEFAULT_CHUNK;
	s.member_bytes = g->member_bytes;
	rc = geometry_check(s.count, s.chunk, s.member_bytes, why, why_len);
	if (rc)
		return rc;
	if (mkdir(dir, 0777) < 0 && errno != EEXIST)
		return mirror_fail(-errno, why, why_len, "%s: cannot make the directory: %s", dir,
				   strerror(errno));
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return mirror_fail(-errno, why, why_len, "%s: %s", dir, strerror(errno));
	for (unsigned m = 0; m < MAX_M && !g->overwrite; m++) {
		member_name(m, name);
		if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			close(dirfd);
			return mirror_fail(-EEXIST, why, why_len,
					   "%s/%s exists: an array is there already (overwrite to replace it)",
					   dir, name);
		}
	}
	make_serial(s.serial);
	for (unsigned m = 0; m < s.count; m++) {
		int fd;

		member_name(m, name);
		fd = openat(dirfd, name,
			    O_RDWR | O_CREAT | O_CLOEXEC | (g->overwrite ? O_TRUNC : O_EXCL), 0666);
		if (fd < 0) {
			rc = mirror_fail(-errno, why, why_len, "%s/%s: %s", dir, name, strerror(errno));
			goto out;
		}
		/* A sparse, zero data area: zero parity is the XOR of zero data. */
		s.index = m;
		super_encode(&s, b);
		if (ftruncate(fd, (off_t)(SB + s.member_bytes)) < 0)
			rc = -errno;
		else
			rc = raid5_io_full(fd, true, b, SB, 0);
		if (!rc && fdatasync(fd) < 0)
			rc = -errno;
		close(fd);
		if (rc) {
			rc = mirror_fail(rc, why, why_len, "%s/%s: %s", dir, name, strerror(-rc));
			goto out;
		}
	}
	for (unsigned m = s.count; m < MAX_M; m++) {
		member_name(m, name);
		if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT) {
			rc = mirror_fail(-errno, why, why_len, "%s/%s: cannot remove the old member: %s",
					 dir, name, strerror(errno));
			goto out;
		}
	}
	rc = 0;
out:
	close(dirfd);
	return rc;
}

/* What open found in one file DIR/diskI. */
struct probe {
	int fd;
	bool present; /* a file is there */
	bool ok;      /* with a sound superblock */
	struct raid5_super s;
	uint64_t file_bytes;
	char why[RAID5_REASON_LEN];
};

static void probe_member(int dirfd, unsigned m, struct probe *p)
{
	uint8_t b[SB];
	char name[16];
	struct stat st;
	ssize_t got;

	p->ok = false;
	member_name(m, name);
	p->fd = openat(dirfd, name, O_RDWR | O_CLOEXEC);
	p->present = p->fd >= 0 || errno != ENOENT;
	if (p->fd < 0) {
		if (p->present)
			snprintf(p->why, sizeof(p->why), "cannot open: %s", strerror(errno));
		else
			snprintf(p->why, sizeof(p->why), "missing");
		return;
	}
	if (fstat(p->fd, &st) < 0) {
		snprintf(p->why, sizeof(p->why), "cannot stat: %s", strerror(errno));
		return;
	}
	p->file_bytes = (uint64_t)st.st_size;
	got = read_upto(p->fd, b, SB);
	if (got < 0) {
		snprintf(p->why, sizeof(p->why), "superblock unreadable: %s", strerror((int)-got));
		return;
	}
	p->ok = !super_decode(b, (size_t)got, &p->s, p->why, sizeof(p->why));
}

/* Why member m of the array described by a does not belong to it, or ""
 * when it does. */
static void member_verdict(const struct raid5_super *a, unsigned m, struct probe *p)
{
	char x[17], y[17];

	if (!p->ok)
		return;
	if (memcmp(p->s.serial, a->serial, 8))
		snprintf(p->why, sizeof(p->why), "belongs to array %s (this array is %s)",
			 serial_hex(p->s.serial, x), serial_hex(a->serial, y));
	else if (!same_array(&p->s, a))
		snprintf(p->why, sizeof(p->why),
			 "superblock geometry differs (%u members, chunk %" PRIu32 ", %" PRIu64
			 " bytes)", p->s.count, p->s.chunk, p->s.member_bytes);
	else if (p->s.index != m)
		snprintf(p->why, sizeof(p->why), "superblock says member %u", p->s.index);
	else if (p->file_bytes < SB + a->member_bytes)
		snprintf(p->why, sizeof(p->why), "truncated (%" PRIu64 " bytes, expected %" PRIu64 ")",
			 p->file_bytes, SB + a->member_bytes);
	else
		return;
	p->ok = false;
}

/* The array most superblocks agree on: index of its best witness, -1 if
 * no file has a sound superblock. */
static int elect(const struct probe *p)
{
	int best = -1;
	unsigned best_votes = 0;

	for (unsigned i = 0; i < MAX_M; i++) {
		unsigned votes = 0;

		if (!p[i].ok)
			continue;
		for (unsigned j = 0; j < p[i].s.count; j++)
			votes += p[j].ok && same_array(&p[j].s, &p[i].s) && p[j].s.index == j;
		if (votes > best_votes) {
			best = (int)i;
			best_votes = votes;
		}
	}
	return best;
}

static void probes_close(struct probe *p, unsigned from)
{
	for (unsigned i = from; i < MAX_M; i++)
		if (p[i].fd >= 0) {
			close(p[i].fd);
			p[i].fd = -1;
		}
}

/* Fills r (dir and dirfd set) from the member files.  -ENOENT no array,
 * -EIO two or more members failed (r->failed says which). */
static int scan(struct mirror_raid5 *r, char *why, size_t why_len)
{
	struct probe p[MAX_M];
	struct raid5_super a;
	uint32_t recorded = 0;
	char x[17], list[1024];
	int w;

	for (unsigned i = 0; i < MAX_M; i++)
		probe_member(r->dirfd, i, &p[i]);
	w = elect(p);
	if (w < 0) {
		size_t at = 0;

		list[0] = '\0';
		for (unsigned i = 0; i < MAX_M && at < sizeof(list); i++)
			if (p[i].present)
				at += (size_t)snprintf(list + at, sizeof(list) - at, "%sdisk%u: %s",
						       at ? "; " : "", i, p[i].why);
		probes_close(p, 0);
		return mirror_fail(-ENOENT, why, why_len, "%s: no RAID-5 array (%s)", r->dir,
				   at ? list : "no file disk0..disk15");
	}
	a = p[w].s;
	r->n = a.count;
	r->chunk = a.chunk;
	r->member_bytes = a.member_bytes;
	r->stripes = a.member_bytes / a.chunk;
	memcpy(r->serial, a.serial, 8);
	r->events = 0;
	r->failed = 0;
	for (unsigned m = 0; m < r->n; m++) {
		member_verdict(&a, m, &p[m]);
		if (p[m].ok && p[m].s.events >= r->events) {
			r->events = p[m].s.events;
			recorded = p[m].s.failed;
		}
	}
	for (unsigned m = 0; m < r->n; m++) {
		r->fd[m] = p[m].fd;
		p[m].fd = -1;
		r->reason[m][0] = '\0';
		if (p[m].ok && (recorded >> m & 1u))
			snprintf(p[m].why, sizeof(p[m].why), "marked failed (event %" PRIu64 ")",
				 r->events);
		else if (p[m].ok)
			continue;
		raid5_set_failed(r, m, p[m].why);
	}
	probes_close(p, r->n);
	if (raid5_nfailed(r) >= 2) {
		raid5_failed_list(r, list, sizeof(list));
		return mirror_fail(-EIO, why, why_len, "%s: array %s has failed: %s", r->dir,
				   serial_hex(r->serial, x), list);
	}
	if (r->failed & ~recorded)
		raid5_record(r, -1);
	return 0;
}

static void close_members(struct mirror_raid5 *r)
{
	for (unsigned m = 0; m < MAX_M; m++) {
		if (r->fd[m] >= 0)
			close(r->fd[m]);
		r->fd[m] = -1;
	}
}

int mirror_raid5_open(const char *dir, struct mirror_raid5 **out, char *why, size_t why_len)
{
	struct mirror_raid5 *r;
	int rc;

	if (!dir || !out)
		return mirror_fail(-EINVAL, why, why_len, "no directory or result pointer");
	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r || !(r->dir = strdup(dir))) {
		free(r);
		return mirror_fail(-ENOMEM, why, why_len, "out of memory");
	}
	for (unsigned m = 0; m < MAX_M; m++)
		r->fd[m] = -1;
	r->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r->dirfd < 0) {
		rc = mirror_fail(-errno, why, why_len, "%s: %s", dir, strerror(errno));
		mirror_raid5_close(r);
		return rc;
	}
	rc = scan(r, why, why_len);
	if (rc) {
		mirror_raid5_close(r);
		return rc;
	}
	*out = r;
	return 0;
}

int mirror_raid5_refresh(struct mirror_raid5 *r, char *why, size_t why_len)
{
	struct mirror_raid5 t = {.dir = r->dir, .dirfd = r->dirfd};
	char x[17], y[17];
	int rc;

	for (unsigned m = 0; m < MAX_M; m++)
		t.fd[m] = -1;
	rc = scan(&t, why, why_len);
	if (rc && rc != -EIO) {
		close_members(&t);
		return rc;
	}
	if (memcmp(t.serial, r->serial, 8) || t.n != r->n || t.chunk != r->chunk ||
	    t.member_bytes != r->member_bytes) {
		close_members(&t);
		return mirror_fail(-ESTALE, why, why_len, "%s now holds array %s, not %s", r->dir,
				   serial_hex(t.serial, x), serial_hex(r->serial, y));
	}
	/* Every failure this handle saw is in the record already (noted
	 * there when found), so the record, rebuilds included, wins. */
	close_members(r);
	memcpy(r->fd, t.fd, sizeof(r->fd));
	memcpy(r->reason, t.reason, sizeof(r->reason));
	r->failed = t.failed;
	r->events = t.events;
	return rc;
}

void mirror_raid5_close(struct mirror_raid5 *r)
{
	if (!r)
		return;
	close_members(r);
	if (r->dirfd >= 0)
		close(r->dirfd);
	free(r->scratch);
	free(r->dir);
	free(r);
}
