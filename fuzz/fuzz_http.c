/* The HTTP glue end to end: raw request bytes (request line, headers, framing, bodies:
 * JSON, multipart, chunked) sent to an in-process server over loopback, with the routes
 * that exercise the body kinds and the multipart reader that uploads use. Bad input must
 * get a 4xx or 5xx other than 500, or a closed connection, never a crash or a hang. */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "http/multipart.h"
#include "http/server.h"
#include "util/err.h"
#include "util/log.h"

static struct http_server *srv;
static int port;

static int h_json(struct req *r)
{
	return http_reply_bytes(r, 200, "application/json", r->json ? "{\"json\":1}" : "{}",
				r->json ? 10 : 2);
}

static int count_sink(void *arg, const void *data, size_t len)
{
	(void)data;
	*(size_t *)arg += len;
	return *(size_t *)arg > (1u << 20) ? -ERR_TOO_LARGE : 0;
}

struct upload {
	struct multipart *mp;
	size_t bytes;
};

static void upload_free(void *p)
{
	struct upload *u = p;
	multipart_free(u->mp);
	free(u);
}

static int upload_begin(struct req *r)
{
	struct upload *u = calloc(1, sizeof *u);
	if (!u) {
		http_reply_error(r, AE_INTERNAL, NULL, NULL);
		return -1;
	}
	r->ctx = u;
	r->ctx_free = upload_free;
	u->mp = multipart_new(r, count_sink, &u->bytes);
	if (!u->mp) {
		http_reply_error(r, AE_BAD_REQUEST, "no boundary", NULL);
		return -1;
	}
	return 0;
}

static int upload_chunk(struct req *r, const char *data, size_t len)
{
	struct upload *u = r->ctx;
	const char *why = "too large";
	int e = multipart_feed(u->mp, data, len, &why);
	if (e < 0) {
		http_reply_error(r, e == -ERR_TOO_LARGE ? AE_BODY_TOO_LARGE : AE_BAD_REQUEST, why,
				 NULL);
		return -1;
	}
	return 0;
}

static int h_upload(struct req *r)
{
	struct upload *u = r->ctx;
	const char *why = NULL;
	if (!u || multipart_end(u->mp, &why) < 0)
		return http_reply_error(r, AE_BAD_REQUEST, why, NULL);
	return http_reply_bytes(r, 201, "text/plain", "ok", 2);
}

static int h_item(struct req *r)
{
	const char *id = http_param(r, "id");
	(void)http_query(r, "q");
	(void)http_client_addr(r);
	if (!id)
		return http_reply_error(r, AE_BAD_ENCODING, NULL, NULL);
	return http_reply_bytes(r, 200, "text/plain", id, strlen(id));
}

static const struct route routes[] = {
	{ HM_POST | HM_PUT, "/json", h_json, BODY_JSON, NULL, NULL, 0 },
	{ HM_POST, "/login", h_json, BODY_JSON, NULL, NULL, ROUTE_CREDENTIALS },
	{ HM_POST, "/upload", h_upload, BODY_STREAM, upload_begin, upload_chunk, 0 },
	{ HM_POST, "/item/new", h_json, BODY_JSON, NULL, NULL, 0 },
	{ HM_GET | HM_DELETE, "/item/{id}", h_item, BODY_NONE, NULL, NULL, 0 },
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	log_setup("error", "text");
	char err[256];
	int fd;
	static struct netrange_list proxies;
	if (netrange_list_parse("127.0.0.1", &proxies, err, sizeof err) < 0 ||
	    http_listen("127.0.0.1:0", &fd, &port, err, sizeof err) < 0)
		abort();
	struct http_server_opts o = {
		.listen_fd = fd,
		.threads = 2,
		.max_connections = 4096,
		.connection_memory = 16384,
		.header_timeout_ms = 1000,
		.idle_timeout_ms = 1000,
		.header_bytes = 8192,
		.json_body_bytes = 64 * 1024,
		.auth_body_bytes = 1024,
		.json_depth = 32,
		.json_values = 2000,
		.body_min_rate = 0,
		.body_grace_ms = 10000,
		.max_connections_per_address = 100000,
		.trusted_proxies = &proxies,
		.routes = routes,
		.nroutes = sizeof routes / sizeof routes[0],
	};
	if (http_server_start(&o, &srv, err, sizeof err) < 0) {
		fprintf(stderr, "fuzz_http: %s\n", err);
		abort();
	}
	return 0;
}

/* Every status line in what the server sent. */
static void check_answers(const char *buf, size_t n)
{
	for (const char *p = buf; (p = memmem(p, n - (size_t)(p - buf), "HTTP/1.1 ", 9)) != NULL;
	     p += 9) {
		if ((size_t)(p - buf) + 12 > n)
			break;
		FUZZ_CHECK(memcmp(p + 9, "500", 3) != 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 256 * 1024)
		return 0;
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) < 0)
		abort();
	size_t off = 0;
	while (off < size) {
		ssize_t w = send(s, data + off, size - off, MSG_NOSIGNAL);
		if (w <= 0)
			break; /* the server closed early: fine */
		off += (size_t)w;
	}
	shutdown(s, SHUT_WR);
	static char buf[1 << 16];
	size_t got = 0;
	struct pollfd pfd = { .fd = s, .events = POLLIN };
	/* the server ends every exchange with a close (its watchdog notices the end of the
	 * stream within 250 ms, a header timeout within 1 s); once it has answered, a short
	 * quiet spell is taken as the end, to keep the runs fast */
	while (poll(&pfd, 1, got ? 10 : 3000) > 0) {
		ssize_t r = recv(s, buf + got, sizeof buf - 1 - got, 0);
		if (r <= 0)
			break;
		got += (size_t)r;
		if (got == sizeof buf - 1)
			got = 0; /* keep reading; only status lines matter */
	}
	check_answers(buf, got);
	close(s);
	return 0;
}
