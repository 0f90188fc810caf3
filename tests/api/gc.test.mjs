// Pruning: superseded changes and tombstones below every active device's cursor go;
// a pull below the horizon answers 410 cursor_expired; records stay whole.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api, runCairn, sleep, startServer } from './lib/cairn.mjs';
import { db } from './lib/backend.mjs';

test('cairn gc prunes below every active cursor; older cursors get 410 and re-bootstrap', async () => {
  const srv = await startServer({ env: { CAIRN_SYNC_RETENTION: '0s', CAIRN_SYNC_GC_INTERVAL: '0', CAIRN_RATELIMIT_PER_ADDRESS: '10000', CAIRN_RATELIMIT_PER_ACCOUNT: '10000' } });
  const U = srv.url;
  await api(U, 'POST', '/api/v1/auth/register', { body: { username: 'g', password: 'g password 1' } });
  const login = async () => (await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'g', password: 'g password 1' } })).body;
  const a = await login();
  const b = await login();
  const push = (changes) => api(U, 'POST', '/api/v1/spaces/me/changes', { token: a.access_token, body: { changes } });
  let n = 0;
  const put = (id, data) => ({ op_id: `g${++n}`, collection: 'c', id, op: 'put', data });
  await push([put('x', { v: 1 }), put('x', { v: 2 }), put('y', { v: 1 })]); // 1 2 3
  await push([{ op_id: `g${++n}`, collection: 'c', id: 'y', op: 'delete' }, put('z', { v: 1 })]); // 4 5
  // device b has applied up to 2, device a up to 5
  assert.equal((await api(U, 'GET', '/api/v1/spaces/me/changes?since=2', { token: b.access_token })).status, 200);
  assert.equal((await api(U, 'GET', '/api/v1/spaces/me/changes?since=5', { token: a.access_token })).status, 200);
  // the server writes reported cursors once a second; cairn gc, another process, reads
  // what was written
  await sleep(1300);

  const gcEnv = { env: { CAIRN_SYNC_RETENTION: '0s' } };
  let gc = await runCairn(['gc', '--data', srv.dir], gcEnv);
  assert.equal(gc.code, 0, gc.stderr);
  // only seq 1 (x v1, superseded by 2) is at or below b's cursor with what supersedes it
  assert.match(gc.stdout, /pruned 1 changes and 0 tombstones/);
  let r = await api(U, 'GET', '/api/v1/spaces/me/changes?since=0', { token: a.access_token });
  assert.equal(r.status, 410);
  assert.equal(r.body.code, 'cursor_expired');
  r = await api(U, 'GET', '/api/v1/spaces/me/changes?since=2', { token: b.access_token });
  assert.deepEqual(r.body.changes.map((c) => c.seq), [3, 4, 5]);

  // b is revoked: it no longer holds the log back
  assert.equal((await api(U, 'DELETE', `/api/v1/devices/${b.device.id}`, { token: a.access_token })).status, 204);
  gc = await runCairn(['gc', '--data', srv.dir], gcEnv);
  assert.equal(gc.code, 0, gc.stderr);
  // 3 (y v1, superseded by the delete) and 4 (the delete itself) go, and y's tombstone
  assert.match(gc.stdout, /pruned 2 changes and 1 tombstones/);
  r = await api(U, 'GET', '/api/v1/spaces/me/changes?since=1', { token: a.access_token });
  assert.equal(r.status, 410);
  r = await api(U, 'GET', '/api/v1/spaces/me/changes?since=5', { token: a.access_token });
  assert.equal(r.status, 200);
  // a new device bootstraps from records (whole, no tombstone) and continues from as_of_seq
  const recs = await api(U, 'GET', '/api/v1/spaces/me/records', { token: a.access_token });
  assert.deepEqual(recs.body.records.map((x) => [x.id, x.data]), [['x', { v: 2 }], ['z', { v: 1 }]]);
  assert.equal(recs.body.as_of_seq, 5);
  assert.equal((await api(U, 'GET', `/api/v1/spaces/me/changes?since=${recs.body.as_of_seq}`, { token: a.access_token })).status, 200);
  // nothing left to prune: a second pass changes nothing
  gc = await runCairn(['gc', '--data', srv.dir], gcEnv);
  assert.match(gc.stdout, /pruned 0 changes and 0 tombstones/);
  await srv.cleanup();
});

test('nothing younger than sync.retention is pruned', async () => {
  const srv = await startServer({ env: { CAIRN_SYNC_GC_INTERVAL: '0' } });
  await api(srv.url, 'POST', '/api/v1/auth/register', { body: { username: 'h', password: 'h password 1' } });
  const a = (await api(srv.url, 'POST', '/api/v1/auth/login', { body: { username: 'h', password: 'h password 1' } })).body;
  await api(srv.url, 'POST', '/api/v1/spaces/me/changes', {
    token: a.access_token,
    body: { changes: [{ op_id: '1', collection: 'c', id: 'x', op: 'put', data: {} }, { op_id: '2', collection: 'c', id: 'x', op: 'put', data: {} }] },
  });
  await api(srv.url, 'GET', '/api/v1/spaces/me/changes?since=2', { token: a.access_token });
  const gc = await runCairn(['gc', '--data', srv.dir]);
  assert.match(gc.stdout, /pruned 0 changes/);
  assert.equal((await api(srv.url, 'GET', '/api/v1/spaces/me/changes?since=0', { token: a.access_token })).body.changes.length, 2);
  await srv.cleanup();
});

test('the server prunes on its own every sync.gc_interval', async () => {
  const srv = await startServer({ env: { CAIRN_SYNC_RETENTION: '0s', CAIRN_SYNC_GC_INTERVAL: '300ms' } });
  await api(srv.url, 'POST', '/api/v1/auth/register', { body: { username: 'k', password: 'k password 1' } });
  const a = (await api(srv.url, 'POST', '/api/v1/auth/login', { body: { username: 'k', password: 'k password 1' } })).body;
  await api(srv.url, 'POST', '/api/v1/spaces/me/changes', {
    token: a.access_token,
    body: { changes: [{ op_id: '1', collection: 'c', id: 'x', op: 'put', data: {} }, { op_id: '2', collection: 'c', id: 'x', op: 'put', data: {} }] },
  });
  await api(srv.url, 'GET', '/api/v1/spaces/me/changes?since=2', { token: a.access_token });
  let status = 200;
  for (let i = 0; i < 30 && status !== 410; i++) {
    await new Promise((r) => setTimeout(r, 100));
    status = (await api(srv.url, 'GET', '/api/v1/spaces/me/changes?since=0', { token: a.access_token })).status;
  }
  assert.equal(status, 410);
  assert.match(srv.log(), /pruned 1 changes and 0 tombstones/);
  await srv.cleanup();
});

test('a write from a device that last saw a record whose tombstone was pruned is a conflict, never a create', async () => {
  const srv = await startServer({ env: { CAIRN_SYNC_RETENTION: '0s', CAIRN_SYNC_GC_INTERVAL: '0', CAIRN_SYNC_DEVICE_IDLE: '1s', CAIRN_RATELIMIT_PER_ADDRESS: '10000', CAIRN_RATELIMIT_PER_ACCOUNT: '10000' } });
  const U = srv.url;
  await api(U, 'POST', '/api/v1/auth/register', { body: { username: 'p', password: 'p password 1' } });
  const login = async () => (await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'p', password: 'p password 1' } })).body;
  const a = await login();
  const b = await login();
  for (const [name, conflict] of [['l', 'lww'], ['m', 'merge']]) {
    await api(U, 'PUT', `/api/v1/spaces/me/collections/${name}`, { token: a.access_token, body: { conflict } });
  }
  let n = 0;
  const ch = (collection, id, op, extra = {}) => ({ op_id: `p${++n}`, collection, id, op, ...extra });
  const push = (t, changes) => api(U, 'POST', '/api/v1/spaces/me/changes', { token: t.access_token, body: { changes } });
  await push(a, [ch('l', 'x', 'put', { data: { v: 1 } }), ch('m', 'y', 'put', { data: { v: 1 } }), ch('c', 'z', 'put', { data: { v: 1 } })]); // 1 2 3
  // b has seen them all, then goes quiet; a deletes all three and stays active
  assert.equal((await api(U, 'GET', '/api/v1/spaces/me/changes?since=3', { token: b.access_token })).status, 200);
  await push(a, [ch('l', 'x', 'delete'), ch('m', 'y', 'delete'), ch('c', 'z', 'delete')]); // 4 5 6
  await new Promise((r) => setTimeout(r, 1300));
  assert.equal((await api(U, 'GET', '/api/v1/spaces/me/changes?since=6', { token: a.access_token })).status, 200);
  const gc = await runCairn(['gc', '--data', srv.dir], { env: { CAIRN_SYNC_RETENTION: '0s', CAIRN_SYNC_DEVICE_IDLE: '1s' } });
  assert.equal(gc.code, 0, gc.stderr);
  assert.match(gc.stdout, /and 3 tombstones/);
  assert.equal((await api(U, 'GET', '/api/v1/spaces/me/records', { token: a.access_token })).body.records.length, 0);

  // b comes back with edits made on what it last saw, its clock later than the deletes
  const late = new Date().toISOString();
  const r = await push(b, [
    ch('l', 'x', 'put', { data: { v: 2 }, base_version: 1, client_ts: late }),
    ch('m', 'y', 'put', { data: { v: 2 }, base_version: 2, client_ts: late }),
    ch('m', 'y', 'patch', { data: { v: 3 }, base_version: 2, client_ts: late }),
    ch('c', 'z', 'put', { data: { v: 2 }, base_version: 3 }),
    ch('l', 'x', 'put', { data: { v: 2 }, base_version: 99, client_ts: late }),
  ]);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body.results.map((x) => [x.status, x.reason]), [
    ['conflict', 'deleted'], ['conflict', 'deleted'], ['conflict', 'deleted'], ['conflict', 'deleted'], ['conflict', 'stale_base_version'],
  ]);
  assert.deepEqual(r.body.results[0].server, { version: 0, data: null, deleted: true });
  assert.equal((await api(U, 'GET', '/api/v1/spaces/me/records', { token: a.access_token })).body.records.length, 0, 'nothing came back');
  // asked for explicitly (base_version 0: "a new record", or no base at all), a create is fine
  const again = await push(b, [ch('l', 'x', 'put', { data: { v: 5 }, base_version: 0 }), ch('c', 'z', 'put', { data: { v: 5 } })]);
  assert.deepEqual(again.body.results.map((x) => x.status), ['applied', 'applied']);
  await srv.cleanup();
});

test('reported cursors are kept through a stop: the server writes them as it shuts down', async () => {
  const srv = await startServer({ env: { CAIRN_SYNC_RETENTION: '0s', CAIRN_SYNC_GC_INTERVAL: '0' } });
  const U = srv.url;
  await api(U, 'POST', '/api/v1/auth/register', { body: { username: 'k', password: 'k password 1' } });
  const login = async () => (await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'k', password: 'k password 1' } })).body;
  const a = await login();
  const b = await login();
  let n = 0;
  const put = (id) => ({ op_id: `k${++n}`, collection: 'c', id, op: 'put', data: { n } });
  await api(U, 'POST', '/api/v1/spaces/me/changes', { token: a.access_token, body: { changes: [put('x'), put('x'), put('x')] } }); // 1 2 3
  // b reports 2, a reports 3, and the server stops at once (before its next write)
  assert.equal((await api(U, 'GET', '/api/v1/spaces/me/changes?since=2', { token: b.access_token })).status, 200);
  assert.equal((await api(U, 'GET', '/api/v1/spaces/me/changes?since=3', { token: a.access_token })).status, 200);
  assert.equal((await srv.stop()).code, 0);
  const gc = await runCairn(['gc', '--data', srv.dir], { env: { CAIRN_SYNC_RETENTION: '0s' } });
  assert.equal(gc.code, 0, gc.stderr);
  // b's cursor 2 holds the log: only seq 1 (superseded by 2) goes, not 2 as well (x's
  // state at the horizon)
  assert.match(gc.stdout, /pruned 1 changes/);
  await srv.cleanup();
});

// Pruning goes a window of 20,000 sequence numbers at a time, each in its own
// transaction, so a long pass never holds writers past the database's busy timeout; and a
// writer that does meet a database held that long by another process is told to come
// back (503 with Retry-After), not that the server failed.
test('a pass over many windows prunes all of them; a write held off by another process is 503, not 500', async () => {
  const srv = await startServer({ env: { CAIRN_SYNC_RETENTION: '0s', CAIRN_SYNC_GC_INTERVAL: '0', CAIRN_RATELIMIT_PER_ADDRESS: '10000', CAIRN_RATELIMIT_PER_ACCOUNT: '10000', CAIRN_LIMITS_PUSH_CHANGES: '10000' } });
  const U = srv.url;
  await api(U, 'POST', '/api/v1/auth/register', { body: { username: 'w', password: 'w password 1' } });
  const a = (await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'w', password: 'w password 1' } })).body;
  let n = 0;
  const push = async (changes) => {
    const r = await api(U, 'POST', '/api/v1/spaces/me/changes', { token: a.access_token, body: { changes } });
    assert.equal(r.status, 200, JSON.stringify(r.body).slice(0, 300));
    return r;
  };
  // 25,000 records written, 25,000 written again (seqs 25,001 to 50,000), then 100
  // deleted: the superseded first writes span two windows, the deletes a third
  for (let pass = 0; pass < 2; pass++)
    for (let i = 0; i < 25000; i += 5000)
      await push(Array.from({ length: 5000 }, (_, k) => ({ op_id: `w${++n}`, collection: 'c', id: `r${i + k}`, op: 'put', data: { pass } })));
  await push(Array.from({ length: 100 }, (_, k) => ({ op_id: `w${++n}`, collection: 'c', id: `r${k}`, op: 'delete' })));
  assert.equal((await api(U, 'GET', '/api/v1/spaces/me/changes?since=50100', { token: a.access_token })).status, 200);
  await sleep(1300);
  const gc = await runCairn(['gc', '--data', srv.dir], { env: { CAIRN_SYNC_RETENTION: '0s' } });
  assert.equal(gc.code, 0, gc.stderr);
  // 25,000 first writes, 100 second writes superseded by the deletes, the 100 deletes
  assert.match(gc.stdout, /pruned 25200 changes and 100 tombstones/);
  const recs = await api(U, 'GET', '/api/v1/spaces/me/records?limit=5', { token: a.access_token });
  assert.deepEqual(recs.body.records.map((x) => x.id), ['r100', 'r1000', 'r10000', 'r10001', 'r10002']);
  assert.equal((await api(U, 'GET', '/api/v1/spaces/me/changes?since=50099', { token: a.access_token })).status, 410);

  // another process holds the database past the busy timeout (5 s)
  const { released } = await db.holdWrites(srv.dir, 6500);
  const r = await api(U, 'POST', '/api/v1/spaces/me/changes', { token: a.access_token, body: { changes: [{ op_id: 'held', collection: 'c', id: 'h', op: 'put', data: {} }] } });
  assert.equal(r.status, 503, JSON.stringify(r.body));
  assert.equal(r.body.code, 'unavailable');
  assert.equal(r.headers.get('retry-after'), '1');
  // writes queued behind it are not each held for the whole timeout again
  const t0 = Date.now();
  const again = await api(U, 'POST', '/api/v1/spaces/me/changes', { token: a.access_token, body: { changes: [{ op_id: 'held2', collection: 'c', id: 'h', op: 'put', data: {} }] } });
  assert.equal(again.status, 503);
  assert.ok(Date.now() - t0 < 2000, `the second write waited ${Date.now() - t0} ms`);
  await released;
  // cairn gc meeting the lock fails, saying why, instead of reporting nothing pruned
  const held = await db.holdWrites(srv.dir, 6500);
  const gcHeld = await runCairn(['gc', '--data', srv.dir], { env: { CAIRN_SYNC_RETENTION: '0s' } });
  assert.notEqual(gcHeld.code, 0, gcHeld.stdout);
  assert.match(gcHeld.stderr, /held by another process/);
  await held.released;
  // nothing was stored, and the retry goes through
  assert.equal((await push([{ op_id: 'held', collection: 'c', id: 'h', op: 'put', data: {} }])).body.results[0].status, 'applied');
  await srv.cleanup();
});

// A device's last sight is written at most once a minute, but at least twice per
// sync.device_idle: with an idle time under a minute, a device in use still holds the
// log back.
test('a device in use is not taken for idle when sync.device_idle is under a minute', async () => {
  const env = { CAIRN_SYNC_RETENTION: '0s', CAIRN_SYNC_GC_INTERVAL: '0', CAIRN_SYNC_DEVICE_IDLE: '2s', CAIRN_RATELIMIT_PER_ADDRESS: '10000', CAIRN_RATELIMIT_PER_ACCOUNT: '10000' };
  const srv = await startServer({ env });
  const U = srv.url;
  await api(U, 'POST', '/api/v1/auth/register', { body: { username: 'q', password: 'q password 1' } });
  const login = async () => (await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'q', password: 'q password 1' } })).body;
  const a = await login();
  const b = await login();
  const put = (n) => ({ op_id: `q${n}`, collection: 'c', id: 'x', op: 'put', data: { n } });
  await api(U, 'POST', '/api/v1/spaces/me/changes', { token: a.access_token, body: { changes: [put(1), put(2), put(3)] } });
  // both keep syncing for 3.5 s: b has applied up to 2, a up to 3
  for (let i = 0; i < 10; i++) {
    assert.equal((await api(U, 'GET', '/api/v1/spaces/me/changes?since=2', { token: b.access_token })).status, 200);
    assert.equal((await api(U, 'GET', '/api/v1/spaces/me/changes?since=3', { token: a.access_token })).status, 200);
    await sleep(350);
  }
  await sleep(1100); // the cursors' writer
  const gc = await runCairn(['gc', '--data', srv.dir], { env: { CAIRN_SYNC_RETENTION: '0s', CAIRN_SYNC_DEVICE_IDLE: '2s' } });
  assert.equal(gc.code, 0, gc.stderr);
  // b's cursor holds: only seq 1 goes (2 is x's state at b's cursor)
  assert.match(gc.stdout, /pruned 1 changes/);
  assert.equal((await api(U, 'GET', '/api/v1/spaces/me/changes?since=2', { token: b.access_token })).status, 200);
  await srv.cleanup();
});
