/* The metadata store's contract (store/store.h), run against a backend by name: the
 * backend CAIRN_TEST_DB names (default "sqlite"), opened as cairn serve opens it, in a
 * fresh data directory. Every backend must pass this unchanged: a PostgreSQL backend is
 * done when it does. The rules backends carry in their own queries are each held here:
 * unique names, refresh-token reuse ending the session, a code's tries, the last owner,
 * key epochs, gapless sequences and op results in push transactions, the pruning horizon,
 * blob quotas, readability and release. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"
#include "util/config.h"
#include "util/err.h"
#include "cli/cli.h"

static struct config cfg;
static struct store *st;
static char dir[] = "/tmp/cairn-store-contract-XXXXXX";
static const int64_t NOW = 1800000000000; /* ms: a fixed "now" the rules are tried at */

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	if (cairn_config_init(&cfg) < 0)
		return -1;
	free(CONFIG_MUT(&cfg, storage)->data_dir);
	CONFIG_MUT(&cfg, storage)->data_dir = strdup(dir);
	const char *db = getenv("CAIRN_TEST_DB");
	if (db && *db) {
		free(CONFIG_MUT(&cfg, storage)->database);
		CONFIG_MUT(&cfg, storage)->database = strdup(db);
	}
	char err[256];
	if (store_open(&cfg, 2, STORE_CREATE, &st, err, sizeof err) < 0) {
		fprintf(stderr, "cannot open the %s store: %s\n", storage_cfg(&cfg)->database, err);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	store_close(st);
	config_free(&cfg);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int64_t new_user(const char *name)
{
	struct user u = { .realm_id = 1, .created_ms = NOW, .email_confirmed = true };
	snprintf(u.username, sizeof u.username, "%s", name);
	snprintf(u.password_hash, sizeof u.password_hash, "hash-of-%s", name);
	assert_int_equal(st->ops->accounts->user_create(st, &u), 0);
	assert_true(u.id > 0);
	return u.id;
}

static int64_t new_device(int64_t user_id, const uint8_t access[32], const uint8_t refresh[32])
{
	struct device d = { .user_id = user_id, .kind = DEVICE_SESSION, .created_ms = NOW };
	snprintf(d.name, sizeof d.name, "phone");
	struct token_row t[2] = { { .kind = TOKEN_ACCESS, .expires_ms = NOW + 3600000 },
				  { .kind = TOKEN_REFRESH, .expires_ms = NOW + 86400000 } };
	memcpy(t[0].hash, access, 32);
	memcpy(t[1].hash, refresh, 32);
	assert_int_equal(st->ops->sessions->session_open(st, &d, t, 2, NOW), 0);
	return d.id;
}

static void hash_of(uint8_t out[32], int seed)
{
	for (int i = 0; i < 32; i++)
		out[i] = (uint8_t)(seed * 31 + i);
}

/* --- accounts --- */

static void test_unique_names(void **state)
{
	(void)state;
	new_user("ada");
	struct user dup = { .realm_id = 1, .created_ms = NOW };
	snprintf(dup.username, sizeof dup.username, "ada");
	snprintf(dup.password_hash, sizeof dup.password_hash, "x");
	assert_int_equal(st->ops->accounts->user_create(st, &dup), -ERR_EXISTS);
	struct user found;
	assert_int_equal(st->ops->accounts->user_find(st, 1, "ada", &found), 0);
	assert_string_equal(found.username, "ada");
	assert_int_equal(st->ops->accounts->user_find(st, 1, "nobody", &found), -ERR_NOT_FOUND);
	struct realm rl = { .signup_open = true, .access_ttl_s = 3600, .refresh_ttl_s = 86400 };
	snprintf(rl.name, sizeof rl.name, "default");
	assert_int_equal(st->ops->accounts->realm_create(st, &rl), -ERR_EXISTS);
}

/* A refresh token works once; used again, the device's session ends. */
static void test_refresh_reuse_ends_the_session(void **state)
{
	(void)state;
	int64_t uid = new_user("ben");
	uint8_t a[32], r1[32], a2[32], r2[32];
	hash_of(a, 1);
	hash_of(r1, 2);
	hash_of(a2, 3);
	hash_of(r2, 4);
	new_device(uid, a, r1);
	struct token_row t[2] = { { .kind = TOKEN_ACCESS, .expires_ms = NOW + 3600000 },
				  { .kind = TOKEN_REFRESH, .expires_ms = NOW + 86400000 } };
	memcpy(t[0].hash, a2, 32);
	memcpy(t[1].hash, r2, 32);
	struct principal p;
	assert_int_equal(st->ops->sessions->session_refresh(st, r1, t, 2, NOW, &p), 0);
	assert_int_equal(p.user.id, uid);
	assert_int_equal(st->ops->sessions->token_lookup(st, a2, &p), 0);
	/* the old refresh token again: refused, and every token of the device is gone */
	uint8_t a3[32], r3[32];
	hash_of(a3, 5);
	hash_of(r3, 6);
	memcpy(t[0].hash, a3, 32);
	memcpy(t[1].hash, r3, 32);
	assert_int_equal(st->ops->sessions->session_refresh(st, r1, t, 2, NOW, &p), -ERR_DENIED);
	assert_int_equal(st->ops->sessions->token_lookup(st, a2, &p), -ERR_NOT_FOUND);
	assert_int_equal(st->ops->sessions->token_lookup(st, r2, &p), -ERR_NOT_FOUND);
	/* an unknown or expired one is not found */
	assert_int_equal(st->ops->sessions->session_refresh(st, r3, t, 2, NOW, &p), -ERR_NOT_FOUND);
}

/* A code's tries are taken one at a time, each before its comparison, up to the limit. */
static void test_code_tries(void **state)
{
	(void)state;
	int64_t uid = new_user("cy");
	struct ecode e = { .user_id = uid, .purpose = ECODE_RESET, .expires_ms = NOW + 900000 };
	hash_of(e.code_hash, 7);
	hash_of(e.token_hash, 8);
	assert_int_equal(st->ops->sessions->ecode_create(st, &e), 0);
	struct ecode got;
	assert_int_equal(st->ops->sessions->ecode_active(st, uid, ECODE_RESET, &got), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(st->ops->sessions->ecode_take_try(st, got.id, 3), 0);
	assert_int_equal(st->ops->sessions->ecode_take_try(st, got.id, 3), -ERR_EXPIRED);
	/* a new code replaces the old one */
	hash_of(e.token_hash, 9);
	assert_int_equal(st->ops->sessions->ecode_create(st, &e), 0);
	uint8_t old[32];
	hash_of(old, 8);
	assert_int_equal(st->ops->sessions->ecode_by_token(st, ECODE_RESET, old, &got),
			 -ERR_NOT_FOUND);
}

/* --- spaces --- */

static int64_t shared_space(int64_t owner)
{
	struct space sp = { .realm_id = 1, .kind = SPACE_SHARED, .created_ms = NOW };
	snprintf(sp.name, sizeof sp.name, "team");
	assert_int_equal(st->ops->spaces->space_create(st, &sp, owner, NOW), 0);
	return sp.id;
}

static void test_members_and_the_last_owner(void **state)
{
	(void)state;
	int64_t o = new_user("dee"), m = new_user("eli");
	int64_t sp = shared_space(o);
	enum role r;
	assert_int_equal(st->ops->spaces->member_role(st, sp, o, &r), 0);
	assert_int_equal(r, ROLE_OWNER);
	assert_int_equal(st->ops->spaces->member_add(st, sp, m, ROLE_WRITER, NOW), 0);
	assert_int_equal(st->ops->spaces->member_add(st, sp, m, ROLE_READER, NOW), -ERR_EXISTS);
	/* the last owner can neither step down nor leave */
	assert_int_equal(st->ops->spaces->member_set_role(st, sp, o, ROLE_WRITER), -ERR_CONFLICT);
	assert_int_equal(st->ops->spaces->member_delete(st, sp, o), -ERR_CONFLICT);
	/* a second owner, then the first may go */
	assert_int_equal(st->ops->spaces->member_set_role(st, sp, m, ROLE_OWNER), 0);
	assert_int_equal(st->ops->spaces->member_delete(st, sp, o), 0);
	assert_int_equal(st->ops->spaces->member_role(st, sp, o, &r), -ERR_NOT_FOUND);
	/* a change to someone who is not a member never adds them */
	assert_int_equal(st->ops->spaces->member_set_role(st, sp, o, ROLE_READER), -ERR_NOT_FOUND);
	assert_int_equal(st->ops->spaces->member_delete(st, sp, o), -ERR_NOT_FOUND);
}

static void test_key_epochs(void **state)
{
	(void)state;
	int64_t o = new_user("fay"), m = new_user("gus");
	int64_t sp = shared_space(o);
	assert_int_equal(st->ops->spaces->member_add(st, sp, m, ROLE_READER, NOW), 0);
	int64_t both[2] = { o, m };
	const char *keys[2] = { "k-fay", "k-gus" };
	/* exactly the members, or nothing */
	assert_int_equal(st->ops->spaces->keys_put(st, sp, 1, both, keys, 1), -ERR_CONFLICT);
	assert_int_equal(st->ops->spaces->keys_put(st, sp, 1, both, keys, 2), 0);
	/* epochs only go up */
	assert_int_equal(st->ops->spaces->keys_put(st, sp, 1, both, keys, 2), -ERR_CONFLICT);
	int64_t epoch = 0;
	char *key = NULL;
	assert_int_equal(st->ops->spaces->key_get(st, sp, m, &epoch, &key), 0);
	assert_int_equal(epoch, 1);
	assert_string_equal(key, "k-gus");
	free(key);
}

/* --- pushing and reading --- */

static int count_change(void *arg, const struct change_row *c)
{
	int64_t *last = arg;
	assert_int_equal(c->seq, *last + 1); /* gapless, in order */
	*last = c->seq;
	return 0;
}

static void append(void *txn, int64_t sp, const char *id, const char *op_id, int64_t *ret_seq)
{
	struct change_in c = { .collection = "notes", .record_id = id, .op_id = op_id,
			       .op = OP_PUT, .data = "{\"v\":1}", .record_data = "{\"v\":1}" };
	assert_int_equal(st->ops->push->push_append(txn, sp, &c, NOW, ret_seq), 0);
}

/* An applied op's result is remembered however the backend keeps it (the SQLite backend
 * finds it in the change itself): for its device only, as given, and past the pruning of
 * its change. */
static void test_applied_results_outlive_their_changes(void **state)
{
	(void)state;
	int64_t o = new_user("ida");
	struct space sp;
	assert_int_equal(st->ops->spaces->space_private(st, o, 1, NOW, &sp), 0);
	void *txn;
	int64_t s1, s2;
	assert_int_equal(st->ops->push->push_begin(st, &txn), 0);
	struct change_in c = { .collection = "notes", .record_id = "x", .op_id = "ap-1",
			       .op = OP_PUT, .data = "{\"v\":1}", .record_data = "{\"v\":1}",
			       .device_id = 7 };
	assert_int_equal(st->ops->push->push_append(txn, sp.id, &c, NOW, &s1), 0);
	struct op_result res = { OPS_APPLIED, s1, s1 };
	assert_int_equal(st->ops->push->push_op_put(txn, 7, "ap-1", sp.id, &res), 0);
	/* a result given for another seq than the change just appended is kept as given */
	c.op_id = "ap-2";
	assert_int_equal(st->ops->push->push_append(txn, sp.id, &c, NOW, &s2), 0);
	struct op_result odd = { OPS_APPLIED, s1, s1 };
	assert_int_equal(st->ops->push->push_op_put(txn, 7, "ap-2", sp.id, &odd), 0);
	assert_int_equal(st->ops->push->push_end(st, txn, 0), 0);
	struct op_result got;
	assert_int_equal(st->ops->push->push_begin(st, &txn), 0);
	assert_int_equal(st->ops->push->push_op_get(txn, 7, "ap-1", &got), 0);
	assert_int_equal(got.status, OPS_APPLIED);
	assert_int_equal(got.seq, s1);
	assert_int_equal(got.version, s1);
	assert_int_equal(st->ops->push->push_op_get(txn, 7, "ap-2", &got), 0);
	assert_int_equal(got.seq, s1);
	assert_int_equal(st->ops->push->push_op_get(txn, 8, "ap-1", &got), -ERR_NOT_FOUND);
	assert_int_equal(st->ops->push->push_end(st, txn, 0), 0);
	/* the first change is pruned (superseded by the second, both below the horizon):
	 * its op's result stays */
	int64_t pc = 0, pr = 0;
	assert_int_equal(st->ops->changes->prune(st, NOW + 86400000, 0, 86400000, NULL, &pc, &pr), 0);
	assert_true(pc >= 1);
	assert_int_equal(st->ops->push->push_begin(st, &txn), 0);
	assert_int_equal(st->ops->push->push_op_get(txn, 7, "ap-1", &got), 0);
	assert_int_equal(got.status, OPS_APPLIED);
	assert_int_equal(got.seq, s1);
	assert_int_equal(st->ops->push->push_end(st, txn, 0), 0);
}

static void test_push_sequences_and_results(void **state)
{
	(void)state;
	int64_t o = new_user("hal");
	struct space sp;
	assert_int_equal(st->ops->spaces->space_private(st, o, 1, NOW, &sp), 0);
	void *txn;
	assert_int_equal(st->ops->push->push_begin(st, &txn), 0);
	int64_t s1, s2, s3;
	append(txn, sp.id, "a", "op-1", &s1);
	struct op_result res = { OPS_APPLIED, s1, s1 };
	assert_int_equal(st->ops->push->push_op_put(txn, 7, "op-1", sp.id, &res), 0);
	/* a nested scope undone leaves no trace, and no gap */
	assert_int_equal(st->ops->push->push_mark(txn), 0);
	append(txn, sp.id, "b", "op-2", &s2);
	assert_int_equal(st->ops->push->push_unmark(txn, false), 0);
	append(txn, sp.id, "c", "op-3", &s3);
	assert_int_equal(st->ops->push->push_end(st, txn, 0), 0);
	assert_int_equal(s3, s1 + 1);
	/* a transaction ended with a failure keeps nothing */
	assert_int_equal(st->ops->push->push_begin(st, &txn), 0);
	int64_t s4;
	append(txn, sp.id, "d", "op-4", &s4);
	assert_int_equal(st->ops->push->push_end(st, txn, -ERR_INVALID), -ERR_INVALID);
	int64_t last = 0, head = 0, horizon = -1;
	assert_int_equal(st->ops->changes->changes_read(st, sp.id, 0, 100, count_change, &last,
							&head, &horizon),
			 0);
	assert_int_equal(last, 2);
	assert_int_equal(head, 2);
	assert_int_equal(horizon, 0);
	/* the op's result is remembered for its device */
	assert_int_equal(st->ops->push->push_begin(st, &txn), 0);
	struct op_result got;
	assert_int_equal(st->ops->push->push_op_get(txn, 7, "op-1", &got), 0);
	assert_int_equal(got.seq, s1);
	assert_int_equal(st->ops->push->push_op_get(txn, 8, "op-1", &got), -ERR_NOT_FOUND);
	struct record rec;
	assert_int_equal(st->ops->push->push_record_get(txn, sp.id, "notes", "b", false, &rec),
			 -ERR_NOT_FOUND);
	assert_int_equal(st->ops->push->push_end(st, txn, 0), 0);
	assert_int_equal(st->ops->changes->record_get(st, sp.id, "notes", "c", &rec), 0);
	assert_int_equal(rec.version, 2);
	assert_string_equal(rec.data, "{\"v\":1}");
	record_clear(&rec);
}

static int add_path(void *arg, const char *path, const struct record *r)
{
	char *out = arg;
	(void)r;
	size_t n = strlen(out);
	snprintf(out + n, 256 - n, "%s;", path);
	return 0;
}

static int take_seq(void *arg, const struct change_row *c)
{
	*(int64_t *)arg = c->seq;
	return 0;
}

/* Files are found by path (listings by prefix, the trash, the case check), one version by
 * its seq, and pruning keeps what struct file_keep asks for. */
static void test_files_by_path(void **state)
{
	(void)state;
	int64_t o = new_user("flo");
	struct space sp;
	assert_int_equal(st->ops->spaces->space_private(st, o, 1, NOW, &sp), 0);
	void *txn;
	assert_int_equal(st->ops->push->push_begin(st, &txn), 0);
	const char *paths[] = { "docs/b", "docs/a", "dog", "Docs/A" };
	const char *folds[] = { "docs/b", "docs/a", "dog", "docs/a" };
	int64_t seq[6];
	for (int i = 0; i < 4; i++) {
		char id[16], op[16];
		snprintf(id, sizeof id, "f%d", i);
		snprintf(op, sizeof op, "fo%d", i);
		struct change_in c = { .collection = "files", .record_id = id, .op_id = op,
				       .op = OP_PUT, .data = "{}", .record_data = "{}",
				       .path = paths[i], .path_fold = folds[i] };
		assert_int_equal(st->ops->push->push_append(txn, sp.id, &c, NOW, &seq[i]), 0);
	}
	char other[64] = "";
	assert_int_equal(st->ops->files->push_file_fold(txn, sp.id, "docs/a", "docs/a", other,
							sizeof other),
			 1);
	assert_string_equal(other, "Docs/A");
	assert_int_equal(st->ops->files->push_file_fold(txn, sp.id, "dog", "dog", other,
							sizeof other),
			 0);
	/* a second version of f1, then f2 deleted (its tombstone keeps its path) */
	struct change_in c = { .collection = "files", .record_id = "f1", .op_id = "fo4",
			       .op = OP_PUT, .data = "{\"v\":2}", .record_data = "{\"v\":2}",
			       .path = "docs/a", .path_fold = "docs/a" };
	assert_int_equal(st->ops->push->push_append(txn, sp.id, &c, NOW, &seq[4]), 0);
	struct change_in d = { .collection = "files", .record_id = "f2", .op_id = "fo5",
			       .op = OP_DELETE };
	assert_int_equal(st->ops->push->push_append(txn, sp.id, &d, NOW, &seq[5]), 0);
	assert_int_equal(st->ops->push->push_end(st, txn, 0), 0);
	char got[256] = "";
	assert_int_equal(st->ops->files->files_list(st, sp.id, "docs/", "", 10, false, add_path,
						    got),
			 0);
	assert_string_equal(got, "docs/a;docs/b;");
	got[0] = '\0';
	assert_int_equal(st->ops->files->files_list(st, sp.id, "do", "docs/a", 10, false,
						    add_path, got),
			 0);
	assert_string_equal(got, "docs/b;");
	got[0] = '\0';
	assert_int_equal(st->ops->files->files_list(st, sp.id, "", "", 10, true, add_path, got),
			 0);
	assert_string_equal(got, "dog;");
	int64_t found = 0;
	assert_int_equal(st->ops->changes->record_change(st, sp.id, "files", "f1", seq[1],
							 take_seq, &found),
			 0);
	assert_int_equal(found, seq[1]);
	assert_int_equal(st->ops->changes->record_change(st, sp.id, "files", "f0", seq[1],
							 take_seq, &found),
			 -ERR_NOT_FOUND);
	/* pruning with both versions of f1 kept, then with one */
	int64_t pc = 0, pr = 0;
	struct file_keep keep = { .versions = 2, .ms = 0 };
	assert_int_equal(st->ops->changes->prune(st, NOW + 86400000, 0, 86400000, &keep, &pc, &pr),
			 0);
	assert_int_equal(st->ops->changes->record_change(st, sp.id, "files", "f1", seq[1],
							 take_seq, &found),
			 0);
	keep.versions = 1;
	assert_int_equal(st->ops->changes->prune(st, NOW + 86400000, 0, 86400000, &keep, &pc, &pr),
			 0);
	assert_int_equal(st->ops->changes->record_change(st, sp.id, "files", "f1", seq[1],
							 take_seq, &found),
			 -ERR_NOT_FOUND);
	/* the deleted file's tombstone went with its deletion, older than keep.ms */
	got[0] = '\0';
	assert_int_equal(st->ops->files->files_list(st, sp.id, "", "", 10, true, add_path, got),
			 0);
	assert_string_equal(got, "");
}

/* One message in its own push: the row, the change, the conversation rows. */
static int64_t send_message(int64_t space_id, int64_t sender, int64_t at_ms)
{
	void *txn;
	assert_int_equal(st->ops->push->push_begin(st, &txn), 0);
	int64_t id = 0, seq = 0;
	assert_int_equal(st->ops->messages->push_message_new(txn, space_id, sender, at_ms, &id), 0);
	char rid[32], op[32];
	snprintf(rid, sizeof rid, "%lld", (long long)id);
	snprintf(op, sizeof op, "m-%lld", (long long)id);
	struct change_in c = { .collection = "messages", .record_id = rid, .op_id = op,
			       .op = OP_PUT, .data = "{}", .record_data = "{}" };
	assert_int_equal(st->ops->push->push_append(txn, space_id, &c, at_ms, &seq), 0);
	assert_int_equal(st->ops->messages->push_message_done(txn, id, space_id, seq, sender, at_ms),
			 0);
	assert_int_equal(st->ops->push->push_end(st, txn, 0), 0);
	return id;
}

static int add_conv(void *arg, const struct conversation *c)
{
	struct conversation *v = arg;
	int i = 0;
	while (v[i].space_id)
		i++;
	v[i] = *c;
	return 0;
}

/* A pair of users has one direct space, made once; a message has an id unique across the
 * server; conversations list by their last activity with unread counts that reads
 * move; blocks are kept per user. */
static void test_direct_spaces_and_conversations(void **state)
{
	(void)state;
	int64_t a = new_user("mae"), b = new_user("ned"), c = new_user("ola");
	struct space ab, ba, ac, aa;
	bool made;
	assert_int_equal(st->ops->messages->direct_space(st, 1, a, b, NOW, &ab, &made), 0);
	assert_true(made);
	assert_int_equal(ab.kind, SPACE_DIRECT);
	assert_int_equal(st->ops->messages->direct_space(st, 1, b, a, NOW, &ba, &made), 0);
	assert_false(made);
	assert_int_equal(ba.id, ab.id);
	assert_int_equal(st->ops->messages->direct_space(st, 1, a, c, NOW, &ac, &made), 0);
	assert_int_equal(st->ops->messages->direct_space(st, 1, a, a, NOW, &aa, &made), 0);
	assert_true(ac.id != ab.id && aa.id != ab.id);
	/* messages go into an append collection */
	enum policy pol;
	void *txn;
	assert_int_equal(st->ops->push->push_begin(st, &txn), 0);
	assert_int_equal(st->ops->push->push_policy(txn, ab.id, "messages", &pol), 0);
	assert_int_equal(pol, POLICY_APPEND);
	assert_int_equal(st->ops->push->push_end(st, txn, 0), 0);
	int64_t m1 = send_message(ab.id, b, NOW + 1);
	int64_t m2 = send_message(ac.id, c, NOW + 2);
	int64_t m3 = send_message(ab.id, b, NOW + 3);
	int64_t m4 = send_message(ab.id, a, NOW + 4);
	assert_true(m1 < m2 && m2 < m3 && m3 < m4);
	struct conversation v[8] = { 0 };
	assert_int_equal(st->ops->messages->conversations_list(st, a, INT64_MAX, 0, 10, add_conv, v),
			 0);
	/* newest activity first: ab (m4), ac (m2), then the notes to oneself (none yet) */
	assert_int_equal(v[0].space_id, ab.id);
	assert_int_equal(v[0].other_id, b);
	assert_int_equal(v[0].last_message_id, m4);
	assert_int_equal(v[0].unread, 2); /* m1 and m3, from b */
	assert_int_equal(v[1].space_id, ac.id);
	assert_int_equal(v[1].unread, 1);
	assert_int_equal(v[2].space_id, aa.id);
	assert_int_equal(v[2].last_message_id, 0);
	/* paging: after the first */
	struct conversation w[8] = { 0 };
	assert_int_equal(st->ops->messages->conversations_list(st, a, v[0].last_ms, v[0].space_id, 1,
							       add_conv, w),
			 0);
	assert_int_equal(w[0].space_id, ac.id);
	assert_int_equal(w[1].space_id, 0);
	/* reading up to m1's seq leaves m3 unread; a cursor never moves back */
	struct conversation cv;
	struct conversation before;
	assert_int_equal(st->ops->messages->conversation_get(st, a, ab.id, &before), 0);
	assert_int_equal(st->ops->messages->conversation_read(st, a, ab.id, 1, &cv), 0);
	assert_int_equal(cv.unread, 1);
	assert_int_equal(st->ops->messages->conversation_read(st, a, ab.id, 0, &cv), 0);
	assert_int_equal(cv.read_seq, 1);
	assert_int_equal(cv.unread, 1);
	assert_int_equal(st->ops->messages->conversation_read(st, a, ab.id, before.last_seq, &cv), 0);
	assert_int_equal(cv.unread, 0);
	/* the sender's own messages are never unread for them */
	assert_int_equal(st->ops->messages->conversation_get(st, b, ab.id, &cv), 0);
	assert_int_equal(cv.unread, 1); /* m4, from a */
	/* not a conversation of c's */
	assert_int_equal(st->ops->messages->conversation_get(st, c, ab.id, &cv), -ERR_NOT_FOUND);
	assert_int_equal(st->ops->messages->conversation_read(st, c, ab.id, 9, &cv), -ERR_NOT_FOUND);
	/* blocks */
	assert_int_equal(st->ops->messages->block_set(st, a, c, true, NOW), 0);
	assert_int_equal(st->ops->messages->block_set(st, a, c, true, NOW), 0);
	assert_int_equal(st->ops->push->push_begin(st, &txn), 0);
	assert_int_equal(st->ops->messages->push_blocked(txn, a, c), 1);
	assert_int_equal(st->ops->messages->push_blocked(txn, c, a), 0);
	assert_int_equal(st->ops->push->push_end(st, txn, 0), 0);
	assert_int_equal(st->ops->messages->blocked(st, a, c), 1);
	assert_int_equal(st->ops->messages->blocked(st, c, a), 0);
	assert_int_equal(st->ops->messages->block_set(st, a, c, false, NOW), 0);
	assert_int_equal(st->ops->messages->block_set(st, a, c, false, NOW), -ERR_NOT_FOUND);
	assert_int_equal(st->ops->messages->blocked(st, a, c), 0);
}

/* What messages_recent hands over, in order. */
struct listed {
	int n;
	int64_t id[32], other[32];
	char sender[32][32], other_name[32][32];
};

static int add_listed(void *arg, const struct message_listed *m)
{
	struct listed *l = arg;
	assert_true(l->n < 32);
	l->id[l->n] = m->m.id;
	l->other[l->n] = m->other_id;
	snprintf(l->sender[l->n], sizeof l->sender[0], "%s", m->sender ? m->sender : "");
	snprintf(l->other_name[l->n], sizeof l->other_name[0], "%s", m->other ? m->other : "");
	l->n++;
	return 0;
}

static void recent(int64_t user, int64_t other, int limit, struct listed *l)
{
	memset(l, 0, sizeof *l);
	assert_int_equal(st->ops->messages->messages_recent(st, user, other, limit, add_listed, l), 0);
}

/* A user's newest messages across conversations: exactly the newest `limit` live ones,
 * newest first, whatever the interleaving and however many fall in one conversation;
 * renames show in the names; pairs are found without being made. */
static void test_messages_recent_and_renames(void **state)
{
	(void)state;
	int64_t p = new_user("pia"), q = new_user("quy"), r = new_user("rex"), x = new_user("xan");
	struct space pq, pr, pp;
	bool made;
	int64_t found = 0;
	assert_int_equal(st->ops->messages->direct_pair_find(st, p, q, &found), -ERR_NOT_FOUND);
	assert_int_equal(st->ops->messages->direct_space(st, 1, p, q, NOW, &pq, &made), 0);
	assert_int_equal(st->ops->messages->direct_space(st, 1, r, p, NOW, &pr, &made), 0);
	assert_int_equal(st->ops->messages->direct_space(st, 1, p, p, NOW, &pp, &made), 0);
	assert_int_equal(st->ops->messages->direct_pair_find(st, q, p, &found), 0);
	assert_int_equal(found, pq.id);
	assert_int_equal(st->ops->messages->direct_pair_find(st, p, p, &found), 0);
	assert_int_equal(found, pp.id);
	assert_int_equal(st->ops->messages->direct_pair_find(st, p, x, &found), -ERR_NOT_FOUND);
	/* 12 messages: a run of 7 in one conversation, then the others interleaved */
	int64_t ids[12], sp[12] = { pq.id, pq.id, pq.id, pq.id, pq.id, pq.id, pq.id,
				    pr.id, pp.id,  pq.id, pr.id, pp.id };
	int64_t from[12] = { q, p, q, q, p, q, q, r, p, p, r, p };
	for (int i = 0; i < 12; i++)
		ids[i] = send_message(sp[i], from[i], NOW + 10 + i);
	/* one deleted: it never shows */
	void *txn;
	assert_int_equal(st->ops->push->push_begin(st, &txn), 0);
	assert_int_equal(st->ops->messages->push_message_delete(txn, ids[10], pr.id, r), 0);
	assert_int_equal(st->ops->push->push_end(st, txn, 0), 0);
	int64_t live[11];
	int nlive = 0;
	for (int i = 11; i >= 0; i--)
		if (i != 10)
			live[nlive++] = ids[i];
	struct listed l;
	for (int limit = 1; limit <= 13; limit++) {
		recent(p, 0, limit, &l);
		assert_int_equal(l.n, limit < nlive ? limit : nlive);
		for (int i = 0; i < l.n; i++)
			assert_int_equal(l.id[i], live[i]);
	}
	/* with one user only */
	recent(p, q, 20, &l);
	assert_int_equal(l.n, 8);
	for (int i = 0; i < l.n; i++)
		assert_int_equal(l.other[i], q);
	assert_int_equal(l.id[0], ids[9]);
	recent(p, p, 20, &l);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.sender[0], "pia");
	assert_string_equal(l.other_name[0], "pia");
	/* the other side sees the same conversation; a stranger nothing */
	recent(q, 0, 20, &l);
	assert_int_equal(l.n, 8);
	assert_int_equal(l.other[0], p);
	recent(x, 0, 20, &l);
	assert_int_equal(l.n, 0);
	/* renames: unique in any case, and the listings name the user as now called */
	assert_int_equal(st->ops->accounts->user_rename(st, q, "REX"), -ERR_EXISTS);
	assert_int_equal(st->ops->accounts->user_rename(st, q, "Quentin"), 0);
	assert_int_equal(st->ops->accounts->user_rename(st, q, "quentin"), 0); /* case only */
	struct user u;
	assert_int_equal(st->ops->accounts->user_find(st, 1, "QUENTIN", &u), 0);
	assert_int_equal(u.id, q);
	assert_string_equal(u.username, "quentin");
	assert_int_equal(st->ops->accounts->user_find(st, 1, "quy", &u), -ERR_NOT_FOUND);
	assert_int_equal(st->ops->accounts->user_rename(st, 99999, "nobody"), -ERR_NOT_FOUND);
	recent(p, q, 1, &l);
	assert_string_equal(l.sender[0], "pia");
	assert_string_equal(l.other_name[0], "quentin");
	/* deleting a conversation's newest message makes the newest live one its last; with
	 * none left, none */
	struct conversation cv;
	assert_int_equal(st->ops->messages->conversation_get(st, p, pp.id, &cv), 0);
	assert_int_equal(cv.last_message_id, ids[11]);
	assert_int_equal(st->ops->push->push_begin(st, &txn), 0);
	assert_int_equal(st->ops->messages->push_message_delete(txn, ids[11], pp.id, p), 0);
	assert_int_equal(st->ops->push->push_end(st, txn, 0), 0);
	assert_int_equal(st->ops->messages->conversation_get(st, p, pp.id, &cv), 0);
	assert_int_equal(cv.last_message_id, ids[8]);
	assert_int_equal(cv.last_ms, NOW + 10 + 8);
	assert_int_equal(st->ops->push->push_begin(st, &txn), 0);
	assert_int_equal(st->ops->messages->push_message_delete(txn, ids[8], pp.id, p), 0);
	assert_int_equal(st->ops->push->push_end(st, txn, 0), 0);
	assert_int_equal(st->ops->messages->conversation_get(st, p, pp.id, &cv), 0);
	assert_int_equal(cv.last_message_id, 0);
	/* reading up to the newest counts what it marked, once */
	int64_t marked = -1;
	assert_int_equal(st->ops->messages->conversation_get(st, p, pq.id, &cv), 0);
	int64_t unread = cv.unread;
	assert_true(unread > 0);
	assert_int_equal(st->ops->messages->conversation_read_newest(st, p, pq.id, &marked), 0);
	assert_int_equal(marked, unread);
	assert_int_equal(st->ops->messages->conversation_read_newest(st, p, pq.id, &marked), 0);
	assert_int_equal(marked, 0);
	assert_int_equal(st->ops->messages->conversation_read_newest(st, x, pq.id, &marked),
			 -ERR_NOT_FOUND);
}

/* Key bundles: an upload replaces the bundle and every prekey; each prekey is handed out
 * once, oldest first; then the bundle alone. */
static void test_key_bundles(void **state)
{
	(void)state;
	int64_t k = new_user("kim"), none = new_user("lev");
	struct key_bundle kb = { 0 }, got;
	char pre[KEY_TEXT_MAX + 1];
	bool has;
	int64_t left = -1;
	assert_int_equal(st->ops->messages->bundle_take(st, none, &got, pre, sizeof pre, &has),
			 -ERR_NOT_FOUND);
	snprintf(kb.identity_key, sizeof kb.identity_key, "ik1");
	snprintf(kb.signed_prekey, sizeof kb.signed_prekey, "spk1");
	snprintf(kb.signed_prekey_signature, sizeof kb.signed_prekey_signature, "sig1");
	const char *const three[] = { "a", "b", "c" };
	assert_int_equal(st->ops->messages->bundle_put(st, k, &kb, three, 3, NOW), 0);
	assert_int_equal(st->ops->messages->bundle_prekeys(st, k, &left), 0);
	assert_int_equal(left, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(st->ops->messages->bundle_take(st, k, &got, pre, sizeof pre, &has), 0);
		assert_true(has);
		assert_string_equal(pre, three[i]);
		assert_string_equal(got.identity_key, "ik1");
		assert_string_equal(got.signed_prekey_signature, "sig1");
	}
	assert_int_equal(st->ops->messages->bundle_take(st, k, &got, pre, sizeof pre, &has), 0);
	assert_false(has);
	assert_string_equal(got.signed_prekey, "spk1");
	/* without room for a prekey: the bundle, and no prekey taken */
	assert_int_equal(st->ops->messages->bundle_put(st, k, &kb, three, 1, NOW), 0);
	assert_int_equal(st->ops->messages->bundle_take(st, k, &got, NULL, 0, &has), 0);
	assert_false(has);
	assert_int_equal(st->ops->messages->bundle_prekeys(st, k, &left), 0);
	assert_int_equal(left, 1);
	/* a new upload: the new keys, only the new prekeys */
	assert_int_equal(st->ops->messages->bundle_put(st, k, &kb, three, 2, NOW), 0);
	snprintf(kb.identity_key, sizeof kb.identity_key, "ik2");
	const char *const one[] = { "z" };
	assert_int_equal(st->ops->messages->bundle_put(st, k, &kb, one, 1, NOW + 1), 0);
	assert_int_equal(st->ops->messages->bundle_prekeys(st, k, &left), 0);
	assert_int_equal(left, 1);
	assert_int_equal(st->ops->messages->bundle_take(st, k, &got, pre, sizeof pre, &has), 0);
	assert_string_equal(got.identity_key, "ik2");
	assert_string_equal(pre, "z");
	assert_int_equal(got.updated_ms, NOW + 1);
}

/* A user's space for an app is made once and found again; another user, or another app,
 * gets its own; leaving it makes a new one. The cursor for a server time is the last
 * change that arrived by then. */
static void test_app_spaces_and_time_cursors(void **state)
{
	(void)state;
	int64_t u = new_user("ursa"), v = new_user("vic");
	struct space a, b, c, d;
	bool made;
	assert_int_equal(st->ops->spaces->space_for_app(st, u, 1, "tickit", NOW, &a, &made), 0);
	assert_true(made);
	assert_int_equal(a.kind, SPACE_SHARED);
	assert_int_equal(a.role, ROLE_OWNER);
	assert_string_equal(a.name, "tickit");
	assert_int_equal(st->ops->spaces->space_for_app(st, u, 1, "tickit", NOW, &b, &made), 0);
	assert_false(made);
	assert_int_equal(b.id, a.id);
	assert_int_equal(st->ops->spaces->space_for_app(st, v, 1, "tickit", NOW, &c, &made), 0);
	assert_int_equal(st->ops->spaces->space_for_app(st, u, 1, "sts", NOW, &d, &made), 0);
	assert_true(c.id != a.id && d.id != a.id && d.id != c.id);
	/* deleted: made again */
	assert_int_equal(st->ops->spaces->space_delete(st, a.id), 0);
	assert_int_equal(st->ops->spaces->space_for_app(st, u, 1, "tickit", NOW, &b, &made), 0);
	assert_true(made);
	assert_true(b.id != a.id);
	/* time cursors over changes arriving at NOW+10, +20, +30 */
	int64_t at[3] = { NOW + 10, NOW + 20, NOW + 30 };
	for (int i = 0; i < 3; i++) {
		void *txn;
		int64_t seq;
		char rid[16], op[16];
		snprintf(rid, sizeof rid, "r%d", i);
		snprintf(op, sizeof op, "o%d", i);
		struct change_in ch = { .collection = "tasks", .record_id = rid, .op_id = op,
					.op = OP_PUT, .data = "{}", .record_data = "{}" };
		assert_int_equal(st->ops->push->push_begin(st, &txn), 0);
		assert_int_equal(st->ops->push->push_append(txn, c.id, &ch, at[i], &seq), 0);
		assert_int_equal(st->ops->push->push_end(st, txn, 0), 0);
	}
	int64_t since = -1, horizon = -1;
	const int64_t probe[][2] = { { NOW, 0 },	  { NOW + 10, 1 }, { NOW + 15, 1 },
				     { NOW + 20, 2 }, { NOW + 29, 2 }, { NOW + 30, 3 },
				     { NOW + 99, 3 } };
	for (size_t i = 0; i < sizeof probe / sizeof probe[0]; i++) {
		assert_int_equal(st->ops->changes->changes_seq_at_ms(st, c.id, probe[i][0], &since,
								      &horizon),
				 0);
		assert_int_equal(since, probe[i][1]);
		assert_int_equal(horizon, 0);
	}
	assert_int_equal(st->ops->changes->changes_seq_at_ms(st, d.id, NOW, &since, &horizon), 0);
	assert_int_equal(since, 0); /* an empty log */
	/* an adapter's clients: one id once per app and realm; the lock is held until let go
	 * or stale, and records the pull */
	struct app_client cl = { .realm_id = 1, .user_id = u, .device_id = 77, .created_ms = NOW };
	snprintf(cl.client_id, sizeof cl.client_id, "c-1");
	assert_int_equal(st->ops->spaces->client_add(st, "sts", &cl), 0);
	assert_int_equal(st->ops->spaces->client_add(st, "sts", &cl), -ERR_EXISTS);
	assert_int_equal(st->ops->spaces->client_add(st, "other", &cl), 0);
	struct app_client got;
	assert_int_equal(st->ops->spaces->client_get(st, "sts", 1, "c-1", &got), 0);
	assert_int_equal(got.user_id, u);
	assert_int_equal(got.lock_ms, 0);
	assert_int_equal(st->ops->spaces->client_get(st, "sts", 1, "c-2", &got), -ERR_NOT_FOUND);
	assert_int_equal(st->ops->spaces->client_lock(st, "sts", 1, "c-1", c.id, NOW, 1000, &got), 0);
	assert_int_equal(got.pulled_ms, NOW);
	assert_int_equal(got.pulled_seq, 3); /* the head the pull reads up to */
	assert_int_equal(st->ops->spaces->client_lock(st, "sts", 1, "c-1", c.id, NOW + 999, 1000, &got),
			 -ERR_BUSY);
	assert_int_equal(st->ops->spaces->client_lock(st, "sts", 1, "c-1", c.id, NOW + 1001, 1000, &got), 0);
	assert_int_equal(got.pulled_ms, NOW + 1001);
	assert_int_equal(st->ops->spaces->client_unlock(st, "sts", 1, "c-1"), 0);
	assert_int_equal(st->ops->spaces->client_lock(st, "sts", 1, "c-1", c.id, NOW + 1002, 1000, &got), 0);
	assert_int_equal(st->ops->spaces->client_by_device(st, 77, &got), 0);
	assert_string_equal(got.client_id, "c-1");
	assert_int_equal(st->ops->spaces->client_delete(st, "sts", 1, "c-1"), 0);
	assert_int_equal(st->ops->spaces->client_delete(st, "sts", 1, "c-1"), -ERR_NOT_FOUND);
	assert_int_equal(st->ops->spaces->client_lock(st, "sts", 1, "c-1", c.id, NOW, 1000, &got),
			 -ERR_NOT_FOUND);
}

/* Pruning drops superseded changes older than the retention that every active device has
 * passed, and moves the horizon there; later changes stay. */
static void test_pruning_horizon(void **state)
{
	(void)state;
	int64_t o = new_user("ivy");
	struct space sp;
	assert_int_equal(st->ops->spaces->space_private(st, o, 1, NOW, &sp), 0);
	void *txn;
	assert_int_equal(st->ops->push->push_begin(st, &txn), 0);
	int64_t s;
	append(txn, sp.id, "x", "p-1", &s);
	append(txn, sp.id, "x", "p-2", &s);
	append(txn, sp.id, "x", "p-3", &s);
	assert_int_equal(st->ops->push->push_end(st, txn, 0), 0);
	int64_t ch = 0, recs = 0;
	/* a day later, with no devices holding cursors back */
	assert_int_equal(st->ops->changes->prune(st, NOW + 86400000, 3600000, 86400000, NULL, &ch, &recs),
			 0);
	assert_true(ch >= 2);
	int64_t last = 2, head = 0, horizon = 0;
	assert_int_equal(st->ops->changes->changes_read(st, sp.id, 2, 100, count_change, &last,
							&head, &horizon),
			 0);
	assert_int_equal(head, 3);
	assert_true(horizon >= 2);
	assert_int_equal(last, 3); /* the newest change of the record stays */
}

/* --- blobs' metadata --- */

static const char *sha(char c)
{
	static char buf[4][65];
	static int k;
	char *b = buf[k++ % 4];
	memset(b, c, 64);
	b[64] = '\0';
	return b;
}

static void test_blob_quota_and_release(void **state)
{
	(void)state;
	int64_t u = new_user("jo");
	struct blob_hold h = { .sha256 = sha('a'), .size = 600, .user_id = u, .realm_id = 1,
			       .user_quota = 1000, .now_ms = NOW };
	bool fresh = false;
	assert_int_equal(st->ops->blobmeta->blob_hold(st, &h, &fresh), 0);
	assert_true(fresh);
	assert_int_equal(st->ops->blobmeta->blob_hold(st, &h, &fresh), 0);
	assert_false(fresh); /* held once, counted once */
	h.sha256 = sha('b');
	assert_int_equal(st->ops->blobmeta->blob_hold(st, &h, &fresh), -ERR_QUOTA);
	int64_t used = 0, realm_used = 0;
	assert_int_equal(st->ops->blobmeta->blob_usage(st, u, &used, &realm_used), 0);
	assert_int_equal(used, 600);
	/* readable by the holder only, until a change names it */
	const char *one[1] = { sha('a') };
	bool ok[1], held[1];
	int64_t other = new_user("kit");
	assert_int_equal(st->ops->blobmeta->blob_readable(st, u, one, 1, ok, held, NULL), 0);
	assert_true(ok[0] && held[0]);
	assert_int_equal(st->ops->blobmeta->blob_readable(st, other, one, 1, ok, held, NULL), 0);
	assert_false(ok[0] || held[0]);
	/* released, it is nobody's: the usage drops, and collection may take it */
	int64_t sp_id = 0, seq = 0;
	assert_int_equal(st->ops->blobmeta->blob_release(st, u, sha('a'), &sp_id, &seq), 0);
	assert_int_equal(st->ops->blobmeta->blob_release(st, u, sha('a'), &sp_id, &seq),
			 -ERR_NOT_FOUND);
	assert_int_equal(st->ops->blobmeta->blob_usage(st, u, &used, &realm_used), 0);
	assert_int_equal(used, 0);
}

/* Collection's marks and its lease: a dead blob is marked once, a marked blob cannot be
 * held until it is forgotten, a file no row records is marked through a new row, and
 * one holder at a time has the lease. */
static void test_blob_marks_and_the_lease(void **state)
{
	(void)state;
	int64_t u = new_user("lou");
	struct blob_hold h = { .sha256 = sha('c'), .size = 10, .user_id = u, .realm_id = 1,
			       .now_ms = NOW };
	bool fresh;
	assert_int_equal(st->ops->blobmeta->blob_hold(st, &h, &fresh), 0);
	/* held: not dead, no mark */
	assert_int_equal(st->ops->blobmeta->blob_mark(st, sha('c'), 10, NOW + 1, NOW + 1),
			 -ERR_CONFLICT);
	int64_t sp = 0, seq = 0;
	assert_int_equal(st->ops->blobmeta->blob_release(st, u, sha('c'), &sp, &seq), 0);
	/* dead, but touched after before_ms: no mark */
	assert_int_equal(st->ops->blobmeta->blob_mark(st, sha('c'), 10, NOW, NOW + 1),
			 -ERR_CONFLICT);
	assert_int_equal(st->ops->blobmeta->blob_mark(st, sha('c'), 10, NOW + 1, NOW + 1), 0);
	assert_int_equal(st->ops->blobmeta->blob_mark(st, sha('c'), 10, NOW + 1, NOW + 1),
			 -ERR_CONFLICT);
	/* marked: nobody may hold it, and it is no longer dead or a row to check */
	assert_int_equal(st->ops->blobmeta->blob_hold(st, &h, &fresh), -ERR_BUSY);
	const char *one[1] = { sha('c') };
	bool ok[1];
	assert_int_equal(st->ops->blobmeta->blob_readable(st, u, one, 1, ok, NULL, NULL), 0);
	assert_false(ok[0]);
	/* a file no row records is marked through a new row */
	assert_int_equal(st->ops->blobmeta->blob_mark(st, sha('d'), 7, NOW, NOW), 0);
	int64_t size = 0;
	bool marked = false;
	assert_int_equal(st->ops->blobmeta->blob_get(st, sha('d'), &size, &marked), 0);
	assert_int_equal(size, 7);
	assert_true(marked);
	/* forgotten, each goes, and only a marked row is forgotten */
	assert_int_equal(st->ops->blobmeta->blob_forget(st, sha('c')), 0);
	assert_int_equal(st->ops->blobmeta->blob_forget(st, sha('d')), 0);
	assert_int_equal(st->ops->blobmeta->blob_forget(st, sha('c')), -ERR_NOT_FOUND);
	assert_int_equal(st->ops->blobmeta->blob_hold(st, &h, &fresh), 0);
	assert_true(fresh);
	assert_int_equal(st->ops->blobmeta->blob_forget(st, sha('c')), -ERR_NOT_FOUND);
	/* the lease: one holder until it expires or is dropped */
	assert_int_equal(st->ops->blobmeta->lease_take(st, "job", "a", NOW, 1000), 0);
	assert_int_equal(st->ops->blobmeta->lease_take(st, "job", "b", NOW + 999, 1000), -ERR_BUSY);
	assert_int_equal(st->ops->blobmeta->lease_take(st, "job", "a", NOW + 999, 1000), 0);
	assert_int_equal(st->ops->blobmeta->lease_take(st, "job", "b", NOW + 1998, 1000), -ERR_BUSY);
	assert_int_equal(st->ops->blobmeta->lease_take(st, "job", "b", NOW + 1999, 1000), 0);
	assert_int_equal(st->ops->blobmeta->lease_drop(st, "job", "a"), 0); /* not a's now */
	assert_int_equal(st->ops->blobmeta->lease_take(st, "job", "a", NOW + 2000, 1000), -ERR_BUSY);
	assert_int_equal(st->ops->blobmeta->lease_drop(st, "job", "b"), 0);
	assert_int_equal(st->ops->blobmeta->lease_take(st, "job", "a", NOW + 2000, 1000), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unique_names),
		cmocka_unit_test(test_refresh_reuse_ends_the_session),
		cmocka_unit_test(test_code_tries),
		cmocka_unit_test(test_members_and_the_last_owner),
		cmocka_unit_test(test_key_epochs),
		cmocka_unit_test(test_push_sequences_and_results),
		cmocka_unit_test(test_applied_results_outlive_their_changes),
		cmocka_unit_test(test_pruning_horizon),
		cmocka_unit_test(test_files_by_path),
		cmocka_unit_test(test_direct_spaces_and_conversations),
		cmocka_unit_test(test_messages_recent_and_renames),
		cmocka_unit_test(test_key_bundles),
		cmocka_unit_test(test_app_spaces_and_time_cursors),
		cmocka_unit_test(test_blob_quota_and_release),
		cmocka_unit_test(test_blob_marks_and_the_lease),
	};
	return cmocka_run_group_tests_name("store contract", tests, setup, teardown);
}
