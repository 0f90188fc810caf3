// Oktosync's protocol under /compat/oktosync (issue 16): its texts, registration with a
// public key (its validation and answers), and uploads stored through file sync, with a
// token or, when the operator allows it, without; paths confined either way.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { api, rawRequest, signUp, startServer } from '../../api/lib/cairn.mjs';

const LIMITS = { CAIRN_RATELIMIT_PER_ADDRESS: '100000', CAIRN_RATELIMIT_PER_ACCOUNT: '100000' };

const reg = (B, body, type = 'application/json') => fetch(`${B}/register`, { method: 'POST', headers: { 'Content-Type': type }, body: typeof body === 'string' ? body : JSON.stringify(body) })
  .then(async (r) => ({ status: r.status, text: await r.text(), type: r.headers.get('content-type') || '' }));
const upload = (B, { token, path, data, fields } = {}) => {
  const f = new FormData();
  if (data !== undefined) f.append('file', new Blob([data]), 'x.bin');
  if (path !== undefined) f.append('path', path);
  for (const [k, v] of fields || []) f.append(k, v);
  return fetch(`${B}/upload`, { method: 'POST', headers: token ? { Authorization: `Bearer ${token}` } : {}, body: f }).catch((e) => { throw new Error(`upload ${path}: ${e.cause}`); })
    .then(async (r) => ({ status: r.status, text: await r.text() }));
};

test("its texts, and registration: validation in its order, its answers, the key kept as the user's public key", async () => {
  const srv = await startServer({ env: LIMITS });
  const B = `${srv.url}/compat/oktosync`;
  try {
    assert.equal(await (await fetch(`${B}/`)).text(), '🐙 Welcome to OktoSync!');
    const h = await fetch(`${B}/health`);
    assert.equal(await h.text(), '👌 Up an running!');
    assert.match(h.headers.get('content-type'), /^text\/plain/);
    const raw = randomBytes(32).toString('base64');
    let r = await reg(B, { username: 'octavia', email: 'o@example.com', public_key: raw });
    assert.deepEqual([r.status, JSON.parse(r.text)], [201, { status: 'success' }]);
    // OpenSSH and PEM keys too
    const ed = generateKeyPairSync('ed25519');
    const ssh = ed.publicKey.export({ format: 'jwk' });
    const blob = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 32]), Buffer.from(ssh.x, 'base64url')]);
    r = await reg(B, { username: 'sshuser', email: 's@example.com', public_key: `ssh-ed25519 ${blob.toString('base64')} me@laptop` });
    assert.equal(r.status, 201, r.text);
    const pem = ed.publicKey.export({ type: 'spki', format: 'pem' });
    r = await reg(B, { username: 'pemuser', email: 'p@example.com', public_key: pem });
    assert.equal(r.status, 201, r.text);
    // the key is the user's public key in Cairn
    const ann = await signUp(srv.url, 'annette');
    const k = await api(srv.url, 'GET', '/api/v1/users/octavia/public-key', { token: ann.access });
    assert.equal(k.body.public_key, raw);
    // refusals, in its order and shapes
    const bad = [
      [{ username: 'short', email: 'x@example.com', public_key: raw }, /at least 6/],
      [{ username: 'spaces here', email: 'x@example.com', public_key: raw }, /username/],
      [{ username: 'validname', email: 'not-an-email', public_key: raw }, /email/],
      [{ username: 'validname', email: 'x@example.com', public_key: randomBytes(31).toString('base64') }, /public_key/],
      [{ username: 'validname', email: 'x@example.com', public_key: 'ssh-ed25519 AAAA' }, /public_key/],
    ];
    for (const [body, re] of bad) {
      r = await reg(B, body);
      assert.equal(r.status, 400, JSON.stringify(body));
      const j = JSON.parse(r.text);
      assert.equal(j.status, 'failure');
      assert.equal(j.error, 'Invalid input data.');
      assert.match(j.details, re);
    }
    r = await reg(B, { username: 'octavia', email: 'other@example.com', public_key: raw });
    assert.deepEqual(JSON.parse(r.text), { status: 'failure', error: 'Username already taken.' });
    r = await reg(B, { username: 'octavia2', email: 'O@example.com', public_key: raw });
    assert.deepEqual(JSON.parse(r.text), { status: 'failure', error: 'Email already taken.' });
    // its framework's rejections: plain text
    assert.equal((await reg(B, '{}', 'text/plain')).status, 415);
    assert.equal((await reg(B, '{"username":')).status, 400);
    r = await reg(B, { username: 'validname', email: 'x@example.com' });
    assert.equal(r.status, 422);
    assert.match(r.type, /^text\/plain/);
    r = await fetch(`${B}/nothing`);
    assert.deepEqual([r.status, await r.text()], [404, '']);
    r = await fetch(`${B}/register`);
    assert.deepEqual([r.status, await r.text()], [405, '']);
    // nothing of the refused ones was stored: their names are free
    assert.equal((await reg(B, { username: 'validname', email: 'x@example.com', public_key: raw })).status, 201);
  } finally {
    await srv.stop();
  }
});

test('uploads: with a token into the caller\'s space "oktosync", through file sync (chunks, versions); confined paths; anonymous only when allowed', async () => {
  const srv = await startServer({ env: { ...LIMITS, CAIRN_OKTOSYNC_MAX_UPLOAD_BYTES: '8MiB' } });
  const U = srv.url, B = `${U}/compat/oktosync`;
  try {
    const ann = await signUp(U, 'annette');
    // without a token (anonymous uploads are off): refused before the body is read (so a
    // raw request: a fetch still writing its body sees the connection close)
    const body = '--b\r\nContent-Disposition: form-data; name="path"\r\n\r\na.txt\r\n--b\r\nContent-Disposition: form-data; name="file"; filename="x"\r\n\r\nx\r\n--b--\r\n';
    const raw = await rawRequest(srv.port, `POST /compat/oktosync/upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    assert.equal(raw.status, 401, 'without a token (anonymous uploads are off)');
    let r;
    const big = randomBytes(3 * 1024 * 1024);
    r = await upload(B, { token: ann.access, path: 'docs/big.bin', data: big });
    assert.deepEqual([r.status, r.text], [200, '']);
    r = await upload(B, { token: ann.access, path: 'docs/big.bin', data: Buffer.concat([big, Buffer.from('more')]), fields: [['note', 'dropped']] });
    assert.equal(r.status, 200);
    const sp = (await api(U, 'GET', '/api/v1/spaces', { token: ann.access })).body.spaces.find((s) => s.name === 'oktosync');
    const got = Buffer.from(await (await fetch(`${U}/api/v1/spaces/${sp.id}/content/docs/big.bin`, { headers: { Authorization: `Bearer ${ann.access}` } })).arrayBuffer());
    assert.equal(createHash('sha256').update(got).digest('hex'), createHash('sha256').update(Buffer.concat([big, Buffer.from('more')])).digest('hex'));
    const versions = await api(U, 'GET', `/api/v1/spaces/${sp.id}/files/docs/big.bin?versions=1`, { token: ann.access });
    const file = await api(U, 'GET', `/api/v1/spaces/${sp.id}/files/docs/big.bin`, { token: ann.access });
    assert.equal(file.status, 200);
    assert.ok(file.body.chunks.length >= 1);
    assert.ok(file.body.version > 1 || versions.status === 200, 'a second version');
    // confined paths, whatever the setting
    for (const path of ['../escape', '/etc/passwd', 'a/../../b', 'a//b', '']) {
      r = await upload(B, { token: ann.access, path, data: 'x' });
      assert.equal(r.status, 400, path);
      assert.equal(JSON.parse(r.text).status, 'failure');
    }
    // missing parts, too large
    assert.equal((await upload(B, { token: ann.access, data: 'x' })).status, 400);
    assert.equal((await upload(B, { token: ann.access, path: 'p' })).status, 400);
    // too large: refused from its Content-Length, before the body
    const head = await rawRequest(srv.port, `POST /compat/oktosync/upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ann.access}\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: ${9 * 1024 * 1024}\r\n\r\n`);
    assert.equal(head.status, 413);
  } finally {
    await srv.stop();
  }
  // anonymous uploads, when the operator allows them, go to the named user's space
  const open = await startServer({ env: { ...LIMITS, CAIRN_OKTOSYNC_ANONYMOUS_UPLOAD: 'yes', CAIRN_OKTOSYNC_ANONYMOUS_USER: 'dropbox' } });
  try {
    const body = '--b\r\nContent-Disposition: form-data; name="path"\r\n\r\nin.txt\r\n--b--\r\n';
    const raw = await rawRequest(open.port, `POST /compat/oktosync/upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    assert.equal(raw.status, 503, 'the user does not exist yet');
    let r;
    const box = await signUp(open.url, 'dropbox');
    r = await upload(`${open.url}/compat/oktosync`, { path: 'in/drop.txt', data: 'dropped in' });
    assert.equal(r.status, 200, r.text);
    const sp = (await api(open.url, 'GET', '/api/v1/spaces', { token: box.access })).body.spaces.find((s) => s.name === 'oktosync');
    const t = await (await fetch(`${open.url}/api/v1/spaces/${sp.id}/content/in/drop.txt`, { headers: { Authorization: `Bearer ${box.access}` } })).text();
    assert.equal(t, 'dropped in');
    assert.equal((await upload(`${open.url}/compat/oktosync`, { path: '../x', data: 'x' })).status, 400);
  } finally {
    await open.stop();
  }
});

test('after the attack review: a key that cannot be stored is refused before the account exists; one path field; a disabled anonymous user takes nothing', async () => {
  const { runCairn } = await import('../../api/lib/cairn.mjs');
  const srv = await startServer({ env: { ...LIMITS, CAIRN_OKTOSYNC_ANONYMOUS_UPLOAD: 'yes', CAIRN_OKTOSYNC_ANONYMOUS_USER: 'dropbox' } });
  const U = srv.url, B = `${U}/compat/oktosync`;
  try {
    const ed = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
    const blob = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 32]), Buffer.from(ed.x, 'base64url')]).toString('base64');
    let r = await reg(B, { username: 'keyuser', email: 'k@example.com', public_key: `ssh-ed25519 ${blob} \u0001evil` });
    assert.equal(r.status, 400, r.text);
    r = await reg(B, { username: 'keyuser', email: 'k@example.com', public_key: `ssh-ed25519 ${blob} fine` });
    assert.equal(r.status, 201, 'the name was not taken by the refused one');
    // keys that only look like keys
    for (const k of ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5', '-----BEGIN NOT A PUBLIC KEY OK-----\nAAAA\n-----END PRIVATE KEY-----']) {
      r = await reg(B, { username: 'keyuser2', email: 'k2@example.com', public_key: k });
      assert.equal(r.status, 400, k);
    }
    // two path fields: none is taken
    const box = await signUp(U, 'dropbox');
    const f = new FormData();
    f.append('path', 'foo');
    f.append('path', 'bar');
    f.append('file', new Blob(['x']), 'x');
    r = await fetch(`${B}/upload`, { method: 'POST', body: f });
    assert.equal(r.status, 400);
    // a disabled anonymous user
    const d = await runCairn(['user', 'disable', 'dropbox', '--data', srv.dir]);
    assert.equal(d.code, 0, d.stderr);
    const body = '--b\r\nContent-Disposition: form-data; name="path"\r\n\r\nx.txt\r\n--b--\r\n';
    await new Promise((res) => setTimeout(res, 1100)); // another process's change: the cache's second
    const raw = await rawRequest(srv.port, `POST /compat/oktosync/upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    assert.equal(raw.status, 503);
    void box;
  } finally {
    await srv.stop();
  }
});
