/* The strict JSON check (RFC 8259 and RFC 3629) and the json-c helpers around it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/jtext.h"

static enum jtext_error scan_n(const char *s, size_t n, int depth, long values)
{
	struct jtext_scan sc;
	int r = jtext_scan(s, n, depth, values, &sc);
	assert_int_equal(r == 0, sc.err == JTEXT_OK);
	return sc.err;
}

static enum jtext_error scan(const char *s)
{
	return scan_n(s, strlen(s), 32, 1000);
}

static void test_accepts_json(void **state)
{
	(void)state;
	static const char *const ok[] = {
		"{}", "[]", " {\"a\" : [1, -2, 3.5, 1e5, -0.25E-3, 0, true, false, null]} \n",
		"\"\"", "0", "-0", "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\"",
		"\"h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xef\xbf\xbf \xf4\x8f\xbf\xbf\"",
		"{\"a\":{\"b\":{\"c\":[[],[{}]]}}}", "9223372036854775807", "-9223372036854775808",
		"18446744073709551615", "1e999", "123456789012345678901234567890.5",
		"\"\x7f\"", "{\"\":1}", "{\"a\":\"\\u0000\"}", "[\"\\u2028\"]",
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		if (scan(ok[i]) != JTEXT_OK)
			fail_msg("refused %s: %s", ok[i], jtext_strerror(scan(ok[i])));
}

static void test_refuses_what_json_c_takes(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		enum jtext_error e;
	} bad[] = {
		{ "{\"a\":NaN}", JTEXT_WORD },
		{ "{\"a\":Infinity}", JTEXT_WORD },
		{ "{\"a\":-Infinity}", JTEXT_NUMBER_FORM },
		{ "{\"a\":1.}", JTEXT_NUMBER_FORM },
		{ "{\"a\":.5}", JTEXT_NUMBER_FORM },
		{ "{\"a\":01}", JTEXT_NUMBER_FORM },
		{ "{\"a\":+1}", JTEXT_NUMBER_FORM },
		{ "{\"a\":1e}", JTEXT_NUMBER_FORM },
		{ "{\"a\":0x10}", JTEXT_NUMBER_FORM },
		{ "{'a':1}", JTEXT_QUOTE },
		{ "[1,]", JTEXT_SYNTAX },
		{ "{\"a\":1,}", JTEXT_SYNTAX },
		{ "{\"a\" 1}", JTEXT_SYNTAX },
		{ "{1:1}", JTEXT_SYNTAX },
		{ "[1 2]", JTEXT_SYNTAX },
		{ "['a']", JTEXT_QUOTE },
		{ "[1.5.2]", JTEXT_NUMBER_FORM },
		{ "[-]", JTEXT_NUMBER_FORM },
		{ "[1e5e]", JTEXT_NUMBER_FORM },
		{ "[True]", JTEXT_WORD },
		{ "tru", JTEXT_END },
		{ "nulL", JTEXT_WORD },
		{ "{\"a\":\"\x01\"}", JTEXT_CONTROL },
		{ "\"a\nb\"", JTEXT_CONTROL },
		{ "\"\xc0\xaf\"", JTEXT_UTF8 },         /* overlong '/' */
		{ "\"\xe0\x80\xaf\"", JTEXT_UTF8 },     /* overlong, three bytes */
		{ "\"\xed\xa0\x80\"", JTEXT_UTF8 },     /* an encoded surrogate */
		{ "\"\xf4\x90\x80\x80\"", JTEXT_UTF8 }, /* above U+10FFFF */
		{ "\"\xf5\x80\x80\x80\"", JTEXT_UTF8 },
		{ "\"\xff\"", JTEXT_UTF8 },
		{ "\"\x80\"", JTEXT_UTF8 },
		{ "\"\xc3\"", JTEXT_UTF8 },             /* cut short by the quote */
		{ "\"\\ud800\"", JTEXT_ESCAPE },        /* a lone high half */
		{ "\"\\udc00x\"", JTEXT_ESCAPE },       /* a lone low half */
		{ "\"\\ud800\\u0041\"", JTEXT_ESCAPE },
		{ "\"\\x41\"", JTEXT_ESCAPE },
		{ "\"\\u12g4\"", JTEXT_ESCAPE },
		{ "{\"a\\u0000b\":1}", JTEXT_NUL_NAME },
		{ "123456789012345678901234567890", JTEXT_NUMBER },
		{ "18446744073709551616", JTEXT_NUMBER },
		{ "-9223372036854775809", JTEXT_NUMBER },
		{ "{} {}", JTEXT_TRAILING },
		{ "", JTEXT_END },
		{ "   ", JTEXT_END },
		{ "{\"a\":", JTEXT_END },
		{ "[", JTEXT_END },
		{ "\"abc", JTEXT_END },
		{ "\"\\u12", JTEXT_END },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		enum jtext_error e = scan(bad[i].s);
		if (e != bad[i].e)
			fail_msg("%zu: %s gave '%s', want '%s'", i, bad[i].s, jtext_strerror(e),
				 jtext_strerror(bad[i].e));
	}
	/* a NUL byte inside the text is not JSON either */
	assert_int_equal(scan_n("\"a\0b\"", 5, 32, 10), JTEXT_CONTROL);
	assert_int_equal(scan_n("{}\0", 3, 32, 10), JTEXT_TRAILING);
}

static void test_limits(void **state)
{
	(void)state;
	char deep[2100];
	for (int n = 1; n <= 1000; n += 333) {
		memset(deep, '[', (size_t)n);
		memset(deep + n, ']', (size_t)n);
		assert_int_equal(scan_n(deep, 2 * (size_t)n, n, 10000), JTEXT_OK);
		assert_int_equal(scan_n(deep, 2 * (size_t)n, n - 1, 10000),
				 JTEXT_DEPTH);
	}
	memset(deep, '[', 1050);
	memset(deep + 1050, ']', 1050);
	assert_int_equal(scan_n(deep, 2100, 5000, 10000), JTEXT_DEPTH); /* capped at 1000 */
	assert_int_equal(scan_n("{\"a\":[[1]]}", 11, 3, 10), JTEXT_OK);
	assert_int_equal(scan_n("{\"a\":[[1]]}", 11, 2, 10), JTEXT_DEPTH);

	/* values: {"x":[{},{},{}]} is 5 of them */
	const char *v = "{\"x\":[{},{},{}]}";
	assert_int_equal(scan_n(v, strlen(v), 32, 5), JTEXT_OK);
	assert_int_equal(scan_n(v, strlen(v), 32, 4), JTEXT_VALUES);
	struct jtext_scan sc;
	assert_int_equal(jtext_scan(v, strlen(v), 32, 100, &sc), 0);
	assert_int_equal(sc.values, 5);

	/* the scan stops at the limit, wherever the body goes on */
	size_t n = 16u << 20;
	char *big = malloc(n);
	assert_non_null(big);
	memcpy(big, "{\"x\":[", 6);
	size_t i = 6;
	while (i + 4 < n) {
		memcpy(big + i, "{},", 3);
		i += 3;
	}
	assert_int_equal(jtext_scan(big, i, 32, 200000, &sc), -1);
	assert_int_equal(sc.err, JTEXT_VALUES);
	assert_true(sc.offset < 700000);
	free(big);
}

static void test_raw_and_parse(void **state)
{
	(void)state;
	json_object *o = json_object_new_object();
	json_object_object_add(o, "data", jtext_raw("{\"deep\":[[[1.50,1e999]]]}"));
	json_object_object_add(o, "n", json_object_new_int(1));
	assert_string_equal(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
			    "{\"data\":{\"deep\":[[[1.50,1e999]]]},\"n\":1}");
	json_object_put(o);

	char deep[200];
	memset(deep, '[', 60);
	memset(deep + 60, ']', 60);
	deep[120] = '\0';
	json_object *p = NULL;
	assert_int_equal(jtext_parse(deep, 120, 60, &p), 0);
	assert_non_null(p);
	json_object_put(p);
	assert_int_equal(jtext_parse(deep, 120, 40, &p), -1);
	assert_int_equal(jtext_parse("{} x", 4, 10, &p), -1);
	assert_int_equal(jtext_parse("null", 4, 10, &p), 0);
	assert_null(p);

	json_object *s = json_object_new_string_len("a\0b", 3);
	assert_null(jtext_string(s));
	json_object_put(s);
	s = json_object_new_string("ab");
	assert_string_equal(jtext_string(s), "ab");
	json_object_put(s);
	s = json_object_new_int(3);
	assert_null(jtext_string(s));
	json_object_put(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts_json),
		cmocka_unit_test(test_refuses_what_json_c_takes),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_raw_and_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
