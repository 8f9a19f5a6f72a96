/* Process logging to stderr, one line per message with a UTC time stamp,
 * the program's name and pid and the level:
 * "2026-11-24T09:54:01.123Z mirror-emu[4711] warn: ...".  Used by the
 * servers (mirror-emu, the pair's controllers); the pure layers of the
 * library never log. */
#ifndef MIRROR_LIB_BASE_LOG_H
#define MIRROR_LIB_BASE_LOG_H

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

enum mirror_log_level {
	MIRROR_LOG_ERROR = 0,
	MIRROR_LOG_WARN,
	MIRROR_LOG_INFO,  /* the default */
	MIRROR_LOG_DEBUG
};

/* Process-wide: a log line is a property of the process, and the engine
 * may log through the same function.  Messages above the level are
 * dropped. */
void mirror_log_set_level(enum mirror_log_level level);
enum mirror_log_level mirror_log_get_level(void);
/* The name in each line (default "mirror-emu"); the string must outlive
 * the logging. */
void mirror_log_set_ident(const char *ident);
__attribute__((format(printf, 2, 3)))
void mirror_log(enum mirror_log_level level, const char *fmt, ...);
__attribute__((format(printf, 2, 0)))
void mirror_vlog(enum mirror_log_level level, const char *fmt, va_list ap);
/* "error", "warn", "info", "debug" */
const char *mirror_log_level_name(enum mirror_log_level level);

#ifdef __cplusplus
}
#endif
#endif
