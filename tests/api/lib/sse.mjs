// A Server-Sent Events client for tests: opens GET /api/v1/events and collects its events.
// `closed` resolves when the server ends the stream; `waitFor(pred, ms)` returns the first
// event that matches, or throws after ms.
import { sleep } from './cairn.mjs';

export async function openEvents(U, token) {
  const ctl = new AbortController();
  const res = await fetch(`${U}/api/v1/events`, { headers: { Authorization: `Bearer ${token}` }, signal: ctl.signal });
  const s = { status: res.status, type: res.headers.get('content-type'), events: [], beats: 0, text: '' };
  if (res.status !== 200) return s;
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  s.closed = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return true;
        s.text += dec.decode(value, { stream: true });
        let i;
        while ((i = s.text.indexOf('\n\n')) >= 0) {
          const block = s.text.slice(0, i);
          s.text = s.text.slice(i + 2);
          if (block.startsWith(': heartbeat')) s.beats++;
          const ev = /^event: (.*)$/m.exec(block);
          const data = /^data: (.*)$/m.exec(block);
          if (ev) s.events.push({ event: ev[1], data: JSON.parse(data[1]) });
        }
      }
    } catch {
      return false;
    }
  })();
  s.close = () => ctl.abort();
  s.waitFor = async (pred, ms = 3000) => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      const e = s.events.find(pred);
      if (e) return e;
      await sleep(20);
    }
    throw new Error(`no such event; got ${JSON.stringify(s.events)}`);
  };
  return s;
}
