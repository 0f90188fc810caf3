#!/usr/bin/env python3
"""The storage layouts tried for issue 12, side by side: the same 100,000 UUID-keyed
changes (batches of 1000, 150-250 bytes of JSON) written with the SQL each layout needs,
with Cairn's pragmas (WAL, synchronous=FULL, wal_autocheckpoint=16384, 64 MiB cache).
Prints the bytes this process wrote per change (/proc/self/io) and the file's size. Python
sets the pace, so only the bytes compare, not the rates. Not part of make bench; it is how
docs/benchmarks.md chose the layout of migration 9.
    python3 bench/layouts.py [DIR]"""
import json, os, random, sqlite3, struct, sys, uuid

N, B = 100000, 1000
PRAGMAS = ("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA wal_autocheckpoint=16384;"
           " PRAGMA cache_size=-65536;")
CHANGES = ("CREATE TABLE changes (space_id INTEGER NOT NULL, seq INTEGER NOT NULL, collection TEXT"
           " NOT NULL, record_id TEXT NOT NULL, op INTEGER NOT NULL, data TEXT, device_id INTEGER,"
           " op_id TEXT NOT NULL, client_ts TEXT, server_ms INTEGER NOT NULL, blobs TEXT, rid INTEGER,"
           " PRIMARY KEY (space_id, seq)) WITHOUT ROWID;")
REC_CLUSTERED = ("CREATE TABLE records (space_id INTEGER NOT NULL, collection TEXT NOT NULL, id TEXT"
                 " NOT NULL, version INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0, client_ts"
                 " TEXT, updated_ms INTEGER NOT NULL, data TEXT, PRIMARY KEY (space_id, collection,"
                 " id)) WITHOUT ROWID;")
REC_ROWID = ("CREATE TABLE records (rid INTEGER PRIMARY KEY AUTOINCREMENT, space_id INTEGER NOT NULL,"
             " collection TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL, deleted INTEGER"
             " NOT NULL DEFAULT 0, client_ts TEXT, updated_ms INTEGER NOT NULL, data TEXT, khash"
             " INTEGER);")
OPS_TEXT = ("CREATE TABLE ops (device_id INTEGER NOT NULL, op_id TEXT NOT NULL, space_id INTEGER NOT"
            " NULL, status INTEGER NOT NULL, seq INTEGER NOT NULL, version INTEGER NOT NULL, PRIMARY"
            " KEY (device_id, op_id)) WITHOUT ROWID;")
OPS_KEY = ("CREATE TABLE ops (device_id INTEGER NOT NULL, op_key INTEGER NOT NULL, op_id TEXT NOT"
           " NULL, space_id INTEGER NOT NULL, status INTEGER NOT NULL, seq INTEGER NOT NULL, version"
           " INTEGER NOT NULL); CREATE INDEX ops_key ON ops(device_id, op_key);")

# name: (schema, clustered records?, op key?, record index, record data kept in records?,
#        records found by a hash of the key?)
LAYOUTS = {
    "plain SQLite (bench/raw_sqlite.c's table)": None,
    "schema 8 (before)": (CHANGES + REC_CLUSTERED + OPS_TEXT +
                          "CREATE INDEX changes_record ON changes(space_id, collection, record_id, seq);",
                          True, False, True, True, False),
    "8, op results by a 64-bit key": (CHANGES + REC_CLUSTERED + OPS_KEY +
                                      "CREATE INDEX changes_record ON changes(space_id, collection, record_id, seq);",
                                      True, True, True, True, False),
    "8, op key, no change-log record index": (CHANGES + REC_CLUSTERED + OPS_KEY, True, True, False, True, False),
    "schema 9 (kept): rid records, (rid, seq) log index, op key": (
        CHANGES + REC_ROWID + OPS_KEY + "CREATE UNIQUE INDEX records_key ON records(space_id, collection, id);"
        "CREATE INDEX changes_rid ON changes(rid, seq);", False, True, True, True, False),
    "9, a put's data only in the change log": (
        CHANGES + REC_ROWID + OPS_KEY + "CREATE UNIQUE INDEX records_key ON records(space_id, collection, id);"
        "CREATE INDEX changes_rid ON changes(rid, seq);", False, True, True, False, False),
    "9, records found by a 64-bit key hash (no id order)": (
        CHANGES + REC_ROWID + OPS_KEY + "CREATE INDEX records_key ON records(space_id, khash);"
        "CREATE INDEX changes_rid ON changes(rid, seq);", False, True, True, True, True),
}


def key64(s):
    h = 0xcbf29ce484222325
    for b in s.encode():
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return struct.unpack('<q', struct.pack('<Q', h))[0]


def written():
    with open('/proc/self/io') as f:
        return next(int(l.split()[1]) for l in f if l.startswith('write_bytes'))


def data(i):
    pad = 150 + (i * 7919) % 101 - 90
    return json.dumps({"title": f"item {i}", "done": i % 3 == 0, "due": "2026-12-01T10:00:00Z",
                       "tags": ["a", "b"], "note": chr(97 + i % 26) * pad})


def run(path, layout):
    for sfx in ('', '-wal', '-shm'):
        if os.path.exists(path + sfx):
            os.unlink(path + sfx)
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(PRAGMAS)
    if layout is None:
        db.executescript("CREATE TABLE t(id TEXT PRIMARY KEY, collection TEXT, seq INTEGER, data TEXT);"
                         "CREATE INDEX t_seq ON t(collection, seq);")
    else:
        db.executescript(layout[0])
    w0, seq = written(), 0
    for _ in range(N // B):
        db.execute("BEGIN")
        for _ in range(B):
            seq += 1
            rid, op, d = str(uuid.uuid4()), str(uuid.uuid4()), data(seq)
            if layout is None:
                db.execute("INSERT INTO t VALUES (?, 'tasks', ?, ?)", (rid, seq, d))
                continue
            _, clustered, opkey, _, keep_data, hashed = layout
            ok = key64(op)
            if opkey:
                db.execute("SELECT status FROM ops WHERE device_id = 1 AND op_key = ? AND op_id = ?", (ok, op)).fetchall()
            else:
                db.execute("SELECT status FROM ops WHERE device_id = 1 AND op_id = ?", (op,)).fetchall()
            rdata = d if keep_data else None
            if clustered:
                db.execute("INSERT INTO records VALUES (1, 'tasks', ?, ?, 0, NULL, 0, ?)", (rid, seq, rdata))
                r = None
            else:
                kh = key64('tasks/' + rid) if hashed else None
                r = db.execute("INSERT INTO records(space_id, collection, id, version, updated_ms, data, khash)"
                               " VALUES (1, 'tasks', ?, ?, 0, ?, ?)", (rid, seq, rdata, kh)).lastrowid
            db.execute("INSERT INTO changes VALUES (1, ?, 'tasks', ?, 0, ?, 1, ?, NULL, 0, NULL, ?)", (seq, rid, d, op, r))
            if opkey:
                db.execute("INSERT INTO ops VALUES (1, ?, ?, 1, 0, ?, ?)", (ok, op, seq, seq))
            else:
                db.execute("INSERT INTO ops VALUES (1, ?, 1, 0, ?, ?)", (op, seq, seq))
        db.execute("COMMIT")
    per = (written() - w0) / N
    db.close()
    return per, os.path.getsize(path)


if __name__ == '__main__':
    d = sys.argv[1] if len(sys.argv) > 1 else '/tmp'
    print("| layout | bytes written per change | file |")
    print("|---|---|---|")
    for name, layout in LAYOUTS.items():
        per, size = run(os.path.join(d, 'cairn-layout.db'), layout)
        print(f"| {name} | {per:,.0f} | {size / 1048576:.1f} MiB |")
    for sfx in ('', '-wal', '-shm'):
        p = os.path.join(d, 'cairn-layout.db' + sfx)
        if os.path.exists(p):
            os.unlink(p)
