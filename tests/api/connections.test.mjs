// Connections: request framing that two parsers could read two ways, HEAD, bodies that
// trickle, clients that leave while they wait, per-address limits, trusted proxies and
// X-Forwarded-For, the open-file limit. Raw sockets where a fetch would hide the bytes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { api, eventually, rawRequest, signUp, sleep, startServer } from './lib/cairn.mjs';

let srv;
let U;
before(async () => {
  srv = await startServer({
    env: {
      CAIRN_RATELIMIT_PER_ADDRESS: '100000',
      CAIRN_RATELIMIT_PER_ACCOUNT: '100000',
      CAIRN_SERVER_BODY_GRACE: '1s',
      CAIRN_SERVER_BODY_MIN_RATE: '1KiB',
    },
  });
  U = srv.url;
});
after(async () => {
  await srv.cleanup();
});

const responses = (raw) => (raw.match(/HTTP\/1\.1 \d{3}/g) || []).length;

test('ambiguous framing is 400 bad_framing before the body, and the connection closes', async () => {
  const cases = [
    ['two different Content-Lengths', 'Content-Length: 5\r\nContent-Length: 40\r\n'],
    ['two equal Content-Lengths', 'Content-Length: 40\r\nContent-Length: 40\r\n'],
    ['Content-Length with chunked', 'Content-Length: 40\r\nTransfer-Encoding: chunked\r\n'],
    ['a space before the colon', 'Content-Length : 40\r\n'],
    ['a tab before the colon', 'Content-Length\t: 40\r\n'],
    ['two Transfer-Encodings', 'Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n'],
    // obs-fold: libmicrohttpd glues the folded line to the header's name
    ['a folded Content-Length', 'Content-Length:\r\n 40\r\n'],
    ['a tab-folded Content-Length', 'Content-Length:\r\n\t40\r\n'],
    ['a folded Transfer-Encoding', 'Transfer-Encoding:\r\n chunked\r\n'],
    ['a header folded into Content-Length', 'X-A: b\r\n Content-Length: 40\r\n'],
    // a bare CR ends a line for some parsers
    ['a bare CR in a value', 'X-A: a\rContent-Length: 40\r\n'],
  ];
  // each is followed by what a front proxy reading it the other way would take for a
  // second request: it must never be answered
  const smuggled = 'GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n';
  for (const [what, headers] of cases) {
    const r = await rawRequest(srv.port, `POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${headers}\r\n${smuggled}`, { timeoutMs: 3000 });
    assert.equal(r.timedOut, false, `${what}: the connection was kept`);
    assert.equal(r.status, 400, `${what}: ${r.raw}`);
    assert.equal(JSON.parse(r.body.slice(0, r.body.lastIndexOf('}') + 1)).code, 'bad_framing', what);
    assert.equal(r.headers.connection, 'close', what);
    assert.equal(responses(r.raw), 1, `${what}: a second request was answered:\n${r.raw}`);
  }
});

test('a transfer coding other than chunked is 501 at once, not a connection held open', async () => {
  for (const te of ['gzip', 'chunked, gzip', 'gzip, chunked', 'identity', 'chunked ']) {
    const start = Date.now();
    const r = await rawRequest(srv.port, `POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: ${te}\r\n\r\n5\r\nhello\r\n0\r\n\r\n`, { timeoutMs: 3000 });
    assert.equal(r.timedOut, false, `${te}: held`);
    assert.ok(Date.now() - start < 2000);
    assert.equal(r.status, 501, `${te}: ${r.raw}`);
    assert.equal(JSON.parse(r.body).code, 'not_implemented');
  }
  // chunked alone still works
  const body = '{"username":"nobody","password":"not the password"}';
  const r = await rawRequest(srv.port, `POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`);
  assert.equal(r.status, 401, r.raw);
});

test('HEAD: the event stream answers headers only; /blobs/missing is not the blob download', async () => {
  const a = await signUp(U, 'co1');
  const r = await rawRequest(srv.port, `HEAD /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${a.access}\r\n\r\n`, { timeoutMs: 1500 });
  assert.equal(r.status, 200, r.raw);
  assert.match(r.headers['content-type'], /^text\/event-stream/);
  assert.equal(r.headers['transfer-encoding'], undefined, r.raw);
  assert.equal(r.body, '', 'a HEAD answer has no body');
  for (const m of ['HEAD', 'GET']) {
    const x = await rawRequest(srv.port, `${m} /api/v1/blobs/missing HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${a.access}\r\nConnection: close\r\n\r\n`);
    assert.equal(x.status, 405, `${m}: ${x.raw}`);
    assert.equal(x.headers.allow, 'POST');
  }
});

test('"Bearer  <token>" with two spaces: the stream gets heartbeats, not a false revoked', async () => {
  const fast = await startServer({ env: { CAIRN_SERVER_EVENTS_HEARTBEAT: '200ms' } });
  try {
    const a = await signUp(fast.url, 'co2');
    const r = await rawRequest(fast.port, `GET /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer  ${a.access}\r\n\r\n`, { timeoutMs: 1200 });
    assert.equal(r.status, 200, r.raw);
    assert.ok(!r.body.includes('revoked'), r.body);
    assert.ok((r.body.match(/: heartbeat/g) || []).length >= 3, r.body);
  } finally {
    await fast.cleanup();
  }
});

test('a body trickled below server.body_min_rate is cut off after server.body_grace', async () => {
  const sock = net.connect(srv.port, '127.0.0.1');
  let closedAt = 0;
  let got = '';
  sock.on('data', (d) => (got += d));
  sock.on('error', () => {});
  const closed = new Promise((r) => sock.on('close', () => r((closedAt = Date.now()))));
  await new Promise((r) => sock.on('connect', r));
  const start = Date.now();
  sock.write('POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n');
  let sent = 0;
  const timer = setInterval(() => {
    if (!sock.destroyed) sock.write('{');
    sent++;
  }, 300);
  await Promise.race([closed, sleep(8000)]);
  clearInterval(timer);
  sock.destroy();
  assert.ok(closedAt, 'the trickling connection was never closed');
  assert.ok(closedAt - start < 4000, `closed after ${closedAt - start} ms`);
  assert.ok(sent < 20);
  // a burst does not buy silence: each window of server.body_grace must keep the rate
  const burst = net.connect(srv.port, '127.0.0.1');
  burst.on('error', () => {});
  const burstClosed = new Promise((r) => burst.on('close', () => r(Date.now())));
  await new Promise((r) => burst.on('connect', r));
  const b0 = Date.now();
  burst.write(`POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 8000\r\n\r\n${'{'.repeat(7000)}`);
  const burstAt = await Promise.race([burstClosed, sleep(6000).then(() => 0)]);
  burst.destroy();
  assert.ok(burstAt, 'a body that stalled after a burst was kept');
  assert.ok(burstAt - b0 < 3500, `closed after ${burstAt - b0} ms`);
  // a body that keeps the rate is fine however long it takes
  const a = await signUp(U, 'co3');
  const data = JSON.stringify({ pad: 'x'.repeat(9000) });
  const slow = net.connect(srv.port, '127.0.0.1');
  let answer = '';
  slow.on('data', (d) => (answer += d));
  const done = new Promise((r) => slow.on('close', r));
  await new Promise((r) => slow.on('connect', r));
  slow.write(`PUT /api/v1/spaces/me/records/notes/slow HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${a.access}\r\nContent-Type: application/json\r\nContent-Length: ${data.length}\r\nConnection: close\r\n\r\n`);
  for (let i = 0; i < data.length; i += 1000) {
    slow.write(data.slice(i, i + 1000)); // 4 KiB/s for about 2.5 s
    await sleep(250);
  }
  await done;
  assert.match(answer, /^HTTP\/1\.1 200/, answer.slice(0, 300));
});

// The access-log line of a request: written when the server is done with it.
function logLine(server, id) {
  return server.log().split('\n').find((l) => l.includes(`[${id}]`));
}

test('a client that leaves while its long-poll or event stream waits is let go at once', async () => {
  const a = await signUp(U, 'co4');
  for (const [id, path] of [
    ['gone-pull', '/api/v1/spaces/me/changes?since=0&wait=30'],
    ['gone-events', '/api/v1/events'],
  ]) {
    for (const how of ['end', 'reset']) {
      const rid = `${id}-${how}`;
      const sock = net.connect(srv.port, '127.0.0.1');
      sock.on('error', () => {});
      let got = '';
      sock.on('data', (d) => (got += d));
      await new Promise((r) => sock.on('connect', r));
      sock.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${a.access}\r\nX-Request-Id: ${rid}\r\n\r\n`);
      await sleep(400);
      assert.equal(logLine(srv, rid), undefined, `${rid} ended before its client left: ${got}`);
      if (how === 'end') sock.end();
      else sock.resetAndDestroy();
      const t0 = Date.now();
      await eventually(() => logLine(srv, rid) !== undefined, { timeoutMs: 3000, what: `${rid} let go` });
      assert.ok(Date.now() - t0 < 3000);
      sock.destroy();
    }
  }
});

test('a keep-alive connection whose client ends it after an answer is closed at once, not at the idle timeout', async () => {
  const sock = net.connect(srv.port, '127.0.0.1');
  let got = '';
  sock.on('data', (d) => (got += d));
  const closed = new Promise((r) => sock.on('close', () => r(Date.now())));
  await new Promise((r) => sock.on('connect', r));
  sock.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
  await eventually(() => got.includes('{"status":"ok"}'), { what: 'the answer' });
  const t0 = Date.now();
  sock.end(); // half-close: the client will send nothing more
  const at = await Promise.race([closed, sleep(5000).then(() => 0)]);
  assert.ok(at, 'the server kept the connection (server.idle_timeout is 60 s)');
  assert.ok(at - t0 < 2000, `closed after ${at - t0} ms`);
});

test('server.max_connections_per_address: more are closed at accept, and a freed slot is reused', async () => {
  const lim = await startServer({ env: { CAIRN_SERVER_MAX_CONNECTIONS_PER_ADDRESS: '4' } });
  try {
    const held = [];
    for (let i = 0; i < 4; i++) {
      const s = net.connect(lim.port, '127.0.0.1');
      s.on('error', () => {});
      await new Promise((r) => s.on('connect', r));
      held.push(s);
    }
    await sleep(100);
    const over = await rawRequest(lim.port, 'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { timeoutMs: 2000 }).catch(() => ({ status: 0 }));
    assert.equal(over.status, 0, 'a fifth connection was served');
    held.pop().destroy();
    await eventually(async () => (await rawRequest(lim.port, 'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { timeoutMs: 1000 }).catch(() => ({ status: 0 }))).status === 200, { what: 'a freed slot' });
    for (const s of held) s.destroy();
  } finally {
    await lim.cleanup();
  }
});

// One request from a chosen local address, with raw header lines.
function from(port, localAddress, path, headerLines, body) {
  return new Promise((resolve, reject) => {
    const headers = [];
    for (const [k, v] of headerLines) headers.push(k, v);
    const req = http.request({ host: '127.0.0.1', port, localAddress, method: 'POST', path, headers }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('trusted proxies: exempt from the per-address limit; the client is the rightmost untrusted X-Forwarded-For entry', async () => {
  const px = await startServer({
    env: {
      CAIRN_SERVER_TRUSTED_PROXIES: '127.0.0.1, 10.0.0.0/8',
      CAIRN_RATELIMIT_PER_ADDRESS: '3',
      CAIRN_RATELIMIT_PER_ACCOUNT: '100000',
      CAIRN_SERVER_MAX_CONNECTIONS_PER_ADDRESS: '2',
    },
  });
  try {
    // the proxy's own connections are not limited
    const held = [];
    for (let i = 0; i < 4; i++) {
      const s = net.connect(px.port, '127.0.0.1');
      s.on('error', () => {});
      await new Promise((r) => s.on('connect', r));
      held.push(s);
    }
    assert.equal((await rawRequest(px.port, 'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).status, 200);
    for (const s of held) s.destroy();

    const body = JSON.stringify({ username: 'nobody', password: 'wrong password' });
    const login = (lines, addr = '127.0.0.1') =>
      from(px.port, addr, '/api/v1/auth/login', [['Content-Type', 'application/json'], ...lines], body);
    for (let i = 0; i < 3; i++) assert.equal((await login([['X-Forwarded-For', '203.0.113.5']])).status, 401);
    assert.equal((await login([['X-Forwarded-For', '203.0.113.5']])).status, 429);
    // the client writes its own X-Forwarded-For; the proxy appends the real address
    assert.equal((await login([['X-Forwarded-For', '198.51.100.7, 203.0.113.5']])).status, 429, 'a spoofed left entry escaped the limit');
    assert.equal((await login([['X-Forwarded-For', '198.51.100.7'], ['X-Forwarded-For', '203.0.113.5']])).status, 429, 'a second header line escaped the limit');
    // a chain of trusted proxies: the first untrusted from the right
    assert.equal((await login([['X-Forwarded-For', '198.51.100.7, 203.0.113.5, 10.1.2.3']])).status, 429);
    // another client behind the same proxy is its own
    assert.equal((await login([['X-Forwarded-For', '203.0.113.6']])).status, 401);
    // a connection that is not a trusted proxy: its X-Forwarded-For means nothing
    for (let i = 0; i < 3; i++) assert.equal((await login([['X-Forwarded-For', `192.0.2.${i}`]], '127.0.0.2')).status, 401);
    assert.equal((await login([['X-Forwarded-For', '192.0.2.200']], '127.0.0.2')).status, 429);
    // the access log names the client
    const r = await from(px.port, '127.0.0.1', '/api/v1/auth/login', [['Content-Type', 'application/json'], ['X-Forwarded-For', '203.0.113.77'], ['X-Request-Id', 'xff-log']], body);
    assert.equal(r.status, 401);
    await eventually(() => /\[xff-log\] 203\.0\.113\.77 POST/.test(px.log()), { what: 'the client address in the access log' });
  } finally {
    await px.cleanup();
  }
});

test('a bad server.trusted_proxies entry stops the start with a message', async () => {
  await assert.rejects(startServer({ env: { CAIRN_SERVER_TRUSTED_PROXIES: '10.0.0.0/33' } }), /server\.trusted_proxies: '10\.0\.0\.0\/33' is not an IP address or CIDR range/);
});

test('the open-file limit is raised to the hard limit, with a warning when max_connections does not fit', async () => {
  const limits = (pid) => {
    const m = /Max open files\s+(\d+)\s+(\d+)/.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
    return [Number(m[1]), Number(m[2])];
  };
  const a = await startServer({ prefix: ['prlimit', '--nofile=256:4096', '--'] });
  try {
    assert.deepEqual(limits(a.proc.pid), [4096, 4096]);
    assert.match(a.log(), /raised the open-file limit from 256 to 4096/);
    assert.match(a.log(), /server\.max_connections is 10000 but the open-file limit \(4096\) leaves room for \d+ connections/);
  } finally {
    await a.cleanup();
  }
  const b = await startServer({ prefix: ['prlimit', '--nofile=256:4096', '--'], env: { CAIRN_SERVER_MAX_CONNECTIONS: '1000' } });
  try {
    assert.doesNotMatch(b.log(), /leaves room for/);
  } finally {
    await b.cleanup();
  }
});

test('with log.format=json every line is JSON, whatever bytes and length the path has', async () => {
  const js = await startServer({ env: { CAIRN_LOG_FORMAT: 'json' } });
  try {
    const send = (path) => new Promise((resolve) => {
      const sock = net.connect(js.port, '127.0.0.1');
      sock.on('error', () => resolve());
      sock.on('close', () => resolve());
      sock.on('data', () => {});
      sock.write(Buffer.concat([Buffer.from('GET '), path, Buffer.from(' HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')]));
    });
    await send(Buffer.from(`/${'a'.repeat(5000)}`));
    await send(Buffer.from(`/${'\u00e9'.repeat(3000)}`, 'utf8'));
    await send(Buffer.from([0x2f, 0xff, 0xfe, 0x22, 0x5c, 0x41, 0xc0, 0xaf, 0xed, 0xa0, 0x80]));
    await send(Buffer.concat([Buffer.from('/'), Buffer.alloc(4000, 0xff)]));
    await eventually(() => js.log().split('\n').filter((l) => l.includes('"msg":"access"')).length >= 4, { what: 'four access lines' });
    for (const line of js.log().split('\n').filter((l) => l.trim())) {
      assert.doesNotThrow(() => JSON.parse(line), `not JSON: ${line.slice(0, 200)}`);
      assert.ok(Buffer.from(line, 'utf8').toString('utf8') === line);
    }
    const paths = js.log().split('\n').filter((l) => l.includes('"msg":"access"')).map((l) => JSON.parse(l).path);
    assert.ok(paths.some((p) => p.startsWith('/\u00e9\u00e9')), 'UTF-8 kept');
    assert.ok(paths.some((p) => p.startsWith('/\ufffd\ufffd"\\A')), 'bytes that are not UTF-8 shown as U+FFFD');
  } finally {
    await js.cleanup();
  }
});
