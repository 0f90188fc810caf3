// What a client can send: JSON that is exactly JSON, bounded in cost before it is parsed,
// strings without NUL, times in one exact form; and what every later reader gets back:
// pages that any JSON parser reads.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { BIN, api, eventually, expectError, rawRequest, signUp, startServer } from './lib/cairn.mjs';

let srv;
let U;
before(async () => {
  srv = await startServer({
    env: { CAIRN_RATELIMIT_PER_ADDRESS: '100000', CAIRN_RATELIMIT_PER_ACCOUNT: '100000' },
  });
  U = srv.url;
});
after(async () => {
  await srv.cleanup();
});

// A raw body (a Buffer or a string of bytes) sent as JSON.
async function send(method, path, token, bytes) {
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(U + path, { method, headers, body: Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes, 'latin1') });
  return { status: res.status, text: await res.text() };
}

// Every page a member can read, as text that JSON.parse must accept.
async function everyPageParses(token, space) {
  for (const path of [
    `/api/v1/spaces/${space}/changes?since=0`,
    `/api/v1/spaces/${space}/records`,
    `/api/v1/spaces/${space}/records/notes/good`,
    `/api/v1/spaces/${space}/records/notes/good/history`,
  ]) {
    const res = await fetch(U + path, { headers: { Authorization: `Bearer ${token}` } });
    const text = await res.text();
    assert.equal(res.status, 200, `${path}: ${text}`);
    assert.doesNotThrow(() => JSON.parse(text), `${path} does not parse: ${JSON.stringify(text)}`);
  }
}

test('poisoned values are refused, and every page a member reads still parses', async () => {
  const owner = await signUp(U, 'in1');
  const member = await signUp(U, 'in2');
  const sp = await api(U, 'POST', '/api/v1/spaces', { token: owner.access, body: { name: 'shared' } });
  const space = sp.body.space.id;
  await api(U, 'POST', `/api/v1/spaces/${space}/members`, { token: owner.access, body: { username: 'in2', role: 'writer' } });
  let n = 0;
  const change = (extra) => `{"changes":[{"op_id":"p${++n}","collection":"notes","id":"good","op":"put",${extra}}]}`;
  const good = await send('POST', `/api/v1/spaces/${space}/changes`, member.access, change('"data":{"t":"\\u00e9 ok"},"client_ts":"2026-01-02T03:04:05.678Z"'));
  assert.equal(good.status, 200, good.text);

  const badTimes = [
    '2026-\\n1-01T00:00:00Z', ' 2026-01-01T00:00:00Z', '+2026-01-01T00:00:00Z', '2026-1-01T00:00:00Z',
    '2026-01-01T00:00:00', '2026-01-01t00:00:00z', '2026-01-01 00:00:00Z', '2026-01-01T00:00:00.Z',
    '2026-01-01T00:00:00.1234567890Z', '2026-02-30T00:00:00Z', '2026-04-31T00:00:00Z', '2025-02-29T00:00:00Z',
    '2026-01-01T24:00:00Z', '2026-01-01T00:60:00Z', '2026-01-01T00:00:60Z', '2026-01-01T00:00:00+01:00',
    '2026-01-01T00:00:00-00:00', '2026-01-01T00:00:00Z ', '2026-01-01T00:00:00Z\\u0000', '1969-12-31T23:59:59Z',
    '2026-01-01T00:00:00\\"Z', '2026-01-01T0\\u0031:00:00Z x',
  ];
  for (const t of badTimes) {
    const r = await send('POST', `/api/v1/spaces/${space}/changes`, member.access, change(`"data":{},"client_ts":"${t}"`));
    assert.equal(r.status, 400, `client_ts ${t}: ${r.text}`);
    const f = JSON.parse(r.text).fields;
    assert.match(f.client_ts ?? f.changes, /RFC 3339|NUL/, r.text);
  }
  const badData = [
    '{"a":NaN}', '{"a":Infinity}', '{"a":-Infinity}', '{"a":1.}', '{"a":.5}', '{"a":01}',
    '{"a":"\xc0\xaf"}', '{"a":"\xed\xa0\x80"}', '{"a":"\xf4\x90\x80\x80"}', '{"a":"\\ud800"}',
    '{"a":"\\udc00"}', '{"a":"x\x01y"}', '{"a\\u0000b":1}', '{"a":123456789012345678901234567890}',
    "{'a':1}",
  ];
  for (const d of badData) {
    const r = await send('POST', `/api/v1/spaces/${space}/changes`, member.access, change(`"data":${d}`));
    assert.equal(r.status, 400, `data ${JSON.stringify(d)}: ${r.text}`);
    assert.equal(JSON.parse(r.text).code, 'invalid_json', r.text);
    // and as a whole record
    const w = await send('PUT', `/api/v1/spaces/${space}/records/notes/w${n}`, member.access, d);
    assert.equal(w.status, 400, `record ${JSON.stringify(d)}: ${w.text}`);
  }
  const head = await api(U, 'GET', `/api/v1/spaces/${space}`, { token: owner.access });
  assert.equal(head.body.space.head_seq, 1, 'nothing refused was stored');
  await everyPageParses(owner.access, space);
});

test('client_ts is kept to the millisecond in one form; +00:00 and 1 to 9 digits are taken', async () => {
  const s = await signUp(U, 'in3');
  const forms = [
    ['2026-03-04T05:06:07Z', '2026-03-04T05:06:07.000Z'],
    ['2026-03-04T05:06:07+00:00', '2026-03-04T05:06:07.000Z'],
    ['2026-03-04T05:06:07.5Z', '2026-03-04T05:06:07.500Z'],
    ['2026-03-04T05:06:07.123456789Z', '2026-03-04T05:06:07.123Z'],
    ['2024-02-29T23:59:59.999+00:00', '2024-02-29T23:59:59.999Z'],
  ];
  const changes = forms.map(([t], i) => ({ op_id: `t${i}`, collection: 'notes', id: `t${i}`, op: 'put', data: {}, client_ts: t }));
  const r = await api(U, 'POST', '/api/v1/spaces/me/changes', { token: s.access, body: { changes } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const p = await api(U, 'GET', '/api/v1/spaces/me/changes?since=0', { token: s.access });
  assert.deepEqual(p.body.changes.map((c) => c.client_ts), forms.map(([, want]) => want));
});

test('strings with NUL are refused wherever a string is read; base_version must be >= 0', async () => {
  const s = await signUp(U, 'in4');
  const path = '/api/v1/spaces/me/changes';
  for (const field of ['op_id', 'collection', 'id', 'op', 'client_ts']) {
    const c = { op_id: 'n1', collection: 'notes', id: 'x', op: 'put', data: {}, client_ts: '2026-01-01T00:00:00Z' };
    const body = JSON.stringify({ changes: [c] }).replace(`"${field}":"`, `"${field}":"a\\u0000`);
    const r = await send('POST', path, s.access, body);
    assert.equal(r.status, 400, `${field}: ${r.text}`);
    assert.match(r.text, /NUL/);
  }
  // two op ids that differ only after a NUL were once the same op
  const r1 = await send('POST', path, s.access, '{"changes":[{"op_id":"dup\\u0000a","collection":"notes","id":"a","op":"put","data":{}},{"op_id":"dup\\u0000b","collection":"notes","id":"b","op":"put","data":{}}]}');
  assert.equal(r1.status, 400, r1.text);
  for (const bv of ['-1', '-5', '1.5', '"3"', 'true']) {
    const r = await send('POST', path, s.access, `{"changes":[{"op_id":"bv","collection":"notes","id":"x","op":"put","data":{},"base_version":${bv}}]}`);
    assert.equal(r.status, 400, `base_version ${bv}: ${r.text}`);
    assert.match(JSON.parse(r.text).fields.base_version, /0 or more/);
  }
  const ok = await send('POST', path, s.access, '{"changes":[{"op_id":"bv0","collection":"notes","id":"x","op":"put","data":{},"base_version":null}]}');
  assert.equal(ok.status, 200, ok.text);
  // device fields at login, names in other bodies
  for (const body of [
    '{"username":"in4","password":"correct horse battery","device":{"name":"ph\\u0000one"}}',
    '{"username":"in4","password":"correct horse battery","device":{"name":"phone","platform":"ios\\u0000x"}}',
    '{"username":"in\\u00004","password":"correct horse battery"}',
  ]) {
    const r = await send('POST', '/api/v1/auth/login', null, body);
    assert.equal(r.status, 400, `${body}: ${r.text}`);
  }
  const sp = await send('POST', '/api/v1/spaces', s.access, '{"name":"a\\u0000b"}');
  assert.equal(sp.status, 400, sp.text);
  const miss = await send('POST', '/api/v1/blobs/missing', s.access, `{"hashes":["${'a'.repeat(64)}\\u0000x"]}`);
  assert.equal(miss.status, 400, miss.text);
});

function peakRssMb(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]) / 1024;
}

function rssMb(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]) / 1024;
}

test('a hostile JSON body costs its bytes, not gigabytes: limits.json_values and limits.auth_body_bytes', async () => {
  const s = await signUp(U, 'in5');
  // 16 MiB of empty objects: once 5 GB of json-c objects
  const parts = ['{"x":['];
  let size = 6;
  while (size < 16 * 1024 * 1024 - 8) {
    parts.push('{},');
    size += 3;
  }
  parts.push('{}]}');
  const big = Buffer.from(parts.join(''));
  const before = peakRssMb(srv.proc.pid);
  const r = await send('PUT', '/api/v1/spaces/me/records/notes/big', s.access, big);
  assert.equal(r.status, 413, r.text);
  const e = JSON.parse(r.text);
  assert.equal(e.code, 'body_too_large');
  assert.match(e.error, /limits\.json_values/);
  // credential endpoints take no more than limits.auth_body_bytes, unauthenticated: by
  // Content-Length before the body, and by the stream when it is chunked
  for (const p of ['/api/v1/auth/login', '/api/v1/auth/register', '/api/v1/auth/refresh', '/api/v1/auth/forgot', '/api/v1/auth/reset', '/api/v1/auth/confirm']) {
    const l = await rawRequest(srv.port, `POST ${p} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${big.length}\r\n\r\n`);
    assert.equal(l.status, 413, `${p}: ${l.raw}`);
    assert.match(JSON.parse(l.body).error, /limits\.auth_body_bytes/);
  }
  const pad = `{"username":"in5","password":"correct horse battery","pad":"${'x'.repeat(9000)}"}`;
  const chunked = await rawRequest(srv.port, `POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${pad.length.toString(16)}\r\n${pad}\r\n0\r\n\r\n`);
  assert.equal(chunked.status, 413, chunked.raw);
  assert.match(JSON.parse(chunked.body).error, /limits\.auth_body_bytes/);
  const grown = peakRssMb(srv.proc.pid) - before;
  assert.ok(grown < 200, `the server's peak memory grew by ${grown.toFixed(0)} MB`);
  // just under the value limit is parsed and refused for what it is, not for its size
  const many = `{"a":[${Array(199990).fill('0').join(',')}]}`;
  const m = await send('PUT', '/api/v1/spaces/me/records/notes/many', s.access, many);
  assert.equal(m.status, 200, m.text.slice(0, 200));
  const over = `{"a":[${Array(200001).fill('0').join(',')}]}`;
  const o = await send('PUT', '/api/v1/spaces/me/records/notes/many', s.access, over);
  assert.equal(o.status, 413, o.text);
  // the most expensive body the limit lets through (empty objects, ~800 bytes each
  // parsed) is given back afterwards
  const settled = rssMb(srv.proc.pid);
  const objects = `{"a":[${Array(199990).fill('{}').join(',')}]}`;
  const ob = await send('PUT', '/api/v1/spaces/me/records/notes/objects', s.access, objects);
  assert.equal(ob.status, 200, ob.text.slice(0, 200));
  // (AddressSanitizer keeps freed memory in quarantine: only the plain build can tell)
  if (!BIN.includes('/asan/')) await eventually(() => rssMb(srv.proc.pid) < settled + 40, { what: `memory given back (${rssMb(srv.proc.pid).toFixed(0)} MB, was ${settled.toFixed(0)} MB)` });
});

test('without a valid token no body is read: 401 as soon as the headers are in', async () => {
  for (const [method, path] of [['POST', '/api/v1/spaces/me/changes'], ['PUT', '/api/v1/spaces/me/records/notes/x'], ['POST', '/api/v1/account/password'], ['POST', '/api/v1/auth/logout'], ['PUT', `/api/v1/blobs/${'a'.repeat(64)}`], ['POST', '/api/v1/blobs']]) {
    for (const auth of ['', 'Authorization: Bearer cat_not-a-token\r\n']) {
      // the headers promise 16 MiB; none of it is sent
      const r = await rawRequest(srv.port, `${method} ${path} HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: ${16 * 1024 * 1024}\r\n\r\n`, { timeoutMs: 3000 });
      assert.equal(r.timedOut, false, `${method} ${path} waited for the body`);
      assert.equal(r.status, 401, `${method} ${path}: ${r.raw}`);
    }
  }
  // the public routes still take their bodies
  const reg = await rawRequest(srv.port, 'POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}');
  assert.equal(reg.status, 400, reg.raw);
});

test('limits.json_depth above 32: deep records read back whole and patch correctly', async () => {
  const deep = await startServer({ env: { CAIRN_LIMITS_JSON_DEPTH: '100' } });
  try {
    const s = await signUp(deep.url, 'in6');
    let v = { leaf: 'x' };
    for (let i = 0; i < 60; i++) v = { d: v };
    const body = { v, keep: 1 };
    const put = await api(deep.url, 'PUT', '/api/v1/spaces/me/records/notes/deep', { token: s.access, body });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const get = await api(deep.url, 'GET', '/api/v1/spaces/me/records/notes/deep', { token: s.access });
    assert.deepEqual(get.body.data, body);
    const list = await api(deep.url, 'GET', '/api/v1/spaces/me/records', { token: s.access });
    assert.deepEqual(list.body.records[0].data, body);
    const hist = await api(deep.url, 'GET', '/api/v1/spaces/me/records/notes/deep/history', { token: s.access });
    assert.deepEqual(hist.body.versions[0].data, body);
    const patch = await api(deep.url, 'POST', '/api/v1/spaces/me/changes', {
      token: s.access,
      body: { changes: [{ op_id: 'p', collection: 'notes', id: 'deep', op: 'patch', data: { keep: 2 } }] },
    });
    assert.equal(patch.status, 200, JSON.stringify(patch.body));
    const after = await api(deep.url, 'GET', '/api/v1/spaces/me/records/notes/deep', { token: s.access });
    assert.deepEqual(after.body.data, { v, keep: 2 }, 'the patch kept the deep part');
    let tooDeep = 1;
    for (let i = 0; i < 100; i++) tooDeep = [tooDeep];
    const r = await api(deep.url, 'PUT', '/api/v1/spaces/me/records/notes/x', { token: s.access, body: { a: tooDeep } });
    await expectError({ status: r.status, headers: r.headers, text: async () => JSON.stringify(r.body) }, 400, 'json_too_deep', assert);
    assert.match(r.body.error, /limits\.json_depth/);
  } finally {
    await deep.cleanup();
  }
});

test('the work one push puts in the shared transaction is bounded: merged records, stored data parsed, conflict data returned', async () => {
  const b = await startServer({
    env: {
      CAIRN_RATELIMIT_PER_ADDRESS: '100000',
      CAIRN_RATELIMIT_PER_ACCOUNT: '100000',
      CAIRN_LIMITS_RECORD_BYTES: '600KiB',
      CAIRN_LIMITS_PUSH_STORED_BYTES: '1MiB',
      CAIRN_LIMITS_JSON_BODY_BYTES: '2MiB',
    },
  });
  try {
    const s = await signUp(b.url, 'in7');
    const push = (changes) => api(b.url, 'POST', '/api/v1/spaces/me/changes', { token: s.access, body: { changes } });
    let n = 0;
    const patch = (id, data) => ({ op_id: `p${++n}`, collection: 'notes', id, op: 'patch', data });
    // a record grown by patches is held to limits.record_bytes like one put whole
    assert.equal((await push([{ op_id: 'g0', collection: 'notes', id: 'grow', op: 'put', data: {} }])).status, 200);
    let r;
    for (let i = 0; i < 10; i++) {
      r = await push([patch('grow', { [`k${i}`]: 'x'.repeat(100 * 1024) })]);
      if (r.status !== 200) break;
    }
    assert.equal(r.status, 400, JSON.stringify(r.body).slice(0, 300));
    assert.match(r.body.fields.data, /limits\.record_bytes/);
    const grown = await api(b.url, 'GET', '/api/v1/spaces/me/records/notes/grow', { token: s.access });
    assert.ok(JSON.stringify(grown.body.data).length <= 600 * 1024);
    // patches of a big record: each parses it inside the transaction
    const big = { pad: 'y'.repeat(400 * 1024) };
    assert.equal((await push([{ op_id: 'b0', collection: 'notes', id: 'big', op: 'put', data: big }])).status, 200);
    const head = (await api(b.url, 'GET', '/api/v1/spaces/me', { token: s.access })).body.space.head_seq;
    r = await push([patch('big', { a: 1 }), patch('big', { b: 2 }), patch('big', { c: 3 })]);
    assert.equal(r.status, 413, JSON.stringify(r.body));
    assert.match(r.body.error, /limits\.push_stored_bytes/);
    assert.equal((await api(b.url, 'GET', '/api/v1/spaces/me', { token: s.access })).body.space.head_seq, head, 'nothing applied');
    assert.equal((await push([patch('big', { a: 1 }), patch('big', { b: 2 })])).status, 200);
    // conflicts carry the server's data up to limits.json_body_bytes, then only its version
    const stale = Array.from({ length: 8 }, (_, i) => ({ op_id: `c${i}`, collection: 'notes', id: 'big', op: 'put', data: {}, base_version: 1 }));
    r = await push(stale);
    assert.equal(r.status, 200);
    const withData = r.body.results.filter((x) => x.server && 'data' in x.server).length;
    const omitted = r.body.results.filter((x) => x.server && x.server.data_omitted === true).length;
    assert.equal(withData + omitted, 8);
    assert.ok(withData >= 1 && withData <= 5, `${withData} conflicts carried 400 KiB each`);
    assert.ok(omitted >= 3);
  } finally {
    await b.cleanup();
  }
});

test('a malformed percent-escape anywhere in a request is 400 bad_encoding, on every route', async () => {
  const s = await signUp(U, 'in8');
  for (const path of [
    '/api/v1/spaces/me/changes?since=%zz',
    '/api/v1/spaces/me/changes?since=1&wait=%',
    '/api/v1/spaces/%zz/changes',
    '/api/v1/spaces/me/records?after=%ZZ',
    '/api/v1/spaces/me/records/notes/a%zz',
    '/api/v1/spaces/me/records/notes/a%00',
    '/api/v1/users/%zz/public-key',
    `/api/v1/blobs/${'a'.repeat(63)}%zz`,
    '/api/v1/account?x=%zz',
    '/api/v1/health?%=1',
  ]) {
    const r = await api(U, 'GET', path, { token: s.access });
    assert.equal(r.status, 400, `${path}: ${r.status} ${JSON.stringify(r.body)}`);
    assert.equal(r.body.code, 'bad_encoding', path);
  }
  // since=%zz once re-downloaded the whole log
  const p = await api(U, 'GET', '/api/v1/spaces/me/changes?since=%2B5', { token: s.access });
  assert.equal(p.status, 400, JSON.stringify(p.body));
});

test('a client_ts ahead of the server by more than sync.max_clock_skew is 400 clock_skew, nothing applied', async () => {
  const s = await signUp(U, 'in-skew');
  const path = '/api/v1/spaces/me/changes';
  const iso = (ms) => new Date(ms).toISOString();
  const change = (i, ms) => ({ op_id: `k${i}`, collection: 'notes', id: `k${i}`, op: 'put', data: {}, client_ts: iso(ms) });
  // an hour ahead, alone and beside a good change: the whole request is refused
  for (const changes of [[change(1, Date.now() + 3600e3)], [change(2, Date.now()), change(3, Date.now() + 3600e3)]]) {
    const r = await api(U, 'POST', path, { token: s.access, body: { changes } });
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.equal(r.body.code, 'clock_skew', JSON.stringify(r.body));
    assert.match(r.body.fields.client_ts, new RegExp(`changes\\[${changes.length - 1}\\].*ahead.*\\d{4}-\\d\\d-\\d\\dT`), JSON.stringify(r.body));
  }
  // beside a malformed change it is plain validation_failed (both named)
  const mixed = await api(U, 'POST', path, {
    token: s.access,
    body: { changes: [change(4, Date.now() + 3600e3), { op_id: 'k5', collection: 'no/slash', id: 'x', op: 'put', data: {} }] },
  });
  assert.equal(mixed.status, 400);
  assert.equal(mixed.body.code, 'validation_failed', JSON.stringify(mixed.body));
  assert.ok(mixed.body.fields.client_ts && mixed.body.fields.collection, JSON.stringify(mixed.body));
  const head = await api(U, 'GET', '/api/v1/spaces/me', { token: s.access });
  assert.equal(head.body.space.head_seq, 0, 'nothing refused was stored');
  // within the allowance (a minute ahead) and any time in the past are taken
  const ok = await api(U, 'POST', path, { token: s.access, body: { changes: [change(6, Date.now() + 60e3), change(7, Date.parse('1999-01-01T00:00:00Z'))] } });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.deepEqual(ok.body.results.map((x) => x.status), ['applied', 'applied']);
});

test('sync.max_clock_skew is configurable: at 0 any time ahead of the server is refused', async () => {
  const strict = await startServer({ env: { CAIRN_SYNC_MAX_CLOCK_SKEW: '0s' } });
  try {
    const s = await signUp(strict.url, 'in-skew0');
    const ahead = { op_id: 'z1', collection: 'notes', id: 'z', op: 'put', data: {}, client_ts: new Date(Date.now() + 5000).toISOString() };
    const r = await api(strict.url, 'POST', '/api/v1/spaces/me/changes', { token: s.access, body: { changes: [ahead] } });
    assert.equal(r.status, 400);
    assert.equal(r.body.code, 'clock_skew', JSON.stringify(r.body));
  } finally {
    await strict.cleanup();
  }
});
