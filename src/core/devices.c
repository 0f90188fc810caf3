/* Devices: a user's signed-in sessions and long-lived tokens, each a principal that can be
 * renamed and revoked on its own. */
#include "accounts.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../store/store.h"
#include "../util/clock.h"
#include "accounts_int.h"
#include "hub.h"

int acct_devices_list(struct core *c, int64_t user_id,
		      int (*cb)(void *arg, const struct device *d), void *arg)
{
	return c->store->ops->sessions->device_list(c->store, user_id, cb, arg);
}

int acct_device_get(struct core *c, int64_t user_id, int64_t id, struct device *ret)
{
	return c->store->ops->sessions->device_get(c->store, user_id, id, ret);
}

int acct_device_rename(struct core *c, const struct principal *p, int64_t id, const char *name,
		       struct verr *ve)
{
	if (!check_text(ve, "name", name, NAME_MAX_BYTES, true))
		return -ERR_INVALID;
	return c->store->ops->sessions->device_rename(c->store, p->user.id, id, name);
}

int acct_device_revoke(struct core *c, int64_t user_id, int64_t id)
{
	int r = c->store->ops->sessions->device_revoke(c->store, user_id, id, clock_wall_ms());
	if (r == 0 && c->hub)
		hub_device_revoked(c->hub, id);
	return r;
}

int acct_token_create(struct core *c, int64_t user_id, const char *name, char out[TOKEN_LEN],
		      struct device *ret_device, struct verr *ve)
{
	return acct_token_create_for(c, user_id, name, NULL, out, ret_device, ve);
}

int acct_token_create_for(struct core *c, int64_t user_id, const char *name,
			  const char *client_version, char out[TOKEN_LEN],
			  struct device *ret_device, struct verr *ve)
{
	if (!check_text(ve, "name", name, NAME_MAX_BYTES, true) ||
	    !check_text(ve, "client_version", client_version, PLATFORM_MAX, false))
		return -ERR_INVALID;
	struct token_row t = { .kind = TOKEN_LONG, .expires_ms = 0 };
	token_new("clt_", out);
	token_hash(out, t.hash);
	memset(ret_device, 0, sizeof *ret_device);
	ret_device->user_id = user_id;
	ret_device->kind = DEVICE_TOKEN;
	snprintf(ret_device->name, sizeof ret_device->name, "%s", name);
	snprintf(ret_device->client_version, sizeof ret_device->client_version, "%s",
		 client_version ? client_version : "");
	return c->store->ops->sessions->session_open(c->store, ret_device, &t, 1, clock_wall_ms());
}

int acct_token_import(struct core *c, int64_t user_id, const char *name,
		      const char *client_version, const uint8_t hash[32], struct device *ret_device,
		      struct verr *ve)
{
	if (!check_text(ve, "name", name, NAME_MAX_BYTES, true) ||
	    !check_text(ve, "client_version", client_version, PLATFORM_MAX, false))
		return -ERR_INVALID;
	struct token_row t = { .kind = TOKEN_LONG, .expires_ms = 0 };
	memcpy(t.hash, hash, 32);
	memset(ret_device, 0, sizeof *ret_device);
	ret_device->user_id = user_id;
	ret_device->kind = DEVICE_TOKEN;
	snprintf(ret_device->name, sizeof ret_device->name, "%s", name);
	snprintf(ret_device->client_version, sizeof ret_device->client_version, "%s",
		 client_version ? client_version : "");
	return c->store->ops->sessions->session_open(c->store, ret_device, &t, 1, clock_wall_ms());
}

int acct_token_signup(struct core *c, const struct register_in *in, const char *device_name,
		      char out[TOKEN_LEN], struct user *ret_user, bool *ret_existing,
		      struct verr *ve, int *ret_retry)
{
	*ret_existing = false;
	struct realm rl;
	int r = acct_realm(c, in->realm, &rl, ve);
	if (r < 0)
		return r;
	struct user u;
	bool taken = in->username && *in->username && strlen(in->username) <= USERNAME_MAX &&
		     c->store->ops->accounts->user_find(c->store, rl.id, in->username, &u) == 0 &&
		     strcasecmp(u.username, in->username) == 0;
	if (taken) {
		/* the owner's password makes a new token: a protocol without a login logs in
		 * again this way (counted as a login, against the address and the account) */
		r = acct_limit(c, in->addr, rl.id, in->username, ret_retry);
		if (r < 0)
			return r;
		if (!in->password || strlen(in->password) > 1024 ||
		    !password_verify(u.password_hash, in->password)) {
			verr_add(ve, "username", "is taken");
			return -ERR_USERNAME_TAKEN;
		}
		if (u.disabled)
			return -ERR_DISABLED;
		if (!u.email_confirmed)
			return -ERR_UNCONFIRMED;
		*ret_existing = true;
	} else {
		struct realm ignored;
		r = acct_register(c, in, &u, &ignored, ve, ret_retry);
		if (r < 0)
			return r;
		if (!u.email_confirmed)
			return -ERR_UNCONFIRMED; /* not reached: such a realm wants an address */
	}
	struct device d;
	r = acct_token_create(c, u.id, device_name, out, &d, ve);
	if (r == 0)
		*ret_user = u;
	return r;
}
