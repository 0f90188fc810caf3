/* Parsers of header values: conditional headers, IP addresses and CIDR ranges, and the
 * client behind trusted proxies from X-Forwarded-For. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <sys/socket.h>

#include "util/conditional.h"
#include "util/netaddr.h"

static void test_if_match(void **state)
{
	(void)state;
	int64_t v = -1;
	assert_int_equal(cond_if_match_version("\"42\"", &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(cond_if_match_version(" 7 ", &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(cond_if_match_version("\"9223372036854775807\"", &v), 0);
	assert_int_equal(v, INT64_MAX);
	static const char *const bad[] = {
		"", "\"\"", "\"42", "42\"", "W/\"42\"", "*", "\"1\", \"2\"", "+5", "-5", "\" 5\"",
		"5x", "\"9223372036854775808\"", "99999999999999999999999", "0x10", "\"4\"2",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (cond_if_match_version(bad[i], &v) == 0)
			fail_msg("took %s", bad[i]);
}

static void test_etag_listed(void **state)
{
	(void)state;
	const char *e = "\"abc\"";
	assert_true(cond_etag_listed("\"abc\"", e));
	assert_true(cond_etag_listed("W/\"abc\"", e));
	assert_true(cond_etag_listed("\"x\", \"abc\" ", e));
	assert_true(cond_etag_listed("*", e));
	assert_false(cond_etag_listed("\"abcd\"", e));
	assert_false(cond_etag_listed("\"x,\"abc\"\"", e)); /* inside another tag */
	assert_false(cond_etag_listed("", e));
	assert_false(cond_etag_listed("\"unterminated", e));
	assert_false(cond_etag_listed("\"ab\"c\"", e));
}

static struct netaddr addr(const char *s)
{
	struct netaddr a;
	assert_int_equal(netaddr_parse(s, strlen(s), &a), 0);
	return a;
}

static void test_ranges(void **state)
{
	(void)state;
	struct netrange_list l;
	char err[128];
	assert_int_equal(netrange_list_parse("127.0.0.1, 10.0.0.0/8 ::1,2001:db8::/32", &l, err,
					     sizeof err),
			 0);
	assert_int_equal(l.n, 4);
	struct netaddr a = addr("10.200.3.4");
	assert_true(netrange_list_has(&l, &a));
	a = addr("11.0.0.1");
	assert_false(netrange_list_has(&l, &a));
	a = addr("::ffff:127.0.0.1"); /* v4-mapped is the v4 address */
	assert_true(netrange_list_has(&l, &a));
	a = addr("2001:db8:ffff::1");
	assert_true(netrange_list_has(&l, &a));
	a = addr("2001:db9::1");
	assert_false(netrange_list_has(&l, &a));
	assert_int_equal(netrange_list_parse("", &l, err, sizeof err), 0);
	assert_int_equal(l.n, 0);
	static const char *const bad[] = { "10.0.0.0/33", "::/129", "10.0.0.1/", "host.example",
					   "10.0.0.0/8x", "1.2.3.4/-1", "256.1.1.1" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (netrange_list_parse(bad[i], &l, err, sizeof err) == 0)
			fail_msg("took %s", bad[i]);
	char many[2048];
	for (int i = 0; i < 65; i++)
		memcpy(many + i * 8, "1.2.3.4,", 8);
	many[65 * 8] = '\0';
	assert_int_equal(netrange_list_parse(many, &l, err, sizeof err), -1);
}

static void client(const char *trusted, const char *peer, const char *xff, const char *want)
{
	struct netrange_list l;
	char err[128];
	assert_int_equal(netrange_list_parse(trusted, &l, err, sizeof err), 0);
	struct netaddr p = addr(peer), got;
	netaddr_forwarded_client(&l, &p, xff, &got);
	char text[NETADDR_TEXT_LEN];
	netaddr_format(&got, text);
	if (strcmp(text, want))
		fail_msg("peer %s, X-Forwarded-For %s: got %s, want %s", peer, xff ? xff : "(none)",
			 text, want);
}

static void test_forwarded_client(void **state)
{
	(void)state;
	const char *t = "127.0.0.1, 10.0.0.0/8";
	client(t, "127.0.0.1", NULL, "127.0.0.1");
	client(t, "127.0.0.1", "", "127.0.0.1");
	client(t, "127.0.0.1", "203.0.113.5", "203.0.113.5");
	/* the client's own entries are on the left and are never reached */
	client(t, "127.0.0.1", "198.51.100.7, 203.0.113.5", "203.0.113.5");
	client(t, "127.0.0.1", "1.1.1.1,2.2.2.2 , 203.0.113.5,10.0.0.9", "203.0.113.5");
	/* all trusted: the leftmost */
	client(t, "127.0.0.1", "10.0.0.1, 10.0.0.2", "10.0.0.1");
	/* garbage stops the walk at the proxy that wrote it */
	client(t, "127.0.0.1", "203.0.113.5, bogus, 10.0.0.3", "10.0.0.3");
	client(t, "127.0.0.1", "bogus", "127.0.0.1");
	/* ports and brackets that some proxies write */
	client(t, "127.0.0.1", "203.0.113.5:4711", "203.0.113.5");
	client(t, "127.0.0.1", "[2001:db8::1]:443", "2001:db8::1");
	client(t, "127.0.0.1", "2001:db8::2", "2001:db8::2");
	client(t, "127.0.0.1", ",, 203.0.113.5 ,,", "203.0.113.5");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_if_match),
		cmocka_unit_test(test_etag_listed),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_forwarded_client),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
