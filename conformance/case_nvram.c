/* NVRAM validity cases (source Fig. 2 blocks 212/220, Fig. 5 blocks
 * 516-528; wire-profile.md "Receiver behaviour and status"): a range is
 * valid only once all of its data arrived, a rejected operation changes
 * nothing, and other blocks keep their earlier copy. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conform.h"

#define WRITE_BYTES 4096u

static enum conf_verdict small_write(struct conf_ctx *c, uint32_t addr, uint8_t volume,
				     uint8_t *data, uint64_t seed, const char *what,
				     const struct conf_sense *want)
{
	struct mirror_small_cdb s;
	struct mirror_cmd cmd;

	conf_small_init(c, &s, addr, WRITE_BYTES / MIRROR_BLOCK_SIZE, 0, 0, 0x4000);
	s.volume = volume == CONF_VOLUME_A ? c->vol_a : volume;
	conf_small_cmd(c, &s, data, WRITE_BYTES, seed, &cmd);
	conf_send(c, &cmd, what);
	return conf_check(c, &cmd, what, want);
}

/* A valid copy, then a rejected write over it: the copy is still there
 * and valid. */
static enum conf_verdict run_rejected_changes_nothing(struct conf_ctx *c)
{
	static uint8_t first[WRITE_BYTES], second[WRITE_BYTES];
	struct conf_sense want = CONF_CDB_FIELD(conf_volume_byte(&c->profile), 7);

	if (small_write(c, c->scratch, CONF_VOLUME_A, first, 11, "first write", NULL) != CONF_PASS)
		return CONF_FAIL;
	if (c->vol_absent < 0)
		return conf_skip(c, "the target's table has all 256 volumes: none is missing");
	if (small_write(c, c->scratch, (uint8_t)c->vol_absent, second, 12,
			"write to a volume not in the table", &want) != CONF_PASS)
		return CONF_FAIL;
	return conf_verify(c, "after a rejected write over it, the earlier copy", c->scratch, first,
			   WRITE_BYTES);
}

/* Two writes side by side: the second leaves the first alone. */
static enum conf_verdict run_other_blocks_untouched(struct conf_ctx *c)
{
	static uint8_t first[WRITE_BYTES], second[WRITE_BYTES];

	if (small_write(c, c->scratch, CONF_VOLUME_A, first, 21, "first write", NULL) != CONF_PASS ||
	    small_write(c, c->scratch + WRITE_BYTES, CONF_VOLUME_A, second, 22, "adjacent write",
			NULL) != CONF_PASS)
		return CONF_FAIL;
	if (conf_verify(c, "the first write, after an adjacent one", c->scratch, first,
			WRITE_BYTES) != CONF_PASS)
		return CONF_FAIL;
	return conf_verify(c, "the adjacent write", c->scratch + WRITE_BYTES, second, WRITE_BYTES);
}

/* ---- a transfer broken off midway ---- */

#define BROKEN_OFFSET (5u << 20) /* from the region's start: clear of the 4 MiB cases */
#define BROKEN_ELEMS 64u
#define BROKEN_BYTES (BROKEN_ELEMS * 16384u)

static enum conf_verdict large_write(struct conf_ctx *c, uint32_t addr, unsigned n,
				     uint32_t elem, uint8_t *buf, uint64_t seed, const char *what)
{
	struct mirror_metadata md;
	struct mirror_cmd cmd;

	conf_md_init(c, &md, addr, n, elem, 0xA000);
	conf_large_cmd(c, NULL, &md, false, buf, n * elem, seed, &cmd);
	conf_send(c, &cmd, what);
	return conf_check(c, &cmd, what, NULL);
}

static void broken_done(struct mirror_cmd *cmd)
{
	*(bool *)cmd->user = true;
}

/* True when no block of [addr, addr + bytes) reads back valid; the
 * reason in c->why when the READBACK itself fails. */
static int all_invalid(struct conf_ctx *c, uint32_t addr, uint32_t bytes, uint8_t *buf, size_t cap)
{
	struct mirror_readback r;

	if (conf_readback(c, addr, bytes, true, buf, cap, &r) != CONF_PASS)
		return -1;
	return r.valid_blocks == 0;
}

/* The two broken-transfer cases need a 1 MiB range and the copy after it
 * inside the sender's region (an 8 MiB region of a 16 MiB NVRAM has room). */
static enum conf_verdict skip_small_region(struct conf_ctx *c, uint32_t addr)
{
	return conf_skip(c, "the sender's region ends at 0x%x: too small for a 1 MiB write at 0x%x and the copy after it",
			 (unsigned)conf_region_end(c), (unsigned)addr);
}

/* A valid 1 MiB copy, then a 1 MiB write over it whose connection is
 * closed once its metadata was taken (the range turned invalid, seen on a
 * second connection) and before its data all came: the range must stay
 * invalid, and the copies beside it valid. */
static enum conf_verdict run_broken_transfer(struct conf_ctx *c)
{
	uint32_t addr = conf_region_start(c) + BROKEN_OFFSET;
	size_t cap = MIRROR_READBACK_HEADER_BYTES + 4096;
	uint8_t *big = malloc(MIRROR_METADATA_BYTES + BROKEN_BYTES), *rb = malloc(cap);
	static uint8_t before[MIRROR_METADATA_BYTES + 4096], after[MIRROR_METADATA_BYTES + 4096];
	static bool done;
	struct mirror_transport *first = c->t, *second;
	struct mirror_transport_opts o = c->topts;
	struct mirror_metadata md;
	struct mirror_cmd cmd;
	char err[256], name[240];
	enum conf_verdict v = CONF_PASS;
	int inv = 0;

	if (conf_region_end(c) < addr + BROKEN_BYTES + 4096) {
		free(big);
		free(rb);
		return skip_small_region(c, addr);
	}

	if (!big || !rb) {
		v = conf_fail(c, "out of memory");
		goto out;
	}
	if (large_write(c, addr - 4096, 1, 4096, before, 81, "the copy before the range") != CONF_PASS ||
	    large_write(c, addr + BROKEN_BYTES, 1, 4096, after, 82, "the copy after the range") != CONF_PASS ||
	    large_write(c, addr, BROKEN_ELEMS, 16384, big, 83, "the earlier 1 MiB copy") != CONF_PASS) {
		v = CONF_FAIL;
		goto out;
	}
	snprintf(name, sizeof(name), "%s.watch", c->initiator);
	o.initiator_name = name;
	second = mirror_transport_open(c->target, &o, err, sizeof(err));
	if (!second) {
		v = conf_fail(c, "cannot open a second connection: %s", err);
		goto out;
	}
	conf_md_init(c, &md, addr, BROKEN_ELEMS, 16384, 0xA100);
	conf_large_cmd(c, NULL, &md, false, big, BROKEN_BYTES, 84, &cmd);
	done = false;
	cmd.user = &done;
	if (mirror_transport_submit(first, &cmd, broken_done) < 0) {
		v = conf_fail(c, "cannot submit the 1 MiB write: %s", mirror_transport_error(first));
		mirror_transport_close(second);
		goto out;
	}
	/* Serve the first connection a step at a time; watch the range on
	 * the second.  The data takes four solicited bursts or more, so the
	 * range turns invalid (metadata taken, Fig. 5 block 516) well before
	 * the write can end. */
	c->t = second;
	for (unsigned i = 0; i < 400 && !done; i++) {
		mirror_transport_poll(first, 0);
		inv = all_invalid(c, addr, BROKEN_BYTES, rb, cap);
		if (inv != 0)
			break;
	}
	if (done)
		v = conf_fail(c, "the 1 MiB write ended before it could be broken off (%s)",
			      mirror_status_name(cmd.status));
	else if (inv < 0)
		v = CONF_FAIL;
	else if (inv == 0)
		v = conf_fail(c, "the range of a 1 MiB write never read back invalid while its data was awaited (Fig. 5 block 516)");
	mirror_transport_close(first); /* the connection is gone mid-transfer */
	first = NULL;
	if (v == CONF_PASS) {
		struct timespec ts = { 0, 200 * 1000000L };
		nanosleep(&ts, NULL); /* the target sees the close */
		v = conf_verify_invalid(c, "after the connection closed mid-transfer, the range", addr,
					BROKEN_BYTES);
	}
	if (v == CONF_PASS)
		v = conf_verify(c, "the copy before the broken-off range", addr - 4096,
				before + MIRROR_METADATA_BYTES, 4096);
	if (v == CONF_PASS)
		v = conf_verify(c, "the copy after the broken-off range", addr + BROKEN_BYTES,
				after + MIRROR_METADATA_BYTES, 4096);
out:
	/* the harness closes c->t: the second connection, or the first if
	 * the case ended before opening another */
	if (first && c->t != first)
		mirror_transport_close(first);
	free(big);
	free(rb);
	return v;
}

/* The same, broken off with ABORT TASK on the write's own session. */
static enum conf_verdict run_abort_task(struct conf_ctx *c)
{
	/* after InvalidAfterBrokenTransfer's range and the copy after it:
	 * clear of it, and inside an 8 MiB region (a 16 MiB NVRAM) */
	uint32_t addr = conf_region_start(c) + BROKEN_OFFSET + BROKEN_BYTES + 65536;
	size_t cap = MIRROR_READBACK_HEADER_BYTES + 4096;
	uint8_t *big = malloc(MIRROR_METADATA_BYTES + BROKEN_BYTES), *rb = malloc(cap);
	static uint8_t before[MIRROR_METADATA_BYTES + 4096], after[MIRROR_METADATA_BYTES + 4096];
	struct conf_iscsi *s = NULL;
	struct mirror_metadata md;
	struct mirror_cmd cmd;
	char err[256], name[240];
	enum conf_verdict v = CONF_PASS;
	uint32_t response = 0;
	int inv = 0;

	if (conf_region_end(c) < addr + BROKEN_BYTES + 4096) {
		free(big);
		free(rb);
		return skip_small_region(c, addr);
	}

	if (!big || !rb) {
		v = conf_fail(c, "out of memory");
		goto out;
	}
	if (large_write(c, addr - 4096, 1, 4096, before, 91, "the copy before the range") != CONF_PASS ||
	    large_write(c, addr + BROKEN_BYTES, 1, 4096, after, 92, "the copy after the range") != CONF_PASS ||
	    large_write(c, addr, BROKEN_ELEMS, 16384, big, 93, "the earlier 1 MiB copy") != CONF_PASS) {
		v = CONF_FAIL;
		goto out;
	}
	/* libiscsi 1.19 now and then refuses to send the TMF ("cmdsn <
	 * expcmdsn", its own bookkeeping racing the target's R2Ts; the PDU
	 * never reaches the target).  That is the initiator's fault, not the
	 * target's: the abort is tried again on a new session, at most twice
	 * more, and said so. */
	for (unsigned attempt = 1;; attempt++) {
		int rc;

		snprintf(name, sizeof(name), "%s.abort%u", c->initiator, attempt);
		if (conf_iscsi_open(c->target, name, &s, err, sizeof(err)) < 0) {
			v = conf_fail(c, "cannot open an iSCSI session for ABORT TASK: %s", err);
			goto out;
		}
		conf_md_init(c, &md, addr, BROKEN_ELEMS, 16384, 0xA200);
		conf_large_cmd(c, NULL, &md, false, big, BROKEN_BYTES, 94, &cmd);
		if (conf_iscsi_submit_write(s, cmd.cdb, cmd.cdb_len, big, cmd.data_out_len) < 0) {
			v = conf_fail(c, "cannot submit the 1 MiB write");
			goto out;
		}
		rc = 0;
		inv = 0;
		for (unsigned i = 0; i < 400 && !conf_iscsi_write_done(s); i++) {
			rc = conf_iscsi_step(s, 0);
			if (rc < 0) {
				snprintf(err, sizeof(err), "the session of the 1 MiB write failed: %s",
					 conf_iscsi_error(s));
				break;
			}
			inv = all_invalid(c, addr, BROKEN_BYTES, rb, cap);
			if (inv != 0)
				break;
		}
		if (rc == 0 && !conf_iscsi_write_done(s) && inv > 0)
			rc = conf_iscsi_abort(s, c->timeout_s * 500u, &response, err, sizeof(err));
		if (rc == -EPROTO && attempt < 3) {
			conf_note(c, "attempt %u: %s; tried again", attempt, err);
			conf_iscsi_close(s);
			s = NULL;
			continue;
		}
		if (rc < 0)
			v = conf_fail(c, "%s", err);
		else if (conf_iscsi_write_done(s))
			v = conf_fail(c, "the 1 MiB write ended before it could be aborted");
		else if (inv < 0)
			v = CONF_FAIL;
		else if (inv == 0)
			v = conf_fail(c, "the range of a 1 MiB write never read back invalid while its data was awaited (Fig. 5 block 516)");
		break;
	}
	/* RFC 7143 11.6.1: 0 function complete, 1 task does not exist */
	if (v == CONF_PASS && response > 1)
		v = conf_fail(c, "ABORT TASK answered with response %u; expected 0 (function complete)",
			      (unsigned)response);
	if (v == CONF_PASS) {
		if (response == 1)
			conf_note(c, "ABORT TASK: the task had already ended");
		v = conf_verify_invalid(c, "after ABORT TASK mid-transfer, the range", addr, BROKEN_BYTES);
	}
	if (v == CONF_PASS)
		v = conf_verify(c, "the copy before the aborted range", addr - 4096,
				before + MIRROR_METADATA_BYTES, 4096);
	if (v == CONF_PASS)
		v = conf_verify(c, "the copy after the aborted range", addr + BROKEN_BYTES,
				after + MIRROR_METADATA_BYTES, 4096);
out:
	conf_iscsi_close(s);
	free(big);
	free(rb);
	return v;
}

#define VALIDITY "Fig. 5 blocks 516-528; wire-profile.md \"Receiver behaviour and status\""
#define NEEDS (CONF_NEED_SMALL | CONF_NEED_VOLUMES | CONF_NEED_READBACK)

static const struct conf_case cases[] = {
	{ "MIRROR.Nvram.RejectedWriteChangesNothing", "a rejected small write leaves the earlier valid copy of its range as it was", VALIDITY, NEEDS, run_rejected_changes_nothing, NULL },
	{ "MIRROR.Nvram.OtherBlocksUntouched", "a write leaves the valid copy of the blocks beside it untouched", VALIDITY, NEEDS, run_other_blocks_untouched, NULL },
	{ "MIRROR.Nvram.InvalidAfterAbortTask", "a 1 MiB write aborted (ABORT TASK) mid-transfer leaves its range invalid, the copies beside it valid", VALIDITY ", Fig. 2 blocks 212/220; RFC 7143 11.5", CONF_NEED_NOTIFY | CONF_NEED_READBACK | CONF_NEED_ISCSI, run_abort_task, NULL },
	{ "MIRROR.Nvram.InvalidAfterBrokenTransfer", "a 1 MiB write whose connection closes mid-transfer leaves its range invalid, the copies beside it valid", VALIDITY ", Fig. 2 blocks 212/220", CONF_NEED_NOTIFY | CONF_NEED_READBACK | CONF_NEED_ISCSI, run_broken_transfer, NULL },
};

const struct conf_area conf_area_nvram = { "MIRROR.Nvram", cases, sizeof(cases) / sizeof(cases[0]) };
