/* /api/v1/spaces/{space}/records: listing, one record (with HTTP preconditions), history. */
#include <json-c/json.h>
#include <pthread.h>
#include <stdint.h>
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

/* --- records --- */

struct rec_list {
	struct buf out;
	int e;
	int count, limit;
	bool more; /* a record past the page was seen */
	char last_coll[COLLECTION_MAX + 1], last_id[RECORD_ID_MAX + 1];
	struct rfc3339_memo ts;
	int skipped;  /* records left out of a snapshot so far */
	bool any_key; /* last_coll and last_id are set */
};

enum { SKIP_PER_RECORD = 100 };

/* One record as JSON text: its collection and id were checked to need no escaping, and
 * its data is stored JSON (written as a pull writes changes: json-c objects cost most of
 * a page's CPU). */
static int add_record(void *arg, const char *coll, const char *id, const struct record *rec)
{
	struct rec_list *l = arg;
	if (rec && l->count == l->limit) { /* a record beyond the page */
		l->more = true;
		return -1;
	}
	if (!rec) {
		/* left out of a snapshot (created after it): a page scans at most 100 of
		 * these per record asked for, then ends early with more (a device
		 * bootstrapping at an old snapshot of a space that has grown a lot) */
		if (++l->skipped > SKIP_PER_RECORD * l->limit) {
			l->more = true;
			return -1;
		}
		goto remember;
	}
	struct buf *b = &l->out;
	int *e = &l->e;
	if (l->count)
		PUT_LIT(b, e, ",");
	PUT_LIT(b, e, "{\"collection\":\"");
	put_str(b, e, coll);
	PUT_LIT(b, e, "\",\"id\":\"");
	put_str(b, e, id);
	PUT_LIT(b, e, "\",\"version\":");
	put_i64(b, e, rec->version);
	PUT_LIT(b, e, ",\"data\":");
	put_str(b, e, rec->data ? rec->data : "null");
	put_str(b, e, rec->deleted ? ",\"deleted\":true" : ",\"deleted\":false");
	if (rec->updated_ms) {
		PUT_LIT(b, e, ",\"updated_at\":\"");
		put_str(b, e, clock_rfc3339_memo(&l->ts, rec->updated_ms));
		PUT_LIT(b, e, "\"}");
	} else {
		PUT_LIT(b, e, ",\"updated_at\":null}");
	}
	if (*e < 0)
		return -1;
	l->count++;
remember:
	/* both were checked against these sizes when they were stored */
	size_t cn = strnlen(coll, sizeof l->last_coll - 1), in = strnlen(id, sizeof l->last_id - 1);
	memcpy(l->last_coll, coll, cn);
	l->last_coll[cn] = '\0';
	memcpy(l->last_id, id, in);
	l->last_id[in] = '\0';
	l->any_key = true;
	return 0;
}

int h_records_list(struct req *r)
{
	struct space sp;
	if (!space_or_reply(r, &sp))
		return 0;
	struct verr ve = { 0 };
	const char *coll = http_query(r, "collection");
	const char *after = http_query(r, "after");
	const char *after_coll = http_query(r, "after_collection");
	int64_t limit = 100;
	const struct limits_config *lim = limits_cfg(core_of(r)->cfg);
	http_query_int(r, "limit", &limit, 1, lim->page, &ve);
	int64_t snapshot = -1;
	http_query_int(r, "snapshot", &snapshot, 0, INT64_MAX, &ve);
	const char *epoch = http_query(r, "epoch"); /* judged by core, whatever its length */
	if (coll && !valid_collection(coll))
		verr_add(&ve, "collection", "is not a collection name");
	if (ve.n)
		return reply_core_error(r, -ERR_INVALID, &ve, 0);
	struct rec_list l = { .limit = (int)limit };
	buf_init(&l.out, (size_t)limit * ((size_t)lim->record_bytes + 1024) + 4096);
	PUT_LIT(&l.out, &l.e, "{\"records\":[");
	int64_t as_of = 0;
	int e = sync_records_list(core_of(r), r->auth, &sp, coll, after_coll, after, (int)limit + 1,
				  snapshot, epoch, add_record, &l, &as_of, &ve);
	if (e == 0 && l.e < 0)
		e = l.e;
	if (e < 0) {
		buf_free(&l.out);
		json_object *extra = NULL;
		if (e == -ERR_CURSOR_EXPIRED) { /* names the epoch to bootstrap into */
			extra = json_object_new_object();
			json_object_object_add(extra, "epoch", json_object_new_string(sp.epoch));
		}
		return reply_core_error_ext(r, e, ve.detail[0] ? &ve : NULL, 0, extra);
	}
	PUT_LIT(&l.out, &l.e, "],\"as_of_seq\":");
	put_i64(&l.out, &l.e, as_of);
	PUT_LIT(&l.out, &l.e, ",\"snapshot\":");
	put_i64(&l.out, &l.e, as_of);
	PUT_LIT(&l.out, &l.e, ",\"epoch\":\"");
	put_str(&l.out, &l.e, sp.epoch);
	put_str(&l.out, &l.e, l.more ? "\",\"more\":true" : "\",\"more\":false");
	if (l.any_key) {
		PUT_LIT(&l.out, &l.e, ",\"next\":{\"after_collection\":\"");
		put_str(&l.out, &l.e, l.last_coll);
		PUT_LIT(&l.out, &l.e, "\",\"after\":\"");
		put_str(&l.out, &l.e, l.last_id);
		PUT_LIT(&l.out, &l.e, "\",\"snapshot\":");
		put_i64(&l.out, &l.e, as_of);
		PUT_LIT(&l.out, &l.e, "}}");
	} else {
		PUT_LIT(&l.out, &l.e, ",\"next\":null}");
	}
	e = l.e == 0 ? http_reply_bytes(r, 200, "application/json", l.out.ptr, l.out.len)
		     : reply_core_error(r, l.e, NULL, 0);
	buf_free(&l.out);
	return e;
}

/* The collection and id in the path, checked; NULL after replying. */
static bool record_ref_or_reply(struct req *r, const char **coll, const char **id)
{
	*coll = http_param(r, "collection");
	*id = http_param(r, "id");
	if (!*coll || !*id || !valid_collection(*coll) || !valid_record_id(*id)) {
		http_reply_error(r, AE_NOT_FOUND, NULL, NULL);
		return false;
	}
	return true;
}

/* A record's entity tag is its version, quoted; set_etag also sends it. */
static void format_etag(int64_t version, char out[32])
{
	snprintf(out, 32, "\"%lld\"", (long long)version);
}

static void set_etag(struct req *r, int64_t version)
{
	char etag[32];
	format_etag(version, etag);
	http_add_header(r, "ETag", etag);
}

int h_record_get(struct req *r)
{
	struct space sp;
	const char *coll, *id;
	if (!space_or_reply(r, &sp) || !record_ref_or_reply(r, &coll, &id))
		return 0;
	struct record rec;
	int e = sync_record_get(core_of(r), r->auth, &sp, coll, id, &rec);
	if (e < 0)
		return reply_core_error(r, e, NULL, 0);
	char etag[32];
	format_etag(rec.version, etag);
	http_add_header(r, "ETag", etag);
	const char *inm = http_header(r, "If-None-Match");
	if (inm && cond_etag_listed(inm, etag)) {
		record_clear(&rec);
		return http_reply_bytes(r, 304, NULL, "", 0);
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "collection", json_object_new_string(coll));
	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "version", json_object_new_int64(rec.version));
	json_object_object_add(o, "data", rec.data ? jtext_raw(rec.data) : NULL);
	json_object_object_add(o, "updated_at", json_time(rec.updated_ms));
	record_clear(&rec);
	return http_reply_json(r, 200, o);
}

/* PUT and DELETE of one record: a one-change push with a server-made op id. */
static int write_record(struct req *r, enum change_op op)
{
	struct space sp;
	const char *coll, *id;
	const struct principal *p = space_or_reply(r, &sp);
	if (!p || !record_ref_or_reply(r, &coll, &id))
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
	if (!space_or_reply(r, &sp) || !record_ref_or_reply(r, &coll, &id))
		return 0;
	json_object *arr = json_object_new_array();
	int e = sync_record_history(core_of(r), r->auth, &sp, coll, id, add_history, arr);
	if (e < 0) {
		json_object_put(arr);
		return reply_core_error(r, e, NULL, 0);
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "versions", arr);
	return http_reply_json(r, 200, o);
}
