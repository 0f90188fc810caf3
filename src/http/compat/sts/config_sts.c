/* The [sts] section. */
#include <stddef.h>

#include "sts.h"

#define F(field) offsetof(struct sts_config, field)

static const struct config_def sts_keys[] = {
	COMPAT_KEYS(sts, "sync_server_ts"),
	{ "max_changes", T_INT, "20000", 1, 1000000, NULL, NULL, NULL, F(max_changes),
	  "Rows one pull may list or one push may carry (its client pushes 100 at a time).",
	  .serve_only = true },
};

#undef F

CONFIG_SECTION(sts, NULL);
