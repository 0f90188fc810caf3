/* cairn import tickit PATH --user NAME: a tickit-sync database (its SQLite file, read only)
 * into the user's "tickit" space, as syncs would bring it (docs/compat/tickit.md). */
#include <sqlite3.h>
#include <unistr.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/accounts.h"
#include "../core/sync.h"
#include "../http/compat/tickit/tickit.h"
#include "../http/compat/verstak/verstak.h"
#include "../util/arena.h"
#include "../util/clock.h"
#include "../util/err.h"
#include "cli.h"
#include "data.h"

/* What became of the records read, by type (tombstones under TK_DELETED). */
struct tally {
	int64_t read[TK__N], applied[TK__N], kept[TK__N], skipped, links;
};

/* One batch: the push body being built, and the type of each change in it. */
struct batch {
	json_object *changes;
	enum tk_type types[4096];
	int n;
};

static int flush(struct core *c, const struct principal *p, const struct space *sp,
		 struct batch *b, struct tally *t)
{
	if (!b->n)
		return 0;
	json_object *body = json_object_new_object();
	json_object_object_add(body, "changes", b->changes);
	struct arena a = ARENA_INIT;
	struct push_change *ch = NULL;
	int n = 0;
	struct verr ve = { 0 };
	int e = sync_push_parse(c->cfg, body, &a, &ch, &n, &ve);
	struct push_result *res = e == 0 ? calloc((size_t)n, sizeof *res) : NULL;
	if (e == 0 && !res)
		e = -ERR_NOMEM;
	if (e == 0) {
		for (int i = 0; i < n; i++)
			ch[i].lww_ts = true; /* as a sync: by time */
		struct push_job j = { .p = p, .sp = sp, .changes = ch, .n = n, .results = res,
				      .arena = &a };
		j.rc = sync_push_check(c, &j);
		if (j.rc == 0)
			sync_push_run(c, &j);
		e = j.rc;
		ve = j.ve;
		for (int i = 0; e == 0 && i < n; i++) {
			if (res[i].status == OPS_APPLIED)
				t->applied[b->types[i]]++;
			else
				t->kept[b->types[i]]++;
		}
		if (e == 0)
			push_results_free(res, n);
	}
	if (e < 0)
		cli_report("import", e, &ve);
	free(res);
	arena_free(&a);
	json_object_put(body);
	b->changes = json_object_new_array();
	b->n = 0;
	return e;
}

/* A change for one record read from the file (its "type" set), unless it is not one. */
static int add(struct core *c, const struct principal *p, const struct space *sp,
	       struct batch *b, struct tally *t, json_object *in, int64_t limit)
{
	struct tk_record rec;
	char why[200];
	bool ok = tk_record_read(in, -1, &rec, why, sizeof why);
	json_object *tv = NULL;
	json_object_object_get_ex(in, "type", &tv);
	if (!ok) {
		json_object *idv = NULL;
		json_object_object_get_ex(in, "id", &idv);
		fprintf(stderr, "cairn import: skipped %s %s: %s\n", json_object_get_string(tv),
			idv ? json_object_get_string(idv) : "?", why);
		t->skipped++;
		json_object_put(in);
		return 0;
	}
	json_object_put(in);
	enum tk_type type = rec.type == TK_DELETED ? rec.deleted_type : rec.type;
	t->read[rec.type]++;
	if (type == TK_TASK_TAG) { /* a link's tombstone: the task's own tags say it all */
		t->links++;
		json_object_put(rec.norm);
		return 0;
	}
	const char *text = json_object_to_json_string_ext(rec.norm, JSON_C_TO_STRING_PLAIN);
	if ((int64_t)strlen(text) > limits_cfg(c->cfg)->record_bytes) {
		fprintf(stderr, "cairn import: skipped %s %s: %zu bytes, over limits.record_bytes\n",
			tk_type_name(rec.type), rec.id, strlen(text));
		t->skipped++;
		t->read[rec.type]--;
		json_object_put(rec.norm);
		return 0;
	}
	char ts[CLOCK_RFC3339_LEN], op[80];
	int64_t now = clock_wall_ms(), latest = sync_latest_client_ts(c->cfg, now);
	clock_format_rfc3339(rec.ts_ms > latest ? now : rec.ts_ms, ts);
	json_object *x = json_object_new_object();
	/* named by what it is, so that two rows alike are one op and two that differ two */
	uint8_t h[32];
	token_hash(text, h);
	int k = snprintf(op, sizeof op, "import-%s-", rec.type == TK_DELETED ? "d" : "p");
	for (int i = 0; i < 16; i++)
		k += snprintf(op + k, sizeof op - (size_t)k, "%02x", h[i]);
	snprintf(op + k, sizeof op - (size_t)k, "-%s", ts);
	json_object_object_add(x, "op_id", json_object_new_string(op));
	json_object_object_add(x, "collection", json_object_new_string(tk_collection(type)));
	json_object_object_add(x, "id", json_object_new_string(rec.id));
	json_object_object_add(x, "op", json_object_new_string(rec.type == TK_DELETED ? "delete"
										: "put"));
	json_object_object_add(x, "client_ts", json_object_new_string(ts));
	if (rec.type == TK_DELETED)
		json_object_put(rec.norm);
	else
		json_object_object_add(x, "data", rec.norm);
	for (size_t i = 0; i < json_object_array_length(b->changes); i++) {
		json_object *o = NULL;
		json_object_object_get_ex(json_object_array_get_idx(b->changes, i), "op_id", &o);
		if (!strcmp(json_object_get_string(o), op)) { /* the same row twice */
			t->kept[rec.type]++;
			json_object_put(x);
			return 0;
		}
	}
	json_object_array_add(b->changes, x);
	b->types[b->n++] = rec.type;
	if (b->n < limit && b->n < (int)(sizeof b->types / sizeof b->types[0]))
		return 0;
	return flush(c, p, sp, b, t);
}

/* SQL text of column i, or JSON null. */
static json_object *col_str(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	return s ? json_object_new_string((const char *)s) : NULL;
}

/* Reads one table of the file through sql, each row a record of type. */
static int read_table(sqlite3 *db, const char *sql, const char *type, const char *const *cols,
		      struct core *c, const struct principal *p, const struct space *sp,
		      struct batch *b, struct tally *t, int64_t limit)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "cairn import: not a tickit-sync database: %s\n", sqlite3_errmsg(db));
		return -ERR_INVALID;
	}
	int r, e = 0;
	while (e == 0 && (r = sqlite3_step(st)) == SQLITE_ROW) {
		bool text_ok = true;
		for (int i = 0; cols[i]; i++) {
			const unsigned char *s = sqlite3_column_text(st, i);
			int len = sqlite3_column_bytes(st, i);
			if (s && (u8_check(s, (size_t)len) || memchr(s, 0, (size_t)len)))
				text_ok = false;
		}
		if (!text_ok) {
			const unsigned char *id = sqlite3_column_text(st, 0);
			fprintf(stderr, "cairn import: skipped %s %.64s: text that is not UTF-8\n", type,
				id && !u8_check(id, strlen((const char *)id)) ? (const char *)id : "?");
			t->skipped++;
			continue;
		}
		json_object *o = json_object_new_object();
		json_object_object_add(o, "type", json_object_new_string(type));
		for (int i = 0; cols[i]; i++) {
			const char *name = cols[i];
			json_object *v;
			if (!strcmp(name, "completed") || !strcmp(name, "is_inbox"))
				v = json_object_new_boolean(sqlite3_column_int(st, i) != 0);
			else if (!strcmp(name, "sort_order"))
				v = json_object_new_int64(sqlite3_column_int64(st, i));
			else if (!strcmp(name, "tag_ids")) {
				/* "a,b,c" from group_concat */
				v = json_object_new_array();
				const char *s = (const char *)sqlite3_column_text(st, i);
				while (s && *s) {
					const char *comma = strchr(s, ',');
					size_t len = comma ? (size_t)(comma - s) : strlen(s);
					json_object_array_add(v, json_object_new_string_len(s, (int)len));
					s = comma ? comma + 1 : NULL;
				}
			} else {
				v = col_str(st, i);
			}
			json_object_object_add(o, name, v);
		}
		e = add(c, p, sp, b, t, o, limit);
	}
	sqlite3_finalize(st);
	return e;
}

static int import_tickit(struct data *d, const char *path, const struct user *u)
{
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		fprintf(stderr, "cairn import: cannot open %s: %s\n", path, db ? sqlite3_errmsg(db) : "");
		sqlite3_close(db);
		return EXIT_FAIL;
	}
	/* a device of its own for the import, gone when it is done */
	char token[TOKEN_LEN];
	struct device dev = { 0 };
	struct verr ve = { 0 };
	struct principal p;
	int e = acct_token_create(&d->core, u->id, "tickit import", token, &dev, &ve);
	if (e == 0)
		e = acct_authenticate(&d->core, token, &p);
	struct space sp;
	if (e == 0)
		e = sync_space_for_app(&d->core, &p, TICKIT_APP, &sp);
	struct tally t = { 0 };
	struct batch *b = calloc(1, sizeof *b);
	if (e == 0 && !b)
		e = -ERR_NOMEM;
	int64_t limit = limits_cfg(&d->cfg)->push_changes;
	static const char *const list_cols[] = { "id", "name", "description", "icon", "color",
						  "is_inbox", "sort_order", "created_at",
						  "updated_at", NULL };
	static const char *const tag_cols[] = { "id", "name", "color", "created_at", "updated_at",
						 NULL };
	static const char *const task_cols[] = { "id", "title", "description", "url", "priority",
						  "completed", "list_id", "tag_ids", "created_at",
						  "updated_at", "completed_at", "due_date", NULL };
	static const char *const tomb_cols[] = { "id", "record_type", "deleted_at", NULL };
	if (e == 0) {
		b->changes = json_object_new_array();
		e = read_table(db, "SELECT id, name, description, icon, color, is_inbox, sort_order, "
				   "created_at, updated_at FROM lists ORDER BY rowid",
			       "list", list_cols, &d->core, &p, &sp, b, &t, limit);
		if (e == 0)
			e = read_table(db, "SELECT id, name, color, created_at, updated_at FROM tags "
					   "ORDER BY rowid",
				       "tag", tag_cols, &d->core, &p, &sp, b, &t, limit);
		if (e == 0)
			e = read_table(db, "SELECT t.id, t.title, t.description, t.url, t.priority, "
					   "t.completed, t.list_id, (SELECT group_concat(tag_id) "
					   "FROM task_tags WHERE task_id = t.id), t.created_at, "
					   "t.updated_at, t.completed_at, t.due_date FROM tasks t "
					   "ORDER BY t.rowid",
				       "task", task_cols, &d->core, &p, &sp, b, &t, limit);
		if (e == 0)
			e = read_table(db, "SELECT id, record_type, deleted_at FROM tombstones ORDER "
					   "BY rowid",
				       "deleted", tomb_cols, &d->core, &p, &sp, b, &t, limit);
		if (e == 0)
			e = flush(&d->core, &p, &sp, b, &t);
		json_object_put(b->changes);
	}
	free(b);
	sqlite3_close(db);
	if (dev.id)
		acct_device_revoke(&d->core, u->id, dev.id);
	if (e == -ERR_INVALID)
		return EXIT_FAIL; /* said why */
	if (e < 0)
		return cli_report("import", e, &ve);
	printf("imported into %s's space \"tickit\" (space id %lld):\n", u->username,
	       (long long)sp.id);
	static const char *const names[] = { "tasks", "lists", "tags", "deletions" };
	static const enum tk_type order[] = { TK_TASK, TK_LIST, TK_TAG, TK_DELETED };
	for (int i = 0; i < 4; i++)
		printf("  %-9s %lld read, %lld written, %lld kept (the space had them as new or "
		       "newer)\n",
		       names[i], (long long)t.read[order[i]], (long long)t.applied[order[i]],
		       (long long)t.kept[order[i]]);
	if (t.links)
		printf("  %lld deletions of task links passed over (a task's own tags say them)\n",
		       (long long)t.links);
	if (t.skipped) {
		printf("  %lld skipped: not Tickit records (see above); exit status 1\n",
		       (long long)t.skipped);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

static void usage(void)
{
	printf("Usage: cairn import tickit PATH --user NAME [--realm R]\n"
	       "       cairn import verstak PATH [--blobs DIR] [--realm R]\n\n"
	       "Imports a tickit-sync database (its SQLite file) into the user's space \"tickit\":\n"
	       "lists, tags, tasks with their tags, and tombstones, each applied as a sync would\n"
	       "(the newer copy wins, so running it again imports nothing twice). The realm is\n"
	       "--realm, else tickit.realm. Rows that are not Tickit records are skipped, named,\n"
	       "and make the exit status 1. It may run while the server does.\n\n"
	       "verstak: imports a Verstak Sync server (its server.db, and the blobs directory\n"
	       "beside it unless --blobs says where) into realm --realm, else verstak.realm:\n"
	       "users with their passwords (bcrypt hashes are kept), paired devices with their\n"
	       "keys (desktops keep working without pairing again), blobs, and every vault's ops\n"
	       "in their order, keeping the sequence numbers desktops saw. Run it before any\n"
	       "desktop syncs a vault through Cairn; a vault imported before is left alone.\n"
	       "Whatever cannot be imported is named, and makes the exit status 1. It may run\n"
	       "while the server does. The realm must exist (cairn realm add).\n\n"
	       "Options:\n"
	       "  --user NAME              The user whose space \"tickit\" receives the data.\n"
	       "  --realm R                The user's realm (default: tickit.realm, verstak.realm).\n"
	       "  --blobs DIR              verstak: its blob directory (default: PATH's directory's\n"
	       "                           blobs).\n");
	cli_print_config_flags(false);
}

int cmd_import(int argc, char **argv)
{
	static const char *const extra[] = { "--user=", "--realm=", "--blobs=", NULL };
	struct data d;
	struct args a;
	bool help = false;
	int r = cli_open_data(&d, argc, argv, extra, &a, &help);
	if (help) {
		usage();
		return EXIT_OK;
	}
	if (r)
		return r;
	const char *what = cli_positional(&a, 0), *path = cli_positional(&a, 1);
	const char *name = cli_opt(&a, "--user");
	if (what && !strcmp(what, "verstak") && path && cli_count_positional(&a) == 2 && !name) {
		const char *realm = cli_opt(&a, "--realm");
		r = import_verstak(&d, path, realm ? realm : verstak_cfg(&d.cfg)->realm,
				   cli_opt(&a, "--blobs"));
		cli_close_data(&d);
		return r;
	}
	if (!what || strcmp(what, "tickit") || !path || cli_count_positional(&a) != 2 || !name) {
		fprintf(stderr, "cairn import: expected tickit PATH --user NAME, or verstak PATH (see "
				"--help)\n");
		cli_close_data(&d);
		return EXIT_USAGE;
	}
	struct verr ve = { 0 };
	struct realm rl;
	struct user u;
	const char *realm = cli_opt(&a, "--realm");
	int e = acct_realm(&d.core, realm ? realm : tickit_cfg(&d.cfg)->realm, &rl, &ve);
	if (e == 0)
		e = admin_user_find(&d.core, NULL, rl.id, name, &u);
	if (e == -ERR_NOT_FOUND) {
		fprintf(stderr, "cairn import: no user '%s' in realm %s\n", name, rl.name);
		r = EXIT_FAIL;
	} else if (e < 0) {
		r = cli_report("import", e, &ve);
	} else {
		r = import_tickit(&d, path, &u);
	}
	cli_close_data(&d);
	return r;
}
