/* Sense data and exit statuses: the fixed-format bytes a receiver sends
 * (SPC-5 4.4.3), the parser's bounds on hostile input (fixed and
 * descriptor format), and the sg3_utils exit statuses scripts rely on. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* A heap copy of exactly len bytes, so that AddressSanitizer catches any
 * read past the end (a stack array would hide it in its neighbours). */
static uint8_t *exact_copy(const uint8_t *src, size_t len)
{
	uint8_t *p = malloc(len ? len : 1);

	ck_assert_ptr_nonnull(p);
	if (len)
		memcpy(p, src, len);
	return p;
}

static struct mirror_finding make_finding(enum mirror_rule r, bool in_cdb, unsigned byte,
					  unsigned bit)
{
	struct mirror_findings f;

	mirror_findings_init(&f);
	mirror_findings_add(&f, r, in_cdb, byte, bit, "%s", "test");
	ck_assert_uint_eq(f.count, 1);
	return f.item[0];
}

/* ---- mirror_sense_build ---- */

static const struct {
	bool sksv, cd, bpv;
	uint8_t bit;
	uint16_t field;
	uint8_t byte15, byte16, byte17;
} build_cases[] = {
	/* INVALID FIELD IN CDB, byte 2 bit 5 */
	{ true, true, true, 5, 2, 0xCD, 0x00, 0x02 },
	/* INVALID FIELD IN PARAMETER LIST, the count of S/G element 0 */
	{ true, false, true, 7, 516, 0x8F, 0x02, 0x04 },
	/* no bit pointer: BPV and the bit stay clear */
	{ true, true, false, 6, 0x1234, 0xC0, 0x12, 0x34 },
	/* no sense-key-specific data at all */
	{ false, true, true, 5, 2, 0x00, 0x00, 0x00 },
};

START_TEST(test_build_layout)
{
	struct mirror_sense s = { 0 };
	uint8_t buf[32];

	s.key = MIRROR_SK_ILLEGAL_REQUEST;
	s.asc = 0x24;
	s.ascq = 0x01;
	s.sksv = build_cases[_i].sksv;
	s.cd = build_cases[_i].cd;
	s.bpv = build_cases[_i].bpv;
	s.bit = build_cases[_i].bit;
	s.field = build_cases[_i].field;
	memset(buf, 0xEE, sizeof(buf));
	ck_assert_int_eq(mirror_sense_build(buf, sizeof(buf), &s), MIRROR_FIXED_SENSE_LEN);
	ck_assert_uint_eq(buf[0], 0x70);
	ck_assert_uint_eq(buf[2], MIRROR_SK_ILLEGAL_REQUEST);
	ck_assert_uint_eq(buf[7], 10);
	ck_assert_uint_eq(buf[12], 0x24);
	ck_assert_uint_eq(buf[13], 0x01);
	ck_assert_uint_eq(buf[15], build_cases[_i].byte15);
	ck_assert_uint_eq(buf[16], build_cases[_i].byte16);
	ck_assert_uint_eq(buf[17], build_cases[_i].byte17);
	/* Everything else inside the 18 bytes is zero, nothing after them
	 * is touched. */
	static const unsigned zero[] = { 1, 3, 4, 5, 6, 8, 9, 10, 11, 14 };
	for (size_t k = 0; k < ARRAY_LEN(zero); k++)
		ck_assert_msg(buf[zero[k]] == 0, "byte %u = 0x%02X", zero[k], buf[zero[k]]);
	for (size_t k = MIRROR_FIXED_SENSE_LEN; k < sizeof(buf); k++)
		ck_assert_uint_eq(buf[k], 0xEE);
}
END_TEST

START_TEST(test_build_deferred_info)
{
	struct mirror_sense s = { 0 };
	uint8_t buf[MIRROR_FIXED_SENSE_LEN];

	s.deferred = true;
	s.info_valid = true;
	s.info = 0xA1B2C3D4;
	s.key = MIRROR_SK_ABORTED_COMMAND;
	s.asc = 0x0C;
	s.ascq = 0x0D;
	ck_assert_int_eq(mirror_sense_build(buf, sizeof(buf), &s), MIRROR_FIXED_SENSE_LEN);
	ck_assert_uint_eq(buf[0], 0xF1); /* VALID | 0x71 */
	ck_assert_uint_eq(buf[3], 0xA1);
	ck_assert_uint_eq(buf[4], 0xB2);
	ck_assert_uint_eq(buf[5], 0xC3);
	ck_assert_uint_eq(buf[6], 0xD4);
	ck_assert_uint_eq(buf[2], MIRROR_SK_ABORTED_COMMAND);
}
END_TEST

START_TEST(test_build_nospace)
{
	struct mirror_sense s = { 0 };
	uint8_t buf[MIRROR_FIXED_SENSE_LEN];

	s.key = MIRROR_SK_ILLEGAL_REQUEST;
	memset(buf, 0xEE, sizeof(buf));
	ck_assert_int_eq(mirror_sense_build(buf, MIRROR_FIXED_SENSE_LEN - 1, &s), MIRROR_E_NOSPACE);
	for (size_t k = 0; k < sizeof(buf); k++)
		ck_assert_uint_eq(buf[k], 0xEE);
}
END_TEST

/* ---- mirror_sense_from_finding: the rule table decides the sense ---- */

static const struct {
	enum mirror_rule rule;
	bool in_cdb;
	unsigned byte, bit;
	uint8_t asc;
	bool sksv;
	int exit; /* what a script sees for the resulting CHECK CONDITION */
} finding_cases[] = {
	{ MIRROR_RULE_SMALL_BC_TOO_LARGE, true, 1, 3, 0x24, true, MIRROR_EXIT_ILLEGAL_REQ },
	{ MIRROR_RULE_NOTIFY_RESERVED_STRICT, true, 3, 4, 0x24, true, MIRROR_EXIT_ILLEGAL_REQ },
	{ MIRROR_RULE_MD_BLOCKS, false, 12, 7, 0x26, true, MIRROR_EXIT_INVALID_PARAM },
	{ MIRROR_RULE_SG_COUNT, false, 516, 7, 0x26, true, MIRROR_EXIT_INVALID_PARAM },
	{ MIRROR_RULE_TABLE_DUP_SERIAL, false, 40, 7, 0x26, true, MIRROR_EXIT_INVALID_PARAM },
	/* SKSV=0 even though the finding has a byte (wire-profile.md) */
	{ MIRROR_RULE_LBA_RANGE, true, 8, 7, 0x21, false, MIRROR_EXIT_LBA_OUT_OF_RANGE },
	{ MIRROR_RULE_DATA_LENGTH, true, 0, 0, 0x1A, false, MIRROR_EXIT_ILLEGAL_REQ },
	{ MIRROR_RULE_TRUNCATED, true, 5, 7, 0x1A, false, MIRROR_EXIT_ILLEGAL_REQ },
	{ MIRROR_RULE_SMALL_OPCODE, true, 0, 7, 0x20, false, MIRROR_EXIT_INVALID_OP },
};

START_TEST(test_from_finding)
{
	struct mirror_finding fi = make_finding(finding_cases[_i].rule, finding_cases[_i].in_cdb,
						finding_cases[_i].byte, finding_cases[_i].bit);
	struct mirror_sense s, back;
	uint8_t buf[MIRROR_FIXED_SENSE_LEN];

	memset(&s, 0xA5, sizeof(s));
	mirror_sense_from_finding(&fi, &s);
	ck_assert_uint_eq(s.response_code, 0x70);
	ck_assert_uint_eq(s.key, MIRROR_SK_ILLEGAL_REQUEST);
	ck_assert_uint_eq(s.asc, finding_cases[_i].asc);
	ck_assert_uint_eq(s.ascq, 0);
	ck_assert(!s.info_valid);
	ck_assert_int_eq(s.sksv, finding_cases[_i].sksv);
	ck_assert_int_eq(mirror_sense_build(buf, sizeof(buf), &s), MIRROR_FIXED_SENSE_LEN);
	if (finding_cases[_i].sksv) {
		uint8_t want = (uint8_t)(0x80 | (finding_cases[_i].in_cdb ? 0x40 : 0) | 0x08 |
					 finding_cases[_i].bit);
		ck_assert_uint_eq(buf[15], want);
		ck_assert_uint_eq((unsigned)buf[16] << 8 | buf[17], finding_cases[_i].byte);
	} else {
		ck_assert_uint_eq(buf[15] | buf[16] | buf[17], 0);
	}
	/* What the sender parses is what the receiver meant. */
	ck_assert_int_eq(mirror_sense_parse(buf, sizeof(buf), &back), 0);
	ck_assert_uint_eq(back.asc, finding_cases[_i].asc);
	ck_assert_int_eq(back.sksv, finding_cases[_i].sksv);
	if (back.sksv) {
		ck_assert_int_eq(back.cd, finding_cases[_i].in_cdb);
		ck_assert(back.bpv);
		ck_assert_uint_eq(back.bit, finding_cases[_i].bit);
		ck_assert_uint_eq(back.field, finding_cases[_i].byte);
	}
	ck_assert_int_eq(mirror_exit_from_status(MIRROR_STATUS_CHECK_CONDITION, &back),
			 finding_cases[_i].exit);
}
END_TEST

/* ---- mirror_sense_parse ---- */

static size_t valid_fixed(uint8_t buf[MIRROR_FIXED_SENSE_LEN])
{
	struct mirror_sense s = { 0 };

	s.key = MIRROR_SK_ILLEGAL_REQUEST;
	s.asc = 0x24;
	s.ascq = 0x00;
	s.sksv = s.cd = s.bpv = true;
	s.bit = 5;
	s.field = 2;
	return (size_t)mirror_sense_build(buf, MIRROR_FIXED_SENSE_LEN, &s);
}

/* Descriptor format: information (00h) then sense key specific (02h):
 * INVALID FIELD IN PARAMETER LIST at byte 516 bit 3. */
#define DESC_SENSE_LEN 28
#define DESC_INFO_END 20 /* the information descriptor ends here */
static const uint8_t desc_sense[DESC_SENSE_LEN] = {
	0x72, 0x05, 0x26, 0x00, 0x00, 0x00, 0x00, 20,
	0x00, 0x0A, 0x80, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
	0x02, 0x06, 0x00, 0x00, 0x8B, 0x02, 0x04, 0x00,
};

START_TEST(test_parse_fixed)
{
	uint8_t buf[MIRROR_FIXED_SENSE_LEN];
	struct mirror_sense s;

	valid_fixed(buf);
	ck_assert_int_eq(mirror_sense_parse(buf, sizeof(buf), &s), 0);
	ck_assert_uint_eq(s.response_code, 0x70);
	ck_assert(!s.descriptor_format);
	ck_assert(!s.deferred);
	ck_assert_uint_eq(s.key, MIRROR_SK_ILLEGAL_REQUEST);
	ck_assert_uint_eq(s.asc, 0x24);
	ck_assert_uint_eq(s.ascq, 0x00);
	ck_assert(s.sksv && s.cd && s.bpv);
	ck_assert_uint_eq(s.bit, 5);
	ck_assert_uint_eq(s.field, 2);

	/* 0x71 is deferred; the VALID bit gives the information field. */
	buf[0] = 0xF1;
	buf[3] = 0x00, buf[4] = 0x00, buf[5] = 0x12, buf[6] = 0x34;
	ck_assert_int_eq(mirror_sense_parse(buf, sizeof(buf), &s), 0);
	ck_assert_uint_eq(s.response_code, 0x71);
	ck_assert(s.deferred);
	ck_assert(s.info_valid);
	ck_assert_uint_eq(s.info, 0x1234);
}
END_TEST

START_TEST(test_parse_descriptor)
{
	struct mirror_sense s;

	ck_assert_int_eq(mirror_sense_parse(desc_sense, sizeof(desc_sense), &s), 0);
	ck_assert_uint_eq(s.response_code, 0x72);
	ck_assert(s.descriptor_format);
	ck_assert(!s.deferred);
	ck_assert_uint_eq(s.key, MIRROR_SK_ILLEGAL_REQUEST);
	ck_assert_uint_eq(s.asc, 0x26);
	ck_assert_uint_eq(s.ascq, 0x00);
	ck_assert(s.info_valid);
	ck_assert_uint_eq(s.info, 0x0102030405060708ull);
	ck_assert(s.sksv);
	ck_assert(!s.cd);
	ck_assert(s.bpv);
	ck_assert_uint_eq(s.bit, 3);
	ck_assert_uint_eq(s.field, 516);
}
END_TEST

/* The walker advances by each descriptor's own length: an unknown
 * descriptor and a 02h too short for its type are both skipped. */
START_TEST(test_parse_descriptor_skips)
{
	static const uint8_t buf[] = {
		0x73, 0x05, 0x24, 0x00, 0x00, 0x00, 0x00, 16,
		0x05, 0x02, 0xFF, 0xFF,			/* unknown type 05h */
		0x02, 0x02, 0xFF, 0xFF,			/* 02h, too short: ignored */
		0x02, 0x06, 0x00, 0x00, 0xC8, 0x00, 0x07, 0x00, /* C/D=1 BPV bit 0 byte 7 */
	};
	struct mirror_sense s;
	uint8_t *p = exact_copy(buf, sizeof(buf));

	ck_assert_int_eq(mirror_sense_parse(p, sizeof(buf), &s), 0);
	ck_assert(s.deferred);
	ck_assert(s.descriptor_format);
	ck_assert(!s.info_valid);
	ck_assert(s.sksv && s.cd && s.bpv);
	ck_assert_uint_eq(s.bit, 0);
	ck_assert_uint_eq(s.field, 7);
	free(p);
}
END_TEST

/* Every prefix of a valid fixed-format buffer: TRUNCATED, or a partial
 * parse whose every field is either right or absent. */
START_TEST(test_parse_fixed_prefixes)
{
	uint8_t full[MIRROR_FIXED_SENSE_LEN];

	valid_fixed(full);
	for (size_t len = 0; len <= MIRROR_FIXED_SENSE_LEN; len++) {
		uint8_t *p = exact_copy(full, len);
		struct mirror_sense s;
		int rc = mirror_sense_parse(p, len, &s);

		if (len < 8)
			ck_assert_msg(rc == MIRROR_E_TRUNCATED, "len %zu: rc %d", len, rc);
		if (len == MIRROR_FIXED_SENSE_LEN)
			ck_assert_int_eq(rc, 0);
		ck_assert_msg(rc == 0 || rc == MIRROR_E_TRUNCATED, "len %zu: rc %d", len, rc);
		if (rc == 0) {
			ck_assert_uint_eq(s.key, MIRROR_SK_ILLEGAL_REQUEST);
			ck_assert(s.asc == (len > 12 ? 0x24 : 0));
			ck_assert_uint_eq(s.ascq, 0);
			ck_assert_msg(!s.sksv || len >= 18, "len %zu: SKSV from missing bytes", len);
			if (s.sksv)
				ck_assert_uint_eq(s.field, 2);
		}
		free(p);
	}
}
END_TEST

START_TEST(test_parse_descriptor_prefixes)
{
	for (size_t len = 0; len <= DESC_SENSE_LEN; len++) {
		uint8_t *p = exact_copy(desc_sense, len);
		struct mirror_sense s;
		int rc = mirror_sense_parse(p, len, &s);

		if (len < 8) {
			ck_assert_msg(rc == MIRROR_E_TRUNCATED, "len %zu: rc %d", len, rc);
		} else {
			/* The header is whole: the descriptors that fit are read. */
			ck_assert_msg(rc == 0, "len %zu: rc %d", len, rc);
			ck_assert_uint_eq(s.asc, 0x26);
			ck_assert_int_eq(s.info_valid, len >= DESC_INFO_END);
			ck_assert_int_eq(s.sksv, len >= DESC_SENSE_LEN);
		}
		free(p);
	}
}
END_TEST

/* The additional length bounds the fields in both directions. */
START_TEST(test_parse_additional_length)
{
	uint8_t full[MIRROR_FIXED_SENSE_LEN];
	struct mirror_sense s;
	uint8_t *p;

	/* Larger than the buffer: the buffer wins, nothing is read past it. */
	valid_fixed(full);
	full[7] = 0xF4;
	p = exact_copy(full, sizeof(full));
	ck_assert_int_eq(mirror_sense_parse(p, sizeof(full), &s), 0);
	ck_assert(s.sksv);
	ck_assert_uint_eq(s.field, 2);
	ck_assert_int_eq(mirror_sense_parse(p, 16, &s), 0);
	ck_assert(!s.sksv);
	ck_assert_uint_eq(s.asc, 0x24);
	free(p);

	/* Smaller: bytes 15-17 are there but not part of the sense. */
	valid_fixed(full);
	full[7] = 6;
	ck_assert_int_eq(mirror_sense_parse(full, sizeof(full), &s), 0);
	ck_assert_uint_eq(s.asc, 0x24);
	ck_assert(!s.sksv);

	/* Descriptor format, additional length over the buffer. */
	uint8_t d[DESC_SENSE_LEN];
	memcpy(d, desc_sense, sizeof(d));
	d[7] = 0xFF;
	p = exact_copy(d, sizeof(d));
	ck_assert_int_eq(mirror_sense_parse(p, sizeof(d), &s), 0);
	ck_assert(s.info_valid && s.sksv);
	ck_assert_uint_eq(s.field, 516);
	free(p);

	/* Additional length 0: the descriptors present are not sense data. */
	memcpy(d, desc_sense, sizeof(d));
	d[7] = 0;
	ck_assert_int_eq(mirror_sense_parse(d, sizeof(d), &s), 0);
	ck_assert(!s.info_valid && !s.sksv);
}
END_TEST

/* Descriptor lengths that run past the end stop the walk. */
static const struct {
	uint8_t bytes[24];
	size_t len;
	bool info, sksv;
} overrun_cases[] = {
	/* 02h claiming 255 bytes */
	{ { 0x72, 5, 0x26, 0, 0, 0, 0, 8, 0x02, 0xFF, 0, 0, 0x80, 0, 1, 0 }, 16, false, false },
	/* 02h one byte longer than the buffer */
	{ { 0x72, 5, 0x26, 0, 0, 0, 0, 8, 0x02, 0x07, 0, 0, 0x80, 0, 1, 0 }, 16, false, false },
	/* a descriptor header cut after its type byte */
	{ { 0x72, 5, 0x26, 0, 0, 0, 0, 1, 0x02 }, 9, false, false },
	/* an information descriptor too short for its 8-byte field */
	{ { 0x72, 5, 0x26, 0, 0, 0, 0, 4, 0x00, 0x02, 0x80, 0 }, 12, false, false },
	/* a good information descriptor, then one that overruns */
	{ { 0x72, 5, 0x26, 0, 0, 0, 0, 16, 0x00, 0x0A, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 9,
	    0x02, 0x06, 0, 0 }, 24, true, false },
};

START_TEST(test_parse_descriptor_overrun)
{
	uint8_t *p = exact_copy(overrun_cases[_i].bytes, overrun_cases[_i].len);
	struct mirror_sense s;

	ck_assert_int_eq(mirror_sense_parse(p, overrun_cases[_i].len, &s), 0);
	ck_assert_uint_eq(s.asc, 0x26);
	ck_assert_int_eq(s.info_valid, overrun_cases[_i].info);
	if (s.info_valid)
		ck_assert_uint_eq(s.info, 9);
	ck_assert_int_eq(s.sksv, overrun_cases[_i].sksv);
	free(p);
}
END_TEST

START_TEST(test_parse_not_sense)
{
	static const uint8_t codes[] = { 0x00, 0x6F, 0x74, 0x7F, 0xF4 };
	uint8_t buf[MIRROR_FIXED_SENSE_LEN];
	struct mirror_sense s;

	for (size_t k = 0; k < ARRAY_LEN(codes); k++) {
		valid_fixed(buf);
		buf[0] = codes[k];
		ck_assert_int_eq(mirror_sense_parse(buf, sizeof(buf), &s), -EINVAL);
	}
}
END_TEST

/* Random bytes, random lengths, exact allocations: no crash, no read past
 * the end, and the outcome follows from the response code and length. */
START_TEST(test_parse_garbage)
{
	struct test_rng rng;

	test_rng_init(&rng, test_seed());
	for (int iter = 0; iter < 4000; iter++) {
		uint8_t raw[40];
		size_t len = (size_t)test_rng_range(&rng, 0, sizeof(raw));
		for (size_t k = 0; k < sizeof(raw); k++)
			raw[k] = (uint8_t)test_rng_next(&rng);
		if (iter % 2) /* half of them plausible sense */
			raw[0] = (uint8_t)(0x70 + test_rng_range(&rng, 0, 3));
		uint8_t *p = exact_copy(raw, len);
		struct mirror_sense s;
		int rc = mirror_sense_parse(p, len, &s);
		uint8_t code = raw[0] & 0x7f;
		bool known = code >= 0x70 && code <= 0x73;

		if (len == 0 || (known && len < 8))
			ck_assert_int_eq(rc, MIRROR_E_TRUNCATED);
		else if (!known)
			ck_assert_int_eq(rc, -EINVAL);
		else
			ck_assert_msg(rc == 0 || rc == MIRROR_E_TRUNCATED, "rc %d", rc);
		if (rc == 0) {
			bool desc = code >= 0x72;
			ck_assert_int_eq(s.descriptor_format, desc);
			ck_assert_uint_eq(s.key, (desc ? raw[1] : raw[2]) & 0x0f);
			ck_assert_int_eq(s.deferred, code == 0x71 || code == 0x73);
		}
		free(p);
	}
}
END_TEST

/* ---- mirror_sense_describe ---- */

START_TEST(test_describe)
{
	struct mirror_sense s;
	char text[256];
	int n;

	mirror_sense_parse(desc_sense, sizeof(desc_sense), &s);
	n = mirror_sense_describe(&s, text, sizeof(text));
	ck_assert_int_eq(n, (int)strlen(text));
	ck_assert_ptr_nonnull(strstr(text, "ILLEGAL REQUEST"));
	/* (the ASC text says "parameter list" too: match the pointer whole) */
	ck_assert_ptr_nonnull(strstr(text, "parameter list byte 516 bit 3"));

	uint8_t fixed[MIRROR_FIXED_SENSE_LEN];
	valid_fixed(fixed);
	mirror_sense_parse(fixed, sizeof(fixed), &s);
	mirror_sense_describe(&s, text, sizeof(text));
	ck_assert_ptr_nonnull(strstr(text, "CDB byte 2 bit 5"));
	ck_assert_ptr_null(strstr(text, "parameter list"));

	/* Without BPV there is no bit to name; without SKSV no byte. */
	s.bpv = false;
	mirror_sense_describe(&s, text, sizeof(text));
	ck_assert_ptr_nonnull(strstr(text, "byte 2"));
	ck_assert_ptr_null(strstr(text, "bit"));
	s.sksv = false;
	mirror_sense_describe(&s, text, sizeof(text));
	ck_assert_ptr_null(strstr(text, "byte"));
	ck_assert_ptr_nonnull(strstr(text, "ILLEGAL REQUEST"));

	/* A short buffer is cut, not overrun. */
	s.sksv = s.bpv = true;
	memset(text, 'X', sizeof(text));
	mirror_sense_describe(&s, text, 8);
	ck_assert_uint_eq(strlen(text), 7);
	ck_assert_int_eq(text[8], 'X');
}
END_TEST

/* ---- names ---- */

static const struct {
	uint8_t status;
	const char *name;
} status_names[] = {
	{ MIRROR_STATUS_GOOD, "GOOD" },
	{ MIRROR_STATUS_CHECK_CONDITION, "CHECK CONDITION" },
	{ MIRROR_STATUS_BUSY, "BUSY" },
	{ 0x18, "RESERVATION CONFLICT" },
	{ MIRROR_STATUS_TASK_SET_FULL, "TASK SET FULL" },
	{ MIRROR_STATUS_TASK_ABORTED, "TASK ABORTED" },
};

START_TEST(test_status_names)
{
	for (size_t k = 0; k < ARRAY_LEN(status_names); k++)
		ck_assert_str_eq(mirror_status_name(status_names[k].status), status_names[k].name);
	for (unsigned st = 0; st < 256; st++)
		ck_assert_ptr_nonnull(mirror_status_name((uint8_t)st));
	ck_assert_str_eq(mirror_status_name(0x22), "reserved status");
}
END_TEST

START_TEST(test_sense_key_names)
{
	ck_assert_str_eq(mirror_sense_key_name(MIRROR_SK_NO_SENSE), "NO SENSE");
	ck_assert_str_eq(mirror_sense_key_name(MIRROR_SK_ILLEGAL_REQUEST), "ILLEGAL REQUEST");
	ck_assert_str_eq(mirror_sense_key_name(MIRROR_SK_ABORTED_COMMAND), "ABORTED COMMAND");
	ck_assert_str_eq(mirror_sense_key_name(MIRROR_SK_MISCOMPARE), "MISCOMPARE");
	/* Only the low nibble is the key. */
	ck_assert_str_eq(mirror_sense_key_name(0xF5), "ILLEGAL REQUEST");
	for (unsigned a = 0; a < 16; a++) {
		ck_assert_uint_gt(strlen(mirror_sense_key_name((uint8_t)a)), 0);
		for (unsigned b = a + 1; b < 16; b++)
			ck_assert_str_ne(mirror_sense_key_name((uint8_t)a),
					 mirror_sense_key_name((uint8_t)b));
	}
}
END_TEST

/* ---- exit statuses (sg3_utils, man sg3_utils) ---- */

static const struct {
	uint8_t status;
	bool has_sense;
	uint8_t key, asc, ascq;
	int exit;
} status_exits[] = {
	{ MIRROR_STATUS_GOOD, false, 0, 0, 0, 0 },
	{ MIRROR_STATUS_CHECK_CONDITION, true, MIRROR_SK_ILLEGAL_REQUEST, 0x24, 0x00, 5 },
	{ MIRROR_STATUS_CHECK_CONDITION, true, MIRROR_SK_ILLEGAL_REQUEST, 0x1A, 0x00, 5 },
	{ MIRROR_STATUS_CHECK_CONDITION, true, MIRROR_SK_ILLEGAL_REQUEST, 0x20, 0x00, 9 },
	{ MIRROR_STATUS_CHECK_CONDITION, true, MIRROR_SK_ILLEGAL_REQUEST, 0x26, 0x00, 19 },
	{ MIRROR_STATUS_CHECK_CONDITION, true, MIRROR_SK_ILLEGAL_REQUEST, 0x26, 0x02, 19 },
	{ MIRROR_STATUS_CHECK_CONDITION, true, MIRROR_SK_ILLEGAL_REQUEST, 0x21, 0x00, 22 },
	/* 21h/01h is INVALID ELEMENT ADDRESS, not an LBA out of range */
	{ MIRROR_STATUS_CHECK_CONDITION, true, MIRROR_SK_ILLEGAL_REQUEST, 0x21, 0x01, 5 },
	{ MIRROR_STATUS_CHECK_CONDITION, true, MIRROR_SK_ABORTED_COMMAND, 0x0C, 0x0C, 11 },
	{ MIRROR_STATUS_CHECK_CONDITION, true, MIRROR_SK_ABORTED_COMMAND, 0x0C, 0x0D, 11 },
	{ MIRROR_STATUS_CHECK_CONDITION, true, MIRROR_SK_NOT_READY, 0x04, 0x00, 2 },
	{ MIRROR_STATUS_CHECK_CONDITION, true, MIRROR_SK_MEDIUM_ERROR, 0x11, 0x00, 3 },
	{ MIRROR_STATUS_CHECK_CONDITION, true, MIRROR_SK_HARDWARE_ERROR, 0x44, 0x00, 3 },
	{ MIRROR_STATUS_CHECK_CONDITION, true, MIRROR_SK_UNIT_ATTENTION, 0x29, 0x00, 6 },
	{ MIRROR_STATUS_CHECK_CONDITION, true, MIRROR_SK_MISCOMPARE, 0x1D, 0x00, 14 },
	{ MIRROR_STATUS_CHECK_CONDITION, true, MIRROR_SK_NO_SENSE, 0x00, 0x00, 20 },
	{ MIRROR_STATUS_CHECK_CONDITION, true, 0x1 /* RECOVERED ERROR */, 0x17, 0x00, 21 },
	/* CHECK CONDITION with no sense to say why */
	{ MIRROR_STATUS_CHECK_CONDITION, false, 0, 0, 0, 99 },
	{ MIRROR_STATUS_BUSY, false, 0, 0, 0, 26 },
	{ 0x18, false, 0, 0, 0, 24 },
	{ MIRROR_STATUS_TASK_ABORTED, false, 0, 0, 0, 29 },
	{ 0x04 /* CONDITION MET */, false, 0, 0, 0, 25 },
	{ MIRROR_STATUS_TASK_SET_FULL, false, 0, 0, 0, 27 },
	{ 0x30 /* ACA ACTIVE */, false, 0, 0, 0, 28 },
	{ MIRROR_STATUS_CHECK_CONDITION, true, 0x7 /* DATA PROTECT */, 0x27, 0x00, 7 },
	{ MIRROR_STATUS_CHECK_CONDITION, true, 0xA /* COPY ABORTED */, 0x00, 0x00, 10 },
};

START_TEST(test_exit_from_status)
{
	struct mirror_sense s = { 0 };

	s.key = status_exits[_i].key;
	s.asc = status_exits[_i].asc;
	s.ascq = status_exits[_i].ascq;
	ck_assert_int_eq(mirror_exit_from_status(status_exits[_i].status,
						 status_exits[_i].has_sense ? &s : NULL),
			 status_exits[_i].exit);
	ck_assert_str_ne(mirror_exit_name(status_exits[_i].exit), "unknown");
}
END_TEST

START_TEST(test_exit_from_status_good_ignores_sense)
{
	struct mirror_sense s = { 0 };

	s.key = MIRROR_SK_ILLEGAL_REQUEST;
	s.asc = 0x24;
	ck_assert_int_eq(mirror_exit_from_status(MIRROR_STATUS_GOOD, &s), 0);
	ck_assert_int_eq(mirror_exit_from_status(MIRROR_STATUS_BUSY, &s), 26);
}
END_TEST

static const struct {
	int code;
	int exit;
} error_exits[] = {
	{ 0, 0 },
	{ MIRROR_E_INVALID_CDB, 5 },
	{ MIRROR_E_INVALID_PARAM, 19 },
	{ MIRROR_E_PARAM_LENGTH, 5 },
	{ MIRROR_E_LBA_RANGE, 22 },
	{ MIRROR_E_NOT_MIRROR, 9 },
	{ MIRROR_E_TRUNCATED, 97 },
	{ -ETIMEDOUT, 33 },
	{ -ENOENT, 15 },
	{ -EACCES, 15 },
	{ -EIO, 15 },
	{ -EISDIR, 15 },
	{ -ECONNREFUSED, 35 },
	{ -ECONNRESET, 35 },
	{ -EPIPE, 35 },
	{ -EINVAL, 99 },
	{ MIRROR_E_NOSPACE, 99 },
};

START_TEST(test_exit_from_error)
{
	ck_assert_int_eq(mirror_exit_from_error(error_exits[_i].code), error_exits[_i].exit);
	ck_assert_str_ne(mirror_exit_name(error_exits[_i].exit), "unknown");
}
END_TEST

static Suite *sense_suite(void)
{
	Suite *s = suite_create("sense");
	TCase *tc;

	tc = tcase_create("build");
	tcase_add_loop_test(tc, test_build_layout, 0, (int)ARRAY_LEN(build_cases));
	tcase_add_test(tc, test_build_deferred_info);
	tcase_add_test(tc, test_build_nospace);
	tcase_add_loop_test(tc, test_from_finding, 0, (int)ARRAY_LEN(finding_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("parse");
	tcase_add_test(tc, test_parse_fixed);
	tcase_add_test(tc, test_parse_descriptor);
	tcase_add_test(tc, test_parse_descriptor_skips);
	tcase_add_test(tc, test_parse_fixed_prefixes);
	tcase_add_test(tc, test_parse_descriptor_prefixes);
	tcase_add_test(tc, test_parse_additional_length);
	tcase_add_loop_test(tc, test_parse_descriptor_overrun, 0, (int)ARRAY_LEN(overrun_cases));
	tcase_add_test(tc, test_parse_not_sense);
	tcase_add_test(tc, test_parse_garbage);
	suite_add_tcase(s, tc);

	tc = tcase_create("text");
	tcase_add_test(tc, test_describe);
	tcase_add_test(tc, test_status_names);
	tcase_add_test(tc, test_sense_key_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("exit");
	tcase_add_loop_test(tc, test_exit_from_status, 0, (int)ARRAY_LEN(status_exits));
	tcase_add_test(tc, test_exit_from_status_good_ignores_sense);
	tcase_add_loop_test(tc, test_exit_from_error, 0, (int)ARRAY_LEN(error_exits));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run_suite(sense_suite());
}
