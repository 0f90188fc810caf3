/* The SQLite backend's sessions: devices and their tokens (opened, looked up, refreshed,
 * ended, revoked). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/err.h"
#include "sqlite_int.h"

static int insert_tokens(struct sq_conn *c, int64_t device_id, const struct token_row *t, int n)
{
	for (int i = 0; i < n; i++) {
		sqlite3_stmt *st = SQ(c, "INSERT INTO tokens(hash, device_id, kind, expires_ms) "
					 "VALUES (?, ?, ?, ?)");
		if (!st)
			return -ERR_DB;
		sqlite3_bind_blob(st, 1, t[i].hash, 32, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, device_id);
		sqlite3_bind_int(st, 3, t[i].kind);
		if (t[i].expires_ms)
			sqlite3_bind_int64(st, 4, t[i].expires_ms);
		int rc = sq_step(st);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int load_device(struct sq_conn *c, int64_t id, struct device *d)
{
	sqlite3_stmt *st = SQ(c, "SELECT " DEVICE_COLS " FROM devices d WHERE d.id = ?");
	if (!st)
		return -ERR_DB;
	sqlite3_bind_int64(st, 1, id);
	int rc = sq_step(st);
	if (rc == 1) {
		sq_row_device(st, 0, d);
		return 0;
	}
	return rc < 0 ? rc : -ERR_NOT_FOUND;
}

int sq_session_open(struct store *s, struct device *d, const struct token_row *t, int n,
		    int64_t now_ms)
{
	struct sq_conn *c = sq_write_begin(SQS(s));
	if (!c)
		return sq_write_failure();
	int rc;
	sqlite3_stmt *st;
	if (d->id) {
		st = SQ(c, "UPDATE devices SET last_seen_ms = ?, platform = CASE WHEN ? = '' THEN "
			   "platform ELSE ? END, client_version = CASE WHEN ? = '' THEN "
			   "client_version ELSE ? END WHERE id = ? AND user_id = ? AND "
			   "revoked_ms IS NULL AND kind = 0");
		rc = -ERR_DB;
		if (st) {
			sqlite3_bind_int64(st, 1, now_ms);
			sqlite3_bind_text(st, 2, d->platform, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 3, d->platform, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 4, d->client_version, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 5, d->client_version, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 6, d->id);
			sqlite3_bind_int64(st, 7, d->user_id);
			rc = sq_step(st);
			if (rc == 0 && sqlite3_changes(c->db) == 0)
				rc = -ERR_NOT_FOUND;
		}
	} else {
		st = SQ(c, "INSERT INTO devices(user_id, kind, name, platform, client_version, "
			   "created_ms, last_seen_ms) VALUES (?, ?, ?, ?, ?, ?, ?)");
		rc = -ERR_DB;
		if (st) {
			sqlite3_bind_int64(st, 1, d->user_id);
			sqlite3_bind_int(st, 2, d->kind);
			sqlite3_bind_text(st, 3, d->name, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 4, d->platform, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 5, d->client_version, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 6, now_ms);
			sqlite3_bind_int64(st, 7, now_ms);
			rc = sq_step(st);
			if (rc == 0)
				d->id = sqlite3_last_insert_rowid(c->db);
		}
	}
	if (rc == 0)
		rc = insert_tokens(c, d->id, t, n);
	if (rc == 0)
		rc = load_device(c, d->id, d);
	return sq_write_end(SQS(s), c, rc);
}

#define PRINCIPAL_SQL                                                                      \
	"SELECT " USER_COLS ", " DEVICE_COLS ", " REALM_COLS ", t.kind, "                   \
	"coalesce(t.expires_ms, 0), coalesce(t.used_ms, 0) FROM tokens t JOIN devices d ON " \
	"d.id = t.device_id JOIN users u ON u.id = d.user_id JOIN realms r ON "              \
	"r.id = u.realm_id WHERE t.hash = ?"

static void row_principal(sqlite3_stmt *st, struct principal *p)
{
	sq_row_user(st, 0, &p->user);
	sq_row_device(st, NUSER, &p->device);
	sq_row_realm(st, NUSER + NDEVICE, &p->realm);
	int c = NUSER + NDEVICE + NREALM;
	p->token_kind = (enum token_kind)sqlite3_column_int(st, c);
	p->expires_ms = sqlite3_column_int64(st, c + 1);
	p->used_ms = sqlite3_column_int64(st, c + 2);
}

int sq_token_lookup(struct store *s, const uint8_t hash[32], struct principal *ret)
{
	READ_ONE(s, PRINCIPAL_SQL, sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC),
		 row_principal(st, ret));
}

int sq_session_refresh(struct store *s, const uint8_t old_hash[32], const struct token_row *t,
		       int n, int64_t now_ms, struct principal *ret)
{
	struct sq_conn *c = sq_write_begin(SQS(s));
	if (!c)
		return sq_write_failure();
	sqlite3_stmt *st = SQ(c, PRINCIPAL_SQL);
	int rc = -ERR_DB;
	if (!st)
		goto out;
	sqlite3_bind_blob(st, 1, old_hash, 32, SQLITE_STATIC);
	rc = sq_step(st);
	if (rc <= 0) {
		rc = rc < 0 ? rc : -ERR_NOT_FOUND;
		goto out;
	}
	row_principal(st, ret);
	sqlite3_reset(st);
	if (ret->token_kind != TOKEN_REFRESH || ret->device.revoked_ms ||
	    (ret->expires_ms && ret->expires_ms <= now_ms)) {
		rc = -ERR_NOT_FOUND;
		goto out;
	}
	if (ret->used_ms) {
		/* A used refresh token again: someone has a copy. End the device's session. */
		st = SQ(c, "DELETE FROM tokens WHERE device_id = ?");
		rc = st ? (sqlite3_bind_int64(st, 1, ret->device.id), sq_step(st)) : -ERR_DB;
		if (rc == 0)
			rc = -ERR_DENIED;
		/* commit the revocation, then report */
		return sq_write_end_auth(s, c, rc == -ERR_DENIED ? 0 : rc) < 0 ? -ERR_DB : -ERR_DENIED;
	}
	st = SQ(c, "UPDATE tokens SET used_ms = ? WHERE hash = ?");
	if (!st) {
		rc = -ERR_DB;
		goto out;
	}
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_blob(st, 2, old_hash, 32, SQLITE_STATIC);
	rc = sq_step(st);
	/* Access tokens of the old pair go too: one live pair per device. */
	if (rc == 0) {
		st = SQ(c, "DELETE FROM tokens WHERE device_id = ? AND kind = 0");
		rc = st ? (sqlite3_bind_int64(st, 1, ret->device.id), sq_step(st)) : -ERR_DB;
	}
	if (rc == 0)
		rc = insert_tokens(c, ret->device.id, t, n);
	if (rc == 0) {
		st = SQ(c, "UPDATE devices SET last_seen_ms = ? WHERE id = ?");
		rc = st ? (sqlite3_bind_int64(st, 1, now_ms), sqlite3_bind_int64(st, 2, ret->device.id),
			   sq_step(st))
			: -ERR_DB;
	}
out:
	return sq_write_end_auth(s, c, rc);
}

int sq_session_end(struct store *s, int64_t device_id)
{
	WRITE_ONE_AUTH(s, "DELETE FROM tokens WHERE device_id = ?",
		       sqlite3_bind_int64(st, 1, device_id), 0);
}

int sq_device_list(struct store *s, int64_t user_id, int (*cb)(void *, const struct device *),
		   void *arg)
{
	struct sq_conn *c = sq_read_begin(SQS(s));
	sqlite3_stmt *st = SQ(c, "SELECT " DEVICE_COLS " FROM devices d WHERE d.user_id = ? "
				 "ORDER BY d.id");
	int r = -ERR_DB;
	if (st) {
		sqlite3_bind_int64(st, 1, user_id);
		while ((r = sq_step(st)) == 1) {
			struct device d;
			sq_row_device(st, 0, &d);
			if (cb(arg, &d) < 0)
				break;
		}
	}
	sq_read_end(SQS(s), c);
	return r < 0 ? r : 0;
}

int sq_device_get(struct store *s, int64_t user_id, int64_t device_id, struct device *ret)
{
	READ_ONE(s, "SELECT " DEVICE_COLS " FROM devices d WHERE d.id = ? AND d.user_id = ?",
		 (sqlite3_bind_int64(st, 1, device_id), sqlite3_bind_int64(st, 2, user_id)),
		 sq_row_device(st, 0, ret));
}

int sq_device_rename(struct store *s, int64_t user_id, int64_t device_id, const char *name)
{
	WRITE_ONE_AUTH(s, "UPDATE devices SET name = ? WHERE id = ? AND user_id = ?",
		       (sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC),
			sqlite3_bind_int64(st, 2, device_id), sqlite3_bind_int64(st, 3, user_id)),
		       1);
}

int sq_device_revoke(struct store *s, int64_t user_id, int64_t device_id, int64_t now_ms)
{
	struct sq_conn *c = sq_write_begin(SQS(s));
	if (!c)
		return sq_write_failure();
	sqlite3_stmt *st = SQ(c, "UPDATE devices SET revoked_ms = coalesce(revoked_ms, ?) "
				 "WHERE id = ? AND user_id = ?");
	int rc = -ERR_DB;
	if (st) {
		sqlite3_bind_int64(st, 1, now_ms);
		sqlite3_bind_int64(st, 2, device_id);
		sqlite3_bind_int64(st, 3, user_id);
		rc = sq_step(st);
		if (rc == 0 && sqlite3_changes(c->db) == 0)
			rc = -ERR_NOT_FOUND;
		if (rc == 0) {
			st = SQ(c, "DELETE FROM tokens WHERE device_id = ?");
			rc = st ? (sqlite3_bind_int64(st, 1, device_id), sq_step(st)) : -ERR_DB;
		}
	}
	return sq_write_end_auth(s, c, rc);
}

int sq_device_touch(struct store *s, int64_t device_id, int64_t now_ms)
{
	WRITE_ONE(s, "UPDATE devices SET last_seen_ms = ? WHERE id = ?",
		  (sqlite3_bind_int64(st, 1, now_ms), sqlite3_bind_int64(st, 2, device_id)), 0);
}
