/* Direct messages: see messages.h. */
#include "messages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../store/store.h"
#include "../../util/clock.h"
#include "../../util/err.h"
#include "../../util/jtext.h"
#include "../hub.h"

/* The message's record data: {message_id, sender_id, sender, text, sent_at}. */
static json_object *message_data(int64_t id, const struct principal *p, const char *text,
				 int64_t now_ms)
{
	json_object *o = json_object_new_object();
	char ts[CLOCK_RFC3339_LEN];
	clock_format_rfc3339(now_ms, ts);
	json_object_object_add(o, "message_id", json_object_new_int64(id));
	json_object_object_add(o, "sender_id", json_object_new_int64(p->user.id));
	json_object_object_add(o, "sender", json_object_new_string(p->user.username));
	json_object_object_add(o, "text", json_object_new_string(text));
	json_object_object_add(o, "sent_at", json_object_new_string(ts));
	return o;
}

int messages_send(struct core *c, const struct principal *p, const char *to, const char *text,
		  json_object *blobs, struct message_sent *ret, struct verr *ve)
{
	memset(ret, 0, sizeof *ret);
	if (!text || !*text) {
		verr_add(ve, "text", "A message has text.");
		return -ERR_INVALID;
	}
	for (const unsigned char *q = (const unsigned char *)text; *q; q++)
		if ((*q < 0x20 && *q != '\t' && *q != '\n' && *q != '\r') || *q == 0x7f) {
			/* none is text, and each would cost six bytes in every answer */
			verr_add(ve, "text", "A message's text holds no control characters but tab "
					     "and line breaks.");
			return -ERR_INVALID;
		}
	if ((int64_t)strlen(text) > messages_cfg(c->cfg)->max_text_bytes) {
		snprintf(ve->detail, sizeof ve->detail,
			 "A message's text is at most %lld bytes (messages.max_text_bytes).",
			 (long long)messages_cfg(c->cfg)->max_text_bytes);
		return -ERR_TOO_LARGE;
	}
	struct user to_user;
	int r = sync_user_by_name(c, p, to, &to_user);
	if (r < 0)
		return r;
	const struct store_ops *ops = c->store->ops;
	/* refused before anything is made; checked again inside the send's transaction */
	void *txn = NULL;
	r = ops->messages->blocked(c->store, to_user.id, p->user.id);
	if (r < 0)
		return r;
	if (r == 1)
		return -ERR_BLOCKED;
	int64_t now = clock_wall_ms();
	struct space sp;
	bool made;
	r = ops->messages->direct_space(c->store, p->user.realm_id, p->user.id, to_user.id, now, &sp,
					&made);
	if (r < 0)
		return r;
	if (made && c->hub) /* both members' event streams learn of the new space */
		for (int k = 0; k < (p->user.id == to_user.id ? 1 : 2); k++)
			hub_membership(c->hub, k ? to_user.id : p->user.id, sp.id, "writer");
	/* one change, read as a push's would be (its attachments checked the same way); its
	 * id and data are given inside the transaction, once the id is known */
	char op_id[48] = "msg-pending", rid[24] = "0";
	json_object *body = json_object_new_object(), *arr = json_object_new_array(),
		    *one = json_object_new_object();
	json_object *placeholder = json_object_new_object();
	json_object_object_add(one, "op_id", json_object_new_string(op_id));
	json_object_object_add(one, "collection", json_object_new_string(MESSAGES_COLLECTION));
	json_object_object_add(one, "id", json_object_new_string(rid));
	json_object_object_add(one, "op", json_object_new_string("put"));
	if (blobs)
		json_object_object_add(one, "blobs", json_object_get(blobs));
	json_object_array_add(arr, one);
	json_object_object_add(body, "changes", arr);
	struct push_result res = { 0 };
	struct arena a = ARENA_INIT;
	struct push_change *ch = NULL;
	int nch = 0;
	int pr = sync_push_parse(c->cfg, body, &a, &ch, &nch, ve);
	struct push_change fallback = { 0 };
	struct push_change *xp = pr == 0 && nch == 1 ? &ch[0] : &fallback;
	struct push_change x = *xp;
	x.op_id = op_id;
	x.id = rid;
	x.data = placeholder;
	struct push_job j = { .p = p, .sp = &sp, .changes = &x, .n = 1, .results = &res,
			      .arena = &a };
	j.rc = pr < 0 ? pr : sync_push_check(c, &j);
	json_object *data = NULL;
	int64_t id = 0;
	if (j.rc == 0)
		j.rc = ops->push->push_begin(c->store, &txn);
	if (j.rc == 0) {
		/* the time is read holding the write lock, so that ids, which the lock orders,
		 * and times agree */
		now = clock_wall_ms();
		int rc = ops->messages->push_blocked(txn, to_user.id, p->user.id);
		if (rc == 1)
			rc = -ERR_BLOCKED;
		if (rc == 0)
			rc = ops->messages->push_message_new(txn, sp.id, p->user.id, now, &id);
		if (rc == 0) {
			snprintf(rid, sizeof rid, "%lld", (long long)id);
			snprintf(op_id, sizeof op_id, "msg-%lld", (long long)id);
			data = message_data(id, p, text, now);
			if (x.blobs_json) /* the attachments, as the change names them */
				json_object_object_add(data, "blobs", jtext_raw(x.blobs_json));
			x.data = data;
			rc = sync_push_apply(c, txn, &j);
		}
		if (rc >= 0 && res.status != OPS_APPLIED)
			rc = -ERR_DB;
		if (rc >= 0)
			rc = ops->messages->push_message_done(txn, id, sp.id, res.seq, p->user.id, now);
		j.rc = ops->push->push_end(c->store, txn, rc);
	}
	sync_push_settle(c, &j); /* the hub wakes the members' long-polls and streams */
	json_object_put(body);
	json_object_put(placeholder);
	json_object_put(data);
	arena_free(&a);
	*ve = j.ve;
	if (j.rc < 0)
		return j.rc;
	*ret = (struct message_sent){ .message_id = id, .space_id = sp.id, .seq = res.seq,
				      .sent_ms = now };
	push_results_free(&res, 1);
	return 0;
}

struct conv_walk {
	struct core *c;
	int (*cb)(void *arg, const struct conversation_view *v);
	void *arg;
	struct conversation *rows;
	int n, cap;
};

static int collect(void *arg, const struct conversation *cv)
{
	struct conv_walk *w = arg;
	if (w->n == w->cap) {
		int cap = w->cap ? w->cap * 2 : 64;
		struct conversation *v = realloc(w->rows, sizeof *v * (size_t)cap);
		if (!v)
			return -1;
		w->rows = v;
		w->cap = cap;
	}
	w->rows[w->n++] = *cv;
	return 0;
}

int messages_conversations(struct core *c, const struct principal *p, int64_t before_ms,
			   int64_t before_space, int limit,
			   int (*cb)(void *arg, const struct conversation_view *v), void *arg)
{
	/* the page first (one read), then each row's name and newest message */
	struct conv_walk w = { .c = c, .cb = cb, .arg = arg };
	int r = c->store->ops->messages->conversations_list(c->store, p->user.id, before_ms,
							     before_space, limit, collect, &w);
	for (int i = 0; r == 0 && i < w.n; i++) {
		struct user other;
		struct record rec = { 0 };
		struct conversation_view v = { .c = w.rows[i] };
		if (c->store->ops->accounts->user_get(c->store, v.c.other_id, &other) == 0)
			v.with = other.username;
		char id[24];
		snprintf(id, sizeof id, "%lld", (long long)v.c.last_message_id);
		if (v.c.last_message_id &&
		    c->store->ops->changes->record_get(c->store, v.c.space_id, MESSAGES_COLLECTION, id,
						       &rec) == 0 &&
		    !rec.deleted)
			v.last_data = rec.data;
		if (cb(arg, &v) < 0)
			r = -ERR_NOMEM;
		record_clear(&rec);
	}
	free(w.rows);
	return r;
}

int messages_block(struct core *c, const struct principal *p, const char *username, bool on)
{
	struct user u;
	int r = sync_user_by_name(c, p, username, &u);
	if (r < 0)
		return r;
	if (u.id == p->user.id)
		return -ERR_INVALID;
	return c->store->ops->messages->block_set(c->store, p->user.id, u.id, on, clock_wall_ms());
}

struct block_walk {
	struct core *c;
	int (*cb)(void *arg, const char *username, int64_t since_ms);
	void *arg;
};

static int name_block(void *arg, int64_t id, int64_t since_ms)
{
	struct block_walk *w = arg;
	struct user u;
	if (w->c->store->ops->accounts->user_get(w->c->store, id, &u) < 0)
		return 0; /* gone meanwhile */
	return w->cb(w->arg, u.username, since_ms);
}

int messages_blocks(struct core *c, const struct principal *p,
		    int (*cb)(void *arg, const char *username, int64_t since_ms), void *arg)
{
	struct block_walk w = { c, cb, arg };
	return c->store->ops->messages->blocks_list(c->store, p->user.id, name_block, &w);
}

int messages_page(struct core *c, const struct principal *p, const struct space *sp,
		  int64_t since, int64_t before, int limit,
		  int (*cb)(void *arg, const struct message_row *m), void *arg)
{
	(void)p;
	if (sp->kind != SPACE_DIRECT)
		return -ERR_NOT_FOUND;
	return c->store->ops->messages->messages_page(c->store, sp->id, since, before, limit, cb,
						      arg);
}

int messages_delete(struct core *c, const struct principal *p, const struct space *sp,
		    int64_t message_id)
{
	if (sp->kind != SPACE_DIRECT)
		return -ERR_NOT_FOUND;
	const struct store_ops *ops = c->store->ops;
	char op_id[48], rid[24];
	snprintf(rid, sizeof rid, "%lld", (long long)message_id);
	snprintf(op_id, sizeof op_id, "msgdel-%lld", (long long)message_id);
	struct push_change x = { .op_id = op_id, .collection = MESSAGES_COLLECTION, .id = rid,
				 .op = OP_DELETE, .base_version = -1 };
	struct push_result res = { 0 };
	struct arena a = ARENA_INIT;
	struct push_job j = { .p = p, .sp = sp, .changes = &x, .n = 1, .results = &res,
			      .arena = &a };
	j.rc = sync_push_check(c, &j);
	void *txn = NULL;
	if (j.rc == 0)
		j.rc = ops->push->push_begin(c->store, &txn);
	if (j.rc == 0) {
		/* the row first: only the sender's own, live message */
		int rc = ops->messages->push_message_delete(txn, message_id, sp->id, p->user.id);
		if (rc == 0)
			rc = sync_push_apply(c, txn, &j);
		if (rc >= 0 && res.status != OPS_APPLIED && res.status != OPS_DUPLICATE)
			rc = -ERR_NOT_FOUND;
		j.rc = ops->push->push_end(c->store, txn, rc);
	}
	sync_push_settle(c, &j);
	push_results_free(&res, 1);
	arena_free(&a);
	return j.rc;
}

int messages_read(struct core *c, const struct principal *p, int64_t space_id, int64_t seq,
		  struct conversation *ret)
{
	return c->store->ops->messages->conversation_read(c->store, p->user.id, space_id, seq, ret);
}

struct recent_walk {
	const struct principal *p;
	int (*cb)(void *arg, const struct message_view *v);
	void *arg;
};

static int view_recent(void *arg, const struct message_listed *m)
{
	struct recent_walk *w = arg;
	const char *me = w->p->user.username, *other = m->other ? m->other : "";
	bool mine = m->m.sender_id == w->p->user.id;
	struct message_view v = { .message_id = m->m.id, .space_id = m->space_id, .seq = m->m.seq,
				  .sent_ms = m->m.created_ms, .from = mine ? me : other,
				  .to = mine ? other : me };
	/* the text from the record's data (stored by messages_send, so well-formed) */
	json_object *data = m->m.data ? json_tokener_parse(m->m.data) : NULL, *t = NULL;
	if (data && json_object_object_get_ex(data, "text", &t) &&
	    json_object_is_type(t, json_type_string))
		v.text = json_object_get_string(t);
	int r = w->cb(w->arg, &v);
	json_object_put(data);
	return r;
}

int messages_recent(struct core *c, const struct principal *p, const char *with_user, int limit,
		    int (*cb)(void *arg, const struct message_view *v), void *arg)
{
	int64_t other = 0;
	if (with_user) {
		struct user u;
		int r = sync_user_by_name(c, p, with_user, &u);
		if (r < 0)
			return r;
		other = u.id;
	}
	struct recent_walk w = { p, cb, arg };
	return c->store->ops->messages->messages_recent(c->store, p->user.id, other, limit,
							view_recent, &w);
}

int messages_read_with(struct core *c, const struct principal *p, const char *with_user,
		       int64_t *ret_marked)
{
	*ret_marked = 0;
	struct user u;
	int r = sync_user_by_name(c, p, with_user, &u);
	if (r < 0)
		return r;
	const struct store_messages_ops *m = c->store->ops->messages;
	int64_t space;
	r = m->direct_pair_find(c->store, p->user.id, u.id, &space);
	/* one transaction: what it counts as marked is what it marked */
	if (r == 0)
		r = m->conversation_read_newest(c->store, p->user.id, space, ret_marked);
	return r == -ERR_NOT_FOUND ? 0 : r; /* not found: nothing between them yet */
}
