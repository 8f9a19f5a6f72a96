/* The iSCSI target engine driven byte for byte by a hand-made initiator:
 * login (plain, CHAP, mutual CHAP, ACL, wrong target), discovery, both
 * mirror paths under both negotiation profiles with their interrupt
 * counts (wire-profile.md: 3 small, 4 large under `patent'), Data-Out
 * errors (RFC 7143 11.4.7.2), task management, the CmdSN window
 * (RFC 7143 4.2.2.1), data-in residuals (11.4.5.1), and malformed PDUs. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <isa-l/crc.h>
#include <nettle/md5.h>

#include "testutil.h"

#include "iscsi/target.h"

#define NVRAM_SIZE (1024u * 1024u)
#define BHS_BUF 64

struct rig {
	struct mirror_profile p;
	struct mirror_nvram nv;
	uint8_t *data;
	uint64_t *bitmap;
	struct mirror_receiver rx;
	struct mirror_tgt_config cfg;
	struct mirror_tgt *t;
	struct mirror_tgt_conn *c;
	struct mirror_inject inj;
	const struct mirror_rx_lu_hooks *hooks; /* set before rig_start; may be NULL */
	uint32_t cmdsn, itt;
	bool hd;
	/* what the target sent */
	uint8_t *out;
	size_t out_cap, out_len, out_at;
};

static void rig_init(struct rig *r, enum mirror_neg_profile neg)
{
	memset(r, 0, sizeof(*r));
	mirror_profile_init(&r->p);
	r->p.nvram_size = NVRAM_SIZE;
	r->p.region_split = NVRAM_SIZE / 2;
	r->data = calloc(1, NVRAM_SIZE);
	r->bitmap = calloc(1, mirror_nvram_bitmap_bytes(NVRAM_SIZE));
	ck_assert_int_eq(mirror_nvram_init(&r->nv, &r->p, r->data, r->bitmap), 0);
	ck_assert_int_eq(mirror_rx_init(&r->rx, &r->p, 1, &r->nv), 0);
	mirror_tgt_config_init(&r->cfg);
	r->cfg.neg = neg;
	r->cfg.max_burst_length = 64 * 1024;
	r->cfg.first_burst_length = 16 * 1024;
	r->out_cap = 4u << 20;
	r->out = calloc(1, r->out_cap);
}

static void rig_start(struct rig *r)
{
	if (r->hooks)
		ck_assert_int_eq(mirror_tgt_new_receiver_hooked(&r->cfg, &r->rx, r->hooks, &r->t, NULL, 0), 0);
	else
		ck_assert_int_eq(mirror_tgt_new_receiver(&r->cfg, &r->rx, &r->t, NULL, 0), 0);
	ck_assert_ptr_nonnull(r->t);
	r->c = mirror_tgt_conn_new(r->t, "test");
	ck_assert_ptr_nonnull(r->c);
}

static void rig_free(struct rig *r)
{
	mirror_tgt_conn_free(r->c);
	mirror_tgt_free(r->t);
	free(r->data);
	free(r->bitmap);
	free(r->out);
}

static void be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Sends one PDU (with a header digest when negotiated). */
static int send_pdu(struct rig *r, uint8_t *bhs, const void *data, uint32_t dlen)
{
	uint8_t buf[BHS_BUF];
	bhs[5] = (uint8_t)(dlen >> 16);
	bhs[6] = (uint8_t)(dlen >> 8);
	bhs[7] = (uint8_t)dlen;
	size_t n = 0;
	memcpy(buf, bhs, 48);
	n = 48;
	if (r->hd) {
		uint32_t crc = crc32_iscsi(bhs, 48, 0xffffffffu) ^ 0xffffffffu;
		buf[n++] = (uint8_t)crc; buf[n++] = (uint8_t)(crc >> 8);
		buf[n++] = (uint8_t)(crc >> 16); buf[n++] = (uint8_t)(crc >> 24);
	}
	int rc = mirror_tgt_conn_input(r->c, buf, n);
	if (dlen) {
		uint32_t padded = (dlen + 3) & ~3u;
		uint8_t *d = calloc(1, padded);
		memcpy(d, data, dlen);
		/* byte by byte for part of it: framing must not depend on reads */
		size_t first = padded > 7 ? 7 : padded;
		for (size_t i = 0; i < first && rc == 0; i++)
			rc = mirror_tgt_conn_input(r->c, d + i, 1);
		if (rc == 0 && padded > first)
			rc = mirror_tgt_conn_input(r->c, d + first, padded - first);
		free(d);
	}
	return rc;
}

/* Moves what the target queued into r->out. */
static void drain(struct rig *r)
{
	size_t n;
	const uint8_t *p = mirror_tgt_conn_output(r->c, &n);
	ck_assert_uint_le(r->out_len + n, r->out_cap);
	memcpy(r->out + r->out_len, p, n);
	r->out_len += n;
	mirror_tgt_conn_consumed(r->c, n);
}

/* The next PDU the target sent: its BHS and data (no data digest here). */
static bool next_pdu(struct rig *r, const uint8_t **bhs, const uint8_t **data, uint32_t *dlen)
{
	drain(r);
	if (r->out_at + 48 > r->out_len)
		return false;
	*bhs = r->out + r->out_at;
	*dlen = (uint32_t)(*bhs)[5] << 16 | (uint32_t)(*bhs)[6] << 8 | (*bhs)[7];
	*data = *bhs + 48 + (r->hd ? 4 : 0);
	r->out_at += 48 + (r->hd ? 4 : 0) + ((*dlen + 3) & ~3u);
	ck_assert_uint_le(r->out_at, r->out_len);
	return true;
}

static const uint8_t *expect_pdu(struct rig *r, uint8_t opcode, const uint8_t **data, uint32_t *dlen)
{
	const uint8_t *bhs, *d;
	uint32_t n;
	ck_assert_msg(next_pdu(r, &bhs, &d, &n), "no PDU, wanted opcode 0x%02x", opcode);
	ck_assert_msg((bhs[0] & 0x3f) == opcode, "opcode 0x%02x, wanted 0x%02x", bhs[0] & 0x3f, opcode);
	if (data)
		*data = d;
	if (dlen)
		*dlen = n;
	return bhs;
}

static bool has_key(const uint8_t *d, uint32_t n, const char *kv)
{
	for (uint32_t at = 0; at < n;) {
		const char *s = (const char *)d + at;
		size_t l = strnlen(s, n - at);
		if (strcmp(s, kv) == 0)
			return true;
		at += (uint32_t)l + 1;
	}
	return false;
}

static const char *key_value(const uint8_t *d, uint32_t n, const char *key, char *buf, size_t cap)
{
	size_t kl = strlen(key);
	for (uint32_t at = 0; at < n;) {
		const char *s = (const char *)d + at;
		size_t l = strnlen(s, n - at);
		if (strncmp(s, key, kl) == 0 && s[kl] == '=') {
			snprintf(buf, cap, "%s", s + kl + 1);
			return buf;
		}
		at += (uint32_t)l + 1;
	}
	return NULL;
}

/* keys: "k=v\0k=v\0" with its length. */
static int login(struct rig *r, unsigned csg, unsigned nsg, bool transit, const char *keys, size_t klen)
{
	uint8_t bhs[48] = { 0 };
	bhs[0] = 0x43; /* immediate, Login Request */
	bhs[1] = (uint8_t)((transit ? 0x80 : 0) | csg << 2 | nsg);
	bhs[8] = 0x80; /* ISID */
	bhs[13] = 1;
	be32(bhs + 16, r->itt++);
	be32(bhs + 24, r->cmdsn);
	return send_pdu(r, bhs, keys, (uint32_t)klen);
}

#define KEYS(s) s, sizeof(s) - 1

static const char op_keys[] = "InitiatorName=iqn.2026-11.test:init\0SessionType=Normal\0"
			      "TargetName=iqn.2026-11.org.mirrortest:emu\0AuthMethod=None\0"
			      "HeaderDigest=None\0DataDigest=None\0InitialR2T=No\0ImmediateData=Yes\0"
			      "MaxBurstLength=262144\0FirstBurstLength=65536\0MaxRecvDataSegmentLength=262144\0";

static void login_ok(struct rig *r)
{
	const uint8_t *d;
	uint32_t n;
	ck_assert_int_eq(login(r, 1, 3, true, KEYS(op_keys)), 0);
	const uint8_t *b = expect_pdu(r, 0x23, &d, &n);
	ck_assert_uint_eq(b[36], 0);
	ck_assert_uint_eq(b[37], 0);
	ck_assert_uint_eq(b[1], 0x80 | 1 << 2 | 3);
	ck_assert(has_key(d, n, "TargetPortalGroupTag=1"));
}

static void scsi_cmd(struct rig *r, uint32_t itt, const uint8_t *cdb, unsigned cdb_len, bool write,
		     uint32_t edtl, const void *imm, uint32_t imm_len)
{
	uint8_t bhs[48] = { 0 };
	bhs[0] = 0x01;
	bhs[1] = (uint8_t)(0x80 | (write ? 0x20 : (edtl ? 0x40 : 0)));
	be32(bhs + 16, itt);
	be32(bhs + 20, edtl);
	be32(bhs + 24, r->cmdsn++);
	memcpy(bhs + 32, cdb, cdb_len);
	send_pdu(r, bhs, imm, imm_len);
}

static void data_out(struct rig *r, uint32_t itt, uint32_t ttt, uint32_t off, const uint8_t *d,
		     uint32_t n, bool final)
{
	uint8_t bhs[48] = { 0 };
	bhs[0] = 0x05;
	bhs[1] = final ? 0x80 : 0;
	be32(bhs + 16, itt);
	be32(bhs + 20, ttt);
	be32(bhs + 40, off);
	send_pdu(r, bhs, d, n);
}

/* Answers every R2T with its data, in PDUs of at most seg bytes, until
 * the SCSI Response; returns its status. */
static uint8_t serve_r2ts(struct rig *r, uint32_t itt, const uint8_t *payload, uint32_t seg,
			  unsigned *r2ts, const uint8_t **rsp_data, uint32_t *rsp_len)
{
	const uint8_t *bhs, *d;
	uint32_t n;
	*r2ts = 0;
	while (next_pdu(r, &bhs, &d, &n)) {
		if ((bhs[0] & 0x3f) == 0x31) {
			ck_assert_uint_eq(rd32(bhs + 16), itt);
			uint32_t ttt = rd32(bhs + 20), off = rd32(bhs + 40), len = rd32(bhs + 44);
			(*r2ts)++;
			for (uint32_t at = 0; at < len; at += seg) {
				uint32_t k = len - at < seg ? len - at : seg;
				data_out(r, itt, ttt, off + at, payload + off + at, k, at + k == len);
			}
			continue;
		}
		ck_assert_uint_eq(bhs[0] & 0x3f, 0x21);
		if (rsp_data)
			*rsp_data = d;
		if (rsp_len)
			*rsp_len = n;
		return bhs[3];
	}
	ck_abort_msg("no SCSI Response");
	return 0xff;
}

static void push_table(struct rig *r)
{
	struct mirror_array_table tab;
	uint8_t cdb[16] = { 0 }, payload[64];
	unsigned r2ts;
	mirror_array_table_init(&tab);
	ck_assert_int_eq(mirror_array_table_add(&tab, 7, 0x1122334455667788ull, 2), 0);
	int len = mirror_table_update_encode(&tab, payload, sizeof(payload));
	mirror_table_update_cdb_encode(&r->p, (uint32_t)len, cdb, sizeof(cdb));
	/* modern: as immediate data; patent: on the target's R2T */
	if (r->cfg.neg == MIRROR_NEG_MODERN)
		scsi_cmd(r, 900, cdb, 10, true, (uint32_t)len, payload, (uint32_t)len);
	else
		scsi_cmd(r, 900, cdb, 10, true, (uint32_t)len, NULL, 0);
	ck_assert_uint_eq(serve_r2ts(r, 900, payload, 8192, &r2ts, NULL, NULL), 0);
}

START_TEST(login_plain_and_negotiation)
{
	struct rig r;
	const uint8_t *d;
	uint32_t n;
	char v[64];
	rig_init(&r, MIRROR_NEG_PATENT);
	rig_start(&r);
	ck_assert_int_eq(login(&r, 1, 3, true, KEYS(op_keys)), 0);
	const uint8_t *b = expect_pdu(&r, 0x23, &d, &n);
	ck_assert_uint_eq(b[36] << 8 | b[37], 0);
	/* patent: InitialR2T is OR-ed to Yes, ImmediateData AND-ed to No */
	ck_assert_str_eq(key_value(d, n, "InitialR2T", v, sizeof(v)), "Yes");
	ck_assert_str_eq(key_value(d, n, "ImmediateData", v, sizeof(v)), "No");
	ck_assert_str_eq(key_value(d, n, "MaxBurstLength", v, sizeof(v)), "65536");
	ck_assert_str_eq(key_value(d, n, "FirstBurstLength", v, sizeof(v)), "16384");
	ck_assert_str_eq(key_value(d, n, "HeaderDigest", v, sizeof(v)), "None");
	ck_assert_ptr_nonnull(key_value(d, n, "MaxRecvDataSegmentLength", v, sizeof(v)));
	ck_assert_uint_eq(mirror_tgt_stats(r.t)->sessions_now, 1);
	rig_free(&r);
}
END_TEST

START_TEST(login_failures)
{
	static const struct {
		const char *keys;
		size_t len;
		uint16_t status;
		bool acl;
	} cases[] = {
		{ KEYS("InitiatorName=iqn.x\0SessionType=Normal\0TargetName=iqn.nope\0"), 0x0203, false },
		{ KEYS("SessionType=Normal\0TargetName=iqn.2026-11.org.mirrortest:emu\0"), 0x0207, false },
		{ KEYS("InitiatorName=iqn.stranger\0TargetName=iqn.2026-11.org.mirrortest:emu\0"), 0x0202, true },
		{ KEYS("InitiatorName=iqn.x\0NoEquals\0"), 0x0200, false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rig r;
		rig_init(&r, MIRROR_NEG_PATENT);
		if (cases[i].acl) {
			r.cfg.acl_n = 1;
			r.cfg.acl[0] = "iqn.friend";
		}
		rig_start(&r);
		ck_assert_int_lt(login(&r, 1, 3, true, cases[i].keys, cases[i].len), 0);
		const uint8_t *b = expect_pdu(&r, 0x23, NULL, NULL);
		ck_assert_uint_eq(b[36] << 8 | b[37], cases[i].status);
		ck_assert(mirror_tgt_conn_wants_close(r.c));
		ck_assert_uint_eq(mirror_tgt_stats(r.t)->logins_failed, 1);
		rig_free(&r);
	}
}
END_TEST

static void chap_digest(uint8_t id, const char *secret, const uint8_t *chal, size_t n, uint8_t *out)
{
	struct md5_ctx m;
	md5_init(&m);
	md5_update(&m, 1, &id);
	md5_update(&m, strlen(secret), (const uint8_t *)secret);
	md5_update(&m, n, chal);
	md5_digest(&m, 16, out);
}

static void hexstr(const uint8_t *b, size_t n, char *out)
{
	out += sprintf(out, "0x");
	for (size_t i = 0; i < n; i++)
		out += sprintf(out, "%02x", b[i]);
}

static int unhex(const char *s, uint8_t *out)
{
	int n = 0;
	for (s += 2; s[0] && s[1]; s += 2)
		sscanf(s, "%2hhx", &out[n++]);
	return n;
}

/* CHAP with the right secret, a wrong one, and mutual CHAP. */
static void chap_run(const char *secret, bool mutual, uint16_t want)
{
	struct rig r;
	const uint8_t *d, *b;
	uint32_t n;
	char v[256], keys[512];
	rig_init(&r, MIRROR_NEG_PATENT);
	r.cfg.chap_user = "alice";
	r.cfg.chap_secret = "alice-secret-12";
	r.cfg.target_chap_user = "emu";
	r.cfg.target_chap_secret = "target-secret-1";
	rig_start(&r);
	ck_assert_int_eq(login(&r, 0, 1, true, KEYS("InitiatorName=iqn.a\0SessionType=Normal\0"
						      "TargetName=iqn.2026-11.org.mirrortest:emu\0AuthMethod=CHAP,None\0")), 0);
	b = expect_pdu(&r, 0x23, &d, &n);
	ck_assert_str_eq(key_value(d, n, "AuthMethod", v, sizeof(v)), "CHAP");
	ck_assert_uint_eq(b[1] & 0x80, 0); /* no transit before authentication */
	ck_assert_int_eq(login(&r, 0, 1, true, KEYS("CHAP_A=5\0")), 0);
	b = expect_pdu(&r, 0x23, &d, &n);
	uint8_t chal[64], resp[16];
	unsigned id = (unsigned)atoi(key_value(d, n, "CHAP_I", v, sizeof(v)));
	int cl = unhex(key_value(d, n, "CHAP_C", v, sizeof(v)), chal);
	ck_assert_int_ge(cl, 16);
	chap_digest((uint8_t)id, secret, chal, (size_t)cl, resp);
	char rhex[40];
	hexstr(resp, 16, rhex);
	int kl = sprintf(keys, "CHAP_N=alice%cCHAP_R=%s%c", 0, rhex, 0);
	const uint8_t mine[16] = { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6 };
	if (mutual) {
		char chex[40];
		hexstr(mine, 16, chex);
		kl += sprintf(keys + kl, "CHAP_I=77%cCHAP_C=%s%c", 0, chex, 0);
	}
	int rc = login(&r, 0, 1, true, keys, (size_t)kl);
	b = expect_pdu(&r, 0x23, &d, &n);
	ck_assert_uint_eq(b[36] << 8 | b[37], want);
	if (want == 0) {
		ck_assert_int_eq(rc, 0);
		ck_assert_uint_eq(b[1] & 0x83, 0x81); /* transit to operational */
		if (mutual) {
			uint8_t tr[16], got[16];
			chap_digest(77, "target-secret-1", mine, 16, tr);
			ck_assert_str_eq(key_value(d, n, "CHAP_N", v, sizeof(v)), "emu");
			unhex(key_value(d, n, "CHAP_R", v, sizeof(v)), got);
			ck_assert_mem_eq(tr, got, 16);
		}
		ck_assert_int_eq(login(&r, 1, 3, true, KEYS("HeaderDigest=None\0")), 0);
		b = expect_pdu(&r, 0x23, NULL, NULL);
		ck_assert_uint_eq(b[36] << 8 | b[37], 0);
	} else {
		ck_assert_int_lt(rc, 0);
	}
	rig_free(&r);
}

START_TEST(chap_right_wrong_mutual)
{
	chap_run("alice-secret-12", false, 0);
	chap_run("wrong-secret-99", false, 0x0201);
	chap_run("alice-secret-12", true, 0);
}
END_TEST

START_TEST(chap_required_but_skipped)
{
	struct rig r;
	rig_init(&r, MIRROR_NEG_PATENT);
	r.cfg.chap_user = "alice";
	r.cfg.chap_secret = "alice-secret-12";
	rig_start(&r);
	ck_assert_int_lt(login(&r, 1, 3, true, KEYS(op_keys)), 0);
	const uint8_t *b = expect_pdu(&r, 0x23, NULL, NULL);
	ck_assert_uint_eq(b[36] << 8 | b[37], 0x0201);
	rig_free(&r);
}
END_TEST

/* A login not in the full feature phase by login_timeout_ms is cut at the
 * tick that finds it late, whatever arrived meanwhile; one that is, never. */
START_TEST(login_timeout)
{
	struct rig r;
	rig_init(&r, MIRROR_NEG_PATENT);
	r.cfg.login_timeout_ms = 2000;
	rig_start(&r);
	ck_assert_int_eq(mirror_tgt_conn_tick(r.c, 10000), 2000);
	ck_assert_int_eq(mirror_tgt_conn_input(r.c, (const uint8_t *)"\x43", 1), 0);
	ck_assert_int_eq(mirror_tgt_conn_tick(r.c, 11000), 1000);
	ck_assert(!mirror_tgt_conn_wants_close(r.c));
	ck_assert_int_eq(mirror_tgt_conn_tick(r.c, 12000), -1);
	ck_assert(mirror_tgt_conn_wants_close(r.c));
	ck_assert_uint_eq(mirror_tgt_stats(r.t)->logins_failed, 1);
	rig_free(&r);

	rig_init(&r, MIRROR_NEG_PATENT);
	r.cfg.login_timeout_ms = 2000;
	rig_start(&r);
	ck_assert_int_eq(mirror_tgt_conn_tick(r.c, 10000), 2000);
	login_ok(&r);
	ck_assert_int_eq(mirror_tgt_conn_tick(r.c, 50000), -1);
	ck_assert(!mirror_tgt_conn_wants_close(r.c));
	rig_free(&r);
}
END_TEST

/* Login keys bounded before they are kept: a PDU over the login phase's
 * 8192 bytes gets 0200h, continued keys past 64 KiB 0302h. */
START_TEST(login_text_bounds)
{
	static char big[9000];
	struct rig r;
	const uint8_t *b;

	memset(big, 'x', sizeof(big));
	memcpy(big, "X-big=", 6);
	big[sizeof(big) - 1] = '\0';
	rig_init(&r, MIRROR_NEG_PATENT);
	rig_start(&r);
	ck_assert_int_lt(login(&r, 0, 1, true, big, sizeof(big)), 0);
	b = expect_pdu(&r, 0x23, NULL, NULL);
	ck_assert_uint_eq(b[36] << 8 | b[37], 0x0200);
	ck_assert(mirror_tgt_conn_wants_close(r.c));
	rig_free(&r);

	rig_init(&r, MIRROR_NEG_PATENT);
	rig_start(&r);
	unsigned sent = 0;
	int rc = 0;
	for (unsigned i = 0; i < 16 && rc == 0; i++) {
		uint8_t bhs[48] = { 0 };
		bhs[0] = 0x43;
		bhs[1] = 0x40 | 1; /* C, CSG 0, NSG 1 */
		be32(bhs + 16, r.itt);
		rc = send_pdu(&r, bhs, big, 8000);
		sent += 8000;
		b = expect_pdu(&r, 0x23, NULL, NULL);
	}
	ck_assert_int_lt(rc, 0);
	ck_assert_uint_gt(sent, MIRROR_TGT_TEXT_MAX);
	ck_assert_uint_le(sent, MIRROR_TGT_TEXT_MAX + 8000);
	ck_assert_uint_eq(b[36] << 8 | b[37], 0x0302);
	rig_free(&r);
}
END_TEST

START_TEST(discovery_send_targets)
{
	struct rig r;
	const uint8_t *d;
	uint32_t n;
	char v[128];
	rig_init(&r, MIRROR_NEG_PATENT);
	r.cfg.portal = "127.0.0.1:3999";
	rig_start(&r);
	ck_assert_int_eq(login(&r, 1, 3, true, KEYS("InitiatorName=iqn.a\0SessionType=Discovery\0")), 0);
	expect_pdu(&r, 0x23, NULL, NULL);
	uint8_t bhs[48] = { 0 };
	bhs[0] = 0x04;
	bhs[1] = 0x80;
	be32(bhs + 16, 5);
	be32(bhs + 20, 0xffffffff);
	send_pdu(&r, bhs, "SendTargets=All", 16);
	expect_pdu(&r, 0x24, &d, &n);
	ck_assert_str_eq(key_value(d, n, "TargetName", v, sizeof(v)), "iqn.2026-11.org.mirrortest:emu");
	ck_assert_str_eq(key_value(d, n, "TargetAddress", v, sizeof(v)), "127.0.0.1:3999,1");
	/* a discovery session takes no SCSI commands */
	const uint8_t tur[6] = { 0 };
	scsi_cmd(&r, 6, tur, 6, false, 0, NULL, 0);
	const uint8_t *rj = expect_pdu(&r, 0x3f, NULL, NULL);
	ck_assert_uint_eq(rj[2], 0x04);
	rig_free(&r);
}
END_TEST

static void fill(uint8_t *p, uint32_t n, uint8_t seed)
{
	for (uint32_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

START_TEST(small_and_large_interrupts_patent)
{
	struct rig r;
	unsigned r2ts;
	rig_init(&r, MIRROR_NEG_PATENT);
	rig_start(&r);
	login_ok(&r);
	push_table(&r);

	/* small: 8 KiB at NVRAM 0x1000 (region 0: B receives from A) */
	const struct mirror_sg_element sg[1] = { { 0x1000, 8192 } };
	struct mirror_small_cdb sc;
	uint8_t cdb[16] = { 0 }, data[1024 + 65536];
	ck_assert_int_eq(mirror_small_cdb_from_sg(&r.p, 0, 7, 100, sg, 1, &sc), 0);
	mirror_small_cdb_encode(&r.p, &sc, cdb, sizeof(cdb));
	fill(data, 8192, 1);
	scsi_cmd(&r, 10, cdb, 12, true, 8192, NULL, 0);
	ck_assert_uint_eq(serve_r2ts(&r, 10, data, 8192, &r2ts, NULL, NULL), 0);
	ck_assert_uint_eq(r2ts, 1);
	ck_assert_mem_eq(r.data + 0x1000, data, 8192);
	ck_assert_int_eq(mirror_nvram_count_valid(&r.nv, 0x1000, 8192), 16);

	/* large: 3 elements, 20 KiB: R2T for the metadata alone, then the data */
	struct mirror_metadata m;
	mirror_metadata_init(&m);
	m.sequence = 1;
	m.lba = 500;
	m.blocks = 40;
	m.region = 0;
	m.sg_count = 3;
	m.sg[0] = (struct mirror_sg_element){ 0x10000, 8192 };
	m.sg[1] = (struct mirror_sg_element){ 0x20000, 8192 };
	m.sg[2] = (struct mirror_sg_element){ 0x30000, 4096 };
	mirror_metadata_encode(&m, data, 1024);
	fill(data + 1024, 20480, 9);
	uint8_t ncdb[16] = { 0x3C };
	scsi_cmd(&r, 11, ncdb, 10, true, 1024 + 20480, NULL, 0);
	const uint8_t *b = expect_pdu(&r, 0x31, NULL, NULL);
	ck_assert_uint_eq(rd32(b + 40), 0);
	ck_assert_uint_eq(rd32(b + 44), 1024);
	data_out(&r, 11, rd32(b + 20), 0, data, 1024, true);
	/* the ranges are invalid before the data is solicited (Fig. 5 block 516) */
	b = expect_pdu(&r, 0x31, NULL, NULL);
	ck_assert_uint_eq(rd32(b + 40), 1024);
	ck_assert_uint_eq(rd32(b + 44), 20480);
	ck_assert_int_eq(mirror_nvram_count_valid(&r.nv, 0x10000, 8192), 0);
	data_out(&r, 11, rd32(b + 20), 1024, data + 1024, 20480, true);
	b = expect_pdu(&r, 0x21, NULL, NULL);
	ck_assert_uint_eq(b[3], 0);
	ck_assert_mem_eq(r.data + 0x20000, data + 1024 + 8192, 8192);
	ck_assert_int_eq(mirror_nvram_count_valid(&r.nv, 0x30000, 4096), 8);

	const struct mirror_tgt_stats *st = mirror_tgt_stats(r.t);
	ck_assert_uint_eq(st->kind[MIRROR_RX_KIND_SMALL].ops, 1);
	ck_assert_uint_eq(st->kind[MIRROR_RX_KIND_SMALL].interrupts_min, 3);
	ck_assert_uint_eq(st->kind[MIRROR_RX_KIND_SMALL].interrupts_max, 3);
	ck_assert_uint_eq(st->kind[MIRROR_RX_KIND_LARGE].interrupts_min, 4);
	ck_assert_uint_eq(st->kind[MIRROR_RX_KIND_LARGE].bytes.metadata, 1024);
	ck_assert_uint_eq(st->kind[MIRROR_RX_KIND_LARGE].bytes.data, 20480);
	ck_assert_uint_eq(st->kind[MIRROR_RX_KIND_LARGE].bytes.cdb, 10);
	/* 48 command + 48 R2T + 48 Data-Out + 48 R2T + 48 Data-Out + 48 status - 10 CDB */
	ck_assert_uint_eq(st->kind[MIRROR_RX_KIND_LARGE].bytes.transport, 6 * 48 - 10);
	rig_free(&r);
}
END_TEST

START_TEST(extra_bursts_add_interrupts)
{
	struct rig r;
	unsigned r2ts;
	rig_init(&r, MIRROR_NEG_PATENT);
	r.cfg.max_burst_length = 8192;
	r.cfg.first_burst_length = 8192;
	rig_start(&r);
	login_ok(&r);
	push_table(&r);
	const struct mirror_sg_element sg[2] = { { 0x2000, 16384 }, { 0x8000, 16384 } };
	struct mirror_small_cdb sc;
	uint8_t cdb[16] = { 0 }, data[32768];
	mirror_small_cdb_from_sg(&r.p, 0, 7, 0, sg, 2, &sc);
	mirror_small_cdb_encode(&r.p, &sc, cdb, sizeof(cdb));
	fill(data, sizeof(data), 3);
	scsi_cmd(&r, 20, cdb, 12, true, 32768, NULL, 0);
	ck_assert_uint_eq(serve_r2ts(&r, 20, data, 4096, &r2ts, NULL, NULL), 0);
	ck_assert_uint_eq(r2ts, 4);
	/* command + 4 bursts + status */
	ck_assert_uint_eq(mirror_tgt_stats(r.t)->kind[MIRROR_RX_KIND_SMALL].interrupts_min, 6);
	ck_assert_mem_eq(r.data + 0x8000, data + 16384, 16384);
	rig_free(&r);
}
END_TEST

/* A rig logged in under neg with the array table pushed, and in cdb the
 * 12-byte small write (volume 0, LBA 0) of the one S/G element sg. */
static void rig_small_write(struct rig *r, enum mirror_neg_profile neg,
			    struct mirror_sg_element sg, uint8_t cdb[16])
{
	struct mirror_small_cdb sc;

	rig_init(r, neg);
	rig_start(r);
	login_ok(r);
	push_table(r);
	memset(cdb, 0, 16);
	ck_assert_int_eq(mirror_small_cdb_from_sg(&r->p, 0, 7, 0, &sg, 1, &sc), 0);
	mirror_small_cdb_encode(&r->p, &sc, cdb, 16);
}

/* The target sent nothing (what: the assertion's message). */
static void expect_silence(struct rig *r, const char *what)
{
	const uint8_t *bhs, *d;
	uint32_t n;

	ck_assert_msg(!next_pdu(r, &bhs, &d, &n), "%s", what);
}

START_TEST(modern_immediate_data)
{
	struct rig r;
	uint8_t cdb[16], data[4096];
	rig_small_write(&r, MIRROR_NEG_MODERN, (struct mirror_sg_element){ 0x4000, 4096 }, cdb);
	fill(data, sizeof(data), 5);
	scsi_cmd(&r, 30, cdb, 12, true, 4096, data, 4096);
	const uint8_t *b = expect_pdu(&r, 0x21, NULL, NULL);
	ck_assert_uint_eq(b[3], 0);
	ck_assert_mem_eq(r.data + 0x4000, data, 4096);
	/* immediate data costs no interrupt of its own */
	ck_assert_uint_eq(mirror_tgt_stats(r.t)->kind[MIRROR_RX_KIND_SMALL].interrupts_min, 2);
	rig_free(&r);
}
END_TEST

/* Delay-status injection: the response waits for the tick that finds it
 * due (the clock starts at the first tick after the command), and the
 * tick asks to be called again when the next held response is due (none
 * held: -1). */
START_TEST(delay_status_held_until_due)
{
	struct rig r;
	uint8_t cdb[16], data[4096];
	struct mirror_inject_rule rule = {
		.action = MIRROR_INJ_DELAY_STATUS, .opcode = 0xA0, .probability = 1.0, .delay_ms = 50
	};
	struct mirror_small_cdb sc;
	struct mirror_sg_element sg = { 0x4000, 4096 };

	rig_init(&r, MIRROR_NEG_MODERN);
	mirror_inject_init(&r.inj, 1);
	ck_assert_int_eq(mirror_inject_add(&r.inj, &rule), 0);
	r.cfg.inject = &r.inj;
	rig_start(&r);
	login_ok(&r);
	push_table(&r);
	ck_assert_int_eq(mirror_tgt_conn_tick(r.c, 500), -1); /* nothing held */
	memset(cdb, 0, sizeof(cdb));
	ck_assert_int_eq(mirror_small_cdb_from_sg(&r.p, 0, 7, 0, &sg, 1, &sc), 0);
	mirror_small_cdb_encode(&r.p, &sc, cdb, 16);
	fill(data, sizeof(data), 9);
	scsi_cmd(&r, 40, cdb, 12, true, 4096, data, 4096);
	expect_silence(&r, "a delayed status went out before any tick");
	ck_assert_int_eq(mirror_tgt_conn_tick(r.c, 1000), 50);
	expect_silence(&r, "a delayed status went out at once");
	ck_assert_int_eq(mirror_tgt_conn_tick(r.c, 1049), 1);
	expect_silence(&r, "a delayed status went out 1 ms early");
	ck_assert_int_eq(mirror_tgt_conn_tick(r.c, 1050), -1);
	const uint8_t *b = expect_pdu(&r, 0x21, NULL, NULL);
	ck_assert_uint_eq(b[3], 0);
	ck_assert_uint_eq(rd32(b + 16), 40); /* its ITT */
	ck_assert_mem_eq(r.data + 0x4000, data, 4096);
	ck_assert_int_eq(mirror_tgt_conn_tick(r.c, 2000), -1);
	rig_free(&r);
}
END_TEST

static void expect_check(struct rig *r, uint8_t key, uint8_t asc, uint8_t ascq)
{
	const uint8_t *d;
	uint32_t n;
	const uint8_t *b = expect_pdu(r, 0x21, &d, &n);
	ck_assert_uint_eq(b[3], MIRROR_STATUS_CHECK_CONDITION);
	ck_assert_uint_ge(n, 2 + 14);
	ck_assert_uint_eq(d[2 + 2] & 0x0f, key);
	ck_assert_uint_eq(d[2 + 12], asc);
	ck_assert_uint_eq(d[2 + 13], ascq);
}

START_TEST(data_out_errors)
{
	struct rig r;
	uint8_t cdb[16], data[8192] = { 0 };
	rig_small_write(&r, MIRROR_NEG_PATENT, (struct mirror_sg_element){ 0x1000, 8192 }, cdb);

	/* unsolicited data under InitialR2T=Yes: 0Ch/0Ch */
	scsi_cmd(&r, 40, cdb, 12, true, 8192, NULL, 0);
	expect_pdu(&r, 0x31, NULL, NULL);
	data_out(&r, 40, 0xffffffff, 0, data, 4096, true);
	expect_check(&r, MIRROR_SK_ABORTED_COMMAND, 0x0C, 0x0C);
	/* a solicited Data-Out at the wrong offset: 0Ch/0Dh */
	scsi_cmd(&r, 41, cdb, 12, true, 8192, NULL, 0);
	const uint8_t *b = expect_pdu(&r, 0x31, NULL, NULL);
	data_out(&r, 41, rd32(b + 20), 512, data, 4096, true);
	expect_check(&r, MIRROR_SK_ABORTED_COMMAND, 0x0C, 0x0D);
	/* immediate data that the negotiation does not allow */
	scsi_cmd(&r, 42, cdb, 12, true, 8192, data, 512);
	expect_check(&r, MIRROR_SK_ABORTED_COMMAND, 0x0C, 0x0C);
	/* each counted under its sense key, and nowhere else */
	const struct mirror_tgt_stats *st = mirror_tgt_stats(r.t);
	for (unsigned k = 0; k < 16; k++)
		ck_assert_uint_eq(st->sense_count[k], k == MIRROR_SK_ABORTED_COMMAND ? 3 : 0);
	/* none of it reached the NVRAM as valid data */
	ck_assert_int_eq(mirror_nvram_count_valid(&r.nv, 0x1000, 8192), 0);
	rig_free(&r);
}
END_TEST

/* RFC 7143 11.4.7.2: every Data-Out must start where the previous one
 * ended.  The target must reject the first PDU at a wrong offset even
 * when it is not the last of its sequence (F=0); a check made only at
 * the final PDU (have == R2T end) misses a PDU sent twice or one that
 * skips ahead, since the sequence can still end at the right byte. */
START_TEST(data_out_wrong_offset_not_final)
{
	struct rig r;
	uint8_t cdb[16], data[8192] = { 0 };
	const uint8_t *b;
	rig_small_write(&r, MIRROR_NEG_PATENT, (struct mirror_sg_element){ 0x1000, 8192 }, cdb);

	/* the same 2 KiB twice: the second, at offset 0 where 2048 is due */
	scsi_cmd(&r, 60, cdb, 12, true, 8192, NULL, 0);
	b = expect_pdu(&r, 0x31, NULL, NULL);
	ck_assert_uint_eq(rd32(b + 44), 8192); /* one R2T for all of it */
	uint32_t ttt = rd32(b + 20);
	data_out(&r, 60, ttt, 0, data, 2048, false);
	expect_silence(&r, "a right Data-Out was answered");
	data_out(&r, 60, ttt, 0, data, 2048, false);
	expect_check(&r, MIRROR_SK_ABORTED_COMMAND, 0x0C, 0x0D);
	/* the rest of the sequence after the answer is late data: dropped,
	 * nothing more is sent */
	data_out(&r, 60, ttt, 2048, data + 2048, 6144, true);
	expect_silence(&r, "data after the CHECK CONDITION was answered");

	/* a first PDU that skips ahead (4096 where 0 is due), then the gap
	 * that would end the sequence at the R2T's end */
	scsi_cmd(&r, 61, cdb, 12, true, 8192, NULL, 0);
	b = expect_pdu(&r, 0x31, NULL, NULL);
	ttt = rd32(b + 20);
	data_out(&r, 61, ttt, 4096, data + 4096, 4096, false);
	expect_check(&r, MIRROR_SK_ABORTED_COMMAND, 0x0C, 0x0D);
	data_out(&r, 61, ttt, 0, data, 4096, true);
	expect_silence(&r, "data after the CHECK CONDITION was answered");

	ck_assert_int_eq(mirror_nvram_count_valid(&r.nv, 0x1000, 8192), 0);
	rig_free(&r);
}
END_TEST

/* What the socket loop coalesces on: the Data-Out owed for outstanding
 * R2Ts, counted up by each R2T and down by its data, its CHECK CONDITION
 * or its abort, never left behind by a task that ended. */
static void expect_owed(struct rig *r, unsigned tasks, size_t bytes)
{
	unsigned n = 99;
	size_t b = mirror_tgt_conn_owed_data(r->c, &n);

	ck_assert_uint_eq(n, tasks);
	ck_assert_uint_eq(b, bytes);
}

START_TEST(owed_data_follows_r2ts)
{
	struct rig r;
	uint8_t cdb[16], data[8192] = { 0 }, tmf[48] = { 0 };
	const uint8_t *b;
	rig_small_write(&r, MIRROR_NEG_PATENT, (struct mirror_sg_element){ 0x1000, 8192 }, cdb);

	expect_owed(&r, 0, 0);
	scsi_cmd(&r, 70, cdb, 12, true, 8192, NULL, 0);
	b = expect_pdu(&r, 0x31, NULL, NULL);
	uint32_t ttt70 = rd32(b + 20);
	expect_owed(&r, 1, 48 + 8192);
	scsi_cmd(&r, 71, cdb, 12, true, 8192, NULL, 0);
	b = expect_pdu(&r, 0x31, NULL, NULL);
	uint32_t ttt71 = rd32(b + 20);
	scsi_cmd(&r, 72, cdb, 12, true, 8192, NULL, 0);
	expect_pdu(&r, 0x31, NULL, NULL);
	expect_owed(&r, 3, 3 * (48 + 8192));
	/* part of 70's data: still owed, less of it */
	data_out(&r, 70, ttt70, 0, data, 2048, false);
	expect_owed(&r, 3, 3 * (48 + 8192) - 2048);
	/* the rest: answered, no longer owed */
	data_out(&r, 70, ttt70, 2048, data + 2048, 6144, true);
	ck_assert_uint_eq(expect_pdu(&r, 0x21, NULL, NULL)[3], 0);
	expect_owed(&r, 2, 2 * (48 + 8192));
	/* 71 at a wrong offset: its CHECK CONDITION ends what it owed */
	data_out(&r, 71, ttt71, 512, data, 4096, true);
	expect_check(&r, MIRROR_SK_ABORTED_COMMAND, 0x0C, 0x0D);
	expect_owed(&r, 1, 48 + 8192);
	/* 72 aborted (ABORT TASK) */
	tmf[0] = 0x42;
	tmf[1] = 0x80 | 1;
	be32(tmf + 16, 73);
	be32(tmf + 20, 72);
	be32(tmf + 24, r.cmdsn);
	send_pdu(&r, tmf, NULL, 0);
	ck_assert_uint_eq(expect_pdu(&r, 0x22, NULL, NULL)[2], 0);
	expect_owed(&r, 0, 0);
	/* and a new R2T counts again from there */
	scsi_cmd(&r, 74, cdb, 12, true, 8192, NULL, 0);
	expect_pdu(&r, 0x31, NULL, NULL);
	expect_owed(&r, 1, 48 + 8192);
	rig_free(&r);
}
END_TEST

START_TEST(abort_task_leaves_ranges_invalid)
{
	struct rig r;
	rig_init(&r, MIRROR_NEG_PATENT);
	rig_start(&r);
	login_ok(&r);
	uint8_t data[1024 + 8192];
	struct mirror_metadata m;
	/* an earlier valid copy of other blocks */
	mirror_nvram_mark_valid(&r.nv, 0x40000, 4096);
	mirror_metadata_init(&m);
	m.blocks = 16;
	m.sg_count = 1;
	m.sg[0] = (struct mirror_sg_element){ 0x30000, 8192 };
	mirror_nvram_mark_valid(&r.nv, 0x30000, 8192); /* stale data */
	mirror_metadata_encode(&m, data, 1024);
	uint8_t ncdb[16] = { 0x3C };
	scsi_cmd(&r, 50, ncdb, 10, true, 1024 + 8192, NULL, 0);
	const uint8_t *b = expect_pdu(&r, 0x31, NULL, NULL);
	data_out(&r, 50, rd32(b + 20), 0, data, 1024, true);
	b = expect_pdu(&r, 0x31, NULL, NULL);
	data_out(&r, 50, rd32(b + 20), 1024, data + 1024, 4096, false); /* half */
	uint8_t tmf[48] = { 0 };
	tmf[0] = 0x42;
	tmf[1] = 0x80 | 1; /* ABORT TASK */
	be32(tmf + 16, 51);
	be32(tmf + 20, 50);
	be32(tmf + 24, r.cmdsn);
	send_pdu(&r, tmf, NULL, 0);
	b = expect_pdu(&r, 0x22, NULL, NULL);
	ck_assert_uint_eq(b[2], 0);
	ck_assert_int_eq(mirror_nvram_count_valid(&r.nv, 0x30000, 8192), 0);
	ck_assert_int_eq(mirror_nvram_count_valid(&r.nv, 0x40000, 4096), 8);
	/* aborting it again: the task does not exist */
	be32(tmf + 16, 52);
	send_pdu(&r, tmf, NULL, 0);
	b = expect_pdu(&r, 0x22, NULL, NULL);
	ck_assert_uint_eq(b[2], 1);
	rig_free(&r);
}
END_TEST

START_TEST(malformed_pdus)
{
	struct rig r;
	rig_init(&r, MIRROR_NEG_PATENT);
	r.cfg.max_recv_data_segment_length = 8192;
	rig_start(&r);
	login_ok(&r);
	uint8_t bhs[48] = { 0 };
	/* an opcode no initiator may send: Reject, command not supported */
	bhs[0] = 0x1c;
	ck_assert_int_eq(send_pdu(&r, bhs, NULL, 0), 0);
	const uint8_t *b = expect_pdu(&r, 0x3f, NULL, NULL);
	ck_assert_uint_eq(b[2], 0x05);
	/* a data segment over our MaxRecvDataSegmentLength: Reject, skipped */
	memset(bhs, 0, sizeof(bhs));
	bhs[0] = 0x00;
	bhs[1] = 0x80;
	be32(bhs + 16, 77);
	static uint8_t big[20000];
	ck_assert_int_eq(send_pdu(&r, bhs, big, sizeof(big)), 0);
	b = expect_pdu(&r, 0x3f, NULL, NULL);
	ck_assert_uint_eq(b[2], 0x04);
	/* framing survived: a NOP-Out is answered with its ping data */
	memset(bhs, 0, sizeof(bhs));
	bhs[0] = 0x40;
	bhs[1] = 0x80;
	be32(bhs + 16, 78);
	be32(bhs + 20, 0xffffffff);
	ck_assert_int_eq(send_pdu(&r, bhs, "ping", 4), 0);
	const uint8_t *d;
	uint32_t n;
	b = expect_pdu(&r, 0x20, &d, &n);
	ck_assert_uint_eq(rd32(b + 16), 78);
	ck_assert_uint_eq(n, 4);
	ck_assert_mem_eq(d, "ping", 4);
	ck_assert_uint_eq(mirror_tgt_stats(r.t)->rejects, 2);
	rig_free(&r);
}
END_TEST

START_TEST(header_digest_checked)
{
	struct rig r;
	rig_init(&r, MIRROR_NEG_PATENT);
	rig_start(&r);
	static const char keys[] = "InitiatorName=iqn.d\0TargetName=iqn.2026-11.org.mirrortest:emu\0"
				   "HeaderDigest=CRC32C\0DataDigest=None\0";
	ck_assert_int_eq(login(&r, 1, 3, true, keys, sizeof(keys) - 1), 0);
	const uint8_t *d;
	uint32_t n;
	char v[32];
	const uint8_t *lb = expect_pdu(&r, 0x23, &d, &n);
	ck_assert_uint_eq(lb[36] << 8 | lb[37], 0);
	ck_assert_msg(key_value(d, n, "HeaderDigest", v, sizeof(v)) != NULL, "%.*s", (int)n, d);
	ck_assert_str_eq(v, "CRC32C");
	r.hd = true;
	uint8_t bhs[48] = { 0 };
	bhs[0] = 0x40;
	bhs[1] = 0x80;
	be32(bhs + 16, 1);
	be32(bhs + 20, 0xffffffff);
	ck_assert_int_eq(send_pdu(&r, bhs, NULL, 0), 0);
	expect_pdu(&r, 0x20, NULL, NULL);
	/* a corrupted header digest ends the connection */
	uint8_t raw[52];
	memcpy(raw, bhs, 48);
	memset(raw + 48, 0xAA, 4);
	ck_assert_int_lt(mirror_tgt_conn_input(r.c, raw, sizeof(raw)), 0);
	ck_assert_uint_eq(mirror_tgt_stats(r.t)->digest_errors, 1);
	rig_free(&r);
}
END_TEST

/* RFC 7143 4.2.2.1: a non-immediate command with a CmdSN outside
 * ExpCmdSN..MaxCmdSN (above it, or below it: a duplicate) is silently
 * ignored; the next one in the window is answered, and every accepted
 * non-immediate request (a NOP-Out too) advances ExpCmdSN. */
START_TEST(cmdsn_window)
{
	struct rig r;
	rig_init(&r, MIRROR_NEG_PATENT);
	r.cmdsn = 1000;
	rig_start(&r);
	login_ok(&r);
	const uint8_t tur[6] = { 0 }, *b, *bhs, *d;
	uint32_t n;
	/* answered, with the window it leaves open */
	scsi_cmd(&r, 1, tur, 6, false, 0, NULL, 0);
	b = expect_pdu(&r, 0x21, NULL, NULL);
	ck_assert_uint_eq(b[3], 0);
	uint32_t exp = rd32(b + 28), max = rd32(b + 32);
	ck_assert_uint_eq(exp, 1001);
	ck_assert_uint_ge(max, exp);
	/* above MaxCmdSN, then below ExpCmdSN: no answer at all */
	r.cmdsn = max + 1;
	scsi_cmd(&r, 2, tur, 6, false, 0, NULL, 0);
	r.cmdsn = exp - 1;
	scsi_cmd(&r, 3, tur, 6, false, 0, NULL, 0);
	ck_assert(!next_pdu(&r, &bhs, &d, &n));
	ck_assert(!mirror_tgt_conn_wants_close(r.c));
	/* a write dropped so leaves no task behind: its Data-Out is ignored */
	uint8_t cdb[16] = { 0xA0 }, blk[512] = { 0 };
	r.cmdsn = max + 5;
	scsi_cmd(&r, 4, cdb, 12, true, 512, NULL, 0);
	data_out(&r, 4, 0xffffffff, 0, blk, 512, true);
	ck_assert(!next_pdu(&r, &bhs, &d, &n));
	/* an immediate command is delivered whatever its CmdSN */
	uint8_t imm[48] = { 0 };
	imm[0] = 0x41;
	imm[1] = 0x80;
	be32(imm + 16, 5);
	be32(imm + 24, 12345);
	send_pdu(&r, imm, NULL, 0);
	b = expect_pdu(&r, 0x21, NULL, NULL);
	ck_assert_uint_eq(rd32(b + 16), 5);
	ck_assert_uint_eq(rd32(b + 28), exp); /* it took no CmdSN */
	/* back in the window: answered again */
	r.cmdsn = exp;
	scsi_cmd(&r, 6, tur, 6, false, 0, NULL, 0);
	b = expect_pdu(&r, 0x21, NULL, NULL);
	ck_assert_uint_eq(rd32(b + 16), 6);
	ck_assert_uint_eq(rd32(b + 28), exp + 1);
	/* a non-immediate NOP-Out takes a CmdSN too */
	uint8_t nop[48] = { 0 };
	nop[0] = 0x00;
	nop[1] = 0x80;
	be32(nop + 16, 7);
	be32(nop + 20, 0xffffffff);
	be32(nop + 24, r.cmdsn++);
	send_pdu(&r, nop, NULL, 0);
	b = expect_pdu(&r, 0x20, NULL, NULL);
	ck_assert_uint_eq(rd32(b + 28), exp + 2);
	/* ... and a repeat of it is a duplicate: ignored */
	send_pdu(&r, nop, NULL, 0);
	ck_assert(!next_pdu(&r, &bhs, &d, &n));
	ck_assert_uint_eq(mirror_tgt_stats(r.t)->rejects, 0);
	rig_free(&r);
}
END_TEST

/* Residuals of a data-in command (RFC 7143 11.4.5.1): U when the answer
 * is shorter than the expected length, O with the count of bytes cut off
 * when the expected length was too short, in the Data-In carrying the
 * status or in the SCSI Response when nothing was sent. */
START_TEST(data_in_residuals)
{
	struct rig r;
	rig_init(&r, MIRROR_NEG_PATENT);
	rig_start(&r);
	login_ok(&r);
	const uint8_t inq[6] = { 0x12, 0, 0, 0, 255, 0 }, *b, *d;
	uint32_t n;
	/* 36 bytes of 255 expected: underflow 219 */
	scsi_cmd(&r, 1, inq, 6, false, 255, NULL, 0);
	b = expect_pdu(&r, 0x25, &d, &n);
	ck_assert_uint_eq(n, 36);
	ck_assert_uint_eq(b[1], 0x80 | 0x02 | 0x01);
	ck_assert_uint_eq(rd32(b + 44), 219);
	/* exactly 36: no residual */
	const uint8_t inq36[6] = { 0x12, 0, 0, 0, 36, 0 };
	scsi_cmd(&r, 2, inq36, 6, false, 36, NULL, 0);
	b = expect_pdu(&r, 0x25, &d, &n);
	ck_assert_uint_eq(b[1], 0x80 | 0x01);
	ck_assert_uint_eq(rd32(b + 44), 0);
	/* 10 expected: 10 sent, overflow 26 */
	scsi_cmd(&r, 3, inq, 6, false, 10, NULL, 0);
	b = expect_pdu(&r, 0x25, &d, &n);
	ck_assert_uint_eq(n, 10);
	ck_assert_uint_eq(b[1], 0x80 | 0x04 | 0x01);
	ck_assert_uint_eq(rd32(b + 44), 26);
	/* none expected: a SCSI Response, overflow 36 */
	scsi_cmd(&r, 4, inq, 6, false, 0, NULL, 0);
	b = expect_pdu(&r, 0x21, NULL, NULL);
	ck_assert_uint_eq(b[3], 0);
	ck_assert_uint_eq(b[1], 0x80 | 0x04);
	ck_assert_uint_eq(rd32(b + 44), 36);
	/* a CHECK CONDITION has no residual */
	const uint8_t bad[6] = { 0x12, 0, 0x80, 0, 255, 0 };
	scsi_cmd(&r, 5, bad, 6, false, 10, NULL, 0);
	b = expect_pdu(&r, 0x21, NULL, NULL);
	ck_assert_uint_eq(b[3], MIRROR_STATUS_CHECK_CONDITION);
	ck_assert_uint_eq(b[1] & 0x06, 0);
	rig_free(&r);
}
END_TEST

START_TEST(logout)
{
	struct rig r;
	rig_init(&r, MIRROR_NEG_PATENT);
	rig_start(&r);
	login_ok(&r);
	uint8_t bhs[48] = { 0 };
	bhs[0] = 0x46;
	bhs[1] = 0x80;
	be32(bhs + 16, 99);
	ck_assert_int_lt(send_pdu(&r, bhs, NULL, 0), 0);
	const uint8_t *b = expect_pdu(&r, 0x26, NULL, NULL);
	ck_assert_uint_eq(b[2], 0);
	ck_assert_uint_eq(rd32(b + 16), 99);
	rig_free(&r);
}
END_TEST

/* ---- the receiver LU's hooks (mirror_tgt_new_receiver_hooked) ---- */

enum hook_answer { HOOK_KEEP = 0, HOOK_CHECK, HOOK_HOLD };

struct hook_log {
	unsigned begins, responds, aborts, ends, nexus_ends;
	unsigned datas;
	uint32_t data_off[8], data_len[8];
	uint8_t seen_status[8]; /* the receiver's status as respond saw it */
	bool bad_task;          /* a task not zeroed at begin, or misaligned, or another's */
	enum hook_answer next;  /* what respond does with the next answer */
	struct mirror_tgt_cmd *held_cmd;
	struct mirror_tgt_action held_act;
};

#define HOOK_MAGIC 0x5eedu

struct hook_task {
	uint32_t magic;
	unsigned begin_no;
};

static void hook_same_task(struct hook_log *h, const struct hook_task *k)
{
	if (k->magic != HOOK_MAGIC)
		h->bad_task = true;
}

static void hook_begin(void *arg, struct mirror_tgt_cmd *cmd, void *task)
{
	struct hook_log *h = arg;
	struct hook_task *k = task;

	(void)cmd;
	if (k->magic || (uintptr_t)task % _Alignof(max_align_t))
		h->bad_task = true;
	k->magic = HOOK_MAGIC;
	k->begin_no = ++h->begins;
}

static void hook_data(void *arg, struct mirror_tgt_cmd *cmd, void *task, uint32_t offset,
		      const uint8_t *buf, uint32_t len)
{
	struct hook_log *h = arg;

	(void)cmd;
	(void)buf;
	hook_same_task(h, task);
	if (h->datas < 8) {
		h->data_off[h->datas] = offset;
		h->data_len[h->datas] = len;
	}
	h->datas++;
}

static void hook_respond(void *arg, struct mirror_tgt_cmd *cmd, void *task,
			 struct mirror_tgt_action *act)
{
	struct hook_log *h = arg;

	hook_same_task(h, task);
	ck_assert_int_eq(act->kind, MIRROR_TGT_RESPOND);
	if (h->responds < 8)
		h->seen_status[h->responds] = act->status;
	h->responds++;
	if (h->next == HOOK_CHECK) {
		mirror_tgt_action_check(act, MIRROR_SK_HARDWARE_ERROR, 0x44, 0x00);
	} else if (h->next == HOOK_HOLD) {
		h->held_cmd = cmd;
		h->held_act = *act;
		memset(act, 0, sizeof(*act));
		act->kind = MIRROR_TGT_PENDING;
	}
	h->next = HOOK_KEEP;
}

static void hook_abort(void *arg, struct mirror_tgt_cmd *cmd, void *task)
{
	struct hook_log *h = arg;

	(void)cmd;
	hook_same_task(h, task);
	h->aborts++;
}

static void hook_end(void *arg, struct mirror_tgt_cmd *cmd, void *task)
{
	struct hook_log *h = arg;

	(void)cmd;
	hook_same_task(h, task);
	h->ends++;
}

static void hook_nexus_end(void *arg, uint64_t nexus)
{
	struct hook_log *h = arg;

	ck_assert_uint_ne(nexus, 0);
	h->nexus_ends++;
}

/* A small write of 8 KiB at addr under InitialR2T=Yes: the command, its
 * R2T, the data. */
static void small_write_8k(struct rig *r, uint32_t itt, uint32_t addr, const uint8_t *data)
{
	struct mirror_small_cdb sc;
	const struct mirror_sg_element sg = { addr, 8192 };
	uint8_t cdb[16] = { 0 };

	ck_assert_int_eq(mirror_small_cdb_from_sg(&r->p, 0, 7, 0, &sg, 1, &sc), 0);
	mirror_small_cdb_encode(&r->p, &sc, cdb, sizeof(cdb));
	scsi_cmd(r, itt, cdb, 12, true, 8192, NULL, 0);
	const uint8_t *b = expect_pdu(r, 0x31, NULL, NULL);
	data_out(r, itt, rd32(b + 20), 0, data, 8192, true);
}

START_TEST(receiver_hooks)
{
	struct hook_log h = { 0 };
	const struct mirror_rx_lu_hooks hooks = {
		.arg = &h, .task_size = sizeof(struct hook_task), .begin = hook_begin,
		.data = hook_data, .respond = hook_respond, .abort = hook_abort, .end = hook_end,
		.nexus_end = hook_nexus_end,
	};
	struct rig r;
	uint8_t data[1024 + 8192];
	const uint8_t *b;
	rig_init(&r, MIRROR_NEG_PATENT);
	r.hooks = &hooks;
	rig_start(&r);
	login_ok(&r);
	push_table(&r);
	ck_assert_uint_eq(h.begins, 1);
	ck_assert_uint_eq(h.responds, 1);
	ck_assert_uint_eq(h.ends, 1);
	fill(data, sizeof(data), 3);

	/* kept: the receiver's GOOD goes out, it stored the data, and the
	 * hook saw the whole range at offset 0 */
	unsigned datas = h.datas;
	small_write_8k(&r, 70, 0x1000, data);
	b = expect_pdu(&r, 0x21, NULL, NULL);
	ck_assert_uint_eq(b[3], 0);
	ck_assert_int_eq(mirror_nvram_count_valid(&r.nv, 0x1000, 8192), 16);
	ck_assert_uint_eq(h.begins, 2);
	ck_assert_uint_eq(h.datas, datas + 1);
	ck_assert_uint_eq(h.data_off[datas], 0);
	ck_assert_uint_eq(h.data_len[datas], 8192);
	ck_assert_uint_eq(h.seen_status[1], 0);
	ck_assert_uint_eq(h.ends, 2);

	/* replaced: the receiver said GOOD, the initiator gets the hook's
	 * CHECK CONDITION */
	h.next = HOOK_CHECK;
	small_write_8k(&r, 71, 0x3000, data);
	expect_check(&r, MIRROR_SK_HARDWARE_ERROR, 0x44, 0x00);
	ck_assert_uint_eq(h.seen_status[2], 0);
	ck_assert_uint_eq(h.ends, 3);

	/* held: nothing goes out, the command stays open until the hook
	 * completes it with the answer it kept */
	h.next = HOOK_HOLD;
	small_write_8k(&r, 72, 0x5000, data);
	expect_silence(&r, "a held answer was sent");
	ck_assert_ptr_nonnull(h.held_cmd);
	ck_assert_uint_eq(h.ends, 3);
	mirror_tgt_cmd_complete(h.held_cmd, &h.held_act);
	b = expect_pdu(&r, 0x21, NULL, NULL);
	ck_assert_uint_eq(b[3], 0);
	ck_assert_uint_eq(rd32(b + 16), 72);
	ck_assert_uint_eq(h.ends, 4);

	/* large: the hook sees the metadata alone at 0, then the data at 1024 */
	struct mirror_metadata m;
	mirror_metadata_init(&m);
	m.sequence = 1;
	m.blocks = 16;
	m.sg_count = 1;
	m.sg[0] = (struct mirror_sg_element){ 0x10000, 8192 };
	mirror_metadata_encode(&m, data, 1024);
	uint8_t ncdb[16] = { 0x3C };
	unsigned r2ts;
	datas = h.datas;
	scsi_cmd(&r, 73, ncdb, 10, true, 1024 + 8192, NULL, 0);
	ck_assert_uint_eq(serve_r2ts(&r, 73, data, 65536, &r2ts, NULL, NULL), 0);
	ck_assert_uint_eq(h.datas, datas + 2);
	ck_assert_uint_eq(h.data_off[datas], 0);
	ck_assert_uint_eq(h.data_len[datas], 1024);
	ck_assert_uint_eq(h.data_off[datas + 1], 1024);
	ck_assert_uint_eq(h.data_len[datas + 1], 8192);
	ck_assert_uint_eq(h.begins, 5);
	ck_assert_uint_eq(h.aborts, 0);
	ck_assert_msg(!h.bad_task, "a hook task was not zeroed, aligned or its command's own");

	/* the connection ends: the nexus with it */
	mirror_tgt_conn_free(r.c);
	r.c = NULL;
	ck_assert_uint_eq(h.nexus_ends, 1);
	rig_free(&r);
}
END_TEST

/* A command that dies before its answer: abort, then end, both hooked. */
START_TEST(receiver_hooks_abort)
{
	struct hook_log h = { 0 };
	const struct mirror_rx_lu_hooks hooks = {
		.arg = &h, .task_size = sizeof(struct hook_task), .begin = hook_begin,
		.respond = hook_respond, .abort = hook_abort, .end = hook_end,
	};
	struct rig r;
	uint8_t data[8192] = { 0 };
	rig_init(&r, MIRROR_NEG_PATENT);
	r.hooks = &hooks;
	rig_start(&r);
	login_ok(&r);
	push_table(&r);
	h.next = HOOK_HOLD;
	small_write_8k(&r, 80, 0x1000, data);
	expect_silence(&r, "a held answer was sent");
	ck_assert_uint_eq(h.aborts, 0);
	/* the connection drops while the answer is held */
	mirror_tgt_conn_free(r.c);
	r.c = NULL;
	ck_assert_uint_eq(h.aborts, 1);
	ck_assert_uint_eq(h.ends, 2);
	ck_assert_msg(!h.bad_task, "a hook task was not zeroed, aligned or its command's own");
	rig_free(&r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("target");
	TCase *t = tcase_create("login");
	tcase_add_test(t, login_plain_and_negotiation);
	tcase_add_test(t, login_failures);
	tcase_add_test(t, chap_right_wrong_mutual);
	tcase_add_test(t, chap_required_but_skipped);
	tcase_add_test(t, discovery_send_targets);
	tcase_add_test(t, login_timeout);
	tcase_add_test(t, login_text_bounds);
	suite_add_tcase(s, t);
	t = tcase_create("io");
	tcase_add_test(t, small_and_large_interrupts_patent);
	tcase_add_test(t, extra_bursts_add_interrupts);
	tcase_add_test(t, modern_immediate_data);
	tcase_add_test(t, delay_status_held_until_due);
	tcase_add_test(t, data_out_errors);
	tcase_add_test(t, data_out_wrong_offset_not_final);
	tcase_add_test(t, abort_task_leaves_ranges_invalid);
	tcase_add_test(t, owed_data_follows_r2ts);
	tcase_add_test(t, malformed_pdus);
	tcase_add_test(t, header_digest_checked);
	tcase_add_test(t, cmdsn_window);
	tcase_add_test(t, data_in_residuals);
	tcase_add_test(t, logout);
	tcase_add_test(t, receiver_hooks);
	tcase_add_test(t, receiver_hooks_abort);
	suite_add_tcase(s, t);
	return test_run_suite(s);
}
