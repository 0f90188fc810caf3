#include "worker.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "clock.h"
#include "err.h"

struct worker {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	const char *name;
	int64_t period_ms;
	void (*tick)(void *arg);
	void *arg;
	bool woken, stop;
};

int worker_cond_init(pthread_cond_t *cv)
{
	pthread_condattr_t a;
	if (pthread_condattr_init(&a) != 0)
		return -ERR_NOMEM;
	int e = pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	if (e == 0)
		e = pthread_cond_init(cv, &a);
	pthread_condattr_destroy(&a);
	return e == 0 ? 0 : -ERR_NOMEM;
}

bool worker_cond_wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, uint64_t deadline_ns)
{
	struct timespec ts = { (time_t)(deadline_ns / 1000000000u),
			       (long)(deadline_ns % 1000000000u) };
	return pthread_cond_timedwait(cv, mu, &ts) == ETIMEDOUT;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	pthread_mutex_lock(&w->mu);
	uint64_t due = w->period_ms > 0 ? clock_mono_ns() + (uint64_t)w->period_ms * 1000000u : 0;
	while (!w->stop) {
		if (!w->woken) {
			if (w->period_ms <= 0) {
				pthread_cond_wait(&w->cv, &w->mu);
				continue;
			}
			if (clock_mono_ns() < due) {
				worker_cond_wait_until(&w->cv, &w->mu, due);
				continue; /* look again: woken, stopped, or due */
			}
		}
		w->woken = false;
		pthread_mutex_unlock(&w->mu);
		w->tick(w->arg);
		pthread_mutex_lock(&w->mu);
		if (w->period_ms > 0)
			due = clock_mono_ns() + (uint64_t)w->period_ms * 1000000u;
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int worker_start(const char *name, int64_t period_ms, void (*tick)(void *arg), void *arg,
		 struct worker **ret)
{
	struct worker *w = calloc(1, sizeof *w);
	if (!w)
		return -ERR_NOMEM;
	w->name = name;
	w->period_ms = period_ms;
	w->tick = tick;
	w->arg = arg;
	pthread_mutex_init(&w->mu, NULL);
	if (worker_cond_init(&w->cv) < 0) {
		pthread_mutex_destroy(&w->mu);
		free(w);
		return -ERR_NOMEM;
	}
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		free(w);
		return -ERR_IO;
	}
	pthread_setname_np(w->thread, name);
	*ret = w;
	return 0;
}

void worker_wake(struct worker *w)
{
	pthread_mutex_lock(&w->mu);
	w->woken = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

void worker_set_period(struct worker *w, int64_t period_ms)
{
	pthread_mutex_lock(&w->mu);
	w->period_ms = period_ms;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

struct worker *worker_stop(struct worker *w)
{
	if (!w)
		return NULL;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
	return NULL;
}
