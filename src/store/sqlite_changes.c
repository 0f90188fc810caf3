/* The SQLite backend's reading of the change log and records, cursors, pruning. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <time.h>

#include "../util/err.h"
#include "sqlite_int.h"

/* --- reading --- */

static int read_head(struct sq_conn *c, int64_t space_id, int64_t *head, int64_t *horizon)
{
	sqlite3_stmt *st = SQ(c, "SELECT head_seq, horizon_seq FROM spaces WHERE id = ?");
	if (!st)
		return -ERR_DB;
	sqlite3_bind_int64(st, 1, space_id);
	int r = sq_step(st);
	if (r == 1) {
		*head = sqlite3_column_int64(st, 0);
		if (horizon)
			*horizon = sqlite3_column_int64(st, 1);
		r = 0;
	} else if (r == 0) {
		r = -ERR_NOT_FOUND;
	}
	sqlite3_reset(st);
	return r;
}

int sq_changes_seq_at_ms(struct store *s, int64_t space_id, int64_t ms, int64_t *ret_seq,
			 int64_t *ret_horizon)
{
	struct sq_conn *c = sq_read_begin(SQS(s));
	int64_t head = 0, horizon = 0;
	int r = sq_snapshot_begin(c);
	if (r == 0)
		r = read_head(c, space_id, &head, &horizon);
	/* every seq above the horizon is kept: the first of them past ms, by bisection */
	int64_t lo = horizon + 1, hi = head + 1; /* the answer is in [lo, hi] */
	while (r == 0 && lo < hi) {
		int64_t mid = lo + (hi - lo) / 2;
		sqlite3_stmt *st = SQ(c, "SELECT server_ms FROM changes WHERE space_id = ? AND seq >= ? "
					 "ORDER BY seq LIMIT 1");
		if (!st) {
			r = -ERR_DB;
			break;
		}
		sqlite3_bind_int64(st, 1, space_id);
		sqlite3_bind_int64(st, 2, mid);
		int s1 = sq_step(st);
		int64_t at = s1 == 1 ? sqlite3_column_int64(st, 0) : INT64_MAX;
		sqlite3_reset(st);
		if (s1 < 0) {
			r = s1;
			break;
		}
		if (at > ms)
			hi = mid;
		else
			lo = mid + 1;
	}
	sq_snapshot_end(c);
	sq_read_end(SQS(s), c);
	*ret_seq = lo - 1;
	*ret_horizon = horizon;
	return r;
}

int sq_changes_read(struct store *s, int64_t space_id, int64_t since, int limit,
		    int (*cb)(void *, const struct change_row *), void *arg, int64_t *ret_head,
		    int64_t *ret_horizon)
{
	struct sq_conn *c = sq_read_begin(SQS(s));
	int r = sq_snapshot_begin(c);
	if (r == 0)
		r = read_head(c, space_id, ret_head, ret_horizon);
	if (r == 0) {
		sqlite3_stmt *st = SQ(c, "SELECT " CHANGE_COLS " FROM changes WHERE space_id = ? AND "
					 "seq > ? ORDER BY seq LIMIT ?");
		r = -ERR_DB;
		if (st) {
			sqlite3_bind_int64(st, 1, space_id);
			sqlite3_bind_int64(st, 2, since);
			sqlite3_bind_int(st, 3, limit);
			while ((r = sq_step(st)) == 1) {
				struct change_row ch;
				sq_row_change(st, &ch);
				if (cb(arg, &ch) < 0)
					break;
			}
		}
	}
	sq_snapshot_end(c);
	sq_read_end(SQS(s), c);
	return r < 0 ? r : 0;
}

/* The state of record rid at seq snapshot, from its last change at or below it: 1 with rec
 * filled (data borrowed from the statement, *ret_st, until it is reset), 0 when the
 * record did not exist then, -ERR_EXPIRED when that change is a patch without its
 * resulting state (stored before schema 10). */
static int record_at(struct sq_conn *c, int64_t rid, int64_t snapshot, sqlite3_stmt **ret_st,
		     struct record *rec)
{
	sqlite3_stmt *st = SQ(c, "SELECT seq, op, CASE op WHEN 1 THEN state ELSE data END, "
				 "coalesce(client_ts, ''), server_ms FROM changes WHERE rid = ? AND "
				 "seq <= ? ORDER BY seq DESC LIMIT 1");
	if (!st)
		return -ERR_DB;
	*ret_st = st;
	sqlite3_bind_int64(st, 1, rid);
	sqlite3_bind_int64(st, 2, snapshot);
	int r = sq_step(st);
	if (r != 1)
		return r;
	memset(rec, 0, sizeof *rec);
	rec->version = sqlite3_column_int64(st, 0);
	rec->deleted = sqlite3_column_int(st, 1) == OP_DELETE;
	rec->data = (char *)sqlite3_column_text(st, 2);
	if (!rec->deleted && !rec->data)
		return -ERR_EXPIRED;
	sq_col_text(st, 3, rec->client_ts, sizeof rec->client_ts);
	rec->updated_ms = sqlite3_column_int64(st, 4);
	return 1;
}

int sq_records_list(struct store *s, int64_t space_id, const char *collection,
		    const char *after_collection, const char *after_id, int limit, int64_t snapshot,
		    int (*cb)(void *, const char *, const char *, const struct record *), void *arg,
		    int64_t *ret_head, int64_t *ret_horizon)
{
	struct sq_conn *c = sq_read_begin(SQS(s));
	int r = sq_snapshot_begin(c);
	if (r == 0) {
		/* snapshots start at the horizon, or at the floor of a space pruned before
		 * schema 11 (sqlite_schema.c) */
		sqlite3_stmt *st = SQ(c, "SELECT head_seq, max(horizon_seq, snapshot_floor) FROM "
					 "spaces WHERE id = ?");
		r = -ERR_DB;
		if (st) {
			sqlite3_bind_int64(st, 1, space_id);
			r = sq_step(st);
			if (r == 1) {
				*ret_head = sqlite3_column_int64(st, 0);
				*ret_horizon = sqlite3_column_int64(st, 1);
				r = 0;
			} else if (r == 0) {
				r = -ERR_NOT_FOUND;
			}
			sqlite3_reset(st);
		}
	}
	if (r == 0 && snapshot >= 0 && (snapshot > *ret_head || snapshot < *ret_horizon))
		goto out; /* the caller answers */
	if (r == 0) {
		/* With a snapshot, records created after it are skipped, so the page is filled
		 * by counting what the callback was given rather than by LIMIT. */
		sqlite3_stmt *st = SQ(c, "SELECT version, data, deleted, coalesce(client_ts, ''), "
					 "updated_ms, collection, id, rid FROM records WHERE space_id = "
					 "?1 AND (?2 IS NULL OR collection = ?2) AND (collection, id) > "
					 "(?3, ?4) ORDER BY collection, id LIMIT ?5");
		r = -ERR_DB;
		if (st) {
			sqlite3_bind_int64(st, 1, space_id);
			if (collection)
				sqlite3_bind_text(st, 2, collection, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 3, after_collection ? after_collection : "", -1,
					  SQLITE_STATIC);
			sqlite3_bind_text(st, 4, after_id ? after_id : "", -1, SQLITE_STATIC);
			sqlite3_bind_int(st, 5, snapshot >= 0 ? -1 : limit);
			int n = 0;
			while (n < limit && (r = sq_step(st)) == 1) {
				struct record rec = { 0 };
				rec.version = sqlite3_column_int64(st, 0);
				sqlite3_stmt *past = NULL;
				if (snapshot >= 0 && rec.version > snapshot) {
					r = record_at(c, sqlite3_column_int64(st, 7), snapshot, &past,
						      &rec);
					if (r <= 0) {
						if (past)
							sqlite3_reset(past);
						if (r < 0)
							break;
						/* created after the snapshot: the caller hears of
						 * it only to bound the scan */
						r = 1;
						if (cb(arg, (const char *)sqlite3_column_text(st, 5),
						       (const char *)sqlite3_column_text(st, 6),
						       NULL) < 0)
							break;
						continue;
					}
				} else {
					rec.data = (char *)sqlite3_column_text(st, 1); /* borrowed */
					rec.deleted = sqlite3_column_int(st, 2);
					sq_col_text(st, 3, rec.client_ts, sizeof rec.client_ts);
					rec.updated_ms = sqlite3_column_int64(st, 4);
				}
				n++;
				int stop = cb(arg, (const char *)sqlite3_column_text(st, 5),
					      (const char *)sqlite3_column_text(st, 6), &rec);
				if (past)
					sqlite3_reset(past);
				if (stop < 0)
					break;
			}
			if (r == 1)
				r = 0;
		}
	}
out:
	sq_snapshot_end(c);
	sq_read_end(SQS(s), c);
	return r < 0 ? r : 0;
}

int sq_record_get(struct store *s, int64_t space_id, const char *collection, const char *id,
		  struct record *ret)
{
	READ_ONE(s, RECORD_SQL,
		 (sqlite3_bind_int64(st, 1, space_id),
		  sqlite3_bind_text(st, 2, collection, -1, SQLITE_STATIC),
		  sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC)),
		 r_ = sq_read_record(st, ret));
}

int sq_record_change(struct store *s, int64_t space_id, const char *collection, const char *id,
		     int64_t seq, int (*cb)(void *, const struct change_row *), void *arg)
{
	READ_ONE(s,
		 "SELECT " CHANGE_COLS " FROM changes WHERE space_id = ? AND seq = ? AND rid = "
		 "(SELECT rid FROM records WHERE space_id = ? AND collection = ? AND id = ?)",
		 (sqlite3_bind_int64(st, 1, space_id), sqlite3_bind_int64(st, 2, seq),
		  sqlite3_bind_int64(st, 3, space_id),
		  sqlite3_bind_text(st, 4, collection, -1, SQLITE_STATIC),
		  sqlite3_bind_text(st, 5, id, -1, SQLITE_STATIC)),
		 {
			 struct change_row ch;
			 sq_row_change(st, &ch);
			 r_ = cb(arg, &ch) < 0 ? -ERR_NOMEM : 0;
		 });
}

int sq_record_history(struct store *s, int64_t space_id, const char *collection, const char *id,
		      int (*cb)(void *, const struct change_row *), void *arg)
{
	struct sq_conn *c = sq_read_begin(SQS(s));
	sqlite3_stmt *st = SQ(c, "SELECT " CHANGE_COLS " FROM changes WHERE rid = (SELECT rid FROM "
				 "records WHERE space_id = ? AND collection = ? AND id = ?) "
				 "ORDER BY seq DESC LIMIT 1000");
	int r = -ERR_DB;
	if (st) {
		sqlite3_bind_int64(st, 1, space_id);
		sqlite3_bind_text(st, 2, collection, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
		while ((r = sq_step(st)) == 1) {
			struct change_row ch;
			sq_row_change(st, &ch);
			if (cb(arg, &ch) < 0)
				break;
		}
	}
	sq_read_end(SQS(s), c);
	return r < 0 ? r : 0;
}

int sq_cursors_put(struct store *s, const struct cursor_row *rows, int n, int64_t now_ms)
{
	struct sq_conn *c = sq_write_begin(SQS(s));
	if (!c)
		return sq_write_failure();
	sqlite3_stmt *st =
		SQ(c, "INSERT INTO device_cursors(device_id, space_id, seq, updated_ms) VALUES (?, ?, "
		      "?, ?) ON CONFLICT (device_id, space_id) DO UPDATE SET seq = max(seq, "
		      "excluded.seq), updated_ms = excluded.updated_ms");
	int r = st ? 0 : -ERR_DB;
	for (int i = 0; r == 0 && i < n; i++) {
		sqlite3_bind_int64(st, 1, rows[i].device_id);
		sqlite3_bind_int64(st, 2, rows[i].space_id);
		sqlite3_bind_int64(st, 3, rows[i].seq);
		sqlite3_bind_int64(st, 4, now_ms);
		r = sq_step(st);
		sqlite3_reset(st);
		/* a device or space deleted since the report: nothing to remember */
		if (r == -ERR_NOT_FOUND)
			r = 0;
	}
	return sq_write_end(SQS(s), c, r);
}

/* The pruning horizon a pass would give space_id now (see store.h): no active device may
 * need anything at or below it, and nothing younger than the retention window goes. Read
 * from one snapshot: cursors and heads only move up, so a horizon read a moment ago is
 * never beyond what is safe. */
static int prune_horizon(struct sq_store *s, int64_t space_id, int64_t now_ms,
			 int64_t retention_ms, int64_t idle_ms, int64_t *ret)
{
	struct sq_conn *c = sq_read_begin(s);
	sqlite3_stmt *st = SQ(c, "SELECT min(coalesce((SELECT min(dc.seq) FROM device_cursors dc "
				 "JOIN devices d ON d.id = dc.device_id JOIN members m ON "
				 "m.user_id = d.user_id AND m.space_id = dc.space_id WHERE "
				 "dc.space_id = ?1 AND d.revoked_ms IS NULL AND d.last_seen_ms >= ?3), "
				 "sp.head_seq), coalesce((SELECT max(seq) FROM changes WHERE space_id = ?1 "
				 "AND server_ms < ?2), 0)) FROM spaces sp WHERE sp.id = ?1");
	int r = -ERR_DB;
	*ret = 0;
	if (st) {
		sqlite3_bind_int64(st, 1, space_id);
		sqlite3_bind_int64(st, 2, now_ms - retention_ms);
		sqlite3_bind_int64(st, 3, now_ms - idle_ms);
		r = sq_step(st);
		if (r == 1)
			*ret = sqlite3_column_int64(st, 0);
	}
	sq_read_end(s, c);
	return r < 0 ? r : 0;
}

/* Prunes one space (see store.h) in windows of PRUNE_WINDOW sequence numbers, each in a
 * write transaction of its own, so that writers wait for one window at most (a space of
 * 1.6 million changes pruned in one transaction held the database 8.6 s, and pushes
 * failed). The horizon moves in the transaction of the first deletion, so a pull never
 * meets a gap the horizon does not cover; a pass cut short (a crash, an error) leaves
 * only what the next pass deletes. A tombstone goes with the delete that made it (in
 * that delete's window). */
#define PRUNE_WINDOW 20000

/* Runs one of a window's deletions (?1 the space, ?2 and ?3 the window's bounds, ?4 the
 * horizon, ?5 and ?6 what files keep: versions from ?5 on, and the newest ?6 of each
 * file); *ret_n is how many rows went. */
static int window_delete(struct sq_conn *c, sqlite3_stmt *st, int64_t space_id, int64_t lo,
			 int64_t hi, int64_t h, const struct file_keep *keep, int64_t now_ms,
			 int64_t *ret_n)
{
	if (!st)
		return -ERR_DB;
	sqlite3_bind_int64(st, 1, space_id);
	sqlite3_bind_int64(st, 2, lo);
	sqlite3_bind_int64(st, 3, hi);
	sqlite3_bind_int64(st, 4, h);
	sqlite3_bind_int64(st, 5, keep ? now_ms - keep->ms : INT64_MAX);
	sqlite3_bind_int64(st, 6, keep ? keep->versions : 0);
	int r = sq_step(st);
	*ret_n = sqlite3_changes(c->db);
	return r;
}

static int prune_space(struct sq_store *s, int64_t space_id, int64_t now_ms,
		       int64_t retention_ms, int64_t idle_ms, const struct file_keep *keep,
		       int64_t *changes, int64_t *records)
{
	int64_t h = 0;
	int pr = prune_horizon(s, space_id, now_ms, retention_ms, idle_ms, &h);
	if (pr < 0)
		return pr;
	bool moved = false;
	for (int64_t lo = 0; lo < h; lo += PRUNE_WINDOW) {
		int64_t hi = lo + PRUNE_WINDOW < h ? lo + PRUNE_WINDOW : h;
		struct sq_conn *c = sq_write_begin(s);
		if (!c)
			return sq_write_failure();
		int64_t tombs = 0, gone = 0;
		/* the tombstone whose delete (its version) is in this window; a deleted file's
		 * stays in the trash while its deletion is younger than files.keep_days */
		int r = window_delete(c,
				      SQ(c, "DELETE FROM records WHERE rid IN (SELECT ch.rid FROM "
					    "changes ch WHERE ch.space_id = ?1 AND ch.seq > ?2 AND "
					    "ch.seq <= ?3 AND ch.op = 2) AND deleted = 1 AND version > "
					    "?2 AND version <= min(?3, ?4) AND (path IS NULL OR "
					    "updated_ms < ?5)"),
				      space_id, lo, hi, h, keep, now_ms, &tombs);
		/* a file's version stays while it is younger than files.keep_days, or among
		 * its file's newest files.keep_versions while the file is live or deleted
		 * within keep_days (once its tombstone is older, or gone, the trash is
		 * emptied) */
		if (r == 0)
			r = window_delete(c,
					  SQ(c, "DELETE FROM changes AS ch WHERE ch.space_id = ?1 AND "
						"ch.seq > ?2 AND ch.seq <= ?3 AND (ch.op = 2 OR EXISTS "
						"(SELECT 1 FROM changes later WHERE later.rid = ch.rid AND "
						"later.seq > ch.seq AND later.seq <= ?4)) AND NOT ("
						"ch.collection = 'files' AND (ch.server_ms >= ?5 OR ("
						"EXISTS (SELECT 1 FROM records r WHERE r.rid = ch.rid AND "
						"(r.deleted = 0 OR r.updated_ms >= ?5)) AND (SELECT "
						"count(*) FROM (SELECT 1 FROM changes l WHERE l.rid = "
						"ch.rid AND l.seq > ch.seq LIMIT ?6)) < ?6)))"),
					  space_id, lo, hi, h, keep, now_ms, &gone);
		if (r == 0 && gone > 0 && !moved) {
			sqlite3_stmt *st =
				SQ(c, "UPDATE spaces SET horizon_seq = max(horizon_seq, ?) WHERE id = ?");
			r = st ? (sqlite3_bind_int64(st, 1, h), sqlite3_bind_int64(st, 2, space_id),
				  sq_step(st))
			       : -ERR_DB;
			moved = r == 0;
		}
		r = sq_write_end(s, c, r);
		if (r < 0)
			return r;
		*changes += gone;
		*records += tombs;
		/* a breath between windows, so that writers waiting for the lock (threads on
		 * write_mu, other processes polling) get it before the next window does */
		if (lo + PRUNE_WINDOW < h)
			nanosleep(&(struct timespec){ .tv_nsec = 5 * 1000 * 1000 }, NULL);
	}
	return 0;
}

int sq_prune(struct store *s, int64_t now_ms, int64_t retention_ms, int64_t idle_ms,
	     const struct file_keep *keep, int64_t *ret_changes, int64_t *ret_records)
{
	*ret_changes = *ret_records = 0;
	int64_t after = 0;
	for (;;) {
		/* one space at a time, so writers wait for one short transaction at most */
		int64_t id = 0;
		struct sq_conn *c = sq_read_begin(SQS(s));
		sqlite3_stmt *st = SQ(c, "SELECT id FROM spaces WHERE id > ? ORDER BY id LIMIT 1");
		int r = -ERR_DB;
		if (st) {
			sqlite3_bind_int64(st, 1, after);
			r = sq_step(st);
			if (r == 1)
				id = sqlite3_column_int64(st, 0);
		}
		sq_read_end(SQS(s), c);
		if (r < 0)
			return r;
		if (r == 0)
			return 0;
		r = prune_space(SQS(s), id, now_ms, retention_ms, idle_ms, keep, ret_changes,
				ret_records);
		if (r < 0)
			return r;
		after = id;
	}
}
