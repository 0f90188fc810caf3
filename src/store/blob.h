/* The blob store: content-addressed byte strings, behind an interface so that an
 * S3-compatible backend can sit beside the filesystem one.
 *
 * The store knows bytes and names (64 lower-case hex digits of the SHA-256), nothing of
 * owners or references: those live in the metadata store, and core/blobs.c keeps the two
 * in step (the protocol is described there and in docs/architecture.md). */
#ifndef CAIRN_BLOB_H
#define CAIRN_BLOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

struct config;
struct blobstore;
struct blob_tmp; /* an upload being written */



/* What a listing reports about one stored blob. */
struct blob_stat {
	char sha256[BLOB_HEX_LEN + 1];
	uint64_t size;
	int64_t mtime_ms;
};

struct blobstore_ops {
	const char *name; /* "fs" */
	/* 0 when blobs can be written; *ret_free_bytes is the space left (or UINT64_MAX
	 * when the backend cannot tell). -ERR_IO with a reason in detail otherwise. */
	int (*check)(struct blobstore *b, uint64_t *ret_free_bytes, char *detail,
		     size_t detail_len);
	void (*close)(struct blobstore *b); /* accepts NULL */

	/* Uploads: the bytes go to a temporary place that nobody can read, then are made
	 * durable (tmp_sync) and placed under their name (tmp_place), atomically replacing
	 * any file that holds the name (a damaged one is repaired so). tmp_place may be
	 * called again after a first success: it puts the bytes back if the name vanished
	 * meanwhile (see core/blobs.c). tmp_free discards whatever was not placed. Every
	 * function returns 0 or -ERR_IO (-ERR_NOMEM). */
	int (*tmp_open)(struct blobstore *b, struct blob_tmp **ret);
	int (*tmp_write)(struct blob_tmp *t, const void *data, size_t len);
	/* lazy (a batch): tmp_sync only writes the bytes out and tmp_place skips making the
	 * name durable; sync_all then makes everything written so far durable at once. A
	 * batch syncs before it places, so no name ever holds bytes that are not durable. */
	int (*tmp_sync)(struct blob_tmp *t, bool lazy);
	int (*tmp_place)(struct blob_tmp *t, const char *sha256, bool lazy);
	int (*sync_all)(struct blobstore *b);
	void (*tmp_free)(struct blob_tmp *t); /* accepts NULL */

	/* Reading: a reader of the blob (the caller closes it). -ERR_NOT_FOUND when the blob
	 * is not stored. */
	int (*open)(struct blobstore *b, const char *sha256, struct blob_reader **ret);
	int (*stat)(struct blobstore *b, const char *sha256, struct blob_stat *ret);
	/* Every stored blob, in no particular order. A negative return from cb stops. */
	int (*list)(struct blobstore *b, int (*cb)(void *arg, const struct blob_stat *st),
		    void *arg);
	/* Deletes the blob's bytes: 0, -ERR_NOT_FOUND when none were stored, -ERR_IO.
	 * Collection calls it only for a blob the metadata store has marked (core/blobs.c),
	 * so a backend needs nothing but put (tmp_*), get (open, stat), delete and list. */
	int (*delete)(struct blobstore *b, const char *sha256);
};

struct blobstore {
	const struct blobstore_ops *ops;
};

int blobstore_open(const struct config *c, struct blobstore **ret, char *err, size_t errlen);

static inline struct blobstore *blobstore_close(struct blobstore *b)
{
	if (b)
		b->ops->close(b);
	return NULL;
}

/* sendfile: readers offer their file descriptor (blobs.sendfile). */
int blobstore_fs_open(const char *dir, bool sendfile, struct blobstore **ret, char *err,
		      size_t errlen);


#endif
