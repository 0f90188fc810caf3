/* sync_server_ts's routes, its dispatch step (CORS, the bearer check) and its errors.
 * Realms are the path's; a route's realm and its token's must agree. */
#include <stdio.h>
#include <string.h>

#include "../../../core/accounts.h"
#include "../../../core/errors.h"
#include "../../helpers.h"
#include "sts.h"

#define J (ROUTE_INFLATE) /* its client sends every POST gzip-compressed first */
#define P (ROUTE_PUBLIC)

static const struct route sts_routes[] = {
	{ HM_GET | HM_OPTIONS, "/", sts_hello, BODY_NONE, NULL, NULL, P },
	{ HM_GET | HM_OPTIONS, "/healthz", sts_healthz, BODY_NONE, NULL, NULL, P },
	{ HM_POST | HM_OPTIONS, "/register/{realm}", sts_register, BODY_JSON, NULL, NULL,
	  P | J | ROUTE_CREDENTIALS },
	{ HM_POST | HM_OPTIONS, "/unregister/{realm}", sts_unregister, BODY_JSON, NULL, NULL, J },
	{ HM_POST | HM_OPTIONS, "/login/{realm}", sts_login, BODY_JSON, NULL, NULL,
	  P | J | ROUTE_CREDENTIALS },
	{ HM_POST | HM_OPTIONS, "/login/{realm}/refreshToken", sts_refresh, BODY_JSON, NULL, NULL,
	  P | J | ROUTE_CREDENTIALS },
	{ HM_POST | HM_OPTIONS, "/password/{realm}/forgotten", sts_forgotten, BODY_JSON, NULL,
	  NULL, P | J | ROUTE_CREDENTIALS },
	{ HM_POST | HM_OPTIONS, "/password/{realm}/change", sts_change_password, BODY_JSON, NULL,
	  NULL, P | J | ROUTE_CREDENTIALS },
	{ HM_POST | HM_OPTIONS, "/pull/{realm}", sts_pull, BODY_JSON, NULL, NULL, J },
	{ HM_POST | HM_OPTIONS, "/pull/{realm}/{clientid}", sts_pull, BODY_JSON, NULL, NULL, J },
	{ HM_POST | HM_OPTIONS, "/push/{realm}", sts_push, BODY_JSON, NULL, NULL, J },
	{ HM_POST | HM_OPTIONS, "/push/{realm}/{clientid}", sts_push, BODY_JSON, NULL, NULL, J },
	{ HM_POST | HM_OPTIONS, "/cancelSync/{realm}", sts_cancel, BODY_JSON, NULL, NULL, J },
};

#undef J
#undef P

int sts_result(struct req *r, unsigned status, const char *msg)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "code", json_object_new_int(status));
	json_object_object_add(o, "message", json_object_new_string(msg));
	return http_reply_json(r, status, o);
}

int sts_message(struct req *r, unsigned status, const char *msg)
{
	return compat_reply(r, status, COMPAT_JSON, "message", msg);
}

int sts_error(struct req *r, unsigned status, const char *msg)
{
	/* its handlers' {"error"}, and "message", which its client shows */
	json_object *o = json_object_new_object();
	json_object_object_add(o, "error", json_object_new_string(msg));
	json_object_object_add(o, "message", json_object_new_string(msg));
	return http_reply_json(r, status, o);
}

const char *sts_str(struct req *r, const char *key)
{
	struct verr ve = { 0 };
	return json_object_is_type(r->json, json_type_object) ? jmember_str(r->json, key, key, &ve)
							       : NULL;
}

bool sts_realm_or_reply(struct req *r, struct realm *ret)
{
	char name[REALM_NAME_MAX + 1];
	const char *p = http_param(r, "realm");
	size_t n = p ? strlen(p) : 0;
	struct verr ve = { 0 };
	if (n && n <= REALM_NAME_MAX) {
		for (size_t i = 0; i <= n; i++)
			name[i] = (p[i] >= 'A' && p[i] <= 'Z') ? (char)(p[i] - 'A' + 'a') : p[i];
		if (acct_realm(core_of(r), name, ret, &ve) == 0)
			return true;
	}
	char msg[128];
	snprintf(msg, sizeof msg, "Unknown realm: %.64s", p ? p : "");
	sts_error(r, 500, msg);
	return false;
}

/* Its bearer check: "Bearer " and a token, else 401; a token that is not valid (unknown,
 * revoked, expired, of another realm, its account disabled) 403, the client's signal to
 * refresh it. */
static int bearer_or_reply(struct req *r)
{
	const char *h = http_header(r, "Authorization");
	if (!h || strncmp(h, "Bearer ", 7) != 0 || !h[7]) {
		sts_result(r, 401, "Missing bearer token");
		return -1;
	}
	struct principal *p = arena_alloc(&r->arena, sizeof *p);
	if (!p) {
		sts_error(r, 500, "Internal server error");
		return -1;
	}
	int e = acct_authenticate(core_of(r), h + 7, p);
	const char *realm = http_param(r, "realm");
	if (e == 0 && (!realm || strcasecmp(realm, p->realm.name) != 0))
		e = -ERR_TOKEN_INVALID;
	if (e < 0) {
		sts_result(r, 403, "Wrong token");
		return -1;
	}
	r->auth = p;
	return 0;
}

static int sts_dispatch(struct req *r)
{
	if (r->method == HM_OPTIONS) { /* a preflight, as its CORS middleware answered */
		http_add_header(r, "Access-Control-Allow-Methods", "GET,HEAD,PUT,PATCH,POST,DELETE");
		const char *asked = http_header(r, "Access-Control-Request-Headers");
		if (asked)
			http_add_header(r, "Access-Control-Allow-Headers", asked);
		http_add_header(r, "Vary", "Access-Control-Request-Headers");
		http_reply_bytes(r, 204, NULL, "", 0);
		return -1;
	}
	if (r->route->flags & ROUTE_PUBLIC)
		return 0;
	return bearer_or_reply(r);
}

static int sts_error_writer(struct req *r, enum api_error e, const char *msg, json_object *fields,
			    json_object *extra)
{
	json_object_put(fields);
	json_object_put(extra);
	const char *text = msg ? msg : api_error_get(e)->message;
	switch (e) {
	case AE_NOT_FOUND:
	case AE_METHOD_NOT_ALLOWED: {
		/* Express's: "Cannot POST /x" (as text: the path is the client's) */
		char t[300];
		size_t n = r->mount ? strlen(r->mount->prefix) : 0;
		snprintf(t, sizeof t, "Cannot %s %.200s", r->method_str ? r->method_str : "GET",
			 r->path[n] ? r->path + n : "/");
		return compat_reply(r, 404, COMPAT_TEXT, NULL, t);
	}
	case AE_UNAUTHORIZED:
		return sts_result(r, 401, "Missing bearer token");
	case AE_INVALID_TOKEN:
	case AE_ACCOUNT_DISABLED:
		return sts_result(r, 403, "Wrong token");
	case AE_INTERNAL:
		return sts_error(r, 500, "Internal server error");
	default:
		return sts_error(r, api_error_get(e)->status, text);
	}
}

int sts_hello(struct req *r)
{
	static const char hello[] = "Hello from Sync Server!";
	return http_reply_bytes(r, 200, "text/html; charset=utf-8", hello, sizeof hello - 1);
}

int sts_healthz(struct req *r)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string("ok"));
	return http_reply_json(r, 200, o);
}

static const char *const sts_headers[] = { "Access-Control-Allow-Origin", "*", NULL };

const struct http_mount sts_mount = {
	.prefix = "/compat/sts",
	.routes = sts_routes,
	.nroutes = sizeof sts_routes / sizeof sts_routes[0],
	.pre_body = sts_dispatch,
	.reply_error = sts_error_writer,
	.headers = sts_headers,
};
