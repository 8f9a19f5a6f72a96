/* The pair's shared state on the disk array (app/pair/state.h): the
 * layout and both heartbeats round-trip exactly; a torn or damaged sector
 * reads as -EAGAIN (try again), never as a wrong value; one controller's
 * heartbeat never touches the other's or the layout; a second create is
 * refused; a damaged layout makes open fail with a message. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/pair/state.h"

#include "testutil.h"

static char dir[64], path[96];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/check_state.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state", dir);
}

static void teardown(void)
{
	unlink(path);
	rmdir(dir);
}

static void layout_example(struct pair_layout *l)
{
	memset(l, 0, sizeof(*l));
	l->luns = 3;
	l->lun_blocks = 131072;
	for (unsigned i = 0; i < l->luns; i++) {
		l->lun_start[i] = 2048 + i * l->lun_blocks;
		l->home[i] = (uint8_t)(i & 1);
		l->owner[i] = (uint8_t)(i & 1);
	}
	memcpy(l->array_serial, "\x01\x23\x45\x67\x89\xab\xcd\xef", 8);
	l->epoch = 7;
}

static void poke(off_t off, uint8_t xor)
{
	int fd = open(path, O_RDWR);
	uint8_t b;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, &b, 1, off), 1);
	b ^= xor;
	ck_assert_int_eq(pwrite(fd, &b, 1, off), 1);
	close(fd);
}

START_TEST(test_layout_round_trip)
{
	struct pair_layout l, got;
	struct pair_state *s;
	char why[256];

	layout_example(&l);
	ck_assert_int_eq(pair_state_create(path, &l, why, sizeof(why)), 0);
	ck_assert_int_eq(pair_state_open(path, &s, why, sizeof(why)), 0);
	memset(&got, 0xA5, sizeof(got));
	ck_assert_int_eq(pair_state_read_layout(s, &got), 0);
	ck_assert_uint_eq(got.luns, 3);
	ck_assert_uint_eq(got.lun_blocks, 131072);
	ck_assert_uint_eq(got.epoch, 7);
	ck_assert_mem_eq(got.array_serial, l.array_serial, 8);
	for (unsigned i = 0; i < 3; i++) {
		ck_assert_uint_eq(got.lun_start[i], l.lun_start[i]);
		ck_assert_uint_eq(got.home[i], l.home[i]);
		ck_assert_uint_eq(got.owner[i], l.owner[i]);
	}
	/* a takeover: B owns LUN 0, epoch + 1 */
	got.owner[0] = 1;
	got.epoch = 8;
	ck_assert_int_eq(pair_state_write_layout(s, &got), 0);
	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(pair_state_read_layout(s, &l), 0);
	ck_assert_uint_eq(l.owner[0], 1);
	ck_assert_uint_eq(l.home[0], 0);
	ck_assert_uint_eq(l.epoch, 8);
	pair_state_close(s);
}
END_TEST

START_TEST(test_create_twice_refused)
{
	struct pair_layout l;
	char why[256] = "";

	layout_example(&l);
	ck_assert_int_eq(pair_state_create(path, &l, why, sizeof(why)), 0);
	ck_assert_int_eq(pair_state_create(path, &l, why, sizeof(why)), -EEXIST);
	ck_assert_ptr_nonnull(strstr(why, path));
}
END_TEST

START_TEST(test_heartbeats_apart)
{
	struct pair_layout l, lgot;
	struct pair_state *s;
	struct pair_heartbeat a = { .pid = 1234, .incarnation = 0x1122334455667788ull, .counter = 42,
				    .mono_ms = 987654321, .status = PAIR_CTL_SERVING, .mirror_epoch = 3,
				    .host_port = 40001, .mirror_port = 40002 };
	struct pair_heartbeat b = { .pid = 5678, .incarnation = 9, .counter = 1, .mono_ms = 5,
				    .status = PAIR_CTL_TAKEOVER, .mirror_epoch = 0, .host_port = 1,
				    .mirror_port = 2 };
	struct pair_heartbeat got;
	char why[256];

	layout_example(&l);
	ck_assert_int_eq(pair_state_create(path, &l, why, sizeof(why)), 0);
	ck_assert_int_eq(pair_state_open(path, &s, why, sizeof(why)), 0);
	/* never written: not a heartbeat of pid 0, but "try again" */
	ck_assert_int_eq(pair_state_read_heartbeat(s, 1, &got), -EAGAIN);
	ck_assert_int_eq(pair_state_write_heartbeat(s, 0, &a), 0);
	ck_assert_int_eq(pair_state_write_heartbeat(s, 1, &b), 0);
	memset(&got, 0, sizeof(got));
	ck_assert_int_eq(pair_state_read_heartbeat(s, 0, &got), 0);
	ck_assert_uint_eq(got.pid, 1234);
	ck_assert_uint_eq(got.incarnation, 0x1122334455667788ull);
	ck_assert_uint_eq(got.counter, 42);
	ck_assert_uint_eq(got.mono_ms, 987654321);
	ck_assert_int_eq(got.status, PAIR_CTL_SERVING);
	ck_assert_uint_eq(got.mirror_epoch, 3);
	ck_assert_uint_eq(got.host_port, 40001);
	ck_assert_uint_eq(got.mirror_port, 40002);
	ck_assert_int_eq(pair_state_read_heartbeat(s, 1, &got), 0);
	ck_assert_uint_eq(got.pid, 5678);
	ck_assert_int_eq(got.status, PAIR_CTL_TAKEOVER);
	ck_assert_int_eq(pair_state_read_layout(s, &lgot), 0);
	ck_assert_uint_eq(lgot.epoch, 7);
	ck_assert_int_eq(pair_state_read_heartbeat(s, 2, &got), -EINVAL);
	pair_state_close(s);
}
END_TEST

/* A byte changed anywhere in a heartbeat sector (a torn write): -EAGAIN,
 * and the other controller's sector still reads. */
START_TEST(test_torn_heartbeat)
{
	struct pair_layout l;
	struct pair_state *s;
	struct pair_heartbeat a = { .pid = 11, .incarnation = 12, .counter = 13, .status = PAIR_CTL_SERVING };
	struct pair_heartbeat got;
	char why[256];
	const off_t at[] = { 0, 4, 9, 17, 30, 40, 511 };

	layout_example(&l);
	ck_assert_int_eq(pair_state_create(path, &l, why, sizeof(why)), 0);
	ck_assert_int_eq(pair_state_open(path, &s, why, sizeof(why)), 0);
	ck_assert_int_eq(pair_state_write_heartbeat(s, 0, &a), 0);
	ck_assert_int_eq(pair_state_write_heartbeat(s, 1, &a), 0);
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		poke(PAIR_STATE_SECTOR + at[i], 0x40);
		ck_assert_msg(pair_state_read_heartbeat(s, 0, &got) == -EAGAIN,
			      "byte %lld of A's heartbeat changed but it still reads", (long long)at[i]);
		ck_assert_int_eq(pair_state_read_heartbeat(s, 1, &got), 0);
		ck_assert_uint_eq(got.pid, 11);
		poke(PAIR_STATE_SECTOR + at[i], 0x40);
		ck_assert_int_eq(pair_state_read_heartbeat(s, 0, &got), 0);
	}
	pair_state_close(s);
}
END_TEST

START_TEST(test_damaged_layout_refused)
{
	struct pair_layout l;
	struct pair_state *s = NULL;
	char why[256] = "";

	layout_example(&l);
	ck_assert_int_eq(pair_state_create(path, &l, why, sizeof(why)), 0);
	poke(20, 0x01); /* inside the array serial */
	ck_assert_int_lt(pair_state_open(path, &s, why, sizeof(why)), 0);
	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(strstr(why, path));
}
END_TEST

START_TEST(test_bad_lun_count_refused)
{
	struct pair_layout l;
	char why[256] = "";

	layout_example(&l);
	l.luns = 0;
	ck_assert_int_eq(pair_state_create(path, &l, why, sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "LUNs"));
	l.luns = PAIR_LUNS_MAX + 1;
	ck_assert_int_eq(pair_state_create(path, &l, why, sizeof(why)), -EINVAL);
	ck_assert_int_eq(access(path, F_OK), -1);
}
END_TEST

static Suite *state_suite(void)
{
	Suite *s = suite_create("pair state");
	TCase *tc = tcase_create("sectors");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_layout_round_trip);
	tcase_add_test(tc, test_create_twice_refused);
	tcase_add_test(tc, test_heartbeats_apart);
	tcase_add_test(tc, test_torn_heartbeat);
	tcase_add_test(tc, test_damaged_layout_refused);
	tcase_add_test(tc, test_bad_lun_count_refused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run_suite(state_suite());
}
