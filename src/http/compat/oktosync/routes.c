/* Oktosync's routes, its dispatch step and its errors: its framework's empty 404 and 405,
 * plain-text rejections of bodies, and {"status": "failure", "error"} from its handlers. */
#include <string.h>

#include "../../helpers.h"
#include "oktosync.h"

static const struct route oktosync_routes[] = {
	{ HM_GET, "/", okto_welcome, BODY_NONE, NULL, NULL, ROUTE_PUBLIC },
	{ HM_GET, "/health", okto_health, BODY_NONE, NULL, NULL, ROUTE_PUBLIC },
	{ HM_POST, "/register", okto_register, BODY_JSON, NULL, NULL,
	  ROUTE_PUBLIC | ROUTE_CREDENTIALS },
	/* its token (or none, when anonymous uploads are on) is checked by the handler */
	{ HM_POST, "/upload", okto_upload, BODY_STREAM, okto_upload_begin, okto_upload_chunk,
	  ROUTE_PUBLIC },
};

int okto_failure(struct req *r, unsigned status, const char *msg, const char *details)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string("failure"));
	json_object_object_add(o, "error", json_object_new_string(msg));
	if (details)
		json_object_object_add(o, "details", json_object_new_string(details));
	return http_reply_json(r, status, o);
}

static int okto_error_writer(struct req *r, enum api_error e, const char *msg,
			     json_object *fields, json_object *extra)
{
	json_object_put(fields);
	json_object_put(extra);
	const char *text = msg ? msg : api_error_get(e)->message;
	switch (e) {
	case AE_NOT_FOUND:
		return compat_reply(r, 404, COMPAT_EMPTY, NULL, NULL);
	case AE_METHOD_NOT_ALLOWED:
		return compat_reply(r, 405, COMPAT_EMPTY, NULL, NULL);
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
	case AE_UNAUTHORIZED:
	case AE_INVALID_TOKEN:
		return okto_failure(r, 401, "A bearer token is needed to upload.", NULL);
	case AE_INTERNAL:
		return okto_failure(r, 500, "Database operation failed.", NULL);
	default:
		return okto_failure(r, api_error_get(e)->status, text, NULL);
	}
}

int okto_welcome(struct req *r)
{
	static const char text[] = "\xF0\x9F\x90\x99 Welcome to OktoSync!";
	return http_reply_bytes(r, 200, "text/plain; charset=utf-8", text, sizeof text - 1);
}

int okto_health(struct req *r)
{
	/* its text, typo and all: monitors match it */
	static const char text[] = "\xF0\x9F\x91\x8C Up an running!";
	return http_reply_bytes(r, 200, "text/plain; charset=utf-8", text, sizeof text - 1);
}

const struct http_mount oktosync_mount = {
	.prefix = "/compat/oktosync",
	.routes = oktosync_routes,
	.nroutes = sizeof oktosync_routes / sizeof oktosync_routes[0],
	.pre_body = app_check_route_or_reply,
	.reply_error = okto_error_writer,
};
