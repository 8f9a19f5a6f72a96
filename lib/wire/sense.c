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
#include "base/cursor.h"

/* Response codes (SPC-5 4.4.1) */
#define SENSE_FIXED_CURRENT 0x70u
#define SENSE_FIXED_DEFERRED 0x71u
#define SENSE_DESC_CURRENT 0x72u
#define SENSE_DESC_DEFERRED 0x73u
#define SENSE_RESPONSE_CODE_MASK 0x7fu
#define SENSE_KEY_MASK 0x0fu
/* Fixed format (4.4.3) */
#define FIXED_RESPONSE 0u      /* bit 7: VALID (the information field) */
#define FIXED_VALID 0x80u
#define FIXED_KEY 2u
#define FIXED_INFO 3u          /* 4 bytes */
#define FIXED_ADDL_LEN 7u      /* bytes after byte 7 */
#define FIXED_ASC 12u
#define FIXED_ASCQ 13u
#define FIXED_SKS 15u          /* 3 bytes */
#define FIXED_MIN_LEN 14u      /* through the ASCQ */
/* Descriptor format (4.4.2) */
#define DESC_KEY 1u
#define DESC_ASC 2u
#define DESC_ASCQ 3u
#define DESC_ADDL_LEN 7u
#define DESC_FIRST 8u          /* the first descriptor; also the minimum length */
#define DESC_HDR_LEN 2u        /* type, additional length */
#define DESC_TYPE_INFO 0x00u   /* 4.4.2.2: VALID in byte 2, information at 4 */
#define DESC_INFO_MIN_LEN 0x0au
#define DESC_INFO_VALID 2u
#define DESC_INFO 4u           /* 8 bytes */
#define DESC_TYPE_SKS 0x02u    /* 4.4.2.3: the three SKS bytes at 4 */
#define DESC_SKS_MIN_LEN 0x06u
#define DESC_SKS 4u
/* Sense-key specific, field pointer (4.4.2.4.4): byte 0 SKSV, C/D, BPV,
 * bit pointer; bytes 1-2 field pointer */
#define SKS_LEN 3u
#define SKS_SKSV 0x80u
#define SKS_CD 0x40u
#define SKS_BPV 0x08u
#define SKS_BIT_MASK 0x07u
#define SKS_FIELD 1u

int mirror_sense_build(uint8_t *buf, size_t cap, const struct mirror_sense *s)
{
	if (cap < MIRROR_FIXED_SENSE_LEN)
		return MIRROR_E_NOSPACE;
	memset(buf, 0, MIRROR_FIXED_SENSE_LEN);
	buf[FIXED_RESPONSE] = s->deferred ? SENSE_FIXED_DEFERRED : SENSE_FIXED_CURRENT;
	if (s->info_valid) {
		buf[FIXED_RESPONSE] |= FIXED_VALID;
		put_be32(buf + FIXED_INFO, (uint32_t)s->info);
	}
	buf[FIXED_KEY] = s->key & SENSE_KEY_MASK;
	buf[FIXED_ADDL_LEN] = MIRROR_FIXED_SENSE_LEN - (FIXED_ADDL_LEN + 1);
	buf[FIXED_ASC] = s->asc;
	buf[FIXED_ASCQ] = s->ascq;
	if (s->sksv) {
		buf[FIXED_SKS] = (uint8_t)(SKS_SKSV | (s->cd ? SKS_CD : 0) |
					   (s->bpv ? SKS_BPV | (s->bit & SKS_BIT_MASK) : 0));
		put_be16(buf + FIXED_SKS + SKS_FIELD, s->field);
	}
	return MIRROR_FIXED_SENSE_LEN;
}

void mirror_sense_from_finding(const struct mirror_finding *f, struct mirror_sense *s)
{
	const struct mirror_rule_info *ri = mirror_rule_info(f->rule);

	memset(s, 0, sizeof(*s));
	s->response_code = SENSE_FIXED_CURRENT;
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

/* The three sense-key specific bytes at off (a field pointer only for
 * ILLEGAL REQUEST); nothing when they are not all in the cursor. */
static void parse_sks(struct cursor *c, size_t off, struct mirror_sense *s)
{
	const uint8_t *sks = cur_take_at(c, off, SKS_LEN);

	if (!sks)
		return;
	s->sksv = (sks[0] & SKS_SKSV) != 0;
	if (!s->sksv || s->key != MIRROR_SK_ILLEGAL_REQUEST)
		return;
	s->cd = (sks[0] & SKS_CD) != 0;
	s->bpv = (sks[0] & SKS_BPV) != 0;
	s->bit = sks[0] & SKS_BIT_MASK;
	s->field = get_be16(sks + SKS_FIELD);
}

/* The additional length at addl_off bounds what follows, and so does the
 * buffer: a cursor over the bytes both allow. */
static void sense_bounded(struct cursor *c, struct cursor *whole, size_t addl_off)
{
	size_t end = addl_off + 1u + cur_u8_at(whole, addl_off);

	cur_init(c, whole->p, end < whole->len ? end : whole->len);
}

static int parse_fixed(struct cursor *h, struct mirror_sense *s)
{
	struct cursor c;

	if (!cur_has_at(h, 0, FIXED_MIN_LEN))
		return MIRROR_E_TRUNCATED;
	s->deferred = s->response_code == SENSE_FIXED_DEFERRED;
	s->key = cur_u8_at(h, FIXED_KEY) & SENSE_KEY_MASK;
	s->info_valid = (cur_u8_at(h, FIXED_RESPONSE) & FIXED_VALID) != 0;
	s->info = cur_be32_at(h, FIXED_INFO);
	sense_bounded(&c, h, FIXED_ADDL_LEN);
	/* fields the additional length leaves out read as zero */
	s->asc = cur_u8_at(&c, FIXED_ASC);
	s->ascq = cur_u8_at(&c, FIXED_ASCQ);
	parse_sks(&c, FIXED_SKS, s);
	return 0;
}

static int parse_descriptors(struct cursor *h, struct mirror_sense *s)
{
	struct cursor c;

	if (!cur_has_at(h, 0, DESC_FIRST))
		return MIRROR_E_TRUNCATED;
	s->descriptor_format = true;
	s->deferred = s->response_code == SENSE_DESC_DEFERRED;
	s->key = cur_u8_at(h, DESC_KEY) & SENSE_KEY_MASK;
	s->asc = cur_u8_at(h, DESC_ASC);
	s->ascq = cur_u8_at(h, DESC_ASCQ);
	sense_bounded(&c, h, DESC_ADDL_LEN);
	/* Walk the descriptors, each bounded by its own length and by the
	 * cursor; the minimum lengths keep each field inside its descriptor. */
	cur_skip(&c, DESC_FIRST);
	while (cur_left(&c) >= DESC_HDR_LEN) {
		size_t at = cur_offset(&c);
		uint8_t type = cur_u8(&c), dlen = cur_u8(&c);

		if (!cur_take(&c, dlen))
			break;
		if (type == DESC_TYPE_INFO && dlen >= DESC_INFO_MIN_LEN) {
			s->info_valid = (cur_u8_at(&c, at + DESC_INFO_VALID) & FIXED_VALID) != 0;
			s->info = cur_be64_at(&c, at + DESC_INFO);
		} else if (type == DESC_TYPE_SKS && dlen >= DESC_SKS_MIN_LEN) {
			parse_sks(&c, at + DESC_SKS, s);
		}
	}
	return 0;
}

int mirror_sense_parse(const uint8_t *buf, size_t len, struct mirror_sense *s)
{
	struct cursor h;

	memset(s, 0, sizeof(*s));
	cur_init(&h, buf, len);
	s->response_code = cur_u8_at(&h, FIXED_RESPONSE) & SENSE_RESPONSE_CODE_MASK;
	if (!cur_ok(&h))
		return MIRROR_E_TRUNCATED;
	switch (s->response_code) {
	case SENSE_FIXED_CURRENT:
	case SENSE_FIXED_DEFERRED:
		return parse_fixed(&h, s);
	case SENSE_DESC_CURRENT:
	case SENSE_DESC_DEFERRED:
		return parse_descriptors(&h, s);
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
