/* Process logging (log.h). */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"

static enum mirror_log_level log_level = MIRROR_LOG_INFO;
static const char *log_ident = "mirror-emu";

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void mirror_log_set_level(enum mirror_log_level level)
{
	if ((int)level < MIRROR_LOG_ERROR)
		level = MIRROR_LOG_ERROR;
	if (level > MIRROR_LOG_DEBUG)
		level = MIRROR_LOG_DEBUG;
	log_level = level;
}

enum mirror_log_level mirror_log_get_level(void)
{
	return log_level;
}

void mirror_log_set_ident(const char *ident)
{
	log_ident = ident ? ident : "mirror-emu";
}

const char *mirror_log_level_name(enum mirror_log_level level)
{
	return (unsigned)level <= MIRROR_LOG_DEBUG ? level_names[level] : "?";
}

void mirror_vlog(enum mirror_log_level level, const char *fmt, va_list ap)
{
	char line[1024];
	struct timespec ts;
	struct tm tm;
	int n, m;

	if (level > log_level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s[%ld] %s: ",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		     ts.tv_nsec / 1000000, log_ident, (long)getpid(), mirror_log_level_name(level));
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (m < 0)
		m = 0;
	if ((size_t)n + (size_t)m >= sizeof(line) - 1)
		memcpy(line + sizeof(line) - 5, "...", 4); /* say it was cut */
	n = (int)strlen(line);
	line[n++] = '\n';
	/* one write per line, so that lines of processes sharing stderr do
	 * not interleave */
	fwrite(line, 1, (size_t)n, stderr);
	fflush(stderr);
}

void mirror_log(enum mirror_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	mirror_vlog(level, fmt, ap);
	va_end(ap);
}
