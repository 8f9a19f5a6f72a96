/* The controller pair's shared disk array (app/pair/raid5.h): geometry,
 * the left-symmetric layout read back from the member files, random I/O
 * against a shadow copy, every member failed in turn (missing, damaged,
 * truncated, failed by request, failing while open), two failures,
 * scrub, rebuild, refusals, and two processes writing their own stripes
 * at once. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app/pair/raid5.h"
#include "base/bytes.h"
#include "iscsi/pdu.h" /* mirror_pdu_crc32c, the superblock's checksum */

#include "testutil.h"

#define SB 4096u
#define K4 4096u

static char dir[64];
static char dir2[80];

static void rm_array(const char *d)
{
	char p[128];

	for (unsigned m = 0; m < 16; m++) {
		snprintf(p, sizeof(p), "%s/disk%u", d, m);
		unlink(p);
	}
	rmdir(d);
}

/* Open descriptors of this process: every path, failing ones too, must
 * close what it opened. */
static unsigned fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned n = 0;

	ck_assert_ptr_nonnull(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static unsigned fds_at_start;

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/r5.XXXXXX", tmp && strlen(tmp) < 40 ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(dir2, sizeof(dir2), "%s/other", dir);
	fds_at_start = fd_count();
}

static void teardown(void)
{
	ck_assert_uint_eq(fd_count(), fds_at_start);
	rm_array(dir2);
	rm_array(dir);
}

/* A path in one of four rotating buffers: rename(a, b) takes two. */
static const char *member_path(const char *d, unsigned m)
{
	static char p[4][128];
	static unsigned next;
	char *q = p[next++ % 4];

	snprintf(q, sizeof(p[0]), "%s/disk%u", d, m);
	return q;
}

static void create_in(const char *d, unsigned n, uint32_t chunk, uint64_t member_bytes)
{
	struct mirror_raid5_geometry g = {n, chunk, member_bytes, 0};
	char why[256] = "";

	ck_assert_msg(mirror_raid5_create(d, &g, why, sizeof(why)) == 0, "create: %s", why);
}

static struct mirror_raid5 *open_in(const char *d)
{
	struct mirror_raid5 *r = NULL;
	char why[512] = "";

	ck_assert_msg(mirror_raid5_open(d, &r, why, sizeof(why)) == 0, "open: %s", why);
	ck_assert_ptr_nonnull(r);
	return r;
}

static void raw_read(const char *d, unsigned m, uint64_t off, void *buf, size_t len)
{
	int fd = open(member_path(d, m), O_RDONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static void raw_write(const char *d, unsigned m, uint64_t off, const void *buf, size_t len)
{
	int fd = open(member_path(d, m), O_WRONLY | O_CREAT, 0666);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static void fill_random(struct test_rng *g, uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)test_rng_next(g);
}

static void do_write(struct mirror_raid5 *r, uint64_t lba, uint32_t blocks, const uint8_t *buf)
{
	char why[512] = "";

	ck_assert_msg(mirror_raid5_write(r, lba, blocks, buf, why, sizeof(why)) == 0,
		      "write LBA %" PRIu64 "+%" PRIu32 ": %s", lba, blocks, why);
}

/* Every block of the array against the shadow, in reads of varying size. */
static void verify_all(struct mirror_raid5 *r, const uint8_t *shadow, struct test_rng *g)
{
	uint64_t cap = mirror_raid5_blocks(r), lba = 0;
	uint8_t *buf = malloc(cap * 512);
	char why[512] = "";

	ck_assert_ptr_nonnull(buf);
	while (lba < cap) {
		uint32_t n = (uint32_t)test_rng_range(g, 1, cap - lba < 300 ? cap - lba : 300);

		memset(buf, 0xA5, n * 512);
		ck_assert_msg(mirror_raid5_read(r, lba, n, buf, why, sizeof(why)) == 0,
			      "read LBA %" PRIu64 "+%" PRIu32 ": %s", lba, n, why);
		for (uint32_t b = 0; b < n; b++)
			ck_assert_msg(!memcmp(buf + b * 512, shadow + (lba + b) * 512, 512),
				      "LBA %" PRIu64 " reads back wrong", lba + b);
		lba += n;
	}
	free(buf);
}

/* Random writes (a third of them 4 KiB aligned, the common case) of
 * random data, mirrored into the shadow. */
static void random_writes(struct mirror_raid5 *r, uint8_t *shadow, struct test_rng *g,
			  unsigned count)
{
	uint64_t cap = mirror_raid5_blocks(r);
	uint32_t sbk = mirror_raid5_stripe_blocks(r);
	uint8_t *buf = malloc((size_t)3 * sbk * 512);

	ck_assert_ptr_nonnull(buf);
	for (unsigned i = 0; i < count; i++) {
		uint64_t lba;
		uint32_t n;

		if (test_rng_range(g, 0, 2) == 0) {
			lba = test_rng_range(g, 0, cap / 8 - 1) * 8;
			n = 8;
		} else {
			lba = test_rng_range(g, 0, cap - 1);
			n = (uint32_t)test_rng_range(g, 1, cap - lba < 3 * sbk ? cap - lba : 3 * sbk);
		}
		fill_random(g, buf, n * 512);
		do_write(r, lba, n, buf);
		memcpy(shadow + lba * 512, buf, n * 512);
	}
	free(buf);
}

static uint8_t *new_shadow(struct mirror_raid5 *r)
{
	uint8_t *s = calloc(mirror_raid5_blocks(r), 512); /* a new array reads zeros */

	ck_assert_ptr_nonnull(s);
	return s;
}

/* ---- geometry ---- */

START_TEST(test_geometry)
{
	static const unsigned ns[] = {3, 5, 16};
	static const uint32_t chunks[] = {4096, 65536, 1048576};
	uint8_t blk[512], back[512], serial[8], raw[8];

	for (unsigned i = 0; i < 3; i++)
		for (unsigned j = 0; j < 3; j++) {
			struct mirror_raid5_geometry got, g = {ns[i], chunks[j], 3ull * chunks[j], 1};
			struct mirror_raid5 *r;
			struct stat st;
			uint64_t cap = 3ull * (ns[i] - 1) * chunks[j] / 512;

			ck_assert_int_eq(mirror_raid5_create(dir, &g, NULL, 0), 0);
			r = open_in(dir);
			ck_assert_uint_eq(mirror_raid5_blocks(r), cap);
			ck_assert_uint_eq(mirror_raid5_stripe_blocks(r), (ns[i] - 1) * chunks[j] / 512);
			mirror_raid5_geometry(r, &got);
			ck_assert_uint_eq(got.members, ns[i]);
			ck_assert_uint_eq(got.chunk_bytes, chunks[j]);
			ck_assert_uint_eq(got.member_bytes, 3ull * chunks[j]);
			ck_assert_int_eq(mirror_raid5_state(r, NULL), MIRROR_RAID5_OPTIMAL);
			for (unsigned m = 0; m < 16; m++) {
				int there = stat(member_path(dir, m), &st) == 0;

				ck_assert_int_eq(there, m < ns[i]);
				if (there)
					ck_assert_uint_eq(st.st_size, SB + 3ull * chunks[j]);
			}
			/* the serial is the superblock's bytes 40..47 */
			mirror_raid5_serial(r, serial);
			raw_read(dir, ns[i] - 1, 40, raw, 8);
			ck_assert_mem_eq(serial, raw, 8);
			ck_assert(memcmp(serial, "\0\0\0\0\0\0\0\0", 8) != 0);
			/* the first and the last block are addressable */
			memset(blk, (int)(i * 3 + j + 1), sizeof(blk));
			do_write(r, 0, 1, blk);
			do_write(r, cap - 1, 1, blk);
			ck_assert_int_eq(mirror_raid5_read(r, cap - 1, 1, back, NULL, 0), 0);
			ck_assert_mem_eq(back, blk, 512);
			mirror_raid5_close(r);
		}
}
END_TEST

START_TEST(test_geometry_defaults)
{
	struct mirror_raid5_geometry got, g = {0, 0, 2ull * 65536, 0};
	struct mirror_raid5 *r;
	uint8_t s1[8], s2[8];

	ck_assert_int_eq(mirror_raid5_create(dir, &g, NULL, 0), 0);
	r = open_in(dir);
	mirror_raid5_geometry(r, &got);
	ck_assert_uint_eq(got.members, 5);
	ck_assert_uint_eq(got.chunk_bytes, 65536);
	ck_assert_uint_eq(mirror_raid5_stripe_blocks(r), 4 * 65536 / 512);
	mirror_raid5_serial(r, s1);
	mirror_raid5_close(r);
	/* a second array gets its own serial */
	create_in(dir2, 3, 4096, 4096);
	r = open_in(dir2);
	mirror_raid5_serial(r, s2);
	ck_assert(memcmp(s1, s2, 8) != 0);
	mirror_raid5_close(r);
}
END_TEST

/* ---- layout ---- */

/* raid5.h's table for N = 5, written out: the chunk index each member
 * holds in stripes 0..4, P for the parity. */
#define P (-1)
static const int layout5[5][5] = {
	{0, 1, 2, 3, P},
	{5, 6, 7, P, 4},
	{10, 11, P, 8, 9},
	{15, P, 12, 13, 14},
	{P, 16, 17, 18, 19},
};
#undef P

/* Reads every member file and checks it against the table (the layout
 * repeats every 5 stripes) and the shadow; parity = XOR of the data. */
static void check_layout5(const uint8_t *shadow, uint32_t chunk, unsigned stripes)
{
	uint8_t *got = malloc(chunk), *par = malloc(chunk);

	ck_assert_ptr_nonnull(got);
	ck_assert_ptr_nonnull(par);
	for (unsigned s = 0; s < stripes; s++) {
		const int *row = layout5[s % 5];

		memset(par, 0, chunk);
		for (unsigned d = 0; d < 4; d++)
			for (uint32_t i = 0; i < chunk; i++)
				par[i] ^= shadow[((size_t)s * 4 + d) * chunk + i];
		for (unsigned m = 0; m < 5; m++) {
			raw_read(dir, m, SB + (uint64_t)s * chunk, got, chunk);
			if (row[m] < 0) {
				ck_assert_msg(!memcmp(got, par, chunk),
					      "stripe %u: disk%u is not the parity", s, m);
			} else {
				int c = row[m] + (int)(s / 5) * 20;

				ck_assert_msg(!memcmp(got, shadow + (size_t)c * chunk, chunk),
					      "stripe %u: disk%u does not hold chunk %d", s, m, c);
			}
		}
	}
	free(got);
	free(par);
}

START_TEST(test_layout)
{
	const uint32_t chunk = 4096;
	const unsigned stripes = 10;
	struct test_rng g;
	struct mirror_raid5 *r;
	uint8_t *shadow;

	test_rng_init(&g, test_seed());
	create_in(dir, 5, chunk, (uint64_t)stripes * chunk);
	r = open_in(dir);
	shadow = new_shadow(r);
	/* full stripes: parity from the new data alone */
	fill_random(&g, shadow, mirror_raid5_blocks(r) * 512);
	do_write(r, 0, (uint32_t)mirror_raid5_blocks(r), shadow);
	check_layout5(shadow, chunk, stripes);
	/* partial stripes: read-modify-write keeps the same layout */
	random_writes(r, shadow, &g, 200);
	check_layout5(shadow, chunk, stripes);
	verify_all(r, shadow, &g);
	mirror_raid5_close(r);
	free(shadow);
}
END_TEST

/* ---- random I/O ---- */

START_TEST(test_random_io)
{
	static const struct {
		unsigned n;
		uint32_t chunk;
	} geo[] = {{3, 4096}, {5, 8192}, {16, 4096}, {4, 65536}};
	struct test_rng g;
	uint64_t bad = 99;
	char why[256] = "";

	test_rng_init(&g, test_seed());
	for (unsigned i = 0; i < sizeof(geo) / sizeof(geo[0]); i++) {
		struct mirror_raid5_geometry cg = {geo[i].n, geo[i].chunk, 8ull * geo[i].chunk, 1};
		struct mirror_raid5 *r;
		uint8_t *shadow;

		ck_assert_int_eq(mirror_raid5_create(dir, &cg, NULL, 0), 0);
		r = open_in(dir);
		shadow = new_shadow(r);
		for (unsigned round = 0; round < 4; round++) {
			random_writes(r, shadow, &g, 100);
			verify_all(r, shadow, &g);
		}
		ck_assert_msg(mirror_raid5_scrub(r, &bad, why, sizeof(why)) == 0, "%s", why);
		ck_assert_uint_eq(bad, 99); /* untouched when clean */
		ck_assert_int_eq(mirror_raid5_flush(r, why, sizeof(why)), 0);
		mirror_raid5_close(r);
		r = open_in(dir);
		verify_all(r, shadow, &g);
		mirror_raid5_close(r);
		free(shadow);
	}
}
END_TEST

/* A 4 KiB write costs 4 I/Os of 4 KiB (old data, old parity, new data,
 * new parity); a full stripe N writes and no read. */
START_TEST(test_small_write_cost)
{
	struct mirror_raid5_counters a, b;
	struct mirror_raid5 *r;
	uint8_t *buf;

	create_in(dir, 5, 65536, 4ull * 65536);
	r = open_in(dir);
	buf = calloc(4, 65536);
	ck_assert_ptr_nonnull(buf);
	mirror_raid5_counters(r, &a);
	do_write(r, 8 + 128, 8, buf);
	mirror_raid5_counters(r, &b);
	ck_assert_uint_eq(b.reads - a.reads, 2);
	ck_assert_uint_eq(b.writes - a.writes, 2);
	ck_assert_uint_eq(b.read_bytes - a.read_bytes, 2 * 4096);
	ck_assert_uint_eq(b.write_bytes - a.write_bytes, 2 * 4096);
	a = b;
	do_write(r, mirror_raid5_stripe_blocks(r), mirror_raid5_stripe_blocks(r), buf);
	mirror_raid5_counters(r, &b);
	ck_assert_uint_eq(b.reads - a.reads, 0);
	ck_assert_uint_eq(b.writes - a.writes, 5);
	a = b;
	ck_assert_int_eq(mirror_raid5_read(r, 8, 8, buf, NULL, 0), 0);
	mirror_raid5_counters(r, &b);
	ck_assert_uint_eq(b.reads - a.reads, 1);
	ck_assert_uint_eq(b.read_bytes - a.read_bytes, 4096);
	mirror_raid5_close(r);
	free(buf);
}
END_TEST

/* ---- one member failed, each in turn ---- */

enum damage {
	D_DELETE,
	D_CORRUPT,
	D_VERSION,
	D_TRUNCATE,
	D_FOREIGN,
	D_REQUEST,
	D_FAILS_OPEN,
	D_COUNT
};
static const char *const damage_why[D_COUNT] = {
	[D_DELETE] = "missing",
	[D_CORRUPT] = "superblock checksum wrong",
	[D_VERSION] = "superblock format version 2 at byte 8",
	[D_TRUNCATE] = "truncated",
	[D_FOREIGN] = "belongs to array",
	[D_REQUEST] = "failed by request",
	[D_FAILS_OPEN] = "end of file",
};

static void check_degraded(struct mirror_raid5 *r, unsigned k, const char *want)
{
	int f = -2;
	const char *w;

	ck_assert_int_eq(mirror_raid5_state(r, &f), MIRROR_RAID5_DEGRADED);
	ck_assert_int_eq(f, (int)k);
	w = mirror_raid5_member_why(r, k);
	ck_assert_ptr_nonnull(w);
	ck_assert_msg(strstr(w, want) != NULL, "disk%u: '%s' lacks '%s'", k, w, want);
	for (unsigned m = 0; m < 5; m++)
		if (m != k)
			ck_assert_ptr_null(mirror_raid5_member_why(r, m));
}

START_TEST(test_degraded)
{
	const enum damage dmg = (enum damage)(_i / 5);
	const unsigned k = (unsigned)_i % 5;
	struct test_rng g;
	struct mirror_raid5 *r;
	uint8_t *shadow, blk[SB];
	uint64_t bad;
	char why[512] = "";
	int fd;

	test_rng_init(&g, test_seed() + (uint64_t)_i);
	create_in(dir, 5, 4096, 12ull * 4096);
	r = open_in(dir);
	shadow = new_shadow(r);
	random_writes(r, shadow, &g, 60);
	switch (dmg) {
	case D_DELETE:
		ck_assert_int_eq(unlink(member_path(dir, k)), 0);
		break;
	case D_CORRUPT:
		raw_read(dir, k, 0, blk, SB);
		blk[16 + 3] ^= 0x01; /* the member index */
		raw_write(dir, k, 0, blk, SB);
		break;
	case D_VERSION:
		/* a sound checksum over a format this program does not read */
		raw_read(dir, k, 0, blk, SB);
		put_be32(blk + 8, 2);
		put_be32(blk + 60, 0);
		put_be32(blk + 60, mirror_pdu_crc32c(blk, SB));
		raw_write(dir, k, 0, blk, SB);
		break;
	case D_TRUNCATE:
		ck_assert_int_eq(truncate(member_path(dir, k), SB + 5 * 4096), 0);
		break;
	case D_FOREIGN:
		create_in(dir2, 5, 4096, 12ull * 4096);
		ck_assert_int_eq(rename(member_path(dir2, k), member_path(dir, k)), 0);
		break;
	case D_REQUEST:
		ck_assert_int_eq(mirror_raid5_fail_member(r, k), 0);
		check_degraded(r, k, damage_why[dmg]);
		/* the file is intact but goes stale from here on */
		random_writes(r, shadow, &g, 30);
		break;
	case D_FAILS_OPEN: {
		/* Reads of it fail under an open handle.  The first I/O is a
		 * 4 KiB write to stripe 0 whose first read is of disk k: the
		 * old data of chunk k (k < 4) or the parity (disk4).  It goes
		 * on degraded (reconstruct-write, or data only). */
		uint8_t w[4096];

		ck_assert_int_eq(truncate(member_path(dir, k), SB), 0);
		fill_random(&g, w, sizeof(w));
		do_write(r, k < 4 ? k * 8 : 0, 8, w);
		memcpy(shadow + (k < 4 ? k * 8 : 0) * 512, w, sizeof(w));
		check_degraded(r, k, damage_why[dmg]);
		verify_all(r, shadow, &g);
		random_writes(r, shadow, &g, 30);
		break;
	}
	default:
		ck_abort();
	}
	mirror_raid5_close(r);
	r = open_in(dir);
	/* a member failed while open is in the record by now */
	check_degraded(r, k, dmg == D_REQUEST ? "marked failed"
			     : dmg == D_FAILS_OPEN ? "truncated"
						   : damage_why[dmg]);
	verify_all(r, shadow, &g);
	ck_assert_int_eq(mirror_raid5_scrub(r, &bad, why, sizeof(why)), -EIO);
	ck_assert_ptr_nonnull(strstr(why, "degraded"));
	/* writes while degraded read back, also after a reopen */
	random_writes(r, shadow, &g, 60);
	verify_all(r, shadow, &g);
	mirror_raid5_close(r);
	r = open_in(dir);
	ck_assert_int_eq(mirror_raid5_state(r, NULL), MIRROR_RAID5_DEGRADED);
	verify_all(r, shadow, &g);
	/* a fresh, empty file replaces the member; rebuild makes it whole */
	unlink(member_path(dir, k));
	fd = open(member_path(dir, k), O_CREAT | O_WRONLY, 0666);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_msg(mirror_raid5_rebuild(r, k, why, sizeof(why)) == 0, "rebuild: %s", why);
	ck_assert_int_eq(mirror_raid5_state(r, NULL), MIRROR_RAID5_OPTIMAL);
	ck_assert_msg(mirror_raid5_scrub(r, &bad, why, sizeof(why)) == 0, "%s", why);
	verify_all(r, shadow, &g);
	mirror_raid5_close(r);
	r = open_in(dir);
	ck_assert_int_eq(mirror_raid5_state(r, NULL), MIRROR_RAID5_OPTIMAL);
	verify_all(r, shadow, &g);
	mirror_raid5_close(r);
	free(shadow);
}
END_TEST

/* Rebuild writes back exactly the bytes the member had. */
START_TEST(test_rebuild_exact)
{
	const uint64_t mb = 10ull * 4096;
	struct test_rng g;
	struct mirror_raid5 *r;
	uint8_t *shadow, *before = malloc(mb), *after = malloc(mb);
	char why[512] = "";

	test_rng_init(&g, test_seed());
	create_in(dir, 5, 4096, mb);
	r = open_in(dir);
	shadow = new_shadow(r);
	random_writes(r, shadow, &g, 80);
	mirror_raid5_close(r);
	raw_read(dir, 2, SB, before, mb);
	ck_assert_int_eq(unlink(member_path(dir, 2)), 0);
	r = open_in(dir);
	/* only the failed member can be rebuilt, and only a member there is */
	ck_assert_int_eq(mirror_raid5_rebuild(r, 3, why, sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "disk2"));
	ck_assert_int_eq(mirror_raid5_rebuild(r, 5, why, sizeof(why)), -EINVAL);
	ck_assert_int_eq(mirror_raid5_rebuild(r, 2, why, sizeof(why)), 0);
	raw_read(dir, 2, SB, after, mb);
	ck_assert(!memcmp(before, after, mb));
	mirror_raid5_close(r);
	free(before);
	free(after);
	free(shadow);
}
END_TEST

/* ---- two members failed ---- */

START_TEST(test_two_failed_open)
{
	uint8_t blk[SB];
	struct mirror_raid5 *r = (struct mirror_raid5 *)(uintptr_t)1;
	char why[512] = "";

	create_in(dir, 5, 4096, 4ull * 4096);
	ck_assert_int_eq(unlink(member_path(dir, 1)), 0);
	raw_read(dir, 3, 0, blk, SB);
	blk[45] ^= 0x80; /* the serial */
	raw_write(dir, 3, 0, blk, SB);
	ck_assert_int_eq(mirror_raid5_open(dir, &r, why, sizeof(why)), -EIO);
	ck_assert_ptr_null(r);
	ck_assert_msg(strstr(why, "disk1: missing; disk3: superblock checksum wrong") != NULL, "%s",
		      why);
	ck_assert_ptr_nonnull(strstr(why, "failed"));
}
END_TEST

START_TEST(test_two_failed_running)
{
	struct mirror_raid5 *r;
	uint8_t buf[4096] = {0};
	char why[512] = "";
	int f;

	create_in(dir, 5, 4096, 4ull * 4096);
	r = open_in(dir);
	ck_assert_int_eq(mirror_raid5_fail_member(r, 3), 0);
	ck_assert_int_eq(mirror_raid5_fail_member(r, 1), 0);
	ck_assert_int_eq(mirror_raid5_fail_member(r, 5), -EINVAL);
	ck_assert_int_eq(mirror_raid5_state(r, &f), MIRROR_RAID5_FAILED);
	ck_assert_int_eq(f, 1);
	ck_assert_int_eq(mirror_raid5_read(r, 0, 8, buf, why, sizeof(why)), -EIO);
	ck_assert_msg(strstr(why, "disk1: failed by request; disk3: failed by request") != NULL,
		      "%s", why);
	ck_assert_int_eq(mirror_raid5_write(r, 0, 8, buf, why, sizeof(why)), -EIO);
	ck_assert_int_eq(mirror_raid5_rebuild(r, 1, why, sizeof(why)), -EIO);
	mirror_raid5_close(r);
	/* the record keeps the array failed although every file is intact */
	r = NULL;
	ck_assert_int_eq(mirror_raid5_open(dir, &r, why, sizeof(why)), -EIO);
	ck_assert_ptr_nonnull(strstr(why, "disk1: marked failed"));
}
END_TEST

/* Two members that trade places: each says it is the other. */
START_TEST(test_swapped_members)
{
	struct mirror_raid5 *r = NULL;
	char why[512] = "", tmp[160];

	create_in(dir, 4, 4096, 4ull * 4096);
	snprintf(tmp, sizeof(tmp), "%s/tmp", dir);
	ck_assert_int_eq(rename(member_path(dir, 1), tmp), 0);
	ck_assert_int_eq(rename(member_path(dir, 2), member_path(dir, 1)), 0);
	ck_assert_int_eq(rename(tmp, member_path(dir, 2)), 0);
	ck_assert_int_eq(mirror_raid5_open(dir, &r, why, sizeof(why)), -EIO);
	ck_assert_msg(strstr(why, "disk1: superblock says member 2; disk2: superblock says member 1"),
		      "%s", why);
}
END_TEST

/* ---- scrub ---- */

START_TEST(test_scrub_finds_bad_parity)
{
	const uint32_t chunk = 4096;
	struct test_rng g;
	struct mirror_raid5 *r;
	uint8_t *shadow, byte;
	uint64_t bad = 0;
	char why[512] = "";

	test_rng_init(&g, test_seed());
	create_in(dir, 5, chunk, 10ull * chunk);
	r = open_in(dir);
	shadow = new_shadow(r);
	random_writes(r, shadow, &g, 100);
	ck_assert_msg(mirror_raid5_scrub(r, &bad, why, sizeof(why)) == 0, "%s", why);
	/* stripe 6's parity is on disk3 (layout5[1]); then stripe 3's on disk1 */
	raw_read(dir, 3, SB + 6 * chunk + 777, &byte, 1);
	byte ^= 0x10;
	raw_write(dir, 3, SB + 6 * chunk + 777, &byte, 1);
	ck_assert_int_eq(mirror_raid5_scrub(r, &bad, why, sizeof(why)), 1);
	ck_assert_uint_eq(bad, 6);
	ck_assert_msg(strstr(why, "stripe 6") && strstr(why, "disk3") && strstr(why, "byte 777"), "%s",
		      why);
	raw_read(dir, 1, SB + 3 * chunk + 4095, &byte, 1);
	byte ^= 0x01;
	raw_write(dir, 1, SB + 3 * chunk + 4095, &byte, 1);
	ck_assert_int_eq(mirror_raid5_scrub(r, &bad, NULL, 0), 1);
	ck_assert_uint_eq(bad, 3);
	byte ^= 0x01;
	raw_write(dir, 1, SB + 3 * chunk + 4095, &byte, 1);
	ck_assert_int_eq(mirror_raid5_scrub(r, &bad, NULL, 0), 1);
	ck_assert_uint_eq(bad, 6);
	/* rebuilding the member with the bad parity repairs it */
	ck_assert_int_eq(mirror_raid5_rebuild(r, 3, NULL, 0), 0);
	ck_assert_int_eq(mirror_raid5_scrub(r, &bad, NULL, 0), 0);
	verify_all(r, shadow, &g);
	/* a damaged data chunk is found too (stripe 0, chunk 2 on disk2) */
	raw_read(dir, 2, SB + 100, &byte, 1);
	byte ^= 0xff;
	raw_write(dir, 2, SB + 100, &byte, 1);
	ck_assert_int_eq(mirror_raid5_scrub(r, &bad, NULL, 0), 1);
	ck_assert_uint_eq(bad, 0);
	mirror_raid5_close(r);
	free(shadow);
}
END_TEST

/* ---- refusals ---- */

START_TEST(test_create_refuses_existing)
{
	struct mirror_raid5_geometry g = {5, 4096, 4096, 0};
	struct mirror_raid5 *r;
	uint8_t s1[8], s2[8];
	char why[512] = "";

	create_in(dir, 8, 4096, 4096);
	r = open_in(dir);
	mirror_raid5_serial(r, s1);
	mirror_raid5_close(r);
	ck_assert_int_eq(mirror_raid5_create(dir, &g, why, sizeof(why)), -EEXIST);
	ck_assert_ptr_nonnull(strstr(why, "disk0"));
	ck_assert_ptr_nonnull(strstr(why, dir));
	/* even one member left over is an array there */
	for (unsigned m = 0; m < 8; m++)
		if (m != 6)
			ck_assert_int_eq(unlink(member_path(dir, m)), 0);
	ck_assert_int_eq(mirror_raid5_create(dir, &g, why, sizeof(why)), -EEXIST);
	ck_assert_ptr_nonnull(strstr(why, "disk6"));
	g.overwrite = 1;
	ck_assert_msg(mirror_raid5_create(dir, &g, why, sizeof(why)) == 0, "%s", why);
	ck_assert_int_eq(access(member_path(dir, 6), F_OK), -1); /* beyond the new N */
	r = open_in(dir);
	mirror_raid5_serial(r, s2);
	ck_assert(memcmp(s1, s2, 8) != 0);
	mirror_raid5_close(r);
}
END_TEST

START_TEST(test_bad_geometry)
{
	static const struct {
		struct mirror_raid5_geometry g;
		const char *field;
	} cases[] = {
		{{2, 4096, 4096, 0}, "members: 2"},
		{{17, 4096, 4096, 0}, "members: 17"},
		{{5, 12288, 12288, 0}, "chunk_bytes: 12288 is not a power of two"},
		{{5, 2048, 4096, 0}, "chunk_bytes: 2048"},
		{{5, 2u << 20, 2u << 20, 0}, "chunk_bytes: 2097152"},
		{{5, 4096, 6144, 0}, "member_bytes: 6144"},
		{{5, 4096, 0, 0}, "member_bytes: 0"},
		{{0, 0, 100000, 0}, "member_bytes: 100000"},
		{{3, 4096, (1ull << 56) + 4096, 0}, "member_bytes: 72057594037932032"},
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char why[256] = "";

		ck_assert_int_eq(mirror_raid5_create(dir, &cases[i].g, why, sizeof(why)), -EINVAL);
		ck_assert_msg(strstr(why, cases[i].field) != NULL, "case %u: '%s' lacks '%s'", i, why,
			      cases[i].field);
		ck_assert_int_eq(access(member_path(dir, 0), F_OK), -1); /* nothing made */
	}
}
END_TEST

START_TEST(test_out_of_range)
{
	struct mirror_raid5 *r;
	uint8_t *shadow, buf[2 * 512];
	uint64_t cap;
	char why[256] = "", want[64];
	struct test_rng g;

	test_rng_init(&g, 7);
	create_in(dir, 3, 4096, 2ull * 4096);
	r = open_in(dir);
	cap = mirror_raid5_blocks(r);
	shadow = new_shadow(r);
	memset(buf, 0x77, sizeof(buf));
	ck_assert_int_eq(mirror_raid5_read(r, cap, 1, buf, why, sizeof(why)), -ERANGE);
	snprintf(want, sizeof(want), "LBA %" PRIu64, cap);
	ck_assert_msg(strstr(why, want) != NULL, "%s", why);
	ck_assert_int_eq(mirror_raid5_write(r, cap - 1, 2, buf, why, sizeof(why)), -ERANGE);
	snprintf(want, sizeof(want), "LBA %" PRIu64, cap - 1);
	ck_assert_msg(strstr(why, want) != NULL, "%s", why);
	ck_assert_int_eq(mirror_raid5_write(r, UINT64_MAX, 1, buf, why, sizeof(why)), -ERANGE);
	ck_assert_ptr_nonnull(strstr(why, "LBA 18446744073709551615"));
	ck_assert_int_eq(mirror_raid5_read(r, UINT64_MAX - 1, 4, buf, NULL, 0), -ERANGE);
	ck_assert_int_eq(mirror_raid5_read(r, 0, 1, NULL, why, sizeof(why)), -EINVAL);
	/* nothing was written; the last block and an empty request are fine */
	verify_all(r, shadow, &g);
	ck_assert_int_eq(mirror_raid5_write(r, cap - 1, 1, buf, NULL, 0), 0);
	ck_assert_int_eq(mirror_raid5_read(r, cap, 0, buf, NULL, 0), 0);
	mirror_raid5_close(r);
	free(shadow);
}
END_TEST

START_TEST(test_open_errors)
{
	struct mirror_raid5 *r = NULL;
	char why[512] = "", missing[128];
	uint8_t junk[SB];

	snprintf(missing, sizeof(missing), "%s/nope", dir);
	ck_assert_int_eq(mirror_raid5_open(missing, &r, why, sizeof(why)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(why, missing));
	ck_assert_int_eq(mirror_raid5_open(dir, &r, why, sizeof(why)), -ENOENT);
	ck_assert_msg(strstr(why, "no RAID-5 array") && strstr(why, "no file disk0"), "%s", why);
	memset(junk, 0x33, sizeof(junk));
	raw_write(dir, 0, 0, junk, 100);
	ck_assert_int_eq(mirror_raid5_open(dir, &r, why, sizeof(why)), -ENOENT);
	ck_assert_msg(strstr(why, "disk0: truncated superblock (100 of 4096 bytes)"), "%s", why);
	ck_assert_ptr_null(r);
}
END_TEST

/* ---- several openers ---- */

/* The data a process writes to its own stripes, reproducible from the
 * seed: the parent replays the child's sequence into the shadow. */
static void own_stripes(struct mirror_raid5 *r, uint8_t *shadow, uint64_t seed, unsigned parity,
			unsigned count, uint64_t stripes, uint32_t sbk)
{
	struct test_rng g;
	uint8_t *buf = malloc((size_t)sbk * 512);
	char why[512];

	if (!buf)
		_exit(3);
	test_rng_init(&g, seed);
	for (unsigned i = 0; i < count; i++) {
		uint64_t s = test_rng_range(&g, 0, stripes / 2 - 1) * 2 + parity;
		uint32_t off = (uint32_t)test_rng_range(&g, 0, sbk - 1);
		uint32_t n = (uint32_t)test_rng_range(&g, 1, sbk - off);

		fill_random(&g, buf, (size_t)n * 512);
		if (r && mirror_raid5_write(r, s * sbk + off, n, buf, why, sizeof(why))) {
			fprintf(stderr, "%s\n", why);
			_exit(2);
		}
		memcpy(shadow + (s * sbk + off) * 512, buf, (size_t)n * 512);
	}
	free(buf);
}

START_TEST(test_two_writers)
{
	uint64_t seed = test_seed(), stripes = 16, bad = 0;
	struct test_rng g;
	struct mirror_raid5 *r;
	uint8_t *shadow;
	uint32_t sbk;
	int status;
	char why[512] = "";
	pid_t pid;

	test_rng_init(&g, seed);
	create_in(dir, 5, 4096, stripes * 4096);
	r = open_in(dir);
	sbk = mirror_raid5_stripe_blocks(r);
	shadow = new_shadow(r);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		struct mirror_raid5 *c = NULL;

		if (mirror_raid5_open(dir, &c, why, sizeof(why)))
			_exit(1);
		own_stripes(c, shadow, seed + 1, 0, 400, stripes, sbk);
		mirror_raid5_close(c);
		_exit(0);
	}
	own_stripes(r, shadow, seed + 2, 1, 400, stripes, sbk);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	own_stripes(NULL, shadow, seed + 1, 0, 400, stripes, sbk);
	verify_all(r, shadow, &g);
	ck_assert_msg(mirror_raid5_scrub(r, &bad, why, sizeof(why)) == 0, "%s", why);
	mirror_raid5_close(r);
	free(shadow);
}
END_TEST

/* One opener fails a member; the other learns it from the record. */
START_TEST(test_failure_record_shared)
{
	struct mirror_raid5 *a, *b;
	uint8_t blk[4096], back[4096];
	char why[512] = "";
	int f;

	create_in(dir, 4, 4096, 8ull * 4096);
	a = open_in(dir);
	b = open_in(dir);
	ck_assert_int_eq(mirror_raid5_fail_member(a, 2), 0);
	/* stripe 0: chunks 0..2 on disk0..disk2, parity on disk3; disk2's
	 * new chunk lives only in the parity */
	memset(blk, 0x5C, sizeof(blk));
	for (uint32_t c = 0; c < 3; c++)
		do_write(a, c * 8, 8, blk);
	ck_assert_int_eq(mirror_raid5_state(b, NULL), MIRROR_RAID5_OPTIMAL);
	ck_assert_msg(mirror_raid5_refresh(b, why, sizeof(why)) == 0, "%s", why);
	ck_assert_int_eq(mirror_raid5_state(b, &f), MIRROR_RAID5_DEGRADED);
	ck_assert_int_eq(f, 2);
	ck_assert_ptr_nonnull(strstr(mirror_raid5_member_why(b, 2), "marked failed"));
	for (uint32_t c = 0; c < 3; c++) {
		ck_assert_int_eq(mirror_raid5_read(b, c * 8, 8, back, NULL, 0), 0);
		ck_assert_mem_eq(back, blk, sizeof(blk));
	}
	/* b rebuilds; a learns that too */
	ck_assert_msg(mirror_raid5_rebuild(b, 2, why, sizeof(why)) == 0, "%s", why);
	ck_assert_int_eq(mirror_raid5_refresh(a, why, sizeof(why)), 0);
	ck_assert_int_eq(mirror_raid5_state(a, NULL), MIRROR_RAID5_OPTIMAL);
	ck_assert_int_eq(mirror_raid5_scrub(a, NULL, NULL, 0), 0);
	/* another array created in its place is not adopted */
	{
		struct mirror_raid5_geometry g = {3, 4096, 4096, 1};

		ck_assert_int_eq(mirror_raid5_create(dir, &g, NULL, 0), 0);
		ck_assert_int_eq(mirror_raid5_refresh(a, why, sizeof(why)), -ESTALE);
		ck_assert_ptr_nonnull(strstr(why, "now holds array"));
	}
	mirror_raid5_close(a);
	mirror_raid5_close(b);
}
END_TEST

static Suite *raid5_suite(void)
{
	Suite *s = suite_create("raid5");
	TCase *tc = tcase_create("raid5");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_geometry);
	tcase_add_test(tc, test_geometry_defaults);
	tcase_add_test(tc, test_layout);
	tcase_add_test(tc, test_random_io);
	tcase_add_test(tc, test_small_write_cost);
	tcase_add_loop_test(tc, test_degraded, 0, D_COUNT * 5);
	tcase_add_test(tc, test_rebuild_exact);
	tcase_add_test(tc, test_two_failed_open);
	tcase_add_test(tc, test_two_failed_running);
	tcase_add_test(tc, test_swapped_members);
	tcase_add_test(tc, test_scrub_finds_bad_parity);
	tcase_add_test(tc, test_create_refuses_existing);
	tcase_add_test(tc, test_bad_geometry);
	tcase_add_test(tc, test_out_of_range);
	tcase_add_test(tc, test_open_errors);
	tcase_add_test(tc, test_two_writers);
	tcase_add_test(tc, test_failure_record_shared);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run_suite(raid5_suite());
}
