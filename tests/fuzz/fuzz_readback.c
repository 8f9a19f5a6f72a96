/* libFuzzer target: NVRAM READBACK, its CDB and the response parser
 * (harness extension, <mirror/nvram.h>).
 *
 * Input: byte 0 selects the profile, bytes 1-12 are the CDB, the rest is a
 * response as a target might send it (any bytes).  Properties: no memory
 * error or UB; an accepted CDB re-encodes to the same bytes 0-10 (byte 11
 * is CONTROL, which the decoder does not carry); whatever the parser
 * accepts, every bitmap bit and every data byte it points at is readable
 * (ASan checks the reads) and lies inside the response. */
#include <stdbool.h>

#include "fuzz_common.h"

/* Keeps the reads of the parsed ranges from being optimised away. */
static volatile uint8_t sink;

static void check_cdb(const struct mirror_profile *p, const uint8_t *cdb, size_t len)
{
	struct mirror_readback_cdb c;
	struct mirror_findings f;
	uint8_t again[MIRROR_READBACK_CDB_LEN];
	int rc;

	mirror_findings_init(&f);
	rc = mirror_readback_cdb_decode(p, cdb, len, &c, &f);
	if ((rc == 0) != (f.errors == 0))
		abort();
	if (rc != 0)
		return;
	if (mirror_readback_cdb_encode(p, &c, again, sizeof(again)) != (int)MIRROR_READBACK_CDB_LEN ||
	    len < MIRROR_READBACK_CDB_LEN || memcmp(again, cdb, MIRROR_READBACK_CDB_LEN - 1) != 0)
		abort();
	/* What a valid request asks for must be a sane response size. */
	if (mirror_readback_response_len(&c) <
	    MIRROR_READBACK_HEADER_BYTES + mirror_readback_bitmap_len(c.blocks))
		abort();
}

/* The pointers must lie inside buf; then read every byte they cover. */
static void touch(const struct mirror_readback *r, const uint8_t *buf, size_t len,
		  bool validity_only)
{
	size_t bml = mirror_readback_bitmap_len(r->blocks);
	uint8_t acc = 0;

	if (r->bitmap != buf + MIRROR_READBACK_HEADER_BYTES || bml > len - MIRROR_READBACK_HEADER_BYTES)
		abort();
	/* One past the end too: the accessor must say "not valid", not read. */
	for (uint32_t i = 0; i <= r->blocks; i++)
		acc ^= (uint8_t)mirror_readback_block_valid(r, i);
	if (mirror_readback_block_valid(r, r->blocks) || mirror_readback_block_valid(r, UINT32_MAX))
		abort();
	if (validity_only) {
		if (r->data)
			abort();
	} else {
		size_t bytes = (size_t)r->blocks * MIRROR_BLOCK_SIZE;
		if (!r->data || r->data != r->bitmap + bml || (size_t)(r->data - buf) + bytes > len)
			abort();
		for (size_t i = 0; i < bytes; i++)
			acc ^= r->data[i];
	}
	sink = acc;
}

static void check_response(const uint8_t *buf, size_t len, bool validity_only)
{
	struct mirror_readback r;

	if (mirror_readback_parse(buf, len, validity_only, &r) != 0) {
		/* A rejected response must not leave pointers to follow. */
		if (r.bitmap || r.data || mirror_readback_block_valid(&r, 0))
			abort();
		return;
	}
	if (r.blocks == 0 || r.blocks > MIRROR_LARGE_MAX_BLOCKS || r.valid_blocks > r.blocks)
		abort();
	touch(&r, buf, len, validity_only);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mirror_profile p;
	size_t cdb_len;

	if (size < 1)
		return 0;
	fuzz_pick_profile(data[0], &p);
	cdb_len = size - 1 < MIRROR_READBACK_CDB_LEN ? size - 1 : MIRROR_READBACK_CDB_LEN;
	check_cdb(&p, data + 1, cdb_len);
	/* The response runs to the end of libFuzzer's exact-size buffer, so
	 * ASan sees a read one byte past it. */
	check_response(data + 1 + cdb_len, size - 1 - cdb_len, false);
	check_response(data + 1 + cdb_len, size - 1 - cdb_len, true);
	return 0;
}
