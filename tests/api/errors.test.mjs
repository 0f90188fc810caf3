import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { expectError, rawRequest, sleep, startServer } from './lib/cairn.mjs';

let srv;
before(async () => {
  srv = await startServer({
    env: {
      CAIRN_LIMITS_JSON_BODY_BYTES: '2KiB',
      CAIRN_LIMITS_AUTH_BODY_BYTES: '2KiB', // the limit of public routes such as /api/v1/health
      CAIRN_LIMITS_HEADER_BYTES: '2KiB',
      CAIRN_SERVER_HEADER_TIMEOUT: '1s',
    },
  });
});
after(async () => {
  await srv.cleanup();
});

test('an unknown /api/ path answers the JSON 404', async () => {
  const res = await fetch(`${srv.url}/api/v1/no/such/thing`);
  await expectError(res, 404, 'not_found', assert);
  assert.ok(res.headers.get('x-request-id'));
});

test('a known path with the wrong method answers 405 with Allow', async () => {
  const res = await fetch(`${srv.url}/api/v1/health`, { method: 'DELETE' });
  await expectError(res, 405, 'method_not_allowed', assert);
  assert.equal(res.headers.get('allow'), 'GET, HEAD');
});

test('a method the server does not know answers 405', async () => {
  const r = await rawRequest(srv.port, 'BREW /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.equal(r.status, 405);
  assert.equal(JSON.parse(r.body).code, 'method_not_allowed');
});

test('a body over the limit by Content-Length answers 413 before it is sent', async () => {
  // Only the headers go out: the answer must come without the body.
  const r = await rawRequest(
    srv.port,
    'GET /api/v1/health HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000000\r\n\r\n',
    { timeoutMs: 3000 },
  );
  assert.equal(r.timedOut, false, 'the server waited for the body');
  assert.equal(r.status, 413);
  assert.equal(JSON.parse(r.body).code, 'body_too_large');
});

test('a chunked body that passes the limit answers 413', async () => {
  const chunk = 'x'.repeat(1000);
  let text = 'GET /api/v1/health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n';
  for (let i = 0; i < 5; i++) text += `${chunk.length.toString(16)}\r\n${chunk}\r\n`;
  text += '0\r\n\r\n';
  const r = await rawRequest(srv.port, text);
  assert.equal(r.status, 413);
  assert.equal(JSON.parse(r.body).code, 'body_too_large');
});

test('headers over the limit answer 431', async () => {
  const res = await fetch(`${srv.url}/health`, { headers: { 'X-Padding': 'p'.repeat(3000) } });
  assert.equal(res.status, 431);
  await res.text();
});

test('a sane X-Request-Id is echoed, anything else replaced', async () => {
  let res = await fetch(`${srv.url}/health`, { headers: { 'X-Request-Id': 'abc-DEF_1.2:3' } });
  assert.equal(res.headers.get('x-request-id'), 'abc-DEF_1.2:3');
  res = await fetch(`${srv.url}/health`, { headers: { 'X-Request-Id': 'x'.repeat(200) } });
  assert.notEqual(res.headers.get('x-request-id'), 'x'.repeat(200));
  res = await fetch(`${srv.url}/health`, { headers: { 'X-Request-Id': 'a b' } });
  assert.match(res.headers.get('x-request-id'), /^[0-9a-f]{6}-[0-9a-f]+$/);
});

test('keep-alive connections survive error answers', async () => {
  const r = await rawRequest(
    srv.port,
    'GET /api/v1/nope HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
  );
  assert.equal(r.status, 404);
  assert.match(r.raw, /HTTP\/1\.1 200 OK[\s\S]*\{"status":"ok"\}$/);
});

test('a client that trickles its headers is cut off after header_timeout', async () => {
  const sock = net.connect(srv.port, '127.0.0.1');
  await new Promise((r) => sock.on('connect', r));
  let closed = false;
  sock.on('close', () => (closed = true));
  sock.on('error', () => {});
  const start = Date.now();
  sock.write('GET /health HTTP/1.1\r\n');
  // one byte every 200 ms: always active, never finished
  while (!closed && Date.now() - start < 6000) {
    sock.write('X');
    await sleep(200);
  }
  const took = Date.now() - start;
  sock.destroy();
  assert.ok(closed, 'the connection stayed open');
  assert.ok(took < 4000, `closed only after ${took} ms`);
  // others are still served
  assert.equal((await fetch(`${srv.url}/health`)).status, 200);
});
