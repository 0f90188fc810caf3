/* /api/v1/spaces: spaces, members, collections, wrapped keys. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/blobs.h"
#include "../core/commit.h"
#include "../core/gc.h"
#include "../core/hub.h"
#include "../core/sync.h"
#include "../util/clock.h"
#include "../util/conditional.h"
#include "../util/config.h"
#include "../util/err.h"
#include "../util/jtext.h"
#include "app.h"
#include "handlers.h"
#include "helpers.h"

static json_object *space_json(const struct space *sp)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(sp->id));
	json_object_object_add(o, "kind", json_object_new_string(space_kind_name(sp->kind)));
	json_object_object_add(o, "name", json_object_new_string(sp->name));
	json_object_object_add(o, "role", json_object_new_string(role_name(sp->role)));
	json_object_object_add(o, "head_seq", json_object_new_int64(sp->head_seq));
	json_object_object_add(o, "epoch", json_object_new_string(sp->epoch));
	json_object_object_add(o, "key_epoch", json_object_new_int64(sp->key_epoch));
	json_object_object_add(o, "created_at", json_time(sp->created_ms));
	return o;
}

static int add_space(void *arg, const struct space *sp)
{
	json_object_array_add(arg, space_json(sp));
	return 0;
}

int h_spaces_list(struct req *r)
{
	const struct principal *p = auth_or_reply(r);
	if (!p)
		return 0;
	json_object *arr = json_object_new_array();
	int e = sync_spaces_list(core_of(r), p, add_space, arr);
	if (e < 0) {
		json_object_put(arr);
		return reply_core_error(r, e, NULL, 0);
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "spaces", arr);
	return http_reply_json(r, 200, o);
}

int h_spaces_create(struct req *r)
{
	const struct principal *p = auth_or_reply(r);
	if (!p || !object_or_reply(r, false))
		return 0;
	struct verr ve = { 0 };
	const char *name = jstr(r, "name", &ve);
	const char *kind = jstr(r, "kind", &ve);
	struct space sp;
	int e = ve.n ? -ERR_INVALID : sync_space_create(core_of(r), p, name, kind, &sp, &ve);
	if (e < 0)
		return reply_core_error(r, e, &ve, 0);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "space", space_json(&sp));
	return http_reply_json(r, 201, o);
}

int h_space_get(struct req *r)
{
	struct space sp;
	if (!space_or_reply(r, &sp))
		return 0;
	json_object *o = json_object_new_object();
	json_object_object_add(o, "space", space_json(&sp));
	return http_reply_json(r, 200, o);
}

int h_space_patch(struct req *r)
{
	struct space sp;
	const struct principal *p = space_or_reply(r, &sp);
	if (!p || !object_or_reply(r, false))
		return 0;
	struct verr ve = { 0 };
	const char *name = jstr(r, "name", &ve);
	int e = ve.n ? -ERR_INVALID : sync_space_rename(core_of(r), p, &sp, name, &ve);
	if (e < 0)
		return reply_core_error(r, e, &ve, 0);
	snprintf(sp.name, sizeof sp.name, "%s", name);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "space", space_json(&sp));
	return http_reply_json(r, 200, o);
}

int h_space_delete(struct req *r)
{
	struct space sp;
	const struct principal *p = space_or_reply(r, &sp);
	if (!p)
		return 0;
	int e = sync_space_delete(core_of(r), p, &sp);
	if (e < 0)
		return reply_core_error(r, e, NULL, 0);
	return http_reply_bytes(r, 204, NULL, "", 0);
}

static int add_member(void *arg, const struct member *m)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "user_id", json_object_new_int64(m->user_id));
	json_object_object_add(o, "username", json_object_new_string(m->username));
	json_object_object_add(o, "role", json_object_new_string(role_name(m->role)));
	json_object_object_add(o, "key_epoch", json_object_new_int64(m->key_epoch));
	json_object_object_add(o, "added_at", json_time(m->added_ms));
	json_object_array_add(arg, o);
	return 0;
}

int h_members_list(struct req *r)
{
	struct space sp;
	const struct principal *p = space_or_reply(r, &sp);
	if (!p)
		return 0;
	json_object *arr = json_object_new_array();
	int e = sync_members_list(core_of(r), p, &sp, add_member, arr);
	if (e < 0) {
		json_object_put(arr);
		return reply_core_error(r, e, NULL, 0);
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "members", arr);
	return http_reply_json(r, 200, o);
}

int h_members_add(struct req *r)
{
	struct space sp;
	const struct principal *p = space_or_reply(r, &sp);
	if (!p || !object_or_reply(r, false))
		return 0;
	struct verr ve = { 0 };
	const char *username = jstr(r, "username", &ve);
	const char *role = jstr(r, "role", &ve);
	int e = ve.n ? -ERR_INVALID : sync_member_add(core_of(r), p, &sp, username, role, &ve);
	if (e < 0)
		return reply_core_error(r, e, &ve, 0);
	return h_members_list(r);
}

int h_member_patch(struct req *r)
{
	struct space sp;
	const struct principal *p = space_or_reply(r, &sp);
	if (!p || !object_or_reply(r, false))
		return 0;
	struct verr ve = { 0 };
	const char *role = jstr(r, "role", &ve);
	int e = ve.n ? -ERR_INVALID
		     : sync_member_set(core_of(r), p, &sp, http_param(r, "username"), role, &ve);
	if (e < 0)
		return reply_core_error(r, e, &ve, 0);
	return h_members_list(r);
}

int h_member_delete(struct req *r)
{
	struct space sp;
	const struct principal *p = space_or_reply(r, &sp);
	if (!p)
		return 0;
	int e = sync_member_remove(core_of(r), p, &sp, http_param(r, "username"));
	if (e < 0)
		return reply_core_error(r, e, NULL, 0);
	return http_reply_bytes(r, 204, NULL, "", 0);
}

int h_collection_put(struct req *r)
{
	struct space sp;
	const struct principal *p = space_or_reply(r, &sp);
	if (!p || !object_or_reply(r, false))
		return 0;
	struct verr ve = { 0 };
	const char *policy = jstr(r, "conflict", &ve);
	const char *name = http_param(r, "name");
	int e = ve.n ? -ERR_INVALID : sync_collection_set(core_of(r), p, &sp, name, policy, &ve);
	if (e < 0)
		return reply_core_error(r, e, &ve, 0);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "conflict", json_object_new_string(policy));
	return http_reply_json(r, 200, o);
}

int h_keys_put(struct req *r)
{
	struct space sp;
	const struct principal *p = space_or_reply(r, &sp);
	if (!p || !object_or_reply(r, false))
		return 0;
	struct verr ve = { 0 };
	int64_t epoch = jint(r, "epoch", 0, &ve);
	json_object *keys = NULL;
	json_object_object_get_ex(r->json, "keys", &keys);
	int e = ve.n ? -ERR_INVALID : sync_keys_put(core_of(r), p, &sp, epoch, keys, &ve);
	if (e < 0)
		return reply_core_error(r, e, &ve, 0);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "key_epoch", json_object_new_int64(epoch));
	return http_reply_json(r, 200, o);
}

int h_keys_get(struct req *r)
{
	struct space sp;
	const struct principal *p = space_or_reply(r, &sp);
	if (!p)
		return 0;
	int64_t epoch = 0;
	char *key = NULL;
	int e = sync_key_get(core_of(r), p, &sp, &epoch, &key);
	if (e < 0)
		return reply_core_error(r, e, NULL, 0);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "epoch", json_object_new_int64(epoch));
	json_object_object_add(o, "wrapped_key", json_object_new_string(key));
	free(key);
	return http_reply_json(r, 200, o);
}
