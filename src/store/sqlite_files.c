/* Files in SQLite: records of collection "files" found by path (records.path, indexed),
 * the case check, and holdings of chunks bound to files. See store.h, store_files_ops. */
#include <string.h>

#include "../util/err.h"
#include "sqlite_int.h"

int sq_files_list(struct store *s, int64_t space_id, const char *prefix, const char *after,
		  int limit, bool deleted,
		  int (*cb)(void *, const char *, const struct record *), void *arg)
{
	/* every path starting with prefix sorts below prefix + 0xff, a byte UTF-8 never has */
	size_t pl = strlen(prefix);
	char hi[4096 + 2];
	if (pl > 4096)
		return 0;
	memcpy(hi, prefix, pl);
	hi[pl] = (char)0xff;
	struct sq_conn *c = sq_read_begin(SQS(s));
	sqlite3_stmt *st = SQ(c, "SELECT path, version, data, deleted, coalesce(client_ts, ''), "
				 "updated_ms FROM records WHERE space_id = ?1 AND path >= ?2 AND "
				 "path < ?3 AND path > ?4 AND deleted = ?5 AND path IS NOT NULL "
				 "ORDER BY path LIMIT ?6");
	int r = -ERR_DB;
	if (st) {
		sqlite3_bind_int64(st, 1, space_id);
		sqlite3_bind_text(st, 2, prefix, (int)pl, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, hi, (int)pl + 1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, after, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 5, deleted);
		sqlite3_bind_int(st, 6, limit);
		while ((r = sq_step(st)) == 1) {
			struct record rec = { 0 };
			rec.version = sqlite3_column_int64(st, 1);
			rec.data = (char *)sqlite3_column_text(st, 2);
			rec.deleted = sqlite3_column_int(st, 3) != 0;
			sq_col_text(st, 4, rec.client_ts, sizeof rec.client_ts);
			rec.updated_ms = sqlite3_column_int64(st, 5);
			if (cb(arg, (const char *)sqlite3_column_text(st, 0), &rec) < 0)
				break;
		}
	}
	sq_read_end(SQS(s), c);
	return r < 0 ? r : 0;
}

int sq_push_file_fold(void *txn, int64_t space_id, const char *fold, const char *path,
		      char *out, size_t outlen)
{
	struct sq_conn *c = sq_txn_conn(txn);
	sqlite3_stmt *st = SQ(c, "SELECT path FROM records WHERE space_id = ? AND path_fold = ? "
				 "AND path != ? AND deleted = 0 LIMIT 1");
	if (!st)
		return -ERR_DB;
	sqlite3_bind_int64(st, 1, space_id);
	sqlite3_bind_text(st, 2, fold, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, path, -1, SQLITE_STATIC);
	int r = sq_step(st);
	if (r == 1)
		sq_col_text(st, 0, out, outlen);
	sqlite3_reset(st);
	return r;
}

int sq_push_file_clash(void *txn, int64_t space_id, const char *path, bool dir, char *out,
		       size_t outlen)
{
	struct sq_conn *c = sq_txn_conn(txn);
	/* a parent that is a file or a link (a directory entry is no clash) */
	sqlite3_stmt *st = SQ(c, "SELECT path FROM records WHERE space_id = ? AND path = ? AND "
				 "deleted = 0 AND json_extract(data, '$.type') != 'dir'");
	if (!st)
		return -ERR_DB;
	for (const char *p = strchr(path, '/'); p; p = strchr(p + 1, '/')) {
		sqlite3_bind_int64(st, 1, space_id);
		sqlite3_bind_text(st, 2, path, (int)(p - path), SQLITE_STATIC);
		int r = sq_step(st);
		if (r == 1)
			sq_col_text(st, 0, out, outlen);
		sqlite3_reset(st);
		if (r != 0)
			return r;
	}
	if (dir)
		return 0;
	/* files under it: between path + "/" and path + "0" ('0' follows '/') */
	size_t n = strlen(path);
	char lo[4096 + 2], hi[4096 + 2];
	if (n > 4096)
		return 0;
	memcpy(lo, path, n);
	memcpy(hi, path, n);
	lo[n] = '/';
	hi[n] = '0';
	st = SQ(c, "SELECT path FROM records WHERE space_id = ? AND path > ? AND path < ? AND "
		   "deleted = 0 LIMIT 1");
	if (!st)
		return -ERR_DB;
	sqlite3_bind_int64(st, 1, space_id);
	sqlite3_bind_text(st, 2, lo, (int)n + 1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, hi, (int)n + 1, SQLITE_STATIC);
	int r = sq_step(st);
	if (r == 1)
		sq_col_text(st, 0, out, outlen);
	sqlite3_reset(st);
	return r;
}

int sq_push_blobs_bind(void *txn, int64_t user_id, const char *const *shas, int n)
{
	struct sq_conn *c = sq_txn_conn(txn);
	sqlite3_stmt *st = SQ(c, "UPDATE blob_owners SET by_files = 1 WHERE user_id = ? AND "
				 "sha256 = ? AND by_files = 0");
	if (!st)
		return -ERR_DB;
	for (int i = 0; i < n; i++) {
		sqlite3_bind_int64(st, 1, user_id);
		sqlite3_bind_text(st, 2, shas[i], -1, SQLITE_STATIC);
		int r = sq_step(st);
		sqlite3_reset(st);
		if (r < 0)
			return r;
	}
	return 0;
}

int sq_files_release(struct store *s, int64_t before_ms, int64_t *ret_n)
{
	struct sq_conn *c = sq_write_begin(SQS(s));
	if (!c)
		return sq_write_failure();
	sqlite3_stmt *st = SQ(c, "DELETE FROM blob_owners WHERE by_files = 1 AND added_ms < ? AND "
				 "NOT EXISTS (SELECT 1 FROM change_blobs cb WHERE cb.sha256 = "
				 "blob_owners.sha256)");
	int r = -ERR_DB;
	*ret_n = 0;
	if (st) {
		sqlite3_bind_int64(st, 1, before_ms);
		r = sq_step(st);
		*ret_n = sqlite3_changes(c->db);
	}
	return sq_write_end(SQS(s), c, r);
}
