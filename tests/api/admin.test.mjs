import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { api, runCairn, signUp, startServer } from './lib/cairn.mjs';

let srv;
let U;
let admin;
before(async () => {
  srv = await startServer({
    args: ['--admin-user', 'root', '--admin-pass', 'root password 1'],
    env: { CAIRN_RATELIMIT_PER_ADDRESS: '10000', CAIRN_RATELIMIT_PER_ACCOUNT: '10000' },
  });
  U = srv.url;
  const r = await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'root', password: 'root password 1' } });
  assert.equal(r.status, 200);
  assert.equal(r.body.user.is_admin, true);
  admin = r.body.access_token;
});
after(async () => {
  await srv.cleanup();
});

test('--admin-user creates the admin once; a restart with another name adds nobody', async () => {
  const fresh = await startServer({ args: ['--admin-user', 'first', '--admin-pass', 'first password'] });
  assert.equal((await fresh.stop()).code, 0);
  const again = await startServer({ dataDir: fresh.dir, args: ['--admin-user', 'other', '--admin-pass', 'xxxxxxxx'] });
  const tok = (await api(again.url, 'POST', '/api/v1/auth/login', { body: { username: 'first', password: 'first password' } })).body.access_token;
  const list = await api(again.url, 'GET', '/api/v1/admin/users?q=other', { token: tok });
  assert.equal(list.status, 200);
  assert.equal(list.body.users.length, 0);
  await again.cleanup();
  await fresh.cleanup();
});

test('a second server on the same data directory is refused, naming the first', async () => {
  const r = await runCairn(['serve', '--listen', '127.0.0.1:0', '--data', srv.dir]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`is in use by another cairn serve, migrate or restore-epochs \\(pid ${srv.proc.pid}\\)`));
  // and the first one is untouched
  assert.equal((await api(U, 'GET', '/api/v1/admin/stats', { token: admin })).status, 200);
});

test('an ordinary user is never promoted by --admin-user', async () => {
  const fresh = await startServer();
  await api(fresh.url, 'POST', '/api/v1/auth/register', { body: { username: 'mallory', password: 'mallory pw 1' } });
  assert.equal((await fresh.stop()).code, 0);
  const r = await runCairn(['serve', '--listen', '127.0.0.1:0', '--data', fresh.dir, '--admin-user', 'mallory', '--admin-pass', 'whatever123']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /ordinary user of that name exists/);
  await fresh.cleanup();
});

test('users: create, search, page, read, update, delete', async () => {
  for (const n of ['pat1', 'pat2', 'pat3', 'pat4', 'pat5']) {
    const r = await api(U, 'POST', '/api/v1/admin/users', { token: admin, body: { username: n, password: 'pat password', email: `${n}@ex.test` } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.user.email_confirmed, true);
  }
  const dup = await api(U, 'POST', '/api/v1/admin/users', { token: admin, body: { username: 'PAT1', password: 'pat password' } });
  assert.equal(dup.status, 409);
  const p1 = await api(U, 'GET', '/api/v1/admin/users?q=pat&limit=2', { token: admin });
  assert.deepEqual(p1.body.users.map((u) => u.username), ['pat1', 'pat2']);
  assert.equal(p1.body.more, true);
  const p2 = await api(U, 'GET', `/api/v1/admin/users?q=pat&limit=2&after=${p1.body.next}`, { token: admin });
  assert.deepEqual(p2.body.users.map((u) => u.username), ['pat3', 'pat4']);
  const p3 = await api(U, 'GET', `/api/v1/admin/users?q=pat&limit=2&after=${p2.body.next}`, { token: admin });
  assert.deepEqual(p3.body.users.map((u) => u.username), ['pat5']);
  assert.equal(p3.body.more, false);
  const byMail = await api(U, 'GET', '/api/v1/admin/users?q=PAT3%40EX', { token: admin });
  assert.deepEqual(byMail.body.users.map((u) => u.username), ['pat3']);
  // LIKE wildcards are literal
  assert.equal((await api(U, 'GET', '/api/v1/admin/users?q=%25', { token: admin })).body.users.length, 0);
  for (const q of ['limit=0', 'limit=501', 'limit=x', 'after=-1', 'realm=nope']) {
    const r = await api(U, 'GET', `/api/v1/admin/users?${q}`, { token: admin });
    assert.equal(r.status, 400, q);
  }
  const id = p1.body.users[0].id;
  const one = await api(U, 'GET', `/api/v1/admin/users/${id}`, { token: admin });
  assert.equal(one.body.user.username, 'pat1');
  const upd = await api(U, 'PATCH', `/api/v1/admin/users/${id}`, { token: admin, body: { name: 'Pat One', is_admin: true } });
  assert.equal(upd.status, 200);
  assert.equal(upd.body.user.name, 'Pat One');
  assert.equal(upd.body.user.is_admin, true);
  const badUpd = await api(U, 'PATCH', `/api/v1/admin/users/${id}`, { token: admin, body: { username: 'renamed', disabled: 'yes' } });
  assert.equal(badUpd.status, 400);
  assert.deepEqual(Object.keys(badUpd.body.fields).sort(), ['disabled', 'username']);
  const taken = await api(U, 'PATCH', `/api/v1/admin/users/${id}`, { token: admin, body: { email: 'pat2@ex.test' } });
  assert.equal(taken.status, 409);
  assert.equal(taken.body.code, 'email_taken');
  assert.equal((await api(U, 'DELETE', `/api/v1/admin/users/${id}`, { token: admin })).status, 204);
  assert.equal((await api(U, 'GET', `/api/v1/admin/users/${id}`, { token: admin })).status, 404);
  assert.equal((await api(U, 'DELETE', `/api/v1/admin/users/${id}`, { token: admin })).status, 404);
});

test('admins cannot lock themselves out', async () => {
  const me = (await api(U, 'GET', '/api/v1/account', { token: admin })).body.user;
  assert.equal((await api(U, 'PATCH', `/api/v1/admin/users/${me.id}`, { token: admin, body: { disabled: true } })).status, 400);
  assert.equal((await api(U, 'PATCH', `/api/v1/admin/users/${me.id}`, { token: admin, body: { is_admin: false } })).status, 400);
  assert.equal((await api(U, 'DELETE', `/api/v1/admin/users/${me.id}`, { token: admin })).status, 409);
});

test('confirm and reset a password as admin', async () => {
  const s = await signUp(U, 'quentin');
  const r = await api(U, 'PATCH', `/api/v1/admin/users/${s.user.id}`, { token: admin, body: { password: 'set by admin', email_confirmed: true } });
  assert.equal(r.status, 200);
  assert.equal((await api(U, 'GET', '/api/v1/account', { token: s.access })).status, 401);
  assert.equal((await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'quentin', password: 'set by admin' } })).status, 200);
});

test('realms: create with closed sign-up, change settings, isolation', async () => {
  const r = await api(U, 'POST', '/api/v1/admin/realms', { token: admin, body: { name: 'acme', display_name: 'ACME Sync', signup_open: false, access_ttl_s: 600 } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.deepEqual(r.body.realm, { name: 'acme', display_name: 'ACME Sync', signup_open: false, confirm_email: false, access_ttl_s: 600, refresh_ttl_s: 2592000 });
  assert.equal((await api(U, 'POST', '/api/v1/admin/realms', { token: admin, body: { name: 'acme' } })).body.code, 'name_taken');
  const bad = await api(U, 'POST', '/api/v1/admin/realms', { token: admin, body: { name: 'Bad Name', access_ttl_s: 5 } });
  assert.deepEqual(Object.keys(bad.body.fields).sort(), ['access_ttl_s', 'name']);
  const closed = await api(U, 'POST', '/api/v1/auth/register', { body: { username: 'x1', password: 'x1 password', realm: 'acme' } });
  assert.equal(closed.status, 403);
  assert.equal(closed.body.code, 'registration_closed');
  const open = await api(U, 'PATCH', '/api/v1/admin/realms/acme', { token: admin, body: { signup_open: true } });
  assert.equal(open.body.realm.signup_open, true);
  const s = await signUp(U, 'x1', { realm: 'acme' });
  const login = await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'x1', password: s.password, realm: 'acme' } });
  assert.equal(login.body.expires_in, 600);
  // the same name in another realm is another user
  const d = await signUp(U, 'x1', { password: 'another password 2' });
  assert.notEqual(d.user.id, s.user.id);
  assert.equal((await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'x1', password: s.password } })).status, 401);
  const list = await api(U, 'GET', '/api/v1/admin/realms', { token: admin });
  assert.deepEqual(list.body.realms.map((x) => x.name), ['acme', 'default']);
  const inAcme = await api(U, 'GET', '/api/v1/admin/users?realm=acme', { token: admin });
  assert.deepEqual(inAcme.body.users.map((u) => [u.username, u.realm]), [['x1', 'acme']]);
  assert.equal((await api(U, 'PATCH', '/api/v1/admin/realms/nope', { token: admin, body: {} })).status, 404);
});

test('stats count what exists', async () => {
  const before = (await api(U, 'GET', '/api/v1/admin/stats', { token: admin })).body;
  await api(U, 'POST', '/api/v1/spaces', { token: admin, body: { name: 'counted' } });
  const pushed = await api(U, 'POST', '/api/v1/spaces/me/changes', { token: admin, body: { changes: [{ op_id: 'st1', collection: 'c', id: 'a', op: 'put', data: {} }, { op_id: 'st2', collection: 'c', id: 'b', op: 'put', data: {} }] } });
  assert.equal(pushed.status, 200);
  const blob = Buffer.from('a counted blob');
  const h = (await import('node:crypto')).createHash('sha256').update(blob).digest('hex');
  assert.equal((await fetch(`${U}/api/v1/blobs/${h}`, { method: 'PUT', headers: { Authorization: `Bearer ${admin}` }, body: blob })).status, 201);
  const r = await api(U, 'GET', '/api/v1/admin/stats', { token: admin });
  assert.ok(r.body.spaces >= before.spaces + 2, 'the new shared space and the private one'); // "me" was made by the push
  assert.equal(r.body.changes, before.changes + 2);
  assert.equal(r.body.blobs, before.blobs + 1);
  assert.equal(r.body.blob_bytes, before.blob_bytes + blob.length);
  assert.equal(r.status, 200);
  const list = await api(U, 'GET', '/api/v1/admin/users?limit=500', { token: admin });
  assert.equal(r.body.users, list.body.users.length);
  assert.ok(r.body.devices >= 3);
  assert.ok(r.body.realms >= 2);
  for (const k of ['spaces', 'changes', 'blobs', 'blob_bytes', 'active_devices', 'mails_pending']) assert.equal(typeof r.body[k], 'number', k);
});
