/* /api/v1/messages and /api/v1/conversations: direct messages (docs/api.md, Messages). */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "../core/messages/messages.h"
#include "../util/err.h"
#include "../util/jtext.h"
#include "app.h"
#include "handlers.h"
#include "helpers.h"

int h_messages_send(struct req *r)
{
	const struct principal *p = auth_or_reply(r);
	if (!p || !object_or_reply(r, false))
		return 0;
	struct verr ve = { 0 };
	const char *to = jstr(r, "to", &ve), *text = jstr(r, "text", &ve);
	if (!ve.n && !to)
		verr_add(&ve, "to", "to (a username) is required");
	if (ve.n)
		return reply_core_error(r, -ERR_INVALID, &ve, 0);
	json_object *blobs = NULL;
	json_object_object_get_ex(r->json, "blobs", &blobs);
	struct message_sent m;
	int e = messages_send(core_of(r), p, to, text, blobs, &m, &ve);
	if (e == -ERR_NOT_FOUND)
		return http_reply_error(r, AE_NOT_FOUND, "There is no such user.", NULL);
	if (e < 0)
		return reply_core_error(r, e, &ve, 0);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "message_id", json_object_new_int64(m.message_id));
	json_object_object_add(o, "space", json_object_new_int64(m.space_id));
	json_object_object_add(o, "seq", json_object_new_int64(m.seq));
	json_object_object_add(o, "sent_at", json_time(m.sent_ms));
	return http_reply_json(r, 201, o);
}

struct clist {
	json_object *arr;
	int n, limit;
	bool more;
	int64_t last_ms, last_space;
};

static int add_conversation(void *arg, const struct conversation_view *v)
{
	struct clist *l = arg;
	if (l->n == l->limit) {
		l->more = true;
		return -1;
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "with", v->with ? json_object_new_string(v->with) : NULL);
	json_object_object_add(o, "space", json_object_new_int64(v->c.space_id));
	json_object_object_add(o, "last_message", v->last_data ? jtext_raw(v->last_data) : NULL);
	json_object_object_add(o, "last_message_at",
			       v->c.last_message_id ? json_time(v->c.last_ms) : NULL);
	json_object_object_add(o, "last_seq", json_object_new_int64(v->c.last_seq));
	json_object_object_add(o, "read_seq", json_object_new_int64(v->c.read_seq));
	json_object_object_add(o, "unread", json_object_new_int64(v->c.unread));
	json_object_array_add(l->arr, o);
	l->n++;
	l->last_ms = v->c.last_ms;
	l->last_space = v->c.space_id;
	return 0;
}

int h_conversations_list(struct req *r)
{
	const struct principal *p = auth_or_reply(r);
	if (!p)
		return 0;
	int64_t limit = 50, before_ms = INT64_MAX, before_space = 0;
	struct verr ve = { 0 };
	if (http_query(r, "limit"))
		http_query_int(r, "limit", &limit, 1, limits_cfg(core_of(r)->cfg)->page, &ve);
	/* the cursor "next" of the page before: "<last_ms>.<space>" */
	const char *after = http_query(r, "after");
	if (after) {
		long long ms = 0, sp = 0;
		char tail;
		if (sscanf(after, "%lld.%lld%c", &ms, &sp, &tail) != 2 || ms < 0 || sp < 1)
			verr_add(&ve, "after", "after is the next of the page before");
		before_ms = ms;
		before_space = sp;
	}
	if (ve.n)
		return reply_core_error(r, -ERR_INVALID, &ve, 0);
	struct clist l = { .arr = json_object_new_array(), .limit = (int)limit };
	int e = messages_conversations(core_of(r), p, before_ms, before_space, (int)limit + 1,
				       add_conversation, &l);
	if (e < 0 && e != -ERR_NOMEM) {
		json_object_put(l.arr);
		return reply_core_error(r, e, NULL, 0);
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "conversations", l.arr);
	json_object_object_add(o, "more", json_object_new_boolean(l.more));
	char next[64];
	snprintf(next, sizeof next, "%lld.%lld", (long long)l.last_ms, (long long)l.last_space);
	json_object_object_add(o, "next", l.more ? json_object_new_string(next) : NULL);
	return http_reply_json(r, 200, o);
}

int h_blocks_add(struct req *r)
{
	const struct principal *p = auth_or_reply(r);
	if (!p || !object_or_reply(r, false))
		return 0;
	struct verr ve = { 0 };
	const char *name = jstr(r, "username", &ve);
	if (!ve.n && !name)
		verr_add(&ve, "username", "username is required");
	if (ve.n)
		return reply_core_error(r, -ERR_INVALID, &ve, 0);
	int e = messages_block(core_of(r), p, name, true);
	if (e == -ERR_NOT_FOUND)
		return http_reply_error(r, AE_NOT_FOUND, "There is no such user.", NULL);
	if (e == -ERR_INVALID) {
		verr_add(&ve, "username", "you cannot block yourself");
		return reply_core_error(r, e, &ve, 0);
	}
	if (e < 0)
		return reply_core_error(r, e, NULL, 0);
	return http_reply_bytes(r, 204, NULL, "", 0);
}

int h_blocks_delete(struct req *r)
{
	const struct principal *p = auth_or_reply(r);
	if (!p)
		return 0;
	int e = messages_block(core_of(r), p, http_param(r, "username"), false);
	if (e == -ERR_NOT_FOUND || e == -ERR_INVALID)
		return http_reply_error(r, AE_NOT_FOUND, "You do not block such a user.", NULL);
	if (e < 0)
		return reply_core_error(r, e, NULL, 0);
	return http_reply_bytes(r, 204, NULL, "", 0);
}

static int add_block(void *arg, const char *username, int64_t since_ms)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "username", json_object_new_string(username));
	json_object_object_add(o, "since", json_time(since_ms));
	json_object_array_add(arg, o);
	return 0;
}

int h_blocks_list(struct req *r)
{
	const struct principal *p = auth_or_reply(r);
	if (!p)
		return 0;
	json_object *arr = json_object_new_array();
	int e = messages_blocks(core_of(r), p, add_block, arr);
	if (e < 0) {
		json_object_put(arr);
		return reply_core_error(r, e, NULL, 0);
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "blocks", arr);
	return http_reply_json(r, 200, o);
}

struct mlist {
	json_object *arr;
	int n, limit;
	bool more;
	int64_t last_seq;
};

static int add_message(void *arg, const struct message_row *m)
{
	struct mlist *l = arg;
	if (l->n == l->limit) {
		l->more = true;
		return -1;
	}
	json_object *o = NULL;
	if (m->data && !m->deleted)
		o = json_tokener_parse(m->data); /* stored JSON: a fresh object to add to */
	if (!o) {
		o = json_object_new_object();
		json_object_object_add(o, "message_id", json_object_new_int64(m->id));
		json_object_object_add(o, "sender_id", json_object_new_int64(m->sender_id));
		json_object_object_add(o, "sent_at", json_time(m->created_ms));
	}
	json_object_object_add(o, "seq", json_object_new_int64(m->seq));
	json_object_object_add(o, "deleted", json_object_new_boolean(m->deleted));
	json_object_array_add(l->arr, o);
	l->n++;
	l->last_seq = m->seq;
	return 0;
}

int h_conversation_messages(struct req *r)
{
	struct space sp;
	const struct principal *p = space_or_reply(r, &sp);
	if (!p)
		return 0;
	int64_t limit = 50, since = -1, before = INT64_MAX;
	struct verr ve = { 0 };
	if (http_query(r, "limit"))
		http_query_int(r, "limit", &limit, 1, limits_cfg(core_of(r)->cfg)->page, &ve);
	if (http_query(r, "since"))
		http_query_int(r, "since", &since, 0, INT64_MAX, &ve);
	if (http_query(r, "before"))
		http_query_int(r, "before", &before, 1, INT64_MAX, &ve);
	if (since >= 0 && http_query(r, "before"))
		verr_add(&ve, "before", "give since or before, not both");
	if (ve.n)
		return reply_core_error(r, -ERR_INVALID, &ve, 0);
	struct mlist l = { .arr = json_object_new_array(), .limit = (int)limit };
	int e = messages_page(core_of(r), p, &sp, since, before, (int)limit + 1, add_message, &l);
	if (e < 0 && l.n == 0) {
		json_object_put(l.arr);
		if (e == -ERR_NOT_FOUND)
			return http_reply_error(r, AE_NOT_FOUND, "There is no such conversation.", NULL);
		return reply_core_error(r, e, NULL, 0);
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "messages", l.arr);
	json_object_object_add(o, "more", json_object_new_boolean(l.more));
	/* the cursor for the next page the same way: since= (forward) or before= (back) */
	json_object_object_add(o, "next", l.more ? json_object_new_int64(l.last_seq) : NULL);
	return http_reply_json(r, 200, o);
}

int h_message_delete(struct req *r)
{
	struct space sp;
	const struct principal *p = space_or_reply(r, &sp);
	if (!p)
		return 0;
	int64_t id = param_id(r, "message_id");
	int e = id > 0 ? messages_delete(core_of(r), p, &sp, id) : -ERR_NOT_FOUND;
	if (e == -ERR_NOT_FOUND)
		return http_reply_error(r, AE_NOT_FOUND, "There is no such message of yours here.",
					NULL);
	if (e < 0)
		return reply_core_error(r, e, NULL, 0);
	return http_reply_bytes(r, 204, NULL, "", 0);
}

int h_conversation_read(struct req *r)
{
	struct space sp;
	const struct principal *p = space_or_reply(r, &sp);
	if (!p || !object_or_reply(r, false))
		return 0;
	struct verr ve = { 0 };
	int64_t seq = jint(r, "seq", -1, &ve);
	if (!ve.n && seq < 0)
		verr_add(&ve, "seq", "seq (the last message read) is required, 0 or more");
	if (ve.n)
		return reply_core_error(r, -ERR_INVALID, &ve, 0);
	struct conversation cv;
	int e = messages_read(core_of(r), p, sp.id, seq, &cv);
	if (e == -ERR_NOT_FOUND)
		return http_reply_error(r, AE_NOT_FOUND, "There is no such conversation.", NULL);
	if (e < 0)
		return reply_core_error(r, e, NULL, 0);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "space", json_object_new_int64(sp.id));
	json_object_object_add(o, "read_seq", json_object_new_int64(cv.read_seq));
	json_object_object_add(o, "unread", json_object_new_int64(cv.unread));
	return http_reply_json(r, 200, o);
}
