/* bench/emu: a load client for a mirror receiver (mirror-emu) or a block
 * target (tgtd).  S sessions, each kept at QD commands outstanding through
 * the transport's asynchronous interface, for a duration or a count, all
 * of one kind:
 *   small    small-path mirror write (source Fig. 6: the 12-byte CDB carries
 *            the metadata, the data follows);
 *   large    notification CDB, 1024-byte metadata message, then the data
 *            (Figs. 2, 3 and 5);
 *   write10  WRITE(10), what a disk target is measured with.
 * It reports operations per second, a latency histogram (HDR-style, log-
 * linear: 64 sub-buckets per power of two, 1 us to 10 s) as p50/p90/p99/
 * p99.9/max, and every command that did not end GOOD, by sense key.  It
 * only prints: no timing is judged here (see bench/emu.sh).
 *
 * Placement: each mirror op takes the next slot of a ring over NVRAM region
 * 0 (the emulator, controller B by default, receives from A into region 0);
 * a slot still held by a command in flight is skipped, so no two
 * outstanding ops ever write the same NVRAM.  WRITE(10) does the same over
 * the LUN's blocks (READ CAPACITY(10) first).
 *
 * One poll(2) waits on every session's socket (mirror_transport_fd and
 * mirror_transport_events); mirror_transport_poll(t, 0) then serves the
 * sessions that are ready. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include <mirror/mirror.h>
#include <mirror/sender.h>
#include <mirror/transport.h>

#define PROG "bench/emu"

/* Exit statuses. */
#define EXIT_FAILED_CMDS 1 /* --expect-no-errors and a command failed */
#define EXIT_USAGE 2
#define EXIT_SETUP 3 /* cannot connect, or the target refused the setup */

#define SESSIONS_MAX 1024u
#define QD_MAX 1024u
#define DEFAULT_SECONDS 5.0
/* The serial and array number the ARRAY TABLE UPDATE maps volume 0 to;
 * large ops carry the same pair. */
#define BENCH_VOLUME 0u
#define BENCH_SERIAL UINT64_C(0x00BE4C4E0000E3E0)
#define BENCH_ARRAY 1u
/* Initiator names: one per session, so that the receiver tracks each
 * session's sequence numbers as one sender and a target never takes two
 * sessions for a reinstatement of one (same name, same ISID). */
#define INITIATOR_FMT "iqn.2024-01.org.mirrortest:bench-%u"
/* Sessions with nothing to wait on (no socket yet) are served again this
 * soon; all sessions at least once a second for the command deadlines. */
#define NOFD_WAIT_MS 10
#define RING_MAX (1u << 20)
#define SWEEP_MS 1000

/* ---- latency histogram: log-linear, in microseconds ---- */

/* Values 0..127 us have a bucket each; above, each power of two [2^k,
 * 2^(k+1)) is cut into 64 equal buckets (relative error under 1/64), up to
 * 2^24 us (16.7 s), which covers the 10 s the histogram promises. */
#define HIST_SUB 64u
#define HIST_LINEAR (2u * HIST_SUB)
#define HIST_TOP_BIT 23u /* highest power of two held: 2^23 .. 2^24-1 */
#define HIST_BUCKETS (HIST_LINEAR + (HIST_TOP_BIT - 6u) * HIST_SUB)
#define HIST_MAX_US 10000000u /* 10 s: larger values count here */

struct hist {
	uint64_t count[HIST_BUCKETS];
	uint64_t total;
	uint64_t over; /* values above HIST_MAX_US (clamped) */
	uint64_t min_ns, max_ns;
	long double sum_ns;
};

static unsigned msb64(uint64_t v)
{
	unsigned n = 0;

	while (v >>= 1)
		n++;
	return n;
}

static unsigned hist_index(uint64_t us)
{
	if (us < HIST_LINEAR)
		return (unsigned)us;
	unsigned msb = msb64(us); /* 7 .. 23 */
	unsigned shift = msb - 6u;
	return HIST_LINEAR + (shift - 1u) * HIST_SUB + (unsigned)((us >> shift) - HIST_SUB);
}

/* The first value past bucket i (in us): what a percentile in that bucket
 * is reported as, so that a percentile is never under-stated. */
static uint64_t hist_upper(unsigned i)
{
	if (i < HIST_LINEAR)
		return i + 1u;
	unsigned shift = (i - HIST_LINEAR) / HIST_SUB + 1u;
	uint64_t sub = (i - HIST_LINEAR) % HIST_SUB + HIST_SUB;
	return (sub + 1u) << shift;
}

static void hist_add(struct hist *h, uint64_t ns)
{
	uint64_t us = ns / 1000u;

	if (us > HIST_MAX_US) {
		us = HIST_MAX_US;
		h->over++;
	}
	h->count[hist_index(us)]++;
	if (!h->total || ns < h->min_ns)
		h->min_ns = ns;
	if (ns > h->max_ns)
		h->max_ns = ns;
	h->total++;
	h->sum_ns += (long double)ns;
}

/* The p-th percentile in microseconds: the upper edge of the bucket that
 * holds the ceil(p% * total)-th value, capped by the largest value seen. */
static double hist_percentile(const struct hist *h, double p)
{
	if (!h->total)
		return 0.0;
	double want = p / 100.0 * (double)h->total;
	uint64_t rank = (uint64_t)want;
	if ((double)rank < want) /* ceil, without libm */
		rank++;
	if (rank < 1)
		rank = 1;
	uint64_t seen = 0;
	double max_us = (double)h->max_ns / 1000.0;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->count[i];
		if (seen >= rank) {
			double v = (double)hist_upper(i);
			return v < max_us ? v : max_us;
		}
	}
	return max_us;
}

/* ---- options and state ---- */

enum op_kind { OP_SMALL = 0, OP_LARGE, OP_WRITE10 };
static const char *const op_names[] = { "small", "large", "write10" };

struct opts {
	const char *url;
	unsigned sessions, qd;
	enum op_kind op;
	uint32_t size;
	double seconds;
	uint64_t count; /* 0: run for seconds */
	bool json, expect_no_errors;
	struct mirror_profile profile;
	unsigned timeout_ms;
};

struct session;

/* One command slot of a session: its command, its data-out buffer (room
 * for the metadata message, then the user data) and the ring slot it
 * holds while in flight. */
struct slot {
	struct session *s;
	struct mirror_cmd cmd;
	uint8_t *buf;
	uint32_t ring;
	bool busy;
};

struct session {
	unsigned index;
	struct mirror_transport *t;
	struct slot *slots;
	unsigned outstanding;
	uint32_t next_sequence; /* large path, per sender */
	bool dead;              /* a submit failed: no more commands here */
};

struct bench {
	const struct opts *o;
	struct session *sess;
	/* The ring: nring slots of stride bytes (NVRAM) or blocks (LUN). */
	uint32_t nring, ring_next, stride;
	uint8_t *ring_busy;
	uint32_t region_start;  /* NVRAM region 0's first byte */
	uint32_t block_size;    /* write10: the LUN's */
	bool stop;              /* issue no more */
	uint64_t issued, completed, good;
	uint64_t status_other;  /* non-GOOD without sense (BUSY, ...) */
	uint64_t by_key[16];    /* CHECK CONDITION, by sense key */
	uint64_t transport_errors, submit_errors;
	uint64_t data_in_unexpected; /* GOOD, but the target sent data-in */
	char first_error[256];
	struct hist h;
};

static const char usage_text[] =
	"Usage: " PROG " URL [--op small|large|write10] [--size BYTES] [--sessions S]\n"
	"                 [--qd N] [--seconds T | --count N] [--json] [--expect-no-errors]\n"
	"Load client: S sessions to URL, each with N commands outstanding, all of\n"
	"one kind; prints ops/s, latency percentiles and errors by sense key.\n"
	"URL: iscsi://host[:port]/target-iqn/lun\n"
	"\n"
	"  -o, --op KIND          small (small-path mirror write, default), large\n"
	"                         (notification CDB + metadata + data), write10\n"
	"                         (WRITE(10) to a block target such as tgtd)\n"
	"  -s, --size BYTES       user data per op, a multiple of 512 (default 4K;\n"
	"                         small: at most 32K, large: at most 1M)\n"
	"  -S, --sessions S       sessions (default 1, at most 1024)\n"
	"  -q, --qd N             commands outstanding per session (default 1)\n"
	"  -t, --seconds T        issue for T seconds (default 5), then drain\n"
	"  -c, --count N          issue N ops in all, then drain\n"
	"  -p, --profile NAME     wire profile (default v1)\n"
	"  -n, --nvram-size SIZE  the receiver's NVRAM size (default 128M)\n"
	"  -T, --timeout MS       command timeout (default 30000)\n"
	"  -j, --json             one JSON object instead of text\n"
	"  -e, --expect-no-errors exit 1 if any command did not end GOOD or did not\n"
	"                         complete\n"
	"  -h, --help             this text\n"
	"\n"
	"The small path needs the receiver's array table: one ARRAY TABLE UPDATE\n"
	"(volume 0) is sent first.  Each op takes the next slot of a ring over\n"
	"NVRAM region 0 (write10: over the LUN); slots in flight are skipped.\n"
	"Exit status: 0 done, 1 failed commands with --expect-no-errors, 2 usage\n"
	"error, 3 cannot connect or set up.\n";

__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '" PROG " --help'.\n");
	return EXIT_USAGE;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;

	errno = 0;
	if (!*s || *s == '-')
		return -EINVAL;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_args(struct opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "op", required_argument, NULL, 'o' },
		{ "size", required_argument, NULL, 's' },
		{ "sessions", required_argument, NULL, 'S' },
		{ "qd", required_argument, NULL, 'q' },
		{ "seconds", required_argument, NULL, 't' },
		{ "count", required_argument, NULL, 'c' },
		{ "profile", required_argument, NULL, 'p' },
		{ "nvram-size", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "json", no_argument, NULL, 'j' },
		{ "expect-no-errors", no_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct mirror_profile_options po = { 0 };
	bool have_seconds = false;
	uint64_t v;
	char why[160];
	int c;

	while ((c = getopt_long(argc, argv, "o:s:S:q:t:c:p:n:T:jeh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			if (strcmp(optarg, "small") == 0)
				o->op = OP_SMALL;
			else if (strcmp(optarg, "large") == 0)
				o->op = OP_LARGE;
			else if (strcmp(optarg, "write10") == 0)
				o->op = OP_WRITE10;
			else
				return usage_error("bad --op '%s' (small, large or write10)", optarg);
			break;
		case 's':
			if (mirror_parse_size(optarg, &v) < 0 || v == 0 || v % MIRROR_BLOCK_SIZE ||
			    v > 16u * 1024u * 1024u)
				return usage_error("bad --size '%s' (a multiple of 512, e.g. 4K)", optarg);
			o->size = (uint32_t)v;
			break;
		case 'S':
			if (parse_uint(optarg, 1, SESSIONS_MAX, &v) < 0)
				return usage_error("bad --sessions '%s' (1..%u)", optarg, SESSIONS_MAX);
			o->sessions = (unsigned)v;
			break;
		case 'q':
			if (parse_uint(optarg, 1, QD_MAX, &v) < 0)
				return usage_error("bad --qd '%s' (1..%u)", optarg, QD_MAX);
			o->qd = (unsigned)v;
			break;
		case 't': {
			char *end;
			o->seconds = strtod(optarg, &end);
			if (*end || !(o->seconds > 0.0) || o->seconds > 86400.0)
				return usage_error("bad --seconds '%s'", optarg);
			have_seconds = true;
			break;
		}
		case 'c':
			if (parse_uint(optarg, 1, UINT64_MAX / 2, &o->count) < 0)
				return usage_error("bad --count '%s'", optarg);
			break;
		case 'p':
			po.name = optarg;
			break;
		case 'n':
			po.nvram_size = optarg;
			break;
		case 'T':
			if (parse_uint(optarg, 1, 3600000, &v) < 0)
				return usage_error("bad --timeout '%s' (1..3600000 ms)", optarg);
			o->timeout_ms = (unsigned)v;
			break;
		case 'j':
			o->json = true;
			break;
		case 'e':
			o->expect_no_errors = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fprintf(stderr, "Try '" PROG " --help'.\n");
			return EXIT_USAGE;
		}
	}
	if (mirror_profile_from_options(&po, &o->profile, why, sizeof(why)) < 0)
		return usage_error("%s", why);
	if (optind != argc - 1)
		return usage_error("%s", optind == argc ? "no target URL" : "one URL, please");
	o->url = argv[optind];
	if (have_seconds && o->count)
		return usage_error("%s", "--seconds or --count, not both");
	if (!have_seconds && !o->count)
		o->seconds = DEFAULT_SECONDS;
	if (o->op == OP_SMALL &&
	    o->size > mirror_small_sg_max(&o->profile) * MIRROR_SG_ELEMENT_MAX_BYTES)
		return usage_error("--size %u: the small path carries at most %u bytes (profile %s)",
				   (unsigned)o->size,
				   mirror_small_sg_max(&o->profile) * MIRROR_SG_ELEMENT_MAX_BYTES,
				   o->profile.name);
	if (o->op == OP_LARGE && o->size > MIRROR_LARGE_MAX_BLOCKS * MIRROR_BLOCK_SIZE)
		return usage_error("--size %u: a large op carries at most 1 MiB", (unsigned)o->size);
	return -1;
}

/* ---- the ring ---- */

/* Slots are a power of two long, aligned to their length: a slot of a small
 * op then never straddles the boundary where the descriptors' shared high
 * bits change (Fig. 7 block 716), which falls on a larger power of two. */
static uint32_t pow2_at_least(uint32_t v)
{
	uint32_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

static int ring_take(struct bench *b, uint32_t *slot)
{
	for (uint32_t tries = 0; tries < b->nring; tries++) {
		uint32_t i = b->ring_next;
		b->ring_next = (b->ring_next + 1) % b->nring;
		if (!b->ring_busy[i]) {
			b->ring_busy[i] = 1;
			*slot = i;
			return 0;
		}
	}
	return -ENOSPC; /* cannot happen: the ring holds every slot in flight */
}

/* ---- building a command ---- */

static int build_small_or_large(struct bench *b, struct slot *sl)
{
	const struct opts *o = b->o;
	uint32_t addr = b->region_start + sl->ring * b->stride;
	struct mirror_write w = { 0 };
	struct mirror_op op;
	uint8_t *cdb = sl->cmd.cdb;

	w.volume = BENCH_VOLUME;
	w.array_serial = BENCH_SERIAL;
	w.array_number = BENCH_ARRAY;
	w.region = 0;
	memset(&op, 0, sizeof(op));
	op.path = o->op == OP_SMALL ? MIRROR_PATH_SMALL : MIRROR_PATH_LARGE;
	op.region = 0;
	op.lba = sl->ring * (b->stride / MIRROR_BLOCK_SIZE);
	op.blocks = o->size / MIRROR_BLOCK_SIZE;
	for (uint32_t done = 0; done < o->size; op.sg_count++) {
		uint32_t n = o->size - done;
		if (n > MIRROR_SG_ELEMENT_MAX_BYTES)
			n = MIRROR_SG_ELEMENT_MAX_BYTES;
		op.sg[op.sg_count].nvram_addr = addr + done;
		op.sg[op.sg_count].bytes = n;
		done += n;
	}
	if (op.path == MIRROR_PATH_LARGE)
		op.sequence = sl->s->next_sequence++;
	/* The small path's CDB comes from mirror_small_cdb_from_sg inside
	 * mirror_op_encode; the large path's metadata lands in front of the
	 * data. */
	int rc = mirror_op_encode(&o->profile, &op, &w, cdb, sizeof(sl->cmd.cdb), sl->buf);
	if (rc < 0)
		return rc;
	sl->cmd.cdb_len = (unsigned)rc;
	if (op.path == MIRROR_PATH_LARGE) {
		sl->cmd.data_out = sl->buf;
		sl->cmd.data_out_len = MIRROR_METADATA_BYTES + o->size;
	} else {
		sl->cmd.data_out = sl->buf + MIRROR_METADATA_BYTES;
		sl->cmd.data_out_len = o->size;
	}
	return 0;
}

static void build_write10(struct bench *b, struct slot *sl)
{
	uint32_t lba = sl->ring * (b->stride / b->block_size);
	uint32_t blocks = b->o->size / b->block_size;
	uint8_t *c = sl->cmd.cdb;

	memset(c, 0, 10);
	c[0] = 0x2A; /* WRITE(10), SBC */
	c[2] = (uint8_t)(lba >> 24);
	c[3] = (uint8_t)(lba >> 16);
	c[4] = (uint8_t)(lba >> 8);
	c[5] = (uint8_t)lba;
	c[7] = (uint8_t)(blocks >> 8);
	c[8] = (uint8_t)blocks;
	sl->cmd.cdb_len = 10;
	sl->cmd.data_out = sl->buf + MIRROR_METADATA_BYTES;
	sl->cmd.data_out_len = b->o->size;
}

__attribute__((format(printf, 2, 3)))
static void note_error(struct bench *b, const char *fmt, ...)
{
	va_list ap;

	if (b->first_error[0])
		return;
	va_start(ap, fmt);
	vsnprintf(b->first_error, sizeof(b->first_error), fmt, ap);
	va_end(ap);
}

/* mirror_cmd_done_fn has no context argument besides the command: the
 * single bench of this process is reached through this. */
static struct bench *the_bench;

static void cmd_done(struct mirror_cmd *c)
{
	struct slot *sl = c->user;
	struct session *s = sl->s;
	struct bench *b = the_bench;

	sl->busy = false;
	b->ring_busy[sl->ring] = 0;
	s->outstanding--;
	b->completed++;
	if (c->result < 0) {
		b->transport_errors++;
		note_error(b, "session %u: %s", s->index, mirror_transport_error(s->t));
		return;
	}
	hist_add(&b->h, c->duration_ns);
	if (c->status == MIRROR_STATUS_GOOD) {
		/* GOOD with data-in to a data-out command: the target ran
		 * something else (a disk target's REPORT LUNS for 0xA0). */
		if (c->data_in_got) {
			b->data_in_unexpected++;
			note_error(b, "opcode 0x%02X answered GOOD with %u bytes of data-in",
				   c->cdb[0], (unsigned)c->data_in_got);
		} else {
			b->good++;
		}
		return;
	}
	if (c->status == MIRROR_STATUS_CHECK_CONDITION && c->sense_len &&
	    (c->sense_parsed.response_code & 0x70) == 0x70) {
		char d[160];
		b->by_key[c->sense_parsed.key & 0x0F]++;
		mirror_sense_describe(&c->sense_parsed, d, sizeof(d));
		note_error(b, "opcode 0x%02X: %s", c->cdb[0], d);
	} else {
		b->status_other++;
		note_error(b, "opcode 0x%02X: status %s", c->cdb[0], mirror_status_name(c->status));
	}
}

/* Keeps s at QD commands outstanding while there is more to issue. */
static void top_up(struct bench *b, struct session *s)
{
	const struct opts *o = b->o;

	while (!s->dead && !b->stop && s->outstanding < o->qd) {
		if (o->count && b->issued >= o->count) {
			b->stop = true;
			break;
		}
		struct slot *sl = NULL;
		for (unsigned i = 0; i < o->qd; i++)
			if (!s->slots[i].busy) {
				sl = &s->slots[i];
				break;
			}
		if (!sl || ring_take(b, &sl->ring) < 0)
			break;
		if (o->op == OP_WRITE10) {
			build_write10(b, sl);
		} else {
			int rc = build_small_or_large(b, sl);
			if (rc < 0) {
				/* The geometry was checked at start: a bug. */
				b->ring_busy[sl->ring] = 0;
				b->submit_errors++;
				note_error(b, "cannot encode an op: %s", mirror_strerror(rc));
				s->dead = true;
				break;
			}
		}
		int rc = mirror_transport_submit(s->t, &sl->cmd, cmd_done);
		if (rc == -EAGAIN) { /* the transport's own queue is full */
			b->ring_busy[sl->ring] = 0;
			break;
		}
		if (rc < 0) {
			b->ring_busy[sl->ring] = 0;
			b->submit_errors++;
			note_error(b, "session %u: %s", s->index, mirror_transport_error(s->t));
			s->dead = true;
			break;
		}
		sl->busy = true;
		s->outstanding++;
		b->issued++;
	}
}

/* ---- setup commands, synchronous ---- */

static int push_table(struct bench *b)
{
	struct mirror_array_table tab;
	uint8_t param[MIRROR_TABLE_MAX_BYTES];
	struct mirror_cmd c;

	mirror_array_table_init(&tab);
	mirror_array_table_add(&tab, BENCH_VOLUME, BENCH_SERIAL, BENCH_ARRAY);
	int len = mirror_table_update_encode(&tab, param, sizeof(param));
	memset(&c, 0, sizeof(c));
	int cl = mirror_table_update_cdb_encode(&b->o->profile, (uint32_t)(len < 0 ? 0 : len), c.cdb,
						sizeof(c.cdb));
	if (len < 0 || cl < 0) {
		fprintf(stderr, PROG ": cannot encode ARRAY TABLE UPDATE: %s\n",
			mirror_strerror(len < 0 ? len : cl));
		return -1;
	}
	c.cdb_len = (unsigned)cl;
	c.dir = MIRROR_DIR_OUT;
	c.data_out = param;
	c.data_out_len = (uint32_t)len;
	mirror_transport_run(b->sess[0].t, &c);
	if (mirror_cmd_exit_status(&c) != MIRROR_EXIT_OK) {
		fprintf(stderr, PROG ": ARRAY TABLE UPDATE failed:\n");
		mirror_print_outcome(stderr, &c, mirror_transport_error(b->sess[0].t), 2, 0);
		return -1;
	}
	return 0;
}

/* READ CAPACITY(10): the LUN's block size and size, for WRITE(10). */
static int read_capacity(struct bench *b, uint64_t *blocks)
{
	uint8_t d[8];
	struct mirror_cmd c;

	memset(&c, 0, sizeof(c));
	c.cdb[0] = 0x25;
	c.cdb_len = 10;
	c.dir = MIRROR_DIR_IN;
	c.data_in = d;
	c.data_in_len = sizeof(d);
	mirror_transport_run(b->sess[0].t, &c);
	if (mirror_cmd_exit_status(&c) != MIRROR_EXIT_OK || c.data_in_got < 8) {
		fprintf(stderr, PROG ": READ CAPACITY(10) failed:\n");
		mirror_print_outcome(stderr, &c, mirror_transport_error(b->sess[0].t), 2, 0);
		return -1;
	}
	uint32_t last = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
	b->block_size = (uint32_t)d[4] << 24 | (uint32_t)d[5] << 16 | (uint32_t)d[6] << 8 | d[7];
	*blocks = (uint64_t)last + 1u;
	if (b->block_size < 512 || b->block_size > 65536) {
		fprintf(stderr, PROG ": READ CAPACITY(10): block size %u\n", (unsigned)b->block_size);
		return -1;
	}
	return 0;
}

/* Lays the ring out: over region 0 of the NVRAM, or over the LUN (at most
 * its first 2^32 blocks: WRITE(10) addresses no more). */
static int setup_ring(struct bench *b)
{
	const struct opts *o = b->o;
	uint64_t span;

	if (o->op == OP_WRITE10) {
		uint64_t blocks;
		if (read_capacity(b, &blocks) < 0)
			return -1;
		if (o->size % b->block_size || o->size / b->block_size > 0xFFFFu) {
			fprintf(stderr, PROG ": --size %u does not fit WRITE(10) on %u-byte blocks\n",
				(unsigned)o->size, (unsigned)b->block_size);
			return -1;
		}
		if (blocks > UINT32_MAX)
			blocks = (uint64_t)UINT32_MAX + 1u;
		span = blocks * b->block_size;
		b->stride = pow2_at_least(o->size);
		if (b->stride < b->block_size)
			b->stride = b->block_size;
	} else {
		b->region_start = mirror_region_start(&o->profile, 0);
		span = mirror_region_end(&o->profile, 0) - b->region_start;
		b->stride = pow2_at_least(o->size);
	}
	uint64_t n = span / b->stride;
	uint64_t inflight = (uint64_t)o->sessions * o->qd;
	if (n < inflight) {
		fprintf(stderr, PROG ": %s holds %llu ops of %u bytes; %u sessions x QD %u in flight "
			"would overlap\n", o->op == OP_WRITE10 ? "the LUN" : "NVRAM region 0",
			(unsigned long long)n, (unsigned)o->size, o->sessions, o->qd);
		return -1;
	}
	/* A ring longer than this buys nothing but a larger busy map (tgt's
	 * null store reports 1 TiB). */
	if (n > RING_MAX && RING_MAX >= inflight)
		n = RING_MAX;
	b->nring = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
	b->ring_busy = calloc(b->nring, 1);
	if (!b->ring_busy) {
		fprintf(stderr, PROG ": out of memory\n");
		return -1;
	}
	return 0;
}

/* ---- the loop ---- */

static void serve(struct bench *b, struct session *s)
{
	if (!s->outstanding)
		return;
	int rc = mirror_transport_poll(s->t, 0);
	if (rc < 0) {
		b->transport_errors++;
		note_error(b, "session %u: %s", s->index, mirror_transport_error(s->t));
		s->dead = true;
	}
}

static int run(struct bench *b, uint64_t *elapsed_ns)
{
	const struct opts *o = b->o;
	struct pollfd *pfd = calloc(o->sessions, sizeof(*pfd));
	unsigned *who = calloc(o->sessions, sizeof(*who));

	if (!pfd || !who) {
		free(pfd);
		free(who);
		fprintf(stderr, PROG ": out of memory\n");
		return -1;
	}
	uint64_t start = now_ns();
	uint64_t end = o->count ? UINT64_MAX : start + (uint64_t)(o->seconds * 1e9);
	uint64_t last_sweep = start;

	for (unsigned i = 0; i < o->sessions; i++)
		top_up(b, &b->sess[i]);
	for (;;) {
		unsigned n = 0, busy = 0;
		bool nofd = false;
		for (unsigned i = 0; i < o->sessions; i++) {
			struct session *s = &b->sess[i];
			if (!s->outstanding)
				continue;
			busy++;
			int fd = mirror_transport_fd(s->t);
			short ev = mirror_transport_events(s->t);
			if (fd < 0 || !ev) {
				nofd = true;
				continue;
			}
			pfd[n].fd = fd;
			pfd[n].events = ev;
			pfd[n].revents = 0;
			who[n++] = i;
		}
		if (!busy)
			break;
		uint64_t now = now_ns();
		int wait = SWEEP_MS;
		if (!b->stop && end != UINT64_MAX) {
			uint64_t left_ms = end > now ? (end - now + 999999u) / 1000000u : 0;
			if (left_ms < (uint64_t)wait)
				wait = (int)left_ms;
		}
		if (nofd && wait > NOFD_WAIT_MS)
			wait = NOFD_WAIT_MS;
		int rc = poll(pfd, n, wait);
		if (rc < 0 && errno != EINTR) {
			perror(PROG ": poll");
			break;
		}
		now = now_ns();
		bool sweep = rc == 0 || now - last_sweep >= (uint64_t)SWEEP_MS * 1000000u;
		if (sweep) {
			/* Everything, for the deadlines and the descriptor-less. */
			last_sweep = now;
			for (unsigned i = 0; i < o->sessions; i++)
				serve(b, &b->sess[i]);
		} else {
			for (unsigned k = 0; k < n; k++)
				if (pfd[k].revents)
					serve(b, &b->sess[who[k]]);
			if (nofd)
				for (unsigned i = 0; i < o->sessions; i++) {
					struct session *s = &b->sess[i];
					if (s->outstanding && (mirror_transport_fd(s->t) < 0 ||
							       !mirror_transport_events(s->t)))
						serve(b, s);
				}
		}
		if (!b->stop && now >= end)
			b->stop = true;
		for (unsigned i = 0; i < o->sessions; i++)
			top_up(b, &b->sess[i]);
	}
	*elapsed_ns = now_ns() - start;
	free(pfd);
	free(who);
	return 0;
}

/* ---- report ---- */

static uint64_t failed_total(const struct bench *b)
{
	uint64_t n = b->status_other + b->transport_errors + b->submit_errors +
		     b->data_in_unexpected;

	for (unsigned k = 0; k < 16; k++)
		n += b->by_key[k];
	return n;
}

static void report(const struct bench *b, double secs)
{
	const struct opts *o = b->o;
	static const double pcts[] = { 50.0, 90.0, 99.0, 99.9 };
	static const char *const pct_names[] = { "p50", "p90", "p99", "p99_9" };
	double ops_s = secs > 0 ? (double)b->completed / secs : 0.0;
	double mib_s = ops_s * o->size / (1024.0 * 1024.0);
	double mean = b->h.total ? (double)(b->h.sum_ns / b->h.total) / 1000.0 : 0.0;

	if (o->json) {
		struct json_object *j = json_object_new_object();
		struct json_object *lat = json_object_new_object();
		struct json_object *err = json_object_new_object();
		struct json_object *keys = json_object_new_object();
		json_object_object_add(j, "url", json_object_new_string(o->url));
		json_object_object_add(j, "op", json_object_new_string(op_names[o->op]));
		json_object_object_add(j, "size", json_object_new_int64(o->size));
		json_object_object_add(j, "sessions", json_object_new_int((int)o->sessions));
		json_object_object_add(j, "qd", json_object_new_int((int)o->qd));
		json_object_object_add(j, "issued", json_object_new_uint64(b->issued));
		json_object_object_add(j, "ops", json_object_new_uint64(b->completed));
		json_object_object_add(j, "good", json_object_new_uint64(b->good));
		json_object_object_add(j, "seconds", json_object_new_double(secs));
		json_object_object_add(j, "ops_per_sec", json_object_new_double(ops_s));
		json_object_object_add(j, "mib_per_sec", json_object_new_double(mib_s));
		json_object_object_add(lat, "min", json_object_new_double((double)b->h.min_ns / 1000.0));
		for (unsigned i = 0; i < 4; i++)
			json_object_object_add(lat, pct_names[i],
					       json_object_new_double(hist_percentile(&b->h, pcts[i])));
		json_object_object_add(lat, "max", json_object_new_double((double)b->h.max_ns / 1000.0));
		json_object_object_add(lat, "mean", json_object_new_double(mean));
		json_object_object_add(lat, "over_10s", json_object_new_uint64(b->h.over));
		json_object_object_add(j, "latency_us", lat);
		json_object_object_add(err, "total", json_object_new_uint64(failed_total(b)));
		json_object_object_add(err, "transport", json_object_new_uint64(b->transport_errors));
		json_object_object_add(err, "not_sent", json_object_new_uint64(b->submit_errors));
		json_object_object_add(err, "other_status", json_object_new_uint64(b->status_other));
		json_object_object_add(err, "data_in_unexpected",
				       json_object_new_uint64(b->data_in_unexpected));
		for (unsigned k = 0; k < 16; k++)
			if (b->by_key[k])
				json_object_object_add(keys, mirror_sense_key_name((uint8_t)k),
						       json_object_new_uint64(b->by_key[k]));
		json_object_object_add(err, "sense_keys", keys);
		if (b->first_error[0])
			json_object_object_add(err, "first", json_object_new_string(b->first_error));
		json_object_object_add(j, "errors", err);
		puts(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN |
							       JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(j);
		return;
	}
	printf("%s, %u bytes, %u session%s x QD %u: %" PRIu64 " ops in %.3f s\n", op_names[o->op],
	       (unsigned)o->size, o->sessions, o->sessions == 1 ? "" : "s", o->qd, b->completed,
	       secs);
	printf("  %.0f ops/s, %.1f MiB/s\n", ops_s, mib_s);
	printf("  latency us: min %.1f  p50 %.0f  p90 %.0f  p99 %.0f  p99.9 %.0f  max %.1f  "
	       "mean %.1f\n", (double)b->h.min_ns / 1000.0, hist_percentile(&b->h, 50.0),
	       hist_percentile(&b->h, 90.0), hist_percentile(&b->h, 99.0),
	       hist_percentile(&b->h, 99.9), (double)b->h.max_ns / 1000.0, mean);
	printf("  errors: %" PRIu64, failed_total(b));
	if (failed_total(b)) {
		for (unsigned k = 0; k < 16; k++)
			if (b->by_key[k])
				printf(", %s %" PRIu64, mirror_sense_key_name((uint8_t)k), b->by_key[k]);
		if (b->status_other)
			printf(", other status %" PRIu64, b->status_other);
		if (b->transport_errors)
			printf(", transport %" PRIu64, b->transport_errors);
		if (b->submit_errors)
			printf(", not sent %" PRIu64, b->submit_errors);
		if (b->data_in_unexpected)
			printf(", unexpected data-in %" PRIu64, b->data_in_unexpected);
		printf("\n  first: %s", b->first_error);
	}
	printf("\n");
}

/* ---- main ---- */

static int open_sessions(struct bench *b)
{
	const struct opts *o = b->o;
	size_t buf_len = MIRROR_METADATA_BYTES + o->size;

	for (unsigned i = 0; i < o->sessions; i++) {
		struct session *s = &b->sess[i];
		struct mirror_transport_opts to = { 0 };
		char iname[96], err[512];

		s->index = i;
		s->next_sequence = 1;
		s->slots = calloc(o->qd, sizeof(*s->slots));
		if (!s->slots)
			return -ENOMEM;
		for (unsigned k = 0; k < o->qd; k++) {
			struct slot *sl = &s->slots[k];
			sl->s = s;
			sl->buf = malloc(buf_len);
			if (!sl->buf)
				return -ENOMEM;
			/* Every op of a slot carries the same data: the
			 * bench measures the transfer, not the pattern. */
			struct mirror_pattern pat = { MIRROR_PATTERN_LBA, 0, 0 };
			memset(sl->buf, 0, MIRROR_METADATA_BYTES);
			mirror_pattern_fill(&pat, (uint64_t)i * o->qd + k,
					    sl->buf + MIRROR_METADATA_BYTES, o->size);
			sl->cmd.dir = MIRROR_DIR_OUT;
			sl->cmd.user = sl;
		}
		snprintf(iname, sizeof(iname), INITIATOR_FMT, i);
		to.initiator_name = iname;
		to.queue_depth = o->qd;
		to.command_timeout_ms = o->timeout_ms;
		s->t = mirror_transport_open(o->url, &to, err, sizeof(err));
		if (!s->t) {
			fprintf(stderr, PROG ": session %u: %s\n", i, err);
			return -1;
		}
	}
	return 0;
}

static void free_sessions(struct bench *b)
{
	if (!b->sess)
		return;
	for (unsigned i = 0; i < b->o->sessions; i++) {
		struct session *s = &b->sess[i];
		mirror_transport_close(s->t);
		if (s->slots)
			for (unsigned k = 0; k < b->o->qd; k++)
				free(s->slots[k].buf);
		free(s->slots);
	}
	free(b->sess);
}

int main(int argc, char **argv)
{
	struct opts o;
	struct bench *b;
	char err[512];
	int ret;

	memset(&o, 0, sizeof(o));
	o.sessions = 1;
	o.qd = 1;
	o.size = 4096;
	o.op = OP_SMALL;
	ret = parse_args(&o, argc, argv);
	if (ret >= 0)
		return ret;
	if (mirror_transport_check(o.url, NULL, err, sizeof(err)) < 0)
		return usage_error("%s", err);

	/* The histogram is large: keep it off the stack. */
	b = calloc(1, sizeof(*b));
	if (!b) {
		fprintf(stderr, PROG ": out of memory\n");
		return EXIT_SETUP;
	}
	b->o = &o;
	the_bench = b;
	b->sess = calloc(o.sessions, sizeof(*b->sess));
	ret = EXIT_SETUP;
	if (!b->sess) {
		fprintf(stderr, PROG ": out of memory\n");
		goto out;
	}
	int rc = open_sessions(b);
	if (rc < 0) {
		if (rc == -ENOMEM)
			fprintf(stderr, PROG ": out of memory for %u x %u buffers of %u bytes\n",
				o.sessions, o.qd, (unsigned)(MIRROR_METADATA_BYTES + o.size));
		goto out;
	}
	if (setup_ring(b) < 0)
		goto out;
	if (o.op == OP_SMALL && push_table(b) < 0)
		goto out;

	uint64_t elapsed;
	if (run(b, &elapsed) < 0)
		goto out;
	report(b, (double)elapsed / 1e9);
	ret = 0;
	if (o.expect_no_errors) {
		if (failed_total(b)) {
			fprintf(stderr, PROG ": %" PRIu64 " command%s failed; first: %s\n",
				failed_total(b), failed_total(b) == 1 ? "" : "s", b->first_error);
			ret = EXIT_FAILED_CMDS;
		} else if (o.count && b->completed != o.count) {
			fprintf(stderr, PROG ": %" PRIu64 " of %" PRIu64 " ops completed\n",
				b->completed, o.count);
			ret = EXIT_FAILED_CMDS;
		}
	}
out:
	free_sessions(b);
	free(b->ring_busy);
	free(b);
	fflush(stdout);
	return ret;
}
