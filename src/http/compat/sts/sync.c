/* sync_server_ts's pull, push and cancelSync, done right: rows are records of the user's
 * space "sts" (a collection per table), pushed in one transaction each, last writer wins
 * by clientdate, deletes kept as tombstones and sent on, and "since lastSync" found by
 * arrival, where lastSync is the time of the client's last pull, so nothing that arrived
 * between its pull and its push is skipped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../core/commit.h"
#include "../../../core/errors.h"
#include "../../../core/sync.h"
#include "../../../util/clock.h"
#include "../../helpers.h"
#include "sts.h"

/* Rows that arrived up to this long before lastSync are sent again (a push can take its
 * arrival time a moment before it commits): the client upserts them. */
#define STS_MARGIN_MS 5000

/* The client of the body's clientId, the caller's own; else its answer. */
static bool client_or_reply(struct req *r, const struct realm *rl, const char *client,
			    struct app_client *ret, const char *missing)
{
	if (!client || sync_client_get(core_of(r), STS_APP, rl->id, client, ret) < 0 ||
	    ret->user_id != ((const struct principal *)r->auth)->user.id) {
		sts_message(r, 500, missing);
		return false;
	}
	return true;
}

static bool int_member(json_object *o, const char *key, int64_t *ret)
{
	json_object *v = NULL;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return false;
	*ret = json_object_get_int64(v);
	return true;
}

static const char *str_member(json_object *o, const char *key)
{
	json_object *v = NULL;
	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : NULL;
}

/* A table name that is a collection name, and a rowguid that is a record id. */
static bool good_name(const char *s, size_t max, bool id)
{
	size_t n = s ? strlen(s) : 0;
	if (!n || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  c == '_' || c == '.' || c == '-' ||
			  (id && (c == ':' || c == '~' || c == '@' || c == '+' || c == '='));
		if (!ok)
			return false;
	}
	return true;
}

/* --- pull --- */

/* A row as the server has it: the newest change of each record since the cursor. */
struct row {
	int64_t seq, server_ms, client_ms, device_id, version;
	char *table, *id, *data;
	bool deleted, outdated_dropped;
};

struct rows {
	struct row *v;
	int n, cap;
	int64_t upto; /* the head the pull reads up to (0: the current one) */
	/* a pull's budget: this many changes and bytes of data at most (0: none); past it
	 * the pull stops, and cut is the last seq it took (the next pull starts there) */
	int64_t max_n, max_bytes, bytes, cut;
};

static int keep_row(void *arg, const struct change_row *ch)
{
	struct rows *s = arg;
	if (s->upto && ch->seq > s->upto)
		return -1; /* the next pull's */
	size_t len = ch->data ? strlen(ch->data) : 0;
	if (s->max_n && s->n > 0 &&
	    (s->n >= s->max_n || s->bytes + (int64_t)len > s->max_bytes)) {
		s->cut = s->v[s->n - 1].seq; /* the rest at the next pull */
		return -1;
	}
	s->bytes += (int64_t)len;
	if (s->n == s->cap) {
		int cap = s->cap ? 2 * s->cap : 256;
		struct row *v = realloc(s->v, sizeof *v * (size_t)cap);
		if (!v)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	struct row *x = &s->v[s->n++];
	memset(x, 0, sizeof *x);
	x->seq = ch->seq;
	x->server_ms = ch->server_ms;
	x->device_id = ch->device_id;
	x->table = strdup(ch->collection);
	x->id = strdup(ch->record_id);
	x->data = ch->data ? strdup(ch->data) : NULL;
	x->deleted = ch->op == OP_DELETE;
	x->client_ms = ch->server_ms;
	if (ch->client_ts)
		parse_rfc3339_ms(ch->client_ts, &x->client_ms);
	x->version = ch->op == OP_PATCH ? -1 : 0; /* a patch: the state is read afterwards */
	return 0;
}

static int by_key_seq(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int k = strcmp(x->table, y->table);
	if (!k)
		k = strcmp(x->id, y->id);
	return k ? k : (x->seq > y->seq) - (x->seq < y->seq);
}

static int by_seq(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

static void rows_free(struct rows *s)
{
	for (int i = 0; i < s->n; i++) {
		free(s->v[i].table);
		free(s->v[i].id);
		free(s->v[i].data);
	}
	free(s->v);
}

/* The records of the space as rows (a first sync, or a lastSync older than what the log
 * keeps), page by page from one snapshot. */
struct listing {
	struct rows *s;
	int listed;
	char last_c[COLLECTION_MAX + 1], last_id[RECORD_ID_MAX + 1];
};

static int list_row(void *arg, const char *collection, const char *id, const struct record *rec)
{
	struct listing *l = arg;
	if (!rec)
		return 0;
	l->listed++;
	snprintf(l->last_c, sizeof l->last_c, "%s", collection);
	snprintf(l->last_id, sizeof l->last_id, "%s", id);
	if (!rec->deleted && !strcmp(collection, "files"))
		return 0;
	struct change_row ch = { .seq = rec->version, .collection = collection, .record_id = id,
				 .client_ts = rec->client_ts, .op = rec->deleted ? OP_DELETE : OP_PUT,
				 .data = rec->data, .server_ms = rec->updated_ms };
	if (keep_row(l->s, &ch) < 0)
		return -1;
	l->s->v[l->s->n - 1].version = rec->version;
	return 0;
}

static int read_all(struct req *r, const struct space *sp, struct rows *s, int64_t *ret_head)
{
	struct core *c = core_of(r);
	int page = (int)limits_cfg(c->cfg)->page;
	struct listing l = { .s = s };
	char ac[COLLECTION_MAX + 1] = "", ai[RECORD_ID_MAX + 1] = "";
	int64_t snapshot = -1;
	for (;;) {
		struct verr ve = { 0 };
		int64_t as_of = 0;
		l.listed = 0;
		int e = sync_records_list(c, r->auth, sp, NULL, *ac ? ac : NULL, *ai ? ai : NULL, page,
					  snapshot, NULL, list_row, &l, &as_of, &ve);
		if (e < 0)
			return e;
		snapshot = as_of;
		*ret_head = as_of;
		if (l.listed < page)
			return 0;
		snprintf(ac, sizeof ac, "%s", l.last_c);
		snprintf(ai, sizeof ai, "%s", l.last_id);
	}
}

/* What arrived since ms (or, exactly, after the cursor seq when it is known): the newest
 * change of each record, in arrival order; *ret_head the head it read up to. */
static int read_since(struct req *r, const struct space *sp, int64_t ms, int64_t seq,
		      struct rows *s, int64_t *ret_head)
{
	struct core *c = core_of(r);
	int64_t since = seq;
	int e = seq > 0 ? 0
		: ms > 0 ? sync_cursor_at_ms(c, r->auth, sp, ms - STS_MARGIN_MS, &since)
			 : -ERR_CURSOR_EXPIRED;
	if (e == -ERR_CURSOR_EXPIRED)
		return read_all(r, sp, s, ret_head);
	if (e < 0)
		return e;
	int64_t head = since;
	for (;;) {
		struct verr ve = { 0 };
		struct pull_at at = { .since = since, .limit = (int)limits_cfg(c->cfg)->page };
		int before = s->n;
		e = sync_pull_page(c, r->auth, sp, &at, keep_row, s, &head, &ve);
		if (e == -ERR_CURSOR_EXPIRED) { /* pruned meanwhile: everything */
			int64_t upto = s->upto;
			rows_free(s);
			memset(s, 0, sizeof *s);
			s->upto = upto;
			return read_all(r, sp, s, ret_head);
		}
		if (e < 0 || s->n == before || s->v[s->n - 1].seq >= head || s->cut ||
		    (s->upto && s->v[s->n - 1].seq >= s->upto))
			break;
		since = s->v[s->n - 1].seq;
	}
	if (e < 0)
		return e;
	*ret_head = head;
	if (s->n > 1)
		qsort(s->v, (size_t)s->n, sizeof *s->v, by_key_seq);
	int k = 0;
	for (int i = 0; i < s->n; i++) {
		bool last = i + 1 == s->n || strcmp(s->v[i + 1].table, s->v[i].table) ||
			    strcmp(s->v[i + 1].id, s->v[i].id);
		if (last) {
			struct row t = s->v[k];
			s->v[k] = s->v[i];
			s->v[i] = t;
			k++;
		}
	}
	for (int i = k; i < s->n; i++) {
		free(s->v[i].table);
		free(s->v[i].id);
		free(s->v[i].data);
	}
	s->n = k;
	if (s->n > 1)
		qsort(s->v, (size_t)s->n, sizeof *s->v, by_seq);
	/* a native patch's state, read as it is now */
	for (int i = 0; i < s->n; i++)
		if (s->v[i].version < 0) {
			struct record rec = { 0 };
			if (sync_record_state(c, r->auth, sp, s->v[i].table, s->v[i].id, &rec) == 0) {
				free(s->v[i].data);
				s->v[i].data = rec.data;
				rec.data = NULL;
				s->v[i].deleted = rec.deleted;
				s->v[i].version = rec.version;
			}
			record_clear(&rec);
		}
	return 0;
}

int sts_pull(struct req *r)
{
	struct realm rl;
	if (!sts_realm_or_reply(r, &rl))
		return 0;
	const struct principal *p = auth_or_reply(r);
	if (!p)
		return 0;
	struct core *c = core_of(r);
	json_object *body = r->json, *changes = NULL;
	const char *client = str_member(body, "clientId");
	int64_t last = 0;
	if (!json_object_is_type(body, json_type_object) || !int_member(body, "lastSync", &last))
		last = 0; /* its server took a missing lastSync as everything */
	struct app_client cl;
	if (!client_or_reply(r, &rl, client, &cl, "Client id not found!"))
		return 0;
	json_object_object_get_ex(body, "changes", &changes);
	/* (how many the client lists is bounded by limits.json_values: it lists all it has) */
	size_t nch = json_object_is_type(changes, json_type_array) ? json_object_array_length(changes)
								   : 0;
	/* the cursor: exact when lastSync is the time of this client's last pull, as it is
	 * after a push (the head that pull read up to was recorded); otherwise by time, with a
	 * margin */
	struct space sp;
	int e = sync_space_for_app(c, p, STS_APP, &sp);
	if (e < 0)
		return sts_error(r, 500, "Internal server error");
	/* (a cursor of another space, one deleted since, means nothing here) */
	int64_t exact = last > 0 && last == cl.pulled_ms && cl.pulled_space == sp.id ? cl.pulled_seq
										      : 0;
	e = sync_client_lock(c, STS_APP, rl.id, client, &sp, STS_LOCK_STALE_MS, &cl);
	if (e == -ERR_BUSY)
		return sts_message(r, 500, "The user is already syncing from this client");
	if (e < 0)
		return sts_error(r, 500, "Internal server error");
	/* rows past the budget come at the next pull: the answer stays bounded */
	struct rows s = { .upto = cl.pulled_seq,
			  .max_n = sts_cfg(((struct app *)r->app)->cfg)->max_changes,
			  .max_bytes = limits_cfg(c->cfg)->json_body_bytes };
	int64_t head = 0;
	e = read_since(r, &sp, last, exact, &s, &head);
	if (e == 0 && s.cut)
		e = sync_client_cursor(c, STS_APP, rl.id, client, s.cut);
	if (e < 0) {
		rows_free(&s);
		sync_client_unlock(c, STS_APP, rl.id, client); /* its server reset the lock too */
		return sts_error(r, 500, "Internal server error");
	}
	/* the client's pending changes against the server's rows: the server's wins ties and
	 * later times (the client drops its change: outdated); an earlier one is the
	 * client's to overwrite (the server's row is not sent) */
	json_object *outdated = json_object_new_array();
	json_object *index = json_object_new_object(); /* "table/rowguid" to the row */
	char key[COLLECTION_MAX + RECORD_ID_MAX + 2];
	for (int k = 0; k < s.n; k++) {
		snprintf(key, sizeof key, "%s/%s", s.v[k].table, s.v[k].id);
		json_object_object_add(index, key, json_object_new_int(k));
	}
	for (size_t i = 0; i < nch; i++) {
		json_object *ch = json_object_array_get_idx(changes, i), *at = NULL;
		const char *table = str_member(ch, "tablename"), *id = str_member(ch, "rowguid");
		int64_t when = 0;
		if (!table || !id || !int_member(ch, "clientdate", &when))
			continue;
		snprintf(key, sizeof key, "%.64s/%.200s", table, id);
		if (!json_object_object_get_ex(index, key, &at))
			continue;
		struct row *x = &s.v[json_object_get_int(at)];
		if (x->outdated_dropped)
			continue;
		if (x->client_ms >= when)
			json_object_array_add(outdated, json_object_new_string(id));
		else
			x->outdated_dropped = true;
	}
	json_object_put(index);
	char uid[24];
	snprintf(uid, sizeof uid, "%lld", (long long)p->user.id);
	json_object *data = json_object_new_array();
	int64_t memo_dev = -1;
	char memo_client[APP_CLIENT_ID_MAX + 1] = "";
	for (int k = 0; k < s.n; k++) {
		struct row *x = &s.v[k];
		if (x->outdated_dropped)
			continue;
		json_object *o = json_object_new_object();
		json_object_object_add(o, "userid", json_object_new_string(uid));
		json_object_object_add(o, "id", json_object_new_int64(x->seq));
		json_object_object_add(o, "rowguid", json_object_new_string(x->id));
		json_object_object_add(o, "operation",
				       json_object_new_string(x->deleted ? "D" : x->version == 1 ? "I" : "U"));
		json_object_object_add(o, "tablename", json_object_new_string(x->table));
		json_object_object_add(o, "clientdate", json_object_new_int64(x->client_ms));
		json_object_object_add(o, "serverdate", json_object_new_int64(x->server_ms));
		if (x->device_id != memo_dev) { /* which client sent it, when one did */
			struct app_client who;
			memo_dev = x->device_id;
			snprintf(memo_client, sizeof memo_client, "%s",
				 sync_client_by_device(c, x->device_id, &who) == 0 ? who.client_id : "");
		}
		json_object_object_add(o, "clientid",
				       *memo_client ? json_object_new_string(memo_client) : NULL);
		if (!x->deleted && x->data) {
			json_object *rd = json_tokener_parse(x->data);
			if (rd && json_object_is_type(rd, json_type_object))
				json_object_object_add(o, "rowData", rd);
			else
				json_object_put(rd);
		}
		json_object_array_add(data, o);
	}
	rows_free(&s);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "clientId", json_object_new_string(client));
	json_object_object_add(o, "lastSync", json_object_new_int64(last));
	json_object_object_add(o, "outdatedRowsGuid", outdated);
	json_object_object_add(o, "data", data);
	return http_reply_json(r, 200, o);
}

/* --- push --- */

struct push_ctx {
	struct push_job j;
	struct space sp;
	struct realm rl;
	struct app_client cl;
	bool last; /* not partial: the lock is let go */
	char client[APP_CLIENT_ID_MAX + 1];
};

static void push_free(void *arg)
{
	struct push_ctx *t = arg;
	for (int i = 0; i < t->j.n; i++)
		json_object_put(t->j.changes[i].data);
}

/* The last batch lets the lock go in the push's own transaction: one commit, not two. */
static int unlock_in(struct core *c, void *txn, struct push_job *j)
{
	struct push_ctx *t = (struct push_ctx *)j; /* j is its first member */
	return sync_client_unlock_in(c, txn, STS_APP, t->rl.id, t->client);
}

static int push_answer(struct req *r)
{
	struct push_ctx *t = r->ctx;
	/* rows this push lost to newer ones the client may not have: its next pull starts
	 * before the oldest of them, so they come back to it */
	int64_t back = 0;
	for (int i = 0; t->j.rc >= 0 && i < t->j.n; i++) {
		const struct push_result *res = &t->j.results[i];
		bool lost = res->status == OPS_CONFLICT ||
			    (res->status == OPS_DUPLICATE && res->original == OPS_CONFLICT);
		if (lost && res->server_version > 0 && (!back || res->server_version - 1 < back))
			back = res->server_version - 1;
	}
	if (back)
		sync_client_cursor(core_of(r), STS_APP, t->rl.id, t->client, back);
	push_results_free(t->j.results, t->j.n);
	if (t->j.rc < 0)
		return sts_error(r, t->j.rc == -ERR_TOO_LARGE ? 413 : 500,
				 t->j.rc == -ERR_TOO_LARGE && t->j.ve.n ? t->j.ve.e[0].msg
									: "Internal server error");
	if (t->last && !t->j.n) /* nothing pushed: no transaction let it go */
		sync_client_unlock(core_of(r), STS_APP, t->rl.id, t->client);
	/* the client's next pull starts from its last pull: what came after it, the rows
	 * that won over this push's included, is sent then */
	json_object *o = json_object_new_object();
	json_object_object_add(o, "lastSync", json_object_new_int64(t->cl.pulled_ms));
	return http_reply_json(r, 200, o);
}

static void push_committed(struct push_job *j)
{
	if (http_resume_call(j->arg, push_answer) < 0)
		push_results_free(j->results, j->n);
}

static void park(void *r)
{
	http_suspend(r);
}

int sts_push(struct req *r)
{
	struct push_ctx *t = arena_alloc(&r->arena, sizeof *t);
	if (!t)
		return sts_error(r, 500, "Internal server error");
	memset(t, 0, sizeof *t);
	if (!sts_realm_or_reply(r, &t->rl))
		return 0;
	const struct principal *p = auth_or_reply(r);
	if (!p)
		return 0;
	struct core *c = core_of(r);
	json_object *body = r->json, *changes = NULL;
	const char *client = str_member(body, "clientId");
	if (!client_or_reply(r, &t->rl, client, &t->cl, "Client id not found!"))
		return 0;
	snprintf(t->client, sizeof t->client, "%s", client);
	if (!t->cl.lock_ms)
		return sts_message(r, 500, "You should pull before pushing...");
	int64_t partial = 0;
	int_member(body, "isPartial", &partial);
	t->last = partial == 0;
	json_object_object_get_ex(body, "changes", &changes);
	size_t n = json_object_is_type(changes, json_type_array) ? json_object_array_length(changes) : 0;
	if ((int64_t)n > sts_cfg(((struct app *)r->app)->cfg)->max_changes)
		return sts_error(r, 413, "Too many changes in one request (sts.max_changes)");
	t->j.changes = arena_alloc(&r->arena, sizeof *t->j.changes * (n ? n : 1));
	t->j.results = arena_alloc(&r->arena, sizeof *t->j.results * (n ? n : 1));
	if (!t->j.changes || !t->j.results)
		return sts_error(r, 500, "Internal server error");
	memset(t->j.results, 0, sizeof *t->j.results * (n ? n : 1));
	r->ctx = t;
	r->ctx_free = push_free;
	int64_t now = clock_wall_ms(), latest = sync_latest_client_ts(c->cfg, now);
	/* every row checked before anything is stored */
	for (size_t i = 0; i < n; i++) {
		json_object *ch = json_object_array_get_idx(changes, i), *rd = NULL;
		const char *op = str_member(ch, "operation"), *id = str_member(ch, "rowguid");
		const char *table = str_member(ch, "tablename");
		int64_t when = 0;
		char why[160] = "";
		if (!op || (strcmp(op, "I") && strcmp(op, "U") && strcmp(op, "D")))
			snprintf(why, sizeof why, "changes[%zu]: operation must be I, U or D", i);
		else if (!good_name(id, RECORD_ID_MAX, true))
			snprintf(why, sizeof why, "changes[%zu]: rowguid must be 1 to %d of A-Z, a-z, "
						  "0-9 and _.-:~@+=", i, RECORD_ID_MAX);
		else if (!good_name(table, COLLECTION_MAX, false) || !strcmp(table, "files"))
			snprintf(why, sizeof why, "changes[%zu]: tablename must be 1 to %d of A-Z, "
						  "a-z, 0-9, '_', '.', '-' (and not files)", i,
				 COLLECTION_MAX);
		else if (!int_member(ch, "clientdate", &when) || when < 0)
			snprintf(why, sizeof why, "changes[%zu]: clientdate must be milliseconds", i);
		else if (strcmp(op, "D") && (!json_object_object_get_ex(ch, "rowData", &rd) ||
					     !json_object_is_type(rd, json_type_object)))
			snprintf(why, sizeof why, "changes[%zu]: rowData must be an object", i);
		if (*why)
			return sts_error(r, 400, why);
		struct push_change *x = &t->j.changes[t->j.n];
		memset(x, 0, sizeof *x);
		char ts[CLOCK_RFC3339_LEN], opid[OP_ID_MAX + 1];
		clock_format_rfc3339(when > latest ? now : when, ts);
		snprintf(opid, sizeof opid, "sts:%s:%.36s:%s:%lld:%s", op, client, table,
			 (long long)when, id);
		uint8_t h[32];
		if (strlen(opid) > 100) { /* long names: their hash keeps the op id short */
			token_hash(opid, h);
			int k = snprintf(opid, sizeof opid, "sts-");
			for (int b = 0; b < 16; b++)
				k += snprintf(opid + k, sizeof opid - (size_t)k, "%02x", h[b]);
		}
		x->op_id = arena_strndup(&r->arena, opid, strlen(opid));
		x->collection = table;
		x->id = id;
		x->client_ts = arena_strndup(&r->arena, ts, strlen(ts));
		x->base_version = -1;
		x->lww_ts = true;
		x->op = strcmp(op, "D") ? OP_PUT : OP_DELETE;
		x->data = x->op == OP_PUT ? json_object_get(rd) : NULL;
		if (!x->op_id || !x->client_ts)
			return sts_error(r, 500, "Internal server error");
		t->j.n++;
	}
	int e = sync_space_for_app(c, p, STS_APP, &t->sp);
	if (e < 0)
		return sts_error(r, 500, "Internal server error");
	t->j.p = p;
	t->j.sp = &t->sp;
	t->j.arena = &r->arena;
	t->j.rc = sync_push_check(c, &t->j);
	if (t->j.rc < 0)
		return sts_error(r, t->j.rc == -ERR_TOO_LARGE ? 413 : t->j.rc == -ERR_INVALID ? 400 : 500,
				 t->j.ve.n ? t->j.ve.e[0].msg : "Internal server error");
	t->j.done = push_committed;
	t->j.arg = r;
	if (t->last)
		t->j.in_txn = unlock_in;
	if (t->j.n && c->committer && committer_submit(c->committer, &t->j, park, r) == 0)
		return 0;
	if (t->j.n)
		sync_push_run(c, &t->j);
	return push_answer(r);
}

int sts_cancel(struct req *r)
{
	struct realm rl;
	if (!sts_realm_or_reply(r, &rl))
		return 0;
	if (!auth_or_reply(r))
		return 0;
	struct app_client cl;
	const char *client = str_member(r->json, "clientId");
	if (!client_or_reply(r, &rl, client, &cl, "Client id not found, cannot cancel sync!"))
		return 0;
	if (sync_client_unlock(core_of(r), STS_APP, rl.id, client) < 0)
		return sts_error(r, 500, "Internal server error");
	return http_reply_json(r, 200, json_object_new_boolean(true));
}
