/* The exit status of a library error, for the commands: the code decides
 * where it means the same everywhere (mirror_exit_from_error,
 * <mirror/exit_status.h>: ETIMEDOUT, ECONNREFUSED, MIRROR_E_*), the step
 * the command was taking decides where it does not.  sg3_utils (man
 * sg3_utils): 15 is "unable to open, close, read or write a local file",
 * 35 a transport that cannot be used, 1 a syntax error. */
#ifndef MIRROR_APP_CLI_EXIT_H
#define MIRROR_APP_CLI_EXIT_H

#ifdef __cplusplus
extern "C" {
#endif

enum mirror_cli_step {
	/* building something from the command line: -EINVAL is a value the
	 * library refused, a syntax error (1) */
	MIRROR_CLI_STEP_CONFIG,
	/* reading or writing a file the user named: every failure, its
	 * contents' too, is a file error (15) */
	MIRROR_CLI_STEP_FILE,
	/* binding a listening socket: a transport error (35); -EACCES is a
	 * privileged port, not a file */
	MIRROR_CLI_STEP_LISTEN,
	/* anything else: the code alone */
	MIRROR_CLI_STEP_RUN,
};

/* The status for code (0 or a negative errno / MIRROR_E_*) at step;
 * -ENOMEM is 99 (other) at every step. */
int mirror_cli_exit(int code, enum mirror_cli_step step);

/* A step that failed: "PROG: message" on stderr, and its exit status
 * (mirror_cli_exit). */
__attribute__((format(printf, 4, 5)))
int mirror_cli_fail(const char *prog, int code, enum mirror_cli_step step, const char *fmt, ...);

#ifdef __cplusplus
}
#endif
#endif
