/* libFuzzer target: ARRAY TABLE UPDATE, its CDB and its parameter list
 * (harness extension, <mirror/array_table.h>).
 *
 * Input: byte 0 selects the profile, bytes 1-10 are the CDB, the rest is
 * the parameter list.  Properties: no memory error or UB; a rejected
 * update leaves the table as it was (documented); an accepted list
 * re-encodes to the same header and the same entries (the encoder writes
 * them in volume order, the sender may not, so entries are compared by
 * volume); an accepted CDB re-encodes to the same bytes 0-8 (byte 9 is
 * CONTROL, which the decoder does not carry). */
#include <stdbool.h>

#include "fuzz_common.h"

static void check_cdb(const struct mirror_profile *p, const uint8_t *cdb, size_t len)
{
	struct mirror_findings f;
	uint8_t again[MIRROR_TABLE_CDB_LEN];
	uint32_t param_len;
	int rc;

	mirror_findings_init(&f);
	rc = mirror_table_update_cdb_decode(p, cdb, len, &param_len, &f);
	if ((rc == 0) != (f.errors == 0))
		abort();
	if (rc != 0)
		return;
	if (mirror_table_update_cdb_encode(p, param_len, again, sizeof(again)) !=
		    (int)MIRROR_TABLE_CDB_LEN ||
	    len < MIRROR_TABLE_CDB_LEN || memcmp(again, cdb, MIRROR_TABLE_CDB_LEN - 1) != 0)
		abort();
}

/* Field by field: the struct has padding, so memcmp would be wrong. */
static bool tables_equal(const struct mirror_array_table *a, const struct mirror_array_table *b)
{
	if (a->generation != b->generation || a->count != b->count)
		return false;
	for (unsigned v = 0; v < MIRROR_VOLUMES; v++) {
		const struct mirror_array_entry *x = &a->vol[v], *y = &b->vol[v];
		if (x->used != y->used)
			return false;
		if (x->used && (x->array_number != y->array_number ||
				x->array_serial != y->array_serial))
			return false;
	}
	return true;
}

/* A table that is not empty, so that "left as it was" means something. */
static void prefill(struct mirror_array_table *t)
{
	mirror_array_table_init(t);
	if (mirror_array_table_add(t, 7, 0x1122334455667788ull, 1) != 0 ||
	    mirror_array_table_add(t, 200, 0x0102030405060708ull, 2) != 0)
		abort();
}

/* The encoder orders entries by volume; match each sent entry to the
 * re-encoded entry of its volume. */
static void check_reencoded(const struct mirror_array_table *t, const uint8_t *buf, size_t len)
{
	static uint8_t again[MIRROR_TABLE_MAX_BYTES];
	int at_vol[MIRROR_VOLUMES];
	int n = mirror_table_update_encode(t, again, sizeof(again));

	if (n < 0 || (size_t)n != len ||
	    memcmp(again, buf, MIRROR_TABLE_HEADER_BYTES) != 0)
		abort();
	for (unsigned v = 0; v < MIRROR_VOLUMES; v++)
		at_vol[v] = -1;
	for (size_t at = MIRROR_TABLE_HEADER_BYTES; at < len; at += MIRROR_TABLE_ENTRY_BYTES)
		at_vol[again[at]] = (int)at;
	for (size_t at = MIRROR_TABLE_HEADER_BYTES; at < len; at += MIRROR_TABLE_ENTRY_BYTES) {
		int k = at_vol[buf[at]];
		if (k < 0 || memcmp(again + k, buf + at, MIRROR_TABLE_ENTRY_BYTES) != 0)
			abort();
	}
}

static void check_payload(const uint8_t *buf, size_t len)
{
	struct mirror_array_table t, before;
	struct mirror_findings f;
	int rc;

	prefill(&t);
	prefill(&before);
	mirror_findings_init(&f);
	rc = mirror_table_update_decode(buf, len, &t, &f);
	if ((rc == 0) != (f.errors == 0))
		abort();
	if (rc != 0) {
		if (!tables_equal(&t, &before))
			abort();
		return;
	}
	if (t.count > MIRROR_VOLUMES)
		abort();
	check_reencoded(&t, buf, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mirror_profile p;
	size_t cdb_len;

	if (size < 1)
		return 0;
	fuzz_pick_profile(data[0], &p);
	cdb_len = size - 1 < MIRROR_TABLE_CDB_LEN ? size - 1 : MIRROR_TABLE_CDB_LEN;
	check_cdb(&p, data + 1, cdb_len);
	check_payload(data + 1 + cdb_len, size - 1 - cdb_len);
	return 0;
}
