// The reference client, cairn sync: real trees through the server into another folder
// and back, edits, renames, deletions and a conflict on both sides, nothing lost.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { api, runCairn, signUp, startServer, tempDir } from './lib/cairn.mjs';

const LIMITS = { CAIRN_RATELIMIT_PER_ADDRESS: '100000', CAIRN_RATELIMIT_PER_ACCOUNT: '100000' };

// type, mode, mtime, size and link target of everything under dir, as find prints them;
// a directory with entries is listed by type and mode (its mtime and size are the
// filesystem's: directories are implied by their files, see docs/sync-client.md)
function listing(dir) {
  const out = execFileSync('find', ['.', '-mindepth', '1', '-path', './.cairn-sync', '-prune', '-o',
    '(', '-type', 'd', '!', '-empty', '-printf', '%P d %m\\n', ')', '-o', '-printf', '%P %y %m %T@ %s %l\\n'], { cwd: dir, maxBuffer: 1 << 26 });
  return out.toString().split('\n').filter(Boolean).sort();
}

async function syncer(U, token) {
  return async (dir, extra = []) => {
    const r = await runCairn(['sync', dir, '--server', U, ...extra], { env: { CAIRN_SYNC_TOKEN: token } });
    const m = /(\d+) up, (\d+) down, (\d+) deleted, (\d+) conflict copies, (\d+) errors, (\d+) requests/.exec(r.stderr);
    return { ...r, up: +m?.[1], down: +m?.[2], deleted: +m?.[3], conflicts: +m?.[4], errors: +m?.[5], requests: +m?.[6] };
  };
}

async function setup() {
  const srv = await startServer({ env: LIMITS });
  const a = await signUp(srv.url, 'ann');
  const t = await api(srv.url, 'POST', '/api/v1/tokens', { token: a.access, body: { name: 'sync' } });
  assert.equal(t.status, 201, JSON.stringify(t.body));
  return { srv, sync: await syncer(srv.url, t.body.token), token: t.body.token };
}

for (const tree of ['/usr/share/doc', '/usr/include'])
test(`${tree} syncs through the server into an empty folder, equal in bytes, types, modes, mtimes and links`, async () => {
  const { srv, sync } = await setup();
  const root = tempDir('cairn-sync-');
  const A = join(root, 'a'), B = join(root, 'b');
  execFileSync('cp', ['-a', tree, A]);
  mkdirSync(join(A, 'an empty dir'));
  let r = await sync(A);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.up > 1000, r.stderr);
  const up = r.up;
  r = await sync(B);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.down, up, 'every file, link and empty directory came down once');
  execFileSync('diff', ['-r', '--no-dereference', A, B]); // throws on a difference
  assert.deepEqual(listing(B), listing(A));
  // nothing changed: a few requests, nothing sent
  r = await sync(A);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.up + r.down + r.deleted, 0, r.stderr);
  assert.ok(r.requests <= 4, r.stderr);
  rmSync(root, { recursive: true, force: true });
  await srv.stop();
});

test('edits, renames and deletions on both sides meet; a conflict keeps both sides', async () => {
  const { srv, sync } = await setup();
  const root = tempDir('cairn-sync-');
  const A = join(root, 'a'), B = join(root, 'b');
  mkdirSync(join(A, 'notes'), { recursive: true });
  writeFileSync(join(A, 'notes/todo.txt'), 'milk\n');
  writeFileSync(join(A, 'notes/plan.md'), '# plan\n');
  writeFileSync(join(A, 'old name.txt'), 'renamed later\n');
  writeFileSync(join(A, 'doomed.txt'), 'deleted later\n');
  writeFileSync(join(A, 'script.sh'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
  symlinkSync('notes/todo.txt', join(A, 'todo-link'));
  assert.equal((await sync(A)).code, 0);
  assert.equal((await sync(B)).code, 0);
  assert.deepEqual(listing(B), listing(A));

  // A: edit, rename, delete; B: a new file, and an edit of the same file as A (conflict)
  writeFileSync(join(A, 'notes/plan.md'), '# plan\nfrom A\n');
  utimesSync(join(A, 'notes/plan.md'), new Date('2026-01-01T00:00:00Z'), new Date('2026-01-01T00:00:00Z'));
  renameSync(join(A, 'old name.txt'), join(A, 'new name.txt'));
  unlinkSync(join(A, 'doomed.txt'));
  writeFileSync(join(B, 'notes/plan.md'), '# plan\nfrom B\n');
  writeFileSync(join(B, 'from-b.txt'), 'hello from B\n');
  let r = await sync(A);
  assert.equal(r.code, 0, r.stderr);
  r = await sync(B);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.conflicts, 1, r.stderr);
  r = await sync(A);
  assert.equal(r.code, 0, r.stderr);
  // both folders hold the same, and both sides of the conflict
  assert.deepEqual(listing(B), listing(A));
  assert.equal(readFileSync(join(A, 'notes/plan.md'), 'utf8'), '# plan\nfrom A\n');
  const copies = readdirSync(join(A, 'notes')).filter((n) => n.startsWith('plan (conflict from '));
  assert.equal(copies.length, 1, readdirSync(join(A, 'notes')).join(', '));
  assert.equal(readFileSync(join(A, 'notes', copies[0]), 'utf8'), '# plan\nfrom B\n');
  assert.ok(existsSync(join(B, 'new name.txt')) && !existsSync(join(B, 'old name.txt')));
  assert.ok(!existsSync(join(B, 'doomed.txt')));
  assert.equal(readFileSync(join(A, 'from-b.txt'), 'utf8'), 'hello from B\n');
  // a file deleted on one side and edited on the other comes back
  unlinkSync(join(A, 'notes/todo.txt'));
  writeFileSync(join(B, 'notes/todo.txt'), 'milk\neggs\n');
  assert.equal((await sync(A)).code, 0);
  assert.equal((await sync(B)).code, 0);
  assert.equal((await sync(A)).code, 0);
  assert.equal(readFileSync(join(A, 'notes/todo.txt'), 'utf8'), 'milk\neggs\n');
  assert.deepEqual(listing(B), listing(A));
  rmSync(root, { recursive: true, force: true });
  await srv.stop();
});

test('the token comes from CAIRN_SYNC_TOKEN or a file, never from the command line', async () => {
  const { srv, token } = await setup();
  const dir = tempDir('cairn-sync-');
  let r = await runCairn(['sync', dir, '--server', srv.url, '--token', token]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /visible to every user/);
  r = await runCairn(['sync', dir, '--server', srv.url]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /CAIRN_SYNC_TOKEN/);
  writeFileSync(join(dir, '..', 'tokfile'), `${token}\n`);
  writeFileSync(join(dir, 'x.txt'), 'x');
  r = await runCairn(['sync', dir, '--server', srv.url, '--token-file', join(dir, '..', 'tokfile')]);
  assert.equal(r.code, 0, r.stderr);
  r = await runCairn(['sync', dir, '--server', srv.url], { env: { CAIRN_SYNC_TOKEN: 'not-a-token' } });
  assert.equal(r.code, 2, r.stderr);
  rmSync(dir, { recursive: true, force: true });
  await srv.stop();
});

test('--watch takes in what others change at once, and what changes here within --interval', async () => {
  const { spawn } = await import('node:child_process');
  const { BIN, baseEnv, checkSanitizer, eventually } = await import('./lib/cairn.mjs');
  const { srv, token } = await setup();
  const root = tempDir('cairn-sync-');
  const A = join(root, 'a');
  mkdirSync(A);
  const w = spawn(BIN, ['sync', A, '--server', srv.url, '--watch', '--interval', '3'], { env: baseEnv({ CAIRN_SYNC_TOKEN: token }), stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  w.stderr.on('data', (d) => { err += d; });
  try {
    await eventually(async () => /0 errors/.test(err), { timeoutMs: 5000, what: 'a first round' });
    // another device writes: the long-poll wakes the watcher
    const t0 = Date.now();
    const res = await fetch(`${srv.url}/api/v1/spaces/me/content/from-server.txt`, { method: 'PUT', headers: { Authorization: `Bearer ${token}` }, body: 'pushed elsewhere\n' });
    assert.equal(res.status, 200);
    await eventually(async () => existsSync(join(A, 'from-server.txt')), { timeoutMs: 5000, what: 'the download' });
    assert.ok(Date.now() - t0 < 3000, `${Date.now() - t0} ms`);
    // a local change goes up at the next scan
    writeFileSync(join(A, 'from-here.txt'), 'written here\n');
    await eventually(async () => (await api(srv.url, 'GET', '/api/v1/spaces/me/files/from-here.txt', { token })).status === 200, { timeoutMs: 8000, what: 'the upload' });
  } finally {
    // a stop ends the wait at once, not at the end of the interval
    const t = Date.now();
    w.kill('SIGTERM');
    await new Promise((r) => w.on('exit', r));
    assert.ok(Date.now() - t < 2500, `stopped after ${Date.now() - t} ms`);
  }
  checkSanitizer(err, 'cairn sync --watch');
  rmSync(root, { recursive: true, force: true });
  await srv.stop();
});

test('a symbolic link in the folder never leads a write outside it', async () => {
  const { srv, sync, token } = await setup();
  const root = tempDir('cairn-sync-');
  const A = join(root, 'a'), outside = join(root, 'outside');
  mkdirSync(A);
  mkdirSync(outside);
  // another device has a file under "out"; here "out" is a link leading out of the folder
  const res = await fetch(`${srv.url}/api/v1/spaces/me/content/out/evil.txt`, { method: 'PUT', headers: { Authorization: `Bearer ${token}` }, body: 'escaped\n' });
  assert.equal(res.status, 200);
  symlinkSync(outside, join(A, 'out'));
  // (the server itself refuses a file under a link it knows)
  const under = await fetch(`${srv.url}/api/v1/spaces/me/files/link`, { method: 'PUT', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ type: 'symlink', target: '/etc' }) });
  assert.equal(under.status, 200);
  assert.equal((await fetch(`${srv.url}/api/v1/spaces/me/content/link/passwd`, { method: 'PUT', headers: { Authorization: `Bearer ${token}` }, body: 'x' })).status, 409);
  const r = await sync(A);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readdirSync(outside), [], 'nothing was written through the link');
  // the server's tree won the name: the link went aside, the file is in a directory here
  assert.equal(readFileSync(join(A, 'out/evil.txt'), 'utf8'), 'escaped\n');
  const aside = readdirSync(A).filter((n) => n.startsWith('out (conflict '));
  assert.equal(aside.length, 1, readdirSync(A).join(', '));
  assert.equal(readlinkSync(join(A, aside[0])), outside);
  rmSync(root, { recursive: true, force: true });
  await srv.stop();
});

test('a file here where the server has a directory, and the reverse, go aside; both sides end alike', async () => {
  const { srv, sync } = await setup();
  const root = tempDir('cairn-sync-');
  const C = join(root, 'c'), D = join(root, 'd');
  mkdirSync(C);
  mkdirSync(join(D, 'x'), { recursive: true });
  writeFileSync(join(C, 'x'), 'a file in C\n');
  writeFileSync(join(D, 'x/y'), 'a file under a directory in D\n');
  assert.equal((await sync(C)).code, 0);
  let r = await sync(D);
  assert.equal(r.code, 0, r.stderr);
  r = await sync(C);
  assert.equal(r.code, 0, r.stderr);
  r = await sync(D);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(listing(D), listing(C));
  // both contents are kept somewhere in the tree
  const texts = execFileSync('grep', ['-rh', '', '--exclude-dir=.cairn-sync', C]).toString();
  assert.match(texts, /a file in C/);
  assert.match(texts, /a file under a directory in D/);
  rmSync(root, { recursive: true, force: true });
  await srv.stop();
});

test('alike links and empty directories on both sides are no conflict; the client\'s own names are never synced; one run per folder', async () => {
  const { srv, sync, token } = await setup();
  const root = tempDir('cairn-sync-');
  const C = join(root, 'c'), D = join(root, 'd');
  for (const X of [C, D]) {
    mkdirSync(join(X, 'empty'), { recursive: true });
    symlinkSync('target', join(X, 'link'));
    writeFileSync(join(X, 'same.txt'), 'same\n');
  }
  assert.equal((await sync(C)).code, 0);
  const r = await sync(D);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.conflicts, 0, r.stderr);
  assert.deepEqual(readdirSync(D).sort(), ['.cairn-sync', 'empty', 'link', 'same.txt']);
  // a path under the client's state directory, put there by someone else, stays there
  const put = await fetch(`${srv.url}/api/v1/spaces/me/content/.cairn-sync/state`, { method: 'PUT', headers: { Authorization: `Bearer ${token}` }, body: 'not a state\n' });
  assert.equal(put.status, 200);
  assert.equal((await sync(D)).code, 0);
  assert.equal((await sync(D)).code, 0, 'the state file was not overwritten');
  assert.equal((await api(srv.url, 'GET', '/api/v1/spaces/me/files/.cairn-sync/state', { token })).status, 200);
  // a second run on a folder in use is refused
  const holder = (await import('node:child_process')).spawn('flock', [join(D, '.cairn-sync', 'lock'), 'sleep', '3']);
  await new Promise((res) => setTimeout(res, 300));
  const busy = await sync(D);
  assert.equal(busy.code, 2, busy.stderr);
  assert.match(busy.stderr, /another cairn sync/);
  holder.kill();
  rmSync(root, { recursive: true, force: true });
  await srv.stop();
});

test('permission bits only: a setuid, setgid or sticky bit from another device is not applied here', async () => {
  const { statSync } = await import('node:fs');
  const { srv, sync, token } = await setup();
  const root = tempDir('cairn-sync-');
  const A = join(root, 'a');
  const res = await fetch(`${srv.url}/api/v1/spaces/me/content/tool?mode=6755`, { method: 'PUT', headers: { Authorization: `Bearer ${token}` }, body: '#!/bin/sh\n' });
  assert.equal(res.status, 200);
  const r = await sync(A);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(statSync(join(A, 'tool')).mode & 0o7777, 0o755);
  // and nothing goes up again for the bits it did not apply
  const again = await sync(A);
  assert.equal(again.up, 0, again.stderr);
  rmSync(root, { recursive: true, force: true });
  await srv.stop();
});

test('a directory entry from another member changes no populated directory here; files nested too deep to scan are not taken for deleted', async () => {
  const { statSync } = await import('node:fs');
  const { srv, sync, token } = await setup();
  const root = tempDir('cairn-sync-');
  const A = join(root, 'a');
  mkdirSync(join(A, 'docs'), { recursive: true });
  writeFileSync(join(A, 'docs/readme.txt'), 'hello\n');
  assert.equal((await sync(A)).code, 0);
  const before = statSync(join(A, 'docs')).mode & 0o777;
  let res = await fetch(`${srv.url}/api/v1/spaces/me/files/docs`, { method: 'PUT', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ type: 'dir', mode: 0 }) });
  assert.equal(res.status, 200);
  let r = await sync(A);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(statSync(join(A, 'docs')).mode & 0o777, before);
  assert.equal((await sync(A)).code, 0);
  // 300 levels deep: written, then not seen by the scan, and never deleted on the server
  const deep = `${'d/'.repeat(300)}deep.txt`;
  res = await fetch(`${srv.url}/api/v1/spaces/me/content/${deep}`, { method: 'PUT', headers: { Authorization: `Bearer ${token}` }, body: 'deep\n' });
  assert.equal(res.status, 200);
  r = await sync(A);
  r = await sync(A);
  assert.equal(r.deleted, 0, r.stderr);
  assert.equal((await api(srv.url, 'GET', `/api/v1/spaces/me/files/${deep}`, { token })).status, 200);
  rmSync(root, { recursive: true, force: true });
  await srv.stop();
});
