/* tickit-sync's protocol under /compat/tickit (docs/compat/tickit.md; the wire format from
 * section 3 of the seed-protocols research): GET /health and POST /api/v1/sync, on a space
 * of the caller's ("tickit") with collections tasks, lists and tags, last writer wins by
 * the records' times. Handlers run on the HTTP server's threads and call core only. */
#ifndef CAIRN_COMPAT_TICKIT_H
#define CAIRN_COMPAT_TICKIT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "../../../util/config.h"
#include "../../server.h"
#include "../compat.h"

/* The [tickit] section. */
struct tickit_config {
	struct compat_config base; /* enabled, listen */
	char *realm;
	int64_t max_changes;
};
CONFIG_SECTION_DECL(tickit);

extern const struct http_mount tickit_mount;

/* The app name of the space its data lives in. */
#define TICKIT_APP "tickit"

/* --- inside the adapter --- */

/* A record type of the protocol and the collection that holds it. */
enum tk_type { TK_TASK, TK_LIST, TK_TAG, TK_TASK_TAG, TK_DELETED, TK__N };
/* "task", "list", "tag", "task_tag", "deleted"; collections "tasks", "lists", "tags". */
const char *tk_type_name(enum tk_type t);
const char *tk_collection(enum tk_type t);
/* The type whose collection is name, or -1. */
int tk_type_of_collection(const char *name);

/* One record read (from a request, or from what a space holds), checked against what the
 * Tickit desktop's parser needs, with tickit-sync's defaults filled in: norm is the
 * record's data as stored (every field, nulls included; owned); ts_ms the time it counts
 * as for last-writer-wins (updated_at, a tag's created_at when it has none, a tombstone's
 * deleted_at). For task_tag, norm is {task_id, tag_id}; for deleted {id, record_type}.
 * false with why (a sentence) when the record is not one. */
struct tk_record {
	enum tk_type type;
	const char *id; /* borrowed from norm */
	json_object *norm;
	int64_t ts_ms;
	enum tk_type deleted_type; /* TK_DELETED: what it deletes */
};
bool tk_record_read(json_object *in, int type_hint, struct tk_record *ret, char *why,
		    size_t whylen);
/* The record as the protocol sends it: {"type", ...norm} with "type" first (owned). */
json_object *tk_record_wire(enum tk_type type, json_object *norm);
/* An RFC 3339 time with any offset, 0 to 9 fraction digits, as ms since 1970. */
bool tk_time(const char *s, int64_t *ret_ms);

int tk_health(struct req *r);
int tk_sync(struct req *r);
int tk_error_writer(struct req *r, enum api_error e, const char *msg, json_object *fields,
		    json_object *extra);
int tk_dispatch(struct req *r);

#endif
