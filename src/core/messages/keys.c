/* End-to-end key bundles: see messages.h (keys_*). The server keeps them and hands them
 * out; it never reads them. */
#include <stdio.h>
#include <string.h>

#include "../../store/store.h"
#include "../../util/clock.h"
#include "../../util/err.h"
#include "../ratelimit.h"
#include "messages.h"

static bool key_ok(struct verr *ve, const char *field, const char *s)
{
	if (!s || !*s) {
		verr_add(ve, field, "must not be empty");
		return false;
	}
	if (strlen(s) > KEY_TEXT_MAX) {
		snprintf(ve->detail, sizeof ve->detail, "A key is at most %d bytes (%s).",
			 KEY_TEXT_MAX, field);
		return false;
	}
	return true;
}

int keys_upload(struct core *c, const struct principal *p, const struct key_bundle *kb,
		const char *const *prekeys, int n, struct verr *ve)
{
	if (n > KEYS_MAX_PREKEYS) {
		snprintf(ve->detail, sizeof ve->detail, "At most %d one-time prekeys at once.",
			 KEYS_MAX_PREKEYS);
		return -ERR_TOO_LARGE;
	}
	/* the bundle's fields are copies, so their lengths were checked by the caller's
	 * copy; the prekeys are the caller's strings */
	bool ok = key_ok(ve, "identity_key", kb->identity_key) &&
		  key_ok(ve, "signed_prekey", kb->signed_prekey) &&
		  key_ok(ve, "signed_prekey_signature", kb->signed_prekey_signature);
	for (int i = 0; ok && i < n; i++)
		ok = key_ok(ve, "each of one_time_prekeys", prekeys[i]);
	if (!ok)
		return ve->detail[0] ? -ERR_TOO_LARGE : -ERR_INVALID;
	return c->store->ops->messages->bundle_put(c->store, p->user.id, kb, prekeys, n,
						 clock_wall_ms());
}

int keys_fetch(struct core *c, const struct principal *p, const char *username,
	       struct key_bundle *ret, char prekey[KEY_TEXT_MAX + 1], bool *ret_has_prekey,
	       bool *ret_no_user)
{
	*ret_has_prekey = false;
	*ret_no_user = false;
	struct user u;
	int r = sync_user_by_name(c, p, username, &u);
	if (r == -ERR_NOT_FOUND)
		*ret_no_user = true;
	if (r < 0)
		return r;
	prekey[0] = '\0';
	/* a user who blocks p starts no session with p */
	r = c->store->ops->messages->blocked(c->store, u.id, p->user.id);
	if (r < 0)
		return r;
	if (r == 1)
		return -ERR_BLOCKED;
	/* one prekey a minute for each asker of each user, so one account cannot drain
	 * another's prekeys at once; past that the bundle goes without one (X3DH works
	 * without) */
	char key[64];
	snprintf(key, sizeof key, "prekey:%lld:%lld", (long long)p->user.id, (long long)u.id);
	bool take = !c->rl || ratelimit_hit(c->rl, key, KEYS_PREKEYS_PER_MINUTE, clock_wall_ms()) == 0;
	return c->store->ops->messages->bundle_take(c->store, u.id, ret, take ? prekey : NULL,
						  KEY_TEXT_MAX + 1, ret_has_prekey);
}
