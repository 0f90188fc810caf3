// make bench, Verstak part (issue 16): ops pushed through /compat/verstak as the desktop
// pushes them (batches of 100, each op a UUID, a note path and a small JSON payload), by
// 1 and by 8 desktops at once (each its own vault), then pulled in pages of 100 as the
// desktop pulls; against the native API in the same run: the same records pushed in
// batches of 100 into a space of the same user, and pulled in pages of 100.
//   node bench/verstak.mjs BASE
import { randomUUID } from 'node:crypto';

const base = process.argv[2];
const OPS = Number(process.env.BENCH_VERSTAK_OPS || 100000);
const B = `${base}/compat/verstak`;

async function call(url, body, token, method = 'POST') {
  const res = await fetch(url, { method, headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) }, body: body === undefined ? undefined : `${JSON.stringify(body)}\n` });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${url}: ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

let users = 0;
async function desktop() {
  const name = `vk${users++}`;
  await call(`${base}/api/v1/auth/register`, { username: name, password: 'bench password' });
  const p = await call(`${B}/api/client/pair`, { login: name, password: 'bench password', device_name: 'bench', client_version: '1', vault_id: 'vault' });
  const login = await call(`${base}/api/v1/auth/login`, { username: name, password: 'bench password' });
  const s = await call(`${base}/api/v1/spaces`, { name: 'native' }, login.access_token);
  return { token: p.device_token, device: p.device_id, native: login.access_token, space: s.space.id, cursor: 0 };
}

const payload = (i) => JSON.stringify({ path: `notes/n${i}.md`, content: `Note ${i}: a line or two of text, as a note's edit carries it.` });

async function vkPush(d, n) {
  for (let from = 0; from < n; from += 100) {
    const ops = Array.from({ length: Math.min(100, n - from) }, (_, k) => ({ op_id: randomUUID(), entity_type: 'note', entity_id: `notes/n${from + k}.md`, op_type: 'update', payload_json: payload(from + k), client_sequence: from + k, last_seen_server_seq: d.cursor, created_at: '2026-11-30T12:00:00Z' }));
    const r = await call(`${B}/api/v1/sync/push`, { device_id: d.device, ops }, d.token);
    if (r.count !== ops.length) throw new Error(`accepted ${r.count} of ${ops.length}`);
  }
}

async function nativePush(d, n) {
  for (let from = 0; from < n; from += 100) {
    const changes = Array.from({ length: Math.min(100, n - from) }, (_, k) => ({ op_id: randomUUID(), collection: 'ops', id: randomUUID(), op: 'put', data: { entity_type: 'note', entity_id: `notes/n${from + k}.md`, op_type: 'update', payload_json: payload(from + k), client_sequence: from + k, created_at: '2026-11-30T12:00:00Z' } }));
    await call(`${base}/api/v1/spaces/${d.space}/changes`, { changes }, d.native);
  }
}

async function vkPull(d) {
  let since = 0, got = 0;
  for (;;) {
    const p = await call(`${B}/api/v1/sync/pull`, { since_sequence: since, page_limit: 100 }, d.token);
    got += p.ops.length;
    since = p.page_last_sequence;
    if (!p.has_more) return got;
  }
}

async function nativePull(d) {
  let since = 0, got = 0;
  for (;;) {
    const p = await call(`${base}/api/v1/spaces/${d.space}/changes?since=${since}&limit=100`, undefined, d.native, 'GET');
    got += p.changes.length;
    if (!p.more) return got;
    since = p.next;
  }
}

async function timed(ds, fn) {
  const s = performance.now();
  const n = (await Promise.all(ds.map(fn))).reduce((a, b) => a + (b || 0), 0);
  return { ms: performance.now() - s, n };
}

const fmt = (x) => Math.round(x).toLocaleString('en');
// a desktop that pulled a vault of OPS/2 ops (its cursor above 0, so every push looks for
// conflicts back to it), then pushes OPS/2 ops without pulling between batches, as the
// desktop's sync does; the native push of the same ops alongside
{
  const a = await desktop();
  await vkPush(a, OPS / 2);
  const p = await call(`${B}/api/client/pair`, { login: 'vk0', password: 'bench password', device_name: 'second', client_version: '1', vault_id: 'vault' });
  const b = { token: p.device_token, device: p.device_id, native: a.native, space: a.space, cursor: 0 };
  await vkPull(b);
  b.cursor = (await call(`${B}/api/v1/sync/pull`, { since_sequence: 0, page_limit: 1 }, b.token)).server_sequence;
  const vp = await timed([b], (d) => vkPush(d, OPS / 2));
  const np = await timed([b], (d) => nativePush(d, OPS / 2));
  const vr = (OPS / 2) / vp.ms * 1000, nr = (OPS / 2) / np.ms * 1000;
  console.log(`| push with a cursor (${fmt(OPS / 2)} ops after a pull of ${fmt(OPS / 2)}), 1 desktop | ${fmt(vr)} ops/s | ${fmt(nr)} ops/s | ${(vr / nr).toFixed(2)}x |`);
}
for (const n of [1, 8]) {
  const ds = [];
  for (let i = 0; i < n; i++) ds.push(await desktop());
  const per = Math.floor(OPS / n);
  const vp = await timed(ds, (d) => vkPush(d, per));
  const np = await timed(ds, (d) => nativePush(d, per));
  const vr = (per * n) / vp.ms * 1000, nr = (per * n) / np.ms * 1000;
  console.log(`| push, ${n} desktop${n > 1 ? 's' : ''} | ${fmt(vr)} ops/s | ${fmt(nr)} ops/s | ${(vr / nr).toFixed(2)}x |`);
  const vl = await timed(ds, vkPull);
  const nl = await timed(ds, nativePull);
  if (vl.n !== per * n || nl.n !== per * n) throw new Error(`pulled ${vl.n} and ${nl.n} of ${per * n}`);
  const vlr = vl.n / vl.ms * 1000, nlr = nl.n / nl.ms * 1000;
  console.log(`| pull in pages of 100, ${n} desktop${n > 1 ? 's' : ''} | ${fmt(vlr)} ops/s | ${fmt(nlr)} ops/s | ${(vlr / nlr).toFixed(2)}x |`);
}
