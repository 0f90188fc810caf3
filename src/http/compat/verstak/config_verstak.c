/* The [verstak] section. */
#include <stddef.h>
#include <stdio.h>

#include "../../../util/err.h"
#include "verstak.h"

static int validate_verstak(const struct config *c, char *err, size_t errlen)
{
	struct verr ve = { 0 };
	if (!check_realm_name(&ve, "realm", verstak_cfg(c)->realm)) {
		snprintf(err, errlen, "%s: verstak.realm %s", config_where(c, &verstak_section, "realm"),
			 ve.e[0].msg);
		return -ERR_INVALID;
	}
	return 0;
}

#define F(field) offsetof(struct verstak_config, field)

static const struct config_def verstak_keys[] = {
	COMPAT_KEYS(verstak, "Verstak Sync"),
	{ "realm", T_STR, "default", 0, 0, NULL, NULL, NULL, F(realm),
	  "The realm Verstak's devices pair in (their login is a user of it), and that cairn "
	  "import verstak imports into.",
	  .serve_only = true },
	{ "max_push_operations", T_INT, "100", 1, 10000, NULL, NULL, NULL,
	  F(max_push_operations),
	  "Ops one push may carry; more gets 413 too_many_operations (the desktop halves its "
	  "batch).",
	  .serve_only = true },
	{ "max_pull_page", T_INT, "100", 1, 10000, NULL, NULL, NULL, F(max_pull_page),
	  "Ops one pull answers at most.", .serve_only = true },
	{ "max_payload_json", T_SIZE, "256KiB", 1, 16 * MiB, NULL, NULL, NULL, F(max_payload_json),
	  "An op's payload_json, at most; more gets 413 payload_too_large.", .serve_only = true },
	{ "conflict_scan", T_INT, "100000", 1000, 100000000, NULL, NULL, NULL, F(conflict_scan),
	  "A push looks for conflicting ops at most this many changes back from the vault's "
	  "head, however old the cursor its ops carry.",
	  .serve_only = true },
	{ "max_blob_bytes", T_SIZE, "256MiB", 1, 64 * GiB, NULL, NULL, NULL, F(max_blob_bytes),
	  "A blob upload, at most; more gets 413 blob_too_large (blobs.max_size and the "
	  "quotas hold too).",
	  .serve_only = true },
};

#undef F

CONFIG_SECTION(verstak, validate_verstak);
