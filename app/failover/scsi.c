/* The few SCSI commands mirror-failover sends besides WRITE(10), built and
 * decoded here byte by byte: READ(10) for the read-back, and what a
 * multipath host asks to find the active path (INQUIRY's Device
 * Identification page for a path's target port group, REPORT TARGET PORT
 * GROUPS for the groups' states), as Linux's scsi_dh_alua does. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "app/failover/run.h"
#include "base/bytes.h"

#define OPCODE_READ10 0x28u
#define OPCODE_INQUIRY 0x12u
#define OPCODE_MAINT_IN 0xA3u
#define SA_RTPG 0x0Au
#define OPCODE_TUR 0x00u

void fo_cmd_read10(struct mirror_cmd *c, uint32_t lba, uint16_t blocks, uint8_t *buf, uint32_t len)
{
	memset(c, 0, sizeof(*c));
	/* SBC-3 5.11: LBA in bytes 2-5, TRANSFER LENGTH in 7-8 */
	c->cdb[0] = OPCODE_READ10;
	put_be32(c->cdb + 2, lba);
	put_be16(c->cdb + 7, blocks);
	c->cdb_len = 10;
	c->dir = MIRROR_DIR_IN;
	c->data_in = buf;
	c->data_in_len = len;
}

void fo_cmd_inquiry_devid(struct mirror_cmd *c, uint8_t *buf, uint16_t len)
{
	memset(c, 0, sizeof(*c));
	/* SPC-4 6.6: EVPD (byte 1 bit 0), PAGE CODE 83h, ALLOCATION LENGTH 3-4 */
	c->cdb[0] = OPCODE_INQUIRY;
	c->cdb[1] = 0x01;
	c->cdb[2] = 0x83;
	put_be16(c->cdb + 3, len);
	c->cdb_len = 6;
	c->dir = MIRROR_DIR_IN;
	c->data_in = buf;
	c->data_in_len = len;
}

void fo_cmd_rtpg(struct mirror_cmd *c, uint8_t *buf, uint32_t len)
{
	memset(c, 0, sizeof(*c));
	/* SPC-4 6.36: MAINTENANCE IN, SERVICE ACTION 0Ah in byte 1 bits 4-0,
	 * PARAMETER DATA FORMAT 000b (length-only header), ALLOCATION
	 * LENGTH in bytes 6-9 */
	c->cdb[0] = OPCODE_MAINT_IN;
	c->cdb[1] = SA_RTPG;
	put_be32(c->cdb + 6, len);
	c->cdb_len = 12;
	c->dir = MIRROR_DIR_IN;
	c->data_in = buf;
	c->data_in_len = len;
}

void fo_cmd_tur(struct mirror_cmd *c)
{
	memset(c, 0, sizeof(*c));
	c->cdb[0] = OPCODE_TUR;
	c->cdb_len = 6;
	c->dir = MIRROR_DIR_NONE;
}

int fo_devid_tpg(const uint8_t *p, size_t len)
{
	/* SPC-4 7.8.6: header of 4 (PAGE LENGTH in bytes 2-3), then
	 * designators: byte 1 bits 5-4 ASSOCIATION, bits 3-0 DESIGNATOR TYPE,
	 * byte 3 the designator's length.  Type 5 (target port group) names
	 * the group in its last two bytes. */
	if (len < 4 || p[1] != 0x83)
		return -EINVAL;
	size_t end = 4u + get_be16(p + 2);
	if (end > len)
		end = len;
	for (size_t off = 4; off + 4 <= end;) {
		unsigned type = p[off + 1] & 0x0Fu, assoc = (p[off + 1] >> 4) & 0x03u;
		size_t dlen = p[off + 3];
		if (off + 4 + dlen > end)
			break;
		if (type == 5 && assoc == 1 && dlen >= 4)
			return get_be16(p + off + 4 + 2);
		off += 4 + dlen;
	}
	return -ENOENT;
}

int fo_rtpg_decode(const uint8_t *p, size_t len, struct fo_tpg *out, unsigned cap)
{
	unsigned n = 0;

	/* length-only header: RETURN DATA LENGTH in bytes 0-3; each group
	 * descriptor 8 bytes plus 4 per target port (TARGET PORT COUNT, byte
	 * 7).  The state is byte 0 bits 3-0: the PREF bit (7) is not part of
	 * it, which a decoder that reads the whole byte gets wrong. */
	if (len < 4)
		return -EINVAL;
	size_t end = 4u + get_be32(p);
	if (end > len)
		end = len;
	for (size_t off = 4; off + 8 <= end;) {
		size_t dlen = 8u + 4u * p[off + 7];
		if (n < cap) {
			out[n].state = p[off] & 0x0Fu;
			out[n].pref = (p[off] & 0x80u) != 0;
			out[n].id = get_be16(p + off + 2);
		}
		n++;
		off += dlen;
	}
	return (int)(n < cap ? n : cap);
}
