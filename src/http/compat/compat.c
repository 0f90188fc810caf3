/* The adapters `serve` mounts: adding one is a line here. */
#include "compat.h"

#include "migchat/migchat.h"

static const char *migchat_realm(const struct config *c)
{
	return migchat_cfg(c)->realm;
}

const struct compat_adapter compat_adapters[] = {
	{ "migchat", &migchat_mount, &migchat_section, migchat_realm },
};

const size_t compat_adapters_count = sizeof compat_adapters / sizeof compat_adapters[0];
