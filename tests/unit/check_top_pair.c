/* mirror-top's pair view (app/top/pair.h): a controller's stats answer
 * parsed field by field, a missing key named, rates over an interval and
 * none across a restart, takeover events when a count moves (and the last
 * one on a first reading), and the script lines of a pair with one
 * controller down. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "app/top/pair.h"

#include "testutil.h"

/* A stats answer as app/pair/report.c writes it (the keys the view
 * reads; report.c has more). */
static struct json_object *stats(const char *name, const char *inc, unsigned writes,
				 unsigned small, unsigned large, unsigned takeovers, bool last)
{
	char js[2048];
	int n = snprintf(js, sizeof(js),
		"{\"controller\":\"%s\",\"pid\":%u,\"incarnation\":\"%s\",\"mode\":\"whole\","
		"\"link\":{\"state\":\"up\"},"
		"\"mirror_tx\":{\"small\":%u,\"large\":%u},"
		"\"mirror_rx\":{\"kinds\":{\"small\":{\"ops\":5},\"large\":{\"ops\":6}}},"
		"\"host\":{\"reads\":10,\"writes\":%u,\"errors\":0},"
		"\"luns\":[{\"lun\":0,\"home\":\"a\",\"owner\":\"a\",\"alua\":\"%s\"},"
		"{\"lun\":1,\"home\":\"b\",\"owner\":\"b\",\"alua\":\"%s\"}],"
		"\"nvram\":{\"own_region_bytes\":8388608,\"own_used_bytes\":4096,"
		"\"partner_ops\":2,\"partner_blocks\":16},"
		"\"destage\":{\"backlog_entries\":3,\"backlog_bytes\":12288,\"destaged\":40},"
		"\"takeover\":{\"count\":%u,\"failbacks\":0",
		name, name[0] == 'a' ? 100u : 200u, inc, small, large, writes,
		name[0] == 'a' ? "active/optimized" : "standby",
		name[0] == 'a' ? "standby" : "active/optimized", takeovers);
	if (last)
		n += snprintf(js + n, sizeof(js) - (size_t)n,
			      ",\"last\":{\"detected_at_ms\":5000,\"fenced_ms\":3,\"replayed_ms\":9,"
			      "\"active_ms\":41,\"replayed_blocks\":1600,\"fencing\":\"SIGKILL pid 7\"}");
	snprintf(js + n, sizeof(js) - (size_t)n, "}}");
	struct json_object *j = json_tokener_parse(js);
	ck_assert_ptr_nonnull(j);
	return j;
}

static void ctl(struct mirror_top_ctl *c, const char *name, const char *inc, unsigned writes,
		unsigned small, unsigned large, unsigned takeovers, bool last)
{
	char why[256];
	struct json_object *j = stats(name, inc, writes, small, large, takeovers, last);

	ck_assert_int_eq(mirror_top_ctl_from_stats(j, c, why, sizeof(why)), 0);
	json_object_put(j);
}

START_TEST(stats_parse)
{
	struct mirror_top_ctl c;
	char why[256];

	ctl(&c, "a", "00aa", 37, 30, 7, 0, false);
	ck_assert(c.up);
	ck_assert_uint_eq(c.pid, 100);
	ck_assert_str_eq(c.mode, "whole");
	ck_assert_str_eq(c.link, "up");
	ck_assert_uint_eq(c.host_writes, 37);
	ck_assert_uint_eq(c.host_reads, 10);
	ck_assert_uint_eq(c.tx_small, 30);
	ck_assert_uint_eq(c.tx_large, 7);
	ck_assert_uint_eq(c.rx_small, 5);
	ck_assert_uint_eq(c.rx_large, 6);
	ck_assert_uint_eq(c.nvram_size, 8388608);
	ck_assert_uint_eq(c.nvram_used, 4096);
	ck_assert_uint_eq(c.backlog_entries, 3);
	ck_assert_uint_eq(c.backlog_bytes, 12288);
	ck_assert_uint_eq(c.nluns, 2);
	ck_assert_str_eq(c.lun[1].alua, "standby");
	ck_assert_str_eq(c.lun[1].owner, "b");
	ck_assert(!c.have_last);

	ctl(&c, "b", "00bb", 0, 0, 0, 1, true);
	ck_assert(c.have_last);
	ck_assert_uint_eq(c.active_ms, 41);
	ck_assert_uint_eq(c.replayed_blocks, 1600);
	ck_assert_str_eq(c.fencing, "SIGKILL pid 7");

	/* a key missing: named by its dotted path */
	struct json_object *j = json_tokener_parse("{\"pid\":1,\"host\":{\"reads\":1,\"writes\":2}}");
	ck_assert_int_eq(mirror_top_ctl_from_stats(j, &c, why, sizeof(why)), -EINVAL);
	ck_assert_msg(strstr(why, "host.errors") != NULL, "%s", why);
	json_object_put(j);
	ck_assert_int_eq(mirror_top_ctl_from_stats(NULL, &c, why, sizeof(why)), -EINVAL);
}
END_TEST

START_TEST(rates_and_restart)
{
	struct mirror_top_pair *p = calloc(1, sizeof(*p));
	struct mirror_top_ctl c;
	struct mirror_top_ctl_rates r;

	mirror_top_pair_init(p);
	ctl(&c, "a", "00aa", 100, 80, 20, 0, false);
	mirror_top_pair_update(p, 0, 1000, &c);
	mirror_top_pair_rates(p, 0, &r);
	ck_assert(r.host_ops_s == 0.0); /* one reading: no rate */
	/* half a second later: 50 more writes (reads unchanged), 40 small,
	 * 10 large */
	ctl(&c, "a", "00aa", 150, 120, 30, 0, false);
	mirror_top_pair_update(p, 0, 1500, &c);
	mirror_top_pair_rates(p, 0, &r);
	ck_assert(r.host_ops_s == 100.0);
	ck_assert(r.small_s == 80.0);
	ck_assert(r.large_s == 20.0);
	/* a restarted controller (another incarnation): counters from 0, no
	 * rate across it */
	ctl(&c, "a", "01aa", 5, 5, 0, 0, false);
	mirror_top_pair_update(p, 0, 2000, &c);
	mirror_top_pair_rates(p, 0, &r);
	ck_assert(r.host_ops_s == 0.0);
	free(p);
}
END_TEST

START_TEST(takeover_events)
{
	struct mirror_top_pair *p = calloc(1, sizeof(*p));
	struct mirror_top_ctl c;

	mirror_top_pair_init(p);
	/* the first reading of a B that took over before: one event */
	ctl(&c, "b", "00bb", 0, 0, 0, 1, true);
	mirror_top_pair_update(p, 1, 1000, &c);
	ck_assert_uint_eq(p->nevents, 1);
	ck_assert_str_eq(p->events[0], "b took over from a: fenced +3 ms, replayed +9 ms "
			 "(1600 blocks), serving +41 ms; fencing SIGKILL pid 7");
	/* the same count again: no new event */
	mirror_top_pair_update(p, 1, 2000, &c);
	ck_assert_uint_eq(p->nevents, 1);
	/* the count moves: a second one, latest first */
	ctl(&c, "b", "00bb", 0, 0, 0, 2, true);
	mirror_top_pair_update(p, 1, 3000, &c);
	ck_assert_uint_eq(p->nevents, 2);
	ck_assert_uint_eq(p->events_seen, 2);
	free(p);
}
END_TEST

START_TEST(screen_with_a_controller_down)
{
	struct mirror_top_pair *p = calloc(1, sizeof(*p));
	struct mirror_top_line *lines = calloc(64, sizeof(*lines));
	struct mirror_top_ctl c;
	unsigned n;
	bool ctl_a = false, ctl_b = false, lun0 = false, why = false, event = false;

	mirror_top_pair_init(p);
	memset(&c, 0, sizeof(c));
	snprintf(c.error, sizeof(c.error), "ctl-a.stats: Connection refused");
	mirror_top_pair_update(p, 0, 1000, &c);
	ctl(&c, "b", "00bb", 9, 9, 0, 1, true);
	mirror_top_pair_update(p, 1, 1000, &c);
	n = mirror_top_pair_screen(p, "pair s.json", 0, lines, 64);
	for (unsigned i = 0; i < n; i++) {
		const char *t = lines[i].text;
		if (strncmp(t, "ctl a: ", 7) == 0)
			ctl_a = strncmp(t, "ctl a: up=0 mode=- link=- pid=0 ", 32) == 0;
		if (strncmp(t, "ctl b: ", 7) == 0)
			ctl_b = strstr(t, " host_writes=9 ") && strstr(t, " tx_small=9 ") &&
				strstr(t, " takeovers=1 ") && strstr(t, " last_active_ms=41");
		if (strncmp(t, "lun 0: ", 7) == 0)
			lun0 = strcmp(t, "lun 0: owner=a a=- b=standby") == 0;
		if (strcmp(t, "controller a: ctl-a.stats: Connection refused") == 0)
			why = true;
		if (strncmp(t, "  b took over from a: ", 22) == 0)
			event = true;
	}
	ck_assert(ctl_a);
	ck_assert(ctl_b);
	ck_assert(lun0);
	ck_assert(why);
	ck_assert(event);
	/* cut to the terminal's width */
	n = mirror_top_pair_screen(p, "pair s.json", 40, lines, 64);
	for (unsigned i = 0; i < n; i++)
		ck_assert_uint_le(strlen(lines[i].text), 40);
	free(lines);
	free(p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("top_pair");
	TCase *t = tcase_create("top_pair");
	tcase_add_test(t, stats_parse);
	tcase_add_test(t, rates_and_restart);
	tcase_add_test(t, takeover_events);
	tcase_add_test(t, screen_with_a_controller_down);
	suite_add_tcase(s, t);
	return test_run_suite(s);
}
