/* Tickit's records: read and checked as its desktop parses them (serde into its models),
 * with tickit-sync's defaults; written back as the protocol sends them. */
#include <stdio.h>
#include <string.h>

#include "../../../core/sync.h"
#include "../../../util/jtext.h"
#include "tickit.h"

static const char *const type_names[TK__N] = { "task", "list", "tag", "task_tag", "deleted" };
static const char *const collections[TK__N] = { "tasks", "lists", "tags", NULL, NULL };

const char *tk_type_name(enum tk_type t)
{
	return (unsigned)t < TK__N ? type_names[t] : "?";
}

const char *tk_collection(enum tk_type t)
{
	return (unsigned)t < TK__N ? collections[t] : NULL;
}

int tk_type_of_collection(const char *name)
{
	for (int t = 0; t < TK__N; t++)
		if (collections[t] && name && !strcmp(collections[t], name))
			return t;
	return -1;
}

bool tk_time(const char *s, int64_t *ret_ms)
{
	/* Z and +00:00 by core's parser; any other offset moved onto UTC here */
	if (!s)
		return false;
	size_t n = strlen(s);
	if (n < 20 || n > 40)
		return false;
	if (parse_rfc3339_ms(s, ret_ms))
		return true;
	if (n < 25 || (s[n - 6] != '+' && s[n - 6] != '-') || s[n - 3] != ':')
		return false;
	char utc[48];
	snprintf(utc, sizeof utc, "%.*sZ", (int)(n - 6), s);
	int h = (s[n - 5] - '0') * 10 + (s[n - 4] - '0'), m = (s[n - 2] - '0') * 10 + (s[n - 1] - '0');
	if (s[n - 5] < '0' || s[n - 5] > '9' || s[n - 4] < '0' || s[n - 4] > '9' ||
	    s[n - 2] < '0' || s[n - 2] > '9' || s[n - 1] < '0' || s[n - 1] > '9' || h > 23 || m > 59)
		return false;
	int64_t ms;
	if (!parse_rfc3339_ms(utc, &ms))
		return false;
	int64_t off = (h * 60 + m) * 60000LL;
	*ret_ms = s[n - 6] == '+' ? ms - off : ms + off;
	return true;
}

/* A UUID in its text form, any case (the desktop parses every id as one). */
static bool is_uuid(const char *s)
{
	if (!s || strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		char c = s[i];
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
		if (dash ? c != '-' : !hex)
			return false;
	}
	return true;
}

/* What one record is being read into, and the first fault. */
struct rd {
	json_object *in, *out;
	char *why;
	size_t whylen;
	bool bad;
};

/* what: the sentence after the field's name ("must be a UUID"); NULL: it is missing */
static void fault(struct rd *d, const char *field, const char *what)
{
	if (!d->bad) {
		if (what)
			snprintf(d->why, d->whylen, "`%s` %s", field, what);
		else
			snprintf(d->why, d->whylen, "missing field `%s`", field);
	}
	d->bad = true;
}

static json_object *member(struct rd *d, const char *key)
{
	json_object *v = NULL;
	json_object_object_get_ex(d->in, key, &v);
	return v;
}

/* A string member: required (absent or null is a fault) or optional (null kept). */
static const char *str(struct rd *d, const char *key, bool required)
{
	json_object *v = member(d, key);
	if (!v) {
		if (required)
			fault(d, key, NULL);
		json_object_object_add(d->out, key, NULL);
		return NULL;
	}
	if (!json_object_is_type(v, json_type_string)) {
		fault(d, key, "must be a string");
		return NULL;
	}
	const char *s = jtext_string(v);
	if (!s) {
		fault(d, key, "must not contain NUL characters");
		return NULL;
	}
	json_object_object_add(d->out, key, json_object_new_string(s));
	return s;
}

/* A UUID member, kept in lower case (as the apps write them), so that one UUID in two
 * cases is one record. */
static const char *uuid(struct rd *d, const char *key)
{
	const char *s = str(d, key, true);
	if (s && !is_uuid(s)) {
		fault(d, key, "must be a UUID");
		return s;
	}
	if (s) {
		char low[37];
		for (int i = 0; i < 37; i++)
			low[i] = (s[i] >= 'A' && s[i] <= 'F') ? (char)(s[i] - 'A' + 'a') : s[i];
		json_object_object_add(d->out, key, json_object_new_string(low));
		json_object *v = NULL;
		json_object_object_get_ex(d->out, key, &v);
		s = json_object_get_string(v);
	}
	return s;
}

/* A time member: required, or optional (null kept); *ms set when present. */
static const char *when(struct rd *d, const char *key, bool required, int64_t *ms)
{
	const char *s = str(d, key, required);
	int64_t t = 0;
	if (s && !tk_time(s, &t))
		fault(d, key, "must be an RFC 3339 time");
	if (ms)
		*ms = t;
	return s;
}

static void boolean(struct rd *d, const char *key, int def)
{
	json_object *v = member(d, key);
	if (!v && def >= 0) {
		json_object_object_add(d->out, key, json_object_new_boolean(def));
		return;
	}
	if (!v || !json_object_is_type(v, json_type_boolean)) {
		fault(d, key, v ? "must be true or false" : NULL);
		return;
	}
	json_object_object_add(d->out, key, json_object_new_boolean(json_object_get_boolean(v)));
}

static bool read_task(struct rd *d, struct tk_record *ret)
{
	ret->id = uuid(d, "id");
	str(d, "title", true);
	str(d, "description", false);
	str(d, "url", false);
	const char *pr = str(d, "priority", false);
	if (!pr) /* tickit-sync's default */
		json_object_object_add(d->out, "priority", json_object_new_string("medium"));
	else if (strcmp(pr, "low") && strcmp(pr, "medium") && strcmp(pr, "high") &&
		 strcmp(pr, "urgent"))
		fault(d, "priority", "must be low, medium, high or urgent");
	boolean(d, "completed", -1);
	uuid(d, "list_id");
	json_object *tags = member(d, "tag_ids"), *ids = json_object_new_array();
	if (tags && !json_object_is_type(tags, json_type_array))
		fault(d, "tag_ids", "must be an array of UUIDs");
	for (size_t i = 0; tags && json_object_is_type(tags, json_type_array) &&
			   i < json_object_array_length(tags);
	     i++) {
		json_object *t = json_object_array_get_idx(tags, i);
		const char *s = json_object_is_type(t, json_type_string) ? jtext_string(t) : NULL;
		if (!is_uuid(s)) {
			fault(d, "tag_ids", "must be an array of UUIDs");
			break;
		}
		char low[37];
		for (int k = 0; k < 37; k++)
			low[k] = (s[k] >= 'A' && s[k] <= 'F') ? (char)(s[k] - 'A' + 'a') : s[k];
		json_object_array_add(ids, json_object_new_string(low));
	}
	json_object_object_add(d->out, "tag_ids", ids);
	when(d, "created_at", true, NULL);
	when(d, "updated_at", true, &ret->ts_ms);
	when(d, "completed_at", false, NULL);
	/* the desktop takes RFC 3339, a date (YYYY-MM-DD) or nothing here */
	const char *due = str(d, "due_date", false);
	int64_t ignored;
	char day[32];
	/* a date is checked as the time at its start */
	if (due && strlen(due) == 10)
		snprintf(day, sizeof day, "%sT00:00:00Z", due);
	if (due && *due && !tk_time(due, &ignored) && !(strlen(due) == 10 && tk_time(day, &ignored)))
		fault(d, "due_date", "must be an RFC 3339 time or a date");
	return !d->bad;
}

static bool read_list(struct rd *d, struct tk_record *ret)
{
	ret->id = uuid(d, "id");
	str(d, "name", true);
	str(d, "description", false);
	if (!str(d, "icon", false)) /* tickit-sync's default */
		json_object_object_add(d->out, "icon", json_object_new_string("\xF0\x9F\x93\x81"));
	str(d, "color", false);
	boolean(d, "is_inbox", 0);
	when(d, "created_at", true, NULL);
	when(d, "updated_at", true, &ret->ts_ms);
	json_object *so = member(d, "sort_order");
	int64_t order = 0;
	if (so && (!json_object_is_type(so, json_type_int) ||
		   (order = json_object_get_int64(so)) < INT32_MIN || order > INT32_MAX))
		fault(d, "sort_order", "must be a 32-bit integer");
	json_object_object_add(d->out, "sort_order", json_object_new_int64(order));
	return !d->bad;
}

static bool read_tag(struct rd *d, struct tk_record *ret)
{
	ret->id = uuid(d, "id");
	str(d, "name", true);
	str(d, "color", true);
	int64_t created = 0;
	const char *c = when(d, "created_at", true, &created);
	/* the desktop needs updated_at: a tag without one is as old as its creation */
	if (!when(d, "updated_at", false, &ret->ts_ms) && c) {
		json_object_object_add(d->out, "updated_at", json_object_new_string(c));
		ret->ts_ms = created;
	}
	return !d->bad;
}

static bool read_task_tag(struct rd *d, struct tk_record *ret)
{
	ret->id = uuid(d, "task_id");
	uuid(d, "tag_id");
	when(d, "created_at", true, &ret->ts_ms);
	return !d->bad;
}

static bool read_deleted(struct rd *d, struct tk_record *ret)
{
	ret->id = uuid(d, "id");
	const char *t = str(d, "record_type", true);
	ret->deleted_type = TK__N;
	for (int i = 0; t && i < TK_DELETED; i++)
		if (!strcmp(t, type_names[i]))
			ret->deleted_type = (enum tk_type)i;
	if (t && ret->deleted_type == TK__N)
		fault(d, "record_type", "must be task, list, tag or task_tag");
	when(d, "deleted_at", true, &ret->ts_ms);
	return !d->bad;
}

bool tk_record_read(json_object *in, int type_hint, struct tk_record *ret, char *why,
		    size_t whylen)
{
	memset(ret, 0, sizeof *ret);
	struct rd d = { .in = in, .why = why, .whylen = whylen };
	if (!json_object_is_type(in, json_type_object)) {
		snprintf(why, whylen, "a record must be an object");
		return false;
	}
	int type = type_hint;
	if (type < 0) {
		json_object *t = NULL;
		const char *name = json_object_object_get_ex(in, "type", &t) &&
						   json_object_is_type(t, json_type_string)
					   ? json_object_get_string(t)
					   : NULL;
		if (!name) {
			snprintf(why, whylen, "missing field `type`");
			return false;
		}
		for (int i = 0; i < TK__N; i++)
			if (!strcmp(name, type_names[i]))
				type = i;
		if (type < 0) {
			snprintf(why, whylen,
				 "unknown variant `%.40s`, expected one of `task`, `list`, `tag`, "
				 "`task_tag`, `deleted`",
				 name);
			return false;
		}
	}
	ret->type = (enum tk_type)type;
	d.out = json_object_new_object();
	static bool (*const readers[TK__N])(struct rd *, struct tk_record *) = {
		read_task, read_list, read_tag, read_task_tag, read_deleted
	};
	bool ok = readers[type](&d, ret);
	if (!ok) {
		json_object_put(d.out);
		ret->id = NULL;
		return false;
	}
	ret->norm = d.out;
	/* id borrowed from norm, which owns its copy */
	json_object *idv = NULL;
	json_object_object_get_ex(d.out, type == TK_TASK_TAG ? "task_id" : "id", &idv);
	ret->id = json_object_get_string(idv);
	return true;
}

json_object *tk_record_wire(enum tk_type type, json_object *norm)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "type", json_object_new_string(type_names[type]));
	json_object_object_foreach(norm, k, v)
		json_object_object_add(o, k, json_object_get(v));
	return o;
}
