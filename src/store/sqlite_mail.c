/* The SQLite backend's mailed codes (confirmation, reset), the mail outbox, and counts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/err.h"
#include "sqlite_int.h"

/* --- e-mail codes --- */

#define ECODE_COLS "id, user_id, purpose, code_hash, token_hash, expires_ms, tries"

static void row_ecode(sqlite3_stmt *st, struct ecode *e)
{
	e->id = sqlite3_column_int64(st, 0);
	e->user_id = sqlite3_column_int64(st, 1);
	e->purpose = (enum ecode_purpose)sqlite3_column_int(st, 2);
	memset(e->code_hash, 0, 32);
	memset(e->token_hash, 0, 32);
	if (sqlite3_column_bytes(st, 3) == 32)
		memcpy(e->code_hash, sqlite3_column_blob(st, 3), 32);
	if (sqlite3_column_bytes(st, 4) == 32)
		memcpy(e->token_hash, sqlite3_column_blob(st, 4), 32);
	e->expires_ms = sqlite3_column_int64(st, 5);
	e->tries = sqlite3_column_int(st, 6);
}

int sq_ecode_create(struct store *s, struct ecode *e)
{
	struct sq_conn *c = sq_write_begin(SQS(s));
	if (!c)
		return sq_write_failure();
	sqlite3_stmt *st = SQ(c, "DELETE FROM email_codes WHERE user_id = ? AND purpose = ?");
	int rc = -ERR_DB;
	if (st) {
		sqlite3_bind_int64(st, 1, e->user_id);
		sqlite3_bind_int(st, 2, e->purpose);
		rc = sq_step(st);
	}
	if (rc == 0) {
		st = SQ(c, "INSERT INTO email_codes(user_id, purpose, code_hash, token_hash, "
			   "expires_ms) VALUES (?, ?, ?, ?, ?)");
		rc = -ERR_DB;
		if (st) {
			sqlite3_bind_int64(st, 1, e->user_id);
			sqlite3_bind_int(st, 2, e->purpose);
			sqlite3_bind_blob(st, 3, e->code_hash, 32, SQLITE_STATIC);
			sqlite3_bind_blob(st, 4, e->token_hash, 32, SQLITE_STATIC);
			sqlite3_bind_int64(st, 5, e->expires_ms);
			rc = sq_step(st);
			if (rc == 0)
				e->id = sqlite3_last_insert_rowid(c->db);
		}
	}
	return sq_write_end(SQS(s), c, rc);
}

int sq_ecode_by_token(struct store *s, enum ecode_purpose p, const uint8_t th[32],
		      struct ecode *ret)
{
	READ_ONE(s, "SELECT " ECODE_COLS " FROM email_codes WHERE token_hash = ? AND purpose = ?",
		 (sqlite3_bind_blob(st, 1, th, 32, SQLITE_STATIC), sqlite3_bind_int(st, 2, p)),
		 row_ecode(st, ret));
}

int sq_ecode_active(struct store *s, int64_t user_id, enum ecode_purpose p, struct ecode *ret)
{
	READ_ONE(s, "SELECT " ECODE_COLS " FROM email_codes WHERE user_id = ? AND purpose = ?",
		 (sqlite3_bind_int64(st, 1, user_id), sqlite3_bind_int(st, 2, p)),
		 row_ecode(st, ret));
}

static int take_try(struct store *s, int64_t id, int max)
{
	WRITE_ONE(s, "UPDATE email_codes SET tries = tries + 1 WHERE id = ? AND tries < ?",
		  (sqlite3_bind_int64(st, 1, id), sqlite3_bind_int(st, 2, max)), 1);
}

int sq_ecode_take_try(struct store *s, int64_t id, int max)
{
	int r = take_try(s, id, max);
	return r == -ERR_NOT_FOUND ? -ERR_EXPIRED : r;
}

/* Deletes the code; -ERR_NOT_FOUND when someone else consumed it first. */
static int consume(struct sq_conn *c, int64_t id)
{
	sqlite3_stmt *st = SQ(c, "DELETE FROM email_codes WHERE id = ?");
	if (!st)
		return -ERR_DB;
	sqlite3_bind_int64(st, 1, id);
	int rc = sq_step(st);
	if (rc == 0 && sqlite3_changes(c->db) == 0)
		rc = -ERR_NOT_FOUND;
	return rc;
}

int sq_ecode_confirm(struct store *s, const struct ecode *e)
{
	struct sq_conn *c = sq_write_begin(SQS(s));
	if (!c)
		return sq_write_failure();
	int rc = consume(c, e->id);
	if (rc == 0) {
		sqlite3_stmt *st = SQ(c, "UPDATE users SET email_confirmed = 1 WHERE id = ?");
		rc = st ? (sqlite3_bind_int64(st, 1, e->user_id), sq_step(st)) : -ERR_DB;
	}
	return sq_write_end(SQS(s), c, rc);
}

int sq_ecode_reset(struct store *s, const struct ecode *e, const char *hash, int64_t now_ms)
{
	struct sq_conn *c = sq_write_begin(SQS(s));
	if (!c)
		return sq_write_failure();
	int rc = consume(c, e->id);
	if (rc == 0) {
		sqlite3_stmt *st = SQ(c, "UPDATE users SET password_hash = ? WHERE id = ?");
		rc = -ERR_DB;
		if (st) {
			sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, e->user_id);
			rc = sq_step(st);
		}
	}
	if (rc == 0)
		rc = sq_drop_sessions(c, e->user_id, 0, now_ms);
	return sq_write_end_auth(s, c, rc);
}

/* --- outbox --- */

int sq_mail_enqueue(struct store *s, const char *to, const char *subject, const char *body,
		    int64_t now_ms)
{
	WRITE_ONE(s,
		  "INSERT INTO outbox(to_addr, subject, body, created_ms, next_ms) VALUES "
		  "(?, ?, ?, ?, ?)",
		  (sqlite3_bind_text(st, 1, to, -1, SQLITE_STATIC),
		   sqlite3_bind_text(st, 2, subject, -1, SQLITE_STATIC),
		   sqlite3_bind_text(st, 3, body, -1, SQLITE_STATIC),
		   sqlite3_bind_int64(st, 4, now_ms), sqlite3_bind_int64(st, 5, now_ms)),
		  0);
}

int sq_mail_next(struct store *s, int64_t now_ms, struct mail *ret)
{
	READ_ONE(s,
		 "SELECT id, to_addr, subject, body, attempts FROM outbox WHERE sent_ms IS NULL "
		 "AND failed = 0 AND next_ms <= ? ORDER BY next_ms, id LIMIT 1",
		 sqlite3_bind_int64(st, 1, now_ms), {
			 ret->id = sqlite3_column_int64(st, 0);
			 ret->to = strdup((const char *)sqlite3_column_text(st, 1));
			 ret->subject = strdup((const char *)sqlite3_column_text(st, 2));
			 ret->body = strdup((const char *)sqlite3_column_text(st, 3));
			 ret->attempts = sqlite3_column_int(st, 4);
			 if (!ret->to || !ret->subject || !ret->body) {
				 mail_clear(ret);
				 r_ = -ERR_NOMEM;
			 }
		 });
}

int sq_mail_done(struct store *s, int64_t id, int64_t now_ms, const char *error, int64_t next_ms)
{
	struct sq_conn *c = sq_write_begin(SQS(s));
	if (!c)
		return sq_write_failure();
	sqlite3_stmt *st;
	if (!error)
		st = SQ(c, "UPDATE outbox SET sent_ms = ?1, attempts = attempts + 1, last_error = "
			   "NULL WHERE id = ?2");
	else
		st = SQ(c, "UPDATE outbox SET attempts = attempts + 1, last_error = ?3, next_ms = "
			   "?4, failed = (?4 = 0) WHERE id = ?2");
	int rc = -ERR_DB;
	if (st) {
		if (!error)
			sqlite3_bind_int64(st, 1, now_ms);
		sqlite3_bind_int64(st, 2, id);
		if (error) {
			sqlite3_bind_text(st, 3, error, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 4, next_ms);
		}
		rc = sq_step(st);
	}
	return sq_write_end(SQS(s), c, rc);
}

int sq_stats(struct store *s, struct store_stats *ret)
{
	READ_ONE(s,
		 "SELECT (SELECT count(*) FROM realms), (SELECT count(*) FROM users), "
		 "(SELECT count(*) FROM devices), (SELECT count(*) FROM devices WHERE revoked_ms "
		 "IS NULL), (SELECT count(*) FROM outbox WHERE sent_ms IS NULL AND failed = 0), "
		 "(SELECT count(*) FROM spaces), (SELECT count(*) FROM changes), "
		 "(SELECT count(*) FROM blobs), (SELECT coalesce(sum(size), 0) FROM blobs)",
		 (void)0, {
			 memset(ret, 0, sizeof *ret);
			 ret->realms = sqlite3_column_int64(st, 0);
			 ret->users = sqlite3_column_int64(st, 1);
			 ret->devices = sqlite3_column_int64(st, 2);
			 ret->active_devices = sqlite3_column_int64(st, 3);
			 ret->mails_pending = sqlite3_column_int64(st, 4);
			 ret->spaces = sqlite3_column_int64(st, 5);
			 ret->changes = sqlite3_column_int64(st, 6);
			 ret->blobs = sqlite3_column_int64(st, 7);
			 ret->blob_bytes = sqlite3_column_int64(st, 8);
		 });
}
