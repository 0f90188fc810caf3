import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT, runCairn, startServer, tempDir } from './lib/cairn.mjs';
import { db } from './lib/backend.mjs';

function keysOf(configOutput) {
  let section = '';
  const keys = [];
  for (const line of configOutput.split('\n')) {
    const s = /^\[(\w+)\]$/.exec(line);
    if (s) section = s[1];
    const k = /^(\w+) = /.exec(line);
    if (k) keys.push(`${section}.${k[1]}`);
  }
  return keys;
}

test('cairn config shows every value and where it came from', async () => {
  const dir = tempDir();
  const file = join(dir, 'cairn.conf');
  writeFileSync(file, '[log]\nformat = json\n\n[server]\nidle_timeout = 90s\n');
  const r = await runCairn(['config', '--config', file, '--listen', '127.0.0.1:9999'], {
    env: { CAIRN_LOG_LEVEL: 'debug', CAIRN_SERVER_IDLE_TIMEOUT: '2m' },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^format = json {4}; file .*cairn\.conf:2$/m);
  assert.match(r.stdout, /^level = debug {4}; environment CAIRN_LOG_LEVEL$/m);
  // environment beats the file
  assert.match(r.stdout, /^idle_timeout = 2m {4}; environment CAIRN_SERVER_IDLE_TIMEOUT$/m);
  // flag beats everything
  assert.match(r.stdout, /^listen = 127\.0\.0\.1:9999 {4}; flag --listen$/m);
  assert.match(r.stdout, /^data_dir = \.\/data {4}; default$/m);
  rmSync(dir, { recursive: true });
});

test('CAIRN_CONFIG names the file when --config does not', async () => {
  const dir = tempDir();
  const file = join(dir, 'c.conf');
  writeFileSync(file, '[storage]\ndata_dir = /srv/cairn\n');
  const r = await runCairn(['config'], { env: { CAIRN_CONFIG: file } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^data_dir = \/srv\/cairn {4}; file .*c\.conf:2$/m);
  rmSync(dir, { recursive: true });
});

const badConfigs = [
  ['an unknown key', { file: '[server]\nlisten = 127.0.0.1:0\nlisen = x\n' }, /c\.conf:3: unknown key 'lisen' in section \[server\]/],
  ['a malformed value', { file: '[limits]\njson_depth = deep\n' }, /c\.conf:2: limits\.json_depth must be a whole number/],
  ['an out-of-range number', { file: '[limits]\njson_depth = 5000\n' }, /c\.conf:2: limits\.json_depth must be between 2 and 1000/],
  ['a misspelt variable', { env: { CAIRN_LOG_LEVLE: 'debug' } }, /environment: unknown variable CAIRN_LOG_LEVLE/],
  ['a bad variable value', { env: { CAIRN_LOG_FORMAT: 'xml' } }, /CAIRN_LOG_FORMAT: log\.format must be one of text\|json/],
  ['a bad flag value', { args: ['--log-level', 'loud'] }, /--log-level: log\.level must be one of/],
  ['an unknown flag', { args: ['--colour'] }, /unknown option --colour/],
  ['a missing file', { args: ['--config', '/nonexistent/x.conf'] }, /\/nonexistent\/x\.conf: cannot open/],
];

for (const [what, { file, env, args }, re] of badConfigs) {
  test(`serve refuses to start with ${what}: exit 2 and one clear message`, async () => {
    const dir = tempDir();
    const argv = ['serve', '--listen', '127.0.0.1:0', '--data', join(dir, 'data')];
    if (file) {
      writeFileSync(join(dir, 'c.conf'), file);
      argv.push('--config', join(dir, 'c.conf'));
    }
    const r = await runCairn([...argv, ...(args || [])], { env });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /listening/);
    rmSync(dir, { recursive: true });
  });
}

test('a port already in use: clear message, exit 1', async () => {
  const blocker = net.createServer();
  await new Promise((r) => blocker.listen(0, '127.0.0.1', r));
  const port = blocker.address().port;
  const dir = tempDir();
  const r = await runCairn(['serve', '--listen', `127.0.0.1:${port}`, '--data', dir]);
  blocker.close();
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: Address already in use`));
  rmSync(dir, { recursive: true });
});

test('an unusable data directory: clear message, exit 1', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'plainfile'), 'x');
  const r = await runCairn(['serve', '--listen', '127.0.0.1:0', '--data', join(dir, 'plainfile', 'data')]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /cannot create the data directory .*plainfile\/data: Not a directory/);
  rmSync(dir, { recursive: true });
});

test('a database written by a newer cairn is refused', async () => {
  const srv = await startServer();
  assert.equal((await srv.stop()).code, 0);
  db.recordFutureSchema(srv.dir, 9999);
  const r = await runCairn(['serve', '--listen', '127.0.0.1:0', '--data', srv.dir]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /schema version 9999 .*newer cairn/);
  rmSync(srv.dir, { recursive: true });
});

test('cairn init writes the example config, never overwrites, and the example loads', async () => {
  const dir = tempDir();
  const file = join(dir, 'cairn.conf');
  let r = await runCairn(['init', file]);
  assert.equal(r.code, 0, r.stderr);
  const text = readFileSync(file, 'utf8');
  // the shipped example is what init writes
  assert.equal(text, readFileSync(join(ROOT, 'cairn.conf.example'), 'utf8'));
  writeFileSync(file, '; mine\n');
  r = await runCairn(['init', file]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /already exists; not overwriting/);
  assert.equal(readFileSync(file, 'utf8'), '; mine\n');
  // the example, loaded, gives every key from the file
  writeFileSync(file, text);
  r = await runCairn(['config', '--config', file]);
  assert.equal(r.code, 0, r.stderr);
  const keys = keysOf(r.stdout);
  for (const line of r.stdout.split('\n').filter((l) => / = /.test(l))) assert.match(line, /; file /);
  assert.ok(keys.length >= 10);
  rmSync(dir, { recursive: true });
});

test('docs/configuration.md lists exactly the keys of the configuration table', async () => {
  const r = await runCairn(['config']);
  const keys = keysOf(r.stdout).sort();
  const doc = readFileSync(join(ROOT, 'docs/configuration.md'), 'utf8');
  const documented = [...doc.matchAll(/^\| `(\w+\.\w+)` \|/gm)].map((m) => m[1]).sort();
  assert.deepEqual(documented, keys);
});

test('every command answers --help, and help and version work', async () => {
  for (const args of [['help'], ['--help'], ['version'], ['serve', '--help'], ['init', '--help'], ['config', '--help'], ['help', 'serve']]) {
    const r = await runCairn(args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.ok(r.stdout.length > 10);
  }
  const u = await runCairn(['frobnicate']);
  assert.equal(u.code, 2);
  assert.match(u.stderr, /unknown command 'frobnicate'/);
  const none = await runCairn([]);
  assert.equal(none.code, 2);
});

test('cairn serve --help lists the flags of the configuration table', async () => {
  const r = await runCairn(['serve', '--help']);
  for (const flag of ['--config', '--listen', '--data', '--log-level', '--log-format']) assert.match(r.stdout, new RegExp(flag));
});
