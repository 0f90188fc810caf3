/* The SQLite backend's spaces: spaces, members and roles, collections' policies, wrapped
 * keys. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/err.h"
#include "sqlite_int.h"

#define SPACE_COLS "sp.id, sp.realm_id, sp.kind, sp.name, coalesce(sp.owner_id, 0), " \
		   "sp.head_seq, sp.key_epoch, sp.horizon_seq, sp.created_ms, sp.epoch"
#define SPACE_NCOLS 10 /* the columns above: whatever follows them starts here */

static void row_space(sqlite3_stmt *st, int c, struct space *sp)
{
	sp->id = sqlite3_column_int64(st, c);
	sp->realm_id = sqlite3_column_int64(st, c + 1);
	sp->kind = (enum space_kind)sqlite3_column_int(st, c + 2);
	sq_col_text(st, c + 3, sp->name, sizeof sp->name);
	sp->owner_id = sqlite3_column_int64(st, c + 4);
	sp->head_seq = sqlite3_column_int64(st, c + 5);
	sp->key_epoch = sqlite3_column_int64(st, c + 6);
	sp->horizon_seq = sqlite3_column_int64(st, c + 7);
	sp->created_ms = sqlite3_column_int64(st, c + 8);
	sq_col_text(st, c + 9, sp->epoch, sizeof sp->epoch);
	/* it goes into responses unescaped: hex only, whatever the file holds */
	for (char *q = sp->epoch; *q; q++)
		if (!strchr("0123456789abcdef", *q))
			*q = '0';
	sp->role = ROLE_NONE;
}

int sq_space_get(struct store *s, int64_t id, struct space *ret)
{
	READ_ONE(s, "SELECT " SPACE_COLS " FROM spaces sp WHERE sp.id = ?",
		 sqlite3_bind_int64(st, 1, id), row_space(st, 0, ret));
}

int sq_space_epochs_renew(struct store *s, int64_t *ret_n)
{
	struct sq_conn *c = sq_write_begin(SQS(s));
	if (!c)
		return sq_write_failure();
	/* randomblob is drawn again for every row (SQLite seeds it from the system) */
	sqlite3_stmt *st = SQ(c, "UPDATE spaces SET epoch = lower(hex(randomblob(8)))");
	int r = st ? sq_step(st) : -ERR_DB;
	*ret_n = r == 0 ? sqlite3_changes(c->db) : 0;
	return sq_write_end(SQS(s), c, r);
}

int sq_space_private(struct store *s, int64_t user_id, int64_t realm_id, int64_t now_ms,
		     struct space *ret)
{
	struct sq_conn *c = sq_read_begin(SQS(s));
	sqlite3_stmt *st = SQ(c, "SELECT " SPACE_COLS " FROM spaces sp WHERE sp.owner_id = ? AND "
				 "sp.kind = 0");
	int r = -ERR_DB;
	if (st) {
		sqlite3_bind_int64(st, 1, user_id);
		r = sq_step(st);
		if (r == 1)
			row_space(st, 0, ret);
	}
	sq_read_end(SQS(s), c);
	if (r == 1) {
		ret->role = ROLE_OWNER;
		return 0;
	}
	if (r < 0)
		return r;
	/* First use: create it, with its owner as member, unless a racing request did. */
	c = sq_write_begin(SQS(s));
	if (!c)
		return sq_write_failure();
	st = SQ(c, "INSERT INTO spaces(realm_id, kind, owner_id, created_ms) VALUES (?, 0, ?, ?) "
		   "ON CONFLICT DO NOTHING");
	r = -ERR_DB;
	if (st) {
		sqlite3_bind_int64(st, 1, realm_id);
		sqlite3_bind_int64(st, 2, user_id);
		sqlite3_bind_int64(st, 3, now_ms);
		r = sq_step(st);
	}
	if (r == 0 && sqlite3_changes(c->db) == 1) {
		int64_t id = sqlite3_last_insert_rowid(c->db);
		st = SQ(c, "INSERT INTO members(space_id, user_id, role, added_ms) VALUES (?, ?, 0, ?)");
		r = st ? (sqlite3_bind_int64(st, 1, id), sqlite3_bind_int64(st, 2, user_id),
			  sqlite3_bind_int64(st, 3, now_ms), sq_step(st))
		       : -ERR_DB;
	}
	r = sq_write_end(SQS(s), c, r);
	if (r < 0)
		return r;
	return sq_space_private(s, user_id, realm_id, now_ms, ret);
}

int sq_space_create(struct store *s, struct space *sp, int64_t owner_id, int64_t now_ms)
{
	struct sq_conn *c = sq_write_begin(SQS(s));
	if (!c)
		return sq_write_failure();
	sqlite3_stmt *st = SQ(c, "INSERT INTO spaces(realm_id, kind, name, created_ms) VALUES "
				 "(?, ?, ?, ?)");
	int r = -ERR_DB;
	if (st) {
		sqlite3_bind_int64(st, 1, sp->realm_id);
		sqlite3_bind_int(st, 2, sp->kind);
		sqlite3_bind_text(st, 3, sp->name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, now_ms);
		r = sq_step(st);
	}
	if (r == 0) {
		sp->id = sqlite3_last_insert_rowid(c->db);
		sp->created_ms = now_ms;
		st = SQ(c, "INSERT INTO members(space_id, user_id, role, added_ms) VALUES (?, ?, 0, ?)");
		r = st ? (sqlite3_bind_int64(st, 1, sp->id), sqlite3_bind_int64(st, 2, owner_id),
			  sqlite3_bind_int64(st, 3, now_ms), sq_step(st))
		       : -ERR_DB;
	}
	if (r == 0) {
		/* the epoch the trigger gave it */
		st = SQ(c, "SELECT epoch FROM spaces WHERE id = ?");
		r = st ? (sqlite3_bind_int64(st, 1, sp->id), sq_step(st)) : -ERR_DB;
		if (r == 1) {
			sq_col_text(st, 0, sp->epoch, sizeof sp->epoch);
			r = 0;
		} else if (r == 0) {
			r = -ERR_DB;
		}
		if (st)
			sqlite3_reset(st);
	}
	return sq_write_end(SQS(s), c, r);
}

int sq_space_for_app(struct store *s, int64_t user_id, int64_t realm_id, const char *app,
		     int64_t now_ms, struct space *ret, bool *ret_created)
{
	*ret_created = false;
	/* found, the user still its member: a read is enough (the common case) */
	struct sq_conn *rc = sq_read_begin(SQS(s));
	sqlite3_stmt *q = SQ(rc, "SELECT sp.id, sp.realm_id, sp.kind, sp.name, sp.head_seq, "
				 "sp.horizon_seq, sp.epoch, sp.created_ms, m.role FROM app_spaces a "
				 "JOIN spaces sp ON sp.id = a.space_id JOIN members m ON m.space_id = "
				 "a.space_id AND m.user_id = a.user_id WHERE a.user_id = ? AND a.app = ?");
	int found = -ERR_DB;
	if (q) {
		sqlite3_bind_int64(q, 1, user_id);
		sqlite3_bind_text(q, 2, app, -1, SQLITE_STATIC);
		found = sq_step(q);
		if (found == 1) {
			memset(ret, 0, sizeof *ret);
			ret->id = sqlite3_column_int64(q, 0);
			ret->realm_id = sqlite3_column_int64(q, 1);
			ret->kind = (enum space_kind)sqlite3_column_int(q, 2);
			sq_col_text(q, 3, ret->name, sizeof ret->name);
			ret->head_seq = sqlite3_column_int64(q, 4);
			ret->horizon_seq = sqlite3_column_int64(q, 5);
			sq_col_text(q, 6, ret->epoch, sizeof ret->epoch);
			ret->created_ms = sqlite3_column_int64(q, 7);
			ret->role = (enum role)sqlite3_column_int(q, 8);
		}
	}
	sq_read_end(SQS(s), rc);
	if (found == 1)
		return 0;
	struct sq_conn *c = sq_write_begin(SQS(s));
	if (!c)
		return sq_write_failure();
	/* the app's space, with the user's role in it (none: they left it) */
	sqlite3_stmt *st = SQ(c, "SELECT a.space_id, m.role FROM app_spaces a LEFT JOIN members m "
				 "ON m.space_id = a.space_id AND m.user_id = a.user_id WHERE "
				 "a.user_id = ? AND a.app = ?");
	int r = -ERR_DB;
	int64_t id = 0;
	int role = -1;
	if (st) {
		sqlite3_bind_int64(st, 1, user_id);
		sqlite3_bind_text(st, 2, app, -1, SQLITE_STATIC);
		r = sq_step(st);
		if (r == 1) {
			id = sqlite3_column_int64(st, 0);
			role = sqlite3_column_type(st, 1) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 1);
			r = 0;
		}
		sqlite3_reset(st);
	}
	if (r == 0 && role < 0) { /* none yet, or left: a new one */
		st = SQ(c, "INSERT INTO spaces(realm_id, kind, name, created_ms) VALUES (?, ?, ?, ?)");
		r = st ? (sqlite3_bind_int64(st, 1, realm_id), sqlite3_bind_int(st, 2, SPACE_SHARED),
			  sqlite3_bind_text(st, 3, app, -1, SQLITE_STATIC),
			  sqlite3_bind_int64(st, 4, now_ms), sq_step(st))
		       : -ERR_DB;
		if (st)
			sqlite3_reset(st);
		id = sqlite3_last_insert_rowid(c->db);
		if (r == 0) {
			st = SQ(c, "INSERT INTO members(space_id, user_id, role, added_ms) VALUES "
				   "(?, ?, 0, ?)");
			r = st ? (sqlite3_bind_int64(st, 1, id), sqlite3_bind_int64(st, 2, user_id),
				  sqlite3_bind_int64(st, 3, now_ms), sq_step(st))
			       : -ERR_DB;
			if (st)
				sqlite3_reset(st);
		}
		if (r == 0) {
			st = SQ(c, "INSERT OR REPLACE INTO app_spaces(user_id, app, space_id) VALUES "
				   "(?, ?, ?)");
			r = st ? (sqlite3_bind_int64(st, 1, user_id),
				  sqlite3_bind_text(st, 2, app, -1, SQLITE_STATIC),
				  sqlite3_bind_int64(st, 3, id), sq_step(st))
			       : -ERR_DB;
			if (st)
				sqlite3_reset(st);
		}
		role = ROLE_OWNER;
		*ret_created = r == 0;
	}
	if (r == 0) {
		st = SQ(c, "SELECT realm_id, kind, name, head_seq, horizon_seq, epoch, created_ms FROM "
			   "spaces WHERE id = ?");
		r = st ? (sqlite3_bind_int64(st, 1, id), sq_step(st)) : -ERR_DB;
		if (r == 1) {
			memset(ret, 0, sizeof *ret);
			ret->id = id;
			ret->realm_id = sqlite3_column_int64(st, 0);
			ret->kind = (enum space_kind)sqlite3_column_int(st, 1);
			sq_col_text(st, 2, ret->name, sizeof ret->name);
			ret->head_seq = sqlite3_column_int64(st, 3);
			ret->horizon_seq = sqlite3_column_int64(st, 4);
			sq_col_text(st, 5, ret->epoch, sizeof ret->epoch);
			ret->created_ms = sqlite3_column_int64(st, 6);
			ret->role = (enum role)role;
			r = 0;
		} else if (r == 0) {
			r = -ERR_DB;
		}
		if (st)
			sqlite3_reset(st);
	}
	if (r < 0)
		*ret_created = false;
	return sq_write_end(SQS(s), c, r);
}

int sq_space_rename(struct store *s, int64_t id, const char *name)
{
	WRITE_ONE(s, "UPDATE spaces SET name = ? WHERE id = ?",
		  (sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC), sqlite3_bind_int64(st, 2, id)),
		  1);
}

int sq_space_delete(struct store *s, int64_t id)
{
	WRITE_ONE(s, "DELETE FROM spaces WHERE id = ?", sqlite3_bind_int64(st, 1, id), 1);
}

int sq_space_list(struct store *s, int64_t user_id, int (*cb)(void *, const struct space *),
		  void *arg)
{
	struct sq_conn *c = sq_read_begin(SQS(s));
	sqlite3_stmt *st = SQ(c, "SELECT " SPACE_COLS ", m.role FROM members m JOIN spaces sp ON "
				 "sp.id = m.space_id WHERE m.user_id = ? ORDER BY sp.id");
	int r = -ERR_DB;
	if (st) {
		sqlite3_bind_int64(st, 1, user_id);
		while ((r = sq_step(st)) == 1) {
			struct space sp;
			row_space(st, 0, &sp);
			sp.role = (enum role)sqlite3_column_int(st, SPACE_NCOLS);
			if (cb(arg, &sp) < 0)
				break;
		}
	}
	sq_read_end(SQS(s), c);
	return r < 0 ? r : 0;
}

int sq_member_role(struct store *s, int64_t space_id, int64_t user_id, enum role *ret)
{
	READ_ONE(s, "SELECT role FROM members WHERE space_id = ? AND user_id = ?",
		 (sqlite3_bind_int64(st, 1, space_id), sqlite3_bind_int64(st, 2, user_id)),
		 *ret = (enum role)sqlite3_column_int(st, 0));
}

int sq_member_list(struct store *s, int64_t space_id, int (*cb)(void *, const struct member *),
		   void *arg)
{
	struct sq_conn *c = sq_read_begin(SQS(s));
	sqlite3_stmt *st = SQ(c, "SELECT m.user_id, u.username, m.role, m.key_epoch, m.added_ms "
				 "FROM members m JOIN users u ON u.id = m.user_id WHERE "
				 "m.space_id = ? ORDER BY m.role, u.username_key");
	int r = -ERR_DB;
	if (st) {
		sqlite3_bind_int64(st, 1, space_id);
		while ((r = sq_step(st)) == 1) {
			struct member m;
			m.user_id = sqlite3_column_int64(st, 0);
			sq_col_text(st, 1, m.username, sizeof m.username);
			m.role = (enum role)sqlite3_column_int(st, 2);
			m.key_epoch = sqlite3_column_int64(st, 3);
			m.added_ms = sqlite3_column_int64(st, 4);
			if (cb(arg, &m) < 0)
				break;
		}
	}
	sq_read_end(SQS(s), c);
	return r < 0 ? r : 0;
}

/* Inside a write: -ERR_CONFLICT when user_id is an owner of the space and no other member
 * is, so that taking the role away would leave the space without one. */
static int keeps_an_owner(struct sq_conn *c, int64_t space_id, int64_t user_id)
{
	sqlite3_stmt *st = SQ(c, "SELECT EXISTS (SELECT 1 FROM members WHERE space_id = ?1 AND "
				 "user_id = ?2 AND role = 0) AND NOT EXISTS (SELECT 1 FROM members "
				 "WHERE space_id = ?1 AND user_id != ?2 AND role = 0)");
	if (!st)
		return -ERR_DB;
	sqlite3_bind_int64(st, 1, space_id);
	sqlite3_bind_int64(st, 2, user_id);
	int r = sq_step(st);
	bool last = r == 1 && sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	return r < 0 ? r : last ? -ERR_CONFLICT : 0;
}

int sq_member_add(struct store *s, int64_t space_id, int64_t user_id, enum role role,
		  int64_t now_ms)
{
	/* a unique conflict is -ERR_EXISTS, a space or user deleted meanwhile -ERR_NOT_FOUND
	 * (sq_step) */
	WRITE_ONE(s, "INSERT INTO members(space_id, user_id, role, added_ms) VALUES (?, ?, ?, ?)",
		  (sqlite3_bind_int64(st, 1, space_id), sqlite3_bind_int64(st, 2, user_id),
		   sqlite3_bind_int(st, 3, role), sqlite3_bind_int64(st, 4, now_ms)),
		  0);
}

int sq_member_set_role(struct store *s, int64_t space_id, int64_t user_id, enum role role)
{
	struct sq_conn *c = sq_write_begin(SQS(s));
	if (!c)
		return sq_write_failure();
	int r = role == ROLE_OWNER ? 0 : keeps_an_owner(c, space_id, user_id);
	if (r == 0) {
		sqlite3_stmt *st = SQ(c, "UPDATE members SET role = ? WHERE space_id = ? AND "
					 "user_id = ?");
		r = st ? (sqlite3_bind_int(st, 1, role), sqlite3_bind_int64(st, 2, space_id),
			  sqlite3_bind_int64(st, 3, user_id), sq_step(st))
		       : -ERR_DB;
		if (r == 0 && sqlite3_changes(c->db) == 0)
			r = -ERR_NOT_FOUND;
	}
	return sq_write_end(SQS(s), c, r);
}

int sq_member_delete(struct store *s, int64_t space_id, int64_t user_id)
{
	struct sq_conn *c = sq_write_begin(SQS(s));
	if (!c)
		return sq_write_failure();
	int r = keeps_an_owner(c, space_id, user_id);
	if (r == 0) {
		sqlite3_stmt *st = SQ(c, "DELETE FROM members WHERE space_id = ? AND user_id = ?");
		r = st ? (sqlite3_bind_int64(st, 1, space_id), sqlite3_bind_int64(st, 2, user_id),
			  sq_step(st))
		       : -ERR_DB;
		if (r == 0 && sqlite3_changes(c->db) == 0)
			r = -ERR_NOT_FOUND;
	}
	return sq_write_end(SQS(s), c, r);
}

int sq_collection_set(struct store *s, int64_t space_id, const char *name, enum policy p)
{
	WRITE_ONE(s,
		  "INSERT INTO collections(space_id, name, policy) VALUES (?, ?, ?) "
		  "ON CONFLICT (space_id, name) DO UPDATE SET policy = excluded.policy",
		  (sqlite3_bind_int64(st, 1, space_id), sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC),
		   sqlite3_bind_int(st, 3, p)),
		  0);
}

int sq_keys_put(struct store *s, int64_t space_id, int64_t epoch, const int64_t *user_ids,
		const char *const *keys, int n)
{
	struct sq_conn *c = sq_write_begin(SQS(s));
	if (!c)
		return sq_write_failure();
	int r = -ERR_DB;
	/* the epoch moves forward, and the keys are for exactly the members */
	sqlite3_stmt *st = SQ(c, "SELECT sp.key_epoch, (SELECT count(*) FROM members WHERE "
				 "space_id = sp.id) FROM spaces sp WHERE sp.id = ?");
	if (st) {
		sqlite3_bind_int64(st, 1, space_id);
		r = sq_step(st);
		if (r == 1)
			r = (epoch > sqlite3_column_int64(st, 0) && sqlite3_column_int64(st, 1) == n)
				    ? 0
				    : -ERR_CONFLICT;
		else if (r == 0)
			r = -ERR_NOT_FOUND;
		sqlite3_reset(st);
	}
	for (int i = 0; r == 0 && i < n; i++) {
		st = SQ(c, "UPDATE members SET wrapped_key = ?, key_epoch = ? WHERE space_id = ? "
			   "AND user_id = ?");
		r = -ERR_DB;
		if (st) {
			sqlite3_bind_text(st, 1, keys[i], -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, epoch);
			sqlite3_bind_int64(st, 3, space_id);
			sqlite3_bind_int64(st, 4, user_ids[i]);
			r = sq_step(st);
			if (r == 0 && sqlite3_changes(c->db) != 1)
				r = -ERR_CONFLICT; /* not a member (or named twice) */
			sqlite3_reset(st);
		}
	}
	if (r == 0) {
		st = SQ(c, "UPDATE spaces SET key_epoch = ? WHERE id = ?");
		r = st ? (sqlite3_bind_int64(st, 1, epoch), sqlite3_bind_int64(st, 2, space_id),
			  sq_step(st))
		       : -ERR_DB;
	}
	return sq_write_end(SQS(s), c, r);
}

int sq_key_get(struct store *s, int64_t space_id, int64_t user_id, int64_t *ret_epoch,
	       char **ret_key)
{
	READ_ONE(s,
		 "SELECT key_epoch, wrapped_key FROM members WHERE space_id = ? AND user_id = ? "
		 "AND wrapped_key IS NOT NULL",
		 (sqlite3_bind_int64(st, 1, space_id), sqlite3_bind_int64(st, 2, user_id)), {
			 *ret_epoch = sqlite3_column_int64(st, 0);
			 *ret_key = strdup((const char *)sqlite3_column_text(st, 1));
			 if (!*ret_key)
				 r_ = -ERR_NOMEM;
		 });
}
