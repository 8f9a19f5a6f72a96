/* iSCSI text keys (RFC 7143 6.1, 13): parsing bounded by the PDU, never
 * by a terminator the peer may have left out. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cursor.h"
#include "iscsi/text.h"

int iscsi_keys_parse(char *buf, size_t len, struct iscsi_keys *k)
{
	struct cursor c;

	cur_init(&c, buf, len);
	k->n = 0;
	while (cur_left(&c)) {
		char *rec = buf + cur_offset(&c);
		size_t rl;
		if (!cur_take_until(&c, '\0', &rl))
			return -EINVAL; /* unterminated record */
		if (rl == 0)
			continue; /* padding NULs */
		char *eq = memchr(rec, '=', rl);
		if (!eq || eq == rec || eq - rec > ISCSI_KEY_NAME_MAX || k->n >= ISCSI_KEYS_MAX)
			return -EINVAL;
		*eq = '\0';
		k->kv[k->n].key = rec;
		k->kv[k->n].value = eq + 1;
		k->n++;
	}
	return 0;
}

const char *iscsi_keys_get(const struct iscsi_keys *k, const char *key)
{
	for (unsigned i = 0; i < k->n; i++)
		if (strcmp(k->kv[i].key, key) == 0)
			return k->kv[i].value;
	return NULL;
}

void iscsi_text_add(struct iscsi_text_out *o, const char *key, const char *value)
{
	size_t kl = strlen(key), vl = strlen(value);

	if (o->len + kl + vl + 2 > sizeof(o->buf)) {
		o->overflow = true;
		return;
	}
	memcpy(o->buf + o->len, key, kl);
	o->buf[o->len + kl] = '=';
	memcpy(o->buf + o->len + kl + 1, value, vl);
	o->buf[o->len + kl + 1 + vl] = '\0';
	o->len += kl + vl + 2;
}

void iscsi_text_addu(struct iscsi_text_out *o, const char *key, unsigned long value)
{
	char v[24];
	snprintf(v, sizeof(v), "%lu", value);
	iscsi_text_add(o, key, v);
}

int iscsi_parse_number(const char *v, uint32_t *out)
{
	char *end;
	unsigned long long n;

	if (!v || !*v || *v == '-' || *v == '+' || *v == ' ')
		return -EINVAL;
	errno = 0;
	n = strtoull(v, &end, (v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) ? 16 : 10);
	if (errno || *end || n > UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)n;
	return 0;
}

int iscsi_parse_bool(const char *v, bool *out)
{
	if (v && strcmp(v, "Yes") == 0)
		*out = true;
	else if (v && strcmp(v, "No") == 0)
		*out = false;
	else
		return -EINVAL;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int iscsi_parse_binary(const char *v, uint8_t *out, size_t cap, size_t *len)
{
	size_t n = 0, digits;

	if (!v || v[0] != '0' || (v[1] != 'x' && v[1] != 'X'))
		return -EINVAL;
	v += 2;
	digits = strlen(v);
	if (digits == 0 || (digits + 1) / 2 > cap)
		return -EINVAL;
	/* an odd count has an implied leading zero nibble */
	if (digits % 2) {
		int lo = hexval(*v++);
		if (lo < 0)
			return -EINVAL;
		out[n++] = (uint8_t)lo;
	}
	while (*v) {
		int hi = hexval(v[0]), lo = hexval(v[1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[n++] = (uint8_t)(hi << 4 | lo);
		v += 2;
	}
	*len = n;
	return 0;
}

void iscsi_format_binary(const uint8_t *in, size_t len, char *out, size_t cap)
{
	size_t at = 0;

	if (cap < 3)
		return;
	out[at++] = '0';
	out[at++] = 'x';
	for (size_t i = 0; i < len && at + 2 < cap; i++)
		at += (size_t)snprintf(out + at, cap - at, "%02x", in[i]);
	out[at < cap ? at : cap - 1] = '\0';
}
