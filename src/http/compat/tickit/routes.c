/* tickit-sync's routes, its dispatch step and its errors. Its server checked the token
 * on every path but /health, before routing: an unknown path or a wrong method is 401
 * without a valid token, and 404 or 405 (empty) with one. */
#include <string.h>

#include "../../../core/accounts.h"
#include "../../../core/errors.h"
#include "../../../util/version.h"
#include "../../helpers.h"
#include "tickit.h"

static const struct route tickit_routes[] = {
	{ HM_GET, "/health", tk_health, BODY_NONE, NULL, NULL, ROUTE_PUBLIC },
	{ HM_POST, "/api/v1/sync", tk_sync, BODY_JSON, NULL, NULL, 0 },
};

/* The path under the mount (the mount's prefix, "" on a port of its own, taken off). */
static const char *rest_of(struct req *r)
{
	size_t n = r->mount ? strlen(r->mount->prefix) : 0;
	return r->path[n] ? r->path + n : "/";
}

/* 0 with r->auth set when the request has a valid token as tickit-sync read it
 * ("Bearer " and the token, case and all); otherwise its 401 (or 403) is the answer. */
static int token_or_reply(struct req *r)
{
	if (r->auth)
		return 0;
	const char *h = http_header(r, "Authorization");
	if (!h || strncmp(h, "Bearer ", 7) != 0 || !h[7]) {
		compat_reply(r, 401, COMPAT_JSON, "error", "Missing or invalid Authorization header");
		return -1;
	}
	struct principal *p = arena_alloc(&r->arena, sizeof *p);
	if (!p) {
		compat_reply(r, 500, COMPAT_JSON, "error", "Internal server error");
		return -1;
	}
	int e = acct_authenticate(core_of(r), h + 7, p);
	if (e == -ERR_DISABLED) {
		compat_reply(r, 403, COMPAT_JSON, "error", "This account is disabled");
		return -1;
	}
	if (e < 0) {
		/* revoked, expired and unknown alike; a machine failure is logged by core */
		compat_reply(r, e == -ERR_TOKEN_INVALID || e == -ERR_TOKEN_EXPIRED ? 401 : 500,
			     COMPAT_JSON, "error",
			     e == -ERR_TOKEN_INVALID || e == -ERR_TOKEN_EXPIRED ? "Invalid API token"
										: "Internal server error");
		return -1;
	}
	r->auth = p;
	return 0;
}

int tk_dispatch(struct req *r)
{
	if (r->route->flags & ROUTE_PUBLIC)
		return 0;
	return token_or_reply(r);
}

int tk_error_writer(struct req *r, enum api_error e, const char *msg, json_object *fields,
		    json_object *extra)
{
	json_object_put(fields);
	json_object_put(extra);
	const char *text = msg ? msg : api_error_get(e)->message;
	switch (e) {
	case AE_NOT_FOUND:
	case AE_METHOD_NOT_ALLOWED:
		/* the token first, as its middleware did, except for /health */
		if (strcmp(rest_of(r), "/health") != 0 && token_or_reply(r) < 0)
			return 0;
		return compat_reply(r, e == AE_NOT_FOUND ? 404 : 405, COMPAT_EMPTY, NULL, NULL);
	case AE_UNAUTHORIZED:
		return compat_reply(r, 401, COMPAT_JSON, "error",
				    "Missing or invalid Authorization header");
	case AE_INVALID_TOKEN:
		return compat_reply(r, 401, COMPAT_JSON, "error", "Invalid API token");
	case AE_ACCOUNT_DISABLED:
		return compat_reply(r, 403, COMPAT_JSON, "error", "This account is disabled");
	case AE_BAD_REQUEST:
	case AE_BAD_ENCODING:
	case AE_BAD_FRAMING:
	case AE_INVALID_JSON:
	case AE_JSON_TOO_DEEP:
		return compat_reply(r, 400, COMPAT_TEXT, NULL, text);
	case AE_VALIDATION:
		return compat_reply(r, 422, COMPAT_TEXT, NULL, text);
	case AE_UNSUPPORTED_MEDIA_TYPE:
		return compat_reply(r, 415, COMPAT_TEXT, NULL,
				    "Expected a request with Content-Type: application/json");
	case AE_BODY_TOO_LARGE:
		return compat_reply(r, 413, COMPAT_TEXT, NULL, text);
	case AE_HEADERS_TOO_LARGE:
		return compat_reply(r, 431, COMPAT_TEXT, NULL, text);
	case AE_NOT_IMPLEMENTED:
		return compat_reply(r, 501, COMPAT_TEXT, NULL, text);
	case AE_INTERNAL:
		return compat_reply(r, 500, COMPAT_JSON, "error", "Internal server error");
	default:
		return compat_reply(r, api_error_get(e)->status, COMPAT_JSON, "error", text);
	}
}

int tk_health(struct req *r)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string("ok"));
	json_object_object_add(o, "service", json_object_new_string("tickit-sync"));
	json_object_object_add(o, "version", json_object_new_string(cairn_version()));
	return http_reply_json(r, 200, o);
}

const struct http_mount tickit_mount = {
	.prefix = "/compat/tickit",
	.routes = tickit_routes,
	.nroutes = sizeof tickit_routes / sizeof tickit_routes[0],
	.pre_body = tk_dispatch,
	.reply_error = tk_error_writer,
};
