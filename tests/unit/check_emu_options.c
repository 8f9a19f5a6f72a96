/* mirror-emu's command line (app/emu/options.c) and what is built from it
 * (app/emu/settings.c, app/emu/report.c): the defaults, each option's
 * value, each option's bad input refused with a message naming the
 * option, the combinations checked together, and the target and server
 * settings field by field. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <mirror/receiver.h>

#include "app/emu/options.h"
#include "app/emu/report.h"
#include "app/emu/settings.h"

#include "testutil.h"

#define ARGS_MAX 12

/* Parses "mirror-emu" followed by args (NULL-terminated) into o. */
static int parse(struct mirror_emu_opts *o, const char *const *args, char *why, size_t why_len)
{
	char *argv[ARGS_MAX + 2];
	int argc = 0;

	argv[argc++] = (char *)"mirror-emu";
	for (size_t i = 0; i < ARGS_MAX && args[i]; i++)
		argv[argc++] = (char *)args[i];
	argv[argc] = NULL;
	mirror_emu_opts_init(o);
	optind = 0; /* glibc: start afresh on a new argv */
	opterr = 0;
	strcpy(why, "canary");
	return mirror_emu_opts_parse(o, argc, argv, why, why_len);
}

START_TEST(defaults)
{
	static const char *const none[] = { NULL };
	struct mirror_emu_opts o;
	char why[256];

	ck_assert_int_eq(parse(&o, none, why, sizeof(why)), MIRROR_EMU_RUN);
	ck_assert_str_eq(why, "");
	ck_assert_str_eq(o.listen, "127.0.0.1:3260");
	ck_assert_str_eq(o.target_name, "iqn.2026-11.org.mirrortest:emu");
	ck_assert_uint_eq(o.role, 1);
	ck_assert_int_eq(o.neg, MIRROR_NEG_PATENT);
	ck_assert_uint_eq(o.seed, 1);
	ck_assert_uint_eq(o.max_conns, 256);
	ck_assert_uint_eq(o.login_timeout_s, 15);
	ck_assert_uint_eq(o.extensions_off, 0);
	ck_assert(!o.have_max_burst && !o.have_first_burst && !o.have_max_recv_dsl);
	ck_assert_str_eq(o.profile.name, "v1");
	ck_assert_uint_eq(o.profile.nvram_size, 128u << 20);
}
END_TEST

START_TEST(every_option_taken)
{
	static const char *const args[] = { "-l", "[::1]:0", "-t", "eui.0123456789abcdef", "-r",
					    "A", "-N", "modern", NULL };
	static const char *const args2[] = { "--max-burst", "64K", "--first-burst", "4096",
					     "--max-recv-dsl", "8192", "--seed", "0x10", NULL };
	static const char *const args3[] = { "-a", "iqn.2026-11.org.x:a", "-a", "naa.60000000",
					     "-i", "drop-status,p=0.5", "--max-connections", "9",
					     NULL };
	static const char *const args4[] = { "-f", "nv.img", "-c", "chap.txt", "--table", "t.txt",
					     "--stats-socket", "s.sock", NULL };
	static const char *const args5[] = { "--port-file", "p", "-Q", "q.sock", "--json", "-v",
					     "-v", "-q", "--target-alias", "emu one", NULL };
	static const char *const args6[] = { "--extensions", "table,release", "-n", "64M", NULL };
	static const char *const args7[] = { "--coalesce-us", "0", NULL };
	struct mirror_emu_opts o;
	char why[256];

	ck_assert_int_eq(parse(&o, args, why, sizeof(why)), MIRROR_EMU_RUN);
	ck_assert_str_eq(o.listen, "[::1]:0");
	ck_assert_str_eq(o.target_name, "eui.0123456789abcdef");
	ck_assert_uint_eq(o.role, 0);
	ck_assert_int_eq(o.neg, MIRROR_NEG_MODERN);

	ck_assert_int_eq(parse(&o, args2, why, sizeof(why)), MIRROR_EMU_RUN);
	ck_assert(o.have_max_burst && o.have_first_burst && o.have_max_recv_dsl);
	ck_assert_uint_eq(o.max_burst, 65536);
	ck_assert_uint_eq(o.first_burst, 4096);
	ck_assert_uint_eq(o.max_recv_dsl, 8192);
	ck_assert_uint_eq(o.seed, 16);

	ck_assert_int_eq(parse(&o, args3, why, sizeof(why)), MIRROR_EMU_RUN);
	ck_assert_uint_eq(o.acl_n, 2);
	ck_assert_str_eq(o.acl[0], "iqn.2026-11.org.x:a");
	ck_assert_str_eq(o.acl[1], "naa.60000000");
	ck_assert_uint_eq(o.inject_n, 1);
	ck_assert_str_eq(o.inject_spec[0], "drop-status,p=0.5");
	ck_assert_int_eq(o.inject_rule[0].action, MIRROR_INJ_DROP_STATUS);
	ck_assert_uint_eq(o.max_conns, 9);
	ck_assert_uint_eq(o.coalesce_us, MIRROR_EMU_COALESCE_DEFAULT_US);

	ck_assert_int_eq(parse(&o, args4, why, sizeof(why)), MIRROR_EMU_RUN);
	ck_assert_str_eq(o.nvram_file, "nv.img");
	ck_assert_str_eq(o.chap_file, "chap.txt");
	ck_assert_str_eq(o.table_file, "t.txt");
	ck_assert_str_eq(o.stats_socket, "s.sock");

	ck_assert_int_eq(parse(&o, args5, why, sizeof(why)), MIRROR_EMU_RUN);
	ck_assert_str_eq(o.port_file, "p");
	ck_assert_str_eq(o.query, "q.sock");
	ck_assert(o.json);
	ck_assert_int_eq(o.verbosity, 1);
	ck_assert_str_eq(o.target_alias, "emu one");

	ck_assert_int_eq(parse(&o, args6, why, sizeof(why)), MIRROR_EMU_RUN);
	ck_assert_uint_eq(o.extensions_off, MIRROR_RX_EXT_READBACK);
	ck_assert_uint_eq(o.profile.nvram_size, 64u << 20);

	ck_assert_int_eq(parse(&o, args7, why, sizeof(why)), MIRROR_EMU_RUN);
	ck_assert_uint_eq(o.coalesce_us, 0);
}
END_TEST

/* The words --role and --negotiation take, each against the other
 * value's default so that a wrong table entry shows. */
static const struct {
	const char *opt, *word;
	unsigned role;
	int neg;
} words[] = {
	{ "--role", "a", 0, MIRROR_NEG_PATENT },   { "--role", "A", 0, MIRROR_NEG_PATENT },
	{ "--role", "b", 1, MIRROR_NEG_PATENT },   { "--role", "B", 1, MIRROR_NEG_PATENT },
	{ "-N", "modern", 1, MIRROR_NEG_MODERN }, { "-N", "patent", 1, MIRROR_NEG_PATENT },
};

START_TEST(keyword_values)
{
	const char *const args[] = { "-r", "a", "-N", "modern", words[_i].opt, words[_i].word, NULL };
	struct mirror_emu_opts o;
	char why[256];

	/* start from the other values: A and modern, then the word under test */
	ck_assert_int_eq(parse(&o, args, why, sizeof(why)), MIRROR_EMU_RUN);
	if (strcmp(words[_i].opt, "--role") == 0) {
		ck_assert_uint_eq(o.role, words[_i].role);
	} else {
		ck_assert_uint_eq(o.role, 0);
		ck_assert_int_eq(o.neg, words[_i].neg);
	}
}
END_TEST

/* -h, -V and -L end the parse at once, whatever follows. */
static const struct {
	const char *opt;
	int action;
} actions[] = {
	{ "-h", MIRROR_EMU_HELP },        { "--help", MIRROR_EMU_HELP },
	{ "-V", MIRROR_EMU_VERSION },     { "--version", MIRROR_EMU_VERSION },
	{ "-L", MIRROR_EMU_LIST_PROFILES }, { "--list-profiles", MIRROR_EMU_LIST_PROFILES },
};

START_TEST(actions_stop_the_parse)
{
	const char *const args[] = { actions[_i].opt, "--role", "c", NULL };
	struct mirror_emu_opts o;
	char why[256];

	ck_assert_int_eq(parse(&o, args, why, sizeof(why)), actions[_i].action);
	ck_assert_uint_eq(o.role, 1); /* the bad --role after it not read */
}
END_TEST

/* Bad input of each option: -EINVAL and the whole message, which names
 * the option. */
static const struct {
	const char *args[5];
	const char *why;
} bad[] = {
	{ { "--listen", "localhost:3260" }, "--listen " },
	{ { "-l", "127.0.0.1:70000" }, "--listen " },
	{ { "--target-name", "emu" },
	  "--target-name 'emu' is not an iSCSI name (iqn., eui. or naa., at most 223 bytes)" },
	{ { "-t", "iqn." }, "--target-name 'iqn.' is not an iSCSI name (iqn., eui. or naa., at most 223 bytes)" },
	{ { "--role", "c" }, "bad --role 'c' (a or b)" },
	{ { "-r", "ab" }, "bad --role 'ab' (a or b)" },
	{ { "--negotiation", "Modern" }, "bad --negotiation 'Modern' (patent or modern)" },
	{ { "--max-burst", "511" }, "--max-burst: '511' is outside 512..16777215" },
	{ { "--max-burst", "16M" }, "--max-burst: '16M' is outside 512..16777215" },
	{ { "--first-burst", "x" }, "--first-burst: 'x' is not a size (a count with K, M or G)" },
	{ { "--max-recv-dsl", "0" }, "--max-recv-dsl: '0' is outside 512..16777215" },
	{ { "--first-burst", "128K", "--max-burst", "64K" },
	  "--first-burst 131072 is over MaxBurstLength 65536 (RFC 7143 13.14)" },
	{ { "--first-burst", "2M" }, "--first-burst 2097152 is over MaxBurstLength 1048576 (RFC 7143 13.14)" },
	{ { "--allow-initiator", "host1" },
	  "--allow-initiator 'host1' is not an iSCSI name (iqn., eui. or naa., at most 223 bytes)" },
	{ { "--inject", "explode" }, "--inject 'explode': " },
	{ { "--extensions", "table,tea" },
	  "--extensions: unknown extension 'tea' (table, readback, release, all or none)" },
	{ { "--extensions", "," }, "--extensions ',' names no extension (none for none)" },
	{ { "--seed", "-1" }, "--seed: '-1' is not a count (decimal or 0x hex)" },
	{ { "--max-connections", "0" }, "--max-connections: '0' is outside 1..65536" },
	{ { "--max-connections", "1K" }, "--max-connections: '1K' is not a count (decimal or 0x hex)" },
	{ { "--login-timeout", "3601" }, "--login-timeout: '3601' is outside 0..3600" },
	{ { "--login-timeout", "5s" }, "--login-timeout: '5s' is not a count (decimal or 0x hex)" },
	{ { "--coalesce-us", "1000001" }, "--coalesce-us: '1000001' is outside 0..1000000" },
	{ { "--coalesce-us", "-1" }, "--coalesce-us: '-1' is not a count (decimal or 0x hex)" },
	{ { "--coalesce-us", "200us" }, "--coalesce-us: '200us' is not a count (decimal or 0x hex)" },
	{ { "--chap-secret", "s3cret" },
	  "secrets are not taken on the command line (every user can read it in the process list): "
	  "put them in --chap-file FILE" },
	{ { "--secret", "s3cret" }, "secrets are not taken on the command line" },
	{ { "--target-secret", "s3cret" }, "secrets are not taken on the command line" },
	{ { "stray" }, "unexpected argument 'stray'" },
	{ { "--profile", "v9" }, "" }, /* the profile's own message, checked below */
	{ { "--nvram-size", "1T" }, "" },
	{ { "--no-such-option" }, "" }, /* getopt's own message */
	{ { "--listen" }, "" },
};

START_TEST(bad_input_named)
{
	struct mirror_emu_opts o;
	char why[256];
	int rc = parse(&o, bad[_i].args, why, sizeof(why));

	ck_assert_int_eq(rc, -EINVAL);
	ck_assert_msg(strncmp(why, bad[_i].why, strlen(bad[_i].why)) == 0, "%s: why '%s', want '%s'",
		      bad[_i].args[0], why, bad[_i].why);
	if (bad[_i].why[0] == '\0' && bad[_i].args[1]) /* profile options: their own text */
		ck_assert_msg(why[0] && strcmp(why, "canary") != 0, "%s: no message", bad[_i].args[0]);
	else if (bad[_i].why[0] == '\0')
		ck_assert_str_eq(why, ""); /* getopt printed it */
}
END_TEST

START_TEST(too_many_repeats)
{
	const char *args[ARGS_MAX + 1];
	struct mirror_emu_opts o;
	char why[256];

	/* Fill the table directly, then one more from the command line. */
	args[0] = "-a";
	args[1] = "iqn.2026-11.org.x:z";
	args[2] = NULL;
	mirror_emu_opts_init(&o);
	o.acl_n = MIRROR_ACL_MAX;
	char *argv[] = { (char *)"mirror-emu", (char *)args[0], (char *)args[1], NULL };
	optind = 0;
	ck_assert_int_eq(mirror_emu_opts_parse(&o, 3, argv, why, sizeof(why)), -EINVAL);
	ck_assert_str_eq(why, "more than 32 --allow-initiator");

	mirror_emu_opts_init(&o);
	o.inject_n = MIRROR_INJECT_RULES_MAX;
	char *argv2[] = { (char *)"mirror-emu", (char *)"-i", (char *)"drop-status", NULL };
	optind = 0;
	ck_assert_int_eq(mirror_emu_opts_parse(&o, 3, argv2, why, sizeof(why)), -EINVAL);
	ck_assert_str_eq(why, "more than 16 --inject rules");

	char long_alias[300];
	memset(long_alias, 'x', 256);
	long_alias[256] = '\0';
	char *argv3[] = { (char *)"mirror-emu", (char *)"--target-alias", long_alias, NULL };
	mirror_emu_opts_init(&o);
	optind = 0;
	ck_assert_int_eq(mirror_emu_opts_parse(&o, 3, argv3, why, sizeof(why)), -EINVAL);
	ck_assert_str_eq(why, "--target-alias is over 255 bytes");
	long_alias[255] = '\0';
	mirror_emu_opts_init(&o);
	optind = 0;
	ck_assert_int_eq(mirror_emu_opts_parse(&o, 3, argv3, why, sizeof(why)), MIRROR_EMU_RUN);
}
END_TEST

static const struct {
	const char *list;
	int rc;
	unsigned off;
} extensions[] = {
	{ "all", 0, 0 },
	{ "none", 0, MIRROR_RX_EXT_ALL },
	{ "table", 0, MIRROR_RX_EXT_ALL & ~MIRROR_RX_EXT_TABLE },
	{ "readback,release", 0, MIRROR_RX_EXT_TABLE },
	{ "table,readback,release", 0, 0 },
	{ "none,table", 0, MIRROR_RX_EXT_ALL & ~MIRROR_RX_EXT_TABLE },
	{ "TABLE", -EINVAL, 0 },
	{ "", -EINVAL, 0 },
};

START_TEST(extension_lists)
{
	unsigned off = 0xdead;
	char why[256] = "";
	int rc = mirror_emu_parse_extensions(extensions[_i].list, &off, why, sizeof(why));

	ck_assert_int_eq(rc, extensions[_i].rc);
	if (rc == 0)
		ck_assert_uint_eq(off, extensions[_i].off);
	else
		ck_assert_msg(off == 0xdead && strncmp(why, "--extensions", 12) == 0, "'%s': %s",
			      extensions[_i].list, why);
}
END_TEST

START_TEST(target_settings)
{
	static const char *const args[] = { "--max-burst", "4096", "--max-recv-dsl", "1024", "-a",
					    "iqn.2026-11.org.x:a", "-N", "modern", NULL };
	static const char *const args2[] = { "--first-burst", "8192", "--target-alias", "al", NULL };
	struct mirror_emu_opts o;
	struct mirror_chap_file chap;
	struct mirror_inject inj;
	struct mirror_tgt_config tc;
	char why[256];

	memset(&chap, 0, sizeof(chap));
	ck_assert_int_eq(parse(&o, args, why, sizeof(why)), MIRROR_EMU_RUN);
	mirror_emu_inject_config(&o, &inj);
	mirror_emu_tgt_config(&o, &chap, "127.0.0.1:4000", &inj, &tc);
	ck_assert_uint_eq(tc.max_burst_length, 4096);
	ck_assert_uint_eq(tc.first_burst_length, 4096); /* follows the smaller max */
	ck_assert_uint_eq(tc.max_recv_data_segment_length, 1024);
	ck_assert_str_eq(tc.target_name, "iqn.2026-11.org.mirrortest:emu");
	ck_assert_ptr_null(tc.target_alias);
	ck_assert_str_eq(tc.portal, "127.0.0.1:4000");
	ck_assert_int_eq(tc.neg, MIRROR_NEG_MODERN);
	ck_assert_uint_eq(tc.login_timeout_ms, 15000);
	ck_assert_uint_eq(tc.acl_n, 1);
	ck_assert_str_eq(tc.acl[0], "iqn.2026-11.org.x:a");
	ck_assert_ptr_null(tc.chap_user);
	ck_assert_ptr_null(tc.target_chap_user);
	ck_assert_ptr_null(tc.inject); /* no rules */
	ck_assert_int_eq(mirror_tgt_config_check(&tc, why, sizeof(why)), 0);

	ck_assert_int_eq(parse(&o, args2, why, sizeof(why)), MIRROR_EMU_RUN);
	strcpy(chap.initiator.user, "alice");
	strcpy(chap.initiator.secret, "alice-secret-1234");
	chap.initiator.set = true;
	o.inject_n = 1;
	ck_assert_int_eq(mirror_inject_parse("drop-status", &o.inject_rule[0], why, sizeof(why)), 0);
	mirror_emu_inject_config(&o, &inj);
	ck_assert_uint_eq(inj.n, 1);
	mirror_emu_tgt_config(&o, &chap, "p", &inj, &tc);
	ck_assert_uint_eq(tc.max_burst_length, 1048576); /* the target's default */
	ck_assert_uint_eq(tc.first_burst_length, 8192);
	ck_assert_str_eq(tc.target_alias, "al");
	ck_assert_str_eq(tc.chap_user, "alice");
	ck_assert_str_eq(tc.chap_secret, "alice-secret-1234");
	ck_assert_ptr_null(tc.target_chap_user);
	ck_assert_ptr_eq(tc.inject, &inj);
	ck_assert_uint_eq(tc.acl_n, 0);

	chap.target.set = true;
	strcpy(chap.target.user, "emu");
	strcpy(chap.target.secret, "emu-secret-5678");
	mirror_emu_tgt_config(&o, &chap, "p", NULL, &tc);
	ck_assert_str_eq(tc.target_chap_user, "emu");
	ck_assert_str_eq(tc.target_chap_secret, "emu-secret-5678");
	ck_assert_ptr_null(tc.inject);
}
END_TEST

START_TEST(server_settings)
{
	static const char *const args[] = { "-l", "127.0.0.1:0", "--stats-socket", "s.sock",
					    "--max-connections", "3", NULL };
	struct mirror_emu_opts o;
	struct mirror_emu_config ec;
	char why[256];

	ck_assert_int_eq(parse(&o, args, why, sizeof(why)), MIRROR_EMU_RUN);
	mirror_emu_server_config(&o, &ec);
	ck_assert_str_eq(ec.listen, "127.0.0.1:0");
	ck_assert_str_eq(ec.stats_path, "s.sock");
	ck_assert_uint_eq(ec.max_conns, 3);
}
END_TEST

static const struct {
	uint64_t v;
	const char *text;
} sizes[] = {
	{ 128u << 20, "128M" }, { 64u << 20, "64M" }, { 3u << 10, "3K" },
	{ (1u << 20) + 1024, "1025K" }, { 1000, "1000" }, { 0, "0" },
};

START_TEST(size_texts)
{
	char buf[32];

	mirror_emu_size_text(sizes[_i].v, buf, sizeof(buf));
	ck_assert_str_eq(buf, sizes[_i].text);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("emu_options");
	TCase *t = tcase_create("emu_options");
	tcase_add_test(t, defaults);
	tcase_add_test(t, every_option_taken);
	tcase_add_loop_test(t, keyword_values, 0, (int)(sizeof(words) / sizeof(words[0])));
	tcase_add_loop_test(t, actions_stop_the_parse, 0, (int)(sizeof(actions) / sizeof(actions[0])));
	tcase_add_loop_test(t, bad_input_named, 0, (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(t, too_many_repeats);
	tcase_add_loop_test(t, extension_lists, 0, (int)(sizeof(extensions) / sizeof(extensions[0])));
	tcase_add_test(t, target_settings);
	tcase_add_test(t, server_settings);
	tcase_add_loop_test(t, size_texts, 0, (int)(sizeof(sizes) / sizeof(sizes[0])));
	suite_add_tcase(s, t);
	return test_run_suite(s);
}
