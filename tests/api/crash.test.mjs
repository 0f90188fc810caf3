// Writers push while the server is killed with SIGKILL at random moments. After every
// restart: each acknowledged change is there with the number it was given, no batch is
// partly there, and the sequence has no gap. Bounded: a few rounds of well under a second.
import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { api, sleep, startServer, tempDir } from './lib/cairn.mjs';

const ROUNDS = Number(process.env.CAIRN_CRASH_ROUNDS || 6);
const WRITERS = 4;
const BATCH = 10;

async function readAll(url, token, space) {
  const all = [];
  let since = 0;
  for (;;) {
    const p = await api(url, 'GET', `/api/v1/spaces/${space}/changes?since=${since}&limit=1000`, { token });
    assert.equal(p.status, 200);
    all.push(...p.body.changes);
    since = p.body.next;
    if (!p.body.more) return { all, head: p.body.head_seq };
  }
}

test(`SIGKILL during pushes loses nothing acknowledged and leaves no partial batch (${ROUNDS} rounds)`, async () => {
  const dir = tempDir('cairn-crash-');
  const env = { CAIRN_RATELIMIT_PER_ADDRESS: '100000', CAIRN_RATELIMIT_PER_ACCOUNT: '100000' };
  let srv = await startServer({ dataDir: dir, env });
  await api(srv.url, 'POST', '/api/v1/auth/register', { body: { username: 'crash', password: 'crash password' } });
  // long-lived tokens survive restarts and need no refresh
  const login = await api(srv.url, 'POST', '/api/v1/auth/login', { body: { username: 'crash', password: 'crash password' } });
  const tokens = [];
  for (let w = 0; w < WRITERS; w++) {
    const t = await api(srv.url, 'POST', '/api/v1/tokens', { token: login.body.access_token, body: { name: `writer ${w}` } });
    tokens.push(t.body.token);
  }
  const acked = new Map(); // op_id -> seq, for every acknowledged change
  const batches = []; // every batch ever sent: [op_ids]
  let counter = 0;
  for (let round = 0; round < ROUNDS; round++) {
    let stop = false;
    const writers = tokens.map(async (token, w) => {
      while (!stop) {
        const ops = Array.from({ length: BATCH }, (_, k) => ({
          op_id: `r${round}-w${w}-${++counter}-${k}`, collection: 'c', id: `w${w}-${counter % 20}`, op: 'put', data: { round, w, k },
        }));
        batches.push(ops.map((o) => o.op_id));
        let r;
        try {
          r = await api(srv.url, 'POST', '/api/v1/spaces/me/changes', { token, body: { changes: ops } });
        } catch {
          return; // the server died under us: this batch may or may not have landed
        }
        if (r.status !== 200) return;
        for (const res of r.body.results) acked.set(res.op_id, res.seq);
      }
    });
    await sleep(100 + Math.floor(Math.random() * 400));
    srv.proc.kill('SIGKILL');
    stop = true;
    await srv.exited;
    await Promise.all(writers);
    srv = await startServer({ dataDir: dir, env });
    const { all, head } = await readAll(srv.url, tokens[0], 'me');
    // gapless: 1..head, each once
    assert.deepEqual(all.map((c) => c.seq), Array.from({ length: head }, (_, i) => i + 1), `round ${round}`);
    const bySeq = new Map(all.map((c) => [c.op_id, c.seq]));
    for (const [opId, seq] of acked) assert.equal(bySeq.get(opId), seq, `acknowledged ${opId} lost or renumbered in round ${round}`);
    for (const b of batches) {
      const present = b.filter((id) => bySeq.has(id)).length;
      assert.ok(present === 0 || present === b.length, `batch ${b[0]} is partly there (${present}/${b.length})`);
    }
  }
  assert.ok(acked.size > 0, 'no push was acknowledged at all');
  console.log(`crash test: ${acked.size} changes acknowledged in ${batches.length} batches over ${ROUNDS} kills`);
  await srv.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

test(`SIGKILL during blob uploads loses no acknowledged blob and leaves the store consistent (${ROUNDS} rounds)`, async () => {
  const { createHash, randomBytes } = await import('node:crypto');
  const { runCairn } = await import('./lib/cairn.mjs');
  const dir = tempDir('cairn-crash-blobs-');
  const env = { CAIRN_RATELIMIT_PER_ADDRESS: '100000', CAIRN_RATELIMIT_PER_ACCOUNT: '100000' };
  let srv = await startServer({ dataDir: dir, env });
  await api(srv.url, 'POST', '/api/v1/auth/register', { body: { username: 'crash', password: 'crash password' } });
  const login = await api(srv.url, 'POST', '/api/v1/auth/login', { body: { username: 'crash', password: 'crash password' } });
  const token = (await api(srv.url, 'POST', '/api/v1/tokens', { token: login.body.access_token, body: { name: 'uploader' } })).body.token;
  const acked = new Map(); // sha256 -> bytes, for every acknowledged upload
  for (let round = 0; round < ROUNDS; round++) {
    let stop = false;
    const uploaders = [0, 1, 2].map(async () => {
      while (!stop) {
        const bytes = randomBytes(64 * 1024 + Math.floor(Math.random() * 2 * 1024 * 1024));
        const h = createHash('sha256').update(bytes).digest('hex');
        let res;
        try {
          res = await fetch(`${srv.url}/api/v1/blobs/${h}`, { method: 'PUT', headers: { Authorization: `Bearer ${token}` }, body: bytes });
          await res.arrayBuffer();
        } catch {
          return;
        }
        if (res.status === 201) acked.set(h, bytes);
        else return;
      }
    });
    await sleep(100 + Math.floor(Math.random() * 400));
    srv.proc.kill('SIGKILL');
    stop = true;
    await srv.exited;
    await Promise.all(uploaders);
    srv = await startServer({ dataDir: dir, env });
    for (const [h, bytes] of acked) {
      const res = await fetch(`${srv.url}/api/v1/blobs/${h}`, { headers: { Authorization: `Bearer ${token}` } });
      assert.equal(res.status, 200, `acknowledged blob ${h} lost in round ${round}`);
      assert.ok(Buffer.from(await res.arrayBuffer()).equals(bytes), `blob ${h} damaged in round ${round}`);
    }
    // every recorded blob is whole; files cut off before their commit are at most recent orphans
    const check = await runCairn(['check', '--data', dir]);
    assert.equal(check.code, 0, check.stdout);
    assert.deepEqual(readdirSync(join(dir, 'blobs', 'tmp')), []);
  }
  assert.ok(acked.size > 0, 'no upload was acknowledged at all');
  console.log(`crash test: ${acked.size} blobs acknowledged over ${ROUNDS} kills`);
  await srv.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

test(`SIGKILL during chunk batches, manifest commits and content uploads loses no acknowledged file and leaves no manifest naming a missing chunk (${ROUNDS} rounds)`, async () => {
  const { createHash, randomBytes } = await import('node:crypto');
  const { runCairn } = await import('./lib/cairn.mjs');
  const sha = (b) => createHash('sha256').update(b).digest('hex');
  const dir = tempDir('cairn-crash-files-');
  const env = { CAIRN_RATELIMIT_PER_ADDRESS: '100000', CAIRN_RATELIMIT_PER_ACCOUNT: '100000',
    CAIRN_FILES_CHUNK_MIN: '4KiB', CAIRN_FILES_CHUNK_AVG: '16KiB', CAIRN_FILES_CHUNK_MAX: '64KiB' };
  let srv = await startServer({ dataDir: dir, env });
  await api(srv.url, 'POST', '/api/v1/auth/register', { body: { username: 'crash', password: 'crash password' } });
  const login = await api(srv.url, 'POST', '/api/v1/auth/login', { body: { username: 'crash', password: 'crash password' } });
  const token = (await api(srv.url, 'POST', '/api/v1/tokens', { token: login.body.access_token, body: { name: 'files' } })).body.token;
  const auth = { Authorization: `Bearer ${token}` };
  const acked = new Map(); // path -> bytes, for every acknowledged file
  let n = 0;
  for (let round = 0; round < ROUNDS; round++) {
    let stop = false;
    // small files: their chunks in one batch, then their manifests in one push
    const batcher = (async () => {
      while (!stop) {
        const files = [];
        for (let i = 0; i < 20; i++) files.push({ path: `small/${++n}.txt`, bytes: randomBytes(100 + Math.floor(Math.random() * 3000)) });
        const body = Buffer.concat(files.flatMap((f) => [Buffer.from(`${sha(f.bytes)} ${f.bytes.length}\n`), f.bytes]));
        try {
          let res = await fetch(`${srv.url}/api/v1/blobs/batch`, { method: 'POST', headers: auth, body });
          if (res.status !== 200) return;
          const out = await res.json();
          if (!out.results.every((x) => x.status === 'stored' || x.status === 'had')) throw new Error(JSON.stringify(out));
          const changes = files.map((f) => ({ op_id: `c-${f.path}`, collection: 'files', id: sha(Buffer.from(f.path)), op: 'put',
            data: { path: f.path, type: 'file', size: f.bytes.length, sha256: sha(f.bytes), chunks: [{ sha256: sha(f.bytes), size: f.bytes.length }] } }));
          res = await fetch(`${srv.url}/api/v1/spaces/me/changes`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: JSON.stringify({ changes }) });
          if (res.status !== 200) return;
          const r = await res.json();
          r.results.forEach((x, i) => { if (x.status === 'applied') acked.set(files[i].path, files[i].bytes); });
        } catch (e) {
          if (e.message.startsWith('{')) throw e;
          return;
        }
      }
    })();
    // large files: streamed, cut by the server
    const putter = (async () => {
      while (!stop) {
        const path = `big/${++n}.bin`;
        const bytes = randomBytes(200_000 + Math.floor(Math.random() * 800_000));
        try {
          const res = await fetch(`${srv.url}/api/v1/spaces/me/content/${path}`, { method: 'PUT', headers: auth, body: bytes });
          await res.arrayBuffer();
          if (res.status === 200) acked.set(path, bytes);
          else return;
        } catch {
          return;
        }
      }
    })();
    await sleep(150 + Math.floor(Math.random() * 400));
    srv.proc.kill('SIGKILL');
    stop = true;
    await srv.exited;
    await Promise.all([batcher, putter]);
    srv = await startServer({ dataDir: dir, env });
    for (const [path, bytes] of acked) {
      const res = await fetch(`${srv.url}/api/v1/spaces/me/content/${path}`, { headers: { ...auth, 'Accept-Encoding': 'identity' } });
      assert.equal(res.status, 200, `acknowledged file ${path} lost in round ${round}`);
      assert.ok(Buffer.from(await res.arrayBuffer()).equals(bytes), `file ${path} damaged in round ${round}`);
    }
    // every file the server lists, acknowledged or not, reads back whole: no manifest
    // names a chunk that is not there
    let after = '';
    for (;;) {
      const page = await api(srv.url, 'GET', `/api/v1/spaces/me/files?limit=1000&after=${encodeURIComponent(after)}`, { token });
      for (const f of page.body.files) {
        const res = await fetch(`${srv.url}/api/v1/spaces/me/content/${f.path}`, { headers: { ...auth, 'Accept-Encoding': 'identity' } });
        assert.equal(res.status, 200, `${f.path} is listed but cannot be read`);
        assert.equal(sha(Buffer.from(await res.arrayBuffer())), f.sha256, `${f.path} reads back other bytes`);
      }
      if (!page.body.more) break;
      after = page.body.next;
    }
    const check = await runCairn(['check', '--data', dir]);
    assert.equal(check.code, 0, check.stdout);
    assert.deepEqual(readdirSync(join(dir, 'blobs', 'tmp')), []);
  }
  assert.ok(acked.size > 0, 'no file was acknowledged at all');
  console.log(`crash test: ${acked.size} files acknowledged over ${ROUNDS} kills`);
  await srv.cleanup();
  rmSync(dir, { recursive: true, force: true });
});
