/* MigChat's health and accounts: creating one (which answers with its token), and
 * changing the username. */
#include <stdio.h>
#include <string.h>

#include "../../../core/accounts.h"
#include "../../../core/errors.h"
#include "../../../util/clock.h"
#include "../../helpers.h"
#include "migchat.h"

/* The device a token made by account creation stands for, as the user's devices list it:
 * "MigChat, 2026-11-30 16:11 UTC", so that several logins can be told apart. */
static void device_name(char *out, size_t len)
{
	char t[CLOCK_RFC3339_LEN];
	clock_format_rfc3339(clock_wall_ms(), t);
	snprintf(out, len, "MigChat, %.10s %.5s UTC", t, t + 11);
}

int mig_health(struct req *r)
{
	return http_reply_bytes(r, 200, "text/plain; charset=utf-8", "OK", 2);
}

/* A sentence for a username or password the realm's rules refuse: "Username must be..." */
static int invalid_field(struct req *r, const struct verr *ve)
{
	for (int i = 0; i < ve->n; i++) {
		const char *f = ve->e[i].field;
		if (!strcmp(f, "email")) {
			char msg[256];
			snprintf(msg, sizeof msg,
				 "This server requires a confirmed e-mail address: sign up with "
				 "Cairn's own sign-up in realm '%s' and confirm it, then create "
				 "the account here again with the same username and password",
				 migchat_cfg(((struct app *)r->app)->cfg)->realm);
			return mig_error(r, 403, msg);
		}
	}
	char msg[600];
	if (ve->n)
		snprintf(msg, sizeof msg, "%s %s",
			 !strcmp(ve->e[0].field, "password") ? "Password" : "Username",
			 ve->e[0].msg);
	else
		snprintf(msg, sizeof msg, "%s", ve->detail[0] ? ve->detail : "Invalid input");
	return mig_error(r, 400, msg);
}

int mig_account_create(struct req *r)
{
	const char *username = mig_field(r, r->json, "username");
	if (!username)
		return 0;
	const char *password = mig_field(r, r->json, "password");
	if (!password)
		return 0;
	if (!*username)
		return mig_error(r, 400, "Username cannot be empty");
	if (!*password)
		return mig_error(r, 400, "Password cannot be empty");
	struct register_in in = { .username = username, .password = password,
				  .realm = migchat_cfg(((struct app *)r->app)->cfg)->realm,
				  .addr = http_client_addr(r) };
	char token[TOKEN_LEN], device[64];
	device_name(device, sizeof device);
	struct user u;
	bool existing;
	struct verr ve = { 0 };
	int retry = 0;
	int e = acct_token_signup(core_of(r), &in, device, token, &u, &existing, &ve,
				  &retry);
	switch (e) {
	case 0:
		break;
	case -ERR_USERNAME_TAKEN:
		return mig_error(r, 409, "Username already exists");
	case -ERR_SIGNUP_CLOSED:
		return mig_error(r, 403, "Sign-up is closed on this server");
	case -ERR_UNCONFIRMED:
		return mig_error(r, 403, "Confirm your e-mail address first (see the mail sent to you)");
	case -ERR_INVALID:
		for (int i = 0; i < ve.n; i++)
			if (!strcmp(ve.e[i].field, "realm"))
				return mig_error(r, 503, "MigChat's realm (migchat.realm) does not exist "
							"on this server");
		return invalid_field(r, &ve);
	default:
		return mig_core_error(r, e, retry);
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "token", json_object_new_string(token));
	json_object_object_add(o, "user_id", json_object_new_int64(u.id));
	json_object_object_add(o, "username", json_object_new_string(u.username));
	return http_reply_json(r, 200, o);
}

int mig_update_username(struct req *r)
{
	const struct principal *p = auth_or_reply(r);
	if (!p)
		return 0;
	const char *name = mig_field(r, r->json, "new_username");
	if (!name)
		return 0;
	if (!*name)
		return mig_error(r, 400, "Username cannot be empty");
	struct verr ve = { 0 };
	struct user u;
	int e = acct_rename(core_of(r), p, name, &u, &ve);
	if (e == -ERR_USERNAME_TAKEN)
		return mig_error(r, 409, "Username already exists");
	if (e == -ERR_INVALID)
		return invalid_field(r, &ve);
	if (e < 0)
		return mig_core_error(r, e, 0);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "username", json_object_new_string(u.username));
	json_object_object_add(o, "updated_at", mig_time(clock_wall_ms()));
	return http_reply_json(r, 200, o);
}
