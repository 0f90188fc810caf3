/* Sync's names and checks (roles, kinds, ops, record ids, JSON merge patch) and its
 * spaces: creation, members and roles, collections' policies, wrapped keys. */
#include "sync.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../store/store.h"
#include "../util/clock.h"
#include "../util/config.h"
#include "../util/err.h"
#include "../util/jtext.h"
#include "../util/log.h"
#include "../store/blob.h"
#include "accounts.h"
#include "blobs.h"
#include "hub.h"


static const char *const role_names[] = { "owner", "admin", "writer", "reader" };
static const char *const kind_names[] = { "private", "shared", "direct" };
static const char *const op_names[] = { "put", "patch", "delete" };
static const char *const policy_names[] = { "reject", "lww", "merge", "append" };

const char *role_name(enum role r)
{
	return r <= ROLE_READER ? role_names[r] : "none";
}

const char *space_kind_name(enum space_kind k)
{
	return k <= SPACE_DIRECT ? kind_names[k] : "?";
}

const char *op_name(enum change_op op)
{
	return op <= OP_DELETE ? op_names[op] : "?";
}

static int parse_role(const char *s, enum role *ret)
{
	for (int i = 0; s && i < 4; i++)
		if (!strcmp(s, role_names[i])) {
			*ret = (enum role)i;
			return 0;
		}
	return -ERR_INVALID;
}

/* Ids and names go into JSON text unescaped (pulls are built without a JSON library),
 * so their alphabet has nothing that needs escaping. */
static bool in_set(const char *s, size_t max, const char *extra)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      (ch && strchr(extra, ch))))
			return false;
	}
	return true;
}

bool valid_collection(const char *s)
{
	return in_set(s, COLLECTION_MAX, "_.-") && s[0] != '.' && s[0] != '-';
}

bool valid_record_id(const char *s)
{
	return in_set(s, RECORD_ID_MAX, "_.-:~@+=");
}

bool valid_op_id(const char *s)
{
	return in_set(s, OP_ID_MAX, "_.-:~");
}

json_object *json_merge_patch(json_object *target, json_object *patch)
{
	if (!json_object_is_type(patch, json_type_object)) {
		json_object *copy = NULL;
		if (patch && json_object_deep_copy(patch, &copy, NULL) != 0)
			return NULL;
		return copy; /* NULL for a JSON null */
	}
	json_object *out = NULL;
	if (json_object_is_type(target, json_type_object)) {
		if (json_object_deep_copy(target, &out, NULL) != 0)
			return NULL;
	} else {
		out = json_object_new_object();
	}
	json_object_object_foreach(patch, key, val)
	{
		if (!val) {
			json_object_object_del(out, key);
			continue;
		}
		json_object *cur = NULL;
		json_object_object_get_ex(out, key, &cur);
		json_object *merged = json_merge_patch(cur, val);
		if (!merged && val) {
			json_object_put(out);
			return NULL;
		}
		json_object_object_add(out, key, merged);
	}
	return out;
}

/* --- spaces and members --- */

int sync_space(struct core *c, const struct principal *p, const char *ref, struct space *ret)
{
	struct store *s = c->store;
	if (ref && !strcmp(ref, "me"))
		return s->ops->spaces->space_private(s, p->user.id, p->user.realm_id, clock_wall_ms(), ret);
	char *end;
	long long id = ref ? strtoll(ref, &end, 10) : 0;
	if (!ref || !*ref || *end || id <= 0)
		return -ERR_NOT_FOUND;
	int r = s->ops->spaces->space_get(s, id, ret);
	if (r < 0)
		return r;
	if (ret->realm_id != p->user.realm_id)
		return -ERR_NOT_FOUND;
	r = s->ops->spaces->member_role(s, id, p->user.id, &ret->role);
	return r; /* not a member: -ERR_NOT_FOUND, as for a space that does not exist */
}

int sync_space_for(struct core *c, const struct principal *p, const char *ref,
		   enum space_need need, struct space *ret)
{
	int r = sync_space(c, p, ref, ret);
	if (r < 0)
		return r;
	if (need == SPACE_WRITE && ret->role > ROLE_WRITER)
		return -ERR_READ_ONLY;
	if (need == SPACE_MANAGE && ret->role > ROLE_ADMIN)
		return -ERR_DENIED;
	return 0;
}

int sync_space_create(struct core *c, const struct principal *p, const char *name,
		      const char *kind, struct space *ret, struct verr *ve)
{
	check_text(ve, "name", name, NAME_MAX_BYTES, true);
	if (kind && strcmp(kind, "shared"))
		verr_add(ve, "kind", "must be \"shared\" (private and direct spaces are made by the "
				     "server)");
	if (ve->n)
		return -ERR_INVALID;
	memset(ret, 0, sizeof *ret);
	ret->realm_id = p->user.realm_id;
	ret->kind = SPACE_SHARED;
	snprintf(ret->name, sizeof ret->name, "%s", name);
	int r = c->store->ops->spaces->space_create(c->store, ret, p->user.id, clock_wall_ms());
	ret->role = ROLE_OWNER;
	if (r == 0 && c->hub)
		hub_membership(c->hub, p->user.id, ret->id, "owner");
	return r;
}

int sync_space_for_app(struct core *c, const struct principal *p, const char *app,
		       struct space *ret)
{
	bool made;
	int r = c->store->ops->spaces->space_for_app(c->store, p->user.id, p->user.realm_id, app,
						      clock_wall_ms(), ret, &made);
	if (r == 0 && made && c->hub)
		hub_membership(c->hub, p->user.id, ret->id, "owner");
	return r;
}

static bool can_manage(const struct space *sp)
{
	return sp->kind == SPACE_SHARED && (sp->role == ROLE_OWNER || sp->role == ROLE_ADMIN);
}

int sync_space_rename(struct core *c, const struct principal *p, const struct space *sp,
		      const char *name, struct verr *ve)
{
	(void)p;
	if (!check_text(ve, "name", name, NAME_MAX_BYTES, true))
		return -ERR_INVALID;
	if (!can_manage(sp))
		return -ERR_DENIED;
	return c->store->ops->spaces->space_rename(c->store, sp->id, name);
}

struct member_ids {
	int n;
	int64_t id[256]; /* members beyond this hear of the deletion on their next request */
};

static int collect_member(void *arg, const struct member *m)
{
	struct member_ids *ids = arg;
	if (ids->n < 256)
		ids->id[ids->n++] = m->user_id;
	return 0;
}

int sync_space_delete(struct core *c, const struct principal *p, const struct space *sp)
{
	(void)p;
	if (sp->kind != SPACE_SHARED || sp->role != ROLE_OWNER)
		return -ERR_DENIED;
	struct member_ids ids = { 0 };
	c->store->ops->spaces->member_list(c->store, sp->id, collect_member, &ids);
	int r = c->store->ops->spaces->space_delete(c->store, sp->id);
	for (int i = 0; r == 0 && c->hub && i < ids.n; i++)
		hub_membership(c->hub, ids.id[i], sp->id, NULL);
	return r;
}

int sync_user_by_name(struct core *c, const struct principal *p, const char *username,
		      struct user *u)
{
	if (!username || strlen(username) > USERNAME_MAX)
		return -ERR_NOT_FOUND;
	int r = c->store->ops->accounts->user_find(c->store, p->user.realm_id, username, u);
	/* by username only: a lookup that also matched addresses would tell any user who is
	 * registered under an address, and under which name */
	if (r == 0 && strcasecmp(u->username, username) != 0)
		r = -ERR_NOT_FOUND;
	return r;
}

/* That user, and their role in sp; -ERR_NOT_FOUND when either is missing. */
static int find_member(struct core *c, const struct principal *p, const struct space *sp,
		       const char *username, struct user *u, enum role *ret_role)
{
	int r = sync_user_by_name(c, p, username, u);
	if (r < 0)
		return r;
	return c->store->ops->spaces->member_role(c->store, sp->id, u->id, ret_role);
}

int sync_member_add(struct core *c, const struct principal *p, const struct space *sp,
		    const char *username, const char *role, struct verr *ve)
{
	enum role rl = ROLE_READER;
	if (!username || !*username)
		verr_add(ve, "username", "is required");
	if (parse_role(role, &rl) < 0)
		verr_add(ve, "role", "must be owner, admin, writer or reader");
	if (ve->n)
		return -ERR_INVALID;
	if (!can_manage(sp) || (rl == ROLE_OWNER && sp->role != ROLE_OWNER))
		return -ERR_DENIED;
	struct user u;
	int r = sync_user_by_name(c, p, username, &u);
	if (r == -ERR_NOT_FOUND) {
		verr_add(ve, "username", "is not a user of this realm");
		return -ERR_INVALID;
	}
	if (r < 0)
		return r;
	r = c->store->ops->spaces->member_add(c->store, sp->id, u.id, rl, clock_wall_ms());
	if (r == 0 && c->hub)
		hub_membership(c->hub, u.id, sp->id, role_name(rl));
	return r == -ERR_EXISTS ? -ERR_ALREADY_MEMBER : r;
}

int sync_member_set(struct core *c, const struct principal *p, const struct space *sp,
		    const char *username, const char *role, struct verr *ve)
{
	enum role rl = ROLE_READER;
	if (parse_role(role, &rl) < 0) {
		verr_add(ve, "role", "must be owner, admin, writer or reader");
		return -ERR_INVALID;
	}
	struct user u;
	enum role cur;
	int r = find_member(c, p, sp, username, &u, &cur);
	if (r < 0)
		return r;
	/* admins manage writers and readers; only owners touch owners and admins */
	if (!can_manage(sp) ||
	    (sp->role != ROLE_OWNER && (cur <= ROLE_ADMIN || rl <= ROLE_ADMIN)))
		return -ERR_DENIED;
	/* an owner may hand the space over: make another member owner, then step down (the
	 * store refuses to take the last owner's role away) */
	r = c->store->ops->spaces->member_set_role(c->store, sp->id, u.id, rl);
	if (r == 0 && c->hub)
		hub_membership(c->hub, u.id, sp->id, role_name(rl));
	return r == -ERR_CONFLICT ? -ERR_SOLE_OWNER : r;
}

int sync_member_remove(struct core *c, const struct principal *p, const struct space *sp,
		       const char *username)
{
	struct user u;
	enum role cur;
	int r = find_member(c, p, sp, username, &u, &cur);
	if (r < 0)
		return r;
	bool self = u.id == p->user.id;
	if (sp->kind != SPACE_SHARED)
		return -ERR_DENIED;
	if (!self && (!can_manage(sp) || (sp->role != ROLE_OWNER && cur <= ROLE_ADMIN)))
		return -ERR_DENIED;
	r = c->store->ops->spaces->member_delete(c->store, sp->id, u.id);
	if (r == 0 && c->hub)
		hub_membership(c->hub, u.id, sp->id, NULL);
	return r == -ERR_CONFLICT ? -ERR_SOLE_OWNER : r;
}

int sync_collection_set(struct core *c, const struct principal *p, const struct space *sp,
			const char *name, const char *policy, struct verr *ve)
{
	(void)p;
	int pol = -1;
	for (int i = 0; policy && i < 4; i++)
		if (!strcmp(policy, policy_names[i]))
			pol = i;
	if (!valid_collection(name))
		verr_add(ve, "name", "must be 1 to %d of a-z, A-Z, 0-9, '_', '.', '-'", COLLECTION_MAX);
	if (pol < 0)
		verr_add(ve, "conflict", "must be reject, lww, merge or append");
	if (name && !strcmp(name, "files"))
		verr_add(ve, "name", "files has rules of its own (a stale base_version is a "
				     "conflict, kept as a conflict copy on request): its policy is "
				     "not set");
	if (ve->n)
		return -ERR_INVALID;
	if (sp->kind == SPACE_SHARED ? !can_manage(sp) : sp->role != ROLE_OWNER)
		return -ERR_DENIED;
	return c->store->ops->spaces->collection_set(c->store, sp->id, name, (enum policy)pol);
}

int sync_keys_put(struct core *c, const struct principal *p, const struct space *sp,
		  int64_t epoch, json_object *keys, struct verr *ve)
{
	(void)p;
	if (epoch < 1)
		verr_add(ve, "epoch", "must be a whole number above the current epoch");
	if (!json_object_is_type(keys, json_type_object) || json_object_object_length(keys) < 1 ||
	    json_object_object_length(keys) > 10000)
		verr_add(ve, "keys", "must map every member's user id to their wrapped key");
	if (ve->n)
		return -ERR_INVALID;
	bool manager = sp->kind == SPACE_SHARED ? can_manage(sp) : sp->role == ROLE_OWNER;
	if (!manager)
		return -ERR_DENIED;
	int n = json_object_object_length(keys);
	int64_t *ids = calloc((size_t)n, sizeof *ids);
	const char **wrapped = calloc((size_t)n, sizeof *wrapped);
	if (!ids || !wrapped) {
		free(ids);
		free(wrapped);
		return -ERR_NOMEM;
	}
	int i = 0;
	json_object_object_foreach(keys, key, val)
	{
		char *end;
		long long id = strtoll(key, &end, 10);
		if (!*key || *end || id <= 0)
			verr_add(ve, "keys", "names user ids: '%.20s' is not one", key);
		else if (!jtext_string(val) ||
			 !check_text(ve, "keys", jtext_string(val), PUBLIC_KEY_MAX, true))
			verr_add(ve, "keys", "values must be wrapped keys (text, at most %d bytes)",
				 PUBLIC_KEY_MAX);
		else {
			ids[i] = id;
			wrapped[i++] = jtext_string(val);
		}
	}
	int r = ve->n ? -ERR_INVALID
		      : c->store->ops->spaces->keys_put(c->store, sp->id, epoch, ids, wrapped, i);
	free(ids);
	free(wrapped);
	return r == -ERR_CONFLICT ? -ERR_KEY_EPOCH : r;
}

int sync_spaces_list(struct core *c, const struct principal *p,
		     int (*cb)(void *arg, const struct space *sp), void *arg)
{
	struct space me;
	int r = sync_space(c, p, "me", &me); /* the private space always exists */
	return r < 0 ? r : c->store->ops->spaces->space_list(c->store, p->user.id, cb, arg);
}

int sync_members_list(struct core *c, const struct principal *p, const struct space *sp,
		      int (*cb)(void *arg, const struct member *m), void *arg)
{
	(void)p; /* sp came from sync_space for p: p is a member */
	return c->store->ops->spaces->member_list(c->store, sp->id, cb, arg);
}

int sync_key_get(struct core *c, const struct principal *p, const struct space *sp,
		 int64_t *ret_epoch, char **ret_key)
{
	return c->store->ops->spaces->key_get(c->store, sp->id, p->user.id, ret_epoch, ret_key);
}

int sync_epochs_renew(struct core *c, int64_t *ret_n)
{
	return c->store->ops->spaces->space_epochs_renew(c->store, ret_n);
}
