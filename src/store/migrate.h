/* The migration runner, for any backend. Migrations are numbered from 1 without gaps;
 * the backend applies each in its own transaction together with its record, so a
 * failure leaves the database at the previous version. The runner decides what to apply
 * and what to refuse; the backend only reads its version and applies one migration. */
#ifndef CAIRN_MIGRATE_H
#define CAIRN_MIGRATE_H

#include <stddef.h>

struct migration {
	int version;
	const char *name;
	const char *sql; /* in the backend's own dialect */
};

/* A database to migrate, as its backend sees it. */
struct migrate_target {
	void *db;
	/* The version recorded in the database (0 for a new one): 0 or -ERR_DB. */
	int (*version)(void *db, int *ret_version);
	/* Applies m and records it, in one transaction: 0, or -ERR_DB with why in err. */
	int (*apply)(void *db, const struct migration *m, char *err, size_t errlen);
};

/* Brings the database up to the last of migrations. *ret_version is the version
 * afterwards. -ERR_SCHEMA_NEWER when the database records a version beyond the last one
 * known; -ERR_INVALID for a badly numbered list; -ERR_DB when a migration fails. */
int migrate_run(const struct migrate_target *t, const struct migration *migrations,
		size_t count, int *ret_version, char *err, size_t errlen);

/* Checks that the database is at exactly the last of count migrations, migrating
 * nothing: -ERR_SCHEMA_OLDER or -ERR_SCHEMA_NEWER with what to do in err. */
int migrate_check(const struct migrate_target *t, size_t count, char *err, size_t errlen);

/* --- SQLite (sqlite_schema.c) --- */
struct sqlite3;
/* The target for an open SQLite database. */
struct migrate_target migrate_sqlite_target(struct sqlite3 *db);
/* The project's own migrations for the SQLite backend. */
extern const struct migration sqlite_migrations[];
extern const size_t sqlite_migrations_count;

#endif
