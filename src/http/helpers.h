/* What handlers share: authentication, JSON field access, mapping core errors to replies,
 * and the JSON shapes of users, devices and realms. */
#ifndef CAIRN_HTTP_HELPERS_H
#define CAIRN_HTTP_HELPERS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "../core/core.h"
#include "app.h"
#include "server.h"

/* The core of the server a request arrived at. */
static inline struct core *core_of(struct req *r)
{
	return ((struct app *)r->app)->core;
}

/* The token of "Authorization: Bearer <token>" (spaces after the scheme skipped), or
 * NULL. The one place that reads that header for tokens. */
const char *bearer_token(struct req *r);
/* The caller's principal, or NULL after replying 401 (with WWW-Authenticate) or 403.
 * The result lives in the request's arena. */
const struct principal *auth_or_reply(struct req *r);
/* The dispatch step, the server's pre_body hook: enforces what the route declares
 * (router.h: ROUTE_PUBLIC, ROUTE_ADMIN, ROUTE_SPACE_*) as soon as the headers are in, so
 * nobody without a valid token or the access makes the server read, buffer or parse a
 * body (a JSON body may be 16 MiB); fills r->auth and r->space. 0, or -1 after replying. */
int app_check_route_or_reply(struct req *r);
/* The same again for a request that waited (a parked pull woken): whatever happened
 * meanwhile (a revocation, a removal, a disabling) is answered as a fresh request would
 * be. */
int app_recheck_route_or_reply(struct req *r);
struct space;
/* The caller and the space the path names ("me" or an id), as the dispatch step checked
 * them, into *sp; NULL after replying (a route declaring no space is a 500). */
const struct principal *space_or_reply(struct req *r, struct space *sp);
/* need_auth, then 403 admin_required unless the caller is a server admin. */
const struct principal *admin_or_reply(struct req *r);

/* The one reader of strings from request JSON. A string member of obj (a JSON object):
 * NULL when absent or null; NULL and an entry for field in ve when it has another type or
 * holds a NUL (a C string would end there: two different op ids could compare equal). */
const char *jmember_str(json_object *obj, const char *key, const char *field, struct verr *ve);
/* jmember_str of the request body. */
const char *jstr(struct req *r, const char *key, struct verr *ve);
/* An integer member; def when absent. */
int64_t jint(struct req *r, const char *key, int64_t def, struct verr *ve);
/* A boolean member: 1, 0, or -1 when absent. */
int jbool(struct req *r, const char *key, struct verr *ve);
/* 400 unless the body is a JSON object (an absent body counts as {} when allow_empty). */
bool object_or_reply(struct req *r, bool allow_empty);

/* The one reply for a core error on the native API: status, code and sentence from
 * api_error.c's table (the verr's detail, when set, is the sentence; its entries go out as
 * "fields" for validation errors), WWW-Authenticate on 401s, Retry-After (retry_after
 * seconds) on 429s; machine failures are logged and answered 500. */
int reply_core_error(struct req *r, int err, const struct verr *ve, int retry_after);
/* The same with extra's members (owned) in the body. */
int reply_core_error_ext(struct req *r, int err, const struct verr *ve, int retry_after,
			 json_object *extra);
struct orphaned;
/* ERR_LAST_OWNER naming the spaces (in "spaces": [{id, name}] and in the sentence). */
int reply_orphaned(struct req *r, const struct orphaned *o);
/* The query parameter name as a whole number from lo to hi into *v (left alone when the
 * parameter is absent); false, with a message for name in ve, when it is anything else
 * (signs, spaces, other characters, out of range). */
bool http_query_int(struct req *r, const char *name, int64_t *v, int64_t lo, int64_t hi,
		    struct verr *ve);

/* A positive id from a path parameter, or 0. */
int64_t param_id(struct req *r, const char *name);

json_object *json_time(int64_t ms); /* RFC 3339, or null for 0 */
json_object *json_user(const struct user *u, const char *realm_name);
json_object *json_device(const struct device *d, int64_t current_device_id);
json_object *json_realm(const struct realm *rl);

#endif
