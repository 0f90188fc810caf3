/* The [limits] section: every client-controlled size and count a request may reach. */
#include <stddef.h>

#include "core.h"

#define F(field) offsetof(struct limits_config, field)

static const struct config_def limits_keys[] = {
	{ "header_bytes", T_SIZE, "8KiB", 1 * KiB, 1 * MiB, NULL, NULL, NULL, F(header_bytes),
	  "Request line plus headers, at most; more gets 431.", .serve_only = false },
	{ "json_body_bytes", T_SIZE, "16MiB", 1 * KiB, 1 * GiB, NULL, NULL, NULL,
	  F(json_body_bytes), "A JSON request body, at most; more gets 413.",
	  .serve_only = false },
	{ "json_depth", T_INT, "32", 2, 1000, NULL, NULL, NULL, F(json_depth),
	  "Nesting depth of a JSON request body, at most; deeper gets 400.",
	  .serve_only = false },
	{ "json_values", T_INT, "200000", 10, 100000000, NULL, NULL, NULL, F(json_values),
	  "Values (objects, arrays, strings, numbers, literals) in one JSON request "
	  "body, at most, counted before it is parsed; more gets 413. A parsed "
	  "value costs up to about 800 bytes.",
	  .serve_only = false },
	{ "auth_body_bytes", T_SIZE, "8KiB", 1 * KiB, 1 * MiB, NULL, NULL, NULL,
	  F(auth_body_bytes),
	  "The body of a credential request (sign-up, login, refresh, logout, "
	  "confirm, forgot, reset, password change, account deletion) and of the "
	  "public routes (health, limits), at most; more gets 413.",
	  .serve_only = false },
	{ "push_changes", T_INT, "1000", 1, 100000, NULL, NULL, NULL, F(push_changes),
	  "Changes in one push, at most; more gets 413.", .serve_only = false },
	{ "push_blob_refs", T_INT, "4096", 0, 1000000, NULL, NULL, NULL, F(push_blob_refs),
	  "Blob references in one push (each change's blobs, summed), at most; more "
	  "gets 413.",
	  .serve_only = false },
	{ "push_stored_bytes", T_SIZE, "16MiB", 1 * MiB, 1 * GiB, NULL, NULL, NULL,
	  F(push_stored_bytes),
	  "Stored JSON one push may make the server parse inside the write "
	  "transaction (each patch counts the record it patches, a merge the later "
	  "changes it looks through), at most; more gets 413.",
	  .serve_only = false },
	{ "record_bytes", T_SIZE, "1MiB", 64, 64 * MiB, NULL, NULL, NULL, F(record_bytes),
	  "One record's data (or patch) as JSON text, at most; more gets 400.",
	  .serve_only = false },
	{ "page", T_INT, "1000", 1, 100000, NULL, NULL, NULL, F(page),
	  "Items in one page of changes, records, blobs or hashes asked about, at "
	  "most (a larger limit= is 400).",
	  .serve_only = false },
	{ "wait", T_DURATION, "60s", 0, 3600 * SEC, NULL, NULL, NULL, F(wait_ms),
	  "How long a pull with wait= may be held, at most.", .serve_only = false },
};

#undef F

CONFIG_SECTION(limits, NULL);
