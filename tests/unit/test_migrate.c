/* The migration runner against a real SQLite file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/migrate.h"
#include "store/store.h"
#include "util/err.h"

static char path[64];

/* The runner on an SQLite file, as the backend runs it. */
static int mig(sqlite3 *db, const struct migration *m, size_t n, int *v, char *err, size_t len)
{
	struct migrate_target t = migrate_sqlite_target(db);
	return migrate_run(&t, m, n, v, err, len);
}

static int setup(void **state)
{
	(void)state;
	snprintf(path, sizeof path, "/tmp/cairn-migrate-XXXXXX");
	int fd = mkstemp(path);
	close(fd);
	unlink(path);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char p[96];
	unlink(path);
	snprintf(p, sizeof p, "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", path);
	unlink(p);
	return 0;
}

static sqlite3 *open_db(void)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	return db;
}

static int count_rows(sqlite3 *db, const char *table)
{
	char sql[128];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_finalize(st);
	return n;
}

static const struct migration two[] = {
	{ 1, "a", "CREATE TABLE a(x INTEGER); INSERT INTO a VALUES (1);" },
	{ 2, "b", "CREATE TABLE b(y TEXT);" },
};

static void test_fresh_and_again(void **state)
{
	(void)state;
	sqlite3 *db = open_db();
	char err[256] = "";
	int v = -1;
	assert_int_equal(migrate_sqlite_target(db).version(db, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(mig(db, two, 1, &v, err, sizeof err), 0);
	assert_int_equal(v, 1);
	assert_int_equal(count_rows(db, "b"), -1);
	/* the next run applies only what is new */
	assert_int_equal(mig(db, two, 2, &v, err, sizeof err), 0);
	assert_int_equal(v, 2);
	assert_int_equal(count_rows(db, "a"), 1);
	assert_int_equal(count_rows(db, "b"), 0);
	assert_int_equal(count_rows(db, "schema_migrations"), 2);
	/* and running it again changes nothing */
	assert_int_equal(mig(db, two, 2, &v, err, sizeof err), 0);
	assert_int_equal(count_rows(db, "a"), 1);
	assert_int_equal(count_rows(db, "schema_migrations"), 2);
	sqlite3_close(db);
}

static void test_newer_database_refused(void **state)
{
	(void)state;
	sqlite3 *db = open_db();
	char err[256] = "";
	int v;
	assert_int_equal(mig(db, two, 2, &v, err, sizeof err), 0);
	assert_int_equal(mig(db, two, 1, &v, err, sizeof err), -ERR_SCHEMA_NEWER);
	assert_non_null(strstr(err, "schema version 2"));
	assert_non_null(strstr(err, "newer"));
	sqlite3_close(db);
}

static void test_failure_rolls_back(void **state)
{
	(void)state;
	static const struct migration bad[] = {
		{ 1, "a", "CREATE TABLE a(x INTEGER);" },
		{ 2, "broken", "CREATE TABLE c(z INTEGER); INSERT INTO nope VALUES (1);" },
	};
	sqlite3 *db = open_db();
	char err[256] = "";
	int v = -1;
	assert_int_equal(mig(db, bad, 2, &v, err, sizeof err), -ERR_DB);
	assert_non_null(strstr(err, "migration 2 (broken)"));
	assert_int_equal(migrate_sqlite_target(db).version(db, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(count_rows(db, "c"), -1); /* the half of migration 2 is gone */
	sqlite3_close(db);
}

static void test_bad_numbering(void **state)
{
	(void)state;
	static const struct migration gap[] = {
		{ 1, "a", "SELECT 1;" },
		{ 3, "c", "SELECT 1;" },
	};
	sqlite3 *db = open_db();
	char err[256];
	int v;
	assert_int_equal(mig(db, gap, 2, &v, err, sizeof err), -ERR_INVALID);
	sqlite3_close(db);
}

/* The real schema through the store: opens, reports its version, checks healthy. */
static void test_store_open(void **state)
{
	(void)state;
	struct store *s;
	char err[256] = "", detail[128];
	assert_int_equal(store_sqlite_open(path, 2, true, &s, err, sizeof err), 0);
	int v = 0;
	assert_int_equal(s->ops->schema_version(s, &v), 0);
	assert_int_equal((size_t)v, sqlite_migrations_count);
	assert_int_equal(s->ops->check(s, detail, sizeof detail), 0);
	/* a replaced database file is noticed */
	char moved[96];
	snprintf(moved, sizeof moved, "%s.moved", path);
	assert_int_equal(rename(path, moved), 0);
	assert_int_equal(s->ops->check(s, detail, sizeof detail), -ERR_DB);
	assert_int_equal(rename(moved, path), 0);
	assert_int_equal(s->ops->check(s, detail, sizeof detail), 0);
	store_close(s);

	/* a database from the future is refused */
	sqlite3 *db = open_db();
	assert_int_equal(sqlite3_exec(db,
				      "INSERT INTO schema_migrations VALUES (999, 'future', 'now')",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_sqlite_open(path, 1, true, &s, err, sizeof err), -ERR_SCHEMA_NEWER);
}

/* Migration 5 drops stored client_ts values that hold anything but RFC 3339's characters
 * (they were checked loosely once, and pulls copy them into pages unescaped). */
static void test_client_ts_cleaned(void **state)
{
	(void)state;
	sqlite3 *db = open_db();
	char err[256];
	int v;
	assert_int_equal(mig(db, sqlite_migrations, 4, &v, err, sizeof err), 0);
	assert_int_equal(v, 4);
	assert_int_equal(
		sqlite3_exec(db,
			     "INSERT INTO users(realm_id, username, username_key, password_hash, "
			     "created_ms) VALUES (1, 'u', 'u', 'x', 0);"
			     "INSERT INTO spaces(id, realm_id, kind, name, created_ms) VALUES "
			     "(1, 1, 0, 'me', 0);"
			     "INSERT INTO changes(space_id, seq, collection, record_id, op, op_id, "
			     "client_ts, server_ms) VALUES (1, 1, 'c', 'a', 0, 'o1', "
			     "'2026-' || char(10) || '1-01T00:00:00Z', 0), (1, 2, 'c', 'b', 0, 'o2', "
			     "'2026-01-01T00:00:00.123Z', 0), (1, 3, 'c', 'c', 0, 'o3', "
			     "' 2026-01-01T00:00:00\"Z', 0);",
			     NULL, NULL, NULL),
		SQLITE_OK);
	assert_int_equal(mig(db, sqlite_migrations, sqlite_migrations_count, &v, err,
					sizeof err),
			 0);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT seq, client_ts IS NULL FROM changes ORDER BY seq",
					    -1, &st, NULL),
			 SQLITE_OK);
	int want[] = { 1, 0, 1 };
	for (int i = 0; i < 3; i++) {
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_int_equal(sqlite3_column_int(st, 1), want[i]);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* Migration 6 moves a record's data to the end of its row and keeps every value. */
static void test_records_reordered(void **state)
{
	(void)state;
	sqlite3 *db = open_db();
	char err[256];
	int v;
	assert_int_equal(mig(db, sqlite_migrations, 5, &v, err, sizeof err), 0);
	assert_int_equal(sqlite3_exec(db,
				      "INSERT INTO users(realm_id, username, username_key, "
				      "password_hash, created_ms) VALUES (1, 'u', 'u', 'x', 0);"
				      "INSERT INTO spaces(id, realm_id, kind, name, created_ms) VALUES "
				      "(1, 1, 0, 'me', 0);"
				      "INSERT INTO records VALUES (1, 'c', 'a', 7, '{\"x\":1}', 0, "
				      "'2026-01-01T00:00:00.000Z', 42), (1, 'c', 'b', 9, NULL, 1, NULL, "
				      "43);",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(mig(db, sqlite_migrations, 6, &v, err, sizeof err), 0);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT id, version, data, deleted, client_ts, updated_ms "
					    "FROM records ORDER BY id",
					    -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "a");
	assert_int_equal(sqlite3_column_int(st, 1), 7);
	assert_string_equal((const char *)sqlite3_column_text(st, 2), "{\"x\":1}");
	assert_int_equal(sqlite3_column_int(st, 3), 0);
	assert_string_equal((const char *)sqlite3_column_text(st, 4), "2026-01-01T00:00:00.000Z");
	assert_int_equal(sqlite3_column_int(st, 5), 42);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_type(st, 2), SQLITE_NULL);
	assert_int_equal(sqlite3_column_int(st, 3), 1);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	/* data is the last column now */
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT * FROM records", -1, &st, NULL), SQLITE_OK);
	assert_string_equal(sqlite3_column_name(st, sqlite3_column_count(st) - 1), "data");
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static int history_cb(void *arg, const struct change_row *c)
{
	int64_t *seqs = arg;
	for (int i = 0; i < 4; i++)
		if (!seqs[i]) {
			seqs[i] = c->seq;
			break;
		}
	return 0;
}

/* Migration 9 gives records an integer rid, the change log the rid of its record, and op
 * results a 64-bit key of the op id; what was stored is found as before, through the
 * store's own reads and push primitives. */
static void test_narrow_keys(void **state)
{
	(void)state;
	sqlite3 *db = open_db();
	char err[256];
	int v;
	assert_int_equal(mig(db, sqlite_migrations, 8, &v, err, sizeof err), 0);
	assert_int_equal(
		sqlite3_exec(db,
			     "INSERT INTO users(realm_id, username, username_key, password_hash, "
			     "created_ms) VALUES (1, 'u', 'u', 'x', 0);"
			     "INSERT INTO spaces(id, realm_id, kind, name, created_ms, head_seq) "
			     "VALUES (1, 1, 0, 'me', 0, 3), (2, 1, 1, 'other', 0, 1);"
			     "INSERT INTO changes(space_id, seq, collection, record_id, op, data, "
			     "op_id, server_ms) VALUES (1, 1, 'c', 'a', 0, '{\"v\":1}', 'o1', 0), "
			     "(1, 2, 'c', 'b', 0, '{}', 'o2', 0), (1, 3, 'c', 'a', 0, '{\"v\":2}', "
			     "'o3', 0), (2, 1, 'c', 'a', 0, '{}', 'o4', 0);"
			     "INSERT INTO records(space_id, collection, id, version, data, deleted, "
			     "updated_ms) VALUES (1, 'c', 'a', 3, '{\"v\":2}', 0, 5), (1, 'c', 'b', "
			     "2, '{}', 0, 5), (2, 'c', 'a', 1, '{}', 0, 5);"
			     "INSERT INTO ops(device_id, op_id, space_id, status, seq, version) VALUES "
			     "(7, 'o1', 1, 0, 1, 1), (7, 'o3', 1, 0, 3, 3), (8, 'o1', 2, 1, 0, 9);",
			     NULL, NULL, NULL),
		SQLITE_OK);
	sqlite3_close(db);

	struct store *s;
	assert_int_equal(store_sqlite_open(path, 2, true, &s, err, sizeof err), 0);
	/* a record's history is its own, not another space's record of the same id */
	int64_t seqs[4] = { 0 };
	assert_int_equal(s->ops->changes->record_history(s, 1, "c", "a", history_cb, seqs), 0);
	assert_int_equal(seqs[0], 3);
	assert_int_equal(seqs[1], 1);
	assert_int_equal(seqs[2], 0);
	struct record rec;
	assert_int_equal(s->ops->changes->record_get(s, 1, "c", "a", &rec), 0);
	assert_int_equal(rec.version, 3);
	assert_string_equal(rec.data, "{\"v\":2}");
	free(rec.data);
	/* op results answer by device and op id, as before */
	void *txn;
	assert_int_equal(s->ops->push->push_begin(s, &txn), 0);
	struct op_result res;
	assert_int_equal(s->ops->push->push_op_get(txn, 7, "o3", &res), 0);
	assert_int_equal(res.seq, 3);
	assert_int_equal(s->ops->push->push_op_get(txn, 8, "o1", &res), 0);
	assert_int_equal(res.status, 1);
	assert_int_equal(res.version, 9);
	assert_int_equal(s->ops->push->push_op_get(txn, 7, "o2", &res), -ERR_NOT_FOUND);
	assert_int_equal(s->ops->push->push_op_get(txn, 8, "o3", &res), -ERR_NOT_FOUND);
	/* a new change of a migrated record joins its history */
	struct change_in in = { .collection = "c", .record_id = "a", .op_id = "o5",
				.op = OP_PUT, .data = "{\"v\":3}", .record_data = "{\"v\":3}" };
	int64_t seq = 0;
	assert_int_equal(s->ops->push->push_append(txn, 1, &in, 10, &seq), 0);
	assert_int_equal(seq, 4);
	assert_int_equal(s->ops->push->push_end(s, txn, 0), 0);
	memset(seqs, 0, sizeof seqs);
	assert_int_equal(s->ops->changes->record_history(s, 1, "c", "a", history_cb, seqs), 0);
	assert_int_equal(seqs[0], 4);
	assert_int_equal(seqs[1], 3);
	assert_int_equal(seqs[2], 1);
	store_close(s);
}

static int count_cb(void *arg, const char *coll, const char *id, const struct record *r)
{
	(void)coll;
	(void)id;
	if (r)
		++*(int *)arg;
	return 0;
}

/* Migration 11: a patch that is its record's last change gets the record as its state,
 * an older one keeps none; a space pruned before (under the old rule) gets a snapshot
 * floor at its head, one never pruned none. */
static void test_snapshot_floors(void **state)
{
	(void)state;
	sqlite3 *db = open_db();
	char err[256];
	int v;
	assert_int_equal(mig(db, sqlite_migrations, 10, &v, err, sizeof err), 0);
	assert_int_equal(
		sqlite3_exec(db,
			     "INSERT INTO users(realm_id, username, username_key, password_hash, "
			     "created_ms) VALUES (1, 'u', 'u', 'x', 0);"
			     "INSERT INTO spaces(id, realm_id, kind, name, created_ms, head_seq, "
			     "horizon_seq) VALUES (1, 1, 0, 'me', 0, 3, 1), (2, 1, 1, 'o', 0, 2, 0);"
			     "INSERT INTO records(rid, space_id, collection, id, version, data, "
			     "deleted, updated_ms) VALUES (1, 1, 'c', 'a', 3, '{\"v\":1,\"w\":2}', "
			     "0, 5), (2, 2, 'c', 'b', 2, '{\"v\":3}', 0, 5);"
			     "INSERT INTO changes(space_id, seq, collection, record_id, op, data, "
			     "op_id, server_ms, rid) VALUES (1, 2, 'c', 'a', 1, '{\"w\":1}', 'o1', 0, "
			     "1), (1, 3, 'c', 'a', 1, '{\"w\":2}', 'o2', 0, 1), (2, 1, 'c', 'b', 0, "
			     "'{\"v\":1}', 'o3', 0, 2), (2, 2, 'c', 'b', 1, '{\"v\":3}', 'o4', 0, 2);",
			     NULL, NULL, NULL),
		SQLITE_OK);
	assert_int_equal(mig(db, sqlite_migrations, sqlite_migrations_count, &v, err, sizeof err),
			 0);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT space_id, seq, state FROM changes WHERE op = 1 "
					    "ORDER BY space_id, seq",
					    -1, &st, NULL),
			 SQLITE_OK);
	const char *want[] = { NULL, "{\"v\":1,\"w\":2}", "{\"v\":3}" };
	for (int i = 0; i < 3; i++) {
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		const char *got = (const char *)sqlite3_column_text(st, 2);
		if (want[i])
			assert_string_equal(got, want[i]);
		else
			assert_null(got);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);

	struct store *s;
	assert_int_equal(store_sqlite_open(path, 2, true, &s, err, sizeof err), 0);
	int64_t head, horizon;
	int n = 0;
	/* the pruned space: snapshots start at its head */
	assert_int_equal(s->ops->changes->records_list(s, 1, NULL, NULL, NULL, 10, 2, count_cb,
						      &n, &head, &horizon),
			 0);
	assert_int_equal(head, 3);
	assert_int_equal(horizon, 3);
	assert_int_equal(n, 0);
	/* the other: any snapshot, and its old patch reads from its state */
	assert_int_equal(s->ops->changes->records_list(s, 2, NULL, NULL, NULL, 10, 1, count_cb,
						      &n, &head, &horizon),
			 0);
	assert_int_equal(horizon, 0);
	assert_int_equal(n, 1);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fresh_and_again, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_database_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_rolls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_numbering, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_ts_cleaned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_records_reordered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_narrow_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_floors, setup, teardown),
	};
	return cmocka_run_group_tests_name("migrate", tests, NULL, NULL);
}
