/* sync_server_ts's protocol under /compat/sts (docs/compat/sts.md; the wire format from
 * section 5 of the seed-protocols research, the current server generation that the
 * sync_client 1.5.x library speaks): realms in the path, accounts by e-mail, a clientId per
 * install as a Cairn device, pull then push of rows by table, last writer wins by the
 * rows' clientdate. Handlers run on the HTTP server's threads and call core only. */
#ifndef CAIRN_COMPAT_STS_H
#define CAIRN_COMPAT_STS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "../../../util/config.h"
#include "../../server.h"
#include "../compat.h"

/* The [sts] section. */
struct sts_config {
	struct compat_config base; /* enabled, listen */
	int64_t max_changes;
};
CONFIG_SECTION_DECL(sts);

extern const struct http_mount sts_mount;

/* The app name of its clients and of the space its rows live in. */
#define STS_APP "sts"
/* A pull takes the client's lock; a lock older than this is taken over (its server's
 * rule: a client that died mid-sync does not block its next sync for long). */
#define STS_LOCK_STALE_MS 120000

/* --- inside the adapter --- */

/* {"code": status, "message": msg} with status: its ApiResult. */
int sts_result(struct req *r, unsigned status, const char *msg);
/* {"message": msg} with status (its sync routes' errors). */
int sts_message(struct req *r, unsigned status, const char *msg);
/* {"error": msg} with status (its exception handlers'). */
int sts_error(struct req *r, unsigned status, const char *msg);
/* The realm the path names (lower-cased, as its server looked realms up), into *ret;
 * false after answering when there is none. */
struct realm;
bool sts_realm_or_reply(struct req *r, struct realm *ret);
/* A string member of the body, or NULL (absent, null, or not a string). */
const char *sts_str(struct req *r, const char *key);

int sts_hello(struct req *r);
int sts_healthz(struct req *r);
int sts_register(struct req *r);
int sts_unregister(struct req *r);
int sts_login(struct req *r);
int sts_refresh(struct req *r);
int sts_forgotten(struct req *r);
int sts_change_password(struct req *r);
int sts_pull(struct req *r);
int sts_push(struct req *r);
int sts_cancel(struct req *r);

#endif
