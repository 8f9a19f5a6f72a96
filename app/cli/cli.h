/* What every mirrortest command shares on its command line: the profile
 * options, one number parser, one JSON printer, and the exit status of a
 * library error (mirror_exit_from_error, <mirror/exit_status.h>).
 *
 * Short options mean the same in every command that has them:
 *   -h --help  -V --version  -v --verbose  -q --quiet  -j --json
 *   -p --profile  -O --opcodes  -n --nvram-size  -T --timeout
 *   -s --size  -S --stats  -L --list-profiles
 * (mirror-top keeps top(1)'s -n for --iterations: its --nvram-size is
 * long only.)  --region-split and --strict have no short form. */
#ifndef MIRROR_APP_CLI_H
#define MIRROR_APP_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <mirror/profile.h>

#ifdef __cplusplus
extern "C" {
#endif

struct json_object;

/* getopt_long values of the long-only common options */
enum {
	MIRROR_CLI_OPT_REGION_SPLIT = 0x1000,
	MIRROR_CLI_OPT_STRICT,
	MIRROR_CLI_OPT_OPCODES,
	MIRROR_CLI_OPT_NVRAM_SIZE,
};

/* The rows of struct option for the profile: --profile, --opcodes,
 * --nvram-size, --region-split, --strict, and their short forms for
 * getopt's string. */
#define MIRROR_CLI_PROFILE_LONGOPTS_NVRAM(nvram_size_value)                           \
	{ "profile", required_argument, NULL, 'p' },                                  \
	{ "opcodes", required_argument, NULL, 'O' },                                  \
	{ "nvram-size", required_argument, NULL, nvram_size_value },                  \
	{ "region-split", required_argument, NULL, MIRROR_CLI_OPT_REGION_SPLIT },     \
	{ "strict", no_argument, NULL, MIRROR_CLI_OPT_STRICT }
#define MIRROR_CLI_PROFILE_LONGOPTS MIRROR_CLI_PROFILE_LONGOPTS_NVRAM('n')
#define MIRROR_CLI_PROFILE_SHORTOPTS "p:O:n:"
/* A command whose -n means something else (mirror-top: top(1)'s
 * --iterations) takes --nvram-size long only. */
#define MIRROR_CLI_PROFILE_LONGOPTS_NO_N MIRROR_CLI_PROFILE_LONGOPTS_NVRAM(MIRROR_CLI_OPT_NVRAM_SIZE)
#define MIRROR_CLI_PROFILE_SHORTOPTS_NO_N "p:O:"
/* Takes a getopt result that is one of the profile options into po:
 * true if it was one. */
bool mirror_cli_profile_option(int c, const char *arg, struct mirror_profile_options *po);

/* The rows every command's struct option ends with (the { NULL } row
 * included), and their letters for getopt's string. */
#define MIRROR_CLI_STD_LONGOPTS                                                       \
	{ "version", no_argument, NULL, 'V' }, { "help", no_argument, NULL, 'h' },    \
	{ NULL, 0, NULL, 0 }
#define MIRROR_CLI_STD_SHORTOPTS "Vh"

/* The default: of every command's getopt switch: -h/--help puts usage on
 * stdout; -V/--version puts "PROG (mirrortest) VERSION" there (what
 * deb.test and sg3_utils' tools print); anything else is an option getopt
 * refused, and said why on stderr: "Try 'PROG --help'." follows it there.
 * Returns the exit status to end with: MIRROR_EXIT_OK after -h or -V,
 * MIRROR_EXIT_SYNTAX otherwise.  _to writes to out and err instead. */
int mirror_cli_default_option(int c, const char *prog, const char *usage);
int mirror_cli_default_option_to(FILE *out, FILE *err, int c, const char *prog,
				 const char *usage);
/* After the options of a command that takes no (more) operands: 0 when
 * argv[first..argc) is empty, else "PROG: unexpected argument 'X'" and the
 * "Try" line on stderr and MIRROR_EXIT_SYNTAX. */
int mirror_cli_no_operand(const char *prog, int argc, char **argv, int first);

/* Numbers on the command line.  opt is the option as the user wrote it
 * ("--repeat"); the message in why names it and the text:
 *   count:  decimal or 0x hex, no suffix, no sign ("--repeat: '1M' is not
 *           a count (decimal or 0x hex)")
 *   size:   a count with an optional K, M or G (binary) suffix
 *   double: a decimal number
 * 0, or -EINVAL (not that kind of number) / -ERANGE (outside min..max). */
int mirror_cli_count(const char *opt, const char *arg, uint64_t min, uint64_t max, uint64_t *out,
		     char *why, size_t why_len);
int mirror_cli_size(const char *opt, const char *arg, uint64_t min, uint64_t max, uint64_t *out,
		    char *why, size_t why_len);
int mirror_cli_double(const char *opt, const char *arg, double min, double max, double *out,
		      char *why, size_t why_len);
/* The same into a uint32_t (max at most UINT32_MAX). */
int mirror_cli_count32(const char *opt, const char *arg, uint32_t min, uint32_t max, uint32_t *out,
		       char *why, size_t why_len);
int mirror_cli_size32(const char *opt, const char *arg, uint32_t min, uint32_t max, uint32_t *out,
		      char *why, size_t why_len);

/* Paths and free text on the command line, checked before anything is
 * opened, bound or started: a FIFO would block the open until a writer
 * came, a directory fails late with a message that does not say which
 * option it came from.  opt is the option as the user wrote it
 * ("--table"). */
enum mirror_cli_path_kind {
	MIRROR_CLI_PATH_IN,          /* a file read: exists, not a directory, FIFO or socket */
	MIRROR_CLI_PATH_OUT,         /* a file written: no directory, FIFO or socket there,
				      * and its directory exists */
	MIRROR_CLI_PATH_DIR,         /* a directory, or nothing yet (the command makes it) */
	MIRROR_CLI_PATH_SOCKET,      /* a unix socket connected to: a socket if anything */
	MIRROR_CLI_PATH_LISTEN,      /* a unix socket bound: a socket if anything, in a
				      * directory that exists */
};
struct mirror_cli_path_check {
	const char *opt;
	const char *path;            /* NULL: the option was not given, nothing to check */
	enum mirror_cli_path_kind kind;
};
/* 0 when every given path can be what its option says; else
 * "PROG: OPT PATH: why" on stderr and the exit status: 1
 * (MIRROR_EXIT_SYNTAX, with the "Try" line) for an empty path, 15
 * (MIRROR_EXIT_FILE_ERROR) for a path of the wrong type, a file to read
 * that is not there, or a file to write in no directory. */
int mirror_cli_paths(const char *prog, const struct mirror_cli_path_check *checks, size_t n);
/* 0, or "PROG: OPT: empty value" and MIRROR_EXIT_SYNTAX when arg is "" (a
 * name, a command, a filter: nothing is never meant). */
int mirror_cli_text(const char *prog, const char *opt, const char *arg);
/* mirror_cli_text over a table; the first failure's status. */
struct mirror_cli_text_check {
	const char *opt, *arg;
};
int mirror_cli_texts(const char *prog, const struct mirror_cli_text_check *checks, size_t n);

/* A JSON object on out and a newline: indented when pretty, on one line
 * when not; "/" is never escaped ("traces/small.pcap", not
 * "traces\/small.pcap").  Does not put o. */
void mirror_cli_json_print(FILE *out, struct json_object *o, bool pretty);
/* A C string as a JSON string literal, quotes included, the same way. */
void mirror_cli_json_string(FILE *out, const char *s);

/* CHAP passwords of iscsi:// arguments ("user%password@",
 * "target_password=") off the process's argument list, which every user
 * reads (ps, /proc/PID/cmdline): each such argv[i] becomes a copy on the
 * heap and its original bytes are overwritten with the redacted URL
 * (mirror_url_redact), padded with spaces or cut to the same length.  Call
 * first thing in main; a copy that cannot be made leaves that argument
 * as it is.  Environment variables (LIBISCSI_CHAP_PASSWORD) or a
 * --chap-file keep a secret out of the list from the start. */
void mirror_cli_hide_secrets(int argc, char **argv);

/* A capture file is read through a memory map (lib/capture/pcap_file.c):
 * if another program truncates it meanwhile, the next read of a page past
 * its new end is SIGBUS.  This turns that into "PROG: a capture file was
 * truncated while it was read ..." on stderr and exit status 15 (file
 * error) instead of a crash.  Call first thing in main of a command that
 * reads capture files. */
void mirror_cli_catch_truncated_capture(const char *prog);

#ifdef __cplusplus
}
#endif
#endif
