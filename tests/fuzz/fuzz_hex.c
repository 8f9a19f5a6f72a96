/* libFuzzer target: hex text to bytes (mirror_hex_parse, the CDB syntax of
 * mirror-decode(1)).
 *
 * Input: the text (made NUL-terminated here; the parser takes a C string).
 * Properties: no memory error or UB; with room for every byte the text can
 * hold the parse never runs out of space; with little room it stops at
 * the cap (exact-size heap buffers, so ASan sees one byte more); the
 * reason text fits its buffer; what parsed re-parses identically from
 * canonical "xx xx" text. */
#include "fuzz_common.h"

static char *nul_terminated(const uint8_t *data, size_t size)
{
	char *s = fuzz_xmalloc(size + 1);

	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Parse with an exact-size output of cap bytes and why of why_len. */
static int parse_capped(const char *s, size_t cap, size_t why_len, uint8_t **out, size_t *len)
{
	char *why = fuzz_xmalloc(why_len);
	int rc;

	*out = fuzz_xmalloc(cap);
	*len = 0;
	if (why_len)
		why[0] = '\0';
	rc = mirror_hex_parse(s, *out, cap, len, why_len ? why : NULL, why_len);
	if (why_len && strlen(why) >= why_len)
		abort();
	if (rc == 0 && *len > cap)
		abort();
	free(why);
	return rc;
}

/* Canonical text of the bytes parsed, which must give them back. */
static void check_canonical(const uint8_t *bytes, size_t len)
{
	char *text = fuzz_xmalloc(len * 3 + 1);
	uint8_t *again;
	size_t n;

	text[0] = '\0';
	for (size_t i = 0; i < len; i++)
		snprintf(text + i * 3, 4, "%02x ", bytes[i]);
	if (parse_capped(text, len, 0, &again, &n) != 0 || n != len ||
	    (len && memcmp(again, bytes, len) != 0))
		abort();
	free(again);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = nul_terminated(data, size);
	uint8_t *out;
	size_t len;
	int rc;

	/* Every byte of text yields at most one output byte. */
	rc = parse_capped(s, size, 64, &out, &len);
	if (rc == MIRROR_E_NOSPACE)
		abort();
	if (rc == 0)
		check_canonical(out, len);
	free(out);

	/* A small output and a tiny reason buffer: the error paths. */
	(void)parse_capped(s, size % 7, size % 5, &out, &len);
	free(out);
	free(s);
	return 0;
}
