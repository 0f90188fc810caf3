// An emulator of the Verstak desktop's sync client, written from what its code sends and
// checks (section 2 and the last section of the seed-protocols research): a bare
// "Bearer" before pairing, every JSON body ending in a newline, pushes in batches of 100
// halved on 413 too_many_operations, only accepted ids marked pushed, unpushed ops
// carrying the pull cursor as last_seen_server_seq, pulls that check the page contract,
// blob uploads whose answered size and hash must match, downloads that must be 200.
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';

export class Desktop {
  constructor(base) {
    this.base = base; // .../compat/verstak
    this.token = '';
    this.cursor = 0;
    this.pending = []; // ops not yet accepted
    this.applied = []; // ops pulled, in order
    this.conflicts = [];
    this.seq = 0;
    this.batch = 100;
  }

  async call(method, path, body, { raw = false, headers = {} } = {}) {
    const h = { Authorization: `Bearer ${this.token}`.trim(), ...headers };
    let payload;
    if (body !== undefined) {
      h['Content-Type'] = 'application/json';
      payload = `${JSON.stringify(body)}\n`;
    }
    const r = await fetch(`${this.base}${path}`, { method, headers: h, body: payload });
    const text = await r.text();
    if (raw) return { status: r.status, text, headers: r.headers };
    assert.match(r.headers.get('content-type') || '', /^application\/json/, `${path}: ${text}`);
    assert.ok(text.endsWith('\n'), `${path}: Go's encoder ends with a newline`);
    return { status: r.status, body: JSON.parse(text), headers: r.headers };
  }

  async checkServer() {
    const r = await this.call('GET', '/api/v1/health', undefined, { raw: true });
    assert.equal(r.status, 200);
    assert.ok(/status|ok/.test(r.text));
  }

  async pair(login, password, vault, name = 'Desktop') {
    const r = await this.call('POST', '/api/client/pair', { login, password, device_name: name, client_version: '0.9.3', vault_id: vault });
    if (r.status !== 200) return r;
    assert.deepEqual(Object.keys(r.body), ['device_id', 'device_token', 'initial_sync_cursor', 'server_time', 'user_id']);
    assert.match(r.body.device_token, /^[0-9a-f]{64}$|^.{20,}$/);
    assert.match(r.body.server_time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    this.token = r.body.device_token;
    this.deviceId = r.body.device_id;
    this.cursor = r.body.initial_sync_cursor;
    return r;
  }

  op(entity_type, entity_id, op_type, payload) {
    const o = {
      op_id: randomUUID(), entity_type, entity_id, op_type,
      payload_json: payload === undefined ? '' : JSON.stringify(payload),
      client_sequence: ++this.seq, last_seen_server_seq: this.cursor,
      created_at: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    };
    this.pending.push(o);
    return o;
  }

  async push() {
    let sent = 0;
    while (this.pending.length) {
      const ops = this.pending.slice(0, this.batch).map((o) => ({ ...o, last_seen_server_seq: this.cursor }));
      const r = await this.call('POST', '/api/v1/sync/push', { device_id: this.deviceId, ops });
      if (r.status === 413 && r.body.code === 'too_many_operations' && this.batch > 1) {
        this.batch = Math.max(1, Math.floor(this.batch / 2));
        continue;
      }
      if (r.status !== 200) return r;
      assert.deepEqual(Object.keys(r.body), ['accepted', 'conflicts', 'count']);
      const acc = new Set(r.body.accepted || []);
      assert.equal(r.body.count, acc.size);
      if (r.body.conflicts) this.conflicts.push(...r.body.conflicts);
      const before = this.pending.length;
      this.pending = this.pending.filter((o) => !acc.has(o.op_id));
      sent += before - this.pending.length;
      if (before === this.pending.length) throw new Error('push accepted nothing');
    }
    return { status: 200, sent };
  }

  async pull(pageLimit = 0) {
    let pages = 0;
    for (;;) {
      const r = await this.call('POST', '/api/v1/sync/pull', { since_sequence: this.cursor, page_limit: pageLimit });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(Object.keys(r.body), ['has_more', 'ops', 'page_last_sequence', 'server_sequence']);
      assert.ok(Array.isArray(r.body.ops));
      let last = this.cursor;
      for (const o of r.body.ops) {
        assert.deepEqual(Object.keys(o), ['op_id', 'server_sequence', 'device_id', 'entity_type', 'entity_id', 'op_type', 'payload_json', 'created_at']);
        assert.equal(typeof o.server_sequence, 'number');
        assert.equal(typeof o.payload_json, 'string');
        assert.ok(o.server_sequence > last, 'ops strictly ascending');
        last = o.server_sequence;
        this.applied.push(o);
        this.cursor = o.server_sequence; // persisted after each op
      }
      assert.equal(r.body.page_last_sequence, last, 'pull page cursor mismatch');
      pages++;
      if (!r.body.has_more) return { pages, server_sequence: r.body.server_sequence };
      assert.ok(r.body.ops.length > 0, 'has_more must advance');
    }
  }

  async uploadBlob(bytes, name = 'attachment.bin') {
    const f = new FormData();
    f.append('file', new Blob([bytes]), name);
    const r = await fetch(`${this.base}/api/v1/blobs/`, { method: 'POST', headers: { Authorization: `Bearer ${this.token}` }, body: f });
    const text = await r.text();
    if (r.status >= 400) return { status: r.status, body: JSON.parse(text) };
    const body = JSON.parse(text);
    assert.equal(body.size, bytes.length);
    assert.equal(body.sha256, createHash('sha256').update(bytes).digest('hex'));
    return { status: r.status, body };
  }

  async downloadBlob(sha, size) {
    const r = await fetch(`${this.base}/api/v1/blobs/${sha}`, { headers: { Authorization: `Bearer ${this.token}` } });
    const buf = Buffer.from(await r.arrayBuffer());
    if (r.status !== 200) return { status: r.status, body: JSON.parse(buf.toString()) };
    assert.equal(Number(r.headers.get('content-length')), size);
    assert.equal(createHash('sha256').update(buf).digest('hex'), sha);
    return { status: 200, bytes: buf, headers: r.headers };
  }
}
