/* A controller's own write cache (cache.h). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "app/emu/server.h"
#include "app/pair/cache.h"

int pair_cache_init(struct pair_cache *c, struct mirror_nvram *nv, const struct mirror_profile *p,
		    unsigned region, uint32_t luns, uint64_t lun_blocks, uint32_t max_entries)
{
	memset(c, 0, sizeof(*c));
	if (luns == 0 || luns > PAIR_LUNS_MAX || max_entries == 0)
		return -EINVAL;
	c->nv = nv;
	c->region_start = mirror_region_start(p, region);
	c->region_bytes = mirror_region_end(p, region) - c->region_start;
	c->cap = max_entries;
	c->e = calloc(c->cap, sizeof(*c->e));
	c->luns = luns;
	c->lun_blocks = lun_blocks;
	for (uint32_t i = 0; i < luns; i++)
		c->map[i] = calloc(lun_blocks, sizeof(uint64_t));
	for (uint32_t i = 0; i < luns; i++)
		if (!c->map[i])
			goto oom;
	if (!c->e)
		goto oom;
	/* fixed at boot, resident from the start (journal.c) */
	mirror_emu_prefault((uint8_t *)c->e, (size_t)c->cap * sizeof(*c->e));
	for (uint32_t i = 0; i < luns; i++)
		mirror_emu_prefault((uint8_t *)c->map[i], lun_blocks * sizeof(uint64_t));
	c->next_id = c->tail_id = c->destage_id = 1;
	return 0;
oom:
	pair_cache_free(c);
	return -ENOMEM;
}

void pair_cache_free(struct pair_cache *c)
{
	free(c->e);
	c->e = NULL;
	for (uint32_t i = 0; i < PAIR_LUNS_MAX; i++) {
		free(c->map[i]);
		c->map[i] = NULL;
	}
}

void pair_cache_clear(struct pair_cache *c)
{
	memset(c->e, 0, c->cap * sizeof(*c->e));
	for (uint32_t i = 0; i < c->luns; i++)
		memset(c->map[i], 0, c->lun_blocks * sizeof(uint64_t));
	c->head = c->used = 0;
	c->tail_id = c->destage_id = c->next_id;
}

struct pair_entry *pair_cache_get(struct pair_cache *c, uint64_t id)
{
	struct pair_entry *e = &c->e[id % c->cap];

	return id && e->id == id && e->state != E_FREE ? e : NULL;
}

/* The NVRAM address of ring offset off. */
static uint32_t ring_addr(const struct pair_cache *c, uint32_t off)
{
	return c->region_start + off % c->region_bytes;
}

uint32_t pair_cache_region_offset(const struct pair_cache *c, const struct pair_entry *e)
{
	(void)c;
	return e->ring_off;
}

/* Copies len bytes between the ring at off and buf, across the wrap. */
static void ring_io(const struct pair_cache *c, uint32_t off, uint8_t *buf, uint32_t len,
		    bool store)
{
	off %= c->region_bytes;
	while (len) {
		uint32_t n = c->region_bytes - off < len ? c->region_bytes - off : len;
		if (store)
			mirror_nvram_store(c->nv, c->region_start + off, buf, n);
		else
			mirror_nvram_load(c->nv, c->region_start + off, buf, n);
		buf += n;
		len -= n;
		off = 0;
	}
}

struct pair_entry *pair_cache_put(struct pair_cache *c, uint32_t lun, uint64_t lba,
				  uint32_t blocks, const uint8_t *data)
{
	uint32_t bytes = blocks * MIRROR_BLOCK_SIZE;
	struct pair_entry *e;

	if (lun >= c->luns || blocks == 0 || lba + blocks > c->lun_blocks)
		return NULL;
	e = &c->e[c->next_id % c->cap];
	if (c->used + bytes > c->region_bytes || e->state != E_FREE) {
		c->full_waits++;
		return NULL;
	}
	memset(e, 0, sizeof(*e));
	e->id = c->next_id++;
	e->lun = lun;
	e->lba = lba;
	e->blocks = blocks;
	e->ring_off = c->head;
	e->nvram_addr = ring_addr(c, c->head);
	e->state = E_MIRRORING;
	ring_io(c, c->head, (uint8_t *)(uintptr_t)data, bytes, true);
	/* the ring's own copy is what the controller serves from: its
	 * validity follows the entry */
	for (uint32_t off = 0; off < bytes;) {
		uint32_t at = (c->head + off) % c->region_bytes;
		uint32_t n = c->region_bytes - at < bytes - off ? c->region_bytes - at : bytes - off;
		mirror_nvram_mark_valid(c->nv, c->region_start + at, n);
		off += n;
	}
	c->head = (c->head + bytes) % c->region_bytes;
	c->used += bytes;
	for (uint32_t i = 0; i < blocks; i++)
		c->map[lun][lba + i] = e->id;
	c->writes++;
	return e;
}

void pair_cache_copy(const struct pair_cache *c, const struct pair_entry *e, uint8_t *out)
{
	ring_io(c, e->ring_off, out, e->blocks * MIRROR_BLOCK_SIZE, false);
}

void pair_cache_overlay(struct pair_cache *c, uint32_t lun, uint64_t lba, uint32_t blocks,
			uint8_t *buf)
{
	if (lun >= c->luns || lba + blocks > c->lun_blocks)
		return;
	for (uint32_t i = 0; i < blocks; i++) {
		uint64_t id = c->map[lun][lba + i];
		struct pair_entry *e = id ? pair_cache_get(c, id) : NULL;
		if (!e)
			continue;
		uint32_t k = (uint32_t)(lba + i - e->lba);
		ring_io(c, e->ring_off + k * MIRROR_BLOCK_SIZE, buf + (size_t)i * MIRROR_BLOCK_SIZE,
			MIRROR_BLOCK_SIZE, false);
		c->hits++;
	}
}

struct pair_entry *pair_cache_next_dirty(struct pair_cache *c)
{
	while (c->destage_id < c->next_id) {
		struct pair_entry *e = &c->e[c->destage_id % c->cap];
		if (e->id != c->destage_id || e->state == E_FREE) {
			c->destage_id++; /* dropped */
			continue;
		}
		if (e->state == E_DESTAGED) {
			c->destage_id++;
			continue;
		}
		return e->state == E_DIRTY ? e : NULL;
	}
	return NULL;
}

void pair_cache_destaged(struct pair_cache *c, struct pair_entry *e)
{
	e->state = E_DESTAGED;
	c->destaged++;
	c->destaged_blocks += e->blocks;
	/* the array now has these blocks, unless a newer entry does */
	for (uint32_t i = 0; i < e->blocks; i++)
		if (c->map[e->lun][e->lba + i] == e->id)
			c->map[e->lun][e->lba + i] = 0;
	if (e->id == c->destage_id)
		c->destage_id++;
}

unsigned pair_cache_reclaim(struct pair_cache *c)
{
	unsigned n = 0;

	while (c->tail_id < c->next_id) {
		struct pair_entry *e = &c->e[c->tail_id % c->cap];
		if (e->id == c->tail_id && e->state != E_FREE &&
		    (e->state != E_DESTAGED || !e->released))
			break;
		if (e->id == c->tail_id && e->state != E_FREE) {
			uint32_t bytes = e->blocks * MIRROR_BLOCK_SIZE;
			for (uint32_t off = 0; off < bytes;) {
				uint32_t at = (e->ring_off + off) % c->region_bytes;
				uint32_t k = c->region_bytes - at < bytes - off ? c->region_bytes - at
										 : bytes - off;
				mirror_nvram_mark_invalid(c->nv, c->region_start + at, k);
				off += k;
			}
			c->used -= bytes;
			e->state = E_FREE;
			n++;
		}
		c->tail_id++;
	}
	return n;
}

void pair_cache_backlog(const struct pair_cache *c, uint64_t *entries, uint64_t *bytes)
{
	uint64_t n = 0, b = 0;

	for (uint64_t id = c->tail_id; id < c->next_id; id++) {
		const struct pair_entry *e = &c->e[id % c->cap];
		if (e->id == id && (e->state == E_MIRRORING || e->state == E_DIRTY)) {
			n++;
			b += (uint64_t)e->blocks * MIRROR_BLOCK_SIZE;
		}
	}
	*entries = n;
	*bytes = b;
}
