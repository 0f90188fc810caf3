import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api, startServer } from './lib/cairn.mjs';

test('credential endpoints answer 429 with Retry-After past the per-address limit', async () => {
  const srv = await startServer({ env: { CAIRN_RATELIMIT_PER_ADDRESS: '5', CAIRN_RATELIMIT_PER_ACCOUNT: '1000' } });
  const statuses = [];
  for (let i = 0; i < 6; i++) {
    const r = await api(srv.url, 'POST', '/api/v1/auth/login', { body: { username: `u${i}`, password: 'whatever1' } });
    statuses.push(r.status);
    if (r.status === 429) {
      const ra = Number(r.headers.get('retry-after'));
      assert.ok(ra >= 1 && ra <= 60, `Retry-After ${ra}`);
      assert.equal(r.body.code, 'rate_limited');
    }
  }
  assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429]);
  // one budget for every kind of credential request: switching to another is no way out
  assert.equal((await api(srv.url, 'POST', '/api/v1/auth/forgot', { body: { username: 'x' } })).status, 429);
  assert.equal((await api(srv.url, 'POST', '/api/v1/auth/register', { body: {} })).status, 429);
  assert.equal((await api(srv.url, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: 'x' } })).status, 429);
  assert.equal((await api(srv.url, 'POST', '/api/v1/auth/confirm', { body: { token: 'x' } })).status, 429);
  // other endpoints are not limited
  assert.equal((await api(srv.url, 'GET', '/health')).status, 200);
  await srv.cleanup();
});

test('one account is limited however many addresses try it', async () => {
  const srv = await startServer({ env: { CAIRN_RATELIMIT_PER_ADDRESS: '1000', CAIRN_RATELIMIT_PER_ACCOUNT: '3' } });
  await api(srv.url, 'POST', '/api/v1/auth/register', { body: { username: 'target', password: 'right password' } });
  await api(srv.url, 'POST', '/api/v1/auth/register', { body: { username: 'bystander', password: 'right password' } });
  for (let i = 0; i < 3; i++) {
    const r = await api(srv.url, 'POST', '/api/v1/auth/login', { body: { username: 'target', password: 'wrong password' } });
    assert.equal(r.status, 401);
  }
  // even the right password waits now (case-insensitive key)
  const r = await api(srv.url, 'POST', '/api/v1/auth/login', { body: { username: 'TARGET', password: 'right password' } });
  assert.equal(r.status, 429);
  // other accounts are not affected
  assert.equal((await api(srv.url, 'POST', '/api/v1/auth/login', { body: { username: 'bystander', password: 'right password' } })).status, 200);
  await srv.cleanup();
});

test('an account has one budget, whether it is named by username or by e-mail', async () => {
  const srv = await startServer({ env: { CAIRN_RATELIMIT_PER_ADDRESS: '1000', CAIRN_RATELIMIT_PER_ACCOUNT: '4' } });
  await api(srv.url, 'POST', '/api/v1/auth/register', { body: { username: 'both', email: 'Both@example.org', password: 'right password' } });
  const tries = [{ username: 'both' }, { email: 'both@example.org' }, { username: 'BOTH' }, { email: 'BOTH@EXAMPLE.ORG' }];
  for (const t of tries) assert.equal((await api(srv.url, 'POST', '/api/v1/auth/login', { body: { ...t, password: 'wrong password' } })).status, 401);
  assert.equal((await api(srv.url, 'POST', '/api/v1/auth/login', { body: { email: 'both@example.org', password: 'right password' } })).status, 429);
  assert.equal((await api(srv.url, 'POST', '/api/v1/auth/forgot', { body: { username: 'both' } })).status, 429);
  await srv.cleanup();
});
