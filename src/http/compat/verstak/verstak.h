/* Verstak Sync's protocol under /compat/verstak (docs/compat/verstak.md; section 2 of the
 * seed-protocols research, and its section 6 on what the desktop requires): device
 * pairing to a vault, the device API, the op log (push with advisory conflicts, pull by
 * sequence with paging) and blobs. A vault is a space of its user (one per vault id), a
 * paired device a Cairn device with a long-lived token, an op a record of the space's
 * append-only collection "ops", its server_sequence the space's seq. Handlers run on the
 * HTTP server's threads and call core only. */
#ifndef CAIRN_COMPAT_VERSTAK_H
#define CAIRN_COMPAT_VERSTAK_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "../../../core/core.h"
#include "../../../util/config.h"
#include "../../server.h"
#include "../compat.h"

/* The [verstak] section. */
struct verstak_config {
	struct compat_config base; /* enabled, listen */
	char *realm;
	int64_t max_push_operations;
	int64_t max_pull_page;
	int64_t max_payload_json;
	int64_t conflict_scan;
	int64_t max_blob_bytes;
};
CONFIG_SECTION_DECL(verstak);

extern const struct http_mount verstak_mount;

#define VERSTAK_APP "verstak"
#define VERSTAK_OPS "ops" /* the collection its ops are records of */
/* The app_clients rows cairn import verstak keeps of whom each Verstak user became
 * (client id: the Verstak user's id; device 0). */
#define VK_USER_APP "verstak-user"

/* A paired device's context: who, which device, which vault's space. */
struct vk_device {
	struct principal p;
	char device_id[APP_CLIENT_ID_MAX + 1]; /* "dev_<n>", or the id an import kept */
	char vault[APP_SCOPE_MAX + 1];
	struct space sp;
	const char *key; /* as the request gave it */
};

/* The record id of an op: op_id itself when it is a Cairn op id (UUIDs are), else "vk@" and
 * 40 hex digits of its SHA-256 written into buf. */
#define VK_RECORD_ID_LEN 48
const char *vk_record_id(const char *op_id, char buf[VK_RECORD_ID_LEN]);
/* Its Cairn op id (the idempotency key of its change, per device): op_id itself when it is
 * one, else "vkh:" and 40 hex digits of its SHA-256. */
const char *vk_op_id(const char *op_id, char buf[VK_RECORD_ID_LEN]);
/* Sequence numbers shown to a desktop, and imported ones, stay below 2^53 (what a double,
 * and so any JSON reader, holds exactly). */
#define VK_SEQ_MAX 9007199254740992LL

/* Where a vault imported from Verstak Sync keeps how its sequence numbers were translated
 * (cairn import verstak): a record of the vault space, {"first_seq", "last_seq",
 * "last_verstak_seq"}: the ops at seq first_seq to last_seq carry their Verstak sequence
 * as "verstak_seq"; the map itself is at last_seq + 1, shown as last_verstak_seq; a later
 * seq s is shown as s - (last_seq + 1) + last_verstak_seq, so that the numbers a desktop
 * saw before the import keep their meaning and new ones follow them without a gap. */
#define VK_IMPORT_COLLECTION "verstak_import"
#define VK_IMPORT_RECORD "sequence"

/* One op as pushed, checked (sync.c). */
struct vk_op {
	const char *op_id, *entity_type, *entity_id, *op_type, *payload, *created_at;
	int64_t client_seq, last_seen;
	int64_t seen;     /* last_seen as the space's seq */
	const char *blob; /* a file op's blob, lower-case hex, or NULL */
	int64_t blob_size;
};

/* A vault's sequence map, loaded (on: the vault was imported). */
struct vk_seqmap {
	bool on;
	int64_t first, last, shown_last;
};
/* The vault's map (seqmap.c), loaded (m->on false: none, or one that is not the
 * import's); 0 or a negative error. */
int vk_seqmap_load(struct req *r, const struct vk_device *d, struct vk_seqmap *m);
/* The number a desktop is shown for the change at seq whose stored op is o (NULL: none). */
int64_t vk_seq_shown(const struct vk_seqmap *m, int64_t seq, json_object *o);
/* The space's seq for a number a desktop holds: the last change it has seen. */
int vk_seq_internal(struct req *r, const struct vk_device *d, const struct vk_seqmap *m,
		    int64_t shown, int64_t *ret);

/* The conflicts of a push (conflicts.c): for each op whose cursor (seen) is above 0, the
 * ops of the vault on the same entity_type and entity_id after it, by another device, not
 * deletes, in sequence order, at most `window` changes back from the head, appended to
 * found[i] (made when the first is found) as Verstak answered them; at most
 * VK_MAX_CONFLICTS in all. 0, or a negative error. */
#define VK_MAX_CONFLICTS 1000
int vk_conflicts(struct req *r, const struct vk_device *d, const struct vk_seqmap *m,
		 const struct vk_op *ops, int n, int64_t window, json_object **found);

/* Its JSON answers: Go's encoder (a trailing newline, <, > and & escaped). */
int vk_reply(struct req *r, unsigned status, json_object *obj);
/* {"code", "error"} with status. */
int vk_error(struct req *r, unsigned status, const char *code, const char *msg);
/* 200 {"status": status}. */
int vk_status(struct req *r, const char *status);
/* 429 rate_limited with Retry-After: retry seconds. */
int vk_rate_reply(struct req *r, int retry);
/* A time as its server wrote them (RFC 3339 to the second, UTC), "" for 0. */
json_object *vk_time(int64_t ms);
/* Whether s names a blob as Verstak did: 64 lower-case hex digits. */
bool vk_sha256_ok(const char *s);
/* Revokes the caller's device id (as Verstak names it) after checking their password:
 * 403 wrong password (429 past the rate limit), 404 device not found, 200 revoked. */
int vk_revoke_with_password(struct req *r, const struct principal *p, const char *id,
			    const char *password);
/* The device a request's key names, paired to a vault (its space made on first use);
 * NULL after answering. */
const struct vk_device *vk_device_or_reply(struct req *r);
/* The Cairn device of the caller's Verstak device id (as pairing or an import named it);
 * 0 when there is none of theirs. */
int64_t vk_device_of(struct req *r, const struct principal *p, const char *id);
/* The request's JSON object, decoded as its server did (an empty or non-object body is
 * 400 invalid_json); NULL after answering. */
json_object *vk_body_or_reply(struct req *r);
/* A string member, "" when absent or null (Go's zero value); NULL after answering 400
 * invalid_json when it has another type. */
const char *vk_str(struct req *r, json_object *o, const char *key);

int vk_pair(struct req *r);
int vk_device_register(struct req *r);
int vk_auth_test(struct req *r);
int vk_me(struct req *r);
int vk_revoke_current(struct req *r);
int vk_revoke_device(struct req *r);
int vk_push(struct req *r);
int vk_pull(struct req *r);
int vk_health(struct req *r);
int vk_livez(struct req *r);
int vk_blob_upload_begin(struct req *r);
int vk_blob_upload_chunk(struct req *r, const char *data, size_t len);
int vk_blob_upload(struct req *r);
int vk_register(struct req *r);
int vk_confirm(struct req *r);
int vk_login(struct req *r);
int vk_forgot(struct req *r);
int vk_reset(struct req *r);
int vk_user_devices(struct req *r);
int vk_user_device_revoke(struct req *r);

#endif
