// The headline push of `make bench` (issue 12): TOTAL changes into an empty server, from
// CLIENTS clients pushing batches of BATCH, with random UUID v4 record ids and op ids and
// 150 to 250 bytes of JSON each, the shapes real clients send (tickit, sync_client,
// Verstak op ids, PouchDB docs). Prints "CHANGES_PER_S BYTES_WRITTEN_PER_CHANGE", the bytes
// being what the server process wrote to disk (/proc/PID/io write_bytes) meanwhile.
//   node uuid_push.mjs BASE TOKEN SERVER_PID CLIENTS TOTAL BATCH
import { randomUUID } from 'node:crypto';
import { record } from './shapes.mjs';
import { readFileSync } from 'node:fs';

const [base, token, pid, clients, total, batch] = process.argv.slice(2);
const C = Number(clients), T = Number(total), B = Number(batch);
const written = () => Number(/write_bytes: (\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))[1]);


let next = 0;
async function client() {
  for (;;) {
    const start = next;
    if (start >= T) return;
    next += B;
    const changes = [];
    for (let i = start; i < Math.min(start + B, T); i++)
      changes.push({ op_id: randomUUID(), collection: 'tasks', id: randomUUID(), op: 'put', data: record(i) });
    const res = await fetch(`${base}/api/v1/spaces/me/changes`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify({ changes }),
    });
    if (res.status !== 200) throw new Error(`push: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
  }
}

const w0 = written();
const t0 = process.hrtime.bigint();
await Promise.all(Array.from({ length: C }, client));
const secs = Number(process.hrtime.bigint() - t0) / 1e9;
const w1 = written();
console.log(`${Math.round(T / secs)} ${Math.round((w1 - w0) / T)}`);
