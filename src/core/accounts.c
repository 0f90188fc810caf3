#include "accounts.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../store/store.h"
#include "../util/clock.h"
#include "../util/config.h"
#include "../util/err.h"
#include "../util/log.h"
#include "mail.h"
#include "ratelimit.h"
#include "tokencache.h"
#include "accounts_int.h"
#include "hub.h"
#include "sync.h"

#define CONFIRM_VALID_MS (48LL * 3600 * 1000)
#define RESET_VALID_MS (15LL * 60 * 1000)
#define TOUCH_EVERY_MS 60000
#define TOUCH_MIN_MS 500

/* --- rate limits --- */

/* Counts a credential request against the client's address and, when login is given,
 * against that account; -ERR_RATE with *ret_retry when either is over its limit. Every
 * kind of credential request shares the two budgets, and an account is counted as the
 * account whichever name (username or e-mail, any case) the request gave it by. */
int acct_limit(struct core *c, const char *addr, int64_t realm_id, const char *login,
	       int *ret_retry)
{
	if (!c->rl)
		return 0;
	char key[400];
	int64_t now = clock_wall_ms();
	snprintf(key, sizeof key, "cred:a:%s", addr ? addr : "-");
	int retry = ratelimit_hit(c->rl, key, ratelimit_cfg(c->cfg)->per_address, now);
	if (!retry && login && *login) {
		struct user u;
		if (strlen(login) <= EMAIL_MAX &&
		    c->store->ops->accounts->user_find(c->store, realm_id, login, &u) == 0) {
			snprintf(key, sizeof key, "cred:u:%lld", (long long)u.id);
		} else {
			char low[EMAIL_MAX + 1];
			size_t i = 0;
			for (; login[i] && i < EMAIL_MAX; i++)
				low[i] = (login[i] >= 'A' && login[i] <= 'Z') ? (char)(login[i] + 32)
									      : login[i];
			low[i] = '\0';
			snprintf(key, sizeof key, "cred:n:%lld:%s", (long long)realm_id, low);
		}
		retry = ratelimit_hit(c->rl, key, ratelimit_cfg(c->cfg)->per_account, now);
	}
	if (retry) {
		*ret_retry = retry;
		return -ERR_RATE;
	}
	return 0;
}

int acct_realm(struct core *c, const char *name, struct realm *ret, struct verr *ve)
{
	if (!name || !*name)
		name = "default";
	if (strlen(name) > REALM_NAME_MAX) {
		verr_add(ve, "realm", "does not exist");
		return -ERR_INVALID;
	}
	int r = c->store->ops->accounts->realm_get(c->store, name, ret);
	if (r == -ERR_NOT_FOUND) {
		verr_add(ve, "realm", "does not exist");
		return -ERR_INVALID;
	}
	return r;
}

/* --- e-mail codes --- */

void acct_code_hash(int64_t user_id, const char *code, uint8_t out[32])
{
	char buf[64];
	snprintf(buf, sizeof buf, "cairn-code:%lld:%s", (long long)user_id, code);
	crypto_hash_sha256(out, (const unsigned char *)buf, strlen(buf));
}

/* Makes a code and a link token for the user, stores their hashes, and mails both. */
int acct_send_code(struct core *c, const struct user *u, const struct realm *rl,
		     enum ecode_purpose purpose)
{
	char code[8], token[TOKEN_LEN];
	snprintf(code, sizeof code, "%06u", (unsigned)randombytes_uniform(1000000));
	token_new(purpose == ECODE_CONFIRM ? "cec_" : "cer_", token);
	struct ecode e = { .user_id = u->id, .purpose = purpose };
	acct_code_hash(u->id, code, e.code_hash);
	token_hash(token, e.token_hash);
	e.expires_ms = clock_wall_ms() + (purpose == ECODE_CONFIRM ? CONFIRM_VALID_MS : RESET_VALID_MS);
	int r = c->store->ops->sessions->ecode_create(c->store, &e);
	if (r < 0)
		return r;
	const char *site = rl->display_name[0] ? rl->display_name : "Cairn";
	char subject[256], body[2048];
	if (purpose == ECODE_CONFIRM) {
		snprintf(subject, sizeof subject, "Confirm your e-mail address for %s", site);
		snprintf(body, sizeof body,
			 "Hello %s,\n\nYour confirmation code is %s\n\nOr open this link to confirm "
			 "your address:\n%s/api/v1/auth/confirm?token=%s\n\nThe code and the link "
			 "are valid for 48 hours. If you did not sign up, ignore this mail.\n",
			 u->username, code, c->public_url, token);
	} else {
		snprintf(subject, sizeof subject, "Reset your password for %s", site);
		snprintf(body, sizeof body,
			 "Hello %s,\n\nYour password reset code is %s\n\nOr open this link to "
			 "choose a new password:\n%s/api/v1/auth/reset?token=%s\n\n(An app may "
			 "also take this reset token: %s)\n\nThe code and the link are valid for "
			 "15 minutes, the code for at most 5 tries. If you did not ask for a reset, "
			 "ignore this mail: your password has not changed.\n",
			 u->username, code, c->public_url, token, token);
	}
	sodium_memzero(code, sizeof code);
	return core_mail(c, u->email, subject, body);
}

/* --- registration and sessions --- */

/* Stores u (its fields filled, its name and address checked) with password hashed;
 * -ERR_EXISTS naming the taken field in ve. Shared by sign-up and administration. */
int acct_create_user(struct core *c, struct user *u, const char *password, struct verr *ve)
{
	struct user other;
	if (c->store->ops->accounts->user_find(c->store, u->realm_id, u->username, &other) == 0) {
		verr_add(ve, "username", "is taken");
		return -ERR_USERNAME_TAKEN;
	}
	if (u->email[0] && c->store->ops->accounts->user_find(c->store, u->realm_id, u->email, &other) == 0) {
		verr_add(ve, "email", "is taken");
		return -ERR_EMAIL_TAKEN;
	}
	int r = password ? password_hash(c, password, u->password_hash) : 0;
	if (r < 0)
		return r;
	r = c->store->ops->accounts->user_create(c->store, u);
	if (r == -ERR_EXISTS) { /* a race with another sign-up: of the name, or the address? */
		bool name = c->store->ops->accounts->user_find(c->store, u->realm_id, u->username,
							       &other) == 0;
		verr_add(ve, name ? "username" : "email", "is taken");
		return name ? -ERR_USERNAME_TAKEN : -ERR_EMAIL_TAKEN;
	}
	return r;
}

int acct_import_user(struct core *c, struct user *u, bool *ret_reset, struct verr *ve)
{
	check_username(ve, "username", u->username, true);
	check_email(ve, "email", u->email, false);
	if (ve->n)
		return -ERR_INVALID;
	*ret_reset = !password_is_bcrypt(u->password_hash);
	if (!*ret_reset)
		return acct_create_user(c, u, NULL, ve);
	char secret[TOKEN_LEN]; /* a password nobody knows: the user resets it by mail */
	token_new("imp_", secret);
	int r = acct_create_user(c, u, secret, ve);
	sodium_memzero(secret, sizeof secret);
	return r;
}

int acct_register(struct core *c, const struct register_in *in, struct user *ret_user,
		  struct realm *ret_realm, struct verr *ve, int *ret_retry)
{
	struct realm rl;
	int r = acct_limit(c, in->addr, 0, NULL, ret_retry);
	if (r < 0)
		return r;
	check_username(ve, "username", in->username, true);
	check_password(ve, "password", in->password);
	check_email(ve, "email", in->email, false);
	check_text(ve, "name", in->name, NAME_MAX_BYTES, false);
	r = acct_realm(c, in->realm, &rl, ve);
	if (r < 0 && r != -ERR_INVALID)
		return r;
	if (r == 0 && rl.confirm_email && (!in->email || !*in->email))
		verr_add(ve, "email", "is required in this realm");
	if (ve->n)
		return -ERR_INVALID;
	if (!rl.signup_open)
		return -ERR_SIGNUP_CLOSED;
	struct user u = { .realm_id = rl.id, .email_confirmed = !rl.confirm_email,
			  .created_ms = clock_wall_ms() };
	snprintf(u.username, sizeof u.username, "%s", in->username);
	snprintf(u.email, sizeof u.email, "%s", in->email ? in->email : "");
	snprintf(u.name, sizeof u.name, "%s", in->name ? in->name : "");
	r = acct_create_user(c, &u, in->password, ve);
	if (r < 0)
		return r;
	if (rl.confirm_email) {
		r = acct_send_code(c, &u, &rl, ECODE_CONFIRM);
		if (r < 0)
			log_error("cannot queue the confirmation mail for user %lld: %s",
				  (long long)u.id, err_str(r));
	}
	*ret_user = u;
	*ret_realm = rl;
	return 0;
}

/* Mints an access and a refresh token for the device described in d and stores them. */
static int open_session(struct core *c, const struct realm *rl, struct device *d,
			struct session *ret)
{
	int64_t now = clock_wall_ms();
	struct token_row t[2];
	token_new("cat_", ret->access);
	token_new("crt_", ret->refresh);
	token_hash(ret->access, t[0].hash);
	t[0].kind = TOKEN_ACCESS;
	t[0].expires_ms = now + rl->access_ttl_s * 1000;
	token_hash(ret->refresh, t[1].hash);
	t[1].kind = TOKEN_REFRESH;
	t[1].expires_ms = now + rl->refresh_ttl_s * 1000;
	ret->expires_in = rl->access_ttl_s;
	return c->store->ops->sessions->session_open(c->store, d, t, 2, now);
}

int acct_login(struct core *c, const struct login_in *in, struct session *ret, struct verr *ve,
	       int *ret_retry)
{
	struct realm rl;
	if (!in->login || !*in->login)
		verr_add(ve, "username", "is required");
	else if (strlen(in->login) > EMAIL_MAX)
		verr_add(ve, "username", "must be at most %d bytes", EMAIL_MAX);
	if (!in->password || !*in->password)
		verr_add(ve, "password", "is required");
	else if (strlen(in->password) > 1024)
		verr_add(ve, "password", "must be at most 1024 bytes");
	check_text(ve, "device.name", in->device_name, NAME_MAX_BYTES, false);
	check_text(ve, "device.platform", in->platform, PLATFORM_MAX, false);
	check_text(ve, "device.client_version", in->client_version, PLATFORM_MAX, false);
	int r = acct_realm(c, in->realm, &rl, ve);
	if (r < 0 && r != -ERR_INVALID)
		return r;
	if (ve->n)
		return -ERR_INVALID;
	r = acct_limit(c, in->addr, rl.id, in->login, ret_retry);
	if (r < 0)
		return r;
	struct user u;
	r = c->store->ops->accounts->user_find(c->store, rl.id, in->login, &u);
	if (r < 0 && r != -ERR_NOT_FOUND)
		return r;
	/* An unknown user costs one hash verification too, so timing tells nothing. */
	bool ok = password_verify(r == 0 ? u.password_hash : c->dummy_hash, in->password);
	if (r < 0 || !ok)
		return -ERR_BAD_CREDENTIALS;
	if (u.disabled)
		return -ERR_DISABLED;
	if (!u.email_confirmed)
		return -ERR_UNCONFIRMED;
	memset(ret, 0, sizeof *ret);
	struct device *d = &ret->p.device;
	d->id = in->device_id;
	d->user_id = u.id;
	d->kind = DEVICE_SESSION;
	snprintf(d->name, sizeof d->name, "%s",
		 in->device_name && *in->device_name ? in->device_name : "unnamed device");
	snprintf(d->platform, sizeof d->platform, "%s", in->platform ? in->platform : "");
	snprintf(d->client_version, sizeof d->client_version, "%s",
		 in->client_version ? in->client_version : "");
	r = open_session(c, &rl, d, ret);
	if (r == -ERR_NOT_FOUND) {
		verr_add(ve, "device_id", "is not one of your active devices");
		return -ERR_INVALID;
	}
	if (r < 0)
		return r;
	ret->p.user = u;
	ret->p.realm = rl;
	return 0;
}

int acct_refresh(struct core *c, const char *refresh_token, const char *addr, struct session *ret,
		 int *ret_retry)
{
	int r = acct_limit(c, addr, 0, NULL, ret_retry);
	if (r < 0)
		return r;
	return acct_refresh_in(c, refresh_token, 0, ret);
}

int acct_refresh_in(struct core *c, const char *refresh_token, int64_t realm_id,
		    struct session *ret)
{
	int r;
	if (!refresh_token || strlen(refresh_token) >= TOKEN_LEN)
		return -ERR_TOKEN_INVALID;
	uint8_t old[32];
	token_hash(refresh_token, old);
	/* The realm's lifetimes decide the new pair; read the principal first for them. */
	struct principal p;
	r = c->store->ops->sessions->token_lookup(c->store, old, &p);
	if (r == -ERR_NOT_FOUND)
		return -ERR_TOKEN_INVALID;
	if (r < 0)
		return r;
	int64_t now = clock_wall_ms();
	/* Only a live refresh token of a device still there speaks for anyone; of those, a
	 * disabled user's are refused as theirs (the store ends a reused one's session). */
	if (p.token_kind != TOKEN_REFRESH || p.device.revoked_ms ||
	    (p.expires_ms && p.expires_ms <= now) || (realm_id && p.realm.id != realm_id))
		return -ERR_TOKEN_INVALID; /* of another realm: refused before it is used up */
	if (p.user.disabled)
		return -ERR_DISABLED;
	memset(ret, 0, sizeof *ret);
	struct token_row t[2];
	token_new("cat_", ret->access);
	token_new("crt_", ret->refresh);
	token_hash(ret->access, t[0].hash);
	t[0].kind = TOKEN_ACCESS;
	t[0].expires_ms = now + p.realm.access_ttl_s * 1000;
	token_hash(ret->refresh, t[1].hash);
	t[1].kind = TOKEN_REFRESH;
	t[1].expires_ms = now + p.realm.refresh_ttl_s * 1000;
	ret->expires_in = p.realm.access_ttl_s;
	r = c->store->ops->sessions->session_refresh(c->store, old, t, 2, now, &ret->p);
	if (r == -ERR_DENIED) {
		log_warn("refresh token reused for device %lld of user %lld: session ended",
			 (long long)p.device.id, (long long)p.user.id);
		/* every token of the device is gone: its streams end and its pulls answer now,
		 * not at their next heartbeat or push */
		if (c->hub)
			hub_device_revoked(c->hub, p.device.id);
		return -ERR_TOKEN_INVALID;
	}
	if (r == -ERR_NOT_FOUND)
		return -ERR_TOKEN_INVALID;
	return r;
}

int acct_authenticate(struct core *c, const char *token, struct principal *ret)
{
	/* Cairn's own tokens are shorter than TOKEN_LEN; an imported one (Verstak's 64 hex
	 * digits) may be a little longer */
	if (!token || strlen(token) > 2 * TOKEN_LEN || strlen(token) < 20)
		return -ERR_TOKEN_INVALID;
	uint8_t h[32];
	token_hash(token, h);
	int64_t now = clock_wall_ms();
	/* Read the generation before the lookup: a change committed in between then makes the
	 * cached entry stale rather than wrongly fresh. */
	uint64_t gen = atomic_load_explicit(&c->store->auth_gen, memory_order_acquire);
	if (!c->tokens || !tokencache_get(c->tokens, h, gen, now, ret)) {
		int r = c->store->ops->sessions->token_lookup(c->store, h, ret);
		if (r == -ERR_NOT_FOUND)
			return -ERR_TOKEN_INVALID;
		if (r < 0)
			return r;
		if (c->tokens)
			tokencache_put(c->tokens, h, gen, now, ret);
	}
	if ((ret->token_kind != TOKEN_ACCESS && ret->token_kind != TOKEN_LONG) ||
	    ret->device.revoked_ms)
		return -ERR_TOKEN_INVALID;
	if (ret->expires_ms && ret->expires_ms <= now)
		return -ERR_TOKEN_EXPIRED; /* the client refreshes, rather than signs in again */
	if (ret->user.disabled)
		return -ERR_DISABLED;
	/* last seen is written at most once a minute, and at least twice per
	 * sync.device_idle, so that pruning never takes a device in use for an idle one */
	int64_t every = TOUCH_EVERY_MS, idle = sync_cfg(c->cfg)->device_idle_ms;
	if (idle > 0 && idle / 2 < every)
		every = idle / 2 > TOUCH_MIN_MS ? idle / 2 : TOUCH_MIN_MS;
	if (now - ret->device.last_seen_ms > every) {
		c->store->ops->sessions->device_touch(c->store, ret->device.id, now);
		if (c->tokens)
			tokencache_seen(c->tokens, h, now);
	}
	return 0;
}

int acct_logout(struct core *c, const struct principal *p)
{
	int r = c->store->ops->sessions->session_end(c->store, p->device.id);
	if (r == 0 && c->hub)
		hub_device_revoked(c->hub, p->device.id);
	return r;
}

/* --- confirmation and reset --- */

/* --- the caller's own account --- */

int acct_change_password(struct core *c, const struct principal *p, const char *current,
			 const char *new_password, struct verr *ve)
{
	if (!current || !*current)
		verr_add(ve, "current_password", "is required");
	check_password(ve, "new_password", new_password);
	if (ve->n)
		return -ERR_INVALID;
	if (strlen(current) > 1024 || !password_verify(p->user.password_hash, current))
		return -ERR_WRONG_PASSWORD;
	char hash[PASSWORD_HASH_MAX + 1];
	int r = password_hash(c, new_password, hash);
	if (r < 0)
		return r;
	r = c->store->ops->accounts->user_set_password(c->store, p->user.id, hash, p->device.id,
					     clock_wall_ms());
	if (r == 0 && c->hub)
		hub_access_changed(c->hub, p->user.id, 0, 0); /* the other sessions ended */
	return r;
}

static int add_orphan(void *arg, int64_t space_id, const char *name)
{
	struct orphaned *o = arg;
	if (o->n < (int)(sizeof o->v / sizeof o->v[0])) {
		o->v[o->n].id = space_id;
		snprintf(o->v[o->n].name, sizeof o->v[o->n].name, "%s", name ? name : "");
		o->n++;
	}
	o->total++;
	return 0;
}

int acct_delete_user(struct core *c, int64_t id, struct orphaned *o)
{
	memset(o, 0, sizeof *o);
	int r = c->store->ops->accounts->user_delete(c->store, id, add_orphan, o);
	if (r == 0 && c->hub)
		hub_access_changed(c->hub, id, 0, 0);
	return r == -ERR_CONFLICT ? -ERR_LAST_OWNER : r;
}

int acct_delete(struct core *c, const struct principal *p, const char *password, struct verr *ve,
		struct orphaned *o)
{
	if (!password || !*password) {
		verr_add(ve, "password", "is required");
		return -ERR_INVALID;
	}
	if (strlen(password) > 1024 || !password_verify(p->user.password_hash, password))
		return -ERR_WRONG_PASSWORD;
	int r = acct_delete_user(c, p->user.id, o);
	if (r == 0)
		log_info("user %lld (%s) deleted their account", (long long)p->user.id,
			 p->user.username);
	return r;
}

int acct_set_public_key(struct core *c, const struct principal *p, const char *key,
			struct verr *ve)
{
	if (!check_text(ve, "public_key", key, PUBLIC_KEY_MAX, true))
		return -ERR_INVALID;
	return c->store->ops->accounts->user_set_public_key(c->store, p->user.id, key);
}

int acct_get_public_key(struct core *c, const struct principal *p, const char *username,
			char **ret)
{
	if (!username || strlen(username) > USERNAME_MAX)
		return -ERR_NOT_FOUND;
	return c->store->ops->accounts->user_get_public_key(c->store, p->user.realm_id, username, ret);
}

int acct_rename(struct core *c, const struct principal *p, const char *username,
		struct user *ret, struct verr *ve)
{
	if (!check_username(ve, "username", username, true))
		return -ERR_INVALID;
	int r = c->store->ops->accounts->user_rename(c->store, p->user.id, username);
	if (r == -ERR_EXISTS) {
		verr_add(ve, "username", "is taken");
		return -ERR_USERNAME_TAKEN;
	}
	if (r == 0)
		r = c->store->ops->accounts->user_get(c->store, p->user.id, ret);
	return r;
}

int acct_verify_password(struct core *c, const struct principal *p, const char *password,
			 const char *addr, int *ret_retry)
{
	int r = acct_limit(c, addr, p->user.realm_id, p->user.username, ret_retry);
	if (r < 0)
		return r;
	if (!password || strlen(password) > 1024 ||
	    !password_verify(p->user.password_hash, password))
		return -ERR_WRONG_PASSWORD;
	return 0;
}

int acct_check_credentials(struct core *c, const char *realm, const char *login,
			   const char *password, const char *addr, struct user *ret,
			   int *ret_retry)
{
	struct realm rl;
	struct verr ve = { 0 };
	int r = acct_realm(c, realm, &rl, &ve);
	if (r < 0)
		return r;
	if (!login || !*login || strlen(login) > EMAIL_MAX || !password || strlen(password) > 1024)
		return -ERR_BAD_CREDENTIALS;
	r = acct_limit(c, addr, rl.id, login, ret_retry);
	if (r < 0)
		return r;
	r = c->store->ops->accounts->user_find(c->store, rl.id, login, ret);
	if (r < 0 && r != -ERR_NOT_FOUND)
		return r;
	/* an unknown user costs one verification too */
	bool ok = password_verify(r == 0 ? ret->password_hash : c->dummy_hash, password);
	return r == 0 && ok ? 0 : -ERR_BAD_CREDENTIALS;
}

int acct_limit_address(struct core *c, const char *addr, int *ret_retry)
{
	return acct_limit(c, addr, 0, NULL, ret_retry);
}
