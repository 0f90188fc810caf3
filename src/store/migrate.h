/* The SQLite migration runner. Migrations are numbered from 1 without gaps; each is
 * applied in its own transaction together with its row in schema_migrations, so a
 * failure leaves the database at the previous version. */
#ifndef CAIRN_MIGRATE_H
#define CAIRN_MIGRATE_H

#include <sqlite3.h>
#include <stddef.h>

struct migration {
	int version;
	const char *name;
	const char *sql;
};

/* Brings db up to the last of migrations. *ret_version is the version afterwards.
 * -ERR_SCHEMA_NEWER when the database records a version beyond the last one known;
 * -ERR_INVALID for a badly numbered list; -ERR_DB when a migration fails. */
int migrate_sqlite(sqlite3 *db, const struct migration *migrations, size_t count,
		   int *ret_version, char *err, size_t errlen);

/* Checks that db is at exactly the last of migrations, migrating nothing: -ERR_SCHEMA_OLDER
 * or -ERR_SCHEMA_NEWER with what to do in err. */
int migrate_sqlite_check(sqlite3 *db, size_t count, char *err, size_t errlen);

/* The version recorded in db (0 for a new database). */
int migrate_sqlite_version(sqlite3 *db, int *ret_version);

/* The project's own migrations for the SQLite backend. */
extern const struct migration sqlite_migrations[];
extern const size_t sqlite_migrations_count;

#endif
