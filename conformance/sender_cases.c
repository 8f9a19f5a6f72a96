/* The sending side's cases (sender.h), each citing its figure/block of the
 * source or its section of wire-profile.md.  Each drives host writes of
 * chosen sizes and LBAs through the prototype's host port, one at a time,
 * and judges the mirror operations that arrived at the suite's receiver
 * meanwhile.  The prototype decides where in its NVRAM a write goes, so
 * the cases report what it did (element counts, addresses) and judge it
 * by the rules; what they cannot provoke is a skip, never a pass. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mirror/commands.h>

#include "base/bytes.h"
#include "sender.h"

#define KIB 1024u
#define MIB (1024u * 1024u)
#define BLOCKS(bytes) ((uint32_t)((bytes) / MIRROR_BLOCK_SIZE))
#define OPS_MAX 4096u
/* Fig. 7 block 716: the 20-bit descriptors share their upper 4 bits, so a
 * small write's elements lie in one 32 MiB span (2^16 blocks) */
#define HIGH_SPAN ((uint64_t)MIRROR_BLOCK_SIZE << 16)

/* ---- verdicts ---- */

static void vput(char *buf, size_t cap, bool append, const char *fmt, va_list ap)
{
	size_t used = append ? strlen(buf) : 0;

	if (append && used && used + 2 < cap) {
		buf[used++] = ';';
		buf[used++] = ' ';
		buf[used] = '\0';
	}
	if (used < cap)
		vsnprintf(buf + used, cap - used, fmt, ap);
}

enum conf_verdict snd_fail(struct snd_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vput(c->why, sizeof(c->why), false, fmt, ap);
	va_end(ap);
	return CONF_FAIL;
}

enum conf_verdict snd_skip(struct snd_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vput(c->why, sizeof(c->why), false, fmt, ap);
	va_end(ap);
	return CONF_SKIP;
}

void snd_note(struct snd_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vput(c->notes, sizeof(c->notes), true, fmt, ap);
	va_end(ap);
}

static double ms_since(uint64_t t0, uint64_t t1)
{
	return t1 >= t0 ? (double)(t1 - t0) / 1e6 : -(double)(t0 - t1) / 1e6;
}

static bool is_mirror(const struct snd_op *o)
{
	return o->kind == SND_SMALL || o->kind == SND_LARGE;
}

static const char *path_name(const struct snd_op *o)
{
	return o->kind == SND_SMALL ? "small" : "large";
}

/* "small 0xA0 LBA 1024 8 blocks, 1 element at 0x00001000" */
static void describe(const struct snd_op *o, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "op #%" PRIu64 " %s 0x%02X LBA %" PRIu32 " %" PRIu32 " blocks",
			 o->index, path_name(o), o->opcode, o->lba, o->blocks);
	if (o->kind == SND_LARGE)
		n += snprintf(buf + n, cap - (size_t)n, " seq %" PRIu32, o->sequence);
	n += snprintf(buf + n, cap - (size_t)n, ", %u element%s", o->sg_n, o->sg_n == 1 ? "" : "s");
	for (unsigned i = 0; i < o->sg_n && i < 3 && (size_t)n < cap; i++)
		n += snprintf(buf + n, cap - (size_t)n, "%s0x%08" PRIX32 "+%" PRIu32, i ? ", " : " at ",
			      o->sg[i].nvram_addr, o->sg[i].bytes);
	if (o->sg_n > 3 && (size_t)n < cap)
		snprintf(buf + n, cap - (size_t)n, ", ...");
}

/* ---- the host ---- */

int snd_host_open(struct snd_ctx *c, char *why, size_t why_len)
{
	struct mirror_transport_opts o = { .connect_timeout_ms = 10000, .command_timeout_ms = 30000 };
	char err[256];
	struct mirror_cmd cmd;
	uint8_t cap[8];

	o.initiator_name = "iqn.2026-11.org.mirrortest:conform-host";
	c->host = mirror_transport_open(c->host_url, &o, err, sizeof(err));
	if (!c->host)
		return conf_errorf(-EIO, why, why_len, "--host %s: %s", c->host_url, err);
	/* READ CAPACITY(10) (SBC-3 5.15): the last LBA in bytes 0-3 */
	memset(&cmd, 0, sizeof(cmd));
	cmd.cdb[0] = 0x25;
	cmd.cdb_len = 10;
	cmd.dir = MIRROR_DIR_IN;
	cmd.data_in = cap;
	cmd.data_in_len = sizeof(cap);
	for (int tries = 0; tries < 3; tries++) {
		/* a unit attention first (SPC-4 5.14) is answered by a retry */
		if (mirror_transport_run(c->host, &cmd) == 0 && cmd.status == MIRROR_STATUS_GOOD &&
		    cmd.data_in_got >= 8) {
			c->host_blocks = (uint64_t)get_be32(cap) + 1;
			break;
		}
	}
	if (!c->host_blocks)
		return conf_errorf(-EIO, why, why_len, "--host %s: READ CAPACITY(10) failed (status 0x%02X)",
				   c->host_url, cmd.status);
	if (c->host_blocks < 8192)
		return conf_errorf(-EINVAL, why, why_len,
				   "--host %s: the LUN has %" PRIu64 " blocks; the cases need 4 MiB",
				   c->host_url, c->host_blocks);
	c->next_lba = 1024;
	return 0;
}

/* Waits until every mirror op since first has its status and they add up
 * to the write's blocks, or wait_ms passed. */
static void collect(struct snd_ctx *c, struct snd_write *w, unsigned wait_ms)
{
	uint64_t deadline = snd_now_ns() + (uint64_t)wait_ms * 1000000u;

	for (;;) {
		size_t n = snd_rx_count(&c->rx);
		uint64_t blocks = 0;
		bool done = true;
		struct snd_op o;
		for (size_t i = w->first; i < n; i++) {
			if (!snd_rx_get(&c->rx, i, &o) || !is_mirror(&o))
				continue;
			blocks += o.blocks;
			done &= o.done || o.aborted;
		}
		w->end = n;
		w->mirrored_blocks = blocks;
		w->all_done = done;
		if ((blocks >= w->blocks && done) || snd_now_ns() >= deadline)
			return;
		snd_sleep_ms(2);
	}
}

/* WRITE(10) of blocks at lba, pattern data; the mirror ops of it after. */
static int host_write_at(struct snd_ctx *c, uint32_t lba, uint32_t blocks, unsigned wait_ms,
			 struct snd_write *w)
{
	struct mirror_cmd cmd;
	size_t bytes = (size_t)blocks * MIRROR_BLOCK_SIZE;
	uint8_t *data = malloc(bytes);

	memset(w, 0, sizeof(*w));
	if (!data)
		return -ENOMEM;
	for (size_t i = 0; i < bytes; i++)
		data[i] = (uint8_t)(lba * 7u + i * 13u + (i >> 9));
	w->lba = lba;
	w->blocks = blocks;
	memset(&cmd, 0, sizeof(cmd));
	cmd.cdb[0] = 0x2A; /* WRITE(10), SBC-3 5.35 */
	put_be32(cmd.cdb + 2, lba);
	put_be16(cmd.cdb + 7, (uint16_t)blocks);
	cmd.cdb_len = 10;
	cmd.dir = MIRROR_DIR_OUT;
	cmd.data_out = data;
	cmd.data_out_len = (uint32_t)bytes;
	w->first = snd_rx_count(&c->rx);
	w->t0_ns = snd_now_ns();
	int rc = mirror_transport_run(c->host, &cmd);
	w->t1_ns = snd_now_ns();
	free(data);
	w->result = rc < 0 ? rc : cmd.result;
	w->status = cmd.status;
	w->sense = cmd.sense_parsed;
	if (rc == 0 && cmd.status == MIRROR_STATUS_CHECK_CONDITION &&
	    cmd.sense_parsed.key == MIRROR_SK_UNIT_ATTENTION)
		return host_write_at(c, lba, blocks, wait_ms, w); /* SPC-4 5.14: once more */
	collect(c, w, wait_ms);
	if (c->verbose)
		fprintf(c->log, "  host WRITE(10) LBA %u %u blocks: %s 0x%02X in %.1f ms, %" PRIu64
			" blocks mirrored in ops #%zu..#%zu\n", lba, blocks, rc < 0 ? "failed" : "status",
			cmd.status, ms_since(w->t0_ns, w->t1_ns), w->mirrored_blocks, w->first + 1, w->end);
	/* the prototype's LBA on the mirror link against the host's, once */
	if (!c->have_delta && w->status == MIRROR_STATUS_GOOD && w->result == 0) {
		struct snd_op o;
		for (size_t i = w->first; i < w->end; i++) {
			if (snd_rx_get(&c->rx, i, &o) && is_mirror(&o) && o.decoded) {
				c->lba_delta = (int64_t)o.lba - (int64_t)lba;
				c->have_delta = true;
				if (c->lba_delta)
					snd_note(c, "the prototype's mirror LBAs are the host's %+" PRId64,
						 c->lba_delta);
				break;
			}
		}
	}
	return 0;
}

/* At the next fresh LBA (a multiple of 8, so that byte 11 of a small CDB
 * never has NACA or LINK set by accident: see the ControlByte case). */
static int host_write(struct snd_ctx *c, uint32_t blocks, unsigned wait_ms, struct snd_write *w)
{
	uint32_t lba = c->next_lba;

	if ((uint64_t)lba + blocks > c->host_blocks)
		lba = 1024;
	c->next_lba = (lba + blocks + 7u) & ~7u;
	return host_write_at(c, lba, blocks, wait_ms, w);
}

static bool host_good(const struct snd_write *w)
{
	return w->result == 0 && w->status == MIRROR_STATUS_GOOD;
}

/* The mirror ops of a write, in arrival order. */
static size_t write_ops(struct snd_ctx *c, const struct snd_write *w, struct snd_op *out, size_t cap)
{
	size_t n = 0;

	for (size_t i = w->first; i < w->end && n < cap; i++)
		if (snd_rx_get(&c->rx, i, &out[n]) && is_mirror(&out[n]))
			n++;
	return n;
}

/* Fig. 7 block 716 for an op's elements: their descriptors' upper bits
 * (20-bit layouts) agree. */
static bool high_bits_shared(const struct snd_op *o)
{
	for (unsigned i = 1; i < o->sg_n; i++)
		if (o->sg[i].nvram_addr / HIGH_SPAN != o->sg[0].nvram_addr / HIGH_SPAN)
			return false;
	return true;
}

/* Host writes of 4 KiB until one is mirrored (small when want_small), up
 * to timeout_ms: the prototype mirrors (and is out of error recovery). */
static bool await_mirroring(struct snd_ctx *c, bool want_small, unsigned timeout_ms)
{
	uint64_t deadline = snd_now_ns() + (uint64_t)timeout_ms * 1000000u;
	struct snd_write w;
	struct snd_op ops[8];

	while (snd_now_ns() < deadline) {
		if (host_write(c, 8, 300, &w) < 0)
			return false;
		size_t n = write_ops(c, &w, ops, 8);
		for (size_t i = 0; i < n; i++)
			if (!want_small || ops[i].kind == SND_SMALL)
				return true;
		snd_sleep_ms(50);
	}
	return false;
}

int snd_await_login(struct snd_ctx *c, unsigned timeout_ms)
{
	uint64_t deadline = snd_now_ns() + (uint64_t)timeout_ms * 1000000u;

	while (snd_rx_logins(&c->rx) == 0) {
		if (snd_now_ns() >= deadline)
			return -ETIMEDOUT;
		snd_sleep_ms(10);
	}
	return 0;
}

/* The table op of the session that nexus names, the first, or none. */
static bool session_table(struct snd_ctx *c, uint64_t nexus, struct snd_op *out)
{
	size_t n = snd_rx_count(&c->rx);

	for (size_t i = 0; i < n; i++)
		if (snd_rx_get(&c->rx, i, out) && out->kind == SND_TABLE && out->nexus == nexus)
			return true;
	return false;
}

/* ---- Fig. 7 block 712: large until the partner confirmed the table ---- */

static enum conf_verdict case_partner_initialized(struct snd_ctx *c)
{
	struct snd_op t, o;
	struct snd_write w;
	char d[256];
	uint64_t deadline;
	unsigned before = 0, writes = 0;

	if (!c->hold_first_table)
		return snd_skip(c, "runs only as the first case of a run (the prototype's first "
				   "session)");
	/* the first session's table, held since the start */
	deadline = snd_now_ns() + 30000000000ull;
	size_t ti = 0;
	bool found = false;
	while (!found && snd_now_ns() < deadline) {
		size_t n = snd_rx_count(&c->rx);
		for (; ti < n && !found; ti++)
			found = snd_rx_get(&c->rx, ti, &t) && t.kind == SND_TABLE;
		if (!found)
			snd_sleep_ms(10);
	}
	if (!found) {
		snd_rx_hold_tables(&c->rx, false);
		return snd_skip(c, "the prototype sent no ARRAY TABLE UPDATE within 30 s: how it "
				   "learns that its partner is initialized is its own (the command is "
				   "a harness extension, mirror-protocol(7))");
	}
	/* host writes while the partner has not confirmed the table */
	uint64_t until = t.t_arrive_ns + (uint64_t)c->hold_ms * 1000000u;
	while (snd_now_ns() + 100000000u < until) {
		if (host_write(c, 8, 200, &w) < 0)
			break;
		writes++;
		snd_sleep_ms(50);
	}
	snd_rx_hold_tables(&c->rx, false);
	while (snd_rx_get(&c->rx, ti - 1, &t) && !t.done && !t.aborted)
		snd_sleep_ms(2);
	/* every mirror op of that session that arrived before the table's GOOD */
	size_t n = snd_rx_count(&c->rx);
	for (size_t i = 0; i < n; i++) {
		if (!snd_rx_get(&c->rx, i, &o) || !is_mirror(&o) || o.nexus != t.nexus ||
		    o.t_arrive_ns >= t.t_status_ns)
			continue;
		before++;
		if (o.kind == SND_SMALL) {
			describe(&o, d, sizeof(d));
			return snd_fail(c, "%s arrived %.0f ms before the partner confirmed the array "
					   "table (its status held %u ms): before the partner is "
					   "initialized every op goes large (Fig. 7 block 712)", d,
					ms_since(o.t_arrive_ns, t.t_status_ns), c->hold_ms);
		}
	}
	if (before)
		snd_note(c, "%u ops before the table's GOOD, all large", before);
	else
		snd_note(c, "the prototype mirrored none of %u host writes before its table was "
			    "confirmed (it waited or wrote through): no small op early", writes);
	if (t.status != MIRROR_STATUS_GOOD)
		return snd_fail(c, "the suite's receiver refused the prototype's array table (status "
				   "0x%02X): the rest cannot be judged", t.status);
	if (!await_mirroring(c, true, 10000))
		return snd_fail(c, "no host write went small within 10 s after the partner confirmed "
				   "the table (one 4 KiB element each: Fig. 7 blocks 700-720 allow it)");
	snd_note(c, "small after the table's GOOD");
	return CONF_PASS;
}

/* ---- Fig. 7 blocks 700/704: element counts ---- */

static enum conf_verdict case_element_count(struct snd_ctx *c)
{
	static const uint32_t sizes[] = { 4 * KIB, 16 * KIB, 24 * KIB, 32 * KIB, 40 * KIB, 64 * KIB };
	struct snd_op ops[64];
	struct snd_write w;
	char d[256], seen[512] = "";
	unsigned le2 = 0, ge3 = 0;

	if (!await_mirroring(c, false, 20000))
		return snd_fail(c, "no host write was mirrored within 20 s");
	await_mirroring(c, true, 3000); /* settled: out of blocks 708/712 if it ever goes small */
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		if (host_write(c, BLOCKS(sizes[s]), 3000, &w) < 0 || !host_good(&w))
			return snd_fail(c, "host WRITE(10) of %u KiB failed (status 0x%02X, %d)",
					sizes[s] / KIB, w.status, w.result);
		size_t n = write_ops(c, &w, ops, 64);
		if (!n)
			return snd_fail(c, "a %u KiB host write was acknowledged and never mirrored",
					sizes[s] / KIB);
		for (size_t i = 0; i < n; i++) {
			struct snd_op *o = &ops[i];
			size_t used = strlen(seen);
			snprintf(seen + used, sizeof(seen) - used, "%s%u KiB: %u element%s %s",
				 used ? ", " : "", sizes[s] / KIB, o->sg_n, o->sg_n == 1 ? "" : "s",
				 path_name(o));
			describe(o, d, sizeof(d));
			if (o->sg_n == 0)
				return snd_fail(c, "%s: no S/G element", d);
			if (o->sg_n <= 2) {
				le2++;
				if (o->kind == SND_LARGE && high_bits_shared(o))
					return snd_fail(c, "%s: %u S/G element%s with shared high bits, the "
							   "partner initialized, not in recovery: Fig. 7 "
							   "blocks 700/720 say small", d, o->sg_n,
							o->sg_n == 1 ? "" : "s");
			} else {
				ge3++;
				if (o->kind == SND_SMALL)
					return snd_fail(c, "%s: %u elements on the small path (block 700: "
							   "at most 2, else large, 704)", d, o->sg_n);
			}
		}
	}
	snd_note(c, "%s", seen);
	if (!le2 || !ge3)
		return snd_skip(c, "the prototype placed no write in %s S/G elements (%s)",
				!le2 ? "one or two" : "three or more", seen);
	return CONF_PASS;
}

/* ---- its own opcode and region (wire-profile.md, Small path) ---- */

static enum conf_verdict case_own_opcode_region(struct snd_ctx *c)
{
	struct snd_write w;
	struct snd_op o;
	char d[256];
	unsigned small = 0, large = 0;
	uint8_t want_op = mirror_small_opcode_for_region(&c->profile, c->proto_role);
	uint32_t rs = mirror_region_start(&c->profile, c->proto_role);
	uint32_t re = mirror_region_end(&c->profile, c->proto_role);

	await_mirroring(c, true, 10000);
	host_write(c, 8, 3000, &w);
	host_write(c, BLOCKS(64 * KIB), 3000, &w);
	size_t n = snd_rx_count(&c->rx);
	for (size_t i = 0; i < n; i++) {
		if (!snd_rx_get(&c->rx, i, &o) || !is_mirror(&o))
			continue;
		describe(&o, d, sizeof(d));
		if (o.kind == SND_SMALL) {
			small++;
			if (o.opcode != want_op)
				return snd_fail(c, "%s: controller %c's small writes carry 0x%02X (its "
						   "region %u); 0x%02X is its partner's", d,
						c->proto_role ? 'B' : 'A', want_op, c->proto_role, o.opcode);
		} else {
			large++;
			if (!o.decoded)
				continue; /* its metadata never arrived */
			if (o.region != (int)c->proto_role)
				return snd_fail(c, "%s: metadata byte 24 (memory region) is %d; controller "
						   "%c writes region %u", d, o.region,
						c->proto_role ? 'B' : 'A', c->proto_role);
		}
		for (unsigned e = 0; e < o.sg_n; e++)
			if (o.sg[e].nvram_addr < rs || o.sg[e].nvram_addr + (uint64_t)o.sg[e].bytes > re)
				return snd_fail(c, "%s: element %u [0x%08" PRIX32 ", +%" PRIu32 ") is outside "
						   "region %u [0x%08" PRIX32 ", 0x%08" PRIX32 ")", d, e + 1,
						o.sg[e].nvram_addr, o.sg[e].bytes, c->proto_role, rs, re);
	}
	snd_note(c, "%u small ops with 0x%02X, %u large in region %u", small, want_op, large,
		 c->proto_role);
	if (!small && !large)
		return snd_fail(c, "nothing was mirrored");
	if (!small || !large)
		return snd_skip(c, "no %s op to check (%u small, %u large)", !small ? "small" : "large",
				small, large);
	return CONF_PASS;
}

/* ---- the CONTROL-byte hazard (wire-profile.md, Small path: byte 11) ---- */

static enum conf_verdict case_control_byte(struct snd_ctx *c)
{
	struct snd_write w;
	struct snd_op ops[8];
	char d[256];

	await_mirroring(c, true, 10000);
	if (!c->have_delta)
		return snd_skip(c, "no host write was mirrored: the LBA the prototype sends is unknown");
	/* low byte 0x05: NACA (bit 2) and LINK (bit 0) if read as CONTROL */
	uint32_t lba = ((c->next_lba + 255u) & ~255u) + 5u - (uint32_t)c->lba_delta;
	if ((uint64_t)lba + 8 > c->host_blocks)
		lba = 1024u + 5u - (uint32_t)c->lba_delta;
	c->next_lba = (lba + 8u + 7u) & ~7u;
	if (host_write_at(c, lba, 8, 3000, &w) < 0 || !host_good(&w))
		return snd_fail(c, "host WRITE(10) at LBA %u failed (status 0x%02X, %d)", lba, w.status,
				w.result);
	size_t n = write_ops(c, &w, ops, 8);
	if (!n)
		return snd_fail(c, "the write at LBA %u was acknowledged and never mirrored", lba);
	uint32_t want = (uint32_t)((int64_t)lba + c->lba_delta);
	describe(&ops[0], d, sizeof(d));
	if (ops[0].lba != want)
		return snd_fail(c, "%s: host LBA %u should be mirrored as LBA %" PRIu32 " (0x%08" PRIX32
				   "); byte 11 or the LBA was altered", d, lba, want, want);
	if (ops[0].kind == SND_SMALL)
		snd_note(c, "went small with byte 11 = 0x%02X (NACA and LINK set if read as CONTROL): "
			    "a SCSI stack between the controllers that checks the CONTROL byte may "
			    "reject it (reported, not avoided)", ops[0].cdb[11]);
	else
		snd_note(c, "avoided: the write with LBA low byte 0x%02X went large", want & 0xFFu);
	return CONF_PASS;
}

/* ---- splits of at most 1 MiB (Fig. 3; wire-profile.md, Large path) ---- */

static enum conf_verdict case_split(struct snd_ctx *c)
{
	struct snd_write w;
	struct snd_op ops[64];
	char d[256];
	const uint32_t blocks = BLOCKS(2 * MIB + 512 * KIB);

	await_mirroring(c, false, 10000);
	if (host_write(c, blocks, 5000, &w) == 0 && w.result == 0 &&
	    w.status == MIRROR_STATUS_CHECK_CONDITION && w.sense.key == MIRROR_SK_ILLEGAL_REQUEST)
		return snd_skip(c, "the host port refuses a 2.5 MiB WRITE(10) (sense %X/%02X/%02X: its "
				   "MAXIMUM TRANSFER LENGTH, SBC-3 6.5.3): no host write over 1 MiB to "
				   "split (mirror-ctl: --max-transfer)", w.sense.key, w.sense.asc,
				w.sense.ascq);
	if (w.result < 0 || !host_good(&w))
		return snd_fail(c, "host WRITE(10) of 2.5 MiB failed (status 0x%02X, %d)", w.status,
				w.result);
	size_t n = write_ops(c, &w, ops, 64);
	if (!n)
		return snd_fail(c, "a 2.5 MiB host write was acknowledged and never mirrored");
	uint64_t sum = 0;
	for (size_t i = 0; i < n; i++) {
		describe(&ops[i], d, sizeof(d));
		if (ops[i].blocks > BLOCKS(MIB))
			return snd_fail(c, "%s: over 1 MiB in one op (Fig. 3: pieces of 1 MiB or less)", d);
		if (ops[i].kind == SND_LARGE && ops[i].sg_n > MIRROR_METADATA_SG_MAX)
			return snd_fail(c, "%s: over 64 S/G elements", d);
		if (i && ops[i].lba != ops[i - 1].lba + ops[i - 1].blocks)
			return snd_fail(c, "%s does not start where op #%" PRIu64 " ended (LBA %" PRIu32 ")",
					d, ops[i - 1].index, ops[i - 1].lba + ops[i - 1].blocks);
		if (i && ops[i].kind == SND_LARGE && ops[i - 1].kind == SND_LARGE &&
		    ops[i].nexus == ops[i - 1].nexus && ops[i].sequence != ops[i - 1].sequence + 1)
			return snd_fail(c, "%s: sequence %" PRIu32 " after %" PRIu32 " within one split "
					   "write (consecutive, wire-profile.md)", d, ops[i].sequence,
					ops[i - 1].sequence);
		sum += ops[i].blocks;
	}
	if (sum != blocks)
		return snd_fail(c, "the ops carry %" PRIu64 " blocks of the write's %u", sum, blocks);
	snd_note(c, "2.5 MiB in %zu ops (%" PRIu32 "..%" PRIu32 " blocks)", n, ops[0].blocks,
		 ops[n - 1].blocks);
	return CONF_PASS;
}

/* ---- sequence numbers consecutive across a session (Fig. 3) ---- */

static enum conf_verdict case_sequence(struct snd_ctx *c)
{
	struct snd_write w;
	struct snd_op o, prev;
	memset(&prev, 0, sizeof(prev));
	char d[256];
	bool have_prev = false;
	unsigned pairs = 0;

	await_mirroring(c, false, 10000);
	for (int i = 0; i < 4; i++)
		host_write(c, BLOCKS(64 * KIB), 3000, &w);
	size_t n = snd_rx_count(&c->rx);
	for (size_t i = 0; i < n; i++) {
		if (!snd_rx_get(&c->rx, i, &o) || o.kind != SND_LARGE || !o.decoded)
			continue;
		if (have_prev && prev.nexus == o.nexus) {
			pairs++;
			if (o.sequence != prev.sequence + 1) {
				describe(&o, d, sizeof(d));
				return snd_fail(c, "%s: sequence %" PRIu32 " follows %" PRIu32 " (op #%" PRIu64
						   ") on the same session: each metadata message "
						   "increments it (consecutive per sender)", d, o.sequence,
						prev.sequence, prev.index);
			}
		}
		prev = o;
		have_prev = true;
	}
	if (!pairs)
		return snd_skip(c, "fewer than two large ops on one session");
	snd_note(c, "%u successive large ops consecutive", pairs);
	return CONF_PASS;
}

/* ---- acknowledged only after the partner's GOOD (Fig. 5 blocks 528/532) ---- */

static enum conf_verdict case_ack_after_good(struct snd_ctx *c)
{
	static const uint32_t sizes[] = { 4 * KIB, 64 * KIB };
	struct snd_write w;
	struct snd_op ops[16];
	char d[256], seen[256] = "";
	enum conf_verdict v = CONF_PASS;

	await_mirroring(c, false, 10000);
	snd_rx_set_delay(&c->rx, c->delay_ms);
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]) && v == CONF_PASS; s++) {
		if (host_write(c, BLOCKS(sizes[s]), c->delay_ms + 5000, &w) < 0 || !host_good(&w)) {
			v = snd_fail(c, "host WRITE(10) of %u KiB failed (status 0x%02X, %d)",
				     sizes[s] / KIB, w.status, w.result);
			break;
		}
		size_t n = write_ops(c, &w, ops, 16);
		if (w.mirrored_blocks < w.blocks) {
			v = snd_fail(c, "a %u KiB host write was acknowledged with %" PRIu64 " of its %u "
					"blocks mirrored while the partner was up",
				     sizes[s] / KIB, w.mirrored_blocks, w.blocks);
			break;
		}
		for (size_t i = 0; i < n; i++) {
			describe(&ops[i], d, sizeof(d));
			if (!ops[i].done || ops[i].t_status_ns > w.t1_ns) {
				v = snd_fail(c, "the host's GOOD came %.1f ms after the write was issued, "
						"before the partner's status for %s (held %u ms, sent at "
						"%.1f ms): acknowledge only after the partner's GOOD "
						"(Fig. 5 block 532)",
					     ms_since(w.t0_ns, w.t1_ns), d, c->delay_ms,
					     ops[i].done ? ms_since(w.t0_ns, ops[i].t_status_ns) : -1.0);
				break;
			}
		}
		size_t used = strlen(seen);
		snprintf(seen + used, sizeof(seen) - used, "%s%u KiB %s: host latency %.1f ms",
			 used ? ", " : "", sizeof(seen) > used ? sizes[s] / KIB : 0,
			 n ? path_name(&ops[0]) : "-", ms_since(w.t0_ns, w.t1_ns));
	}
	snd_rx_set_delay(&c->rx, 0);
	snd_note(c, "partner's status held %u ms; %s", c->delay_ms, seen);
	return v;
}

/* ---- Fig. 7 blocks 716/720: shared vs differing high descriptor bits ---- */

/* Where the prototype's NVRAM placement went on: the end of the last
 * element of the last mirror op of w. */
static bool placement_after(struct snd_ctx *c, const struct snd_write *w, uint32_t *pos)
{
	struct snd_op ops[64];
	size_t n = write_ops(c, w, ops, 64);

	if (!n || !ops[n - 1].sg_n)
		return false;
	const struct mirror_sg_element *e = &ops[n - 1].sg[ops[n - 1].sg_n - 1];
	*pos = e->nvram_addr + e->bytes;
	return true;
}

static enum conf_verdict case_high_bits(struct snd_ctx *c)
{
	struct snd_write w;
	struct snd_op ops[8];
	char d[256];
	uint32_t rs = mirror_region_start(&c->profile, c->proto_role);
	uint32_t re = mirror_region_end(&c->profile, c->proto_role);
	uint32_t pos, b;
	uint64_t filled = 0;

	if (c->profile.small_layout != MIRROR_SMALL_CDB12_20BIT)
		return snd_skip(c, "the profile's small layout shares no 4 high bits of 20");
	/* the first 32 MiB boundary inside the region */
	b = (uint32_t)(((uint64_t)rs / HIGH_SPAN + 1) * HIGH_SPAN);
	if (b >= re)
		return snd_skip(c, "region %u [0x%08" PRIX32 ", 0x%08" PRIX32 ") holds no 32 MiB "
				   "descriptor boundary: no write can straddle one", c->proto_role, rs, re);
	await_mirroring(c, true, 10000);
	if (host_write(c, 8, 3000, &w) < 0 || !placement_after(c, &w, &pos))
		return snd_fail(c, "a 4 KiB host write was not mirrored");
	/* aim at the next boundary after where the placement is */
	while (b <= pos && b + HIGH_SPAN < re)
		b += (uint32_t)HIGH_SPAN;
	if (b <= pos)
		b = (uint32_t)(((uint64_t)rs / HIGH_SPAN + 1) * HIGH_SPAN); /* after the ring's wrap */
	const uint32_t lead = 8 * KIB; /* the probe starts 8 KiB before the boundary */
	while (filled < (uint64_t)c->fill_max_mib * MIB) {
		uint64_t gap = pos <= b - lead ? (uint64_t)(b - lead) - pos
					       : (uint64_t)(re - pos) + (b - lead - rs);
		if (gap == 0)
			break;
		uint64_t chunk = gap > MIB ? MIB : gap;
		if (host_write(c, BLOCKS(chunk), 5000, &w) < 0 || !host_good(&w))
			return snd_fail(c, "a fill write of %" PRIu64 " KiB failed (status 0x%02X)",
					chunk / KIB, w.status);
		uint32_t was = pos;
		if (!placement_after(c, &w, &pos))
			return snd_fail(c, "a fill write of %" PRIu64 " KiB was not mirrored", chunk / KIB);
		uint32_t want = (uint32_t)(rs + ((uint64_t)(was - rs) + chunk) % (re - rs));
		if (pos != want && !(pos == re && want == rs))
			return snd_skip(c, "the prototype's placement is not a ring the suite can steer: "
					   "after 0x%08" PRIX32 " + %" PRIu64 " KiB it ended at 0x%08" PRIX32
					   " (a ring: 0x%08" PRIX32 "); no write was placed across the "
					   "boundary at 0x%08" PRIX32, was, chunk / KIB, pos, want, b);
		filled += chunk;
	}
	if (pos != b - lead)
		return snd_skip(c, "the boundary at 0x%08" PRIX32 " was not reached after %" PRIu64
				   " MiB of fill (--fill-max)", b, filled / MIB);
	/* 24 KiB from 8 KiB before the boundary: two 16 KiB-or-less elements
	 * whose descriptors differ in their upper bits if the second starts
	 * past the boundary */
	if (host_write(c, BLOCKS(24 * KIB), 3000, &w) < 0 || !host_good(&w))
		return snd_fail(c, "the probe write of 24 KiB failed (status 0x%02X)", w.status);
	size_t n = write_ops(c, &w, ops, 8);
	if (!n)
		return snd_fail(c, "the probe write was acknowledged and never mirrored");
	snd_note(c, "%" PRIu64 " MiB of fill to reach 0x%08" PRIX32, filled / MIB, b - lead);
	uint32_t expect = b - lead; /* where the write's bytes go on, element by element */
	bool straddled = false;
	for (size_t i = 0; i < n; i++) {
		struct snd_op *o = &ops[i];
		describe(o, d, sizeof(d));
		if (o->kind == SND_SMALL) {
			for (unsigned e = 0; e < o->sg_n; e++) {
				if (o->sg[e].nvram_addr != expect)
					return snd_fail(c, "%s: element %u names 0x%08" PRIX32 " but the write "
							   "goes on at 0x%08" PRIX32 " (high bits 0x%X, the "
							   "CDB carries 0x%X): the partner stores it %s off; "
							   "differing high bits go large (Fig. 7 block 716)",
							d, e + 1, o->sg[e].nvram_addr, expect,
							(unsigned)(expect / HIGH_SPAN), o->cei_high,
							o->sg[e].nvram_addr < expect ? "32 MiB" : "elsewhere");
				expect += o->sg[e].bytes;
			}
			snd_note(c, "%s: high bits shared, small (block 720)", d);
		} else {
			bool shared = high_bits_shared(o);
			if (!shared)
				straddled = true;
			if (shared && o->sg_n <= 2)
				return snd_fail(c, "%s: 2 elements with shared high bits went large "
						   "(Fig. 7 block 720: small)", d);
			snd_note(c, "%s: %s, large (block %s)", d,
				 shared ? "more than 2 elements" : "high bits differ",
				 shared ? "700/704" : "716/704");
			if (o->sg_n)
				expect = o->sg[o->sg_n - 1].nvram_addr + o->sg[o->sg_n - 1].bytes;
		}
	}
	if (!straddled && !(n == 1 && ops[0].kind == SND_SMALL))
		return snd_skip(c, "no op of the probe had elements on both sides of 0x%08" PRIX32, b);
	return CONF_PASS;
}

/* ---- a CHECK CONDITION from the partner is no GOOD (Fig. 5 block 532) ---- */

static enum conf_verdict case_check_condition(struct snd_ctx *c)
{
	struct snd_write w;
	struct snd_op ops[16], failed;
	char d[256];
	bool have_failed = false;

	await_mirroring(c, false, 10000);
	snd_rx_check_next(&c->rx, 1);
	host_write(c, 8, 3000, &w);
	snd_rx_check_next(&c->rx, 0);
	size_t n = write_ops(c, &w, ops, 16);
	for (size_t i = 0; i < n; i++) {
		if (ops[i].forced_check) {
			failed = ops[i];
			have_failed = true;
			break;
		}
	}
	if (!have_failed)
		return snd_skip(c, "the write was not mirrored (%s): no CHECK CONDITION to give",
				host_good(&w) ? "acknowledged" : "not acknowledged");
	describe(&failed, d, sizeof(d));
	if (!host_good(&w)) {
		snd_note(c, "the host got status 0x%02X (sense %X/%02X/%02X) after the partner's CHECK "
			    "CONDITION for %s", w.status, w.sense.key, w.sense.asc, w.sense.ascq, d);
		return CONF_PASS;
	}
	/* GOOD: a retry the partner answered GOOD first? */
	for (size_t i = 0; i < n; i++) {
		if (ops[i].index > failed.index && ops[i].done && ops[i].status == MIRROR_STATUS_GOOD &&
		    ops[i].lba == failed.lba && ops[i].t_status_ns <= w.t1_ns) {
			snd_note(c, "retried as op #%" PRIu64 ", GOOD before the host's", ops[i].index);
			return CONF_PASS;
		}
	}
	/* or it gave the partner up (its session ends) and made the write
	 * safe another way before the GOOD: the link's end is seen here a
	 * little after the host's GOOD, so it has 2 s */
	for (int i = 0; i < 200 && !snd_rx_nexus_ended(&c->rx, failed.nexus); i++)
		snd_sleep_ms(10);
	if (snd_rx_nexus_ended(&c->rx, failed.nexus)) {
		snd_note(c, "the prototype ended the session after the CHECK CONDITION for %s and "
			    "acknowledged the host (write-through, partner given up)", d);
		return CONF_PASS;
	}
	return snd_fail(c, "the host got GOOD %.1f ms after the write although the partner answered "
			   "%s with CHECK CONDITION, the prototype did not retry it and kept the "
			   "session: a failed mirror is no GOOD (Fig. 5 block 532)",
			ms_since(w.t0_ns, w.t1_ns), d);
}

/* ---- Fig. 7 block 708: large in error recovery ---- */

static enum conf_verdict case_error_recovery(struct snd_ctx *c)
{
	struct snd_write w;
	struct snd_op ops[8], t, o;
	char d[256];

	if (!await_mirroring(c, true, 10000))
		return snd_skip(c, "no write went small before the partner's restart: the case "
				   "needs a prototype that uses the small path when whole");
	uint64_t logins = snd_rx_logins(&c->rx);
	size_t mark = snd_rx_count(&c->rx);
	/* the partner goes away (its connections close, logins wait), a host
	 * write meanwhile, then it is back */
	snd_rx_pause(&c->rx, true);
	snd_sleep_ms(c->gap_ms / 2);
	host_write(c, 8, 300, &w);
	snd_sleep_ms(c->gap_ms - c->gap_ms / 2);
	snd_rx_pause(&c->rx, false);
	uint64_t deadline = snd_now_ns() + 30000000000ull;
	while (snd_rx_logins(&c->rx) == logins && snd_now_ns() < deadline)
		snd_sleep_ms(10);
	if (snd_rx_logins(&c->rx) == logins)
		return snd_fail(c, "the prototype did not log in again within 30 s of the partner's "
				   "return");
	/* the new session's table, confirmed (block 712 out of the way) */
	size_t n = snd_rx_count(&c->rx);
	uint64_t nexus = 0;
	for (size_t i = mark; i < n && !nexus; i++)
		if (snd_rx_get(&c->rx, i, &o))
			nexus = o.nexus;
	while (snd_now_ns() < deadline) {
		if (session_table(c, nexus, &t) && t.done)
			break;
		snd_sleep_ms(10);
	}
	if (!session_table(c, nexus, &t))
		snd_note(c, "no array table on the new session");
	uint64_t back = snd_now_ns();
	/* the first write the prototype mirrors now */
	deadline = back + 10000000000ull;
	while (snd_now_ns() < deadline) {
		host_write(c, 8, 300, &w);
		size_t k = write_ops(c, &w, ops, 8);
		if (!k) {
			snd_sleep_ms(20);
			continue;
		}
		describe(&ops[0], d, sizeof(d));
		if (ops[0].kind == SND_SMALL)
			return snd_fail(c, "%s: the first write mirrored %.0f ms after the partner "
					   "restarted and confirmed the table went small: in error "
					   "recovery every op goes large (Fig. 7 block 708)", d,
					ms_since(back, w.t0_ns));
		snd_note(c, "first mirrored write after the partner's return: %s", d);
		if (!await_mirroring(c, true, 15000))
			return snd_fail(c, "still no small op 15 s after the partner's return: the "
					   "prototype never left error recovery");
		snd_note(c, "small again %.0f ms after the partner's return", ms_since(back, snd_now_ns()));
		return CONF_PASS;
	}
	return snd_fail(c, "no host write was mirrored within 10 s of the partner's return");
}

/* ---- the table ---- */

#define REF_FIG7 "source Fig. 7"
/* One row a case: its name under MIRROR.Sender, its function, what it
 * checks, and where the spec says so. */
#define SND_CASE(name, fn, desc, ref) { { "MIRROR.Sender." name, desc, ref, 0, NULL, NULL }, fn }
const struct snd_case snd_cases[] = {
	SND_CASE("PartnerInitialized", case_partner_initialized,
		 "large until the partner confirmed the array table, small after", REF_FIG7 " block 712"),
	SND_CASE("ElementCount", case_element_count,
		 "one and two S/G elements go small, three and more large; reports the counts used",
		 REF_FIG7 " blocks 700/704/720"),
	SND_CASE("OwnOpcodeRegion", case_own_opcode_region,
		 "small writes carry the sender's opcode, every op its own NVRAM region",
		 "wire-profile.md Small path; source Figs. 3, 6"),
	SND_CASE("ControlByte", case_control_byte,
		 "a write whose LBA low byte sets NACA and LINK: LBA intact, small (reported) or large",
		 "wire-profile.md Small path, Hazard (byte 11)"),
	SND_CASE("Split", case_split,
		 "a 2.5 MiB write in ops of at most 1 MiB, contiguous, consecutive sequence numbers",
		 "source Fig. 3; wire-profile.md Large path"),
	SND_CASE("Sequence", case_sequence, "large ops' sequence numbers consecutive across a session",
		 "source Fig. 3; wire-profile.md Metadata"),
	SND_CASE("AckAfterGood", case_ack_after_good,
		 "the host is acknowledged only after the partner's (delayed) GOOD",
		 "source Fig. 5 blocks 528/532"),
	SND_CASE("HighBits", case_high_bits,
		 "a write across a 32 MiB descriptor boundary goes large, shared high bits small",
		 REF_FIG7 " blocks 716/720"),
	SND_CASE("CheckCondition", case_check_condition,
		 "a CHECK CONDITION from the partner is not acknowledged to the host as GOOD",
		 "source Fig. 5 block 532"),
	SND_CASE("ErrorRecovery", case_error_recovery,
		 "after the partner restarted (error recovery) large, small once whole again",
		 REF_FIG7 " block 708"),
};
const size_t snd_case_count = sizeof(snd_cases) / sizeof(snd_cases[0]);
