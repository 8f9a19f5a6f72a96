/* One poll(2) over many transports (transport.h): the event loop of a
 * client with many sessions, such as mirror-load's, built on
 * mirror_transport_fd, _events and _poll. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>

#include <mirror/transport.h>

#include "transport/priv.h"

/* A transport with no descriptor (not connected yet, or failed) is served
 * again this soon; every transport at least this often, since deadlines
 * are checked only when a transport is served. */
#define NOFD_WAIT_MS 10
#define SWEEP_MS 1000

struct mirror_transport_poller {
	unsigned cap;
	struct pollfd *pfd;
	unsigned *who; /* pfd[k] waits for t[who[k]] */
	uint64_t last_sweep_ns;
};

struct mirror_transport_poller *mirror_transport_poller_new(unsigned cap)
{
	struct mirror_transport_poller *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->cap = cap;
	/* calloc(0) may return NULL: one entry at least */
	p->pfd = calloc(cap ? cap : 1, sizeof(*p->pfd));
	p->who = calloc(cap ? cap : 1, sizeof(*p->who));
	if (!p->pfd || !p->who) {
		mirror_transport_poller_free(p);
		return NULL;
	}
	p->last_sweep_ns = mirror_monotonic_ns();
	return p;
}

void mirror_transport_poller_free(struct mirror_transport_poller *p)
{
	if (!p)
		return;
	free(p->pfd);
	free(p->who);
	free(p);
}

static bool busy(const struct mirror_transport *t)
{
	return t && mirror_transport_outstanding(t) > 0;
}

static bool has_fd(const struct mirror_transport *t)
{
	return mirror_transport_fd(t) >= 0 && mirror_transport_events(t) != 0;
}

/* Serves t[i] once without blocking; adds its completions to *total.  A
 * failure stays in results[i] even if t[i] is served again. */
static void serve(struct mirror_transport *const *t, unsigned i, int *results, int *total)
{
	int rc = mirror_transport_poll(t[i], 0);

	if (results && results[i] >= 0)
		results[i] = rc;
	if (rc > 0)
		*total += rc;
}

int mirror_transport_poll_many(struct mirror_transport_poller *p, struct mirror_transport *const *t,
			       unsigned n, int timeout_ms, int *results)
{
	unsigned nfd = 0;
	bool any = false, nofd = false;
	int total = 0;

	if (!p || n > p->cap || (n && !t) || timeout_ms < -1)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		if (results)
			results[i] = 0;
		if (!busy(t[i]))
			continue;
		any = true;
		if (!has_fd(t[i])) {
			nofd = true;
			continue;
		}
		p->pfd[nfd].fd = mirror_transport_fd(t[i]);
		p->pfd[nfd].events = mirror_transport_events(t[i]);
		p->pfd[nfd].revents = 0;
		p->who[nfd++] = i;
	}
	if (!any && timeout_ms < 0)
		return 0; /* nothing could end the wait */
	int wait = timeout_ms;
	if (any && (wait < 0 || wait > SWEEP_MS))
		wait = SWEEP_MS;
	if (nofd && wait > NOFD_WAIT_MS)
		wait = NOFD_WAIT_MS;
	int rc = poll(p->pfd, nfd, wait);
	if (rc < 0 && errno != EINTR)
		return -errno;
	if (!any)
		return 0;
	uint64_t now = mirror_monotonic_ns();
	if (rc <= 0 || now - p->last_sweep_ns >= (uint64_t)SWEEP_MS * 1000000u) {
		p->last_sweep_ns = now;
		for (unsigned i = 0; i < n; i++)
			if (busy(t[i]))
				serve(t, i, results, &total);
		return total;
	}
	for (unsigned k = 0; k < nfd; k++)
		if (p->pfd[k].revents)
			serve(t, p->who[k], results, &total);
	if (nofd)
		for (unsigned i = 0; i < n; i++)
			if (busy(t[i]) && !has_fd(t[i]))
				serve(t, i, results, &total);
	return total;
}
