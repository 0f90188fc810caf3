// Push latency as the space grows (issue 12): with random UUID record ids every push lands
// on random pages of the key indexes, so its cost could grow with the records stored.
// Measures the median latency of pushes of 1 change and of 1000 changes (UUID shapes, as
// bench/uuid_push.mjs) with 10,000 records stored, fills the space to TOTAL (default
// 1,000,000) with 8 clients, and measures again. Prints Markdown table rows.
//   node growth.mjs BASE TOKEN [TOTAL]
import { randomUUID } from 'node:crypto';
import { record } from './shapes.mjs';

const [base, token, totalArg] = process.argv.slice(2);
const TOTAL = Number(totalArg || 1000000);
let stored = 0;


async function push(n) {
  const changes = [];
  for (let i = 0; i < n; i++)
    changes.push({ op_id: randomUUID(), collection: 'tasks', id: randomUUID(), op: 'put', data: record(stored + i) });
  const body = JSON.stringify({ changes });
  const t0 = process.hrtime.bigint();
  const res = await fetch(`${base}/api/v1/spaces/me/changes`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body,
  });
  if (res.status !== 200) throw new Error(`push: ${res.status} ${await res.text()}`);
  await res.arrayBuffer();
  stored += n;
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

async function fill(to) {
  let claimed = stored;
  async function client() {
    while (claimed < to) {
      const n = Math.min(1000, to - claimed);
      claimed += n;
      await push(n);
    }
  }
  await Promise.all(Array.from({ length: 8 }, client));
}

const median = (a) => a.sort((x, y) => x - y)[a.length >> 1];
async function measure() {
  const one = [], many = [];
  for (let i = 0; i < 41; i++) one.push(await push(1));
  for (let i = 0; i < 21; i++) many.push(await push(1000));
  return { one: median(one), many: median(many) };
}

await fill(10000);
const smallAt = stored;
const small = await measure();
await fill(TOTAL);
const bigAt = stored;
const big = await measure();
const row = (what, a, b) => console.log(`| ${what} | ${a.toFixed(2)} ms | ${b.toFixed(2)} ms | ${(b / a).toFixed(2)}x |`);
console.log(`| push latency (median), UUID shapes | ${smallAt.toLocaleString('en')} records stored | ${bigAt.toLocaleString('en')} stored | growth |`);
console.log('|---|---|---|---|');
row('1 change', small.one, big.one);
row('1000 changes', small.many, big.many);
