/* Library errors to exit statuses by the step that met them (exit.h). */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <mirror/exit_status.h>

#include "app/cli/exit.h"

#define ANY_STEP (-1)

/* What the code alone cannot say, before the step's default. */
static const struct {
	int step;
	int code;
	int status;
} step_exits[] = {
	{ ANY_STEP, 0, MIRROR_EXIT_OK },
	{ ANY_STEP, -ENOMEM, MIRROR_EXIT_OTHER },
	{ MIRROR_CLI_STEP_CONFIG, -EINVAL, MIRROR_EXIT_SYNTAX },
	{ MIRROR_CLI_STEP_LISTEN, -EINVAL, MIRROR_EXIT_SYNTAX },
};

/* A step's status for codes neither table names; -1: the code's own. */
static const int step_default[] = {
	[MIRROR_CLI_STEP_CONFIG] = -1,
	[MIRROR_CLI_STEP_FILE] = MIRROR_EXIT_FILE_ERROR,
	[MIRROR_CLI_STEP_LISTEN] = MIRROR_EXIT_TRANSPORT,
	[MIRROR_CLI_STEP_RUN] = -1,
};

int mirror_cli_exit(int code, enum mirror_cli_step step)
{
	for (size_t i = 0; i < sizeof(step_exits) / sizeof(step_exits[0]); i++)
		if ((step_exits[i].step == ANY_STEP || step_exits[i].step == (int)step) &&
		    step_exits[i].code == code)
			return step_exits[i].status;
	if ((unsigned)step < sizeof(step_default) / sizeof(step_default[0]) &&
	    step_default[step] >= 0)
		return step_default[step];
	return mirror_exit_from_error(code);
}

int mirror_cli_fail(const char *prog, int code, enum mirror_cli_step step, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return mirror_cli_exit(code, step);
}
