/* The filesystem blob backend: blobs live under DIR/ab/cd/<sha256>, uploads are written
 * to DIR/tmp first and renamed into place once verified. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "../util/config.h"
#include "../util/err.h"
#include "blob.h"

struct fs_blobstore {
	struct blobstore base;
	char *dir;
};

static int fs_check(struct blobstore *base, uint64_t *ret_free_bytes, char *detail, size_t len)
{
	struct fs_blobstore *b = (struct fs_blobstore *)base;
	struct statvfs vfs;
	if (access(b->dir, W_OK | X_OK) < 0 || statvfs(b->dir, &vfs) < 0) {
		snprintf(detail, len, "blob directory not writable: %s", strerror(errno));
		return -ERR_IO;
	}
	*ret_free_bytes = (uint64_t)vfs.f_bavail * (uint64_t)vfs.f_frsize;
	return 0;
}

static void fs_close(struct blobstore *base)
{
	struct fs_blobstore *b = (struct fs_blobstore *)base;
	if (!b)
		return;
	free(b->dir);
	free(b);
}

static const struct blobstore_ops fs_ops = {
	.name = "fs",
	.check = fs_check,
	.close = fs_close,
};

static int mkdir_one(const char *path, char *err, size_t errlen)
{
	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		return -ERR_IO;
	}
	return 0;
}

int blobstore_fs_open(const char *dir, struct blobstore **ret, char *err, size_t errlen)
{
	char tmp[4200];
	int r = mkdir_one(dir, err, errlen);
	if (r < 0)
		return r;
	snprintf(tmp, sizeof tmp, "%s/tmp", dir);
	r = mkdir_one(tmp, err, errlen);
	if (r < 0)
		return r;
	if (access(tmp, W_OK | X_OK) < 0) {
		snprintf(err, errlen, "cannot write to %s: %s", tmp, strerror(errno));
		return -ERR_IO;
	}
	struct fs_blobstore *b = calloc(1, sizeof *b);
	if (!b || !(b->dir = strdup(dir))) {
		free(b);
		return -ERR_NOMEM;
	}
	b->base.ops = &fs_ops;
	*ret = &b->base;
	return 0;
}

int blobstore_open(const struct config *c, struct blobstore **ret, char *err, size_t errlen)
{
	if (strcmp(c->storage_blobs, "fs") == 0) {
		char dir[4200];
		snprintf(dir, sizeof dir, "%s/blobs", c->storage_data_dir);
		return blobstore_fs_open(dir, ret, err, errlen);
	}
	snprintf(err, errlen, "unknown blob backend '%s'", c->storage_blobs);
	return -ERR_INVALID;
}
