/* The [messages] section. */
#include <stddef.h>

#include "messages.h"

#define F(field) offsetof(struct messages_config, field)

static const struct config_def messages_keys[] = {
	{ "max_text_bytes", T_SIZE, "64KiB", 1, 16 * MiB, NULL, NULL, NULL, F(max_text_bytes),
	  "The longest message text, in bytes; a longer one gets 413.", .serve_only = false },
};

#undef F

CONFIG_SECTION(messages, NULL);
