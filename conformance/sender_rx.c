/* The recording receiver of mirror-conform --check-sender (sender.h): the
 * partner a prototype's mirror link logs in to.  lib/model's receiver
 * stores and answers as mirror-emu does, as the LUN 0 of libmirror's
 * target (mirror_tgt_new_receiver_hooked); the suite's hooks around it
 * record every command (CDB, data-out length, the metadata's
 * S/G list and sequence number, arrival and status times, the session)
 * and can hold a status back (a known delay; the array table's until
 * released) or answer CHECK CONDITION instead, on demand from the main
 * thread.  The socket loop (app/emu/server.c) runs in a thread of its
 * own; everything the two threads share is under one mutex. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mirror/nvram.h>
#include <mirror/receiver.h>

#include "app/emu/server.h"
#include "base/bytes.h"
#include "iscsi/target.h"
#include "sender.h"

#define TICK_MS 2u
#define ENDED_MAX 64u

/* A command's own state: the hook task of the receiver LU
 * (struct mirror_rx_lu_hooks), zeroed at its begin. */
struct snd_task {
	size_t rec;               /* index into ops, +1 (0: not recorded) */
	/* a held status */
	bool held;
	bool until_release;       /* the table: until snd_rx_hold_tables(false) */
	uint64_t due_ms;
	struct mirror_tgt_action act;
	struct mirror_tgt_cmd *cmd;
	struct snd_task *next;
};

struct snd_rx_state {
	pthread_mutex_t mu;
	pthread_t th;
	bool th_running;
	struct mirror_emu_server *srv;
	struct mirror_tgt *tgt;
	struct mirror_nvram_mem mem;
	struct mirror_nvram nv;
	struct mirror_receiver rx;
	char portal[64], iqn[224];
	/* what arrived */
	struct snd_op *ops;
	size_t n, cap;
	uint64_t ended[ENDED_MAX];
	unsigned ended_n;
	uint64_t logins;
	uint64_t last_nexus;
	/* controls */
	unsigned delay_ms;
	bool hold_tables;
	unsigned check_next;
	bool pause_want, paused;
	/* held statuses: the loop's thread only */
	struct snd_task *held;
};

uint64_t snd_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void snd_sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000u, (long)(ms % 1000u) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- decoding by the wire profile (wire-profile.md) ---- */

/* Small path, the 12-byte 20-bit layout: byte 1 bits 7-4 the shared high
 * descriptor bits, bc1 in byte 1 bits 3-0 and byte 2 bits 7-6, bc2 in
 * byte 2 bits 5-0, the volume in byte 3, descriptor lows in bytes 4-5 and
 * 6-7, the LBA in bytes 8-11.  Other layouts through libmirror's decoder. */
static void decode_small(const struct mirror_profile *p, struct snd_op *o)
{
	const uint8_t *b = o->cdb;

	o->opcode = b[0];
	o->region = mirror_small_opcode_region(p, b[0]);
	if (p->small_layout == MIRROR_SMALL_CDB12_20BIT) {
		unsigned bc1 = (unsigned)((b[1] & 0x0Fu) << 2) | (unsigned)(b[2] >> 6);
		unsigned bc2 = b[2] & 0x3Fu;
		uint32_t hi = (uint32_t)(b[1] >> 4) << 16;
		o->cei_high = (uint8_t)(b[1] >> 4);
		o->volume = b[3];
		o->lba = ((uint32_t)b[8] << 24) | ((uint32_t)b[9] << 16) | ((uint32_t)b[10] << 8) | b[11];
		o->sg_n = 0;
		o->sg[0].nvram_addr = (hi | ((uint32_t)b[4] << 8 | b[5])) * MIRROR_BLOCK_SIZE;
		o->sg[0].bytes = bc1 * MIRROR_BLOCK_SIZE;
		o->sg_n = bc1 ? 1 : 0;
		if (bc2) {
			o->sg[o->sg_n].nvram_addr = (hi | ((uint32_t)b[6] << 8 | b[7])) * MIRROR_BLOCK_SIZE;
			o->sg[o->sg_n].bytes = bc2 * MIRROR_BLOCK_SIZE;
			o->sg_n++;
		}
		o->blocks = bc1 + bc2;
		o->decoded = true;
		return;
	}
	struct mirror_small_cdb s;
	struct mirror_check_ctx cx = MIRROR_CHECK_CTX_INIT;
	if (mirror_small_cdb_decode(p, b, o->cdb_len, &cx, &s, NULL) < 0)
		return;
	o->volume = s.volume;
	o->lba = s.lba;
	o->cei_high = s.cei_high;
	o->sg_n = 0;
	for (unsigned i = 0; i < s.slots; i++) {
		if (!s.sg[i].blocks)
			continue;
		o->sg[o->sg_n].nvram_addr = s.sg[i].descriptor * MIRROR_BLOCK_SIZE;
		o->sg[o->sg_n].bytes = s.sg[i].blocks * MIRROR_BLOCK_SIZE;
		o->sg_n++;
	}
	o->blocks = mirror_small_cdb_blocks(&s);
	o->decoded = true;
}

/* The 1024-byte metadata: sequence at 4, LBA at 8, blocks at 12, region
 * at 24, array number at 25, S/G elements from 512 (address, count), the
 * first zero count ends the list. */
static void decode_metadata(struct snd_op *o, const uint8_t *m)
{
	o->sequence = get_be32(m + 4);
	o->lba = get_be32(m + 8);
	o->blocks = get_be32(m + 12);
	o->region = m[24];
	o->array_number = m[25];
	o->sg_n = 0;
	for (unsigned i = 0; i < MIRROR_METADATA_SG_MAX; i++) {
		uint32_t bytes = get_be32(m + 512 + 8 * i + 4);
		if (!bytes)
			break;
		o->sg[i].nvram_addr = get_be32(m + 512 + 8 * i);
		o->sg[i].bytes = bytes;
		o->sg_n = i + 1;
	}
	o->decoded = true;
}

/* ---- the hooks around the receiver's logical unit ---- */

static struct snd_op *rec_of(struct snd_rx_state *s, const struct snd_task *k)
{
	return k->rec ? &s->ops[k->rec - 1] : NULL;
}

static void record(struct snd_rx_state *s, struct snd_task *k, const struct mirror_tgt_cmd *cmd)
{
	pthread_mutex_lock(&s->mu);
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		struct snd_op *o = realloc(s->ops, cap * sizeof(*o));
		if (!o) {
			pthread_mutex_unlock(&s->mu);
			return;
		}
		s->ops = o;
		s->cap = cap;
	}
	struct snd_op *o = &s->ops[s->n];
	memset(o, 0, sizeof(*o));
	o->index = s->n + 1;
	o->nexus = cmd->nexus;
	if (cmd->nexus != s->last_nexus) {
		s->last_nexus = cmd->nexus;
		s->logins++;
	}
	o->t_arrive_ns = snd_now_ns();
	o->cdb_len = cmd->cdb_len > 16 ? 16 : cmd->cdb_len;
	memcpy(o->cdb, cmd->cdb, o->cdb_len);
	o->edtl = cmd->edtl;
	o->opcode = cmd->cdb[0];
	o->region = -1;
	bool out = cmd->dir == MIRROR_DIR_OUT;
	const struct mirror_profile *p = &s->rx.profile;
	if (out && cmd->cdb[0] == p->op.notify)
		o->kind = SND_LARGE;
	else if (out && mirror_small_opcode_region(p, cmd->cdb[0]) >= 0)
		o->kind = SND_SMALL;
	else if (out && cmd->cdb[0] == p->op.table_update)
		o->kind = SND_TABLE;
	if (o->kind == SND_SMALL)
		decode_small(p, o);
	k->rec = ++s->n;
	pthread_mutex_unlock(&s->mu);
}

static bool is_mirror(const struct snd_op *o)
{
	return o && (o->kind == SND_SMALL || o->kind == SND_LARGE);
}

/* The final answer of a command: recorded, replaced, or held back. */
static void finish(void *arg, struct mirror_tgt_cmd *cmd, void *task, struct mirror_tgt_action *act)
{
	struct snd_rx_state *s = arg;
	struct snd_task *k = task;

	pthread_mutex_lock(&s->mu);
	struct snd_op *o = rec_of(s, k);
	unsigned delay = 0;
	bool until_release = false;
	if (o && is_mirror(o)) {
		if (s->check_next) {
			/* the partner fails it: HARDWARE ERROR, INTERNAL TARGET
			 * FAILURE (SPC-4 4.5.6) */
			s->check_next--;
			mirror_tgt_action_check(act, MIRROR_SK_HARDWARE_ERROR, 0x44, 0x00);
			o->forced_check = true;
		}
		delay = s->delay_ms;
	} else if (o && o->kind == SND_TABLE && s->hold_tables) {
		until_release = true;
	}
	if (o && !delay && !until_release) {
		o->done = true;
		o->status = act->status;
		o->t_status_ns = snd_now_ns();
	}
	pthread_mutex_unlock(&s->mu);
	if (!delay && !until_release)
		return;
	k->held = true;
	k->until_release = until_release;
	k->due_ms = mirror_emu_now_ms() + delay;
	k->act = *act;
	k->cmd = cmd;
	k->next = s->held;
	s->held = k;
	memset(act, 0, sizeof(*act));
	act->kind = MIRROR_TGT_PENDING;
}

static void hk_begin(void *arg, struct mirror_tgt_cmd *cmd, void *task)
{
	record(arg, task, cmd);
}

/* The metadata of a large op as it arrives (the first 1024 bytes). */
static void hk_data(void *arg, struct mirror_tgt_cmd *cmd, void *task, uint32_t offset,
		    const uint8_t *buf, uint32_t len)
{
	struct snd_rx_state *s = arg;

	(void)cmd;
	if (offset != 0 || len < MIRROR_METADATA_BYTES)
		return;
	pthread_mutex_lock(&s->mu);
	struct snd_op *o = rec_of(s, task);
	if (o && o->kind == SND_LARGE && !o->decoded)
		decode_metadata(o, buf);
	pthread_mutex_unlock(&s->mu);
}

static void unhold(struct snd_rx_state *s, struct snd_task *k)
{
	for (struct snd_task **pp = &s->held; *pp; pp = &(*pp)->next) {
		if (*pp == k) {
			*pp = k->next;
			break;
		}
	}
	k->held = false;
}

static void hk_abort(void *arg, struct mirror_tgt_cmd *cmd, void *task)
{
	struct snd_rx_state *s = arg;
	struct snd_task *k = task;

	(void)cmd;
	if (k->held)
		unhold(s, k);
	pthread_mutex_lock(&s->mu);
	struct snd_op *o = rec_of(s, k);
	if (o)
		o->aborted = true;
	pthread_mutex_unlock(&s->mu);
}

static void hk_end(void *arg, struct mirror_tgt_cmd *cmd, void *task)
{
	struct snd_task *k = task;

	(void)cmd;
	if (k->held)
		unhold(arg, k);
}

static void hk_nexus_end(void *arg, uint64_t nexus)
{
	struct snd_rx_state *s = arg;

	pthread_mutex_lock(&s->mu);
	s->ended[s->ended_n++ % ENDED_MAX] = nexus;
	pthread_mutex_unlock(&s->mu);
}


/* ---- the loop's clock: held statuses, the listener ---- */

static int tick(void *arg, uint64_t now)
{
	struct snd_rx_state *s = arg;
	bool hold_tables, pause;

	pthread_mutex_lock(&s->mu);
	hold_tables = s->hold_tables;
	pause = s->pause_want;
	pthread_mutex_unlock(&s->mu);
	if (pause != s->paused) {
		/* paused: its connections closed, new ones left in the backlog */
		mirror_emu_server_pause_listener(s->srv, 0, pause);
		s->paused = pause;
	}
	for (struct snd_task **pp = &s->held; *pp;) {
		struct snd_task *k = *pp;
		if (k->until_release ? hold_tables : now < k->due_ms) {
			pp = &k->next;
			continue;
		}
		*pp = k->next;
		k->held = false;
		pthread_mutex_lock(&s->mu);
		struct snd_op *o = rec_of(s, k);
		if (o) {
			o->done = true;
			o->status = k->act.status;
			o->t_status_ns = snd_now_ns();
		}
		pthread_mutex_unlock(&s->mu);
		mirror_tgt_cmd_complete(k->cmd, &k->act);
	}
	return TICK_MS;
}

static void *loop(void *arg)
{
	struct snd_rx_state *s = arg;

	mirror_emu_server_run(s->srv);
	return NULL;
}

int snd_rx_start(struct snd_rx *r, const struct snd_rx_config *cfg, char *why, size_t why_len)
{
	struct snd_rx_state *s = calloc(1, sizeof(*s));
	struct mirror_emu_config ec;
	struct mirror_tgt_config tc;
	int rc;

	r->s = s;
	if (!s)
		return conf_errorf(-ENOMEM, why, why_len, "out of memory");
	pthread_mutex_init(&s->mu, NULL);
	s->hold_tables = cfg->hold_tables; /* before anyone can log in */
	rc = mirror_nvram_mem_open(&s->mem, &cfg->profile, NULL, why, why_len);
	if (rc < 0)
		return rc;
	if ((rc = mirror_nvram_init(&s->nv, &cfg->profile, s->mem.data, s->mem.bitmap)) < 0 ||
	    (rc = mirror_rx_init(&s->rx, &cfg->profile, cfg->role, &s->nv)) < 0)
		return conf_errorf(rc, why, why_len, "cannot set up the receiver (%d)", rc);
	snprintf(s->rx.product, sizeof(s->rx.product), "CONFORM PARTNER");
	mirror_emu_config_init(&ec);
	ec.listen = cfg->listen;
	rc = mirror_emu_server_new(&ec, &s->srv, why, why_len);
	if (rc < 0)
		return rc;
	snprintf(s->portal, sizeof(s->portal), "%s", mirror_emu_server_portal(s->srv));
	snprintf(s->iqn, sizeof(s->iqn), "%s", cfg->target_name);
	mirror_tgt_config_init(&tc);
	tc.target_name = s->iqn;
	tc.portal = s->portal;
	struct mirror_rx_lu_hooks hooks = {
		.arg = s,
		.task_size = sizeof(struct snd_task),
		.begin = hk_begin,
		.data = hk_data,
		.respond = finish,
		.abort = hk_abort,
		.end = hk_end,
		.nexus_end = hk_nexus_end,
	};
	rc = mirror_tgt_new_receiver_hooked(&tc, &s->rx, &hooks, &s->tgt, why, why_len);
	if (rc < 0)
		return rc;
	mirror_emu_server_attach(s->srv, s->tgt);
	mirror_emu_server_on_tick(s->srv, tick, s);
	if (pthread_create(&s->th, NULL, loop, s) != 0)
		return conf_errorf(-EAGAIN, why, why_len, "cannot start the receiver's thread");
	s->th_running = true;
	return 0;
}

void snd_rx_stop(struct snd_rx *r)
{
	struct snd_rx_state *s = r->s;
	char why[128];

	if (!s)
		return;
	if (s->th_running) {
		mirror_emu_server_stop(s->srv);
		pthread_join(s->th, NULL);
	}
	if (s->srv)
		mirror_emu_server_free(s->srv);
	if (s->tgt)
		mirror_tgt_free(s->tgt);
	mirror_nvram_mem_close(&s->mem, why, sizeof(why));
	free(s->ops);
	pthread_mutex_destroy(&s->mu);
	free(s);
	r->s = NULL;
}

const char *snd_rx_portal(const struct snd_rx *r)
{
	return r->s->portal;
}

#define LOCKED(s, stmt)                     \
	do {                                \
		pthread_mutex_lock(&(s)->mu);   \
		stmt;                           \
		pthread_mutex_unlock(&(s)->mu); \
	} while (0)

void snd_rx_set_delay(struct snd_rx *r, unsigned ms)
{
	LOCKED(r->s, r->s->delay_ms = ms);
}

void snd_rx_hold_tables(struct snd_rx *r, bool hold)
{
	LOCKED(r->s, r->s->hold_tables = hold);
}

void snd_rx_check_next(struct snd_rx *r, unsigned n)
{
	LOCKED(r->s, r->s->check_next = n);
}

void snd_rx_pause(struct snd_rx *r, bool paused)
{
	LOCKED(r->s, r->s->pause_want = paused);
}

size_t snd_rx_count(struct snd_rx *r)
{
	size_t n;

	LOCKED(r->s, n = r->s->n);
	return n;
}

bool snd_rx_get(struct snd_rx *r, size_t i, struct snd_op *out)
{
	bool ok = false;

	LOCKED(r->s, if (i < r->s->n) { *out = r->s->ops[i]; ok = true; });
	return ok;
}

bool snd_rx_nexus_ended(struct snd_rx *r, uint64_t nexus)
{
	bool ended = false;

	pthread_mutex_lock(&r->s->mu);
	for (unsigned i = 0; i < ENDED_MAX && i < r->s->ended_n; i++)
		if (r->s->ended[i] == nexus)
			ended = true;
	pthread_mutex_unlock(&r->s->mu);
	return ended;
}

uint64_t snd_rx_logins(struct snd_rx *r)
{
	uint64_t n;

	LOCKED(r->s, n = r->s->logins);
	return n;
}
