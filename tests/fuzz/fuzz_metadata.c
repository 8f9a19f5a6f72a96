/* libFuzzer target: the 1024-byte metadata mirror message decoder (Fig. 3).
 *
 * Input: byte 0 selects the profile and the check context, the rest is the
 * message (any length: short ones test the truncation path).
 * Properties: no memory error or UB; a message the decoder accepts
 * re-encodes to the same 1024 bytes (the pad, the terminator and the
 * elements after it must all be zero, so a valid message has exactly one
 * encoding); the JSON and text renderings cope with any decoded message. */
#include <json-c/json.h>

#include "fuzz_common.h"

/* Bits 3-4: data-out length unknown, exact (from the message's own block
 * count, so the rule passes as often as it fails), one block off, or
 * absurd.  Bits 5-6: sender region unknown, 0 or 1. */
static void pick_ctx(uint8_t sel, const struct mirror_profile *p, const uint8_t *buf,
		     size_t len, struct mirror_check_ctx *ctx)
{
	struct mirror_metadata m;
	static const int regions[4] = { -1, 0, 1, -1 };

	ctx->sender_region = regions[(sel >> 5) & 3u];
	ctx->data_out_length = -1;
	if (((sel >> 3) & 3u) == 0)
		return;
	mirror_metadata_decode(p, buf, len, NULL, &m, NULL);
	int64_t exact = (int64_t)mirror_large_transfer_length(m.blocks);
	switch ((sel >> 3) & 3u) {
	case 1:
		ctx->data_out_length = exact;
		break;
	case 2:
		ctx->data_out_length = exact - MIRROR_BLOCK_SIZE;
		break;
	default:
		ctx->data_out_length = INT64_MAX;
		break;
	}
}

static void check_round_trip(const struct mirror_metadata *m, const uint8_t *buf, size_t len)
{
	uint8_t again[MIRROR_METADATA_BYTES];

	if (mirror_metadata_encode(m, again, sizeof(again)) != (int)MIRROR_METADATA_BYTES ||
	    len < MIRROR_METADATA_BYTES || memcmp(again, buf, MIRROR_METADATA_BYTES) != 0)
		abort();
}

static void render(const struct mirror_metadata *m, const uint8_t *buf, size_t len,
		   const struct mirror_findings *f, int verbose)
{
	struct json_object *o = mirror_json_metadata(m, f);

	if (!o || !json_object_to_json_string(o))
		abort();
	json_object_put(o);
	mirror_print_metadata(fuzz_devnull(), m, buf, len, f, verbose);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mirror_profile p;
	struct mirror_check_ctx ctx;
	struct mirror_metadata m;
	struct mirror_findings f;
	int rc;

	if (size < 1)
		return 0;
	fuzz_pick_profile(data[0], &p);
	pick_ctx(data[0], &p, data + 1, size - 1, &ctx);
	mirror_findings_init(&f);
	rc = mirror_metadata_decode(&p, data + 1, size - 1, &ctx, &m, &f);
	if ((rc == 0) != (f.errors == 0))
		abort();
	if (m.sg_count > MIRROR_METADATA_SG_MAX)
		abort();
	if (rc == 0)
		check_round_trip(&m, data + 1, size - 1);
	render(&m, data + 1, size - 1, &f, data[0] >> 7);
	return 0;
}
