// cairn user, realm and token on the data directory of a running server.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { api, eventually, runCairn, startServer } from './lib/cairn.mjs';
import { db } from './lib/backend.mjs';

const status = async (token) => (await api(U, 'GET', '/api/v1/account', { token })).status;

let srv;
let U;
const cli = (args, opts) => runCairn([...args, '--data', srv.dir], opts);

before(async () => {
  srv = await startServer({ env: { CAIRN_RATELIMIT_PER_ADDRESS: '10000', CAIRN_RATELIMIT_PER_ACCOUNT: '10000' } });
  U = srv.url;
});
after(async () => {
  await srv.cleanup();
});

test('user add with --password-stdin, while the server runs', async () => {
  const r = await cli(['user', 'add', 'ops', '--admin', '--email', 'ops@example.test', '--password-stdin'], { input: 'ops password 1\n' });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /added user ops \(id \d+\) as admin/);
  const login = await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'ops', password: 'ops password 1' } });
  assert.equal(login.status, 200);
  assert.equal(login.body.user.is_admin, true);
  const dup = await cli(['user', 'add', 'ops', '--password-stdin'], { input: 'ops password 1\n' });
  assert.equal(dup.code, 1);
  assert.match(dup.stderr, /username is taken/);
  const bad = await cli(['user', 'add', 'bad name', '--password-stdin'], { input: 'short\n' });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /username must be/);
  assert.match(bad.stderr, /password must be 8 to 1024 bytes/);
  const noTty = await cli(['user', 'add', 'someone']);
  assert.equal(noTty.code, 1);
  assert.match(noTty.stderr, /use --password-stdin/);
});

test('user list, passwd, disable, enable, delete', async () => {
  await cli(['user', 'add', 'vera', '--password-stdin'], { input: 'vera password\n' });
  const s = await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'vera', password: 'vera password' } });
  const list = await cli(['user', 'list', '--search', 'ver']);
  assert.equal(list.code, 0);
  assert.match(list.stdout, /^\d+\s+vera\s+default\s+-\s+no\s+no\s+yes/m);
  assert.doesNotMatch(list.stdout, /\bops\b/);
  const pw = await cli(['user', 'passwd', 'vera', '--password-stdin'], { input: 'vera new password\n' });
  assert.equal(pw.code, 0, pw.stderr);
  // another process's change reaches the server's token cache within a second
  await eventually(async () => (await status(s.body.access_token)) === 401, { what: 'session end after passwd' });
  const s2 = await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'vera', password: 'vera new password' } });
  assert.equal(s2.status, 200);
  assert.equal(await status(s2.body.access_token), 200);
  assert.equal((await cli(['user', 'disable', 'vera'])).code, 0);
  await eventually(async () => (await status(s2.body.access_token)) === 403, { what: 'disable' });
  assert.equal((await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'vera', password: 'vera new password' } })).body.code, 'account_disabled');
  assert.equal((await cli(['user', 'enable', 'vera'])).code, 0);
  await eventually(async () => (await status(s2.body.access_token)) === 200, { what: 'the session back after enable' });
  assert.equal((await api(U, 'POST', '/api/v1/auth/login', { body: { username: 'vera', password: 'vera new password' } })).status, 200);
  assert.equal((await cli(['user', 'delete', 'vera'])).code, 0);
  const gone = await cli(['user', 'delete', 'vera']);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /no user 'vera'/);
  assert.equal((await cli(['user', 'frob', 'x'])).code, 2);
});

test('token create prints a token once; list and revoke', async () => {
  await cli(['user', 'add', 'wes', '--password-stdin'], { input: 'wes password\n' });
  const c = await cli(['token', 'create', '--user', 'wes', '--name', 'nightly backup']);
  assert.equal(c.code, 0, c.stderr);
  const token = c.stdout.trim();
  assert.match(token, /^clt_[A-Za-z0-9_-]{43}$/);
  const acct = await api(U, 'GET', '/api/v1/account', { token });
  assert.equal(acct.status, 200);
  assert.equal(acct.body.device.kind, 'token');
  const list = await cli(['token', 'list', '--user', 'wes']);
  assert.match(list.stdout, new RegExp(`^${acct.body.device.id}\\s+nightly backup\\s+.*active$`, 'm'));
  const rv = await cli(['token', 'revoke', String(acct.body.device.id), '--user', 'wes']);
  assert.equal(rv.code, 0, rv.stderr);
  await eventually(async () => (await status(token)) === 401, { what: 'token revocation' });
  assert.equal((await cli(['token', 'revoke', '999999', '--user', 'wes'])).code, 1);
  assert.equal((await cli(['token', 'create', '--user', 'nobody', '--name', 'x'])).code, 1);
  assert.equal((await cli(['token', 'create', '--user', 'wes'])).code, 2);
});

test('realm add, list, set', async () => {
  const a = await cli(['realm', 'add', 'lab', '--display-name', 'The Lab', '--signup', 'closed', '--confirm-email', 'yes']);
  assert.equal(a.code, 0, a.stderr);
  const l = await cli(['realm', 'list']);
  assert.match(l.stdout, /^lab\s+The Lab\s+closed\s+yes\s+3600\s+2592000$/m);
  const reg = await api(U, 'POST', '/api/v1/auth/register', { body: { username: 'x', password: 'x password', email: 'x@x.test', realm: 'lab' } });
  assert.equal(reg.body.code, 'registration_closed');
  const s = await cli(['realm', 'set', 'lab', '--signup', 'open', '--access-ttl', '900']);
  assert.equal(s.code, 0, s.stderr);
  assert.match(s.stdout, /^lab\s+The Lab\s+open\s+yes\s+900/m);
  assert.equal((await cli(['realm', 'set', 'nope', '--signup', 'open'])).code, 1);
  assert.equal((await cli(['realm', 'add', 'Bad'])).code, 2);
  assert.equal((await cli(['realm', 'set', 'lab', '--signup', 'maybe'])).code, 2);
});

test('every command has --help', async () => {
  for (const c of ['user', 'realm', 'token', 'gc']) {
    const r = await runCairn([c, '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Usage:/);
  }
});

test('a missing data directory is never created by a command but serve', async () => {
  const typo = `${srv.dir}-typo`;
  for (const args of [['check'], ['gc'], ['user', 'list'], ['user', 'add', 'x', '--password-stdin'], ['realm', 'list'], ['token', 'list', '--user', 'x'], ['migrate']]) {
    const r = await runCairn([...args, '--data', typo], { input: 'x password 1\n' });
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.code} ${r.stderr}`);
    assert.match(r.stderr, /no data directory at .*-typo \(only cairn serve creates one: check --data\)/, args.join(' '));
    assert.equal(existsSync(typo), false, `${args.join(' ')} created it`);
  }
});

test('migrations run only from serve or cairn migrate, never under a server', async () => {
  // a database one migration behind (its record says so)
  const old = await startServer();
  assert.equal((await old.stop()).code, 0);
  // the last migration undone, so that running it again is real
  const last = db.undoLastMigration(old.dir);
  for (const args of [['user', 'list'], ['check'], ['gc']]) {
    const r = await runCairn([...args, '--data', old.dir]);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`schema version ${last - 1} and this cairn needs ${last}: stop the server and run 'cairn migrate'`));
  }
  assert.equal(db.schemaVersion(old.dir), last - 1, 'nothing migrated');
  // not while a server holds the data directory
  const r = await runCairn(['migrate', '--data', srv.dir]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /in use by another cairn serve, migrate or restore-epochs/);
  const m = await runCairn(['migrate', '--data', old.dir]);
  assert.equal(m.code, 0, m.stderr);
  assert.match(m.stdout, new RegExp(`migrated the database to schema version ${last}`));
  assert.equal((await runCairn(['user', 'list', '--data', old.dir])).code, 0);
  const again = await runCairn(['migrate', '--data', old.dir]);
  assert.match(again.stdout, /already/);
  await old.cleanup();
});

test('cairn version and /api/v1/health tell builds apart by commit', async () => {
  const v = await runCairn(['version']);
  assert.match(v.stdout, /^cairn \d+\.\d+\.\d+ \(([0-9a-f]{7,40}(-dirty)?|unknown)\)\n$/);
  const commit = /\((.*)\)/.exec(v.stdout)[1];
  const h = await api(U, 'GET', '/api/v1/health');
  assert.equal(h.body.commit, commit);
  assert.match(srv.log(), new RegExp(`cairn \\d+\\.\\d+\\.\\d+ \\(${commit}\\) listening`));
});

test('help comes from the tables: verbs, the flags a command takes, durations', async () => {
  const h = await runCairn(['help']);
  assert.match(h.stdout, /user +Manage users: add, list, passwd, disable, enable, confirm, delete\./);
  assert.equal((await runCairn(['help', '--help'])).code, 0);
  for (const cmd of ['user', 'realm', 'token', 'gc', 'check', 'migrate']) {
    const r = await runCairn([cmd, '--help']);
    assert.equal(r.code, 0, cmd);
    assert.doesNotMatch(r.stdout, /--listen|--admin-user|--admin-pass/, `${cmd} --help lists serve's flags`);
    assert.match(r.stdout, /CAIRN_CONFIG/);
    const bad = await runCairn([cmd, '--listen', '127.0.0.1:1', '--data', srv.dir]);
    assert.equal(bad.code, 2, cmd);
    assert.match(bad.stderr, /unknown option --listen/);
  }
  assert.match((await runCairn(['serve', '--help'])).stdout, /--listen HOST:PORT/);
  assert.match((await runCairn(['serve', '--help'])).stdout, /admin\.user, default none/);
  assert.match((await runCairn(['user', 'frob', '--data', srv.dir])).stderr, /expected one of add, list, passwd, disable, enable, confirm, delete/);
  // realm lifetimes take durations as the configuration does
  assert.equal((await cli(['realm', 'add', 'durations'])).code, 0);
  const set = await cli(['realm', 'set', 'durations', '--access-ttl', '15m', '--refresh-ttl', '30d']);
  assert.equal(set.code, 0, set.stderr);
  assert.match(set.stdout, /durations .* 900 +2592000/);
  assert.equal((await cli(['realm', 'set', 'durations', '--access-ttl', '1500ms'])).code, 2);
});
