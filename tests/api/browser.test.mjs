// The pages at the links in mails, in a real browser (Debian's chromium, driven by
// puppeteer-core): the reset link opens a form that sets the password without any
// script; the confirmation link confirms.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import puppeteer from 'puppeteer-core';
import { api, signUp, startServer } from './lib/cairn.mjs';
import { startSmtp, tokenOf } from './lib/smtp.mjs';

// Debian's package, Ubuntu's snap, or CAIRN_CHROMIUM
const CHROMIUM = process.env.CAIRN_CHROMIUM || ['/usr/bin/chromium', '/snap/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

let smtp;
let srv;
let U;
let browser;

before(async () => {
  assert.ok(CHROMIUM, 'chromium is not installed: make test installs it (scripts/deps.sh test)');
  smtp = await startSmtp();
  srv = await startServer({
    env: {
      CAIRN_MAIL_SMTP_URL: smtp.url,
      CAIRN_MAIL_FROM: 'noreply@cairn.test',
      CAIRN_RATELIMIT_PER_ADDRESS: '10000',
      CAIRN_RATELIMIT_PER_ACCOUNT: '10000',
    },
  });
  U = srv.url;
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
});
after(async () => {
  await browser?.close();
  await srv?.cleanup();
  await smtp?.close();
});

// A fresh page that records what the browser complains about (CSP violations, errors).
async function openPage() {
  const page = await browser.newPage();
  page.problems = [];
  // (a 4xx page is reported as a failed load: that one is expected, and checked by status)
  page.on('console', (m) => m.type() === 'error' && !/^Failed to load resource/.test(m.text()) && page.problems.push(m.text()));
  page.on('pageerror', (e) => page.problems.push(String(e)));
  return page;
}

const text = (page, sel) => page.$eval(sel, (el) => el.textContent);

async function submit(page, pw, again) {
  await page.$eval('#new_password', (el) => (el.value = ''));
  await page.$eval('#new_password_again', (el) => (el.value = ''));
  await page.type('#new_password', pw);
  await page.type('#new_password_again', again);
  const [res] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  return res;
}

test('the reset link opens a page whose form sets the new password', async () => {
  const s = await signUp(U, 'br1', { email: 'br1@example.test' });
  await api(U, 'POST', '/api/v1/auth/forgot', { body: { username: 'br1' } });
  const token = tokenOf(await smtp.waitFor('br1@example.test', /reset code/));
  const link = `${U}/api/v1/auth/reset?token=${token}`;
  const page = await openPage();
  const first = await page.goto(link);
  assert.equal(first.status(), 200);
  assert.match(first.headers()['content-security-policy'], /default-src 'none'/);
  assert.equal(first.headers()['referrer-policy'], 'no-referrer');
  assert.equal(await text(page, 'h1'), 'Choose a new password');
  assert.equal(await page.$$eval('script', (x) => x.length), 0, 'no script on the page');

  let res = await submit(page, 'one new password', 'another password');
  assert.equal(res.status(), 400);
  assert.match(await text(page, '#message'), /differ/);
  res = await submit(page, 'short', 'short');
  assert.equal(res.status(), 400);
  assert.match(await text(page, '#message'), /The new password .*\d/);
  // the old password still works: nothing was changed yet
  assert.equal((await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'br1', password: s.password } })).status, 200);
  res = await submit(page, 'my brand new password', 'my brand new password');
  assert.equal(res.status(), 200);
  assert.equal(await text(page, 'h1'), 'Password changed');
  assert.deepEqual(page.problems, []);
  assert.equal((await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'br1', password: 'my brand new password' } })).status, 200);
  assert.equal((await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'br1', password: s.password } })).status, 401);
  // used: the link no longer works
  const again = await page.goto(link);
  assert.equal(again.status(), 400);
  assert.equal(await text(page, 'h1'), 'This link does not work');
  await page.close();
});

test('a link that is not ours shows an error page and echoes nothing', async () => {
  const page = await openPage();
  const evil = encodeURIComponent('cer_"><img src=x onerror=alert(1)>');
  const res = await page.goto(`${U}/api/v1/auth/reset?token=${evil}`);
  assert.equal(res.status(), 400);
  assert.equal(await text(page, 'h1'), 'This link does not work');
  assert.equal(await page.$$eval('img', (x) => x.length), 0);
  assert.ok(!(await page.content()).includes('onerror'));
  await page.close();
});

test('the confirmation link confirms the address in a browser', async () => {
  const admin = await startServer({ args: ['--admin-user', 'root', '--admin-pass', 'root password 1'], env: { CAIRN_MAIL_SMTP_URL: smtp.url, CAIRN_MAIL_FROM: 'noreply@cairn.test' } });
  try {
    const root = (await api(admin.url, 'POST', '/api/v1/auth/login', { body: { username: 'root', password: 'root password 1' } })).body.access_token;
    await api(admin.url, 'POST', '/api/v1/admin/realms', { token: root, body: { name: 'strict', confirm_email: true } });
    await api(admin.url, 'POST', '/api/v1/auth/register', { body: { username: 'br2', password: 'br2 password', email: 'br2@example.test', realm: 'strict' } });
    const token = tokenOf(await smtp.waitFor('br2@example.test', /confirmation code/));
    const page = await openPage();
    const res = await page.goto(`${admin.url}/api/v1/auth/confirm?token=${token}`);
    assert.equal(res.status(), 200);
    assert.equal(await text(page, 'h1'), 'Address confirmed');
    assert.deepEqual(page.problems, []);
    await page.close();
    const login = await api(admin.url, 'POST', '/api/v1/auth/login', { body: { username: 'br2', password: 'br2 password', realm: 'strict' } });
    assert.equal(login.status, 200);
  } finally {
    await admin.cleanup();
  }
});
