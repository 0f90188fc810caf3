/* The [sts] section. */
#include <stddef.h>

#include "sts.h"

#define F(field) offsetof(struct sts_config, field)

static const struct config_def sts_keys[] = {
	COMPAT_KEYS(sts, "sync_server_ts"),
	{ "max_changes", T_INT, "50000", 1, 1000000, NULL, NULL, NULL, F(max_changes),
	  "Rows one push may carry (more gets 413), and one pull answers (the rest come at "
	  "the next pull).",
	  .serve_only = true },
};

#undef F

CONFIG_SECTION(sts, NULL);
