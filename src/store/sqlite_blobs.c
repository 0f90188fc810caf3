/* Blob metadata in SQLite: rows per blob, holders (uploaders) with usage counted by
 * triggers, and references from changes. See store.h. */
#include <string.h>

#include "../util/err.h"
#include "sqlite_int.h"

/* "The user may read ?2": 2 when they hold it, 1 when (only) a change of a space they
 * belong to names it, 0 otherwise. */
#define READABLE_SQL                                                                         \
	"SELECT CASE WHEN EXISTS (SELECT 1 FROM blob_owners WHERE user_id = ?1 AND sha256 = " \
	"?2) THEN 2 WHEN EXISTS (SELECT 1 FROM change_blobs cb JOIN members m ON "           \
	"m.space_id = cb.space_id AND m.user_id = ?1 WHERE cb.sha256 = ?2) THEN 1 ELSE 0 END, "  \
	"coalesce((SELECT size FROM blobs WHERE sha256 = ?2), -1)"

/* "b is not marked, nobody holds or references it, and it is untouched since ?2". */
#define DEAD_SQL                                                                          \
	"b.marked_ms = 0 AND b.touched_ms < ?2 AND NOT EXISTS (SELECT 1 FROM blob_owners o "  \
	"WHERE o.sha256 = b.sha256) AND NOT EXISTS (SELECT 1 FROM change_blobs cb WHERE "    \
	"cb.sha256 = b.sha256)"

static int readable_one(sqlite3_stmt *st, int64_t user_id, const char *sha, bool *ok, bool *held,
			int64_t *size)
{
	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_text(st, 2, sha, -1, SQLITE_STATIC);
	int r = sq_step(st);
	if (r == 1) {
		*ok = sqlite3_column_int(st, 0) != 0;
		if (held)
			*held = sqlite3_column_int(st, 0) == 2;
		if (size)
			*size = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return r == 1 ? 0 : r < 0 ? r : -ERR_DB;
}

/* One holding inside a write transaction: -ERR_QUOTA and -ERR_BUSY change nothing. */
static int hold_in(struct sq_conn *c, const struct blob_hold *h, bool *ret_new)
{
	int r = -ERR_DB;
	bool held = false;
	int64_t user_bytes = 0, realm_bytes = 0;
	/* one read: whether the user holds it, their and their realm's usage, and whether
	 * collection has it marked (its bytes may be going: the caller waits for the mark) */
	sqlite3_stmt *st = SQ(c, "SELECT EXISTS (SELECT 1 FROM blob_owners WHERE user_id = ?1 AND "
				 "sha256 = ?2), u.blob_bytes, r.blob_bytes, EXISTS (SELECT 1 FROM "
				 "blobs WHERE sha256 = ?2 AND marked_ms != 0) FROM users u JOIN "
				 "realms r ON r.id = u.realm_id WHERE u.id = ?1");
	if (st) {
		sqlite3_bind_int64(st, 1, h->user_id);
		sqlite3_bind_text(st, 2, h->sha256, -1, SQLITE_STATIC);
		r = sq_step(st);
		if (r == 1) {
			held = sqlite3_column_int(st, 0);
			user_bytes = sqlite3_column_int64(st, 1);
			realm_bytes = sqlite3_column_int64(st, 2);
			r = sqlite3_column_int(st, 3) ? -ERR_BUSY : 0;
		} else if (r == 0) {
			r = -ERR_NOT_FOUND;
		}
		sqlite3_reset(st);
	}
	if (r == 0 && !held &&
	    ((h->user_quota > 0 && user_bytes + h->size > h->user_quota) ||
	     (h->realm_quota > 0 && realm_bytes + h->size > h->realm_quota)))
		r = -ERR_QUOTA;
	if (r == 0) {
		st = SQ(c, "INSERT INTO blobs(sha256, size, created_ms, touched_ms) VALUES "
			   "(?1, ?2, ?3, ?3) ON CONFLICT (sha256) DO UPDATE SET touched_ms = ?3");
		r = -ERR_DB;
		if (st) {
			sqlite3_bind_text(st, 1, h->sha256, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, h->size);
			sqlite3_bind_int64(st, 3, h->now_ms);
			r = sq_step(st);
			sqlite3_reset(st);
		}
	}
	if (r == 0 && held && !h->files) { /* uploaded anew: no longer only what files left behind */
		st = SQ(c, "UPDATE blob_owners SET by_files = 0 WHERE user_id = ? AND sha256 = ? "
			   "AND by_files = 1");
		r = -ERR_DB;
		if (st) {
			sqlite3_bind_int64(st, 1, h->user_id);
			sqlite3_bind_text(st, 2, h->sha256, -1, SQLITE_STATIC);
			r = sq_step(st);
			sqlite3_reset(st);
		}
	}
	if (r == 0 && !held) {
		st = SQ(c, "INSERT INTO blob_owners(user_id, sha256, realm_id, size, added_ms, "
			   "by_files) VALUES (?, ?, ?, ?, ?, ?)");
		r = -ERR_DB;
		if (st) {
			sqlite3_bind_int64(st, 1, h->user_id);
			sqlite3_bind_text(st, 2, h->sha256, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 3, h->realm_id);
			sqlite3_bind_int64(st, 4, h->size);
			sqlite3_bind_int64(st, 5, h->now_ms);
			sqlite3_bind_int(st, 6, h->files);
			r = sq_step(st);
			sqlite3_reset(st);
		}
	}
	*ret_new = !held;
	return r;
}

int sq_blob_hold(struct store *s, const struct blob_hold *h, bool *ret_new)
{
	struct sq_conn *c = sq_write_begin(SQS(s));
	if (!c)
		return sq_write_failure();
	return sq_write_end(SQS(s), c, hold_in(c, h, ret_new));
}

int sq_blob_hold_many(struct store *s, const struct blob_hold *h, int n, bool *ret_new,
		      int *ret_status)
{
	struct sq_conn *c = sq_write_begin(SQS(s));
	if (!c)
		return sq_write_failure();
	int r = 0;
	for (int i = 0; r == 0 && i < n; i++) {
		ret_status[i] = hold_in(c, &h[i], &ret_new[i]);
		if (ret_status[i] != -ERR_QUOTA && ret_status[i] != -ERR_BUSY)
			r = ret_status[i] < 0 ? ret_status[i] : 0;
	}
	return sq_write_end(SQS(s), c, r);
}

int sq_blob_held(struct store *s, int64_t user_id, const char *sha)
{
	READ_ONE(s, "SELECT 1 FROM blob_owners WHERE user_id = ? AND sha256 = ?",
		 (sqlite3_bind_int64(st, 1, user_id),
		  sqlite3_bind_text(st, 2, sha, -1, SQLITE_STATIC)),
		 (void)0);
}

int sq_blob_readable(struct store *s, int64_t user_id, const char *const *shas, int n,
		     bool *ret_ok, bool *ret_held, int64_t *ret_size)
{
	struct sq_conn *c = sq_read_begin(SQS(s));
	/* one query is consistent on its own; several share a snapshot */
	bool snap = n > 1;
	int r = snap ? sq_snapshot_begin(c) : 0;
	sqlite3_stmt *st = r == 0 ? SQ(c, READABLE_SQL) : NULL;
	if (!st)
		r = -ERR_DB;
	for (int i = 0; r == 0 && i < n; i++)
		r = readable_one(st, user_id, shas[i], &ret_ok[i], ret_held ? &ret_held[i] : NULL,
				 ret_size ? &ret_size[i] : NULL);
	if (snap)
		sq_snapshot_end(c);
	sq_read_end(SQS(s), c);
	return r;
}

int sq_blob_usage(struct store *s, int64_t user_id, int64_t *ret_user, int64_t *ret_realm)
{
	READ_ONE(s,
		 "SELECT u.blob_bytes, r.blob_bytes FROM users u JOIN realms r ON r.id = "
		 "u.realm_id WHERE u.id = ?",
		 sqlite3_bind_int64(st, 1, user_id), {
			 *ret_user = sqlite3_column_int64(st, 0);
			 *ret_realm = sqlite3_column_int64(st, 1);
		 });
}

int sq_blob_get(struct store *s, const char *sha, int64_t *ret_size, bool *ret_marked)
{
	READ_ONE(s, "SELECT size, marked_ms != 0 FROM blobs WHERE sha256 = ?",
		 sqlite3_bind_text(st, 1, sha, -1, SQLITE_STATIC), {
			 *ret_size = sqlite3_column_int64(st, 0);
			 if (ret_marked)
				 *ret_marked = sqlite3_column_int(st, 1) != 0;
		 });
}

int sq_blob_dead(struct store *s, int64_t before_ms, const char *after, int limit,
		 int (*cb)(void *, const char *), void *arg)
{
	struct sq_conn *c = sq_read_begin(SQS(s));
	sqlite3_stmt *st = SQ(c, "SELECT b.sha256 FROM blobs b WHERE b.sha256 > ?1 AND " DEAD_SQL
				 " ORDER BY b.sha256 LIMIT ?3");
	int r = -ERR_DB;
	if (st) {
		sqlite3_bind_text(st, 1, after, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, before_ms);
		sqlite3_bind_int(st, 3, limit);
		while ((r = sq_step(st)) == 1)
			if (cb(arg, (const char *)sqlite3_column_text(st, 0)) < 0)
				break;
	}
	sq_read_end(SQS(s), c);
	return r < 0 ? r : 0;
}

int sq_blob_mark(struct store *s, const char *sha, int64_t size, int64_t before_ms,
		 int64_t now_ms)
{
	struct sq_conn *c = sq_write_begin(SQS(s));
	if (!c)
		return sq_write_failure();
	sqlite3_stmt *st =
		SQ(c, "UPDATE blobs AS b SET marked_ms = ?3 WHERE b.sha256 = ?1 AND " DEAD_SQL);
	int r = -ERR_DB;
	if (st) {
		sqlite3_bind_text(st, 1, sha, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, before_ms);
		sqlite3_bind_int64(st, 3, now_ms);
		r = sq_step(st);
		sqlite3_reset(st);
	}
	if (r == 0 && sqlite3_changes(c->db) == 0) {
		/* not marked: in use, marked already, or no row (a file nobody recorded) */
		st = SQ(c, "INSERT INTO blobs(sha256, size, created_ms, touched_ms, marked_ms) "
			   "VALUES (?1, ?2, ?3, ?3, ?3) ON CONFLICT (sha256) DO NOTHING");
		r = -ERR_DB;
		if (st) {
			sqlite3_bind_text(st, 1, sha, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, size);
			sqlite3_bind_int64(st, 3, now_ms);
			r = sq_step(st);
			sqlite3_reset(st);
		}
		if (r == 0 && sqlite3_changes(c->db) == 0)
			r = -ERR_CONFLICT;
	}
	return sq_write_end(SQS(s), c, r);
}

int sq_blob_forget(struct store *s, const char *sha)
{
	struct sq_conn *c = sq_write_begin(SQS(s));
	if (!c)
		return sq_write_failure();
	sqlite3_stmt *st = SQ(c, "DELETE FROM blobs WHERE sha256 = ? AND marked_ms != 0");
	int r = -ERR_DB;
	if (st) {
		sqlite3_bind_text(st, 1, sha, -1, SQLITE_STATIC);
		r = sq_step(st);
		if (r == 0 && sqlite3_changes(c->db) == 0)
			r = -ERR_NOT_FOUND;
		sqlite3_reset(st);
	}
	int w = sq_write_end(SQS(s), c, r == -ERR_NOT_FOUND ? 0 : r);
	return w < 0 ? w : r;
}

int sq_blob_marked(struct store *s, const char *after, int limit,
		   int (*cb)(void *, const char *), void *arg)
{
	struct sq_conn *c = sq_read_begin(SQS(s));
	sqlite3_stmt *st = SQ(c, "SELECT sha256 FROM blobs WHERE marked_ms != 0 AND sha256 > ? "
				 "ORDER BY sha256 LIMIT ?");
	int r = -ERR_DB;
	if (st) {
		sqlite3_bind_text(st, 1, after, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, limit);
		while ((r = sq_step(st)) == 1)
			if (cb(arg, (const char *)sqlite3_column_text(st, 0)) < 0)
				break;
	}
	sq_read_end(SQS(s), c);
	return r < 0 ? r : 0;
}

int sq_lease_take(struct store *s, const char *name, const char *holder, int64_t now_ms,
		  int64_t ttl_ms)
{
	struct sq_conn *c = sq_write_begin(SQS(s));
	if (!c)
		return sq_write_failure();
	sqlite3_stmt *st = SQ(c, "INSERT INTO leases(name, holder, expires_ms) VALUES (?1, ?2, ?4) "
				 "ON CONFLICT (name) DO UPDATE SET holder = ?2, expires_ms = ?4 "
				 "WHERE leases.holder = ?2 OR leases.expires_ms <= ?3");
	int r = -ERR_DB;
	if (st) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, holder, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, now_ms);
		sqlite3_bind_int64(st, 4, now_ms + ttl_ms);
		r = sq_step(st);
		if (r == 0 && sqlite3_changes(c->db) == 0)
			r = -ERR_BUSY;
		sqlite3_reset(st);
	}
	int w = sq_write_end(SQS(s), c, r == -ERR_BUSY ? 0 : r);
	return w < 0 ? w : r;
}

int sq_lease_drop(struct store *s, const char *name, const char *holder)
{
	struct sq_conn *c = sq_write_begin(SQS(s));
	if (!c)
		return sq_write_failure();
	sqlite3_stmt *st = SQ(c, "DELETE FROM leases WHERE name = ? AND holder = ?");
	int r = -ERR_DB;
	if (st) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, holder, -1, SQLITE_STATIC);
		r = sq_step(st);
		sqlite3_reset(st);
	}
	return sq_write_end(SQS(s), c, r);
}

int sq_blob_rows(struct store *s, const char *after, int limit,
		 int (*cb)(void *, const char *, int64_t), void *arg)
{
	struct sq_conn *c = sq_read_begin(SQS(s));
	sqlite3_stmt *st =
		SQ(c, "SELECT sha256, size FROM blobs WHERE marked_ms = 0 AND sha256 > ? ORDER BY "
		      "sha256 LIMIT ?");
	int r = -ERR_DB;
	if (st) {
		sqlite3_bind_text(st, 1, after, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, limit);
		while ((r = sq_step(st)) == 1)
			if (cb(arg, (const char *)sqlite3_column_text(st, 0),
			       sqlite3_column_int64(st, 1)) < 0)
				break;
	}
	sq_read_end(SQS(s), c);
	return r < 0 ? r : 0;
}

/* The push transaction's connection (sqlite_sync.c). */
struct sq_conn *sq_txn_conn(void *txn);

int sq_push_blobs_touch(void *txn, int64_t user_id, const char *const *shas, const bool *held,
			int n, int64_t now_ms, int *ret_bad)
{
	struct sq_conn *c = sq_txn_conn(txn);
	/* ?3: whether the holding must still be there */
	sqlite3_stmt *st = SQ(c, "UPDATE blobs SET touched_ms = ?1 WHERE sha256 = ?2 AND "
				 "marked_ms = 0 AND (NOT ?3 "
				 "OR EXISTS (SELECT 1 FROM blob_owners WHERE user_id = ?4 AND "
				 "sha256 = ?2))");
	if (!st)
		return -ERR_DB;
	for (int i = 0; i < n; i++) {
		sqlite3_bind_int64(st, 1, now_ms);
		sqlite3_bind_text(st, 2, shas[i], -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 3, held[i]);
		sqlite3_bind_int64(st, 4, user_id);
		int r = sq_step(st);
		sqlite3_reset(st);
		if (r < 0)
			return r;
		if (sqlite3_changes(c->db) == 0) {
			*ret_bad = i;
			return -ERR_NOT_FOUND;
		}
	}
	return 0;
}

int sq_blob_holdings(struct store *s, int64_t user_id, const char *after, int limit,
		     int (*cb)(void *, const char *, int64_t, int64_t), void *arg)
{
	struct sq_conn *c = sq_read_begin(SQS(s));
	sqlite3_stmt *st = SQ(c, "SELECT sha256, size, added_ms FROM blob_owners WHERE user_id = ? "
				 "AND sha256 > ? ORDER BY sha256 LIMIT ?");
	int r = -ERR_DB;
	if (st) {
		sqlite3_bind_int64(st, 1, user_id);
		sqlite3_bind_text(st, 2, after, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 3, limit);
		while ((r = sq_step(st)) == 1)
			if (cb(arg, (const char *)sqlite3_column_text(st, 0),
			       sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2)) < 0) {
				r = -ERR_NOMEM;
				break;
			}
		sqlite3_reset(st);
	}
	sq_read_end(SQS(s), c);
	return r;
}

int sq_blob_release(struct store *s, int64_t user_id, const char *sha, int64_t *ret_space_id,
		    int64_t *ret_seq)
{
	struct sq_conn *c = sq_write_begin(SQS(s));
	if (!c)
		return sq_write_failure();
	/* One change the user's devices pushed that names it, if any (change_blobs by hash,
	 * then the change's device). */
	sqlite3_stmt *st = SQ(c, "SELECT cb.space_id, cb.seq FROM change_blobs cb JOIN changes ch "
				 "ON ch.space_id = cb.space_id AND ch.seq = cb.seq JOIN devices d "
				 "ON d.id = ch.device_id WHERE cb.sha256 = ?1 AND d.user_id = ?2 "
				 "LIMIT 1");
	int r = -ERR_DB;
	if (st) {
		sqlite3_bind_text(st, 1, sha, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, user_id);
		r = sq_step(st);
		if (r == 1) {
			*ret_space_id = sqlite3_column_int64(st, 0);
			*ret_seq = sqlite3_column_int64(st, 1);
			r = -ERR_CONFLICT;
		}
		sqlite3_reset(st);
	}
	if (r == 0) {
		st = SQ(c, "DELETE FROM blob_owners WHERE user_id = ? AND sha256 = ?");
		r = -ERR_DB;
		if (st) {
			sqlite3_bind_int64(st, 1, user_id);
			sqlite3_bind_text(st, 2, sha, -1, SQLITE_STATIC);
			r = sq_step(st);
			if (r == 0 && sqlite3_changes(c->db) == 0)
				r = -ERR_NOT_FOUND;
			sqlite3_reset(st);
		}
	}
	return sq_write_end(SQS(s), c, r);
}
