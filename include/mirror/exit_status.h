/* Exit statuses of every mirrortest command: sg3_utils' table
 * (man sg3_utils, <scsi/sg_lib.h>) plus the project's own where sg3_utils
 * has none.  Commands map outcomes through these, never bare numbers. */
#ifndef MIRROR_EXIT_STATUS_H
#define MIRROR_EXIT_STATUS_H

#include <stdint.h>

#include <mirror/sense.h>

#ifdef __cplusplus
extern "C" {
#endif

enum mirror_exit {
	MIRROR_EXIT_OK = 0,
	MIRROR_EXIT_SYNTAX = 1,          /* SG_LIB_SYNTAX_ERROR */
	MIRROR_EXIT_NOT_READY = 2,
	MIRROR_EXIT_MEDIUM_HARD = 3,
	MIRROR_EXIT_ILLEGAL_REQ = 5,     /* incl. INVALID FIELD IN CDB */
	MIRROR_EXIT_UNIT_ATTENTION = 6,
	MIRROR_EXIT_DATA_PROTECT = 7,
	MIRROR_EXIT_INVALID_OP = 9,
	MIRROR_EXIT_COPY_ABORTED = 10,
	MIRROR_EXIT_ABORTED_COMMAND = 11,
	MIRROR_EXIT_MISCOMPARE = 14,
	MIRROR_EXIT_FILE_ERROR = 15,
	MIRROR_EXIT_INVALID_PARAM = 19,  /* project: INVALID FIELD IN PARAMETER LIST */
	MIRROR_EXIT_NO_SENSE = 20,
	MIRROR_EXIT_RECOVERED = 21,
	MIRROR_EXIT_LBA_OUT_OF_RANGE = 22,
	MIRROR_EXIT_RES_CONFLICT = 24,
	MIRROR_EXIT_CONDITION_MET = 25,
	MIRROR_EXIT_BUSY = 26,
	MIRROR_EXIT_TASK_SET_FULL = 27,
	MIRROR_EXIT_ACA_ACTIVE = 28,
	MIRROR_EXIT_TASK_ABORTED = 29,
	MIRROR_EXIT_LOGIC_ERROR = 32,
	MIRROR_EXIT_TIMEOUT = 33,
	MIRROR_EXIT_TRANSPORT = 35,
	MIRROR_EXIT_MALFORMED = 97,
	MIRROR_EXIT_OTHER = 99
};

/* Exit status for a finished command: status byte and (if CHECK CONDITION)
 * its parsed sense. */
int mirror_exit_from_status(uint8_t status, const struct mirror_sense *s);
/* Exit status for a library return code (decoders, parsers). */
int mirror_exit_from_error(int code);
/* For the commands: "PROG: message" and "Try 'PROG --help'." on stderr;
 * returns MIRROR_EXIT_SYNTAX. */
__attribute__((format(printf, 2, 3)))
int mirror_syntax_error(const char *prog, const char *fmt, ...);

/* A short name for an exit status ("invalid field in cdb", ...). */
const char *mirror_exit_name(int status);

#ifdef __cplusplus
}
#endif
#endif
