// Blobs: verified uploads, downloads with ranges, access by holding or by reference,
// quotas, limits, disconnects, collection and the check.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readlinkSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { api, expectError, eventually, rawRequest, runCairn, signUp, sleep, startServer } from './lib/cairn.mjs';

const sha = (b) => createHash('sha256').update(b).digest('hex');
const LIMITS = { CAIRN_RATELIMIT_PER_ADDRESS: '10000', CAIRN_RATELIMIT_PER_ACCOUNT: '10000' };

// Every blob file under data/blobs (not the tmp or trash directories).
function blobFiles(dir) {
  const root = join(dir, 'blobs');
  const out = [];
  for (const a of readdirSync(root)) {
    if (!/^[0-9a-f]{2}$/.test(a)) continue;
    for (const b of readdirSync(join(root, a))) for (const f of readdirSync(join(root, a, b))) out.push(f);
  }
  return out.sort();
}

const blobPath = (dir, h) => join(dir, 'blobs', h.slice(0, 2), h.slice(2, 4), h);

function put(U, token, h, bytes, headers = {}) {
  return fetch(`${U}/api/v1/blobs/${h}`, { method: 'PUT', headers: { Authorization: `Bearer ${token}`, ...headers }, body: bytes });
}

async function get(U, token, h, headers = {}) {
  const res = await fetch(`${U}/api/v1/blobs/${h}`, { headers: { Authorization: `Bearer ${token}`, ...headers } });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

// Both ways a download goes out: the descriptor the fs store offers (sendfile), and the
// reader's read_at, the one way every backend has (blobs.sendfile = false takes it).
for (const sendfile of ['true', 'false'])
test(`PUT stores verified bytes once; GET and HEAD serve them with ETag, length, ranges (blobs.sendfile ${sendfile})`, async () => {
  const srv = await startServer({ env: { ...LIMITS, CAIRN_BLOBS_SENDFILE: sendfile } });
  const U = srv.url;
  const a = await signUp(U, 'ann');
  const bytes = randomBytes(300_000);
  const h = sha(bytes);

  let res = await put(U, a.access, h, bytes);
  assert.equal(res.status, 201);
  assert.deepEqual(await res.json(), { sha256: h, size: bytes.length });
  res = await put(U, a.access, h, bytes);
  assert.equal(res.status, 200, 'the second upload of what the caller holds');
  assert.deepEqual(blobFiles(srv.dir), [h]);
  // upper-case hex names the same blob
  res = await put(U, a.access, h.toUpperCase(), bytes);
  assert.equal(res.status, 200);

  let g = await get(U, a.access, h);
  assert.equal(g.status, 200);
  assert.ok(g.body.equals(bytes));
  assert.equal(g.headers.get('etag'), `"${h}"`);
  assert.equal(g.headers.get('content-length'), String(bytes.length));
  assert.equal(g.headers.get('accept-ranges'), 'bytes');
  assert.equal(g.headers.get('cache-control'), 'private, immutable');
  assert.equal(g.headers.get('content-type'), 'application/octet-stream');

  const head = await fetch(`${U}/api/v1/blobs/${h}`, { method: 'HEAD', headers: { Authorization: `Bearer ${a.access}` } });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), String(bytes.length));
  assert.equal((await head.arrayBuffer()).byteLength, 0);

  // one range, open ranges, suffix ranges
  g = await get(U, a.access, h, { Range: 'bytes=100-199' });
  assert.equal(g.status, 206);
  assert.ok(g.body.equals(bytes.subarray(100, 200)));
  assert.equal(g.headers.get('content-range'), `bytes 100-199/${bytes.length}`);
  g = await get(U, a.access, h, { Range: 'bytes=299990-' });
  assert.equal(g.status, 206);
  assert.ok(g.body.equals(bytes.subarray(299990)));
  g = await get(U, a.access, h, { Range: 'bytes=-7' });
  assert.ok(g.body.equals(bytes.subarray(bytes.length - 7)));
  g = await get(U, a.access, h, { Range: 'bytes=299999-400000' });
  assert.equal(g.status, 206);
  assert.equal(g.body.length, 1);
  // outside: 416 with the size; several ranges or garbage: the whole blob
  g = await get(U, a.access, h, { Range: 'bytes=300000-' });
  assert.equal(g.status, 416);
  assert.equal(JSON.parse(g.body).code, 'range_not_satisfiable');
  assert.equal(g.headers.get('content-range'), `bytes */${bytes.length}`);
  g = await get(U, a.access, h, { Range: 'bytes=0-1,5-6' });
  assert.equal(g.status, 200);
  assert.equal(g.body.length, bytes.length);
  g = await get(U, a.access, h, { Range: 'lines=1-2' });
  assert.equal(g.status, 200);
  // If-Range with another validator: the whole blob
  g = await get(U, a.access, h, { Range: 'bytes=0-9', 'If-Range': '"other"' });
  assert.equal(g.status, 200);
  assert.equal(g.body.length, bytes.length);
  // conditional: 304 with the ETag
  g = await get(U, a.access, h, { 'If-None-Match': `"${h}"` });
  assert.equal(g.status, 304);
  assert.equal(g.body.length, 0);
  assert.equal(g.headers.get('etag'), `"${h}"`);
  g = await get(U, a.access, h, { 'If-None-Match': '"nope", *' });
  assert.equal(g.status, 304);
  g = await get(U, a.access, h, { 'If-None-Match': '"nope"' });
  assert.equal(g.status, 200);

  // the empty blob is a blob too
  const empty = Buffer.alloc(0);
  res = await put(U, a.access, sha(empty), empty);
  assert.equal(res.status, 201);
  g = await get(U, a.access, sha(empty));
  assert.equal(g.status, 200);
  assert.equal(g.body.length, 0);
  await srv.cleanup();
});

test('bad names, wrong bytes and unauthenticated uploads store nothing', async () => {
  const srv = await startServer({ env: LIMITS });
  const U = srv.url;
  const a = await signUp(U, 'ann');
  const bytes = randomBytes(50_000);
  const h = sha(bytes);
  for (const bad of ['abc', 'g'.repeat(64), h + '0', h.slice(0, 63) + '%47']) {
    await expectError(await put(U, a.access, bad, bytes), 400, 'bad_request', assert);
    await expectError(await fetch(`${U}/api/v1/blobs/${bad}`, { headers: { Authorization: `Bearer ${a.access}` } }), 400, 'bad_request', assert);
  }
  // one flipped byte
  const wrong = Buffer.from(bytes);
  wrong[1234] ^= 1;
  await expectError(await put(U, a.access, h, wrong), 400, 'hash_mismatch', assert);
  await expectError(await put(U, 'nobody', h, bytes), 401, 'invalid_token', assert);
  await expectError(await fetch(`${U}/api/v1/blobs/${h}`, { method: 'PUT', body: bytes }), 401, 'unauthorized', assert);
  assert.deepEqual(blobFiles(srv.dir), []);
  assert.deepEqual(readdirSync(join(srv.dir, 'blobs', 'tmp')), []);
  const m = await api(U, 'POST', '/api/v1/blobs/missing', { token: a.access, body: { hashes: [h] } });
  assert.deepEqual(m.body, { missing: [h] });
  const acct = await api(U, 'GET', '/api/v1/account', { token: a.access });
  assert.deepEqual(acct.body.storage, { used: 0, quota: null, realm_used: 0, realm_quota: null });
  await srv.cleanup();
});

test('POST takes a raw body or a multipart field "file", parsed as it streams', async () => {
  const srv = await startServer({ env: LIMITS });
  const U = srv.url;
  const a = await signUp(U, 'ann');
  const raw = randomBytes(70_000);
  let res = await fetch(`${U}/api/v1/blobs`, { method: 'POST', headers: { Authorization: `Bearer ${a.access}` }, body: raw });
  assert.equal(res.status, 201);
  assert.deepEqual(await res.json(), { sha256: sha(raw), size: raw.length });

  // a file containing what looks like a boundary, among other fields
  const mp = Buffer.concat([randomBytes(200_000), Buffer.from('\r\n--not-the-boundary\r\n'), randomBytes(10)]);
  const form = new FormData();
  form.append('note', 'ignored');
  form.append('file', new Blob([mp]), 'photo.bin');
  res = await fetch(`${U}/api/v1/blobs`, { method: 'POST', headers: { Authorization: `Bearer ${a.access}` }, body: form });
  assert.equal(res.status, 201);
  assert.deepEqual(await res.json(), { sha256: sha(mp), size: mp.length });
  const g = await get(U, a.access, sha(mp));
  assert.ok(g.body.equals(mp));

  const noFile = new FormData();
  noFile.append('other', new Blob([Buffer.from('x')]), 'x');
  await expectError(await fetch(`${U}/api/v1/blobs`, { method: 'POST', headers: { Authorization: `Bearer ${a.access}` }, body: noFile }), 400, 'bad_request', assert);
  const two = new FormData();
  two.append('file', new Blob([Buffer.from('one')]), 'a');
  two.append('file', new Blob([Buffer.from('two')]), 'b');
  await expectError(await fetch(`${U}/api/v1/blobs`, { method: 'POST', headers: { Authorization: `Bearer ${a.access}` }, body: two }), 400, 'bad_request', assert);
  // a multipart body cut short
  const cut = `--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nhello`;
  await expectError(await fetch(`${U}/api/v1/blobs`, { method: 'POST', headers: { Authorization: `Bearer ${a.access}`, 'Content-Type': 'multipart/form-data; boundary=XyZ' }, body: cut }), 400, 'bad_request', assert);
  assert.deepEqual(blobFiles(srv.dir), [sha(raw), sha(mp)].sort());
  await srv.cleanup();
});

test('only holders and members of a space whose change names a blob can read it', async () => {
  const srv = await startServer({ env: LIMITS });
  const U = srv.url;
  const a = await signUp(U, 'ann');
  const b = await signUp(U, 'bob');
  const c = await signUp(U, 'cy');
  const bytes = randomBytes(20_000);
  const h = sha(bytes);
  assert.equal((await put(U, a.access, h, bytes)).status, 201);
  const other = sha(randomBytes(10));

  // others: 404, and "missing" tells them nothing about what ann stored
  await expectError(await fetch(`${U}/api/v1/blobs/${h}`, { headers: { Authorization: `Bearer ${b.access}` } }), 404, 'not_found', assert);
  let m = await api(U, 'POST', '/api/v1/blobs/missing', { token: b.access, body: { hashes: [h, other, h] } });
  assert.deepEqual(m.body, { missing: [h, other] });
  m = await api(U, 'POST', '/api/v1/blobs/missing', { token: a.access, body: { hashes: [h, other] } });
  assert.deepEqual(m.body, { missing: [other] });
  // knowing the hash and sending other bytes under it gains nothing
  await expectError(await put(U, b.access, h, Buffer.from('guess')), 400, 'hash_mismatch', assert);
  assert.equal((await get(U, b.access, h)).status, 404);

  const sp = (await api(U, 'POST', '/api/v1/spaces', { token: a.access, body: { name: 'team', kind: 'shared' } })).body.space;
  assert.equal((await api(U, 'POST', `/api/v1/spaces/${sp.id}/members`, { token: a.access, body: { username: 'bob', role: 'reader' } })).status, 200);
  // a change naming a blob the pusher cannot read fails whole
  let r = await api(U, 'POST', `/api/v1/spaces/${sp.id}/changes`, {
    token: a.access,
    body: { changes: [{ op_id: 'p1', collection: 'notes', id: 'n0', op: 'put', data: {} }, { op_id: 'p2', collection: 'notes', id: 'n1', op: 'put', data: {}, blobs: [other] }] },
  });
  assert.equal(r.status, 400);
  assert.equal(r.body.code, 'blob_missing');
  assert.match(r.body.fields.blobs, /changes\[1\]/);
  let sp2 = await api(U, 'GET', `/api/v1/spaces/${sp.id}`, { token: a.access });
  assert.equal(sp2.body.space.head_seq, 0, 'nothing of the failed push applied');
  // a private space's change shares nothing
  r = await api(U, 'POST', '/api/v1/spaces/me/changes', { token: a.access, body: { changes: [{ op_id: 'm1', collection: 'notes', id: 'x', op: 'put', data: {}, blobs: [h] }] } });
  assert.equal(r.status, 200);
  assert.equal((await get(U, b.access, h)).status, 404);
  // malformed blob lists
  for (const blobs of ['x', ['abc'], [1], Array(257).fill(h)]) {
    r = await api(U, 'POST', `/api/v1/spaces/${sp.id}/changes`, { token: a.access, body: { changes: [{ op_id: 'bad', collection: 'notes', id: 'n1', op: 'put', data: {}, blobs }] } });
    assert.equal(r.status, 400, JSON.stringify(blobs).slice(0, 40));
    assert.equal(r.body.code, 'validation_failed');
  }
  // shared: members read it, others do not
  r = await api(U, 'POST', `/api/v1/spaces/${sp.id}/changes`, { token: a.access, body: { changes: [{ op_id: 'p3', collection: 'notes', id: 'n1', op: 'put', data: { t: 1 }, blobs: [h, h.toUpperCase()] }] } });
  assert.equal(r.status, 200);
  let g = await get(U, b.access, h);
  assert.equal(g.status, 200);
  assert.ok(g.body.equals(bytes));
  assert.equal((await get(U, c.access, h)).status, 404);
  m = await api(U, 'POST', '/api/v1/blobs/missing', { token: b.access, body: { hashes: [h] } });
  assert.deepEqual(m.body, { missing: [] });
  // the pull and the history carry the references (repeats removed)
  const pull = await api(U, 'GET', `/api/v1/spaces/${sp.id}/changes?since=0`, { token: b.access });
  assert.deepEqual(pull.body.changes.map((x) => x.blobs), [[h]]);
  const hist = await api(U, 'GET', `/api/v1/spaces/${sp.id}/records/notes/n1/history`, { token: b.access });
  assert.deepEqual(hist.body.versions[0].blobs, [h]);
  // bob may read it, so bob may share it onward in a space of his own
  const bs = (await api(U, 'POST', '/api/v1/spaces', { token: b.access, body: { name: 'bobs', kind: 'shared' } })).body.space;
  assert.equal((await api(U, 'POST', `/api/v1/spaces/${bs.id}/members`, { token: b.access, body: { username: 'cy', role: 'reader' } })).status, 200);
  r = await api(U, 'POST', `/api/v1/spaces/${bs.id}/changes`, { token: b.access, body: { changes: [{ op_id: 'b1', collection: 'f', id: 'x', op: 'put', data: {}, blobs: [h] }] } });
  assert.equal(r.status, 200);
  assert.equal((await get(U, c.access, h)).status, 200);
  // a removed member loses access at once
  assert.equal((await api(U, 'DELETE', `/api/v1/spaces/${sp.id}/members/bob`, { token: a.access })).status, 204);
  assert.equal((await api(U, 'DELETE', `/api/v1/spaces/${bs.id}/members/cy`, { token: b.access })).status, 204);
  assert.equal((await get(U, c.access, h)).status, 404);
  // bob still has his own space's reference
  assert.equal((await get(U, b.access, h)).status, 200);
  await srv.cleanup();
});

test('limits: blobs.max_size by Content-Length and by the stream; quotas per user and realm', async () => {
  const srv = await startServer({ env: { ...LIMITS, CAIRN_BLOBS_MAX_SIZE: '8KiB', CAIRN_BLOBS_USER_QUOTA: '12KiB', CAIRN_BLOBS_REALM_QUOTA: '20KiB' } });
  const U = srv.url;
  const a = await signUp(U, 'ann');
  const b = await signUp(U, 'bob');
  const big = randomBytes(8193);
  const body = await expectError(await put(U, a.access, sha(big), big), 413, 'body_too_large', assert);
  assert.match(body.error, /8192 bytes \(blobs\.max_size\)/);
  // chunked: the stream shows it
  const head = `PUT /api/v1/blobs/${sha(big)} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${a.access}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`;
  let chunks = '';
  for (let i = 0; i < 5; i++) chunks += `800\r\n${'a'.repeat(0x800)}\r\n`;
  const res = await rawRequest(srv.port, head + chunks + '0\r\n\r\n');
  assert.equal(res.status, 413);
  assert.match(res.body, /body_too_large/);

  const k5 = () => Buffer.from(randomBytes(2560).toString('hex')); // 5 KiB of ASCII, sent raw below
  const x1 = k5(), x2 = k5(), x3 = k5();
  assert.equal((await put(U, a.access, sha(x1), x1)).status, 201);
  assert.equal((await put(U, a.access, sha(x2), x2)).status, 201);
  await expectError(await put(U, a.access, sha(x3), x3), 413, 'quota_exceeded', assert);
  // by stream too (no Content-Length), and by POST
  const chunked = `PUT /api/v1/blobs/${sha(x3)} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${a.access}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n1400\r\n${x3.toString('latin1')}\r\n0\r\n\r\n`;
  const rr = await rawRequest(srv.port, chunked);
  assert.equal(rr.status, 413);
  assert.match(rr.body, /quota_exceeded/);
  await expectError(await fetch(`${U}/api/v1/blobs`, { method: 'POST', headers: { Authorization: `Bearer ${a.access}` }, body: x3 }), 413, 'quota_exceeded', assert);
  // what ann already holds costs nothing again
  assert.equal((await put(U, a.access, sha(x1), x1)).status, 200);
  let acct = await api(U, 'GET', '/api/v1/account', { token: a.access });
  assert.deepEqual(acct.body.storage, { used: 10240, quota: 12288, realm_used: 10240, realm_quota: 20480 });
  // the realm: bob may add 10 KiB of the realm's 20, not more
  assert.equal((await put(U, b.access, sha(x1), x1)).status, 201, 'bob holds his own copy (counted for him)');
  assert.equal((await put(U, b.access, sha(x3), x3)).status, 201);
  const x4 = k5();
  await expectError(await put(U, b.access, sha(x4), x4), 413, 'quota_exceeded', assert);
  acct = await api(U, 'GET', '/api/v1/account', { token: b.access });
  assert.deepEqual(acct.body.storage, { used: 10240, quota: 12288, realm_used: 20480, realm_quota: 20480 });
  assert.deepEqual(blobFiles(srv.dir), [sha(x1), sha(x2), sha(x3)].sort());
  // deleting an account gives its usage back to the realm
  assert.equal((await api(U, 'DELETE', '/api/v1/account', { token: b.access, body: { password: b.password } })).status, 204);
  acct = await api(U, 'GET', '/api/v1/account', { token: a.access });
  assert.equal(acct.body.storage.realm_used, 10240);
  await srv.cleanup();
});

// The server's open descriptors that point into the blob store's tmp directory.
function tmpFds(pid, dir) {
  const out = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const t = readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (t.includes(join(dir, 'blobs', 'tmp'))) out.push(t);
    } catch {}
  }
  return out;
}

test('a client that disconnects mid-upload leaves nothing behind', async () => {
  const srv = await startServer({ env: LIMITS });
  const U = srv.url;
  const a = await signUp(U, 'ann');
  const bytes = randomBytes(4 << 20);
  const sock = net.connect(srv.port, '127.0.0.1');
  await new Promise((r) => sock.on('connect', r));
  sock.write(`PUT /api/v1/blobs/${sha(bytes)} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${a.access}\r\nContent-Length: ${bytes.length}\r\n\r\n`);
  sock.write(bytes.subarray(0, 3 << 20));
  // the upload is under way: a temporary file is open
  await eventually(() => tmpFds(srv.proc.pid, srv.dir).length === 1, { what: 'a temporary file open' });
  sock.destroy();
  await eventually(() => tmpFds(srv.proc.pid, srv.dir).length === 0, { what: 'the temporary file closed' });
  assert.deepEqual(readdirSync(join(srv.dir, 'blobs', 'tmp')), []);
  assert.deepEqual(blobFiles(srv.dir), []);
  const m = await api(U, 'POST', '/api/v1/blobs/missing', { token: a.access, body: { hashes: [sha(bytes)] } });
  assert.deepEqual(m.body.missing, [sha(bytes)]);
  await srv.cleanup();
});

test('/blobs/missing validates its input', async () => {
  const srv = await startServer({ env: { ...LIMITS, CAIRN_LIMITS_PAGE: '3' } });
  const U = srv.url;
  const a = await signUp(U, 'ann');
  const h = sha(Buffer.from('x'));
  let r = await api(U, 'POST', '/api/v1/blobs/missing', { token: a.access, body: { hashes: [h, h, h, h] } });
  assert.equal(r.status, 413);
  r = await api(U, 'POST', '/api/v1/blobs/missing', { token: a.access, body: { hashes: [h, 'nope'] } });
  assert.equal(r.status, 400);
  assert.match(r.body.fields.hashes, /hashes\[1\]/);
  r = await api(U, 'POST', '/api/v1/blobs/missing', { token: a.access, body: { hashes: 'x' } });
  assert.equal(r.status, 400);
  r = await api(U, 'POST', '/api/v1/blobs/missing', { body: { hashes: [] } });
  assert.equal(r.status, 401);
  r = await api(U, 'POST', '/api/v1/blobs/missing', { token: a.access, body: { hashes: [] } });
  assert.deepEqual(r.body, { missing: [] });
  await srv.cleanup();
});

test('cairn gc deletes blobs nobody holds or references after the grace period; cairn check finds damage', async () => {
  const srv = await startServer({ env: { ...LIMITS, CAIRN_SYNC_GC_INTERVAL: '0', CAIRN_SYNC_RETENTION: '0s' } });
  const U = srv.url;
  const a = await signUp(U, 'ann');
  const b = await signUp(U, 'bob');
  const kept = randomBytes(3000), shared = randomBytes(4000), lost = randomBytes(5000);
  for (const [who, x] of [[a, kept], [b, shared], [b, lost]]) assert.equal((await put(U, who.access, sha(x), x)).status, 201);
  // ann names bob's blob in her space... (bob shares it first through a space they share)
  const sp = (await api(U, 'POST', '/api/v1/spaces', { token: b.access, body: { name: 's', kind: 'shared' } })).body.space;
  await api(U, 'POST', `/api/v1/spaces/${sp.id}/members`, { token: b.access, body: { username: 'ann', role: 'writer' } });
  let r = await api(U, 'POST', `/api/v1/spaces/${sp.id}/changes`, { token: a.access, body: { changes: [{ op_id: 'a1', collection: 'c', id: 'x', op: 'put', data: {}, blobs: [sha(shared)] }] } });
  assert.equal(r.status, 400, 'ann cannot name it before bob shares it');
  r = await api(U, 'POST', `/api/v1/spaces/${sp.id}/changes`, { token: b.access, body: { changes: [{ op_id: 'b1', collection: 'c', id: 'x', op: 'put', data: {}, blobs: [sha(shared)] }] } });
  assert.equal(r.status, 200);

  let check = await runCairn(['check', '--data', srv.dir]);
  assert.equal(check.code, 0, check.stdout + check.stderr);
  assert.match(check.stdout, /checked 3 blobs \(12000 bytes\): 0 missing, 0 of the wrong size, 0 corrupt, 0 unrecorded/);

  // bob hands the space to ann and goes: "lost" is held by nobody; "shared" is still named
  // by a change in the space
  assert.equal((await api(U, 'PATCH', `/api/v1/spaces/${sp.id}/members/ann`, { token: b.access, body: { role: 'owner' } })).status, 200);
  assert.equal((await api(U, 'DELETE', '/api/v1/account', { token: b.access, body: { password: b.password } })).status, 204);
  // within the grace period nothing goes
  let gc = await runCairn(['gc', '--data', srv.dir]);
  assert.equal(gc.code, 0, gc.stderr);
  assert.match(gc.stdout, /deleted 0 blobs/);
  assert.ok(existsSync(blobPath(srv.dir, sha(lost))));
  gc = await runCairn(['gc', '--data', srv.dir], { env: { CAIRN_BLOBS_GC_GRACE: '0s' } });
  assert.equal(gc.code, 0, gc.stderr);
  assert.match(gc.stdout, /deleted 1 blobs \(5000 bytes, 0 unrecorded files\)/);
  assert.deepEqual(blobFiles(srv.dir), [sha(kept), sha(shared)].sort());
  // the shared space outlives bob, and ann reads "shared" through its change
  assert.equal((await get(U, a.access, sha(shared))).status, 200);

  // an orphan file (an upload a crash cut off before its commit) and a blob left in the trash
  const orphan = randomBytes(100);
  const op = blobPath(srv.dir, sha(orphan));
  mkdirSync(join(op, '..'), { recursive: true });
  writeFileSync(op, orphan);
  const old = new Date(Date.now() - 3 * 86400_000);
  utimesSync(op, old, old);
  // damage: a corrupt blob
  const kp = blobPath(srv.dir, sha(kept));
  const damaged = Buffer.from(kept);
  damaged[0] ^= 0xff;
  writeFileSync(kp, damaged);
  check = await runCairn(['check', '--data', srv.dir]);
  assert.equal(check.code, 1);
  assert.match(check.stdout, new RegExp(`corrupt  ${sha(kept)}`));
  assert.match(check.stdout, new RegExp(`orphan   ${sha(orphan)}`));
  writeFileSync(kp, kept);
  // a missing file and a wrong size
  rmSync(blobPath(srv.dir, sha(kept)));
  check = await runCairn(['check', '--data', srv.dir, '--no-progress']);
  assert.equal(check.code, 1);
  assert.match(check.stdout, new RegExp(`missing  ${sha(kept)}  3000 bytes`));
  writeFileSync(kp, Buffer.concat([kept, Buffer.from('x')]));
  check = await runCairn(['check', '--data', srv.dir]);
  assert.match(check.stdout, new RegExp(`size     ${sha(kept)}  3000 bytes recorded, 3001`));
  rmSync(kp);
  // a blob an older cairn's collection left in its trash (before schema 8), its name
  // gone: it comes back when the blob store opens (gc opens it); the orphan goes
  mkdirSync(join(srv.dir, 'blobs', 'trash'), { recursive: true });
  writeFileSync(join(srv.dir, 'blobs', 'trash', sha(kept)), kept);
  gc = await runCairn(['gc', '--data', srv.dir], { env: { CAIRN_BLOBS_GC_GRACE: '0s' } });
  assert.equal(gc.code, 0, gc.stderr);
  assert.match(gc.stdout, /\(\d+ bytes, 1 unrecorded files\); finished 0 deletions an interrupted pass had begun/);
  assert.ok(!existsSync(join(srv.dir, 'blobs', 'trash')));
  assert.ok(!existsSync(op));
  const g = await get(U, a.access, sha(kept));
  assert.ok(g.body.equals(kept));
  check = await runCairn(['check', '--data', srv.dir]);
  assert.equal(check.code, 0, check.stdout);
  await srv.cleanup();
});

test('a blob stays while a kept change names it and goes once pruning drops the change', async () => {
  const srv = await startServer({ env: { ...LIMITS, CAIRN_SYNC_GC_INTERVAL: '0', CAIRN_SYNC_RETENTION: '0s', CAIRN_BLOBS_GC_GRACE: '0s' } });
  const U = srv.url;
  const a = await signUp(U, 'ann');
  const b = await signUp(U, 'bob');
  const x = randomBytes(1000);
  assert.equal((await put(U, b.access, sha(x), x)).status, 201);
  const sp = (await api(U, 'POST', '/api/v1/spaces', { token: a.access, body: { name: 's', kind: 'shared' } })).body.space;
  await api(U, 'POST', `/api/v1/spaces/${sp.id}/members`, { token: a.access, body: { username: 'bob', role: 'writer' } });
  let r = await api(U, 'POST', `/api/v1/spaces/${sp.id}/changes`, { token: b.access, body: { changes: [{ op_id: 'b1', collection: 'c', id: 'x', op: 'put', data: { v: 1 }, blobs: [sha(x)] }] } });
  assert.equal(r.status, 200);
  // bob leaves the server; ann reads the blob through the space
  assert.equal((await api(U, 'DELETE', '/api/v1/account', { token: b.access, body: { password: b.password } })).status, 204);
  let gc = await runCairn(['gc', '--data', srv.dir], { env: { CAIRN_SYNC_RETENTION: '0s', CAIRN_BLOBS_GC_GRACE: '0s' } });
  assert.match(gc.stdout, /deleted 0 blobs/);
  assert.equal((await get(U, a.access, sha(x))).status, 200);
  // ann replaces the record without the blob and has applied everything: the old change is pruned
  r = await api(U, 'POST', `/api/v1/spaces/${sp.id}/changes`, { token: a.access, body: { changes: [{ op_id: 'a1', collection: 'c', id: 'x', op: 'put', data: { v: 2 } }] } });
  assert.equal(r.status, 200);
  assert.equal((await api(U, 'GET', `/api/v1/spaces/${sp.id}/changes?since=2`, { token: a.access })).status, 200);
  gc = await runCairn(['gc', '--data', srv.dir], { env: { CAIRN_SYNC_RETENTION: '0s', CAIRN_BLOBS_GC_GRACE: '0s' } });
  assert.equal(gc.code, 0, gc.stderr);
  assert.match(gc.stdout, /pruned 1 changes .* deleted 1 blobs \(1000 bytes/);
  assert.equal((await get(U, a.access, sha(x))).status, 404);
  assert.deepEqual(blobFiles(srv.dir), []);
  await srv.cleanup();
});

test('cairn check draws a progress bar on a terminal and none otherwise', async () => {
  const srv = await startServer({ env: LIMITS });
  const a = await signUp(srv.url, 'ann');
  const x = randomBytes(100_000);
  assert.equal((await put(srv.url, a.access, sha(x), x)).status, 201);
  const { execFileSync } = await import('node:child_process');
  const { BIN, baseEnv } = await import('./lib/cairn.mjs');
  // script(1) gives the command a pseudo-terminal
  const tty = execFileSync('script', ['-qec', `${BIN} check --data ${srv.dir}`, '/dev/null'], { encoding: 'latin1', env: baseEnv() });
  assert.match(tty, /\r\[#{30}\] 100%/);
  assert.match(tty, /checked 1 blobs \(100000 bytes\)/);
  const noBar = execFileSync('script', ['-qec', `${BIN} check --no-progress --data ${srv.dir}`, '/dev/null'], { encoding: 'latin1', env: baseEnv() });
  assert.doesNotMatch(noBar, /\[#/);
  const piped = await runCairn(['check', '--data', srv.dir]);
  assert.doesNotMatch(piped.stderr + piped.stdout, /\[#/);
  await srv.cleanup();
});

test('the server collects unused blobs every sync.gc_interval', async () => {
  const srv = await startServer({ env: { ...LIMITS, CAIRN_SYNC_GC_INTERVAL: '1s', CAIRN_BLOBS_GC_GRACE: '0s' } });
  const U = srv.url;
  const a = await signUp(U, 'ann');
  const b = await signUp(U, 'bob');
  const x = randomBytes(1000), y = randomBytes(1000);
  assert.equal((await put(U, a.access, sha(x), x)).status, 201);
  assert.equal((await put(U, b.access, sha(y), y)).status, 201);
  assert.equal((await api(U, 'DELETE', '/api/v1/account', { token: b.access, body: { password: b.password } })).status, 204);
  await eventually(() => !existsSync(blobPath(srv.dir, sha(y))), { timeoutMs: 5000, what: "bob's blob collected" });
  assert.ok(existsSync(blobPath(srv.dir, sha(x))), "ann's blob stays");
  // the pass logs what it did once it is over
  await eventually(() => /blobs: collected 1 blobs \(1000 bytes/.test(srv.log()), { what: 'the collection logged' });
  await srv.cleanup();
});

test('limits.push_blob_refs bounds the blob references one push brings into the shared transaction', async () => {
  const srv = await startServer({ env: { ...LIMITS, CAIRN_LIMITS_PUSH_BLOB_REFS: '8' } });
  try {
    const U = srv.url;
    const a = await signUp(U, 'refs');
    const hs = [];
    for (let i = 0; i < 9; i++) {
      const b = Buffer.from(`blob number ${i}`);
      assert.equal((await put(U, a.access, sha(b), b)).status, 201);
      hs.push(sha(b));
    }
    const push = (changes) => api(U, 'POST', '/api/v1/spaces/me/changes', { token: a.access, body: { changes } });
    const ch = (id, blobs) => ({ op_id: `o-${id}-${blobs.length}`, collection: 'notes', id, op: 'put', data: {}, blobs });
    let r = await push([ch('a', hs.slice(0, 5)), ch('b', hs.slice(5, 9))]);
    assert.equal(r.status, 413, JSON.stringify(r.body));
    assert.equal(r.body.code, 'body_too_large');
    assert.match(r.body.error, /limits\.push_blob_refs/);
    // the same blobs named by three changes are three references each
    r = await push([ch('c', hs.slice(0, 3)), ch('d', hs.slice(0, 3)), ch('e', hs.slice(0, 3))]);
    assert.equal(r.status, 413);
    const sp = await api(U, 'GET', '/api/v1/spaces/me', { token: a.access });
    assert.equal(sp.body.space.head_seq, 0, 'nothing of a refused push applied');
    // repeats within one change count once; eight references pass
    r = await push([ch('f', [...hs.slice(0, 4), hs[0], hs[1]]), ch('g', hs.slice(4, 8))]);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const l = await api(U, 'GET', '/api/v1/limits');
    assert.equal(l.body.push_blob_refs, 8);
  } finally {
    await srv.cleanup();
  }
});

test('a file damaged on disk is reported missing, not served, and repaired by uploading the blob again', async () => {
  const srv = await startServer({ env: LIMITS });
  const U = srv.url;
  try {
    const a = await signUp(U, 'repair');
    const bytes = randomBytes(70_000);
    const h = sha(bytes);
    assert.equal((await put(U, a.access, h, bytes)).status, 201);
    const missing = async () => (await api(U, 'POST', '/api/v1/blobs/missing', { token: a.access, body: { hashes: [h] } })).body.missing;
    assert.deepEqual(await missing(), []);
    const file = blobPath(srv.dir, h);
    const damage = {
      truncated: () => writeFileSync(file, bytes.subarray(0, 1000)),
      'altered, same size': () => {
        const bad = Buffer.from(bytes);
        bad[500] ^= 0xff;
        writeFileSync(file, bad);
      },
      deleted: () => rmSync(file),
    };
    for (const [what, act] of Object.entries(damage)) {
      act();
      const check = await runCairn(['check', '--data', srv.dir, '--no-progress']);
      assert.equal(check.code, 1, `${what}: cairn check finds it\n${check.stdout}`);
      if (what !== 'altered, same size') {
        // its size tells: not served, and listed so the client uploads it again
        assert.equal((await get(U, a.access, h)).status, 503, what);
        assert.deepEqual(await missing(), [h], what);
      }
      const again = await put(U, a.access, h, bytes);
      assert.ok(again.status === 200 || again.status === 201, `${what}: ${again.status}`);
      const g = await get(U, a.access, h);
      assert.equal(g.status, 200, what);
      assert.ok(g.body.equals(bytes), `${what}: the right bytes are served again`);
      assert.deepEqual(await missing(), [], what);
      const ok = await runCairn(['check', '--data', srv.dir, '--no-progress']);
      assert.equal(ok.code, 0, `${what}: repaired\n${ok.stdout}`);
    }
    // wrong bytes never replace good ones
    const bad = await put(U, a.access, h, randomBytes(70_000));
    assert.equal(bad.status, 400);
    assert.ok((await get(U, a.access, h)).body.equals(bytes));
  } finally {
    await srv.cleanup();
  }
});

test('a user lists their blobs and releases them; a blob their kept change names cannot be released', async () => {
  const srv = await startServer({ env: { ...LIMITS, CAIRN_BLOBS_USER_QUOTA: '12KiB', CAIRN_SYNC_GC_INTERVAL: '0', CAIRN_SYNC_RETENTION: '0s', CAIRN_BLOBS_GC_GRACE: '0s' } });
  const U = srv.url;
  try {
    const a = await signUp(U, 'rel');
    const b = await signUp(U, 'rel2');
    const x = [randomBytes(4096), randomBytes(4096), randomBytes(2048)];
    for (const bytes of x) assert.equal((await put(U, a.access, sha(bytes), bytes)).status, 201);
    const extra = randomBytes(4096);
    await expectError(await put(U, a.access, sha(extra), extra), 413, 'quota_exceeded', assert);
    // the list, paged in hash order, with size and time
    const all = x.map((bytes) => [sha(bytes), bytes.length]).sort((p, q) => (p[0] < q[0] ? -1 : 1));
    let page = await api(U, 'GET', '/api/v1/blobs?limit=2', { token: a.access });
    assert.equal(page.status, 200);
    assert.deepEqual(page.body.blobs.map((o) => [o.sha256, o.size]), all.slice(0, 2));
    assert.equal(page.body.more, true);
    assert.match(page.body.blobs[0].held_at, /^\d{4}-\d\d-\d\dT/);
    page = await api(U, 'GET', `/api/v1/blobs?limit=2&after=${page.body.next}`, { token: a.access });
    assert.deepEqual(page.body.blobs.map((o) => [o.sha256, o.size]), all.slice(2));
    assert.equal(page.body.more, false);
    // exactly a page left: more says no, not "an empty page follows"
    const exact = await api(U, 'GET', '/api/v1/blobs?limit=3', { token: a.access });
    assert.deepEqual([exact.body.blobs.length, exact.body.more], [3, false]);
    assert.deepEqual((await api(U, 'GET', '/api/v1/blobs', { token: b.access })).body.blobs, [], 'only one\'s own');
    for (const q of ['limit=0', 'limit=x', `limit=${10 ** 6}`, 'after=zz', 'limit=-1']) {
      assert.equal((await api(U, 'GET', `/api/v1/blobs?${q}`, { token: a.access })).status, 400, q);
    }
    assert.equal((await api(U, 'GET', '/api/v1/blobs')).status, 401);

    // a change of ann's names x[0]: it stays held while the change is kept
    const named = sha(x[0]);
    const push = (changes) => api(U, 'POST', '/api/v1/spaces/me/changes', { token: a.access, body: { changes } });
    assert.equal((await push([{ op_id: 'n1', collection: 'c', id: 'r', op: 'put', data: {}, blobs: [named] }])).status, 200);
    const busy = await api(U, 'DELETE', `/api/v1/blobs/${named}`, { token: a.access });
    assert.equal(busy.status, 409);
    assert.equal(busy.body.code, 'blob_in_use');
    assert.match(busy.body.error, /Change 1 of space \d+/);
    // the others go: usage drops, nobody can read them, and quota is free again
    for (const bytes of x.slice(1)) {
      const h = sha(bytes);
      assert.equal((await api(U, 'DELETE', `/api/v1/blobs/${h.toUpperCase()}`, { token: a.access })).status, 204);
      assert.equal((await api(U, 'DELETE', `/api/v1/blobs/${h}`, { token: a.access })).status, 404, 'released already');
      assert.equal((await get(U, a.access, h)).status, 404);
    }
    assert.equal((await api(U, 'GET', '/api/v1/account', { token: a.access })).body.storage.used, 4096);
    assert.equal((await put(U, a.access, sha(extra), extra)).status, 201);
    assert.equal((await api(U, 'DELETE', `/api/v1/blobs/${sha(extra)}`, { token: b.access })).status, 404, 'not bob\'s to release');
    assert.equal((await api(U, 'DELETE', '/api/v1/blobs/nothex', { token: a.access })).status, 400);
    // the released bytes go at the next collection
    let gc = await runCairn(['gc', '--data', srv.dir], { env: { CAIRN_BLOBS_GC_GRACE: '0s', CAIRN_SYNC_RETENTION: '0s' } });
    assert.equal(gc.code, 0, gc.stderr);
    assert.deepEqual(blobFiles(srv.dir), [named, sha(extra)].sort());
    // once the record is deleted and pruning drops the changes, x[0] can be released
    assert.equal((await push([{ op_id: 'n2', collection: 'c', id: 'r', op: 'delete' }])).status, 200);
    assert.equal((await api(U, 'GET', '/api/v1/spaces/me/changes?since=2', { token: a.access })).status, 200);
    gc = await runCairn(['gc', '--data', srv.dir], { env: { CAIRN_BLOBS_GC_GRACE: '0s', CAIRN_SYNC_RETENTION: '0s' } });
    assert.equal(gc.code, 0, gc.stderr);
    assert.equal((await api(U, 'DELETE', `/api/v1/blobs/${named}`, { token: a.access })).status, 204);
  } finally {
    await srv.cleanup();
  }
});

// Uploads hash and write on threads of their own (a buffer at a time, src/util/handoff.c):
// sizes around the 1 MiB buffers come back byte for byte, a wrong hash past several
// buffers keeps nothing, and no upload leaves a thread behind.
test('uploads of every size around the write buffers come back whole; their threads end with them', async () => {
  const srv = await startServer({ env: LIMITS });
  const U = srv.url;
  const a = await signUp(U, 'ann');
  const threads = () => readdirSync(`/proc/${srv.proc.pid}/task`).length;
  const before = threads();
  const M = 1 << 20;
  for (const n of [M - 1, M, M + 1, 2 * M, 3 * M + 123]) {
    const bytes = randomBytes(n);
    const put = await fetch(`${U}/api/v1/blobs/${sha(bytes)}`, { method: 'PUT', headers: { Authorization: `Bearer ${a.access}` }, body: bytes });
    assert.equal(put.status, 201, `${n}: ${await put.text()}`);
    const got = Buffer.from(await (await fetch(`${U}/api/v1/blobs/${sha(bytes)}`, { headers: { Authorization: `Bearer ${a.access}` } })).arrayBuffer());
    assert.equal(got.length, n);
    assert.equal(sha(got), sha(bytes), `${n} bytes came back altered`);
  }
  const bytes = randomBytes(5 * M + 7);
  const wrong = sha(Buffer.from('something else'));
  const put = await fetch(`${U}/api/v1/blobs/${wrong}`, { method: 'PUT', headers: { Authorization: `Bearer ${a.access}` }, body: bytes });
  await expectError(put, 400, 'hash_mismatch', assert);
  assert.equal(blobFiles(srv.dir).length, 5);
  await eventually(() => threads() === before, { what: `the upload threads gone (${threads()} threads, ${before} before)` });
  await srv.cleanup();
});

// Each upload past 2 MiB gets a hasher and a writer thread, but the process runs at most
// 32 such workers (src/util/handoff.h): forty uploads stalled mid-body hold no more.
test('uploads stalled mid-body hold at most 32 worker threads, and none once they are gone', async () => {
  const srv = await startServer({ env: LIMITS });
  const a = await signUp(srv.url, 'ann');
  const threads = () => readdirSync(`/proc/${srv.proc.pid}/task`).length;
  const before = threads();
  const socks = [];
  const part = randomBytes(3 << 20);
  for (let i = 0; i < 40; i++) {
    const sock = net.connect(srv.port, '127.0.0.1');
    await new Promise((r) => sock.on('connect', r));
    sock.on('error', () => {});
    sock.write(`PUT /api/v1/blobs/${sha(Buffer.from(`x${i}`))} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${a.access}\r\nContent-Length: ${8 << 20}\r\n\r\n`);
    sock.write(part);
    socks.push(sock);
  }
  await eventually(() => tmpFds(srv.proc.pid, srv.dir).length === 40, { what: 'forty uploads under way' });
  await sleep(300);
  const during = threads();
  assert.ok(during - before <= 32, `${during - before} more threads than before`);
  assert.ok(during - before >= 16, `${during - before}: the uploads were not pipelined at all`);
  for (const s of socks) s.destroy();
  await eventually(() => threads() === before, { what: `the threads gone (${threads()} now, ${before} before)` });
  await srv.cleanup();
});
