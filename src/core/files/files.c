/* Files as changes: what a push of collection "files" becomes before the store sees it,
 * and the checks inside its transaction. See files.h. */
#include "files.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../store/store.h"
#include "../../util/err.h"

static int cmp_chunk(const void *a, const void *b)
{
	return strcmp((*(const struct chunk_ref *const *)a)->sha256,
		      (*(const struct chunk_ref *const *)b)->sha256);
}

/* The manifest's chunks once each, sorted, with their sizes: -ERR_INVALID when one hash
 * comes with two sizes. */
static int chunk_set(const struct manifest *m, struct arena *a, struct push_change *x, int idx,
		     struct verr *ve)
{
	if (m->nchunks == 0)
		return 0;
	const struct chunk_ref **v = arena_alloc(a, sizeof *v * (size_t)m->nchunks);
	x->blobs = arena_alloc(a, sizeof *x->blobs * (size_t)m->nchunks);
	x->chunk_sizes = arena_alloc(a, sizeof *x->chunk_sizes * (size_t)m->nchunks);
	if (!v || !x->blobs || !x->chunk_sizes)
		return -ERR_NOMEM;
	for (int i = 0; i < m->nchunks; i++)
		v[i] = &m->chunks[i];
	qsort(v, (size_t)m->nchunks, sizeof *v, cmp_chunk);
	int u = 0;
	for (int i = 0; i < m->nchunks; i++) {
		if (u && !strcmp(x->blobs[u - 1], v[i]->sha256)) {
			if (x->chunk_sizes[u - 1] != v[i]->size) {
				verr_add(ve, "data", "changes[%d]: chunk %.16s... is named with two "
						     "sizes",
					 idx, v[i]->sha256);
				return -ERR_INVALID;
			}
			continue;
		}
		x->blobs[u] = v[i]->sha256;
		x->chunk_sizes[u++] = v[i]->size;
	}
	x->nblobs = u;
	return 0;
}

static int prepare_put(const struct config *cfg, struct push_change *x, int idx, struct arena *a,
		       int64_t now_ms, struct verr *ve)
{
	struct manifest_limits lim = files_limits(cfg);
	struct manifest m;
	struct verr mv = { 0 };
	int r = manifest_read(x->data, NULL, &lim, now_ms, a, &m, &mv);
	if (r == -ERR_NOMEM)
		return r;
	for (int i = 0; i < mv.n; i++)
		verr_add(ve, "data", "changes[%d]: %s: %s", idx, mv.e[i].field, mv.e[i].msg);
	if (r < 0)
		return r;
	char id[FPATH_ID_LEN + 1];
	fpath_id(m.path, id);
	if (!x->id || strcmp(x->id, id) != 0) {
		verr_add(ve, "id", "changes[%d]: a file's id is the SHA-256 of its path (in NFC) "
				   "in lower-case hex: %s",
			 idx, id);
		return -ERR_INVALID;
	}
	struct buf b;
	buf_init(&b, (size_t)manifest_max_bytes(&lim));
	r = manifest_write(&m, &b);
	if (r == 0) {
		char *t = arena_strndup(a, buf_str(&b), b.len);
		r = t ? 0 : -ERR_NOMEM;
		x->text = t;
	}
	buf_free(&b);
	if (r < 0)
		return r;
	char fold[FPATH_FOLD_MAX + 1];
	if (fpath_fold(m.path, fold) < 0)
		fold[0] = '\0'; /* cannot happen for a path within FPATH_MAX */
	x->path = m.path;
	x->file_dir = m.type == FILE_DIR;
	x->path_fold = arena_strndup(a, fold, strlen(fold));
	if (!x->path_fold)
		return -ERR_NOMEM;
	return chunk_set(&m, a, x, idx, ve);
}

static bool is_file_id(const char *s)
{
	if (!s || strlen(s) != FPATH_ID_LEN)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

int files_prepare(const struct config *cfg, struct push_change *ch, int n, struct arena *a,
		  int64_t now_ms, struct verr *ve)
{
	int worst = 0;
	for (int i = 0; i < n && ve->n < VERR_MAX; i++) {
		struct push_change *x = &ch[i];
		if (!x->collection || strcmp(x->collection, FILES_COLLECTION) != 0)
			continue;
		x->file = true;
		int r = 0;
		if (x->nblobs) {
			verr_add(ve, "blobs", "changes[%d]: a file names its chunks in data.chunks, "
					      "not in blobs",
				 i);
			r = -ERR_INVALID;
		} else if (x->op == OP_PATCH) {
			verr_add(ve, "op", "changes[%d]: a file is put whole or deleted, never "
					   "patched",
				 i);
			r = -ERR_INVALID;
		} else if (x->op == OP_PUT) {
			r = prepare_put(cfg, x, i, a, now_ms, ve);
		} else if (x->op == OP_DELETE && !is_file_id(x->id)) {
			verr_add(ve, "id", "changes[%d]: a file's id is the SHA-256 of its path in "
					   "lower-case hex",
				 i);
			r = -ERR_INVALID;
		}
		if (r == -ERR_NOMEM)
			return r;
		if (r == -ERR_TOO_LARGE || (r < 0 && worst == 0))
			worst = r;
	}
	return worst;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int files_check_sizes(const struct push_change *ch, int n, const char *const *blobs,
		      const int64_t *sizes, int nblobs, struct verr *ve)
{
	for (int i = 0; i < n; i++) {
		const struct push_change *x = &ch[i];
		if (!x->file || !x->chunk_sizes)
			continue;
		for (int k = 0; k < x->nblobs; k++) {
			const char *key = x->blobs[k];
			const char *const *at = bsearch(&key, blobs, (size_t)nblobs, sizeof *blobs,
							cmp_str);
			int64_t have = at ? sizes[at - blobs] : -1;
			if (have >= 0 && have != x->chunk_sizes[k]) {
				verr_add(ve, "data", "changes[%d]: chunk %s is %lld bytes, not %lld", i,
					 key, (long long)have, (long long)x->chunk_sizes[k]);
				return -ERR_INVALID;
			}
		}
	}
	return 0;
}

int files_apply(struct core *c, void *txn, const struct principal *p, const struct space *sp,
		const struct push_change *x, int idx, char **ret_other, const char **ret_reason,
		struct verr *ve)
{
	*ret_other = NULL;
	const struct store_files_ops *fo = c->store->ops->files;
	char other[FPATH_MAX + 1];
	/* a file cannot sit where the tree has a directory, nor under a file */
	int r = fo->push_file_clash(txn, sp->id, x->path, x->file_dir, other, sizeof other);
	if (r < 0)
		return r;
	if (r == 1) {
		*ret_reason = strlen(other) < strlen(x->path) ? "parent_is_file" : "is_directory";
		return 1;
	}
	r = fo->push_file_fold(txn, sp->id, x->path_fold, x->path, other, sizeof other);
	if (r < 0)
		return r;
	if (r == 1) {
		if (!strcmp(files_cfg(c->cfg)->case_collisions, "refuse")) {
			verr_add(ve, "path", "changes[%d]: %s differs from %s only by case, which "
					     "this server refuses (files.case_collisions, rule "
					     "case_collision)",
				 idx, x->path, other);
			return -ERR_INVALID;
		}
		*ret_other = strdup(other);
		if (!*ret_other)
			return -ERR_NOMEM;
	}
	r = x->nblobs ? fo->push_blobs_bind(txn, p->user.id, x->blobs, x->nblobs) : 0;
	if (r < 0) {
		free(*ret_other);
		*ret_other = NULL;
	}
	return r;
}
