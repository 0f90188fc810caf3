/* MigChat's errors: how every failure under /compat/migchat is answered, the glue's own
 * included. Its server answered a bad token 401 with an empty body, its handlers' errors
 * {"error": "..."}, and its framework's rejections (no route, wrong method, a body that is
 * not JSON or not the expected shape) with an empty or a plain-text body. */
#include <stdio.h>
#include <string.h>

#include "../../../core/errors.h"
#include "../../../util/clock.h"
#include "../../helpers.h"
#include "migchat.h"

enum shape { JSON_ERROR, EMPTY, TEXT };

struct mig_error_def {
	unsigned status; /* 0: the native catalogue's */
	enum shape shape;
	const char *message; /* NULL: the sentence given, or the catalogue's */
};

/* By the native catalogue's entry (api_error.h), which the glue and core_error both give;
 * rows left out are {"error": sentence} with the native status. */
static const struct mig_error_def table[AE__COUNT] = {
	[AE_UNAUTHORIZED] = { 401, EMPTY, NULL },
	[AE_INVALID_TOKEN] = { 401, EMPTY, NULL },
	[AE_NOT_FOUND] = { 404, EMPTY, NULL },
	[AE_METHOD_NOT_ALLOWED] = { 405, EMPTY, NULL },
	[AE_BAD_REQUEST] = { 400, TEXT, NULL },
	[AE_BAD_ENCODING] = { 400, TEXT, NULL },
	[AE_BAD_FRAMING] = { 400, TEXT, NULL },
	[AE_INVALID_JSON] = { 400, TEXT, NULL },
	[AE_JSON_TOO_DEEP] = { 400, TEXT, NULL },
	[AE_VALIDATION] = { 422, TEXT, NULL },
	[AE_UNSUPPORTED_MEDIA_TYPE] = { 415, TEXT,
					"Expected a request with Content-Type: application/json" },
	[AE_BODY_TOO_LARGE] = { 413, TEXT, NULL },
	[AE_HEADERS_TOO_LARGE] = { 431, TEXT, NULL },
	[AE_NOT_IMPLEMENTED] = { 501, TEXT, NULL },
	[AE_ACCOUNT_DISABLED] = { 403, JSON_ERROR, "This account is disabled" },
	[AE_INTERNAL] = { 500, JSON_ERROR, "Internal server error" },
};

int mig_error(struct req *r, unsigned status, const char *msg)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "error", json_object_new_string(msg));
	return http_reply_json(r, status, o);
}

int mig_error_writer(struct req *r, enum api_error e, const char *msg, json_object *fields,
		    json_object *extra)
{
	json_object_put(fields);
	json_object_put(extra);
	const struct api_error_def *d = api_error_get(e);
	const struct mig_error_def *m = (unsigned)e < AE__COUNT ? &table[e] : &table[AE_INTERNAL];
	unsigned status = m->status ? m->status : d->status;
	const char *text = m->message ? m->message : msg ? msg : d->message;
	switch (m->shape) {
	case EMPTY:
		return http_reply_bytes(r, status, NULL, "", 0);
	case TEXT:
		return http_reply_bytes(r, status, "text/plain; charset=utf-8", text, strlen(text));
	case JSON_ERROR:
	default:
		return mig_error(r, status, text);
	}
}

int mig_core_error(struct req *r, int err, int retry_after)
{
	if (err < 0)
		err = -err;
	if (err == ERR_RATE && retry_after > 0) {
		char ra[24], msg[96];
		snprintf(ra, sizeof ra, "%d", retry_after);
		http_add_header(r, "Retry-After", ra);
		snprintf(msg, sizeof msg, "Too many attempts; try again in %d seconds", retry_after);
		return mig_error(r, 429, msg);
	}
	/* the native mapping picks the entry; machine failures are logged there */
	return reply_core_error(r, -err, NULL, retry_after);
}

const char *mig_field(struct req *r, json_object *obj, const char *key)
{
	json_object *v = NULL;
	char msg[160];
	if (!json_object_is_type(obj, json_type_object)) {
		snprintf(msg, sizeof msg, "Failed to deserialize the JSON body: expected an object");
	} else if (!json_object_object_get_ex(obj, key, &v) || !v) {
		snprintf(msg, sizeof msg, "Failed to deserialize the JSON body: missing field `%s`",
			 key);
	} else if (!json_object_is_type(v, json_type_string)) {
		snprintf(msg, sizeof msg,
			 "Failed to deserialize the JSON body: `%s` must be a string", key);
	} else {
		struct verr ve = { 0 };
		const char *s = jmember_str(obj, key, key, &ve);
		if (s)
			return s;
		snprintf(msg, sizeof msg,
			 "Failed to deserialize the JSON body: `%s` must not contain NUL", key);
	}
	http_reply_bytes(r, 422, "text/plain; charset=utf-8", msg, strlen(msg));
	return NULL;
}

json_object *mig_time(int64_t ms)
{
	char t[CLOCK_RFC3339_LEN];
	clock_format_rfc3339(ms, t);
	/* no fraction when it is zero, as chrono writes it */
	size_t n = strlen(t);
	if (n > 5 && ms % 1000 == 0 && t[n - 5] == '.') {
		t[n - 5] = 'Z';
		t[n - 4] = '\0';
	}
	return json_object_new_string(t);
}
