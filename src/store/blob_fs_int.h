/* Inside the filesystem blob backend (blob_fs.c: the store, paths and uploads;
 * blob_fs_read.c: reading, listing, deleting). */
#ifndef CAIRN_BLOB_FS_INT_H
#define CAIRN_BLOB_FS_INT_H

#include <stdbool.h>

#include "blob.h"

#define PATH_LEN 4400

struct fs_blobstore {
	struct blobstore base;
	char *dir;
	char tmp[PATH_LEN]; /* dir/tmp */
	bool sendfile;      /* readers offer their descriptor */
};

/* DIR/ab/cd/<sha>, into out (PATH_LEN). */
void fs_blob_path(const struct fs_blobstore *b, const char *sha, char *out);
/* fsync of a directory, so a name made or removed in it is durable: 0 or -ERR_IO. */
int fs_fsync_dir(const char *path);
/* The directory part of path, into out (PATH_LEN). */
void fs_parent_of(const char *path, char *out);
/* DIR/ab/cd for sha, made if missing: 0 or -ERR_IO. */
int fs_make_dirs(const struct fs_blobstore *b, const char *sha);

/* blob_fs_read.c: the reading and collection operations of the table. */
int fs_open(struct blobstore *base, const char *sha, struct blob_reader **ret);
int fs_stat(struct blobstore *base, const char *sha, struct blob_stat *ret);
int fs_list(struct blobstore *base, int (*cb)(void *, const struct blob_stat *), void *arg);
int fs_delete(struct blobstore *base, const char *sha);
/* At open: files an older cairn's collection left in DIR/trash go back. */
void fs_return_old_trash(struct fs_blobstore *b);

#endif
