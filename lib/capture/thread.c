/* A live capture in a thread of its own (thread.h). */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "base/why.h"
#include "capture/thread.h"

#define TICK_MS 50u /* how soon a break is seen on an idle link */
#define STEP_MS 10u

struct mirror_capture_thread {
	pthread_t thread;
	pthread_mutex_t mu;
	struct mirror_dissect_run_opts ro;
	struct mirror_dissect_run_stats *st;
	mirror_dissect_op_fn on_op;
	void *ctx;
	struct mirror_capture *cap; /* from the first tick on */
	uint64_t drops;
	bool quit, ended;
	int rc;
};

/* Threads that could not be ended: kept reachable until exit. */
static struct mirror_capture_thread *abandoned;

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { (time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L };

	nanosleep(&ts, NULL);
}

static void on_op(void *ctx, const struct mirror_dissect_op *op)
{
	struct mirror_capture_thread *t = ctx;

	pthread_mutex_lock(&t->mu);
	t->on_op(t->ctx, op);
	pthread_mutex_unlock(&t->mu);
}

static void on_tick(void *ctx, struct mirror_capture *cap)
{
	struct mirror_capture_thread *t = ctx;

	pthread_mutex_lock(&t->mu);
	t->cap = cap;
	t->drops = mirror_capture_drops(cap);
	bool quit = t->quit;
	pthread_mutex_unlock(&t->mu);
	if (quit)
		mirror_capture_break(cap);
}

static void *thread_main(void *ctx)
{
	struct mirror_capture_thread *t = ctx;
	int rc = mirror_dissect_run(&t->ro, on_op, t, t->st);

	pthread_mutex_lock(&t->mu);
	t->rc = rc;
	t->ended = true;
	t->cap = NULL;
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

int mirror_capture_thread_start(struct mirror_capture_thread **out,
				const struct mirror_dissect_run_opts *ro, mirror_dissect_op_fn fn,
				void *ctx, struct mirror_dissect_run_stats *st, char *why,
				size_t why_len)
{
	struct mirror_capture_thread *t = calloc(1, sizeof(*t));

	*out = NULL;
	if (!t)
		return mirror_fail(-ENOMEM, why, why_len, "out of memory");
	pthread_mutex_init(&t->mu, NULL);
	t->ro = *ro;
	t->ro.tick = on_tick;
	t->ro.tick_ctx = t;
	t->ro.tick_ms = TICK_MS;
	t->st = st;
	t->on_op = fn;
	t->ctx = ctx;
	if (pthread_create(&t->thread, NULL, thread_main, t) != 0) {
		pthread_mutex_destroy(&t->mu);
		free(t);
		return mirror_fail(-EAGAIN, why, why_len, "cannot start the capture thread");
	}
	*out = t;
	return 0;
}

void mirror_capture_thread_lock(struct mirror_capture_thread *t)
{
	pthread_mutex_lock(&t->mu);
}

void mirror_capture_thread_unlock(struct mirror_capture_thread *t)
{
	pthread_mutex_unlock(&t->mu);
}

bool mirror_capture_thread_ended(struct mirror_capture_thread *t)
{
	pthread_mutex_lock(&t->mu);
	bool e = t->ended;
	pthread_mutex_unlock(&t->mu);
	return e;
}

uint64_t mirror_capture_thread_drops(struct mirror_capture_thread *t)
{
	pthread_mutex_lock(&t->mu);
	uint64_t d = t->ended ? t->st->kernel_drops : t->drops;
	pthread_mutex_unlock(&t->mu);
	return d;
}

bool mirror_capture_thread_wait(struct mirror_capture_thread *t, unsigned ms)
{
	for (unsigned waited = 0; waited < ms && !mirror_capture_thread_ended(t); waited += STEP_MS)
		sleep_ms(STEP_MS);
	return mirror_capture_thread_ended(t);
}

bool mirror_capture_thread_stop(struct mirror_capture_thread *t, unsigned wait_ms, int *rc)
{
	pthread_mutex_lock(&t->mu);
	t->quit = true;
	if (t->cap)
		mirror_capture_break(t->cap);
	pthread_mutex_unlock(&t->mu);
	if (!mirror_capture_thread_wait(t, wait_ms)) {
		pthread_detach(t->thread);
		abandoned = t;
		return false;
	}
	pthread_join(t->thread, NULL);
	*rc = t->rc;
	pthread_mutex_destroy(&t->mu);
	free(t);
	return true;
}
