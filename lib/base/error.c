#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <mirror/error.h>
#include <mirror/mirror.h>

#include "base/why.h"

static const char *const mirror_error_text[] = {
	[-(MIRROR_E_INVALID_CDB - MIRROR_E_BASE)] = "invalid field in CDB",
	[-(MIRROR_E_INVALID_PARAM - MIRROR_E_BASE)] = "invalid field in parameter list",
	[-(MIRROR_E_PARAM_LENGTH - MIRROR_E_BASE)] = "parameter list length error",
	[-(MIRROR_E_LBA_RANGE - MIRROR_E_BASE)] = "logical block address out of range",
	[-(MIRROR_E_TRUNCATED - MIRROR_E_BASE)] = "truncated: fewer bytes than the structure needs",
	[-(MIRROR_E_FIELD_WIDTH - MIRROR_E_BASE)] = "value does not fit its wire field",
	[-(MIRROR_E_PROFILE - MIRROR_E_BASE)] = "inconsistent wire profile",
	[-(MIRROR_E_NOT_MIRROR - MIRROR_E_BASE)] = "not a mirror command under this profile",
	[-(MIRROR_E_NOSPACE - MIRROR_E_BASE)] = "output buffer too small",
};

const char *mirror_strerror(int code)
{
	if (code >= 0)
		return "success";
	if (code <= MIRROR_E_BASE && code > MIRROR_E_LAST)
		return mirror_error_text[-(code - MIRROR_E_BASE)];
	if (code > -1000)
		return strerror(-code); /* glibc: static text for known codes */
	return "unknown error";
}

const char *mirror_version(void)
{
	return PACKAGE_VERSION;
}

int mirror_fail(int code, char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;

	if (why && why_len) {
		va_start(ap, fmt);
		vsnprintf(why, why_len, fmt, ap);
		va_end(ap);
	}
	return code;
}
