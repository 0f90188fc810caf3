// The read path's cost of a moved space (issue 12): the first pull after a space moved
// (which reports the device's cursor) next to a pull with nothing new, median of 15, each
// in a fresh space so every report is a device's first for it.
//   node bench/firstpull.mjs URL TOKEN   prints one Markdown row
const [url, token] = process.argv.slice(2);
const H = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
const ms = (t) => Number(process.hrtime.bigint() - t) / 1e6;
const median = (a) => a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)];
let n = 0;
async function call(method, path, body) {
  const r = await fetch(url + path, { method, headers: H, body: body && JSON.stringify(body) });
  if (r.status !== 200 && r.status !== 201) throw new Error(`${path}: ${r.status}`);
  return r.json();
}
const first = [];
const idle = [];
for (let i = 0; i < 15; i++) {
  const sp = (await call('POST', '/api/v1/spaces', { name: `fp${i}`, kind: 'shared' })).space.id;
  const put = () => ({ op_id: `fp${++n}`, collection: 'c', id: `r${n}`, op: 'put', data: { n } });
  await call('POST', `/api/v1/spaces/${sp}/changes`, { changes: [put(), put()] });
  let t = process.hrtime.bigint();
  await call('GET', `/api/v1/spaces/${sp}/changes?since=1`);
  first.push(ms(t));
  t = process.hrtime.bigint();
  await call('GET', `/api/v1/spaces/${sp}/changes?since=2`);
  idle.push(ms(t));
}
const f = median(first), z = median(idle);
console.log(`| the first pull after a space moved (it reports the device's cursor) / a pull with nothing new, medians of 15 | ${f.toFixed(2)} ms / ${z.toFixed(2)} ms | ratio ${(f / z).toFixed(1)} |`);
