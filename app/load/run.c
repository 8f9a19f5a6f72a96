/* mirror-load's engine: host writes from the generator, split (Fig. 3)
 * and placed in the NVRAM ring, sent on the path the policy chooses
 * (Fig. 7) over several connections with many commands outstanding, some
 * read back (NVRAM READBACK) and compared; or, in write10 mode, the same
 * stream as WRITE(10) to a plain block target.
 *
 * One poll(2) waits on every connection (mirror_transport_poll_many), which
 * then serves the ready ones.  Every
 * op of a host write goes on the connection that took the write, so each
 * connection's large-path sequence numbers reach the receiver in order. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mirror/array_table.h>
#include <mirror/commands.h>
#include <mirror/error.h>
#include <mirror/exit_status.h>
#include "app/load/load.h"
#include <mirror/nvram.h>
#include <mirror/sender.h>

#include "base/bytes.h"
#include "base/why.h"

#define CONNECTIONS_MAX 256u
#define QD_MAX 256u
/* A default LBA range: 1 GiB of 512-byte blocks. */
#define DEFAULT_LBA_COUNT (UINT64_C(1) << 21)
/* The longest wait of the loop: the end of a timed run is checked at
 * least this often. */
#define SWEEP_MS 1000
#define RATE_BURST 8u
#define OP_BYTES_MAX ((uint32_t)MIRROR_LARGE_MAX_BLOCKS * MIRROR_BLOCK_SIZE)
/* The data buffers of every command slot together. */
#define BUFFERS_MAX (UINT64_C(1) << 30)

struct engine;
struct conn;

/* A host write in progress: its NVRAM ring ticket and the ops not done. */
struct hwrite {
	bool used;
	bool split_done;
	unsigned ticket;
	unsigned ops_left;
};

enum slot_state { SLOT_IDLE = 0, SLOT_WRITE, SLOT_VERIFY_DUE, SLOT_READBACK };

/* One command of a connection, and what it carries. */
struct slot {
	struct conn *c;
	enum slot_state state;
	struct mirror_cmd cmd;
	uint8_t *buf;
	struct hwrite *w;
	enum mirror_load_kind kind;
	uint32_t data_bytes, meta_bytes;
	bool verify;
	uint32_t op_lba;
	struct mirror_op_range rb[MIRROR_METADATA_SG_MAX];
	unsigned rb_n, rb_next;
};

struct conn {
	struct engine *e;
	unsigned index;
	struct mirror_transport *t;
	struct slot *slots;
	unsigned outstanding; /* commands in the transport */
	unsigned busy;        /* slots not idle (includes verify due) */
	bool dead;
	/* the host write being split */
	bool splitting;
	struct mirror_splitter sp;
	struct mirror_write mw;
	struct hwrite *cur;
	uint32_t next_sequence;
};

struct engine {
	const struct mirror_load_config *cfg;
	struct mirror_load_result *r;
	struct conn *conns;
	struct hwrite *writes;
	unsigned nwrites;
	struct mirror_load_gen gen;
	struct mirror_load_ring ring;
	struct mirror_load_rate rate;
	struct mirror_pattern pat;
	uint8_t *expect; /* the data a read-back should find */
	size_t slot_buf_len;
	uint32_t block_size;     /* write10: the LUN's */
	uint64_t generated;      /* host writes handed out */
	uint64_t mirror_ops;     /* mirror ops issued, for --verify-every */
	bool stop;               /* issue no more writes */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void mirror_load_config_init(struct mirror_load_config *c)
{
	memset(c, 0, sizeof(*c));
	c->policy = MIRROR_POLICY_AUTO;
	c->connections = 1;
	c->qd = 1;
	c->seed = 1;
	c->array_serial = UINT64_C(0x004C4F4144000001);
	c->array_number = 1;
	c->push_table = true;
	c->seconds = 5.0;
}

int mirror_load_config_check(const struct mirror_load_config *c, char *why, size_t why_len)
{
	if (!c->url)
		return mirror_fail(-EINVAL, why, why_len, "no target");
	if (!c->profile)
		return mirror_fail(-EINVAL, why, why_len, "no profile");
	if (!c->mix.n)
		return mirror_fail(-EINVAL, why, why_len, "--mix: no sizes");
	if (c->connections < 1 || c->connections > CONNECTIONS_MAX)
		return mirror_fail(-EINVAL, why, why_len, "--connections %u: must be 1..%u",
				   c->connections, CONNECTIONS_MAX);
	if (c->qd < 1 || c->qd > QD_MAX)
		return mirror_fail(-EINVAL, why, why_len, "--qd %u: must be 1..%u", c->qd, QD_MAX);
	if (!c->count && !(c->seconds > 0))
		return mirror_fail(-EINVAL, why, why_len, "neither --count nor --seconds");
	if (c->rate < 0)
		return mirror_fail(-EINVAL, why, why_len, "--rate must not be negative");
	/* every command slot holds one op's data: keep the total sane */
	uint64_t op_max = mirror_load_mix_max(&c->mix);
	if (c->mode == MIRROR_LOAD_MIRROR && op_max > OP_BYTES_MAX)
		op_max = OP_BYTES_MAX;
	uint64_t buffers = (uint64_t)c->connections * c->qd * (MIRROR_METADATA_BYTES + op_max);
	if (buffers > BUFFERS_MAX)
		return mirror_fail(-EINVAL, why, why_len,
				   "%u connections x QD %u of writes up to %llu bytes need %llu MiB of "
				   "buffers (at most %llu): fewer connections, a lower QD or smaller "
				   "writes", c->connections, c->qd, (unsigned long long)op_max,
				   (unsigned long long)(buffers >> 20),
				   (unsigned long long)(BUFFERS_MAX >> 20));
	if (c->mode == MIRROR_LOAD_PLAIN_WRITE10) {
		if (c->verify_every)
			return mirror_fail(-EINVAL, why, why_len,
					   "--verify-every needs NVRAM READBACK: not with write10");
		return 0;
	}
	if (c->region > 1)
		return mirror_fail(-EINVAL, why, why_len, "--region must be 0 or 1");
	uint64_t rlen = (uint64_t)mirror_region_end(c->profile, c->region) -
			mirror_region_start(c->profile, c->region);
	uint64_t inflight = (uint64_t)c->connections * (c->qd + 1u) * mirror_load_mix_max(&c->mix);
	if (inflight > rlen)
		return mirror_fail(-EINVAL, why, why_len,
				   "%u connections x QD %u of writes up to %u bytes could hold more "
				   "than NVRAM region %u (%llu bytes): fewer connections, a lower QD "
				   "or smaller writes", c->connections, c->qd,
				   (unsigned)mirror_load_mix_max(&c->mix), c->region,
				   (unsigned long long)rlen);
	uint64_t lba_count = c->lba_count ? c->lba_count : DEFAULT_LBA_COUNT;
	if (c->lba_first + lba_count > (UINT64_C(1) << 32))
		return mirror_fail(-EINVAL, why, why_len,
				   "the LBA range ends beyond 2^32 blocks, which the mirror commands "
				   "cannot address");
	return 0;
}

/* ---- completions ---- */

static void write_op_done(struct engine *e, struct hwrite *w)
{
	if (--w->ops_left || !w->split_done)
		return;
	if (e->cfg->mode == MIRROR_LOAD_MIRROR)
		mirror_load_ring_release(&e->ring, w->ticket);
	w->used = false;
	e->r->writes++;
}

static void slot_idle(struct slot *s)
{
	struct hwrite *w = s->w;

	s->state = SLOT_IDLE;
	s->w = NULL;
	s->c->busy--;
	write_op_done(s->c->e, w);
}

/* A READBACK came back: compare it with the data the op carried. */
static void readback_done(struct slot *s)
{
	struct engine *e = s->c->e;
	struct mirror_cmd *c = &s->cmd;
	const struct mirror_op_range *rg = &s->rb[s->rb_next];
	struct mirror_readback rb;
	struct mirror_miscompare mc;

	e->r->readbacks++;
	if (mirror_cmd_exit_status(c) != MIRROR_EXIT_OK) {
		e->r->verify_errors++;
		if (c->result < 0)
			mirror_load_result_note(e->r, "NVRAM READBACK: %s",
						mirror_transport_error(s->c->t));
		else if (c->status == MIRROR_STATUS_CHECK_CONDITION && c->sense_len) {
			char d[160];
			mirror_sense_describe(&c->sense_parsed, d, sizeof(d));
			mirror_load_result_note(e->r, "NVRAM READBACK of 0x%08X: %s",
						(unsigned)rg->nvram_addr, d);
		} else {
			mirror_load_result_note(e->r, "NVRAM READBACK of 0x%08X: status %s",
						(unsigned)rg->nvram_addr,
						mirror_status_name(c->status));
		}
		slot_idle(s);
		return;
	}
	if (mirror_cmd_readback_parse(c, &rb) < 0) {
		e->r->verify_errors++;
		mirror_load_result_note(e->r, "malformed NVRAM READBACK response (%u bytes) for "
					"0x%08X", (unsigned)c->data_in_got, (unsigned)rg->nvram_addr);
		slot_idle(s);
		return;
	}
	/* the op's data is the pattern of its LBAs: regenerate this range's */
	mirror_pattern_fill(&e->pat, s->op_lba + rg->data_offset / MIRROR_BLOCK_SIZE, e->expect,
			    rg->bytes);
	if (mirror_readback_compare(&rb, rg->nvram_addr, e->expect, rg->bytes, &mc) != 0) {
		e->r->miscompares++;
		if (mc.invalid)
			mirror_load_result_note(e->r, "MISCOMPARE at NVRAM 0x%08X: block not "
						"marked valid", (unsigned)mc.nvram_addr);
		else
			mirror_load_result_note(e->r, "MISCOMPARE at NVRAM 0x%08X: expected 0x%02X, "
						"got 0x%02X", (unsigned)mc.nvram_addr, mc.expected,
						mc.got);
		slot_idle(s);
		return;
	}
	if (++s->rb_next < s->rb_n) {
		s->state = SLOT_VERIFY_DUE;
		return;
	}
	e->r->verified++;
	slot_idle(s);
}

static void cmd_done(struct mirror_cmd *c)
{
	struct slot *s = c->user;
	struct engine *e = s->c->e;

	s->c->outstanding--;
	if (s->state == SLOT_READBACK) {
		readback_done(s);
		return;
	}
	mirror_load_result_add(e->r, s->kind, c, s->data_bytes, s->meta_bytes,
			       c->result < 0 ? mirror_transport_error(s->c->t) : NULL);
	if (s->verify && c->result == 0 && c->status == MIRROR_STATUS_GOOD && !c->data_in_got) {
		s->rb_next = 0;
		s->state = SLOT_VERIFY_DUE;
		return;
	}
	slot_idle(s);
}

/* ---- building commands ---- */

static struct hwrite *new_hwrite(struct engine *e)
{
	for (unsigned i = 0; i < e->nwrites; i++)
		if (!e->writes[i].used) {
			memset(&e->writes[i], 0, sizeof(e->writes[i]));
			e->writes[i].used = true;
			return &e->writes[i];
		}
	return NULL; /* cannot happen: a connection holds at most QD + 1 */
}

/* Takes the next host write for connection c: 1, 0 when no more may go
 * now (count reached, time up, rate, ring full), or a negative error. */
static int next_write(struct engine *e, struct conn *c, uint64_t now)
{
	const struct mirror_load_config *cfg = e->cfg;
	char why[160];

	if (e->stop)
		return 0;
	if (cfg->count && e->generated >= cfg->count) {
		e->stop = true;
		return 0;
	}
	if (cfg->stop && *cfg->stop) {
		e->stop = true;
		return 0;
	}
	if (cfg->mode == MIRROR_LOAD_MIRROR && e->ring.count == e->ring.cap)
		return 0;
	if (!mirror_load_rate_take(&e->rate, now))
		return 0;
	/* the ring is checked before the generator moves: the stream stays
	 * the same whatever the timing */
	struct mirror_load_gen saved = e->gen;
	uint32_t bytes, lba, addr = 0;
	mirror_load_gen_next(&e->gen, &bytes, &lba);
	struct hwrite *w = NULL;
	if (cfg->mode == MIRROR_LOAD_MIRROR) {
		unsigned ticket;
		int rc = mirror_load_ring_alloc(&e->ring, bytes, &addr, &ticket);
		if (rc < 0) {
			e->gen = saved;
			e->rate.granted--;
			return rc == -EAGAIN ? 0 : rc;
		}
		w = new_hwrite(e);
		if (!w) {
			mirror_load_ring_release(&e->ring, ticket);
			return -ENOSPC;
		}
		w->ticket = ticket;
		memset(&c->mw, 0, sizeof(c->mw));
		c->mw.lba = lba;
		c->mw.bytes = bytes;
		c->mw.nvram_addr = addr;
		c->mw.region = cfg->region;
		c->mw.volume = cfg->volume;
		c->mw.array_serial = cfg->array_serial;
		c->mw.array_number = cfg->array_number;
		struct mirror_sender_state st = { false, true };
		rc = mirror_split_init(&c->sp, cfg->profile, &c->mw, &st, cfg->policy,
				       c->next_sequence, why, sizeof(why));
		if (rc < 0) {
			mirror_load_result_note(e->r, "cannot split a write: %s", why);
			mirror_load_ring_release(&e->ring, ticket);
			w->used = false;
			return rc;
		}
	} else {
		w = new_hwrite(e);
		if (!w)
			return -ENOSPC;
		c->mw.lba = lba;
		c->mw.bytes = bytes;
	}
	e->generated++;
	c->cur = w;
	c->splitting = true;
	return 1;
}

/* Fills slot s with the next command of c's current write.  1, 0 when
 * the write has no more ops, or a negative error. */
static int build_next(struct engine *e, struct conn *c, struct slot *s)
{
	const struct mirror_load_config *cfg = e->cfg;
	struct mirror_cmd *cmd = &s->cmd;

	s->verify = false;
	if (cfg->mode == MIRROR_LOAD_PLAIN_WRITE10) {
		/* one WRITE(10) per host write, the LBA scaled to the LUN's
		 * blocks (the mix was checked to fit its 16-bit length) */
		uint32_t lba = (uint32_t)((uint64_t)c->mw.lba * MIRROR_BLOCK_SIZE / e->block_size);
		uint16_t blocks = (uint16_t)(c->mw.bytes / e->block_size);
		mirror_pattern_fill(&e->pat, c->mw.lba, s->buf, (size_t)c->mw.bytes);
		mirror_cmd_write10(cmd, lba, blocks, s->buf, (uint32_t)c->mw.bytes);
		cmd->user = s;
		s->kind = MIRROR_LOAD_WRITE10;
		s->data_bytes = (uint32_t)c->mw.bytes;
		s->meta_bytes = 0;
		c->splitting = false;
		return 1;
	}
	struct mirror_op op;
	if (mirror_split_next(&c->sp, &op) == 0) {
		c->splitting = false;
		return 0;
	}
	c->next_sequence = c->sp.next_sequence;
	uint32_t bytes = op.blocks * MIRROR_BLOCK_SIZE;
	mirror_pattern_fill(&e->pat, op.lba, s->buf + MIRROR_METADATA_BYTES, bytes);
	int rc = mirror_cmd_op(cmd, cfg->profile, &op, &c->mw, s->buf, e->slot_buf_len);
	cmd->user = s;
	if (rc < 0) {
		mirror_load_result_note(e->r, "cannot encode a %s op at NVRAM 0x%08X: %s",
					mirror_path_name(op.path), (unsigned)op.sg[0].nvram_addr,
					mirror_strerror(rc));
		c->splitting = false;
		return rc;
	}
	s->kind = op.path == MIRROR_PATH_LARGE ? MIRROR_LOAD_LARGE : MIRROR_LOAD_SMALL;
	s->meta_bytes = op.path == MIRROR_PATH_LARGE ? MIRROR_METADATA_BYTES : 0;
	s->data_bytes = bytes;
	e->mirror_ops++;
	if (cfg->verify_every && e->mirror_ops % cfg->verify_every == 0) {
		s->verify = true;
		s->op_lba = op.lba;
		s->rb_n = mirror_op_ranges(&op, s->rb, MIRROR_METADATA_SG_MAX);
	}
	if (c->sp.done == c->sp.w.bytes)
		c->splitting = false;
	return 1;
}

/* The slot's buffer holds the read-back of an op's largest range
 * (mirror_load_run sized it), so this cannot fail. */
static void build_readback(struct engine *e, struct slot *s)
{
	const struct mirror_op_range *rg = &s->rb[s->rb_next];

	mirror_cmd_readback(&s->cmd, e->cfg->profile, rg->nvram_addr, rg->bytes / MIRROR_BLOCK_SIZE,
			    false, s->buf, e->slot_buf_len);
	s->cmd.user = s;
}

static struct slot *free_slot(struct engine *e, struct conn *c)
{
	for (unsigned i = 0; i < e->cfg->qd; i++)
		if (c->slots[i].state == SLOT_IDLE)
			return &c->slots[i];
	return NULL;
}

static void conn_failed(struct engine *e, struct conn *c)
{
	mirror_load_result_note(e->r, "connection %u: %s", c->index, mirror_transport_error(c->t));
	c->dead = true;
}

static int submit(struct engine *e, struct conn *c, struct slot *s)
{
	int rc = mirror_transport_submit(c->t, &s->cmd, cmd_done);

	if (rc == -EAGAIN)
		return 0;
	if (rc < 0) {
		conn_failed(e, c);
		return rc;
	}
	c->outstanding++;
	return 1;
}

/* Keeps c at QD commands while there is more to send. */
static void top_up(struct engine *e, struct conn *c, uint64_t now)
{
	if (c->dead) {
		/* read-backs that can no longer go count as failed */
		for (unsigned i = 0; i < e->cfg->qd; i++)
			if (c->slots[i].state == SLOT_VERIFY_DUE) {
				e->r->verify_errors++;
				slot_idle(&c->slots[i]);
			}
	}
	/* read-backs due first: they hold their write's NVRAM */
	for (unsigned i = 0; i < e->cfg->qd && !c->dead; i++) {
		struct slot *s = &c->slots[i];
		if (s->state != SLOT_VERIFY_DUE)
			continue;
		build_readback(e, s);
		s->state = SLOT_READBACK;
		int rc = submit(e, c, s);
		if (rc <= 0) {
			s->state = SLOT_VERIFY_DUE;
			if (rc < 0)
				break;
			return;
		}
	}
	while (!c->dead) {
		struct slot *s = free_slot(e, c);
		if (!s)
			return;
		if (!c->splitting) {
			int rc = next_write(e, c, now);
			if (rc <= 0) {
				if (rc < 0)
					conn_failed(e, c);
				return;
			}
		}
		int rc = build_next(e, c, s);
		if (rc < 0) {
			c->dead = true;
			break;
		}
		if (rc == 0) {
			/* the write had no more ops: it may now be complete */
			c->cur->split_done = true;
			c->cur->ops_left++;
			write_op_done(e, c->cur);
			continue;
		}
		s->w = c->cur;
		s->state = SLOT_WRITE;
		c->busy++;
		c->cur->ops_left++;
		if (!c->splitting)
			c->cur->split_done = true;
		rc = submit(e, c, s);
		if (rc == 1)
			continue;
		/* not sent: count it as failed, so the write completes */
		mirror_load_result_add(e->r, s->kind, &(struct mirror_cmd){ .result = -EIO },
				       0, 0, mirror_transport_error(c->t));
		slot_idle(s);
		if (rc == 0)
			return;
	}
	/* a dead connection abandons its write in progress */
	if (c->dead && c->splitting) {
		c->splitting = false;
		c->cur->split_done = true;
		c->cur->ops_left++;
		write_op_done(e, c->cur);
	}
}

/* ---- setup ---- */

static int push_table(struct engine *e, char *err, size_t err_len)
{
	const struct mirror_load_config *cfg = e->cfg;
	struct mirror_array_table tab;
	uint8_t param[MIRROR_TABLE_MAX_BYTES];
	struct mirror_cmd c;

	mirror_array_table_init(&tab);
	mirror_array_table_add(&tab, cfg->volume, cfg->array_serial, cfg->array_number);
	int rc = mirror_cmd_table_push(&c, cfg->profile, &tab, param, sizeof(param));
	if (rc < 0)
		return mirror_fail(rc, err, err_len, "cannot encode ARRAY TABLE UPDATE: %s",
				   mirror_strerror(rc));
	mirror_transport_run(e->conns[0].t, &c);
	int st = mirror_cmd_exit_status(&c);
	if (st != MIRROR_EXIT_OK)
		return mirror_fail(MIRROR_E_NOT_MIRROR, err, err_len,
				   "ARRAY TABLE UPDATE (0x%02X) failed: %s: not a mirror receiver, "
				   "or a different --profile/--opcodes", c.cdb[0],
				   c.result < 0 ? mirror_transport_error(e->conns[0].t)
						: mirror_exit_name(st));
	return 0;
}

/* READ CAPACITY(10): the LUN's block size and, unless given, the range. */
static int read_capacity(struct engine *e, uint64_t *blocks512, char *err, size_t err_len)
{
	uint8_t d[MIRROR_READ_CAPACITY10_LEN];
	struct mirror_cmd c;
	uint64_t blocks;

	mirror_cmd_read_capacity10(&c, d);
	mirror_transport_run(e->conns[0].t, &c);
	int st = mirror_cmd_exit_status(&c);
	if (st != MIRROR_EXIT_OK || mirror_cmd_read_capacity10_parse(&c, &blocks, &e->block_size) < 0)
		return mirror_fail(-EIO, err, err_len, "READ CAPACITY(10) failed: %s",
				   c.result < 0 ? mirror_transport_error(e->conns[0].t)
				   : st ? mirror_exit_name(st)
					: c.data_in_got < 8 ? "short answer" : "block size 0");
	if (e->block_size < MIRROR_BLOCK_SIZE || e->block_size > 65536 ||
	    e->block_size % MIRROR_BLOCK_SIZE)
		return mirror_fail(-EIO, err, err_len, "READ CAPACITY(10): block size %u",
				   (unsigned)e->block_size);
	for (unsigned i = 0; i < e->cfg->mix.n; i++)
		if (e->cfg->mix.bytes[i] % e->block_size ||
		    e->cfg->mix.bytes[i] / e->block_size > 0xFFFFu)
			return mirror_fail(-EINVAL, err, err_len,
					   "--mix size %u does not fit WRITE(10) on %u-byte blocks",
					   (unsigned)e->cfg->mix.bytes[i], (unsigned)e->block_size);
	*blocks512 = blocks * (e->block_size / MIRROR_BLOCK_SIZE);
	return 0;
}

/* The Block Limits VPD page (SBC-3 6.5.3): a write longer than its
 * MAXIMUM TRANSFER LENGTH (bytes 8-11, in blocks; 0: no limit) is refused
 * by the target (ILLEGAL REQUEST, INVALID FIELD IN CDB), so a mix that
 * holds one is refused here, before the run, as a host would split it.
 * A target without the page (CHECK CONDITION, or a short answer) sets no
 * limit. */
static int check_block_limits(struct engine *e, char *err, size_t err_len)
{
	uint8_t d[64];
	struct mirror_cmd c;
	uint32_t max_blocks;

	memset(&c, 0, sizeof(c));
	c.cdb[0] = 0x12;                  /* INQUIRY (SPC-4 6.6) */
	c.cdb[1] = 0x01;                  /* EVPD */
	c.cdb[2] = 0xB0;                  /* Block Limits */
	c.cdb[4] = sizeof(d);
	c.cdb_len = 6;
	c.dir = MIRROR_DIR_IN;
	c.data_in = d;
	c.data_in_len = sizeof(d);
	mirror_transport_run(e->conns[0].t, &c);
	if (c.result < 0)
		return mirror_fail(-EIO, err, err_len, "INQUIRY (Block Limits VPD) failed: %s",
				   mirror_transport_error(e->conns[0].t));
	if (c.status != 0 || c.data_in_got < 12 || d[1] != 0xB0)
		return 0;
	max_blocks = get_be32(d + 8);
	if (max_blocks == 0)
		return 0;
	for (unsigned i = 0; i < e->cfg->mix.n; i++)
		if (e->cfg->mix.bytes[i] / e->block_size > max_blocks)
			return mirror_fail(-EINVAL, err, err_len,
					   "--mix size %u is over the LUN's maximum transfer length, "
					   "%u blocks of %u bytes (Block Limits VPD page)",
					   (unsigned)e->cfg->mix.bytes[i], (unsigned)max_blocks,
					   (unsigned)e->block_size);
	return 0;
}

static int open_conns(struct engine *e, char *err, size_t err_len)
{
	const struct mirror_load_config *cfg = e->cfg;

	for (unsigned i = 0; i < cfg->connections; i++) {
		struct conn *c = &e->conns[i];
		struct mirror_transport_opts to = { 0 };
		char iname[160], why[512];

		c->e = e;
		c->index = i;
		c->next_sequence = 1;
		c->slots = calloc(cfg->qd, sizeof(*c->slots));
		if (!c->slots)
			return mirror_fail(-ENOMEM, err, err_len, "out of memory");
		for (unsigned k = 0; k < cfg->qd; k++) {
			c->slots[k].c = c;
			c->slots[k].buf = calloc(1, e->slot_buf_len);
			if (!c->slots[k].buf)
				return mirror_fail(-ENOMEM, err, err_len,
						   "out of memory for %u x %u buffers of %zu bytes",
						   cfg->connections, cfg->qd, e->slot_buf_len);
		}
		/* one name per connection: the receiver keeps each one's
		 * sequence numbers apart, and no login reinstates another */
		snprintf(iname, sizeof(iname), "%s-%u",
			 cfg->initiator_prefix ? cfg->initiator_prefix : MIRROR_LOAD_INITIATOR, i);
		to.initiator_name = iname;
		to.queue_depth = cfg->qd;
		to.command_timeout_ms = cfg->timeout_ms;
		c->t = mirror_transport_open(cfg->url, &to, why, sizeof(why));
		if (!c->t)
			return mirror_fail(-ECONNREFUSED, err, err_len, "connection %u: %s", i, why);
	}
	return 0;
}

static void close_all(struct engine *e)
{
	if (e->conns)
		for (unsigned i = 0; i < e->cfg->connections; i++) {
			struct conn *c = &e->conns[i];
			mirror_transport_close(c->t);
			if (c->slots)
				for (unsigned k = 0; k < e->cfg->qd; k++)
					free(c->slots[k].buf);
			free(c->slots);
		}
	free(e->conns);
	free(e->writes);
	free(e->expect);
	mirror_load_ring_free(&e->ring);
}

/* ---- the loop ---- */

/* Results of the wait: a connection whose transport failed is dead. */
static void note_failures(struct engine *e, const int *results)
{
	for (unsigned i = 0; i < e->cfg->connections; i++)
		if (results[i] < 0 && !e->conns[i].dead)
			conn_failed(e, &e->conns[i]);
}

/* The run's clock: when it started, when it ends (never, for a count),
 * and the progress line's pace. */
struct run_clock {
	uint64_t start, end;
	uint64_t last_progress, progress_ns;
};

static unsigned busy_conns(const struct engine *e)
{
	unsigned busy = 0;
	for (unsigned i = 0; i < e->cfg->connections; i++)
		busy += e->conns[i].busy != 0;
	return busy;
}

/* How long poll may sleep.  The transports' own limits (deadlines,
 * sessions without a socket) are mirror_transport_poll_many's; these are
 * the load's: the end, the rate, the progress line. */
static int wait_ms(struct engine *e, const struct run_clock *k, uint64_t now)
{
	const struct mirror_load_config *cfg = e->cfg;
	uint64_t wait = SWEEP_MS;

	if (!e->stop && k->end != UINT64_MAX) {
		uint64_t left = k->end > now ? (k->end - now + 999999u) / 1000000u : 0;
		if (left < wait)
			wait = left;
	}
	if (!e->stop && cfg->rate > 0) {
		uint64_t w = (mirror_load_rate_wait(&e->rate, now) + 999999u) / 1000000u;
		if (w < wait)
			wait = w;
	}
	if (cfg->progress && wait > k->progress_ns / 1000000u)
		wait = k->progress_ns / 1000000u;
	return (int)wait;
}

/* Sends what each connection has room for; true if any is still alive. */
static bool top_up_all(struct engine *e, uint64_t now)
{
	bool live = false;
	for (unsigned i = 0; i < e->cfg->connections; i++) {
		top_up(e, &e->conns[i], now);
		live |= !e->conns[i].dead;
	}
	return live;
}

static bool any_outstanding(const struct engine *e)
{
	for (unsigned i = 0; i < e->cfg->connections; i++)
		if (e->conns[i].outstanding > 0)
			return true;
	return false;
}

static void progress(struct engine *e, struct run_clock *k, uint64_t now)
{
	const struct mirror_load_config *cfg = e->cfg;

	if (!cfg->progress || now - k->last_progress < k->progress_ns)
		return;
	k->last_progress = now;
	e->r->elapsed_ns = now - k->start;
	cfg->progress(cfg->progress_ctx, e->r);
}

/* One round: wait for the transports, count what completed, send more.
 * false when the run is over. */
static bool step(struct engine *e, struct mirror_transport_poller *poller,
		 struct mirror_transport **ts, int *results, struct run_clock *k)
{
	const struct mirror_load_config *cfg = e->cfg;
	unsigned busy = busy_conns(e);
	uint64_t now = now_ns();

	if (!busy && (e->stop || now >= k->end))
		return false;
	int rc = mirror_transport_poll_many(poller, ts, cfg->connections, wait_ms(e, k, now),
					    results);
	if (rc < 0) {
		mirror_load_result_note(e->r, "poll: %s", mirror_strerror(rc));
		return false;
	}
	note_failures(e, results);
	now = now_ns();
	if (!e->stop && (now >= k->end || (cfg->stop && *cfg->stop)))
		e->stop = true;
	/* every connection failed: what is left will not complete */
	if (!top_up_all(e, now) && (!busy || !any_outstanding(e)))
		return false;
	progress(e, k, now);
	return true;
}

static void loop(struct engine *e)
{
	const struct mirror_load_config *cfg = e->cfg;
	unsigned n_conn = cfg->connections;
	struct mirror_transport_poller *poller = mirror_transport_poller_new(n_conn);
	struct mirror_transport **ts = calloc(n_conn, sizeof(*ts));
	int *results = calloc(n_conn, sizeof(*results));
	struct run_clock k = { .start = now_ns() };

	k.end = cfg->count ? UINT64_MAX : k.start + (uint64_t)(cfg->seconds * 1e9);
	k.last_progress = k.start;
	k.progress_ns = (uint64_t)(cfg->progress_ms ? cfg->progress_ms : 1000u) * 1000000u;
	if (!poller || !ts || !results) {
		mirror_load_result_note(e->r, "out of memory");
	} else {
		for (unsigned i = 0; i < n_conn; i++)
			ts[i] = e->conns[i].t;
		mirror_load_rate_init(&e->rate, cfg->rate, RATE_BURST, k.start);
		top_up_all(e, k.start);
		while (step(e, poller, ts, results, &k))
			;
	}
	e->r->elapsed_ns = now_ns() - k.start;
	mirror_transport_poller_free(poller);
	free(ts);
	free(results);
}

int mirror_load_run(const struct mirror_load_config *cfg, struct mirror_load_result *r, char *err,
		    size_t err_len)
{
	struct engine e;
	char why[256];
	int rc;

	mirror_load_result_init(r);
	if (mirror_load_config_check(cfg, why, sizeof(why)) < 0)
		return mirror_fail(-EINVAL, err, err_len, "%s", why);
	memset(&e, 0, sizeof(e));
	e.cfg = cfg;
	e.r = r;
	e.pat.kind = MIRROR_PATTERN_RANDOM;
	e.pat.seed = cfg->seed;
	uint32_t op_max = mirror_load_mix_max(&cfg->mix);
	if (cfg->mode == MIRROR_LOAD_MIRROR && op_max > OP_BYTES_MAX)
		op_max = OP_BYTES_MAX;
	/* room for the metadata and the data, or for a read-back of it */
	e.slot_buf_len = MIRROR_METADATA_BYTES + op_max;
	size_t rb_len = MIRROR_READBACK_HEADER_BYTES +
			mirror_readback_bitmap_len(op_max / MIRROR_BLOCK_SIZE) + op_max;
	if (rb_len > e.slot_buf_len)
		e.slot_buf_len = rb_len;
	e.nwrites = cfg->connections * (cfg->qd + 1u);
	e.writes = calloc(e.nwrites, sizeof(*e.writes));
	e.conns = calloc(cfg->connections, sizeof(*e.conns));
	e.expect = malloc(op_max);
	if (!e.writes || !e.conns || !e.expect) {
		rc = mirror_fail(-ENOMEM, err, err_len, "out of memory");
		goto out;
	}
	rc = open_conns(&e, err, err_len);
	if (rc < 0)
		goto out;
	uint64_t lba_count = cfg->lba_count ? cfg->lba_count : DEFAULT_LBA_COUNT;
	if (cfg->mode == MIRROR_LOAD_PLAIN_WRITE10) {
		uint64_t lun = 0;
		rc = read_capacity(&e, &lun, err, err_len);
		if (rc < 0)
			goto out;
		rc = check_block_limits(&e, err, err_len);
		if (rc < 0)
			goto out;
		if (lun > (UINT64_C(1) << 32))
			lun = UINT64_C(1) << 32;
		if (!cfg->lba_count || cfg->lba_first + lba_count > lun)
			lba_count = lun > cfg->lba_first ? lun - cfg->lba_first : 0;
	} else {
		rc = mirror_load_ring_init(&e.ring, mirror_region_start(cfg->profile, cfg->region),
					   mirror_region_end(cfg->profile, cfg->region), e.nwrites);
		if (rc < 0) {
			mirror_fail(rc, err, err_len, "NVRAM ring: %s", mirror_strerror(rc));
			goto out;
		}
		if (cfg->push_table) {
			rc = push_table(&e, err, err_len);
			if (rc < 0)
				goto out;
		}
	}
	rc = mirror_load_gen_init(&e.gen, &cfg->mix, cfg->lba_mode, cfg->lba_first, lba_count,
				  cfg->seed, why, sizeof(why));
	if (rc < 0) {
		mirror_fail(rc, err, err_len, "%s", why);
		goto out;
	}
	loop(&e);
	rc = 0;
out:
	close_all(&e);
	return rc;
}
