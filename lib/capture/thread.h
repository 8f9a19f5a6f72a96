/* A live capture decoded in a thread of its own (mirror-load --capture,
 * mirror-top -i).  With TPACKET_V3 libpcap waits without a timeout while
 * no packet arrives, so a caller that must keep its own pace (a screen, a
 * load) cannot run the capture itself: the thread decodes, the caller
 * reads what on_op gathered under the thread's lock, and ends the capture
 * by breaking it from its own thread (which libpcap allows). */
#ifndef MIRROR_CAPTURE_THREAD_H
#define MIRROR_CAPTURE_THREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mirror/dissect_run.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mirror_capture_thread;

/* Runs mirror_dissect_run(ro) (its tick is the thread's own) with on_op
 * called under the thread's lock; st is the run's, the caller's storage,
 * read only after the thread ended.  0, or -EAGAIN / -ENOMEM with why. */
int mirror_capture_thread_start(struct mirror_capture_thread **out,
				const struct mirror_dissect_run_opts *ro, mirror_dissect_op_fn on_op,
				void *ctx, struct mirror_dissect_run_stats *st, char *why,
				size_t why_len);
/* What on_op writes, read by the caller under the same lock. */
void mirror_capture_thread_lock(struct mirror_capture_thread *t);
void mirror_capture_thread_unlock(struct mirror_capture_thread *t);
/* Whether the run ended (a capture that cannot open ends at once), and
 * the kernel's drops so far. */
bool mirror_capture_thread_ended(struct mirror_capture_thread *t);
uint64_t mirror_capture_thread_drops(struct mirror_capture_thread *t);
/* Waits up to ms for the run to end; true if it did. */
bool mirror_capture_thread_wait(struct mirror_capture_thread *t, unsigned ms);
/* Breaks the capture and waits up to wait_ms.  true: the thread ended,
 * *rc is mirror_dissect_run's result and t is freed.  false: it still
 * waits for a first packet; it is detached and, with st, kept until the
 * process exits. */
bool mirror_capture_thread_stop(struct mirror_capture_thread *t, unsigned wait_ms, int *rc);

#ifdef __cplusplus
}
#endif
#endif
