/* Pure parts of sync: JSON merge patch (RFC 7386's examples), RFC 3339 times, names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/sync.h"
#include "util/clock.h"
#include "util/config.h"
#include "util/err.h"
#include "cli/cli.h"

static void check_patch(const char *target, const char *patch, const char *want)
{
	json_object *t = json_tokener_parse(target);
	json_object *p = json_tokener_parse(patch);
	json_object *w = json_tokener_parse(want);
	json_object *got = json_merge_patch(t, p);
	if (!json_object_equal(got, w))
		fail_msg("patch %s onto %s gave %s, want %s", patch, target,
			 json_object_to_json_string(got), want);
	/* the inputs are untouched */
	json_object *t2 = json_tokener_parse(target);
	assert_true(json_object_equal(t, t2));
	json_object_put(t);
	json_object_put(t2);
	json_object_put(p);
	json_object_put(w);
	json_object_put(got);
}

static void test_merge_patch(void **state)
{
	(void)state;
	check_patch("{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}");
	check_patch("{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}");
	check_patch("{\"a\":\"b\"}", "{\"a\":null}", "{}");
	check_patch("{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}");
	check_patch("{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}");
	check_patch("{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}");
	check_patch("{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}",
		    "{\"a\":{\"b\":\"d\"}}");
	check_patch("{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}");
	check_patch("[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]");
	check_patch("{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]");
	check_patch("{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}");
	check_patch("[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}");
	check_patch("{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}");
}

static void test_rfc3339(void **state)
{
	(void)state;
	int64_t ms;
	assert_true(parse_rfc3339_ms("1970-01-01T00:00:00Z", &ms));
	assert_int_equal(ms, 0);
	assert_true(parse_rfc3339_ms("2026-11-22T10:00:00.123Z", &ms));
	assert_int_equal(ms, 1795341600123LL);
	assert_true(parse_rfc3339_ms("2000-02-29T23:59:59.5Z", &ms));
	assert_int_equal(ms, 951868799500LL);
	assert_true(parse_rfc3339_ms("2026-11-22T10:00:00.123456Z", &ms));
	assert_int_equal(ms % 1000, 123);
	assert_false(parse_rfc3339_ms("2026-11-22 10:00:00Z", &ms));
	assert_false(parse_rfc3339_ms("2026-11-22T10:00:00+01:00", &ms));
	assert_false(parse_rfc3339_ms("2026-13-22T10:00:00Z", &ms));
	assert_false(parse_rfc3339_ms("2026-11-22T10:00:00.Z", &ms));
	assert_false(parse_rfc3339_ms("yesterday", &ms));
	assert_false(parse_rfc3339_ms("", &ms));
	/* exactly the form: sscanf once let signs, spaces and line feeds through */
	assert_true(parse_rfc3339_ms("2026-11-22T10:00:00+00:00", &ms));
	assert_int_equal(ms, 1795341600000LL);
	assert_true(parse_rfc3339_ms("2026-11-22T10:00:00.123456789Z", &ms));
	static const char *const bad[] = {
		"2026-\n1-22T10:00:00Z", " 2026-11-22T10:00:00Z", "+2026-11-22T10:00:00Z",
		"2026-+1-22T10:00:00Z", "2026-11-22T1 :00:00Z", "2026-11-22T10:00:00.1234567890Z",
		"2026-02-29T10:00:00Z", "2026-11-31T10:00:00Z", "2026-11-22T10:00:60Z",
		"2026-11-22t10:00:00z", "2026-11-22T10:00:00-00:00", "2026-11-22T10:00:00Z ",
		"1969-12-31T23:59:59Z", "2026-11-22T10:00:00", "2026-11-22T10:00Z",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (parse_rfc3339_ms(bad[i], &ms))
			fail_msg("took %s", bad[i]);
}

static void test_names(void **state)
{
	(void)state;
	assert_true(valid_collection("notes"));
	assert_true(valid_collection("a.b-c_D9"));
	assert_false(valid_collection(".hidden"));
	assert_false(valid_collection("with space"));
	assert_false(valid_collection(""));
	char long_name[70];
	memset(long_name, 'a', 65);
	long_name[65] = '\0';
	assert_false(valid_collection(long_name));
	assert_true(valid_record_id("550e8400-e29b-41d4-a716-446655440000"));
	assert_true(valid_record_id("user@host:1~x+y=z"));
	assert_false(valid_record_id("a/b"));
	assert_false(valid_record_id("quote\""));
	assert_false(valid_record_id("back\\slash"));
	assert_true(valid_op_id("c0a8-1.2:3~4_5"));
	assert_false(valid_op_id("no spaces"));
}

/* The clock rule at its edge: exactly sync.max_clock_skew ahead is taken, a millisecond
 * more is clock_skew, and a request with another fault as well is plain invalid. */
static void test_clock_skew(void **state)
{
	(void)state;
	struct config cfg;
	assert_int_equal(cairn_config_init(&cfg), 0);
	CONFIG_MUT(&cfg, sync)->max_clock_skew_ms = 300000;
	const int64_t now = 1796000000000LL;
	assert_int_equal(sync_latest_client_ts(&cfg, now), now + 300000);
	char at[CLOCK_RFC3339_LEN], over[CLOCK_RFC3339_LEN];
	clock_format_rfc3339(now + 300000, at);
	clock_format_rfc3339(now + 300001, over);
	json_object *data = json_object_new_object();
	struct push_change ch = { .op_id = "o1", .collection = "c", .id = "i", .op = OP_PUT,
				  .data = data, .base_version = -1 };
	struct verr ve = { 0 };
	ch.client_ts = at;
	assert_int_equal(sync_changes_validate(&cfg, &ch, 1, now, &ve), 0);
	ch.client_ts = over;
	ve.n = 0;
	assert_int_equal(sync_changes_validate(&cfg, &ch, 1, now, &ve), -ERR_CLOCK_SKEW);
	assert_string_equal(ve.e[0].field, "client_ts");
	ch.collection = "bad/name";
	ch.client_ts = over;
	ve.n = 0;
	assert_int_equal(sync_changes_validate(&cfg, &ch, 1, now, &ve), -ERR_INVALID);
	json_object_put(data);
	config_free(&cfg);
}

/* clock_format_rfc3339 (arithmetic) writes what gmtime_r and printf write, for times from
 * 1970 to 9999, around month and leap-day edges, and a spread of others. */
static void test_rfc3339_format(void **state)
{
	(void)state;
	int64_t t[2000];
	size_t n = 0;
	const int64_t edges[] = { 0, 1, 999, 1000, 86399999, 86400000, 951782400000LL,
				  951868799999LL, 951868800000LL, 4107542400000LL,
				  1796000000123LL, 253402300799999LL };
	for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
		t[n++] = edges[i];
	uint64_t x = 88172645463325252ULL; /* xorshift: a fixed spread, not a random one */
	while (n < sizeof t / sizeof t[0]) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		t[n++] = (int64_t)(x % 253402300800000ULL);
	}
	for (size_t i = 0; i < n; i++) {
		time_t s = (time_t)(t[i] / 1000);
		struct tm tm;
		assert_non_null(gmtime_r(&s, &tm));
		char want[64], got[CLOCK_RFC3339_LEN];
		snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			 (int)(t[i] % 1000));
		clock_format_rfc3339(t[i], got);
		assert_string_equal(got, want);
	}
	/* before 1970 (client times are never stored so; the text stays well formed) */
	char got[CLOCK_RFC3339_LEN];
	clock_format_rfc3339(-1, got);
	assert_string_equal(got, "1969-12-31T23:59:59.999Z");
}

/* The memo gives the text clock_format_rfc3339 gives, for times in and out of order,
 * across seconds, and before 1970. */
static void test_rfc3339_memo(void **state)
{
	(void)state;
	struct rfc3339_memo m = { 0 };
	const int64_t t[] = { 1796000000000LL, 1796000000999LL, 1796000000005LL, 1796000001000LL,
			      1796000000500LL, 0, -1, -1000, -1001, 1796000000000LL, 86399999 };
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		char want[CLOCK_RFC3339_LEN];
		clock_format_rfc3339(t[i], want);
		assert_string_equal(clock_rfc3339_memo(&m, t[i]), want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc3339_memo),
		cmocka_unit_test(test_rfc3339_format),
		cmocka_unit_test(test_merge_patch),
		cmocka_unit_test(test_rfc3339),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_clock_skew),
	};
	return cmocka_run_group_tests_name("sync", tests, NULL, NULL);
}
