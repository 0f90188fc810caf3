// cairn import verstak (issue 16): a Verstak Sync server.db and its blob directory moved
// into Cairn. Users keep their passwords (bcrypt), paired desktops keep their keys and
// ids and go on syncing without pairing again; a desktop that pulls with a cursor saved
// before the import gets exactly the ops after it (Verstak's sequence is one counter for
// the whole server, with gaps inside a vault), and the numbers go on rising after it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCairn, startServer, tempDir } from '../../api/lib/cairn.mjs';
import { Desktop } from './client.mjs';

const LIMITS = { CAIRN_RATELIMIT_PER_ADDRESS: '100000', CAIRN_RATELIMIT_PER_ACCOUNT: '100000' };
// bcrypt of "verstak pass 1", as Go's bcrypt writes it ($2a$, cost 10)
const BCRYPT = '$2a$10$abcdefghijklmnopqrstuuwfVf8RaJkPQZO74RdZyo6b2yh52omNK';
const sha = (b) => createHash('sha256').update(b).digest('hex');
const q = (s) => (s === null ? 'NULL' : `'${String(s).replaceAll("'", "''")}'`);

// Verstak Sync's schema (seed research, section 2.11), the parts the import reads
const SCHEMA = `
CREATE TABLE server_users(id TEXT PRIMARY KEY, username TEXT UNIQUE NOT NULL, email TEXT UNIQUE NOT NULL, password_hash TEXT NOT NULL, confirmed INT NOT NULL DEFAULT 0, blocked INT NOT NULL DEFAULT 0, last_seen TEXT, created_at TEXT NOT NULL);
CREATE TABLE server_devices(id TEXT PRIMARY KEY, name TEXT NOT NULL, api_key TEXT NOT NULL UNIQUE, token_hash TEXT, token_prefix TEXT, token_suffix TEXT, legacy_api_key INT NOT NULL DEFAULT 0, user_id TEXT, vault_id TEXT, client_version TEXT, last_ip TEXT, last_seen TEXT, revoked_at TEXT, created_at TEXT NOT NULL);
CREATE TABLE server_ops(op_id TEXT PRIMARY KEY, server_sequence INT, user_id TEXT NOT NULL, vault_id TEXT NOT NULL, device_id TEXT NOT NULL, entity_type TEXT, entity_id TEXT, op_type TEXT, payload_json TEXT NOT NULL, idempotency_key TEXT, client_sequence INT DEFAULT 0, last_seen_server_seq INT DEFAULT 0, created_at TEXT NOT NULL, pushed_at TEXT NOT NULL DEFAULT (datetime('now')));
CREATE TABLE server_revisions(id INTEGER PRIMARY KEY AUTOINCREMENT, op_id TEXT, device_id TEXT);
CREATE TABLE server_blobs(sha256 TEXT PRIMARY KEY, size INT, created_at TEXT);
CREATE TABLE server_blob_refs(user_id TEXT, vault_id TEXT, sha256 TEXT, size INT, created_at TEXT, last_accessed TEXT, PRIMARY KEY(user_id, vault_id, sha256));
`;

test('a Verstak Sync server moved in: passwords, paired desktops, blobs, ops in order, cursors kept', async () => {
  const dir = tempDir('verstak-import-');
  const file = join(dir, 'server.db');
  const uid = 'a1b2c3d4e5f6a1b2c3d4e5f6', uid2 = 'ffeeddccbbaa998877665544';
  const tokenA = randomBytes(32).toString('hex'), tokenB = randomBytes(32).toString('hex');
  const legacyKey = 'plain-legacy-key-0123456789';
  const blob = randomBytes(70000);
  mkdirSync(join(dir, 'blobs', sha(blob).slice(0, 2), sha(blob).slice(2, 4)), { recursive: true });
  writeFileSync(join(dir, 'blobs', sha(blob).slice(0, 2), sha(blob).slice(2, 4), sha(blob)), blob);
  const rows = [
    `INSERT INTO server_users VALUES (${q(uid)}, 'mira', 'mira@example.com', ${q(BCRYPT)}, 1, 0, NULL, '2026-01-01T00:00:00Z')`,
    // a blocked user's data moves too (the account stays blocked)
    `INSERT INTO server_users VALUES ('000000000000000000000001', 'blocky', 'blocky@example.com', ${q(BCRYPT)}, 1, 1, NULL, '2026-01-01T00:00:00Z')`,
    `INSERT INTO server_ops (op_id, server_sequence, user_id, vault_id, device_id, entity_type, entity_id, op_type, payload_json, created_at) VALUES ('blocked-op', 100000, '000000000000000000000001', 'b', 'dev_z', 'note', 'b.md', 'create', '{}', '2026-02-01T00:00:00Z')`,
    // a Cyrillic name Cairn cannot keep: renamed, log in by address; a hash that is not bcrypt
    `INSERT INTO server_users VALUES (${q(uid2)}, 'Оля', 'olya@example.com', 'plain', 1, 0, NULL, '2026-01-02 10:00:00')`,
    `INSERT INTO server_devices VALUES ('dev_aaaaaaaaaaaaaaaaaaaaaaaa', 'Laptop', 'disabled:x1', ${q(sha(tokenA))}, NULL, NULL, 0, ${q(uid)}, 'notes', '0.9.1', NULL, NULL, NULL, '2026-01-03T00:00:00Z')`,
    `INSERT INTO server_devices VALUES ('dev_bbbbbbbbbbbbbbbbbbbbbbbb', 'Desk', 'disabled:x2', ${q(sha(tokenB))}, NULL, NULL, 0, ${q(uid)}, 'notes', '0.9.1', NULL, NULL, NULL, '2026-01-03T00:00:01Z')`,
    `INSERT INTO server_devices VALUES ('dev_cccccccccccccccccccccccc', 'Old one', 'x3', ${q(sha('gone'))}, NULL, NULL, 0, ${q(uid)}, 'notes', '0.8', NULL, NULL, '2026-01-04T00:00:00Z', '2026-01-03T00:00:02Z')`,
    `INSERT INTO server_devices VALUES ('dev_dddddddddddddddddddddddd', 'Legacy', ${q(legacyKey)}, NULL, NULL, NULL, 1, ${q(uid)}, '', NULL, NULL, NULL, NULL, '2026-01-03T00:00:03Z')`,
    `INSERT INTO server_blob_refs VALUES (${q(uid)}, 'notes', ${q(sha(blob))}, ${blob.length}, '2026-01-05T00:00:00Z', NULL)`,
    `INSERT INTO server_blob_refs VALUES (${q(uid)}, 'notes', ${q('e'.repeat(64))}, 5, '2026-01-05T00:00:00Z', NULL)`,
  ];
  // ops: the server's one counter, interleaved between vaults and users: gaps in each
  const notes = [];
  let seq = 0;
  for (let i = 0; i < 30; i++) {
    seq += 1 + (i % 3); // gaps
    const op = { op_id: `0000${i}-op`, seq, device: i % 2 ? 'dev_aaaaaaaaaaaaaaaaaaaaaaaa' : 'dev_bbbbbbbbbbbbbbbbbbbbbbbb', type: 'note', entity: `n${i % 7}.md` };
    if (i === 10) Object.assign(op, { type: 'file', entity: 'pic.png', payload: JSON.stringify({ path: 'pic.png', blob: { sha256: sha(blob), size: blob.length } }) });
    notes.push(op);
    rows.push(`INSERT INTO server_ops (op_id, server_sequence, user_id, vault_id, device_id, entity_type, entity_id, op_type, payload_json, client_sequence, last_seen_server_seq, created_at) VALUES (${q(op.op_id)}, ${seq}, ${q(uid)}, 'notes', ${q(op.device)}, ${q(op.type)}, ${q(op.entity)}, 'update', ${q(op.payload ?? JSON.stringify({ i }))}, ${i}, 0, '2026-02-01T00:00:00Z')`);
    if (i % 5 === 0) { // another vault's and another user's op takes a number between
      seq++;
      rows.push(`INSERT INTO server_ops (op_id, server_sequence, user_id, vault_id, device_id, entity_type, entity_id, op_type, payload_json, created_at) VALUES ('other-${i}', ${seq}, ${q(i % 2 ? uid2 : uid)}, 'work', 'dev_x', 'note', 'w.md', 'create', '{}', '2026-02-01T00:00:00Z')`);
    }
  }
  rows.push(`INSERT INTO server_ops (op_id, server_sequence, user_id, vault_id, device_id, entity_type, entity_id, op_type, payload_json, created_at) VALUES ('legacy-op', ${++seq}, ${q(uid)}, '', 'dev_dddddddddddddddddddddddd', 'note', 'l.md', 'create', '{}', '2026-02-01T00:00:00Z')`);
  const made = spawnSync('sqlite3', [file], { input: `${SCHEMA}${rows.join(';\n')};\n`, encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);

  const srv = await startServer({ env: LIMITS });
  const B = `${srv.url}/compat/verstak`;
  try {
    let r = await runCairn(['import', 'verstak', file, '--data', srv.dir]);
    assert.equal(r.code, 1, 'a missing blob file is exit status 1');
    assert.match(r.stdout, /users\s+3 new, 0 there already, 1 to reset their password, 0 skipped/);
    assert.match(r.stdout, /devices\s+3 paired, 0 there already, 1 revoked \(left out\), 0 skipped/);
    assert.match(r.stdout, /blobs\s+1, 1 not imported/);
    assert.match(r.stdout, /vaults\s+5, 0 imported before, 0 skipped/);
    assert.match(r.stdout, new RegExp(`ops\\s+${30 + 6 + 1 + 1}, 0 skipped`));
    assert.match(r.stderr, /its file is missing/);
    assert.match(r.stderr, /Оля is /);

    // the desktops go on without pairing again: same key, same id
    const a = new Desktop(B);
    a.token = tokenA;
    const me = await a.call('GET', '/api/client/me');
    assert.equal(me.status, 200, JSON.stringify(me.body));
    assert.deepEqual([me.body.device_id, me.body.device_name, me.body.username], ['dev_aaaaaaaaaaaaaaaaaaaaaaaa', 'Laptop', 'mira']);
    // a full pull shows Verstak's own numbers, gaps and all
    a.cursor = 0;
    await a.pull(7);
    assert.deepEqual(a.applied.map((o) => o.op_id), notes.map((o) => o.op_id));
    assert.deepEqual(a.applied.map((o) => o.server_sequence), notes.map((o) => o.seq));
    assert.equal(a.applied[3].device_id, 'dev_aaaaaaaaaaaaaaaaaaaaaaaa');
    // a cursor saved before the import, inside a gap or on an op, gets exactly what followed
    const b = new Desktop(B);
    b.token = tokenB;
    for (const saved of [notes[12].seq, notes[12].seq + 1, notes[0].seq - 1, notes.at(-1).seq]) {
      b.cursor = saved;
      b.applied = [];
      await b.pull(5);
      assert.deepEqual(b.applied.map((o) => o.op_id), notes.filter((o) => o.seq > saved).map((o) => o.op_id), `cursor ${saved}`);
    }
    // the vault's head is its last op's number; new ops follow it without a gap, and both
    // desktops see them once
    const last = notes.at(-1).seq;
    const head = await b.call('POST', '/api/v1/sync/pull', { since_sequence: last });
    assert.deepEqual(head.body, { has_more: false, ops: [], page_last_sequence: last, server_sequence: last });
    b.op('note', 'n1.md', 'update', { after: true });
    await b.push();
    b.applied = [];
    await b.pull();
    assert.equal(b.applied.length, 1);
    assert.equal(b.applied[0].server_sequence, last + 1);
    await a.pull();
    assert.equal(a.applied.at(-1).op_id, b.applied[0].op_id);
    assert.equal(a.applied.at(-1).server_sequence, b.applied[0].server_sequence);
    // conflicts: a cursor from before the import, counted in Verstak's numbers
    const c = await a.call('POST', '/api/v1/sync/push', { ops: [{ op_id: 'after-1', entity_type: 'note', entity_id: 'n1.md', op_type: 'update', payload_json: '{}', client_sequence: 99, last_seen_server_seq: notes[20].seq, created_at: '2026-03-01T00:00:00Z' }] });
    const want = notes.filter((o) => o.seq > notes[20].seq && o.entity === 'n1.md' && o.device !== 'dev_aaaaaaaaaaaaaaaaaaaaaaaa').map((o) => o.seq);
    assert.deepEqual(c.body.conflicts.map((x) => x.server_sequence), [...want, b.applied[0].server_sequence]);
    // the blob came with its user and is readable in the vault
    const dl = await a.downloadBlob(sha(blob), blob.length);
    assert.equal(dl.status, 200);
    // the legacy plaintext key works, in the legacy vault
    const legacy = new Desktop(B);
    legacy.token = legacyKey;
    await legacy.pull();
    assert.deepEqual(legacy.applied.map((o) => o.op_id), ['legacy-op']);
    // the revoked device did not come; passwords: bcrypt kept, the other must reset
    const revoked = new Desktop(B);
    revoked.token = 'gone';
    assert.equal((await revoked.call('GET', '/api/client/me')).status, 401);
    assert.equal((await a.call('POST', '/api/auth/test', { username: 'mira', password: 'verstak pass 1' })).status, 200);
    assert.equal((await a.call('POST', '/api/auth/test', { username: 'mira', password: 'verstak pass 2' })).status, 401);
    assert.equal((await a.call('POST', '/api/auth/test', { username: 'olya@example.com', password: 'plain' })).status, 401);
    // again: nothing twice; an op written to Verstak Sync since is named, not lost quietly
    spawnSync('sqlite3', [file], { input: `INSERT INTO server_ops (op_id, server_sequence, user_id, vault_id, device_id, entity_type, entity_id, op_type, payload_json, created_at) VALUES ('too-late', ${seq + 10}, ${q(uid)}, 'notes', 'dev_x', 'note', 'late.md', 'create', '{}', '2026-04-01T00:00:00Z');` });
    r = await runCairn(['import', 'verstak', file, '--data', srv.dir]);
    assert.match(r.stdout, /users\s+0 new, 3 there already/);
    assert.match(r.stdout, /devices\s+0 paired, 3 there already/);
    assert.match(r.stdout, /vaults\s+0, 5 imported before, 0 skipped/);
    assert.match(r.stdout, /ops\s+0, 1 skipped/);
    assert.match(r.stderr, /vault notes of mira was imported before: 1 ops written/);
    assert.equal(r.code, 1);
    a.applied = [];
    a.cursor = 0;
    await a.pull(100);
    assert.equal(a.applied.length, notes.length + 2);
    // not a Verstak database: said, exit 1
    const notdb = join(dir, 'other.db');
    spawnSync('sqlite3', [notdb], { input: 'CREATE TABLE x(a);' });
    r = await runCairn(['import', 'verstak', notdb, '--data', srv.dir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not a Verstak Sync database/);
  } finally {
    await srv.stop();
  }
});
