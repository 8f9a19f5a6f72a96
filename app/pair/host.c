/* The host port's logical units: SBC block devices (app/pair/sbc.h decodes
 * and answers what needs no data) whose reads come from the cache over the
 * disk array and whose writes follow source Fig. 5: stored in this
 * controller's NVRAM (block 500), mirrored to the partner by the path
 * Fig. 7 chooses (504-528 / 540-544), and acknowledged to the host only
 * after the partner's GOOD (532) -- or, with no partner to mirror to,
 * after the write is on the disk array. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "app/pair/ctl.h"
#include "base/log.h"

struct host_task {
	struct ctl *c;
	struct mirror_tgt_cmd *cmd;
	struct mirror_sbc_verdict v;
	uint8_t *rbuf;
	const uint8_t *data;      /* the write's data-out, the engine's until end() */
	const uint8_t *or_src;    /* ORWRITE: the data-out to OR in (data: rbuf) */
	uint64_t entry;           /* the cache entry waiting for its mirror */
	uint64_t t0_ns;
	bool waiting_room;
	bool pending;
	/* inside host_data: an answer found at once is returned as the
	 * call's action, not completed (the engine has not seen PENDING) */
	bool in_call, answered;
	struct mirror_tgt_action answer;
	struct host_task *room_next;
};

/* ---- answers ---- */

static void answer(struct host_task *t, const struct mirror_tgt_action *a)
{
	t->pending = false;
	t->entry = 0;
	if (t->in_call) {
		t->answer = *a;
		t->answered = true;
	} else {
		mirror_tgt_cmd_complete(t->cmd, a);
	}
}

static void complete_good(struct ctl *c, struct host_task *t)
{
	struct mirror_tgt_action a;

	mirror_hist_add(&c->write_lat, ctl_now_ns() - t->t0_ns);
	mirror_tgt_action_good(&a, NULL, 0);
	answer(t, &a);
}

static void complete_check(struct ctl *c, struct host_task *t, uint8_t key, uint8_t asc,
			   uint8_t ascq)
{
	struct mirror_tgt_action a;

	c->host_errors++;
	mirror_tgt_action_check(&a, key, asc, ascq);
	answer(t, &a);
}

void host_write_safe(struct ctl *c, struct pair_entry *e)
{
	struct host_task *t = e->waiter;

	e->waiter = NULL;
	if (t && t->pending && t->entry == e->id) {
		complete_good(c, t);
		fault_event(c, FP_AFTER_ACK);
	}
}

void host_write_failed(struct ctl *c, struct pair_entry *e, uint8_t key, uint8_t asc, uint8_t ascq)
{
	struct host_task *t = e->waiter;

	e->waiter = NULL;
	if (t && t->pending && t->entry == e->id)
		complete_check(c, t, key, asc, ascq);
}

void host_ack_destaged(struct ctl *c)
{
	for (uint64_t id = c->cache.tail_id; id < c->cache.next_id; id++) {
		struct pair_entry *e = pair_cache_get(&c->cache, id);
		if (e && e->state == E_DESTAGED && e->waiter)
			host_write_safe(c, e);
	}
	pair_cache_reclaim(&c->cache);
	host_room_retry(c);
}

/* ---- the write path (Fig. 5) ---- */

/* ORWRITE (SBC-3 5.8): the blocks as a READ would return them now (the
 * array's, with the newest cached ones over them), ORed with the
 * data-out, into t->data.  Called right before the entry goes into the
 * cache, with nothing in between that lets another command run (one
 * event loop), so no other write to these blocks can come between the
 * read and the write: the operation is atomic for this logical unit.
 * 0, or -1 when the array cannot be read. */
static int or_merge(struct ctl *c, struct host_task *t)
{
	size_t bytes = (size_t)t->v.blocks * MIRROR_BLOCK_SIZE;

	if (array_read_lun(c, t->cmd->lun, t->v.lba, (uint32_t)t->v.blocks, t->rbuf) < 0)
		return -1;
	pair_cache_overlay(&c->cache, t->cmd->lun, t->v.lba, (uint32_t)t->v.blocks, t->rbuf);
	for (size_t i = 0; i < bytes; i++)
		t->rbuf[i] |= t->or_src[i];
	return 0;
}

/* Returns true when the write was taken (answered now or later), false
 * when the NVRAM has no room (the caller queues it). */
static bool write_begin(struct ctl *c, struct host_task *t)
{
	struct pair_entry *e;

	if (!ctl_owns(c, t->cmd->lun)) {
		/* ALUA said so already, unless ownership moved meanwhile */
		complete_check(c, t, MIRROR_SK_NOT_READY, 0x04, 0x0B);
		return true;
	}
	/* ORWRITE: merged again on every try, so a write queued for room
	 * ORs into the blocks as they are when it enters the cache */
	if (t->or_src && or_merge(c, t) < 0) {
		complete_check(c, t, MIRROR_SK_MEDIUM_ERROR, 0x11, 0x00);
		return true;
	}
	e = pair_cache_put(&c->cache, t->cmd->lun, t->v.lba, (uint32_t)t->v.blocks, t->data);
	if (!e)
		return false;
	e->t_begin_ns = ctl_now_ns();
	e->waiter = t;
	t->entry = e->id;
	c->host_writes++;
	c->host_write_bytes += (uint64_t)t->v.blocks * MIRROR_BLOCK_SIZE;
	fault_event(c, FP_BEFORE_MIRROR);

	if (c->cfg.no_mirror || c->cfg.deviate[DEV_ACK_WITHOUT_MIRROR]) {
		/* benchmark, or the deviation: one copy only */
		e->state = E_DIRTY;
		host_write_safe(c, e);
		return true;
	}
	if (c->mode == MODE_WHOLE && link_ready(c)) {
		if (link_mirror(c, e) == 0) {
			if (c->cfg.deviate[DEV_ACK_BEFORE_MIRROR]) {
				/* the deviation: GOOD before the partner's */
				struct host_task *w = e->waiter;
				e->waiter = NULL;
				if (w)
					complete_good(c, w);
			}
			return true;
		}
	}
	if (c->mode == MODE_WHOLE && !c->cfg.deviate[DEV_ACK_BEFORE_MIRROR])
		return true; /* the link is going down: failover.c makes it safe */
	/* no partner to mirror to: on the array before the GOOD */
	e->state = E_DIRTY;
	if (destage_all(c) == 0)
		host_ack_destaged(c);
	return true;
}

void host_room_retry(struct ctl *c)
{
	struct host_task **pp = &c->room_head;

	while (*pp) {
		struct host_task *t = *pp;
		if (!write_begin(c, t))
			return; /* still full: keep the order */
		*pp = t->room_next;
		t->waiting_room = false;
		t->room_next = NULL;
	}
	c->room_tail = NULL;
}

static void room_queue(struct ctl *c, struct host_task *t)
{
	t->waiting_room = true;
	t->room_next = NULL;
	if (c->room_tail)
		c->room_tail->room_next = t;
	else
		c->room_head = t;
	c->room_tail = t;
}

static void room_unqueue(struct ctl *c, struct host_task *t)
{
	struct host_task **pp = &c->room_head, *prev = NULL;

	for (; *pp; prev = *pp, pp = &(*pp)->room_next) {
		if (*pp == t) {
			*pp = t->room_next;
			if (c->room_tail == t)
				c->room_tail = prev;
			break;
		}
	}
	t->waiting_room = false;
}

/* ---- the LU operations ---- */

static void read_blocks(struct ctl *c, struct host_task *t, struct mirror_tgt_action *a)
{
	size_t bytes = (size_t)t->v.blocks * MIRROR_BLOCK_SIZE;
	uint64_t t0 = ctl_now_ns();

	t->rbuf = malloc(bytes ? bytes : 1);
	if (!t->rbuf) {
		mirror_tgt_action_check(a, MIRROR_SK_HARDWARE_ERROR, 0x55, 0x03);
		return;
	}
	/* the array's copy, then the newest cached one of each block */
	if (array_read_lun(c, t->cmd->lun, t->v.lba, (uint32_t)t->v.blocks, t->rbuf) < 0) {
		c->host_errors++;
		mirror_tgt_action_check(a, MIRROR_SK_MEDIUM_ERROR, 0x11, 0x00);
		return;
	}
	pair_cache_overlay(&c->cache, t->cmd->lun, t->v.lba, (uint32_t)t->v.blocks, t->rbuf);
	c->host_reads++;
	c->host_read_bytes += bytes;
	mirror_hist_add(&c->read_lat, ctl_now_ns() - t0);
	mirror_tgt_action_good(a, t->rbuf, (uint32_t)bytes);
}

/* VERIFY with BYTCHK (SBC-3 5.33): the blocks as a READ would return
 * them, compared with the data-out (repeat: its one block with each).  A
 * difference is MISCOMPARE, MISCOMPARE DURING VERIFY OPERATION 1Dh/00h,
 * with the INFORMATION field the offset of the first differing byte from
 * the start of the data-out. */
static void compare_blocks(struct ctl *c, struct host_task *t, const uint8_t *out,
			   struct mirror_tgt_action *a)
{
	size_t bytes = (size_t)t->v.blocks * MIRROR_BLOCK_SIZE;
	struct mirror_sense s;

	t->rbuf = malloc(bytes);
	if (!t->rbuf) {
		mirror_tgt_action_check(a, MIRROR_SK_HARDWARE_ERROR, 0x55, 0x03);
		return;
	}
	if (array_read_lun(c, t->cmd->lun, t->v.lba, (uint32_t)t->v.blocks, t->rbuf) < 0) {
		c->host_errors++;
		mirror_tgt_action_check(a, MIRROR_SK_MEDIUM_ERROR, 0x11, 0x00);
		return;
	}
	pair_cache_overlay(&c->cache, t->cmd->lun, t->v.lba, (uint32_t)t->v.blocks, t->rbuf);
	c->host_cmds_other++;
	for (size_t i = 0; i < bytes; i++) {
		size_t o = t->v.repeat ? i % MIRROR_BLOCK_SIZE : i;
		if (t->rbuf[i] == out[o])
			continue;
		memset(&s, 0, sizeof(s));
		s.key = MIRROR_SK_MISCOMPARE;
		s.asc = 0x1D;
		s.info_valid = true;
		s.info = o;
		memset(a, 0, sizeof(*a));
		a->kind = MIRROR_TGT_RESPOND;
		a->status = MIRROR_STATUS_CHECK_CONDITION;
		a->sense_len = (unsigned)mirror_sense_build(a->sense, sizeof(a->sense), &s);
		return;
	}
	mirror_tgt_action_good(a, NULL, 0);
}

/* PERSISTENT RESERVE OUT with its parameter list: the state is the
 * owner's (sbc_pr.c), so a port that lost the LU since the command was
 * judged refuses it as standby does. */
static void persistent_reserve_out(struct ctl *c, struct host_task *t, const uint8_t *buf,
				   uint32_t len, struct mirror_tgt_action *act)
{
	struct mirror_tgt_cmd *cmd = t->cmd;
	struct mirror_sbc_lu *l = &c->lu[cmd->lun];

	c->host_cmds_other++;
	if (!ctl_owns(c, cmd->lun) ||
	    mirror_sbc_pr_out(l, cmd->nexus, cmd->initiator, cmd->cdb, cmd->cdb_len, buf, len,
			      &t->v) < 0) {
		c->host_errors++;
		mirror_tgt_action_check(act, MIRROR_SK_NOT_READY, 0x04, 0x0B);
		return;
	}
	if (t->v.status != MIRROR_STATUS_GOOD)
		c->host_errors++;
	mirror_sbc_to_action(&t->v, act);
}

static void host_begin(void *lu, struct mirror_tgt_cmd *cmd, struct mirror_tgt_action *act)
{
	struct ctl *c = lu;
	struct host_task *t = cmd->lu_task;
	struct mirror_sbc_lu *l = cmd->lun < c->layout.luns ? &c->lu[cmd->lun] : NULL;

	memset(t, 0, sizeof(*t));
	t->c = c;
	t->cmd = cmd;
	t->t0_ns = ctl_now_ns();
	mirror_sbc_decode(l, &c->port, cmd->nexus, cmd->cdb, cmd->cdb_len, cmd->dir, cmd->edtl,
			  &t->v);
	switch (t->v.kind) {
	case MIRROR_SBC_RESPOND:
		c->host_cmds_other++;
		if (t->v.status != MIRROR_STATUS_GOOD)
			c->host_errors++;
		mirror_sbc_to_action(&t->v, act);
		return;
	case MIRROR_SBC_READ:
		read_blocks(c, t, act);
		return;
	case MIRROR_SBC_WRITE:
		if (t->v.blocks == 0) {
			mirror_tgt_action_good(act, NULL, 0);
			return;
		}
		memset(act, 0, sizeof(*act));
		act->kind = MIRROR_TGT_WANT_DATA;
		act->offset = 0;
		act->length = t->v.data_len;
		return;
	case MIRROR_SBC_COMPARE:
	case MIRROR_SBC_PR_OUT:
		memset(act, 0, sizeof(*act));
		act->kind = MIRROR_TGT_WANT_DATA;
		act->offset = 0;
		act->length = t->v.data_len;
		return;
	case MIRROR_SBC_SYNC:
		/* the cache is non-volatile and mirrored: every acknowledged
		 * write is already stable (sbc.h, the Caching page's WCE=0) */
		c->host_cmds_other++;
		mirror_tgt_action_good(act, NULL, 0);
		return;
	}
	mirror_tgt_action_check(act, MIRROR_SK_HARDWARE_ERROR, 0x44, 0x00);
}

static void host_data(void *lu, struct mirror_tgt_cmd *cmd, const uint8_t *buf, uint32_t len,
		      struct mirror_tgt_action *act)
{
	struct ctl *c = lu;
	struct host_task *t = cmd->lu_task;

	if (t->v.kind == MIRROR_SBC_COMPARE) {
		compare_blocks(c, t, buf, act);
		return;
	}
	if (t->v.kind == MIRROR_SBC_PR_OUT) {
		persistent_reserve_out(c, t, buf, len, act);
		return;
	}
	t->data = buf;
	if (t->v.or_data) {
		/* ORWRITE: write_begin merges into a buffer of the task's own */
		t->rbuf = malloc((size_t)t->v.blocks * MIRROR_BLOCK_SIZE);
		if (!t->rbuf) {
			mirror_tgt_action_check(act, MIRROR_SK_HARDWARE_ERROR, 0x55, 0x03);
			return;
		}
		t->or_src = buf;
		t->data = t->rbuf;
	} else if (t->v.repeat) {
		/* WRITE SAME: the one block, once per block of the range, in a
		 * buffer of the task's own (freed at end()) */
		size_t bytes = (size_t)t->v.blocks * MIRROR_BLOCK_SIZE;
		t->rbuf = malloc(bytes);
		if (!t->rbuf) {
			mirror_tgt_action_check(act, MIRROR_SK_HARDWARE_ERROR, 0x55, 0x03);
			return;
		}
		for (size_t o = 0; o < bytes; o += MIRROR_BLOCK_SIZE)
			memcpy(t->rbuf + o, buf, MIRROR_BLOCK_SIZE);
		t->data = t->rbuf;
	}
	t->pending = true;
	t->in_call = true;
	if (!write_begin(c, t))
		room_queue(c, t);
	t->in_call = false;
	if (t->answered) {
		*act = t->answer; /* GOOD or an error at once */
		return;
	}
	memset(act, 0, sizeof(*act));
	act->kind = MIRROR_TGT_PENDING;
}

static void host_abort(void *lu, struct mirror_tgt_cmd *cmd)
{
	struct ctl *c = lu;
	struct host_task *t = cmd->lu_task;
	struct pair_entry *e = t->entry ? pair_cache_get(&c->cache, t->entry) : NULL;

	/* the write stays in the cache and goes on to the partner and the
	 * array: only its answer is forgotten */
	if (e && e->waiter == t)
		e->waiter = NULL;
	if (t->waiting_room)
		room_unqueue(c, t);
	t->pending = false;
}

static void host_end(void *lu, struct mirror_tgt_cmd *cmd)
{
	struct host_task *t = cmd->lu_task;

	(void)lu;
	free(t->rbuf);
	t->rbuf = NULL;
}

static void host_nexus_end(void *lu, uint64_t nexus)
{
	struct ctl *c = lu;

	for (uint32_t i = 0; i < c->layout.luns; i++)
		mirror_sbc_nexus_end(&c->lu[i], nexus);
}

static void host_lun_reset(void *lu, uint32_t lun, uint64_t nexus)
{
	struct ctl *c = lu;

	if (lun < c->layout.luns)
		mirror_sbc_reset(&c->lu[lun], nexus);
}

const struct mirror_tgt_lu_ops ctl_host_lu_ops = {
	.lu_task_size = sizeof(struct host_task),
	.begin = host_begin,
	.data = host_data,
	.abort = host_abort,
	.end = host_end,
	.nexus_end = host_nexus_end,
	.lun_reset = host_lun_reset,
};
