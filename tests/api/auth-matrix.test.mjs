// Every authenticated endpoint, with every kind of bad credential.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { api, signUp, startServer } from './lib/cairn.mjs';

let srv;
let U;
let alice; // the owner of the resources
let bob; // another user in the same realm
let carol; // a user in another realm
let admin;

before(async () => {
  srv = await startServer({
    args: ['--admin-user', 'root', '--admin-pass', 'root password 1'],
    env: { CAIRN_RATELIMIT_PER_ADDRESS: '10000', CAIRN_RATELIMIT_PER_ACCOUNT: '10000' },
  });
  U = srv.url;
  const a = await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'root', password: 'root password 1' } });
  admin = a.body.access_token;
  const realm = await api(U, 'POST', '/api/v1/admin/realms', { token: admin, body: { name: 'other' } });
  assert.equal(realm.status, 201);
  alice = await signUp(U, 'alice');
  bob = await signUp(U, 'bob');
  carol = await signUp(U, 'carol', { realm: 'other' });
  await api(U, 'PUT', '/api/v1/account/public-key', { token: alice.access, body: { public_key: 'alice-key' } });
});
after(async () => {
  await srv.cleanup();
});

// [method, path, body] for every endpoint that needs a bearer token
const endpoints = () => [
  ['GET', '/api/v1/account'],
  ['DELETE', '/api/v1/account', { password: 'x' }],
  ['POST', '/api/v1/account/password', { current_password: 'x', new_password: 'yyyyyyyy' }],
  ['PUT', '/api/v1/account/public-key', { public_key: 'k' }],
  ['GET', '/api/v1/users/alice/public-key'],
  ['GET', '/api/v1/devices'],
  ['PATCH', `/api/v1/devices/${alice.device.id}`, { name: 'n' }],
  ['DELETE', `/api/v1/devices/${alice.device.id}`],
  ['POST', '/api/v1/tokens', { name: 't' }],
  ['POST', '/api/v1/auth/logout'],
  ['GET', '/api/v1/spaces'],
  ['POST', '/api/v1/spaces', { name: 'x' }],
  ['GET', '/api/v1/spaces/me'],
  ['GET', '/api/v1/spaces/me/members'],
  ['PUT', '/api/v1/spaces/me/collections/c', { conflict: 'lww' }],
  ['PUT', '/api/v1/spaces/me/keys', { epoch: 1, keys: { 1: 'k' } }],
  ['GET', '/api/v1/spaces/me/keys'],
  ['POST', '/api/v1/spaces/me/changes', { changes: [] }],
  ['GET', '/api/v1/spaces/me/changes'],
  ['GET', '/api/v1/spaces/me/records'],
  ['GET', '/api/v1/spaces/me/records/c/x'],
  ['PUT', '/api/v1/spaces/me/records/c/x', { a: 1 }],
  ['GET', '/api/v1/spaces/me/records/c/x/history'],
  ['GET', '/api/v1/admin/users'],
  ['POST', '/api/v1/admin/users', { username: 'zz', password: 'zzzzzzzz' }],
  ['GET', '/api/v1/admin/users/1'],
  ['PATCH', '/api/v1/admin/users/1', { name: 'x' }],
  ['DELETE', '/api/v1/admin/users/1'],
  ['GET', '/api/v1/admin/realms'],
  ['POST', '/api/v1/admin/realms', { name: 'zz' }],
  ['PATCH', '/api/v1/admin/realms/other', { display_name: 'x' }],
  ['GET', '/api/v1/admin/stats'],
];

async function expect401(token, what) {
  for (const [m, p, body] of endpoints()) {
    const headers = token === undefined ? {} : { Authorization: token };
    const r = await api(U, m, p, { headers, body });
    assert.equal(r.status, 401, `${what}: ${m} ${p} answered ${r.status}`);
    assert.match(r.headers.get('www-authenticate') || '', /^Bearer/, `${what}: ${m} ${p}`);
    assert.ok(['unauthorized', 'invalid_token'].includes(r.body.code), `${m} ${p}: ${r.body.code}`);
  }
}

test('no token: 401 with WWW-Authenticate on every endpoint', async () => {
  await expect401(undefined, 'no token');
});

test('malformed tokens: 401 on every endpoint', async () => {
  await expect401('Bearer', 'empty bearer');
  await expect401('Bearer not-a-token', 'garbage');
  await expect401(`Bearer ${'x'.repeat(5000)}`, 'huge');
  await expect401(`Basic ${Buffer.from('alice:correct horse battery').toString('base64')}`, 'basic');
  await expect401(`Bearer ${alice.refresh}`, 'a refresh token');
});

test('an expired token: 401 on every endpoint', async () => {
  const s = await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'alice', password: alice.password } });
  const token = s.body.access_token;
  const hash = createHash('sha256').update(token).digest('hex');
  execFileSync('sqlite3', [join(srv.dir, 'cairn.db'), `UPDATE tokens SET expires_ms = 1 WHERE hash = X'${hash}'`]);
  await expect401(`Bearer ${token}`, 'expired');
});

test("a revoked device's token: 401 on every endpoint", async () => {
  const s = await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'alice', password: alice.password } });
  assert.equal((await api(U, 'DELETE', `/api/v1/devices/${s.body.device.id}`, { token: alice.access })).status, 204);
  await expect401(`Bearer ${s.body.access_token}`, 'revoked');
});

test("another user's resources answer 404", async () => {
  let r = await api(U, 'PATCH', `/api/v1/devices/${alice.device.id}`, { token: bob.access, body: { name: 'mine now' } });
  assert.equal(r.status, 404);
  r = await api(U, 'DELETE', `/api/v1/devices/${alice.device.id}`, { token: bob.access });
  assert.equal(r.status, 404);
  // alice's device is untouched
  r = await api(U, 'GET', '/api/v1/devices', { token: alice.access });
  assert.equal(r.body.devices.find((d) => d.id === alice.device.id).revoked_at, null);
  assert.equal((await api(U, 'PATCH', '/api/v1/devices/999999', { token: bob.access, body: { name: 'x' } })).status, 404);
  assert.equal((await api(U, 'DELETE', '/api/v1/devices/abc', { token: bob.access })).status, 404);
});

test('a token from another realm sees nothing of this one', async () => {
  const r = await api(U, 'GET', '/api/v1/users/alice/public-key', { token: carol.access });
  assert.equal(r.status, 404);
  assert.equal((await api(U, 'GET', '/api/v1/users/alice/public-key', { token: bob.access })).status, 200);
  const acct = await api(U, 'GET', '/api/v1/account', { token: carol.access });
  assert.equal(acct.body.realm.name, 'other');
  assert.equal((await api(U, 'PATCH', `/api/v1/devices/${alice.device.id}`, { token: carol.access, body: { name: 'x' } })).status, 404);
});

test('non-admins get 403 admin_required from every admin endpoint', async () => {
  for (const [m, p, body] of endpoints().filter(([, p]) => p.startsWith('/api/v1/admin'))) {
    const r = await api(U, m, p, { token: bob.access, body });
    assert.equal(r.status, 403, `${m} ${p}`);
    assert.equal(r.body.code, 'admin_required');
  }
});

test('a disabled user: 403 account_disabled on every endpoint, login too', async () => {
  const dave = await signUp(U, 'dave');
  const tok = await api(U, 'POST', '/api/v1/tokens', { token: dave.access, body: { name: 'script' } });
  const r = await api(U, 'PATCH', `/api/v1/admin/users/${dave.user.id}`, { token: admin, body: { disabled: true } });
  assert.equal(r.status, 200);
  assert.equal(r.body.user.disabled, true);
  // at once, every token of the user answers account_disabled (not invalid_token), and so
  // do login and refresh
  for (const t of [dave.access, tok.body.token]) {
    const x = await api(U, 'GET', '/api/v1/account', { token: t });
    assert.equal(x.status, 403);
    assert.equal(x.body.code, 'account_disabled');
  }
  const login = await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'dave', password: dave.password } });
  assert.equal(login.status, 403);
  assert.equal(login.body.code, 'account_disabled');
  const refresh = await api(U, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: dave.refresh } });
  assert.equal(refresh.status, 403);
  assert.equal(refresh.body.code, 'account_disabled');
  // enabled again, the same tokens work: disabling is not a revocation
  await api(U, 'PATCH', `/api/v1/admin/users/${dave.user.id}`, { token: admin, body: { disabled: false } });
  assert.equal((await api(U, 'GET', '/api/v1/account', { token: tok.body.token })).status, 200);
  assert.equal((await api(U, 'GET', '/api/v1/account', { token: dave.access })).status, 200);
  assert.equal((await api(U, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: dave.refresh } })).status, 200);
  const s = await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'dave', password: dave.password } });
  assert.equal(s.status, 200);
  // disabled behind the API's back (as `cairn user disable` on the data directory could race)
  execFileSync('sqlite3', [join(srv.dir, 'cairn.db'), `UPDATE users SET disabled = 1 WHERE id = ${dave.user.id}`]);
  for (const [m, p, body] of endpoints().filter(([, p]) => !p.startsWith('/api/v1/admin'))) {
    const x = await api(U, m, p, { token: s.body.access_token, body });
    assert.equal(x.status, 403, `${m} ${p}`);
    assert.equal(x.body.code, 'account_disabled');
  }
});
