/* The [migchat] section. */
#include <stddef.h>
#include <stdio.h>

#include "../../../core/core.h"
#include "../../../util/err.h"
#include "migchat.h"

static int validate_migchat(const struct config *c, char *err, size_t errlen)
{
	struct verr ve = { 0 };
	if (!check_realm_name(&ve, "realm", migchat_cfg(c)->realm)) {
		snprintf(err, errlen, "%s: migchat.realm %s", config_where(c, &migchat_section, "realm"),
			 ve.e[0].msg);
		return -ERR_INVALID;
	}
	return 0;
}

#define F(field) offsetof(struct migchat_config, field)

static const struct config_def migchat_keys[] = {
	COMPAT_KEYS(migchat, "MigChat"),
	{ "realm", T_STR, "default", 0, 0, NULL, NULL, NULL, F(realm),
	  "The realm MigChat's account creation (and its logging in again) is in; its "
	  "sign-up policy applies.",
	  .serve_only = true },
	{ "max_messages", T_INT, "1000", 1, 100000, NULL, NULL, NULL, F(max_messages),
	  "GET /api/messages answers the newest this many (MigChat's server sent them all).",
	  .serve_only = true },
	{ "max_conversations", T_INT, "1000", 1, 100000, NULL, NULL, NULL, F(max_conversations),
	  "GET /api/conversations answers this many, those with the newest activity.",
	  .serve_only = true },
	{ "max_answer_bytes", T_SIZE, "4MiB", 64 * KiB, 256 * MiB, NULL, NULL, NULL,
	  F(max_answer_bytes),
	  "The message list and the conversation list stop before their JSON would pass "
	  "this many bytes (the newest kept), whatever the counts above.",
	  .serve_only = true },
};

#undef F

CONFIG_SECTION(migchat, validate_migchat);
