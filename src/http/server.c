#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../util/clock.h"
#include "encoding.h"
#include "../util/config.h"
#include "../util/err.h"
#include "../util/log.h"
#include "../util/worker.h"
#include "peers.h"
#include "server_int.h"

static char id_prefix[16];
static atomic_ullong id_counter;

int http_listen(const char *addr, int *ret_fd, int *ret_port, char *err, size_t errlen)
{
	char host[256], portstr[8];
	int port;
	if (config_split_addr(addr, host, sizeof host, &port) < 0) {
		snprintf(err, errlen, "bad listen address '%s'", addr);
		return -ERR_INVALID;
	}
	snprintf(portstr, sizeof portstr, "%d", port);
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res;
	int gr = getaddrinfo(host, portstr, &hints, &res);
	if (gr != 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", addr, gai_strerror(gr));
		return -ERR_IO;
	}
	int fd = -1, saved = 0;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (ai->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1024) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", addr, strerror(saved));
		return -ERR_IO;
	}
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	*ret_port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						   : ((struct sockaddr_in *)&ss)->sin_port);
	*ret_fd = fd;
	return 0;
}

/* --- request lifecycle --- */

static bool sane_request_id(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++) {
		char c = s[n];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.' || c == ':'))
			return false;
		if (n >= 64)
			return false;
	}
	return n > 0;
}

static enum MHD_Result queue(struct req *r)
{
	struct http_server *s = r->srv;
	if (!r->resp) {
		static const char body[] =
			"{\"code\":\"internal\",\"error\":\"Something went wrong on the server.\"}";
		r->resp = MHD_create_response_from_buffer(sizeof body - 1, (void *)body,
							  MHD_RESPMEM_PERSISTENT);
		r->status = 500;
		r->resp_bytes = sizeof body - 1;
		if (!r->resp)
			return MHD_NO;
		MHD_add_response_header(r->resp, "Content-Type", "application/json");
	}
	MHD_add_response_header(r->resp, "X-Request-Id", r->id);
	for (struct hdr *h = r->extra_headers; h; h = h->next)
		MHD_add_response_header(r->resp, h->name, h->value);
	if (r->mount && r->mount->headers)
		for (const char *const *h = r->mount->headers; h[0] && h[1]; h += 2)
			MHD_add_response_header(r->resp, h[0], h[1]);
	if (atomic_load(&s->quiescing) || r->close)
		MHD_add_response_header(r->resp, "Connection", "close");
	r->phase = PH_ANSWERED;
	enum MHD_Result ok = MHD_queue_response(r->conn, r->status, r->resp);
	MHD_destroy_response(r->resp);
	r->resp = NULL;
	return ok;
}

static struct req *req_new(struct http_server *s, struct MHD_Connection *conn, const char *url,
			   const char *method)
{
	struct req *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->srv = s;
	r->conn = conn;
	r->app = s->o.app;
	r->start_ns = clock_mono_ns();
	r->method_str = method;
	r->method = http_method_parse(method);
	r->path = url;
	const char *rid = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-Id");
	if (rid && sane_request_id(rid))
		snprintf(r->id, sizeof r->id, "%s", rid);
	else
		snprintf(r->id, sizeof r->id, "%s%llx", id_prefix,
			 (unsigned long long)atomic_fetch_add(&id_counter, 1) + 1);
	atomic_fetch_add(&s->inflight, 1);
	return r;
}

static void req_free(struct req *r)
{
	if (r->ctx_free)
		r->ctx_free(r->ctx);
	if (r->resp)
		MHD_destroy_response(r->resp);
	json_object_put(r->json);
	buf_free(&r->body);
	inflater_free(r->inflate);
	arena_free(&r->arena);
	/* A big JSON body's tree is many small blocks that malloc keeps after they are freed
	 * (up to 800 bytes a value); the watchdog gives the pages back once the response (which
	 * may still hold the tree) is gone, so one large request does not stay in the
	 * process's size. */
	if (r->json_values > 20000) /* a moment later: the response is freed after this */
		atomic_store(&r->srv->trim_at_ns, clock_mono_ns() + 300000000u);
	free(r);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	(void)version;
	struct http_server *s = cls;
	struct req *r = *con_cls;
	if (!r) {
		struct conn_ctx *c = srv_conn_of(conn);
		if (c)
			srv_conn_set_deadline(s, c, false, 0, false);
		r = req_new(s, conn, url, method);
		if (!r)
			return MHD_NO;
		r->cctx = c;
		*con_cls = r;
		srv_req_begin(r);
		/* An answer decided before a body (413 from Content-Length, 404, 401...) goes
		 * out now, and libmicrohttpd closes the connection rather than read the body.
		 * Without a body it waits for the final call, which keeps the connection. A
		 * framing error goes out at once whatever the headers claim. */
		if (r->resp && (srv_has_body(r) || r->close))
			return queue(r);
		return MHD_YES;
	}
	if (*upload_data_size) {
		srv_req_body(r, upload_data, *upload_data_size);
		*upload_data_size = 0;
		if (r->discarded > DISCARD_MAX)
			return MHD_NO;
		return MHD_YES;
	}
	if (r->phase == PH_SUSPENDED) {
		/* Resumed: the reply was set by whoever resumed us, or is made now. */
		atomic_fetch_sub(&s->resuming, 1);
		if (r->on_resume && !r->resp) {
			int (*fn)(struct req *) = r->on_resume;
			r->on_resume = NULL;
			r->phase = PH_RESUMED;
			fn(r);
			if (r->phase == PH_SUSPENDED && !r->resp)
				return MHD_YES; /* it waits again */
		}
		return queue(r);
	}
	if (r->phase == PH_ANSWERED)
		return MHD_YES;
	if (r->cctx)
		atomic_store(&r->cctx->receiving, false); /* the body is in */
	if (!r->resp)
		srv_req_dispatch(r);
	if (r->phase == PH_SUSPENDED && !r->resp)
		return MHD_YES;
	return queue(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct http_server *s = cls;
	struct req *r = *con_cls;
	if (!r)
		return;
	*con_cls = NULL;
	if (s->o.access_log) {
		double ms = (double)(clock_mono_ns() - r->start_ns) / 1e6;
		int status = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? (int)r->status : 0;
		log_access(r->id, http_client_addr(r), r->method_str, r->path, status,
			   r->resp_bytes, ms);
	}
	struct conn_ctx *c = srv_conn_of(conn);
	if (c) {
		atomic_store(&c->receiving, false);
		pthread_mutex_lock(&s->conns_mu);
		c->gone = NULL; /* its owner's object may go with the request */
		c->gone_arg = NULL;
		c->requests++;
		c->deadline_ns = clock_mono_ns() + (uint64_t)s->o.idle_timeout_ms * 1000000u;
		c->awaiting_headers = true;
		pthread_mutex_unlock(&s->conns_mu);
	}
	req_free(r);
	atomic_fetch_sub(&s->inflight, 1);
}

/* Keep paths percent-encoded: parameters are decoded one by one after routing, so that
 * an encoded slash inside an id does not split it. */
static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	if (log_min_level > LOG_DEBUG)
		return;
	char msg[512];
	vsnprintf(msg, sizeof msg, fmt, ap);
	size_t n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	log_debug("libmicrohttpd: %s", msg);
}

int http_server_start(const struct http_server_opts *o, struct http_server **ret, char *err,
		      size_t errlen)
{
	struct http_server *s = calloc(1, sizeof *s);
	if (!s)
		return -ERR_NOMEM;
	s->o = *o;
	s->conns.next = s->conns.prev = &s->conns;
	pthread_mutex_init(&s->conns_mu, NULL);
	pthread_mutex_init(&s->susp_mu, NULL);
	if (!id_prefix[0]) {
		unsigned char rnd[3] = { 0 };
		if (getrandom(rnd, sizeof rnd, 0) != sizeof rnd)
			rnd[0] = (unsigned char)getpid();
		snprintf(id_prefix, sizeof id_prefix, "%02x%02x%02x-", rnd[0], rnd[1], rnd[2]);
	}
	unsigned idle_s = (unsigned)((o->idle_timeout_ms + 999) / 1000);
	if (router_check_order(o->routes, o->nroutes, err, errlen) < 0) {
		http_server_stop(s);
		return -ERR_INVALID;
	}
	for (size_t i = 0; i < o->nmounts; i++) {
		const struct http_mount *m = &o->mounts[i];
		size_t n = strlen(m->prefix);
		if (o->nmounts > HTTP_MAX_MOUNTS ||
		    (n && (m->prefix[0] != '/' || m->prefix[n - 1] == '/'))) {
			snprintf(err, errlen, "mount %zu: bad prefix '%s'", i, m->prefix);
			http_server_stop(s);
			return -ERR_INVALID;
		}
		if (router_check_order(m->routes, m->nroutes, err, errlen) < 0) {
			http_server_stop(s);
			return -ERR_INVALID;
		}
	}
	struct netrange_list none = { 0 };
	s->peers = peers_new(o->trusted_proxies ? o->trusted_proxies : &none,
			     o->max_connections_per_address > 0 ? o->max_connections_per_address
								 : LONG_MAX,
			     o->max_connections);
	if (!s->peers) {
		snprintf(err, errlen, "out of memory");
		http_server_stop(s);
		return -ERR_NOMEM;
	}
	s->d = MHD_start_daemon(
		MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0,
		srv_accept_policy, s, on_request, s, MHD_OPTION_LISTEN_SOCKET, o->listen_fd,
		MHD_OPTION_THREAD_POOL_SIZE, o->threads > 1 ? (unsigned)o->threads : 0u,
		MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)o->max_connections, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		o->connection_memory, MHD_OPTION_CONNECTION_TIMEOUT, idle_s,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_NOTIFY_CONNECTION,
		srv_on_connection, s, MHD_OPTION_URI_LOG_CALLBACK, srv_on_uri, s,
		MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, NULL, MHD_OPTION_EXTERNAL_LOGGER,
		mhd_log, NULL, MHD_OPTION_END);
	if (!s->d) {
		snprintf(err, errlen, "cannot start the HTTP server");
		http_server_stop(s);
		return -ERR_IO;
	}
	if (worker_start("cairn-watchdog", 250, srv_watchdog_tick, s, &s->watchdog) < 0) {
		snprintf(err, errlen, "cannot start the watchdog thread");
		http_server_stop(s);
		return -ERR_IO;
	}
	*ret = s;
	return 0;
}

void http_server_quiesce(struct http_server *s)
{
	atomic_store(&s->quiescing, true);
	MHD_socket fd = MHD_quiesce_daemon(s->d);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
}

int http_server_inflight(const struct http_server *s)
{
	return atomic_load(&((struct http_server *)s)->inflight);
}

void http_server_stop(struct http_server *s)
{
	if (!s)
		return;
	if (s->d) {
		/* libmicrohttpd cannot stop with suspended connections: answer them. */
		pthread_mutex_lock(&s->susp_mu);
		while (s->susp) {
			struct req *r = s->susp;
			http_reply_error(r, AE_UNAVAILABLE, "The server is shutting down.", NULL);
			srv_resume_locked(s, r);
		}
		pthread_mutex_unlock(&s->susp_mu);
		uint64_t until = clock_mono_ns() + 2000000000u;
		while (atomic_load(&s->resuming) > 0 && clock_mono_ns() < until)
			usleep(2000);
		MHD_stop_daemon(s->d);
	}
	s->watchdog = worker_stop(s->watchdog);
	pthread_mutex_destroy(&s->conns_mu);
	pthread_mutex_destroy(&s->susp_mu);
	s->peers = peers_free(s->peers);
	free(s);
}
