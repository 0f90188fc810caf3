/* Devices: a user's signed-in sessions and long-lived tokens, each a principal that can be
 * renamed and revoked on its own. */
#include "accounts.h"

#include <stdio.h>
#include <string.h>

#include "../store/store.h"
#include "../util/clock.h"
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
	if (!check_text(ve, "name", name, NAME_MAX_BYTES, true))
		return -ERR_INVALID;
	struct token_row t = { .kind = TOKEN_LONG, .expires_ms = 0 };
	token_new("clt_", out);
	token_hash(out, t.hash);
	memset(ret_device, 0, sizeof *ret_device);
	ret_device->user_id = user_id;
	ret_device->kind = DEVICE_TOKEN;
	snprintf(ret_device->name, sizeof ret_device->name, "%s", name);
	return c->store->ops->sessions->session_open(c->store, ret_device, &t, 1, clock_wall_ms());
}
