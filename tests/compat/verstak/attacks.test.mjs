// The faults an attack review of the Verstak adapter found (issue 16), each by the whole
// kind: records written natively into a vault that are not ops as ops are written, a
// push's conflicts bounded, one op_id pushed by two devices at once stored once, payloads
// checked as strict JSON, hashed op ids that no literal op id can take, and an import that
// never hands one account's data to another, nor trusts a hostile file.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { api, runCairn, signUp, startServer, tempDir } from '../../api/lib/cairn.mjs';
import { Desktop } from './client.mjs';

const LIMITS = { CAIRN_RATELIMIT_PER_ADDRESS: '100000', CAIRN_RATELIMIT_PER_ACCOUNT: '100000' };
const PW = 'correct horse battery';
const op = (entity, extra = {}) => ({ op_id: randomUUID(), entity_type: 'note', entity_id: entity, op_type: 'update', payload_json: '{}', client_sequence: 1, last_seen_server_seq: 0, created_at: '2026-11-30T10:00:00Z', ...extra });

test('native records in a vault, conflicts bounded, one op_id from two devices at once, strict payloads, hashed ids', async () => {
  const srv = await startServer({ env: LIMITS });
  const B = `${srv.url}/compat/verstak`;
  try {
    const u = await signUp(srv.url, 'nina', { email: 'nina@example.com' });
    const a = new Desktop(B), b = new Desktop(B);
    assert.equal((await a.pair('nina', PW, 'v')).status, 200);
    assert.equal((await b.pair('nina', PW, 'v')).status, 200);
    assert.equal((await a.call('POST', '/api/v1/sync/push', { ops: [op('x')] })).status, 200);
    // records of the vault space written natively, of any shape: passed over, no crash
    const space = (await api(srv.url, 'GET', '/api/v1/spaces', { token: u.access })).body.spaces.find((s) => s.name === 'verstak:v').id;
    for (const [id, data] of [['evil', { entity_id: null }], ['evil2', { entity_id: 5, device_id: null, op_type: [] }], ['evil3', [1, 2]]]) {
      const r = await api(srv.url, 'PUT', `/api/v1/spaces/${space}/records/ops/${id}`, { token: u.access, body: { data } });
      assert.ok(r.status < 300, JSON.stringify(r.body));
    }
    // and a sequence map of nonsense: no map at all
    await api(srv.url, 'PUT', `/api/v1/spaces/${space}/records/verstak_import/sequence`, { token: u.access, body: { data: { first_seq: 1, last_seq: 1, last_verstak_seq: 9223372036854775807 } } });
    let r = await b.call('POST', '/api/v1/sync/push', { ops: [op('x', { last_seen_server_seq: 1 })] });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await a.pull();
    assert.ok(a.applied.every((o) => Number.isSafeInteger(o.server_sequence) && o.server_sequence > 0));
    assert.deepEqual(a.applied.map((o) => o.entity_id), ['x', 'x']);

    // conflicts: at most 1,000 in one answer, however many there are
    for (let k = 0; k < 12; k++) {
      r = await a.call('POST', '/api/v1/sync/push', { ops: Array.from({ length: 100 }, () => op('hot')) });
      assert.equal(r.body.count, 100);
    }
    r = await b.call('POST', '/api/v1/sync/push', { ops: Array.from({ length: 3 }, () => op('hot', { last_seen_server_seq: 2 })) });
    assert.equal(r.status, 200);
    assert.equal(r.body.conflicts.length, 1000);
    assert.equal(r.body.count, 3);

    // one op_id pushed by two devices at the same moment: stored once, accepted by both
    for (let round = 0; round < 10; round++) {
      const ids = Array.from({ length: 20 }, () => randomUUID());
      const [ra, rb] = await Promise.all([a, b].map((d, k) => d.call('POST', '/api/v1/sync/push', { ops: ids.map((id) => op('race', { op_id: id, payload_json: JSON.stringify({ k }) })) })));
      assert.equal(ra.body.count, 20);
      assert.equal(rb.body.count, 20);
    }
    a.applied = [];
    a.cursor = 0;
    await a.pull();
    const ids = a.applied.map((o) => o.op_id);
    assert.equal(new Set(ids).size, ids.length, 'every op once');

    // payload_json: any JSON value (Go's json.Valid), and nothing that is not JSON
    for (const p of ['1', '-0', '1e5', 'true', 'null', '"s"', '[]']) {
      r = await a.call('POST', '/api/v1/sync/push', { ops: [op('p', { payload_json: p })] });
      assert.equal(r.status, 200, `${p}: ${JSON.stringify(r.body)}`);
    }
    for (const p of ['[1,]', '{"a":1,}', "{'a':1}", '{"a":"\t"}', 'NaN', '1.', '{} x']) {
      r = await a.call('POST', '/api/v1/sync/push', { ops: [op('p', { payload_json: p })] });
      assert.deepEqual([r.status, r.body.code], [400, 'invalid_payload'], p);
    }

    // an op_id that is not a Cairn op id is stored under a hash no literal op_id can be
    const odd = 'note 1';
    const lookalike = `vkh:${createHash('sha256').update(odd).digest('hex').slice(0, 40)}`;
    r = await b.call('POST', '/api/v1/sync/push', { ops: [op('h', { op_id: lookalike })] });
    assert.deepEqual(r.body.accepted, [lookalike]);
    r = await a.call('POST', '/api/v1/sync/push', { ops: [op('h', { op_id: odd })] });
    assert.deepEqual(r.body.accepted, [odd]);
    a.applied = [];
    await a.pull();
    assert.deepEqual(a.applied.filter((o) => o.entity_id === 'h').map((o) => o.op_id).sort(), [lookalike, odd].sort());
  } finally {
    await srv.stop();
  }
});

const SCHEMA = `
CREATE TABLE server_users(id TEXT, username TEXT, email TEXT, password_hash TEXT, confirmed INT, blocked INT, last_seen TEXT, created_at TEXT);
CREATE TABLE server_devices(id TEXT, name TEXT, api_key TEXT, token_hash TEXT, token_prefix TEXT, token_suffix TEXT, legacy_api_key INT, user_id TEXT, vault_id TEXT, client_version TEXT, last_ip TEXT, last_seen TEXT, revoked_at TEXT, created_at TEXT);
CREATE TABLE server_ops(op_id TEXT, server_sequence, user_id TEXT, vault_id TEXT, device_id TEXT, entity_type TEXT, entity_id TEXT, op_type TEXT, payload_json TEXT, idempotency_key TEXT, client_sequence INT, last_seen_server_seq INT, created_at TEXT, pushed_at TEXT);
CREATE TABLE server_blob_refs(user_id TEXT, vault_id TEXT, sha256 TEXT, size INT, created_at TEXT, last_accessed TEXT);
`;
const BCRYPT = '$2a$10$abcdefghijklmnopqrstuuwfVf8RaJkPQZO74RdZyo6b2yh52omNK';
const sha = (s) => createHash('sha256').update(s).digest('hex');

test('the import never hands a Verstak user\'s data to an account that merely has their name or address, and does not trust a hostile file', async () => {
  const dir = tempDir('verstak-hostile-');
  const srv = await startServer({ env: LIMITS, args: ['--admin-user', 'root', '--admin-pass', 'root password 1'] });
  const B = `${srv.url}/compat/verstak`;
  const db = (name, sql) => {
    const file = join(dir, name);
    const r = spawnSync('sqlite3', [file], { input: sql, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return file;
  };
  try {
    // mallory registered the victim's address (and name) before the import
    const mal = await signUp(srv.url, 'victim', { email: 'victim@example.com', password: 'mallory pw 1' });
    const token = 'c'.repeat(64), admin = 'b'.repeat(64);
    const file = db('a.db', `${SCHEMA}
INSERT INTO server_users VALUES ('u1', 'victim', 'Victim@Example.com', '${BCRYPT}', 1, 0, NULL, '2026-01-01T00:00:00Z');
INSERT INTO server_users VALUES ('u2', 'root', 'ROOT@example.com', 'plain', 0, 0, NULL, '2026-01-01T00:00:00Z');
INSERT INTO server_users VALUES ('u3', 'costly', 'costly@example.com', '$2a$13$abcdefghijklmnopqrstuuwfVf8RaJkPQZO74RdZyo6b2yh52omNK', 1, 0, NULL, '2026-01-01T00:00:00Z');
INSERT INTO server_devices VALUES ('dev_v1', 'Victim laptop', 'x1', '${sha(token)}', NULL, NULL, 0, 'u1', 'secret', '1', NULL, NULL, NULL, '2026-01-02T00:00:00Z');
INSERT INTO server_devices VALUES ('dev_r1', 'Root laptop', 'x2', '${sha(admin)}', NULL, NULL, 0, 'u2', 'v', '1', NULL, NULL, NULL, '2026-01-02T00:00:00Z');
INSERT INTO server_devices VALUES ('dev_s1', 'Short', 'short', NULL, NULL, NULL, 1, 'u2', 'v', '1', NULL, NULL, NULL, '2026-01-02T00:00:00Z');
INSERT INTO server_ops VALUES ('o1', 1, 'u1', 'secret', 'dev_v1', 'note', 'a', 'create', '"victim secret"', NULL, 0, 0, '2026-01-03T00:00:00Z', NULL);
INSERT INTO server_ops VALUES ('o2', 'two', 'u1', 'secret', 'dev_v1', 'note', 'b', 'create', '{}', NULL, 0, 0, '2026-01-03T00:00:00Z', NULL);
INSERT INTO server_blob_refs VALUES ('u1', 'secret', '${'1'.repeat(64)}', 5, NULL, NULL);
`);
    mkdirSync(join(dir, 'blobs', '11', '11'), { recursive: true });
    spawnSync('mkfifo', [join(dir, 'blobs', '11', '11', '1'.repeat(64))]);
    const r = await runCairn(['import', 'verstak', file, '--data', srv.dir], { timeoutMs: 30000 });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /skipped user victim: the address victim@example.com belongs to another account/);
    // a name taken by another account (the admin's) is not theirs: renamed, never merged
    assert.match(r.stderr, /user root is verstak-u2 in Cairn/);
    assert.match(r.stderr, /skipped device dev_s1/);
    assert.match(r.stderr, /skipped 1 ops without a sequence number/);
    assert.match(r.stdout, /users\s+2 new, 0 there already, 2 to reset their password, 1 skipped/);
    // mallory's account got nothing of the victim's; the victim's and root's keys open nothing
    const m = new Desktop(B);
    assert.equal((await m.pair('victim', 'mallory pw 1', 'secret')).status, 200);
    await m.pull();
    assert.equal(m.applied.length, 0);
    assert.equal((await api(srv.url, 'GET', '/api/v1/account', { token })).status, 401);
    const acc = await api(srv.url, 'GET', '/api/v1/account', { token: admin });
    assert.equal(acc.body.user.username, 'verstak-u2');
    assert.equal(acc.body.user.is_admin, false);
    // a bcrypt cost above 12 is not kept: that user resets
    const t = new Desktop(B);
    assert.equal((await t.call('POST', '/api/auth/test', { username: 'costly', password: 'verstak pass 1' })).status, 401);
    assert.ok(mal.access);
    // a file missing a table, or with an id twice: refused before anything is written
    const users = (await api(srv.url, 'GET', '/api/v1/admin/users', { token: (await api(srv.url, 'POST', '/api/v1/auth/login', { body: { username: 'root', password: 'root password 1' } })).body.access_token })).body.users.length;
    const partial = db('b.db', `CREATE TABLE server_users(id TEXT, username TEXT, email TEXT, password_hash TEXT, confirmed INT, blocked INT, last_seen TEXT, created_at TEXT);
INSERT INTO server_users VALUES ('z1', 'zed', 'zed@example.com', '${BCRYPT}', 1, 0, NULL, '2026-01-01T00:00:00Z');`);
    let q = await runCairn(['import', 'verstak', partial, '--data', srv.dir]);
    assert.equal(q.code, 1);
    assert.match(q.stderr, /not a Verstak Sync database/);
    const twice = db('c.db', `${SCHEMA}
INSERT INTO server_users VALUES ('d1', 'dup1', 'dup1@example.com', '${BCRYPT}', 1, 0, NULL, '2026-01-01T00:00:00Z');
INSERT INTO server_users VALUES ('d1', 'dup2', 'dup2@example.com', '${BCRYPT}', 1, 0, NULL, '2026-01-01T00:00:00Z');`);
    q = await runCairn(['import', 'verstak', twice, '--data', srv.dir]);
    assert.equal(q.code, 1);
    assert.match(q.stderr, /there twice/);
    const root2 = (await api(srv.url, 'POST', '/api/v1/auth/login', { body: { username: 'root', password: 'root password 1' } })).body.access_token;
    assert.equal((await api(srv.url, 'GET', '/api/v1/admin/users', { token: root2 })).body.users.length, users);
  } finally {
    await srv.stop();
  }
});
