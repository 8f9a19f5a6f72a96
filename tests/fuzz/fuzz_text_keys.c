/* libFuzzer target: iSCSI text keys (RFC 7143 6.1, lib/iscsi/text.c), the
 * parser of every Login and Text request's data segment, and the value
 * parsers the login negotiation applies to them.
 *
 * Input: a data segment (NUL-separated key=value records), in an
 * exact-size heap buffer so that AddressSanitizer sees a read past it.
 * Properties: no memory error or UB; accepted records have a key of 1..63
 * bytes without '=' and key and value inside the buffer; written back
 * with iscsi_text_add they parse to the same pairs in the same order; a
 * value that parses as a number prints and parses to the same number, and
 * a binary (0x...) value formats and parses to the same bytes. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iscsi/text.h"

#include "fuzz_common.h"

static bool inside(const char *p, const char *buf, size_t len)
{
	return p >= buf && p < buf + len;
}

static void check_value(const char *v)
{
	uint8_t bin[256], again[256];
	char text[2 * sizeof(bin) + 3], num[16];
	size_t bl, al;
	uint32_t x, y;
	bool b;

	if (iscsi_parse_number(v, &x) == 0) {
		snprintf(num, sizeof(num), "%u", (unsigned)x);
		if (iscsi_parse_number(num, &y) != 0 || x != y)
			abort();
	}
	if (iscsi_parse_bool(v, &b) == 0 && strcmp(v, b ? "Yes" : "No") != 0)
		abort();
	if (iscsi_parse_binary(v, bin, sizeof(bin), &bl) == 0) {
		if (bl == 0 || bl > sizeof(bin))
			abort();
		iscsi_format_binary(bin, bl, text, sizeof(text));
		if (iscsi_parse_binary(text, again, sizeof(again), &al) != 0 || al != bl ||
		    memcmp(bin, again, bl) != 0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct iscsi_keys k, k2;
	static struct iscsi_text_out out;
	char *buf = fuzz_xmalloc(size);

	memcpy(buf, data, size);
	if (iscsi_keys_parse(buf, size, &k) != 0)
		goto done;
	if (k.n > ISCSI_KEYS_MAX)
		abort();
	memset(&out, 0, sizeof(out));
	for (unsigned i = 0; i < k.n; i++) {
		const char *key = k.kv[i].key, *v = k.kv[i].value;
		size_t kl;
		if (!inside(key, buf, size) || !inside(v, buf, size))
			abort();
		kl = strnlen(key, (size_t)(buf + size - key));
		if (kl == 0 || kl > ISCSI_KEY_NAME_MAX || memchr(key, '=', kl) ||
		    !memchr(v, '\0', (size_t)(buf + size - v)))
			abort();
		/* the first record of a key is the one a lookup finds */
		unsigned j = 0;
		while (strcmp(k.kv[j].key, key) != 0)
			j++;
		if (iscsi_keys_get(&k, key) != k.kv[j].value)
			abort();
		check_value(v);
		iscsi_text_add(&out, key, v);
	}
	if (!out.overflow) {
		if (iscsi_keys_parse(out.buf, out.len, &k2) != 0 || k2.n != k.n)
			abort();
		for (unsigned i = 0; i < k.n; i++)
			if (strcmp(k.kv[i].key, k2.kv[i].key) != 0 ||
			    strcmp(k.kv[i].value, k2.kv[i].value) != 0)
				abort();
	}
done:
	free(buf);
	return 0;
}
