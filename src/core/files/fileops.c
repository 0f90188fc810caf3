/* The file-shaped operations: commit, read, list, history, restore, move. Each is a
 * push of "files" changes or a read of them; see files.h. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../store/store.h"
#include "../../util/clock.h"
#include "../../util/err.h"
#include "../../util/jtext.h"
#include "files.h"

void file_result_clear(struct file_result *r)
{
	free(r->server);
	free(r->case_other);
	memset(r, 0, sizeof *r);
}

void file_version_clear(struct file_version *v)
{
	free(v->text);
	memset(v, 0, sizeof *v);
}

/* A fresh op id for a change the server makes on a client's behalf. */
static void new_op_id(char out[40])
{
	unsigned char raw[16];
	randombytes_buf(raw, sizeof raw);
	memcpy(out, "f-", 2);
	sodium_bin2hex(out + 2, 33, raw, sizeof raw);
}

/* The changes in one transaction, all applied or none: a conflict in any undoes the
 * others (-ERR_CONFLICT, with res[] telling which). */
static int push_all(struct core *c, const struct principal *p, const struct space *sp,
		    struct push_change *ch, int n, struct push_result *res, int64_t *ret_head,
		    struct verr *ve)
{
	struct arena a = ARENA_INIT;
	struct push_job j = { .p = p, .sp = sp, .changes = ch, .n = n, .results = res,
			      .arena = &a };
	j.rc = sync_push_check(c, &j);
	void *txn = NULL;
	if (j.rc == 0)
		j.rc = c->store->ops->push->push_begin(c->store, &txn);
	if (j.rc == 0) {
		int rc = sync_push_apply(c, txn, &j);
		for (int i = 0; rc >= 0 && i < n; i++)
			if (res[i].status == OPS_CONFLICT)
				rc = -ERR_CONFLICT;
		j.rc = c->store->ops->push->push_end(c->store, txn, rc);
	}
	if (j.rc == -ERR_CONFLICT) /* rolled back: the results say why, nothing moved */
		j.head = sp->head_seq;
	else
		sync_push_settle(c, &j);
	arena_free(&a);
	*ve = j.ve;
	*ret_head = j.head;
	return j.rc;
}

/* A one-change push's faults as the file endpoints name them: "mtime", not
 * "data" with "changes[0]: mtime: ...". */
static void unprefix(struct verr *ve)
{
	static const char *const names[] = { "type", "size", "mode", "mtime", "sha256",
					     "chunks", "target", "path", "manifest" };
	for (int i = 0; i < ve->n; i++) {
		char *m = ve->e[i].msg;
		const char *p = strncmp(m, "changes[0]: ", 12) ? m : m + 12;
		if (!strcmp(ve->e[i].field, "data"))
			for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
				size_t n = strlen(names[k]);
				if (!strncmp(p, names[k], n) && p[n] == ':' && p[n + 1] == ' ') {
					ve->e[i].field = names[k];
					p += n + 2;
					break;
				}
			}
		memmove(m, p, strlen(p) + 1);
	}
}

static int commit_once(struct core *c, const struct principal *p, const struct space *sp,
		       const char *path, json_object *manifest, int64_t base, const char *op_id,
		       struct push_result *res, struct verr *ve)
{
	char id[FPATH_ID_LEN + 1], op[40];
	fpath_id(path, id);
	if (!op_id) {
		new_op_id(op);
		op_id = op;
	}
	struct push_change x = { .op_id = op_id, .collection = FILES_COLLECTION, .id = id,
				 .op = manifest ? OP_PUT : OP_DELETE, .data = manifest,
				 .base_version = base };
	if (manifest) /* the path is the URL's */
		json_object_object_add(manifest, "path", json_object_new_string(path));
	int64_t head;
	int r = sync_push(c, p, sp, &x, 1, res, &head, ve);
	if (r < 0)
		unprefix(ve);
	return r;
}

static const char *res_reason_or(const struct file_result *r)
{
	return r->reason ? r->reason : "";
}

int files_commit(struct core *c, const struct principal *p, const struct space *sp,
		 const struct file_commit *fc, struct file_result *ret, struct verr *ve)
{
	memset(ret, 0, sizeof *ret);
	snprintf(ret->path, sizeof ret->path, "%s", fc->path);
	struct push_result res = { 0 };
	int r = commit_once(c, p, sp, fc->path, fc->manifest, fc->base_version, fc->op_id, &res,
			    ve);
	if (r < 0)
		return r;
	ret->status = res.status;
	ret->version = res.version;
	ret->case_other = res.case_other;
	res.case_other = NULL;
	if (res.status != OPS_CONFLICT) {
		push_results_free(&res, 1);
		return 0;
	}
	ret->reason = res.reason;
	ret->server_version = res.server_version;
	ret->server_deleted = res.server_deleted;
	ret->server = res.server_data;
	res.server_data = NULL;
	push_results_free(&res, 1);
	/* a copy helps a stale base, not a path the tree has no room for */
	if (!fc->copy_on_conflict || !fc->manifest || !strcmp(res_reason_or(ret), "parent_is_file") ||
	    !strcmp(res_reason_or(ret), "is_directory"))
		return 0;
	/* keep both: the loser goes next to the file under a name of its own */
	int64_t now = clock_wall_ms();
	for (int n = 1; n <= 20; n++) {
		char name[FPATH_MAX + 1];
		if (fpath_conflict_name(fc->path, p->device.name, now, n, name) < 0 &&
		    fpath_conflict_name(fc->path, "", now, n, name) < 0)
			return 0; /* no name fits: the plain conflict stands */
		struct push_result cr = { 0 };
		r = commit_once(c, p, sp, name, fc->manifest, 0, NULL, &cr, ve);
		if (r < 0)
			return r;
		if (cr.status == OPS_APPLIED) {
			ret->copied = true;
			ret->status = OPS_APPLIED;
			ret->version = cr.version;
			snprintf(ret->path, sizeof ret->path, "%s", name);
			free(ret->case_other);
			ret->case_other = cr.case_other;
			cr.case_other = NULL;
			push_results_free(&cr, 1);
			return 0;
		}
		push_results_free(&cr, 1);
	}
	return 0;
}

static int take_version(void *arg, const struct change_row *ch)
{
	struct file_version *v = arg;
	v->version = ch->seq;
	v->server_ms = ch->server_ms;
	v->device_id = ch->device_id;
	v->deleted = ch->op == OP_DELETE;
	if (ch->data && ch->op == OP_PUT && !(v->text = strdup(ch->data)))
		return -1;
	return 0;
}

int files_get(struct core *c, const struct principal *p, const struct space *sp,
	      const char *path, int64_t version, struct file_version *ret)
{
	memset(ret, 0, sizeof *ret);
	char id[FPATH_ID_LEN + 1];
	fpath_id(path, id);
	if (version < 0) {
		struct record rec = { 0 };
		int r = sync_record_get(c, p, sp, FILES_COLLECTION, id, &rec);
		if (r < 0)
			return r;
		ret->version = rec.version;
		ret->server_ms = rec.updated_ms;
		ret->text = rec.data; /* moved */
		return 0;
	}
	int r = c->store->ops->changes->record_change(c->store, sp->id, FILES_COLLECTION, id,
						     version, take_version, ret);
	if (r == 0 && ret->deleted)
		r = -ERR_NOT_FOUND;
	if (r < 0)
		file_version_clear(ret);
	return r;
}

int files_list(struct core *c, const struct principal *p, const struct space *sp,
	       const char *prefix, const char *after, int limit, bool deleted,
	       int (*cb)(void *arg, const char *path, const struct record *r), void *arg)
{
	(void)p;
	return c->store->ops->files->files_list(c->store, sp->id, prefix, after, limit, deleted, cb,
					       arg);
}

int files_versions(struct core *c, const struct principal *p, const struct space *sp,
		   const char *path, int (*cb)(void *arg, const struct change_row *ch), void *arg)
{
	char id[FPATH_ID_LEN + 1];
	fpath_id(path, id);
	return sync_record_history(c, p, sp, FILES_COLLECTION, id, cb, arg);
}

int files_restore(struct core *c, const struct principal *p, const struct space *sp,
		  const char *path, int64_t version, struct file_result *ret, struct verr *ve)
{
	struct file_version v;
	int r = files_get(c, p, sp, path, version, &v);
	if (r < 0)
		return r;
	json_object *m = NULL;
	if (jtext_parse(v.text, strlen(v.text), JTEXT_DEPTH_MAX, &m) < 0 || !m) {
		file_version_clear(&v);
		return -ERR_DB;
	}
	file_version_clear(&v);
	struct file_commit fc = { .path = path, .manifest = m, .base_version = -1 };
	r = files_commit(c, p, sp, &fc, ret, ve);
	json_object_put(m);
	return r;
}

/* --- moves --- */

struct move_src {
	char **paths;
	char **texts;
	int64_t *versions;
	int n, cap;
	int64_t max;
	bool over;
};

static int add_src(void *arg, const char *path, const struct record *rec)
{
	struct move_src *m = arg;
	if (m->n >= m->max) {
		m->over = true;
		return -1;
	}
	if (m->n == m->cap) {
		int cap = m->cap ? m->cap * 2 : 64;
		char **np = realloc(m->paths, sizeof *np * (size_t)cap);
		if (np)
			m->paths = np;
		char **nt = realloc(m->texts, sizeof *nt * (size_t)cap);
		if (nt)
			m->texts = nt;
		int64_t *nv = realloc(m->versions, sizeof *nv * (size_t)cap);
		if (nv)
			m->versions = nv;
		if (!np || !nt || !nv)
			return -1;
		m->cap = cap;
	}
	m->paths[m->n] = strdup(path);
	m->texts[m->n] = rec->data ? strdup(rec->data) : NULL;
	m->versions[m->n] = rec->version;
	if (!m->paths[m->n] || !m->texts[m->n]) {
		free(m->paths[m->n]);
		free(m->texts[m->n]);
		return -1;
	}
	m->n++;
	return 0;
}

static void move_src_free(struct move_src *m)
{
	for (int i = 0; i < m->n; i++) {
		free(m->paths[i]);
		free(m->texts[i]);
	}
	free(m->paths);
	free(m->texts);
	free(m->versions);
}

int files_move(struct core *c, const struct principal *p, const struct space *sp,
	       const char *from, const char *to, int64_t base_version, int64_t *ret_n,
	       int64_t *ret_head, struct verr *ve)
{
	*ret_n = 0;
	size_t fl = strlen(from);
	if (!strcmp(from, to) || fpath_under(to, from)) {
		verr_add(ve, "to", "A file or directory cannot move onto or into itself.");
		return -ERR_INVALID;
	}
	struct move_src src = { .max = files_cfg(c->cfg)->max_move };
	/* the file at from, or else every file under the directory from */
	int r = files_list(c, p, sp, from, "", 1, false, add_src, &src);
	if (r == 0 && src.n == 1 && strcmp(src.paths[0], from) != 0) {
		move_src_free(&src);
		memset(&src, 0, sizeof src);
		src.max = files_cfg(c->cfg)->max_move;
	}
	if (r == 0 && src.n == 0) {
		char dir[FPATH_MAX + 2];
		snprintf(dir, sizeof dir, "%s/", from);
		r = files_list(c, p, sp, dir, "", (int)src.max + 1, false, add_src, &src);
	}
	if (r < 0 || src.n == 0 || src.over) {
		move_src_free(&src);
		if (src.over) {
			verr_add(ve, "from", "A move renames at most %lld files (files.max_move).",
				 (long long)files_cfg(c->cfg)->max_move);
			return -ERR_TOO_LARGE;
		}
		return r < 0 ? r : -ERR_NOT_FOUND;
	}
	bool single = src.n == 1 && !strcmp(src.paths[0], from);
	/* a directory moves only to where nothing is: it is not merged into another (the
	 * puts below refuse a file of the same name; this refuses the rest) */
	struct move_src there = { .max = 1 };
	char dirto[FPATH_MAX + 2];
	snprintf(dirto, sizeof dirto, "%s/", to);
	if (!single && (files_list(c, p, sp, dirto, "", 1, false, add_src, &there) < 0 ||
			there.n > 0)) {
		move_src_free(&there);
		move_src_free(&src);
		snprintf(ve->detail, sizeof ve->detail,
			 "There is already a directory at %s: a directory is not merged into "
			 "another.",
			 to);
		return -ERR_CONFLICT;
	}
	move_src_free(&there);
	int n = src.n * 2;
	struct push_change *ch = calloc((size_t)n, sizeof *ch);
	struct push_result *res = calloc((size_t)n, sizeof *res);
	json_object **ms = calloc((size_t)src.n, sizeof *ms);
	char (*ids)[FPATH_ID_LEN + 1] = calloc((size_t)n, sizeof *ids);
	char (*ops)[40] = calloc((size_t)n, sizeof *ops);
	r = ch && res && ms && ids && ops ? 0 : -ERR_NOMEM;
	for (int i = 0; r == 0 && i < src.n; i++) {
		char np[FPATH_MAX + 1];
		if (single)
			snprintf(np, sizeof np, "%s", to);
		else if (snprintf(np, sizeof np, "%s%s", to, src.paths[i] + fl) >= (int)sizeof np) {
			verr_add(ve, "to", "%s%s would be longer than %d bytes", to,
				 src.paths[i] + fl, FPATH_MAX);
			r = -ERR_INVALID;
			break;
		}
		if (jtext_parse(src.texts[i], strlen(src.texts[i]), JTEXT_DEPTH_MAX, &ms[i]) < 0 ||
		    !ms[i]) {
			r = -ERR_DB;
			break;
		}
		json_object_object_add(ms[i], "path", json_object_new_string(np));
		struct push_change *del = &ch[2 * i], *put = &ch[2 * i + 1];
		fpath_id(src.paths[i], ids[2 * i]);
		fpath_id(np, ids[2 * i + 1]);
		new_op_id(ops[2 * i]);
		new_op_id(ops[2 * i + 1]);
		/* the source must still be the version listed (or the one the caller names) */
		*del = (struct push_change){ .op_id = ops[2 * i], .collection = FILES_COLLECTION,
					     .id = ids[2 * i], .op = OP_DELETE,
					     .base_version = single && base_version >= 0
								     ? base_version
								     : src.versions[i] };
		/* and nothing may be at the target */
		*put = (struct push_change){ .op_id = ops[2 * i + 1], .collection = FILES_COLLECTION,
					     .id = ids[2 * i + 1], .op = OP_PUT, .data = ms[i],
					     .base_version = 0 };
	}
	if (r == 0) {
		r = push_all(c, p, sp, ch, n, res, ret_head, ve);
		if (r == -ERR_CONFLICT) {
			for (int i = 0; i < n && !ve->detail[0]; i++)
				if (res[i].status == OPS_CONFLICT)
					snprintf(ve->detail, sizeof ve->detail,
						 i % 2 ? "There is already a file at %s."
						       : "%s changed since it was read (version %lld "
							 "now).",
						 i % 2 ? json_object_get_string(json_object_object_get(
								 ms[i / 2], "path"))
						       : src.paths[i / 2],
						 (long long)res[i].server_version);
		}
		push_results_free(res, n);
	}
	if (r == 0)
		*ret_n = src.n;
	for (int i = 0; ms && i < src.n; i++)
		json_object_put(ms[i]);
	free(ms);
	free(ch);
	free(res);
	free(ids);
	free(ops);
	move_src_free(&src);
	return r;
}
