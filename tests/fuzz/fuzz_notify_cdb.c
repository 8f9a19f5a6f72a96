/* libFuzzer target: the notification CDB decoder (large path, 10 bytes)
 * and the opcode dispatcher in front of every CDB decoder.
 *
 * Input: byte 0 selects the profile (lenient or strict), the rest is the
 * CDB.  Properties: no memory error or UB; a CDB the decoder accepts
 * re-encodes to the same 10 bytes (bytes 1-9 are carried, not dropped,
 * so a lenient receiver's view is exact); the renderers cope with
 * whatever mirror_cdb_decode() produced. */
#include <json-c/json.h>

#include "fuzz_common.h"

static void check_notify(const struct mirror_profile *p, const uint8_t *cdb, size_t len)
{
	struct mirror_notify_cdb c;
	struct mirror_findings f;
	uint8_t again[MIRROR_NOTIFY_CDB_LEN];
	int rc;

	mirror_findings_init(&f);
	rc = mirror_notify_cdb_decode(p, cdb, len, &c, &f);
	if ((rc == 0) != (f.errors == 0))
		abort();
	if (rc != 0)
		return;
	if (mirror_notify_cdb_encode(p, &c, again, sizeof(again)) != (int)MIRROR_NOTIFY_CDB_LEN ||
	    len < MIRROR_NOTIFY_CDB_LEN || memcmp(again, cdb, MIRROR_NOTIFY_CDB_LEN) != 0)
		abort();
}

/* Whatever the opcode, the dispatcher's result must render. */
static void check_dispatch(const struct mirror_profile *p, const uint8_t *cdb, size_t len,
			   int verbose)
{
	struct mirror_check_ctx ctx = MIRROR_CHECK_CTX_INIT;
	struct mirror_decoded_cdb d;
	struct mirror_findings f;
	struct json_object *o;

	mirror_findings_init(&f);
	if (mirror_cdb_decode(p, cdb, len, &ctx, &d, &f) == MIRROR_E_NOT_MIRROR)
		return;
	o = mirror_json_cdb(p, &d, &f);
	if (!o || !json_object_to_json_string(o))
		abort();
	json_object_put(o);
	mirror_print_cdb(fuzz_devnull(), p, &d, cdb, &f, verbose);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mirror_profile p;

	if (size < 1)
		return 0;
	fuzz_pick_profile(data[0], &p);
	check_notify(&p, data + 1, size - 1);
	check_dispatch(&p, data + 1, size - 1, data[0] >> 7);
	return 0;
}
