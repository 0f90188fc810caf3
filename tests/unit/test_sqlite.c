/* The SQLite backend's internals: the prepared-statement cache grows with the call sites
 * (it had 160 fixed slots, 101 in use, and the 161st call site failed at run time). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "store/sqlite_int.h"
#include "util/err.h"

#define SITES 400

static void test_statement_cache_grows(void **state)
{
	(void)state;
	char dir[] = "/tmp/cairn-sqlite-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[96];
	snprintf(path, sizeof path, "%s/cairn.db", dir);
	struct store *st = NULL;
	char err[256];
	assert_int_equal(store_sqlite_open(path, 1, true, &st, err, sizeof err), 0);
	struct sq_store *s = SQS(st);
	/* SITES distinct call sites, as many SQ() uses would be, each preparing its own */
	static int slots[SITES];
	struct sq_conn *c = sq_read_begin(s);
	assert_non_null(c);
	for (int i = 0; i < SITES; i++) {
		sqlite3_stmt *q = sq_stmt_at(c, &slots[i], "SELECT 1");
		if (!q)
			fail_msg("call site %d got no statement", i);
		assert_int_equal(sqlite3_step(q), SQLITE_ROW);
		sqlite3_reset(q);
	}
	/* the same sites again: the same statements, nothing new prepared */
	sqlite3_stmt *first = sq_stmt_at(c, &slots[0], "SELECT 1");
	assert_ptr_equal(first, sq_stmt_at(c, &slots[0], "SELECT 1"));
	sq_read_end(s, c);
	store_close(st);
	char p[128];
	const char *suffix[] = { "", "-wal", "-shm", ".lock" };
	for (int i = 0; i < 4; i++) {
		snprintf(p, sizeof p, "%s%s", path, suffix[i]);
		unlink(p);
	}
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_statement_cache_grows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
