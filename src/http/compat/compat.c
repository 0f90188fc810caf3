/* The adapters `serve` mounts: adding one is a line here. */
#include "compat.h"

#include <string.h>

#include "migchat/migchat.h"
#include "oktosync/oktosync.h"
#include "sts/sts.h"
#include "tickit/tickit.h"
#include "verstak/verstak.h"

static const char *migchat_realm(const struct config *c)
{
	return migchat_cfg(c)->realm;
}

static const char *oktosync_realm(const struct config *c)
{
	return oktosync_cfg(c)->realm;
}

static const char *verstak_realm(const struct config *c)
{
	return verstak_cfg(c)->realm;
}

static const char *tickit_realm(const struct config *c)
{
	return tickit_cfg(c)->realm;
}

const struct compat_adapter compat_adapters[] = {
	{ "migchat", &migchat_mount, &migchat_section, migchat_realm },
	{ "tickit", &tickit_mount, &tickit_section, tickit_realm },
	{ "sts", &sts_mount, &sts_section, NULL },
	{ "oktosync", &oktosync_mount, &oktosync_section, oktosync_realm },
	{ "verstak", &verstak_mount, &verstak_section, verstak_realm },
};

const size_t compat_adapters_count = sizeof compat_adapters / sizeof compat_adapters[0];

int compat_reply(struct req *r, unsigned status, enum compat_shape shape, const char *key,
		 const char *text)
{
	switch (shape) {
	case COMPAT_EMPTY:
		return http_reply_bytes(r, status, NULL, "", 0);
	case COMPAT_TEXT:
		return http_reply_bytes(r, status, "text/plain; charset=utf-8", text, strlen(text));
	case COMPAT_JSON:
	default: {
		json_object *o = json_object_new_object();
		json_object_object_add(o, key, json_object_new_string(text));
		return http_reply_json(r, status, o);
	}
	}
}
