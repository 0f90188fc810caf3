// The Tickit clients as they sync (tickit 0.5.8 desktop: src/sync/client.rs, types.rs,
// models.rs, app/mod.rs; tickit-mobile: src/services/sync.ts), over a local store of
// their own:
// - one POST <server>/api/v1/sync with Authorization: Bearer, {device_id, last_sync,
//   changes}; only status 200 is success;
// - local changes: everything on a first sync (no tombstones), else what was updated after
//   last_sync, and the tombstones after it;
// - the answer parsed strictly (serde into the desktop's models: ids are UUIDs, times
//   RFC 3339, lists need icon, is_inbox, sort_order; tasks tag_ids; tags updated_at), and
//   applied as upserts, then deletes;
// - the next last_sync is the earlier of the local time taken before gathering and the
//   server's server_time (the desktop compares instants, the mobile app strings).

import { randomUUID } from 'node:crypto';

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

const isTime = (v) => typeof v === 'string' && TIME.test(v) && !Number.isNaN(Date.parse(v));
const optTime = (v) => v === null || v === undefined || isTime(v);
const optStr = (v) => v === null || v === undefined || typeof v === 'string';

// Throws as the desktop's serde would on a record of the answer.
export function parseRecord(r) {
  const fail = (why) => { throw new Error(`desktop cannot parse ${JSON.stringify(r)}: ${why}`); };
  if (!r || typeof r !== 'object') fail('not an object');
  switch (r.type) {
    case 'task':
      if (!UUID.test(r.id) || typeof r.title !== 'string' || !['low', 'medium', 'high', 'urgent'].includes(r.priority) ||
        typeof r.completed !== 'boolean' || !UUID.test(r.list_id) || !Array.isArray(r.tag_ids) || !r.tag_ids.every((t) => UUID.test(t)) ||
        !isTime(r.created_at) || !isTime(r.updated_at) || !optTime(r.completed_at) || !optStr(r.description) || !optStr(r.url))
        fail('task');
      if (!(r.due_date === null || r.due_date === undefined || r.due_date === '' || isTime(r.due_date) || /^\d{4}-\d{2}-\d{2}$/.test(r.due_date))) fail('due_date');
      break;
    case 'list':
      if (!UUID.test(r.id) || typeof r.name !== 'string' || typeof r.icon !== 'string' || typeof r.is_inbox !== 'boolean' ||
        !Number.isInteger(r.sort_order) || !isTime(r.created_at) || !isTime(r.updated_at) || !optStr(r.description) || !optStr(r.color))
        fail('list');
      break;
    case 'tag':
      if (!UUID.test(r.id) || typeof r.name !== 'string' || typeof r.color !== 'string' || !isTime(r.created_at) || !isTime(r.updated_at))
        fail('tag');
      break;
    case 'deleted':
      if (!UUID.test(r.id) || !['task', 'list', 'tag', 'task_tag'].includes(r.record_type) || !isTime(r.deleted_at)) fail('deleted');
      break;
    default:
      fail(`type ${r.type}`);
  }
  return r;
}

export const uuid = () => randomUUID();

export class TickitDevice {
  // mobile: times as toISOString and the string comparison of the app
  constructor(server, token, { mobile = false } = {}) {
    this.server = server.replace(/\/$/, '');
    this.token = token;
    this.mobile = mobile;
    this.deviceId = uuid();
    this.tasks = new Map();
    this.lists = new Map();
    this.tags = new Map();
    this.tombstones = []; // {id, record_type, deleted_at}
    this.lastSync = null;
    this.clockSkewMs = 0; // this device's clock minus the true time
    this.log = [];
  }
  now() {
    const d = new Date(Date.now() + this.clockSkewMs);
    // the desktop writes chrono's nanoseconds; the mobile app milliseconds
    return this.mobile ? d.toISOString() : d.toISOString().replace('Z', '123456Z');
  }
  addList(name, extra = {}) {
    const t = this.now();
    const l = { id: uuid(), name, description: null, icon: '📋', color: null, is_inbox: false, created_at: t, updated_at: t, sort_order: 0, ...extra };
    this.lists.set(l.id, l);
    return l;
  }
  addTag(name) {
    const t = this.now();
    const g = { id: uuid(), name, color: 'blue', created_at: t, updated_at: t };
    this.tags.set(g.id, g);
    return g;
  }
  addTask(title, list, extra = {}) {
    const t = this.now();
    const k = { id: uuid(), title, description: null, url: null, priority: 'medium', completed: false, list_id: list.id, tag_ids: [], created_at: t, updated_at: t, completed_at: null, due_date: null, ...extra };
    this.tasks.set(k.id, k);
    return k;
  }
  edit(kind, id, fields) {
    const r = this[kind].get(id);
    Object.assign(r, fields, { updated_at: this.now() });
    return r;
  }
  remove(kind, id) {
    this[kind].delete(id);
    this.tombstones.push({ id, record_type: { tasks: 'task', lists: 'list', tags: 'tag' }[kind], deleted_at: this.now() });
  }
  after(t) {
    if (this.lastSync === null) return true;
    return this.mobile ? t > this.lastSync : Date.parse(t) > Date.parse(this.lastSync);
  }
  gather() {
    const out = [];
    for (const k of this.tasks.values()) if (this.after(k.updated_at)) out.push({ type: 'task', ...k });
    for (const l of this.lists.values()) if (this.after(l.updated_at)) out.push({ type: 'list', ...l });
    for (const g of this.tags.values()) if (this.after(g.updated_at)) out.push({ type: 'tag', ...g });
    if (this.lastSync !== null)
      for (const t of this.tombstones) if (this.after(t.deleted_at)) out.push({ type: 'deleted', ...t });
    return out;
  }
  async sync() {
    const local = this.now();
    const changes = this.gather();
    const res = await fetch(`${this.server}/api/v1/sync`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${this.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ device_id: this.deviceId, last_sync: this.lastSync, changes }),
    });
    const text = await res.text();
    this.log.push(`sync (${changes.length} out) -> ${res.status} ${text.slice(0, 400)}`);
    if (res.status !== 200) throw new Error(`Sync failed with status ${res.status}: ${text}`);
    const body = JSON.parse(text);
    if (!isTime(body.server_time)) throw new Error(`server_time ${body.server_time}`);
    if (!Array.isArray(body.conflicts) || !body.conflicts.every((c) => UUID.test(c))) throw new Error('conflicts');
    if (!Array.isArray(body.changes)) throw new Error('changes');
    body.changes.forEach(parseRecord);
    // apply: lists, tags, tasks, then deletes
    for (const type of ['list', 'tag', 'task']) {
      const map = { list: this.lists, tag: this.tags, task: this.tasks }[type];
      for (const r of body.changes.filter((c) => c.type === type)) {
        const { type: _t, ...rec } = r;
        map.set(rec.id, rec);
      }
    }
    for (const d of body.changes.filter((c) => c.type === 'deleted')) {
      ({ task: this.tasks, list: this.lists, tag: this.tags })[d.record_type]?.delete(d.id);
    }
    const earlier = this.mobile ? (local < body.server_time ? local : body.server_time)
      : (Date.parse(local) < Date.parse(body.server_time) ? local : body.server_time);
    this.lastSync = earlier;
    return body;
  }
  snapshot() {
    const strip = (m) => [...m.values()].map((r) => JSON.stringify(r)).sort();
    return { tasks: strip(this.tasks), lists: strip(this.lists), tags: strip(this.tags) };
  }
}
