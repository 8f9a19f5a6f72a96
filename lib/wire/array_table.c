/* Array serial number table (source Fig. 4 item 427: volume number ->
 * array serial number and array number, changed only when an array is
 * added or deleted) and the ARRAY TABLE UPDATE harness extension. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <mirror/array_table.h>
#include <mirror/error.h>

#include "base/bytes.h"
#include "wire/rules.h"

void mirror_array_table_init(struct mirror_array_table *t)
{
	memset(t, 0, sizeof(*t));
}

int mirror_array_table_find(const struct mirror_array_table *t, uint64_t serial,
			    uint8_t array_number)
{
	for (unsigned v = 0; v < MIRROR_VOLUMES; v++)
		if (t->vol[v].used && t->vol[v].array_serial == serial &&
		    t->vol[v].array_number == array_number)
			return (int)v;
	return -ENOENT;
}

int mirror_array_table_add(struct mirror_array_table *t, uint8_t volume, uint64_t serial,
			   uint8_t array_number)
{
	if (t->vol[volume].used || mirror_array_table_find(t, serial, array_number) >= 0)
		return -EEXIST;
	t->vol[volume].used = true;
	t->vol[volume].array_serial = serial;
	t->vol[volume].array_number = array_number;
	t->count++;
	t->generation++;
	return 0;
}

int mirror_array_table_delete(struct mirror_array_table *t, uint8_t volume)
{
	if (!t->vol[volume].used)
		return -ENOENT;
	memset(&t->vol[volume], 0, sizeof(t->vol[volume]));
	t->count--;
	t->generation++;
	return 0;
}

int mirror_array_table_lookup(const struct mirror_array_table *t, uint8_t volume,
			      uint64_t *serial, uint8_t *array_number)
{
	if (!t->vol[volume].used)
		return -ENOENT;
	if (serial)
		*serial = t->vol[volume].array_serial;
	if (array_number)
		*array_number = t->vol[volume].array_number;
	return 0;
}

int mirror_table_update_cdb_encode(const struct mirror_profile *p, uint32_t param_len,
				   uint8_t *cdb, size_t cap)
{
	if (cap < MIRROR_TABLE_CDB_LEN)
		return MIRROR_E_NOSPACE;
	if (param_len >> 24)
		return MIRROR_E_FIELD_WIDTH;
	memset(cdb, 0, MIRROR_TABLE_CDB_LEN);
	cdb[0] = p->op.table_update;
	put_be24(cdb + 6, param_len);
	return MIRROR_TABLE_CDB_LEN;
}

int mirror_table_update_encode(const struct mirror_array_table *t, uint8_t *buf, size_t cap)
{
	size_t need = MIRROR_TABLE_HEADER_BYTES + (size_t)t->count * MIRROR_TABLE_ENTRY_BYTES;
	unsigned n = 0;

	if (cap < need)
		return MIRROR_E_NOSPACE;
	memset(buf, 0, need);
	put_be32(buf, t->generation);
	put_be16(buf + 4, (uint16_t)t->count);
	for (unsigned v = 0; v < MIRROR_VOLUMES && n < t->count; v++) {
		if (!t->vol[v].used)
			continue;
		uint8_t *e = buf + MIRROR_TABLE_HEADER_BYTES + (size_t)n * MIRROR_TABLE_ENTRY_BYTES;
		e[0] = (uint8_t)v;
		e[1] = t->vol[v].array_number;
		put_be64(e + 8, t->vol[v].array_serial);
		n++;
	}
	return (int)need;
}

int mirror_table_update_cdb_decode(const struct mirror_profile *p, const uint8_t *cdb,
				   size_t len, uint32_t *param_len, struct mirror_findings *f)
{
	struct mirror_findings local;

	if (!f) {
		f = &local;
		mirror_findings_init(f);
	}
	*param_len = 0;
	if (len < MIRROR_TABLE_CDB_LEN) {
		mirror_findings_add(f, MIRROR_RULE_TRUNCATED, true, (unsigned)len, 7,
				    "CDB has %zu bytes; ARRAY TABLE UPDATE needs 10", len);
		return MIRROR_E_TRUNCATED;
	}
	if (cdb[0] != p->op.table_update)
		mirror_findings_add(f, MIRROR_RULE_TABLE_OPCODE, true, 0, 7,
				    "opcode 0x%02X is not ARRAY TABLE UPDATE (0x%02X)", cdb[0],
				    p->op.table_update);
	for (unsigned i = 1; i <= 5; i++) {
		if (cdb[i]) {
			mirror_findings_add(f, MIRROR_RULE_TABLE_CDB_RESERVED, true, i,
					    mirror_highest_bit(cdb[i]),
					    "reserved byte %u = 0x%02X is not zero", i, cdb[i]);
			break;
		}
	}
	*param_len = get_be24(cdb + 6);
	/* a whole table: the header and 0..256 entries of 16 bytes */
	if (*param_len < MIRROR_TABLE_HEADER_BYTES || *param_len > MIRROR_TABLE_MAX_BYTES ||
	    (*param_len - MIRROR_TABLE_HEADER_BYTES) % MIRROR_TABLE_ENTRY_BYTES)
		mirror_findings_add(f, MIRROR_RULE_TABLE_PARAM_LEN, true, 6, 7,
				    "parameter list length %u is not 16 + 16 x entries (at most %u)",
				    (unsigned)*param_len, MIRROR_TABLE_MAX_BYTES);
	mirror_findings_sort(f);
	return mirror_findings_result(f);
}

int mirror_table_update_decode(const uint8_t *buf, size_t len, struct mirror_array_table *t,
			       struct mirror_findings *f)
{
	struct mirror_findings local;
	struct mirror_array_table next;
	bool serial_seen_dup = false;

	if (!f) {
		f = &local;
		mirror_findings_init(f);
	}
	if (len < MIRROR_TABLE_HEADER_BYTES) {
		mirror_findings_add(f, MIRROR_RULE_TRUNCATED, false, (unsigned)len, 7,
				    "parameter list has %zu bytes; the header is 16", len);
		return MIRROR_E_TRUNCATED;
	}
	mirror_array_table_init(&next);
	next.generation = get_be32(buf);
	unsigned count = get_be16(buf + 4);
	if (count > MIRROR_VOLUMES) {
		mirror_findings_add(f, MIRROR_RULE_TABLE_COUNT, false, 4, 7,
				    "entry count %u is over 256", count);
		return MIRROR_E_INVALID_PARAM;
	}
	for (unsigned i = 6; i < MIRROR_TABLE_HEADER_BYTES; i++) {
		if (buf[i]) {
			mirror_findings_add(f, MIRROR_RULE_TABLE_RESERVED, false, i,
					    mirror_highest_bit(buf[i]),
					    "reserved header byte %u = 0x%02X is not zero", i, buf[i]);
			break;
		}
	}
	size_t need = MIRROR_TABLE_HEADER_BYTES + (size_t)count * MIRROR_TABLE_ENTRY_BYTES;
	if (len != need) {
		mirror_findings_add(f, MIRROR_RULE_DATA_LENGTH, false, 4, 7,
				    "parameter list has %zu bytes; %u entries need %zu", len, count,
				    need);
		if (len < need) {
			mirror_findings_sort(f);
			return mirror_findings_result(f);
		}
	}
	for (unsigned k = 0; k < count; k++) {
		const uint8_t *e = buf + MIRROR_TABLE_HEADER_BYTES + (size_t)k * MIRROR_TABLE_ENTRY_BYTES;
		unsigned at = MIRROR_TABLE_HEADER_BYTES + k * MIRROR_TABLE_ENTRY_BYTES;
		uint8_t vol = e[0];
		uint64_t serial = get_be64(e + 8);

		if (next.vol[vol].used) {
			mirror_findings_add(f, MIRROR_RULE_TABLE_DUP_VOLUME, false, at, 7,
					    "entry %u repeats volume %u", k, vol);
			continue;
		}
		for (unsigned i = 2; i < 8; i++) {
			if (e[i]) {
				mirror_findings_add(f, MIRROR_RULE_TABLE_RESERVED, false, at + i,
						    mirror_highest_bit(e[i]),
						    "entry %u reserved byte %u = 0x%02X is not zero", k,
						    i, e[i]);
				break;
			}
		}
		if (mirror_array_table_find(&next, serial, e[1]) >= 0 && !serial_seen_dup) {
			serial_seen_dup = true;
			mirror_findings_add(f, MIRROR_RULE_TABLE_DUP_SERIAL, false, at + 8, 7,
					    "entry %u repeats array serial 0x%016llX array number %u",
					    k, (unsigned long long)serial, e[1]);
		}
		next.vol[vol].used = true;
		next.vol[vol].array_number = e[1];
		next.vol[vol].array_serial = serial;
		next.count++;
	}
	mirror_findings_sort(f);
	int rc = mirror_findings_result(f);
	if (rc == 0)
		*t = next; /* a rejected update changes nothing */
	return rc;
}
