/* The mirror receiver (lib/model/receiver.c) as the one logical unit of a
 * target: LUN 0 of mirror-emu and of a controller's mirror port.  Its
 * actions become the engine's; its kind of operation (small, large, table,
 * readback) and CDB length drive the interrupt and byte accounting.
 * Hooks (struct mirror_rx_lu_hooks) see each step around the receiver's:
 * the LU's pointer is the target itself, which holds the receiver and
 * the hooks. */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "iscsi/engine.h"

struct rx_lu_task {
	bool begun;        /* mirror_rx_end is owed */
	uint32_t want_off; /* where the last WANT_DATA's range starts */
	struct mirror_rx_task rx;
};

/* A command's hook task follows its rx_lu_task in the engine's slot; slot
 * sizes are multiples of the alignment, so that every slot's is aligned. */
#define HOOK_ALIGN _Alignof(max_align_t)
#define ALIGN_UP(n) (((n) + HOOK_ALIGN - 1) / HOOK_ALIGN * HOOK_ALIGN)
#define HOOK_OFF ALIGN_UP(sizeof(struct rx_lu_task))

static void *hook_task(struct mirror_tgt_cmd *cmd)
{
	return (char *)cmd->lu_task + HOOK_OFF;
}

static void from_rx(const struct mirror_rx_action *r, struct mirror_tgt_action *a)
{
	memset(a, 0, sizeof(*a));
	if (r->kind == MIRROR_RX_WANT_DATA) {
		a->kind = MIRROR_TGT_WANT_DATA;
		a->offset = r->offset;
		a->length = r->length;
		return;
	}
	a->kind = MIRROR_TGT_RESPOND;
	a->status = r->status;
	memcpy(a->sense, r->sense, sizeof(a->sense));
	a->sense_len = r->sense_len;
	a->data_in = r->data_in;
	a->data_in_len = r->data_in_len;
	a->data_in_overflow = r->data_in_overflow;
}

/* The LU's answer: a range to fetch is remembered, a response goes past
 * the respond hook. */
static void answer(struct mirror_tgt *t, struct mirror_tgt_cmd *cmd, struct mirror_tgt_action *act)
{
	struct rx_lu_task *k = cmd->lu_task;

	if (act->kind == MIRROR_TGT_WANT_DATA)
		k->want_off = act->offset;
	else if (t->rx_hooks.respond)
		t->rx_hooks.respond(t->rx_hooks.arg, cmd, hook_task(cmd), act);
}

static void rx_lu_begin(void *lu, struct mirror_tgt_cmd *cmd, struct mirror_tgt_action *act)
{
	struct mirror_tgt *t = lu;
	struct mirror_receiver *rx = t->rx;
	struct rx_lu_task *k = cmd->lu_task;
	struct mirror_rx_action r;

	if (t->rx_hooks.begin)
		t->rx_hooks.begin(t->rx_hooks.arg, cmd, hook_task(cmd));
	if (cmd->lun != 0) {
		/* one LU: LUN 0 (SPC-5 5.6 LOGICAL UNIT NOT SUPPORTED) */
		cmd->account_cdb_len = 0;
		mirror_tgt_action_check(act, MIRROR_SK_ILLEGAL_REQUEST, 0x25, 0x00);
		answer(t, cmd, act);
		return;
	}
	mirror_rx_begin(rx, &k->rx, cmd->cdb, cmd->cdb_len, cmd->dir, cmd->edtl, cmd->initiator,
			&cmd->inject->faults, &r);
	k->begun = true;
	cmd->kind = k->rx.kind;
	cmd->account_cdb_len = cmd->kind == MIRROR_RX_KIND_LARGE ? MIRROR_NOTIFY_CDB_LEN
			       : cmd->kind == MIRROR_RX_KIND_SMALL ? mirror_small_cdb_len(&rx->profile)
								   : cmd->cdb_len;
	from_rx(&r, act);
	answer(t, cmd, act);
}

static void rx_lu_data(void *lu, struct mirror_tgt_cmd *cmd, const uint8_t *buf, uint32_t len,
		       struct mirror_tgt_action *act)
{
	struct mirror_tgt *t = lu;
	struct rx_lu_task *k = cmd->lu_task;
	struct mirror_rx_action r;

	if (t->rx_hooks.data)
		t->rx_hooks.data(t->rx_hooks.arg, cmd, hook_task(cmd), k->want_off, buf, len);
	mirror_rx_data(t->rx, &k->rx, buf, len, &r);
	from_rx(&r, act);
	answer(t, cmd, act);
}

static void rx_lu_abort(void *lu, struct mirror_tgt_cmd *cmd)
{
	struct mirror_tgt *t = lu;
	struct rx_lu_task *k = cmd->lu_task;

	if (t->rx_hooks.abort)
		t->rx_hooks.abort(t->rx_hooks.arg, cmd, hook_task(cmd));
	if (k->begun)
		mirror_rx_abort(t->rx, &k->rx);
}

static void rx_lu_end(void *lu, struct mirror_tgt_cmd *cmd)
{
	struct mirror_tgt *t = lu;
	struct rx_lu_task *k = cmd->lu_task;

	if (t->rx_hooks.end)
		t->rx_hooks.end(t->rx_hooks.arg, cmd, hook_task(cmd));
	if (k->begun)
		mirror_rx_end(t->rx, &k->rx);
	k->begun = false;
}

static void rx_lu_nexus_end(void *lu, uint64_t nexus)
{
	struct mirror_tgt *t = lu;

	if (t->rx_hooks.nexus_end)
		t->rx_hooks.nexus_end(t->rx_hooks.arg, nexus);
}

int mirror_tgt_new_receiver_hooked(const struct mirror_tgt_config *c, struct mirror_receiver *rx,
				   const struct mirror_rx_lu_hooks *hooks, struct mirror_tgt **out,
				   char *why, size_t why_len)
{
	struct mirror_tgt_lu_ops ops = {
		.lu_task_size = HOOK_OFF + ALIGN_UP(hooks ? hooks->task_size : 0),
		.begin = rx_lu_begin,
		.data = rx_lu_data,
		.abort = rx_lu_abort,
		.end = rx_lu_end,
		.nexus_end = rx_lu_nexus_end,
	};
	int rc = mirror_tgt_new(c, &ops, NULL, out, why, why_len);

	if (rc == 0) {
		/* no connection yet: nothing has seen the LU pointer */
		(*out)->lu = *out;
		(*out)->rx = rx;
		if (hooks)
			(*out)->rx_hooks = *hooks;
	}
	return rc;
}

int mirror_tgt_new_receiver(const struct mirror_tgt_config *c, struct mirror_receiver *rx,
			    struct mirror_tgt **out, char *why, size_t why_len)
{
	return mirror_tgt_new_receiver_hooked(c, rx, NULL, out, why, why_len);
}
