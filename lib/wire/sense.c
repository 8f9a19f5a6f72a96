/* Sense data (SPC-5 4.4.2 descriptor format, 4.4.3 fixed format;
 * 4.4.2.4.4 / 4.4.3 field pointer: SKSV byte 15 bit 7, C/D bit 6, BPV bit 3,
 * bit pointer bits 2-0, field pointer bytes 16-17). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <scsi/sg_lib.h>

#include <mirror/error.h>
#include <mirror/sense.h>

#include "base/bytes.h"

int mirror_sense_build(uint8_t *buf, size_t cap, const struct mirror_sense *s)
{
	if (cap < MIRROR_FIXED_SENSE_LEN)
		return MIRROR_E_NOSPACE;
	memset(buf, 0, MIRROR_FIXED_SENSE_LEN);
	buf[0] = s->deferred ? 0x71 : 0x70;
	if (s->info_valid) {
		buf[0] |= 0x80;
		put_be32(buf + 3, (uint32_t)s->info);
	}
	buf[2] = s->key & 0x0f;
	buf[7] = MIRROR_FIXED_SENSE_LEN - 8;
	buf[12] = s->asc;
	buf[13] = s->ascq;
	if (s->sksv) {
		buf[15] = (uint8_t)(0x80 | (s->cd ? 0x40 : 0) | (s->bpv ? 0x08 | (s->bit & 7) : 0));
		put_be16(buf + 16, s->field);
	}
	return MIRROR_FIXED_SENSE_LEN;
}

void mirror_sense_from_finding(const struct mirror_finding *f, struct mirror_sense *s)
{
	const struct mirror_rule_info *ri = mirror_rule_info(f->rule);

	memset(s, 0, sizeof(*s));
	s->response_code = 0x70;
	s->key = ri ? ri->sense_key : MIRROR_SK_ILLEGAL_REQUEST;
	s->asc = ri ? ri->asc : 0x24;
	s->ascq = ri ? ri->ascq : 0;
	if (f->sksv) {
		s->sksv = true;
		s->cd = f->in_cdb;
		s->bpv = true;
		s->bit = f->bit;
		s->field = f->byte;
	}
}

static void parse_sks(const uint8_t *sks, struct mirror_sense *s)
{
	s->sksv = (sks[0] & 0x80) != 0;
	if (!s->sksv || s->key != MIRROR_SK_ILLEGAL_REQUEST)
		return;
	s->cd = (sks[0] & 0x40) != 0;
	s->bpv = (sks[0] & 0x08) != 0;
	s->bit = sks[0] & 0x07;
	s->field = get_be16(sks + 1);
}

int mirror_sense_parse(const uint8_t *buf, size_t len, struct mirror_sense *s)
{
	memset(s, 0, sizeof(*s));
	if (len < 1)
		return MIRROR_E_TRUNCATED;
	s->response_code = buf[0] & 0x7f;
	switch (s->response_code) {
	case 0x70:
	case 0x71: {
		if (len < 14)
			return MIRROR_E_TRUNCATED;
		s->deferred = s->response_code == 0x71;
		s->key = buf[2] & 0x0f;
		s->info_valid = (buf[0] & 0x80) != 0;
		s->info = get_be32(buf + 3);
		/* The additional length bounds what follows, and so does len. */
		size_t avail = 8u + buf[7];
		if (avail > len)
			avail = len;
		s->asc = avail > 12 ? buf[12] : 0;
		s->ascq = avail > 13 ? buf[13] : 0;
		if (avail >= 18)
			parse_sks(buf + 15, s);
		return 0;
	}
	case 0x72:
	case 0x73: {
		if (len < 8)
			return MIRROR_E_TRUNCATED;
		s->descriptor_format = true;
		s->deferred = s->response_code == 0x73;
		s->key = buf[1] & 0x0f;
		s->asc = buf[2];
		s->ascq = buf[3];
		size_t end = 8u + buf[7];
		if (end > len)
			end = len;
		/* Walk the descriptors, each bounded by its own length and by
		 * the buffer. */
		for (size_t at = 8; at + 2 <= end;) {
			uint8_t type = buf[at], dlen = buf[at + 1];
			if (at + 2 + dlen > end)
				break;
			if (type == 0x00 && dlen >= 0x0a) { /* information */
				s->info_valid = (buf[at + 2] & 0x80) != 0;
				s->info = get_be64(buf + at + 4);
			} else if (type == 0x02 && dlen >= 0x06) { /* sense key specific */
				parse_sks(buf + at + 4, s);
			}
			at += 2u + dlen;
		}
		return 0;
	}
	default:
		return -EINVAL;
	}
}

const char *mirror_status_name(uint8_t status)
{
	static const struct {
		uint8_t status;
		const char *name;
	} names[] = {
		{ 0x00, "GOOD" },
		{ 0x02, "CHECK CONDITION" },
		{ 0x04, "CONDITION MET" },
		{ 0x08, "BUSY" },
		{ 0x18, "RESERVATION CONFLICT" },
		{ 0x28, "TASK SET FULL" },
		{ 0x30, "ACA ACTIVE" },
		{ 0x40, "TASK ABORTED" },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].status == status)
			return names[i].name;
	return "reserved status";
}

const char *mirror_sense_key_name(uint8_t key)
{
	static const char *const names[16] = {
		"NO SENSE", "RECOVERED ERROR", "NOT READY", "MEDIUM ERROR",
		"HARDWARE ERROR", "ILLEGAL REQUEST", "UNIT ATTENTION", "DATA PROTECT",
		"BLANK CHECK", "VENDOR SPECIFIC", "COPY ABORTED", "ABORTED COMMAND",
		"RESERVED", "VOLUME OVERFLOW", "MISCOMPARE", "COMPLETED",
	};
	return names[key & 0x0f];
}

int mirror_sense_describe(const struct mirror_sense *s, char *buf, size_t cap)
{
	char asc[128];
	int n;

	/* libsgutils2 carries the full SPC ASC/ASCQ table. */
	sg_get_asc_ascq_str(s->asc, s->ascq, (int)sizeof(asc), asc);
	n = snprintf(buf, cap, "%s: %s", mirror_sense_key_name(s->key), asc);
	if (s->sksv && (size_t)n < cap && s->bpv)
		n += snprintf(buf + n, cap - (size_t)n, " [%s byte %u bit %u]",
			      s->cd ? "CDB" : "parameter list", s->field, s->bit);
	else if (s->sksv && (size_t)n < cap)
		n += snprintf(buf + n, cap - (size_t)n, " [%s byte %u]",
			      s->cd ? "CDB" : "parameter list", s->field);
	return n;
}
