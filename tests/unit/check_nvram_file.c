/* NVRAM memory for mirror-emu: anonymous, and mapped from a file that
 * keeps data and validity across a restart; a file that does not match the
 * command line, or is not an NVRAM file, is refused and left alone. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

#define NV_SIZE (1024u * 1024u)
#define NV_SPLIT (512u * 1024u)
/* header + 256-byte bitmap rounded to a page + data */
#define NV_FILE_BYTES (4096u + 4096u + NV_SIZE)

static struct mirror_profile prof;
static char dir[64];
static char path[128];

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");

	mirror_profile_init(&prof);
	prof.nvram_size = NV_SIZE;
	prof.region_split = NV_SPLIT;
	snprintf(dir, sizeof(dir), "%s/nvf.XXXXXX", tmp && strlen(tmp) < 40 ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/nvram", dir);
}

static void teardown(void)
{
	unlink(path);
	rmdir(dir);
}

static off_t file_size(const char *p)
{
	struct stat st;

	ck_assert_int_eq(stat(p, &st), 0);
	return st.st_size;
}

static void write_file(const char *p, const void *buf, size_t len)
{
	FILE *fp = fopen(p, "wb");

	ck_assert_ptr_nonnull(fp);
	ck_assert_uint_eq(fwrite(buf, 1, len, fp), len);
	ck_assert_int_eq(fclose(fp), 0);
}

/* Opens, must fail with code; the message must hold want. */
static void assert_refused(const struct mirror_profile *p, int code, const char *want)
{
	struct mirror_nvram_mem m;
	char why[256] = "";

	ck_assert_int_eq(mirror_nvram_mem_open(&m, p, path, why, sizeof(why)), code);
	ck_assert_msg(strstr(why, want) != NULL, "message '%s' lacks '%s'", why, want);
	ck_assert_msg(strstr(why, path) != NULL, "message '%s' does not name the file", why);
	ck_assert_ptr_null(m.data);
	ck_assert_int_eq(mirror_nvram_mem_close(&m, NULL, 0), 0);
}

START_TEST(test_anon)
{
	struct mirror_nvram_mem m;
	struct mirror_nvram nv;
	char why[128] = "";

	ck_assert_int_eq(mirror_nvram_mem_open(&m, &prof, NULL, why, sizeof(why)), 0);
	ck_assert(!m.file);
	ck_assert_uint_eq(m.size, NV_SIZE);
	ck_assert_uint_eq(m.split, NV_SPLIT);
	ck_assert_int_eq(mirror_nvram_init(&nv, &prof, m.data, m.bitmap), 0);
	ck_assert_int_eq(mirror_nvram_count_valid(&nv, 0, NV_SIZE), 0);
	/* all of it is writable */
	memset(m.data, 0x5A, NV_SIZE);
	ck_assert_int_eq(mirror_nvram_mark_valid(&nv, 0, NV_SIZE), 0);
	ck_assert_int_eq(mirror_nvram_count_valid(&nv, 0, NV_SIZE), NV_SIZE / MIRROR_BLOCK_SIZE);
	ck_assert_int_eq(mirror_nvram_mem_sync(&m, NULL, 0), 0);
	ck_assert_int_eq(mirror_nvram_mem_close(&m, why, sizeof(why)), 0);
	ck_assert_ptr_null(m.data);
	/* closing twice is harmless */
	ck_assert_int_eq(mirror_nvram_mem_close(&m, why, sizeof(why)), 0);
}
END_TEST

START_TEST(test_anon_max)
{
	struct mirror_nvram_mem m;
	struct mirror_profile big;

	mirror_profile_init(&big);
	big.nvram_size = MIRROR_NVRAM_MAX_SIZE;
	big.region_split = MIRROR_NVRAM_MAX_SIZE / 2;
	/* 512 MiB of address space, nothing touched: cheap */
	ck_assert_int_eq(mirror_nvram_mem_open(&m, &big, NULL, NULL, 0), 0);
	m.data[MIRROR_NVRAM_MAX_SIZE - 1] = 1;
	ck_assert_int_eq(mirror_nvram_mem_close(&m, NULL, 0), 0);
}
END_TEST

START_TEST(test_bad_profile)
{
	struct mirror_nvram_mem m;
	struct mirror_profile bad = prof;
	char why[128] = "";

	bad.region_split = NV_SIZE;
	ck_assert_int_eq(mirror_nvram_mem_open(&m, &bad, NULL, why, sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "region split"));
	ck_assert_int_eq(mirror_nvram_mem_open(&m, &bad, path, why, sizeof(why)), -EINVAL);
	ck_assert_int_eq(access(path, F_OK), -1); /* nothing created */
}
END_TEST

/* The point of the file: what was stored and marked valid is there after
 * a restart, and what was marked invalid stays invalid. */
START_TEST(test_file_persists)
{
	struct mirror_nvram_mem m;
	struct mirror_nvram nv;
	char why[256] = "";
	uint8_t buf[4096], back[4096];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);

	ck_assert_msg(mirror_nvram_mem_open(&m, &prof, path, why, sizeof(why)) == 0, "%s", why);
	ck_assert(m.file);
	ck_assert(m.created);
	ck_assert_int_eq(file_size(path), NV_FILE_BYTES);
	ck_assert_int_eq(mirror_nvram_init(&nv, &prof, m.data, m.bitmap), 0);
	ck_assert_int_eq(mirror_nvram_count_valid(&nv, 0, NV_SIZE), 0);
	/* region 0 and region 1, across a bitmap word boundary */
	ck_assert_int_eq(mirror_nvram_store(&nv, 0x1e000, buf, sizeof(buf)), 0);
	ck_assert_int_eq(mirror_nvram_mark_valid(&nv, 0x1e000, sizeof(buf)), 0);
	ck_assert_int_eq(mirror_nvram_store(&nv, NV_SPLIT + 512, buf, 1024), 0);
	ck_assert_int_eq(mirror_nvram_mark_valid(&nv, NV_SPLIT + 512, 1024), 0);
	ck_assert_int_eq(mirror_nvram_mark_invalid(&nv, NV_SPLIT + 1024, 512), 0);
	/* the last byte of the NVRAM is in the file too */
	m.data[NV_SIZE - 1] = 0xEE;
	ck_assert_int_eq(mirror_nvram_mem_close(&m, why, sizeof(why)), 0);

	ck_assert_msg(mirror_nvram_mem_open(&m, &prof, path, why, sizeof(why)) == 0, "%s", why);
	ck_assert(m.file);
	ck_assert(!m.created);
	ck_assert_int_eq(mirror_nvram_init(&nv, &prof, m.data, m.bitmap), 0);
	ck_assert_int_eq(mirror_nvram_count_valid(&nv, 0, NV_SIZE), 8 + 1);
	ck_assert_int_eq(mirror_nvram_count_valid(&nv, 0x1e000, sizeof(buf)), 8);
	ck_assert(mirror_nvram_block_valid(&nv, (NV_SPLIT + 512) / 512));
	ck_assert(!mirror_nvram_block_valid(&nv, (NV_SPLIT + 1024) / 512));
	ck_assert_int_eq(mirror_nvram_load(&nv, 0x1e000, back, sizeof(back)), 0);
	ck_assert_mem_eq(back, buf, sizeof(buf));
	ck_assert_int_eq(mirror_nvram_load(&nv, NV_SPLIT + 512, back, 512), 0);
	ck_assert_mem_eq(back, buf, 512);
	ck_assert_uint_eq(m.data[NV_SIZE - 1], 0xEE);
	ck_assert_int_eq(mirror_nvram_mem_close(&m, why, sizeof(why)), 0);
	ck_assert_int_eq(file_size(path), NV_FILE_BYTES);
}
END_TEST

/* A process that dies without closing: the mapping is shared, so the
 * kernel still has the data (only a machine crash would lose it). */
START_TEST(test_file_survives_exit)
{
	struct mirror_nvram_mem m;
	struct mirror_nvram nv;
	int status;
	pid_t pid = fork();

	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		if (mirror_nvram_mem_open(&m, &prof, path, NULL, 0) < 0 ||
		    mirror_nvram_init(&nv, &prof, m.data, m.bitmap) < 0)
			_exit(1);
		memset(m.data + 4096, 0xC3, 512);
		mirror_nvram_mark_valid(&nv, 4096, 512);
		_exit(0); /* no close, no msync */
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(mirror_nvram_mem_open(&m, &prof, path, NULL, 0), 0);
	ck_assert_int_eq(mirror_nvram_init(&nv, &prof, m.data, m.bitmap), 0);
	ck_assert(mirror_nvram_block_valid(&nv, 8));
	ck_assert_uint_eq(m.data[4096 + 511], 0xC3);
	ck_assert_int_eq(mirror_nvram_mem_close(&m, NULL, 0), 0);
}
END_TEST

START_TEST(test_file_empty_is_formatted)
{
	struct mirror_nvram_mem m;

	write_file(path, "", 0);
	ck_assert_int_eq(mirror_nvram_mem_open(&m, &prof, path, NULL, 0), 0);
	ck_assert(m.created);
	ck_assert_int_eq(mirror_nvram_mem_close(&m, NULL, 0), 0);
	ck_assert_int_eq(file_size(path), NV_FILE_BYTES);
}
END_TEST

static void make_nvram_file(void)
{
	struct mirror_nvram_mem m;
	char why[256] = "";

	ck_assert_msg(mirror_nvram_mem_open(&m, &prof, path, why, sizeof(why)) == 0, "%s", why);
	m.data[0] = 0x11;
	ck_assert_int_eq(mirror_nvram_mem_close(&m, NULL, 0), 0);
}

/* The file is checked against the command line, not re-formatted. */
START_TEST(test_file_mismatch)
{
	struct mirror_profile other = prof;

	make_nvram_file();
	other.nvram_size = 2 * NV_SIZE;
	other.region_split = NV_SIZE;
	assert_refused(&other, -ESTALE, "holds a 1M NVRAM split at 512K, but 2M split at 1M");
	other = prof;
	other.region_split = NV_SPLIT + 512;
	assert_refused(&other, -ESTALE, "not re-formatted");
	/* untouched */
	ck_assert_int_eq(file_size(path), NV_FILE_BYTES);
	struct mirror_nvram_mem m;
	ck_assert_int_eq(mirror_nvram_mem_open(&m, &prof, path, NULL, 0), 0);
	ck_assert_uint_eq(m.data[0], 0x11);
	ck_assert_int_eq(mirror_nvram_mem_close(&m, NULL, 0), 0);
}
END_TEST

START_TEST(test_file_truncated)
{
	make_nvram_file();
	ck_assert_int_eq(truncate(path, NV_FILE_BYTES - 512), 0);
	assert_refused(&prof, -EINVAL, "truncated: the file has");
	ck_assert_int_eq(file_size(path), NV_FILE_BYTES - 512);
	ck_assert_int_eq(truncate(path, NV_FILE_BYTES + 1), 0);
	assert_refused(&prof, -EINVAL, "longer than its header says");
	ck_assert_int_eq(truncate(path, 100), 0);
	assert_refused(&prof, -EINVAL, "shorter than the 4096-byte header");
}
END_TEST

START_TEST(test_file_garbage)
{
	static uint8_t junk[NV_FILE_BYTES];

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 131 + 17);
	write_file(path, junk, sizeof(junk));
	assert_refused(&prof, -EINVAL, "not an NVRAM file (no MIRRNVR1 magic");
	/* not even looked at twice: still the same bytes */
	ck_assert_int_eq(file_size(path), NV_FILE_BYTES);
	write_file(path, "hello\n", 6);
	assert_refused(&prof, -EINVAL, "truncated or not an NVRAM file: 6 bytes");
}
END_TEST

/* A right magic with a damaged header: the checksum catches it. */
START_TEST(test_file_damaged_header)
{
	int fd;

	make_nvram_file();
	fd = open(path, O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, "\x00\x30", 2, 14), 2); /* NVRAM size field */
	close(fd);
	assert_refused(&prof, -EINVAL, "damaged NVRAM file header (checksum");
}
END_TEST

START_TEST(test_file_locked)
{
	struct mirror_nvram_mem a;

	ck_assert_int_eq(mirror_nvram_mem_open(&a, &prof, path, NULL, 0), 0);
	/* flock is per open file description: a second open in the same
	 * process conflicts as another process would. */
	assert_refused(&prof, -EBUSY, "in use by another process");
	ck_assert_int_eq(mirror_nvram_mem_close(&a, NULL, 0), 0);
	ck_assert_int_eq(mirror_nvram_mem_open(&a, &prof, path, NULL, 0), 0);
	ck_assert_int_eq(mirror_nvram_mem_close(&a, NULL, 0), 0);
}
END_TEST

START_TEST(test_file_errors)
{
	struct mirror_nvram_mem m;
	char why[256] = "";
	char bad[160];

	snprintf(bad, sizeof(bad), "%s/no/such/dir/nvram", dir);
	ck_assert_int_eq(mirror_nvram_mem_open(&m, &prof, bad, why, sizeof(why)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(why, bad));
	ck_assert_int_eq(mirror_nvram_mem_open(&m, &prof, dir, why, sizeof(why)), -EISDIR);
	ck_assert_ptr_nonnull(strstr(why, dir));
}
END_TEST

static Suite *nvram_file_suite(void)
{
	Suite *s = suite_create("nvram_file");
	TCase *tc = tcase_create("mem");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_anon);
	tcase_add_test(tc, test_anon_max);
	tcase_add_test(tc, test_bad_profile);
	tcase_add_test(tc, test_file_persists);
	tcase_add_test(tc, test_file_survives_exit);
	tcase_add_test(tc, test_file_empty_is_formatted);
	tcase_add_test(tc, test_file_mismatch);
	tcase_add_test(tc, test_file_truncated);
	tcase_add_test(tc, test_file_garbage);
	tcase_add_test(tc, test_file_damaged_header);
	tcase_add_test(tc, test_file_locked);
	tcase_add_test(tc, test_file_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run_suite(nvram_file_suite());
}
