/* Concurrency (source Fig. 2: a controller mirrors many host writes at
 * once): 32 small writes outstanding together, half of them overlapping,
 * half disjoint.  The NVRAM must end up holding, for every block, the
 * data of the last write to complete over it. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mirror/sender.h>

#include "conform.h"

#define OPS 32u
#define OP_BYTES 4096u
#define STRIDE 2048u           /* overlapping: each op covers half of the next */
#define DISJOINT_OFFSET 65536u /* the disjoint half, after the overlapping span */
#define SPAN (DISJOINT_OFFSET + (OPS / 2) * OP_BYTES)
#define OVERLAP_SPAN ((OPS / 2 - 1) * STRIDE + OP_BYTES)

struct op_state {
	struct mirror_cmd cmd;
	uint8_t data[OP_BYTES];
	uint32_t offset;   /* from the case's area */
	unsigned *order;   /* completion order, shared */
	unsigned *done;
	unsigned index;
	struct conf_ctx *c;
};

static void op_done(struct mirror_cmd *cmd)
{
	struct op_state *o = cmd->user;

	o->order[(*o->done)++] = o->index;
	if (o->c->verbose && o->c->log) {
		fprintf(o->c->log, "  <- write %u of %u outstanding (completion %u): CDB", o->index + 1,
			OPS, *o->done);
		for (unsigned i = 0; i < cmd->cdb_len; i++)
			fprintf(o->c->log, " %02x", cmd->cdb[i]);
		fputc('\n', o->c->log);
		mirror_print_outcome(o->c->log, cmd, cmd->result < 0 ? mirror_transport_error(o->c->t) : NULL,
				     4, o->c->verbose > 1);
	}
}

static enum conf_verdict run_overlapping32(struct conf_ctx *c)
{
	struct op_state *ops = calloc(OPS, sizeof(*ops));
	uint8_t *expect = calloc(1, SPAN);
	unsigned order[OPS], done = 0, submitted = 0;
	enum conf_verdict v = CONF_PASS;

	if (!ops || !expect) {
		v = conf_fail(c, "out of memory");
		goto out;
	}
	for (unsigned i = 0; i < OPS; i++) {
		struct op_state *o = &ops[i];
		struct mirror_small_cdb s;

		o->index = i;
		o->c = c;
		o->order = order;
		o->done = &done;
		o->offset = i < OPS / 2 ? i * STRIDE : DISJOINT_OFFSET + (i - OPS / 2) * OP_BYTES;
		conf_small_init(c, &s, c->scratch + o->offset, OP_BYTES / MIRROR_BLOCK_SIZE, 0, 0,
				0x7000 + i * 8);
		conf_small_cmd(c, &s, o->data, OP_BYTES, 100 + i, &o->cmd);
		o->cmd.user = o;
	}
	while (done < OPS) {
		while (submitted < OPS) {
			int rc = mirror_transport_submit(c->t, &ops[submitted].cmd, op_done);
			if (rc == -EAGAIN)
				break;
			if (rc < 0) {
				v = conf_fail(c, "submitting write %u: %s", submitted + 1,
					      mirror_transport_error(c->t));
				goto drain;
			}
			submitted++;
		}
		int rc = mirror_transport_poll(c->t, 1000);
		if (rc < 0) {
			v = conf_fail(c, "waiting for the writes: %s", mirror_transport_error(c->t));
			goto drain;
		}
	}
	for (unsigned k = 0; k < OPS && v == CONF_PASS; k++) {
		struct op_state *o = &ops[order[k]];
		char what[64];

		snprintf(what, sizeof(what), "write %u of %u outstanding", o->index + 1, OPS);
		v = conf_check(c, &o->cmd, what, NULL);
		/* later completions overwrite earlier ones */
		memcpy(expect + o->offset, o->data, OP_BYTES);
	}
	/* the overlapping span, then the disjoint one (the gap between them
	 * is written by no op) */
	if (v == CONF_PASS)
		v = conf_verify(c, "after 32 outstanding writes, the overlapping span (last completed write per block)",
				c->scratch, expect, OVERLAP_SPAN);
	if (v == CONF_PASS)
		v = conf_verify(c, "after 32 outstanding writes, the disjoint span",
				c->scratch + DISJOINT_OFFSET, expect + DISJOINT_OFFSET,
				SPAN - DISJOINT_OFFSET);
	goto out;
drain:
	mirror_transport_drain(c->t);
out:
	free(ops);
	free(expect);
	return v;
}

static const struct conf_case cases[] = {
	{ "MIRROR.Concurrency.Outstanding32", "32 outstanding small writes, overlapping and disjoint: the NVRAM holds the last completed write per block", "Fig. 2; wire-profile.md \"Receiver behaviour and status\"", CONF_NEED_SMALL | CONF_NEED_VOLUMES | CONF_NEED_VERIFY, run_overlapping32, NULL },
};

const struct conf_area conf_area_concurrency = { "MIRROR.Concurrency", cases, sizeof(cases) / sizeof(cases[0]) };
