/* libFuzzer target: the small-write CDB decoder (Fig. 6, all layouts).
 *
 * Input: byte 0 selects the profile and the check context, the rest is the
 * CDB.  Properties: no memory error or UB; a CDB the decoder accepts
 * re-encodes to the very bytes it came from (every bit of the CDB is a
 * field, so a valid CDB has exactly one encoding); the JSON and text
 * renderings cope with whatever the decoder produced. */
#include <json-c/json.h>

#include "fuzz_common.h"

/* Bits 3-4: the data-out length the command "arrived with".  Besides
 * unknown (-1), derive it from the CDB's own block count so that the
 * length rule is met as often as it is broken. */
static int64_t pick_data_out_length(uint8_t sel, const struct mirror_profile *p,
				    const uint8_t *cdb, size_t len)
{
	struct mirror_small_cdb c;
	int64_t exact;

	if (((sel >> 3) & 3u) == 0)
		return -1;
	mirror_small_cdb_decode(p, cdb, len, NULL, &c, NULL);
	exact = (int64_t)mirror_small_cdb_blocks(&c) * MIRROR_BLOCK_SIZE;
	switch ((sel >> 3) & 3u) {
	case 1:
		return exact;
	case 2:
		return exact + MIRROR_BLOCK_SIZE;
	default:
		return INT64_MAX;
	}
}

/* A valid CDB must survive decode -> encode byte for byte. */
static void check_round_trip(const struct mirror_profile *p, const struct mirror_small_cdb *c,
			     const uint8_t *cdb, size_t len)
{
	uint8_t again[32];
	unsigned want = mirror_small_cdb_len(p);
	int n = mirror_small_cdb_encode(p, c, again, sizeof(again));

	if (n < 0 || (unsigned)n != want || len < want || memcmp(again, cdb, want) != 0)
		abort();
}

static void render(const struct mirror_profile *p, const struct mirror_small_cdb *c,
		   const uint8_t *cdb, size_t len, const struct mirror_findings *f, int verbose)
{
	struct mirror_decoded_cdb d;
	struct json_object *o;

	memset(&d, 0, sizeof(d));
	d.kind = MIRROR_CMD_SMALL;
	d.len = len;
	d.u.small = *c;
	o = mirror_json_cdb(p, &d, f);
	if (!o || !json_object_to_json_string(o))
		abort();
	json_object_put(o);
	mirror_print_cdb(fuzz_devnull(), p, &d, cdb, f, verbose);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mirror_profile p;
	struct mirror_check_ctx ctx = MIRROR_CHECK_CTX_INIT;
	struct mirror_small_cdb c;
	struct mirror_findings f;
	const uint8_t *cdb;
	size_t len;
	int rc;

	if (size < 1)
		return 0;
	cdb = data + 1;
	len = size - 1;
	fuzz_pick_profile(data[0], &p);
	ctx.data_out_length = pick_data_out_length(data[0], &p, cdb, len);
	mirror_findings_init(&f);
	rc = mirror_small_cdb_decode(&p, cdb, len, &ctx, &c, &f);
	/* The return value and the findings must tell the same story. */
	if ((rc == 0) != (f.errors == 0))
		abort();
	if (rc == 0)
		check_round_trip(&p, &c, cdb, len);
	render(&p, &c, cdb, len, &f, data[0] >> 7);
	return 0;
}
