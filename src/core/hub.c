#include "hub.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "../util/clock.h"

#define BUCKETS 1024

struct hub {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct hub_waiter heads[BUCKETS]; /* circular list heads, by space id */
	int count;
	bool stop;
	bool closed; /* hub_close: new waiters are woken at once */
	pthread_t timer;
};

static struct hub_waiter *bucket(struct hub *h, int64_t space_id)
{
	return &h->heads[(uint64_t)space_id % BUCKETS];
}

static void unlink_w(struct hub_waiter *w)
{
	w->prev->next = w->next;
	w->next->prev = w->prev;
	w->prev = w->next = NULL;
}

/* Wakes the waiters collected on list (linked through next), outside the lock. */
static void wake_list(struct hub_waiter *list, bool timed_out)
{
	while (list) {
		struct hub_waiter *next = list->next;
		list->next = NULL;
		list->wake(list, timed_out);
		list = next;
	}
}

static void *timer_main(void *arg)
{
	struct hub *h = arg;
	pthread_mutex_lock(&h->mu);
	while (!h->stop) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 50 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&h->cv, &h->mu, &ts);
		uint64_t now = clock_mono_ns();
		struct hub_waiter *due = NULL;
		for (int b = 0; b < BUCKETS && h->count; b++) {
			struct hub_waiter *head = &h->heads[b];
			for (struct hub_waiter *w = head->next; w != head;) {
				struct hub_waiter *next = w->next;
				if (w->deadline_ns <= now) {
					unlink_w(w);
					h->count--;
					w->next = due;
					due = w;
				}
				w = next;
			}
		}
		if (due) {
			pthread_mutex_unlock(&h->mu);
			wake_list(due, true);
			pthread_mutex_lock(&h->mu);
		}
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

struct hub *hub_new(void)
{
	struct hub *h = calloc(1, sizeof *h);
	if (!h)
		return NULL;
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cv, NULL);
	for (int b = 0; b < BUCKETS; b++)
		h->heads[b].next = h->heads[b].prev = &h->heads[b];
	if (pthread_create(&h->timer, NULL, timer_main, h) != 0) {
		free(h);
		return NULL;
	}
	return h;
}

struct hub *hub_free(struct hub *h)
{
	if (!h)
		return NULL;
	pthread_mutex_lock(&h->mu);
	h->stop = true;
	struct hub_waiter *all = NULL;
	for (int b = 0; b < BUCKETS; b++) {
		struct hub_waiter *head = &h->heads[b];
		while (head->next != head) {
			struct hub_waiter *w = head->next;
			unlink_w(w);
			w->next = all;
			all = w;
		}
	}
	h->count = 0;
	pthread_cond_signal(&h->cv);
	pthread_mutex_unlock(&h->mu);
	pthread_join(h->timer, NULL);
	wake_list(all, true);
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->cv);
	free(h);
	return NULL;
}

void hub_close(struct hub *h)
{
	pthread_mutex_lock(&h->mu);
	h->closed = true;
	struct hub_waiter *all = NULL;
	for (int b = 0; b < BUCKETS; b++) {
		struct hub_waiter *head = &h->heads[b];
		while (head->next != head) {
			struct hub_waiter *w = head->next;
			unlink_w(w);
			w->next = all;
			all = w;
		}
	}
	h->count = 0;
	pthread_mutex_unlock(&h->mu);
	wake_list(all, true);
}

void hub_add(struct hub *h, struct hub_waiter *w)
{
	pthread_mutex_lock(&h->mu);
	if (h->closed) {
		pthread_mutex_unlock(&h->mu);
		w->prev = w->next = NULL;
		w->wake(w, true);
		return;
	}
	struct hub_waiter *head = bucket(h, w->space_id);
	w->next = head->next;
	w->prev = head;
	head->next->prev = w;
	head->next = w;
	h->count++;
	pthread_mutex_unlock(&h->mu);
}

bool hub_remove(struct hub *h, struct hub_waiter *w)
{
	bool removed = false;
	pthread_mutex_lock(&h->mu);
	if (w->prev) {
		unlink_w(w);
		h->count--;
		removed = true;
	}
	pthread_mutex_unlock(&h->mu);
	return removed;
}

void hub_notify(struct hub *h, int64_t space_id, int64_t head_seq)
{
	struct hub_waiter *due = NULL;
	pthread_mutex_lock(&h->mu);
	struct hub_waiter *head = bucket(h, space_id);
	for (struct hub_waiter *w = head->next; w != head;) {
		struct hub_waiter *next = w->next;
		if (w->space_id == space_id && w->since < head_seq) {
			w->woken_head = head_seq;
			unlink_w(w);
			h->count--;
			w->next = due;
			due = w;
		}
		w = next;
	}
	pthread_mutex_unlock(&h->mu);
	wake_list(due, false);
}

int hub_waiting(struct hub *h)
{
	pthread_mutex_lock(&h->mu);
	int n = h->count;
	pthread_mutex_unlock(&h->mu);
	return n;
}
