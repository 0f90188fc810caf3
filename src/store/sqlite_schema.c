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
	{ 2, "accounts",
	  "ALTER TABLE realms ADD COLUMN display_name TEXT NOT NULL DEFAULT '';"
	  "ALTER TABLE realms ADD COLUMN signup_open INTEGER NOT NULL DEFAULT 1;"
	  "ALTER TABLE realms ADD COLUMN confirm_email INTEGER NOT NULL DEFAULT 0;"
	  "ALTER TABLE realms ADD COLUMN access_ttl_s INTEGER NOT NULL DEFAULT 3600;"
	  "ALTER TABLE realms ADD COLUMN refresh_ttl_s INTEGER NOT NULL DEFAULT 2592000;"
	  "UPDATE realms SET display_name = 'Cairn' WHERE name = 'default';"
	  /* AUTOINCREMENT: an id is never given to a second user or device. */
	  "CREATE TABLE users ("
	  " id INTEGER PRIMARY KEY AUTOINCREMENT,"
	  " realm_id INTEGER NOT NULL REFERENCES realms(id),"
	  " username TEXT NOT NULL,"
	  " username_key TEXT NOT NULL," /* lower case: names are unique regardless of case */
	  " email TEXT,"
	  " email_key TEXT,"
	  " name TEXT NOT NULL DEFAULT '',"
	  " password_hash TEXT NOT NULL,"
	  " is_admin INTEGER NOT NULL DEFAULT 0,"
	  " disabled INTEGER NOT NULL DEFAULT 0,"
	  " email_confirmed INTEGER NOT NULL DEFAULT 0,"
	  " public_key TEXT,"
	  " created_ms INTEGER NOT NULL,"
	  " UNIQUE (realm_id, username_key));"
	  "CREATE UNIQUE INDEX users_email ON users(realm_id, email_key) WHERE email_key IS NOT NULL;"
	  "CREATE INDEX users_admin ON users(is_admin) WHERE is_admin = 1;"
	  "CREATE TABLE devices ("
	  " id INTEGER PRIMARY KEY AUTOINCREMENT,"
	  " user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	  " kind INTEGER NOT NULL," /* 0 login session, 1 long-lived token */
	  " name TEXT NOT NULL,"
	  " platform TEXT NOT NULL DEFAULT '',"
	  " client_version TEXT NOT NULL DEFAULT '',"
	  " created_ms INTEGER NOT NULL,"
	  " last_seen_ms INTEGER NOT NULL,"
	  " revoked_ms INTEGER);"
	  "CREATE INDEX devices_user ON devices(user_id);"
	  /* Tokens are stored only as SHA-256 of the token string. */
	  "CREATE TABLE tokens ("
	  " hash BLOB PRIMARY KEY,"
	  " device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,"
	  " kind INTEGER NOT NULL," /* 0 access, 1 refresh, 2 long-lived */
	  " expires_ms INTEGER," /* NULL: does not expire */
	  " used_ms INTEGER" /* refresh tokens: when exchanged */
	  ") WITHOUT ROWID;"
	  "CREATE INDEX tokens_device ON tokens(device_id);"
	  "CREATE TABLE email_codes ("
	  " id INTEGER PRIMARY KEY,"
	  " user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	  " purpose INTEGER NOT NULL," /* 0 confirm, 1 reset */
	  " code_hash BLOB NOT NULL,"
	  " token_hash BLOB NOT NULL UNIQUE,"
	  " expires_ms INTEGER NOT NULL,"
	  " tries INTEGER NOT NULL DEFAULT 0);"
	  "CREATE INDEX email_codes_user ON email_codes(user_id, purpose);"
	  "CREATE TABLE outbox ("
	  " id INTEGER PRIMARY KEY,"
	  " to_addr TEXT NOT NULL,"
	  " subject TEXT NOT NULL,"
	  " body TEXT NOT NULL,"
	  " created_ms INTEGER NOT NULL,"
	  " attempts INTEGER NOT NULL DEFAULT 0,"
	  " next_ms INTEGER NOT NULL,"
	  " sent_ms INTEGER,"
	  " failed INTEGER NOT NULL DEFAULT 0,"
	  " last_error TEXT);"
	  "CREATE INDEX outbox_due ON outbox(next_ms) WHERE sent_ms IS NULL AND failed = 0;" },
};

const size_t sqlite_migrations_count = sizeof sqlite_migrations / sizeof sqlite_migrations[0];
