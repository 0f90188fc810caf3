/* Routing by method and path pattern. Patterns are literal segments and {name}
 * parameters; a last segment {name*} takes the rest of the path (slashes included).
 * Matching works on the raw (still percent-encoded) path; parameters are decoded later. */
#ifndef CAIRN_ROUTER_H
#define CAIRN_ROUTER_H

#include <stddef.h>

#include "../util/buf.h"

enum http_method {
	HM_GET = 1 << 0,
	HM_HEAD = 1 << 1,
	HM_POST = 1 << 2,
	HM_PUT = 1 << 3,
	HM_PATCH = 1 << 4,
	HM_DELETE = 1 << 5,
	HM_OPTIONS = 1 << 6,
};

/* 0 for a method we do not serve. */
unsigned http_method_parse(const char *s);
/* "GET, HEAD, POST" for a mask, written into out. */
void http_methods_format(unsigned mask, char *out, size_t len);

#define ROUTE_MAX_PARAMS 6

struct route_params {
	int n;
	const char *names[ROUTE_MAX_PARAMS]; /* borrowed from the pattern, not terminated */
	size_t name_lens[ROUTE_MAX_PARAMS];
	struct slice values[ROUTE_MAX_PARAMS]; /* borrowed from the path */
};

/* How the HTTP glue treats a route's request body. */
enum route_body {
	BODY_NONE,   /* a body is read and dropped (bounded like a JSON body) */
	BODY_JSON,   /* buffered up to limits.json_body_bytes, parsed before the handler */
	BODY_STREAM, /* handed to on_chunk as it arrives */
};

struct req;

struct route {
	unsigned methods;
	const char *pattern;
	int (*handler)(struct req *r);
	enum route_body body;
	/* BODY_STREAM only: called once the headers are in (may reply early, for example
	 * 401 or 413), then once per chunk. A negative return stops the upload; the hook
	 * must have set a reply. */
	int (*on_begin)(struct req *r);
	int (*on_chunk)(struct req *r, const char *data, size_t len);
	unsigned flags; /* ROUTE_* */
};

/* A credential endpoint: its body is held to limits.auth_body_bytes. */
#define ROUTE_CREDENTIALS 1u

/* The checks a route declares; the dispatch step (the server's pre_body hook, before any
 * of the body is read) enforces them before the handler runs, and fills in the caller
 * (req->auth) and the space the path names (req->space). A route is authenticated (a
 * user's bearer token) unless it says ROUTE_PUBLIC. */
#define ROUTE_PUBLIC 2u        /* no authentication */
#define ROUTE_ADMIN 8u         /* a server admin (403 admin_required otherwise) */
#define ROUTE_SPACE_READ 16u   /* a member of {space} (404 otherwise: it stays unseen) */
#define ROUTE_SPACE_WRITE 32u  /* a member who writes: writer, admin, owner (403) */
#define ROUTE_SPACE_MANAGE 64u /* an admin or owner of {space} (403) */
#define ROUTE_SPACE (ROUTE_SPACE_READ | ROUTE_SPACE_WRITE | ROUTE_SPACE_MANAGE)
/* A BODY_JSON route that also takes an HTML form (application/x-www-form-urlencoded),
 * posted by a page without JavaScript: the glue reads its fields into r->json as an
 * object of strings and sets r->form, so the handler can answer with a page. */
#define ROUTE_FORM 4u
/* Its 200 answers may go gzip-compressed to clients that take it (server.gzip_level,
 * server.gzip_min_bytes), with Vary: Accept-Encoding either way. */
#define ROUTE_GZIP 128u
/* Its JSON body may come compressed (Content-Encoding: gzip or deflate): the glue
 * inflates it as it arrives, and the body limit holds for the bytes received and for the
 * inflated bytes each. Other routes refuse a Content-Encoding (415). */
#define ROUTE_INFLATE 256u
/* Its JSON body is read whatever its Content-Type says (a protocol whose server never
 * looked at it). */
#define ROUTE_ANY_TYPE 512u

enum route_match { ROUTE_FOUND, ROUTE_NO_PATH, ROUTE_NO_METHOD };

/* Finds the route for method and path. Of the patterns that match the path, the most
 * specific one is the resource (a literal segment beats a parameter, earlier segments
 * first); the first of its rows whose methods include method (HEAD matches GET routes)
 * is the route. With ROUTE_NO_METHOD, *ret_allowed has the methods that resource
 * accepts. The table must pass router_check_order. */
enum route_match router_match(const struct route *routes, size_t n, unsigned method,
			      const char *path, const struct route **ret_route,
			      struct route_params *ret_params, unsigned *ret_allowed);

/* 0 when every pattern comes before the less specific ones that can match the same
 * paths (router_match takes the first match as the resource); -1 naming a pair in err.
 * http_server_start refuses a table that fails it. */
int router_check_order(const struct route *routes, size_t n, char *err, size_t errlen);

#endif
