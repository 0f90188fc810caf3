/* The worker module (util/worker.h): ticks on wakes and on its period, no wake lost, stop
 * joins; and no timed wait in Cairn stalls when the wall clock steps. This binary is
 * linked with -Wl,--wrap=clock_gettime (Makefile), so every clock_gettime that libcairn
 * makes comes through __wrap_clock_gettime below, which can show CLOCK_REALTIME an hour
 * ahead of the kernel's: a deadline computed from the wall clock then lies an hour in the
 * kernel's future, exactly as if the clock had been stepped back an hour after the
 * deadline was taken. Before the worker module the hub's timer waited that way, and the
 * long-poll test below never timed out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "core/hub.h"
#include "util/clock.h"
#include "util/worker.h"

static atomic_long wall_skew_s;

int __real_clock_gettime(clockid_t id, struct timespec *ts);
int __wrap_clock_gettime(clockid_t id, struct timespec *ts);
int __wrap_clock_gettime(clockid_t id, struct timespec *ts)
{
	int r = __real_clock_gettime(id, ts);
	if (r == 0 && id == CLOCK_REALTIME)
		ts->tv_sec += atomic_load(&wall_skew_s);
	return r;
}

static uint64_t real_mono_ms(void)
{
	struct timespec ts;
	__real_clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct counter {
	atomic_int ticks;
	int sleep_ms;
};

static void count_tick(void *arg)
{
	struct counter *c = arg;
	atomic_fetch_add(&c->ticks, 1);
	if (c->sleep_ms)
		usleep((useconds_t)c->sleep_ms * 1000);
}

/* waits up to ms for *v to reach at least want */
static bool reaches(atomic_int *v, int want, int ms)
{
	uint64_t until = real_mono_ms() + (uint64_t)ms;
	while (atomic_load(v) < want && real_mono_ms() < until)
		usleep(2000);
	return atomic_load(v) >= want;
}

static void test_wake_and_stop(void **state)
{
	(void)state;
	struct counter c = { 0 };
	struct worker *w = NULL;
	assert_int_equal(worker_start("test-wake", 0, count_tick, &c, &w), 0);
	usleep(100000);
	assert_int_equal(atomic_load(&c.ticks), 0); /* no period: only wakes tick */
	worker_wake(w);
	assert_true(reaches(&c.ticks, 1, 2000));
	/* wakes during a tick are not lost: at least one more tick follows the last */
	c.sleep_ms = 50;
	worker_wake(w);
	assert_true(reaches(&c.ticks, 2, 2000));
	int before = atomic_load(&c.ticks);
	for (int i = 0; i < 5; i++)
		worker_wake(w);
	assert_true(reaches(&c.ticks, before + 1, 2000));
	c.sleep_ms = 0;
	assert_null(worker_stop(w));
	assert_null(worker_stop(NULL));
}

static void test_period(void **state)
{
	(void)state;
	struct counter c = { 0 };
	struct worker *w = NULL;
	uint64_t t0 = real_mono_ms();
	assert_int_equal(worker_start("test-period", 20, count_tick, &c, &w), 0);
	assert_true(reaches(&c.ticks, 5, 3000));
	assert_true(real_mono_ms() - t0 >= 80); /* not faster than the period */
	worker_set_period(w, 0);
	usleep(60000);
	int n = atomic_load(&c.ticks);
	usleep(100000);
	assert_int_equal(atomic_load(&c.ticks), n); /* period 0: no more ticks */
	worker_stop(w);
}

/* The wall clock reads an hour ahead of the kernel's (as if stepped back an hour after
 * each deadline was taken): a worker's period still holds. */
static void test_period_with_wall_clock_stepped(void **state)
{
	(void)state;
	atomic_store(&wall_skew_s, 3600);
	struct counter c = { 0 };
	struct worker *w = NULL;
	assert_int_equal(worker_start("test-skew", 20, count_tick, &c, &w), 0);
	bool ok = reaches(&c.ticks, 5, 3000);
	worker_stop(w);
	atomic_store(&wall_skew_s, 0);
	assert_true(ok);
}

static void test_cond_wait_until_with_wall_clock_stepped(void **state)
{
	(void)state;
	atomic_store(&wall_skew_s, 3600);
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t cv;
	assert_int_equal(worker_cond_init(&cv), 0);
	uint64_t t0 = real_mono_ms();
	pthread_mutex_lock(&mu);
	bool timed_out = false;
	while (!timed_out && real_mono_ms() - t0 < 3000)
		timed_out = worker_cond_wait_until(&cv, &mu, clock_mono_ns() + 50000000u);
	pthread_mutex_unlock(&mu);
	pthread_cond_destroy(&cv);
	atomic_store(&wall_skew_s, 0);
	assert_true(timed_out);
	assert_true(real_mono_ms() - t0 < 1000);
}

static atomic_int woke_timed_out;

static void on_wake(struct hub_waiter *w, bool timed_out)
{
	(void)w;
	if (timed_out)
		atomic_fetch_add(&woke_timed_out, 1);
}

/* A long-poll's deadline passes on time while the wall clock reads an hour ahead: the
 * hub's timer does not wait on the wall clock. */
static void test_long_poll_with_wall_clock_stepped(void **state)
{
	(void)state;
	struct hub *h = hub_new();
	assert_non_null(h);
	atomic_store(&wall_skew_s, 3600);
	usleep(120000); /* the timer's next wait is taken with the skewed clock */
	struct hub_waiter w = { .space_id = 1, .since = 5, .wake = on_wake };
	w.deadline_ns = clock_mono_ns() + 100000000u;
	hub_add(h, &w);
	bool ok = reaches(&woke_timed_out, 1, 3000);
	if (!ok)
		hub_remove(h, &w);
	atomic_store(&wall_skew_s, 0);
	hub_free(h);
	assert_true(ok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wake_and_stop),
		cmocka_unit_test(test_period),
		cmocka_unit_test(test_period_with_wall_clock_stepped),
		cmocka_unit_test(test_cond_wait_until_with_wall_clock_stepped),
		cmocka_unit_test(test_long_poll_with_wall_clock_stepped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
