/* /api/v1/spaces/{space}/changes: push (through the committer) and pull (with
 * long-poll and the page cache). */
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
#include "../util/clock.h"
#include "../util/conditional.h"
#include "../util/config.h"
#include "../util/err.h"
#include "../util/jtext.h"
#include "app.h"
#include "handlers.h"
#include "helpers.h"
#include "jsonout.h"

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
	const struct principal *p = space_or_reply(r, &sp);
	if (!p || !object_or_reply(r, false))
		return 0;
	struct core *c = core_of(r);
	struct push_change *ch = NULL;
	int n = 0;
	struct verr ve = { 0 };
	int e = sync_push_parse(c->cfg, r->json, &r->arena, &ch, &n, &ve);
	if (e < 0)
		return reply_core_error(r, e, &ve, 0);
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
	int64_t space_id, since;
	char epoch[SPACE_EPOCH_LEN + 1];       /* the space's */
	char epoch_asked[SPACE_EPOCH_LEN + 1]; /* the cursor's, "" when none was sent */
	int limit;
	struct buf out;
	int count;
	int64_t last;
	struct app *app;
	int64_t ts_ms; /* the server time last formatted into ts */
	char ts[CLOCK_RFC3339_LEN];
};

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

/* Reads one page into pl->out through core (which checks the cursor); *ret_head is the
 * space's head. */
static int pull_page(struct pull *pl, const struct principal *p, const struct space *sp,
		     int64_t *ret_head, struct verr *ve)
{
	buf_reset(&pl->out);
	pl->count = 0;
	pl->last = pl->since;
	int e = buf_puts(&pl->out, "{\"changes\":[");
	if (e < 0)
		return e;
	struct pull_at at = { .since = pl->since, .limit = pl->limit,
			      .epoch = pl->epoch_asked[0] ? pl->epoch_asked : NULL };
	return sync_pull_page(pl->app->core, p, sp, &at, emit_change, pl, ret_head, ve);
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

/* A pull's failure; a cursor that expired names the space's epoch, so the device knows
 * which log it bootstraps into. */
static int reply_pull_error(struct req *r, int e, const struct verr *ve, const struct space *sp)
{
	json_object *extra = NULL;
	if (e == -ERR_CURSOR_EXPIRED) {
		extra = json_object_new_object();
		json_object_object_add(extra, "epoch", json_object_new_string(sp->epoch));
	}
	return reply_core_error_ext(r, e, ve, 0, extra);
}

static int pull_again(struct req *r)
{
	struct pull *pl = r->ctx;
	/* Whatever woke it, the caller must still be who they were and still see the space:
	 * a revocation, a logout, a removal or a disabling since the pull parked is answered
	 * as a fresh request would be (401, 403 or 404), never with newer data. */
	if (app_recheck_route_or_reply(r) < 0)
		return 0;
	struct space sp;
	const struct principal *p = space_or_reply(r, &sp);
	if (!p)
		return 0;
	int64_t woken = pl->w.woken_head;
	if (cached_page(r, pl, woken))
		return 0;
	int64_t head = 0;
	struct verr ve = { 0 };
	int e = pull_page(pl, p, &sp, &head, &ve);
	if (e < 0)
		return reply_pull_error(r, e, &ve, &sp);
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
	const struct principal *p = space_or_reply(r, &sp);
	if (!p)
		return 0;
	struct app *app = r->app;
	const struct config *cfg = app->cfg;
	struct verr ve = { 0 };
	int64_t since = 0, limit = 100, wait = 0;
	http_query_int(r, "since", &since, 0, INT64_MAX, &ve);
	http_query_int(r, "limit", &limit, 1, limits_cfg(cfg)->page, &ve);
	http_query_int(r, "wait", &wait, 0, limits_cfg(cfg)->wait_ms / 1000, &ve);
	const char *epoch = http_query(r, "epoch");
	if (epoch && strlen(epoch) > SPACE_EPOCH_LEN)
		epoch = "-"; /* no epoch is that long: it is another log's */
	if (ve.n)
		return reply_core_error(r, -ERR_INVALID, &ve, 0);
	struct pull *pl = calloc(1, sizeof *pl);
	if (!pl)
		return http_reply_error(r, AE_INTERNAL, NULL, NULL);
	pl->r = r;
	pl->app = app;
	pl->space_id = sp.id;
	snprintf(pl->epoch, sizeof pl->epoch, "%s", sp.epoch);
	snprintf(pl->epoch_asked, sizeof pl->epoch_asked, "%s", epoch ? epoch : "");
	pl->since = since;
	pl->limit = (int)limit;
	buf_init(&pl->out, (size_t)limits_cfg(cfg)->page * ((size_t)limits_cfg(cfg)->record_bytes + 1024));
	r->ctx = pl;
	r->ctx_free = pull_free;
	int64_t head = 0;
	int e = pull_page(pl, p, &sp, &head, &ve);
	if (e < 0)
		return reply_pull_error(r, e, &ve, &sp);
	if (pl->count > 0 || wait == 0 || !app->hub)
		return pull_reply(r, pl, head);
	/* Nothing newer: wait without a thread, woken by the next push to this space. */
	pl->w.wake = pull_wake;
	pl->w.arg = pl;
	http_suspend(r);
	http_on_gone(r, pull_gone, pl);
	if (sync_pull_wait(app->core, p, &sp, since,
			   clock_mono_ns() + (uint64_t)wait * 1000000000u, &pl->w) == 1)
		http_resume_call(r, pull_again);
	return 0;
}
