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

const struct principal *auth_or_reply(struct req *r)
{
	if (r->auth)
		return r->auth; /* the dispatch step authenticated it */
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
	if (e < 0) {
		reply_core_error(r, e, NULL, 0);
		return NULL;
	}
	r->auth = p;
	return p;
}

int app_check_route_or_reply(struct req *r)
{
	unsigned f = r->route->flags;
	if (f & ROUTE_PUBLIC)
		return 0;
	const struct principal *p = (f & ROUTE_ADMIN) ? admin_or_reply(r) : auth_or_reply(r);
	if (!p)
		return -1;
	if (!(f & ROUTE_SPACE))
		return 0;
	struct space *sp = arena_alloc(&r->arena, sizeof *sp);
	if (!sp) {
		http_reply_error(r, AE_INTERNAL, NULL, NULL);
		return -1;
	}
	enum space_need need = (f & ROUTE_SPACE_MANAGE) ? SPACE_MANAGE
			       : (f & ROUTE_SPACE_WRITE) ? SPACE_WRITE
							  : SPACE_READ;
	int e = sync_space_for(core_of(r), p, http_param(r, "space"), need, sp);
	if (e < 0) {
		reply_core_error(r, e, NULL, 0);
		return -1;
	}
	r->space = sp;
	return 0;
}

int app_recheck_route_or_reply(struct req *r)
{
	r->auth = NULL;
	r->space = NULL;
	return app_check_route_or_reply(r);
}

const struct principal *admin_or_reply(struct req *r)
{
	const struct principal *p = auth_or_reply(r);
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

bool object_or_reply(struct req *r, bool allow_empty)
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
	return reply_core_error_ext(r, err, ve, retry_after, NULL);
}

int reply_core_error_ext(struct req *r, int err, const struct verr *ve, int retry_after,
			 json_object *extra)
{
	struct api_error_map m = api_error_of(err);
	const struct api_error_def *d = api_error_get(m.ae);
	const char *msg = m.message;
	if (ve && ve->detail[0])
		msg = ve->detail;
	else if ((d->flags & AEF_SENTENCE) && ve && ve->n)
		msg = ve->e[0].msg;
	json_object *fields = NULL;
	if (d->flags & AEF_FIELDS) {
		fields = json_object_new_object();
		for (int i = 0; ve && i < ve->n; i++)
			json_object_object_add(fields, ve->e[i].field,
					       json_object_new_string(ve->e[i].msg));
	}
	/* RFC 6750's error attribute speaks of the bearer token the request carried; a
	 * refresh token in a body is not one */
	if ((err == -ERR_TOKEN_INVALID || err == -ERR_TOKEN_EXPIRED) && bearer_token(r))
		http_add_header(r, "WWW-Authenticate", "Bearer realm=\"cairn\", error=\"invalid_token\"");
	else if (d->flags & AEF_CHALLENGE)
		http_add_header(r, "WWW-Authenticate", "Bearer realm=\"cairn\"");
	/* a moment's contention (a blob being collected, the database held by a backup) */
	if (err == -ERR_BUSY || err == -ERR_LOCKED)
		http_add_header(r, "Retry-After", "1");
	if (err == -ERR_RATE) {
		char s[16];
		snprintf(s, sizeof s, "%d", retry_after > 0 ? retry_after : 1);
		http_add_header(r, "Retry-After", s);
	}
	if (m.ae == AE_INTERNAL)
		log_req(LOG_ERROR, r->id, "%s %s failed: %s", r->method_str, r->path,
			core_err_str(err));
	return http_reply_error_ext(r, m.ae, msg, fields, extra);
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
	struct verr ve = { 0 };
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
	if (e == 0)
		snprintf(ve.detail, sizeof ve.detail, "%s", b.ptr);
	buf_free(&b);
	json_object *extra = json_object_new_object();
	json_object *arr = json_object_new_array();
	for (int i = 0; i < o->n; i++) {
		json_object *s = json_object_new_object();
		json_object_object_add(s, "id", json_object_new_int64(o->v[i].id));
		json_object_object_add(s, "name", json_object_new_string(o->v[i].name));
		json_object_array_add(arr, s);
	}
	json_object_object_add(extra, "spaces", arr);
	json_object_object_add(extra, "spaces_total", json_object_new_int(o->total));
	return reply_core_error_ext(r, -ERR_LAST_OWNER, &ve, 0, extra);
}

/* The caller and the space named in the path, as the dispatch step checked them. */
const struct principal *space_or_reply(struct req *r, struct space *sp)
{
	if (!r->space && app_check_route_or_reply(r) < 0)
		return NULL;
	if (!r->space) { /* a route that declares no space: a bug in the table */
		http_reply_error(r, AE_INTERNAL, NULL, NULL);
		return NULL;
	}
	*sp = *(const struct space *)r->space;
	return r->auth;
}
