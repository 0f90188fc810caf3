// make bench, sync_server_ts part (issue 15): rows pushed through /compat/sts as its
// client does it (each batch a pull listing the batch, then a push of it; gzip bodies),
// with batches of 100 and 1,000 rows, by 1 and by 8 clients at once; and one pull of every
// row in one answer. Against the native API in the same run (the same rows in batches of
// the same size, and pulled in pages of 1,000), and against the peer figures the issue
// gives for sync_server_ts on this machine (1,000 rows/s pushed by one client, 1,900 by
// eight, 6,200 pulled).
//   node bench/sts.mjs BASE
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';

const base = process.argv[2];
const ROWS = Number(process.env.BENCH_STS_ROWS || 20000);
const PEER = { push1: 1000, push8: 1900, pull: 6200 };

async function post(path, body, headers = {}, gz = true) {
  const res = await fetch(base + path, { method: 'POST', headers: { 'Content-Type': 'application/json; charset=utf-8', ...(gz ? { 'Content-Encoding': 'gzip' } : {}), ...headers }, body: gz ? gzipSync(Buffer.from(JSON.stringify(body))) : JSON.stringify(body) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

let users = 0;
async function client() {
  const email = `sts${users++}@bench.test`, clientId = randomUUID();
  await post('/compat/sts/register/default', { name: 'b', email, password: 'bench password', clientId, clientDescription: '{"name":"bench"}', newRegistration: true, language: 'en' });
  const t = await post('/compat/sts/login/default', { clientId }, { Authorization: `Basic ${Buffer.from(`${email}:bench password`).toString('base64')}` });
  const login = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: email, password: 'bench password' }) });
  return { clientId, token: t.access_token, native: (await login.json()).access_token };
}

const row = (i) => ({ title: `Row number ${i} with some text of an ordinary length`, done: i % 2, amount: i * 3, note: i % 5 ? null : 'a longer note, a sentence or two of it' });

async function stsPush(c, rows, batch) {
  for (let from = 0; from < rows; from += batch) {
    const n = Math.min(batch, rows - from), now = Date.now();
    const changes = Array.from({ length: n }, (_, k) => ({ operation: 'I', rowguid: randomUUID(), tablename: 'items', clientdate: now + k }));
    const auth = { Authorization: `Bearer ${c.token}` };
    await post(`/compat/sts/pull/default/${c.clientId}`, { clientId: c.clientId, lastSync: c.lastSync || 0, changes, isPartial: 0 }, auth);
    const r = await post(`/compat/sts/push/default/${c.clientId}`, { clientId: c.clientId, lastSync: c.lastSync || 0, isPartial: 0, changes: changes.map((x, k) => ({ ...x, rowData: row(from + k) })) }, auth);
    c.lastSync = r.lastSync;
  }
}

async function nativePush(c, rows, batch) {
  if (!c.space) {
    const s = await fetch(`${base}/api/v1/spaces`, { method: 'POST', headers: { Authorization: `Bearer ${c.native}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'native' }) });
    c.space = (await s.json()).space.id;
  }
  for (let from = 0; from < rows; from += batch) {
    const n = Math.min(batch, rows - from), now = Date.now();
    const changes = Array.from({ length: n }, (_, k) => ({ op_id: randomUUID(), collection: 'items', id: randomUUID(), op: 'put', data: row(from + k), client_ts: new Date(now).toISOString() }));
    const res = await fetch(`${base}/api/v1/spaces/${c.space}/changes`, { method: 'POST', headers: { Authorization: `Bearer ${c.native}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ changes }) });
    if (res.status !== 200) throw new Error(`native push ${res.status}`);
    await res.text();
  }
}

async function rate(nclients, batch, fn) {
  const cs = [];
  for (let i = 0; i < nclients; i++) cs.push(await client());
  const per = Math.floor(ROWS / nclients);
  const s = performance.now();
  await Promise.all(cs.map((c) => fn(c, per, batch)));
  const ms = performance.now() - s;
  return { rate: Math.round((per * nclients / ms) * 1000), cs };
}

const fmt = (x) => x.toLocaleString('en');
for (const [n, batch] of [[1, 100], [1, 1000], [8, 100], [8, 1000]]) {
  const s = await rate(n, batch, stsPush);
  const nat = await rate(n, batch, nativePush);
  const peer = n === 1 ? PEER.push1 : PEER.push8;
  console.log(`| push, ${n} client${n > 1 ? 's' : ''}, batches of ${batch} (pull then push each) | ${fmt(s.rate)} rows/s | ${fmt(nat.rate)} rows/s | ${(s.rate / nat.rate).toFixed(2)}x | ${(s.rate / peer).toFixed(0)}x (${fmt(peer)}) |`);
}
// one pull of every row of a client's space, in one answer; the native pull in pages
const c = await client();
await stsPush(c, ROWS, 1000);
await post(`/compat/sts/cancelSync/default`, { clientId: c.clientId }, { Authorization: `Bearer ${c.token}` });
let best = Infinity, n = 0;
for (let k = 0; k < 3; k++) {
  const s = performance.now();
  const r = await post(`/compat/sts/pull/default/${c.clientId}`, { clientId: c.clientId, lastSync: 0, changes: [] }, { Authorization: `Bearer ${c.token}` });
  best = Math.min(best, performance.now() - s);
  n = r.data.length;
  await post(`/compat/sts/cancelSync/default`, { clientId: c.clientId }, { Authorization: `Bearer ${c.token}` });
}
await nativePush(c, ROWS, 1000);
let nbest = Infinity;
for (let k = 0; k < 3; k++) {
  const s = performance.now();
  let since = 0, got = 0;
  for (;;) {
    const p = await (await fetch(`${base}/api/v1/spaces/${c.space}/changes?since=${since}&limit=1000`, { headers: { Authorization: `Bearer ${c.native}` } })).json();
    got += p.changes.length;
    if (!p.changes.length || p.changes.at(-1).seq >= p.head_seq) break;
    since = p.changes.at(-1).seq;
  }
  nbest = Math.min(nbest, performance.now() - s);
}
const pr = Math.round((n / best) * 1000), nr = Math.round((ROWS / nbest) * 1000);
console.log(`| pull of every row (${fmt(n)}) in one answer | ${fmt(pr)} rows/s | ${fmt(nr)} rows/s | ${(pr / nr).toFixed(2)}x | ${(pr / PEER.pull).toFixed(0)}x (${fmt(PEER.pull)}) |`);
