/* The HTTP glue, in process, over real loopback HTTP with libcurl: JSON body limits and
 * errors, streamed bodies, suspended requests answered from another thread, path and
 * query decoding, request ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/server.h"
#include "util/err.h"
#include "util/log.h"

#define STREAM_LIMIT (2 * 1024 * 1024)

static struct http_server *srv;
static int port;

/* --- test routes --- */

static int h_json(struct req *r)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "type", json_object_new_string(
						  r->json ? json_type_to_name(json_object_get_type(r->json))
							  : "none"));
	return http_reply_json(r, 200, o);
}

struct stream_ctx {
	uint64_t bytes;
	int chunks;
};

static int stream_begin(struct req *r)
{
	const char *cl = http_header(r, "Content-Length");
	if (cl && strtoull(cl, NULL, 10) > STREAM_LIMIT)
		return http_reply_error(r, AE_BODY_TOO_LARGE, NULL, NULL);
	r->ctx = calloc(1, sizeof(struct stream_ctx));
	r->ctx_free = free;
	return 0;
}

static int stream_chunk(struct req *r, const char *data, size_t len)
{
	(void)data;
	struct stream_ctx *c = r->ctx;
	c->bytes += len;
	c->chunks++;
	if (c->bytes > STREAM_LIMIT) {
		http_reply_error(r, AE_BODY_TOO_LARGE, NULL, NULL);
		return -ERR_TOO_LARGE;
	}
	return 0;
}

static int h_stream(struct req *r)
{
	struct stream_ctx *c = r->ctx;
	json_object *o = json_object_new_object();
	json_object_object_add(o, "bytes", json_object_new_int64((int64_t)c->bytes));
	json_object_object_add(o, "chunks", json_object_new_int(c->chunks));
	return http_reply_json(r, 200, o);
}

static pthread_mutex_t parked_mu = PTHREAD_MUTEX_INITIALIZER;
static struct req *parked[16];
static int nparked;

static int h_suspend(struct req *r)
{
	http_suspend(r);
	pthread_mutex_lock(&parked_mu);
	parked[nparked++] = r;
	pthread_mutex_unlock(&parked_mu);
	return 0;
}

static int h_ping(struct req *r)
{
	return http_reply_bytes(r, 200, "text/plain", "pong", 4);
}

static int h_item(struct req *r)
{
	/* decoded by the glue, which answered any malformed escape 400 before this */
	const char *id = http_param(r, "id");
	const char *q = http_query(r, "q");
	if (!id)
		return http_reply_error(r, AE_INTERNAL, NULL, NULL);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "q", q ? json_object_new_string(q) : NULL);
	return http_reply_json(r, 200, o);
}

static const struct route routes[] = {
	{ HM_POST, "/json", h_json, BODY_JSON, NULL, NULL, 0 },
	{ HM_PUT, "/stream", h_stream, BODY_STREAM, stream_begin, stream_chunk, 0 },
	{ HM_GET, "/suspend", h_suspend, BODY_NONE, NULL, NULL, 0 },
	{ HM_GET, "/ping", h_ping, BODY_NONE, NULL, NULL, 0 },
	{ HM_GET, "/item/{id}", h_item, BODY_NONE, NULL, NULL, 0 },
};

/* A mount: a protocol whose errors are {"message": "..."} with its own statuses for a
 * few, as a compat adapter's would be. */
static int mount_reply_error(struct req *r, enum api_error e, const char *msg,
			     json_object *fields, json_object *extra)
{
	json_object_put(fields);
	json_object_put(extra);
	const struct api_error_def *d = api_error_get(e);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "message", json_object_new_string(msg ? msg : d->message));
	return http_reply_json(r, e == AE_NOT_FOUND ? 400 : d->status, o);
}

static int mount_pre_body(struct req *r)
{
	if (http_header(r, "X-Refuse"))
	{
		http_reply_error(r, AE_UNAUTHORIZED, "refused by the mount", NULL);
		return -1;
	}
	return 0;
}

static const struct route mount_routes[] = {
	{ HM_POST, "/json", h_json, BODY_JSON, NULL, NULL, 0 },
	{ HM_GET, "/", h_ping, BODY_NONE, NULL, NULL, 0 },
};

static const char *const mount_headers[] = { "X-Mount", "yes", NULL };

static const struct http_mount mounts[] = {
	{ "/compat/test", mount_routes, sizeof mount_routes / sizeof mount_routes[0],
	  mount_pre_body, mount_reply_error, mount_headers },
};

/* --- client --- */

struct resp {
	long status;
	char body[8192];
	size_t len;
	char reqid[128];
	bool mount_header; /* X-Mount: yes (every answer under the test mount) */
};

static size_t on_data(char *p, size_t sz, size_t n, void *ud)
{
	struct resp *r = ud;
	size_t len = sz * n;
	size_t room = sizeof r->body - 1 - r->len;
	memcpy(r->body + r->len, p, len < room ? len : room);
	r->len += len < room ? len : room;
	r->body[r->len] = '\0';
	return len;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
	struct resp *r = ud;
	size_t len = sz * n;
	if (len > 14 && strncasecmp(p, "X-Request-Id: ", 14) == 0) {
		size_t l = len - 14;
		while (l && (p[14 + l - 1] == '\r' || p[14 + l - 1] == '\n'))
			l--;
		snprintf(r->reqid, sizeof r->reqid, "%.*s", (int)l, p + 14);
	}
	if (len >= 12 && strncasecmp(p, "X-Mount: yes", 12) == 0)
		r->mount_header = true;
	return len;
}

struct upload {
	const char *data;
	size_t len, off;
};

static size_t on_read(char *p, size_t sz, size_t n, void *ud)
{
	struct upload *u = ud;
	size_t want = sz * n, left = u->len - u->off;
	if (want > left)
		want = left;
	if (want > 65536)
		want = 65536;
	memcpy(p, u->data + u->off, want);
	u->off += want;
	return want;
}

/* Sends a request; body may be NULL. chunked sends it without Content-Length. */
static void request(const char *method, const char *path, const char *ctype, const char *body,
		    size_t bodylen, int chunked, const char *extra_header, struct resp *out)
{
	memset(out, 0, sizeof *out);
	CURL *c = curl_easy_init();
	char url[512];
	snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	struct curl_slist *h = NULL;
	char ct[128];
	if (ctype) {
		snprintf(ct, sizeof ct, "Content-Type: %s", ctype);
		h = curl_slist_append(h, ct);
	}
	if (extra_header)
		h = curl_slist_append(h, extra_header);
	h = curl_slist_append(h, "Expect:");
	struct upload u = { body, bodylen, 0 };
	if (body) {
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c, CURLOPT_READDATA, &u);
		if (chunked)
			h = curl_slist_append(h, "Transfer-Encoding: chunked");
		else
			curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)bodylen);
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	CURLcode rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
	else
		out->status = -(long)rc;
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
}

static void expect_code(const struct resp *r, long status, const char *code)
{
	if (r->status != status)
		fail_msg("status %ld, want %ld; body %s", r->status, status, r->body);
	char want[96];
	snprintf(want, sizeof want, "\"code\":\"%s\"", code);
	if (!strstr(r->body, want))
		fail_msg("body %s lacks %s", r->body, want);
}

/* --- tests --- */

static void test_json_bodies(void **state)
{
	(void)state;
	struct resp r;
	request("POST", "/json", "application/json", "{\"a\":[1,2]}", 11, 0, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "\"type\":\"object\""));
	request("POST", "/json", "application/json; charset=utf-8", "[1] \n", 5, 0, NULL, &r);
	assert_non_null(strstr(r.body, "\"type\":\"array\""));
	request("POST", "/json", NULL, NULL, 0, 0, NULL, &r);
	assert_non_null(strstr(r.body, "\"type\":\"none\""));

	request("POST", "/json", "application/json", "{\"a\":", 5, 0, NULL, &r);
	expect_code(&r, 400, "invalid_json");
	request("POST", "/json", "application/json", "{} {}", 5, 0, NULL, &r);
	expect_code(&r, 400, "invalid_json");
	request("POST", "/json", "application/json", "{'a':1}", 7, 0, NULL, &r);
	expect_code(&r, 400, "invalid_json");
	request("POST", "/json", "application/json", "\"\xff\"", 3, 0, NULL, &r);
	expect_code(&r, 400, "invalid_json");
	request("POST", "/json", "text/plain", "{}", 2, 0, NULL, &r);
	expect_code(&r, 415, "unsupported_media_type");
	request("POST", "/json", NULL, "{}", 2, 0, NULL, &r);
	expect_code(&r, 415, "unsupported_media_type");

	char deep[200];
	memset(deep, '[', 40);
	memset(deep + 40, ']', 40);
	request("POST", "/json", "application/json", deep, 80, 0, NULL, &r);
	expect_code(&r, 400, "json_too_deep");
	request("POST", "/json", "application/json", deep + 10, 60, 0, NULL, &r); /* 30 deep */
	assert_int_equal(r.status, 200);
}

static void test_json_too_large(void **state)
{
	(void)state;
	size_t n = 70 * 1024;
	char *big = malloc(n);
	memset(big, ' ', n);
	big[0] = '[';
	big[n - 1] = ']';
	struct resp r;
	/* Content-Length over the limit: answered before the body is read */
	request("POST", "/json", "application/json", big, n, 0, NULL, &r);
	expect_code(&r, 413, "body_too_large");
	/* chunked: answered once the stream passes the limit */
	request("POST", "/json", "application/json", big, n, 1, NULL, &r);
	expect_code(&r, 413, "body_too_large");
	/* the server still serves */
	request("POST", "/json", "application/json", big, 60 * 1024, 0, NULL, &r);
	assert_int_equal(r.status, 400); /* not closed: invalid JSON, but parsed */
	free(big);
}

static void test_stream(void **state)
{
	(void)state;
	size_t n = 1536 * 1024 + 7;
	char *data = malloc(n);
	memset(data, 'z', n);
	struct resp r;
	request("PUT", "/stream", "application/octet-stream", data, n, 1, NULL, &r);
	assert_int_equal(r.status, 200);
	char want[64];
	snprintf(want, sizeof want, "\"bytes\":%zu", n);
	assert_non_null(strstr(r.body, want));
	/* it arrived in pieces, not as one buffer */
	const char *p = strstr(r.body, "\"chunks\":");
	assert_non_null(p);
	assert_true(strtol(p + 9, NULL, 10) > 1);
	free(data);

	size_t big = STREAM_LIMIT + 100;
	data = malloc(big);
	memset(data, 'y', big);
	request("PUT", "/stream", "application/octet-stream", data, big, 0, NULL, &r);
	expect_code(&r, 413, "body_too_large");
	request("PUT", "/stream", "application/octet-stream", data, big, 1, NULL, &r);
	expect_code(&r, 413, "body_too_large");
	free(data);
}

struct waiter {
	pthread_t t;
	struct resp r;
};

static void *wait_main(void *arg)
{
	struct waiter *w = arg;
	request("GET", "/suspend", NULL, NULL, 0, 0, NULL, &w->r);
	return NULL;
}

/* With one worker thread, five suspended requests still leave it free to answer others,
 * and each is answered later from this (another) thread. */
static void test_suspend_resume(void **state)
{
	(void)state;
	enum { N = 5 };
	struct waiter w[N];
	for (int i = 0; i < N; i++)
		pthread_create(&w[i].t, NULL, wait_main, &w[i]);
	for (int tries = 0; tries < 500; tries++) {
		pthread_mutex_lock(&parked_mu);
		int n = nparked;
		pthread_mutex_unlock(&parked_mu);
		if (n == N)
			break;
		usleep(10000);
	}
	assert_int_equal(nparked, N);
	struct resp r;
	request("GET", "/ping", NULL, NULL, 0, 0, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "pong");
	/* the ping's completion may trail its answer by a moment */
	for (int tries = 0; tries < 200 && http_server_inflight(srv) != N; tries++)
		usleep(5000);
	assert_int_equal(http_server_inflight(srv), N);
	pthread_mutex_lock(&parked_mu);
	for (int i = 0; i < N; i++) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "resumed", json_object_new_int(i));
		assert_int_equal(http_resume_json(parked[i], 200, o), 0);
		/* parked[i] now belongs to the glue, which may already have freed it */
	}
	nparked = 0;
	pthread_mutex_unlock(&parked_mu);
	for (int i = 0; i < N; i++) {
		pthread_join(w[i].t, NULL);
		assert_int_equal(w[i].r.status, 200);
		assert_non_null(strstr(w[i].r.body, "\"resumed\":"));
	}
}

/* Stopping a server with suspended requests answers them 503 instead of aborting. */
static void test_stop_with_suspended(void **state)
{
	(void)state;
	struct waiter w[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&w[i].t, NULL, wait_main, &w[i]);
	for (int tries = 0; tries < 500 && nparked < 2; tries++)
		usleep(10000);
	assert_int_equal(nparked, 2);
	http_server_stop(srv);
	srv = NULL;
	nparked = 0;
	for (int i = 0; i < 2; i++) {
		pthread_join(w[i].t, NULL);
		expect_code(&w[i].r, 503, "unavailable");
	}
}

static void test_params_and_ids(void **state)
{
	(void)state;
	struct resp r;
	request("GET", "/item/a%2Fb%20c?q=x+y%21", NULL, NULL, 0, 0, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "{\"id\":\"a/b c\",\"q\":\"x y!\"}");
	request("GET", "/item/%zz", NULL, NULL, 0, 0, NULL, &r);
	expect_code(&r, 400, "bad_encoding");
	request("GET", "/item/x?q=%", NULL, NULL, 0, 0, NULL, &r);
	expect_code(&r, 400, "bad_encoding");
	/* any parameter, read by the handler or not, and an encoded NUL */
	request("GET", "/ping?unused=%zz", NULL, NULL, 0, 0, NULL, &r);
	expect_code(&r, 400, "bad_encoding");
	request("GET", "/item/a%00b", NULL, NULL, 0, 0, NULL, &r);
	expect_code(&r, 400, "bad_encoding");
	request("GET", "/ping?%zz=1", NULL, NULL, 0, 0, NULL, &r);
	expect_code(&r, 400, "bad_encoding");

	request("GET", "/ping", NULL, NULL, 0, 0, "X-Request-Id: client-id.42", &r);
	assert_string_equal(r.reqid, "client-id.42");
	request("GET", "/ping", NULL, NULL, 0, 0, "X-Request-Id: bad id<script>", &r);
	assert_true(strlen(r.reqid) > 0);
	assert_null(strstr(r.reqid, "script"));
	char other[128];
	snprintf(other, sizeof other, "%s", r.reqid);
	request("GET", "/ping", NULL, NULL, 0, 0, NULL, &r);
	assert_string_not_equal(r.reqid, other);

	char big[9000];
	memcpy(big, "X-Big: ", 7);
	memset(big + 7, 'a', sizeof big - 8);
	big[sizeof big - 1] = '\0';
	request("GET", "/ping", NULL, NULL, 0, 0, big, &r);
	assert_true(r.status == 431 || r.status == 413);
}

static int start(void **state)
{
	(void)state;
	log_setup("warn", "text");
	char err[256];
	int fd;
	assert_int_equal(http_listen("127.0.0.1:0", &fd, &port, err, sizeof err), 0);
	struct http_server_opts o = {
		.listen_fd = fd,
		.threads = 1,
		.max_connections = 100,
		.connection_memory = 16384,
		.header_timeout_ms = 5000,
		.idle_timeout_ms = 5000,
		.header_bytes = 8192,
		.json_body_bytes = 64 * 1024,
		.json_depth = 32,
		.json_values = 1000,
		.auth_body_bytes = 1024,
		.access_log = false,
		.routes = routes,
		.nroutes = sizeof routes / sizeof routes[0],
		.mounts = mounts,
		.nmounts = 1,
	};
	assert_int_equal(http_server_start(&o, &srv, err, sizeof err), 0);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return 0;
}

/* Under a mount, the mount's routes answer, and every error takes the mount's shape:
 * the glue's 404, 405, 415 and 413 and the mount's own dispatch step alike. */
static void test_mount(void **state)
{
	(void)state;
	struct resp r;
	request("POST", "/compat/test/json", "application/json", "[1]", 3, 0, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "\"array\""));
	assert_true(r.mount_header);
	request("GET", "/compat/test", NULL, NULL, 0, 0, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "pong");
	assert_true(r.mount_header);
	request("GET", "/compat/test/nothing", NULL, NULL, 0, 0, NULL, &r);
	assert_int_equal(r.status, 400); /* the protocol's own status for "no such path" */
	assert_true(r.mount_header); /* the mount's headers go on its errors too */
	assert_non_null(strstr(r.body, "\"message\""));
	assert_null(strstr(r.body, "\"code\""));
	request("DELETE", "/compat/test/json", NULL, NULL, 0, 0, NULL, &r);
	assert_int_equal(r.status, 405);
	assert_non_null(strstr(r.body, "\"message\""));
	request("POST", "/compat/test/json", "text/plain", "[1]", 3, 0, NULL, &r);
	assert_int_equal(r.status, 415);
	assert_non_null(strstr(r.body, "\"message\""));
	size_t n = 70 * 1024;
	char *big = malloc(n);
	memset(big, ' ', n);
	request("POST", "/compat/test/json", "application/json", big, n, 0, NULL, &r);
	free(big);
	assert_int_equal(r.status, 413);
	assert_non_null(strstr(r.body, "\"message\""));
	request("GET", "/compat/test", NULL, NULL, 0, 0, "X-Refuse: 1", &r);
	assert_int_equal(r.status, 401);
	assert_non_null(strstr(r.body, "refused by the mount"));
	/* a prefix is a whole segment: /compat/testing is the server's own (404, native) */
	request("GET", "/compat/testing", NULL, NULL, 0, 0, NULL, &r);
	expect_code(&r, 404, "not_found");
	assert_false(r.mount_header);
	request("GET", "/ping", NULL, NULL, 0, 0, NULL, &r);
	assert_string_equal(r.body, "pong");
	assert_false(r.mount_header);
}

static int stop(void **state)
{
	(void)state;
	http_server_stop(srv);
	curl_global_cleanup();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_bodies),   cmocka_unit_test(test_json_too_large),
		cmocka_unit_test(test_stream),        cmocka_unit_test(test_suspend_resume),
		cmocka_unit_test(test_params_and_ids), cmocka_unit_test(test_mount),
		cmocka_unit_test(test_stop_with_suspended),
	};
	return cmocka_run_group_tests_name("http", tests, start, stop);
}
