/* libFuzzer target: mirror-emu's CHAP secrets file (--chap-file,
 * lib/iscsi/chap_file.c).
 *
 * Input: the file's contents, written to one temporary file (mode 0600,
 * in /dev/shm when it is writable, unlinked at once and read as
 * /proc/self/fd/N) that every run rewrites.  Properties: no memory error or UB; a refusal
 * names the file in a terminated message and leaves the secrets wiped; an
 * accepted file has an initiator line, user names and secrets of 1..255
 * bytes without blanks, and two different secrets when both are set; and
 * the file written back from what was read reads to the same secrets. */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "iscsi/chap_file.h"

#include "fuzz_common.h"

static char path[64];
static int fd = -1;

static void put(const uint8_t *d, size_t n)
{
	if (fd < 0) {
		/* tmpfs when there is one: a disk file system's truncate and
		 * write cost more than the parser */
		const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
		snprintf(path, sizeof(path), "%s/fuzz-chap-XXXXXX", dir);
		fd = mkstemp(path);
		if (fd < 0 || fchmod(fd, 0600) != 0)
			abort();
		/* libFuzzer leaves by _Exit (no destructor runs): the file is
		 * unlinked now and read through its descriptor */
		if (unlink(path) != 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		/* the warnings (short secret, mode) are not under test */
		mirror_log_set_level(MIRROR_LOG_ERROR);
	}
	if (ftruncate(fd, 0) != 0 || (n && pwrite(fd, d, n, 0) != (ssize_t)n))
		abort();
}

static void check_secret(const struct mirror_chap_secret *c)
{
	size_t ul, sl;

	if (!c->set)
		return;
	ul = strnlen(c->user, sizeof(c->user));
	sl = strnlen(c->secret, sizeof(c->secret));
	if (ul == 0 || ul > MIRROR_CHAP_FIELD_MAX || sl == 0 || sl > MIRROR_CHAP_FIELD_MAX ||
	    strpbrk(c->user, " \t\n") || strpbrk(c->secret, " \t\n"))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct mirror_chap_file zero;
	struct mirror_chap_file f, g;
	char why[512], text[4 * MIRROR_CHAP_FIELD_MAX + 64];
	int n;

	put(data, size);
	memset(why, 'x', sizeof(why));
	if (mirror_chap_file_read(path, &f, why, sizeof(why)) != 0) {
		if (!memchr(why, '\0', sizeof(why)) || strncmp(why, path, strlen(path)) != 0 ||
		    memcmp(&f, &zero, sizeof(f)) != 0)
			abort();
		return 0;
	}
	if (!f.initiator.set)
		abort();
	check_secret(&f.initiator);
	check_secret(&f.target);
	if (f.target.set && strcmp(f.initiator.secret, f.target.secret) == 0)
		abort();
	n = snprintf(text, sizeof(text), "# written back\ninitiator %s %s\n", f.initiator.user,
		     f.initiator.secret);
	if (f.target.set)
		n += snprintf(text + n, sizeof(text) - (size_t)n, "target\t%s\t%s", f.target.user,
			      f.target.secret);
	put((const uint8_t *)text, (size_t)n);
	if (mirror_chap_file_read(path, &g, why, sizeof(why)) != 0 || memcmp(&f, &g, sizeof(f)) != 0)
		abort();
	mirror_chap_file_clear(&f);
	mirror_chap_file_clear(&g);
	return 0;
}
