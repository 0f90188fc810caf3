/* The plain-SQLite baseline for pushes of the shapes real clients send (issue 12): rows
 * with random UUID v4 ids and 150 to 250 bytes of JSON, inserted into
 *   CREATE TABLE t(id TEXT PRIMARY KEY, collection TEXT, seq INTEGER, data TEXT)
 * with one index on (collection, seq), BATCH rows per transaction, WAL,
 * synchronous=FULL, a fresh file: what any store keyed by record id must at least do.
 *   raw_sqlite FILE TOTAL BATCH   prints "ROWS_PER_S BYTES_WRITTEN_PER_ROW"
 * Bytes written are the process's write_bytes (/proc/self/io): what reached the disk. */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static long long write_bytes(void)
{
	FILE *f = fopen("/proc/self/io", "r");
	char line[128];
	long long v = -1;
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "write_bytes: %lld", &v) == 1)
			break;
	if (f)
		fclose(f);
	return v;
}

/* A random UUID v4, as text. */
static void uuid4(char out[37])
{
	unsigned char b[16];
	if (getrandom(b, sizeof b, 0) != sizeof b)
		exit(1);
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
}

/* 150 to 250 bytes of JSON, like a task or a note. */
static int record(char *out, size_t len, long i)
{
	int pad = 150 + (int)(i * 7919 % 101) - 90; /* the rest of the object is ~90 bytes */
	char text[256];
	memset(text, 'a' + (int)(i % 26), (size_t)pad);
	text[pad] = '\0';
	return snprintf(out, len,
			"{\"title\":\"item %ld\",\"done\":%s,\"due\":\"2026-12-01T10:00:00Z\","
			"\"tags\":[\"a\",\"b\"],\"note\":\"%s\"}",
			i, i % 3 ? "false" : "true", text);
}

static int exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "%s: %s\n", sql, msg ? msg : "?");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: raw_sqlite FILE TOTAL BATCH\n");
		return 2;
	}
	long total = strtol(argv[2], NULL, 10), batch = strtol(argv[3], NULL, 10);
	unlink(argv[1]);
	sqlite3 *db;
	if (sqlite3_open(argv[1], &db) != SQLITE_OK)
		return 1;
	if (exec(db, "PRAGMA journal_mode=WAL") || exec(db, "PRAGMA synchronous=FULL") ||
	    exec(db, "CREATE TABLE t(id TEXT PRIMARY KEY, collection TEXT, seq INTEGER, data "
		     "TEXT)") ||
	    exec(db, "CREATE INDEX t_seq ON t(collection, seq)"))
		return 1;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "INSERT INTO t VALUES (?, 'tasks', ?, ?)", -1, &st, NULL) !=
	    SQLITE_OK)
		return 1;
	long long w0 = write_bytes();
	uint64_t t0 = now_ns();
	char id[37], data[512];
	for (long i = 0; i < total;) {
		if (exec(db, "BEGIN"))
			return 1;
		for (long k = 0; k < batch && i < total; k++, i++) {
			uuid4(id);
			int n = record(data, sizeof data, i);
			sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, i + 1);
			sqlite3_bind_text(st, 3, data, n, SQLITE_STATIC);
			if (sqlite3_step(st) != SQLITE_DONE)
				return 1;
			sqlite3_reset(st);
		}
		if (exec(db, "COMMIT"))
			return 1;
	}
	double secs = (double)(now_ns() - t0) / 1e9;
	long long w1 = write_bytes();
	sqlite3_finalize(st);
	sqlite3_close(db);
	printf("%.0f %.0f\n", (double)total / secs, w0 >= 0 && w1 >= 0 ? (double)(w1 - w0) / (double)total : -1.0);
	return 0;
}
