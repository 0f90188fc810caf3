/* Blobs: verified uploads, access by holding or by reference, quotas, collection and the
 * consistency check. The rules that keep the blob store and the metadata store in step
 * are described at the top of blobs.c. */
#ifndef CAIRN_CORE_BLOBS_H
#define CAIRN_CORE_BLOBS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core.h"

struct blob_upload;

/* At most this many blobs named by one change. */
#define BLOBS_PER_CHANGE 256

/* Starts an upload by p of the blob named sha256 (lower-case hex; NULL when the server is
 * to name it), with declared the Content-Length (-1: unknown). -ERR_TOO_LARGE over
 * blobs.max_size, -ERR_QUOTA over the quota left, -ERR_IO. */
int blob_upload_begin(struct core *c, const struct principal *p, const char *sha256,
		      int64_t declared, struct blob_upload **ret);
/* Hashes and writes the next bytes. -ERR_TOO_LARGE / -ERR_QUOTA once the stream passes a
 * limit (the upload is then dead), -ERR_IO. */
int blob_upload_write(struct blob_upload *u, const void *data, size_t len);
/* Verifies the hash, makes the bytes durable, places them under their name and records
 * that p holds them. -ERR_MISMATCH (nothing kept), -ERR_QUOTA, -ERR_IO, -ERR_DB. */
int blob_upload_finish(struct blob_upload *u, char ret_sha256[65], int64_t *ret_size,
		       bool *ret_new);
/* Discards whatever was not finished. Accepts NULL. */
void blob_upload_free(struct blob_upload *u);
/* The upload is a chunk the server cut from a file's bytes (PUT .../content): its holding
 * is bound to files from the start, so a file that is never committed (a conflict, a
 * cut-off body, a refused quota) costs no quota once collection has run after
 * blobs.gc_grace. */
void blob_upload_for_files(struct blob_upload *u);

/* A batch (POST /api/v1/blobs/batch): uploads finished together, with one sync of the
 * blob store and one transaction for up to BLOB_BATCH_MAX blobs instead of three syncs
 * each. blob_batch_add takes a written upload (and frees it on failure): its hash is
 * checked (-ERR_MISMATCH) and it waits in the batch, not yet durable nor readable;
 * blob_batch_commit makes every waiting blob durable, named and held, and says for each,
 * in the order added, 0 or its error (-ERR_QUOTA, ...) and whether it was new. Answer
 * 2xx for a blob only after the commit. */
#define BLOB_BATCH_MAX 256
struct blob_batch;
int blob_batch_new(struct core *c, struct blob_batch **ret);
int blob_batch_add(struct blob_batch *b, struct blob_upload *u, char ret_sha256[65]);
int blob_batch_pending(const struct blob_batch *b);
int blob_batch_commit(struct blob_batch *b, int *status, bool *ret_new);
void blob_batch_free(struct blob_batch *b);

/* A reader of the blob (store/blob.h: read_at, and a descriptor or a URL when the backend
 * has one), when p may read it; -ERR_NOT_FOUND otherwise (the same answer whether or not
 * it exists), -ERR_BUSY when its bytes are missing or damaged. The caller closes it. */
int blob_open(struct core *c, const struct principal *p, const char *sha256,
	      struct blob_reader **ret);/* The blobs p holds, in hash order after `after` ("" to start), at most limit. */
int blob_holdings(struct core *c, const struct principal *p, const char *after, int limit,
		  int (*cb)(void *arg, const char *sha256, int64_t size, int64_t added_ms),
		  void *arg);
/* Ends p's holding of the blob (see store.h, blob_release): -ERR_NOT_FOUND when p holds
 * none; -ERR_BLOB_IN_USE when one of p's kept changes names it (ve->detail says which). */
int blob_release(struct core *c, const struct principal *p, const char *sha256,
		 struct verr *ve);
/* Bytes of blobs p holds, and that p's realm's users hold (what the quotas count). */
int blob_usage(struct core *c, const struct principal *p, int64_t *ret_used,
	       int64_t *ret_realm_used);
/* missing[i]: p cannot read shas[i], or its file is gone or damaged (of another size than
 * recorded). */
int blob_missing(struct core *c, const struct principal *p, const char *const *shas, int n,
		 bool *missing);

/* Collection: see blobs.c. */
struct blob_gc_stats {
	int64_t deleted, bytes;   /* blobs deleted for good, and their bytes */
	int64_t orphans;          /* of them: files the metadata did not know */
	int64_t finished;         /* marked by a collector that stopped, finished now */
	int64_t released;         /* holdings of chunks no kept file version names, ended */
};
int blob_gc(struct core *c, struct blob_gc_stats *ret);

/* The check: every row's file is there with its size and hash; every file has a row. */
struct blob_check_stats {
	int64_t checked, bytes;
	int64_t missing, wrong_size, corrupt, orphans, recent_orphans;
};
/* Writes one line per problem to out; progress (may be NULL) is called now and then
 * with the bytes done and the total. */
int blob_check(struct core *c, FILE *out,
	       void (*progress)(void *arg, uint64_t done, uint64_t total), void *arg,
	       struct blob_check_stats *ret);

#endif
