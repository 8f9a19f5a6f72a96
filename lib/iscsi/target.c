/* The target engine's life cycle (target.h): configuration and its
 * checks, targets and connections, the clock (the counters as JSON are
 * stats.c). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mirror/error.h>

#include "base/log.h"
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
	c->login_timeout_ms = MIRROR_TGT_LOGIN_TIMEOUT_MS;
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
	unsigned limit = c->t->cfg.login_timeout_ms;

	/* RFC 7143 6.2 leaves the login's length to the target: a peer that
	 * sends nothing, or a byte at a time, must not keep a connection
	 * for ever */
	if (c->state == ST_LOGIN && limit && !c->fatal) {
		if (!c->login_deadline_ms)
			c->login_deadline_ms = now_ms + limit;
		if (now_ms >= c->login_deadline_ms) {
			mirror_log(MIRROR_LOG_INFO, "connection %s: no login after %u ms: cut", c->peer,
				   limit);
			c->t->st.logins_failed++;
			c->fatal = true;
			return -1;
		}
		next = (int64_t)(c->login_deadline_ms - now_ms);
	}

	for (unsigned i = 0; c->nheld && i < TASKS_MAX; i++) {
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

size_t mirror_tgt_conn_owed_data(const struct mirror_tgt_conn *c, unsigned *tasks)
{
	size_t bytes = 0;
	unsigned n = 0;

	/* a sweep of the task table rather than a counter kept beside it:
	 * once per wake-up, and nothing to keep in step */
	if (!c->fatal) {
		uint32_t hdr = PDU_BHS_LEN + (c->hd ? PDU_DIGEST_LEN : 0) + (c->dd ? PDU_DIGEST_LEN : 0);
		for (unsigned i = 0; i < TASKS_MAX; i++) {
			const struct tgt_task *k = &c->task[i];
			if (!k->used || !k->r2t_out || k->r2t_end <= k->have)
				continue;
			n++;
			bytes += (size_t)(k->r2t_end - k->have) + hdr;
		}
	}
	*tasks = n;
	return bytes;
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

const struct mirror_engine_ops mirror_engine_iscsi = {
	.conn_new = mirror_tgt_conn_new,
	.conn_input = mirror_tgt_conn_input,
	.conn_output = mirror_tgt_conn_output,
	.conn_consumed = mirror_tgt_conn_consumed,
	.conn_tick = mirror_tgt_conn_tick,
	.conn_wants_close = mirror_tgt_conn_wants_close,
	.conn_owed_data = mirror_tgt_conn_owed_data,
	.conn_set_user = mirror_tgt_conn_set_user,
	.conn_free = mirror_tgt_conn_free,
	.stats_json = mirror_tgt_stats_json,
};
