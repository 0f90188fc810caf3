/* Router matching, and the buffer and URL helpers it leans on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "http/app.h"
#include "http/router.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/url.h"

static int h(struct req *r)
{
	(void)r;
	return 0;
}

static const struct route routes[] = {
	{ HM_GET, "/health", h, BODY_NONE, NULL, NULL, 0 },
	{ HM_GET | HM_POST, "/api/v1/spaces", h, BODY_JSON, NULL, NULL, 0 },
	{ HM_GET | HM_PATCH | HM_DELETE, "/api/v1/spaces/{space}", h, BODY_JSON, NULL, NULL, 0 },
	{ HM_PUT, "/api/v1/spaces/{space}/records/{collection}/{id}", h, BODY_JSON, NULL, NULL, 0 },
	{ HM_GET, "/api/v1/spaces/{space}/files/{path*}", h, BODY_NONE, NULL, NULL, 0 },
};
#define N (sizeof routes / sizeof routes[0])

static void test_literal_and_methods(void **state)
{
	(void)state;
	const struct route *rt;
	struct route_params p;
	unsigned allowed = 0;
	assert_int_equal(router_match(routes, N, HM_GET, "/health", &rt, &p, &allowed), ROUTE_FOUND);
	assert_ptr_equal(rt, &routes[0]);
	assert_int_equal(p.n, 0);
	/* HEAD is served by GET routes */
	assert_int_equal(router_match(routes, N, HM_HEAD, "/health", &rt, &p, &allowed), ROUTE_FOUND);
	assert_int_equal(router_match(routes, N, HM_DELETE, "/health", &rt, &p, &allowed),
			 ROUTE_NO_METHOD);
	assert_int_equal(allowed, HM_GET | HM_HEAD);
	assert_int_equal(router_match(routes, N, HM_GET, "/health/", &rt, &p, &allowed),
			 ROUTE_NO_PATH);
	assert_int_equal(router_match(routes, N, HM_GET, "/healthz", &rt, &p, &allowed),
			 ROUTE_NO_PATH);
	assert_int_equal(router_match(routes, N, HM_GET, "/", &rt, &p, &allowed), ROUTE_NO_PATH);

	char allow[64];
	http_methods_format(HM_GET | HM_HEAD | HM_PATCH | HM_DELETE, allow, sizeof allow);
	assert_string_equal(allow, "GET, HEAD, PATCH, DELETE");
	assert_int_equal(http_method_parse("PATCH"), HM_PATCH);
	assert_int_equal(http_method_parse("BREW"), 0);
}

static void test_params(void **state)
{
	(void)state;
	const struct route *rt;
	struct route_params p;
	unsigned allowed;
	assert_int_equal(router_match(routes, N, HM_PUT, "/api/v1/spaces/me/records/notes/n%2F1",
				      &rt, &p, &allowed),
			 ROUTE_FOUND);
	assert_ptr_equal(rt, &routes[3]);
	assert_int_equal(p.n, 3);
	assert_int_equal(p.name_lens[1], strlen("collection"));
	assert_memory_equal(p.names[1], "collection", p.name_lens[1]);
	assert_int_equal(p.values[2].len, 5);
	assert_memory_equal(p.values[2].ptr, "n%2F1", 5);
	/* an empty parameter does not match */
	assert_int_equal(router_match(routes, N, HM_GET, "/api/v1/spaces//x", &rt, &p, &allowed),
			 ROUTE_NO_PATH);
	/* the rest parameter takes slashes */
	assert_int_equal(router_match(routes, N, HM_GET, "/api/v1/spaces/s1/files/a/b/c.txt", &rt,
				      &p, &allowed),
			 ROUTE_FOUND);
	assert_int_equal(p.values[1].len, strlen("a/b/c.txt"));
	/* a path that exists with other methods */
	assert_int_equal(router_match(routes, N, HM_POST, "/api/v1/spaces/s1", &rt, &p, &allowed),
			 ROUTE_NO_METHOD);
	assert_int_equal(allowed, HM_GET | HM_HEAD | HM_PATCH | HM_DELETE);
}

static void test_buf_limits(void **state)
{
	(void)state;
	struct buf b = BUF_INIT(10);
	assert_string_equal(buf_str(&b), "");
	assert_int_equal(buf_append(&b, "12345", 5), 0);
	assert_int_equal(buf_printf(&b, "%d", 6789), 0);
	assert_string_equal(buf_str(&b), "123456789");
	assert_int_equal(buf_append(&b, "ab", 2), -ERR_TOO_LARGE);
	assert_string_equal(buf_str(&b), "123456789"); /* unchanged */
	assert_int_equal(buf_append(&b, "a", 1), 0);
	assert_int_equal(b.len, 10);
	assert_int_equal(buf_printf(&b, "%s", "x"), -ERR_TOO_LARGE);
	/* no limit at all: the largest max must not wrap around */
	struct buf u = BUF_INIT((size_t)-1);
	for (int i = 0; i < 100; i++)
		assert_int_equal(buf_puts(&u, "0123456789"), 0);
	assert_int_equal(u.len, 1000);
	buf_free(&u);
	buf_free(&b);

	struct buf big = BUF_INIT(1 << 20);
	char chunk[1000];
	memset(chunk, 'x', sizeof chunk);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(buf_append(&big, chunk, sizeof chunk), 0);
	assert_int_equal(big.len, 1000000);
	assert_int_equal(buf_printf(&big, "%0300d", 1), 0);
	assert_int_equal(big.len, 1000300);
	assert_int_equal(big.ptr[big.len], '\0');
	buf_free(&big);
}

static void test_url_decode(void **state)
{
	(void)state;
	char out[64];
	assert_int_equal(url_decode("a%2Fb+c", 7, out, false), 5);
	assert_string_equal(out, "a/b+c");
	assert_int_equal(url_decode("a%2fb+c", 7, out, true), 5);
	assert_string_equal(out, "a/b c");
	assert_int_equal(url_decode("%", 1, out, false), -1);
	assert_int_equal(url_decode("%4", 2, out, false), -1);
	assert_int_equal(url_decode("%zz", 3, out, false), -1);
	assert_int_equal(url_decode("%00", 3, out, false), -1);
	assert_int_equal(url_decode("%C3%A9", 6, out, false), 2);
	assert_string_equal(out, "\xc3\xa9");
}

/* A literal segment is a resource of its own: a method it lacks is 405, never the
 * parameter route next to it (HEAD /blobs/missing once reached the blob download). */
static void test_literal_beats_parameter(void **state)
{
	(void)state;
	static const struct route rs[] = {
		{ HM_POST, "/api/v1/blobs/missing", h, BODY_JSON, NULL, NULL, 0 },
		{ HM_GET, "/api/v1/blobs/{sha256}", h, BODY_NONE, NULL, NULL, 0 },
		{ HM_PUT, "/a/b/{y}", h, BODY_NONE, NULL, NULL, 0 },
		{ HM_GET, "/a/{x}/c", h, BODY_NONE, NULL, NULL, 0 },
	};
	char err[160];
	assert_int_equal(router_check_order(rs, 4, err, sizeof err), 0);
	const struct route *rt;
	struct route_params p;
	unsigned allowed = 0;
	assert_int_equal(router_match(rs, 4, HM_HEAD, "/api/v1/blobs/missing", &rt, &p, &allowed),
			 ROUTE_NO_METHOD);
	assert_int_equal(allowed, HM_POST);
	assert_int_equal(router_match(rs, 4, HM_GET, "/api/v1/blobs/missing", &rt, &p, &allowed),
			 ROUTE_NO_METHOD);
	assert_int_equal(router_match(rs, 4, HM_POST, "/api/v1/blobs/missing", &rt, &p, &allowed),
			 ROUTE_FOUND);
	assert_ptr_equal(rt, &rs[0]);
	assert_int_equal(router_match(rs, 4, HM_GET, "/api/v1/blobs/abc", &rt, &p, &allowed),
			 ROUTE_FOUND);
	assert_ptr_equal(rt, &rs[1]);
	/* the earlier segment decides: /a/b/c is /a/b/{y} */
	assert_int_equal(router_match(rs, 4, HM_GET, "/a/b/c", &rt, &p, &allowed), ROUTE_NO_METHOD);
	assert_int_equal(allowed, HM_PUT);
	assert_int_equal(router_match(rs, 4, HM_GET, "/a/z/c", &rt, &p, &allowed), ROUTE_FOUND);
}

/* The router takes the first match as the resource, so a table must list the more
 * specific of two patterns that can match one path first; the server's own does. */
static void test_route_order(void **state)
{
	(void)state;
	char err[160];
	static const struct route bad[] = {
		{ HM_GET, "/blobs/{sha256}", h, BODY_NONE, NULL, NULL, 0 },
		{ HM_POST, "/blobs/missing", h, BODY_JSON, NULL, NULL, 0 },
	};
	assert_int_equal(router_check_order(bad, 2, err, sizeof err), -1);
	assert_non_null(strstr(err, "/blobs/missing must come before /blobs/{sha256}"));
	static const struct route rest[] = {
		{ HM_GET, "/files/{path*}", h, BODY_NONE, NULL, NULL, 0 },
		{ HM_GET, "/files/a/b", h, BODY_NONE, NULL, NULL, 0 },
	};
	assert_int_equal(router_check_order(rest, 2, err, sizeof err), -1);
	static const struct route apart[] = {
		{ HM_GET, "/a/{x}", h, BODY_NONE, NULL, NULL, 0 },
		{ HM_GET, "/b/c", h, BODY_NONE, NULL, NULL, 0 },
		{ HM_GET, "/a/{x}/d", h, BODY_NONE, NULL, NULL, 0 },
		{ HM_GET, "/a/b/d/e", h, BODY_NONE, NULL, NULL, 0 },
	};
	assert_int_equal(router_check_order(apart, 4, err, sizeof err), 0);
	assert_int_equal(router_check_order(app_routes, app_routes_count, err, sizeof err), 0);
	assert_int_equal(router_check_order(routes, N, err, sizeof err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_literal_and_methods),
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_literal_beats_parameter),
		cmocka_unit_test(test_route_order),
		cmocka_unit_test(test_buf_limits),
		cmocka_unit_test(test_url_decode),
	};
	return cmocka_run_group_tests_name("router", tests, NULL, NULL);
}
