// The sync_client library (stefalda/sync_client 1.5.3: sync_repository.dart,
// authentication_helper.dart, http_helper.dart) as it talks to its server, over a local
// store of its own:
// - every POST goes first gzip-compressed (Content-Encoding: gzip, Content-type
//   application/json; charset=utf-8, Accept: application/json); if that fails in any way,
//   HTTP error statuses included, it is sent again uncompressed;
// - only 200 is success; 403 is "unauthorised" (refresh the token and retry once, then
//   log in again); 404 is "not found"; anything else an error carrying body.message;
// - before each authenticated call it refreshes its token (it never stores the access
//   token's expiry), logging in with Basic and its clientId when it has no token;
// - a sync is pull (its pending changes without rowData), import of the server's rows
//   (D deletes, anything else upserts), push in batches of 100 (isPartial 1 but the
//   last), then cancelSync in a finally; lastSync is the last push's answer.
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';

export class HttpError extends Error {
  constructor(status, body) {
    super(typeof body === 'object' && body ? body.message ?? JSON.stringify(body) : String(body));
    this.status = status;
    this.body = body;
  }
}

export class StsClient {
  constructor(server, realm, { tables = ['todo'] } = {}) {
    this.server = server;
    this.realm = realm;
    this.tables = Object.fromEntries(tables.map((t) => [t, new Map()]));
    this.log = []; // pending changes: {operation, rowguid, tablename, clientdate}
    this.clientId = randomUUID();
    this.lastSync = 0;
    this.access = null;
    this.refresh = null;
    this.wire = []; // every exchange, for a failing test's message
    this.gzipFirst = true;
  }

  async post(path, body, headers = {}) {
    const url = `${this.server}${path}`;
    const base = { Accept: 'application/json', 'Content-type': 'application/json; charset=utf-8', ...headers };
    const send = async (gz) => {
      const res = await fetch(url, { method: 'POST', headers: gz ? { ...base, 'Content-Encoding': 'gzip' } : base, body: gz ? gzipSync(Buffer.from(JSON.stringify(body))) : JSON.stringify(body) });
      const text = await res.text();
      let data = text;
      if ((res.headers.get('content-type') || '').includes('json')) data = JSON.parse(text);
      this.wire.push(`POST ${path}${gz ? ' (gzip)' : ''} -> ${res.status} ${text.slice(0, 200)}`);
      if (res.status !== 200) throw new HttpError(res.status, data);
      return data;
    };
    if (this.gzipFirst) {
      try {
        return await send(true);
      } catch { /* sent again uncompressed, whatever went wrong */ }
    }
    return send(false);
  }

  async register({ name, email, password, newRegistration = true }) {
    this.email = email;
    this.password = password;
    const r = await this.post(`/register/${this.realm}`, { name, email, password, clientId: this.clientId, clientDescription: JSON.stringify({ name: 'test device' }), newRegistration, language: 'en', deleteRemoteData: false });
    this.name = newRegistration ? name : r.user.name;
    return r;
  }

  async login() {
    const basic = Buffer.from(`${this.email}:${this.password}`).toString('base64');
    const t = await this.post(`/login/${this.realm}`, { clientId: this.clientId }, { Authorization: `Basic ${basic}` });
    this.access = t.accessToken ?? t.access_token;
    this.refresh = t.refreshToken ?? t.refresh_token;
  }

  async refreshToken() {
    try {
      const t = await this.post(`/login/${this.realm}/refreshToken`, { refreshToken: this.refresh });
      this.access = t.accessToken ?? t.access_token;
      this.refresh = t.refreshToken ?? t.refresh_token;
    } catch (e) {
      if (e.status === 403) return this.login();
      throw e;
    }
  }

  async authed(path, body, last = false) {
    if (!this.access) await this.login();
    await this.refreshToken(); // its expiry is never stored: always
    try {
      return await this.post(path, body, { Authorization: `Bearer ${this.access}` });
    } catch (e) {
      if (e.status !== 403 || last) throw e;
      await this.refreshToken();
      return this.authed(path, body, true);
    }
  }

  // local writes, logged as its triggers would
  put(table, rowguid, row) {
    const op = this.tables[table].has(rowguid) ? 'U' : 'I';
    this.tables[table].set(rowguid, { ...row });
    this.log.push({ operation: op, rowguid, tablename: table, clientdate: Date.now() });
  }
  remove(table, rowguid) {
    this.tables[table].delete(rowguid);
    this.log.push({ operation: 'D', rowguid, tablename: table, clientdate: Date.now() });
  }

  async sync() {
    let syncing = false;
    try {
      // its pending changes, the newest per row, without rowData for the pull
      const latest = new Map();
      for (const c of this.log) latest.set(`${c.tablename}/${c.rowguid}`, c);
      let pending = [...latest.values()];
      syncing = true;
      const pulled = await this.authed(`/pull/${this.realm}/${this.clientId}`, { clientId: this.clientId, lastSync: this.lastSync, changes: pending, isPartial: 0 });
      if (!Array.isArray(pulled.outdatedRowsGuid) || !Array.isArray(pulled.data)) throw new Error('pull answer');
      for (const g of pulled.outdatedRowsGuid) pending = pending.filter((c) => c.rowguid !== g);
      for (let d of pulled.data) {
        if (typeof d !== 'object') d = JSON.parse(d);
        if (!Number.isInteger(d.clientdate) || typeof d.rowguid !== 'string') throw new Error('row');
        if (d.operation === 'D') this.tables[d.tablename]?.delete(d.rowguid);
        else if (d.rowData) this.tables[d.tablename]?.set(d.rowguid, { ...d.rowData });
      }
      // push, rowData from the local tables
      const out = pending.map((c) => ({ ...c, rowData: c.operation === 'D' ? {} : this.tables[c.tablename].get(c.rowguid) }));
      let info;
      if (out.length < 100) {
        info = await this.authed(`/push/${this.realm}/${this.clientId}`, { clientId: this.clientId, lastSync: this.lastSync, isPartial: 0, changes: out });
      } else {
        for (let from = 0; from < out.length; from += 100) {
          const to = Math.min(from + 100, out.length);
          info = await this.authed(`/push/${this.realm}/${this.clientId}`, { clientId: this.clientId, lastSync: this.lastSync, isPartial: to < out.length ? 1 : 0, changes: out.slice(from, to) });
        }
      }
      if (info.lastSync !== null && info.lastSync !== undefined) {
        if (!Number.isInteger(info.lastSync)) throw new Error('lastSync');
        this.log = [];
        this.lastSync = info.lastSync;
      }
      return pulled;
    } finally {
      if (syncing) {
        try {
          await this.authed(`/cancelSync/${this.realm}`, { clientId: this.clientId });
        } catch { /* its client ignores it */ }
      }
    }
  }

  rows(table) {
    return Object.fromEntries([...this.tables[table].entries()].sort());
  }
}
