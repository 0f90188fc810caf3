// Catch-up with and without compression (issue 12): a full pull of a space holding N
// UUID-shaped records (filled by bench/uuid_push.mjs first), page by page (limit=1000),
// once plain and once with Accept-Encoding: gzip, counting the bytes on the wire and the
// time, the client decompressing and parsing every page.
//   node bench/catchup.mjs URL TOKEN   prints Markdown rows
import http from 'node:http';
import { gunzipSync } from 'node:zlib';

const [url, token] = process.argv.slice(2);
const agent = new http.Agent({ keepAlive: true });
function get(path, gzip) {
  return new Promise((resolve, reject) => {
    const headers = { Authorization: `Bearer ${token}`, ...(gzip ? { 'Accept-Encoding': 'gzip' } : {}) };
    http.get(url + path, { headers, agent }, (res) => {
      const parts = [];
      res.on('data', (d) => parts.push(d));
      res.on('end', () => {
        const raw = Buffer.concat(parts);
        const text = res.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
        resolve({ bytes: raw.length, body: JSON.parse(text) });
      });
    }).on('error', reject);
  });
}
async function catchup(gzip) {
  let since = 0, bytes = 0, n = 0;
  const t0 = process.hrtime.bigint();
  for (;;) {
    const r = await get(`/api/v1/spaces/me/changes?since=${since}&limit=1000`, gzip);
    bytes += r.bytes;
    n += r.body.changes.length;
    since = r.body.next;
    if (!r.body.more) break;
  }
  return { n, bytes, secs: Number(process.hrtime.bigint() - t0) / 1e9 };
}
const plain = await catchup(false);
const z = await catchup(true);
const mb = (b) => (b / 1048576).toFixed(1);
console.log(`| catch-up of ${plain.n} UUID-shaped changes, plain | ${mb(plain.bytes)} MiB, ${plain.secs.toFixed(2)} s | |`);
console.log(`| the same with Accept-Encoding: gzip (at server.gzip_level) | ${mb(z.bytes)} MiB, ${z.secs.toFixed(2)} s | ${(z.bytes / plain.bytes).toFixed(2)}x the bytes, ${(z.secs / plain.secs).toFixed(2)}x the time |`);
agent.destroy();
