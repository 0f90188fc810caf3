// sync_server_ts's protocol under /compat/sts (issue 15): sync_client's sessions, two
// installs of a user, conflicts by clientdate, deletes, batches, the pull-before-push
// lock, gzip bodies, the password by PIN, unregistering, and the statuses it branches on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { api, startServer } from '../../api/lib/cairn.mjs';
import { codeOf, startSmtp } from '../../api/lib/smtp.mjs';
import { HttpError, StsClient } from './client.mjs';

const LIMITS = { CAIRN_RATELIMIT_PER_ADDRESS: '100000', CAIRN_RATELIMIT_PER_ACCOUNT: '100000' };
const PW = 'correct horse battery';
const wait = (ms) => new Promise((r) => setTimeout(r, ms));

test('two installs of one user: register, register a client, sync both ways, conflicts by clientdate, deletes, batches of 100', async () => {
  const srv = await startServer({ env: LIMITS });
  const B = `${srv.url}/compat/sts`;
  const a = new StsClient(B, 'default'), b = new StsClient(B, 'Default');
  try {
    const reg = await a.register({ name: 'Ann', email: 'ann@example.com', password: PW });
    assert.equal(reg.message, 'User and Client registered successfully!');
    assert.equal(reg.user.name, 'Ann');
    assert.equal(reg.user.password, undefined, 'the password is never echoed');
    await b.register({ email: 'ann@example.com', password: PW, newRegistration: false });
    assert.equal(b.name, 'Ann', "an existing user's name comes back");
    a.put('todo', 'r1', { title: 'milk', done: 0 });
    a.put('todo', 'r2', { title: 'bread', done: 0 });
    await a.sync();
    await b.sync();
    assert.deepEqual(b.rows('todo'), a.rows('todo'));
    // both edit r1: the later clientdate wins, the earlier is told it is outdated
    b.put('todo', 'r1', { title: 'oat milk', done: 0 });
    await wait(5);
    a.put('todo', 'r1', { title: 'soy milk', done: 0 });
    await a.sync();
    const pulled = await b.sync();
    assert.deepEqual(pulled.outdatedRowsGuid, ['r1']);
    assert.equal(b.rows('todo').r1.title, 'soy milk');
    // deletes propagate (its legacy server dropped them)
    a.remove('todo', 'r2');
    await a.sync();
    await b.sync();
    assert.equal(b.rows('todo').r2, undefined);
    // 250 rows: pushed in three batches, the lock held between them
    for (let i = 0; i < 250; i++) b.put('todo', `bulk${i}`, { title: `t${i}`, done: i % 2 });
    await b.sync();
    await a.sync();
    assert.equal(Object.keys(a.rows('todo')).length, 251);
    assert.deepEqual(a.rows('todo'), b.rows('todo'));
    assert.ok(b.wire.some((w) => w.includes('(gzip) -> 200')), 'gzip bodies are taken');
    assert.ok(!b.wire.some((w) => /push.*-> [^2]/.test(w)), 'no push failed');
  } catch (e) {
    e.message += `\n${[...a.wire, ...b.wire].slice(-40).join('\n')}`;
    throw e;
  } finally {
    await srv.stop();
  }
});

test('a row pushed by another install between a pull and a push is not lost; the lock; cancelSync', async () => {
  const srv = await startServer({ env: LIMITS });
  const B = `${srv.url}/compat/sts`;
  const a = new StsClient(B, 'default'), b = new StsClient(B, 'default');
  try {
    await a.register({ name: 'Ann', email: 'ann@example.com', password: PW });
    await b.register({ email: 'ann@example.com', password: PW, newRegistration: false });
    await a.sync();
    await b.sync();
    // a pulls; b syncs a new row meanwhile; a pushes: its server set lastSync after the
    // push, so a never saw b's row
    await a.login();
    const pull = await a.post(`/pull/default/${a.clientId}`, { clientId: a.clientId, lastSync: a.lastSync, changes: [] }, { Authorization: `Bearer ${a.access}` });
    assert.deepEqual(pull.data, []);
    // the lock: a second pull from the same client is refused while it is held
    await assert.rejects(a.post(`/pull/default/${a.clientId}`, { clientId: a.clientId, lastSync: 0, changes: [] }, { Authorization: `Bearer ${a.access}` }),
      (e) => e instanceof HttpError && e.status === 500 && /already syncing/.test(e.message));
    b.put('todo', 'fromb', { title: 'from b' });
    await b.sync();
    const push = await a.post(`/push/default/${a.clientId}`, { clientId: a.clientId, lastSync: a.lastSync, isPartial: 0, changes: [] }, { Authorization: `Bearer ${a.access}` });
    a.lastSync = push.lastSync;
    await a.sync();
    assert.equal(a.rows('todo').fromb.title, 'from b');
    // a push without a pull first
    await a.login();
    const auth = { Authorization: `Bearer ${a.access}` };
    await assert.rejects(a.post(`/push/default/${a.clientId}`, { clientId: a.clientId, lastSync: 0, isPartial: 0, changes: [] }, auth),
      (e) => e.status === 500 && e.message === 'You should pull before pushing...');
    assert.equal(await a.post(`/cancelSync/default`, { clientId: a.clientId }, auth), true);
    await assert.rejects(a.post(`/cancelSync/default`, { clientId: 'nope' }, auth), (e) => e.status === 500 && /cannot cancel sync/.test(e.message));
  } finally {
    await srv.stop();
  }
});

test("each user's rows and clients are their own; tokens are 403 when not valid; the native API sees the rows", async () => {
  const srv = await startServer({ env: LIMITS });
  const U = srv.url, B = `${U}/compat/sts`;
  const a = new StsClient(B, 'default'), o = new StsClient(B, 'default');
  try {
    await a.register({ name: 'Ann', email: 'ann@example.com', password: PW });
    await o.register({ name: 'Oz', email: 'oz@example.com', password: PW });
    a.put('todo', 'secret', { title: 'mine' });
    await a.sync();
    const p = await o.sync();
    assert.deepEqual(p.data, [], "another user's rows are not theirs (its server keyed rows by rowguid alone)");
    // o's token with a's clientId
    await o.login();
    await assert.rejects(o.post(`/pull/default/${a.clientId}`, { clientId: a.clientId, lastSync: 0, changes: [] }, { Authorization: `Bearer ${o.access}` }),
      (e) => e.status === 500 && e.message === 'Client id not found!');
    // bearer statuses: none 401, bad 403 (the client's signal to refresh)
    for (const [auth, status] of [[undefined, 401], ['Bearer nope', 403], [`Basic ${o.access}`, 401]]) {
      const res = await fetch(`${B}/pull/default`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...(auth ? { Authorization: auth } : {}) }, body: '{}' });
      assert.equal(res.status, status, String(auth));
      assert.equal((await res.json()).code, status);
    }
    // the rows are records of a's space "sts", a collection per table
    await a.login();
    const s = await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'ann@example.com', password: PW } });
    const sp = (await api(U, 'GET', '/api/v1/spaces', { token: s.body.access_token })).body.spaces.find((x) => x.name === 'sts');
    const recs = (await api(U, 'GET', `/api/v1/spaces/${sp.id}/records?collection=todo`, { token: s.body.access_token })).body.records;
    assert.deepEqual(recs.map((r) => [r.id, r.data.title]), [['secret', 'mine']]);
    // each install is a device; revoking it ends its tokens
    const devs = (await api(U, 'GET', '/api/v1/devices', { token: s.body.access_token })).body.devices;
    assert.ok(devs.some((d) => d.name === 'test device'));
  } catch (e) {
    e.message += `\n${[...a.wire, ...o.wire].slice(-30).join('\n')}`;
    throw e;
  } finally {
    await srv.stop();
  }
});

test('register and login errors carry the texts the client matches, never 403 or 404 for register', async () => {
  const srv = await startServer({ env: LIMITS, args: ['--admin-user', 'root', '--admin-pass', 'root password 1'] });
  const U = srv.url, B = `${U}/compat/sts`;
  try {
    const a = new StsClient(B, 'default');
    await a.register({ name: 'Ann', email: 'ann@example.com', password: PW });
    const again = new StsClient(B, 'default');
    const cases = [
      [{ name: 'X', email: 'ANN@example.com', password: PW }, /The email is already registered/],
      [{ email: 'nobody@example.com', password: PW, newRegistration: false }, /email is not registered/],
      [{ email: 'ann@example.com', password: 'wrong password', newRegistration: false }, /Wrong username or password/],
      [{ name: 'Y', email: 'y@example.com', password: 'short' }, /password/],
    ];
    for (const [body, re] of cases) {
      again.clientId = (await import('node:crypto')).randomUUID();
      await assert.rejects(again.register(body), (e) => e.status !== 403 && e.status !== 404 && re.test(e.message), JSON.stringify(body));
    }
    // a clientId taken
    const dup = new StsClient(B, 'default');
    dup.clientId = a.clientId;
    await assert.rejects(dup.register({ name: 'Z', email: 'z@example.com', password: PW }), (e) => e.status === 500 && /already registered, please use another/.test(e.message));
    // an unknown realm; a closed one
    await assert.rejects(new StsClient(B, 'nowhere').register({ name: 'N', email: 'n@example.com', password: PW }), (e) => e.status === 500 && /Unknown realm/.test(e.body.error));
    const root = (await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'root', password: 'root password 1' } })).body.access_token;
    await api(U, 'POST', '/api/v1/admin/realms', { token: root, body: { name: 'shut', signup_open: false } });
    await assert.rejects(new StsClient(B, 'shut').register({ name: 'N', email: 'n@example.com', password: PW }), (e) => e.status === 500 && /closed/.test(e.message));
    // login: its 403s
    const post = (path, headers, body) => fetch(`${B}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
    const basic = (s) => ({ Authorization: `Basic ${Buffer.from(s).toString('base64')}` });
    for (const [headers, msg] of [[{}, 'Missing basic authentication'], [basic('ann@example.com:'), 'Missing username or password'],
      [basic(`ann@example.com:${PW}x`), 'Wrong username or password'], [basic(`ann@example.com:${PW}`), 'Invalid clientid for current username and password']]) {
      const res = await post('/login/default', headers, { clientId: '00000000-0000-4000-8000-000000000000' });
      assert.equal(res.status, 403);
      assert.deepEqual(await res.json(), { code: 403, message: msg });
    }
    // a password with a colon logs in (its server split on every colon)
    const c = new StsClient(B, 'default');
    await c.register({ name: 'Col', email: 'col@example.com', password: 'pass:word:with:colons' });
    await c.login();
    assert.ok(c.access.startsWith('cat_'));
    // refresh: a used refresh token is 403 (relogin)
    const old = c.refresh;
    await c.refreshToken();
    const res = await post('/login/default/refreshToken', {}, { refreshToken: old });
    assert.equal(res.status, 403);
    assert.match((await res.json()).message, /relogin/);
    // a realm's token does not work in another realm's path
    await api(U, 'POST', '/api/v1/admin/realms', { token: root, body: { name: 'other' } });
    const r2 = await fetch(`${B}/pull/other`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${c.access}` }, body: JSON.stringify({ clientId: c.clientId, lastSync: 0, changes: [] }) });
    assert.equal(r2.status, 403);
  } finally {
    await srv.stop();
  }
});

test('forgotten password: a 6-digit PIN by mail; a wrong PIN is 403 (the client keeps its password); the right one changes it and ends the sessions', async () => {
  const smtp = await startSmtp();
  const srv = await startServer({ env: { ...LIMITS, CAIRN_MAIL_SMTP_URL: smtp.url, CAIRN_MAIL_FROM: 'noreply@cairn.test' } });
  const B = `${srv.url}/compat/sts`;
  try {
    const a = new StsClient(B, 'default');
    await a.register({ name: 'Ann', email: 'ann@example.com', password: PW });
    await a.login();
    const f = await a.post('/password/default/forgotten', { email: 'ann@example.com' });
    assert.deepEqual(f, { code: 200, message: 'If the email is registered, a PIN has been sent' });
    assert.deepEqual(await a.post('/password/default/forgotten', { email: 'nobody@example.com' }), f, 'the same answer for an unknown address');
    const mail = await smtp.waitFor('ann@example.com');
    const pin = codeOf(mail);
    assert.match(pin, /^\d{6}$/);
    for (const [body, status] of [[{ email: 'ann@example.com', pin: '000000', password: 'new password 1' }, 403],
      [{ email: 'ann@example.com', pin, password: 'short' }, 403], [{ email: 'ann@example.com', pin }, 500]]) {
      await assert.rejects(a.post('/password/default/change', body), (e) => e.status === status, JSON.stringify(body));
    }
    const ok = await a.post('/password/default/change', { email: 'ann@example.com', pin, password: 'new password 1' });
    assert.deepEqual(ok, { code: 200, message: 'Password changed successfully!' });
    // the old tokens are gone; the new password logs in
    await assert.rejects(a.post(`/pull/default`, { clientId: a.clientId, lastSync: 0, changes: [] }, { Authorization: `Bearer ${a.access}` }), (e) => e.status === 403);
    a.password = 'new password 1';
    await a.sync();
  } finally {
    await srv.stop();
    await smtp.close();
  }
});

test('unregister a client, or its rows too; gzip bodies: a bomb is 413, a broken one 400, other codings 415', async () => {
  const srv = await startServer({ env: LIMITS });
  const U = srv.url, B = `${U}/compat/sts`;
  try {
    const a = new StsClient(B, 'default'), b = new StsClient(B, 'default');
    await a.register({ name: 'Ann', email: 'ann@example.com', password: PW });
    await b.register({ email: 'ann@example.com', password: PW, newRegistration: false });
    a.put('todo', 'r1', { title: 'x' });
    await a.sync();
    await b.login();
    await assert.rejects(b.post('/unregister/default', { email: 'ann@example.com', password: 'wrong', clientId: b.clientId, deleteRemoteData: false }, { Authorization: `Bearer ${b.access}` }),
      (e) => e.status === 500 && e.message === 'Wrong username or password');
    const un = await b.post('/unregister/default', { email: 'ann@example.com', password: PW, clientId: b.clientId, deleteRemoteData: false }, { Authorization: `Bearer ${b.access}` });
    assert.deepEqual(un, { code: 200, message: 'User and Client unregistered successfully!' });
    await assert.rejects(b.login(), (e) => e.status === 403, "b's clientId is gone");
    // a's rows are still there; then a unregisters deleting them
    const c = new StsClient(B, 'default');
    await c.register({ email: 'ann@example.com', password: PW, newRegistration: false });
    assert.equal((await c.sync()).data.length, 1);
    await a.login();
    await a.post('/unregister/default', { email: 'ann@example.com', password: PW, clientId: a.clientId, deleteRemoteData: true }, { Authorization: `Bearer ${a.access}` });
    c.lastSync = 0;
    c.tables.todo.clear();
    assert.equal((await c.sync()).data.length, 0, 'the rows went with deleteRemoteData');
    // bodies
    await c.login();
    const raw = (body, headers) => fetch(`${B}/pull/default`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${c.access}`, ...headers }, body });
    const bomb = gzipSync(Buffer.concat([Buffer.from('{"clientId":"'), Buffer.alloc(64 * 1024 * 1024, 'a'), Buffer.from('"}')]));
    assert.ok(bomb.length < 200 * 1024);
    let r = await raw(bomb, { 'Content-Encoding': 'gzip' });
    assert.equal(r.status, 413);
    r = await raw(Buffer.from('not gzip at all'), { 'Content-Encoding': 'gzip' });
    assert.equal(r.status, 400);
    r = await raw(gzipSync(Buffer.from('{"clientId":1}')).subarray(0, 10), { 'Content-Encoding': 'gzip' });
    assert.equal(r.status, 400);
    r = await raw('{}', { 'Content-Encoding': 'br' });
    assert.equal(r.status, 415);
    // native routes take no compressed bodies
    const n = await fetch(`${U}/api/v1/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }, body: gzipSync(Buffer.from('{}')) });
    assert.equal(n.status, 415);
    // its CORS
    r = await fetch(`${B}/pull/default`, { method: 'OPTIONS', headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization' } });
    assert.equal(r.status, 204);
    assert.equal(r.headers.get('access-control-allow-origin'), '*');
    assert.equal((await fetch(`${B}/`)).headers.get('access-control-allow-origin'), '*');
    assert.equal(await (await fetch(`${B}/`)).text(), 'Hello from Sync Server!');
    assert.deepEqual(await (await fetch(`${B}/healthz`)).json(), { status: 'ok' });
    r = await fetch(`${B}/nothing`, { method: 'POST' });
    assert.deepEqual([r.status, await r.text()], [404, 'Cannot POST /nothing']);
  } finally {
    await srv.stop();
  }
});

test('after the reviews: lost pushes come back, later deletes win, cursors of a deleted space, pulls in budgets, compressed streams capped, confirmation resends, names', async () => {
  const { randomUUID } = await import('node:crypto');
  const srv = await startServer({ env: { ...LIMITS, CAIRN_STS_MAX_CHANGES: '100' }, args: ['--admin-user', 'root', '--admin-pass', 'root password 1'] });
  const U = srv.url, B = `${U}/compat/sts`;
  try {
    const a = new StsClient(B, 'default'), b = new StsClient(B, 'default');
    await a.register({ name: 'Ann', email: 'ann@example.com', password: PW });
    await b.register({ email: 'ann@example.com', password: PW, newRegistration: false });
    await a.sync();
    await b.sync();
    const auth = async (c) => { await c.login(); return { Authorization: `Bearer ${c.access}` }; };
    const cycle = async (c, changes) => {
      const h = await auth(c);
      await c.post(`/pull/default/${c.clientId}`, { clientId: c.clientId, lastSync: c.lastSync, changes: changes.map(({ rowData, ...x }) => x) }, h);
      const r = await c.post(`/push/default/${c.clientId}`, { clientId: c.clientId, lastSync: c.lastSync, isPartial: 0, changes }, h);
      c.lastSync = r.lastSync;
    };
    // a later delete of a deleted row wins over an edit between the two deletes
    await cycle(a, [{ operation: 'I', rowguid: 'x', tablename: 'todo', clientdate: 100, rowData: { t: 1 } }]);
    await cycle(a, [{ operation: 'D', rowguid: 'x', tablename: 'todo', clientdate: 200, rowData: {} }]);
    await cycle(a, [{ operation: 'D', rowguid: 'x', tablename: 'todo', clientdate: 400, rowData: {} }]);
    await cycle(b, [{ operation: 'U', rowguid: 'x', tablename: 'todo', clientdate: 300, rowData: { t: 3 } }]);
    const c0 = new StsClient(B, 'default');
    await c0.register({ email: 'ann@example.com', password: PW, newRegistration: false });
    await c0.sync();
    assert.equal(c0.rows('todo').x, undefined, 'the row stays deleted');
    // a push that loses to a newer row brings that row back at the next pull
    const ahead = Date.now() + 60000;
    await cycle(a, [{ operation: 'I', rowguid: 'r', tablename: 'todo', clientdate: ahead, rowData: { who: 'a, ahead' } }]);
    await b.sync();
    b.put('todo', 'r', { who: 'b, behind' });
    await b.sync();
    await b.sync();
    assert.equal(b.rows('todo').r.who, 'a, ahead', 'the winner came back');
    // pulls in budgets of sts.max_changes (100): 250 rows reach b over three syncs
    for (let i = 0; i < 250; i++) a.put('todo', `m${i}`, { i });
    await a.sync();
    const got = [];
    for (let k = 0; k < 4; k++) got.push((await b.sync()).data.length);
    assert.ok(got[0] <= 100 && got[1] <= 100 && got[2] > 0, JSON.stringify(got));
    assert.ok(Object.keys(b.rows('todo')).filter((k) => k.startsWith('m')).length === 250, JSON.stringify(got));
    // deleteRemoteData: another install's cursor into the old space is not used in the new
    await a.login();
    await a.post('/unregister/default', { email: 'ann@example.com', password: PW, clientId: a.clientId, deleteRemoteData: true }, { Authorization: `Bearer ${a.access}` });
    const n = new StsClient(B, 'default');
    await n.register({ email: 'ann@example.com', password: PW, newRegistration: false });
    for (let i = 0; i < 8; i++) n.put('todo', `new${i}`, { i });
    await n.sync();
    b.tables.todo.clear();
    await b.sync();
    assert.equal(Object.keys(b.rows('todo')).length, 8, 'every row of the new space');
    // a compressed stream that inflates to nothing is capped by what was sent
    const junk = Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 8, 0, 0, 0, 0, 0, 3]), Buffer.alloc(64 * 1024, 'a')]);
    const res = await fetch(`${B}/register/default`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }, body: junk });
    assert.equal(res.status, 413);
    // a realm that wants confirmation: the gzip attempt and its plain resend say the same
    const root = (await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'root', password: 'root password 1' } })).body.access_token;
    await api(U, 'POST', '/api/v1/admin/realms', { token: root, body: { name: 'strict', confirm_email: true } });
    const s = new StsClient(B, 'strict');
    await assert.rejects(s.register({ name: 'S', email: 's@example.com', password: PW }), (e) => /confirm your e-mail address/.test(e.message));
    assert.ok(s.wire.length === 2 && s.wire.every((w) => w.includes('confirm')), s.wire.join('\n'));
    // a device name cut inside a character, and names taken: still registered
    const d = new StsClient(B, 'default');
    d.email = 'squat@example.com';
    const reg = await d.post('/register/default', { email: 'squat@example.com', password: PW, clientId: randomUUID(), clientDescription: JSON.stringify({ name: `${'a'.repeat(59)}é` }), newRegistration: true });
    assert.equal(reg.message, 'User and Client registered successfully!');
    for (let i = 0; i < 5; i++) {
      const q = new StsClient(B, 'default');
      await q.register({ name: 'Q', email: `squat@d${i}.example.com`, password: PW });
    }
    // a refresh token sent to another realm is refused without being used up
    const e = new StsClient(B, 'default');
    await e.register({ name: 'E', email: 'e@example.com', password: PW });
    await e.login();
    const wrong = await fetch(`${B}/login/strict/refreshToken`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ refreshToken: e.refresh }) });
    assert.equal(wrong.status, 403);
    await e.refreshToken();
    assert.match(e.wire.at(-1), /refreshToken.* -> 200/);
  } catch (err) {
    err.message += `\n${[...(err.wire || [])]}`;
    throw err;
  } finally {
    await srv.stop();
  }
});
