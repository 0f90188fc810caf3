/* Verstak's conflict reports: for an op pushed with a cursor, the ops on the same entity
 * by other devices after that cursor. The vault's log is read from the lowest cursor of
 * the push to the head, passing over the pusher's own changes; what other devices wrote
 * there is remembered per (vault, device) as (seq, hash of the entity id), so the next
 * push from the same cursor reads only what came since. A desktop pushing a long backlog
 * in batches of 100 without pulling between them (as its sync does) then reads the log
 * once, not once per batch. The memory is a cache: bounded, and any push it cannot serve
 * reads the log itself. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../../../core/errors.h"
#include "../../../core/sync.h"
#include "../../helpers.h"
#include "verstak.h"

/* A change of another device in the vault: its seq and its entity id's hash. */
struct hit {
	int64_t seq;
	uint64_t h;
};

/* What one device's pushes learnt of its vault: every other device's op in (from, to]. */
struct memo {
	int64_t space_id, device_id;
	int64_t from, to;
	struct hit *v;
	int n;
	uint64_t used;
};

#define MEMOS 64        /* (vault, device) pairs remembered */
#define MEMO_HITS 4096  /* other devices' ops one remembers; more and it is dropped */

static pthread_mutex_t memo_lock = PTHREAD_MUTEX_INITIALIZER;
static struct memo memos[MEMOS];
static uint64_t memo_clock;

/* FNV-1a, 64 bits. */
static uint64_t hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ull;
	}
	return h;
}

/* The entity_id of an op's stored JSON without parsing it (the adapter and the import
 * write it as a plain member); NULL when it holds an escape (then parsed). */
static const char *entity_id_in(const char *data, size_t *len)
{
	const char *p = strstr(data, "\"entity_id\":\"");
	if (!p)
		return NULL;
	p += 13;
	size_t n = strcspn(p, "\"\\");
	if (p[n] != '"')
		return NULL;
	*len = n;
	return p;
}

struct scan {
	int64_t own_device, upto, last;
	struct hit *v;
	int n, cap;
	bool failed;
};

static int scan_change(void *arg, const struct change_row *ch)
{
	struct scan *s = arg;
	if (ch->seq > s->upto)
		return -1;
	s->last = ch->seq;
	if (ch->op == OP_DELETE || !ch->data || ch->device_id == s->own_device ||
	    strcmp(ch->collection, VERSTAK_OPS))
		return 0;
	size_t len = 0;
	const char *eid = entity_id_in(ch->data, &len);
	uint64_t h;
	if (eid) {
		h = hash(eid, len);
	} else {
		json_object *o = json_tokener_parse(ch->data), *v;
		if (!json_object_object_get_ex(o, "entity_id", &v) ||
		    !json_object_is_type(v, json_type_string)) { /* not an op as ops are written */
			json_object_put(o);
			return 0;
		}
		h = hash(json_object_get_string(v), strlen(json_object_get_string(v)));
		json_object_put(o);
	}
	if (s->n == s->cap) {
		int cap = s->cap ? 2 * s->cap : 64;
		struct hit *v = realloc(s->v, sizeof *v * (size_t)cap);
		if (!v) {
			s->failed = true;
			return -1;
		}
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = (struct hit){ ch->seq, h };
	return 0;
}

/* Reads (from, upto] of the vault, adding other devices' ops to s. */
static int scan(struct req *r, const struct vk_device *d, int64_t from, struct scan *s)
{
	struct verr ve = { 0 };
	for (s->last = from; s->last < s->upto && !s->failed;) {
		struct pull_at at = { .since = s->last, .limit = 1000, .append_only = true,
				      .peek = true };
		int64_t before = s->last, head = 0;
		int e = sync_pull_page(core_of(r), &d->p, &d->sp, &at, scan_change, s, &head, &ve);
		if (e < 0 && e != -ERR_CURSOR_EXPIRED)
			return e;
		if (e < 0 || s->last == before)
			break;
	}
	return s->failed ? -ERR_NOMEM : 0;
}

/* The memo of (space, device), copied into s (its hits from `from` on); whether it
 * covered from. */
static bool recall(int64_t space, int64_t device, int64_t from, struct scan *s, int64_t *ret_to,
		   int64_t *ret_from)
{
	bool ok = false;
	pthread_mutex_lock(&memo_lock);
	for (int i = 0; i < MEMOS; i++) {
		struct memo *m = &memos[i];
		if (m->space_id != space || m->device_id != device)
			continue;
		if (m->from <= from && m->to <= s->upto) {
			s->v = m->n ? malloc(sizeof *s->v * (size_t)m->n) : NULL;
			if (m->n && !s->v)
				break;
			if (m->n)
				memcpy(s->v, m->v, sizeof *s->v * (size_t)m->n);
			s->n = s->cap = m->n;
			*ret_to = m->to;
			*ret_from = m->from;
			m->used = ++memo_clock;
			ok = true;
		}
		break;
	}
	pthread_mutex_unlock(&memo_lock);
	return ok;
}

static void remember(int64_t space, int64_t device, int64_t from, const struct scan *s)
{
	pthread_mutex_lock(&memo_lock);
	struct memo *same = NULL, *empty = NULL, *oldest = &memos[0];
	for (int i = 0; i < MEMOS; i++) {
		struct memo *m = &memos[i];
		if (m->space_id == space && m->device_id == device)
			same = m;
		else if (!m->space_id && !empty)
			empty = m;
		if (m->used < oldest->used)
			oldest = m;
	}
	struct memo *slot = same ? same : empty ? empty : oldest;
	free(slot->v);
	memset(slot, 0, sizeof *slot);
	struct hit *v = s->n <= MEMO_HITS ? malloc(sizeof *v * (size_t)(s->n ? s->n : 1)) : NULL;
	if (v) {
		if (s->n)
			memcpy(v, s->v, sizeof *v * (size_t)s->n);
		*slot = (struct memo){ space, device, from, s->upto, v, s->n, ++memo_clock };
	}
	pthread_mutex_unlock(&memo_lock);
}

struct one {
	int64_t seq;
	json_object *o;
};

static int keep_one(void *arg, const struct change_row *ch)
{
	struct one *x = arg;
	if (ch->seq == x->seq && ch->data)
		x->o = json_tokener_parse(ch->data);
	return -1;
}

/* A string member, or NULL (absent, or of another type: a record written natively). */
static const char *str_of(json_object *o, const char *key)
{
	json_object *v;
	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : NULL;
}

/* The conflict that the change at seq is for op, if it is one. */
static int check_hit(struct req *r, const struct vk_device *d, const struct vk_seqmap *m,
		     const struct vk_op *op, int64_t seq, json_object **found)
{
	struct one x = { seq, NULL };
	struct pull_at at = { .since = seq - 1, .limit = 1, .append_only = true, .peek = true };
	struct verr ve = { 0 };
	int64_t head = 0;
	int e = sync_pull_page(core_of(r), &d->p, &d->sp, &at, keep_one, &x, &head, &ve);
	if (e < 0 && e != -ERR_CURSOR_EXPIRED)
		return e;
	json_object *o = x.o;
	const char *dev = str_of(o, "device_id"), *et = str_of(o, "entity_type");
	const char *ei = str_of(o, "entity_id"), *ot = str_of(o, "op_type"), *oi = str_of(o, "op_id");
	if (o && dev && et && ei && ot && oi && strcmp(dev, d->device_id) &&
	    !strcmp(et, op->entity_type) && !strcmp(ei, op->entity_id) && strcmp(ot, "delete")) {
		if (!*found)
			*found = json_object_new_array();
		json_object *c = json_object_new_object(); /* a map: keys sorted */
		json_object_object_add(c, "device_id", json_object_new_string(dev));
		json_object_object_add(c, "entity_id", json_object_new_string(op->entity_id));
		json_object_object_add(c, "entity_type", json_object_new_string(op->entity_type));
		json_object_object_add(c, "op_id", json_object_new_string(oi));
		json_object_object_add(c, "op_type", json_object_new_string(ot));
		json_object_object_add(c, "server_sequence",
				       json_object_new_int64(vk_seq_shown(m, seq, o)));
		json_object_array_add(*found, c);
		json_object_put(o);
		return 1;
	}
	json_object_put(o);
	return 0;
}

int vk_conflicts(struct req *r, const struct vk_device *d, const struct vk_seqmap *m,
		 const struct vk_op *ops, int n, int64_t window, json_object **found)
{
	int64_t from = 0;
	for (int i = 0; i < n; i++)
		if (ops[i].last_seen && (!from || ops[i].seen < from))
			from = ops[i].seen;
	struct scan s = { .own_device = d->p.device.id, .upto = d->sp.head_seq };
	if (!from || from >= s.upto)
		return 0;
	if (s.upto - from > window)
		from = s.upto - window;
	/* what an earlier push from the same cursor read already */
	int64_t to = 0, memo_from = 0;
	bool known = recall(d->sp.id, d->p.device.id, from, &s, &to, &memo_from);
	int e = scan(r, d, known ? to : from, &s);
	if (e == 0)
		remember(d->sp.id, d->p.device.id, known ? memo_from : from, &s);
	/* at most VK_MAX_CONFLICTS reported, and as many again looked at, per push: an entity
	 * edited a thousand times by others would otherwise make one answer of gigabytes */
	int reported = 0, looked = 0;
	for (int i = 0; e >= 0 && i < n && reported < VK_MAX_CONFLICTS; i++) {
		const struct vk_op *op = &ops[i];
		if (!op->last_seen)
			continue;
		uint64_t h = hash(op->entity_id, strlen(op->entity_id));
		int64_t after = op->seen > s.upto - window ? op->seen : s.upto - window;
		for (int k = 0; e >= 0 && k < s.n && reported < VK_MAX_CONFLICTS &&
				looked < 2 * VK_MAX_CONFLICTS;
		     k++)
			if (s.v[k].h == h && s.v[k].seq > after) {
				looked++;
				e = check_hit(r, d, m, op, s.v[k].seq, &found[i]);
				reported += e > 0;
			}
	}
	free(s.v);
	return e < 0 ? e : 0;
}
