#include "commit.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "../store/store.h"
#include "../util/err.h"
#include "../util/log.h"
#include "../util/worker.h"

struct committer {
	struct core *core;
	struct worker *w;
	pthread_mutex_t mu;
	struct push_job *head, *tail;
	bool stopping;
};

int committer_submit(struct committer *cm, struct push_job *j, void (*park)(void *arg),
		     void *arg)
{
	pthread_mutex_lock(&cm->mu);
	if (cm->stopping) {
		pthread_mutex_unlock(&cm->mu);
		return -ERR_BUSY;
	}
	if (park)
		park(arg);
	j->next = NULL;
	if (cm->tail)
		cm->tail->next = j;
	else
		cm->head = j;
	cm->tail = j;
	worker_wake(cm->w); /* under mu: committer_stop cannot free the worker meanwhile */
	pthread_mutex_unlock(&cm->mu);
	return 0;
}

/* Takes the jobs for one transaction off the queue (called locked). */
static struct push_job *take_batch(struct committer *cm)
{
	struct push_job *first = cm->head, *last = first;
	int changes = first->n;
	while (last->next && changes + last->next->n <= COMMIT_MAX_CHANGES) {
		last = last->next;
		changes += last->n;
	}
	cm->head = last->next;
	if (!cm->head)
		cm->tail = NULL;
	last->next = NULL;
	return first;
}

/* One transaction for the batch; every job's rc is set. */
static void run_batch(struct core *c, struct push_job *batch)
{
	const struct store_ops *ops = c->store->ops;
	bool alone = batch->next == NULL; /* then the transaction is the job's own scope */
	void *txn;
	int r = ops->push->push_begin(c->store, &txn);
	if (r < 0) {
		for (struct push_job *j = batch; j; j = j->next)
			j->rc = r;
		return;
	}
	int broken = 0; /* a failure that leaves the transaction unusable */
	for (struct push_job *j = batch; j; j = j->next) {
		if (broken) {
			j->rc = broken;
			continue;
		}
		if (!alone && (r = ops->push->push_mark(txn)) < 0) {
			broken = j->rc = r;
			continue;
		}
		j->rc = sync_push_apply(c, txn, j);
		if (!alone && (r = ops->push->push_unmark(txn, j->rc >= 0)) < 0) {
			broken = r;
			if (j->rc >= 0)
				j->rc = r;
		}
	}
	int ok = 0; /* does any job want the commit? */
	for (struct push_job *j = batch; j; j = j->next)
		ok |= j->rc >= 0;
	r = ops->push->push_end(c->store, txn, broken ? broken : ok ? 0 : -ERR_INVALID);
	if (r < 0)
		for (struct push_job *j = batch; j; j = j->next)
			if (j->rc >= 0)
				j->rc = r; /* the commit failed: nothing is durable */
}

/* Runs every queued push, a batch per transaction, until the queue is empty. */
static void committer_tick(void *arg)
{
	struct committer *cm = arg;
	pthread_mutex_lock(&cm->mu);
	while (cm->head) {
		struct push_job *batch = take_batch(cm);
		pthread_mutex_unlock(&cm->mu);
		run_batch(cm->core, batch);
		for (struct push_job *j = batch, *next; j; j = next) {
			next = j->next; /* done may end j's lifetime */
			sync_push_settle(cm->core, j);
			j->done(j);
		}
		pthread_mutex_lock(&cm->mu);
	}
	pthread_mutex_unlock(&cm->mu);
}

struct committer *committer_start(struct core *c)
{
	struct committer *cm = calloc(1, sizeof *cm);
	if (!cm)
		return NULL;
	cm->core = c;
	pthread_mutex_init(&cm->mu, NULL);
	if (worker_start("cairn-commit", 0, committer_tick, cm, &cm->w) < 0) {
		log_error("cannot start the committer thread");
		pthread_mutex_destroy(&cm->mu);
		free(cm);
		return NULL;
	}
	return cm;
}

struct committer *committer_stop(struct committer *cm)
{
	if (!cm)
		return NULL;
	pthread_mutex_lock(&cm->mu);
	cm->stopping = true; /* committer_submit refuses from now on */
	pthread_mutex_unlock(&cm->mu);
	worker_stop(cm->w);
	committer_tick(cm); /* what was queued before the stop still commits */
	pthread_mutex_destroy(&cm->mu);
	free(cm);
	return NULL;
}
