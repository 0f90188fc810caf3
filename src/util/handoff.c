/* Double buffering across two threads (handoff.h). */
#include "handoff.h"

#include <stdatomic.h>

#include "err.h"
#include "worker.h"

static atomic_int running; /* workers started and not yet stopped, process-wide */

int handoff_init(struct handoff *h, const char *name,
		 int (*consume)(void *arg, const char *p, size_t len), void *arg)
{
	*h = (struct handoff){ .name = name, .consume = consume, .arg = arg };
	if (pthread_mutex_init(&h->mu, NULL) != 0)
		return -ERR_NOMEM;
	if (pthread_cond_init(&h->cv, NULL) != 0) {
		pthread_mutex_destroy(&h->mu);
		return -ERR_NOMEM;
	}
	h->ready = true;
	return 0;
}

static void tick(void *arg)
{
	struct handoff *h = arg;
	pthread_mutex_lock(&h->mu);
	const char *p = h->buf;
	size_t len = h->len;
	int err = h->err;
	pthread_mutex_unlock(&h->mu);
	if (!p)
		return;
	int r = err ? 0 : h->consume(h->arg, p, len);
	pthread_mutex_lock(&h->mu);
	if (r < 0 && !h->err)
		h->err = r;
	h->buf = NULL;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
}

bool handoff_start(struct handoff *h)
{
	if (h->w)
		return true;
	if (!h->ready || atomic_fetch_add(&running, 1) >= HANDOFF_MAX_WORKERS) {
		if (h->ready)
			atomic_fetch_sub(&running, 1);
		return false;
	}
	if (worker_start(h->name, 0, tick, h, &h->w) < 0) {
		h->w = NULL;
		atomic_fetch_sub(&running, 1);
		return false;
	}
	return true;
}

int handoff_wait(struct handoff *h)
{
	if (!h->w)
		return h->err;
	pthread_mutex_lock(&h->mu);
	while (h->buf)
		pthread_cond_wait(&h->cv, &h->mu);
	int r = h->err;
	pthread_mutex_unlock(&h->mu);
	return r;
}

int handoff_give(struct handoff *h, const char *p, size_t len)
{
	int r = handoff_wait(h);
	if (r < 0)
		return r;
	if (!h->w) {
		r = h->consume(h->arg, p, len);
		if (r < 0)
			h->err = r;
		return r;
	}
	pthread_mutex_lock(&h->mu);
	h->buf = p;
	h->len = len;
	pthread_mutex_unlock(&h->mu);
	worker_wake(h->w);
	return 1;
}

void handoff_fini(struct handoff *h)
{
	if (!h->ready)
		return;
	handoff_wait(h);
	if (h->w) {
		h->w = worker_stop(h->w);
		atomic_fetch_sub(&running, 1);
	}
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->cv);
	h->ready = false;
}
