#include "helpers.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../core/accounts.h"
#include "../core/sync.h"
#include "../util/clock.h"
#include "../util/err.h"
#include "../util/jtext.h"
#include "../util/log.h"
#include "app.h"

static int reply_401(struct req *r, enum api_error e)
{
	http_add_header(r, "WWW-Authenticate", "Bearer realm=\"cairn\"");
	return http_reply_error(r, e, NULL, NULL);
}

const char *bearer_token(struct req *r)
{
	const char *h = http_header(r, "Authorization");
	if (!h || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	const char *tok = h + 7;
	while (*tok == ' ')
		tok++;
	return tok;
}

const struct principal *need_auth(struct req *r)
{
	if (r->auth)
		return r->auth; /* app_pre_body authenticated it */
	struct app *app = r->app;
	const char *tok = bearer_token(r);
	if (!tok) {
		reply_401(r, AE_UNAUTHORIZED);
		return NULL;
	}
	struct principal *p = arena_alloc(&r->arena, sizeof *p);
	if (!p) {
		http_reply_error(r, AE_INTERNAL, NULL, NULL);
		return NULL;
	}
	int e = acct_authenticate(app->core, tok, p);
	if (e == -ERR_AUTH || e == -ERR_EXPIRED) {
		http_add_header(r, "WWW-Authenticate", "Bearer realm=\"cairn\", error=\"invalid_token\"");
		http_reply_error(r, AE_INVALID_TOKEN,
				 e == -ERR_EXPIRED ? "The token has expired: refresh it." : NULL, NULL);
		return NULL;
	}
	if (e == -ERR_DISABLED) {
		http_reply_error(r, AE_ACCOUNT_DISABLED, NULL, NULL);
		return NULL;
	}
	if (e < 0) {
		reply_core_error(r, e, NULL, 0);
		return NULL;
	}
	r->auth = p;
	return p;
}

int app_pre_body(struct req *r)
{
	if (r->route->flags & ROUTE_PUBLIC)
		return 0;
	return need_auth(r) ? 0 : -1;
}

const struct principal *need_admin(struct req *r)
{
	const struct principal *p = need_auth(r);
	if (p && !p->user.is_admin) {
		http_reply_error(r, AE_ADMIN_REQUIRED, NULL, NULL);
		return NULL;
	}
	return p;
}

static json_object *member(struct req *r, const char *key)
{
	json_object *v = NULL;
	if (r->json && json_object_is_type(r->json, json_type_object))
		json_object_object_get_ex(r->json, key, &v);
	return v;
}

const char *jmember_str(json_object *obj, const char *key, const char *field, struct verr *ve)
{
	json_object *v = NULL;
	if (!json_object_is_type(obj, json_type_object) || !json_object_object_get_ex(obj, key, &v) ||
	    !v)
		return NULL;
	if (!json_object_is_type(v, json_type_string)) {
		verr_add(ve, field, "must be a string");
		return NULL;
	}
	const char *s = jtext_string(v);
	if (!s)
		verr_add(ve, field, "must not contain NUL characters");
	return s;
}

const char *jstr(struct req *r, const char *key, struct verr *ve)
{
	return jmember_str(r->json, key, key, ve);
}

int64_t jint(struct req *r, const char *key, int64_t def, struct verr *ve)
{
	json_object *v = member(r, key);
	if (!v)
		return def;
	if (!json_object_is_type(v, json_type_int)) {
		verr_add(ve, key, "must be an integer");
		return def;
	}
	return json_object_get_int64(v);
}

int jbool(struct req *r, const char *key, struct verr *ve)
{
	json_object *v = member(r, key);
	if (!v)
		return -1;
	if (!json_object_is_type(v, json_type_boolean)) {
		verr_add(ve, key, "must be true or false");
		return -1;
	}
	return json_object_get_boolean(v) ? 1 : 0;
}

bool need_object(struct req *r, bool allow_empty)
{
	if (!r->json && allow_empty)
		return true;
	if (r->json && json_object_is_type(r->json, json_type_object))
		return true;
	http_reply_error(r, AE_BAD_REQUEST,
			 r->json ? "The body must be a JSON object." : "A JSON object body is required.",
			 NULL);
	return false;
}

int reply_core_error(struct req *r, int err, const struct verr *ve, int retry_after)
{
	switch (-err) {
	case ERR_INVALID:
	case ERR_MISSING:
	case ERR_CLOCK_SKEW: {
		json_object *f = json_object_new_object();
		for (int i = 0; ve && i < ve->n; i++)
			json_object_object_add(f, ve->e[i].field, json_object_new_string(ve->e[i].msg));
		enum api_error ae = err == -ERR_MISSING	   ? AE_BLOB_MISSING
				    : err == -ERR_CLOCK_SKEW ? AE_CLOCK_SKEW
							     : AE_VALIDATION;
		return http_reply_error(r, ae, NULL, f);
	}
	case ERR_EXISTS: {
		const char *field = ve && ve->n ? ve->e[0].field : "";
		enum api_error e = !strcmp(field, "email")      ? AE_EMAIL_TAKEN
				   : !strcmp(field, "username") ? AE_USERNAME_TAKEN
								: AE_NAME_TAKEN;
		return http_reply_error(r, e, NULL, NULL);
	}
	case ERR_AUTH:
		return reply_401(r, AE_INVALID_CREDENTIALS);
	case ERR_UNCONFIRMED:
		return http_reply_error(r, AE_EMAIL_UNCONFIRMED, NULL, NULL);
	case ERR_DISABLED:
		return http_reply_error(r, AE_ACCOUNT_DISABLED, NULL, NULL);
	case ERR_CLOSED:
		return http_reply_error(r, AE_REGISTRATION_CLOSED, NULL, NULL);
	case ERR_EXPIRED:
		return http_reply_error(r, AE_CODE_EXPIRED, NULL, NULL);
	case ERR_RATE: {
		char s[16];
		snprintf(s, sizeof s, "%d", retry_after > 0 ? retry_after : 1);
		http_add_header(r, "Retry-After", s);
		return http_reply_error(r, AE_RATE_LIMITED, NULL, NULL);
	}
	case ERR_NOT_FOUND:
		return http_reply_error(r, AE_NOT_FOUND, NULL, NULL);
	case ERR_DENIED:
		return http_reply_error(r, AE_FORBIDDEN, NULL, NULL);
	case ERR_CONFLICT:
		return http_reply_error(r, AE_CONFLICT, NULL, NULL);
	case ERR_BUSY:
		return http_reply_error(r, AE_UNAVAILABLE, NULL, NULL);
	case ERR_TOO_LARGE: /* the sentence, naming the limit's key, is the first entry */
		return http_reply_error(r, AE_BODY_TOO_LARGE, ve && ve->n ? ve->e[0].msg : NULL,
					NULL);
	default:
		log_req(LOG_ERROR, r->id, "%s %s failed: %s", r->method_str, r->path, err_str(err));
		return http_reply_error(r, AE_INTERNAL, NULL, NULL);
	}
}

int64_t param_id(struct req *r, const char *name)
{
	const char *s = http_param(r, name);
	if (!s || !*s || strlen(s) > 18)
		return 0;
	int64_t v = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return 0;
		v = v * 10 + (*s - '0');
	}
	return v;
}

json_object *json_time(int64_t ms)
{
	if (!ms)
		return NULL;
	char t[CLOCK_RFC3339_LEN];
	clock_format_rfc3339(ms, t);
	return json_object_new_string(t);
}

json_object *json_user(const struct user *u, const char *realm_name)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(u->id));
	json_object_object_add(o, "username", json_object_new_string(u->username));
	json_object_object_add(o, "email", u->email[0] ? json_object_new_string(u->email) : NULL);
	json_object_object_add(o, "name", json_object_new_string(u->name));
	if (realm_name)
		json_object_object_add(o, "realm", json_object_new_string(realm_name));
	json_object_object_add(o, "is_admin", json_object_new_boolean(u->is_admin));
	json_object_object_add(o, "disabled", json_object_new_boolean(u->disabled));
	json_object_object_add(o, "email_confirmed", json_object_new_boolean(u->email_confirmed));
	json_object_object_add(o, "has_public_key", json_object_new_boolean(u->has_public_key));
	json_object_object_add(o, "created_at", json_time(u->created_ms));
	return o;
}

json_object *json_device(const struct device *d, int64_t current_device_id)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(d->id));
	json_object_object_add(o, "name", json_object_new_string(d->name));
	json_object_object_add(o, "kind",
			       json_object_new_string(d->kind == DEVICE_TOKEN ? "token" : "session"));
	json_object_object_add(o, "platform", json_object_new_string(d->platform));
	json_object_object_add(o, "client_version", json_object_new_string(d->client_version));
	json_object_object_add(o, "created_at", json_time(d->created_ms));
	json_object_object_add(o, "last_seen_at", json_time(d->last_seen_ms));
	json_object_object_add(o, "current", json_object_new_boolean(d->id == current_device_id));
	json_object_object_add(o, "revoked_at", json_time(d->revoked_ms));
	return o;
}

json_object *json_realm(const struct realm *rl)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(rl->name));
	json_object_object_add(o, "display_name", json_object_new_string(rl->display_name));
	json_object_object_add(o, "signup_open", json_object_new_boolean(rl->signup_open));
	json_object_object_add(o, "confirm_email", json_object_new_boolean(rl->confirm_email));
	json_object_object_add(o, "access_ttl_s", json_object_new_int64(rl->access_ttl_s));
	json_object_object_add(o, "refresh_ttl_s", json_object_new_int64(rl->refresh_ttl_s));
	return o;
}

bool http_query_int(struct req *r, const char *name, int64_t *v, int64_t lo, int64_t hi,
		      struct verr *ve)
{
	const char *s = http_query(r, name);
	if (!s)
		return true;
	char *end;
	errno = 0;
	long long x = strtoll(s, &end, 10);
	if (!*s || *end || errno || x < lo || x > hi || (*s < '0' || *s > '9')) {
		verr_add(ve, name, "must be a whole number from %lld to %lld", (long long)lo,
			 (long long)hi);
		return false;
	}
	*v = x;
	return true;
}

int reply_orphaned(struct req *r, const struct orphaned *o)
{
	struct buf b;
	buf_init(&b, 4096);
	buf_puts(&b, "The account is the last owner of ");
	for (int i = 0; i < o->n; i++)
		buf_printf(&b, "%s\"%s\" (space %lld)", i ? ", " : "", o->v[i].name,
			   (long long)o->v[i].id);
	if (o->total > o->n)
		buf_printf(&b, " and %d more shared spaces", o->total - o->n);
	int e = buf_puts(&b, ", which other members still use: make one of them an owner of "
			     "each, or delete the spaces, first.");
	json_object *o2 = json_object_new_object();
	json_object_object_add(o2, "code", json_object_new_string("last_owner"));
	json_object_object_add(o2, "error", json_object_new_string(e == 0 ? b.ptr : "last owner"));
	json_object *arr = json_object_new_array();
	for (int i = 0; i < o->n; i++) {
		json_object *s = json_object_new_object();
		json_object_object_add(s, "id", json_object_new_int64(o->v[i].id));
		json_object_object_add(s, "name", json_object_new_string(o->v[i].name));
		json_object_array_add(arr, s);
	}
	json_object_object_add(o2, "spaces", arr);
	json_object_object_add(o2, "spaces_total", json_object_new_int(o->total));
	buf_free(&b);
	return http_reply_json(r, 409, o2);
}

/* The caller and the space named in the path, or NULL after replying. */
const struct principal *space_of(struct req *r, struct space *sp)
{
	const struct principal *p = need_auth(r);
	if (!p)
		return NULL;
	int e = sync_space(core_of(r), p, http_param(r, "space"), sp);
	if (e < 0) {
		reply_core_error(r, e, NULL, 0);
		return NULL;
	}
	return p;
}
