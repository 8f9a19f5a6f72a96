/* The pair's shared state file (state.h): three 512-byte sectors, each
 * written whole with one pwrite and checked by an FNV-1a sum. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/bytes.h"
#include "base/why.h"
#include "app/pair/state.h"

#define MAGIC_LAYOUT 0x4d50534cu /* "MPSL" */
#define MAGIC_HB 0x4d504842u     /* "MPHB" */
#define SUM_AT (PAIR_STATE_SECTOR - 4u)

struct pair_state {
	int fd;
};

static const char *const status_names[] = {
	[PAIR_CTL_DOWN] = "down",           [PAIR_CTL_STARTING] = "starting",
	[PAIR_CTL_SERVING] = "serving",     [PAIR_CTL_ALONE] = "alone",
	[PAIR_CTL_TAKEOVER] = "takeover",   [PAIR_CTL_REJOINING] = "rejoining",
	[PAIR_CTL_STOPPED] = "stopped",
};

const char *pair_ctl_status_name(enum pair_ctl_status s)
{
	return (unsigned)s < sizeof(status_names) / sizeof(status_names[0]) ? status_names[s] : "?";
}

static uint32_t fnv1a(const uint8_t *p, size_t n)
{
	uint32_t h = 0x811c9dc5u;

	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x01000193u;
	}
	return h;
}

static int write_sector(struct pair_state *s, unsigned i, uint8_t *b)
{
	put_be32(b + SUM_AT, fnv1a(b, SUM_AT));
	ssize_t n = pwrite(s->fd, b, PAIR_STATE_SECTOR, (off_t)i * PAIR_STATE_SECTOR);
	if (n < 0)
		return -errno;
	return n == PAIR_STATE_SECTOR ? 0 : -EIO;
}

/* -EAGAIN for a sector that does not check out (torn, or never written). */
static int read_sector(struct pair_state *s, unsigned i, uint8_t *b, uint32_t magic)
{
	ssize_t n = pread(s->fd, b, PAIR_STATE_SECTOR, (off_t)i * PAIR_STATE_SECTOR);
	if (n < 0)
		return -errno;
	if (n != PAIR_STATE_SECTOR || get_be32(b) != magic ||
	    get_be32(b + SUM_AT) != fnv1a(b, SUM_AT))
		return -EAGAIN;
	return 0;
}

/* Layout sector: 0 magic, 4 LUN count, 8 LUN blocks, 16 array serial,
 * 24 epoch, 32 home[64], 96 owner[64], 160 the stride between LUN starts,
 * 168 the first LUN's start: LUNs lie one after another, each on whole
 * stripes (so that only its owner ever writes a stripe of it). */
static void encode_layout(const struct pair_layout *l, uint8_t *b)
{
	memset(b, 0, PAIR_STATE_SECTOR);
	put_be32(b, MAGIC_LAYOUT);
	put_be32(b + 4, l->luns);
	put_be64(b + 8, l->lun_blocks);
	memcpy(b + 16, l->array_serial, 8);
	put_be64(b + 24, l->epoch);
	memcpy(b + 32, l->home, PAIR_LUNS_MAX);
	memcpy(b + 96, l->owner, PAIR_LUNS_MAX);
	put_be64(b + 160, l->luns > 1 ? l->lun_start[1] - l->lun_start[0] : l->lun_blocks);
	put_be64(b + 168, l->lun_start[0]);
}

static int decode_layout(const uint8_t *b, struct pair_layout *l)
{
	memset(l, 0, sizeof(*l));
	l->luns = get_be32(b + 4);
	if (l->luns == 0 || l->luns > PAIR_LUNS_MAX)
		return -EINVAL;
	l->lun_blocks = get_be64(b + 8);
	memcpy(l->array_serial, b + 16, 8);
	l->epoch = get_be64(b + 24);
	memcpy(l->home, b + 32, PAIR_LUNS_MAX);
	memcpy(l->owner, b + 96, PAIR_LUNS_MAX);
	uint64_t stride = get_be64(b + 160), first = get_be64(b + 168);
	for (unsigned i = 0; i < l->luns; i++)
		l->lun_start[i] = first + i * stride;
	return 0;
}

int pair_state_create(const char *path, const struct pair_layout *l, char *why, size_t why_len)
{
	struct pair_state s;
	uint8_t b[PAIR_STATE_SECTOR];
	int rc;

	if (l->luns == 0 || l->luns > PAIR_LUNS_MAX)
		return mirror_fail(-EINVAL, why, why_len, "%u LUNs: 1..%u", l->luns, PAIR_LUNS_MAX);
	s.fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (s.fd < 0)
		return mirror_fail(-errno, why, why_len, "%s: %s", path, strerror(errno));
	encode_layout(l, b);
	rc = write_sector(&s, 0, b);
	memset(b, 0, sizeof(b));
	for (unsigned i = 1; rc == 0 && i < 3; i++)
		rc = pwrite(s.fd, b, sizeof(b), (off_t)i * sizeof(b)) == (ssize_t)sizeof(b) ? 0 : -EIO;
	if (rc == 0 && fsync(s.fd) < 0)
		rc = -errno;
	close(s.fd);
	if (rc < 0)
		return mirror_fail(rc, why, why_len, "%s: cannot write: %s", path, strerror(-rc));
	return 0;
}

int pair_state_open(const char *path, struct pair_state **out, char *why, size_t why_len)
{
	struct pair_state *s = calloc(1, sizeof(*s));
	uint8_t b[PAIR_STATE_SECTOR];
	int rc;

	*out = NULL;
	if (!s)
		return mirror_fail(-ENOMEM, why, why_len, "out of memory");
	s->fd = open(path, O_RDWR | O_CLOEXEC);
	if (s->fd < 0) {
		rc = -errno;
		free(s);
		return mirror_fail(rc, why, why_len, "%s: %s", path, strerror(-rc));
	}
	rc = read_sector(s, 0, b, MAGIC_LAYOUT);
	if (rc == 0) {
		struct pair_layout l;
		rc = decode_layout(b, &l);
	}
	if (rc < 0) {
		close(s->fd);
		free(s);
		return mirror_fail(rc == -EAGAIN ? -EINVAL : rc, why, why_len,
				   "%s: not a pair state file, or its layout sector is damaged", path);
	}
	*out = s;
	return 0;
}

void pair_state_close(struct pair_state *s)
{
	if (!s)
		return;
	close(s->fd);
	free(s);
}

int pair_state_read_layout(struct pair_state *s, struct pair_layout *l)
{
	uint8_t b[PAIR_STATE_SECTOR];
	int rc = read_sector(s, 0, b, MAGIC_LAYOUT);

	return rc < 0 ? rc : decode_layout(b, l);
}

int pair_state_write_layout(struct pair_state *s, const struct pair_layout *l)
{
	uint8_t b[PAIR_STATE_SECTOR];
	int rc;

	encode_layout(l, b);
	rc = write_sector(s, 0, b);
	/* ownership must survive before anyone acts on it */
	if (rc == 0 && fdatasync(s->fd) < 0)
		rc = -errno;
	return rc;
}

/* Heartbeat sector: 0 magic, 4 pid, 8 incarnation, 16 counter, 24 time,
 * 32 status, 36 host port, 38 mirror port, 40 mirror epoch. */
int pair_state_read_heartbeat(struct pair_state *s, unsigned ctl, struct pair_heartbeat *h)
{
	uint8_t b[PAIR_STATE_SECTOR];
	int rc;

	memset(h, 0, sizeof(*h));
	if (ctl > 1)
		return -EINVAL;
	rc = read_sector(s, 1 + ctl, b, MAGIC_HB);
	if (rc < 0)
		return rc;
	h->pid = get_be32(b + 4);
	h->incarnation = get_be64(b + 8);
	h->counter = get_be64(b + 16);
	h->mono_ms = get_be64(b + 24);
	h->status = (enum pair_ctl_status)get_be32(b + 32);
	h->host_port = get_be16(b + 36);
	h->mirror_port = get_be16(b + 38);
	h->mirror_epoch = get_be64(b + 40);
	return 0;
}

int pair_state_write_heartbeat(struct pair_state *s, unsigned ctl, const struct pair_heartbeat *h)
{
	uint8_t b[PAIR_STATE_SECTOR];

	if (ctl > 1)
		return -EINVAL;
	memset(b, 0, sizeof(b));
	put_be32(b, MAGIC_HB);
	put_be32(b + 4, h->pid);
	put_be64(b + 8, h->incarnation);
	put_be64(b + 16, h->counter);
	put_be64(b + 24, h->mono_ms);
	put_be32(b + 32, (uint32_t)h->status);
	put_be16(b + 36, h->host_port);
	put_be16(b + 38, h->mirror_port);
	put_be64(b + 40, h->mirror_epoch);
	return write_sector(s, 1 + ctl, b);
}
