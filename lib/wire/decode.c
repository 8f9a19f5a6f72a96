/* Decode any mirror CDB: the profile's opcode table picks the decoder. */
#include "config.h"

#include <string.h>

#include <mirror/decode.h>
#include <mirror/error.h>

#include "wire/rules.h"

static int decode_small(const struct mirror_profile *p, const uint8_t *cdb, size_t len,
			const struct mirror_check_ctx *ctx, struct mirror_decoded_cdb *out,
			struct mirror_findings *f)
{
	return mirror_small_cdb_decode(p, cdb, len, ctx, &out->u.small, f);
}

static int decode_notify(const struct mirror_profile *p, const uint8_t *cdb, size_t len,
			 const struct mirror_check_ctx *ctx, struct mirror_decoded_cdb *out,
			 struct mirror_findings *f)
{
	(void)ctx;
	return mirror_notify_cdb_decode(p, cdb, len, &out->u.notify, f);
}

static int decode_table(const struct mirror_profile *p, const uint8_t *cdb, size_t len,
			const struct mirror_check_ctx *ctx, struct mirror_decoded_cdb *out,
			struct mirror_findings *f)
{
	(void)ctx;
	return mirror_table_update_cdb_decode(p, cdb, len, &out->u.table_param_len, f);
}

static int decode_readback(const struct mirror_profile *p, const uint8_t *cdb, size_t len,
			   const struct mirror_check_ctx *ctx, struct mirror_decoded_cdb *out,
			   struct mirror_findings *f)
{
	(void)ctx;
	return mirror_readback_cdb_decode(p, cdb, len, &out->u.readback, f);
}

static int decode_release(const struct mirror_profile *p, const uint8_t *cdb, size_t len,
			  const struct mirror_check_ctx *ctx, struct mirror_decoded_cdb *out,
			  struct mirror_findings *f)
{
	(void)ctx;
	return mirror_release_cdb_decode(p, cdb, len, &out->u.release_param_len, f);
}

typedef int (*cdb_decoder)(const struct mirror_profile *, const uint8_t *, size_t,
			   const struct mirror_check_ctx *, struct mirror_decoded_cdb *,
			   struct mirror_findings *);

static const cdb_decoder decoders[] = {
	[MIRROR_CMD_NOTIFY] = decode_notify,
	[MIRROR_CMD_SMALL] = decode_small,
	[MIRROR_CMD_TABLE_UPDATE] = decode_table,
	[MIRROR_CMD_READBACK] = decode_readback,
	[MIRROR_CMD_RELEASE] = decode_release,
};

int mirror_cdb_decode(const struct mirror_profile *p, const uint8_t *cdb, size_t len,
		      const struct mirror_check_ctx *ctx, struct mirror_decoded_cdb *out,
		      struct mirror_findings *f)
{
	memset(out, 0, sizeof(*out));
	out->len = len;
	out->opcode = len ? cdb[0] : 0;
	if (len == 0) {
		mirror_findings_add(f, MIRROR_RULE_TRUNCATED, true, 0, 7, "empty CDB");
		return MIRROR_E_TRUNCATED;
	}
	out->kind = mirror_command_of(p, cdb[0]);
	if (out->kind == MIRROR_CMD_NONE || (size_t)out->kind >= sizeof(decoders) / sizeof(decoders[0]) ||
	    !decoders[out->kind]) {
		mirror_findings_add(f, MIRROR_RULE_OPCODE_UNKNOWN, true, 0, 7,
				    "opcode 0x%02X is none of profile %s's mirror commands (notify 0x%02X, small 0x%02X/0x%02X, table update 0x%02X, readback 0x%02X, release 0x%02X)",
				    cdb[0], p->name ? p->name : "custom", p->op.notify,
				    p->op.small_a_to_b, p->op.small_b_to_a, p->op.table_update,
				    p->op.readback, p->op.release);
		return MIRROR_E_NOT_MIRROR;
	}
	return decoders[out->kind](p, cdb, len, ctx, out, f);
}
