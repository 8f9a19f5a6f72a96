/* The host-port logical unit's SCSI layer (app/pair/sbc.h): every command
 * a host sends a pair's LUN (README "The controller pair"), with the answers written out from the standards (SPC-4,
 * SBC-3, SAM-5), independent of the code: verdicts and ranges of the
 * media commands, byte-exact data-in, status, sense key/ASC/ASCQ and, for
 * ILLEGAL REQUEST, the field pointer (SPC-4 4.5.2.4.2); implicit ALUA
 * (SPC-4 5.15): what standby and transitioning refuse, REPORT TARGET
 * PORT GROUPS, and unit attentions once per I_T nexus. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "app/pair/sbc.h"
#include "iscsi/target.h"
#include "testutil.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define CAP 0x10000u /* blocks of the test LU: 32 MiB */
#define NEXUS 0x1111u
#define NEXUS2 0x2222u

static const uint8_t NAA[16] = { 0x60, 0x01, 0x40, 0x5f, 0x11, 0x22, 0x33, 0x44,
				 0x55, 0x66, 0x77, 0x88, 0x00, 0x00, 0x00, 0x03 };

/* LUN 3 as controller A's port shows it (group 1, relative port 1), or as
 * B's (group 2, port 2): the partner's view of the same logical unit. */
static void config(struct mirror_sbc_lu_config *c, bool at_b)
{
	memset(c, 0, sizeof(*c));
	c->lun = 3;
	c->blocks = CAP;
	memcpy(c->naa, NAA, sizeof(NAA));
	strcpy(c->serial, "SER-0003");
	c->local_tpg = c->local_rel_port = at_b ? 2 : 1;
	c->remote_tpg = c->remote_rel_port = at_b ? 1 : 2;
	c->transition_secs = 10;
	c->local_state = at_b ? MIRROR_ALUA_STANDBY : MIRROR_ALUA_ACTIVE_OPTIMIZED;
	c->remote_state = at_b ? MIRROR_ALUA_ACTIVE_OPTIMIZED : MIRROR_ALUA_STANDBY;
}

static struct mirror_sbc_lu lu, lu_b;
static struct mirror_sbc_port port;
static struct mirror_sbc_verdict v;

static void setup(void)
{
	struct mirror_sbc_lu_config c;
	const uint32_t luns[] = { 0, 3, 300 };
	char why[160];

	config(&c, false);
	ck_assert_int_eq(mirror_sbc_lu_init(&lu, &c, why, sizeof(why)), 0);
	config(&c, true);
	ck_assert_int_eq(mirror_sbc_lu_init(&lu_b, &c, why, sizeof(why)), 0);
	ck_assert_int_eq(mirror_sbc_port_init(&port, luns, ARRAY_LEN(luns), why, sizeof(why)), 0);
}

/* One command of cdb_len bytes given as ints. */
static void run(struct mirror_sbc_lu *l, uint64_t nexus, enum mirror_xfer_dir dir,
		uint32_t edtl, unsigned cdb_len, ...)
{
	uint8_t cdb[16];
	va_list ap;

	va_start(ap, cdb_len);
	for (unsigned i = 0; i < cdb_len; i++)
		cdb[i] = (uint8_t)va_arg(ap, int);
	va_end(ap);
	/* canary: data[] beyond data_len is not the answer */
	memset(v.data, 0xA5, sizeof(v.data));
	ck_assert_int_eq(mirror_sbc_decode(l, &port, nexus, cdb, cdb_len, dir, edtl, &v), 0);
}

#define IN MIRROR_DIR_IN
#define OUT MIRROR_DIR_OUT
#define NONE MIRROR_DIR_NONE

static void assert_good(void)
{
	ck_assert_msg(v.status == MIRROR_STATUS_GOOD, "status 0x%02X: %s", v.status, v.why);
	ck_assert_uint_eq(v.sense_len, 0);
	ck_assert_str_eq(v.why, "");
}

/* CHECK CONDITION with fixed-format sense (response code 70h, additional
 * length 0Ah) of key/asc/ascq and no sense-key-specific data. */
static void assert_sense(uint8_t key, uint8_t asc, uint8_t ascq)
{
	ck_assert_int_eq(v.kind, MIRROR_SBC_RESPOND);
	ck_assert_uint_eq(v.status, MIRROR_STATUS_CHECK_CONDITION);
	ck_assert_uint_eq(v.sense_len, 18);
	ck_assert_uint_eq(v.sense[0], 0x70);
	ck_assert_uint_eq(v.sense[2], key);
	ck_assert_uint_eq(v.sense[7], 0x0A);
	ck_assert_uint_eq(v.sense[12], asc);
	ck_assert_uint_eq(v.sense[13], ascq);
	ck_assert_uint_eq(v.data_len, 0);
	ck_assert_str_ne(v.why, "");
}

static void assert_no_field_pointer(void)
{
	ck_assert_uint_eq(v.sense[15], 0);
	ck_assert_uint_eq(v.sense[16], 0);
	ck_assert_uint_eq(v.sense[17], 0);
}

/* ILLEGAL REQUEST asc/00h, SKSV 1, C/D 1 (the CDB), BPV 1 with the bit,
 * FIELD POINTER the byte. */
static void assert_invalid(uint8_t asc, unsigned byte, unsigned bit)
{
	assert_sense(MIRROR_SK_ILLEGAL_REQUEST, asc, 0x00);
	ck_assert_msg(v.sense[15] == (0x80 | 0x40 | 0x08 | bit),
		      "sense byte 15 0x%02X, want field pointer bit %u (%s)", v.sense[15], bit, v.why);
	ck_assert_msg(v.sense[16] == 0 && v.sense[17] == byte,
		      "field pointer byte %u, want %u (%s)", v.sense[16] << 8 | v.sense[17], byte,
		      v.why);
}

static void assert_data(const uint8_t *want, uint32_t len)
{
	assert_good();
	ck_assert_int_eq(v.kind, MIRROR_SBC_RESPOND);
	ck_assert_uint_eq(v.data_len, len);
	for (uint32_t i = 0; i < len; i++)
		ck_assert_msg(v.data[i] == want[i], "data-in byte %u: 0x%02X, want 0x%02X", i,
			      v.data[i], want[i]);
}

/* ---- READ / WRITE ---- */

START_TEST(test_read_write)
{
	/* READ(10) LBA 10h, 8 blocks */
	run(&lu, NEXUS, IN, 4096, 10, 0x28, 0, 0, 0, 0, 0x10, 0, 0, 8, 0);
	assert_good();
	ck_assert_int_eq(v.kind, MIRROR_SBC_READ);
	ck_assert_uint_eq(v.lba, 0x10);
	ck_assert_uint_eq(v.blocks, 8);
	ck_assert(!v.fua);
	ck_assert_uint_eq(v.data_len, 4096);
	/* READ(10) FUA (byte 1 bit 3), DPO (bit 4): allowed */
	run(&lu, NEXUS, IN, 512, 10, 0x28, 0x18, 0, 0, 0, 0, 0, 0, 1, 0);
	ck_assert_int_eq(v.kind, MIRROR_SBC_READ);
	ck_assert(v.fua);
	/* READ(16): the last 8 blocks; an EDTL short of them cuts the data-in */
	run(&lu, NEXUS, IN, 1024, 16, 0x88, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xF8, 0, 0, 0, 8, 0, 0);
	ck_assert_int_eq(v.kind, MIRROR_SBC_READ);
	ck_assert_uint_eq(v.lba, CAP - 8);
	ck_assert_uint_eq(v.blocks, 8);
	ck_assert_uint_eq(v.data_len, 1024);
	ck_assert_uint_eq(v.data_overflow, 3072);
	/* WRITE(10) FUA, 2 blocks at 1000h */
	run(&lu, NEXUS, OUT, 1024, 10, 0x2A, 0x08, 0, 0, 0x10, 0, 0, 0, 2, 0);
	assert_good();
	ck_assert_int_eq(v.kind, MIRROR_SBC_WRITE);
	ck_assert_uint_eq(v.lba, 0x1000);
	ck_assert_uint_eq(v.blocks, 2);
	ck_assert(v.fua);
	ck_assert_uint_eq(v.data_len, 1024);
	/* WRITE(16) without FUA */
	run(&lu, NEXUS, OUT, 512, 16, 0x8A, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 1, 0, 0);
	ck_assert_int_eq(v.kind, MIRROR_SBC_WRITE);
	ck_assert_uint_eq(v.lba, 5);
	ck_assert(!v.fua);
	/* TRANSFER LENGTH 0: GOOD, nothing moves (SBC-3 5.11) */
	run(&lu, NEXUS, OUT, 0, 10, 0x2A, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	assert_good();
	ck_assert_int_eq(v.kind, MIRROR_SBC_RESPOND);
	ck_assert_uint_eq(v.data_len, 0);
	/* a write with less data-out than its blocks: TRANSFER LENGTH */
	run(&lu, NEXUS, OUT, 512, 10, 0x2A, 0, 0, 0, 0, 0, 0, 0, 2, 0);
	assert_invalid(0x24, 7, 7);
	/* over the Block Limits maximum transfer length */
	run(&lu, NEXUS, IN, 0, 16, 0x88, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x01, 0, 0);
	assert_invalid(0x24, 10, 7);
	/* RDPROTECT / WRPROTECT (byte 1 bits 7-5): no protection information */
	run(&lu, NEXUS, IN, 512, 10, 0x28, 0x20, 0, 0, 0, 0, 0, 0, 1, 0);
	assert_invalid(0x24, 1, 7);
	run(&lu, NEXUS, OUT, 512, 16, 0x8A, 0x60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0);
	assert_invalid(0x24, 1, 7);
	/* a READ with data-out is not a READ */
	run(&lu, NEXUS, OUT, 512, 10, 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0);
	assert_sense(MIRROR_SK_ILLEGAL_REQUEST, 0x20, 0x00);
}
END_TEST

/* LOGICAL BLOCK ADDRESS OUT OF RANGE 21h/00h, no field pointer (SBC-3
 * 4.5): past the end, across it, and an LBA at the capacity with no
 * blocks. */
START_TEST(test_out_of_range)
{
	run(&lu, NEXUS, IN, 1024, 10, 0x28, 0, 0, 0, 0xFF, 0xFF, 0, 0, 2, 0);
	assert_sense(MIRROR_SK_ILLEGAL_REQUEST, 0x21, 0x00);
	assert_no_field_pointer();
	run(&lu, NEXUS, OUT, 512, 10, 0x2A, 0, 0, 1, 0, 0, 0, 0, 1, 0);
	assert_sense(MIRROR_SK_ILLEGAL_REQUEST, 0x21, 0x00);
	run(&lu, NEXUS, IN, 512, 16, 0x88, 0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0);
	assert_sense(MIRROR_SK_ILLEGAL_REQUEST, 0x21, 0x00);
	/* LBA + blocks wraps 64 bits */
	run(&lu, NEXUS, OUT, 1024, 16, 0x8A, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0,
	    0, 0, 2, 0, 0);
	assert_sense(MIRROR_SK_ILLEGAL_REQUEST, 0x21, 0x00);
	run(&lu, NEXUS, IN, 0, 10, 0x28, 0, 0, 0, 0x00, 0x01, 0, 0, 0, 0); /* LBA 1 ok */
	assert_good();
	run(&lu, NEXUS, IN, 0, 16, 0x88, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0);
	assert_sense(MIRROR_SK_ILLEGAL_REQUEST, 0x21, 0x00);
	run(&lu, NEXUS, NONE, 0, 10, 0x35, 0, 0, 1, 0, 0, 0, 0, 0, 0);
	assert_sense(MIRROR_SK_ILLEGAL_REQUEST, 0x21, 0x00);
}
END_TEST

START_TEST(test_sync_cache)
{
	/* NUMBER OF LOGICAL BLOCKS 0: from the LBA to the end */
	run(&lu, NEXUS, NONE, 0, 10, 0x35, 0, 0, 0, 0x01, 0, 0, 0, 0, 0);
	assert_good();
	ck_assert_int_eq(v.kind, MIRROR_SBC_SYNC);
	ck_assert_uint_eq(v.lba, 0x100);
	ck_assert(v.all);
	ck_assert_uint_eq(v.blocks, CAP - 0x100);
	ck_assert(!v.immed);
	/* (16) with IMMED (byte 1 bit 1) */
	run(&lu, NEXUS, NONE, 0, 16, 0x91, 0x02, 0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 10, 0, 0);
	ck_assert_int_eq(v.kind, MIRROR_SBC_SYNC);
	ck_assert_uint_eq(v.lba, 100);
	ck_assert_uint_eq(v.blocks, 10);
	ck_assert(!v.all);
	ck_assert(v.immed);
	/* a reserved bit of byte 1 (bit 7) */
	run(&lu, NEXUS, NONE, 0, 10, 0x35, 0x80, 0, 0, 0, 0, 0, 0, 0, 0);
	assert_invalid(0x24, 1, 7);
}
END_TEST

/* ---- READ CAPACITY ---- */

START_TEST(test_read_capacity)
{
	static const uint8_t rc10[8] = { 0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00, 0x02, 0x00 };
	uint8_t rc16[32] = { 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0x00, 0x00, 0x02, 0x00 };

	run(&lu, NEXUS, IN, 8, 10, 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	assert_data(rc10, 8);
	run(&lu, NEXUS, IN, 32, 16, 0x9E, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0);
	assert_data(rc16, 32);
	/* ALLOCATION LENGTH 12: cut, no error */
	run(&lu, NEXUS, IN, 12, 16, 0x9E, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12, 0, 0);
	assert_data(rc16, 12);
	/* an LBA without PMI (SBC-3: must be 0) */
	run(&lu, NEXUS, IN, 8, 10, 0x25, 0, 0, 0, 0, 1, 0, 0, 0, 0);
	assert_invalid(0x24, 2, 7);
	/* SERVICE ACTION IN(16) with another service action */
	run(&lu, NEXUS, IN, 32, 16, 0x9E, 0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0);
	assert_invalid(0x24, 1, 4);
}
END_TEST

/* ---- INQUIRY ---- */

START_TEST(test_inquiry_standard)
{
	uint8_t want[96] = { 0x00, 0x00, 0x06, 0x12, 91, 0x10, 0x10, 0x02 };

	memcpy(want + 8, "MIRRTESTPAIR-LUN        0001", 28);
	/* version descriptors: SAM-5, iSCSI, SPC-4, SBC-3 */
	memcpy(want + 58, "\x00\xA0\x09\x60\x04\x60\x04\xC0", 8);
	run(&lu, NEXUS, IN, 96, 6, 0x12, 0, 0, 0, 96, 0);
	assert_data(want, 96);
	/* TPGS (byte 5 bits 5-4) = 01b: implicit ALUA only */
	ck_assert_uint_eq((v.data[5] >> 4) & 3, 1);
	/* ALLOCATION LENGTH 36 */
	run(&lu, NEXUS, IN, 255, 6, 0x12, 0, 0, 0, 36, 0);
	assert_data(want, 36);
	/* a LUN without a logical unit: qualifier 011b, type 1Fh */
	run(NULL, NEXUS, IN, 96, 6, 0x12, 0, 0, 0, 96, 0);
	assert_good();
	ck_assert_uint_eq(v.data[0], 0x7F);
	/* PAGE CODE without EVPD; CMDDT */
	run(&lu, NEXUS, IN, 96, 6, 0x12, 0, 0x80, 0, 96, 0);
	assert_invalid(0x24, 2, 7);
	run(&lu, NEXUS, IN, 96, 6, 0x12, 0x02, 0, 0, 96, 0);
	assert_invalid(0x24, 1, 1);
}
END_TEST

START_TEST(test_inquiry_vpd)
{
	static const uint8_t p00[] = { 0x00, 0x00, 0x00, 0x04, 0x00, 0x80, 0x83, 0xB0 };
	static const uint8_t p80[] = { 0x00, 0x80, 0x00, 0x08, 'S', 'E', 'R', '-', '0', '0', '0', '3' };
	uint8_t p83[4 + 20 + 8 + 8] = {
		0x00, 0x83, 0x00, 36,
		/* NAA, association 00b (the logical unit), binary */
		0x01, 0x03, 0x00, 16,
	};
	static const uint8_t p83_ports_a[16] = {
		/* relative target port 1, iSCSI (5h), PIV 1, target port */
		0x51, 0x94, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01,
		/* target port group 1 */
		0x51, 0x95, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01,
	};
	/* WSNZ, granularity 8, maximum transfer and write same 2048 blocks */
	uint8_t pb0[64] = { 0x00, 0xB0, 0x00, 0x3C, 0x01, 0, 0x00, 0x08, 0x00, 0x00, 0x08, 0x00 };
	uint8_t naa_a[20];

	pb0[42] = 0x08; /* bytes 36-43: MAXIMUM WRITE SAME LENGTH */
	run(&lu, NEXUS, IN, 255, 6, 0x12, 1, 0x00, 0, 255, 0);
	assert_data(p00, sizeof(p00));
	run(&lu, NEXUS, IN, 255, 6, 0x12, 1, 0x80, 0, 255, 0);
	assert_data(p80, sizeof(p80));
	memcpy(p83 + 8, NAA, 16);
	memcpy(p83 + 24, p83_ports_a, 16);
	run(&lu, NEXUS, IN, 255, 6, 0x12, 1, 0x83, 0, 255, 0);
	assert_data(p83, sizeof(p83));
	memcpy(naa_a, v.data + 4, 20);
	/* through B: the same NAA descriptor, B's port and group (2) */
	run(&lu_b, NEXUS, IN, 255, 6, 0x12, 1, 0x83, 0, 255, 0);
	assert_good();
	ck_assert_uint_eq(v.data_len, sizeof(p83));
	ck_assert_mem_eq(v.data + 4, naa_a, 20);
	ck_assert_uint_eq(v.data[31], 2);
	ck_assert_uint_eq(v.data[39], 2);
	run(&lu, NEXUS, IN, 255, 6, 0x12, 1, 0xB0, 0, 255, 0);
	assert_data(pb0, sizeof(pb0));
	/* ALLOCATION LENGTH 4: the header only */
	run(&lu, NEXUS, IN, 4, 6, 0x12, 1, 0x83, 0, 4, 0);
	assert_data(p83, 4);
	/* an unsupported page: PAGE CODE */
	run(&lu, NEXUS, IN, 255, 6, 0x12, 1, 0x89, 0, 255, 0);
	assert_invalid(0x24, 2, 7);
	/* no logical unit: no product data */
	run(NULL, NEXUS, IN, 255, 6, 0x12, 1, 0x80, 0, 255, 0);
	assert_sense(MIRROR_SK_ILLEGAL_REQUEST, 0x25, 0x00);
}
END_TEST

/* ---- MODE SENSE ---- */

START_TEST(test_mode_sense)
{
	static const uint8_t caching[20] = { 0x08, 0x12 };
	static const uint8_t control[12] = { 0x0A, 0x0A, 0x02 };
	uint8_t want[64];

	/* (6), DBD, Caching: header 4 bytes + the page */
	memset(want, 0, sizeof(want));
	want[0] = 3 + 20;
	want[2] = 0x10; /* DPOFUA */
	memcpy(want + 4, caching, 20);
	run(&lu, NEXUS, IN, 255, 6, 0x1A, 0x08, 0x08, 0, 255, 0);
	assert_data(want, 24);
	/* (6), Control, with the short block descriptor (blocks, 512) */
	memset(want, 0, sizeof(want));
	want[0] = 3 + 8 + 12;
	want[2] = 0x10;
	want[3] = 8;
	memcpy(want + 4, "\x00\x01\x00\x00\x00\x00\x02\x00", 8);
	memcpy(want + 12, control, 12);
	run(&lu, NEXUS, IN, 255, 6, 0x1A, 0, 0x0A, 0, 255, 0);
	assert_data(want, 24);
	/* (10), LLBAA, all pages: long descriptor, Caching then Control */
	memset(want, 0, sizeof(want));
	want[1] = 6 + 16 + 20 + 12;
	want[3] = 0x10;
	want[4] = 0x01; /* LONGLBA */
	want[7] = 16;
	memcpy(want + 8, "\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00", 16);
	memcpy(want + 24, caching, 20);
	memcpy(want + 44, control, 12);
	run(&lu, NEXUS, IN, 255, 10, 0x5A, 0x10, 0x3F, 0, 0, 0, 0, 0, 255, 0);
	assert_data(want, 56);
	/* (10), changeable values of Control: GLTSD not changeable */
	run(&lu, NEXUS, IN, 255, 10, 0x5A, 0x08, 0x4A, 0, 0, 0, 0, 0, 255, 0);
	assert_good();
	ck_assert_uint_eq(v.data_len, 8 + 12);
	ck_assert_uint_eq(v.data[10], 0x00);
	/* PC 11b (saved): SAVING PARAMETERS NOT SUPPORTED, field PC */
	run(&lu, NEXUS, IN, 255, 6, 0x1A, 0, 0xC8, 0, 255, 0);
	assert_invalid(0x39, 2, 7);
	/* an unsupported page: PAGE CODE (byte 2 bits 5-0) */
	run(&lu, NEXUS, IN, 255, 6, 0x1A, 0, 0x1C, 0, 255, 0);
	assert_invalid(0x24, 2, 5);
	/* a subpage */
	run(&lu, NEXUS, IN, 255, 6, 0x1A, 0, 0x0A, 0x01, 255, 0);
	assert_invalid(0x24, 3, 7);
}
END_TEST

/* ---- REPORT LUNS, TEST UNIT READY, REQUEST SENSE ---- */

START_TEST(test_report_luns)
{
	static const uint8_t want[32] = {
		0, 0, 0, 24, 0, 0, 0, 0,
		0x00, 0x00, 0, 0, 0, 0, 0, 0,
		0x00, 0x03, 0, 0, 0, 0, 0, 0,
		0x41, 0x2C, 0, 0, 0, 0, 0, 0, /* 300: flat space addressing */
	};
	static const uint8_t wk[8] = { 0 };

	run(&lu, NEXUS, IN, 255, 12, 0xA0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 0, 0);
	assert_data(want, 32);
	/* from a LUN without a logical unit, and cut to 16 bytes */
	run(NULL, NEXUS, IN, 16, 12, 0xA0, 0, 2, 0, 0, 0, 0, 0, 0, 16, 0, 0);
	assert_data(want, 16);
	/* SELECT REPORT 01h: no well known logical units */
	run(&lu, NEXUS, IN, 255, 12, 0xA0, 0, 1, 0, 0, 0, 0, 0, 0, 255, 0, 0);
	assert_data(wk, 8);
	run(&lu, NEXUS, IN, 255, 12, 0xA0, 0, 3, 0, 0, 0, 0, 0, 0, 255, 0, 0);
	assert_invalid(0x24, 2, 7);
}
END_TEST

START_TEST(test_tur_request_sense)
{
	static const uint8_t no_sense[18] = { 0x70, 0, 0x00, 0, 0, 0, 0, 0x0A };
	uint8_t not_supported[18] = { 0x70, 0, 0x05, 0, 0, 0, 0, 0x0A, 0, 0, 0, 0, 0x25 };

	run(&lu, NEXUS, NONE, 0, 6, 0x00, 0, 0, 0, 0, 0);
	assert_good();
	ck_assert_uint_eq(v.data_len, 0);
	run(&lu, NEXUS, NONE, 0, 6, 0x00, 0, 0, 1, 0, 0);
	assert_invalid(0x24, 3, 7);
	/* NACA in the CONTROL byte (bit 2): ACA is not supported */
	run(&lu, NEXUS, NONE, 0, 6, 0x00, 0, 0, 0, 0, 0x04);
	assert_invalid(0x24, 5, 2);
	run(&lu, NEXUS, IN, 252, 6, 0x03, 0, 0, 0, 252, 0);
	assert_data(no_sense, 18);
	/* DESC: descriptor format is not supported */
	run(&lu, NEXUS, IN, 252, 6, 0x03, 1, 0, 0, 252, 0);
	assert_invalid(0x24, 1, 0);
	/* a LUN without a logical unit: 25h/00h as data, GOOD */
	run(NULL, NEXUS, IN, 252, 6, 0x03, 0, 0, 0, 252, 0);
	assert_data(not_supported, 18);
	/* other commands there: LOGICAL UNIT NOT SUPPORTED */
	run(NULL, NEXUS, NONE, 0, 6, 0x00, 0, 0, 0, 0, 0);
	assert_sense(MIRROR_SK_ILLEGAL_REQUEST, 0x25, 0x00);
}
END_TEST

/* ---- unknown opcodes, bad CDBs ---- */

START_TEST(test_unknown_and_bad_cdb)
{
	/* FORMAT UNIT, an opcode this LU does not have: 20h/00h, no pointer */
	run(&lu, NEXUS, NONE, 0, 6, 0x04, 0, 0, 0, 0, 0);
	assert_sense(MIRROR_SK_ILLEGAL_REQUEST, 0x20, 0x00);
	assert_no_field_pointer();
	run(&lu, NEXUS, IN, 0, 10, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	assert_sense(MIRROR_SK_ILLEGAL_REQUEST, 0x20, 0x00);
	/* a CDB shorter than its command */
	run(&lu, NEXUS, IN, 512, 6, 0x28, 0, 0, 0, 0, 0);
	assert_invalid(0x24, 0, 7);
	/* MAINTENANCE IN with a service action other than RTPG */
	run(&lu, NEXUS, IN, 255, 12, 0xA3, 0x05, 0, 0, 0, 0, 0, 0, 0, 255, 0, 0);
	assert_invalid(0x24, 1, 4);
	/* reserved byte 10 of REPORT LUNS */
	run(&lu, NEXUS, IN, 255, 12, 0xA0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 1, 0);
	assert_invalid(0x24, 10, 7);
	/* a malformed CDB does not take the unit attention (sbc.h order) */
	ck_assert_int_eq(mirror_sbc_alua_set(&lu, MIRROR_ALUA_ACTIVE_NON_OPTIMIZED,
					     MIRROR_ALUA_STANDBY), 1);
	run(&lu, NEXUS, NONE, 0, 6, 0x00, 0, 0, 0, 0, 0x04);
	assert_invalid(0x24, 5, 2);
	ck_assert_uint_eq(mirror_sbc_ua_pending(&lu, NEXUS), MIRROR_SBC_UA_ALUA_CHANGED);
}
END_TEST

/* ---- ALUA ---- */

/* The state of a REPORT TARGET PORT GROUPS descriptor: byte 0 & 0Fh
 * (some libiscsi versions read the wrong nibble). */
static unsigned rtpg_state(unsigned off)
{
	return v.data[off] & 0x0F;
}

START_TEST(test_rtpg)
{
	uint8_t want[32] = {
		0, 0, 0, 28, 0x10, 10, 0, 0,
		/* group 1: active/optimized, T_SUP U_SUP S_SUP AN_SUP AO_SUP */
		0x00, 0x8F, 0x00, 0x01, 0, 0x00, 0, 1, 0, 0, 0x00, 0x01,
		/* group 2: standby */
		0x02, 0x8F, 0x00, 0x02, 0, 0x00, 0, 1, 0, 0, 0x00, 0x02,
	};

	/* extended header (PARAMETER DATA FORMAT 001b), transition time 10 s */
	run(&lu, NEXUS, IN, 255, 12, 0xA3, 0x2A, 0, 0, 0, 0, 0, 0, 0, 255, 0, 0);
	assert_data(want, 32);
	ck_assert_uint_eq(rtpg_state(8), MIRROR_ALUA_ACTIVE_OPTIMIZED);
	ck_assert_uint_eq(rtpg_state(20), MIRROR_ALUA_STANDBY);
	/* through B: the same groups in the same order, same states */
	run(&lu_b, NEXUS, IN, 255, 12, 0xA3, 0x2A, 0, 0, 0, 0, 0, 0, 0, 255, 0, 0);
	assert_data(want, 32);
	/* length-only header: 4 bytes, RETURN DATA LENGTH 24 */
	run(&lu, NEXUS, IN, 255, 12, 0xA3, 0x0A, 0, 0, 0, 0, 0, 0, 0, 255, 0, 0);
	assert_good();
	ck_assert_uint_eq(v.data_len, 28);
	ck_assert_uint_eq(v.data[3], 24);
	ck_assert_mem_eq(v.data + 4, want + 8, 24);
	/* PARAMETER DATA FORMAT 010b */
	run(&lu, NEXUS, IN, 255, 12, 0xA3, 0x4A, 0, 0, 0, 0, 0, 0, 0, 255, 0, 0);
	assert_invalid(0x24, 1, 7);
	/* a change: STATUS CODE 02h (implicit) for the changed groups */
	ck_assert_int_eq(mirror_sbc_alua_set(&lu, MIRROR_ALUA_TRANSITIONING, MIRROR_ALUA_STANDBY), 1);
	run(&lu, NEXUS2, IN, 255, 12, 0xA3, 0x2A, 0, 0, 0, 0, 0, 0, 0, 255, 0, 0);
	assert_good();
	ck_assert_uint_eq(rtpg_state(8), MIRROR_ALUA_TRANSITIONING);
	ck_assert_uint_eq(v.data[13], 0x02);
	ck_assert_uint_eq(rtpg_state(20), MIRROR_ALUA_STANDBY);
	ck_assert_uint_eq(v.data[25], 0x00);
}
END_TEST

START_TEST(test_alua_access)
{
	/* B's port: standby.  Media access and TEST UNIT READY: NOT READY,
	 * LOGICAL UNIT NOT ACCESSIBLE, TARGET PORT IN STANDBY STATE */
	run(&lu_b, NEXUS, IN, 512, 10, 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0);
	assert_sense(MIRROR_SK_NOT_READY, 0x04, 0x0B);
	run(&lu_b, NEXUS, OUT, 512, 16, 0x8A, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0);
	assert_sense(MIRROR_SK_NOT_READY, 0x04, 0x0B);
	run(&lu_b, NEXUS, NONE, 0, 10, 0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	assert_sense(MIRROR_SK_NOT_READY, 0x04, 0x0B);
	run(&lu_b, NEXUS, NONE, 0, 6, 0x00, 0, 0, 0, 0, 0);
	assert_sense(MIRROR_SK_NOT_READY, 0x04, 0x0B);
	/* what standby serves (SPC-4 5.15.2.4.4) */
	run(&lu_b, NEXUS, IN, 8, 10, 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	assert_good();
	run(&lu_b, NEXUS, IN, 255, 6, 0x1A, 0, 0x3F, 0, 255, 0);
	assert_good();
	run(&lu_b, NEXUS, IN, 96, 6, 0x12, 0, 0, 0, 96, 0);
	assert_good();
	/* transitioning: 04h/0Ah, even for MODE SENSE and READ CAPACITY */
	ck_assert_int_eq(mirror_sbc_alua_set(&lu_b, MIRROR_ALUA_TRANSITIONING,
					     MIRROR_ALUA_UNAVAILABLE), 1);
	run(&lu_b, NEXUS2, IN, 512, 16, 0x88, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0);
	assert_sense(MIRROR_SK_NOT_READY, 0x04, 0x0A);
	run(&lu_b, NEXUS2, IN, 8, 10, 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	assert_sense(MIRROR_SK_NOT_READY, 0x04, 0x0A);
	run(&lu_b, NEXUS2, IN, 255, 12, 0xA3, 0x0A, 0, 0, 0, 0, 0, 0, 0, 255, 0, 0);
	assert_good();
	run(&lu_b, NEXUS2, IN, 252, 6, 0x03, 0, 0, 0, 252, 0);
	assert_good();
	/* unavailable: 04h/0Ch */
	ck_assert_int_eq(mirror_sbc_alua_set(&lu_b, MIRROR_ALUA_UNAVAILABLE,
					     MIRROR_ALUA_UNAVAILABLE), 1);
	run(&lu_b, NEXUS2, IN, 8, 10, 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	assert_sense(MIRROR_SK_UNIT_ATTENTION, 0x2A, 0x06);
	run(&lu_b, NEXUS2, IN, 8, 10, 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	assert_sense(MIRROR_SK_NOT_READY, 0x04, 0x0C);
	/* active/optimized: everything through */
	ck_assert_int_eq(mirror_sbc_alua_set(&lu_b, MIRROR_ALUA_ACTIVE_OPTIMIZED,
					     MIRROR_ALUA_STANDBY), 1);
	ck_assert_int_eq(mirror_sbc_alua_set(&lu_b, MIRROR_ALUA_ACTIVE_OPTIMIZED,
					     MIRROR_ALUA_STANDBY), 0);
	ck_assert_int_eq(mirror_sbc_alua_set(&lu_b, (enum mirror_alua_state)5,
					     MIRROR_ALUA_STANDBY), -EINVAL);
	run(&lu_b, NEXUS2, NONE, 0, 6, 0x00, 0, 0, 0, 0, 0);
	assert_sense(MIRROR_SK_UNIT_ATTENTION, 0x2A, 0x06);
	run(&lu_b, NEXUS2, IN, 512, 10, 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0);
	assert_good();
	ck_assert_int_eq(v.kind, MIRROR_SBC_READ);
}
END_TEST

/* ASYMMETRIC ACCESS STATE CHANGED once per I_T nexus that has used the
 * logical unit (SAM-5 5.14, SPC-4 5.15.2.5), whether reported as CHECK
 * CONDITION or as REQUEST SENSE data; INQUIRY neither reports nor clears
 * it; two changes before a report are one report. */
START_TEST(test_unit_attention)
{
	uint8_t ua_sense[18] = { 0x70, 0, 0x06, 0, 0, 0, 0, 0x0A, 0, 0, 0, 0, 0x2A, 0x06 };

	run(&lu, NEXUS, NONE, 0, 6, 0x00, 0, 0, 0, 0, 0);
	assert_good();
	run(&lu, NEXUS2, NONE, 0, 6, 0x00, 0, 0, 0, 0, 0);
	assert_good();
	ck_assert_int_eq(mirror_sbc_alua_set(&lu, MIRROR_ALUA_ACTIVE_NON_OPTIMIZED,
					     MIRROR_ALUA_STANDBY), 1);
	ck_assert_int_eq(mirror_sbc_alua_set(&lu, MIRROR_ALUA_ACTIVE_OPTIMIZED,
					     MIRROR_ALUA_STANDBY), 1);
	/* INQUIRY: no report, still pending */
	run(&lu, NEXUS, IN, 96, 6, 0x12, 0, 0, 0, 96, 0);
	assert_good();
	/* nexus 1: once as CHECK CONDITION, then the READ goes through */
	run(&lu, NEXUS, IN, 512, 10, 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0);
	assert_sense(MIRROR_SK_UNIT_ATTENTION, 0x2A, 0x06);
	assert_no_field_pointer();
	run(&lu, NEXUS, IN, 512, 10, 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0);
	ck_assert_int_eq(v.kind, MIRROR_SBC_READ);
	/* nexus 2: as REQUEST SENSE data, GOOD; then NO SENSE */
	run(&lu, NEXUS2, IN, 252, 6, 0x03, 0, 0, 0, 252, 0);
	assert_data(ua_sense, 18);
	run(&lu, NEXUS2, IN, 252, 6, 0x03, 0, 0, 0, 252, 0);
	assert_good();
	ck_assert_uint_eq(v.data[2], 0x00);
	ck_assert_uint_eq(v.data[12], 0x00);
	/* a nexus that never used the LU gets none */
	run(&lu, 0x3333, NONE, 0, 6, 0x00, 0, 0, 0, 0, 0);
	assert_good();
	/* a LOGICAL UNIT RESET outranks the state change: 29h/00h first */
	mirror_sbc_reset(&lu, NEXUS);
	ck_assert_int_eq(mirror_sbc_alua_set(&lu, MIRROR_ALUA_ACTIVE_NON_OPTIMIZED,
					     MIRROR_ALUA_STANDBY), 1);
	run(&lu, NEXUS, NONE, 0, 6, 0x00, 0, 0, 0, 0, 0);
	assert_sense(MIRROR_SK_UNIT_ATTENTION, 0x29, 0x00);
	run(&lu, NEXUS, NONE, 0, 6, 0x00, 0, 0, 0, 0, 0);
	assert_sense(MIRROR_SK_UNIT_ATTENTION, 0x2A, 0x06);
	run(&lu, NEXUS, NONE, 0, 6, 0x00, 0, 0, 0, 0, 0);
	assert_good();
	/* an ended nexus forgets what was pending */
	ck_assert_uint_ne(mirror_sbc_ua_pending(&lu, NEXUS2), 0);
	mirror_sbc_nexus_end(&lu, NEXUS2);
	ck_assert_uint_eq(mirror_sbc_ua_pending(&lu, NEXUS2), 0);
	run(&lu, NEXUS2, NONE, 0, 6, 0x00, 0, 0, 0, 0, 0);
	assert_good();
}
END_TEST

/* ---- the commands iscsi-test-cu asks for beyond the host's basics ---- */

START_TEST(test_more_media)
{
	/* READ(6): 21-bit LBA 1F0102h... out of range; LBA 0102h, 0 = 256 */
	run(&lu, NEXUS, IN, 256 * 512, 6, 0x08, 0x1F, 0x01, 0x02, 4, 0);
	assert_sense(MIRROR_SK_ILLEGAL_REQUEST, 0x21, 0x00);
	run(&lu, NEXUS, IN, 256 * 512, 6, 0x08, 0x00, 0x01, 0x02, 0, 0);
	ck_assert_int_eq(v.kind, MIRROR_SBC_READ);
	ck_assert_uint_eq(v.lba, 0x102);
	ck_assert_uint_eq(v.blocks, 256);
	/* WRITE(6) with byte 1 bit 3 set: part of the LBA (080000h, past
	 * the end), not FUA */
	run(&lu, NEXUS, OUT, 512, 6, 0x0A, 0x08, 0, 0, 1, 0);
	assert_sense(MIRROR_SK_ILLEGAL_REQUEST, 0x21, 0x00);
	run(&lu, NEXUS, OUT, 512, 6, 0x0A, 0x00, 0xFF, 0xFF, 1, 0);
	ck_assert_int_eq(v.kind, MIRROR_SBC_WRITE);
	ck_assert_uint_eq(v.lba, 0xFFFF);
	ck_assert(!v.fua);
	/* WRITE(12) */
	run(&lu, NEXUS, OUT, 1024, 12, 0xAA, 0x08, 0, 0, 0, 9, 0, 0, 0, 2, 0, 0);
	ck_assert_int_eq(v.kind, MIRROR_SBC_WRITE);
	ck_assert_uint_eq(v.lba, 9);
	ck_assert_uint_eq(v.blocks, 2);
	ck_assert(v.fua);
	/* WRITE AND VERIFY(16): a write on the medium, FUA */
	run(&lu, NEXUS, OUT, 512, 16, 0x8E, 0x02, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 1, 0, 0);
	ck_assert_int_eq(v.kind, MIRROR_SBC_WRITE);
	ck_assert(v.fua);
	/* VERIFY(10): BYTCHK 00b GOOD, 01b compare 2 blocks, 11b one block
	 * against each, 10b reserved (byte 1 bit 2) */
	run(&lu, NEXUS, NONE, 0, 10, 0x2F, 0x00, 0, 0, 0, 0, 0, 0, 2, 0);
	assert_good();
	ck_assert_int_eq(v.kind, MIRROR_SBC_RESPOND);
	run(&lu, NEXUS, OUT, 1024, 10, 0x2F, 0x02, 0, 0, 0, 4, 0, 0, 2, 0);
	ck_assert_int_eq(v.kind, MIRROR_SBC_COMPARE);
	ck_assert_uint_eq(v.lba, 4);
	ck_assert_uint_eq(v.data_len, 1024);
	ck_assert(!v.repeat);
	run(&lu, NEXUS, OUT, 512, 16, 0x8F, 0x06, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 8, 0, 0);
	ck_assert_int_eq(v.kind, MIRROR_SBC_COMPARE);
	ck_assert_uint_eq(v.blocks, 8);
	ck_assert_uint_eq(v.data_len, 512);
	ck_assert(v.repeat);
	run(&lu, NEXUS, OUT, 512, 12, 0xAF, 0x04, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0);
	assert_invalid(0x24, 1, 2);
	/* WRITE SAME(10): one block for 16; UNMAP (byte 1 bit 3) refused;
	 * 0 blocks refused (WSNZ) */
	run(&lu, NEXUS, OUT, 512, 10, 0x41, 0, 0, 0, 0, 0x20, 0, 0, 16, 0);
	ck_assert_int_eq(v.kind, MIRROR_SBC_WRITE);
	ck_assert_uint_eq(v.blocks, 16);
	ck_assert_uint_eq(v.data_len, 512);
	ck_assert(v.repeat);
	run(&lu, NEXUS, OUT, 512, 10, 0x41, 0x08, 0, 0, 0, 0x20, 0, 0, 16, 0);
	assert_invalid(0x24, 1, 4);
	run(&lu, NEXUS, OUT, 512, 16, 0x93, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	assert_invalid(0x24, 10, 7);
	/* PRE-FETCH(10): GOOD inside, 21h/00h past the end */
	run(&lu, NEXUS, NONE, 0, 10, 0x34, 0x02, 0, 0, 0, 0, 0, 0, 8, 0);
	assert_good();
	run(&lu, NEXUS, NONE, 0, 10, 0x34, 0, 0, 1, 0, 0, 0, 0, 8, 0);
	assert_sense(MIRROR_SK_ILLEGAL_REQUEST, 0x21, 0x00);
}
END_TEST

/* REPORT SUPPORTED OPERATION CODES (SPC-4 6.35): one command, the usage
 * bitmap from the command's fields; all commands; an unknown one. */
START_TEST(test_rsoc)
{
	/* WRITE(10): WRPROTECT and byte 1 bit 2 not used, DPO FUA FUA_NV and
	 * the obsolete bit 0 are; byte 6 bits 4-0 the group; CONTROL 00h */
	static const uint8_t write10[14] = { 0x00, 0x03, 0x00, 0x0A, 0x2A, 0x1B, 0xFF, 0xFF,
					     0xFF, 0xFF, 0x1F, 0xFF, 0xFF, 0x00 };
	/* REPORT TARGET PORT GROUPS, by operation code and service action:
	 * byte 1 the PARAMETER DATA FORMAT bits and 0Ah */
	static const uint8_t rtpg[16] = { 0x00, 0x03, 0x00, 0x0C, 0xA3, 0xEA, 0x00, 0x00,
					  0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00 };
	static const uint8_t unknown[4] = { 0x00, 0x01, 0x00, 0x00 };

	run(&lu, NEXUS, IN, 255, 12, 0xA3, 0x0C, 0x01, 0x2A, 0, 0, 0, 0, 0, 255, 0, 0);
	assert_data(write10, sizeof(write10));
	run(&lu, NEXUS, IN, 255, 12, 0xA3, 0x0C, 0x02, 0xA3, 0, 0x0A, 0, 0, 0, 255, 0, 0);
	assert_data(rtpg, sizeof(rtpg));
	run(&lu, NEXUS, IN, 255, 12, 0xA3, 0x0C, 0x01, 0x04, 0, 0, 0, 0, 0, 255, 0, 0);
	assert_data(unknown, sizeof(unknown));
	/* 001b for an operation code with service actions */
	run(&lu, NEXUS, IN, 255, 12, 0xA3, 0x0C, 0x01, 0xA3, 0, 0, 0, 0, 0, 255, 0, 0);
	assert_invalid(0x24, 2, 2);
	/* RCTD: CTDP and a timeouts descriptor of length 0Ah */
	run(&lu, NEXUS, IN, 255, 12, 0xA3, 0x0C, 0x81, 0x28, 0, 0, 0, 0, 0, 255, 0, 0);
	assert_good();
	ck_assert_uint_eq(v.data_len, 4 + 10 + 12);
	ck_assert_uint_eq(v.data[1], 0x83);
	ck_assert_uint_eq(v.data[14] << 8 | v.data[15], 0x0A);
	/* all commands: 8-byte descriptors, REPORT LUNS among them */
	run(&lu, NEXUS, IN, 2048, 12, 0xA3, 0x0C, 0x00, 0, 0, 0, 0, 0, 0x08, 0, 0, 0);
	assert_good();
	{
		uint32_t len = (uint32_t)v.data[0] << 24 | v.data[1] << 16 | v.data[2] << 8 | v.data[3];
		bool found = false;
		ck_assert_uint_eq(len % 8, 0);
		ck_assert_uint_eq(v.data_len, 4 + len);
		for (uint32_t o = 4; o < 4 + len; o += 8)
			found |= v.data[o] == 0xA0 && v.data[o + 7] == 12 && v.data[o + 5] == 0;
		ck_assert(found);
	}
}
END_TEST

/* ---- ORWRITE(16) and GET LBA STATUS ---- */

/* ORWRITE(16) (SBC-3 5.8, table 37): opcode 8Bh; byte 1 ORPROTECT (7-5),
 * DPO (4), FUA (3), reserved (2), FUA_NV (1), reserved (0); LBA bytes
 * 2-9; TRANSFER LENGTH bytes 10-13; byte 14 reserved (7-5), GROUP NUMBER
 * (4-0).  A write of its blocks (data-out blocks * 512) marked as an OR. */
START_TEST(test_orwrite)
{
	/* 3 blocks at 20h, FUA and DPO: a write verdict with the OR mark */
	run(&lu, NEXUS, OUT, 1536, 16, 0x8B, 0x18, 0, 0, 0, 0, 0, 0, 0, 0x20, 0, 0, 0, 3, 0, 0);
	assert_good();
	ck_assert_int_eq(v.kind, MIRROR_SBC_WRITE);
	ck_assert_uint_eq(v.lba, 0x20);
	ck_assert_uint_eq(v.blocks, 3);
	ck_assert_uint_eq(v.data_len, 1536);
	ck_assert(v.fua);
	ck_assert(v.or_data);
	ck_assert(!v.repeat);
	/* a plain WRITE(16) is no OR */
	run(&lu, NEXUS, OUT, 512, 16, 0x8A, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 1, 0, 0);
	ck_assert_int_eq(v.kind, MIRROR_SBC_WRITE);
	ck_assert(!v.or_data);
	/* the last block: in range; one more: 21h/00h, no field pointer */
	run(&lu, NEXUS, OUT, 512, 16, 0x8B, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0, 0, 0, 1, 0, 0);
	ck_assert_int_eq(v.kind, MIRROR_SBC_WRITE);
	ck_assert_uint_eq(v.lba, CAP - 1);
	run(&lu, NEXUS, OUT, 1024, 16, 0x8B, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0, 0, 0, 2, 0, 0);
	assert_sense(MIRROR_SK_ILLEGAL_REQUEST, 0x21, 0x00);
	assert_no_field_pointer();
	/* TRANSFER LENGTH 0: GOOD, nothing written; but an LBA past the
	 * capacity is out of range even then (SBC-3 4.5) */
	run(&lu, NEXUS, OUT, 0, 16, 0x8B, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	assert_good();
	ck_assert_int_eq(v.kind, MIRROR_SBC_RESPOND);
	ck_assert(!v.or_data);
	run(&lu, NEXUS, OUT, 0, 16, 0x8B, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0);
	assert_sense(MIRROR_SK_ILLEGAL_REQUEST, 0x21, 0x00);
	run(&lu, NEXUS, OUT, 0, 16, 0x8B, 0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	assert_sense(MIRROR_SK_ILLEGAL_REQUEST, 0x21, 0x00);
	/* ORPROTECT 001b..111b: no protection information, byte 1 bit 7 */
	for (int p = 1; p < 8; p++) {
		run(&lu, NEXUS, OUT, 512, 16, 0x8B, p << 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0);
		assert_invalid(0x24, 1, 7);
	}
	/* reserved byte 1 bit 2, byte 1 bit 0, byte 14 bit 7 */
	run(&lu, NEXUS, OUT, 512, 16, 0x8B, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0);
	assert_invalid(0x24, 1, 2);
	run(&lu, NEXUS, OUT, 512, 16, 0x8B, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0);
	assert_invalid(0x24, 1, 0);
	run(&lu, NEXUS, OUT, 512, 16, 0x8B, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x80, 0);
	assert_invalid(0x24, 14, 7);
	/* over the maximum transfer length (2048): TRANSFER LENGTH, byte 10 */
	run(&lu, NEXUS, OUT, 0, 16, 0x8B, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x01, 0, 0);
	assert_invalid(0x24, 10, 7);
	/* less data-out than the blocks */
	run(&lu, NEXUS, OUT, 512, 16, 0x8B, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0);
	assert_invalid(0x24, 10, 7);
	/* media access: refused in standby (B's view of the LU) */
	run(&lu_b, NEXUS, OUT, 512, 16, 0x8B, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0);
	assert_sense(MIRROR_SK_NOT_READY, 0x04, 0x0B);
	/* listed by REPORT SUPPORTED OPERATION CODES (SPC-4 6.35.3): CDB
	 * SIZE 16; usage byte 1 DPO FUA FUA_NV (1Ah), byte 14 the group
	 * (1Fh), CONTROL 00h */
	run(&lu, NEXUS, IN, 255, 12, 0xA3, 0x0C, 0x01, 0x8B, 0, 0, 0, 0, 0, 255, 0, 0);
	{
		static const uint8_t want[20] = { 0x00, 0x03, 0x00, 0x10, 0x8B, 0x1A, 0xFF, 0xFF,
						  0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
						  0xFF, 0xFF, 0x1F, 0x00 };
		assert_data(want, sizeof(want));
	}
}
END_TEST

/* GET LBA STATUS (SBC-3 5.16): SERVICE ACTION IN(16) 9Eh / 12h, STARTING
 * LOGICAL BLOCK ADDRESS bytes 2-9, ALLOCATION LENGTH bytes 10-13.  The
 * parameter data (5.16.2): PARAMETER DATA LENGTH (4 bytes, the bytes
 * that follow it), 4 reserved, then 16-byte LBA status descriptors:
 * LBA (8), NUMBER OF LOGICAL BLOCKS (4), PROVISIONING STATUS (byte 12
 * bits 3-0, 0h mapped), 3 reserved.  A LU without logical block
 * provisioning has every block mapped: one descriptor to the end. */
START_TEST(test_get_lba_status)
{
	/* from 100h: CAP - 100h = FF00h blocks mapped */
	static const uint8_t from100[24] = { 0, 0, 0, 20, 0, 0, 0, 0,
					     0, 0, 0, 0, 0, 0, 0x01, 0x00,
					     0, 0, 0xFF, 0x00, 0, 0, 0, 0 };
	/* the last block: one block */
	static const uint8_t last[24] = { 0, 0, 0, 20, 0, 0, 0, 0,
					  0, 0, 0, 0, 0, 0, 0xFF, 0xFF,
					  0, 0, 0, 1, 0, 0, 0, 0 };

	run(&lu, NEXUS, IN, 24, 16, 0x9E, 0x12, 0, 0, 0, 0, 0, 0, 0x01, 0x00, 0, 0, 0, 24, 0, 0);
	assert_data(from100, 24);
	run(&lu, NEXUS, IN, 1000, 16, 0x9E, 0x12, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0, 0, 0x03, 0xE8,
	    0, 0);
	assert_data(last, 24);
	/* ALLOCATION LENGTH 8: the header only, its length unchanged */
	run(&lu, NEXUS, IN, 8, 16, 0x9E, 0x12, 0, 0, 0, 0, 0, 0, 0x01, 0x00, 0, 0, 0, 8, 0, 0);
	assert_data(from100, 8);
	/* 0: nothing, no error (SPC-4 4.2.5.6) */
	run(&lu, NEXUS, IN, 0, 16, 0x9E, 0x12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	assert_good();
	ck_assert_uint_eq(v.data_len, 0);
	/* the LBA at the capacity and far beyond: 21h/00h */
	run(&lu, NEXUS, IN, 24, 16, 0x9E, 0x12, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00, 0, 0, 0, 24, 0, 0);
	assert_sense(MIRROR_SK_ILLEGAL_REQUEST, 0x21, 0x00);
	run(&lu, NEXUS, IN, 24, 16, 0x9E, 0x12, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0,
	    0, 0, 24, 0, 0);
	assert_sense(MIRROR_SK_ILLEGAL_REQUEST, 0x21, 0x00);
	/* reserved byte 14 */
	run(&lu, NEXUS, IN, 24, 16, 0x9E, 0x12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 24, 0x01, 0);
	assert_invalid(0x24, 14, 7);
	/* media access class: refused in standby */
	run(&lu_b, NEXUS, IN, 24, 16, 0x9E, 0x12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 24, 0, 0);
	assert_sense(MIRROR_SK_NOT_READY, 0x04, 0x0B);
	/* listed by REPORT SUPPORTED OPERATION CODES, by service action */
	run(&lu, NEXUS, IN, 255, 12, 0xA3, 0x0C, 0x02, 0x9E, 0, 0x12, 0, 0, 0, 255, 0, 0);
	assert_good();
	ck_assert_uint_eq(v.data[1] & 0x07, 0x03);
	ck_assert_uint_eq(v.data[4], 0x9E);
	ck_assert_uint_eq(v.data[5] & 0x1F, 0x12);
}
END_TEST

/* ---- reservations ---- */

#define NEXUS3 0x3333u
#define CONFLICT 0x18 /* RESERVATION CONFLICT (SAM-5 5.3.1) */

/* RESERVATION CONFLICT: no sense data, no data-in. */
static void assert_conflict(void)
{
	ck_assert_msg(v.status == CONFLICT, "status 0x%02X, want RESERVATION CONFLICT (%s)",
		      v.status, v.why);
	ck_assert_int_eq(v.kind, MIRROR_SBC_RESPOND);
	ck_assert_uint_eq(v.sense_len, 0);
	ck_assert_uint_eq(v.data_len, 0);
	ck_assert_str_ne(v.why, "");
}

static void read10(struct mirror_sbc_lu *l, uint64_t nexus)
{
	run(l, nexus, IN, 512, 10, 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0);
}

static void write10(struct mirror_sbc_lu *l, uint64_t nexus)
{
	run(l, nexus, OUT, 512, 10, 0x2A, 0, 0, 0, 0, 0, 0, 0, 1, 0);
}

/* RESERVE(6) 16h / RELEASE(6) 17h, all other bytes 0 (SPC-2 7.21/7.19) */
static void resv6(uint8_t op, uint64_t nexus)
{
	run(&lu, nexus, NONE, 0, 6, op, 0, 0, 0, 0, 0);
}

/* SPC-2 5.5.1: reserved through NEXUS, the others get RESERVATION
 * CONFLICT except INQUIRY, REQUEST SENSE, REPORT LUNS and RELEASE;
 * released by RELEASE through NEXUS, a LOGICAL UNIT RESET, the end of
 * the nexus. */
START_TEST(test_reserve6)
{
	read10(&lu, NEXUS2); /* NEXUS2 known to the LU */
	resv6(0x16, NEXUS);
	assert_good();
	read10(&lu, NEXUS2);
	assert_conflict();
	write10(&lu, NEXUS2);
	assert_conflict();
	run(&lu, NEXUS2, NONE, 0, 6, 0x00, 0, 0, 0, 0, 0); /* TEST UNIT READY */
	assert_conflict();
	resv6(0x16, NEXUS2);
	assert_conflict();
	run(&lu, NEXUS2, IN, 36, 6, 0x12, 0, 0, 0, 36, 0); /* INQUIRY */
	assert_good();
	run(&lu, NEXUS2, IN, 18, 6, 0x03, 0, 0, 0, 18, 0); /* REQUEST SENSE */
	assert_good();
	run(&lu, NEXUS2, IN, 64, 12, 0xA0, 0, 0, 0, 0, 0, 0, 0, 0, 64, 0, 0); /* REPORT LUNS */
	assert_good();
	/* RELEASE through a nexus that holds nothing: GOOD, nothing released */
	resv6(0x17, NEXUS2);
	assert_good();
	read10(&lu, NEXUS2);
	assert_conflict();
	/* the holder: media access, RESERVE again GOOD */
	read10(&lu, NEXUS);
	ck_assert_int_eq(v.kind, MIRROR_SBC_READ);
	resv6(0x16, NEXUS);
	assert_good();
	/* persistent reservations do not mix with it (SPC-3 5.6.3) */
	run(&lu, NEXUS, IN, 8, 10, 0x5E, 0x00, 0, 0, 0, 0, 0, 0, 8, 0);
	assert_conflict();
	resv6(0x17, NEXUS);
	assert_good();
	read10(&lu, NEXUS2);
	ck_assert_int_eq(v.kind, MIRROR_SBC_READ);

	/* a LOGICAL UNIT RESET releases it */
	resv6(0x16, NEXUS);
	mirror_sbc_reset(&lu, NEXUS);
	run(&lu, NEXUS2, NONE, 0, 6, 0x00, 0, 0, 0, 0, 0);
	assert_sense(MIRROR_SK_UNIT_ATTENTION, 0x29, 0x00);
	resv6(0x16, NEXUS2);
	assert_good();
	/* and so does the loss of its I_T nexus */
	mirror_sbc_nexus_end(&lu, NEXUS2);
	run(&lu, NEXUS, NONE, 0, 6, 0x00, 0, 0, 0, 0, 0);
	assert_sense(MIRROR_SK_UNIT_ATTENTION, 0x29, 0x00); /* the reset's, NEXUS's own */
	write10(&lu, NEXUS);
	ck_assert_int_eq(v.kind, MIRROR_SBC_WRITE);
	/* a unit attention comes before the conflict (sbc.h order) */
	resv6(0x16, NEXUS);
	assert_good();
	read10(&lu, NEXUS2);
	assert_conflict();
	run(&lu, NEXUS2, NONE, 0, 10, 0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0); /* SYNCHRONIZE CACHE */
	assert_conflict();
	mirror_sbc_reset(&lu, NEXUS2);
	read10(&lu, NEXUS2);
	assert_sense(MIRROR_SK_UNIT_ATTENTION, 0x29, 0x00);
	read10(&lu, NEXUS2);
	ck_assert_int_eq(v.kind, MIRROR_SBC_READ);
	run(&lu, NEXUS, NONE, 0, 6, 0x00, 0, 0, 0, 0, 0);
	assert_sense(MIRROR_SK_UNIT_ATTENTION, 0x29, 0x00);

	/* third-party and extent reservations: byte 1 (3RDPTY bit 4) */
	run(&lu, NEXUS, NONE, 0, 6, 0x16, 0x10, 0, 0, 0, 0);
	assert_invalid(0x24, 1, 7);
	/* the state is the owner's: standby refuses it */
	run(&lu_b, NEXUS, NONE, 0, 6, 0x16, 0, 0, 0, 0, 0);
	assert_sense(MIRROR_SK_NOT_READY, 0x04, 0x0B);
	/* listed by REPORT SUPPORTED OPERATION CODES */
	run(&lu, NEXUS, IN, 255, 12, 0xA3, 0x0C, 0x01, 0x16, 0, 0, 0, 0, 0, 255, 0, 0);
	assert_good();
	ck_assert_uint_eq(v.data[1] & 0x07, 0x03);
}
END_TEST

/* PERSISTENT RESERVE OUT (SPC-4 6.16): the CDB (SERVICE ACTION byte 1,
 * SCOPE/TYPE byte 2, PARAMETER LIST LENGTH 24 in bytes 5-8) judged, then
 * the parameter list (6.16.3: RESERVATION KEY bytes 0-7, SERVICE ACTION
 * RESERVATION KEY 8-15, byte 20 SPEC_I_PT bit 3, ALL_TG_PT bit 2, APTPL
 * bit 0) applied. */
static void prout(struct mirror_sbc_lu *l, uint64_t nexus, const char *initiator, uint8_t sa,
		  uint8_t scope_type, uint64_t key, uint64_t sakey, uint8_t b20)
{
	uint8_t cdb[10] = { 0x5F, sa, scope_type, 0, 0, 0, 0, 0, 24, 0 };
	uint8_t param[24] = { 0 };

	for (int i = 0; i < 8; i++) {
		param[i] = (uint8_t)(key >> (56 - 8 * i));
		param[8 + i] = (uint8_t)(sakey >> (56 - 8 * i));
	}
	param[20] = b20;
	ck_assert_int_eq(mirror_sbc_decode(l, &port, nexus, cdb, 10, OUT, 24, &v), 0);
	if (v.kind != MIRROR_SBC_PR_OUT)
		return; /* refused before the data-out */
	ck_assert_uint_eq(v.data_len, 24);
	ck_assert_int_eq(mirror_sbc_pr_out(l, nexus, initiator, cdb, 10, param, 24, &v), 0);
	ck_assert_int_eq(v.kind, MIRROR_SBC_RESPOND);
}

#define REGISTER 0x00
#define RESERVE 0x01
#define RELEASE 0x02
#define CLEAR 0x03
#define PREEMPT 0x04
#define REG_IGNORE 0x06
#define WE 0x1
#define EA 0x3
#define WERO 0x5
#define EARO 0x6
#define WEAR 0x7
#define EAAR 0x8

/* PERSISTENT RESERVE IN service action sa, ALLOCATION LENGTH alloc. */
static void prin(uint64_t nexus, uint8_t sa, uint16_t alloc)
{
	run(&lu, nexus, IN, alloc, 10, 0x5E, sa, 0, 0, 0, 0, 0, alloc >> 8, alloc & 0xFF, 0);
}

static uint32_t be32_at(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* READ KEYS (6.15.2): PRGENERATION, ADDITIONAL LENGTH 8 per key, the
 * keys; REGISTER and REGISTER AND IGNORE EXISTING KEY (5.13.7). */
START_TEST(test_pr_register)
{
	static const uint8_t empty[8] = { 0 };
	static const uint8_t one[16] = { 0, 0, 0, 1, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0xAA };
	static const uint8_t two[24] = { 0, 0, 0, 2, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0xAA,
					 0, 0, 0, 0, 0, 0, 0, 0xBB };
	/* REPORT CAPABILITIES (6.15.4): LENGTH 8; CRH SIP_C ATP_C PTPL_C 0;
	 * TMV 1, ALLOW COMMANDS 000b; WR_EX_AR EX_AC_RO WR_EX_RO EX_AC WR_EX;
	 * EX_AC_AR */
	static const uint8_t caps[8] = { 0x00, 0x08, 0x00, 0x80, 0xEA, 0x01, 0x00, 0x00 };

	prin(NEXUS, 0x00, 255);
	assert_data(empty, 8);
	prin(NEXUS, 0x02, 255);
	assert_data(caps, 8);
	/* unregistered, SERVICE ACTION RESERVATION KEY 0: GOOD, no change */
	prout(&lu, NEXUS, "iqn.a", REGISTER, 0, 0, 0, 0);
	assert_good();
	prout(&lu, NEXUS, "iqn.a", REGISTER, 0, 0, 0xAA, 0);
	assert_good();
	prin(NEXUS, 0x00, 255);
	assert_data(one, 16);
	/* REGISTER with a RESERVATION KEY not the nexus's: conflict, and
	 * from an unregistered nexus with one not 0 */
	prout(&lu, NEXUS, "iqn.a", REGISTER, 0, 0, 0xCC, 0);
	assert_conflict();
	prout(&lu, NEXUS2, "iqn.b", REGISTER, 0, 0xAA, 0xBB, 0);
	assert_conflict();
	prout(&lu, NEXUS2, "iqn.b", REG_IGNORE, 0, 0x1234, 0xBB, 0);
	assert_good();
	prin(NEXUS, 0x00, 255);
	assert_data(two, 24);
	/* ALLOCATION LENGTH 8: the header, ADDITIONAL LENGTH still 16 */
	prin(NEXUS, 0x00, 8);
	assert_data(two, 8);
	/* READ FULL STATUS (6.15.5): 24-byte descriptors, RELATIVE TARGET
	 * PORT IDENTIFIER 1, an iSCSI TransportID (SPC-4 7.6.4.6: 05h,
	 * ADDITIONAL LENGTH 20: "iqn.a" null-padded to the minimum) */
	prin(NEXUS, 0x03, 1024);
	assert_good();
	ck_assert_uint_eq(be32_at(v.data), 2);
	ck_assert_uint_eq(be32_at(v.data + 4), 2 * (24 + 24));
	ck_assert_uint_eq(v.data_len, 8 + 2 * 48);
	ck_assert_uint_eq(v.data[8 + 7], 0xAA);
	ck_assert_uint_eq(v.data[8 + 12], 0x00); /* not the holder */
	ck_assert_uint_eq(v.data[8 + 19], 1);
	ck_assert_uint_eq(be32_at(v.data + 8 + 20), 24);
	ck_assert_uint_eq(v.data[8 + 24], 0x05);
	ck_assert_uint_eq(v.data[8 + 27], 20);
	ck_assert_mem_eq(v.data + 8 + 28, "iqn.a\0", 6);
	ck_assert_mem_eq(v.data + 56 + 28, "iqn.b\0", 6);
	/* a new key; then unregistering (SERVICE ACTION RESERVATION KEY 0) */
	prout(&lu, NEXUS, "iqn.a", REGISTER, 0, 0xAA, 0xCC, 0);
	assert_good();
	prout(&lu, NEXUS2, "iqn.b", REGISTER, 0, 0xBB, 0, 0);
	assert_good();
	prin(NEXUS, 0x00, 255);
	{
		static const uint8_t cc[16] = { 0, 0, 0, 4, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0xCC };
		assert_data(cc, 16);
	}
	/* APTPL, ALL_TG_PT, SPEC_I_PT: INVALID FIELD IN PARAMETER LIST 26h,
	 * the field pointer into the parameter list (C/D 0) byte 20 */
	prout(&lu, NEXUS3, "iqn.c", REG_IGNORE, 0, 0, 0xDD, 0x01);
	assert_sense(MIRROR_SK_ILLEGAL_REQUEST, 0x26, 0x00);
	ck_assert_uint_eq(v.sense[15], 0x80 | 0x08 | 0);
	ck_assert_uint_eq(v.sense[17], 20);
	prout(&lu, NEXUS3, "iqn.c", REG_IGNORE, 0, 0, 0xDD, 0x04);
	assert_sense(MIRROR_SK_ILLEGAL_REQUEST, 0x26, 0x00);
	ck_assert_uint_eq(v.sense[15], 0x80 | 0x08 | 2);
	prout(&lu, NEXUS3, "iqn.c", REG_IGNORE, 0, 0, 0xDD, 0x08);
	assert_sense(MIRROR_SK_ILLEGAL_REQUEST, 0x26, 0x00);
	ck_assert_uint_eq(v.sense[15], 0x80 | 0x08 | 3);
	prin(NEXUS, 0x00, 255);
	ck_assert_uint_eq(be32_at(v.data), 4); /* none of them changed it */
	/* PARAMETER LIST LENGTH not 24: PARAMETER LIST LENGTH ERROR */
	run(&lu, NEXUS, OUT, 23, 10, 0x5F, 0x06, 0, 0, 0, 0, 0, 0, 23, 0);
	assert_invalid(0x1A, 5, 7);
	/* PREEMPT AND ABORT (05h), REGISTER AND MOVE (07h): not supported */
	run(&lu, NEXUS, OUT, 24, 10, 0x5F, 0x05, 0x01, 0, 0, 0, 0, 0, 24, 0);
	assert_invalid(0x24, 1, 4);
	run(&lu, NEXUS, IN, 24, 10, 0x5E, 0x04, 0, 0, 0, 0, 0, 0, 24, 0);
	assert_invalid(0x24, 1, 4);
	/* RESERVE(6) while a registration exists (SPC-3 5.6.3) */
	resv6(0x16, NEXUS2);
	assert_conflict();
	/* the owner's state only: standby refuses PR IN and OUT */
	run(&lu_b, NEXUS, IN, 8, 10, 0x5E, 0x00, 0, 0, 0, 0, 0, 0, 8, 0);
	assert_sense(MIRROR_SK_NOT_READY, 0x04, 0x0B);
	prout(&lu_b, NEXUS, "iqn.a", REG_IGNORE, 0, 0, 0x11, 0);
	assert_sense(MIRROR_SK_NOT_READY, 0x04, 0x0B);
}
END_TEST

/* SPC-4 5.13.1 table 65 / SBC-3 table 13: reads and writes through a
 * registered and an unregistered nexus other than the holder, per type. */
START_TEST(test_pr_access)
{
	static const struct {
		uint8_t type;
		bool reg_read, reg_write, unreg_read, unreg_write;
	} types[] = {
		{ WE, true, false, true, false },  { EA, false, false, false, false },
		{ WERO, true, true, true, false }, { EARO, true, true, false, false },
		{ WEAR, true, true, true, false }, { EAAR, true, true, false, false },
	};

	for (size_t i = 0; i < ARRAY_LEN(types); i++) {
		uint8_t t = types[i].type;
		bool ar = t == WEAR || t == EAAR;

		read10(&lu, NEXUS3); /* known, never registered */
		prout(&lu, NEXUS, "iqn.a", REG_IGNORE, 0, 0, 0xA1, 0);
		prout(&lu, NEXUS2, "iqn.b", REG_IGNORE, 0, 0, 0xB2, 0);
		prout(&lu, NEXUS, "iqn.a", RESERVE, t, 0xA1, 0, 0);
		assert_good();
		/* READ RESERVATION (6.15.3): ADDITIONAL LENGTH 10h, the holder's
		 * key (0 for All Registrants), SCOPE 0 / TYPE in byte 21 */
		prin(NEXUS2, 0x01, 255);
		assert_good();
		ck_assert_uint_eq(v.data_len, 24);
		ck_assert_uint_eq(be32_at(v.data + 4), 16);
		ck_assert_uint_eq(v.data[15], ar ? 0 : 0xA1);
		ck_assert_uint_eq(v.data[21], t);
		read10(&lu, NEXUS);
		ck_assert_int_eq(v.kind, MIRROR_SBC_READ);
		write10(&lu, NEXUS);
		ck_assert_int_eq(v.kind, MIRROR_SBC_WRITE);
		read10(&lu, NEXUS2);
		ck_assert_msg((v.kind == MIRROR_SBC_READ) == types[i].reg_read, "type %u reg read", t);
		write10(&lu, NEXUS2);
		ck_assert_msg((v.kind == MIRROR_SBC_WRITE) == types[i].reg_write, "type %u reg write",
			      t);
		if (!types[i].reg_write)
			assert_conflict();
		read10(&lu, NEXUS3);
		ck_assert_msg((v.kind == MIRROR_SBC_READ) == types[i].unreg_read, "type %u read", t);
		write10(&lu, NEXUS3);
		ck_assert_msg((v.kind == MIRROR_SBC_WRITE) == types[i].unreg_write, "type %u write",
			      t);
		/* SYNCHRONIZE CACHE is a write; TEST UNIT READY, INQUIRY and
		 * READ CAPACITY are always allowed */
		run(&lu, NEXUS3, NONE, 0, 10, 0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0);
		assert_conflict();
		run(&lu, NEXUS3, NONE, 0, 6, 0x00, 0, 0, 0, 0, 0);
		assert_good();
		run(&lu, NEXUS3, IN, 36, 6, 0x12, 0, 0, 0, 36, 0);
		assert_good();
		run(&lu, NEXUS3, IN, 8, 10, 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0);
		assert_good();
		/* CLEAR (5.13.11.3): everything goes, the generation moves on,
		 * the other registrant is told RESERVATIONS PREEMPTED */
		prin(NEXUS, 0x00, 8);
		{
			uint32_t gen = be32_at(v.data);
			prout(&lu, NEXUS, "iqn.a", CLEAR, 0, 0xA1, 0, 0);
			assert_good();
			prin(NEXUS, 0x00, 8);
			ck_assert_uint_eq(be32_at(v.data), gen + 1);
			ck_assert_uint_eq(be32_at(v.data + 4), 0);
		}
		ck_assert_uint_eq(mirror_sbc_ua_pending(&lu, NEXUS2), MIRROR_SBC_UA_PR_PREEMPTED);
		ck_assert_uint_eq(mirror_sbc_ua_pending(&lu, NEXUS), 0);
		run(&lu, NEXUS2, NONE, 0, 6, 0x00, 0, 0, 0, 0, 0);
		assert_sense(MIRROR_SK_UNIT_ATTENTION, 0x2A, 0x03);
		write10(&lu, NEXUS3);
		ck_assert_int_eq(v.kind, MIRROR_SBC_WRITE);
	}
}
END_TEST

/* RESERVE (5.13.9), RELEASE (5.13.11.2), unregistering the holder,
 * PREEMPT (5.13.11.4). */
START_TEST(test_pr_reserve_preempt)
{
	uint32_t gen;

	/* RESERVE needs a registration with that key */
	prout(&lu, NEXUS, "iqn.a", RESERVE, WE, 0xA1, 0, 0);
	assert_conflict();
	prout(&lu, NEXUS, "iqn.a", REG_IGNORE, 0, 0, 0xA1, 0);
	prout(&lu, NEXUS2, "iqn.b", REG_IGNORE, 0, 0, 0xB2, 0);
	prout(&lu, NEXUS, "iqn.a", RESERVE, WE, 0xA2, 0, 0);
	assert_conflict();
	/* SCOPE not LU_SCOPE, TYPE 2h (obsolete): INVALID FIELD IN CDB */
	prout(&lu, NEXUS, "iqn.a", RESERVE, 0x10 | WE, 0xA1, 0, 0);
	assert_invalid(0x24, 2, 7);
	prout(&lu, NEXUS, "iqn.a", RESERVE, 0x02, 0xA1, 0, 0);
	assert_invalid(0x24, 2, 3);
	prin(NEXUS, 0x00, 8);
	gen = be32_at(v.data);
	prout(&lu, NEXUS, "iqn.a", RESERVE, WE, 0xA1, 0, 0);
	assert_good();
	/* the holder again: same type GOOD, another type conflict; another
	 * registrant: conflict */
	prout(&lu, NEXUS, "iqn.a", RESERVE, WE, 0xA1, 0, 0);
	assert_good();
	prout(&lu, NEXUS, "iqn.a", RESERVE, EA, 0xA1, 0, 0);
	assert_conflict();
	prout(&lu, NEXUS2, "iqn.b", RESERVE, WE, 0xB2, 0, 0);
	assert_conflict();
	/* RELEASE by a registrant that does not hold it: GOOD, nothing */
	prout(&lu, NEXUS2, "iqn.b", RELEASE, WE, 0xB2, 0, 0);
	assert_good();
	prin(NEXUS, 0x01, 255);
	ck_assert_uint_eq(v.data_len, 24);
	/* the holder with another TYPE: INVALID RELEASE OF PERSISTENT
	 * RESERVATION 26h/04h */
	prout(&lu, NEXUS, "iqn.a", RELEASE, EA, 0xA1, 0, 0);
	assert_sense(MIRROR_SK_ILLEGAL_REQUEST, 0x26, 0x04);
	prout(&lu, NEXUS, "iqn.a", RELEASE, WE, 0xA1, 0, 0);
	assert_good();
	/* READ RESERVATION without one: ADDITIONAL LENGTH 0; RESERVE and
	 * RELEASE leave the generation alone */
	prin(NEXUS, 0x01, 255);
	ck_assert_uint_eq(v.data_len, 8);
	ck_assert_uint_eq(be32_at(v.data), gen);
	ck_assert_uint_eq(be32_at(v.data + 4), 0);

	/* the holder of a Registrants Only reservation unregisters: it is
	 * released, the other registrant told RESERVATIONS RELEASED */
	prout(&lu, NEXUS, "iqn.a", RESERVE, WERO, 0xA1, 0, 0);
	prout(&lu, NEXUS, "iqn.a", REGISTER, 0, 0xA1, 0, 0);
	assert_good();
	ck_assert(mirror_sbc_ua_pending(&lu, NEXUS2) & MIRROR_SBC_UA_PR_RELEASED);
	run(&lu, NEXUS2, NONE, 0, 6, 0x00, 0, 0, 0, 0, 0);
	assert_sense(MIRROR_SK_UNIT_ATTENTION, 0x2A, 0x04);
	prin(NEXUS2, 0x01, 255);
	ck_assert_uint_eq(v.data_len, 8);
	/* All Registrants: it stays while anyone is registered */
	prout(&lu, NEXUS, "iqn.a", REG_IGNORE, 0, 0, 0xA1, 0);
	prout(&lu, NEXUS, "iqn.a", RESERVE, EAAR, 0xA1, 0, 0);
	assert_good();
	prout(&lu, NEXUS, "iqn.a", REGISTER, 0, 0xA1, 0, 0);
	prin(NEXUS2, 0x01, 255);
	ck_assert_uint_eq(v.data_len, 24);
	ck_assert_uint_eq(v.data[15], 0);
	ck_assert_uint_eq(v.data[21], EAAR);
	read10(&lu, NEXUS);
	assert_conflict(); /* no longer registered */
	prout(&lu, NEXUS2, "iqn.b", REGISTER, 0, 0xB2, 0, 0);
	prin(NEXUS2, 0x01, 255);
	ck_assert_uint_eq(v.data_len, 8);

	/* PREEMPT without a reservation: the registrations of the key go,
	 * REGISTRATIONS PREEMPTED for them, generation + 1 */
	prout(&lu, NEXUS, "iqn.a", REG_IGNORE, 0, 0, 0xA1, 0);
	prout(&lu, NEXUS2, "iqn.b", REG_IGNORE, 0, 0, 0xB2, 0);
	prin(NEXUS, 0x00, 8);
	gen = be32_at(v.data);
	prout(&lu, NEXUS2, "iqn.b", PREEMPT, EA, 0xB2, 0xA1, 0);
	assert_good();
	prin(NEXUS2, 0x00, 255);
	{
		const uint8_t want[16] = { gen >> 24, gen >> 16, gen >> 8, (gen + 1) & 0xFF,
					   0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0xB2 };
		ck_assert_uint_eq(be32_at(v.data), gen + 1);
		assert_data(want, 16);
	}
	ck_assert(mirror_sbc_ua_pending(&lu, NEXUS) & MIRROR_SBC_UA_REG_PREEMPTED);
	run(&lu, NEXUS, NONE, 0, 6, 0x00, 0, 0, 0, 0, 0);
	assert_sense(MIRROR_SK_UNIT_ATTENTION, 0x2A, 0x05);
	/* a key nobody has: conflict; key 0 without a reservation: 26h */
	prout(&lu, NEXUS2, "iqn.b", PREEMPT, EA, 0xB2, 0x77, 0);
	assert_conflict();
	prout(&lu, NEXUS2, "iqn.b", PREEMPT, EA, 0xB2, 0, 0);
	assert_sense(MIRROR_SK_ILLEGAL_REQUEST, 0x26, 0x00);
	/* PREEMPT of the holder's key: its registration and reservation
	 * go, the preempting nexus holds one of the CDB's type */
	prout(&lu, NEXUS, "iqn.a", REG_IGNORE, 0, 0, 0xA1, 0);
	prout(&lu, NEXUS, "iqn.a", RESERVE, WE, 0xA1, 0, 0);
	prout(&lu, NEXUS2, "iqn.b", PREEMPT, EA, 0xB2, 0xA1, 0);
	assert_good();
	prin(NEXUS2, 0x01, 255);
	ck_assert_uint_eq(v.data_len, 24);
	ck_assert_uint_eq(v.data[15], 0xB2);
	ck_assert_uint_eq(v.data[21], EA);
	run(&lu, NEXUS, NONE, 0, 6, 0x00, 0, 0, 0, 0, 0);
	assert_sense(MIRROR_SK_UNIT_ATTENTION, 0x2A, 0x05);
	read10(&lu, NEXUS);
	assert_conflict();
	/* All Registrants, PREEMPT with key 0: every other registration
	 * goes and the preempting nexus reserves the CDB's type */
	prout(&lu, NEXUS, "iqn.a", REG_IGNORE, 0, 0, 0xA1, 0);
	prout(&lu, NEXUS3, "iqn.c", REG_IGNORE, 0, 0, 0xC3, 0);
	prout(&lu, NEXUS2, "iqn.b", RELEASE, EA, 0xB2, 0, 0);
	prout(&lu, NEXUS2, "iqn.b", RESERVE, WEAR, 0xB2, 0, 0);
	assert_good();
	prout(&lu, NEXUS, "iqn.a", PREEMPT, WE, 0xA1, 0, 0);
	assert_good();
	prin(NEXUS, 0x00, 255);
	{
		static const uint8_t only_a[8] = { 0, 0, 0, 0, 0, 0, 0, 0xA1 };
		ck_assert_uint_eq(be32_at(v.data + 4), 8);
		ck_assert_mem_eq(v.data + 8, only_a, 8);
	}
	prin(NEXUS, 0x01, 255);
	ck_assert_uint_eq(v.data_len, 24);
	ck_assert_uint_eq(v.data[15], 0xA1);
	ck_assert_uint_eq(v.data[21], WE);
	ck_assert(mirror_sbc_ua_pending(&lu, NEXUS2) & MIRROR_SBC_UA_REG_PREEMPTED);
	ck_assert(mirror_sbc_ua_pending(&lu, NEXUS3) & MIRROR_SBC_UA_REG_PREEMPTED);
	run(&lu, NEXUS2, NONE, 0, 6, 0x00, 0, 0, 0, 0, 0);
	assert_sense(MIRROR_SK_UNIT_ATTENTION, 0x2A, 0x05);
	/* RESERVE(6) with the registrations around: conflict; PR while an
	 * SPC-2 reservation is held: conflict */
	prout(&lu, NEXUS, "iqn.a", CLEAR, 0, 0xA1, 0, 0);
	assert_good();
	resv6(0x16, NEXUS);
	assert_good();
	prout(&lu, NEXUS, "iqn.a", REG_IGNORE, 0, 0, 0xA1, 0);
	assert_conflict();
}
END_TEST

/* The reservations live at the owner's port: when its group goes
 * standby the port forgets them (a later takeover must not revive them). */
START_TEST(test_resv_forgotten_at_standby)
{
	read10(&lu, NEXUS2); /* known to the LU: it gets the unit attentions */
	prout(&lu, NEXUS, "iqn.a", REG_IGNORE, 0, 0, 0xA1, 0);
	prout(&lu, NEXUS, "iqn.a", RESERVE, EA, 0xA1, 0, 0);
	assert_good();
	/* transitioning keeps them */
	ck_assert_int_eq(mirror_sbc_alua_set(&lu, MIRROR_ALUA_TRANSITIONING, MIRROR_ALUA_STANDBY), 1);
	ck_assert_int_eq(mirror_sbc_alua_set(&lu, MIRROR_ALUA_ACTIVE_OPTIMIZED, MIRROR_ALUA_STANDBY),
			 1);
	run(&lu, NEXUS2, NONE, 0, 6, 0x00, 0, 0, 0, 0, 0);
	assert_sense(MIRROR_SK_UNIT_ATTENTION, 0x2A, 0x06);
	read10(&lu, NEXUS2);
	assert_conflict();
	/* standby drops them; back to active: no key, no reservation */
	ck_assert_int_eq(mirror_sbc_alua_set(&lu, MIRROR_ALUA_STANDBY, MIRROR_ALUA_ACTIVE_OPTIMIZED),
			 1);
	ck_assert_int_eq(mirror_sbc_alua_set(&lu, MIRROR_ALUA_ACTIVE_OPTIMIZED, MIRROR_ALUA_STANDBY),
			 1);
	run(&lu, NEXUS2, NONE, 0, 6, 0x00, 0, 0, 0, 0, 0);
	assert_sense(MIRROR_SK_UNIT_ATTENTION, 0x2A, 0x06);
	read10(&lu, NEXUS2);
	ck_assert_int_eq(v.kind, MIRROR_SBC_READ);
	prin(NEXUS2, 0x00, 255);
	assert_good();
	ck_assert_uint_eq(be32_at(v.data + 4), 0);
	/* an SPC-2 reservation too */
	run(&lu, NEXUS, NONE, 0, 6, 0x00, 0, 0, 0, 0, 0);
	assert_sense(MIRROR_SK_UNIT_ATTENTION, 0x2A, 0x06);
	resv6(0x16, NEXUS);
	assert_good();
	ck_assert_int_eq(mirror_sbc_alua_set(&lu, MIRROR_ALUA_UNAVAILABLE, MIRROR_ALUA_ACTIVE_OPTIMIZED),
			 1);
	ck_assert_int_eq(mirror_sbc_alua_set(&lu, MIRROR_ALUA_ACTIVE_OPTIMIZED, MIRROR_ALUA_STANDBY),
			 1);
	run(&lu, NEXUS2, NONE, 0, 6, 0x00, 0, 0, 0, 0, 0);
	assert_sense(MIRROR_SK_UNIT_ATTENTION, 0x2A, 0x06);
	read10(&lu, NEXUS2);
	ck_assert_int_eq(v.kind, MIRROR_SBC_READ);
}
END_TEST

/* ---- configuration and the engine's action ---- */

START_TEST(test_config_and_action)
{
	struct mirror_sbc_lu_config c;
	struct mirror_tgt_action a;
	char why[160];

	config(&c, false);
	c.naa[0] = 0x50;
	ck_assert_int_eq(mirror_sbc_lu_init(&lu, &c, why, sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "NAA"));
	config(&c, false);
	c.remote_tpg = c.local_tpg;
	ck_assert_int_eq(mirror_sbc_lu_init(&lu, &c, why, sizeof(why)), -EINVAL);
	config(&c, false);
	c.blocks = 0;
	ck_assert_int_eq(mirror_sbc_lu_init(&lu, &c, why, sizeof(why)), -EINVAL);

	setup();
	run(&lu, NEXUS, IN, 8, 10, 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	ck_assert_int_eq(mirror_sbc_to_action(&v, &a), 0);
	ck_assert_ptr_eq(a.data_in, v.data);
	ck_assert_uint_eq(a.data_in_len, 8);
	run(&lu, NEXUS, IN, 512, 10, 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0);
	ck_assert_int_eq(mirror_sbc_to_action(&v, &a), -EINVAL);
	ck_assert_int_eq(mirror_sbc_decode(&lu, &port, NEXUS, NULL, 6, IN, 0, &v), -EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sbc");
	TCase *tc = tcase_create("commands");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_read_write);
	tcase_add_test(tc, test_out_of_range);
	tcase_add_test(tc, test_sync_cache);
	tcase_add_test(tc, test_read_capacity);
	tcase_add_test(tc, test_inquiry_standard);
	tcase_add_test(tc, test_inquiry_vpd);
	tcase_add_test(tc, test_mode_sense);
	tcase_add_test(tc, test_report_luns);
	tcase_add_test(tc, test_tur_request_sense);
	tcase_add_test(tc, test_unknown_and_bad_cdb);
	tcase_add_test(tc, test_rtpg);
	tcase_add_test(tc, test_alua_access);
	tcase_add_test(tc, test_unit_attention);
	tcase_add_test(tc, test_more_media);
	tcase_add_test(tc, test_rsoc);
	tcase_add_test(tc, test_orwrite);
	tcase_add_test(tc, test_get_lba_status);
	tcase_add_test(tc, test_reserve6);
	tcase_add_test(tc, test_pr_register);
	tcase_add_test(tc, test_pr_access);
	tcase_add_test(tc, test_pr_reserve_preempt);
	tcase_add_test(tc, test_resv_forgotten_at_standby);
	tcase_add_test(tc, test_config_and_action);
	suite_add_tcase(s, tc);
	return test_run_suite(s);
}
