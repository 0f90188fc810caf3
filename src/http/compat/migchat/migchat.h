/* MigChat's protocol under /compat/migchat (docs/compat/migchat.md; the wire format from
 * section 4 of the seed-protocols research): its routes, its errors, its JSON shapes,
 * translated onto core's accounts and messages. Handlers run on the HTTP server's threads
 * and call core only. */
#ifndef CAIRN_COMPAT_MIGCHAT_H
#define CAIRN_COMPAT_MIGCHAT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "../../../util/config.h"
#include "../../server.h"
#include "../compat.h"

/* The [migchat] section. */
struct migchat_config {
	struct compat_config base; /* enabled, listen */
	char *realm;
	int64_t max_messages;
	int64_t max_conversations;
	int64_t max_answer_bytes;
};
CONFIG_SECTION_DECL(migchat);

/* The mount: served when migchat.enabled. */
extern const struct http_mount migchat_mount;

/* --- inside the adapter --- */

/* The mount's error writer (http_mount.reply_error). */
int mig_error_writer(struct req *r, enum api_error e, const char *msg, json_object *fields,
		     json_object *extra);
/* {"error": msg} with status: MigChat's error body. */
int mig_error(struct req *r, unsigned status, const char *msg);
/* The answer for a core error no handler gave its own words to. */
int mig_core_error(struct req *r, int err, int retry_after);
/* A string member of the body as MigChat's deserializer wants it: present and a string
 * (NUL-free), else NULL after answering 422 in the framework's plain-text way. */
const char *mig_field(struct req *r, json_object *obj, const char *key);
/* RFC 3339 in UTC with Z, with the fraction only when there is one (as chrono writes). */
json_object *mig_time(int64_t ms);

int mig_health(struct req *r);
int mig_account_create(struct req *r);
int mig_update_username(struct req *r);
int mig_send(struct req *r);
int mig_messages(struct req *r);
int mig_messages_filtered(struct req *r);
int mig_mark_read(struct req *r);
int mig_conversations(struct req *r);
int mig_keys_upload(struct req *r);
int mig_keys_get(struct req *r);

#endif
