import assert from 'node:assert/strict';
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import { api, signUp, startServer } from './lib/cairn.mjs';

let srv;
let U;
before(async () => {
  srv = await startServer({
    env: {
      CAIRN_RATELIMIT_PER_ADDRESS: '100000',
      CAIRN_RATELIMIT_PER_ACCOUNT: '100000',
      CAIRN_LIMITS_PUSH_CHANGES: '50',
      CAIRN_LIMITS_RECORD_BYTES: '4KiB',
    },
  });
  U = srv.url;
});
after(async () => {
  await srv.cleanup();
});

let opn = 0;
const op = (collection, id, o, extra = {}) => ({ op_id: `op-${++opn}`, collection, id, op: o, ...extra });
const push = (token, space, changes) => api(U, 'POST', `/api/v1/spaces/${space}/changes`, { token, body: { changes } });
const pull = (token, space, q = '') => api(U, 'GET', `/api/v1/spaces/${space}/changes${q}`, { token });

test('every user has a private space, "me"', async () => {
  const s = await signUp(U, 'sy1');
  const list = await api(U, 'GET', '/api/v1/spaces', { token: s.access });
  assert.equal(list.status, 200);
  assert.equal(list.body.spaces.length, 1);
  assert.equal(list.body.spaces[0].kind, 'private');
  assert.equal(list.body.spaces[0].role, 'owner');
  const me = await api(U, 'GET', '/api/v1/spaces/me', { token: s.access });
  assert.equal(me.body.space.id, list.body.spaces[0].id);
  assert.equal((await api(U, 'GET', `/api/v1/spaces/${me.body.space.id}`, { token: s.access })).status, 200);
});

test('push: gapless sequence numbers, records follow, tombstones for deletes', async () => {
  const s = await signUp(U, 'sy2');
  const r = await push(s.access, 'me', [
    op('notes', 'a', 'put', { data: { title: 'A', tags: ['x'] } }),
    op('notes', 'b', 'put', { data: { title: 'B' } }),
    op('notes', 'a', 'patch', { data: { title: 'A2', tags: null } }),
    op('notes', 'b', 'delete'),
  ]);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body.results.map((x) => [x.status, x.seq, x.version]), [['applied', 1, 1], ['applied', 2, 2], ['applied', 3, 3], ['applied', 4, 4]]);
  assert.equal(r.body.head_seq, 4);
  const a = await api(U, 'GET', '/api/v1/spaces/me/records/notes/a', { token: s.access });
  assert.deepEqual(a.body.data, { title: 'A2' });
  assert.equal(a.body.version, 3);
  assert.equal(a.headers.get('etag'), '"3"');
  assert.equal((await api(U, 'GET', '/api/v1/spaces/me/records/notes/b', { token: s.access })).status, 404);
  const recs = await api(U, 'GET', '/api/v1/spaces/me/records', { token: s.access });
  assert.equal(recs.body.as_of_seq, 4);
  assert.deepEqual(recs.body.records.map((x) => [x.id, x.deleted, x.version]), [['a', false, 3], ['b', true, 4]]);
  // a page that takes exactly what is left says there is no more
  const exact = await api(U, 'GET', '/api/v1/spaces/me/records?limit=2', { token: s.access });
  assert.deepEqual([exact.body.records.length, exact.body.more], [2, false]);
  const part = await api(U, 'GET', '/api/v1/spaces/me/records?limit=1', { token: s.access });
  assert.deepEqual([part.body.records.length, part.body.more, part.body.next], [1, true, { after_collection: 'notes', after: 'a', snapshot: 4 }]);
  const p = await pull(s.access, 'me', '?since=0');
  assert.deepEqual(p.body.changes.map((c) => [c.seq, c.op, c.id]), [[1, 'put', 'a'], [2, 'put', 'b'], [3, 'patch', 'a'], [4, 'delete', 'b']]);
  assert.deepEqual(p.body.changes[2].data, { title: 'A2', tags: null });
  assert.equal(p.body.changes[3].data, null);
  assert.equal(p.body.next, 4);
  assert.equal(p.body.more, false);
  assert.equal(p.body.head_seq, 4);
  assert.equal(p.body.changes[0].device_id, s.device.id);
});

test('a repeated op_id returns its first result and is applied once', async () => {
  const s = await signUp(U, 'sy3');
  const changes = [op('c', 'x', 'put', { data: { n: 1 } }), op('c', 'y', 'put', { data: { n: 2 } })];
  const first = await push(s.access, 'me', changes);
  const again = await push(s.access, 'me', changes);
  assert.deepEqual(again.body.results.map((x) => [x.status, x.original_status, x.seq]), [['duplicate', 'applied', 1], ['duplicate', 'applied', 2]]);
  assert.equal(first.body.head_seq, 2);
  assert.equal((await pull(s.access, 'me')).body.head_seq, 2);
  // op ids are per device: another device may use the same one
  const other = await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'sy3', password: s.password } });
  const third = await push(other.body.access_token, 'me', [changes[0]]);
  assert.equal(third.body.results[0].status, 'applied');
  assert.equal(third.body.results[0].seq, 3);
});

test('reject (default): a stale base_version is reported with the server state, not applied', async () => {
  const s = await signUp(U, 'sy4');
  await push(s.access, 'me', [op('notes', 'n', 'put', { data: { v: 1 } })]);
  await push(s.access, 'me', [op('notes', 'n', 'put', { data: { v: 2 }, base_version: 1 })]);
  const stale = await push(s.access, 'me', [op('notes', 'n', 'put', { data: { v: 'mine' }, base_version: 1 })]);
  const res = stale.body.results[0];
  assert.equal(res.status, 'conflict');
  assert.equal(res.reason, 'stale_base_version');
  assert.equal(res.seq, null);
  assert.deepEqual(res.server, { version: 2, data: { v: 2 }, deleted: false });
  assert.equal(stale.body.head_seq, 2);
  // base_version 0 means "must not exist yet"
  const create = await push(s.access, 'me', [op('notes', 'n', 'put', { data: {}, base_version: 0 })]);
  assert.equal(create.body.results[0].status, 'conflict');
  const fresh = await push(s.access, 'me', [op('notes', 'new', 'put', { data: {}, base_version: 0 })]);
  assert.equal(fresh.body.results[0].status, 'applied');
});

test('lww: the newer client time wins, the older is reported lost', async () => {
  const s = await signUp(U, 'sy5');
  await api(U, 'PUT', '/api/v1/spaces/me/collections/prefs', { token: s.access, body: { conflict: 'lww' } });
  await push(s.access, 'me', [op('prefs', 'p', 'put', { data: { theme: 'dark' }, client_ts: '2026-11-22T10:00:05.000Z' })]);
  const older = await push(s.access, 'me', [op('prefs', 'p', 'put', { data: { theme: 'light' }, base_version: 0, client_ts: '2026-11-22T10:00:01.000Z' })]);
  assert.equal(older.body.results[0].status, 'conflict');
  assert.equal(older.body.results[0].reason, 'lww_lost');
  assert.deepEqual(older.body.results[0].server.data, { theme: 'dark' });
  const newer = await push(s.access, 'me', [op('prefs', 'p', 'put', { data: { theme: 'blue' }, base_version: 0, client_ts: '2026-11-22T10:00:09.000Z' })]);
  assert.equal(newer.body.results[0].status, 'applied');
  assert.deepEqual((await api(U, 'GET', '/api/v1/spaces/me/records/prefs/p', { token: s.access })).body.data, { theme: 'blue' });
});

test('merge: patches to different fields of one base both apply; the same field is decided by time', async () => {
  const s = await signUp(U, 'sy6');
  const set = await api(U, 'PUT', '/api/v1/spaces/me/collections/docs', { token: s.access, body: { conflict: 'merge' } });
  assert.equal(set.status, 200);
  await push(s.access, 'me', [op('docs', 'd', 'put', { data: { title: 'T', body: 'B', n: 0 }, client_ts: '2026-11-22T10:00:00.000Z' })]);
  const a = await push(s.access, 'me', [op('docs', 'd', 'patch', { data: { title: 'T-a' }, base_version: 1, client_ts: '2026-11-22T10:00:02.000Z' })]);
  assert.equal(a.body.results[0].status, 'applied');
  const b = await push(s.access, 'me', [op('docs', 'd', 'patch', { data: { body: 'B-b' }, base_version: 1, client_ts: '2026-11-22T10:00:01.000Z' })]);
  assert.equal(b.body.results[0].status, 'applied');
  assert.equal(b.body.results[0].fields, undefined);
  let d = await api(U, 'GET', '/api/v1/spaces/me/records/docs/d', { token: s.access });
  assert.deepEqual(d.body.data, { title: 'T-a', body: 'B-b', n: 0 });
  // same field, older: the server keeps its value; n (untouched by others) applies
  const c = await push(s.access, 'me', [op('docs', 'd', 'patch', { data: { title: 'T-c', n: 5 }, base_version: 1, client_ts: '2026-11-22T10:00:01.500Z' })]);
  assert.equal(c.body.results[0].status, 'applied');
  assert.deepEqual(c.body.results[0].fields, { title: 'server' });
  d = await api(U, 'GET', '/api/v1/spaces/me/records/docs/d', { token: s.access });
  assert.deepEqual(d.body.data, { title: 'T-a', body: 'B-b', n: 5 });
  // same field, newer: the client's value wins and is reported
  const e = await push(s.access, 'me', [op('docs', 'd', 'patch', { data: { title: 'T-e' }, base_version: 1, client_ts: '2026-11-22T10:00:09.000Z' })]);
  assert.deepEqual(e.body.results[0].fields, { title: 'client' });
  // every field lost: a conflict
  const f = await push(s.access, 'me', [op('docs', 'd', 'patch', { data: { title: 'T-f' }, base_version: 1, client_ts: '2026-11-22T09:00:00.000Z' })]);
  assert.equal(f.body.results[0].status, 'conflict');
});

test('append: records are written once; concurrent appends never conflict, overwrites do', async () => {
  const s = await signUp(U, 'sy7');
  await api(U, 'PUT', '/api/v1/spaces/me/collections/log', { token: s.access, body: { conflict: 'append' } });
  const first = await push(s.access, 'me', [op('log', 'l', 'put', { data: { i: 1 } }), op('log', 'm', 'put', { data: { i: 1 }, base_version: 7 })]);
  assert.deepEqual(first.body.results.map((x) => x.status), ['applied', 'applied']);
  // a put (whatever its base_version, or none) or a patch of an existing id is refused
  const r = await push(s.access, 'me', [
    op('log', 'l', 'put', { data: { i: 2 }, base_version: 0 }),
    op('log', 'l', 'put', { data: { i: 3 }, base_version: 1 }),
    op('log', 'l', 'put', { data: { i: 4 } }),
    op('log', 'l', 'patch', { data: { i: 5 }, base_version: 1 }),
  ]);
  assert.deepEqual(r.body.results.map((x) => [x.status, x.reason]), Array(4).fill(['conflict', 'exists']));
  assert.deepEqual(r.body.results[0].server, { version: 1, data: { i: 1 }, deleted: false });
  const http = await api(U, 'PUT', '/api/v1/spaces/me/records/log/l', { token: s.access, body: { i: 6 } });
  assert.equal(http.status, 409);
  assert.equal(http.body.code, 'conflict');
  // a precondition that holds does not change that (412 would send a client round a loop)
  const matching = await api(U, 'PUT', '/api/v1/spaces/me/records/log/l', { token: s.access, body: { i: 6 }, headers: { 'If-Match': '"1"' } });
  assert.equal(matching.status, 409);
  const none = await api(U, 'PUT', '/api/v1/spaces/me/records/log/l', { token: s.access, body: { i: 6 }, headers: { 'If-None-Match': '*' } });
  assert.equal(none.status, 412);
  const rec = await api(U, 'GET', '/api/v1/spaces/me/records/log/l', { token: s.access });
  assert.deepEqual(rec.body.data, { i: 1 });
  assert.equal((await pull(s.access, 'me')).body.head_seq, 2, 'nothing refused was written');
  // a delete removes, and the id may then be written again
  const d = await push(s.access, 'me', [op('log', 'l', 'delete'), op('log', 'l', 'put', { data: { i: 7 } })]);
  assert.deepEqual(d.body.results.map((x) => x.status), ['applied', 'applied']);
  const bad = await api(U, 'PUT', '/api/v1/spaces/me/collections/log', { token: s.access, body: { conflict: 'maybe' } });
  assert.equal(bad.status, 400);
});

test('deletes of what is not there write nothing: push says unchanged, HTTP DELETE 404', async () => {
  const s = await signUp(U, 'sy-del');
  await push(s.access, 'me', [op('c', 'gone', 'put', { data: {} }), op('c', 'gone', 'delete')]);
  const again = op('c', 'gone', 'delete');
  const r = await push(s.access, 'me', [again, op('c', 'never', 'delete'), op('c', 'never', 'delete', { base_version: 5 }), op('c', 'new', 'put', { data: {} })]);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body.results.map((x) => [x.status, x.seq]), [['unchanged', null], ['unchanged', null], ['unchanged', null], ['applied', 3]]);
  assert.equal(r.body.results[0].version, 2, 'the tombstone\'s version');
  const dup = await push(s.access, 'me', [again]);
  assert.deepEqual([dup.body.results[0].status, dup.body.results[0].original_status], ['duplicate', 'unchanged']);
  for (const id of ['gone', 'never']) {
    const h = await api(U, 'DELETE', `/api/v1/spaces/me/records/c/${id}`, { token: s.access });
    assert.equal(h.status, 404, id);
    assert.equal(h.body.code, 'not_found');
    const m = await api(U, 'DELETE', `/api/v1/spaces/me/records/c/${id}`, { token: s.access, headers: { 'If-Match': '"2"' } });
    assert.equal(m.status, 412, `${id} with If-Match`);
  }
  assert.equal((await pull(s.access, 'me')).body.head_seq, 3, 'no tombstone was added');
  assert.equal((await api(U, 'DELETE', '/api/v1/spaces/me/records/c/new', { token: s.access })).status, 204);
});

test('a patch of a record that is not there is a conflict, not a failed batch', async () => {
  const s = await signUp(U, 'sy-patch');
  await push(s.access, 'me', [op('c', 'd', 'put', { data: { a: 1 } }), op('c', 'd', 'delete')]);
  const r = await push(s.access, 'me', [op('c', 'd', 'patch', { data: { a: 2 }, base_version: 1 }), op('c', 'never', 'patch', { data: { a: 2 } }), op('c', 'ok', 'put', { data: {} })]);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body.results.map((x) => [x.status, x.reason]), [['conflict', 'deleted'], ['conflict', 'not_found'], ['applied', undefined]]);
  assert.deepEqual(r.body.results[0].server, { version: 2, data: null, deleted: true });
});

test('HTTP preconditions hold whatever the policy: If-None-Match * on PUT, If-Match, and 304 on GET', async () => {
  const s = await signUp(U, 'sy-cond');
  await api(U, 'PUT', '/api/v1/spaces/me/collections/w', { token: s.access, body: { conflict: 'lww' } });
  for (const coll of ['c', 'w']) {
    const path = `/api/v1/spaces/me/records/${coll}/x`;
    const create = await api(U, 'PUT', path, { token: s.access, body: { v: 1 }, headers: { 'If-None-Match': '*' } });
    assert.equal(create.status, 200, coll);
    const v = Number(JSON.parse(create.headers.get('etag')));
    const over = await api(U, 'PUT', path, { token: s.access, body: { v: 2 }, headers: { 'If-None-Match': ' * ' } });
    assert.equal(over.status, 412, `${coll}: If-None-Match * over an existing record`);
    assert.equal(over.headers.get('etag'), `"${v}"`);
    const stale = await api(U, 'PUT', path, { token: s.access, body: { v: 3 }, headers: { 'If-Match': `"${v - 1}"` } });
    assert.equal(stale.status, 412, `${coll}: a stale If-Match`);
    assert.deepEqual((await api(U, 'GET', path, { token: s.access })).body.data, { v: 1 });
    // a deleted record is not there: If-None-Match * may create it again
    assert.equal((await api(U, 'DELETE', path, { token: s.access })).status, 204);
    assert.equal((await api(U, 'PUT', path, { token: s.access, body: { v: 4 }, headers: { 'If-None-Match': '*' } })).status, 200);
  }
  const path = '/api/v1/spaces/me/records/c/x';
  for (const [headers, method] of [[{ 'If-None-Match': '"3"' }, 'PUT'], [{ 'If-None-Match': '*' }, 'DELETE'], [{ 'If-None-Match': '*', 'If-Match': '"3"' }, 'PUT'], [{ 'If-None-Match': '**' }, 'PUT']]) {
    const r = await api(U, method, path, { token: s.access, body: method === 'PUT' ? {} : undefined, headers });
    assert.equal(r.status, 400, `${method} ${JSON.stringify(headers)}`);
  }
  // If-Match names a version of a record that is there: never 0, never a tombstone's
  const fresh = '/api/v1/spaces/me/records/c/fresh';
  assert.equal((await api(U, 'PUT', fresh, { token: s.access, body: {}, headers: { 'If-Match': '"0"' } })).status, 412);
  const made = await api(U, 'PUT', fresh, { token: s.access, body: {} });
  const madeTag = made.headers.get('etag');
  assert.equal((await api(U, 'DELETE', fresh, { token: s.access, headers: { 'If-Match': madeTag } })).status, 204);
  const tomb = Number(JSON.parse(madeTag)) + 1;
  assert.equal((await api(U, 'PUT', fresh, { token: s.access, body: {}, headers: { 'If-Match': `"${tomb}"` } })).status, 412, 'a tombstone\'s version');
  assert.equal((await api(U, 'GET', fresh, { token: s.access })).status, 404, 'still deleted');
  assert.equal((await api(U, 'PUT', path, { token: s.access, body: {}, headers: { 'If-Match': '"01"' } })).status, 400, 'a leading zero is no tag of ours');
  const got = await api(U, 'GET', path, { token: s.access });
  const etag = got.headers.get('etag');
  for (const inm of [etag, `W/${etag}`, `"1", ${etag}`, '*']) {
    const res = await fetch(U + path, { headers: { Authorization: `Bearer ${s.access}`, 'If-None-Match': inm } });
    assert.equal(res.status, 304, inm);
    assert.equal(res.headers.get('etag'), etag);
    assert.equal(await res.text(), '');
  }
  const other = await fetch(U + path, { headers: { Authorization: `Bearer ${s.access}`, 'If-None-Match': '"1"' } });
  assert.equal(other.status, 200);
});

test('bad input: 400 or 413 naming the problem, and nothing in the request applied', async () => {
  const s = await signUp(U, 'sy8');
  await push(s.access, 'me', [op('c', 'keep', 'put', { data: {} })]);
  const cases = [
    [[op('c', 'ok', 'put', { data: {} }), { collection: 'c', id: 'x', op: 'put', data: {} }], 400, /op_id/],
    [[op('c', 'ok', 'put', { data: {} }), op('c', 'x', 'upsert', { data: {} })], 400, /op must be/],
    [[op('bad name', 'x', 'put', { data: {} })], 400, /collection/],
    [[op('c', 'x/y', 'put', { data: {} })], 400, /id must be/],
    [[op('c', 'x', 'put', { data: [1] })], 400, /JSON object/],
    [[op('c', 'x', 'put', { data: { big: 'x'.repeat(5000) } })], 400, /limits\.record_bytes/],
    [[op('c', 'x', 'put', { data: {}, client_ts: 'yesterday' })], 400, /client_ts/],
    [[{ ...op('c', 'x', 'put', { data: {} }), op_id: 'same' }, { ...op('c', 'y', 'put', { data: {} }), op_id: 'same' }], 400, /repeats/],
    [Array.from({ length: 51 }, (_, i) => op('c', `m${i}`, 'put', { data: {} })), 413, /limits\.push_changes/],
  ];
  for (const [changes, status, re] of cases) {
    const r = await push(s.access, 'me', changes);
    assert.equal(r.status, status, JSON.stringify(r.body));
    assert.match(JSON.stringify(r.body), re);
  }
  assert.equal((await push(s.access, 'me', 'nope')).status, 400);
  assert.equal((await api(U, 'POST', '/api/v1/spaces/me/changes', { token: s.access, body: {} })).status, 400);
  const p = await pull(s.access, 'me');
  assert.equal(p.body.head_seq, 1, 'something was applied');
  assert.equal((await api(U, 'GET', '/api/v1/spaces/me/records/c/ok', { token: s.access })).status, 404);
  for (const q of ['?since=-1', '?limit=0', '?limit=100001', '?wait=99999', '?since=x']) assert.equal((await pull(s.access, 'me', q)).status, 400, q);
});

test('pull pages with next and more', async () => {
  const s = await signUp(U, 'sy9');
  await push(s.access, 'me', Array.from({ length: 25 }, (_, i) => op('c', `r${i}`, 'put', { data: { i } })));
  const seen = [];
  let since = 0;
  for (;;) {
    const p = await pull(s.access, 'me', `?since=${since}&limit=10`);
    seen.push(...p.body.changes.map((c) => c.seq));
    since = p.body.next;
    if (!p.body.more) break;
  }
  assert.deepEqual(seen, Array.from({ length: 25 }, (_, i) => i + 1));
  const end = await pull(s.access, 'me', '?since=25');
  assert.deepEqual([end.body.changes, end.body.next, end.body.more], [[], 25, false]);
});

test('long-poll: a pull with wait is answered by the next push, or empty when time runs out', async () => {
  const s = await signUp(U, 'sy10');
  const t0 = Date.now();
  const waiting = pull(s.access, 'me', '?since=0&wait=10');
  await new Promise((r) => setTimeout(r, 300));
  await push(s.access, 'me', [op('c', 'x', 'put', { data: { woke: true } })]);
  const p = await waiting;
  const took = Date.now() - t0;
  assert.equal(p.status, 200);
  assert.deepEqual(p.body.changes.map((c) => c.data), [{ woke: true }]);
  assert.ok(took >= 250 && took < 5000, `took ${took}`);
  const t1 = Date.now();
  const empty = await pull(s.access, 'me', '?since=1&wait=1');
  assert.deepEqual(empty.body.changes, []);
  assert.ok(Date.now() - t1 >= 900);
  // a push to another space does not wake it
  const other = await signUp(U, 'sy10b');
  const w2 = pull(s.access, 'me', '?since=1&wait=2');
  await push(other.access, 'me', [op('c', 'y', 'put', { data: {} })]);
  const r2 = await w2;
  assert.deepEqual(r2.body.changes, []);
});

test('one record: ETag, If-Match (412 when stale), history', async () => {
  const s = await signUp(U, 'sy11');
  const put = await api(U, 'PUT', '/api/v1/spaces/me/records/notes/one', { token: s.access, body: { text: 'v1' } });
  assert.equal(put.status, 200);
  assert.equal(put.headers.get('etag'), '"1"');
  const ok = await api(U, 'PUT', '/api/v1/spaces/me/records/notes/one', { token: s.access, body: { text: 'v2' }, headers: { 'If-Match': '"1"' } });
  assert.equal(ok.status, 200);
  const stale = await api(U, 'PUT', '/api/v1/spaces/me/records/notes/one', { token: s.access, body: { text: 'v3' }, headers: { 'If-Match': '"1"' } });
  assert.equal(stale.status, 412);
  assert.equal(stale.headers.get('etag'), '"2"');
  assert.equal((await api(U, 'DELETE', '/api/v1/spaces/me/records/notes/one', { token: s.access, headers: { 'If-Match': '"1"' } })).status, 412);
  const hist = await api(U, 'GET', '/api/v1/spaces/me/records/notes/one/history', { token: s.access });
  assert.deepEqual(hist.body.versions.map((v) => [v.version, v.data.text]), [[2, 'v2'], [1, 'v1']]);
  assert.equal((await api(U, 'DELETE', '/api/v1/spaces/me/records/notes/one', { token: s.access, headers: { 'If-Match': '2' } })).status, 204);
  assert.equal((await api(U, 'GET', '/api/v1/spaces/me/records/notes/one', { token: s.access })).status, 404);
  assert.equal((await api(U, 'PUT', '/api/v1/spaces/me/records/notes/one', { token: s.access, body: [1] })).status, 400);
  assert.equal((await api(U, 'GET', '/api/v1/spaces/me/records/notes/none/history', { token: s.access })).status, 404);
});

test('shared spaces: members and roles; a removed member loses access at once', async () => {
  const owner = await signUp(U, 'own1');
  const w = await signUp(U, 'wri1');
  const rd = await signUp(U, 'rea1');
  const out = await signUp(U, 'out1');
  const c = await api(U, 'POST', '/api/v1/spaces', { token: owner.access, body: { name: 'Team', kind: 'shared' } });
  assert.equal(c.status, 201);
  const id = c.body.space.id;
  assert.equal(c.body.space.role, 'owner');
  assert.equal((await api(U, 'POST', '/api/v1/spaces', { token: owner.access, body: { name: 'x', kind: 'private' } })).status, 400);
  assert.equal((await api(U, 'POST', `/api/v1/spaces/${id}/members`, { token: owner.access, body: { username: 'wri1', role: 'writer' } })).status, 200);
  const m = await api(U, 'POST', `/api/v1/spaces/${id}/members`, { token: owner.access, body: { username: 'rea1', role: 'reader' } });
  assert.deepEqual(m.body.members.map((x) => [x.username, x.role]), [['own1', 'owner'], ['wri1', 'writer'], ['rea1', 'reader']]);
  assert.equal((await api(U, 'POST', `/api/v1/spaces/${id}/members`, { token: owner.access, body: { username: 'rea1', role: 'reader' } })).status, 409);
  assert.equal((await api(U, 'POST', `/api/v1/spaces/${id}/members`, { token: owner.access, body: { username: 'nobody', role: 'reader' } })).status, 400);
  // the writer pushes, the reader reads but cannot push
  assert.equal((await push(w.access, id, [op('c', 'x', 'put', { data: { by: 'w' } })])).status, 200);
  assert.equal((await pull(rd.access, id)).body.changes.length, 1);
  const ro = await push(rd.access, id, [op('c', 'y', 'put', { data: {} })]);
  assert.equal(ro.status, 403);
  // outsiders see nothing
  assert.equal((await pull(out.access, id)).status, 404);
  assert.equal((await api(U, 'GET', `/api/v1/spaces/${id}`, { token: out.access })).status, 404);
  // writers cannot manage members
  assert.equal((await api(U, 'POST', `/api/v1/spaces/${id}/members`, { token: w.access, body: { username: 'out1', role: 'reader' } })).status, 403);
  // the list shows the space with each one's role
  const ls = await api(U, 'GET', '/api/v1/spaces', { token: rd.access });
  assert.ok(ls.body.spaces.some((x) => x.id === id && x.role === 'reader' && x.kind === 'shared'));
  // removing the writer ends access at once
  assert.equal((await api(U, 'DELETE', `/api/v1/spaces/${id}/members/wri1`, { token: owner.access })).status, 204);
  assert.equal((await pull(w.access, id)).status, 404);
  assert.equal((await push(w.access, id, [op('c', 'z', 'put', { data: {} })])).status, 404);
  // re-role, leave, owner rules
  assert.equal((await api(U, 'PATCH', `/api/v1/spaces/${id}/members/rea1`, { token: owner.access, body: { role: 'writer' } })).status, 200);
  assert.equal((await push(rd.access, id, [op('c', 'y', 'put', { data: {} })])).status, 200);
  assert.equal((await api(U, 'DELETE', `/api/v1/spaces/${id}/members/own1`, { token: owner.access })).status, 409);
  assert.equal((await api(U, 'DELETE', `/api/v1/spaces/${id}/members/rea1`, { token: rd.access })).status, 204);
  assert.equal((await pull(rd.access, id)).status, 404);
  assert.equal((await api(U, 'PATCH', `/api/v1/spaces/${id}`, { token: owner.access, body: { name: 'Team 2' } })).body.space.name, 'Team 2');
  assert.equal((await api(U, 'DELETE', `/api/v1/spaces/${id}`, { token: owner.access })).status, 204);
  assert.equal((await pull(owner.access, id)).status, 404);
  // private spaces are not shared
  assert.equal((await api(U, 'POST', '/api/v1/spaces/me/members', { token: owner.access, body: { username: 'out1', role: 'reader' } })).status, 403);
});

test('concurrent writers keep every sequence gapless; readers see each change once, in order', async () => {
  const owner = await signUp(U, 'conc');
  const spaces = [];
  for (let i = 0; i < 3; i++) {
    const c = await api(U, 'POST', '/api/v1/spaces', { token: owner.access, body: { name: `c${i}`, kind: 'shared' } });
    spaces.push(c.body.space.id);
  }
  const writers = [];
  for (let w = 0; w < 6; w++) {
    const dev = await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'conc', password: owner.password } });
    writers.push(dev.body.access_token);
  }
  const pushesPerWriter = 15;
  const batch = 7;
  let stop = false;
  // readers follow each space with their cursor while writers push
  const readers = spaces.map(async (sp) => {
    const seen = [];
    let since = 0;
    while (!stop || since < (await pull(owner.access, sp, `?since=${since}&limit=1`)).body.head_seq) {
      const p = await pull(owner.access, sp, `?since=${since}&limit=13`);
      assert.equal(p.status, 200);
      for (const c of p.body.changes) seen.push(c.seq);
      since = p.body.next;
    }
    return seen;
  });
  await Promise.all(writers.map(async (tok, w) => {
    for (let i = 0; i < pushesPerWriter; i++) {
      const sp = spaces[(w + i) % spaces.length];
      const r = await push(tok, sp, Array.from({ length: batch }, (_, k) => op('c', `w${w}-${i}-${k}`, 'put', { data: { w, i, k } })));
      assert.equal(r.status, 200);
      assert.ok(r.body.results.every((x) => x.status === 'applied'));
      const seqs = r.body.results.map((x) => x.seq);
      // one request's changes are consecutive: nobody can interleave inside a transaction
      assert.deepEqual(seqs, seqs.map((_, k) => seqs[0] + k));
    }
  }));
  stop = true;
  const seen = await Promise.all(readers);
  let total = 0;
  for (let i = 0; i < spaces.length; i++) {
    const head = (await pull(owner.access, spaces[i])).body.head_seq;
    total += head;
    assert.deepEqual(seen[i], Array.from({ length: head }, (_, k) => k + 1), `space ${spaces[i]}`);
  }
  assert.equal(total, writers.length * pushesPerWriter * batch);
});

test('wrapped space keys: a new epoch covers every member; each member reads their own', async () => {
  const o = await signUp(U, 'key1');
  const m = await signUp(U, 'key2');
  const x = await signUp(U, 'key3');
  const id = (await api(U, 'POST', '/api/v1/spaces', { token: o.access, body: { name: 'E2E' } })).body.space.id;
  const members = (await api(U, 'POST', `/api/v1/spaces/${id}/members`, { token: o.access, body: { username: 'key2', role: 'writer' } })).body.members;
  const ids = Object.fromEntries(members.map((mm) => [mm.username, mm.user_id]));
  assert.equal((await api(U, 'GET', `/api/v1/spaces/${id}/keys`, { token: m.access })).status, 404);
  // must cover every member, and nobody else
  const partial = await api(U, 'PUT', `/api/v1/spaces/${id}/keys`, { token: o.access, body: { epoch: 1, keys: { [ids.key1]: 'wrapped-for-owner' } } });
  assert.equal(partial.status, 409);
  const outsider = await api(U, 'PUT', `/api/v1/spaces/${id}/keys`, {
    token: o.access, body: { epoch: 1, keys: { [ids.key1]: 'a', [x.user.id]: 'b' } },
  });
  assert.equal(outsider.status, 409);
  const ok = await api(U, 'PUT', `/api/v1/spaces/${id}/keys`, {
    token: o.access, body: { epoch: 1, keys: { [ids.key1]: 'wrapped-for-owner', [ids.key2]: 'wrapped-for-member' } },
  });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  const mine = await api(U, 'GET', `/api/v1/spaces/${id}/keys`, { token: m.access });
  assert.deepEqual(mine.body, { epoch: 1, wrapped_key: 'wrapped-for-member' });
  assert.equal((await api(U, 'GET', `/api/v1/spaces/${id}`, { token: m.access })).body.space.key_epoch, 1);
  // the epoch only moves forward; writers cannot rotate keys; bad input is named
  const same = await api(U, 'PUT', `/api/v1/spaces/${id}/keys`, { token: o.access, body: { epoch: 1, keys: { [ids.key1]: 'a', [ids.key2]: 'b' } } });
  assert.equal(same.status, 409);
  assert.equal((await api(U, 'PUT', `/api/v1/spaces/${id}/keys`, { token: m.access, body: { epoch: 2, keys: { [ids.key1]: 'a', [ids.key2]: 'b' } } })).status, 403);
  const bad = await api(U, 'PUT', `/api/v1/spaces/${id}/keys`, { token: o.access, body: { epoch: 0, keys: [] } });
  assert.equal(bad.status, 400);
  assert.deepEqual(Object.keys(bad.body.fields).sort(), ['epoch', 'keys']);
  const notId = await api(U, 'PUT', `/api/v1/spaces/${id}/keys`, { token: o.access, body: { epoch: 2, keys: { alice: 'a' } } });
  assert.equal(notId.status, 400);
  // a new member has no key until the next epoch
  await api(U, 'POST', `/api/v1/spaces/${id}/members`, { token: o.access, body: { username: 'key3', role: 'reader' } });
  assert.equal((await api(U, 'GET', `/api/v1/spaces/${id}/keys`, { token: x.access })).status, 404);
  const two = await api(U, 'PUT', `/api/v1/spaces/${id}/keys`, {
    token: o.access, body: { epoch: 2, keys: { [ids.key1]: 'o2', [ids.key2]: 'm2', [x.user.id]: 'x2' } },
  });
  assert.equal(two.status, 200);
  assert.deepEqual((await api(U, 'GET', `/api/v1/spaces/${id}/keys`, { token: x.access })).body, { epoch: 2, wrapped_key: 'x2' });
});

// One GET with the given headers through node:http (which, unlike fetch, leaves the body
// as it came): status, headers and the raw bytes.
function rawGet(url, headers) {
  return new Promise((resolve, reject) => {
    http.get(url, { headers }, (res) => {
      const parts = [];
      res.on('data', (d) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(parts) }));
    }).on('error', reject);
  });
}

test('pulls and records listings go gzip-compressed to clients that take it, above a size', async () => {
  const srv = await startServer({ env: { CAIRN_RATELIMIT_PER_ADDRESS: '10000' } });
  const a = await signUp(srv.url, 'gz');
  const changes = Array.from({ length: 200 }, (_, i) => ({ op_id: `gz${i}`, collection: 'notes', id: `n${i}`, op: 'put', data: { text: 'a note that repeats itself '.repeat(4), i } }));
  assert.equal((await api(srv.url, 'POST', '/api/v1/spaces/me/changes', { token: a.access, body: { changes } })).status, 200);
  const auth = { Authorization: `Bearer ${a.access}` };
  for (const path of ['/api/v1/spaces/me/changes?limit=500', '/api/v1/spaces/me/records?limit=500']) {
    const plain = await rawGet(srv.url + path, auth);
    assert.equal(plain.status, 200);
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(plain.headers.vary, 'Accept-Encoding');
    const z = await rawGet(srv.url + path, { ...auth, 'Accept-Encoding': 'br;q=1, gzip;q=0.8' });
    assert.equal(z.headers['content-encoding'], 'gzip', path);
    assert.equal(z.headers.vary, 'Accept-Encoding');
    assert.ok(z.body.length < plain.body.length / 4, `${z.body.length} of ${plain.body.length}`);
    const unzipped = JSON.parse(gunzipSync(z.body));
    const want = JSON.parse(plain.body);
    assert.deepEqual(unzipped, want);
    // refused, or not offered: as it is
    for (const ae of ['gzip;q=0', 'identity', 'br, *;q=0']) {
      const r = await rawGet(srv.url + path, { ...auth, 'Accept-Encoding': ae });
      assert.equal(r.headers['content-encoding'], undefined, ae);
    }
    assert.equal((await rawGet(srv.url + path, { ...auth, 'Accept-Encoding': '*' })).headers['content-encoding'], 'gzip');
  }
  // small answers go as they are; errors too
  const small = await rawGet(`${srv.url}/api/v1/spaces/me/changes?since=200`, { ...auth, 'Accept-Encoding': 'gzip' });
  assert.equal(small.headers['content-encoding'], undefined);
  const err = await rawGet(`${srv.url}/api/v1/spaces/me/changes?limit=x`, { ...auth, 'Accept-Encoding': 'gzip' });
  assert.equal(err.status, 400);
  assert.equal(err.headers['content-encoding'], undefined);
  await srv.cleanup();
  // server.gzip_level = 0: never
  const off = await startServer({ env: { CAIRN_SERVER_GZIP_LEVEL: '0' } });
  const b = await signUp(off.url, 'gz0');
  await api(off.url, 'POST', '/api/v1/spaces/me/changes', { token: b.access, body: { changes } });
  const r = await rawGet(`${off.url}/api/v1/spaces/me/changes?limit=500`, { Authorization: `Bearer ${b.access}`, 'Accept-Encoding': 'gzip' });
  assert.equal(r.headers['content-encoding'], undefined);
  await off.cleanup();
});
