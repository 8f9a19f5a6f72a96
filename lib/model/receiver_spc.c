/* The standard SCSI commands the receiver answers, so that ordinary
 * initiators and tools (libiscsi, sg3_utils, the Linux sd driver) can
 * scan and probe it: a direct-access logical unit, LUN 0 only, of NVRAM
 * size / 512 blocks (wire-profile.md "Receiver behaviour and status": the
 * opcode clash; SPC-4 6.6 INQUIRY, 6.33 REPORT LUNS, 6.39 REQUEST SENSE,
 * 6.11/6.12 MODE SENSE, 7.8 VPD pages; SBC-3 5.15/5.16 READ CAPACITY). */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <mirror/receiver.h>

#include "base/bytes.h"
#include "model/receiver_int.h"
#include "wire/rules.h"

/* Peripheral qualifier 000b (connected), device type 00h (direct access). */
#define PERIPHERAL_DISK 0x00

/* A handler writes its whole response into out (at most 256 bytes, every
 * response here is far smaller) and returns its length already cut to the
 * CDB's allocation length, or adds a finding and returns -EINVAL. */
typedef int (*scsi_fn)(const struct mirror_receiver *rx, struct mirror_rx_task *t, uint8_t *out);

struct scsi_command {
	uint8_t opcode;
	uint8_t cdb_len; /* bytes the CDB must have */
	bool data_in;    /* moves data to the initiator: not one with data-out */
	scsi_fn run;
};

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

static int invalid_field(struct mirror_rx_task *t, unsigned byte, unsigned bit, const char *what)
{
	mirror_findings_add(&t->findings, MIRROR_RULE_SCSI_INVALID_FIELD, true, byte, bit,
			    "opcode 0x%02X: %s (CDB byte %u = 0x%02X)", t->cdb[0], what, byte,
			    t->cdb[byte]);
	return -EINVAL;
}

/* ASCII fields of INQUIRY data are left-aligned and padded with spaces
 * (SPC-4 4.4.1); anything unprintable becomes a space. */
static void put_ascii(uint8_t *dst, const char *src, size_t width)
{
	size_t i = 0;

	for (; i < width && src[i]; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? (uint8_t)src[i] : ' ';
	for (; i < width; i++)
		dst[i] = ' ';
}

static uint32_t capacity_blocks(const struct mirror_receiver *rx)
{
	return rx->nvram->size / MIRROR_BLOCK_SIZE;
}

/* ---- INQUIRY and its VPD pages (SPC-4 6.6, 7.8) ---- */

#define INQUIRY_STD_LEN 36u

static unsigned serial_len(const struct mirror_receiver *rx)
{
	return (unsigned)strnlen(rx->serial, sizeof(rx->serial) - 1);
}

static uint32_t vpd_supported(const struct mirror_receiver *rx, uint8_t *out);
static uint32_t vpd_serial(const struct mirror_receiver *rx, uint8_t *out);
static uint32_t vpd_devid(const struct mirror_receiver *rx, uint8_t *out);

static const struct vpd_page {
	uint8_t code;
	uint32_t (*build)(const struct mirror_receiver *rx, uint8_t *out);
} vpd_pages[] = {
	{ 0x00, vpd_supported }, /* SPC-4 7.8.16, in ascending order */
	{ 0x80, vpd_serial },    /* 7.8.18 Unit Serial Number */
	{ 0x83, vpd_devid },     /* 7.8.6 Device Identification */
};
#define VPD_PAGES (sizeof(vpd_pages) / sizeof(vpd_pages[0]))

static uint32_t vpd_header(uint8_t *out, uint8_t code, unsigned len)
{
	out[0] = PERIPHERAL_DISK;
	out[1] = code;
	put_be16(out + 2, (uint16_t)len);
	return 4 + len;
}

static uint32_t vpd_supported(const struct mirror_receiver *rx, uint8_t *out)
{
	(void)rx;
	for (unsigned i = 0; i < VPD_PAGES; i++)
		out[4 + i] = vpd_pages[i].code;
	return vpd_header(out, 0x00, VPD_PAGES);
}

static uint32_t vpd_serial(const struct mirror_receiver *rx, uint8_t *out)
{
	unsigned n = serial_len(rx);

	memcpy(out + 4, rx->serial, n);
	return vpd_header(out, 0x80, n);
}

/* One designator, T10 vendor ID based (SPC-4 7.8.6.4): code set 2 ASCII,
 * association 00b (the logical unit), type 1; T10 VENDOR IDENTIFICATION
 * (8 bytes) then the unit serial number as the vendor specific part. */
static uint32_t vpd_devid(const struct mirror_receiver *rx, uint8_t *out)
{
	unsigned n = serial_len(rx);
	uint8_t *d = out + 4;

	d[0] = 0x02; /* protocol identifier 0, code set ASCII */
	d[1] = 0x01; /* PIV 0, association LU, designator type T10 vendor ID */
	d[2] = 0;
	d[3] = (uint8_t)(8 + n);
	put_ascii(d + 4, rx->vendor, 8);
	memcpy(d + 12, rx->serial, n);
	return vpd_header(out, 0x83, 4 + 8 + n);
}

static int scsi_inquiry(const struct mirror_receiver *rx, struct mirror_rx_task *t, uint8_t *out)
{
	const uint8_t *c = t->cdb;
	uint32_t alloc = get_be16(c + 3), n;

	if (c[1] & 0x02)
		return invalid_field(t, 1, 1, "CMDDT is obsolete");
	if (c[1] & 0x01) {
		const struct vpd_page *pg = NULL;
		for (unsigned i = 0; i < VPD_PAGES; i++)
			if (vpd_pages[i].code == c[2])
				pg = &vpd_pages[i];
		if (!pg)
			return invalid_field(t, 2, 7, "VPD page not supported");
		n = pg->build(rx, out);
		return (int)min_u32(n, alloc);
	}
	if (c[2])
		return invalid_field(t, 2, 7, "PAGE CODE without EVPD");
	memset(out, 0, INQUIRY_STD_LEN);
	out[0] = PERIPHERAL_DISK;
	out[2] = 0x06;                 /* VERSION: SPC-4 */
	out[3] = 0x12;                 /* HISUP, RESPONSE DATA FORMAT 2 */
	out[4] = INQUIRY_STD_LEN - 5;  /* ADDITIONAL LENGTH */
	out[7] = 0x02;                 /* CMDQUE */
	put_ascii(out + 8, rx->vendor, 8);
	put_ascii(out + 16, rx->product, 16);
	put_ascii(out + 32, rx->revision, 4);
	return (int)min_u32(INQUIRY_STD_LEN, alloc);
}

/* ---- TEST UNIT READY (SPC-4 6.47): the NVRAM is always ready ---- */

static int scsi_tur(const struct mirror_receiver *rx, struct mirror_rx_task *t, uint8_t *out)
{
	(void)rx;
	(void)t;
	(void)out;
	return 0;
}

/* ---- REPORT LUNS (SPC-4 6.33): LUN 0 only ---- */

static int scsi_report_luns(const struct mirror_receiver *rx, struct mirror_rx_task *t,
			    uint8_t *out)
{
	/* SELECT REPORT values of SPC-4/SPC-5 and how many of our LUNs each
	 * lists: LUN 0 is neither well known nor administrative. */
	static const struct {
		uint8_t select;
		uint8_t luns;
	} selects[] = { { 0x00, 1 }, { 0x01, 0 }, { 0x02, 1 }, { 0x10, 0 }, { 0x11, 0 } };
	const uint8_t *c = t->cdb;
	int luns = -1;

	(void)rx;
	for (unsigned i = 0; i < sizeof(selects) / sizeof(selects[0]); i++)
		if (selects[i].select == c[2])
			luns = selects[i].luns;
	if (luns < 0)
		return invalid_field(t, 2, 7, "SELECT REPORT not supported");
	/* The allocation length "should be at least 16" (SPC-4): shorter
	 * ones are cut, not refused. */
	uint32_t n = 8u + 8u * (unsigned)luns;
	memset(out, 0, n);
	put_be32(out, 8u * (unsigned)luns); /* LUN LIST LENGTH; LUN 0 is all zero */
	return (int)min_u32(n, get_be32(c + 6));
}

/* ---- READ CAPACITY (SBC-3 5.15, 5.16) ---- */

static int scsi_read_capacity10(const struct mirror_receiver *rx, struct mirror_rx_task *t,
				uint8_t *out)
{
	uint32_t last = capacity_blocks(rx) - 1;

	(void)t;
	put_be32(out, last);
	put_be32(out + 4, MIRROR_BLOCK_SIZE);
	return 8; /* no allocation length: always 8 bytes */
}

static int scsi_service_action_in16(const struct mirror_receiver *rx, struct mirror_rx_task *t,
				    uint8_t *out)
{
	const uint8_t *c = t->cdb;

	/* 9Eh is SERVICE ACTION IN(16); only READ CAPACITY(16), 10h. */
	if ((c[1] & 0x1f) != 0x10)
		return invalid_field(t, 1, 4, "service action not supported");
	memset(out, 0, 32);
	put_be64(out, (uint64_t)capacity_blocks(rx) - 1);
	put_be32(out + 8, MIRROR_BLOCK_SIZE);
	return (int)min_u32(32, get_be32(c + 10));
}

/* ---- REQUEST SENSE (SPC-4 6.39): sense is always delivered with the
 * status (autosense), so there is never any pending: NO SENSE ---- */

static int scsi_request_sense(const struct mirror_receiver *rx, struct mirror_rx_task *t,
			      uint8_t *out)
{
	struct mirror_sense s;

	(void)rx;
	if (t->cdb[1] & 0x01)
		return invalid_field(t, 1, 0, "DESC: descriptor format is not supported");
	memset(&s, 0, sizeof(s));
	s.key = MIRROR_SK_NO_SENSE;
	int n = mirror_sense_build(out, MIRROR_FIXED_SENSE_LEN, &s);
	if (n < 0)
		return invalid_field(t, 0, 7, "cannot build sense data");
	return (int)min_u32((uint32_t)n, t->cdb[4]);
}

/* ---- MODE SENSE (SPC-4 6.11, 6.12): no mode pages, so page 3Fh (all
 * pages) is the header alone; no block descriptors either ---- */

static int mode_page_check(struct mirror_rx_task *t)
{
	const uint8_t *c = t->cdb;

	if ((c[2] & 0x3f) != 0x3f)
		return invalid_field(t, 2, 5, "mode page not supported (only 3Fh)");
	if (c[3] != 0x00 && c[3] != 0xff)
		return invalid_field(t, 3, 7, "mode subpage not supported");
	return 0;
}

static int scsi_mode_sense6(const struct mirror_receiver *rx, struct mirror_rx_task *t,
			    uint8_t *out)
{
	(void)rx;
	if (mode_page_check(t) < 0)
		return -EINVAL;
	memset(out, 0, 4);
	out[0] = 3; /* MODE DATA LENGTH: the bytes after itself */
	return (int)min_u32(4, t->cdb[4]);
}

static int scsi_mode_sense10(const struct mirror_receiver *rx, struct mirror_rx_task *t,
			     uint8_t *out)
{
	(void)rx;
	if (mode_page_check(t) < 0)
		return -EINVAL;
	memset(out, 0, 8);
	put_be16(out, 6);
	return (int)min_u32(8, get_be16(t->cdb + 7));
}

static const struct scsi_command scsi_commands[] = {
	{ 0x00, 6, false, scsi_tur },
	{ 0x03, 6, true, scsi_request_sense },
	{ 0x12, 6, true, scsi_inquiry },
	{ 0x1A, 6, true, scsi_mode_sense6 },
	{ 0x25, 10, true, scsi_read_capacity10 },
	{ 0x5A, 10, true, scsi_mode_sense10 },
	{ 0x9E, 16, true, scsi_service_action_in16 },
	{ 0xA0, 12, true, scsi_report_luns },
};

int mirror_rx_scsi_begin(struct mirror_receiver *rx, struct mirror_rx_task *t,
			 struct mirror_rx_action *act)
{
	const struct scsi_command *c = NULL;
	uint8_t op = t->cdb[0];

	for (size_t i = 0; i < sizeof(scsi_commands) / sizeof(scsi_commands[0]); i++)
		if (scsi_commands[i].opcode == op)
			c = &scsi_commands[i];
	/* A command that returns data is not that command when it comes
	 * with data-out: a data-out 0xA0 is never REPORT LUNS. */
	if (c && c->data_in && t->dir == MIRROR_DIR_OUT)
		c = NULL;
	if (!c) {
		/* Known with another direction (a data-in 0x3C, 0xB0, a
		 * data-out 0xC8, ...) or not known at all (wire-profile.md:
		 * INVALID COMMAND OPERATION CODE either way). */
		bool known = mirror_command_of(&rx->profile, op) != MIRROR_CMD_NONE;
		for (size_t i = 0; !known && i < sizeof(scsi_commands) / sizeof(scsi_commands[0]); i++)
			known = scsi_commands[i].opcode == op;
		mirror_findings_add(&t->findings,
				    known ? MIRROR_RULE_OPCODE_DIRECTION : MIRROR_RULE_OPCODE_UNKNOWN,
				    true, 0, 7,
				    known ? "opcode 0x%02X is not a command with data %s"
					  : "opcode 0x%02X is not supported%s",
				    op,
				    known ? (t->dir == MIRROR_DIR_IN    ? "in"
					     : t->dir == MIRROR_DIR_OUT ? "out"
									: "direction none")
					  : "");
		mirror_rx_respond_findings(rx, t, act);
		return 0;
	}
	if (t->cdb_len < c->cdb_len) {
		mirror_findings_add(&t->findings, MIRROR_RULE_TRUNCATED, true, t->cdb_len, 7,
				    "CDB has %u bytes; opcode 0x%02X needs %u", t->cdb_len, op,
				    c->cdb_len);
		mirror_rx_respond_findings(rx, t, act);
		return 0;
	}
	int n = c->run(rx, t, t->inline_buf);
	if (n < 0) {
		mirror_rx_respond_findings(rx, t, act);
		return 0;
	}
	/* Never more than the initiator expects, nor any without data-in;
	 * what is cut off is the residual overflow. */
	uint32_t len = t->dir == MIRROR_DIR_IN ? min_u32((uint32_t)n, t->edtl) : 0;
	mirror_rx_respond_good(rx, t, act, t->inline_buf, len);
	act->data_in_overflow = (uint32_t)n - len;
	return 0;
}
