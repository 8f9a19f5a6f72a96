/* libFuzzer target: the notification CDB decoder (large path, 10 bytes)
 * and the opcode dispatcher in front of every CDB decoder.
 *
 * Input: byte 0 selects the profile (lenient or strict), the rest is the
 * CDB.  Properties: no memory error or UB; a CDB the decoder accepts
 * re-encodes to the same 10 bytes (bytes 1-9 are carried, not dropped,
 * so a lenient receiver's view is exact); the renderers cope with
 * whatever mirror_cdb_decode() produced. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <mirror/mirror.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Opened once: the renderers are under test, not the file system. */
static FILE *devnull(void)
{
	static FILE *fp;

	if (!fp) {
		fp = fopen("/dev/null", "w");
		if (!fp)
			abort();
	}
	return fp;
}

static size_t profile_count(void)
{
	static size_t n;

	if (!n)
		while (mirror_profile_name_at(n))
			n++;
	if (!n)
		abort();
	return n;
}

static void pick_profile(uint8_t sel, struct mirror_profile *p)
{
	const char *name = mirror_profile_name_at((size_t)(sel & 7u) % profile_count());

	if (!name || mirror_profile_by_name(name, p) != 0)
		abort();
}

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
	mirror_print_cdb(devnull(), p, &d, cdb, &f, verbose);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mirror_profile p;

	if (size < 1)
		return 0;
	pick_profile(data[0], &p);
	check_notify(&p, data + 1, size - 1);
	check_dispatch(&p, data + 1, size - 1, data[0] >> 7);
	return 0;
}
