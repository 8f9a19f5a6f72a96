/* The sender's splitter: a host write of any size at any NVRAM placement
 * becomes mirror operations of at most 1 MiB (source Fig. 3: 64 elements
 * x 16 KiB; "breaks the user data into separate pieces which are 1 Mbyte
 * or less"), each sent on the path Fig. 7 allows. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <mirror/error.h>
#include <mirror/path.h>

#include "base/why.h"

int mirror_split_init(struct mirror_splitter *sp, const struct mirror_profile *p,
		      const struct mirror_write *w, const struct mirror_sender_state *s,
		      enum mirror_path_policy policy, uint32_t first_sequence, char *why,
		      size_t why_len)
{
	memset(sp, 0, sizeof(*sp));
	if (w->region > 1)
		return mirror_fail(-EINVAL, why, why_len, "region must be 0 or 1");
	uint32_t rs = mirror_region_start(p, w->region), re = mirror_region_end(p, w->region);
	if (w->bytes == 0 || w->bytes % MIRROR_BLOCK_SIZE)
		return mirror_fail(-EINVAL, why, why_len, "write size must be a non-zero multiple of 512");
	if (w->nvram_addr % MIRROR_BLOCK_SIZE)
		return mirror_fail(-EINVAL, why, why_len, "NVRAM address must be a multiple of 512");
	if (w->nvram_addr < rs || w->nvram_addr >= re)
		return mirror_fail(-EINVAL, why, why_len, "NVRAM address is outside the sender's region");
	if (w->bytes > (uint64_t)(re - rs))
		return mirror_fail(-EINVAL, why, why_len, "write is larger than the sender's NVRAM region");
	if ((uint64_t)w->lba + w->bytes / MIRROR_BLOCK_SIZE > (1ull << 32))
		return mirror_fail(-EINVAL, why, why_len, "LBA + blocks is beyond 2^32");
	sp->profile = p;
	sp->w = *w;
	if (s) {
		sp->state = *s;
	} else {
		sp->state.partner_initialized = true;
	}
	sp->policy = policy;
	sp->next_sequence = first_sequence;
	return 0;
}

/* Bytes of NVRAM over which the shared high descriptor bits stay the same
 * (Fig. 7 block 716), or 0 for the 18-bit layout, which shares none. */
static uint64_t high_bits_span(const struct mirror_profile *p)
{
	switch (p->small_layout) {
	case MIRROR_SMALL_CDB12_20BIT:
		return (uint64_t)MIRROR_BLOCK_SIZE << 16;
	case MIRROR_SMALL_CDB16:
		return (uint64_t)MIRROR_BLOCK_SIZE << 12;
	default:
		return 0;
	}
}

/* Where the next element may end: the region's end (the ring wraps) and,
 * when every op must go small, the boundary where the descriptor's shared
 * high bits change. */
static uint32_t element_limit(const struct mirror_splitter *sp, uint32_t pos)
{
	const struct mirror_profile *p = sp->profile;
	uint64_t lim = (uint64_t)pos + MIRROR_SG_ELEMENT_MAX_BYTES;
	uint32_t re = mirror_region_end(p, sp->w.region);

	if (lim > re)
		lim = re;
	uint64_t span = high_bits_span(p);
	if (sp->policy == MIRROR_POLICY_SMALL && span) {
		uint64_t boundary = ((uint64_t)pos / span + 1) * span;
		if (lim > boundary)
			lim = boundary;
	}
	return (uint32_t)(lim - pos);
}

int mirror_split_next(struct mirror_splitter *sp, struct mirror_op *op)
{
	const struct mirror_profile *p = sp->profile;
	uint64_t left = sp->w.bytes - sp->done;

	if (!p || left == 0)
		return 0;
	uint32_t rs = mirror_region_start(p, sp->w.region), re = mirror_region_end(p, sp->w.region);
	uint32_t rlen = re - rs;
	unsigned max_elems = sp->policy == MIRROR_POLICY_SMALL ? mirror_small_sg_max(p)
							       : MIRROR_METADATA_SG_MAX;
	uint64_t max_bytes = (uint64_t)MIRROR_LARGE_MAX_BLOCKS * MIRROR_BLOCK_SIZE;

	memset(op, 0, sizeof(*op));
	op->region = sp->w.region;
	op->data_offset = sp->done;
	op->lba = (uint32_t)(sp->w.lba + sp->done / MIRROR_BLOCK_SIZE);
	uint64_t taken = 0;
	while (taken < left && taken < max_bytes && op->sg_count < max_elems) {
		uint32_t pos = (uint32_t)(rs + ((uint64_t)(sp->w.nvram_addr - rs) + sp->done + taken) % rlen);
		uint64_t span = high_bits_span(p);
		/* A forced-small op ends where the shared high bits change. */
		if (sp->policy == MIRROR_POLICY_SMALL && span && op->sg_count &&
		    pos / span != op->sg[0].nvram_addr / span)
			break;
		uint64_t n = element_limit(sp, pos);
		if (n > left - taken)
			n = left - taken;
		if (n > max_bytes - taken)
			n = max_bytes - taken;
		op->sg[op->sg_count].nvram_addr = pos;
		op->sg[op->sg_count].bytes = (uint32_t)n;
		op->sg_count++;
		taken += n;
	}
	op->blocks = (uint32_t)(taken / MIRROR_BLOCK_SIZE);
	sp->done += taken;

	switch (sp->policy) {
	case MIRROR_POLICY_AUTO:
		mirror_path_choose(p, op->sg, op->sg_count, &sp->state, &op->why);
		break;
	case MIRROR_POLICY_SMALL:
	case MIRROR_POLICY_LARGE:
		op->why.path = sp->policy == MIRROR_POLICY_SMALL ? MIRROR_PATH_SMALL : MIRROR_PATH_LARGE;
		op->why.reason = MIRROR_REASON_FORCED;
		snprintf(op->why.text, sizeof(op->why.text), "%s: forced by the caller",
			 mirror_path_name(op->why.path));
		break;
	}
	op->path = op->why.path;
	/* Sequence numbers live in the metadata: only large ops consume one,
	 * so the receiver sees them consecutive. */
	if (op->path == MIRROR_PATH_LARGE)
		op->sequence = sp->next_sequence++;
	return 1;
}

int mirror_op_encode(const struct mirror_profile *p, const struct mirror_op *op,
		     const struct mirror_write *w, uint8_t *cdb, size_t cdb_cap,
		     uint8_t metadata[MIRROR_METADATA_BYTES])
{
	if (op->path == MIRROR_PATH_SMALL) {
		struct mirror_small_cdb c;
		int rc = mirror_small_cdb_from_sg(p, op->region, w->volume, op->lba, op->sg,
						  op->sg_count, &c);
		if (rc < 0)
			return rc;
		return mirror_small_cdb_encode(p, &c, cdb, cdb_cap);
	}

	struct mirror_notify_cdb n = { .opcode = p->op.notify };
	struct mirror_metadata m;
	int rc = mirror_notify_cdb_encode(p, &n, cdb, cdb_cap);
	if (rc < 0)
		return rc;
	mirror_metadata_init(&m);
	m.sequence = op->sequence;
	m.lba = op->lba;
	m.blocks = op->blocks;
	m.array_serial = w->array_serial;
	m.region = (uint8_t)op->region;
	m.array_number = w->array_number;
	m.sg_count = op->sg_count;
	memcpy(m.sg, op->sg, sizeof(op->sg[0]) * op->sg_count);
	int mrc = mirror_metadata_encode(&m, metadata, MIRROR_METADATA_BYTES);
	return mrc < 0 ? mrc : rc;
}
