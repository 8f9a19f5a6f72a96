/* NVRAM memory for an emulator: anonymous, or mapped from a file so that
 * the controller's nonvolatile cache survives a restart of mirror-emu, as a
 * real NVRAM survives a controller reboot (source Fig. 2: the partner's
 * copy is what recovery reads).  Layout in include/mirror/nvram.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mirror/error.h>
#include <mirror/nvram.h>

#include "base/bytes.h"

#include "base/why.h"

#define PAGE_ALIGN 4096u
#define BYTE_ORDER_MARK 0x0102030405060708ull

/* Header field offsets (nvram.h). */
enum {
	H_MAGIC = 0,
	H_HEADER_LEN = 8,
	H_SIZE = 12,
	H_SPLIT = 16,
	H_BITMAP_LEN = 20,
	H_BITMAP_OFF = 24,
	H_DATA_OFF = 32,
	H_BOM = 40,
	H_CHECKSUM = 48,
	H_CHECKED_BYTES = 48
};

struct layout {
	uint32_t bitmap_len;
	uint64_t bitmap_off, data_off, total;
};

static uint64_t round_up(uint64_t v, uint64_t to)
{
	return (v + to - 1) / to * to;
}

static struct layout layout_for(uint32_t size)
{
	struct layout l;

	l.bitmap_len = (uint32_t)mirror_nvram_bitmap_bytes(size);
	l.bitmap_off = MIRROR_NVRAM_FILE_HEADER;
	/* The data starts on a page so that it maps page-aligned. */
	l.data_off = round_up(l.bitmap_off + l.bitmap_len, PAGE_ALIGN);
	l.total = l.data_off + size;
	return l;
}

/* FNV-1a: enough to tell a damaged header from a good one; the file is
 * not defended against a deliberate forger. */
static uint32_t fnv1a(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h;
}

/* Sizes as the command line writes them ("128M", "512K", "1536"). */
static const char *size_str(uint64_t v, char *buf, size_t len)
{
	if (v && v % (1024 * 1024) == 0)
		snprintf(buf, len, "%lluM", (unsigned long long)(v / (1024 * 1024)));
	else if (v && v % 1024 == 0)
		snprintf(buf, len, "%lluK", (unsigned long long)(v / 1024));
	else
		snprintf(buf, len, "%llu", (unsigned long long)v);
	return buf;
}

static void header_build(uint8_t *h, uint32_t size, uint32_t split)
{
	struct layout l = layout_for(size);
	uint64_t bom = BYTE_ORDER_MARK;

	memset(h, 0, MIRROR_NVRAM_FILE_HEADER);
	memcpy(h + H_MAGIC, MIRROR_NVRAM_FILE_MAGIC, 8);
	put_be32(h + H_HEADER_LEN, MIRROR_NVRAM_FILE_HEADER);
	put_be32(h + H_SIZE, size);
	put_be32(h + H_SPLIT, split);
	put_be32(h + H_BITMAP_LEN, l.bitmap_len);
	put_be64(h + H_BITMAP_OFF, l.bitmap_off);
	put_be64(h + H_DATA_OFF, l.data_off);
	memcpy(h + H_BOM, &bom, sizeof(bom));
	put_be32(h + H_CHECKSUM, fnv1a(h, H_CHECKED_BYTES));
}

/* Checks a header read from path against itself, then against the
 * profile; file_size is the file's length. */
static int header_check(const uint8_t *h, const char *path, uint64_t file_size,
			const struct mirror_profile *p, char *why, size_t why_len)
{
	uint64_t bom;
	char a[32], b[32], c[32], d[32];

	if (memcmp(h + H_MAGIC, MIRROR_NVRAM_FILE_MAGIC, 8) != 0)
		return mirror_fail(-EINVAL, why, why_len,
			    "%s: not an NVRAM file (no %s magic at byte 0); refusing to overwrite it",
			    path, MIRROR_NVRAM_FILE_MAGIC);
	if (get_be32(h + H_CHECKSUM) != fnv1a(h, H_CHECKED_BYTES))
		return mirror_fail(-EINVAL, why, why_len, "%s: damaged NVRAM file header (checksum mismatch)",
			    path);
	if (get_be32(h + H_HEADER_LEN) != MIRROR_NVRAM_FILE_HEADER)
		return mirror_fail(-EINVAL, why, why_len,
			    "%s: unsupported NVRAM file header length %u (expected %u)", path,
			    get_be32(h + H_HEADER_LEN), MIRROR_NVRAM_FILE_HEADER);
	memcpy(&bom, h + H_BOM, sizeof(bom));
	if (bom != BYTE_ORDER_MARK)
		return mirror_fail(-EINVAL, why, why_len,
			    "%s: written on a host of another byte order (its validity bitmap "
			    "would be misread)", path);

	uint32_t size = get_be32(h + H_SIZE), split = get_be32(h + H_SPLIT);
	if (size == 0 || size % MIRROR_BLOCK_SIZE || size > MIRROR_NVRAM_MAX_SIZE || split == 0 ||
	    split >= size || split % MIRROR_BLOCK_SIZE)
		return mirror_fail(-EINVAL, why, why_len,
			    "%s: damaged NVRAM file header (size %u, split %u)", path, size, split);
	struct layout l = layout_for(size);
	if (get_be32(h + H_BITMAP_LEN) != l.bitmap_len ||
	    get_be64(h + H_BITMAP_OFF) != l.bitmap_off || get_be64(h + H_DATA_OFF) != l.data_off)
		return mirror_fail(-EINVAL, why, why_len,
			    "%s: damaged NVRAM file header (bitmap length %u at %llu, data at %llu "
			    "do not fit a %u-byte NVRAM)", path, get_be32(h + H_BITMAP_LEN),
			    (unsigned long long)get_be64(h + H_BITMAP_OFF),
			    (unsigned long long)get_be64(h + H_DATA_OFF), size);

	/* Before the file's length, so that the wrong size on the command
	 * line is reported as that, not as a damaged file. */
	if (size != p->nvram_size || split != p->region_split)
		return mirror_fail(-ESTALE, why, why_len,
			    "%s holds a %s NVRAM split at %s, but %s split at %s was asked for; "
			    "it is not re-formatted: give the same NVRAM size and region split, "
			    "or another file", path, size_str(size, a, sizeof(a)),
			    size_str(split, b, sizeof(b)), size_str(p->nvram_size, c, sizeof(c)),
			    size_str(p->region_split, d, sizeof(d)));
	if (file_size != l.total)
		return mirror_fail(-EINVAL, why, why_len,
			    "%s: %s: the file has %llu bytes, its header says %llu", path,
			    file_size < l.total ? "truncated" : "longer than its header says",
			    (unsigned long long)file_size, (unsigned long long)l.total);
	return 0;
}

/* Whole-buffer pread/pwrite: a regular file may still return short. */
static int pio(int fd, void *buf, size_t len, off_t off, bool write_it)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = write_it ? pwrite(fd, p, len, off) : pread(fd, p, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

static int open_anon(struct mirror_nvram_mem *m, uint32_t size, char *why, size_t why_len)
{
	struct layout l = layout_for(size);
	/* Same layout as a file without its header: bitmap, then data on a
	 * page.  Anonymous pages start zeroed (all blocks invalid) and cost
	 * nothing until touched, so a 512 MiB NVRAM is cheap to create. */
	size_t len = (size_t)(l.total - l.bitmap_off);
	void *map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			 -1, 0);

	if (map == MAP_FAILED)
		return mirror_fail(-errno, why, why_len, "cannot allocate a %u-byte NVRAM: %s", size,
			    strerror(errno));
	m->map_ = map;
	m->map_len_ = len;
	m->fd_ = -1;
	m->bitmap = map;
	m->data = (uint8_t *)map + (l.data_off - l.bitmap_off);
	return 0;
}

static int open_file(struct mirror_nvram_mem *m, const struct mirror_profile *p, const char *path,
		     char *why, size_t why_len)
{
	uint8_t h[MIRROR_NVRAM_FILE_HEADER];
	struct layout l = layout_for(p->nvram_size);
	bool made = true;
	struct stat st;
	int fd, rc;

	/* O_EXCL first, to know whether the file is ours to remove when
	 * formatting it fails. */
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST) {
		made = false;
		fd = open(path, O_RDWR | O_CLOEXEC);
	}
	if (fd < 0)
		return mirror_fail(-errno, why, why_len, "%s: %s", path, strerror(errno));
	/* Two emulators writing one NVRAM would each believe they own it. */
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		rc = errno == EWOULDBLOCK ? mirror_fail(-EBUSY, why, why_len,
						 "%s: in use by another process (locked)", path)
					  : mirror_fail(-errno, why, why_len, "%s: cannot lock: %s", path,
						 strerror(errno));
		goto out_close;
	}
	if (fstat(fd, &st) < 0) {
		rc = mirror_fail(-errno, why, why_len, "%s: %s", path, strerror(errno));
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = mirror_fail(-EINVAL, why, why_len, "%s: not a regular file", path);
		goto out_close;
	}

	if (st.st_size == 0) {
		/* New, or empty (mktemp, an interrupted first run before the
		 * header was written): nothing in it to lose. */
		m->created = true;
		if (ftruncate(fd, (off_t)l.total) < 0) {
			rc = mirror_fail(-errno, why, why_len, "%s: cannot size to %llu bytes: %s", path,
				  (unsigned long long)l.total, strerror(errno));
			goto out_remove;
		}
		/* The header goes last: a file cut short before this point
		 * has no magic and is refused, never taken for a valid one. */
		header_build(h, p->nvram_size, p->region_split);
		rc = pio(fd, h, sizeof(h), 0, true);
		if (rc < 0) {
			mirror_fail(rc, why, why_len, "%s: cannot write the header: %s", path, strerror(-rc));
			goto out_remove;
		}
	} else {
		if ((uint64_t)st.st_size < MIRROR_NVRAM_FILE_HEADER) {
			rc = mirror_fail(-EINVAL, why, why_len,
				  "%s: truncated or not an NVRAM file: %lld bytes, shorter than the "
				  "%u-byte header", path, (long long)st.st_size,
				  MIRROR_NVRAM_FILE_HEADER);
			goto out_close;
		}
		rc = pio(fd, h, sizeof(h), 0, false);
		if (rc < 0) {
			mirror_fail(rc, why, why_len, "%s: cannot read the header: %s", path, strerror(-rc));
			goto out_close;
		}
		rc = header_check(h, path, (uint64_t)st.st_size, p, why, why_len);
		if (rc < 0)
			goto out_close;
	}

	void *map = mmap(NULL, (size_t)l.total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		rc = mirror_fail(-errno, why, why_len, "%s: cannot map %llu bytes: %s", path,
			  (unsigned long long)l.total, strerror(errno));
		goto out_remove;
	}
	m->map_ = map;
	m->map_len_ = (size_t)l.total;
	m->fd_ = fd;
	m->file = true;
	m->bitmap = (uint64_t *)(void *)((uint8_t *)map + l.bitmap_off);
	m->data = (uint8_t *)map + l.data_off;
	return 0;

out_remove:
	/* Undo only what this call did: remove a file it created, empty one
	 * it found empty. */
	if (m->created && made)
		unlink(path);
	else if (m->created && ftruncate(fd, 0) < 0)
		rc = mirror_fail(-errno, why, why_len, "%s: cannot format it, nor empty it again: %s", path,
			  strerror(errno));
out_close:
	close(fd);
	m->created = false;
	return rc;
}

int mirror_nvram_mem_open(struct mirror_nvram_mem *m, const struct mirror_profile *p,
			  const char *path, char *why, size_t why_len)
{
	char reason[128];
	int rc;

	memset(m, 0, sizeof(*m));
	m->fd_ = -1;
	if (mirror_profile_check(p, reason, sizeof(reason)) < 0)
		return mirror_fail(-EINVAL, why, why_len, "NVRAM: %s", reason);
	rc = path ? open_file(m, p, path, why, why_len) : open_anon(m, p->nvram_size, why, why_len);
	if (rc < 0) {
		memset(m, 0, sizeof(*m));
		m->fd_ = -1;
		return rc;
	}
	m->size = p->nvram_size;
	m->split = p->region_split;
	return 0;
}

int mirror_nvram_mem_sync(struct mirror_nvram_mem *m, char *why, size_t why_len)
{
	if (!m->map_ || !m->file)
		return 0;
	if (msync(m->map_, m->map_len_, MS_SYNC) < 0)
		return mirror_fail(-errno, why, why_len, "NVRAM file: msync: %s", strerror(errno));
	return 0;
}

int mirror_nvram_mem_close(struct mirror_nvram_mem *m, char *why, size_t why_len)
{
	int rc = 0;

	if (!m->map_)
		return 0;
	rc = mirror_nvram_mem_sync(m, why, why_len);
	munmap(m->map_, m->map_len_);
	/* closing the descriptor releases the flock */
	if (m->file && m->fd_ >= 0 && close(m->fd_) < 0 && rc == 0)
		rc = mirror_fail(-errno, why, why_len, "NVRAM file: close: %s", strerror(errno));
	memset(m, 0, sizeof(*m));
	m->fd_ = -1;
	return rc;
}
