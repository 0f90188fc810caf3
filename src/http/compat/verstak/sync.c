/* Verstak's op log: push (every op checked first, then stored in one transaction as a
 * record of the vault space's collection "ops", with advisory conflicts) and pull by the
 * space's sequence, in pages. A retried op is recognised by its op_id and listed as
 * accepted again, so a desktop whose answer was lost is not stuck resending it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../core/blobs.h"
#include "../../../core/commit.h"
#include "../../../core/errors.h"
#include "../../../core/sync.h"
#include "../../../store/blob.h"
#include "../../../util/clock.h"
#include "../../../util/jtext.h"
#include "../../helpers.h"
#include "verstak.h"

static const struct verstak_config *cfg_of(struct req *r)
{
	return verstak_cfg(((struct app *)r->app)->cfg);
}

/* An integer member as Go decoded it into an int: absent or null is 0; another type (a
 * fraction included) fails the whole body. false after answering. */
static bool vk_int(struct req *r, json_object *o, const char *key, int64_t *ret)
{
	json_object *v = NULL;
	*ret = 0;
	if (!json_object_object_get_ex(o, key, &v) || !v)
		return true;
	if (!json_object_is_type(v, json_type_int)) {
		vk_error(r, 400, "invalid_json", "invalid JSON request");
		return false;
	}
	*ret = json_object_get_int64(v);
	return true;
}


static bool blank(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	return !*s;
}

/* The checks its server made before any store work, in its order; false after answering. */
static bool op_or_reply(struct req *r, json_object *jo, struct vk_op *op)
{
	if (!json_object_is_type(jo, json_type_object)) {
		vk_error(r, 400, "invalid_json", "invalid JSON request");
		return false;
	}
	static const char *const req_names[] = { "op_id", "entity_type", "entity_id", "op_type" };
	static const size_t req_max[] = { 128, 64, 4096, 64 };
	const char **req_vals[] = { &op->op_id, &op->entity_type, &op->entity_id, &op->op_type };
	for (int i = 0; i < 4; i++)
		if (!(*req_vals[i] = vk_str(r, jo, req_names[i])))
			return false;
	if (!(op->payload = vk_str(r, jo, "payload_json")) ||
	    !(op->created_at = vk_str(r, jo, "created_at")) ||
	    !vk_int(r, jo, "client_sequence", &op->client_seq) ||
	    !vk_int(r, jo, "last_seen_server_seq", &op->last_seen))
		return false;
	char msg[64];
	for (int i = 0; i < 4; i++)
		if (blank(*req_vals[i])) {
			snprintf(msg, sizeof msg, "%s is required", req_names[i]);
			vk_error(r, 400, "invalid_operation", msg);
			return false;
		}
	for (int i = 0; i < 4; i++)
		if (strlen(*req_vals[i]) > req_max[i]) {
			snprintf(msg, sizeof msg, "%s is too long", req_names[i]);
			vk_error(r, 400, "field_too_long", msg);
			return false;
		}
	if (strlen(op->created_at) > 64) { /* its server had no bound; ours keeps records small */
		vk_error(r, 400, "field_too_long", "created_at is too long");
		return false;
	}
	if ((int64_t)strlen(op->payload) > cfg_of(r)->max_payload_json) {
		vk_error(r, 413, "payload_too_large", "payload_json is too large");
		return false;
	}
	json_object *pj = NULL;
	if (*op->payload) {
		/* strict JSON (RFC 8259), as Go's json.Valid: any value, a bare number included */
		const struct limits_config *lim = limits_cfg(core_of(r)->cfg);
		size_t len = strlen(op->payload);
		struct jtext_scan sc;
		if (jtext_scan(op->payload, len, (int)lim->json_depth, lim->json_values, &sc) < 0 ||
		    jtext_parse(op->payload, len, (int)lim->json_depth, &pj) < 0) {
			vk_error(r, 400, "invalid_payload", "payload_json must be valid JSON");
			return false;
		}
	}
	if (op->client_seq < 0 || op->last_seen < 0) {
		json_object_put(pj);
		vk_error(r, 400, "invalid_operation", "operation sequences must be non-negative");
		return false;
	}
	/* a file op: its bytes by reference to an uploaded blob, never inline */
	bool ok = true;
	json_object *b = NULL, *sha = NULL, *size = NULL;
	if (!strcmp(op->entity_type, "file") && json_object_is_type(pj, json_type_object)) {
		if (json_object_object_get_ex(pj, "dataBase64", NULL)) {
			vk_error(r, 400, "inline_binary_forbidden",
				 "file content must be uploaded as a blob");
			ok = false;
		} else if (json_object_object_get_ex(pj, "blob", &b) && b) {
			if (!json_object_is_type(b, json_type_object) ||
			    !json_object_object_get_ex(b, "sha256", &sha) ||
			    !json_object_is_type(sha, json_type_string) ||
			    !vk_sha256_ok(json_object_get_string(sha)) ||
			    (json_object_object_get_ex(b, "size", &size) && size &&
			     (!json_object_is_type(size, json_type_int) ||
			      json_object_get_int64(size) < 0))) {
				vk_error(r, 400, "invalid_blob_reference", "invalid blob reference");
				ok = false;
			} else {
				op->blob = arena_strndup(&r->arena, json_object_get_string(sha), 64);
				op->blob_size = size ? json_object_get_int64(size) : 0;
				ok = op->blob != NULL;
				if (!ok)
					vk_error(r, 500, "internal_error", "internal error");
			}
		}
	} else if (!strcmp(op->entity_type, "file") && pj) {
		vk_error(r, 400, "invalid_payload", "payload_json of a file must be an object");
		ok = false;
	}
	json_object_put(pj);
	return ok;
}

/* The blob a file op names: readable by the pusher (uploaded by its user, or named in a
 * space it reads) and of the size the op says; false after answering. */
static bool blob_or_reply(struct req *r, const struct vk_device *d, const struct vk_op *op)
{
	struct blob_reader *rd = NULL;
	int e = blob_open(core_of(r), &d->p, op->blob, &rd);
	if (e == -ERR_NOT_FOUND) {
		vk_error(r, 400, "blob_not_owned", "blob must be uploaded before its operation");
		return false;
	}
	if (e < 0) {
		vk_error(r, 500, "internal_error", "internal error");
		return false;
	}
	bool same = (int64_t)rd->size == op->blob_size;
	blob_reader_close(rd);
	if (!same)
		vk_error(r, 400, "invalid_blob_reference", "blob size does not match uploaded content");
	return same;
}

/* The op_id itself when it is a Cairn op id, else prefix and 40 hex digits of its SHA-256. */
static const char *hashed(const char *op_id, const char *prefix, char buf[VK_RECORD_ID_LEN])
{
	if (valid_op_id(op_id))
		return op_id;
	uint8_t h[32];
	token_hash(op_id, h);
	int k = snprintf(buf, VK_RECORD_ID_LEN, "%s", prefix);
	for (int i = 0; i < 20; i++)
		k += snprintf(buf + k, VK_RECORD_ID_LEN - (size_t)k, "%02x", h[i]);
	return buf;
}

/* A record id: "@" is in no op id, so a hashed one is never another op's own id. */
const char *vk_record_id(const char *op_id, char buf[VK_RECORD_ID_LEN])
{
	return hashed(op_id, "vk@", buf);
}

const char *vk_op_id(const char *op_id, char buf[VK_RECORD_ID_LEN])
{
	return hashed(op_id, "vkh:", buf);
}

static const char *in_arena(struct req *r, const char *op_id,
			    const char *(*fn)(const char *, char *))
{
	char buf[VK_RECORD_ID_LEN];
	const char *id = fn(op_id, buf);
	return id == op_id ? id : arena_strndup(&r->arena, id, strlen(id));
}

/* --- push --- */

struct push_ctx {
	struct push_job j;
	const struct vk_device *d;
	struct vk_op *ops;
	int n;
	json_object **conflicts; /* per op */
	bool *dropped;           /* per op: a repeat of an earlier op of the same push */
};

static void push_free(void *arg)
{
	struct push_ctx *t = arg;
	for (int i = 0; i < t->j.n; i++)
		json_object_put(t->j.changes[i].data);
	for (int i = 0; t->conflicts && i < t->n; i++)
		json_object_put(t->conflicts[i]);
}

static int push_answer(struct req *r)
{
	struct push_ctx *t = r->ctx;
	if (t->j.rc < 0) {
		push_results_free(t->j.results, t->j.n);
		if (t->j.rc == -ERR_QUOTA)
			return vk_error(r, 413, "quota_exceeded", "quota exceeded");
		return vk_error(r, t->j.rc == -ERR_LOCKED ? 503 : 500, "internal_error",
				"internal error");
	}
	json_object *accepted = NULL, *conflicts = NULL;
	int count = 0;
	for (int i = 0, k = 0; i < t->n; i++) {
		if (t->dropped[i])
			continue;
		/* a conflict is an op the vault has already, from another device: stored once */
		const struct push_result *res = &t->j.results[k++];
		bool ok = res->status == OPS_APPLIED || res->status == OPS_CONFLICT ||
			  (res->status == OPS_DUPLICATE &&
			   (res->original == OPS_APPLIED || res->original == OPS_CONFLICT));
		if (!ok)
			continue;
		if (!accepted)
			accepted = json_object_new_array();
		json_object_array_add(accepted, json_object_new_string(t->ops[i].op_id));
		count++;
		for (size_t m = 0; t->conflicts[i] && m < json_object_array_length(t->conflicts[i]);
		     m++) {
			if (!conflicts)
				conflicts = json_object_new_array();
			json_object_array_add(conflicts,
					      json_object_get(json_object_array_get_idx(t->conflicts[i], m)));
		}
	}
	push_results_free(t->j.results, t->j.n);
	json_object *o = json_object_new_object(); /* a map: keys sorted; empty lists are null */
	json_object_object_add(o, "accepted", accepted);
	json_object_object_add(o, "conflicts", conflicts);
	json_object_object_add(o, "count", json_object_new_int(count));
	return vk_reply(r, 200, o);
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

/* The op as the record its change stores. */
static json_object *op_record(const struct vk_device *d, const struct vk_op *op)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "op_id", json_object_new_string(op->op_id));
	json_object_object_add(o, "device_id", json_object_new_string(d->device_id));
	json_object_object_add(o, "entity_type", json_object_new_string(op->entity_type));
	json_object_object_add(o, "entity_id", json_object_new_string(op->entity_id));
	json_object_object_add(o, "op_type", json_object_new_string(op->op_type));
	json_object_object_add(o, "payload_json", json_object_new_string(op->payload));
	json_object_object_add(o, "client_sequence", json_object_new_int64(op->client_seq));
	json_object_object_add(o, "last_seen_server_seq", json_object_new_int64(op->last_seen));
	json_object_object_add(o, "created_at", json_object_new_string(op->created_at));
	return o;
}

int vk_push(struct req *r)
{
	const struct vk_device *d = vk_device_or_reply(r);
	if (!d)
		return 0;
	json_object *b = vk_body_or_reply(r);
	if (!b)
		return 0;
	const char *device = vk_str(r, b, "device_id");
	const char *idem = device ? vk_str(r, b, "idempotency_key") : NULL;
	if (!idem)
		return 0;
	json_object *ops = NULL;
	if (json_object_object_get_ex(b, "ops", &ops) && ops &&
	    !json_object_is_type(ops, json_type_array))
		return vk_error(r, 400, "invalid_json", "invalid JSON request");
	size_t n = ops ? json_object_array_length(ops) : 0;
	if ((int64_t)n > cfg_of(r)->max_push_operations)
		return vk_error(r, 413, "too_many_operations", "too many operations");
	if (strlen(device) > 128)
		return vk_error(r, 400, "field_too_long", "device_id is too long");
	if (strlen(idem) > 128)
		return vk_error(r, 400, "field_too_long", "idempotency_key is too long");
	struct push_ctx *t = arena_alloc(&r->arena, sizeof *t);
	size_t m = n ? n : 1;
	if (t) {
		memset(t, 0, sizeof *t);
		t->ops = arena_alloc(&r->arena, sizeof *t->ops * m);
		t->conflicts = arena_alloc(&r->arena, sizeof *t->conflicts * m);
		t->dropped = arena_alloc(&r->arena, sizeof *t->dropped * m);
		t->j.changes = arena_alloc(&r->arena, sizeof *t->j.changes * m);
		t->j.results = arena_alloc(&r->arena, sizeof *t->j.results * m);
	}
	if (!t || !t->ops || !t->conflicts || !t->dropped || !t->j.changes || !t->j.results)
		return vk_error(r, 500, "internal_error", "internal error");
	memset(t->ops, 0, sizeof *t->ops * m);
	memset(t->conflicts, 0, sizeof *t->conflicts * m);
	memset(t->dropped, 0, sizeof *t->dropped * m);
	memset(t->j.results, 0, sizeof *t->j.results * m);
	t->d = d;
	t->n = (int)n;
	r->ctx = t;
	r->ctx_free = push_free;
	for (size_t i = 0; i < n; i++)
		if (!op_or_reply(r, json_object_array_get_idx(ops, i), &t->ops[i]))
			return 0;
	for (size_t i = 0; i < n; i++)
		if (t->ops[i].blob && !blob_or_reply(r, d, &t->ops[i]))
			return 0;
	/* the cursors the ops carry, as the space's seqs */
	struct vk_seqmap map;
	if (vk_seqmap_load(r, d, &map) < 0)
		return vk_error(r, 500, "internal_error", "internal error");
	for (size_t i = 0; i < n; i++) {
		struct vk_op *op = &t->ops[i];
		if (i > 0 && op->last_seen == t->ops[i - 1].last_seen)
			op->seen = t->ops[i - 1].seen;
		else if (vk_seq_internal(r, d, &map, op->last_seen, &op->seen) < 0)
			return vk_error(r, 500, "internal_error", "internal error");
	}
	if (vk_conflicts(r, d, &map, t->ops, t->n, cfg_of(r)->conflict_scan, t->conflicts) < 0)
		return vk_error(r, 500, "internal_error", "internal error");
	struct core *c = core_of(r);
	for (size_t i = 0; i < n; i++) {
		const struct vk_op *op = &t->ops[i];
		const char *id = in_arena(r, op->op_id, vk_record_id);
		const char *cairn_op = in_arena(r, op->op_id, vk_op_id);
		if (!id || !cairn_op)
			return vk_error(r, 500, "internal_error", "internal error");
		/* an op_id twice in one push: its server stored the first and ignored the rest */
		for (int k = 0; k < t->j.n; k++)
			if (!strcmp(t->j.changes[k].id, id))
				t->dropped[i] = true;
		if (t->dropped[i])
			continue;
		struct push_change *x = &t->j.changes[t->j.n];
		memset(x, 0, sizeof *x);
		x->op_id = cairn_op;
		x->collection = VERSTAK_OPS;
		x->id = id;
		x->op = OP_PUT;
		/* must not exist yet: op ids are Verstak's, for the whole vault, so one another
		 * device stored (a desktop paired again, the import, or a push a moment ago) is
		 * a conflict here, answered as already stored, never stored twice */
		x->base_version = 0;
		x->strict = true;
		x->data = op_record(d, op);
		if (op->blob) {
			char js[BLOB_HEX_LEN + 5];
			snprintf(js, sizeof js, "[\"%s\"]", op->blob);
			x->blobs = arena_alloc(&r->arena, sizeof *x->blobs);
			x->blobs_json = arena_strndup(&r->arena, js, strlen(js));
			if (!x->blobs || !x->blobs_json)
				return vk_error(r, 500, "internal_error", "internal error");
			x->blobs[0] = op->blob;
			x->nblobs = 1;
		}
		t->j.n++;
	}
	t->j.p = &d->p;
	t->j.sp = &d->sp;
	t->j.arena = &r->arena;
	t->j.rc = sync_push_check(c, &t->j);
	if (t->j.rc == -ERR_INVALID || t->j.rc == -ERR_TOO_LARGE) {
		char msg[200];
		snprintf(msg, sizeof msg, "%s", t->j.ve.n ? t->j.ve.e[0].msg : "invalid operation");
		return vk_error(r, t->j.rc == -ERR_TOO_LARGE ? 413 : 400, "invalid_operation", msg);
	}
	if (t->j.rc < 0)
		return vk_error(r, 500, "internal_error", "internal error");
	t->j.done = push_committed;
	t->j.arg = r;
	if (t->j.n && c->committer && committer_submit(c->committer, &t->j, park, r) == 0)
		return 0;
	if (t->j.n)
		sync_push_run(c, &t->j);
	return push_answer(r);
}

/* --- pull --- */

struct pull_page {
	const struct vk_seqmap *map;
	json_object *ops;
	int want, got;
	int64_t last; /* the last op's seq */
	bool more;
	int64_t read_to; /* the last change read */
};

static json_object *member(json_object *o, const char *key)
{
	json_object *v = NULL;
	json_object_object_get_ex(o, key, &v);
	return json_object_is_type(v, json_type_string) ? json_object_get(v)
							: json_object_new_string("");
}

/* Whether o is an op as the adapter and the import write them. */
static bool is_op(json_object *o)
{
	static const char *const keys[] = { "op_id", "device_id", "entity_type", "entity_id",
					     "op_type", "payload_json", "created_at" };
	json_object *v;
	if (!json_object_is_type(o, json_type_object))
		return false;
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (!json_object_object_get_ex(o, keys[i], &v) || !json_object_is_type(v, json_type_string))
			return false;
	return true;
}

static int page_change(void *arg, const struct change_row *ch)
{
	struct pull_page *pg = arg;
	if (ch->op == OP_DELETE || !ch->data || strcmp(ch->collection, VERSTAK_OPS)) {
		pg->read_to = ch->seq;
		return 0; /* not an op: written natively into the vault, and not the desktop's */
	}
	if (pg->got == pg->want) {
		pg->more = true;
		return -1;
	}
	json_object *d = json_tokener_parse(ch->data);
	pg->read_to = ch->seq;
	if (!is_op(d)) { /* written natively, not an op as ops are written: passed over */
		json_object_put(d);
		return 0;
	}
	int64_t shown = vk_seq_shown(pg->map, ch->seq, d);
	json_object *o = json_object_new_object(); /* a struct: its fields in their order */
	json_object_object_add(o, "op_id", member(d, "op_id"));
	json_object_object_add(o, "server_sequence", json_object_new_int64(shown));
	json_object_object_add(o, "device_id", member(d, "device_id"));
	json_object_object_add(o, "entity_type", member(d, "entity_type"));
	json_object_object_add(o, "entity_id", member(d, "entity_id"));
	json_object_object_add(o, "op_type", member(d, "op_type"));
	json_object_object_add(o, "payload_json", member(d, "payload_json"));
	json_object_object_add(o, "created_at", member(d, "created_at"));
	json_object_put(d);
	json_object_array_add(pg->ops, o);
	pg->got++;
	pg->last = shown;
	return 0;
}

int vk_pull(struct req *r)
{
	const struct vk_device *d = vk_device_or_reply(r);
	if (!d)
		return 0;
	json_object *b = vk_body_or_reply(r);
	if (!b)
		return 0;
	int64_t since = 0, limit = 0;
	if (!vk_int(r, b, "since_sequence", &since) || !vk_int(r, b, "page_limit", &limit))
		return 0;
	if (since < 0 || limit < 0)
		return vk_error(r, 400, "invalid_request",
				"sequence and page_limit must be non-negative");
	int64_t max = cfg_of(r)->max_pull_page, from = 0;
	struct vk_seqmap map;
	if (vk_seqmap_load(r, d, &map) < 0 || vk_seq_internal(r, d, &map, since, &from) < 0)
		return vk_error(r, 500, "internal_error", "internal error");
	struct pull_page pg = { .map = &map, .ops = json_object_new_array(),
				.want = (int)(limit >= 1 && limit <= max ? limit : max),
				.last = since, .read_to = from };
	int64_t head = d->sp.head_seq;
	struct verr ve = { 0 };
	while (!pg.more && pg.read_to < head) {
		struct pull_at at = { .since = pg.read_to, .limit = pg.want + 1, .append_only = true };
		int64_t before = pg.read_to;
		int e = sync_pull_page(core_of(r), &d->p, &d->sp, &at, page_change, &pg, &head, &ve);
		if (e == -ERR_CURSOR_EXPIRED) /* past the head: the vault has nothing after it */
			break;
		if (e < 0) {
			json_object_put(pg.ops);
			return vk_error(r, 500, "internal_error", "internal error");
		}
		if (pg.read_to == before)
			break;
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "has_more", json_object_new_boolean(pg.more));
	json_object_object_add(o, "ops", pg.ops);
	json_object_object_add(o, "page_last_sequence", json_object_new_int64(pg.last));
	int64_t shown_head = map.on && head <= map.last ? map.shown_last
							 : vk_seq_shown(&map, head, NULL);
	json_object_object_add(o, "server_sequence", json_object_new_int64(shown_head));
	return vk_reply(r, 200, o);
}
