// make bench, tickit part (issue 15): a Tickit desktop's first sync of BENCH_TASKS tasks
// (default 10,000) through /compat/tickit, a second device's first sync (all of them
// back), and an edit of 100 tasks synced; against the native API pushing the same records
// (batches of limits.push_changes) and pulling them, in the same run. Best of 3 each.
//   node bench/tickit.mjs BASE
import { randomUUID } from 'node:crypto';

const [base] = process.argv.slice(2);
const N = Number(process.env.BENCH_TASKS || 10000);
const ROUNDS = 3;

async function call(method, path, token, body) {
  const res = await fetch(base + path, { method, headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : null;
}

const t0 = Date.parse('2026-01-01T00:00:00Z');
const iso = (ms) => new Date(ms).toISOString().replace('Z', '123456Z');
function tasks(listId, n, at) {
  return Array.from({ length: n }, (_, i) => ({ type: 'task', id: randomUUID(), title: `Task number ${i} with a title of ordinary length`, description: i % 3 ? null : 'Some notes about the task, a sentence or two long.', url: null, priority: ['low', 'medium', 'high', 'urgent'][i % 4], completed: i % 5 === 0, list_id: listId, tag_ids: [], created_at: iso(at), updated_at: iso(at + i), completed_at: null, due_date: null }));
}

async function time(fn) {
  let best = Infinity;
  for (let k = 0; k < ROUNDS; k++) {
    const s = performance.now();
    await fn(k);
    best = Math.min(best, performance.now() - s);
  }
  return best;
}

const limit = 1000; // limits.push_changes, the native batch
const rate = (ms) => Math.round((N / ms) * 1000);
const row = (what, ms, baseMs) => console.log(`| ${what} | ${rate(ms).toLocaleString('en')} tasks/s (${ms.toFixed(0)} ms) | ${rate(baseMs).toLocaleString('en')} tasks/s (${baseMs.toFixed(0)} ms) | ${(baseMs / ms).toFixed(2)}x |`);

// each round a user of its own: an empty space every time
let users = 0;
async function user() {
  const name = `tk${users++}`;
  await fetch(`${base}/api/v1/auth/register`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: name, password: 'bench password' }) });
  const res = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: name, password: 'bench password' }) });
  const access = (await res.json()).access_token;
  const tok = await call('POST', '/api/v1/tokens', access, { name: 'bench tickit' });
  return { access, token: tok.token };
}

const prepared = [];
for (let k = 0; k < ROUNDS; k++) {
  const u = await user();
  const list = { type: 'list', id: randomUUID(), name: 'Inbox', description: null, icon: 'x', color: null, is_inbox: true, created_at: iso(t0), updated_at: iso(t0), sort_order: 0 };
  prepared.push({ u, list, recs: [list, ...tasks(list.id, N, t0)] });
}
const sync = (tok, last, changes) => call('POST', '/compat/tickit/api/v1/sync', tok, { device_id: randomUUID(), last_sync: last, changes });

// 1. first sync, all tasks up (the answer brings them all back, as tickit-sync's did)
const up = await time(async (k) => {
  const r = await sync(prepared[k].u.token, null, prepared[k].recs);
  if (r.changes.length !== N + 1) throw new Error(`answer of ${r.changes.length}`);
});
// 2. a second device's first sync: all of them down
const down = await time(async (k) => {
  const r = await sync(prepared[k].u.token, null, []);
  if (r.changes.length !== N + 1) throw new Error(`down ${r.changes.length}`);
});
// 3. 100 tasks edited and synced by a device that synced after those first syncs (past
// the server's margin of 5 s, so the answer is the 100)
await new Promise((res) => setTimeout(res, 6000));
const synced = new Date().toISOString();
let answered = 0;
const edit = await time(async (k) => {
  const changed = prepared[k].recs.slice(1, 101).map((t) => ({ ...t, title: `${t.title} (edited ${k})`, updated_at: new Date().toISOString() }));
  const r = await sync(prepared[k].u.token, synced, changed);
  if (r.conflicts.length) throw new Error('conflicts');
  answered = r.changes.length;
});

// the native API, the same records into a fresh space, then pulled
const natives = [];
for (let k = 0; k < ROUNDS; k++) {
  const u = await user();
  const sp = await call('POST', '/api/v1/spaces', u.access, { name: 'native' });
  natives.push({ u, sp: sp.space.id, recs: prepared[k].recs });
}
const nup = await time(async (k) => {
  const { u, sp, recs } = natives[k];
  for (let i = 0; i < recs.length; i += limit)
    await call('POST', `/api/v1/spaces/${sp}/changes`, u.access, { changes: recs.slice(i, i + limit).map((r) => ({ op_id: `o${r.id}`, collection: `${r.type}s`, id: r.id, op: 'put', data: r, client_ts: new Date(Date.parse(r.updated_at)).toISOString() })) });
});
const ndown = await time(async (k) => {
  const { u, sp } = natives[k];
  let since = 0, n = 0;
  for (;;) {
    const p = await call('GET', `/api/v1/spaces/${sp}/changes?since=${since}&limit=${limit}`, u.access);
    n += p.changes.length;
    if (!p.changes.length || p.changes.at(-1).seq >= p.head_seq) break;
    since = p.changes.at(-1).seq;
  }
  if (n !== N + 1) throw new Error(`native pull ${n}`);
});

row('first sync: every task up in one POST, all back in its answer', up, nup);
row('a second device\'s first sync: every task down', down, ndown);
console.log(`| 100 tasks edited, synced by a device with ${N} (the answer: ${answered} records) | ${edit.toFixed(1)} ms | | |`);
