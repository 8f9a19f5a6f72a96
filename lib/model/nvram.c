/* NVRAM model: data plus one validity bit per 512-byte block (source Fig. 2
 * blocks 212 and 220: mark invalid on metadata, valid once stored). */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <mirror/error.h>
#include <mirror/nvram.h>

#define WORD_BITS 64u

size_t mirror_nvram_bitmap_bytes(uint32_t size)
{
	uint32_t blocks = size / MIRROR_BLOCK_SIZE;
	return ((size_t)blocks + WORD_BITS - 1) / WORD_BITS * sizeof(uint64_t);
}

int mirror_nvram_init(struct mirror_nvram *nv, const struct mirror_profile *p, uint8_t *data,
		      uint64_t *bitmap)
{
	if (mirror_profile_check(p, NULL, 0) < 0)
		return MIRROR_E_PROFILE;
	if (!data || !bitmap)
		return -EINVAL;
	nv->data = data;
	nv->valid = bitmap;
	nv->size = p->nvram_size;
	nv->split = p->region_split;
	return 0;
}

static int range_ok(const struct mirror_nvram *nv, uint32_t addr, uint32_t bytes)
{
	if (addr % MIRROR_BLOCK_SIZE || bytes % MIRROR_BLOCK_SIZE)
		return -ERANGE;
	if ((uint64_t)addr + bytes > nv->size)
		return -ERANGE;
	return 0;
}

int mirror_nvram_check_range(const struct mirror_nvram *nv, unsigned region, uint32_t addr,
			     uint32_t bytes)
{
	int rc = range_ok(nv, addr, bytes);
	if (rc < 0)
		return rc;
	uint32_t rs = region == 0 ? 0 : nv->split;
	uint32_t re = region == 0 ? nv->split : nv->size;
	if (region > 1 || addr < rs || (uint64_t)addr + bytes > re)
		return -EACCES;
	return 0;
}

/* Set or clear bits [first, first + n) a word at a time, so the cost is
 * proportional to the blocks touched. */
static void bits_set(uint64_t *w, uint32_t first, uint32_t n, bool on)
{
	while (n) {
		uint32_t idx = first / WORD_BITS, off = first % WORD_BITS;
		uint32_t take = WORD_BITS - off < n ? WORD_BITS - off : n;
		uint64_t mask = (take == WORD_BITS ? ~0ull : ((1ull << take) - 1)) << off;
		if (on)
			w[idx] |= mask;
		else
			w[idx] &= ~mask;
		first += take;
		n -= take;
	}
}

int mirror_nvram_mark_invalid(struct mirror_nvram *nv, uint32_t addr, uint32_t bytes)
{
	int rc = range_ok(nv, addr, bytes);
	if (rc < 0)
		return rc;
	bits_set(nv->valid, addr / MIRROR_BLOCK_SIZE, bytes / MIRROR_BLOCK_SIZE, false);
	return 0;
}

int mirror_nvram_mark_valid(struct mirror_nvram *nv, uint32_t addr, uint32_t bytes)
{
	int rc = range_ok(nv, addr, bytes);
	if (rc < 0)
		return rc;
	bits_set(nv->valid, addr / MIRROR_BLOCK_SIZE, bytes / MIRROR_BLOCK_SIZE, true);
	return 0;
}

int mirror_nvram_store(struct mirror_nvram *nv, uint32_t addr, const void *src, uint32_t bytes)
{
	int rc = range_ok(nv, addr, bytes);
	if (rc < 0)
		return rc;
	memcpy(nv->data + addr, src, bytes);
	return 0;
}

int mirror_nvram_load(const struct mirror_nvram *nv, uint32_t addr, void *dst, uint32_t bytes)
{
	int rc = range_ok(nv, addr, bytes);
	if (rc < 0)
		return rc;
	memcpy(dst, nv->data + addr, bytes);
	return 0;
}

bool mirror_nvram_block_valid(const struct mirror_nvram *nv, uint32_t block)
{
	if ((uint64_t)block * MIRROR_BLOCK_SIZE >= nv->size)
		return false;
	return (nv->valid[block / WORD_BITS] >> (block % WORD_BITS)) & 1u;
}

int64_t mirror_nvram_count_valid(const struct mirror_nvram *nv, uint32_t addr, uint32_t bytes)
{
	int rc = range_ok(nv, addr, bytes);
	if (rc < 0)
		return rc;
	uint32_t first = addr / MIRROR_BLOCK_SIZE, n = bytes / MIRROR_BLOCK_SIZE;
	int64_t count = 0;
	while (n) {
		uint32_t idx = first / WORD_BITS, off = first % WORD_BITS;
		uint32_t take = WORD_BITS - off < n ? WORD_BITS - off : n;
		uint64_t mask = (take == WORD_BITS ? ~0ull : ((1ull << take) - 1)) << off;
		count += __builtin_popcountll(nv->valid[idx] & mask);
		first += take;
		n -= take;
	}
	return count;
}
