/* The mirror receiver (lib/model/receiver.c) as the one logical unit of a
 * target: LUN 0 of mirror-emu and of a controller's mirror port.  Its
 * actions become the engine's; its kind of operation (small, large, table,
 * readback) and CDB length drive the interrupt and byte accounting. */
#include "config.h"

#include <string.h>

#include "iscsi/engine.h"

struct rx_lu_task {
	bool begun; /* mirror_rx_end is owed */
	struct mirror_rx_task rx;
};

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

static void rx_lu_begin(void *lu, struct mirror_tgt_cmd *cmd, struct mirror_tgt_action *act)
{
	struct mirror_receiver *rx = lu;
	struct rx_lu_task *k = cmd->lu_task;
	struct mirror_rx_action r;

	if (cmd->lun != 0) {
		/* one LU: LUN 0 (SPC-5 5.6 LOGICAL UNIT NOT SUPPORTED) */
		cmd->account_cdb_len = 0;
		mirror_tgt_action_check(act, MIRROR_SK_ILLEGAL_REQUEST, 0x25, 0x00);
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
}

static void rx_lu_data(void *lu, struct mirror_tgt_cmd *cmd, const uint8_t *buf, uint32_t len,
		       struct mirror_tgt_action *act)
{
	struct rx_lu_task *k = cmd->lu_task;
	struct mirror_rx_action r;

	mirror_rx_data(lu, &k->rx, buf, len, &r);
	from_rx(&r, act);
}

static void rx_lu_abort(void *lu, struct mirror_tgt_cmd *cmd)
{
	struct rx_lu_task *k = cmd->lu_task;

	if (k->begun)
		mirror_rx_abort(lu, &k->rx);
}

static void rx_lu_end(void *lu, struct mirror_tgt_cmd *cmd)
{
	struct rx_lu_task *k = cmd->lu_task;

	if (k->begun)
		mirror_rx_end(lu, &k->rx);
	k->begun = false;
}

static const struct mirror_tgt_lu_ops rx_lu_ops = {
	.lu_task_size = sizeof(struct rx_lu_task),
	.begin = rx_lu_begin,
	.data = rx_lu_data,
	.abort = rx_lu_abort,
	.end = rx_lu_end,
};

int mirror_tgt_new_receiver(const struct mirror_tgt_config *c, struct mirror_receiver *rx,
			    struct mirror_tgt **out, char *why, size_t why_len)
{
	int rc = mirror_tgt_new(c, &rx_lu_ops, rx, out, why, why_len);

	if (rc == 0)
		(*out)->rx = rx;
	return rc;
}
