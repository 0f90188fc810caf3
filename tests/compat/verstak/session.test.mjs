// Verstak Sync's desktop protocol under /compat/verstak (issue 16): a full desktop
// session as its client code plays it (pair, push in batches halved on 413, a conflict
// from a second device, pull with paging, a blob uploaded, referenced and downloaded),
// every validation code its server had, with nothing stored on a refusal, and the
// vault and devices as Cairn sees them natively.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { api, signUp, startServer } from '../../api/lib/cairn.mjs';
import { Desktop } from './client.mjs';

const LIMITS = { CAIRN_RATELIMIT_PER_ADDRESS: '100000', CAIRN_RATELIMIT_PER_ACCOUNT: '100000' };
const PW = 'correct horse battery';

const j = async (r) => ({ status: r.status, type: r.headers.get('content-type') || '', text: await r.text() });

test('a desktop session: pair, push in halved batches, a second desktop pulls in pages, conflicts, retries, blobs', async () => {
  const srv = await startServer({ env: { ...LIMITS, CAIRN_VERSTAK_MAX_PUSH_OPERATIONS: '60' } });
  const B = `${srv.url}/compat/verstak`;
  try {
    const ann = await signUp(srv.url, 'annika', { email: 'annika@example.com' });
    const a = new Desktop(B);
    await a.checkServer();
    // pair by e-mail (any case), with the bare "Bearer" the desktop sends before it has a key
    let r = await a.pair('Annika@Example.com', PW, '  main-vault ', 'Laptop');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.initial_sync_cursor, 0);
    assert.match(a.deviceId, /^dev_\d+$/);
    // its security headers on every answer
    const h = await fetch(`${B}/api/client/me`, { headers: { Authorization: `Bearer ${a.token}` } });
    for (const k of ['content-security-policy', 'x-content-type-options', 'referrer-policy', 'x-frame-options']) assert.ok(h.headers.get(k), k);
    const me = JSON.parse(await h.text());
    assert.deepEqual(Object.keys(me), ['client_version', 'created_at', 'device_id', 'device_name', 'last_seen', 'revoked_at', 'user_id', 'username']);
    assert.equal(me.device_name, 'Laptop');
    assert.equal(me.client_version, '0.9.3');
    assert.equal(me.username, 'annika');
    assert.equal(me.revoked_at, '');
    // the key may come as the whole header or as api_key
    assert.equal((await fetch(`${B}/api/client/me`, { headers: { Authorization: a.token } })).status, 200);
    assert.equal((await fetch(`${B}/api/client/me?api_key=${a.token}`)).status, 200);
    // the paired device is a Cairn device of hers, by its name
    const devs = await api(srv.url, 'GET', '/api/v1/devices', { token: ann.access });
    assert.ok(devs.body.devices.some((d) => d.name === 'Laptop'), JSON.stringify(devs.body));

    // 250 ops: more than the push limit (60), so the desktop halves 100 to 50
    for (let i = 0; i < 250; i++) a.op('note', `notes/n${i}.md`, 'create', { path: `notes/n${i}.md`, content: `note ${i} <&>` });
    r = await a.push();
    assert.equal(r.status, 200);
    assert.equal(r.sent, 250);
    assert.equal(a.batch, 50);

    // a second desktop of hers joins the vault and pulls everything in pages of 40
    const b = new Desktop(B);
    assert.equal((await b.pair('annika', PW, 'main-vault', 'Desk')).status, 200);
    r = await b.pull(40);
    assert.equal(r.pages, 7);
    assert.equal(b.applied.length, 250);
    assert.equal(r.server_sequence, b.cursor);
    assert.deepEqual(b.applied.map((o) => o.entity_id), [...Array(250).keys()].map((i) => `notes/n${i}.md`));
    assert.equal(JSON.parse(b.applied[7].payload_json).content, 'note 7 <&>');
    assert.equal(b.applied[0].device_id, a.deviceId);
    // a page past the end: empty, the cursor kept
    const end = await b.call('POST', '/api/v1/sync/pull', { since_sequence: b.cursor });
    assert.deepEqual(end.body, { has_more: false, ops: [], page_last_sequence: b.cursor, server_sequence: b.cursor });
    // Go's encoder: <, > and & escaped in strings
    const rawPull = await b.call('POST', '/api/v1/sync/pull', { since_sequence: 0, page_limit: 1 }, { raw: true });
    assert.match(rawPull.text, /note 0 \\u003c\\u0026\\u003e/);

    // a conflict: both at the same cursor; B edits n1, then A edits n1 and n2
    await a.pull();
    assert.equal(a.cursor, b.cursor);
    const bop = b.op('note', 'notes/n1.md', 'update', { content: 'from B' });
    b.op('note', 'notes/n3.md', 'delete');
    assert.equal((await b.push()).status, 200);
    const aop = a.op('note', 'notes/n1.md', 'update', { content: 'from A' });
    a.op('note', 'notes/n3.md', 'update', { content: 'A again' }); // B's delete is no conflict
    const raw = await a.call('POST', '/api/v1/sync/push', { device_id: a.deviceId, ops: a.pending });
    assert.equal(raw.status, 200);
    assert.equal(raw.body.count, 2);
    assert.deepEqual(raw.body.accepted, a.pending.map((o) => o.op_id));
    assert.equal(raw.body.conflicts.length, 1);
    const c = raw.body.conflicts[0];
    assert.deepEqual(Object.keys(c), ['device_id', 'entity_id', 'entity_type', 'op_id', 'op_type', 'server_sequence']);
    assert.deepEqual([c.device_id, c.entity_id, c.entity_type, c.op_id, c.op_type], [b.deviceId, 'notes/n1.md', 'note', bop.op_id, 'update']);
    // the op is still stored; the same push again (a lost answer) is accepted again and
    // stored once
    const again = await a.call('POST', '/api/v1/sync/push', { device_id: a.deviceId, ops: a.pending });
    assert.deepEqual(again.body.accepted, raw.body.accepted);
    a.pending = [];
    await b.pull();
    assert.deepEqual(b.applied.slice(-2).map((o) => o.op_id), [aop.op_id, b.applied.at(-1).op_id]);
    assert.equal(b.applied.filter((o) => o.op_id === aop.op_id).length, 1);
    // a backlog pushed in several batches from one cursor (the desktop does not pull
    // between them): an op of another device that lands between two batches is a
    // conflict for the later batch, and one from before the first still is
    await a.pull();
    await b.pull();
    const from = a.cursor;
    const early = b.op('note', 'notes/n30.md', 'update', { b: 1 });
    await b.push();
    const batch = async (entity) => (await a.call('POST', '/api/v1/sync/push', { ops: [{ ...a.op('note', entity, 'update', {}), last_seen_server_seq: from }] })).body;
    a.pending = [];
    let got = await batch('notes/n31.md');
    assert.equal(got.conflicts, null);
    const late = b.op('note', 'notes/n32.md', 'update', { b: 2 });
    await b.push();
    got = await batch('notes/n32.md');
    assert.deepEqual(got.conflicts.map((x) => x.op_id), [late.op_id]);
    got = await batch('notes/n30.md');
    assert.deepEqual(got.conflicts.map((x) => x.op_id), [early.op_id]);
    got = await batch('notes/n31.md');
    assert.equal(got.conflicts, null);
    a.pending = [];
    // no conflicts without a cursor, nor with one's own ops
    const own = await a.call('POST', '/api/v1/sync/push', { ops: [{ ...a.op('note', 'notes/n5.md', 'update', {}), last_seen_server_seq: 1 }] });
    assert.equal(own.body.conflicts, null);
    a.pending = [];

    // blobs: uploaded, referenced by a file op, downloaded by the other desktop
    const bytes = randomBytes(300000);
    const up = await a.uploadBlob(bytes);
    assert.equal(up.status, 200);
    const fop = a.op('file', 'files/pic.png', 'create', { path: 'files/pic.png', blob: { sha256: up.body.sha256, size: bytes.length } });
    assert.equal((await a.push()).status, 200);
    await b.pull();
    assert.equal(b.applied.at(-1).op_id, fop.op_id);
    const dl = await b.downloadBlob(up.body.sha256, bytes.length);
    assert.equal(dl.status, 200);
    assert.equal(dl.headers.get('content-disposition'), `attachment; filename="${up.body.sha256}"`);
    assert.equal(dl.headers.get('content-type'), 'application/octet-stream');
    // another user's desktop that knows the hash gets nothing
    await signUp(srv.url, 'boris', { email: 'boris@example.com' });
    const x = new Desktop(B);
    assert.equal((await x.pair('boris', PW, 'main-vault')).status, 200);
    r = await x.downloadBlob(up.body.sha256, bytes.length);
    assert.deepEqual([r.status, r.body.code], [404, 'blob_not_found']);
    // nor referencing it in an op
    r = await x.call('POST', '/api/v1/sync/push', { ops: [x.op('file', 'f', 'create', { blob: { sha256: up.body.sha256, size: bytes.length } })] });
    assert.deepEqual([r.status, r.body.code], [400, 'blob_not_owned']);
    // and his vault of the same name is his own: nothing of hers in it
    await x.pull();
    assert.equal(x.applied.length, 0);
    // a vault is its own space: her device in another vault sees none of main-vault's ops
    const other = new Desktop(B);
    assert.equal((await other.pair('annika', PW, 'other-vault')).status, 200);
    await other.pull();
    assert.equal(other.applied.length, 0);
    // the vault is a space of hers, readable natively
    const spaces = await api(srv.url, 'GET', '/api/v1/spaces', { token: ann.access });
    assert.ok(spaces.body.spaces.some((s) => s.name === 'verstak:main-vault'), JSON.stringify(spaces.body));

    // revoke-current: a POST with a JSON content type and no body
    r = await j(await fetch(`${B}/api/client/revoke-current`, { method: 'POST', headers: { Authorization: `Bearer ${other.token}`, 'Content-Type': 'application/json' } }));
    assert.deepEqual([r.status, JSON.parse(r.text)], [200, { status: 'revoked' }]);
    r = await other.call('GET', '/api/client/me');
    assert.deepEqual([r.status, r.body.code], [401, 'unauthorized']);
    // revoke-device with the password; revoked natively too
    r = await a.call('POST', '/api/client/revoke-device', { device_id: b.deviceId, password: 'wrong password!' });
    assert.deepEqual([r.status, r.body.error], [403, 'wrong password']);
    r = await a.call('POST', '/api/client/revoke-device', { device_id: x.deviceId, password: PW });
    assert.deepEqual([r.status, r.body.error], [404, 'device not found']);
    r = await a.call('POST', '/api/client/revoke-device', { device_id: b.deviceId, password: PW });
    assert.deepEqual([r.status, r.body], [200, { status: 'revoked' }]);
    assert.equal((await b.call('POST', '/api/v1/sync/pull', {})).status, 401);
    const devId = Number(a.deviceId.slice(4));
    assert.equal((await api(srv.url, 'DELETE', `/api/v1/devices/${devId}`, { token: ann.access })).status < 300, true);
    assert.equal((await a.call('POST', '/api/v1/sync/pull', {})).status, 401);
  } finally {
    await srv.stop();
  }
});

test('pairing and the auth test: their checks in order, and their answers', async () => {
  const srv = await startServer({ env: LIMITS });
  const B = `${srv.url}/compat/verstak`;
  try {
    await signUp(srv.url, 'carla', { email: 'carla@example.com' });
    const d = new Desktop(B);
    const bad = [
      [{ login: '', password: PW, vault_id: 'v' }, 400, 'login and password required'],
      [{ login: 'carla', password: PW, vault_id: '  ' }, 400, 'vault_id required'],
      [{ login: 'carla', password: PW, vault_id: 'legacy:7' }, 400, 'vault_id uses reserved prefix'],
      [{ login: 'carla', password: PW, vault_id: 'v'.repeat(257) }, 400, 'vault_id is too long'],
      [{ login: 'carla', password: PW, vault_id: 'v', device_name: 'n'.repeat(129) }, 400, 'device_name is too long'],
      [{ login: 'carla', password: 'not her password', vault_id: 'v' }, 401, 'invalid credentials'],
      [{ login: 'nobody', password: PW, vault_id: 'v' }, 401, 'invalid credentials'],
    ];
    for (const [body, status, msg] of bad) {
      const r = await d.call('POST', '/api/client/pair', body);
      assert.deepEqual([r.status, r.body.error], [status, msg], JSON.stringify(body));
    }
    // a body of the wrong shape, whatever its Content-Type
    let r = await j(await fetch(`${B}/api/client/pair`, { method: 'POST', body: '[1]', headers: { 'Content-Type': 'text/plain' } }));
    assert.deepEqual([r.status, JSON.parse(r.text)], [400, { code: 'invalid_json', error: 'invalid JSON request' }]);
    r = await j(await fetch(`${B}/api/client/pair`, { method: 'POST', body: '{"login": 5}' }));
    assert.equal(JSON.parse(r.text).code, 'invalid_json');
    // the legacy enrolment: its own checks, then a device like a paired one
    r = await d.call('POST', '/api/v1/device/register', { username: 'carla', password: PW, vault_id: 'v' });
    assert.deepEqual([r.status, r.body.error], [400, 'name required']);
    r = await d.call('POST', '/api/v1/device/register', { name: 'Old', username: 'carla', vault_id: 'v' });
    assert.deepEqual([r.status, r.body.error], [401, 'username and password required']);
    r = await d.call('POST', '/api/v1/device/register', { name: 'Old', username: 'carla', password: PW, vault_id: 'v' });
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.body), ['device_id', 'device_token']);
    const legacy = new Desktop(B);
    legacy.token = r.body.device_token;
    assert.equal((await legacy.call('GET', '/api/client/me')).body.device_name, 'Old');
    r = await d.call('POST', '/api/auth/test', { username: 'carla', password: PW });
    assert.deepEqual([r.status, r.body], [200, { status: 'ok' }]);
    r = await d.call('POST', '/api/auth/test', { username: 'carla' });
    assert.deepEqual([r.status, r.body.error], [400, 'username and password required']);
    // no key: 401 whatever is asked
    for (const [m, p] of [['GET', '/api/client/me'], ['POST', '/api/v1/sync/push'], ['POST', '/api/v1/sync/pull'], ['GET', `/api/v1/blobs/${'a'.repeat(64)}`]]) {
      r = await j(await fetch(`${B}${p}`, { method: m }));
      assert.deepEqual([r.status, JSON.parse(r.text).error], [401, 'API key required'], p);
    }
    r = await j(await fetch(`${B}/api/client/me`, { headers: { Authorization: 'Bearer nonsense' } }));
    assert.deepEqual([r.status, JSON.parse(r.text)], [401, { code: 'unauthorized', error: 'invalid API key' }]);
    // unknown paths: JSON under /api, HTML elsewhere; the web pages wait for the console
    r = await j(await fetch(`${B}/api/nothing`));
    assert.deepEqual([r.status, JSON.parse(r.text)], [404, { code: 'not_found', error: 'not found' }]);
    for (const p of ['/register', '/login', '/dashboard', '/forgot', '/reset', '/admin']) {
      r = await j(await fetch(`${B}${p}`));
      assert.equal(r.status, 404, p);
      assert.match(r.type, /^text\/html/);
    }
    r = await j(await fetch(`${B}/livez`));
    assert.deepEqual(Object.keys(JSON.parse(r.text)), ['server_time', 'status']);
    r = await j(await fetch(`${B}/readyz`));
    const health = JSON.parse(r.text);
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(health), ['status', 'version', 'build_commit', 'uptime_seconds', 'database_reachable', 'blob_storage_writable', 'schema_version', 'server_time']);
    assert.equal(health.status, 'ok');
  } finally {
    await srv.stop();
  }
});

test('every validation code of a push, each refusing the whole push with nothing stored', async () => {
  const srv = await startServer({ env: { ...LIMITS, CAIRN_VERSTAK_MAX_PAYLOAD_JSON: '1KiB' } });
  const B = `${srv.url}/compat/verstak`;
  try {
    await signUp(srv.url, 'dana', { email: 'dana@example.com' });
    const d = new Desktop(B);
    assert.equal((await d.pair('dana', PW, 'v')).status, 200);
    const up = await d.uploadBlob(Buffer.from('hello blob'));
    const good = () => ({ op_id: randomUUID(), entity_type: 'note', entity_id: 'a.md', op_type: 'create', payload_json: '{}', client_sequence: 1, last_seen_server_seq: 0, created_at: '2026-11-30T10:00:00Z' });
    const cases = [
      [{ ops: Array.from({ length: 101 }, good) }, 413, 'too_many_operations'],
      [{ device_id: 'd'.repeat(129), ops: [good()] }, 400, 'field_too_long'],
      [{ idempotency_key: 'k'.repeat(129), ops: [good()] }, 400, 'field_too_long'],
      [{ ops: [good(), { ...good(), op_id: '  ' }] }, 400, 'invalid_operation', 'op_id is required'],
      [{ ops: [{ ...good(), entity_type: undefined }] }, 400, 'invalid_operation', 'entity_type is required'],
      [{ ops: [{ ...good(), entity_id: 'x'.repeat(4097) }] }, 400, 'field_too_long', 'entity_id is too long'],
      [{ ops: [{ ...good(), op_id: 'o'.repeat(129) }] }, 400, 'field_too_long', 'op_id is too long'],
      [{ ops: [{ ...good(), payload_json: JSON.stringify({ t: 'x'.repeat(2000) }) }] }, 413, 'payload_too_large'],
      [{ ops: [{ ...good(), payload_json: '{"a":' }] }, 400, 'invalid_payload'],
      [{ ops: [{ ...good(), payload_json: '{} {}' }] }, 400, 'invalid_payload'],
      [{ ops: [{ ...good(), client_sequence: -1 }] }, 400, 'invalid_operation', 'operation sequences must be non-negative'],
      [{ ops: [{ ...good(), entity_type: 'file', payload_json: JSON.stringify({ path: 'a', dataBase64: null }) }] }, 400, 'inline_binary_forbidden'],
      [{ ops: [{ ...good(), entity_type: 'file', payload_json: JSON.stringify({ blob: { sha256: 'ABC', size: 1 } }) }] }, 400, 'invalid_blob_reference'],
      [{ ops: [{ ...good(), entity_type: 'file', payload_json: JSON.stringify({ blob: { sha256: up.body.sha256.toUpperCase(), size: 10 } }) }] }, 400, 'invalid_blob_reference'],
      [{ ops: [{ ...good(), entity_type: 'file', payload_json: JSON.stringify({ blob: { sha256: up.body.sha256, size: -1 } }) }] }, 400, 'invalid_blob_reference'],
      [{ ops: [{ ...good(), entity_type: 'file', payload_json: JSON.stringify({ blob: { sha256: 'e'.repeat(64), size: 1 } }) }] }, 400, 'blob_not_owned', 'blob must be uploaded before its operation'],
      [{ ops: [{ ...good(), entity_type: 'file', payload_json: JSON.stringify({ blob: { sha256: up.body.sha256, size: 11 } }) }] }, 400, 'invalid_blob_reference', 'blob size does not match uploaded content'],
      [{ ops: [{ ...good(), client_sequence: 1.5 }] }, 400, 'invalid_json'],
      [{ ops: {} }, 400, 'invalid_json'],
    ];
    for (const [body, status, code, msg] of cases) {
      const r = await d.call('POST', '/api/v1/sync/push', body);
      assert.deepEqual([r.status, r.body.code], [status, code], `${code}: ${JSON.stringify(r.body)}`);
      if (msg) assert.equal(r.body.error, msg);
    }
    // nothing of any refused push was stored
    await d.pull();
    assert.equal(d.applied.length, 0);
    // pull's own refusals
    let r = await d.call('POST', '/api/v1/sync/pull', { since_sequence: -1 });
    assert.deepEqual([r.status, r.body.error], [400, 'sequence and page_limit must be non-negative']);
    // an empty push is fine; an op id that is not a Cairn op id is kept as sent
    r = await d.call('POST', '/api/v1/sync/push', { ops: [] });
    assert.deepEqual(r.body, { accepted: null, conflicts: null, count: 0 });
    const odd = { ...good(), op_id: 'op with spaces / and ünïcode' };
    r = await d.call('POST', '/api/v1/sync/push', { ops: [odd, { ...good(), op_id: odd.op_id }] });
    assert.deepEqual(r.body.accepted, [odd.op_id]);
    await d.pull();
    assert.deepEqual(d.applied.map((o) => o.op_id), [odd.op_id]);
    // blob refusals
    r = await d.call('GET', '/api/v1/blobs/ABC', undefined);
    assert.deepEqual([r.status, r.body.code], [400, 'invalid_blob_hash']);
    r = await d.call('GET', `/api/v1/blobs/${'0'.repeat(64)}`, undefined);
    assert.deepEqual([r.status, r.body.code], [404, 'blob_not_found']);
    r = await j(await fetch(`${B}/api/v1/blobs/`, { method: 'POST', headers: { Authorization: `Bearer ${d.token}`, 'Content-Type': 'application/json' }, body: '{}' }));
    assert.deepEqual([r.status, JSON.parse(r.text).code], [400, 'invalid_multipart']);
    const f = new FormData();
    f.append('other', new Blob(['x']), 'x.bin');
    r = await j(await fetch(`${B}/api/v1/blobs/`, { method: 'POST', headers: { Authorization: `Bearer ${d.token}` }, body: f }));
    assert.deepEqual([r.status, JSON.parse(r.text).code], [400, 'invalid_multipart']);
  } finally {
    await srv.stop();
  }
});

test('verstak.listen serves the protocol at the root of its own port (47732 for its desktops); verstak.enabled off serves nothing', async () => {
  const net = await import('node:net');
  const free = await new Promise((res) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); }); });
  let srv = await startServer({ env: { ...LIMITS, CAIRN_VERSTAK_LISTEN: `127.0.0.1:${free}` } });
  try {
    await signUp(srv.url, 'erik', { email: 'erik@example.com' });
    const a = new Desktop(`http://127.0.0.1:${free}`);
    await a.checkServer();
    assert.equal((await a.pair('erik', PW, 'v')).status, 200);
    a.op('note', 'x.md', 'create', {});
    await a.push();
    const b = new Desktop(`${srv.url}/compat/verstak`);
    assert.equal((await b.pair('erik', PW, 'v')).status, 200);
    await b.pull();
    assert.equal(b.applied.length, 1);
  } finally {
    await srv.stop();
  }
  srv = await startServer({ env: { ...LIMITS, CAIRN_VERSTAK_ENABLED: 'false' } });
  try {
    const r = await fetch(`${srv.url}/compat/verstak/api/v1/health`);
    assert.equal(r.status, 404);
    assert.equal((await r.json()).code, 'not_found');
  } finally {
    await srv.stop();
  }
});
