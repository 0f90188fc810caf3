/* POST /api/v1/sync: the client's changes in, the server's out, as tickit-sync answered,
 * done right: each user's records in a space of their own, last writer wins by the
 * records' times compared as instants, in one transaction, and what changed since the
 * client's last sync found by the server's arrival order, not by the records' own times
 * (so an edit made offline and synced late still reaches every device). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../core/commit.h"
#include "../../../core/errors.h"
#include "../../../core/gc.h"
#include "../../../core/sync.h"
#include "../../../util/clock.h"
#include "../../../util/jtext.h"
#include "../../helpers.h"
#include "tickit.h"

/* Changes that arrived up to this long before the client's last_sync are sent again: a
 * push can take its arrival time a moment before it commits, and clocks step. Sending a
 * record twice costs an upsert on the client; missing one loses it. */
#define TK_MARGIN_MS 5000

/* A pushed change's part in the answer. */
struct tk_item {
	enum tk_type type;    /* the record's, for a conflict's id and the server's copy */
	const char *id;
	bool reported;        /* a record the client sent (not a tag link made from one) */
};

/* The request's state, in its arena, from the handler to the answer. */
struct tk_ctx {
	struct push_job j;
	struct space sp;
	int64_t server_time;
	bool full;       /* last_sync null: everything */
	int64_t since_ms;
	struct tk_item *items; /* for each of j.changes */
	const char **refused; /* inbox lists the client deleted: conflicts, not pushed */
	int nrefused;
};

/* --- reading the request --- */

/* The framework's 422, as tickit-sync's JSON extractor gave it (plain text). */
static int reject(struct req *r, const char *why)
{
	char msg[700];
	snprintf(msg, sizeof msg, "Failed to deserialize the JSON body into the target type: %s",
		 why);
	return compat_reply(r, 422, COMPAT_TEXT, NULL, msg);
}

/* A client time past the skew the server allows is clamped to the server's clock, never
 * refused: both clients take any error for a failed sync. */
static void client_ts(struct req *r, int64_t ms, int64_t now, char out[CLOCK_RFC3339_LEN])
{
	int64_t latest = sync_latest_client_ts(((struct app *)r->app)->cfg, now);
	clock_format_rfc3339(ms > latest ? now : ms, out);
}

/* An op id from what the change is, so that a sync sent again is a duplicate, not a
 * second write: "tk-" and 32 hex digits of SHA-256 over type, id and data. */
static const char *op_id_of(struct req *r, const char *what, const char *id, json_object *data)
{
	const char *text = data ? json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN) : "";
	size_t n = strlen(what) + strlen(id) + strlen(text) + 3;
	char *all = arena_alloc(&r->arena, n);
	char *out = arena_alloc(&r->arena, 36);
	if (!all || !out)
		return NULL;
	snprintf(all, n, "%s\n%s\n%s", what, id, text);
	uint8_t h[32];
	token_hash(all, h);
	memcpy(out, "tk-", 3);
	for (int i = 0; i < 16; i++)
		snprintf(out + 3 + 2 * i, 3, "%02x", h[i]);
	return out;
}

/* An inbox list cannot be deleted (tickit-sync kept it too): the delete is refused as a
 * conflict, and the list goes back to the client. */
static bool is_inbox(struct req *r, const struct principal *p, const struct space *sp,
		     const char *id)
{
	struct record rec = { 0 };
	bool inbox = false;
	if (sync_record_get(core_of(r), p, sp, "lists", id, &rec) == 0 && rec.data) {
		json_object *o = json_tokener_parse(rec.data), *v = NULL;
		inbox = o && json_object_object_get_ex(o, "is_inbox", &v) && json_object_get_boolean(v);
		json_object_put(o);
	}
	record_clear(&rec);
	return inbox;
}

/* What tickit-sync never changed on an update: a list's is_inbox and created_at, a task's
 * created_at. The record's current values go into norm (a put of it). */
static void keep_fixed(struct req *r, const struct space *sp, enum tk_type type, const char *id,
		       json_object *norm)
{
	struct record rec = { 0 };
	if (sync_record_get(core_of(r), r->auth, sp, tk_collection(type), id, &rec) == 0 && rec.data) {
		json_object *cur = json_tokener_parse(rec.data), *v = NULL;
		if (cur && json_object_object_get_ex(cur, "created_at", &v) &&
		    json_object_is_type(v, json_type_string))
			json_object_object_add(norm, "created_at", json_object_get(v));
		if (type == TK_LIST && cur && json_object_object_get_ex(cur, "is_inbox", &v) &&
		    json_object_is_type(v, json_type_boolean))
			json_object_object_add(norm, "is_inbox", json_object_get(v));
		json_object_put(cur);
	}
	record_clear(&rec);
}

/* The task's tag ids, from the batch (a put of it) or from what the space holds; the
 * patch that adds tag (or, tag NULL, clears them) goes last in the batch. */
static int tag_link(struct req *r, struct tk_ctx *t, int n, const char *task, const char *tag)
{
	struct push_change *ch = t->j.changes;
	for (int i = 0; i < n; i++)
		if (t->items[i].type == TK_TASK && ch[i].op == OP_PUT && !strcmp(ch[i].id, task)) {
			/* tickit-sync applied links before tasks, and a task's put then set its
			 * tags: a link to a task in the same sync is overwritten, a clearing
			 * (deletes came last) is not */
			if (!tag)
				json_object_object_add(ch[i].data, "tag_ids", json_object_new_array());
			return 0;
		}
	/* a link to the same task earlier in this sync: its patch takes this one too */
	for (int i = 0; i < t->j.n; i++)
		if (ch[i].op == OP_PATCH && !strcmp(ch[i].id, task)) {
			json_object *ids = NULL;
			json_object_object_get_ex(ch[i].data, "tag_ids", &ids);
			if (!tag) {
				json_object_object_add(ch[i].data, "tag_ids", json_object_new_array());
				return 0;
			}
			for (size_t k = 0; k < json_object_array_length(ids); k++)
				if (!strcmp(json_object_get_string(json_object_array_get_idx(ids, k)), tag))
					return 0;
			json_object_array_add(ids, json_object_new_string(tag));
			return 0;
		}
	struct record rec = { 0 };
	if (sync_record_get(core_of(r), r->auth, &t->sp, "tasks", task, &rec) < 0 || !rec.data) {
		record_clear(&rec);
		return 0; /* no such task: nothing to link */
	}
	json_object *cur = json_tokener_parse(rec.data), *ids = NULL;
	json_object *next = json_object_new_array();
	bool has = false;
	if (cur && json_object_object_get_ex(cur, "tag_ids", &ids) &&
	    json_object_is_type(ids, json_type_array))
		for (size_t k = 0; tag && k < json_object_array_length(ids); k++) {
			const char *s = json_object_get_string(json_object_array_get_idx(ids, k));
			has |= !strcmp(s, tag);
			json_object_array_add(next, json_object_new_string(s));
		}
	json_object_put(cur);
	if (tag && !has)
		json_object_array_add(next, json_object_new_string(tag));
	if (tag && has) {
		json_object_put(next);
		record_clear(&rec);
		return 0;
	}
	json_object *patch = json_object_new_object();
	json_object_object_add(patch, "tag_ids", next);
	struct push_change *x = &ch[t->j.n];
	struct tk_item *it = &t->items[t->j.n];
	memset(x, 0, sizeof *x);
	x->collection = "tasks";
	x->id = arena_strndup(&r->arena, task, strlen(task));
	x->op = OP_PATCH;
	x->data = patch; /* freed with the request's changes (tk_free) */
	x->base_version = rec.version; /* over the version read, or no change at all */
	x->client_ts = rec.client_ts[0] ? arena_strndup(&r->arena, rec.client_ts,
							 strlen(rec.client_ts))
					: NULL;
	x->op_id = op_id_of(r, tag ? "link" : "unlink", task, patch);
	*it = (struct tk_item){ TK_TASK, x->id, false };
	record_clear(&rec);
	if (!x->id || !x->op_id)
		return -ERR_NOMEM;
	t->j.n++;
	return 0;
}

/* The changes' data objects are owned by the request: freed when it ends. */
static void tk_free(void *arg)
{
	struct tk_ctx *t = arg;
	for (int i = 0; i < t->j.n; i++)
		json_object_put(t->j.changes[i].data);
}

/* --- the answer --- */

/* One record of the answer, once: wire holds them, seen their keys. */
struct out {
	json_object *changes, *seen;
	struct req *r;
	/* a listing's page: how many records it gave, and the last of them */
	int listed;
	char last_c[COLLECTION_MAX + 1], last_id[RECORD_ID_MAX + 1];
};

static void key_of(char *buf, size_t len, const char *collection, const char *id)
{
	snprintf(buf, len, "%s/%s", collection, id);
}

/* Adds the record (or its tombstone) as the protocol sends it, unless sent already or not
 * a Tickit record (written through the native API in another shape: left out, as the
 * desktop would fail on the whole answer). */
static void add_state(struct out *o, int type, const char *id, bool deleted, const char *data,
		      const char *ts, int64_t updated_ms)
{
	char key[COLLECTION_MAX + RECORD_ID_MAX + 2];
	key_of(key, sizeof key, tk_collection((enum tk_type)type), id);
	if (json_object_object_get_ex(o->seen, key, NULL))
		return;
	json_object *wire = NULL;
	if (deleted) {
		wire = json_object_new_object();
		json_object_object_add(wire, "type", json_object_new_string("deleted"));
		json_object_object_add(wire, "id", json_object_new_string(id));
		json_object_object_add(wire, "record_type",
				       json_object_new_string(tk_type_name((enum tk_type)type)));
		char t[CLOCK_RFC3339_LEN];
		if (!ts || !*ts)
			clock_format_rfc3339(updated_ms, t);
		json_object_object_add(wire, "deleted_at", json_object_new_string(ts && *ts ? ts : t));
	} else if (data) {
		json_object *in = json_tokener_parse(data);
		struct tk_record rec;
		char why[160];
		if (in && tk_record_read(in, type, &rec, why, sizeof why) && !strcmp(rec.id, id))
			wire = tk_record_wire(rec.type, rec.norm);
		if (in && rec.norm)
			json_object_put(rec.norm);
		json_object_put(in);
	}
	json_object_object_add(o->seen, key, json_object_new_boolean(true));
	if (wire)
		json_object_array_add(o->changes, wire);
}

static int list_record(void *arg, const char *collection, const char *id, const struct record *r)
{
	struct out *o = arg;
	if (!r)
		return 0; /* made after the listing's snapshot */
	o->listed++;
	snprintf(o->last_c, sizeof o->last_c, "%s", collection);
	snprintf(o->last_id, sizeof o->last_id, "%s", id);
	int type = tk_type_of_collection(collection);
	if (type >= 0)
		add_state(o, type, id, r->deleted, r->data, r->client_ts, r->updated_ms);
	return 0;
}

/* Everything the space holds (a first sync, or a last sync older than what is kept),
 * page by page from one snapshot. */
static int gather_all(struct tk_ctx *t, struct out *o)
{
	struct core *c = core_of(o->r);
	int page = (int)limits_cfg(c->cfg)->page;
	char ac[COLLECTION_MAX + 1] = "", ai[RECORD_ID_MAX + 1] = "";
	int64_t snapshot = -1;
	for (;;) {
		struct verr ve = { 0 };
		int64_t as_of = 0;
		o->listed = 0;
		int e = sync_records_list(c, o->r->auth, &t->sp, NULL, *ac ? ac : NULL,
					  *ai ? ai : NULL, page, snapshot, NULL, list_record, o,
					  &as_of, &ve);
		if (e < 0)
			return e;
		snapshot = as_of;
		if (o->listed < page) {
			/* the device has everything up to the snapshot now (were the answer lost,
			 * its next sync is a full one again): pruning may pass it, no further */
			const struct principal *p = o->r->auth;
			sync_report_cursor(c, p->device.id, t->sp.id, snapshot);
			return 0;
		}
		snprintf(ac, sizeof ac, "%s", o->last_c);
		snprintf(ai, sizeof ai, "%s", o->last_id);
	}
}

/* A change read since the cursor: the newest per record wins. */
struct seen_change {
	int64_t seq;
	int type;
	char *id, *data, *ts;
	enum change_op op;
	int64_t server_ms;
};

struct since {
	struct seen_change *v;
	int n, cap;
	int64_t last;
};

static int keep_change(void *arg, const struct change_row *ch)
{
	struct since *s = arg;
	s->last = ch->seq;
	int type = tk_type_of_collection(ch->collection);
	if (type < 0)
		return 0;
	if (s->n == s->cap) {
		int cap = s->cap ? 2 * s->cap : 256;
		struct seen_change *v = realloc(s->v, sizeof *v * (size_t)cap);
		if (!v)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	struct seen_change *x = &s->v[s->n++];
	x->seq = ch->seq;
	x->type = type;
	x->id = strdup(ch->record_id);
	x->data = ch->data ? strdup(ch->data) : NULL;
	x->ts = ch->client_ts ? strdup(ch->client_ts) : NULL;
	x->op = ch->op;
	x->server_ms = ch->server_ms;
	return 0;
}

static int by_record_then_seq(const void *a, const void *b)
{
	const struct seen_change *x = a, *y = b;
	if (x->type != y->type)
		return x->type - y->type;
	int k = strcmp(x->id, y->id);
	return k ? k : (x->seq > y->seq) - (x->seq < y->seq);
}

static int by_seq(const void *a, const void *b)
{
	const struct seen_change *x = a, *y = b;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

/* What arrived since the client's last sync, each record once, in arrival order;
 * -ERR_CURSOR_EXPIRED when that is pruned (the caller lists everything). */
static int gather_since(struct tk_ctx *t, struct out *o)
{
	struct core *c = core_of(o->r);
	int64_t since;
	int e = sync_cursor_at_ms(c, o->r->auth, &t->sp, t->since_ms - TK_MARGIN_MS, &since);
	if (e < 0)
		return e;
	struct since s = { 0 };
	int64_t head = 0;
	for (;;) {
		struct verr ve = { 0 };
		struct pull_at at = { .since = since, .limit = (int)limits_cfg(c->cfg)->page };
		s.last = since;
		e = sync_pull_page(c, o->r->auth, &t->sp, &at, keep_change, &s, &head, &ve);
		if (e < 0 || s.last >= head || s.last == since)
			break;
		since = s.last;
	}
	if (e == 0) {
		/* the newest change of each record, then those in arrival order */
		if (s.n > 1)
			qsort(s.v, (size_t)s.n, sizeof *s.v, by_record_then_seq);
		int k = 0;
		for (int i = 0; i < s.n; i++) {
			bool last = i + 1 == s.n || s.v[i + 1].type != s.v[i].type ||
				    strcmp(s.v[i + 1].id, s.v[i].id);
			if (last) {
				struct seen_change tmp = s.v[k];
				s.v[k] = s.v[i];
				s.v[i] = tmp;
				k++;
			}
		}
		if (k > 1)
			qsort(s.v, (size_t)k, sizeof *s.v, by_seq);
		for (int i = 0; i < k; i++) {
			struct seen_change *x = &s.v[i];
			if (x->op == OP_PATCH) { /* a native patch: the state it left */
				struct record rec = { 0 };
				if (sync_record_state(c, o->r->auth, &t->sp, tk_collection(x->type),
						      x->id, &rec) == 0)
					add_state(o, x->type, x->id, rec.deleted, rec.data,
						  rec.client_ts, rec.updated_ms);
				record_clear(&rec);
			} else {
				add_state(o, x->type, x->id, x->op == OP_DELETE, x->data, x->ts,
					  x->server_ms);
			}
		}
	}
	for (int i = 0; i < s.n; i++) {
		free(s.v[i].id);
		free(s.v[i].data);
		free(s.v[i].ts);
	}
	free(s.v);
	return e;
}

/* The server's copy of a record the client lost to, if not in the answer yet. */
static void add_current(struct tk_ctx *t, struct out *o, int type, const char *id)
{
	struct record rec = { 0 };
	if (sync_record_state(core_of(o->r), o->r->auth, &t->sp, tk_collection((enum tk_type)type),
			      id, &rec) == 0)
		add_state(o, type, id, rec.deleted, rec.data, rec.client_ts, rec.updated_ms);
	record_clear(&rec);
}

static int answer(struct req *r)
{
	struct tk_ctx *t = r->ctx;
	if (t->j.rc < 0) {
		push_results_free(t->j.results, t->j.n);
		return compat_reply(r, t->j.rc == -ERR_TOO_LARGE ? 413 : 500, COMPAT_JSON, "error",
				    t->j.rc == -ERR_TOO_LARGE && t->j.ve.n ? t->j.ve.e[0].msg
									 : "Internal server error");
	}
	struct out o = { .changes = json_object_new_array(), .seen = json_object_new_object(), .r = r };
	int e = t->full ? gather_all(t, &o) : gather_since(t, &o);
	if (e == -ERR_CURSOR_EXPIRED)
		e = gather_all(t, &o);
	json_object *conflicts = json_object_new_array();
	for (int i = 0; e == 0 && i < t->j.n; i++) {
		const struct push_result *res = &t->j.results[i];
		bool lost = res->status == OPS_CONFLICT ||
			    (res->status == OPS_DUPLICATE && res->original == OPS_CONFLICT);
		if (!lost || !t->items[i].reported)
			continue;
		/* the server kept its copy: the id, and the copy, so the client takes it */
		json_object_array_add(conflicts, json_object_new_string(t->items[i].id));
		add_current(t, &o, t->items[i].type, t->items[i].id);
	}
	for (int i = 0; e == 0 && i < t->nrefused; i++) {
		json_object_array_add(conflicts, json_object_new_string(t->refused[i]));
		add_current(t, &o, TK_LIST, t->refused[i]);
	}
	push_results_free(t->j.results, t->j.n);
	json_object_put(o.seen);
	if (e < 0) {
		json_object_put(o.changes);
		json_object_put(conflicts);
		return compat_reply(r, 500, COMPAT_JSON, "error", "Internal server error");
	}
	char ts[CLOCK_RFC3339_LEN];
	clock_format_rfc3339(t->server_time, ts);
	json_object *body = json_object_new_object();
	json_object_object_add(body, "server_time", json_object_new_string(ts));
	json_object_object_add(body, "changes", o.changes);
	json_object_object_add(body, "conflicts", conflicts);
	return http_reply_json(r, 200, body);
}

static void committed(struct push_job *j)
{
	if (http_resume_call(j->arg, answer) < 0)
		push_results_free(j->results, j->n); /* the server stopped under us */
}

static void park(void *r)
{
	http_suspend(r);
}

int tk_sync(struct req *r)
{
	const struct principal *p = auth_or_reply(r);
	if (!p)
		return 0;
	struct core *c = core_of(r);
	if (!json_object_is_type(r->json, json_type_object))
		return reject(r, "expected a struct SyncRequest");
	json_object *dev = NULL, *last = NULL, *changes = NULL;
	json_object_object_get_ex(r->json, "device_id", &dev);
	json_object_object_get_ex(r->json, "last_sync", &last);
	json_object_object_get_ex(r->json, "changes", &changes);
	if (!dev)
		return reject(r, "missing field `device_id`");
	if (!json_object_is_type(dev, json_type_string))
		return reject(r, "`device_id` must be a string");
	if (!changes || !json_object_is_type(changes, json_type_array))
		return reject(r, "missing field `changes` (an array)");
	struct tk_ctx *t = arena_alloc(&r->arena, sizeof *t);
	if (!t)
		return compat_reply(r, 500, COMPAT_JSON, "error", "Internal server error");
	memset(t, 0, sizeof *t);
	t->server_time = clock_wall_ms();
	t->full = !last;
	if (last && (!json_object_is_type(last, json_type_string) ||
		     !tk_time(json_object_get_string(last), &t->since_ms)))
		return reject(r, "`last_sync` must be an RFC 3339 time or null");
	size_t n = json_object_array_length(changes);
	const struct tickit_config *cfg = tickit_cfg(((struct app *)r->app)->cfg);
	if ((int64_t)n > cfg->max_changes) {
		char msg[128];
		snprintf(msg, sizeof msg, "A sync carries at most %lld changes (tickit.max_changes).",
			 (long long)cfg->max_changes);
		return compat_reply(r, 413, COMPAT_TEXT, NULL, msg);
	}
	/* each record read and checked before anything is stored */
	struct tk_record *recs = arena_alloc(&r->arena, sizeof *recs * (n ? n : 1));
	/* room for a change per record and a tag patch per link */
	t->j.changes = arena_alloc(&r->arena, sizeof *t->j.changes * (2 * n + 1));
	t->items = arena_alloc(&r->arena, sizeof *t->items * (2 * n + 1));
	t->refused = arena_alloc(&r->arena, sizeof *t->refused * (n ? n : 1));
	if (!recs || !t->j.changes || !t->items || !t->refused)
		return compat_reply(r, 500, COMPAT_JSON, "error", "Internal server error");
	size_t bad = n;
	char why[200];
	for (size_t i = 0; i < n; i++)
		if (!tk_record_read(json_object_array_get_idx(changes, i), -1, &recs[i], why,
				    sizeof why)) {
			bad = i;
			break;
		}
	if (bad < n) {
		for (size_t i = 0; i < bad; i++)
			json_object_put(recs[i].norm);
		char msg[260];
		snprintf(msg, sizeof msg, "changes[%zu]: %s", bad, why);
		return reject(r, msg);
	}
	int e = sync_space_for_app(c, p, TICKIT_APP, &t->sp);
	if (e < 0) {
		for (size_t i = 0; i < n; i++)
			json_object_put(recs[i].norm);
		return compat_reply(r, 500, COMPAT_JSON, "error", "Internal server error");
	}
	r->ctx = t;
	r->ctx_free = tk_free;
	/* records first, in the request's order; links after them (tickit-sync's order put
	 * links before tasks, whose own tag ids then won, and deletes last) */
	json_object *ops = json_object_new_object(); /* the op ids so far */
	for (size_t i = 0; i < n; i++) {
		struct tk_record *rec = &recs[i];
		if (rec->type == TK_TASK_TAG ||
		    (rec->type == TK_DELETED && rec->deleted_type == TK_TASK_TAG))
			continue;
		enum tk_type type = rec->type == TK_DELETED ? rec->deleted_type : rec->type;
		const char *id = arena_strndup(&r->arena, rec->id, strlen(rec->id));
		if (rec->type == TK_DELETED && type == TK_LIST && is_inbox(r, p, &t->sp, id)) {
			t->refused[t->nrefused++] = id;
			json_object_put(rec->norm);
			continue;
		}
		char ts[CLOCK_RFC3339_LEN];
		client_ts(r, rec->ts_ms, t->server_time, ts);
		struct push_change *x = &t->j.changes[t->j.n];
		memset(x, 0, sizeof *x);
		x->collection = tk_collection(type);
		x->id = id;
		x->base_version = -1;
		x->lww_ts = true;
		x->client_ts = arena_strndup(&r->arena, ts, strlen(ts));
		if (rec->type == TK_DELETED) {
			x->op = OP_DELETE;
			json_object_put(rec->norm);
			x->op_id = op_id_of(r, "delete", id, NULL);
			/* a delete's op id names its time: deleting again later is another op */
			x->op_id = x->op_id ? op_id_of(r, x->op_id, ts, NULL) : NULL;
		} else {
			x->op = OP_PUT;
			/* an update keeps what tickit-sync kept (an empty space has nothing) */
			if ((type == TK_LIST || type == TK_TASK) && t->sp.head_seq > 0)
				keep_fixed(r, &t->sp, type, id, rec->norm);
			x->data = rec->norm; /* owned by the request now (tk_free) */
			x->op_id = op_id_of(r, tk_type_name(type), id, rec->norm);
		}
		if (!x->id || !x->op_id || !x->client_ts) {
			json_object_put(ops);
			return compat_reply(r, 500, COMPAT_JSON, "error", "Internal server error");
		}
		/* the same record twice in one sync, alike: once is enough */
		if (json_object_object_get_ex(ops, x->op_id, NULL)) {
			json_object_put(x->data);
			x->data = NULL;
			continue;
		}
		json_object_object_add(ops, x->op_id, NULL);
		t->items[t->j.n] = (struct tk_item){ type, id, true };
		t->j.n++;
	}
	json_object_put(ops);
	for (size_t i = 0; i < n; i++) {
		struct tk_record *rec = &recs[i];
		bool link = rec->type == TK_TASK_TAG;
		if (!link && !(rec->type == TK_DELETED && rec->deleted_type == TK_TASK_TAG))
			continue;
		json_object *tag = NULL;
		if (link)
			json_object_object_get_ex(rec->norm, "tag_id", &tag);
		char task[40];
		snprintf(task, sizeof task, "%s", rec->id);
		const char *tag_s = tag ? arena_strndup(&r->arena, json_object_get_string(tag),
						       strlen(json_object_get_string(tag)))
					: NULL;
		json_object_put(rec->norm);
		if (tag_link(r, t, (int)t->j.n, task, link ? tag_s : NULL) < 0)
			return compat_reply(r, 500, COMPAT_JSON, "error", "Internal server error");
	}
	t->j.p = p;
	t->j.sp = &t->sp;
	t->j.arena = &r->arena;
	t->j.results = arena_alloc(&r->arena, sizeof *t->j.results * (size_t)(t->j.n ? t->j.n : 1));
	if (!t->j.results)
		return compat_reply(r, 500, COMPAT_JSON, "error", "Internal server error");
	memset(t->j.results, 0, sizeof *t->j.results * (size_t)(t->j.n ? t->j.n : 1));
	/* checked here, applied by the committer with whatever else is queued */
	t->j.rc = sync_push_check(c, &t->j);
	if (t->j.rc < 0) {
		char msg[600];
		snprintf(msg, sizeof msg, "%s", t->j.ve.n ? t->j.ve.e[0].msg : "a change was refused");
		if (t->j.rc == -ERR_INVALID)
			return reject(r, msg);
		if (t->j.rc == -ERR_TOO_LARGE)
			return compat_reply(r, 413, COMPAT_TEXT, NULL, msg);
		return compat_reply(r, 500, COMPAT_JSON, "error", "Internal server error");
	}
	t->j.done = committed;
	t->j.arg = r;
	if (t->j.n && c->committer && committer_submit(c->committer, &t->j, park, r) == 0)
		return 0;
	if (t->j.n)
		sync_push_run(c, &t->j); /* no committer, or it is stopping: on this thread */
	return answer(r);
}
