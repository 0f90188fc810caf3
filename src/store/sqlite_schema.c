/* The SQLite schema, one migration per change. Never edit a released migration: add the
 * next one. */
#include "migrate.h"

#include <sqlite3.h>
#include <stdio.h>

#include "key64.h"
#include "../util/clock.h"
#include "../util/err.h"

static const char create_table[] =
	"CREATE TABLE IF NOT EXISTS schema_migrations ("
	" version INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL,"
	" applied_at TEXT NOT NULL)";

static int sq_version(void *arg, int *ret_version)
{
	sqlite3 *db = arg;
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

static int sq_apply(void *arg, const struct migration *m, char *err, size_t errlen)
{
	sqlite3 *db = arg;
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

/* cairn_key64(text): store_key64 of the text's bytes, for migrations that fill a key
 * column (migration 9's ops.op_key). NULL stays NULL. */
static void sql_key64(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL)
		return;
	const char *t = (const char *)sqlite3_value_text(argv[0]);
	int n = sqlite3_value_bytes(argv[0]);
	sqlite3_result_int64(ctx, store_key64(t ? t : "", t ? (size_t)n : 0));
}

struct migrate_target migrate_sqlite_target(sqlite3 *db)
{
	sqlite3_create_function(db, "cairn_key64", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
				sql_key64, NULL, NULL);
	return (struct migrate_target){ db, sq_version, sq_apply };
}


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
	{ 3, "sync",
	  "CREATE TABLE spaces ("
	  " id INTEGER PRIMARY KEY AUTOINCREMENT,"
	  " realm_id INTEGER NOT NULL REFERENCES realms(id),"
	  " kind INTEGER NOT NULL," /* 0 private, 1 shared, 2 direct */
	  " name TEXT NOT NULL DEFAULT '',"
	  " owner_id INTEGER REFERENCES users(id) ON DELETE CASCADE," /* private spaces */
	  " head_seq INTEGER NOT NULL DEFAULT 0,"
	  " key_epoch INTEGER NOT NULL DEFAULT 0,"
	  " horizon_seq INTEGER NOT NULL DEFAULT 0," /* changes at or below were pruned */
	  " created_ms INTEGER NOT NULL);"
	  "CREATE UNIQUE INDEX spaces_private ON spaces(owner_id) WHERE kind = 0;"
	  "CREATE TABLE members ("
	  " space_id INTEGER NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,"
	  " user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	  " role INTEGER NOT NULL," /* 0 owner, 1 admin, 2 writer, 3 reader */
	  " wrapped_key TEXT,"
	  " key_epoch INTEGER NOT NULL DEFAULT 0,"
	  " added_ms INTEGER NOT NULL,"
	  " PRIMARY KEY (space_id, user_id)) WITHOUT ROWID;"
	  "CREATE INDEX members_user ON members(user_id);"
	  "CREATE TABLE collections ("
	  " space_id INTEGER NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,"
	  " name TEXT NOT NULL,"
	  " policy INTEGER NOT NULL," /* 0 reject, 1 lww, 2 merge, 3 append */
	  " PRIMARY KEY (space_id, name)) WITHOUT ROWID;"
	  "CREATE TABLE changes ("
	  " space_id INTEGER NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,"
	  " seq INTEGER NOT NULL,"
	  " collection TEXT NOT NULL,"
	  " record_id TEXT NOT NULL,"
	  " op INTEGER NOT NULL," /* 0 put, 1 patch, 2 delete */
	  " data TEXT," /* validated JSON text, sent as it is */
	  " device_id INTEGER,"
	  " op_id TEXT NOT NULL,"
	  " client_ts TEXT,"
	  " server_ms INTEGER NOT NULL,"
	  " PRIMARY KEY (space_id, seq)) WITHOUT ROWID;"
	  "CREATE INDEX changes_record ON changes(space_id, collection, record_id, seq);"
	  "CREATE TABLE records ("
	  " space_id INTEGER NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,"
	  " collection TEXT NOT NULL,"
	  " id TEXT NOT NULL,"
	  " version INTEGER NOT NULL," /* seq of its last change */
	  " data TEXT,"
	  " deleted INTEGER NOT NULL DEFAULT 0,"
	  " client_ts TEXT,"
	  " updated_ms INTEGER NOT NULL,"
	  " PRIMARY KEY (space_id, collection, id)) WITHOUT ROWID;"
	  /* The result first given for each (device, op_id), so retries answer the same. */
	  "CREATE TABLE ops ("
	  " device_id INTEGER NOT NULL,"
	  " op_id TEXT NOT NULL,"
	  " space_id INTEGER NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,"
	  " status INTEGER NOT NULL,"
	  " seq INTEGER NOT NULL,"
	  " version INTEGER NOT NULL,"
	  " PRIMARY KEY (device_id, op_id)) WITHOUT ROWID;"
	  "CREATE TABLE device_cursors ("
	  " device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,"
	  " space_id INTEGER NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,"
	  " seq INTEGER NOT NULL,"
	  " updated_ms INTEGER NOT NULL,"
	  " PRIMARY KEY (device_id, space_id)) WITHOUT ROWID;" },
	{ 4, "blobs",
	  /* One row per stored blob; touched_ms moves on every upload and reference, and
	   * collection spares blobs touched within blobs.gc_grace. */
	  "CREATE TABLE blobs ("
	  " sha256 TEXT PRIMARY KEY,"
	  " size INTEGER NOT NULL,"
	  " created_ms INTEGER NOT NULL,"
	  " touched_ms INTEGER NOT NULL) WITHOUT ROWID;"
	  /* Who uploaded what: a user's usage is the sum of sizes here (kept in users and
	   * realms by the triggers below, so quotas need no sums). */
	  "CREATE TABLE blob_owners ("
	  " user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	  " sha256 TEXT NOT NULL REFERENCES blobs(sha256),"
	  " realm_id INTEGER NOT NULL,"
	  " size INTEGER NOT NULL,"
	  " added_ms INTEGER NOT NULL,"
	  " PRIMARY KEY (user_id, sha256)) WITHOUT ROWID;"
	  "CREATE INDEX blob_owners_sha ON blob_owners(sha256);"
	  /* The blobs each change names: members of the space may read them while the
	   * change is kept (pruning a change drops its references). */
	  "CREATE TABLE change_blobs ("
	  " space_id INTEGER NOT NULL,"
	  " seq INTEGER NOT NULL,"
	  " sha256 TEXT NOT NULL REFERENCES blobs(sha256),"
	  " PRIMARY KEY (space_id, seq, sha256),"
	  " FOREIGN KEY (space_id, seq) REFERENCES changes(space_id, seq) ON DELETE CASCADE)"
	  " WITHOUT ROWID;"
	  "CREATE INDEX change_blobs_sha ON change_blobs(sha256, space_id);"
	  "ALTER TABLE changes ADD COLUMN blobs TEXT;" /* the JSON array as pushed */
	  "ALTER TABLE users ADD COLUMN blob_bytes INTEGER NOT NULL DEFAULT 0;"
	  "ALTER TABLE realms ADD COLUMN blob_bytes INTEGER NOT NULL DEFAULT 0;"
	  "CREATE TRIGGER blob_owners_add AFTER INSERT ON blob_owners BEGIN"
	  " UPDATE users SET blob_bytes = blob_bytes + NEW.size WHERE id = NEW.user_id;"
	  " UPDATE realms SET blob_bytes = blob_bytes + NEW.size WHERE id = NEW.realm_id;"
	  " END;"
	  "CREATE TRIGGER blob_owners_drop AFTER DELETE ON blob_owners BEGIN"
	  " UPDATE users SET blob_bytes = blob_bytes - OLD.size WHERE id = OLD.user_id;"
	  " UPDATE realms SET blob_bytes = blob_bytes - OLD.size WHERE id = OLD.realm_id;"
	  " END;" },
	/* client_ts was once checked loosely and is copied into pull pages unescaped: a time
	 * holding anything but the characters of RFC 3339 is dropped. */
	{ 5, "client_ts",
	  "UPDATE changes SET client_ts = NULL WHERE client_ts GLOB '*[^0-9TZ:.+-]*';"
	  "UPDATE records SET client_ts = NULL WHERE client_ts GLOB '*[^0-9TZ:.+-]*';" },
	/* A record's data last: its version, deletion and client_ts, which a push reads for
	 * every change it checks, then sit before a megabyte of data instead of behind it
	 * (SQLite walked the data's overflow pages to reach them). */
	{ 6, "records data last",
	  "CREATE TABLE records_new ("
	  " space_id INTEGER NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,"
	  " collection TEXT NOT NULL,"
	  " id TEXT NOT NULL,"
	  " version INTEGER NOT NULL,"
	  " deleted INTEGER NOT NULL DEFAULT 0,"
	  " client_ts TEXT,"
	  " updated_ms INTEGER NOT NULL,"
	  " data TEXT,"
	  " PRIMARY KEY (space_id, collection, id)) WITHOUT ROWID;"
	  "INSERT INTO records_new(space_id, collection, id, version, deleted, client_ts, "
	  " updated_ms, data) SELECT space_id, collection, id, version, deleted, client_ts, "
	  " updated_ms, data FROM records;"
	  "DROP TABLE records;"
	  "ALTER TABLE records_new RENAME TO records;" },
	/* Each space's log epoch: 16 random hex digits, new for every space and after every
	 * restore from a backup (cairn restore-epochs), so a device's cursor from another
	 * history of the log is recognised (410) instead of silently skipping changes. The
	 * trigger gives every space a new one however it is created. */
	{ 7, "space epochs",
	  "ALTER TABLE spaces ADD COLUMN epoch TEXT NOT NULL DEFAULT '';"
	  "UPDATE spaces SET epoch = lower(hex(randomblob(8)));"
	  "CREATE TRIGGER spaces_epoch AFTER INSERT ON spaces WHEN NEW.epoch = '' BEGIN"
	  " UPDATE spaces SET epoch = lower(hex(randomblob(8))) WHERE id = NEW.id;"
	  " END;" },
	{ 8, "collection marks and leases",
	  "ALTER TABLE blobs ADD COLUMN marked_ms INTEGER NOT NULL DEFAULT 0;"
	  "CREATE TABLE leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL,"
	  " expires_ms INTEGER NOT NULL) WITHOUT ROWID;" },
	/* Narrow keys for random ids (issue 12). With record ids that are random UUIDs every
	 * change dirtied a fresh page in three trees keyed by text: the records table
	 * (clustered by its key, 300-byte rows), the change log's index by record and the op
	 * results. Now a record has an integer rid given in insertion order: its row is
	 * appended to a rowid table, only the narrow unique index on (space, collection, id)
	 * is random, and the change log's index is (rid, seq), which a new record appends
	 * to. Op results are found by a 64-bit key of the op id (the text is compared in the
	 * row). 14,300 bytes written per change went to about 4,800 (docs/benchmarks.md).
	 * AUTOINCREMENT: a rid is never given twice, so a change can never be read as
	 * another record's. */
	{ 9, "narrow keys",
	  "CREATE TABLE records_new ("
	  " rid INTEGER PRIMARY KEY AUTOINCREMENT,"
	  " space_id INTEGER NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,"
	  " collection TEXT NOT NULL,"
	  " id TEXT NOT NULL,"
	  " version INTEGER NOT NULL,"
	  " deleted INTEGER NOT NULL DEFAULT 0,"
	  " client_ts TEXT,"
	  " updated_ms INTEGER NOT NULL,"
	  " data TEXT);"
	  "INSERT INTO records_new(space_id, collection, id, version, deleted, client_ts, "
	  " updated_ms, data) SELECT space_id, collection, id, version, deleted, client_ts, "
	  " updated_ms, data FROM records ORDER BY space_id, version;"
	  "DROP TABLE records;"
	  "ALTER TABLE records_new RENAME TO records;"
	  "CREATE UNIQUE INDEX records_key ON records(space_id, collection, id);"
	  "DROP INDEX changes_record;"
	  "ALTER TABLE changes ADD COLUMN rid INTEGER;"
	  "UPDATE changes SET rid = (SELECT r.rid FROM records r WHERE r.space_id = "
	  " changes.space_id AND r.collection = changes.collection AND r.id = "
	  " changes.record_id);"
	  "CREATE INDEX changes_rid ON changes(rid, seq);"
	  "CREATE TABLE ops_new ("
	  " device_id INTEGER NOT NULL,"
	  " op_key INTEGER NOT NULL,"
	  " op_id TEXT NOT NULL,"
	  " space_id INTEGER NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,"
	  " status INTEGER NOT NULL,"
	  " seq INTEGER NOT NULL,"
	  " version INTEGER NOT NULL);"
	  "INSERT INTO ops_new(device_id, op_key, op_id, space_id, status, seq, version) "
	  " SELECT device_id, cairn_key64(op_id), op_id, space_id, status, seq, version "
	  " FROM ops;"
	  "DROP TABLE ops;"
	  "ALTER TABLE ops_new RENAME TO ops;"
	  "CREATE INDEX ops_key ON ops(device_id, op_key);" },
	/* A patch's resulting record, kept with the patch, so that a records listing can
	 * show any record as it was at a snapshot seq from its last change at or below it
	 * (puts carry the whole record already; a delete is a tombstone). */
	{ 10, "patch states",
	  "ALTER TABLE changes ADD COLUMN state TEXT;" },
	/* What snapshots of a database from before migration 10 can read. A patch that is
	 * still its record's last change gets its resulting record (the record itself), so
	 * a snapshot needs a record's state from an older patch only rarely (then 410). And
	 * pruning used to remove a change superseded by any later change, also one above
	 * the horizon, so in a space pruned then a snapshot below its head at this migration
	 * could miss a record's state and show the record as not yet created: snapshots of
	 * such a space start at that head (snapshot_floor; listings answer 410 below it). */
	{ 11, "snapshot floors",
	  "UPDATE changes SET state = (SELECT r.data FROM records r WHERE r.rid = changes.rid "
	  " AND r.version = changes.seq) WHERE op = 1 AND state IS NULL;"
	  "ALTER TABLE spaces ADD COLUMN snapshot_floor INTEGER NOT NULL DEFAULT 0;"
	  "UPDATE spaces SET snapshot_floor = head_seq WHERE horizon_seq > 0;" },
	/* File sync (issue 13): a file is a record of collection "files" whose id is the hash
	 * of its path; the path itself, and the key paths differing only by case share, are
	 * kept beside it so that listings by prefix and the case check are index reads. A
	 * holding of a chunk a file names is bound to files (by_files): once no kept change
	 * names it, collection ends the holding, so deleted files stop costing quota. */
	{ 12, "files",
	  "ALTER TABLE records ADD COLUMN path TEXT;"
	  "ALTER TABLE records ADD COLUMN path_fold TEXT;"
	  "CREATE INDEX records_path ON records(space_id, path) WHERE path IS NOT NULL;"
	  "CREATE INDEX records_fold ON records(space_id, path_fold) WHERE path_fold IS NOT NULL;"
	  "ALTER TABLE blob_owners ADD COLUMN by_files INTEGER NOT NULL DEFAULT 0;" },
	/* Messages (issue 14; docs/architecture.md, Messages): the direct space of each pair
	 * of users, a row per message for its server-wide id, each user's conversations
	 * indexed by their last activity, and blocks. */
	{ 13, "messages",
	  "CREATE TABLE direct_pairs ("
	  " user_lo INTEGER NOT NULL,"
	  " user_hi INTEGER NOT NULL,"
	  " space_id INTEGER NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,"
	  " PRIMARY KEY (user_lo, user_hi)) WITHOUT ROWID;"
	  "CREATE TABLE messages ("
	  " id INTEGER PRIMARY KEY AUTOINCREMENT,"
	  " space_id INTEGER NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,"
	  " seq INTEGER NOT NULL DEFAULT 0,"
	  " sender_id INTEGER NOT NULL,"
	  " created_ms INTEGER NOT NULL,"
	  " deleted INTEGER NOT NULL DEFAULT 0);"
	  "CREATE INDEX messages_seq ON messages(space_id, seq);"
	  "CREATE TABLE conversations ("
	  " user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	  " space_id INTEGER NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,"
	  " other_id INTEGER NOT NULL,"
	  " last_message_id INTEGER NOT NULL DEFAULT 0,"
	  " last_seq INTEGER NOT NULL DEFAULT 0,"
	  " last_ms INTEGER NOT NULL DEFAULT 0,"
	  " read_seq INTEGER NOT NULL DEFAULT 0,"
	  " unread INTEGER NOT NULL DEFAULT 0,"
	  " PRIMARY KEY (user_id, space_id)) WITHOUT ROWID;"
	  "CREATE INDEX conversations_recent ON conversations(user_id, last_ms DESC, space_id DESC);"
	  "CREATE TABLE blocks ("
	  " user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	  " blocked_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	  " created_ms INTEGER NOT NULL,"
	  " PRIMARY KEY (user_id, blocked_id)) WITHOUT ROWID;" },
	/* End-to-end key bundles (issue 14, MigChat's keys): one per user, and one-time
	 * prekeys each handed out once; conversations by their newest message, and each
	 * conversation's live messages, for listing a user's newest messages across
	 * conversations without reading their history or their deleted messages. */
	{ 14, "key bundles",
	  "CREATE TABLE key_bundles ("
	  " user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,"
	  " identity_key TEXT NOT NULL,"
	  " signed_prekey TEXT NOT NULL,"
	  " signed_prekey_signature TEXT NOT NULL,"
	  " updated_ms INTEGER NOT NULL);"
	  "CREATE TABLE one_time_prekeys ("
	  " id INTEGER PRIMARY KEY,"
	  " user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	  " key_id INTEGER NOT NULL,"
	  " public_key TEXT NOT NULL);"
	  "CREATE INDEX one_time_prekeys_user ON one_time_prekeys(user_id, id);"
	  "CREATE INDEX conversations_newest ON conversations(user_id, last_message_id DESC);"
	  "CREATE INDEX messages_live ON messages(space_id, seq) WHERE deleted = 0;" },
	/* The compat adapters' data (issue 15): each user's space for an app ("tickit"),
	 * found by the pair and made once. */
	{ 15, "app spaces",
	  "CREATE TABLE app_spaces ("
	  " user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	  " app TEXT NOT NULL,"
	  " space_id INTEGER NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,"
	  " PRIMARY KEY (user_id, app)) WITHOUT ROWID;" },
	/* The compat adapters' own client ids (sync_server_ts's clientId, a UUID per
	 * install): each is a device of its user, with the adapter's pull-before-push lock
	 * and the time of its last pull. */
	{ 16, "app clients",
	  "CREATE TABLE app_clients ("
	  " app TEXT NOT NULL,"
	  " realm_id INTEGER NOT NULL REFERENCES realms(id) ON DELETE CASCADE,"
	  " client_id TEXT NOT NULL,"
	  " user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	  " device_id INTEGER NOT NULL,"
	  " lock_ms INTEGER NOT NULL DEFAULT 0,"
	  " pulled_ms INTEGER NOT NULL DEFAULT 0,"
	  " pulled_seq INTEGER NOT NULL DEFAULT 0,"
	  " pulled_space INTEGER NOT NULL DEFAULT 0,"
	  " created_ms INTEGER NOT NULL,"
	  " PRIMARY KEY (app, realm_id, client_id)) WITHOUT ROWID;"
	  "CREATE INDEX app_clients_device ON app_clients(device_id);" },
	/* What an adapter's client is bound to besides its user (issue 16: the Verstak vault
	 * a paired desktop syncs). */
	{ 17, "app client scope",
	  "ALTER TABLE app_clients ADD COLUMN scope TEXT NOT NULL DEFAULT '';" },
};

const size_t sqlite_migrations_count = sizeof sqlite_migrations / sizeof sqlite_migrations[0];
