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
#include "../util/config.h"
#include "../util/err.h"
#include "../util/jtext.h"
#include "../util/log.h"
#include "../util/url.h"
#include "../util/worker.h"
#include "form.h"
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

struct header_sum {
	size_t total;
};

static enum MHD_Result sum_header(void *cls, enum MHD_ValueKind kind, const char *key,
				  const char *value)
{
	(void)kind;
	struct header_sum *h = cls;
	h->total += strlen(key) + (value ? strlen(value) : 0) + 4;
	return MHD_YES;
}

static bool is_json_type(const char *ct)
{
	static const char want[] = "application/json";
	if (!ct || strncasecmp(ct, want, sizeof want - 1))
		return false;
	char c = ct[sizeof want - 1];
	return c == '\0' || c == ';' || c == ' ';
}

static bool has_body(struct req *r)
{
	const char *cl = http_header(r, "Content-Length");
	if (cl && strcmp(cl, "0") != 0)
		return true;
	const char *te = http_header(r, "Transfer-Encoding");
	return te != NULL;
}

/* Content-Length as a number; -1 when absent or malformed. */
int64_t http_content_length(struct req *r)
{
	const char *cl = http_header(r, "Content-Length");
	if (!cl || !*cl)
		return -1;
	int64_t v = 0;
	for (const char *p = cl; *p; p++) {
		if (*p < '0' || *p > '9' || v > INT64_MAX / 10 - 10)
			return -1;
		v = v * 10 + (*p - '0');
	}
	return v;
}

/* 413 naming the limit the body passed. */
static void reply_body_too_large(struct req *r)
{
	char msg[128];
	snprintf(msg, sizeof msg, "The request body is larger than %zu bytes (%s).", r->body_limit,
		 r->body_limit_key);
	http_reply_error(r, AE_BODY_TOO_LARGE, msg, NULL);
}

/* RFC 9110 section 5.6.2: a field name is a token. */
static bool is_token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("!#$%&'*+-.^_`|~", c)))
			return false;
	}
	return true;
}

struct framing {
	int content_length, transfer_encoding; /* field lines of each */
	bool bad_name, bad_value;
	bool not_chunked; /* a transfer coding other than chunked */
};

/* RFC 9110 section 5.5: no CR, LF, NUL or other control character but HTAB in a value
 * (a bare CR is a line end to some parsers: "X: a\rContent-Length: 14"). */
static bool value_ok(const char *v)
{
	for (const unsigned char *p = (const unsigned char *)v; p && *p; p++)
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			return false;
	return true;
}

static enum MHD_Result look_at_header(void *cls, enum MHD_ValueKind kind, const char *key,
				      const char *value)
{
	(void)kind;
	struct framing *f = cls;
	if (!value_ok(value))
		f->bad_value = true;
	if (!is_token(key)) {
		f->bad_name = true;
	} else if (!strcasecmp(key, "Content-Length")) {
		f->content_length++;
		if (!value || !*value || strspn(value, "0123456789") != strlen(value))
			f->bad_value = true;
	} else if (!strcasecmp(key, "Transfer-Encoding")) {
		f->transfer_encoding++;
		if (!value || strcasecmp(value, "chunked") != 0)
			f->not_chunked = true;
	} else if (!strncasecmp(key, "Content-Length", 14) ||
		   !strncasecmp(key, "Transfer-Encoding", 17)) {
		/* libmicrohttpd 0.9.75 appends a folded line (obs-fold, RFC 9112 section
		 * 5.2) to the header's name: "Content-Length:\r\n 40" arrives as a header
		 * "Content-Length40" and no length, while a proxy may read a length of 40 */
		f->bad_name = true;
	}
	return MHD_YES;
}

/* How the body is delimited must be beyond doubt (RFC 9112 sections 6.1 and 6.3): a proxy
 * in front that read these headers another way would take the body, or part of it, for the
 * next request. libmicrohttpd 0.9.75 takes the first of two Content-Lengths, lets
 * Transfer-Encoding win over Content-Length and keeps the connection, ignores a
 * "Content-Length :" (a space before the colon), and waits forever for a body in an
 * unknown coding. Any of these is answered here, before a body byte is read, and the
 * connection is closed after the answer. */
static bool framing_ok_or_reply(struct req *r)
{
	struct framing f = { 0 };
	MHD_get_connection_values(r->conn, MHD_HEADER_KIND, look_at_header, &f);
	const char *why = NULL;
	enum api_error e = AE_BAD_FRAMING;
	if (f.bad_name)
		why = "A header name is not a token (a space before its colon, or a folded line?).";
	else if (f.bad_value)
		why = "A header value holds a control character, or a Content-Length is not digits.";
	else if (f.content_length > 1)
		why = "The request has more than one Content-Length.";
	else if (f.transfer_encoding && f.content_length)
		why = "The request has both Content-Length and Transfer-Encoding.";
	else if (f.transfer_encoding > 1)
		why = "The request has more than one Transfer-Encoding.";
	else if (f.not_chunked) {
		why = "Only the chunked transfer coding is supported (or send Content-Length).";
		e = AE_NOT_IMPLEMENTED;
	}
	if (!why)
		return true;
	r->close = true;
	http_reply_error(r, e, why, NULL);
	return false;
}

/* The mount whose prefix the path is or starts with (and a slash): the longest such;
 * NULL for the server's own routes. *ret_rest is the path the mount routes on. */
static const struct http_mount *mount_of(const struct http_server *s, const char *path,
					 const char **ret_rest)
{
	const struct http_mount *best = NULL;
	size_t best_len = 0;
	for (size_t i = 0; i < s->o.nmounts; i++) {
		const struct http_mount *m = &s->o.mounts[i];
		size_t n = strlen(m->prefix);
		if (n > best_len && strncmp(path, m->prefix, n) == 0 &&
		    (path[n] == '/' || path[n] == '\0')) {
			best = m;
			best_len = n;
		}
	}
	*ret_rest = best ? (path[best_len] ? path + best_len : "/") : path;
	return best;
}

/* Everything decided from the request line and headers, before any body byte. */
static void req_begin(struct req *r)
{
	struct http_server *s = r->srv;
	const char *rest;
	r->mount = mount_of(s, r->path, &rest);
	struct header_sum hs = { strlen(r->path) + 16 };
	MHD_get_connection_values(r->conn, MHD_HEADER_KIND, sum_header, &hs);
	if (hs.total > s->o.header_bytes) {
		char msg[96];
		snprintf(msg, sizeof msg,
			 "The request headers are larger than %zu bytes (limits.header_bytes).",
			 s->o.header_bytes);
		http_reply_error(r, AE_HEADERS_TOO_LARGE, msg, NULL);
		return;
	}
	if (!framing_ok_or_reply(r))
		return;
	if (!r->method) {
		http_add_header(r, "Allow", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
		http_reply_error(r, AE_METHOD_NOT_ALLOWED, "This method is not supported.", NULL);
		return;
	}
	unsigned allowed = 0;
	enum route_match m =
		r->mount ? router_match(r->mount->routes, r->mount->nroutes, r->method, rest,
					&r->route, &r->params, &allowed)
			 : router_match(s->o.routes, s->o.nroutes, r->method, rest, &r->route,
					&r->params, &allowed);
	if (m == ROUTE_NO_PATH) {
		http_reply_error(r, AE_NOT_FOUND, NULL, NULL);
		return;
	}
	if (m == ROUTE_NO_METHOD) {
		char allow[128];
		http_methods_format(allowed, allow, sizeof allow);
		http_add_header(r, "Allow", allow);
		http_reply_error(r, AE_METHOD_NOT_ALLOWED, NULL, NULL);
		return;
	}
	if (!srv_decode_params(r)) {
		http_reply_error(r, AE_BAD_ENCODING, NULL, NULL);
		return;
	}
	int (*pre_body)(struct req *) = r->mount ? r->mount->pre_body : s->o.pre_body;
	if (pre_body && (pre_body(r) < 0 || r->resp))
		return; /* answered (401...) before a body byte is read or buffered */
	struct conn_ctx *c = r->cctx;
	if (c && has_body(r)) {
		atomic_store(&c->progress, 0);
		atomic_store(&c->body_start_ns, clock_mono_ns());
		c->seen_progress = 0;
		c->eof_ticks = 0;
		atomic_store(&c->receiving, true);
	}
	int64_t cl = http_content_length(r);
	if (r->route->body == BODY_JSON || r->route->body == BODY_NONE) {
		bool cred = r->route->flags & ROUTE_CREDENTIALS;
		r->body_limit = cred ? s->o.auth_body_bytes : s->o.json_body_bytes;
		r->body_limit_key = cred ? "limits.auth_body_bytes" : "limits.json_body_bytes";
		if (cl > (int64_t)r->body_limit) {
			reply_body_too_large(r);
			return;
		}
		const char *ct = http_header(r, "Content-Type");
		if (r->route->body == BODY_JSON && has_body(r) && !is_json_type(ct)) {
			if (!(r->route->flags & ROUTE_FORM) || !form_is_type(ct)) {
				http_reply_error(r, AE_UNSUPPORTED_MEDIA_TYPE, NULL, NULL);
				return;
			}
			r->form = true;
		}
		buf_init(&r->body, r->body_limit);
	} else if (r->route->on_begin) {
		r->route->on_begin(r);
	}
}

static void req_body(struct req *r, const char *data, size_t n)
{
	r->body_bytes += n;
	if (r->cctx)
		atomic_fetch_add(&r->cctx->progress, n);
	if (r->failed || r->resp) {
		r->discarded += n;
		return;
	}
	r->body_seen = true;
	switch (r->route->body) {
	case BODY_JSON:
		if (buf_append(&r->body, data, n) < 0) {
			r->failed = true;
			buf_free(&r->body);
			reply_body_too_large(r);
		}
		break;
	case BODY_NONE:
		if (r->body_bytes > r->body_limit) {
			r->failed = true;
			reply_body_too_large(r);
		}
		break;
	case BODY_STREAM: {
		if (r->route->on_chunk(r, data, n) < 0) {
			r->failed = true;
			if (!r->resp)
				http_reply_error(r, AE_INTERNAL, NULL, NULL);
		}
		break;
	}
	}
}

/* The body is checked (jtext_scan: strict JSON, depth and value count, in one pass that
 * allocates nothing) before json-c builds it, so a hostile body costs no more than its
 * bytes; what passes is JSON that json-c keeps and prints back exactly. */
static void parse_json_body(struct req *r)
{
	if (r->body.len == 0)
		return;
	const struct http_server_opts *o = &r->srv->o;
	struct jtext_scan sc;
	char msg[192];
	if (jtext_scan(r->body.ptr, r->body.len, o->json_depth, o->json_values, &sc) < 0) {
		if (sc.err == JTEXT_DEPTH) {
			snprintf(msg, sizeof msg,
				 "The JSON body is nested deeper than %d levels (limits.json_depth).",
				 o->json_depth);
			http_reply_error(r, AE_JSON_TOO_DEEP, msg, NULL);
		} else if (sc.err == JTEXT_VALUES) {
			snprintf(msg, sizeof msg,
				 "The JSON body holds more than %ld values (limits.json_values).",
				 o->json_values);
			http_reply_error(r, AE_BODY_TOO_LARGE, msg, NULL);
		} else {
			snprintf(msg, sizeof msg, "The request body is not valid JSON: %s (at byte %zu).",
				 jtext_strerror(sc.err), sc.offset);
			http_reply_error(r, AE_INVALID_JSON, msg, NULL);
		}
		return;
	}
	r->json_values = sc.values;
	if (jtext_parse(r->body.ptr, r->body.len, o->json_depth, &r->json) < 0)
		http_reply_error(r, AE_INTERNAL, NULL, NULL); /* out of memory: it was checked */
}

/* A form's fields, bounded like a JSON body's values. */
static void parse_form_body(struct req *r)
{
	char msg[128];
	int max = r->srv->o.json_values < 64 ? (int)r->srv->o.json_values : 64;
	if (form_parse(r->body.ptr ? r->body.ptr : "", r->body.len, max, &r->json, msg,
		       sizeof msg) < 0)
		http_reply_error(r, AE_BAD_REQUEST, msg, NULL);
}

static void req_dispatch(struct req *r)
{
	if (r->route->body == BODY_JSON && r->form) {
		parse_form_body(r);
		buf_free(&r->body);
		if (r->resp)
			return;
	} else if (r->route->body == BODY_JSON) {
		parse_json_body(r);
		buf_free(&r->body);
		if (r->resp)
			return;
	}
	r->route->handler(r);
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
		req_begin(r);
		/* An answer decided before a body (413 from Content-Length, 404, 401...) goes
		 * out now, and libmicrohttpd closes the connection rather than read the body.
		 * Without a body it waits for the final call, which keeps the connection. A
		 * framing error goes out at once whatever the headers claim. */
		if (r->resp && (has_body(r) || r->close))
			return queue(r);
		return MHD_YES;
	}
	if (*upload_data_size) {
		req_body(r, upload_data, *upload_data_size);
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
		req_dispatch(r);
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
		if (o->nmounts > HTTP_MAX_MOUNTS || m->prefix[0] != '/' || m->prefix[n - 1] == '/') {
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
