// Requests that race each other over the same thing: whatever the interleaving, the
// outcome is one a sequence of the same requests could have had.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { api, signUp, startServer } from './lib/cairn.mjs';
import { startSmtp, codeOf } from './lib/smtp.mjs';

let srv;
let U;
let smtp;
before(async () => {
  smtp = await startSmtp();
  srv = await startServer({
    env: {
      // many workers, so that racing requests really run at once
      CAIRN_SERVER_THREADS: '16',
      CAIRN_RATELIMIT_PER_ADDRESS: '100000',
      CAIRN_RATELIMIT_PER_ACCOUNT: '100000',
      CAIRN_MAIL_SMTP_URL: smtp.url,
      CAIRN_MAIL_FROM: 'noreply@cairn.test',
    },
  });
  U = srv.url;
});
after(async () => {
  await srv.cleanup();
  await smtp.close();
});

const sha = (b) => createHash('sha256').update(b).digest('hex');
const putBlob = (token, bytes) => fetch(`${U}/api/v1/blobs/${sha(bytes)}`, { method: 'PUT', headers: { Authorization: `Bearer ${token}` }, body: bytes });

test('a push naming a blob and a release of it never both succeed', async () => {
  const s = await signUp(U, 'rc-blob');
  // 255 blobs named along with the one released make the push's checks take a while
  const fillers = [];
  for (let i = 0; i < 255; i++) {
    const b = randomBytes(64);
    assert.equal((await putBlob(s.access, b)).status, 201);
    fillers.push(sha(b));
  }
  const outcomes = new Set();
  for (let round = 0; round < 30; round++) {
    const victim = randomBytes(64);
    assert.equal((await putBlob(s.access, victim)).status, 201);
    const push = api(U, 'POST', '/api/v1/spaces/me/changes', {
      token: s.access,
      body: { changes: [0, 1, 2, 3].map((k) => ({ op_id: `rc${round}-${k}`, collection: 'c', id: `r${round}-${k}`, op: 'put', data: {}, blobs: k === 0 ? [sha(victim), ...fillers] : fillers })) },
    });
    await new Promise((r) => setTimeout(r, round % 3));
    const release = api(U, 'DELETE', `/api/v1/blobs/${sha(victim)}`, { token: s.access });
    const [p, d] = await Promise.all([push, release]);
    outcomes.add(`${p.status} ${d.status}`);
    assert.ok(!(p.status === 200 && d.status === 204), `round ${round}: the push and the release both went through`);
    assert.ok((p.status === 200 && d.status === 409) || (p.status === 400 && d.status === 204), `round ${round}: ${p.status} ${d.status}`);
  }
});

test('a role change racing a removal never puts the member back; two adds of one user give one 409', async () => {
  const owner = await signUp(U, 'rc-own');
  await signUp(U, 'rc-mem');
  const sp = (await api(U, 'POST', '/api/v1/spaces', { token: owner.access, body: { name: 'race', kind: 'shared' } })).body.space;
  const members = async () => (await api(U, 'GET', `/api/v1/spaces/${sp.id}/members`, { token: owner.access })).body.members.map((m) => m.username);
  for (let round = 0; round < 25; round++) {
    const adds = await Promise.all([0, 1].map(() => api(U, 'POST', `/api/v1/spaces/${sp.id}/members`, { token: owner.access, body: { username: 'rc-mem', role: 'writer' } })));
    assert.deepEqual(adds.map((a) => a.status).sort(), [200, 409], `round ${round}: ${adds.map((a) => a.status)}`);
    const [del, patch] = await Promise.all([
      api(U, 'DELETE', `/api/v1/spaces/${sp.id}/members/rc-mem`, { token: owner.access }),
      api(U, 'PATCH', `/api/v1/spaces/${sp.id}/members/rc-mem`, { token: owner.access, body: { role: 'reader' } }),
    ]);
    assert.equal(del.status, 204);
    assert.ok(patch.status === 200 || patch.status === 404, `round ${round}: ${patch.status}`);
    assert.ok(!(await members()).includes('rc-mem'), `round ${round}: removed, yet a member again`);
  }
});

test('concurrent guesses at a reset code are compared at most 5 times in all', async () => {
  await signUp(U, 'rc-code', { email: 'rc-code@example.test' });
  await api(U, 'POST', '/api/v1/auth/forgot', { body: { username: 'rc-code' } });
  const code = codeOf(await smtp.waitFor('rc-code@example.test', /reset code/));
  const wrong = code === '000000' ? '111111' : '000000';
  // 40 connections opened first, then every request written at once
  const body = JSON.stringify({ username: 'rc-code', code: wrong, new_password: 'a new password' });
  const req = `POST /api/v1/auth/reset HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
  const socks = await Promise.all(Array.from({ length: 40 }, () => new Promise((resolve, reject) => {
    const c = net.connect(srv.port, '127.0.0.1', () => resolve(c));
    c.on('error', reject);
  })));
  const texts = socks.map((c) => new Promise((resolve) => {
    let t = '';
    c.on('data', (d) => (t += d));
    c.on('close', () => resolve(t));
  }));
  for (const c of socks) c.write(req);
  const answers = (await Promise.all(texts)).map((t) => ({ status: Number(t.slice(9, 12)), body: JSON.parse(t.slice(t.indexOf('\r\n\r\n') + 4)) }));
  const checked = answers.filter((a) => a.body.code === 'invalid_code').length;
  assert.ok(checked <= 5, `${checked} wrong codes were compared`);
  assert.ok(answers.every((a) => a.status === 400), answers.map((a) => a.status).join());
  // the tries are used up: the right code no longer works
  const right = await api(U, 'POST', '/api/v1/auth/reset', { body: { username: 'rc-code', code, new_password: 'a new password' } });
  assert.equal(right.body.code, checked === 5 ? 'code_expired' : right.body.code);
  if (checked === 5) assert.equal(right.status, 400);
});

test('writes to a space racing its deletion answer 404, never 500', async () => {
  const owner = await signUp(U, 'rc-del');
  await signUp(U, 'rc-del2');
  for (let round = 0; round < 20; round++) {
    const sp = (await api(U, 'POST', '/api/v1/spaces', { token: owner.access, body: { name: `d${round}`, kind: 'shared' } })).body.space;
    const answers = await Promise.all([
      api(U, 'POST', `/api/v1/spaces/${sp.id}/members`, { token: owner.access, body: { username: 'rc-del2', role: 'reader' } }),
      api(U, 'PUT', `/api/v1/spaces/${sp.id}/collections/c${round}`, { token: owner.access, body: { conflict: 'lww' } }),
      api(U, 'DELETE', `/api/v1/spaces/${sp.id}`, { token: owner.access }),
    ]);
    for (const a of answers) assert.ok(a.status < 500, `round ${round}: ${a.status} ${JSON.stringify(a.body)}`);
  }
});

test('sign-ups racing for one address: one wins, every other is told the address is taken', async () => {
  for (let round = 0; round < 3; round++) {
    const mail = `race${round}-${Date.now()}@example.test`;
    const rs = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        api(U, 'POST', '/api/v1/auth/register', { body: { username: `racer${round}x${i}${Date.now() % 1000}`, password: 'correct horse battery', email: mail } }),
      ),
    );
    assert.equal(rs.filter((r) => r.status === 201).length, 1);
    for (const r of rs.filter((x) => x.status !== 201)) {
      assert.equal(r.status, 409);
      assert.equal(r.body.code, 'email_taken');
    }
  }
});
