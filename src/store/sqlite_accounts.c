/* The SQLite backend's accounts: realms and users (codes and the outbox: sqlite_mail.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/err.h"
#include "sqlite_int.h"



void sq_row_realm(sqlite3_stmt *st, int c, struct realm *r)
{
	r->id = sqlite3_column_int64(st, c);
	sq_col_text(st, c + 1, r->name, sizeof r->name);
	sq_col_text(st, c + 2, r->display_name, sizeof r->display_name);
	r->signup_open = sqlite3_column_int(st, c + 3);
	r->confirm_email = sqlite3_column_int(st, c + 4);
	r->access_ttl_s = sqlite3_column_int64(st, c + 5);
	r->refresh_ttl_s = sqlite3_column_int64(st, c + 6);
}

void sq_row_user(sqlite3_stmt *st, int c, struct user *u)
{
	u->id = sqlite3_column_int64(st, c);
	u->realm_id = sqlite3_column_int64(st, c + 1);
	sq_col_text(st, c + 2, u->username, sizeof u->username);
	sq_col_text(st, c + 3, u->email, sizeof u->email);
	sq_col_text(st, c + 4, u->name, sizeof u->name);
	sq_col_text(st, c + 5, u->password_hash, sizeof u->password_hash);
	u->is_admin = sqlite3_column_int(st, c + 6);
	u->disabled = sqlite3_column_int(st, c + 7);
	u->email_confirmed = sqlite3_column_int(st, c + 8);
	u->has_public_key = sqlite3_column_int(st, c + 9);
	u->created_ms = sqlite3_column_int64(st, c + 10);
}

void sq_row_device(sqlite3_stmt *st, int c, struct device *d)
{
	d->id = sqlite3_column_int64(st, c);
	d->user_id = sqlite3_column_int64(st, c + 1);
	d->kind = (enum device_kind)sqlite3_column_int(st, c + 2);
	sq_col_text(st, c + 3, d->name, sizeof d->name);
	sq_col_text(st, c + 4, d->platform, sizeof d->platform);
	sq_col_text(st, c + 5, d->client_version, sizeof d->client_version);
	d->created_ms = sqlite3_column_int64(st, c + 6);
	d->last_seen_ms = sqlite3_column_int64(st, c + 7);
	d->revoked_ms = sqlite3_column_int64(st, c + 8);
}

/* Lower-case ASCII copy for case-insensitive names and addresses. */

/* sq_write_end, and on success the auth generation moves on. */
int sq_write_end_auth(struct store *s, struct sq_conn *c, int rc)
{
	rc = sq_write_end(SQS(s), c, rc);
	if (rc >= 0)
		atomic_fetch_add_explicit(&s->auth_gen, 1, memory_order_release);
	return rc;
}

/* --- realms --- */

int sq_realm_get(struct store *s, const char *name, struct realm *ret)
{
	READ_ONE(s, "SELECT " REALM_COLS " FROM realms r WHERE r.name = ?",
		 sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC), sq_row_realm(st, 0, ret));
}

int sq_realm_get_by_id(struct store *s, int64_t id, struct realm *ret)
{
	READ_ONE(s, "SELECT " REALM_COLS " FROM realms r WHERE r.id = ?",
		 sqlite3_bind_int64(st, 1, id), sq_row_realm(st, 0, ret));
}

int sq_realm_list(struct store *s, int (*cb)(void *, const struct realm *), void *arg)
{
	struct sq_conn *c = sq_read_begin(SQS(s));
	sqlite3_stmt *st = SQ(c, "SELECT " REALM_COLS " FROM realms r ORDER BY r.name");
	int r = st ? 1 : -ERR_DB;
	while (r > 0 && (r = sq_step(st)) == 1) {
		struct realm rl;
		sq_row_realm(st, 0, &rl);
		if (cb(arg, &rl) < 0)
			break;
	}
	sq_read_end(SQS(s), c);
	return r < 0 ? r : 0;
}

static void bind_realm(sqlite3_stmt *st, const struct realm *r)
{
	sqlite3_bind_text(st, 1, r->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r->display_name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, r->signup_open);
	sqlite3_bind_int(st, 4, r->confirm_email);
	sqlite3_bind_int64(st, 5, r->access_ttl_s);
	sqlite3_bind_int64(st, 6, r->refresh_ttl_s);
}

int sq_realm_create(struct store *s, struct realm *r)
{
	struct sq_conn *c = sq_write_begin(SQS(s));
	if (!c)
		return sq_write_failure();
	sqlite3_stmt *st = SQ(c, "INSERT INTO realms(name, display_name, signup_open, "
				 "confirm_email, access_ttl_s, refresh_ttl_s, created_at) VALUES "
				 "(?, ?, ?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))");
	int rc = st ? (bind_realm(st, r), sq_step(st)) : -ERR_DB;
	if (rc == 0)
		r->id = sqlite3_last_insert_rowid(c->db);
	return sq_write_end(SQS(s), c, rc);
}

int sq_realm_update(struct store *s, const struct realm *r)
{
	WRITE_ONE(s,
		  "UPDATE realms SET name = ?, display_name = ?, signup_open = ?, confirm_email = ?, "
		  "access_ttl_s = ?, refresh_ttl_s = ? WHERE id = ?",
		  (bind_realm(st, r), sqlite3_bind_int64(st, 7, r->id)), 1);
}

/* --- users --- */

int sq_user_create(struct store *s, struct user *u)
{
	char ukey[USERNAME_MAX + 1], ekey[EMAIL_MAX + 1];
	login_key(u->username, ukey, sizeof ukey);
	login_key(u->email, ekey, sizeof ekey);
	struct sq_conn *c = sq_write_begin(SQS(s));
	if (!c)
		return sq_write_failure();
	sqlite3_stmt *st = SQ(c, "INSERT INTO users(realm_id, username, username_key, email, "
				 "email_key, name, password_hash, is_admin, disabled, "
				 "email_confirmed, created_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?)");
	int rc = -ERR_DB;
	if (st) {
		sqlite3_bind_int64(st, 1, u->realm_id);
		sqlite3_bind_text(st, 2, u->username, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, ukey, -1, SQLITE_STATIC);
		if (u->email[0]) {
			sqlite3_bind_text(st, 4, u->email, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 5, ekey, -1, SQLITE_STATIC);
		}
		sqlite3_bind_text(st, 6, u->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 7, u->password_hash, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 8, u->is_admin);
		sqlite3_bind_int(st, 9, u->disabled);
		sqlite3_bind_int(st, 10, u->email_confirmed);
		sqlite3_bind_int64(st, 11, u->created_ms);
		rc = sq_step(st);
		if (rc == 0)
			u->id = sqlite3_last_insert_rowid(c->db);
	}
	return sq_write_end(SQS(s), c, rc);
}

int sq_user_get(struct store *s, int64_t id, struct user *ret)
{
	READ_ONE(s, "SELECT " USER_COLS " FROM users u WHERE u.id = ?",
		 sqlite3_bind_int64(st, 1, id), sq_row_user(st, 0, ret));
}

int sq_user_find(struct store *s, int64_t realm_id, const char *key, struct user *ret)
{
	char k[EMAIL_MAX + 1];
	login_key(key, k, sizeof k);
	READ_ONE(s,
		 "SELECT " USER_COLS " FROM users u WHERE u.realm_id = ?1 AND "
		 "(u.username_key = ?2 OR u.email_key = ?2) ORDER BY u.username_key = ?2 DESC "
		 "LIMIT 1",
		 (sqlite3_bind_int64(st, 1, realm_id), sqlite3_bind_text(st, 2, k, -1, SQLITE_STATIC)),
		 sq_row_user(st, 0, ret));
}

int sq_user_list(struct store *s, int64_t realm_id, const char *q, int64_t after_id, int limit,
		 int (*cb)(void *, const struct user *), void *arg)
{
	char pat[2 * EMAIL_MAX + 4];
	size_t o = 0;
	pat[o++] = '%';
	for (const char *p = q; *p && o < sizeof pat - 3; p++) {
		char ch = (*p >= 'A' && *p <= 'Z') ? (char)(*p + 32) : *p;
		if (ch == '%' || ch == '_' || ch == '\\')
			pat[o++] = '\\';
		pat[o++] = ch;
	}
	pat[o++] = '%';
	pat[o] = '\0';
	struct sq_conn *c = sq_read_begin(SQS(s));
	sqlite3_stmt *st = SQ(c, "SELECT " USER_COLS " FROM users u WHERE (?1 = 0 OR u.realm_id = ?1) "
				 "AND u.id > ?2 AND (u.username_key LIKE ?3 ESCAPE '\\' OR "
				 "coalesce(u.email_key, '') LIKE ?3 ESCAPE '\\' OR lower(u.name) "
				 "LIKE ?3 ESCAPE '\\') ORDER BY u.id LIMIT ?4");
	int r = -ERR_DB;
	if (st) {
		sqlite3_bind_int64(st, 1, realm_id);
		sqlite3_bind_int64(st, 2, after_id);
		sqlite3_bind_text(st, 3, pat, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 4, limit);
		while ((r = sq_step(st)) == 1) {
			struct user u;
			sq_row_user(st, 0, &u);
			if (cb(arg, &u) < 0)
				break;
		}
	}
	sq_read_end(SQS(s), c);
	return r < 0 ? r : 0;
}

/* Deletes tokens of the user's devices other than keep (0: all) and revokes the
 * long-lived token devices among them. Runs inside the caller's write transaction. */
int sq_drop_sessions(struct sq_conn *c, int64_t user_id, int64_t keep, int64_t now_ms)
{
	sqlite3_stmt *st = SQ(c, "DELETE FROM tokens WHERE device_id IN (SELECT id FROM devices "
				 "WHERE user_id = ? AND id != ?)");
	if (!st)
		return -ERR_DB;
	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_int64(st, 2, keep);
	int rc = sq_step(st);
	if (rc < 0)
		return rc;
	st = SQ(c, "UPDATE devices SET revoked_ms = ? WHERE user_id = ? AND id != ? AND kind = 1 "
		   "AND revoked_ms IS NULL");
	if (!st)
		return -ERR_DB;
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_int64(st, 2, user_id);
	sqlite3_bind_int64(st, 3, keep);
	return sq_step(st);
}

int sq_user_update(struct store *s, const struct user *u)
{
	char ekey[EMAIL_MAX + 1];
	login_key(u->email, ekey, sizeof ekey);
	struct sq_conn *c = sq_write_begin(SQS(s));
	if (!c)
		return sq_write_failure();
	sqlite3_stmt *st = SQ(c, "UPDATE users SET email = ?, email_key = ?, name = ?, is_admin = ?, "
				 "disabled = ?, email_confirmed = ? WHERE id = ?");
	int rc = -ERR_DB;
	if (st) {
		if (u->email[0]) {
			sqlite3_bind_text(st, 1, u->email, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, ekey, -1, SQLITE_STATIC);
		}
		sqlite3_bind_text(st, 3, u->name, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 4, u->is_admin);
		sqlite3_bind_int(st, 5, u->disabled);
		sqlite3_bind_int(st, 6, u->email_confirmed);
		sqlite3_bind_int64(st, 7, u->id);
		rc = sq_step(st);
		/* Disabling keeps the tokens: they answer account_disabled, and work again once
		 * the account is enabled (revoking is its own act). */
		if (rc == 0 && sqlite3_changes(c->db) == 0)
			rc = -ERR_NOT_FOUND;
	}
	return sq_write_end_auth(s, c, rc);
}

int sq_user_rename(struct store *s, int64_t id, const char *username)
{
	char ukey[USERNAME_MAX + 1];
	login_key(username, ukey, sizeof ukey);
	/* a rename changes who a token's principal is named as: cached ones look again */
	WRITE_ONE_AUTH(s, "UPDATE users SET username = ?, username_key = ? WHERE id = ?",
		       (sqlite3_bind_text(st, 1, username, -1, SQLITE_STATIC),
			sqlite3_bind_text(st, 2, ukey, -1, SQLITE_STATIC),
			sqlite3_bind_int64(st, 3, id)),
		       1);
}

int sq_user_set_password(struct store *s, int64_t user_id, const char *hash,
			 int64_t keep_device_id, int64_t now_ms)
{
	struct sq_conn *c = sq_write_begin(SQS(s));
	if (!c)
		return sq_write_failure();
	sqlite3_stmt *st = SQ(c, "UPDATE users SET password_hash = ? WHERE id = ?");
	int rc = -ERR_DB;
	if (st) {
		sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, user_id);
		rc = sq_step(st);
		if (rc == 0 && sqlite3_changes(c->db) == 0)
			rc = -ERR_NOT_FOUND;
		if (rc == 0)
			rc = sq_drop_sessions(c, user_id, keep_device_id, now_ms);
	}
	return sq_write_end_auth(s, c, rc);
}

int sq_user_delete(struct store *s, int64_t id,
		   int (*cb)(void *arg, int64_t space_id, const char *name), void *arg)
{
	struct sq_conn *c = sq_write_begin(SQS(s));
	if (!c)
		return sq_write_failure();
	/* Shared spaces (kind 1) the user alone owns while others belong to them would be
	 * left with nobody to manage them. */
	sqlite3_stmt *st = SQ(c, "SELECT sp.id, sp.name FROM members m JOIN spaces sp ON sp.id = "
				 "m.space_id WHERE m.user_id = ?1 AND m.role = 0 AND sp.kind = 1 AND "
				 "NOT EXISTS (SELECT 1 FROM members o WHERE o.space_id = sp.id AND "
				 "o.user_id != ?1 AND o.role = 0) AND EXISTS (SELECT 1 FROM members o "
				 "WHERE o.space_id = sp.id AND o.user_id != ?1) ORDER BY sp.id");
	int r = -ERR_DB, orphans = 0;
	if (st) {
		sqlite3_bind_int64(st, 1, id);
		while ((r = sq_step(st)) == 1) {
			orphans++;
			if (cb && cb(arg, sqlite3_column_int64(st, 0),
				     (const char *)sqlite3_column_text(st, 1)) < 0)
				break;
		}
		r = r < 0 ? r : orphans ? -ERR_CONFLICT : 0;
		sqlite3_reset(st);
	}
	if (r == 0) {
		st = SQ(c, "DELETE FROM spaces WHERE kind = 1 AND id IN (SELECT space_id FROM members "
			   "WHERE user_id = ?1) AND NOT EXISTS (SELECT 1 FROM members o WHERE "
			   "o.space_id = spaces.id AND o.user_id != ?1)");
		r = st ? (sqlite3_bind_int64(st, 1, id), sq_step(st)) : -ERR_DB;
	}
	if (r == 0) {
		st = SQ(c, "DELETE FROM users WHERE id = ?");
		r = st ? (sqlite3_bind_int64(st, 1, id), sq_step(st)) : -ERR_DB;
		if (r == 0 && sqlite3_changes(c->db) == 0)
			r = -ERR_NOT_FOUND;
	}
	return sq_write_end_auth(s, c, r);
}

int sq_user_set_public_key(struct store *s, int64_t user_id, const char *key)
{
	WRITE_ONE_AUTH(s, "UPDATE users SET public_key = ? WHERE id = ?",
		       (sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC),
			sqlite3_bind_int64(st, 2, user_id)),
		       0);
}

int sq_user_get_public_key(struct store *s, int64_t realm_id, const char *key, char **ret)
{
	char k[USERNAME_MAX + 1];
	login_key(key, k, sizeof k);
	READ_ONE(s,
		 "SELECT public_key FROM users WHERE realm_id = ? AND username_key = ? AND "
		 "public_key IS NOT NULL AND disabled = 0",
		 (sqlite3_bind_int64(st, 1, realm_id), sqlite3_bind_text(st, 2, k, -1, SQLITE_STATIC)),
		 {
			 *ret = strdup((const char *)sqlite3_column_text(st, 0));
			 if (!*ret)
				 r_ = -ERR_NOMEM;
		 });
}

int sq_admin_count(struct store *s, int64_t *ret)
{
	READ_ONE(s, "SELECT count(*) FROM users WHERE is_admin = 1", (void)0,
		 *ret = sqlite3_column_int64(st, 0));
}
