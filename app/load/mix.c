/* mirror-load's stream of host writes: the size mix, the pseudo-random
 * generator and the LBA of each write.  Pure. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/load/load.h"

#include "base/why.h"

#define WEIGHT_MAX 1000000u
/* Random writes of 4 KiB or more start on a 4 KiB boundary (8 blocks). */
#define ALIGN_BLOCKS 8u

/* One "SIZE[:WEIGHT]" entry of len bytes at s. */
static int parse_entry(const char *s, size_t len, struct mirror_load_mix *m, char *why,
		       size_t why_len)
{
	char tok[64], *colon;
	uint64_t size;
	unsigned long weight = 1;

	if (len == 0 || len >= sizeof(tok))
		return mirror_fail(-EINVAL, why, why_len, "entry %u of the mix is %s", m->n + 1,
				   len ? "too long" : "empty");
	memcpy(tok, s, len);
	tok[len] = '\0';
	colon = strchr(tok, ':');
	if (colon) {
		char *end;
		*colon = '\0';
		errno = 0;
		if (colon[1] < '0' || colon[1] > '9')
			return mirror_fail(-EINVAL, why, why_len,
					   "entry %u of the mix ('%.*s'): weight '%s' is not a number",
					   m->n + 1, (int)len, s, colon + 1);
		weight = strtoul(colon + 1, &end, 10);
		if (errno || *end || weight < 1 || weight > WEIGHT_MAX)
			return mirror_fail(-EINVAL, why, why_len,
					   "entry %u of the mix ('%.*s'): weight must be 1..%u",
					   m->n + 1, (int)len, s, WEIGHT_MAX);
	}
	if (mirror_parse_size(tok, &size) < 0 || size == 0 || size % MIRROR_BLOCK_SIZE ||
	    size > MIRROR_LOAD_WRITE_MAX)
		return mirror_fail(-EINVAL, why, why_len,
				   "entry %u of the mix ('%.*s'): size '%s' must be a multiple of 512 "
				   "from 512 to 16M (e.g. 4k)", m->n + 1, (int)len, s, tok);
	if (m->n == MIRROR_LOAD_MIX_MAX)
		return mirror_fail(-EINVAL, why, why_len, "the mix has more than %u sizes",
				   MIRROR_LOAD_MIX_MAX);
	m->bytes[m->n] = (uint32_t)size;
	m->weight[m->n] = (unsigned)weight;
	m->total_weight += (unsigned)weight;
	m->n++;
	return 0;
}

int mirror_load_mix_parse(const char *s, struct mirror_load_mix *m, char *why, size_t why_len)
{
	memset(m, 0, sizeof(*m));
	if (!s || !*s)
		return mirror_fail(-EINVAL, why, why_len, "the mix is empty (e.g. 4k:80,64k:20)");
	for (;;) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		int rc = parse_entry(s, len, m, why, why_len);
		if (rc < 0) {
			memset(m, 0, sizeof(*m));
			return rc;
		}
		if (!comma)
			return 0;
		s = comma + 1;
	}
}

uint32_t mirror_load_mix_pick(const struct mirror_load_mix *m, uint64_t r)
{
	if (!m->n)
		return 0;
	uint64_t x = r % m->total_weight;
	for (unsigned i = 0; i < m->n; i++) {
		if (x < m->weight[i])
			return m->bytes[i];
		x -= m->weight[i];
	}
	return m->bytes[m->n - 1];
}

uint32_t mirror_load_mix_max(const struct mirror_load_mix *m)
{
	uint32_t max = 0;

	for (unsigned i = 0; i < m->n; i++)
		if (m->bytes[i] > max)
			max = m->bytes[i];
	return max;
}

void mirror_load_mix_format(const struct mirror_load_mix *m, char *buf, size_t len)
{
	size_t at = 0;

	if (len)
		buf[0] = '\0';
	for (unsigned i = 0; i < m->n && at < len; i++) {
		uint32_t b = m->bytes[i];
		const char *unit = "";
		if (b % (1024u * 1024u) == 0) {
			b /= 1024u * 1024u;
			unit = "M";
		} else if (b % 1024u == 0) {
			b /= 1024u;
			unit = "K";
		}
		int n = snprintf(buf + at, len - at, "%s%u%s:%u", i ? "," : "", (unsigned)b, unit,
				 m->weight[i]);
		if (n < 0)
			break;
		at += (size_t)n;
	}
}

uint64_t mirror_load_rand(uint64_t *state)
{
	/* splitmix64 (Steele, Lea, Flood 2014): every seed gives a full
	 * period and well-mixed output, which is all a load needs. */
	uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

int mirror_load_gen_init(struct mirror_load_gen *g, const struct mirror_load_mix *mix,
			 enum mirror_load_lba_mode mode, uint64_t lba_first, uint64_t lba_count,
			 uint64_t seed, char *why, size_t why_len)
{
	memset(g, 0, sizeof(*g));
	if (!mix->n)
		return mirror_fail(-EINVAL, why, why_len, "the mix is empty");
	uint64_t max_blocks = mirror_load_mix_max(mix) / MIRROR_BLOCK_SIZE;
	if (lba_count < max_blocks)
		return mirror_fail(-EINVAL, why, why_len,
				   "the LBA range (%llu blocks) cannot hold the mix's largest write "
				   "(%llu blocks)", (unsigned long long)lba_count,
				   (unsigned long long)max_blocks);
	if (lba_first + lba_count > (UINT64_C(1) << 32))
		return mirror_fail(-EINVAL, why, why_len,
				   "the LBA range ends beyond 2^32 blocks, which the mirror commands "
				   "cannot address");
	g->mix = *mix;
	g->lba_mode = mode;
	g->lba_first = lba_first;
	g->lba_count = lba_count;
	g->rng = seed;
	return 0;
}

void mirror_load_gen_next(struct mirror_load_gen *g, uint32_t *bytes, uint32_t *lba)
{
	uint32_t b = mirror_load_mix_pick(&g->mix, mirror_load_rand(&g->rng));
	uint64_t blocks = b / MIRROR_BLOCK_SIZE;
	uint64_t rel;

	if (g->lba_mode == MIRROR_LOAD_LBA_SEQ) {
		if (g->seq_next + blocks > g->lba_count)
			g->seq_next = 0;
		rel = g->seq_next;
		g->seq_next += blocks;
	} else {
		uint64_t slots = g->lba_count - blocks + 1; /* >= 1: checked at init */
		rel = mirror_load_rand(&g->rng) % slots;
		if (blocks >= ALIGN_BLOCKS)
			rel -= rel % ALIGN_BLOCKS;
	}
	g->writes++;
	*bytes = b;
	*lba = (uint32_t)(g->lba_first + rel);
}
