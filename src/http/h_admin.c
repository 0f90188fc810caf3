/* /api/v1/admin/...: users, realms, stats. Server admins only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/accounts.h"
#include "../util/err.h"
#include "app.h"
#include "handlers.h"
#include "helpers.h"

#define PAGE_DEFAULT 50
#define PAGE_MAX 500


/* Realm names by id, for listing users of every realm. */
struct realm_names {
	int n;
	int64_t ids[64];
	char names[64][REALM_NAME_MAX + 1];
};

static int remember_realm(void *arg, const struct realm *rl)
{
	struct realm_names *rn = arg;
	if (rn->n == 64)
		return -1;
	rn->ids[rn->n] = rl->id;
	snprintf(rn->names[rn->n], sizeof rn->names[0], "%s", rl->name);
	rn->n++;
	return 0;
}

/* Loads realm names up front: list callbacks may not call the store. */
static void load_realm_names(struct core *c, struct realm_names *rn)
{
	rn->n = 0;
	admin_realms_list(c, NULL, remember_realm, rn); /* the route checked the caller */
}

static const char *realm_name(struct core *c, struct realm_names *rn, int64_t id)
{
	for (int i = 0; i < rn->n; i++)
		if (rn->ids[i] == id)
			return rn->names[i];
	struct realm rl;
	if (admin_realm_by_id(c, NULL, id, &rl) < 0)
		return "?";
	if (rn->n == 64)
		rn->n = 0;
	rn->ids[rn->n] = id;
	snprintf(rn->names[rn->n], sizeof rn->names[0], "%s", rl.name);
	return rn->names[rn->n++];
}

/* For list callbacks: only what load_realm_names found. */
static const char *cached_realm_name(const struct realm_names *rn, int64_t id)
{
	for (int i = 0; i < rn->n; i++)
		if (rn->ids[i] == id)
			return rn->names[i];
	return "?";
}

struct user_list {
	struct core *core;
	struct realm_names rn;
	json_object *arr;
	int count, limit;
	bool more;
	int64_t last_id;
};

static int add_user(void *arg, const struct user *u)
{
	struct user_list *l = arg;
	if (l->count == l->limit) {
		l->more = true; /* the one past the page */
		return -1;
	}
	json_object_array_add(l->arr, json_user(u, cached_realm_name(&l->rn, u->realm_id)));
	l->count++;
	l->last_id = u->id;
	return 0;
}

int h_admin_users_list(struct req *r)
{
	if (!admin_or_reply(r))
		return 0;
	const char *q = http_query(r, "q");
	const char *realm = http_query(r, "realm");
	const char *after = http_query(r, "after");
	const char *lim = http_query(r, "limit");
	struct verr ve = { 0 };
	if (q && strlen(q) > EMAIL_MAX)
		verr_add(&ve, "q", "must be at most %d bytes", EMAIL_MAX);
	char *end;
	long long after_id = after ? strtoll(after, &end, 10) : 0;
	if (after && (*end || after_id < 0))
		verr_add(&ve, "after", "must be a user id");
	long long limit = lim ? strtoll(lim, &end, 10) : PAGE_DEFAULT;
	if (lim && (*end || limit < 1 || limit > PAGE_MAX))
		verr_add(&ve, "limit", "must be from 1 to %d", PAGE_MAX);
	struct realm rl = { 0 };
	if (realm && !ve.n) {
		int e = acct_realm(core_of(r), realm, &rl, &ve);
		if (e < 0 && e != -ERR_INVALID)
			return reply_core_error(r, e, NULL, 0);
	}
	if (ve.n)
		return reply_core_error(r, -ERR_INVALID, &ve, 0);
	struct user_list l = { .core = core_of(r), .arr = json_object_new_array(), .limit = (int)limit };
	load_realm_names(core_of(r), &l.rn);
	int e = admin_users_list(core_of(r), r->auth, rl.id, q, after_id, (int)limit + 1, add_user,
				 &l);
	if (e < 0) {
		json_object_put(l.arr);
		return reply_core_error(r, e, NULL, 0);
	}
	/* We asked for limit + 1 rows; add_user refuses the last one, so more is that one. */
	bool more = l.count == l.limit && l.more;
	json_object *o = json_object_new_object();
	json_object_object_add(o, "users", l.arr);
	json_object_object_add(o, "next", l.count ? json_object_new_int64(l.last_id) : NULL);
	json_object_object_add(o, "more", json_object_new_boolean(more));
	return http_reply_json(r, 200, o);
}

static void read_user_in(struct req *r, struct user_in *in, struct verr *ve)
{
	in->username = jstr(r, "username", ve);
	in->password = jstr(r, "password", ve);
	in->email = jstr(r, "email", ve);
	in->realm = jstr(r, "realm", ve);
	in->name = jstr(r, "name", ve);
	in->is_admin = jbool(r, "is_admin", ve);
	in->disabled = jbool(r, "disabled", ve);
	in->email_confirmed = jbool(r, "email_confirmed", ve);
}

static int reply_user(struct req *r, unsigned status, const struct user *u)
{
	struct realm_names rn = { 0 };
	json_object *o = json_object_new_object();
	json_object_object_add(o, "user", json_user(u, realm_name(core_of(r), &rn, u->realm_id)));
	return http_reply_json(r, status, o);
}

int h_admin_users_create(struct req *r)
{
	const struct principal *p = admin_or_reply(r);
	if (!p || !object_or_reply(r, false))
		return 0;
	struct verr ve = { 0 };
	struct user_in in;
	read_user_in(r, &in, &ve);
	if (ve.n)
		return reply_core_error(r, -ERR_INVALID, &ve, 0);
	struct user u;
	int e = admin_user_create(core_of(r), p, &in, &u, &ve);
	if (e < 0)
		return reply_core_error(r, e, &ve, 0);
	return reply_user(r, 201, &u);
}

int h_admin_user_get(struct req *r)
{
	if (!admin_or_reply(r))
		return 0;
	struct user u;
	int64_t id = param_id(r, "id");
	int e = id ? admin_user_get(core_of(r), r->auth, id, &u) : -ERR_NOT_FOUND;
	if (e < 0)
		return reply_core_error(r, e, NULL, 0);
	return reply_user(r, 200, &u);
}

int h_admin_user_patch(struct req *r)
{
	const struct principal *p = admin_or_reply(r);
	if (!p || !object_or_reply(r, false))
		return 0;
	struct verr ve = { 0 };
	struct user_in in;
	read_user_in(r, &in, &ve);
	if (in.username || in.realm)
		verr_add(&ve, in.username ? "username" : "realm", "cannot be changed");
	if (ve.n)
		return reply_core_error(r, -ERR_INVALID, &ve, 0);
	struct user u;
	int64_t id = param_id(r, "id");
	int e = id ? admin_user_update(core_of(r), p, id, &in, &u, &ve) : -ERR_NOT_FOUND;
	if (e < 0)
		return reply_core_error(r, e, &ve, 0);
	return reply_user(r, 200, &u);
}

int h_admin_user_delete(struct req *r)
{
	const struct principal *p = admin_or_reply(r);
	if (!p)
		return 0;
	int64_t id = param_id(r, "id");
	struct orphaned o;
	int e = id ? admin_user_delete(core_of(r), p, id, &o) : -ERR_NOT_FOUND;
	if (e == -ERR_LAST_OWNER)
		return reply_orphaned(r, &o);
	if (e < 0)
		return reply_core_error(r, e, NULL, 0);
	return http_reply_bytes(r, 204, NULL, "", 0);
}

static int add_realm(void *arg, const struct realm *rl)
{
	json_object_array_add(arg, json_realm(rl));
	return 0;
}

int h_admin_realms_list(struct req *r)
{
	if (!admin_or_reply(r))
		return 0;
	json_object *arr = json_object_new_array();
	int e = admin_realms_list(core_of(r), r->auth, add_realm, arr);
	if (e < 0) {
		json_object_put(arr);
		return reply_core_error(r, e, NULL, 0);
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "realms", arr);
	return http_reply_json(r, 200, o);
}

static void read_realm_in(struct req *r, struct realm_in *in, struct verr *ve)
{
	in->name = jstr(r, "name", ve);
	in->display_name = jstr(r, "display_name", ve);
	in->signup_open = jbool(r, "signup_open", ve);
	in->confirm_email = jbool(r, "confirm_email", ve);
	in->access_ttl_s = jint(r, "access_ttl_s", 0, ve);
	in->refresh_ttl_s = jint(r, "refresh_ttl_s", 0, ve);
}

static int reply_realm(struct req *r, unsigned status, const struct realm *rl)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "realm", json_realm(rl));
	return http_reply_json(r, status, o);
}

int h_admin_realms_create(struct req *r)
{
	const struct principal *p = admin_or_reply(r);
	if (!p || !object_or_reply(r, false))
		return 0;
	struct verr ve = { 0 };
	struct realm_in in;
	read_realm_in(r, &in, &ve);
	if (ve.n)
		return reply_core_error(r, -ERR_INVALID, &ve, 0);
	struct realm rl;
	int e = admin_realm_create(core_of(r), p, &in, &rl, &ve);
	if (e < 0)
		return reply_core_error(r, e, &ve, 0);
	return reply_realm(r, 201, &rl);
}

int h_admin_realm_patch(struct req *r)
{
	const struct principal *p = admin_or_reply(r);
	if (!p || !object_or_reply(r, false))
		return 0;
	struct verr ve = { 0 };
	struct realm_in in;
	read_realm_in(r, &in, &ve);
	if (in.name)
		verr_add(&ve, "name", "cannot be changed");
	if (ve.n)
		return reply_core_error(r, -ERR_INVALID, &ve, 0);
	struct realm rl;
	const char *name = http_param(r, "name");
	int e = name ? admin_realm_update(core_of(r), p, name, &in, &rl, &ve) : -ERR_NOT_FOUND;
	if (e < 0)
		return reply_core_error(r, e, &ve, 0);
	return reply_realm(r, 200, &rl);
}

int h_admin_stats(struct req *r)
{
	if (!admin_or_reply(r))
		return 0;
	struct store_stats st;
	int e = admin_stats(core_of(r), r->auth, &st);
	if (e < 0)
		return reply_core_error(r, e, NULL, 0);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "realms", json_object_new_int64(st.realms));
	json_object_object_add(o, "users", json_object_new_int64(st.users));
	json_object_object_add(o, "devices", json_object_new_int64(st.devices));
	json_object_object_add(o, "active_devices", json_object_new_int64(st.active_devices));
	json_object_object_add(o, "spaces", json_object_new_int64(st.spaces));
	json_object_object_add(o, "changes", json_object_new_int64(st.changes));
	json_object_object_add(o, "blobs", json_object_new_int64(st.blobs));
	json_object_object_add(o, "blob_bytes", json_object_new_int64(st.blob_bytes));
	json_object_object_add(o, "mails_pending", json_object_new_int64(st.mails_pending));
	return http_reply_json(r, 200, o);
}
