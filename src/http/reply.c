/* The HTTP glue's replies, what a handler reads of its request (headers, parameters
 * decoded once, the client's address), and suspending and resuming requests. */
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
#include "form.h"
#include "encoding.h"
#include "peers.h"
#include "server_int.h"

static int set_response(struct req *r, unsigned status, struct MHD_Response *resp,
			uint64_t bytes)
{
	if (!resp)
		return -ERR_NOMEM;
	if (r->resp)
		MHD_destroy_response(r->resp);
	r->resp = resp;
	r->status = status;
	r->resp_bytes = bytes;
	return 0;
}

/* For a ROUTE_GZIP route's 200: the body gzip-compressed, when the client takes gzip and
 * it is big enough (*ret_len its size); NULL to send it as it is. */
static struct MHD_Response *gzipped(struct req *r, unsigned status, const void *data,
				    size_t len, uint64_t *ret_len)
{
	if (!r->route || !(r->route->flags & ROUTE_GZIP) || status != 200)
		return NULL;
	http_add_header(r, "Vary", "Accept-Encoding"); /* the answer depends on it either way */
	const struct http_server_opts *o = &r->srv->o;
	if (o->gzip_level <= 0 || len < o->gzip_min_bytes || len > UINT32_MAX ||
	    !encoding_accepts_gzip(http_header(r, "Accept-Encoding")))
		return NULL;
	struct buf b;
	buf_init(&b, len + len / 16 + 1024); /* gzip grows what it cannot shrink a little */
	struct MHD_Response *resp = NULL;
	if (encoding_gzip(data, len, o->gzip_level, &b) == 0)
		resp = MHD_create_response_from_buffer_with_free_callback(b.len, b.ptr, free);
	if (!resp) {
		buf_free(&b);
		return NULL;
	}
	MHD_add_response_header(resp, "Content-Encoding", "gzip");
	*ret_len = b.len;
	return resp;
}

int http_reply_bytes(struct req *r, unsigned status, const char *content_type,
		     const void *data, size_t len)
{
	uint64_t zlen = 0;
	struct MHD_Response *z = gzipped(r, status, data, len, &zlen);
	if (z) {
		if (content_type)
			MHD_add_response_header(z, "Content-Type", content_type);
		return set_response(r, status, z, zlen);
	}
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
	if (resp && content_type)
		MHD_add_response_header(resp, "Content-Type", content_type);
	return set_response(r, status, resp, len);
}

_Static_assert(HTTP_STREAM_END == MHD_CONTENT_READER_END_OF_STREAM, "libmicrohttpd's value");
_Static_assert(HTTP_STREAM_ERROR == MHD_CONTENT_READER_END_WITH_ERROR, "libmicrohttpd's value");
_Static_assert(HTTP_SIZE_UNKNOWN == MHD_SIZE_UNKNOWN, "libmicrohttpd's value");

void http_stream_pause(struct MHD_Connection *conn)
{
	MHD_suspend_connection(conn);
}

void http_stream_wake(struct MHD_Connection *conn)
{
	MHD_resume_connection(conn);
}

int http_reply_stream(struct req *r, unsigned status, const char *content_type,
		      uint64_t size,
		      ssize_t (*reader)(void *cls, uint64_t pos, char *buf, size_t max), void *cls,
		      void (*free_cls)(void *cls))
{
	if (r->method == HM_HEAD && size == HTTP_SIZE_UNKNOWN) {
		/* libmicrohttpd would send a chunked body; a HEAD answer has none */
		if (free_cls)
			free_cls(cls);
		return http_reply_bytes(r, status, content_type, "", 0);
	}
	struct MHD_Response *resp =
		MHD_create_response_from_callback(size, 64 * 1024, reader, cls, free_cls);
	if (!resp && free_cls)
		free_cls(cls); /* libmicrohttpd did not take it */
	if (resp && content_type)
		MHD_add_response_header(resp, "Content-Type", content_type);
	return set_response(r, status, resp, size == HTTP_SIZE_UNKNOWN ? 0 : size);
}

int http_reply_fd(struct req *r, unsigned status, const char *content_type, int fd,
		  uint64_t offset, uint64_t len)
{
	struct MHD_Response *resp = MHD_create_response_from_fd_at_offset64(len, fd, offset);
	if (!resp) {
		close(fd);
		return set_response(r, 500, NULL, 0);
	}
	if (content_type)
		MHD_add_response_header(resp, "Content-Type", content_type);
	return set_response(r, status, resp, len);
}

static void free_json_string(void *p)
{
	json_object_put(p);
}

int http_reply_json(struct req *r, unsigned status, json_object *obj)
{
	if (!obj)
		return http_reply_error(r, AE_INTERNAL, NULL, NULL);
	size_t len;
	const char *s = json_object_to_json_string_length(
		obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	uint64_t zlen = 0;
	struct MHD_Response *z = s ? gzipped(r, status, s, len, &zlen) : NULL;
	if (z) {
		json_object_put(obj);
		MHD_add_response_header(z, "Content-Type", "application/json");
		return set_response(r, status, z, zlen);
	}
	/* The string belongs to obj, so obj is freed together with the response. */
	struct MHD_Response *resp =
		s ? MHD_create_response_from_buffer_with_free_callback_cls(len, (void *)s,
									   free_json_string, obj)
		  : NULL;
	if (!resp) {
		json_object_put(obj);
		return set_response(r, 500, NULL, 0);
	}
	MHD_add_response_header(resp, "Content-Type", "application/json");
	return set_response(r, status, resp, len);
}

int http_reply_error_ext(struct req *r, enum api_error e, const char *msg, json_object *fields,
			 json_object *extra)
{
	if (r->mount && r->mount->reply_error)
		return r->mount->reply_error(r, e, msg, fields, extra);
	const struct api_error_def *d = api_error_get(e);
	json_object *o = json_object_new_object();
	if (!o) {
		json_object_put(fields);
		json_object_put(extra);
		return set_response(r, 500, NULL, 0);
	}
	json_object_object_add(o, "code", json_object_new_string(d->code));
	json_object_object_add(o, "error", json_object_new_string(msg ? msg : d->message));
	if (fields)
		json_object_object_add(o, "fields", fields);
	if (extra) {
		json_object_object_foreach(extra, k, v)
			json_object_object_add(o, k, json_object_get(v));
		json_object_put(extra);
	}
	return http_reply_json(r, d->status, o);
}

int http_reply_error(struct req *r, enum api_error e, const char *msg, json_object *fields)
{
	return http_reply_error_ext(r, e, msg, fields, NULL);
}

int http_add_header(struct req *r, const char *name, const char *value)
{
	struct hdr *h = arena_alloc(&r->arena, sizeof *h);
	if (!h)
		return -ERR_NOMEM;
	h->name = arena_strndup(&r->arena, name, strlen(name));
	h->value = arena_strndup(&r->arena, value, strlen(value));
	if (!h->name || !h->value)
		return -ERR_NOMEM;
	h->next = r->extra_headers;
	r->extra_headers = h;
	return 0;
}

const char *http_header(struct req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *http_query(struct req *r, const char *name)
{
	for (int i = 0; i < r->nquery; i++)
		if (!strcmp(r->query[2 * i], name))
			return r->query[2 * i + 1];
	return NULL;
}

const char *http_param(struct req *r, const char *name)
{
	size_t nl = strlen(name);
	for (int i = 0; i < r->params.n; i++)
		if (r->params.name_lens[i] == nl && !strncmp(r->params.names[i], name, nl))
			return r->param_values[i];
	return NULL;
}

static const char *decode(struct req *r, const char *s, size_t n, bool query)
{
	char *out = arena_alloc(&r->arena, n + 1);
	if (!out || url_decode(s, n, out, query) < 0)
		return NULL;
	return out;
}

struct query_walk {
	struct req *r;
	int n;
	bool bad;
};

static enum MHD_Result decode_query(void *cls, enum MHD_ValueKind kind, const char *key,
				    const char *value)
{
	(void)kind;
	struct query_walk *w = cls;
	struct req *r = w->r;
	const char *k = decode(r, key, strlen(key), true);
	const char *v = decode(r, value ? value : "", value ? strlen(value) : 0, true);
	if (!k || !v) {
		w->bad = true;
		return MHD_NO;
	}
	r->query[2 * r->nquery] = k;
	r->query[2 * r->nquery + 1] = v;
	r->nquery++;
	return MHD_YES;
}

/* Every path and query parameter decoded, once, before any handler: false when one has a
 * malformed percent-escape or an encoded NUL. */
bool srv_decode_params(struct req *r)
{
	for (int i = 0; i < r->params.n; i++) {
		struct slice v = r->params.values[i];
		if (!(r->param_values[i] = decode(r, v.ptr, v.len, false)))
			return false;
	}
	int n = MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, NULL, NULL);
	if (n <= 0)
		return true;
	r->query = arena_alloc(&r->arena, sizeof *r->query * 2 * (size_t)n);
	if (!r->query)
		return false;
	struct query_walk w = { .r = r };
	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, decode_query, &w);
	return !w.bad;
}

struct xff {
	struct arena *a;
	char *text; /* the field lines joined with ", " */
	size_t len;
};

static enum MHD_Result join_xff(void *cls, enum MHD_ValueKind kind, const char *key,
				const char *value)
{
	(void)kind;
	struct xff *x = cls;
	if (strcasecmp(key, "X-Forwarded-For") != 0 || !value)
		return MHD_YES;
	size_t n = strlen(value);
	char *t = arena_alloc(x->a, x->len + n + 3);
	if (!t)
		return MHD_NO;
	if (x->len)
		memcpy(t, x->text, x->len);
	size_t at = x->len;
	if (at) {
		t[at++] = ',';
		t[at++] = ' ';
	}
	memcpy(t + at, value, n + 1);
	x->text = t;
	x->len = at + n;
	return MHD_YES;
}

const char *http_client_addr(struct req *r)
{
	if (r->addr[0])
		return r->addr;
	struct conn_ctx *c = r->cctx;
	if (c && !c->trusted) { /* the usual case: the peer, formatted when it connected */
		memcpy(r->addr, c->peer_text, sizeof c->peer_text);
		return r->addr;
	}
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	struct netaddr peer, client;
	if (!ci || netaddr_from_sockaddr(ci->client_addr, &peer) < 0) {
		snprintf(r->addr, sizeof r->addr, "unknown");
		return r->addr;
	}
	client = peer;
	if (peers_trusted(r->srv->peers, &peer)) {
		/* every X-Forwarded-For line, in order (a lookup would give only the first) */
		struct xff x = { .a = &r->arena };
		MHD_get_connection_values(r->conn, MHD_HEADER_KIND, join_xff, &x);
		peers_client(r->srv->peers, &peer, x.text, &client);
	}
	char text[NETADDR_TEXT_LEN];
	netaddr_format(&client, text);
	snprintf(r->addr, sizeof r->addr, "%s", text);
	return r->addr;
}

void http_suspend(struct req *r)
{
	struct http_server *s = r->srv;
	r->phase = PH_SUSPENDED;
	MHD_suspend_connection(r->conn);
	pthread_mutex_lock(&s->susp_mu);
	r->susp_prev = NULL;
	r->susp_next = s->susp;
	if (s->susp)
		s->susp->susp_prev = r;
	s->susp = r;
	r->susp_listed = true;
	pthread_mutex_unlock(&s->susp_mu);
}

/* Takes r off the suspended list and resumes it; the caller holds susp_mu. */
void srv_resume_locked(struct http_server *s, struct req *r)
{
	if (r->susp_prev)
		r->susp_prev->susp_next = r->susp_next;
	else
		s->susp = r->susp_next;
	if (r->susp_next)
		r->susp_next->susp_prev = r->susp_prev;
	r->susp_listed = false;
	atomic_fetch_add(&s->resuming, 1);
	MHD_resume_connection(r->conn);
}

int http_resume_json(struct req *r, unsigned status, json_object *obj)
{
	struct http_server *s = r->srv;
	pthread_mutex_lock(&s->susp_mu);
	if (!r->susp_listed) {
		pthread_mutex_unlock(&s->susp_mu);
		json_object_put(obj);
		return -ERR_NOT_FOUND;
	}
	int rc = http_reply_json(r, status, obj);
	srv_resume_locked(s, r);
	pthread_mutex_unlock(&s->susp_mu);
	return rc;
}

int http_resume_call(struct req *r, int (*fn)(struct req *r))
{
	struct http_server *s = r->srv;
	pthread_mutex_lock(&s->susp_mu);
	if (!r->susp_listed) {
		pthread_mutex_unlock(&s->susp_mu);
		return -ERR_NOT_FOUND;
	}
	r->on_resume = fn;
	srv_resume_locked(s, r);
	pthread_mutex_unlock(&s->susp_mu);
	return 0;
}
