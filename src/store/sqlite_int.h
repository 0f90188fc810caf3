/* Private to the SQLite backend: connections, the statement cache, transactions. */
#ifndef CAIRN_SQLITE_INT_H
#define CAIRN_SQLITE_INT_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "store.h"

#define SQ_MAX_READERS 64

/* A connection with its prepared statements, one slot per call site (SQ below). The
 * slots grow with the call sites (a connection is used by one thread at a time, so its
 * own array needs no lock); only running out of memory fails. */
struct sq_conn {
	sqlite3 *db;
	sqlite3_stmt **stmts;
	int nstmts; /* slots allocated */
	/* the statements handed out since the connection was taken, to reset on release */
	int nused;
	sqlite3_stmt *used[16];
	bool used_overflow;
};

struct sq_store {
	struct store base;
	char *path;
	dev_t dev; /* identity of the file we opened, to notice it being replaced */
	ino_t ino;
	pthread_mutex_t write_mu;
	struct sq_conn writer;
	uint64_t locked_since_ns; /* when a write last found the database held (write_mu) */
	pthread_mutex_t pool_mu;
	pthread_cond_t pool_cv;
	int nreaders, nfree;
	struct sq_conn readers[SQ_MAX_READERS];
	struct sq_conn *free_readers[SQ_MAX_READERS];
};

/* The statement for this call site on connection c, reset and unbound; NULL on error.
 * Each call site gets a slot the first time it runs. */
sqlite3_stmt *sq_stmt_at(struct sq_conn *c, int *slot, const char *sql);
#define SQ(c, sql)                                        \
	({                                                \
		static int sq_slot_;                      \
		sq_stmt_at((c), &sq_slot_, (sql));        \
	})

/* A read connection, borrowed until sq_read_end (which resets its statements). */
struct sq_conn *sq_read_begin(struct sq_store *s);
void sq_read_end(struct sq_store *s, struct sq_conn *c);
/* The writer inside BEGIN IMMEDIATE, or NULL when that failed. sq_write_end commits when
 * rc >= 0 (returning -ERR_DB if the commit fails) and rolls back otherwise; returns rc. */
struct sq_conn *sq_write_begin(struct sq_store *s);
/* After sq_write_begin gave NULL on this thread: -ERR_LOCKED when another connection held
 * the database past the busy timeout, else -ERR_DB. */
int sq_write_failure(void);
int sq_write_end(struct sq_store *s, struct sq_conn *c, int rc);

#define SQS(b) ((struct sq_store *)(b))

/* A consistent snapshot on a read connection (BEGIN ... COMMIT), so that several reads
 * agree (a space's head and its rows, say). */
int sq_snapshot_begin(struct sq_conn *c);
void sq_snapshot_end(struct sq_conn *c);

/* Runs a one-row read; 0 with the row handed to fill, -ERR_NOT_FOUND, or -ERR_DB. */
#define READ_ONE(store, sql, bind, fill)                       \
	do {                                                   \
		struct sq_conn *c_ = sq_read_begin(SQS(store)); \
		sqlite3_stmt *st = SQ(c_, sql);                 \
		int r_ = -ERR_DB;                               \
		if (st) {                                       \
			bind;                                   \
			r_ = sq_step(st);                       \
			if (r_ == 1) {                          \
				r_ = 0; /* fill may fail it */  \
				fill;                           \
			} else if (r_ == 0) {                   \
				r_ = -ERR_NOT_FOUND;            \
			}                                       \
		}                                               \
		sq_read_end(SQS(store), c_);                    \
		return r_;                                      \
	} while (0)

/* A one-statement write in its own transaction: bind, step, commit; with
 * notfound_if_unchanged, a statement that changed no row is -ERR_NOT_FOUND. Returns. */
#define WRITE_ONE(store, sql, bind, notfound_if_unchanged) \
	WRITE_ONE_X(store, sql, bind, notfound_if_unchanged, 0)
/* The same, and a commit moves the store's auth generation on (see store.h). */
#define WRITE_ONE_AUTH(store, sql, bind, notfound_if_unchanged) \
	WRITE_ONE_X(store, sql, bind, notfound_if_unchanged, 1)
#define WRITE_ONE_X(store, sql, bind, notfound_if_unchanged, auth)                     \
	do {                                                                           \
		struct sq_conn *c_ = sq_write_begin(SQS(store));                       \
		if (!c_)                                                               \
			return sq_write_failure();                                     \
		sqlite3_stmt *st = SQ(c_, sql);                                        \
		int r_ = -ERR_DB;                                                      \
		if (st) {                                                              \
			bind;                                                          \
			r_ = sq_step(st);                                              \
			if (r_ == 0 && (notfound_if_unchanged) &&                      \
			    sqlite3_changes(c_->db) == 0)                              \
				r_ = -ERR_NOT_FOUND;                                   \
		}                                                                      \
		r_ = sq_write_end(SQS(store), c_, r_);                                 \
		if ((auth) && r_ >= 0)                                                 \
			atomic_fetch_add_explicit(&(store)->auth_gen, 1, memory_order_release);   \
		return r_;                                                             \
	} while (0)

/* Rows shared by the accounts and sessions files: the columns, their count, and readers
 * that fill the struct from column c on. */
#define USER_COLS "u.id, u.realm_id, u.username, coalesce(u.email, ''), u.name, " \
		  "u.password_hash, u.is_admin, u.disabled, u.email_confirmed, "      \
		  "u.public_key IS NOT NULL, u.created_ms"
#define DEVICE_COLS "d.id, d.user_id, d.kind, d.name, d.platform, d.client_version, " \
		    "d.created_ms, d.last_seen_ms, coalesce(d.revoked_ms, 0)"
#define NUSER 11
#define REALM_COLS "r.id, r.name, r.display_name, r.signup_open, r.confirm_email, " \
		   "r.access_ttl_s, r.refresh_ttl_s"
#define NREALM 7
#define NDEVICE 9
void sq_row_user(sqlite3_stmt *st, int c, struct user *u);
void sq_row_realm(sqlite3_stmt *st, int c, struct realm *r);
void sq_row_device(sqlite3_stmt *st, int c, struct device *d);
/* sq_write_end, and on success the store's auth generation moves on (store.h). */
int sq_write_end_auth(struct store *s, struct sq_conn *c, int rc);

/* Step helpers: 0 on SQLITE_DONE, 1 on a row, -ERR_EXISTS on a unique constraint,
 * -ERR_NOT_FOUND on a foreign key whose row is gone, -ERR_DB otherwise (logged). */
int sq_step(sqlite3_stmt *st);
/* Copies column col as text into out (always terminated). */
void sq_col_text(sqlite3_stmt *st, int col, char *out, size_t len);

/* The ops table (store_sqlite.c) and its parts from other files. */
extern const struct store_ops sqlite_ops;

/* sqlite_accounts.c */
int sq_realm_get(struct store *s, const char *name, struct realm *ret);
int sq_realm_get_by_id(struct store *s, int64_t id, struct realm *ret);
int sq_realm_list(struct store *s, int (*cb)(void *, const struct realm *), void *arg);
int sq_realm_create(struct store *s, struct realm *r);
int sq_realm_update(struct store *s, const struct realm *r);
int sq_user_create(struct store *s, struct user *u);
int sq_user_get(struct store *s, int64_t id, struct user *ret);
int sq_user_find(struct store *s, int64_t realm_id, const char *key, struct user *ret);
int sq_user_list(struct store *s, int64_t realm_id, const char *q, int64_t after_id, int limit,
		 int (*cb)(void *, const struct user *), void *arg);
int sq_user_update(struct store *s, const struct user *u);
int sq_user_rename(struct store *s, int64_t id, const char *username);
int sq_user_set_password(struct store *s, int64_t user_id, const char *hash,
			 int64_t keep_device_id, int64_t now_ms);
int sq_user_delete(struct store *s, int64_t id,
		   int (*cb)(void *arg, int64_t space_id, const char *name), void *arg);
int sq_user_set_public_key(struct store *s, int64_t user_id, const char *key);
int sq_user_get_public_key(struct store *s, int64_t realm_id, const char *key, char **ret);
int sq_admin_count(struct store *s, int64_t *ret);
int sq_session_open(struct store *s, struct device *d, const struct token_row *t, int n,
		    int64_t now_ms);
int sq_session_refresh(struct store *s, const uint8_t old_hash[32], const struct token_row *t,
		       int n, int64_t now_ms, struct principal *ret);
int sq_token_lookup(struct store *s, const uint8_t hash[32], struct principal *ret);
int sq_session_end(struct store *s, int64_t device_id);
int sq_device_list(struct store *s, int64_t user_id, int (*cb)(void *, const struct device *),
		   void *arg);
int sq_device_get(struct store *s, int64_t user_id, int64_t device_id, struct device *ret);
int sq_device_rename(struct store *s, int64_t user_id, int64_t device_id, const char *name);
int sq_device_revoke(struct store *s, int64_t user_id, int64_t device_id, int64_t now_ms);
int sq_device_touch(struct store *s, int64_t device_id, int64_t now_ms);
int sq_ecode_create(struct store *s, struct ecode *e);
int sq_ecode_by_token(struct store *s, enum ecode_purpose p, const uint8_t th[32],
		      struct ecode *ret);
int sq_ecode_active(struct store *s, int64_t user_id, enum ecode_purpose p, struct ecode *ret);
int sq_ecode_take_try(struct store *s, int64_t id, int max);
int sq_ecode_confirm(struct store *s, const struct ecode *e);
int sq_ecode_reset(struct store *s, const struct ecode *e, const char *hash, int64_t now_ms);
int sq_mail_enqueue(struct store *s, const char *to, const char *subject, const char *body,
		    int64_t now_ms);
int sq_mail_next(struct store *s, int64_t now_ms, struct mail *ret);
int sq_mail_done(struct store *s, int64_t id, int64_t now_ms, const char *error, int64_t next_ms);
int sq_stats(struct store *s, struct store_stats *ret);

/* sqlite_sync.c */
int sq_space_private(struct store *s, int64_t user_id, int64_t realm_id, int64_t now_ms,
		     struct space *ret);
int sq_space_for_app(struct store *s, int64_t user_id, int64_t realm_id, const char *app,
		     int64_t now_ms, struct space *ret, bool *ret_created);
int sq_client_add(struct store *s, const char *app, const struct app_client *c);
int sq_client_get(struct store *s, const char *app, int64_t realm_id, const char *client_id,
		  struct app_client *ret);
int sq_client_lock(struct store *s, const char *app, int64_t realm_id, const char *client_id,
		   int64_t space_id, int64_t now_ms, int64_t stale_ms, struct app_client *ret);
int sq_client_cursor(struct store *s, const char *app, int64_t realm_id, const char *client_id,
		     int64_t seq);
int sq_push_client_unlock(void *txn, const char *app, int64_t realm_id, const char *client_id);
int sq_client_unlock(struct store *s, const char *app, int64_t realm_id, const char *client_id);
int sq_client_delete(struct store *s, const char *app, int64_t realm_id, const char *client_id);
int sq_client_by_device(struct store *s, int64_t device_id, struct app_client *ret);
int sq_space_create(struct store *s, struct space *sp, int64_t owner_id, int64_t now_ms);
int sq_space_get(struct store *s, int64_t id, struct space *ret);
int sq_space_epochs_renew(struct store *s, int64_t *ret_n);
int sq_space_rename(struct store *s, int64_t id, const char *name);
int sq_space_delete(struct store *s, int64_t id);
int sq_space_list(struct store *s, int64_t user_id, int (*cb)(void *, const struct space *),
		  void *arg);
int sq_member_role(struct store *s, int64_t space_id, int64_t user_id, enum role *ret);
int sq_member_list(struct store *s, int64_t space_id, int (*cb)(void *, const struct member *),
		   void *arg);
int sq_member_add(struct store *s, int64_t space_id, int64_t user_id, enum role role,
		  int64_t now_ms);
int sq_member_set_role(struct store *s, int64_t space_id, int64_t user_id, enum role role);
int sq_member_delete(struct store *s, int64_t space_id, int64_t user_id);
int sq_collection_set(struct store *s, int64_t space_id, const char *name, enum policy p);
int sq_keys_put(struct store *s, int64_t space_id, int64_t epoch, const int64_t *user_ids,
		const char *const *keys, int n);
int sq_key_get(struct store *s, int64_t space_id, int64_t user_id, int64_t *ret_epoch,
	       char **ret_key);
int sq_push_begin(struct store *s, void **ret_txn);
int sq_push_end(struct store *s, void *txn, int rc);
int sq_push_mark(void *txn);
int sq_push_unmark(void *txn, bool keep);
int sq_push_op_get(void *txn, int64_t device_id, const char *op_id, struct op_result *ret);
int sq_push_op_put(void *txn, int64_t device_id, const char *op_id, int64_t space_id,
		   const struct op_result *r);
int sq_push_policy(void *txn, int64_t space_id, const char *collection, enum policy *ret);
int sq_push_horizon(void *txn, int64_t space_id, int64_t *ret);
int sq_push_record_get(void *txn, int64_t space_id, const char *collection, const char *id,
		       bool with_data,
		       struct record *ret);
int sq_push_changes_since(void *txn, int64_t space_id, const char *collection, const char *id,
			  int64_t after_seq, int (*cb)(void *, const struct change_row *),
			  void *arg);
int sq_push_append(void *txn, int64_t space_id, const struct change_in *c, int64_t now_ms,
		   int64_t *ret_seq);
int sq_changes_seq_at_ms(struct store *s, int64_t space_id, int64_t ms, int64_t *ret_seq,
			 int64_t *ret_horizon);
int sq_changes_read(struct store *s, int64_t space_id, int64_t since, int limit,
		    int (*cb)(void *, const struct change_row *), void *arg, int64_t *ret_head,
		    int64_t *ret_horizon);
int sq_records_list(struct store *s, int64_t space_id, const char *collection,
		    const char *after_collection, const char *after_id, int limit, int64_t snapshot,
		    int (*cb)(void *, const char *, const char *, const struct record *), void *arg,
		    int64_t *ret_head, int64_t *ret_horizon);
int sq_record_get(struct store *s, int64_t space_id, const char *collection, const char *id,
		  struct record *ret);
int sq_record_history(struct store *s, int64_t space_id, const char *collection, const char *id,
		      int (*cb)(void *, const struct change_row *), void *arg);
int sq_record_change(struct store *s, int64_t space_id, const char *collection, const char *id,
		     int64_t seq, int (*cb)(void *, const struct change_row *), void *arg);
int sq_prune(struct store *s, int64_t now_ms, int64_t retention_ms, int64_t idle_ms,
	     const struct file_keep *keep, int64_t *ret_changes, int64_t *ret_records);
int sq_cursors_put(struct store *s, const struct cursor_row *rows, int n, int64_t now_ms);


/* sqlite_files.c */
int sq_files_list(struct store *s, int64_t space_id, const char *prefix, const char *after,
		  int limit, bool deleted,
		  int (*cb)(void *, const char *, const struct record *), void *arg);
int sq_push_file_fold(void *txn, int64_t space_id, const char *fold, const char *path,
		      char *out, size_t outlen);
int sq_push_blobs_bind(void *txn, int64_t user_id, const char *const *shas, int n);
int sq_push_file_clash(void *txn, int64_t space_id, const char *path, bool dir, char *out,
		       size_t outlen);
int sq_files_release(struct store *s, int64_t before_ms, int64_t *ret_n);
struct sq_conn *sq_txn_conn(void *txn);

/* sqlite_messages.c */
int sq_direct_space(struct store *s, int64_t realm_id, int64_t a, int64_t b, int64_t now_ms,
		    struct space *ret, bool *ret_created);
int sq_push_blocked(void *txn, int64_t recipient_id, int64_t sender_id);
int sq_blocked(struct store *s, int64_t recipient_id, int64_t sender_id);
int sq_push_message_new(void *txn, int64_t space_id, int64_t sender_id, int64_t now_ms,
			int64_t *ret_id);
int sq_push_message_done(void *txn, int64_t id, int64_t space_id, int64_t seq,
			 int64_t sender_id, int64_t now_ms);
int sq_conversations_list(struct store *s, int64_t user_id, int64_t before_ms,
			  int64_t before_space, int limit,
			  int (*cb)(void *, const struct conversation *), void *arg);
int sq_conversation_get(struct store *s, int64_t user_id, int64_t space_id,
			struct conversation *ret);
int sq_conversation_read(struct store *s, int64_t user_id, int64_t space_id, int64_t seq,
			 struct conversation *ret);
int sq_conversation_read_newest(struct store *s, int64_t user_id, int64_t space_id,
				int64_t *ret_marked);
int sq_push_message_delete(void *txn, int64_t id, int64_t space_id, int64_t sender_id);
int sq_messages_page(struct store *s, int64_t space_id, int64_t since, int64_t before,
		     int limit, int (*cb)(void *, const struct message_row *), void *arg);
int sq_block_set(struct store *s, int64_t user_id, int64_t blocked_id, bool on, int64_t now_ms);
int sq_blocks_list(struct store *s, int64_t user_id, int (*cb)(void *, int64_t, int64_t),
		   void *arg);
int sq_direct_pair_find(struct store *s, int64_t a, int64_t b, int64_t *ret_space_id);
int sq_messages_recent(struct store *s, int64_t user_id, int64_t other_id, int limit,
		       int (*cb)(void *, const struct message_listed *), void *arg);

/* sqlite_keys.c */
int sq_bundle_put(struct store *s, int64_t user_id, const struct key_bundle *kb,
		const char *const *prekeys, int n, int64_t now_ms);
int sq_bundle_take(struct store *s, int64_t user_id, struct key_bundle *ret, char *prekey,
		 size_t prekey_len, bool *ret_has_prekey);
int sq_bundle_prekeys(struct store *s, int64_t user_id, int64_t *ret);

/* sqlite_blobs.c */
int sq_blob_hold(struct store *s, const struct blob_hold *h, bool *ret_new);
int sq_blob_hold_many(struct store *s, const struct blob_hold *h, int n, bool *ret_new,
		      int *ret_status);
int sq_blob_held(struct store *s, int64_t user_id, const char *sha);
int sq_blob_readable(struct store *s, int64_t user_id, const char *const *shas, int n,
		     bool *ret_ok, bool *ret_held, int64_t *ret_size);
int sq_blob_usage(struct store *s, int64_t user_id, int64_t *ret_user, int64_t *ret_realm);
int sq_blob_get(struct store *s, const char *sha, int64_t *ret_size, bool *ret_marked);
int sq_blob_dead(struct store *s, int64_t before_ms, const char *after, int limit,
		 int (*cb)(void *, const char *), void *arg);
int sq_blob_mark(struct store *s, const char *sha, int64_t size, int64_t before_ms,
		 int64_t now_ms);
int sq_blob_forget(struct store *s, const char *sha);
int sq_blob_marked(struct store *s, const char *after, int limit,
		   int (*cb)(void *, const char *), void *arg);
int sq_lease_take(struct store *s, const char *name, const char *holder, int64_t now_ms,
		  int64_t ttl_ms);
int sq_lease_drop(struct store *s, const char *name, const char *holder);
int sq_blob_rows(struct store *s, const char *after, int limit,
		 int (*cb)(void *, const char *, int64_t), void *arg);
int sq_blob_holdings(struct store *s, int64_t user_id, const char *after, int limit,
		     int (*cb)(void *, const char *, int64_t, int64_t), void *arg);
int sq_blob_release(struct store *s, int64_t user_id, const char *sha, int64_t *ret_space_id,
		    int64_t *ret_seq);
int sq_push_blobs_touch(void *txn, int64_t user_id, const char *const *shas, const bool *held,
			int n, int64_t now_ms,
			int *ret_bad);



/* The columns sq_read_record and sq_row_change read, in their order. */
#define RECORD_SQL "SELECT version, data, deleted, coalesce(client_ts, ''), updated_ms FROM " \
		   "records WHERE space_id = ? AND collection = ? AND id = ?"
#define CHANGE_COLS "seq, collection, record_id, op, data, coalesce(device_id, 0), op_id, " \
		    "client_ts, server_ms, blobs"
/* sqlite_sync.c, shared with sqlite_changes.c: a record row (version, data, deleted,
 * client_ts) and a change row, as the queries there select them. */
int sq_read_record(sqlite3_stmt *st, struct record *ret);
void sq_row_change(sqlite3_stmt *st, struct change_row *c);

/* sqlite_accounts.c: deletes the user's tokens except keep's device's (0: all), and
 * revokes their long-lived token devices; inside a write transaction. */
int sq_drop_sessions(struct sq_conn *c, int64_t user_id, int64_t keep, int64_t now_ms);

#endif
