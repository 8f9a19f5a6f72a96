/* iSCSI target URLs (url.h): one lexical split into spans, then the checks
 * of each part; the redaction of passwords uses the same split. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <mirror/error.h>
#include <mirror/url.h>

#include "base/why.h"

/* A part of the URL: its offset and length. */
struct span {
	size_t off, len;
};

/* Where each part is; a part's "have_" flag says its separator is there
 * (an empty part after it is then an error, not an absence). */
struct parts {
	bool have_user;     /* "...@" */
	struct span user;
	bool have_password; /* "%" before the "@" */
	struct span password;
	struct span host;   /* brackets of an IPv6 literal included */
	bool have_port;     /* ":" after the host */
	struct span port;
	bool have_target;   /* "/" after the host */
	struct span target;
	bool have_lun;      /* "/" after the target */
	struct span lun;
	bool have_query;    /* "?" */
	struct span query;
};

#define SCHEME_LEN (sizeof(MIRROR_URL_SCHEME) - 1)

static size_t find(const char *s, size_t from, size_t to, char ch)
{
	for (size_t i = from; i < to; i++)
		if (s[i] == ch)
			return i;
	return to;
}

/* Splits url (which starts with the scheme) at its separators.  Never
 * fails: the checks come after. */
static void split(const char *url, struct parts *p)
{
	size_t end = strlen(url);
	size_t a = SCHEME_LEN;
	size_t auth_end = find(url, a, end, '/');

	memset(p, 0, sizeof(*p));
	/* The last "@" of the authority ends the user part: a password may
	 * hold "@", never "/". */
	size_t at = auth_end;
	for (size_t i = a; i < auth_end; i++)
		if (url[i] == '@')
			at = i;
	if (at < auth_end) {
		size_t pct = find(url, a, at, '%');
		p->have_user = true;
		p->user = (struct span){ a, pct - a };
		if (pct < at) {
			p->have_password = true;
			p->password = (struct span){ pct + 1, at - pct - 1 };
		}
		a = at + 1;
	}
	/* host[:port] or [v6][:port] */
	size_t host_end = auth_end;
	if (a < auth_end && url[a] == '[') {
		size_t close = find(url, a, auth_end, ']');
		host_end = close < auth_end ? close + 1 : auth_end;
		if (host_end < auth_end && url[host_end] == ':')
			p->have_port = true;
	} else {
		host_end = find(url, a, auth_end, ':');
		p->have_port = host_end < auth_end;
	}
	p->host = (struct span){ a, host_end - a };
	if (p->have_port)
		p->port = (struct span){ host_end + 1, auth_end - host_end - 1 };
	if (auth_end == end)
		return;
	/* /target/lun?query */
	p->have_target = true;
	size_t q = find(url, auth_end + 1, end, '?');
	size_t slash = find(url, auth_end + 1, q, '/');
	p->target = (struct span){ auth_end + 1, slash - auth_end - 1 };
	if (slash < q) {
		p->have_lun = true;
		p->lun = (struct span){ slash + 1, q - slash - 1 };
	}
	if (q < end) {
		p->have_query = true;
		p->query = (struct span){ q + 1, end - q - 1 };
	}
}

/* -EINVAL, with the problem and its (1-based) character in why. */
__attribute__((format(printf, 4, 5)))
static int bad(char *why, size_t why_len, size_t pos, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return mirror_fail(-EINVAL, why, why_len, "iSCSI URL: %s (character %zu)", msg, pos + 1);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static bool host_char(char c, bool v6)
{
	if (v6)
		return isxdigit((unsigned char)c) || c == ':' || c == '.';
	return isalnum((unsigned char)c) || c == '.' || c == '-' || c == '_';
}

static int check_host(const char *url, const struct parts *p, struct mirror_url *u, char *why,
		      size_t why_len)
{
	struct span h = p->host;

	if (h.len && url[h.off] == '[') {
		if (h.len < 2 || url[h.off + h.len - 1] != ']')
			return bad(why, why_len, h.off, "'[' of an IPv6 address without its ']'");
		h.off++;
		h.len -= 2;
		u->ipv6 = true;
	}
	if (!h.len && p->have_port && memchr(url + p->port.off, ':', p->port.len))
		return bad(why, why_len, h.off, "an IPv6 address goes in brackets, [::1]:3260");
	if (!h.len)
		return bad(why, why_len, h.off, "no host");
	if (h.len > MIRROR_URL_HOST_MAX)
		return bad(why, why_len, h.off, "a host of %zu characters (at most %u)", h.len,
			   MIRROR_URL_HOST_MAX);
	for (size_t i = h.off; i < h.off + h.len; i++)
		if (!host_char(url[i], u->ipv6))
			return bad(why, why_len, i, "'%c' cannot be in %s", url[i],
				   u->ipv6 ? "an IPv6 address" : "a host name");
	memcpy(u->host, url + h.off, h.len);
	u->host[h.len] = '\0';
	return 0;
}

/* A decimal number of s.len digits, at most max; -1 if it is none. */
static long number(const char *url, struct span s, unsigned long max)
{
	unsigned long v = 0;

	if (!s.len)
		return -1;
	for (size_t i = s.off; i < s.off + s.len; i++) {
		if (!isdigit((unsigned char)url[i]))
			return -1;
		v = v * 10 + (unsigned long)(url[i] - '0');
		if (v > max)
			return -2;
	}
	return (long)v;
}

static int check_port(const char *url, const struct parts *p, struct mirror_url *u, char *why,
		      size_t why_len)
{
	u->port = MIRROR_ISCSI_PORT;
	if (!p->have_port) {
		if (p->host.off + p->host.len < strlen(url) && url[p->host.off + p->host.len] != '/')
			return bad(why, why_len, p->host.off + p->host.len,
				   "'%c' after the IPv6 address; a port follows as ]:PORT",
				   url[p->host.off + p->host.len]);
		return 0;
	}
	long v = number(url, p->port, 65535);
	if (!p->port.len)
		return bad(why, why_len, p->port.off, "no port after ':'");
	if (memchr(url + p->port.off, ':', p->port.len))
		return bad(why, why_len, p->port.off - 1, "a second ':' after the host: an IPv6 "
			   "address goes in brackets, [::1]:3260");
	if (v == -1)
		return bad(why, why_len, p->port.off, "port '%.*s' is not a number",
			   (int)(p->port.len > 16 ? 16 : p->port.len), url + p->port.off);
	if (v <= 0)
		return bad(why, why_len, p->port.off, "port '%.*s' is not 1..65535",
			   (int)(p->port.len > 16 ? 16 : p->port.len), url + p->port.off);
	u->port = (uint16_t)v;
	u->port_given = true;
	return 0;
}

static int check_target(const char *url, const struct parts *p, struct mirror_url *u, char *why,
			size_t why_len)
{
	size_t n = 0;

	if (!p->have_target)
		return bad(why, why_len, strlen(url), "no target name after the host "
			   "(iscsi://host[:port]/target-iqn/lun)");
	if (!p->target.len)
		return bad(why, why_len, p->target.off, "empty target name");
	for (size_t i = p->target.off; i < p->target.off + p->target.len; i++) {
		char c = url[i];
		if (c == '%') {
			/* libiscsi decodes %XX in the target name */
			int hi = i + 2 < p->target.off + p->target.len ? hexval(url[i + 1]) : -1;
			int lo = hi >= 0 ? hexval(url[i + 2]) : -1;
			if (lo < 0)
				return bad(why, why_len, i, "'%%' in the target name is not %%XX");
			c = (char)(hi << 4 | lo);
			/* a decoded NUL would cut the name short */
			if (!isgraph((unsigned char)c))
				return bad(why, why_len, i, "'%.3s' decodes to 0x%02X, which cannot be "
					   "in a target name", url + i, (unsigned char)c);
			i += 2;
		} else if (!isgraph((unsigned char)c)) {
			return bad(why, why_len, i, "character 0x%02X cannot be in a target name",
				   (unsigned char)c);
		}
		if (n == MIRROR_URL_TARGET_MAX)
			return bad(why, why_len, p->target.off,
				   "a target name of more than %u bytes (RFC 7143 4.2.7.1)",
				   MIRROR_URL_TARGET_MAX);
		u->target[n++] = c;
	}
	u->target[n] = '\0';
	return 0;
}

static int check_lun(const char *url, const struct parts *p, struct mirror_url *u, char *why,
		     size_t why_len)
{
	if (!p->have_lun || !p->lun.len)
		return bad(why, why_len, p->have_lun ? p->lun.off : p->target.off + p->target.len,
			   "no LUN after the target name (iscsi://host[:port]/target-iqn/lun)");
	long v = number(url, p->lun, MIRROR_URL_LUN_MAX);
	if (v == -1)
		return bad(why, why_len, p->lun.off, "LUN '%.*s' is not a number",
			   (int)(p->lun.len > 16 ? 16 : p->lun.len), url + p->lun.off);
	if (v < 0)
		return bad(why, why_len, p->lun.off, "LUN '%.*s' is above %u",
			   (int)(p->lun.len > 16 ? 16 : p->lun.len), url + p->lun.off,
			   MIRROR_URL_LUN_MAX);
	u->lun = (uint32_t)v;
	return 0;
}

/* key=value&...: libiscsi's arguments; mutual CHAP's are noted. */
static int check_query(const char *url, const struct parts *p, struct mirror_url *u, char *why,
		       size_t why_len)
{
	size_t end = p->query.off + p->query.len;

	if (!p->have_query)
		return 0;
	for (size_t a = p->query.off; a <= end;) {
		size_t amp = find(url, a, end, '&');
		size_t eq = find(url, a, amp, '=');
		if (eq == a || eq == amp)
			return bad(why, why_len, a, "argument '%.*s' is not KEY=VALUE",
				   (int)(amp - a > 32 ? 32 : amp - a), url + a);
		if (eq - a == 11 && strncmp(url + a, "target_user", 11) == 0)
			u->target_user = eq + 1 < amp;
		else if (eq - a == 15 && strncmp(url + a, "target_password", 15) == 0) {
			/* an empty secret would read as no mutual CHAP here, and as
			 * a secret once redacted to "***" */
			if (eq + 1 == amp)
				return bad(why, why_len, eq + 1, "empty secret after "
					   "'target_password=' (leave the argument out for no "
					   "mutual CHAP)");
			u->target_password = true;
		}
		a = amp + 1;
	}
	return 0;
}

int mirror_url_parse(const char *url, struct mirror_url *u, char *why, size_t why_len)
{
	struct parts p;
	int rc;

	memset(u, 0, sizeof(*u));
	if (!url || strncmp(url, MIRROR_URL_SCHEME, SCHEME_LEN) != 0)
		return mirror_fail(-EINVAL, why, why_len, "iSCSI URL: does not start with "
				   MIRROR_URL_SCHEME);
	split(url, &p);
	if (p.have_user && !p.user.len)
		return bad(why, why_len, p.user.off, "empty user name before '@'");
	if (p.have_password && !p.password.len)
		return bad(why, why_len, p.password.off, "empty password after '%%'");
	u->user = p.have_user;
	u->password = p.have_password;
	if ((rc = check_host(url, &p, u, why, why_len)) < 0 ||
	    (rc = check_port(url, &p, u, why, why_len)) < 0 ||
	    (rc = check_target(url, &p, u, why, why_len)) < 0 ||
	    (rc = check_lun(url, &p, u, why, why_len)) < 0 ||
	    (rc = check_query(url, &p, u, why, why_len)) < 0) {
		struct mirror_url none = { 0 };
		*u = none;
		return rc;
	}
	return 0;
}

/* ---- redaction ---- */

static const char secret[] = "***";

int mirror_url_redact(const char *url, char *out, size_t len)
{
	struct parts p;
	size_t n = 0, from = 0;
	/* at most two secrets: the password and target_password's value */
	struct span hide[2];
	unsigned nhide = 0;

	if (!len)
		return MIRROR_E_NOSPACE;
	out[0] = '\0';
	if (!url)
		return -EINVAL;
	if (strncmp(url, MIRROR_URL_SCHEME, SCHEME_LEN) == 0) {
		split(url, &p);
		if (p.have_password)
			hide[nhide++] = p.password;
		size_t end = p.query.off + p.query.len;
		for (size_t a = p.query.off; p.have_query && a <= end && nhide < 2;) {
			size_t amp = find(url, a, end, '&');
			size_t eq = find(url, a, amp, '=');
			if (eq - a == 15 && strncmp(url + a, "target_password", 15) == 0 && eq < amp)
				hide[nhide++] = (struct span){ eq + 1, amp - eq - 1 };
			a = amp + 1;
		}
	}
	for (unsigned i = 0; i <= nhide; i++) {
		size_t to = i < nhide ? hide[i].off : strlen(url);
		const char *put = i < nhide ? secret : "";
		size_t need = (to - from) + strlen(put);
		if (n + need >= len) {
			out[0] = '\0';
			return MIRROR_E_NOSPACE;
		}
		memcpy(out + n, url + from, to - from);
		n += to - from;
		memcpy(out + n, put, strlen(put));
		n += strlen(put);
		if (i < nhide)
			from = hide[i].off + hide[i].len;
	}
	out[n] = '\0';
	return 0;
}
