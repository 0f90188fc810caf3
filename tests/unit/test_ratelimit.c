/* Rate limits: a counter near its limit survives a flood of other keys (they once
 * overwrote it, so a caller could reset the count of an account it was guessing at). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>

#include "core/ratelimit.h"

static void test_window(void **state)
{
	(void)state;
	struct ratelimit *rl = ratelimit_new();
	int64_t now = 120000;
	for (int i = 0; i < 3; i++)
		assert_int_equal(ratelimit_hit(rl, "k", 3, now), 0);
	assert_true(ratelimit_hit(rl, "k", 3, now) > 0);
	assert_int_equal(ratelimit_hit(rl, "other", 3, now), 0);
	assert_int_equal(ratelimit_hit(rl, "k", 3, now + 60000), 0); /* the next minute */
	ratelimit_free(rl);
}

static void test_flood_keeps_busy_counters(void **state)
{
	(void)state;
	struct ratelimit *rl = ratelimit_new();
	int64_t now = 600000;
	for (int i = 0; i < 9; i++)
		assert_int_equal(ratelimit_hit(rl, "cred:u:1", 10, now), 0);
	char key[64];
	for (int i = 0; i < 200000; i++) {
		snprintf(key, sizeof key, "cred:n:1:guess%d", i);
		ratelimit_hit(rl, key, 10, now);
	}
	assert_int_equal(ratelimit_hit(rl, "cred:u:1", 10, now), 0); /* the 10th */
	assert_true(ratelimit_hit(rl, "cred:u:1", 10, now) > 0);    /* the 11th */
	ratelimit_free(rl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_flood_keeps_busy_counters),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
