/* End-to-end key bundles in SQLite: one bundle per user, one-time prekeys each handed out
 * once. See store.h (store_messages_ops, bundle_*) and docs/architecture.md (Messages). */
#include <string.h>

#include "../util/err.h"
#include "sqlite_int.h"

int sq_bundle_put(struct store *s, int64_t user_id, const struct key_bundle *kb,
		const char *const *prekeys, int n, int64_t now_ms)
{
	struct sq_conn *c = sq_write_begin(SQS(s));
	if (!c)
		return sq_write_failure();
	sqlite3_stmt *st = SQ(c, "INSERT OR REPLACE INTO key_bundles(user_id, identity_key, "
				 "signed_prekey, signed_prekey_signature, updated_ms) VALUES "
				 "(?, ?, ?, ?, ?)");
	int r = -ERR_DB;
	if (st) {
		sqlite3_bind_int64(st, 1, user_id);
		sqlite3_bind_text(st, 2, kb->identity_key, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, kb->signed_prekey, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, kb->signed_prekey_signature, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, now_ms);
		r = sq_step(st);
		sqlite3_reset(st);
	}
	/* the old one-time prekeys go: they were made with keys the client has replaced */
	if (r == 0) {
		st = SQ(c, "DELETE FROM one_time_prekeys WHERE user_id = ?");
		r = st ? (sqlite3_bind_int64(st, 1, user_id), sq_step(st)) : -ERR_DB;
		if (st)
			sqlite3_reset(st);
	}
	for (int i = 0; r == 0 && i < n; i++) {
		st = SQ(c, "INSERT INTO one_time_prekeys(user_id, key_id, public_key) VALUES (?, ?, ?)");
		r = st ? (sqlite3_bind_int64(st, 1, user_id), sqlite3_bind_int(st, 2, i),
			  sqlite3_bind_text(st, 3, prekeys[i], -1, SQLITE_STATIC), sq_step(st))
		       : -ERR_DB;
		if (st)
			sqlite3_reset(st);
	}
	return sq_write_end(SQS(s), c, r);
}

int sq_bundle_take(struct store *s, int64_t user_id, struct key_bundle *ret, char *prekey,
		 size_t prekey_len, bool *ret_has_prekey)
{
	*ret_has_prekey = false;
	/* a write: the prekey handed out is deleted in the same transaction, so two fetches
	 * at once never get the same one */
	struct sq_conn *c = sq_write_begin(SQS(s));
	if (!c)
		return sq_write_failure();
	sqlite3_stmt *st = SQ(c, "SELECT identity_key, signed_prekey, signed_prekey_signature, "
				 "updated_ms FROM key_bundles WHERE user_id = ?");
	int r = -ERR_DB;
	if (st) {
		sqlite3_bind_int64(st, 1, user_id);
		r = sq_step(st);
		if (r == 1) {
			memset(ret, 0, sizeof *ret);
			sq_col_text(st, 0, ret->identity_key, sizeof ret->identity_key);
			sq_col_text(st, 1, ret->signed_prekey, sizeof ret->signed_prekey);
			sq_col_text(st, 2, ret->signed_prekey_signature,
				    sizeof ret->signed_prekey_signature);
			ret->updated_ms = sqlite3_column_int64(st, 3);
			r = 0;
		} else if (r == 0) {
			r = -ERR_NOT_FOUND;
		}
		sqlite3_reset(st);
	}
	int64_t id = 0;
	if (r == 0 && prekey) {
		st = SQ(c, "SELECT id, public_key FROM one_time_prekeys WHERE user_id = ? ORDER BY id "
			   "LIMIT 1");
		r = st ? (sqlite3_bind_int64(st, 1, user_id), sq_step(st)) : -ERR_DB;
		if (r == 1) {
			id = sqlite3_column_int64(st, 0);
			sq_col_text(st, 1, prekey, prekey_len);
			r = 0;
		}
		if (st)
			sqlite3_reset(st);
	}
	if (r == 0 && id) {
		st = SQ(c, "DELETE FROM one_time_prekeys WHERE id = ?");
		r = st ? (sqlite3_bind_int64(st, 1, id), sq_step(st)) : -ERR_DB;
		if (st)
			sqlite3_reset(st);
		*ret_has_prekey = r == 0;
	}
	return sq_write_end(SQS(s), c, r);
}

int sq_bundle_prekeys(struct store *s, int64_t user_id, int64_t *ret)
{
	READ_ONE(s, "SELECT count(*) FROM one_time_prekeys WHERE user_id = ?",
		 sqlite3_bind_int64(st, 1, user_id), *ret = sqlite3_column_int64(st, 0));
}
