// The storage backends the API tests run on, and what a test must do to a server's
// storage behind its back (time passing for a token, a database from another version, a
// database made unusable), once per backend. Tests call these functions; only this file
// knows a backend's own tools, so the suite runs unchanged on another backend once its
// fixtures are written here. CAIRN_TEST_DB (default sqlite) and CAIRN_TEST_BLOBS (default
// fs) choose the backends; the harness hands them to every cairn it starts as
// storage.database and storage.blobs.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const DB = process.env.CAIRN_TEST_DB || 'sqlite';
export const BLOBS = process.env.CAIRN_TEST_BLOBS || 'fs';

// The environment every cairn the tests start gets: the backends, when they are not the
// defaults (tests of where each setting comes from expect the defaults to be defaults).
export const backendEnv = () => ({
  ...(DB !== 'sqlite' ? { CAIRN_STORAGE_DATABASE: DB } : {}),
  ...(BLOBS !== 'fs' ? { CAIRN_STORAGE_BLOBS: BLOBS } : {}),
});

const sqlite = {
  run(dir, sql) {
    return execFileSync('sqlite3', [join(dir, 'cairn.db'), sql]).toString().trim();
  },
  expireAccessTokens(dir, deviceId) {
    this.run(dir, `UPDATE tokens SET expires_ms = 1 WHERE kind = 0 AND device_id = ${Number(deviceId)}`);
  },
  expireToken(dir, hashHex) {
    if (!/^[0-9a-f]{64}$/.test(hashHex)) throw new Error('a token hash is 64 hex digits');
    this.run(dir, `UPDATE tokens SET expires_ms = 1 WHERE hash = X'${hashHex}'`);
  },
  schemaVersion(dir) {
    return Number(this.run(dir, 'SELECT max(version) FROM schema_migrations'));
  },
  // How to take back each migration, so that running it again is real.
  undo: {
    7: 'DROP TRIGGER spaces_epoch; ALTER TABLE spaces DROP COLUMN epoch;',
    8: 'ALTER TABLE blobs DROP COLUMN marked_ms; DROP TABLE leases;',
    9: 'CREATE TABLE r8 (space_id INTEGER NOT NULL REFERENCES spaces(id) ON DELETE CASCADE, '
      + 'collection TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL, deleted INTEGER NOT NULL '
      + 'DEFAULT 0, client_ts TEXT, updated_ms INTEGER NOT NULL, data TEXT, PRIMARY KEY (space_id, '
      + 'collection, id)) WITHOUT ROWID; INSERT INTO r8 SELECT space_id, collection, id, version, deleted, '
      + 'client_ts, updated_ms, data FROM records; DROP TABLE records; ALTER TABLE r8 RENAME TO records; '
      + 'DROP INDEX changes_rid; ALTER TABLE changes DROP COLUMN rid; '
      + 'CREATE INDEX changes_record ON changes(space_id, collection, record_id, seq); '
      + 'CREATE TABLE o8 (device_id INTEGER NOT NULL, op_id TEXT NOT NULL, space_id INTEGER NOT NULL '
      + 'REFERENCES spaces(id) ON DELETE CASCADE, status INTEGER NOT NULL, seq INTEGER NOT NULL, '
      + 'version INTEGER NOT NULL, PRIMARY KEY (device_id, op_id)) WITHOUT ROWID; INSERT INTO o8 SELECT '
      + 'device_id, op_id, space_id, status, seq, version FROM ops; DROP TABLE ops; ALTER TABLE o8 RENAME TO ops;',
    10: 'ALTER TABLE changes DROP COLUMN state;',
    11: 'ALTER TABLE spaces DROP COLUMN snapshot_floor;',
    12: 'DROP INDEX records_path; DROP INDEX records_fold; ALTER TABLE records DROP COLUMN path; '
      + 'ALTER TABLE records DROP COLUMN path_fold; ALTER TABLE blob_owners DROP COLUMN by_files;',
    13: 'DROP TABLE direct_pairs; DROP TABLE messages; DROP TABLE conversations; DROP TABLE blocks;',
    14: 'DROP TABLE key_bundles; DROP TABLE one_time_prekeys; DROP INDEX conversations_newest; DROP INDEX messages_live;',
    15: 'DROP TABLE app_spaces;',
    16: 'DROP TABLE app_clients;',
    17: 'ALTER TABLE app_clients DROP COLUMN scope;',
  },
  undoLastMigration(dir) {
    const last = this.schemaVersion(dir);
    if (!this.undo[last]) throw new Error(`write in tests/api/lib/backend.mjs how to undo migration ${last}`);
    this.run(dir, `${this.undo[last]} DELETE FROM schema_migrations WHERE version = ${last}`);
    return last;
  },
  // Another process holds the database's write lock for ms (as a long cairn gc or a
  // backup would); resolves once the lock is held, with { released }, a promise of its
  // release (wrapped: a promise resolved with a promise would wait for it).
  holdWrites(dir, ms) {
    return new Promise((resolve, reject) => {
      const p = spawn('sqlite3', [join(dir, 'cairn.db')], { stdio: ['pipe', 'pipe', 'inherit'] });
      let out = '';
      p.on('error', reject);
      p.stdout.on('data', (d) => {
        out += d;
        if (!out.includes('held')) return;
        out = '';
        const released = new Promise((done) => p.on('exit', done));
        setTimeout(() => p.stdin.end('COMMIT;\n'), ms);
        resolve({ released });
      });
      p.stdin.write("BEGIN IMMEDIATE;\nSELECT 'held';\n");
    });
  },
  recordFutureSchema(dir, version) {
    this.run(dir, `INSERT INTO schema_migrations VALUES (${Number(version)}, 'future', 'x')`);
  },
  // Takes the database away from a running server; returns what puts it back.
  makeUnusable(dir) {
    const db = join(dir, 'cairn.db');
    renameSync(db, `${db}.away`);
    return () => renameSync(`${db}.away`, db);
  },
  // After a clean stop: nothing is left to recover (no WAL with frames in it).
  leftNothingToRecover(dir) {
    const wal = join(dir, 'cairn.db-wal');
    return !existsSync(wal) || statSync(wal).size === 0;
  },
  hasData(dir) {
    return existsSync(join(dir, 'cairn.db'));
  },
};

const backends = { sqlite };

// The fixtures of the chosen database backend; a backend without them fails the tests
// that need them, loudly, rather than passing them by skipping.
export const db = new Proxy({}, {
  get(_, name) {
    const b = backends[DB];
    if (!b || !(name in b)) throw new Error(`tests/api/lib/backend.mjs has no '${String(name)}' for database backend '${DB}'`);
    return typeof b[name] === 'function' ? b[name].bind(b) : b[name];
  },
});
