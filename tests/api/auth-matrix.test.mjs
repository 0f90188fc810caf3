// Every authenticated endpoint, with every kind of bad credential.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { api, runCairn, signUp, startServer } from './lib/cairn.mjs';
import { db } from './lib/backend.mjs';

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

// [method, path, body, flags] for every endpoint that needs a bearer token, derived from
// the route table (src/http/routes.c), so a route added there is tested here at once.
// Each row's checks are what the table declares: the dispatch step enforces them.
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const routeRows = () => {
  const src = readFileSync(join(ROOT, 'src/http/routes.c'), 'utf8');
  const rows = [...src.matchAll(/\{ ([A-Z_| ]+), "([^"]+)", \w+, (BODY_\w+), [^,]+, [^,]+, ([A-Z_| 0]+) \}/g)];
  assert.ok(rows.length > 40, 'the route table was read');
  return rows.map(([, methods, pattern, body, flags]) => ({
    methods: methods.split('|').map((m) => m.trim().replace('HM_', '')),
    pattern,
    body,
    flags: flags.split('|').map((f) => f.trim()),
  }));
};
// A request body each JSON route accepts when authorised (an empty object elsewhere).
const bodies = {
  'DELETE /api/v1/account': { password: 'x' },
  'POST /api/v1/account/password': { current_password: 'x', new_password: 'yyyyyyyy' },
  'PUT /api/v1/account/public-key': { public_key: 'k' },
  'PATCH /api/v1/devices/{id}': { name: 'n' },
  'POST /api/v1/tokens': { name: 't' },
  'POST /api/v1/spaces': { name: 'x' },
  'PUT /api/v1/spaces/{space}/collections/{name}': { conflict: 'lww' },
  'PUT /api/v1/spaces/{space}/keys': { epoch: 1, keys: { 1: 'k' } },
  'POST /api/v1/spaces/{space}/changes': { changes: [] },
  'PUT /api/v1/spaces/{space}/records/{collection}/{id}': { a: 1 },
  'POST /api/v1/blobs/missing': { blobs: [] },
  'POST /api/v1/admin/users': { username: 'zz', password: 'zzzzzzzz' },
  'PATCH /api/v1/admin/users/{id}': { name: 'x' },
  'POST /api/v1/admin/realms': { name: 'zz' },
  'PATCH /api/v1/admin/realms/{name}': { display_name: 'x' },
};
const fill = (pattern) =>
  pattern
    .replace('{space}', 'me')
    .replace('/devices/{id}', `/devices/${alice.device.id}`)
    .replace('/users/{id}', '/users/1')
    .replace('/realms/{name}', '/realms/other')
    .replace('{name}', 'c')
    .replace('{username}', 'alice')
    .replace('{collection}', 'c')
    .replace('{id}', 'x')
    .replace('{sha256}', 'a'.repeat(64));
const endpoints = () => {
  const out = [];
  for (const r of routeRows()) {
    if (r.flags.includes('ROUTE_PUBLIC')) continue;
    for (const m of r.methods) {
      const key = `${m} ${r.pattern}`;
      const body = r.body === 'BODY_JSON' ? bodies[key] || {} : undefined;
      out.push([m, fill(r.pattern), body, r.flags]);
    }
  }
  return out;
};

test('the matrix covers every authenticated route of the table', () => {
  const e = endpoints();
  assert.ok(e.length >= 44, `${e.length} endpoints`);
  assert.ok(e.some(([m, p]) => m === 'PUT' && p.startsWith('/api/v1/blobs/')));
  assert.ok(e.some(([m, p]) => m === 'GET' && p === '/api/v1/events'));
  // what the table declares matches the paths: every {space} route checks access to it
  for (const r of routeRows()) {
    const space = r.flags.some((f) => f.startsWith('ROUTE_SPACE_'));
    assert.equal(space, r.pattern.includes('{space}'), r.pattern);
    assert.equal(r.flags.includes('ROUTE_ADMIN'), r.pattern.startsWith('/api/v1/admin/'), r.pattern);
  }
});

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
  db.expireToken(srv.dir, hash);
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
  for (const [m, p, body] of endpoints().filter(([, , , f]) => f.includes('ROUTE_ADMIN'))) {
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
  // what is no refresh token stays unknown, disabled or not: nothing tells the account
  const notRefresh = await api(U, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: dave.access } });
  assert.equal(notRefresh.status, 401);
  assert.equal(notRefresh.body.code, 'invalid_token');
  // a refresh token in a body is no bearer token: its 401 names none
  assert.equal(notRefresh.headers.get('www-authenticate'), 'Bearer realm="cairn"');
  // enabled again, the same tokens work: disabling is not a revocation
  await api(U, 'PATCH', `/api/v1/admin/users/${dave.user.id}`, { token: admin, body: { disabled: false } });
  assert.equal((await api(U, 'GET', '/api/v1/account', { token: tok.body.token })).status, 200);
  assert.equal((await api(U, 'GET', '/api/v1/account', { token: dave.access })).status, 200);
  assert.equal((await api(U, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: dave.refresh } })).status, 200);
  const s = await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'dave', password: dave.password } });
  assert.equal(s.status, 200);
  // disabled behind the API's back: `cairn user disable` on the data directory, whose
  // change this server's token cache has not seen
  const off = await runCairn(['user', 'disable', 'dave', '--data', srv.dir]);
  assert.equal(off.code, 0, off.stderr);
  for (const [m, p, body] of endpoints().filter(([, , , f]) => !f.includes('ROUTE_ADMIN'))) {
    const x = await api(U, m, p, { token: s.body.access_token, body });
    assert.equal(x.status, 403, `${m} ${p}`);
    assert.equal(x.body.code, 'account_disabled');
  }
});

test('space routes: a non-member gets 404 and a reader 403 wherever the table asks for more', async () => {
  const sp = await api(U, 'POST', '/api/v1/spaces', { token: alice.access, body: { name: 'shared' } });
  assert.equal(sp.status, 201);
  const id = sp.body.space.id;
  const add = await api(U, 'POST', `/api/v1/spaces/${id}/members`, { token: alice.access, body: { username: 'bob', role: 'reader' } });
  assert.equal(add.status, 200);
  const eve = await signUp(U, 'eve');
  const rows = endpoints().filter(([, , , f]) => f.some((x) => x.startsWith('ROUTE_SPACE_')));
  assert.ok(rows.length >= 17);
  for (const [m, p, body, f] of rows) {
    const path = p.replace('/spaces/me', `/spaces/${id}`).replace('/conversations/me', `/conversations/${id}`);
    const r = await api(U, m, path, { token: eve.access, body });
    assert.equal(r.status, 404, `non-member: ${m} ${path}`);
    if (f.includes('ROUTE_SPACE_READ')) continue;
    const x = await api(U, m, path, { token: bob.access, body });
    assert.equal(x.status, 403, `reader: ${m} ${path} answered ${x.status}`);
    assert.equal(x.body.code, 'forbidden');
  }
});

test('members are added by username only: an address tells nobody who is registered', async () => {
  const owner = await signUp(U, 'mo');
  const hidden = await signUp(U, 'hidden', { email: 'hidden.person@corp.example' });
  const sp = (await api(U, 'POST', '/api/v1/spaces', { token: owner.access, body: { name: 'probe' } })).body.space;
  const byMail = await api(U, 'POST', `/api/v1/spaces/${sp.id}/members`, { token: owner.access, body: { username: 'hidden.person@corp.example', role: 'reader' } });
  const nobody = await api(U, 'POST', `/api/v1/spaces/${sp.id}/members`, { token: owner.access, body: { username: 'nobody.at.all@corp.example', role: 'reader' } });
  assert.equal(byMail.status, 400);
  assert.deepEqual(byMail.body, nobody.body, 'a registered address answers as an unknown one');
  const byName = await api(U, 'POST', `/api/v1/spaces/${sp.id}/members`, { token: owner.access, body: { username: hidden.user.username, role: 'reader' } });
  assert.equal(byName.status, 200);
});
