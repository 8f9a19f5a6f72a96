/* libFuzzer target: mirror-failover's history parser and checker
 * (app/failover).
 *
 * Input: a history text.  Properties: no memory error or UB; a refusal
 * names "fuzz:LINE: " and fits its buffer; what parses is consistent (ids
 * dense from 1, every write inside the declared LUNs and blocks, on a
 * declared path of its LUN); the checker built from it classifies every
 * written block, read back as zeros and as each write's own stamp, into a
 * verdict, and a block holding its last acknowledged write is never a
 * violation. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/failover/failover.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fo_history h;
	struct fo_checker c;
	char why[128];

	memset(why, 'x', sizeof(why));
	if (fo_history_parse((const char *)data, size, "fuzz", &h, why, sizeof(why)) < 0) {
		if (!memchr(why, '\0', sizeof(why)) || strncmp(why, "fuzz:", 5) != 0)
			abort();
		return 0;
	}
	if (h.luns == 0 || h.luns > FO_LUNS_MAX || h.blocks == 0)
		abort();
	/* keep the checker's per-block table small */
	if ((uint64_t)h.luns * h.blocks > (1u << 16)) {
		fo_history_free(&h);
		return 0;
	}
	for (size_t i = 0; i < h.n; i++) {
		const struct fo_write *w = &h.w[i];
		if (w->id != i + 1 || w->lun >= h.luns || w->blocks == 0 ||
		    w->lba + w->blocks > h.blocks || w->path >= h.npaths ||
		    h.path[w->path].lun != w->lun)
			abort();
	}
	if (fo_checker_init(&c, &h, why, sizeof(why)) < 0) {
		fo_history_free(&h);
		return 0;
	}
	uint8_t blk[FO_BLOCK];
	for (size_t i = 0; i < h.n && i < 256; i++) {
		const struct fo_write *w = &h.w[i];
		struct fo_stamp s = { h.run, w->lun, w->lba, w->id, 1 };
		struct fo_finding f;
		fo_stamp_fill(blk, &s);
		enum fo_verdict v = fo_checker_block(&c, w->lun, w->lba, blk, &f);
		if ((unsigned)v >= FO_V_COUNT_ || !memchr(f.detail, '\0', sizeof(f.detail)))
			abort();
		/* the last acknowledged write of its block with the right
		 * generation: never a violation */
		if (f.expect_id == w->id && f.expect_gen == 1 && v != FO_V_OK)
			abort();
		memset(blk, 0, sizeof(blk));
		v = fo_checker_block(&c, w->lun, w->lba, blk, &f);
		if (v != (f.expect_id ? FO_V_LOST : FO_V_UNACKED))
			abort();
	}
	fo_checker_finish(&c);
	if (c.acked_writes_checked > c.acked_writes)
		abort();
	fo_checker_free(&c);
	fo_history_free(&h);
	return 0;
}
