/* Double buffering across two threads: the owner fills one buffer while a worker
 * consumes the one handed to it before (an upload hashes the next MiB while the last is
 * written). One buffer is in the worker's hands at a time; handing over the next waits
 * until the worker is done with the last.
 *
 * The worker ("name", util/worker.h) starts only when the owner asks (handoff_start),
 * and only while fewer than HANDOFF_MAX_WORKERS run in the process: a thousand slow
 * uploads must not become two thousand threads. Without a worker, handoff_give consumes
 * the buffer at once on the owner's thread.
 *
 * The owner calls everything here from one thread at a time (handing the struct on to
 * another thread only after handoff_wait). */
#ifndef CAIRN_HANDOFF_H
#define CAIRN_HANDOFF_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

/* Workers running at once in the process, over every handoff. */
#define HANDOFF_MAX_WORKERS 32

struct worker;

struct handoff {
	const char *name; /* the worker's, borrowed */
	/* Consumes len bytes at p: 0 or a negative error, which sticks. */
	int (*consume)(void *arg, const char *p, size_t len);
	void *arg;
	struct worker *w;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	const char *buf; /* in the worker's hands, NULL when it is idle */
	size_t len;
	int err;
	bool ready;
};

/* 0, or -ERR_NOMEM. */
int handoff_init(struct handoff *h, const char *name,
		 int (*consume)(void *arg, const char *p, size_t len), void *arg);
/* Starts the worker if there is none and the process runs fewer than
 * HANDOFF_MAX_WORKERS: true when h has a worker now. */
bool handoff_start(struct handoff *h);
/* With a worker: waits until it is idle, then hands it p (which must stay untouched
 * until the next handoff_give or handoff_wait returns) and returns 1. Without one:
 * consumes p at once and returns 0. A negative return is the first error a consume
 * gave (then p is not consumed). */
int handoff_give(struct handoff *h, const char *p, size_t len);
/* Waits until the worker is idle: 0, or the first error a consume gave. */
int handoff_wait(struct handoff *h);
/* Waits, stops the worker, frees what init made. Accepts a zeroed struct. */
void handoff_fini(struct handoff *h);

#endif
