/* Background work: every thread Cairn runs besides libmicrohttpd's is a worker from this
 * module (the committer, the hub's timer, collection, the mailer, the HTTP watchdog, an
 * upload's hasher and writer through util/handoff.h), the
 * way redis keeps its background threads in bio.c. A worker is a named thread that calls
 * its tick when woken and, with a period, when the period has passed since the last tick.
 *
 * Time: every timed wait here is on CLOCK_MONOTONIC, so stepping the wall clock (NTP, an
 * administrator, a VM resumed) neither stalls nor hurries a worker. Nothing else in Cairn
 * calls pthread_cond_timedwait or pthread_create (make check-banned enforces it). */
#ifndef CAIRN_WORKER_H
#define CAIRN_WORKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct worker;

/* Starts a thread named name (at most 15 bytes: the kernel's limit; the string is
 * borrowed for the worker's life) that calls tick(arg) on every wake and, when period_ms
 * is above 0, every period_ms after the previous tick ended. tick runs on the worker's
 * thread with no lock of this module held; it may call worker_wake (then it runs again
 * at once) but not worker_stop. 0, or -ERR_NOMEM / -ERR_IO (no thread). Any thread. */
int worker_start(const char *name, int64_t period_ms, void (*tick)(void *arg), void *arg,
		 struct worker **ret);

/* Asks for a tick as soon as the running one (if any) returns. A wake is never lost: a
 * tick always starts after the last wake was asked for. Any thread; never blocks on the
 * tick. */
void worker_wake(struct worker *w);

/* Changes the period (takes effect from the next wait). Any thread. */
void worker_set_period(struct worker *w, int64_t period_ms);

/* Stops the worker: waits for a running tick to return, joins the thread and frees it.
 * A wake asked for before the stop gets no tick: an owner that must finish queued work
 * does so after this returns. Accepts NULL; returns NULL. Not from the worker's tick. */
struct worker *worker_stop(struct worker *w);

/* A condition variable whose timed waits use CLOCK_MONOTONIC, for waits that are not a
 * worker's (say, a caller waiting with a deadline). */
int worker_cond_init(pthread_cond_t *cv);
/* Waits on cv (mu held) until signalled or until deadline_ns on clock_mono_ns(): true
 * when the deadline passed. cv must come from worker_cond_init. */
bool worker_cond_wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, uint64_t deadline_ns);

#endif
