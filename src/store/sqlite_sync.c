/* The SQLite backend's change log: the push transaction, reading changes and records,
 * cursors, pruning. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/err.h"
#include "sqlite_int.h"

/* --- pushing --- */

/* A push transaction. The space's head is read once and written once at the end: a
 * per-change UPDATE ... RETURNING opened a temporary table each time (a third of a push). */
struct sq_txn {
	struct sq_store *s;
	struct sq_conn *c;
	int64_t space_id; /* the space whose head is held, or 0 */
	int64_t head;
	bool dirty;
};

/* Writes the held head back. */
static int flush_head(struct sq_txn *t)
{
	if (!t->dirty)
		return 0;
	sqlite3_stmt *st = SQ(t->c, "UPDATE spaces SET head_seq = ? WHERE id = ?");
	if (!st)
		return -ERR_DB;
	sqlite3_bind_int64(st, 1, t->head);
	sqlite3_bind_int64(st, 2, t->space_id);
	int r = sq_step(st);
	sqlite3_reset(st);
	t->dirty = false;
	return r;
}

int sq_push_begin(struct store *s, void **ret_txn)
{
	struct sq_txn *t = calloc(1, sizeof *t);
	if (!t)
		return -ERR_NOMEM;
	t->s = SQS(s);
	t->c = sq_write_begin(t->s);
	if (!t->c) {
		free(t);
		return -ERR_DB;
	}
	*ret_txn = t;
	return 0;
}

/* The held head is written before a scope opens, and forgotten when one is undone (the
 * database then has the value it had when the scope opened). */
int sq_push_mark(void *txn)
{
	struct sq_txn *t = txn;
	int r = flush_head(t);
	if (r < 0)
		return r;
	return sqlite3_exec(t->c->db, "SAVEPOINT push", NULL, NULL, NULL) == SQLITE_OK ? 0
											 : -ERR_DB;
}

int sq_push_unmark(void *txn, bool keep)
{
	struct sq_txn *t = txn;
	int r = keep ? flush_head(t) : 0;
	if (r < 0)
		keep = false;
	if (!keep) {
		t->space_id = 0;
		t->dirty = false;
		if (sqlite3_exec(t->c->db, "ROLLBACK TO push", NULL, NULL, NULL) != SQLITE_OK)
			return -ERR_DB;
	}
	if (sqlite3_exec(t->c->db, "RELEASE push", NULL, NULL, NULL) != SQLITE_OK)
		return -ERR_DB;
	return r;
}

struct sq_conn *sq_txn_conn(void *txn);
struct sq_conn *sq_txn_conn(void *txn)
{
	return ((struct sq_txn *)txn)->c;
}

int sq_push_end(struct store *s, void *txn, int rc)
{
	(void)s;
	struct sq_txn *t = txn;
	if (rc >= 0)
		rc = flush_head(t);
	rc = sq_write_end(t->s, t->c, rc);
	free(t);
	return rc;
}

int sq_push_op_get(void *txn, int64_t device_id, const char *op_id, struct op_result *ret)
{
	struct sq_txn *t = txn;
	sqlite3_stmt *st = SQ(t->c, "SELECT status, seq, version FROM ops WHERE device_id = ? AND "
				    "op_id = ?");
	if (!st)
		return -ERR_DB;
	sqlite3_bind_int64(st, 1, device_id);
	sqlite3_bind_text(st, 2, op_id, -1, SQLITE_STATIC);
	int r = sq_step(st);
	if (r == 1) {
		int v = sqlite3_column_int(st, 0);
		ret->status = v == OPS_CONFLICT || v == OPS_UNCHANGED ? (enum op_status)v : OPS_APPLIED;
		ret->seq = sqlite3_column_int64(st, 1);
		ret->version = sqlite3_column_int64(st, 2);
		r = 0;
	} else if (r == 0) {
		r = -ERR_NOT_FOUND;
	}
	sqlite3_reset(st);
	return r;
}

int sq_push_op_put(void *txn, int64_t device_id, const char *op_id, int64_t space_id,
		   const struct op_result *res)
{
	struct sq_txn *t = txn;
	sqlite3_stmt *st = SQ(t->c, "INSERT INTO ops(device_id, op_id, space_id, status, seq, "
				    "version) VALUES (?, ?, ?, ?, ?, ?)");
	if (!st)
		return -ERR_DB;
	sqlite3_bind_int64(st, 1, device_id);
	sqlite3_bind_text(st, 2, op_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, space_id);
	sqlite3_bind_int(st, 4, res->status);
	sqlite3_bind_int64(st, 5, res->seq);
	sqlite3_bind_int64(st, 6, res->version);
	int r = sq_step(st);
	sqlite3_reset(st);
	return r;
}

int sq_push_policy(void *txn, int64_t space_id, const char *collection, enum policy *ret)
{
	struct sq_txn *t = txn;
	sqlite3_stmt *st = SQ(t->c, "SELECT policy FROM collections WHERE space_id = ? AND name = ?");
	if (!st)
		return -ERR_DB;
	sqlite3_bind_int64(st, 1, space_id);
	sqlite3_bind_text(st, 2, collection, -1, SQLITE_STATIC);
	int r = sq_step(st);
	*ret = r == 1 ? (enum policy)sqlite3_column_int(st, 0) : POLICY_REJECT;
	sqlite3_reset(st);
	return r < 0 ? r : 0;
}

static int read_record(sqlite3_stmt *st, struct record *ret)
{
	memset(ret, 0, sizeof *ret);
	ret->version = sqlite3_column_int64(st, 0);
	const unsigned char *d = sqlite3_column_text(st, 1);
	if (d) {
		ret->data = strdup((const char *)d);
		if (!ret->data)
			return -ERR_NOMEM;
	}
	ret->deleted = sqlite3_column_int(st, 2);
	sq_col_text(st, 3, ret->client_ts, sizeof ret->client_ts);
	ret->updated_ms = sqlite3_column_int64(st, 4);
	return 0;
}

#define RECORD_SQL "SELECT version, data, deleted, coalesce(client_ts, ''), updated_ms FROM " \
		   "records WHERE space_id = ? AND collection = ? AND id = ?"
#define RECORD_META_SQL "SELECT version, NULL, deleted, coalesce(client_ts, ''), updated_ms " \
			"FROM records WHERE space_id = ? AND collection = ? AND id = ?"

int sq_push_record_get(void *txn, int64_t space_id, const char *collection, const char *id,
		       bool with_data, struct record *ret)
{
	struct sq_txn *t = txn;
	sqlite3_stmt *st = with_data ? SQ(t->c, RECORD_SQL) : SQ(t->c, RECORD_META_SQL);
	if (!st)
		return -ERR_DB;
	sqlite3_bind_int64(st, 1, space_id);
	sqlite3_bind_text(st, 2, collection, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
	int r = sq_step(st);
	if (r == 1)
		r = read_record(st, ret);
	else if (r == 0)
		r = -ERR_NOT_FOUND;
	sqlite3_reset(st);
	return r;
}

int sq_push_horizon(void *txn, int64_t space_id, int64_t *ret)
{
	struct sq_txn *t = txn;
	sqlite3_stmt *st = SQ(t->c, "SELECT horizon_seq FROM spaces WHERE id = ?");
	if (!st)
		return -ERR_DB;
	sqlite3_bind_int64(st, 1, space_id);
	int r = sq_step(st);
	*ret = r == 1 ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return r < 0 ? r : 0;
}

static void row_change(sqlite3_stmt *st, struct change_row *c)
{
	c->seq = sqlite3_column_int64(st, 0);
	c->collection = (const char *)sqlite3_column_text(st, 1);
	c->record_id = (const char *)sqlite3_column_text(st, 2);
	c->op = (enum change_op)sqlite3_column_int(st, 3);
	c->data = (const char *)sqlite3_column_text(st, 4);
	c->device_id = sqlite3_column_int64(st, 5);
	c->op_id = (const char *)sqlite3_column_text(st, 6);
	c->client_ts = (const char *)sqlite3_column_text(st, 7);
	c->server_ms = sqlite3_column_int64(st, 8);
	c->blobs = (const char *)sqlite3_column_text(st, 9);
}

#define CHANGE_COLS "seq, collection, record_id, op, data, coalesce(device_id, 0), op_id, " \
		    "client_ts, server_ms, blobs"

int sq_push_changes_since(void *txn, int64_t space_id, const char *collection, const char *id,
			  int64_t after_seq, int (*cb)(void *, const struct change_row *),
			  void *arg)
{
	struct sq_txn *t = txn;
	sqlite3_stmt *st = SQ(t->c, "SELECT " CHANGE_COLS " FROM changes WHERE space_id = ? AND "
				    "collection = ? AND record_id = ? AND seq > ? ORDER BY seq");
	if (!st)
		return -ERR_DB;
	sqlite3_bind_int64(st, 1, space_id);
	sqlite3_bind_text(st, 2, collection, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, after_seq);
	int r;
	while ((r = sq_step(st)) == 1) {
		struct change_row c;
		row_change(st, &c);
		if (cb(arg, &c) < 0)
			break;
	}
	sqlite3_reset(st);
	return r < 0 ? r : 0;
}

int sq_push_append(void *txn, int64_t space_id, const struct change_in *c, int64_t now_ms,
		   int64_t *ret_seq)
{
	struct sq_txn *t = txn;
	sqlite3_stmt *st;
	int r;
	if (t->space_id != space_id) {
		if ((r = flush_head(t)) < 0)
			return r;
		st = SQ(t->c, "SELECT head_seq FROM spaces WHERE id = ?");
		if (!st)
			return -ERR_DB;
		sqlite3_bind_int64(st, 1, space_id);
		r = sq_step(st);
		if (r == 1)
			t->head = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		if (r != 1)
			return r < 0 ? r : -ERR_NOT_FOUND;
		t->space_id = space_id;
	}
	int64_t seq = ++t->head;
	t->dirty = true;
	st = SQ(t->c, "INSERT INTO changes(space_id, seq, collection, record_id, op, data, "
		      "device_id, op_id, client_ts, server_ms, blobs) VALUES (?,?,?,?,?,?,?,?,?,?,?)");
	if (!st)
		return -ERR_DB;
	sqlite3_bind_int64(st, 1, space_id);
	sqlite3_bind_int64(st, 2, seq);
	sqlite3_bind_text(st, 3, c->collection, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, c->record_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, c->op);
	if (c->data)
		sqlite3_bind_text(st, 6, c->data, -1, SQLITE_STATIC);
	if (c->device_id)
		sqlite3_bind_int64(st, 7, c->device_id);
	sqlite3_bind_text(st, 8, c->op_id, -1, SQLITE_STATIC);
	if (c->client_ts && *c->client_ts)
		sqlite3_bind_text(st, 9, c->client_ts, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 10, now_ms);
	if (c->blobs_json)
		sqlite3_bind_text(st, 11, c->blobs_json, -1, SQLITE_STATIC);
	r = sq_step(st);
	sqlite3_reset(st);
	if (r < 0)
		return r;
	for (int i = 0; i < c->nblobs; i++) {
		/* the reference (core touched the blob's row once for the whole request) */
		st = SQ(t->c, "INSERT INTO change_blobs(space_id, seq, sha256) VALUES (?, ?, ?)");
		if (!st)
			return -ERR_DB;
		sqlite3_bind_int64(st, 1, space_id);
		sqlite3_bind_int64(st, 2, seq);
		sqlite3_bind_text(st, 3, c->blobs[i], -1, SQLITE_STATIC);
		r = sq_step(st);
		sqlite3_reset(st);
		if (r < 0)
			return r;
	}
	st = SQ(t->c, "INSERT INTO records(space_id, collection, id, version, data, deleted, "
		      "client_ts, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
		      "ON CONFLICT (space_id, collection, id) DO UPDATE SET version = ?4, "
		      "data = ?5, deleted = ?6, client_ts = ?7, updated_ms = ?8");
	if (!st)
		return -ERR_DB;
	sqlite3_bind_int64(st, 1, space_id);
	sqlite3_bind_text(st, 2, c->collection, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, c->record_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, seq);
	if (c->record_data)
		sqlite3_bind_text(st, 5, c->record_data, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, c->record_data == NULL);
	if (c->client_ts && *c->client_ts)
		sqlite3_bind_text(st, 7, c->client_ts, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, now_ms);
	r = sq_step(st);
	sqlite3_reset(st);
	if (r < 0)
		return r;
	*ret_seq = seq;
	return 0;
}

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
				row_change(st, &ch);
				if (cb(arg, &ch) < 0)
					break;
			}
		}
	}
	sq_snapshot_end(c);
	sq_read_end(SQS(s), c);
	return r < 0 ? r : 0;
}

int sq_records_list(struct store *s, int64_t space_id, const char *collection,
		    const char *after_collection, const char *after_id, int limit,
		    int (*cb)(void *, const char *, const char *, const struct record *), void *arg,
		    int64_t *ret_as_of)
{
	struct sq_conn *c = sq_read_begin(SQS(s));
	int r = sq_snapshot_begin(c);
	if (r == 0)
		r = read_head(c, space_id, ret_as_of, NULL);
	if (r == 0) {
		sqlite3_stmt *st = SQ(c, "SELECT version, data, deleted, coalesce(client_ts, ''), "
					 "updated_ms, collection, id FROM records WHERE space_id = ?1 "
					 "AND (?2 IS NULL OR collection = ?2) AND (collection, id) > "
					 "(?3, ?4) ORDER BY collection, id LIMIT ?5");
		r = -ERR_DB;
		if (st) {
			sqlite3_bind_int64(st, 1, space_id);
			if (collection)
				sqlite3_bind_text(st, 2, collection, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 3, after_collection ? after_collection : "", -1,
					  SQLITE_STATIC);
			sqlite3_bind_text(st, 4, after_id ? after_id : "", -1, SQLITE_STATIC);
			sqlite3_bind_int(st, 5, limit);
			while ((r = sq_step(st)) == 1) {
				struct record rec = { 0 };
				rec.version = sqlite3_column_int64(st, 0);
				rec.data = (char *)sqlite3_column_text(st, 1); /* borrowed */
				rec.deleted = sqlite3_column_int(st, 2);
				sq_col_text(st, 3, rec.client_ts, sizeof rec.client_ts);
				rec.updated_ms = sqlite3_column_int64(st, 4);
				if (cb(arg, (const char *)sqlite3_column_text(st, 5),
				       (const char *)sqlite3_column_text(st, 6), &rec) < 0)
					break;
			}
		}
	}
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
		 r_ = read_record(st, ret));
}

int sq_record_history(struct store *s, int64_t space_id, const char *collection, const char *id,
		      int (*cb)(void *, const struct change_row *), void *arg)
{
	struct sq_conn *c = sq_read_begin(SQS(s));
	sqlite3_stmt *st = SQ(c, "SELECT " CHANGE_COLS " FROM changes WHERE space_id = ? AND "
				 "collection = ? AND record_id = ? ORDER BY seq DESC LIMIT 1000");
	int r = -ERR_DB;
	if (st) {
		sqlite3_bind_int64(st, 1, space_id);
		sqlite3_bind_text(st, 2, collection, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
		while ((r = sq_step(st)) == 1) {
			struct change_row ch;
			row_change(st, &ch);
			if (cb(arg, &ch) < 0)
				break;
		}
	}
	sq_read_end(SQS(s), c);
	return r < 0 ? r : 0;
}

int sq_cursor_put(struct store *s, int64_t device_id, int64_t space_id, int64_t seq,
		  int64_t now_ms)
{
	WRITE_ONE(s,
		  "INSERT INTO device_cursors(device_id, space_id, seq, updated_ms) VALUES (?, ?, ?, ?) "
		  "ON CONFLICT (device_id, space_id) DO UPDATE SET seq = max(seq, excluded.seq), "
		  "updated_ms = excluded.updated_ms",
		  (sqlite3_bind_int64(st, 1, device_id), sqlite3_bind_int64(st, 2, space_id),
		   sqlite3_bind_int64(st, 3, seq), sqlite3_bind_int64(st, 4, now_ms)),
		  0);
}

/* Prunes one space in one transaction; see store.h. */
static int prune_space(struct sq_store *s, int64_t space_id, int64_t now_ms,
		       int64_t retention_ms, int64_t idle_ms, int64_t *changes, int64_t *records)
{
	struct sq_conn *c = sq_write_begin(s);
	if (!c)
		return -ERR_DB;
	int64_t cutoff = now_ms - retention_ms;
	/* The horizon: no active device may need anything at or below it, and nothing
	 * younger than the retention window goes. */
	sqlite3_stmt *st = SQ(c, "SELECT min(coalesce((SELECT min(dc.seq) FROM device_cursors dc "
				 "JOIN devices d ON d.id = dc.device_id JOIN members m ON "
				 "m.user_id = d.user_id AND m.space_id = dc.space_id WHERE "
				 "dc.space_id = ?1 AND d.revoked_ms IS NULL AND d.last_seen_ms >= ?3), "
				 "sp.head_seq), coalesce((SELECT max(seq) FROM changes WHERE space_id = ?1 "
				 "AND server_ms < ?2), 0)) FROM spaces sp WHERE sp.id = ?1");
	int r = -ERR_DB;
	int64_t h = 0;
	if (st) {
		sqlite3_bind_int64(st, 1, space_id);
		sqlite3_bind_int64(st, 2, cutoff);
		sqlite3_bind_int64(st, 3, now_ms - idle_ms);
		r = sq_step(st);
		if (r == 1) {
			h = sqlite3_column_int64(st, 0);
			r = 0;
		}
		sqlite3_reset(st);
	}
	int64_t gone = 0;
	if (r == 0 && h > 0) {
		st = SQ(c, "DELETE FROM changes AS ch WHERE ch.space_id = ?1 AND ch.seq <= ?2 AND "
			   "(ch.op = 2 OR EXISTS (SELECT 1 FROM changes later WHERE later.space_id = "
			   "?1 AND later.collection = ch.collection AND later.record_id = "
			   "ch.record_id AND later.seq > ch.seq))");
		r = -ERR_DB;
		if (st) {
			sqlite3_bind_int64(st, 1, space_id);
			sqlite3_bind_int64(st, 2, h);
			r = sq_step(st);
			gone = sqlite3_changes(c->db);
			sqlite3_reset(st);
		}
	}
	if (r == 0 && gone > 0) {
		*changes += gone;
		st = SQ(c, "DELETE FROM records WHERE space_id = ? AND deleted = 1 AND version <= ?");
		r = -ERR_DB;
		if (st) {
			sqlite3_bind_int64(st, 1, space_id);
			sqlite3_bind_int64(st, 2, h);
			r = sq_step(st);
			*records += sqlite3_changes(c->db);
			sqlite3_reset(st);
		}
		if (r == 0) {
			st = SQ(c, "UPDATE spaces SET horizon_seq = max(horizon_seq, ?) WHERE id = ?");
			r = st ? (sqlite3_bind_int64(st, 1, h), sqlite3_bind_int64(st, 2, space_id),
				  sq_step(st))
			       : -ERR_DB;
		}
	}
	return sq_write_end(s, c, r);
}

int sq_prune(struct store *s, int64_t now_ms, int64_t retention_ms, int64_t idle_ms,
	     int64_t *ret_changes, int64_t *ret_records)
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
		r = prune_space(SQS(s), id, now_ms, retention_ms, idle_ms, ret_changes, ret_records);
		if (r < 0)
			return r;
		after = id;
	}
}
