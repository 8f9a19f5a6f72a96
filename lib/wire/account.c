/* Interrupt and byte accounting (wire-profile.md "Interrupt accounting
 * model"): 1 for the command, 1 per data burst, 1 for the status; so 4 at
 * least on the large path and 3 on the small (source Figs. 2 and 5). */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <mirror/account.h>
#include <mirror/error.h>

#define BHS_BYTES 48u
#define DIGEST_BYTES 4u

/* One counting routine for recorded and modelled events alike. */
void mirror_cost_begin(struct mirror_cost_acc *a, enum mirror_path path, unsigned cdb_len)
{
	memset(a, 0, sizeof(*a));
	a->path = path;
	a->cdb_len = cdb_len;
}

void mirror_cost_add(struct mirror_cost_acc *a, const struct mirror_event *e)
{
	bool first = a->seen++ == 0;

	if (a->ended || first != (e->kind == MIRROR_EV_COMMAND)) {
		a->bad = true;
		return;
	}
	a->headers += e->header_bytes;
	a->tcpip += e->tcpip_bytes;
	switch (e->kind) {
	case MIRROR_EV_COMMAND:
		a->payload += e->payload_bytes; /* immediate data: no interrupt of its own */
		break;
	case MIRROR_EV_DATA_BURST:
		a->payload += e->payload_bytes;
		a->bursts++;
		break;
	case MIRROR_EV_R2T:
		a->other_payload += e->payload_bytes;
		break;
	case MIRROR_EV_STATUS:
		a->other_payload += e->payload_bytes; /* sense data */
		a->ended = true;
		break;
	default:
		a->bad = true;
	}
}

int mirror_cost_end(const struct mirror_cost_acc *a, struct mirror_cost *out)
{
	memset(out, 0, sizeof(*out));
	if (a->bad || !a->ended)
		return -EINVAL;
	uint64_t md = a->path == MIRROR_PATH_LARGE ? MIRROR_METADATA_BYTES : 0;
	if (a->payload < md)
		return -EINVAL;
	out->int_command = 1;
	out->int_data = a->bursts;
	out->int_status = 1;
	out->interrupts = out->int_command + out->int_data + out->int_status;
	out->cdb = a->cdb_len;
	out->metadata = md;
	out->data = a->payload - md;
	/* The CDB travels inside the command's BHS: count it once. */
	uint64_t hdr = a->headers + a->other_payload;
	out->transport = hdr > a->cdb_len ? hdr - a->cdb_len : 0;
	out->tcpip = a->tcpip;
	out->total = out->cdb + out->metadata + out->data + out->transport + out->tcpip;
	return 0;
}

int mirror_account(enum mirror_path path, unsigned cdb_len, const struct mirror_event *ev,
		   size_t n, struct mirror_cost *out)
{
	struct mirror_cost_acc a;

	mirror_cost_begin(&a, path, cdb_len);
	for (size_t i = 0; i < n; i++)
		mirror_cost_add(&a, &ev[i]);
	return mirror_cost_end(&a, out);
}

void mirror_iscsi_params_patent(struct mirror_iscsi_params *ip)
{
	memset(ip, 0, sizeof(*ip));
	ip->initial_r2t = true;
	ip->immediate_data = false;
	ip->max_recv_data_segment_length = 256 * 1024;
	ip->max_burst_length = 1024 * 1024;
	ip->first_burst_length = 64 * 1024;
	ip->separate_metadata_r2t = true;
}

void mirror_iscsi_params_modern(struct mirror_iscsi_params *ip)
{
	memset(ip, 0, sizeof(*ip));
	ip->initial_r2t = false;
	ip->immediate_data = true;
	ip->max_recv_data_segment_length = 256 * 1024;
	ip->max_burst_length = 1024 * 1024;
	ip->first_burst_length = 64 * 1024;
}

typedef void (*emit_fn)(void *ctx, const struct mirror_event *e);

static uint32_t pdu_header(const struct mirror_iscsi_params *ip)
{
	return BHS_BYTES + (ip->header_digest ? DIGEST_BYTES : 0);
}

/* Data-Out PDUs of one burst of len bytes: each at most
 * MaxRecvDataSegmentLength (RFC 7143 13.12). */
static struct mirror_event burst_event(const struct mirror_iscsi_params *ip, uint32_t len)
{
	uint32_t seg = ip->max_recv_data_segment_length;
	uint32_t pdus = (len + seg - 1) / seg;
	struct mirror_event e = { MIRROR_EV_DATA_BURST, 0, len, 0 };

	e.header_bytes = pdus * (pdu_header(ip) + (ip->data_digest ? DIGEST_BYTES : 0));
	return e;
}

/* Walks the PDUs RFC 7143 allows for one write command under ip. */
static int model_walk(const struct mirror_iscsi_params *ip, enum mirror_path path,
		      uint32_t user_bytes, emit_fn emit, void *ctx)
{
	if (ip->max_recv_data_segment_length < 512 || ip->max_burst_length < 512 ||
	    ip->first_burst_length < 512)
		return -EINVAL;
	uint64_t total = user_bytes + (path == MIRROR_PATH_LARGE ? MIRROR_METADATA_BYTES : 0);
	uint64_t off = 0;
	struct mirror_event cmd = { MIRROR_EV_COMMAND, pdu_header(ip), 0, 0 };

	if (ip->immediate_data) {
		uint64_t imm = total;
		if (imm > ip->first_burst_length)
			imm = ip->first_burst_length;
		if (imm > ip->max_recv_data_segment_length)
			imm = ip->max_recv_data_segment_length;
		cmd.payload_bytes = (uint32_t)imm;
		if (imm && ip->data_digest)
			cmd.header_bytes += DIGEST_BYTES;
		off = imm;
	}
	emit(ctx, &cmd);
	if (!ip->initial_r2t && off < total && off < ip->first_burst_length) {
		uint64_t un = ip->first_burst_length - off;
		if (un > total - off)
			un = total - off;
		struct mirror_event b = burst_event(ip, (uint32_t)un);
		emit(ctx, &b);
		off += un;
	}
	while (off < total) {
		uint64_t len = total - off;
		if (len > ip->max_burst_length)
			len = ip->max_burst_length;
		/* The patent profile solicits the metadata alone, validates it
		 * and marks the ranges invalid before it asks for the data. */
		if (path == MIRROR_PATH_LARGE && ip->separate_metadata_r2t &&
		    off < MIRROR_METADATA_BYTES && len > MIRROR_METADATA_BYTES - off)
			len = MIRROR_METADATA_BYTES - off;
		struct mirror_event r2t = { MIRROR_EV_R2T, pdu_header(ip), 0, 0 };
		emit(ctx, &r2t);
		struct mirror_event b = burst_event(ip, (uint32_t)len);
		emit(ctx, &b);
		off += len;
	}
	struct mirror_event st = { MIRROR_EV_STATUS, pdu_header(ip), 0, 0 };
	emit(ctx, &st);
	return 0;
}

struct event_sink {
	struct mirror_event *ev;
	size_t cap, n;
};

static void emit_to_array(void *ctx, const struct mirror_event *e)
{
	struct event_sink *s = ctx;
	if (s->n < s->cap)
		s->ev[s->n] = *e;
	s->n++;
}

int mirror_model_events(const struct mirror_iscsi_params *ip, enum mirror_path path,
			unsigned cdb_len, uint32_t user_bytes, struct mirror_event *ev, size_t cap)
{
	struct event_sink s = { ev, cap, 0 };
	(void)cdb_len;
	int rc = model_walk(ip, path, user_bytes, emit_to_array, &s);
	if (rc < 0)
		return rc;
	if (ev && s.n > cap)
		return MIRROR_E_NOSPACE;
	return (int)s.n;
}

static void emit_to_acc(void *ctx, const struct mirror_event *e)
{
	mirror_cost_add(ctx, e);
}

int mirror_model_cost(const struct mirror_iscsi_params *ip, enum mirror_path path,
		      unsigned cdb_len, uint32_t user_bytes, struct mirror_cost *out)
{
	struct mirror_cost_acc a;

	mirror_cost_begin(&a, path, cdb_len);
	int rc = model_walk(ip, path, user_bytes, emit_to_acc, &a);
	if (rc < 0) {
		memset(out, 0, sizeof(*out));
		return rc;
	}
	return mirror_cost_end(&a, out);
}

int mirror_counterfactual(const struct mirror_profile *p, const struct mirror_iscsi_params *ip,
			  const struct mirror_op *op, bool *possible, struct mirror_cost *out)
{
	uint32_t bytes = op->blocks * MIRROR_BLOCK_SIZE;

	memset(out, 0, sizeof(*out));
	*possible = false;
	if (op->path == MIRROR_PATH_SMALL) {
		*possible = true;
		return mirror_model_cost(ip, MIRROR_PATH_LARGE, MIRROR_NOTIFY_CDB_LEN, bytes, out);
	}
	/* Could the elements have gone small?  Fig. 7 blocks 700 and 716; the
	 * sender's own state (708, 712) is what the counterfactual removes. */
	struct mirror_sender_state ideal = { false, true };
	struct mirror_path_choice c;
	mirror_path_choose(p, op->sg, op->sg_count, &ideal, &c);
	if (c.path != MIRROR_PATH_SMALL)
		return 0;
	*possible = true;
	return mirror_model_cost(ip, MIRROR_PATH_SMALL, mirror_small_cdb_len(p), bytes, out);
}
