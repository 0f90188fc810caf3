// Verstak's user JSON API under /compat/verstak (issue 16): register sends the
// confirmation mail (Verstak's own JSON API never did, so a JSON-only client could never
// finish), confirm with the mailed token, login, forgot mails the reset link, reset with
// it, the user's paired devices by session; the realm's policy holds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api, startServer } from '../../api/lib/cairn.mjs';
import { startSmtp, tokenOf } from '../../api/lib/smtp.mjs';
import { Desktop } from './client.mjs';

const LIMITS = { CAIRN_RATELIMIT_PER_ADDRESS: '100000', CAIRN_RATELIMIT_PER_ACCOUNT: '100000' };
const PW = 'correct horse battery';

test('register, confirm by the mailed token, login, forgot and reset by the mailed link, devices by session', async () => {
  const smtp = await startSmtp();
  const srv = await startServer({
    env: { ...LIMITS, CAIRN_MAIL_SMTP_URL: smtp.url, CAIRN_MAIL_FROM: 'noreply@cairn.test', CAIRN_VERSTAK_REALM: 'vk' },
    args: ['--admin-user', 'root', '--admin-pass', 'root password 1'],
  });
  const U = srv.url;
  const B = `${U}/compat/verstak`;
  try {
    const root = (await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'root', password: 'root password 1' } })).body.access_token;
    assert.equal((await api(U, 'POST', '/api/v1/admin/realms', { token: root, body: { name: 'vk', confirm_email: true } })).status, 201);
    const d = new Desktop(B);
    // refusals first, in its order, each storing nothing
    const bad = [
      [{ username: 'vera', email: '', password: PW }, 400, 'username, email and password required'],
      [{ username: 'vera', email: 'not an address', password: PW }, 400, 'invalid email'],
      [{ username: 'vera', email: 'vera@example.com', password: 'short' }, 400, 'PASSWORD_TOO_SHORT'],
      [{ username: 'vera', email: 'vera@example.com', password: 'p'.repeat(257) }, 400, 'PASSWORD_TOO_LONG'],
      [{ username: 've ra', email: 'vera@example.com', password: PW }, 400, /^username /],
    ];
    for (const [body, status, msg] of bad) {
      const r = await d.call('POST', '/api/v1/auth/register', body);
      assert.equal(r.status, status, JSON.stringify(r.body));
      if (msg instanceof RegExp) assert.match(r.body.error, msg);
      else assert.equal(r.body.error, msg);
    }
    let r = await d.call('POST', '/api/v1/auth/register', { username: 'vera', email: 'Vera@Example.com', password: PW });
    assert.deepEqual([r.status, r.body], [200, { status: 'confirmation_sent' }]);
    r = await d.call('POST', '/api/v1/auth/register', { username: 'VERA', email: 'other@example.com', password: PW });
    assert.deepEqual([r.status, r.body.error], [409, 'username or email already taken']);
    r = await d.call('POST', '/api/v1/auth/register', { username: 'vera2', email: 'VERA@example.com', password: PW });
    assert.deepEqual([r.status, r.body.error], [409, 'username or email already taken']);
    // not confirmed yet: no login, no pairing
    r = await d.call('POST', '/api/v1/auth/login', { username: 'vera', password: PW });
    assert.deepEqual([r.status, r.body.error], [403, 'email not confirmed']);
    r = await d.call('POST', '/api/client/pair', { login: 'vera', password: PW, vault_id: 'v' });
    assert.deepEqual([r.status, r.body.error], [403, 'email not confirmed']);
    // the mail came, to the address as lower-cased; its token confirms
    const mail = await smtp.waitFor('vera@example.com');
    const token = tokenOf(mail);
    assert.ok(token, mail.body);
    r = await d.call('POST', '/api/v1/auth/confirm', { token: 'nonsense' });
    assert.deepEqual([r.status, r.body.error], [400, 'invalid or expired token']);
    r = await d.call('POST', '/api/v1/auth/confirm', {});
    assert.deepEqual([r.status, r.body.error], [400, 'token required']);
    r = await d.call('POST', '/api/v1/auth/confirm', { token });
    assert.deepEqual([r.status, r.body], [200, { status: 'confirmed' }]);
    r = await d.call('POST', '/api/v1/auth/confirm', { token });
    assert.equal(r.status, 400);
    // login by name or address
    r = await d.call('POST', '/api/v1/auth/login', { username: 'vera@example.com', password: PW });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(Object.keys(r.body), ['token', 'user_id']);
    const session = r.body.token;
    r = await d.call('POST', '/api/v1/auth/login', { username: 'vera', password: 'wrong password' });
    assert.deepEqual([r.status, r.body.error], [401, 'invalid credentials']);
    // no paired device yet: null; without a session: to the login page
    let res = await fetch(`${B}/api/v1/user/devices`, { headers: { Cookie: `user_session=${session}` } });
    assert.deepEqual([res.status, await res.text()], [200, 'null\n']);
    res = await fetch(`${B}/api/v1/user/devices`, { redirect: 'manual' });
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), '/compat/verstak/login');
    // two desktops paired: listed newest first, by session cookie or bearer
    const a = new Desktop(B);
    assert.equal((await a.pair('vera', PW, 'notes', 'First')).status, 200);
    const b = new Desktop(B);
    assert.equal((await b.pair('vera', PW, 'notes', 'Second')).status, 200);
    res = await fetch(`${B}/api/v1/user/devices`, { headers: { Cookie: `theme=dark; user_session=${session}` } });
    const list = JSON.parse(await res.text());
    assert.deepEqual(list.map((x) => x.name), ['Second', 'First']);
    assert.deepEqual(Object.keys(list[0]), ['client_version', 'created_at', 'id', 'last_seen', 'name', 'revoked_at']);
    assert.equal(list[1].id, a.deviceId);
    // revoking one: by bearer with the password; a cookie alone is refused (no CSRF check yet)
    r = await (await fetch(`${B}/api/v1/user/devices/${a.deviceId}/revoke`, { method: 'POST', headers: { Cookie: `user_session=${session}` }, body: JSON.stringify({ password: PW }) })).json();
    assert.equal(r.code, 'csrf_invalid');
    const rev = (body) => fetch(`${B}/api/v1/user/devices/${a.deviceId}/revoke`, { method: 'POST', headers: { Authorization: `Bearer ${session}` }, body: JSON.stringify(body) }).then(async (x) => ({ status: x.status, body: JSON.parse(await x.text()) }));
    assert.deepEqual((await rev({ password: 'not the password' })).body.error, 'wrong password');
    assert.deepEqual(await rev({ password: PW }), { status: 200, body: { status: 'revoked' } });
    assert.equal((await a.call('GET', '/api/client/me')).status, 401);
    assert.equal((await b.call('GET', '/api/client/me')).status, 200);
    // forgot: the same answer for anyone; the link's token resets
    r = await d.call('POST', '/api/v1/auth/forgot', { email: 'nobody@example.com' });
    assert.deepEqual([r.status, r.body], [200, { status: 'if email exists, reset link sent' }]);
    r = await d.call('POST', '/api/v1/auth/forgot', { email: 'vera@example.com' });
    assert.deepEqual([r.status, r.body], [200, { status: 'if email exists, reset link sent' }]);
    r = await d.call('POST', '/api/v1/auth/forgot', {});
    assert.deepEqual([r.status, r.body.error], [400, 'email required']);
    const reset = await smtp.waitFor('vera@example.com');
    const rt = tokenOf(reset);
    assert.ok(rt && rt !== token, reset.body);
    r = await d.call('POST', '/api/v1/auth/reset', { token: rt, new_password: 'short' });
    assert.deepEqual([r.status, r.body.error], [400, 'PASSWORD_TOO_SHORT']);
    r = await d.call('POST', '/api/v1/auth/reset', { token: 'x', new_password: 'a new password 1' });
    assert.deepEqual([r.status, r.body.error], [400, 'invalid or expired token']);
    r = await d.call('POST', '/api/v1/auth/reset', { token: rt, new_password: 'a new password 1' });
    assert.deepEqual([r.status, r.body], [200, { status: 'password reset' }]);
    assert.equal((await d.call('POST', '/api/auth/test', { username: 'vera', password: 'a new password 1' })).status, 200);
    assert.equal((await d.call('POST', '/api/auth/test', { username: 'vera', password: PW })).status, 401);
    // a closed realm: registration refused, nothing made
    await api(U, 'PATCH', '/api/v1/admin/realms/vk', { token: root, body: { signup_open: false } });
    r = await d.call('POST', '/api/v1/auth/register', { username: 'walt', email: 'walt@example.com', password: PW });
    assert.deepEqual([r.status, r.body.error], [403, 'registration is disabled']);
  } finally {
    await srv.stop();
    await smtp.close();
  }
});
