/* The SQLite backend's push transaction: op results, policies, records' states, and
 * appending to the change log (reading it: sqlite_changes.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/err.h"
#include "key64.h"
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
		return sq_write_failure();
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
				    "op_key = ? AND op_id = ?");
	if (!st)
		return -ERR_DB;
	sqlite3_bind_int64(st, 1, device_id);
	sqlite3_bind_int64(st, 2, store_key64(op_id, strlen(op_id)));
	sqlite3_bind_text(st, 3, op_id, -1, SQLITE_STATIC);
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
	sqlite3_stmt *st = SQ(t->c, "INSERT INTO ops(device_id, op_key, op_id, space_id, status, "
				    "seq, version) VALUES (?, ?, ?, ?, ?, ?, ?)");
	if (!st)
		return -ERR_DB;
	sqlite3_bind_int64(st, 1, device_id);
	sqlite3_bind_int64(st, 2, store_key64(op_id, strlen(op_id)));
	sqlite3_bind_text(st, 3, op_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, space_id);
	sqlite3_bind_int(st, 5, res->status);
	sqlite3_bind_int64(st, 6, res->seq);
	sqlite3_bind_int64(st, 7, res->version);
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

int sq_read_record(sqlite3_stmt *st, struct record *ret)
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
		r = sq_read_record(st, ret);
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

void sq_row_change(sqlite3_stmt *st, struct change_row *c)
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


int sq_push_changes_since(void *txn, int64_t space_id, const char *collection, const char *id,
			  int64_t after_seq, int (*cb)(void *, const struct change_row *),
			  void *arg)
{
	struct sq_txn *t = txn;
	sqlite3_stmt *st = SQ(t->c, "SELECT " CHANGE_COLS " FROM changes WHERE rid = (SELECT rid "
				    "FROM records WHERE space_id = ? AND collection = ? AND id = ?) "
				    "AND seq > ? ORDER BY seq");
	if (!st)
		return -ERR_DB;
	sqlite3_bind_int64(st, 1, space_id);
	sqlite3_bind_text(st, 2, collection, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, after_seq);
	int r;
	while ((r = sq_step(st)) == 1) {
		struct change_row c;
		sq_row_change(st, &c);
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
	/* the record first: the change carries its rid. Found, then updated by rid or
	 * inserted (an upsert with RETURNING cost twice as much: SQLite stages the returned
	 * rows in a table of their own) */
	int64_t rid = 0;
	st = SQ(t->c, "SELECT rid FROM records WHERE space_id = ? AND collection = ? AND id = ?");
	if (!st)
		return -ERR_DB;
	sqlite3_bind_int64(st, 1, space_id);
	sqlite3_bind_text(st, 2, c->collection, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, c->record_id, -1, SQLITE_STATIC);
	r = sq_step(st);
	if (r == 1)
		rid = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (r < 0)
		return r;
	st = rid ? SQ(t->c, "UPDATE records SET version = ?4, data = ?5, deleted = ?6, "
			    "client_ts = ?7, updated_ms = ?8, path = coalesce(?10, path), "
			    "path_fold = coalesce(?11, path_fold) WHERE rid = ?9")
		 : SQ(t->c, "INSERT INTO records(space_id, collection, id, version, data, "
			    "deleted, client_ts, updated_ms, path, path_fold) VALUES (?1, ?2, ?3, "
			    "?4, ?5, ?6, ?7, ?8, ?10, ?11)");
	if (!st)
		return -ERR_DB;
	if (!rid) {
		sqlite3_bind_int64(st, 1, space_id);
		sqlite3_bind_text(st, 2, c->collection, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, c->record_id, -1, SQLITE_STATIC);
	} else {
		sqlite3_bind_int64(st, 9, rid);
	}
	sqlite3_bind_int64(st, 4, seq);
	if (c->record_data)
		sqlite3_bind_text(st, 5, c->record_data, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, c->record_data == NULL);
	if (c->client_ts && *c->client_ts)
		sqlite3_bind_text(st, 7, c->client_ts, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, now_ms);
	if (c->path) {
		sqlite3_bind_text(st, 10, c->path, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 11, c->path_fold, -1, SQLITE_STATIC);
	} else {
		sqlite3_bind_null(st, 10);
		sqlite3_bind_null(st, 11);
	}
	r = sq_step(st);
	sqlite3_reset(st);
	if (r < 0)
		return r;
	if (!rid)
		rid = sqlite3_last_insert_rowid(t->c->db);
	if (rid <= 0)
		return -ERR_DB;
	st = SQ(t->c, "INSERT INTO changes(space_id, seq, collection, record_id, op, data, "
		      "device_id, op_id, client_ts, server_ms, blobs, rid, state) "
		      "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)");
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
	sqlite3_bind_int64(st, 12, rid);
	if (c->op == OP_PATCH && c->record_data)
		sqlite3_bind_text(st, 13, c->record_data, -1, SQLITE_STATIC);
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
	*ret_seq = seq;
	return 0;
}
