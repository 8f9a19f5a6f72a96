/* The partner's writes in arrival order (journal.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mirror/nvram.h>

#include "app/emu/server.h"
#include "app/pair/journal.h"

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

int pair_journal_init(struct pair_journal *j, const struct mirror_profile *p, unsigned region)
{
	memset(j, 0, sizeof(*j));
	j->profile = *p;
	j->region_start = mirror_region_start(p, region);
	j->region_blocks = (mirror_region_end(p, region) - j->region_start) / MIRROR_BLOCK_SIZE;
	/* every live operation owns at least one block */
	j->ops_cap = pow2_at_least(j->region_blocks);
	j->owner = calloc(j->region_blocks, sizeof(*j->owner));
	j->offset = calloc(j->region_blocks, sizeof(*j->offset));
	j->ops = calloc(j->ops_cap, sizeof(*j->ops));
	if (!j->owner || !j->offset || !j->ops) {
		pair_journal_free(j);
		return -ENOMEM;
	}
	/* A controller's tables are fixed at boot: resident from the start,
	 * not faulted in as the operation ids go round the ring (which read
	 * as growth for 20 s of a soak, bench/soak.sh). */
	mirror_emu_prefault((uint8_t *)j->owner, j->region_blocks * sizeof(*j->owner));
	mirror_emu_prefault((uint8_t *)j->offset, j->region_blocks * sizeof(*j->offset));
	mirror_emu_prefault((uint8_t *)j->ops, j->ops_cap * sizeof(*j->ops));
	j->next_id = 1;
	return 0;
}

void pair_journal_free(struct pair_journal *j)
{
	free(j->owner);
	free(j->offset);
	free(j->ops);
	j->owner = NULL;
	j->offset = NULL;
	j->ops = NULL;
}

void pair_journal_reset(struct pair_journal *j)
{
	memset(j->session, 0, sizeof(j->session));
	memset(j->owner, 0, j->region_blocks * sizeof(*j->owner));
	memset(j->offset, 0, j->region_blocks * sizeof(*j->offset));
	memset(j->ops, 0, j->ops_cap * sizeof(*j->ops));
}

static struct pair_op *op_of(const struct pair_journal *j, uint32_t id)
{
	struct pair_op *o = &j->ops[id & (j->ops_cap - 1)];

	return id && o->id == id ? o : NULL;
}

/* The block index in the region, or -1 outside it. */
static int64_t block_of(const struct pair_journal *j, uint32_t addr)
{
	if (addr < j->region_start)
		return -1;
	uint64_t b = (addr - j->region_start) / MIRROR_BLOCK_SIZE;
	return b < j->region_blocks ? (int64_t)b : -1;
}

/* The session slot of a sender's name: found, or the least recently used
 * taken over (a sender that has not written for 32 sessions has nothing
 * left here worth replaying: every later session released or overwrote
 * it). */
static uint8_t session_of(struct pair_journal *j, const char *name)
{
	unsigned lru = 0;

	if (!name)
		name = "";
	j->session_clock++;
	for (unsigned i = 0; i < PAIR_SESSIONS; i++) {
		struct pair_session *s = &j->session[i];
		if (s->last_use && strcmp(s->name, name) == 0) {
			s->last_use = j->session_clock;
			return (uint8_t)i;
		}
		if (s->last_use < j->session[lru].last_use)
			lru = i;
	}
	struct pair_session *s = &j->session[lru];
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->last_use = j->session_clock;
	return (uint8_t)lru;
}

static void on_table(void *arg, const char *sender, uint32_t generation)
{
	struct pair_journal *j = arg;
	struct pair_session *s = &j->session[session_of(j, sender)];

	s->epoch_known = true;
	s->epoch = PAIR_GEN_EPOCH(generation);
}

static void on_invalidated(void *arg, const struct mirror_rx_op *rop)
{
	struct pair_journal *j = arg;
	uint32_t id = j->next_id++;
	struct pair_op *o;
	uint32_t off = 0;

	if (j->next_id == 0)
		j->next_id = 1;
	o = &j->ops[id & (j->ops_cap - 1)];
	if (o->id && o->state != OP_DEAD && o->state != OP_FREE)
		j->ops_broken++; /* overtaken in the table: cannot be replayed any more */
	memset(o, 0, sizeof(*o));
	o->id = id;
	o->volume = (int16_t)rop->volume;
	o->lba = rop->lba;
	o->blocks = rop->blocks;
	o->state = OP_STORING;
	o->session = session_of(j, rop->sender);
	for (unsigned e = 0; e < rop->sg_count; e++) {
		uint32_t n = rop->sg[e].bytes / MIRROR_BLOCK_SIZE;
		for (uint32_t k = 0; k < n; k++, off++) {
			int64_t b = block_of(j, rop->sg[e].nvram_addr + k * MIRROR_BLOCK_SIZE);
			if (b < 0)
				continue;
			struct pair_op *old = op_of(j, j->owner[b]);
			if (old && old->state != OP_DEAD) {
				/* a newer operation took this block: the older one
				 * is no longer whole */
				old->state = OP_DEAD;
				j->ops_broken++;
			}
			j->owner[b] = id;
			j->offset[b] = (uint16_t)off;
		}
	}
}

static void on_stored(void *arg, const struct mirror_rx_op *rop)
{
	struct pair_journal *j = arg;
	int64_t b = rop->sg_count ? block_of(j, rop->sg[0].nvram_addr) : -1;
	struct pair_op *o = b >= 0 ? op_of(j, j->owner[b]) : NULL;

	/* the operation whose ranges these are; with a sender that never
	 * overlaps two operations in flight it is the one invalidated last */
	if (!o || o->state != OP_STORING || o->lba != rop->lba || o->blocks != rop->blocks) {
		j->ops_unmatched++;
		return;
	}
	o->state = OP_STORED;
	j->ops_stored++;
}

static void on_released(void *arg, uint32_t addr, uint32_t blocks)
{
	struct pair_journal *j = arg;

	for (uint32_t k = 0; k < blocks; k++) {
		int64_t b = block_of(j, addr + k * MIRROR_BLOCK_SIZE);
		if (b < 0)
			continue;
		struct pair_op *o = op_of(j, j->owner[b]);
		if (o && o->state != OP_DEAD) {
			o->state = OP_DEAD;
			j->ops_released++;
		}
		j->owner[b] = 0;
	}
}

void pair_journal_attach(struct pair_journal *j, struct mirror_receiver *rx)
{
	j->rx = rx;
	rx->journal.arg = j;
	rx->journal.invalidated = on_invalidated;
	rx->journal.stored = on_stored;
	rx->journal.released = on_released;
	rx->journal.table = on_table;
}

static int cmp_order(const void *a, const void *b)
{
	const struct pair_replay_block *x = a, *y = b;

	/* arrival numbers wrap at 2^32: compare as serial numbers */
	int32_t d = (int32_t)(x->id - y->id);
	if (d)
		return d < 0 ? -1 : 1;
	return x->lba < y->lba ? -1 : x->lba > y->lba;
}

static int cmp_reverse(const void *a, const void *b)
{
	return -cmp_order(a, b);
}

int pair_journal_replay_list(const struct pair_journal *j, uint64_t epoch, unsigned flags,
			     struct pair_replay_block **out, size_t *n)
{
	struct pair_replay_block *v = NULL;
	size_t cnt = 0, cap = 0;

	*out = NULL;
	*n = 0;
	for (uint32_t b = 0; b < j->region_blocks; b++) {
		const struct pair_op *o = op_of(j, j->owner[b]);
		uint32_t addr = j->region_start + b * MIRROR_BLOCK_SIZE;
		if (!o || o->state == OP_DEAD)
			continue;
		if (!(flags & PAIR_REPLAY_INVALID)) {
			/* only whole, valid copies of the partner's current epoch */
			const struct pair_session *s = &j->session[o->session];
			if (o->state != OP_STORED || (s->epoch_known && s->epoch != (epoch & 0xffffu)) ||
			    !mirror_nvram_block_valid(j->rx->nvram, addr / MIRROR_BLOCK_SIZE))
				continue;
		}
		if (cnt == cap) {
			size_t nc = cap ? cap * 2 : 1024;
			struct pair_replay_block *nv = realloc(v, nc * sizeof(*v));
			if (!nv) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
			cap = nc;
		}
		v[cnt].id = o->id;
		v[cnt].volume = o->volume;
		v[cnt].lba = o->lba + j->offset[b];
		v[cnt].nvram_addr = addr;
		cnt++;
	}
	if (cnt)
		qsort(v, cnt, sizeof(*v), (flags & PAIR_REPLAY_NEWEST_FIRST) ? cmp_reverse : cmp_order);
	*out = v;
	*n = cnt;
	return 0;
}

void pair_journal_count(const struct pair_journal *j, uint64_t *ops, uint64_t *blocks)
{
	uint64_t o = 0, b = 0;

	for (uint32_t i = 0; i < j->ops_cap; i++)
		if (j->ops[i].id && j->ops[i].state == OP_STORED)
			o++;
	for (uint32_t i = 0; i < j->region_blocks; i++) {
		const struct pair_op *op = op_of(j, j->owner[i]);
		if (op && op->state == OP_STORED)
			b++;
	}
	*ops = o;
	*blocks = b;
}
