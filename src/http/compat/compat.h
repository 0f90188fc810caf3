/* The protocol adapters (docs/architecture.md, Mounts): each serves a seed protocol under
 * /compat/NAME, and optionally at the root of a port of its own. Every adapter has the
 * same settings in its section [NAME]: enabled (default on), listen (an address, or empty
 * for none) and, where the protocol has no realm of its own, realm. */
#ifndef CAIRN_COMPAT_H
#define CAIRN_COMPAT_H

#include <stdbool.h>
#include <stddef.h>

#include "../../util/config.h"
#include "../server.h"

/* The settings every adapter's section starts with (its struct's first members). */
struct compat_config {
	bool enabled;
	char *listen; /* "" none */
};

struct compat_adapter {
	const char *name;                      /* "migchat": its section and its prefix */
	const struct http_mount *mount;        /* prefix "/compat/NAME" */
	const struct config_section *section;  /* begins with struct compat_config */
	/* The realm its accounts are made in, for a protocol without realms; NULL: none. */
	const char *(*realm)(const struct config *c);
};

extern const struct compat_adapter compat_adapters[];
extern const size_t compat_adapters_count;

static inline const struct compat_config *compat_cfg(const struct config *c,
						     const struct compat_adapter *a)
{
	return config_values(c, a->section);
}

/* How an adapter answers an error: an empty body, plain text, or a JSON object with the
 * sentence under one key ({"error": ...}). */
enum compat_shape { COMPAT_JSON, COMPAT_EMPTY, COMPAT_TEXT };
int compat_reply(struct req *r, unsigned status, enum compat_shape shape, const char *key,
		 const char *text);

/* The keys every adapter's section starts with, for its key table (its struct is
 * NAME_config, beginning with struct compat_config base). */
#define COMPAT_KEYS(NAME, TITLE)                                                            \
	{ "enabled", T_BOOL, "true", 0, 0, NULL, NULL, NULL,                               \
	  offsetof(struct NAME##_config, base.enabled),                                     \
	  "Serve " TITLE "'s protocol under /compat/" #NAME ".", .serve_only = true },      \
	{ "listen", T_ADDR, "", 0, 0, NULL, NULL, NULL,                                     \
	  offsetof(struct NAME##_config, base.listen),                                      \
	  "Also serve " TITLE "'s protocol at the root of this address (HOST:PORT), for "   \
	  "clients set up for the old server's port. Empty: not.",                           \
	  .serve_only = true }

#endif
