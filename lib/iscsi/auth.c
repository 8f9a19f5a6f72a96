/* The security stage of a login (RFC 7143 12.1.3): CHAP with MD5
 * (RFC 1994), one-way or mutual.  The challenge is 16 random bytes and a
 * random identifier; an initiator that reflects our own challenge back for
 * mutual CHAP is refused. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <nettle/md5.h>

#include "iscsi/engine.h"

static void chap_response(const uint8_t id, const char *secret, const uint8_t *chal, size_t n,
			  uint8_t digest[MD5_DIGEST_SIZE])
{
	struct md5_ctx m;
	/* RFC 1994: MD5(identifier || secret || challenge) */
	md5_init(&m);
	md5_update(&m, 1, &id);
	md5_update(&m, strlen(secret), (const uint8_t *)secret);
	md5_update(&m, n, chal);
	md5_digest(&m, MD5_DIGEST_SIZE, digest);
}

/* Security negotiation (RFC 7143 12.1.3, CHAP).  Returns true once the
 * initiator is authenticated (or no authentication is configured). */
bool tgt_negotiate_security(struct mirror_tgt_conn *c, struct login_ctx *l)
{
	const struct mirror_tgt_config *cfg = &c->t->cfg;
	const char *am = iscsi_keys_get(l->keys, "AuthMethod");

	if (am) {
		bool offers_chap = strstr(am, "CHAP") != NULL, offers_none = strstr(am, "None") != NULL;
		if (cfg->chap_user && offers_chap) {
			iscsi_text_add(&l->out, "AuthMethod", "CHAP");
			c->chap = CHAP_WAIT_A;
		} else if (!cfg->chap_user && offers_none) {
			iscsi_text_add(&l->out, "AuthMethod", "None");
			c->chap = CHAP_DONE;
			c->chap_ok = true;
		} else {
			iscsi_text_add(&l->out, "AuthMethod", "Reject");
			l->status = LOGIN_STATUS_AUTH_FAILURE;
			return false;
		}
	}
	if (!cfg->chap_user) {
		c->chap_ok = true;
		return true;
	}
	const char *a = iscsi_keys_get(l->keys, "CHAP_A");
	if (c->chap == CHAP_WAIT_A && a) {
		if (!strstr(a, "5")) {
			iscsi_text_add(&l->out, "CHAP_A", "Reject");
			l->status = LOGIN_STATUS_AUTH_FAILURE;
			return false;
		}
		if (getrandom(c->chap_challenge, sizeof(c->chap_challenge), 0) != sizeof(c->chap_challenge) ||
		    getrandom(&c->chap_id, 1, 0) != 1) {
			l->status = LOGIN_STATUS_TARGET_ERROR;
			return false;
		}
		char hex[2 + 2 * sizeof(c->chap_challenge) + 1];
		iscsi_format_binary(c->chap_challenge, sizeof(c->chap_challenge), hex, sizeof(hex));
		iscsi_text_add(&l->out, "CHAP_A", "5");
		iscsi_text_addu(&l->out, "CHAP_I", c->chap_id);
		iscsi_text_add(&l->out, "CHAP_C", hex);
		c->chap = CHAP_WAIT_R;
		return false;
	}
	const char *n = iscsi_keys_get(l->keys, "CHAP_N"), *r = iscsi_keys_get(l->keys, "CHAP_R");
	if (c->chap == CHAP_WAIT_R && n && r) {
		uint8_t got[64], want[MD5_DIGEST_SIZE];
		size_t got_len = 0;
		chap_response(c->chap_id, cfg->chap_secret, c->chap_challenge,
			      sizeof(c->chap_challenge), want);
		if (strcmp(n, cfg->chap_user) != 0 || iscsi_parse_binary(r, got, sizeof(got), &got_len) < 0 ||
		    got_len != MD5_DIGEST_SIZE || memcmp(got, want, MD5_DIGEST_SIZE) != 0) {
			l->status = LOGIN_STATUS_AUTH_FAILURE;
			return false;
		}
		/* mutual CHAP: the initiator challenges us in turn */
		const char *ci = iscsi_keys_get(l->keys, "CHAP_I"), *cc = iscsi_keys_get(l->keys, "CHAP_C");
		if (ci && cc) {
			uint32_t id;
			uint8_t chal[1024], resp[MD5_DIGEST_SIZE];
			size_t chal_len;
			if (!cfg->target_chap_user || iscsi_parse_number(ci, &id) < 0 || id > 255 ||
			    iscsi_parse_binary(cc, chal, sizeof(chal), &chal_len) < 0 ||
			    (chal_len == sizeof(c->chap_challenge) &&
			     memcmp(chal, c->chap_challenge, chal_len) == 0)) {
				/* no target secret, or our own challenge reflected */
				l->status = LOGIN_STATUS_AUTH_FAILURE;
				return false;
			}
			char hex[2 + 2 * MD5_DIGEST_SIZE + 1];
			chap_response((uint8_t)id, cfg->target_chap_secret, chal, chal_len, resp);
			iscsi_format_binary(resp, sizeof(resp), hex, sizeof(hex));
			iscsi_text_add(&l->out, "CHAP_N", cfg->target_chap_user);
			iscsi_text_add(&l->out, "CHAP_R", hex);
		}
		c->chap = CHAP_DONE;
		c->chap_ok = true;
		return true;
	}
	return c->chap_ok;
}
