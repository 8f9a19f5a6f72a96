/* The iSCSI transport against the project's own target, in a thread:
 * a completion callback that closes or aborts its own transport (the
 * pair's mirror link drops on a failed command, app/pair/link.c) must
 * see every other command complete and leave nothing freed under the
 * caller.  Under AddressSanitizer a use after free here fails the test. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include <mirror/commands.h>
#include <mirror/nvram.h>
#include <mirror/path.h>
#include <mirror/profile.h>
#include <mirror/receiver.h>
#include <mirror/sender.h>
#include <mirror/transport.h>

#include "app/emu/server.h"
#include "iscsi/target.h"

#define NVRAM_SIZE (1u << 20)
#define QD 4u

static struct {
	struct mirror_profile p;
	struct mirror_nvram nv;
	struct mirror_receiver rx;
	uint8_t *data;
	uint64_t *bitmap;
	struct mirror_tgt *tgt;
	struct mirror_emu_server *srv;
	pthread_t th;
	int rc;
	char url[128];
} h;

static void *serve(void *arg)
{
	(void)arg;
	h.rc = mirror_emu_server_run(h.srv);
	return NULL;
}

static void setup(void)
{
	struct mirror_tgt_config tc;
	struct mirror_emu_config ec;
	char why[256] = "";

	memset(&h, 0, sizeof(h));
	mirror_profile_init(&h.p);
	h.p.nvram_size = NVRAM_SIZE;
	h.p.region_split = NVRAM_SIZE / 2;
	h.data = calloc(1, NVRAM_SIZE);
	h.bitmap = calloc(1, mirror_nvram_bitmap_bytes(NVRAM_SIZE));
	ck_assert_int_eq(mirror_nvram_init(&h.nv, &h.p, h.data, h.bitmap), 0);
	ck_assert_int_eq(mirror_rx_init(&h.rx, &h.p, 1, &h.nv), 0);
	mirror_tgt_config_init(&tc);
	ck_assert_msg(mirror_tgt_new_receiver(&tc, &h.rx, &h.tgt, why, sizeof(why)) == 0, "%s", why);
	mirror_emu_config_init(&ec);
	ec.listen = "127.0.0.1:0";
	ec.tgt = h.tgt;
	ck_assert_msg(mirror_emu_server_new(&ec, &h.srv, why, sizeof(why)) == 0, "%s", why);
	snprintf(h.url, sizeof(h.url), "iscsi://127.0.0.1:%u/%s:emu/0", mirror_emu_server_port(h.srv),
		 MIRROR_IQN_PREFIX);
	ck_assert_int_eq(pthread_create(&h.th, NULL, serve, NULL), 0);
}

static void teardown(void)
{
	mirror_emu_server_stop(h.srv);
	ck_assert_int_eq(pthread_join(h.th, NULL), 0);
	ck_assert_int_eq(h.rc, 0);
	mirror_emu_server_free(h.srv);
	mirror_tgt_free(h.tgt);
	free(h.bitmap);
	free(h.data);
}

static struct mirror_transport *open_it(void)
{
	struct mirror_transport_opts o = { .queue_depth = QD };
	char err[256] = "";
	struct mirror_transport *t = mirror_transport_open(h.url, &o, err, sizeof(err));

	ck_assert_msg(t != NULL, "open %s: %s", h.url, err);
	return t;
}

/* What the callbacks saw. */
struct seen {
	struct mirror_transport *t;
	bool abort;        /* the first completion aborts, else closes */
	unsigned done, good, failed;
	char error[256];   /* the transport's message, read in a callback after the close */
};

static struct seen seen;

static void close_on_first(struct mirror_cmd *c)
{
	seen.done++;
	if (c->result == 0 && c->status == 0)
		seen.good++;
	else
		seen.failed++;
	if (seen.done == 1) {
		if (seen.abort)
			mirror_transport_abort(seen.t);
		else
			mirror_transport_close(seen.t);
		/* still readable: freed only when the poll below returns */
		snprintf(seen.error, sizeof(seen.error), "%s", mirror_transport_error(seen.t));
	}
}

static void tur(struct mirror_cmd *c)
{
	memset(c, 0, sizeof(*c));
	c->cdb_len = 6; /* TEST UNIT READY: all zero */
	c->dir = MIRROR_DIR_NONE;
}

static void close_in_callback(bool abort)
{
	struct mirror_cmd cmd[QD];
	int rc;

	memset(&seen, 0, sizeof(seen));
	seen.t = open_it();
	seen.abort = abort;
	for (unsigned i = 0; i < QD; i++) {
		tur(&cmd[i]);
		ck_assert_int_eq(mirror_transport_submit(seen.t, &cmd[i], close_on_first), 0);
	}
	/* drain holds t across its polls: the close inside the first
	 * completion completes the rest and ends the loop */
	rc = mirror_transport_drain(seen.t);
	ck_assert_int_eq(rc, -ECANCELED);
	ck_assert_uint_eq(seen.done, QD);
	ck_assert_uint_ge(seen.good, 1);
	ck_assert_uint_eq(seen.good + seen.failed, QD);
	ck_assert_str_eq(seen.error, "transport closed");
	/* every command that did not complete first was cancelled */
	for (unsigned i = 0; i < QD; i++)
		ck_assert(cmd[i].result == 0 || cmd[i].result == -ECANCELED);
}

START_TEST(test_close_in_callback)
{
	close_in_callback(false);
}
END_TEST

START_TEST(test_abort_in_callback)
{
	close_in_callback(true);
}
END_TEST

/* A single poll, as an event loop calls it: the transport closed by its
 * own callback is freed when the poll returns, which says so. */
START_TEST(test_abort_in_poll)
{
	struct mirror_cmd cmd[QD];
	int rc = 0;

	memset(&seen, 0, sizeof(seen));
	seen.t = open_it();
	seen.abort = true;
	for (unsigned i = 0; i < QD; i++) {
		tur(&cmd[i]);
		ck_assert_int_eq(mirror_transport_submit(seen.t, &cmd[i], close_on_first), 0);
	}
	for (unsigned n = 0; n < 1000 && seen.done == 0; n++)
		rc = mirror_transport_poll(seen.t, 100);
	ck_assert_int_eq(rc, -ECANCELED);
	ck_assert_uint_eq(seen.done, QD);
}
END_TEST

/* Commands on a transport closed by a callback are refused, not queued. */
static struct mirror_cmd late;
static int late_rc;

static void close_then_submit(struct mirror_cmd *c)
{
	(void)c;
	seen.done++;
	if (seen.done == 1) {
		mirror_transport_close(seen.t);
		tur(&late);
		late_rc = mirror_transport_submit(seen.t, &late, close_then_submit);
	}
}

START_TEST(test_submit_after_close)
{
	struct mirror_cmd cmd;

	memset(&seen, 0, sizeof(seen));
	seen.t = open_it();
	tur(&cmd);
	ck_assert_int_eq(mirror_transport_submit(seen.t, &cmd, close_then_submit), 0);
	ck_assert_int_eq(mirror_transport_drain(seen.t), -ECANCELED);
	ck_assert_int_eq(late_rc, -ECANCELED);
	ck_assert_uint_eq(seen.done, 1);
}
END_TEST

/* mirror_transport_service, as an event loop with its own epoll calls it:
 * the readiness goes in, no poll(2) of the transport's own; what a round
 * makes the session owe (the Data-Out the target's R2T asks for under the
 * patent negotiation) goes out in that round, so the loop never has to
 * wait for POLLOUT on loopback; called from the transport's own callback
 * it does nothing. */
static struct {
	struct mirror_transport *t;
	unsigned done;
	int nested_rc;
} svc;

static void service_in_callback(struct mirror_cmd *c)
{
	(void)c;
	svc.done++;
	svc.nested_rc = mirror_transport_service(svc.t, POLLIN | POLLOUT);
}

START_TEST(test_service_ready)
{
	struct mirror_write w = { .lba = 64, .bytes = 8192, .nvram_addr = 0x10000, .region = 0,
				  .volume = 1 };
	struct mirror_sender_state ss = { false, true };
	static uint8_t buf[MIRROR_OP_DATA_OUT_MAX];
	struct mirror_splitter sp;
	struct mirror_op op;
	struct mirror_cmd cmd;
	char why[128] = "";
	unsigned rounds = 0, waits = 0;

	ck_assert_int_eq(mirror_transport_service(NULL, POLLIN), -EINVAL);
	memset(&svc, 0, sizeof(svc));
	svc.nested_rc = -1;
	svc.t = open_it();
	ck_assert_msg(mirror_split_init(&sp, &h.p, &w, &ss, MIRROR_POLICY_SMALL, 1, why, sizeof(why)) == 0,
		      "%s", why);
	ck_assert_int_eq(mirror_split_next(&sp, &op), 1);
	/* the volume in the receiver's array table first (wire-profile.md,
	 * small CDB byte 3) */
	struct mirror_array_table tab;
	mirror_array_table_init(&tab);
	ck_assert_int_eq(mirror_array_table_add(&tab, 1, 0x1122334455667788ull, 1), 0);
	ck_assert_int_eq(mirror_cmd_table_push(&cmd, &h.p, &tab, buf, sizeof(buf)), 0);
	ck_assert_int_eq(mirror_transport_run(svc.t, &cmd), 0);
	ck_assert_int_eq(cmd.status, 0);
	memset(buf, 0x5A, sizeof(buf));
	ck_assert_int_eq(mirror_cmd_op(&cmd, &h.p, &op, &w, buf, sizeof(buf)), 0);
	ck_assert_int_eq(mirror_transport_submit(svc.t, &cmd, service_in_callback), 0);
	/* written at once: nothing left for a POLLOUT */
	ck_assert_int_ge(mirror_transport_service(svc.t, POLLOUT), 0);
	while (svc.done == 0 && waits++ < 100) {
		short ev = mirror_transport_events(svc.t);
		ck_assert_msg(!(ev & POLLOUT), "round %u left output for a later POLLOUT", rounds);
		struct pollfd pfd = { mirror_transport_fd(svc.t), ev, 0 };
		ck_assert_int_ge(pfd.fd, 0);
		int n = poll(&pfd, 1, 100);
		ck_assert_int_ge(n, 0);
		if (n == 0)
			continue; /* a slow target thread: no round */
		rounds++;
		ck_assert_int_ge(mirror_transport_service(svc.t, pfd.revents), 0);
	}
	ck_assert_uint_eq(svc.done, 1);
	ck_assert_int_eq(svc.nested_rc, 0);
	ck_assert_msg(cmd.result == 0 && cmd.status == 0, "result %d status 0x%02x sense %x/%02x/%02x field %u cd %d",
		      cmd.result, cmd.status, cmd.sense_parsed.key, cmd.sense_parsed.asc,
		      cmd.sense_parsed.ascq, cmd.sense_parsed.field, cmd.sense_parsed.cd);
	/* the data in the receiver's NVRAM */
	for (unsigned i = 0; i < w.bytes; i++)
		ck_assert_uint_eq(h.data[w.nvram_addr + i], 0x5A);
	/* command, R2T, Data-Out, status: the R2T and the status each take a
	 * round (or share one) */
	ck_assert_uint_le(rounds, 3);
	mirror_transport_close(svc.t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("transport_iscsi");
	TCase *tc = tcase_create("close");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_close_in_callback);
	tcase_add_test(tc, test_abort_in_callback);
	tcase_add_test(tc, test_abort_in_poll);
	tcase_add_test(tc, test_submit_after_close);
	tcase_add_test(tc, test_service_ready);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
