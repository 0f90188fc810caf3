// What the MigChat CLI (migchat/cli 0.3.1, src/api/client.rs) sends, request by request,
// and how it reads the answers: serde's derive into its response structs, which fails on
// a missing field or a wrong JSON type (an i64 must be an integer, a DateTime<Utc> an RFC
// 3339 string, a Vec an array). Extra fields are ignored, as serde does by default.
// A non-2xx answer is read as {"error": String}, or shown as "HTTP <status>" when it is not
// that shape; create_account falls back to "Unknown error occurred".

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

// Shapes, by the CLI's models.rs.
const I64 = 'i64', STR = 'String', TIME = 'DateTime<Utc>', BOOL = 'bool';
const KeyBundle = { identity_key: STR, signed_prekey: STR, signed_prekey_signature: STR, one_time_prekeys: [STR] };
export const shapes = {
  CreateAccountResponse: { token: STR, user_id: I64, username: STR },
  SendMessageResponse: { message_id: I64, created_at: TIME },
  MessageResponse: { id: I64, from_username: STR, to_username: STR, content: STR, created_at: TIME },
  ConversationResponse: { username: STR, last_message: STR, last_message_time: TIME, unread_count: I64 },
  UpdateUsernameResponse: { username: STR, updated_at: TIME },
  UploadKeysResponse: { success: BOOL },
  GetKeysResponse: { key_bundle: KeyBundle },
  ErrorResponse: { error: STR },
};

// Throws as serde would (with the path of the first mismatch); returns v.
export function deserialize(shape, v, path = '$') {
  if (Array.isArray(shape)) {
    if (!Array.isArray(v)) throw new Error(`${path}: expected a sequence, got ${JSON.stringify(v)}`);
    v.forEach((x, i) => deserialize(shape[0], x, `${path}[${i}]`));
    return v;
  }
  if (typeof shape === 'object') {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${path}: expected a map`);
    for (const [k, s] of Object.entries(shape)) {
      if (!(k in v)) throw new Error(`${path}: missing field \`${k}\``);
      deserialize(s, v[k], `${path}.${k}`);
    }
    return v;
  }
  const ok = { [I64]: Number.isSafeInteger(v), [STR]: typeof v === 'string', [BOOL]: typeof v === 'boolean',
    [TIME]: typeof v === 'string' && RFC3339.test(v) && !Number.isNaN(Date.parse(v)) }[shape];
  if (!ok) throw new Error(`${path}: expected ${shape}, got ${JSON.stringify(v)}`);
  return v;
}

export class MigChatCli {
  constructor(baseUrl) {
    this.base = baseUrl; // what the user typed as the server URL
    this.exchanges = []; // every request and answer, for a failing test's message
  }

  async #send(method, path, { token, json, contentType } = {}) {
    const headers = {};
    if (contentType || json !== undefined) headers['content-type'] = 'application/json';
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    const res = await fetch(this.base + path, { method, headers, body: json === undefined ? undefined : JSON.stringify(json) });
    const text = await res.text();
    this.exchanges.push(`${method} ${path} -> ${res.status} ${text.slice(0, 300)}`);
    return { status: res.status, ok: res.status >= 200 && res.status < 300, text, headers: res.headers };
  }

  // The CLI's result: { value } on success (parsed into shape, or a throw), { error } else.
  #read(res, shape, fallback) {
    if (res.ok) return { status: res.status, value: deserialize(shape, JSON.parse(res.text)) };
    let error = fallback ?? `HTTP ${res.status}`;
    try {
      error = deserialize(shapes.ErrorResponse, JSON.parse(res.text)).error;
    } catch { /* not its error shape: the fallback */ }
    return { status: res.status, error, raw: res.text };
  }

  async health() {
    const r = await this.#send('GET', '/health');
    return { ok: r.ok, text: r.text, headers: r.headers };
  }
  async createAccount(username, password) {
    const r = await this.#send('POST', '/api/account/create', { json: { username, password } });
    return this.#read(r, shapes.CreateAccountResponse, 'Unknown error occurred');
  }
  async sendMessage(token, to_username, content) {
    return this.#read(await this.#send('POST', '/api/messages/send', { token, json: { to_username, content } }), shapes.SendMessageResponse);
  }
  async getMessages(token) {
    return this.#read(await this.#send('GET', '/api/messages', { token }), [shapes.MessageResponse]);
  }
  async getConversations(token) {
    return this.#read(await this.#send('GET', '/api/conversations', { token }), [shapes.ConversationResponse]);
  }
  async updateUsername(token, new_username) {
    return this.#read(await this.#send('POST', '/api/account/update-username', { token, json: { new_username } }), shapes.UpdateUsernameResponse);
  }
  // a POST with a JSON content type and no body; the name goes into the URL as it is
  async markRead(token, withUser) {
    const r = await this.#send('POST', `/api/messages/mark-read?with_user=${withUser}`, { token, contentType: true });
    return r.ok ? { status: r.status, value: JSON.parse(r.text) } : this.#read(r, null);
  }
  async getFiltered(token, withUser) {
    return this.#read(await this.#send('GET', `/api/messages/filtered?with_user=${withUser}`, { token }), [shapes.MessageResponse]);
  }
  async uploadKeys(token, key_bundle) {
    return this.#read(await this.#send('POST', '/api/keys/upload', { token, json: { key_bundle } }), shapes.UploadKeysResponse);
  }
  async getKeys(token, username) {
    return this.#read(await this.#send('GET', `/api/keys/${username}`, { token }), shapes.GetKeysResponse);
  }
}

// A key bundle as the CLI makes one: base64 of 32-byte X25519 public keys, a 64-byte
// signature, and ten one-time prekeys (it keeps 100 and uploads ten).
export function keyBundle(seed) {
  const b64 = (n, k) => Buffer.alloc(n, `${seed}:${k}`).toString('base64');
  return {
    identity_key: b64(32, 'identity'),
    signed_prekey: b64(32, 'signed'),
    signed_prekey_signature: b64(64, 'signature'),
    one_time_prekeys: Array.from({ length: 10 }, (_, i) => b64(32, `otk${i}`)),
  };
}

// A message's content as the CLI sends it: base64 of its encrypted envelope (JSON).
export function envelope(text) {
  const e = { version: 1, sender_identity_key: 'AAAA', receiver_identity_key: 'BBBB', ephemeral_key: 'CCCC', ciphertext: Buffer.from(text).toString('base64'), mac: 'DDDD' };
  return Buffer.from(JSON.stringify(e)).toString('base64');
}
