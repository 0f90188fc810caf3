/* The SQLite schema, one migration per change. Never edit a released migration: add the
 * next one. */
#include "migrate.h"

const struct migration sqlite_migrations[] = {
	{ 1, "realms",
	  "CREATE TABLE realms ("
	  " id INTEGER PRIMARY KEY,"
	  " name TEXT NOT NULL UNIQUE,"
	  " created_at TEXT NOT NULL);"
	  "INSERT INTO realms(name, created_at) VALUES "
	  " ('default', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));" },
};

const size_t sqlite_migrations_count = sizeof sqlite_migrations / sizeof sqlite_migrations[0];
