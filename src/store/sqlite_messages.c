/* Messages in SQLite: direct spaces by pair, message rows, conversations, blocks. See
 * store.h (store_messages_ops) and docs/architecture.md (Messages). */
#include <stdlib.h>
#include <string.h>

#include "../util/err.h"
#include "sqlite_int.h"

/* Runs sql with ?1 = a and ?2 = b: a macro, so that every use is a call site of its own
 * (SQ keeps one prepared statement per call site). */
#define EXEC2(c, sql, a, b)                                                  \
	({                                                                   \
		sqlite3_stmt *st_ = SQ((c), (sql));                          \
		int r_ = -ERR_DB;                                            \
		if (st_) {                                                   \
			sqlite3_bind_int64(st_, 1, (a));                     \
			sqlite3_bind_int64(st_, 2, (b));                     \
			r_ = sq_step(st_);                                   \
			sqlite3_reset(st_);                                  \
		}                                                            \
		r_;                                                          \
	})

static int read_space(struct sq_conn *c, int64_t id, struct space *ret)
{
	sqlite3_stmt *st = SQ(c, "SELECT realm_id, kind, name, head_seq, horizon_seq, epoch, "
				 "created_ms FROM spaces WHERE id = ?");
	if (!st)
		return -ERR_DB;
	sqlite3_bind_int64(st, 1, id);
	int r = sq_step(st);
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
		ret->role = ROLE_WRITER;
	}
	sqlite3_reset(st);
	return r == 1 ? 0 : r < 0 ? r : -ERR_NOT_FOUND;
}

int sq_direct_space(struct store *s, int64_t realm_id, int64_t a, int64_t b, int64_t now_ms,
		    struct space *ret, bool *ret_created)
{
	int64_t lo = a < b ? a : b, hi = a < b ? b : a;
	*ret_created = false;
	struct sq_conn *c = sq_write_begin(SQS(s));
	if (!c)
		return sq_write_failure();
	sqlite3_stmt *st = SQ(c, "SELECT space_id FROM direct_pairs WHERE user_lo = ? AND "
				 "user_hi = ?");
	int r = -ERR_DB;
	int64_t id = 0;
	if (st) {
		sqlite3_bind_int64(st, 1, lo);
		sqlite3_bind_int64(st, 2, hi);
		r = sq_step(st);
		if (r == 1)
			id = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
	}
	if (r == 0) { /* the first message between them: the space, its members, the pair */
		st = SQ(c, "INSERT INTO spaces(realm_id, kind, name, created_ms) VALUES (?, ?, "
			   "'direct', ?)");
		r = st ? (sqlite3_bind_int64(st, 1, realm_id), sqlite3_bind_int(st, 2, SPACE_DIRECT),
			  sqlite3_bind_int64(st, 3, now_ms), sq_step(st))
		       : -ERR_DB;
		if (st)
			sqlite3_reset(st);
		id = sqlite3_last_insert_rowid(c->db);
		for (int k = 0; r == 0 && k < (lo == hi ? 1 : 2); k++) {
			int64_t u = k ? hi : lo, other = k ? lo : hi;
			st = SQ(c, "INSERT INTO members(space_id, user_id, role, added_ms) VALUES "
				   "(?, ?, ?, ?)");
			r = st ? (sqlite3_bind_int64(st, 1, id), sqlite3_bind_int64(st, 2, u),
				  sqlite3_bind_int(st, 3, ROLE_WRITER), sqlite3_bind_int64(st, 4, now_ms),
				  sq_step(st))
			       : -ERR_DB;
			if (st)
				sqlite3_reset(st);
			if (r == 0) {
				st = SQ(c, "INSERT INTO conversations(user_id, space_id, other_id, "
					   "last_ms) VALUES (?, ?, ?, ?)");
				r = st ? (sqlite3_bind_int64(st, 1, u), sqlite3_bind_int64(st, 2, id),
					  sqlite3_bind_int64(st, 3, other),
					  sqlite3_bind_int64(st, 4, now_ms), sq_step(st))
				       : -ERR_DB;
				if (st)
					sqlite3_reset(st);
			}
		}
		if (r == 0)
			r = EXEC2(c, "INSERT INTO collections(space_id, name, policy) VALUES (?, "
					  "'messages', ?)",
				       id, POLICY_APPEND);
		if (r == 0) {
			st = SQ(c, "INSERT INTO direct_pairs(user_lo, user_hi, space_id) VALUES (?, ?, ?)");
			r = st ? (sqlite3_bind_int64(st, 1, lo), sqlite3_bind_int64(st, 2, hi),
				  sqlite3_bind_int64(st, 3, id), sq_step(st))
			       : -ERR_DB;
			if (st)
				sqlite3_reset(st);
		}
		*ret_created = r == 0;
	} else if (r == 1) {
		r = 0;
	}
	if (r == 0)
		r = read_space(c, id, ret);
	return sq_write_end(SQS(s), c, r);
}

int sq_push_blocked(void *txn, int64_t recipient_id, int64_t sender_id)
{
	return EXEC2(sq_txn_conn(txn),
			  "SELECT 1 FROM blocks WHERE user_id = ? AND blocked_id = ?", recipient_id,
			  sender_id);
}

int sq_blocked(struct store *s, int64_t recipient_id, int64_t sender_id)
{
	struct sq_conn *c = sq_read_begin(SQS(s));
	int r = EXEC2(c, "SELECT 1 FROM blocks WHERE user_id = ? AND blocked_id = ?", recipient_id,
		      sender_id);
	sq_read_end(SQS(s), c);
	return r;
}

int sq_push_message_new(void *txn, int64_t space_id, int64_t sender_id, int64_t now_ms,
			int64_t *ret_id)
{
	struct sq_conn *c = sq_txn_conn(txn);
	sqlite3_stmt *st = SQ(c, "INSERT INTO messages(space_id, sender_id, created_ms) VALUES "
				 "(?, ?, ?)");
	if (!st)
		return -ERR_DB;
	sqlite3_bind_int64(st, 1, space_id);
	sqlite3_bind_int64(st, 2, sender_id);
	sqlite3_bind_int64(st, 3, now_ms);
	int r = sq_step(st);
	sqlite3_reset(st);
	if (r == 0)
		*ret_id = sqlite3_last_insert_rowid(c->db);
	return r;
}

int sq_push_message_done(void *txn, int64_t id, int64_t space_id, int64_t seq,
			 int64_t sender_id, int64_t now_ms)
{
	struct sq_conn *c = sq_txn_conn(txn);
	int r = EXEC2(c, "UPDATE messages SET seq = ?2 WHERE id = ?1", id, seq);
	sqlite3_stmt *st = r == 0 ? SQ(c, "UPDATE conversations SET last_message_id = ?1, "
					  "last_seq = ?2, last_ms = ?3, unread = unread + "
					  "(user_id != ?4) WHERE space_id = ?5")
				  : NULL;
	if (r == 0 && !st)
		r = -ERR_DB;
	if (r == 0) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, seq);
		sqlite3_bind_int64(st, 3, now_ms);
		sqlite3_bind_int64(st, 4, sender_id);
		sqlite3_bind_int64(st, 5, space_id);
		r = sq_step(st);
		sqlite3_reset(st);
	}
	return r;
}

#define CONV_COLS "space_id, other_id, last_message_id, last_seq, last_ms, read_seq, unread"

static void conv_row(sqlite3_stmt *st, struct conversation *cv)
{
	cv->space_id = sqlite3_column_int64(st, 0);
	cv->other_id = sqlite3_column_int64(st, 1);
	cv->last_message_id = sqlite3_column_int64(st, 2);
	cv->last_seq = sqlite3_column_int64(st, 3);
	cv->last_ms = sqlite3_column_int64(st, 4);
	cv->read_seq = sqlite3_column_int64(st, 5);
	cv->unread = sqlite3_column_int64(st, 6);
}

int sq_conversations_list(struct store *s, int64_t user_id, int64_t before_ms,
			  int64_t before_space, int limit,
			  int (*cb)(void *, const struct conversation *), void *arg)
{
	struct sq_conn *c = sq_read_begin(SQS(s));
	/* an index range of conversations_recent, from the cursor down */
	sqlite3_stmt *st = SQ(c, "SELECT " CONV_COLS " FROM conversations WHERE user_id = ?1 AND "
				 "(last_ms < ?2 OR (last_ms = ?2 AND space_id < ?3)) ORDER BY "
				 "last_ms DESC, space_id DESC LIMIT ?4");
	int r = -ERR_DB;
	if (st) {
		sqlite3_bind_int64(st, 1, user_id);
		sqlite3_bind_int64(st, 2, before_ms);
		sqlite3_bind_int64(st, 3, before_space ? before_space : INT64_MAX);
		sqlite3_bind_int(st, 4, limit);
		while ((r = sq_step(st)) == 1) {
			struct conversation cv;
			conv_row(st, &cv);
			if (cb(arg, &cv) < 0)
				break;
		}
		sqlite3_reset(st);
	}
	sq_read_end(SQS(s), c);
	return r < 0 ? r : 0;
}

int sq_conversation_get(struct store *s, int64_t user_id, int64_t space_id,
			struct conversation *ret)
{
	READ_ONE(s, "SELECT " CONV_COLS " FROM conversations WHERE user_id = ? AND space_id = ?",
		 (sqlite3_bind_int64(st, 1, user_id), sqlite3_bind_int64(st, 2, space_id)),
		 conv_row(st, ret));
}

int sq_conversation_read(struct store *s, int64_t user_id, int64_t space_id, int64_t seq,
			 struct conversation *ret)
{
	struct sq_conn *c = sq_write_begin(SQS(s));
	if (!c)
		return sq_write_failure();
	sqlite3_stmt *st = SQ(c, "UPDATE conversations SET read_seq = max(read_seq, ?3), unread = "
				 "(SELECT count(*) FROM messages m WHERE m.space_id = ?2 AND m.seq > "
				 "max(conversations.read_seq, ?3) AND m.sender_id != ?1 AND m.deleted = "
				 "0 AND m.seq > 0) WHERE user_id = ?1 AND space_id = ?2");
	int r = -ERR_DB;
	if (st) {
		sqlite3_bind_int64(st, 1, user_id);
		sqlite3_bind_int64(st, 2, space_id);
		sqlite3_bind_int64(st, 3, seq);
		r = sq_step(st);
		if (r == 0 && sqlite3_changes(c->db) == 0)
			r = -ERR_NOT_FOUND;
		sqlite3_reset(st);
	}
	if (r == 0) {
		st = SQ(c, "SELECT " CONV_COLS " FROM conversations WHERE user_id = ? AND space_id = ?");
		r = st ? (sqlite3_bind_int64(st, 1, user_id), sqlite3_bind_int64(st, 2, space_id),
			  sq_step(st))
		       : -ERR_DB;
		if (r == 1) {
			conv_row(st, ret);
			r = 0;
		}
		if (st)
			sqlite3_reset(st);
	}
	return sq_write_end(SQS(s), c, r);
}

int sq_conversation_read_newest(struct store *s, int64_t user_id, int64_t space_id,
				int64_t *ret_marked)
{
	*ret_marked = 0;
	struct sq_conn *c = sq_write_begin(SQS(s));
	if (!c)
		return sq_write_failure();
	int64_t before = 0;
	sqlite3_stmt *st = SQ(c, "SELECT unread FROM conversations WHERE user_id = ? AND space_id = ?");
	int r = st ? (sqlite3_bind_int64(st, 1, user_id), sqlite3_bind_int64(st, 2, space_id),
		      sq_step(st))
		   : -ERR_DB;
	if (r == 1)
		before = sqlite3_column_int64(st, 0);
	if (st)
		sqlite3_reset(st);
	r = r == 1 ? 0 : r == 0 ? -ERR_NOT_FOUND : r;
	if (r == 0)
		r = EXEC2(c, "UPDATE conversations SET read_seq = max(read_seq, last_seq), unread = "
			     "(SELECT count(*) FROM messages m WHERE m.space_id = ?2 AND m.seq > "
			     "max(conversations.read_seq, conversations.last_seq) AND m.sender_id != ?1 "
			     "AND m.deleted = 0 AND m.seq > 0) WHERE user_id = ?1 AND space_id = ?2",
			  user_id, space_id);
	int64_t after = 0;
	if (r == 0) {
		st = SQ(c, "SELECT unread FROM conversations WHERE user_id = ? AND space_id = ?");
		r = st ? (sqlite3_bind_int64(st, 1, user_id), sqlite3_bind_int64(st, 2, space_id),
			  sq_step(st))
		       : -ERR_DB;
		if (r == 1) {
			after = sqlite3_column_int64(st, 0);
			r = 0;
		}
		if (st)
			sqlite3_reset(st);
	}
	if (r == 0)
		*ret_marked = before > after ? before - after : 0;
	return sq_write_end(SQS(s), c, r);
}

int sq_push_message_delete(void *txn, int64_t id, int64_t space_id, int64_t sender_id)
{
	struct sq_conn *c = sq_txn_conn(txn);
	sqlite3_stmt *st = SQ(c, "UPDATE messages SET deleted = 1 WHERE id = ? AND space_id = ? AND "
				 "sender_id = ? AND deleted = 0 AND seq > 0");
	if (!st)
		return -ERR_DB;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, space_id);
	sqlite3_bind_int64(st, 3, sender_id);
	int r = sq_step(st);
	sqlite3_reset(st);
	if (r == 0 && sqlite3_changes(c->db) == 0)
		return -ERR_NOT_FOUND;
	if (r < 0)
		return r;
	/* the unread counts, and the newest message: the newest live one, if any */
	return EXEC2(c, "UPDATE conversations SET unread = (SELECT count(*) FROM messages m WHERE "
			"m.space_id = ?1 AND m.seq > conversations.read_seq AND m.sender_id != "
			"conversations.user_id AND m.deleted = 0 AND m.seq > 0), (last_message_id, "
			"last_seq, last_ms) = (SELECT coalesce(max(m.id), 0), coalesce(max(m.seq), "
			"0), coalesce(max(m.created_ms), conversations.last_ms) FROM (SELECT id, seq, "
			"created_ms FROM messages WHERE space_id = ?1 AND deleted = 0 AND seq > 0 "
			"ORDER BY seq DESC LIMIT 1) m) WHERE space_id = ?1 AND ?2 = ?2",
		     space_id, id);
}

int sq_messages_page(struct store *s, int64_t space_id, int64_t since, int64_t before,
		     int limit, int (*cb)(void *, const struct message_row *), void *arg)
{
	struct sq_conn *c = sq_read_begin(SQS(s));
	/* messages_seq for the range; each message's record by its key */
	sqlite3_stmt *st =
		since >= 0 ? SQ(c, "SELECT m.id, m.seq, m.sender_id, m.created_ms, m.deleted, r.data "
				   "FROM messages m LEFT JOIN records r ON r.space_id = m.space_id AND "
				   "r.collection = 'messages' AND r.id = CAST(m.id AS TEXT) WHERE "
				   "m.space_id = ?1 AND m.seq > ?2 ORDER BY m.seq LIMIT ?3")
			   : SQ(c, "SELECT m.id, m.seq, m.sender_id, m.created_ms, m.deleted, r.data "
				   "FROM messages m LEFT JOIN records r ON r.space_id = m.space_id AND "
				   "r.collection = 'messages' AND r.id = CAST(m.id AS TEXT) WHERE "
				   "m.space_id = ?1 AND m.seq > 0 AND m.seq < ?2 ORDER BY m.seq DESC "
				   "LIMIT ?3");
	int r = -ERR_DB;
	if (st) {
		sqlite3_bind_int64(st, 1, space_id);
		sqlite3_bind_int64(st, 2, since >= 0 ? since : before);
		sqlite3_bind_int(st, 3, limit);
		while ((r = sq_step(st)) == 1) {
			struct message_row m = { .id = sqlite3_column_int64(st, 0),
						 .seq = sqlite3_column_int64(st, 1),
						 .sender_id = sqlite3_column_int64(st, 2),
						 .created_ms = sqlite3_column_int64(st, 3),
						 .deleted = sqlite3_column_int(st, 4) != 0,
						 .data = (const char *)sqlite3_column_text(st, 5) };
			if (m.seq <= 0)
				continue; /* a send that did not commit leaves no row; defensive */
			if (cb(arg, &m) < 0)
				break;
		}
		sqlite3_reset(st);
	}
	sq_read_end(SQS(s), c);
	return r < 0 ? r : 0;
}

int sq_block_set(struct store *s, int64_t user_id, int64_t blocked_id, bool on, int64_t now_ms)
{
	struct sq_conn *c = sq_write_begin(SQS(s));
	if (!c)
		return sq_write_failure();
	int r;
	if (on) {
		sqlite3_stmt *st = SQ(c, "INSERT OR IGNORE INTO blocks(user_id, blocked_id, "
					 "created_ms) VALUES (?, ?, ?)");
		r = st ? (sqlite3_bind_int64(st, 1, user_id), sqlite3_bind_int64(st, 2, blocked_id),
			  sqlite3_bind_int64(st, 3, now_ms), sq_step(st))
		       : -ERR_DB;
		if (st)
			sqlite3_reset(st);
	} else {
		r = EXEC2(c, "DELETE FROM blocks WHERE user_id = ? AND blocked_id = ?", user_id,
			       blocked_id);
		if (r == 0 && sqlite3_changes(c->db) == 0)
			r = -ERR_NOT_FOUND;
	}
	return sq_write_end(SQS(s), c, r);
}

int sq_blocks_list(struct store *s, int64_t user_id,
		   int (*cb)(void *, int64_t, int64_t), void *arg)
{
	struct sq_conn *c = sq_read_begin(SQS(s));
	sqlite3_stmt *st = SQ(c, "SELECT blocked_id, created_ms FROM blocks WHERE user_id = ? "
				 "ORDER BY blocked_id");
	int r = -ERR_DB;
	if (st) {
		sqlite3_bind_int64(st, 1, user_id);
		while ((r = sq_step(st)) == 1)
			if (cb(arg, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1)) < 0)
				break;
		sqlite3_reset(st);
	}
	sq_read_end(SQS(s), c);
	return r < 0 ? r : 0;
}

int sq_direct_pair_find(struct store *s, int64_t a, int64_t b, int64_t *ret_space_id)
{
	int64_t lo = a < b ? a : b, hi = a < b ? b : a;
	READ_ONE(s, "SELECT space_id FROM direct_pairs WHERE user_lo = ? AND user_hi = ?",
		 (sqlite3_bind_int64(st, 1, lo), sqlite3_bind_int64(st, 2, hi)),
		 *ret_space_id = sqlite3_column_int64(st, 0));
}

/* A message found by messages_recent's first pass: which, where, and with whom. */
struct recent {
	int64_t id, space_id, other_id;
};

static int recent_newest_first(const void *a, const void *b)
{
	int64_t x = ((const struct recent *)a)->id, y = ((const struct recent *)b)->id;
	return x < y ? 1 : x > y ? -1 : 0;
}

/* A min-heap of the newest messages found so far, by id: v[0] is the oldest of them. */
static void heap_down(struct recent *v, int n, int i)
{
	for (;;) {
		int l = 2 * i + 1, m = i;
		if (l < n && v[l].id < v[m].id)
			m = l;
		if (l + 1 < n && v[l + 1].id < v[m].id)
			m = l + 1;
		if (m == i)
			return;
		struct recent t = v[i];
		v[i] = v[m];
		v[m] = t;
		i = m;
	}
}

static void heap_add(struct recent *v, int *n, int limit, struct recent x)
{
	if (*n < limit) { /* up from the end */
		int i = (*n)++;
		v[i] = x;
		while (i > 0 && v[(i - 1) / 2].id > v[i].id) {
			struct recent t = v[i];
			v[i] = v[(i - 1) / 2];
			v[(i - 1) / 2] = t;
			i = (i - 1) / 2;
		}
	} else { /* x replaces the oldest */
		v[0] = x;
		heap_down(v, *n, 0);
	}
}

/* The first pass: the ids of the newest `limit` live messages, into v (room for limit),
 * *ret_n of them, newest first. Conversations are visited by their newest message, newest
 * first, each read newest first through the live messages' index; since ids grow with
 * seq in a space, once `limit` are held a conversation whose newest message is older than
 * the oldest held holds nothing for the answer, nor does any after it, nor the rest of a
 * conversation once its ids fall that low. The rows read are the answer's, one more per
 * conversation visited, and those that a later conversation's newer ones push out. */
static int recent_ids(struct sq_conn *c, int64_t user_id, int64_t other_id, int limit,
		      struct recent *v, int *ret_n)
{
	sqlite3_stmt *conv = SQ(c, "SELECT space_id, other_id, last_message_id FROM conversations "
				   "WHERE user_id = ?1 AND (?2 = 0 OR other_id = ?2) AND "
				   "last_message_id > 0 ORDER BY last_message_id DESC");
	if (!conv)
		return -ERR_DB;
	sqlite3_bind_int64(conv, 1, user_id);
	sqlite3_bind_int64(conv, 2, other_id);
	int n = 0, r;
	while ((r = sq_step(conv)) == 1) {
		int64_t space = sqlite3_column_int64(conv, 0), other = sqlite3_column_int64(conv, 1);
		if (n == limit && sqlite3_column_int64(conv, 2) <= v[0].id)
			break;
		sqlite3_stmt *st = SQ(c, "SELECT id FROM messages WHERE space_id = ? AND seq > 0 AND "
					 "deleted = 0 ORDER BY seq DESC");
		if (!st) {
			r = -ERR_DB;
			break;
		}
		sqlite3_bind_int64(st, 1, space);
		while ((r = sq_step(st)) == 1) {
			int64_t id = sqlite3_column_int64(st, 0);
			if (n == limit && id <= v[0].id)
				break;
			heap_add(v, &n, limit, (struct recent){ id, space, other });
		}
		sqlite3_reset(st);
		if (r < 0)
			break;
	}
	sqlite3_reset(conv);
	if (r < 0)
		return r;
	qsort(v, (size_t)n, sizeof *v, recent_newest_first);
	*ret_n = n;
	return 0;
}

int sq_messages_recent(struct store *s, int64_t user_id, int64_t other_id, int limit,
		       int (*cb)(void *, const struct message_listed *), void *arg)
{
	if (limit <= 0)
		return 0;
	struct recent *v = malloc(sizeof *v * (size_t)limit);
	if (!v)
		return -ERR_NOMEM;
	struct sq_conn *c = sq_read_begin(SQS(s));
	int n = 0, r = sq_snapshot_begin(c);
	if (r == 0)
		r = recent_ids(c, user_id, other_id, limit, v, &n);
	/* the second pass: each one's data and names, in the answer's order */
	for (int i = 0; r == 0 && i < n; i++) {
		sqlite3_stmt *st = SQ(c, "SELECT m.seq, m.sender_id, m.created_ms, r.data, "
					 "us.username, uo.username FROM messages m LEFT JOIN records "
					 "r ON r.space_id = m.space_id AND r.collection = 'messages' "
					 "AND r.id = CAST(m.id AS TEXT) LEFT JOIN users us ON us.id = "
					 "m.sender_id LEFT JOIN users uo ON uo.id = ?2 WHERE m.id = ?1");
		if (!st) {
			r = -ERR_DB;
			break;
		}
		sqlite3_bind_int64(st, 1, v[i].id);
		sqlite3_bind_int64(st, 2, v[i].other_id);
		r = sq_step(st);
		if (r == 1) {
			struct message_listed m = {
				.m = { .id = v[i].id,
				       .seq = sqlite3_column_int64(st, 0),
				       .sender_id = sqlite3_column_int64(st, 1),
				       .created_ms = sqlite3_column_int64(st, 2),
				       .data = (const char *)sqlite3_column_text(st, 3) },
				.space_id = v[i].space_id,
				.other_id = v[i].other_id,
				.sender = (const char *)sqlite3_column_text(st, 4),
				.other = (const char *)sqlite3_column_text(st, 5),
			};
			r = cb(arg, &m) < 0 ? 1 : 0;
		}
		sqlite3_reset(st);
		if (r == 1)
			break; /* the caller has enough */
	}
	sq_snapshot_end(c);
	sq_read_end(SQS(s), c);
	free(v);
	return r < 0 ? r : 0;
}
