// Confirmation and password reset through a real SMTP server on loopback.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { api, eventually, signUp, sleep, startServer } from './lib/cairn.mjs';
import { codeOf, startSmtp, tokenOf } from './lib/smtp.mjs';

let smtp;
let srv;
let U;
let admin;

before(async () => {
  smtp = await startSmtp();
  srv = await startServer({
    args: ['--admin-user', 'root', '--admin-pass', 'root password 1'],
    env: {
      CAIRN_MAIL_SMTP_URL: smtp.url,
      CAIRN_MAIL_FROM: 'noreply@cairn.test',
      CAIRN_SERVER_PUBLIC_URL: 'https://sync.example.test/',
      CAIRN_RATELIMIT_PER_ADDRESS: '10000',
      CAIRN_RATELIMIT_PER_ACCOUNT: '10000',
    },
  });
  U = srv.url;
  admin = (await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'root', password: 'root password 1' } })).body.access_token;
  const r = await api(U, 'POST', '/api/v1/admin/realms', {
    token: admin, body: { name: 'strict', display_name: 'Strict Café', confirm_email: true },
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
});
after(async () => {
  await srv.cleanup();
  await smtp.close();
});

test('a realm that requires confirmation: mail with code and link, login refused until confirmed', async () => {
  const noMail = await api(U, 'POST', '/api/v1/auth/register', { body: { username: 'nomail', password: 'pw pw pw pw', realm: 'strict' } });
  assert.equal(noMail.status, 400);
  assert.ok(noMail.body.fields.email);
  const reg = await api(U, 'POST', '/api/v1/auth/register', {
    body: { username: 'lena', password: 'pw pw pw pw', email: 'lena@example.test', realm: 'strict' },
  });
  assert.equal(reg.status, 201);
  assert.equal(reg.body.confirmation_required, true);
  assert.equal(reg.body.user.email_confirmed, false);
  const msg = await smtp.waitFor('lena@example.test', /confirmation code/);
  assert.equal(msg.from, 'noreply@cairn.test');
  assert.match(msg.raw, /^Subject: =\?UTF-8\?B\?/m); // the realm's name is not ASCII
  assert.equal(Buffer.from(/=\?UTF-8\?B\?(.*)\?=/.exec(msg.subject)[1], 'base64').toString(), 'Confirm your e-mail address for Strict Café');
  const code = codeOf(msg);
  assert.match(code, /^\d{6}$/);
  assert.match(msg.body, /https:\/\/sync\.example\.test\/api\/v1\/auth\/confirm\?token=cec_/);

  const login = await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'lena', password: 'pw pw pw pw', realm: 'strict' } });
  assert.equal(login.status, 403);
  assert.equal(login.body.code, 'email_unconfirmed');
  // a wrong password still says only that
  const wrong = await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'lena', password: 'wrong wrong', realm: 'strict' } });
  assert.equal(wrong.status, 401);

  const bad = await api(U, 'POST', '/api/v1/auth/confirm', { body: { username: 'lena', realm: 'strict', code: code === '000000' ? '111111' : '000000' } });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.code, 'invalid_code');
  const ok = await api(U, 'POST', '/api/v1/auth/confirm', { body: { username: 'lena', realm: 'strict', code } });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  const again = await api(U, 'POST', '/api/v1/auth/confirm', { body: { username: 'lena', realm: 'strict', code } });
  assert.equal(again.status, 400);
  assert.equal((await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'lena', password: 'pw pw pw pw', realm: 'strict' } })).status, 200);
});

test('the confirmation link works from a browser and once only', async () => {
  await api(U, 'POST', '/api/v1/auth/register', { body: { username: 'mo', password: 'pw pw pw pw', email: 'mo@example.test', realm: 'strict' } });
  const msg = await smtp.waitFor('mo@example.test', /confirmation code/);
  const token = tokenOf(msg);
  const res = await fetch(`${U}/api/v1/auth/confirm?token=${token}`, { headers: { Accept: 'text/html' } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/html/);
  assert.match(await res.text(), /Address confirmed/);
  const twice = await fetch(`${U}/api/v1/auth/confirm?token=${token}`);
  assert.equal(twice.status, 400);
  assert.equal((await twice.json()).code, 'invalid_code');
  assert.equal((await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'mo', password: 'pw pw pw pw', realm: 'strict' } })).status, 200);
});

test('forgot answers the same whether or not the user exists', async () => {
  const a = await api(U, 'POST', '/api/v1/auth/forgot', { body: { username: 'nobody-here' } });
  const s = await signUp(U, 'nia', { email: 'nia@example.test' });
  const b = await api(U, 'POST', '/api/v1/auth/forgot', { body: { username: 'nia' } });
  assert.equal(a.status, 202);
  assert.equal(b.status, 202);
  assert.deepEqual(a.body, b.body);
  const msg = await smtp.waitFor('nia@example.test', /reset code/);
  assert.ok(codeOf(msg));
  assert.ok(s.access);
  assert.equal(smtp.messages.filter((m) => m.to.includes('nobody-here')).length, 0);
});

test('reset by code: 5 wrong tries use the code up; a new code works and ends every session', async () => {
  const s = await signUp(U, 'otto', { email: 'otto@example.test' });
  const tok = await api(U, 'POST', '/api/v1/tokens', { token: s.access, body: { name: 'script' } });
  await api(U, 'POST', '/api/v1/auth/forgot', { body: { email: 'otto@example.test' } });
  const code = codeOf(await smtp.waitFor('otto@example.test', /reset code/));
  const wrongCode = code === '123456' ? '654321' : '123456';
  for (let i = 0; i < 5; i++) {
    const r = await api(U, 'POST', '/api/v1/auth/reset', { body: { username: 'otto', code: wrongCode, new_password: 'brand new pw' } });
    assert.equal(r.status, 400);
    assert.equal(r.body.code, 'invalid_code');
  }
  const used = await api(U, 'POST', '/api/v1/auth/reset', { body: { username: 'otto', code, new_password: 'brand new pw' } });
  assert.equal(used.status, 400);
  assert.equal(used.body.code, 'code_expired');
  await api(U, 'POST', '/api/v1/auth/forgot', { body: { username: 'otto' } });
  const code2 = codeOf(await smtp.waitFor('otto@example.test', /reset code/));
  const weak = await api(U, 'POST', '/api/v1/auth/reset', { body: { username: 'otto', code: code2, new_password: 'short' } });
  assert.equal(weak.status, 400);
  const ok = await api(U, 'POST', '/api/v1/auth/reset', { body: { username: 'otto', code: code2, new_password: 'brand new pw' } });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal((await api(U, 'GET', '/api/v1/account', { token: s.access })).status, 401);
  assert.equal((await api(U, 'GET', '/api/v1/account', { token: tok.body.token })).status, 401);
  assert.equal((await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'otto', password: s.password } })).status, 401);
  assert.equal((await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'otto', password: 'brand new pw' } })).status, 200);
});

test('reset by the mailed token', async () => {
  await signUp(U, 'pia', { email: 'pia@example.test' });
  await api(U, 'POST', '/api/v1/auth/forgot', { body: { username: 'pia' } });
  const token = tokenOf(await smtp.waitFor('pia@example.test', /reset code/));
  assert.match(token, /^cer_/);
  const ok = await api(U, 'POST', '/api/v1/auth/reset', { body: { token, new_password: 'pia new password' } });
  assert.equal(ok.status, 200);
  assert.equal((await api(U, 'POST', '/api/v1/auth/reset', { body: { token, new_password: 'pia other pw' } })).status, 400);
  assert.equal((await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'pia', password: 'pia new password' } })).status, 200);
});

test('mails survive a restart while the SMTP server is down', async () => {
  const down = await startSmtp();
  const port = down.port;
  await down.close(); // nothing listens there now
  const s2 = await startServer({
    env: { CAIRN_MAIL_SMTP_URL: `smtp://127.0.0.1:${port}`, CAIRN_RATELIMIT_PER_ADDRESS: '10000' },
  });
  await signUp(s2.url, 'quin', { email: 'quin@example.test' });
  assert.equal((await api(s2.url, 'POST', '/api/v1/auth/forgot', { body: { username: 'quin' } })).status, 202);
  for (let i = 0; i < 50 && !/mail \d+ to <quin@example.test> failed/.test(s2.log()); i++) await sleep(100);
  assert.match(s2.log(), /failed \(attempt 1\).*will retry/);
  assert.equal((await s2.stop()).code, 0);
  const up = await startSmtp({ port });
  const s3 = await startServer({ dataDir: s2.dir, env: { CAIRN_MAIL_SMTP_URL: `smtp://127.0.0.1:${port}` } });
  const msg = await up.waitFor('quin@example.test', /reset code/, 20000);
  assert.ok(codeOf(msg));
  await s3.cleanup();
  await up.close();
});

test('the reset page and its form: shape of the answers, bad forms, and forms only where a page posts', async () => {
  await signUp(U, 'fia', { email: 'fia@example.test' });
  await api(U, 'POST', '/api/v1/auth/forgot', { body: { username: 'fia' } });
  const msg = await smtp.waitFor('fia@example.test', /reset code/);
  assert.match(msg.body, /choose a new password:\nhttps:\/\/sync\.example\.test\/api\/v1\/auth\/reset\?token=cer_/);
  const token = tokenOf(msg);
  const page = await fetch(`${U}/api/v1/auth/reset?token=${token}`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type'), /^text\/html; charset=utf-8/);
  assert.equal(page.headers.get('cache-control'), 'no-store');
  const html = await page.text();
  assert.ok(html.includes(`name=token value="${token}"`), html);
  assert.ok(html.includes('action=reset'));
  // looking does not use the link
  assert.equal((await fetch(`${U}/api/v1/auth/reset?token=${token}`)).status, 200);
  const form = (body) => fetch(`${U}/api/v1/auth/reset`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body });
  for (const bad of ['token=%zz', `token=${token}&token=${token}`, 'new_password=%00', 'a=%C0%AF']) {
    const r = await form(bad);
    assert.equal(r.status, 400, bad);
    assert.equal((await r.json()).code, 'bad_request', bad);
  }
  const many = await form(Array.from({ length: 100 }, (_, i) => `f${i}=1`).join('&'));
  assert.equal(many.status, 400);
  // a form elsewhere is not JSON: 415, as before
  const elsewhere = await fetch(`${U}/api/v1/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'username=fia&password=x' });
  assert.equal(elsewhere.status, 415);
  // '+' is a space, and the form sets the password
  const set = await form(`token=${token}&new_password=fia+new+password&new_password_again=fia+new+password`);
  assert.equal(set.status, 200);
  assert.match(await set.text(), /Password changed/);
  assert.equal((await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'fia', password: 'fia new password' } })).status, 200);
  const used = await fetch(`${U}/api/v1/auth/reset?token=${token}`);
  assert.equal(used.status, 400);
  assert.match(await used.text(), /does not work/);
});

test('warns at start when links in mails would point at a wildcard address', async () => {
  const wild = await startServer({ args: ['--listen', '0.0.0.0:0'] });
  try {
    assert.match(wild.log(), /server\.public_url is not set.*0\.0\.0\.0/);
  } finally {
    await wild.cleanup();
  }
  const set = await startServer({ args: ['--listen', '0.0.0.0:0'], env: { CAIRN_SERVER_PUBLIC_URL: 'https://sync.example.test' } });
  try {
    assert.doesNotMatch(set.log(), /public_url is not set/);
  } finally {
    await set.cleanup();
  }
});

test('without an SMTP server a mail is logged a line per line, so its link can be copied whole', async () => {
  const quiet = await startServer({ env: { CAIRN_RATELIMIT_PER_ADDRESS: '10000' } });
  try {
    await signUp(quiet.url, 'lola', { email: 'lola@example.test' });
    await api(quiet.url, 'POST', '/api/v1/auth/forgot', { body: { username: 'lola' } });
    let line;
    for (let i = 0; i < 50 && !line; i++) {
      // whole lines only: the last piece may be a line still being written
      line = quiet.log().split('\n').slice(0, -1).find((l) => /auth\/reset\?token=/.test(l));
      if (!line) await sleep(100);
    }
    assert.ok(line, quiet.log());
    const link = /\| (http:\/\/\S+)$/.exec(line);
    assert.ok(link, `the link ends its log line: ${line}`);
    assert.equal((await fetch(link[1])).status, 200, 'the copied link opens the page');
    // written once the outbox records the mail done, a moment after its lines
    await eventually(() => /mail \d+ logged \(not sent\) for <lola@example\.test>/.test(quiet.log()), {
      timeoutMs: 5000,
      what: 'the mail recorded as logged',
    });
  } finally {
    await quiet.cleanup();
  }
});
