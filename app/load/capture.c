/* mirror-load's capture of its own run: mirror_dissect_run over a live
 * capture in a thread of its own, its summary turned into the receiver's
 * cost per path (app/load/load.h).
 *
 * Why a thread: the load's engine keeps its own poll(2) loop, and libpcap
 * (TPACKET_V3) may wait without a timeout while the link is idle, so the
 * capture cannot share the loop.  The thread learns the capture's handle at
 * its first tick; to end, the main thread breaks it (pcap_breakloop is
 * safe from another thread).  A capture that never ticked (a handful of
 * packets, then silence) cannot be woken: its summary is read under the
 * lock and the thread is left to the process's exit. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mirror/url.h>

#include "app/load/load.h"

#include "base/why.h"

/* How long the capture gets to open (or fail) before the load connects,
 * and to take in the last packets after it. */
#define OPEN_WAIT_MS 300u
#define TAIL_WAIT_MS 200u
#define END_WAIT_MS 500u
#define TICK_MS 50u
#define STEP_MS 10u
/* The kernel's buffer for the capture: a load of tens of thousands of ops
 * a second must not outrun the decoder on a busy machine (libpcap's
 * default is 2 MiB). */
#define CAPTURE_BUFFER_BYTES (32u << 20)

struct mirror_load_capture {
	pthread_t thread;
	pthread_mutex_t mu;
	struct mirror_dissect_run_opts ro;
	struct mirror_dissect_run_stats st;
	struct mirror_dissect_summary sum;
	struct mirror_profile profile;
	char filter[64];
	struct mirror_capture *cap; /* from the first tick on */
	uint64_t nongood;
	uint64_t drops;
	bool quit, ended;
	int rc;
};

/* A capture whose thread could not be ended: kept reachable until exit. */
static struct mirror_load_capture *abandoned;

uint16_t mirror_load_url_port(const char *url)
{
	struct mirror_url u;

	return mirror_url_parse(url, &u, NULL, 0) == 0 ? u.port : 0;
}

void mirror_load_cost_from_summary(const struct mirror_dissect_summary *s,
				   struct mirror_load_emu_cost *cost)
{
	memset(cost, 0, sizeof(*cost));
	for (unsigned p = 0; p < 2; p++) {
		/* enum mirror_path and enum mirror_dissect_path agree on 0 and 1 */
		const struct mirror_path_summary *ps = &s->path[p];
		struct mirror_stats_kind *e = &cost->path[p];
		e->ops = ps->complete; /* the costs are those of complete ops */
		e->interrupts = ps->interrupts;
		e->cdb = ps->bytes.cdb;
		e->metadata = ps->bytes.metadata;
		e->data = ps->bytes.data;
		e->iscsi = ps->bytes.transport;
		e->total = ps->bytes.total;
	}
	cost->seq_gaps = s->seq_gaps;
	cost->seq_repeats = s->seq_repeats;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { (time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L };

	nanosleep(&ts, NULL);
}

static void on_op(void *ctx, const struct mirror_dissect_op *op)
{
	struct mirror_load_capture *c = ctx;

	pthread_mutex_lock(&c->mu);
	mirror_dissect_summary_add(&c->sum, op);
	if (op->path != MIRROR_DISSECT_OTHER && op->have_status && op->status != 0)
		c->nongood++;
	pthread_mutex_unlock(&c->mu);
}

static void on_tick(void *ctx, struct mirror_capture *cap)
{
	struct mirror_load_capture *c = ctx;

	pthread_mutex_lock(&c->mu);
	c->cap = cap;
	c->drops = mirror_capture_drops(cap);
	bool quit = c->quit;
	pthread_mutex_unlock(&c->mu);
	if (quit)
		mirror_capture_break(cap);
}

static void *capture_main(void *ctx)
{
	struct mirror_load_capture *c = ctx;
	int rc = mirror_dissect_run(&c->ro, on_op, c, &c->st);

	pthread_mutex_lock(&c->mu);
	c->rc = rc;
	c->ended = true;
	c->cap = NULL;
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

static bool ended(struct mirror_load_capture *c)
{
	pthread_mutex_lock(&c->mu);
	bool e = c->ended;
	pthread_mutex_unlock(&c->mu);
	return e;
}

static void destroy(struct mirror_load_capture *c)
{
	pthread_mutex_destroy(&c->mu);
	free(c);
}

int mirror_load_capture_start(struct mirror_load_capture **out, const char *iface,
			      const char *filter, uint16_t target_port,
			      const struct mirror_profile *p, char *err, size_t err_len)
{
	*out = NULL;
	if (!iface || !*iface)
		return mirror_fail(-EINVAL, err, err_len, "no interface to capture on");
	struct mirror_load_capture *c = calloc(1, sizeof(*c));
	if (!c)
		return mirror_fail(-ENOMEM, err, err_len, "out of memory");
	pthread_mutex_init(&c->mu, NULL);
	c->profile = *p;
	mirror_dissect_summary_init(&c->sum, &c->profile);
	if (!filter) {
		snprintf(c->filter, sizeof(c->filter), "tcp port %u", (unsigned)target_port);
		filter = c->filter;
	}
	c->ro.iface = iface;
	c->ro.filter = filter;
	c->ro.target_port = target_port;
	c->ro.buffer_bytes = CAPTURE_BUFFER_BYTES;
	c->ro.dissect.profile = &c->profile;
	c->ro.tick = on_tick;
	c->ro.tick_ctx = c;
	c->ro.tick_ms = TICK_MS;
	if (pthread_create(&c->thread, NULL, capture_main, c) != 0) {
		destroy(c);
		return mirror_fail(-EAGAIN, err, err_len, "cannot start the capture thread");
	}
	/* a capture that cannot open fails at once */
	for (unsigned t = 0; t < OPEN_WAIT_MS && !ended(c); t += STEP_MS)
		sleep_ms(STEP_MS);
	if (ended(c)) {
		pthread_join(c->thread, NULL);
		int rc = c->rc < 0 ? c->rc : -EIO;
		mirror_fail(rc, err, err_len, "capture on %s: %s", iface,
			    c->st.error[0] ? c->st.error : "ended at once");
		destroy(c);
		return rc;
	}
	*out = c;
	return 0;
}

int mirror_load_capture_stop(struct mirror_load_capture *c, struct mirror_load_emu_cost *cost,
			     uint64_t *drops, char *err, size_t err_len)
{
	int rc = 0;

	sleep_ms(TAIL_WAIT_MS);
	pthread_mutex_lock(&c->mu);
	c->quit = true;
	if (c->cap)
		mirror_capture_break(c->cap);
	pthread_mutex_unlock(&c->mu);
	for (unsigned t = 0; t < END_WAIT_MS && !ended(c); t += STEP_MS)
		sleep_ms(STEP_MS);
	pthread_mutex_lock(&c->mu);
	mirror_load_cost_from_summary(&c->sum, cost);
	cost->check_conditions = c->nongood;
	*drops = c->ended ? c->st.kernel_drops : c->drops;
	bool done = c->ended;
	if (done && c->rc < 0 && c->rc != -EIO)
		rc = mirror_fail(c->rc, err, err_len, "capture: %s", c->st.error);
	pthread_mutex_unlock(&c->mu);
	if (done) {
		pthread_join(c->thread, NULL);
		destroy(c);
	} else {
		pthread_detach(c->thread);
		abandoned = c;
	}
	return rc;
}
