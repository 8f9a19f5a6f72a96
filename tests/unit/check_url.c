/* iSCSI target URLs (url.h): every part parsed, the port defaulted, IPv6
 * literals, CHAP flags, %XX in the target; every malformed or over-long
 * part refused with its name and character position; passwords redacted. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <mirror/error.h>
#include <mirror/url.h>

#include "testutil.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static void parse_ok(const char *url, struct mirror_url *u)
{
	char why[256] = "";

	ck_assert_msg(mirror_url_parse(url, u, why, sizeof(why)) == 0, "%s: %s", url, why);
}

START_TEST(test_ipv4)
{
	struct mirror_url u;

	parse_ok("iscsi://127.0.0.1:3261/iqn.2024-01.org.x:y/1", &u);
	ck_assert_str_eq(u.host, "127.0.0.1");
	ck_assert(!u.ipv6);
	ck_assert_uint_eq(u.port, 3261);
	ck_assert(u.port_given);
	ck_assert_str_eq(u.target, "iqn.2024-01.org.x:y");
	ck_assert_uint_eq(u.lun, 1);
	ck_assert(!u.user && !u.password && !u.target_user && !u.target_password);
}
END_TEST

START_TEST(test_default_port)
{
	struct mirror_url u;

	parse_ok("iscsi://storage-1.example_lab.com/iqn.x/0", &u);
	ck_assert_str_eq(u.host, "storage-1.example_lab.com");
	ck_assert_uint_eq(u.port, 3260);
	ck_assert(!u.port_given);
	ck_assert_uint_eq(u.lun, 0);
}
END_TEST

START_TEST(test_ipv6)
{
	struct mirror_url u;

	parse_ok("iscsi://[::1]:5000/iqn.x/0", &u);
	ck_assert_str_eq(u.host, "::1");
	ck_assert(u.ipv6);
	ck_assert_uint_eq(u.port, 5000);
	parse_ok("iscsi://[fe80::1:2]/iqn.x/2", &u);
	ck_assert_str_eq(u.host, "fe80::1:2");
	ck_assert_uint_eq(u.port, 3260);
	ck_assert_uint_eq(u.lun, 2);
	parse_ok("iscsi://[::ffff:10.0.0.1]:65535/iqn.x/16383", &u);
	ck_assert_str_eq(u.host, "::ffff:10.0.0.1");
	ck_assert_uint_eq(u.port, 65535);
	ck_assert_uint_eq(u.lun, 16383);
}
END_TEST

START_TEST(test_chap)
{
	struct mirror_url u;

	parse_ok("iscsi://alice%secret@10.0.0.1/iqn.x/0", &u);
	ck_assert(u.user && u.password);
	ck_assert_str_eq(u.host, "10.0.0.1");
	parse_ok("iscsi://alice@h/iqn.x/0", &u);
	ck_assert(u.user && !u.password);
	/* the last "@" before the first "/" ends the user part */
	parse_ok("iscsi://a%p@ss@h:99/iqn.x/0", &u);
	ck_assert_str_eq(u.host, "h");
	ck_assert_uint_eq(u.port, 99);
	parse_ok("iscsi://a%p@h/iqn.x/0?target_user=t&target_password=s", &u);
	ck_assert(u.target_user && u.target_password);
	ck_assert_uint_eq(u.lun, 0);
	parse_ok("iscsi://h/iqn.x/3?header_digest=crc32c", &u);
	ck_assert(!u.target_user && !u.target_password);
	ck_assert_uint_eq(u.lun, 3);
}
END_TEST

/* an empty mutual CHAP secret is refused: it read as no secret, and its
 * redaction ("target_password=***") as one (fuzz_url's first finding) */
START_TEST(test_empty_target_password)
{
	struct mirror_url u;
	char why[256];

	ck_assert_int_eq(mirror_url_parse("iscsi://u/3/7?target_password=", &u, why, sizeof(why)),
			 -EINVAL);
	ck_assert_msg(strstr(why, "empty secret after 'target_password=' (leave the argument out "
				  "for no mutual CHAP) (character 31)"), "%s", why);
	ck_assert_int_eq(mirror_url_parse("iscsi://u/3/7?target_password=&x=y", &u, why,
					  sizeof(why)), -EINVAL);
	ck_assert(!u.target_password);
}
END_TEST

START_TEST(test_target_decoded)
{
	struct mirror_url u;

	/* libiscsi decodes %XX in the target name */
	parse_ok("iscsi://h/iqn.2024-01.x%3Ay%3a1/0", &u);
	ck_assert_str_eq(u.target, "iqn.2024-01.x:y:1");
}
END_TEST

/* a %XX that decodes to what a target name cannot hold is refused: %00
 * cut the name short (fuzz_url's finding) */
START_TEST(test_target_decoded_control)
{
	struct mirror_url u;
	char why[256];

	ck_assert_int_eq(mirror_url_parse("iscsi://h/iqn.x%00y/0", &u, why, sizeof(why)), -EINVAL);
	ck_assert_msg(strstr(why, "'%00' decodes to 0x00, which cannot be in a target name "
				  "(character 16)"), "%s", why);
	ck_assert_str_eq(u.target, "");
	ck_assert_int_eq(mirror_url_parse("iscsi://h/iqn.x%20y/0", &u, why, sizeof(why)), -EINVAL);
	ck_assert_msg(strstr(why, "'%20' decodes to 0x20"), "%s", why);
}
END_TEST

/* the longest parts that fit, and one byte more */
START_TEST(test_lengths)
{
	char host[300], target[300], url[700], why[256];
	struct mirror_url u;

	memset(host, 'h', 255);
	host[255] = '\0';
	memset(target, 't', 223);
	target[223] = '\0';
	snprintf(url, sizeof(url), "iscsi://%s/%s/7", host, target);
	parse_ok(url, &u);
	ck_assert_uint_eq(strlen(u.host), 255);
	ck_assert_uint_eq(strlen(u.target), 223);

	snprintf(url, sizeof(url), "iscsi://%sh/%s/7", host, target);
	ck_assert_int_eq(mirror_url_parse(url, &u, why, sizeof(why)), -EINVAL);
	ck_assert_msg(strstr(why, "a host of 256 characters (at most 255) (character 9)"), "%s", why);
	ck_assert_str_eq(u.host, "");
	snprintf(url, sizeof(url), "iscsi://h/%st/7", target);
	ck_assert_int_eq(mirror_url_parse(url, &u, why, sizeof(why)), -EINVAL);
	ck_assert_msg(strstr(why, "more than 223 bytes"), "%s", why);
	/* 224 encoded bytes that decode to 223 fit */
	snprintf(url, sizeof(url), "iscsi://h/%%41%s/7", target + 1);
	parse_ok(url, &u);
	ck_assert_uint_eq(u.target[0], 'A');
}
END_TEST

static const struct {
	const char *url, *why;
} bad[] = {
	{ "http://h/iqn.x/0", "does not start with iscsi://" },
	{ "", "does not start with iscsi://" },
	{ "iscsi:/h/iqn.x/0", "does not start with iscsi://" },
	{ "iscsi://", "no host (character 9)" },
	{ "iscsi:///iqn.x/0", "no host (character 9)" },
	{ "iscsi://h", "no target name after the host" },
	{ "iscsi://h/", "empty target name (character 11)" },
	{ "iscsi://h/iqn.x", "no LUN after the target name" },
	{ "iscsi://h/iqn.x/",
	  "no LUN after the target name (iscsi://host[:port]/target-iqn/lun) (character 17)" },
	{ "iscsi://h/iqn.x/?a=b", "no LUN after the target name" },
	{ "iscsi://h/iqn.x/1a", "LUN '1a' is not a number (character 17)" },
	{ "iscsi://h/iqn.x/-1", "LUN '-1' is not a number" },
	{ "iscsi://h/iqn.x/16384", "LUN '16384' is above 16383" },
	{ "iscsi://h/iqn.x/99999999999999999999", "is above 16383" },
	{ "iscsi://h:/iqn.x/0", "no port after ':' (character 11)" },
	{ "iscsi://h:0/iqn.x/0", "port '0' is not 1..65535" },
	{ "iscsi://h:65536/iqn.x/0", "port '65536' is not 1..65535" },
	{ "iscsi://h:99999999999999999999/iqn.x/0", "is not 1..65535" },
	{ "iscsi://h:12a/iqn.x/0", "port '12a' is not a number" },
	{ "iscsi://::1/iqn.x/0", "an IPv6 address goes in brackets" },
	{ "iscsi://h:1:2/iqn.x/0", "an IPv6 address goes in brackets" },
	{ "iscsi://[::1/iqn.x/0", "without its ']'" },
	{ "iscsi://[]/iqn.x/0", "no host" },
	{ "iscsi://[::1]x/iqn.x/0",
	  "'x' after the IPv6 address; a port follows as ]:PORT (character 14)" },
	{ "iscsi://[zz::1]/iqn.x/0", "'z' cannot be in an IPv6 address (character 10)" },
	{ "iscsi://h st/iqn.x/0", "' ' cannot be in a host name (character 10)" },
	{ "iscsi://h\x01/iqn.x/0", "cannot be in a host name" },
	{ "iscsi://@h/iqn.x/0", "empty user name before '@' (character 9)" },
	{ "iscsi://u%@h/iqn.x/0", "empty password after '%'" },
	{ "iscsi://h/iqn%zz/0", "'%' in the target name is not %XX (character 14)" },
	{ "iscsi://h/iqn%4/0", "is not %XX" },
	{ "iscsi://h/iq n/0", "character 0x20 cannot be in a target name" },
	{ "iscsi://h/iqn.x/0?x", "argument 'x' is not KEY=VALUE" },
	{ "iscsi://h/iqn.x/0?=v", "argument '=v' is not KEY=VALUE" },
	{ "iscsi://h/iqn.x/0?a=b&", "argument '' is not KEY=VALUE" },
};

START_TEST(test_bad)
{
	struct mirror_url u;
	char why[256] = "";

	memset(&u, 0x55, sizeof(u));
	ck_assert_msg(mirror_url_parse(bad[_i].url, &u, why, sizeof(why)) == -EINVAL, "%s accepted",
		      bad[_i].url);
	ck_assert_msg(strstr(why, bad[_i].why) != NULL, "%s: '%s', want '%s'", bad[_i].url, why,
		      bad[_i].why);
	ck_assert_msg(strncmp(why, "iSCSI URL: ", 11) == 0, "%s", why);
	/* nothing of a refused URL is left behind */
	ck_assert_str_eq(u.host, "");
	ck_assert_uint_eq(u.port, 0);
	/* no message buffer: the same code */
	ck_assert_int_eq(mirror_url_parse(bad[_i].url, &u, NULL, 0), -EINVAL);
}
END_TEST

START_TEST(test_null)
{
	struct mirror_url u;
	char why[128];

	ck_assert_int_eq(mirror_url_parse(NULL, &u, why, sizeof(why)), -EINVAL);
	ck_assert_msg(strstr(why, "does not start with iscsi://") != NULL, "%s", why);
}
END_TEST

/* ---- redaction ---- */

static const struct {
	const char *url, *shown;
} redacted[] = {
	{ "iscsi://alice%secret@h:1/iqn.x/0", "iscsi://alice%***@h:1/iqn.x/0" },
	{ "iscsi://a%p@ss@h/iqn.x/0", "iscsi://a%***@h/iqn.x/0" },
	{ "iscsi://a%p@h/iqn.x/0?target_user=t&target_password=s2&x=y",
	  "iscsi://a%***@h/iqn.x/0?target_user=t&target_password=***&x=y" },
	{ "iscsi://h/iqn.x/0?target_password=s", "iscsi://h/iqn.x/0?target_password=***" },
	{ "iscsi://alice@h/iqn.x/0", "iscsi://alice@h/iqn.x/0" },
	{ "iscsi://h/iqn.x/0", "iscsi://h/iqn.x/0" },
	/* no URL to parse: as it is */
	{ "/dev/sg0", "/dev/sg0" },
	/* unparsable, but its password still hidden */
	{ "iscsi://u%pw@h:bad", "iscsi://u%***@h:bad" },
};

START_TEST(test_redact)
{
	char out[128];

	ck_assert_int_eq(mirror_url_redact(redacted[_i].url, out, sizeof(out)), 0);
	ck_assert_str_eq(out, redacted[_i].shown);
}
END_TEST

START_TEST(test_redact_short)
{
	char out[30];

	/* 29 characters and the NUL fit; one more does not */
	ck_assert_int_eq(mirror_url_redact("iscsi://alice%secret@h/iqn/00", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "iscsi://alice%***@h/iqn/00");
	ck_assert_int_eq(mirror_url_redact("iscsi://h/iqn.2024-01.x:target/0", out, sizeof(out)),
			 MIRROR_E_NOSPACE);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(mirror_url_redact("iscsi://h/iqn/0", out, 0), MIRROR_E_NOSPACE);
}
END_TEST

static Suite *url_suite(void)
{
	Suite *s = suite_create("url");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_empty_target_password);
	tcase_add_test(tc, test_target_decoded_control);
	tcase_add_test(tc, test_ipv4);
	tcase_add_test(tc, test_default_port);
	tcase_add_test(tc, test_ipv6);
	tcase_add_test(tc, test_chap);
	tcase_add_test(tc, test_target_decoded);
	tcase_add_test(tc, test_lengths);
	tcase_add_loop_test(tc, test_bad, 0, (int)ARRAY_LEN(bad));
	tcase_add_test(tc, test_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("redact");
	tcase_add_loop_test(tc, test_redact, 0, (int)ARRAY_LEN(redacted));
	tcase_add_test(tc, test_redact_short);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run_suite(url_suite());
}
