/* iSCSI target URLs, libiscsi's form:
 *   iscsi://[user[%password]@]host[:port]/target-iqn/lun[?key=value&...]
 * with host a name, an IPv4 address or an [IPv6] literal, and mutual CHAP
 * as ?target_user=NAME&target_password=SECRET.  The one parser every
 * command uses to learn a target's parts (the port of a capture filter,
 * the target a report names); libiscsi still parses the URL it connects
 * to. */
#ifndef MIRROR_URL_H
#define MIRROR_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MIRROR_URL_SCHEME "iscsi://"
/* The iSCSI port IANA assigned: a portal that names none listens here. */
#define MIRROR_ISCSI_PORT 3260u
/* A DNS name has at most 253 characters (RFC 1035 2.3.4); libiscsi keeps a
 * portal of 255. */
#define MIRROR_URL_HOST_MAX 255u
/* RFC 7143 4.2.7.1: an iSCSI name is at most 223 bytes. */
#define MIRROR_URL_TARGET_MAX 223u
/* SAM-5 flat space addressing: a 14-bit LUN. */
#define MIRROR_URL_LUN_MAX 16383u

struct mirror_url {
	char host[MIRROR_URL_HOST_MAX + 1]; /* an IPv6 literal without brackets */
	bool ipv6;
	uint16_t port;                      /* MIRROR_ISCSI_PORT when none is given */
	bool port_given;
	char target[MIRROR_URL_TARGET_MAX + 1]; /* %XX decoded, as libiscsi does */
	uint32_t lun;
	/* CHAP: user[%password]@; mutual CHAP: ?target_user=&target_password=
	 * (the secrets themselves are not kept) */
	bool user, password, target_user, target_password;
};

/* Parses url into *u.  0; -EINVAL with the part at fault and its
 * character position in why: not iscsi://, an empty or over-long part, a
 * port not 1..65535, no target name or no LUN, a LUN above 16383, a bad
 * %XX or one that decodes to a control character or a space, a character
 * a host cannot hold, an empty target_password=. */
int mirror_url_parse(const char *url, struct mirror_url *u, char *why, size_t why_len);

/* Copies url to out with every password ("user%password@" and
 * target_password=) replaced by "***", for reports and logs; anything that
 * is not an iscsi:// URL is copied as it is.  0; MIRROR_E_NOSPACE (out
 * then holds "") when out is short. */
int mirror_url_redact(const char *url, char *out, size_t len);

#ifdef __cplusplus
}
#endif
#endif
