/* The command line every command shares (app/cli): the number parsers'
 * exact outcomes and messages, the profile options, the JSON printer's
 * unescaped "/", mirror_exit_from_error's table, and the exit status of
 * an error at each step of a command (mirror_cli_exit, mirror_cli_fail). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "app/cli/cli.h"
#include "app/cli/exit.h"

#include "testutil.h"

static const struct {
	const char *arg;
	uint64_t min, max;
	int rc;
	uint64_t value;
	const char *why;
} counts[] = {
	{ "1", 1, 10, 0, 1, "" },
	{ "0x10", 0, 100, 0, 16, "" },
	{ "010", 0, 100, 0, 10, "" }, /* never octal */
	{ "1M", 1, UINT32_MAX, -EINVAL, 0, "--opt: '1M' is not a count (decimal or 0x hex)" },
	{ "4K", 0, UINT32_MAX, -EINVAL, 0, "--opt: '4K' is not a count (decimal or 0x hex)" },
	{ "-1", 0, 10, -EINVAL, 0, "--opt: '-1' is not a count (decimal or 0x hex)" },
	{ "", 0, 10, -EINVAL, 0, "--opt: '' is not a count (decimal or 0x hex)" },
	{ "0", 1, 10, -ERANGE, 0, "--opt: '0' is outside 1..10" },
	{ "11", 1, 10, -ERANGE, 0, "--opt: '11' is outside 1..10" },
	{ "99999999999999999999", 0, UINT64_MAX, -ERANGE, 0,
	  "--opt: '99999999999999999999' is outside 0..18446744073709551615" },
};

START_TEST(count_outcomes)
{
	uint64_t v = 12345;
	char why[160] = "";
	int rc = mirror_cli_count("--opt", counts[_i].arg, counts[_i].min, counts[_i].max, &v, why,
				  sizeof(why));

	ck_assert_int_eq(rc, counts[_i].rc);
	if (rc == 0)
		ck_assert_uint_eq(v, counts[_i].value);
	else
		ck_assert_uint_eq(v, 12345); /* untouched */
	ck_assert_str_eq(why, counts[_i].why);
}
END_TEST

static const struct {
	const char *arg;
	uint64_t max;
	int rc;
	uint64_t value;
	const char *why;
} sizes[] = {
	{ "4096", UINT64_MAX, 0, 4096, "" },
	{ "64K", UINT64_MAX, 0, 65536, "" },
	{ "2M", UINT64_MAX, 0, 2097152, "" },
	{ "1G", UINT64_MAX, 0, 1073741824, "" },
	{ "3Q", UINT64_MAX, -EINVAL, 0, "--size: '3Q' is not a size (a count with K, M or G)" },
	{ "17M", 16777216, -ERANGE, 0, "--size: '17M' is outside 1..16777216" },
	{ "0", 16777216, -ERANGE, 0, "--size: '0' is outside 1..16777216" },
};

START_TEST(size_outcomes)
{
	uint64_t v = 0;
	uint32_t v32 = 7;
	char why[160] = "";
	int rc = mirror_cli_size("--size", sizes[_i].arg, 1, sizes[_i].max, &v, why, sizeof(why));

	ck_assert_int_eq(rc, sizes[_i].rc);
	ck_assert_str_eq(why, sizes[_i].why);
	if (rc == 0)
		ck_assert_uint_eq(v, sizes[_i].value);
	if (sizes[_i].value <= UINT32_MAX) {
		rc = mirror_cli_size32("--size", sizes[_i].arg, 1,
				       sizes[_i].max > UINT32_MAX ? UINT32_MAX : (uint32_t)sizes[_i].max,
				       &v32, why, sizeof(why));
		ck_assert_int_eq(rc, sizes[_i].rc);
		ck_assert_uint_eq(v32, rc == 0 ? sizes[_i].value : 7);
	}
}
END_TEST

START_TEST(count32_and_double)
{
	uint32_t v = 0;
	double d = 0;
	char why[160] = "";

	ck_assert_int_eq(mirror_cli_count32("--repeat", "4294967295", 1, UINT32_MAX, &v, why,
					    sizeof(why)), 0);
	ck_assert_uint_eq(v, UINT32_MAX);
	ck_assert_int_eq(mirror_cli_count32("--repeat", "4294967296", 1, UINT32_MAX, &v, why,
					    sizeof(why)), -ERANGE);
	ck_assert_str_eq(why, "--repeat: '4294967296' is outside 1..4294967295");
	ck_assert_int_eq(mirror_cli_double("--rate", "2.5", 1e-9, 1e9, &d, why, sizeof(why)), 0);
	ck_assert_double_eq(d, 2.5);
	ck_assert_int_eq(mirror_cli_double("--rate", "fast", 1e-9, 1e9, &d, why, sizeof(why)),
			 -EINVAL);
	ck_assert_str_eq(why, "--rate: 'fast' is not a number");
	ck_assert_int_eq(mirror_cli_double("--delay", "0", 0.1, 3600, &d, why, sizeof(why)), -ERANGE);
	ck_assert_str_eq(why, "--delay: '0' is outside 0.1..3600");
	ck_assert_double_eq(d, 2.5);
}
END_TEST

START_TEST(profile_options)
{
	struct mirror_profile_options po = { 0 };

	ck_assert(mirror_cli_profile_option('p', "v1-cdb16", &po));
	ck_assert(mirror_cli_profile_option('O', "3c,a0,b0,c6,c8", &po));
	ck_assert(mirror_cli_profile_option('n', "64M", &po));
	ck_assert(mirror_cli_profile_option(MIRROR_CLI_OPT_REGION_SPLIT, "16M", &po));
	ck_assert(mirror_cli_profile_option(MIRROR_CLI_OPT_STRICT, NULL, &po));
	ck_assert(!mirror_cli_profile_option('s', "1", &po));
	ck_assert_str_eq(po.name, "v1-cdb16");
	ck_assert_str_eq(po.opcodes, "3c,a0,b0,c6,c8");
	ck_assert_str_eq(po.nvram_size, "64M");
	ck_assert_str_eq(po.region_split, "16M");
	ck_assert(po.strict);
	/* the rows parse: getopt_long would refuse a table without them */
	static const struct option rows[] = { MIRROR_CLI_PROFILE_LONGOPTS, { NULL, 0, NULL, 0 } };
	ck_assert_str_eq(rows[3].name, "region-split");
	ck_assert_int_eq(rows[4].val, MIRROR_CLI_OPT_STRICT);
}
END_TEST

static char *printed(void (*print)(FILE *, const void *), const void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(f);
	print(f, arg);
	fclose(f);
	return buf;
}

static void print_obj_plain(FILE *f, const void *o)
{
	mirror_cli_json_print(f, (struct json_object *)o, false);
}

static void print_str(FILE *f, const void *s)
{
	mirror_cli_json_string(f, s);
}

START_TEST(json_slashes_unescaped)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "file", json_object_new_string("traces/small.pcap"));
	char *text = printed(print_obj_plain, o);
	ck_assert_str_eq(text, "{\"file\":\"traces/small.pcap\"}\n");
	free(text);
	json_object_put(o);
	text = printed(print_str, "a/b \"q\"\n");
	ck_assert_str_eq(text, "\"a/b \\\"q\\\"\\n\"");
	free(text);
}
END_TEST

/* The step decides where the code alone does not; elsewhere the code's
 * own status (mirror_exit_from_error). */
static const struct {
	int code;
	enum mirror_cli_step step;
	int status;
} step_exits[] = {
	{ 0, MIRROR_CLI_STEP_FILE, MIRROR_EXIT_OK },
	{ 0, MIRROR_CLI_STEP_LISTEN, MIRROR_EXIT_OK },
	{ -ENOMEM, MIRROR_CLI_STEP_FILE, MIRROR_EXIT_OTHER },
	{ -ENOMEM, MIRROR_CLI_STEP_LISTEN, MIRROR_EXIT_OTHER },
	{ -ENOMEM, MIRROR_CLI_STEP_CONFIG, MIRROR_EXIT_OTHER },
	{ -ENOENT, MIRROR_CLI_STEP_FILE, MIRROR_EXIT_FILE_ERROR },
	{ -EINVAL, MIRROR_CLI_STEP_FILE, MIRROR_EXIT_FILE_ERROR }, /* its contents */
	{ MIRROR_E_TRUNCATED, MIRROR_CLI_STEP_FILE, MIRROR_EXIT_FILE_ERROR },
	{ -ECONNREFUSED, MIRROR_CLI_STEP_FILE, MIRROR_EXIT_FILE_ERROR },
	{ -EACCES, MIRROR_CLI_STEP_LISTEN, MIRROR_EXIT_TRANSPORT }, /* a privileged port */
	{ -EADDRINUSE, MIRROR_CLI_STEP_LISTEN, MIRROR_EXIT_TRANSPORT },
	{ -EINVAL, MIRROR_CLI_STEP_LISTEN, MIRROR_EXIT_SYNTAX },
	{ -EINVAL, MIRROR_CLI_STEP_CONFIG, MIRROR_EXIT_SYNTAX },
	{ MIRROR_E_INVALID_PARAM, MIRROR_CLI_STEP_CONFIG, MIRROR_EXIT_INVALID_PARAM },
	{ -EINVAL, MIRROR_CLI_STEP_RUN, MIRROR_EXIT_OTHER },
	{ -EACCES, MIRROR_CLI_STEP_RUN, MIRROR_EXIT_FILE_ERROR },
	{ -ETIMEDOUT, MIRROR_CLI_STEP_RUN, MIRROR_EXIT_TIMEOUT },
	{ -ECONNRESET, MIRROR_CLI_STEP_RUN, MIRROR_EXIT_TRANSPORT },
	{ MIRROR_E_LBA_RANGE, MIRROR_CLI_STEP_RUN, MIRROR_EXIT_LBA_OUT_OF_RANGE },
};

START_TEST(exit_by_step)
{
	ck_assert_int_eq(mirror_cli_exit(step_exits[_i].code, step_exits[_i].step),
			 step_exits[_i].status);
}
END_TEST

START_TEST(fail_prints_and_maps)
{
	char buf[256] = "";
	FILE *saved = stderr, *f = tmpfile();

	ck_assert_ptr_nonnull(f);
	stderr = f;
	int status = mirror_cli_fail("prog", -ENOENT, MIRROR_CLI_STEP_FILE, "%s: %s", "a.bin",
				     "No such file or directory");
	stderr = saved;
	rewind(f);
	ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), f));
	fclose(f);
	ck_assert_int_eq(status, MIRROR_EXIT_FILE_ERROR);
	ck_assert_str_eq(buf, "prog: a.bin: No such file or directory\n");
}
END_TEST

/* What -h, -V and a refused option print, and where, and the status. */
static const struct {
	int c;
	int status;
	const char *out, *err;
} defaults[] = {
	{ 'h', MIRROR_EXIT_OK, "Usage: x\n", "" },
	{ 'V', MIRROR_EXIT_OK, NULL, "" },
	{ '?', MIRROR_EXIT_SYNTAX, "", "Try 'mirror-x --help'.\n" },
	{ ':', MIRROR_EXIT_SYNTAX, "", "Try 'mirror-x --help'.\n" },
};

START_TEST(default_option)
{
	char *obuf = NULL, *ebuf = NULL, version[64];
	size_t olen = 0, elen = 0;
	FILE *out = open_memstream(&obuf, &olen), *err = open_memstream(&ebuf, &elen);

	ck_assert_ptr_nonnull(out);
	ck_assert_ptr_nonnull(err);
	int status = mirror_cli_default_option_to(out, err, defaults[_i].c, "mirror-x", "Usage: x\n");
	fclose(out);
	fclose(err);
	snprintf(version, sizeof(version), "mirror-x (mirrortest) %s\n", mirror_version());
	ck_assert_int_eq(status, defaults[_i].status);
	ck_assert_str_eq(obuf, defaults[_i].out ? defaults[_i].out : version);
	ck_assert_str_eq(ebuf, defaults[_i].err);
	free(obuf);
	free(ebuf);
	/* the rows parse: the last is getopt_long's end */
	static const struct option rows[] = { MIRROR_CLI_STD_LONGOPTS };
	ck_assert_int_eq(rows[0].val, 'V');
	ck_assert_int_eq(rows[1].val, 'h');
	ck_assert_ptr_null(rows[2].name);
	ck_assert_str_eq(MIRROR_CLI_STD_SHORTOPTS, "Vh");
}
END_TEST

START_TEST(no_operand)
{
	char *argv[] = { "mirror-x", "--opt", "extra", NULL };

	ck_assert_int_eq(mirror_cli_no_operand("mirror-x", 2, argv, 2), 0);
	ck_assert_int_eq(mirror_cli_no_operand("mirror-x", 3, argv, 2), MIRROR_EXIT_SYNTAX);
}
END_TEST

/* A CHAP password leaves the bytes the kernel shows as the command line;
 * the program still reads the whole URL; other arguments are untouched. */
START_TEST(hide_secrets)
{
	char a0[] = "prog", a1[] = "-t", a2[] = "iscsi://alice%s3cr3t-v@127.0.0.1:3260/iqn.x:t/0",
	     a3[] = "--partner-mirror=iscsi://u%p@h/iqn.y/1?target_user=t&target_password=tp-secret",
	     a4[] = "iscsi://127.0.0.1/iqn.z/0";
	char *argv[] = { a0, a1, a2, a3, a4, NULL };

	mirror_cli_hide_secrets(5, argv);
	ck_assert_ptr_eq(argv[1], a1);
	ck_assert_ptr_eq(argv[4], a4);
	ck_assert_str_eq(argv[2], "iscsi://alice%s3cr3t-v@127.0.0.1:3260/iqn.x:t/0");
	ck_assert_str_eq(argv[3], "--partner-mirror=iscsi://u%p@h/iqn.y/1?target_user=t&target_password=tp-secret");
	ck_assert_str_eq(a2, "iscsi://alice%***@127.0.0.1:3260/iqn.x:t/0     ");
	ck_assert_ptr_null(strstr(a3, "tp-secret"));
	ck_assert_ptr_null(strstr(a3, "%p@"));
	ck_assert_uint_eq(strlen(a3), strlen(argv[3]));
	free(argv[2]);
	free(argv[3]);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cli");
	TCase *t = tcase_create("cli");
	tcase_add_loop_test(t, count_outcomes, 0, (int)(sizeof(counts) / sizeof(counts[0])));
	tcase_add_loop_test(t, size_outcomes, 0, (int)(sizeof(sizes) / sizeof(sizes[0])));
	tcase_add_test(t, count32_and_double);
	tcase_add_test(t, profile_options);
	tcase_add_test(t, json_slashes_unescaped);
	tcase_add_loop_test(t, exit_by_step, 0, (int)(sizeof(step_exits) / sizeof(step_exits[0])));
	tcase_add_test(t, fail_prints_and_maps);
	tcase_add_loop_test(t, default_option, 0, (int)(sizeof(defaults) / sizeof(defaults[0])));
	tcase_add_test(t, no_operand);
	tcase_add_test(t, hide_secrets);
	suite_add_tcase(s, t);
	return test_run_suite(s);
}
