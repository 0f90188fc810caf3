// MigChat's protocol under /compat/migchat (issue 14): a full session as its CLI plays
// it, the same messages through the native API, and every refusal in MigChat's shapes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api, rawRequest, runCairn, signUp, startServer } from '../../api/lib/cairn.mjs';
import { openEvents } from '../../api/lib/sse.mjs';
import { MigChatCli, deserialize, envelope, keyBundle, shapes } from './cli.mjs';

const LIMITS = { CAIRN_RATELIMIT_PER_ADDRESS: '100000', CAIRN_RATELIMIT_PER_ACCOUNT: '100000' };
const PW = 'correct horse battery';

const ok = (r, what) => {
  assert.ok(r.value !== undefined, `${what}: ${r.status} ${r.error ?? ''} ${r.raw ?? ''}`);
  return r.value;
};

test('a CLI session: accounts, key bundles, messages both ways, reads, unread counts, the filtered list', async () => {
  const srv = await startServer({ env: LIMITS });
  const cli = new MigChatCli(`${srv.url}/compat/migchat`);
  try {
    const h = await cli.health();
    assert.equal(h.ok, true);
    assert.equal(h.text, 'OK');
    const alice = ok(await cli.createAccount('alice', PW), 'create alice');
    const bob = ok(await cli.createAccount('bob', PW), 'create bob');
    assert.equal(alice.username, 'alice');
    assert.notEqual(alice.user_id, bob.user_id);
    assert.notEqual(alice.token, bob.token);
    // right after creating an account the CLI uploads its bundle
    assert.deepEqual(ok(await cli.uploadKeys(alice.token, keyBundle('alice')), 'alice keys'), { success: true });
    const bobKeys = keyBundle('bob');
    ok(await cli.uploadKeys(bob.token, bobKeys), 'bob keys');

    // alice opens a session with bob: his bundle, one one-time prekey, never given twice
    const k1 = ok(await cli.getKeys(alice.token, 'bob'), 'fetch bob').key_bundle;
    assert.equal(k1.identity_key, bobKeys.identity_key);
    assert.equal(k1.signed_prekey, bobKeys.signed_prekey);
    assert.equal(k1.signed_prekey_signature, bobKeys.signed_prekey_signature);
    assert.equal(k1.one_time_prekeys.length, 1);
    // one asker takes one of a user's prekeys a minute: again at once, the bundle alone
    const again = ok(await cli.getKeys(alice.token, 'bob'), 'fetch bob again').key_bundle;
    assert.equal(again.identity_key, bobKeys.identity_key);
    assert.deepEqual(again.one_time_prekeys, []);
    // others each take another, never one handed out before
    const handed = new Set(k1.one_time_prekeys);
    for (let i = 1; i < 10; i++) {
      const u = ok(await cli.createAccount(`asker${i}`, PW), `asker${i}`);
      const k = ok(await cli.getKeys(u.token, 'bob'), 'fetch bob').key_bundle;
      assert.equal(k.one_time_prekeys.length, 1);
      assert.ok(!handed.has(k.one_time_prekeys[0]), 'a one-time prekey is handed out once');
      handed.add(k.one_time_prekeys[0]);
    }
    assert.deepEqual([...handed].sort(), [...bobKeys.one_time_prekeys].sort());
    const late = ok(await cli.createAccount('asker10', PW), 'asker10');
    const spent = ok(await cli.getKeys(late.token, 'bob'), 'fetch bob spent').key_bundle;
    assert.deepEqual(spent.one_time_prekeys, [], 'spent: the bundle without a prekey (the CLI takes .first())');

    // messages both ways (content is the CLI's base64 envelope, opaque to the server)
    const c1 = envelope('hi bob'), c2 = envelope('hi alice'), c3 = envelope('how are you?');
    const s1 = ok(await cli.sendMessage(alice.token, 'bob', c1), 'send 1');
    const s2 = ok(await cli.sendMessage(bob.token, 'alice', c2), 'send 2');
    const s3 = ok(await cli.sendMessage(alice.token, 'bob', c3), 'send 3');
    assert.ok(s1.message_id < s2.message_id && s2.message_id < s3.message_id);

    // bob polls the message list: newest first, names, content, times as sent
    let msgs = ok(await cli.getMessages(bob.token), 'bob polls');
    assert.deepEqual(msgs.map((m) => [m.id, m.from_username, m.to_username, m.content]), [
      [s3.message_id, 'alice', 'bob', c3],
      [s2.message_id, 'bob', 'alice', c2],
      [s1.message_id, 'alice', 'bob', c1],
    ]);
    assert.equal(Date.parse(msgs[0].created_at), Date.parse(s3.created_at));
    // the same list from alice's side agrees
    assert.deepEqual(ok(await cli.getMessages(alice.token), 'alice polls'), msgs);

    // conversations with unread counts (only the other's messages count)
    let conv = ok(await cli.getConversations(bob.token), 'bob conversations');
    assert.deepEqual(conv.map((c) => [c.username, c.last_message, c.unread_count]), [['alice', c3, 2]]);
    assert.equal(Date.parse(conv[0].last_message_time), Date.parse(s3.created_at));
    conv = ok(await cli.getConversations(alice.token), 'alice conversations');
    assert.deepEqual(conv.map((c) => [c.username, c.last_message, c.unread_count]), [['bob', c3, 1]]);

    // bob opens the conversation: mark-read, then the filtered list
    assert.deepEqual(ok(await cli.markRead(bob.token, 'alice'), 'mark read'), { marked_read: 2 });
    assert.deepEqual(ok(await cli.markRead(bob.token, 'alice'), 'mark read again'), { marked_read: 0 });
    const filtered = ok(await cli.getFiltered(bob.token, 'alice'), 'filtered');
    assert.deepEqual(filtered.map((m) => m.id), [s3.message_id, s2.message_id, s1.message_id]);
    conv = ok(await cli.getConversations(bob.token), 'after reading');
    assert.equal(conv[0].unread_count, 0);
    assert.equal(ok(await cli.getConversations(alice.token), 'alice unchanged')[0].unread_count, 1);

    // a third user: the filtered list keeps to one conversation; the full list has all
    const carol = ok(await cli.createAccount('carol', PW), 'create carol');
    const s4 = ok(await cli.sendMessage(carol.token, 'bob', envelope('hey')), 'send 4');
    assert.deepEqual(ok(await cli.getFiltered(bob.token, 'alice'), 'filtered').map((m) => m.id), [s3.message_id, s2.message_id, s1.message_id]);
    assert.deepEqual(ok(await cli.getMessages(bob.token), 'all').map((m) => m.id), [s4.message_id, s3.message_id, s2.message_id, s1.message_id]);
    assert.deepEqual(ok(await cli.getConversations(bob.token), 'two').map((c) => [c.username, c.unread_count]), [['carol', 1], ['alice', 0]]);
    assert.deepEqual(ok(await cli.getMessages(alice.token), 'alice sees none of carol').map((m) => m.id), [s3.message_id, s2.message_id, s1.message_id]);

    // notes to oneself, as MigChat allows: listed once, from and to the sender
    const s5 = ok(await cli.sendMessage(carol.token, 'carol', 'note'), 'note to self');
    const mine = ok(await cli.getMessages(carol.token), 'carol');
    assert.deepEqual(mine.map((m) => [m.id, m.from_username, m.to_username]), [[s5.message_id, 'carol', 'carol'], [s4.message_id, 'carol', 'bob']]);

    // a new username: the lists name the user as now called; messages reach the new name
    const up = ok(await cli.updateUsername(alice.token, 'alicia'), 'rename');
    assert.equal(up.username, 'alicia');
    assert.equal((await cli.sendMessage(bob.token, 'alice', 'x')).status, 404);
    ok(await cli.sendMessage(bob.token, 'alicia', envelope('renamed')), 'to the new name');
    msgs = ok(await cli.getMessages(bob.token), 'after rename');
    assert.equal(msgs[0].to_username, 'alicia');
    assert.ok(msgs.every((m) => m.from_username !== 'alice' && m.to_username !== 'alice'));
    assert.equal(ok(await cli.getConversations(bob.token), 'after rename')[0].username, 'alicia');
  } catch (e) {
    e.message += `\nexchanges:\n${cli.exchanges.join('\n')}`;
    throw e;
  } finally {
    await srv.stop();
  }
});

test("MigChat's messages are the native API's: the same conversation, live on the event stream and long-polls", async () => {
  const srv = await startServer({ env: LIMITS });
  const U = srv.url;
  const cli = new MigChatCli(`${U}/compat/migchat`);
  try {
    const ann = ok(await cli.createAccount('ann', PW), 'ann');
    const ben = await signUp(U, 'ben'); // a native user
    // a MigChat token is a device token of a Cairn user: the native API takes it
    const acct = await api(U, 'GET', '/api/v1/account', { token: ann.token });
    assert.equal(acct.status, 200);
    assert.equal(acct.body.user.username, 'ann');
    assert.match(acct.body.device.name, /^MigChat, \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$/);
    // native to MigChat and back
    const n1 = await api(U, 'POST', '/api/v1/messages', { token: ben.access, body: { to: 'ann', text: 'native hello' } });
    assert.equal(n1.status, 201);
    const m = ok(await cli.getMessages(ann.token), 'ann');
    assert.deepEqual(m.map((x) => [x.id, x.from_username, x.content]), [[n1.body.message_id, 'ben', 'native hello']]);
    // ben's event stream hears of a MigChat send to him
    const ev = await openEvents(U, ben.access);
    assert.equal(ev.status, 200);
    const e1 = ok(await cli.sendMessage(ann.token, 'ben', 'first from migchat'), 'send e1');
    await ev.waitFor((e) => e.event === 'space' && e.data.space === n1.body.space && e.data.head_seq === n1.body.seq + 1);
    ev.close();
    // a long-poll of the conversation wakes on a MigChat send
    const since = n1.body.seq + 1;
    const poll = api(U, 'GET', `/api/v1/spaces/${n1.body.space}/changes?since=${since}&wait=10`, { token: ben.access });
    await new Promise((r) => setTimeout(r, 200));
    const s = ok(await cli.sendMessage(ann.token, 'ben', 'from migchat'), 'send');
    const woke = await poll;
    assert.equal(woke.status, 200);
    assert.equal(woke.body.changes.length, 1);
    assert.equal(woke.body.changes[0].data.message_id, s.message_id);
    assert.equal(woke.body.changes[0].data.text, 'from migchat');
    // the native conversation list agrees with MigChat's
    const nat = (await api(U, 'GET', '/api/v1/conversations', { token: ben.access })).body.conversations;
    assert.equal(nat[0].with, 'ann');
    assert.equal(nat[0].unread, 2);
    assert.equal(nat[0].last_message.text, 'from migchat');
    const mc = ok(await cli.getConversations(ann.token), 'ann conv');
    assert.deepEqual(mc.map((c) => [c.username, c.last_message, c.unread_count]), [['ben', 'from migchat', 1]]);
    assert.ok(e1.message_id < s.message_id);
    // reading natively moves MigChat's count, and the other way round
    await api(U, 'POST', `/api/v1/conversations/${n1.body.space}/read`, { token: ann.token, body: { seq: n1.body.seq } });
    assert.equal(ok(await cli.getConversations(ann.token), 'read natively')[0].unread_count, 0);
    assert.deepEqual(ok(await cli.markRead(ben.access, 'ann'), 'ben marks read via MigChat'), { marked_read: 2 });
    assert.equal((await api(U, 'GET', '/api/v1/conversations', { token: ben.access })).body.conversations[0].unread, 0);
    // a message deleted natively leaves MigChat's lists
    const del = await api(U, 'DELETE', `/api/v1/conversations/${n1.body.space}/messages/${s.message_id}`, { token: ann.token });
    assert.equal(del.status, 204);
    assert.deepEqual(ok(await cli.getMessages(ben.access), 'after delete').map((x) => x.id), [e1.message_id, n1.body.message_id]);
    // blocks hold for MigChat's sends too, and nothing is stored
    await api(U, 'POST', '/api/v1/blocks', { token: ben.access, body: { username: 'ann' } });
    const blocked = await cli.sendMessage(ann.token, 'ben', 'let me in');
    assert.equal(blocked.status, 403);
    assert.match(blocked.error, /not accept/);
    assert.equal(ok(await cli.getMessages(ann.token), 'unchanged').length, 2);
  } finally {
    await srv.stop();
  }
});

test('account creation obeys the realm: closed sign-up, required confirmation, rules, another realm; a second create with the password logs in again', async () => {
  const srv = await startServer({ env: { ...LIMITS, CAIRN_MIGCHAT_REALM: 'chat' }, args: ['--admin-user', 'root', '--admin-pass', 'root password 1'] });
  const U = srv.url;
  const cli = new MigChatCli(`${U}/compat/migchat`);
  try {
    // the realm does not exist yet
    let r = await cli.createAccount('dora', PW);
    assert.equal(r.status, 503);
    assert.match(r.error, /migchat\.realm/);
    const root = (await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'root', password: 'root password 1' } })).body.access_token;
    assert.equal((await api(U, 'POST', '/api/v1/admin/realms', { token: root, body: { name: 'chat', signup_open: false } })).status, 201);
    r = await cli.createAccount('dora', PW);
    assert.equal(r.status, 403);
    assert.equal(r.error, 'Sign-up is closed on this server');
    await api(U, 'PATCH', '/api/v1/admin/realms/chat', { token: root, body: { signup_open: true, confirm_email: true } });
    r = await cli.createAccount('dora', PW);
    assert.equal(r.status, 403);
    assert.match(r.error, /e-mail address/);
    await api(U, 'PATCH', '/api/v1/admin/realms/chat', { token: root, body: { confirm_email: false } });
    // the realm's rules, in MigChat's words
    r = await cli.createAccount('dora', 'short');
    assert.equal(r.status, 400);
    assert.match(r.error, /^Password /);
    r = await cli.createAccount('no spaces allowed', PW);
    assert.equal(r.status, 400);
    assert.match(r.error, /^Username /);
    assert.deepEqual([(await cli.createAccount('', PW)).error, (await cli.createAccount('dora', '')).error], ['Username cannot be empty', 'Password cannot be empty']);
    const d1 = ok(await cli.createAccount('dora', PW), 'dora');
    // the account is in realm chat: native login there works, in the default realm not
    assert.equal((await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'dora', password: PW, realm: 'chat' } })).status, 200);
    assert.equal((await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'dora', password: PW } })).status, 401);
    // taken, with another password: MigChat's 409; with hers: a new token (a new device)
    r = await cli.createAccount('Dora', 'another password');
    assert.equal(r.status, 409);
    assert.equal(r.error, 'Username already exists');
    const d2 = ok(await cli.createAccount('dora', PW), 'log in again');
    assert.equal(d2.user_id, d1.user_id);
    assert.notEqual(d2.token, d1.token);
    const devices = (await api(U, 'GET', '/api/v1/devices', { token: d2.token })).body.devices;
    const tokens = devices.filter((d) => d.kind === 'token');
    assert.deepEqual(tokens.map((d) => [d.name.replace(/,.*/, ''), Boolean(d.revoked_at)]), [['MigChat', false], ['MigChat', false]]);
    // revoking one device ends that token at its next request, not the other
    const first = tokens.find((d) => !d.current);
    assert.equal((await api(U, 'DELETE', `/api/v1/devices/${first.id}`, { token: d2.token })).status, 204);
    assert.equal((await cli.getMessages(d1.token)).status, 401);
    assert.equal((await cli.getMessages(d2.token)).status, 200);
    // a disabled account: MigChat's error shape
    await api(U, 'PATCH', `/api/v1/admin/users/${d1.user_id}`, { token: root, body: { disabled: true } });
    r = await cli.getMessages(d2.token);
    assert.equal(r.status, 403);
    assert.equal(r.error, 'This account is disabled');
    r = await cli.createAccount('dora', PW);
    assert.equal(r.status, 403);
  } catch (e) {
    e.message += `\nexchanges:\n${cli.exchanges.join('\n')}`;
    throw e;
  } finally {
    await srv.stop();
  }
});

test("every refusal in MigChat's shapes: 401 empty, {error} bodies, the framework's plain text; nothing stored", async () => {
  const srv = await startServer({ env: { ...LIMITS, CAIRN_MESSAGES_MAX_TEXT_BYTES: '64' } });
  const B = `${srv.url}/compat/migchat`;
  const cli = new MigChatCli(B);
  const raw = async (method, path, { headers = {}, body } = {}) => {
    const res = await fetch(B + path, { method, headers, body });
    return { status: res.status, text: await res.text(), headers: res.headers };
  };
  try {
    const a = ok(await cli.createAccount('amy', PW), 'amy');
    const b = ok(await cli.createAccount('bea', PW), 'bea');
    // every authenticated route, without, with a malformed and with an unknown token
    const routes = [['POST', '/api/account/update-username', '{"new_username":"zed"}'], ['POST', '/api/messages/send', '{"to_username":"bea","content":"x"}'],
      ['GET', '/api/messages'], ['GET', '/api/messages/filtered?with_user=bea'], ['POST', '/api/messages/mark-read?with_user=bea'],
      ['GET', '/api/conversations'], ['POST', '/api/keys/upload', JSON.stringify({ key_bundle: keyBundle('x') })], ['GET', '/api/keys/bea']];
    for (const [method, path, body] of routes)
      for (const auth of [undefined, 'Bearer', 'Bearer nope', `Basic ${a.token}`, `Bearer ${a.token}x`]) {
        const headers = { 'content-type': 'application/json' };
        if (auth) headers.authorization = auth;
        const r = await raw(method, path, { headers, body });
        assert.equal(r.status, 401, `${method} ${path} with ${auth}`);
        assert.equal(r.text, '', '401 has an empty body');
        assert.equal(r.headers.get('access-control-allow-origin'), '*');
      }
    assert.equal((await cli.getMessages(a.token)).value.length, 0, 'nothing was sent by refused requests');
    assert.equal((await cli.updateUsername(a.token, 'amy2')).status, 200, 'nor renamed');
    ok(await cli.updateUsername(a.token, 'amy'), 'back');

    // handlers' errors: {"error": ...} with MigChat's statuses and words
    const e = async (p, status, error) => {
      const r = await p;
      assert.equal(r.status, status, JSON.stringify(r));
      if (error instanceof RegExp) assert.match(r.error, error);
      else assert.equal(r.error, error);
    };
    await e(cli.sendMessage(a.token, 'bea', ''), 400, 'Message content cannot be empty');
    await e(cli.sendMessage(a.token, 'nobody', 'x'), 404, 'Recipient user not found');
    await e(cli.sendMessage(a.token, 'bea', 'x'.repeat(65)), 413, /messages\.max_text_bytes/);
    await e(cli.getFiltered(a.token, 'nobody'), 404, 'User not found');
    await e(cli.markRead(a.token, 'nobody'), 404, 'User not found');
    await e(cli.getKeys(a.token, 'nobody'), 404, 'User not found');
    await e(cli.getKeys(a.token, 'bea'), 404, 'Keys not found for this user');
    await e(cli.updateUsername(a.token, ''), 400, 'Username cannot be empty');
    await e(cli.updateUsername(a.token, 'BEA'), 409, 'Username already exists');
    let r = await raw('POST', '/api/messages/mark-read', { headers: { authorization: `Bearer ${a.token}` } });
    assert.equal(r.status, 400);
    assert.deepEqual(JSON.parse(r.text), { error: 'with_user parameter is required' });
    assert.deepEqual((await cli.markRead(a.token, 'bea')).value, { marked_read: 0 }, 'no conversation yet: nothing to mark');
    assert.deepEqual((await cli.getFiltered(a.token, 'bea')).value, []);
    // without with_user the filtered list is the whole list, as MigChat's was
    ok(await cli.sendMessage(b.token, 'amy', 'one'), 'one');
    r = await raw('GET', '/api/messages/filtered', { headers: { authorization: `Bearer ${a.token}` } });
    assert.equal(JSON.parse(r.text).length, 1);

    // the framework's rejections: plain text 415, 400 and 422; 404 and 405 empty
    const auth = { authorization: `Bearer ${a.token}` };
    r = await raw('POST', '/api/messages/send', { headers: { ...auth, 'content-type': 'text/plain' }, body: '{"to_username":"bea","content":"x"}' });
    assert.equal(r.status, 415);
    assert.match(r.headers.get('content-type'), /^text\/plain/);
    r = await raw('POST', '/api/messages/send', { headers: { ...auth, 'content-type': 'application/json' }, body: '{"to_username":' });
    assert.equal(r.status, 400);
    assert.match(r.headers.get('content-type'), /^text\/plain/);
    for (const body of ['{"to_username":"bea"}', '{"to_username":"bea","content":5}', '[]', '{"to_username":"bea","content":"a\\u0000b"}']) {
      r = await raw('POST', '/api/messages/send', { headers: { ...auth, 'content-type': 'application/json' }, body });
      assert.equal(r.status, 422, body);
      assert.match(r.headers.get('content-type'), /^text\/plain/);
      assert.match(r.text, /deserialize/);
    }
    r = await raw('GET', '/api/nothing', { headers: auth });
    assert.deepEqual([r.status, r.text], [404, '']);
    r = await raw('DELETE', '/api/messages', { headers: auth });
    assert.deepEqual([r.status, r.text], [405, '']);
    // key bundles: wrong shapes 422, limits 413, an empty key 400; the old bundle stays
    ok(await cli.uploadKeys(b.token, keyBundle('bea')), 'bea keys');
    const bad = [
      [{}, 422], [{ key_bundle: [] }, 422], [{ key_bundle: { ...keyBundle('z'), identity_key: 7 } }, 422],
      [{ key_bundle: { ...keyBundle('z'), one_time_prekeys: 'x' } }, 422], [{ key_bundle: { ...keyBundle('z'), one_time_prekeys: [1] } }, 422],
      [{ key_bundle: { ...keyBundle('z'), identity_key: '' } }, 400],
      [{ key_bundle: { ...keyBundle('z'), signed_prekey: 'k'.repeat(1025) } }, 413],
      [{ key_bundle: { ...keyBundle('z'), one_time_prekeys: Array(1001).fill('k') } }, 413],
      [{ key_bundle: { ...keyBundle('z'), one_time_prekeys: ['k'.repeat(1025)] } }, 413],
    ];
    for (const [body, status] of bad) {
      r = await raw('POST', '/api/keys/upload', { headers: { authorization: `Bearer ${b.token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      assert.equal(r.status, status, `${JSON.stringify(body).slice(0, 120)}: ${r.text}`);
      if (status !== 422) deserialize(shapes.ErrorResponse, JSON.parse(r.text));
    }
    const kept = ok(await cli.getKeys(a.token, 'bea'), 'kept').key_bundle;
    assert.equal(kept.identity_key, keyBundle('bea').identity_key, 'a refused upload changed nothing');
    // a new upload replaces the bundle and every prekey left
    ok(await cli.uploadKeys(b.token, keyBundle('bea2')), 'replace');
    const c = ok(await cli.createAccount('cid', PW), 'cid');
    const fresh = ok(await cli.getKeys(c.token, 'bea'), 'fresh').key_bundle;
    assert.equal(fresh.identity_key, keyBundle('bea2').identity_key);
    assert.ok(keyBundle('bea2').one_time_prekeys.includes(fresh.one_time_prekeys[0]));
    // HEAD takes nothing (a GET here does): refused
    r = await raw('HEAD', '/api/keys/bea', { headers: { authorization: `Bearer ${a.token}` } });
    assert.equal(r.status, 405);
    assert.equal(r.headers.get('allow'), 'GET');
    // a user who blocks the asker gives no keys
    await api(srv.url, 'POST', '/api/v1/blocks', { token: b.token, body: { username: 'cid' } });
    await e(cli.getKeys(c.token, 'bea'), 403, 'The user does not accept messages from you');

    // CORS: a preflight anywhere in the protocol, and the origin header on every answer
    r = await raw('OPTIONS', '/api/messages/send', { headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('access-control-allow-origin'), '*');
    assert.equal(r.headers.get('access-control-allow-headers'), '*');
    assert.equal(r.headers.get('access-control-allow-methods'), '*');
    for (const p of ['/health', '/api/nothing'])
      assert.equal((await raw('GET', p)).headers.get('access-control-allow-origin'), '*');
    // the native API is not MigChat's: no CORS header there
    assert.equal((await fetch(`${srv.url}/api/v1/health`)).headers.get('access-control-allow-origin'), null);
  } catch (err) {
    err.message += `\nexchanges:\n${cli.exchanges.join('\n')}`;
    throw err;
  } finally {
    await srv.stop();
  }
});

test('the message list is the newest max_messages across conversations, newest first; conversations max_conversations; [migchat] enabled = false', async () => {
  const srv = await startServer({ env: { ...LIMITS, CAIRN_MIGCHAT_MAX_MESSAGES: '5', CAIRN_MIGCHAT_MAX_CONVERSATIONS: '2' } });
  const cli = new MigChatCli(`${srv.url}/compat/migchat`);
  try {
    const me = ok(await cli.createAccount('hub', PW), 'hub');
    const others = [];
    for (const n of ['p1', 'p2', 'p3']) others.push(ok(await cli.createAccount(n, PW), n));
    // interleaved across three conversations, some sent by me, one deleted
    const sent = [];
    const order = [0, 1, 0, 2, 2, 1, 0, 2, 1, 1];
    for (const [i, k] of order.entries()) {
      const from = i % 3 === 0 ? me : others[k];
      const to = i % 3 === 0 ? `p${k + 1}` : 'hub';
      sent.push({ ...ok(await cli.sendMessage(from.token, to, `m${i}`), `m${i}`), text: `m${i}`, from });
    }
    // delete the newest one natively (its sender's)
    const last = sent.at(-1);
    const nat = (await api(srv.url, 'GET', '/api/v1/conversations', { token: last.from.token })).body.conversations[0];
    assert.equal((await api(srv.url, 'DELETE', `/api/v1/conversations/${nat.space}/messages/${last.message_id}`, { token: last.from.token })).status, 204);
    const expected = sent.slice(0, -1).map((s) => s.message_id).sort((x, y) => y - x).slice(0, 5);
    const got = ok(await cli.getMessages(me.token), 'hub list');
    assert.deepEqual(got.map((m) => m.id), expected);
    assert.deepEqual(got.map((m) => m.content), expected.map((id) => sent.find((s) => s.message_id === id).text));
    const conv = ok(await cli.getConversations(me.token), 'conversations');
    assert.equal(conv.length, 2);
    assert.deepEqual(conv.map((c) => c.username), ['p2', 'p3'], 'newest activity first');
  } finally {
    await srv.stop();
  }
  const off = await startServer({ env: { CAIRN_MIGCHAT_ENABLED: 'false' } });
  try {
    const r = await fetch(`${off.url}/compat/migchat/health`);
    assert.equal(r.status, 404);
    assert.equal((await r.json()).code, 'not_found', 'the native 404: nothing is mounted there');
  } finally {
    await off.stop();
  }
});

test('cairn config shows the [migchat] section; a realm that cannot be one stops the server', async () => {
  const r = await runCairn(['config'], { env: { CAIRN_MIGCHAT_REALM: 'chat' } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\[migchat\][\s\S]*realm = "?chat"?/);
  for (const bad of ['Bad Realm', 'Default', '-x']) {
    const b = await runCairn(['config'], { env: { CAIRN_MIGCHAT_REALM: bad } });
    assert.equal(b.code, 2, bad);
    assert.match(b.stderr, /migchat\.realm/);
  }
  const l = await runCairn(['config'], { env: { CAIRN_MIGCHAT_LISTEN: 'nonsense' } });
  assert.equal(l.code, 2);
  assert.match(l.stderr, /migchat\.listen/);
});

test('migchat.listen serves the protocol at the root of a port of its own; a missing realm is warned about at start', async () => {
  const net = await import('node:net');
  const free = await new Promise((res) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); }); });
  const srv = await startServer({ env: { ...LIMITS, CAIRN_MIGCHAT_LISTEN: `127.0.0.1:${free}`, CAIRN_MIGCHAT_REALM: 'nowhere' } });
  try {
    assert.match(srv.log(), /migchat\.realm 'nowhere' does not exist/);
    assert.match(srv.log(), new RegExp(`migchat's protocol also at the root of 127\\.0\\.0\\.1:${free}`));
    const own = new MigChatCli(`http://127.0.0.1:${free}`);
    const h = await own.health();
    assert.equal(h.text, 'OK');
    assert.equal(h.headers.get('access-control-allow-origin'), '*');
    assert.equal((await own.createAccount('ann', PW)).status, 503);
    // the native API is not on that port; MigChat's 404 (empty) answers there
    const n = await fetch(`http://127.0.0.1:${free}/api/v1/health`);
    assert.deepEqual([n.status, await n.text()], [404, '']);
    // both places serve the same accounts and messages
    const ann = await signUp(srv.url, 'ann');
    const bob = await signUp(srv.url, 'bob');
    ok(await own.sendMessage(ann.access, 'bob', 'via the own port'), 'send');
    const viaPrefix = new MigChatCli(`${srv.url}/compat/migchat`);
    assert.deepEqual(ok(await viaPrefix.getMessages(bob.access), 'list').map((m) => m.content), ['via the own port']);
  } finally {
    await srv.stop();
  }
});

test("messages sent at once: newest first by id is newest first by created_at; a prekey that is empty is named so", async () => {
  const srv = await startServer({ env: LIMITS });
  const cli = new MigChatCli(`${srv.url}/compat/migchat`);
  try {
    const a = ok(await cli.createAccount('amy', PW), 'amy');
    const b = ok(await cli.createAccount('bea', PW), 'bea');
    await Promise.all(Array.from({ length: 200 }, (_, i) => cli.sendMessage(i % 2 ? a.token : b.token, i % 2 ? 'bea' : 'amy', `m${i}`)));
    const list = ok(await cli.getMessages(a.token), 'list');
    assert.equal(list.length, 200);
    for (let i = 1; i < list.length; i++) {
      assert.ok(list[i - 1].id > list[i].id);
      assert.ok(Date.parse(list[i - 1].created_at) >= Date.parse(list[i].created_at), `${JSON.stringify(list[i - 1])} before ${JSON.stringify(list[i])}`);
    }
    const r = await cli.uploadKeys(a.token, { ...keyBundle('amy'), one_time_prekeys: ['ok', ''] });
    assert.equal(r.status, 400);
    assert.equal(r.error, 'each of one_time_prekeys must not be empty');
  } finally {
    await srv.stop();
  }
});

test('after the attack review: answers within a byte budget, control characters refused, deletions move the newest message back, concurrent mark-reads count each message once, deleted accounts', async () => {
  const srv = await startServer({ env: { ...LIMITS, CAIRN_MIGCHAT_MAX_ANSWER_BYTES: '64KiB' } });
  const U = srv.url;
  const cli = new MigChatCli(`${U}/compat/migchat`);
  try {
    const a = ok(await cli.createAccount('ava', PW), 'ava');
    const b = ok(await cli.createAccount('ben', PW), 'ben');
    // control characters (but tab and line breaks) are refused, natively too
    let r = await cli.sendMessage(a.token, 'ben', 'x\u0001y');
    assert.equal(r.status, 400);
    assert.match(r.error, /control characters/);
    assert.equal((await api(U, 'POST', '/api/v1/messages', { token: a.token, body: { to: 'ben', text: '\u001b[31m' } })).status, 400);
    ok(await cli.sendMessage(a.token, 'ben', 'tab\tand\nlines\r\n'), 'tab and line breaks');
    // 40 messages of 4 KiB: the answer keeps the newest that fit in 64 KiB
    const sent = [];
    for (let i = 0; i < 40; i++) sent.push(ok(await cli.sendMessage(b.token, 'ava', `${i}:${'"'.repeat(4000)}`), `big ${i}`).message_id);
    const res = await fetch(`${U}/compat/migchat/api/messages`, { headers: { authorization: `Bearer ${a.token}` } });
    const text = await res.text();
    assert.ok(text.length <= 64 * 1024, `answer of ${text.length} bytes`);
    const got = JSON.parse(text).map((m) => m.id);
    assert.ok(got.length >= 7 && got.length < 40, `${got.length} messages`);
    assert.deepEqual(got, sent.slice(-got.length).reverse(), 'the newest, newest first');

    // deleting the newest message: the conversation shows the newest live one
    const c = ok(await cli.createAccount('cal', PW), 'cal');
    const m1 = ok(await cli.sendMessage(c.token, 'ava', 'first'), 'm1');
    const m2 = ok(await cli.sendMessage(c.token, 'ava', 'second'), 'm2');
    const space = (await api(U, 'GET', '/api/v1/conversations', { token: c.token })).body.conversations[0].space;
    assert.equal((await api(U, 'DELETE', `/api/v1/conversations/${space}/messages/${m2.message_id}`, { token: c.token })).status, 204);
    let conv = ok(await cli.getConversations(a.token), 'after deleting the newest').find((x) => x.username === 'cal');
    assert.equal(conv.last_message, 'first');
    assert.equal(Date.parse(conv.last_message_time), Date.parse(m1.created_at));
    assert.equal(conv.unread_count, 1);
    const nat = (await api(U, 'GET', '/api/v1/conversations', { token: a.token })).body.conversations.find((x) => x.with === 'cal');
    assert.equal(nat.last_message.text, 'first');
    // all deleted: MigChat lists no such conversation (the native API still does)
    assert.equal((await api(U, 'DELETE', `/api/v1/conversations/${space}/messages/${m1.message_id}`, { token: c.token })).status, 204);
    assert.equal(ok(await cli.getConversations(a.token), 'all deleted').find((x) => x.username === 'cal'), undefined);
    assert.ok((await api(U, 'GET', '/api/v1/conversations', { token: a.token })).body.conversations.some((x) => x.with === 'cal'));

    // mark-read while messages arrive: each message is counted marked once at most
    const d = ok(await cli.createAccount('dot', PW), 'dot');
    let marked = 0, sending = true;
    const sends = (async () => {
      await Promise.all(Array.from({ length: 150 }, (_, i) => cli.sendMessage(d.token, 'ava', `n${i}`)));
      sending = false;
    })();
    const readers = Array.from({ length: 3 }, async () => {
      while (sending) {
        const n = ok(await cli.markRead(a.token, 'dot'), 'mark').marked_read; // read, then add
        marked += n;
      }
    });
    await Promise.all([sends, ...readers]);
    const last = ok(await cli.markRead(a.token, 'dot'), 'mark last').marked_read;
    marked += last;
    assert.equal(marked, 150);

    // a deleted account: its conversation leaves MigChat's list, its messages stay, unnamed
    const e = ok(await cli.createAccount('eve', PW), 'eve');
    ok(await cli.sendMessage(e.token, 'ava', 'from eve'), 'eve');
    assert.equal((await api(U, 'DELETE', '/api/v1/account', { token: e.token, body: { password: PW } })).status, 204);
    assert.equal(ok(await cli.getConversations(a.token), 'eve gone').find((x) => x.username === ''), undefined);
    const fromEve = ok(await cli.getMessages(a.token), 'messages').find((m) => m.content === 'from eve');
    assert.equal(fromEve.from_username, '');

    // framing MigChat never had: plain text too
    const raw = await rawRequest(srv.port, `GET /compat/migchat/health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n`);
    assert.equal(raw.status, 501);
    assert.match(raw.headers['content-type'] || '', /^text\/plain/);
  } finally {
    await srv.stop();
  }
});
