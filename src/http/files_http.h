/* What the files handlers (h_files.c, h_content.c) share. */
#ifndef CAIRN_FILES_HTTP_H
#define CAIRN_FILES_HTTP_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "../core/files/files.h"

struct req;

/* The path in the parameter param (raw NULL) or in raw, normalised into out; false after
 * replying 400 bad_path naming the rule. */
bool file_path_or_reply(struct req *r, const char *param, const char *raw,
			char out[FPATH_MAX + 1]);
/* A manifest's JSON object with "version" and "updated_at" added. */
json_object *file_json(const char *text, int64_t version, int64_t updated_ms);
/* The space (space_or_reply) and the path parameter ({path*}) of a files route: the
 * caller, or NULL after replying. */
const struct principal *file_ref_or_reply(struct req *r, struct space *sp,
					  char path[FPATH_MAX + 1]);
/* ?version=: *ret (-1 when absent); false after replying 400. */
bool version_or_reply(struct req *r, int64_t *ret);
/* The answer to a commit (files_commit's e, ve and fr; asked is the path written to):
 * the error, 409 with the server's side, or 200 with where it went. Clears fr. */
int reply_file_commit(struct req *r, int e, const struct verr *ve, const char *asked,
		      struct file_result *fr);

/* A file's bytes streamed in (cut into chunks by FastCDC, stored and made durable on the
 * way, in constant memory), and its manifest at the end, for files_commit: what
 * PUT .../content does, for other routes to do (an adapter's upload). new: NULL when out
 * of memory. feed and finish: 0 or a negative error (-ERR_TOO_LARGE past files.max_chunks
 * chunks). The request's thread, one writer at a time. */
struct content_put;
struct content_put *content_put_new(struct core *c, const struct principal *p);
int content_put_feed(struct content_put *x, const char *data, size_t len);
/* *ret_manifest (owned): type file, size, mode, the whole file's sha256, mtime (NULL:
 * none), chunks. */
int content_put_finish(struct content_put *x, int64_t mode, const char *mtime,
		       json_object **ret_manifest);
void content_put_free(struct content_put *x); /* accepts NULL */

/* Answers a blob's bytes from rd (taken, closed here) as GET /api/v1/blobs/{sha256} does:
 * ETag, If-None-Match, Range and If-Range, the descriptor sent by the kernel where the
 * backend has one. The caller has checked that the principal may read it. */
struct blob_reader;
int blob_reply(struct req *r, const char *sha, struct blob_reader *rd);

#endif
