// tickit-sync's protocol under /compat/tickit (issue 15): the desktop and mobile clients'
// sessions, two devices of a user, conflicts by time compared as instants, deletes,
// edits synced late, each user's data their own, the native API's view, and every
// refusal in tickit-sync's shapes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api, signUp, startServer } from '../../api/lib/cairn.mjs';
import { openEvents } from '../../api/lib/sse.mjs';
import { TickitDevice, parseRecord, uuid } from './client.mjs';

const LIMITS = { CAIRN_RATELIMIT_PER_ADDRESS: '100000', CAIRN_RATELIMIT_PER_ACCOUNT: '100000' };

async function tokenFor(U, name) {
  const s = await signUp(U, name);
  const t = await api(U, 'POST', '/api/v1/tokens', { token: s.access, body: { name: `tickit on ${name}'s laptop` } });
  assert.equal(t.status, 201);
  return { ...s, token: t.body.token, tokenDevice: t.body.device };
}

const wait = (ms) => new Promise((r) => setTimeout(r, ms));

test('two desktops and a phone of one user: creates, edits, conflicts by instant, deletes, all converge', async () => {
  const srv = await startServer({ env: LIMITS });
  const B = `${srv.url}/compat/tickit`;
  const ann = await tokenFor(srv.url, 'ann');
  const a = new TickitDevice(B, ann.token), b = new TickitDevice(`${B}/`, ann.token), m = new TickitDevice(B, ann.token, { mobile: true });
  try {
    const inbox = a.addList('Inbox', { is_inbox: true, icon: '📥' });
    const work = a.addTag('work');
    const t1 = a.addTask('Buy milk', inbox, { tag_ids: [work.id], priority: 'high', due_date: '2026-12-01T00:00:00+00:00' });
    const t2 = a.addTask('Call mum', inbox);
    let r = await a.sync();
    assert.deepEqual(r.conflicts, []);
    // b and the phone start empty: a first sync brings everything
    await b.sync();
    await m.sync();
    assert.deepEqual(b.snapshot(), a.snapshot());
    assert.deepEqual(m.snapshot(), a.snapshot());
    // edits on both desktops; the later one (as an instant) wins, whatever the text of the times
    await wait(5);
    b.edit('tasks', t1.id, { title: 'Buy oat milk' });
    await wait(5);
    a.edit('tasks', t1.id, { title: 'Buy soy milk' });
    m.edit('tasks', t2.id, { completed: true, completed_at: m.now() });
    await b.sync();
    r = await a.sync(); // a's edit is later: applied
    assert.deepEqual(r.conflicts, []);
    await m.sync();
    r = await b.sync();
    assert.equal(b.tasks.get(t1.id).title, 'Buy soy milk');
    assert.equal(b.tasks.get(t2.id).completed, true, "the phone's edit reached the desktop");
    // an older edit loses: its id is a conflict, and the server's copy comes with it
    const stale = new TickitDevice(B, ann.token);
    stale.tasks.set(t1.id, { ...a.tasks.get(t1.id), title: 'stale', updated_at: '2020-01-01T00:00:00Z' });
    stale.lastSync = '2019-01-01T00:00:00Z';
    r = await stale.sync();
    assert.deepEqual(r.conflicts, [t1.id]);
    assert.equal(stale.tasks.get(t1.id).title, 'Buy soy milk');
    // deletes reach the others; the inbox list cannot be deleted
    await wait(5);
    a.remove('tasks', t2.id);
    a.remove('lists', inbox.id);
    r = await a.sync();
    assert.deepEqual(r.conflicts, [inbox.id], 'the inbox list stays');
    assert.ok(a.lists.has(inbox.id), 'and comes back to the client');
    await b.sync();
    await m.sync();
    assert.equal(b.tasks.has(t2.id), false);
    assert.equal(m.tasks.has(t2.id), false);
    // a renamed tag travels (tickit-sync never sent renames)
    await wait(5);
    m.edit('tags', work.id, { name: 'office' });
    await m.sync();
    await a.sync();
    assert.equal(a.tags.get(work.id).name, 'office');
    for (const d of [a, b, m]) await d.sync();
    assert.deepEqual(b.snapshot(), a.snapshot());
    assert.deepEqual(m.snapshot(), a.snapshot());
  } catch (e) {
    e.message += `\n${[...a.log, ...b.log, ...m.log].join('\n')}`;
    throw e;
  } finally {
    await srv.stop();
  }
});

test('an edit made offline and synced late reaches every device; a clock far ahead does not win for ever', async () => {
  const srv = await startServer({ env: LIMITS });
  const B = `${srv.url}/compat/tickit`;
  const ann = await tokenFor(srv.url, 'ann');
  const a = new TickitDevice(B, ann.token), b = new TickitDevice(B, ann.token);
  try {
    const l = a.addList('Home');
    const k = a.addTask('Paint the door', l);
    await a.sync();
    await b.sync();
    // b edits offline at T1; a syncs at T2 > T1; b syncs at T3: tickit-sync compared
    // updated_at with a's last_sync and never sent b's edit to a
    b.edit('tasks', k.id, { title: 'Paint the door green' });
    await wait(20);
    await a.sync();
    await wait(20);
    await b.sync();
    await a.sync();
    assert.equal(a.tasks.get(k.id).title, 'Paint the door green');
    // a device whose clock is a day ahead: its time is clamped to the server's when
    // stored, so a later edit by a correct clock wins
    const ahead = new TickitDevice(B, ann.token);
    ahead.clockSkewMs = 86400000;
    await ahead.sync();
    ahead.edit('tasks', k.id, { title: 'from the future' });
    await ahead.sync();
    await wait(20);
    a.edit('tasks', k.id, { title: 'now' });
    const r = await a.sync();
    assert.deepEqual(r.conflicts, []);
    await b.sync();
    assert.equal(b.tasks.get(k.id).title, 'now');
  } catch (e) {
    e.message += `\n${[...a.log, ...b.log].join('\n')}`;
    throw e;
  } finally {
    await srv.stop();
  }
});

test("each user's data is their own; the native API sees it in the user's space \"tickit\", live; revoking the device ends its token", async () => {
  const srv = await startServer({ env: LIMITS });
  const U = srv.url, B = `${U}/compat/tickit`;
  const ann = await tokenFor(U, 'ann'), bob = await tokenFor(U, 'bob');
  const a = new TickitDevice(B, ann.token), o = new TickitDevice(B, bob.token);
  try {
    const ev = await openEvents(U, ann.access);
    const l = a.addList('Mine');
    a.addTask('Secret', l);
    await a.sync();
    const r = await o.sync();
    assert.deepEqual(r.changes, [], "bob sees none of ann's records (tickit-sync shared one set)");
    const spaces = (await api(U, 'GET', '/api/v1/spaces', { token: ann.access })).body.spaces;
    const sp = spaces.find((s) => s.name === 'tickit');
    assert.equal(sp.kind, 'shared');
    assert.equal(sp.role, 'owner');
    await ev.waitFor((e) => e.event === 'space' && e.data.space === sp.id && e.data.head_seq >= 2);
    ev.close();
    const recs = (await api(U, 'GET', `/api/v1/spaces/${sp.id}/records?collection=tasks`, { token: ann.access })).body.records;
    assert.equal(recs.length, 1);
    assert.equal(recs[0].data.title, 'Secret');
    // a native write in tickit's shape reaches the client; one in another shape is left out
    const task = { ...recs[0].data, title: 'Edited natively', updated_at: new Date(Date.now() + 1000).toISOString() };
    let w = await api(U, 'POST', `/api/v1/spaces/${sp.id}/changes`, { token: ann.access, body: { changes: [
      { op_id: 'n1', collection: 'tasks', id: task.id, op: 'put', data: task },
      { op_id: 'n2', collection: 'tasks', id: uuid(), op: 'put', data: { title: 'no list, no times' } },
    ] } });
    assert.equal(w.status, 200, JSON.stringify(w.body));
    const back = await a.sync();
    assert.deepEqual(back.changes.filter((c) => c.type === 'task').map((c) => c.title), ['Edited natively'],
      'the native edit; the record in another shape is left out');
    // devices are listed by name; revoking one ends its tickit token at once
    const devices = (await api(U, 'GET', '/api/v1/devices', { token: ann.access })).body.devices;
    assert.ok(devices.some((d) => d.name === "tickit on ann's laptop" && d.kind === 'token'));
    assert.equal((await api(U, 'DELETE', `/api/v1/devices/${ann.tokenDevice.id}`, { token: ann.access })).status, 204);
    await assert.rejects(a.sync(), /status 401/);
  } catch (e) {
    e.message += `\n${[...a.log, ...o.log].join('\n')}`;
    throw e;
  } finally {
    await srv.stop();
  }
});

test("refusals in tickit-sync's shapes; nothing of a refused sync is stored", async () => {
  const srv = await startServer({ env: { ...LIMITS, CAIRN_TICKIT_MAX_CHANGES: '5' } });
  const U = srv.url, B = `${U}/compat/tickit`;
  const ann = await tokenFor(U, 'ann');
  const post = async (path, { auth = `Bearer ${ann.token}`, ctype = 'application/json', body, method = 'POST' } = {}) => {
    const headers = {};
    if (auth) headers.Authorization = auth;
    if (ctype) headers['Content-Type'] = ctype;
    const res = await fetch(B + path, { method, headers, body });
    return { status: res.status, text: await res.text(), type: res.headers.get('content-type') || '' };
  };
  const sync = (changes, extra = {}) => post('/api/v1/sync', { body: JSON.stringify({ device_id: uuid(), last_sync: null, changes, ...extra }) });
  try {
    let r = await fetch(`${B}/health`);
    assert.deepEqual(Object.keys(await r.json()), ['status', 'service', 'version']);
    // auth, before routing as its middleware did (all but /health)
    for (const auth of [null, 'bearer x', 'Basic abc', 'Bearer']) {
      r = await post('/api/v1/sync', { auth, body: '{}' });
      assert.equal(r.status, 401, String(auth));
      assert.deepEqual(JSON.parse(r.text), { error: 'Missing or invalid Authorization header' });
    }
    r = await post('/api/v1/sync', { auth: 'Bearer tks_nothing', body: '{}' });
    assert.deepEqual([r.status, JSON.parse(r.text)], [401, { error: 'Invalid API token' }]);
    r = await post('/nothing', { auth: null });
    assert.equal(r.status, 401);
    r = await post('/nothing');
    assert.deepEqual([r.status, r.text], [404, '']);
    r = await post('/api/v1/sync', { method: 'GET', auth: null, ctype: null });
    assert.equal(r.status, 401);
    r = await post('/api/v1/sync', { method: 'GET', ctype: null });
    assert.deepEqual([r.status, r.text], [405, '']);
    r = await post('/health', { method: 'POST', auth: null });
    assert.equal(r.status, 405, '/health is outside the token check');
    // the framework's rejections: plain text
    r = await post('/api/v1/sync', { ctype: 'text/plain', body: '{}' });
    assert.equal(r.status, 415);
    r = await post('/api/v1/sync', { body: '{"device_id":' });
    assert.equal(r.status, 400);
    assert.match(r.type, /^text\/plain/);
    const list = { type: 'list', id: uuid(), name: 'L', created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z' };
    const bad = [
      [{}, /missing field `device_id`/],
      [{ device_id: uuid(), last_sync: null }, /missing field `changes`/],
      [{ device_id: uuid(), last_sync: 'yesterday', changes: [] }, /last_sync/],
    ];
    for (const [body, re] of bad) {
      r = await post('/api/v1/sync', { body: JSON.stringify(body) });
      assert.equal(r.status, 422, JSON.stringify(body));
      assert.match(r.text, re);
    }
    const badRecords = [
      [{ ...list, type: 'folder' }, /unknown variant/],
      [{ ...list, id: 'not-a-uuid' }, /`id` must be a UUID/],
      [{ ...list, updated_at: '2026-13-01T00:00:00Z' }, /updated_at/],
      [{ ...list, sort_order: 1.5 }, /sort_order/],
      [{ type: 'task', id: uuid(), title: 't', priority: 'someday', completed: false, list_id: list.id, created_at: list.created_at, updated_at: list.updated_at }, /priority/],
      [{ type: 'task', id: uuid(), title: 't', completed: false, list_id: list.id, tag_ids: ['x'], created_at: list.created_at, updated_at: list.updated_at }, /tag_ids/],
      [{ type: 'tag', id: uuid(), name: 'n', created_at: list.created_at }, /missing field `color`/],
      [{ type: 'deleted', id: uuid(), record_type: 'space', deleted_at: list.created_at }, /record_type/],
    ];
    for (const [rec, re] of badRecords) {
      r = await sync([list, rec]);
      assert.equal(r.status, 422, JSON.stringify(rec));
      assert.match(r.text, re);
    }
    r = await sync(Array.from({ length: 6 }, () => ({ ...list, id: uuid() })));
    assert.equal(r.status, 413);
    assert.match(r.text, /tickit\.max_changes/);
    // nothing of those was stored
    r = await sync([]);
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.text).changes, []);
    // tickit-sync's defaults fill what the mobile app may leave out; the answer has every field
    r = await sync([{ type: 'list', id: list.id, name: 'L', created_at: list.created_at, updated_at: list.updated_at },
      { type: 'tag', id: uuid(), name: 'g', color: 'red', created_at: list.created_at, updated_at: null },
      { type: 'task', id: uuid(), title: 't', completed: false, list_id: list.id, created_at: list.created_at, updated_at: list.updated_at }]);
    const out = JSON.parse(r.text).changes;
    out.forEach(parseRecord);
    assert.deepEqual(Object.keys(out.find((c) => c.type === 'task')), ['type', 'id', 'title', 'description', 'url', 'priority', 'completed', 'list_id', 'tag_ids', 'created_at', 'updated_at', 'completed_at', 'due_date']);
    assert.equal(out.find((c) => c.type === 'list').icon, '📁');
    assert.equal(out.find((c) => c.type === 'tag').updated_at, list.created_at);
    // the same sync sent twice (a timeout, a retry) is no conflict
    const again = [{ ...list, name: 'L2', updated_at: '2026-02-01T00:00:00Z' }];
    r = await sync(again);
    assert.deepEqual(JSON.parse(r.text).conflicts, []);
    r = await sync(again);
    assert.deepEqual(JSON.parse(r.text).conflicts, []);
    // links: a task_tag adds a tag to a task, a deleted task_tag clears them
    const t = { type: 'task', id: uuid(), title: 'linked', completed: false, list_id: list.id, created_at: list.created_at, updated_at: list.updated_at };
    const g = uuid();
    await sync([t]);
    r = await sync([{ type: 'task_tag', task_id: t.id, tag_id: g, created_at: list.created_at }]);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(JSON.parse(r.text).changes.find((c) => c.id === t.id).tag_ids, [g]);
    r = await sync([{ type: 'deleted', id: t.id, record_type: 'task_tag', deleted_at: list.created_at }]);
    assert.deepEqual(JSON.parse(r.text).changes.find((c) => c.id === t.id).tag_ids, []);
  } finally {
    await srv.stop();
  }
});

test('tickit.listen serves the protocol at the root of its own port, as tickit-sync on 3030', async () => {
  const net = await import('node:net');
  const free = await new Promise((res) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); }); });
  const srv = await startServer({ env: { ...LIMITS, CAIRN_TICKIT_LISTEN: `127.0.0.1:${free}` } });
  try {
    const ann = await tokenFor(srv.url, 'ann');
    const a = new TickitDevice(`http://127.0.0.1:${free}`, ann.token);
    a.addTask('on the old port', a.addList('L'));
    await a.sync();
    const b = new TickitDevice(`${srv.url}/compat/tickit`, ann.token);
    await b.sync();
    assert.deepEqual(b.snapshot(), a.snapshot());
  } finally {
    await srv.stop();
  }
});

test('cairn import tickit moves a tickit-sync database in: counts, tags of tasks, tombstones that win over old copies, twice imports nothing twice', async () => {
  const { spawnSync } = await import('node:child_process');
  const { join } = await import('node:path');
  const { tempDir, runCairn } = await import('../../api/lib/cairn.mjs');
  const dir = tempDir('tickit-import-');
  const file = join(dir, 'tickit-sync.sqlite');
  const inbox = uuid(), work = uuid(), t1 = uuid(), t2 = uuid(), gone = uuid();
  // tickit-sync's schema (seed research, section 3.4) and rows as its server stored them
  const sql = `
CREATE TABLE lists (id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT, icon TEXT NOT NULL DEFAULT '📋', color TEXT, is_inbox INTEGER NOT NULL DEFAULT 0, sort_order INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE tags (id TEXT PRIMARY KEY, name TEXT NOT NULL, color TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT);
CREATE TABLE tasks (id TEXT PRIMARY KEY, title TEXT NOT NULL, description TEXT, url TEXT, priority TEXT NOT NULL DEFAULT 'medium', completed INTEGER NOT NULL DEFAULT 0, list_id TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, completed_at TEXT, due_date TEXT);
CREATE TABLE task_tags (task_id TEXT NOT NULL, tag_id TEXT NOT NULL, created_at TEXT, PRIMARY KEY (task_id, tag_id));
CREATE TABLE tombstones (id TEXT PRIMARY KEY, record_type TEXT NOT NULL, deleted_at TEXT NOT NULL);
CREATE TABLE device_sync (device_id TEXT PRIMARY KEY, last_sync TEXT NOT NULL);
INSERT INTO lists VALUES ('${inbox}', 'Inbox', NULL, '📥', NULL, 1, 0, '2026-01-01T00:00:00Z', '2026-01-02T00:00:00+00:00');
INSERT INTO tags VALUES ('${work}', 'work', 'red', '2026-01-01T00:00:00Z', NULL);
INSERT INTO tasks VALUES ('${t1}', 'Write report', 'by Friday', NULL, 'urgent', 0, '${inbox}', '2026-01-01T00:00:00Z', '2026-01-03T10:00:00.123456789Z', NULL, '2026-01-09');
INSERT INTO tasks VALUES ('${t2}', 'Done thing', NULL, NULL, 'low', 1, '${inbox}', '2026-01-01T00:00:00Z', '2026-01-03T00:00:00Z', '2026-01-03T00:00:00Z', NULL);
INSERT INTO tasks VALUES ('not-a-uuid', 'Broken', NULL, NULL, 'medium', 0, '${inbox}', 'x', 'y', NULL, NULL);
INSERT INTO task_tags VALUES ('${t1}', '${work}', '2026-01-01T00:00:00Z');
INSERT INTO tombstones VALUES ('${gone}', 'task', '2026-01-05T00:00:00Z');
`;
  const made = spawnSync('sqlite3', [file], { input: sql, encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  const srv = await startServer({ env: LIMITS });
  try {
    const ann = await tokenFor(srv.url, 'ann');
    let r = await runCairn(['import', 'tickit', file, '--user', 'ann', '--data', srv.dir]);
    assert.equal(r.code, 1, 'a skipped row is exit status 1');
    assert.match(r.stdout, /tasks\s+2 read, 2 written, 0 kept/);
    assert.match(r.stdout, /lists\s+1 read, 1 written/);
    assert.match(r.stdout, /tags\s+1 read, 1 written/);
    assert.match(r.stdout, /deletions\s+1 read, 1 written/);
    assert.match(r.stdout, /1 skipped/);
    assert.match(r.stderr, /not-a-uuid/);
    const d = new TickitDevice(`${srv.url}/compat/tickit`, ann.token);
    await d.sync();
    assert.deepEqual([...d.tasks.keys()].sort(), [t1, t2].sort());
    assert.deepEqual(d.tasks.get(t1).tag_ids, [work]);
    assert.equal(d.tasks.get(t1).priority, 'urgent');
    assert.equal(d.tags.get(work).updated_at, '2026-01-01T00:00:00Z');
    assert.equal(d.lists.get(inbox).is_inbox, true);
    // a device that still had the deleted task, older than the deletion, loses it
    const old = new TickitDevice(`${srv.url}/compat/tickit`, ann.token);
    old.tasks.set(gone, { id: gone, title: 'gone', description: null, url: null, priority: 'medium', completed: false, list_id: inbox, tag_ids: [], created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-04T00:00:00Z', completed_at: null, due_date: null });
    const res = await old.sync();
    assert.deepEqual(res.conflicts, [gone]);
    assert.equal(old.tasks.has(gone), false);
    // again: nothing written twice
    r = await runCairn(['import', 'tickit', file, '--user', 'ann', '--data', srv.dir]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /tasks\s+2 read, 0 written, 2 kept/);
    assert.match(r.stdout, /deletions\s+1 read, 0 written, 1 kept/);
    // the import's device is gone; bad arguments are usage errors; a file that is not one fails
    const devices = (await api(srv.url, 'GET', '/api/v1/devices', { token: ann.access })).body.devices;
    assert.ok(devices.filter((x) => x.name === 'tickit import').every((x) => x.revoked_at));
    assert.equal((await runCairn(['import', 'tickit', file, '--data', srv.dir])).code, 2);
    assert.equal((await runCairn(['import', 'tickit', file, '--user', 'nobody', '--data', srv.dir])).code, 1);
    const notdb = join(dir, 'x.sqlite');
    spawnSync('sqlite3', [notdb], { input: 'CREATE TABLE x(a);' });
    assert.equal((await runCairn(['import', 'tickit', notdb, '--user', 'ann', '--data', srv.dir])).code, 1);
  } finally {
    await srv.stop();
  }
});

test("after a new user's review: an update keeps a list's is_inbox and created_at, a task's created_at; a native record without a client time counts as written when it arrived", async () => {
  const srv = await startServer({ env: LIMITS });
  const U = srv.url, B = `${U}/compat/tickit`;
  const ann = await tokenFor(U, 'ann');
  const a = new TickitDevice(B, ann.token);
  try {
    const inbox = a.addList('Inbox', { is_inbox: true });
    const k = a.addTask('t', inbox);
    await a.sync();
    // a phone renames the inbox without is_inbox (it defaults to false) and a task with
    // another created_at: tickit-sync never changed either on an update
    const later = new Date(Date.now() + 1000).toISOString();
    const post = (changes) => fetch(`${B}/api/v1/sync`, { method: 'POST', headers: { Authorization: `Bearer ${ann.token}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ device_id: uuid(), last_sync: null, changes }) }).then((r) => r.json());
    let r = await post([{ type: 'list', id: inbox.id, name: 'Renamed', created_at: '2001-01-01T00:00:00Z', updated_at: later },
      { type: 'task', id: k.id, title: 'renamed', completed: false, list_id: inbox.id, created_at: '2001-01-01T00:00:00Z', updated_at: later }]);
    const l = r.changes.find((c) => c.id === inbox.id), t = r.changes.find((c) => c.id === k.id);
    assert.equal(l.name, 'Renamed');
    assert.equal(l.is_inbox, true);
    assert.equal(l.created_at, inbox.created_at);
    assert.equal(t.title, 'renamed');
    assert.equal(t.created_at, k.created_at);
    r = await post([{ type: 'deleted', id: inbox.id, record_type: 'list', deleted_at: new Date(Date.now() + 2000).toISOString() }]);
    assert.deepEqual(r.conflicts, [inbox.id], 'still the inbox: not deleted');
    // a record written natively with no client time, after an older Tickit edit was made
    const sp = (await api(U, 'GET', '/api/v1/spaces', { token: ann.access })).body.spaces.find((s) => s.name === 'tickit');
    const fresh = uuid();
    await api(U, 'POST', `/api/v1/spaces/${sp.id}/changes`, { token: ann.access, body: { changes: [{ op_id: 'nat', collection: 'tasks', id: fresh, op: 'put', data: { title: 'native, no times' } }] } });
    r = await post([{ type: 'task', id: fresh, title: 'older tickit', completed: false, list_id: inbox.id, created_at: '2020-01-01T00:00:00Z', updated_at: '2020-01-01T00:00:00Z' }]);
    assert.deepEqual(r.conflicts, [fresh], 'the native write is newer: it stays');
    // 422 texts name the fault
    const bad = await fetch(`${B}/api/v1/sync`, { method: 'POST', headers: { Authorization: `Bearer ${ann.token}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ device_id: 5, last_sync: null, changes: [] }) });
    assert.equal(bad.status, 422);
    assert.match(await bad.text(), /`device_id` must be a string/);
    const nul = await fetch(`${B}/api/v1/sync`, { method: 'POST', headers: { Authorization: `Bearer ${ann.token}`, 'Content-Type': 'application/json' }, body: `{"device_id":"x","last_sync":null,"changes":[{"type":"tag","id":"${uuid()}","name":"a\\u0000b","color":"red","created_at":"2026-01-01T00:00:00Z"}]}` });
    assert.equal(nul.status, 422);
    assert.match(await nul.text(), /`name` must not contain NUL/);
  } finally {
    await srv.stop();
  }
});

test("after the attack review: a later delete moves a tombstone on; a first sync's cursor holds pruning; dates, cases and links; the importer skips what it cannot take", async () => {
  const { spawnSync } = await import('node:child_process');
  const { join } = await import('node:path');
  const { tempDir, runCairn } = await import('../../api/lib/cairn.mjs');
  const srv = await startServer({ env: { ...LIMITS, CAIRN_SYNC_RETENTION: '1s', CAIRN_SYNC_GC_INTERVAL: '0' } });
  const U = srv.url, B = `${U}/compat/tickit`;
  const ann = await tokenFor(U, 'ann');
  const post = (changes, last = null) => fetch(`${B}/api/v1/sync`, { method: 'POST', headers: { Authorization: `Bearer ${ann.token}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ device_id: uuid(), last_sync: last, changes }) }).then(async (r) => ({ status: r.status, text: await r.text() }));
  try {
    const list = { type: 'list', id: uuid(), name: 'L', created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z' };
    const task = (id, t, title = 'x') => ({ type: 'task', id, title, completed: false, list_id: list.id, created_at: '2026-01-01T00:00:00Z', updated_at: t });
    const x = uuid();
    await post([list, task(x, '2026-01-01T00:00:00Z')]);
    // deletes at T1 and T3, an edit at T2 between them: the edit loses to the later delete
    await post([{ type: 'deleted', id: x, record_type: 'task', deleted_at: '2026-01-01T01:00:00Z' }]);
    await post([{ type: 'deleted', id: x, record_type: 'task', deleted_at: '2026-01-01T03:00:00Z' }]);
    let r = JSON.parse((await post([task(x, '2026-01-01T02:00:00Z', 'between')])).text);
    assert.deepEqual(r.conflicts, [x]);
    assert.ok(r.changes.some((c) => c.type === 'deleted' && c.id === x));
    // a device's first (full) sync holds pruning: a delete after it is still sent to it
    // (b has a token of its own: a device, whose cursor the others' syncs do not move)
    const bTok = (await api(U, 'POST', '/api/v1/tokens', { token: ann.access, body: { name: 'b' } })).body.token;
    const b = new TickitDevice(B, bTok);
    await b.sync();
    const y = uuid();
    await post([task(y, '2026-01-02T00:00:00Z')]);
    await b.sync();
    await post([{ type: 'deleted', id: y, record_type: 'task', deleted_at: '2026-01-03T00:00:00Z' }]);
    await new Promise((res) => setTimeout(res, 1500));
    const gc = await runCairn(['gc', '--data', srv.dir], { env: { CAIRN_SYNC_RETENTION: '1s' } });
    assert.equal(gc.code, 0, gc.stderr);
    await b.sync();
    assert.equal(b.tasks.has(y), false, 'the delete reached the device');
    // a due_date that is no date; upper-case ids are the same record; two links add up
    r = await post([{ ...task(uuid(), '2026-01-01T00:00:00Z'), due_date: 'abcd-ef-gh' }]);
    assert.equal(r.status, 422);
    assert.match(r.text, /due_date/);
    assert.equal((await post([{ ...task(uuid(), '2026-01-01T00:00:00Z'), due_date: '2024-13-45' }])).status, 422);
    const up = uuid().toUpperCase();
    await post([task(up, '2026-01-05T00:00:00Z', 'upper')]);
    r = JSON.parse((await post([task(up.toLowerCase(), '2026-01-06T00:00:00Z', 'lower')])).text);
    const same = r.changes.filter((c) => c.id === up.toLowerCase());
    assert.equal(same.length, 1);
    assert.equal(same[0].title, 'lower');
    assert.ok(!r.changes.some((c) => c.id === up));
    const g1 = uuid(), g2 = uuid(), z = uuid();
    await post([task(z, '2026-01-07T00:00:00Z')]);
    r = await post([{ type: 'task_tag', task_id: z, tag_id: g1, created_at: list.created_at }, { type: 'task_tag', task_id: z, tag_id: g2, created_at: list.created_at },
      { type: 'task_tag', task_id: z, tag_id: g2, created_at: list.created_at }]);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(JSON.parse(r.text).changes.find((c) => c.id === z).tag_ids.sort(), [g1, g2].sort());
    // the importer: text that is not UTF-8, a row too large, and two rows alike
    const dir = tempDir('tickit-import-bad-');
    const file = join(dir, 'bad.sqlite');
    const l2 = uuid(), ok1 = uuid(), dup = uuid(), bin = uuid(), big = uuid();
    const sql = `
CREATE TABLE lists (id TEXT, name TEXT, description TEXT, icon TEXT, color TEXT, is_inbox INTEGER, sort_order INTEGER, created_at TEXT, updated_at TEXT);
CREATE TABLE tags (id TEXT, name TEXT, color TEXT, created_at TEXT, updated_at TEXT);
CREATE TABLE tasks (id TEXT, title TEXT, description TEXT, url TEXT, priority TEXT, completed INTEGER, list_id TEXT, created_at TEXT, updated_at TEXT, completed_at TEXT, due_date TEXT);
CREATE TABLE task_tags (task_id TEXT, tag_id TEXT, created_at TEXT);
CREATE TABLE tombstones (id TEXT, record_type TEXT, deleted_at TEXT);
INSERT INTO lists VALUES ('${l2}', 'L', NULL, 'i', NULL, 0, 0, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
INSERT INTO tasks VALUES ('${ok1}', 'fine', NULL, NULL, 'low', 0, '${l2}', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', NULL, NULL);
INSERT INTO tasks VALUES ('${dup}', 'twice', NULL, NULL, 'low', 0, '${l2}', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', NULL, NULL);
INSERT INTO tasks VALUES ('${dup}', 'twice', NULL, NULL, 'low', 0, '${l2}', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', NULL, NULL);
INSERT INTO tasks VALUES ('${bin}', CAST(x'c328' AS TEXT), NULL, NULL, 'low', 0, '${l2}', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', NULL, NULL);
INSERT INTO tasks VALUES ('${big}', printf('%.*c', 1100000, 'x'), NULL, NULL, 'low', 0, '${l2}', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', NULL, NULL);
`;
    const made = spawnSync('sqlite3', [file], { input: sql, encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    const bob = await tokenFor(U, 'bob');
    const imp = await runCairn(['import', 'tickit', file, '--user', 'bob', '--data', srv.dir]);
    assert.equal(imp.code, 1, imp.stdout + imp.stderr);
    assert.match(imp.stderr, /not UTF-8/);
    assert.match(imp.stderr, /limits\.record_bytes/);
    assert.match(imp.stdout, /tasks\s+3 read, 2 written, 1 kept/);
    const d = new TickitDevice(B, bob.token);
    await d.sync();
    assert.deepEqual([...d.tasks.keys()].sort(), [ok1, dup].sort());
  } finally {
    await srv.stop();
  }
});
