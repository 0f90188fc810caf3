/* The [auth], [ratelimit] and [admin] sections: password hashing, credential rate
 * limits, the first admin. */
#include <stdio.h>

#include "../util/err.h"
#include "accounts.h"

static int validate_admin(const struct config *c, char *err, size_t errlen)
{
	const struct admin_config *a = admin_cfg(c);
	if (*a->user && !*a->password) {
		snprintf(err, errlen, "%s: admin.user needs admin.password (--admin-pass)",
			 config_where(c, &admin_section, "user"));
		return -ERR_INVALID;
	}
	return 0;
}

#define F(field) offsetof(struct auth_config, field)

static const struct config_def auth_keys[] = {
	{ "password_memory", T_SIZE, "19MiB", 8 * KiB, 1 * GiB, NULL, NULL, NULL,
	  F(password_memory),
	  "Memory of one argon2id password hash. Changing it applies to passwords "
	  "set afterwards.",
	  .serve_only = false },
	{ "password_passes", T_INT, "2", 1, 20, NULL, NULL, NULL, F(password_passes),
	  "Passes of one argon2id password hash.", .serve_only = false },
};

#undef F

CONFIG_SECTION(auth, NULL);

#define F(field) offsetof(struct ratelimit_config, field)

static const struct config_def ratelimit_keys[] = {
	{ "per_address", T_INT, "60", 1, 1000000, NULL, NULL, NULL, F(per_address),
	  "Credential requests (login, register, refresh, forgot, reset, confirm) "
	  "per client address per minute.",
	  .serve_only = false },
	{ "per_account", T_INT, "10", 1, 1000000, NULL, NULL, NULL, F(per_account),
	  "Credential requests naming one account per minute.", .serve_only = false },
};

#undef F

CONFIG_SECTION(ratelimit, NULL);

#define F(field) offsetof(struct admin_config, field)

static const struct config_def admin_keys[] = {
	{ "user", T_OPTSTR, "", 0, 0, NULL, "--admin-user", "NAME", F(user),
	  "At start-up, create this admin in realm default if no admin exists.",
	  .serve_only = true },
	{ "password", T_OPTSTR, "", 0, 0, NULL, "--admin-pass", "PASS", F(password),
	  "The password for admin.user.", .serve_only = true, .secret = true },
};

#undef F

CONFIG_SECTION(admin, validate_admin);
