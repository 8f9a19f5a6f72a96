/* mirror-emu's files and limits (server.h): the port file, the descriptor
 * limit its connections need, and the NVRAM made resident (--prefault). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "app/emu/server.h"
#include "base/log.h"

int mirror_emu_write_port_file(const char *path, unsigned port, char *why, size_t why_len)
{
	char tmp[4096];
	FILE *fp;
	int n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());

	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		snprintf(why, why_len, "%s: path too long", path);
		return -ENAMETOOLONG;
	}
	fp = fopen(tmp, "w");
	if (!fp || fprintf(fp, "%u\n", port) < 0 || fclose(fp) != 0 || rename(tmp, path) < 0) {
		int e = errno ? errno : EIO;
		snprintf(why, why_len, "%s: %s", path, strerror(e));
		unlink(tmp);
		return -e;
	}
	return 0;
}

void mirror_emu_check_fd_limit(unsigned max_conns)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)max_conns + 32; /* listeners, stats, epoll, stdio */

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= need)
		return;
	rlim_t want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need ? need : rl.rlim_max;
	rl.rlim_cur = want;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || want < need)
		mirror_log(MIRROR_LOG_WARN,
			   "open file limit %llu is below the %llu that %u connections need; "
			   "connections past it are refused", (unsigned long long)rl.rlim_cur,
			   (unsigned long long)need, max_conns);
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14, uapi mman-common.h */
#endif

void mirror_emu_prefault(uint8_t *data, size_t len)
{
	long page = sysconf(_SC_PAGESIZE);

	if (!data || len == 0)
		return;
	if (madvise(data, len, MADV_POPULATE_WRITE) == 0)
		return;
	/* Older kernels: a volatile read and write-back of one byte per page
	 * faults it in writable without changing what it holds. */
	if (page <= 0)
		page = 4096;
	for (size_t off = 0; off < len; off += (size_t)page) {
		volatile uint8_t *p = data + off;
		*p = *p;
	}
}
