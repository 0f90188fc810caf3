/* The raw limit for pushes: the same store calls a push makes for each change (op id
 * lookup, record read, append with its record, op result), through the store layer,
 * without HTTP or JSON, one durable transaction per batch.
 *   raw_push DATA_DIR BATCH TOTAL   prints changes/s
 * RAW_IDS (default 100000) is how many distinct records the puts cycle through. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store/store.h"
#include "util/clock.h"
#include "util/err.h"

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: raw_push DATA_DIR BATCH TOTAL\n");
		return 2;
	}
	int batch = (int)strtol(argv[2], NULL, 10);
	long total = strtol(argv[3], NULL, 10);
	char path[4200], err[512];
	mkdir(argv[1], 0700);
	snprintf(path, sizeof path, "%s/cairn.db", argv[1]);
	struct store *s;
	if (store_sqlite_open(path, 2, true, &s, err, sizeof err) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	struct user u = { .realm_id = 1, .created_ms = clock_wall_ms() };
	snprintf(u.username, sizeof u.username, "raw%lld", (long long)clock_mono_ns());
	snprintf(u.password_hash, sizeof u.password_hash, "x");
	struct space sp = { .realm_id = 1, .kind = SPACE_SHARED };
	if (s->ops->accounts->user_create(s, &u) < 0 || s->ops->spaces->space_create(s, &sp, u.id, clock_wall_ms()) < 0) {
		fprintf(stderr, "setup failed\n");
		return 1;
	}
	const char *data = "{\"n\":1,\"text\":\"a small record\"}";
	char op_id[64], id[32];
	uint64_t t0 = clock_mono_ns();
	long done = 0;
	while (done < total) {
		void *txn;
		if (s->ops->push->push_begin(s, &txn) < 0)
			return 1;
		int rc = 0;
		for (int k = 0; k < batch && rc >= 0; k++, done++) {
			snprintf(op_id, sizeof op_id, "raw%lld-%ld", (long long)u.id, done);
			snprintf(id, sizeof id, "r%ld", done % (getenv("RAW_IDS") ? strtol(getenv("RAW_IDS"), NULL, 10) : 100000));
			struct op_result prev;
			struct record rec;
			rc = s->ops->push->push_op_get(txn, 0, op_id, &prev);
			if (rc == -ERR_NOT_FOUND)
				rc = 0;
			if (rc == 0 && s->ops->push->push_record_get(txn, sp.id, "bench", id, false, &rec) == 0)
				record_clear(&rec);
			struct change_in c = { .collection = "bench", .record_id = id, .op_id = op_id,
					       .op = OP_PUT, .data = data, .record_data = data };
			int64_t seq;
			if (rc == 0)
				rc = s->ops->push->push_append(txn, sp.id, &c, clock_wall_ms(), &seq);
			struct op_result res = { OPS_APPLIED, seq, seq };
			if (rc == 0)
				rc = s->ops->push->push_op_put(txn, 0, op_id, sp.id, &res);
		}
		if (s->ops->push->push_end(s, txn, rc) < 0) {
			fprintf(stderr, "push failed\n");
			return 1;
		}
	}
	double secs = (double)(clock_mono_ns() - t0) / 1e9;
	printf("%.0f\n", (double)done / secs);
	store_close(s);
	return 0;
}
