import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { rawRequest, startServer } from './lib/cairn.mjs';
import { db } from './lib/backend.mjs';

let srv;
before(async () => {
  srv = await startServer();
});
after(async () => {
  await srv.cleanup();
});

test('GET /health answers {"status":"ok"} with a request id', async () => {
  const res = await fetch(`${srv.url}/health`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^application\/json/);
  assert.ok(res.headers.get('x-request-id'));
  assert.deepEqual(await res.json(), { status: 'ok' });
});

test('HEAD /health answers without a body', async () => {
  const res = await fetch(`${srv.url}/health`, { method: 'HEAD' });
  assert.equal(res.status, 200);
  assert.equal(await res.text(), '');
});

test('GET /api/v1/health reports version, uptime, database and blobs', async () => {
  const res = await fetch(`${srv.url}/api/v1/health`);
  assert.equal(res.status, 200);
  const h = await res.json();
  assert.equal(h.status, 'ok');
  assert.match(h.version, /^\d+\.\d+\.\d+/);
  assert.equal(typeof h.uptime_s, 'number');
  assert.ok(h.uptime_s >= 0);
  assert.equal(h.database.backend, 'sqlite');
  assert.equal(h.database.ok, true);
  assert.ok(h.database.schema_version >= 1);
  assert.equal(h.blobs.backend, 'fs');
  assert.equal(h.blobs.ok, true);
  assert.ok(Number.isInteger(h.blobs.free_bytes) && h.blobs.free_bytes > 0);
  // the data lives where the configuration says
  assert.ok(db.hasData(srv.dir));
  assert.ok(existsSync(join(srv.dir, 'blobs')));
});

test('/api/v1/health answers 503 degraded while the database is unusable', async () => {
  const putBack = db.makeUnusable(srv.dir);
  try {
    const res = await fetch(`${srv.url}/api/v1/health`);
    assert.equal(res.status, 503);
    const h = await res.json();
    assert.equal(h.status, 'degraded');
    assert.equal(h.database.ok, false);
    assert.equal(h.blobs.ok, true);
    // the liveness probe still says the process serves
    assert.equal((await fetch(`${srv.url}/health`)).status, 200);
  } finally {
    putBack();
  }
  assert.equal((await fetch(`${srv.url}/api/v1/health`)).status, 200);
});

test('GET /api/v1/limits tells clients the limits', async () => {
  const res = await fetch(`${srv.url}/api/v1/limits`);
  assert.equal(res.status, 200);
  const l = await res.json();
  assert.deepEqual(l, {
    header_bytes: 8192,
    json_body_bytes: 16 * 1024 * 1024,
    auth_body_bytes: 8192,
    json_depth: 32,
    json_values: 200000,
    push_changes: 1000,
    push_blob_refs: 4096,
    push_stored_bytes: 16 * 1024 * 1024,
    blobs_per_change: 256,
    record_bytes: 1024 * 1024,
    page: 1000,
    wait_s: 60,
    blob_max_bytes: 4 * 1024 * 1024 * 1024,
    body_min_rate: 1024,
    body_grace_s: 10,
    max_connections_per_address: 256,
    file_chunk_min: 256 * 1024,
    file_chunk_avg: 1024 * 1024,
    file_chunk_max: 4 * 1024 * 1024,
    file_max_chunks: 16384,
    file_manifest_bytes: 2 * (2 * 4096 + 2) + 512 + 16384 * (64 + 21 + 20 + 2),
    file_max_move: 10000,
    batch_bytes: 64 * 1024 * 1024,
    batch_blobs: 10000,
  });
});

test('every request gets one access-log line with its request id', async () => {
  const res = await fetch(`${srv.url}/health`, { headers: { 'X-Request-Id': 'probe-123' } });
  assert.equal(res.headers.get('x-request-id'), 'probe-123');
  await res.text();
  for (let i = 0; i < 50 && !srv.log().includes('[probe-123]'); i++) await new Promise((r) => setTimeout(r, 20));
  const line = srv.log().split('\n').find((l) => l.includes('[probe-123]'));
  assert.ok(line, srv.log());
  assert.match(line, /\[probe-123\] 127\.0\.0\.1 GET \/health 200 15b [\d.]+ms/);
});

test('public routes take no big body from anyone: limits.auth_body_bytes, answered before it is read', async () => {
  for (const path of ['/health', '/api/v1/health', '/api/v1/limits']) {
    const t0 = Date.now();
    const r = await rawRequest(srv.port, `GET ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 16000000\r\n\r\n`, { timeoutMs: 3000 });
    assert.equal(r.status, 413, `${path}: ${r.status}`);
    assert.match(r.body, /limits\.auth_body_bytes/);
    assert.ok(Date.now() - t0 < 2000);
  }
});
