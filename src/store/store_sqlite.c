/* The SQLite backend: one writer connection and a pool of read-only connections, WAL,
 * synchronous=FULL so that a committed transaction is on disk before we answer. */
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdatomic.h>

#include "../util/clock.h"
#include "../util/err.h"
#include "../util/log.h"
#include "migrate.h"
#include "sqlite_int.h"

#define BUSY_TIMEOUT_MS 5000
/* After a write found the database held past BUSY_TIMEOUT_MS, writes for this long wait
 * only LOCKED_RETRY_MS each (sq_write_begin). */
#define LOCKED_FAST_NS (2000ull * 1000 * 1000)
#define LOCKED_RETRY_MS 100

/* Process-wide settings, before SQLite initialises: no memory statistics (they take a
 * global mutex on every allocation, a few per cent of a push's CPU). */
static pthread_once_t configured = PTHREAD_ONCE_INIT;
static void configure(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static int open_conn(const char *path, int readonly, sqlite3 **ret, char *err, size_t errlen)
{
	pthread_once(&configured, configure);
	sqlite3 *db = NULL;
	int flags = SQLITE_OPEN_NOMUTEX | (readonly ? SQLITE_OPEN_READONLY
						   : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	int rc = sqlite3_open_v2(path, &db, flags, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "cannot open %s: %s", path,
			 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return -ERR_IO;
	}
	sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(db, 1);
	/* A checkpoint every 16384 pages (64 MiB of log) instead of SQLite's 1000: records
	 * written again and again are copied into the database once per checkpoint, not once
	 * per 4 MB of log. Pushes cycling through 1000 records went from 55 to about 80
	 * thousand changes/s (bench/raw_push with RAW_IDS=1000). The file is cut back to
	 * 64 MiB after each reset. The writer gets a 64 MiB page cache: once the change
	 * log's record index outgrows the default 2 MiB, group-committed pushes of 1000
	 * changes ran about 8% faster with it (docs/benchmarks.md). Readers map the file
	 * (up to 4 GiB) instead of each keeping a page cache of its own: a records listing
	 * reads its records through the key index, one row lookup each, and these went
	 * through pread and a 2 MiB cache per connection (issue 12: about 0.5 µs of the 3.0
	 * per listed record). The mapping is the kernel's page cache, shared by all readers;
	 * pages still in the WAL are read as before. */
	const char *pragmas = readonly ? "PRAGMA foreign_keys=ON; PRAGMA query_only=ON;"
					 " PRAGMA mmap_size=4294967296;"
				       : "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
					 " PRAGMA foreign_keys=ON; PRAGMA wal_autocheckpoint=16384;"
					 " PRAGMA cache_size=-65536;"
					 " PRAGMA journal_size_limit=67108864;";
	char *msg = NULL;
	if (sqlite3_exec(db, pragmas, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "cannot set up %s: %s", path, msg ? msg : "?");
		sqlite3_free(msg);
		sqlite3_close(db);
		return -ERR_IO;
	}
	*ret = db;
	return 0;
}

static atomic_int next_slot = 1;

sqlite3_stmt *sq_stmt_at(struct sq_conn *c, int *slot, const char *sql)
{
	int i = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
	if (i == 0) {
		int mine = atomic_fetch_add(&next_slot, 1);
		int expected = 0;
		if (!__atomic_compare_exchange_n(slot, &expected, mine, 0, __ATOMIC_ACQ_REL,
						 __ATOMIC_ACQUIRE))
			mine = expected;
		i = mine;
	}
	if (i >= c->nstmts) {
		int n = c->nstmts ? c->nstmts : 64;
		while (n <= i)
			n *= 2;
		sqlite3_stmt **grown = realloc(c->stmts, sizeof *grown * (size_t)n);
		if (!grown) {
			log_error("sqlite: out of memory for the statement cache");
			return NULL;
		}
		for (int k = c->nstmts; k < n; k++)
			grown[k] = NULL;
		c->stmts = grown;
		c->nstmts = n;
	}
	sqlite3_stmt *st = c->stmts[i];
	if (!st) {
		if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
		    SQLITE_OK) {
			log_error("sqlite: cannot prepare '%.80s': %s", sql, sqlite3_errmsg(c->db));
			return NULL;
		}
		c->stmts[i] = st;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (c->nused < (int)(sizeof c->used / sizeof c->used[0]))
		c->used[c->nused++] = st;
	else
		c->used_overflow = true;
	return st;
}

/* Resets the statements used since the connection was taken, so no read transaction
 * outlives its use. Walking every prepared statement instead cost a fifth of a token
 * check. */
static void reset_all(struct sq_conn *c)
{
	if (c->used_overflow) {
		for (sqlite3_stmt *st = sqlite3_next_stmt(c->db, NULL); st;
		     st = sqlite3_next_stmt(c->db, st))
			if (sqlite3_stmt_busy(st))
				sqlite3_reset(st);
	} else {
		for (int i = 0; i < c->nused; i++)
			sqlite3_reset(c->used[i]);
	}
	c->nused = 0;
	c->used_overflow = false;
}

int sq_snapshot_begin(struct sq_conn *c)
{
	return sqlite3_exec(c->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK ? 0 : -ERR_DB;
}

void sq_snapshot_end(struct sq_conn *c)
{
	sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL);
}

struct sq_conn *sq_read_begin(struct sq_store *s)
{
	pthread_mutex_lock(&s->pool_mu);
	while (s->nfree == 0)
		pthread_cond_wait(&s->pool_cv, &s->pool_mu);
	struct sq_conn *c = s->free_readers[--s->nfree];
	pthread_mutex_unlock(&s->pool_mu);
	return c;
}

void sq_read_end(struct sq_store *s, struct sq_conn *c)
{
	reset_all(c);
	pthread_mutex_lock(&s->pool_mu);
	s->free_readers[s->nfree++] = c;
	pthread_cond_signal(&s->pool_cv);
	pthread_mutex_unlock(&s->pool_mu);
}

/* Why this thread's last sq_write_begin failed. */
static _Thread_local int write_failure = -ERR_DB;

int sq_write_failure(void)
{
	return write_failure;
}

struct sq_conn *sq_write_begin(struct sq_store *s)
{
	pthread_mutex_lock(&s->write_mu);
	/* Writers queue on write_mu while one waits out the busy timeout: once a wait has
	 * failed, the next ones wait briefly until a begin succeeds again, so that the k-th
	 * queued writer is not answered after k times the timeout. */
	bool held = s->locked_since_ns && clock_mono_ns() - s->locked_since_ns < LOCKED_FAST_NS;
	if (held)
		sqlite3_busy_timeout(s->writer.db, LOCKED_RETRY_MS);
	int rc = sqlite3_exec(s->writer.db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (held)
		sqlite3_busy_timeout(s->writer.db, BUSY_TIMEOUT_MS);
	if (rc != SQLITE_OK) {
		/* another process (cairn gc, a backup) held the database past the busy
		 * timeout: the caller is told to come back, not that the database failed */
		int busy = (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
		write_failure = busy ? -ERR_LOCKED : -ERR_DB;
		if (busy)
			s->locked_since_ns = clock_mono_ns();
		if (!held)
			log_error("sqlite: cannot begin a write: %s", sqlite3_errmsg(s->writer.db));
		pthread_mutex_unlock(&s->write_mu);
		return NULL;
	}
	s->locked_since_ns = 0;
	return &s->writer;
}

int sq_write_end(struct sq_store *s, struct sq_conn *c, int rc)
{
	reset_all(c);
	if (rc >= 0) {
		if (sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
			log_error("sqlite: commit failed: %s", sqlite3_errmsg(c->db));
			sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
			rc = -ERR_DB;
		}
	} else {
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	}
	pthread_mutex_unlock(&s->write_mu);
	return rc;
}

int sq_step(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		return -ERR_EXISTS;
	/* what a row refers to was deleted meanwhile (a space, a user): the request's target
	 * is gone, which is no failure of the database */
	if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
		return -ERR_NOT_FOUND;
	log_error("sqlite: %s (in '%.80s')", sqlite3_errmsg(sqlite3_db_handle(st)),
		  sqlite3_sql(st));
	return -ERR_DB;
}

void sq_col_text(sqlite3_stmt *st, int col, char *out, size_t len)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	size_t n = t ? (size_t)sqlite3_column_bytes(st, col) : 0;
	if (n >= len)
		n = len - 1;
	if (n)
		memcpy(out, t, n);
	out[n] = '\0';
}

static int sq_check(struct store *base, char *detail, size_t len)
{
	struct sq_store *s = (struct sq_store *)base;
	struct stat st;
	if (stat(s->path, &st) < 0 || st.st_dev != s->dev || st.st_ino != s->ino) {
		snprintf(detail, len, "the database file was removed or replaced");
		return -ERR_DB;
	}
	struct sq_conn *c = sq_read_begin(s);
	sqlite3_stmt *q = SQ(c, "SELECT count(*) FROM realms");
	int r = q && sqlite3_step(q) == SQLITE_ROW ? 0 : -ERR_DB;
	if (r < 0)
		snprintf(detail, len, "query failed: %s", sqlite3_errmsg(c->db));
	sq_read_end(s, c);
	return r;
}

static int sq_schema_version(struct store *base, int *ret_version)
{
	struct sq_store *s = (struct sq_store *)base;
	struct sq_conn *c = sq_read_begin(s);
	struct migrate_target t = migrate_sqlite_target(c->db);
	int r = t.version(t.db, ret_version);
	sq_read_end(s, c);
	return r;
}

static void conn_close(struct sq_conn *c)
{
	for (int i = 0; i < c->nstmts; i++)
		sqlite3_finalize(c->stmts[i]);
	free(c->stmts);
	c->stmts = NULL;
	c->nstmts = 0;
	sqlite3_close(c->db);
	c->db = NULL;
}

static void sq_close(struct store *base)
{
	struct sq_store *s = (struct sq_store *)base;
	if (!s)
		return;
	for (int i = 0; i < s->nreaders; i++)
		conn_close(&s->readers[i]);
	if (s->writer.db) {
		/* Folds the WAL back into the database so the directory is tidy. */
		sqlite3_exec(s->writer.db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
		conn_close(&s->writer);
	}
	pthread_mutex_destroy(&s->write_mu);
	pthread_mutex_destroy(&s->pool_mu);
	pthread_cond_destroy(&s->pool_cv);
	free(s->path);
	free(s);
}

static const struct store_accounts_ops sq_accounts_ops = {
	.realm_get = sq_realm_get,
	.realm_get_by_id = sq_realm_get_by_id,
	.realm_list = sq_realm_list,
	.realm_create = sq_realm_create,
	.realm_update = sq_realm_update,
	.user_create = sq_user_create,
	.user_get = sq_user_get,
	.user_find = sq_user_find,
	.user_list = sq_user_list,
	.user_update = sq_user_update,
	.user_rename = sq_user_rename,
	.user_set_password = sq_user_set_password,
	.user_delete = sq_user_delete,
	.user_set_public_key = sq_user_set_public_key,
	.user_get_public_key = sq_user_get_public_key,
	.admin_count = sq_admin_count,
};

static const struct store_sessions_ops sq_sessions_ops = {
	.session_open = sq_session_open,
	.session_refresh = sq_session_refresh,
	.token_lookup = sq_token_lookup,
	.session_end = sq_session_end,
	.device_list = sq_device_list,
	.device_get = sq_device_get,
	.device_rename = sq_device_rename,
	.device_revoke = sq_device_revoke,
	.device_touch = sq_device_touch,
	.ecode_create = sq_ecode_create,
	.ecode_by_token = sq_ecode_by_token,
	.ecode_active = sq_ecode_active,
	.ecode_take_try = sq_ecode_take_try,
	.ecode_confirm = sq_ecode_confirm,
	.ecode_reset = sq_ecode_reset,
};

static const struct store_mail_ops sq_mail_ops = {
	.mail_enqueue = sq_mail_enqueue,
	.mail_next = sq_mail_next,
	.mail_done = sq_mail_done,
};

static const struct store_spaces_ops sq_spaces_ops = {
	.space_private = sq_space_private,
	.space_create = sq_space_create,
	.space_for_app = sq_space_for_app,
	.client_add = sq_client_add,
	.client_get = sq_client_get,
	.client_lock = sq_client_lock,
	.client_unlock = sq_client_unlock,
	.client_cursor = sq_client_cursor,
	.client_delete = sq_client_delete,
	.client_by_device = sq_client_by_device,
	.space_get = sq_space_get,
	.space_rename = sq_space_rename,
	.space_delete = sq_space_delete,
	.space_epochs_renew = sq_space_epochs_renew,
	.space_list = sq_space_list,
	.member_role = sq_member_role,
	.member_list = sq_member_list,
	.member_add = sq_member_add,
	.member_set_role = sq_member_set_role,
	.member_delete = sq_member_delete,
	.collection_set = sq_collection_set,
	.keys_put = sq_keys_put,
	.key_get = sq_key_get,
};

static const struct store_push_ops sq_push_ops = {
	.push_begin = sq_push_begin,
	.push_client_unlock = sq_push_client_unlock,
	.push_end = sq_push_end,
	.push_mark = sq_push_mark,
	.push_unmark = sq_push_unmark,
	.push_op_get = sq_push_op_get,
	.push_op_put = sq_push_op_put,
	.push_policy = sq_push_policy,
	.push_record_get = sq_push_record_get,
	.push_horizon = sq_push_horizon,
	.push_changes_since = sq_push_changes_since,
	.push_append = sq_push_append,
};

static const struct store_changes_ops sq_changes_ops = {
	.changes_read = sq_changes_read,
	.changes_seq_at_ms = sq_changes_seq_at_ms,
	.records_list = sq_records_list,
	.record_get = sq_record_get,
	.record_history = sq_record_history,
	.record_change = sq_record_change,
	.prune = sq_prune,
	.cursors_put = sq_cursors_put,
};

static const struct store_blobmeta_ops sq_blobmeta_ops = {
	.blob_hold = sq_blob_hold,
	.blob_hold_many = sq_blob_hold_many,
	.blob_held = sq_blob_held,
	.blob_readable = sq_blob_readable,
	.blob_usage = sq_blob_usage,
	.blob_get = sq_blob_get,
	.blob_dead = sq_blob_dead,
	.blob_mark = sq_blob_mark,
	.blob_forget = sq_blob_forget,
	.blob_marked = sq_blob_marked,
	.lease_take = sq_lease_take,
	.lease_drop = sq_lease_drop,
	.blob_rows = sq_blob_rows,
	.push_blobs_touch = sq_push_blobs_touch,
	.blob_holdings = sq_blob_holdings,
	.blob_release = sq_blob_release,
};

static const struct store_files_ops sq_files_ops = {
	.files_list = sq_files_list,
	.push_file_fold = sq_push_file_fold,
	.push_file_clash = sq_push_file_clash,
	.push_blobs_bind = sq_push_blobs_bind,
	.files_release = sq_files_release,
};

static const struct store_messages_ops sq_messages_ops = {
	.direct_space = sq_direct_space,
	.push_blocked = sq_push_blocked,
	.blocked = sq_blocked,
	.push_message_new = sq_push_message_new,
	.push_message_done = sq_push_message_done,
	.conversations_list = sq_conversations_list,
	.conversation_get = sq_conversation_get,
	.conversation_read = sq_conversation_read,
	.conversation_read_newest = sq_conversation_read_newest,
	.messages_page = sq_messages_page,
	.push_message_delete = sq_push_message_delete,
	.block_set = sq_block_set,
	.blocks_list = sq_blocks_list,
	.direct_pair_find = sq_direct_pair_find,
	.messages_recent = sq_messages_recent,
	.bundle_put = sq_bundle_put,
	.bundle_take = sq_bundle_take,
	.bundle_prekeys = sq_bundle_prekeys,
};

const struct store_ops sqlite_ops = {
	.name = "sqlite",
	.check = sq_check,
	.schema_version = sq_schema_version,
	.close = sq_close,
	.stats = sq_stats,
	.accounts = &sq_accounts_ops,
	.sessions = &sq_sessions_ops,
	.mail = &sq_mail_ops,
	.spaces = &sq_spaces_ops,
	.push = &sq_push_ops,
	.changes = &sq_changes_ops,
	.files = &sq_files_ops,
	.messages = &sq_messages_ops,
	.blobmeta = &sq_blobmeta_ops,
};

int store_sqlite_open(const char *path, int reader_count, bool migrate, struct store **ret_store,
		      char *err, size_t errlen)
{
	if (reader_count < 1)
		reader_count = 1;
	if (reader_count > SQ_MAX_READERS)
		reader_count = SQ_MAX_READERS;
	struct sq_store *s = calloc(1, sizeof *s);
	if (!s)
		return -ERR_NOMEM;
	s->base.ops = &sqlite_ops;
	pthread_mutex_init(&s->write_mu, NULL);
	pthread_mutex_init(&s->pool_mu, NULL);
	pthread_cond_init(&s->pool_cv, NULL);
	s->path = strdup(path);
	if (!s->path) {
		sq_close(&s->base);
		return -ERR_NOMEM;
	}
	/* A new database is made readable by its owner only (SQLite would use 0644, and gives
	 * the -wal and -shm files the database's mode). */
	int fd = migrate ? open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600) : -1;
	if (fd >= 0)
		close(fd);
	int r = open_conn(path, 0, &s->writer.db, err, errlen);
	if (r < 0)
		goto fail;
	int version;
	struct migrate_target t = migrate_sqlite_target(s->writer.db);
	r = migrate ? migrate_run(&t, sqlite_migrations, sqlite_migrations_count, &version, err,
				   errlen)
		    : migrate_check(&t, sqlite_migrations_count, err, errlen);
	if (r < 0)
		goto fail;
	struct stat st;
	if (stat(path, &st) < 0) {
		snprintf(err, errlen, "cannot stat %s", path);
		r = -ERR_IO;
		goto fail;
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	for (int i = 0; i < reader_count; i++) {
		r = open_conn(path, 1, &s->readers[i].db, err, errlen);
		if (r < 0)
			goto fail;
		s->nreaders++;
		s->free_readers[s->nfree++] = &s->readers[i];
	}
	*ret_store = &s->base;
	return 0;
fail:
	sq_close(&s->base);
	return r;
}
