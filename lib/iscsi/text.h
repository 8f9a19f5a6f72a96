/* iSCSI text key=value pairs (RFC 7143 6.1), internal to libmirror. */
#ifndef MIRROR_LIB_ISCSI_TEXT_H
#define MIRROR_LIB_ISCSI_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ISCSI_KEYS_MAX 64
#define ISCSI_KEY_NAME_MAX 63 /* RFC 7143 6.1: key names up to 63 bytes */

struct iscsi_kv {
	const char *key;   /* points into the parsed buffer */
	const char *value;
};

struct iscsi_keys {
	unsigned n;
	struct iscsi_kv kv[ISCSI_KEYS_MAX];
};

/* Splits buf (NUL-separated "key=value" records; the buffer is modified:
 * '=' becomes NUL) into keys.  -EINVAL for a record without '=', a key
 * over 63 bytes, an unterminated last record, or more than 64 keys. */
int iscsi_keys_parse(char *buf, size_t len, struct iscsi_keys *k);
const char *iscsi_keys_get(const struct iscsi_keys *k, const char *key);

/* An output text buffer: "key=value\0" appended, bounded. */
struct iscsi_text_out {
	char buf[8192];
	size_t len;
	bool overflow;
};
void iscsi_text_add(struct iscsi_text_out *o, const char *key, const char *value);
void iscsi_text_addu(struct iscsi_text_out *o, const char *key, unsigned long value);

/* RFC 7143 13: numerical values; -EINVAL if not a plain decimal (or 0x
 * hex) number that fits 32 bits. */
int iscsi_parse_number(const char *v, uint32_t *out);
/* Yes/No; -EINVAL otherwise. */
int iscsi_parse_bool(const char *v, bool *out);

/* Hex ("0x...") binary values (CHAP): bytes decoded into out; -EINVAL. */
int iscsi_parse_binary(const char *v, uint8_t *out, size_t cap, size_t *len);
void iscsi_format_binary(const uint8_t *in, size_t len, char *out, size_t cap);

#endif
