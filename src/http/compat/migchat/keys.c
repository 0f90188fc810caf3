/* MigChat's end-to-end key bundles: upload, and fetch (each one-time prekey handed out
 * once). */
#include <stdio.h>
#include <string.h>

#include "../../../core/errors.h"
#include "../../../core/messages/messages.h"
#include "../../../util/jtext.h"
#include "../../helpers.h"
#include "migchat.h"

/* A bundle field into out: present, a string, at most KEY_TEXT_MAX bytes (else answered). */
static bool key_field(struct req *r, json_object *kb, const char *key, char *out, size_t len)
{
	const char *s = mig_field(r, kb, key);
	if (!s)
		return false;
	if (strlen(s) >= len) {
		char msg[96];
		snprintf(msg, sizeof msg, "%s is longer than %d bytes", key, KEY_TEXT_MAX);
		mig_error(r, 413, msg);
		return false;
	}
	snprintf(out, len, "%s", s);
	return true;
}

int mig_keys_upload(struct req *r)
{
	const struct principal *p = auth_or_reply(r);
	if (!p)
		return 0;
	json_object *kb = NULL, *arr = NULL;
	if (!json_object_is_type(r->json, json_type_object) ||
	    !json_object_object_get_ex(r->json, "key_bundle", &kb) ||
	    !json_object_is_type(kb, json_type_object)) {
		static const char msg[] =
			"Failed to deserialize the JSON body: missing field `key_bundle` (an object)";
		return http_reply_bytes(r, 422, "text/plain; charset=utf-8", msg, sizeof msg - 1);
	}
	struct key_bundle *b = arena_alloc(&r->arena, sizeof *b);
	if (!b)
		return mig_core_error(r, -ERR_NOMEM, 0);
	memset(b, 0, sizeof *b);
	if (!key_field(r, kb, "identity_key", b->identity_key, sizeof b->identity_key) ||
	    !key_field(r, kb, "signed_prekey", b->signed_prekey, sizeof b->signed_prekey) ||
	    !key_field(r, kb, "signed_prekey_signature", b->signed_prekey_signature,
		       sizeof b->signed_prekey_signature))
		return 0;
	if (!json_object_object_get_ex(kb, "one_time_prekeys", &arr) ||
	    !json_object_is_type(arr, json_type_array)) {
		static const char msg[] = "Failed to deserialize the JSON body: missing field "
					  "`one_time_prekeys` (an array of strings)";
		return http_reply_bytes(r, 422, "text/plain; charset=utf-8", msg, sizeof msg - 1);
	}
	size_t n = json_object_array_length(arr);
	if (n > KEYS_MAX_PREKEYS) {
		char msg[96];
		snprintf(msg, sizeof msg, "At most %d one-time prekeys at once", KEYS_MAX_PREKEYS);
		return mig_error(r, 413, msg);
	}
	const char **pre = arena_alloc(&r->arena, sizeof *pre * (n ? n : 1));
	if (!pre)
		return mig_core_error(r, -ERR_NOMEM, 0);
	for (size_t i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(arr, i);
		pre[i] = json_object_is_type(v, json_type_string) ? jtext_string(v) : NULL;
		if (!pre[i]) {
			static const char msg[] = "Failed to deserialize the JSON body: "
						  "`one_time_prekeys` must be strings";
			return http_reply_bytes(r, 422, "text/plain; charset=utf-8", msg,
						sizeof msg - 1);
		}
	}
	struct verr ve = { 0 };
	int e = keys_upload(core_of(r), p, b, pre, (int)n, &ve);
	if (e == -ERR_INVALID || e == -ERR_TOO_LARGE) {
		char msg[600];
		if (ve.detail[0])
			snprintf(msg, sizeof msg, "%s", ve.detail);
		else
			snprintf(msg, sizeof msg, "%s %s", ve.n ? ve.e[0].field : "key_bundle",
				 ve.n ? ve.e[0].msg : "is invalid");
		return mig_error(r, e == -ERR_TOO_LARGE ? 413 : 400, msg);
	}
	if (e < 0)
		return mig_core_error(r, e, 0);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "success", json_object_new_boolean(true));
	return http_reply_json(r, 200, o);
}

int mig_keys_get(struct req *r)
{
	const struct principal *p = auth_or_reply(r);
	if (!p)
		return 0;
	if (r->method == HM_HEAD) { /* a GET here takes a prekey: HEAD, which must not, is refused */
		http_add_header(r, "Allow", "GET");
		return http_reply_error(r, AE_METHOD_NOT_ALLOWED, NULL, NULL);
	}
	struct key_bundle *b = arena_alloc(&r->arena, sizeof *b);
	char *prekey = arena_alloc(&r->arena, KEY_TEXT_MAX + 1);
	if (!b || !prekey)
		return mig_core_error(r, -ERR_NOMEM, 0);
	bool has_prekey, no_user;
	int e = keys_fetch(core_of(r), p, http_param(r, "username"), b, prekey, &has_prekey,
			   &no_user);
	if (e == -ERR_NOT_FOUND)
		return mig_error(r, 404, no_user ? "User not found" : "Keys not found for this user");
	if (e == -ERR_BLOCKED)
		return mig_error(r, 403, "The user does not accept messages from you");
	if (e < 0)
		return mig_core_error(r, e, 0);
	json_object *kb = json_object_new_object(), *pre = json_object_new_array();
	json_object_object_add(kb, "identity_key", json_object_new_string(b->identity_key));
	json_object_object_add(kb, "signed_prekey", json_object_new_string(b->signed_prekey));
	json_object_object_add(kb, "signed_prekey_signature",
			       json_object_new_string(b->signed_prekey_signature));
	if (has_prekey)
		json_object_array_add(pre, json_object_new_string(prekey));
	json_object_object_add(kb, "one_time_prekeys", pre);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "key_bundle", kb);
	return http_reply_json(r, 200, o);
}
