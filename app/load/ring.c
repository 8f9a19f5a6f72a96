/* mirror-load's NVRAM ring (the sender's write cache) and its rate limit.
 * Pure but for the ring's one allocation at init. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "app/load/load.h"

int mirror_load_ring_init(struct mirror_load_ring *r, uint32_t start, uint32_t end, unsigned cap)
{
	memset(r, 0, sizeof(*r));
	if (end <= start || start % MIRROR_BLOCK_SIZE || end % MIRROR_BLOCK_SIZE || cap == 0)
		return -EINVAL;
	r->e = calloc(cap, sizeof(*r->e));
	if (!r->e)
		return -ENOMEM;
	r->start = start;
	r->end = end;
	r->head = start;
	r->cap = cap;
	return 0;
}

void mirror_load_ring_free(struct mirror_load_ring *r)
{
	free(r->e);
	memset(r, 0, sizeof(*r));
}

int mirror_load_ring_alloc(struct mirror_load_ring *r, uint32_t bytes, uint32_t *addr,
			   unsigned *ticket)
{
	uint64_t size = (uint64_t)r->end - r->start;

	/* whole blocks: the splitter and the descriptors address blocks */
	uint64_t need = ((uint64_t)bytes + MIRROR_BLOCK_SIZE - 1) / MIRROR_BLOCK_SIZE *
			MIRROR_BLOCK_SIZE;
	if (need == 0 || need > size)
		return -E2BIG;
	if (r->count == r->cap || r->used + need > size)
		return -EAGAIN;
	unsigned t = (r->first + r->count) % r->cap;
	r->e[t].bytes = (uint32_t)need;
	r->e[t].live = true;
	r->count++;
	r->used += need;
	*addr = r->head;
	*ticket = t;
	r->head = (uint32_t)(r->start + ((uint64_t)r->head - r->start + need) % size);
	return 0;
}

void mirror_load_ring_release(struct mirror_load_ring *r, unsigned ticket)
{
	if (ticket >= r->cap || !r->e[ticket].live)
		return;
	r->e[ticket].live = false;
	/* space comes back only from the oldest end, in order */
	while (r->count && !r->e[r->first].live) {
		r->used -= r->e[r->first].bytes;
		r->first = (r->first + 1) % r->cap;
		r->count--;
	}
}

void mirror_load_rate_init(struct mirror_load_rate *r, double per_sec, unsigned burst,
			   uint64_t now_ns)
{
	r->per_sec = per_sec > 0 ? per_sec : 0;
	r->start_ns = now_ns;
	r->granted = 0;
	r->burst = burst ? burst : 1;
}

/* Writes due by now since start, counting the first one at start. */
static uint64_t due(const struct mirror_load_rate *r, uint64_t now_ns)
{
	if (now_ns <= r->start_ns)
		return 1;
	return (uint64_t)((double)(now_ns - r->start_ns) * r->per_sec / 1e9) + 1u;
}

bool mirror_load_rate_take(struct mirror_load_rate *r, uint64_t now_ns)
{
	if (r->per_sec <= 0) {
		r->granted++;
		return true;
	}
	uint64_t d = due(r, now_ns);
	if (d > r->granted + r->burst) {
		/* fell behind (a stall): forget the debt beyond one burst */
		uint64_t skip = d - r->granted - r->burst;
		r->start_ns += (uint64_t)((double)skip * 1e9 / r->per_sec);
		d = due(r, now_ns);
	}
	if (d <= r->granted)
		return false;
	r->granted++;
	return true;
}

uint64_t mirror_load_rate_wait(const struct mirror_load_rate *r, uint64_t now_ns)
{
	if (r->per_sec <= 0 || due(r, now_ns) > r->granted)
		return 0;
	/* the granted-th write (0-based) is due at start + granted / rate */
	uint64_t at = r->start_ns + (uint64_t)((double)r->granted * 1e9 / r->per_sec);
	/* rounding: not due yet, but due within a microsecond */
	return at > now_ns ? at - now_ns : 1000u;
}
