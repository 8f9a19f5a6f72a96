/* mirror-top's pair view (app/top/pair.h): a controller's stats answer
 * parsed field by field, a missing key named, rates over an interval and
 * none across a restart, takeover events when a count moves (and the last
 * one on a first reading), the script lines of a pair with one
 * controller down, and the reading of a pair through its state file (one
 * controller answering on a socket, one not; a state file missing or
 * without controllers). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

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

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

/* A controller's stats socket at path that answers one connection with
 * the answer of stats() and exits; its pid. */
static pid_t serve_stats_once(const char *path, struct json_object *answer)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	ck_assert_uint_lt(strlen(path), sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 1), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		const char *js = json_object_to_json_string(answer);
		int c = accept(fd, NULL, NULL);
		if (c >= 0 && write(c, js, strlen(js)) == (ssize_t)strlen(js))
			_exit(0);
		_exit(1);
	}
	close(fd);
	return pid;
}

START_TEST(read_through_the_state_file)
{
	struct mirror_top_pair *p = calloc(1, sizeof(*p));
	char dir[] = "/tmp/check_top_pair.XXXXXX", state[128], sock[128], text[512], why[256];
	int status;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(state, sizeof(state), "%s/state.json", dir);
	snprintf(sock, sizeof(sock), "%s/a.stats", dir);
	mirror_top_pair_init(p);

	/* no state file: named */
	ck_assert_int_eq(mirror_top_pair_read(p, state, 1000, why, sizeof(why)), -ENOENT);
	ck_assert_msg(strstr(why, state) && strstr(why, "cannot read it as JSON"), "%s", why);
	ck_assert_uint_eq(p->readings[0] + p->readings[1], 0);

	/* JSON, but not mirror-pair's */
	write_file(state, "{\"dir\":\"x\"}");
	ck_assert_int_eq(mirror_top_pair_read(p, state, 1000, why, sizeof(why)), -EINVAL);
	ck_assert_msg(strstr(why, "no \"controllers\" object"), "%s", why);

	/* a's socket not there, b without one: both down with the reason */
	snprintf(text, sizeof(text),
		 "{\"controllers\":{\"a\":{\"stats_socket\":\"%s\"},\"b\":{\"pid\":3}}}", sock);
	write_file(state, text);
	ck_assert_int_eq(mirror_top_pair_read(p, state, 1000, why, sizeof(why)), -ECONNREFUSED);
	ck_assert_str_eq(why, "neither controller answers");
	ck_assert(!p->cur[0].up);
	ck_assert(!p->cur[1].up);
	ck_assert_msg(strstr(p->cur[0].error, sock) != NULL, "%s", p->cur[0].error);
	ck_assert_str_eq(p->cur[1].error, "no controllers.b.stats_socket in the state file");

	/* a answers: up with its counters, at the time given; b still down */
	struct json_object *answer = stats("a", "00aa", 37, 30, 7, 0, false);
	pid_t pid = serve_stats_once(sock, answer);
	int rc = mirror_top_pair_read(p, state, 2000, why, sizeof(why));
	kill(pid, SIGKILL); /* gone already when it answered */
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	json_object_put(answer);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(why, "");
	ck_assert(p->cur[0].up);
	ck_assert_uint_eq(p->cur[0].tx_small, 30);
	ck_assert_uint_eq(p->cur[0].host_writes, 37);
	ck_assert_uint_eq(p->cur_ms[0], 2000);
	ck_assert(!p->cur[1].up);
	unlink(sock);
	unlink(state);
	rmdir(dir);
	free(p);
}
END_TEST

/* A campaign's status file as app/failover/status.c writes it. */
static const char campaign_js[] =
	"{\"pid\":%d,\"running\":%s,\"updated\":1,\"trials_planned\":20,\"trials_done\":3,"
	"\"acked_writes\":4500,\"indeterminate\":7,\"violations_total\":2,\"acked_lost\":1,"
	"\"stale\":1,\"torn\":0,\"misdirected\":0,\"failed_trials\":1,"
	"\"takeover_ms\":{\"p50\":61.5,\"p99\":140.2,\"max\":140.2},"
	"\"last\":{\"trial\":3,\"fault\":\"kill:a:after-ack\",\"violations\":2,"
	"\"takeover_ms\":140.2,\"stall_ms\":150.9}}";

START_TEST(campaign_view)
{
	struct mirror_top_pair *p = calloc(1, sizeof(*p));
	struct mirror_top_line *lines = calloc(64, sizeof(*lines));
	struct mirror_top_ctl c;
	char js[1024], why[256];
	bool head = false, counts = false, last = false, script = false;

	mirror_top_pair_init(p);
	snprintf(js, sizeof(js), campaign_js, 4242, "true");
	struct json_object *o = json_tokener_parse(js);
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(mirror_top_campaign_from_json(o, &p->campaign, why, sizeof(why)), 0);
	json_object_put(o);
	ck_assert(p->campaign.running);
	ck_assert_uint_eq(p->campaign.done, 3);
	ck_assert_uint_eq(p->campaign.violations, 2);
	ck_assert_str_eq(p->campaign.last_fault, "kill:a:after-ack");
	ctl(&c, "a", "00aa", 9, 9, 0, 0, false);
	mirror_top_pair_update(p, 0, 1000, &c);
	unsigned n = mirror_top_pair_screen(p, "pair s.json", 0, lines, 64);
	for (unsigned i = 0; i < n; i++) {
		const char *t = lines[i].text;
		head |= strcmp(t, "failover campaign (mirror-failover pid 4242, running)") == 0;
		counts |= lines[i].kind == MIRROR_TOP_LINE_FINDING &&
			  strcmp(t, "  trials 3 of 20, 1 failed; 4500 acknowledged writes, 2 violations "
				    "(lost 1, stale 1, torn 0, misdirected 0)") == 0;
		last |= strcmp(t, "  takeover p50 62 / p99 140 / max 140 ms; last: trial 3, "
				  "kill:a:after-ack, takeover 140 ms, stall 151 ms, 2 violations") == 0;
		script |= strcmp(t, "campaign: running=1 pid=4242 trials_done=3 trials_planned=20 "
				    "failed_trials=1 acked_writes=4500 violations=2 takeover_p99_ms=140.2 "
				    "last_trial=3 last_takeover_ms=140.2") == 0;
	}
	ck_assert(head);
	ck_assert(counts);
	ck_assert(last);
	ck_assert(script);

	/* each key the view needs, missing, is named */
	static const char *const keys[] = { "trials_done", "violations_total", "running" };
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		struct mirror_top_campaign cc;
		o = json_tokener_parse(js);
		json_object_object_del(o, keys[k]);
		ck_assert_int_eq(mirror_top_campaign_from_json(o, &cc, why, sizeof(why)), -EINVAL);
		ck_assert_msg(strstr(why, keys[k]) != NULL, "%s: %s", keys[k], why);
		json_object_put(o);
	}
	free(lines);
	free(p);
}
END_TEST

/* Read beside the state file: a campaign whose process is gone is shown
 * ended, with that said. */
START_TEST(campaign_beside_the_state_file)
{
	struct mirror_top_pair *p = calloc(1, sizeof(*p));
	char dir[] = "/tmp/check_top_pair.XXXXXX", state[128], status[128], text[1024], why[256];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(state, sizeof(state), "%s/state.json", dir);
	snprintf(status, sizeof(status), "%s/failover.json", dir);
	mirror_top_pair_init(p);
	snprintf(text, sizeof(text), "{\"dir\":\"%s\",\"controllers\":{\"a\":{},\"b\":{}}}", dir);
	write_file(state, text);
	/* no campaign */
	mirror_top_pair_read(p, state, 1000, why, sizeof(why));
	ck_assert(!p->campaign.have);
	/* a running one (this process) */
	snprintf(text, sizeof(text), campaign_js, (int)getpid(), "true");
	write_file(status, text);
	mirror_top_pair_read(p, state, 1000, why, sizeof(why));
	ck_assert(p->campaign.have);
	ck_assert(p->campaign.running);
	/* one that says running but whose pid is gone */
	pid_t child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(child, NULL, 0), child);
	snprintf(text, sizeof(text), campaign_js, (int)child, "true");
	write_file(status, text);
	mirror_top_pair_read(p, state, 1000, why, sizeof(why));
	ck_assert(p->campaign.have);
	ck_assert(!p->campaign.running);
	ck_assert_msg(strstr(p->campaign.last_note, "is gone") != NULL, "%s", p->campaign.last_note);
	/* not the campaign's JSON: said, not an error */
	write_file(status, "{\"pid\":1}");
	mirror_top_pair_read(p, state, 1000, why, sizeof(why));
	ck_assert(p->campaign.have);
	ck_assert_msg(strstr(p->campaign.last_note, "failover.json: the campaign's status lacks"),
		      "%s", p->campaign.last_note);
	unlink(status);
	unlink(state);
	rmdir(dir);
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
	tcase_add_test(t, read_through_the_state_file);
	tcase_add_test(t, campaign_view);
	tcase_add_test(t, campaign_beside_the_state_file);
	suite_add_tcase(s, t);
	return test_run_suite(s);
}
