// make bench, messages part (issue 14): a user with BENCH_CONVERSATIONS (default 10,000)
// conversations; how long listing them takes (p50, p99 over 200 listings of a page of 50);
// and how long a message takes from its send's reply to the recipient's long-poll answer
// and to its event on the recipient's stream (p50, p99 over 200 sends, spread over 1,000
// conversations). Prints Markdown rows.
//   node bench/messages.mjs BASE
const base = process.argv[2];
const N = Number(process.env.BENCH_CONVERSATIONS || 10000);
const SAMPLES = 200;

async function call(method, path, token, body) {
  const res = await fetch(base + path, { method, headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(body ? { 'Content-Type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function user(name) {
  await call('POST', '/api/v1/auth/register', null, { username: name, password: 'bench password' });
  return (await call('POST', '/api/v1/auth/login', null, { username: name, password: 'bench password' })).access_token;
}

async function pool(n, width, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => { for (let i; (i = next++) < n;) await fn(i); }));
}

const pct = (v, p) => { const s = [...v].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(s.length * p))]; };
const ms = (x) => x.toFixed(2);

const hub = await user('hub');
const tokens = new Array(N);
const spaces = new Array(N);
const t0 = performance.now();
await pool(N, 16, async (i) => {
  tokens[i] = await user(`u${i}`);
  spaces[i] = (await call('POST', '/api/v1/messages', tokens[i], { to: 'hub', text: `hello from ${i}` })).space;
});
const setupS = (performance.now() - t0) / 1000;

// listing: the first page (the newest 50) and a page further down, repeatedly
const list = [];
let after = null;
for (let k = 0; k < SAMPLES; k++) {
  const q = k % 2 && after ? `?limit=50&after=${after}` : '?limit=50';
  const s = performance.now();
  const page = await call('GET', `/api/v1/conversations${q}`, hub);
  list.push(performance.now() - s);
  if (!after) after = page.next;
}

// delivery, by long-poll: the hub waits on one of 1,000 conversations, its partner sends
const poll = [];
for (let k = 0; k < SAMPLES; k++) {
  const i = (k * 7919) % Math.min(N, 1000);
  const head = (await call('GET', `/api/v1/spaces/${spaces[i]}/changes?since=0&limit=1`, hub)).head_seq;
  const waiting = call('GET', `/api/v1/spaces/${spaces[i]}/changes?since=${head}&wait=10`, hub).then(() => performance.now());
  await new Promise((r) => setTimeout(r, 5));
  await call('POST', '/api/v1/messages', tokens[i], { to: 'hub', text: `poll ${k}` });
  const replied = performance.now();
  poll.push(Math.max(0, (await waiting) - replied));
}

// delivery, by the event stream: one stream for the hub, a send at a time
const ctl = new AbortController();
const res = await fetch(`${base}/api/v1/events`, { headers: { Authorization: `Bearer ${hub}` }, signal: ctl.signal });
const reader = res.body.getReader();
const dec = new TextDecoder();
let buf = '';
const seen = []; // every space event: {space, head, t}
(async () => {
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += dec.decode(value, { stream: true });
      let j;
      while ((j = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, j);
        buf = buf.slice(j + 2);
        const d = /^data: (.*)$/m.exec(block);
        if (d && /^event: space$/m.test(block)) {
          const e = JSON.parse(d[1]);
          seen.push({ space: e.space, head: e.head_seq, t: performance.now() });
        }
      }
    }
  } catch { /* aborted */ }
})();
await new Promise((r) => setTimeout(r, 300)); // the stream's first announcements
const events = [];
for (let k = 0; k < SAMPLES; k++) {
  const i = (k * 104729) % Math.min(N, 1000);
  const sent = await call('POST', '/api/v1/messages', tokens[i], { to: 'hub', text: `event ${k}` });
  const replied = performance.now();
  // the event may come before the reply is read: then it counts as 0
  let hit;
  for (const end = replied + 5000; !(hit = seen.find((e) => e.space === sent.space && e.head >= sent.seq)) && performance.now() < end;)
    await new Promise((r) => setTimeout(r, 0));
  events.push(hit ? Math.max(0, hit.t - replied) : 5000);
}
ctl.abort();

// MigChat's CLI polls its whole message list every 10 s: the hub's newest 1,000 messages
// (migchat.max_messages) across its N conversations, and its conversation list (1,000)
const mcPoll = [], mcConv = [];
let mcBytes = 0;
for (let k = 0; k < 50; k++) {
  let s = performance.now();
  const r = await fetch(`${base}/compat/migchat/api/messages`, { headers: { Authorization: `Bearer ${hub}` } });
  const body = await r.text();
  mcPoll.push(performance.now() - s);
  if (r.status !== 200) throw new Error(`migchat messages: ${r.status} ${body}`);
  mcBytes = body.length;
  s = performance.now();
  const c = await fetch(`${base}/compat/migchat/api/conversations`, { headers: { Authorization: `Bearer ${hub}` } });
  await c.text();
  mcConv.push(performance.now() - s);
}

console.log(`| listing the conversations of a user with ${N} (a page of 50, newest first) | p50 ${ms(pct(list, 0.5))} ms, p99 ${ms(pct(list, 0.99))} ms | target: p50 under 10 ms |`);
console.log(`| a message, from its send's reply to the recipient's long-poll answer (1,000 conversations) | p50 ${ms(pct(poll, 0.5))} ms, p99 ${ms(pct(poll, 0.99))} ms | |`);
console.log(`| the same, to its event on the recipient's stream | p50 ${ms(pct(events, 0.5))} ms, p99 ${ms(pct(events, 0.99))} ms | |`);
console.log(`| MigChat's poll, GET /compat/migchat/api/messages: the newest 1,000 of ${N} conversations (${(mcBytes / 1024).toFixed(0)} KiB) | p50 ${ms(pct(mcPoll, 0.5))} ms, p99 ${ms(pct(mcPoll, 0.99))} ms | |`);
console.log(`| MigChat's GET /api/conversations (the 1,000 with the newest activity) | p50 ${ms(pct(mcConv, 0.5))} ms, p99 ${ms(pct(mcConv, 0.99))} ms | |`);
console.log(`| (setting up: ${N} users, each sending its first message) | ${setupS.toFixed(1)} s | |`);
