/* The target engine's life cycle (target.h): configuration and its
 * checks, targets and connections, the clock, and the counters as JSON. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <mirror/error.h>

#include "base/why.h"
#include "iscsi/engine.h"

/* ---- lifecycle ---- */

void mirror_tgt_config_init(struct mirror_tgt_config *c)
{
	memset(c, 0, sizeof(*c));
	c->target_name = MIRROR_IQN_PREFIX ":emu";
	c->portal = "127.0.0.1:3260";
	c->neg = MIRROR_NEG_PATENT;
	c->max_recv_data_segment_length = 262144;
	c->max_burst_length = 1048576;
	c->first_burst_length = 65536;
}

int mirror_tgt_new(const struct mirror_tgt_config *cfg, const struct mirror_tgt_lu_ops *ops,
		   void *lu, struct mirror_tgt **out, char *why, size_t why_len)
{
	struct mirror_tgt *t;
	int rc;

	*out = NULL;
	if (!cfg || !ops || !ops->begin || !ops->data)
		return mirror_fail(-EINVAL, why, why_len, "target: no configuration or logical unit");
	rc = mirror_tgt_config_check(cfg, why, why_len);
	if (rc < 0)
		return rc;
	t = calloc(1, sizeof(*t));
	if (!t)
		return mirror_fail(-ENOMEM, why, why_len, "target: out of memory");
	t->cfg = *cfg;
	t->ops = *ops;
	t->lu = lu;
	t->next_tsih = 1;
	*out = t;
	return 0;
}

const struct mirror_receiver *mirror_tgt_receiver(const struct mirror_tgt *t)
{
	return t->rx;
}

void mirror_tgt_free(struct mirror_tgt *t)
{
	free(t);
}

const struct mirror_tgt_stats *mirror_tgt_stats(const struct mirror_tgt *t)
{
	return &t->st;
}

struct mirror_tgt_conn *mirror_tgt_conn_new(struct mirror_tgt *t, const char *peer)
{
	struct mirror_tgt_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->t = t;
	snprintf(c->peer, sizeof(c->peer), "%s", peer ? peer : "?");
	/* the largest PDU this target accepts: BHS, AHS (255 words), digests,
	 * a data segment of our MaxRecvDataSegmentLength */
	uint32_t mrdsl = t->cfg.max_recv_data_segment_length;
	c->in_cap = PDU_BHS_LEN + 255 * 4 + 2 * PDU_DIGEST_LEN +
		    pdu_pad4(mrdsl > PDU_LOGIN_DSL_MAX ? mrdsl : PDU_LOGIN_DSL_MAX);
	c->in = malloc(c->in_cap);
	if (t->ops.lu_task_size)
		c->lu_space = calloc(TASKS_MAX, t->ops.lu_task_size);
	if (!c->in || (t->ops.lu_task_size && !c->lu_space)) {
		free(c->in);
		free(c->lu_space);
		free(c);
		return NULL;
	}
	/* RFC 7143 defaults until negotiated */
	c->initial_r2t = true;
	c->immediate_data = true;
	c->peer_mrdsl = 8192;
	c->max_burst = 262144;
	c->first_burst = 65536;
	return c;
}

const uint8_t *mirror_tgt_conn_output(struct mirror_tgt_conn *c, size_t *len)
{
	*len = c->out_len - c->out_off;
	return c->out ? c->out + c->out_off : (const uint8_t *)""; /* nothing sent yet */
}

void mirror_tgt_conn_consumed(struct mirror_tgt_conn *c, size_t n)
{
	c->out_off += n;
	if (c->out_off >= c->out_len)
		c->out_off = c->out_len = 0;
}

int mirror_tgt_conn_tick(struct mirror_tgt_conn *c, uint64_t now_ms)
{
	int64_t next = -1;

	for (unsigned i = 0; i < TASKS_MAX; i++) {
		struct tgt_task *k = &c->task[i];
		if (!k->used || !k->held)
			continue;
		if (k->due_ms == 0)
			k->due_ms = now_ms + k->inj.delay_ms;
		if (k->due_ms <= now_ms) {
			if (tgt_out_reserve(c, k->held_len) == 0) {
				memcpy(c->out + c->out_len, k->held, k->held_len);
				c->out_len += k->held_len;
			}
			tgt_task_release(c, k, false);
		} else if (next < 0 || (int64_t)(k->due_ms - now_ms) < next) {
			next = (int64_t)(k->due_ms - now_ms);
		}
	}
	return (int)next;
}

bool mirror_tgt_conn_wants_close(const struct mirror_tgt_conn *c)
{
	return c->state == ST_CLOSING || c->fatal;
}

void mirror_tgt_conn_set_user(struct mirror_tgt_conn *c, void *user)
{
	c->user = user;
}

void *mirror_tgt_conn_user(const struct mirror_tgt_conn *c)
{
	return c->user;
}

void mirror_tgt_conn_free(struct mirror_tgt_conn *c)
{
	if (!c)
		return;
	for (unsigned i = 0; i < TASKS_MAX; i++)
		if (c->task[i].used)
			tgt_task_release(c, &c->task[i], true);
	if (c->session_counted)
		c->t->st.sessions_now--;
	if (c->nexus && c->t->ops.nexus_end)
		c->t->ops.nexus_end(c->t->lu, c->nexus);
	free(c->lu_space);
	free(c->in);
	free(c->out);
	free(c->text_acc);
	free(c);
}

/* ---- counters as JSON ---- */

static struct json_object *kind_json(const struct mirror_tgt_kind_stats *k)
{
	struct json_object *o = json_object_new_object(), *b = json_object_new_object();

	json_object_object_add(o, "ops", json_object_new_int64((int64_t)k->ops));
	json_object_object_add(o, "errors", json_object_new_int64((int64_t)k->errors));
	json_object_object_add(o, "interrupts", json_object_new_int64((int64_t)k->interrupts));
	json_object_object_add(o, "interrupts_min", json_object_new_int64(k->interrupts_min));
	json_object_object_add(o, "interrupts_max", json_object_new_int64(k->interrupts_max));
	json_object_object_add(b, "cdb", json_object_new_int64((int64_t)k->bytes.cdb));
	json_object_object_add(b, "metadata", json_object_new_int64((int64_t)k->bytes.metadata));
	json_object_object_add(b, "data", json_object_new_int64((int64_t)k->bytes.data));
	json_object_object_add(b, "iscsi", json_object_new_int64((int64_t)k->bytes.transport));
	json_object_object_add(b, "total", json_object_new_int64((int64_t)k->bytes.total));
	json_object_object_add(o, "bytes", b);
	return o;
}

struct json_object *mirror_tgt_stats_json(const struct mirror_tgt *t)
{
	static const char *const names[MIRROR_RX_KINDS] = { "other", "small", "large", "table_update",
							      "readback", "release" };
	struct json_object *o = json_object_new_object(), *kinds = json_object_new_object();
	struct json_object *sense = json_object_new_object();
	const struct mirror_tgt_stats *s = &t->st;

	for (unsigned i = 0; i < MIRROR_RX_KINDS; i++)
		json_object_object_add(kinds, names[i], kind_json(&s->kind[i]));
	json_object_object_add(o, "kinds", kinds);
	json_object_object_add(o, "sessions_total", json_object_new_int64((int64_t)s->sessions_total));
	json_object_object_add(o, "sessions_now", json_object_new_int64((int64_t)s->sessions_now));
	json_object_object_add(o, "logins_failed", json_object_new_int64((int64_t)s->logins_failed));
	json_object_object_add(o, "pdus_in", json_object_new_int64((int64_t)s->pdus_in));
	json_object_object_add(o, "pdus_out", json_object_new_int64((int64_t)s->pdus_out));
	json_object_object_add(o, "rejects", json_object_new_int64((int64_t)s->rejects));
	json_object_object_add(o, "digest_errors", json_object_new_int64((int64_t)s->digest_errors));
	json_object_object_add(o, "task_management", json_object_new_int64((int64_t)s->tmf));
	for (unsigned k = 0; k < 16; k++) {
		if (s->sense_count[k])
			json_object_object_add(sense, mirror_sense_key_name((uint8_t)k),
					       json_object_new_int64((int64_t)s->sense_count[k]));
	}
	json_object_object_add(o, "check_conditions", sense);
	const struct mirror_receiver *rx = t->rx;
	if (!rx)
		return o;
	struct json_object *seq = json_object_new_object();
	uint64_t gaps = 0, repeats = 0, msgs = 0;
	for (unsigned i = 0; i < MIRROR_RX_SENDERS_MAX; i++) {
		gaps += rx->senders[i].gaps;
		repeats += rx->senders[i].repeats;
		msgs += rx->senders[i].messages;
	}
	json_object_object_add(seq, "messages", json_object_new_int64((int64_t)msgs));
	json_object_object_add(seq, "gaps", json_object_new_int64((int64_t)gaps));
	json_object_object_add(seq, "repeats", json_object_new_int64((int64_t)repeats));
	json_object_object_add(o, "sequence", seq);
	json_object_object_add(o, "table_generation", json_object_new_int64(rx->table.generation));
	return o;
}

const struct mirror_engine_ops mirror_engine_iscsi = {
	.conn_new = mirror_tgt_conn_new,
	.conn_input = mirror_tgt_conn_input,
	.conn_output = mirror_tgt_conn_output,
	.conn_consumed = mirror_tgt_conn_consumed,
	.conn_tick = mirror_tgt_conn_tick,
	.conn_wants_close = mirror_tgt_conn_wants_close,
	.conn_set_user = mirror_tgt_conn_set_user,
	.conn_free = mirror_tgt_conn_free,
	.stats_json = mirror_tgt_stats_json,
};
