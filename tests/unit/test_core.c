/* Pure parts of core: the token cache, rate limit windows, validators, tokens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "core/ratelimit.h"
#include "core/tokencache.h"

static void test_tokencache(void **state)
{
	(void)state;
	struct tokencache *tc = tokencache_new();
	uint8_t h1[32] = { 1, 2, 3 }, h2[32] = { 1, 2, 4 }; /* same slot, other token */
	struct principal p = { 0 }, out;
	p.user.id = 42;
	p.device.last_seen_ms = 10;
	assert_false(tokencache_get(tc, h1, 7, 1000, &out));
	tokencache_put(tc, h1, 7, 1000, &p);
	assert_true(tokencache_get(tc, h1, 7, 1500, &out));
	assert_int_equal(out.user.id, 42);
	/* a write elsewhere moved the generation on */
	assert_false(tokencache_get(tc, h1, 8, 1500, &out));
	/* too old */
	assert_false(tokencache_get(tc, h1, 7, 1000 + TOKENCACHE_TTL_MS, &out));
	/* a different token in the same slot is never returned for this one */
	assert_false(tokencache_get(tc, h2, 7, 1500, &out));
	tokencache_seen(tc, h1, 99999);
	assert_true(tokencache_get(tc, h1, 7, 1500, &out));
	assert_int_equal(out.device.last_seen_ms, 99999);
	tokencache_put(tc, h2, 7, 1000, &p); /* evicts h1 */
	assert_false(tokencache_get(tc, h1, 7, 1500, &out));
	tokencache_free(tc);
}

static void test_ratelimit(void **state)
{
	(void)state;
	struct ratelimit *rl = ratelimit_new();
	int64_t t = 60000 * 1000 + 15000; /* 15 s into a minute */
	for (int i = 0; i < 3; i++)
		assert_int_equal(ratelimit_hit(rl, "login:a:1.2.3.4", 3, t), 0);
	int retry = ratelimit_hit(rl, "login:a:1.2.3.4", 3, t);
	assert_int_equal(retry, 45);
	/* other keys are separate */
	assert_int_equal(ratelimit_hit(rl, "login:a:1.2.3.5", 3, t), 0);
	/* the next minute starts afresh */
	assert_int_equal(ratelimit_hit(rl, "login:a:1.2.3.4", 3, t + 45000), 0);
	/* many keys do not break counting for the one under attack */
	char key[64];
	for (int i = 0; i < 100000; i++) {
		snprintf(key, sizeof key, "login:a:10.0.%d.%d", i / 256, i % 256);
		ratelimit_hit(rl, key, 3, t + 50000);
	}
	for (int i = 0; i < 3; i++)
		ratelimit_hit(rl, "login:u:1:victim", 3, t + 50000);
	assert_true(ratelimit_hit(rl, "login:u:1:victim", 3, t + 50000) > 0);
	ratelimit_free(rl);
}

static void test_validators(void **state)
{
	(void)state;
	struct verr v = { 0 };
	assert_true(check_username(&v, "u", "ada.l_o-v3", true));
	assert_false(check_username(&v, "u", "_ada", true));
	assert_false(check_username(&v, "u2", "a b", true));
	assert_false(check_username(&v, "u3", "", true));
	assert_true(check_username(&v, "u4", NULL, false));
	assert_int_equal(v.n, 3);
	assert_string_equal(v.e[2].msg, "is required");

	struct verr e = { 0 };
	assert_true(check_email(&e, "e", "a@b.c", true));
	assert_true(check_email(&e, "e", "a+tag@localhost", true));
	assert_false(check_email(&e, "e1", "a@", true));
	assert_false(check_email(&e, "e2", "@b.c", true));
	assert_false(check_email(&e, "e3", "a@b@c", true));
	assert_false(check_email(&e, "e4", "a b@c.d", true));
	assert_false(check_email(&e, "e5", "a@b.c\r\nBcc: x@y.z", true));

	struct verr t = { 0 };
	assert_true(check_text(&t, "t", "Café ✓ 密码", 64, true));
	assert_false(check_text(&t, "t1", "tab\there", 64, true));
	assert_false(check_text(&t, "t2", "\xc0\xaf", 64, true));         /* overlong */
	assert_false(check_text(&t, "t3", "\xed\xa0\x80", 64, true));     /* surrogate */
	assert_false(check_text(&t, "t4", "\xf4\x90\x80\x80", 64, true)); /* > U+10FFFF */
	assert_false(check_text(&t, "t5", "\xc2\x85", 64, true));         /* C1 control */
	assert_false(check_text(&t, "t6", "abcdef", 5, true));

	struct verr p = { 0 };
	assert_false(check_password(&p, "p", "1234567"));
	assert_true(check_password(&p, "p2", "12345678"));
	char big[1026];
	memset(big, 'x', 1025);
	big[1025] = '\0';
	assert_false(check_password(&p, "p3", big));
	big[1024] = '\0';
	assert_true(check_password(&p, "p4", big));

	struct verr r = { 0 };
	assert_true(check_realm_name(&r, "r", "team-1"));
	assert_false(check_realm_name(&r, "r1", "-team"));
	assert_false(check_realm_name(&r, "r2", "Team"));
}

static void test_tokens(void **state)
{
	(void)state;
	char a[TOKEN_LEN], b[TOKEN_LEN];
	token_new("cat_", a);
	token_new("cat_", b);
	assert_int_equal(strlen(a), 4 + 43);
	assert_memory_equal(a, "cat_", 4);
	assert_string_not_equal(a, b);
	for (const char *p = a + 4; *p; p++)
		assert_true((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_');
	uint8_t h1[32], h2[32];
	token_hash(a, h1);
	token_hash(a, h2);
	assert_memory_equal(h1, h2, 32);
	token_hash(b, h2);
	assert_memory_not_equal(h1, h2, 32);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tokencache),
		cmocka_unit_test(test_ratelimit),
		cmocka_unit_test(test_validators),
		cmocka_unit_test(test_tokens),
	};
	return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
