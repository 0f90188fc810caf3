// The API reference must list every route the server has and every error code it can send.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from './lib/cairn.mjs';

const doc = readFileSync(join(ROOT, 'docs/api.md'), 'utf8');

test('docs/api.md lists every error code of the error table', () => {
  const src = readFileSync(join(ROOT, 'src/http/api_error.c'), 'utf8');
  const codes = [...src.matchAll(/\{ (\d{3}), "([a-z_]+)",/g)].map((m) => [m[1], m[2]]);
  assert.ok(codes.length >= 10);
  for (const [status, code] of codes) assert.match(doc, new RegExp(`\\| ${status} \\| \`${code}\` \\|`), code);
});

test('docs/api.md lists every route of the route table', () => {
  const src = readFileSync(join(ROOT, 'src/http/routes.c'), 'utf8');
  const routes = [...src.matchAll(/\{ ([A-Z_| ]+), "([^"]+)",/g)];
  assert.ok(routes.length >= 3);
  for (const [, methods, path] of routes) {
    for (const m of methods.split('|').map((s) => s.trim().replace('HM_', ''))) {
      assert.ok(doc.includes(`\`${m} ${path}\``), `${m} ${path} is not documented`);
    }
  }
});

test('no API test reaches into a backend: only tests/api/lib/backend.mjs knows them', () => {
  const dir = join(ROOT, 'tests/api');
  const files = readdirSync(dir).filter((f) => f.endsWith('.mjs'));
  assert.ok(files.length > 10);
  for (const f of files) {
    const text = readFileSync(join(dir, f), 'utf8');
    assert.doesNotMatch(text, /['"]sqlite3['"]|cairn\.db/, `${f} reaches into SQLite: add a fixture to lib/backend.mjs`);
  }
});
