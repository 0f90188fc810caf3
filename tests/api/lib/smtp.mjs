// A real SMTP server on loopback (the npm package smtp-server) that keeps every message.
import { SMTPServer } from 'smtp-server';

export async function startSmtp({ port = 0 } = {}) {
  const messages = [];
  const waiters = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      let raw = '';
      stream.setEncoding('utf8');
      stream.on('data', (d) => (raw += d));
      stream.on('end', () => {
        const msg = {
          from: session.envelope.mailFrom && session.envelope.mailFrom.address,
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          body: raw.slice(raw.indexOf('\r\n\r\n') + 4).replace(/\r\n/g, '\n'),
          subject: (/^Subject: (.*)$/m.exec(raw) || [])[1],
        };
        messages.push(msg);
        for (const w of waiters.splice(0)) w();
        callback();
      });
    },
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const actual = server.server.address().port;
  return {
    port: actual,
    url: `smtp://127.0.0.1:${actual}`,
    messages,
    // Waits for a message to `to` matching `re`; resolves with it.
    async waitFor(to, re = /./, timeoutMs = 15000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = messages.find((x) => x.to.includes(to) && re.test(x.body) && !x.taken);
        if (m) {
          m.taken = true;
          return m;
        }
        if (Date.now() > deadline) throw new Error(`no mail to ${to} matching ${re} (got ${messages.length})`);
        await new Promise((r) => {
          waiters.push(r);
          setTimeout(r, 200);
        });
      }
    },
    close() {
      return new Promise((r) => server.close(r));
    },
  };
}

export function codeOf(msg) {
  return (/code is (\d{6})/.exec(msg.body) || [])[1];
}

export function tokenOf(msg) {
  return (/token=([A-Za-z0-9_-]+)/.exec(msg.body) || [])[1];
}
