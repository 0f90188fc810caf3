/* Double buffering across two threads (util/handoff.h): buffers are consumed in the
 * order given, on the worker, while the owner goes on; the owner never reuses a buffer
 * the worker still reads; the first error sticks and stops the rest. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "util/err.h"
#include "util/handoff.h"

struct sink {
	char got[64];
	int n;           /* bytes consumed */
	int calls;
	int fail_at;     /* the call that fails (1-based), 0 for none */
	pthread_t owner; /* the owner's thread: consume must run on another */
	atomic_int busy; /* consume is running */
	int on_owner;    /* consumes that ran on the owner's thread */
};

static int consume(void *arg, const char *p, size_t len)
{
	struct sink *s = arg;
	atomic_store(&s->busy, 1);
	if (pthread_equal(pthread_self(), s->owner))
		s->on_owner++;
	usleep(20000); /* long enough for the owner to be caught reusing a buffer */
	s->calls++;
	int r = 0;
	if (s->fail_at && s->calls == s->fail_at) {
		r = -ERR_IO;
	} else {
		memcpy(s->got + s->n, p, len);
		s->n += (int)len;
	}
	atomic_store(&s->busy, 0);
	return r;
}

static void test_in_order_while_the_owner_goes_on(void **state)
{
	(void)state;
	struct sink s = { .owner = pthread_self() };
	struct handoff h;
	assert_int_equal(handoff_init(&h, "test-handoff", consume, &s), 0);
	assert_true(handoff_start(&h));
	char bufs[2][4];
	int cur = 0;
	const char *text = "abcdefghijklmnopqrstuvwx"; /* 6 buffers of 4 */
	for (int i = 0; i < 6; i++) {
		/* the buffer filled now is never the one the worker is reading */
		memcpy(bufs[cur], text + 4 * i, 4);
		assert_int_equal(handoff_give(&h, bufs[cur], 4), 1);
		if (i == 0)
			assert_int_equal(s.n, 0); /* handed over, not consumed here */
		cur ^= 1;
	}
	assert_int_equal(handoff_wait(&h), 0);
	assert_int_equal(s.n, 24);
	assert_memory_equal(s.got, text, 24);
	assert_int_equal(s.on_owner, 0);
	handoff_fini(&h);
}

static void test_the_first_error_sticks(void **state)
{
	(void)state;
	struct sink s = { .owner = pthread_self(), .fail_at = 2 };
	struct handoff h;
	assert_int_equal(handoff_init(&h, "test-handoff", consume, &s), 0);
	assert_true(handoff_start(&h));
	char a[2] = "12", b[2] = "34";
	assert_int_equal(handoff_give(&h, a, 2), 1);
	assert_int_equal(handoff_give(&h, b, 2), 1); /* waits for the first, hands the second */
	assert_int_equal(handoff_wait(&h), -ERR_IO); /* the second failed */
	assert_int_equal(handoff_give(&h, a, 2), -ERR_IO);
	assert_int_equal(s.calls, 2); /* nothing after the failure was consumed */
	assert_int_equal(s.n, 2);
	handoff_fini(&h);
	/* a zeroed handoff that was never started can be finished */
	struct handoff z = { 0 };
	handoff_fini(&z);
}

/* No more than HANDOFF_MAX_WORKERS workers run at once: past that, a handoff has none and
 * its owner consumes the buffers itself; a stopped one frees its place. */
static void test_workers_are_capped(void **state)
{
	(void)state;
	static struct handoff hs[HANDOFF_MAX_WORKERS + 1];
	static struct sink sinks[HANDOFF_MAX_WORKERS + 1];
	for (int i = 0; i <= HANDOFF_MAX_WORKERS; i++) {
		sinks[i] = (struct sink){ .owner = pthread_self() };
		assert_int_equal(handoff_init(&hs[i], "test-handoff", consume, &sinks[i]), 0);
		assert_int_equal(handoff_start(&hs[i]), i < HANDOFF_MAX_WORKERS);
	}
	struct handoff *last = &hs[HANDOFF_MAX_WORKERS];
	assert_int_equal(handoff_give(last, "ab", 2), 0); /* consumed here, at once */
	assert_int_equal(sinks[HANDOFF_MAX_WORKERS].on_owner, 1);
	assert_int_equal(sinks[HANDOFF_MAX_WORKERS].n, 2);
	handoff_fini(&hs[0]);
	assert_true(handoff_start(last));
	assert_int_equal(handoff_give(last, "cd", 2), 1);
	assert_int_equal(handoff_wait(last), 0);
	assert_int_equal(sinks[HANDOFF_MAX_WORKERS].on_owner, 1);
	assert_memory_equal(sinks[HANDOFF_MAX_WORKERS].got, "abcd", 4);
	for (int i = 1; i <= HANDOFF_MAX_WORKERS; i++)
		handoff_fini(&hs[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order_while_the_owner_goes_on),
		cmocka_unit_test(test_the_first_error_sticks),
		cmocka_unit_test(test_workers_are_capped),
	};
	return cmocka_run_group_tests_name("handoff", tests, NULL, NULL);
}
