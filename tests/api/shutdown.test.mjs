import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { parseResponse, sleep, startServer } from './lib/cairn.mjs';
import { db } from './lib/backend.mjs';

// Opens a request whose body is still arriving: it is in flight until we finish it.
async function startSlowRequest(port) {
  const sock = net.connect(port, '127.0.0.1');
  await new Promise((r) => sock.on('connect', r));
  let data = Buffer.alloc(0);
  sock.on('data', (d) => (data = Buffer.concat([data, d])));
  const closed = new Promise((r) => sock.on('close', r));
  sock.on('error', () => {});
  sock.write('GET /api/v1/health HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345');
  return {
    finish() {
      sock.write('67890');
    },
    async response() {
      await closed;
      return parseResponse(data, false);
    },
  };
}

test('SIGTERM lets in-flight requests finish, refuses new ones, exits 0', async () => {
  const srv = await startServer();
  const a = await startSlowRequest(srv.port);
  const b = await startSlowRequest(srv.port);
  await sleep(100);
  srv.proc.kill('SIGTERM');
  await sleep(300);
  // still running: it waits for a and b
  assert.equal(srv.proc.exitCode, null, srv.log());
  // no new connections are accepted
  await assert.rejects(fetch(`${srv.url}/health`));
  a.finish();
  b.finish();
  const [ra, rb] = [await a.response(), await b.response()];
  assert.equal(ra.status, 200);
  assert.equal(JSON.parse(ra.body).status, 'ok');
  assert.equal(ra.headers.connection, 'close');
  assert.equal(rb.status, 200);
  const { code } = await srv.exited;
  assert.equal(code, 0, srv.log());
  assert.match(srv.log(), /received SIGTERM/);
  assert.match(srv.log(), /stopped/);
  await srv.cleanup();
});

test('SIGINT with a request that never finishes: exit 0 after shutdown_timeout', async () => {
  const srv = await startServer({ env: { CAIRN_SERVER_SHUTDOWN_TIMEOUT: '1s' } });
  await startSlowRequest(srv.port);
  await sleep(100);
  const t0 = Date.now();
  srv.proc.kill('SIGINT');
  const { code } = await srv.exited;
  const took = Date.now() - t0;
  assert.equal(code, 0, srv.log());
  assert.ok(took >= 900 && took < 5000, `took ${took} ms`);
  assert.match(srv.log(), /shutdown timeout: closing 1 unfinished/);
  await srv.cleanup();
});

test('the database is closed cleanly: no WAL left behind, data reopens', async () => {
  const srv = await startServer();
  assert.equal((await fetch(`${srv.url}/api/v1/health`)).status, 200);
  assert.equal((await srv.stop()).code, 0);
  assert.ok(db.leftNothingToRecover(srv.dir));
  const again = await startServer({ dataDir: srv.dir });
  const h = await (await fetch(`${again.url}/api/v1/health`)).json();
  assert.equal(h.database.ok, true);
  await again.cleanup();
});

test('SIGHUP stops the server cleanly, as SIGTERM does, instead of killing it', async () => {
  const srv = await startServer();
  const a = await startSlowRequest(srv.port);
  await sleep(100);
  srv.proc.kill('SIGHUP');
  await sleep(100);
  a.finish();
  const r = await a.response();
  assert.equal(r.status, 200, 'the request in flight was answered');
  const { code, signal } = await srv.exited;
  assert.equal(signal, null);
  assert.equal(code, 0);
  assert.match(srv.log(), /received SIGHUP \(no log file to reopen\): draining/);
  await srv.cleanup();
});
