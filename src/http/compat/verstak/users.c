/* Verstak's user JSON API on Cairn's accounts: register (in verstak.realm, under its
 * sign-up policy, sending the confirmation mail its server never sent from this API),
 * confirm with the mailed token, login (a Cairn session), forgot (mailing the reset
 * link), reset with the mailed token, and the user's paired devices. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../core/accounts.h"
#include "../../../core/errors.h"
#include "../../../core/sync.h"
#include "../../../util/clock.h"
#include "../../helpers.h"
#include "verstak.h"

static const char *realm_of(struct req *r)
{
	return verstak_cfg(((struct app *)r->app)->cfg)->realm;
}

/* Its password rule, checked before Cairn's (the same bounds below; Cairn allows longer
 * passwords than its 256 bytes): the exact texts its clients show. */
static bool password_or_reply(struct req *r, const char *pw)
{
	if (strlen(pw) < 8) {
		vk_error(r, 400, "invalid_request", "PASSWORD_TOO_SHORT");
		return false;
	}
	if (strlen(pw) > 256) {
		vk_error(r, 400, "invalid_request", "PASSWORD_TOO_LONG");
		return false;
	}
	return true;
}

int vk_register(struct req *r)
{
	json_object *b = vk_body_or_reply(r);
	if (!b)
		return 0;
	const char *user = vk_str(r, b, "username"), *email = user ? vk_str(r, b, "email") : NULL;
	const char *pw = email ? vk_str(r, b, "password") : NULL;
	if (!pw)
		return 0;
	if (!*user || !*email || !*pw)
		return vk_error(r, 400, "invalid_request", "username, email and password required");
	struct verr ve = { 0 };
	if (strchr(email, '\r') || strchr(email, '\n') || !check_email(&ve, "email", email, true))
		return vk_error(r, 400, "invalid_request", "invalid email");
	if (!password_or_reply(r, pw))
		return 0;
	/* its server stored the address lower-cased */
	char mail[EMAIL_MAX + 1];
	snprintf(mail, sizeof mail, "%s", email);
	for (char *p = mail; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	struct register_in in = { .username = user, .password = pw, .email = mail,
				  .realm = realm_of(r), .addr = http_client_addr(r) };
	struct user u;
	struct realm rl;
	int retry = 0;
	int e = acct_register(core_of(r), &in, &u, &rl, &ve, &retry);
	if (e == -ERR_RATE)
		return vk_rate_reply(r, retry);
	if (e == -ERR_USERNAME_TAKEN || e == -ERR_EMAIL_TAKEN || e == -ERR_EXISTS)
		return vk_error(r, 409, "conflict", "username or email already taken");
	if (e == -ERR_SIGNUP_CLOSED)
		return vk_error(r, 403, "forbidden", "registration is disabled");
	if (e == -ERR_INVALID) {
		char msg[200];
		snprintf(msg, sizeof msg, "%s %s", ve.n ? ve.e[0].field : "request",
			 ve.n ? ve.e[0].msg : "is invalid");
		return vk_error(r, 400, "invalid_request", msg);
	}
	if (e < 0)
		return vk_error(r, 500, "internal_error", "internal error");
	/* a realm that does not ask for confirmation has nothing to send */
	return vk_status(r, u.email_confirmed ? "registered" : "confirmation_sent");
}

/* A mailed token's failures, as its server worded them. */
static int token_error(struct req *r, int e, int retry)
{
	if (e == -ERR_RATE)
		return vk_rate_reply(r, retry);
	if (e == -ERR_CODE_EXPIRED)
		return vk_error(r, 400, "invalid_request", "token expired");
	if (e == -ERR_CODE_INVALID || e == -ERR_NOT_FOUND || e == -ERR_INVALID)
		return vk_error(r, 400, "invalid_request", "invalid or expired token");
	return vk_error(r, 500, "internal_error", "internal error");
}

int vk_confirm(struct req *r)
{
	json_object *b = vk_body_or_reply(r);
	if (!b)
		return 0;
	const char *token = vk_str(r, b, "token");
	if (!token)
		return 0;
	if (!*token)
		return vk_error(r, 400, "invalid_request", "token required");
	int retry = 0;
	int e = acct_confirm_token(core_of(r), token, http_client_addr(r), &retry);
	if (e < 0)
		return token_error(r, e, retry);
	return vk_status(r, "confirmed");
}

int vk_login(struct req *r)
{
	json_object *b = vk_body_or_reply(r);
	if (!b)
		return 0;
	const char *user = vk_str(r, b, "username"), *pw = user ? vk_str(r, b, "password") : NULL;
	if (!pw)
		return 0;
	if (!*user || !*pw)
		return vk_error(r, 400, "invalid_request", "username and password required");
	struct login_in in = { .login = user, .password = pw, .realm = realm_of(r),
			       .addr = http_client_addr(r), .device_name = "Verstak web session" };
	struct session s;
	struct verr ve = { 0 };
	int retry = 0;
	int e = acct_login(core_of(r), &in, &s, &ve, &retry);
	if (e == -ERR_RATE)
		return vk_rate_reply(r, retry);
	if (e == -ERR_BAD_CREDENTIALS || e == -ERR_INVALID)
		return vk_error(r, 401, "unauthorized", "invalid credentials");
	if (e == -ERR_DISABLED)
		return vk_error(r, 403, "forbidden", "account blocked");
	if (e == -ERR_UNCONFIRMED)
		return vk_error(r, 403, "forbidden", "email not confirmed");
	if (e < 0)
		return vk_error(r, 500, "internal_error", "internal error");
	char uid[24];
	snprintf(uid, sizeof uid, "%lld", (long long)s.p.user.id);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "token", json_object_new_string(s.access));
	json_object_object_add(o, "user_id", json_object_new_string(uid));
	return vk_reply(r, 200, o);
}

int vk_forgot(struct req *r)
{
	json_object *b = vk_body_or_reply(r);
	if (!b)
		return 0;
	const char *email = vk_str(r, b, "email");
	if (!email)
		return 0;
	if (!*email)
		return vk_error(r, 400, "invalid_request", "email required");
	struct verr ve = { 0 };
	int retry = 0;
	int e = acct_forgot(core_of(r), email, realm_of(r), http_client_addr(r), &ve, &retry);
	if (e == -ERR_RATE)
		return vk_rate_reply(r, retry);
	if (e < 0 && e != -ERR_INVALID && e != -ERR_NOT_FOUND)
		return vk_error(r, 500, "internal_error", "internal error");
	return vk_status(r, "if email exists, reset link sent");
}

int vk_reset(struct req *r)
{
	json_object *b = vk_body_or_reply(r);
	if (!b)
		return 0;
	const char *token = vk_str(r, b, "token");
	const char *pw = token ? vk_str(r, b, "new_password") : NULL;
	if (!pw)
		return 0;
	if (!*token || !*pw)
		return vk_error(r, 400, "invalid_request", "token and new_password required");
	if (!password_or_reply(r, pw))
		return 0;
	struct reset_in in = { .realm = realm_of(r), .token = token, .new_password = pw,
			       .addr = http_client_addr(r) };
	struct verr ve = { 0 };
	int retry = 0;
	int e = acct_reset(core_of(r), &in, &ve, &retry);
	if (e < 0)
		return token_error(r, e, retry);
	return vk_status(r, "password reset");
}

/* --- the user's devices, by session --- */

/* The session's user: the `user_session` cookie (as its web pages sent it) or a bearer
 * token; NULL after answering 302 to the login page, as its server did. */
static const struct principal *session_or_redirect(struct req *r, bool *ret_cookie)
{
	const char *token = bearer_token(r);
	*ret_cookie = false;
	char buf[TOKEN_LEN + 1] = "";
	const char *ck = http_header(r, "Cookie");
	if (!token && ck) {
		for (const char *p = ck; p && *p;) {
			while (*p == ' ' || *p == ';')
				p++;
			if (!strncmp(p, "user_session=", 13)) {
				size_t n = strcspn(p + 13, "; ");
				if (n < sizeof buf) {
					memcpy(buf, p + 13, n);
					buf[n] = '\0';
					token = buf;
					*ret_cookie = true;
				}
				break;
			}
			p = strchr(p, ';');
		}
	}
	struct principal *p = arena_alloc(&r->arena, sizeof *p);
	if (!p || !token || acct_authenticate(core_of(r), token, p) < 0) {
		char loc[160];
		snprintf(loc, sizeof loc, "%s/login", r->mount ? r->mount->prefix : "");
		http_add_header(r, "Location", loc);
		http_reply_bytes(r, 302, NULL, "", 0);
		return NULL;
	}
	r->auth = p;
	return p;
}

struct dev_ids {
	int64_t *v;
	int n, cap;
};

static int keep_id(void *arg, const struct device *d)
{
	struct dev_ids *x = arg;
	if (x->n == x->cap) {
		int cap = x->cap ? 2 * x->cap : 16;
		int64_t *v = realloc(x->v, sizeof *v * (size_t)cap);
		if (!v)
			return -1;
		x->v = v;
		x->cap = cap;
	}
	x->v[x->n++] = d->id;
	return 0;
}

int vk_user_devices(struct req *r)
{
	bool cookie;
	const struct principal *p = session_or_redirect(r, &cookie);
	if (!p)
		return 0;
	struct core *c = core_of(r);
	struct dev_ids ids = { 0 };
	if (acct_devices_list(c, p->user.id, keep_id, &ids) < 0) {
		free(ids.v);
		return vk_error(r, 500, "internal_error", "internal error");
	}
	json_object *list = NULL;
	/* newest first, as its server ordered them; only the devices paired by Verstak */
	for (int i = ids.n - 1; i >= 0; i--) {
		struct app_client cl;
		struct device d;
		if (sync_client_by_device(c, ids.v[i], &cl) < 0 || !*cl.scope ||
		    acct_device_get(c, p->user.id, ids.v[i], &d) < 0)
			continue;
		if (!list)
			list = json_object_new_array();
		json_object *o = json_object_new_object();
		json_object_object_add(o, "client_version", json_object_new_string(d.client_version));
		json_object_object_add(o, "created_at", vk_time(d.created_ms));
		json_object_object_add(o, "id", json_object_new_string(cl.client_id));
		json_object_object_add(o, "last_seen", vk_time(d.last_seen_ms));
		json_object_object_add(o, "name", json_object_new_string(d.name));
		json_object_object_add(o, "revoked_at", vk_time(d.revoked_ms));
		json_object_array_add(list, o);
	}
	free(ids.v);
	if (!list) /* none: null, as Go wrote an empty slice */
		return http_reply_bytes(r, 200, "application/json", "null\n", 5);
	return vk_reply(r, 200, list);
}

int vk_user_device_revoke(struct req *r)
{
	bool cookie;
	const struct principal *p = session_or_redirect(r, &cookie);
	if (!p)
		return 0;
	/* a cookie is sent by the browser on its own: a revocation by cookie needs the CSRF
	 * check its web pages did, which comes with Cairn's web console; a bearer token
	 * (sent only on purpose) is enough */
	if (cookie)
		return vk_error(r, 403, "csrf_invalid", "invalid CSRF token");
	json_object *b = vk_body_or_reply(r);
	if (!b)
		return 0;
	const char *pw = vk_str(r, b, "password");
	if (!pw)
		return 0;
	if (!*pw)
		return vk_error(r, 400, "invalid_request", "password required");
	return vk_revoke_with_password(r, p, http_param(r, "id"), pw);
}
