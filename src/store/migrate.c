#include "migrate.h"

#include <stdio.h>

#include "../util/clock.h"
#include "../util/err.h"

static const char create_table[] =
	"CREATE TABLE IF NOT EXISTS schema_migrations ("
	" version INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL,"
	" applied_at TEXT NOT NULL)";

int migrate_sqlite_version(sqlite3 *db, int *ret_version)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db,
				    "SELECT count(*) FROM sqlite_master WHERE type='table' AND "
				    "name='schema_migrations'",
				    -1, &st, NULL);
	if (rc != SQLITE_OK)
		return -ERR_DB;
	int exists = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) > 0;
	sqlite3_finalize(st);
	if (!exists) {
		*ret_version = 0;
		return 0;
	}
	if (sqlite3_prepare_v2(db, "SELECT coalesce(max(version), 0) FROM schema_migrations", -1,
			       &st, NULL) != SQLITE_OK)
		return -ERR_DB;
	int r = -ERR_DB;
	if (sqlite3_step(st) == SQLITE_ROW) {
		*ret_version = sqlite3_column_int(st, 0);
		r = 0;
	}
	sqlite3_finalize(st);
	return r;
}

static int apply_one(sqlite3 *db, const struct migration *m, char *err, size_t errlen)
{
	char *msg = NULL;
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK)
		goto fail;
	if (sqlite3_exec(db, create_table, NULL, NULL, &msg) != SQLITE_OK)
		goto rollback;
	if (sqlite3_exec(db, m->sql, NULL, NULL, &msg) != SQLITE_OK)
		goto rollback;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO schema_migrations(version, name, applied_at) "
			       "VALUES (?, ?, ?)",
			       -1, &st, NULL) != SQLITE_OK)
		goto rollback_db;
	char ts[CLOCK_RFC3339_LEN];
	clock_format_rfc3339(clock_wall_ms(), ts);
	sqlite3_bind_int(st, 1, m->version);
	sqlite3_bind_text(st, 2, m->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ts, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		goto rollback_db;
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK)
		goto rollback;
	return 0;

rollback_db:
	snprintf(err, errlen, "migration %d (%s): %s", m->version, m->name, sqlite3_errmsg(db));
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -ERR_DB;
rollback:
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
fail:
	snprintf(err, errlen, "migration %d (%s): %s", m->version, m->name,
		 msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	return -ERR_DB;
}

/* The database's schema version, refused when it is newer than the count this binary
 * knows. */
static int version_known(sqlite3 *db, size_t count, int *ret_have, char *err, size_t errlen)
{
	if (migrate_sqlite_version(db, ret_have) < 0) {
		snprintf(err, errlen, "cannot read the schema version: %s", sqlite3_errmsg(db));
		return -ERR_DB;
	}
	if ((size_t)*ret_have > count) {
		snprintf(err, errlen,
			 "the database has schema version %d but this cairn knows only up to %zu; "
			 "it was written by a newer cairn: run that one, or restore a backup",
			 *ret_have, count);
		return -ERR_SCHEMA_NEWER;
	}
	return 0;
}

int migrate_sqlite(sqlite3 *db, const struct migration *migrations, size_t count,
		   int *ret_version, char *err, size_t errlen)
{
	for (size_t i = 0; i < count; i++) {
		if (migrations[i].version != (int)i + 1) {
			snprintf(err, errlen, "migration list is not numbered 1, 2, 3, ... at %zu",
				 i);
			return -ERR_INVALID;
		}
	}
	int have;
	int r = version_known(db, count, &have, err, errlen);
	if (r < 0)
		return r;
	for (size_t i = (size_t)have; i < count; i++) {
		r = apply_one(db, &migrations[i], err, errlen);
		if (r < 0)
			return r;
		have = migrations[i].version;
	}
	*ret_version = have;
	return 0;
}

int migrate_sqlite_check(sqlite3 *db, size_t count, char *err, size_t errlen)
{
	int have;
	int r = version_known(db, count, &have, err, errlen);
	if (r < 0)
		return r;
	if ((size_t)have < count) {
		snprintf(err, errlen,
			 "the database has schema version %d and this cairn needs %zu: stop the "
			 "server and run 'cairn migrate' (or 'cairn serve', which migrates), or use "
			 "the cairn that runs on it",
			 have, count);
		return -ERR_SCHEMA_OLDER;
	}
	return 0;
}
