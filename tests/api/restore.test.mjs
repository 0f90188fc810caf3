// Cursors from another history of a space's log: a cursor above the head, or an epoch
// that is not the space's, answers 410 cursor_expired; cairn restore-epochs gives every
// space a new epoch after a backup is copied back.
import assert from 'node:assert/strict';
import { cpSync, rmSync } from 'node:fs';
import { test } from 'node:test';
import { api, rawRequest, runCairn, signUp, startServer, tempDir } from './lib/cairn.mjs';

let n = 0;
const put = (id) => ({ op_id: `r${++n}`, collection: 'c', id, op: 'put', data: { n } });
const push = (url, token, changes) => api(url, 'POST', '/api/v1/spaces/me/changes', { token, body: { changes } });

test('every space has an epoch; a cursor above the head or from another epoch is 410', async () => {
  const srv = await startServer();
  try {
    const U = srv.url;
    const s = await signUp(U, 'ep1');
    await push(U, s.access, [put('a'), put('b')]);
    const p = await api(U, 'GET', '/api/v1/spaces/me/changes?since=0', { token: s.access });
    assert.match(p.body.epoch, /^[0-9a-f]{16}$/);
    const epoch = p.body.epoch;
    const recs = await api(U, 'GET', '/api/v1/spaces/me/records', { token: s.access });
    assert.equal(recs.body.epoch, epoch);
    assert.equal((await api(U, 'GET', '/api/v1/spaces/me', { token: s.access })).body.space.epoch, epoch);
    const shared = await api(U, 'POST', '/api/v1/spaces', { token: s.access, body: { name: 'other' } });
    assert.match(shared.body.space.epoch, /^[0-9a-f]{16}$/);
    assert.notEqual(shared.body.space.epoch, epoch, 'each space has its own');
    // the event stream names it too
    const ev = await rawRequest(srv.port, `GET /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${s.access}\r\n\r\n`, { timeoutMs: 500 });
    assert.match(ev.body, new RegExp(`"epoch":"${epoch}","head_seq":2`));

    assert.equal((await api(U, 'GET', `/api/v1/spaces/me/changes?since=2&epoch=${epoch}`, { token: s.access })).status, 200);
    // the epoch is read as hex in any case; an empty one counts as none
    for (const q of [`since=2&epoch=${epoch.toUpperCase()}`, 'since=0&epoch=']) {
      assert.equal((await api(U, 'GET', `/api/v1/spaces/me/changes?${q}`, { token: s.access })).status, 200, q);
    }
    for (const q of ['since=3', 'since=999', 'since=999&wait=5', `since=0&epoch=${'0'.repeat(16)}`, 'since=2&epoch=x']) {
      const t0 = Date.now();
      const r = await api(U, 'GET', `/api/v1/spaces/me/changes?${q}`, { token: s.access });
      assert.equal(r.status, 410, q);
      assert.equal(r.body.code, 'cursor_expired', q);
      assert.equal(r.body.epoch, epoch, q);
      assert.ok(Date.now() - t0 < 2000, `${q} answered at once`);
    }
  } finally {
    await srv.cleanup();
  }
});

test('after a backup is copied back, cairn restore-epochs makes stale cursors 410 even once the log has passed them', async () => {
  const dir = tempDir('cairn-restore-');
  const backup = tempDir('cairn-backup-');
  const env = { CAIRN_RATELIMIT_PER_ADDRESS: '100000', CAIRN_RATELIMIT_PER_ACCOUNT: '100000' };
  let srv = await startServer({ dataDir: dir, env });
  const s = await signUp(srv.url, 'ep2');
  const other = await api(srv.url, 'POST', '/api/v1/tokens', { token: s.access, body: { name: 'other device' } });
  await push(srv.url, s.access, [put('a'), put('b'), put('c')]); // 1..3
  await srv.cleanup();
  rmSync(backup, { recursive: true, force: true });
  cpSync(dir, backup, { recursive: true });

  srv = await startServer({ dataDir: dir, env });
  await push(srv.url, s.access, [put('d'), put('e'), put('f')]); // 4..6, lost in the restore
  const seen = await api(srv.url, 'GET', '/api/v1/spaces/me/changes?since=0', { token: s.access });
  assert.equal(seen.body.next, 6);
  const oldEpoch = seen.body.epoch;
  // refused while the server runs: it holds the data directory's lock
  const busy = await runCairn(['restore-epochs', '--data', dir]);
  assert.equal(busy.code, 1, busy.stderr);
  assert.match(busy.stderr, /in use/);
  await srv.cleanup();

  rmSync(dir, { recursive: true, force: true });
  cpSync(backup, dir, { recursive: true });
  const fix = await runCairn(['restore-epochs', '--data', dir]);
  assert.equal(fix.code, 0, fix.stderr);
  assert.match(fix.stdout, /gave 1 spaces a new epoch/);
  srv = await startServer({ dataDir: dir, env });
  try {
    // another device writes past the stale cursor: 4..7 are other changes than before
    await push(srv.url, other.body.token, [put('x'), put('y'), put('z'), put('w')]);
    const stale = await api(srv.url, 'GET', `/api/v1/spaces/me/changes?since=6&epoch=${oldEpoch}`, { token: s.access });
    assert.equal(stale.status, 410, JSON.stringify(stale.body));
    assert.equal(stale.body.code, 'cursor_expired');
    assert.match(stale.body.epoch, /^[0-9a-f]{16}$/);
    assert.notEqual(stale.body.epoch, oldEpoch);
    // starting over: records, then pulls with the new epoch
    const recs = await api(srv.url, 'GET', '/api/v1/spaces/me/records', { token: s.access });
    assert.deepEqual(recs.body.records.map((r) => r.id), ['a', 'b', 'c', 'w', 'x', 'y', 'z']);
    assert.equal(recs.body.epoch, stale.body.epoch);
    const fresh = await api(srv.url, 'GET', `/api/v1/spaces/me/changes?since=${recs.body.as_of_seq}&epoch=${recs.body.epoch}`, { token: s.access });
    assert.equal(fresh.status, 200);
  } finally {
    await srv.cleanup();
    rmSync(dir, { recursive: true, force: true });
    rmSync(backup, { recursive: true, force: true });
  }
  const missing = await runCairn(['restore-epochs', '--data', `${dir}-typo`]);
  assert.equal(missing.code, 1, missing.stderr);
});
