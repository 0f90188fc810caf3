// GET /api/v1/events: Server-Sent Events per device.
import assert from 'node:assert/strict';
import { openEvents } from './lib/sse.mjs';
import { after, before, test } from 'node:test';
import { api, signUp, sleep, startServer } from './lib/cairn.mjs';

let srv;
let U;
before(async () => {
  srv = await startServer({ env: { CAIRN_SERVER_EVENTS_HEARTBEAT: '300ms', CAIRN_RATELIMIT_PER_ADDRESS: '100000', CAIRN_RATELIMIT_PER_ACCOUNT: '100000' } });
  U = srv.url;
});
after(async () => {
  await srv.cleanup();
});

// Opens a stream and collects its events; `closed` resolves when the server ends it.
const open = (token) => openEvents(U, token);

test('a stream announces each space head, then every advance, with heartbeats', async () => {
  const a = await signUp(U, 'ev1');
  const s = await open(a.access);
  assert.equal(s.status, 200);
  assert.equal(s.type, 'text/event-stream');
  const first = await s.waitFor((e) => e.event === 'space');
  assert.equal(first.data.head_seq, 0);
  const me = first.data.space;
  await api(U, 'PUT', '/api/v1/spaces/me/records/n/1', { token: a.access, body: { x: 1 } });
  await s.waitFor((e) => e.event === 'space' && e.data.space === me && e.data.head_seq === 1);
  await sleep(800);
  assert.ok(s.beats >= 1, 'no heartbeat');
  s.close();
});

test('shared spaces: members hear of pushes; a removed member stops hearing of it', async () => {
  const owner = await signUp(U, 'ev2o');
  const m = await signUp(U, 'ev2m');
  const c = await api(U, 'POST', '/api/v1/spaces', { token: owner.access, body: { name: 'S' } });
  const id = c.body.space.id;
  const s = await open(m.access);
  await s.waitFor((e) => e.event === 'space'); // its private space
  await api(U, 'POST', `/api/v1/spaces/${id}/members`, { token: owner.access, body: { username: 'ev2m', role: 'writer' } });
  await s.waitFor((e) => e.event === 'membership' && e.data.space === id && e.data.role === 'writer');
  await api(U, 'PUT', `/api/v1/spaces/${id}/records/n/1`, { token: owner.access, body: {} });
  await s.waitFor((e) => e.event === 'space' && e.data.space === id && e.data.head_seq === 1);
  await api(U, 'DELETE', `/api/v1/spaces/${id}/members/ev2m`, { token: owner.access });
  await s.waitFor((e) => e.event === 'membership' && e.data.space === id && e.data.role === null);
  await api(U, 'PUT', `/api/v1/spaces/${id}/records/n/2`, { token: owner.access, body: {} });
  await sleep(400);
  assert.ok(!s.events.some((e) => e.event === 'space' && e.data.space === id && e.data.head_seq === 2), 'a removed member heard of the space');
  s.close();
});

test("a revoked device's stream is told and closed", async () => {
  const a = await signUp(U, 'ev3');
  const other = await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'ev3', password: a.password } });
  const s = await open(a.access);
  await s.waitFor((e) => e.event === 'space');
  assert.equal((await api(U, 'DELETE', `/api/v1/devices/${a.device.id}`, { token: other.body.access_token })).status, 204);
  await s.waitFor((e) => e.event === 'revoked');
  assert.equal(await s.closed, true);
  // and a stream with a dead token is refused
  assert.equal((await open(a.access)).status, 401);
});

test('a token that stops working elsewhere ends the stream at the next heartbeat', async () => {
  const a = await signUp(U, 'ev4');
  const s = await open(a.access);
  await s.waitFor((e) => e.event === 'space');
  // another device changes the password: this device's session is revoked
  const other = await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'ev4', password: a.password } });
  await api(U, 'POST', '/api/v1/account/password', { token: other.body.access_token, body: { current_password: a.password, new_password: 'a brand new one' } });
  await s.waitFor((e) => e.event === 'revoked', 3000);
  assert.equal(await s.closed, true);
});

test('the server shuts down cleanly with streams open', async () => {
  const own = await startServer();
  const a = await signUp(own.url, 'ev5');
  const res = await fetch(`${own.url}/api/v1/events`, { headers: { Authorization: `Bearer ${a.access}` } });
  assert.equal(res.status, 200);
  const reader = res.body.getReader();
  await reader.read();
  const t0 = Date.now();
  const { code } = await own.stop();
  assert.equal(code, 0, own.log());
  assert.ok(Date.now() - t0 < 5000);
  await own.cleanup();
});
