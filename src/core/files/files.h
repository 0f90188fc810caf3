/* File sync on records and blobs (docs/api.md, Files). A file is a record of collection
 * "files" whose id is the hash of its path (fpath.h) and whose data is its manifest
 * (manifest.h); its chunks are blobs the change names; its versions are the record's
 * kept changes. Pushing "files" changes through the changes API goes through
 * files_prepare; the functions below are the file-shaped operations on top. Errors as in
 * sync.h; a file that is not there (or a deleted one, for reads of the current version)
 * is -ERR_NOT_FOUND. Any thread. */
#ifndef CAIRN_FILES_H
#define CAIRN_FILES_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "../../util/arena.h"
#include "../../util/config.h"
#include "../core.h"
#include "../sync.h"
#include "fpath.h"
#include "manifest.h"

#define FILES_COLLECTION "files"

/* The [files] section. */
struct files_config {
	int64_t chunk_min, chunk_avg, chunk_max; /* bytes */
	int64_t max_chunks;
	int64_t keep_versions;
	int64_t keep_ms;
	char *case_collisions; /* "allow" or "refuse" */
	int64_t max_move;    /* files one move may rename */
	int64_t batch_bytes; /* a /blobs/batch body */
	int64_t batch_blobs; /* blobs in one */
};
CONFIG_SECTION_DECL(files);
/* The manifest limits of a configuration. */
struct manifest_limits files_limits(const struct config *cfg);

/* Makes the "files" changes of a push (as parsed by sync_push_parse) what the store
 * keeps: each put's data is read as a manifest (path from data.path; the change's id must
 * be that path's id), rewritten to its canonical form, and the change names the chunks
 * (the change may not name blobs itself); a patch is refused. -ERR_INVALID with ve naming
 * changes[i], -ERR_TOO_LARGE, -ERR_NOMEM. Other changes are left alone. */
int files_prepare(const struct config *cfg, struct push_change *ch, int n, struct arena *a,
		  int64_t now_ms, struct verr *ve);
/* Inside the push's transaction, for a "files" put about to be applied: 1 (a conflict,
 * *ret_reason "parent_is_file" or "is_directory") when a live file or link is a parent of
 * the path, or live files lie under it and it is not a directory; the case check (refused
 * with -ERR_INVALID under files.case_collisions = refuse; otherwise the other path goes
 * to *ret_other, malloc'd); the chunks' holdings bound to files. 0 to go on. */
int files_apply(struct core *c, void *txn, const struct principal *p, const struct space *sp,
		const struct push_change *x, int idx, char **ret_other, const char **ret_reason,
		struct verr *ve);
/* The sizes of the chunks each manifest names must be the sizes stored (checked with
 * readability in sync_push_check): -ERR_INVALID naming the first that is not. */
int files_check_sizes(const struct push_change *ch, int n, const char *const *blobs,
		      const int64_t *sizes, int nblobs, struct verr *ve);

/* One commit of a file (PUT .../files/{path}, and the operations built on it). */
struct file_commit {
	const char *path;      /* normal form */
	json_object *manifest; /* its fields; NULL for a delete */
	int64_t base_version;  /* -1: none; 0: the file must not exist */
	bool copy_on_conflict; /* on_conflict "copy" */
	const char *op_id;     /* NULL: a new one */
};
struct file_result {
	enum op_status status;  /* OPS_APPLIED, OPS_DUPLICATE, OPS_CONFLICT, OPS_UNCHANGED */
	int64_t version;        /* the new version (applied), or the server's (conflict) */
	char path[FPATH_MAX + 1];  /* where it was stored: the path, or the conflict copy's */
	bool copied;               /* stored as a conflict copy (status applied) */
	int64_t server_version;    /* conflicts: the server's current version (0: none) */
	bool server_deleted;
	char *server;              /* conflicts: the server's current manifest, malloc'd */
	char *case_other;          /* a live file whose path differs only by case, malloc'd */
	const char *reason;        /* conflicts: why (sync.h reasons) */
};
void file_result_clear(struct file_result *r);
int files_commit(struct core *c, const struct principal *p, const struct space *sp,
		 const struct file_commit *fc, struct file_result *ret, struct verr *ve);

/* A file's manifest: the current one (version < 0; -ERR_NOT_FOUND when deleted), or the
 * one of a kept version (a delete's version gives -ERR_NOT_FOUND). *ret_text malloc'd. */
struct file_version {
	int64_t version;
	int64_t server_ms;
	int64_t device_id;
	bool deleted;
	char *text; /* the manifest, malloc'd; NULL for a deletion */
};
int files_get(struct core *c, const struct principal *p, const struct space *sp,
	      const char *path, int64_t version, struct file_version *ret);
void file_version_clear(struct file_version *v);
/* Files whose path starts with prefix after `after`, at most limit, live or deleted. */
int files_list(struct core *c, const struct principal *p, const struct space *sp,
	       const char *prefix, const char *after, int limit, bool deleted,
	       int (*cb)(void *arg, const char *path, const struct record *r), void *arg);
/* A file's kept versions, newest first (deletions too). */
int files_versions(struct core *c, const struct principal *p, const struct space *sp,
		   const char *path, int (*cb)(void *arg, const struct change_row *ch), void *arg);
/* A new version with the content of an old one (also of a deleted file). */
int files_restore(struct core *c, const struct principal *p, const struct space *sp,
		  const char *path, int64_t version, struct file_result *ret, struct verr *ve);
/* Renames the file at from, or every file under the directory from, to to, in one
 * transaction, reusing the chunks. base_version (-1: none) is checked for a single file.
 * *ret_n files moved. -ERR_NOT_FOUND when nothing is at from; -ERR_CONFLICT when
 * something is at to (ve says what); -ERR_TOO_LARGE past files.max_move. */
int files_move(struct core *c, const struct principal *p, const struct space *sp,
	       const char *from, const char *to, int64_t base_version, int64_t *ret_n,
	       int64_t *ret_head, struct verr *ve);

#endif
