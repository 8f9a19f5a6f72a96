/* Destage (source Fig. 2 block 223, Fig. 5 block 536): cached writes go to
 * the disk array in arrival order, then their partner copies are released.
 * Also the LUN-to-array mapping every array access goes through. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "app/pair/ctl.h"
#include "base/log.h"

/* A LUN lies on whole stripes from layout.lun_start (state.h). */
int array_write_lun(struct ctl *c, uint32_t lun, uint64_t lba, uint32_t blocks, const void *buf)
{
	char why[256];
	int rc;

	if (lun >= c->layout.luns || lba + blocks > c->layout.lun_blocks)
		return -ERANGE;
	rc = mirror_raid5_write(c->array, c->layout.lun_start[lun] + lba, blocks, buf, why,
				sizeof(why));
	if (rc < 0) {
		c->destage_errors++;
		mirror_log(MIRROR_LOG_ERROR, "disk array: %s", why);
	}
	return rc;
}

int array_read_lun(struct ctl *c, uint32_t lun, uint64_t lba, uint32_t blocks, void *buf)
{
	char why[256];
	int rc;

	if (lun >= c->layout.luns || lba + blocks > c->layout.lun_blocks)
		return -ERANGE;
	rc = mirror_raid5_read(c->array, c->layout.lun_start[lun] + lba, blocks, buf, why,
			       sizeof(why));
	if (rc < 0)
		mirror_log(MIRROR_LOG_ERROR, "disk array: %s", why);
	return rc;
}

/* One entry to the array. */
static int destage_one(struct ctl *c, struct pair_entry *e)
{
	pair_cache_copy(&c->cache, e, c->scratch);
	int rc = array_write_lun(c, e->lun, e->lba, e->blocks, c->scratch);
	if (rc < 0)
		return rc;
	pair_cache_destaged(&c->cache, e);
	link_release(c, e);
	return 0;
}

/* Up to max entries that have waited destage_delay_ms (a write cache that
 * destaged at once would hold nothing for a takeover to replay, and would
 * turn every overwrite into a disk write). */
int destage_tick(struct ctl *c, uint64_t now, unsigned max)
{
	unsigned n = 0;
	uint64_t delay_ns = (uint64_t)c->cfg.destage_delay_ms * 1000000u;
	uint64_t now_ns = now * 1000000u;
	struct pair_entry *e;

	while (n < max && (e = pair_cache_next_dirty(&c->cache))) {
		if (now_ns < e->t_begin_ns + delay_ns)
			break;
		if (destage_one(c, e) < 0)
			break;
		fault_event(c, FP_DURING_DESTAGE);
		n++;
	}
	if (n)
		link_flush_releases(c);
	pair_cache_reclaim(&c->cache);
	if (n)
		host_room_retry(c);
	return (int)n;
}

/* Everything that may be destaged, now, in order (write-through, a link
 * that went down, a failback, a clean stop).  Entries still waiting for
 * their mirror are taken too: the array is as good a copy as the partner's.
 * Their hosts are answered by the caller (host_ack_destaged) when it is
 * safe to, and only then is the NVRAM reclaimed.  Returns 0, or the
 * array's error (the rest stays cached). */
int destage_all(struct ctl *c)
{
	struct pair_entry *e;

	for (uint64_t id = c->cache.destage_id; id < c->cache.next_id; id++) {
		e = pair_cache_get(&c->cache, id);
		if (e && e->state == E_MIRRORING)
			e->state = E_DIRTY;
	}
	while ((e = pair_cache_next_dirty(&c->cache))) {
		int rc = destage_one(c, e);
		if (rc < 0)
			return rc;
	}
	link_flush_releases(c);
	return 0;
}
