/* Decoding any mirror CDB by opcode, and rendering decoded structures for
 * people (text) and scripts (JSON, json-c objects).  The JSON names are a
 * contract (mirror-decode(1)); change them only with the man page. */
#ifndef MIRROR_DECODE_H
#define MIRROR_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <mirror/array_table.h>
#include <mirror/codec.h>
#include <mirror/nvram.h>

#ifdef __cplusplus
extern "C" {
#endif

struct json_object;

struct mirror_decoded_cdb {
	enum mirror_command kind;
	uint8_t opcode;
	size_t len;
	union {
		struct mirror_small_cdb small;
		struct mirror_notify_cdb notify;
		struct mirror_readback_cdb readback;
		uint32_t table_param_len;
		uint32_t release_param_len;
	} u;
};

/* Dispatch on the opcode (a table, per profile).  MIRROR_E_NOT_MIRROR when
 * the opcode is none of the profile's; otherwise as the decoder. */
int mirror_cdb_decode(const struct mirror_profile *p, const uint8_t *cdb, size_t len,
		      const struct mirror_check_ctx *ctx, struct mirror_decoded_cdb *out,
		      struct mirror_findings *f);

/* JSON objects (caller puts them). */
struct json_object *mirror_json_cdb(const struct mirror_profile *p,
				    const struct mirror_decoded_cdb *d,
				    const struct mirror_findings *f);
struct json_object *mirror_json_metadata(const struct mirror_metadata *m,
					 const struct mirror_findings *f);
/* Adds "valid" and the "errors" and "warnings" arrays of
 * {byte, bit, sksv, field, message, rule, cdb[, sense]}. */
void mirror_json_add_findings(struct json_object *obj, const struct mirror_findings *f);

/* Human text.  verbose > 0 adds the raw bytes in hex. */
void mirror_print_cdb(FILE *out, const struct mirror_profile *p,
		      const struct mirror_decoded_cdb *d, const uint8_t *raw,
		      const struct mirror_findings *f, int verbose);
void mirror_print_metadata(FILE *out, const struct mirror_metadata *m, const uint8_t *raw,
			   size_t raw_len, const struct mirror_findings *f, int verbose);
void mirror_print_findings(FILE *out, const struct mirror_findings *f);
void mirror_print_hex(FILE *out, const uint8_t *buf, size_t len, unsigned indent);

/* Hex text to bytes: accepts "a0 32 04", "a03204", "0xa0,0x32", newlines.
 * MIRROR_E_NOSPACE past cap; -EINVAL with the offending character's
 * position in why. */
int mirror_hex_parse(const char *s, uint8_t *out, size_t cap, size_t *len, char *why,
		     size_t why_len);

#ifdef __cplusplus
}
#endif
#endif
