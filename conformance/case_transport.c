/* Transport behaviour: does each mirror opcode reach the target unchanged
 * (a stack in between may take 0xA0 for REPORT LUNS: through QEMU's
 * scsi-generic a data-out 0xA0 came back DID_ERROR), the opcode clash
 * (wire-profile.md "Small path": READ BUFFER 0x3C and REPORT LUNS 0xA0 as
 * data-in answer as SPC says while the mirror commands work as data-out),
 * and the interrupt minima measured on a live capture of the run
 * (wire-profile.md "Interrupt accounting model": 3 small, 4 large). */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include <mirror/dissect_run.h>
#include <mirror/url.h>
#include "app/emu/stats.h"
#include "iscsi/stats.h"

#include "conform.h"

/* The small and large writes must reach the target as themselves.  A
 * harness extension must reach it too, but may be answered as not
 * implemented (INVALID COMMAND OPERATION CODE): a prototype need not have
 * it, and the cases that need it skip (wire-profile.md: a test that needs
 * an extension is skipped against a target that lacks it). */
static enum conf_verdict run_opcodes_reach(struct conf_ctx *c)
{
	const struct conf_support *s = &c->support;
	const struct {
		bool ok, extension, lost;
		const char *name, *why;
	} ops[] = { { s->notify, false, true, "the large path", s->notify_why },
		    { s->small, false, true, "the small path", s->small_why },
		    { s->table, true, s->table_lost, "ARRAY TABLE UPDATE", s->table_why },
		    { s->readback, true, s->readback_lost, "NVRAM READBACK", s->readback_why } };
	enum conf_verdict v = CONF_PASS;

	if (conf_not_a_receiver(s))
		return conf_skip(c, "no mirror command reaches the target as one: not a mirror receiver (%s)",
				 s->small_why);
	/* Some work, so the target is a receiver: the others were changed
	 * or dropped on the way, or are missing. */
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (ops[i].ok)
			continue;
		if (ops[i].extension && !ops[i].lost) {
			conf_note(c, "%s (harness extension) reached the target, which lacks it: its cases skip (%s)",
				  ops[i].name, ops[i].why);
			continue;
		}
		v = CONF_FAIL;
		conf_note(c, "%s", ops[i].why);
	}
	return v;
}

static const struct conf_sense invalid_opcode = CONF_INVALID_OPCODE;

/* READ BUFFER (10), mode 02h (data), 512 bytes, as data-in: GOOD from a
 * target that implements it, INVALID COMMAND OPERATION CODE otherwise;
 * never an answer of the mirror command.  Then a large write works. */
static enum conf_verdict run_read_buffer(struct conf_ctx *c)
{
	static uint8_t in[512], buf[MIRROR_METADATA_BYTES + 4096];
	struct mirror_metadata md;
	struct mirror_cmd cmd;

	memset(&cmd, 0, sizeof(cmd));
	cmd.cdb[0] = c->profile.op.notify;
	cmd.cdb[1] = 0x02;
	cmd.cdb[7] = 0x02; /* allocation length 512 */
	cmd.cdb_len = 10;
	cmd.dir = MIRROR_DIR_IN;
	cmd.data_in = in;
	cmd.data_in_len = sizeof(in);
	conf_send(c, &cmd, "READ BUFFER (data-in)");
	if (!(cmd.result == 0 && cmd.status == MIRROR_STATUS_GOOD) &&
	    conf_check(c, &cmd, "READ BUFFER(10) as data-in", &invalid_opcode) != CONF_PASS)
		return CONF_FAIL;
	conf_md_init(c, &md, c->scratch, 1, 4096, 0x8000);
	conf_large_cmd(c, NULL, &md, false, buf, 4096, 8, &cmd);
	conf_send(c, &cmd, "large write (data-out)");
	return conf_check(c, &cmd, "the large write after READ BUFFER", NULL);
}

/* REPORT LUNS as data-in: GOOD with a LUN list (SPC: mandatory), then a
 * small write works. */
static enum conf_verdict run_report_luns(struct conf_ctx *c)
{
	static uint8_t in[4096], data[4096];
	struct mirror_small_cdb s;
	struct mirror_cmd cmd;

	memset(&cmd, 0, sizeof(cmd));
	cmd.cdb[0] = mirror_small_opcode_for_region(&c->profile, c->region);
	cmd.cdb[8] = sizeof(in) >> 8; /* allocation length, bytes 6-9 */
	cmd.cdb_len = 12;
	cmd.dir = MIRROR_DIR_IN;
	cmd.data_in = in;
	cmd.data_in_len = sizeof(in);
	conf_send(c, &cmd, "REPORT LUNS (data-in)");
	if (cmd.cdb[0] != 0xA0)
		conf_note(c, "small opcode 0x%02X is not REPORT LUNS's: checked as data-in all the same",
			  cmd.cdb[0]);
	if (cmd.cdb[0] == 0xA0) {
		if (conf_check(c, &cmd, "REPORT LUNS as data-in", NULL) != CONF_PASS)
			return CONF_FAIL;
		uint32_t list = (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | in[3];
		if (cmd.data_in_got < 8 || list % 8 || list == 0)
			return conf_fail(c, "REPORT LUNS: %u bytes, LUN LIST LENGTH %u; expected a list of 8-byte LUNs",
					 (unsigned)cmd.data_in_got, (unsigned)list);
	} else if (!(cmd.result == 0 && cmd.status == MIRROR_STATUS_GOOD) &&
		   conf_check(c, &cmd, "small opcode as data-in", &invalid_opcode) != CONF_PASS) {
		return CONF_FAIL;
	}
	conf_small_init(c, &s, c->scratch, 8, 0, 0, 0x8000);
	conf_small_cmd(c, &s, data, sizeof(data), 9, &cmd);
	conf_send(c, &cmd, "small write (data-out)");
	return conf_check(c, &cmd, "the small write after REPORT LUNS", NULL);
}

/* ---- interrupt minima on a live capture ---- */

struct capture_run {
	struct mirror_dissect_run_opts o;
	atomic_bool stop, ended;
	int rc;
	struct mirror_dissect_run_stats st;
	unsigned ops[2], bad[2];
	unsigned worst[2];
};

static void on_tick(void *ctx, struct mirror_capture *cap)
{
	struct capture_run *r = ctx;

	if (atomic_load(&r->stop))
		mirror_capture_break(cap);
}

/* Each 4 KiB operation is one burst: no more than the minimum. */
static void on_op(void *ctx, const struct mirror_dissect_op *op)
{
	static const unsigned minimum[] = { [MIRROR_DISSECT_SMALL] = 3, [MIRROR_DISSECT_LARGE] = 4 };
	struct capture_run *r = ctx;

	if (op->path > MIRROR_DISSECT_LARGE || !op->complete)
		return;
	r->ops[op->path]++;
	/* more is a burst too many; fewer is immediate data (modern
	 * negotiation), which the accounting model counts as none */
	if (op->cost.interrupts > minimum[op->path]) {
		r->bad[op->path]++;
		r->worst[op->path] = op->cost.interrupts;
	}
}

static void *capture_thread(void *arg)
{
	struct capture_run *r = arg;

	r->rc = mirror_dissect_run(&r->o, on_op, r, &r->st);
	atomic_store(&r->ended, true);
	return NULL;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* The target's port (mirror_url_parse), or 3260 for one without. */
static unsigned url_port(const char *url)
{
	struct mirror_url u;

	return mirror_url_parse(url, &u, NULL, 0) == 0 ? u.port : MIRROR_ISCSI_PORT;
}

/* Two 4 KiB small and two 4 KiB large writes: one burst each. */
static enum conf_verdict send_four(struct conf_ctx *c)
{
	static uint8_t data[4096], buf[MIRROR_METADATA_BYTES + 4096];
	struct mirror_small_cdb s;
	struct mirror_metadata md;
	struct mirror_cmd cmd;
	enum conf_verdict v = CONF_PASS;

	for (unsigned i = 0; v == CONF_PASS && i < 2; i++) {
		conf_small_init(c, &s, c->scratch + i * 8192, 8, 0, 0, 0x9000);
		conf_small_cmd(c, &s, data, sizeof(data), 60 + i, &cmd);
		conf_send(c, &cmd, "small write");
		v = conf_check(c, &cmd, "small write", NULL);
		if (v != CONF_PASS)
			break;
		conf_md_init(c, &md, c->scratch + 65536 + i * 8192, 1, 4096, 0x9100);
		conf_large_cmd(c, NULL, &md, false, buf, 4096, 70 + i, &cmd);
		conf_send(c, &cmd, "large write");
		v = conf_check(c, &cmd, "large write", NULL);
	}
	return v;
}

/* Where no capture can be taken: mirror-emu's own counters (--emu-stats),
 * before and after the same four writes.  Each kind must have cost
 * exactly its minimum per operation. */
static int stats_of(struct conf_ctx *c, const char *kind, int64_t *ops, int64_t *interrupts)
{
	static struct mirror_stats s;
	char err[512];

	if (mirror_stats_read(c->emu_stats, &s, err, sizeof(err)) < 0) {
		conf_fail(c, "mirror-emu stats socket %s", err);
		return -1;
	}
	for (unsigned i = 0; i < MIRROR_RX_KINDS; i++)
		if (s.have_kind[i] && !strcmp(mirror_stats_kind_name(i), kind)) {
			*ops = (int64_t)s.kind[i].ops;
			*interrupts = (int64_t)s.kind[i].interrupts;
			return 0;
		}
	conf_fail(c, "mirror-emu stats socket %s: no kinds.%s", c->emu_stats, kind);
	return -1;
}

static enum conf_verdict minima_from_stats(struct conf_ctx *c, const char *no_capture)
{
	static const struct {
		const char *kind;
		int64_t minimum;
	} kinds[] = { { "small", 3 }, { "large", 4 } };
	int64_t ops0[2], int0[2], ops1[2], int1[2];
	enum conf_verdict v;

	for (unsigned i = 0; i < 2; i++)
		if (stats_of(c, kinds[i].kind, &ops0[i], &int0[i]) < 0)
			return CONF_FAIL;
	if ((v = send_four(c)) != CONF_PASS)
		return v;
	for (unsigned i = 0; i < 2; i++) {
		if (stats_of(c, kinds[i].kind, &ops1[i], &int1[i]) < 0)
			return CONF_FAIL;
		int64_t ops = ops1[i] - ops0[i], ints = int1[i] - int0[i];
		if (ops != 2)
			return conf_fail(c, "mirror-emu counted %lld %s operations of the 2 sent",
					 (long long)ops, kinds[i].kind);
		if (ints > 2 * kinds[i].minimum)
			return conf_fail(c, "2 4 KiB %s writes cost the receiver %lld interrupts (mirror-emu's counters); expected %lld each",
					 kinds[i].kind, (long long)ints, (long long)kinds[i].minimum);
		if (ints < 2 * kinds[i].minimum)
			conf_note(c, "%s: %lld interrupts per write (immediate data)", kinds[i].kind,
				  (long long)ints / 2);
	}
	conf_note(c, "measured on mirror-emu's counters (%s)", no_capture);
	return CONF_PASS;
}

static enum conf_verdict run_interrupt_minima(struct conf_ctx *c)
{
	struct capture_run *r = calloc(1, sizeof(*r));
	pthread_t th;
	char filter[64];
	enum conf_verdict v = CONF_PASS;

	if (!r)
		return conf_fail(c, "out of memory");
	snprintf(filter, sizeof(filter), "tcp port %u", url_port(c->target));
	r->o.iface = "lo";
	r->o.filter = filter;
	r->o.target_port = (uint16_t)url_port(c->target);
	r->o.tick = on_tick;
	r->o.tick_ctx = r;
	r->o.tick_ms = 20;
	r->o.dissect.profile = &c->profile;
	if (pthread_create(&th, NULL, capture_thread, r) != 0) {
		free(r);
		return conf_skip(c, "cannot start the capture thread");
	}
	/* libpcap opens in a few ms */
	sleep_ms(300);
	if (atomic_load(&r->ended)) {
		pthread_join(th, NULL);
		char why[400];
		snprintf(why, sizeof(why), "no live capture on lo (%.300s)",
			 r->st.error[0] ? r->st.error : "it ended at once");
		free(r);
		if (c->emu_stats)
			return minima_from_stats(c, why);
		return conf_skip(c, "%s: needs root or CAP_NET_RAW, or --emu-stats", why);
	}
	/* a new connection, so the capture sees its login (digests, lengths) */
	mirror_transport_close(c->t);
	struct mirror_transport_opts o = c->topts;
	char err[256];
	o.initiator_name = c->initiator;
	c->t = mirror_transport_open(c->target, &o, err, sizeof(err));
	if (!c->t)
		v = conf_fail(c, "cannot reconnect: %s", err);
	if (c->t && v == CONF_PASS)
		v = send_four(c);
	/* The capture's tick comes every tick_ms whether packets arrive or
	 * not: it sees the stop flag and ends the capture.  A little time
	 * first, so that the last responses are read. */
	sleep_ms(100);
	atomic_store(&r->stop, true);
	for (unsigned i = 0; i < 300 && !atomic_load(&r->ended); i++)
		sleep_ms(10);
	if (c->t)
		mirror_transport_close(c->t);
	c->t = NULL;
	if (!atomic_load(&r->ended)) {
		/* A capture that does not end is stuck in libpcap; its thread
		 * ends with the watched process, so r is not freed under it. */
		return v != CONF_PASS ? v : conf_fail(c, "the live capture on lo did not end within 3 s of being told to");
	}
	pthread_join(th, NULL);
	if (v == CONF_PASS && r->rc == 0 && r->st.capture.packets == 0) {
		/* Open but blind (a sandbox without packet sockets on lo). */
		free(r);
		if (!c->emu_stats)
			return conf_skip(c, "the live capture on lo sees no packets here; --emu-stats would count on mirror-emu");
		struct mirror_transport_opts o2 = c->topts;
		o2.initiator_name = c->initiator;
		c->t = mirror_transport_open(c->target, &o2, err, sizeof(err));
		if (!c->t)
			return conf_fail(c, "cannot reconnect: %s", err);
		return minima_from_stats(c, "the live capture on lo sees no packets here");
	}
	if (v == CONF_PASS) {
		if (r->rc < 0)
			v = conf_fail(c, "the capture failed: %s", r->st.error);
		else if (r->ops[MIRROR_DISSECT_SMALL] < 2 || r->ops[MIRROR_DISSECT_LARGE] < 2)
			v = conf_fail(c, "the capture decoded %u small and %u large operations of the 2 + 2 sent",
				      r->ops[MIRROR_DISSECT_SMALL], r->ops[MIRROR_DISSECT_LARGE]);
		else if (r->bad[MIRROR_DISSECT_SMALL])
			v = conf_fail(c, "%u of %u 4 KiB small writes cost the receiver %u interrupts; expected 3 (command, data, status)",
				      r->bad[MIRROR_DISSECT_SMALL], r->ops[MIRROR_DISSECT_SMALL],
				      r->worst[MIRROR_DISSECT_SMALL]);
		else if (r->bad[MIRROR_DISSECT_LARGE])
			v = conf_fail(c, "%u of %u 4 KiB large writes cost the receiver %u interrupts; expected 4 (command, metadata, data, status)",
				      r->bad[MIRROR_DISSECT_LARGE], r->ops[MIRROR_DISSECT_LARGE],
				      r->worst[MIRROR_DISSECT_LARGE]);
	}
	free(r);
	return v;
}

#define CLASH "wire-profile.md \"Small path\" (opcode clash), \"Receiver behaviour and status\""

static const struct conf_case cases[] = {
	{ "MIRROR.Transport.OpcodesReachTarget", "every mirror opcode reaches the target: the writes answered as themselves, the harness extensions as themselves or as not implemented", "wire-profile.md \"Small path\" (the opcodes are a profile setting)", 0, run_opcodes_reach, NULL },
	{ "MIRROR.Transport.ReadBufferDataIn", "0x3C as data-in answers as READ BUFFER (or INVALID COMMAND OPERATION CODE), 0x3C as data-out mirrors", CLASH, CONF_NEED_NOTIFY, run_read_buffer, NULL },
	{ "MIRROR.Transport.ReportLunsDataIn", "0xA0 as data-in answers as REPORT LUNS, 0xA0 as data-out mirrors", CLASH, CONF_NEED_SMALL | CONF_NEED_VOLUMES, run_report_luns, NULL },
	{ "MIRROR.Transport.InterruptMinima", "on a live capture, a 4 KiB small write costs the receiver at most 3 interrupts and a large one at most 4", "wire-profile.md \"Interrupt accounting model\"; source: at least 3 / at least 4", CONF_NEED_ISCSI | CONF_NEED_SMALL | CONF_NEED_NOTIFY | CONF_NEED_VOLUMES, run_interrupt_minima, NULL },
};

const struct conf_area conf_area_transport = { "MIRROR.Transport", cases, sizeof(cases) / sizeof(cases[0]) };
