/* The blob store: content-addressed byte strings, behind an interface so that an
 * S3-compatible backend can sit beside the filesystem one. */
#ifndef CAIRN_BLOB_H
#define CAIRN_BLOB_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct blobstore;

struct blobstore_ops {
	const char *name; /* "fs" */
	/* 0 when blobs can be written; *ret_free_bytes is the space left (or UINT64_MAX
	 * when the backend cannot tell). -ERR_IO with a reason in detail otherwise. */
	int (*check)(struct blobstore *b, uint64_t *ret_free_bytes, char *detail,
		     size_t detail_len);
	void (*close)(struct blobstore *b); /* accepts NULL */
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

int blobstore_fs_open(const char *dir, struct blobstore **ret, char *err, size_t errlen);

#endif
