// Losing access ends what waits: a parked long-poll is answered as a fresh request would
// be (never with data written after the loss), and an event stream ends with an event that
// says why. Disabling an account is not a revocation.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { api, eventually, signUp, sleep, startServer } from './lib/cairn.mjs';
import { db } from './lib/backend.mjs';

let srv;
let U;
let admin;
before(async () => {
  srv = await startServer({
    args: ['--admin-user', 'root', '--admin-pass', 'root password 1'],
    env: { CAIRN_RATELIMIT_PER_ADDRESS: '100000', CAIRN_RATELIMIT_PER_ACCOUNT: '100000', CAIRN_SERVER_EVENTS_HEARTBEAT: '300ms' },
  });
  U = srv.url;
  admin = (await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'root', password: 'root password 1' } })).body.access_token;
});
after(async () => {
  await srv.cleanup();
});

// A long-poll on a raw socket: resolves with the status and body of its answer.
function park(token, space, since) {
  return new Promise((resolve) => {
    const sock = net.connect(srv.port, '127.0.0.1');
    let got = '';
    sock.on('data', (d) => {
      got += d;
      const end = got.indexOf('\r\n\r\n');
      const len = /content-length: (\d+)/i.exec(got);
      if (end > 0 && len && got.length >= end + 4 + Number(len[1])) {
        sock.destroy();
        resolve({ status: Number(got.split(' ')[1]), body: JSON.parse(got.slice(end + 4)), at: Date.now() });
      }
    });
    sock.write(`GET /api/v1/spaces/${space}/changes?since=${since}&wait=30 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n`);
  });
}

async function shared(owner, member, role = 'reader') {
  const sp = (await api(U, 'POST', '/api/v1/spaces', { token: owner.access, body: { name: 'room' } })).body.space;
  assert.equal((await api(U, 'POST', `/api/v1/spaces/${sp.id}/members`, { token: owner.access, body: { username: member.user.username, role } })).status, 200);
  return sp.id;
}

const push = (token, space, id, data) =>
  api(U, 'POST', `/api/v1/spaces/${space}/changes`, { token, body: { changes: [{ op_id: `p-${id}-${Date.now()}`, collection: 'c', id, op: 'put', data }] } });

test('a parked pull is answered 404 the moment its caller leaves the space, and never sees later data', async () => {
  const a = await signUp(U, 'ac1');
  const b = await signUp(U, 'ac2');
  const space = await shared(a, b);
  const waiting = park(b.access, space, 0);
  await sleep(300);
  const t0 = Date.now();
  assert.equal((await api(U, 'DELETE', `/api/v1/spaces/${space}/members/ac2`, { token: a.access })).status, 204);
  const r = await waiting;
  assert.equal(r.status, 404, JSON.stringify(r.body));
  assert.ok(r.at - t0 < 1500, 'answered when access was lost, not at the next push or the deadline');
  // even when the push comes first in the race, the answer is the stranger's
  const b2 = await signUp(U, 'ac3');
  const space2 = await shared(a, b2);
  const w2 = park(b2.access, space2, 0);
  await sleep(300);
  await Promise.all([api(U, 'DELETE', `/api/v1/spaces/${space2}/members/ac3`, { token: a.access }), push(a.access, space2, 'secret', { s: 'after removal' })]);
  const r2 = await w2;
  assert.ok(r2.status === 404 || (r2.status === 200 && !JSON.stringify(r2.body).includes('after removal')), JSON.stringify(r2.body));
});

test('revocation, logout, a password change elsewhere and disabling end parked pulls at once', async () => {
  const cases = [
    ['revoke', async (u) => api(U, 'DELETE', `/api/v1/devices/${u.device.id}`, { token: u.access }), 401],
    ['logout', async (u) => api(U, 'POST', '/api/v1/auth/logout', { token: u.access }), 401],
    ['password', async (u) => {
      const other = await api(U, 'POST', '/api/v1/auth/login', { body: { username: u.user.username, password: u.password } });
      return api(U, 'POST', '/api/v1/account/password', { token: other.body.access_token, body: { current_password: u.password, new_password: 'another password 9' } });
    }, 401],
    ['disable', async (u) => api(U, 'PATCH', `/api/v1/admin/users/${u.user.id}`, { token: admin, body: { disabled: true } }), 403],
  ];
  for (const [what, act, want] of cases) {
    const u = await signUp(U, `ac-${what}`);
    const waiting = park(u.access, 'me', 0);
    await sleep(300);
    const t0 = Date.now();
    const done = await act(u);
    assert.ok(done.status < 300, `${what}: ${done.status} ${JSON.stringify(done.body)}`);
    const r = await waiting;
    assert.equal(r.status, want, `${what}: ${JSON.stringify(r.body)}`);
    assert.ok(r.at - t0 < 1500, `${what}: answered ${r.at - t0} ms later`);
  }
});

// An event stream's events, over a raw socket.
function stream(token) {
  const s = { events: [], text: '' };
  const sock = net.connect(srv.port, '127.0.0.1');
  sock.on('error', () => {});
  sock.on('data', (d) => {
    s.text += d;
    for (const m of s.text.matchAll(/event: (\w+)/g)) if (!s.events.includes(m[1])) s.events.push(m[1]);
  });
  sock.write(`GET /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n`);
  s.close = () => sock.destroy();
  return s;
}

test('an event stream ends with why: revoked, disabled, or expired (refresh, do not sign out)', async () => {
  const u = await signUp(U, 'ac-ev1');
  const other = await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'ac-ev1', password: u.password } });
  const s = stream(u.access);
  await sleep(300);
  // another session changes the password: this one's token is gone at once
  await api(U, 'POST', '/api/v1/account/password', { token: other.body.access_token, body: { current_password: u.password, new_password: 'another password 9' } });
  await eventually(() => s.events.includes('revoked'), { timeoutMs: 2000, what: 'revoked' });
  s.close();

  const d = await signUp(U, 'ac-ev2');
  const ds = stream(d.access);
  await sleep(300);
  await api(U, 'PATCH', `/api/v1/admin/users/${d.user.id}`, { token: admin, body: { disabled: true } });
  await eventually(() => ds.events.includes('disabled'), { timeoutMs: 2000, what: 'disabled' });
  assert.ok(!ds.events.includes('revoked'));
  ds.close();

  const e = await signUp(U, 'ac-ev3');
  const es = stream(e.access);
  await sleep(300);
  // the access token runs out (behind the server's back, as time would)
  db.expireAccessTokens(srv.dir, e.device.id);
  await eventually(() => es.events.includes('expired'), { timeoutMs: 3000, what: 'expired' });
  assert.ok(!es.events.includes('revoked'));
  es.close();
  const x = await api(U, 'GET', '/api/v1/account', { token: e.access });
  assert.equal(x.status, 401);
  assert.equal(x.body.code, 'invalid_token');
  assert.match(x.body.error, /expired/);
  assert.equal((await api(U, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: e.refresh } })).status, 200);
});

test("a reused refresh token ends its session at once: the thief's parked pull answers 401 now", async () => {
  const v = await signUp(U, 'ac-reuse');
  // the thief refreshes first with the stolen refresh token
  const thief = await api(U, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: v.refresh } });
  assert.equal(thief.status, 200);
  const waiting = park(thief.body.access_token, 'me', 0);
  await sleep(300);
  // the victim's client uses the same refresh token: reuse, the device's session ends
  const t0 = Date.now();
  const again = await api(U, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: v.refresh } });
  assert.equal(again.status, 401);
  const r = await waiting;
  assert.ok(r.at - t0 < 2000, `answered after ${r.at - t0} ms (the wait was 30 s)`);
  assert.equal(r.status, 401);
});
