/* libFuzzer target: the iSCSI URL parser and its redaction
 * (include/mirror/url.h, lib/transport/url.c).
 *
 * Input: the URL text (cut at its first NUL).  Properties: no memory error
 * or UB; a refusal leaves a terminated message starting "iSCSI URL" and a
 * zeroed result; an accepted URL has its parts inside their limits, and
 *  - its redaction (passwords as "***") parses to the same fields: a log
 *    line names the same target as the command line;
 *  - re-rendered from its fields (the target %XX-encoded) it parses to
 *    the same fields, the target name byte for byte. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mirror/url.h>

#include "fuzz_common.h"

/* Every field, the target's array included (the parser zeroes the struct
 * first, so bytes past the name's NUL are comparable too). */
static bool same(const struct mirror_url *a, const struct mirror_url *b)
{
	return strcmp(a->host, b->host) == 0 && a->ipv6 == b->ipv6 && a->port == b->port &&
	       a->port_given == b->port_given &&
	       memcmp(a->target, b->target, sizeof(a->target)) == 0 && a->lun == b->lun &&
	       a->user == b->user && a->password == b->password &&
	       a->target_user == b->target_user && a->target_password == b->target_password;
}

static void check_refusal(const struct mirror_url *u, const char *why, size_t why_len)
{
	static const struct mirror_url zero;

	if (!memchr(why, '\0', why_len) || strncmp(why, "iSCSI URL", 9) != 0)
		abort();
	if (memcmp(u, &zero, sizeof(zero)) != 0)
		abort();
}

/* The URL of u's fields: every byte of the target that is not a letter,
 * a digit or one of ".-:" as %XX. */
static void render(const struct mirror_url *u, char *out, size_t len)
{
	size_t n = 0;

#define PUT(...) n += (size_t)snprintf(out + n, len - n, __VA_ARGS__)
	PUT("iscsi://");
	if (u->user)
		PUT("user%s@", u->password ? "%pw" : "");
	PUT(u->ipv6 ? "[%s]" : "%s", u->host);
	if (u->port_given)
		PUT(":%u", (unsigned)u->port);
	PUT("/");
	for (size_t i = 0; u->target[i]; i++) {
		unsigned char c = (unsigned char)u->target[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '-' || c == ':')
			PUT("%c", c);
		else
			PUT("%%%02X", c);
	}
	PUT("/%u", (unsigned)u->lun);
	if (u->target_user || u->target_password)
		PUT("?%s%s%s", u->target_user ? "target_user=tu" : "",
		    u->target_user && u->target_password ? "&" : "",
		    u->target_password ? "target_password=tp" : "");
#undef PUT
	if (n >= len)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mirror_url u, again;
	char why[160];
	size_t n = strnlen((const char *)data, size);
	char *url = fuzz_xmalloc(n + 1);
	char *red = fuzz_xmalloc(n + 8);
	char text[4 * MIRROR_URL_TARGET_MAX + MIRROR_URL_HOST_MAX + 128];

	memcpy(url, data, n);
	url[n] = '\0';
	memset(why, 'x', sizeof(why));
	/* a redaction never grows a URL by more than "***" per secret and
	 * always fits n + 7 bytes */
	if (mirror_url_redact(url, red, n + 8) != 0)
		abort();
	if (mirror_url_parse(url, &u, why, sizeof(why)) != 0) {
		check_refusal(&u, why, sizeof(why));
		goto out;
	}
	if (!u.host[0] || strlen(u.host) > MIRROR_URL_HOST_MAX || !u.target[0] ||
	    u.port == 0 || u.lun > MIRROR_URL_LUN_MAX || (!u.port_given && u.port != MIRROR_ISCSI_PORT) ||
	    (u.password && !u.user))
		abort();
	if (mirror_url_parse(red, &again, why, sizeof(why)) != 0 || !same(&u, &again))
		abort();
	render(&u, text, sizeof(text));
	if (mirror_url_parse(text, &again, why, sizeof(why)) != 0 || !same(&u, &again))
		abort();
out:
	free(url);
	free(red);
	return 0;
}
