/* Hex text to bytes, as sg_raw takes CDBs on its command line. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>

#include <mirror/decode.h>
#include <mirror/error.h>

static int hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int mirror_hex_parse(const char *s, uint8_t *out, size_t cap, size_t *len, char *why,
		     size_t why_len)
{
	size_t n = 0;
	int high = -1;

	for (size_t i = 0; s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		if (isspace(c) || c == ',' || c == ':') {
			if (high >= 0) { /* a lone digit is a whole byte: "a 1" */
				if (n >= cap)
					return MIRROR_E_NOSPACE;
				out[n++] = (uint8_t)high;
				high = -1;
			}
			continue;
		}
		if (c == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X') && high < 0) {
			i++;
			continue;
		}
		int v = hex_value(c);
		if (v < 0) {
			if (why && why_len)
				snprintf(why, why_len, "character '%c' at position %zu is not a hex digit",
					 isprint(c) ? c : '?', i + 1);
			return -EINVAL;
		}
		if (high < 0) {
			high = v;
		} else {
			if (n >= cap)
				return MIRROR_E_NOSPACE;
			out[n++] = (uint8_t)(high << 4 | v);
			high = -1;
		}
	}
	if (high >= 0) {
		if (n >= cap)
			return MIRROR_E_NOSPACE;
		out[n++] = (uint8_t)high;
	}
	*len = n;
	return 0;
}
