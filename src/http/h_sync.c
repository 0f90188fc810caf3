/* /api/v1/spaces/...: spaces, members, collections, changes (push, pull, long-poll),
 * records. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/blobs.h"
#include "../core/commit.h"
#include "../core/gc.h"
#include "../core/hub.h"
#include "../core/sync.h"
#include "../store/blob.h"
#include "../util/clock.h"
#include "../util/conditional.h"
#include "../util/config.h"
#include "../util/err.h"
#include "../util/jtext.h"
#include "app.h"
#include "handlers.h"
#include "helpers.h"


/* The caller and the space named in the path, or NULL after replying. */
static const struct principal *space_of(struct req *r, struct space *sp)
{
	const struct principal *p = need_auth(r);
	if (!p)
		return NULL;
	int e = sync_space(core_of(r), p, http_param(r, "space"), sp);
	if (e < 0) {
		reply_core_error(r, e, NULL, 0);
		return NULL;
	}
	return p;
}

static json_object *space_json(const struct space *sp)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(sp->id));
	json_object_object_add(o, "kind", json_object_new_string(space_kind_name(sp->kind)));
	json_object_object_add(o, "name", json_object_new_string(sp->name));
	json_object_object_add(o, "role", json_object_new_string(role_name(sp->role)));
	json_object_object_add(o, "head_seq", json_object_new_int64(sp->head_seq));
	json_object_object_add(o, "epoch", json_object_new_string(sp->epoch));
	json_object_object_add(o, "key_epoch", json_object_new_int64(sp->key_epoch));
	json_object_object_add(o, "created_at", json_time(sp->created_ms));
	return o;
}

static int add_space(void *arg, const struct space *sp)
{
	json_object_array_add(arg, space_json(sp));
	return 0;
}

int h_spaces_list(struct req *r)
{
	const struct principal *p = need_auth(r);
	if (!p)
		return 0;
	struct space me;
	struct store *s = core_of(r)->store;
	int e = sync_space(core_of(r), p, "me", &me); /* the private space always exists */
	json_object *arr = json_object_new_array();
	if (e == 0)
		e = s->ops->space_list(s, p->user.id, add_space, arr);
	if (e < 0) {
		json_object_put(arr);
		return reply_core_error(r, e, NULL, 0);
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "spaces", arr);
	return http_reply_json(r, 200, o);
}

int h_spaces_create(struct req *r)
{
	const struct principal *p = need_auth(r);
	if (!p || !need_object(r, false))
		return 0;
	struct verr ve = { 0 };
	const char *name = jstr(r, "name", &ve);
	const char *kind = jstr(r, "kind", &ve);
	struct space sp;
	int e = ve.n ? -ERR_INVALID : sync_space_create(core_of(r), p, name, kind, &sp, &ve);
	if (e < 0)
		return reply_core_error(r, e, &ve, 0);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "space", space_json(&sp));
	return http_reply_json(r, 201, o);
}

int h_space_get(struct req *r)
{
	struct space sp;
	if (!space_of(r, &sp))
		return 0;
	json_object *o = json_object_new_object();
	json_object_object_add(o, "space", space_json(&sp));
	return http_reply_json(r, 200, o);
}

int h_space_patch(struct req *r)
{
	struct space sp;
	const struct principal *p = space_of(r, &sp);
	if (!p || !need_object(r, false))
		return 0;
	struct verr ve = { 0 };
	const char *name = jstr(r, "name", &ve);
	int e = ve.n ? -ERR_INVALID : sync_space_rename(core_of(r), p, &sp, name, &ve);
	if (e < 0)
		return reply_core_error(r, e, &ve, 0);
	snprintf(sp.name, sizeof sp.name, "%s", name);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "space", space_json(&sp));
	return http_reply_json(r, 200, o);
}

int h_space_delete(struct req *r)
{
	struct space sp;
	const struct principal *p = space_of(r, &sp);
	if (!p)
		return 0;
	int e = sync_space_delete(core_of(r), p, &sp);
	if (e < 0)
		return reply_core_error(r, e, NULL, 0);
	return http_reply_bytes(r, 204, NULL, "", 0);
}

static int add_member(void *arg, const struct member *m)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "user_id", json_object_new_int64(m->user_id));
	json_object_object_add(o, "username", json_object_new_string(m->username));
	json_object_object_add(o, "role", json_object_new_string(role_name(m->role)));
	json_object_object_add(o, "key_epoch", json_object_new_int64(m->key_epoch));
	json_object_object_add(o, "added_at", json_time(m->added_ms));
	json_object_array_add(arg, o);
	return 0;
}

int h_members_list(struct req *r)
{
	struct space sp;
	if (!space_of(r, &sp))
		return 0;
	json_object *arr = json_object_new_array();
	struct store *s = core_of(r)->store;
	int e = s->ops->member_list(s, sp.id, add_member, arr);
	if (e < 0) {
		json_object_put(arr);
		return reply_core_error(r, e, NULL, 0);
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "members", arr);
	return http_reply_json(r, 200, o);
}

int h_members_add(struct req *r)
{
	struct space sp;
	const struct principal *p = space_of(r, &sp);
	if (!p || !need_object(r, false))
		return 0;
	struct verr ve = { 0 };
	const char *username = jstr(r, "username", &ve);
	const char *role = jstr(r, "role", &ve);
	int e = ve.n ? -ERR_INVALID : sync_member_add(core_of(r), p, &sp, username, role, &ve);
	if (e == -ERR_EXISTS)
		return http_reply_error(r, AE_CONFLICT, "That user is already a member.", NULL);
	if (e < 0)
		return reply_core_error(r, e, &ve, 0);
	return h_members_list(r);
}

int h_member_patch(struct req *r)
{
	struct space sp;
	const struct principal *p = space_of(r, &sp);
	if (!p || !need_object(r, false))
		return 0;
	struct verr ve = { 0 };
	const char *role = jstr(r, "role", &ve);
	int e = ve.n ? -ERR_INVALID
		     : sync_member_set(core_of(r), p, &sp, http_param(r, "username"), role, &ve);
	if (e == -ERR_CONFLICT)
		return http_reply_error(r, AE_CONFLICT,
					"A space needs an owner: make another member owner first, "
					"then step down.",
					NULL);
	if (e < 0)
		return reply_core_error(r, e, &ve, 0);
	return h_members_list(r);
}

int h_member_delete(struct req *r)
{
	struct space sp;
	const struct principal *p = space_of(r, &sp);
	if (!p)
		return 0;
	int e = sync_member_remove(core_of(r), p, &sp, http_param(r, "username"));
	if (e == -ERR_CONFLICT)
		return http_reply_error(r, AE_CONFLICT,
					"The last owner cannot leave: make another member owner "
					"first, or delete the space.",
					NULL);
	if (e < 0)
		return reply_core_error(r, e, NULL, 0);
	return http_reply_bytes(r, 204, NULL, "", 0);
}

int h_collection_put(struct req *r)
{
	struct space sp;
	const struct principal *p = space_of(r, &sp);
	if (!p || !need_object(r, false))
		return 0;
	struct verr ve = { 0 };
	const char *policy = jstr(r, "conflict", &ve);
	const char *name = http_param(r, "name");
	int e = ve.n ? -ERR_INVALID : sync_collection_set(core_of(r), p, &sp, name, policy, &ve);
	if (e < 0)
		return reply_core_error(r, e, &ve, 0);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "conflict", json_object_new_string(policy));
	return http_reply_json(r, 200, o);
}

int h_keys_put(struct req *r)
{
	struct space sp;
	const struct principal *p = space_of(r, &sp);
	if (!p || !need_object(r, false))
		return 0;
	struct verr ve = { 0 };
	int64_t epoch = jint(r, "epoch", 0, &ve);
	json_object *keys = NULL;
	json_object_object_get_ex(r->json, "keys", &keys);
	int e = ve.n ? -ERR_INVALID : sync_keys_put(core_of(r), p, &sp, epoch, keys, &ve);
	if (e == -ERR_CONFLICT)
		return http_reply_error(r, AE_CONFLICT,
					"A new epoch must be above the current one and carry a key "
					"for every member, and for nobody else.",
					NULL);
	if (e < 0)
		return reply_core_error(r, e, &ve, 0);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "key_epoch", json_object_new_int64(epoch));
	return http_reply_json(r, 200, o);
}

int h_keys_get(struct req *r)
{
	struct space sp;
	const struct principal *p = space_of(r, &sp);
	if (!p)
		return 0;
	int64_t epoch = 0;
	char *key = NULL;
	struct store *s = core_of(r)->store;
	int e = s->ops->key_get(s, sp.id, p->user.id, &epoch, &key);
	if (e < 0)
		return reply_core_error(r, e, NULL, 0);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "epoch", json_object_new_int64(epoch));
	json_object_object_add(o, "wrapped_key", json_object_new_string(key));
	free(key);
	return http_reply_json(r, 200, o);
}

/* --- push --- */

/* One result as JSON text: op ids and reasons need no escaping, and stored data is JSON
 * already, so this is printf around them (a thousand json-c objects per push cost more
 * than the push's own writes). */
static int result_text(struct buf *b, const struct push_change *x, const struct push_result *res)
{
	static const char *const st[] = { "applied", "conflict", "duplicate", "unchanged" };
	int e = buf_printf(b, "{\"op_id\":\"%s\",\"status\":\"%s\"", x->op_id, st[res->status]);
	if (e == 0 && res->status == OPS_DUPLICATE)
		e = buf_printf(b, ",\"original_status\":\"%s\"", st[res->original]);
	if (e == 0 && res->seq)
		e = buf_printf(b, ",\"seq\":%lld", (long long)res->seq);
	else if (e == 0)
		e = buf_puts(b, ",\"seq\":null");
	if (e == 0)
		e = buf_printf(b, ",\"version\":%lld", (long long)res->version);
	if (e == 0 && res->reason)
		e = buf_printf(b, ",\"reason\":\"%s\"", res->reason);
	if (e == 0 && res->merged_fields)
		e = buf_printf(b, ",\"fields\":%s",
			       json_object_to_json_string_ext(res->merged_fields, JSON_C_TO_STRING_PLAIN));
	if (e == 0 && res->has_server && res->server_data_omitted)
		e = buf_printf(b, ",\"server\":{\"version\":%lld,\"data_omitted\":true,"
				  "\"deleted\":%s}",
			       (long long)res->server_version, res->server_deleted ? "true" : "false");
	else if (e == 0 && res->has_server)
		e = buf_printf(b, ",\"server\":{\"version\":%lld,\"data\":%s,\"deleted\":%s}",
			       (long long)res->server_version,
			       res->server_data ? res->server_data : "null",
			       res->server_deleted ? "true" : "false");
	return e == 0 ? buf_puts(b, "}") : e;
}

/* The answer to a push, from its job. */
static int push_answer(struct req *r, struct push_job *j)
{
	if (j->rc < 0)
		return reply_core_error(r, j->rc, &j->ve, 0);
	struct buf b;
	buf_init(&b, SIZE_MAX);
	int e = buf_printf(&b, "{\"head_seq\":%lld,\"results\":[", (long long)j->head);
	for (int i = 0; e == 0 && i < j->n; i++) {
		if (i)
			e = buf_puts(&b, ",");
		if (e == 0)
			e = result_text(&b, &j->changes[i], &j->results[i]);
	}
	if (e == 0)
		e = buf_puts(&b, "]}");
	push_results_free(j->results, j->n);
	e = e == 0 ? http_reply_bytes(r, 200, "application/json", b.ptr, b.len)
		   : http_reply_error(r, AE_INTERNAL, NULL, NULL);
	buf_free(&b);
	return e;
}

/* Resumed after the commit: the answer is built on a worker thread. */
static int push_resumed(struct req *r)
{
	return push_answer(r, r->ctx);
}

static void push_committed(struct push_job *j)
{
	if (http_resume_call(j->arg, push_resumed) < 0)
		push_results_free(j->results, j->n); /* the server stopped under us */
}

static void park(void *r)
{
	http_suspend(r);
}

int h_changes_push(struct req *r)
{
	struct space sp;
	const struct principal *p = space_of(r, &sp);
	if (!p || !need_object(r, false))
		return 0;
	struct core *c = core_of(r);
	struct push_change *ch = NULL;
	int n = 0;
	struct verr ve = { 0 };
	int e = sync_push_parse(c->cfg, r->json, &r->arena, &ch, &n, &ve);
	if (e < 0)
		return reply_core_error(r, e, &ve, 0);
	if (sp.role > ROLE_WRITER)
		return http_reply_error(r, AE_FORBIDDEN, "Readers cannot push to this space.", NULL);
	struct push_result *res = arena_alloc(&r->arena, sizeof *res * (size_t)(n ? n : 1));
	struct push_job *j = arena_alloc(&r->arena, sizeof *j);
	struct space *spc = arena_alloc(&r->arena, sizeof *spc);
	if (!res || !j || !spc)
		return http_reply_error(r, AE_INTERNAL, NULL, NULL);
	*spc = sp;
	*j = (struct push_job){ .p = p, .sp = spc, .changes = ch, .n = n, .results = res,
				.arena = &r->arena };
	/* checked here, applied by the committer with whatever else is queued */
	j->rc = sync_push_check(c, j);
	if (j->rc < 0)
		return reply_core_error(r, j->rc, &j->ve, 0);
	j->done = push_committed;
	j->arg = r;
	r->ctx = j; /* in the arena: nothing to free */
	if (c->committer && committer_submit(c->committer, j, park, r) == 0)
		return 0;
	sync_push_run(c, j); /* no committer, or it is stopping: push on this thread */
	return push_answer(r, j);
}

/* --- pull --- */

struct pull {
	struct hub_waiter w;
	struct req *r;
	int64_t space_id, since, horizon;
	char epoch[SPACE_EPOCH_LEN + 1];
	int limit;
	struct buf out;
	int count;
	int64_t last;
	struct app *app;
	int64_t ts_ms; /* the server time last formatted into ts */
	char ts[CLOCK_RFC3339_LEN];
};

/* Appenders for pages of changes: a pull of 1000 changes spent most of its CPU in
 * printf's format parsing. Each returns 0 or a negative error; errors stick in *e. */
static void put(struct buf *b, int *e, const char *s, size_t n)
{
	if (*e == 0)
		*e = buf_append(b, s, n);
}

#define PUT_LIT(b, e, lit) put((b), (e), (lit), sizeof(lit) - 1)

static void put_str(struct buf *b, int *e, const char *s)
{
	put(b, e, s, strlen(s));
}

static void put_i64(struct buf *b, int *e, int64_t v)
{
	char t[24];
	int n = sizeof t;
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	do
		t[--n] = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		t[--n] = '-';
	put(b, e, t + n, sizeof t - (size_t)n);
}

static int emit_change(void *arg, const struct change_row *c)
{
	struct pull *pl = arg;
	struct buf *b = &pl->out;
	/* consecutive changes mostly share their server time: format it once */
	if (c->server_ms != pl->ts_ms || !pl->ts[0]) {
		clock_format_rfc3339(c->server_ms, pl->ts);
		pl->ts_ms = c->server_ms;
	}
	/* Ids, names and client_ts were checked to need no escaping; data is stored JSON. */
	int e = 0;
	if (pl->count)
		PUT_LIT(b, &e, ",");
	PUT_LIT(b, &e, "{\"seq\":");
	put_i64(b, &e, c->seq);
	PUT_LIT(b, &e, ",\"op_id\":\"");
	put_str(b, &e, c->op_id);
	PUT_LIT(b, &e, "\",\"collection\":\"");
	put_str(b, &e, c->collection);
	PUT_LIT(b, &e, "\",\"id\":\"");
	put_str(b, &e, c->record_id);
	PUT_LIT(b, &e, "\",\"op\":\"");
	put_str(b, &e, op_name(c->op));
	PUT_LIT(b, &e, "\",\"data\":");
	put_str(b, &e, c->data ? c->data : "null");
	PUT_LIT(b, &e, ",\"version\":");
	put_i64(b, &e, c->seq);
	PUT_LIT(b, &e, ",\"device_id\":");
	put_i64(b, &e, c->device_id);
	if (c->client_ts) {
		PUT_LIT(b, &e, ",\"client_ts\":\"");
		put_str(b, &e, c->client_ts);
		PUT_LIT(b, &e, "\"");
	} else {
		PUT_LIT(b, &e, ",\"client_ts\":null");
	}
	PUT_LIT(b, &e, ",\"server_ts\":\"");
	put_str(b, &e, pl->ts);
	PUT_LIT(b, &e, "\"");
	if (c->blobs) {
		PUT_LIT(b, &e, ",\"blobs\":");
		put_str(b, &e, c->blobs);
	}
	PUT_LIT(b, &e, "}");
	if (e < 0)
		return -1;
	pl->count++;
	pl->last = c->seq;
	return 0;
}

/* Reads one page into pl->out; *ret_head is the space's head. */
static int pull_page(struct pull *pl, int64_t *ret_head)
{
	struct store *s = pl->app->core->store;
	buf_reset(&pl->out);
	pl->count = 0;
	pl->last = pl->since;
	int e = buf_puts(&pl->out, "{\"changes\":[");
	if (e < 0)
		return e;
	e = s->ops->changes_read(s, pl->space_id, pl->since, pl->limit, emit_change, pl, ret_head,
				 &pl->horizon);
	return e;
}

static int pull_reply(struct req *r, struct pull *pl, int64_t head)
{
	int e = buf_printf(&pl->out, "],\"next\":%lld,\"more\":%s,\"head_seq\":%lld,\"epoch\":\"%s\"}",
			   (long long)pl->last, pl->last < head ? "true" : "false", (long long)head,
			   pl->epoch);
	if (e < 0)
		return http_reply_error(r, AE_INTERNAL, NULL, NULL);
	return http_reply_bytes(r, 200, "application/json", pl->out.ptr, pl->out.len);
}

struct page_cache {
	pthread_mutex_t mu;
	int64_t space_id, since, head;
	int limit;
	char *body;
	size_t len;
};

struct page_cache *page_cache_new(void)
{
	struct page_cache *pc = calloc(1, sizeof *pc);
	if (pc)
		pthread_mutex_init(&pc->mu, NULL);
	return pc;
}

struct page_cache *page_cache_free(struct page_cache *pc)
{
	if (pc) {
		pthread_mutex_destroy(&pc->mu);
		free(pc->body);
		free(pc);
	}
	return NULL;
}

/* A page for (space, since, limit) as of head, from the cache; false when not there. */
static bool cached_page(struct req *r, struct pull *pl, int64_t head)
{
	struct page_cache *pc = pl->app->pages;
	if (!pc || head <= 0)
		return false;
	bool hit = false;
	pthread_mutex_lock(&pc->mu);
	if (pc->body && pc->space_id == pl->space_id && pc->since == pl->since &&
	    pc->limit == pl->limit && pc->head == head) {
		http_reply_bytes(r, 200, "application/json", pc->body, pc->len);
		hit = true;
	}
	pthread_mutex_unlock(&pc->mu);
	return hit;
}

static void remember_page(struct pull *pl, int64_t head)
{
	struct page_cache *pc = pl->app->pages;
	char *copy = pc ? malloc(pl->out.len) : NULL;
	if (!copy)
		return;
	memcpy(copy, pl->out.ptr, pl->out.len);
	pthread_mutex_lock(&pc->mu);
	free(pc->body);
	pc->body = copy;
	pc->len = pl->out.len;
	pc->space_id = pl->space_id;
	pc->since = pl->since;
	pc->limit = pl->limit;
	pc->head = head;
	pthread_mutex_unlock(&pc->mu);
}

static int pull_again(struct req *r)
{
	struct pull *pl = r->ctx;
	/* Whatever woke it, the caller must still be who they were and still see the space:
	 * a revocation, a logout, a removal or a disabling since the pull parked is answered
	 * as a fresh request would be (401, 403 or 404), never with newer data. */
	r->auth = NULL;
	struct space sp;
	if (!space_of(r, &sp))
		return 0;
	int64_t woken = pl->w.woken_head;
	if (cached_page(r, pl, woken))
		return 0;
	int64_t head = 0;
	int e = pull_page(pl, &head);
	if (e < 0)
		return reply_core_error(r, e, NULL, 0);
	e = pull_reply(r, pl, head);
	/* Only a page that is exactly the state the push announced may be shared. */
	if (woken > 0 && head == woken)
		remember_page(pl, head);
	return e;
}

static void pull_wake(struct hub_waiter *w, bool timed_out)
{
	(void)timed_out;
	struct pull *pl = w->arg;
	http_resume_call(pl->r, pull_again);
}

/* The client went away while the pull waited (the watchdog's thread; see http_on_gone):
 * whoever takes the waiter off the hub answers it, here or in pull_wake. */
static void pull_gone(void *arg)
{
	struct pull *pl = arg;
	if (hub_remove(pl->app->hub, &pl->w))
		http_resume_call(pl->r, pull_again);
}

static void pull_free(void *p)
{
	struct pull *pl = p;
	buf_free(&pl->out);
	free(pl);
}


int h_changes_pull(struct req *r)
{
	struct space sp;
	const struct principal *p = space_of(r, &sp);
	if (!p)
		return 0;
	struct app *app = r->app;
	const struct config *cfg = app->cfg;
	struct verr ve = { 0 };
	int64_t since = 0, limit = 100, wait = 0;
	http_query_int(r, "since", &since, 0, INT64_MAX, &ve);
	http_query_int(r, "limit", &limit, 1, cfg->limits_page, &ve);
	http_query_int(r, "wait", &wait, 0, cfg->limits_wait_ms / 1000, &ve);
	if (ve.n)
		return reply_core_error(r, -ERR_INVALID, &ve, 0);
	struct pull *pl = calloc(1, sizeof *pl);
	if (!pl)
		return http_reply_error(r, AE_INTERNAL, NULL, NULL);
	pl->r = r;
	pl->app = app;
	pl->space_id = sp.id;
	snprintf(pl->epoch, sizeof pl->epoch, "%s", sp.epoch);
	pl->since = since;
	pl->limit = (int)limit;
	buf_init(&pl->out, (size_t)cfg->limits_page * ((size_t)cfg->limits_record_bytes + 1024));
	r->ctx = pl;
	r->ctx_free = pull_free;
	int64_t head = 0;
	int e = pull_page(pl, &head);
	if (e < 0)
		return reply_core_error(r, e, NULL, 0);
	/* A cursor from another history of this log (the server was restored from a backup
	 * since) would skip the changes renumbered under it: the device must start over. */
	char msg[200];
	const char *epoch = http_query(r, "epoch");
	if (epoch && *epoch && strcasecmp(epoch, sp.epoch) != 0)
		snprintf(msg, sizeof msg,
			 "This space's log is another one than the cursor came from (epoch %s; "
			 "it was restored from a backup): bootstrap from records.",
			 sp.epoch);
	else if (since > head)
		snprintf(msg, sizeof msg,
			 "The cursor %lld is past this space's last change (%lld): it comes from "
			 "another history of the space (a restore from a backup). Bootstrap from "
			 "records.",
			 (long long)since, (long long)head);
	else if (since < pl->horizon)
		snprintf(msg, sizeof msg,
			 "Changes up to %lld were pruned: bootstrap from records, then pull from "
			 "their as_of_seq.",
			 (long long)pl->horizon);
	else
		msg[0] = '\0';
	if (msg[0]) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "code", json_object_new_string("cursor_expired"));
		json_object_object_add(o, "error", json_object_new_string(msg));
		json_object_object_add(o, "epoch", json_object_new_string(sp.epoch));
		return http_reply_json(r, 410, o);
	}
	/* the device has applied everything up to since: pruning may pass it */
	if (since > 0)
		sync_report_cursor(app->core, p->device.id, sp.id, since);
	if (pl->count > 0 || wait == 0 || !app->hub)
		return pull_reply(r, pl, head);
	/* Nothing newer: wait without a thread, woken by the next push to this space. */
	pl->w.space_id = sp.id;
	pl->w.user_id = p->user.id;
	pl->w.device_id = p->device.id;
	pl->w.since = since;
	pl->w.deadline_ns = clock_mono_ns() + (uint64_t)wait * 1000000000u;
	pl->w.wake = pull_wake;
	pl->w.arg = pl;
	http_suspend(r);
	http_on_gone(r, pull_gone, pl);
	hub_add(app->hub, &pl->w);
	/* A push that committed between the read and hub_add would be missed: look again. */
	struct space now;
	struct store *s = app->core->store;
	if (s->ops->space_get(s, sp.id, &now) == 0 && now.head_seq > since &&
	    hub_remove(app->hub, &pl->w))
		http_resume_call(r, pull_again);
	return 0;
}

/* --- records --- */

struct rec_list {
	json_object *arr;
	int count, limit;
	bool more; /* a record past the page was seen */
	char last_coll[COLLECTION_MAX + 1], last_id[RECORD_ID_MAX + 1];
};

static int add_record(void *arg, const char *coll, const char *id, const struct record *rec)
{
	struct rec_list *l = arg;
	if (l->count == l->limit) { /* the one asked for beyond the page */
		l->more = true;
		return 0;
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "collection", json_object_new_string(coll));
	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "version", json_object_new_int64(rec->version));
	json_object_object_add(o, "data", rec->data ? jtext_raw(rec->data) : NULL);
	json_object_object_add(o, "deleted", json_object_new_boolean(rec->deleted));
	json_object_object_add(o, "updated_at", json_time(rec->updated_ms));
	json_object_array_add(l->arr, o);
	l->count++;
	snprintf(l->last_coll, sizeof l->last_coll, "%s", coll);
	snprintf(l->last_id, sizeof l->last_id, "%s", id);
	return 0;
}

int h_records_list(struct req *r)
{
	struct space sp;
	if (!space_of(r, &sp))
		return 0;
	struct verr ve = { 0 };
	const char *coll = http_query(r, "collection");
	const char *after = http_query(r, "after");
	const char *after_coll = http_query(r, "after_collection");
	int64_t limit = 100;
	http_query_int(r, "limit", &limit, 1, core_of(r)->cfg->limits_page, &ve);
	if (coll && !valid_collection(coll))
		verr_add(&ve, "collection", "is not a collection name");
	if (ve.n)
		return reply_core_error(r, -ERR_INVALID, &ve, 0);
	struct rec_list l = { .arr = json_object_new_array(), .limit = (int)limit };
	int64_t as_of = 0;
	struct store *s = core_of(r)->store;
	int e = s->ops->records_list(s, sp.id, coll, coll ? coll : after_coll, after, (int)limit + 1,
				     add_record, &l, &as_of);
	if (e < 0) {
		json_object_put(l.arr);
		return reply_core_error(r, e, NULL, 0);
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "records", l.arr);
	json_object_object_add(o, "as_of_seq", json_object_new_int64(as_of));
	json_object_object_add(o, "epoch", json_object_new_string(sp.epoch));
	json_object_object_add(o, "more", json_object_new_boolean(l.more));
	if (l.count) {
		json_object *next = json_object_new_object();
		json_object_object_add(next, "after_collection", json_object_new_string(l.last_coll));
		json_object_object_add(next, "after", json_object_new_string(l.last_id));
		json_object_object_add(o, "next", next);
	} else {
		json_object_object_add(o, "next", NULL);
	}
	return http_reply_json(r, 200, o);
}

/* The collection and id in the path, checked; NULL after replying. */
static bool record_ref(struct req *r, const char **coll, const char **id)
{
	*coll = http_param(r, "collection");
	*id = http_param(r, "id");
	if (!*coll || !*id || !valid_collection(*coll) || !valid_record_id(*id)) {
		http_reply_error(r, AE_NOT_FOUND, NULL, NULL);
		return false;
	}
	return true;
}

static void set_etag(struct req *r, int64_t version)
{
	char etag[32];
	snprintf(etag, sizeof etag, "\"%lld\"", (long long)version);
	http_add_header(r, "ETag", etag);
}

int h_record_get(struct req *r)
{
	struct space sp;
	const char *coll, *id;
	if (!space_of(r, &sp) || !record_ref(r, &coll, &id))
		return 0;
	struct record rec;
	struct store *s = core_of(r)->store;
	int e = s->ops->record_get(s, sp.id, coll, id, &rec);
	if (e == 0 && rec.deleted)
		e = -ERR_NOT_FOUND;
	if (e < 0) {
		if (e == 0)
			record_clear(&rec);
		return reply_core_error(r, e, NULL, 0);
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "collection", json_object_new_string(coll));
	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "version", json_object_new_int64(rec.version));
	json_object_object_add(o, "data", rec.data ? jtext_raw(rec.data) : NULL);
	json_object_object_add(o, "updated_at", json_time(rec.updated_ms));
	set_etag(r, rec.version);
	char etag[32];
	snprintf(etag, sizeof etag, "\"%lld\"", (long long)rec.version);
	record_clear(&rec);
	const char *inm = http_header(r, "If-None-Match");
	if (inm && cond_etag_listed(inm, etag)) {
		json_object_put(o);
		return http_reply_bytes(r, 304, NULL, "", 0);
	}
	return http_reply_json(r, 200, o);
}

/* PUT and DELETE of one record: a one-change push with a server-made op id. */
static int write_record(struct req *r, enum change_op op)
{
	struct space sp;
	const char *coll, *id;
	const struct principal *p = space_of(r, &sp);
	if (!p || !record_ref(r, &coll, &id))
		return 0;
	if (op == OP_PUT && !json_object_is_type(r->json, json_type_object))
		return http_reply_error(r, AE_BAD_REQUEST, "The body must be the record: a JSON object.",
					NULL);
	/* Preconditions (RFC 9110 section 13.1) hold whatever the collection's policy:
	 * If-Match "42" writes only over version 42; If-None-Match * (PUT) only where no
	 * record is. */
	int64_t base = -1;
	const char *im = http_header(r, "If-Match");
	const char *inm = http_header(r, "If-None-Match");
	if (im && inm)
		return http_reply_error(r, AE_BAD_REQUEST,
					"Send If-Match or If-None-Match, not both.", NULL);
	if (im && cond_if_match_version(im, &base) < 0)
		return http_reply_error(r, AE_BAD_REQUEST,
					"If-Match must be one version such as \"42\".", NULL);
	if (inm && (op != OP_PUT || !cond_is_star(inm)))
		return http_reply_error(r, AE_BAD_REQUEST,
					"If-None-Match on a write must be * (and only on PUT).", NULL);
	if (inm)
		base = 0;
	else if (im && base == 0) /* no record has version 0: If-Match cannot hold */
		return http_reply_error(r, AE_PRECONDITION_FAILED, NULL, NULL);
	char op_id[48];
	char rnd[TOKEN_LEN];
	token_new("", rnd);
	snprintf(op_id, sizeof op_id, "srv-%.32s", rnd);
	for (char *q = op_id; *q; q++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", *q))
			*q = '_';
	struct push_change ch = { .op_id = op_id, .collection = coll, .id = id, .op = op,
				  .data = op == OP_PUT ? r->json : NULL, .base_version = base,
				  .strict = base >= 0 };
	struct push_result res;
	int64_t head;
	struct verr ve = { 0 };
	int e = sync_push(core_of(r), p, &sp, &ch, 1, &res, &head, &ve);
	if (e < 0)
		return reply_core_error(r, e, &ve, 0);
	if (res.status == OPS_CONFLICT || (res.status == OPS_UNCHANGED && base >= 0)) {
		/* a precondition that does not hold: 412, with the current version if there is
		 * one; otherwise only an append collection refuses (it never overwrites) */
		bool live = res.status == OPS_CONFLICT && !res.server_deleted;
		bool exists = res.reason && !strcmp(res.reason, "exists");
		push_results_free(&res, 1);
		if (live)
			set_etag(r, res.server_version);
		if (inm)
			return http_reply_error(r, AE_PRECONDITION_FAILED,
						"A record exists there already (If-None-Match: *).",
						NULL);
		if (exists) /* whatever If-Match said: it held, the policy refuses */
			return http_reply_error(r, AE_CONFLICT,
						"The collection is append-only and this record "
						"exists: it is never overwritten.",
						NULL);
		return http_reply_error(r, AE_PRECONDITION_FAILED, NULL, NULL);
	}
	if (res.status == OPS_UNCHANGED) /* a DELETE of what is not there */
		return http_reply_error(r, AE_NOT_FOUND, NULL, NULL);
	push_results_free(&res, 1);
	set_etag(r, res.version);
	if (op == OP_DELETE)
		return http_reply_bytes(r, 204, NULL, "", 0);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "collection", json_object_new_string(coll));
	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "version", json_object_new_int64(res.version));
	json_object_object_add(o, "data", json_object_get(r->json));
	return http_reply_json(r, 200, o);
}

int h_record_put(struct req *r)
{
	return write_record(r, OP_PUT);
}

int h_record_delete(struct req *r)
{
	return write_record(r, OP_DELETE);
}

static int add_history(void *arg, const struct change_row *c)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "version", json_object_new_int64(c->seq));
	json_object_object_add(o, "op", json_object_new_string(op_name(c->op)));
	json_object_object_add(o, "data", c->data ? jtext_raw(c->data) : NULL);
	json_object_object_add(o, "device_id", c->device_id ? json_object_new_int64(c->device_id) : NULL);
	json_object_object_add(o, "client_ts", c->client_ts ? json_object_new_string(c->client_ts) : NULL);
	json_object_object_add(o, "server_ts", json_time(c->server_ms));
	if (c->blobs)
		json_object_object_add(o, "blobs", jtext_raw(c->blobs));
	json_object_array_add(arg, o);
	return 0;
}

int h_record_history(struct req *r)
{
	struct space sp;
	const char *coll, *id;
	if (!space_of(r, &sp) || !record_ref(r, &coll, &id))
		return 0;
	json_object *arr = json_object_new_array();
	struct store *s = core_of(r)->store;
	int e = s->ops->record_history(s, sp.id, coll, id, add_history, arr);
	if (e == 0 && json_object_array_length(arr) == 0)
		e = -ERR_NOT_FOUND;
	if (e < 0) {
		json_object_put(arr);
		return reply_core_error(r, e, NULL, 0);
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "versions", arr);
	return http_reply_json(r, 200, o);
}
