/* /api/v1/spaces/{space}/files, versions, restore, trash, moves: files as manifests
 * (docs/api.md, Files). The bytes (content) are in h_content.c. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/files/files.h"
#include "../core/sync.h"
#include "../util/conditional.h"
#include "../util/err.h"
#include "../util/jtext.h"
#include "app.h"
#include "files_http.h"
#include "handlers.h"
#include "helpers.h"

bool file_path_or_reply(struct req *r, const char *param, const char *raw,
			char out[FPATH_MAX + 1])
{
	const char *rule, *why;
	if (!raw)
		raw = http_param(r, param);
	if (raw && fpath_normalize(raw, strlen(raw), out, &rule, &why) == 0)
		return true;
	if (!raw) {
		rule = "empty";
		why = "A path may not be empty.";
	}
	json_object *extra = json_object_new_object();
	json_object_object_add(extra, "rule", json_object_new_string(rule));
	json_object_object_add(extra, "field", json_object_new_string(param));
	http_reply_error_ext(r, AE_BAD_PATH, why, NULL, extra);
	return false;
}

/* A manifest's JSON with the version and time beside its fields. */
json_object *file_json(const char *text, int64_t version, int64_t updated_ms)
{
	json_object *o = NULL;
	if (!text || jtext_parse(text, strlen(text), JTEXT_DEPTH_MAX, &o) < 0 || !o)
		o = json_object_new_object();
	json_object_object_add(o, "version", json_object_new_int64(version));
	json_object_object_add(o, "updated_at", json_time(updated_ms));
	return o;
}

static void set_etag(struct req *r, int64_t version)
{
	char etag[32];
	snprintf(etag, sizeof etag, "\"%lld\"", (long long)version);
	http_add_header(r, "ETag", etag);
}

/* The base version a write names: If-Match "V", else the body's or query's base_version;
 * -1 for none. false after replying 400. */
static bool base_or_reply(struct req *r, json_object *body, int64_t *ret)
{
	*ret = -1;
	const char *im = http_header(r, "If-Match");
	if (im) {
		if (cond_if_match_version(im, ret) < 0) {
			http_reply_error(r, AE_BAD_REQUEST, "If-Match must be one version such as "
							    "\"42\".",
					 NULL);
			return false;
		}
		return true;
	}
	struct verr ve = { 0 };
	json_object *v;
	if (body && json_object_object_get_ex(body, "base_version", &v) && v) {
		if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0) {
			verr_add(&ve, "base_version", "base_version must be a whole number, 0 or more");
			reply_core_error(r, -ERR_INVALID, &ve, 0);
			return false;
		}
		*ret = json_object_get_int64(v);
		return true;
	}
	if (http_query(r, "base_version") &&
	    !http_query_int(r, "base_version", ret, 0, INT64_MAX, &ve)) {
		reply_core_error(r, -ERR_INVALID, &ve, 0);
		return false;
	}
	return true;
}

const struct principal *file_ref_or_reply(struct req *r, struct space *sp,
					  char path[FPATH_MAX + 1])
{
	const struct principal *p = space_or_reply(r, sp);
	return p && file_path_or_reply(r, "path", NULL, path) ? p : NULL;
}

bool version_or_reply(struct req *r, int64_t *ret)
{
	struct verr ve = { 0 };
	*ret = -1;
	if (http_query(r, "version") && !http_query_int(r, "version", ret, 1, INT64_MAX, &ve)) {
		reply_core_error(r, -ERR_INVALID, &ve, 0);
		return false;
	}
	return true;
}

/* 409: the server's side of a conflict. */
static int reply_file_conflict(struct req *r, const struct file_result *fr)
{
	json_object *server = json_object_new_object();
	json_object_object_add(server, "version", json_object_new_int64(fr->server_version));
	json_object_object_add(server, "deleted", json_object_new_boolean(fr->server_deleted));
	json_object_object_add(server, "manifest", fr->server ? jtext_raw(fr->server) : NULL);
	json_object *extra = json_object_new_object();
	json_object_object_add(extra, "reason",
			       json_object_new_string(fr->reason ? fr->reason : "conflict"));
	json_object_object_add(extra, "server", server);
	if (fr->server_version > 0 && !fr->server_deleted)
		set_etag(r, fr->server_version);
	const char *why = "The file changed since the version this write is based on.";
	if (fr->reason && !strcmp(fr->reason, "parent_is_file"))
		why = "A parent of this path is a file or a link: a file cannot go under it.";
	else if (fr->reason && !strcmp(fr->reason, "is_directory"))
		why = "Files lie under this path: it is a directory, so a file or link cannot "
		      "go there.";
	return http_reply_error_ext(r, AE_CONFLICT, why, NULL, extra);
}

/* 200 after a write: where it went and its version. */
static int reply_file_written(struct req *r, const char *asked, const struct file_result *fr)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "path", json_object_new_string(fr->path));
	json_object_object_add(o, "version", json_object_new_int64(fr->version));
	json_object_object_add(o, "duplicate", json_object_new_boolean(fr->status == OPS_DUPLICATE));
	if (fr->copied) {
		json_object *cf = json_object_new_object();
		json_object_object_add(cf, "path", json_object_new_string(asked));
		json_object_object_add(cf, "version", json_object_new_int64(fr->server_version));
		json_object_object_add(cf, "deleted", json_object_new_boolean(fr->server_deleted));
		json_object_object_add(o, "conflict_copy_of", cf);
	}
	if (fr->case_other)
		json_object_object_add(o, "case_collision", json_object_new_string(fr->case_other));
	set_etag(r, fr->version);
	return http_reply_json(r, 200, o);
}

int reply_file_commit(struct req *r, int e, const struct verr *ve, const char *asked,
		      struct file_result *fr)
{
	if (e < 0) {
		file_result_clear(fr);
		return reply_core_error(r, e, ve, 0);
	}
	int rc = fr->status == OPS_UNCHANGED  ? http_reply_error(r, AE_NOT_FOUND,
								"There is no such file.", NULL)
		 : fr->status == OPS_CONFLICT ? reply_file_conflict(r, fr)
					      : reply_file_written(r, asked, fr);
	file_result_clear(fr);
	return rc;
}

int h_file_put(struct req *r)
{
	struct space sp;
	char path[FPATH_MAX + 1];
	const struct principal *p = file_ref_or_reply(r, &sp, path);
	if (!p)
		return 0;
	if (!json_object_is_type(r->json, json_type_object))
		return http_reply_error(r, AE_BAD_REQUEST, "The body must be the manifest: a JSON "
							   "object.",
					NULL);
	struct file_commit fc = { .path = path, .manifest = r->json };
	if (!base_or_reply(r, r->json, &fc.base_version))
		return 0;
	struct verr ve = { 0 };
	json_object *v;
	if (json_object_object_get_ex(r->json, "on_conflict", &v) && v) {
		const char *s = jtext_string(v);
		if (!s || (strcmp(s, "copy") && strcmp(s, "fail"))) {
			verr_add(&ve, "on_conflict", "on_conflict must be copy or fail");
			return reply_core_error(r, -ERR_INVALID, &ve, 0);
		}
		fc.copy_on_conflict = !strcmp(s, "copy");
	}
	if (json_object_object_get_ex(r->json, "op_id", &v) && v) {
		fc.op_id = jtext_string(v);
		if (!valid_op_id(fc.op_id)) {
			verr_add(&ve, "op_id", "op_id must be 1 to %d of A-Z, a-z, 0-9, '_', '.', "
					       "'-', ':', '~'",
				 OP_ID_MAX);
			return reply_core_error(r, -ERR_INVALID, &ve, 0);
		}
	}
	struct file_result fr;
	int e = files_commit(core_of(r), p, &sp, &fc, &fr, &ve);
	return reply_file_commit(r, e, &ve, path, &fr);
}

int h_file_get(struct req *r)
{
	struct space sp;
	char path[FPATH_MAX + 1];
	const struct principal *p = file_ref_or_reply(r, &sp, path);
	if (!p)
		return 0;
	int64_t version;
	if (!version_or_reply(r, &version))
		return 0;
	struct file_version fv;
	int e = files_get(core_of(r), p, &sp, path, version, &fv);
	if (e == -ERR_NOT_FOUND)
		return http_reply_error(r, AE_NOT_FOUND, "There is no such file (or version).", NULL);
	if (e < 0)
		return reply_core_error(r, e, NULL, 0);
	char etag[32];
	snprintf(etag, sizeof etag, "\"%lld\"", (long long)fv.version);
	http_add_header(r, "ETag", etag);
	const char *inm = http_header(r, "If-None-Match");
	if (inm && cond_etag_listed(inm, etag)) {
		file_version_clear(&fv);
		return http_reply_bytes(r, 304, NULL, "", 0);
	}
	json_object *o = file_json(fv.text, fv.version, fv.server_ms);
	file_version_clear(&fv);
	return http_reply_json(r, 200, o);
}

int h_file_delete(struct req *r)
{
	struct space sp;
	char path[FPATH_MAX + 1];
	const struct principal *p = file_ref_or_reply(r, &sp, path);
	if (!p)
		return 0;
	struct file_commit fc = { .path = path };
	if (!base_or_reply(r, json_object_is_type(r->json, json_type_object) ? r->json : NULL,
			   &fc.base_version))
		return 0;
	struct file_result fr;
	struct verr ve = { 0 };
	int e = files_commit(core_of(r), p, &sp, &fc, &fr, &ve);
	return reply_file_commit(r, e, &ve, path, &fr);
}

/* A listing's prefix: "" for all; a directory ("docs/") or the start of a name ("do"),
 * normalised like a path. */
static bool prefix_or_reply(struct req *r, char out[FPATH_MAX + 1])
{
	const char *q = http_query(r, "prefix");
	if (!q || !*q) {
		out[0] = '\0';
		return true;
	}
	size_t n = strlen(q);
	bool slash = q[n - 1] == '/'; /* a directory: normalised without its '/' */
	char tmp[FPATH_FOLD_MAX + 1];
	if (n - slash >= sizeof tmp) /* refused as too long */
		return file_path_or_reply(r, "prefix", q, out);
	memcpy(tmp, q, n - slash);
	tmp[n - slash] = '\0';
	if (!file_path_or_reply(r, "prefix", tmp, out))
		return false;
	size_t ol = strlen(out);
	if (slash && ol < FPATH_MAX) {
		out[ol] = '/';
		out[ol + 1] = '\0';
	}
	return true;
}

struct flist {
	json_object *arr;
	int n, limit;
	bool more, trash;
	char last[FPATH_MAX + 1];
};

static int add_file(void *arg, const char *path, const struct record *rec)
{
	struct flist *l = arg;
	if (l->n == l->limit) {
		l->more = true;
		return -1;
	}
	json_object *o;
	if (l->trash) {
		o = json_object_new_object();
		json_object_object_add(o, "path", json_object_new_string(path));
		json_object_object_add(o, "version", json_object_new_int64(rec->version));
		json_object_object_add(o, "deleted_at", json_time(rec->updated_ms));
	} else {
		o = file_json(rec->data, rec->version, rec->updated_ms);
	}
	json_object_array_add(l->arr, o);
	snprintf(l->last, sizeof l->last, "%s", path);
	l->n++;
	return 0;
}

static int list_files(struct req *r, bool trash)
{
	struct space sp;
	char prefix[FPATH_MAX + 1];
	const struct principal *p = space_or_reply(r, &sp);
	if (!p || !prefix_or_reply(r, prefix))
		return 0;
	int64_t limit = limits_cfg(core_of(r)->cfg)->page;
	struct verr ve = { 0 };
	if (http_query(r, "limit") && !http_query_int(r, "limit", &limit, 1, limit, &ve))
		return reply_core_error(r, -ERR_INVALID, &ve, 0);
	const char *after = http_query(r, "after");
	struct flist l = { .arr = json_object_new_array(), .limit = (int)limit, .trash = trash };
	int e = files_list(core_of(r), p, &sp, prefix, after ? after : "", (int)limit + 1, trash,
			   add_file, &l);
	if (e < 0) {
		json_object_put(l.arr);
		return reply_core_error(r, e, NULL, 0);
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "files", l.arr);
	json_object_object_add(o, "more", json_object_new_boolean(l.more));
	json_object_object_add(o, "next", l.more ? json_object_new_string(l.last) : NULL);
	return http_reply_json(r, 200, o);
}

int h_files_list(struct req *r)
{
	return list_files(r, false);
}

int h_trash_list(struct req *r)
{
	return list_files(r, true);
}

static int add_version(void *arg, const struct change_row *ch)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "version", json_object_new_int64(ch->seq));
	json_object_object_add(o, "deleted", json_object_new_boolean(ch->op == OP_DELETE));
	json_object *m = NULL;
	if (ch->data && jtext_parse(ch->data, strlen(ch->data), JTEXT_DEPTH_MAX, &m) == 0 && m) {
		static const char *const keep[] = { "type", "size", "sha256", "mtime", "mode",
						    "target" };
		for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
			json_object *v;
			if (json_object_object_get_ex(m, keep[i], &v))
				json_object_object_add(o, keep[i], json_object_get(v));
		}
		json_object_put(m);
	}
	json_object_object_add(o, "device_id",
			       ch->device_id ? json_object_new_int64(ch->device_id) : NULL);
	json_object_object_add(o, "time", json_time(ch->server_ms));
	json_object_array_add(arg, o);
	return 0;
}

int h_file_versions(struct req *r)
{
	struct space sp;
	char path[FPATH_MAX + 1];
	const struct principal *p = file_ref_or_reply(r, &sp, path);
	if (!p)
		return 0;
	json_object *arr = json_object_new_array();
	int e = files_versions(core_of(r), p, &sp, path, add_version, arr);
	if (e < 0) {
		json_object_put(arr);
		if (e == -ERR_NOT_FOUND)
			return http_reply_error(r, AE_NOT_FOUND, "There is no such file.", NULL);
		return reply_core_error(r, e, NULL, 0);
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "path", json_object_new_string(path));
	json_object_object_add(o, "versions", arr);
	return http_reply_json(r, 200, o);
}

int h_file_restore(struct req *r)
{
	struct space sp;
	char path[FPATH_MAX + 1];
	const struct principal *p = file_ref_or_reply(r, &sp, path);
	if (!p)
		return 0;
	struct verr ve = { 0 };
	int64_t version = jint(r, "version", -1, &ve);
	if (!ve.n && version < 1)
		verr_add(&ve, "version", "version (of the file, to restore) is required");
	if (ve.n)
		return reply_core_error(r, -ERR_INVALID, &ve, 0);
	struct file_result fr;
	int e = files_restore(core_of(r), p, &sp, path, version, &fr, &ve);
	if (e == -ERR_NOT_FOUND)
		return http_reply_error(r, AE_NOT_FOUND, "The file has no such version kept (a "
							 "deletion is not one to restore).",
					NULL);
	return reply_file_commit(r, e, &ve, path, &fr);
}

int h_file_moves(struct req *r)
{
	struct space sp;
	char from[FPATH_MAX + 1], to[FPATH_MAX + 1];
	const struct principal *p = space_or_reply(r, &sp);
	if (!p || !object_or_reply(r, false))
		return 0;
	struct verr ve = { 0 };
	const char *f = jstr(r, "from", &ve), *t = jstr(r, "to", &ve);
	if (ve.n)
		return reply_core_error(r, -ERR_INVALID, &ve, 0);
	if (!file_path_or_reply(r, "from", f ? f : "", from) ||
	    !file_path_or_reply(r, "to", t ? t : "", to))
		return 0;
	int64_t base = -1;
	if (!base_or_reply(r, r->json, &base))
		return 0;
	int64_t n = 0, head = 0;
	int e = files_move(core_of(r), p, &sp, from, to, base, &n, &head, &ve);
	if (e == -ERR_NOT_FOUND)
		return http_reply_error(r, AE_NOT_FOUND, "There is no file or directory at from.",
					NULL);
	if (e < 0)
		return reply_core_error(r, e, &ve, 0);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "moved", json_object_new_int64(n));
	json_object_object_add(o, "head_seq", json_object_new_int64(head));
	return http_reply_json(r, 200, o);
}
