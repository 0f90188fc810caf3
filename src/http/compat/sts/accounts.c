/* sync_server_ts's accounts: register (a user and a client, or a client of an existing
 * user), unregister, login by Basic with a clientId, refresh, and the password by a mailed
 * PIN. Its client tells errors apart by status (403: unauthorised; anything else: show
 * `message`) and by phrases of the message, which are kept. */
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistr.h>

#include "../../../core/accounts.h"
#include "../../../core/errors.h"
#include "../../../core/sync.h"
#include "../../../util/clock.h"
#include "../../helpers.h"
#include "sts.h"

/* A UUID in its text form (its clientId column was a uuid). */
static bool is_uuid(const char *s)
{
	if (!s || strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		char c = s[i];
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
		if (dash ? c != '-' : !hex)
			return false;
	}
	return true;
}

/* A username for an account that has only an address: its local part with what a
 * username may not hold made '-', and "-2", "-3"... when taken. */
static void username_from(const char *email, int attempt, char *out, size_t len)
{
	char base[USERNAME_MAX + 1];
	size_t n = 0;
	for (const char *p = email; *p && *p != '@' && n < USERNAME_MAX - 6; p++) {
		char c = *p;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  c == '.' || c == '_' || c == '-';
		base[n++] = ok ? c : '-';
	}
	base[n] = '\0';
	bool alnum0 = n && ((base[0] >= 'a' && base[0] <= 'z') || (base[0] >= 'A' && base[0] <= 'Z') ||
			    (base[0] >= '0' && base[0] <= '9'));
	/* "ann", "ann-2", "ann-3", then a random suffix (a taken prefix cannot be squatted) */
	char suffix[16] = "";
	if (attempt > 3) {
		unsigned char rnd[3];
		randombytes_buf(rnd, sizeof rnd);
		snprintf(suffix, sizeof suffix, "-%02x%02x%02x", rnd[0], rnd[1], rnd[2]);
	} else if (attempt > 1) {
		snprintf(suffix, sizeof suffix, "-%d", attempt);
	}
	size_t room = len > 1 + 1 + strlen(suffix) ? len - 1 - 1 - strlen(suffix) : 0;
	snprintf(out, len, "%s%.*s%s", alnum0 ? "" : "u", (int)room, base, suffix);
}

/* The user whose address is email in rl (not one whose username it is). */
static int user_by_email(struct req *r, const struct realm *rl, const char *email, struct user *u)
{
	int e = admin_user_find(core_of(r), NULL, rl->id, email, u);
	if (e == 0 && strcasecmp(u->email, email) != 0)
		e = -ERR_NOT_FOUND;
	return e;
}

/* The device's name from clientDescription, a string holding JSON ({"name": ...}), as its
 * client sends it; else the text itself. */
static void device_name(const char *desc, char *out, size_t len)
{
	snprintf(out, len, "sync_client");
	if (!desc || !*desc)
		return;
	json_object *o = json_tokener_parse(desc), *n = NULL;
	if (o && json_object_object_get_ex(o, "name", &n) && json_object_is_type(n, json_type_string) &&
	    json_object_get_string_len(n) > 0)
		snprintf(out, len, "%.60s", json_object_get_string(n));
	else if (!o)
		snprintf(out, len, "%.60s", desc);
	json_object_put(o);
	/* a device name is printable UTF-8: cut where a character was cut (or is not
	 * UTF-8), and the default when what is left is not a name */
	const uint8_t *bad = u8_check((const uint8_t *)out, strlen(out));
	if (bad)
		out[bad - (const uint8_t *)out] = '\0';
	struct verr ve = { 0 };
	if (!*out || !check_text(&ve, "name", out, NAME_MAX_BYTES, true))
		snprintf(out, len, "sync_client");
}

static int rate_reply(struct req *r, int retry)
{
	char ra[16], msg[96];
	snprintf(ra, sizeof ra, "%d", retry > 0 ? retry : 60);
	http_add_header(r, "Retry-After", ra);
	snprintf(msg, sizeof msg, "Too many requests, please try again in %s seconds", ra);
	return sts_result(r, 429, msg);
}

int sts_register(struct req *r)
{
	struct realm rl;
	if (!sts_realm_or_reply(r, &rl))
		return 0;
	struct core *c = core_of(r);
	const char *email = sts_str(r, "email"), *password = sts_str(r, "password");
	const char *client = sts_str(r, "clientId"), *name = sts_str(r, "name");
	const char *desc = sts_str(r, "clientDescription");
	json_object *nr = NULL;
	bool fresh = json_object_is_type(r->json, json_type_object) &&
		     json_object_object_get_ex(r->json, "newRegistration", &nr) &&
		     json_object_get_boolean(nr);
	int retry = 0;
	/* every registration counts against the address, before anything is told */
	if (acct_limit_address(c, http_client_addr(r), &retry) == -ERR_RATE)
		return rate_reply(r, retry);
	if (!email || !*email || !password || !*password)
		return sts_result(r, 400, "email and password are required");
	if (!is_uuid(client))
		return sts_result(r, 400, "clientId must be a UUID");
	struct app_client existing;
	if (sync_client_get(c, STS_APP, rl.id, client, &existing) == 0)
		return sts_result(r, 500, "The clientId is already registered, please use another one.");
	struct user u;
	int e = user_by_email(r, &rl, email, &u);
	if (e < 0 && e != -ERR_NOT_FOUND)
		return sts_error(r, 500, "Internal server error");
	struct verr ve = { 0 };
	const char *confirm = "Registered: confirm your e-mail address with the link we sent to "
			      "it, then register this client as an existing user";
	if (fresh) {
		/* the client sends a refused request again uncompressed: the same answer for an
		 * account it made a moment ago and that waits for its confirmation */
		if (e == 0 && !u.email_confirmed && password_verify(u.password_hash, password))
			return sts_result(r, 500, confirm);
		if (e == 0)
			return sts_result(r, 500, "The email is already registered, try to register "
						  "the client instead...");
		char username[USERNAME_MAX + 1];
		for (int attempt = 1;; attempt++) {
			username_from(email, attempt, username, sizeof username);
			struct register_in in = { .username = username, .password = password,
						  .email = email, .realm = rl.name,
						  .name = name, .addr = http_client_addr(r) };
			struct realm ignored;
			memset(&ve, 0, sizeof ve);
			e = acct_register(c, &in, &u, &ignored, &ve, &retry);
			if (e != -ERR_USERNAME_TAKEN || attempt >= 10)
				break;
		}
		if (e == -ERR_SIGNUP_CLOSED)
			return sts_result(r, 500, "Registration is closed on this server");
		if (e == -ERR_EMAIL_TAKEN)
			return sts_result(r, 500, "The email is already registered, try to register "
						  "the client instead...");
		if (e == -ERR_RATE)
			return rate_reply(r, retry);
		if (e == -ERR_INVALID) {
			char msg[256];
			snprintf(msg, sizeof msg, "%s %s", ve.n ? ve.e[0].field : "registration",
				 ve.n ? ve.e[0].msg : "is not valid");
			return sts_result(r, 400, msg);
		}
		if (e < 0)
			return sts_error(r, 500, "Internal server error");
		if (!u.email_confirmed)
			return sts_result(r, 500, confirm);
	} else if (e == -ERR_NOT_FOUND) {
		return sts_result(r, 500, "The email is not registered, try to Register as a new user...");
	}
	/* the client is a device of the user: made by logging in with the password given
	 * (which is how an existing user's password is checked) */
	char dev[64];
	device_name(desc, dev, sizeof dev);
	struct login_in li = { .login = email, .password = password, .realm = rl.name,
			       .addr = http_client_addr(r), .device_name = dev,
			       .platform = "sync_client" };
	struct session s;
	memset(&ve, 0, sizeof ve);
	e = acct_login(c, &li, &s, &ve, &retry);
	sodium_memzero(s.access, sizeof s.access); /* its tokens are made at its login */
	sodium_memzero(s.refresh, sizeof s.refresh);
	if (e == -ERR_BAD_CREDENTIALS)
		return sts_result(r, 500, "Wrong username or password");
	if (e == -ERR_UNCONFIRMED)
		return sts_result(r, 500, "Confirm your e-mail address first (see the mail we sent)");
	if (e == -ERR_DISABLED)
		return sts_result(r, 500, "This account is disabled");
	if (e == -ERR_RATE)
		return rate_reply(r, retry);
	if (e < 0)
		return sts_error(r, 500, "Internal server error");
	struct app_client cl = { .realm_id = rl.id, .user_id = s.p.user.id,
				 .device_id = s.p.device.id, .created_ms = clock_wall_ms() };
	snprintf(cl.client_id, sizeof cl.client_id, "%s", client);
	e = sync_client_add(c, STS_APP, &cl);
	if (e < 0) {
		acct_device_revoke(c, s.p.user.id, s.p.device.id);
		return e == -ERR_EXISTS ? sts_result(r, 500, "The clientId is already registered, "
							  "please use another one.")
					: sts_error(r, 500, "Internal server error");
	}
	/* the request echoed back, as its server did, but never the password */
	json_object *user = json_object_new_object();
	json_object_object_add(user, "name", json_object_new_string(*s.p.user.name ? s.p.user.name
										   : name ? name : ""));
	json_object_object_add(user, "email", json_object_new_string(email));
	json_object_object_add(user, "clientId", json_object_new_string(client));
	json_object_object_add(user, "clientDescription", desc ? json_object_new_string(desc) : NULL);
	json_object_object_add(user, "newRegistration", json_object_new_boolean(fresh));
	const char *lang = sts_str(r, "language");
	json_object_object_add(user, "language", lang ? json_object_new_string(lang) : NULL);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "message",
			       json_object_new_string("User and Client registered successfully!"));
	json_object_object_add(o, "user", user);
	return http_reply_json(r, 200, o);
}

/* The token pair as its client reads it (token mode; it also reads the JWT mode's names). */
static int reply_tokens(struct req *r, const struct session *s)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "token_type", json_object_new_string("Bearer"));
	json_object_object_add(o, "access_token", json_object_new_string(s->access));
	json_object_object_add(o, "refresh_token", json_object_new_string(s->refresh));
	json_object_object_add(o, "expires_in", json_object_new_int64(s->expires_in));
	json_object_object_add(o, "expires_on",
			       json_object_new_int64(clock_wall_ms() + s->expires_in * 1000));
	return http_reply_json(r, 200, o);
}

int sts_login(struct req *r)
{
	struct realm rl;
	if (!sts_realm_or_reply(r, &rl))
		return 0;
	const char *h = http_header(r, "Authorization");
	if (!h || strncasecmp(h, "Basic ", 6) != 0)
		return sts_result(r, 403, "Missing basic authentication");
	char plain[1100];
	size_t len = 0;
	const char *b64 = h + 6;
	while (*b64 == ' ')
		b64++;
	if (strlen(b64) > 1400 ||
	    sodium_base642bin((unsigned char *)plain, sizeof plain - 1, b64, strlen(b64), NULL, &len,
			      NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
		return sts_result(r, 403, "Missing username or password");
	plain[len] = '\0';
	/* the address is before the first colon; the password is all the rest (its server
	 * split on every colon, so a password holding one could never log in) */
	char *colon = memchr(plain, ':', len);
	if (!colon || colon == plain || !colon[1] || strlen(plain) != len)
		return sts_result(r, 403, "Missing username or password");
	*colon = '\0';
	const char *email = plain, *password = colon + 1;
	const char *client = sts_str(r, "clientId");
	if (!client)
		client = sts_str(r, "clientid"); /* older clients' spelling */
	struct core *c = core_of(r);
	struct app_client cl;
	bool known = client && sync_client_get(c, STS_APP, rl.id, client, &cl) == 0;
	struct login_in li = { .login = email, .password = password, .realm = rl.name,
			       .addr = http_client_addr(r), .device_id = known ? cl.device_id : 0 };
	struct session s;
	struct verr ve = { 0 };
	int retry = 0;
	int e = known ? acct_login(c, &li, &s, &ve, &retry) : -ERR_NOT_FOUND;
	if (!known) {
		/* the credentials first, as its server checked them, without making a device */
		struct user u;
		e = acct_check_credentials(c, rl.name, email, password, http_client_addr(r), &u,
					   &retry);
		sodium_memzero(plain, sizeof plain);
		if (e == -ERR_RATE)
			return rate_reply(r, retry);
		return sts_result(r, 403, e == 0 ? "Invalid clientid for current username and password"
						 : "Wrong username or password");
	}
	sodium_memzero(plain, sizeof plain);
	if (e == -ERR_BAD_CREDENTIALS)
		return sts_result(r, 403, "Wrong username or password");
	if (e == -ERR_INVALID || (e == 0 && s.p.user.id != cl.user_id))
		return sts_result(r, 403, "Invalid clientid for current username and password");
	if (e == -ERR_UNCONFIRMED)
		return sts_result(r, 403, "Confirm your e-mail address first (see the mail we sent)");
	if (e == -ERR_DISABLED)
		return sts_result(r, 403, "This account is disabled");
	if (e == -ERR_RATE)
		return rate_reply(r, retry);
	if (e < 0)
		return sts_error(r, 500, "Internal server error");
	return reply_tokens(r, &s);
}

int sts_refresh(struct req *r)
{
	struct realm rl;
	if (!sts_realm_or_reply(r, &rl))
		return 0;
	const char *token = sts_str(r, "refreshToken");
	struct session s;
	int retry = 0;
	(void)retry;
	int e = token ? acct_refresh_in(core_of(r), token, rl.id, &s) : -ERR_TOKEN_INVALID;
	if (e == -ERR_TOKEN_INVALID || e == -ERR_TOKEN_EXPIRED || e == -ERR_DISABLED)
		return sts_result(r, 403, "Invalid refresh token, please relogin");
	if (e < 0)
		return sts_error(r, 500, "Internal server error");
	return reply_tokens(r, &s);
}

int sts_forgotten(struct req *r)
{
	struct realm rl;
	if (!sts_realm_or_reply(r, &rl))
		return 0;
	const char *email = sts_str(r, "email");
	struct verr ve = { 0 };
	int retry = 0;
	int e = email && *email ? acct_forgot(core_of(r), email, rl.name, http_client_addr(r), &ve,
					      &retry)
				: 0;
	if (e == -ERR_RATE)
		return rate_reply(r, retry);
	/* the same answer whether the address is known or not */
	return sts_result(r, 200, "If the email is registered, a PIN has been sent");
}

int sts_change_password(struct req *r)
{
	struct realm rl;
	if (!sts_realm_or_reply(r, &rl))
		return 0;
	const char *email = sts_str(r, "email"), *pin = sts_str(r, "pin");
	const char *password = sts_str(r, "password");
	if (!password || !*password)
		return sts_error(r, 500, "Error changing user password: New password is missing!");
	struct reset_in in = { .login = email, .realm = rl.name, .code = pin,
			       .new_password = password, .addr = http_client_addr(r) };
	struct verr ve = { 0 };
	int retry = 0;
	int e = email && pin ? acct_reset(core_of(r), &in, &ve, &retry) : -ERR_CODE_INVALID;
	if (e == 0)
		return sts_result(r, 200, "Password changed successfully!");
	/* Every failure is 403: its client takes any other status for a change that worked
	 * and keeps the new password. */
	char msg[256];
	if (e == -ERR_INVALID && ve.n && strstr(ve.e[0].field, "password"))
		snprintf(msg, sizeof msg, "The new password %s", ve.e[0].msg);
	else if (e == -ERR_RATE)
		snprintf(msg, sizeof msg, "Too many attempts, please try again in %d seconds", retry);
	else if (e == -ERR_CODE_INVALID || e == -ERR_CODE_EXPIRED || e == -ERR_INVALID)
		snprintf(msg, sizeof msg, "PIN expired or incorrect");
	else
		snprintf(msg, sizeof msg, "The password could not be changed, please try again");
	return sts_result(r, 403, msg);
}

int sts_unregister(struct req *r)
{
	struct realm rl;
	if (!sts_realm_or_reply(r, &rl))
		return 0;
	const struct principal *p = auth_or_reply(r);
	if (!p)
		return 0;
	struct core *c = core_of(r);
	const char *email = sts_str(r, "email"), *password = sts_str(r, "password");
	const char *client = sts_str(r, "clientId");
	int retry = 0;
	int e = email && strcasecmp(email, p->user.email) == 0
			? acct_verify_password(c, p, password, http_client_addr(r), &retry)
			: -ERR_WRONG_PASSWORD;
	if (e == -ERR_RATE)
		return rate_reply(r, retry);
	if (e < 0)
		return sts_result(r, 500, "Wrong username or password");
	struct app_client cl;
	if (!client || sync_client_get(c, STS_APP, rl.id, client, &cl) < 0 ||
	    cl.user_id != p->user.id)
		return sts_message(r, 500, "Client id not found!");
	json_object *del = NULL;
	bool everything = json_object_object_get_ex(r->json, "deleteRemoteData", &del) &&
			  json_object_get_boolean(del);
	if (everything) { /* the user's rows go: their space of this app */
		struct space sp;
		e = sync_space_for_app(c, p, STS_APP, &sp);
		if (e == 0)
			e = sync_space_delete(c, p, &sp);
		if (e < 0)
			return sts_error(r, 500, "Internal server error");
	}
	e = sync_client_delete(c, STS_APP, rl.id, client);
	if (e == 0)
		e = acct_device_revoke(c, p->user.id, cl.device_id);
	if (e < 0 && e != -ERR_NOT_FOUND)
		return sts_error(r, 500, "Internal server error");
	return sts_result(r, 200, "User and Client unregistered successfully!");
}
