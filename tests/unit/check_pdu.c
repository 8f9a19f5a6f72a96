/* The iSCSI PDU module (lib/iscsi/pdu.h) and the checked reader
 * (lib/base/cursor.h): header fields and wire lengths against hand-laid
 * bytes, CRC32C against published check values, the opcode table, serial
 * number order; the cursor's reads, bounds, and its sticky error.
 * Expected values are written from RFC 7143 and RFC 3720 B.4, not from
 * the code. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "base/cursor.h"
#include "iscsi/pdu.h"

#include "testutil.h"

/* ---- pdu.h ---- */

/* Field offsets of RFC 7143 11.2.1, 11.3, 11.4, 11.7, 11.8, 11.13: the
 * names the dissector and the target index headers by. */
START_TEST(offsets_are_rfc7143)
{
	static const struct {
		unsigned name, rfc;
	} f[] = {
		{ PDU_FLAGS, 1 },           { PDU_TOTAL_AHS_LEN, 4 },  { PDU_DATA_SEGMENT_LEN, 5 },
		{ PDU_LUN, 8 },             { PDU_ITT, 16 },           { PDU_CMD_EDTL, 20 },
		{ PDU_CMD_CMDSN, 24 },      { PDU_CMD_CDB, 32 },       { PDU_RSP_RESPONSE, 2 },
		{ PDU_RSP_STATUS, 3 },      { PDU_RSP_RESIDUAL, 44 },  { PDU_DATA_TTT, 20 },
		{ PDU_DATA_DATASN, 36 },    { PDU_DATA_OFFSET, 40 },   { PDU_DIN_RESIDUAL, 44 },
		{ PDU_R2T_OFFSET, 40 },     { PDU_R2T_LENGTH, 44 },    { PDU_LOGIN_STATUS_CLASS, 36 },
		{ PDU_LOGIN_STATUS_DETAIL, 37 }, { PDU_NOP_IN_RSVD, 36 }, { PDU_NOP_OUT_RSVD, 32 },
	};
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		ck_assert_msg(f[i].name == f[i].rfc, "row %zu: %u, RFC 7143 says %u", i, f[i].name,
			      f[i].rfc);
	ck_assert_uint_eq(PDU_BHS_LEN, 48);
	ck_assert_uint_eq(PDU_NOP_IN_RSVD + PDU_NOP_IN_RSVD_LEN, PDU_BHS_LEN);
	ck_assert_uint_eq(PDU_NOP_OUT_RSVD + PDU_NOP_OUT_RSVD_LEN, PDU_BHS_LEN);
	ck_assert_uint_eq(PDU_CMD_CDB + PDU_CMD_CDB_LEN, PDU_BHS_LEN);
}
END_TEST

START_TEST(header_fields)
{
	uint8_t b[PDU_BHS_LEN] = { 0 };

	b[0] = 0x41; /* I bit, SCSI Command */
	b[4] = 3;    /* three AHS words */
	b[5] = 0x01;
	b[6] = 0x02;
	b[7] = 0x03;
	ck_assert_uint_eq(pdu_opcode(b), OP_SCSI_CMD);
	ck_assert_uint_eq(pdu_dsl(b), 0x010203);
	ck_assert_uint_eq(pdu_ahs_bytes(b), 12);
	b[0] = 0xff; /* reserved and I bits are not the opcode */
	ck_assert_uint_eq(pdu_opcode(b), 0x3f);
	b[5] = b[6] = b[7] = 0xff;
	ck_assert_uint_eq(pdu_dsl(b), 0xffffff);
}
END_TEST

START_TEST(padding_and_wire_length)
{
	static const uint32_t pad[][2] = {
		{ 0, 0 }, { 1, 4 }, { 3, 4 }, { 4, 4 }, { 5, 8 }, { 8191, 8192 }, { 0xffffff, 0x1000000 },
	};
	for (size_t i = 0; i < sizeof(pad) / sizeof(pad[0]); i++)
		ck_assert_uint_eq(pdu_pad4(pad[i][0]), pad[i][1]);

	uint8_t b[PDU_BHS_LEN] = { OP_DATA_OUT };
	struct pdu_digests none = { false, false }, hd = { true, false }, dd = { false, true },
			   both = { true, true };

	/* no data segment: no data digest either (11.2.3) */
	ck_assert_uint_eq(pdu_header_len(b, none), 48);
	ck_assert_uint_eq(pdu_wire_len(b, none), 48);
	ck_assert_uint_eq(pdu_wire_len(b, dd), 48);
	ck_assert_uint_eq(pdu_wire_len(b, both), 52);
	/* 5 bytes of data: padded to 8 */
	b[7] = 5;
	ck_assert_uint_eq(pdu_wire_len(b, none), 56);
	ck_assert_uint_eq(pdu_wire_len(b, hd), 60);
	ck_assert_uint_eq(pdu_wire_len(b, dd), 60);
	ck_assert_uint_eq(pdu_wire_len(b, both), 64);
	/* two AHS words sit between the BHS and the header digest */
	b[4] = 2;
	ck_assert_uint_eq(pdu_header_len(b, hd), 48 + 8 + 4);
	ck_assert_uint_eq(pdu_wire_len(b, both), 48 + 8 + 4 + 8 + 4);
	/* the largest PDU: no 32-bit overflow */
	b[4] = 255;
	b[5] = b[6] = b[7] = 0xff;
	ck_assert_uint_eq(pdu_wire_len(b, both), 48u + 1020u + 4u + 0x1000000u + 4u);
}
END_TEST

/* RFC 3720 B.4 (CRC32C examples, carried over by RFC 7143 12.1) and the
 * CRC-32C check value of "123456789". */
START_TEST(crc32c_check_values)
{
	uint8_t b[32];

	memset(b, 0, sizeof(b));
	ck_assert_uint_eq(mirror_pdu_crc32c(b, 32), 0x8a9136aa);
	memset(b, 0xff, sizeof(b));
	ck_assert_uint_eq(mirror_pdu_crc32c(b, 32), 0x62a8ab43);
	for (int i = 0; i < 32; i++)
		b[i] = (uint8_t)i;
	ck_assert_uint_eq(mirror_pdu_crc32c(b, 32), 0x46dd794e);
	for (int i = 0; i < 32; i++)
		b[i] = (uint8_t)(31 - i);
	ck_assert_uint_eq(mirror_pdu_crc32c(b, 32), 0x113fdb5c);
	ck_assert_uint_eq(mirror_pdu_crc32c((const uint8_t *)"123456789", 9), 0xe3069283);
}
END_TEST

START_TEST(digests_checked_in_place)
{
	uint8_t p[PDU_BHS_LEN + 8 + 4 + 8 + 4];
	struct test_rng r;

	test_rng_init(&r, test_seed());
	for (size_t i = 0; i < sizeof(p); i++)
		p[i] = (uint8_t)test_rng_next(&r);
	p[PDU_TOTAL_AHS_LEN] = 2;
	/* header digest: after BHS and AHS, least significant byte first */
	uint32_t h = mirror_pdu_crc32c(p, 56);
	for (int i = 0; i < 4; i++)
		p[56 + i] = (uint8_t)(h >> (8 * i));
	ck_assert(mirror_pdu_header_digest_ok(p));
	p[50] ^= 0x10; /* an AHS byte is covered */
	ck_assert(!mirror_pdu_header_digest_ok(p));
	p[50] ^= 0x10;
	p[59] ^= 0x01; /* so is the digest's last byte */
	ck_assert(!mirror_pdu_header_digest_ok(p));
	p[59] ^= 0x01;
	ck_assert(mirror_pdu_header_digest_ok(p));

	/* data digest over 5 bytes of data and 3 of padding */
	uint8_t *d = p + 60;
	d[5] = d[6] = d[7] = 0;
	uint32_t dg = mirror_pdu_crc32c(d, 8);
	for (int i = 0; i < 4; i++)
		d[8 + i] = (uint8_t)(dg >> (8 * i));
	ck_assert(mirror_pdu_data_digest_ok(d, 5));
	d[7] = 1; /* the padding is under the digest too */
	ck_assert(!mirror_pdu_data_digest_ok(d, 5));
}
END_TEST

START_TEST(opcode_sender)
{
	static const uint8_t initiator[] = { OP_NOP_OUT, OP_SCSI_CMD, OP_TMF_REQ, OP_LOGIN_REQ,
					     OP_TEXT_REQ, OP_DATA_OUT, OP_LOGOUT_REQ, OP_SNACK };
	static const uint8_t target[] = { OP_NOP_IN, OP_SCSI_RSP, OP_TMF_RSP, OP_LOGIN_RSP,
					  OP_TEXT_RSP, OP_DATA_IN, OP_LOGOUT_RSP, OP_R2T,
					  OP_ASYNC_MSG, OP_REJECT };
	unsigned n_init = 0, n_tgt = 0;

	for (size_t i = 0; i < sizeof(initiator); i++)
		ck_assert_int_eq(mirror_pdu_opcode_sender(initiator[i]), PDU_FROM_INITIATOR);
	for (size_t i = 0; i < sizeof(target); i++)
		ck_assert_int_eq(mirror_pdu_opcode_sender(target[i]), PDU_FROM_TARGET);
	/* every other opcode is reserved or vendor specific */
	for (unsigned op = 0; op < 64; op++) {
		enum pdu_sender s = mirror_pdu_opcode_sender((uint8_t)op);
		n_init += s == PDU_FROM_INITIATOR;
		n_tgt += s == PDU_FROM_TARGET;
		if (op >= 0x07 && op <= 0x0f)
			ck_assert_int_eq(s, PDU_FROM_NONE);
	}
	ck_assert_uint_eq(n_init, sizeof(initiator));
	ck_assert_uint_eq(n_tgt, sizeof(target));
	ck_assert_int_eq(mirror_pdu_opcode_sender(0x1c), PDU_FROM_NONE);
	ck_assert_int_eq(mirror_pdu_opcode_sender(0x3c), PDU_FROM_NONE);
	/* only the opcode bits count: byte 0 of an immediate Login Request */
	ck_assert_int_eq(mirror_pdu_opcode_sender(0x43), PDU_FROM_INITIATOR);
	ck_assert_int_eq(mirror_pdu_opcode_sender(0xff), PDU_FROM_TARGET);
}
END_TEST

/* RFC 1982 serial arithmetic, across the wrap. */
START_TEST(serial_number_order)
{
	ck_assert(pdu_sn_lt(1, 2));
	ck_assert(!pdu_sn_lt(2, 1));
	ck_assert(!pdu_sn_lt(5, 5));
	ck_assert(pdu_sn_lt(0xfffffff0u, 0x10));
	ck_assert(!pdu_sn_lt(0x10, 0xfffffff0u));
	ck_assert(pdu_sn_lt(0xffffffffu, 0));
	ck_assert(pdu_sn_lt(0, 0x7fffffffu));
	ck_assert(!pdu_sn_lt(0x7fffffffu, 0));
}
END_TEST

/* ---- cursor.h ---- */

/* 16 readable bytes 01..10, then canaries the cursor must never read. */
static uint8_t mem[20] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
			   0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0xee, 0xee, 0xee, 0xee };
#define MEM_LEN 16u

START_TEST(cursor_forward_reads)
{
	struct cursor c;

	cur_init(&c, mem, MEM_LEN);
	ck_assert(cur_ok(&c));
	ck_assert_uint_eq(cur_left(&c), 16);
	ck_assert_uint_eq(cur_u8(&c), 0x01);
	ck_assert_uint_eq(cur_be16(&c), 0x0203);
	ck_assert_uint_eq(cur_be24(&c), 0x040506);
	ck_assert_uint_eq(cur_be32(&c), 0x0708090a);
	ck_assert_uint_eq(cur_offset(&c), 10);
	ck_assert_uint_eq(cur_left(&c), 6);
	ck_assert_uint_eq(cur_le32(&c), 0x0e0d0c0b);
	ck_assert_uint_eq(cur_left(&c), 2);
	ck_assert(cur_ok(&c));

	cur_init(&c, mem, MEM_LEN);
	ck_assert_uint_eq(cur_be64(&c), 0x0102030405060708ull);
	cur_skip(&c, 4);
	uint8_t d[4];
	cur_copy(&c, d, 4);
	ck_assert(memcmp(d, mem + 12, 4) == 0);
	ck_assert_uint_eq(cur_left(&c), 0);
	ck_assert(cur_ok(&c)); /* ending exactly at the end is not short */
}
END_TEST

START_TEST(cursor_short_read_is_sticky)
{
	struct cursor c;

	cur_init(&c, mem, MEM_LEN);
	cur_skip(&c, 14);
	/* 4 bytes wanted, 2 left: zero, not the canaries, and the flag */
	ck_assert_uint_eq(cur_be32(&c), 0);
	ck_assert(!cur_ok(&c));
	ck_assert_uint_eq(cur_offset(&c), MEM_LEN);
	ck_assert_uint_eq(cur_left(&c), 0);
	/* a read that fits afterwards returns its byte, and the flag stays */
	ck_assert_uint_eq(cur_u8_at(&c, 0), 0x01);
	ck_assert(!cur_ok(&c));
	ck_assert_uint_eq(cur_u8(&c), 0);
	ck_assert(!cur_ok(&c));

	/* a short copy fills zeros */
	uint8_t d[4] = { 0xaa, 0xaa, 0xaa, 0xaa };
	cur_init(&c, mem, MEM_LEN);
	cur_skip(&c, 13);
	cur_copy(&c, d, 4);
	ck_assert(!cur_ok(&c));
	for (int i = 0; i < 4; i++)
		ck_assert_uint_eq(d[i], 0);

	/* no buffer: every read is short */
	cur_init(&c, NULL, 5);
	ck_assert_uint_eq(cur_left(&c), 0);
	ck_assert_uint_eq(cur_u8(&c), 0);
	ck_assert(!cur_ok(&c));
}
END_TEST

START_TEST(cursor_reads_at_offsets)
{
	struct cursor c;

	cur_init(&c, mem, MEM_LEN);
	ck_assert_uint_eq(cur_be32_at(&c, 12), 0x0d0e0f10); /* the last four */
	ck_assert_uint_eq(cur_be16_at(&c, 4), 0x0506);
	ck_assert_uint_eq(cur_be24_at(&c, 13), 0x0e0f10);
	ck_assert_uint_eq(cur_le32_at(&c, 0), 0x04030201);
	ck_assert_uint_eq(cur_offset(&c), 0); /* reads at an offset do not move */
	ck_assert(cur_ok(&c));
	ck_assert_ptr_eq(cur_take_at(&c, MEM_LEN, 0), mem + MEM_LEN);
	ck_assert(cur_ok(&c));

	ck_assert_uint_eq(cur_be32_at(&c, 13), 0); /* one byte over: not 0x0e0f10ee */
	ck_assert(!cur_ok(&c));
	ck_assert_uint_eq(cur_offset(&c), 0);

	/* bounds that would wrap a size_t */
	cur_init(&c, mem, MEM_LEN);
	ck_assert(!cur_has_at(&c, SIZE_MAX, 1));
	ck_assert(!cur_has_at(&c, 1, SIZE_MAX));
	ck_assert(!cur_has_at(&c, MEM_LEN + 1, 0));
	ck_assert(cur_has_at(&c, 0, MEM_LEN));
	ck_assert(cur_ok(&c)); /* asking does not set the flag */
	ck_assert_ptr_null(cur_take_at(&c, SIZE_MAX, 2));
	ck_assert(!cur_ok(&c));

	uint8_t d[3];
	cur_init(&c, mem, MEM_LEN);
	cur_copy_at(&c, 5, d, 3);
	ck_assert_uint_eq(d[0], 0x06);
	ck_assert_uint_eq(d[2], 0x08);
	ck_assert(cur_ok(&c));
	cur_copy_at(&c, 14, d, 3);
	ck_assert(!cur_ok(&c));
	ck_assert_uint_eq(d[0] | d[1] | d[2], 0);
}
END_TEST

START_TEST(cursor_zero_and_records)
{
	static const uint8_t z[] = { 0, 0, 0, 1, 0 };
	static const uint8_t txt[] = "Key=V\0\0Other=1\0cut";
	struct cursor c;
	size_t n = 99;
	const uint8_t *rec;

	cur_init(&c, z, sizeof(z));
	ck_assert(cur_zero_at(&c, 0, 3));
	ck_assert(!cur_zero_at(&c, 1, 3));
	ck_assert(cur_zero_at(&c, 4, 1));
	ck_assert(cur_ok(&c));
	ck_assert(!cur_zero_at(&c, 4, 2)); /* past the end: not zero, and short */
	ck_assert(!cur_ok(&c));

	/* sizeof - 1: the string's own terminator is not part of the text */
	cur_init(&c, txt, sizeof(txt) - 1);
	rec = cur_take_until(&c, '\0', &n);
	ck_assert_ptr_eq(rec, txt);
	ck_assert_uint_eq(n, 5);
	ck_assert_uint_eq(cur_offset(&c), 6);
	rec = cur_take_until(&c, '\0', &n); /* an empty record */
	ck_assert_ptr_eq(rec, txt + 6);
	ck_assert_uint_eq(n, 0);
	rec = cur_take_until(&c, '\0', &n);
	ck_assert_uint_eq(n, 7);
	ck_assert(memcmp(rec, "Other=1", 7) == 0);
	/* "cut" has no NUL: nothing consumed, no flag (the caller decides) */
	ck_assert_ptr_null(cur_take_until(&c, '\0', &n));
	ck_assert_uint_eq(cur_offset(&c), 15);
	ck_assert_uint_eq(cur_left(&c), 3);
	ck_assert(cur_ok(&c));
	cur_skip(&c, 3);
	ck_assert_ptr_null(cur_take_until(&c, '\0', &n));
	ck_assert(cur_ok(&c));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pdu");
	TCase *t = tcase_create("pdu");
	tcase_add_test(t, offsets_are_rfc7143);
	tcase_add_test(t, header_fields);
	tcase_add_test(t, padding_and_wire_length);
	tcase_add_test(t, crc32c_check_values);
	tcase_add_test(t, digests_checked_in_place);
	tcase_add_test(t, opcode_sender);
	tcase_add_test(t, serial_number_order);
	suite_add_tcase(s, t);
	t = tcase_create("cursor");
	tcase_add_test(t, cursor_forward_reads);
	tcase_add_test(t, cursor_short_read_is_sticky);
	tcase_add_test(t, cursor_reads_at_offsets);
	tcase_add_test(t, cursor_zero_and_records);
	suite_add_tcase(s, t);
	return test_run_suite(s);
}
