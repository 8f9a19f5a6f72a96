/* The command-line pieces every command shares (cli.h). */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include <mirror/mirror.h>
#include <mirror/url.h>

#include "app/cli/cli.h"

static char sigbus_msg[256];
static size_t sigbus_len;

/* Async-signal-safe: one write(2) of a message made beforehand, _exit. */
static void on_sigbus(int sig)
{
	(void)sig;
	if (write(STDERR_FILENO, sigbus_msg, sigbus_len) < 0) {
		/* nothing more can be said */
	}
	_exit(MIRROR_EXIT_FILE_ERROR);
}

void mirror_cli_catch_truncated_capture(const char *prog)
{
	struct sigaction sa;
	int n = snprintf(sigbus_msg, sizeof(sigbus_msg),
			 "%s: a capture file was truncated while it was read (SIGBUS on its "
			 "memory map); what came after was not decoded\n", prog);

	sigbus_len = n < 0 ? 0 : (size_t)n < sizeof(sigbus_msg) ? (size_t)n : sizeof(sigbus_msg) - 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigbus;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
}

bool mirror_cli_profile_option(int c, const char *arg, struct mirror_profile_options *po)
{
	switch (c) {
	case 'p':
		po->name = arg;
		return true;
	case 'O':
	case MIRROR_CLI_OPT_OPCODES:
		po->opcodes = arg;
		return true;
	case 'n':
	case MIRROR_CLI_OPT_NVRAM_SIZE:
		po->nvram_size = arg;
		return true;
	case MIRROR_CLI_OPT_REGION_SPLIT:
		po->region_split = arg;
		return true;
	case MIRROR_CLI_OPT_STRICT:
		po->strict = true;
		return true;
	default:
		return false;
	}
}

int mirror_cli_default_option_to(FILE *out, FILE *err, int c, const char *prog,
				 const char *usage)
{
	switch (c) {
	case 'h':
		fputs(usage, out);
		return MIRROR_EXIT_OK;
	case 'V':
		fprintf(out, "%s (mirrortest) %s\n", prog, mirror_version());
		return MIRROR_EXIT_OK;
	default:
		fprintf(err, "Try '%s --help'.\n", prog);
		return MIRROR_EXIT_SYNTAX;
	}
}

int mirror_cli_default_option(int c, const char *prog, const char *usage)
{
	return mirror_cli_default_option_to(stdout, stderr, c, prog, usage);
}

int mirror_cli_no_operand(const char *prog, int argc, char **argv, int first)
{
	if (first >= argc)
		return 0;
	return mirror_syntax_error(prog, "unexpected argument '%s'", argv[first]);
}

static int out_of_range(const char *opt, const char *arg, const char *lo, const char *hi,
			char *why, size_t why_len)
{
	snprintf(why, why_len, "%s: '%s' is outside %s..%s", opt, arg, lo, hi);
	return -ERANGE;
}

int mirror_cli_count(const char *opt, const char *arg, uint64_t min, uint64_t max, uint64_t *out,
		     char *why, size_t why_len)
{
	int rc = mirror_parse_count(arg, min, max, out);

	if (rc == -ERANGE) {
		char lo[24], hi[24];
		snprintf(lo, sizeof(lo), "%llu", (unsigned long long)min);
		snprintf(hi, sizeof(hi), "%llu", (unsigned long long)max);
		return out_of_range(opt, arg, lo, hi, why, why_len);
	}
	if (rc < 0) {
		snprintf(why, why_len, "%s: '%s' is not a count (decimal or 0x hex)", opt, arg);
		return -EINVAL;
	}
	return 0;
}

int mirror_cli_size(const char *opt, const char *arg, uint64_t min, uint64_t max, uint64_t *out,
		    char *why, size_t why_len)
{
	uint64_t v;

	if (mirror_parse_size(arg, &v) < 0) {
		snprintf(why, why_len, "%s: '%s' is not a size (a count with K, M or G)", opt, arg);
		return -EINVAL;
	}
	if (v < min || v > max) {
		char lo[24], hi[24];
		snprintf(lo, sizeof(lo), "%llu", (unsigned long long)min);
		snprintf(hi, sizeof(hi), "%llu", (unsigned long long)max);
		return out_of_range(opt, arg, lo, hi, why, why_len);
	}
	*out = v;
	return 0;
}

int mirror_cli_double(const char *opt, const char *arg, double min, double max, double *out,
		      char *why, size_t why_len)
{
	int rc = mirror_parse_double(arg, min, max, out);

	if (rc == -ERANGE) {
		char lo[32], hi[32];
		snprintf(lo, sizeof(lo), "%g", min);
		snprintf(hi, sizeof(hi), "%g", max);
		return out_of_range(opt, arg, lo, hi, why, why_len);
	}
	if (rc < 0) {
		snprintf(why, why_len, "%s: '%s' is not a number", opt, arg);
		return -EINVAL;
	}
	return 0;
}

int mirror_cli_count32(const char *opt, const char *arg, uint32_t min, uint32_t max, uint32_t *out,
		       char *why, size_t why_len)
{
	uint64_t v;
	int rc = mirror_cli_count(opt, arg, min, max, &v, why, why_len);

	if (rc == 0)
		*out = (uint32_t)v;
	return rc;
}

int mirror_cli_size32(const char *opt, const char *arg, uint32_t min, uint32_t max, uint32_t *out,
		      char *why, size_t why_len)
{
	uint64_t v;
	int rc = mirror_cli_size(opt, arg, min, max, &v, why, why_len);

	if (rc == 0)
		*out = (uint32_t)v;
	return rc;
}

void mirror_cli_json_print(FILE *out, struct json_object *o, bool pretty)
{
	int flags = (pretty ? JSON_C_TO_STRING_PRETTY : JSON_C_TO_STRING_PLAIN) |
		    JSON_C_TO_STRING_NOSLASHESCAPE;

	fprintf(out, "%s\n", json_object_to_json_string_ext(o, flags));
}

void mirror_cli_json_string(FILE *out, const char *s)
{
	struct json_object *o = json_object_new_string(s);

	fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						    JSON_C_TO_STRING_NOSLASHESCAPE), out);
	json_object_put(o);
}

void mirror_cli_hide_secrets(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		char *url = strstr(argv[i], MIRROR_URL_SCHEME), *copy, shown[1024];
		size_t len, n;

		if (!url || mirror_url_redact(url, shown, sizeof(shown)) < 0 || strcmp(shown, url) == 0)
			continue;
		copy = strdup(argv[i]);
		if (!copy)
			continue;
		/* the bytes the kernel shows as the command line are these */
		len = strlen(url);
		n = strlen(shown) < len ? strlen(shown) : len;
		memcpy(url, shown, n);
		memset(url + n, ' ', len - n);
		argv[i] = copy;
	}
}

static const char *file_type(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISREG(m))
		return "a regular file";
	return "a device";
}

static int path_fail(const char *prog, const char *opt, const char *path, const char *why,
		     const char *what)
{
	fprintf(stderr, "%s: %s %s: %s%s\n", prog, opt, path, why, what);
	return MIRROR_EXIT_FILE_ERROR;
}

/* A file or socket to be made at path: its directory must be there. */
static int parent_is_dir(const char *prog, const char *opt, const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[4096];
	struct stat st;

	if (!slash)
		return 0;
	if ((size_t)(slash - path) >= sizeof(dir))
		return path_fail(prog, opt, path, "path too long", "");
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	if (dir[0] == '\0')
		return 0;
	if (stat(dir, &st) < 0)
		return path_fail(prog, opt, path, "its directory: ", strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return path_fail(prog, opt, path, "its directory is ", file_type(st.st_mode));
	return 0;
}

static int path_check(const char *prog, const struct mirror_cli_path_check *c)
{
	struct stat st;
	bool ok;

	if (stat(c->path, &st) < 0) {
		if (errno != ENOENT || c->kind == MIRROR_CLI_PATH_IN)
			return path_fail(prog, c->opt, c->path, "", strerror(errno));
		if (c->kind == MIRROR_CLI_PATH_OUT || c->kind == MIRROR_CLI_PATH_LISTEN)
			return parent_is_dir(prog, c->opt, c->path);
		return 0;
	}
	switch (c->kind) {
	case MIRROR_CLI_PATH_IN:
	case MIRROR_CLI_PATH_OUT:
		ok = !S_ISDIR(st.st_mode) && !S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode);
		break;
	case MIRROR_CLI_PATH_DIR:
		ok = S_ISDIR(st.st_mode);
		break;
	default:
		ok = S_ISSOCK(st.st_mode);
		break;
	}
	if (!ok)
		return path_fail(prog, c->opt, c->path,
				 c->kind == MIRROR_CLI_PATH_DIR      ? "not a directory: it is "
				 : c->kind >= MIRROR_CLI_PATH_SOCKET ? "not a socket: it is "
								     : "not a file: it is ",
				 file_type(st.st_mode));
	return 0;
}

int mirror_cli_paths(const char *prog, const struct mirror_cli_path_check *checks, size_t n)
{
	/* a syntax error (an empty path) before any file's */
	for (size_t i = 0; i < n; i++)
		if (checks[i].path && checks[i].path[0] == '\0')
			return mirror_syntax_error(prog, "%s: empty path", checks[i].opt);
	for (size_t i = 0; i < n; i++) {
		int rc;
		if (!checks[i].path)
			continue;
		if ((rc = path_check(prog, &checks[i])) != 0)
			return rc;
	}
	return 0;
}

int mirror_cli_text(const char *prog, const char *opt, const char *arg)
{
	if (arg && arg[0] == '\0')
		return mirror_syntax_error(prog, "%s: empty value", opt);
	return 0;
}

int mirror_cli_texts(const char *prog, const struct mirror_cli_text_check *checks, size_t n)
{
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++)
		rc = mirror_cli_text(prog, checks[i].opt, checks[i].arg);
	return rc;
}
