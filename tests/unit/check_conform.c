/* The conformance harness without a target: globs and case selection,
 * the answer checks and their messages, the not-implemented test, the
 * reporters (TAP, JUnit XML, JSON) and the watchdog of the runner. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "conform.h"
#include "testutil.h"

/* ---- globs and selection ---- */

START_TEST(glob_lists)
{
	ck_assert(conf_glob_list_match("MIRROR.Small.*", "MIRROR.Small.BlockCountTooLarge"));
	ck_assert(!conf_glob_list_match("MIRROR.Small.*", "MIRROR.Large.BlocksZero"));
	ck_assert(conf_glob_list_match("MIRROR.Large.X,MIRROR.Small.*", "MIRROR.Small.A"));
	ck_assert(conf_glob_list_match("*Zero", "MIRROR.Large.BlocksZero"));
	ck_assert(!conf_glob_list_match("*Zero", "MIRROR.Large.BlocksZeroX"));
	ck_assert(conf_glob_list_match("MIRROR.Small.BlockCount?Zero", "MIRROR.Small.BlockCount1Zero"));
	/* exact ids match only themselves */
	ck_assert(!conf_glob_list_match("MIRROR.Small.Min", "MIRROR.Small.MinimumElement"));
	ck_assert(!conf_glob_list_match("", "MIRROR.Small.A"));
	ck_assert(!conf_glob_list_match(NULL, "MIRROR.Small.A"));
}
END_TEST

START_TEST(glob_list_errors)
{
	char why[256], big[300];

	ck_assert_int_eq(conf_glob_list_check("MIRROR.*,*Zero", why, sizeof(why)), 0);
	ck_assert_int_eq(conf_glob_list_check("MIRROR.*,", why, sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "empty pattern"));
	ck_assert_int_eq(conf_glob_list_check(",a", why, sizeof(why)), -EINVAL);
	ck_assert_int_eq(conf_glob_list_check("a,,b", why, sizeof(why)), -EINVAL);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(conf_glob_list_check(big, why, sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "longer than"));
}
END_TEST

START_TEST(selection)
{
	size_t n = conf_case_count();
	bool *sel = calloc(n, sizeof(*sel));
	size_t small = 0, all;

	ck_assert_uint_gt(n, 40);
	for (size_t i = 0; i < n; i++)
		small += strncmp(conf_case_at(i)->id, "MIRROR.Small.", 13) == 0;
	ck_assert_uint_gt(small, 10);
	all = conf_select(NULL, NULL, sel, n);
	ck_assert_uint_eq(all, n);
	ck_assert_uint_eq(conf_select("MIRROR.Small.*", NULL, sel, n), small);
	ck_assert_uint_eq(conf_select(NULL, "MIRROR.Small.*", sel, n), n - small);
	ck_assert_uint_eq(conf_select("MIRROR.Small.*", "MIRROR.Small.*", sel, n), 0);
	ck_assert_uint_eq(conf_select("MIRROR.Nothing.*", NULL, sel, n), 0);
	ck_assert_uint_eq(conf_select("MIRROR.Small.MinimumElement", NULL, sel, n), 1);
	ck_assert_ptr_null(conf_case_at(n));
	free(sel);
}
END_TEST

/* Every case has a unique, well-formed id, a description and a reference. */
START_TEST(case_table)
{
	size_t n = conf_case_count();

	for (size_t i = 0; i < n; i++) {
		const struct conf_case *c = conf_case_at(i);
		ck_assert_msg(strncmp(c->id, "MIRROR.", 7) == 0 && strchr(c->id + 7, '.'), "id %s", c->id);
		ck_assert_msg(c->desc && *c->desc && c->ref && *c->ref && c->run, "case %s", c->id);
		for (size_t j = 0; j < i; j++)
			ck_assert_msg(strcmp(conf_case_at(j)->id, c->id) != 0, "id %s twice", c->id);
	}
}
END_TEST

/* ---- checks of an answer ---- */

static void sense_cmd(struct mirror_cmd *cmd, uint8_t key, uint8_t asc, bool sksv, bool cd,
		      uint16_t field, uint8_t bit)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->cdb[0] = 0xA0;
	cmd->cdb_len = 12;
	cmd->status = MIRROR_STATUS_CHECK_CONDITION;
	cmd->sense_parsed.key = key;
	cmd->sense_parsed.asc = asc;
	cmd->sense_parsed.sksv = sksv;
	cmd->sense_parsed.cd = cd;
	cmd->sense_parsed.bpv = sksv;
	cmd->sense_parsed.field = field;
	cmd->sense_parsed.bit = bit;
	int len = mirror_sense_build(cmd->sense, sizeof(cmd->sense), &cmd->sense_parsed);
	ck_assert_int_gt(len, 0);
	cmd->sense_len = (unsigned)len;
}

START_TEST(check_answers)
{
	struct conf_ctx c;
	struct mirror_cmd cmd;
	static const struct conf_sense at_1_3 = CONF_CDB_FIELD(1, 3);
	static const struct conf_sense length = CONF_PARAM_LENGTH;

	memset(&c, 0, sizeof(c));
	sense_cmd(&cmd, 5, 0x24, true, true, 1, 3);
	ck_assert_int_eq(conf_check(&c, &cmd, "x", &at_1_3), CONF_PASS);
	ck_assert_int_eq(conf_check(&c, &cmd, "small write", NULL), CONF_FAIL);
	ck_assert_ptr_nonnull(strstr(c.why, "small write: expected GOOD; got CHECK CONDITION"));
	/* wrong bit, wrong byte, wrong C/D, no pointer: all fail */
	sense_cmd(&cmd, 5, 0x24, true, true, 1, 2);
	ck_assert_int_eq(conf_check(&c, &cmd, "x", &at_1_3), CONF_FAIL);
	ck_assert_ptr_nonnull(strstr(c.why, "field pointer CDB byte 1 bit 3"));
	sense_cmd(&cmd, 5, 0x24, true, true, 2, 3);
	ck_assert_int_eq(conf_check(&c, &cmd, "x", &at_1_3), CONF_FAIL);
	sense_cmd(&cmd, 5, 0x24, true, false, 1, 3);
	ck_assert_int_eq(conf_check(&c, &cmd, "x", &at_1_3), CONF_FAIL);
	sense_cmd(&cmd, 5, 0x24, false, false, 0, 0);
	ck_assert_int_eq(conf_check(&c, &cmd, "x", &at_1_3), CONF_FAIL);
	/* wrong ASC */
	sense_cmd(&cmd, 5, 0x26, true, true, 1, 3);
	ck_assert_int_eq(conf_check(&c, &cmd, "x", &at_1_3), CONF_FAIL);
	/* PARAMETER LIST LENGTH ERROR must carry no pointer */
	sense_cmd(&cmd, 5, 0x1A, false, false, 0, 0);
	ck_assert_int_eq(conf_check(&c, &cmd, "x", &length), CONF_PASS);
	sense_cmd(&cmd, 5, 0x1A, true, true, 0, 7);
	ck_assert_int_eq(conf_check(&c, &cmd, "x", &length), CONF_FAIL);
	ck_assert_ptr_nonnull(strstr(c.why, "no field pointer"));
	/* GOOD where sense was expected */
	memset(&cmd, 0, sizeof(cmd));
	ck_assert_int_eq(conf_check(&c, &cmd, "x", NULL), CONF_PASS);
	ck_assert_int_eq(conf_check(&c, &cmd, "bc 33", &at_1_3), CONF_FAIL);
	ck_assert_ptr_nonnull(strstr(c.why, "bc 33: expected CHECK CONDITION, ILLEGAL REQUEST 24h/00h"));
	ck_assert_ptr_nonnull(strstr(c.why, "got GOOD"));
	/* a transport failure is no answer */
	cmd.result = -ECONNRESET;
	ck_assert_int_eq(conf_check(&c, &cmd, "x", NULL), CONF_FAIL);
	ck_assert_ptr_nonnull(strstr(c.why, "no answer"));
}
END_TEST

START_TEST(not_implemented)
{
	struct mirror_cmd cmd;
	char why[200];

	sense_cmd(&cmd, 5, 0x20, false, false, 0, 0);
	ck_assert(conf_not_implemented(&cmd, why, sizeof(why)));
	ck_assert_ptr_nonnull(strstr(why, "INVALID COMMAND OPERATION CODE"));
	/* tgtd's REPORT LUNS answer to a data-out 0xA0 */
	sense_cmd(&cmd, 5, 0x24, false, false, 0, 0);
	ck_assert(conf_not_implemented(&cmd, why, sizeof(why)));
	ck_assert_ptr_nonnull(strstr(why, "no field pointer"));
	/* a mirror receiver rejecting a field: implemented */
	sense_cmd(&cmd, 5, 0x24, true, true, 1, 3);
	ck_assert(!conf_not_implemented(&cmd, why, sizeof(why)));
	sense_cmd(&cmd, 5, 0x1A, false, false, 0, 0);
	ck_assert(!conf_not_implemented(&cmd, why, sizeof(why)));
	memset(&cmd, 0, sizeof(cmd));
	ck_assert(!conf_not_implemented(&cmd, why, sizeof(why)));
	/* the CDB lost on the way; a hung command is the target's */
	cmd.result = -EIO;
	ck_assert(conf_not_implemented(&cmd, why, sizeof(why)));
	cmd.result = -ETIMEDOUT;
	ck_assert(!conf_not_implemented(&cmd, why, sizeof(why)));
}
END_TEST

/* ---- reporters ---- */

static enum conf_verdict dummy(struct conf_ctx *c)
{
	(void)c;
	return CONF_PASS;
}

static const struct conf_case rcases[] = {
	{ "MIRROR.A.One", "first", "Fig. 1/a", 0, dummy, NULL },
	{ "MIRROR.A.Two", "second <&>", "Fig. 2", 0, dummy, NULL },
	{ "MIRROR.B.Three", "third", "Fig. 3", 0, dummy, NULL },
};

static void results(struct conf_result *r, struct conf_totals *t)
{
	memset(r, 0, 3 * sizeof(*r));
	memset(t, 0, sizeof(*t));
	for (int i = 0; i < 3; i++)
		r[i].c = &rcases[i];
	r[0].verdict = CONF_PASS;
	r[1].verdict = CONF_FAIL;
	snprintf(r[1].why, sizeof(r[1].why), "expected \"GOOD\" # got <CHECK & CONDITION>");
	r[2].verdict = CONF_SKIP;
	snprintf(r[2].why, sizeof(r[2].why), "needs NVRAM READBACK");
	for (int i = 0; i < 3; i++)
		conf_totals_add(t, &r[i]);
}

static char *render(void (*fn)(FILE *, struct conf_result *, struct conf_totals *))
{
	struct conf_result r[3];
	struct conf_totals t;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	results(r, &t);
	fn(f, r, &t);
	fclose(f);
	return buf;
}

static void tap_all(FILE *f, struct conf_result *r, struct conf_totals *t)
{
	conf_report_tap_plan(f, 3);
	for (size_t i = 0; i < 3; i++)
		conf_report_tap(f, i + 1, &r[i]);
	conf_print_totals(f, t);
}

static void junit_all(FILE *f, struct conf_result *r, struct conf_totals *t)
{
	ck_assert_int_eq(conf_report_junit(f, "iscsi://x/\"y\"", r, 3, t), 0);
}

static void json_all(FILE *f, struct conf_result *r, struct conf_totals *t)
{
	ck_assert_int_eq(conf_report_json(f, "iscsi://x", r, 3, t, NULL), 0);
}

static void text_all(FILE *f, struct conf_result *r, struct conf_totals *t)
{
	for (size_t i = 0; i < 3; i++)
		conf_report_text(f, &r[i]);
	conf_print_totals(f, t);
}

START_TEST(report_tap)
{
	char *s = render(tap_all);

	ck_assert_ptr_nonnull(strstr(s, "TAP version 13\n1..3\n"));
	ck_assert_ptr_nonnull(strstr(s, "\nok 1 - MIRROR.A.One\n"));
	ck_assert_ptr_nonnull(strstr(s, "\nnot ok 2 - MIRROR.A.Two\n"));
	/* a '#' in a reason must not start a directive on the result line */
	ck_assert_ptr_nonnull(strstr(s, "message: \"expected \\\"GOOD\\\" # got"));
	ck_assert_ptr_nonnull(strstr(s, "\nok 3 - MIRROR.B.Three # SKIP needs NVRAM READBACK\n"));
	ck_assert_ptr_nonnull(strstr(s, "\n1 passed, 1 failed, 1 skipped\n"));
	free(s);
}
END_TEST

START_TEST(report_text)
{
	char *s = render(text_all);

	ck_assert_ptr_nonnull(strstr(s, "PASS  MIRROR.A.One\n"));
	ck_assert_ptr_nonnull(strstr(s, "FAIL  MIRROR.A.Two\n"));
	ck_assert_ptr_nonnull(strstr(s, "reference: Fig. 2\n"));
	ck_assert_ptr_nonnull(strstr(s, "SKIP  MIRROR.B.Three (needs NVRAM READBACK)\n"));
	/* the totals alone on the last line */
	static const char last[] = "\n1 passed, 1 failed, 1 skipped\n";
	size_t n = strlen(s), k = strlen(last);
	ck_assert(n > k && strcmp(s + n - k, last) == 0);
	free(s);
}
END_TEST

START_TEST(report_junit)
{
	char *s = render(junit_all);

	ck_assert_ptr_nonnull(strstr(s, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites "));
	ck_assert_ptr_nonnull(strstr(s, "tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\""));
	/* one testsuite per area, with its own counts */
	ck_assert_ptr_nonnull(strstr(s, "<testsuite name=\"MIRROR.A\" tests=\"2\" failures=\"1\" errors=\"0\" skipped=\"0\""));
	ck_assert_ptr_nonnull(strstr(s, "<testsuite name=\"MIRROR.B\" tests=\"1\" failures=\"0\" errors=\"0\" skipped=\"1\""));
	ck_assert_ptr_nonnull(strstr(s, "<testcase classname=\"MIRROR.A\" name=\"One\" time=\"0.000\"/>"));
	ck_assert_ptr_nonnull(strstr(s, "<skipped message=\"needs NVRAM READBACK\"/>"));
	ck_assert_ptr_nonnull(strstr(s, "<failure type=\"nonconformance\" message=\"expected &quot;GOOD&quot; # got &lt;CHECK &amp; CONDITION&gt;\">second &lt;&amp;&gt;"));
	ck_assert_ptr_nonnull(strstr(s, "value=\"iscsi://x/&quot;y&quot;\""));
	ck_assert_ptr_null(strstr(s, "<&>"));
	/* balanced */
	ck_assert_ptr_nonnull(strstr(s, "</testsuite>\n</testsuites>\n"));
	free(s);
}
END_TEST

START_TEST(report_json)
{
	char *s = render(json_all);
	struct json_object *o = json_tokener_parse(s), *x, *cases;

	ck_assert_ptr_nonnull(o);
	ck_assert(json_object_object_get_ex(o, "passed", &x) && json_object_get_int(x) == 1);
	ck_assert(json_object_object_get_ex(o, "failed", &x) && json_object_get_int(x) == 1);
	ck_assert(json_object_object_get_ex(o, "skipped", &x) && json_object_get_int(x) == 1);
	ck_assert(json_object_object_get_ex(o, "cases", &cases));
	ck_assert_uint_eq(json_object_array_length(cases), 3);
	struct json_object *c1 = json_object_array_get_idx(cases, 1);
	ck_assert(json_object_object_get_ex(c1, "result", &x));
	ck_assert_str_eq(json_object_get_string(x), "fail");
	ck_assert(json_object_object_get_ex(c1, "message", &x));
	ck_assert_str_eq(json_object_get_string(x), "expected \"GOOD\" # got <CHECK & CONDITION>");
	json_object_put(o);
	/* a '/' as it is, not json-c's default "\/": the target URL, a reference */
	ck_assert_ptr_nonnull(strstr(s, "\"iscsi://x\""));
	ck_assert_ptr_nonnull(strstr(s, "\"Fig. 1/a\""));
	ck_assert_ptr_null(strstr(s, "\\/"));
	free(s);
}
END_TEST

/* The run's reporter prints what the single reporters print, in order:
 * the lines as the cases end, then the totals (on out but under JSON). */
static void run_reporter(FILE *f, struct conf_result *r, bool tap, bool json, FILE *want_log)
{
	struct conf_reporter rep = { .out = f, .prog = "check_conform", .tap = tap, .json = json,
				     .target = "iscsi://x" };

	ck_assert_ptr_eq(conf_reporter_log(&rep), want_log ? want_log : f);
	conf_reporter_start(&rep, 3);
	for (size_t i = 0; i < 3; i++)
		conf_reporter_case(&rep, &r[i]);
	ck_assert_uint_eq(rep.done, 3);
	ck_assert_int_eq(conf_reporter_finish(&rep, r, NULL, NULL), 0);
}

static void reporter_text(FILE *f, struct conf_result *r, struct conf_totals *t)
{
	(void)t;
	run_reporter(f, r, false, false, NULL);
}

static void reporter_tap(FILE *f, struct conf_result *r, struct conf_totals *t)
{
	(void)t;
	run_reporter(f, r, true, false, stderr);
}

static void reporter_json(FILE *f, struct conf_result *r, struct conf_totals *t)
{
	(void)t;
	run_reporter(f, r, false, true, stderr);
}

static void reporter_bad_junit(FILE *f, struct conf_result *r, struct conf_totals *t)
{
	struct conf_reporter rep = { .out = f, .prog = "check_conform",
				     .junit = "/nonexistent-dir/j.xml" };

	(void)t;
	for (size_t i = 0; i < 3; i++)
		conf_reporter_case(&rep, &r[i]);
	ck_assert_int_lt(conf_reporter_finish(&rep, r, "a note", "its reason"), 0);
}

START_TEST(reporter)
{
	char *text = render(text_all), *got = render(reporter_text);

	ck_assert_str_eq(got, text);
	free(got);
	/* the TAP lines as conf_report_tap's, the totals after them on out */
	got = render(reporter_tap);
	char *tap = render(tap_all);
	ck_assert_str_eq(got, tap);
	free(tap);
	free(got);
	/* JSON: the object alone on out, as conf_report_json's */
	char *json = render(json_all);
	got = render(reporter_json);
	ck_assert_str_eq(got, json);
	free(json);
	free(got);
	/* a JUnit file that cannot be written: an error; the note and totals
	 * still printed */
	got = render(reporter_bad_junit);
	ck_assert_ptr_nonnull(strstr(got, "a note (its reason)\n1 passed, 1 failed, 1 skipped\n"));
	free(got);
	free(text);
}
END_TEST

START_TEST(split_ids)
{
	char area[32];
	const char *name;

	conf_split_id("MIRROR.Small.BlockCountTooLarge", area, sizeof(area), &name);
	ck_assert_str_eq(area, "MIRROR.Small");
	ck_assert_str_eq(name, "BlockCountTooLarge");
	conf_split_id("plain", area, sizeof(area), &name);
	ck_assert_str_eq(area, "");
	ck_assert_str_eq(name, "plain");
}
END_TEST

/* ---- the watchdog ---- */

static enum conf_verdict child_skip(struct conf_ctx *c, void *arg)
{
	(void)arg;
	c->support.small = true;
	return conf_skip(c, "reason %d", 42);
}

static enum conf_verdict child_hang(struct conf_ctx *c, void *arg)
{
	(void)c;
	(void)arg;
	for (;;)
		pause();
	return CONF_PASS;
}

static enum conf_verdict child_crash(struct conf_ctx *c, void *arg)
{
	(void)c;
	(void)arg;
	raise(SIGKILL);
	return CONF_PASS;
}

START_TEST(watchdog)
{
	struct conf_ctx c;
	char why[CONF_WHY_MAX];

	memset(&c, 0, sizeof(c));
	/* the child's verdict, reason and probe results come back */
	ck_assert_int_eq(conf_run_watched(&c, child_skip, NULL, 5, why, sizeof(why)), CONF_SKIP);
	ck_assert_str_eq(why, "reason 42");
	ck_assert(c.support.small);
	/* a child that never ends is killed and its case fails */
	ck_assert_int_eq(conf_run_watched(&c, child_hang, NULL, 1, why, sizeof(why)), CONF_FAIL);
	ck_assert_ptr_nonnull(strstr(why, "watchdog: no outcome after 1 s"));
	/* a child that dies fails its case, and the run goes on */
	ck_assert_int_eq(conf_run_watched(&c, child_crash, NULL, 5, why, sizeof(why)), CONF_FAIL);
	ck_assert_ptr_nonnull(strstr(why, "signal 9"));
	ck_assert_int_eq(conf_run_watched(&c, child_skip, NULL, 5, why, sizeof(why)), CONF_SKIP);
}
END_TEST

static Suite *conform_suite(void)
{
	Suite *s = suite_create("conform");
	TCase *tc = tcase_create("harness");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, glob_lists);
	tcase_add_test(tc, glob_list_errors);
	tcase_add_test(tc, selection);
	tcase_add_test(tc, case_table);
	tcase_add_test(tc, check_answers);
	tcase_add_test(tc, not_implemented);
	tcase_add_test(tc, report_tap);
	tcase_add_test(tc, report_text);
	tcase_add_test(tc, report_junit);
	tcase_add_test(tc, report_json);
	tcase_add_test(tc, reporter);
	tcase_add_test(tc, split_ids);
	tcase_add_test(tc, watchdog);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run_suite(conform_suite());
}
