// Sync measurements against a running cairn: catch-up pull of many changes, push and
// pull latency as the log grows, and long-poll wake-up with many waiting clients.
//   node bench/sync.mjs URL TOKEN PID   (prints Markdown rows)
import { readFileSync } from 'node:fs';
import net from 'node:net';

const [url, token, pid] = process.argv.slice(2);
const TOTAL = Number(process.env.BENCH_PULL_CHANGES || 1000000);
const WAITERS = Number(process.env.BENCH_WAITERS || 5000);
// Plain JSON, as these figures were first taken: Node's fetch asks for gzip unless told
// otherwise, and compressed catch-up has its own lines (bench/catchup.mjs).
const H = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'Accept-Encoding': 'identity' };
let opn = 0;

async function post(path, body) {
  const r = await fetch(url + path, { method: 'POST', headers: H, body: JSON.stringify(body) });
  if (r.status !== 200 && r.status !== 201) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return r.json();
}
async function get(path) {
  const r = await fetch(url + path, { headers: H });
  if (r.status !== 200) throw new Error(`${path}: ${r.status}`);
  return r.json();
}
const batch = (n) => ({ changes: Array.from({ length: n }, (_, k) => ({ op_id: `s${++opn}`, collection: 'bench', id: `r${opn % 50000}`, op: 'put', data: { n: k, text: 'a small record' } })) });
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
const ms = (t) => Number(process.hrtime.bigint() - t) / 1e6;
const median = (a) => a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)];
const p = (a, q) => a.slice().sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(a.length * q))];

async function fill(space, upTo) {
  let head = (await get(`/api/v1/spaces/${space}`)).space.head_seq;
  while (head < upTo) {
    const work = [];
    for (let i = 0; i < 8 && head + i * 1000 < upTo; i++) work.push(post(`/api/v1/spaces/${space}/changes`, batch(1000)));
    const res = await Promise.all(work);
    head = Math.max(...res.map((x) => x.head_seq));
  }
  return head;
}

async function latencies(space) {
  const push = [];
  const pull = [];
  for (let i = 0; i < 20; i++) {
    let t = process.hrtime.bigint();
    const r = await post(`/api/v1/spaces/${space}/changes`, batch(100));
    push.push(ms(t));
    t = process.hrtime.bigint();
    await get(`/api/v1/spaces/${space}/changes?since=${r.head_seq - 100}&limit=100`);
    pull.push(ms(t));
  }
  return { push: median(push), pull: median(pull) };
}

const space = (await post('/api/v1/spaces', { name: 'bench', kind: 'shared' })).space.id;

// growth: latency at 10 thousand stored changes, then at TOTAL
await fill(space, 10000);
const small = await latencies(space);
const t0 = process.hrtime.bigint();
const head = await fill(space, TOTAL);
const fillSecs = ms(t0) / 1000;
const large = await latencies(space);

// catch-up: a new device pulls everything, 1000 at a time
const t1 = process.hrtime.bigint();
let since = 0;
let got = 0;
for (;;) {
  const r = await fetch(`${url}/api/v1/spaces/${space}/changes?since=${since}&limit=1000`, { headers: H });
  const text = await r.text();
  const page = JSON.parse(text);
  got += page.changes.length;
  since = page.next;
  if (!page.more) break;
}
const pullSecs = ms(t1) / 1000;
// the same catch-up by a client that reads each page whole but only looks for "next" and
// "more" at its end: what the server sends, without node's JSON.parse in the way
const t2 = process.hrtime.bigint();
since = 0;
let bytes = 0;
for (;;) {
  const r = await fetch(`${url}/api/v1/spaces/${space}/changes?since=${since}&limit=1000`, { headers: H });
  const text = await r.text();
  bytes += text.length;
  const m = /"next":(\d+),"more":(true|false)/.exec(text.slice(-120));
  since = Number(m[1]);
  if (m[2] === 'false') break;
}
const rawPullSecs = ms(t2) / 1000;

// long-poll: WAITERS clients wait on one space; one push wakes them all
const lp = (await post('/api/v1/spaces', { name: 'longpoll', kind: 'shared' })).space.id;
const before = rss();
// Raw sockets, one request each: a fetch client spends longer parsing 5000 answers than
// the server spends sending them, and would measure itself.
const target = new URL(url);
const reqText = `GET /api/v1/spaces/${lp}/changes?since=0&wait=60 HTTP/1.1\r\nHost: ${target.host}\r\n` +
  `Authorization: Bearer ${token}\r\nConnection: close\r\n\r\n`;
const done = [];
const waiting = [];
for (let i = 0; i < WAITERS; i++) {
  waiting.push(new Promise((resolve) => {
    const sock = net.connect(Number(target.port), target.hostname, () => sock.write(reqText));
    let first = true;
    let head = '';
    sock.on('data', (d) => {
      if (first) {
        done.push(process.hrtime.bigint());
        first = false;
      }
      if (head.length < 16) head += d.toString('latin1', 0, 16);
    });
    sock.on('close', () => resolve(Number(head.split(' ')[1])));
    sock.on('error', () => resolve(0));
  }));
}
// wait until the server holds them all (its RSS settles)
let last = 0;
for (let i = 0; i < 100; i++) {
  await new Promise((r) => setTimeout(r, 200));
  const now = rss();
  if (i > 10 && Math.abs(now - last) < 64 * 1024) break;
  last = now;
}
const during = rss();
const tp = process.hrtime.bigint();
await post(`/api/v1/spaces/${lp}/changes`, batch(1));
const replied = process.hrtime.bigint();
const statuses = await Promise.all(waiting);
const wake = done.map((t) => Number(t - replied) / 1e6);
const ok = statuses.filter((s) => s === 200).length;

console.log(`| catch-up pull of ${got} changes, limit=1000 per request, the client parsing every page | ${Math.round(got / pullSecs)} changes/s | target 300000 |`);
console.log(`| the same, the client reading pages without parsing them | ${Math.round(got / rawPullSecs)} changes/s (${Math.round(bytes / rawPullSecs / 1048576)} MiB/s) | what the server sends |`);
console.log(`| filling to ${head} changes with pushes of 1000 from 8 clients | ${Math.round((head - 10000) / fillSecs)} changes/s | |`);
console.log(`| push of 100 changes, median latency at 10 thousand / ${TOTAL} stored | ${small.push.toFixed(2)} ms / ${large.push.toFixed(2)} ms | ratio ${(large.push / small.push).toFixed(2)} (target at most 1.5) |`);
console.log(`| pull of 100 changes near the head, median latency at 10 thousand / ${TOTAL} stored | ${small.pull.toFixed(2)} ms / ${large.pull.toFixed(2)} ms | ratio ${(large.pull / small.pull).toFixed(2)} (target at most 1.5) |`);
console.log(`| long-poll: ${ok} of ${WAITERS} waiters answered; from the push's reply to the waiters' replies | p50 ${p(wake, 0.5).toFixed(1)} ms, p99 ${p(wake, 0.99).toFixed(1)} ms, last ${Math.max(...wake).toFixed(1)} ms | target p99 under 100 ms |`);
console.log(`| memory per waiting connection (server RSS growth / waiters) | ${Math.round((during - before) / WAITERS)} bytes | |`);
void tp;
