/* Record sync: spaces and members, pushing changes under each collection's conflict
 * policy, and the checks every read goes through. Errors as in accounts.h; a space the
 * caller may not see is -ERR_NOT_FOUND, a space it may see but not change -ERR_DENIED. */
#ifndef CAIRN_SYNC_H
#define CAIRN_SYNC_H

#include <json-c/json.h>

#include "../util/arena.h"
#include "../util/clock.h"
#include "core.h"
#include "../util/config.h"

/* "me" or a space id, to the space with the caller's role. */
int sync_space(struct core *c, const struct principal *p, const char *ref, struct space *ret);
/* The spaces p belongs to, each with p's role (the private one is created first if
 * missing); the members of sp; p's wrapped key of sp and its epoch (-ERR_NOT_FOUND when
 * none). sp comes from sync_space for p. List callbacks may not call core. */
int sync_spaces_list(struct core *c, const struct principal *p,
		     int (*cb)(void *arg, const struct space *sp), void *arg);
int sync_members_list(struct core *c, const struct principal *p, const struct space *sp,
		      int (*cb)(void *arg, const struct member *m), void *arg);
int sync_key_get(struct core *c, const struct principal *p, const struct space *sp,
		 int64_t *ret_epoch, char **ret_key);
/* The records of sp (tombstones too) after (after_collection, after) in that order, of
 * one collection or all (NULL), at most limit, as they are now (snapshot < 0) or as they
 * were at seq snapshot; *ret_as_of is the seq they reflect (the head, or snapshot).
 * -ERR_CURSOR_EXPIRED, with why in ve->detail, for a snapshot past the head, below the
 * pruning horizon or whose states are gone, or when epoch (optional; "" is none) is not
 * the space's. One live record (-ERR_NOT_FOUND for a tombstone; ret->data malloc'd:
 * record_clear). A record's kept versions, oldest first (-ERR_NOT_FOUND when none). */
int sync_records_list(struct core *c, const struct principal *p, const struct space *sp,
		      const char *collection, const char *after_collection, const char *after,
		      int limit, int64_t snapshot, const char *epoch,
		      int (*cb)(void *arg, const char *collection, const char *id,
				const struct record *r),
		      void *arg, int64_t *ret_as_of, struct verr *ve);
int sync_record_get(struct core *c, const struct principal *p, const struct space *sp,
		    const char *collection, const char *id, struct record *ret);
/* The same, tombstones included (ret->deleted, with the delete's client_ts). */
int sync_record_state(struct core *c, const struct principal *p, const struct space *sp,
		      const char *collection, const char *id, struct record *ret);
int sync_record_history(struct core *c, const struct principal *p, const struct space *sp,
			const char *collection, const char *id,
			int (*cb)(void *arg, const struct change_row *c), void *arg);
/* Where a pull reads from: after the cursor since, at most limit changes; epoch is the
 * log's epoch the cursor came with (NULL or "": not checked). */
struct pull_at {
	int64_t since;
	int limit;
	const char *epoch;
	/* The caller reads records that are written once and never superseded nor deleted
	 * (an op log: Verstak's): pruning keeps every one of them, so a cursor below the
	 * horizon still reads them all and is not refused for it. */
	bool append_only;
	/* A read that is not the device's pull (an adapter looking for conflicts): the
	 * cursor is not reported as the device's, so pruning is not told it applied them. */
	bool peek;
};
/* Whether epoch, sent by a client with a cursor or snapshot, names another history of sp's
 * log than the current one (NULL or "" names none; case does not matter). */
bool sync_other_epoch(const struct space *sp, const char *epoch);
/* A page of sp's changes after at->since, each to emit in order (a negative return
 * stops it); *ret_head is the space's head. -ERR_CURSOR_EXPIRED, with the reason in
 * ve->detail, when the cursor is of another epoch, past the head, or below the pruning
 * horizon (the page then means nothing). A good cursor is reported as the device's. */
int sync_pull_page(struct core *c, const struct principal *p, const struct space *sp,
		   const struct pull_at *at, int (*emit)(void *arg, const struct change_row *ch),
		   void *arg, int64_t *ret_head, struct verr *ve);
/* The cursor for a protocol that syncs by time (tickit, sync_server_ts): a pull from
 * *ret_since gives every change that arrived after ms (server time), give or take a step
 * of the clock. -ERR_CURSOR_EXPIRED when changes after ms may be pruned: the caller lists
 * the records instead. */
int sync_cursor_at_ms(struct core *c, const struct principal *p, const struct space *sp,
		      int64_t ms, int64_t *ret_since);
/* A compat adapter's clients (store.h, client_*; model.h, struct app_client): add
 * (-ERR_EXISTS: the id is taken), get, lock (the pull-before-push lock, taken when free or
 * older than stale_ms, recording the pull now and sp's head, which the pull reads up to and
 * the next one starts from: -ERR_BUSY when held), unlock, delete, and the client a device
 * is. -ERR_NOT_FOUND for an unknown one. */
int sync_client_add(struct core *c, const char *app, const struct app_client *cl);
int sync_client_get(struct core *c, const char *app, int64_t realm_id, const char *client_id,
		    struct app_client *ret);
int sync_client_lock(struct core *c, const char *app, int64_t realm_id, const char *client_id,
		     const struct space *sp, int64_t stale_ms, struct app_client *ret);
int sync_client_unlock(struct core *c, const char *app, int64_t realm_id, const char *client_id);
/* Moves the client's pull cursor back to seq (never forward). */
int sync_client_cursor(struct core *c, const char *app, int64_t realm_id, const char *client_id,
		       int64_t seq);
/* The same inside a push's transaction (push_job.in_txn). */
int sync_client_unlock_in(struct core *c, void *txn, const char *app, int64_t realm_id,
			  const char *client_id);
int sync_client_delete(struct core *c, const char *app, int64_t realm_id, const char *client_id);
int sync_client_by_device(struct core *c, int64_t device_id, struct app_client *ret);
struct hub_waiter;
/* Parks w (its wake and arg set by the caller) on the hub until sp moves past since or
 * deadline_ns (clock_mono_ns) passes: 0 parked; 1 when there is no hub or a change came
 * in meanwhile (w is not parked: pull again now). Whatever wakes w, the caller checks the
 * caller's token and access again before answering (see docs/architecture.md). */
int sync_pull_wait(struct core *c, const struct principal *p, const struct space *sp,
		   int64_t since, uint64_t deadline_ns, struct hub_waiter *w);
/* Gives every space a new random log epoch (the step after restoring a backup: cairn
 * restore-epochs); *ret_n spaces. Devices then bootstrap each space again. */
int sync_epochs_renew(struct core *c, int64_t *ret_n);
/* What a caller needs of a space: to be a member (read), to be one who writes (writer
 * and up), or to manage it (admin and up; functions refine this, say an owner only). */
enum space_need { SPACE_READ, SPACE_WRITE, SPACE_MANAGE };
/* sync_space, then the need: -ERR_NOT_FOUND (not a member, or no such space),
 * -ERR_READ_ONLY (a reader writing), -ERR_DENIED (not a manager). */
int sync_space_for(struct core *c, const struct principal *p, const char *ref,
		   enum space_need need, struct space *ret);
int sync_space_create(struct core *c, const struct principal *p, const char *name,
		      const char *kind, struct space *ret, struct verr *ve);
/* p's space for an app (a compat adapter's data, "tickit"): a shared space named app
 * that p owns, made on first use (and again if p left it); one per user and app. */
int sync_space_for_app(struct core *c, const struct principal *p, const char *app,
		       struct space *ret);
int sync_space_rename(struct core *c, const struct principal *p, const struct space *sp,
		      const char *name, struct verr *ve);
int sync_space_delete(struct core *c, const struct principal *p, const struct space *sp);

int sync_member_add(struct core *c, const struct principal *p, const struct space *sp,
		    const char *username, const char *role, struct verr *ve);
int sync_member_set(struct core *c, const struct principal *p, const struct space *sp,
		    const char *username, const char *role, struct verr *ve);
int sync_member_remove(struct core *c, const struct principal *p, const struct space *sp,
		       const char *username);
int sync_collection_set(struct core *c, const struct principal *p, const struct space *sp,
			const char *name, const char *policy, struct verr *ve);

/* A new key epoch for the space: keys maps each member's user id (as a decimal string)
 * to the space key wrapped for them. Owners and admins only. -ERR_CONFLICT when the epoch
 * does not move forward or the keys do not cover exactly the members. */
int sync_keys_put(struct core *c, const struct principal *p, const struct space *sp,
		  int64_t epoch, json_object *keys, struct verr *ve);

const char *role_name(enum role r);
const char *space_kind_name(enum space_kind k);
const char *op_name(enum change_op op);

/* One change as the client sent it (borrowed from the request). */
struct push_change {
	const char *op_id, *collection, *id;
	const char *client_ts; /* after the checks: ts, the canonical form */
	enum change_op op;
	json_object *data; /* the record (put) or the merge patch (patch) */
	int64_t base_version; /* -1: not given */
	/* An HTTP precondition (If-Match, If-None-Match): a stale base_version is a conflict
	 * whatever the collection's policy. Never set from a pushed body. */
	bool strict;
	/* Last writer wins by client_ts alone (policy.h, ts_only): for the compat adapters,
	 * whose clients carry times, not versions. Never set from a pushed body. */
	bool lww_ts;
	/* blobs the change names: lower-case hex, no repeats; and as a JSON array */
	const char **blobs;
	int nblobs;
	const char *blobs_json;
	char ts[CLOCK_RFC3339_LEN]; /* client_ts to the millisecond, with Z */
	/* a change of collection "files" (core/files/files.h, files_prepare): the path in
	 * normal form and its case fold, for a put; the change names its chunks in blobs */
	bool file;
	bool file_dir; /* the put is of a directory entry */
	const char *path, *path_fold;
	const char *text;     /* a file put's manifest, canonical JSON (stored as the data) */
	int64_t *chunk_sizes; /* for each of blobs, the size the manifest gives it */
};

/* Reads {"changes": [...]} (the JSON body of a push) into *ret (n of them, allocated from
 * a, borrowing from body): the types of every member, op, base_version (absent or null:
 * none; otherwise a whole number >= 0), blobs (hex, at most BLOBS_PER_CHANGE, repeats
 * dropped). -ERR_INVALID with every bad field in ve; -ERR_TOO_LARGE over limits.push_changes
 * or limits.push_blob_refs, with the sentence to answer in ve->e[0]. -ERR_NOMEM. */
int sync_push_parse(const struct config *cfg, json_object *body, struct arena *a,
		    struct push_change **ret, int *ret_n, struct verr *ve);
/* The checks that need no store: ids, collections, op, client_ts (which is rewritten to
 * its canonical form, and may be at most sync.max_clock_skew ahead of now_ms), blob names,
 * data sizes (limits.record_bytes), repeated op ids. -ERR_INVALID with ve;
 * -ERR_CLOCK_SKEW when the only faults are client_ts values too far ahead. */
int sync_changes_validate(const struct config *cfg, struct push_change *ch, int n,
			  int64_t now_ms, struct verr *ve);
/* The one clock rule, in ms since the epoch: the latest client time a change may carry
 * when the server's clock says now_ms (now_ms + sync.max_clock_skew). The native API
 * refuses a later one (above); a protocol adapter, whose clients take any error for a
 * failed sync, is to clamp a later one to this bound instead. Any thread. */
int64_t sync_latest_client_ts(const struct config *cfg, int64_t now_ms);
/* Every blob the changes name, once, sorted, in an array from a. */
int sync_changes_blobs(struct push_change *ch, int n, struct arena *a, const char ***ret,
		       int *ret_n);

/* What became of it. server_data is malloc'd JSON text (push_results_free). */
struct push_result {
	enum op_status status;
	enum op_status original; /* for duplicates: what happened the first time */
	int64_t seq, version;
	bool has_server;
	int64_t server_version;
	char *server_data;
	bool server_data_omitted; /* the request's conflicts had carried enough data already */
	bool server_deleted;
	const char *reason; /* for conflicts: "stale_base_version", "lww_lost", ... */
	json_object *merged_fields; /* merge policy: fields decided by time, or NULL */
	char *case_other; /* a file put: a live file whose path differs only by case, malloc'd */
};

/* Validates every change first (ve names "changes[3].id" etc.), then applies the batch in
 * one transaction. -ERR_INVALID leaves nothing applied. */
int sync_push(struct core *c, const struct principal *p, const struct space *sp,
	      struct push_change *changes, int n, struct push_result *results, int64_t *ret_head,
	      struct verr *ve);
void push_results_free(struct push_result *r, int n);

/* One request's push, as the group committer (commit.h) carries it. The caller owns
 * everything it points to until done runs. */
struct push_job {
	const struct principal *p;
	const struct space *sp;
	struct push_change *changes;
	int n;
	struct push_result *results; /* n of them */
	int rc;                      /* the outcome, as sync_push's return */
	int64_t head;
	struct verr ve;
	struct arena *arena;         /* for the job's own allocations; lives as long as it */
	const char **blobs;          /* every blob the changes name, once (sync_push_check) */
	bool *held;                  /* for each: the pusher held it when checked */
	int nblobs;
	void (*done)(struct push_job *j); /* runs on the committer's thread */
	/* NULL, or more to write in the push's own transaction once its changes are applied
	 * (an adapter's state that must commit with them): 0, or a negative error that undoes
	 * the job. */
	int (*in_txn)(struct core *c, void *txn, struct push_job *j);
	void *arg;
	struct push_job *next;
};
/* The parts of sync_push: the checks before any transaction (role, fields, repeated op
 * ids, that the pusher may read every blob named: checked here, on a read snapshot, so the
 * shared write transaction only confirms that each still exists), the changes applied
 * inside one, and, once it ended (j->rc), the head and the
 * notification, or the results freed on failure. */
int sync_push_check(struct core *c, struct push_job *j);
int sync_push_apply(struct core *c, void *txn, struct push_job *j);
void sync_push_settle(struct core *c, struct push_job *j);
/* A checked job (j->rc from sync_push_check) in its own transaction on this thread. */
void sync_push_run(struct core *c, struct push_job *j);

/* The user called username (by name only, case aside) in p's realm; -ERR_NOT_FOUND. */
int sync_user_by_name(struct core *c, const struct principal *p, const char *username,
		      struct user *u);

/* Field checks shared with the handlers. */
bool valid_collection(const char *s);
bool valid_record_id(const char *s);
bool valid_op_id(const char *s);
/* RFC 3339 UTC to milliseconds: exactly YYYY-MM-DDTHH:MM:SS, an optional fraction of 1 to
 * 9 digits, then Z or +00:00; years 1970 to 9999, real dates, seconds 00 to 59. */
bool parse_rfc3339_ms(const char *s, int64_t *ret);

/* RFC 7386 JSON merge patch: a new object; neither argument is changed. */
json_object *json_merge_patch(json_object *target, json_object *patch);

/* --- configuration (the section and its values: util/config.h) --- */

struct sync_config {
	int64_t retention_ms;
	int64_t gc_interval_ms;
	int64_t device_idle_ms;
	int64_t max_clock_skew_ms;
};
CONFIG_SECTION_DECL(sync);

#endif
