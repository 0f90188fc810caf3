// Starts the real cairn binary for black-box tests: a free port (port 0, read back from
// the log), a temporary data directory, and helpers to talk to it over real HTTP.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backendEnv } from './backend.mjs';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const BIN = process.env.CAIRN_BIN || join(ROOT, 'build/cairn');

// The environment for child processes: ours without CAIRN_* (tests set their own).
export function baseEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CAIRN_')) env[k] = v;
  return { ...env, ...backendEnv(), ...extra };
}

// A sanitizer build reports here; any report fails the test that started the process.
const SANITIZER = /ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: UndefinedBehaviorSanitizer/;
export function checkSanitizer(text, what) {
  if (SANITIZER.test(text)) throw new Error(`sanitizer report from ${what}:\n${text}`);
}

export function tempDir(prefix = 'cairn-test-') {
  return mkdtempSync(join(tmpdir(), prefix));
}

// Servers still running when a test file ends (a failed assertion skipped its cleanup) are
// killed, so a failure fails instead of hanging on a live child process.
const running = new Set();
process.on('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

// prefix runs the binary through another command (["prlimit", "--nofile=64:128", "--"]).
export async function startServer({ args = [], env = {}, dataDir, timeoutMs = 15000, prefix = [] } = {}) {
  const dir = dataDir ?? tempDir();
  const argv = [...prefix, BIN, 'serve', '--listen', '127.0.0.1:0', '--data', dir, ...args];
  const proc = spawn(argv[0], argv.slice(1), {
    env: baseEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(proc);
  proc.on('exit', () => running.delete(proc));
  // Referenced while starting and stopping; in between, the test's own requests keep
  // node alive, and a test that failed before stopping its server does not hang.
  const hold = (on) => {
    for (const h of [proc, proc.stdout, proc.stderr]) on ? h.ref() : h.unref();
  };
  let log = '';
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  proc.stdout.on('data', (d) => (log += d));
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${log}`)), timeoutMs);
    proc.stderr.on('data', (d) => {
      log += d;
      const m = /listening on http:\/\/(?:[0-9.]+|\[[0-9a-f:]+\]):(\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code ?? signal}) before listening:\n${log}`));
    });
  });
  hold(false);
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    port,
    dir,
    proc,
    get exited() {
      hold(true); // awaiting the exit must keep node alive
      return exited;
    },
    log: () => log,
    async stop(signal = 'SIGTERM') {
      hold(true);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
    // Stops the server, which must exit 0 without a sanitizer report.
    async cleanup() {
      const { code, signal } = await this.stop();
      if (!dataDir) rmSync(dir, { recursive: true, force: true });
      checkSanitizer(log, 'cairn serve');
      if (code !== 0) throw new Error(`cairn serve exited ${code ?? signal}:\n${log}`);
    },
  };
}

// Runs a cairn command to completion.
export function runCairn(args, { env = {}, input, cwd } = {}) {
  return new Promise((resolve) => {
    const proc = spawn(BIN, args, { env: baseEnv(env), cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => (stdout += d));
    proc.stderr.on('data', (d) => (stderr += d));
    proc.on('exit', (code) => {
      checkSanitizer(stderr, `cairn ${args.join(' ')}`);
      resolve({ code, stdout, stderr });
    });
    // a command that refuses at once may exit before reading its input: not an error here
    proc.stdin.on('error', () => {});
    if (input !== undefined) proc.stdin.end(input);
    else proc.stdin.end();
  });
}

// One raw HTTP exchange over a fresh TCP connection: sends `text`, returns everything the
// server sent until it closed (or until timeoutMs), parsed into status, headers, body.
export function rawRequest(port, text, { timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    const timer = setTimeout(() => {
      sock.destroy();
      resolve(parseResponse(data, true));
    }, timeoutMs);
    sock.on('data', (d) => (data = Buffer.concat([data, d])));
    sock.on('error', (e) => {
      clearTimeout(timer);
      if (data.length) resolve(parseResponse(data, false));
      else reject(e);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(parseResponse(data, false));
    });
    sock.write(text);
  });
}

export function parseResponse(buf, timedOut) {
  const s = buf.toString('latin1');
  const end = s.indexOf('\r\n\r\n');
  if (end < 0) return { status: 0, headers: {}, body: s, timedOut, raw: s };
  const lines = s.slice(0, end).split('\r\n');
  const status = Number(lines[0].split(' ')[1]);
  const headers = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status, headers, body: s.slice(end + 4), timedOut, raw: s };
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

// Asserts the API error shape and returns the parsed body.
export async function expectError(res, status, code, assert) {
  const text = await res.text();
  assert.equal(res.status, status, `status ${res.status}, body ${text}`);
  assert.match(res.headers.get('content-type') || '', /^application\/json/);
  const body = JSON.parse(text);
  assert.equal(body.code, code, text);
  assert.equal(typeof body.error, 'string');
  assert.ok(body.error.length > 0);
  return body;
}

// One JSON API call: returns { status, headers, body } with body parsed when JSON.
export async function api(base, method, path, { token, body, headers = {}, raw } = {}) {
  const h = { ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  let payload;
  if (raw !== undefined) payload = raw;
  else if (body !== undefined) {
    payload = JSON.stringify(body);
    h['Content-Type'] ??= 'application/json';
  }
  const res = await fetch(base + path, { method, headers: h, body: payload });
  const text = await res.text();
  let parsed = text;
  if ((res.headers.get('content-type') || '').startsWith('application/json') && text) parsed = JSON.parse(text);
  return { status: res.status, headers: res.headers, body: parsed };
}

// Registers and logs in a user; returns { user, access, refresh, device, password }.
export async function signUp(base, username, { password = 'correct horse battery', email, realm, device = 'test device' } = {}) {
  const reg = await api(base, 'POST', '/api/v1/auth/register', { body: { username, password, email, realm } });
  if (reg.status !== 201) throw new Error(`register ${username}: ${reg.status} ${JSON.stringify(reg.body)}`);
  const login = await api(base, 'POST', '/api/v1/auth/login', { body: { username, password, realm, device: { name: device } } });
  if (login.status !== 200) throw new Error(`login ${username}: ${login.status} ${JSON.stringify(login.body)}`);
  return { user: login.body.user, access: login.body.access_token, refresh: login.body.refresh_token, device: login.body.device, password };
}

// Polls fn until it returns true, for changes that take effect within a bound (a change
// made by another process reaches a server's token cache within one second).
export async function eventually(fn, { timeoutMs = 3000, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await sleep(100);
  }
}
