/* The [tickit] section. */
#include <stddef.h>
#include <stdio.h>

#include "../../../core/core.h"
#include "../../../util/err.h"
#include "tickit.h"

static int validate_tickit(const struct config *c, char *err, size_t errlen)
{
	struct verr ve = { 0 };
	if (!check_realm_name(&ve, "realm", tickit_cfg(c)->realm)) {
		snprintf(err, errlen, "%s: tickit.realm %s", config_where(c, &tickit_section, "realm"),
			 ve.e[0].msg);
		return -ERR_INVALID;
	}
	return 0;
}

#define F(field) offsetof(struct tickit_config, field)

static const struct config_def tickit_keys[] = {
	COMPAT_KEYS(tickit, "Tickit"),
	{ "realm", T_STR, "default", 0, 0, NULL, NULL, NULL, F(realm),
	  "The realm `cairn import tickit --user NAME` finds NAME in (a token says its own "
	  "user and realm).",
	  .serve_only = false },
	{ "max_changes", T_INT, "15000", 1, 1000000, NULL, NULL, NULL, F(max_changes),
	  "Records one sync may carry (a first sync sends all of a client's records; past "
	  "15000, raise limits.json_values too: about 13 values a task).",
	  .serve_only = true },
};

#undef F

CONFIG_SECTION(tickit, validate_tickit);
