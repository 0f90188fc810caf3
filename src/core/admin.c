/* Administration: users and realms managed by a server admin (or the CLI, which passes no
 * principal), and the first admin at start-up. */
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
#include "hub.h"
#include "tokencache.h"

static int admin_or_reply(const struct principal *p)
{
	return !p || p->user.is_admin ? 0 : -ERR_ADMIN_REQUIRED;
}

int admin_user_create(struct core *c, const struct principal *p, const struct user_in *in,
		      struct user *ret, struct verr *ve)
{
	int r = admin_or_reply(p);
	if (r < 0)
		return r;
	struct realm rl;
	check_username(ve, "username", in->username, true);
	check_password(ve, "password", in->password);
	check_email(ve, "email", in->email, false);
	check_text(ve, "name", in->name, NAME_MAX_BYTES, false);
	r = acct_realm(c, in->realm, &rl, ve);
	if (r < 0 && r != -ERR_INVALID)
		return r;
	if (ve->n)
		return -ERR_INVALID;
	struct user u = { .realm_id = rl.id, .is_admin = in->is_admin > 0,
			  .disabled = in->disabled > 0,
			  .email_confirmed = in->email_confirmed != 0, .created_ms = clock_wall_ms() };
	snprintf(u.username, sizeof u.username, "%s", in->username);
	snprintf(u.email, sizeof u.email, "%s", in->email ? in->email : "");
	snprintf(u.name, sizeof u.name, "%s", in->name ? in->name : "");
	r = acct_create_user(c, &u, in->password, ve);
	if (r == 0)
		*ret = u;
	return r;
}

int admin_user_update(struct core *c, const struct principal *p, int64_t id,
		      const struct user_in *in, struct user *ret, struct verr *ve)
{
	int r = admin_or_reply(p);
	if (r < 0)
		return r;
	struct user u;
	r = c->store->ops->accounts->user_get(c->store, id, &u);
	if (r < 0)
		return r;
	if (in->email)
		check_email(ve, "email", in->email, false);
	if (in->name)
		check_text(ve, "name", in->name, NAME_MAX_BYTES, false);
	if (in->password)
		check_password(ve, "password", in->password);
	if (ve->n)
		return -ERR_INVALID;
	if (p && p->user.id == id && (in->disabled > 0 || in->is_admin == 0)) {
		verr_add(ve, in->disabled > 0 ? "disabled" : "is_admin",
			 "cannot be set on your own account");
		return -ERR_INVALID;
	}
	if (in->email) {
		struct user other;
		if (*in->email && c->store->ops->accounts->user_find(c->store, u.realm_id, in->email, &other) == 0 &&
		    other.id != u.id) {
			verr_add(ve, "email", "is taken");
			return -ERR_EMAIL_TAKEN;
		}
		snprintf(u.email, sizeof u.email, "%s", in->email);
	}
	if (in->name)
		snprintf(u.name, sizeof u.name, "%s", in->name);
	if (in->is_admin >= 0)
		u.is_admin = in->is_admin;
	if (in->disabled >= 0)
		u.disabled = in->disabled;
	if (in->email_confirmed >= 0)
		u.email_confirmed = in->email_confirmed;
	r = c->store->ops->accounts->user_update(c->store, &u);
	if (r == -ERR_EXISTS) {
		verr_add(ve, "email", "is taken");
		r = -ERR_EMAIL_TAKEN;
	}
	if (r == 0 && in->password) {
		r = password_hash(c, in->password, u.password_hash);
		if (r == 0)
			r = c->store->ops->accounts->user_set_password(c->store, u.id, u.password_hash, 0,
							     clock_wall_ms());
	}
	if (r == 0 && c->hub && (in->disabled >= 0 || in->password))
		hub_access_changed(c->hub, id, 0, 0); /* disabled, or every session ended */
	if (r == 0)
		r = c->store->ops->accounts->user_get(c->store, id, ret);
	return r;
}

int admin_user_delete(struct core *c, const struct principal *p, int64_t id, struct orphaned *o)
{
	memset(o, 0, sizeof *o);
	int r = admin_or_reply(p);
	if (r < 0)
		return r;
	if (p && p->user.id == id)
		return -ERR_OWN_ACCOUNT;
	return acct_delete_user(c, id, o);
}

static void check_realm_in(struct verr *ve, const struct realm_in *in)
{
	if (in->display_name)
		check_text(ve, "display_name", in->display_name, NAME_MAX_BYTES, false);
	if (in->access_ttl_s && (in->access_ttl_s < 60 || in->access_ttl_s > 30LL * 86400))
		verr_add(ve, "access_ttl_s", "must be from 60 to 2592000 seconds");
	if (in->refresh_ttl_s && (in->refresh_ttl_s < 3600 || in->refresh_ttl_s > 365LL * 86400))
		verr_add(ve, "refresh_ttl_s", "must be from 3600 to 31536000 seconds");
}

static void apply_realm_in(struct realm *rl, const struct realm_in *in)
{
	if (in->display_name)
		snprintf(rl->display_name, sizeof rl->display_name, "%s", in->display_name);
	if (in->signup_open >= 0)
		rl->signup_open = in->signup_open;
	if (in->confirm_email >= 0)
		rl->confirm_email = in->confirm_email;
	if (in->access_ttl_s)
		rl->access_ttl_s = in->access_ttl_s;
	if (in->refresh_ttl_s)
		rl->refresh_ttl_s = in->refresh_ttl_s;
}

int admin_realm_create(struct core *c, const struct principal *p, const struct realm_in *in,
		       struct realm *ret, struct verr *ve)
{
	int r = admin_or_reply(p);
	if (r < 0)
		return r;
	check_realm_name(ve, "name", in->name);
	check_realm_in(ve, in);
	if (ve->n)
		return -ERR_INVALID;
	struct realm rl = { .signup_open = true, .access_ttl_s = 3600, .refresh_ttl_s = 2592000 };
	snprintf(rl.name, sizeof rl.name, "%s", in->name);
	snprintf(rl.display_name, sizeof rl.display_name, "%s", in->name);
	apply_realm_in(&rl, in);
	r = c->store->ops->accounts->realm_create(c->store, &rl);
	if (r == -ERR_EXISTS) {
		verr_add(ve, "name", "is taken");
		r = -ERR_NAME_TAKEN;
	}
	if (r == 0)
		*ret = rl;
	return r;
}

int admin_realm_update(struct core *c, const struct principal *p, const char *name,
		       const struct realm_in *in, struct realm *ret, struct verr *ve)
{
	int r = admin_or_reply(p);
	if (r < 0)
		return r;
	struct realm rl;
	r = c->store->ops->accounts->realm_get(c->store, name, &rl);
	if (r < 0)
		return r;
	check_realm_in(ve, in);
	if (ve->n)
		return -ERR_INVALID;
	apply_realm_in(&rl, in);
	r = c->store->ops->accounts->realm_update(c->store, &rl);
	if (r == 0)
		*ret = rl;
	return r;
}

int admin_bootstrap(struct core *c, const char *username, const char *password, char *err,
		    size_t errlen)
{
	int64_t n = 0;
	int r = c->store->ops->accounts->admin_count(c->store, &n);
	if (r < 0) {
		snprintf(err, errlen, "cannot count admins: %s", err_str(r));
		return r;
	}
	if (n > 0)
		return 0;
	struct verr ve = { 0 };
	struct user_in in = { .username = username, .password = password, .is_admin = 1,
			      .disabled = -1, .email_confirmed = 1 };
	struct user u;
	r = admin_user_create(c, NULL, &in, &u, &ve);
	if (r == -ERR_USERNAME_TAKEN) {
		/* Never promote an existing account: whoever registered the name first would
		 * become admin with their own password. */
		snprintf(err, errlen,
			 "cannot create admin '%s': an ordinary user of that name exists; pick "
			 "another name, or promote that user with cairn user",
			 username);
		return r;
	}
	if (r < 0) {
		snprintf(err, errlen, "cannot create admin '%s': %s%s%s", username,
			 ve.n ? ve.e[0].field : err_str(r), ve.n ? " " : "", ve.n ? ve.e[0].msg : "");
		return r;
	}
	log_info("created admin user '%s' in realm default", username);
	return 0;
}

int admin_realms_list(struct core *c, const struct principal *p,
		      int (*cb)(void *arg, const struct realm *r), void *arg)
{
	int r = admin_or_reply(p);
	return r < 0 ? r : c->store->ops->accounts->realm_list(c->store, cb, arg);
}

int admin_realm_by_id(struct core *c, const struct principal *p, int64_t id, struct realm *ret)
{
	int r = admin_or_reply(p);
	return r < 0 ? r : c->store->ops->accounts->realm_get_by_id(c->store, id, ret);
}

int admin_users_list(struct core *c, const struct principal *p, int64_t realm_id, const char *q,
		     int64_t after_id, int limit, int (*cb)(void *arg, const struct user *u),
		     void *arg)
{
	int r = admin_or_reply(p);
	return r < 0 ? r
		     : c->store->ops->accounts->user_list(c->store, realm_id, q ? q : "", after_id, limit, cb,
						arg);
}

int admin_user_get(struct core *c, const struct principal *p, int64_t id, struct user *ret)
{
	int r = admin_or_reply(p);
	return r < 0 ? r : c->store->ops->accounts->user_get(c->store, id, ret);
}

int admin_user_find(struct core *c, const struct principal *p, int64_t realm_id,
		    const char *login, struct user *ret)
{
	int r = admin_or_reply(p);
	if (r < 0)
		return r;
	if (!login || strlen(login) > EMAIL_MAX)
		return -ERR_NOT_FOUND;
	return c->store->ops->accounts->user_find(c->store, realm_id, login, ret);
}

int admin_stats(struct core *c, const struct principal *p, struct store_stats *ret)
{
	int r = admin_or_reply(p);
	return r < 0 ? r : c->store->ops->stats(c->store, ret);
}
