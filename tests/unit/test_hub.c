/* The hub's lifetime rules (hub.h): a stream whose token is being checked outside the
 * lock cannot be freed under the check, nor hear of another stream's check; hub_close
 * returns only once no wake runs; and churn of streams, waiters and notifications from
 * many threads (run under the sanitizer build in CI). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/hub.h"
#include "util/clock.h"

struct st {
	struct hub_stream hs;
	atomic_int beats, revoked, ended, released;
	int64_t token; /* read by the check, like a copy of the token */
	bool valid;
	/* the check blocks until told to go on */
	bool block;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool in_check, go;
	atomic_int *release_count; /* shared counter, or NULL */
};

static void st_send(struct hub_stream *hs, const char *event, const char *data)
{
	(void)data;
	struct st *s = hs->arg;
	if (!event)
		atomic_fetch_add(&s->beats, 1);
	else if (!strcmp(event, "revoked"))
		atomic_fetch_add(&s->revoked, 1);
}

static const char *st_valid(struct hub_stream *hs)
{
	struct st *s = hs->arg;
	if (s->block) {
		pthread_mutex_lock(&s->mu);
		s->in_check = true;
		pthread_cond_broadcast(&s->cv);
		while (!s->go)
			pthread_cond_wait(&s->cv, &s->mu);
		pthread_mutex_unlock(&s->mu);
	}
	/* reads the stream after the wait: freed memory here is what ASan reported */
	return s->valid && s->token == 42 ? NULL : "revoked";
}

static void st_end(struct hub_stream *hs)
{
	struct st *s = hs->arg;
	atomic_fetch_add(&s->ended, 1);
}

static void st_release(struct hub_stream *hs)
{
	struct st *s = hs->arg;
	atomic_fetch_add(&s->released, 1);
	if (s->release_count) {
		atomic_fetch_add(s->release_count, 1);
		pthread_mutex_destroy(&s->mu);
		pthread_cond_destroy(&s->cv);
		free(s->hs.spaces);
		free(s);
	}
}

static struct st *st_new(bool block)
{
	struct st *s = calloc(1, sizeof *s);
	assert_non_null(s);
	s->hs.send = st_send;
	s->hs.check = st_valid;
	s->hs.end = st_end;
	s->hs.release = st_release;
	s->hs.arg = s;
	s->hs.user_id = 1;
	s->token = 42;
	s->valid = true;
	s->block = block;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	return s;
}

static void wait_in_check(struct st *s)
{
	pthread_mutex_lock(&s->mu);
	while (!s->in_check)
		pthread_cond_wait(&s->cv, &s->mu);
	pthread_mutex_unlock(&s->mu);
}

static void let_go(struct st *s)
{
	pthread_mutex_lock(&s->mu);
	s->go = true;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

static void wait_for(atomic_int *v, int want)
{
	for (int i = 0; i < 2000 && atomic_load(v) < want; i++)
		usleep(1000);
	assert_true(atomic_load(v) >= want);
}

/* The owner drops a stream while the timer checks its token: the stream is released only
 * after the check, and hears nothing more. */
static void test_drop_during_check(void **state)
{
	(void)state;
	struct hub *h = hub_new();
	struct st *a = st_new(true);
	hub_stream_add(h, &a->hs, 1);
	wait_in_check(a);
	hub_stream_drop(h, &a->hs);
	assert_int_equal(atomic_load(&a->released), 0); /* the check still holds it */
	/* a new stream meanwhile (once the place an old address could be reused) */
	struct st *b = st_new(false);
	b->valid = false;
	hub_stream_add(h, &b->hs, 100000);
	let_go(a);
	wait_for(&a->released, 1);
	assert_int_equal(atomic_load(&a->released), 1);
	assert_int_equal(atomic_load(&a->beats), 0);
	assert_int_equal(atomic_load(&a->revoked), 0);
	assert_int_equal(atomic_load(&a->ended), 0);
	/* b was not checked yet: it inherits neither a's heartbeat nor a false revoked */
	assert_int_equal(atomic_load(&b->beats) + atomic_load(&b->revoked), 0);
	hub_stream_drop(h, &b->hs);
	assert_int_equal(atomic_load(&b->released), 1);
	hub_free(h);
	free(a);
	free(b);
}

/* A stream ended by someone else during its check is not sent to afterwards. */
static void test_end_during_check(void **state)
{
	(void)state;
	struct hub *h = hub_new();
	struct st *a = st_new(true);
	a->valid = false;
	hub_stream_add(h, &a->hs, 1);
	wait_in_check(a);
	assert_true(hub_stream_end(h, &a->hs));
	assert_false(hub_stream_end(h, &a->hs));
	let_go(a);
	usleep(100000);
	assert_int_equal(atomic_load(&a->ended), 1);
	assert_int_equal(atomic_load(&a->revoked), 0); /* the check's verdict came too late */
	assert_int_equal(atomic_load(&a->released), 0); /* the owner still holds it */
	hub_stream_drop(h, &a->hs);
	assert_int_equal(atomic_load(&a->released), 1);
	hub_free(h);
	free(a);
}

/* Heartbeats and revocations by check, for streams nobody touches. */
static void test_heartbeats(void **state)
{
	(void)state;
	struct hub *h = hub_new();
	struct st *ok = st_new(false), *bad = st_new(false);
	bad->valid = false;
	hub_stream_add(h, &ok->hs, 20);
	hub_stream_add(h, &bad->hs, 20);
	wait_for(&ok->beats, 2);
	wait_for(&bad->revoked, 1);
	assert_int_equal(atomic_load(&bad->ended), 1);
	hub_stream_drop(h, &ok->hs);
	hub_stream_drop(h, &bad->hs);
	assert_int_equal(atomic_load(&ok->released) + atomic_load(&bad->released), 2);
	hub_free(h);
	free(ok);
	free(bad);
}

struct slow_waiter {
	struct hub_waiter w;
	atomic_int woken;
	atomic_bool in_wake;
};

static void slow_wake(struct hub_waiter *w, bool timed_out)
{
	(void)timed_out;
	struct slow_waiter *x = w->arg;
	atomic_store(&x->in_wake, true);
	usleep(200000);
	atomic_fetch_add(&x->woken, 1);
}

static void *notifier(void *arg)
{
	hub_notify(arg, 7, "00112233aabbccdd", 10);
	return NULL;
}

/* hub_close returns only after a wake that another thread started has finished: the
 * server answers what is still suspended right after, and would free the request. */
static void test_close_waits_for_wakes(void **state)
{
	(void)state;
	struct hub *h = hub_new();
	struct slow_waiter x = { .w = { .space_id = 7, .since = 1, .wake = slow_wake } };
	x.w.arg = &x;
	x.w.deadline_ns = clock_mono_ns() + 60000000000ull;
	hub_add(h, &x.w);
	pthread_t t;
	pthread_create(&t, NULL, notifier, h);
	while (!atomic_load(&x.in_wake))
		usleep(1000);
	hub_close(h);
	assert_int_equal(atomic_load(&x.woken), 1);
	pthread_join(t, NULL);
	assert_false(hub_remove(h, &x.w));
	hub_free(h);
}

/* --- churn --- */

struct churn {
	struct hub *h;
	atomic_int *released;
	atomic_bool stop;
	atomic_int made;
	bool waiters_balanced;
};

static void *stream_churn(void *arg)
{
	struct churn *c = arg;
	unsigned seed = (unsigned)(uintptr_t)&seed;
	while (!atomic_load(&c->stop)) {
		struct st *s = st_new(false);
		s->release_count = c->released;
		s->valid = rand_r(&seed) % 4 != 0;
		s->hs.nspaces = 1;
		s->hs.spaces = malloc(sizeof *s->hs.spaces);
		s->hs.spaces[0] = rand_r(&seed) % 4;
		hub_stream_add(c->h, &s->hs, 1);
		usleep((useconds_t)(rand_r(&seed) % 3000));
		if (rand_r(&seed) % 2)
			hub_stream_end(c->h, &s->hs);
		hub_stream_drop(c->h, &s->hs);
		atomic_fetch_add(&c->made, 1);
	}
	return NULL;
}

/* A waiter's memory outlives its wake, as a pull's does (freed with its request). */
struct pw {
	struct hub_waiter w;
	atomic_int *woken;
	struct pw *all_next;
};

static void pw_wake(struct hub_waiter *w, bool timed_out)
{
	(void)timed_out;
	struct pw *p = w->arg;
	atomic_fetch_add(p->woken, 1);
}

static void *waiter_churn(void *arg)
{
	struct churn *c = arg;
	static atomic_int woken;
	unsigned seed = 7;
	int added = 0, removed = 0;
	struct pw *all = NULL;
	while (!atomic_load(&c->stop)) {
		struct pw *p = calloc(1, sizeof *p);
		p->all_next = all;
		all = p;
		p->woken = &woken;
		p->w.space_id = rand_r(&seed) % 4;
		p->w.since = 0;
		p->w.deadline_ns = clock_mono_ns() + (uint64_t)(rand_r(&seed) % 20) * 1000000u;
		p->w.wake = pw_wake;
		p->w.arg = p;
		hub_add(c->h, &p->w);
		added++;
		if (rand_r(&seed) % 3 == 0 && hub_remove(c->h, &p->w))
			removed++;
		if (rand_r(&seed) % 2 == 0)
			hub_notify(c->h, rand_r(&seed) % 4, "00112233aabbccdd", rand_r(&seed) % 100 + 1);
		if (rand_r(&seed) % 5 == 0)
			hub_membership(c->h, 1, rand_r(&seed) % 8, rand_r(&seed) % 2 ? "writer" : NULL);
	}
	hub_close(c->h); /* wakes whatever still waits, and waits for wakes in flight */
	c->waiters_balanced = atomic_load(&woken) + removed == added;
	while (all) {
		struct pw *next = all->all_next;
		free(all);
		all = next;
	}
	return NULL;
}

static void test_churn(void **state)
{
	(void)state;
	atomic_int released = 0;
	struct churn c = { .h = hub_new(), .released = &released };
	pthread_t t[4];
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, stream_churn, &c);
	pthread_create(&t[3], NULL, waiter_churn, &c);
	usleep(1500000);
	atomic_store(&c.stop, true);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	assert_true(c.made > 100);
	assert_true(c.waiters_balanced); /* every waiter woken or removed, once */
	assert_int_equal(atomic_load(&released), c.made);
	hub_free(c.h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_drop_during_check),
		cmocka_unit_test(test_end_during_check),
		cmocka_unit_test(test_heartbeats),
		cmocka_unit_test(test_close_waits_for_wakes),
		cmocka_unit_test(test_churn),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
