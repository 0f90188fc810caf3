#include "hub.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "../store/store.h"
#include "../util/clock.h"
#include "../util/worker.h"

#define BUCKETS 1024

struct hub {
	pthread_mutex_t mu;
	pthread_cond_t woke; /* signalled when waking drops to 0 */
	int waking;          /* wake lists being run outside the lock */
	struct hub_waiter heads[BUCKETS]; /* circular list heads, by space id */
	int count;
	bool closed; /* hub_close: new waiters are woken at once */
	struct worker *timer;
	struct hub_stream streams; /* list head */
	int64_t heartbeat_ms;
};

static void stream_unlink(struct hub_stream *s)
{
	s->prev->next = s->next;
	s->next->prev = s->prev;
	s->prev = s->next = NULL;
}

static bool stream_has(const struct hub_stream *s, int64_t space_id)
{
	for (int i = 0; i < s->nspaces; i++)
		if (s->spaces[i] == space_id)
			return true;
	return false;
}

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

/* Wakes the waiters collected on list (linked through next). Called with the lock held;
 * runs the callbacks without it, counted in h->waking so hub_close can wait for them. */
static void wake_list(struct hub *h, struct hub_waiter *list, bool timed_out)
{
	if (!list)
		return;
	h->waking++;
	pthread_mutex_unlock(&h->mu);
	while (list) {
		struct hub_waiter *next = list->next;
		list->next = NULL;
		list->wake(list, timed_out);
		list = next;
	}
	pthread_mutex_lock(&h->mu);
	if (--h->waking == 0)
		pthread_cond_broadcast(&h->woke);
}

/* Drops one reference to s; the last one puts it on *released. Under the lock. */
static void stream_unref(struct hub_stream *s, struct hub_stream **released)
{
	if (--s->refs == 0) {
		s->release_next = *released;
		*released = s;
	}
}

/* Releases what stream_unref collected, without the lock. */
static void release_all(struct hub *h, struct hub_stream *list)
{
	if (!list)
		return;
	pthread_mutex_unlock(&h->mu);
	while (list) {
		struct hub_stream *next = list->release_next;
		list->release(list);
		list = next;
	}
	pthread_mutex_lock(&h->mu);
}

#define BEAT_BATCH 64

/* Heartbeats: the due streams, a batch at a time, each with a reference taken under the
 * lock, so the token check outside the lock never touches a freed stream. */
static void heartbeats(struct hub *h, uint64_t now)
{
	for (;;) {
		struct hub_stream *batch[BEAT_BATCH];
		const char *end_with[BEAT_BATCH];
		int n = 0;
		for (struct hub_stream *s = h->streams.next; s != &h->streams && n < BEAT_BATCH;
		     s = s->next)
			if (s->next_beat_ns <= now) {
				s->next_beat_ns = now + (uint64_t)h->heartbeat_ms * 1000000u;
				s->refs++;
				batch[n++] = s;
			}
		if (n == 0)
			return;
		pthread_mutex_unlock(&h->mu);
		for (int i = 0; i < n; i++)
			end_with[i] = batch[i]->check(batch[i]);
		pthread_mutex_lock(&h->mu);
		struct hub_stream *released = NULL;
		for (int i = 0; i < n; i++) {
			struct hub_stream *s = batch[i];
			if (s->prev) { /* still listed: nobody dropped or ended it meanwhile */
				if (!end_with[i]) {
					s->send(s, NULL, NULL);
				} else {
					s->send(s, end_with[i], "{}");
					stream_unlink(s);
					s->end(s);
				}
			}
			stream_unref(s, &released);
		}
		release_all(h, released);
	}
}

/* Takes every waiter out, as a list linked through next. Under the lock. */
static struct hub_waiter *take_all(struct hub *h)
{
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
	return all;
}

/* The timer: every 50 ms, ends long-polls whose time is up and sends due heartbeats. */
static void timer_tick(void *arg)
{
	struct hub *h = arg;
	pthread_mutex_lock(&h->mu);
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
	wake_list(h, due, true);
	heartbeats(h, now);
	pthread_mutex_unlock(&h->mu);
}

struct hub *hub_new(void)
{
	struct hub *h = calloc(1, sizeof *h);
	if (!h)
		return NULL;
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->woke, NULL);
	for (int b = 0; b < BUCKETS; b++)
		h->heads[b].next = h->heads[b].prev = &h->heads[b];
	h->streams.next = h->streams.prev = &h->streams;
	h->heartbeat_ms = 15000;
	if (worker_start("cairn-hub", 50, timer_tick, h, &h->timer) < 0) {
		pthread_cond_destroy(&h->woke);
		pthread_mutex_destroy(&h->mu);
		free(h);
		return NULL;
	}
	return h;
}

struct hub *hub_free(struct hub *h)
{
	if (!h)
		return NULL;
	hub_close(h);
	worker_stop(h->timer);
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->woke);
	free(h);
	return NULL;
}

void hub_close(struct hub *h)
{
	pthread_mutex_lock(&h->mu);
	h->closed = true;
	struct hub_waiter *all = take_all(h);
	while (h->streams.next != &h->streams) {
		struct hub_stream *s = h->streams.next;
		stream_unlink(s);
		s->end(s);
	}
	wake_list(h, all, true);
	/* wakes that other threads took out before we closed may still be running */
	while (h->waking > 0)
		pthread_cond_wait(&h->woke, &h->mu);
	pthread_mutex_unlock(&h->mu);
}

void hub_add(struct hub *h, struct hub_waiter *w)
{
	pthread_mutex_lock(&h->mu);
	if (h->closed) {
		w->prev = w->next = NULL;
		wake_list(h, w, true);
		pthread_mutex_unlock(&h->mu);
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

void hub_notify(struct hub *h, int64_t space_id, const char *epoch, int64_t head_seq)
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
	char data[128];
	snprintf(data, sizeof data, "{\"space\":%lld,\"epoch\":\"%.16s\",\"head_seq\":%lld}",
		 (long long)space_id, epoch, (long long)head_seq);
	for (struct hub_stream *s = h->streams.next; s != &h->streams; s = s->next)
		if (stream_has(s, space_id))
			s->send(s, "space", data);
	wake_list(h, due, false);
	pthread_mutex_unlock(&h->mu);
}

void hub_stream_add(struct hub *h, struct hub_stream *s, int64_t heartbeat_ms)
{
	pthread_mutex_lock(&h->mu);
	s->refs = 1;
	s->prev = s->next = NULL;
	h->heartbeat_ms = heartbeat_ms;
	s->next_beat_ns = clock_mono_ns() + (uint64_t)heartbeat_ms * 1000000u;
	if (h->closed) {
		s->end(s);
		pthread_mutex_unlock(&h->mu);
		return;
	}
	s->next = h->streams.next;
	s->prev = &h->streams;
	h->streams.next->prev = s;
	h->streams.next = s;
	pthread_mutex_unlock(&h->mu);
}

void hub_stream_drop(struct hub *h, struct hub_stream *s)
{
	struct hub_stream *released = NULL;
	pthread_mutex_lock(&h->mu);
	if (s->prev)
		stream_unlink(s);
	stream_unref(s, &released);
	release_all(h, released);
	pthread_mutex_unlock(&h->mu);
}

bool hub_stream_end(struct hub *h, struct hub_stream *s)
{
	pthread_mutex_lock(&h->mu);
	bool listed = s->prev != NULL;
	if (listed) {
		stream_unlink(s);
		s->end(s);
	}
	pthread_mutex_unlock(&h->mu);
	return listed;
}

/* Takes out the waiters that match (0 matches anything), as a list. Under the lock. */
static struct hub_waiter *take_matching(struct hub *h, int64_t user_id, int64_t device_id,
					int64_t space_id)
{
	struct hub_waiter *out = NULL;
	for (int b = 0; b < BUCKETS && h->count; b++) {
		struct hub_waiter *head = &h->heads[b];
		for (struct hub_waiter *w = head->next; w != head;) {
			struct hub_waiter *next = w->next;
			if ((!user_id || w->user_id == user_id) &&
			    (!device_id || w->device_id == device_id) &&
			    (!space_id || w->space_id == space_id)) {
				unlink_w(w);
				h->count--;
				w->woken_head = 0;
				w->next = out;
				out = w;
			}
			w = next;
		}
	}
	return out;
}

void hub_access_changed(struct hub *h, int64_t user_id, int64_t device_id, int64_t space_id)
{
	if (!user_id && !device_id)
		return;
	pthread_mutex_lock(&h->mu);
	struct hub_waiter *due = take_matching(h, user_id, device_id, space_id);
	if (!space_id) {
		bool any = false;
		for (struct hub_stream *s = h->streams.next; s != &h->streams; s = s->next)
			if ((!user_id || s->user_id == user_id) &&
			    (!device_id || s->device_id == device_id)) {
				s->next_beat_ns = 0; /* the timer checks it at its next tick */
				any = true;
			}
		if (any)
			worker_wake(h->timer);
	}
	wake_list(h, due, false);
	pthread_mutex_unlock(&h->mu);
}

void hub_membership(struct hub *h, int64_t user_id, int64_t space_id, const char *role)
{
	char data[128];
	snprintf(data, sizeof data, "{\"space\":%lld,\"role\":%s%s%s}", (long long)space_id,
		 role ? "\"" : "", role ? role : "null", role ? "\"" : "");
	pthread_mutex_lock(&h->mu);
	for (struct hub_stream *s = h->streams.next; s != &h->streams; s = s->next) {
		if (s->user_id != user_id)
			continue;
		bool has = stream_has(s, space_id);
		if (role && !has) {
			int64_t *grown = realloc(s->spaces, sizeof *grown * (size_t)(s->nspaces + 1));
			if (grown) {
				s->spaces = grown;
				s->spaces[s->nspaces++] = space_id;
			}
		} else if (!role && has) {
			for (int i = 0; i < s->nspaces; i++)
				if (s->spaces[i] == space_id)
					s->spaces[i] = s->spaces[--s->nspaces];
		}
		s->send(s, "membership", data);
	}
	/* a member who left: their waits on the space end now, answered as for a stranger */
	struct hub_waiter *due = role ? NULL : take_matching(h, user_id, 0, space_id);
	wake_list(h, due, false);
	pthread_mutex_unlock(&h->mu);
}

void hub_device_revoked(struct hub *h, int64_t device_id)
{
	pthread_mutex_lock(&h->mu);
	struct hub_waiter *due = take_matching(h, 0, device_id, 0);
	for (struct hub_stream *s = h->streams.next; s != &h->streams;) {
		struct hub_stream *next = s->next;
		if (s->device_id == device_id) {
			s->send(s, "revoked", "{}");
			stream_unlink(s);
			s->end(s);
		}
		s = next;
	}
	wake_list(h, due, false);
	pthread_mutex_unlock(&h->mu);
}
