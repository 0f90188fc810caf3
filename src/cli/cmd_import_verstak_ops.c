/* cairn import verstak, its second half: blobs from the blob directory, held by their
 * users, and each vault's ops in their order, pushed from the import's device of the user,
 * with the map of sequence numbers (docs/compat/verstak.md, "Moving from Verstak Sync"). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/accounts.h"
#include "../core/blobs.h"
#include "../core/sync.h"
#include "../http/compat/verstak/verstak.h"
#include "../util/arena.h"
#include "../util/err.h"
#include "cli.h"
#include "data.h"
#include "import_verstak.h"

/* --- blobs --- */

static int put_blob(struct vimport *x, const struct principal *p, const char *sha, int64_t size)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%.2s/%.2s/%s", x->blob_dir, sha, sha + 2, sha);
	/* a regular file, not a link (to anything on this host) nor a FIFO that never ends */
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat stt;
	if (fd < 0 || fstat(fd, &stt) < 0 || !S_ISREG(stt.st_mode)) {
		if (fd >= 0)
			close(fd);
		return -ERR_NOT_FOUND;
	}
	FILE *f = fdopen(fd, "rb");
	if (!f) {
		close(fd);
		return -ERR_IO;
	}
	struct blob_upload *u = NULL;
	int e = blob_upload_begin(x->c, p, sha, size, &u);
	char buf[65536];
	size_t n;
	while (e == 0 && (n = fread(buf, 1, sizeof buf, f)) > 0)
		e = blob_upload_write(u, buf, n);
	if (e == 0 && ferror(f))
		e = -ERR_IO;
	fclose(f);
	char got[65];
	int64_t got_size = 0;
	bool fresh = false;
	if (e == 0)
		e = blob_upload_finish(u, got, &got_size, &fresh);
	blob_upload_free(u);
	return e;
}

int vi_read_blobs(struct vimport *x)
{
	sqlite3_stmt *st = vi_prepare(x, "SELECT DISTINCT user_id, sha256, size FROM server_blob_refs "
				      "ORDER BY user_id, sha256");
	if (!st)
		return -ERR_INVALID;
	while (sqlite3_step(st) == SQLITE_ROW && !x->failed) {
		struct vuser *vu = vi_user_of(x, vi_text(st, 0));
		const char *sha = vi_text(st, 1);
		if (!vu || !vk_sha256_ok(sha)) {
			x->t.blobs_missing++;
			continue;
		}
		const struct principal *p = vi_principal_of(x, vu);
		if (!p)
			break;
		int e = put_blob(x, p, sha, sqlite3_column_int64(st, 2));
		if (e == -ERR_NOT_FOUND || e == -ERR_MISMATCH || e == -ERR_TOO_LARGE || e == -ERR_QUOTA) {
			fprintf(stderr, "cairn import: blob %s of %s not imported: %s\n", sha,
				vu->u.username, e == -ERR_NOT_FOUND ? "its file is missing or not a regular file"
						: e == -ERR_MISMATCH ? "its file is damaged"
						: e == -ERR_QUOTA ? "over the user's quota"
								   : "over blobs.max_size");
			x->t.blobs_missing++;
			continue;
		}
		if (e < 0) {
			cli_report("import", e, NULL);
			x->failed = true;
			break;
		}
		x->t.blobs++;
	}
	sqlite3_finalize(st);
	return x->failed ? -ERR_INVALID : 0;
}

/* --- ops, a vault at a time --- */

struct vault {
	struct vuser *vu;
	const struct principal *p;
	struct space sp;
	char name[APP_SCOPE_MAX + 1];
	bool skip;
	bool counts; /* skipped, and its ops count as not imported */
	bool before; /* imported before: ops newer than its map are named, not imported */
	int64_t map_last, newer;
	/* the batch being built */
	struct arena a;
	struct push_change *ch;
	int64_t *orig; /* each change's Verstak sequence */
	int n, cap;
	/* what the map records */
	int64_t first, last, last_orig;
};

static int flush_ops(struct vimport *x, struct vault *v)
{
	if (!v->n)
		return 0;
	struct push_result *res = calloc((size_t)v->n, sizeof *res);
	if (!res)
		return -ERR_NOMEM;
	struct push_job j = { .p = v->p, .sp = &v->sp, .changes = v->ch, .n = v->n, .results = res,
			      .arena = &v->a };
	j.rc = sync_push_check(x->c, &j);
	if (j.rc == 0)
		sync_push_run(x->c, &j);
	int e = j.rc;
	for (int i = 0; e == 0 && i < v->n; i++) {
		if (res[i].status != OPS_APPLIED)
			continue; /* cannot be: the vault's space was empty */
		if (!v->first)
			v->first = res[i].seq;
		v->last = res[i].seq;
		v->last_orig = v->orig[i];
		x->t.ops++;
	}
	if (e == 0)
		push_results_free(res, v->n);
	else
		cli_report("import", e, &j.ve);
	free(res);
	for (int i = 0; i < v->n; i++)
		json_object_put(v->ch[i].data);
	arena_free(&v->a);
	v->a = (struct arena)ARENA_INIT;
	v->n = 0;
	return e;
}

/* Ends a vault: its last batch, then the map of its sequence numbers. */
static int end_vault(struct vimport *x, struct vault *v)
{
	int e = v->skip ? 0 : flush_ops(x, v);
	if (v->newer)
		fprintf(stderr, "cairn import: vault %s of %s was imported before: %lld ops written "
				"to Verstak Sync since then were not imported (a vault is imported "
				"once)\n", v->name, v->vu->u.username, (long long)v->newer);
	if (e == 0 && !v->skip && v->first) {
		json_object *m = json_object_new_object();
		json_object_object_add(m, "first_seq", json_object_new_int64(v->first));
		json_object_object_add(m, "last_seq", json_object_new_int64(v->last));
		json_object_object_add(m, "last_verstak_seq", json_object_new_int64(v->last_orig));
		char op[48]; /* op ids are the device's: one per vault */
		snprintf(op, sizeof op, "verstak-import-map-%lld", (long long)v->sp.id);
		struct push_change ch = { .op_id = op,
					  .collection = VK_IMPORT_COLLECTION, .id = VK_IMPORT_RECORD,
					  .op = OP_PUT, .data = m, .base_version = -1 };
		struct push_result res = { 0 };
		struct push_job j = { .p = v->p, .sp = &v->sp, .changes = &ch, .n = 1, .results = &res,
				      .arena = &v->a };
		j.rc = sync_push_check(x->c, &j);
		if (j.rc == 0)
			sync_push_run(x->c, &j);
		e = j.rc;
		if (e == 0)
			push_results_free(&res, 1);
		else
			cli_report("import", e, &j.ve);
		json_object_put(m);
		x->t.vaults++;
	}
	arena_free(&v->a);
	free(v->ch);
	free(v->orig);
	memset(v, 0, sizeof *v);
	return e;
}

static int begin_vault(struct vimport *x, struct vault *v, struct vuser *vu, const char *name)
{
	memset(v, 0, sizeof *v);
	v->a = (struct arena)ARENA_INIT;
	v->vu = vu;
	snprintf(v->name, sizeof v->name, "%s", name);
	v->p = vi_principal_of(x, vu);
	if (!v->p)
		return -ERR_INVALID;
	char app[APP_SCOPE_MAX + 16];
	snprintf(app, sizeof app, "%s:%s", VERSTAK_APP, name);
	int e = sync_space_for_app(x->c, v->p, app, &v->sp);
	if (e < 0)
		return e;
	struct record rec = { 0 };
	if (sync_record_get(x->c, v->p, &v->sp, VK_IMPORT_COLLECTION, VK_IMPORT_RECORD, &rec) == 0) {
		json_object *m = rec.data ? json_tokener_parse(rec.data) : NULL, *l;
		v->map_last = json_object_object_get_ex(m, "last_verstak_seq", &l)
				      ? json_object_get_int64(l) : 0;
		json_object_put(m);
		record_clear(&rec);
		x->t.vaults_there++;
		v->skip = v->before = true; /* imported before: once is all a map can say */
	} else if (v->sp.head_seq > 0) {
		fprintf(stderr, "cairn import: skipped vault %s of %s: its space already has changes "
				"(a desktop synced it through Cairn); import before pairing\n",
			name, vu->u.username);
		x->t.vaults_skipped++;
		v->skip = v->counts = true;
	}
	int cap = (int)limits_cfg(x->c->cfg)->push_changes;
	v->cap = cap < 1000 ? cap : 1000;
	v->ch = calloc((size_t)v->cap, sizeof *v->ch);
	v->orig = calloc((size_t)v->cap, sizeof *v->orig);
	return v->ch && v->orig ? 0 : -ERR_NOMEM;
}

/* One op row into the vault's batch, unless it cannot be kept. */
static int add_op(struct vimport *x, struct vault *v, sqlite3_stmt *st)
{
	static const char *const names[] = { "op_id", "device_id", "entity_type", "entity_id",
					     "op_type", "payload_json" };
	static const size_t max[] = { 128, APP_CLIENT_ID_MAX, 64, 4096, 64, 16 * 1024 * 1024 };
	const char *f[6];
	for (int i = 0; i < 6; i++) {
		f[i] = vi_text(st, 2 + i);
		if (!f[i] || strlen(f[i]) > max[i]) {
			fprintf(stderr, "cairn import: skipped op %.64s of vault %s: %s is missing, too "
					"long or not UTF-8\n", f[0] ? f[0] : "?", v->name, names[i]);
			x->t.ops_skipped++;
			return 0;
		}
	}
	const char *created = vi_text(st, 11) ? vi_text(st, 11) : "";
	json_object *o = json_object_new_object();
	for (int i = 0; i < 6; i++)
		json_object_object_add(o, names[i], json_object_new_string(f[i]));
	json_object_object_add(o, "client_sequence", json_object_new_int64(sqlite3_column_int64(st, 9)));
	json_object_object_add(o, "last_seen_server_seq",
			       json_object_new_int64(sqlite3_column_int64(st, 10)));
	json_object_object_add(o, "created_at", json_object_new_string(created));
	int64_t orig = sqlite3_column_int64(st, 8);
	json_object_object_add(o, "verstak_seq", json_object_new_int64(orig));
	const char *textv = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	if ((int64_t)strlen(textv) > limits_cfg(x->c->cfg)->record_bytes) {
		fprintf(stderr, "cairn import: skipped op %s of vault %s: %zu bytes, over "
				"limits.record_bytes\n", f[0], v->name, strlen(textv));
		json_object_put(o);
		x->t.ops_skipped++;
		return 0;
	}
	char idbuf[VK_RECORD_ID_LEN];
	const char *rid = vk_record_id(f[0], idbuf);
	const char *id = arena_strndup(&v->a, rid, strlen(rid));
	char opbuf[VK_RECORD_ID_LEN];
	const char *oid = vk_op_id(f[0], opbuf);
	const char *cairn_op = arena_strndup(&v->a, oid, strlen(oid));
	struct push_change *ch = &v->ch[v->n];
	memset(ch, 0, sizeof *ch);
	ch->op_id = cairn_op;
	ch->collection = VERSTAK_OPS;
	ch->id = id;
	ch->op = OP_PUT;
	ch->base_version = -1;
	ch->data = o;
	/* a file op names its blob, when its user has it, so that the vault keeps it */
	json_object *pj = !strcmp(f[2], "file") ? json_tokener_parse(f[5]) : NULL, *b, *sha;
	if (json_object_object_get_ex(pj, "blob", &b) && json_object_object_get_ex(b, "sha256", &sha) &&
	    vk_sha256_ok(json_object_get_string(sha))) {
		const char *s = json_object_get_string(sha);
		bool missing = true;
		blob_missing(x->c, v->p, &s, 1, &missing);
		char js[72];
		snprintf(js, sizeof js, "[\"%s\"]", s);
		if (!missing && (ch->blobs = arena_alloc(&v->a, sizeof *ch->blobs)) &&
		    (ch->blobs[0] = arena_strndup(&v->a, s, 64)) &&
		    (ch->blobs_json = arena_strndup(&v->a, js, strlen(js))))
			ch->nblobs = 1;
	}
	json_object_put(pj);
	if (!id || !cairn_op) {
		json_object_put(o);
		return -ERR_NOMEM;
	}
	for (int k = 0; k < v->n; k++)
		if (!strcmp(v->ch[k].id, id) || !strcmp(v->ch[k].op_id, ch->op_id)) {
			fprintf(stderr, "cairn import: skipped op %s of vault %s: its id is another op's\n",
				vi_printable(f[0]), vi_printable(v->name));
			json_object_put(o);
			x->t.ops_skipped++;
			return 0;
		}
	v->orig[v->n++] = orig;
	return v->n == v->cap ? flush_ops(x, v) : 0;
}

int vi_read_ops(struct vimport *x)
{
	sqlite3_stmt *st = vi_prepare(x, "SELECT user_id, vault_id, op_id, device_id, entity_type, "
				      "entity_id, op_type, payload_json, server_sequence, "
				      "client_sequence, last_seen_server_seq, created_at FROM server_ops "
				      "WHERE typeof(server_sequence) = 'integer' AND server_sequence > 0 "
				      "AND server_sequence < 9007199254740992 ORDER BY user_id, "
				      "vault_id, server_sequence");
	if (!st)
		return -ERR_INVALID;
	struct vault v = { 0 };
	bool open = false;
	int e = 0;
	while (e == 0 && sqlite3_step(st) == SQLITE_ROW) {
		struct vuser *vu = vi_user_of(x, vi_text(st, 0));
		char name[APP_SCOPE_MAX + 1];
		if (!vu) {
			x->t.ops_skipped++; /* its user was skipped (said above) */
			continue;
		}
		const char *vault = vi_text(st, 1);
		if (vault && strlen(vault) > APP_SCOPE_MAX) {
			x->t.ops_skipped++;
			continue;
		}
		vi_vault_of(name, vault, vu->old);
		if (!open || v.vu != vu || strcmp(v.name, name)) {
			if (open && (e = end_vault(x, &v)) < 0)
				break;
			e = begin_vault(x, &v, vu, name);
			open = true;
			if (e < 0)
				break;
		}
		if (!v.skip)
			e = add_op(x, &v, st);
		else if (v.counts)
			x->t.ops_skipped++;
		else if (v.before && sqlite3_column_int64(st, 8) > v.map_last) {
			v.newer++;
			x->t.ops_skipped++;
		}
	}
	sqlite3_finalize(st);
	if (open) {
		int e2 = end_vault(x, &v);
		if (e == 0)
			e = e2;
	}
	return e;
}
