/* The [oktosync] section. */
#include <stddef.h>
#include <stdio.h>

#include "../../../core/core.h"
#include "../../../util/err.h"
#include "oktosync.h"

static int validate_oktosync(const struct config *c, char *err, size_t errlen)
{
	const struct oktosync_config *o = oktosync_cfg(c);
	struct verr ve = { 0 };
	if (!check_realm_name(&ve, "realm", o->realm)) {
		snprintf(err, errlen, "%s: oktosync.realm %s",
			 config_where(c, &oktosync_section, "realm"), ve.e[0].msg);
		return -ERR_INVALID;
	}
	if (o->anonymous_upload && !*o->anonymous_user) {
		snprintf(err, errlen, "%s: oktosync.anonymous_upload needs oktosync.anonymous_user "
				      "(whose space \"oktosync\" receives the uploads)",
			 config_where(c, &oktosync_section, "anonymous_upload"));
		return -ERR_INVALID;
	}
	return 0;
}

#define F(field) offsetof(struct oktosync_config, field)

static const struct config_def oktosync_keys[] = {
	COMPAT_KEYS(oktosync, "Oktosync"),
	{ "realm", T_STR, "default", 0, 0, NULL, NULL, NULL, F(realm),
	  "The realm Oktosync's registration makes users in (its sign-up policy applies).",
	  .serve_only = true },
	{ "anonymous_upload", T_BOOL, "false", 0, 0, NULL, NULL, NULL, F(anonymous_upload),
	  "Take POST /upload without a token (as Oktosync's server did), into "
	  "anonymous_user's space \"oktosync\". Off: an upload needs a bearer token and goes "
	  "into the caller's space.",
	  .serve_only = true },
	{ "anonymous_user", T_OPTSTR, "", 0, 0, NULL, NULL, NULL, F(anonymous_user),
	  "The user (of oktosync.realm) whose space \"oktosync\" receives anonymous uploads.",
	  .serve_only = true },
	{ "max_upload_bytes", T_SIZE, "64MiB", 1, 64 * GiB, NULL, NULL, NULL, F(max_upload_bytes),
	  "The largest POST /upload body (413 past it).", .serve_only = true },
};

#undef F

CONFIG_SECTION(oktosync, validate_oktosync);
