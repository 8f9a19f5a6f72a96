/* mirror-emu's CHAP secrets file (lib/iscsi/chap_file.c): what a good file
 * gives, and every refusal naming the file and the line. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iscsi/chap_file.h"

#include "testutil.h"

static char path[64];

static void write_file(const char *text, mode_t mode)
{
	snprintf(path, sizeof(path), "/tmp/check_chap_file.%ld", (long)getpid());
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	ck_assert_int_eq(chmod(path, mode), 0);
}

START_TEST(good_file)
{
	struct mirror_chap_file f;
	char why[300] = "";

	write_file("# secrets\n\ninitiator alice alice-secret-0123\r\n"
		   "target\ttgt  target-secret-4567\n", 0600);
	ck_assert_msg(mirror_chap_file_read(path, &f, why, sizeof(why)) == 0, "%s", why);
	ck_assert(f.initiator.set && f.target.set);
	ck_assert_str_eq(f.initiator.user, "alice");
	ck_assert_str_eq(f.initiator.secret, "alice-secret-0123");
	ck_assert_str_eq(f.target.user, "tgt");
	ck_assert_str_eq(f.target.secret, "target-secret-4567");
	mirror_chap_file_clear(&f);
	ck_assert(!f.initiator.set);
	ck_assert_str_eq(f.initiator.secret, "");
	unlink(path);
}
END_TEST

static const struct {
	const char *text;
	const char *why; /* after "PATH" */
} bad[] = {
	{ "initiator a s3cret-s3cret\nfrobnicator x y\n",
	  ":2: 'frobnicator' is neither 'initiator' nor 'target'" },
	{ "# c\ninitiator a\n", ":2: expected 'initiator USER SECRET' (three fields)" },
	{ "initiator a b c\n", ":1: expected 'initiator USER SECRET' (three fields)" },
	{ "initiator a s3cret-s3cret\ninitiator b s3cret-s3cret2\n", ":2: a second 'initiator' line" },
	{ "target t s3cret-s3cret\n", ": no 'initiator USER SECRET' line" },
	{ "initiator a same-secret-1\ntarget t same-secret-1\n",
	  ": the initiator and target secrets are the same" },
	/* one '\r' too many: a secret that would not read back the same
	 * (fuzz_chap_file's finding) */
	{ "initiator l \r\r", ":1: the initiator secret holds control character 0x0D" },
	{ "initiator a\001 s3cret-s3cret\n", ":1: the initiator user holds control character 0x01" },
};

START_TEST(refusals_name_file_and_line)
{
	struct mirror_chap_file f;
	char why[300] = "", want[400];

	write_file(bad[_i].text, 0600);
	ck_assert_int_eq(mirror_chap_file_read(path, &f, why, sizeof(why)), -EINVAL);
	snprintf(want, sizeof(want), "%s%s", path, bad[_i].why);
	ck_assert_msg(strncmp(why, want, strlen(want)) == 0, "\"%s\", want \"%s\"", why, want);
	ck_assert(!f.initiator.set && !f.target.set); /* wiped */
	unlink(path);
}
END_TEST

START_TEST(missing_file)
{
	struct mirror_chap_file f;
	char why[300] = "";

	ck_assert_int_eq(mirror_chap_file_read("/nonexistent/chap", &f, why, sizeof(why)), -ENOENT);
	ck_assert_str_eq(why, "/nonexistent/chap: No such file or directory");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("chap_file");
	TCase *t = tcase_create("chap_file");
	tcase_add_test(t, good_file);
	tcase_add_loop_test(t, refusals_name_file_and_line, 0, (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(t, missing_file);
	suite_add_tcase(s, t);
	return test_run_suite(s);
}
