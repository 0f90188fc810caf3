/* Verstak's device API: pairing a desktop to a vault, the auth test, `me`, and revoking. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../../../core/accounts.h"
#include "../../../core/errors.h"
#include "../../../core/sync.h"
#include "../../../util/clock.h"
#include "../../../util/utf8.h"
#include "../../../util/version.h"
#include "../../helpers.h"
#include "verstak.h"

static const char *realm_of(struct req *r)
{
	return verstak_cfg(((struct app *)r->app)->cfg)->realm;
}

/* The credentials as its server checked them: 401 invalid credentials, 403 account
 * blocked / email not confirmed, 429 with Retry-After; 0 with *ret. */
static int credentials_or_reply(struct req *r, const char *login, const char *password,
				struct user *ret)
{
	int retry = 0;
	int e = acct_check_credentials(core_of(r), realm_of(r), login, password,
				       http_client_addr(r), ret, &retry);
	if (e == -ERR_RATE) {
		vk_rate_reply(r, retry);
		return -1;
	}
	if (e == -ERR_BAD_CREDENTIALS || e == -ERR_INVALID) {
		vk_error(r, 401, "unauthorized", "invalid credentials");
		return -1;
	}
	if (e < 0) {
		vk_error(r, 500, "internal_error", "internal error");
		return -1;
	}
	if (ret->disabled) {
		vk_error(r, 403, "forbidden", "account blocked");
		return -1;
	}
	if (!ret->email_confirmed) {
		vk_error(r, 403, "forbidden", "email not confirmed");
		return -1;
	}
	return 0;
}

static int pair(struct req *r, const char *login, const char *password, const char *name,
		const char *version, const char *vault_raw, bool legacy);

int vk_pair(struct req *r)
{
	json_object *b = vk_body_or_reply(r);
	if (!b)
		return 0;
	const char *login = vk_str(r, b, "login"), *password = login ? vk_str(r, b, "password") : NULL;
	const char *name = password ? vk_str(r, b, "device_name") : NULL;
	const char *version = name ? vk_str(r, b, "client_version") : NULL;
	const char *vault_raw = version ? vk_str(r, b, "vault_id") : NULL;
	if (!vault_raw)
		return 0;
	if (!*login || !*password)
		return vk_error(r, 400, "invalid_request", "login and password required");
	return pair(r, login, password, name, version, vault_raw, false);
}

/* The legacy enrolment its server kept (POST /api/v1/device/register): the same pairing
 * without a client version, answering only the device's id and token. */
int vk_device_register(struct req *r)
{
	json_object *b = vk_body_or_reply(r);
	if (!b)
		return 0;
	const char *name = vk_str(r, b, "name"), *login = name ? vk_str(r, b, "username") : NULL;
	const char *password = login ? vk_str(r, b, "password") : NULL;
	const char *vault_raw = password ? vk_str(r, b, "vault_id") : NULL;
	if (!vault_raw)
		return 0;
	if (!*name)
		return vk_error(r, 400, "invalid_request", "name required");
	if (!*login || !*password)
		return vk_error(r, 401, "unauthorized", "username and password required");
	return pair(r, login, password, name, "", vault_raw, true);
}

static int pair(struct req *r, const char *login, const char *password, const char *name,
		const char *version, const char *vault_raw, bool legacy)
{
	char vault[APP_SCOPE_MAX + 1];
	while (*vault_raw == ' ' || *vault_raw == '\t' || *vault_raw == '\n')
		vault_raw++;
	snprintf(vault, sizeof vault, "%s", vault_raw);
	for (size_t n = strlen(vault); n && (vault[n - 1] == ' ' || vault[n - 1] == '\t' ||
					     vault[n - 1] == '\n');
	     n--)
		vault[n - 1] = '\0';
	if (!*vault)
		return vk_error(r, 400, "invalid_request", "vault_id required");
	if (!strncmp(vault, "legacy:", 7))
		return vk_error(r, 400, "invalid_request", "vault_id uses reserved prefix");
	if (strlen(login) > 320)
		return vk_error(r, 400, "invalid_request", "login is too long");
	if (strlen(name) > 128)
		return vk_error(r, 400, "invalid_request", "device_name is too long");
	if (strlen(version) > 256)
		return vk_error(r, 400, "invalid_request", "client_version is too long");
	if (strlen(vault_raw) > APP_SCOPE_MAX)
		return vk_error(r, 400, "invalid_request", "vault_id is too long");
	struct user u;
	if (credentials_or_reply(r, login, password, &u) < 0)
		return 0;
	struct core *c = core_of(r);
	char token[TOKEN_LEN];
	struct device dev;
	struct verr ve = { 0 };
	char dname[NAME_MAX_BYTES + 1];
	snprintf(dname, sizeof dname, "%s", *name ? name : "unknown");
	if (!check_text(&ve, "name", dname, NAME_MAX_BYTES, true))
		snprintf(dname, sizeof dname, "unknown");
	/* its server kept 256 bytes of version; Cairn keeps 64, cut at a character */
	char cver[256 + 1];
	snprintf(cver, sizeof cver, "%s", version);
	utf8_cut(cver, PLATFORM_MAX);
	memset(&ve, 0, sizeof ve);
	if (!check_text(&ve, "client_version", cver, PLATFORM_MAX, false))
		cver[0] = '\0';
	memset(&ve, 0, sizeof ve);
	int e = acct_token_create_for(c, u.id, dname, cver, token, &dev, &ve);
	struct app_client cl = { .realm_id = u.realm_id, .user_id = u.id, .device_id = dev.id,
				 .created_ms = clock_wall_ms() };
	snprintf(cl.client_id, sizeof cl.client_id, "dev_%lld", (long long)dev.id);
	snprintf(cl.scope, sizeof cl.scope, "%s", vault);
	if (e == 0 && (e = sync_client_add(c, VERSTAK_APP, &cl)) < 0)
		acct_device_revoke(c, u.id, dev.id);
	if (e < 0)
		return vk_error(r, 500, "internal_error", "internal error");
	char uid[24];
	snprintf(uid, sizeof uid, "%lld", (long long)u.id);
	json_object *o = json_object_new_object(); /* a map: keys in order, as Go sorted them */
	json_object_object_add(o, "device_id", json_object_new_string(cl.client_id));
	json_object_object_add(o, "device_token", json_object_new_string(token));
	if (legacy)
		return vk_reply(r, 200, o);
	json_object_object_add(o, "initial_sync_cursor", json_object_new_int(0));
	json_object_object_add(o, "server_time", vk_time(clock_wall_ms()));
	json_object_object_add(o, "user_id", json_object_new_string(uid));
	return vk_reply(r, 200, o);
}

int vk_auth_test(struct req *r)
{
	json_object *b = vk_body_or_reply(r);
	if (!b)
		return 0;
	const char *user = vk_str(r, b, "username"), *password = user ? vk_str(r, b, "password") : NULL;
	if (!password)
		return 0;
	if (!*user || !*password)
		return vk_error(r, 400, "invalid_request", "username and password required");
	struct user u;
	if (credentials_or_reply(r, user, password, &u) < 0)
		return 0;
	return vk_status(r, "ok");
}

int vk_me(struct req *r)
{
	const struct vk_device *d = vk_device_or_reply(r);
	if (!d)
		return 0;
	struct device dev;
	if (acct_device_get(core_of(r), d->p.user.id, d->p.device.id, &dev) < 0)
		return vk_error(r, 500, "internal_error", "internal error");
	char uid[24];
	snprintf(uid, sizeof uid, "%lld", (long long)d->p.user.id);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "client_version", json_object_new_string(dev.client_version));
	json_object_object_add(o, "created_at", vk_time(dev.created_ms));
	json_object_object_add(o, "device_id", json_object_new_string(d->device_id));
	json_object_object_add(o, "device_name", json_object_new_string(dev.name));
	json_object_object_add(o, "last_seen", vk_time(dev.last_seen_ms));
	json_object_object_add(o, "revoked_at", vk_time(dev.revoked_ms));
	json_object_object_add(o, "user_id", json_object_new_string(uid));
	json_object_object_add(o, "username", json_object_new_string(d->p.user.username));
	return vk_reply(r, 200, o);
}

int vk_revoke_current(struct req *r)
{
	const struct vk_device *d = vk_device_or_reply(r);
	if (!d)
		return 0;
	if (acct_device_revoke(core_of(r), d->p.user.id, d->p.device.id) < 0)
		return vk_error(r, 500, "internal_error", "internal error");
	return vk_status(r, "revoked");
}

int vk_revoke_device(struct req *r)
{
	const struct vk_device *d = vk_device_or_reply(r);
	if (!d)
		return 0;
	json_object *b = vk_body_or_reply(r);
	if (!b)
		return 0;
	const char *id = vk_str(r, b, "device_id"), *password = id ? vk_str(r, b, "password") : NULL;
	if (!password)
		return 0;
	if (!*id || !*password)
		return vk_error(r, 400, "invalid_request", "device_id and password required");
	return vk_revoke_with_password(r, &d->p, id, password);
}

int vk_revoke_with_password(struct req *r, const struct principal *p, const char *id,
			    const char *password)
{
	int retry = 0;
	int e = acct_verify_password(core_of(r), p, password, http_client_addr(r), &retry);
	if (e == -ERR_RATE)
		return vk_rate_reply(r, retry);
	if (e < 0)
		return vk_error(r, 403, "forbidden", "wrong password");
	/* another user's device is not told apart from none: both are not found for them */
	int64_t n = vk_device_of(r, p, id);
	if (!n)
		return vk_error(r, 404, "not_found", "device not found");
	if (acct_device_revoke(core_of(r), p->user.id, n) < 0)
		return vk_error(r, 500, "internal_error", "internal error");
	return vk_status(r, "revoked");
}

int vk_health(struct req *r)
{
	struct app *app = r->app;
	bool db_ok, blobs_ok;
	core_health(app->core, &db_ok, &blobs_ok);
	json_object *o = json_object_new_object(); /* a struct: its fields in their order */
	json_object_object_add(o, "status", json_object_new_string(db_ok && blobs_ok ? "ok"
										  : "degraded"));
	json_object_object_add(o, "version", json_object_new_string(cairn_version()));
	json_object_object_add(o, "build_commit", json_object_new_string(cairn_commit()));
	json_object_object_add(o, "uptime_seconds",
			       json_object_new_int64((clock_wall_ms() - app->started_ms) / 1000));
	json_object_object_add(o, "database_reachable", json_object_new_boolean(db_ok));
	json_object_object_add(o, "blob_storage_writable", json_object_new_boolean(blobs_ok));
	json_object_object_add(o, "schema_version", json_object_new_int(2)); /* its protocol's */
	json_object_object_add(o, "server_time", vk_time(clock_wall_ms()));
	return vk_reply(r, db_ok && blobs_ok ? 200 : 503, o);
}

int vk_livez(struct req *r)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "server_time", vk_time(clock_wall_ms()));
	json_object_object_add(o, "status", json_object_new_string("ok"));
	return vk_reply(r, 200, o);
}
