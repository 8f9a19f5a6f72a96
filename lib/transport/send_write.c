/* mirror-send's write (sender.h): the array table first if asked, the
 * write split (Fig. 3) and each op sent on the path Fig. 7 chooses, round
 * after round, then the read-back of what the first round stored. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include <mirror/exit_status.h>
#include <mirror/sender.h>

/* The ops of the first round, for the read-back. */
struct op_list {
	struct mirror_op *op;
	size_t n, cap;
};

static int keep(struct op_list *l, const struct mirror_op *op)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct mirror_op *n = realloc(l->op, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		l->op = n;
		l->cap = cap;
	}
	l->op[l->n++] = *op;
	return 0;
}

static int send_rounds(struct mirror_transport *t, const struct mirror_send_view *v,
		       const struct mirror_send_write *sw, uint8_t *out_buf, struct op_list *ops)
{
	uint32_t seq = sw->first_sequence;

	for (unsigned round = 1; round <= sw->rounds; round++) {
		struct mirror_splitter sp;
		struct mirror_op op;
		char why[160];
		unsigned index = 0;
		/* Each round continues the sequence numbers: the receiver
		 * sees one sender whose messages are consecutive. */
		if (mirror_split_init(&sp, v->profile, sw->w, &sw->state, sw->policy, seq, why,
				      sizeof(why)) < 0)
			return mirror_syntax_error(v->prog, "%s", why);
		while (mirror_split_next(&sp, &op) > 0) {
			if (round == 1 && sw->verify && keep(ops, &op) < 0) {
				fprintf(v->err, "%s: out of memory\n", v->prog);
				return MIRROR_EXIT_OTHER;
			}
			int status = mirror_send_op(t, v, &op, sw->w, sw->data, out_buf, ++index,
						    round, sw->rounds);
			if (status != MIRROR_EXIT_OK)
				return status;
		}
		seq = sp.next_sequence;
	}
	return MIRROR_EXIT_OK;
}

int mirror_send_write(struct mirror_transport *t, const struct mirror_send_view *v,
		      const struct mirror_send_write *sw, uint8_t *out_buf, uint8_t *in_buf)
{
	struct op_list ops = { NULL, 0, 0 };
	int status = MIRROR_EXIT_OK;

	if (sw->push_table)
		status = mirror_send_table(t, v, sw->w->volume, sw->w->array_serial,
					   sw->w->array_number);
	if (status == MIRROR_EXIT_OK)
		status = send_rounds(t, v, sw, out_buf, &ops);
	if (status == MIRROR_EXIT_OK && sw->verify)
		status = mirror_send_verify(t, v, ops.op, ops.n, sw->data, in_buf);
	free(ops.op);
	return status;
}
