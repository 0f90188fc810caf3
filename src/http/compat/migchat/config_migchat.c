/* The [migchat] section. */
#include <stddef.h>

#include "migchat.h"

#define F(field) offsetof(struct migchat_config, field)

static const struct config_def migchat_keys[] = {
	{ "enabled", T_BOOL, "true", 0, 0, NULL, NULL, NULL, F(enabled),
	  "Serve MigChat's protocol under /compat/migchat.", .serve_only = true },
	{ "realm", T_STR, "default", 0, 0, NULL, NULL, NULL, F(realm),
	  "The realm MigChat's accounts are created in (its sign-up policy applies).",
	  .serve_only = true },
	{ "max_messages", T_INT, "1000", 1, 100000, NULL, NULL, NULL, F(max_messages),
	  "GET /api/messages answers the newest this many (MigChat's server sent them all).",
	  .serve_only = true },
	{ "max_conversations", T_INT, "1000", 1, 100000, NULL, NULL, NULL, F(max_conversations),
	  "GET /api/conversations answers this many, those with the newest activity.",
	  .serve_only = true },
};

#undef F

CONFIG_SECTION(migchat, NULL);
