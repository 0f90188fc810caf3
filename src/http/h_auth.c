/* /api/v1/auth/...: register, login, refresh, logout, confirm, forgot, reset. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "../core/accounts.h"
#include "../util/err.h"
#include "app.h"
#include "handlers.h"
#include "helpers.h"


static json_object *session_json(const struct session *s)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "access_token", json_object_new_string(s->access));
	json_object_object_add(o, "refresh_token", json_object_new_string(s->refresh));
	json_object_object_add(o, "token_type", json_object_new_string("Bearer"));
	json_object_object_add(o, "expires_in", json_object_new_int64(s->expires_in));
	json_object_object_add(o, "user", json_user(&s->p.user, s->p.realm.name));
	json_object_object_add(o, "device", json_device(&s->p.device, s->p.device.id));
	return o;
}

int h_register(struct req *r)
{
	if (!need_object(r, false))
		return 0;
	struct verr ve = { 0 };
	struct register_in in = {
		.username = jstr(r, "username", &ve),
		.password = jstr(r, "password", &ve),
		.email = jstr(r, "email", &ve),
		.realm = jstr(r, "realm", &ve),
		.name = jstr(r, "name", &ve),
		.addr = http_client_addr(r),
	};
	if (ve.n)
		return reply_core_error(r, -ERR_INVALID, &ve, 0);
	struct user u;
	struct realm rl;
	int retry = 0;
	int e = acct_register(core_of(r), &in, &u, &rl, &ve, &retry);
	if (e < 0)
		return reply_core_error(r, e, &ve, retry);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "user", json_user(&u, rl.name));
	json_object_object_add(o, "confirmation_required", json_object_new_boolean(!u.email_confirmed));
	return http_reply_json(r, 201, o);
}

int h_login(struct req *r)
{
	if (!need_object(r, true))
		return 0;
	struct verr ve = { 0 };
	struct login_in in = { .addr = http_client_addr(r) };
	in.login = jstr(r, "username", &ve);
	if (!in.login)
		in.login = jstr(r, "email", &ve);
	in.password = jstr(r, "password", &ve);
	in.realm = jstr(r, "realm", &ve);
	in.device_id = jint(r, "device_id", 0, &ve);
	json_object *dev = NULL;
	if (r->json && json_object_object_get_ex(r->json, "device", &dev) && dev &&
	    !json_object_is_type(dev, json_type_object)) {
		verr_add(&ve, "device", "must be an object");
		dev = NULL;
	}
	in.device_name = jmember_str(dev, "name", "device.name", &ve);
	in.platform = jmember_str(dev, "platform", "device.platform", &ve);
	in.client_version = jmember_str(dev, "client_version", "device.client_version", &ve);

	/* HTTP Basic credentials stand in for username and password. */
	char basic[1400];
	const char *auth = http_header(r, "Authorization");
	if (auth && strncasecmp(auth, "Basic ", 6) == 0) {
		size_t len = 0;
		const char *b64 = auth + 6;
		if (strlen(b64) > 1800 ||
		    sodium_base642bin((unsigned char *)basic, sizeof basic - 1, b64, strlen(b64), NULL,
				      &len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0) {
			verr_add(&ve, "Authorization", "is not valid Basic credentials");
		} else {
			basic[len] = '\0';
			char *colon = strchr(basic, ':');
			if (!colon || strlen(basic) != len) {
				verr_add(&ve, "Authorization", "is not valid Basic credentials");
			} else {
				*colon = '\0';
				in.login = basic;
				in.password = colon + 1;
			}
		}
	}
	if (in.device_id < 0)
		verr_add(&ve, "device_id", "must be a device id");
	if (ve.n)
		return reply_core_error(r, -ERR_INVALID, &ve, 0);
	struct session s;
	int retry = 0;
	int e = acct_login(core_of(r), &in, &s, &ve, &retry);
	sodium_memzero(basic, sizeof basic);
	if (e < 0)
		return reply_core_error(r, e, &ve, retry);
	http_add_header(r, "Cache-Control", "no-store");
	return http_reply_json(r, 200, session_json(&s));
}

int h_refresh(struct req *r)
{
	if (!need_object(r, false))
		return 0;
	struct verr ve = { 0 };
	const char *tok = jstr(r, "refresh_token", &ve);
	if (!tok)
		verr_add(&ve, "refresh_token", "is required");
	if (ve.n)
		return reply_core_error(r, -ERR_INVALID, &ve, 0);
	struct session s;
	int retry = 0;
	int e = acct_refresh(core_of(r), tok, http_client_addr(r), &s, &retry);
	if (e == -ERR_AUTH) {
		http_add_header(r, "WWW-Authenticate", "Bearer realm=\"cairn\"");
		return http_reply_error(r, AE_INVALID_TOKEN, NULL, NULL);
	}
	if (e < 0)
		return reply_core_error(r, e, &ve, retry);
	http_add_header(r, "Cache-Control", "no-store");
	return http_reply_json(r, 200, session_json(&s));
}

int h_logout(struct req *r)
{
	const struct principal *p = need_auth(r);
	if (!p)
		return 0;
	int e = acct_logout(core_of(r), p);
	if (e < 0)
		return reply_core_error(r, e, NULL, 0);
	return http_reply_bytes(r, 204, NULL, "", 0);
}

static bool wants_html(struct req *r)
{
	const char *a = http_header(r, "Accept");
	return a && strstr(a, "text/html");
}

static int confirm_page(struct req *r, unsigned status, const char *title, const char *text)
{
	char page[1024];
	int n = snprintf(page, sizeof page,
			 "<!doctype html><html lang=en><meta charset=utf-8><title>%s</title>"
			 "<body style=\"font-family:sans-serif;max-width:32em;margin:4em auto\">"
			 "<h1>%s</h1><p>%s</p></body></html>",
			 title, title, text);
	return http_reply_bytes(r, status, "text/html; charset=utf-8", page, (size_t)n);
}

int h_confirm(struct req *r)
{
	struct verr ve = { 0 };
	const char *token = NULL, *login = NULL, *realm = NULL, *code = NULL;
	if (r->method == HM_GET || r->method == HM_HEAD) {
		token = http_query(r, "token");
		if (!token)
			verr_add(&ve, "token", "is required");
	} else {
		if (!need_object(r, false))
			return 0;
		token = jstr(r, "token", &ve);
		login = jstr(r, "username", &ve);
		if (!login)
			login = jstr(r, "email", &ve);
		realm = jstr(r, "realm", &ve);
		code = jstr(r, "code", &ve);
		if (!token && !code)
			verr_add(&ve, "token", "is required (or username and code)");
	}
	if (ve.n)
		return reply_core_error(r, -ERR_INVALID, &ve, 0);
	int retry = 0;
	int e = token ? acct_confirm_token(core_of(r), token, http_client_addr(r), &retry)
		      : acct_confirm_code(core_of(r), login, realm, code, http_client_addr(r), &ve,
					  &retry);
	bool html = wants_html(r) && r->method != HM_POST;
	if (e == 0) {
		if (html)
			return confirm_page(r, 200, "Address confirmed",
					    "Your e-mail address is confirmed. You can sign in now.");
		json_object *o = json_object_new_object();
		json_object_object_add(o, "confirmed", json_object_new_boolean(1));
		return http_reply_json(r, 200, o);
	}
	if (e == -ERR_NOT_FOUND || e == -ERR_EXPIRED) {
		if (html)
			return confirm_page(r, 400, "This link does not work",
					    "The link is wrong, expired or already used.");
		return http_reply_error(r, e == -ERR_EXPIRED ? AE_CODE_EXPIRED : AE_INVALID_CODE, NULL,
					NULL);
	}
	return reply_core_error(r, e, &ve, retry);
}

int h_forgot(struct req *r)
{
	if (!need_object(r, false))
		return 0;
	struct verr ve = { 0 };
	const char *login = jstr(r, "username", &ve);
	if (!login)
		login = jstr(r, "email", &ve);
	const char *realm = jstr(r, "realm", &ve);
	if (ve.n)
		return reply_core_error(r, -ERR_INVALID, &ve, 0);
	int retry = 0;
	int e = acct_forgot(core_of(r), login, realm, http_client_addr(r), &ve, &retry);
	if (e < 0)
		return reply_core_error(r, e, &ve, retry);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string("accepted"));
	return http_reply_json(r, 202, o);
}

int h_reset(struct req *r)
{
	if (!need_object(r, false))
		return 0;
	struct verr ve = { 0 };
	struct reset_in in = { .addr = http_client_addr(r) };
	in.login = jstr(r, "username", &ve);
	if (!in.login)
		in.login = jstr(r, "email", &ve);
	in.realm = jstr(r, "realm", &ve);
	in.code = jstr(r, "code", &ve);
	in.token = jstr(r, "token", &ve);
	in.new_password = jstr(r, "new_password", &ve);
	if (ve.n)
		return reply_core_error(r, -ERR_INVALID, &ve, 0);
	int retry = 0;
	int e = acct_reset(core_of(r), &in, &ve, &retry);
	if (e == -ERR_NOT_FOUND)
		return http_reply_error(r, AE_INVALID_CODE, NULL, NULL);
	if (e < 0)
		return reply_core_error(r, e, &ve, retry);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "reset", json_object_new_boolean(1));
	return http_reply_json(r, 200, o);
}
