/* The [log] section: level, format, the access log. */
#include <stddef.h>

#include "log.h"

#define F(field) offsetof(struct log_config, field)

static const struct config_def log_keys[] = {
	{ "level", T_ENUM, "info", 0, 0, "debug|info|warn|error", "--log-level", "LEVEL",
	  F(level), "Least severe level written to standard error.", .serve_only = false },
	{ "format", T_ENUM, "text", 0, 0, "text|json", "--log-format", "FORMAT", F(format),
	  "text for people, json for one JSON object per line.", .serve_only = false },
	{ "access", T_BOOL, "true", 0, 0, NULL, NULL, NULL, F(access),
	  "One line per request: request id, client address, method, path, status, "
	  "bytes, duration.",
	  .serve_only = false },
};

#undef F

CONFIG_SECTION(log, NULL);
