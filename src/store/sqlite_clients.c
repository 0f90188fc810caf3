/* The compat adapters' clients in SQLite (store.h, client_*). */
#include <string.h>

#include "../util/err.h"
#include "sqlite_int.h"

#define CLIENT_COLS \
	"client_id, realm_id, user_id, device_id, lock_ms, pulled_ms, created_ms, pulled_seq, " \
	"pulled_space, scope"

static void client_row(sqlite3_stmt *st, struct app_client *c)
{
	memset(c, 0, sizeof *c);
	sq_col_text(st, 0, c->client_id, sizeof c->client_id);
	c->realm_id = sqlite3_column_int64(st, 1);
	c->user_id = sqlite3_column_int64(st, 2);
	c->device_id = sqlite3_column_int64(st, 3);
	c->lock_ms = sqlite3_column_int64(st, 4);
	c->pulled_ms = sqlite3_column_int64(st, 5);
	c->created_ms = sqlite3_column_int64(st, 6);
	c->pulled_seq = sqlite3_column_int64(st, 7);
	c->pulled_space = sqlite3_column_int64(st, 8);
	sq_col_text(st, 9, c->scope, sizeof c->scope);
}

int sq_client_add(struct store *s, const char *app, const struct app_client *c)
{
	WRITE_ONE(s, "INSERT INTO app_clients(app, realm_id, client_id, user_id, device_id, "
		     "created_ms, scope) VALUES (?, ?, ?, ?, ?, ?, ?)",
		  (sqlite3_bind_text(st, 1, app, -1, SQLITE_STATIC),
		   sqlite3_bind_int64(st, 2, c->realm_id),
		   sqlite3_bind_text(st, 3, c->client_id, -1, SQLITE_STATIC),
		   sqlite3_bind_int64(st, 4, c->user_id), sqlite3_bind_int64(st, 5, c->device_id),
		   sqlite3_bind_int64(st, 6, c->created_ms),
		   sqlite3_bind_text(st, 7, c->scope, -1, SQLITE_STATIC)),
		  0);
}

int sq_client_get(struct store *s, const char *app, int64_t realm_id, const char *client_id,
		  struct app_client *ret)
{
	READ_ONE(s, "SELECT " CLIENT_COLS " FROM app_clients WHERE app = ? AND realm_id = ? AND "
		    "client_id = ?",
		 (sqlite3_bind_text(st, 1, app, -1, SQLITE_STATIC), sqlite3_bind_int64(st, 2, realm_id),
		  sqlite3_bind_text(st, 3, client_id, -1, SQLITE_STATIC)),
		 client_row(st, ret));
}

int sq_client_lock(struct store *s, const char *app, int64_t realm_id, const char *client_id,
		   int64_t space_id, int64_t now_ms, int64_t stale_ms, struct app_client *ret)
{
	struct sq_conn *c = sq_write_begin(SQS(s));
	if (!c)
		return sq_write_failure();
	sqlite3_stmt *st = SQ(c, "SELECT " CLIENT_COLS " FROM app_clients WHERE app = ? AND "
				 "realm_id = ? AND client_id = ?");
	int r = -ERR_DB;
	if (st) {
		sqlite3_bind_text(st, 1, app, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, realm_id);
		sqlite3_bind_text(st, 3, client_id, -1, SQLITE_STATIC);
		r = sq_step(st);
		if (r == 1) {
			client_row(st, ret);
			r = 0;
		} else if (r == 0) {
			r = -ERR_NOT_FOUND;
		}
		sqlite3_reset(st);
	}
	if (r == 0 && ret->lock_ms && ret->lock_ms > now_ms - stale_ms)
		r = -ERR_BUSY;
	if (r == 0) {
		st = SQ(c, "UPDATE app_clients SET lock_ms = ?1, pulled_ms = ?1, pulled_seq = "
			   "coalesce((SELECT head_seq FROM spaces WHERE id = ?5), 0), pulled_space = ?5 "
			   "WHERE app = ?2 AND realm_id = ?3 AND client_id = ?4");
		r = st ? (sqlite3_bind_int64(st, 1, now_ms),
			  sqlite3_bind_text(st, 2, app, -1, SQLITE_STATIC),
			  sqlite3_bind_int64(st, 3, realm_id),
			  sqlite3_bind_text(st, 4, client_id, -1, SQLITE_STATIC),
			  sqlite3_bind_int64(st, 5, space_id), sq_step(st))
		       : -ERR_DB;
		if (st)
			sqlite3_reset(st);
		ret->lock_ms = ret->pulled_ms = now_ms;
		ret->pulled_space = space_id;
		st = r == 0 ? SQ(c, "SELECT pulled_seq FROM app_clients WHERE app = ? AND realm_id = ? "
				    "AND client_id = ?")
			    : NULL;
		if (st) {
			sqlite3_bind_text(st, 1, app, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, realm_id);
			sqlite3_bind_text(st, 3, client_id, -1, SQLITE_STATIC);
			if (sq_step(st) == 1)
				ret->pulled_seq = sqlite3_column_int64(st, 0);
			sqlite3_reset(st);
		}
	}
	return sq_write_end(SQS(s), c, r);
}

int sq_client_cursor(struct store *s, const char *app, int64_t realm_id, const char *client_id,
		     int64_t seq)
{
	WRITE_ONE(s, "UPDATE app_clients SET pulled_seq = min(pulled_seq, ?) WHERE app = ? AND "
		     "realm_id = ? AND client_id = ?",
		  (sqlite3_bind_int64(st, 1, seq), sqlite3_bind_text(st, 2, app, -1, SQLITE_STATIC),
		   sqlite3_bind_int64(st, 3, realm_id),
		   sqlite3_bind_text(st, 4, client_id, -1, SQLITE_STATIC)),
		  0);
}

int sq_push_client_unlock(void *txn, const char *app, int64_t realm_id, const char *client_id)
{
	struct sq_conn *c = sq_txn_conn(txn);
	sqlite3_stmt *st = SQ(c, "UPDATE app_clients SET lock_ms = 0 WHERE app = ? AND realm_id = ? "
				 "AND client_id = ?");
	if (!st)
		return -ERR_DB;
	sqlite3_bind_text(st, 1, app, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, realm_id);
	sqlite3_bind_text(st, 3, client_id, -1, SQLITE_STATIC);
	int r = sq_step(st);
	sqlite3_reset(st);
	return r;
}

int sq_client_unlock(struct store *s, const char *app, int64_t realm_id, const char *client_id)
{
	WRITE_ONE(s, "UPDATE app_clients SET lock_ms = 0 WHERE app = ? AND realm_id = ? AND "
		     "client_id = ?",
		  (sqlite3_bind_text(st, 1, app, -1, SQLITE_STATIC), sqlite3_bind_int64(st, 2, realm_id),
		   sqlite3_bind_text(st, 3, client_id, -1, SQLITE_STATIC)),
		  1);
}

int sq_client_delete(struct store *s, const char *app, int64_t realm_id, const char *client_id)
{
	WRITE_ONE(s, "DELETE FROM app_clients WHERE app = ? AND realm_id = ? AND client_id = ?",
		  (sqlite3_bind_text(st, 1, app, -1, SQLITE_STATIC), sqlite3_bind_int64(st, 2, realm_id),
		   sqlite3_bind_text(st, 3, client_id, -1, SQLITE_STATIC)),
		  1);
}

int sq_client_by_device(struct store *s, int64_t device_id, struct app_client *ret)
{
	READ_ONE(s, "SELECT " CLIENT_COLS " FROM app_clients WHERE device_id = ? LIMIT 1",
		 sqlite3_bind_int64(st, 1, device_id), client_row(st, ret));
}
