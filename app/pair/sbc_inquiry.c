/* INQUIRY (SPC-4 6.6): the standard data and the vital product data pages
 * 00h (7.8.16 Supported VPD Pages), 80h (7.8.18 Unit Serial Number), 83h
 * (7.8.6 Device Identification) and B0h (SBC-3 6.5.3 Block Limits). */
#include "config.h"

#include <string.h>

#include "app/pair/sbc_int.h"
#include "base/bytes.h"

/* Peripheral qualifier 000b, device type 00h (direct access block); for a
 * LUN without a logical unit, qualifier 011b and type 1Fh (SPC-4 6.6.2:
 * not capable of supporting a device on this logical unit). */
#define PERIPHERAL_DISK 0x00
#define PERIPHERAL_NO_LU 0x7F
/* Up to the last version descriptor and the reserved bytes after it
 * (SPC-4 6.6.2, bytes 58-95). */
#define INQUIRY_STD_LEN 96u

/* VERSION DESCRIPTORs (SPC-4 6.6.2, table 146): the standards this
 * logical unit claims, in the order SPC-4 recommends (architecture,
 * transport, primary command set, device type command set).  Hosts read
 * the command set level from them (libiscsi's iscsi-test-cu decides
 * "SBC-3" from 04C0h, Block Limits page length 3Ch included). */
static const uint16_t version_descriptors[] = {
	0x00A0, /* SAM-5 (no version claimed) */
	0x0960, /* iSCSI (no version claimed) */
	0x0460, /* SPC-4 (no version claimed) */
	0x04C0, /* SBC-3 (no version claimed) */
};

static uint32_t vpd_header(uint8_t *out, uint8_t code, unsigned len)
{
	out[0] = PERIPHERAL_DISK;
	out[1] = code;
	put_be16(out + 2, (uint16_t)len);
	return 4u + len;
}

static uint32_t vpd_supported(const struct mirror_sbc_lu *lu, uint8_t *out);

static uint32_t vpd_serial(const struct mirror_sbc_lu *lu, uint8_t *out)
{
	unsigned n = (unsigned)strnlen(lu->cfg.serial, sizeof(lu->cfg.serial) - 1);

	memcpy(out + 4, lu->cfg.serial, n);
	return vpd_header(out, 0x80, n);
}

/* Designation descriptor header (SPC-4 7.8.6): byte 0 PROTOCOL IDENTIFIER (7-4) and
 * CODE SET (3-0), byte 1 PIV (7), ASSOCIATION (5-4), DESIGNATOR TYPE (3-0),
 * byte 3 the designator's length. */
static uint8_t *put_designator(uint8_t *d, uint8_t proto_codeset, uint8_t piv_assoc_type,
			       const uint8_t *val, unsigned len)
{
	d[0] = proto_codeset;
	d[1] = piv_assoc_type;
	d[2] = 0;
	d[3] = (uint8_t)len;
	memcpy(d + 4, val, len);
	return d + 4 + len;
}

/* Three designators (SPC-4 7.8.6; the ASSOCIATION says what each names):
 *  - NAA 6 IEEE registered extended, type 3h, association 00b: the logical
 *    unit, identical through both controllers, so that hosts see one
 *    device on two paths;
 *  - relative target port (type 4h) and target port group (type 5h),
 *    association 01b: the port the command came through, PIV 1 with
 *    protocol identifier 5h (iSCSI), binary code set.
 * Linux finds a path's group from the last two (scsi_vpd_tpg_id). */
static uint32_t vpd_devid(const struct mirror_sbc_lu *lu, uint8_t *out)
{
	uint8_t port[4] = { 0 }, tpg[4] = { 0 };
	uint8_t *d = out + 4;

	put_be16(port + 2, lu->cfg.local_rel_port);
	put_be16(tpg + 2, lu->cfg.local_tpg);
	d = put_designator(d, 0x01, 0x03, lu->cfg.naa, 16);
	d = put_designator(d, 0x51, 0x94, port, 4);
	d = put_designator(d, 0x51, 0x95, tpg, 4);
	return vpd_header(out, 0x83, (unsigned)(d - (out + 4)));
}

/* Block Limits, page length 3Ch: WSNZ (byte 4 bit 0: WRITE SAME of 0
 * blocks is refused), OPTIMAL TRANSFER LENGTH GRANULARITY (bytes 6-7),
 * MAXIMUM TRANSFER LENGTH (bytes 8-11) and MAXIMUM WRITE SAME LENGTH
 * (bytes 36-43) the same; the rest (compare and write, unmap) is not
 * supported: 0. */
static uint32_t vpd_block_limits(const struct mirror_sbc_lu *lu, uint8_t *out)
{
	memset(out + 4, 0, 0x3C);
	out[4] = 0x01;
	put_be16(out + 6, MIRROR_SBC_OPTIMAL_GRANULARITY);
	put_be32(out + 8, sbc_max_transfer(lu));
	put_be64(out + 36, sbc_max_transfer(lu));
	return vpd_header(out, 0xB0, 0x3C);
}

static const struct vpd_page {
	uint8_t code;
	uint32_t (*build)(const struct mirror_sbc_lu *lu, uint8_t *out);
} vpd_pages[] = {
	/* ascending, as page 00h lists them */
	{ 0x00, vpd_supported },
	{ 0x80, vpd_serial },
	{ 0x83, vpd_devid },
	{ 0xB0, vpd_block_limits },
};

static uint32_t vpd_supported(const struct mirror_sbc_lu *lu, uint8_t *out)
{
	(void)lu;
	for (unsigned i = 0; i < SBC_ARRAY_LEN(vpd_pages); i++)
		out[4 + i] = vpd_pages[i].code;
	return vpd_header(out, 0x00, SBC_ARRAY_LEN(vpd_pages));
}

static int inquiry_vpd(struct sbc_ctx *x, uint32_t alloc)
{
	uint8_t code = x->cdb[2];

	for (size_t i = 0; i < SBC_ARRAY_LEN(vpd_pages); i++) {
		if (vpd_pages[i].code != code)
			continue;
		/* No logical unit, no product data to report. */
		if (!x->lu)
			return sbc_check(x, MIRROR_SK_ILLEGAL_REQUEST, 0x25, 0x00,
					 "INQUIRY: VPD page %02Xh of a LUN without a logical unit",
					 code);
		return sbc_data(x, vpd_pages[i].build(x->lu, x->v->data), alloc);
	}
	return sbc_invalid(x, 0x24, 0x00, 2, 7, "INQUIRY: CDB byte 2: VPD page %02Xh is not supported",
			   code);
}

int sbc_inquiry(struct sbc_ctx *x)
{
	const uint8_t *c = x->cdb;
	uint32_t alloc = get_be16(c + 3);
	uint8_t *d = x->v->data;

	if (c[1] & 0x01) /* EVPD */
		return inquiry_vpd(x, alloc);
	if (c[2])
		return sbc_invalid(x, 0x24, 0x00, 2, 7,
				   "INQUIRY: CDB byte 2: PAGE CODE %02Xh without EVPD", c[2]);
	memset(d, 0, INQUIRY_STD_LEN);
	d[0] = x->lu ? PERIPHERAL_DISK : PERIPHERAL_NO_LU;
	d[2] = 0x06;                /* VERSION: SPC-4 */
	d[3] = 0x12;                /* HISUP, RESPONSE DATA FORMAT 2 */
	d[4] = INQUIRY_STD_LEN - 5; /* ADDITIONAL LENGTH */
	d[5] = 0x10;                /* TPGS 01b: implicit ALUA only */
	d[6] = 0x10;                /* MULTIP: two target ports, one per controller */
	d[7] = 0x02;                /* CMDQUE */
	sbc_put_ascii(d + 8, MIRROR_SBC_VENDOR, 8);
	sbc_put_ascii(d + 16, MIRROR_SBC_PRODUCT, 16);
	sbc_put_ascii(d + 32, MIRROR_SBC_REVISION, 4);
	for (unsigned i = 0; i < SBC_ARRAY_LEN(version_descriptors); i++)
		put_be16(d + 58 + 2 * i, version_descriptors[i]);
	return sbc_data(x, INQUIRY_STD_LEN, alloc);
}
