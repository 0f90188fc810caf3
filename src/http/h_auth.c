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
	if (!object_or_reply(r, false))
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
	if (!object_or_reply(r, true))
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
	if (!object_or_reply(r, false))
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
	if (e < 0)
		return reply_core_error(r, e, &ve, retry);
	http_add_header(r, "Cache-Control", "no-store");
	return http_reply_json(r, 200, session_json(&s));
}

int h_logout(struct req *r)
{
	const struct principal *p = auth_or_reply(r);
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

/* Text into HTML, escaped (&, <, >, ", ') so that it can go anywhere in a page. */
static void put_html(struct buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': buf_puts(b, "&amp;"); break;
		case '<': buf_puts(b, "&lt;"); break;
		case '>': buf_puts(b, "&gt;"); break;
		case '"': buf_puts(b, "&quot;"); break;
		case '\'': buf_puts(b, "&#39;"); break;
		default: buf_append(b, s, 1);
		}
	}
}

/* The pages at the links in mails: small, static, no script. The policy lets the page
 * post its form to this server and nothing else; the token in the address stays out of
 * referrers and caches. title and text are plain text; form is trusted HTML or NULL. */
static int mail_page(struct req *r, unsigned status, const char *title, const char *text,
		     const char *form)
{
	struct buf b;
	buf_init(&b, 16384);
	buf_puts(&b, "<!doctype html><html lang=en><meta charset=utf-8>"
		     "<meta name=viewport content=\"width=device-width\"><title>");
	put_html(&b, title);
	buf_puts(&b, "</title><body style=\"font-family:sans-serif;max-width:32em;margin:4em "
		     "auto;padding:0 1em\"><h1>");
	put_html(&b, title);
	buf_puts(&b, "</h1><p id=message>");
	put_html(&b, text);
	buf_puts(&b, "</p>");
	if (form)
		buf_puts(&b, form);
	int e = buf_puts(&b, "</body></html>");
	http_add_header(r, "Content-Security-Policy",
			"default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
			"frame-ancestors 'none'; base-uri 'none'");
	http_add_header(r, "Referrer-Policy", "no-referrer");
	http_add_header(r, "Cache-Control", "no-store");
	http_add_header(r, "X-Frame-Options", "DENY");
	e = e < 0 ? http_reply_error(r, AE_INTERNAL, NULL, NULL)
		  : http_reply_bytes(r, status, "text/html; charset=utf-8", b.ptr, b.len);
	buf_free(&b);
	return e;
}

static int confirm_page(struct req *r, unsigned status, const char *title, const char *text)
{
	return mail_page(r, status, title, text, NULL);
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
		if (!object_or_reply(r, false))
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
	if (html && (e == -ERR_CODE_INVALID || e == -ERR_CODE_EXPIRED))
		return confirm_page(r, 400, "This link does not work",
				    "The link is wrong, expired or already used.");
	return reply_core_error(r, e, &ve, retry);
}

int h_forgot(struct req *r)
{
	if (!object_or_reply(r, false))
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

/* The form of the reset page, for a token already known to be of the right shape. */
static int reset_form_page(struct req *r, unsigned status, const char *title, const char *text,
			   const char *token)
{
	struct buf f;
	buf_init(&f, 4096);
	/* "reset" resolves to this same path wherever the server is mounted (public_url) */
	buf_puts(&f, "<form method=post action=reset><input type=hidden name=token value=\"");
	put_html(&f, token);
	buf_puts(&f, "\"><p><label>New password<br><input type=password name=new_password "
		     "id=new_password autocomplete=new-password required></label></p><p><label>"
		     "The same again<br><input type=password name=new_password_again "
		     "id=new_password_again autocomplete=new-password required></label></p><p>"
		     "<button type=submit>Set the password</button></p></form>");
	int e = f.ptr ? mail_page(r, status, title, text, f.ptr)
		      : http_reply_error(r, AE_INTERNAL, NULL, NULL);
	buf_free(&f);
	return e;
}

/* Tokens are ours (cer_ and URL-safe base64); anything else is no link of ours, and is
 * never echoed into a page. */
static bool token_shape(const char *t)
{
	size_t n = t ? strlen(t) : 0;
	if (n == 0 || n >= TOKEN_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-", t[i]))
			return false;
	return true;
}

static int rate_page(struct req *r, int retry)
{
	char s[24], text[128];
	snprintf(s, sizeof s, "%d", retry > 0 ? retry : 1);
	http_add_header(r, "Retry-After", s);
	snprintf(text, sizeof text, "Too many tries from here: wait %s seconds, then reload.", s);
	return mail_page(r, 429, "Too many tries", text, NULL);
}

/* GET at the mail's link: a page that sets the new password (its form posts back here);
 * the token is looked at, not used, so opening the link twice is harmless. */
static int reset_page(struct req *r)
{
	const char *token = http_query(r, "token");
	int retry = 0;
	int e = token_shape(token) ? acct_reset_link(core_of(r), token, http_client_addr(r), &retry)
				   : -ERR_CODE_INVALID;
	if (e == -ERR_RATE)
		return rate_page(r, retry);
	if (e == -ERR_CODE_INVALID || e == -ERR_CODE_EXPIRED)
		return mail_page(r, 400, "This link does not work",
				 "The link is wrong, expired (it works for 15 minutes) or already "
				 "used. Ask for a new one in your app.",
				 NULL);
	if (e < 0)
		return reply_core_error(r, e, NULL, 0);
	return reset_form_page(r, 200, "Choose a new password",
			       "Every device signed in to your account will be signed out.", token);
}

/* The reset page's form, posted: answered with a page. */
static int reset_form_posted(struct req *r)
{
	struct verr ve = { 0 };
	const char *token = jstr(r, "token", &ve);
	const char *pw = jstr(r, "new_password", &ve);
	const char *again = jstr(r, "new_password_again", &ve);
	if (!token_shape(token))
		return mail_page(r, 400, "This link does not work",
				 "The form did not come from a reset link. Ask for a new one in "
				 "your app.",
				 NULL);
	struct reset_in in = { .addr = http_client_addr(r), .token = token, .new_password = pw };
	int retry = 0;
	int e;
	if (!pw || !again || strcmp(pw, again) != 0) {
		/* the link first: a form that cannot work is not offered again */
		e = acct_reset_link(core_of(r), token, http_client_addr(r), &retry);
		if (e == 0)
			return reset_form_page(r, 400, "Choose a new password",
					       "The two passwords differ: type the same one twice.",
					       token);
	} else {
		e = acct_reset(core_of(r), &in, &ve, &retry);
	}
	if (e == 0)
		return mail_page(r, 200, "Password changed",
				 "Your new password is set, and every device was signed out: sign in "
				 "again with it.",
				 NULL);
	if (e == -ERR_RATE)
		return rate_page(r, retry);
	if (e == -ERR_CODE_INVALID || e == -ERR_CODE_EXPIRED)
		return mail_page(r, 400, "This link does not work",
				 "The link expired (it works for 15 minutes) or was already used. "
				 "Ask for a new one in your app.",
				 NULL);
	if (e == -ERR_INVALID && ve.n) {
		char text[200];
		snprintf(text, sizeof text, "The new password %s.", ve.e[0].msg);
		return reset_form_page(r, 400, "Choose a new password", text, token);
	}
	return reply_core_error(r, e, &ve, retry);
}

int h_reset(struct req *r)
{
	if (r->method == HM_GET || r->method == HM_HEAD)
		return reset_page(r);
	if (r->form)
		return reset_form_posted(r);
	if (!object_or_reply(r, false))
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
	if (e < 0)
		return reply_core_error(r, e, &ve, retry);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "reset", json_object_new_boolean(1));
	return http_reply_json(r, 200, o);
}
