/* Verdicts and sense: CHECK CONDITION with fixed-format sense data (SPC-4
 * 4.5.3) and, for ILLEGAL REQUEST, the sense-key-specific field pointer
 * (4.5.2.4.2: SKSV, C/D = 1 for the CDB, BPV with the bit pointer at the
 * left-most bit of the field in error, the FIELD POINTER the byte); the
 * table-driven check of the fields a CDB must leave zero. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "app/pair/sbc_int.h"
#include "base/bytes.h"

__attribute__((format(printf, 2, 0)))
static void set_why(struct mirror_sbc_verdict *v, const char *fmt, va_list ap)
{
	vsnprintf(v->why, sizeof(v->why), fmt, ap);
}

static int check_sense(struct sbc_ctx *x, const struct mirror_sense *s)
{
	struct mirror_sbc_verdict *v = x->v;
	int n;

	v->kind = MIRROR_SBC_RESPOND;
	v->status = MIRROR_STATUS_CHECK_CONDITION;
	v->data_len = 0;
	v->data_overflow = 0;
	n = mirror_sense_build(v->sense, sizeof(v->sense), s);
	v->sense_len = n > 0 ? (unsigned)n : 0;
	return -1;
}

void sbc_sense_bytes(uint8_t *buf, uint8_t key, uint8_t asc, uint8_t ascq)
{
	struct mirror_sense s;

	memset(&s, 0, sizeof(s));
	s.key = key;
	s.asc = asc;
	s.ascq = ascq;
	(void)mirror_sense_build(buf, MIRROR_FIXED_SENSE_LEN, &s);
}

int sbc_check(struct sbc_ctx *x, uint8_t key, uint8_t asc, uint8_t ascq, const char *fmt, ...)
{
	struct mirror_sense s;
	va_list ap;

	memset(&s, 0, sizeof(s));
	s.key = key;
	s.asc = asc;
	s.ascq = ascq;
	va_start(ap, fmt);
	set_why(x->v, fmt, ap);
	va_end(ap);
	return check_sense(x, &s);
}

/* ILLEGAL REQUEST with a field pointer (SPC-4 4.5.2.4.2): cd says whether
 * it points into the CDB (C/D = 1) or the parameter list (C/D = 0). */
static int invalid_field(struct sbc_ctx *x, uint8_t asc, uint8_t ascq, bool cd, unsigned byte,
			 unsigned bit, const char *fmt, va_list ap)
{
	struct mirror_sense s;

	memset(&s, 0, sizeof(s));
	s.key = MIRROR_SK_ILLEGAL_REQUEST;
	s.asc = asc;
	s.ascq = ascq;
	s.sksv = true;
	s.cd = cd;
	s.bpv = true;
	s.bit = (uint8_t)bit;
	s.field = (uint16_t)byte;
	set_why(x->v, fmt, ap);
	return check_sense(x, &s);
}

int sbc_invalid(struct sbc_ctx *x, uint8_t asc, uint8_t ascq, unsigned byte, unsigned bit,
		const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = invalid_field(x, asc, ascq, true, byte, bit, fmt, ap);
	va_end(ap);
	return rc;
}

int sbc_check_zero(struct sbc_ctx *x, const struct sbc_field *f, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint32_t val = get_bits(x->cdb, f[i].byte * 8u + 7u - f[i].bit, f[i].width);
		if (val)
			return sbc_invalid(x, 0x24, 0x00, f[i].byte, f[i].bit,
					   "%s: CDB byte %u bit %u: %s is 0x%X, must be 0",
					   x->cmd->name, f[i].byte, f[i].bit, f[i].name, (unsigned)val);
	}
	return 0;
}

int sbc_data(struct sbc_ctx *x, uint32_t total, uint32_t alloc)
{
	struct mirror_sbc_verdict *v = x->v;

	v->kind = MIRROR_SBC_RESPOND;
	v->status = MIRROR_STATUS_GOOD;
	v->sense_len = 0;
	v->data_len = sbc_min32(total, alloc);
	v->data_overflow = 0;
	return 0;
}

int sbc_good(struct sbc_ctx *x)
{
	return sbc_data(x, 0, 0);
}

void sbc_put_ascii(uint8_t *dst, const char *src, unsigned width)
{
	unsigned i = 0;

	for (; i < width && src[i]; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? (uint8_t)src[i] : ' ';
	for (; i < width; i++)
		dst[i] = ' ';
}

int sbc_conflict(struct sbc_ctx *x, const char *fmt, ...)
{
	struct mirror_sbc_verdict *v = x->v;
	va_list ap;

	va_start(ap, fmt);
	set_why(v, fmt, ap);
	va_end(ap);
	/* SAM-5 5.3.1: RESERVATION CONFLICT carries no sense data */
	v->kind = MIRROR_SBC_RESPOND;
	v->status = MIRROR_SBC_STATUS_RESERVATION_CONFLICT;
	v->sense_len = 0;
	v->data_len = 0;
	v->data_overflow = 0;
	return -1;
}

int sbc_invalid_param(struct sbc_ctx *x, uint8_t asc, unsigned byte, unsigned bit,
		      const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = invalid_field(x, asc, 0, false, byte, bit, fmt, ap);
	va_end(ap);
	return rc;
}
