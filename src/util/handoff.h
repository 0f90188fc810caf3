/* Double buffering across two threads: the owner fills one buffer while a worker
 * consumes the one handed to it before (an upload hashes the next MiB while the last is
 * written). One buffer is in the worker's hands at a time; handing over the next waits
 * until the worker is done with the last. The worker ("name", util/worker.h) starts at
 * the first handoff, so work that never fills a buffer never starts a thread; if no
 * thread can be started the owner consumes the buffer itself.
 *
 * The owner calls everything here from one thread (the one that owns the struct). */
#ifndef CAIRN_HANDOFF_H
#define CAIRN_HANDOFF_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

struct worker;

struct handoff {
	const char *name; /* the worker's, borrowed */
	/* Consumes len bytes at p on the worker: 0 or a negative error, which sticks. */
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
/* Waits until the worker is idle, then hands it p (which must stay untouched until the
 * next handoff_give or handoff_wait returns). Returns the first error a consume gave, in
 * which case p is not handed over. */
int handoff_give(struct handoff *h, const char *p, size_t len);
/* Waits until the worker is idle: 0, or the first error a consume gave. */
int handoff_wait(struct handoff *h);
/* Waits, stops the worker, frees what init made. Accepts a zeroed struct. */
void handoff_fini(struct handoff *h);

#endif
