// Direct messages on spaces (issue 14, native part): sending, conversations with the newest
// message and unread counts, read cursors, notes to oneself, live delivery, limits, and
// nothing for users outside a conversation.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api, signUp, startServer } from './lib/cairn.mjs';

const LIMITS = { CAIRN_RATELIMIT_PER_ADDRESS: '100000', CAIRN_RATELIMIT_PER_ACCOUNT: '100000' };

test('a message makes the conversation; both sides list it, newest first, with unread counts that reads move', async () => {
  const srv = await startServer({ env: { ...LIMITS, CAIRN_MESSAGES_MAX_TEXT_BYTES: '100' } });
  const U = srv.url;
  const ann = await signUp(U, 'ann'), bob = await signUp(U, 'bob'), cat = await signUp(U, 'cat');
  const send = (from, to, text) => api(U, 'POST', '/api/v1/messages', { token: from.access, body: { to, text } });
  let r = await send(ann, 'bob', 'hello bob');
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const m1 = r.body;
  assert.equal(typeof m1.message_id, 'number');
  assert.equal(typeof m1.space, 'number');
  r = await send(bob, 'ann', 'hi ann');
  assert.equal(r.body.space, m1.space, 'one conversation per pair, from either side');
  const m3 = (await send(cat, 'ann', 'from cat')).body;
  assert.ok(m3.message_id > r.body.message_id && r.body.message_id > m1.message_id, 'ids are unique across conversations');
  let list = (await api(U, 'GET', '/api/v1/conversations', { token: ann.access })).body;
  assert.deepEqual(list.conversations.map((c) => c.with), ['cat', 'bob']);
  assert.equal(list.conversations[0].last_message.text, 'from cat');
  assert.equal(list.conversations[0].unread, 1);
  assert.equal(list.conversations[1].last_message.text, 'hi ann', 'really the newest message');
  assert.equal(list.conversations[1].unread, 1);
  list = (await api(U, 'GET', '/api/v1/conversations', { token: bob.access })).body;
  assert.equal(list.conversations[0].with, 'ann');
  assert.equal(list.conversations[0].unread, 1, "bob's own message is not unread for him");
  // paging
  let page = (await api(U, 'GET', '/api/v1/conversations?limit=1', { token: ann.access })).body;
  assert.equal(page.conversations.length, 1);
  assert.equal(page.more, true);
  page = (await api(U, 'GET', `/api/v1/conversations?limit=1&after=${page.next}`, { token: ann.access })).body;
  assert.deepEqual(page.conversations.map((c) => c.with), ['bob']);
  assert.equal(page.more, false);
  // read
  const conv = (await api(U, 'GET', '/api/v1/conversations', { token: ann.access })).body.conversations[1];
  r = await api(U, 'POST', `/api/v1/conversations/${conv.space}/read`, { token: ann.access, body: { seq: conv.last_seq } });
  assert.equal(r.status, 200);
  assert.equal(r.body.unread, 0);
  // limits and unknowns
  assert.equal((await send(ann, 'nobody', 'x')).status, 404);
  assert.equal((await send(ann, 'bob', '')).status, 400);
  r = await send(ann, 'bob', 'x'.repeat(101));
  assert.equal(r.status, 413);
  assert.match(r.body.error, /messages\.max_text_bytes/);
  // notes to oneself: a one-member conversation
  r = await send(ann, 'ann', 'remember the milk');
  assert.equal(r.status, 201);
  const mine = (await api(U, 'GET', `/api/v1/spaces/${r.body.space}/members`, { token: ann.access })).body.members;
  assert.deepEqual(mine.map((m) => m.username), ['ann']);
  // outside the conversation: nothing
  assert.equal((await api(U, 'POST', `/api/v1/conversations/${m1.space}/read`, { token: cat.access, body: { seq: 1 } })).status, 404);
  assert.equal((await api(U, 'GET', `/api/v1/spaces/${m1.space}/changes?since=0`, { token: cat.access })).status, 404);
  await srv.stop();
});

test('a message wakes the recipient\'s long-poll of the conversation at once', async () => {
  const srv = await startServer({ env: LIMITS });
  const U = srv.url;
  const ann = await signUp(U, 'ann'), bob = await signUp(U, 'bob');
  const first = (await api(U, 'POST', '/api/v1/messages', { token: ann.access, body: { to: 'bob', text: 'one' } })).body;
  const head = (await api(U, 'GET', `/api/v1/spaces/${first.space}/changes?since=0`, { token: bob.access })).body.head_seq;
  const t0 = Date.now();
  const poll = api(U, 'GET', `/api/v1/spaces/${first.space}/changes?since=${head}&wait=10`, { token: bob.access });
  await new Promise((res) => setTimeout(res, 200));
  await api(U, 'POST', '/api/v1/messages', { token: ann.access, body: { to: 'bob', text: 'two' } });
  const got = await poll;
  assert.equal(got.status, 200);
  assert.ok(Date.now() - t0 < 3000);
  assert.equal(got.body.changes[0].data.text, 'two');
  assert.equal(got.body.changes[0].data.sender, 'ann');
  await srv.stop();
});

test('a blocked sender is refused and no conversation is made; unblocking lets messages through', async () => {
  const srv = await startServer({ env: LIMITS });
  const U = srv.url;
  const ann = await signUp(U, 'ann'), bob = await signUp(U, 'bob');
  let r = await api(U, 'POST', '/api/v1/blocks', { token: ann.access, body: { username: 'bob' } });
  assert.equal(r.status, 204);
  assert.deepEqual((await api(U, 'GET', '/api/v1/blocks', { token: ann.access })).body.blocks.map((b) => b.username), ['bob']);
  r = await api(U, 'POST', '/api/v1/messages', { token: bob.access, body: { to: 'ann', text: 'let me in' } });
  assert.equal(r.status, 403);
  assert.equal(r.body.code, 'blocked');
  assert.deepEqual((await api(U, 'GET', '/api/v1/conversations', { token: bob.access })).body.conversations, []);
  assert.deepEqual((await api(U, 'GET', '/api/v1/conversations', { token: ann.access })).body.conversations, []);
  assert.equal((await api(U, 'POST', '/api/v1/blocks', { token: ann.access, body: { username: 'ann' } })).status, 400);
  assert.equal((await api(U, 'POST', '/api/v1/blocks', { token: ann.access, body: { username: 'nobody' } })).status, 404);
  assert.equal((await api(U, 'DELETE', '/api/v1/blocks/bob', { token: ann.access })).status, 204);
  assert.equal((await api(U, 'DELETE', '/api/v1/blocks/bob', { token: ann.access })).status, 404);
  r = await api(U, 'POST', '/api/v1/messages', { token: bob.access, body: { to: 'ann', text: 'hello again' } });
  assert.equal(r.status, 201);
  await srv.stop();
});

test('a conversation pages both ways: newest first before a seq, in order after one', async () => {
  const srv = await startServer({ env: LIMITS });
  const U = srv.url;
  const ann = await signUp(U, 'ann'), bob = await signUp(U, 'bob'), cat = await signUp(U, 'cat');
  let space;
  for (let i = 1; i <= 7; i++) space = (await api(U, 'POST', '/api/v1/messages', { token: (i % 2 ? ann : bob).access, body: { to: i % 2 ? 'bob' : 'ann', text: `m${i}` } })).body.space;
  let r = await api(U, 'GET', `/api/v1/conversations/${space}/messages?limit=3`, { token: bob.access });
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.messages.map((m) => m.text), ['m7', 'm6', 'm5']);
  assert.equal(r.body.more, true);
  r = await api(U, 'GET', `/api/v1/conversations/${space}/messages?limit=3&before=${r.body.next}`, { token: bob.access });
  assert.deepEqual(r.body.messages.map((m) => m.text), ['m4', 'm3', 'm2']);
  r = await api(U, 'GET', `/api/v1/conversations/${space}/messages?limit=3&before=${r.body.next}`, { token: bob.access });
  assert.deepEqual(r.body.messages.map((m) => m.text), ['m1']);
  assert.equal(r.body.more, false);
  r = await api(U, 'GET', `/api/v1/conversations/${space}/messages?since=0&limit=4`, { token: ann.access });
  assert.deepEqual(r.body.messages.map((m) => m.text), ['m1', 'm2', 'm3', 'm4']);
  r = await api(U, 'GET', `/api/v1/conversations/${space}/messages?since=${r.body.next}`, { token: ann.access });
  assert.deepEqual(r.body.messages.map((m) => m.text), ['m5', 'm6', 'm7']);
  assert.equal(r.body.messages[0].sender, 'ann');
  assert.equal(typeof r.body.messages[0].message_id, 'number');
  // outsiders and other spaces
  assert.equal((await api(U, 'GET', `/api/v1/conversations/${space}/messages`, { token: cat.access })).status, 404);
  assert.equal((await api(U, 'GET', '/api/v1/conversations/me/messages', { token: ann.access })).status, 404);
  await srv.stop();
});

test("one's own message can be deleted, leaving a tombstone; another's cannot", async () => {
  const srv = await startServer({ env: LIMITS });
  const U = srv.url;
  const ann = await signUp(U, 'ann'), bob = await signUp(U, 'bob');
  const m1 = (await api(U, 'POST', '/api/v1/messages', { token: ann.access, body: { to: 'bob', text: 'oops' } })).body;
  const m2 = (await api(U, 'POST', '/api/v1/messages', { token: ann.access, body: { to: 'bob', text: 'fine' } })).body;
  let conv = (await api(U, 'GET', '/api/v1/conversations', { token: bob.access })).body.conversations[0];
  assert.equal(conv.unread, 2);
  assert.equal((await api(U, 'DELETE', `/api/v1/conversations/${m1.space}/messages/${m1.message_id}`, { token: bob.access })).status, 404, "not bob's");
  assert.equal((await api(U, 'DELETE', `/api/v1/conversations/${m1.space}/messages/${m1.message_id}`, { token: ann.access })).status, 204);
  assert.equal((await api(U, 'DELETE', `/api/v1/conversations/${m1.space}/messages/${m1.message_id}`, { token: ann.access })).status, 404, 'once');
  conv = (await api(U, 'GET', '/api/v1/conversations', { token: bob.access })).body.conversations[0];
  assert.equal(conv.unread, 1);
  const msgs = (await api(U, 'GET', `/api/v1/conversations/${m1.space}/messages?since=0`, { token: bob.access })).body.messages;
  assert.deepEqual(msgs.map((m) => [m.message_id, m.deleted, m.text ?? null]), [[m1.message_id, true, null], [m2.message_id, false, 'fine']]);
  // the tombstone reaches pulls
  const pulled = (await api(U, 'GET', `/api/v1/spaces/${m1.space}/changes?since=0`, { token: bob.access })).body.changes;
  assert.equal(pulled.at(-1).op, 'delete');
  assert.equal(pulled.at(-1).id, String(m1.message_id));
  await srv.stop();
});

test("a message reaches the recipient's event stream: the new conversation, then each message", async () => {
  const { openEvents } = await import('./lib/sse.mjs');
  const srv = await startServer({ env: LIMITS });
  const U = srv.url;
  const ann = await signUp(U, 'ann'), bob = await signUp(U, 'bob');
  const s = await openEvents(U, bob.access);
  await s.waitFor((e) => e.event === 'space'); // bob's private space
  const m = (await api(U, 'POST', '/api/v1/messages', { token: ann.access, body: { to: 'bob', text: 'hi' } })).body;
  await s.waitFor((e) => e.event === 'membership' && e.data.space === m.space);
  await s.waitFor((e) => e.event === 'space' && e.data.space === m.space && e.data.head_seq === m.seq);
  const m2 = (await api(U, 'POST', '/api/v1/messages', { token: ann.access, body: { to: 'bob', text: 'again' } })).body;
  await s.waitFor((e) => e.event === 'space' && e.data.space === m.space && e.data.head_seq === m2.seq);
  s.close();
  await srv.stop();
});

test('attachments are blobs a message names: the recipient may read them then, and only then', async () => {
  const { createHash, randomBytes } = await import('node:crypto');
  const srv = await startServer({ env: LIMITS });
  const U = srv.url;
  const ann = await signUp(U, 'ann'), bob = await signUp(U, 'bob'), cat = await signUp(U, 'cat');
  const bytes = randomBytes(5000);
  const h = createHash('sha256').update(bytes).digest('hex');
  assert.equal((await fetch(`${U}/api/v1/blobs/${h}`, { method: 'PUT', headers: { Authorization: `Bearer ${ann.access}` }, body: bytes })).status, 201);
  assert.equal((await fetch(`${U}/api/v1/blobs/${h}`, { headers: { Authorization: `Bearer ${bob.access}` } })).status, 404);
  let r = await api(U, 'POST', '/api/v1/messages', { token: ann.access, body: { to: 'bob', text: 'a picture', blobs: [h] } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const got = await fetch(`${U}/api/v1/blobs/${h}`, { headers: { Authorization: `Bearer ${bob.access}` } });
  assert.equal(got.status, 200);
  assert.ok(Buffer.from(await got.arrayBuffer()).equals(bytes));
  assert.equal((await fetch(`${U}/api/v1/blobs/${h}`, { headers: { Authorization: `Bearer ${cat.access}` } })).status, 404);
  const msgs = (await api(U, 'GET', `/api/v1/conversations/${r.body.space}/messages`, { token: bob.access })).body.messages;
  assert.deepEqual(msgs[0].blobs, [h]);
  // a blob the sender cannot read is refused, and nothing is sent
  const other = randomBytes(100);
  const h2 = createHash('sha256').update(other).digest('hex');
  await fetch(`${U}/api/v1/blobs/${h2}`, { method: 'PUT', headers: { Authorization: `Bearer ${cat.access}` }, body: other });
  r = await api(U, 'POST', '/api/v1/messages', { token: ann.access, body: { to: 'bob', text: 'not mine', blobs: [h2] } });
  assert.equal(r.status, 400);
  assert.equal(r.body.code, 'blob_missing');
  r = await api(U, 'POST', '/api/v1/messages', { token: ann.access, body: { to: 'bob', text: 'bad', blobs: ['nope'] } });
  assert.equal(r.status, 400);
  const after = (await api(U, 'GET', '/api/v1/conversations', { token: bob.access })).body.conversations[0];
  assert.equal(after.last_message.text, 'a picture');
  await srv.stop();
});
