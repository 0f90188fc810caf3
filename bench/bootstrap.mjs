// Bootstrap against catch-up (issue 12): the server's CPU time per item for a full
// records listing (paged as a device bootstraps, through one snapshot) and for a full
// pull of the same space, page by page (limit=1000), read
// from /proc/PID/stat (user + system time of the server process).
//   node bench/bootstrap.mjs URL TOKEN PID   prints one Markdown row
import http from 'node:http';
import { readFileSync } from 'node:fs';

const [url, token, pid] = process.argv.slice(2);
const agent = new http.Agent({ keepAlive: true });
const tick = 1e6 / 100; // microseconds per clock tick (USER_HZ is 100 on Linux)
const cpu = () => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * tick; // utime, stime
};
function get(path) {
  return new Promise((resolve, reject) => {
    http.get(url + path, { headers: { Authorization: `Bearer ${token}` }, agent }, (res) => {
      const parts = [];
      res.on('data', (d) => parts.push(d));
      res.on('end', () => resolve(JSON.parse(Buffer.concat(parts))));
    }).on('error', reject);
  });
}
async function records() {
  let n = 0, q = '';
  for (;;) {
    const r = await get(`/api/v1/spaces/me/records?limit=1000${q}`);
    n += r.records.length;
    if (!r.more) return n;
    // as a device bootstraps: every page after the first at the first one's snapshot
    q = `&snapshot=${r.next.snapshot}&after_collection=${r.next.after_collection}&after=${r.next.after}`;
  }
}
async function pull() {
  let n = 0, since = 0;
  for (;;) {
    const r = await get(`/api/v1/spaces/me/changes?since=${since}&limit=1000`);
    n += r.changes.length;
    since = r.next;
    if (!r.more) return n;
  }
}
let c0 = cpu();
const nr = await records();
const rec = (cpu() - c0) / nr;
c0 = cpu();
const np = await pull();
const pul = (cpu() - c0) / np;
console.log(`| server CPU per item: records listing of ${nr} / pull of ${np} (limit=1000) | ${rec.toFixed(2)} µs / ${pul.toFixed(2)} µs | ratio ${(rec / pul).toFixed(1)} (target at most 2) |`);
agent.destroy();
