// A bootstrap is one consistent snapshot: the first page of a records listing names the
// seq it is as of (`snapshot`), later pages pass it back and see the records as they were
// then, whatever was written meanwhile; pruning keeps every state from its horizon on,
// and a snapshot below the horizon, past the head or of another epoch gets 410.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api, runCairn, signUp, sleep, startServer } from './lib/cairn.mjs';

const env = { CAIRN_SYNC_RETENTION: '0s', CAIRN_SYNC_GC_INTERVAL: '0', CAIRN_RATELIMIT_PER_ADDRESS: '10000', CAIRN_RATELIMIT_PER_ACCOUNT: '10000' };

async function setUp() {
  const srv = await startServer({ env });
  const a = await signUp(srv.url, 'snap', { device: 'a' });
  let n = 0;
  const push = async (changes) => {
    const r = await api(srv.url, 'POST', '/api/v1/spaces/me/changes', { token: a.access, body: { changes: changes.map((c) => ({ op_id: `s${++n}`, collection: 'c', ...c })) } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    for (const x of r.body.results) assert.equal(x.status, 'applied', JSON.stringify(x));
    return r.body;
  };
  const list = (q, token = a.access) => api(srv.url, 'GET', `/api/v1/spaces/me/records?${q}`, { token });
  return { srv, a, push, list };
}

// every page of a listing from the given query on, following next
async function all(list, q) {
  const out = [];
  let r = await list(q);
  for (;;) {
    assert.equal(r.status, 200, JSON.stringify(r.body));
    out.push(r.body);
    if (!r.body.more) return out;
    const nx = r.body.next;
    r = await list(`limit=2&snapshot=${nx.snapshot}&after_collection=${nx.after_collection}&after=${nx.after}`);
  }
}

test('later pages of a snapshot show the records as they were at it', async () => {
  const { srv, push, list } = await setUp();
  await push([
    { id: 'a', op: 'put', data: { v: 1 } },
    { id: 'b', op: 'put', data: { v: 1 } },
    { id: 'c', op: 'put', data: { v: 1 } },
    { id: 'd', op: 'put', data: { v: 1 } },
    { id: 'e', op: 'put', data: { v: 1 } },
  ]); // 1-5
  await push([{ id: 'd2', op: 'put', data: { v: 1 } }, { id: 'd2', op: 'patch', data: { w: 1 } }]); // 6 7
  const first = await list('limit=2');
  assert.equal(first.status, 200);
  assert.equal(first.body.snapshot, 7);
  assert.equal(first.body.as_of_seq, 7);
  assert.deepEqual(first.body.next, { after_collection: 'c', after: 'b', snapshot: 7 });
  // written while the device pages through
  await push([
    { id: 'c', op: 'put', data: { v: 2 } }, // 8
    { id: 'cc', op: 'put', data: { v: 1 } }, // 9: created after the snapshot
    { id: 'd', op: 'patch', data: { w: 2 } }, // 10
    { id: 'd2', op: 'put', data: { v: 9 } }, // 11: its state at 7 is a patch's
    { id: 'e', op: 'delete' }, // 12
    { id: 'f', op: 'put', data: { v: 1 } }, // 13: created after
    { id: 'a', op: 'delete' }, // 14: on a page already read
  ]);
  const pages = await all(list, `limit=2&snapshot=7&after_collection=c&after=b`);
  const seen = pages.flatMap((p) => p.records.map((x) => [x.id, x.version, x.data, x.deleted]));
  assert.deepEqual(seen, [
    ['c', 3, { v: 1 }, false],
    ['d', 4, { v: 1 }, false],
    ['d2', 7, { v: 1, w: 1 }, false],
    ['e', 5, { v: 1 }, false],
  ]);
  for (const p of pages) assert.equal(p.snapshot, 7);
  assert.equal(pages.at(-1).more, false);
  // without a snapshot, the listing is of now
  const now = (await list('limit=100')).body;
  assert.equal(now.snapshot, 14);
  assert.deepEqual(now.records.map((x) => [x.id, x.deleted]), [
    ['a', true], ['b', false], ['c', false], ['cc', false], ['d', false], ['d2', false], ['e', true], ['f', false],
  ]);
  assert.deepEqual(now.records.find((x) => x.id === 'd').data, { v: 1, w: 2 });
  // a full pass at the old snapshot agrees with the first pages
  const again = await all(list, 'limit=2&snapshot=7');
  assert.deepEqual(again.flatMap((p) => p.records.map((x) => x.id)), ['a', 'b', 'c', 'd', 'd2', 'e']);
  assert.deepEqual(again[0].records[0].data, { v: 1 });
  await srv.cleanup();
});

test('a snapshot at or above the pruning horizon survives pruning; one below, past the head or of another epoch is 410', async () => {
  const { srv, a, push, list } = await setUp();
  const b = await api(srv.url, 'POST', '/api/v1/auth/login', { body: { username: 'snap', password: a.password, device: { name: 'b' } } });
  await push([{ id: 'x', op: 'put', data: { v: 1 } }, { id: 'x', op: 'put', data: { v: 2 } }, { id: 'y', op: 'put', data: { v: 1 } }]); // 1-3
  await push([{ id: 'x', op: 'put', data: { v: 3 } }, { id: 'y', op: 'delete' }]); // 4 5
  // device b applied up to 3 (and bootstraps at 3); device a is at the head
  assert.equal((await api(srv.url, 'GET', '/api/v1/spaces/me/changes?since=3', { token: b.body.access_token })).status, 200);
  assert.equal((await api(srv.url, 'GET', '/api/v1/spaces/me/changes?since=5', { token: a.access })).status, 200);
  await sleep(1300); // reported cursors are written once a second
  const gc = await runCairn(['gc', '--data', srv.dir], { env: { CAIRN_SYNC_RETENTION: '0s' } });
  assert.equal(gc.code, 0, gc.stderr);
  // x v1 goes (x v2 follows at or below 3); x v2 stays, as x's state at 3
  assert.match(gc.stdout, /pruned 1 changes and 0 tombstones/);
  let r = await list('snapshot=3');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body.records.map((x) => [x.id, x.version, x.data, x.deleted]), [['x', 2, { v: 2 }, false], ['y', 3, { v: 1 }, false]]);

  // below the horizon
  r = await list('snapshot=0');
  assert.equal(r.status, 410);
  assert.equal(r.body.code, 'cursor_expired');
  assert.match(r.body.epoch, /^[0-9a-f]{16}$/);
  const epoch = r.body.epoch;
  assert.match(r.body.error, /pruned since the snapshot 0/);
  // past the head
  r = await list('snapshot=6');
  assert.equal(r.status, 410);
  assert.equal(r.body.code, 'cursor_expired');
  assert.match(r.body.error, /past this space's last change/);
  // of another history of the log
  r = await list(`snapshot=3&epoch=${'0'.repeat(16)}`);
  assert.equal(r.status, 410);
  assert.match(r.body.error, /another one than the snapshot came from/);
  // as on pulls: the space's epoch in any case, or an empty one, is no mismatch
  for (const e of [epoch, epoch.toUpperCase(), '']) {
    r = await list(`snapshot=3&epoch=${e}`);
    assert.equal(r.status, 200, `epoch '${e}'`);
  }
  // not a seq
  for (const bad of ['-1', 'x', '1e3', '99999999999999999999']) {
    r = await list(`snapshot=${bad}`);
    assert.equal(r.status, 400, bad);
    assert.equal(r.body.code, 'validation_failed', bad);
    assert.match(r.body.fields.snapshot, /whole number/, bad);
  }
  await srv.cleanup();
});

test('a page of an old snapshot scans a bounded number of records created since, then ends early with more', async () => {
  const { srv, push, list } = await setUp();
  await push([{ id: 'a', op: 'put', data: {} }, { id: 'z', op: 'put', data: {} }]); // 1 2: the snapshot
  const later = [];
  for (let i = 0; i < 250; i++) later.push({ id: `b${String(i).padStart(3, '0')}`, op: 'put', data: {} });
  await push(later);
  let r = await list('limit=1&snapshot=2&after_collection=c&after=a');
  const pages = [];
  for (;;) {
    assert.equal(r.status, 200, JSON.stringify(r.body));
    pages.push(r.body);
    if (!r.body.more) break;
    const nx = r.body.next;
    r = await list(`limit=1&snapshot=${nx.snapshot}&after_collection=${nx.after_collection}&after=${nx.after}`);
  }
  // 100 left-out records per record asked for, then the page ends where it got to
  assert.deepEqual(pages.map((p) => [p.records.map((x) => x.id), p.more, p.next && p.next.after]), [
    [[], true, 'b099'], [[], true, 'b199'], [['z'], false, 'z'],
  ]);
  await srv.cleanup();
});

test('a full page of an old snapshot stops passing over records created since at the same bound', async () => {
  const { srv, push, list } = await setUp();
  await push([{ id: 'a1', op: 'put', data: {} }, { id: 'a2', op: 'put', data: {} }, { id: 'a3', op: 'put', data: {} }]); // 1-3
  const later = [];
  for (let i = 0; i < 300; i++) later.push({ id: `b${String(i).padStart(3, '0')}`, op: 'put', data: {} });
  await push(later);
  // the page is full after a3; what follows was created since: 200 (100 per record asked
  // for) are passed over, then the page ends where it got to
  let r = await list('limit=2&snapshot=3&after_collection=c&after=a1');
  assert.equal(r.status, 200);
  assert.deepEqual([r.body.records.map((x) => x.id), r.body.more, r.body.next.after], [['a2', 'a3'], true, 'b199']);
  r = await list('limit=2&snapshot=3&after_collection=c&after=b199');
  assert.deepEqual([r.body.records.map((x) => x.id), r.body.more], [[], false]);
  await srv.cleanup();
});
