/* Pushing: the checks before the write transaction, each change decided by its
 * collection's policy inside it, and the settling after (see sync.h). */
#include "sync.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../store/store.h"
#include "../util/clock.h"
#include "../util/config.h"
#include "../util/err.h"
#include "../util/jtext.h"
#include "../util/log.h"
#include "../store/blob.h"
#include "accounts.h"
#include "blobs.h"
#include "files/files.h"
#include "hub.h"
#include "policy.h"

#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* --- pushing --- */

void push_results_free(struct push_result *r, int n)
{
	for (int i = 0; i < n; i++) {
		free(r[i].server_data);
		free(r[i].case_other);
		json_object_put(r[i].merged_fields);
	}
}

struct policy_memo;
static int parse_budget(struct policy_memo *m, size_t n);

struct touched {
	int64_t space_id;
	struct policy_memo *budget;
	json_object *fields; /* field -> latest client_ts (string) of a change touching it */
	bool whole;          /* a put or delete happened: everything is touched */
	int64_t whole_ts;
};

static int collect_touched(void *arg, const struct change_row *ch)
{
	struct touched *t = arg;
	int64_t ts = 0;
	if (ch->client_ts)
		parse_rfc3339_ms(ch->client_ts, &ts);
	if (ch->op != OP_PATCH || !ch->data) {
		t->whole = true;
		if (ts > t->whole_ts)
			t->whole_ts = ts;
		return 0;
	}
	json_object *patch = NULL;
	size_t len = strlen(ch->data);
	if (parse_budget(t->budget, len) < 0)
		return -ERR_TOO_LARGE;
	if (jtext_parse(ch->data, len, JTEXT_DEPTH_MAX, &patch) < 0) {
		log_error("sync: change %lld of space %lld holds data that does not parse",
			  (long long)ch->seq, (long long)t->space_id);
		return -ERR_DB;
	}
	if (json_object_is_type(patch, json_type_object)) {
		json_object_object_foreach(patch, key, val)
		{
			(void)val;
			json_object_object_add(t->fields, key, json_object_new_int64(ts));
		}
	}
	json_object_put(patch);
	return 0;
}

static char *dup_json(json_object *o)
{
	return o ? strdup(json_object_to_json_string_ext(o, JSON_FLAGS)) : NULL;
}

/* What one request's changes share while they are applied: the collections' policies
 * seen (each read once), and what bounds the work and memory a request can put inside
 * the shared write transaction. */
struct policy_memo {
	int n;
	const char *name[8];
	enum policy pol[8];
	/* stored JSON parsed so far (records patched, earlier changes a merge looks through),
	 * against limits.push_stored_bytes */
	size_t parsed, parse_max;
	/* server data carried by conflict results so far, against limits.json_body_bytes:
	 * past it, conflicts report the server's version without its data */
	size_t server, server_max;
	int idx; /* the change being applied, for messages */
	struct verr *ve;
};

/* Counts n more bytes of stored JSON to parse; -ERR_TOO_LARGE past the budget. */
static int parse_budget(struct policy_memo *m, size_t n)
{
	m->parsed += n;
	if (m->parsed <= m->parse_max)
		return 0;
	if (!m->ve->n)
		verr_add(m->ve, "changes",
			 "A push may have the server parse at most %zu bytes of stored data "
			 "(limits.push_stored_bytes); changes[%d] passes it.",
			 m->parse_max, m->idx);
	return -ERR_TOO_LARGE;
}

static int policy_of(const struct store_ops *ops, void *txn, int64_t space_id,
		     struct policy_memo *m, const char *collection, enum policy *ret)
{
	for (int i = 0; i < m->n; i++)
		if (!strcmp(m->name[i], collection)) {
			*ret = m->pol[i];
			return 0;
		}
	int r = ops->push->push_policy(txn, space_id, collection, ret);
	if (r == 0 && m->n < 8) {
		m->name[m->n] = collection;
		m->pol[m->n++] = *ret;
	}
	return r;
}

static int apply_one(struct core *c, void *txn, const struct principal *p,
		     const struct space *sp, struct push_change *x, int idx,
		     struct push_result *res, struct verr *ve, struct policy_memo *memo)
{
	const struct store_ops *ops = c->store->ops;
	int64_t now = clock_wall_ms();
	memset(res, 0, sizeof *res);
	struct op_result prev;
	int r = ops->push->push_op_get(txn, p->device.id, x->op_id, &prev);
	if (r == 0) {
		res->status = OPS_DUPLICATE;
		res->original = prev.status;
		res->seq = prev.seq;
		res->version = prev.version;
		return 0;
	}
	if (r != -ERR_NOT_FOUND)
		return r;
	enum policy pol = POLICY_REJECT; /* a file's versions never merge: conflict copies */
	if (!x->file && (r = policy_of(ops, txn, sp->id, memo, x->collection, &pol)) < 0)
		return r;
	struct record cur = { 0 };
	/* A blind put (no base_version, no precondition) cannot conflict except in an append
	 * collection, which never overwrites: it needs no read. */
	bool blind = x->op == OP_PUT && x->base_version < 0 && pol != POLICY_APPEND && !x->lww_ts;
	/* Only a patch needs the data now (its target); a conflict may fetch it below. */
	r = blind ? -ERR_NOT_FOUND
		  : ops->push->push_record_get(txn, sp->id, x->collection, x->id, x->op == OP_PATCH,
					 &cur);
	bool exists = r == 0;
	if (r < 0 && r != -ERR_NOT_FOUND)
		return r;
	bool live = exists && !cur.deleted;
	int64_t cur_version = exists ? cur.version : 0;
	struct decide_in facts = { .op = x->op, .policy = pol, .base_version = x->base_version,
				.strict = x->strict, .ts_only = x->lww_ts, .exists = exists, .live = live,
				.cur_version = cur_version, .my_ts = now };
	if (x->client_ts)
		parse_rfc3339_ms(x->client_ts, &facts.my_ts);
	if (cur.client_ts[0])
		parse_rfc3339_ms(cur.client_ts, &facts.their_ts);
	else if (exists && x->lww_ts)
		facts.their_ts = cur.updated_ms; /* written without a client time: when it arrived */
	if (policy_needs_horizon(&facts) &&
	    (r = ops->push->push_horizon(txn, sp->id, &facts.horizon)) < 0) {
		record_clear(&cur);
		return r;
	}
	struct decide_out d = policy_decide(&facts);
	if (d.d == DECIDE_UNCHANGED) {
		record_clear(&cur);
		res->status = OPS_UNCHANGED;
		res->version = cur_version;
		struct op_result keep = { res->status, 0, res->version };
		return ops->push->push_op_put(txn, p->device.id, x->op_id, sp->id, &keep);
	}
	bool conflict = d.d == DECIDE_CONFLICT;
	res->reason = d.reason;
	json_object *patch = x->data; /* borrowed; replaced for partial merges */
	json_object *owned_patch = NULL;
	if (d.d == DECIDE_MERGE_FIELDS) {
		/* Only fields others changed since base_version can conflict. */
		struct touched t = { .space_id = sp->id, .budget = memo,
				     .fields = json_object_new_object() };
		r = ops->push->push_changes_since(txn, sp->id, x->collection, x->id, x->base_version,
						  collect_touched, &t);
		if (r < 0) {
			json_object_put(t.fields);
			record_clear(&cur);
			return r;
		}
		owned_patch = json_object_new_object();
		res->merged_fields = json_object_new_object();
		int kept = 0;
		json_object_object_foreach(x->data, key, val)
		{
			json_object *tsobj = NULL;
			bool touched = t.whole || json_object_object_get_ex(t.fields, key, &tsobj);
			int64_t other = t.whole ? t.whole_ts : json_object_get_int64(tsobj);
			if (tsobj && t.whole && json_object_get_int64(tsobj) > other)
				other = json_object_get_int64(tsobj);
			if (policy_field_wins(touched, facts.my_ts, other)) {
				json_object_object_add(owned_patch, key, json_object_get(val));
				kept++;
				if (touched)
					json_object_object_add(res->merged_fields, key,
							       json_object_new_string("client"));
			} else {
				json_object_object_add(res->merged_fields, key,
						       json_object_new_string("server"));
			}
		}
		json_object_put(t.fields);
		if (json_object_object_length(res->merged_fields) == 0) {
			json_object_put(res->merged_fields);
			res->merged_fields = NULL;
		}
		if (kept == 0) {
			conflict = true;
			res->reason = "lww_lost";
		}
		patch = owned_patch;
	}

	if (conflict) {
		res->status = OPS_CONFLICT;
		res->seq = 0;
		res->version = cur_version;
		res->has_server = true;
		res->server_version = cur_version;
		res->server_deleted = !live;
		/* The server's data rides along while the request's conflicts have carried less
		 * than limits.json_body_bytes; past that the client reads the record itself. */
		if (live && !cur.data && memo->server < memo->server_max) {
			record_clear(&cur);
			r = ops->push->push_record_get(txn, sp->id, x->collection, x->id, true, &cur);
			if (r < 0) {
				json_object_put(owned_patch);
				return r;
			}
		}
		size_t dlen = cur.data ? strlen(cur.data) : 0;
		if (live && memo->server + dlen > memo->server_max) {
			res->server_data_omitted = true;
		} else {
			memo->server += dlen;
			res->server_data = cur.data; /* moved */
			cur.data = NULL;
		}
	} else {
		char *log_data = NULL, *rec_data = NULL;
		const char *put_text = NULL; /* borrowed from x->data, serialized by validate */
		if (x->op == OP_PUT && x->text) {
			put_text = x->text; /* a file's manifest, canonical */
		} else if (x->op == OP_PUT) {
			put_text = json_object_to_json_string_ext(x->data, JSON_FLAGS);
		} else if (x->op == OP_PATCH) {
			/* Stored data is parsed as deep as any configuration ever allowed, so
			 * data kept under a higher limits.json_depth stays patchable. */
			json_object *target = NULL;
			size_t clen = cur.data ? strlen(cur.data) : 0;
			if (parse_budget(memo, clen) < 0) {
				json_object_put(owned_patch);
				record_clear(&cur);
				return -ERR_TOO_LARGE;
			}
			if (cur.data && jtext_parse(cur.data, clen, JTEXT_DEPTH_MAX, &target) < 0) {
				log_error("sync: record %s/%s of space %lld holds data that does not "
					  "parse",
					  x->collection, x->id, (long long)sp->id);
				json_object_put(owned_patch);
				record_clear(&cur);
				return -ERR_DB;
			}
			json_object *merged = json_merge_patch(target, patch);
			json_object_put(target);
			log_data = dup_json(patch);
			rec_data = merged ? dup_json(merged) : NULL;
			json_object_put(merged);
			if (!log_data || !rec_data) {
				free(log_data);
				free(rec_data);
				json_object_put(owned_patch);
				record_clear(&cur);
				return -ERR_NOMEM;
			}
			/* the record a patch makes is held to the same limit as one put whole */
			size_t rlen = strlen(rec_data);
			if (rlen > (size_t)limits_cfg(c->cfg)->record_bytes) {
				verr_add(ve, "data",
					 "changes[%d]: patched, the record is %zu bytes; the limit "
					 "(limits.record_bytes) is %lld",
					 idx, rlen, (long long)limits_cfg(c->cfg)->record_bytes);
				free(log_data);
				free(rec_data);
				json_object_put(owned_patch);
				record_clear(&cur);
				return -ERR_INVALID;
			}
		}
		struct change_in in = { .collection = x->collection, .record_id = x->id,
					.op_id = x->op_id, .client_ts = x->client_ts, .op = x->op,
					.data = put_text ? put_text : log_data,
					.record_data = put_text ? put_text : rec_data,
					.device_id = p->device.id,
					.blobs = x->blobs,
					.nblobs = x->nblobs,
					.blobs_json = x->blobs_json,
					.path = x->op == OP_PUT ? x->path : NULL,
					.path_fold = x->op == OP_PUT ? x->path_fold : NULL };
		int64_t seq = 0;
		r = 0;
		if (x->file && x->op == OP_PUT)
			r = files_apply(c, txn, p, sp, x, idx, &res->case_other, &res->reason, ve);
		if (r == 0)
			r = ops->push->push_append(txn, sp->id, &in, now, &seq);
		if (rec_data != log_data)
			free(rec_data);
		free(log_data);
		if (r < 0) {
			json_object_put(owned_patch);
			record_clear(&cur);
			return r;
		}
		if (r == 1) { /* a file where the tree has a directory, or the reverse */
			res->status = OPS_CONFLICT;
			res->version = cur_version;
			res->has_server = true;
			res->server_version = cur_version;
			res->server_deleted = !live;
		} else {
			res->status = OPS_APPLIED;
			res->seq = seq;
			res->version = seq;
		}
	}
	json_object_put(owned_patch);
	record_clear(&cur);
	struct op_result keep = { res->status, res->seq, res->version };
	return ops->push->push_op_put(txn, p->device.id, x->op_id, sp->id, &keep);
}

int sync_push_check(struct core *c, struct push_job *j)
{
	memset(j->results, 0, sizeof *j->results * (size_t)j->n);
	if (j->sp->role > ROLE_WRITER)
		return -ERR_READ_ONLY;
	int64_t now = clock_wall_ms();
	int r = files_prepare(c->cfg, j->changes, j->n, j->arena, now, &j->ve);
	if (r == 0)
		r = sync_changes_validate(c->cfg, j->changes, j->n, now, &j->ve);
	if (r == 0)
		r = sync_changes_blobs(j->changes, j->n, j->arena, &j->blobs, &j->nblobs);
	if (r < 0 || j->nblobs == 0)
		return r;
	/* Naming a blob shares it with the space's members: only what the pusher can read.
	 * Judged here, on a snapshot, not inside the shared write transaction (a maximal
	 * request's checks held every other push up for seconds). */
	bool *ok = arena_alloc(j->arena, sizeof *ok * (size_t)j->nblobs);
	if (!ok)
		return -ERR_NOMEM;
	/* held in the same snapshot as readable: a release committing between two reads
	 * would otherwise pass as "readable, not held" and go unchecked at the commit */
	j->held = arena_alloc(j->arena, sizeof *j->held * (size_t)j->nblobs);
	if (!j->held)
		return -ERR_NOMEM;
	int64_t *sizes = arena_alloc(j->arena, sizeof *sizes * (size_t)j->nblobs);
	if (!sizes)
		return -ERR_NOMEM;
	r = c->store->ops->blobmeta->blob_readable(c->store, j->p->user.id, j->blobs, j->nblobs,
						   ok, j->held, sizes);
	for (int i = 0; r == 0 && i < j->nblobs; i++) {
		if (ok[i])
			continue;
		for (int k = 0; k < j->n; k++)
			for (int b = 0; b < j->changes[k].nblobs; b++)
				if (!strcmp(j->changes[k].blobs[b], j->blobs[i]) && !j->ve.n)
					verr_add(&j->ve, "blobs",
						 j->changes[k].file
							 ? "changes[%d]: chunk %s is not one you can "
							   "read: upload it first"
							 : "changes[%d]: blob %.16s... is not one you "
							   "can read",
						 k, j->blobs[i]);
		r = -ERR_BLOB_MISSING;
	}
	/* a manifest's chunks must be the sizes it says: the file's bytes add up */
	if (r == 0)
		r = files_check_sizes(j->changes, j->n, j->blobs, sizes, j->nblobs, &j->ve);
	/* Those the pusher held must still be held at the commit (push_blobs_touch): releasing
	 * one meanwhile would leave the change naming a blob nobody pays for. */
	return r;
}

int sync_push_apply(struct core *c, void *txn, struct push_job *j)
{
	struct policy_memo memo = { .parse_max = (size_t)limits_cfg(c->cfg)->push_stored_bytes,
				    .server_max = (size_t)limits_cfg(c->cfg)->json_body_bytes,
				    .ve = &j->ve };
	int bad = 0;
	/* Each blob named must still be there (collection decides in a transaction too), and
	 * is touched, so it outlives its references by blobs.gc_grace. */
	int r = j->nblobs ? c->store->ops->blobmeta->push_blobs_touch(txn, j->p->user.id, j->blobs, j->held,
							    j->nblobs, clock_wall_ms(), &bad)
			  : 0;
	if (r == -ERR_NOT_FOUND) {
		verr_add(&j->ve, "blobs",
			 "blob %.16s... is no longer stored, or you released it: upload it again",
			 j->blobs[bad]);
		return -ERR_BLOB_MISSING;
	}
	for (int i = 0; i < j->n && r >= 0; i++) {
		memo.idx = i;
		r = apply_one(c, txn, j->p, j->sp, &j->changes[i], i, &j->results[i], &j->ve,
			      &memo);
	}
	if (r >= 0 && j->in_txn)
		r = j->in_txn(c, txn, j);
	return r;
}

void sync_push_settle(struct core *c, struct push_job *j)
{
	if (j->rc < 0) {
		push_results_free(j->results, j->n);
		memset(j->results, 0, sizeof *j->results * (size_t)j->n);
		return;
	}
	int64_t head = j->sp->head_seq;
	for (int i = 0; i < j->n; i++)
		if (j->results[i].seq > head)
			head = j->results[i].seq;
	j->head = head;
	if (c->hub && head > j->sp->head_seq)
		hub_notify(c->hub, j->sp->id, j->sp->epoch, head);
}

void sync_push_run(struct core *c, struct push_job *j)
{
	void *txn = NULL;
	if (j->rc == 0)
		j->rc = c->store->ops->push->push_begin(c->store, &txn);
	if (j->rc == 0)
		j->rc = c->store->ops->push->push_end(c->store, txn, sync_push_apply(c, txn, j));
	sync_push_settle(c, j);
}

int sync_push(struct core *c, const struct principal *p, const struct space *sp,
	      struct push_change *changes, int n, struct push_result *results, int64_t *ret_head,
	      struct verr *ve)
{
	struct arena a = ARENA_INIT;
	struct push_job j = { .p = p, .sp = sp, .changes = changes, .n = n, .results = results,
			      .arena = &a };
	j.rc = sync_push_check(c, &j);
	sync_push_run(c, &j);
	arena_free(&a);
	*ve = j.ve;
	*ret_head = j.head;
	return j.rc;
}
