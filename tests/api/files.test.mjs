// File sync on records and blobs: manifests of chunks, content streamed both ways,
// versions, restore, trash, conflict copies, moves, path rules, batches of blobs.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { readdirSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { api, expectError, signUp, startServer } from './lib/cairn.mjs';

const sha = (b) => createHash('sha256').update(b).digest('hex');
const LIMITS = { CAIRN_RATELIMIT_PER_ADDRESS: '100000', CAIRN_RATELIMIT_PER_ACCOUNT: '100000' };
// small chunks, so that files of a few hundred KiB have many
const SMALL = { CAIRN_FILES_CHUNK_MIN: '4KiB', CAIRN_FILES_CHUNK_AVG: '16KiB', CAIRN_FILES_CHUNK_MAX: '64KiB' };
const enc = (p) => p.split('/').map(encodeURIComponent).join('/');

// Bytes that look random but are the same every run (SHA-256 in counter mode): where an
// edit moves the cuts depends on the data, and a test must not depend on luck.
function seeded(n, seed) {
  const out = Buffer.alloc(n);
  for (let i = 0, at = 0; at < n; i++, at += 32) createHash('sha256').update(`${seed}:${i}`).digest().copy(out, at);
  return out;
}

function blobCount(dir) {
  const root = join(dir, 'blobs');
  let n = 0;
  for (const a of readdirSync(root)) {
    if (!/^[0-9a-f]{2}$/.test(a)) continue;
    for (const b of readdirSync(join(root, a))) n += readdirSync(join(root, a, b)).length;
  }
  return n;
}

async function putBlob(U, token, bytes) {
  const res = await fetch(`${U}/api/v1/blobs/${sha(bytes)}`, { method: 'PUT', headers: { Authorization: `Bearer ${token}` }, body: bytes });
  assert.ok(res.status === 201 || res.status === 200, `blob upload ${res.status}`);
}

// A manifest of the given chunks (Buffers), uploaded first.
async function manifestOf(U, token, parts, extra = {}) {
  for (const p of parts) await putBlob(U, token, p);
  const all = Buffer.concat(parts);
  return { type: 'file', size: all.length, mode: 0o640, mtime: '2026-11-30T10:00:00.123456789Z', sha256: sha(all),
    chunks: parts.map((p) => ({ sha256: sha(p), size: p.length })), ...extra };
}

async function content(U, token, path, { headers = {}, query = '' } = {}) {
  const res = await fetch(`${U}/api/v1/spaces/me/content/${enc(path)}${query}`, { headers: { Authorization: `Bearer ${token}`, ...headers } });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

async function putContent(U, token, path, bytes, query = '') {
  const res = await fetch(`${U}/api/v1/spaces/me/content/${enc(path)}${query}`, { method: 'PUT', headers: { Authorization: `Bearer ${token}` }, body: bytes });
  return { status: res.status, body: await res.json() };
}

test('a file committed as a manifest of uploaded chunks reads back whole, by range, compressed and unchanged', async () => {
  const srv = await startServer({ env: LIMITS });
  const U = srv.url;
  const a = await signUp(U, 'ann');
  const parts = [Buffer.from('x'.repeat(70_000)), randomBytes(5000), Buffer.from('y'.repeat(3000))];
  const m = await manifestOf(U, a.access, parts);
  // the client asks which chunks are missing: none now; another user's view is its own
  const miss = await api(U, 'POST', '/api/v1/blobs/missing', { token: a.access, body: { hashes: m.chunks.map((c) => c.sha256) } });
  assert.deepEqual(miss.body.missing, []);
  const path = 'docs/Ünïcode dir/report 1.txt';
  let r = await api(U, 'PUT', `/api/v1/spaces/me/files/${enc(path)}`, { token: a.access, body: m });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.path, path.normalize('NFC'));
  const v1 = r.body.version;
  assert.equal(typeof v1, 'number');
  assert.equal(r.headers.get('etag'), `"${v1}"`);

  r = await api(U, 'GET', `/api/v1/spaces/me/files/${enc(path)}`, { token: a.access });
  assert.equal(r.status, 200);
  assert.equal(r.body.path, path);
  assert.equal(r.body.type, 'file');
  assert.equal(r.body.size, m.size);
  assert.equal(r.body.mode, 0o640);
  assert.equal(r.body.mtime, '2026-11-30T10:00:00.123456789Z');
  assert.equal(r.body.sha256, m.sha256);
  assert.deepEqual(r.body.chunks, m.chunks);
  assert.equal(r.body.version, v1);
  // the same file as an NFD path (macOS) is the same file
  r = await api(U, 'GET', `/api/v1/spaces/me/files/${enc(path.normalize('NFD'))}`, { token: a.access });
  assert.equal(r.status, 200);

  const all = Buffer.concat(parts);
  let g = await content(U, a.access, path, { headers: { 'Accept-Encoding': 'identity' } });
  assert.equal(g.status, 200);
  assert.ok(g.body.equals(all));
  assert.equal(g.headers.get('etag'), `"${m.sha256}"`);
  assert.equal(g.headers.get('vary'), 'Accept-Encoding');
  assert.equal(g.headers.get('content-length'), String(all.length));
  // a range across the chunks' borders
  g = await content(U, a.access, path, { headers: { Range: 'bytes=69990-75010', 'Accept-Encoding': 'gzip' } });
  assert.equal(g.status, 206);
  assert.ok(g.body.equals(all.subarray(69990, 75011)));
  assert.equal(g.headers.get('content-range'), `bytes 69990-75010/${all.length}`);
  assert.equal(g.headers.get('content-encoding'), null, 'a range is never compressed');
  g = await content(U, a.access, path, { headers: { Range: `bytes=${all.length}-` } });
  assert.equal(g.status, 416);
  // gzip: its own ETag, the bytes inflate to the file
  const gz = await fetch(`${U}/api/v1/spaces/me/content/${enc(path)}`, { headers: { Authorization: `Bearer ${a.access}`, 'Accept-Encoding': 'gzip' } });
  assert.equal(gz.headers.get('content-encoding'), 'gzip');
  assert.equal(gz.headers.get('etag'), `"${m.sha256}-gz"`);
  // fetch inflates on its own; the body is the file
  assert.ok(Buffer.from(await gz.arrayBuffer()).equals(all));
  g = await content(U, a.access, path, { headers: { 'If-None-Match': `"${m.sha256}"`, 'Accept-Encoding': 'identity' } });
  assert.equal(g.status, 304);

  // another user: the space is not theirs
  const b = await signUp(U, 'bob');
  r = await api(U, 'GET', `/api/v1/spaces/${(await api(U, 'GET', '/api/v1/spaces/me', { token: a.access })).body.id}/files/${enc(path)}`, { token: b.access });
  assert.equal(r.status, 404);
  // listing by prefix
  for (const p of ['docs/a.txt', 'docs/b/c.txt', 'dog.txt']) {
    const mm = await manifestOf(U, a.access, [Buffer.from(p)]);
    assert.equal((await api(U, 'PUT', `/api/v1/spaces/me/files/${enc(p)}`, { token: a.access, body: mm })).status, 200);
  }
  r = await api(U, 'GET', '/api/v1/spaces/me/files?prefix=docs/&limit=2', { token: a.access });
  assert.deepEqual(r.body.files.map((f) => f.path), ['docs/a.txt', 'docs/b/c.txt']);
  assert.equal(r.body.more, true);
  r = await api(U, 'GET', `/api/v1/spaces/me/files?prefix=docs/&after=${encodeURIComponent(r.body.next)}`, { token: a.access });
  assert.deepEqual(r.body.files.map((f) => f.path), [path]);
  assert.equal(r.body.more, false);
  r = await api(U, 'GET', '/api/v1/spaces/me/files?prefix=do', { token: a.access });
  assert.equal(r.body.files.length, 4);
  await srv.stop();
});

test('a commit is refused, naming the fault, unless every chunk is readable and the sizes add up', async () => {
  const srv = await startServer({ env: LIMITS });
  const U = srv.url;
  const a = await signUp(U, 'ann');
  const b = await signUp(U, 'bob');
  const mine = randomBytes(1000);
  const m = await manifestOf(U, b.access, [mine]); // uploaded by bob, not by ann
  let r = await api(U, 'PUT', '/api/v1/spaces/me/files/a.bin', { token: a.access, body: m });
  let e = await expectError(new Response(JSON.stringify(r.body), { status: r.status, headers: r.headers }), 400, 'blob_missing', assert);
  assert.match(JSON.stringify(e.fields), new RegExp(sha(mine)));
  await putBlob(U, a.access, mine);
  r = await api(U, 'PUT', '/api/v1/spaces/me/files/a.bin', { token: a.access, body: { ...m, size: 999 } });
  assert.equal(r.status, 400);
  assert.equal(r.body.code, 'validation_failed');
  assert.match(JSON.stringify(r.body.fields), /add up/);
  // a chunk said to be of another size than stored
  const two = [randomBytes(10), randomBytes(20)];
  const m2 = await manifestOf(U, a.access, two);
  m2.chunks[0].size = 11; m2.chunks[1].size = 19;
  r = await api(U, 'PUT', '/api/v1/spaces/me/files/b.bin', { token: a.access, body: m2 });
  assert.equal(r.status, 400);
  assert.match(JSON.stringify(r.body), /is (10 bytes, not 11|20 bytes, not 19)/);
  // the file is not there after any of these
  r = await api(U, 'GET', '/api/v1/spaces/me/files/a.bin', { token: a.access });
  assert.equal(r.status, 404);
  // paths breaking the rules, by name (sent as they are: fetch would resolve dot segments)
  const raw = (path, body) => new Promise((resolve, reject) => {
    const u = new URL(U);
    const req = http.request({ host: u.hostname, port: u.port, path: `/api/v1/spaces/me/files/${path}`, method: 'PUT', headers: { Authorization: `Bearer ${a.access}`, 'Content-Type': 'application/json' } }, (res) => {
      let t = '';
      res.on('data', (d) => { t += d; });
      res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(t) }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
  for (const [p, rule] of [['a/./b', 'dot_segment'], ['a/%2E%2E/b', 'dot_segment'], ['..', 'dot_segment'], ['a//b', 'segment_empty'], ['a%09b', 'control'], ['a%FFb', 'utf8'], ['x'.repeat(256), 'segment_too_long']]) {
    r = await raw(p, m);
    assert.equal(r.status, 400, p);
    assert.equal(r.body.code, 'bad_path', p);
    assert.equal(r.body.rule, rule, p);
  }
  r = await api(U, 'PUT', '/api/v1/spaces/me/files/d', { token: a.access, body: { type: 'dir', chunks: [{ sha256: sha(mine), size: 1000 }] } });
  assert.equal(r.status, 400);
  // an empty directory and a symbolic link
  r = await api(U, 'PUT', '/api/v1/spaces/me/files/empty', { token: a.access, body: { type: 'dir' } });
  assert.equal(r.status, 200);
  r = await api(U, 'PUT', '/api/v1/spaces/me/files/link', { token: a.access, body: { type: 'symlink', target: '../../etc/passwd' } });
  assert.equal(r.status, 200);
  r = await api(U, 'GET', '/api/v1/spaces/me/files/link', { token: a.access });
  assert.equal(r.body.target, '../../etc/passwd');
  assert.equal(r.body.size, 16);
  r = await api(U, 'GET', '/api/v1/spaces/me/content/link', { token: a.access });
  assert.equal(r.status, 404);
  await srv.stop();
});

test('PUT content chunks the bytes on the server: an edit in the middle stores only the chunks around it', async () => {
  const srv = await startServer({ env: { ...LIMITS, ...SMALL } });
  const U = srv.url;
  const a = await signUp(U, 'ann');
  const big = seeded(1 << 20, 'big');
  let r = await putContent(U, a.access, 'big.bin', big, '?mode=0600&mtime=2026-01-02T03:04:05Z');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const m = (await api(U, 'GET', '/api/v1/spaces/me/files/big.bin', { token: a.access })).body;
  assert.equal(m.sha256, sha(big));
  assert.equal(m.size, big.length);
  assert.equal(m.mode, 384);
  assert.equal(m.mtime, '2026-01-02T03:04:05.000Z');
  assert.ok(m.chunks.length > 20, `${m.chunks.length} chunks`);
  assert.ok(m.chunks.every((c) => c.size <= 64 * 1024));
  const before = blobCount(srv.dir);
  const edited = Buffer.from(big);
  seeded(1024, 'edit').copy(edited, 500_000);
  r = await putContent(U, a.access, 'big.bin', edited);
  assert.equal(r.status, 200);
  const after = blobCount(srv.dir);
  const m2 = (await api(U, 'GET', '/api/v1/spaces/me/files/big.bin', { token: a.access })).body;
  const old = new Set(m.chunks.map((c) => c.sha256));
  const fresh = m2.chunks.filter((c) => !old.has(c.sha256));
  const freshBytes = fresh.reduce((s, c) => s + c.size, 0);
  assert.ok(freshBytes <= 3 * 16 * 1024, `${freshBytes} new bytes in ${fresh.length} chunks: ${JSON.stringify(fresh)}`);
  assert.equal(after - before, fresh.length, 'only the new chunks were stored');
  assert.ok((await content(U, a.access, 'big.bin')).body.equals(edited));
  // the old version is still readable
  assert.ok((await content(U, a.access, 'big.bin', { query: `?version=${m.version}` })).body.equals(big));
  // an empty file
  r = await putContent(U, a.access, 'empty', Buffer.alloc(0));
  assert.equal(r.status, 200);
  assert.equal((await content(U, a.access, 'empty')).body.length, 0);
  await srv.stop();
});

test('versions, delete, trash and restore', async () => {
  const srv = await startServer({ env: LIMITS });
  const U = srv.url;
  const a = await signUp(U, 'ann');
  const v = [];
  for (const t of ['one', 'two', 'three']) v.push((await putContent(U, a.access, 'notes/todo.txt', Buffer.from(t))).body.version);
  let r = await api(U, 'GET', '/api/v1/spaces/me/versions/notes/todo.txt', { token: a.access });
  assert.deepEqual(r.body.versions.map((x) => x.version), [...v].reverse());
  assert.equal(r.body.versions[0].sha256, sha(Buffer.from('three')));
  assert.equal(r.body.versions[0].device_id, a.device.id);
  r = await api(U, 'DELETE', '/api/v1/spaces/me/files/notes/todo.txt', { token: a.access });
  assert.equal(r.status, 200);
  r = await api(U, 'DELETE', '/api/v1/spaces/me/files/notes/todo.txt', { token: a.access });
  assert.equal(r.status, 404);
  assert.equal((await api(U, 'GET', '/api/v1/spaces/me/files/notes/todo.txt', { token: a.access })).status, 404);
  r = await api(U, 'GET', '/api/v1/spaces/me/trash?prefix=notes/', { token: a.access });
  assert.deepEqual(r.body.files.map((f) => f.path), ['notes/todo.txt']);
  r = await api(U, 'GET', '/api/v1/spaces/me/files?prefix=notes/', { token: a.access });
  assert.deepEqual(r.body.files, []);
  // restore the first version of the deleted file
  r = await api(U, 'POST', '/api/v1/spaces/me/restore/notes/todo.txt', { token: a.access, body: { version: v[0] } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal((await content(U, a.access, 'notes/todo.txt')).body.toString(), 'one');
  r = await api(U, 'GET', '/api/v1/spaces/me/trash', { token: a.access });
  assert.deepEqual(r.body.files, []);
  r = await api(U, 'POST', '/api/v1/spaces/me/restore/notes/todo.txt', { token: a.access, body: { version: 999999 } });
  assert.equal(r.status, 404);
  await srv.stop();
});

test('a stale base_version is a conflict with the server manifest, or with on_conflict copy both are kept', async () => {
  const srv = await startServer({ env: LIMITS });
  const U = srv.url;
  const a = await signUp(U, 'ann', { device: 'laptop' });
  const m1 = await manifestOf(U, a.access, [Buffer.from('first')]);
  const v1 = (await api(U, 'PUT', '/api/v1/spaces/me/files/r/report.pdf', { token: a.access, body: m1 })).body.version;
  const m2 = await manifestOf(U, a.access, [Buffer.from('second')]);
  const v2 = (await api(U, 'PUT', '/api/v1/spaces/me/files/r/report.pdf', { token: a.access, body: { ...m2, base_version: v1 } })).body.version;
  const m3 = await manifestOf(U, a.access, [Buffer.from('third')]);
  let r = await api(U, 'PUT', '/api/v1/spaces/me/files/r/report.pdf', { token: a.access, body: { ...m3, base_version: v1 } });
  assert.equal(r.status, 409);
  assert.equal(r.body.code, 'conflict');
  assert.equal(r.body.reason, 'stale_base_version');
  assert.equal(r.body.server.version, v2);
  assert.equal(r.body.server.manifest.sha256, m2.sha256);
  // base_version 0: must not exist
  r = await api(U, 'PUT', '/api/v1/spaces/me/files/r/report.pdf', { token: a.access, body: { ...m3, base_version: 0 } });
  assert.equal(r.status, 409);
  r = await api(U, 'PUT', '/api/v1/spaces/me/files/r/report.pdf', { token: a.access, body: { ...m3, base_version: v1, on_conflict: 'copy' } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.match(r.body.path, /^r\/report \(conflict from laptop \d{4}-\d\d-\d\d \d{6}\)\.pdf$/);
  assert.equal(r.body.conflict_copy_of.path, 'r/report.pdf');
  assert.equal(r.body.conflict_copy_of.version, v2);
  const list = (await api(U, 'GET', '/api/v1/spaces/me/files?prefix=r/', { token: a.access })).body.files;
  assert.deepEqual(list.map((f) => f.sha256).sort(), [m2.sha256, m3.sha256].sort());
  // If-Match works as base_version too
  r = await api(U, 'DELETE', '/api/v1/spaces/me/files/r/report.pdf', { token: a.access, headers: { 'If-Match': `"${v1}"` } });
  assert.equal(r.status, 409);
  await srv.stop();
});

test('moves rename a file or a directory in one step, reusing chunks, or nothing at all', async () => {
  const srv = await startServer({ env: LIMITS });
  const U = srv.url;
  const a = await signUp(U, 'ann');
  for (const p of ['src/a.c', 'src/lib/b.c', 'src/lib/c.c', 'srcx.c']) await putContent(U, a.access, p, Buffer.from(`// ${p}\n`));
  const blobs = blobCount(srv.dir);
  let r = await api(U, 'POST', '/api/v1/spaces/me/moves', { token: a.access, body: { from: 'src', to: 'lib/src' } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.moved, 3);
  let list = (await api(U, 'GET', '/api/v1/spaces/me/files', { token: a.access })).body.files.map((f) => f.path);
  assert.deepEqual(list, ['lib/src/a.c', 'lib/src/lib/b.c', 'lib/src/lib/c.c', 'srcx.c']);
  assert.equal(blobCount(srv.dir), blobs, 'no byte uploaded again');
  assert.equal((await content(U, a.access, 'lib/src/lib/b.c')).body.toString(), '// src/lib/b.c\n');
  // one file
  r = await api(U, 'POST', '/api/v1/spaces/me/moves', { token: a.access, body: { from: 'srcx.c', to: 'lib/srcx.c' } });
  assert.equal(r.body.moved, 1);
  // onto an existing file: nothing moves
  await putContent(U, a.access, 'other/a.c', Buffer.from('x'));
  r = await api(U, 'POST', '/api/v1/spaces/me/moves', { token: a.access, body: { from: 'lib/src', to: 'other' } });
  assert.equal(r.status, 409);
  list = (await api(U, 'GET', '/api/v1/spaces/me/files', { token: a.access })).body.files.map((f) => f.path);
  assert.ok(list.includes('lib/src/a.c') && list.includes('lib/src/lib/b.c'));
  r = await api(U, 'POST', '/api/v1/spaces/me/moves', { token: a.access, body: { from: 'lib', to: 'lib/x' } });
  assert.equal(r.status, 400);
  r = await api(U, 'POST', '/api/v1/spaces/me/moves', { token: a.access, body: { from: 'nothing', to: 'x' } });
  assert.equal(r.status, 404);
  await srv.stop();
});

test('manifests commit in batches through the changes API, and sync like any change', async () => {
  const srv = await startServer({ env: LIMITS });
  const U = srv.url;
  const a = await signUp(U, 'ann');
  const changes = [];
  const bodies = [];
  for (let i = 0; i < 50; i++) {
    const body = Buffer.from(`file ${i}\n`);
    bodies.push(body);
    const path = `many/f${i}.txt`;
    changes.push({ op_id: `op-${i}`, collection: 'files', id: sha(Buffer.from(path)), op: 'put',
      data: { path, type: 'file', size: body.length, sha256: sha(body), chunks: [{ sha256: sha(body), size: body.length }] } });
  }
  // the chunks go up in one batch
  const frames = [];
  for (const b of bodies) frames.push(Buffer.from(`${sha(b)} ${b.length}\n`), b);
  const bad = Buffer.from('not what it says');
  frames.push(Buffer.from(`${sha(Buffer.from('other'))} ${bad.length}\n`), bad);
  let res = await fetch(`${U}/api/v1/blobs/batch`, { method: 'POST', headers: { Authorization: `Bearer ${a.access}` }, body: Buffer.concat(frames) });
  assert.equal(res.status, 200);
  const out = await res.json();
  assert.equal(out.results.length, 51);
  assert.ok(out.results.slice(0, 50).every((x) => x.status === 'stored' || x.status === 'had'));
  assert.equal(out.results[50].status, 'hash_mismatch');
  let r = await api(U, 'POST', '/api/v1/spaces/me/changes', { token: a.access, body: { changes } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.ok(r.body.results.every((x) => x.status === 'applied'));
  r = await api(U, 'GET', '/api/v1/spaces/me/changes?since=0&limit=100', { token: a.access });
  const files = r.body.changes.filter((c) => c.collection === 'files');
  assert.equal(files.length, 50);
  assert.equal(files[0].data.path, 'many/f0.txt');
  assert.ok((await content(U, a.access, 'many/f7.txt')).body.equals(bodies[7]));
  // an id that is not the path's
  r = await api(U, 'POST', '/api/v1/spaces/me/changes', { token: a.access, body: { changes: [{ ...changes[0], op_id: 'x1', id: 'nope' }] } });
  assert.equal(r.status, 400);
  assert.match(JSON.stringify(r.body.fields), /SHA-256 of its path/);
  r = await api(U, 'POST', '/api/v1/spaces/me/changes', { token: a.access, body: { changes: [{ ...changes[0], op_id: 'x2', op: 'patch' }] } });
  assert.equal(r.status, 400);
  r = await api(U, 'PUT', '/api/v1/spaces/me/collections/files', { token: a.access, body: { conflict: 'lww' } });
  assert.equal(r.status, 400);
  await srv.stop();
});

test('paths differing only by case are reported, or refused under files.case_collisions = refuse', async () => {
  for (const rule of ['allow', 'refuse']) {
    const srv = await startServer({ env: { ...LIMITS, CAIRN_FILES_CASE_COLLISIONS: rule } });
    const U = srv.url;
    const a = await signUp(U, 'ann');
    assert.equal((await putContent(U, a.access, 'Docs/README.md', Buffer.from('a'))).status, 200);
    const r = await putContent(U, a.access, 'docs/readme.md', Buffer.from('b'));
    if (rule === 'allow') {
      assert.equal(r.status, 200);
      assert.equal(r.body.case_collision, 'Docs/README.md');
    } else {
      assert.equal(r.status, 400);
      assert.match(JSON.stringify(r.body), /case_collision/);
      assert.equal((await api(U, 'GET', '/api/v1/spaces/me/files/docs/readme.md', { token: a.access })).status, 404);
    }
    await srv.stop();
  }
});

test('pruning keeps files.keep_versions of each file; a deleted file leaves the trash after files.keep_days, and its chunks stop costing quota', async () => {
  const env = { ...LIMITS, CAIRN_SYNC_RETENTION: '0s', CAIRN_SYNC_GC_INTERVAL: '0', CAIRN_BLOBS_GC_GRACE: '0s' };
  const srv = await startServer({ env });
  const U = srv.url;
  const a = await signUp(U, 'ann');
  const vs = [];
  for (let i = 0; i < 5; i++) vs.push((await putContent(U, a.access, 'keep/me.txt', Buffer.from(`version ${i}`))).body.version);
  await putContent(U, a.access, 'gone.txt', Buffer.from('soon deleted'));
  assert.equal((await api(U, 'DELETE', '/api/v1/spaces/me/files/gone.txt', { token: a.access })).status, 200);
  const head = (await api(U, 'GET', '/api/v1/spaces/me/changes?since=0&limit=1', { token: a.access })).body.head_seq;
  assert.equal((await api(U, 'GET', `/api/v1/spaces/me/changes?since=${head}`, { token: a.access })).status, 200);
  await new Promise((r) => setTimeout(r, 1300)); // the cursor report is written
  // young versions stay whatever their count
  let gc = await runCairnGc(srv.dir, { ...env, CAIRN_FILES_KEEP_VERSIONS: '2' });
  let r = await api(U, 'GET', '/api/v1/spaces/me/versions/keep/me.txt', { token: a.access });
  assert.equal(r.body.versions.length, 5, gc);
  assert.equal((await api(U, 'GET', '/api/v1/spaces/me/trash', { token: a.access })).body.files.length, 1);
  // past keep_days: the newest 2 stay, the deleted file and its history go
  gc = await runCairnGc(srv.dir, { ...env, CAIRN_FILES_KEEP_VERSIONS: '2', CAIRN_FILES_KEEP_DAYS: '0s' });
  r = await api(U, 'GET', '/api/v1/spaces/me/versions/keep/me.txt', { token: a.access });
  assert.deepEqual(r.body.versions.map((v) => v.version), [vs[4], vs[3]], gc);
  assert.equal((await content(U, a.access, 'keep/me.txt', { query: `?version=${vs[3]}` })).body.toString(), 'version 3');
  assert.equal((await content(U, a.access, 'keep/me.txt', { query: `?version=${vs[1]}` })).status, 404);
  assert.deepEqual((await api(U, 'GET', '/api/v1/spaces/me/trash', { token: a.access })).body.files, []);
  assert.equal((await api(U, 'GET', '/api/v1/spaces/me/versions/gone.txt', { token: a.access })).status, 404);
  // the holdings of chunks no kept version names ended: only the two kept versions' remain
  const held = (await api(U, 'GET', '/api/v1/blobs', { token: a.access })).body.blobs.map((b) => b.sha256).sort();
  assert.deepEqual(held, [sha(Buffer.from('version 3')), sha(Buffer.from('version 4'))].sort());
  await srv.cleanup();
});

async function runCairnGc(dir, env) {
  const { runCairn } = await import('./lib/cairn.mjs');
  const r = await runCairn(['gc', '--data', dir], { env });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

test('a file cannot sit where the tree has a directory, nor under a file', async () => {
  const srv = await startServer({ env: LIMITS });
  const U = srv.url;
  const a = await signUp(U, 'ann');
  assert.equal((await putContent(U, a.access, 'x', Buffer.from('a file'))).status, 200);
  let r = await putContent(U, a.access, 'x/under.txt', Buffer.from('no'));
  assert.equal(r.status, 409);
  assert.equal(r.body.reason, 'parent_is_file');
  assert.equal((await putContent(U, a.access, 'd/a/b.txt', Buffer.from('deep'))).status, 200);
  r = await putContent(U, a.access, 'd', Buffer.from('over a directory'));
  assert.equal(r.status, 409);
  assert.equal(r.body.reason, 'is_directory');
  r = await api(U, 'PUT', '/api/v1/spaces/me/files/d/a', { token: a.access, body: { type: 'symlink', target: 't' } });
  assert.equal(r.status, 409);
  // a directory entry there is no clash
  r = await api(U, 'PUT', '/api/v1/spaces/me/files/d', { token: a.access, body: { type: 'dir' } });
  assert.equal(r.status, 200);
  // nor is a file once the one in the way is deleted
  assert.equal((await api(U, 'DELETE', '/api/v1/spaces/me/files/x', { token: a.access })).status, 200);
  assert.equal((await putContent(U, a.access, 'x/under.txt', Buffer.from('yes'))).status, 200);
  // a move under a file, and a push, meet the same rule
  r = await api(U, 'POST', '/api/v1/spaces/me/moves', { token: a.access, body: { from: 'd/a/b.txt', to: 'x/under.txt/b.txt' } });
  assert.equal(r.status, 409);
  r = await api(U, 'POST', '/api/v1/spaces/me/changes', { token: a.access, body: { changes: [{ op_id: 'clash-1', collection: 'files', id: sha(Buffer.from('d/a')), op: 'put',
    data: { path: 'd/a', type: 'file', size: 0, sha256: sha(Buffer.alloc(0)), chunks: [] } }] } });
  assert.equal(r.status, 200);
  assert.equal(r.body.results[0].status, 'conflict');
  assert.equal((await content(U, a.access, 'd/a/b.txt')).body.toString(), 'deep');
  await srv.stop();
});

test('hostile uploads: a body cut mid-stream, refused terms, a bad batch header, a merge by move, a device name in NFD', async () => {
  const net = await import('node:net');
  const srv = await startServer({ env: LIMITS });
  const U = srv.url;
  const a = await signUp(U, 'ann', { device: 'caf\u0065\u0301' });
  const port = Number(new URL(U).port);
  // cut off past the point where the worker cuts and stores: the server lives on, nothing
  // half-written stays
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.write(`PUT /api/v1/spaces/me/content/cut.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${a.access}\r\nContent-Length: ${8 * 1048576 + 100}\r\n\r\n`);
        s.write(randomBytes(3 * 1048576 + i * 500000), () => setTimeout(() => { s.resetAndDestroy(); resolve(); }, 50));
      });
      s.on('error', () => resolve());
    });
  }
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await api(U, 'GET', '/api/v1/health', {})).status, 200);
  assert.equal((await api(U, 'GET', '/api/v1/spaces/me/files/cut.bin', { token: a.access })).status, 404);
  assert.deepEqual(readdirSync(join(srv.dir, 'blobs', 'tmp')), []);
  // terms refused before any byte is stored
  const before = (await api(U, 'GET', '/api/v1/blobs', { token: a.access })).body.blobs.length;
  for (const q of ['?mtime=yesterday', '?mode=999', '?mode=0x1ff', '?mode=%20755', '?mode=-0', '?on_conflict=merge', '?base_version=-1']) {
    const r = await putContent(U, a.access, 'terms.bin', randomBytes(100_000), q);
    assert.equal(r.status, 400, q);
  }
  assert.equal((await api(U, 'GET', '/api/v1/blobs', { token: a.access })).body.blobs.length, before);
  let r0;
  // a batch header with a NUL inside, or a size past 2^63: refused, not misread
  const h = sha(Buffer.from('x'));
  for (const head of [`${h} 1\0junk\n`, `${h} 99999999999999999999\n`]) {
    const res = await fetch(`${U}/api/v1/blobs/batch`, { method: 'POST', headers: { Authorization: `Bearer ${a.access}` }, body: Buffer.concat([Buffer.from(head), Buffer.from('x')]) });
    assert.equal(res.status, 400, JSON.stringify(head));
  }
  // a link's target leaves room for the NUL the kernel wants (PATH_MAX is 4096 with it)
  r0 = await api(U, 'PUT', '/api/v1/spaces/me/files/long-link', { token: a.access, body: { type: 'symlink', target: 'x'.repeat(4096) } });
  assert.equal(r0.status, 400);
  r0 = await api(U, 'PUT', '/api/v1/spaces/me/files/long-link', { token: a.access, body: { type: 'symlink', target: 'x'.repeat(4095) } });
  assert.equal(r0.status, 200);
  // a directory is not merged into another by a move
  await putContent(U, a.access, 'mv/a/1.txt', Buffer.from('1'));
  await putContent(U, a.access, 'mv/b/2.txt', Buffer.from('2'));
  let r = await api(U, 'POST', '/api/v1/spaces/me/moves', { token: a.access, body: { from: 'mv/a', to: 'mv/b' } });
  assert.equal(r.status, 409);
  assert.equal((await api(U, 'GET', '/api/v1/spaces/me/files?prefix=mv/', { token: a.access })).body.files.length, 2);
  // a conflict copy named after a device whose name is not NFC is still a path
  const v1 = (await putContent(U, a.access, 'c.txt', Buffer.from('one'))).body.version;
  await putContent(U, a.access, 'c.txt', Buffer.from('two'));
  r = await putContent(U, a.access, 'c.txt', Buffer.from('three'), `?base_version=${v1}&on_conflict=copy`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.match(r.body.path, /^c \(conflict from café \d{4}-\d\d-\d\d \d{6}\)\.txt$/);
  assert.equal(r.body.path, r.body.path.normalize('NFC'));
  await srv.stop();
});
