/* A request's life inside the glue, from its headers to its handler: header size and
 * framing checks, the mount and route, the dispatch step, the body (buffered and bounded,
 * or streamed to the route), JSON and form bodies parsed, then the handler. */
#include <microhttpd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../util/clock.h"
#include "../util/err.h"
#include "../util/jtext.h"
#include "../util/log.h"
#include "encoding.h"
#include "form.h"
#include "server.h"
#include "server_int.h"

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

bool srv_has_body(struct req *r)
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

/* The mount whose prefix the path is or starts with (and a slash): the longest such, or a
 * mount with the empty prefix; NULL for the server's own routes. *ret_rest is the path the mount routes on. */
static const struct http_mount *mount_of(const struct http_server *s, const char *path,
					 const char **ret_rest)
{
	const struct http_mount *best = NULL;
	size_t best_len = 0;
	for (size_t i = 0; i < s->o.nmounts; i++) {
		const struct http_mount *m = &s->o.mounts[i];
		size_t n = strlen(m->prefix);
		if (n == 0 && !best) { /* the empty prefix: every path (a port of its own) */
			best = m;
			continue;
		}
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
void srv_req_begin(struct req *r)
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
	if (c && srv_has_body(r)) {
		atomic_store(&c->progress, 0);
		atomic_store(&c->body_start_ns, clock_mono_ns());
		c->seen_progress = 0;
		c->eof_ticks = 0;
		atomic_store(&c->receiving, true);
	}
	int64_t cl = http_content_length(r);
	if (r->route->body == BODY_JSON || r->route->body == BODY_NONE) {
		/* bodies anyone may send without an account are held to the small limit (a
		 * public route whose pre_body hook authenticated the caller is not anyone's) */
		bool cred = (r->route->flags & (ROUTE_CREDENTIALS | ROUTE_PUBLIC)) && !r->auth;
		r->body_limit = cred ? s->o.auth_body_bytes : s->o.json_body_bytes;
		r->body_limit_key = cred ? "limits.auth_body_bytes" : "limits.json_body_bytes";
		if (cl > (int64_t)r->body_limit) {
			reply_body_too_large(r);
			return;
		}
		const char *ct = http_header(r, "Content-Type");
		if (r->route->body == BODY_JSON && srv_has_body(r) && !is_json_type(ct) &&
		    !(r->route->flags & ROUTE_ANY_TYPE)) {
			if (!(r->route->flags & ROUTE_FORM) || !form_is_type(ct)) {
				http_reply_error(r, AE_UNSUPPORTED_MEDIA_TYPE, NULL, NULL);
				return;
			}
			r->form = true;
		}
		const char *ce = http_header(r, "Content-Encoding");
		if (r->route->body == BODY_JSON && ce && strcasecmp(ce, "identity") != 0) {
			if (!(r->route->flags & ROUTE_INFLATE) || !encoding_inflatable(ce)) {
				http_reply_error(r, AE_UNSUPPORTED_MEDIA_TYPE,
						 "This request body's Content-Encoding is not taken here.",
						 NULL);
				return;
			}
			r->inflate = inflater_new();
			if (!r->inflate) {
				http_reply_error(r, AE_INTERNAL, NULL, NULL);
				return;
			}
		}
		buf_init(&r->body, r->body_limit);
	} else if (r->route->on_begin) {
		r->route->on_begin(r);
	}
}

void srv_req_body(struct req *r, const char *data, size_t n)
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
	case BODY_JSON: {
		/* compressed, both sides count: what came (a stream that never ends inflating to
		 * nothing is refused too) and what it inflates to */
		int e = r->inflate && r->body_bytes > r->body_limit ? -ERR_TOO_LARGE
			: r->inflate ? inflater_feed(r->inflate, data, n, &r->body)
				     : buf_append(&r->body, data, n) < 0 ? -ERR_TOO_LARGE : 0;
		if (e < 0) {
			r->failed = true;
			buf_free(&r->body);
			if (e == -ERR_TOO_LARGE) /* inflated bytes count: a bomb stops here */
				reply_body_too_large(r);
			else
				http_reply_error(r, AE_BAD_REQUEST,
						 "The request body is not valid for its Content-Encoding.",
						 NULL);
		}
		break;
	}
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

void srv_req_dispatch(struct req *r)
{
	if (r->route->body == BODY_JSON && r->form) {
		parse_form_body(r);
		buf_free(&r->body);
		if (r->resp)
			return;
	} else if (r->route->body == BODY_JSON) {
		if (r->inflate && !inflater_done(r->inflate)) {
			buf_free(&r->body);
			http_reply_error(r, AE_BAD_REQUEST,
					 "The compressed request body ends before its stream does.", NULL);
			return;
		}
		parse_json_body(r);
		buf_free(&r->body);
		if (r->resp)
			return;
	}
	r->route->handler(r);
}

