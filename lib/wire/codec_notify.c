/* Notification mirror message: the large path's 10-byte CDB (source Fig. 2
 * block 204: "the first byte containing a predefined hexadecimal number,
 * for example 3C"; the receiver "disregards the remaining 9 bytes"). */
#include "config.h"

#include <string.h>

#include <mirror/codec.h>
#include <mirror/error.h>

#include "wire/rules.h"

int mirror_notify_cdb_encode(const struct mirror_profile *p, const struct mirror_notify_cdb *c,
			     uint8_t *cdb, size_t cdb_cap)
{
	(void)p;
	if (cdb_cap < MIRROR_NOTIFY_CDB_LEN)
		return MIRROR_E_NOSPACE;
	cdb[0] = c->opcode;
	memcpy(cdb + 1, c->rest, sizeof(c->rest));
	return MIRROR_NOTIFY_CDB_LEN;
}

int mirror_notify_cdb_decode(const struct mirror_profile *p, const uint8_t *cdb, size_t len,
			     struct mirror_notify_cdb *out, struct mirror_findings *f)
{
	struct mirror_findings local;

	if (!f) {
		f = &local;
		mirror_findings_init(f);
	}
	memset(out, 0, sizeof(*out));
	if (len < MIRROR_NOTIFY_CDB_LEN) {
		mirror_findings_add(f, MIRROR_RULE_TRUNCATED, true, (unsigned)len, 7,
				    "CDB has %zu bytes; the notification CDB needs 10", len);
		if (len)
			out->opcode = cdb[0];
		return MIRROR_E_TRUNCATED;
	}
	out->opcode = cdb[0];
	memcpy(out->rest, cdb + 1, sizeof(out->rest));
	if (out->opcode != p->op.notify)
		mirror_findings_add(f, MIRROR_RULE_NOTIFY_OPCODE, true, 0, 7,
				    "opcode 0x%02X is not the notification opcode 0x%02X of profile %s",
				    out->opcode, p->op.notify, p->name ? p->name : "?");
	for (unsigned i = 1; i < MIRROR_NOTIFY_CDB_LEN; i++) {
		if (!cdb[i])
			continue;
		mirror_findings_add(f,
				    p->strict ? MIRROR_RULE_NOTIFY_RESERVED_STRICT
					      : MIRROR_RULE_NOTIFY_RESERVED,
				    true, i, mirror_highest_bit(cdb[i]),
				    p->strict ? "byte %u = 0x%02X: bytes 1-9 must be zero in strict mode"
					      : "byte %u = 0x%02X: bytes 1-9 should be zero (a lenient receiver ignores them)",
				    i, cdb[i]);
		break;
	}
	for (size_t i = MIRROR_NOTIFY_CDB_LEN; i < len; i++) {
		if (cdb[i]) {
			mirror_findings_add(f, MIRROR_RULE_CDB_TRAILING, true, (unsigned)i,
					    mirror_highest_bit(cdb[i]),
					    "byte %zu = 0x%02X past the 10-byte CDB is not zero", i,
					    cdb[i]);
			break;
		}
	}
	mirror_findings_sort(f);
	return mirror_findings_result(f);
}
