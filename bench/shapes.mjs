// The record every UUID-shaped bench pushes: 150 to 250 bytes of JSON, the same rows as
// bench/raw_sqlite.c makes (keep the two alike).
export function record(i) {
  const pad = 150 + ((i * 7919) % 101) - 90;
  return { title: `item ${i}`, done: i % 3 === 0, due: '2026-12-01T10:00:00Z', tags: ['a', 'b'], note: String.fromCharCode(97 + (i % 26)).repeat(pad) };
}
