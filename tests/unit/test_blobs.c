/* Blobs below HTTP: byte ranges, the fs backend, and the collection protocol against a
 * real SQLite file and blob directory, including collection run between an upload's
 * placing of its file and its commit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/blobs.h"
#include "core/blobs_int.h"
#include "core/core.h"
#include "core/sync.h"
#include "store/blob.h"
#include "store/store.h"
#include "util/config.h"
#include "util/err.h"
#include "util/range.h"
#include "cli/cli.h"

static void test_range(void **state)
{
	(void)state;
	uint64_t off = 99, len = 99;
	assert_int_equal(range_parse(NULL, 10, &off, &len), RANGE_NONE);
	assert_int_equal(range_parse("bytes=0-4", 10, &off, &len), RANGE_OK);
	assert_true(off == 0 && len == 5);
	assert_int_equal(range_parse("bytes=5-", 10, &off, &len), RANGE_OK);
	assert_true(off == 5 && len == 5);
	assert_int_equal(range_parse("bytes=-3", 10, &off, &len), RANGE_OK);
	assert_true(off == 7 && len == 3);
	assert_int_equal(range_parse("bytes=-30", 10, &off, &len), RANGE_OK);
	assert_true(off == 0 && len == 10);
	assert_int_equal(range_parse("bytes=8-100", 10, &off, &len), RANGE_OK);
	assert_true(off == 8 && len == 2);
	assert_int_equal(range_parse("bytes= 9-9 ", 10, &off, &len), RANGE_OK);
	assert_true(off == 9 && len == 1);
	assert_int_equal(range_parse("bytes=10-", 10, &off, &len), RANGE_UNSATISFIABLE);
	assert_int_equal(range_parse("bytes=-0", 10, &off, &len), RANGE_UNSATISFIABLE);
	assert_int_equal(range_parse("bytes=0-", 0, &off, &len), RANGE_UNSATISFIABLE);
	assert_int_equal(range_parse("bytes=-5", 0, &off, &len), RANGE_UNSATISFIABLE);
	/* ignored: several ranges, garbage, reversed, other units, overflow */
	assert_int_equal(range_parse("bytes=0-1,3-4", 10, &off, &len), RANGE_NONE);
	assert_int_equal(range_parse("bytes=5-2", 10, &off, &len), RANGE_NONE);
	assert_int_equal(range_parse("bytes=-", 10, &off, &len), RANGE_NONE);
	assert_int_equal(range_parse("bytes=a-b", 10, &off, &len), RANGE_NONE);
	assert_int_equal(range_parse("items=0-1", 10, &off, &len), RANGE_NONE);
	assert_int_equal(range_parse("bytes=99999999999999999999999-", 10, &off, &len),
			 RANGE_NONE);
}

static void test_names(void **state)
{
	(void)state;
	char ok[65];
	memset(ok, 'a', 64);
	ok[64] = '\0';
	assert_true(blob_name_valid(ok));
	ok[3] = 'A';
	assert_false(blob_name_valid(ok));
	ok[3] = 'g';
	assert_false(blob_name_valid(ok));
	ok[3] = '0';
	ok[63] = '\0';
	assert_false(blob_name_valid(ok));
	assert_false(blob_name_valid(""));
}

struct env {
	char dir[64];
	struct config cfg;
	struct store *store;
	struct blobstore *blobs;
	struct core core;
	struct principal p;
	int hook_runs;
	struct blob_gc_stats hook_gc;
};

static struct env *current;

static int env_setup(void **state)
{
	struct env *e = calloc(1, sizeof *e);
	snprintf(e->dir, sizeof e->dir, "/tmp/cairn-unit-XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	assert_int_equal(cairn_config_init(&e->cfg), 0);
	free(CONFIG_MUT(&e->cfg, storage)->data_dir);
	CONFIG_MUT(&e->cfg, storage)->data_dir = strdup(e->dir);
	CONFIG_MUT(&e->cfg, blobs)->gc_grace_ms = 0;
	char err[256];
	assert_int_equal(store_open(&e->cfg, 1, STORE_CREATE, &e->store, err, sizeof err), 0);
	assert_int_equal(blobstore_open(&e->cfg, &e->blobs, err, sizeof err), 0);
	assert_int_equal(core_init(&e->core, &e->cfg, e->store, err, sizeof err), 0);
	e->core.blobs = e->blobs;
	struct user *u = &e->p.user;
	u->realm_id = 1;
	snprintf(u->username, sizeof u->username, "ann");
	snprintf(u->password_hash, sizeof u->password_hash, "x");
	assert_int_equal(e->store->ops->accounts->user_create(e->store, u), 0);
	current = e;
	*state = e;
	return 0;
}

static int env_teardown(void **state)
{
	struct env *e = *state;
	blobstore_close(e->blobs);
	store_close(e->store);
	config_free(&e->cfg);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", e->dir);
	assert_int_equal(system(cmd), 0);
	free(e);
	return 0;
}

/* Uploads data; named by sha when it is set (a PUT), else by the server (a POST). */
static int upload(struct env *e, const char *data, size_t len, char sha[65])
{
	struct blob_upload *u = NULL;
	int64_t size;
	bool fresh;
	char want[65];
	snprintf(want, sizeof want, "%s", sha);
	int r = blob_upload_begin(&e->core, &e->p, want[0] ? want : NULL, (int64_t)len, &u);
	if (r == 0)
		r = blob_upload_write(u, data, len);
	if (r == 0)
		r = blob_upload_finish(u, sha, &size, &fresh);
	blob_upload_free(u);
	return r;
}

static bool readable(struct env *e, const char *sha, const char *want, size_t len)
{
	struct blob_reader *rd;
	if (blob_open(&e->core, &e->p, sha, &rd) < 0)
		return false;
	char buf[256] = { 0 };
	ssize_t n = rd->ops->read_at(rd, 0, buf, sizeof buf);
	uint64_t size = rd->size;
	blob_reader_close(rd);
	return size == len && n == (ssize_t)len && memcmp(buf, want, len) == 0;
}

/* A collection pass exactly between the upload's placing and its commit. */
static void collect_now(struct core *c, const char *sha)
{
	(void)sha;
	/* let the file's mtime fall behind "now - grace" */
	usleep(5000);
	assert_int_equal(blob_gc(c, &current->hook_gc), 0);
	current->hook_runs++;
}

static void test_collection_during_upload(void **state)
{
	struct env *e = *state;
	static const char data[] = "bytes that collection races with";
	char sha[65] = "";
	e->core.blob_test_hook = collect_now;
	assert_int_equal(upload(e, data, sizeof data - 1, sha), 0);
	e->core.blob_test_hook = NULL;
	assert_int_equal(e->hook_runs, 1);
	/* the pass saw an unrecorded file and deleted it... */
	assert_int_equal(e->hook_gc.deleted, 1);
	assert_int_equal(e->hook_gc.orphans, 1);
	/* ...and the upload, after its commit, put the bytes back before answering */
	assert_true(readable(e, sha, data, sizeof data - 1));
	struct blob_check_stats cs;
	FILE *out = fopen("/dev/null", "w");
	assert_int_equal(blob_check(&e->core, out, NULL, NULL, &cs), 0);
	fclose(out);
	assert_int_equal(cs.checked, 1);
	assert_int_equal(cs.missing + cs.corrupt + cs.wrong_size + cs.orphans, 0);
}

static void test_held_blob_survives_collection(void **state)
{
	struct env *e = *state;
	static const char data[] = "held";
	char sha[65] = "";
	assert_int_equal(upload(e, data, sizeof data - 1, sha), 0);
	struct blob_gc_stats gs;
	assert_int_equal(blob_gc(&e->core, &gs), 0);
	assert_int_equal(gs.deleted, 0);
	assert_true(readable(e, sha, data, sizeof data - 1));
	/* once its holder is gone it is dead, and (grace 0) collected */
	assert_int_equal(e->store->ops->accounts->user_delete(e->store, e->p.user.id, NULL, NULL), 0);
	assert_int_equal(blob_gc(&e->core, &gs), 0);
	assert_int_equal(gs.deleted, 1);
	assert_int_equal(gs.bytes, 4);
	struct blob_stat st;
	assert_int_equal(e->blobs->ops->stat(e->blobs, sha, &st), -ERR_NOT_FOUND);
	int64_t size;
	assert_int_equal(e->store->ops->blobmeta->blob_get(e->store, sha, &size, NULL), -ERR_NOT_FOUND);
}

static void test_mismatch_and_limits(void **state)
{
	struct env *e = *state;
	char want[65];
	memset(want, 'a', 64);
	want[64] = '\0';
	struct blob_upload *u;
	assert_int_equal(blob_upload_begin(&e->core, &e->p, want, 3, &u), 0);
	assert_int_equal(blob_upload_write(u, "abc", 3), 0);
	char sha[65];
	int64_t size;
	bool fresh;
	assert_int_equal(blob_upload_finish(u, sha, &size, &fresh), -ERR_MISMATCH);
	blob_upload_free(u);
	CONFIG_MUT(&e->cfg, blobs)->max_size = 4;
	assert_int_equal(blob_upload_begin(&e->core, &e->p, NULL, 5, &u), -ERR_TOO_LARGE);
	assert_int_equal(blob_upload_begin(&e->core, &e->p, NULL, -1, &u), 0);
	assert_int_equal(blob_upload_write(u, "abc", 3), 0);
	assert_int_equal(blob_upload_write(u, "de", 2), -ERR_TOO_LARGE);
	blob_upload_free(u);
	CONFIG_MUT(&e->cfg, blobs)->max_size = 1 << 20;
	CONFIG_MUT(&e->cfg, blobs)->user_quota = 6;
	sha[0] = '\0';
	assert_int_equal(upload(e, "12345", 5, sha), 0);
	char other[65] = "";
	assert_int_equal(upload(e, "67", 2, other), -ERR_QUOTA);
	/* held already: a PUT of it costs nothing, a POST is held to the quota left */
	assert_int_equal(upload(e, "12345", 5, sha), 0);
	other[0] = '\0';
	assert_int_equal(upload(e, "12345", 5, other), -ERR_QUOTA);
	/* nothing of the refused uploads is on disk */
	int files = 0;
	struct blob_check_stats cs;
	FILE *out = fopen("/dev/null", "w");
	assert_int_equal(blob_check(&e->core, out, NULL, NULL, &cs), 0);
	fclose(out);
	files = (int)(cs.checked + cs.orphans + cs.recent_orphans);
	assert_int_equal(files, 1);
}

/* A collector that stopped between marking a blob and forgetting it (a crash): the
 * blob is nobody's and unreadable, an upload of it waits and then answers busy rather
 * than keep bytes the mark says are going, and the next pass (holding the lease)
 * finishes the mark, after which the upload works and its bytes stay. */
static void test_mark_left_by_a_stopped_collector(void **state)
{
	struct env *e = *state;
	static const char data[] = "marked when its collector stopped";
	char sha[65] = "";
	assert_int_equal(upload(e, data, sizeof data - 1, sha), 0);
	struct verr ve = { 0 };
	assert_int_equal(blob_release(&e->core, &e->p, sha, &ve), 0);
	/* the stopped collector's steps: a mark, no delete, no forget */
	struct store *st = e->store;
	assert_int_equal(st->ops->blobmeta->blob_mark(st, sha, sizeof data - 1, INT64_MAX,
						      clock_wall_ms()),
			 0);
	assert_int_equal(st->ops->blobmeta->blob_mark(st, sha, sizeof data - 1, INT64_MAX,
						      clock_wall_ms()),
			 -ERR_CONFLICT); /* marked once */
	assert_false(readable(e, sha, data, sizeof data - 1));
	char again[65] = "";
	assert_int_equal(upload(e, data, sizeof data - 1, again), -ERR_BUSY);
	/* a collector that does not hold the lease leaves it alone */
	char other[TOKEN_LEN] = "";
	assert_int_equal(blob_lease(&e->core, other), 0);
	struct blob_gc_stats gs;
	assert_int_equal(blob_gc(&e->core, &gs), -ERR_BUSY);
	assert_int_equal(st->ops->blobmeta->lease_drop(st, BLOB_GC_LEASE, other), 0);
	/* the next pass finishes it */
	assert_int_equal(blob_gc(&e->core, &gs), 0);
	assert_int_equal(gs.finished, 1);
	int64_t size;
	assert_int_equal(st->ops->blobmeta->blob_get(st, sha, &size, NULL), -ERR_NOT_FOUND);
	assert_int_equal(upload(e, data, sizeof data - 1, again), 0);
	assert_true(readable(e, sha, data, sizeof data - 1));
	assert_int_equal(blob_gc(&e->core, &gs), 0);
	assert_int_equal(gs.finished + gs.deleted, 0);
	assert_true(readable(e, sha, data, sizeof data - 1));
}

/* A one-change push naming one blob, checked: the job and what it points to. */
struct named_push {
	struct space sp;
	const char *blobs[1];
	char bj[80];
	json_object *data;
	struct push_change ch;
	struct push_result res;
	struct arena a;
	struct push_job j;
};

static void named_push_check(struct env *e, struct named_push *np, const char *sha,
			     const char *op_id)
{
	memset(np, 0, sizeof *np);
	assert_int_equal(sync_space(&e->core, &e->p, "me", &np->sp), 0);
	np->blobs[0] = sha;
	np->data = json_object_new_object();
	snprintf(np->bj, sizeof np->bj, "[\"%s\"]", sha);
	np->ch = (struct push_change){ .op_id = op_id, .collection = "c", .id = "r", .op = OP_PUT,
				       .data = np->data, .base_version = -1, .blobs = np->blobs,
				       .nblobs = 1, .blobs_json = np->bj };
	np->a = (struct arena)ARENA_INIT;
	np->j = (struct push_job){ .p = &e->p, .sp = &np->sp, .changes = &np->ch, .n = 1,
				   .results = &np->res, .arena = &np->a };
	np->j.rc = sync_push_check(&e->core, &np->j);
}

static void named_push_free(struct named_push *np)
{
	if (np->j.rc == 0)
		push_results_free(&np->res, 1);
	arena_free(&np->a);
	json_object_put(np->data);
}

/* Readability is judged before the shared write transaction; inside it, a blob that was
 * collected meanwhile is refused, not referenced. */
static void test_push_blob_gone_before_commit(void **state)
{
	struct env *e = *state;
	static const char data[] = "named by a push";
	char sha[65] = "";
	assert_int_equal(upload(e, data, sizeof data - 1, sha), 0);
	struct named_push np;
	named_push_check(e, &np, sha, "b1");
	struct push_job *j = &np.j;
	assert_int_equal(j->rc, 0);
	assert_int_equal(j->nblobs, 1);
	/* collection wins the race between the check and the commit */
	char db[128];
	snprintf(db, sizeof db, "%s/cairn.db", e->dir);
	sqlite3 *conn;
	assert_int_equal(sqlite3_open(db, &conn), SQLITE_OK);
	sqlite3_busy_timeout(conn, 5000);
	assert_int_equal(sqlite3_exec(conn, "DELETE FROM blob_owners; DELETE FROM blobs;", NULL, NULL,
				      NULL),
			 SQLITE_OK);
	sqlite3_close(conn);
	sync_push_run(&e->core, j);
	assert_int_equal(j->rc, -ERR_BLOB_MISSING);
	assert_non_null(strstr(j->ve.e[0].msg, "no longer stored"));
	struct space after;
	assert_int_equal(sync_space(&e->core, &e->p, "me", &after), 0);
	assert_int_equal(after.head_seq, 0);
	named_push_free(&np);
}

/* Releasing a blob between a push's check and its commit: the push fails instead of
 * keeping a reference to a blob nobody pays for; after the release, with no change of the
 * user's naming it, the release itself was right. */
static void test_release_before_commit(void **state)
{
	struct env *e = *state;
	static const char data[] = "released while a push waits";
	char sha[65] = "";
	assert_int_equal(upload(e, data, sizeof data - 1, sha), 0);
	/* pushes come from a device of the user's */
	char db[128];
	snprintf(db, sizeof db, "%s/cairn.db", e->dir);
	sqlite3 *conn;
	assert_int_equal(sqlite3_open(db, &conn), SQLITE_OK);
	sqlite3_busy_timeout(conn, 5000);
	assert_int_equal(sqlite3_exec(conn, "INSERT INTO devices(user_id, kind, name, created_ms, "
					    "last_seen_ms) VALUES (1, 0, 'unit', 0, 0)",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	e->p.device.id = sqlite3_last_insert_rowid(conn);
	sqlite3_close(conn);
	struct named_push np;
	named_push_check(e, &np, sha, "r1");
	assert_int_equal(np.j.rc, 0);
	assert_true(np.j.held[0]);
	struct verr ve = { 0 };
	assert_int_equal(blob_release(&e->core, &e->p, sha, &ve), 0);
	sync_push_run(&e->core, &np.j);
	assert_int_equal(np.j.rc, -ERR_BLOB_MISSING);
	assert_non_null(strstr(np.j.ve.e[0].msg, "released"));
	struct space after;
	assert_int_equal(sync_space(&e->core, &e->p, "me", &after), 0);
	assert_int_equal(after.head_seq, 0);
	named_push_free(&np);
	/* uploaded again and named, it is in use: no release */
	char again[65] = "";
	assert_int_equal(upload(e, data, sizeof data - 1, again), 0);
	named_push_check(e, &np, sha, "r2");
	assert_int_equal(np.j.rc, 0);
	sync_push_run(&e->core, &np.j);
	assert_int_equal(np.j.rc, 0);
	assert_int_equal(blob_release(&e->core, &e->p, sha, &ve), -ERR_BLOB_IN_USE);
	char names[96];
	snprintf(names, sizeof names, "Change 1 of space %lld,", (long long)np.sp.id);
	assert_non_null(strstr(ve.detail, names)); /* which change holds it */
	named_push_free(&np);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_collection_during_upload, env_setup,
						env_teardown),
		cmocka_unit_test_setup_teardown(test_held_blob_survives_collection, env_setup,
						env_teardown),
		cmocka_unit_test_setup_teardown(test_mismatch_and_limits, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_mark_left_by_a_stopped_collector, env_setup,
						env_teardown),
		cmocka_unit_test_setup_teardown(test_push_blob_gone_before_commit, env_setup,
						env_teardown),
		cmocka_unit_test_setup_teardown(test_release_before_commit, env_setup,
						env_teardown),
	};
	return cmocka_run_group_tests_name("blobs", tests, NULL, NULL);
}
