// The cost of a push that names as many blobs as limits.push_blob_refs allows, next to a
// plain push of the same number of changes, measured in the same run on the same server;
// and how long another user's small push waits while a maximal one commits (the shared
// write transaction is what a maximal request could once hold for 13 s).
//   node bench/blobrefs.mjs URL   (prints Markdown rows)
import { createHash } from 'node:crypto';

const [url] = process.argv.slice(2);
const REFS = Number(process.env.BENCH_BLOB_REFS || 4096);
const RUNS = 7;

async function call(method, path, token, body, raw) {
  const headers = { Authorization: `Bearer ${token}` };
  if (body !== undefined && !raw) headers['Content-Type'] = 'application/json';
  const r = await fetch(url + path, { method, headers, body: raw ? body : body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${text.slice(0, 200)}`);
  return text ? JSON.parse(text) : null;
}

async function user(name) {
  const password = 'bench password';
  await fetch(`${url}/api/v1/auth/register`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: name, password }) });
  const r = await fetch(`${url}/api/v1/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: name, password }) });
  return (await r.json()).access_token;
}

const ms = (t) => Number(process.hrtime.bigint() - t) / 1e6;
const median = (a) => a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)];
let opn = 0;
const change = (blobs) => ({ op_id: `b${++opn}`, collection: 'refs', id: `r${opn % 997}`, op: 'put', data: { n: opn, text: 'a record that names blobs' }, blobs });

const owner = await user('refs-owner');
const other = await user('refs-other');
const hashes = [];
for (let i = 0; i < REFS; i += 64) {
  await Promise.all(Array.from({ length: Math.min(64, REFS - i) }, async (_, k) => {
    const b = Buffer.from(`bench blob ${i + k}`);
    const h = createHash('sha256').update(b).digest('hex');
    await call('PUT', `/api/v1/blobs/${h}`, owner, b, true);
    hashes[i + k] = h;
  }));
}

const shapes = {
  plain: () => Array.from({ length: 1000 }, () => change(undefined)),
  wide: () => Array.from({ length: REFS / 256 }, (_, c) => change(hashes.slice(c * 256, c * 256 + 256))),
  spread: () => Array.from({ length: 1000 }, (_, c) => change(hashes.slice((c * 4) % REFS, ((c * 4) % REFS) + 4).concat(c < (REFS - 4000) ? [hashes[4000 + c]] : []))),
};
const time = async (shape) => {
  const t = [];
  for (let i = 0; i < RUNS; i++) {
    const body = { changes: shapes[shape]() };
    const t0 = process.hrtime.bigint();
    await call('POST', '/api/v1/spaces/me/changes', owner, body);
    t.push(ms(t0));
  }
  return median(t);
};
const plain = await time('plain');
const wide = await time('wide');
const spread = await time('spread');
// another user's one-change push, alone and while maximal pushes commit
const small = async () => {
  const t0 = process.hrtime.bigint();
  await call('POST', '/api/v1/spaces/me/changes', other, { changes: [change(undefined)] });
  return ms(t0);
};
const alone = [];
for (let i = 0; i < 15; i++) alone.push(await small());
// the longest wait of a stream of small pushes sent while a big push is in flight
const stall = async (shape) => {
  const worst = [];
  for (let i = 0; i < RUNS; i++) {
    let done = false;
    const big = call('POST', '/api/v1/spaces/me/changes', owner, { changes: shapes[shape]() }).then(() => (done = true));
    let w = 0;
    while (!done) w = Math.max(w, await small());
    await big;
    worst.push(w);
  }
  return median(worst);
};
const duringPlain = await stall('plain');
const during = [await stall('wide')];
const f = (x) => x.toFixed(1);
console.log(`| a plain push of 1000 changes | ${f(plain)} ms | median of ${RUNS} |`);
console.log(`| ${REFS / 256} changes naming 256 blobs each (${REFS} references, the limit) | ${f(wide)} ms | ${(wide / plain).toFixed(2)}x the plain push |`);
console.log(`| 1000 changes naming 4 or 5 blobs each (${REFS} references) | ${f(spread)} ms | ${(spread / plain).toFixed(2)}x the plain push |`);
console.log(`| another user's 1-change push: alone / the longest while a plain push is in flight / while a maximal one is | ${f(median(alone))} / ${f(duringPlain)} / ${f(median(during))} ms | medians of ${RUNS} |`);
