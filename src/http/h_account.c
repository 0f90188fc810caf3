/* /api/v1/account, /api/v1/users/{username}/public-key, /api/v1/devices, /api/v1/tokens. */
#include <stdlib.h>
#include <string.h>

#include "../core/accounts.h"
#include "../core/blobs.h"
#include "../util/err.h"
#include "../util/config.h"
#include "app.h"
#include "handlers.h"
#include "helpers.h"


int h_account_get(struct req *r)
{
	const struct principal *p = auth_or_reply(r);
	if (!p)
		return 0;
	json_object *o = json_object_new_object();
	json_object_object_add(o, "user", json_user(&p->user, p->realm.name));
	json_object *rl = json_object_new_object();
	json_object_object_add(rl, "name", json_object_new_string(p->realm.name));
	json_object_object_add(rl, "display_name", json_object_new_string(p->realm.display_name));
	json_object_object_add(o, "realm", rl);
	json_object_object_add(o, "device", json_device(&p->device, p->device.id));
	/* blob storage: what the user holds against the quotas (null: none) */
	const struct config *cfg = core_of(r)->cfg;
	int64_t used = 0, realm_used = 0;
	if (blob_usage(core_of(r), p, &used, &realm_used) < 0) {
		json_object_put(o);
		return http_reply_error(r, AE_INTERNAL, NULL, NULL);
	}
	json_object *st = json_object_new_object();
	json_object_object_add(st, "used", json_object_new_int64(used));
	json_object_object_add(st, "quota", blobs_cfg(cfg)->user_quota > 0
						    ? json_object_new_int64(blobs_cfg(cfg)->user_quota)
						    : NULL);
	json_object_object_add(st, "realm_used", json_object_new_int64(realm_used));
	json_object_object_add(st, "realm_quota",
			       blobs_cfg(cfg)->realm_quota > 0
				       ? json_object_new_int64(blobs_cfg(cfg)->realm_quota)
				       : NULL);
	json_object_object_add(o, "storage", st);
	return http_reply_json(r, 200, o);
}

int h_account_password(struct req *r)
{
	const struct principal *p = auth_or_reply(r);
	if (!p || !object_or_reply(r, false))
		return 0;
	struct verr ve = { 0 };
	const char *cur = jstr(r, "current_password", &ve);
	const char *nw = jstr(r, "new_password", &ve);
	if (ve.n)
		return reply_core_error(r, -ERR_INVALID, &ve, 0);
	int e = acct_change_password(core_of(r), p, cur, nw, &ve);
	if (e < 0)
		return reply_core_error(r, e, &ve, 0);
	return http_reply_bytes(r, 204, NULL, "", 0);
}

int h_account_delete(struct req *r)
{
	const struct principal *p = auth_or_reply(r);
	if (!p || !object_or_reply(r, false))
		return 0;
	struct verr ve = { 0 };
	const char *pw = jstr(r, "password", &ve);
	if (ve.n)
		return reply_core_error(r, -ERR_INVALID, &ve, 0);
	struct orphaned o;
	int e = acct_delete(core_of(r), p, pw, &ve, &o);
	if (e == -ERR_LAST_OWNER)
		return reply_orphaned(r, &o);
	if (e < 0)
		return reply_core_error(r, e, &ve, 0);
	return http_reply_bytes(r, 204, NULL, "", 0);
}

int h_public_key_put(struct req *r)
{
	const struct principal *p = auth_or_reply(r);
	if (!p || !object_or_reply(r, false))
		return 0;
	struct verr ve = { 0 };
	const char *key = jstr(r, "public_key", &ve);
	int e = ve.n ? -ERR_INVALID : acct_set_public_key(core_of(r), p, key, &ve);
	if (e < 0)
		return reply_core_error(r, e, &ve, 0);
	return http_reply_bytes(r, 204, NULL, "", 0);
}

int h_public_key_get(struct req *r)
{
	const struct principal *p = auth_or_reply(r);
	if (!p)
		return 0;
	const char *username = http_param(r, "username");
	char *key = NULL;
	int e = acct_get_public_key(core_of(r), p, username, &key);
	if (e < 0)
		return reply_core_error(r, e, NULL, 0);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "username", json_object_new_string(username));
	json_object_object_add(o, "public_key", json_object_new_string(key));
	free(key);
	return http_reply_json(r, 200, o);
}

struct list_ctx {
	json_object *arr;
	int64_t current;
};

static int add_device(void *arg, const struct device *d)
{
	struct list_ctx *l = arg;
	json_object_array_add(l->arr, json_device(d, l->current));
	return 0;
}

int h_devices_list(struct req *r)
{
	const struct principal *p = auth_or_reply(r);
	if (!p)
		return 0;
	struct list_ctx l = { json_object_new_array(), p->device.id };
	int e = acct_devices_list(core_of(r), p->user.id, add_device, &l);
	if (e < 0) {
		json_object_put(l.arr);
		return reply_core_error(r, e, NULL, 0);
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "devices", l.arr);
	return http_reply_json(r, 200, o);
}

int h_device_patch(struct req *r)
{
	const struct principal *p = auth_or_reply(r);
	if (!p || !object_or_reply(r, false))
		return 0;
	int64_t id = param_id(r, "id");
	struct verr ve = { 0 };
	const char *name = jstr(r, "name", &ve);
	if (!id)
		return http_reply_error(r, AE_NOT_FOUND, NULL, NULL);
	int e = ve.n ? -ERR_INVALID : acct_device_rename(core_of(r), p, id, name, &ve);
	if (e < 0)
		return reply_core_error(r, e, &ve, 0);
	struct device d;
	e = acct_device_get(core_of(r), p->user.id, id, &d);
	if (e < 0)
		return reply_core_error(r, e, NULL, 0);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "device", json_device(&d, p->device.id));
	return http_reply_json(r, 200, o);
}

int h_device_delete(struct req *r)
{
	const struct principal *p = auth_or_reply(r);
	if (!p)
		return 0;
	const char *raw = http_param(r, "id");
	int64_t id = raw && !strcmp(raw, "current") ? p->device.id : param_id(r, "id");
	if (!id)
		return http_reply_error(r, AE_NOT_FOUND, NULL, NULL);
	int e = acct_device_revoke(core_of(r), p->user.id, id);
	if (e < 0)
		return reply_core_error(r, e, NULL, 0);
	return http_reply_bytes(r, 204, NULL, "", 0);
}

int h_tokens_create(struct req *r)
{
	const struct principal *p = auth_or_reply(r);
	if (!p || !object_or_reply(r, false))
		return 0;
	struct verr ve = { 0 };
	const char *name = jstr(r, "name", &ve);
	char token[TOKEN_LEN];
	struct device d;
	int e = ve.n ? -ERR_INVALID : acct_token_create(core_of(r), p->user.id, name, token, &d, &ve);
	if (e < 0)
		return reply_core_error(r, e, &ve, 0);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "token", json_object_new_string(token));
	json_object_object_add(o, "device", json_device(&d, p->device.id));
	http_add_header(r, "Cache-Control", "no-store");
	return http_reply_json(r, 201, o);
}
