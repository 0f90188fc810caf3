import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { api, expectError, runCairn, signUp, startServer } from './lib/cairn.mjs';

let srv;
let U;
before(async () => {
  // generous rate limits: this file tests accounts, not limits
  srv = await startServer({ env: { CAIRN_RATELIMIT_PER_ADDRESS: '10000', CAIRN_RATELIMIT_PER_ACCOUNT: '10000' } });
  U = srv.url;
});
after(async () => {
  await srv.cleanup();
});

test('register answers 201 with the user, and the name is unique regardless of case', async () => {
  const r = await api(U, 'POST', '/api/v1/auth/register', {
    body: { username: 'Ada', password: 'correct horse', email: 'ada@example.org', name: 'Ada L.' },
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.equal(r.body.user.username, 'Ada');
  assert.equal(r.body.user.email, 'ada@example.org');
  assert.equal(r.body.user.realm, 'default');
  assert.equal(r.body.user.email_confirmed, true);
  assert.equal(r.body.user.password, undefined);
  assert.equal(r.body.user.password_hash, undefined);
  const dup = await fetch(`${U}/api/v1/auth/register`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'ADA', password: 'correct horse' }),
  });
  await expectError(dup, 409, 'username_taken', assert);
  const dupMail = await fetch(`${U}/api/v1/auth/register`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'ada2', password: 'correct horse', email: 'ADA@example.org' }),
  });
  await expectError(dupMail, 409, 'email_taken', assert);
});

test('bad registration input names every bad field and creates nothing', async () => {
  const r = await api(U, 'POST', '/api/v1/auth/register', {
    body: { username: '-bad name', password: 'short', email: 'not-an-address', name: 'x'.repeat(200), realm: 'nope' },
  });
  assert.equal(r.status, 400);
  assert.equal(r.body.code, 'validation_failed');
  assert.deepEqual(Object.keys(r.body.fields).sort(), ['email', 'name', 'password', 'realm', 'username']);
  const missing = await api(U, 'POST', '/api/v1/auth/register', { body: {} });
  assert.deepEqual(Object.keys(missing.body.fields).sort(), ['password', 'username']);
  const typed = await api(U, 'POST', '/api/v1/auth/register', { body: { username: 42, password: ['x'] } });
  assert.equal(typed.body.fields.username, 'must be a string');
  const long = await api(U, 'POST', '/api/v1/auth/register', { body: { username: 'u'.repeat(65), password: 'p'.repeat(1025) } });
  assert.deepEqual(Object.keys(long.body.fields).sort(), ['password', 'username']);
  // nothing was created: the name is still free
  const ok = await api(U, 'POST', '/api/v1/auth/register', { body: { username: 'u'.repeat(64), password: 'p'.repeat(1024) } });
  assert.equal(ok.status, 201);
});

test('a JSON route refuses other content types, bad JSON and non-objects', async () => {
  let r = await api(U, 'POST', '/api/v1/auth/register', { raw: '{"username":"x"}', headers: { 'Content-Type': 'text/plain' } });
  assert.equal(r.status, 415);
  assert.equal(r.body.code, 'unsupported_media_type');
  r = await api(U, 'POST', '/api/v1/auth/register', { raw: '{"username":', headers: { 'Content-Type': 'application/json' } });
  assert.equal(r.body.code, 'invalid_json');
  r = await api(U, 'POST', '/api/v1/auth/register', { body: ['not', 'an', 'object'] });
  assert.equal(r.status, 400);
  assert.equal(r.body.code, 'bad_request');
});

test('passwords may be any Unicode from 8 to 1024 bytes', async () => {
  const pw = 'pässwörd✓ 密码';
  const s = await signUp(U, 'unicode', { password: pw });
  assert.ok(s.access);
  const bad = await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'unicode', password: 'pässwörd✓' } });
  assert.equal(bad.status, 401);
});

test('login gives a token pair bound to a device, by username, e-mail or HTTP Basic', async () => {
  await api(U, 'POST', '/api/v1/auth/register', { body: { username: 'bea', password: 'correct horse', email: 'bea@example.org' } });
  const r = await api(U, 'POST', '/api/v1/auth/login', {
    body: { username: 'bea', password: 'correct horse', device: { name: 'phone', platform: 'android', client_version: '1.2' } },
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.match(r.body.access_token, /^cat_[A-Za-z0-9_-]{43}$/);
  assert.match(r.body.refresh_token, /^crt_[A-Za-z0-9_-]{43}$/);
  assert.equal(r.body.token_type, 'Bearer');
  assert.equal(r.body.expires_in, 3600);
  assert.equal(r.body.device.name, 'phone');
  assert.equal(r.body.device.platform, 'android');
  assert.equal(r.body.device.current, true);
  assert.equal(r.headers.get('cache-control'), 'no-store');
  const byMail = await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'BEA@example.org', password: 'correct horse' } });
  assert.equal(byMail.status, 200);
  assert.notEqual(byMail.body.device.id, r.body.device.id);
  const basic = await api(U, 'POST', '/api/v1/auth/login', {
    headers: { Authorization: 'Basic ' + Buffer.from('bea:correct horse').toString('base64') },
  });
  assert.equal(basic.status, 200);
  const acct = await api(U, 'GET', '/api/v1/account', { token: basic.body.access_token });
  assert.equal(acct.status, 200);
  assert.equal(acct.body.user.username, 'bea');
  assert.equal(acct.body.realm.name, 'default');
  assert.equal(acct.body.device.id, basic.body.device.id);
});

test('an unknown user and a wrong password look the same, and take about as long', async () => {
  await signUp(U, 'carl');
  const t = async (username) => {
    const t0 = performance.now();
    const r = await api(U, 'POST', '/api/v1/auth/login', { body: { username, password: 'wrong password' } });
    return { r, ms: performance.now() - t0 };
  };
  const times = { known: [], unknown: [] };
  let a;
  let b;
  for (let i = 0; i < 3; i++) {
    a = await t('carl');
    b = await t('nobody-at-all');
    times.known.push(a.ms);
    times.unknown.push(b.ms);
  }
  assert.equal(a.r.status, 401);
  assert.equal(b.r.status, 401);
  assert.deepEqual(a.r.body, b.r.body);
  assert.equal(a.r.headers.get('www-authenticate'), b.r.headers.get('www-authenticate'));
  const med = (x) => x.sort((p, q) => p - q)[1];
  // Without the dummy hash an unknown user answers in well under 1% of the time.
  const ratio = med(times.unknown) / med(times.known);
  assert.ok(ratio > 0.3 && ratio < 3, `unknown/known time ratio ${ratio.toFixed(2)}`);
});

test('refresh rotates the pair; a reused refresh token ends the session', async () => {
  const s = await signUp(U, 'dora');
  const r1 = await api(U, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: s.refresh } });
  assert.equal(r1.status, 200, JSON.stringify(r1.body));
  assert.notEqual(r1.body.refresh_token, s.refresh);
  assert.equal(r1.body.device.id, s.device.id);
  assert.equal((await api(U, 'GET', '/api/v1/account', { token: r1.body.access_token })).status, 200);
  // the old access token went with the old pair
  assert.equal((await api(U, 'GET', '/api/v1/account', { token: s.access })).status, 401);
  // someone replays the old refresh token: refused, and the device's session ends
  const replay = await api(U, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: s.refresh } });
  assert.equal(replay.status, 401);
  assert.equal(replay.body.code, 'invalid_token');
  assert.equal((await api(U, 'GET', '/api/v1/account', { token: r1.body.access_token })).status, 401);
  const again = await api(U, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: r1.body.refresh_token } });
  assert.equal(again.status, 401);
  // an access token is not a refresh token
  const s2 = await signUp(U, 'dora2');
  assert.equal((await api(U, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: s2.access } })).status, 401);
  assert.equal((await api(U, 'POST', '/api/v1/auth/refresh', { body: {} })).status, 400);
});

test('logout ends the session; login with device_id resumes the same device', async () => {
  const s = await signUp(U, 'emil');
  const out = await api(U, 'POST', '/api/v1/auth/logout', { token: s.access });
  assert.equal(out.status, 204);
  assert.equal((await api(U, 'GET', '/api/v1/account', { token: s.access })).status, 401);
  assert.equal((await api(U, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: s.refresh } })).status, 401);
  const back = await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'emil', password: s.password, device_id: s.device.id } });
  assert.equal(back.status, 200);
  assert.equal(back.body.device.id, s.device.id);
  // someone else's device cannot be resumed
  const other = await signUp(U, 'emil2');
  const steal = await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'emil2', password: other.password, device_id: s.device.id } });
  assert.equal(steal.status, 400);
  assert.ok(steal.body.fields.device_id);
});

test('devices: list, rename, revoke (its token fails on the very next request)', async () => {
  const s = await signUp(U, 'fay', { device: 'laptop' });
  const phone = await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'fay', password: s.password, device: { name: 'phone' } } });
  let list = await api(U, 'GET', '/api/v1/devices', { token: s.access });
  assert.equal(list.status, 200);
  assert.deepEqual(list.body.devices.map((d) => [d.name, d.current, d.kind]), [['laptop', true, 'session'], ['phone', false, 'session']]);
  for (const k of ['id', 'name', 'platform', 'client_version', 'created_at', 'last_seen_at', 'current', 'revoked_at']) assert.ok(k in list.body.devices[0], k);
  const ren = await api(U, 'PATCH', `/api/v1/devices/${phone.body.device.id}`, { token: s.access, body: { name: 'old phone' } });
  assert.equal(ren.status, 200);
  assert.equal(ren.body.device.name, 'old phone');
  const bad = await api(U, 'PATCH', `/api/v1/devices/${phone.body.device.id}`, { token: s.access, body: { name: '' } });
  assert.equal(bad.status, 400);
  assert.equal((await api(U, 'GET', '/api/v1/account', { token: phone.body.access_token })).status, 200);
  const del = await api(U, 'DELETE', `/api/v1/devices/${phone.body.device.id}`, { token: s.access });
  assert.equal(del.status, 204);
  assert.equal((await api(U, 'GET', '/api/v1/account', { token: phone.body.access_token })).status, 401);
  list = await api(U, 'GET', '/api/v1/devices', { token: s.access });
  assert.ok(list.body.devices.find((d) => d.id === phone.body.device.id).revoked_at);
  // a revoked device cannot be resumed
  const resume = await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'fay', password: s.password, device_id: phone.body.device.id } });
  assert.equal(resume.status, 400);
  // revoking the current device
  assert.equal((await api(U, 'DELETE', '/api/v1/devices/current', { token: s.access })).status, 204);
  assert.equal((await api(U, 'GET', '/api/v1/devices', { token: s.access })).status, 401);
});

test('long-lived tokens: shown once, a device of their own, revocable', async () => {
  const s = await signUp(U, 'gus');
  const t = await api(U, 'POST', '/api/v1/tokens', { token: s.access, body: { name: 'backup script' } });
  assert.equal(t.status, 201);
  assert.match(t.body.token, /^clt_[A-Za-z0-9_-]{43}$/);
  assert.equal(t.body.device.kind, 'token');
  assert.equal(t.body.device.name, 'backup script');
  const acct = await api(U, 'GET', '/api/v1/account', { token: t.body.token });
  assert.equal(acct.status, 200);
  assert.equal(acct.body.device.id, t.body.device.id);
  const list = await api(U, 'GET', '/api/v1/devices', { token: s.access });
  assert.ok(list.body.devices.some((d) => d.id === t.body.device.id && d.kind === 'token'));
  assert.equal((await api(U, 'POST', '/api/v1/tokens', { token: s.access, body: {} })).status, 400);
  assert.equal((await api(U, 'DELETE', `/api/v1/devices/${t.body.device.id}`, { token: s.access })).status, 204);
  assert.equal((await api(U, 'GET', '/api/v1/account', { token: t.body.token })).status, 401);
});

test('changing the password revokes the other sessions, not this one', async () => {
  const s = await signUp(U, 'hal');
  const other = await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'hal', password: s.password } });
  const wrong = await api(U, 'POST', '/api/v1/account/password', { token: s.access, body: { current_password: 'nope nope', new_password: 'new password 1' } });
  assert.equal(wrong.status, 403);
  assert.equal(wrong.body.code, 'wrong_password');
  const weak = await api(U, 'POST', '/api/v1/account/password', { token: s.access, body: { current_password: s.password, new_password: 'short' } });
  assert.equal(weak.status, 400);
  const ok = await api(U, 'POST', '/api/v1/account/password', { token: s.access, body: { current_password: s.password, new_password: 'new password 1' } });
  assert.equal(ok.status, 204);
  assert.equal((await api(U, 'GET', '/api/v1/account', { token: s.access })).status, 200);
  assert.equal((await api(U, 'GET', '/api/v1/account', { token: other.body.access_token })).status, 401);
  assert.equal((await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'hal', password: s.password } })).status, 401);
  assert.equal((await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'hal', password: 'new password 1' } })).status, 200);
});

test('public keys: stored, read by others in the realm', async () => {
  const a = await signUp(U, 'ida');
  const b = await signUp(U, 'jon');
  assert.equal((await api(U, 'GET', '/api/v1/users/ida/public-key', { token: b.access })).status, 404);
  const put = await api(U, 'PUT', '/api/v1/account/public-key', { token: a.access, body: { public_key: 'age1qyqszqgpqyqszqgpqyqszqgp' } });
  assert.equal(put.status, 204);
  const get = await api(U, 'GET', '/api/v1/users/IDA/public-key', { token: b.access });
  assert.equal(get.status, 200);
  assert.equal(get.body.public_key, 'age1qyqszqgpqyqszqgpqyqszqgp');
  const big = await api(U, 'PUT', '/api/v1/account/public-key', { token: a.access, body: { public_key: 'k'.repeat(9000) } });
  assert.equal(big.status, 400);
  assert.equal((await api(U, 'GET', '/api/v1/users/nobody/public-key', { token: b.access })).status, 404);
});

test('deleting the account needs the password and frees the name', async () => {
  const s = await signUp(U, 'kim');
  const wrong = await api(U, 'DELETE', '/api/v1/account', { token: s.access, body: { password: 'not it at all' } });
  assert.equal(wrong.status, 403);
  const ok = await api(U, 'DELETE', '/api/v1/account', { token: s.access, body: { password: s.password } });
  assert.equal(ok.status, 204);
  assert.equal((await api(U, 'GET', '/api/v1/account', { token: s.access })).status, 401);
  assert.equal((await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'kim', password: s.password } })).status, 401);
  const again = await signUp(U, 'kim', { password: 'another password' });
  assert.notEqual(again.user.id, s.user.id);
});

test('the last owner of a shared space others use cannot delete their account; they hand it over first', async () => {
  const adm = await startServer({ args: ['--admin-user', 'boss', '--admin-pass', 'boss password 1'], env: { CAIRN_RATELIMIT_PER_ADDRESS: '10000', CAIRN_RATELIMIT_PER_ACCOUNT: '10000' } });
  const V = adm.url;
  try {
    const root = (await api(V, 'POST', '/api/v1/auth/login', { body: { username: 'boss', password: 'boss password 1' } })).body.access_token;
    const own = await signUp(V, 'own');
    const mem = await signUp(V, 'mem');
    const team = (await api(V, 'POST', '/api/v1/spaces', { token: own.access, body: { name: 'Team <1>', kind: 'shared' } })).body.space;
    const solo = (await api(V, 'POST', '/api/v1/spaces', { token: own.access, body: { name: 'Solo', kind: 'shared' } })).body.space;
    assert.equal((await api(V, 'POST', `/api/v1/spaces/${team.id}/members`, { token: own.access, body: { username: 'mem', role: 'writer' } })).status, 200);

    // refused everywhere, naming the space, and nothing is deleted
    const self = await api(V, 'DELETE', '/api/v1/account', { token: own.access, body: { password: own.password } });
    assert.equal(self.status, 409, JSON.stringify(self.body));
    assert.equal(self.body.code, 'last_owner');
    assert.deepEqual(self.body.spaces, [{ id: team.id, name: 'Team <1>' }]);
    assert.match(self.body.error, /"Team <1>" \(space \d+\)/);
    const byAdmin = await api(V, 'DELETE', `/api/v1/admin/users/${own.user.id}`, { token: root });
    assert.equal(byAdmin.status, 409);
    assert.equal(byAdmin.body.code, 'last_owner');
    const cli = await runCairn(['user', 'delete', 'own', '--data', adm.dir]);
    assert.equal(cli.code, 1, cli.stderr);
    assert.match(cli.stderr, /last owner of 1 shared space that[\s\S]*Team <1>/);
    assert.equal((await api(V, 'GET', `/api/v1/spaces/${solo.id}`, { token: own.access })).status, 200);

    // the last owner can neither step down nor leave
    assert.equal((await api(V, 'PATCH', `/api/v1/spaces/${team.id}/members/own`, { token: own.access, body: { role: 'writer' } })).status, 409);
    assert.equal((await api(V, 'DELETE', `/api/v1/spaces/${team.id}/members/own`, { token: own.access })).status, 409);
    // hand-over: mem becomes owner, own steps down, then leaves
    assert.equal((await api(V, 'PATCH', `/api/v1/spaces/${team.id}/members/mem`, { token: own.access, body: { role: 'owner' } })).status, 200);
    assert.equal((await api(V, 'PATCH', `/api/v1/spaces/${team.id}/members/own`, { token: own.access, body: { role: 'writer' } })).status, 200);
    const roles = (await api(V, 'GET', `/api/v1/spaces/${team.id}/members`, { token: mem.access })).body.members.map((m) => [m.username, m.role]);
    assert.deepEqual(roles.sort(), [['mem', 'owner'], ['own', 'writer']]);
    // now the account goes, with the shared space only it used; the team stays with mem
    const gone = await api(V, 'DELETE', '/api/v1/account', { token: own.access, body: { password: own.password } });
    assert.equal(gone.status, 204, JSON.stringify(gone.body));
    const left = await api(V, 'GET', `/api/v1/spaces/${team.id}/members`, { token: mem.access });
    assert.deepEqual(left.body.members.map((m) => [m.username, m.role]), [['mem', 'owner']]);
    const stats = (await api(V, 'GET', '/api/v1/admin/stats', { token: root })).body;
    assert.equal(stats.spaces, 1, 'only the team: Solo went with its only member (nobody here used a private space)');
  } finally {
    await adm.cleanup();
  }
});

test('names and addresses are printable UTF-8: no invalid bytes, separators or direction overrides', async () => {
  const bad = [
    ['email', Buffer.from('a@b.c\xe2\x80\xa8x', 'latin1')],
    ['email', Buffer.from('a\xff@b.c', 'latin1')],
    ['email', Buffer.from('a@b.c\xc2\x85', 'latin1')],
    ['name', Buffer.from('Ann\xe2\x80\xaeevil', 'latin1')],
    ['name', Buffer.from('x\xe2\x81\xa6y', 'latin1')],
    ['name', Buffer.from('line\xe2\x80\xa9break', 'latin1')],
  ];
  let n = 0;
  for (const [field, value] of bad) {
    const json = Buffer.concat([Buffer.from(`{"username":"pr${++n}","password":"a password 1","${field}":"`), value, Buffer.from('"}')]);
    const res = await fetch(`${U}/api/v1/auth/register`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: json });
    assert.equal(res.status, 400, `${field} ${value.toString('latin1')}`);
  }
  const ok = await api(U, 'POST', '/api/v1/auth/register', { body: { username: 'prok', password: 'a password 1', email: 'zoë@exämple.org', name: 'Zoë 🌲' } });
  assert.equal(ok.status, 201, JSON.stringify(ok.body));
});
