/* A controller's own write cache: host writes held in its region of the
 * NVRAM (source Fig. 1 regions 70/90: each controller writes into its own
 * region, its partner keeps the mirror in the same region of its NVRAM),
 * as a ring, in arrival order.
 *
 * An entry is one host write (at most 1 MiB).  Its life: MIRRORING (stored
 * locally, mirror operations in flight), DIRTY (the partner holds it, or
 * no mirror is needed: the host may be acknowledged; waits for destage),
 * DESTAGED (on the disk array; the partner's copy may be released), then
 * freed once MIRROR RELEASE for it has been sent (or none is needed), and
 * only then is its NVRAM reused, so the release always travels before the
 * operation that reuses the NVRAM (journal.h says why that matters).
 * Destage goes strictly in arrival order, so the last write of a block is
 * the last one the array sees.  Reads see the newest cached copy of each
 * block over the array's. */
#ifndef MIRROR_APP_PAIR_CACHE_H
#define MIRROR_APP_PAIR_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mirror/nvram.h>
#include <mirror/profile.h>

#include "app/pair/state.h"

enum pair_entry_state { E_FREE = 0, E_MIRRORING, E_DIRTY, E_DESTAGED };

struct pair_entry {
	uint64_t id;
	uint32_t lun;
	uint64_t lba;           /* within the LUN */
	uint32_t blocks;
	uint32_t nvram_addr;    /* NVRAM byte address of the first block */
	uint32_t ring_off;      /* where it starts in the ring */
	uint8_t state;
	uint8_t ops_left;       /* mirror operations not answered yet */
	bool released;          /* the partner was told, or needs not be */
	bool mirrored;          /* the partner holds it (GOOD seen) */
	void *waiter;           /* the host command to answer, if any */
	uint64_t t_begin_ns;
};

struct pair_cache {
	struct mirror_nvram *nv;
	uint32_t region_start, region_bytes;
	uint32_t head;          /* next free byte of the ring */
	uint32_t used;          /* bytes held by live entries */
	struct pair_entry *e;   /* entries, by id % cap */
	uint32_t cap;
	uint64_t tail_id;       /* oldest live entry */
	uint64_t next_id;
	uint64_t destage_id;    /* next entry to destage */
	uint32_t luns;
	uint64_t lun_blocks;
	uint64_t *map[PAIR_LUNS_MAX]; /* per block: the id of its newest entry */
	/* counters */
	uint64_t writes, destaged, destaged_blocks, hits, full_waits;
};

int pair_cache_init(struct pair_cache *c, struct mirror_nvram *nv, const struct mirror_profile *p,
		    unsigned region, uint32_t luns, uint64_t lun_blocks, uint32_t max_entries);
void pair_cache_free(struct pair_cache *c);
/* Drops every entry (a restarted controller whose writes its partner has
 * replayed). */
void pair_cache_clear(struct pair_cache *c);

/* A new entry for a host write of blocks at lun/lba with its data stored
 * in the NVRAM; NULL when the ring has no room now (back-pressure: retry
 * after destage frees some). */
struct pair_entry *pair_cache_put(struct pair_cache *c, uint32_t lun, uint64_t lba,
				  uint32_t blocks, const uint8_t *data);
struct pair_entry *pair_cache_get(struct pair_cache *c, uint64_t id);
/* The entry's NVRAM offset within the region (for struct mirror_write). */
uint32_t pair_cache_region_offset(const struct pair_cache *c, const struct pair_entry *e);

/* Copies the entry's data out of the ring (contiguous). */
void pair_cache_copy(const struct pair_cache *c, const struct pair_entry *e, uint8_t *out);
/* Overlays the newest cached copy of each block of lun/lba.. on buf. */
void pair_cache_overlay(struct pair_cache *c, uint32_t lun, uint64_t lba, uint32_t blocks,
			uint8_t *buf);

/* Destage: the next entry in arrival order if it is DIRTY, else NULL.
 * After writing it to the array the caller calls pair_cache_destaged. */
struct pair_entry *pair_cache_next_dirty(struct pair_cache *c);
void pair_cache_destaged(struct pair_cache *c, struct pair_entry *e);
/* Frees released destaged entries from the tail; returns how many. */
unsigned pair_cache_reclaim(struct pair_cache *c);

/* Entries not yet destaged, and their bytes. */
void pair_cache_backlog(const struct pair_cache *c, uint64_t *entries, uint64_t *bytes);

#endif
