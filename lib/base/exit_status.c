/* sg3_utils' exit statuses (man sg3_utils), so scripts treat mirrortest
 * like sg_raw. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include <mirror/error.h>
#include <mirror/exit_status.h>

int mirror_exit_from_status(uint8_t status, const struct mirror_sense *s)
{
	switch (status) {
	case MIRROR_STATUS_GOOD:
		return MIRROR_EXIT_OK;
	case MIRROR_STATUS_BUSY:
		return MIRROR_EXIT_BUSY;
	case 0x04:
		return MIRROR_EXIT_CONDITION_MET;
	case MIRROR_STATUS_TASK_SET_FULL:
		return MIRROR_EXIT_TASK_SET_FULL;
	case 0x30:
		return MIRROR_EXIT_ACA_ACTIVE;
	case 0x18:
		return MIRROR_EXIT_RES_CONFLICT;
	case MIRROR_STATUS_TASK_ABORTED:
		return MIRROR_EXIT_TASK_ABORTED;
	case MIRROR_STATUS_CHECK_CONDITION:
		break;
	default:
		return MIRROR_EXIT_OTHER;
	}
	if (!s)
		return MIRROR_EXIT_OTHER;
	switch (s->key) {
	case MIRROR_SK_NO_SENSE:
		return MIRROR_EXIT_NO_SENSE;
	case 0x1:
		return MIRROR_EXIT_RECOVERED;
	case MIRROR_SK_NOT_READY:
		return MIRROR_EXIT_NOT_READY;
	case MIRROR_SK_MEDIUM_ERROR:
	case MIRROR_SK_HARDWARE_ERROR:
		return MIRROR_EXIT_MEDIUM_HARD;
	case MIRROR_SK_UNIT_ATTENTION:
		return MIRROR_EXIT_UNIT_ATTENTION;
	case 0x7:
		return MIRROR_EXIT_DATA_PROTECT;
	case 0xA:
		return MIRROR_EXIT_COPY_ABORTED;
	case MIRROR_SK_ABORTED_COMMAND:
		return MIRROR_EXIT_ABORTED_COMMAND;
	case MIRROR_SK_MISCOMPARE:
		return MIRROR_EXIT_MISCOMPARE;
	case MIRROR_SK_ILLEGAL_REQUEST:
		if (s->asc == 0x20 && s->ascq == 0x00)
			return MIRROR_EXIT_INVALID_OP;
		if (s->asc == 0x21 && s->ascq == 0x00)
			return MIRROR_EXIT_LBA_OUT_OF_RANGE;
		if (s->asc == 0x26)
			return MIRROR_EXIT_INVALID_PARAM;
		return MIRROR_EXIT_ILLEGAL_REQ;
	default:
		return MIRROR_EXIT_OTHER;
	}
}

/* Library codes (negative errno, MIRROR_E_*) to sg3_utils statuses: the
 * MIRROR_E_* codes stand for the sense a receiver would return (their ASC
 * decides, as in mirror_exit_from_status); file errno values are 15 and
 * a lost or refused connection is sg3_utils' transport error. */
static const struct {
	int code;
	int status;
} error_exits[] = {
	{ 0, MIRROR_EXIT_OK },
	{ MIRROR_E_INVALID_CDB, MIRROR_EXIT_ILLEGAL_REQ },
	{ MIRROR_E_INVALID_PARAM, MIRROR_EXIT_INVALID_PARAM },
	{ MIRROR_E_PARAM_LENGTH, MIRROR_EXIT_ILLEGAL_REQ },
	{ MIRROR_E_LBA_RANGE, MIRROR_EXIT_LBA_OUT_OF_RANGE },
	{ MIRROR_E_NOT_MIRROR, MIRROR_EXIT_INVALID_OP },
	{ MIRROR_E_TRUNCATED, MIRROR_EXIT_MALFORMED },
	{ -ETIMEDOUT, MIRROR_EXIT_TIMEOUT },
	{ -ENOENT, MIRROR_EXIT_FILE_ERROR },
	{ -EACCES, MIRROR_EXIT_FILE_ERROR },
	{ -EISDIR, MIRROR_EXIT_FILE_ERROR },
	{ -EIO, MIRROR_EXIT_FILE_ERROR },
	{ -ECONNREFUSED, MIRROR_EXIT_TRANSPORT },
	{ -ECONNRESET, MIRROR_EXIT_TRANSPORT },
	{ -EHOSTUNREACH, MIRROR_EXIT_TRANSPORT },
	{ -ENETUNREACH, MIRROR_EXIT_TRANSPORT },
	{ -EPIPE, MIRROR_EXIT_TRANSPORT },
};

int mirror_exit_from_error(int code)
{
	for (size_t i = 0; i < sizeof(error_exits) / sizeof(error_exits[0]); i++)
		if (error_exits[i].code == code)
			return error_exits[i].status;
	return MIRROR_EXIT_OTHER;
}

const char *mirror_exit_name(int status)
{
	static const struct {
		int status;
		const char *name;
	} names[] = {
		{ MIRROR_EXIT_OK, "ok" },
		{ MIRROR_EXIT_SYNTAX, "syntax error" },
		{ MIRROR_EXIT_NOT_READY, "not ready" },
		{ MIRROR_EXIT_MEDIUM_HARD, "medium or hardware error" },
		{ MIRROR_EXIT_ILLEGAL_REQ, "illegal request (invalid field in cdb)" },
		{ MIRROR_EXIT_UNIT_ATTENTION, "unit attention" },
		{ MIRROR_EXIT_DATA_PROTECT, "data protect" },
		{ MIRROR_EXIT_INVALID_OP, "invalid command operation code" },
		{ MIRROR_EXIT_COPY_ABORTED, "copy aborted" },
		{ MIRROR_EXIT_ABORTED_COMMAND, "aborted command" },
		{ MIRROR_EXIT_MISCOMPARE, "miscompare" },
		{ MIRROR_EXIT_FILE_ERROR, "file error" },
		{ MIRROR_EXIT_INVALID_PARAM, "invalid field in parameter list" },
		{ MIRROR_EXIT_NO_SENSE, "no sense" },
		{ MIRROR_EXIT_RECOVERED, "recovered error" },
		{ MIRROR_EXIT_LBA_OUT_OF_RANGE, "lba out of range" },
		{ MIRROR_EXIT_RES_CONFLICT, "reservation conflict" },
		{ MIRROR_EXIT_CONDITION_MET, "condition met" },
		{ MIRROR_EXIT_BUSY, "busy" },
		{ MIRROR_EXIT_TASK_SET_FULL, "task set full" },
		{ MIRROR_EXIT_ACA_ACTIVE, "aca active" },
		{ MIRROR_EXIT_TASK_ABORTED, "task aborted" },
		{ MIRROR_EXIT_LOGIC_ERROR, "logic error" },
		{ MIRROR_EXIT_TIMEOUT, "timeout" },
		{ MIRROR_EXIT_TRANSPORT, "transport error" },
		{ MIRROR_EXIT_MALFORMED, "malformed response" },
		{ MIRROR_EXIT_OTHER, "other error" },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].status == status)
			return names[i].name;
	return "unknown";
}

int mirror_syntax_error(const char *prog, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", prog);
	return MIRROR_EXIT_SYNTAX;
}
