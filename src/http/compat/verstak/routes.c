/* Verstak Sync's routes, its device authentication, its error shapes and the security
 * headers on every answer. */
#include <stdio.h>
#include <string.h>

#include "../../../core/accounts.h"
#include "../../../core/errors.h"
#include "../../../core/sync.h"
#include "../../../util/clock.h"
#include "../../helpers.h"
#include "verstak.h"

#define P ROUTE_PUBLIC
#define A ROUTE_ANY_TYPE /* its server never looked at a request's Content-Type */

static const struct route verstak_routes[] = {
	{ HM_GET, "/api/v1/health", vk_health, BODY_NONE, NULL, NULL, P },
	{ HM_GET, "/readyz", vk_health, BODY_NONE, NULL, NULL, P },
	{ HM_GET, "/livez", vk_livez, BODY_NONE, NULL, NULL, P },
	/* pair and auth test take no key (the desktop sends a bare "Bearer" anyway) */
	{ HM_POST, "/api/client/pair", vk_pair, BODY_JSON, NULL, NULL, P | A | ROUTE_CREDENTIALS },
	{ HM_POST, "/api/v1/device/register", vk_device_register, BODY_JSON, NULL, NULL,
	  P | A | ROUTE_CREDENTIALS },
	{ HM_POST, "/api/auth/test", vk_auth_test, BODY_JSON, NULL, NULL, P | A | ROUTE_CREDENTIALS },
	/* the device's key is checked by the handlers, as its server did */
	{ HM_GET, "/api/client/me", vk_me, BODY_NONE, NULL, NULL, P },
	{ HM_POST, "/api/client/revoke-current", vk_revoke_current, BODY_NONE, NULL, NULL, P },
	{ HM_POST, "/api/client/revoke-device", vk_revoke_device, BODY_JSON, NULL, NULL,
	  P | A | ROUTE_CREDENTIALS },
	{ HM_POST, "/api/v1/sync/push", vk_push, BODY_JSON, NULL, NULL, P | A },
	{ HM_POST, "/api/v1/sync/pull", vk_pull, BODY_JSON, NULL, NULL, P | A },
	/* the user API: credentials, held to limits.auth_body_bytes */
	{ HM_POST, "/api/v1/auth/register", vk_register, BODY_JSON, NULL, NULL, P | A | ROUTE_CREDENTIALS },
	{ HM_POST, "/api/v1/auth/confirm", vk_confirm, BODY_JSON, NULL, NULL, P | A | ROUTE_CREDENTIALS },
	{ HM_POST, "/api/v1/auth/login", vk_login, BODY_JSON, NULL, NULL, P | A | ROUTE_CREDENTIALS },
	{ HM_POST, "/api/v1/auth/forgot", vk_forgot, BODY_JSON, NULL, NULL, P | A | ROUTE_CREDENTIALS },
	{ HM_POST, "/api/v1/auth/reset", vk_reset, BODY_JSON, NULL, NULL, P | A | ROUTE_CREDENTIALS },
	{ HM_GET, "/api/v1/user/devices", vk_user_devices, BODY_NONE, NULL, NULL, P },
	{ HM_POST, "/api/v1/user/devices/{id}/revoke", vk_user_device_revoke, BODY_JSON, NULL, NULL,
	  P | A | ROUTE_CREDENTIALS },
	{ HM_GET | HM_POST, "/api/v1/blobs/", vk_blob_upload, BODY_STREAM, vk_blob_upload_begin,
	  vk_blob_upload_chunk, P },
	{ HM_POST, "/api/v1/blobs", vk_blob_upload, BODY_STREAM, vk_blob_upload_begin,
	  vk_blob_upload_chunk, P },
	/* one prefix route, as its server had: GET a hash, POST an upload anywhere under it */
	{ HM_GET | HM_POST, "/api/v1/blobs/{rest*}", vk_blob_upload, BODY_STREAM,
	  vk_blob_upload_begin, vk_blob_upload_chunk, P },
};

#undef P
#undef A

int vk_reply(struct req *r, unsigned status, json_object *obj)
{
	const char *s = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
								 JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t n = strlen(s), k = 0, special = 0;
	for (size_t i = 0; i < n; i++)
		special += s[i] == '<' || s[i] == '>' || s[i] == '&';
	char *out = arena_alloc(&r->arena, n + 5 * special + 2);
	if (!out) {
		json_object_put(obj);
		return http_reply_error(r, AE_INTERNAL, NULL, NULL);
	}
	/* as Go's encoder writes them: <, > and & escaped (they only ever occur in strings) */
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '<' || c == '>' || c == '&')
			k += (size_t)snprintf(out + k, 7, "\\u%04x", (unsigned)c);
		else
			out[k++] = c;
	}
	out[k++] = '\n';
	json_object_put(obj);
	return http_reply_bytes(r, status, "application/json", out, k);
}

int vk_error(struct req *r, unsigned status, const char *code, const char *msg)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "code", json_object_new_string(code));
	json_object_object_add(o, "error", json_object_new_string(msg));
	return vk_reply(r, status, o);
}

int vk_status(struct req *r, const char *status)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string(status));
	return vk_reply(r, 200, o);
}

int vk_rate_reply(struct req *r, int retry)
{
	char ra[16];
	snprintf(ra, sizeof ra, "%d", retry > 0 ? retry : 1);
	http_add_header(r, "Retry-After", ra);
	return vk_error(r, 429, "rate_limited", "too many attempts");
}

json_object *vk_time(int64_t ms)
{
	if (!ms)
		return json_object_new_string("");
	char t[CLOCK_RFC3339_LEN];
	clock_format_rfc3339(ms, t);
	t[19] = 'Z'; /* to the second */
	t[20] = '\0';
	return json_object_new_string(t);
}

bool vk_sha256_ok(const char *s)
{
	size_t i = 0;
	for (; s && s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return i == 64;
}

json_object *vk_body_or_reply(struct req *r)
{
	if (!json_object_is_type(r->json, json_type_object)) {
		vk_error(r, 400, "invalid_json", "invalid JSON request");
		return NULL;
	}
	return r->json;
}

const char *vk_str(struct req *r, json_object *o, const char *key)
{
	/* Go matched field names without regard to case; the desktop sends them as named */
	json_object *v = NULL;
	if (!json_object_object_get_ex(o, key, &v) || !v)
		return "";
	struct verr ve = { 0 };
	const char *s = json_object_is_type(v, json_type_string) ? jmember_str(o, key, key, &ve)
								    : NULL;
	if (!s)
		vk_error(r, 400, "invalid_json", "invalid JSON request");
	return s;
}

const struct vk_device *vk_device_or_reply(struct req *r)
{
	if (r->space) { /* found before the body was read: still not revoked? */
		const struct vk_device *d = r->space;
		struct principal now;
		if (r->body_bytes && acct_authenticate(core_of(r), d->key, &now) < 0) {
			vk_error(r, 401, "unauthorized", "invalid API key");
			return NULL;
		}
		return d;
	}
	const char *h = http_header(r, "Authorization");
	const char *key = h ? (!strncmp(h, "Bearer ", 7) ? h + 7 : h) : "";
	if (!*key)
		key = http_query(r, "api_key") ? http_query(r, "api_key") : "";
	if (!*key) {
		vk_error(r, 401, "unauthorized", "API key required");
		return NULL;
	}
	struct vk_device *d = arena_alloc(&r->arena, sizeof *d);
	if (!d) {
		vk_error(r, 500, "internal_error", "internal error");
		return NULL;
	}
	memset(d, 0, sizeof *d);
	struct core *c = core_of(r);
	int e = acct_authenticate(c, key, &d->p);
	if (e == -ERR_DISABLED) {
		vk_error(r, 403, "forbidden", "user blocked");
		return NULL;
	}
	if (e < 0) {
		vk_error(r, 401, "unauthorized", "invalid API key");
		return NULL;
	}
	struct app_client cl;
	if (sync_client_by_device(c, d->p.device.id, &cl) < 0 || !*cl.scope) {
		vk_error(r, 403, "forbidden", "device is not associated with a user");
		return NULL;
	}
	snprintf(d->device_id, sizeof d->device_id, "%s", cl.client_id);
	d->key = key;
	snprintf(d->vault, sizeof d->vault, "%s", cl.scope);
	char app[APP_SCOPE_MAX + 16];
	snprintf(app, sizeof app, "%s:%s", VERSTAK_APP, d->vault);
	if (sync_space_for_app(c, &d->p, app, &d->sp) < 0) {
		vk_error(r, 500, "internal_error", "internal error");
		return NULL;
	}
	r->auth = &d->p;
	r->space = d;
	return d;
}

int64_t vk_device_of(struct req *r, const struct principal *p, const char *id)
{
	struct app_client cl;
	if (!id || !*id || strlen(id) > APP_CLIENT_ID_MAX ||
	    sync_client_get(core_of(r), VERSTAK_APP, p->user.realm_id, id, &cl) < 0 ||
	    cl.user_id != p->user.id)
		return 0;
	return cl.device_id;
}

/* The device's routes find the device before their body is read, so that a body larger
 * than limits.auth_body_bytes is taken only from a paired device. */
static int vk_pre_body(struct req *r)
{
	if (app_check_route_or_reply(r) < 0)
		return -1;
	int (*h)(struct req *) = r->route->handler;
	bool device = h == vk_me || h == vk_revoke_current || h == vk_revoke_device ||
		      h == vk_push || h == vk_pull || h == vk_blob_upload;
	return device && !vk_device_or_reply(r) ? -1 : 0;
}

static int vk_error_writer(struct req *r, enum api_error e, const char *msg, json_object *fields,
			   json_object *extra)
{
	json_object_put(fields);
	json_object_put(extra);
	(void)msg;
	size_t n = r->mount ? strlen(r->mount->prefix) : 0;
	const char *rest = r->path[n] ? r->path + n : "/";
	switch (e) {
	case AE_NOT_FOUND:
		if (!strncmp(rest, "/api/", 5))
			return vk_error(r, 404, "not_found", "not found");
		return http_reply_bytes(r, 404, "text/html; charset=utf-8",
					"<!doctype html><title>Not found</title><p>Not found.</p>\n", 57);
	case AE_METHOD_NOT_ALLOWED:
		return vk_error(r, 405, "method_not_allowed", "method not allowed");
	case AE_BODY_TOO_LARGE:
		return vk_error(r, 413, "request_too_large", "request body is too large");
	case AE_INVALID_JSON:
	case AE_JSON_TOO_DEEP:
	case AE_VALIDATION:
		return vk_error(r, 400, "invalid_json", "invalid JSON request");
	case AE_BAD_REQUEST:
	case AE_BAD_ENCODING:
	case AE_BAD_FRAMING:
	case AE_UNSUPPORTED_MEDIA_TYPE:
		return vk_error(r, 400, "invalid_request", "invalid request");
	case AE_UNAUTHORIZED:
	case AE_INVALID_TOKEN:
		return vk_error(r, 401, "unauthorized", "invalid API key");
	case AE_ACCOUNT_DISABLED:
		return vk_error(r, 403, "forbidden", "user blocked");
	case AE_RATE_LIMITED:
		return vk_error(r, 429, "rate_limited", "too many attempts");
	case AE_HEADERS_TOO_LARGE:
		return vk_error(r, 431, "invalid_request", "request headers are too large");
	default:
		return vk_error(r, 500, "internal_error", "internal error");
	}
}

/* Its security headers, on every answer. */
static const char *const verstak_headers[] = {
	"Content-Security-Policy",
	"default-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'; "
	"img-src 'self' data:; script-src 'self'; style-src 'self'",
	"X-Content-Type-Options", "nosniff",
	"Referrer-Policy", "same-origin",
	"X-Frame-Options", "DENY",
	NULL,
};

const struct http_mount verstak_mount = {
	.prefix = "/compat/verstak",
	.routes = verstak_routes,
	.nroutes = sizeof verstak_routes / sizeof verstak_routes[0],
	.pre_body = vk_pre_body,
	.reply_error = vk_error_writer,
	.headers = verstak_headers,
};
