/* The metadata store: an interface (a table of operations) and its backends, chosen from
 * the configuration at start-up. core/ and http/ use only this header, so a PostgreSQL
 * backend can be added without touching them. */
#ifndef CAIRN_STORE_H
#define CAIRN_STORE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

struct config;
struct store;

/* The operations, one table per domain. List callbacks run while the store holds a
 * connection: they must not call the store (with few connections that would deadlock). A
 * negative return stops the list. Every operation returns 0, -ERR_NOT_FOUND,
 * -ERR_EXISTS (a unique name or address is taken), -ERR_DENIED where stated, or -ERR_DB;
 * an operation that writes may also give -ERR_LOCKED (another process held the database
 * past the busy timeout: try again later). Each is one transaction. */

/* Realms and users. */
struct store_accounts_ops {
	/* Realms. */
	int (*realm_get)(struct store *s, const char *name, struct realm *ret);
	int (*realm_get_by_id)(struct store *s, int64_t id, struct realm *ret);
	int (*realm_list)(struct store *s, int (*cb)(void *arg, const struct realm *r), void *arg);
	int (*realm_create)(struct store *s, struct realm *r); /* sets r->id */
	int (*realm_update)(struct store *s, const struct realm *r);

	/* Users. login_key is a lower-cased username or e-mail address. */
	int (*user_create)(struct store *s, struct user *u); /* sets u->id */
	int (*user_get)(struct store *s, int64_t id, struct user *ret);
	int (*user_find)(struct store *s, int64_t realm_id, const char *login_key,
			 struct user *ret);
	/* Users of a realm (0: every realm) whose name or address contains q (may be ""),
	 * with id > after_id, in id order, at most limit. */
	int (*user_list)(struct store *s, int64_t realm_id, const char *q, int64_t after_id,
			 int limit, int (*cb)(void *arg, const struct user *u), void *arg);
	/* Writes email, name, is_admin, disabled, email_confirmed. A disabled user's tokens
	 * stay (they answer account_disabled until the user is enabled again). */
	int (*user_update)(struct store *s, const struct user *u);
	/* Gives the user a new username (-ERR_EXISTS when another user of the realm has it,
	 * in any case); tokens stay valid and now name the new one. */
	int (*user_rename)(struct store *s, int64_t id, const char *username);
	/* Sets the password hash and deletes every token of the user's devices except
	 * keep_device_id's (0: every device; long-lived token devices are revoked too). */
	int (*user_set_password)(struct store *s, int64_t user_id, const char *hash,
				 int64_t keep_device_id, int64_t now_ms);
	/* Deletes the user and all that is theirs, in one transaction. Refused (-ERR_CONFLICT,
	 * nothing changed) when they are the last owner of a shared space that has other
	 * members: cb gets each such space (its id and name; a negative return stops). The
	 * shared spaces of which they are the only member go with them. */
	int (*user_delete)(struct store *s, int64_t id,
			   int (*cb)(void *arg, int64_t space_id, const char *name), void *arg);
	int (*user_set_public_key)(struct store *s, int64_t user_id, const char *key);
	/* *ret_key is malloc'd. */
	int (*user_get_public_key)(struct store *s, int64_t realm_id, const char *username_key,
				   char **ret_key);
	int (*admin_count)(struct store *s, int64_t *ret);
};

/* Devices, their tokens, and mailed codes. */
struct store_sessions_ops {
	/* Sessions and tokens. session_open creates the device d (d->id == 0) or resumes
	 * d->id (-ERR_NOT_FOUND unless it is the user's and not revoked), then stores the
	 * tokens. d is filled with the stored device. */
	int (*session_open)(struct store *s, struct device *d, const struct token_row *tokens,
			    int ntokens, int64_t now_ms);
	/* Exchanges the refresh token old_hash for the new tokens. -ERR_NOT_FOUND when it is
	 * unknown, expired or its device revoked; -ERR_DENIED when it was already used, in
	 * which case the device's session has been ended (every token deleted). */
	int (*session_refresh)(struct store *s, const uint8_t old_hash[32],
			       const struct token_row *tokens, int ntokens, int64_t now_ms,
			       struct principal *ret);
	/* The owner of a token, whatever its state (the caller checks expiry and revocation). */
	int (*token_lookup)(struct store *s, const uint8_t hash[32], struct principal *ret);
	/* Deletes every token of a device (logout): the device stays and can be resumed. */
	int (*session_end)(struct store *s, int64_t device_id);
	int (*device_list)(struct store *s, int64_t user_id,
			   int (*cb)(void *arg, const struct device *d), void *arg);
	int (*device_get)(struct store *s, int64_t user_id, int64_t device_id, struct device *ret);
	int (*device_rename)(struct store *s, int64_t user_id, int64_t device_id, const char *name);
	/* Marks the device revoked and deletes its tokens. */
	int (*device_revoke)(struct store *s, int64_t user_id, int64_t device_id, int64_t now_ms);
	int (*device_touch)(struct store *s, int64_t device_id, int64_t now_ms);

	/* E-mail codes. ecode_create replaces the user's earlier codes of that purpose. */
	int (*ecode_create)(struct store *s, struct ecode *e);
	int (*ecode_by_token)(struct store *s, enum ecode_purpose p, const uint8_t token_hash[32],
			      struct ecode *ret);
	int (*ecode_active)(struct store *s, int64_t user_id, enum ecode_purpose p,
			    struct ecode *ret);
	/* Takes one of the code's tries before it is compared: 0, or -ERR_EXPIRED when max
	 * were taken already (one statement, so concurrent guesses cannot share a try). */
	int (*ecode_take_try)(struct store *s, int64_t id, int max);
	/* Consumes the code and confirms the address. */
	int (*ecode_confirm)(struct store *s, const struct ecode *e);
	/* Consumes the code and sets the password as user_set_password with no device kept. */
	int (*ecode_reset)(struct store *s, const struct ecode *e, const char *hash, int64_t now_ms);
};

/* The mail outbox. */
struct store_mail_ops {
	/* The mail outbox. */
	int (*mail_enqueue)(struct store *s, const char *to, const char *subject, const char *body,
			    int64_t now_ms);
	/* The oldest mail due at now_ms; -ERR_NOT_FOUND when none. Free with mail_clear. */
	int (*mail_next)(struct store *s, int64_t now_ms, struct mail *ret);
	/* Marks a mail sent (error NULL), or failed once more with the next try at next_ms, or
	 * given up (next_ms 0). */
	int (*mail_done)(struct store *s, int64_t id, int64_t now_ms, const char *error,
			 int64_t next_ms);
};

/* Spaces, members, collections and keys. */
struct store_spaces_ops {
	/* Spaces and members. space_private finds or creates the user's private space. */
	int (*space_private)(struct store *s, int64_t user_id, int64_t realm_id, int64_t now_ms,
			     struct space *ret);
	/* Creates sp (sets sp->id) with owner_id as its owner member. */
	int (*space_create)(struct store *s, struct space *sp, int64_t owner_id, int64_t now_ms);
	/* The user's space for an app (a protocol adapter's data: "tickit"), found by
	 * (user, app), or made in one transaction when missing or when the user is no longer
	 * its member: a shared space named app with the user as owner. ret has the user's
	 * role; *ret_created says whether it was made. */
	int (*space_for_app)(struct store *s, int64_t user_id, int64_t realm_id, const char *app,
			     int64_t now_ms, struct space *ret, bool *ret_created);
	/* An adapter's clients (model.h, struct app_client), keyed by (app, realm, client
	 * id). add: -ERR_EXISTS when the id is taken. get: -ERR_NOT_FOUND. lock: takes the
	 * pull-before-push lock when it is free or older than stale_ms, and records the pull
	 * at now_ms and the head of space_id it is to read up to, in one transaction (*ret the
	 * row after); -ERR_BUSY when held, -ERR_NOT_FOUND. unlock frees it. delete:
	 * -ERR_NOT_FOUND. by_device: the client a device is. */
	int (*client_add)(struct store *s, const char *app, const struct app_client *c);
	int (*client_get)(struct store *s, const char *app, int64_t realm_id, const char *client_id,
			  struct app_client *ret);
	int (*client_lock)(struct store *s, const char *app, int64_t realm_id, const char *client_id,
			   int64_t space_id, int64_t now_ms, int64_t stale_ms,
			   struct app_client *ret);
	int (*client_unlock)(struct store *s, const char *app, int64_t realm_id,
			     const char *client_id);
	/* Moves the client's pull cursor back to seq, never forward: its next pull (after
	 * its lock's time) starts there. */
	int (*client_cursor)(struct store *s, const char *app, int64_t realm_id,
			     const char *client_id, int64_t seq);
	int (*client_delete)(struct store *s, const char *app, int64_t realm_id,
			     const char *client_id);
	int (*client_by_device)(struct store *s, int64_t device_id, struct app_client *ret);
	int (*space_get)(struct store *s, int64_t id, struct space *ret);
	int (*space_rename)(struct store *s, int64_t id, const char *name);
	int (*space_delete)(struct store *s, int64_t id);
	/* Gives every space a new random log epoch, in one transaction (the step after
	 * restoring a backup; see cairn restore-epochs); *ret_n spaces. */
	int (*space_epochs_renew)(struct store *s, int64_t *ret_n);
	/* The spaces user_id belongs to, each with that user's role. */
	int (*space_list)(struct store *s, int64_t user_id,
			  int (*cb)(void *arg, const struct space *sp), void *arg);
	/* -ERR_NOT_FOUND when the user is not a member. */
	int (*member_role)(struct store *s, int64_t space_id, int64_t user_id, enum role *ret);
	int (*member_list)(struct store *s, int64_t space_id,
			   int (*cb)(void *arg, const struct member *m), void *arg);
	/* member_add adds a member: -ERR_EXISTS when they are one already, -ERR_NOT_FOUND
	 * when the space or the user is gone. member_set_role changes a member's role and
	 * member_delete removes one: -ERR_NOT_FOUND when they are not a member (so a change
	 * racing a removal never adds them back). Neither takes the last owner's role away:
	 * -ERR_CONFLICT, nothing changed, when the user is an owner and no other member is. */
	int (*member_add)(struct store *s, int64_t space_id, int64_t user_id, enum role role,
			  int64_t now_ms);
	int (*member_set_role)(struct store *s, int64_t space_id, int64_t user_id, enum role role);
	int (*member_delete)(struct store *s, int64_t space_id, int64_t user_id);
	int (*collection_set)(struct store *s, int64_t space_id, const char *name, enum policy p);
	/* Stores a new key epoch: keys[i] wrapped for user_ids[i], which must be exactly the
	 * space's members (-ERR_CONFLICT otherwise), epoch above the current one
	 * (-ERR_CONFLICT otherwise); one transaction. */
	int (*keys_put)(struct store *s, int64_t space_id, int64_t epoch, const int64_t *user_ids,
			const char *const *keys, int n);
	/* The user's wrapped key and its epoch; -ERR_NOT_FOUND when none. *ret_key malloc'd. */
	int (*key_get)(struct store *s, int64_t space_id, int64_t user_id, int64_t *ret_epoch,
		       char **ret_key);
};

/* Writing changes, inside one transaction per batch. */
struct store_push_ops {
	/* Pushing: core runs the conflict rules inside one write transaction per request,
	 * through these primitives. push_end commits when rc >= 0 (then the commit is
	 * durable) and rolls back otherwise; it returns rc, or -ERR_DB when the commit fails. */
	int (*push_begin)(struct store *s, void **ret_txn);
	/* Inside a push: an adapter's client lock let go (store_spaces_ops, client_*). */
	int (*push_client_unlock)(void *txn, const char *app, int64_t realm_id,
				  const char *client_id);
	int (*push_end)(struct store *s, void *txn, int rc);
	/* Nested scopes inside a push transaction, for group commit: push_mark opens one,
	 * push_unmark closes it keeping its writes (keep) or undoing them. */
	int (*push_mark)(void *txn);
	int (*push_unmark)(void *txn, bool keep);
	int (*push_op_get)(void *txn, int64_t device_id, const char *op_id, struct op_result *ret);
	int (*push_op_put)(void *txn, int64_t device_id, const char *op_id, int64_t space_id,
			   const struct op_result *r);
	/* POLICY_REJECT when the collection has none set. */
	int (*push_policy)(void *txn, int64_t space_id, const char *collection, enum policy *ret);
	/* The record's state; its data only with with_data (a record may be megabytes, and
	 * most decisions need only its version, deletion and client_ts). */
	int (*push_record_get)(void *txn, int64_t space_id, const char *collection, const char *id,
			       bool with_data, struct record *ret);
	/* The space's pruning horizon as this transaction sees it: changes at or below it may
	 * be gone. */
	int (*push_horizon)(void *txn, int64_t space_id, int64_t *ret);
	/* The record's changes with seq > after_seq, in order. */
	int (*push_changes_since)(void *txn, int64_t space_id, const char *collection,
				  const char *id, int64_t after_seq,
				  int (*cb)(void *arg, const struct change_row *c), void *arg);
	/* Takes the space's next sequence number, stores the change and the record's new
	 * state (version = that number). */
	int (*push_append)(void *txn, int64_t space_id, const struct change_in *c, int64_t now_ms,
			   int64_t *ret_seq);
};

/* Reading the change log and records; pruning; cursors. */
struct store_changes_ops {
	/* Reading, each in one consistent snapshot. */
	/* Changes with seq > since in order, at most limit; the space's head and horizon. */
	int (*changes_read)(struct store *s, int64_t space_id, int64_t since, int limit,
			    int (*cb)(void *arg, const struct change_row *c), void *arg,
			    int64_t *ret_head, int64_t *ret_horizon);
	/* The cursor for "what arrived after ms" (server time): the last seq whose change
	 * arrived at or before ms, found by bisection over the kept changes above the
	 * horizon, so it assumes arrival times grow with seq (a clock stepped back makes a
	 * caller miss or repeat changes around the step). It is the horizon when even the
	 * first kept change came later: changes pruned below it may have too, which only the
	 * caller can judge (*ret_horizon). */
	int (*changes_seq_at_ms)(struct store *s, int64_t space_id, int64_t ms, int64_t *ret_seq,
				 int64_t *ret_horizon);
	/* Current records (tombstones too) after (after_collection, after_id) in that order,
	 * of one collection or all (NULL), at most limit, in one consistent snapshot.
	 * *ret_head and *ret_horizon are the space's as this read saw them (the horizon
	 * here being the lowest snapshot that can be read). With snapshot
	 * >= 0 the records are as they were at that seq: a record changed since is given as
	 * its last change at or below it left it (a put's data, a patch's resulting state, a
	 * delete's tombstone), one created since is left out (cb hears of it with r NULL, so
	 * that it can stop a long scan; it counts towards nothing); nothing is read when snapshot
	 * is past the head or below the horizon (the caller judges), and -ERR_EXPIRED when
	 * a record's state at snapshot is not kept (a patch stored before schema 10). */
	int (*records_list)(struct store *s, int64_t space_id, const char *collection,
			    const char *after_collection, const char *after_id, int limit,
			    int64_t snapshot,
			    int (*cb)(void *arg, const char *collection, const char *id,
				      const struct record *r),
			    void *arg, int64_t *ret_head, int64_t *ret_horizon);
	int (*record_get)(struct store *s, int64_t space_id, const char *collection, const char *id,
			  struct record *ret);
	int (*record_history)(struct store *s, int64_t space_id, const char *collection,
			      const char *id, int (*cb)(void *arg, const struct change_row *c),
			      void *arg);
	/* The record's kept change of seq, handed to cb; -ERR_NOT_FOUND when none. */
	int (*record_change)(struct store *s, int64_t space_id, const char *collection,
			     const char *id, int64_t seq,
			     int (*cb)(void *arg, const struct change_row *c), void *arg);
	/* Prunes every space: changes and tombstones older than retention_ms and at or below
	 * the lowest cursor of the space's active devices (not revoked, seen within idle_ms);
	 * the space's horizon moves to that point. A change there goes when it is a delete
	 * or another change of its record follows at or below that point, so each record's
	 * state at any seq from the horizon on stays readable (records_list's snapshot).
	 * Counts what went. */
	/* keep (NULL: none) spares versions of files (model.h, struct file_keep), which then
	 * stay below the horizon: a file's history outlives the log's. */
	int (*prune)(struct store *s, int64_t now_ms, int64_t retention_ms, int64_t idle_ms,
		     const struct file_keep *keep, int64_t *ret_changes, int64_t *ret_records);
	/* Remembers the cursors devices report having applied (a cursor never moves back),
	 * n of them in one transaction. */
	int (*cursors_put)(struct store *s, const struct cursor_row *rows, int n, int64_t now_ms);
};

/* Blobs' metadata: holdings, references, quotas. */
struct store_blobmeta_ops {
	/* Blobs' metadata; core/blobs.c keeps it in step with the blob store. */
	/* The user now holds the blob: its row is created or touched and the user recorded
	 * as a holder. *ret_new is false when they already held it. -ERR_QUOTA (nothing
	 * changed) when their or their realm's usage would pass its quota; -ERR_BUSY
	 * (nothing changed) while collection has the blob marked (blob_mark): its bytes may
	 * be going, so the caller tries again once the mark is gone. */
	int (*blob_hold)(struct store *s, const struct blob_hold *h, bool *ret_new);
	/* n holdings in one transaction: ret_status[i] is 0, or -ERR_QUOTA / -ERR_BUSY for
	 * one that changed nothing (the others go on); any other failure undoes all and is
	 * returned. */
	int (*blob_hold_many)(struct store *s, const struct blob_hold *h, int n, bool *ret_new,
			      int *ret_status);
	/* 0 when the user holds the blob; -ERR_NOT_FOUND otherwise. */
	int (*blob_held)(struct store *s, int64_t user_id, const char *sha256);
	/* Whether the user may read each of n blobs: they hold it, or a kept change of a space
	 * they belong to names it (ok[i]); and, when ret_held is not NULL, whether they hold
	 * it (held[i]); when ret_size is not NULL, its recorded size (-1 without a row); all
	 * in one snapshot. */
	int (*blob_readable)(struct store *s, int64_t user_id, const char *const *shas, int n,
			     bool *ret_ok, bool *ret_held, int64_t *ret_size);
	/* Bytes held by the user and by the user's realm. */
	int (*blob_usage)(struct store *s, int64_t user_id, int64_t *ret_user, int64_t *ret_realm);
	/* The size recorded for a blob, and (ret_marked, may be NULL) whether collection has
	 * it marked; -ERR_NOT_FOUND when it has no row. */
	int (*blob_get)(struct store *s, const char *sha256, int64_t *ret_size, bool *ret_marked);
	/* Blobs nobody holds or references, untouched since before_ms and not marked, in hash
	 * order after `after` ("" to start), at most limit. */
	int (*blob_dead)(struct store *s, int64_t before_ms, const char *after, int limit,
			 int (*cb)(void *arg, const char *sha256), void *arg);
	/* Collection's hiding step, in one transaction: marks the blob's row as being
	 * deleted (at now_ms) if it is still dead and untouched since before_ms, or, when it
	 * has no row, makes a marked row for it (a file no row records: size bytes). 0 when
	 * marked; -ERR_CONFLICT, nothing changed, when it is in use or marked already. A
	 * marked blob is nobody's: unreadable, not held, refused to uploads (-ERR_BUSY) until
	 * blob_forget. Only the holder of the "blob-gc" lease marks and forgets. */
	int (*blob_mark)(struct store *s, const char *sha256, int64_t size, int64_t before_ms,
			 int64_t now_ms);
	/* Deletes a marked row (after its bytes went): 0, or -ERR_NOT_FOUND when it has no
	 * marked row. */
	int (*blob_forget)(struct store *s, const char *sha256);
	/* Marked rows (left by a collector that stopped between marking and forgetting), in
	 * hash order after `after`, at most limit. */
	int (*blob_marked)(struct store *s, const char *after, int limit,
			   int (*cb)(void *arg, const char *sha256), void *arg);
	/* A lease on a named job (one collector at a time, whatever process or node runs
	 * it): taken or renewed for holder until now_ms + ttl_ms when it is free, expired or
	 * holder's already: 0; -ERR_BUSY when another holds it. lease_drop gives it up (a
	 * no-op when holder does not hold it). */
	int (*lease_take)(struct store *s, const char *name, const char *holder, int64_t now_ms,
			  int64_t ttl_ms);
	int (*lease_drop)(struct store *s, const char *name, const char *holder);
	/* Every blob row that is not marked, in hash order after `after`, at most limit. */
	int (*blob_rows)(struct store *s, const char *after, int limit,
			 int (*cb)(void *arg, const char *sha256, int64_t size), void *arg);
	/* Inside a push: touches each of the n blobs' rows (touched_ms = now_ms), and checks
	 * that user_id still holds each blob with held[i] (it held it when the push was
	 * checked; a release since would let the change keep a blob nobody pays for). 0, or
	 * -ERR_NOT_FOUND with the index of the first that has no row or is no longer held in
	 * *ret_bad. */
	int (*push_blobs_touch)(void *txn, int64_t user_id, const char *const *shas,
				const bool *held, int n, int64_t now_ms, int *ret_bad);
	/* The blobs the user holds, in hash order after `after` ("" to start), at most
	 * limit: name, size in bytes, when the holding began (ms). */
	int (*blob_holdings)(struct store *s, int64_t user_id, const char *after, int limit,
			     int (*cb)(void *arg, const char *sha256, int64_t size,
				       int64_t added_ms),
			     void *arg);
	/* Ends the user's holding of the blob (their usage drops by its size); the bytes go
	 * once nobody holds or references them (blob_dead). -ERR_NOT_FOUND when they hold
	 * none; -ERR_CONFLICT, nothing changed, when a kept change pushed by one of the
	 * user's devices names it (*ret_space_id, *ret_seq: one of them). */
	int (*blob_release)(struct store *s, int64_t user_id, const char *sha256,
			    int64_t *ret_space_id, int64_t *ret_seq);
};

/* Files: records of collection "files", found by path (change_in.path). */
struct store_files_ops {
	/* The space's files whose path starts with prefix ("" for all) and sorts after
	 * `after` in byte order, in that order, at most limit: live ones, or with deleted
	 * the tombstones (data NULL); one snapshot. r->data is borrowed for the callback. */
	int (*files_list)(struct store *s, int64_t space_id, const char *prefix, const char *after,
			  int limit, bool deleted,
			  int (*cb)(void *arg, const char *path, const struct record *r), void *arg);
	/* Inside a push: 1 with its path in out when a live file of the space other than
	 * path has the case fold fold; 0 when none. */
	int (*push_file_fold)(void *txn, int64_t space_id, const char *fold, const char *path,
			      char *out, size_t outlen);
	/* Inside a push: whether a live file at path would clash with the tree: 1 with the
	 * other path in out when a parent of path (each prefix ending before a '/') is a live
	 * file or link, or, unless dir (the entry at path is a directory), when live files lie
	 * under path + "/"; 0 when none. */
	int (*push_file_clash)(void *txn, int64_t space_id, const char *path, bool dir, char *out,
			       size_t outlen);
	/* Inside a push: the user's holdings of these blobs become bound to files. */
	int (*push_blobs_bind)(void *txn, int64_t user_id, const char *const *shas, int n);
	/* Ends every holding bound to files, of a blob no kept change names, taken before
	 * before_ms (its own transaction); *ret_n how many. A new upload of a held blob unbinds
	 * its holding (blob_hold). */
	int (*files_release)(struct store *s, int64_t before_ms, int64_t *ret_n);
};

/* Messages (docs/architecture.md, Messages). */
struct store_messages_ops {
	/* The direct space of users a and b (a == b: notes to oneself), created with its
	 * members (writers), its "messages" collection (append) and both users'
	 * conversation rows when missing, in one transaction; *ret_created says which. */
	int (*direct_space)(struct store *s, int64_t realm_id, int64_t a, int64_t b,
			    int64_t now_ms, struct space *ret, bool *ret_created);
	/* 1 when recipient blocks sender, 0 otherwise: a read, and the same inside a push. */
	int (*blocked)(struct store *s, int64_t recipient_id, int64_t sender_id);
	int (*push_blocked)(void *txn, int64_t recipient_id, int64_t sender_id);
	/* Inside a push: a new message's server-wide id (its row, seq still to come). */
	int (*push_message_new)(void *txn, int64_t space_id, int64_t sender_id, int64_t now_ms,
				int64_t *ret_id);
	/* Inside a push, once its change is appended at seq: the row gets seq, the sender's
	 * conversation row its last message, the other's too with one more unread. */
	int (*push_message_done)(void *txn, int64_t id, int64_t space_id, int64_t seq,
				 int64_t sender_id, int64_t now_ms);
	/* Inside a push: the sender's message id of the space is marked deleted and the
	 * members' unread counts recounted; -ERR_NOT_FOUND when it is not the sender's
	 * message of that space (or deleted already). */
	int (*push_message_delete)(void *txn, int64_t id, int64_t space_id, int64_t sender_id);
	/* The user's conversations, newest activity first, after the cursor (before_ms,
	 * before_space; INT64_MAX and 0 to start), at most limit. */
	int (*conversations_list)(struct store *s, int64_t user_id, int64_t before_ms,
				  int64_t before_space, int limit,
				  int (*cb)(void *arg, const struct conversation *c), void *arg);
	/* One conversation of the user; -ERR_NOT_FOUND when it is not theirs. */
	int (*conversation_get)(struct store *s, int64_t user_id, int64_t space_id,
				struct conversation *ret);
	/* Moves the user's read cursor up to seq (never down) and recounts the unread. */
	int (*conversation_read)(struct store *s, int64_t user_id, int64_t space_id, int64_t seq,
				 struct conversation *ret);
	/* Moves the user's read cursor to the conversation's newest message, in one
	 * transaction; *ret_marked is how many were unread and are not now. */
	int (*conversation_read_newest)(struct store *s, int64_t user_id, int64_t space_id,
					int64_t *ret_marked);
	/* A page of a conversation's messages: after since in seq order (since >= 0), or
	 * before `before` newest first (since < 0), at most limit. */
	int (*messages_page)(struct store *s, int64_t space_id, int64_t since, int64_t before,
			     int limit, int (*cb)(void *arg, const struct message_row *m),
			     void *arg);
	/* Blocks (on) or unblocks; the user's blocks in id order. */
	int (*block_set)(struct store *s, int64_t user_id, int64_t blocked_id, bool on,
			 int64_t now_ms);
	int (*blocks_list)(struct store *s, int64_t user_id,
			   int (*cb)(void *arg, int64_t blocked_id, int64_t since_ms), void *arg);
	/* The direct space of users a and b, if it exists (-ERR_NOT_FOUND): a read. */
	int (*direct_pair_find)(struct store *s, int64_t a, int64_t b, int64_t *ret_space_id);
	/* The user's newest messages across all their conversations (only the one with
	 * other_id when other_id > 0), deleted ones left out, newest first by id, at most
	 * limit, from one snapshot. The work is bounded by limit and the conversations that
	 * hold those messages, not by the user's whole history. */
	int (*messages_recent)(struct store *s, int64_t user_id, int64_t other_id, int limit,
			       int (*cb)(void *arg, const struct message_listed *m), void *arg);
	/* Replaces the user's key bundle and all their one-time prekeys (n of them, each at
	 * most KEY_TEXT_MAX bytes), in one transaction. */
	int (*bundle_put)(struct store *s, int64_t user_id, const struct key_bundle *kb,
			const char *const *prekeys, int n, int64_t now_ms);
	/* The user's key bundle and one of their one-time prekeys (the oldest), which is
	 * deleted in the same transaction, so it is handed out once: *ret_has_prekey false
	 * when none is left; prekey NULL takes none. -ERR_NOT_FOUND when the user has no
	 * bundle. */
	int (*bundle_take)(struct store *s, int64_t user_id, struct key_bundle *ret, char *prekey,
			 size_t prekey_len, bool *ret_has_prekey);
	/* The one-time prekeys the user has left. */
	int (*bundle_prekeys)(struct store *s, int64_t user_id, int64_t *ret);
};

struct store_ops {
	const char *name; /* "sqlite" */
	/* 0 when the database answers queries and is the one that was opened; otherwise
	 * -ERR_DB with a short reason in detail. Safe from any thread. */
	int (*check)(struct store *s, char *detail, size_t detail_len);
	/* The schema version recorded in the database. */
	int (*schema_version)(struct store *s, int *ret_version);
	/* Closes every connection. Accepts NULL. */
	void (*close)(struct store *s);
	int (*stats)(struct store *s, struct store_stats *ret);
	/* One table per domain: a backend fills each (tests/store runs the same contract
	 * against every backend). */
	const struct store_accounts_ops *accounts;
	const struct store_sessions_ops *sessions;
	const struct store_mail_ops *mail;
	const struct store_spaces_ops *spaces;
	const struct store_push_ops *push;
	const struct store_changes_ops *changes;
	const struct store_blobmeta_ops *blobmeta;
	const struct store_files_ops *files;
	const struct store_messages_ops *messages;
};


/* Each backend embeds this as its first member. */
struct store {
	const struct store_ops *ops;
	/* Bumped after every committed write that can change who a token belongs to or
	 * whether it is valid (revocations, logouts, password changes, disabling, deletion),
	 * so caches of token lookups in this process know to look again. */
	_Atomic uint64_t auth_gen;
};

/* How a command may treat the data directory. Only serve creates one; only serve and
 * cairn migrate (each holding the data directory's lock, cli.h) bring its schema up to
 * date; every other command needs an existing, current database. */
enum store_mode {
	STORE_CREATE,   /* serve: create the data directory if missing, migrate */
	STORE_MIGRATE,  /* cairn migrate: the directory must exist; migrate */
	STORE_EXISTING, /* every other command: it must exist and be current */
};

/* Opens the backend named by storage.database under storage.data_dir as mode says.
 * -ERR_NOT_FOUND when the data directory or database is missing (STORE_MIGRATE,
 * STORE_EXISTING), -ERR_SCHEMA_NEWER when the database was written by a newer Cairn,
 * -ERR_SCHEMA_OLDER when it needs migrating (STORE_EXISTING), -ERR_IO when the data
 * directory cannot be used; -ERR_DB otherwise. err says why. */
int store_open(const struct config *c, int reader_count, enum store_mode mode,
	       struct store **ret_store, char *err, size_t errlen);

static inline struct store *store_close(struct store *s)
{
	if (s)
		s->ops->close(s);
	return NULL;
}

/* Backends. */
/* migrate: bring the schema up to date, else refuse one that is not (-ERR_SCHEMA_OLDER). */
int store_sqlite_open(const char *path, int reader_count, bool migrate, struct store **ret_store,
		      char *err, size_t errlen);

#endif
