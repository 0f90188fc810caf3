/* MigChat's messages and conversations, on core's direct messages: a message's id is its
 * server-wide message_id, its content the message's text. */
#include <string.h>

#include "../../../core/errors.h"
#include "../../../core/messages/messages.h"
#include "../../helpers.h"
#include "migchat.h"

static const struct migchat_config *cfg(struct req *r)
{
	return migchat_cfg(((struct app *)r->app)->cfg);
}

int mig_send(struct req *r)
{
	const struct principal *p = auth_or_reply(r);
	if (!p)
		return 0;
	const char *to = mig_field(r, r->json, "to_username");
	if (!to)
		return 0;
	const char *content = mig_field(r, r->json, "content");
	if (!content)
		return 0;
	if (!*content)
		return mig_error(r, 400, "Message content cannot be empty");
	struct message_sent m;
	struct verr ve = { 0 };
	int e = messages_send(core_of(r), p, to, content, NULL, &m, &ve);
	if (e == -ERR_NOT_FOUND)
		return mig_error(r, 404, "Recipient user not found");
	if (e == -ERR_BLOCKED)
		return mig_error(r, 403, "The recipient does not accept messages from you");
	if (e == -ERR_TOO_LARGE)
		return mig_error(r, 413, ve.detail[0] ? ve.detail : "The message is too long");
	if (e == -ERR_INVALID) /* the text's rules */
		return mig_error(r, 400, ve.n ? ve.e[0].msg : "Invalid message content");
	if (e < 0)
		return mig_core_error(r, e, 0);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "message_id", json_object_new_int64(m.message_id));
	json_object_object_add(o, "created_at", mig_time(m.sent_ms));
	return http_reply_json(r, 200, o);
}

/* An answer being built: its array and what its JSON will cost, against a budget. */
struct answer {
	json_object *arr;
	int64_t bytes, budget;
};

/* The bytes s takes in JSON text as json-c writes it (quotes and escapes counted). */
static int64_t json_len(const char *s)
{
	int64_t n = 2;
	for (const unsigned char *q = (const unsigned char *)s; *q; q++)
		n += *q == '"' || *q == '\\' || *q == '/' || *q == '\b' || *q == '\f' ||
				     *q == '\n' || *q == '\r' || *q == '\t'
			     ? 2
		     : *q < 0x20 ? 6
				 : 1;
	return n;
}

/* false once the next item (of about `more` bytes) would pass the budget */
static bool fits(struct answer *a, int64_t more)
{
	if (a->bytes + more > a->budget)
		return false;
	a->bytes += more;
	return true;
}

static int add_message(void *arg, const struct message_view *v)
{
	struct answer *a = arg;
	const char *text = v->text ? v->text : "";
	/* the field names, numbers and time come to under 160 bytes */
	if (!fits(a, 160 + json_len(v->from) + json_len(v->to) + json_len(text)))
		return -1; /* the newest are in; the rest are left out */
	json_object *o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(v->message_id));
	json_object_object_add(o, "from_username", json_object_new_string(v->from));
	json_object_object_add(o, "to_username", json_object_new_string(v->to));
	json_object_object_add(o, "content", json_object_new_string(text));
	json_object_object_add(o, "created_at", mig_time(v->sent_ms));
	return json_object_array_add(a->arr, o) == 0 ? 0 : -1;
}

/* The newest messages (with one user only when with_user is not NULL), newest first. */
static int list(struct req *r, const char *with_user)
{
	const struct principal *p = auth_or_reply(r);
	if (!p)
		return 0;
	struct answer a = { json_object_new_array(), 2, cfg(r)->max_answer_bytes };
	int e = messages_recent(core_of(r), p, with_user, (int)cfg(r)->max_messages, add_message,
				&a);
	if (e < 0) {
		json_object_put(a.arr);
		if (e == -ERR_NOT_FOUND)
			return mig_error(r, 404, "User not found");
		return mig_core_error(r, e, 0);
	}
	return http_reply_json(r, 200, a.arr);
}

int mig_messages(struct req *r)
{
	return list(r, NULL);
}

int mig_messages_filtered(struct req *r)
{
	return list(r, http_query(r, "with_user"));
}

int mig_mark_read(struct req *r)
{
	const struct principal *p = auth_or_reply(r);
	if (!p)
		return 0;
	const char *with = http_query(r, "with_user");
	if (!with)
		return mig_error(r, 400, "with_user parameter is required");
	int64_t marked = 0;
	int e = messages_read_with(core_of(r), p, with, &marked);
	if (e == -ERR_NOT_FOUND)
		return mig_error(r, 404, "User not found");
	if (e < 0)
		return mig_core_error(r, e, 0);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "marked_read", json_object_new_int64(marked));
	return http_reply_json(r, 200, o);
}

static int add_conversation(void *arg, const struct conversation_view *v)
{
	struct answer *a = arg;
	/* MigChat has no conversation without a message, nor with nobody: one whose messages
	 * are all deleted, or whose other user deleted their account, is not listed (the
	 * native API lists both) */
	if (!v->with || !v->c.last_message_id)
		return 0;
	json_object *data = NULL, *t = NULL;
	const char *text = "";
	if (v->last_data && (data = json_tokener_parse(v->last_data)) &&
	    json_object_object_get_ex(data, "text", &t) && json_object_is_type(t, json_type_string))
		text = json_object_get_string(t);
	if (!fits(a, 120 + json_len(v->with) + json_len(text))) {
		json_object_put(data);
		return -1;
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "username", json_object_new_string(v->with));
	json_object_object_add(o, "last_message", json_object_new_string(text));
	json_object_object_add(o, "last_message_time", mig_time(v->c.last_ms));
	json_object_object_add(o, "unread_count", json_object_new_int64(v->c.unread));
	json_object_put(data);
	return json_object_array_add(a->arr, o) == 0 ? 0 : -1;
}

int mig_conversations(struct req *r)
{
	const struct principal *p = auth_or_reply(r);
	if (!p)
		return 0;
	struct answer a = { json_object_new_array(), 2, cfg(r)->max_answer_bytes };
	int e = messages_conversations(core_of(r), p, INT64_MAX, 0, (int)cfg(r)->max_conversations,
				       add_conversation, &a);
	if (e < 0 && e != -ERR_NOMEM) { /* -ERR_NOMEM: the budget stopped it */
		json_object_put(a.arr);
		return mig_core_error(r, e, 0);
	}
	return http_reply_json(r, 200, a.arr);
}
