/* Interrupt and byte accounting (wire-profile.md, "Interrupt accounting
 * model" and "Byte accounting").  The expected numbers of the model are
 * worked out by hand from RFC 7143 as lib/wire/account.c applies it: every PDU
 * has a 48-byte BHS (+4 with HeaderDigest), a data segment carries +4
 * with DataDigest, a burst is split into PDUs of at most
 * MaxRecvDataSegmentLength, and the CDB (inside the command's BHS) is
 * counted once, as cdb, not again as transport. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "testutil.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define BHS 48u
#define KiB 1024u

static struct mirror_event ev(enum mirror_event_kind kind, uint32_t hdr, uint32_t payload,
			      uint32_t tcpip)
{
	struct mirror_event e = { kind, hdr, payload, tcpip };
	return e;
}

#define CMD(h, p) ev(MIRROR_EV_COMMAND, (h), (p), 0)
#define BURST(h, p) ev(MIRROR_EV_DATA_BURST, (h), (p), 0)
#define R2T(h) ev(MIRROR_EV_R2T, (h), 0, 0)
#define STATUS(h) ev(MIRROR_EV_STATUS, (h), 0, 0)

static void assert_sum(const struct mirror_cost *c)
{
	ck_assert_uint_eq(c->interrupts, c->int_command + c->int_data + c->int_status);
	ck_assert_uint_eq(c->total, c->cdb + c->metadata + c->data + c->transport + c->tcpip);
}

/* ---- mirror_account over recorded events ---- */

START_TEST(test_small_minimum)
{
	const struct mirror_event e[] = { CMD(BHS, 0), R2T(BHS), BURST(BHS, 4096), STATUS(BHS) };
	struct mirror_cost c;

	ck_assert_int_eq(mirror_account(MIRROR_PATH_SMALL, 12, e, ARRAY_LEN(e), &c), 0);
	ck_assert_uint_eq(c.interrupts, 3);
	ck_assert_uint_eq(c.int_command, 1);
	ck_assert_uint_eq(c.int_data, 1);
	ck_assert_uint_eq(c.int_status, 1);
	ck_assert_uint_eq(c.cdb, 12);
	ck_assert_uint_eq(c.metadata, 0);
	ck_assert_uint_eq(c.data, 4096);
	ck_assert_uint_eq(c.transport, 4 * BHS - 12);
	ck_assert_uint_eq(c.tcpip, 0);
	ck_assert_uint_eq(c.total, 12 + 4096 + 4 * BHS - 12);
	assert_sum(&c);
}
END_TEST

START_TEST(test_large_minimum)
{
	const struct mirror_event e[] = { CMD(BHS, 0),	 R2T(BHS), BURST(BHS, 1024),
					  R2T(BHS),	 BURST(BHS, 4096), STATUS(BHS) };
	struct mirror_cost c;

	ck_assert_int_eq(mirror_account(MIRROR_PATH_LARGE, 10, e, ARRAY_LEN(e), &c), 0);
	ck_assert_uint_eq(c.interrupts, 4);
	ck_assert_uint_eq(c.int_data, 2);
	ck_assert_uint_eq(c.cdb, 10);
	ck_assert_uint_eq(c.metadata, 1024);
	ck_assert_uint_eq(c.data, 4096);
	ck_assert_uint_eq(c.transport, 6 * BHS - 10);
	ck_assert_uint_eq(c.total, 10 + 1024 + 4096 + 6 * BHS - 10);
	assert_sum(&c);
}
END_TEST

/* Every extra burst ("disconnect") adds one interrupt on either path. */
START_TEST(test_extra_bursts)
{
	enum mirror_path path = _i % 2 ? MIRROR_PATH_LARGE : MIRROR_PATH_SMALL;
	unsigned bursts = 1 + (unsigned)_i / 2 + (path == MIRROR_PATH_LARGE);
	struct mirror_event e[16];
	struct mirror_cost c;
	size_t n = 0;

	e[n++] = CMD(BHS, 0);
	for (unsigned k = 0; k < bursts; k++)
		e[n++] = BURST(BHS, 1024);
	e[n++] = STATUS(BHS);
	ck_assert_int_eq(mirror_account(path, 10, e, n, &c), 0);
	ck_assert_uint_eq(c.interrupts, 2 + bursts);
	ck_assert_uint_eq(c.int_data, bursts);
	ck_assert_uint_eq(c.metadata + c.data, bursts * 1024u);
}
END_TEST

START_TEST(test_immediate_data)
{
	const struct mirror_event all[] = { CMD(BHS, 4096), STATUS(BHS) };
	const struct mirror_event part[] = { CMD(BHS, 2048), BURST(BHS, 2048), STATUS(BHS) };
	struct mirror_cost c;

	/* Data inside the command costs no interrupt of its own. */
	ck_assert_int_eq(mirror_account(MIRROR_PATH_SMALL, 12, all, ARRAY_LEN(all), &c), 0);
	ck_assert_uint_eq(c.interrupts, 2);
	ck_assert_uint_eq(c.int_data, 0);
	ck_assert_uint_eq(c.data, 4096);
	ck_assert_int_eq(mirror_account(MIRROR_PATH_SMALL, 12, part, ARRAY_LEN(part), &c), 0);
	ck_assert_uint_eq(c.interrupts, 3);
	ck_assert_uint_eq(c.data, 4096);
	/* On the large path the metadata may be immediate too. */
	const struct mirror_event md[] = { CMD(BHS, 1024), BURST(BHS, 512), STATUS(BHS) };
	ck_assert_int_eq(mirror_account(MIRROR_PATH_LARGE, 10, md, ARRAY_LEN(md), &c), 0);
	ck_assert_uint_eq(c.interrupts, 3);
	ck_assert_uint_eq(c.metadata, 1024);
	ck_assert_uint_eq(c.data, 512);
}
END_TEST

/* R2Ts cost bytes (header and any payload), never interrupts. */
START_TEST(test_r2t_bytes_only)
{
	const struct mirror_event none[] = { CMD(BHS, 0), BURST(BHS, 4096), STATUS(BHS) };
	const struct mirror_event three[] = { CMD(BHS, 0), R2T(BHS), R2T(BHS),
					      ev(MIRROR_EV_R2T, BHS, 20, 0), BURST(BHS, 4096),
					      STATUS(BHS) };
	struct mirror_cost a, b;

	ck_assert_int_eq(mirror_account(MIRROR_PATH_SMALL, 12, none, ARRAY_LEN(none), &a), 0);
	ck_assert_int_eq(mirror_account(MIRROR_PATH_SMALL, 12, three, ARRAY_LEN(three), &b), 0);
	ck_assert_uint_eq(b.interrupts, a.interrupts);
	ck_assert_uint_eq(b.data, a.data);
	ck_assert_uint_eq(b.transport, a.transport + 3 * BHS + 20);
	ck_assert_uint_eq(b.total, a.total + 3 * BHS + 20);
}
END_TEST

/* Every category, with capture bytes and sense data in the status. */
START_TEST(test_categories)
{
	const struct mirror_event e[] = {
		ev(MIRROR_EV_COMMAND, 52, 0, 40),
		ev(MIRROR_EV_R2T, 52, 0, 40),
		ev(MIRROR_EV_DATA_BURST, 56, 1024, 60),
		ev(MIRROR_EV_R2T, 52, 0, 40),
		ev(MIRROR_EV_DATA_BURST, 112, 8192, 120),
		ev(MIRROR_EV_STATUS, 52, 18, 40),
	};
	struct mirror_cost c;

	ck_assert_int_eq(mirror_account(MIRROR_PATH_LARGE, 10, e, ARRAY_LEN(e), &c), 0);
	ck_assert_uint_eq(c.interrupts, 4);
	ck_assert_uint_eq(c.cdb, 10);
	ck_assert_uint_eq(c.metadata, 1024);
	ck_assert_uint_eq(c.data, 8192);
	/* headers 376, + 18 bytes of sense, - the 10 CDB bytes */
	ck_assert_uint_eq(c.transport, 376 + 18 - 10);
	ck_assert_uint_eq(c.tcpip, 340);
	ck_assert_uint_eq(c.total, 10 + 1024 + 8192 + 384 + 340);
	assert_sum(&c);
}
END_TEST

/* Lists that are not one operation. */
static const struct mirror_event bad_empty[1] = { { MIRROR_EV_COMMAND, BHS, 0, 0 } };
static const struct {
	const char *what;
	enum mirror_path path;
	struct mirror_event e[6];
	size_t n;
} bad_lists[] = {
	{ "empty", MIRROR_PATH_SMALL, { { 0 } }, 0 },
	{ "command only", MIRROR_PATH_SMALL, { { MIRROR_EV_COMMAND, BHS, 0, 0 } }, 1 },
	{ "starts with a burst", MIRROR_PATH_SMALL,
	  { { MIRROR_EV_DATA_BURST, BHS, 512, 0 }, { MIRROR_EV_STATUS, BHS, 0, 0 } }, 2 },
	{ "starts with status", MIRROR_PATH_SMALL, { { MIRROR_EV_STATUS, BHS, 0, 0 } }, 1 },
	{ "no status", MIRROR_PATH_SMALL,
	  { { MIRROR_EV_COMMAND, BHS, 0, 0 }, { MIRROR_EV_DATA_BURST, BHS, 512, 0 } }, 2 },
	{ "ends with an R2T", MIRROR_PATH_SMALL,
	  { { MIRROR_EV_COMMAND, BHS, 512, 0 }, { MIRROR_EV_STATUS, BHS, 0, 0 },
	    { MIRROR_EV_R2T, BHS, 0, 0 } }, 3 },
	{ "burst after status", MIRROR_PATH_SMALL,
	  { { MIRROR_EV_COMMAND, BHS, 0, 0 }, { MIRROR_EV_STATUS, BHS, 0, 0 },
	    { MIRROR_EV_DATA_BURST, BHS, 512, 0 } }, 3 },
	{ "two statuses", MIRROR_PATH_SMALL,
	  { { MIRROR_EV_COMMAND, BHS, 512, 0 }, { MIRROR_EV_STATUS, BHS, 0, 0 },
	    { MIRROR_EV_STATUS, BHS, 0, 0 } }, 3 },
	{ "two commands", MIRROR_PATH_SMALL,
	  { { MIRROR_EV_COMMAND, BHS, 0, 0 }, { MIRROR_EV_COMMAND, BHS, 512, 0 },
	    { MIRROR_EV_STATUS, BHS, 0, 0 } }, 3 },
	{ "unknown event kind", MIRROR_PATH_SMALL,
	  { { MIRROR_EV_COMMAND, BHS, 0, 0 }, { (enum mirror_event_kind)42, BHS, 512, 0 },
	    { MIRROR_EV_STATUS, BHS, 0, 0 } }, 3 },
	{ "large, payload 1023", MIRROR_PATH_LARGE,
	  { { MIRROR_EV_COMMAND, BHS, 0, 0 }, { MIRROR_EV_DATA_BURST, BHS, 1023, 0 },
	    { MIRROR_EV_STATUS, BHS, 0, 0 } }, 3 },
	{ "large, no payload", MIRROR_PATH_LARGE,
	  { { MIRROR_EV_COMMAND, BHS, 0, 0 }, { MIRROR_EV_STATUS, BHS, 0, 0 } }, 2 },
};

START_TEST(test_account_invalid)
{
	struct mirror_cost c;

	memset(&c, 0xFF, sizeof(c));
	ck_assert_msg(mirror_account(bad_lists[_i].path, 10, bad_lists[_i].n ? bad_lists[_i].e : bad_empty,
				     bad_lists[_i].n, &c) == -EINVAL,
		      "%s", bad_lists[_i].what);
	/* No half-counted result is left behind. */
	ck_assert_uint_eq(c.interrupts, 0);
	ck_assert_uint_eq(c.total, 0);
}
END_TEST

/* The metadata alone is a valid large op (the boundary of the check). */
START_TEST(test_large_metadata_only)
{
	const struct mirror_event e[] = { CMD(BHS, 0), BURST(BHS, 1024), STATUS(BHS) };
	struct mirror_cost c;

	ck_assert_int_eq(mirror_account(MIRROR_PATH_LARGE, 10, e, ARRAY_LEN(e), &c), 0);
	ck_assert_uint_eq(c.metadata, 1024);
	ck_assert_uint_eq(c.data, 0);
}
END_TEST

/* ---- the model ---- */

START_TEST(test_params_presets)
{
	struct mirror_iscsi_params p, m;

	memset(&p, 0xFF, sizeof(p));
	mirror_iscsi_params_patent(&p);
	ck_assert(p.initial_r2t && !p.immediate_data && p.separate_metadata_r2t);
	ck_assert(!p.header_digest && !p.data_digest);
	ck_assert_uint_eq(p.max_recv_data_segment_length, 256 * KiB);
	ck_assert_uint_eq(p.max_burst_length, 1024 * KiB);
	mirror_iscsi_params_modern(&m);
	ck_assert(!m.initial_r2t && m.immediate_data && !m.separate_metadata_r2t);
	ck_assert_uint_eq(m.first_burst_length, 64 * KiB);
}
END_TEST

/* patent, large, 4 KiB: R2T for the metadata alone, then R2T for the
 * data: CMD R2T B(1024) R2T B(4096) STATUS, six 48-byte headers. */
START_TEST(test_patent_large_4k)
{
	static const struct {
		enum mirror_event_kind kind;
		uint32_t payload;
	} want[] = {
		{ MIRROR_EV_COMMAND, 0 }, { MIRROR_EV_R2T, 0 },	 { MIRROR_EV_DATA_BURST, 1024 },
		{ MIRROR_EV_R2T, 0 },	  { MIRROR_EV_DATA_BURST, 4096 }, { MIRROR_EV_STATUS, 0 },
	};
	struct mirror_iscsi_params ip;
	struct mirror_event e[MIRROR_MODEL_EVENTS_MAX];
	struct mirror_cost c;

	mirror_iscsi_params_patent(&ip);
	ck_assert_int_eq(mirror_model_events(&ip, MIRROR_PATH_LARGE, 10, 4096, e, ARRAY_LEN(e)),
			 (int)ARRAY_LEN(want));
	for (size_t k = 0; k < ARRAY_LEN(want); k++) {
		ck_assert_int_eq(e[k].kind, want[k].kind);
		ck_assert_uint_eq(e[k].payload_bytes, want[k].payload);
		ck_assert_uint_eq(e[k].header_bytes, BHS);
	}
	ck_assert_int_eq(mirror_model_cost(&ip, MIRROR_PATH_LARGE, 10, 4096, &c), 0);
	ck_assert_uint_eq(c.interrupts, 4);
	ck_assert_uint_eq(c.metadata, 1024);
	ck_assert_uint_eq(c.data, 4096);
	ck_assert_uint_eq(c.transport, 6 * BHS - 10);
	ck_assert_uint_eq(c.total, 5408);
}
END_TEST

/* patent, small, 4 KiB: CMD R2T B(4096) STATUS. */
START_TEST(test_patent_small_4k)
{
	struct mirror_iscsi_params ip;
	struct mirror_event e[MIRROR_MODEL_EVENTS_MAX];
	struct mirror_cost c;

	mirror_iscsi_params_patent(&ip);
	ck_assert_int_eq(mirror_model_events(&ip, MIRROR_PATH_SMALL, 12, 4096, e, ARRAY_LEN(e)), 4);
	ck_assert_int_eq(e[1].kind, MIRROR_EV_R2T);
	ck_assert_int_eq(e[2].kind, MIRROR_EV_DATA_BURST);
	ck_assert_uint_eq(e[2].payload_bytes, 4096);
	ck_assert_int_eq(mirror_model_cost(&ip, MIRROR_PATH_SMALL, 12, 4096, &c), 0);
	ck_assert_uint_eq(c.interrupts, 3);
	ck_assert_uint_eq(c.metadata, 0);
	ck_assert_uint_eq(c.transport, 4 * BHS - 12);
	ck_assert_uint_eq(c.total, 4288);
}
END_TEST

/* Digests: HeaderDigest adds 4 to every PDU, DataDigest 4 to every PDU
 * with a data segment (the bursts here). */
static const struct {
	enum mirror_path path;
	bool hd, dd;
	uint64_t transport;
} digest_cases[] = {
	{ MIRROR_PATH_LARGE, false, false, 6 * 48 - 10 },
	{ MIRROR_PATH_LARGE, true, false, 6 * 52 - 10 },
	{ MIRROR_PATH_LARGE, false, true, 6 * 48 + 2 * 4 - 10 },
	{ MIRROR_PATH_LARGE, true, true, 6 * 52 + 2 * 4 - 10 },
	{ MIRROR_PATH_SMALL, false, false, 4 * 48 - 12 },
	{ MIRROR_PATH_SMALL, true, false, 4 * 52 - 12 },
	{ MIRROR_PATH_SMALL, false, true, 4 * 48 + 4 - 12 },
	{ MIRROR_PATH_SMALL, true, true, 4 * 52 + 4 - 12 },
};

START_TEST(test_patent_digests)
{
	struct mirror_iscsi_params ip;
	struct mirror_cost c;
	unsigned cdb = digest_cases[_i].path == MIRROR_PATH_LARGE ? 10 : 12;

	mirror_iscsi_params_patent(&ip);
	ip.header_digest = digest_cases[_i].hd;
	ip.data_digest = digest_cases[_i].dd;
	ck_assert_int_eq(mirror_model_cost(&ip, digest_cases[_i].path, cdb, 4096, &c), 0);
	ck_assert_uint_eq(c.transport, digest_cases[_i].transport);
	ck_assert_uint_eq(c.interrupts, digest_cases[_i].path == MIRROR_PATH_LARGE ? 4 : 3);
	assert_sum(&c);
}
END_TEST

/* MaxBurstLength 8 KiB: a 32 KiB small write needs four solicited
 * bursts, so 3 + 3 = 6 interrupts; ten 48-byte headers. */
START_TEST(test_patent_small_32k_bursts)
{
	struct mirror_iscsi_params ip;
	struct mirror_event e[MIRROR_MODEL_EVENTS_MAX];
	struct mirror_cost c;

	mirror_iscsi_params_patent(&ip);
	ip.max_burst_length = 8192;
	ck_assert_int_eq(mirror_model_events(&ip, MIRROR_PATH_SMALL, 12, 32 * KiB, e, ARRAY_LEN(e)), 10);
	for (int k = 0; k < 4; k++) {
		ck_assert_int_eq(e[1 + 2 * k].kind, MIRROR_EV_R2T);
		ck_assert_int_eq(e[2 + 2 * k].kind, MIRROR_EV_DATA_BURST);
		ck_assert_uint_eq(e[2 + 2 * k].payload_bytes, 8192);
	}
	ck_assert_int_eq(mirror_model_cost(&ip, MIRROR_PATH_SMALL, 12, 32 * KiB, &c), 0);
	ck_assert_uint_eq(c.interrupts, 6);
	ck_assert_uint_eq(c.int_data, 4);
	ck_assert_uint_eq(c.transport, 10 * BHS - 12);
	ck_assert_uint_eq(c.total, 12 + 32 * KiB + 10 * BHS - 12);
}
END_TEST

/* patent, large, 1 MiB: the data burst is four 256 KiB Data-Out PDUs
 * (MaxRecvDataSegmentLength), one burst all the same. */
START_TEST(test_patent_large_1m)
{
	struct mirror_iscsi_params ip;
	struct mirror_event e[MIRROR_MODEL_EVENTS_MAX];
	struct mirror_cost c;

	mirror_iscsi_params_patent(&ip);
	ck_assert_int_eq(mirror_model_events(&ip, MIRROR_PATH_LARGE, 10, 1024 * KiB, e, ARRAY_LEN(e)), 6);
	ck_assert_uint_eq(e[4].payload_bytes, 1024 * KiB);
	ck_assert_uint_eq(e[4].header_bytes, 4 * BHS);
	ck_assert_int_eq(mirror_model_cost(&ip, MIRROR_PATH_LARGE, 10, 1024 * KiB, &c), 0);
	ck_assert_uint_eq(c.interrupts, 4);
	ck_assert_uint_eq(c.transport, 9 * BHS - 10);
}
END_TEST

/* modern: ImmediateData=Yes, InitialR2T=No, FirstBurstLength 64 KiB.  Up
 * to 64 KiB rides in the command itself, so a 4 KiB write is CMD STATUS:
 * 2 interrupts on either path (below the source's 3 and 4, which assume
 * every transfer is solicited). */
static const struct {
	enum mirror_path path;
	unsigned cdb;
	uint32_t bytes;
	bool dd;
	uint32_t imm; /* immediate data in the command */
	int events;
	unsigned interrupts;
	uint64_t transport;
} modern_cases[] = {
	{ MIRROR_PATH_SMALL, 12, 4096, false, 4096, 2, 2, 2 * 48 - 12 },
	{ MIRROR_PATH_SMALL, 12, 4096, true, 4096, 2, 2, 2 * 48 + 4 - 12 },
	{ MIRROR_PATH_LARGE, 10, 4096, false, 5120, 2, 2, 2 * 48 - 10 },
	/* 64 KiB + 1 KiB of metadata: 64 KiB immediate, the first burst is
	 * spent, the last 1 KiB is solicited */
	{ MIRROR_PATH_LARGE, 10, 64 * 1024, false, 65536, 4, 3, 4 * 48 - 10 },
	/* 128 KiB: 64 KiB immediate, then one R2T for the other 64 KiB */
	{ MIRROR_PATH_SMALL, 12, 128 * 1024, false, 65536, 4, 3, 4 * 48 - 12 },
	{ MIRROR_PATH_SMALL, 12, 128 * 1024, true, 65536, 4, 3, 4 * 48 + 2 * 4 - 12 },
};

START_TEST(test_modern)
{
	struct mirror_iscsi_params ip;
	struct mirror_event e[MIRROR_MODEL_EVENTS_MAX];
	struct mirror_cost c;

	mirror_iscsi_params_modern(&ip);
	ip.data_digest = modern_cases[_i].dd;
	ck_assert_int_eq(mirror_model_events(&ip, modern_cases[_i].path, modern_cases[_i].cdb,
					     modern_cases[_i].bytes, e, ARRAY_LEN(e)),
			 modern_cases[_i].events);
	ck_assert_int_eq(e[0].kind, MIRROR_EV_COMMAND);
	ck_assert_uint_eq(e[0].payload_bytes, modern_cases[_i].imm);
	ck_assert_int_eq(mirror_model_cost(&ip, modern_cases[_i].path, modern_cases[_i].cdb,
					   modern_cases[_i].bytes, &c), 0);
	ck_assert_uint_eq(c.interrupts, modern_cases[_i].interrupts);
	ck_assert_uint_eq(c.data, modern_cases[_i].bytes);
	ck_assert_uint_eq(c.transport, modern_cases[_i].transport);
	assert_sum(&c);
}
END_TEST

/* modern with MaxRecvDataSegmentLength 8 KiB, small 128 KiB: 8 KiB
 * immediate (one segment), an unsolicited burst of the rest of the first
 * 64 KiB (56 KiB = seven PDUs), then R2T and a 64 KiB burst (eight PDUs).
 * 4 interrupts; headers 48 + 7*48 + 48 + 8*48 + 48 = 864. */
START_TEST(test_modern_unsolicited)
{
	struct mirror_iscsi_params ip;
	struct mirror_event e[MIRROR_MODEL_EVENTS_MAX];
	struct mirror_cost c;

	mirror_iscsi_params_modern(&ip);
	ip.max_recv_data_segment_length = 8192;
	ck_assert_int_eq(mirror_model_events(&ip, MIRROR_PATH_SMALL, 12, 128 * KiB, e, ARRAY_LEN(e)), 5);
	ck_assert_uint_eq(e[0].payload_bytes, 8192);
	ck_assert_int_eq(e[1].kind, MIRROR_EV_DATA_BURST); /* unsolicited: no R2T before it */
	ck_assert_uint_eq(e[1].payload_bytes, 56 * KiB);
	ck_assert_uint_eq(e[1].header_bytes, 7 * BHS);
	ck_assert_int_eq(e[2].kind, MIRROR_EV_R2T);
	ck_assert_uint_eq(e[3].payload_bytes, 64 * KiB);
	ck_assert_uint_eq(e[3].header_bytes, 8 * BHS);
	ck_assert_int_eq(mirror_model_cost(&ip, MIRROR_PATH_SMALL, 12, 128 * KiB, &c), 0);
	ck_assert_uint_eq(c.interrupts, 4);
	ck_assert_uint_eq(c.transport, 864 - 12);
	ck_assert_uint_eq(c.total, 12 + 128 * KiB + 864 - 12);
}
END_TEST

START_TEST(test_model_nospace)
{
	struct mirror_iscsi_params ip;
	struct mirror_event e[8];

	mirror_iscsi_params_patent(&ip);
	for (size_t k = 0; k < ARRAY_LEN(e); k++)
		e[k] = ev(MIRROR_EV_R2T, 0xDEAD, 0xBEEF, 0);
	ck_assert_int_eq(mirror_model_events(&ip, MIRROR_PATH_LARGE, 10, 4096, e, 5), MIRROR_E_NOSPACE);
	/* Nothing is written past cap. */
	for (size_t k = 5; k < ARRAY_LEN(e); k++)
		ck_assert_uint_eq(e[k].header_bytes, 0xDEAD);
	/* NULL asks for the count */
	ck_assert_int_eq(mirror_model_events(&ip, MIRROR_PATH_LARGE, 10, 4096, NULL, 0), 6);
	ck_assert_int_eq(mirror_model_events(&ip, MIRROR_PATH_LARGE, 10, 4096, e, 6), 6);
}
END_TEST

START_TEST(test_model_invalid_params)
{
	struct mirror_iscsi_params ip;
	struct mirror_event e[MIRROR_MODEL_EVENTS_MAX];
	struct mirror_cost c;

	mirror_iscsi_params_patent(&ip);
	ip.max_recv_data_segment_length = 0;
	ck_assert_int_eq(mirror_model_events(&ip, MIRROR_PATH_SMALL, 12, 4096, e, ARRAY_LEN(e)), -EINVAL);
	memset(&c, 0xFF, sizeof(c));
	ck_assert_int_eq(mirror_model_cost(&ip, MIRROR_PATH_SMALL, 12, 4096, &c), -EINVAL);
	ck_assert_uint_eq(c.interrupts, 0);
	mirror_iscsi_params_modern(&ip);
	ip.first_burst_length = 511;
	ck_assert_int_eq(mirror_model_cost(&ip, MIRROR_PATH_SMALL, 12, 4096, &c), -EINVAL);
}
END_TEST

/* The modelled events, counted by mirror_account, give exactly
 * mirror_model_cost; and up to 1 MiB they fit MIRROR_MODEL_EVENTS_MAX. */
START_TEST(test_model_matches_account)
{
	struct test_rng rng;

	test_rng_init(&rng, test_seed());
	for (int iter = 0; iter < 500; iter++) {
		struct mirror_iscsi_params ip;
		struct mirror_event e[MIRROR_MODEL_EVENTS_MAX];
		struct mirror_cost a, m;
		enum mirror_path path = test_rng_range(&rng, 0, 1) ? MIRROR_PATH_LARGE : MIRROR_PATH_SMALL;
		unsigned cdb = path == MIRROR_PATH_LARGE ? 10 : 12;
		uint32_t bytes = (uint32_t)test_rng_range(&rng, 1, 2048) * 512;

		if (test_rng_range(&rng, 0, 1))
			mirror_iscsi_params_patent(&ip);
		else
			mirror_iscsi_params_modern(&ip);
		ip.header_digest = test_rng_range(&rng, 0, 1);
		ip.data_digest = test_rng_range(&rng, 0, 1);
		int n = mirror_model_events(&ip, path, cdb, bytes, e, ARRAY_LEN(e));
		ck_assert_msg(n > 0, "%u bytes: rc %d", bytes, n);
		ck_assert_int_eq(mirror_account(path, cdb, e, (size_t)n, &a), 0);
		ck_assert_int_eq(mirror_model_cost(&ip, path, cdb, bytes, &m), 0);
		ck_assert_mem_eq(&a, &m, sizeof(a));
		ck_assert_uint_eq(m.data, bytes);
		ck_assert_uint_ge(m.interrupts, 2);
		if (!ip.immediate_data) /* the source's minimums, when all is solicited */
			ck_assert_uint_ge(m.interrupts, path == MIRROR_PATH_LARGE ? 4 : 3);
	}
}
END_TEST

/* ---- the counterfactual ---- */

static struct mirror_op make_op(enum mirror_path path, const struct mirror_sg_element *sg,
				unsigned n)
{
	struct mirror_op op;

	memset(&op, 0, sizeof(op));
	op.path = path;
	op.sg_count = n;
	for (unsigned k = 0; k < n; k++) {
		op.sg[k] = sg[k];
		op.blocks += sg[k].bytes / 512;
	}
	return op;
}

START_TEST(test_counterfactual_small_to_large)
{
	static const struct mirror_sg_element sg[] = { { 0x100000, 4096 } };
	struct mirror_op op = make_op(MIRROR_PATH_SMALL, sg, 1);
	struct mirror_profile p;
	struct mirror_iscsi_params ip;
	struct mirror_cost c, want;
	bool possible = false;

	mirror_profile_init(&p);
	mirror_iscsi_params_patent(&ip);
	ck_assert_int_eq(mirror_counterfactual(&p, &ip, &op, &possible, &c), 0);
	ck_assert(possible);
	ck_assert_int_eq(mirror_model_cost(&ip, MIRROR_PATH_LARGE, 10, 4096, &want), 0);
	ck_assert_mem_eq(&c, &want, sizeof(c));
	ck_assert_uint_eq(c.interrupts, 4);
	ck_assert_uint_eq(c.cdb, 10);
	ck_assert_uint_eq(c.metadata, 1024);
}
END_TEST

/* Large ops the small path could not have carried. */
static const struct {
	const char *profile;
	struct mirror_sg_element sg[3];
	unsigned n;
} cannot_go_small[] = {
	{ "v1", { { 0x100000, 16384 }, { 0x200000, 16384 }, { 0x300000, 512 } }, 3 },
	/* descriptors 0x0FFFF and 0x10000: upper 4 bits differ */
	{ "v1", { { 0x1FFFE00, 512 }, { 0x2000000, 512 } }, 2 },
	/* 18-bit layout: 3 elements are still too many */
	{ "v1-18bit", { { 0, 512 }, { 1024, 512 }, { 2048, 512 } }, 3 },
};

START_TEST(test_counterfactual_not_possible)
{
	struct mirror_op op = make_op(MIRROR_PATH_LARGE, cannot_go_small[_i].sg, cannot_go_small[_i].n);
	struct mirror_profile p;
	struct mirror_iscsi_params ip;
	struct mirror_cost c;
	bool possible = true;

	ck_assert_int_eq(mirror_profile_by_name(cannot_go_small[_i].profile, &p), 0);
	mirror_iscsi_params_patent(&ip);
	memset(&c, 0xFF, sizeof(c));
	ck_assert_int_eq(mirror_counterfactual(&p, &ip, &op, &possible, &c), 0);
	ck_assert(!possible);
	ck_assert_uint_eq(c.interrupts, 0);
	ck_assert_uint_eq(c.total, 0);
}
END_TEST

/* Two elements in one 32 MiB window (same upper 4 descriptor bits): the
 * small path was open and would have saved an interrupt and bytes. */
START_TEST(test_counterfactual_large_to_small)
{
	static const struct mirror_sg_element sg[] = { { 0x100000, 8192 }, { 0x1F00000, 8192 } };
	struct mirror_op op = make_op(MIRROR_PATH_LARGE, sg, 2);
	struct mirror_profile p;
	struct mirror_iscsi_params ip;
	struct mirror_cost c, actual;
	bool possible = false;

	mirror_profile_init(&p);
	mirror_iscsi_params_patent(&ip);
	ck_assert_int_eq(mirror_counterfactual(&p, &ip, &op, &possible, &c), 0);
	ck_assert(possible);
	ck_assert_uint_eq(c.cdb, 12);
	ck_assert_uint_eq(c.metadata, 0);
	ck_assert_uint_eq(c.data, 16384);
	ck_assert_uint_eq(c.interrupts, 3);
	ck_assert_int_eq(mirror_model_cost(&ip, MIRROR_PATH_LARGE, 10, 16384, &actual), 0);
	ck_assert_uint_eq(actual.interrupts, 4);
	ck_assert_uint_lt(c.interrupts, actual.interrupts);
	ck_assert_uint_lt(c.total, actual.total);
	/* 1024 of metadata plus one R2T and one burst header (the CDB is
	 * inside the command's header either way: its size cancels out) */
	ck_assert_uint_eq(actual.total - c.total, 1024 + 2 * BHS);
}
END_TEST

/* The 16-byte layout: 3 elements can go small, with a 16-byte CDB. */
START_TEST(test_counterfactual_cdb16)
{
	static const struct mirror_sg_element sg[] = { { 0, 512 }, { 4096, 512 }, { 8192, 512 } };
	struct mirror_op op = make_op(MIRROR_PATH_LARGE, sg, 3);
	struct mirror_profile p;
	struct mirror_iscsi_params ip;
	struct mirror_cost c;
	bool possible = false;

	ck_assert_int_eq(mirror_profile_by_name("v1-cdb16", &p), 0);
	mirror_iscsi_params_patent(&ip);
	ck_assert_int_eq(mirror_counterfactual(&p, &ip, &op, &possible, &c), 0);
	ck_assert(possible);
	ck_assert_uint_eq(c.cdb, 16);
	ck_assert_uint_eq(c.data, 1536);
}
END_TEST

static Suite *account_suite(void)
{
	Suite *s = suite_create("account");
	TCase *tc;

	tc = tcase_create("account");
	tcase_add_test(tc, test_small_minimum);
	tcase_add_test(tc, test_large_minimum);
	tcase_add_loop_test(tc, test_extra_bursts, 0, 8);
	tcase_add_test(tc, test_immediate_data);
	tcase_add_test(tc, test_r2t_bytes_only);
	tcase_add_test(tc, test_categories);
	tcase_add_loop_test(tc, test_account_invalid, 0, (int)ARRAY_LEN(bad_lists));
	tcase_add_test(tc, test_large_metadata_only);
	suite_add_tcase(s, tc);

	tc = tcase_create("model");
	tcase_add_test(tc, test_params_presets);
	tcase_add_test(tc, test_patent_large_4k);
	tcase_add_test(tc, test_patent_small_4k);
	tcase_add_loop_test(tc, test_patent_digests, 0, (int)ARRAY_LEN(digest_cases));
	tcase_add_test(tc, test_patent_small_32k_bursts);
	tcase_add_test(tc, test_patent_large_1m);
	tcase_add_loop_test(tc, test_modern, 0, (int)ARRAY_LEN(modern_cases));
	tcase_add_test(tc, test_modern_unsolicited);
	tcase_add_test(tc, test_model_nospace);
	tcase_add_test(tc, test_model_invalid_params);
	tcase_add_test(tc, test_model_matches_account);
	suite_add_tcase(s, tc);

	tc = tcase_create("counterfactual");
	tcase_add_test(tc, test_counterfactual_small_to_large);
	tcase_add_loop_test(tc, test_counterfactual_not_possible, 0, (int)ARRAY_LEN(cannot_go_small));
	tcase_add_test(tc, test_counterfactual_large_to_small);
	tcase_add_test(tc, test_counterfactual_cdb16);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run_suite(account_suite());
}
