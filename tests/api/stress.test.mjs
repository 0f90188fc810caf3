// Churn of objects shared between threads: event streams opened and reset around their
// heartbeats while pushes wake them, long-polls parked and cut, pushes parked for the
// committer. The server must keep answering and exit 0 with no sanitizer report (the
// sanitizer build runs this too: a use after free there is a failure).
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { api, signUp, sleep, startServer } from './lib/cairn.mjs';

const SECONDS = Number(process.env.CAIRN_STRESS_SECONDS || 12);

// An event stream over a raw socket, so it can be reset (RST) rather than closed.
function openStream(port, token) {
  const sock = net.connect(port, '127.0.0.1');
  sock.on('error', () => {});
  sock.on('data', () => {});
  sock.write(`GET /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n`);
  return sock;
}

function parkPull(port, token, space) {
  const sock = net.connect(port, '127.0.0.1');
  sock.on('error', () => {});
  sock.on('data', () => {});
  sock.write(`GET /api/v1/spaces/${space}/changes?since=1000000&wait=30 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n`);
  return sock;
}

test('streams, long-polls and pushes churned from many connections', async () => {
  const srv = await startServer({
    env: {
      CAIRN_SERVER_EVENTS_HEARTBEAT: '100ms',
      CAIRN_RATELIMIT_PER_ADDRESS: '100000',
      CAIRN_RATELIMIT_PER_ACCOUNT: '100000',
      CAIRN_SERVER_MAX_CONNECTIONS_PER_ADDRESS: '100000',
    },
    timeoutMs: 30000,
  });
  try {
    const U = srv.url;
    const users = [];
    for (let i = 0; i < 4; i++) users.push(await signUp(U, `st${i}`));
    const spaces = [];
    for (const u of users) spaces.push((await api(U, 'GET', '/api/v1/spaces/me', { token: u.access })).body.space.id);
    const end = Date.now() + SECONDS * 1000;
    let pushes = 0;
    let resets = 0;
    // writers: every push wakes (resumes) the user's streams and parked pulls
    const writers = users.map(async (u, i) => {
      let n = 0;
      while (Date.now() < end) {
        const changes = [];
        for (let k = 0; k < 5; k++) changes.push({ op_id: `w${i}-${n}-${k}`, collection: 'c', id: `r${k}`, op: 'put', data: { n } });
        n++;
        const r = await api(U, 'POST', '/api/v1/spaces/me/changes', { token: u.access, body: { changes } });
        assert.equal(r.status, 200, JSON.stringify(r.body));
        pushes++;
      }
    });
    // churners: 200 streams, each reset at a random moment near a heartbeat, then reopened;
    // parked pulls reset too
    const churners = [];
    for (let c = 0; c < 8; c++) {
      churners.push((async () => {
        const open = [];
        while (Date.now() < end) {
          const u = users[Math.floor(Math.random() * users.length)];
          const i = users.indexOf(u);
          open.push(Math.random() < 0.8 ? openStream(srv.port, u.access) : parkPull(srv.port, u.access, spaces[i]));
          if (open.length > 25) {
            const victim = open.splice(Math.floor(Math.random() * open.length), 1)[0];
            if (Math.random() < 0.7) victim.resetAndDestroy();
            else victim.destroy();
            resets++;
          }
          await sleep(Math.random() * 12);
        }
        for (const s of open) s.resetAndDestroy();
      })());
    }
    await Promise.all([...writers, ...churners]);
    assert.ok(pushes > 50, `only ${pushes} pushes`);
    assert.ok(resets > 500, `only ${resets} resets`);
    // still serving, and every stream it holds can still be reached
    assert.equal((await fetch(`${U}/health`)).status, 200);
    const p = await api(U, 'GET', '/api/v1/spaces/me/changes?since=0&limit=1', { token: users[0].access });
    assert.equal(p.status, 200);
    await sleep(300);
  } finally {
    await srv.cleanup();
  }
});
